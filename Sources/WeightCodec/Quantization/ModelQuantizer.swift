import Foundation

/// Requantizes a model file tensor by tensor, as llama-quantize does, on
/// the shared core: each tensor's format comes from the recipe, each block's
/// scales from the core's weighted least-squares fit, the importance from
/// an importance matrix when one is given. Memory holds one tensor at a time.
public struct ModelQuantizer {
    /// One tensor of the output, decided before anything is written.
    public struct PlannedTensor: Sendable, Hashable {
        public var name: String
        public var shape: [Int]
        public var sourceType: GGMLType
        public var targetType: GGMLType
        public var elementCount: Int
        public var bytes: Int
        /// The bytes are the input's, unchanged (same type: norms, or an F32 copy).
        public var copied: Bool
        public var hasImportance: Bool
        /// How it is pruned before it is quantized (never copied then); nil: not pruned.
        public var pruning: PruneLoss.Treatment?

        public var pruned: Bool { pruning != nil }

        public var bitsPerWeight: Double { Double(bytes * 8) / Double(max(elementCount, 1)) }
    }

    /// A tensor as written, with what it lost.
    public struct Outcome: Sendable {
        public var tensor: PlannedTensor
        /// Nil for copied tensors: nothing was lost.
        public var error: TensorError?
        /// What pruning removed, for pruned tensors.
        public var pruning: PruneLoss?
    }

    public let source: any TensorSource
    /// The file type the output declares (`general.file_type`).
    public let fileType: LlamaFileType
    public let importance: ImportanceMatrix?
    /// Encode with ggml's reference quantizers where a format has one.
    public let reference: Bool
    /// Zero weights of the `blk.*` matrices before quantizing them.
    public let pruning: Pruning?
    public let plan: [PlannedTensor]

    /// Each tensor's format from a llama-quantize recipe.
    public init(source: any TensorSource, recipe: QuantizationRecipe, importance: ImportanceMatrix? = nil,
                reference: Bool = false, pruning: Pruning? = nil) throws {
        let model = try Self.modelShape(of: source)
        let tensors = source.tensors.map(QuantizationRecipe.Tensor.init)
        try self.init(source: source, types: recipe.types(for: tensors, model: model), fileType: recipe.fileType,
                      importance: importance, reference: reference, pruning: pruning)
    }

    /// Each tensor's format given, one per tensor in order.
    public init(source: any TensorSource, types: [GGMLType], fileType: LlamaFileType, importance: ImportanceMatrix? = nil,
                reference: Bool = false, pruning: Pruning? = nil) throws {
        precondition(types.count == source.tensors.count, "one type per tensor")
        if pruning?.method == .wanda && importance == nil { throw PruningError.wandaNeedsImportance }
        self.source = source
        self.fileType = fileType
        self.importance = importance
        self.reference = reference
        self.pruning = pruning
        let tensors = source.tensors.map(QuantizationRecipe.Tensor.init)
        plan = try zip(source.tensors, types).enumerated().map { index, pair in
            let (info, type) = pair
            guard let bytes = info.byteCount(as: type) else {
                throw QuantizeError.rowNotWholeBlocks(tensor: info.name, rowLength: info.shape[0], type: type)
            }
            let hasEntry = importance?.entries[info.name] != nil
            let treatment = pruning?.treatment(of: tensors[index], hasImportance: hasEntry)
            let copied = type == info.type && source.storedBytes(of: index) != nil && treatment == nil
            // GGUF inputs are decoded by their block format; other sources decode themselves.
            if !copied && source is GGUFSource && BlockFormats.format(for: info.type) == nil {
                throw QuantizeError.cannotDecode(tensor: info.name, type: info.type)
            }
            guard copied || BlockFormats.format(for: type) != nil else {
                throw QuantizeError.cannotEncode(tensor: info.name, type: type)
            }
            return PlannedTensor(
                name: info.name, shape: info.shape, sourceType: info.type, targetType: type,
                elementCount: info.elementCount, bytes: bytes, copied: copied,
                hasImportance: !copied && hasEntry, pruning: treatment)
        }
    }

    /// Total bytes of tensor data, and bits per weight over all tensors.
    public var tensorBytes: Int { plan.reduce(0) { $0 + $1.bytes } }
    public var bitsPerWeight: Double {
        Double(tensorBytes * 8) / Double(max(plan.reduce(0) { $0 + $1.elementCount }, 1))
    }

    /// The input's metadata with the file type and quantization version set.
    public var outputMetadata: GGUFMetadata { Self.outputMetadata(of: source, fileType: fileType) }

    static func outputMetadata(of source: any TensorSource, fileType: LlamaFileType) -> GGUFMetadata {
        var metadata = source.metadata
        // One output file: the input's shard bookkeeping does not apply.
        for key in metadata.keys where key.hasPrefix("split.") { metadata[key] = nil }
        metadata["general.quantization_version"] = .uint32(2)
        metadata["general.file_type"] = .uint32(fileType.rawValue)
        return metadata
    }

    /// Writes the quantized model to `path`, calling `progress` before each tensor.
    /// - Parameter pruneThreshold: global pruning's threshold when already
    ///   found (`globalPruneThreshold`); else it is found here.
    public func write(to path: String, pruneThreshold: PruneThreshold? = nil,
                      progress: (Int, PlannedTensor) -> Void = { _, _ in }) throws -> [Outcome] {
        let threshold = try pruneThreshold ?? globalPruneThreshold()
        var ties = threshold?.ties ?? 0
        let writer = try GGUFWriter(
            metadata: outputMetadata,
            tensors: plan.map { GGUFTensorInfo(name: $0.name, shape: $0.shape, type: $0.targetType) })
        var outcomes = [Outcome]()
        try writer.write(to: path) { index, sink in
            let tensor = plan[index]
            progress(index, tensor)
            let info = source.tensors[index]
            defer { source.release(index) }
            if tensor.copied, let bytes = source.storedBytes(of: index) {
                try sink.write(bytes)
                outcomes.append(Outcome(tensor: tensor, error: nil, pruning: nil))
                return
            }
            let format = BlockFormats.format(for: tensor.targetType)!, rowLength = info.shape[0]
            let rowImportance = try importance?.columns(of: info.name, count: rowLength).map(Array.init)
            func encode(_ values: UnsafeBufferPointer<Float>) throws -> TensorError {
                var output = [UInt8](repeating: 0, count: values.count / rowLength * format.type.rowBytes(rowLength)!)
                let error = output.withUnsafeMutableBytes { bytes in
                    TensorQuantizer.quantize(values, rowLength: rowLength, format: format,
                                             importance: rowImportance, reference: reference, into: bytes)
                }
                try output.withUnsafeBytes { try sink.write($0) }
                return error
            }
            if tensor.pruned {
                // Pruning ranks the whole tensor's weights, so it needs them all at once.
                let (values, pruned) = try weights(of: index, threshold: threshold, ties: &ties)
                outcomes.append(Outcome(tensor: tensor, error: try values.withUnsafeBufferPointer(encode), pruning: pruned))
                return
            }
            // A slice of rows at a time: memory holds one slice's floats and
            // blocks, whatever the tensor's size.
            let sliceRows = max(1, Self.sliceWeights / rowLength)
            var slice = [Float](repeating: 0, count: min(info.rowCount, sliceRows) * rowLength)
            var error = TensorError()
            for first in stride(from: 0, to: info.rowCount, by: sliceRows) {
                let rows = first..<min(info.rowCount, first + sliceRows)
                try slice.withUnsafeMutableBufferPointer { buffer in
                    let values = UnsafeMutableBufferPointer(rebasing: buffer[0..<(rows.count * rowLength)])
                    try source.values(of: index, rows: rows, into: values)
                    error.merge(try encode(UnsafeBufferPointer(values)))
                }
            }
            outcomes.append(Outcome(tensor: tensor, error: error, pruning: nil))
        }
        return outcomes
    }

    /// Weights decoded at a time when a tensor is quantized in slices (16 MiB of floats).
    public static let sliceWeights = 1 << 22

    /// Tensor `index`'s weights as its format will see them: decoded, and
    /// pruned when the plan prunes it (with what that removed).
    func weights(of index: Int, threshold: PruneThreshold?, ties: inout Int) throws -> (values: [Float], pruning: PruneLoss?) {
        var values = try source.values(of: index)
        let pruned = try plan[index].pruned ? prune(&values, index: index, threshold: threshold, ties: &ties) : nil
        return (values, pruned)
    }

    /// Layer and head counts from the architecture's metadata keys.
    static func modelShape(of file: any TensorSource) throws -> QuantizationRecipe.ModelShape {
        let architecture = file.metadata.string("general.architecture") ?? "llama"
        func integer(_ key: String) -> Int? { file.metadata.int("\(architecture).\(key)") }
        let layers = integer("block_count") ?? file.tensors.compactMap { tensor -> Int? in
            guard tensor.name.hasPrefix("blk.") else { return nil }
            return Int(tensor.name.dropFirst(4).prefix { $0.isNumber })
        }.max().map { $0 + 1 } ?? 0
        let heads = integer("attention.head_count") ?? 1
        return QuantizationRecipe.ModelShape(
            layerCount: layers, headCount: heads, kvHeadCount: integer("attention.head_count_kv") ?? heads,
            expertCount: integer("expert_count") ?? 0, architecture: architecture)
    }
}

public enum QuantizeError: Error, Equatable, CustomStringConvertible {
    case rowNotWholeBlocks(tensor: String, rowLength: Int, type: GGMLType)
    case cannotDecode(tensor: String, type: GGMLType)
    case cannotEncode(tensor: String, type: GGMLType)

    public var description: String {
        switch self {
        case let .rowNotWholeBlocks(tensor, rowLength, type):
            return "tensor '\(tensor)': row of \(rowLength) weights is not a multiple of the \(type.blockWeights)-weight \(type) block"
        case let .cannotDecode(tensor, type):
            return "tensor '\(tensor)' is \(type), which lossy cannot decode to requantize"
        case let .cannotEncode(tensor, type):
            return "tensor '\(tensor)': lossy does not write \(type)"
        }
    }
}
