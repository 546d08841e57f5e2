import RealModule
import Testing
@testable import RateDistortion

/// Pooling partitions into log-variance bins leaves the bound where it was.
struct VarianceHistogramTests {
    /// 20 000 partitions of 32 with variances spread over 12 decades, some
    /// silent: the pooled bound's rate at several distortions is the exact
    /// bound's to 0.005 bit per coefficient, and its distortion at several
    /// rates within 2.2 % (the bin width).
    @Test func pooledBoundMatchesTheExactOne() {
        var generator = SeededGenerator(seed: 3)
        var exact = [ReverseWaterFilling.Component]()
        var histogram = VarianceHistogram()
        for i in 0..<20_000 {
            let variance = i % 97 == 0 ? 0 : Double.exp10(Double.random(in: -9...3, using: &generator))
            exact.append(.init(count: 32, variance: variance))
            histogram.add(variance: variance, count: 32)
        }
        let bound = ReverseWaterFilling(components: exact), pooled = histogram.bound
        #expect(histogram.partitionCount == 20_000 && histogram.coefficientCount == 640_000)
        #expect(pooled.coefficientCount == 640_000 && pooled.components.count < 1400)
        #expect(pooled.components[0].variance == 0 && pooled.components[0].count == 32 * 207)
        let energy = exact.reduce(0) { $0 + $1.variance * 32 }
        #expect(abs(histogram.energy / energy - 1) < 1e-12)
        for fraction in [0.5, 1e-2, 1e-4, 1e-7] {
            let a = bound.point(weightedDistortion: fraction * energy).bits / 640_000
            let b = pooled.point(weightedDistortion: fraction * energy).bits / 640_000
            #expect(abs(a - b) < 0.005, "at D = \(fraction)·E: \(a) exact, \(b) pooled bits per coefficient")
        }
        for rate in [0.5, 2.0, 6.0] {
            let a = bound.point(bits: rate * 640_000).weightedDistortion
            let b = pooled.point(bits: rate * 640_000).weightedDistortion
            #expect(abs(b / a - 1) < 0.022, "at \(rate) bits: \(a) exact, \(b) pooled")
        }
    }

    @Test func mergingIsAddingTheSamePartitions() {
        var one = VarianceHistogram(), two = VarianceHistogram(), both = VarianceHistogram()
        for (i, v) in [1e-3, 2e-3, 0, 5.0, 5.01, 7e-5].enumerated() {
            if i % 2 == 0 { one.add(variance: v, count: i + 1) } else { two.add(variance: v, count: i + 1) }
            both.add(variance: v, count: i + 1)
        }
        one.merge(two)
        #expect(one.components == both.components && one.coefficientCount == 21 && one.partitionCount == 6)
        #expect(abs(one.energy - both.energy) < 1e-12)
    }
}
