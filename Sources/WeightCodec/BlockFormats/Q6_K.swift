import RateDistortion

extension BlockFormats {
    /// ggml's Q6_K: 256 weights in 16 sub-blocks of 16, each with a signed
    /// 8-bit scale c_j under one f16 super-block scale; 6.5625 bits per
    /// weight (210 bytes).
    ///
    ///     offset  size  field
    ///          0   128  ql     low 4 bits of q + 32: in half h (128 weights),
    ///                          weight 32g + l sits in byte 64h + 32(g mod 2) + l,
    ///                          low nibble for g < 2, high nibble for g ≥ 2
    ///        128    64  qh     high 2 bits: byte 32h + l, bits 2g…2g+1
    ///        192    16  scales c_j, int8
    ///        208     2  d      f16 super-block scale
    ///
    /// x = (d·c_j)·q, q ∈ −32…31, for weight 16j + i; the product rounded to
    /// f32 in that order, as `dequantize_row_q6_K` and gguf-py do.
    /// Source: `ggml-common.h` (block_q6_K), `ggml-quants.c`, gguf-py `quants.py`.
    public struct Q6_K: BlockFormat {
        public init() {}
        public var type: GGMLType { .q6_K }

        /// Sixteen values on 64 levels: the least-squares step is mostly set
        /// by the bulk, not the largest value, so the fit tries giving that
        /// value anywhere from 40 levels (clipped) down to 17.
        static let geometry = KSuperBlockSearch.SymmetricGeometry(
            levels: -32...31, codes: -128...127,
            fitCandidates: .init(first: -40, step: 1, count: 24),
            codeCandidates: .init(first: -128.45, step: 0.5, count: 20))

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = KFormatPacking.blockCount(weights: values.count, bytes: blocks.count, importance: nil, type: type)
            for b in 0..<count {
                let block = UnsafeRawBufferPointer(rebasing: blocks[b * 210 ..< (b + 1) * 210])
                let d = block.f16(at: 208)
                for j in 0..<16 {
                    let dl = d * Float(block.i8(at: 192 + j))
                    // Sub-block j: half h = j/8, group g = (j mod 8)/2, l from 16(j mod 2).
                    let h = j >> 3, g = (j >> 1) & 3, first = 16 * (j & 1)
                    let ql = 64 * h + 32 * (g & 1), lowShift = UInt8(g >= 2 ? 4 : 0)
                    let qh = 128 + 32 * h, highShift = UInt8(2 * g)
                    let out = 256 * b + 16 * j
                    for i in 0..<16 {
                        let l = first + i
                        let u = (block[ql + l] >> lowShift) & 0xF | ((block[qh + l] >> highShift) & 3) << 4
                        values[out + i] = dl * Float(Int32(u) - 32)
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
                    let block = UnsafeMutableRawBufferPointer(rebasing: blocks[b * 210 ..< (b + 1) * 210])
                    for h in 0..<2 {
                        for l in 0..<32 {
                            let e = 128 * h + l
                            let u0 = UInt8(s.levels[e] + 32), u1 = UInt8(s.levels[e + 32] + 32)
                            let u2 = UInt8(s.levels[e + 64] + 32), u3 = UInt8(s.levels[e + 96] + 32)
                            block[64 * h + l] = (u0 & 0xF) | (u2 & 0xF) << 4
                            block[64 * h + 32 + l] = (u1 & 0xF) | (u3 & 0xF) << 4
                            block[128 + 32 * h + l] = u0 >> 4 | (u1 >> 4) << 2 | (u2 >> 4) << 4 | (u3 >> 4) << 6
                        }
                    }
                    for j in 0..<16 { block[192 + j] = UInt8(bitPattern: Int8(s.scaleCodes[j])) }
                    block.storeF16(choice.d, at: 208)
                }
            }
        }
    }
}
