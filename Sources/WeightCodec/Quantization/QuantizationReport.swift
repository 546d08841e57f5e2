import RateDistortion

/// The rate-distortion table of a quantized model: per tensor the format,
/// the bits it costs and what it lost (mean and the worst blocks), and the
/// totals. A dry run has the rate columns only.
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
        if outcomes != nil {
            columns += [
                .init("SQNR", unit: "dB", key: "sqnr_db", decimals: 2),
                .init("worst 1% blocks", unit: "dB", key: "worst_1pct_blocks_sqnr_db", decimals: 1),
                .init("worst block", unit: "dB", key: "worst_block_sqnr_db", decimals: 1),
                .init("zeroed", unit: "%", key: "zeroed_percent", decimals: 2),
            ]
        }
        var table = ReportTable(columns: columns)
        for (index, tensor) in plan.enumerated() {
            var row: [ReportTable.Cell] = [
                .text(tensor.name), .text(tensor.shape.map(String.init).joined(separator: "×")),
                .text(tensor.sourceType.name), .text(tensor.copied ? "\(tensor.targetType.name) (copy)" : tensor.targetType.name),
                .integer(tensor.elementCount), .number(Double(tensor.bytes) / 1024), .number(tensor.bitsPerWeight),
            ]
            if let outcomes {
                if let error = outcomes[index].error {
                    row += [.number(error.sqnrDB), .number(error.worstBlocksSQNRDB), .number(error.worstBlockSQNRDB),
                            .number(100 * Double(error.zeroed) / Double(max(error.count, 1)))]
                } else {
                    row += [.text("lossless"), .text("-"), .text("-"), .number(0)]
                }
            }
            table.append(row)
        }
        return table
    }

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
        guard let outcomes else { return lines }
        var total = TensorError()
        for outcome in outcomes { if let error = outcome.error { total.merge(error) } }
        guard total.count > 0 else { return lines }
        lines.append("SQNR         \(formatFixed(total.sqnrDB, decimals: 2)) dB over \(total.count) quantized weights (importance-weighted where an imatrix was given)")
        lines.append("worst 1 %    of blocks below \(formatFixed(total.worstBlocksSQNRDB, decimals: 1)) dB; worst block \(formatFixed(total.worstBlockSQNRDB, decimals: 1)) dB")
        lines.append("zeroed       \(total.zeroed) weights (\(formatFixed(100 * Double(total.zeroed) / Double(total.count), decimals: 2)) %) became exactly 0")
        let worst = outcomes.compactMap { outcome in outcome.error.map { (outcome.tensor.name, $0.sqnrDB) } }
            .sorted { $0.1 < $1.1 }.prefix(3)
        lines.append("worst        " + worst.map { "\($0.0) \(formatFixed($0.1, decimals: 2)) dB" }.joined(separator: "; "))
        return lines
    }
}

extension QuantizationReport {
    /// The allocator's choice per tensor: format, rate, the distortion it
    /// measured for that format and its share of the model's total, with the
    /// next cheaper and dearer choices it passed over.
    public static func allocationTable(_ allocation: FormatAllocation) -> ReportTable {
        var table = ReportTable(columns: [
            .init("tensor", key: "tensor"),
            .init("params", key: "params", decimals: 0),
            .init("format", key: "type"),
            .init("rate", unit: "bit/w", key: "bits_per_weight", decimals: 3),
            .init("weighted error", key: "weighted_error", decimals: 4),
            .init("share", unit: "%", key: "share_percent", decimals: 2),
            .init("cheaper", key: "cheaper_type"),
            .init("dearer", key: "dearer_type"),
        ])
        let total = allocation.totalDistortion
        for (menu, choice) in zip(allocation.menus, allocation.choices) {
            let option = menu.options[choice]
            let byRate = menu.options.sorted { $0.bytes < $1.bytes }
            let cheaper = byRate.last { $0.bytes < option.bytes && $0.distortion > option.distortion }
            let dearer = byRate.first { $0.bytes > option.bytes && $0.distortion < option.distortion }
            table.append([
                .text(menu.name), .integer(menu.elementCount), .text(option.type.name),
                .number(Double(option.bytes * 8) / Double(menu.elementCount)), .number(option.distortion),
                .number(total > 0 ? 100 * option.distortion / total : 0),
                .text(cheaper?.type.name ?? "-"), .text(dearer?.type.name ?? "-"),
            ])
        }
        return table
    }

    /// The budget, what was spent, the slope, and the formats by weight.
    public static func allocationSummary(_ allocation: FormatAllocation) -> [String] {
        var weights: [GGMLType: Int] = [:]
        for (menu, choice) in zip(allocation.menus, allocation.choices) {
            weights[menu.options[choice].type, default: 0] += menu.elementCount
        }
        let all = Double(max(allocation.menus.reduce(0) { $0 + $1.elementCount }, 1))
        return [
            "budget       \(formatFixed(allocation.budgetBits / 8_388_608, decimals: 3)) MiB for the \(allocation.menus.count) tensors allocated; spent \(formatFixed(allocation.spentBits / 8_388_608, decimals: 3)) MiB",
            "distortion   \(formatScientific(allocation.totalDistortion)) in total (importance-weighted squared error), λ = \(formatScientific(allocation.lambda)) per bit",
            "formats      " + weights.sorted { $0.value > $1.value }
                .map { "\($0.key.name) \(formatFixed(100 * Double($0.value) / all, decimals: 1)) %" }.joined(separator: ", ")
                + " of the allocated weights",
        ]
    }
}
