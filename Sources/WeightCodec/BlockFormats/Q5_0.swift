import RateDistortion

extension BlockFormats {
    /// Q5_0: 32 weights as a binary16 scale and 5-bit indices,
    /// x = d·(q − 16); 22 bytes, 5.5 bits per weight.
    ///
    /// Layout (`block_q5_0`, ggml-common.h): d (f16) at byte 0; qh, a
    /// little-endian 32-bit word at 2 whose bit i is the fifth bit of
    /// weight i; qs[16] at 6 with the low four bits, byte j holding weight j
    /// in its low nibble and weight j + 16 in its high nibble.
    ///
    /// Reference (`quantize_row_q5_0_ref`, ggml-quants.c; gguf-py `Q5_0`):
    /// d = max/−16 with max the signed value of largest magnitude;
    /// q = min(31, trunc(x·(1/d) + 16.5)) in binary32, operation by operation.
    public struct Q5_0: ReferenceQuantizable {
        public init() {}
        public var type: GGMLType { .q5_0 }

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let base = 22 * b
                let d = blocks.f16(at: base)
                let high = blocks.u32(at: base + 2)
                for j in 0..<32 {
                    let q = blocks.nibble(j, at: base + 6) | Int32(high >> UInt32(j) & 1) << 4
                    values[32 * b + j] = Float(q - 16) * d
                }
            }
        }

        /// As Q4_0's search: the pivot mapped to −16 ± 0.9 and to
        /// +15 − 0.7…+0.5, judged with d stored as binary16.
        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            BlockFormats.searchBlocks(self, values, importance: importance, into: blocks) { x, w, q, block in
                let fit = GridFit.symmetricStored(
                    x, weights: w, levels: -16...15,
                    candidates: .init(first: -16.9, step: 0.1, count: 19),
                    alsoTrying: .init(first: 14.3, step: 0.2, count: 7),
                    seed: roundedToF16(GridFit.signedMaximum(x) / -16), precision: .binary16, into: q)
                block.storeF16(fit.scale, at: 0)
                block.storeFifthBits(q, bias: 16, at: 2)
                block.storeNibbles(q, bias: 16, at: 6)
            } reference: { x, block in
                quantizeReference(x, into: block)
            }
        }

        public func quantizeReference(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let x = UnsafeBufferPointer(rebasing: values[32 * b..<32 * b + 32])
                let d = GridFit.signedMaximum(x) / -16
                let inverse: Float = d == 0 ? 0 : 1 / d
                let base = 22 * b
                blocks.storeF16(d, at: base)
                var high: UInt32 = 0
                for j in 0..<16 {
                    let q0 = min(UInt8(numpyCast: x[j] * inverse + 16.5), 31)
                    let q1 = min(UInt8(numpyCast: x[j + 16] * inverse + 16.5), 31)
                    blocks[base + 6 + j] = q0 & 0x0F | (q1 & 0x0F) << 4
                    high |= UInt32(q0 >> 4) << UInt32(j) | UInt32(q1 >> 4) << UInt32(j + 16)
                }
                blocks.storeU32(high, at: base + 2)
            }
        }
    }
}
