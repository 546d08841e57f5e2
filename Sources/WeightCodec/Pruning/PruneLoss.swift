/// What pruning one tensor removed: how many weights, their signal energy
/// Σw², and their importance-weighted energy Σ E[x_j²]·w_ij², which is the
/// expected energy they contributed to the layer's output (for inputs with
/// uncorrelated columns).
public struct PruneLoss: Sendable {
    /// How the tensor was treated.
    public enum Treatment: Sendable, Hashable, CustomStringConvertible {
        /// Pruned as asked.
        case pruned(PruneMethod, PruneScope)
        /// Wanda was asked but the importance matrix has no entry for this
        /// tensor: it lost the fraction by magnitude, over the tensor.
        case magnitudeFallback
        /// 2:4 was asked but the row is not a multiple of 4: left whole.
        case skipped(rowLength: Int)

        public var description: String {
            switch self {
            case let .pruned(method, scope): return scope == .global ? "\(method.rawValue) (global)" : method.rawValue
            case .magnitudeFallback: return "magnitude (no imatrix entry)"
            case let .skipped(rowLength): return "none (row of \(rowLength) not a multiple of 4)"
            }
        }
    }

    public var treatment: Treatment
    /// Weights in the tensor, and those zeroed.
    public var count = 0
    public var pruned = 0
    /// Σw² over the tensor and over the pruned weights.
    public var energy = 0.0
    public var prunedEnergy = 0.0
    /// Whether the tensor had importance: without it the weighted sums are nil.
    public var hasImportance: Bool
    var weightedSum = 0.0, weightedPrunedSum = 0.0

    public init(treatment: Treatment, hasImportance: Bool) {
        self.treatment = treatment
        self.hasImportance = hasImportance
    }

    /// The same weighted by absolute E[x²] of each weight's input column;
    /// nil without an importance entry for the tensor.
    public var weightedEnergy: Double? { hasImportance ? weightedSum : nil }
    public var weightedPrunedEnergy: Double? { hasImportance ? weightedPrunedSum : nil }

    public var prunedFraction: Double { Double(pruned) / Double(max(count, 1)) }
    /// Share of Σw² removed.
    public var energyFraction: Double { energy > 0 ? prunedEnergy / energy : 0 }
    /// Share of Σ E[x²]·w² removed, when the tensor has importance.
    public var weightedEnergyFraction: Double? {
        guard let weightedEnergy, let weightedPrunedEnergy else { return nil }
        return weightedEnergy > 0 ? weightedPrunedEnergy / weightedEnergy : 0
    }

    /// Counts one weight of the tensor, with the E[x²] of its column (1 without importance).
    @inline(__always)
    mutating func add(_ w: Float, importance: Float, pruned isPruned: Bool) {
        let e = Double(w) * Double(w), weighted = Double(importance) * e
        count += 1
        energy += e
        weightedSum += weighted
        if isPruned {
            pruned += 1
            prunedEnergy += e
            weightedPrunedSum += weighted
        }
    }
}
