import Foundation

/// A Hugging Face LLaMA-family checkpoint (config.json, tokenizer.json,
/// safetensors) presented as the GGUF llama.cpp loads: the `llama`
/// architecture's metadata, its tensor names, the byte-level BPE tokenizer,
/// and query/key rows reordered for llama.cpp's rotary embedding.
///
/// The mapping restates what llama.cpp's convert_hf_to_gguf.py does for
/// LlamaForCausalLM: HF stores each attention head's rotary pairs as two
/// halves (x₀…x_{d/2−1}, x_{d/2}…x_{d−1}), llama.cpp interleaves them
/// (x₀, x_{d/2}, x₁, …), so within every head of q_proj and k_proj output
/// row 2i + j takes HF row j·d/2 + i.
public struct LlamaCheckpoint: TensorSource {
    public let checkpoint: SafetensorsCheckpoint
    public let metadata: GGUFMetadata
    public let tensors: [GGUFTensorInfo]
    /// Per output tensor: the HF tensor, the heads to interleave (0: none),
    /// and whether it is widened to F32.
    private let sources: [(tensor: SafetensorsTensorInfo, heads: Int, widened: Bool)]

    /// Architectures that llama.cpp loads as `llama` with these names.
    public static let architectures: Set<String> = ["LlamaForCausalLM", "MistralForCausalLM"]

    /// Whether the folder's config.json describes a model this converts.
    public static func describesLlama(folder: URL) -> Bool {
        guard let config = try? JSONObject(contentsOf: folder.appendingPathComponent("config.json")) else { return false }
        let names = (config["architectures"] as? [String]) ?? []
        return names.contains(where: architectures.contains) || (config["model_type"] as? String) == "llama"
    }

    public init(folder: URL, checkpoint: SafetensorsCheckpoint) throws {
        self.checkpoint = checkpoint
        let config = try JSONObject(contentsOf: folder.appendingPathComponent("config.json"))
        let hyper = try LlamaHyperparameters(config: config)
        var metadata: GGUFMetadata = [
            "general.architecture": .string("llama"),
            "general.type": .string("model"),
            "general.name": .string((config["_name_or_path"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent }
                                    ?? folder.lastPathComponent),
            "llama.block_count": .uint32(UInt32(hyper.layers)),
            "llama.context_length": .uint32(UInt32(hyper.contextLength)),
            "llama.embedding_length": .uint32(UInt32(hyper.hidden)),
            "llama.feed_forward_length": .uint32(UInt32(hyper.feedForward)),
            "llama.attention.head_count": .uint32(UInt32(hyper.heads)),
            "llama.attention.head_count_kv": .uint32(UInt32(hyper.kvHeads)),
            "llama.rope.freq_base": .float32(Float(hyper.ropeTheta)),
            "llama.attention.layer_norm_rms_epsilon": .float32(Float(hyper.rmsNormEpsilon)),
            "llama.vocab_size": .uint32(UInt32(hyper.vocabSize)),
            "llama.rope.dimension_count": .uint32(UInt32(hyper.headDimension)),
        ]
        let tokenizer = try HuggingFaceTokenizer(folder: folder, config: config, vocabSize: hyper.vocabSize)
        for entry in tokenizer.metadata { metadata[entry.key] = entry.value }
        self.metadata = metadata

        var infos: [GGUFTensorInfo] = []
        var sources: [(SafetensorsTensorInfo, Int, Bool)] = []
        for tensor in checkpoint.tensors {
            guard let name = try Self.ggufName(of: tensor.name) else { continue }
            if name == "output.weight" && hyper.tiedEmbeddings { continue }
            let heads = name.hasSuffix("attn_q.weight") ? hyper.heads : name.hasSuffix("attn_k.weight") ? hyper.kvHeads : 0
            if heads > 0 {
                guard tensor.shape.count == 2, tensor.shape[0] % (2 * heads) == 0 else {
                    throw ConversionError.badShape(tensor: tensor.name, shape: tensor.shape, reason: "rows are not \(heads) heads of rotary pairs")
                }
            }
            // llama.cpp multiplies by norm gains in F32 only, as its converter stores them.
            let stored = try SafetensorsSource.storedType(of: tensor)
            let vector = tensor.shape.count == 1
            infos.append(GGUFTensorInfo(name: name, shape: tensor.ggmlShape, type: vector ? .f32 : stored))
            sources.append((tensor, heads, vector && stored != .f32))
        }
        guard infos.contains(where: { $0.name == "token_embd.weight" }) else { throw ConversionError.missingTensor("model.embed_tokens.weight") }
        tensors = infos
        self.sources = sources
    }

    public func storedBytes(of index: Int) -> UnsafeRawBufferPointer? {
        let (tensor, heads, widened) = sources[index]
        return heads == 0 && !widened && tensor.dataType != .u8 ? checkpoint.data(of: tensor) : nil
    }

    public func release(_ index: Int) { checkpoint.release(sources[index].tensor) }

    public func values(of index: Int, rows: Range<Int>, into values: UnsafeMutableBufferPointer<Float>) throws {
        let (tensor, heads, _) = sources[index]
        let type = try tensor.requireDataType(), data = checkpoint.data(of: tensor)
        let rowLength = tensors[index].shape.first ?? 1, rowBytes = rowLength * type.byteWidth
        _ = Self.elements(of: rows, in: tensors[index])
        guard heads > 0 else {
            type.widen(UnsafeRawBufferPointer(rebasing: data[(rows.lowerBound * rowBytes)..<(rows.upperBound * rowBytes)]),
                       into: values)
            return
        }
        // HF stores each head's rotary pairs as two halves; llama.cpp
        // interleaves them: row 2i + j of a head is the HF head's row j·half + i.
        let headRows = tensor.shape[0] / heads, half = headRows / 2
        for (slot, row) in rows.enumerated() {
            let head = row / headRows, within = row % headRows
            let source = head * headRows + (within % 2) * half + within / 2
            type.widen(UnsafeRawBufferPointer(rebasing: data[(source * rowBytes)..<((source + 1) * rowBytes)]),
                       into: UnsafeMutableBufferPointer(rebasing: values[(slot * rowLength)..<((slot + 1) * rowLength)]))
        }
    }

    /// llama.cpp's name for an HF tensor; nil for buffers it does not keep.
    static func ggufName(of name: String) throws(ConversionError) -> String? {
        let fixed = [
            "model.embed_tokens.weight": "token_embd.weight",
            "model.norm.weight": "output_norm.weight",
            "lm_head.weight": "output.weight",
        ]
        if let mapped = fixed[name] { return mapped }
        let perLayer = [
            "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
            "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
            "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
            "mlp.down_proj.weight": "ffn_down.weight", "input_layernorm.weight": "attn_norm.weight",
            "post_attention_layernorm.weight": "ffn_norm.weight",
        ]
        let prefix = "model.layers."
        if name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            let digits = rest.prefix { $0.isNumber }
            if !digits.isEmpty, rest.dropFirst(digits.count).first == "." {
                let suffix = String(rest.dropFirst(digits.count + 1))
                if suffix == "self_attn.rotary_emb.inv_freq" { return nil }
                if let mapped = perLayer[suffix] { return "blk.\(digits).\(mapped)" }
            }
        }
        throw .unknownTensor(name)
    }
}

/// The numbers of a LLaMA config.json that the GGUF needs.
struct LlamaHyperparameters {
    var hidden, feedForward, layers, heads, kvHeads, headDimension, vocabSize, contextLength: Int
    var ropeTheta, rmsNormEpsilon: Double
    var tiedEmbeddings: Bool

    init(config: [String: Any]) throws(ConversionError) {
        func integer(_ key: String) throws(ConversionError) -> Int {
            guard let value = config[key] as? Int, value > 0, value < 1 << 31 else { throw .badConfig(key) }
            return value
        }
        hidden = try integer("hidden_size")
        feedForward = try integer("intermediate_size")
        layers = try integer("num_hidden_layers")
        heads = try integer("num_attention_heads")
        kvHeads = (config["num_key_value_heads"] as? Int) ?? heads
        vocabSize = try integer("vocab_size")
        contextLength = (config["max_position_embeddings"] as? Int) ?? 2048
        headDimension = (config["head_dim"] as? Int) ?? hidden / heads
        ropeTheta = (config["rope_theta"] as? NSNumber)?.doubleValue ?? 10_000
        rmsNormEpsilon = (config["rms_norm_eps"] as? NSNumber)?.doubleValue ?? 1e-6
        tiedEmbeddings = (config["tie_word_embeddings"] as? NSNumber)?.boolValue ?? false
        guard kvHeads > 0, heads % kvHeads == 0 else { throw .badConfig("num_key_value_heads") }
        guard headDimension * heads == hidden, headDimension % 2 == 0 else { throw .badConfig("head_dim") }
        if let scaling = config["rope_scaling"], !(scaling is NSNull) {
            throw .unsupported("rope_scaling in config.json (llama.cpp needs its scaling factors as a tensor)")
        }
    }
}

/// A JSON file's top-level object.
func JSONObject(contentsOf url: URL) throws(ConversionError) -> [String: Any] {
    guard let data = try? Data(contentsOf: url) else { throw .missingFile(url.path) }
    guard data.count <= 64 << 20 else { throw .badJSON(url.path) }
    guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw .badJSON(url.path) }
    return object
}

public enum ConversionError: Error, Equatable, CustomStringConvertible {
    case missingFile(String)
    case badJSON(String)
    case badConfig(String)
    case unsupported(String)
    case unknownTensor(String)
    case missingTensor(String)
    case badShape(tensor: String, shape: [Int], reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path): return "\(path) is missing"
        case let .badJSON(path): return "\(path) is not a JSON object"
        case let .badConfig(key): return "config.json: '\(key)' is missing or not a sensible positive integer"
        case let .unsupported(what): return "cannot convert \(what)"
        case let .unknownTensor(name): return "tensor '\(name)' has no place in llama.cpp's llama architecture"
        case let .missingTensor(name): return "the checkpoint has no '\(name)'"
        case let .badShape(tensor, shape, reason):
            return "tensor '\(tensor)' of shape \(shape.map(String.init).joined(separator: "×")): \(reason)"
        }
    }
}
