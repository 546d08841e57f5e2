import RealModule

/// The absolute threshold of hearing, and the critical-band scale.
enum AbsoluteThreshold {
    /// Terhardt's approximation of the threshold in quiet, in dB SPL, at f Hz
    /// (E. Terhardt, "Calculating virtual pitch", 1979; the curve of ISO
    /// 11172-3's psychoacoustic models).
    static func decibelsSPL(atHz f: Double) -> Double {
        let k = min(max(f, 20), ceilingHz) / 1000
        return 3.64 * Double.pow(k, -0.8) - 6.5 * Double.exp(-0.6 * (k - 3.3) * (k - 3.3)) + 1e-3 * Double.pow(k, 4)
    }

    /// Above this the threshold is held at its value here. Terhardt's curve
    /// climbs 40 dB between 15 and 18 kHz, the loss of an average adult
    /// ear; younger ears hear that octave, and a coder that trusts the curve
    /// there discards it whole.
    static let ceilingHz = 15_000.0

    /// Level in dB SPL at which a full-scale sine is assumed to play. ISO's
    /// models take 96 dB (16-bit full scale above one LSB); listeners turn
    /// quiet recordings and quiet passages up, and what the 96 dB threshold
    /// calls inaudible then is heard. Measured with ViSQOL against LAME at
    /// 128 kbit/s (notebooks-md/mp3-quality-vs-lame.md): median 4.681 at 96 dB,
    /// 4.698 at 110, 4.707 at 120, 4.678 at 130.
    static let fullScaleSPL = 120.0

    /// The power of a tone at the threshold in quiet at the most sensitive of
    /// `frequencies` (Hz), in the scale where a full-scale sine has `fullScalePower`.
    static func quietestPower(over frequencies: some Sequence<Double>, fullScalePower: Double) -> Double {
        let quietest = frequencies.map { decibelsSPL(atHz: $0) }.min()!
        return fullScalePower * Double.exp10((quietest - fullScaleSPL) / 10)
    }

    /// Critical-band rate in Bark at f Hz (Zwicker & Terhardt, 1980).
    static func bark(_ f: Double) -> Double {
        13 * Double.atan(0.00076 * f) + 3.5 * Double.atan((f / 7500) * (f / 7500))
    }

}

/// The threshold in quiet per scalefactor band, as noise power per MDCT
/// line: noise in a band counts as audible in quiet when its total reaches
/// the energy of a tone at the threshold at the band's most sensitive
/// frequency, with a full-scale sine at `fullScaleSPL`.
struct ThresholdInQuiet {
    /// Per long band (22).
    let long: [Double]
    /// Per short band (13), in the short transform's scale.
    let short: [Double]

    /// - Parameters:
    ///   - longSineEnergy: MDCT energy of one granule of a full-scale sine (long blocks).
    ///   - shortSineEnergy: the same for one window of a short block.
    init(longEdges: [Int], shortEdges: [Int], sampleRate: Int, longSineEnergy: Double, shortSineEnergy: Double) {
        func perLine(_ edges: [Int], lines: Int, sineEnergy: Double) -> [Double] {
            let lineHz = Double(sampleRate) / Double(2 * lines)
            return (0..<(edges.count - 1)).map { b in
                let range = edges[b]..<edges[b + 1]
                let tone = AbsoluteThreshold.quietestPower(over: range.lazy.map { (Double($0) + 0.5) * lineHz },
                                                           fullScalePower: sineEnergy)
                return tone / Double(range.count)
            }
        }
        long = perLine(longEdges, lines: 576, sineEnergy: longSineEnergy)
        short = perLine(shortEdges, lines: 192, sineEnergy: shortSineEnergy)
    }
}
