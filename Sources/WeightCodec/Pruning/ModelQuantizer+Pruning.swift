/// Pruning inside the model quantizer: each pruned tensor's decoded values
/// lose their lowest-scoring weights just before the block format sees them.
extension ModelQuantizer {
    /// Global scope's threshold: the score below which the requested share
    /// of all globally ranked weights lies, exact, from two passes that decode
    /// one tensor at a time (memory stays one tensor). Nil for tensor scope.
    /// Wanda ranks only tensors with an imatrix entry; the others lose the
    /// fraction by magnitude on their own.
    /// - Parameter progress: called before each tensor of each pass (1 or 2).
    public func globalPruneThreshold(progress: (_ pass: Int, Int, PlannedTensor) -> Void = { _, _, _ in }) throws -> PruneThreshold? {
        guard let pruning, pruning.scope == .global else { return nil }
        let ranked = try plan.indices.filter { try plan[$0].pruned && globalMethod(importance: pruningImportance(of: $0)) != nil }
        let total = ranked.reduce(0) { $0 + plan[$1].elementCount }
        var pass = 0
        return try PruneThreshold.smallest(pruning.prunedCount(of: total)) { histogram in
            pass += 1
            for index in ranked {
                progress(pass, index, plan[index])
                let info = source.tensors[index], importance = try pruningImportance(of: index)
                defer { source.release(index) }
                let values = try source.values(of: index)
                let scores = values.withUnsafeBufferPointer {
                    Pruner.scores(of: $0, rowLength: info.shape[0], importance: pruning.method == .wanda ? importance : nil)
                }
                scores.withUnsafeBufferPointer { histogram.add($0) }
            }
        }
    }

    /// Prunes tensor `index`'s decoded values: against the global threshold
    /// (spending its ties in tensor order) or on their own.
    func prune(_ values: inout [Float], index: Int, threshold: PruneThreshold?, ties: inout Int) throws -> PruneLoss {
        let pruning = pruning!, rowLength = source.tensors[index].shape[0]
        let importance = try pruningImportance(of: index)
        return values.withUnsafeMutableBufferPointer { values in
            if let threshold, let method = globalMethod(importance: importance) {
                return Pruner.prune(values, rowLength: rowLength, importance: importance, method: method,
                                    threshold: threshold, ties: &ties)
            }
            return Pruner.prune(values, rowLength: rowLength, importance: importance, pruning: pruning)
        }
    }

    /// How a tensor is ranked globally: by |w|, by Wanda's score when it has
    /// importance, or not at all (Wanda without an entry).
    func globalMethod(importance: [Float]?) -> PruneMethod? {
        switch pruning?.method {
        case .magnitude: return .magnitude
        case .wanda: return importance == nil ? nil : .wanda
        default: return nil
        }
    }

    /// The tensor's absolute E[x²] per column (per expert for 3-D tensors).
    func pruningImportance(of index: Int) throws -> [Float]? {
        let info = source.tensors[index]
        guard let values = importance?.entries[info.name] else { return nil }
        let rowLength = info.shape[0], rows = info.elementCount / max(rowLength, 1)
        guard values.count % rowLength == 0, rows % max(values.count / rowLength, 1) == 0, values.count >= rowLength else {
            throw ImportanceMatrixError.sizeMismatch(tensor: info.name, values: values.count, columns: rowLength)
        }
        return values
    }
}
