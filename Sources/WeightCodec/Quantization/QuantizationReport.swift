import RateDistortion

/// The rate-distortion table of a quantized model: per tensor the format,
/// the bits it costs and what it lost (mean and the worst blocks), and the
/// totals. A dry run has the rate columns only. With pruning, also per
/// tensor how it was pruned, the share of weights and of energy (plain and
/// importance-weighted) it lost, and how many of its zeros the format kept.
public enum QuantizationReport {
    public static func table(_ plan: [ModelQuantizer.PlannedTensor], outcomes: [ModelQuantizer.Outcome]? = nil) -> ReportTable {
        var columns: [ReportTable.Column] = [
            .init("tensor", key: "tensor"),
            .init("shape", key: "shape"),
            .init("from", key: "source_type"),
            .init("to", key: "type"),
            .init("params", key: "params", decimals: 0),
            .init("size", unit: "KiB", key: "kib", decimals: 1),
            .init("rate", unit: "bit/w", key: "bits_per_weight", decimals: 3),
        ]
        let pruning = plan.contains(where: \.pruned)
        if pruning { columns.append(.init("pruned by", key: "prune_method")) }
        if outcomes != nil {
            columns += [
                .init("SQNR", unit: "dB", key: "sqnr_db", decimals: 2),
                .init("worst 1% blocks", unit: "dB", key: "worst_1pct_blocks_sqnr_db", decimals: 1),
                .init("worst block", unit: "dB", key: "worst_block_sqnr_db", decimals: 1),
                .init("zeroed", unit: "%", key: "zeroed_percent", decimals: 2),
            ]
            if pruning {
                columns += [
                    .init("pruned", unit: "%", key: "pruned_percent", decimals: 2),
                    .init("energy lost", unit: "%", key: "pruned_energy_percent", decimals: 3),
                    .init("weighted lost", unit: "%", key: "pruned_weighted_energy_percent", decimals: 3),
                    .init("zeros kept", unit: "%", key: "zeros_kept_percent", decimals: 1),
                ]
            }
        }
        var table = ReportTable(columns: columns)
        for (index, tensor) in plan.enumerated() {
            var row: [ReportTable.Cell] = [
                .text(tensor.name), .text(tensor.shape.map(String.init).joined(separator: "×")),
                .text(tensor.sourceType.name), .text(tensor.copied ? "\(tensor.targetType.name) (copy)" : tensor.targetType.name),
                .integer(tensor.elementCount), .number(Double(tensor.bytes) / 1024), .number(tensor.bitsPerWeight),
            ]
            if pruning { row.append(.text(tensor.pruning.map(String.init(describing:)) ?? "-")) }
            if let outcomes {
                if let error = outcomes[index].error {
                    row += [.number(error.sqnrDB), .number(error.worstBlocksSQNRDB), .number(error.worstBlockSQNRDB),
                            .number(100 * Double(error.zeroed) / Double(max(error.count, 1)))]
                } else {
                    row += [.text("lossless"), .text("-"), .text("-"), .number(0)]
                }
                if pruning { row += pruneCells(outcomes[index]) }
            }
            table.append(row)
        }
        return table
    }

    /// Pruned share, energy lost (plain, weighted) and zeros kept, in %.
    static func pruneCells(_ outcome: ModelQuantizer.Outcome) -> [ReportTable.Cell] {
        guard let loss = outcome.pruning else { return [.text("-"), .text("-"), .text("-"), .text("-")] }
        let kept = outcome.error.map { percent($0.zerosKept, of: $0.zeroInputs) }
        return [.number(100 * loss.prunedFraction), .number(100 * loss.energyFraction),
                loss.weightedEnergyFraction.map { .number(100 * $0) } ?? .text("-"), kept.map(ReportTable.Cell.number) ?? .text("-")]
    }

    static func percent(_ part: Int, of whole: Int) -> Double { whole > 0 ? 100 * Double(part) / Double(whole) : 100 }

    /// Totals over the model: size, bits per weight, and the error over every
    /// quantized weight with the worst tensors by SQNR.
    public static func summary(_ plan: [ModelQuantizer.PlannedTensor], outcomes: [ModelQuantizer.Outcome]? = nil) -> [String] {
        let bytes = plan.reduce(0) { $0 + $1.bytes }
        let weights = plan.reduce(0) { $0 + $1.elementCount }
        var lines = [
            "tensors      \(plan.count) (\(plan.filter(\.copied).count) copied unchanged)",
            "size         \(formatFixed(Double(bytes) / 1_048_576, decimals: 2)) MiB of tensor data, \(weights) weights",
            "rate         \(formatFixed(Double(bytes * 8) / Double(max(weights, 1)), decimals: 3)) bits per weight",
        ]
        var types: [GGMLType: Int] = [:]
        for tensor in plan { types[tensor.targetType, default: 0] += 1 }
        lines.append("types        " + types.sorted { $0.value > $1.value }.map { "\($0.key.name) ×\($0.value)" }.joined(separator: ", "))
        guard let outcomes else {
            let pruned = plan.compactMap { $0.pruning.map(String.init(describing:)) }
            guard !pruned.isEmpty else { return lines }
            return lines + ["prune        \(pruned.count) tensors: " + describe(pruned.reduce(into: [:]) { $0[$1, default: 0] += 1 })]
        }
        var total = TensorError()
        for outcome in outcomes { if let error = outcome.error { total.merge(error) } }
        guard total.count > 0 else { return lines }
        lines.append("SQNR         \(formatFixed(total.sqnrDB, decimals: 2)) dB over \(total.count) quantized weights (importance-weighted where an imatrix was given)")
        lines.append("worst 1 %    of blocks below \(formatFixed(total.worstBlocksSQNRDB, decimals: 1)) dB; worst block \(formatFixed(total.worstBlockSQNRDB, decimals: 1)) dB")
        lines.append("zeroed       \(total.zeroed) weights (\(formatFixed(100 * Double(total.zeroed) / Double(total.count), decimals: 2)) %) became exactly 0")
        let worst = outcomes.compactMap { outcome in outcome.error.map { (outcome.tensor.name, $0.sqnrDB) } }
            .sorted { $0.1 < $1.1 }.prefix(3)
        lines.append("worst        " + worst.map { "\($0.0) \(formatFixed($0.1, decimals: 2)) dB" }.joined(separator: "; "))
        return lines + pruneSummary(outcomes)
    }
}

extension QuantizationReport {
    /// Totals of pruning: weights and energy lost, zeros kept, and the
    /// tensors that were pruned otherwise than asked.
    static func pruneSummary(_ outcomes: [ModelQuantizer.Outcome]) -> [String] {
        let pruned = outcomes.filter { $0.pruning != nil }
        guard !pruned.isEmpty else { return [] }
        var count = 0, weights = 0, energy = 0.0, lost = 0.0, weighted = 0.0, weightedLost = 0.0, weightedTensors = 0
        var zeros = 0, kept = 0
        var treatments: [String: Int] = [:]
        for outcome in pruned {
            let loss = outcome.pruning!
            count += loss.count
            weights += loss.pruned
            energy += loss.energy
            lost += loss.prunedEnergy
            if let w = loss.weightedEnergy, let l = loss.weightedPrunedEnergy {
                weighted += w
                weightedLost += l
                weightedTensors += 1
            }
            zeros += outcome.error?.zeroInputs ?? 0
            kept += outcome.error?.zerosKept ?? 0
            treatments[String(describing: loss.treatment), default: 0] += 1
        }
        func fixed(_ x: Double) -> String { formatFixed(x, decimals: 2) }
        var lines = [
            "pruned       \(weights) of \(count) weights (\(fixed(percent(weights, of: count))) %) in \(pruned.count) tensors: "
                + describe(treatments),
            "energy lost  \(fixed(energy > 0 ? 100 * lost / energy : 0)) % of the pruned tensors' Σw²",
        ]
        if weightedTensors > 0 {
            lines.append("weighted     \(fixed(weighted > 0 ? 100 * weightedLost / weighted : 0)) % of Σ E[x²]·w² (the expected output energy) "
                         + "lost, over the \(weightedTensors) tensors with an imatrix entry")
        }
        lines.append("zeros kept   \(kept) of the \(zeros) weights that were 0 going into the quantizer (pruned, or 0 already): "
                     + "\(fixed(percent(kept, of: zeros))) % came out exactly 0")
        return lines
    }

    /// "wanda ×180, magnitude (no imatrix entry) ×30", most common first.
    static func describe(_ treatments: [String: Int]) -> String {
        treatments.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
    }
}

extension QuantizationReport {
    /// The allocator's choice per tensor: format, rate, the distortion it
    /// measured for that format and its share of the model's total, with the
    /// next cheaper and dearer choices it passed over.
    public static func allocationTable(_ allocation: FormatAllocation) -> ReportTable {
        let calibrated = allocation.gains != nil
        var columns: [ReportTable.Column] = [
            .init("tensor", key: "tensor"),
            .init("params", key: "params", decimals: 0),
            .init("format", key: "type"),
            .init("rate", unit: "bit/w", key: "bits_per_weight", decimals: 3),
            .init("weighted error", key: "weighted_error", decimals: 4),
        ]
        if calibrated { columns.append(.init("predicted KL", key: "predicted_kl", significantDigits: 3)) }
        columns += [
            .init(calibrated ? "share of KL" : "share", unit: "%", key: "share_percent", decimals: 2),
            .init("cheaper", key: "cheaper_type"),
            .init("dearer", key: "dearer_type"),
        ]
        var table = ReportTable(columns: columns)
        let total = allocation.totalCost
        for (m, (menu, choice)) in zip(allocation.menus, allocation.choices).enumerated() {
            let option = menu.options[choice]
            let byRate = menu.options.sorted { $0.bytes < $1.bytes }
            let cheaper = byRate.last { $0.bytes < option.bytes && $0.distortion > option.distortion }
            let dearer = byRate.first { $0.bytes > option.bytes && $0.distortion < option.distortion }
            let cost = allocation.cost(of: m)
            var row: [ReportTable.Cell] = [
                .text(menu.name), .integer(menu.elementCount), .text(option.type.name),
                .number(Double(option.bytes * 8) / Double(menu.elementCount)), .number(option.distortion),
            ]
            if calibrated { row.append(.number(cost)) }
            row += [.number(total > 0 ? 100 * cost / total : 0), .text(cheaper?.type.name ?? "-"), .text(dearer?.type.name ?? "-")]
            table.append(row)
        }
        return table
    }

    /// The budget, what was spent, the slope, and the formats by weight.
    public static func allocationSummary(_ allocation: FormatAllocation) -> [String] {
        let weights = allocation.weightsByType
        let all = Double(max(allocation.menus.reduce(0) { $0 + $1.elementCount }, 1))
        return [
            "budget       \(formatFixed(allocation.budgetBits / 8_388_608, decimals: 3)) MiB for the \(allocation.menus.count) tensors allocated; spent \(formatFixed(allocation.spentBits / 8_388_608, decimals: 3)) MiB",
            "distortion   \(formatScientific(allocation.totalDistortion)) in total (importance-weighted squared error)"
                + (allocation.gains == nil ? "" : "; predicted mean KL \(formatScientific(allocation.totalCost)) from the calibration")
                + ", λ = \(formatScientific(allocation.lambda)) per bit",
            "formats      " + weights.sorted { $0.value > $1.value }
                .map { "\($0.key.name) \(formatFixed(100 * Double($0.value) / all, decimals: 1)) %" }.joined(separator: ", ")
                + " of the allocated weights",
        ]
    }
}
