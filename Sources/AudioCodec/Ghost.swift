import RateDistortion

/// What a lossy round trip discarded: the input minus the decoded output,
/// sample for sample, as audio to listen to.
public struct Ghost: Sendable {
    public var audio: PCMAudio
    /// Energy of the input over the energy of the ghost, in dB.
    public var decibelsBelowInput: Double

    /// The ghost of `decoded` against `input`; the decoded output must already be
    /// aligned (gapless trimming). A mono coding of stereo input is compared with
    /// the input's mix, as the encoder saw it.
    public init(input: PCMAudio, decoded: PCMAudio) {
        let reference = input.channels(as: decoded.channels.count)
        var signal = 0.0, lost = 0.0
        let channels = zip(reference, decoded.channels).map { original, coded in
            original.indices.map { n in
                let residual = original[n] - (n < coded.count ? coded[n] : 0)
                signal += Double(original[n]) * Double(original[n])
                lost += Double(residual) * Double(residual)
                return residual
            }
        }
        audio = PCMAudio(sampleRate: input.sampleRate, channels: channels)
        decibelsBelowInput = decibels(signal / lost)
    }
}
