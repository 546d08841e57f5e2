extension ModelQuantizer {
    /// What `fitting` is doing, for a progress line.
    public enum FittingStep {
        /// Global pruning's scoring pass (1 or 2) over a tensor.
        case scoring(pass: Int, index: Int, name: String)
        /// Measuring a tensor's menu of formats.
        case measuring(index: Int, name: String)
    }

    /// A quantizer whose per-tensor formats the allocator picks so the model
    /// fits `budget` with the least importance-weighted distortion. Norms and
    /// other tensors llama.cpp never quantizes keep their type, and tensors
    /// matching an override take its format; the rest are the allocator's.
    /// With `pruning`, each menu is measured on the pruned weights, so the
    /// formats are chosen for what the file will hold (the pruning loss
    /// itself does not depend on the format). With `calibration`, each
    /// tensor's error counts at its role's measured KL per unit error.
    /// - Returns: also global pruning's threshold, to write with.
    public static func fitting(
        _ budget: ModelBudget, source: any TensorSource, importance: ImportanceMatrix? = nil,
        overrides: [QuantizationRecipe.Override] = [], candidates: [GGMLType] = FormatAllocator.defaultCandidates,
        pruning: Pruning? = nil, calibration: RoleCalibration? = nil, progress: (FittingStep) -> Void = { _ in }
    ) throws -> (quantizer: ModelQuantizer, allocation: FormatAllocation, pruneThreshold: PruneThreshold?) {
        let fixed = source.tensors.map { info -> GGMLType? in
            guard QuantizationRecipe.allowsQuantization(.init(info)) else { return info.type }
            return overrides.first { $0.matches(info.name) }.map {
                QuantizationRecipe.fallback($0.type, rowLength: info.shape[0])
            }
        }
        // Which tensors are pruned, and how, does not depend on their formats:
        // a plan with F16 wherever the allocator chooses prunes as the final one will.
        let pruner = try pruning.map {
            try ModelQuantizer(source: source, types: fixed.map { $0 ?? .f16 }, fileType: .mostlyF16,
                               importance: importance, pruning: $0)
        }
        let threshold = try pruner?.globalPruneThreshold { pass, index, tensor in
            progress(.scoring(pass: pass, index: index, name: tensor.name))
        }
        var ties = threshold?.ties ?? 0
        // The header's size does not depend on the types chosen: measure it once.
        let header = try GGUFWriter(
            metadata: outputMetadata(of: source, fileType: .mostlyF16),
            tensors: source.tensors.map { GGUFTensorInfo(name: $0.name, shape: $0.shape, type: $0.type) })
        let allocation = try FormatAllocator.allocate(
            source: source, fixed: fixed, candidates: candidates, importance: importance, budget: budget,
            headerBytes: header.dataOffset, alignment: header.alignment,
            // Ties at the global threshold go in tensor order, as when writing;
            // a pruned tensor an override fixes is skipped here, shifting at
            // most those few equal scores of the measurement, never of the file.
            weights: pruner.map { pruner in { index in try pruner.weights(of: index, threshold: threshold, ties: &ties).values } },
            calibration: calibration,
            progress: { index, name in progress(.measuring(index: index, name: name)) })
        let quantizer = try ModelQuantizer(
            source: source, types: allocation.types, fileType: dominantFileType(allocation), importance: importance,
            pruning: pruning)
        return (quantizer, allocation, threshold)
    }

    /// The file type named for the format holding the most chosen weights
    /// (llama.cpp only displays it).
    static func dominantFileType(_ allocation: FormatAllocation) -> LlamaFileType {
        let weights = allocation.weightsByType
        let dominant = weights.max { $0.value != $1.value ? $0.value < $1.value : $0.key.rawValue > $1.key.rawValue }?.key
        return dominant.flatMap(LlamaFileType.init(defaultType:)) ?? .mostlyF16
    }
}
