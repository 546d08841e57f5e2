import RealModule

/// The absolute threshold of hearing and the simple tolerance built on it.
enum AbsoluteThreshold {
    /// Terhardt's approximation of the threshold in quiet, in dB SPL, at f Hz
    /// (E. Terhardt, "Calculating virtual pitch", 1979; the curve of ISO
    /// 11172-3's psychoacoustic models).
    static func decibelsSPL(atHz f: Double) -> Double {
        let k = max(f, 20) / 1000
        return 3.64 * Double.pow(k, -0.8) - 6.5 * Double.exp(-0.6 * (k - 3.3) * (k - 3.3)) + 1e-3 * Double.pow(k, 4)
    }

    /// Level in dB SPL at which a full-scale sine is assumed to play.
    static let fullScaleSPL = 96.0

    /// How far below a masker's power its masking threshold sits, in dB.
    static let maskingOffsetDB = 10.0
    /// Slopes of the spreading of masking, in dB per Bark, towards lower and
    /// higher frequencies (the classic two-slope spreading function).
    static let lowerSlopeDB = 25.0, upperSlopeDB = 10.0

    /// Critical-band rate in Bark at f Hz (Zwicker & Terhardt, 1980).
    static func bark(_ f: Double) -> Double {
        13 * Double.atan(0.00076 * f) + 3.5 * Double.atan((f / 7500) * (f / 7500))
    }

}

/// Per scalefactor band, the noise power per MDCT line that goes unnoticed:
/// the larger of the threshold in quiet and the masking spread from every
/// band (its power per line, lowered by `maskingOffsetDB` and by the
/// spreading slopes over the Bark distance). Noise in a band counts as
/// audible in quiet when its total reaches the energy of a tone at the
/// threshold, at the band's most sensitive frequency. A simple model, until
/// the psychoacoustic model with tonality replaces it.
struct ToleranceModel {
    private let edges: [Int]
    /// Threshold in quiet per band, as noise power per line.
    private let quiet: [Double]
    /// Attenuation of masking from band j onto band b, as a power ratio, at [b·count + j].
    private let spreading: [Double]

    /// - Parameter fullScaleSineEnergy: MDCT energy of one granule of a full-scale sine.
    init(edges: [Int], sampleRate: Int, fullScaleSineEnergy: Double) {
        self.edges = edges
        let count = edges.count - 1
        let lineHz = Double(sampleRate) / Double(2 * ISO11172_3.granuleLength)
        quiet = (0..<count).map { b in
            let range = edges[b]..<edges[b + 1]
            let quietest = range.map { AbsoluteThreshold.decibelsSPL(atHz: (Double($0) + 0.5) * lineHz) }.min()!
            return fullScaleSineEnergy * Double.exp10((quietest - AbsoluteThreshold.fullScaleSPL) / 10) / Double(range.count)
        }
        let centre = (0..<count).map { AbsoluteThreshold.bark(Double(edges[$0] + edges[$0 + 1]) / 2 * lineHz) }
        spreading = (0..<(count * count)).map { entry in
            let distance = centre[entry / count] - centre[entry % count]
            let fall = distance >= 0 ? AbsoluteThreshold.upperSlopeDB * distance : -AbsoluteThreshold.lowerSlopeDB * distance
            return Double.exp10(-(AbsoluteThreshold.maskingOffsetDB + fall) / 10)
        }
    }

    /// The tolerance of each band for one granule's 576 MDCT lines.
    func tolerance(lines: UnsafeBufferPointer<Float>) -> [Double] {
        let count = edges.count - 1
        let power = (0..<count).map { b in
            var energy = 0.0
            for i in edges[b]..<edges[b + 1] { energy += Double(lines[i]) * Double(lines[i]) }
            return energy / Double(edges[b + 1] - edges[b])
        }
        return (0..<count).map { b in
            var masked = 0.0
            for j in 0..<count { masked = max(masked, power[j] * spreading[b * count + j]) }
            return max(quiet[b], masked)
        }
    }
}
