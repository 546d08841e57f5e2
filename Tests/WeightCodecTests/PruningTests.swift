import Testing
@testable import WeightCodec

/// The pruner on generated tensors: exact counts per comparison group, the
/// 2:4 pattern, what Wanda keeps, the energies it reports, and the global
/// threshold's exact selection.
struct PruningTests {
    /// rows × rowLength Gaussian weights, every one nonzero.
    static func tensor(rows: Int, rowLength: Int, scale: Float = 1, seed: UInt64 = 3) -> [Float] {
        var random = SplitMix(seed)
        return (0..<(rows * rowLength)).map { _ in
            let g = random.gaussian()
            return scale * (g == 0 ? 1 : g)
        }
    }

    /// E[x²] per column spread over four decades, as real activations are.
    static func importance(_ rowLength: Int, seed: UInt64 = 11) -> [Float] {
        var random = SplitMix(seed)
        return (0..<rowLength).map { _ in Float.pow(10, 4 * random.uniform() - 2) }
    }

    static func prune(_ values: [Float], rowLength: Int, importance: [Float]? = nil, _ pruning: Pruning) -> ([Float], PruneLoss) {
        var pruned = values
        let loss = pruned.withUnsafeMutableBufferPointer {
            Pruner.prune($0, rowLength: rowLength, importance: importance, pruning: pruning)
        }
        return (pruned, loss)
    }

    static func zeros(_ values: ArraySlice<Float>) -> Int { values.filter { $0 == 0 }.count }

    @Test(arguments: [0.0, 0.1, 0.25, 0.5, 0.7, 0.99])
    func magnitudePrunesExactlyTheSmallestOfTheTensor(fraction: Double) throws {
        let rowLength = 96, x = Self.tensor(rows: 40, rowLength: rowLength)
        let (y, loss) = Self.prune(x, rowLength: rowLength, try Pruning(method: .magnitude, fraction: fraction))
        let k = Int((fraction * Double(x.count)).rounded())
        #expect(Self.zeros(y[...]) == k && loss.pruned == k && loss.count == x.count)
        #expect(loss.treatment == .pruned(.magnitude, .tensor))
        // Every pruned weight is no larger than every kept one; kept ones are unchanged.
        let prunedMax = zip(x, y).filter { $1 == 0 }.map { abs($0.0) }.max() ?? 0
        let keptMin = zip(x, y).filter { $1 != 0 }.map { abs($0.0) }.min() ?? .infinity
        #expect(prunedMax <= keptMin)
        #expect(zip(x, y).allSatisfy { $1 == 0 || $0 == $1 })
        // The energies are those of the zeroed weights.
        let lost = zip(x, y).filter { $1 == 0 }.reduce(0.0) { $0 + Double($1.0) * Double($1.0) }
        let energy = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(loss.prunedEnergy - lost) <= 1e-9 * energy && abs(loss.energy - energy) <= 1e-9 * energy)
        #expect(loss.weightedEnergy == nil && loss.weightedEnergyFraction == nil)
    }

    @Test func equalScoresGoInFileOrder() throws {
        // Ten rows of ±1: every score ties, so the first 37 weights go.
        let x = (0..<80).map { Float($0 % 3 == 0 ? -1 : 1) }
        let (y, loss) = Self.prune(x, rowLength: 8, try Pruning(method: .magnitude, fraction: 0.4625))
        #expect(loss.pruned == 37)
        #expect(y.prefix(37).allSatisfy { $0 == 0 } && y.dropFirst(37).allSatisfy { $0 != 0 })
    }

    @Test(arguments: [0.2, 0.5, 0.8])
    func wandaPrunesTheSameShareOfEveryRowByItsScore(fraction: Double) throws {
        let rowLength = 64, rows = 24
        let x = Self.tensor(rows: rows, rowLength: rowLength), e = Self.importance(rowLength)
        let (y, loss) = Self.prune(x, rowLength: rowLength, importance: e, try Pruning(method: .wanda, fraction: fraction))
        let k = Int((fraction * Double(rowLength)).rounded())
        #expect(loss.pruned == k * rows && loss.treatment == .pruned(.wanda, .tensor))
        for row in 0..<rows {
            let range = (row * rowLength)..<((row + 1) * rowLength)
            #expect(Self.zeros(y[range]) == k, "row \(row)")
            let score = { (j: Int) in abs(x[range.lowerBound + j]) * e[j].squareRoot() }
            let pruned = (0..<rowLength).filter { y[range.lowerBound + $0] == 0 }.map(score)
            let kept = (0..<rowLength).filter { y[range.lowerBound + $0] != 0 }.map(score)
            #expect(pruned.max()! <= kept.min()!, "row \(row)")
        }
    }

    @Test func wandaKeepsASmallWeightOfAnImportantColumn() throws {
        // Column 5 carries tiny weights but inputs 10⁶ times stronger in E[x²]:
        // magnitude drops it everywhere, Wanda nowhere.
        let rowLength = 32, rows = 16
        var x = Self.tensor(rows: rows, rowLength: rowLength)
        for row in 0..<rows { x[row * rowLength + 5] = 0.01 }
        var e = [Float](repeating: 1, count: rowLength)
        e[5] = 1e6
        let wanda = Self.prune(x, rowLength: rowLength, importance: e, try Pruning(method: .wanda, fraction: 0.5)).0
        let magnitude = Self.prune(x, rowLength: rowLength, importance: e, try Pruning(method: .magnitude, fraction: 0.5)).0
        #expect((0..<rows).allSatisfy { wanda[$0 * rowLength + 5] == 0.01 })
        #expect((0..<rows).allSatisfy { magnitude[$0 * rowLength + 5] == 0 })
    }

    // Fractions that give whole numbers per row, so both prune as many weights.
    @Test(arguments: [0.25, 0.5, 0.75])
    func wandaLosesLessWeightedEnergyThanMagnitude(fraction: Double) throws {
        let rowLength = 128, x = Self.tensor(rows: 64, rowLength: rowLength), e = Self.importance(rowLength)
        let wanda = Self.prune(x, rowLength: rowLength, importance: e, try Pruning(method: .wanda, fraction: fraction)).1
        let magnitude = Self.prune(x, rowLength: rowLength, importance: e, try Pruning(method: .magnitude, fraction: fraction)).1
        #expect(wanda.pruned == magnitude.pruned)
        let w = try #require(wanda.weightedEnergyFraction), m = try #require(magnitude.weightedEnergyFraction)
        #expect(w <= m, "weighted energy lost: wanda \(w), magnitude \(m)")
        // And the other way round for plain Σw², which magnitude minimises.
        #expect(magnitude.energyFraction <= wanda.energyFraction)
        // The weighted energy is Σ E[x_j²]·w² of the zeroed weights.
        let (y, _) = Self.prune(x, rowLength: rowLength, importance: e, try Pruning(method: .wanda, fraction: fraction))
        let lost = (0..<x.count).filter { y[$0] == 0 }.reduce(0.0) { $0 + Double(e[$1 % rowLength]) * Double(x[$1]) * Double(x[$1]) }
        #expect(abs(wanda.weightedPrunedEnergy! - lost) <= 1e-9 * wanda.weightedEnergy!)
    }

    @Test func wandaUsesEachExpertsOwnImportance() throws {
        // A 3-D tensor of two experts, 4 rows each: expert 1's column 0 matters, expert 0's column 7.
        let rowLength = 8
        let x = [Float](repeating: 1, count: 8 * rowLength)
        var e = [Float](repeating: 1, count: 2 * rowLength)
        e[7] = 100
        e[rowLength] = 100
        let (y, _) = Self.prune(x, rowLength: rowLength, importance: e, try Pruning(method: .wanda, fraction: 0.875))
        for row in 0..<8 {
            let kept = (0..<rowLength).filter { y[row * rowLength + $0] != 0 }
            #expect(kept == [row < 4 ? 7 : 0], "row \(row)")
        }
    }

    @Test func wandaWithoutImportanceFallsBackToMagnitude() throws {
        let x = Self.tensor(rows: 8, rowLength: 16)
        let (y, loss) = Self.prune(x, rowLength: 16, try Pruning(method: .wanda, fraction: 0.5))
        #expect(loss.treatment == .magnitudeFallback && loss.pruned == 64)
        #expect(y == Self.prune(x, rowLength: 16, try Pruning(method: .magnitude, fraction: 0.5)).0)
    }

    @Test(arguments: [false, true])
    func twoOfFourKeepsTheTwoHighestScoresOfEveryFour(withImportance: Bool) throws {
        let rowLength = 48, x = Self.tensor(rows: 10, rowLength: rowLength)
        let e = withImportance ? Self.importance(rowLength) : nil
        let (y, loss) = Self.prune(x, rowLength: rowLength, importance: e, try Pruning(method: .twoOfFour, fraction: nil))
        #expect(loss.pruned == x.count / 2 && loss.treatment == .pruned(.twoOfFour, .tensor))
        for group in stride(from: 0, to: x.count, by: 4) {
            let nonzero = (group..<(group + 4)).filter { y[$0] != 0 }
            #expect(nonzero.count == 2, "group at \(group)")
            let score = { (i: Int) in abs(x[i]) * (e?[i % rowLength].squareRoot() ?? 1) }
            let dropped = (group..<(group + 4)).filter { y[$0] == 0 }
            #expect(dropped.map(score).max()! <= nonzero.map(score).min()!, "group at \(group)")
        }
    }

    @Test func twoOfFourLeavesRowsThatAreNotAMultipleOfFour() throws {
        let x = Self.tensor(rows: 4, rowLength: 6)
        let (y, loss) = Self.prune(x, rowLength: 6, try Pruning(method: .twoOfFour, fraction: 0.5))
        #expect(y == x && loss.pruned == 0 && loss.count == 24)
        #expect(loss.treatment == .skipped(rowLength: 6))
        #expect(String(describing: loss.treatment) == "none (row of 6 not a multiple of 4)")
    }

    /// Two tensors of one shape, one at a tenth of the other's scale: one
    /// global threshold takes much more of the small one, and exactly the
    /// requested share of both together.
    @Test func globalScopePrunesMoreOfTheSmallerTensor() throws {
        let rowLength = 64
        let tensors = [Self.tensor(rows: 32, rowLength: rowLength, scale: 1, seed: 5),
                       Self.tensor(rows: 32, rowLength: rowLength, scale: 0.1, seed: 6)]
        let total = tensors.reduce(0) { $0 + $1.count }
        let pruning = try Pruning(method: .magnitude, fraction: 0.5, scope: .global)
        let threshold = PruneThreshold.smallest(pruning.prunedCount(of: total)) { histogram in
            for x in tensors {
                let scores = x.withUnsafeBufferPointer { Pruner.scores(of: $0, rowLength: rowLength, importance: nil) }
                scores.withUnsafeBufferPointer { histogram.add($0) }
            }
        }
        var ties = threshold.ties
        let losses = tensors.map { x in
            var y = x
            return y.withUnsafeMutableBufferPointer {
                Pruner.prune($0, rowLength: rowLength, importance: nil, method: .magnitude, threshold: threshold, ties: &ties)
            }
        }
        #expect(losses[0].pruned + losses[1].pruned == total / 2)
        // |w| < t in both: P(|g| < t) + P(|g| < 10t) = 1 at t ≈ 0.2, so about 16 % and 84 %.
        #expect(losses[1].prunedFraction > 0.8 && losses[0].prunedFraction < 0.2,
                "large \(losses[0].prunedFraction), small \(losses[1].prunedFraction)")
        #expect(losses[0].treatment == .pruned(.magnitude, .global))
        // Per tensor, each loses half.
        for x in tensors {
            #expect(Self.prune(x, rowLength: rowLength, pruning.withScope(.tensor)).1.pruned == x.count / 2)
        }
    }

    /// The two-pass histogram selects exactly the k smallest scores of a
    /// stream of several tensors, as a full sort by (score, tensor, index)
    /// does: no bin tolerance, even with many equal scores.
    @Test(arguments: [0.0001, 0.1, 0.5, 0.9])
    func globalThresholdIsExact(fraction: Double) {
        var random = SplitMix(17)
        // Binary16-like values (few distinct scores, many ties) and a wide spread of magnitudes.
        let tensors: [[Float]] = [300, 1000, 2048].map { count in
            (0..<count).map { _ in Float(Float16(random.gaussian() * Float.pow(10, 3 * random.uniform() - 1))) }
        }
        let scores = tensors.map { $0.map(abs) }
        let total = scores.reduce(0) { $0 + $1.count }
        let k = Int((fraction * Double(total)).rounded())
        let threshold = PruneThreshold.smallest(k) { histogram in
            for s in scores { s.withUnsafeBufferPointer { histogram.add($0) } }
        }
        var ties = threshold.ties
        var chosen = Set<[Int]>()
        for (t, s) in scores.enumerated() {
            for (i, score) in s.enumerated() where threshold.prunes(score, ties: &ties) { chosen.insert([t, i]) }
        }
        let expected = scores.enumerated().flatMap { t, s in s.enumerated().map { (score: $1, t: t, i: $0) } }
            .sorted { ($0.score, $0.t, $0.i) < ($1.score, $1.t, $1.i) }.prefix(k).map { [$0.t, $0.i] }
        #expect(chosen.count == k && chosen == Set(expected))
        #expect(ties == 0)
    }

    @Test func selectionAgreesWithSorting() {
        var random = SplitMix(23)
        for count in [1, 2, 3, 7, 64, 577, 1000] {
            let keys = (0..<count).map { UInt64(random.next() >> 40) << 32 | UInt64($0) }
            for n in Set([0, count / 3, count / 2, count - 1]) {
                var scratch = keys
                let value = scratch.withUnsafeMutableBufferPointer { Pruner.nthSmallest($0, n) }
                #expect(value == keys.sorted()[n], "n \(n) of \(count)")
            }
            // Already sorted and reversed input.
            var sorted = keys.sorted(), reversed = Array(keys.sorted().reversed())
            #expect(sorted.withUnsafeMutableBufferPointer { Pruner.nthSmallest($0, count / 2) } == keys.sorted()[count / 2])
            #expect(reversed.withUnsafeMutableBufferPointer { Pruner.nthSmallest($0, count / 2) } == keys.sorted()[count / 2])
        }
    }

    @Test func whichTensorsArePruned() throws {
        let pruning = try Pruning(method: .twoOfFour, fraction: nil)
        func tensor(_ name: String, _ shape: [Int]) -> QuantizationRecipe.Tensor { .init(name: name, shape: shape, type: .f16) }
        #expect(pruning.treatment(of: tensor("blk.3.ffn_up.weight", [576, 1536]), hasImportance: false) == .pruned(.twoOfFour, .tensor))
        #expect(pruning.treatment(of: tensor("blk.3.ffn_up.weight", [570, 1536]), hasImportance: false) == .skipped(rowLength: 570))
        #expect(pruning.treatment(of: tensor("blk.3.attn_norm.weight", [576]), hasImportance: false) == nil)
        #expect(pruning.treatment(of: tensor("token_embd.weight", [576, 49152]), hasImportance: false) == nil)
        #expect(pruning.treatment(of: tensor("output.weight", [576, 49152]), hasImportance: false) == nil)
        let wanda = try Pruning(method: .wanda, fraction: 0.5, scope: .global)
        #expect(wanda.treatment(of: tensor("blk.0.attn_q.weight", [576, 576]), hasImportance: true) == .pruned(.wanda, .global))
        #expect(wanda.treatment(of: tensor("blk.0.attn_q.weight", [576, 576]), hasImportance: false) == .magnitudeFallback)
    }

    @Test func badRequests() {
        let cases: [(PruneMethod, Double?, PruneScope, String)] = [
            (.magnitude, 1, .tensor, "--prune must be a fraction in [0, 1), got 1.0"),
            (.magnitude, -0.1, .tensor, "--prune must be a fraction in [0, 1), got -0.1"),
            (.wanda, .nan, .tensor, "--prune must be a fraction in [0, 1), got nan"),
            (.wanda, nil, .global, "--prune-method wanda needs --prune FRACTION"),
            (.twoOfFour, 0.3, .tensor, "--prune-method 2:4 prunes 0.5 by construction, got --prune 0.3; drop --prune or give 0.5"),
            (.twoOfFour, nil, .global, "--prune-method 2:4 works within groups of 4 weights: --prune-scope global does not apply"),
        ]
        for (method, fraction, scope, message) in cases {
            #expect(throws: PruningError.self, "\(method) \(String(describing: fraction)) \(scope)") {
                try Pruning(method: method, fraction: fraction, scope: scope)
            }
            do { _ = try Pruning(method: method, fraction: fraction, scope: scope) } catch {
                #expect(error.description == message)
            }
        }
    }
}

extension Pruning {
    func withScope(_ scope: PruneScope) -> Pruning {
        var copy = self
        copy.scope = scope
        return copy
    }
}
