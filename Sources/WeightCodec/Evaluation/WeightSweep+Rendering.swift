import RateDistortion

extension WeightSweep: NotedTableReport {
    /// One row's figures, per weight of the quantized tensors.
    public struct Figures: Sendable, Hashable {
        /// Bits per weight spent, block scales and fallbacks included.
        public var rate: Double
        /// Weighted distortion per weight (plain MSE without an importance matrix).
        public var meanSquaredError: Double
        public var sqnrDB: Double
        /// The SQNR that the worst 1 % of 32-weight groups fall below, in dB (to 0.1 dB).
        public var worstGroupsSQNRDB: Double
        /// The bound's bits per weight at the same weighted distortion.
        public var boundRate: Double
        /// Rate above the bound at equal distortion, in bits per weight.
        public var gapBits: Double
        /// Distortion above the bound's at equal rate, in dB.
        public var gapDB: Double
    }

    public func figures(_ row: Row) -> Figures {
        let n = Double(max(weights, 1))
        return Figures(
            rate: row.bits / n, meanSquaredError: row.weightedNoise / n,
            sqnrDB: decibels(signalEnergy / row.weightedNoise), worstGroupsSQNRDB: -row.groups.tailDB(fraction: 0.01),
            boundRate: row.boundBits / n, gapBits: (row.bits - row.boundBits) / n,
            gapDB: decibels(row.weightedNoise / row.boundNoise))
    }

    public var boundName: String { "Gaussian bound" }

    public var boundNote: String {
        "Gaussian reverse water-filling over the model's \(groupCount) groups of \(Self.groupWeights) weights along the rows, each a "
            + "Gaussian of variance its mean square (nothing subtracted: weight rows are close to zero-mean)"
            + (weightedByImportance ? " and tolerance 1/(mean E[x²] of its columns)" : "")
            + ". It is the rate of Gaussian groups whose variances the decoder knows for free: it charges nothing for "
            + "block scales, and weights that are not Gaussian may need less (the Gaussian is the hardest source "
            + "of its variance), so the gap is a distance to a yardstick, not a proof of what is impossible"
    }

    public var title: String {
        "\(model): \(quantizedTensors) quantized tensors, \(weights) weights, "
            + (weightedByImportance ? "error weighted by the importance matrix's E[x²]" : "plain squared error")
    }

    private var hasDivergence: Bool { rows.contains { $0.divergence != nil } }

    public func table() -> ReportTable {
        var columns: [ReportTable.Column] = [
            .init("type", key: "type"),
            .init("rate", unit: "bit/w", key: "bits_per_weight", decimals: 3),
            .init("fell back", key: "fallback_tensors", decimals: 0),
            .init("size", unit: "MiB", key: "mib", decimals: 2),
            .init(weightedByImportance ? "weighted MSE" : "MSE", key: "mse", significantDigits: 3),
            .init("SQNR", unit: "dB", key: "sqnr_db", decimals: 2),
            .init("worst 1% groups", unit: "dB", key: "worst_1pct_groups_sqnr_db", decimals: 1),
            .init("bound rate", unit: "bit/w", key: "bound_bits_per_weight", decimals: 3),
            .init("gap", unit: "bit/w", key: "gap_bits", decimals: 3),
            .init("gap", unit: "dB", key: "gap_db", decimals: 2),
        ]
        if hasDivergence {
            columns += [
                .init("top-1", unit: "%", key: "top1_percent", decimals: 2),
                .init("KL mean", key: "kl_mean", decimals: 5),
                .init("KL p99.9", key: "kl_p999", decimals: 4),
            ]
        }
        var table = ReportTable(columns: columns)
        for row in rows {
            let f = figures(row)
            var cells: [ReportTable.Cell] = [
                .text(row.type.name), .number(f.rate), .integer(row.fallbackTensors),
                .number(Double(row.tensorBytes) / 1_048_576), .number(f.meanSquaredError), .number(f.sqnrDB),
                .number(f.worstGroupsSQNRDB), .number(f.boundRate), .number(f.gapBits), .number(f.gapDB),
            ]
            if hasDivergence {
                if let d = row.divergence {
                    cells += [.number(100 * d.topAgreement), .number(d.kl.mean), .number(d.kl.percentile(99.9))]
                } else {
                    cells += [.missing, .missing, .missing]
                }
            }
            table.append(cells)
        }
        return table
    }

    /// The lines under the table: the bound, the sampling, the fallbacks.
    public func notes() -> [String] {
        let share = 100 * Double(sampledWeights) / Double(max(weights, 1))
        var lines = [
            "bound: \(boundNote).",
            "sampling: errors measured on \(sampledWeights) of the \(weights) weights per format "
                + "(\(formatFixed(share, decimals: 1)) % of every tensor's rows, at an even stride); rates exact from the byte counts.",
        ]
        let fellBack = rows.filter { !$0.fallbacks.isEmpty }
        if !fellBack.isEmpty {
            lines.append("fallbacks (rows not a whole number of the format's blocks, as llama.cpp does): " + fellBack.map { row in
                let taken = row.fallbacks.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) to \($0.key.name)" }
                return "\(row.type.name) \(taken.joined(separator: ", "))"
            }.joined(separator: "; ") + " (of \(quantizedTensors) tensors).")
        }
        if hasDivergence, let tokens = rows.compactMap(\.divergence).first?.tokens {
            lines.append("KL: next-token divergence from the input model over \(tokens) tokens of the text, through llama.cpp "
                         + "(whole models, not a sample).")
        }
        return lines
    }

    public func json() -> JSONValue {
        let summaries = table().jsonMembers()
        return .object([
            ("title", .string(title)),
            ("model", .string(model)),
            ("weighted_by_importance", .bool(weightedByImportance)),
            ("quantized_tensors", .number(Double(quantizedTensors))),
            ("weights", .number(Double(weights))),
            ("sampled_weights", .number(Double(sampledWeights))),
            ("group_weights", .number(Double(Self.groupWeights))),
            ("groups", .number(Double(groupCount))),
            ("bound", .object([
                ("name", .string(boundName)),
                ("note", .string(boundNote)),
                ("curve", .array(boundCurve().map { .array([.number($0.rate), .number($0.snrDB)]) })),
            ])),
            ("rows", .array(zip(rows, summaries).map { row, members in
                let taken = row.fallbacks.sorted { $0.key.rawValue < $1.key.rawValue }
                return .object(members + [("fallbacks", .object(taken.map { ($0.key.name, .number(Double($0.value))) }))])
            })),
        ])
    }

    /// The bound's SQNR from rate 0 to half a bit beyond the highest rate measured.
    public func boundCurve() -> [(rate: Double, snrDB: Double)] {
        let highest = rows.map { figures($0).rate }.max() ?? 8
        return RDSweep.boundCurve(bound, energy: signalEnergy, maxRate: highest + 0.5)
    }

    /// SQNR against rate: the bound, and the measured formats joined by rate,
    /// each labelled (formats whose tensors all took the same formats share a point).
    public func plot() -> SVGPlot {
        var points = [(rate: Double, sqnr: Double, label: String, types: [GGMLType])]()
        for row in rows {
            if let same = points.firstIndex(where: { $0.types == row.types }) {
                points[same].label += "/" + row.type.name
            } else {
                let f = figures(row)
                points.append((f.rate, f.sqnrDB, row.type.name, row.types))
            }
        }
        points.sort { ($0.rate, $0.sqnr) < ($1.rate, $1.sqnr) }
        var plot = SVGPlot(title: "\(model): one format for every tensor", xLabel: "rate (bits per weight)",
                           yLabel: weightedByImportance ? "importance-weighted SQNR (dB)" : "SQNR (dB)")
        plot.series.append(.init(name: boundName, points: boundCurve().map { ($0.rate, $0.snrDB) }, style: .bound(shadeAbove: true)))
        plot.series.append(.init(name: "measured", points: points.map { ($0.rate, $0.sqnr) }, style: .measured,
                                 labels: points.map(\.label)))
        return plot
    }
}
