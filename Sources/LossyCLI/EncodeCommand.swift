import ArgumentParser
import AudioCodec
import Foundation
import RateDistortion

extension EncoderSettings.ChannelMode: ExpressibleByArgument {}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode WAV, FLAC or AIFF to a standard MPEG-1 Layer III (MP3) file: constant, variable or average bitrate.",
        discussion: """
            Input at 32000, 44100 or 48000 Hz, mono or stereo. The stream starts with a Xing/Info frame \
            (frame count, byte count, seek table, encoder delay and padding): mpg123 and `lossy decode` \
            trim the output to the input's exact length; a decoder that ignores the tag's delay (ffmpeg \
            does, for encoders other than LAME) lags the input by \(Layer3Encoder.delay) samples.
            """
    )

    @Argument(help: "The audio to encode.")
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the MP3.", valueName: "out.mp3"))
    var output: String

    @Option(help: "Constant bitrate in kbit/s: 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256 or 320 (default 128).")
    var bitrate: Int?

    @Option(help: ArgumentHelp("Variable bitrate at quality 0 (best, about 245 kbit/s) … 9 (smallest, about 65 kbit/s), like LAME's -V.",
                               valueName: "quality"))
    var vbr: Int?

    @Option(help: ArgumentHelp("Average bitrate in kbit/s (32…320): variable frames steered to this average.", valueName: "kbps"))
    var abr: Int?

    @Option(help: "Channel mode: joint (mid/side where it saves bits), stereo or mono (default: joint for stereo input, mono for mono).")
    var mode: EncoderSettings.ChannelMode?

    @Flag(name: .customLong("no-short-blocks"), help: "Code every granule as a long block (no window switching at attacks).")
    var noShortBlocks = false

    @Flag(help: "Protect every frame with a CRC-16.")
    var crc = false

    @Option(help: ArgumentHelp("Lowpass cutoff in Hz (default: chosen by bitrate).", valueName: "hz"))
    var lowpass: Double?

    @Option(help: ArgumentHelp("Write the NMR of every band of every frame, the band table and the worst frames as JSON.",
                               valueName: "report.json"))
    var report: String?

    @Option(help: ArgumentHelp("Write what was discarded, the input minus the decoded output (time-aligned), as audio.",
                               valueName: "residual.wav"))
    var ghost: String?

    @Option(name: .customLong("ghost-plot"), help: ArgumentHelp(
        "Draw what was discarded as a spectrogram (SVG): the ghost's energy per scalefactor band and frame, in dB below the input's loudest band.",
        valueName: "ghost.svg"))
    var ghostPlot: String?

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
        if [bitrate != nil, vbr != nil, abr != nil].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --bitrate, --vbr and --abr")
        }
        if let bitrate, !EncoderSettings.bitrates.contains(bitrate) {
            throw ValidationError(EncoderError.unsupportedBitrate(bitrate).description)
        }
        if let vbr, !(0...9).contains(vbr) { throw ValidationError("--vbr must be 0…9, got \(vbr)") }
        if let abr, !(32...320).contains(abr) { throw ValidationError("--abr must be 32…320 kbit/s, got \(abr)") }
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
        if let ghost, URL(fileURLWithPath: ghost).pathExtension.lowercased() != "wav" {
            throw ValidationError("--ghost writes a float WAV file; name it .wav, got \(ghost)")
        }
        for path in [report, ghost, ghostPlot].compactMap({ $0 }) {
            try requireDistinctPaths(input: input, output: path)
            try requireDistinctPaths(input: output, output: path)
        }
    }

    func run() throws {
        let audio = try AudioFileReader.read(path: input)
        let rate: RateControl = vbr.map { .variable(quality: $0) } ?? abr.map { .average($0) } ?? .constant(bitrate ?? 128)
        var settings = EncoderSettings(rate: rate, mode: mode, crc: crc, lowpassHz: lowpass, shortBlocks: !noShortBlocks)
        settings.analysis = true
        settings.analysisPerBand = report != nil
        let encoded = try Layer3Encoder.encode(audio, settings: settings)
        let tag = ID3v2Tag(title: title, artist: artist, album: album, year: year, comment: comment)
        try AtomicFile.write(Data((tag.isEmpty ? [] : tag.bytes) + encoded.bytes), to: output)
        if let report, let analysis = encoded.analysis {
            try AtomicFile.write(Data(analysis.json(sampleRate: encoded.sampleRate).serialized().utf8), to: report)
        }
        if let ghostPlot, let analysis = encoded.analysis {
            let name = URL(fileURLWithPath: input).lastPathComponent
            let picture = GhostSpectrogram(analysis: analysis, sampleRate: encoded.sampleRate)
                .plot(title: "What the encoder discarded from \(name) (\(encoded.lowpassHz > 0 ? "lowpass \(formatFixed(encoded.lowpassHz / 1000, decimals: 1)) kHz" : "no lowpass"))")
            try AtomicFile.write(Data(picture.svg().utf8), to: ghostPlot)
        }
        let seconds = Double(encoded.inputLength) / Double(encoded.sampleRate)
        print("""
            \(output): \(encoded.frameCount) frames, \(encoded.bytes.count) bytes, \
            \(formatFixed(Double(encoded.bytes.count) * 8 / seconds / 1000, decimals: 1)) kbit/s over \
            \(formatFixed(seconds, decimals: 3)) s of input; lowpass \(formatFixed(encoded.lowpassHz, decimals: 0)) Hz; \
            encoder delay and padding in the Info frame; untrimmed, the output lags by \(encoded.delay) samples
            bitrates: \(encoded.bitrateCounts.sorted { $0.key < $1.key }.map { "\($0.value)×\($0.key)" }.joined(separator: ", ")) kbit/s frames
            blocks: \(encoded.blockTypeCounts[0]) long, \(encoded.blockTypeCounts[1]) start, \(encoded.blockTypeCounts[2]) short, \
            \(encoded.blockTypeCounts[3]) stop granules; \(encoded.midSideFrames) of \(encoded.frameCount) frames mid/side
            """)
        if let analysis = encoded.analysis { printAnalysis(analysis, sampleRate: encoded.sampleRate) }
        if let ghost {
            let residual = Ghost(input: audio, decoded: try Layer3Decoder.decode(encoded.bytes).audio)
            try AtomicFile.replace(ghost) { temporary in
                try AudioFileWriter.write(residual.audio, to: temporary, container: .wav, format: .float32)
            }
            print("\(ghost): what was discarded, \(formatFixed(residual.decibelsBelowInput, decimals: 1)) dB below the input")
        }
    }

    /// The NMR summary, its tails, the worst frames and the band table.
    private func printAnalysis(_ analysis: EncodingAnalysis, sampleRate: Int) {
        let frameSeconds = Double(1152) / Double(sampleRate)
        let worst = analysis.worstFrames.prefix(5).map { index in
            let frame = analysis.frames[index]
            return "\(index) (\(formatFixed(Double(index) * frameSeconds, decimals: 2)) s, \(frame.kbps) kbit/s, " +
                "\(formatFixed(frame.meanNMRDB, decimals: 1)) dB)"
        }
        print("""
            NMR (noise to masking threshold) over \(analysis.nmr.partitions) bands: mean \(formatFixed(analysis.nmr.meanDB, decimals: 1)) dB, \
            99th percentile \(formatFixed(analysis.nmr.tailDB(), decimals: 1)) dB, worst \(formatFixed(analysis.nmr.maxDB, decimals: 1)) dB
            zeroed: \(analysis.zeroedMasked) bands masked, \(analysis.zeroedLowpass) above the lowpass, of \(analysis.bandsWithEnergy) with energy
            worst 1 % of frames by mean NMR (\(analysis.worstFrames.count)): \(worst.joined(separator: ", "))\(analysis.worstFrames.count > 5 ? ", …" : "")
            """)
        var table = ReportTable(columns: [
            .init("band", key: "band"), .init("from", unit: "Hz", key: "low_hz", decimals: 0),
            .init("to", unit: "Hz", key: "high_hz", decimals: 0),
            .init("mean NMR", unit: "dB", key: "mean_nmr_db", decimals: 1), .init("p99 NMR", unit: "dB", key: "p99_nmr_db", decimals: 1),
            .init("bits", unit: "per granule", key: "bits", decimals: 1),
            .init("masked", unit: "%", key: "masked", decimals: 1), .init("lowpass", unit: "%", key: "lowpass", decimals: 1),
        ])
        for band in analysis.longBands {
            table.append([.integer(band.band), .number(band.lowHz), .number(band.highHz), .number(band.nmr.meanDB),
                          .number(band.nmr.tailDB()), .number(band.bits), .number(100 * band.maskedShare), .number(100 * band.lowpassShare)])
        }
        print("\nlong-block scalefactor bands:\n" + table.text())
    }
}
