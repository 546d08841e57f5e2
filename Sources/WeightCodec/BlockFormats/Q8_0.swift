import RateDistortion

extension BlockFormats {
    /// Q8_0: 32 weights as a binary16 scale and signed 8-bit indices,
    /// x = d·q; 34 bytes, 8.5 bits per weight.
    ///
    /// Layout (`block_q8_0`, ggml-common.h): d (f16) at byte 0, then
    /// qs[32] (int8) at 2, weight j in qs[j].
    ///
    /// Reference (`quantize_row_q8_0_ref`, ggml-quants.c; gguf-py `Q8_0`):
    /// d = max|x|/127 and q = round(x·(1/d)) half away from zero, all in
    /// binary32, so only −127…127 is used.
    ///
    /// The search uses the whole int8 range −128…127: the value of largest
    /// magnitude may take −128, which the reference never does.
    public struct Q8_0: ReferenceQuantizable {
        public init() {}
        public var type: GGMLType { .q8_0 }

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let base = 34 * b
                let d = blocks.f16(at: base)
                for j in 0..<32 { values[32 * b + j] = Float(blocks.i8(at: base + 2 + j)) * d }
            }
        }

        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            BlockFormats.searchBlocks(self, values, importance: importance, into: blocks) { x, w, q, block in
                // The pivot (largest magnitude) is tried on −128 (d > 0 for
                // a negative pivot) and on +127, a quarter step apart.
                let fit = GridFit.symmetricStored(
                    x, weights: w, levels: -128...127,
                    candidates: .init(first: -129.5, step: 0.25, count: 15),
                    alsoTrying: .init(first: 125.5, step: 0.25, count: 9),
                    seed: roundedToF16(Self.referenceScale(x)), precision: .binary16, into: q)
                block.storeF16(fit.scale, at: 0)
                for j in 0..<32 { block[2 + j] = UInt8(bitPattern: Int8(q[j])) }
            } reference: { x, block in
                quantizeReference(x, into: block)
            }
        }

        public func quantizeReference(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for b in 0..<count {
                let x = UnsafeBufferPointer(rebasing: values[32 * b..<32 * b + 32])
                let d = Self.referenceScale(x)
                let inverse: Float = d == 0 ? 0 : 1 / d
                blocks.storeF16(d, at: 34 * b)
                for j in 0..<32 {
                    blocks[34 * b + 2 + j] = UInt8(bitPattern: Int8(numpyCast: (x[j] * inverse).rounded()))
                }
            }
        }

        /// max|x|/127 in binary32.
        static func referenceScale(_ x: UnsafeBufferPointer<Float>) -> Float {
            var amax: Float = 0
            for v in x { amax = max(amax, abs(v)) }
            return amax / 127
        }
    }
}
