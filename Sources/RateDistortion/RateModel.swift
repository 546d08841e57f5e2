import RealModule

/// Prices a run of quantization indices in bits.
public protocol RateModel: Sendable {
    func bits(for indices: [Int]) -> Double
}

/// The ideal entropy coder for the source of the indices: n·H, estimated from
/// the run itself.
///
/// The plug-in estimate n·H(p̂), with p̂ the empirical distribution, falls
/// short of the entropy of the distribution the indices were drawn from by
/// about (K − 1)/(2 ln 2) bits over the run, K being the number of distinct
/// indices (Miller, 1955). That bias is added back, so a short run with many
/// levels is not priced below what any coder for its source could reach.
/// Real entropy coders (MP3's Huffman tables, arithmetic coders) sit a little
/// above this figure.
public struct EntropyRate: RateModel {
    public init() {}

    public func bits(for indices: [Int]) -> Double {
        guard let low = indices.min(), let high = indices.max() else { return 0 }
        let counts: [Int]
        if high - low < 1 << 20 {
            // Quantization indices span a small range: count in an array, not a dictionary.
            var histogram = [Int](repeating: 0, count: high - low + 1)
            for index in indices { histogram[index - low] += 1 }
            counts = histogram
        } else {
            var table = [Int: Int]()
            for index in indices { table[index, default: 0] += 1 }
            counts = Array(table.values)
        }
        let n = Double(indices.count)
        // n·H(p̂) = Σ c·log₂(n/c) over the symbol counts c.
        let plugIn = counts.reduce(0) { total, c in
            c == 0 ? total : total + Double(c) * Double.log2(n / Double(c))
        }
        let distinct = counts.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
        return plugIn + Double(distinct - 1) / (2 * Double.log(2))
    }
}

/// A fixed-length code: every index costs ⌈log₂ L⌉ bits for an alphabet of L
/// levels. When the quantizer's alphabet is unbounded, L is the span of the
/// indices actually present.
public struct FixedLengthRate: RateModel {
    public var levels: Int?

    public init(levels: Int? = nil) {
        precondition(levels.map { $0 >= 1 } ?? true, "at least one level")
        self.levels = levels
    }

    public func bits(for indices: [Int]) -> Double {
        guard let low = indices.min(), let high = indices.max() else { return 0 }
        return Double(indices.count) * fixedLengthBits(levels: levels ?? (high - low + 1))
    }
}

/// The quantizer's own index code, summed (see `Quantizer.indexCost(of:)`).
public struct IndexCodeRate<Q: Quantizer>: RateModel {
    public var quantizer: Q

    public init(_ quantizer: Q) { self.quantizer = quantizer }

    public func bits(for indices: [Int]) -> Double {
        indices.reduce(0) { $0 + quantizer.indexCost(of: $1) }
    }
}
