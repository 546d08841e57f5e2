import RealModule

/// The 32-band polyphase analysis filterbank of ISO/IEC 11172-3 (Annex C,
/// clause C.1.3, figure C.4): every 32 input samples give one sample in each
/// of 32 subbands.
struct PolyphaseAnalysis {
    /// The last 512 input samples, newest first, in a ring.
    private var history = [Float](repeating: 0, count: 1024)
    private var position = 0
    /// Partial sums Y[0…63] of the windowed history.
    private var partialSums = [Float](repeating: 0, count: 64)
    /// cos((2i+1)(k−16)π/64), i = 0…31, k = 0…63, row-major.
    private static let matrix: [Float] = (0..<(32 * 64)).map { entry in
        let i = entry / 64, k = entry % 64
        let angle: Double = Double((2 * i + 1) * (k - 16)) * (Double.pi / 64)
        return Float(Double.cos(angle))
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
        let start = position
        Self.window.withUnsafeBufferPointer { c in
            history.withUnsafeBufferPointer { ring in
                partialSums.withUnsafeMutableBufferPointer { y in
                    let x = ring.baseAddress! + start
                    for i in 0..<64 {
                        var sum: Float = 0
                        for j in 0..<8 { sum += c[i + 64 * j] * x[i + 64 * j] }
                        y[i] = sum
                    }
                }
            }
        }
        Self.matrix.withUnsafeBufferPointer { m in
            partialSums.withUnsafeBufferPointer { y in
                for i in 0..<32 {
                    var sum: Float = 0
                    let row = m.baseAddress! + 64 * i
                    for k in 0..<64 { sum += row[k] * y[k] }
                    subbands[i] = sum
                }
            }
        }
    }
}
