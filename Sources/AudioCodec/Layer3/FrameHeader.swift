/// The 32-bit header of an MPEG-1 Layer III frame (clause 2.4.1.3).
struct FrameHeader: Hashable {
    enum Mode: Int {
        case stereo = 0, jointStereo = 1, dualChannel = 2, singleChannel = 3
        var channelCount: Int { self == .singleChannel ? 1 : 2 }
    }

    var bitrateIndex: Int
    var sampleRateIndex: Int
    var padding: Bool
    var mode: Mode
    var modeExtension = 0
    var hasCRC: Bool
    var copyright = false
    var original = true

    /// Bytes in the frame: ⌊144·bitrate/fs⌋ (+1 when padded).
    var frameBytes: Int {
        144_000 * ISO11172_3.bitrates[bitrateIndex] / ISO11172_3.sampleRates[sampleRateIndex] + (padding ? 1 : 0)
    }

    /// Bytes of side information: 17 for one channel, 32 for two.
    var sideInfoBytes: Int { mode.channelCount == 1 ? 17 : 32 }

    /// Bytes left for main data after header, CRC and side information.
    var mainDataSlotBytes: Int { frameBytes - 4 - (hasCRC ? 2 : 0) - sideInfoBytes }

    func write(to writer: inout BitWriter) {
        writer.write(0xFFF, bits: 12)          // syncword
        writer.write(1, bits: 1)               // ID: MPEG-1
        writer.write(1, bits: 2)               // layer '01': Layer III
        writer.write(!hasCRC)                  // protection_bit: 0 means a CRC follows
        writer.write(bitrateIndex, bits: 4)
        writer.write(sampleRateIndex, bits: 2)
        writer.write(padding)
        writer.write(0, bits: 1)               // private_bit
        writer.write(mode.rawValue, bits: 2)
        writer.write(modeExtension, bits: 2)
        writer.write(copyright)
        writer.write(original)
        writer.write(0, bits: 2)               // emphasis: none
    }
}

/// CRC-16 of MPEG audio (clause 2.4.3.1): generator x¹⁶ + x¹⁵ + x² + 1,
/// register preset to all ones, over header bits 16…31 and the side information.
func mpegCRC16(_ bytes: some Sequence<UInt8>) -> UInt16 {
    var crc: UInt16 = 0xFFFF
    for byte in bytes {
        for bit in (0..<8).reversed() {
            let feedback = ((crc >> 15) ^ UInt16((byte >> UInt8(bit)) & 1)) & 1
            crc <<= 1
            if feedback == 1 { crc ^= 0x8005 }
        }
    }
    return crc
}
