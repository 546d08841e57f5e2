import AudioCodec

/// The MP3 side of `lossy decode`: ID3v2 and trailing tags, frame sync and
/// headers, the Xing/Info/LAME tag, side info, the bit reservoir, Huffman
/// data and synthesis, all from bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMP3(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let stream = try? Layer3Decoder.decode(bytes) {
        precondition(stream.audio.channels.allSatisfy { $0.allSatisfy(\.isFinite) },
                     "the decoder produced a non-finite sample")
    }
    return 0
}
