/// A contiguous run of coefficients that shares one quantizer setting and one
/// tolerance: a scalefactor band of an MDCT granule, or a group of weights
/// along a tensor row.
///
/// `tolerance` is the noise power per coefficient that the receiver will not
/// notice (a band's masking threshold energy divided by its width; the inverse
/// importance of a weight group). Distortion is always judged relative to it:
/// the noise-to-tolerance ratio (NTR) is `noise power / tolerance`.
public struct Partition: Sendable, Hashable, Codable {
    /// Indices of the coefficients, in the array the partition was cut from.
    public var range: Range<Int>
    /// Mean square of the coefficients (their power, about zero).
    public var power: Double
    /// Noise power per coefficient that goes unnoticed; 1 means plain MSE.
    public var tolerance: Double

    public init(range: Range<Int>, power: Double, tolerance: Double = 1) {
        precondition(tolerance > 0, "tolerance must be positive")
        self.range = range
        self.power = power
        self.tolerance = tolerance
    }

    public var count: Int { range.count }
    /// Sum of squares of the coefficients.
    public var energy: Double { power * Double(count) }
}

extension Partition {
    /// Cuts `coefficients` into consecutive partitions of the given widths and
    /// measures each one's power.
    ///
    /// - Parameter tolerances: one per partition, or empty for flat (MSE).
    public static func partitions(
        of coefficients: [Double], widths: [Int], tolerances: [Double] = []
    ) -> [Partition] {
        precondition(widths.allSatisfy { $0 > 0 }, "partition widths must be positive")
        precondition(widths.reduce(0, +) <= coefficients.count, "widths exceed the coefficients")
        precondition(tolerances.isEmpty || tolerances.count == widths.count, "one tolerance per partition")
        var start = 0
        return widths.enumerated().map { p, width in
            let range = start..<(start + width)
            start += width
            let sumOfSquares = coefficients[range].reduce(0) { $0 + $1 * $1 }
            return Partition(
                range: range, power: sumOfSquares / Double(width),
                tolerance: tolerances.isEmpty ? 1 : tolerances[p])
        }
    }
}
