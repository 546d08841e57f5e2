import Testing
@testable import RateDistortion

struct QuantizerTests {
    private func laplacianSamples(_ count: Int, seed: UInt64 = 5) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in SourceDensity.laplacian.draw(using: &generator) }
    }

    @Test(arguments: [0.01, 0.1, 0.37, 1, 2.5])
    func roundingErrorIsAtMostHalfAStep(step: Double) {
        let quantizer = UniformQuantizer(step: step)
        for x in laplacianSamples(5000) {
            #expect(abs(x - quantizer.reconstruction(of: quantizer.index(of: x))) <= step / 2 + 1e-12)
        }
    }

    @Test func deadZoneWidensTheZeroCell() {
        // With rounding offset ρ the zero cell is |x| < (1 − ρ)·Δ.
        let quantizer = UniformQuantizer(step: 1, roundingOffset: 0.2)
        #expect(quantizer.index(of: 0.79) == 0)
        #expect(quantizer.index(of: -0.79) == 0)
        #expect(quantizer.index(of: 0.81) == 1)
        #expect(quantizer.index(of: -1.81) == -2)
        // Plain rounding for comparison.
        #expect(UniformQuantizer(step: 1).index(of: 0.51) == 1)
    }

    @Test func quantizerIsOddSymmetricAndClips() {
        let quantizer = UniformQuantizer(step: 0.25, roundingOffset: 0.4, maxIndex: 7)
        for x in laplacianSamples(1000) {
            #expect(quantizer.index(of: -x) == -quantizer.index(of: x))
            #expect(abs(quantizer.index(of: x)) <= 7)
        }
        #expect(quantizer.index(of: 1e300) == 7)
        #expect(quantizer.levelCount == 15)
        #expect(quantizer.indexCost(of: 3) == 4)
    }

    @Test func entropyRateFallsAsTheStepGrows() {
        let samples = laplacianSamples(20_000)
        var previous = Double.infinity
        for k in 0..<60 {
            let quantizer = UniformQuantizer(step: 0.001 * Double(k + 1) * Double(k + 1))
            let bits = EntropyRate().bits(for: quantizer.quantize(samples).indices)
            #expect(bits <= previous, "rate rose at step \(quantizer.step)")
            previous = bits
        }
    }

    @Test func zeroInputGivesZeroOutputAndZeroBits() {
        let zeros = [Double](repeating: 0, count: 512)
        let uniform = UniformQuantizer(step: 0.1)
        let (indices, reconstruction) = uniform.quantize(zeros)
        #expect(reconstruction.allSatisfy { $0 == 0 })
        #expect(EntropyRate().bits(for: indices) == 0)
        #expect(FixedLengthRate().bits(for: indices) == 0)
        // The sweep's menus offer only "discard" for a silent partition: no bits, no error.
        for family in QuantizerFamily.allCases {
            let menu = family.options(for: zeros[...], codebooks: family.codebooks(for: .gaussian))
            #expect(menu.count == 1)
            #expect(menu[0].indexBits == 0 && menu[0].squaredError == 0)
        }
    }

    @Test func offsetQuantizerSpansItsRangeExactly() {
        let quantizer = OffsetUniformQuantizer(spanning: -1, 2, levels: 4)
        #expect(quantizer.step == 1)
        #expect((0..<4).map { quantizer.reconstruction(of: $0) } == [-1, 0, 1, 2])
        #expect(quantizer.index(of: -5) == 0)
        #expect(quantizer.index(of: 9) == 3)
        #expect(quantizer.index(of: 0.49) == 1)
        #expect(quantizer.indexCost(of: 2) == 2)
    }

    @Test func codebookQuantizerPicksTheNearestLevel() {
        let quantizer = CodebookQuantizer(codebook: [-1.5, -0.4, 0.1, 0.9, 2.2], scale: 2)
        for x in laplacianSamples(3000) {
            let chosen = quantizer.reconstruction(of: quantizer.index(of: x))
            let nearest = quantizer.codebook.map { 2 * $0 }.min { abs($0 - x) < abs($1 - x) }!
            #expect(abs(chosen - x) == abs(nearest - x))
        }
    }

    @Test(arguments: [(0, 1), (1, 3), (-1, 3), (2, 5), (-2, 5), (3, 5), (-3, 5), (4, 7), (-4, 7), (-8, 9)])
    func signedExpGolombLengths(value: Int, bits: Int) {
        #expect(signedExpGolombLength(value) == bits)
    }

    @Test(arguments: [(1, 0.0), (2, 1), (3, 2), (4, 2), (5, 3), (256, 8), (257, 9)])
    func fixedLengthCodeBits(levels: Int, bits: Double) {
        #expect(fixedLengthBits(levels: levels) == bits)
    }

    @Test func entropyRateKnownValues() {
        // Two equiprobable symbols: 1 bit each, plus Miller–Madow's (K−1)/(2 ln 2).
        #expect(abs(EntropyRate().bits(for: [0, 1, 0, 1]) - (4 + 0.5 / 0.6931471805599453)) < 1e-12)
        #expect(EntropyRate().bits(for: [7, 7, 7]) == 0)
        #expect(EntropyRate().bits(for: []) == 0)
        // Indices far apart take the dictionary path and price the same.
        #expect(EntropyRate().bits(for: [0, 1 << 40, 0, 1 << 40]) == EntropyRate().bits(for: [0, 1, 0, 1]))
        #expect(FixedLengthRate(levels: 16).bits(for: [1, 2, 3, 4]) == 16)
        #expect(FixedLengthRate().bits(for: [-2, 1]) == 4)
        #expect(IndexCodeRate(UniformQuantizer(step: 1)).bits(for: [0, 1, -2]) == 9)
    }

    @Test func scaleSearchFindsTheLeastWeightedError() {
        let values: ArraySlice<Double> = [0.1, -0.4, 0.35, 0.9, -1.2]
        let candidates = [0.05, 0.2, 0.4, 1.0].map { UniformQuantizer(step: $0, maxIndex: 3) }
        let best = ScaleSearch.best(of: candidates, on: values)
        let errors = candidates.map { $0.squaredError(values) }
        #expect(best.squaredError == errors.min())
        // A heavy weight on one value pulls the choice towards coding it exactly.
        let weighted = ScaleSearch.best(of: candidates, on: values, weights: [1, 1, 1, 1, 1000])
        #expect(weighted.quantizer.step == 0.4)
    }
}
