import ArgumentParser
import RateDistortion

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rate-distortion sweeps: measured points, the bound, and what was discarded.",
        subcommands: [SweepAudio.self, SweepSource.self, SweepWeights.self]
    )
}

extension SourceDensity: ExpressibleByArgument {}

struct SweepSource: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source",
        abstract: "Sweep the core's quantizers over a synthetic source.",
        discussion: """
            Draws a seeded memoryless source cut into partitions whose variances fall linearly in dB \
            (like an MDCT spectrum), spends each rate across the partitions with the Lagrangian \
            allocator, and reports bits, MSE, SNR, the gap to the Shannon bound and the discard report.
            """
    )

    @Argument(help: "Source density: \(SourceDensity.allCases.map(\.rawValue).joined(separator: " or ")).")
    var density: SourceDensity

    @Option(help: "Rates to sweep, in bits per sample (each in (0, 8]).")
    var rates = NumberList(argument: "0.25,0.5,1,2,3,4,5,6")!

    @Option(help: "Number of partitions (1–4096).")
    var partitions = 32

    @Option(name: .customLong("samples"), help: "Samples per partition (16–1048576).")
    var samplesPerPartition = 2048

    @Option(help: "Variance range from the first partition to the last, in dB (0–120).")
    var spread = 30.0

    @Option(help: "Seed of the source's random stream.")
    var seed: UInt64 = 1

    @Option(help: "Quantizers to sweep: \(QuantizerFamily.allCases.map(\.rawValue).joined(separator: ", ")).")
    var quantizers = NameList<QuantizerFamily>(QuantizerFamily.allCases)

    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard rates.values.allSatisfy({ $0 > 0 && $0 <= 8 }) else {
            throw ValidationError("--rates must each be in (0, 8] bits per sample, got \(rates.defaultValueDescription)")
        }
        guard (1...4096).contains(partitions) else {
            throw ValidationError("--partitions must be 1–4096, got \(partitions)")
        }
        guard (16...(1 << 20)).contains(samplesPerPartition) else {
            throw ValidationError("--samples must be 16–1048576 per partition, got \(samplesPerPartition)")
        }
        guard partitions * samplesPerPartition <= 1 << 24 else {
            throw ValidationError("--partitions × --samples must be at most 16777216, got \(partitions * samplesPerPartition)")
        }
        guard spread.isFinite, (0...120).contains(spread) else {
            throw ValidationError("--spread must be 0–120 dB, got \(formatNumber(spread))")
        }
    }

    func run() throws {
        let source = SyntheticSource(density: density, partitionCount: partitions,
                                     samplesPerPartition: samplesPerPartition, spreadDB: spread, seed: seed)
        let sweep = try SourceSweep.run(source: source, rates: rates.values, families: quantizers.values)
        try report.emit(sweep)
    }
}
