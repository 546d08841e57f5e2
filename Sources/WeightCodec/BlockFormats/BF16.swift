extension BlockFormats {
    /// BF16: bfloat16, the top half of a binary32 (1 sign, 8 exponent,
    /// 7 fraction bits), one weight per 2-byte little-endian element;
    /// 16 bits per weight. x = bits << 16 read as binary32.
    /// (ggml `GGML_TYPE_BF16`.)
    ///
    /// Reference (`ggml_compute_fp32_to_bf16` in ggml-impl.h, gguf-py
    /// `BF16.quantize_blocks`): a NaN keeps its top 16 bits with the quiet
    /// bit (0x0040) set; anything else rounds to nearest even by adding
    /// 0x7FFF plus the lowest kept bit before dropping the low 16 bits.
    public struct BF16: ReferenceQuantizable {
        public init() {}
        public var type: GGMLType { .bf16 }

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            _ = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for i in 0..<values.count { values[i] = Float(bitPattern: UInt32(blocks.u16(at: 2 * i)) << 16) }
        }

        /// The nearest bfloat16 value, each weight on its own; finite values
        /// that would round to ±∞ are held at the largest finite bfloat16.
        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            _ = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count, importance: importance?.count)
            for i in 0..<values.count {
                var bits = Self.referenceBits(values[i])
                if values[i].isFinite && bits & 0x7FFF == 0x7F80 { bits -= 1 }  // ±∞ → ±0x1.FEp127
                blocks.storeU16(bits, at: 2 * i)
            }
        }

        public func quantizeReference(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
            _ = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for i in 0..<values.count { blocks.storeU16(Self.referenceBits(values[i]), at: 2 * i) }
        }

        /// ggml's binary32 → bfloat16 rule.
        @inlinable static func referenceBits(_ v: Float) -> UInt16 {
            let bits = v.bitPattern
            if bits & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(bits >> 16) | 0x0040 }
            return UInt16((bits &+ (0x7FFF + (bits >> 16 & 1))) >> 16)
        }
    }
}
