import Testing
@testable import RateDistortion

struct SweepTests {
    static let rates = [0.5, 1, 2, 3, 4]

    private func sweep(_ density: SourceDensity) throws -> RDSweep {
        let source = SyntheticSource(density: density, partitionCount: 8, samplesPerPartition: 1024,
                                     spreadDB: 30, seed: 2)
        return try SourceSweep.run(source: source, rates: Self.rates, families: QuantizerFamily.allCases)
    }

    @Test(arguments: SourceDensity.allCases)
    func noPointBeatsTheBoundOrOverspends(density: SourceDensity) throws {
        let result = try sweep(density)
        #expect(result.points.count == Self.rates.count * QuantizerFamily.allCases.count)
        for point in result.points {
            #expect(point.rate <= point.targetRate + 1e-12, "\(point.codec) overspent at \(point.targetRate)")
            #expect(point.gapBits >= 0, "\(point.codec) beat the bound by \(-point.gapBits) bit at \(point.targetRate)")
            #expect(point.gapDB >= 0)
            #expect(point.snrDB <= point.boundSNRDB)
        }
    }

    @Test func snrRisesWithRateAndEntropyCodingWinsAtHighRate() throws {
        let result = try sweep(.gaussian)
        for family in QuantizerFamily.allCases {
            let snrs = result.points.filter { $0.codec == family.displayName }.map(\.snrDB)
            #expect(zip(snrs, snrs.dropFirst()).allSatisfy { $0 < $1 }, "\(family): \(snrs)")
        }
        let atFour = Dictionary(uniqueKeysWithValues: result.points.filter { $0.targetRate == 4 }.map { ($0.codec, $0) })
        let uniform = atFour[QuantizerFamily.uniform.displayName]!
        #expect(uniform.gapBits < atFour[QuantizerFamily.lloydMax.displayName]!.gapBits)
        #expect(uniform.gapBits < atFour[QuantizerFamily.offset.displayName]!.gapBits)
        // At high rate the entropy-coded uniform quantizer sits near its 0.254-bit gap.
        #expect(abs(uniform.gapBits - 0.254) < 0.06)
    }

    @Test func lowRatesDiscardTheQuietestPartitions() throws {
        let result = try sweep(.gaussian)
        let low = result.points.first { $0.codec == QuantizerFamily.uniform.displayName && $0.targetRate == 0.5 }!
        #expect(!low.discard.discarded.isEmpty)
        #expect(low.discard.discarded.contains(7), "the quietest partition should go first")
        #expect(!low.discard.discarded.contains(0), "the loudest partition should be kept")
        #expect(low.discard.discardedEnergyFraction > 0 && low.discard.discardedEnergyFraction < 0.2)
        let high = result.points.first { $0.codec == QuantizerFamily.uniform.displayName && $0.targetRate == 4 }!
        #expect(high.discard.discarded.isEmpty)
    }

    @Test func theSameSeedDrawsTheSameSource() {
        let a = SyntheticSource(density: .laplacian, partitionCount: 3, samplesPerPartition: 100, spreadDB: 10, seed: 9)
        var b = a
        #expect(a.draw() == b.draw())
        b.seed = 10
        #expect(a.draw() != b.draw())
        #expect(a.variance(ofPartition: 2) == 0.1)
    }

    @Test func aRateBelowTheSideInformationIsAClearError() {
        let source = SyntheticSource(density: .gaussian, partitionCount: 4, samplesPerPartition: 64, spreadDB: 10, seed: 1)
        #expect(throws: SourceSweep.Failure.self) {
            try SourceSweep.run(source: source, rates: [0.001], families: [.uniform])
        }
    }
}
