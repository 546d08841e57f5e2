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
/// nothing is allocated. Indices round to nearest, ties away from zero;
/// eight candidates are tried per pass, one per SIMD lane, each with the
/// sums a pass of its own would take.
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
        if let w {
            return symmetric(x, GivenWeights(w.baseAddress!), pivot: pivot, levels: levels, candidates: candidates, into: q)
        }
        return symmetric(x, UnitWeights(), pivot: pivot, levels: levels, candidates: candidates, into: q)
    }

    /// `symmetric` specialised for its weights. Eight candidates go side by
    /// side, one per SIMD lane; each lane adds its sums in the order a lone
    /// scalar pass would, so the results are those of one at a time.
    @inline(__always)
    private static func symmetric<W: WeightSource>(
        _ x: UnsafeBufferPointer<Float>, _ w: W, pivot: Float,
        levels: ClosedRange<Int32>, candidates: Candidates, into q: UnsafeMutableBufferPointer<Int32>
    ) -> Fit {
        let lo = Float(levels.lowerBound), hi = Float(levels.upperBound)
        var energy: Float = 0
        for i in 0..<x.count { energy += w[i] * x[i] * x[i] }
        var best = Fit(scale: 0, squaredError: energy)
        var bestInverse: Float = 0
        func consider(_ inverse: Float, _ sumXQ: Float, _ sumQQ: Float) {
            guard sumQQ > 0 else { return }
            let error = max(energy - sumXQ * sumXQ / sumQQ, 0)
            if error < best.squaredError || bestInverse == 0 {
                best = Fit(scale: sumXQ / sumQQ, squaredError: error)
                bestInverse = inverse
            }
        }
        let low = Lanes(repeating: lo), high = Lanes(repeating: hi)
        var k = 0
        while k < candidates.count {
            let inverse = inverses(candidates, from: k, over: pivot)
            var sumXQ = Lanes(), sumQQ = Lanes()
            for i in 0..<x.count {
                let weight = w[i], value = x[i]
                let level = clamped(roundedHalfAway(inverse * value), low, high)
                sumXQ += (weight * value) * level
                sumQQ += (weight * level) * level
            }
            for lane in 0..<min(Lanes.scalarCount, candidates.count - k) {
                consider(inverse[lane], sumXQ[lane], sumQQ[lane])
            }
            k += Lanes.scalarCount
        }
        guard bestInverse != 0 else { return zero(x, into: q) }
        for i in 0..<x.count { q[i] = Int32(min(max(roundedHalfAway(bestInverse * x[i]), lo), hi)) }
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
        if let w {
            return offset(x, GivenWeights(w.baseAddress!), low: low, high: high, top: top, candidates: candidates,
                          offsetAtMostZero: offsetAtMostZero, into: q)
        }
        return offset(x, UnitWeights(), low: low, high: high, top: top, candidates: candidates,
                      offsetAtMostZero: offsetAtMostZero, into: q)
    }

    /// `offset` specialised for its weights, eight candidates a pass as in `symmetric`.
    @inline(__always)
    private static func offset<W: WeightSource>(
        _ x: UnsafeBufferPointer<Float>, _ w: W, low: Float, high: Float, top: Float,
        candidates: Candidates, offsetAtMostZero: Bool, into q: UnsafeMutableBufferPointer<Int32>
    ) -> Fit {
        // The sums are taken of y = x − low ≥ 0, not of x: expanding E in
        // sums of x loses every digit to cancellation when the run sits far
        // from zero (x ≈ −100 ± 0.01 has Σx² ≈ 10⁴·n against an E of 10⁻⁶).
        var sumW: Float = 0, sumY: Float = 0, energyY: Float = 0
        for i in 0..<x.count {
            let weight = w[i], y = x[i] - low
            sumW += weight
            sumY += weight * y
            energyY += weight * y * y
        }
        var best = Fit(scale: (high - low) / top, offset: low, squaredError: .infinity)
        var bestInverse: Float = 0
        func consider(_ inverse: Float, _ sumQ: Float, _ sumQQ: Float, _ sumYQ: Float) {
            // Normal equations of y ≈ d·q + c: [ΣwQ² ΣwQ; ΣwQ Σw]·[d; c] = [ΣwyQ; Σwy]; m = c + low.
            let determinant = sumW * sumQQ - sumQ * sumQ
            guard determinant > 0 else { return }
            var d = (sumW * sumYQ - sumQ * sumY) / determinant
            var c = (sumQQ * sumY - sumQ * sumYQ) / determinant
            if offsetAtMostZero && c + low > 0 {
                c = -low
                d = (sumYQ - c * sumQ) / sumQQ
            }
            guard d > 0 else { return }
            // E = Σw(y − dq − c)² expanded in the sums already taken.
            let error = energyY + d * d * sumQQ + c * c * sumW - 2 * d * sumYQ - 2 * c * sumY + 2 * d * c * sumQ
            if error < best.squaredError {
                best = Fit(scale: d, offset: offsetAtMostZero ? min(c + low, 0) : c + low, squaredError: max(error, 0))
                bestInverse = inverse
            }
        }
        let ceiling = Lanes(repeating: top)
        var k = 0
        while k < candidates.count {
            let inverse = inverses(candidates, from: k, over: high - low)
            var sumQ = Lanes(), sumQQ = Lanes(), sumYQ = Lanes()
            for i in 0..<x.count {
                let weight = w[i], y = x[i] - low
                let level = clamped(roundedHalfAway(inverse * y), .zero, ceiling)
                sumQ += weight * level
                sumQQ += (weight * level) * level
                sumYQ += (weight * y) * level
            }
            for lane in 0..<min(Lanes.scalarCount, candidates.count - k) where inverse[lane] > 0 {
                consider(inverse[lane], sumQ[lane], sumQQ[lane], sumYQ[lane])
            }
            k += Lanes.scalarCount
        }
        if bestInverse == 0 {
            // No candidate gave a positive scale: span [low, high] plainly.
            bestInverse = top / (high - low)
            best.squaredError = 0
            for i in 0..<x.count {
                let level = min(max(roundedHalfAway(bestInverse * (x[i] - low)), 0), top)
                let e = x[i] - best.scale * level - best.offset
                best.squaredError += w[i] * e * e
            }
        }
        for i in 0..<x.count { q[i] = Int32(min(max(roundedHalfAway(bestInverse * (x[i] - low)), 0), top)) }
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

    /// `v.rounded()` (to nearest, ties away from zero) without the libm
    /// call it costs on baseline x86-64, and without a branch on the data:
    /// below 2²³ truncation and the remainder r = v − trunc(v) are exact,
    /// and trunc(2r) is the ±1 (or 0) that rounding adds.
    @inline(__always)
    static func roundedHalfAway(_ v: Float) -> Float {
        guard abs(v) < 8_388_608 else { return v } // already whole, or not finite
        let whole = Float(Int32(v))
        let rest = v - whole
        return whole + Float(Int32(rest + rest))
    }

    /// Candidates side by side: one per lane.
    typealias Lanes = SIMD8<Float>

    /// Inverse scales of candidates k…k+7 (lanes past the last hold 0).
    @inline(__always)
    static func inverses(_ candidates: Candidates, from k: Int, over span: Float) -> Lanes {
        var inverse = Lanes()
        for lane in 0..<min(Lanes.scalarCount, candidates.count - k) {
            inverse[lane] = candidates.position(k + lane) / span
        }
        return inverse
    }

    /// `roundedHalfAway` in every lane, exactly, with no integer conversion:
    /// adding and taking away 1.5·2²³ rounds |v| < 2²² to nearest even, and
    /// a tie that went down (|v| − r = ½) is moved up. Transparent because
    /// `@inline(__always)` left these SIMD8 helpers as a call per value.
    @_transparent
    static func roundedHalfAway(_ v: Lanes) -> Lanes {
        let magnitude = v.replacing(with: -v, where: v .< 0)
        let magic = Lanes(repeating: 12_582_912)
        var r = (magnitude + magic) - magic
        r = r.replacing(with: r + 1, where: magnitude - r .== 0.5)
        r = r.replacing(with: magnitude, where: magnitude .>= 8_388_608) // already whole
        return r.replacing(with: -r, where: v .< 0)
    }

    /// Each lane of `v` kept within low…high (the stdlib's `pointwiseMin`
    /// and `pointwiseMax` go lane by lane).
    @_transparent
    static func clamped(_ v: Lanes, _ low: Lanes, _ high: Lanes) -> Lanes {
        let raised = v.replacing(with: low, where: v .< low)
        return raised.replacing(with: high, where: raised .> high)
    }

    /// The value of largest magnitude, with its sign (the first one on ties).
    @inlinable
    public static func signedMaximum(_ x: UnsafeBufferPointer<Float>) -> Float {
        var pivot: Float = 0
        for v in x where abs(v) > abs(pivot) { pivot = v }
        return pivot
    }

    /// Where a fit's weights come from: a buffer, or 1 everywhere; generic
    /// so that each kind gets its own loop with no test per value.
    private protocol WeightSource {
        subscript(_ i: Int) -> Float { get }
    }

    private struct UnitWeights: WeightSource {
        @inline(__always) subscript(_ i: Int) -> Float { 1 }
    }

    private struct GivenWeights: WeightSource {
        let base: UnsafePointer<Float>
        init(_ base: UnsafePointer<Float>) { self.base = base }
        @inline(__always) subscript(_ i: Int) -> Float { base[i] }
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
