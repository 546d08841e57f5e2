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
}
