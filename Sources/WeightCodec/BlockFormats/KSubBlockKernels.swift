/// The inner loops of the K-format search, over one sub-block of 16 or 32
/// weights (always a multiple of eight), eight weights per SIMD step.
///
/// Reconstructions are computed exactly as the decoders compute them
/// (`dl·q − ml` or `dl·q` in f32, lane by lane), so an error measured here
/// is the error of the stored block.
enum KSubBlockKernels {
    typealias Lanes = SIMD8<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> Lanes {
        UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self)
    }

    /// Nearest integer (ties to even) for |v| < 2²²; larger values stay
    /// large and are clamped by the caller.
    @inline(__always)
    static func nearest(_ v: Lanes) -> Lanes {
        let magic = Lanes(repeating: 12_582_912) // 1.5·2²³
        return (v + magic) - magic
    }

    @inline(__always)
    static func clamped(_ v: Lanes, _ low: Lanes, _ high: Lanes) -> Lanes {
        let raised = v.replacing(with: low, where: v .< low)
        return raised.replacing(with: high, where: raised .> high)
    }

    /// `nearest` for one value.
    @inline(__always)
    static func nearest(_ v: Float) -> Float {
        let magic: Float = 12_582_912
        return (v + magic) - magic
    }

    // MARK: - Offset grids: x̂ = dl·q − ml, q ∈ 0…top

    /// Σw(x − x̂)² with every q the nearest index for the stored dl and ml.
    @inline(__always)
    static func offsetError(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count n: Int, dl: Float, ml: Float, top: Float
    ) -> Float {
        let inverse = Lanes(repeating: dl == 0 ? 0 : 1 / dl)
        let ceiling = Lanes(repeating: top)
        var sum = Lanes()
        for i in stride(from: 0, to: n, by: Lanes.scalarCount) {
            let value = load(x, i)
            let level = clamped(nearest((value + ml) * inverse), .zero, ceiling)
            let e = value - (dl * level - ml)
            sum += load(w, i) * e * e
        }
        return sum.sum()
    }

    /// Writes the nearest indices for dl and ml; returns Σwq, Σwq², Σwxq.
    @inline(__always)
    static func offsetLevels(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count n: Int, dl: Float, ml: Float, top: Float,
        into q: UnsafeMutablePointer<Int32>
    ) -> (q: Float, qq: Float, xq: Float) {
        let inverse: Float = dl == 0 ? 0 : 1 / dl
        var sumQ: Float = 0, sumQQ: Float = 0, sumXQ: Float = 0
        for i in 0..<n {
            let level = min(max(nearest((x[i] + ml) * inverse), 0), top)
            q[i] = Int32(level)
            let wq = w[i] * level
            sumQ += wq
            sumQQ += wq * level
            sumXQ += wq * x[i]
        }
        return (sumQ, sumQQ, sumXQ)
    }

    /// One Lloyd step on an offset grid x ≈ scale·q + offset: indices
    /// re-rounded, then the least-squares scale and offset (≤ 0) for them,
    /// with their error. Nil when those indices leave the fit undetermined.
    @inline(__always)
    static func offsetLloydStep(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count n: Int, top: Float,
        scale: Float, offset: Float, into q: UnsafeMutablePointer<Int32>
    ) -> (scale: Float, offset: Float, error: Float)? {
        let inverse = Lanes(repeating: 1 / scale), ceiling = Lanes(repeating: top)
        var sumW = Lanes(), sumX = Lanes(), sumQ = Lanes(), sumQQ = Lanes(), sumXQ = Lanes()
        for i in stride(from: 0, to: n, by: Lanes.scalarCount) {
            let value = load(x, i), weight = load(w, i)
            let level = clamped(nearest((value - offset) * inverse), .zero, ceiling)
            for lane in 0..<Lanes.scalarCount { q[i + lane] = Int32(level[lane]) }
            let wq = weight * level
            sumW += weight
            sumX += weight * value
            sumQ += wq
            sumQQ += wq * level
            sumXQ += wq * value
        }
        let (sw, sx, sq, sqq, sxq) = (sumW.sum(), sumX.sum(), sumQ.sum(), sumQQ.sum(), sumXQ.sum())
        let determinant = sw * sqq - sq * sq
        guard determinant > 0 else { return nil }
        var d = (sw * sxq - sq * sx) / determinant
        var m = (sqq * sx - sq * sxq) / determinant
        if m > 0 {
            m = 0
            d = sxq / sqq
        }
        guard d > 0, d.isFinite else { return nil }
        var sum = Lanes()
        for i in stride(from: 0, to: n, by: Lanes.scalarCount) {
            var level = Lanes()
            for lane in 0..<Lanes.scalarCount { level[lane] = Float(q[i + lane]) }
            let e = load(x, i) - (d * level + m)
            sum += load(w, i) * e * e
        }
        return (d, m, sum.sum())
    }

    // MARK: - Symmetric grids: x̂ = dl·q, q ∈ lo…hi

    @inline(__always)
    static func symmetricError(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count n: Int, dl: Float, lo: Float, hi: Float
    ) -> Float {
        let inverse = Lanes(repeating: dl == 0 ? 0 : 1 / dl)
        let low = Lanes(repeating: lo), high = Lanes(repeating: hi)
        var sum = Lanes()
        for i in stride(from: 0, to: n, by: Lanes.scalarCount) {
            let value = load(x, i)
            let level = clamped(nearest(value * inverse), low, high)
            let e = value - dl * level
            sum += load(w, i) * e * e
        }
        return sum.sum()
    }

    /// Writes the nearest indices for dl; returns Σwq², Σwxq.
    @inline(__always)
    static func symmetricLevels(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count n: Int, dl: Float, lo: Float, hi: Float,
        into q: UnsafeMutablePointer<Int32>
    ) -> (qq: Float, xq: Float) {
        let inverse: Float = dl == 0 ? 0 : 1 / dl
        var sumQQ: Float = 0, sumXQ: Float = 0
        for i in 0..<n {
            let level = min(max(nearest(x[i] * inverse), lo), hi)
            q[i] = Int32(level)
            let wq = w[i] * level
            sumQQ += wq * level
            sumXQ += wq * x[i]
        }
        return (sumQQ, sumXQ)
    }

    /// One Lloyd step on a symmetric grid x ≈ scale·q; nil when every index is 0.
    @inline(__always)
    static func symmetricLloydStep(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count n: Int, lo: Float, hi: Float,
        scale: Float, into q: UnsafeMutablePointer<Int32>
    ) -> (scale: Float, error: Float)? {
        let inverse = Lanes(repeating: 1 / scale)
        let low = Lanes(repeating: lo), high = Lanes(repeating: hi)
        var sumQQ = Lanes(), sumXQ = Lanes(), energy = Lanes()
        for i in stride(from: 0, to: n, by: Lanes.scalarCount) {
            let value = load(x, i), weight = load(w, i)
            let level = clamped(nearest(value * inverse), low, high)
            for lane in 0..<Lanes.scalarCount { q[i + lane] = Int32(level[lane]) }
            let wq = weight * level
            sumQQ += wq * level
            sumXQ += wq * value
            energy += weight * value * value
        }
        let (sqq, sxq) = (sumQQ.sum(), sumXQ.sum())
        guard sqq > 0 else { return nil }
        return (sxq / sqq, max(energy.sum() - sxq * sxq / sqq, 0))
    }
}
