import Foundation
import Testing

/// `lossy compare` on the bundled tone and chirp with a small generated model
/// and with SmolLM2 (KL through llama.cpp): both rows at every budget, the bounds never above what
/// was measured, every format, the plot, bad requests.
@Suite(.serialized) struct CompareCommandTests {
    static let sample = EncodeCommandTests.sample

    struct Report: Decodable {
        struct Domain: Decodable {
            var name: String
            var coefficient: String
            var notes: [String]
            var bound_curve: [[Double]]
        }
        struct Row: Decodable {
            var budget: Double
            var domain: String
            var setting: String
            var fits: String
            var rate: Double
            var snr_db: Double
            var worst_1pct_snr_db: Double
            var nmr_mean_db: Double?
            var nmr_worst_1pct_frames_db: Double?
            var mse: Double?
            var kl_mean: Double?
            var kl_p999: Double?
            var bound_rate: Double
            var gap: Double
            var zeroed_partitions_percent: Double
            var zeroed_percent: Double
            var zeroed_energy_percent: Double
            var bound_zeroed_percent: Double
            var `where`: String
        }
        var budgets: [Double]
        var domains: [Domain]
        var rows: [Row]
    }

    static func compare(_ model: String, _ extra: [String] = []) throws -> Report {
        let run = try Lossy.run(["compare", "--audio", sample, "--weights", model, "--format", "json"] + extra)
        try #require(run.status == 0, "compare: \(run.stderr)")
        return try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
    }

    /// The bound's SNR at `rate`, linearly between its samples.
    static func boundSNR(_ curve: [[Double]], at rate: Double) -> Double {
        guard let upper = curve.firstIndex(where: { $0[0] >= rate }), upper > 0 else { return curve.last?[1] ?? .infinity }
        let (a, b) = (curve[upper - 1], curve[upper])
        return a[1] + (b[1] - a[1]) * (rate - a[0]) / (b[0] - a[0])
    }

    /// Both rows at every budget, in order; the bound's rate at equal
    /// distortion is never above the rate spent, and on the plot's axes no
    /// measured point lies beyond its domain's bound.
    static func checkBothRowsAndTheBound(_ report: Report, budgets: [Double]) {
        #expect(report.budgets == budgets)
        #expect(report.domains.map(\.name) == ["audio", "weights"])
        #expect(report.rows.map(\.domain) == budgets.flatMap { _ in ["audio", "weights"] })
        #expect(report.rows.map(\.budget) == budgets.flatMap { [$0, $0] })
        for row in report.rows {
            #expect(row.rate > 0 && row.snr_db.isFinite && row.worst_1pct_snr_db <= row.snr_db + 1e-9, "\(row.domain) \(row.budget)")
            #expect(row.bound_rate >= 0 && row.bound_rate <= row.rate, "bound above the rate: \(row.domain) at \(row.budget): \(row.bound_rate) > \(row.rate)")
            #expect(abs(row.gap - (row.rate - row.bound_rate)) < 1e-9)
            #expect(row.fits == (row.rate <= row.budget * 1.02 ? "yes" : "no") || row.domain == "audio")
            let curve = report.domains.first { $0.name == row.domain }!.bound_curve
            #expect(boundSNR(curve, at: row.rate) >= row.snr_db, "\(row.domain) at \(row.budget) beyond its plotted bound")
            if row.domain == "audio" {
                #expect(row.nmr_mean_db != nil && row.mse == nil)
            } else {
                #expect(row.nmr_mean_db == nil && row.mse != nil)
            }
        }
        // More bits never cost SNR: rows sorted by rate keep their SNR rising (to 0.01 dB).
        for domain in ["audio", "weights"] {
            let rows = report.rows.filter { $0.domain == domain }.sorted { $0.rate < $1.rate }
            for (a, b) in zip(rows, rows.dropFirst()) { #expect(b.snr_db >= a.snr_db - 0.01, "\(domain): \(a.setting) → \(b.setting)") }
        }
    }

    @Test func aGeneratedModelAndTheSampleSideBySide() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let budgets = [2.0, 3, 4, 5, 6, 8]
        let report = try Self.compare(model)
        Self.checkBothRowsAndTheBound(report, budgets: budgets)
        let audio = report.rows.filter { $0.domain == "audio" }, weights = report.rows.filter { $0.domain == "weights" }
        // 44.1 kHz stereo: 2 bit/sample is 176.4 kbit/s, so 160; 320 kbit/s (3.63) is the most any budget gets.
        #expect(audio.map(\.setting) == ["160 kbit/s", "256 kbit/s", "320 kbit/s", "320 kbit/s", "320 kbit/s", "320 kbit/s"])
        #expect(audio.map(\.fits) == ["yes", "yes", "yes", "yes", "yes", "yes"])
        // 256-wide rows take Q2_K at 2.625 bit/weight: 2 bits fits nothing, 3 does.
        #expect(weights[0].fits == "no" && weights[0].setting.hasPrefix("Q2_K") && weights[1].fits == "yes")
        for row in weights.dropFirst() { #expect(row.rate <= row.budget + 1e-9) }
        // The masked bands and the lowpass zero lines; a weight quantizer spreads its noise instead.
        // (At 320 kbit/s the sample still zeroes 4.7 % of its bands, where a hole costs 4× its energy.)
        #expect(audio.allSatisfy { $0.zeroed_partitions_percent > 2 && $0.zeroed_percent > 2 && $0.where.contains("kHz") },
                "\(audio.map { ($0.setting, $0.zeroed_partitions_percent, $0.zeroed_percent) })")
        #expect(weights.allSatisfy { $0.zeroed_partitions_percent < 1 })
        #expect(weights.allSatisfy { $0.where.hasPrefix("noise: ") })
    }

    @Test func smolLM2AndTheSample() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let f16 = try LlamaRefereeTests.f16Model(in: folder)
        // Without Q4_1 and Q5_1, which rebuild the Q4_1-derived weights almost exactly.
        let formats = "Q2_K,Q3_K,IQ4_XS,Q4_0,IQ4_NL,Q4_K,Q5_0,Q5_K,Q6_K,Q8_0,F16"
        let text = Lossy.packageRoot.appendingPathComponent("samples/text/pride-and-prejudice-ch1-3.txt").path
        let report = try Self.compare(f16, ["--bits", "4,5,6,8", "--formats", formats, "--text", text])
        Self.checkBothRowsAndTheBound(report, budgets: [4, 5, 6, 8])
        let weights = report.rows.filter { $0.domain == "weights" }
        // llama.cpp ran every budget's whole model: KL for the weights only, falling as the budget grows.
        #expect(report.rows.filter { $0.domain == "audio" }.allSatisfy { $0.kl_mean == nil })
        let kl = weights.compactMap(\.kl_mean)
        #expect(kl.count == 4 && zip(kl, kl.dropFirst()).allSatisfy { $0 > $1 } && kl.last! > 0, "KL by budget: \(kl)")
        #expect(weights.allSatisfy { ($0.kl_p999 ?? 0) >= ($0.kl_mean ?? .infinity) })
        // 576-wide rows take no K format: the smallest mix needs more than 4 bits per weight.
        #expect(weights.map(\.fits) == ["no", "yes", "yes", "yes"])
        #expect(weights[0].rate > 4 && weights[0].rate < 4.5)
        #expect(weights.allSatisfy { $0.gap > 0.2 }, "\(weights.map(\.gap))")
    }

    @Test(arguments: ["table", "markdown", "csv"])
    func everyFormatRenders(format: String) throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let run = try Lossy.run(["compare", "--audio", Self.sample, "--weights", model, "--bits", "3,4", "--format", format])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        switch format {
        case "csv":
            #expect(lines.count == 5)
            #expect(lines[0].hasPrefix("budget,domain,setting,fits,rate,snr_db,worst_1pct_snr_db,"))
        case "markdown":
            #expect(lines.filter { $0.hasPrefix("| 3.00 | audio") || $0.hasPrefix("| 4.00 | weights") }.count == 2)
        default:
            #expect(lines.contains { $0.contains("audio") && $0.contains("kbit/s") })
            #expect(lines.contains { $0.hasPrefix("weights: bound") })
        }
    }

    @Test func badRequestsEndWithOneClearLine() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let cases: [([String], String)] = [
            (["--bits", "0"], "--bits must each be in (0, 16]"),
            (["--bits", "4,4"], "--bits names a budget twice"),
            (["--bits", "four"], "--bits"),
            (["--formats", "Q4_0,Q9_9"], "--formats: 'Q9_9' is not a block format"),
            (["--text", folder.appendingPathComponent("missing.txt").path], "cannot read"),
        ]
        for (extra, message) in cases {
            let run = try Lossy.run(["compare", "--audio", Self.sample, "--weights", model] + extra)
            #expect(run.status != 0 && run.stderr.contains(message), "\(extra): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(extra): \(run.stderr)")
        }
        let noAudio = try Lossy.run(["compare", "--weights", model])
        #expect(noAudio.status != 0 && noAudio.stderr.contains("--audio"))
        let notAudio = try Lossy.run(["compare", "--audio", model, "--weights", model])
        #expect(notAudio.status != 0 && notAudio.stderr.split(separator: "\n").count == 1, "\(notAudio.stderr)")
    }
}
