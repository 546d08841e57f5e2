import RealModule

/// The rate-distortion bound for independent Gaussian partitions: reverse
/// water-filling (Cover & Thomas, Theorem 10.3.3).
///
/// Each partition p has n_p coefficients of variance σ²_p and tolerance T_p.
/// Distortion is judged relative to tolerance, so the water is poured over
/// the normalised variances s_p = σ²_p/T_p. At water level θ a partition
/// costs n_p·½·log₂(s_p/θ) bits and keeps normalised noise θ per coefficient;
/// where s_p ≤ θ it gets **no bits at all** and its whole variance is the
/// noise: that is what an ideal compressor discards.
///
/// With variances replaced by entropy powers (`SourceDensity.entropyPowerRatio`)
/// the same curve is the Shannon lower bound for non-Gaussian sources.
public struct ReverseWaterFilling: Sendable {
    public struct Component: Sendable, Hashable, Codable {
        public var count: Int
        public var variance: Double
        public var tolerance: Double

        public init(count: Int, variance: Double, tolerance: Double = 1) {
            precondition(count > 0, "a component needs coefficients")
            precondition(variance >= 0 && tolerance > 0, "variance ≥ 0 and tolerance > 0")
            self.count = count
            self.variance = variance
            self.tolerance = tolerance
        }

        var normalisedVariance: Double { variance / tolerance }
    }

    /// The bound at one water level.
    public struct Point: Sendable, Hashable, Codable {
        /// Water level θ, in units of tolerance.
        public var waterLevel: Double
        /// Total bits over all coefficients.
        public var bits: Double
        /// Σ n_p·(noise per coefficient)/T_p: the total noise-to-tolerance.
        public var weightedDistortion: Double
        /// Bits per coefficient, one per component; 0 marks a discarded one.
        public var bitsPerCoefficient: [Double]
        /// Noise power per coefficient, one per component, in the source's units.
        public var noisePower: [Double]

        public var discarded: [Bool] { bitsPerCoefficient.map { $0 == 0 } }
    }

    public let components: [Component]
    public var coefficientCount: Int { components.reduce(0) { $0 + $1.count } }

    public init(components: [Component]) {
        precondition(!components.isEmpty, "no components")
        self.components = components
    }

    public init(partitions: [Partition], varianceScale: Double = 1) {
        self.init(components: partitions.map {
            Component(count: $0.count, variance: $0.power * varianceScale, tolerance: $0.tolerance)
        })
    }

    public func point(waterLevel theta: Double) -> Point {
        precondition(theta > 0, "water level must be positive")
        var bits = 0.0
        var weighted = 0.0
        var perCoefficient = [Double]()
        var noise = [Double]()
        for c in components {
            let s = c.normalisedVariance
            let rate = s > theta ? 0.5 * Double.log2(s / theta) : 0
            let normalisedNoise = min(s, theta)
            bits += Double(c.count) * rate
            weighted += Double(c.count) * normalisedNoise
            perCoefficient.append(rate)
            noise.append(normalisedNoise * c.tolerance)
        }
        return Point(waterLevel: theta, bits: bits, weightedDistortion: weighted,
                     bitsPerCoefficient: perCoefficient, noisePower: noise)
    }

    /// The share of the coefficients that get no bits at `point`: what the bound discards.
    public func discardedShare(at point: Point) -> Double {
        let discarded = zip(components, point.discarded).reduce(0) { $0 + ($1.1 ? $1.0.count : 0) }
        return Double(discarded) / Double(max(1, coefficientCount))
    }

    /// The least weighted distortion reachable with `bits` in total.
    public func point(bits budget: Double) -> Point {
        precondition(budget >= 0, "negative budget")
        // Bits fall as θ rises; bisect log θ between the smallest and largest s.
        return bisect { $0.bits <= budget }
    }

    /// The fewest bits that reach weighted distortion `target` (Σ n·noise/T).
    public func point(weightedDistortion target: Double) -> Point {
        precondition(target >= 0, "negative distortion")
        return bisect { $0.weightedDistortion >= target }
    }

    /// Bisection on log θ for the smallest θ whose point satisfies `accept`,
    /// a predicate that turns true as θ rises.
    private func bisect(_ accept: (Point) -> Bool) -> Point {
        let positive = components.map(\.normalisedVariance).filter { $0 > 0 }
        guard let largest = positive.max(), let smallest = positive.min() else {
            return point(waterLevel: 1)  // an all-zero source: nothing to code
        }
        var low = Double.log2(smallest) - 60
        var high = Double.log2(largest)
        if accept(point(waterLevel: Double.exp2(low))) { return point(waterLevel: Double.exp2(low)) }
        for _ in 0..<200 where high - low > 1e-12 {
            let mid = (low + high) / 2
            if accept(point(waterLevel: Double.exp2(mid))) { high = mid } else { low = mid }
        }
        return point(waterLevel: Double.exp2(high))
    }
}
