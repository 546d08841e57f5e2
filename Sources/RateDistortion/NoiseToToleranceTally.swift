import RealModule

/// Noise-to-tolerance ratios counted as they come, in memory that does not
/// grow with their number: the coefficient-weighted mean, the worst, and the
/// tail (the mildest of the worst ⌈1 %⌉, as `DiscardReport` defines it) to
/// the nearest 0.1 dB. For reports over streams too long to keep every
/// partition, such as every band of every granule of an hour of audio.
public struct NoiseToToleranceTally: Sendable, Hashable {
    /// Bins of 0.1 dB from −200 dB to +100 dB; ratios outside land in the end bins.
    private static let lowestDB = -200.0, binDB = 0.1, binCount = 3000
    private var bins = [Int](repeating: 0, count: binCount)
    /// Partitions with no noise at all (−∞ dB).
    private var silent = 0
    public private(set) var partitions = 0
    private var weightedSum = 0.0
    private var coefficients = 0
    public private(set) var maxDB = -Double.infinity

    public init() {}

    public mutating func add(noiseToTolerance ratio: Double, count: Int) {
        partitions += 1
        weightedSum += ratio * Double(count)
        coefficients += count
        let db = decibels(ratio)
        maxDB = max(maxDB, db)
        guard db.isFinite else { silent += 1; return }
        let bin = Int(((db - Self.lowestDB) / Self.binDB).rounded(.down))
        bins[min(Self.binCount - 1, max(0, bin))] += 1
    }

    /// Adds another tally's partitions, as if they had been added here
    /// (for tallies kept per thread).
    public mutating func merge(_ other: NoiseToToleranceTally) {
        for bin in bins.indices { bins[bin] += other.bins[bin] }
        silent += other.silent
        partitions += other.partitions
        weightedSum += other.weightedSum
        coefficients += other.coefficients
        maxDB = max(maxDB, other.maxDB)
    }

    /// Noise-to-tolerance averaged over coefficients, in dB.
    public var meanDB: Double { decibels(weightedSum / Double(max(1, coefficients))) }

    /// The mildest ratio among the worst `fraction` of partitions (at least one), in dB, to 0.1 dB
    /// (the upper edge of its bin).
    public func tailDB(fraction: Double = 0.01) -> Double {
        guard partitions > 0 else { return -.infinity }
        let tail = max(1, Int((fraction * Double(partitions)).rounded(.up)))
        var seen = 0
        for bin in bins.indices.reversed() {
            seen += bins[bin]
            if seen >= tail { return min(maxDB, Self.lowestDB + Double(bin + 1) * Self.binDB) }
        }
        return -.infinity
    }
}
