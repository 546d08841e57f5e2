/// A scalar quantizer: maps a value to an integer index (the forward step) and
/// an index back to a reconstruction value.
///
/// Each quantizer also prices its indices in its own code (`indexCost`), the
/// length a decoder that knows nothing of the source statistics would need.
/// A `RateModel` can price the same indices better (ideal entropy); the gap
/// between the two is what an entropy coder earns.
public protocol Quantizer: Sendable {
    /// The forward step: the index whose cell contains `value`.
    func index(of value: Double) -> Int
    /// The inverse step: the value the decoder outputs for `index`.
    func reconstruction(of index: Int) -> Double
    /// Number of distinct indices, or `nil` for an unbounded alphabet.
    var levelCount: Int? { get }
    /// Bits to send `index` in this quantizer's own code.
    func indexCost(of index: Int) -> Double
}

extension Quantizer {
    /// Quantizes a run of values, returning indices and reconstructions.
    public func quantize<C: Collection>(_ values: C) -> (indices: [Int], reconstruction: [Double])
    where C.Element == Double {
        var indices = [Int]()
        var reconstruction = [Double]()
        indices.reserveCapacity(values.count)
        reconstruction.reserveCapacity(values.count)
        for value in values {
            let index = index(of: value)
            indices.append(index)
            reconstruction.append(self.reconstruction(of: index))
        }
        return (indices, reconstruction)
    }

    /// Sum of squared errors of quantizing `values`, weighted per value when
    /// `weights` is given (importance; one weight per value).
    public func squaredError<C: Collection>(_ values: C, weights: [Double]? = nil) -> Double
    where C.Element == Double {
        precondition(weights == nil || weights!.count == values.count, "one weight per value")
        var total = 0.0
        for (offset, value) in values.enumerated() {
            let error = value - reconstruction(of: index(of: value))
            total += (weights?[offset] ?? 1) * error * error
        }
        return total
    }
}

/// Length in bits of `n` in a signed Exp-Golomb code of order 0: `n` is mapped
/// to k = 1, 2, 3, 4, 5, … for 0, 1, −1, 2, −2, … and costs 2·⌊log₂ k⌋ + 1
/// bits. A universal code for integers that cluster around zero, as
/// quantization indices do.
@inlinable
public func signedExpGolombLength(_ n: Int) -> Int {
    // Map 0, 1, -1, 2, -2, … to 1, 2, 3, 4, 5, … then take the Exp-Golomb length.
    let codeNumber = n > 0 ? 2 * n : -2 * n + 1
    let bitWidth = Int.bitWidth - codeNumber.leadingZeroBitCount
    return 2 * bitWidth - 1
}
