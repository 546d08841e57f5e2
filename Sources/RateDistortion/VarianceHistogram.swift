import RealModule

/// Variances of many partitions pooled into logarithmic bins, so that the
/// reverse water-filling bound over millions of partitions (every 32-weight
/// group of a model) is computed in memory that does not grow with their
/// number: the bound depends on the partitions only through their
/// (normalised) variances and sizes, and one component with a count stands
/// for all the partitions of a bin.
///
/// A bin spans 1/32 of an octave (0.094 dB) and becomes one component at the
/// count-weighted geometric mean of its variances. Where the water lies below
/// a whole bin its rate, ½·log₂(σ²/θ) per coefficient, is therefore exact;
/// where the water covers a bin its noise (σ² itself) is understated by at
/// most 2^(1/32) − 1 = 2.2 %. Partitions of variance 0 form one component of
/// their own that never gets bits.
public struct VarianceHistogram: Sendable, Hashable {
    public static let binsPerOctave = 32.0

    private struct Bin: Sendable, Hashable {
        var count = 0
        /// Σ count·log₂σ² over the partitions of the bin.
        var log2Sum = 0.0
    }

    private var bins: [Int: Bin] = [:]
    private var zeroCoefficients = 0
    /// Coefficients over every partition added.
    public private(set) var coefficientCount = 0
    public private(set) var partitionCount = 0
    /// Σ count·σ², exact (not from the bins).
    public private(set) var energy = 0.0

    public init() {}

    /// Adds a partition of `count` coefficients with variance `variance`;
    /// for a bound judged against tolerances, pass σ²/T (the components then
    /// have tolerance 1 and their distortion is noise-to-tolerance).
    public mutating func add(variance: Double, count: Int) {
        precondition(count > 0, "a partition needs coefficients")
        precondition(variance >= 0 && variance.isFinite, "variance must be finite and ≥ 0")
        partitionCount += 1
        coefficientCount += count
        energy += variance * Double(count)
        guard variance > 0 else { zeroCoefficients += count; return }
        let log2Variance = Double.log2(variance)
        let key = Int((log2Variance * Self.binsPerOctave).rounded(.down))
        bins[key, default: Bin()].count += count
        bins[key, default: Bin()].log2Sum += Double(count) * log2Variance
    }

    /// Adds another histogram's partitions, as if they had been added here.
    public mutating func merge(_ other: VarianceHistogram) {
        for (key, bin) in other.bins {
            bins[key, default: Bin()].count += bin.count
            bins[key, default: Bin()].log2Sum += bin.log2Sum
        }
        zeroCoefficients += other.zeroCoefficients
        coefficientCount += other.coefficientCount
        partitionCount += other.partitionCount
        energy += other.energy
    }

    /// One component per non-empty bin, by rising variance (the zero-variance
    /// component first, when there is one), each of tolerance 1.
    public var components: [ReverseWaterFilling.Component] {
        let zero = zeroCoefficients > 0 ? [ReverseWaterFilling.Component(count: zeroCoefficients, variance: 0)] : []
        return zero + bins.sorted { $0.key < $1.key }.map { _, bin in
            ReverseWaterFilling.Component(count: bin.count, variance: Double.exp2(bin.log2Sum / Double(bin.count)))
        }
    }

    /// The bound over the pooled partitions.
    public var bound: ReverseWaterFilling { ReverseWaterFilling(components: components) }
}
