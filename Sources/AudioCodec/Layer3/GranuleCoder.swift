import RateDistortion

/// One granule of one channel, quantized and planned for the bitstream.
struct CodedGranule {
    /// Signed quantized lines, 576.
    var values: [Int32]
    /// Scalefactors of long bands 0…20.
    var scalefactors: [Int]
    var info: GranuleSideInfo
    var coding: HuffmanCoding
    /// Bits of the scalefactors as sent (scfsi may drop some in granule 1).
    var part2Bits: Int
}

/// Codes one granule with the rate-distortion core: each scalefactor band
/// offers a menu of quantizer steps (and "discard"), the core's Lagrangian
/// allocator picks one per band against the band's tolerance within the bit
/// budget (the outer, distortion loop), the choice becomes a global gain and
/// scalefactors, and a bisection on the global gain makes the exact Huffman
/// bits fit (the inner, rate loop).
enum GranuleCoder {
    /// Steps below a band's zeroing step that its menu offers at most (3 dB apart).
    static let menuDepth = 40

    static func code(lines: [Float], tolerance: [Double], edges: [Int], maxBits: Int) -> CodedGranule {
        precondition(lines.count == 576 && tolerance.count == edges.count - 1, "576 lines and one tolerance per band")
        let bandCount = edges.count - 1
        let magnitudes = lines.map { abs($0) }
        let companded = magnitudes.map { ($0 * $0.squareRoot()).squareRoot() }  // |x|^¾
        var scratch = [Int32](repeating: 0, count: 576)

        // Menus: per band, (step q or nil for discard) with estimated bits and exact error.
        var steps = [[Int?]]()
        var menus = [[OperatingChoice]]()
        companded.withUnsafeBufferPointer { c in
            magnitudes.withUnsafeBufferPointer { m in
                scratch.withUnsafeMutableBufferPointer { out in
                    for b in 0..<bandCount {
                        let range = edges[b]..<edges[b + 1]
                        let energy = range.reduce(0.0) { $0 + Double(m[$1]) * Double(m[$1]) }
                        var bandSteps: [Int?] = [nil]
                        var menu = [OperatingChoice(bits: 0, distortion: energy)]
                        let largest = range.reduce(Float(0)) { max($0, c[$1]) }
                        if largest > 0 {
                            let zeroing = PowerLawQuantizer.zeroingStep(largestCompanded: largest)
                            var inaudible = 0
                            for k in 1...menuDepth {
                                let q = zeroing - 2 * k
                                guard q >= 0, let result = PowerLawQuantizer.quantize(c, m, range, step: q, into: out)
                                else { break }
                                let bits = HuffmanCoder.estimatedBits(UnsafeBufferPointer(out), range)
                                bandSteps.append(q)
                                menu.append(OperatingChoice(bits: Double(bits), distortion: result.squaredError))
                                // Noise 90 dB under the tolerance is inaudible twice over: finer steps
                                // would only stretch the scalefactors past their reach. Three steps in
                                // a row, so that one lucky fit of a tone to the grid does not count.
                                inaudible = result.squaredError < tolerance[b] * Double(range.count) * 1e-9 ? inaudible + 1 : 0
                                if inaudible == 3 { break }
                            }
                        }
                        steps.append(bandSteps)
                        menus.append(menu)
                    }
                }
            }
        }

        // Scalefactors cost up to 11·4 + 10·3 bits; keep them out of the Huffman budget.
        let budget = Double(max(0, maxBits - 74))
        // Scalefactors reach 15 steps (bands 0…10) or 7 (11…20); sfb21 has none.
        let reach = (0..<bandCount).map { $0 < 11 ? 15 : ($0 < 21 ? 7 : 0) }
        // A band can only be as fine as the global gain less its largest scalefactor.
        // Allocate, derive the gain, and allocate again with the unreachable steps
        // taken off the menus, until every choice is reachable.
        var floors = [Int](repeating: Int.min, count: bandCount)
        var chosen = [Int?]()
        var coarsest = 0
        var scale = false
        for _ in 0..<4 {
            let offered = (0..<bandCount).map { b in steps[b].indices.filter { steps[b][$0].map { $0 >= floors[b] } ?? true } }
            let allocation = try! LagrangianAllocator.allocate(
                choices: (0..<bandCount).map { b in offered[b].map { menus[b][$0] } },
                tolerances: tolerance, budget: budget)
            chosen = (0..<bandCount).map { b in steps[b][offered[b][allocation.choices[b]]] }
            guard let gain = chosen.compactMap({ $0 }).max() else { break }
            coarsest = gain
            // Past the reach of 3 dB steps, use 6 dB steps.
            scale = (0..<21).contains { b in chosen[b].map { (gain - $0) / 2 > reach[b] } ?? false }
            let unit = scale ? 4 : 2
            let reachable = (0..<bandCount).map { gain - unit * reach[$0] }
            if (0..<bandCount).allSatisfy({ b in chosen[b].map { $0 >= reachable[b] } ?? true }) { break }
            floors = reachable
        }
        let discarded = chosen.map { $0 == nil }
        guard !chosen.allSatisfy({ $0 == nil }) else {
            return silent()
        }
        let scalefactors = amplification(chosen, gain: coarsest, unit: scale ? 4 : 2)
        let compress = scalefacCompress(for: scalefactors)
        let widths = ISO11172_3.scalefactorBitWidths[compress]
        let part2 = 11 * widths.low + 10 * widths.high

        // Rate loop: the smallest global gain whose exact bits fit.
        let unit = scale ? 4 : 2
        func attempt(_ gain: Int) -> (values: [Int32], coding: HuffmanCoding)? {
            var values = [Int32](repeating: 0, count: 576)
            let ok: Bool = companded.withUnsafeBufferPointer { c in
                magnitudes.withUnsafeBufferPointer { m in
                    values.withUnsafeMutableBufferPointer { out in
                        for b in 0..<bandCount where !discarded[b] {
                            let q = gain - unit * (b < 21 ? scalefactors[b] : 0)
                            guard q >= 0, PowerLawQuantizer.quantize(c, m, edges[b]..<edges[b + 1], step: q, into: out) != nil
                            else { return false }
                        }
                        return true
                    }
                }
            }
            guard ok else { return nil }
            let coding = values.withUnsafeBufferPointer { HuffmanCoder.plan($0, bandEdges: edges) }
            guard coding.bits + part2 <= maxBits else { return nil }
            for i in 0..<576 where lines[i] < 0 { values[i] = -values[i] }
            return (values, coding)
        }
        var low = 0, high = 255
        var best = attempt(high)
        if best == nil {
            // Even the coarsest gain overflows the budget: keep only the zeroing.
            return silent()
        }
        while low < high {
            let mid = (low + high) / 2
            if let fit = attempt(mid) { best = fit; high = mid } else { low = mid + 1 }
        }
        let result = best!
        var info = GranuleSideInfo()
        info.globalGain = high
        info.scalefacCompress = compress
        info.scalefacScale = scale
        info.bigValues = result.coding.bigValues
        info.tableSelect = result.coding.tableSelect
        info.region0Count = result.coding.region0Count
        info.region1Count = result.coding.region1Count
        info.count1TableB = result.coding.count1TableB
        info.part23Length = part2 + result.coding.bits
        return CodedGranule(values: result.values, scalefactors: scalefactors, info: info, coding: result.coding,
                            part2Bits: part2)
    }

    /// Scalefactors bringing each kept band from `gain` down to (at most) its
    /// chosen step, in steps of `unit`, within the field widths (4 bits for
    /// bands 0…10, 3 for 11…20).
    private static func amplification(_ chosen: [Int?], gain: Int, unit: Int) -> [Int] {
        (0..<21).map { b in
            guard let q = chosen[b] else { return 0 }
            let wanted = (gain - q + unit - 1) / unit
            return min(wanted, b < 11 ? 15 : 7)
        }
    }

    /// The scalefac_compress with the fewest bits that holds every scalefactor.
    static func scalefacCompress(for scalefactors: [Int]) -> Int {
        let lowMax = scalefactors[0..<11].max() ?? 0
        let highMax = scalefactors[11..<21].max() ?? 0
        let fits = ISO11172_3.scalefactorBitWidths.indices.filter {
            let w = ISO11172_3.scalefactorBitWidths[$0]
            return lowMax < 1 << w.low && highMax < 1 << w.high
        }
        return fits.min {
            let a = ISO11172_3.scalefactorBitWidths[$0], b = ISO11172_3.scalefactorBitWidths[$1]
            return 11 * a.low + 10 * a.high < 11 * b.low + 10 * b.high
        }!
    }

    private static func silent() -> CodedGranule {
        let coding = HuffmanCoding(bigValues: 0, count1: 0, tableSelect: [0, 0, 0], region0Count: 0,
                                   region1Count: 0, count1TableB: false, bits: 0)
        return CodedGranule(values: [Int32](repeating: 0, count: 576), scalefactors: [Int](repeating: 0, count: 21),
                            info: GranuleSideInfo(), coding: coding, part2Bits: 0)
    }
}
