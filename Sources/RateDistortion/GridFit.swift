/// Fits one scale (and, for offset grids, one offset) to a short run of
/// values that must be stored as small integers: the inner problem of every
/// block format that keeps "a scale per block and an index per value".
///
/// For fixed indices q the best scale in weighted least squares has a closed
/// form, so the search only has to choose the indices: each candidate inverse
/// scale s rounds q = round(s·x) onto the grid, and the fit solves for d
/// (and m) exactly:
///
///   symmetric  x ≈ d·q          d = Σwxq / Σwq²,
///                               E = Σwx² − (Σwxq)²/Σwq²
///   offset     x ≈ d·q + m      the 2×2 normal equations in (d, m)
///
/// The candidate with the least E wins. Weights are importances (1/tolerance
/// per value); none means plain squared error. Buffers are read in place;
/// nothing is allocated.
public enum GridFit {
    /// The outcome: x̂ = scale·q + offset, with `squaredError` = Σw(x − x̂)²
    /// before the scale is rounded to its storage precision.
    public struct Fit: Sendable, Hashable {
        public var scale: Float
        public var offset: Float
        public var squaredError: Float

        public init(scale: Float, offset: Float = 0, squaredError: Float) {
            self.scale = scale
            self.offset = offset
            self.squaredError = squaredError
        }
    }

    /// Inverse scales to try, as grid positions given to the value of
    /// largest magnitude: s_k = (first + k·step)/pivot for k in 0..<count.
    /// `first = −8, step = 0.1, count = 21` tries mapping the pivot from −8
    /// to −6 on a [−8, 7] grid.
    public struct Candidates: Sendable, Hashable {
        public var first: Float
        public var step: Float
        public var count: Int

        public init(first: Float, step: Float, count: Int) {
            precondition(count >= 1, "at least one candidate")
            self.first = first
            self.step = step
            self.count = count
        }

        @inlinable public func position(_ k: Int) -> Float { first + Float(k) * step }
    }

    /// Symmetric integer grid lo…hi: x ≈ d·q. Writes the winning indices to `q`.
    ///
    /// The pivot is the value of largest magnitude, signed, so a grid like
    /// [−8, 7] can give its longer side to it.
    public static func symmetric(
        _ x: UnsafeBufferPointer<Float>, weights w: UnsafeBufferPointer<Float>?,
        levels: ClosedRange<Int32>, candidates: Candidates, into q: UnsafeMutableBufferPointer<Int32>
    ) -> Fit {
        precondition(q.count >= x.count && (w == nil || w!.count >= x.count), "buffers shorter than the values")
        let pivot = signedMaximum(x)
        guard pivot != 0 else { return zero(x, into: q) }
        let lo = Float(levels.lowerBound), hi = Float(levels.upperBound)
        let energy = weightedEnergy(x, w)
        var best = Fit(scale: 0, squaredError: energy)
        var bestInverse: Float = 0
        for k in 0..<candidates.count {
            let inverse = candidates.position(k) / pivot
            var sumXQ: Float = 0, sumQQ: Float = 0
            for i in 0..<x.count {
                let level = min(max((inverse * x[i]).rounded(), lo), hi)
                let weight = w?[i] ?? 1
                sumXQ += weight * x[i] * level
                sumQQ += weight * level * level
            }
            guard sumQQ > 0 else { continue }
            let error = max(energy - sumXQ * sumXQ / sumQQ, 0)
            if error < best.squaredError || bestInverse == 0 {
                best = Fit(scale: sumXQ / sumQQ, squaredError: error)
                bestInverse = inverse
            }
        }
        guard bestInverse != 0 else { return zero(x, into: q) }
        for i in 0..<x.count { q[i] = Int32(min(max((bestInverse * x[i]).rounded(), lo), hi)) }
        return best
    }

    /// Symmetric non-uniform grid: x ≈ d·c[q] for a sorted codebook c (as
    /// IQ4_NL's sixteen levels). Candidates are positions in codebook units.
    public static func codebook(
        _ x: UnsafeBufferPointer<Float>, weights w: UnsafeBufferPointer<Float>?,
        levels codebook: UnsafeBufferPointer<Float>, candidates: Candidates,
        into q: UnsafeMutableBufferPointer<Int32>
    ) -> Fit {
        precondition(q.count >= x.count && (w == nil || w!.count >= x.count), "buffers shorter than the values")
        precondition(!codebook.isEmpty, "empty codebook")
        let pivot = signedMaximum(x)
        guard pivot != 0 else { return zero(x, into: q, codebook: codebook) }
        let energy = weightedEnergy(x, w)
        var best = Fit(scale: 0, squaredError: energy)
        var bestInverse: Float = 0
        for k in 0..<candidates.count {
            let inverse = candidates.position(k) / pivot
            var sumXQ: Float = 0, sumQQ: Float = 0
            for i in 0..<x.count {
                let level = codebook[nearest(inverse * x[i], in: codebook)]
                let weight = w?[i] ?? 1
                sumXQ += weight * x[i] * level
                sumQQ += weight * level * level
            }
            guard sumQQ > 0 else { continue }
            let error = max(energy - sumXQ * sumXQ / sumQQ, 0)
            if error < best.squaredError || bestInverse == 0 {
                best = Fit(scale: sumXQ / sumQQ, squaredError: error)
                bestInverse = inverse
            }
        }
        guard bestInverse != 0 else { return zero(x, into: q, codebook: codebook) }
        for i in 0..<x.count { q[i] = Int32(nearest(bestInverse * x[i], in: codebook)) }
        return best
    }

    /// Offset grid 0…levels−1: x ≈ d·q + m. Candidates are grid positions
    /// given to the range max − min: s_k = position(k)/(max − min).
    ///
    /// - Parameter offsetAtMostZero: keep m ≤ 0, as formats that store the
    ///   offset as an unsigned minimum to subtract (the K formats) must.
    public static func offset(
        _ x: UnsafeBufferPointer<Float>, weights w: UnsafeBufferPointer<Float>?,
        levels: Int32, candidates: Candidates, offsetAtMostZero: Bool,
        into q: UnsafeMutableBufferPointer<Int32>
    ) -> Fit {
        precondition(levels >= 2, "an offset grid needs two levels")
        precondition(q.count >= x.count && (w == nil || w!.count >= x.count), "buffers shorter than the values")
        guard var low = x.min(), let high = x.max() else { return Fit(scale: 0, squaredError: 0) }
        if offsetAtMostZero { low = min(low, 0) }
        let top = Float(levels - 1)
        guard high > low else {
            // A constant run: the offset alone reproduces it (m ≤ 0 may forbid even that).
            for i in 0..<x.count { q[i] = 0 }
            let m = offsetAtMostZero ? min(low, 0) : low
            var error: Float = 0
            for i in 0..<x.count { error += (w?[i] ?? 1) * (x[i] - m) * (x[i] - m) }
            return Fit(scale: 0, offset: m, squaredError: error)
        }
        // The sums are taken of y = x − low, not of x: with a large common
        // level (a run near 10 ± 0.01) Σwx² would swamp the error it is
        // meant to resolve. Fitting y ≈ d·q + m' gives m = m' + low.
        var energy: Float = 0, sumW: Float = 0, sumY: Float = 0
        for i in 0..<x.count {
            let weight = w?[i] ?? 1, y = x[i] - low
            energy += weight * y * y
            sumW += weight
            sumY += weight * y
        }
        var best = Fit(scale: (high - low) / top, offset: low, squaredError: .infinity)
        var bestInverse: Float = 0
        for k in 0..<candidates.count {
            let inverse = candidates.position(k) / (high - low)
            guard inverse > 0 else { continue }
            var sumQ: Float = 0, sumQQ: Float = 0, sumYQ: Float = 0
            for i in 0..<x.count {
                let y = x[i] - low
                let level = min(max((inverse * y).rounded(), 0), top)
                let weight = w?[i] ?? 1
                sumQ += weight * level
                sumQQ += weight * level * level
                sumYQ += weight * y * level
            }
            // Normal equations: [ΣwQ² ΣwQ; ΣwQ Σw]·[d; m'] = [ΣwyQ; Σwy].
            let determinant = sumW * sumQQ - sumQ * sumQ
            guard determinant > 0 else { continue }
            var d = (sumW * sumYQ - sumQ * sumY) / determinant
            var shift = (sumQQ * sumY - sumQ * sumYQ) / determinant
            if offsetAtMostZero && shift + low > 0 {
                // m = 0 is m' = −low: the best d for y + low ≈ d·q alone.
                shift = -low
                var sumXQ: Float = 0
                for i in 0..<x.count {
                    let level = min(max((inverse * (x[i] - low)).rounded(), 0), top)
                    sumXQ += (w?[i] ?? 1) * x[i] * level
                }
                d = sumXQ / sumQQ
            }
            guard d > 0 else { continue }
            // E = Σw(y − dq − m')² expanded in the sums already taken.
            let error = energy + d * d * sumQQ + shift * shift * sumW - 2 * d * sumYQ - 2 * shift * sumY
                + 2 * d * shift * sumQ
            if error < best.squaredError {
                best = Fit(scale: d, offset: shift + low, squaredError: max(error, 0))
                bestInverse = inverse
            }
        }
        if bestInverse == 0 {
            // No candidate gave a positive scale: span [low, high] plainly.
            bestInverse = top / (high - low)
            best.squaredError = 0
            for i in 0..<x.count {
                let level = min(max((bestInverse * (x[i] - low)).rounded(), 0), top)
                let e = x[i] - best.scale * level - best.offset
                best.squaredError += (w?[i] ?? 1) * e * e
            }
        }
        for i in 0..<x.count { q[i] = Int32(min(max((bestInverse * (x[i] - low)).rounded(), 0), top)) }
        return best
    }

    /// Index of the codebook entry nearest to `value` (ties to the lower).
    @inlinable
    public static func nearest(_ value: Float, in codebook: UnsafeBufferPointer<Float>) -> Int {
        if value <= codebook[0] { return 0 }
        var low = 0, high = codebook.count - 1
        if value >= codebook[high] { return high }
        // Invariant: codebook[low] < value < codebook[high].
        while high - low > 1 {
            let mid = (low + high) / 2
            if codebook[mid] <= value { low = mid } else { high = mid }
        }
        return value - codebook[low] <= codebook[high] - value ? low : high
    }

    /// The value of largest magnitude, with its sign (the first one on ties).
    @inlinable
    public static func signedMaximum(_ x: UnsafeBufferPointer<Float>) -> Float {
        var pivot: Float = 0
        for v in x where abs(v) > abs(pivot) { pivot = v }
        return pivot
    }

    @inlinable
    static func weightedEnergy(_ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>?) -> Float {
        var energy: Float = 0
        for i in 0..<x.count { energy += (w?[i] ?? 1) * x[i] * x[i] }
        return energy
    }

    private static func zero(
        _ x: UnsafeBufferPointer<Float>, into q: UnsafeMutableBufferPointer<Int32>,
        codebook: UnsafeBufferPointer<Float>? = nil
    ) -> Fit {
        let zeroIndex = codebook.map { Int32(nearest(0, in: $0)) } ?? 0
        for i in 0..<x.count { q[i] = zeroIndex }
        return Fit(scale: 0, squaredError: 0)
    }
}
