/// Two (or more) compressors side by side at the same budgets, in bits per
/// coefficient: what each spent, what it lost at the mean and in the tail,
/// how far it stands from its reverse water-filling bound, and what it
/// discarded. The core knows neither domain: each front end brings its rows,
/// its own distortion measures and its bound's curve.
public struct CompressionComparison: Sendable {
    /// A figure only one domain has (NMR for audio, KL for weights).
    public struct Measure: Sendable {
        public var column: ReportTable.Column
        public var value: Double

        public init(_ column: ReportTable.Column, _ value: Double) {
            self.column = column
            self.value = value
        }
    }

    /// One domain's operating point for one budget.
    public struct Row: Sendable {
        /// The budget asked for, in bits per coefficient.
        public var budget: Double
        /// How the budget was met, e.g. "128 kbit/s" or "Q4_0 71 %, Q8_0 29 %".
        public var setting: String
        /// The setting in a few characters, beside its point on the plot.
        public var label: String
        /// Whether the setting is within the budget (else no setting was, and it is the nearest).
        public var fits: Bool
        /// Bits spent per coefficient, side information and block scales included.
        public var rate: Double
        /// Signal over noise, and the same over the worst 1 % of the domain's tail units, in dB.
        public var snrDB: Double
        public var worstSNRDB: Double
        /// The domain's own figures, in its order.
        public var measures: [Measure]
        /// The bound's bits per coefficient at the distortion this codec minimises, as it measured it.
        public var boundRate: Double
        /// Of the partitions with energy (bands, groups), the share coded as silence.
        public var zeroedPartitionShare: Double
        /// Of the coefficients with energy, the share coded as zero and their share of the energy.
        public var zeroedShare: Double
        public var zeroedEnergyShare: Double
        /// The share of coefficients the bound gives no bits at the same distortion.
        public var boundZeroedShare: Double
        /// Where the loss went: the bands zeroed most, the tensors with the most noise.
        public var whereLost: String

        public init(budget: Double, setting: String, label: String, fits: Bool, rate: Double, snrDB: Double, worstSNRDB: Double, measures: [Measure],
                    boundRate: Double, zeroedPartitionShare: Double, zeroedShare: Double, zeroedEnergyShare: Double, boundZeroedShare: Double,
                    whereLost: String) {
            self.budget = budget
            self.setting = setting
            self.label = label
            self.fits = fits
            self.rate = rate
            self.snrDB = snrDB
            self.worstSNRDB = worstSNRDB
            self.measures = measures
            self.boundRate = boundRate
            self.zeroedPartitionShare = zeroedPartitionShare
            self.zeroedShare = zeroedShare
            self.zeroedEnergyShare = zeroedEnergyShare
            self.boundZeroedShare = boundZeroedShare
            self.whereLost = whereLost
        }

        /// Rate above the bound at equal distortion.
        public var gap: Double { rate - boundRate }
    }

    /// One compressor: its rows, budget by budget, and what its figures mean.
    public struct Domain: Sendable {
        /// "audio", "weights".
        public var name: String
        /// What was compressed, e.g. a file name.
        public var subject: String
        /// What a coefficient is: "sample", "weight".
        public var coefficient: String
        /// What its SNR and tail are, the bound it is measured against, and anything else a reader needs.
        public var notes: [String]
        public var rows: [Row]
        /// The bound's SNR against rate, on the plot's axes.
        public var boundCurve: [(rate: Double, snrDB: Double)]

        public init(name: String, subject: String, coefficient: String, notes: [String], rows: [Row],
                    boundCurve: [(rate: Double, snrDB: Double)]) {
            self.name = name
            self.subject = subject
            self.coefficient = coefficient
            self.notes = notes
            self.rows = rows
            self.boundCurve = boundCurve
        }
    }

    public var budgets: [Double]
    public var domains: [Domain]

    public init(budgets: [Double], domains: [Domain]) {
        precondition(domains.allSatisfy { $0.rows.count == budgets.count }, "one row per budget in every domain")
        self.budgets = budgets
        self.domains = domains
    }
}

extension CompressionComparison: NotedTableReport {
    public var title: String {
        "Side by side at " + budgets.map { formatNumber($0) }.joined(separator: ", ") + " bits per coefficient: "
            + domains.map { "\($0.name) (\($0.subject))" }.joined(separator: " and ")
    }

    /// The domains' own columns, each once, in the order they first appear.
    private var measureColumns: [ReportTable.Column] {
        var columns = [ReportTable.Column]()
        for domain in domains {
            for row in domain.rows {
                for measure in row.measures where !columns.contains(where: { $0.key == measure.column.key }) {
                    columns.append(measure.column)
                }
            }
        }
        return columns
    }

    public func table() -> ReportTable {
        let own = measureColumns
        var table = ReportTable(columns: [
            .init("budget", unit: "bit/coef", key: "budget", decimals: 2),
            .init("domain", key: "domain"),
            .init("setting", key: "setting"),
            .init("fits", key: "fits"),
            .init("rate", unit: "bit/coef", key: "rate", decimals: 3),
            .init("SNR", unit: "dB", key: "snr_db", decimals: 2),
            .init("SNR worst 1%", unit: "dB", key: "worst_1pct_snr_db", decimals: 2),
        ] + own + [
            .init("bound rate", unit: "bit/coef", key: "bound_rate", decimals: 3),
            .init("gap", unit: "bit/coef", key: "gap", decimals: 3),
            .init("partitions zeroed", unit: "%", key: "zeroed_partitions_percent", decimals: 2),
            .init("zeroed", unit: "%", key: "zeroed_percent", decimals: 2),
            .init("energy zeroed", unit: "%", key: "zeroed_energy_percent", decimals: 3),
            .init("bound zeroes", unit: "%", key: "bound_zeroed_percent", decimals: 2),
            .init("where", key: "where"),
        ])
        for b in budgets.indices {
            for domain in domains {
                let row = domain.rows[b]
                let measures = own.map { column in
                    row.measures.first { $0.column.key == column.key }.map { ReportTable.Cell.number($0.value) } ?? .missing
                }
                table.append([
                    .number(row.budget), .text(domain.name), .text(row.setting), .text(row.fits ? "yes" : "no"), .number(row.rate), .number(row.snrDB),
                    .number(row.worstSNRDB),
                ] + measures + [
                    .number(row.boundRate), .number(row.gap), .number(100 * row.zeroedPartitionShare), .number(100 * row.zeroedShare),
                    .number(100 * row.zeroedEnergyShare), .number(100 * row.boundZeroedShare), .text(row.whereLost),
                ])
            }
        }
        return table
    }

    public func notes() -> [String] {
        [
            "budget, rate: bits per coefficient (an audio sample of one channel, a weight); the rate spent counts side "
                + "information, headers and block scales; fits: whether the setting is within the budget (where none is, the nearest is taken).",
            "gap: the rate spent minus the bound's rate at the distortion the codec minimises, as it measured it; "
                + "partitions zeroed: partitions with energy (bands, groups) coded as silence; zeroed: coefficients with energy coded as zero; bound zeroes: the share the bound gives no bits at that distortion.",
        ] + domains.flatMap { domain in domain.notes.map { "\(domain.name): \($0)" } }
    }

    public func json() -> JSONValue {
        return .object([
            ("title", .string(title)),
            ("budgets", .array(budgets.map { .number($0) })),
            ("domains", .array(domains.map { domain in
                .object([
                    ("name", .string(domain.name)),
                    ("subject", .string(domain.subject)),
                    ("coefficient", .string(domain.coefficient)),
                    ("notes", .array(domain.notes.map { .string($0) })),
                    ("bound_curve", .array(domain.boundCurve.map { .array([.number($0.rate), .number($0.snrDB)]) })),
                ])
            })),
            ("rows", table().json()),
        ])
    }

    /// Every domain's SNR against rate per coefficient, its worst 1 % as a
    /// tail, and its bound shaded, one colour per domain; a setting that
    /// meets several budgets is drawn once.
    public func plot() -> SVGPlot {
        var plot = SVGPlot(title: "What each compressor keeps, against its bound",
                           xLabel: "rate (bits per coefficient: per sample, per weight)",
                           yLabel: "signal-to-noise ratio (dB)")
        for (d, domain) in domains.enumerated() {
            var points = [Row]()
            for row in domain.rows where !points.contains(where: { $0.setting == row.setting }) { points.append(row) }
            points.sort { $0.rate < $1.rate }
            let colour = SVGPlot.palette[d % SVGPlot.palette.count]
            plot.series.append(.init(name: "\(domain.name) bound", points: domain.boundCurve.map { ($0.rate, $0.snrDB) },
                                     style: .bound(shadeAbove: true), colour: colour))
            plot.series.append(.init(name: "\(domain.name) SNR", points: points.map { ($0.rate, $0.snrDB) }, style: .measured,
                                     labels: points.map(\.label), colour: colour))
            plot.series.append(.init(name: "\(domain.name) worst 1%", points: points.map { ($0.rate, $0.worstSNRDB) },
                                     style: .tail, colour: colour))
        }
        return plot
    }
}
