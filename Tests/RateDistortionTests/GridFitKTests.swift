import Testing
@testable import RateDistortion

/// GridFit as the K formats lean on it: rounding without libm, eight
/// candidates per SIMD pass giving exactly what one at a time gives, and
/// offset fits that stay exact far from zero.
struct GridFitKTests {
    // MARK: - Rounding

    static let roundingTable: [Float] = [
        0, -0.0, 0.3, -0.3, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997, 0.50000006,
        3.4999998, 7.5, -7.5, 4_194_303.5, 4_194_304.5, 8_388_607.5, -8_388_607.5, 8_388_608, 1e10, -1e10,
        .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
    ]

    @Test(arguments: roundingTable)
    func roundsHalfAwayLikeTheStandardLibrary(v: Float) {
        #expect(GridFit.roundedHalfAway(v) == v.rounded())
        #expect(GridFit.roundedHalfAway(GridFit.Lanes(repeating: v))[3] == v.rounded())
    }

    @Test func roundsEveryQuarterAndNeighbourAlike() {
        var generator = SeededGenerator(seed: 61)
        for k in -40_000...40_000 {
            let base = Float(k) * 0.25
            for v in [base, base.nextUp, base.nextDown, base + Float(generator.nextUnitInterval())] {
                #expect(GridFit.roundedHalfAway(v) == v.rounded())
                #expect(GridFit.roundedHalfAway(GridFit.Lanes(repeating: v))[0] == v.rounded())
            }
        }
        #expect(GridFit.roundedHalfAway(Float.nan).isNaN)
    }

    // MARK: - Eight candidates a pass, bit for bit

    /// The plain one-candidate-at-a-time search the SIMD passes must equal:
    /// the algorithm as `GridFit` documents it, in scalar code.
    static func plainSymmetric(
        _ x: [Float], _ w: [Float]?, levels: ClosedRange<Int32>, candidates c: GridFit.Candidates
    ) -> (GridFit.Fit, [Int32]) {
        var pivot: Float = 0
        for v in x where abs(v) > abs(pivot) { pivot = v }
        guard pivot != 0 else { return (GridFit.Fit(scale: 0, squaredError: 0), x.map { _ in 0 }) }
        let lo = Float(levels.lowerBound), hi = Float(levels.upperBound)
        var energy: Float = 0
        for i in x.indices { energy += (w?[i] ?? 1) * x[i] * x[i] }
        var best = GridFit.Fit(scale: 0, squaredError: energy), bestInverse: Float = 0
        for k in 0..<c.count {
            let inverse = c.position(k) / pivot
            var sumXQ: Float = 0, sumQQ: Float = 0
            for i in x.indices {
                let level = min(max((inverse * x[i]).rounded(), lo), hi), weight = w?[i] ?? 1
                sumXQ += weight * x[i] * level
                sumQQ += weight * level * level
            }
            guard sumQQ > 0 else { continue }
            let error = max(energy - sumXQ * sumXQ / sumQQ, 0)
            if error < best.squaredError || bestInverse == 0 {
                best = GridFit.Fit(scale: sumXQ / sumQQ, squaredError: error)
                bestInverse = inverse
            }
        }
        guard bestInverse != 0 else { return (GridFit.Fit(scale: 0, squaredError: 0), x.map { _ in 0 }) }
        return (best, x.map { Int32(min(max((bestInverse * $0).rounded(), lo), hi)) })
    }

    /// The offset search one candidate at a time, with the sums of y = x − low.
    static func plainOffset(
        _ x: [Float], _ w: [Float]?, levels: Int32, candidates c: GridFit.Candidates, atMostZero: Bool
    ) -> (GridFit.Fit, [Int32]) {
        var low = x.min()!
        let high = x.max()!
        if atMostZero { low = min(low, 0) }
        let top = Float(levels - 1)
        precondition(high > low, "the comparison covers runs that are not constant")
        var sumW: Float = 0, sumY: Float = 0, energyY: Float = 0
        for i in x.indices {
            let weight = w?[i] ?? 1, y = x[i] - low
            sumW += weight
            sumY += weight * y
            energyY += weight * y * y
        }
        var best = GridFit.Fit(scale: (high - low) / top, offset: low, squaredError: .infinity), bestInverse: Float = 0
        for k in 0..<c.count {
            let inverse = c.position(k) / (high - low)
            guard inverse > 0 else { continue }
            var sumQ: Float = 0, sumQQ: Float = 0, sumYQ: Float = 0
            for i in x.indices {
                let y = x[i] - low, weight = w?[i] ?? 1
                let level = min(max((inverse * y).rounded(), 0), top)
                sumQ += weight * level
                sumQQ += weight * level * level
                sumYQ += weight * y * level
            }
            let determinant = sumW * sumQQ - sumQ * sumQ
            guard determinant > 0 else { continue }
            var d = (sumW * sumYQ - sumQ * sumY) / determinant
            var offset = (sumQQ * sumY - sumQ * sumYQ) / determinant
            if atMostZero && offset + low > 0 {
                offset = -low
                d = (sumYQ - offset * sumQ) / sumQQ
            }
            guard d > 0 else { continue }
            let error = energyY + d * d * sumQQ + offset * offset * sumW - 2 * d * sumYQ - 2 * offset * sumY + 2 * d * offset * sumQ
            if error < best.squaredError {
                best = GridFit.Fit(scale: d, offset: atMostZero ? min(offset + low, 0) : offset + low, squaredError: max(error, 0))
                bestInverse = inverse
            }
        }
        precondition(bestInverse != 0, "the comparison covers runs some candidate fits")
        return (best, x.map { Int32(min(max((bestInverse * ($0 - low)).rounded(), 0), top)) })
    }

    static func run(_ count: Int, seed: UInt64, weighted: Bool) -> ([Float], [Float]?) {
        var generator = SeededGenerator(seed: seed)
        let x = (0..<count).map { _ in Float(SourceDensity.laplacian.draw(using: &generator)) }
        let w = weighted ? (0..<count).map { _ in Float(0.1 + 3 * generator.nextUnitInterval()) } : nil
        return (x, w)
    }

    /// Candidate counts below, at and across the eight lanes.
    static let candidateSets: [GridFit.Candidates] = [
        .init(first: -8, step: 0.1, count: 1), .init(first: -8.4, step: 0.1, count: 7),
        .init(first: -8.4, step: 0.1, count: 8), .init(first: -9, step: 0.25, count: 9),
        .init(first: -40, step: 1, count: 24), .init(first: -4.9, step: 0.1, count: 19),
    ]

    @Test(arguments: candidateSets, [false, true])
    func symmetricPassesEqualOneAtATime(candidates: GridFit.Candidates, weighted: Bool) {
        let levels: ClosedRange<Int32> = candidates.first < -20 ? -32...31 : -8...7
        for seed in UInt64(0)..<40 {
            let (x, w) = Self.run(16 + Int(seed % 3) * 8, seed: seed, weighted: weighted)
            var q = [Int32](repeating: 99, count: x.count)
            let fit = x.withUnsafeBufferPointer { xb in
                q.withUnsafeMutableBufferPointer { qb in
                    if let w { return w.withUnsafeBufferPointer { GridFit.symmetric(xb, weights: $0, levels: levels, candidates: candidates, into: qb) } }
                    return GridFit.symmetric(xb, weights: nil, levels: levels, candidates: candidates, into: qb)
                }
            }
            let (plain, plainQ) = Self.plainSymmetric(x, w, levels: levels, candidates: candidates)
            #expect(fit.scale.bitPattern == plain.scale.bitPattern && fit.squaredError.bitPattern == plain.squaredError.bitPattern,
                    "seed \(seed): \(fit) against \(plain)")
            #expect(q == plainQ, "seed \(seed)")
        }
    }

    @Test(arguments: [
        GridFit.Candidates(first: 14, step: 0.1, count: 21), .init(first: 12, step: 0.25, count: 24),
        .init(first: 2.5, step: 0.075, count: 21), .init(first: 15, step: 0.5, count: 3),
    ], [false, true])
    func offsetPassesEqualOneAtATime(candidates: GridFit.Candidates, weighted: Bool) {
        let levels: Int32 = candidates.first < 4 ? 4 : 16
        for seed in UInt64(100)..<140 {
            for atMostZero in [false, true] {
                var (x, w) = Self.run(32, seed: seed, weighted: weighted)
                if seed % 4 == 0 { for i in x.indices { x[i] = abs(x[i]) + 0.5 } } // all positive: m ≤ 0 binds
                var q = [Int32](repeating: 99, count: x.count)
                let fit = x.withUnsafeBufferPointer { xb in
                    q.withUnsafeMutableBufferPointer { qb in
                        if let w {
                            return w.withUnsafeBufferPointer {
                                GridFit.offset(xb, weights: $0, levels: levels, candidates: candidates, offsetAtMostZero: atMostZero, into: qb)
                            }
                        }
                        return GridFit.offset(xb, weights: nil, levels: levels, candidates: candidates, offsetAtMostZero: atMostZero, into: qb)
                    }
                }
                let (plain, plainQ) = Self.plainOffset(x, w, levels: levels, candidates: candidates, atMostZero: atMostZero)
                #expect(fit == plain, "seed \(seed), m ≤ 0: \(atMostZero)")
                #expect(q == plainQ, "seed \(seed), m ≤ 0: \(atMostZero)")
                if atMostZero { #expect(fit.offset <= 0) }
            }
        }
    }

    // MARK: - Offsets far from zero

    /// A run at −100 ± 0.01: the error expanded in sums of x would be lost
    /// to cancellation (Σx² ≈ 3·10⁵ against E ≈ 10⁻⁶); in sums of x − min
    /// the reported error is the real one, and the fit is the best candidate.
    @Test(arguments: [Float(-100), 250])
    func offsetFitsFarFromZeroAreExact(center: Float) {
        var generator = SeededGenerator(seed: 71)
        let x = (0..<32).map { _ in center + 0.01 * Float(generator.nextUnitInterval()) }
        let candidates = GridFit.Candidates(first: 13, step: 0.1, count: 31)
        var q = [Int32](repeating: 0, count: 32)
        let fit = x.withUnsafeBufferPointer { xb in
            q.withUnsafeMutableBufferPointer { GridFit.offset(xb, weights: nil, levels: 16, candidates: candidates, offsetAtMostZero: false, into: $0) }
        }
        func error(scale: Double, offset: Double, levels: [Int32]) -> Double {
            x.indices.reduce(0) { $0 + (Double(x[$1]) - scale * Double(levels[$1]) - offset) * (Double(x[$1]) - scale * Double(levels[$1]) - offset) }
        }
        let direct = error(scale: Double(fit.scale), offset: Double(fit.offset), levels: q)
        #expect(abs(Double(fit.squaredError) - direct) <= 0.05 * direct + 1e-12,
                "reported \(fit.squaredError), direct \(direct)")
        // Every candidate's least-squares fit, in double precision: the winner is (nearly) the best.
        let low = Double(x.min()!), span = Double(x.max()!) - low
        var bestDirect = Double.infinity
        for k in 0..<candidates.count {
            let inverse = Double(candidates.position(k)) / span
            let levels = x.map { Int32(min(max(((Double($0) - low) * inverse).rounded(), 0), 15)) }
            let n = Double(x.count)
            let sq = levels.reduce(0.0) { $0 + Double($1) }, sqq = levels.reduce(0.0) { $0 + Double($1) * Double($1) }
            let sx = x.reduce(0.0) { $0 + Double($1) }
            let sxq = x.indices.reduce(0.0) { $0 + Double(x[$1]) * Double(levels[$1]) }
            let determinant = n * sqq - sq * sq
            guard determinant > 0 else { continue }
            let d = (n * sxq - sq * sx) / determinant, m = (sqq * sx - sq * sxq) / determinant
            bestDirect = min(bestDirect, error(scale: d, offset: m, levels: levels))
        }
        #expect(direct <= 1.05 * bestDirect + 1e-12, "fit error \(direct), best candidate \(bestDirect)")
    }
}
