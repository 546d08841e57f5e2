import Foundation

/// The sums an importance matrix is made of, per weight matrix: Σx_j² of
/// the input column j over every token that went through it, and the number
/// of tokens. Collected by llama.cpp on a text (the computation its
/// llama-imatrix tool does, through the bundled runner) and written in
/// llama-imatrix's GGUF format, which both lossy and llama-quantize read.
public struct ActivationStatistics: Sendable {
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var count: Double
        public var sumOfSquares: [Float]
    }

    /// By name.
    public var entries: [Entry]
    public var chunkCount: Int
    public var chunkSize: Int
    public var dataset: String

    /// Runs `model` over the text at `textPath` in chunks of `chunkSize` tokens.
    public static func collect(model: String, textPath: String, chunkSize: Int = 512,
                               runner: LlamaRunner = LlamaRunner()) throws -> ActivationStatistics {
        let data = try runner.run("imatrix", [model, "--text", textPath, "--context", String(chunkSize)])
        struct Answer: Decodable {
            struct Tensor: Decodable { var count: Double; var sum2: [Double] }
            var chunk_count: Int
            var chunk_size: Int
            var dataset: String
            var tensors: [String: Tensor]
        }
        let answer: Answer
        do { answer = try JSONDecoder().decode(Answer.self, from: data) } catch {
            throw LlamaRunnerError.failed(command: "imatrix", message: "unreadable answer (\(error))")
        }
        let entries = try answer.tensors.sorted { $0.key < $1.key }.map { name, tensor -> Entry in
            guard tensor.count > 0, !tensor.sum2.isEmpty, tensor.sum2.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw LlamaRunnerError.failed(command: "imatrix", message: "bad sums for \(name)")
            }
            return Entry(name: name, count: tensor.count, sumOfSquares: tensor.sum2.map(Float.init))
        }
        return ActivationStatistics(entries: entries, chunkCount: answer.chunk_count, chunkSize: answer.chunk_size,
                                    dataset: answer.dataset)
    }

    /// E[x²] per column, as the quantizer uses it.
    public var importance: ImportanceMatrix {
        ImportanceMatrix(entries: Dictionary(uniqueKeysWithValues: entries.map { entry in
            (entry.name, entry.sumOfSquares.map { Float(Double($0) / entry.count) })
        }))
    }

    /// Writes llama-imatrix's GGUF layout: `NAME.in_sum2` (F32, one row of
    /// columns) and `NAME.counts` (F32, one value) per matrix, with the
    /// dataset, chunk count and chunk size in the metadata.
    public func write(to path: String) throws {
        let metadata: GGUFMetadata = [
            "general.type": .string("imatrix"),
            "imatrix.datasets": .array(GGUFArray(strings: [dataset])),
            "imatrix.chunk_count": .uint32(UInt32(chunkCount)),
            "imatrix.chunk_size": .uint32(UInt32(chunkSize)),
        ]
        let infos = entries.flatMap { entry in
            [GGUFTensorInfo(name: entry.name + ".in_sum2", shape: [entry.sumOfSquares.count, 1], type: .f32),
             GGUFTensorInfo(name: entry.name + ".counts", shape: [1, 1], type: .f32)]
        }
        try GGUFWriter(metadata: metadata, tensors: infos).write(to: path) { index, sink in
            let entry = entries[index / 2]
            try sink.write(contentsOf: index % 2 == 0 ? entry.sumOfSquares.map { $0.bitPattern.littleEndian }
                                                      : [Float(entry.count).bitPattern.littleEndian])
        }
    }
}
