/// Which block format each tensor of a model gets: llama-quantize's
/// recipes, by file type name, with its rules for the tensors that matter
/// most (attention V, FFN down, the output and token embeddings), its
/// fallbacks for rows that are not a whole number of blocks, and
/// `--tensor-type REGEX=TYPE` overrides.
///
/// The rules restate llama.cpp's `llama_tensor_get_type` (src/llama-quant.cpp)
/// for the file types listed in `LlamaFileType`; tests check our choice for
/// SmolLM2-135M against the types llama.cpp's own quantizer writes.
public struct QuantizationRecipe {
    /// What the recipe needs to know of the model (from GGUF metadata).
    public struct ModelShape: Sendable, Hashable {
        public var layerCount: Int
        public var headCount: Int
        public var kvHeadCount: Int
        public var expertCount: Int
        public var architecture: String

        public init(layerCount: Int, headCount: Int, kvHeadCount: Int, expertCount: Int = 0, architecture: String = "llama") {
            self.layerCount = layerCount
            self.headCount = headCount
            self.kvHeadCount = kvHeadCount
            self.expertCount = expertCount
            self.architecture = architecture
        }

        /// Query heads per key/value head (grouped-query attention).
        var groupedQueryFactor: Int { kvHeadCount > 0 ? headCount / kvHeadCount : 1 }
    }

    /// One tensor as the recipe sees it.
    public struct Tensor: Sendable, Hashable {
        public var name: String
        /// ggml order: shape[0] is the row length.
        public var shape: [Int]
        public var type: GGMLType

        public init(name: String, shape: [Int], type: GGMLType) {
            self.name = name
            self.shape = shape
            self.type = type
        }

        public init(_ info: GGUFTensorInfo) {
            self.init(name: info.name, shape: info.shape, type: info.type)
        }
    }

    /// A `--tensor-type` rule: tensors whose name matches get `type`.
    public struct Override {
        public var pattern: String
        public var type: GGMLType
        let regex: Regex<AnyRegexOutput>

        public init(pattern: String, type: GGMLType) throws {
            self.pattern = pattern
            self.type = type
            self.regex = try Regex(pattern)
        }

        /// Parses `REGEX=TYPE` (llama-quantize's syntax).
        public init(parsing text: String) throws(RecipeError) {
            guard let equals = text.lastIndex(of: "="), equals != text.startIndex else {
                throw .badOverride(text, reason: "expected REGEX=TYPE")
            }
            let typeName = String(text[text.index(after: equals)...])
            guard let type = GGMLType(name: typeName), GGMLType.writable.contains(type) else {
                throw .badOverride(text, reason: "'\(typeName)' is not a type lossy writes")
            }
            do { try self.init(pattern: String(text[..<equals]), type: type) } catch {
                throw .badOverride(text, reason: "the pattern is not a regular expression")
            }
        }

        func matches(_ name: String) -> Bool { (try? regex.firstMatch(in: name)) != nil }
    }

    public var fileType: LlamaFileType
    public var overrides: [Override]
    /// Every quantizable tensor gets the default type (llama-quantize --pure).
    public var pure: Bool
    public var hasImportanceMatrix: Bool

    public init(fileType: LlamaFileType, overrides: [Override] = [], pure: Bool = false, hasImportanceMatrix: Bool = false) {
        self.fileType = fileType
        self.overrides = overrides
        self.pure = pure
        self.hasImportanceMatrix = hasImportanceMatrix
    }

    /// The type of every tensor, in order.
    public func types(for tensors: [Tensor], model: ModelShape) -> [GGMLType] {
        var counters = LayerCounters(model: model, tensors: tensors)
        return tensors.map { tensor in
            guard Self.allowsQuantization(tensor) else { return tensor.type }
            var type = fileType.defaultType
            // F32/F16/BF16 files convert every matrix alike: no rules, no overrides.
            guard type.isQuantized else { return type }
            if let rule = overrides.first(where: { $0.matches(tensor.name) }) {
                type = rule.type
            } else if !pure {
                type = refine(type, for: tensor, model: model, counters: &counters)
            }
            return Self.fallback(type, rowLength: tensor.shape[0])
        }
    }

    /// llama.cpp quantizes only matrices named "…weight", never norms,
    /// expert routers or positional tables.
    public static func allowsQuantization(_ tensor: Tensor) -> Bool {
        let name = tensor.name
        // ggml's dimension count: trailing dimensions of 1 do not count.
        let dimensions = (tensor.shape.lastIndex { $0 > 1 } ?? 0) + 1
        guard dimensions >= 2 else { return false }
        guard name.hasSuffix("weight"), !name.contains("_norm.weight") else { return false }
        let kept = ["ffn_gate_inp.weight", "position_embd.weight", "token_types.weight", "ssm_conv1d", "attn_rel_b.weight"]
        return !kept.contains { name.contains($0) }
    }

    /// Rows that are not a whole number of blocks take the nearest format
    /// whose block fits (llama.cpp's `tensor_type_fallback`), F16 when
    /// even 32 does not divide them.
    public static func fallback(_ type: GGMLType, rowLength: Int) -> GGMLType {
        guard rowLength % type.blockWeights != 0 else { return type }
        let replacement: GGMLType
        switch type {
        case .iq4_xs: replacement = .iq4_nl
        case .q2_K, .q3_K, .tq2_0, .tq1_0: replacement = .q4_0
        case .q4_K: replacement = .q5_0
        case .q5_K: replacement = .q5_1
        case .q6_K: replacement = .q8_0
        default: replacement = .f16
        }
        return rowLength % replacement.blockWeights == 0 ? replacement : .f16
    }

    private enum Role { case output, tokenEmbedding, attentionV, attentionK, attentionQ, attentionOutput, ffnDown, ffnGate, ffnUp, other }

    private static func role(of name: String) -> Role {
        if name == "output.weight" { return .output }
        if name == "token_embd.weight" { return .tokenEmbedding }
        // Fused QKV and MLA's KV projections carry V, and are treated as V.
        if name.contains("attn_qkv.weight") || name.contains("attn_v.weight") || name.contains("attn_kv_b.weight") {
            return .attentionV
        }
        if name.contains("attn_k.weight") { return .attentionK }
        if name.contains("attn_q.weight") { return .attentionQ }
        if name.contains("attn_output.weight") { return .attentionOutput }
        if name.contains("ffn_down") { return .ffnDown }
        if name.contains("ffn_gate") { return .ffnGate }
        if name.contains("ffn_up") { return .ffnUp }
        return .other
    }

    /// Counts of tensors by role, for tensors outside numbered layers.
    private struct LayerCounters {
        var attentionV = 0
        var ffnDown = 0
        let attentionVCount: Int
        let layerCount: Int
        let tiedEmbeddings: Bool

        init(model: ModelShape, tensors: [Tensor]) {
            attentionVCount = tensors.filter { role(of: $0.name) == .attentionV }.count
            layerCount = model.layerCount
            tiedEmbeddings = !tensors.contains { $0.name == "output.weight" }
        }
    }

    /// N of a tensor named "blk.N.…": llama.cpp walks tensors in layer
    /// order, so a layer's rank among its kind is its number.
    private static func layer(of name: String) -> Int? {
        guard name.hasPrefix("blk.") else { return nil }
        return Int(name.dropFirst(4).prefix { $0.isNumber })
    }

    /// More bits for the first and last eighth of the layers and every third between.
    private static func usesMoreBits(_ layer: Int, of count: Int) -> Bool {
        layer < count / 8 || layer >= 7 * count / 8 || (layer - count / 8) % 3 == 2
    }

    /// The output projection gets 6 bits (8 where its rows do not fit the blocks).
    private static func outputType(_ base: GGMLType, rowLength: Int, architecture: String) -> GGMLType {
        if rowLength % base.blockWeights != 0 || architecture == "falcon" { return .q8_0 }
        return base == .q8_0 ? .q8_0 : .q6_K
    }

    private func refine(_ base: GGMLType, for tensor: Tensor, model: ModelShape, counters: inout LayerCounters) -> GGMLType {
        var type = base
        let role = Self.role(of: tensor.name)
        let gqa = model.groupedQueryFactor
        switch role {
        case .output:
            type = Self.outputType(base, rowLength: tensor.shape[0], architecture: model.architecture)
        case .tokenEmbedding:
            // Tied embeddings are the output projection too, and are treated as it.
            if counters.tiedEmbeddings {
                type = Self.outputType(base, rowLength: tensor.shape[0], architecture: model.architecture)
            } else if fileType == .tq2_0 {
                type = .q4_K
            }
        case .attentionV:
            let index = Self.layer(of: tensor.name) ?? counters.attentionV
            switch fileType {
            case .q2_K: type = gqa >= 4 ? .q4_K : .q3_K
            case .q2_K_S where gqa >= 4: type = .q4_K
            case .q3_K_M: type = index < 2 ? .q5_K : .q4_K
            case .q3_K_L: type = .q5_K
            case .iq4_nl, .iq4_xs: if gqa >= 4 { type = .q5_K }
            case .q4_K_M, .q5_K_M: if Self.usesMoreBits(index, of: counters.attentionVCount) { type = .q6_K }
            case .q4_K_S: if index < 4 { type = .q5_K }
            default: break
            }
            if model.expertCount == 8 { type = .q8_0 }
            counters.attentionV += 1
        case .attentionK:
            if model.expertCount == 8 { type = .q8_0 }
        case .ffnDown:
            let layer = Self.layer(of: tensor.name) ?? counters.ffnDown, layers = counters.layerCount
            switch fileType {
            case .q2_K: type = .q3_K
            case .q2_K_S: if layer < layers / 8 { type = .q4_K }
            case .q3_K_M:
                type = layer < layers / 16 ? .q5_K
                    : model.architecture != "falcon" || Self.usesMoreBits(layer, of: layers) ? .q4_K : .q3_K
            case .q3_K_L: type = model.architecture == "falcon" ? .q4_K : .q5_K
            case .q4_K_M:
                if model.architecture == "falcon" {
                    type = layer < layers / 16 ? .q6_K : Self.usesMoreBits(layer, of: layers) ? .q5_K : .q4_K
                } else if Self.usesMoreBits(layer, of: layers) {
                    type = .q6_K
                }
            case .iq4_nl, .iq4_xs: if layer < layers / 8 && !hasImportanceMatrix { type = .q5_K }
            case .q5_K_M: if Self.usesMoreBits(layer, of: layers) { type = .q6_K }
            case .q4_K_S: if model.architecture != "falcon" && layer < layers / 8 { type = .q5_K }
            case .q4_0, .q5_0:
                if hasImportanceMatrix && layer < layers / 8 { type = fileType == .q4_0 ? .q4_1 : .q5_1 }
            default: break
            }
            counters.ffnDown += 1
        case .attentionOutput:
            if model.architecture != "falcon" {
                if model.expertCount == 8 {
                    if [.q2_K, .q3_K_S, .q3_K_M, .iq4_nl, .q4_K_S, .q4_K_M, .iq4_xs].contains(fileType) { type = .q5_K }
                } else {
                    switch fileType {
                    case .q2_K: type = .q3_K
                    case .q3_K_M: type = .q4_K
                    case .q3_K_L: type = .q5_K
                    default: break
                    }
                }
            } else if fileType == .q3_K_L {
                type = .q4_K
            }
        case .attentionQ, .ffnGate, .ffnUp, .other:
            break
        }
        return type
    }
}

public enum RecipeError: Error, Equatable, CustomStringConvertible {
    case badOverride(String, reason: String)

    public var description: String {
        switch self {
        case let .badOverride(text, reason): return "--tensor-type '\(text)': \(reason)"
        }
    }
}
