/// A LLaMA-shaped model of random F16 weights, written tensor by tensor in
/// bounded memory: input for memory benchmarks at sizes no bundled model has.
/// llama.cpp's quantizer accepts it (the hyperparameters and tensor names
/// are LLaMA's), though it has no vocabulary and cannot run.
public struct SyntheticLlama: Sendable {
    public var embedding: Int
    public var feedForward: Int
    public var layers: Int
    public var vocabulary: Int
    public var heads: Int

    public init(embedding: Int, feedForward: Int, layers: Int, vocabulary: Int, heads: Int) {
        self.embedding = embedding
        self.feedForward = feedForward
        self.layers = layers
        self.vocabulary = vocabulary
        self.heads = heads
    }

    /// TinyLlama-1.1B's widths (2048, 5632, vocabulary 32000), with as many
    /// layers as bring the F16 file nearest to `bytes` (at least one).
    public static func sized(bytes: Int) -> SyntheticLlama {
        var model = SyntheticLlama(embedding: 2048, feedForward: 5632, layers: 1, vocabulary: 32000, heads: 32)
        let perLayer = model.layerTensors(0).reduce(0) { $0 + $1.byteCount }
        let fixed = model.tensors.reduce(0) { $0 + $1.byteCount } - perLayer
        model.layers = max(1, Int((Double(bytes - fixed) / Double(perLayer)).rounded()))
        return model
    }

    public var metadata: GGUFMetadata {
        [
            "general.architecture": .string("llama"), "general.name": .string("synthetic"),
            "general.file_type": .uint32(LlamaFileType.mostlyF16.rawValue),
            "llama.block_count": .uint32(UInt32(layers)), "llama.context_length": .uint32(2048),
            "llama.embedding_length": .uint32(UInt32(embedding)),
            "llama.feed_forward_length": .uint32(UInt32(feedForward)),
            "llama.attention.head_count": .uint32(UInt32(heads)),
            "llama.attention.head_count_kv": .uint32(UInt32(heads)),
            "llama.attention.layer_norm_rms_epsilon": .float32(1e-5),
            "llama.vocab_size": .uint32(UInt32(vocabulary)),
        ]
    }

    /// Matrices in F16, norms in F32, as llama.cpp's converter stores them.
    public var tensors: [GGUFTensorInfo] {
        [GGUFTensorInfo(name: "token_embd.weight", shape: [embedding, vocabulary], type: .f16)]
            + (0..<layers).flatMap(layerTensors)
            + [GGUFTensorInfo(name: "output_norm.weight", shape: [embedding], type: .f32),
               GGUFTensorInfo(name: "output.weight", shape: [embedding, vocabulary], type: .f16)]
    }

    private func layerTensors(_ layer: Int) -> [GGUFTensorInfo] {
        func matrix(_ role: String, _ rowLength: Int, _ rows: Int) -> GGUFTensorInfo {
            GGUFTensorInfo(name: "blk.\(layer).\(role).weight", shape: [rowLength, rows], type: .f16)
        }
        func norm(_ role: String) -> GGUFTensorInfo {
            GGUFTensorInfo(name: "blk.\(layer).\(role).weight", shape: [embedding], type: .f32)
        }
        return [norm("attn_norm"), matrix("attn_q", embedding, embedding), matrix("attn_k", embedding, embedding),
                matrix("attn_v", embedding, embedding), matrix("attn_output", embedding, embedding), norm("ffn_norm"),
                matrix("ffn_gate", embedding, feedForward), matrix("ffn_up", embedding, feedForward),
                matrix("ffn_down", feedForward, embedding)]
    }

    /// Writes the model: Gaussian-like weights (σ ≈ 0.02, from a fixed
    /// seed) made and written 1 Mi values at a time; norms are ones.
    public func write(to path: String) throws {
        let writer = try GGUFWriter(metadata: metadata, tensors: tensors)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var f16 = [UInt16](repeating: 0, count: 1 << 20)
        try writer.write(to: path) { index, sink in
            let tensor = tensors[index]
            guard tensor.type == .f16 else {
                try sink.write(contentsOf: [Float](repeating: 1, count: tensor.elementCount))
                return
            }
            var left = tensor.elementCount
            while left > 0 {
                let count = min(left, f16.count)
                for i in 0..<count {
                    // SplitMix64, then the sum of four uniforms: near-Gaussian, cheap.
                    state &+= 0x9E37_79B9_7F4A_7C15
                    var z = state
                    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                    z ^= z >> 31
                    let sum = Float(z & 0xFFFF) + Float((z >> 16) & 0xFFFF) + Float((z >> 32) & 0xFFFF) + Float(z >> 48)
                    f16[i] = Float16((sum / 65536 - 2) * 0.035).bitPattern
                }
                try sink.write(contentsOf: Array(f16[0..<count]))
                left -= count
            }
        }
    }
}
