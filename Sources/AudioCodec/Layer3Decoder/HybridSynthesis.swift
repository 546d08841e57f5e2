import RealModule

/// The decoder's filterbank for one channel (clauses 2.4.3.4.9–2.4.3.4.10 and
/// Annex A): alias reduction, IMDCT with the block type's window and
/// overlap-add, frequency inversion, and the polyphase synthesis.
struct HybridSynthesis {
    private var overlap = [Float](repeating: 0, count: 576)
    private var v = [Float](repeating: 0, count: 1024)
    private var vOffset = 0
    private var block = [Float](repeating: 0, count: 36)
    private var timeSamples = [Float](repeating: 0, count: 576)

    /// cos(π/72·(2i + 1 + 18)(2k + 1)) at [i·18 + k].
    private static let imdctLong: [Float] = (0..<(36 * 18)).map { entry in
        let i = entry / 18, k = entry % 18
        let angle: Double = Double((2 * i + 19) * (2 * k + 1)) * (Double.pi / 72)
        return Float(Double.cos(angle))
    }
    /// cos(π/24·(2i + 1 + 6)(2k + 1)) at [i·6 + k].
    private static let imdctShort: [Float] = (0..<(12 * 6)).map { entry in
        let i = entry / 6, k = entry % 6
        let angle: Double = Double((2 * i + 7) * (2 * k + 1)) * (Double.pi / 24)
        return Float(Double.cos(angle))
    }
    /// cos((16 + i)(2k + 1)π/64) at [i·32 + k].
    private static let matrix: [Float] = (0..<(64 * 32)).map { entry in
        let i = entry / 32, k = entry % 32
        let angle: Double = Double((16 + i) * (2 * k + 1)) * (Double.pi / 64)
        return Float(Double.cos(angle))
    }
    /// D[i] = 32·C[i] (Table 3-B.3).
    private static let synthesisWindow: [Float] = ISO11172_3.analysisWindow.map { Float(32 * $0) }

    /// Turns 576 lines (short blocks reordered) into 576 PCM samples.
    ///
    /// - Parameter shortFrom: the first line coded as short blocks (576 for none).
    mutating func synthesize(_ lines: inout [Float], _ g: GranuleSideInfo, shortFrom: Int,
                             into pcm: inout [Float], at offset: Int) {
        let short = g.windowSwitching && g.blockType == 2
        // Subbands coded as long blocks: all, none, or the long part of a mixed block.
        let longSubbands = short ? shortFrom / 18 : 32
        // Alias reduction between long-block subbands only.
        let boundaries = max(0, longSubbands - 1)
        for sb in stride(from: 1, through: boundaries, by: 1) {
            for i in 0..<8 {
                let (cs, ca) = ISO11172_3.aliasButterflies[i]
                let upper = lines[sb * 18 - 1 - i], lower = lines[sb * 18 + i]
                lines[sb * 18 - 1 - i] = upper * cs - lower * ca
                lines[sb * 18 + i] = lower * cs + upper * ca
            }
        }
        for sb in 0..<32 {
            let longHere = sb < longSubbands
            for i in 0..<36 { block[i] = 0 }
            if longHere {
                let window = ISO11172_3.blockWindows[short ? 0 : g.blockType]
                for i in 0..<36 {
                    var sum: Float = 0
                    for k in 0..<18 { sum += lines[sb * 18 + k] * Self.imdctLong[i * 18 + k] }
                    block[i] = sum * window[i]
                }
            } else {
                for w in 0..<3 {
                    for i in 0..<12 {
                        var sum: Float = 0
                        for k in 0..<6 { sum += lines[sb * 18 + 3 * k + w] * Self.imdctShort[i * 6 + k] }
                        block[6 + 6 * w + i] += sum * ISO11172_3.shortWindow[i]
                    }
                }
            }
            for i in 0..<18 {
                var sample = block[i] + overlap[sb * 18 + i]
                // Odd subbands are spectrally inverted: negate their odd time samples.
                if sb & 1 == 1 && i & 1 == 1 { sample = -sample }
                timeSamples[i * 32 + sb] = sample
                overlap[sb * 18 + i] = block[18 + i]
            }
        }
        for t in 0..<18 { polyphase(slot: t, into: &pcm, at: offset + 32 * t) }
    }

    private mutating func polyphase(slot t: Int, into pcm: inout [Float], at offset: Int) {
        vOffset = (vOffset + 1024 - 64) & 1023
        for i in 0..<64 {
            var sum: Float = 0
            for k in 0..<32 { sum += Self.matrix[i * 32 + k] * timeSamples[t * 32 + k] }
            v[(vOffset + i) & 1023] = sum
        }
        for j in 0..<32 {
            var sum: Float = 0
            for i in 0..<8 {
                sum += Self.synthesisWindow[64 * i + j] * v[(vOffset + 128 * i + j) & 1023]
                sum += Self.synthesisWindow[64 * i + 32 + j] * v[(vOffset + 128 * i + 96 + j) & 1023]
            }
            pcm[offset + j] = sum
        }
    }
}
