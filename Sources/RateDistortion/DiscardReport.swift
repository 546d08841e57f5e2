import RealModule

/// What one partition got from a codec at one operating point.
public struct PartitionOutcome: Sendable, Hashable, Codable {
    /// Position of the partition in its source.
    public var index: Int
    public var count: Int
    /// Mean square of the input coefficients.
    public var power: Double
    /// Noise power per coefficient that goes unnoticed.
    public var tolerance: Double
    /// Bits spent on the partition's coefficients (side information apart).
    public var bits: Double
    /// Mean square of input − reconstruction.
    public var noisePower: Double
    /// Coefficients reconstructed as exactly zero.
    public var zeroedCoefficients: Int

    public init(index: Int, count: Int, power: Double, tolerance: Double, bits: Double,
                noisePower: Double, zeroedCoefficients: Int) {
        self.index = index
        self.count = count
        self.power = power
        self.tolerance = tolerance
        self.bits = bits
        self.noisePower = noisePower
        self.zeroedCoefficients = zeroedCoefficients
    }

    /// Noise-to-tolerance ratio: above 1 the receiver notices.
    public var noiseToTolerance: Double { noisePower / tolerance }
    /// Given no bits: nothing of it reaches the receiver.
    public var isDiscarded: Bool { bits == 0 }
}

/// What an operating point threw away, with the tails as well as the mean.
public struct DiscardReport: Sendable, Hashable, Codable {
    public var partitions: [PartitionOutcome]
    /// Indices of the partitions given zero bits.
    public var discarded: [Int]
    /// Energy of discarded partitions over the energy of all.
    public var discardedEnergyFraction: Double
    /// Share of all coefficients reconstructed as zero (discarded partitions,
    /// dead zones, pruning).
    public var zeroedCoefficientFraction: Double
    /// Noise-to-tolerance averaged over coefficients, in dB.
    public var meanNoiseToToleranceDB: Double
    /// How many partitions make up the worst tail (⌈1 %⌉ of them, at least one).
    public var tailCount: Int
    /// The mildest NTR within the worst tail, in dB: the 99th percentile.
    public var tailNoiseToToleranceDB: Double
    /// The worst NTR of all, in dB.
    public var maxNoiseToToleranceDB: Double
    /// The worst partitions by NTR, worst first (at most `worstListLength`).
    public var worst: [Int]

    public init(partitions: [PartitionOutcome], tailFraction: Double = 0.01, worstListLength: Int = 10) {
        precondition(!partitions.isEmpty, "no partitions to report on")
        precondition(tailFraction > 0 && tailFraction <= 1, "tail fraction in (0, 1]")
        self.partitions = partitions
        discarded = partitions.filter(\.isDiscarded).map(\.index)
        let energy = partitions.reduce(0) { $0 + $1.power * Double($1.count) }
        let lost = partitions.filter(\.isDiscarded).reduce(0) { $0 + $1.power * Double($1.count) }
        discardedEnergyFraction = energy > 0 ? lost / energy : 0
        let coefficients = partitions.reduce(0) { $0 + $1.count }
        zeroedCoefficientFraction = Double(partitions.reduce(0) { $0 + $1.zeroedCoefficients }) / Double(coefficients)
        let weightedNTR = partitions.reduce(0) { $0 + $1.noiseToTolerance * Double($1.count) }
        meanNoiseToToleranceDB = decibels(weightedNTR / Double(coefficients))

        // Stable order: worst first, ties by position.
        let ranked = partitions.indices.sorted {
            let a = partitions[$0].noiseToTolerance, b = partitions[$1].noiseToTolerance
            return a != b ? a > b : $0 < $1
        }
        tailCount = max(1, Int((tailFraction * Double(partitions.count)).rounded(.up)))
        tailNoiseToToleranceDB = decibels(partitions[ranked[tailCount - 1]].noiseToTolerance)
        maxNoiseToToleranceDB = decibels(partitions[ranked[0]].noiseToTolerance)
        worst = ranked.prefix(worstListLength).map { partitions[$0].index }
    }
}

/// 10·log₁₀(ratio): a power ratio in decibels (−∞ for 0).
public func decibels(_ ratio: Double) -> Double {
    ratio > 0 ? 10 * Double.log10(ratio) : -.infinity
}

/// Renders sorted integers as compact ranges: [0, 1, 2, 5, 7, 8] → "0-2, 5, 7-8".
public func compactRanges(_ values: [Int]) -> String {
    var parts = [String]()
    var i = 0
    let sorted = values.sorted()
    while i < sorted.count {
        var j = i
        while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
        parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
        i = j + 1
    }
    return parts.isEmpty ? "none" : parts.joined(separator: ", ")
}
