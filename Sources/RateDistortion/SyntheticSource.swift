import RealModule

/// xoshiro256** (Blackman & Vigna, 2018), seeded through SplitMix64: a small,
/// fast generator whose streams are the same on every machine, so a seed
/// names a source exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// Uniform on the open interval (0, 1), 53 bits.
    public mutating func nextUnitInterval() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// A memoryless synthetic source cut into partitions whose variances fall
/// linearly in dB, like the spectral tilt of an MDCT granule: the top
/// partition has variance 1, the last `spreadDB` below it.
public struct SyntheticSource: Sendable, Hashable, Codable {
    public var density: SourceDensity
    public var partitionCount: Int
    public var samplesPerPartition: Int
    public var spreadDB: Double
    public var seed: UInt64

    public init(density: SourceDensity, partitionCount: Int, samplesPerPartition: Int,
                spreadDB: Double, seed: UInt64) {
        precondition(partitionCount >= 1 && samplesPerPartition >= 1, "need at least one sample")
        precondition(spreadDB >= 0 && spreadDB.isFinite, "spread must be a finite, non-negative dB value")
        self.density = density
        self.partitionCount = partitionCount
        self.samplesPerPartition = samplesPerPartition
        self.spreadDB = spreadDB
        self.seed = seed
    }

    /// The variance the source was drawn with for partition `p`.
    public func variance(ofPartition p: Int) -> Double {
        let fall = partitionCount > 1 ? spreadDB * Double(p) / Double(partitionCount - 1) : 0
        return Double.exp10(-fall / 10)
    }

    /// The samples, partition after partition.
    public func draw() -> [Double] {
        var generator = SeededGenerator(seed: seed)
        var samples = [Double]()
        samples.reserveCapacity(partitionCount * samplesPerPartition)
        for p in 0..<partitionCount {
            let sigma = variance(ofPartition: p).squareRoot()
            for _ in 0..<samplesPerPartition {
                samples.append(sigma * density.draw(using: &generator))
            }
        }
        return samples
    }

    public var partitionWidths: [Int] { Array(repeating: samplesPerPartition, count: partitionCount) }
}

extension SourceDensity {
    /// One unit-variance draw: Box–Muller for the Gaussian (one of the pair
    /// is used, so each draw depends only on the stream position), the
    /// inverse CDF for the Laplacian.
    public func draw(using generator: inout SeededGenerator) -> Double {
        let u = generator.nextUnitInterval()
        switch self {
        case .gaussian:
            let v = generator.nextUnitInterval()
            return (-2 * Double.log(u)).squareRoot() * Double.cos(2 * Double.pi * v)
        case .laplacian:
            let b = 1 / 2.0.squareRoot()
            return u < 0.5 ? b * Double.log(2 * u) : -b * Double.log(2 * (1 - u))
        }
    }
}
