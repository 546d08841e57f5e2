import RateDistortion

extension BlockFormats {
    /// IQ4_XS: 256 weights in eight sub-blocks of 32, each with a 6-bit
    /// signed scale l ∈ −32…31 under one binary16 scale d, and 4-bit indices
    /// into IQ4_NL's codebook: x = (d·l)·kvalues[q]; 136 bytes, 4.25 bits
    /// per weight.
    ///
    /// Layout (`block_iq4_xs`, ggml-common.h): d (f16) at byte 0; scales_h
    /// (u16, little-endian) at 2 holding bits 4–5 of l + 32 for sub-block
    /// ib at bits 2·ib; scales_l[4] at 4 holding bits 0–3 of l + 32, sub-block
    /// ib in the low (even ib) or high (odd ib) nibble of byte ib/2; qs[128]
    /// at 8, sixteen bytes per sub-block packed as IQ4_NL's. Decoding forms
    /// d·l in binary32 first, then multiplies by the level
    /// (`dequantize_row_iq4_xs`, ggml-quants.c).
    ///
    /// Like IQ4_NL there is no reference quantizer to match byte for byte.
    public struct IQ4_XS: BlockFormat {
        public init() {}
        public var type: GGMLType { .iq4_xs }

        public func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
            let count = BlockFormats.blockCount(type, values: values.count, bytes: blocks.count)
            IQ4_NL.levels.withUnsafeBufferPointer { levels in
                for b in 0..<count {
                    let base = 136 * b
                    let d = blocks.f16(at: base)
                    for ib in 0..<8 {
                        let dl = d * Float(Self.subScale(ib, of: UnsafeRawBufferPointer(rebasing: blocks[base..<base + 8])))
                        for j in 0..<32 {
                            values[256 * b + 32 * ib + j] = dl * levels[Int(blocks.nibble(j, at: base + 8 + 16 * ib))]
                        }
                    }
                }
            }
        }

        /// The signed 6-bit scale l of sub-block `ib` from a block's first eight bytes.
        static func subScale(_ ib: Int, of header: UnsafeRawBufferPointer) -> Int32 {
            let low = Int32(header[4 + ib / 2] >> UInt8(4 * (ib % 2)) & 0x0F)
            let high = Int32(header.u16(at: 2) >> UInt16(2 * ib) & 3)
            return (low | high << 4) - 32
        }

        /// Each sub-block's scale is first fitted freely (IQ4_NL's search in
        /// binary32); then d is chosen so that the largest of them lands on
        /// l = −32…−29 or +29…+31, each sub-block takes whichever of the two
        /// integers around its scale/d gives the smaller exact error, and the
        /// best d is refitted to the chosen l and indices and tried with its
        /// binary16 neighbours. Every error is measured as decoded:
        /// Σw(x − (d·l)·kvalues[q]) with the indices re-rounded to d·l.
        public func quantize(
            _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
            into blocks: UnsafeMutableRawBufferPointer
        ) {
            let levels = IQ4_NL.codebook
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { floats in
                    withUnsafeTemporaryAllocation(of: Int32.self, capacity: 16) { ints in
                        let search = SuperBlockSearch(
                            levels: levels, scales: UnsafeMutableBufferPointer(rebasing: floats[0..<8]),
                            energies: UnsafeMutableBufferPointer(rebasing: floats[8..<16]),
                            chosen: UnsafeMutableBufferPointer(rebasing: ints[0..<8]),
                            best: UnsafeMutableBufferPointer(rebasing: ints[8..<16]))
                        BlockFormats.searchBlocks(self, values, importance: importance, into: blocks) { x, w, q, block in
                            let d = search.run(x, w, q)
                            block.storeF16(d, at: 0)
                            var high: UInt16 = 0
                            for ib in 0..<8 {
                                let stored = UInt8(search.best[ib] + 32)
                                if ib % 2 == 0 { block[4 + ib / 2] = stored & 0x0F } else { block[4 + ib / 2] |= stored << 4 }
                                high |= UInt16(stored >> 4) << UInt16(2 * ib)
                                block.storeNibbles(q, from: 32 * ib, bias: 0, at: 8 + 16 * ib)
                            }
                            block.storeU16(high, at: 2)
                        }
                    }
                }
        }

        /// Scratch for one call's blocks: sub-block scales and energies, the
        /// sub-scales of the d being judged and of the best so far.
        struct SuperBlockSearch {
            let levels: GridFit.Codebook
            let scales: UnsafeMutableBufferPointer<Float>
            let energies: UnsafeMutableBufferPointer<Float>
            let chosen: UnsafeMutableBufferPointer<Int32>
            let best: UnsafeMutableBufferPointer<Int32>

            /// Fits one block; returns the stored d, leaves the sub-scales in
            /// `best` and the indices in `q`.
            func run(
                _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>, _ q: UnsafeMutableBufferPointer<Int32>
            ) -> Float {
                var pivot: Float = 0
                for ib in 0..<8 {
                    let xb = UnsafeBufferPointer(rebasing: x[32 * ib..<32 * ib + 32])
                    let wb = UnsafeBufferPointer(rebasing: w[32 * ib..<32 * ib + 32])
                    var energy: Float = 0
                    for j in 0..<32 { energy += wb[j] * xb[j] * xb[j] }
                    energies[ib] = energy
                    scales[ib] = IQ4_NL.fit(
                        xb, wb, levels, precision: .binary32,
                        into: UnsafeMutableBufferPointer(rebasing: q[32 * ib..<32 * ib + 32])
                    ).scale
                    if abs(scales[ib]) > abs(pivot) { pivot = scales[ib] }
                }
                var bestD: Float = 0
                var bestError: Float = 0
                for ib in 0..<8 {
                    best[ib] = 0
                    bestError += energies[ib]
                }
                guard pivot != 0 else {
                    writeIndices(x, q, d: 0)
                    return 0
                }
                func consider(_ scale: Float) {
                    let d = roundedToF16(min(max(scale, -65504), 65504))
                    guard d != 0, d.isFinite, d != bestD else { return }
                    let error = judge(x, w, q, d: d, bound: bestError)
                    if error < bestError {
                        bestError = error
                        bestD = d
                        for ib in 0..<8 { best[ib] = chosen[ib] }
                    }
                }
                for l in -32 ... -29 { consider(pivot / Float(l)) }
                for l in 29...31 { consider(pivot / Float(l)) }
                for _ in 0..<2 {
                    let before = bestError
                    writeIndices(x, q, d: bestD)
                    guard let d = refit(x, w, q) else { break }
                    consider(d)
                    if bestError >= before { break }
                }
                let d = bestD
                consider(Float(Float16(d).nextUp))
                consider(Float(Float16(d).nextDown))
                writeIndices(x, q, d: bestD)
                return bestD
            }

            /// The exact error of d with each sub-block's l the better of the
            /// two integers around scale/d; stops early once past `bound`.
            func judge(
                _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>, _ q: UnsafeMutableBufferPointer<Int32>,
                d: Float, bound: Float
            ) -> Float {
                var total: Float = 0
                for ib in 0..<8 {
                    let xb = UnsafeBufferPointer(rebasing: x[32 * ib..<32 * ib + 32])
                    let wb = UnsafeBufferPointer(rebasing: w[32 * ib..<32 * ib + 32])
                    func error(_ l: Float) -> Float {
                        l == 0 ? energies[ib] : GridFit.codebookError(xb, weights: wb, levels: levels, scale: d * l)
                    }
                    let t = scales[ib] / d
                    let near = min(max(t.rounded(), -32), 31)
                    let other = min(max(t > near ? near + 1 : near - 1, -32), 31)
                    var e = error(near)
                    chosen[ib] = Int32(near)
                    if other != near {
                        let e2 = error(other)
                        if e2 < e {
                            e = e2
                            chosen[ib] = Int32(other)
                        }
                    }
                    total += e
                    if total >= bound { return total }
                }
                return total
            }

            /// Indices for d and the best sub-scales, into q.
            func writeIndices(_ x: UnsafeBufferPointer<Float>, _ q: UnsafeMutableBufferPointer<Int32>, d: Float) {
                for ib in 0..<8 {
                    GridFit.codebookIndices(
                        UnsafeBufferPointer(rebasing: x[32 * ib..<32 * ib + 32]), levels: levels,
                        scale: d * Float(best[ib]), into: UnsafeMutableBufferPointer(rebasing: q[32 * ib..<32 * ib + 32]))
                }
            }

            /// The least-squares d for the best sub-scales and the indices in q:
            /// x ≈ d·(l·kvalues[q]).
            func refit(
                _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>, _ q: UnsafeMutableBufferPointer<Int32>
            ) -> Float? {
                var sumXY: Float = 0, sumYY: Float = 0
                for i in 0..<256 {
                    let y = Float(best[i / 32]) * levels[Int(q[i])]
                    sumXY += w[i] * x[i] * y
                    sumYY += w[i] * y * y
                }
                return sumYY > 0 ? sumXY / sumYY : nil
            }
        }
    }
}
