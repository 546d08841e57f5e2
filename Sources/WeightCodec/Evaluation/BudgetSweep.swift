import Foundation
import RateDistortion

/// A model quantized at a list of bits-per-weight budgets, each by the
/// allocator's mix of block formats (as `lossy quantize --target-bpw`), and
/// measured against the same bound as `WeightSweep`.
///
/// Every tensor's menu is measured once and the bound's groups pooled in the
/// same pass; each budget is then only an allocation over the menus. Norms
/// and other tensors llama.cpp never quantizes keep their type; their bits
/// count in the rate (the budget is over every weight, as llama.cpp's BPW),
/// and the bound is charged the same bits for them, so the gap is the
/// allocated tensors' alone.
public struct BudgetSweep: Sendable {
    /// One budget's operating point.
    public struct Row: Sendable {
        public var budget: Double
        /// Every tensor's format, in order.
        public var types: [GGMLType]
        /// Whether the smallest formats fit the budget (if not, they are the row).
        public var withinBudget: Bool
        /// Bits of every tensor's data.
        public var bits: Double
        /// Σ E[x²]·(w − ŵ)² over the allocated tensors (estimated from the sampled rows).
        public var weightedNoise: Double
        /// What the sampled rows lost, merged over the allocated tensors: tails, zeroed weights.
        public var error: TensorError
        /// Weighted noise by tensor role (`RoleCalibration.role(of:)`).
        public var noiseByRole: [String: Double]
        public var boundBits: Double
        /// Of the allocated weights, the share the bound gives no bits at `weightedNoise`.
        public var boundZeroedShare: Double
        public var divergence: OutputDivergence?

        /// The chosen formats by their share of the allocated weights, largest first.
        public var mix: [(type: GGMLType, share: Double)] = []
    }

    public var model: String
    public var weightedByImportance: Bool
    /// Weights of every tensor, and of the allocated ones.
    public var weights: Int
    public var allocatedWeights: Int
    /// Bits of the tensors whose type is kept.
    public var fixedBits: Double
    /// Σ E[x²]·w² over the allocated weights.
    public var signalEnergy: Double
    public var bound: ReverseWaterFilling
    public var groupCount: Int
    public var rows: [Row]

    /// - Parameter progress: called before each allocated tensor's menu with its index and name.
    public static func run(
        source: any TensorSource, budgets: [Double], importance: ImportanceMatrix?,
        candidates: [GGMLType] = FormatAllocator.defaultCandidates, progress: (Int, String) -> Void = { _, _ in }
    ) throws -> BudgetSweep {
        let scale = importance.map(FormatAllocator.absoluteScale)
        var menus = [TensorMenu]()
        var fixed = source.tensors.map { QuantizationRecipe.allowsQuantization(.init($0)) ? nil : $0.type }
        var histogram = VarianceHistogram()
        var signal = 0.0
        for (index, info) in source.tensors.enumerated() where fixed[index] == nil {
            progress(index, info.name)
            defer { source.release(index) }
            let values = try source.values(of: index)
            let (columns, mean) = try FormatAllocator.importance(of: info, in: importance, fallbackScale: scale)
            signal += WeightSweep.addGroups(of: values, rowLength: info.shape[0], columns: columns, meanImportance: mean,
                                            to: &histogram)
            let menu = try FormatAllocator.measure(
                values, of: info, index: index, candidates: candidates, importance: importance, fallbackScale: scale,
                sampledRows: FormatAllocator.sampledRows(of: info),
                groupWeights: WeightSweep.groupWeights)
            // A tensor no candidate fits keeps its type.
            if menu.options.isEmpty { fixed[index] = info.type } else { menus.append(menu) }
        }
        guard !menus.isEmpty else { throw AllocationFailure.nothingToAllocate }
        let fixedBits = zip(source.tensors, fixed).reduce(0.0) { total, pair in
            total + Double((pair.1.flatMap { pair.0.byteCount(as: $0) } ?? 0) * 8)
        }
        let weights = source.tensors.reduce(0) { $0 + $1.elementCount }
        let allocated = menus.reduce(0) { $0 + $1.elementCount }
        let bound = histogram.bound

        let rows = budgets.map { budget -> Row in
            let choices: [Int], within: Bool
            do {
                choices = try FormatAllocator.choose(from: menus, budget: budget * Double(weights) - fixedBits).choices
                within = true
            } catch {
                choices = menus.map { menu in menu.options.indices.min { menu.options[$0].bytes < menu.options[$1].bytes } ?? 0 }
                within = false
            }
            var types = fixed.map { $0 ?? .f32 }
            var bits = fixedBits, noise = 0.0, error = TensorError()
            var byRole = [String: Double](), byType = [GGMLType: Int]()
            for (menu, choice) in zip(menus, choices) {
                let option = menu.options[choice]
                types[menu.index] = option.type
                bits += Double(option.bytes * 8)
                noise += option.distortion
                error.merge(option.sampleError)
                byRole[RoleCalibration.role(of: menu.name), default: 0] += option.distortion
                byType[option.type, default: 0] += menu.elementCount
            }
            let point = bound.point(weightedDistortion: noise)
            var row = Row(budget: budget, types: types, withinBudget: within, bits: bits, weightedNoise: noise, error: error,
                          noiseByRole: byRole, boundBits: point.bits + fixedBits,
                          boundZeroedShare: bound.discardedShare(at: point))
            row.mix = byType.map { ($0.key, Double($0.value) / Double(allocated)) }
                .sorted { $0.share != $1.share ? $0.share > $1.share : $0.type.rawValue < $1.type.rawValue }
            return row
        }
        return BudgetSweep(
            model: source.metadata.string("general.name") ?? "model", weightedByImportance: importance != nil,
            weights: weights, allocatedWeights: allocated, fixedBits: fixedBits, signalEnergy: signal, bound: bound,
            groupCount: histogram.partitionCount, rows: rows)
    }

    /// Writes every budget's model, runs llama.cpp once on the text with all of them against `reference`, keeps each divergence.
    public mutating func measureDivergence(
        reference: String, source: any TensorSource, importance: ImportanceMatrix?, textPath: String,
        progress: (String) -> Void = { _ in }
    ) throws {
        let variants = rows.map { row in
            OutputDivergence.Variant(
                name: "\(formatNumber(row.budget)) bpw", types: row.types,
                fileType: row.mix.first.flatMap { LlamaFileType(defaultType: $0.type) } ?? .mostlyF16)
        }
        let results = try OutputDivergence.measure(
            reference: reference, source: source, variants: variants, importance: importance, textPath: textPath,
            progress: progress)
        for r in rows.indices { rows[r].divergence = results[r] }
    }
}

extension BudgetSweep {
    /// The model at each budget, as one domain of a side-by-side comparison.
    public func comparisonDomain() -> CompressionComparison.Domain {
        let n = Double(max(weights, 1))
        let rows = self.rows.map { row -> CompressionComparison.Row in
            var measures: [CompressionComparison.Measure] = [
                .init(.init(weightedByImportance ? "weighted MSE" : "MSE", key: "mse", significantDigits: 3),
                      row.weightedNoise / Double(max(allocatedWeights, 1))),
            ]
            if let d = row.divergence {
                measures += [
                    .init(.init("KL mean", key: "kl_mean", decimals: 5), d.kl.mean),
                    .init(.init("KL p99.9", key: "kl_p999", decimals: 4), d.kl.percentile(99.9)),
                ]
            }
            let noisiest = row.noiseByRole.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(3)
            let lost = noisiest.map { "\($0.key) \(formatFixed(100 * $0.value / max(row.weightedNoise, .leastNormalMagnitude), decimals: 0)) %" }
            let setting = row.mix.prefix(3).map { "\($0.type.name) \(formatFixed(100 * $0.share, decimals: 0))%" }
            return CompressionComparison.Row(
                budget: row.budget, setting: setting.joined(separator: " "),
                label: row.mix.prefix(2).map(\.type.name).joined(separator: "+"), fits: row.withinBudget,
                rate: row.bits / n, snrDB: decibels(signalEnergy / row.weightedNoise),
                worstSNRDB: -row.error.blocks.tailDB(fraction: 0.01), measures: measures, boundRate: row.boundBits / n,
                zeroedPartitionShare: Double(row.error.zeroedBlocks) / Double(max(1, row.error.blocksWithEnergy)),
                zeroedShare: Double(row.error.zeroed) / Double(max(1, row.error.count - row.error.zeroInputs)),
                zeroedEnergyShare: row.error.signalEnergy > 0 ? row.error.zeroedEnergy / row.error.signalEnergy : 0,
                boundZeroedShare: row.boundZeroedShare, whereLost: "noise: " + lost.joined(separator: ", "))
        }
        let highest = rows.map(\.rate).max() ?? 8
        let kept = Double(weights - allocatedWeights)
        return CompressionComparison.Domain(
            name: "weights", subject: model, coefficient: "weight",
            notes: [
                "the allocator's mix of block formats within each budget (as `lossy quantize --target-bpw`; "
                    + "the smallest formats where none fits); rate: every tensor's bits over all \(weights) weights "
                    + "(\(Int(kept)) kept in their type, \(formatFixed(fixedBits / n, decimals: 3)) bit/weight of the rate).",
                "SNR: Σ " + (weightedByImportance ? "E[x²]·" : "") + "w² over the same of the error; worst 1%: the SQNR "
                    + "the worst 1 % of 32-weight groups fall below (sampled rows, as `lossy sweep weights`).",
                "bound (gap, plot): Gaussian reverse water-filling over the \(groupCount) "
                    + "groups of \(WeightSweep.groupWeights) weights, each of variance its mean square" + (weightedByImportance ? " and tolerance 1/E[x²]" : "")
                    + ", the kept tensors charged their own bits; a yardstick (block scales free, Gaussian the hardest source), not a proof.",
                "partitions zeroed: 32-weight groups all rounded to zero (sampled rows); zeroed: weights rounded to exactly zero; where: the tensor roles holding most of the weighted noise.",
            ] + (self.rows.contains { $0.divergence != nil }
                 ? ["KL: next-token divergence from the input model on the text, through llama.cpp (whole models)."] : []),
            rows: rows,
            boundCurve: RDSweep.boundCurve(bound, energy: signalEnergy, maxRate: highest + 0.5).map {
                // The curve is over the allocated weights; the kept ones add their bits over every weight.
                ((($0.rate * Double(allocatedWeights)) + fixedBits) / n, $0.snrDB)
            })
    }
}
