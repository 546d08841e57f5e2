import RealModule

/// The 32-band polyphase analysis filterbank of ISO/IEC 11172-3 (Annex C,
/// clause C.1.3, figure C.4): every 32 input samples give one sample in each
/// of 32 subbands.
struct PolyphaseAnalysis {
    /// The last 512 input samples, newest first, in a ring.
    private var history = [Float](repeating: 0, count: 1024)
    private var position = 0
    /// cos((2i+1)(k−16)π/64), i = 0…31, k = 0…63, column by column (k major):
    /// column k, the 32 subbands' coefficients of partial sum k, as four runs of eight.
    private static let matrix: [SIMD8<Float>] = (0..<(64 * 4)).map { entry in
        let k = entry / 4, first = 8 * (entry % 4)
        var run = SIMD8<Float>()
        for lane in 0..<8 {
            let angle: Double = Double((2 * (first + lane) + 1) * (k - 16)) * (Double.pi / 64)
            run[lane] = Float(Double.cos(angle))
        }
        return run
    }
    private static let window: [Float] = ISO11172_3.analysisWindow.map { Float($0) }

    /// Shifts in 32 samples (oldest first) and writes the 32 subband samples.
    mutating func analyze(_ input: UnsafeBufferPointer<Float>, into subbands: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count == 32 && subbands.count == 32, "the filterbank works 32 samples at a time")
        // X[i] for i = 31…0 takes the new samples: X[0] is the newest. The ring holds
        // each sample twice (at p and p + 512) so X[0…511] is one contiguous run.
        for j in 0..<32 {
            position = (position + 511) & 511
            history[position] = input[j]
            history[position + 512] = input[j]
        }
        // Both sums run lane by lane in index order, the lanes side by side: the
        // same additions as one line at a time, so the same bits, vectorized.
        let start = position
        var sums = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
        Self.window.withUnsafeBufferPointer { c in
            history.withUnsafeBufferPointer { ring in
                Self.matrix.withUnsafeBufferPointer { m in
                    let window = UnsafeRawPointer(c.baseAddress!), x = UnsafeRawPointer(ring.baseAddress! + start)
                    func load(_ pointer: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> {
                        pointer.loadUnaligned(fromByteOffset: index * MemoryLayout<Float>.stride, as: SIMD8<Float>.self)
                    }
                    // Partial sums k = first…first+7 into every subband, k in order.
                    // (The sums come in and out, not captured: a captured var is checked at run time.)
                    func matrixing(_ partial: SIMD8<Float>, first: Int,
                                   _ s: inout (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)) {
                        for lane in 0..<8 {
                            let k = first + lane, value = SIMD8(repeating: partial[lane])
                            s.0 += m[4 * k] * value
                            s.1 += m[4 * k + 1] * value
                            s.2 += m[4 * k + 2] * value
                            s.3 += m[4 * k + 3] * value
                        }
                    }
                    for half in 0..<2 {
                        var y0 = SIMD8<Float>(), y1 = SIMD8<Float>(), y2 = SIMD8<Float>(), y3 = SIMD8<Float>()
                        for j in 0..<8 {
                            let offset = 32 * half + 64 * j
                            y0 += load(window, offset) * load(x, offset)
                            y1 += load(window, offset + 8) * load(x, offset + 8)
                            y2 += load(window, offset + 16) * load(x, offset + 16)
                            y3 += load(window, offset + 24) * load(x, offset + 24)
                        }
                        matrixing(y0, first: 32 * half, &sums)
                        matrixing(y1, first: 32 * half + 8, &sums)
                        matrixing(y2, first: 32 * half + 16, &sums)
                        matrixing(y3, first: 32 * half + 24, &sums)
                    }
                }
            }
        }
        for lane in 0..<8 {
            subbands[lane] = sums.0[lane]
            subbands[8 + lane] = sums.1[lane]
            subbands[16 + lane] = sums.2[lane]
            subbands[24 + lane] = sums.3[lane]
        }
    }
}
