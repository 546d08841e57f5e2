import ArgumentParser
import AudioCodec
import Foundation
import RateDistortion

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode an MPEG-1, 2 or 2.5 Layer III file to WAV, FLAC or AIFF (by the output's extension).",
        discussion: """
            Skips ID3v1, ID3v2 and APEv2 tags and junk, resynchronises after damage, decodes what can be decoded and \
            fills damaged frames with silence, counting them; frames lost with the sync become as many \
            frames of silence as the skipped bytes held, so later audio stays in time. A LAME/Info tag's \
            encoder delay and padding are trimmed (gapless); a stream that ends short of the tag's frame \
            count keeps its end untrimmed and says so.
            """
    )

    @Argument(help: "The MP3 to decode.")
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the audio: .wav, .flac or .aiff.", valueName: "out.wav"))
    var output: String

    @Flag(help: "Write 32-bit float samples instead of 16-bit integers (WAV and AIFF).")
    var float = false

    /// The container the output's extension names; nil for any other.
    private var container: AudioFileWriter.Container? {
        switch URL(fileURLWithPath: output).pathExtension.lowercased() {
        case "wav": return .wav
        case "flac": return .flac
        case "aiff", "aif": return .aiff
        default: return nil
        }
    }

    func validate() throws {
        try requireReadable([input])
        try requireDistinctPaths(input: input, output: output)
        guard container != nil else {
            throw ValidationError("the output's extension picks its format: name it .wav, .flac or .aiff, got \(output)")
        }
        if float && container == .flac { throw ValidationError("FLAC holds integer samples only; drop --float or write .wav") }
    }

    func run() throws {
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: input), options: .alwaysMapped)) } catch {
            throw UnreadableInput(path: input, reason: (error as NSError).localizedDescription)
        }
        let decoded = try Layer3Decoder.decode(bytes)
        try AtomicFile.replace(output) { temporary in
            try AudioFileWriter.write(decoded.audio, to: temporary, container: container ?? .wav, format: float ? .float32 : .pcm16)
        }
        let gapless = decoded.gapless.map { tag in
            decoded.missingFrames > 0
                ? "; trimmed encoder delay \(tag.delay); the stream ends \(decoded.missingFrames) frame(s) short of its Info tag's count, so its padding was not trimmed"
                : "; trimmed encoder delay \(tag.delay) and padding \(tag.padding)"
        } ?? ""
        print("""
            \(output): \(decoded.frameCount) frames, \(decoded.audio.frameCount) samples per channel at \
            \(decoded.audio.sampleRate) Hz, \(decoded.audio.channels.count) channel(s); \
            \(decoded.damagedFrames) damaged frame(s)\(gapless)
            """)
    }
}
