/// A parsed MPEG audio Layer III frame header, any version (clause 2.4.2.3
/// of ISO/IEC 11172-3; ISO/IEC 13818-3 for MPEG-2 LSF; MPEG-2.5).
struct ParsedHeader: Hashable {
    enum Version: Hashable { case mpeg1, mpeg2, mpeg25 }

    var version: Version
    var hasCRC: Bool
    var bitrateKbps: Int
    var sampleRate: Int
    var padding: Bool
    var mode: FrameHeader.Mode
    var modeExtension: Int

    var channelCount: Int { mode.channelCount }
    var granules: Int { version == .mpeg1 ? 2 : 1 }
    /// Samples per channel in the frame.
    var samples: Int { 576 * granules }
    var frameBytes: Int {
        (version == .mpeg1 ? 144_000 : 72_000) * bitrateKbps / sampleRate + (padding ? 1 : 0)
    }
    var sideInfoBytes: Int {
        version == .mpeg1 ? (channelCount == 1 ? 17 : 32) : (channelCount == 1 ? 9 : 17)
    }
    var msStereo: Bool { mode == .jointStereo && modeExtension & 2 != 0 }
    var intensityStereo: Bool { mode == .jointStereo && modeExtension & 1 != 0 }

    /// Layer III bitrates of MPEG-2 and 2.5 (ISO/IEC 13818-3, clause 2.4.2.3).
    static let lsfBitrates = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]

    /// Parses four bytes; `nil` unless they are a valid Layer III header
    /// (free format, reserved rates and the forbidden bitrate are refused).
    init?(_ b: ArraySlice<UInt8>) {
        guard b.count >= 4 else { return nil }
        let b0 = b[b.startIndex], b1 = b[b.startIndex + 1], b2 = b[b.startIndex + 2], b3 = b[b.startIndex + 3]
        guard b0 == 0xFF, b1 & 0xE0 == 0xE0 else { return nil }
        switch (b1 >> 3) & 3 {
        case 3: version = .mpeg1
        case 2: version = .mpeg2
        case 0: version = .mpeg25
        default: return nil
        }
        guard (b1 >> 1) & 3 == 1 else { return nil }  // Layer III
        hasCRC = b1 & 1 == 0
        let bitrateIndex = Int(b2 >> 4), rateIndex = Int((b2 >> 2) & 3)
        guard (1...14).contains(bitrateIndex), rateIndex < 3 else { return nil }
        bitrateKbps = version == .mpeg1 ? ISO11172_3.bitrates[bitrateIndex] : Self.lsfBitrates[bitrateIndex]
        let base = ISO11172_3.sampleRates[rateIndex]
        sampleRate = version == .mpeg1 ? base : (version == .mpeg2 ? base / 2 : base / 4)
        padding = (b2 >> 1) & 1 == 1
        mode = FrameHeader.Mode(rawValue: Int(b3 >> 6))!
        modeExtension = Int((b3 >> 4) & 3)
    }

    /// Index of this header's sampling frequency among all nine (for band tables).
    var rateTableIndex: Int {
        let base = [44100, 48000, 32000, 22050, 24000, 16000, 11025, 12000, 8000]
        return base.firstIndex(of: sampleRate)!
    }
}
