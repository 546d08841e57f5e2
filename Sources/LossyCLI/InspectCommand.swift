import ArgumentParser
import AudioCodec
import RateDistortion

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a file: format, length, levels and bandwidth of audio (WAV, FLAC, AIFF…)."
    )

    @Argument(help: "The file to describe.")
    var file: String

    func run() throws {
        let audio = try AudioFileReader.read(path: file)
        let summary = AudioSummary(audio)
        var table = ReportTable(columns: [
            .init("channel", key: "channel"),
            .init("peak", unit: "dBFS", key: "peak_dbfs", decimals: 2),
            .init("RMS", unit: "dBFS", key: "rms_dbfs", decimals: 2),
        ])
        for (c, channel) in summary.channels.enumerated() {
            table.append([.integer(c), .number(channel.peakDBFS), .number(channel.rmsDBFS)])
        }
        print("""
            \(file)
            format       \(audio.formatDescription)
            sample rate  \(audio.sampleRate) Hz
            channels     \(audio.channels.count)
            frames       \(audio.frameCount) (\(formatFixed(audio.duration, decimals: 3)) s)
            bandwidth    \(formatFixed(summary.bandwidth99Hz, decimals: 0)) Hz holds 99 % of the energy

            """)
        print(table.text(), terminator: "")
    }
}
