import RateDistortion

extension BlockFormats {
    /// ggml's Q5_K: Q4_K's scales with a fifth index bit; 256 weights in 8
    /// sub-blocks of 32, 5.5 bits per weight (176 bytes).
    ///
    ///     offset  size  field
    ///          0     2  d      f16, scale of the scale codes
    ///          2     2  dmin   f16, scale of the min codes
    ///          4    12  scales s_j and m_j, 6 bits each (`KFormatPacking.packScaleMinPairs`)
    ///         16    32  qh     bit j of byte l: the high bit of weight 32j + l
    ///         48   128  qs     low 4 bits, laid out as Q4_K's qs
    ///
    /// x = (d·s_j)·q − (dmin·m_j), q ∈ 0…31, for weight 32j + i; each product
    /// rounded to f32 in that order, as `dequantize_row_q5_K` and gguf-py do.
    /// Source: `ggml-common.h` (block_q5_K), `ggml-quants.c`, gguf-py `quants.py`.
    public struct Q5_K: BlockFormat {
        public init() {}
        public var type: GGMLType { .q5_K }

        /// The range max − min is given 27 to 36.2 steps (31 spans it exactly).
        static let geometry = KSuperBlockSearch.OffsetGeometry(
            subBlockSize: 32, top: 31, codeTop: 63,
            fitCandidates: .init(first: 27, step: 0.4, count: 24),
            codeCandidates: .init(first: 63.45, step: -0.5, count: 20))

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = KFormatPacking.blockCount(weights: values.count, bytes: blocks.count, importance: nil, type: type)
            for b in 0..<count {
                let block = UnsafeRawBufferPointer(rebasing: blocks[b * 176 ..< (b + 1) * 176])
                let d = block.f16(at: 0), dmin = block.f16(at: 2)
                for j in 0..<8 {
                    let (sc, m) = KFormatPacking.scaleMinPair(j, in: block, at: 4)
                    let dl = d * Float(sc), ml = dmin * Float(m)
                    let qs = 48 + 32 * (j >> 1), shift = UInt8(4 * (j & 1))
                    let out = 256 * b + 32 * j
                    for l in 0..<32 {
                        let q = (block[qs + l] >> shift) & 0xF | ((block[16 + l] >> UInt8(j)) & 1) << 4
                        values[out + l] = dl * Float(q) - ml
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
                    let block = UnsafeMutableRawBufferPointer(rebasing: blocks[b * 176 ..< (b + 1) * 176])
                    block.storeF16(choice.d, at: 0)
                    block.storeF16(choice.dmin, at: 2)
                    KFormatPacking.packScaleMinPairs(scales: s.scaleCodes, mins: s.minCodes, into: block, at: 4)
                    for l in 0..<32 {
                        var high: UInt8 = 0
                        for j in 0..<8 { high |= UInt8(s.levels[32 * j + l] >> 4) << UInt8(j) }
                        block[16 + l] = high
                    }
                    KFormatPacking.packNibblePlanes(s.levels, into: block, at: 48)
                }
            }
        }
    }
}
