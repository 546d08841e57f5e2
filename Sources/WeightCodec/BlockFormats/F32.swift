extension BlockFormats {
    /// F32: IEEE 754 binary32, one weight per 4-byte little-endian element;
    /// 32 bits per weight, lossless. (ggml `GGML_TYPE_F32`.)
    public struct F32: ReferenceQuantizable {
        public init() {}
        public var type: GGMLType { .f32 }

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            _ = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for i in 0..<values.count { values[i] = blocks.f32(at: 4 * i) }
        }

        /// Stores the values as they are; importance cannot matter.
        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            _ = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count, importance: importance?.count)
            quantizeReference(values, into: blocks)
        }

        public func quantizeReference(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer) {
            _ = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            for i in 0..<values.count { blocks.storeF32(values[i], at: 4 * i) }
        }
    }
}
