/// Nearest-neighbour quantizer over an arbitrary sorted codebook, scaled:
/// reconstruction = scale·codebook[index].
///
/// The codebook is shape-only (designed for a unit-power source, as NF4's is
/// for a unit normal); `scale` carries each partition's level. Decision
/// thresholds are the midpoints between neighbouring levels, so the forward
/// step is a binary search, O(log L).
public struct CodebookQuantizer: Quantizer, Hashable {
    public let codebook: [Double]
    public var scale: Double
    /// scale·(codebook[i] + codebook[i+1])/2, cached for the search.
    private let thresholds: [Double]

    public init(codebook: [Double], scale: Double = 1) {
        precondition(!codebook.isEmpty, "empty codebook")
        precondition(zip(codebook, codebook.dropFirst()).allSatisfy { $0 < $1 }, "codebook must be strictly increasing")
        precondition(scale > 0 && scale.isFinite, "scale must be positive and finite")
        self.codebook = codebook
        self.scale = scale
        self.thresholds = zip(codebook, codebook.dropFirst()).map { scale * ($0 + $1) / 2 }
    }

    public func index(of value: Double) -> Int {
        // The count of thresholds below `value` is the index of the nearest level.
        lowerBound(of: value, in: thresholds)
    }

    public func reconstruction(of index: Int) -> Double { scale * codebook[index] }

    public var levelCount: Int? { codebook.count }

    public func indexCost(of index: Int) -> Double { fixedLengthBits(levels: codebook.count) }

    /// The same codebook at another scale.
    public func scaled(by newScale: Double) -> CodebookQuantizer {
        CodebookQuantizer(codebook: codebook, scale: newScale)
    }
}

/// The first position in `sorted` whose element is not below `value`
/// (`sorted.count` when all are): a binary search.
func lowerBound(of value: Double, in sorted: [Double]) -> Int {
    var low = 0
    var high = sorted.count
    while low < high {
        let mid = (low + high) / 2
        if sorted[mid] < value { low = mid + 1 } else { high = mid }
    }
    return low
}
