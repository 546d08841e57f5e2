import ArgumentParser
import AudioCodec
import Foundation
import RateDistortion

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a file: audio (WAV, FLAC, AIFF…, MP3: format, length, levels, bandwidth) or weights (GGUF, safetensors: metadata, tensors, bits per weight)."
    )

    @Argument(help: "The file to describe.")
    var file: String

    func run() throws {
        if InspectWeights.handles(file) {
            print(try InspectWeights.describe(file), terminator: "")
            return
        }
        let audio: PCMAudio
        var lines = [String]()
        if let stream = try mp3Stream() {
            audio = stream.audio
            lines.append("format       MPEG audio Layer III, \(stream.frameCount) frames")
            lines.append("bitrate      \(formatFixed(stream.averageBitrate, decimals: 1)) kbit/s on average")
            lines.append("damaged      \(stream.damagedFrames) frame(s)")
            if let gapless = stream.gapless {
                lines.append("gapless      encoder delay \(gapless.delay), padding \(gapless.padding) samples (trimmed)")
            }
        } else {
            audio = try AudioFileReader.read(path: file)
            lines.append("format       \(audio.formatDescription)")
        }
        let summary = AudioSummary(audio)
        var table = ReportTable(columns: [
            .init("channel", key: "channel"),
            .init("peak", unit: "dBFS", key: "peak_dbfs", decimals: 2),
            .init("RMS", unit: "dBFS", key: "rms_dbfs", decimals: 2),
        ])
        for (c, channel) in summary.channels.enumerated() {
            table.append([.integer(c), .number(channel.peakDBFS), .number(channel.rmsDBFS)])
        }
        print(([file] + lines + [
            "sample rate  \(audio.sampleRate) Hz",
            "channels     \(audio.channels.count)",
            "frames       \(audio.frameCount) (\(formatFixed(audio.duration, decimals: 3)) s)",
            "bandwidth    \(formatFixed(summary.bandwidth99Hz, decimals: 0)) Hz holds 99 % of the energy",
            "",
        ]).joined(separator: "\n"))
        print(table.text(), terminator: "")
    }

    /// The decoded stream when the file is MP3 (by extension, ID3v2 tag or frame sync).
    private func mp3Stream() throws -> DecodedStream? {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped) else { return nil }
        let head = [UInt8](data.prefix(3))
        let looksLikeMP3 = file.lowercased().hasSuffix(".mp3") || head.starts(with: Array("ID3".utf8))
            || (head.count >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0)
        guard looksLikeMP3 else { return nil }
        return try Layer3Decoder.decode([UInt8](data))
    }
}
