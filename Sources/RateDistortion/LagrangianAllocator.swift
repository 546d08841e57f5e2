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
/// total rate falls as λ grows; the least λ that fits the budget is read
/// exactly off the slopes of the menus' convex hulls. Those solutions sit on
/// the convex hull; a greedy pass then spends what is left on the upgrades
/// with the best distortion saved per bit until none fits. The result never exceeds the budget, and
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
        func bits(_ picks: [Int]) -> Double {
            zip(weighted, picks).reduce(0) { $0 + $1.0[$1.1].bits }
        }
        // Each hull starts at its partition's cheapest choice.
        var picks = hulls.map { $0[0] }
        let minimum = bits(picks)
        guard minimum <= budget else { throw .budgetBelowMinimum(budget: budget, minimum: minimum) }

        // At slope λ a partition takes every step along its hull that saves more
        // than λ per bit, and a convex hull's steps save less and less. So the
        // least λ that fits the budget is found exactly by taking every hull's
        // steps, steepest first, until the next one does not fit: λ is its slope.
        var steps = [(partition: Int, choice: Int, bits: Double, slope: Double)]()
        for (p, hull) in hulls.enumerated() {
            for (from, to) in zip(hull, hull.dropFirst()) {
                let options = weighted[p]
                let added = options[to].bits - options[from].bits
                steps.append((p, to, added, (options[from].cost - options[to].cost) / added))
            }
        }
        // Sorted as integers, for speed: a positive Float's bits order like its value,
        // and the step's index below them keeps each hull's steps in order on a tie.
        var order = steps.indices.map { UInt64(Float(steps[$0].slope).bitPattern) << 32 | UInt64(UInt32.max - UInt32($0)) }
        order.sort()
        var spent = minimum
        var lambda = 0.0
        for key in order.reversed() {
            let step = steps[Int(UInt32.max - UInt32(truncatingIfNeeded: key))]
            guard spent + step.bits <= budget else { lambda = step.slope; break }
            spent += step.bits
            picks[step.partition] = step.choice
        }

        // Greedy fill: best distortion saved per bit among upgrades that still fit.
        // What is left only shrinks, so a partition's best upgrade changes only when
        // it moves or its best no longer fits: keep each one's, and renew those.
        var left = budget - spent
        func bestUpgrade(_ p: Int) -> (gain: Double, choice: Int)? {
            let options = weighted[p], current = options[picks[p]]
            var best: (gain: Double, choice: Int)?
            for (i, option) in options.enumerated()
            where option.bits > current.bits && option.cost < current.cost && option.bits - current.bits <= left {
                let gain = (current.cost - option.cost) / (option.bits - current.bits)
                if gain > (best?.gain ?? 0) { best = (gain, i) }
            }
            return best
        }
        var upgrades = weighted.indices.map(bestUpgrade)
        while true {
            var move: Int?
            for p in weighted.indices {
                if let upgrade = upgrades[p], weighted[p][upgrade.choice].bits - weighted[p][picks[p]].bits > left {
                    upgrades[p] = bestUpgrade(p)
                }
                if let upgrade = upgrades[p], upgrade.gain > (move.flatMap { upgrades[$0]?.gain } ?? 0) { move = p }
            }
            guard let p = move, let upgrade = upgrades[p] else { break }
            left -= weighted[p][upgrade.choice].bits - weighted[p][picks[p]].bits
            picks[p] = upgrade.choice
            upgrades[p] = bestUpgrade(p)
        }

        let distortion = zip(weighted, picks).reduce(0) { $0 + $1.0[$1.1].cost }
        return Allocation(choices: picks, bits: bits(picks), weightedDistortion: distortion, lambda: lambda)
    }

    /// Indices of the options on the lower convex hull of (bits, cost), by
    /// rising bits: Andrew's monotone chain over the points sorted by bits,
    /// keeping only points that lower the cost.
    static func lowerHull(_ options: [(bits: Double, cost: Double)]) -> [Int] {
        func before(_ i: Int, _ j: Int) -> Bool {
            options[i].bits != options[j].bits ? options[i].bits < options[j].bits : options[i].cost < options[j].cost
        }
        // Menus mostly come in order already: sort only when they do not.
        let inOrder = zip(options.indices, options.indices.dropFirst()).allSatisfy { before($0, $1) }
        let order = inOrder ? Array(options.indices) : options.indices.sorted(by: before)
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
