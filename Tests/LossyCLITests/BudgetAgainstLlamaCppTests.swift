import Foundation
import Testing

/// `lossy quantize --target-size` against llama-quantize's Q2_K recipe at
/// the size of llama.cpp's own file, with and without an importance matrix
/// from the bundled text, judged by llama.cpp: the next-token KL divergence
/// from the F16 model, at the mean and in the tail. (The table for Q3_K_M,
/// Q2_K and IQ4_XS comes from scripts/llama/budget-vs-llama.)
@Suite(.serialized) struct BudgetAgainstLlamaCppTests {
    /// The F16 model and an imatrix lossy collects from it on the bundled text.
    static func f16AndImatrix(in folder: URL) throws -> (model: String, imatrix: String) {
        let f16 = try LlamaRefereeTests.f16Model(in: folder)
        let imatrix = folder.appendingPathComponent("corpus.imatrix.gguf").path
        _ = try LlamaRefereeTests.lossy(["imatrix", f16, "--text", LlamaRefereeTests.text, "-o", imatrix])
        return (f16, imatrix)
    }

    @Test func targetSizeBeatsLlamaCppsRecipeAtItsSize() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (f16, imatrix) = try Self.f16AndImatrix(in: folder)

        // The F16 weights are Q4_1 values, which Q4_1 and Q5_1 recover almost exactly:
        // the last pair leaves them out so the allocator cannot lean on that.
        let withoutQ4_1 = "Q2_K,Q3_K,IQ4_XS,Q4_0,IQ4_NL,Q4_K,Q5_0,Q5_K,Q6_K,Q8_0,F16"
        let cases: [(name: String, imatrix: Bool, formats: String?)] = [
            ("plain", false, nil), ("imatrix", true, nil), ("plain-no-q4_1", false, withoutQ4_1),
        ]
        var pairs: [(name: String, theirs: String, ours: String)] = []
        for item in cases {
            let theirs = folder.appendingPathComponent("llama-\(item.name).gguf").path
            let ours = folder.appendingPathComponent("lossy-\(item.name).gguf").path
            let importance = item.imatrix ? ["--imatrix", imatrix] : []
            _ = try LlamaRefereeTests.python(["quantize", f16, theirs, "Q2_K"] + importance)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: theirs)[.size] as? Int)
            _ = try LlamaRefereeTests.lossy(["quantize", f16, "-o", ours, "--target-size", "\(size)B"] + importance
                                            + (item.formats.map { ["--formats", $0] } ?? []))
            let ourSize = try #require(try FileManager.default.attributesOfItem(atPath: ours)[.size] as? Int)
            #expect(ourSize <= size, "\(item.name): \(ourSize) bytes against llama.cpp's \(size)")
            pairs.append((item.name, theirs, ours))
        }
        let result = try OutputDivergenceTests.evaluate(f16, pairs.flatMap { [$0.theirs, $0.ours] }, worst: 1)
        for (i, pair) in pairs.enumerated() {
            let theirs = result.models[2 * i], ours = result.models[2 * i + 1]
            print("Q2_K size, \(pair.name): KL mean llama.cpp \(theirs.kl_mean) lossy \(ours.kl_mean); "
                  + "p99.9 \(theirs.kl_p999) / \(ours.kl_p999); max \(theirs.kl_max) / \(ours.kl_max)")
            #expect(ours.kl_mean < theirs.kl_mean, "\(pair.name): mean KL \(ours.kl_mean) against \(theirs.kl_mean)")
            #expect(ours.kl_p999 < theirs.kl_p999, "\(pair.name): p99.9 KL \(ours.kl_p999) against \(theirs.kl_p999)")
        }
    }

    /// With each role's KL per unit error measured (lossy calibrate) the
    /// allocator no longer spends on the tied embeddings, whose error the
    /// imatrix counts over every vocabulary row: at llama.cpp's IQ4_XS size
    /// with an imatrix, and without Q4_1/Q5_1, the calibrated choice beats
    /// both llama.cpp and the uncalibrated one.
    @Test func calibrationBeatsLlamaCppAtItsIQ4_XSSize() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (f16, imatrix) = try Self.f16AndImatrix(in: folder)
        let roles = folder.appendingPathComponent("roles.json").path
        let report = try LlamaRefereeTests.lossy(["calibrate", f16, "--text", LlamaRefereeTests.text, "--imatrix", imatrix, "-o", roles])
        #expect(report.contains("8 roles probed in IQ4_NL on 3025 tokens"), "\(report)")
        let calibration = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: roles))) as? [String: Any]
        let measured = try #require(calibration?["roles"] as? [[String: Any]])
        #expect(Set(measured.compactMap { $0["role"] as? String }) == [
            "token_embd.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
            "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
        ])
        #expect(measured.allSatisfy { ($0["kl_mean"] as? Double ?? 0) > 0 }, "\(measured)")

        let theirs = folder.appendingPathComponent("llama-IQ4_XS.gguf").path
        _ = try LlamaRefereeTests.python(["quantize", f16, theirs, "IQ4_XS", "--imatrix", imatrix])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: theirs)[.size] as? Int)
        let common = ["--target-size", "\(size)B", "--imatrix", imatrix, "--formats", "Q2_K,Q3_K,IQ4_XS,Q4_0,IQ4_NL,Q4_K,Q5_0,Q5_K,Q6_K,Q8_0,F16"]
        let plain = folder.appendingPathComponent("lossy-plain.gguf").path
        let calibrated = folder.appendingPathComponent("lossy-calibrated.gguf").path
        _ = try LlamaRefereeTests.lossy(["quantize", f16, "-o", plain] + common)
        let table = try LlamaRefereeTests.lossy(["quantize", f16, "-o", calibrated, "--calibration", roles] + common)
        #expect(table.contains("predicted KL") && table.contains("predicted mean KL"), "\(table)")
        let ourSize = try #require(try FileManager.default.attributesOfItem(atPath: calibrated)[.size] as? Int)
        #expect(ourSize <= size)

        let result = try OutputDivergenceTests.evaluate(f16, [theirs, plain, calibrated], worst: 1)
        let (llama, uncalibrated, ours) = (result.models[0], result.models[1], result.models[2])
        print("IQ4_XS size with imatrix, no Q4_1/Q5_1: KL mean llama.cpp \(llama.kl_mean), lossy \(uncalibrated.kl_mean), "
              + "calibrated \(ours.kl_mean); p99.9 \(llama.kl_p999) / \(uncalibrated.kl_p999) / \(ours.kl_p999)")
        #expect(ours.kl_mean < llama.kl_mean && ours.kl_p999 < llama.kl_p999, "calibrated \(ours), llama.cpp \(llama)")
        #expect(ours.kl_mean < uncalibrated.kl_mean && ours.kl_p999 < uncalibrated.kl_p999, "calibrated \(ours), uncalibrated \(uncalibrated)")
    }

    @Test func calibrateRefusesBadRequests() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let out = folder.appendingPathComponent("roles.json").path
        let text = LlamaRefereeTests.text
        for (arguments, message) in [
            (["--text", text, "-o", out, "--probe", "F16"], "--probe 'F16' is not a quantized block format"),
            (["--text", text, "-o", out, "--probe", "Q9_9"], "--probe 'Q9_9' is not a quantized block format"),
            (["--text", text, "-o", out, "--context", "8"], "--context must be 16…65536 tokens"),
            (["--text", folder.appendingPathComponent("none.txt").path, "-o", out], "cannot read"),
            (["--text", text, "-o", model], "the output \(model) is the input; choose another path"),
            (["--text", text, "-o", out, "--imatrix", folder.appendingPathComponent("none.dat").path], "cannot read"),
        ] {
            let run = try Lossy.run(["calibrate", model] + arguments)
            // A missing file is an input error (1); the rest are usage errors (64).
            #expect(run.status == (message == "cannot read" ? 1 : 64), "\(arguments): \(run.stderr)")
            #expect(run.stderr.hasPrefix("lossy: ") && run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    /// Half of every block matrix pruned, nothing quantized: Wanda's score,
    /// which weighs each weight by its input's activation, keeps the outputs
    /// closer than magnitude alone; 2:4 is reported beside them.
    @Test func wandaLosesLessThanMagnitudeAtHalf() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (f16, imatrix) = try Self.f16AndImatrix(in: folder)
        var models: [String] = []
        for (name, method) in [("magnitude", "magnitude"), ("wanda", "wanda"), ("two-four", "2:4")] {
            let output = folder.appendingPathComponent("\(name).gguf").path
            var arguments = ["quantize", f16, "-o", output, "--type", "F16", "--prune-method", method]
            if method != "2:4" { arguments += ["--prune", "0.5"] }
            if method != "magnitude" { arguments += ["--imatrix", imatrix] }
            _ = try LlamaRefereeTests.lossy(arguments)
            models.append(output)
        }
        let result = try OutputDivergenceTests.evaluate(f16, models, worst: 1)
        let (magnitude, wanda, twoFour) = (result.models[0], result.models[1], result.models[2])
        print("50 % pruned: KL mean magnitude \(magnitude.kl_mean), wanda \(wanda.kl_mean), 2:4 \(twoFour.kl_mean); "
              + "p99.9 \(magnitude.kl_p999) / \(wanda.kl_p999) / \(twoFour.kl_p999)")
        #expect(wanda.kl_mean < magnitude.kl_mean, "Wanda \(wanda.kl_mean) against magnitude \(magnitude.kl_mean)")
        #expect(wanda.kl_p999 < magnitude.kl_p999, "Wanda \(wanda.kl_p999) against magnitude \(magnitude.kl_p999)")
        // 2:4 is the most constrained pattern: more lost than unstructured Wanda.
        #expect(twoFour.kl_mean > wanda.kl_mean)
    }
}
