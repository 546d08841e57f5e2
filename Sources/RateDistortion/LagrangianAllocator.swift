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
/// with the best distortion saved per bit until none fits. The result never
/// exceeds the budget, and what it leaves unspent is smaller than every
/// partition's next upgrade.
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
        // A closure, not the key path \.isEmpty: applying a key path costs hundreds of instructions a call.
        if let empty = choices.firstIndex(where: { $0.isEmpty }) { throw .noChoices(partition: empty) }

        // Every partition's options, weighted, in one run: partition p's at start[p]..<start[p + 1].
        // Built, then bound to constants: the nested functions below read them, and
        // captured variables would be checked for exclusive access on every read.
        var runStart = [Int](repeating: 0, count: choices.count + 1)
        for (p, options) in choices.enumerated() { runStart[p + 1] = runStart[p] + options.count }
        let optionCount = runStart[choices.count]
        var runBits = [Double](repeating: 0, count: optionCount), runCosts = [Double](repeating: 0, count: optionCount)
        for (p, (options, tolerance)) in zip(choices, tolerances).enumerated() {
            for (k, option) in options.enumerated() {
                runBits[runStart[p] + k] = option.bits
                runCosts[runStart[p] + k] = option.distortion / tolerance
            }
        }
        let start = runStart, bitsOf = runBits, costOf = runCosts
        let partitions = choices.indices
        // Only the lower convex hull of a menu can minimise D/T + λ·R: search those.
        var hulls = [Int](repeating: 0, count: optionCount), hullStarts = [Int](repeating: 0, count: choices.count + 1)
        var order = [Int](repeating: 0, count: choices.reduce(0) { max($0, $1.count) })
        bitsOf.withUnsafeBufferPointer { bits in
            costOf.withUnsafeBufferPointer { costs in
                order.withUnsafeMutableBufferPointer { order in
                    hulls.withUnsafeMutableBufferPointer { hull in
                        for p in partitions {
                            hullStarts[p + 1] = appendLowerHull(bits: bits, costs: costs, of: start[p]..<start[p + 1],
                                                                order: order, to: hull, at: hullStarts[p])
                        }
                    }
                }
            }
        }
        let hull = hulls, hullStart = hullStarts
        // Picks are indices into the run; each hull starts at its partition's cheapest choice.
        var picks = partitions.map { hull[hullStart[$0]] }
        let minimum = picks.reduce(0) { $0 + bitsOf[$1] }
        guard minimum <= budget else { throw .budgetBelowMinimum(budget: budget, minimum: minimum) }

        // At slope λ a partition takes every step along its hull that saves more
        // than λ per bit, and a convex hull's steps save less and less. So the
        // least λ that fits the budget is found exactly by taking every hull's
        // steps, steepest first, until the next one does not fit: λ is its slope.
        // Each hull's steps come steepest first already, so the hulls' steps are
        // merged, not sorted: a max-heap holds each partition's next step. A step
        // is the hull point it leads to, keyed as an integer, for speed: a positive
        // Float's bits order like its value, and the step's place in the hulls,
        // below them, keeps the steps in hull order on a tie.
        func slope(_ k: Int) -> Double {
            let from = hull[k - 1], to = hull[k]
            return (costOf[from] - costOf[to]) / (bitsOf[to] - bitsOf[from])
        }
        func key(_ k: Int) -> UInt64 { UInt64(Float(slope(k)).bitPattern) << 32 | UInt64(UInt32.max - UInt32(k)) }
        var heap = StepHeap(capacity: choices.count)
        for p in partitions where hullStart[p + 1] - hullStart[p] > 1 { heap.insert(key(hullStart[p] + 1), p) }
        var spent = minimum
        var lambda = 0.0
        while let top = heap.first {
            let p = top.partition, k = Int(UInt32.max - UInt32(truncatingIfNeeded: top.key)), to = hull[k]
            let added = bitsOf[to] - bitsOf[picks[p]]
            guard spent + added <= budget else { lambda = slope(k); break }
            spent += added
            picks[p] = to
            heap.replaceFirst(k + 1 < hullStart[p + 1] ? (key(k + 1), p) : nil)
        }

        // Greedy fill: best distortion saved per bit among upgrades that still fit.
        // What is left only shrinks, so a partition's best upgrade changes only when
        // it moves or its best no longer fits: keep each one's, and renew those.
        var left = budget - spent
        func bestUpgrade(from current: Int, in p: Int, within room: Double) -> (gain: Double, choice: Int)? {
            var best: (gain: Double, choice: Int)?
            for i in start[p]..<start[p + 1]
            where bitsOf[i] > bitsOf[current] && costOf[i] < costOf[current] && bitsOf[i] - bitsOf[current] <= room {
                let gain = (costOf[current] - costOf[i]) / (bitsOf[i] - bitsOf[current])
                if gain > (best?.gain ?? 0) { best = (gain, i) }
            }
            return best
        }
        var upgrades = partitions.map { bestUpgrade(from: picks[$0], in: $0, within: left) }
        while true {
            var move: Int?, moveGain = 0.0
            for p in partitions {
                if let upgrade = upgrades[p], bitsOf[upgrade.choice] - bitsOf[picks[p]] > left {
                    upgrades[p] = bestUpgrade(from: picks[p], in: p, within: left)
                }
                if let upgrade = upgrades[p], upgrade.gain > moveGain { move = p; moveGain = upgrade.gain }
            }
            guard let p = move, let upgrade = upgrades[p] else { break }
            left -= bitsOf[upgrade.choice] - bitsOf[picks[p]]
            picks[p] = upgrade.choice
            upgrades[p] = bestUpgrade(from: picks[p], in: p, within: left)
        }

        return Allocation(choices: partitions.map { picks[$0] - start[$0] },
                          bits: picks.reduce(0) { $0 + bitsOf[$1] },
                          weightedDistortion: picks.reduce(0) { $0 + costOf[$1] }, lambda: lambda)
    }

    /// Writes to `hull`, from `count` on, the indices of the options in `range`
    /// on the lower convex hull of (bits, cost), by rising bits: Andrew's
    /// monotone chain over the points sorted by bits, keeping only points that
    /// lower the cost; returns the count after them. `order` is scratch for
    /// the range's indices, sorted by insertion: menus mostly come in order
    /// already, and then that is one comparison each.
    static func appendLowerHull(bits: UnsafeBufferPointer<Double>, costs: UnsafeBufferPointer<Double>, of range: Range<Int>,
                                order: UnsafeMutableBufferPointer<Int>, to hull: UnsafeMutableBufferPointer<Int>, at count: Int) -> Int {
        func before(_ i: Int, _ j: Int) -> Bool {
            bits[i] != bits[j] ? bits[i] < bits[j] : costs[i] < costs[j]
        }
        var sorted = 0
        for i in range {
            var j = sorted
            while j > 0 && before(i, order[j - 1]) {
                order[j] = order[j - 1]
                j -= 1
            }
            order[j] = i
            sorted += 1
        }
        var top = count
        for i in order[0..<sorted] {
            // A point costing more bits but no less distortion is never chosen.
            if top > count, costs[i] >= costs[hull[top - 1]] { continue }
            while top - count >= 2 {
                let a = hull[top - 2], b = hull[top - 1]
                // Drop b when it lies on or above the segment from a to i.
                let cross = (bits[b] - bits[a]) * (costs[i] - costs[a]) - (costs[b] - costs[a]) * (bits[i] - bits[a])
                if cross <= 0 { top -= 1 } else { break }
            }
            hull[top] = i
            top += 1
        }
        return top
    }
}

/// A max-heap of each partition's next hull step, by key.
private struct StepHeap {
    typealias Entry = (key: UInt64, partition: Int)
    private var entries: [Entry] = []

    init(capacity: Int) { entries.reserveCapacity(capacity) }

    var first: Entry? { entries.first }

    mutating func insert(_ key: UInt64, _ partition: Int) {
        entries.append((key, partition))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[parent].key < entries[child].key else { return }
            entries.swapAt(parent, child)
            child = parent
        }
    }

    /// Replaces the largest entry with `entry`, or removes it when nil.
    mutating func replaceFirst(_ entry: Entry?) {
        if let entry { entries[0] = entry } else { entries[0] = entries[entries.count - 1]; entries.removeLast() }
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < entries.count && entries[left].key > entries[largest].key { largest = left }
            if right < entries.count && entries[right].key > entries[largest].key { largest = right }
            if largest == parent { return }
            entries.swapAt(parent, largest)
            parent = largest
        }
    }
}
