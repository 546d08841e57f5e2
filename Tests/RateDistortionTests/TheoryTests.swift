import RealModule
import Testing
@testable import RateDistortion

/// Known values from rate-distortion theory and the quantization literature.
struct TheoryTests {
    /// Entropy-coded uniform quantization of a Gaussian at high rate sits
    /// ½·log₂(2πe/12) = 0.254 bit, or 10·log₁₀(πe/6) = 1.53 dB, above D(R).
    @Test(arguments: [4.0, 5.0, 6.0])
    func entropyCodedUniformQuantizerSitsQuarterBitAboveTheBound(rate: Double) {
        var generator = SeededGenerator(seed: 7)
        let samples = (0..<(1 << 18)).map { _ in SourceDensity.gaussian.draw(using: &generator) }
        let variance = samples.reduce(0) { $0 + $1 * $1 } / Double(samples.count)
        // Differential entropy of N(0,1) is ½·log₂(2πe); a step of 2^(h−R) gives about R bits.
        let step = Double.exp2(0.5 * Double.log2(2 * Double.pi * Double.exp(1)) - rate)
        let quantizer = UniformQuantizer(step: step)
        let (indices, _) = quantizer.quantize(samples)
        let bitsPerSample = EntropyRate().bits(for: indices) / Double(samples.count)
        let mse = quantizer.squaredError(samples) / Double(samples.count)

        let gapBits = bitsPerSample - 0.5 * Double.log2(variance / mse)
        let gapDB = 10 * Double.log10(mse / (variance * Double.exp2(-2 * bitsPerSample)))
        #expect(abs(bitsPerSample - rate) < 0.1)
        #expect(abs(gapBits - 0.254) <= 0.03, "gap \(gapBits) bit at \(bitsPerSample) bits/sample")
        #expect(abs(gapDB - 1.53) <= 0.15, "gap \(gapDB) dB at \(bitsPerSample) bits/sample")
    }

    /// Max (1960), Table I: minimum mean squared error of N-level quantizers
    /// for a unit-variance Gaussian.
    @Test(arguments: [(2, 0.3634), (4, 0.1175), (8, 0.03454), (16, 0.009497)])
    func lloydMaxDesignMatchesMaxsTable(levels: Int, publishedMSE: Double) {
        let design = LloydMax.design(levels: levels, density: .gaussian)
        #expect(abs(design.meanSquaredError / publishedMSE - 1) < 0.02,
                "\(levels) levels: MSE \(design.meanSquaredError), Max gives \(publishedMSE)")
        // The design is symmetric about zero.
        for (low, high) in zip(design.codebook, design.codebook.reversed()) {
            #expect(abs(low + high) < 1e-9)
        }
    }

    @Test func twoLevelGaussianQuantizerHasClosedForm() {
        // Levels ±√(2/π), MSE 1 − 2/π.
        let design = LloydMax.design(levels: 2, density: .gaussian)
        #expect(abs(design.codebook[1] - (2 / Double.pi).squareRoot()) < 1e-9)
        #expect(abs(design.meanSquaredError - (1 - 2 / Double.pi)) < 1e-9)
    }

    @Test func lloydMaxTrainedOnSamplesReachesMaxsMSE() {
        var generator = SeededGenerator(seed: 3)
        let samples = (0..<200_000).map { _ in SourceDensity.gaussian.draw(using: &generator) }
        let codebook = LloydMax.train(levels: 16, samples: samples)
        let quantizer = CodebookQuantizer(codebook: codebook)
        let mse = quantizer.squaredError(samples) / Double(samples.count)
        #expect(codebook.count == 16)
        #expect(abs(mse / 0.009497 - 1) < 0.02, "trained 16-level MSE \(mse)")
    }

    /// Variances 4, 1, 0.25 at water level 0.5: rates ½·log₂(4/0.5) = 1.5 and
    /// ½·log₂(1/0.5) = 0.5 bits, and nothing for the 0.25 partition.
    @Test func reverseWaterFillingHandExample() {
        let bound = ReverseWaterFilling(components: [
            .init(count: 1, variance: 4), .init(count: 1, variance: 1), .init(count: 1, variance: 0.25),
        ])
        let point = bound.point(waterLevel: 0.5)
        #expect(point.bitsPerCoefficient == [1.5, 0.5, 0])
        #expect(point.discarded == [false, false, true])
        #expect(point.noisePower == [0.5, 0.5, 0.25])
        #expect(point.bits == 2)
        #expect(point.weightedDistortion == 1.25)

        // The inverse searches land on the same water level.
        #expect(abs(bound.point(bits: 2).waterLevel - 0.5) < 1e-9)
        #expect(abs(bound.point(weightedDistortion: 1.25).waterLevel - 0.5) < 1e-9)
    }

    @Test func toleranceNormalisesTheWater() {
        // Variance 4 with tolerance 2 behaves like variance 2 with tolerance 1,
        // and its noise is reported back in the source's units.
        let bound = ReverseWaterFilling(components: [.init(count: 2, variance: 4, tolerance: 2)])
        let point = bound.point(waterLevel: 0.5)
        #expect(point.bitsPerCoefficient == [1])
        #expect(point.bits == 2)
        #expect(point.noisePower == [1])
    }

    @Test func boundOfOnePartitionIsTheGaussianDistortionRateFunction() {
        let bound = ReverseWaterFilling(components: [.init(count: 10, variance: 3)])
        for rate in [0.5, 1, 2, 4] {
            let point = bound.point(bits: 10 * rate)
            // D(R) = σ²·2^(−2R) per coefficient.
            #expect(abs(point.noisePower[0] / (3 * Double.exp2(-2 * rate)) - 1) < 1e-9)
        }
    }

    @Test func laplacianEntropyPowerIsEOverPi() {
        #expect(abs(SourceDensity.laplacian.entropyPowerRatio - Double.exp(1) / Double.pi) < 1e-15)
        #expect(SourceDensity.gaussian.entropyPowerRatio == 1)
    }

    @Test(arguments: SourceDensity.allCases)
    func densitiesHaveUnitMassAndVariance(density: SourceDensity) {
        let m = density.moments(-density.support, density.support)
        #expect(abs(m.mass - 1) < 1e-12)
        #expect(abs(m.first) < 1e-12)
        #expect(abs(m.second - 1) < 1e-12)
    }

    @Test(arguments: SourceDensity.allCases)
    func drawsHaveUnitVariance(density: SourceDensity) {
        var generator = SeededGenerator(seed: 11)
        let samples = (0..<100_000).map { _ in density.draw(using: &generator) }
        let mean = samples.reduce(0, +) / Double(samples.count)
        let variance = samples.reduce(0) { $0 + $1 * $1 } / Double(samples.count)
        #expect(abs(mean) < 0.02)
        #expect(abs(variance - 1) < 0.02)
    }

    /// The water above one component and below the other: the first is discarded, in proportion to its coefficients.
    @Test func theBoundDiscardsTheComponentsUnderTheWater() {
        let bound = ReverseWaterFilling(components: [.init(count: 30, variance: 0.01), .init(count: 10, variance: 100)])
        #expect(bound.discardedShare(at: bound.point(waterLevel: 1)) == 0.75)
        #expect(bound.discardedShare(at: bound.point(waterLevel: 0.001)) == 0)
        #expect(bound.discardedShare(at: bound.point(waterLevel: 1000)) == 1)
    }
}
