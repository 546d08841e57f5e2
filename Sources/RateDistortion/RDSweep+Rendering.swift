/// The forms a report takes.
public enum ReportFormat: String, Sendable, CaseIterable {
    case table, markdown, csv, json
}

extension ReportTable {
    /// The table alone in a format.
    public func rendered(as format: ReportFormat) -> String {
        switch format {
        case .table: return text()
        case .markdown: return markdown()
        case .csv: return csv()
        case .json: return json().serialized(indent: 1) + "\n"
        }
    }
}

/// A report that is one table with notes under it, rendered alike in every format.
public protocol NotedTableReport {
    var title: String { get }
    func table() -> ReportTable
    /// The lines under the table: what its figures are.
    func notes() -> [String]
    func json() -> JSONValue
}

extension NotedTableReport {
    public func rendered(as format: ReportFormat) -> String {
        switch format {
        case .csv: return table().csv()
        case .json: return json().serialized() + "\n"
        case .table: return "\(title)\n\n" + table().text() + "\n" + notes().joined(separator: "\n") + "\n"
        case .markdown: return "## \(title)\n\n" + table().markdown() + "\n" + notes().joined(separator: "\n\n") + "\n"
        }
    }
}

extension RDSweep {
    /// The summary table: one row per operating point, tails beside means.
    public func table() -> ReportTable {
        let per = "bit/\(unit)"
        var table = ReportTable(columns: [
            .init("codec", key: "codec"),
            .init("target", unit: per, key: "target_rate", decimals: 2),
            .init("rate", unit: per, key: "rate", decimals: 3),
            .init("side", unit: per, key: "side_rate", decimals: 3),
            .init("MSE", key: "mse", decimals: 6),
            .init("SNR", unit: "dB", key: "snr_db", decimals: 2),
            .init("bound SNR", unit: "dB", key: "bound_snr_db", decimals: 2),
            .init("gap", unit: "bit", key: "gap_bits", decimals: 3),
            .init("gap", unit: "dB", key: "gap_db", decimals: 2),
            .init("discarded", key: "discarded_partitions", decimals: 0),
            .init("energy lost", unit: "%", key: "discarded_energy_percent", decimals: 2),
            .init("NTR mean", unit: "dB", key: "ntr_mean_db", decimals: 2),
            .init("NTR worst 1%", unit: "dB", key: "ntr_tail_db", decimals: 2),
            .init("NTR max", unit: "dB", key: "ntr_max_db", decimals: 2),
        ])
        for p in points {
            table.append([
                .text(p.codec), .number(p.targetRate), .number(p.rate), .number(p.sideRate),
                .number(p.meanSquaredError), .number(p.snrDB), .number(p.boundSNRDB),
                .number(p.gapBits), .number(p.gapDB), .integer(p.discard.discarded.count),
                .number(100 * p.discard.discardedEnergyFraction),
                .number(p.discard.meanNoiseToToleranceDB), .number(p.discard.tailNoiseToToleranceDB),
                .number(p.discard.maxNoiseToToleranceDB),
            ])
        }
        return table
    }

    /// What each operating point threw away, and its worst partitions.
    public func discardLines(markdown: Bool) -> [String] {
        points.flatMap { p -> [String] in
            let d = p.discard
            let worst = d.worst.map { i in
                "#\(i) \(formatFixed(decibels(d.partitions.first { $0.index == i }!.noiseToTolerance), decimals: 1))"
            }.joined(separator: ", ")
            let head = "\(p.codec) at \(formatFixed(p.targetRate, decimals: 2)) bits/\(unit)"
            let bullet = markdown ? "- " : "  "
            return [
                markdown ? "**\(head)**" : head,
                bullet + "discarded: \(d.discarded.count) of \(d.partitions.count) partitions (\(compactRanges(d.discarded))), "
                    + "\(formatFixed(100 * d.discardedEnergyFraction, decimals: 2)) % of the energy; "
                    + "\(formatFixed(100 * d.zeroedCoefficientFraction, decimals: 1)) % of coefficients zeroed",
                bullet + "worst \(d.worst.count) partitions by noise-to-tolerance (dB): \(worst)",
            ] + (markdown ? [""] : [])
        }
    }

    /// The whole report in one of the text formats.
    public func rendered(as format: ReportFormat) -> String {
        switch format {
        case .csv: return table().csv()
        case .json: return json().serialized() + "\n"
        case .table:
            return "\(title)\n\n" + table().text() + "\nbound: \(boundName), \(boundNote)\n\nWhat was discarded\n"
                + discardLines(markdown: false).joined(separator: "\n") + "\n"
        case .markdown:
            return "## \(title)\n\n" + table().markdown() + "\nBound: \(boundName), \(boundNote).\n\n### What was discarded\n\n"
                + discardLines(markdown: true).joined(separator: "\n")
        }
    }

    /// Everything, per partition included.
    public func json() -> JSONValue {
        let summaries = table().jsonMembers()
        return .object([
            ("title", .string(title)),
            ("unit", .string(unit)),
            ("bound", .object([
                ("name", .string(boundName)),
                ("note", .string(boundNote)),
                ("curve", .array(boundCurve.map { .array([.number($0.rate), .number($0.snrDB)]) })),
            ])),
            ("points", .array(zip(points, summaries).map { p, members in .object(members + [("discard", p.discard.json())]) })),
        ])
    }

    /// Measured SNR against rate for each codec, with the bound shaded.
    public func plot() -> SVGPlot {
        var codecs = [String]()
        for p in points where !codecs.contains(p.codec) { codecs.append(p.codec) }
        var plot = SVGPlot(title: title, xLabel: "rate (bits per \(unit))", yLabel: "SNR (dB)")
        plot.series.append(.init(name: boundName, points: boundCurve.map { ($0.rate, $0.snrDB) },
                                 style: .bound(shadeAbove: true)))
        for codec in codecs {
            let measured = points.filter { $0.codec == codec }.sorted { $0.rate < $1.rate }
            plot.series.append(.init(name: codec, points: measured.map { ($0.rate, $0.snrDB) }, style: .measured))
        }
        return plot
    }
}

extension DiscardReport {
    public func json() -> JSONValue {
        .object([
            ("discarded", .array(discarded.map { .number(Double($0)) })),
            ("discarded_energy_fraction", .number(discardedEnergyFraction)),
            ("zeroed_coefficient_fraction", .number(zeroedCoefficientFraction)),
            ("ntr_mean_db", .number(meanNoiseToToleranceDB)),
            ("tail_count", .number(Double(tailCount))),
            ("ntr_tail_db", .number(tailNoiseToToleranceDB)),
            ("ntr_max_db", .number(maxNoiseToToleranceDB)),
            ("worst", .array(worst.map { .number(Double($0)) })),
            ("partitions", .array(partitions.map { p in
                .object([
                    ("index", .number(Double(p.index))), ("count", .number(Double(p.count))),
                    ("power", .number(p.power)), ("tolerance", .number(p.tolerance)),
                    ("bits", .number(p.bits)), ("noise_power", .number(p.noisePower)),
                    ("ntr_db", .number(decibels(p.noiseToTolerance))),
                    ("zeroed", .number(Double(p.zeroedCoefficients))),
                ])
            })),
        ])
    }
}
