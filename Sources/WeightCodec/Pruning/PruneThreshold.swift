/// The score below which weights are pruned, found exactly for any number
/// of scores in two passes over them and 2 × 65 536 counters: a radix
/// select on the scores' bit patterns. Scores are non-negative floats,
/// whose IEEE 754 bit patterns sort as the values do (NaN above +∞), so the
/// high 16 bits (sign, exponent, 7 mantissa bits: bins 2⁻⁷ ≈ 0.8 % wide)
/// locate the k-th smallest score's bin in the first pass and the low 16
/// bits locate the score itself in the second. Memory does not grow with
/// the number of scores: a whole model's are streamed tensor by tensor.
public struct PruneThreshold: Sendable, Hashable {
    /// Scores whose bit pattern is below this one are pruned…
    public var bits: UInt32
    /// …and this many of those equal to it, the first in tensor and element
    /// order (equal scores are common: an F16 model has at most 2¹⁵
    /// distinct magnitudes).
    public var ties: Int

    public var score: Float { Float(bitPattern: bits) }

    /// Prunes nothing.
    public static let none = PruneThreshold(bits: 0, ties: 0)

    /// The threshold that prunes exactly the `k` smallest scores.
    /// - Parameter pass: called twice; each call feeds every score to the histogram.
    public static func smallest(_ k: Int, pass: (inout ScoreHistogram) throws -> Void) rethrows -> PruneThreshold {
        guard k > 0 else { return .none }
        var high = ScoreHistogram(prefix: nil)
        try pass(&high)
        precondition(k <= high.total, "cannot prune \(k) of \(high.total) scores")
        let (highDigit, belowHigh) = high.locate(k)
        var low = ScoreHistogram(prefix: highDigit)
        try pass(&low)
        let (lowDigit, belowLow) = low.locate(k - belowHigh)
        return PruneThreshold(bits: highDigit << 16 | lowDigit, ties: k - belowHigh - belowLow)
    }

    /// The threshold for the `k` smallest of scores held in memory.
    public static func smallest(_ k: Int, of scores: UnsafeBufferPointer<Float>) -> PruneThreshold {
        smallest(k) { $0.add(scores) }
    }

    /// Whether a score is pruned; spends one tie when it equals the threshold.
    @inline(__always)
    func prunes(_ score: Float, ties: inout Int) -> Bool {
        let b = score.bitPattern
        if b < bits { return true }
        if b == bits && ties > 0 { ties -= 1; return true }
        return false
    }
}

/// Counts of scores per 16-bit digit of their bit pattern: the high digit,
/// or, with a prefix, the low digit of the scores whose high digit it is.
public struct ScoreHistogram: Sendable {
    let prefix: UInt32?
    var counts = [Int](repeating: 0, count: 1 << 16)
    /// Scores seen (all of them, also those outside the prefix).
    public private(set) var total = 0

    init(prefix: UInt32?) { self.prefix = prefix }

    public mutating func add(_ scores: UnsafeBufferPointer<Float>) {
        total += scores.count
        counts.withUnsafeMutableBufferPointer { counts in
            if let prefix {
                for score in scores where score.bitPattern >> 16 == prefix { counts[Int(score.bitPattern & 0xFFFF)] += 1 }
            } else {
                for score in scores { counts[Int(score.bitPattern >> 16)] += 1 }
            }
        }
    }

    /// The digit holding the `k`-th smallest counted score (1-based), and
    /// how many counted scores lie below that digit.
    func locate(_ k: Int) -> (digit: UInt32, below: Int) {
        var below = 0
        for (digit, count) in counts.enumerated() {
            if below + count >= k { return (UInt32(digit), below) }
            below += count
        }
        preconditionFailure("fewer than \(k) scores counted")
    }
}
