import RateDistortion

extension BlockFormats {
    /// Q4_0: 32 weights as a binary16 scale and 4-bit indices,
    /// x = d·(q − 8); 18 bytes, 4.5 bits per weight.
    ///
    /// Layout (`block_q4_0`, ggml-common.h): d (f16) at byte 0, then qs[16]
    /// at 2: byte j holds q of weight j in its low nibble and of weight
    /// j + 16 in its high nibble.
    ///
    /// Reference (`quantize_row_q4_0_ref`, ggml-quants.c; gguf-py `Q4_0`):
    /// d = max/−8 with max the signed value of largest magnitude (the first
    /// on ties), so it lands on −8; q = min(15, trunc(x·(1/d) + 8.5)), each
    /// operation rounded to binary32 as numpy does (ggml's C may fuse the
    /// multiply-add; gguf-py does not, and gguf-py is the referee here).
    public struct Q4_0: ReferenceQuantizable {
        public init() {}
        public var type: GGMLType { .q4_0 }

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let base = 18 * b
                let d = blocks.f16(at: base)
                for j in 0..<32 { values[32 * b + j] = Float(blocks.nibble(j, at: base + 2) - 8) * d }
            }
        }

        /// Weighted least squares over the pivot mapped to −8 ± 0.9 and to
        /// +7 − 0.7…+0.4, each judged after d is rounded to binary16 and the
        /// indices re-rounded to it (see `GridFit.symmetricStored`).
        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            BlockFormats.searchBlocks(self, values, importance: importance, into: blocks) { x, w, q, block in
                let fit = GridFit.symmetricStored(
                    x, weights: w, levels: -8...7,
                    candidates: .init(first: -8.9, step: 0.1, count: 19),
                    alsoTrying: .init(first: 6.3, step: 0.1, count: 12),
                    seed: roundedToF16(GridFit.signedMaximum(x) / -8), precision: .binary16, into: q)
                block.storeF16(fit.scale, at: 0)
                block.storeNibbles(q, bias: 8, at: 2)
            } reference: { x, block in
                quantizeReference(x, into: block)
            }
        }

        public func quantizeReference(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let x = UnsafeBufferPointer(rebasing: values[32 * b..<32 * b + 32])
                let d = GridFit.signedMaximum(x) / -8
                let inverse: Float = d == 0 ? 0 : 1 / d
                let base = 18 * b
                blocks.storeF16(d, at: base)
                for j in 0..<16 {
                    let low = min(UInt8(numpyCast: x[j] * inverse + 8.5), 15)
                    let high = min(UInt8(numpyCast: x[j + 16] * inverse + 8.5), 15)
                    blocks[base + 2 + j] = low | high << 4
                }
            }
        }
    }
}
