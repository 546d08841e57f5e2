import Foundation
import Testing

/// `lossy sweep audio` on the bundled two seconds of tone and chirp (stereo, 44.1 kHz).
struct SweepAudioCommandTests {
    static let sample = EncodeCommandTests.sample

    struct Report: Decodable {
        struct Row: Decodable {
            var kbps: Double
            var bits_per_sample: Double
            var lowpass_hz: Double
            var snr_db: Double
            var mean_nmr_db: Double
            var worst_1pct_frames_nmr_db: Double
            var worst_frame_nmr_db: Double
            var perceptual_entropy_bits_per_sample: Double
            var masked_percent: Double
            var lowpass_percent: Double
            var file_bytes: Double
            var perceptual_entropy_bits: Double
            var bands_with_energy: Double
            var zeroed_masked: Double
            var zeroed_lowpass: Double
            var worst_frames: [Double]
        }
        var title: String
        var sample_rate: Double
        var channels: Double
        var samples: Double
        var frames: Double
        var perceptual_entropy_note: String
        var rows: [Row]
    }

    /// The default sweep, run once for the tests that read it.
    static let defaultSweep = Result { () throws -> LossyRun in try Lossy.run(["sweep", "audio", sample, "--format", "json"]) }

    static func report() throws -> Report {
        let run = try defaultSweep.get()
        try #require(run.status == 0, "stderr: \(run.stderr)")
        return try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
    }

    @Test func oneRowPerBitrateWithRatesAndSNRRising() throws {
        let report = try Self.report()
        #expect(report.rows.map(\.kbps) == [32, 48, 64, 96, 128, 160, 192, 256, 320])
        #expect(report.sample_rate == 44100 && report.channels == 2)
        for (low, high) in zip(report.rows, report.rows.dropFirst()) {
            #expect(low.bits_per_sample < high.bits_per_sample, "rate at \(low.kbps) ≥ at \(high.kbps)")
            #expect(low.snr_db < high.snr_db, "SNR \(low.snr_db) dB at \(low.kbps) ≥ \(high.snr_db) dB at \(high.kbps)")
        }
        for row in report.rows {
            // The file's own bits over samples × channels; a constant bitrate spends kbps / (fs × channels).
            #expect(row.bits_per_sample == row.file_bytes * 8 / (report.samples * report.channels))
            #expect(abs(row.bits_per_sample - row.kbps * 1000 / (44100 * 2)) < 0.05 * row.bits_per_sample)
            #expect(row.worst_frame_nmr_db >= row.mean_nmr_db, "at \(row.kbps)")
            #expect(row.worst_frame_nmr_db >= row.worst_1pct_frames_nmr_db, "at \(row.kbps)")
            #expect(row.worst_frames.count == max(1, Int((report.frames / 100).rounded(.up))))
            #expect(row.perceptual_entropy_bits > 0)
            #expect(row.zeroed_masked + row.zeroed_lowpass <= row.bands_with_energy)
            #expect(abs(row.masked_percent - 100 * row.zeroed_masked / row.bands_with_energy) < 1e-9)
        }
        // Less is thrown away as the bitrate rises: the lowpass opens and fewer bands are masked.
        let first = report.rows.first!, last = report.rows.last!
        #expect(first.lowpass_hz < last.lowpass_hz)
        #expect(first.masked_percent + first.lowpass_percent > last.masked_percent + last.lowpass_percent)
        #expect(first.lowpass_percent > 0, "the chirp rises above 5.5 kHz")
        #expect(report.perceptual_entropy_note.hasPrefix("perceptual entropy (Johnston, 1988)"))
    }

    @Test(arguments: ["table", "markdown", "csv"])
    func everyFormatRenders(format: String) throws {
        let run = try Lossy.run(["sweep", "audio", Self.sample, "--bitrates", "64,128", "--format", format])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stderr.isEmpty)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        switch format {
        case "csv":
            let header = "kbps,bits_per_sample,lowpass_hz,snr_db,worst_1pct_frames_snr_db,mean_nmr_db,worst_1pct_frames_nmr_db,"
                + "worst_frame_nmr_db,perceptual_entropy_bits_per_sample,bound_bits_per_sample,gap_bits,masked_percent,lowpass_percent"
            #expect(lines.first == header)
            #expect(lines.count == 3)
        case "markdown":
            #expect(run.stdout.hasPrefix("## tone-and-chirp.wav: 2.00 s at 44100 Hz"))
            let rows = lines.filter { $0.hasPrefix("| 64 |") || $0.hasPrefix("| 128 |") }
            #expect(rows.count == 2)
        default:
            #expect(run.stdout.contains("NMR worst frame (dB)"))
            #expect(run.stdout.contains("PE: perceptual entropy (Johnston, 1988)"))
            let rows = lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("64  ") || $0.hasPrefix("128  ") }
            #expect(rows.count == 2, "\(run.stdout)")
        }
    }

    @Test func thePlotHoldsTheSeries() throws {
        let folder = try Lossy.temporaryFolder()
        let run = try Lossy.run(["sweep", "audio", Self.sample, "--bitrates", "48,128,256", "--format", "csv",
                                 "--plot", "rd.svg"], in: folder)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let svg = try String(contentsOf: folder.appendingPathComponent("rd.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") && svg.hasSuffix("</svg>\n"))
        for series in [">SNR bound<", ">SNR<", ">NMR mean<", ">NMR worst frame<", ">48k<", ">128k<", ">256k<"] {
            #expect(svg.contains(series), "no \(series) in the plot")
        }
        // The bound shaded, three measured series of three points each, the tail dotted with open markers.
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 4)
        #expect(svg.components(separatedBy: "<polygon").count - 1 == 1)
        #expect(svg.contains("stroke-dasharray=\"2 3\""))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["rd.svg"])
    }

    @Test func badRequestsEndWithOneClearLine() throws {
        let folder = try Lossy.temporaryFolder()
        let cases: [([String], String)] = [
            (["--bitrates", "64,100"],
             "--bitrates: bitrate 100 kbit/s is not an MPEG-1 Layer III bitrate; use one of 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320"),
            (["--bitrates", ""], "--bitrates needs at least one bitrate in kbit/s, e.g. 64,128"),
            (["--bitrates", ","], "--bitrates needs at least one bitrate in kbit/s, e.g. 64,128"),
            (["--bitrates", "64,fast"], "--bitrates: 'fast' is not a bitrate in kbit/s"),
            (["--bitrates", "128,64,128"], "--bitrates names 128 twice"),
            (["--format", "xml"], "The value 'xml' is invalid for '--format <format>'"),
        ]
        for (arguments, message) in cases {
            let run = try Lossy.run(["sweep", "audio", Self.sample] + arguments + ["--plot", "rd.svg"], in: folder)
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty)
            #expect(run.stderr.hasPrefix("lossy: " + message), "\(arguments): \(run.stderr)")
            #expect(run.stderr.filter { $0 == "\n" }.count == 1, "\(arguments): \(run.stderr)")
        }
        let missing = try Lossy.run(["sweep", "audio", "/nonexistent/song.wav", "--plot", "rd.svg"], in: folder)
        #expect(missing.status == 1)
        #expect(missing.stderr == "lossy: cannot read /nonexistent/song.wav: no such file\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }
}
