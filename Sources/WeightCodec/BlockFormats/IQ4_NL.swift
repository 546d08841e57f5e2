import RateDistortion

extension BlockFormats {
    /// IQ4_NL: 32 weights as a binary16 scale and 4-bit indices into a
    /// fixed non-uniform codebook, x = d·kvalues[q]; 18 bytes, 4.5 bits per
    /// weight.
    ///
    /// Layout (`block_iq4_nl`, ggml-common.h): d (f16) at byte 0, then
    /// qs[16] at 2: byte j holds q of weight j in its low nibble and of
    /// weight j + 16 in its high nibble.
    ///
    /// ggml's quantizer (`quantize_row_iq4_nl_impl` in ggml-quants.c) is a
    /// search, not a closed form, and gguf-py has no quantizer for this
    /// type, so there is no reference here to match byte for byte.
    public struct IQ4_NL: BlockFormat {
        public init() {}
        public var type: GGMLType { .iq4_nl }

        /// The sixteen levels, `kvalues_iq4nl` in ggml-common.h (gguf-py
        /// `IQ4_NL.kvalues`); IQ4_XS shares them.
        public static let levels: [Float] = [
            -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
        ]

        /// The levels laid out for the searches.
        static let codebook = GridFit.Codebook(levels)

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            Self.levels.withUnsafeBufferPointer { levels in
                for b in 0..<count {
                    let base = 18 * b
                    let d = blocks.f16(at: base)
                    for j in 0..<32 { values[32 * b + j] = d * levels[Int(blocks.nibble(j, at: base + 2))] }
                }
            }
        }

        /// Weighted least squares over the pivot mapped to −127 − 7…+7 (the
        /// fifteen positions llama.cpp tries) and to +105…+127, judged after
        /// d is rounded to binary16 and the indices re-rounded to it.
        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            let codebook = Self.codebook
            BlockFormats.searchBlocks(self, values, importance: importance, into: blocks) { x, w, q, block in
                let fit = Self.fit(x, w, codebook, precision: .binary16, into: q)
                block.storeF16(fit.scale, at: 0)
                block.storeNibbles(q, bias: 0, at: 2)
            }
        }

        /// The codebook search IQ4_NL and IQ4_XS's sub-blocks share.
        static func fit(
            _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>, _ levels: GridFit.Codebook,
            precision: GridFit.Precision, into q: UnsafeMutableBufferPointer<Int32>
        ) -> GridFit.Fit {
            GridFit.codebookStored(
                x, weights: w, levels: levels,
                candidates: .init(first: -134, step: 1, count: 15),
                alsoTrying: .init(first: 105, step: 2, count: 12),
                precision: precision, into: q)
        }
    }
}
