import RateDistortion

extension BlockFormats {
    /// ggml's Q3_K: 256 weights in 16 sub-blocks of 16, each with a signed
    /// 6-bit scale code c_j under one f16 super-block scale; 3.4375 bits per
    /// weight (110 bytes).
    ///
    ///     offset  size  field
    ///          0    32  hmask  bit ⌊e/32⌋ of byte e mod 32: set when weight e has q ≥ 0
    ///         32    64  qs     low 2 bits of q + 4 (`KFormatPacking.packTwoBitPlanes`)
    ///         96    12  scales c_j + 32, 6 bits each (`KFormatPacking.packSignedScales`)
    ///        108     2  d      f16 super-block scale
    ///
    /// x = (d·c_j)·q, q ∈ −4…3, c_j ∈ −32…31, for weight 16j + i; the product
    /// rounded to f32 in that order, as `dequantize_row_q3_K` and gguf-py do.
    /// Source: `ggml-common.h` (block_q3_K), `ggml-quants.c`, gguf-py `quants.py`.
    public struct Q3_K: BlockFormat {
        public init() {}
        public var type: GGMLType { .q3_K }

        /// The largest value goes from 6 levels (clipped) to 2.55 on the
        /// long side; codes one beyond the two neighbours are tried.
        static let geometry = KSuperBlockSearch.SymmetricGeometry(
            levels: -4...3, codes: -32...31,
            fitCandidates: .init(first: -6, step: 0.15, count: 24),
            codeCandidates: .init(first: -32.45, step: 0.25, count: 20), codeReach: 1)

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = KFormatPacking.blockCount(weights: values.count, bytes: blocks.count, importance: nil, type: type)
            for b in 0..<count {
                let block = UnsafeRawBufferPointer(rebasing: blocks[b * 110 ..< (b + 1) * 110])
                let d = block.f16(at: 108)
                for j in 0..<16 {
                    let dl = d * Float(KFormatPacking.signedScale(j, in: block, at: 96))
                    let qs = 32 + 32 * (j >> 3) + 16 * (j & 1), shift = UInt8(2 * ((j >> 1) & 3))
                    let out = 256 * b + 16 * j
                    for l in 0..<16 {
                        let e = 16 * j + l
                        let high = (block[e & 31] >> UInt8(e >> 5)) & 1
                        let q = Int32((block[qs + l] >> shift) & 3) - (high == 0 ? 4 : 0)
                        values[out + l] = dl * Float(q)
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
                    let choice = KSuperBlockSearch.searchSymmetric(x, weights: w, geometry: Self.geometry, scratch: s)
                    let block = UnsafeMutableRawBufferPointer(rebasing: blocks[b * 110 ..< (b + 1) * 110])
                    for l in 0..<32 {
                        var mask: UInt8 = 0
                        for k in 0..<8 where s.levels[32 * k + l] >= 0 { mask |= 1 << UInt8(k) }
                        block[l] = mask
                    }
                    // q + 4 keeps its low two bits; the high bit went to hmask.
                    for e in 0..<256 { s.levels[e] += 4 }
                    KFormatPacking.packTwoBitPlanes(s.levels, into: block, at: 32)
                    KFormatPacking.packSignedScales(s.scaleCodes, into: block, at: 96)
                    block.storeF16(choice.d, at: 108)
                }
            }
        }
    }
}
