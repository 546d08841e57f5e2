import AudioCodec
import Foundation

/// The generated signals of the encoder's test matrix.
enum TestSignal: String, CaseIterable, Sendable {
    case sine, sweep, whiteNoise, pinkNoise, silence, square, impulses

    /// `seconds` of the signal at `rate`, in `channels` channels (the second
    /// channel differs from the first, so stereo is not a copy).
    func audio(rate: Int, channels: Int, seconds: Double = 0.3) -> PCMAudio {
        let count = Int(seconds * Double(rate))
        let planar = (0..<channels).map { channel in samples(count: count, rate: rate, channel: channel) }
        return PCMAudio(sampleRate: rate, channels: planar)
    }

    /// The signal with 10 ms raised-cosine fades at both ends (impulses and
    /// silence as they are): a cut at full level is a transient for the short
    /// blocks of the psychoacoustic issue, not for long blocks.
    func samples(count: Int, rate: Int, channel: Int) -> [Float] {
        var signal = raw(count: count, rate: rate, channel: channel)
        guard self != .impulses && self != .silence else { return signal }
        let fade = min(count / 2, rate / 100)
        for n in 0..<fade {
            let gain = Float(0.5 - 0.5 * cos(Double.pi * Double(n) / Double(fade)))
            signal[n] *= gain
            signal[count - 1 - n] *= gain
        }
        return signal
    }

    private func raw(count: Int, rate: Int, channel: Int) -> [Float] {
        let r = Double(rate)
        var seed = UInt64(0x9E37_79B9 &+ channel)
        func uniform() -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Double(seed >> 11) / Double(1 << 53) * 2 - 1
        }
        switch self {
        case .sine:
            // 1 kHz at −20 dBFS (a fifth higher on the second channel).
            let f = channel == 0 ? 1000.0 : 1500.0
            return (0..<count).map { Float(0.1 * sin(2 * Double.pi * f * Double($0) / r)) }
        case .sweep:
            let f0 = 40.0, f1 = min(18000.0, r / 2.2), duration = Double(count) / r
            let k = log(f1 / f0) / duration
            return (0..<count).map { n in
                let t = Double(n) / r
                return Float(0.5 * sin(2 * Double.pi * f0 * (exp(k * t) - 1) / k + Double(channel)))
            }
        case .whiteNoise:
            return (0..<count).map { _ in Float(0.3 * uniform()) }
        case .pinkNoise:
            // Paul Kellet's economy filter on white noise: −3 dB per octave.
            var b0 = 0.0, b1 = 0.0, b2 = 0.0
            return (0..<count).map { _ in
                let white = uniform()
                b0 = 0.99765 * b0 + white * 0.0990460
                b1 = 0.96300 * b1 + white * 0.2965164
                b2 = 0.57000 * b2 + white * 1.0526913
                return Float(0.1 * (b0 + b1 + b2 + white * 0.1848))
            }
        case .silence:
            return [Float](repeating: 0, count: count)
        case .square:
            // Full scale, 441 Hz (a little off on the second channel).
            let period = r / (channel == 0 ? 441 : 460)
            return (0..<count).map { n in (Double(n).truncatingRemainder(dividingBy: period) < period / 2) ? 1 : -1 }
        case .impulses:
            // A full-scale click every 10 ms.
            let spacing = rate / 100
            return (0..<count).map { n in (n + 17 * channel) % spacing == 0 ? 0.9 : 0 }
        }
    }
}

/// Signal-to-noise ratio of `decoded` against `reference`, with `decoded`
/// delayed by `delay` samples, over the reference's length.
func snrDB(reference: [Float], decoded: [Float], delay: Int) -> Double {
    var signal = 0.0, noise = 0.0
    for n in reference.indices {
        let y = n + delay < decoded.count ? Double(decoded[n + delay]) : 0
        signal += Double(reference[n]) * Double(reference[n])
        noise += (Double(reference[n]) - y) * (Double(reference[n]) - y)
    }
    return 10 * log10(signal / max(noise, 1e-30))
}

func floats(_ data: Data) -> [Float] {
    data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

func writeTemporary(_ bytes: [UInt8], name: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-mp3-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}
