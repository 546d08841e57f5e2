/// GridFit's searches judged as a block format stores their result.
///
/// A block format keeps its scale (and offset) in a short float, binary16
/// in ggml's formats, so the least-squares scale is not the one the decoder
/// reads. Each search here rounds every candidate's fit to its storage
/// precision, rounds the indices again to the stored scale, and measures
/// Σw(x − x̂)² exactly as the decoder will reconstruct x̂. The best candidate
/// is refined: refitted to its own indices (a step that can only help, kept
/// only when it does) and tried with its stored neighbours.
///
/// The kernels run eight values at a time in independent lanes (SIMD8) with a
/// scalar tail on the same formulas, so sums do not wait on one another.
/// Indices round half to even; nothing is allocated.
extension GridFit {
    /// The precision a block format stores a fitted scale or offset in.
    public enum Precision: Sendable, Hashable {
        /// IEEE 754 binary32: stored as computed.
        case binary32
        /// IEEE 754 binary16, rounded to nearest even; finite values beyond
        /// the format's range are held at ±65504 rather than becoming infinite.
        case binary16

        /// The value `v` becomes once stored.
        @inlinable public func stored(_ v: Float) -> Float {
            switch self {
            case .binary32: return v
            case .binary16: return GridFit.roundedToBinary16(min(max(v, -65504), 65504))
            }
        }

        /// The stored value next to the stored value `v`, toward +∞ or −∞.
        @inlinable public func neighbour(of v: Float, up: Bool) -> Float {
            switch self {
            case .binary32: return up ? v.nextUp : v.nextDown
            case .binary16:
                let half = Float16(v)
                return Float(up ? half.nextUp : half.nextDown)
            }
        }
    }

    /// Refits of the best stored scale to its own indices, at most.
    static let refinements = 3

    /// A candidate is judged stored only when its unstored least-squares
    /// error is within this factor of the best stored error so far: storage
    /// moves an error by far less, so the others cannot win.
    static let promise: Float = 1.1

    /// `Float(Float16(v))` for |v| ≤ 65504 without the library call (x86-64
    /// has no binary16 conversion instruction before F16C): round to nearest
    /// even on the 11-bit significand of a normal binary16, or on the fixed
    /// 2⁻²⁴ quantum of a subnormal one.
    @inlinable public static func roundedToBinary16(_ v: Float) -> Float {
        let magnitude = abs(v)
        guard magnitude.isFinite else { return v }
        let rounded: UInt32
        if magnitude < 0x1p-14 {
            rounded = (((magnitude * 0x1p24 + 0x1.8p23) - 0x1.8p23) * 0x1p-24).bitPattern
        } else {
            let bits = magnitude.bitPattern
            rounded = (bits &+ 0x0FFF &+ (bits >> 13 & 1)) & ~0x1FFF
        }
        return Float(bitPattern: rounded | v.bitPattern & 0x8000_0000)
    }

    /// Symmetric integer grid lo…hi with a stored scale: x ≈ s·q.
    ///
    /// Candidates are grid positions given to the signed value of largest
    /// magnitude, as in `symmetric`; `more` is a second range (the pivot on
    /// the grid's other side, say). `seed`, when not zero, is a stored scale
    /// judged alongside: a reference quantizer's, so that the search cannot
    /// do worse than it. Writes the indices (the levels lo…hi) to `q`; the
    /// returned scale is the stored one and `squaredError` is exact for it.
    public static func symmetricStored(
        _ x: UnsafeBufferPointer<Float>, weights w: UnsafeBufferPointer<Float>?,
        levels: ClosedRange<Int32>, candidates: Candidates, alsoTrying more: Candidates? = nil,
        seed: Float = 0, precision: Precision, into q: UnsafeMutableBufferPointer<Int32>
    ) -> Fit {
        precondition(q.count >= x.count && (w == nil || w!.count >= x.count), "buffers shorter than the values")
        let grid = IntegerGrid(levels)
        let fit =
            if let w { storedSearch(x, GivenWeights(w), grid, candidates, more, seed, precision) } else {
                storedSearch(x, UnitWeights(), grid, candidates, more, seed, precision)
            }
        writeIndices(x, grid, scale: fit.scale, into: q)
        return fit
    }

    /// A sorted codebook of up to sixteen levels (IQ4_NL's), laid out once
    /// for the searches: the nearest level to a value is the one past every
    /// midpoint below it, counted eight values at a time without branches.
    public struct Codebook: Sendable, Hashable {
        var levels = SIMD16<Float>()
        /// Midpoints between neighbouring levels; +∞ past the last.
        var midpoints = SIMD16<Float>(repeating: .infinity)
        public let count: Int

        public init(_ levels: [Float]) {
            precondition((1...16).contains(levels.count), "a codebook of 1 to 16 levels, not \(levels.count)")
            precondition(zip(levels, levels.dropFirst()).allSatisfy { $0 < $1 }, "codebook levels must increase")
            count = levels.count
            for i in levels.indices { self.levels[i] = levels[i] }
            for i in 0..<count - 1 { midpoints[i] = (levels[i] + levels[i + 1]) / 2 }
        }

        public subscript(index: Int) -> Float { levels[index] }
    }

    /// Symmetric non-uniform grid with a stored scale: x ≈ s·c[q] for a
    /// codebook c, searched as `symmetricStored`. Indices (positions in c)
    /// go to `q`; a value on the midpoint of two levels takes the lower.
    public static func codebookStored(
        _ x: UnsafeBufferPointer<Float>, weights w: UnsafeBufferPointer<Float>?,
        levels codebook: Codebook, candidates: Candidates, alsoTrying more: Candidates? = nil,
        seed: Float = 0, precision: Precision, into q: UnsafeMutableBufferPointer<Int32>
    ) -> Fit {
        precondition(q.count >= x.count && (w == nil || w!.count >= x.count), "buffers shorter than the values")
        let fit =
            if let w { storedSearch(x, GivenWeights(w), codebook, candidates, more, seed, precision) } else {
                storedSearch(x, UnitWeights(), codebook, candidates, more, seed, precision)
            }
        writeIndices(x, codebook, scale: fit.scale, into: q)
        return fit
    }

    /// The exact error Σw(x − s·c[q])² of a given scale s, each q the index
    /// of the level nearest x/s.
    public static func codebookError(
        _ x: UnsafeBufferPointer<Float>, weights w: UnsafeBufferPointer<Float>?, levels codebook: Codebook,
        scale s: Float
    ) -> Float {
        guard s != 0, s.isFinite else { return w.map { energy(x, GivenWeights($0)) } ?? energy(x, UnitWeights()) }
        return w.map { storedError(x, GivenWeights($0), codebook, scale: s) }
            ?? storedError(x, UnitWeights(), codebook, scale: s)
    }

    /// The index of the level nearest x/s for each value, into `q` (the
    /// index nearest zero when s is zero).
    public static func codebookIndices(
        _ x: UnsafeBufferPointer<Float>, levels codebook: Codebook, scale s: Float,
        into q: UnsafeMutableBufferPointer<Int32>
    ) {
        writeIndices(x, codebook, scale: s, into: q)
    }

    /// Offset grid 0…levels−1 with stored scale and offset: x ≈ s·q + t.
    ///
    /// Candidates are grid positions given to the range max − min. Each
    /// indexes the values from the minimum; positions past the grid's top,
    /// which clip, also index from the maximum and from the centre, so that
    /// either tail or both can be the one clipped. Every candidate's
    /// least-squares fit is judged stored, and so is the fit to the indices
    /// that fit rounds to; the best is then tried shifted by eighths of a
    /// step, refitted and moved to its stored neighbours. The offset is free
    /// in sign. `seed` is a stored (scale, offset) judged alongside.
    public static func offsetStored(
        _ x: UnsafeBufferPointer<Float>, weights w: UnsafeBufferPointer<Float>?,
        levels: Int32, candidates: Candidates, seed: (scale: Float, offset: Float)? = nil,
        precision: Precision, into q: UnsafeMutableBufferPointer<Int32>
    ) -> Fit {
        precondition(levels >= 2, "an offset grid needs two levels")
        precondition(q.count >= x.count && (w == nil || w!.count >= x.count), "buffers shorter than the values")
        let top = Float(levels - 1)
        let fit =
            if let w { storedOffsetSearch(x, GivenWeights(w), top, candidates, seed, precision) } else {
                storedOffsetSearch(x, UnitWeights(), top, candidates, seed, precision)
            }
        let inverse = fit.scale == 0 ? 0 : 1 / fit.scale
        for i in 0..<x.count { q[i] = Int32(roundHalfEven(clamp((x[i] - fit.offset) * inverse, 0, top))) }
        return fit
    }
}

// MARK: - Weights and grids, eight lanes at a time

typealias Lanes = SIMD8<Float>

/// Values in place, read eight at a time: the base address taken once.
struct Values {
    let p: UnsafePointer<Float>
    let count: Int
    init(_ x: UnsafeBufferPointer<Float>) {
        p = x.baseAddress ?? UnsafePointer(bitPattern: 4)!
        count = x.count
    }
    @inline(__always) subscript(i: Int) -> Float { p[i] }
    @inline(__always) func lanes(_ i: Int) -> Lanes { UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self) }
}

/// Round half to even by the binary32 significand: exact for |v| < 2²².
@inline(__always) func roundHalfEven(_ v: Float) -> Float { (v + 0x1.8p23) - 0x1.8p23 }
@inline(__always) func roundHalfEven(_ v: Lanes) -> Lanes { (v + 0x1.8p23) - 0x1.8p23 }

/// v held to [low, high]; NaN goes to `low`.
@inline(__always) func clamp(_ v: Float, _ low: Float, _ high: Float) -> Float {
    v > low ? (v < high ? v : high) : low
}
/// v held to [low, high] lane by lane, written as the selects x86's maxps
/// and minps compute ((v > low) ? v : low, then (v < high) ? v : high), so
/// NaN lanes go to `high`; the searches never pass one (a block with a NaN
/// fits to zero first).
@inline(__always) func clamp(_ v: Lanes, _ low: Float, _ high: Float) -> Lanes {
    let lows = Lanes(repeating: low), highs = Lanes(repeating: high)
    let above = lows.replacing(with: v, where: v .> lows)
    return highs.replacing(with: above, where: above .< highs)
}

/// Weights as the searches read them: given, or all one.
protocol FitWeights {
    func callAsFunction(_ i: Int) -> Float
    func lanes(_ i: Int) -> Lanes
}

struct UnitWeights: FitWeights {
    @inline(__always) func callAsFunction(_ i: Int) -> Float { 1 }
    @inline(__always) func lanes(_ i: Int) -> Lanes { Lanes(repeating: 1) }
}

struct GivenWeights: FitWeights {
    let w: UnsafePointer<Float>
    init(_ w: UnsafeBufferPointer<Float>) { self.w = w.baseAddress ?? UnsafePointer(bitPattern: 4)! }
    @inline(__always) func callAsFunction(_ i: Int) -> Float { w[i] }
    @inline(__always) func lanes(_ i: Int) -> Lanes { UnsafeRawPointer(w + i).loadUnaligned(as: Lanes.self) }
}

/// A symmetric grid of levels that a scaled value rounds onto.
protocol FitGrid {
    /// The level nearest to `v` (v in grid units), one value or eight.
    func nearestLevel(_ v: Float) -> Float
    func nearestLevels(_ v: Lanes) -> Lanes
    /// Index of the level nearest to `v`, as the format stores it.
    func index(nearest v: Float) -> Int32
    /// The index written when the scale is zero.
    var zeroIndex: Int32 { get }
}

/// The integers lo…hi; an index is the level itself.
struct IntegerGrid: FitGrid {
    let low: Float, high: Float
    init(_ levels: ClosedRange<Int32>) {
        low = Float(levels.lowerBound)
        high = Float(levels.upperBound)
    }
    @inline(__always) func nearestLevel(_ v: Float) -> Float { roundHalfEven(clamp(v, low, high)) }
    @inline(__always) func nearestLevels(_ v: Lanes) -> Lanes { roundHalfEven(clamp(v, low, high)) }
    @inline(__always) func index(nearest v: Float) -> Int32 { Int32(nearestLevel(v)) }
    var zeroIndex: Int32 { Int32(clamp(0, low, high)) }
}

extension GridFit.Codebook: FitGrid {
    @inline(__always) func index(nearest v: Float) -> Int32 {
        let below = SIMD16<Int32>(repeating: 1).replacing(with: 0, where: .!(midpoints .< v))
        return below.wrappedSum()
    }
    @inline(__always) func nearestLevel(_ v: Float) -> Float { levels[Int(index(nearest: v))] }
    @inline(__always) func nearestLevels(_ v: Lanes) -> Lanes {
        var level = Lanes(repeating: levels[0])
        for j in 0..<count - 1 { level.replace(with: levels[j + 1], where: v .> midpoints[j]) }
        return level
    }
    var zeroIndex: Int32 { index(nearest: 0) }
}

// MARK: - Kernels

extension GridFit {
    /// Σw·x².
    @inline(__always)
    static func energy<W: FitWeights>(_ x: UnsafeBufferPointer<Float>, _ w: W) -> Float {
        let x = Values(x)
        var sum = Lanes()
        var i = 0
        while i + 8 <= x.count {
            let v = x.lanes(i)
            sum += w.lanes(i) * v * v
            i += 8
        }
        var total = sum.sum()
        while i < x.count {
            total += w(i) * x[i] * x[i]
            i += 1
        }
        return total
    }

    /// The least-squares scale for the levels nearest inverse·x and its
    /// unstored error Σwx² − (Σwxq)²/Σwq² (given Σwx² as `energy`), or nil
    /// when the levels are all zero.
    @inline(__always)
    static func fittedScale<G: FitGrid, W: FitWeights>(
        _ x: UnsafeBufferPointer<Float>, _ w: W, _ grid: G, inverse: Float, energy: Float
    ) -> (scale: Float, error: Float)? {
        let x = Values(x)
        var xq = Lanes(), qq = Lanes()
        var i = 0
        while i + 8 <= x.count {
            let v = x.lanes(i)
            let level = grid.nearestLevels(v * inverse), wl = w.lanes(i) * level
            xq += wl * v
            qq += wl * level
            i += 8
        }
        var sumXQ = xq.sum(), sumQQ = qq.sum()
        while i < x.count {
            let level = grid.nearestLevel(x[i] * inverse), wl = w(i) * level
            sumXQ += wl * x[i]
            sumQQ += wl * level
            i += 1
        }
        guard sumQQ > 0 else { return nil }
        return (sumXQ / sumQQ, energy - sumXQ * sumXQ / sumQQ)
    }

    /// Σw(x − s·level)² with each level the one nearest x/s (s ≠ 0).
    @inline(__always)
    static func storedError<G: FitGrid, W: FitWeights>(
        _ x: UnsafeBufferPointer<Float>, _ w: W, _ grid: G, scale s: Float
    ) -> Float {
        let x = Values(x)
        let inverse = 1 / s
        var sum = Lanes()
        var i = 0
        while i + 8 <= x.count {
            let v = x.lanes(i)
            let e = v - s * grid.nearestLevels(v * inverse)
            sum += w.lanes(i) * e * e
            i += 8
        }
        var total = sum.sum()
        while i < x.count {
            let e = x[i] - s * grid.nearestLevel(x[i] * inverse)
            total += w(i) * e * e
            i += 1
        }
        return total
    }

    @inline(__always)
    static func writeIndices<G: FitGrid>(
        _ x: UnsafeBufferPointer<Float>, _ grid: G, scale s: Float, into q: UnsafeMutableBufferPointer<Int32>
    ) {
        guard s != 0, s.isFinite else {
            for i in 0..<x.count { q[i] = grid.zeroIndex }
            return
        }
        let inverse = 1 / s
        for i in 0..<x.count { q[i] = grid.index(nearest: x[i] * inverse) }
    }

    /// The least-squares (scale, offset) for the levels nearest
    /// (x − anchor)·inverse + phase on 0…top, with its unstored error, or
    /// nil when the levels do not determine both. The sums are of
    /// y = x − origin: near the data, so that a large common level does not
    /// swamp them.
    @inline(__always)
    static func fittedScaleAndOffset<W: FitWeights>(
        _ x: UnsafeBufferPointer<Float>, _ w: W, top: Float, anchor: Float, phase: Float = 0, origin: Float,
        inverse: Float
    ) -> (scale: Float, offset: Float, error: Float)? {
        let x = Values(x)
        var lw = Lanes(), ly = Lanes(), lyy = Lanes(), lq = Lanes(), lqq = Lanes(), lyq = Lanes()
        var i = 0
        while i + 8 <= x.count {
            let v = x.lanes(i)
            let level = roundHalfEven(clamp((v - anchor) * inverse + phase, 0, top))
            let weight = w.lanes(i), y = v - origin, wy = weight * y, wq = weight * level
            lw += weight
            ly += wy
            lyy += wy * y
            lq += wq
            lqq += wq * level
            lyq += wq * y
            i += 8
        }
        var sumW = lw.sum(), sumY = ly.sum(), sumYY = lyy.sum(), sumQ = lq.sum(), sumQQ = lqq.sum()
        var sumYQ = lyq.sum()
        while i < x.count {
            let level = roundHalfEven(clamp((x[i] - anchor) * inverse + phase, 0, top))
            let weight = w(i), y = x[i] - origin, wy = weight * y, wq = weight * level
            sumW += weight
            sumY += wy
            sumYY += wy * y
            sumQ += wq
            sumQQ += wq * level
            sumYQ += wq * y
            i += 1
        }
        // Normal equations [ΣwQ² ΣwQ; ΣwQ Σw]·[d; m'] = [ΣwyQ; Σwy]; at the
        // solution the error is Σwy² − d·ΣwyQ − m'·Σwy.
        let determinant = sumW * sumQQ - sumQ * sumQ
        guard determinant > 0 else { return nil }
        let d = (sumW * sumYQ - sumQ * sumY) / determinant
        let shift = (sumQQ * sumY - sumQ * sumYQ) / determinant
        return (d, shift + origin, max(sumYY - d * sumYQ - shift * sumY, 0))
    }

    /// Σw(x − (s·q + t))² with q the level nearest (x − t)/s on 0…top, in
    /// the decoder's order: s·q rounded, then t added.
    @inline(__always)
    static func offsetError<W: FitWeights>(
        _ x: UnsafeBufferPointer<Float>, _ w: W, top: Float, scale s: Float, offset t: Float
    ) -> Float {
        let x = Values(x)
        let inverse = s == 0 ? 0 : 1 / s
        var sum = Lanes()
        var i = 0
        while i + 8 <= x.count {
            let v = x.lanes(i)
            let level = roundHalfEven(clamp((v - t) * inverse, 0, top))
            let e = v - (level * s + t)
            sum += w.lanes(i) * e * e
            i += 8
        }
        var total = sum.sum()
        while i < x.count {
            let level = roundHalfEven(clamp((x[i] - t) * inverse, 0, top))
            let e = x[i] - (level * s + t)
            total += w(i) * e * e
            i += 1
        }
        return total
    }
}

// MARK: - The searches

extension GridFit {
    static func storedSearch<G: FitGrid, W: FitWeights>(
        _ x: UnsafeBufferPointer<Float>, _ w: W, _ grid: G,
        _ candidates: Candidates, _ more: Candidates?, _ seed: Float, _ precision: Precision
    ) -> Fit {
        let energy = energy(x, w)
        var best = Fit(scale: 0, squaredError: energy)
        let pivot = signedMaximum(x)
        guard pivot != 0, energy > 0 else { return best }

        func consider(_ scale: Float) {
            let s = precision.stored(scale)
            guard s != 0, s.isFinite, s != best.scale else { return }
            let error = storedError(x, w, grid, scale: s)
            if error < best.squaredError { best = Fit(scale: s, squaredError: error) }
        }
        func scan(_ range: Candidates) {
            for k in 0..<range.count {
                guard let fit = fittedScale(x, w, grid, inverse: range.position(k) / pivot, energy: energy),
                    fit.error <= promise * best.squaredError
                else { continue }
                consider(fit.scale)
            }
        }
        scan(candidates)
        if let more { scan(more) }
        if seed != 0 { consider(seed) }
        for _ in 0..<refinements {
            let before = best.squaredError
            guard best.scale != 0,
                let fit = fittedScale(x, w, grid, inverse: 1 / best.scale, energy: energy)
            else { break }
            consider(fit.scale)
            if best.squaredError >= before { break }
        }
        if best.scale != 0 {
            let s = best.scale
            consider(precision.neighbour(of: s, up: true))
            consider(precision.neighbour(of: s, up: false))
        }
        return best
    }

    static func storedOffsetSearch<W: FitWeights>(
        _ x: UnsafeBufferPointer<Float>, _ w: W, _ top: Float,
        _ candidates: Candidates, _ seed: (scale: Float, offset: Float)?, _ precision: Precision
    ) -> Fit {
        guard var low = x.first, var high = x.first else { return Fit(scale: 0, squaredError: 0) }
        for v in x {
            low = min(low, v)
            high = max(high, v)
        }
        // The scale-free fit: every value at the weighted mean.
        var sumW: Float = 0, sumY: Float = 0
        for i in 0..<x.count {
            sumW += w(i)
            sumY += w(i) * (x[i] - low)
        }
        let mean = precision.stored(sumW > 0 ? low + sumY / sumW : low)
        var best = Fit(scale: 0, offset: mean, squaredError: offsetError(x, w, top: top, scale: 0, offset: mean))
        guard high > low else { return best }

        func consider(_ scale: Float, _ offset: Float) {
            let s = precision.stored(scale), t = precision.stored(offset)
            guard s > 0, s.isFinite, t.isFinite, s != best.scale || t != best.offset else { return }
            let e = offsetError(x, w, top: top, scale: s, offset: t)
            if e < best.squaredError { best = Fit(scale: s, offset: t, squaredError: e) }
        }
        // A promising fit, and the fit to the indices that fit rounds to.
        func considerWithStep(_ fit: (scale: Float, offset: Float, error: Float)?) {
            guard let fit, fit.error <= promise * best.squaredError else { return }
            consider(fit.scale, fit.offset)
            guard fit.scale > 0, fit.scale.isFinite,
                let next = fittedScaleAndOffset(x, w, top: top, anchor: fit.offset, origin: low, inverse: 1 / fit.scale)
            else { return }
            consider(next.scale, next.offset)
        }
        for k in 0..<candidates.count {
            let position = candidates.position(k), inverse = position / (high - low)
            guard inverse > 0 else { continue }
            considerWithStep(fittedScaleAndOffset(x, w, top: top, anchor: low, origin: low, inverse: inverse))
            guard position > top else { continue }
            considerWithStep(
                fittedScaleAndOffset(x, w, top: top, anchor: high, phase: top, origin: low, inverse: inverse))
            considerWithStep(
                fittedScaleAndOffset(
                    x, w, top: top, anchor: (low + high) / 2, phase: top / 2, origin: low, inverse: inverse))
        }
        if let seed { consider(seed.scale, seed.offset) }
        if best.scale > 0 {
            let s = best.scale, t = best.offset
            for eighths in -3...3 where eighths != 0 {
                let anchor = t + Float(eighths) / 8 * s
                considerWithStep(fittedScaleAndOffset(x, w, top: top, anchor: anchor, origin: low, inverse: 1 / s))
            }
        }
        for _ in 0..<refinements {
            let before = best.squaredError
            guard best.scale > 0,
                let fit = fittedScaleAndOffset(x, w, top: top, anchor: best.offset, origin: low, inverse: 1 / best.scale)
            else { break }
            consider(fit.scale, fit.offset)
            if best.squaredError >= before { break }
        }
        if best.scale > 0 {
            let s = best.scale, t = best.offset
            consider(precision.neighbour(of: s, up: true), t)
            consider(precision.neighbour(of: s, up: false), t)
            consider(s, precision.neighbour(of: t, up: true))
            consider(s, precision.neighbour(of: t, up: false))
        }
        return best
    }
}
