import AudioCodec
import FuzzInput

/// WAV, FLAC, AIFF and whatever else libsndfile recognises, through our
/// adapter: every thrown error is an answer; a trap, a sanitizer report or
/// an allocation over libFuzzer's limit is a defect.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAudioFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzInput.withFile(data, size, named: "audio") { path in
        guard let audio = try? AudioFileReader.read(path: path) else { return }
        _ = AudioSummary(audio)
    }
    return 0
}
