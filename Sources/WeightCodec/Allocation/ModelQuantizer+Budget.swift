extension ModelQuantizer {
    /// A quantizer whose per-tensor formats the allocator picks so the model
    /// fits `budget` with the least importance-weighted distortion. Norms and
    /// other tensors llama.cpp never quantizes keep their type, and tensors
    /// matching an override take its format; the rest are the allocator's.
    public static func fitting(
        _ budget: ModelBudget, source: any TensorSource, importance: ImportanceMatrix? = nil,
        overrides: [QuantizationRecipe.Override] = [], candidates: [GGMLType] = FormatAllocator.defaultCandidates,
        progress: (Int, String) -> Void = { _, _ in }
    ) throws -> (quantizer: ModelQuantizer, allocation: FormatAllocation) {
        let fixed = source.tensors.map { info -> GGMLType? in
            let tensor = QuantizationRecipe.Tensor(name: info.name, shape: info.shape, type: info.type)
            guard QuantizationRecipe.allowsQuantization(tensor) else { return info.type }
            return overrides.first { $0.matches(info.name) }.map {
                QuantizationRecipe.fallback($0.type, rowLength: info.shape[0])
            }
        }
        // The header's size does not depend on the types chosen: measure it once.
        let header = try GGUFWriter(
            metadata: outputMetadata(of: source, fileType: .mostlyF16),
            tensors: source.tensors.map { GGUFTensorInfo(name: $0.name, shape: $0.shape, type: $0.type) })
        let allocation = try FormatAllocator.allocate(
            source: source, fixed: fixed, candidates: candidates, importance: importance, budget: budget,
            headerBytes: header.dataOffset, alignment: header.alignment, progress: progress)
        let quantizer = try ModelQuantizer(
            source: source, types: allocation.types, fileType: dominantFileType(allocation), importance: importance)
        return (quantizer, allocation)
    }

    /// The file type named for the format holding the most chosen weights
    /// (llama.cpp only displays it).
    static func dominantFileType(_ allocation: FormatAllocation) -> LlamaFileType {
        let weights = allocation.weightsByType
        let dominant = weights.max { $0.value != $1.value ? $0.value < $1.value : $0.key.rawValue > $1.key.rawValue }?.key
        return LlamaFileType.allCases.first { $0.defaultType == dominant } ?? .mostlyF16
    }
}
