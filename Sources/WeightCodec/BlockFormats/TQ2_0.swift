import RateDistortion

extension BlockFormats {
    /// TQ2_0: 256 weights as 2-bit indices and one binary16 scale,
    /// x = d·(q − 1); 66 bytes, 2.0625 bits per weight. Made for ternary
    /// models (BitNet b1.58, TriLMs), where q − 1 ∈ {−1, 0, 1}.
    ///
    /// Layout (`block_tq2_0`, ggml-common.h): qs[64] at byte 0, then d (f16)
    /// at 64. Byte 32·c + m (c = 0, 1; m = 0..<32) holds, in bits 2l…2l+1,
    /// the index of weight 128·c + 32·l + m.
    ///
    /// Reference (`quantize_row_tq2_0_ref`, ggml-quants.c; gguf-py `TQ2_0`):
    /// d = max|x|, q − 1 = round(x·(1/d)) half away from zero, in binary32.
    ///
    /// The search also uses the fourth index, q − 1 = 2, which the decoder
    /// (and llama.cpp's dot products, which subtract the block sums) reads as
    /// 2d: for data that is not ternary it buys a level for free.
    public struct TQ2_0: ReferenceQuantizable {
        public init() {}
        public var type: GGMLType { .tq2_0 }

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let base = 66 * b
                let d = blocks.f16(at: base + 64)
                for c in 0..<2 {
                    for l in 0..<4 {
                        for m in 0..<32 {
                            let q = Int32(blocks[base + 32 * c + m] >> UInt8(2 * l) & 3)
                            values[256 * b + 128 * c + 32 * l + m] = Float(q - 1) * d
                        }
                    }
                }
            }
        }

        /// Weighted least squares with d from 0.5 to 2.5 times the block's
        /// weighted RMS, the largest value on either side of the grid, judged
        /// with d stored as binary16 and refined by refitting.
        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            BlockFormats.searchBlocks(self, values, importance: importance, into: blocks) { x, w, q, block in
                var sumW: Float = 0, sumXX: Float = 0, amax: Float = 0
                for i in 0..<256 {
                    sumW += w[i]
                    sumXX += w[i] * x[i] * x[i]
                    amax = max(amax, abs(x[i]))
                }
                // Positions of the pivot p = amax/d for d = RMS/2 … 2.5·RMS.
                let ratio = sumXX > 0 && sumW > 0 ? amax / (sumXX / sumW).squareRoot() : 1
                let first = ratio / 2.5, step = (2 * ratio - ratio / 2.5) / 15
                let fit = GridFit.symmetricStored(
                    x, weights: w, levels: -1...2,
                    candidates: .init(first: first, step: step, count: 16),
                    alsoTrying: .init(first: -2 * ratio, step: step, count: 16),
                    seed: roundedToF16(amax), precision: .binary16, into: q)
                block.storeF16(fit.scale, at: 64)
                Self.pack(q, into: block)
            } reference: { x, block in
                quantizeReference(x, into: block)
            }
        }

        public func quantizeReference(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let x = UnsafeBufferPointer(rebasing: values[256 * b..<256 * b + 256])
                var amax: Float = 0
                for v in x { amax = max(amax, abs(v)) }
                let inverse: Float = amax == 0 ? 0 : 1 / amax
                let block = UnsafeMutableRawBufferPointer(rebasing: blocks[66 * b..<66 * b + 66])
                for i in 0..<64 { block[i] = 0 }
                for i in 0..<256 {
                    let q = UInt8(bitPattern: Int8(numpyCast: (x[i] * inverse).rounded()) &+ 1)
                    block[32 * (i / 128) + i % 32] |= q << UInt8(2 * (i % 128 / 32))
                }
                block.storeF16(amax, at: 64)
            }
        }

        /// Indices q − 1 ∈ −1…2 into the 64 bytes of `block`.
        static func pack(_ q: UnsafeMutableBufferPointer<Int32>, into block: UnsafeMutableRawBufferPointer) {
            for c in 0..<2 {
                for m in 0..<32 {
                    var byte: UInt8 = 0
                    for l in 0..<4 { byte |= UInt8(truncatingIfNeeded: q[128 * c + 32 * l + m] + 1) << UInt8(2 * l) }
                    block[32 * c + m] = byte
                }
            }
        }
    }
}
