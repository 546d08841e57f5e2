import RealModule

/// The second stage of Layer III's hybrid filterbank (Annex C, clause
/// C.1.5.3): per subband, an MDCT over the 36 samples of the last and the
/// current granule, windowed for the block type: one 18-line transform for
/// normal, start and stop blocks, then the alias-reduction butterflies
/// between neighbouring subbands; or three 6-line transforms of 12 samples
/// (offsets 6, 12, 18) for a short block, without alias reduction. 576 lines
/// per granule: subband·18 + line for long blocks, subband·18 + 3·line +
/// window for short ones (the decoder's order after reordering).
struct HybridMDCT {
    /// The previous granule's 18 samples of each subband.
    private var previous = [Float](repeating: 0, count: 32 * 18)
    private var block = [Float](repeating: 0, count: 36)

    /// Per block type 0, 1, 3: w[k]·cos(π/72·(2k + 1 + 18)(2i + 1))/9, as
    /// columns: at [k·3 + g], lanes i = 8g … 8g + 7 (those past 17 are zero),
    /// so that a block's 18 lines are three vector sums over its 36 samples.
    /// The decoder's IMDCT, windowing and overlap-add return N/4 times the
    /// input of this unnormalised pair (9 for N = 36, 3 for N = 12); dividing
    /// here keeps the chain at unit gain.
    private static let longKernels: [[SIMD8<Float>]] = ISO11172_3.blockWindows.map { window in
        (0..<(36 * 3)).map { entry in
            let k = entry / 3, g = entry % 3
            return SIMD8<Float>((0..<8).map { lane -> Float in
                let i = 8 * g + lane
                guard i < 18 else { return 0 }
                let phase: Double = Double((2 * k + 19) * (2 * i + 1)) * (Double.pi / 72)
                return window[k] * Float(Double.cos(phase) / 9)
            })
        }
    }
    /// w[k]·cos(π/24·(2k + 1 + 6)(2i + 1))/3 for the short window, as columns:
    /// at [k], lanes i = 0 … 5 (6 and 7 are zero).
    private static let shortKernel: [SIMD8<Float>] = (0..<12).map { k in
        SIMD8<Float>((0..<8).map { i -> Float in
            guard i < 6 else { return 0 }
            let phase: Double = Double((2 * k + 7) * (2 * i + 1)) * (Double.pi / 24)
            return ISO11172_3.shortWindow[k] * Float(Double.cos(phase) / 3)
        })
    }

    /// Transforms one granule: `subbandSamples[t·32 + sb]` for t = 0…17 (the
    /// filterbank's output order) into 576 lines, windowed for `blockType`.
    mutating func transform(_ subbandSamples: UnsafeBufferPointer<Float>, blockType: Int,
                            into lines: UnsafeMutableBufferPointer<Float>) {
        precondition(subbandSamples.count == 576 && lines.count == 576, "a granule is 18 × 32 samples")
        let short = blockType == 2
        let kernel = short ? Self.shortKernel : Self.longKernels[blockType]
        kernel.withUnsafeBufferPointer { kernel in
            for sb in 0..<32 {
                for t in 0..<18 {
                    // Odd subbands are spectrally inverted: negate their odd time samples.
                    let sign: Float = (sb & 1 == 1 && t & 1 == 1) ? -1 : 1
                    block[t] = previous[sb * 18 + t]
                    let current = sign * subbandSamples[t * 32 + sb]
                    block[18 + t] = current
                    previous[sb * 18 + t] = current
                }
                block.withUnsafeBufferPointer { z in
                    if short {
                        for w in 0..<3 {
                            let segment = z.baseAddress! + 6 + 6 * w
                            var sum = SIMD8<Float>()
                            for k in 0..<12 { sum += kernel[k] * segment[k] }
                            for i in 0..<6 { lines[sb * 18 + 3 * i + w] = sum[i] }
                        }
                    } else {
                        var low = SIMD8<Float>(), middle = SIMD8<Float>(), high = SIMD8<Float>()
                        for k in 0..<36 {
                            let sample = z[k]
                            low += kernel[3 * k] * sample
                            middle += kernel[3 * k + 1] * sample
                            high += kernel[3 * k + 2] * sample
                        }
                        for i in 0..<8 {
                            lines[sb * 18 + i] = low[i]
                            lines[sb * 18 + 8 + i] = middle[i]
                        }
                        lines[sb * 18 + 16] = high[0]
                        lines[sb * 18 + 17] = high[1]
                    }
                }
            }
        }
        guard !short else { return }
        // Alias reduction: the transpose of the decoder's butterflies.
        for sb in 1..<32 {
            for i in 0..<8 {
                let (cs, ca) = ISO11172_3.aliasButterflies[i]
                let upper = lines[sb * 18 - 1 - i]
                let lower = lines[sb * 18 + i]
                lines[sb * 18 - 1 - i] = upper * cs + lower * ca
                lines[sb * 18 + i] = lower * cs - upper * ca
            }
        }
    }
}
