import Foundation
import RateDistortion

/// A model's weights in one block format at a time, measured against the
/// rate-distortion bound over the model's own groups (issue 8).
///
/// Per format, as `llama-quantize --pure` would write it: every tensor
/// llama.cpp quantizes takes the format, or llama.cpp's fallback where its
/// rows are not a whole number of the format's blocks (SmolLM2's 576-wide
/// rows take Q4_0 for Q2_K and Q3_K, Q5_0 for Q4_K, Q5_1 for Q5_K and Q8_0
/// for Q6_K); norms and other tensors keep their type and are left out of
/// every figure but the size.
///
/// - Rate: bits per weight over the quantized tensors, block scales and
///   fallbacks included, exact from the byte counts.
/// - Distortion: Σ E[x_j²]·(w_ij − ŵ_ij)² over the quantized weights, with
///   E[x²] per input column from an importance matrix on its absolute scale
///   (tensors it does not cover at its mean over those it does), or the
///   plain squared error without one. It is measured by quantizing an even
///   stride of the rows of every tensor, the same share of each tensor, and
///   scaled to all rows; the tails come from the same sample.
/// - SQNR: Σ E[x_j²]·w_ij² (exact, over all rows) over that distortion.
/// - The bound: Gaussian reverse water-filling over the model's 32-weight
///   groups along the rows (llama.cpp's smallest block), pooled in a
///   `VarianceHistogram`. A group's variance is the mean square of its
///   weights, nothing subtracted (weight rows are close to zero-mean), and
///   its tolerance 1/(mean E[x²] of its columns), so the bound is judged on
///   the same weighted distortion. The gap is the rate spent minus the
///   bound's rate at the same distortion.
public struct WeightSweep: Sendable {
    /// Weights per group of the bound and of the tails.
    public static let groupWeights = 32
    public static let defaultTypes: [GGMLType] = [.q2_K, .q3_K, .q4_0, .q4_K, .q5_0, .q5_K, .q6_K, .q8_0]
    /// The formats a sweep takes: the block formats lossy writes.
    public static let sweepableTypes = GGMLType.writable.filter(\.isQuantized)
    /// Weights quantized per format to measure the errors, when the model has more.
    public static let defaultSampleWeights = 1 << 25

    /// One format's operating point.
    public struct Row: Sendable {
        /// The format asked for.
        public var type: GGMLType
        /// Every tensor's format, in order: `type`, its fallback, or kept.
        public var types: [GGMLType]
        /// Quantized tensors that took another format, by that format.
        public var fallbacks: [GGMLType: Int]
        /// Bits of the quantized tensors' data.
        public var bits: Double
        /// Bytes of every tensor, kept ones included.
        public var tensorBytes: Int
        /// Σ E[x²]·(w − ŵ)² over the quantized weights, estimated from the sample.
        public var weightedNoise: Double
        /// Weighted noise over weighted signal per 32-weight group of the sampled rows.
        public var groups: NoiseToToleranceTally
        /// The bound's bits at distortion `weightedNoise`.
        public var boundBits: Double
        /// The bound's weighted distortion at `bits`.
        public var boundNoise: Double
        /// Next-token divergence from the input model on a text, through llama.cpp.
        public var divergence: OutputDivergence?

        public var fallbackTensors: Int { fallbacks.values.reduce(0, +) }
    }

    public var model: String
    public var weightedByImportance: Bool
    public var quantizedTensors: Int
    /// Weights of the quantized tensors.
    public var weights: Int
    /// Of those, the weights quantized per format to measure the errors.
    public var sampledWeights: Int
    /// Σ E[x²]·w² over the quantized weights.
    public var signalEnergy: Double
    public var groupCount: Int
    public var bound: ReverseWaterFilling
    public var rows: [Row]

    /// Sweeps `types` over `source`.
    ///
    /// - Parameters:
    ///   - sampleWeights: at most this many weights are quantized per format
    ///     (the same share of every tensor's rows, at least one row each).
    ///   - progress: called before each quantized tensor with its position
    ///     among them, their number and its name.
    public static func run(
        source: any TensorSource, types: [GGMLType], importance: ImportanceMatrix?,
        sampleWeights: Int = defaultSampleWeights, progress: (Int, Int, String) -> Void = { _, _, _ in }
    ) throws -> WeightSweep {
        precondition(!types.isEmpty && types.allSatisfy(sweepableTypes.contains), "block formats to sweep")
        precondition(sampleWeights > 0, "a sample needs weights")
        let plans = try types.map { try plan(source, type: $0) }
        let quantized = source.tensors.indices.filter { isQuantizable(source.tensors[$0]) }
        let weights = quantized.reduce(0) { $0 + source.tensors[$1].elementCount }
        let share = min(1, Double(sampleWeights) / Double(max(weights, 1)))
        let scale = importance.map(FormatAllocator.absoluteScale)

        var rows = zip(types, plans).map { type, plan in
            Row(type: type, types: plan, fallbacks: [:], bits: 0, tensorBytes: 0, weightedNoise: 0,
                groups: NoiseToToleranceTally(), boundBits: 0, boundNoise: 0)
        }
        var histogram = VarianceHistogram()
        var signal = 0.0, sampled = 0
        for (position, index) in quantized.enumerated() {
            let info = source.tensors[index]
            progress(position, quantized.count, info.name)
            defer { source.release(index) }
            let values = try source.values(of: index)
            let (columns, mean) = try FormatAllocator.importance(of: info, in: importance, fallbackScale: scale)
            signal += addGroups(of: values, rowLength: info.shape[0], columns: columns, meanImportance: mean, to: &histogram)

            let rowCount = info.elementCount / info.shape[0]
            let sampledRows = max(1, min(rowCount, Int((Double(rowCount) * share).rounded())))
            sampled += sampledRows * info.shape[0]
            var candidates = [GGMLType]()
            for row in rows where !candidates.contains(row.types[index]) { candidates.append(row.types[index]) }
            let menu = try FormatAllocator.measure(
                values, of: info, index: index, candidates: candidates, importance: importance, fallbackScale: scale,
                sampledRows: sampledRows, groupWeights: groupWeights)
            for r in rows.indices {
                let type = rows[r].types[index]
                guard let option = menu.options.first(where: { $0.type == type }) else {
                    throw QuantizeError.cannotEncode(tensor: info.name, type: type)
                }
                if type != rows[r].type { rows[r].fallbacks[type, default: 0] += 1 }
                rows[r].bits += Double(option.bytes * 8)
                rows[r].weightedNoise += option.distortion
                rows[r].groups.merge(option.sampleError.blocks)
            }
        }
        let bound = histogram.coefficientCount > 0 ? histogram.bound
            : ReverseWaterFilling(components: [.init(count: 1, variance: 0)])
        for r in rows.indices {
            rows[r].tensorBytes = zip(source.tensors, rows[r].types).reduce(0) { $0 + ($1.0.byteCount(as: $1.1) ?? 0) }
            rows[r].boundBits = bound.point(weightedDistortion: rows[r].weightedNoise).bits
            rows[r].boundNoise = bound.point(bits: rows[r].bits).weightedDistortion
        }
        return WeightSweep(
            model: source.metadata.string("general.name") ?? "model", weightedByImportance: importance != nil,
            quantizedTensors: quantized.count, weights: weights, sampledWeights: sampled, signalEnergy: signal,
            groupCount: histogram.partitionCount, bound: bound, rows: rows)
    }

    /// Every tensor's format for `type`: llama-quantize's pure recipe of the
    /// file type whose default it is (fallbacks included, norms kept).
    static func plan(_ source: any TensorSource, type: GGMLType) throws -> [GGMLType] {
        let tensors = source.tensors.map(QuantizationRecipe.Tensor.init)
        return QuantizationRecipe(fileType: fileType(for: type), pure: true)
            .types(for: tensors, model: try ModelQuantizer.modelShape(of: source))
    }

    static func fileType(for type: GGMLType) -> LlamaFileType {
        guard let fileType = LlamaFileType(defaultType: type) else {
            preconditionFailure("no llama.cpp file type has \(type) as its default")
        }
        return fileType
    }

    private static func isQuantizable(_ info: GGUFTensorInfo) -> Bool {
        QuantizationRecipe.allowsQuantization(.init(info))
    }

    /// Adds the tensor's groups of 32 weights along each row (the last
    /// shorter where 32 does not divide the row) to `histogram`, each as its
    /// mean square times the mean E[x²] of its columns (σ²/T), and returns
    /// Σ E[x_j²]·w_ij² over the tensor.
    static func addGroups(
        of values: [Float], rowLength: Int, columns: [Float]?, meanImportance: Double,
        to histogram: inout VarianceHistogram
    ) -> Double {
        let starts = Array(stride(from: 0, to: rowLength, by: groupWeights))
        let groupImportance = starts.map { start -> Double in
            guard let columns else { return meanImportance }
            let end = min(rowLength, start + groupWeights)
            return columns[start..<end].reduce(0.0) { $0 + Double($1) } / Double(end - start)
        }
        var energy = 0.0
        values.withUnsafeBufferPointer { x in
            for rowStart in stride(from: 0, to: x.count, by: rowLength) {
                for (g, start) in starts.enumerated() {
                    let end = min(rowLength, start + groupWeights)
                    var square = 0.0, weighted = 0.0
                    if let columns {
                        for j in start..<end {
                            let w = Double(x[rowStart + j])
                            square += w * w
                            weighted += w * w * Double(columns[j])
                        }
                    } else {
                        for j in start..<end { square += Double(x[rowStart + j]) * Double(x[rowStart + j]) }
                        weighted = square * meanImportance
                    }
                    energy += weighted
                    histogram.add(variance: square / Double(end - start) * groupImportance[g], count: end - start)
                }
            }
        }
        return energy
    }
}

extension WeightSweep {
    /// Writes every row's model (all its tensors, not a sample), runs
    /// llama.cpp once on the text with all of them against `reference`, and
    /// keeps each row's divergence.
    public mutating func measureDivergence(
        reference: String, source: any TensorSource, importance: ImportanceMatrix?, textPath: String,
        progress: (String) -> Void = { _ in }
    ) throws {
        let variants = rows.map { OutputDivergence.Variant(name: $0.type.name, types: $0.types, fileType: Self.fileType(for: $0.type)) }
        let results = try OutputDivergence.measure(
            reference: reference, source: source, variants: variants, importance: importance, textPath: textPath,
            progress: progress)
        for r in rows.indices { rows[r].divergence = results[r] }
    }
}
