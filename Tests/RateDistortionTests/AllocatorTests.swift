import RealModule
import Testing
@testable import RateDistortion

struct AllocatorTests {
    /// Menus of arbitrary shape (convex or not) with random bit costs.
    private func randomMenus(seed: UInt64, partitions: Int) -> [[OperatingChoice]] {
        var generator = SeededGenerator(seed: seed)
        return (0..<partitions).map { _ in
            let count = 1 + Int(generator.next() % 12)
            return (0..<count).map { _ in
                OperatingChoice(bits: Double(generator.next() % 400), distortion: generator.nextUnitInterval() * 100)
            }
        }
    }

    @Test(arguments: 0..<25)
    func meetsTheBudgetWithoutExceedingIt(seed: Int) throws {
        var generator = SeededGenerator(seed: UInt64(1000 + seed))
        let menus = randomMenus(seed: UInt64(seed), partitions: 1 + seed % 9)
        let tolerances = menus.map { _ in 0.1 + 10 * generator.nextUnitInterval() }
        let minimum = menus.reduce(0) { $0 + $1.map(\.bits).min()! }
        let maximum = menus.reduce(0) { $0 + $1.map(\.bits).max()! }
        let budget = minimum + (maximum - minimum) * generator.nextUnitInterval()

        let allocation = try LagrangianAllocator.allocate(choices: menus, tolerances: tolerances, budget: budget)
        #expect(allocation.bits <= budget)
        // What is left is smaller than every partition's next upgrade.
        let left = budget - allocation.bits
        for (p, menu) in menus.enumerated() {
            let current = menu[allocation.choices[p]]
            let upgrades = menu.filter {
                $0.bits > current.bits && $0.distortion / tolerances[p] < current.distortion / tolerances[p]
            }
            if let smallest = upgrades.map({ $0.bits - current.bits }).min() {
                #expect(left < smallest, "partition \(p) could still take an upgrade of \(smallest) bits")
            }
        }
    }

    /// λ is exact: the Lagrangian choices (each partition minimising D/T + λ·R,
    /// fewer bits on a tie) fit the budget at any slope above it and not below it.
    @Test(arguments: 0..<25)
    func lambdaIsTheLeastSlopeThatFits(seed: Int) throws {
        var generator = SeededGenerator(seed: UInt64(2000 + seed))
        let menus = randomMenus(seed: UInt64(500 + seed), partitions: 2 + seed % 8)
        let tolerances = menus.map { _ in 0.1 + 10 * generator.nextUnitInterval() }
        let minimum = menus.reduce(0) { $0 + $1.map(\.bits).min()! }
        let maximum = menus.reduce(0) { $0 + $1.map(\.bits).max()! }
        let budget = minimum + (maximum - minimum) * generator.nextUnitInterval()
        func lagrangianBits(_ lambda: Double) -> Double {
            zip(menus, tolerances).reduce(0) { total, partition in
                let (menu, tolerance) = partition
                let best = menu.min {
                    let a = $0.distortion / tolerance + lambda * $0.bits, b = $1.distortion / tolerance + lambda * $1.bits
                    return a != b ? a < b : $0.bits < $1.bits
                }!
                return total + best.bits
            }
        }
        let allocation = try LagrangianAllocator.allocate(choices: menus, tolerances: tolerances, budget: budget)
        if allocation.lambda == 0 {
            #expect(lagrangianBits(0) <= budget)
        } else {
            #expect(lagrangianBits(allocation.lambda * (1 + 1e-6)) <= budget)
            #expect(lagrangianBits(allocation.lambda * (1 - 1e-6)) > budget)
        }
    }

    /// With convex menus of unit bit steps, the result is the exact optimum,
    /// found here by brute force.
    @Test(arguments: [0.0, 3, 7, 12, 18, 24])
    func matchesBruteForceOnConvexMenus(budget: Double) throws {
        let variances = [5.0, 1.7, 0.6, 0.05]
        let menus = variances.map { v in
            (0...6).map { b in OperatingChoice(bits: Double(b), distortion: v * Double.exp2(-2 * Double(b))) }
        }
        let allocation = try LagrangianAllocator.allocate(
            choices: menus, tolerances: [1, 1, 1, 1], budget: budget)
        var best = Double.infinity
        for a in 0...6 { for b in 0...6 { for c in 0...6 { for d in 0...6 where a + b + c + d <= Int(budget) {
            best = min(best, menus[0][a].distortion + menus[1][b].distortion + menus[2][c].distortion + menus[3][d].distortion)
        } } } }
        #expect(abs(allocation.weightedDistortion - best) < 1e-12)
        #expect(allocation.bits == min(budget, 24))
    }

    @Test func largerToleranceGetsFewerBits() throws {
        // Same variance; tolerance 4× larger is worth exactly one bit less (D ∝ 2^(−2b)).
        let menu = (0...10).map { b in OperatingChoice(bits: Double(b), distortion: Double.exp2(-2 * Double(b))) }
        let allocation = try LagrangianAllocator.allocate(choices: [menu, menu], tolerances: [1, 4], budget: 9)
        #expect(allocation.choices == [5, 4])
    }

    @Test func budgetBelowTheCheapestChoicesIsAnError() {
        let menus = [[OperatingChoice(bits: 8, distortion: 1)], [OperatingChoice(bits: 4, distortion: 1)]]
        #expect(throws: AllocationError.budgetBelowMinimum(budget: 10, minimum: 12)) {
            try LagrangianAllocator.allocate(choices: menus, tolerances: [1, 1], budget: 10)
        }
        #expect(throws: AllocationError.noChoices(partition: 1)) {
            try LagrangianAllocator.allocate(choices: [menus[0], []], tolerances: [1, 1], budget: 10)
        }
        #expect("\(AllocationError.budgetBelowMinimum(budget: 10, minimum: 12))"
            == "budget of 10.0 bits is below the 12.0 bits the cheapest choices need")
    }
}
