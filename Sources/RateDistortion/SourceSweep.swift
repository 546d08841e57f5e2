/// The core's first front end: a synthetic source run through each core
/// quantizer at each rate, allocated across partitions by the Lagrangian
/// allocator, measured against the Shannon bound.
public enum SourceSweep {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case rateBelowSideInformation(rate: Double, family: String, minimum: Double)

        public var description: String {
            switch self {
            case let .rateBelowSideInformation(rate, family, minimum):
                return "rate \(formatFixed(rate, decimals: 3)) bits/sample is below what \(family) needs for side information alone (\(formatFixed(minimum, decimals: 4)) bits/sample)"
            }
        }
    }

    public static func run(source: SyntheticSource, rates: [Double], families: [QuantizerFamily]) throws(Failure) -> RDSweep {
        precondition(!rates.isEmpty && !families.isEmpty, "nothing to sweep")
        let samples = source.draw()
        let partitions = Partition.partitions(of: samples, widths: source.partitionWidths)
        // The Shannon lower bound: Gaussian reverse water-filling on entropy powers.
        let bound = ReverseWaterFilling(partitions: partitions, varianceScale: source.density.entropyPowerRatio)
        let energy = partitions.reduce(0) { $0 + $1.energy }
        let sampleCount = Double(samples.count)

        var points = [RDPoint]()
        for family in families {
            let codebooks = family.codebooks(for: source.density)
            let menus = partitions.map { family.options(for: samples[$0.range], codebooks: codebooks) }
            for rate in rates {
                let allocation: Allocation
                do {
                    allocation = try LagrangianAllocator.allocate(
                        choices: menus.map { $0.map(\.choice) }, tolerances: partitions.map(\.tolerance),
                        budget: rate * sampleCount)
                } catch {
                    let minimum = menus.reduce(0) { $0 + $1.map(\.choice.bits).min()! } / sampleCount
                    throw .rateBelowSideInformation(rate: rate, family: family.displayName, minimum: minimum)
                }
                let chosen = zip(menus, allocation.choices).map { $0[$1] }
                let outcomes = zip(partitions.indices, chosen).map { p, option in
                    PartitionOutcome(
                        index: p, count: partitions[p].count, power: partitions[p].power,
                        tolerance: partitions[p].tolerance, bits: option.indexBits,
                        noisePower: option.squaredError / Double(partitions[p].count),
                        zeroedCoefficients: option.zeroed)
                }
                points.append(RDPoint(codec: family.displayName, targetRate: rate, outcomes: outcomes,
                                      sideBits: chosen.reduce(0) { $0 + $1.sideBits }, bound: bound))
            }
        }
        let boundName = source.density == .gaussian ? "Gaussian D(R) bound" : "Shannon lower bound"
        let title = "\(source.density.rawValue) source, \(source.partitionCount) partitions × \(source.samplesPerPartition) samples, \(formatFixed(source.spreadDB, decimals: 0)) dB spread, seed \(source.seed)"
        let maxRate = max(rates.max()!, points.map(\.rate).max() ?? 0)
        let boundNote = source.density == .gaussian
            ? "reverse water-filling over the partitions' variances; tight for a Gaussian source"
            : "reverse water-filling over the partitions' entropy powers (e/π·σ² for the Laplacian)"
        return RDSweep(title: title, unit: "sample", boundName: boundName, boundNote: boundNote, points: points,
                       boundCurve: RDSweep.boundCurve(bound, energy: energy, maxRate: maxRate))
    }
}
