import RateDistortion

extension BlockFormats {
    /// ggml's Q4_K: 256 weights in 8 sub-blocks of 32, each with a 6-bit
    /// scale code s_j and a 6-bit min code m_j under two f16 super-block
    /// scales; 4.5 bits per weight (144 bytes).
    ///
    ///     offset  size  field
    ///          0     2  d      f16, scale of the scale codes
    ///          2     2  dmin   f16, scale of the min codes
    ///          4    12  scales s_j and m_j, 6 bits each (`KFormatPacking.packScaleMinPairs`)
    ///         16   128  qs     4-bit indices: weight 64c + l in the low nibble
    ///                          of byte 32c + l, weight 64c + 32 + l in its high nibble
    ///
    /// x = (d·s_j)·q − (dmin·m_j), q ∈ 0…15, for weight 32j + i; each product
    /// rounded to f32 in that order, as `dequantize_row_q4_K` and gguf-py do.
    /// Source: `ggml-common.h` (block_q4_K), `ggml-quants.c`, gguf-py `quants.py`.
    public struct Q4_K: BlockFormat {
        public init() {}
        public var type: GGMLType { .q4_K }

        /// The range max − min is given 12 to 17.75 steps (15 spans it exactly).
        static let geometry = KSuperBlockSearch.OffsetGeometry(
            subBlockSize: 32, top: 15, codeTop: 63,
            fitCandidates: .init(first: 12, step: 0.25, count: 24),
            codeCandidates: .init(first: 63.45, step: -0.5, count: 20))

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = KFormatPacking.blockCount(weights: values.count, bytes: blocks.count, importance: nil, type: type)
            for b in 0..<count {
                let block = UnsafeRawBufferPointer(rebasing: blocks[b * 144 ..< (b + 1) * 144])
                let d = block.f16(at: 0), dmin = block.f16(at: 2)
                for j in 0..<8 {
                    let (sc, m) = KFormatPacking.scaleMinPair(j, in: block, at: 4)
                    let dl = d * Float(sc), ml = dmin * Float(m)
                    let qs = 16 + 32 * (j >> 1), shift = UInt8(4 * (j & 1))
                    let out = 256 * b + 32 * j
                    for l in 0..<32 {
                        values[out + l] = dl * Float((block[qs + l] >> shift) & 0xF) - ml
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
                    let block = UnsafeMutableRawBufferPointer(rebasing: blocks[b * 144 ..< (b + 1) * 144])
                    block.storeF16(choice.d, at: 0)
                    block.storeF16(choice.dmin, at: 2)
                    KFormatPacking.packScaleMinPairs(scales: s.scaleCodes, mins: s.minCodes, into: block, at: 4)
                    KFormatPacking.packNibblePlanes(s.levels, into: block, at: 16)
                }
            }
        }
    }
}
