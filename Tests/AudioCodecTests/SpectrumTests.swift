import AudioCodec
import Foundation
import Testing

struct SpectrumTests {
    @Test func fftwMatchesADirectDFT() {
        let size = 64
        let analyzer = SpectrumAnalyzer(size: size)
        let frame = (0..<size).map { n in Float(sin(Double(n) * 0.7) + 0.3 * cos(Double(n * n) * 0.01)) }
        var power = [Float]()
        analyzer.powerSpectrum(of: frame[...], into: &power)
        #expect(power.count == size / 2 + 1)
        for k in 0...(size / 2) {
            var re = 0.0, im = 0.0
            for n in 0..<size {
                let w = 0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(size))
                re += w * Double(frame[n]) * cos(2 * Double.pi * Double(k * n) / Double(size))
                im -= w * Double(frame[n]) * sin(2 * Double.pi * Double(k * n) / Double(size))
            }
            let direct = re * re + im * im
            #expect(abs(Double(power[k]) - direct) <= 1e-4 * max(1, direct), "bin \(k)")
        }
    }

    /// A frame reaching past either end of the samples is the zero-padded frame.
    @Test func framesPastTheEndsAreZeroPadded() {
        let size = 64
        let analyzer = SpectrumAnalyzer(size: size)
        let samples = (0..<100).map { n in Float(sin(Double(n) * 0.3) + 0.01 * Double(n)) }
        for start in [-70, -20, 0, 50, 90, 120] {
            let padded = (start..<(start + size)).map { samples.indices.contains($0) ? samples[$0] : 0 }
            var direct = [Float](), offset = [Float]()
            analyzer.powerSpectrum(of: padded[...], into: &direct)
            samples.withUnsafeBufferPointer { analyzer.powerSpectrum(of: $0, from: start, into: &offset) }
            #expect(offset == direct, "frame from \(start)")
        }
    }

    @Test func summaryOfASineAtMinus20DBFS() {
        let rate = 44100
        let samples = (0..<rate).map { Float(0.1 * sin(2 * Double.pi * 1000 * Double($0) / Double(rate))) }
        let summary = AudioSummary(PCMAudio(sampleRate: rate, channels: [samples]))
        #expect(abs(summary.channels[0].peakDBFS - -20) < 0.01)
        // A sine's RMS is its peak over √2: −3.01 dB.
        #expect(abs(summary.channels[0].rmsDBFS - -23.0103) < 0.01)
        #expect(abs(summary.bandwidth99Hz - 1000) <= 2 * Double(rate) / 2048)
    }
}
