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

    /// Per band of `edges`, the noise power per MDCT line that goes unnoticed:
    /// the larger of the threshold in quiet and the masking spread from every
    /// band (its power per line, lowered by `maskingOffsetDB` and by the
    /// spreading slopes over the Bark distance). Noise in a band is taken as
    /// audible in quiet when its total reaches the energy of a tone at the
    /// threshold, at the band's most sensitive frequency. A simple model, until
    /// the psychoacoustic model with tonality replaces it.
    ///
    /// - Parameters:
    ///   - lines: the granule's 576 MDCT lines.
    ///   - fullScaleSineEnergy: MDCT energy of one granule of a full-scale sine.
    static func tolerance(lines: UnsafeBufferPointer<Float>, edges: [Int], sampleRate: Int,
                          fullScaleSineEnergy: Double) -> [Double] {
        let bands = 0..<(edges.count - 1)
        let lineHz = Double(sampleRate) / Double(2 * ISO11172_3.granuleLength)
        var power = [Double](), centre = [Double](), quiet = [Double]()
        for b in bands {
            let range = edges[b]..<edges[b + 1]
            var quietest = Double.infinity
            var energy = 0.0
            for i in range {
                quietest = min(quietest, decibelsSPL(atHz: (Double(i) + 0.5) * lineHz))
                energy += Double(lines[i]) * Double(lines[i])
            }
            power.append(energy / Double(range.count))
            centre.append(bark(Double(range.lowerBound + range.upperBound) / 2 * lineHz))
            quiet.append(fullScaleSineEnergy * Double.exp10((quietest - fullScaleSPL) / 10) / Double(range.count))
        }
        return bands.map { b in
            var masked = 0.0
            for j in bands where power[j] > 0 {
                let distance = centre[b] - centre[j]
                let fall = distance >= 0 ? upperSlopeDB * distance : -lowerSlopeDB * distance
                masked = max(masked, power[j] * Double.exp10(-(maskingOffsetDB + fall) / 10))
            }
            return max(quiet[b], masked)
        }
    }
}
