import ArgumentParser
import AudioCodec
import Foundation
import RateDistortion

extension EncoderSettings.ChannelMode: ExpressibleByArgument {}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode WAV, FLAC or AIFF to a standard MPEG-1 Layer III (MP3) file, constant bitrate.",
        discussion: """
            Input at 32000, 44100 or 48000 Hz, mono or stereo. The decoded output lags the input by \
            \(Layer3Encoder.delay) samples (the filterbank's delay); the last frame is filled with silence.
            """
    )

    @Argument(help: "The audio to encode.")
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the MP3.", valueName: "out.mp3"))
    var output: String

    @Option(help: "Bitrate in kbit/s: 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256 or 320.")
    var bitrate = 128

    @Option(help: "Channel mode: joint (mid/side where it saves bits), stereo or mono (default: joint for stereo input, mono for mono).")
    var mode: EncoderSettings.ChannelMode?

    @Flag(name: .customLong("no-short-blocks"), help: "Code every granule as a long block (no window switching at attacks).")
    var noShortBlocks = false

    @Flag(help: "Protect every frame with a CRC-16.")
    var crc = false

    @Option(help: ArgumentHelp("Lowpass cutoff in Hz (default: chosen by bitrate).", valueName: "hz"))
    var lowpass: Double?

    @Option(help: "Title, written to an ID3v2.4 tag (as are --artist, --album, --year and --comment).")
    var title: String?

    @Option(help: "Artist (ID3v2.4 TPE1).")
    var artist: String?

    @Option(help: "Album (ID3v2.4 TALB).")
    var album: String?

    @Option(help: "Year of the recording, 0–9999 (ID3v2.4 TDRC).")
    var year: Int?

    @Option(help: "Comment (ID3v2.4 COMM, language eng).")
    var comment: String?

    /// Each text field may take up to 1 MB: a tag is metadata, not a payload.
    static let tagFieldLimit = 1 << 20

    func validate() throws {
        if let lowpass, !lowpass.isFinite || lowpass <= 0 {
            throw ValidationError("--lowpass must be a positive frequency in Hz, got \(formatNumber(lowpass))")
        }
        if let year, !(0...9999).contains(year) {
            throw ValidationError("--year must be 0–9999, got \(year)")
        }
        for (flag, value) in [("--title", title), ("--artist", artist), ("--album", album), ("--comment", comment)] {
            if let value, value.utf8.count > Self.tagFieldLimit {
                throw ValidationError("\(flag) is \(value.utf8.count) bytes; a tag field may take at most \(Self.tagFieldLimit)")
            }
        }
        try requireDistinctPaths(input: input, output: output)
    }

    func run() throws {
        let audio = try AudioFileReader.read(path: input)
        let settings = EncoderSettings(bitrate: bitrate, mode: mode, crc: crc, lowpassHz: lowpass, shortBlocks: !noShortBlocks)
        let encoded = try Layer3Encoder.encode(audio, settings: settings)
        let tag = ID3v2Tag(title: title, artist: artist, album: album, year: year, comment: comment)
        try AtomicFile.write(Data((tag.isEmpty ? [] : tag.bytes) + encoded.bytes), to: output)
        let seconds = Double(encoded.inputLength) / Double(encoded.sampleRate)
        print("""
            \(output): \(encoded.frameCount) frames, \(encoded.bytes.count) bytes, \
            \(formatFixed(Double(encoded.bytes.count) * 8 / seconds / 1000, decimals: 1)) kbit/s over \
            \(formatFixed(seconds, decimals: 3)) s of input; lowpass \(formatFixed(encoded.lowpassHz, decimals: 0)) Hz; \
            decoder delay \(encoded.delay) samples
            blocks: \(encoded.blockTypeCounts[0]) long, \(encoded.blockTypeCounts[1]) start, \(encoded.blockTypeCounts[2]) short, \
            \(encoded.blockTypeCounts[3]) stop granules; \(encoded.midSideFrames) of \(encoded.frameCount) frames mid/side
            """)
    }
}

/// Refuses to write over the input.
func requireDistinctPaths(input: String, output: String) throws {
    let a = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath().path
    let b = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath().path
    if a == b { throw ValidationError("the output \(output) is the input; choose another path") }
}
