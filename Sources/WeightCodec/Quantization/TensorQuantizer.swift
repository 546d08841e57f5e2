import Dispatch
import RateDistortion

/// What quantizing one tensor cost in accuracy: energies of the signal and
/// of the error, plain and importance-weighted, and the tail over blocks.
public struct TensorError: Sendable, Hashable {
    public var count = 0
    /// Σx² and Σ(x − x̂)².
    public var signalEnergy = 0.0
    public var noiseEnergy = 0.0
    /// The same with each column's importance (mean 1 over a row), so
    /// without an importance matrix they equal the plain sums.
    public var weightedSignalEnergy = 0.0
    public var weightedNoiseEnergy = 0.0
    /// Per block, weighted noise over weighted signal energy: the tail of
    /// this tally is the worst blocks' signal-to-noise ratio.
    public var blocks = NoiseToToleranceTally()
    /// Weights reconstructed as exactly zero where the input was not.
    public var zeroed = 0
    /// Σx² over those weights: the energy rounded away.
    public var zeroedEnergy = 0.0
    /// Blocks of the tally with a weight not zero, and those of them reconstructed all zero.
    public var blocksWithEnergy = 0
    public var zeroedBlocks = 0
    /// Weights exactly zero in the input (pruned ones, and any zero
    /// already), and how many of them were reconstructed as exactly zero:
    /// formats with an offset (Q4_1, Q5_1, Q2_K, Q4_K, Q5_K) need not hit
    /// 0, and IQ4_NL's codebook has no 0.
    public var zeroInputs = 0
    public var zerosKept = 0

    public init() {}

    public mutating func merge(_ other: TensorError) {
        count += other.count
        signalEnergy += other.signalEnergy
        noiseEnergy += other.noiseEnergy
        weightedSignalEnergy += other.weightedSignalEnergy
        weightedNoiseEnergy += other.weightedNoiseEnergy
        blocks.merge(other.blocks)
        zeroed += other.zeroed
        zeroedEnergy += other.zeroedEnergy
        blocksWithEnergy += other.blocksWithEnergy
        zeroedBlocks += other.zeroedBlocks
        zeroInputs += other.zeroInputs
        zerosKept += other.zerosKept
    }

    public var rmse: Double { (noiseEnergy / Double(max(count, 1))).squareRoot() }
    public var weightedRMSE: Double { (weightedNoiseEnergy / Double(max(count, 1))).squareRoot() }
    /// Weighted signal-to-quantization-noise ratio, in dB.
    public var sqnrDB: Double { -decibels(weightedNoiseEnergy / weightedSignalEnergy) }
    /// The SQNR that the worst 1 % of blocks fall below, in dB.
    public var worstBlocksSQNRDB: Double { -blocks.tailDB(fraction: 0.01) }
    /// The single worst block's SQNR, in dB.
    public var worstBlockSQNRDB: Double { -blocks.maxDB }
}

/// Quantizes a matrix row by row into a block format, on every core, and
/// measures what it lost by decoding the result.
public enum TensorQuantizer {
    /// - Parameters:
    ///   - values: rows × rowLength weights, row-major (ggml order).
    ///   - importance: one value per column (E[x²] of the input it
    ///     multiplies), or nil for plain squared error.
    ///   - output: rows × `format.type.rowBytes(rowLength)` bytes.
    ///   - reference: encode with ggml's reference quantizer where the format
    ///     has one (bytes identical to llama.cpp's without an imatrix); the
    ///     importance is then not used.
    ///   - groupWeights: weights per group of the error's tail tally; by
    ///     default the format's block (runs of 32 for per-weight formats).
    public static func quantize(
        _ values: UnsafeBufferPointer<Float>, rowLength: Int, format: any BlockFormat,
        importance: [Float]?, reference: Bool = false, groupWeights: Int? = nil,
        into output: UnsafeMutableRawBufferPointer
    ) -> TensorError {
        precondition(rowLength > 0 && values.count % rowLength == 0, "values are whole rows")
        guard let rowBytes = format.type.rowBytes(rowLength) else {
            preconditionFailure("row of \(rowLength) weights is not a multiple of the \(format.type.blockWeights)-weight block")
        }
        precondition(importance == nil || importance!.count == rowLength, "one importance per column")
        let rows = values.count / rowLength
        precondition(output.count >= rows * rowBytes, "output too small")
        let normalised = importance.map(normalisedImportance)
        let referenceFormat = reference ? format as? any ReferenceQuantizable : nil
        let tallied = groupWeights ?? max(format.type.blockWeights, 32)
        precondition(tallied > 0, "groups need weights")

        // Chunks of rows small enough to balance, large enough to amortise.
        let chunkRows = max(1, min(rows, (1 << 16) / rowLength))
        let chunks = (rows + chunkRows - 1) / chunkRows
        nonisolated(unsafe) var results = [TensorError](repeating: TensorError(), count: chunks)
        nonisolated(unsafe) let input = values, out = output
        results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let first = chunk * chunkRows, last = min(rows, first + chunkRows)
                var error = TensorError()
                withUnsafeTemporaryAllocation(of: Float.self, capacity: rowLength) { decoded in
                    for row in first..<last {
                        let x = UnsafeBufferPointer(rebasing: input[(row * rowLength)..<((row + 1) * rowLength)])
                        let bytes = UnsafeMutableRawBufferPointer(rebasing: out[(row * rowBytes)..<((row + 1) * rowBytes)])
                        if let referenceFormat {
                            referenceFormat.quantizeReference(x, into: bytes)
                        } else if let normalised {
                            normalised.withUnsafeBufferPointer { format.quantize(x, importance: $0, into: bytes) }
                        } else {
                            format.quantize(x, importance: nil, into: bytes)
                        }
                        format.dequantize(UnsafeRawBufferPointer(bytes), into: decoded)
                        measure(x, UnsafeBufferPointer(decoded), importance: normalised,
                                blockWeights: tallied, into: &error)
                    }
                }
                slots[chunk] = error
            }
        }
        return results.reduce(into: TensorError()) { $0.merge($1) }
    }

    /// Importance scaled to mean 1, so weighted and plain errors share units.
    static func normalisedImportance(_ importance: [Float]) -> [Float] {
        let mean = importance.reduce(0.0) { $0 + Double($1) } / Double(max(importance.count, 1))
        guard mean > 0 else { return [Float](repeating: 1, count: importance.count) }
        return importance.map { Float(Double($0) / mean) }
    }

    /// Adds one row's errors, block by block (per-weight formats in runs of 32).
    static func measure(
        _ x: UnsafeBufferPointer<Float>, _ decoded: UnsafeBufferPointer<Float>, importance: [Float]?,
        blockWeights: Int, into error: inout TensorError
    ) {
        var start = 0
        while start < x.count {
            let end = min(x.count, start + blockWeights)
            var signal = 0.0, noise = 0.0, weightedSignal = 0.0, weightedNoise = 0.0
            var allZero = true
            for i in start..<end {
                if decoded[i] != 0 { allZero = false }
                let value = Double(x[i]), difference = Double(x[i]) - Double(decoded[i])
                let weight = Double(importance?[i] ?? 1)
                signal += value * value
                noise += difference * difference
                weightedSignal += weight * value * value
                weightedNoise += weight * difference * difference
                if decoded[i] == 0 {
                    if x[i] != 0 { error.zeroed += 1; error.zeroedEnergy += value * value } else { error.zerosKept += 1 }
                }
                if x[i] == 0 { error.zeroInputs += 1 }
            }
            error.count += end - start
            if signal > 0 {
                error.blocksWithEnergy += 1
                if allZero { error.zeroedBlocks += 1 }
            }
            error.signalEnergy += signal
            error.noiseEnergy += noise
            error.weightedSignalEnergy += weightedSignal
            error.weightedNoiseEnergy += weightedNoise
            if weightedSignal > 0 {
                error.blocks.add(noiseToTolerance: weightedNoise / weightedSignal, count: end - start)
            }
            start = end
        }
    }
}
