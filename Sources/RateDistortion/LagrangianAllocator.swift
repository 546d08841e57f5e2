import RealModule

/// One way to code one partition: the bits it costs and the distortion it
/// leaves (sum of squared errors over the partition's coefficients).
public struct OperatingChoice: Sendable, Hashable, Codable {
    public var bits: Double
    public var distortion: Double

    public init(bits: Double, distortion: Double) {
        precondition(bits >= 0 && distortion >= 0, "bits and distortion are non-negative")
        self.bits = bits
        self.distortion = distortion
    }
}

public enum AllocationError: Error, Equatable, CustomStringConvertible {
    case budgetBelowMinimum(budget: Double, minimum: Double)
    case noChoices(partition: Int)

    public var description: String {
        switch self {
        case let .budgetBelowMinimum(budget, minimum):
            return "budget of \(formatFixed(budget, decimals: 1)) bits is below the \(formatFixed(minimum, decimals: 1)) bits the cheapest choices need"
        case let .noChoices(partition):
            return "partition \(partition) has no operating choices"
        }
    }
}

/// The outcome of an allocation: one choice per partition.
public struct Allocation: Sendable, Hashable {
    /// Index into each partition's choices.
    public var choices: [Int]
    public var bits: Double
    /// Σ distortion/tolerance over partitions.
    public var weightedDistortion: Double
    /// The Lagrange multiplier (distortion per bit) of the final solution.
    public var lambda: Double
}

/// Spends a bit budget across partitions to minimise Σ D_p / T_p.
///
/// Lagrangian relaxation (Shoham & Gersho, 1988): for a slope λ every
/// partition independently takes the choice minimising D/T + λ·R, and the
/// total rate falls as λ grows, so bisection on λ finds the cheapest slope
/// that fits the budget. Those solutions sit on the convex hull; a greedy
/// pass then spends what is left on the upgrades with the best distortion
/// saved per bit until none fits. The result never exceeds the budget, and
/// what it leaves unspent is smaller than every partition's next upgrade.
///
/// MP3's rate loop (one global gain) inside its distortion loop (per-band
/// scalefactors) and a GGUF block's scale search are both instances.
public enum LagrangianAllocator {
    /// - Parameters:
    ///   - choices: per partition, its operating choices in any order.
    ///   - tolerances: per partition; distortion is divided by it.
    ///   - budget: total bits allowed.
    public static func allocate(
        choices: [[OperatingChoice]], tolerances: [Double], budget: Double
    ) throws(AllocationError) -> Allocation {
        precondition(choices.count == tolerances.count, "one tolerance per partition")
        precondition(tolerances.allSatisfy { $0 > 0 }, "tolerances must be positive")
        if let empty = choices.firstIndex(where: \.isEmpty) { throw .noChoices(partition: empty) }

        let weighted = zip(choices, tolerances).map { options, tolerance in
            options.map { (bits: $0.bits, cost: $0.distortion / tolerance) }
        }
        // Only the lower convex hull of a menu can minimise D/T + λ·R: search those.
        let hulls = weighted.map(lowerHull)
        func pick(_ lambda: Double) -> [Int] {
            zip(weighted, hulls).map { options, hull in
                var best = hull[0]
                var bestValue = options[best].cost + lambda * options[best].bits
                for i in hull.dropFirst() {
                    let value = options[i].cost + lambda * options[i].bits
                    // Ties go to fewer bits, so a huge λ always yields the cheapest choices.
                    if value < bestValue || (value == bestValue && options[i].bits < options[best].bits) {
                        best = i
                        bestValue = value
                    }
                }
                return best
            }
        }
        func bits(_ picks: [Int]) -> Double {
            zip(weighted, picks).reduce(0) { $0 + $1.0[$1.1].bits }
        }

        let cheapest = weighted.map { options in options.indices.min { options[$0].bits < options[$1].bits }! }
        let minimum = bits(cheapest)
        guard minimum <= budget else { throw .budgetBelowMinimum(budget: budget, minimum: minimum) }

        // Bisection on log₂ λ: the bigger λ, the fewer bits.
        var low = -80.0
        var high = 80.0
        var picks = pick(0)
        var lambda = 0.0
        if bits(picks) > budget {
            picks = cheapest
            lambda = .infinity
            for _ in 0..<100 where high - low > 1e-9 {
                let mid = (low + high) / 2
                let candidate = pick(Double.exp2(mid))
                if bits(candidate) <= budget {
                    high = mid
                    picks = candidate
                    lambda = Double.exp2(mid)
                } else {
                    low = mid
                }
            }
        }

        // Greedy fill: best distortion saved per bit among upgrades that still fit.
        var spent = bits(picks)
        while true {
            var bestGain = 0.0
            var bestMove: (partition: Int, choice: Int)?
            for (p, options) in weighted.enumerated() {
                let current = options[picks[p]]
                for (i, option) in options.enumerated()
                where option.bits > current.bits && option.cost < current.cost
                    && spent - current.bits + option.bits <= budget {
                    let gain = (current.cost - option.cost) / (option.bits - current.bits)
                    if gain > bestGain { bestGain = gain; bestMove = (p, i) }
                }
            }
            guard let move = bestMove else { break }
            spent += weighted[move.partition][move.choice].bits - weighted[move.partition][picks[move.partition]].bits
            picks[move.partition] = move.choice
        }

        let distortion = zip(weighted, picks).reduce(0) { $0 + $1.0[$1.1].cost }
        return Allocation(choices: picks, bits: bits(picks), weightedDistortion: distortion, lambda: lambda)
    }

    /// Indices of the options on the lower convex hull of (bits, cost), by
    /// rising bits: Andrew's monotone chain over the points sorted by bits,
    /// keeping only points that lower the cost.
    static func lowerHull(_ options: [(bits: Double, cost: Double)]) -> [Int] {
        let order = options.indices.sorted {
            options[$0].bits != options[$1].bits ? options[$0].bits < options[$1].bits : options[$0].cost < options[$1].cost
        }
        var hull = [Int]()
        for i in order {
            // A point costing more bits but no less distortion is never chosen.
            if let last = hull.last, options[i].cost >= options[last].cost { continue }
            while hull.count >= 2 {
                let a = options[hull[hull.count - 2]], b = options[hull[hull.count - 1]], c = options[i]
                // Drop b when it lies on or above the segment from a to c.
                let cross = (b.bits - a.bits) * (c.cost - a.cost) - (b.cost - a.cost) * (c.bits - a.bits)
                if cross <= 0 { hull.removeLast() } else { break }
            }
            hull.append(i)
        }
        return hull
    }
}
