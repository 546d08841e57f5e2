/// Picks, among candidate quantizers (one per trial scale, clipping range or
/// offset), the one with the least weighted squared error on a run of
/// values: Σ wᵢ·(xᵢ − Q(xᵢ))². Weights are importances (1/tolerance per
/// value); none means plain least squares.
public enum ScaleSearch {
    public static func best<Q: Quantizer>(
        of candidates: [Q], on values: ArraySlice<Double>, weights: [Double]? = nil
    ) -> (quantizer: Q, squaredError: Double) {
        precondition(!candidates.isEmpty, "no candidates to search")
        var best = (quantizer: candidates[0], squaredError: Double.infinity)
        for candidate in candidates {
            let error = candidate.squaredError(values, weights: weights)
            if error < best.squaredError { best = (candidate, error) }
        }
        return best
    }
}
