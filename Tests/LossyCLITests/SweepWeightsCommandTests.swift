import Foundation
import Testing

/// `lossy sweep weights` on small GGUFs the `gguf` package writes here: one
/// with rows of 256 (every format applies), one with SmolLM2's 576-wide rows
/// (the K formats fall back), and an importance matrix for the first.
@Suite(.serialized) struct SweepWeightsCommandTests {
    struct Report: Decodable {
        struct Row: Decodable {
            var type: String
            var bits_per_weight: Double
            var fallback_tensors: Double
            var mib: Double
            var mse: Double
            var sqnr_db: Double
            var worst_1pct_groups_sqnr_db: Double
            var bound_bits_per_weight: Double
            var gap_bits: Double
            var gap_db: Double
            var fallbacks: [String: Double]
            var kl_mean: Double?
            var kl_p999: Double?
            var top1_percent: Double?
        }
        struct Bound: Decodable { var name: String; var curve: [[Double]] }
        var weighted_by_importance: Bool
        var quantized_tensors: Double
        var weights: Double
        var sampled_weights: Double
        var groups: Double
        var bound: Bound
        var rows: [Row]
    }

    static func sweep(_ arguments: [String]) throws -> Report {
        let run = try Lossy.run(["sweep", "weights"] + arguments + ["--format", "json"])
        try #require(run.status == 0, "\(run.stderr)")
        return try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
    }

    static let defaultTypes = ["Q2_K", "Q3_K", "Q4_0", "Q4_K", "Q5_0", "Q5_K", "Q6_K", "Q8_0"]

    /// A one-layer llama with SmolLM2's widths: rows of 576 everywhere but
    /// ffn_down's (1536 = 6 × 256, where the K formats fit).
    static func wideModel(in folder: URL) throws -> String {
        try QuantizeCommandTests.tinyModel(in: folder, name: "wide", layers: 1, embedding: 576, ffn: 1536, heads: 9, kvHeads: 3,
                                           vocabulary: 100, seed: 3)
    }

    /// An imatrix (llama-imatrix's GGUF layout) for the tiny model: E[x²]
    /// spread over two decades across columns, so weighting matters.
    static func tinyImatrix(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("tiny.imatrix.gguf").path
        let script = """
            import sys, numpy as np, gguf
            rng = np.random.default_rng(11)
            w = gguf.GGUFWriter(sys.argv[1], arch="imatrix")
            w.add_string("general.type", "imatrix")
            names = ["token_embd.weight"] + [f"blk.{i}.{n}.weight" for i in range(2)
                     for n in ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]]
            for n in names:
                cols = 512 if "ffn_down" in n else 256
                w.add_tensor(n + ".in_sum2", (100 * np.exp(rng.uniform(-2.3, 2.3, cols))).astype(np.float32))
                w.add_tensor(n + ".counts", np.array([1], dtype=np.float32))
            w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
            """
        let run = try Lossy.run(["python3", "-c", script, path], program: "/usr/bin/env")
        try #require(run.status == 0, "gguf writer: \(run.stderr)")
        return path
    }

    /// The properties every sweep keeps, whatever the model.
    static func checkOrdering(_ report: Report) {
        #expect(report.rows.map(\.type) == defaultTypes)
        let byType = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.type, $0) })
        for chain in [["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_0"], ["Q4_0", "Q5_0", "Q8_0"]] {
            for (low, high) in zip(chain, chain.dropFirst()) {
                let a = byType[low]!, b = byType[high]!
                #expect(a.bits_per_weight < b.bits_per_weight, "rate \(low) \(a.bits_per_weight) ≥ \(high) \(b.bits_per_weight)")
                #expect(a.sqnr_db < b.sqnr_db, "SQNR \(low) \(a.sqnr_db) ≥ \(high) \(b.sqnr_db)")
            }
        }
        for row in report.rows {
            #expect(row.bound_bits_per_weight > 0 && row.bound_bits_per_weight <= row.bits_per_weight, "\(row.type): bound above the rate")
            #expect(row.gap_bits >= 0 && row.gap_db >= 0, "\(row.type): gap \(row.gap_bits) bit, \(row.gap_db) dB")
            #expect(abs(row.bits_per_weight - row.bound_bits_per_weight - row.gap_bits) < 1e-9)
            #expect(row.worst_1pct_groups_sqnr_db <= row.sqnr_db, "\(row.type): the tail is above the mean")
            #expect(row.mse > 0 && row.kl_mean == nil)
        }
    }

    @Test func everyFormatOnRowsOf256() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let report = try Self.sweep([model])
        Self.checkOrdering(report)
        #expect(!report.weighted_by_importance && report.quantized_tensors == 15)
        // Every weight of the 15 matrices, and every weight sampled (the model is small).
        let weights = Double(320 * 256 + 2 * (256 * 256 * 2 + 128 * 256 * 2 + 512 * 256 * 3))
        #expect(report.weights == weights && report.sampled_weights == weights && report.groups == weights / 32)
        // Nothing falls back: the rates are the formats' own.
        let rates = ["Q2_K": 2.625, "Q3_K": 3.4375, "Q4_0": 4.5, "Q4_K": 4.5, "Q5_0": 5.5, "Q5_K": 5.5, "Q6_K": 6.5625, "Q8_0": 8.5]
        for row in report.rows {
            #expect(row.bits_per_weight == rates[row.type]!, "\(row.type): \(row.bits_per_weight)")
            #expect(row.fallback_tensors == 0 && row.fallbacks.isEmpty)
        }
        // At equal rate the K formats' sub-block scales win.
        let byType = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.type, $0) })
        #expect(byType["Q4_K"]!.sqnr_db > byType["Q4_0"]!.sqnr_db && byType["Q5_K"]!.sqnr_db > byType["Q5_0"]!.sqnr_db)
        // The bound's curve starts at no rate and no SQNR and rises.
        let curve = report.bound.curve
        #expect(curve.first![0] == 0 && abs(curve.first![1]) < 0.5 && zip(curve, curve.dropFirst()).allSatisfy { $0[1] < $1[1] })
    }

    @Test func fallbacksOnRowsOf576AreCountedAndPriced() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.wideModel(in: folder)
        let report = try Self.sweep([model])
        Self.checkOrdering(report)
        #expect(report.quantized_tensors == 8)
        let down = Double(576 * 1536), total = Double(100 * 576 + 576 * 576 * 2 + 192 * 576 * 2 + 1536 * 576 * 3)
        // Seven tensors have 576-wide rows; ffn_down's 1536 take every K format.
        let expected: [String: (fallback: String?, bits: Double)] = [
            "Q2_K": ("Q4_0", 2.625), "Q3_K": ("Q4_0", 3.4375), "Q4_K": ("Q5_0", 4.5), "Q5_K": ("Q5_1", 5.5),
            "Q6_K": ("Q8_0", 6.5625), "Q4_0": (nil, 4.5), "Q5_0": (nil, 5.5), "Q8_0": (nil, 8.5),
        ]
        for row in report.rows {
            let (fallback, own) = expected[row.type]!
            if let fallback {
                let bits = [("Q4_0", 4.5), ("Q5_0", 5.5), ("Q5_1", 6.0), ("Q8_0", 8.5)].first { $0.0 == fallback }!.1
                #expect(row.fallbacks == [fallback: 7] && row.fallback_tensors == 7, "\(row.type): \(row.fallbacks)")
                #expect(abs(row.bits_per_weight - (bits * (total - down) + own * down) / total) < 1e-12, "\(row.type)")
            } else {
                #expect(row.fallbacks.isEmpty && row.bits_per_weight == own, "\(row.type)")
            }
        }
        // The table says so too.
        let run = try Lossy.run(["sweep", "weights", model, "--types", "Q4_K,Q8_0"])
        #expect(run.status == 0 && run.stdout.contains("fell back") && run.stdout.contains("Q4_K 7 to Q5_0"), "\(run.stdout)")
    }

    @Test func importanceWeightsTheErrorAndTheBound() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let imatrix = try Self.tinyImatrix(in: folder)
        let plain = try Self.sweep([model])
        let weighted = try Self.sweep([model, "--imatrix", imatrix])
        Self.checkOrdering(weighted)
        #expect(weighted.weighted_by_importance)
        // Same sizes, so the same rates; errors on E[x²]'s absolute scale: its mean is
        // 100·sinh(2.3)/2.3 = 216.6, less what the importance-aware search shifts to weak columns.
        for (a, b) in zip(plain.rows, weighted.rows) {
            #expect(a.bits_per_weight == b.bits_per_weight)
            #expect(b.mse > 50 * a.mse && b.mse < 230 * a.mse, "\(a.type): \(a.mse) plain, \(b.mse) weighted")
        }
        let table = try Lossy.run(["sweep", "weights", model, "--imatrix", imatrix, "--types", "Q4_0"])
        #expect(table.stdout.contains("weighted MSE") && table.stdout.contains("tolerance 1/(mean E[x²] of its columns)"), "\(table.stdout)")
    }

    @Test func aSampleOfRowsKeepsTheRatesExactAndTheErrorsClose() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let whole = try Self.sweep([model, "--types", "Q3_K,Q5_0"])
        let sampled = try Self.sweep([model, "--types", "Q3_K,Q5_0", "--sample-weights", "100000"])
        #expect(sampled.sampled_weights < whole.sampled_weights / 3 && sampled.weights == whole.weights)
        for (a, b) in zip(whole.rows, sampled.rows) {
            #expect(a.bits_per_weight == b.bits_per_weight && a.bound_bits_per_weight != 0)
            #expect(abs(a.sqnr_db - b.sqnr_db) < 0.5, "\(a.type): \(a.sqnr_db) dB whole, \(b.sqnr_db) dB sampled")
        }
    }

    @Test func everyFormatRendersAndThePlotHasTheSeries() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let types = "Q2_K,Q4_0,Q4_K,Q8_0"

        let csv = try Lossy.run(["sweep", "weights", model, "--types", types, "--format", "csv"])
        try #require(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(lines.count == 5 && lines[0].first == "type" && lines[0].contains("gap_bits") && !lines[0].contains("kl_mean"))
        #expect(lines.dropFirst().allSatisfy { $0.count == lines[0].count && $0.dropFirst().allSatisfy { Double($0) != nil } })
        #expect(lines.dropFirst().map { String($0[0]) } == ["Q2_K", "Q4_0", "Q4_K", "Q8_0"])

        let markdown = try Lossy.run(["sweep", "weights", model, "--types", types, "--format", "markdown"])
        #expect(markdown.status == 0 && markdown.stdout.hasPrefix("## tiny: 15 quantized tensors") && markdown.stdout.contains("|---|---:|"))

        let table = try Lossy.run(["sweep", "weights", model, "--types", types, "--plot", "rd.svg"], in: folder)
        #expect(table.status == 0 && table.stderr.isEmpty, "\(table.stderr)")
        #expect(table.stdout.contains("SQNR (dB)") && table.stdout.contains("worst 1% groups (dB)") && table.stdout.contains("bound: Gaussian"))
        #expect(table.stdout.contains("time: "))
        let check = """
            import sys, xml.etree.ElementTree as ET
            ns = {"s": "http://www.w3.org/2000/svg"}
            root = ET.parse(sys.argv[1]).getroot()
            assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
            lines = root.findall("s:polyline", ns)
            dashed = [l for l in lines if l.get("stroke-dasharray")]
            measured = [l for l in lines if not l.get("stroke-dasharray")]
            assert len(dashed) == 1 and len(measured) == 1, (len(dashed), len(measured))
            assert len(dashed[0].get("points").split()) > 100
            assert len(measured[0].get("points").split()) == 4
            texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
            for want in ["rate (bits per weight)", "SQNR (dB)", "measured", "Gaussian bound",
                         "Q2_K", "Q4_0", "Q4_K", "Q8_0"]:
                assert want in texts, want
            assert any(t.startswith("tiny:") for t in texts)
            print("ok")
            """
        let parsed = try Lossy.run(["python3", "-c", check, folder.appendingPathComponent("rd.svg").path], program: "/usr/bin/env")
        #expect(parsed.status == 0 && parsed.stdout == "ok\n", "\(parsed.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "temporary files left: \(left)")
    }

    @Test func badRequestsAreOneLine() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let notGGUF = folder.appendingPathComponent("notes.gguf").path
        try Data("these are notes, not weights".utf8).write(to: URL(fileURLWithPath: notGGUF))
        let missing = folder.appendingPathComponent("missing.gguf").path
        for (arguments, message) in [
            ([model, "--types", "Q4_0,Q9_9"], "--types: 'Q9_9' is not a block format lossy writes; known: Q8_0, Q4_0"),
            ([model, "--types", "F16"], "--types: 'F16' is not a block format lossy writes"),
            ([model, "--types", "Q4_0,q4_0"], "--types names Q4_0 twice"),
            ([model, "--sample-weights", "0"], "--sample-weights must be at least 1, got 0"),
            ([missing], "cannot open '\(missing)': no such file or folder"),
            ([notGGUF], "cannot open '\(notGGUF)': neither GGUF (no GGUF magic) nor safetensors (safetensors header of "),
            ([model, "--imatrix", missing], "cannot read \(missing)"),
            ([model, "--text", missing], "cannot read \(missing)"),
            ([notGGUF, "--text", model], "--text runs llama.cpp on the input as the reference: \(notGGUF) must be a GGUF file"),
            ([model, "--imatrix", model], "is not an importance matrix"),
            ([model, "--plot", "/nonexistent-folder/rd.svg"], "cannot write /nonexistent-folder/rd.svg"),
        ] {
            let run = try Lossy.run(["sweep", "weights"] + arguments)
            #expect(run.status != 0 && run.stdout.isEmpty, "\(arguments): \(run.stdout)")
            #expect(run.stderr.hasPrefix("lossy: ") && run.stderr.contains(message) && run.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(run.stderr)")
        }
        let help = try Lossy.run(["sweep", "weights", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--types <list>") && help.stdout.contains("KL needs --text"), "\(help.stdout)")
    }
}

/// The sweep with --text on the real SmolLM2-135M (its F16 GGUF made by
/// lossy from the shipped Q4_1): llama.cpp runs both formats' models.
@Suite(.serialized) struct SweepWeightsDivergenceTests {
    @Test func klFallsFromQ4_0ToQ8_0() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let f16 = try LlamaRefereeTests.f16Model(in: folder)
        // The first chapter's start (about 700 tokens) keeps llama.cpp's share short.
        let text = folder.appendingPathComponent("start.txt")
        try String(try String(contentsOfFile: LlamaRefereeTests.text, encoding: .utf8).prefix(3000)).write(to: text, atomically: true, encoding: .utf8)
        let temporary = FileManager.default.temporaryDirectory.path
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: temporary).filter { $0.hasPrefix("lossy-sweep-") })
        let report = try SweepWeightsCommandTests.sweep([f16, "--types", "Q4_0,Q8_0", "--text", text.path])
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: temporary).filter { $0.hasPrefix("lossy-sweep-") })
        #expect(after.subtracting(before).isEmpty, "temporary models left: \(after.subtracting(before))")
        #expect(report.quantized_tensors == 211)
        let q4 = report.rows[0], q8 = report.rows[1]
        let (kl4, kl8) = (try #require(q4.kl_mean), try #require(q8.kl_mean))
        print("SmolLM2 F16: Q4_0 KL \(kl4), top-1 \(q4.top1_percent ?? 0) %; Q8_0 KL \(kl8), top-1 \(q8.top1_percent ?? 0) %")
        #expect(kl8 > 0 && kl8 < kl4 && kl8 < 0.02, "KL Q8_0 \(kl8), Q4_0 \(kl4)")
        #expect(q8.kl_p999! > kl8 && q8.top1_percent! >= q4.top1_percent!)
        #expect(q4.gap_bits >= 0 && q8.gap_bits >= 0 && q8.sqnr_db > q4.sqnr_db + 15)
    }
}
