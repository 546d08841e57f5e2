import Foundation
import RateDistortion

/// What a compressed model's outputs lose against the original's, token by
/// token of a text, as llama.cpp computes them: the KL divergence of the
/// next-token distributions with its tail, top-1 agreement, both
/// perplexities, and the tokens where the two disagree most, in context.
public struct OutputDivergence: Sendable {
    /// One of the worst tokens.
    public struct Token: Sendable, Hashable {
        /// Position in the text's tokens.
        public var position: Int
        public var kl: Double
        /// The text just before the token, the token itself, and each model's first choice there.
        public var context: String
        public var token: String
        public var referenceGuess: String
        public var modelGuess: String
        /// Probability each model gave the actual token.
        public var referenceProbability: Double
        public var modelProbability: Double
    }

    public var path: String
    public var kl: SampleTail
    public var topAgreement: Double
    public var referencePerplexity: Double
    public var perplexity: Double
    public var worst: [Token]

    public var tokens: Int { kl.count }

    /// Evaluates every model against `reference` on the text at `textPath`.
    public static func measure(
        reference: String, models: [String], textPath: String, context: Int = 4096, worstCount: Int = 10,
        runner: LlamaRunner = LlamaRunner()
    ) throws -> [OutputDivergence] {
        let data = try runner.run("evaluate", ["--reference", reference, "--text", textPath, "--context", String(context)] + models)
        let answer: RunnerAnswer
        do { answer = try JSONDecoder().decode(RunnerAnswer.self, from: data) } catch {
            throw LlamaRunnerError.failed(command: "evaluate", message: "unreadable answer (\(error))")
        }
        return try answer.models.map { try summarise($0, answer: answer, worstCount: worstCount) }
    }

    /// One way to quantize a source: a type per tensor.
    public struct Variant: Sendable {
        public var name: String
        public var types: [GGMLType]
        public var fileType: LlamaFileType

        public init(name: String, types: [GGMLType], fileType: LlamaFileType) {
            self.name = name
            self.types = types
            self.fileType = fileType
        }
    }

    /// Writes each variant of `source` to a temporary GGUF, runs llama.cpp
    /// once on the text with all of them against `reference`, and removes
    /// the files: one result per variant, in order.
    public static func measure(
        reference: String, source: any TensorSource, variants: [Variant], importance: ImportanceMatrix?,
        textPath: String, context: Int = 4096, progress: (String) -> Void = { _ in }
    ) throws -> [OutputDivergence] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-variants-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var paths = [String]()
        for (number, variant) in variants.enumerated() {
            let quantizer = try ModelQuantizer(source: source, types: variant.types, fileType: variant.fileType,
                                               importance: importance)
            let path = folder.appendingPathComponent("\(number).gguf").path
            _ = try quantizer.write(to: path) { index, tensor in
                progress("writing \(variant.name) [\(index + 1)/\(quantizer.plan.count)] \(tensor.name)")
            }
            paths.append(path)
        }
        progress("llama.cpp: \(paths.count) models against the input on \(URL(fileURLWithPath: textPath).lastPathComponent)")
        return try measure(reference: reference, models: paths, textPath: textPath, context: context, worstCount: 0)
    }

    struct RunnerAnswer: Decodable {
        struct Piece: Decodable { var id: Int; var text: String }
        struct Scores: Decodable {
            var path: String
            var kl: [Double]?
            var logprob: [Double]
            var top: [Int]
        }
        var tokens: [Piece]
        /// The text of every token some model guessed.
        var pieces: [String: String]?
        var scored: [Int]
        var reference: Scores
        var models: [Scores]
    }

    static func summarise(_ model: RunnerAnswer.Scores, answer: RunnerAnswer, worstCount: Int) throws -> OutputDivergence {
        let count = answer.scored.count
        guard count > 0, let kl = model.kl, kl.count == count, model.logprob.count == count, model.top.count == count,
              answer.reference.logprob.count == count, answer.reference.top.count == count,
              answer.scored.allSatisfy({ answer.tokens.indices.contains($0) && $0 > 0 })
        else { throw LlamaRunnerError.failed(command: "evaluate", message: "the answer's arrays do not match its tokens") }
        var vocabulary = Dictionary(answer.tokens.map { ($0.id, $0.text) }, uniquingKeysWith: { a, _ in a })
        for (id, text) in answer.pieces ?? [:] { if let id = Int(id) { vocabulary[id] = text } }
        func text(_ id: Int) -> String { vocabulary[id] ?? "#\(id)" }
        let agreements = zip(model.top, answer.reference.top).filter { $0 == $1 }.count
        func perplexity(_ logprobs: [Double]) -> Double { exp(-logprobs.reduce(0, +) / Double(logprobs.count)) }
        let worst = SampleTail.worst(kl, count: worstCount).map { i -> Token in
            let position = answer.scored[i]
            let before = answer.tokens[max(0, position - 12)..<position].map(\.text).joined()
            return Token(
                position: position, kl: kl[i], context: before, token: answer.tokens[position].text,
                referenceGuess: text(answer.reference.top[i]), modelGuess: text(model.top[i]),
                referenceProbability: exp(answer.reference.logprob[i]), modelProbability: exp(model.logprob[i]))
        }
        return OutputDivergence(
            path: model.path, kl: SampleTail(kl), topAgreement: Double(agreements) / Double(count),
            referencePerplexity: perplexity(answer.reference.logprob), perplexity: perplexity(model.logprob), worst: worst)
    }
}

extension OutputDivergence {
    /// One row per model: size, agreement, KL mean and tail, perplexities.
    public static func table(_ results: [OutputDivergence], sizes: [Int]) -> ReportTable {
        var table = ReportTable(columns: [
            .init("model", key: "model"),
            .init("size", unit: "MiB", key: "mib", decimals: 2),
            .init("tokens", key: "tokens", decimals: 0),
            .init("top-1", unit: "%", key: "top1_percent", decimals: 2),
            .init("KL mean", key: "kl_mean", decimals: 5),
            .init("KL p99", key: "kl_p99", decimals: 4),
            .init("KL p99.9", key: "kl_p999", decimals: 4),
            .init("KL max", key: "kl_max", decimals: 4),
            .init("PPL ref", key: "ppl_reference", decimals: 3),
            .init("PPL", key: "ppl", decimals: 3),
        ])
        for (result, size) in zip(results, sizes) {
            table.append([
                .text(result.path), .number(Double(size) / 1_048_576), .integer(result.tokens),
                .number(100 * result.topAgreement), .number(result.kl.mean), .number(result.kl.percentile(99)),
                .number(result.kl.percentile(99.9)), .number(result.kl.max),
                .number(result.referencePerplexity), .number(result.perplexity),
            ])
        }
        return table
    }

    /// The worst tokens of one model, with the text before each.
    public func worstTable() -> ReportTable {
        var table = ReportTable(columns: [
            .init("position", key: "position", decimals: 0),
            .init("KL", key: "kl", decimals: 4),
            .init("context", key: "context"),
            .init("token", key: "token"),
            .init("p ref", key: "p_reference", decimals: 3),
            .init("p", key: "p_model", decimals: 3),
            .init("ref's guess", key: "reference_guess"),
            .init("model's guess", key: "model_guess"),
        ])
        func shown(_ text: String) -> String { "'" + text.replacingOccurrences(of: "\n", with: "⏎") + "'" }
        for token in worst {
            table.append([
                .integer(token.position), .number(token.kl), .text(shown(token.context)), .text(shown(token.token)),
                .number(token.referenceProbability), .number(token.modelProbability),
                .text(shown(token.referenceGuess)), .text(shown(token.modelGuess)),
            ])
        }
        return table
    }
}
