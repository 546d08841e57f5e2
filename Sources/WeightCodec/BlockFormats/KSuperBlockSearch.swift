import RateDistortion

/// Our quantizer for the K formats: the search that picks, for one
/// super-block of 256 weights, the f16 super-block scale(s), the small
/// integer sub-block scale (and min) codes and every weight's index.
///
/// Two families share it. Offset formats (Q2_K, Q4_K, Q5_K) reconstruct
/// x̂ = (d·s_j)·q − (dmin·m_j), q ∈ 0…top, with unsigned codes s_j, m_j;
/// symmetric formats (Q3_K, Q6_K) reconstruct x̂ = (d·c_j)·q, q ∈ lo…hi,
/// with signed codes c_j. The objective is the real one, E = Σw(x − x̂)²
/// with x̂ computed from the stored values exactly as the decoder does:
///
/// 1. each sub-block's own scale (and offset) by weighted least squares on
///    its grid (`GridFit`), then polished by Lloyd steps;
/// 2. the super-block scale for those sub-block scales, again a weighted
///    least-squares grid fit, weighted by how fast each sub-block's error
///    grows with its scale (Σwq²) or its min (Σw);
/// 3. with d (and dmin) rounded to f16, each sub-block takes the code (pair)
///    among the neighbours of its target that gives the least real error,
///    every weight re-rounded to the stored scale (the min's target moves
///    with the scale code tried: a scale stored δ high wants a min δ·E[q]
///    higher);
/// 4. d (and dmin) are refitted by least squares to those codes and indices
///    (the reconstruction is linear in them) and step 3 repeats while the
///    real error falls. The best state seen is the one kept.
///
/// Everything runs in `Scratch`, allocated once per call to `quantize`.
enum KSuperBlockSearch {
    static let superBlock = KFormatPacking.superBlock
    typealias Kernels = KSubBlockKernels

    /// Geometry of an offset format.
    struct OffsetGeometry: Sendable {
        var subBlockSize: Int
        /// Largest weight index (3, 15 or 31).
        var top: Int32
        /// Largest scale or min code (15 or 63).
        var codeTop: Int32
        /// Sub-block fits: grid positions given to the range max − min.
        var fitCandidates: GridFit.Candidates
        /// Super-block fits: grid positions given to the largest sub-block scale.
        var codeCandidates: GridFit.Candidates
        /// Codes tried beyond the two neighbours of a target, on each side.
        var codeReach: Int32 = 0
        var subBlocks: Int { superBlock / subBlockSize }
    }

    /// Geometry of a symmetric format (sub-blocks of 16).
    struct SymmetricGeometry: Sendable {
        var levels: ClosedRange<Int32>
        var codes: ClosedRange<Int32>
        var fitCandidates: GridFit.Candidates
        var codeCandidates: GridFit.Candidates
        var codeReach: Int32 = 0
        var subBlockSize: Int { 16 }
        var subBlocks: Int { superBlock / 16 }
    }

    /// The chosen super-block: scales as stored (f16-exact), the codes in
    /// `scratch.scaleCodes` / `scratch.minCodes`, indices in `scratch.levels`.
    struct Choice {
        var d: Float
        var dmin: Float
        var error: Float
    }

    /// Refinement rounds of steps 3–4.
    static let rounds = 4
    /// Lloyd steps per start in the sub-block polish.
    static let polishSteps = 3

    // MARK: - Offset formats

    static func searchOffset(
        _ x: UnsafePointer<Float>, weights w: UnsafePointer<Float>, geometry g: OffsetGeometry, scratch s: Scratch
    ) -> Choice {
        let n = g.subBlockSize, count = g.subBlocks
        let top = Float(g.top)
        // 1. Sub-block fits: x ≈ scale·q + offset, offset ≤ 0.
        for j in 0..<count {
            let xs = UnsafeBufferPointer(start: x + j * n, count: n)
            let ws = UnsafeBufferPointer(start: w + j * n, count: n)
            let qs = UnsafeMutableBufferPointer(rebasing: s.levels[j * n ..< (j + 1) * n])
            let grid = GridFit.offset(xs, weights: ws, levels: g.top + 1, candidates: g.fitCandidates,
                                      offsetAtMostZero: true, into: qs)
            let fit = polishOffset(xs, ws, top: top, fit: grid, into: qs, trial: s.trial)
            s.scales[j] = max(fit.scale, 0)
            s.mins[j] = max(-fit.offset, 0)
            var sq: Float = 0, sqq: Float = 0, sw: Float = 0, sx: Float = 0
            for i in 0..<n {
                let q = Float(qs[i])
                sq += ws[i] * q
                sqq += ws[i] * q * q
                sw += ws[i]
                sx += ws[i] * xs[i]
            }
            s.meanLevel[j] = sw > 0 ? sq / sw : 0
            s.scaleWeights[j] = sqq
            s.sumW[j] = sw
            s.sumX[j] = sx
        }
        // 2. Super-block scales for the sub-block scales and mins.
        let d0 = superScale(s.scales, s.scaleWeights, count: count, levels: 0...g.codeTop,
                            candidates: g.codeCandidates, scratch: s)
        let m0 = superScale(s.mins, s.sumW, count: count, levels: 0...g.codeTop,
                            candidates: g.codeCandidates, scratch: s)
        // 3–4. Codes and indices through the stored values; refit; repeat.
        var d = storableF16(d0), dmin = storableF16(m0)
        var best = Choice(d: d, dmin: dmin, error: .infinity)
        for round in 0..<rounds {
            var error: Float = 0
            for j in 0..<count { error += chooseOffsetCodes(j, x, w, d: d, dmin: dmin, geometry: g, scratch: s) }
            guard round == 0 || error < best.error else { break }
            best = Choice(d: d, dmin: dmin, error: error)
            s.keep(count: count)
            guard let (nd, nm) = refitOffset(count: count, d: d, dmin: dmin, scratch: s), nd != d || nm != dmin else { break }
            d = nd
            dmin = nm
        }
        s.restore(count: count)
        return best
    }

    /// Picks the scale and min codes of sub-block `j` among the neighbours
    /// of its targets; writes its indices and sums; returns its error.
    @inline(__always)
    private static func chooseOffsetCodes(
        _ j: Int, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, d: Float, dmin: Float,
        geometry g: OffsetGeometry, scratch s: Scratch
    ) -> Float {
        let n = g.subBlockSize, start = j * n, top = Float(g.top)
        let scaleCodes = neighbours(of: s.scales[j], step: d, reach: g.codeReach, within: 0...g.codeTop)
        var bestError = Float.infinity, bestScale: Float = 0, bestMin: Float = 0
        var scaleCode = scaleCodes.lowerBound
        while scaleCode <= scaleCodes.upperBound {
            // A scale stored δ too large is best met by a min δ·E[q] larger
            // (δx̂ = δ·q − δm, least squares in δm), so the min codes are
            // centred on that conditional target.
            let shift = (d * scaleCode - s.scales[j]) * s.meanLevel[j]
            let minCodes = neighbours(of: s.mins[j] + shift, step: dmin, reach: g.codeReach, within: 0...g.codeTop)
            var minCode = minCodes.lowerBound
            while minCode <= minCodes.upperBound {
                let error = Kernels.offsetError(x + start, w + start, count: n, dl: d * scaleCode,
                                                ml: dmin * minCode, top: top)
                if error < bestError { (bestError, bestScale, bestMin) = (error, scaleCode, minCode) }
                minCode += 1
            }
            scaleCode += 1
        }
        s.scaleCodes[j] = Int32(bestScale)
        s.minCodes[j] = Int32(bestMin)
        let sums = Kernels.offsetLevels(x + start, w + start, count: n, dl: d * bestScale, ml: dmin * bestMin,
                                        top: top, into: s.levels.baseAddress! + start)
        s.sumQ[j] = sums.q
        s.sumQQ[j] = sums.qq
        s.sumXQ[j] = sums.xq
        return bestError
    }

    /// Least-squares (d, dmin) for the current codes and indices:
    /// x̂ = d·(s_j·q) − dmin·m_j is linear in both. Returns them f16-rounded,
    /// or nil when the system is degenerate.
    private static func refitOffset(count: Int, d: Float, dmin: Float, scratch s: Scratch) -> (Float, Float)? {
        var a11: Float = 0, a12: Float = 0, a22: Float = 0, b1: Float = 0, b2: Float = 0
        for j in 0..<count {
            let sc = Float(s.scaleCodes[j]), mc = Float(s.minCodes[j])
            a11 += sc * sc * s.sumQQ[j]
            a12 += sc * mc * s.sumQ[j]
            a22 += mc * mc * s.sumW[j]
            b1 += sc * s.sumXQ[j]
            b2 += mc * s.sumX[j]
        }
        // Normal equations of Σw(x − u·A + v·B)²: [a11 −a12; −a12 a22]·[u; v] = [b1; −b2].
        var u = d, v = dmin
        let determinant = a11 * a22 - a12 * a12
        if a11 > 0 && a22 > 0 && determinant > 1e-6 * a11 * a22 {
            u = (b1 * a22 - a12 * b2) / determinant
            v = (a12 * b1 - a11 * b2) / determinant
            if v < 0 {
                v = 0
                u = b1 / a11
            }
        } else if a11 > 0 {
            u = (b1 + v * a12) / a11
        } else if a22 > 0 {
            v = max((u * a12 - b2) / a22, 0)
        } else {
            return nil
        }
        guard u >= 0, u > 0 || v > 0, u.isFinite, v.isFinite else { return nil }
        return (storableF16(u), storableF16(v))
    }

    /// Lloyd steps after the grid fit: re-round every index to the fit's
    /// own scale and offset, refit both, while the error falls; from the fit
    /// and from its grid moved down one level. The grid search rounds
    /// against the run's minimum, so an outlier can leave the bulk
    /// straddling two levels, and a chain from the fit may settle it on the
    /// upper one when the lower (and a smaller min) is better.
    private static func polishOffset(
        _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>, top: Float, fit: GridFit.Fit,
        into q: UnsafeMutableBufferPointer<Int32>, trial: UnsafeMutableBufferPointer<Int32>
    ) -> GridFit.Fit {
        guard fit.scale > 0 else { return fit }
        var best = fit
        for start in 0..<2 {
            var d = fit.scale, m = start == 0 ? fit.offset : min(fit.offset + fit.scale, 0), chain = Float.infinity
            for _ in 0..<polishSteps {
                guard let step = Kernels.offsetLloydStep(x.baseAddress!, w.baseAddress!, count: x.count, top: top,
                                                         scale: d, offset: m, into: trial.baseAddress!),
                      step.error < chain else { break }
                (d, m, chain) = (step.scale, step.offset, step.error)
                if chain < best.squaredError {
                    best = GridFit.Fit(scale: d, offset: m, squaredError: chain)
                    for i in 0..<x.count { q[i] = trial[i] }
                }
            }
        }
        return best
    }

    // MARK: - Symmetric formats

    static func searchSymmetric(
        _ x: UnsafePointer<Float>, weights w: UnsafePointer<Float>, geometry g: SymmetricGeometry, scratch s: Scratch
    ) -> Choice {
        let n = g.subBlockSize, count = g.subBlocks
        let lo = Float(g.levels.lowerBound), hi = Float(g.levels.upperBound)
        // 1. Sub-block fits: x ≈ scale·q.
        for j in 0..<count {
            let xs = UnsafeBufferPointer(start: x + j * n, count: n)
            let ws = UnsafeBufferPointer(start: w + j * n, count: n)
            let qs = UnsafeMutableBufferPointer(rebasing: s.levels[j * n ..< (j + 1) * n])
            var fit = GridFit.symmetric(xs, weights: ws, levels: g.levels, candidates: g.fitCandidates, into: qs)
            for _ in 0..<polishSteps where fit.scale != 0 {
                guard let step = Kernels.symmetricLloydStep(xs.baseAddress!, ws.baseAddress!, count: n, lo: lo, hi: hi,
                                                            scale: fit.scale, into: s.trial.baseAddress!),
                      step.error < fit.squaredError else { break }
                fit = GridFit.Fit(scale: step.scale, squaredError: step.error)
                for i in 0..<n { qs[i] = s.trial[i] }
            }
            s.scales[j] = fit.scale
            var sqq: Float = 0
            for i in 0..<n { sqq += ws[i] * Float(qs[i]) * Float(qs[i]) }
            s.scaleWeights[j] = sqq
        }
        // 2. The super-block scale for the signed sub-block scales.
        let d0 = superScale(s.scales, s.scaleWeights, count: count, levels: g.codes,
                            candidates: g.codeCandidates, scratch: s)
        // 3–4.
        var d = storableF16(d0)
        var best = Choice(d: d, dmin: 0, error: .infinity)
        for round in 0..<rounds {
            var error: Float = 0
            for j in 0..<count { error += chooseSymmetricCode(j, x, w, d: d, geometry: g, scratch: s) }
            guard round == 0 || error < best.error else { break }
            best = Choice(d: d, dmin: 0, error: error)
            s.keep(count: count)
            var a: Float = 0, b: Float = 0
            for j in 0..<count {
                let c = Float(s.scaleCodes[j])
                a += c * c * s.sumQQ[j]
                b += c * s.sumXQ[j]
            }
            guard a > 0 else { break }
            let nd = storableF16(b / a)
            guard nd != d, nd != 0, nd.isFinite else { break }
            d = nd
        }
        s.restore(count: count)
        return best
    }

    @inline(__always)
    private static func chooseSymmetricCode(
        _ j: Int, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, d: Float,
        geometry g: SymmetricGeometry, scratch s: Scratch
    ) -> Float {
        let n = g.subBlockSize, start = j * n
        let lo = Float(g.levels.lowerBound), hi = Float(g.levels.upperBound)
        let codes = neighbours(of: s.scales[j], step: d, reach: g.codeReach, within: g.codes)
        var bestError = Float.infinity, bestCode: Float = 0
        var code = codes.lowerBound
        while code <= codes.upperBound {
            let error = Kernels.symmetricError(x + start, w + start, count: n, dl: d * code, lo: lo, hi: hi)
            if error < bestError { (bestError, bestCode) = (error, code) }
            code += 1
        }
        s.scaleCodes[j] = Int32(bestCode)
        let sums = Kernels.symmetricLevels(x + start, w + start, count: n, dl: d * bestCode, lo: lo, hi: hi,
                                           into: s.levels.baseAddress! + start)
        s.sumQQ[j] = sums.qq
        s.sumXQ[j] = sums.xq
        return bestError
    }

    // MARK: - Shared pieces

    /// The codes to try for `target` stored as code·step: the two integers
    /// around target/step, widened by `reach` on each side, kept in `codes`.
    @inline(__always)
    static func neighbours(of target: Float, step: Float, reach: Int32, within codes: ClosedRange<Int32>) -> ClosedRange<Float> {
        let low = Float(codes.lowerBound), high = Float(codes.upperBound)
        guard step != 0, (target / step).isFinite else { return 0...0 }
        let below = (target / step).rounded(.down)
        let first = min(max(below - Float(reach), low), high)
        let last = min(max(below + 1 + Float(reach), low), high)
        return first...last
    }

    /// The super-block scale that best stores `values` as integer codes on
    /// `levels`, each weighted by how much its sub-block's error depends on it.
    private static func superScale(
        _ values: UnsafeMutableBufferPointer<Float>, _ weights: UnsafeMutableBufferPointer<Float>, count: Int,
        levels: ClosedRange<Int32>, candidates: GridFit.Candidates, scratch s: Scratch
    ) -> Float {
        let v = UnsafeBufferPointer(rebasing: values[0..<count])
        let w = UnsafeBufferPointer(rebasing: weights[0..<count])
        let fit = GridFit.symmetric(v, weights: w, levels: levels, candidates: candidates,
                                    into: UnsafeMutableBufferPointer(rebasing: s.codeScratch[0..<count]))
        if fit.scale != 0 { return fit.scale }
        // No weight anywhere (zero importance): span the largest value plainly.
        let pivot = GridFit.signedMaximum(v)
        return pivot == 0 ? 0 : pivot / candidates.position(0)
    }

    /// `value` as binary16 would store it, kept finite.
    @inline(__always)
    static func storableF16(_ value: Float) -> Float {
        roundedToF16(min(max(value, -65504), 65504))
    }
}

// MARK: - Working memory

extension KSuperBlockSearch {
    /// Buffers for one super-block at a time, carved from two allocations
    /// made once per `quantize` call.
    struct Scratch {
        /// Indices of the current state, and of the best state kept.
        let levels, bestLevels: UnsafeMutableBufferPointer<Int32>
        /// One sub-block's indices under trial.
        let trial: UnsafeMutableBufferPointer<Int32>
        /// Sub-block codes, current and best; room for a grid fit's codes.
        let scaleCodes, minCodes, bestScaleCodes, bestMinCodes, codeScratch: UnsafeMutableBufferPointer<Int32>
        /// Per sub-block: target scale and min (as a positive amount to
        /// subtract), the fit's weighted mean index, the scale's error
        /// weight Σwq² (the min's is Σw, `sumW`), and the sums the refit needs.
        let scales, mins, meanLevel, scaleWeights, sumW, sumX, sumQ, sumQQ, sumXQ: UnsafeMutableBufferPointer<Float>
        /// 256 ones: the weights of plain squared error.
        let ones: UnsafeMutableBufferPointer<Float>

        private let integers: UnsafeMutableBufferPointer<Int32>
        private let floats: UnsafeMutableBufferPointer<Float>

        static func with<R>(_ body: (Scratch) throws -> R) rethrows -> R {
            let scratch = Scratch()
            defer { scratch.deallocate() }
            return try body(scratch)
        }

        private init() {
            let block = KSuperBlockSearch.superBlock, sub = block / 16
            let integers = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 2 * block + 32 + 5 * sub)
            integers.initialize(repeating: 0)
            let floats = UnsafeMutableBufferPointer<Float>.allocate(capacity: 9 * sub + block)
            floats.initialize(repeating: 0)
            self.integers = integers
            self.floats = floats
            var i = 0, f = 0
            levels = Self.carve(integers, &i, block)
            bestLevels = Self.carve(integers, &i, block)
            trial = Self.carve(integers, &i, 32)
            scaleCodes = Self.carve(integers, &i, sub)
            minCodes = Self.carve(integers, &i, sub)
            bestScaleCodes = Self.carve(integers, &i, sub)
            bestMinCodes = Self.carve(integers, &i, sub)
            codeScratch = Self.carve(integers, &i, sub)
            scales = Self.carve(floats, &f, sub)
            mins = Self.carve(floats, &f, sub)
            meanLevel = Self.carve(floats, &f, sub)
            scaleWeights = Self.carve(floats, &f, sub)
            sumW = Self.carve(floats, &f, sub)
            sumX = Self.carve(floats, &f, sub)
            sumQ = Self.carve(floats, &f, sub)
            sumQQ = Self.carve(floats, &f, sub)
            sumXQ = Self.carve(floats, &f, sub)
            ones = Self.carve(floats, &f, block)
            ones.update(repeating: 1)
        }

        private static func carve<T>(
            _ storage: UnsafeMutableBufferPointer<T>, _ next: inout Int, _ count: Int
        ) -> UnsafeMutableBufferPointer<T> {
            defer { next += count }
            return UnsafeMutableBufferPointer(rebasing: storage[next ..< next + count])
        }

        private func deallocate() {
            integers.deallocate()
            floats.deallocate()
        }

        /// Remembers the current state as the best.
        func keep(count: Int) {
            for i in 0..<levels.count { bestLevels[i] = levels[i] }
            for j in 0..<count {
                bestScaleCodes[j] = scaleCodes[j]
                bestMinCodes[j] = minCodes[j]
            }
        }

        /// Makes the best state current again.
        func restore(count: Int) {
            for i in 0..<levels.count { levels[i] = bestLevels[i] }
            for j in 0..<count {
                scaleCodes[j] = bestScaleCodes[j]
                minCodes[j] = bestMinCodes[j]
            }
        }
    }
}
