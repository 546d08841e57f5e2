extension BlockFormats {
    /// F16: IEEE 754 binary16 (1 sign, 5 exponent, 10 fraction bits), one
    /// weight per 2-byte little-endian element; 16 bits per weight.
    /// (ggml `GGML_TYPE_F16`, `GGML_FP32_TO_FP16`.)
    ///
    /// Reference: round to nearest even, as ggml's conversion and gguf-py's
    /// `astype(np.float16)` do; finite values from 65520 up become ±∞.
    /// NaN stays NaN (its payload bits may differ between converters).
    public struct F16: ReferenceQuantizable {
        public init() {}
        public var type: GGMLType { .f16 }

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            _ = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for i in 0..<values.count { values[i] = blocks.f16(at: 2 * i) }
        }

        /// The nearest binary16 value, each weight on its own (so importance
        /// cannot change the choice); unlike the reference, finite values
        /// beyond the range are held at ±65504 instead of becoming infinite.
        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            _ = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count, importance: importance?.count)
            for i in 0..<values.count {
                let v = values[i]
                blocks.storeF16(v.isFinite ? min(max(v, -65504), 65504) : v, at: 2 * i)
            }
        }

        public func quantizeReference(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
            _ = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for i in 0..<values.count { blocks.storeF16(values[i], at: 2 * i) }
        }
    }
}
