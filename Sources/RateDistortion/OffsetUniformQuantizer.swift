/// Uniform quantizer with an offset: L levels evenly spaced from `minimum`.
///
/// index = clamp(round((x − m)/Δ), 0, L−1), reconstruction = m + index·Δ.
///
/// This is the asymmetric ("min + scale") layout of block formats such as
/// GGML's Q4_1, where each block stores m and Δ beside L = 2^b indices of b
/// bits each. With L = 1 every value is reconstructed as m.
public struct OffsetUniformQuantizer: Quantizer, Hashable {
    public var minimum: Double
    public var step: Double
    public var levels: Int

    public init(minimum: Double, step: Double, levels: Int) {
        precondition(levels >= 1, "at least one level")
        precondition(step > 0 && step.isFinite, "step must be positive and finite")
        self.minimum = minimum
        self.step = step
        self.levels = levels
    }

    /// The quantizer whose levels span [low, high] exactly.
    public init(spanning low: Double, _ high: Double, levels: Int) {
        precondition(high >= low, "empty span")
        let step = levels > 1 && high > low ? (high - low) / Double(levels - 1) : 1
        self.init(minimum: levels > 1 ? low : (low + high) / 2, step: step, levels: levels)
    }

    @inlinable
    public func index(of value: Double) -> Int {
        let position = ((value - minimum) / step).rounded()
        return Int(min(max(position, 0), Double(levels - 1)))
    }

    @inlinable
    public func reconstruction(of index: Int) -> Double { minimum + Double(index) * step }

    public var levelCount: Int? { levels }

    public func indexCost(of index: Int) -> Double { fixedLengthBits(levels: levels) }
}
