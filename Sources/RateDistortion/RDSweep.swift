import RealModule

/// One operating point of a codec: what it spent, what it left, how far it
/// stands from the bound, and what it discarded.
public struct RDPoint: Sendable, Hashable {
    /// The codec or quantizer family, e.g. "uniform (entropy)".
    public var codec: String
    /// The rate asked for, per sample.
    public var targetRate: Double
    /// The rate spent, per sample, side information included.
    public var rate: Double
    /// The part of `rate` spent on side information (steps, scales, headers).
    public var sideRate: Double
    /// Mean squared error per sample.
    public var meanSquaredError: Double
    /// Signal energy over noise energy, in dB.
    public var snrDB: Double
    /// The bound's SNR at the rate spent.
    public var boundSNRDB: Double
    /// Rate spent minus the bound's rate at the same weighted distortion, per sample.
    public var gapBits: Double
    /// Weighted distortion over the bound's at the same rate, in dB.
    public var gapDB: Double
    public var discard: DiscardReport

    public init(codec: String, targetRate: Double, rate: Double, sideRate: Double,
                meanSquaredError: Double, snrDB: Double, boundSNRDB: Double,
                gapBits: Double, gapDB: Double, discard: DiscardReport) {
        self.codec = codec
        self.targetRate = targetRate
        self.rate = rate
        self.sideRate = sideRate
        self.meanSquaredError = meanSquaredError
        self.snrDB = snrDB
        self.boundSNRDB = boundSNRDB
        self.gapBits = gapBits
        self.gapDB = gapDB
        self.discard = discard
    }

    /// Measures a codec's outcome on `partitions` against `bound`.
    ///
    /// - Parameters:
    ///   - outcomes: per partition, what the codec spent and left.
    ///   - sideBits: bits of side information in total.
    public init(codec: String, targetRate: Double, outcomes: [PartitionOutcome], sideBits: Double,
                bound: ReverseWaterFilling) {
        let samples = Double(outcomes.reduce(0) { $0 + $1.count })
        let totalBits = outcomes.reduce(sideBits) { $0 + $1.bits }
        let energy = outcomes.reduce(0) { $0 + $1.power * Double($1.count) }
        let noise = outcomes.reduce(0) { $0 + $1.noisePower * Double($1.count) }
        let weighted = outcomes.reduce(0) { $0 + $1.noiseToTolerance * Double($1.count) }
        let atRate = bound.point(bits: totalBits)
        let boundNoise = zip(atRate.noisePower, bound.components).reduce(0) { $0 + $1.0 * Double($1.1.count) }
        self.init(
            codec: codec, targetRate: targetRate, rate: totalBits / samples, sideRate: sideBits / samples,
            meanSquaredError: noise / samples, snrDB: decibels(energy / noise),
            boundSNRDB: decibels(energy / boundNoise),
            gapBits: (totalBits - bound.point(weightedDistortion: weighted).bits) / samples,
            gapDB: decibels(weighted / atRate.weightedDistortion),
            discard: DiscardReport(partitions: outcomes))
    }
}

/// A rate-distortion sweep: operating points of one or more codecs on one
/// source, and the bound they are measured against.
public struct RDSweep: Sendable {
    public var title: String
    /// What one unit of rate is spent on: "sample", "weight".
    public var unit: String
    /// Short name of the bound, for legends.
    public var boundName: String
    /// What the bound is, in a sentence.
    public var boundNote: String
    public var points: [RDPoint]
    /// The bound as (rate per unit, SNR in dB), densely sampled for plotting.
    public var boundCurve: [(rate: Double, snrDB: Double)]

    public init(title: String, unit: String, boundName: String, boundNote: String, points: [RDPoint],
                boundCurve: [(rate: Double, snrDB: Double)]) {
        self.title = title
        self.unit = unit
        self.boundName = boundName
        self.boundNote = boundNote
        self.points = points
        self.boundCurve = boundCurve
    }

    /// The bound's SNR from rate 0 to `maxRate`, every `step` bits per unit.
    /// - Parameter samples: what the rate is counted over; by default the bound's coefficients.
    public static func boundCurve(_ bound: ReverseWaterFilling, energy: Double, maxRate: Double,
                                  step: Double = 0.05, samples: Int? = nil) -> [(rate: Double, snrDB: Double)] {
        let samples = Double(samples ?? bound.coefficientCount)
        return stride(from: 0, through: maxRate + step / 2, by: step).map { rate in
            let point = bound.point(bits: rate * samples)
            let noise = zip(point.noisePower, bound.components).reduce(0) { $0 + $1.0 * Double($1.1.count) }
            return (rate, decibels(energy / noise))
        }
    }
}
