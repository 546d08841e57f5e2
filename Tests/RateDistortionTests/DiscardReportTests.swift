import Testing
@testable import RateDistortion

struct DiscardReportTests {
    private func outcome(_ index: Int, power: Double, bits: Double, noise: Double,
                         tolerance: Double = 1, zeroed: Int = 0) -> PartitionOutcome {
        PartitionOutcome(index: index, count: 10, power: power, tolerance: tolerance, bits: bits,
                         noisePower: noise, zeroedCoefficients: zeroed)
    }

    @Test func reportsWhatWasDiscardedAndTheWorst() {
        let report = DiscardReport(partitions: [
            outcome(0, power: 4, bits: 30, noise: 0.1, zeroed: 1),
            outcome(1, power: 3, bits: 0, noise: 3, tolerance: 10, zeroed: 10),
            outcome(2, power: 2, bits: 12, noise: 0.5),
            outcome(3, power: 1, bits: 0, noise: 1, zeroed: 10),
        ])
        #expect(report.discarded == [1, 3])
        #expect(report.discardedEnergyFraction == 0.4)
        #expect(report.zeroedCoefficientFraction == 21.0 / 40)
        // NTR: 0.1, 0.3, 0.5, 1 → mean 0.475.
        #expect(abs(report.meanNoiseToToleranceDB - decibels(0.475)) < 1e-12)
        #expect(report.worst == [3, 2, 1, 0])
        #expect(report.tailCount == 1)
        #expect(report.maxNoiseToToleranceDB == 0)
        #expect(report.tailNoiseToToleranceDB == 0)
    }

    @Test func theTailIsTheWorstOnePercent() {
        // 250 partitions: the worst 1 % is 3 of them; the tail value is the third worst.
        let outcomes = (0..<250).map { outcome($0, power: 1, bits: 5, noise: Double($0 + 1) / 1000) }
        let report = DiscardReport(partitions: outcomes)
        #expect(report.tailCount == 3)
        #expect(abs(report.tailNoiseToToleranceDB - decibels(0.248)) < 1e-12)
        #expect(report.worst == Array((240..<250).reversed()))
    }

    @Test(arguments: [([Int](), "none"), ([3], "3"), ([0, 1, 2, 5, 7, 8], "0-2, 5, 7-8"), ([9, 4, 5], "4-5, 9")])
    func rangesAreCompact(values: [Int], text: String) {
        #expect(compactRanges(values) == text)
    }

    /// The streaming tally agrees with the report that keeps every partition:
    /// the same mean and worst, and the tail to within its 0.1 dB bins.
    @Test func theTallyMatchesTheReport() {
        var seed: UInt64 = 7
        func uniform() -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Double(seed >> 11) / Double(1 << 53)
        }
        let partitions = (0..<5000).map { i in
            // Noise-to-tolerance from −60 to +20 dB, a few partitions without noise.
            let noise = i % 97 == 0 ? 0 : Double.pow(10, (uniform() * 80 - 60) / 10)
            return PartitionOutcome(index: i, count: 4 + i % 13, power: 1, tolerance: 1, bits: 1,
                                    noisePower: noise, zeroedCoefficients: 0)
        }
        let report = DiscardReport(partitions: partitions)
        var tally = NoiseToToleranceTally()
        for p in partitions { tally.add(noiseToTolerance: p.noiseToTolerance, count: p.count) }
        #expect(tally.partitions == 5000)
        #expect(abs(tally.meanDB - report.meanNoiseToToleranceDB) < 1e-9)
        #expect(tally.maxDB == report.maxNoiseToToleranceDB)
        let tail = tally.tailDB()
        #expect(tail >= report.tailNoiseToToleranceDB && tail <= report.tailNoiseToToleranceDB + 0.1 + 1e-9,
                "tally \(tail) dB, report \(report.tailNoiseToToleranceDB) dB")
        #expect(NoiseToToleranceTally().tailDB() == -.infinity)
    }
}
