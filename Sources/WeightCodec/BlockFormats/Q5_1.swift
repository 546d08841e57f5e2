import RateDistortion

extension BlockFormats {
    /// Q5_1: 32 weights as a binary16 scale, a binary16 offset and 5-bit
    /// indices, x = d·q + m; 24 bytes, 6 bits per weight.
    ///
    /// Layout (`block_q5_1`, ggml-common.h): d (f16) at byte 0, m (f16) at
    /// 2; qh, a little-endian 32-bit word at 4 whose bit i is the fifth bit
    /// of weight i; qs[16] at 8 with the low four bits, byte j holding
    /// weight j in its low nibble and weight j + 16 in its high nibble.
    ///
    /// Reference (`quantize_row_q5_1_ref`, ggml-quants.c; gguf-py `Q5_1`):
    /// m = min x, d = (max − min)/31, q = min(31, trunc((x − m)·(1/d) + 0.5))
    /// in binary32, operation by operation; decoding rounds d·q, then adds m.
    public struct Q5_1: ReferenceQuantizable {
        public init() {}
        public var type: GGMLType { .q5_1 }

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let base = 24 * b
                let d = blocks.f16(at: base), m = blocks.f16(at: base + 2)
                let high = blocks.u32(at: base + 4)
                for j in 0..<32 {
                    let q = blocks.nibble(j, at: base + 8) | Int32(high >> UInt32(j) & 1) << 4
                    values[32 * b + j] = Float(q) * d + m
                }
            }
        }

        /// As Q4_1's search, with the range mapped to 31 − 1.4…+0.9 steps.
        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            BlockFormats.searchBlocks(self, values, importance: importance, into: blocks) { x, w, q, block in
                let reference = Self.referenceScaleAndOffset(x)
                let fit = GridFit.offsetStored(
                    x, weights: w, levels: 32, candidates: .init(first: 29.6, step: 0.1, count: 24),
                    seed: (roundedToF16(reference.scale), roundedToF16(reference.offset)),
                    precision: .binary16, into: q)
                block.storeF16(fit.scale, at: 0)
                block.storeF16(fit.offset, at: 2)
                block.storeFifthBits(q, bias: 0, at: 4)
                block.storeNibbles(q, bias: 0, at: 8)
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
                let base = 24 * b
                blocks.storeF16(d, at: base)
                blocks.storeF16(m, at: base + 2)
                var high: UInt32 = 0
                for j in 0..<16 {
                    let q0 = min(UInt8(numpyCast: (x[j] - m) * inverse + 0.5), 31)
                    let q1 = min(UInt8(numpyCast: (x[j + 16] - m) * inverse + 0.5), 31)
                    blocks[base + 8 + j] = q0 & 0x0F | (q1 & 0x0F) << 4
                    high |= UInt32(q0 >> 4) << UInt32(j) | UInt32(q1 >> 4) << UInt32(j + 16)
                }
                blocks.storeU32(high, at: base + 4)
            }
        }

        /// ((max − min)/31, min) in binary32.
        static func referenceScaleAndOffset(_ x: UnsafeBufferPointer<Float>) -> (scale: Float, offset: Float) {
            var low = x[0], high = x[0]
            for v in x {
                low = min(low, v)
                high = max(high, v)
            }
            return ((high - low) / 31, low)
        }
    }
}
