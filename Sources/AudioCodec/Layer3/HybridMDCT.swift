import RealModule

/// The second stage of Layer III's hybrid filterbank (Annex C, clause
/// C.1.5.3): per subband, an 18-line MDCT over the 36 samples of the last and
/// the current granule (long blocks, sine window), then the alias-reduction
/// butterflies between neighbouring subbands. 576 lines per granule, in
/// frequency order (subband·18 + line).
struct HybridMDCT {
    /// The previous granule's 18 samples of each subband.
    private var previous = [Float](repeating: 0, count: 32 * 18)
    private var block = [Float](repeating: 0, count: 36)

    /// w[k]·cos(π/72·(2k + 1 + 18)(2i + 1))/9, i = 0…17 rows, k = 0…35
    /// columns, with the long window w[k] = sin(π/36·(k + ½)). The decoder's
    /// IMDCT, windowing and overlap-add return 36/4 = 9 times the input of
    /// this unnormalised pair; dividing here keeps the chain at unit gain.
    private static let kernel: [Float] = (0..<(18 * 36)).map { entry in
        let i = entry / 36, k = entry % 36
        let windowAngle: Double = (Double(k) + 0.5) * (Double.pi / 36)
        let phase: Double = Double((2 * k + 19) * (2 * i + 1)) * (Double.pi / 72)
        let product: Double = Double.sin(windowAngle) * Double.cos(phase) / 9
        return Float(product)
    }

    /// Transforms one granule: `subbandSamples[t·32 + sb]` for t = 0…17 (the
    /// filterbank's output order) into 576 MDCT lines.
    mutating func transform(_ subbandSamples: UnsafeBufferPointer<Float>, into lines: UnsafeMutableBufferPointer<Float>) {
        precondition(subbandSamples.count == 576 && lines.count == 576, "a granule is 18 × 32 samples")
        Self.kernel.withUnsafeBufferPointer { kernel in
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
                    for i in 0..<18 {
                        let row = kernel.baseAddress! + 36 * i
                        var sum: Float = 0
                        for k in 0..<36 { sum += row[k] * z[k] }
                        lines[sb * 18 + i] = sum
                    }
                }
            }
        }
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
