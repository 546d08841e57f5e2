import RealModule

/// Lloyd–Max design of minimum-MSE fixed-rate scalar quantizers.
///
/// Lloyd's alternation: thresholds at midpoints of neighbouring levels (the
/// nearest-neighbour condition), then each level at the centroid of its cell
/// (the centroid condition). Each step cannot raise the MSE, so it converges
/// to a local optimum; for log-concave densities (Gaussian, Laplacian) that
/// optimum is the global one (Fleischer, 1964).
public enum LloydMax {
    /// A codebook for a density, by Lloyd's alternation on the exact cell
    /// moments. For the unit normal at 16 levels this reproduces Max (1960),
    /// Table I: MSE 0.009497.
    public static func design(
        levels: Int, density: SourceDensity, iterations: Int = 500
    ) -> (codebook: [Double], meanSquaredError: Double) {
        precondition(levels >= 1, "at least one level")
        // Start from levels evenly spread over ±2 standard deviations.
        var codebook = (0..<levels).map { i in
            levels == 1 ? 0 : -2 + 4 * Double(i) / Double(levels - 1)
        }
        for _ in 0..<iterations {
            let bounds = cellBounds(codebook, limit: density.support)
            var moved = 0.0
            for i in 0..<levels {
                let m = density.moments(bounds[i], bounds[i + 1])
                if m.mass > 0 {
                    let centroid = m.first / m.mass
                    moved = max(moved, abs(centroid - codebook[i]))
                    codebook[i] = centroid
                }
            }
            if moved < 1e-13 { break }
        }
        let bounds = cellBounds(codebook, limit: density.support)
        var mse = 0.0
        for i in 0..<levels {
            let m = density.moments(bounds[i], bounds[i + 1])
            mse += m.second - 2 * codebook[i] * m.first + codebook[i] * codebook[i] * m.mass
        }
        return (codebook, mse)
    }

    /// A codebook trained on samples: Lloyd's alternation on the empirical
    /// distribution, started from its quantiles. Cells that empty out keep
    /// their level. Returns a strictly increasing codebook (duplicates merged,
    /// so it may have fewer than `levels` entries on tiny inputs).
    public static func train(levels: Int, samples: [Double], iterations: Int = 100) -> [Double] {
        precondition(levels >= 1, "at least one level")
        precondition(!samples.isEmpty, "no samples to train on")
        let sorted = samples.sorted()
        var codebook = (0..<levels).map { i in
            sorted[min(sorted.count - 1, (2 * i + 1) * sorted.count / (2 * levels))]
        }
        // Prefix sums make every cell's centroid O(log n) on the sorted samples.
        var prefix = [0.0]
        prefix.reserveCapacity(sorted.count + 1)
        for x in sorted { prefix.append(prefix.last! + x) }
        for _ in 0..<iterations {
            codebook = strictlyIncreasing(codebook)
            let thresholds = zip(codebook, codebook.dropFirst()).map { ($0 + $1) / 2 }
            var start = 0
            var moved = 0.0
            for i in codebook.indices {
                let end = i < thresholds.count ? lowerBound(of: thresholds[i], in: sorted) : sorted.count
                if end > start {
                    let centroid = (prefix[end] - prefix[start]) / Double(end - start)
                    moved = max(moved, abs(centroid - codebook[i]))
                    codebook[i] = centroid
                }
                start = max(start, end)
            }
            if moved == 0 { break }
        }
        return strictlyIncreasing(codebook)
    }

    private static func cellBounds(_ codebook: [Double], limit: Double) -> [Double] {
        [-limit] + zip(codebook, codebook.dropFirst()).map { ($0 + $1) / 2 } + [limit]
    }

    private static func strictlyIncreasing(_ codebook: [Double]) -> [Double] {
        var result = [Double]()
        for level in codebook.sorted() where result.last.map({ level > $0 }) ?? true {
            result.append(level)
        }
        return result
    }
}
