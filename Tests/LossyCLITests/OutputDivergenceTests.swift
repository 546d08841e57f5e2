import Foundation
import Testing

/// `lossy evaluate` and `lossy imatrix`: llama.cpp runs SmolLM2 on the
/// bundled text; lossy reports the divergence's tails and writes the imatrix.
@Suite(.serialized) struct OutputDivergenceTests {
    static let text = LlamaRefereeTests.text

    struct Evaluation: Decodable {
        struct Row: Decodable {
            var model: String
            var tokens: Double
            var top1_percent: Double
            var kl_mean: Double
            var kl_p99: Double
            var kl_p999: Double
            var kl_max: Double
            var ppl_reference: Double
            var ppl: Double
        }
        struct Worst: Decodable {
            struct Token: Decodable { var position: Double; var kl: Double; var token: String; var context: String }
            var model: String
            var worst: [Token]
        }
        var models: [Row]
        var worst_tokens: [Worst]
    }

    static func evaluate(_ reference: String, _ models: [String], worst: Int = 5) throws -> Evaluation {
        let json = try LlamaRefereeTests.lossy(["evaluate", reference] + models + ["--text", text, "--worst", String(worst), "--format", "json"])
        return try JSONDecoder().decode(Evaluation.self, from: Data(json.utf8))
    }

    @Test func evaluationGivesTheTailAndTheWorstTokens() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let f16 = try LlamaRefereeTests.f16Model(in: folder)
        let q8 = folder.appendingPathComponent("q8.gguf").path
        _ = try LlamaRefereeTests.lossy(["quantize", f16, "-o", q8, "--type", "Q8_0"])
        let result = try Self.evaluate(f16, [f16, q8])
        let same = result.models[0], quantized = result.models[1]
        // A model against itself loses nothing.
        #expect(same.tokens > 2500 && same.kl_max == 0 && same.top1_percent == 100 && same.ppl == same.ppl_reference)
        // 8 bits lose little, and the tail orders as tails do.
        #expect(quantized.kl_mean > 0 && quantized.kl_mean < 0.01, "Q8_0 mean KL \(quantized.kl_mean)")
        #expect(quantized.kl_mean < quantized.kl_p99 && quantized.kl_p99 <= quantized.kl_p999 && quantized.kl_p999 <= quantized.kl_max)
        #expect(quantized.top1_percent > 90 && abs(quantized.ppl / quantized.ppl_reference - 1) < 0.02)
        let worst = result.worst_tokens[1].worst
        #expect(worst.count == 5 && worst[0].kl == quantized.kl_max && zip(worst, worst.dropFirst()).allSatisfy { $0.kl >= $1.kl })
        #expect(worst.allSatisfy { !$0.context.isEmpty && !$0.token.isEmpty })

        let table = try LlamaRefereeTests.lossy(["evaluate", f16, q8, "--text", Self.text, "--worst", "3"])
        #expect(table.contains("KL p99.9") && table.contains("worst 3 tokens of \(q8)"), "\(table)")

        for (arguments, message) in [
            ([f16, "--text", Self.text], "at least one model"),
            ([f16, folder.appendingPathComponent("missing.gguf").path, "--text", Self.text], "cannot read"),
            ([f16, Self.text, "--text", Self.text], "llama.cpp evaluate"),
            ([f16, q8, "--text", Self.text, "--context", "4"], "--context"),
        ] {
            let bad = try Lossy.run(["evaluate"] + arguments)
            #expect(bad.status != 0 && bad.stderr.contains(message) && bad.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(bad.stderr)")
        }
    }

    @Test func imatrixIsWhatLlamaCppMultipliesBy() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let f16 = try LlamaRefereeTests.f16Model(in: folder)
        let imatrix = folder.appendingPathComponent("corpus.imatrix.gguf").path
        let out = try LlamaRefereeTests.lossy(["imatrix", f16, "--text", Self.text, "-o", imatrix])
        #expect(out.contains("211 matrices, 5 chunks of 512 tokens"), "\(out)")
        // The gguf package reads it; every matrix is there with every token counted, and
        // matrices fed the same normalised input (q/k/v, gate/up) carry the same sums.
        let check = """
            import sys, numpy as np, gguf
            r = gguf.GGUFReader(sys.argv[1]); t = {x.name: np.array(x.data).ravel() for x in r.tensors}
            assert r.fields["general.type"].contents() == "imatrix"
            names = [n[:-8] for n in t if n.endswith(".in_sum2")]
            assert len(names) == 211 and "token_embd.weight" in names, len(names)
            assert all(t[n + ".counts"][0] == 2560 for n in names)
            assert all((t[n + ".in_sum2"] > 0).all() for n in names)
            for i in range(30):
                q = t[f"blk.{i}.attn_q.weight.in_sum2"]
                assert (q == t[f"blk.{i}.attn_k.weight.in_sum2"]).all() and (q == t[f"blk.{i}.attn_v.weight.in_sum2"]).all()
                assert (t[f"blk.{i}.ffn_gate.weight.in_sum2"] == t[f"blk.{i}.ffn_up.weight.in_sum2"]).all()
            print("ok")
            """
        let run = try Lossy.run(["python3", "-c", check, imatrix], program: "/usr/bin/env")
        #expect(run.status == 0 && run.stdout == "ok\n", "\(run.stderr)")
        // Both quantizers take it.
        let ours = folder.appendingPathComponent("q4.gguf").path
        let quantized = try Lossy.run(["quantize", f16, "-o", ours, "--type", "Q4_K_M", "--imatrix", imatrix])
        #expect(quantized.status == 0 && quantized.stderr.contains("211 of 211 quantized tensors covered"), "\(quantized.stderr)")
        _ = try LlamaRefereeTests.python(["quantize", f16, folder.appendingPathComponent("llama-q4.gguf").path, "Q4_K_M",
                                          "--imatrix", imatrix])
    }
}
