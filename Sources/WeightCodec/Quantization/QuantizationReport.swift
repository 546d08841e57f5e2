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
