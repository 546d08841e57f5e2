import RateDistortion

extension BlockFormats {
    /// ggml's Q2_K: 256 weights in 16 sub-blocks of 16, each with a 4-bit
    /// scale code s_j and a 4-bit min code m_j under two f16 super-block
    /// scales; 2.625 bits per weight (84 bytes).
    ///
    ///     offset  size  field
    ///          0    16  scales byte j: s_j in the low nibble, m_j in the high one
    ///         16    64  qs     2-bit indices (`KFormatPacking.packTwoBitPlanes`)
    ///         80     2  d      f16, scale of the scale codes
    ///         82     2  dmin   f16, scale of the min codes
    ///
    /// x = (d·s_j)·q − (dmin·m_j), q ∈ 0…3, for weight 16j + i; each product
    /// rounded to f32 in that order, as `dequantize_row_q2_K` and gguf-py do.
    /// Source: `ggml-common.h` (block_q2_K), `ggml-quants.c`, gguf-py `quants.py`.
    public struct Q2_K: BlockFormat {
        public init() {}
        public var type: GGMLType { .q2_K }

        /// The range max − min is given 2.5 to 4 steps (3 spans it exactly).
        static let geometry = KSuperBlockSearch.OffsetGeometry(
            subBlockSize: 16, top: 3, codeTop: 15,
            fitCandidates: .init(first: 2.5, step: 0.075, count: 21),
            codeCandidates: .init(first: 15.45, step: -0.25, count: 20))

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = KFormatPacking.blockCount(weights: values.count, bytes: blocks.count, importance: nil, type: type)
            for b in 0..<count {
                let block = UnsafeRawBufferPointer(rebasing: blocks[b * 84 ..< (b + 1) * 84])
                let d = block.f16(at: 80), dmin = block.f16(at: 82)
                for j in 0..<16 {
                    let sc = block[j]
                    let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                    // Sub-block j: weights 128h + 32k + 16(j mod 2) + l, byte 32h + 16(j mod 2) + l, bits 2k.
                    let qs = 16 + 32 * (j >> 3) + 16 * (j & 1), shift = UInt8(2 * ((j >> 1) & 3))
                    let out = 256 * b + 16 * j
                    for l in 0..<16 {
                        values[out + l] = dl * Float((block[qs + l] >> shift) & 3) - ml
                    }
                }
            }
        }

        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            let count = KFormatPacking.blockCount(weights: values.count, bytes: blocks.count,
                                                  importance: importance?.count, type: type)
            guard count > 0 else { return }
            KSuperBlockSearch.Scratch.with { s in
                for b in 0..<count {
                    let x = values.baseAddress! + 256 * b
                    let w = importance.map { $0.baseAddress! + 256 * b } ?? UnsafePointer(s.ones.baseAddress!)
                    let choice = KSuperBlockSearch.searchOffset(x, weights: w, geometry: Self.geometry, scratch: s)
                    let block = UnsafeMutableRawBufferPointer(rebasing: blocks[b * 84 ..< (b + 1) * 84])
                    for j in 0..<16 { block[j] = UInt8(s.scaleCodes[j]) | UInt8(s.minCodes[j]) << 4 }
                    KFormatPacking.packTwoBitPlanes(s.levels, into: block, at: 16)
                    block.storeF16(choice.d, at: 80)
                    block.storeF16(choice.dmin, at: 82)
                }
            }
        }
    }
}
