/// ggml's block formats, one type each (`BlockFormats.Q4_0`, …), and the
/// machinery they share: shape checks, the per-block search loop, and the
/// error a block's bytes decode to.
public enum BlockFormats {
    /// The format that encodes `type`, or nil when LossyLab has none.
    public static func format(for type: GGMLType) -> (any BlockFormat)? {
        switch type {
        case .f32: return F32()
        case .f16: return F16()
        case .bf16: return BF16()
        case .q8_0: return Q8_0()
        case .q4_0: return Q4_0()
        case .q4_1: return Q4_1()
        case .q5_0: return Q5_0()
        case .q5_1: return Q5_1()
        case .iq4_nl: return IQ4_NL()
        case .iq4_xs: return IQ4_XS()
        case .tq2_0: return TQ2_0()
        case .q2_K: return Q2_K()
        case .q3_K: return Q3_K()
        case .q4_K: return Q4_K()
        case .q5_K: return Q5_K()
        case .q6_K: return Q6_K()
        default: return nil
        }
    }
}

// MARK: - Shared by the formats

extension BlockFormats {
    /// Blocks in `values` weights of `type`, after checking that the value,
    /// byte and importance counts agree (programmer errors, so preconditions).
    static func blockCount(_ type: GGMLType, values: Int, bytes: Int, importance: Int? = nil) -> Int {
        precondition(
            values % type.blockWeights == 0,
            "row of \(values) weights is not a multiple of the \(type.blockWeights)-weight \(type) block")
        let blocks = values / type.blockWeights
        precondition(
            bytes >= blocks * type.blockBytes,
            "\(blocks) \(type) blocks need \(blocks * type.blockBytes) bytes, the buffer has \(bytes)")
        if let importance {
            precondition(importance == values, "\(importance) importances for \(values) weights")
        }
        return blocks
    }

    /// Runs `search` on every block, then, where a reference quantizer
    /// exists, encodes the block with it too and keeps whichever bytes
    /// decode with the smaller Σw(x − x̂)² (summed in Double): so the search
    /// is never worse than the reference on any block.
    ///
    /// `search` gets the block's values, its importances (all one when none
    /// were given), room for one index per value, and the block's bytes.
    static func searchBlocks<Format: BlockFormat>(
        _ format: Format, _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
        into blocks: UnsafeMutableRawBufferPointer,
        search: (
            _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
            _ q: UnsafeMutableBufferPointer<Int32>, _ block: UnsafeMutableRawBufferPointer
        ) -> Void,
        reference: ((_ x: UnsafeBufferPointer<Float>, _ block: UnsafeMutableRawBufferPointer) -> Void)? = nil
    ) {
        let type = format.type
        let count = blockCount(type, values: values.count, bytes: blocks.count, importance: importance?.count)
        let n = type.blockWeights, size = type.blockBytes
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * n) { floats in
            let unit = UnsafeMutableBufferPointer(rebasing: floats[0..<n])
            let decoded = UnsafeMutableBufferPointer(rebasing: floats[n..<2 * n])
            unit.initialize(repeating: 1)
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: n) { q in
                withUnsafeTemporaryAllocation(byteCount: size, alignment: 4) { alternative in
                    for b in 0..<count {
                        let x = UnsafeBufferPointer(rebasing: values[b * n..<(b + 1) * n])
                        let w = importance.map { UnsafeBufferPointer(rebasing: $0[b * n..<(b + 1) * n]) }
                            ?? UnsafeBufferPointer(unit)
                        let block = UnsafeMutableRawBufferPointer(rebasing: blocks[b * size..<(b + 1) * size])
                        search(x, w, q, block)
                        guard let reference else { continue }
                        reference(x, alternative)
                        let ours = format.squaredError(of: UnsafeRawBufferPointer(block), x, w, scratch: decoded)
                        let theirs = format.squaredError(
                            of: UnsafeRawBufferPointer(alternative), x, w, scratch: decoded)
                        if theirs < ours { block.copyMemory(from: UnsafeRawBufferPointer(alternative)) }
                    }
                }
            }
        }
    }
}

extension BlockFormat {
    /// Σw(x − x̂)² in Double for the weights `x` one encoded block holds;
    /// `scratch` has room for the block's decoded values.
    func squaredError(
        of block: UnsafeRawBufferPointer, _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
        scratch: UnsafeMutableBufferPointer<Float>
    ) -> Double {
        dequantize(block, into: scratch)
        var error = 0.0
        for i in 0..<x.count {
            let e = Double(x[i]) - Double(scratch[i])
            error += Double(w[i]) * e * e
        }
        return error
    }
}
