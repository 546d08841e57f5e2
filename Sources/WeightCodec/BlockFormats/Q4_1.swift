import RateDistortion

extension BlockFormats {
    /// Q4_1: 32 weights as a binary16 scale, a binary16 offset and 4-bit
    /// indices, x = d·q + m; 20 bytes, 5 bits per weight.
    ///
    /// Layout (`block_q4_1`, ggml-common.h): d (f16) at byte 0, m (f16) at
    /// 2, qs[16] at 4: byte j holds q of weight j in its low nibble and of
    /// weight j + 16 in its high nibble.
    ///
    /// Reference (`quantize_row_q4_1_ref`, ggml-quants.c; gguf-py `Q4_1`):
    /// m = min x, d = (max − min)/15, q = min(15, trunc((x − m)·(1/d) + 0.5))
    /// in binary32, operation by operation. Decoding computes d·q, rounds,
    /// then adds m (gguf-py's order; no fused multiply-add).
    public struct Q4_1: ReferenceQuantizable {
        public init() {}
        public var type: GGMLType { .q4_1 }

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let base = 20 * b
                let d = blocks.f16(at: base), m = blocks.f16(at: base + 2)
                for j in 0..<32 { values[32 * b + j] = Float(blocks.nibble(j, at: base + 4)) * d + m }
            }
        }

        /// Weighted least squares in (d, m) over the range max − min mapped
        /// to 15 − 1.4…+0.9 grid steps, judged with d and m stored as
        /// binary16 (see `GridFit.offsetStored`). Unlike llama.cpp's
        /// imatrix path the offset may be positive.
        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            BlockFormats.searchBlocks(self, values, importance: importance, into: blocks) { x, w, q, block in
                let reference = Self.referenceScaleAndOffset(x)
                let fit = GridFit.offsetStored(
                    x, weights: w, levels: 16, candidates: .init(first: 13.6, step: 0.1, count: 24),
                    seed: (roundedToF16(reference.scale), roundedToF16(reference.offset)),
                    precision: .binary16, into: q)
                block.storeF16(fit.scale, at: 0)
                block.storeF16(fit.offset, at: 2)
                block.storeNibbles(q, bias: 0, at: 4)
            } reference: { x, block in
                quantizeReference(x, into: block)
            }
        }

        public func quantizeReference(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let x = UnsafeBufferPointer(rebasing: values[32 * b..<32 * b + 32])
                let (d, m) = Self.referenceScaleAndOffset(x)
                let inverse: Float = d == 0 ? 0 : 1 / d
                let base = 20 * b
                blocks.storeF16(d, at: base)
                blocks.storeF16(m, at: base + 2)
                for j in 0..<16 {
                    let low = min(UInt8(numpyCast: (x[j] - m) * inverse + 0.5), 15)
                    let high = min(UInt8(numpyCast: (x[j + 16] - m) * inverse + 0.5), 15)
                    blocks[base + 4 + j] = low | high << 4
                }
            }
        }

        /// ((max − min)/15, min) in binary32.
        static func referenceScaleAndOffset(_ x: UnsafeBufferPointer<Float>) -> (scale: Float, offset: Float) {
            var low = x[0], high = x[0]
            for v in x {
                low = min(low, v)
                high = max(high, v)
            }
            return ((high - low) / 15, low)
        }
    }
}
