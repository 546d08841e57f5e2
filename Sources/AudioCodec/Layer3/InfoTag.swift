/// The Xing/Info frame and its LAME extension ("Mp3 Info Tag rev 1", Gabriel
/// Bouvigne's specification of LAME's tag): a frame at the head of the stream
/// that carries no audio but the frame count, the byte count and a seek table,
/// so players know the duration of a variable-bitrate stream without reading
/// it all, and the encoder delay and padding, so they can trim the stream back
/// to the input's exact length (gapless playback).
///
/// The extension's first field names the encoder. We write our own name, not
/// LAME's: mpg123 reads delay and padding whatever the name, ffmpeg only after
/// "LAME", "Lavf" or "Lavc" (it then plays the 1105 samples of delay and the
/// padding), and our decoder does as mpg123 does.
struct InfoTag: Equatable {
    enum RateMethod: Int {
        case unknown = 0, constant = 1, average = 2, variable = 3
    }

    /// The extension's encoder field: 9 bytes of ASCII.
    static let encoderName = Array("LossyLab1".utf8)

    /// "Xing" for variable bitrate, "Info" for constant.
    var variable: Bool
    /// Audio frames, not counting the tag's own.
    var frameCount: Int
    /// Bytes of the tag frame and every audio frame (tags such as ID3 apart).
    var byteCount: Int
    /// Seek table: entry i is the byte position (in 256ths of `byteCount`) of i % of the duration.
    var seekTable: [UInt8]
    /// 0 (worst) … 100 (best).
    var quality: Int
    var encoder: [UInt8]
    var method: RateMethod
    var lowpassHz: Int
    /// The target of ABR, the bitrate of CBR, the least allowed of VBR (kbit/s).
    var bitrate: Int
    /// Samples the encoder put before the input, not counting the 529 of the decoder's
    /// own filterbank (the extension's convention).
    var delay: Int
    /// Samples after the input in the last frame, the decoder's 529 included.
    var padding: Int
    /// Source sample rate class (0: ≤ 32 kHz, 1: 44.1, 2: 48, 3: above) and stereo mode
    /// (0 mono, 1 stereo, 3 joint), as the extension's misc byte packs them.
    var sourceRateClass: Int
    var stereoMode: Int

    /// Bytes from the tag's magic to the end of the LAME extension.
    static let length = 120 + 36

    /// The whole tag frame for `header` (its bitrate must leave room), with the
    /// checksums over itself and over `audio`, the frames that follow it.
    func frame(header: FrameHeader, audio: [UInt8]) -> [UInt8] {
        precondition(!header.hasCRC, "readers expect the tag right after the side information")
        var head = BitWriter(reservingBytes: 4)
        header.write(to: &head)
        var out = head.bytes + [UInt8](repeating: 0, count: header.sideInfoBytes)
        precondition(out.count + Self.length <= header.frameBytes, "the tag frame's bitrate leaves no room for the tag")
        func word(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        out += Array((variable ? "Xing" : "Info").utf8)
        out += word(0xF)  // frames, bytes, seek table and quality present
        out += word(frameCount) + word(byteCount) + seekTable + word(quality)
        out += encoder
        out.append(UInt8(method.rawValue))  // revision 0
        out.append(UInt8(min(255, lowpassHz / 100)))
        out += [UInt8](repeating: 0, count: 4 + 2 + 2 + 1)  // peak, two replay gains, flags: unset
        out.append(UInt8(min(255, bitrate)))
        out += [UInt8(delay >> 4), UInt8((delay & 0xF) << 4 | padding >> 8), UInt8(padding & 0xFF)]
        out.append(UInt8(sourceRateClass << 6 | stereoMode << 2))
        out += [0, 0, 0]  // MP3 gain, preset and surround: unset
        let musicCRC = crc16ARC(audio)
        out += word(byteCount) + [UInt8(musicCRC >> 8), UInt8(musicCRC & 0xFF)]
        let tagCRC = crc16ARC(out)
        out += [UInt8(tagCRC >> 8), UInt8(tagCRC & 0xFF)]
        return out + [UInt8](repeating: 0, count: header.frameBytes - out.count)
    }

    /// What a reader needs of a tag: gapless trimming and the frame count.
    struct Reading {
        var frameCount: Int?
        var gapless: (delay: Int, padding: Int)?
    }

    /// Reads the tag in a frame whose tag starts at `tagStart` (after header,
    /// CRC and side information); `nil` when the frame is audio. Delay and
    /// padding are read when the extension names an encoder at all.
    static func read(_ frame: [UInt8], tagStart: Int) -> Reading? {
        guard frame.count >= tagStart + 8 else { return nil }
        let magic = frame[tagStart..<(tagStart + 4)]
        guard magic.elementsEqual("Xing".utf8) || magic.elementsEqual("Info".utf8) else { return nil }
        func word(_ at: Int) -> Int { frame[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        let flags = word(tagStart + 4)
        var offset = tagStart + 8
        var reading = Reading()
        if flags & 1 != 0 {
            guard frame.count >= offset + 4 else { return reading }
            reading.frameCount = word(offset)
            offset += 4
        }
        for (flag, size) in [(2, 4), (4, 100), (8, 4)] where flags & flag != 0 { offset += size }
        guard frame.count >= offset + 24, frame[offset] != 0 else { return reading }
        let d = offset + 21
        let delay = Int(frame[d]) << 4 | Int(frame[d + 1]) >> 4
        let padding = (Int(frame[d + 1]) & 0x0F) << 8 | Int(frame[d + 2])
        reading.gapless = (delay, padding)
        return reading
    }

    /// The seek table of frames with these sizes (the tag frame first).
    static func seekTable(frameSizes: [Int]) -> [UInt8] {
        let total = frameSizes.reduce(0, +)
        var starts = [Int]()
        starts.reserveCapacity(frameSizes.count)
        var position = 0
        for size in frameSizes { starts.append(position); position += size }
        let audioFrames = frameSizes.count - 1
        return (0..<100).map { percent in
            let frame = 1 + min(audioFrames - 1, percent * audioFrames / 100)
            return UInt8(min(255, 256 * starts[frame] / max(1, total)))
        }
    }
}

/// CRC-16 as LAME's tag uses it (CRC-16/ARC): polynomial x¹⁶ + x¹⁵ + x² + 1
/// bit-reversed (0xA001), register preset to zero, least significant bit first.
func crc16ARC(_ bytes: [UInt8]) -> UInt16 {
    var crc: UInt16 = 0
    for byte in bytes {
        crc ^= UInt16(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
    }
    return crc
}
