import RealModule

/// The facts about a piece of audio that decide how to code it.
public struct AudioSummary: Sendable, Hashable {
    public struct Channel: Sendable, Hashable {
        /// Largest |sample|, in dB relative to full scale.
        public var peakDBFS: Double
        /// Root mean square, in dB relative to full scale (a full-scale sine is −3.01).
        public var rmsDBFS: Double
    }

    public var channels: [Channel]
    /// The frequency below which 99 % of the signal's energy lies, in Hz: how
    /// much of the spectrum a lowpass may cut before it cuts into the signal.
    public var bandwidth99Hz: Double

    /// Measures `audio`; the spectrum is averaged over Hann frames of 2048
    /// samples with half overlap, all channels together.
    public init(_ audio: PCMAudio) {
        channels = audio.channels.map { samples in
            var peak: Float = 0
            var sumOfSquares = 0.0
            for x in samples {
                peak = max(peak, abs(x))
                sumOfSquares += Double(x) * Double(x)
            }
            return Channel(peakDBFS: 20 * Double.log10(Double(peak)),
                           rmsDBFS: 10 * Double.log10(sumOfSquares / Double(samples.count)))
        }
        let analyzer = SpectrumAnalyzer(size: 2048)
        var total = [Double](repeating: 0, count: analyzer.size / 2 + 1)
        var power = [Float]()
        for samples in audio.channels {
            var start = 0
            repeat {
                analyzer.powerSpectrum(of: samples[start..<min(samples.count, start + analyzer.size)], into: &power)
                for k in total.indices { total[k] += Double(power[k]) }
                start += analyzer.size / 2
            } while start + analyzer.size / 2 < samples.count
        }
        let energy = total.reduce(0, +)
        var running = 0.0
        let binWidth = Double(audio.sampleRate) / Double(analyzer.size)
        var edge = total.count - 1
        for k in total.indices {
            running += total[k]
            if running >= 0.99 * energy { edge = k; break }
        }
        bandwidth99Hz = energy > 0 ? Double(edge) * binWidth : 0
    }
}
