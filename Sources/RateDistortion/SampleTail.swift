/// The mean and the upper tail of a sample small enough to keep whole
/// (a divergence per token of a text, an error per tensor): exact
/// percentiles, interpolated linearly between order statistics as numpy's
/// default does, and which samples are the worst.
public struct SampleTail: Sendable, Hashable {
    /// The values, ascending.
    public let sorted: [Double]
    public let mean: Double

    public init(_ values: [Double]) {
        precondition(!values.isEmpty, "a tail needs values")
        sorted = values.sorted()
        mean = values.reduce(0, +) / Double(values.count)
    }

    public var count: Int { sorted.count }
    public var max: Double { sorted[sorted.count - 1] }

    /// The value below which `percent` % of the sample lies.
    public func percentile(_ percent: Double) -> Double {
        precondition((0...100).contains(percent), "percent in 0...100")
        let position = percent / 100 * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = Swift.min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// Indices of the `count` largest of `values`, largest first (ties by index).
    public static func worst(_ values: [Double], count: Int) -> [Int] {
        Array(values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }.prefix(count))
    }
}
