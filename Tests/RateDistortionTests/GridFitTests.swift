import Testing
@testable import RateDistortion

struct GridFitTests {
    /// Runs of 32 (a block) or 29 (a scalar tail) values, seeded.
    private func run(_ count: Int, seed: UInt64, scale: Double = 1, shift: Double = 0) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(shift + scale * SourceDensity.laplacian.draw(using: &generator)) }
    }

    private func weights(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: 0.1...4, using: &generator) }
    }

    // MARK: binary16 rounding

    @Test func binary16RoundingMatchesFloat16() {
        var generator = SeededGenerator(seed: 11)
        var values: [Float] = [0, -0, 0x1p-24, 0x1p-25, 0x1.8p-25, 0x1p-14, 0x1.FFCp-15, 0x1.FFEp-15, 65504, -65504, 1, 1 + 0x1p-11, 1 + 0x3p-11, 2049, 2051]
        for _ in 0..<20000 {
            let magnitude = Float(sign: .plus, exponent: Int.random(in: -26...15, using: &generator),
                                  significand: Float.random(in: 1..<2, using: &generator))
            values.append(Bool.random(using: &generator) ? magnitude : -magnitude)
        }
        for v in values where abs(v) <= 65504 {
            let ours = GridFit.roundedToBinary16(v), theirs = Float(Float16(v))
            #expect(ours.bitPattern == theirs.bitPattern, "\(v): \(ours) vs Float16's \(theirs)")
        }
        #expect(GridFit.Precision.binary16.stored(1e6) == 65504)
        #expect(GridFit.Precision.binary16.neighbour(of: 1, up: true) == 1 + 0x1p-10)
    }

    // MARK: codebooks

    @Test func codebookLevelsAreTheNearest() {
        let levels: [Float] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]
        let codebook = GridFit.Codebook(levels)
        var generator = SeededGenerator(seed: 3)
        let x = (0..<29).map { _ in Float.random(in: -140...130, using: &generator) }
        x.withUnsafeBufferPointer { x in
            levels.withUnsafeBufferPointer { c in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: 29) { q in
                    GridFit.codebookIndices(x, levels: codebook, scale: 1, into: q)
                    for i in 0..<29 { #expect(Int(q[i]) == GridFit.nearest(x[i], in: c), "\(x[i])") }
                    // The error is of those indices, eight lanes and the tail alike.
                    var direct: Float = 0
                    for i in 0..<29 { direct += (x[i] - 0.5 * levels[Int(q[i])]) * (x[i] - 0.5 * levels[Int(q[i])]) }
                    GridFit.codebookIndices(x, levels: codebook, scale: 0.5, into: q)
                    var again: Float = 0
                    for i in 0..<29 { again += (x[i] - 0.5 * levels[Int(q[i])]) * (x[i] - 0.5 * levels[Int(q[i])]) }
                    #expect(abs(GridFit.codebookError(x, weights: nil, levels: codebook, scale: 0.5) - again) <= 1e-3 * again)
                    _ = direct
                }
            }
        }
    }

    // MARK: stored fits

    /// The stored searches report the exact error of what they write, and
    /// their scale is a binary16 value.
    @Test(arguments: [32, 29])
    func storedFitsReportTheirExactError(count: Int) {
        for seed in UInt64(1)...20 {
            let x = run(count, seed: seed), w = weights(count, seed: seed + 100)
            x.withUnsafeBufferPointer { x in
                w.withUnsafeBufferPointer { w in
                    withUnsafeTemporaryAllocation(of: Int32.self, capacity: count) { q in
                        let fit = GridFit.symmetricStored(
                            x, weights: w, levels: -8...7, candidates: .init(first: -8.9, step: 0.1, count: 19),
                            precision: .binary16, into: q)
                        #expect(Float(Float16(fit.scale)) == fit.scale)
                        var error: Float = 0
                        for i in 0..<count {
                            #expect((-8...7).contains(q[i]))
                            let e = x[i] - fit.scale * Float(q[i])
                            error += w[i] * e * e
                        }
                        #expect(abs(error - fit.squaredError) <= 1e-4 * error)

                        let offset = GridFit.offsetStored(
                            x, weights: w, levels: 16, candidates: .init(first: 13.6, step: 0.1, count: 24),
                            precision: .binary16, into: q)
                        #expect(Float(Float16(offset.scale)) == offset.scale && Float(Float16(offset.offset)) == offset.offset)
                        error = 0
                        for i in 0..<count {
                            #expect((0...15).contains(q[i]))
                            let e = x[i] - (offset.scale * Float(q[i]) + offset.offset)
                            error += w[i] * e * e
                        }
                        #expect(abs(error - offset.squaredError) <= 1e-4 * error)
                    }
                }
            }
        }
    }

    /// Judging the stored value can only help: the stored search is never
    /// worse than the plain fit with its scale rounded to binary16 afterwards
    /// (beyond rounding of the sums), and on an 8-bit grid, where binary16's
    /// 11 bits are felt, it is better overall.
    @Test(arguments: [(Int32(-8)...7, Float(-8.9)), (-128...127, -129.5)])
    func storedSearchBeatsRoundingAfterTheFact(levels: ClosedRange<Int32>, first: Float) {
        var ours = 0.0, plain = 0.0
        for seed in UInt64(1)...200 {
            let x = run(32, seed: seed)
            x.withUnsafeBufferPointer { x in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: 32) { q in
                    let candidates = GridFit.Candidates(first: first, step: 0.1, count: 19)
                    let stored = GridFit.symmetricStored(x, weights: nil, levels: levels, candidates: candidates, precision: .binary16, into: q)
                    let fit = GridFit.symmetric(x, weights: nil, levels: levels, candidates: candidates, into: q)
                    let d = Float(Float16(fit.scale))
                    var error: Float = 0
                    for i in 0..<32 { error += (x[i] - d * Float(q[i])) * (x[i] - d * Float(q[i])) }
                    #expect(stored.squaredError <= error * (1 + 1e-5), "seed \(seed)")
                    ours += Double(stored.squaredError)
                    plain += Double(error)
                }
            }
        }
        #expect(ours <= plain * (1 + 1e-6))
        if levels.upperBound > 100 { #expect(ours < 0.997 * plain, "\(ours) vs \(plain)") }
    }

    @Test func allZeroRunsFitToZero() {
        let x = [Float](repeating: 0, count: 32)
        x.withUnsafeBufferPointer { x in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: 32) { q in
                let fit = GridFit.symmetricStored(x, weights: nil, levels: -8...7, candidates: .init(first: -8, step: 0.1, count: 3), precision: .binary16, into: q)
                #expect(fit.scale == 0 && fit.squaredError == 0 && q.allSatisfy { $0 == 0 })
                let offset = GridFit.offsetStored(x, weights: nil, levels: 16, candidates: .init(first: 15, step: 0.1, count: 3), precision: .binary16, into: q)
                #expect(offset.squaredError == 0 && offset.offset == 0)
            }
        }
    }

    // MARK: the plain offset fit

    /// A run near a large common level (10 ± 0.01): the sums are taken
    /// about the minimum, so the reported error is the true one and the fit
    /// resolves the spread (it used to drown in Σwx²'s rounding).
    @Test func offsetFitResolvesASpreadFarFromZero() {
        let x = run(32, seed: 7, scale: 0.01, shift: 10)
        x.withUnsafeBufferPointer { x in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: 32) { q in
                let fit = GridFit.offset(x, weights: nil, levels: 16, candidates: .init(first: 14, step: 0.1, count: 20), offsetAtMostZero: false, into: q)
                var error: Float = 0, spread: Float = 0
                let mean = x.reduce(0, +) / 32
                for i in 0..<32 {
                    error += (x[i] - fit.scale * Float(q[i]) - fit.offset) * (x[i] - fit.scale * Float(q[i]) - fit.offset)
                    spread += (x[i] - mean) * (x[i] - mean)
                }
                #expect(abs(error - fit.squaredError) <= 0.05 * error + 1e-9)
                #expect(error < 0.01 * spread, "a 4-bit grid keeps well over 20 dB of the spread")
            }
        }
    }
}
