import ArgumentParser
import AudioCodec
import Foundation
import RateDistortion

struct SweepAudio: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audio",
        abstract: "Sweep our MP3 encoder over constant bitrates: rate, SNR, NMR and its tail, perceptual entropy, what was discarded.",
        discussion: """
            For each bitrate in --bitrates, encodes the input as `lossy encode --bitrate` does (joint \
            stereo for two channels, the bitrate's lowpass), decodes it with our decoder trimmed by the \
            Info frame to the input's time line, and reports: bits per sample of the whole file over \
            samples × channels as coded; the SNR of the decoded output against the input; the \
            encoder's noise-to-mask ratio over every band (mean over lines), the mildest of the worst \
            1 % of frames and the worst frame; the perceptual entropy the model computes, summed over \
            the granules, per sample; and of the bands with energy, the share zeroed as masked and \
            the share above the lowpass.
            """
    )

    @Argument(help: ArgumentHelp("The audio to encode (WAV, FLAC, AIFF; 32000, 44100 or 48000 Hz).", valueName: "in.wav"))
    var input: String

    @Option(help: ArgumentHelp("Constant bitrates to sweep in kbit/s, comma-separated (\(AudioSweep.bitrates.map(String.init).joined(separator: ", "))).",
                               valueName: "list"))
    var bitrates = AudioSweep.defaultBitrates.map(String.init).joined(separator: ",")

    @OptionGroup var report: ReportOptions

    func validate() throws {
        _ = try Self.parse(bitrates)
        try requireReadable([input])
    }

    func run() throws {
        let audio = try AudioFileReader.read(path: input)
        let progress = ProgressLine()
        let sweep = try AudioSweep.run(audio, name: URL(fileURLWithPath: input).lastPathComponent,
                                       bitrates: try Self.parse(bitrates)) { position, count, kbps in
            progress.show("encoding [\(position + 1)/\(count)] \(kbps) kbit/s")
        }
        progress.clear()
        try report.emit(sweep)
    }

    /// The bitrates of a comma-separated list, each once and each MPEG-1 Layer III's.
    static func parse(_ list: String) throws -> [Int] {
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if names.isEmpty { throw ValidationError("--bitrates needs at least one bitrate in kbit/s, e.g. 64,128") }
        var values = [Int]()
        for name in names {
            guard let kbps = Int(name) else { throw ValidationError("--bitrates: '\(name)' is not a bitrate in kbit/s") }
            guard AudioSweep.bitrates.contains(kbps) else {
                throw ValidationError("--bitrates: \(EncoderError.unsupportedBitrate(kbps))")
            }
            if values.contains(kbps) { throw ValidationError("--bitrates names \(kbps) twice") }
            values.append(kbps)
        }
        return values
    }
}
