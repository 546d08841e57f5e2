/// Zeroes the lowest-scoring weights of one tensor in place and tallies
/// what they carried. The tensor is rows × rowLength floats in ggml order
/// (a row is one output channel, its entries run along the input
/// dimension); `importance`, when given, is E[x²] per input column, one
/// set of rowLength values per expert of a 3-D tensor (consecutive blocks
/// of rows), in absolute units, as the importance matrix holds them.
///
/// Exactly round(fraction·n) weights go from each comparison group; of
/// equal scores the earlier weight (in ggml order) goes first.
public enum Pruner {
    /// Prunes one tensor on its own (scope `.tensor`): magnitude over the
    /// whole tensor, Wanda over each row, 2:4 over each group of 4. Wanda
    /// without importance falls back to magnitude; 2:4 leaves rows that are
    /// not a multiple of 4 whole. Both say so in the result's treatment.
    public static func prune(_ values: UnsafeMutableBufferPointer<Float>, rowLength: Int, importance: [Float]?,
                             pruning: Pruning) -> PruneLoss {
        checkShape(values.count, rowLength: rowLength, importance: importance)
        switch pruning.method {
        case .wanda where importance != nil:
            return pruneRows(values, rowLength: rowLength, importance: importance!, k: pruning.prunedCount(of: rowLength))
        case .twoOfFour where rowLength % 4 == 0:
            return pruneTwoOfFour(values, rowLength: rowLength, importance: importance)
        case .twoOfFour:
            return pruneSmallest(0, of: values, rowLength: rowLength, importance: importance,
                                 treatment: .skipped(rowLength: rowLength))
        case .magnitude, .wanda:
            return pruneSmallest(pruning.prunedCount(of: values.count), of: values, rowLength: rowLength, importance: importance,
                                 treatment: pruning.method == .wanda ? .magnitudeFallback : .pruned(.magnitude, .tensor))
        }
    }

    /// Prunes one tensor against a threshold shared by many (scope
    /// `.global`): every weight whose score is below it, and of those equal
    /// to it as many as `ties` still allows (it is decremented, so passing
    /// it on from tensor to tensor spends the ties in tensor order).
    /// - Parameter method: `.magnitude` scores |w|, `.wanda` |w|·√E[x²];
    ///   the scores must be those the threshold was found from (`scores`).
    public static func prune(_ values: UnsafeMutableBufferPointer<Float>, rowLength: Int, importance: [Float]?,
                             method: PruneMethod, threshold: PruneThreshold, ties: inout Int) -> PruneLoss {
        checkShape(values.count, rowLength: rowLength, importance: importance)
        precondition(method != .twoOfFour && (method == .magnitude || importance != nil), "global scores are |w| or |w|·√E[x²]")
        let scores = Self.scores(of: UnsafeBufferPointer(values), rowLength: rowLength,
                                 importance: method == .wanda ? importance : nil)
        var loss = PruneLoss(treatment: .pruned(method, .global), hasImportance: importance != nil)
        apply(values, rowLength: rowLength, importance: importance, scores: scores, threshold: threshold, ties: &ties, into: &loss)
        return loss
    }

    /// Each weight's score: |w|, or with importance Wanda's |w_ij|·√E[x_j²].
    /// The paper's ‖X_j‖₂ is √(N·E[x_j²]) over N input tokens: the same
    /// ranking within a tensor, and across tensors the RMS input makes
    /// scores comparable whatever number of tokens each layer was measured on.
    public static func scores(of values: UnsafeBufferPointer<Float>, rowLength: Int, importance: [Float]?) -> [Float] {
        guard let importance else { return values.map { abs($0) } }
        let roots = importance.map { $0.squareRoot() }
        let sliceRows = rowsPerSlice(values.count, rowLength: rowLength, importance: importance)
        var scores = [Float](repeating: 0, count: values.count)
        for row in 0..<(values.count / rowLength) {
            let base = row / sliceRows * rowLength, start = row * rowLength
            for j in 0..<rowLength { scores[start + j] = abs(values[start + j]) * roots[base + j] }
        }
        return scores
    }

    // MARK: - Comparison groups

    /// Magnitude: the `k` smallest |w| of the whole tensor.
    static func pruneSmallest(_ k: Int, of values: UnsafeMutableBufferPointer<Float>, rowLength: Int, importance: [Float]?,
                              treatment: PruneLoss.Treatment) -> PruneLoss {
        let scores = Self.scores(of: UnsafeBufferPointer(values), rowLength: rowLength, importance: nil)
        let threshold = scores.withUnsafeBufferPointer { PruneThreshold.smallest(k, of: $0) }
        var loss = PruneLoss(treatment: treatment, hasImportance: importance != nil)
        var ties = threshold.ties
        apply(values, rowLength: rowLength, importance: importance, scores: scores, threshold: threshold, ties: &ties, into: &loss)
        return loss
    }

    /// Wanda: in each row the `k` weights of lowest |w_j|·√E[x_j²].
    static func pruneRows(_ values: UnsafeMutableBufferPointer<Float>, rowLength: Int, importance: [Float], k: Int) -> PruneLoss {
        let roots = importance.map { $0.squareRoot() }
        let sliceRows = rowsPerSlice(values.count, rowLength: rowLength, importance: importance)
        var loss = PruneLoss(treatment: .pruned(.wanda, .tensor), hasImportance: true)
        var keys = [UInt64](repeating: 0, count: rowLength)
        keys.withUnsafeMutableBufferPointer { keys in
            for row in 0..<(values.count / rowLength) {
                let base = row / sliceRows * rowLength, start = row * rowLength
                // Score in the high half, column in the low: distinct keys, earlier column first on a tie.
                func key(_ j: Int) -> UInt64 { UInt64((abs(values[start + j]) * roots[base + j]).bitPattern) << 32 | UInt64(j) }
                for j in 0..<rowLength { keys[j] = key(j) }
                let last = k > 0 ? nthSmallest(keys, k - 1) : nil
                for j in 0..<rowLength {
                    let isPruned = last.map { key(j) <= $0 } ?? false
                    loss.add(values[start + j], importance: importance[base + j], pruned: isPruned)
                    if isPruned { values[start + j] = 0 }
                }
            }
        }
        return loss
    }

    /// 2:4: of each 4 consecutive weights of a row the 2 of lowest score
    /// (Wanda's with importance, else |w|); the earlier goes on a tie.
    static func pruneTwoOfFour(_ values: UnsafeMutableBufferPointer<Float>, rowLength: Int, importance: [Float]?) -> PruneLoss {
        let scores = Self.scores(of: UnsafeBufferPointer(values), rowLength: rowLength, importance: importance)
        let sliceRows = importance.map { rowsPerSlice(values.count, rowLength: rowLength, importance: $0) } ?? 1
        var loss = PruneLoss(treatment: .pruned(.twoOfFour, .tensor), hasImportance: importance != nil)
        for row in 0..<(values.count / rowLength) {
            let start = row * rowLength, base = row / sliceRows * rowLength
            for group in stride(from: 0, to: rowLength, by: 4) {
                // Score above, position below: distinct keys, the earlier smaller on a tie.
                func key(_ p: Int) -> UInt64 { UInt64(scores[start + group + p].bitPattern) << 2 | UInt64(p) }
                for p in 0..<4 {
                    var smaller = 0
                    for q in 0..<4 where key(q) < key(p) { smaller += 1 }
                    // Ranks 0 and 1 go.
                    let i = start + group + p, isPruned = smaller < 2
                    loss.add(values[i], importance: importance?[base + group + p] ?? 1, pruned: isPruned)
                    if isPruned { values[i] = 0 }
                }
            }
        }
        return loss
    }

    /// Zeroes the weights whose score the threshold prunes and tallies every weight.
    static func apply(_ values: UnsafeMutableBufferPointer<Float>, rowLength: Int, importance: [Float]?, scores: [Float],
                      threshold: PruneThreshold, ties: inout Int, into loss: inout PruneLoss) {
        // Without importance every column weighs 1, as one slice for all rows.
        let columns = importance ?? [Float](repeating: 1, count: rowLength)
        let sliceRows = rowsPerSlice(values.count, rowLength: rowLength, importance: columns)
        for row in 0..<(values.count / rowLength) {
            let start = row * rowLength, base = row / sliceRows * rowLength
            for j in 0..<rowLength {
                let i = start + j, isPruned = threshold.prunes(scores[i], ties: &ties)
                loss.add(values[i], importance: columns[base + j], pruned: isPruned)
                if isPruned { values[i] = 0 }
            }
        }
    }

    // MARK: - Helpers

    static func checkShape(_ count: Int, rowLength: Int, importance: [Float]?) {
        precondition(rowLength > 0 && count % rowLength == 0, "values are whole rows")
        if let importance { _ = rowsPerSlice(count, rowLength: rowLength, importance: importance) }
    }

    /// Rows that share one set of column importances (all of them for a
    /// matrix, one expert's for a 3-D tensor).
    static func rowsPerSlice(_ count: Int, rowLength: Int, importance: [Float]) -> Int {
        let slices = importance.count / rowLength, rows = count / rowLength
        precondition(slices > 0 && importance.count % rowLength == 0 && rows % slices == 0,
                     "\(importance.count) importances do not divide \(rows) rows of \(rowLength)")
        return rows / slices
    }

    /// Reorders distinct `keys` so that keys[n] holds what sorting would put
    /// there, and returns it (Hoare's selection, median-of-three pivots).
    static func nthSmallest(_ keys: UnsafeMutableBufferPointer<UInt64>, _ n: Int) -> UInt64 {
        precondition(n >= 0 && n < keys.count)
        var low = 0, high = keys.count - 1
        while low < high {
            let mid = low + (high - low) / 2
            if keys[mid] < keys[low] { keys.swapAt(mid, low) }
            if keys[high] < keys[low] { keys.swapAt(high, low) }
            if keys[high] < keys[mid] { keys.swapAt(high, mid) }
            let pivot = keys[mid]
            var i = low, j = high
            // The pivot stops both scans, so they stay inside [low, high]: no overflow checks needed.
            while i <= j {
                while keys[i] < pivot { i &+= 1 }
                while keys[j] > pivot { j &-= 1 }
                if i <= j { keys.swapAt(i, j); i &+= 1; j &-= 1 }
            }
            // keys[low...j] ≤ pivot ≤ keys[i...high]; between them only the pivot.
            if n <= j { high = j } else if n >= i { low = i } else { return keys[n] }
        }
        return keys[n]
    }
}
