/// The lowpass of each bitrate: what the encoder discards outright because
/// the bits are better spent below it. Cutoffs in Hz by bitrate per channel
/// (kbit/s), near LAME's defaults below 64; from 64 up higher than LAME's
/// (17 kHz at 128 kbit/s stereo), because ViSQOL says so: at 128 kbit/s the
/// dense mix scores 4.04 with a 17 kHz cutoff and 4.34 with 19 kHz, and no
/// clip loses (the masking model still zeroes what the bits cannot carry).
/// Never above 95 % of the Nyquist frequency.
enum Lowpass {
    static let cutoffs: [(kbpsPerChannel: Int, hz: Double)] = [
        (16, 5_500), (20, 7_000), (24, 8_000), (28, 9_500), (32, 11_000), (40, 12_500), (48, 14_000),
        (56, 15_000), (64, 19_000), (80, 19_500), (96, 20_000), (128, 20_000), (160, 20_500),
    ]

    /// Where LAME 3.100's lowpass for -V 0 … 6 has closed: the top of the
    /// transition band `lame --verbose` prints (-V 2: 18 671–19 205 Hz; -V 0
    /// has no lowpass). Its tag records a lower figure (18 500 at -V 2), but
    /// its polyphase filter still passes part of what lies between, and a
    /// hard cut at the tag's figure lost the castanets' top octave (ViSQOL's
    /// 18 kHz band): 4.719 against 4.723 at -V 2. For 7 … 9 LAME resamples,
    /// and we take the cutoff of the level's average bitrate instead.
    static let variableCutoffs: [Double?] = [22_050, 19_916, 19_205, 18_494, 17_782, 17_071, 17_071, nil, nil, nil]

    /// The cutoff of variable-bitrate quality `quality` (0…9) at `sampleRate` Hz.
    static func cutoff(quality: Int, nominalKbps: Int, channels: Int, sampleRate: Int) -> Double {
        guard let hz = variableCutoffs[quality] else { return cutoff(bitrate: nominalKbps, channels: channels, sampleRate: sampleRate) }
        return min(hz, 0.95 * Double(sampleRate) / 2)
    }

    /// The cutoff for `bitrate` kbit/s shared by `channels` channels at `sampleRate` Hz.
    static func cutoff(bitrate: Int, channels: Int, sampleRate: Int) -> Double {
        let perChannel = bitrate / channels
        let hz = cutoffs.last { $0.kbpsPerChannel <= perChannel }?.hz ?? cutoffs[0].hz
        return min(hz, 0.95 * Double(sampleRate) / 2)
    }

    /// The first MDCT line at or above `hz`.
    static func firstLine(above hz: Double, sampleRate: Int) -> Int {
        min(ISO11172_3.granuleLength, Int((hz / (Double(sampleRate) / 2) * Double(ISO11172_3.granuleLength)).rounded(.up)))
    }
}
