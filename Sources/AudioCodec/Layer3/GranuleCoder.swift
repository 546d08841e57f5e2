import RateDistortion

/// One granule of one channel, quantized and planned for the bitstream.
struct CodedGranule {
    /// Signed quantized lines, 576, in bitstream order.
    var values: [Int32]
    /// One per scalefactor slot of the layout.
    var scalefactors: [Int]
    var info: GranuleSideInfo
    var coding: HuffmanCoding
    /// Bits of the scalefactors as sent (scfsi may drop some in granule 1).
    var part2Bits: Int
    /// Per band: the squared error left (the band's energy where it was discarded).
    var bandNoise: [Double]
    /// Per band: Huffman bits of its values, as estimated band by band (0 where discarded).
    var bandBits: [Int]
}

/// What one channel brings to a granule: its lines in bitstream order, the
/// noise power per line each band tolerates, and the layout of its block type.
struct GranuleInput {
    var lines: [Float]
    var tolerance: [Double]
    var layout: GranuleLayout
}

/// Codes one granule of every channel with the rate-distortion core: each
/// scalefactor band offers a menu of quantizer steps (and "discard"), and the
/// core's Lagrangian allocator picks one per band of every channel against
/// the band's masking threshold within the granule's bit budget (the outer,
/// distortion loop); each channel's choice becomes a global gain, subblock
/// gains and scalefactors, and a bisection on the global gain makes the exact
/// Huffman bits fit (the inner, rate loop).
enum GranuleCoder {
    /// Steps below a band's zeroing step that its menu offers at most (3 dB apart).
    static let menuDepth = 40

    /// What discarding a band counts as, in noise, per unit of its energy.
    /// A band zeroed is a hole in the spectrum, heard as a change of timbre
    /// (and, where it comes and goes granule to granule, as "birdies"), not
    /// as the noise of that energy spread under the signal: so the allocator
    /// and the margin weigh a hole at 4 times (6 dB over) its energy. On the
    /// 21 quality clips at 128 kbit/s (ViSQOL, scripts/quality) this took the
    /// harpsichord from 4.623 to 4.681 and the dense mix from 4.37 to 4.57,
    /// and cost no clip more than 0.01; weighing only the part of a band
    /// above its tolerance (4× at most) lost the harpsichord's gain again
    /// (4.626) (notebooks-md/mp3-quality-vs-lame.md).
    static let discardWeight = 4.0

    /// A channel's menus: per band, the steps offered (nil: discard) and what each costs.
    struct Menus {
        var steps: [[Int?]]
        var choices: [[OperatingChoice]]
        var magnitudes: [Float]
        var companded: [Float]
        /// Per band, its largest companded magnitude.
        var largest: [Float]
    }

    /// How a channel's chosen steps are reached: the global gain of the
    /// coarsest band, subblock gains, and scalefactors.
    private struct Realization {
        var gain: Int
        var scale: Bool
        /// Bands 11–20 are refined by pretab on top of their scalefactors.
        var preflag: Bool
        var subblockGain: [Int]
        var scalefactors: [Int]
        /// Per band: the finest step the realization can reach.
        var floors: [Int]
        var reachable: Bool
    }

    /// With `noiseRatio`, no allocation: every band takes the coarsest step
    /// on its menu whose noise stays within that ratio of its tolerance (or
    /// its finest reachable step), and each channel is coded at the gains that
    /// reach them, however many bits that takes (up to `maxBits`). What a
    /// variable-bitrate frame is coded to before its bitrate is chosen.
    static func code(_ inputs: [GranuleInput], menus given: [Menus]? = nil, maxBits: Int,
                     noiseRatio: Double? = nil) -> [CodedGranule] {
        let menus = given ?? inputs.map { Self.menus(for: $0) }
        // Scalefactors cost at most 11·4 + 10·3 bits (long) or 18·4 + 18·3 (short).
        let part2Reserve = inputs.reduce(0) { $0 + $1.layout.scalefactorBits((4, 3)) }
        // No channel may exceed part2_3_length's 4095 bits: plan within that too.
        let reachable = min(maxBits, inputs.count * ISO11172_3.maxPart23Bits)
        let budget = Double(max(0, reachable - part2Reserve))
        // A band can only be as fine as its window's base less its largest scalefactor.
        // Allocate, realize, and allocate again with the unreachable steps taken off
        // the menus, until every choice is reachable.
        var floors = inputs.map { [Int](repeating: Int.min, count: $0.layout.bands.count) }
        var ceilings: [Int?]?
        // Meeting a noise ratio, a long block's global gain may be no coarser than
        // any band's step plus its scalefactor's reach (in 6 dB steps): the loud
        // bands take finer steps so that the quiet ones reach theirs.
        var gainCaps: [Int?]?
        var chosen = [[Int?]]()
        var realizations = [Realization?]()
        var estimates = [Double]()
        for _ in 0..<5 {
            // Per band, the indices into its menu still offered (nil: all of them).
            var offered = [[Int]?](), flatChoices = [[OperatingChoice]](), flatTolerances = [Double]()
            for c in inputs.indices {
                let menu = menus[c], floor = floors[c], ceiling = ceilings?[c], cap = gainCaps?[c] ?? .max
                for b in inputs[c].layout.bands.indices {
                    let topBand = inputs[c].layout.bands[b].slot == nil
                    func allowed(_ step: Int?) -> Bool {
                        guard let q = step else { return true }
                        guard q <= cap else { return false }
                        guard let ceiling else { return q >= floor[b] }
                        // Under a ceiling, the band without a scalefactor sets the global gain.
                        return q >= floor[b] && (topBand ? q >= ceiling : q <= ceiling)
                    }
                    if menu.steps[b].allSatisfy(allowed) {
                        offered.append(nil)
                        flatChoices.append(menu.choices[b])
                    } else {
                        let indices = menu.steps[b].indices.filter { allowed(menu.steps[b][$0]) }
                        offered.append(indices)
                        flatChoices.append(indices.map { menu.choices[b][$0] })
                    }
                    flatTolerances.append(inputs[c].tolerance[b])
                }
            }
            let picks: [Int]
            // Meeting a noise ratio r, a 3 dB finer step halves a band's r·width of
            // noise-to-tolerance for about half a bit per line: a slope of r.
            var lambda = noiseRatio ?? 0
            if let noiseRatio {
                picks = zip(flatChoices, zip(flatTolerances, inputs.flatMap { $0.layout.bands })).map { choices, band in
                    let allowed = noiseRatio * band.0 * Double(band.1.lines.count)
                    return choices.indices.first { choices[$0].distortion <= allowed } ?? choices.count - 1
                }
            } else {
                let allocation = try! LagrangianAllocator.allocate(choices: flatChoices, tolerances: flatTolerances, budget: budget)
                picks = allocation.choices
                lambda = allocation.lambda
            }
            var next = 0
            chosen = []
            estimates = []
            for c in inputs.indices {
                var bandSteps = [Int?](), bits = 0.0
                for b in inputs[c].layout.bands.indices {
                    let index = offered[next].map { $0[picks[next]] } ?? picks[next]
                    bandSteps.append(menus[c].steps[b][index])
                    bits += menus[c].choices[b][index].bits
                    next += 1
                }
                chosen.append(bandSteps)
                estimates.append(bits)
            }
            realizations = zip(chosen, inputs).map { realize($0, layout: $1.layout) }
            if ceilings == nil {
                ceilings = zip(inputs, menus).map { topBandCeiling($0, $1, lambda: lambda) }
                if ceilings!.contains(where: { $0 != nil }) { continue }
            }
            if noiseRatio != nil && gainCaps == nil {
                gainCaps = inputs.indices.map { c in
                    let input = inputs[c], steps = chosen[c]
                    guard !input.layout.short else { return nil }
                    let coarse = input.layout.bands.indices.compactMap { b in
                        steps[b].flatMap { q in input.layout.bands[b].slot.map { q + 4 * input.layout.reach($0) } }
                    }.min()
                    return gainCap(steps, input, menus[c], coarse: coarse)
                }
                if zip(gainCaps!, chosen).contains(where: { cap, steps in
                    cap.map { cap in steps.contains { ($0 ?? .min) > cap } } ?? false
                }) { continue }
            }
            if realizations.allSatisfy({ $0?.reachable ?? true }) { break }
            floors = zip(realizations, floors).map { $0?.floors ?? $1 }
        }

        var remaining = maxBits
        var coded = [CodedGranule]()
        for c in inputs.indices {
            guard let realization = realizations[c] else {
                coded.append(silent(inputs[c], magnitudes: menus[c].magnitudes))
                continue
            }
            let layout = inputs[c].layout
            let compress = scalefacCompress(for: realization.scalefactors, layout: layout)
            let part2 = layout.scalefactorBits(ISO11172_3.scalefactorBitWidths[compress])
            // Later channels keep what the allocator meant for them; this one may use the rest.
            let reserved = inputs.indices.dropFirst(c + 1).reduce(0) { total, later in
                total + Int(estimates[later]) + (realizations[later] == nil ? 0 : inputs[later].layout.scalefactorBits((4, 3)))
            }
            let channelBudget = min(ISO11172_3.maxPart23Bits, max(0, remaining - reserved))
            let result = fit(inputs[c].lines, menus[c], chosen[c], realization, layout: layout, part2: part2,
                             maxBits: channelBudget, finer: noiseRatio == nil)
            guard let (gain, values, coding, bandNoise) = result else {
                coded.append(silent(inputs[c], magnitudes: menus[c].magnitudes))
                continue
            }
            var info = GranuleSideInfo()
            info.globalGain = gain
            info.scalefacCompress = compress
            info.scalefacScale = realization.scale
            info.preflag = realization.preflag
            info.windowSwitching = layout.blockType != 0
            info.blockType = layout.blockType
            info.subblockGain = realization.subblockGain
            info.bigValues = coding.bigValues
            info.tableSelect = coding.tableSelect
            info.region0Count = coding.region0Count
            info.region1Count = coding.region1Count
            info.count1TableB = coding.count1TableB
            info.part23Length = part2 + coding.bits
            remaining -= info.part23Length
            let bandBits = values.map { Int32(abs($0)) }.withUnsafeBufferPointer { magnitudes in
                layout.bands.map { HuffmanCoder.estimatedBits(magnitudes, $0.lines) }
            }
            coded.append(CodedGranule(values: values, scalefactors: realization.scalefactors, info: info,
                                      coding: coding, part2Bits: part2, bandNoise: bandNoise, bandBits: bandBits))
        }
        return coded
    }

    /// The cap on a long block's global gain that codes `steps` in the fewest
    /// bits (by the menus' estimates) with every band's noise within its
    /// target. When some band's step lies beyond the reach of 3 dB scalefactor
    /// steps, 6 dB ones code each band an odd number of 3 dB steps under the
    /// gain 3 dB finer than it needs; that waste depends on the gain's parity,
    /// so a gain one step finer is tried too. The other way keeps 3 dB steps
    /// (with preflag's reach in the treble where it holds) and takes the loud
    /// bands down until the quietest is in reach. `coarse` is the cap that 6 dB
    /// steps' own reach needs. (At VBR 2 the piano went to 6 dB steps in 764 of
    /// 772 granules, LAME in none.)
    private static func gainCap(_ steps: [Int?], _ input: GranuleInput, _ menu: Menus, coarse: Int?) -> Int? {
        let layout = input.layout
        guard let gain = steps.compactMap({ $0 }).max() else { return coarse }
        let slotted = layout.bands.indices.filter { steps[$0] != nil && layout.bands[$0].slot != nil }
        func reachCap(preflag: Bool) -> Int {
            slotted.map { b in
                let slot = layout.bands[b].slot
                return steps[b]! + 2 * (layout.reach(slot!) + pretab(slot, preflag: preflag))
            }.min() ?? gain
        }
        // Preflag holds if every coded band it lifts stays that far under the capped gain.
        let lifted = reachCap(preflag: true)
        let fineCap = preflagFits(steps, layout, unit: 2) { _ in lifted } ? lifted : reachCap(preflag: false)
        guard gain > fineCap else { return coarse }
        // Bits over the chosen steps with every step capped at `cap`, on a grid of `unit`.
        func cost(cap: Int, unit: Int) -> Double? {
            var total = 0.0
            for b in layout.bands.indices {
                guard let q = steps[b], let chosen = menu.steps[b].firstIndex(of: q) else { continue }
                let onGrid = { (step: Int) in step <= min(q, cap) && (layout.bands[b].slot == nil || (cap - step) % unit == 0) }
                guard let index = menu.steps[b].firstIndex(where: { $0.map(onGrid) ?? false }) else { return nil }
                total += menu.choices[b][index].bits - menu.choices[b][chosen].bits
            }
            return total
        }
        let start = min(gain, coarse ?? .max)
        let candidates = [(fineCap, 2), (start, 4), (start - 2, 4)].compactMap { cap, unit in
            cost(cap: cap, unit: unit).map { (cap, $0) }
        }
        guard let best = candidates.min(by: { $0.1 < $1.1 }) else { return coarse }
        return best.0 == gain ? coarse : best.0
    }

    /// The last long band (scalefactor band 21, above 16 kHz at 44.1 kHz) has
    /// no scalefactor: its step is the global gain, which every other band can
    /// only refine. Left to itself it gets the step the loudest band wants,
    /// which zeroes the quiet top octave. Lowering the global gain to a finer
    /// step for it makes every band at least that fine, so weigh, at the
    /// allocation's slope λ, what it gains against the bits the others then
    /// spend; the best ceiling on every band's step, or nil to leave it be.
    private static func topBandCeiling(_ input: GranuleInput, _ menu: Menus, lambda: Double) -> Int? {
        guard !input.layout.short, let top = input.layout.bands.firstIndex(where: { $0.slot == nil }) else { return nil }
        func cost(_ b: Int, _ i: Int) -> Double {
            menu.choices[b][i].distortion / input.tolerance[b] + lambda * menu.choices[b][i].bits
        }
        // A menu's steps fall from the zeroing step down, so the steps under a ceiling
        // are a suffix of it: per band but the top, the cheapest choice of every suffix,
        // once, all bands' in one run (band k's from start[k], with ∞ past its last).
        let others = input.layout.bands.indices.filter { $0 != top }
        let start = others.reduce(into: [0]) { $0.append($0.last! + menu.steps[$1].count + 1) }
        var steps = [Int](repeating: .min, count: start.last!), suffixBest = [Double](repeating: .infinity, count: start.last!)
        let discard = others.map { cost($0, 0) }
        for (k, b) in others.enumerated() {
            for (i, step) in menu.steps[b].enumerated().dropFirst() { steps[start[k] + i] = step! }
            for i in menu.steps[b].indices.dropFirst().reversed() {
                suffixBest[start[k] + i] = min(suffixBest[start[k] + i + 1], cost(b, i))
            }
        }
        // Per band, the first step at or under the ceiling. The ceilings tried fall,
        // so each band's first step only moves on down its menu (to ∞ past its last).
        var first = start.map { $0 + 1 }
        var best: (ceiling: Int?, cost: Double) = (nil, 0)
        for i in menu.steps[top].indices {
            let ceiling = menu.steps[top][i]
            var total = 0.0
            for k in others.indices {
                if let ceiling {
                    while steps[first[k]] > ceiling { first[k] += 1 }
                }
                total += min(discard[k], suffixBest[first[k]])
            }
            total += cost(top, i)
            if i == 0 || total < best.cost { best = (ceiling, total) }
        }
        return best.ceiling
    }

    /// How far under a band's tolerance its menu goes, as a power ratio: noise that far
    /// under is inaudible with room to spare, and finer steps would spend bits
    /// no listener gets anything for (and stretch the scalefactors past their
    /// reach). At constant bitrate a quiet frame's spare bits go to ever finer
    /// steps, so its menus go deep (at 90 dB they were nearly twice as deep as at
    /// 40, and the seven quality clips scored the same at 128 kbit/s; at 20 dB
    /// the castanets scored 4.7154 instead of 4.7156). A variable frame is coded
    /// to its margin: at 20 dB VBR 2 coded the seven clips the same byte for byte,
    /// the fourteen held-out ones scored the same (median 4.719), and the menus
    /// cost 40 % less (notebooks-md/mp3-quality-vs-lame.md).
    enum MenuDepth {
        /// 40 dB.
        static let constant = 1e-4
        /// 20 dB.
        static let variable = 1e-2
    }

    /// Per band, steps from the zeroing step down (3 dB apart) with their
    /// estimated bits and exact error; none whose error exceeds the band's
    /// energy, and none past three in a row under `depth` times its tolerance.
    static func menus(for input: GranuleInput, depth: Double = MenuDepth.constant) -> Menus {
        let magnitudes = input.lines.map { abs($0) }
        let companded = magnitudes.map { ($0 * $0.squareRoot()).squareRoot() }  // |x|^¾
        var steps = [[Int?]](), choices = [[OperatingChoice]](), largestPerBand = [Float]()
        let tables = PowerLawQuantizer.Tables.shared
        companded.withUnsafeBufferPointer { c in
            magnitudes.withUnsafeBufferPointer { m in
                for (b, band) in input.layout.bands.enumerated() {
                    let range = band.lines
                    let energy = range.reduce(0.0) { $0 + Double(m[$1]) * Double(m[$1]) }
                    var bandSteps: [Int?] = [nil]
                    var menu = [OperatingChoice(bits: 0, distortion: discardWeight * energy)]
                    bandSteps.reserveCapacity(menuDepth + 1)
                    menu.reserveCapacity(menuDepth + 1)
                    let largest = range.reduce(Float(0)) { max($0, c[$1]) }
                    largestPerBand.append(largest)
                    if largest > 0 {
                        let zeroing = PowerLawQuantizer.zeroingStep(largestCompanded: largest)
                        var inaudible = 0
                        for k in 1...menuDepth {
                            let q = zeroing - 2 * k
                            guard q >= 0, let result = PowerLawQuantizer.errorAndBits(c, m, range, largest: largest, step: q, tables)
                            else { break }
                            // A step whose noise outweighs the band itself is no way to keep it.
                            guard result.squaredError < energy else { continue }
                            bandSteps.append(q)
                            menu.append(OperatingChoice(bits: Double(result.bits), distortion: result.squaredError))
                            // Three steps in a row, so that one lucky fit of a tone to the grid does not count.
                            let inaudibleError = input.tolerance[b] * Double(range.count) * depth
                            inaudible = result.squaredError < inaudibleError ? inaudible + 1 : 0
                            if inaudible == 3 { break }
                        }
                    }
                    steps.append(bandSteps)
                    choices.append(menu)
                }
            }
        }
        return Menus(steps: steps, choices: choices, magnitudes: magnitudes, companded: companded, largest: largestPerBand)
    }

    /// Preflag (long windows) adds the standard's pretab to the scalefactors of
    /// bands 11–20, where quiet treble usually wants the finest steps; this is
    /// a band's share of it (0 without a slot or without preflag).
    private static func pretab(_ slot: Int?, preflag: Bool) -> Int {
        preflag ? slot.map { ISO11172_3.pretab[$0] } ?? 0 : 0
    }

    /// Whether preflag suits `steps` in a long block: some coded band has a
    /// pretab, and every such band lies at least its pretab in steps of `unit`
    /// under `base(band)`, so its scalefactor can give that much up (smaller
    /// scalefactors sent, and that much more reach).
    private static func preflagFits(_ steps: [Int?], _ layout: GranuleLayout, unit: Int, base: (Int) -> Int) -> Bool {
        guard !layout.short else { return false }
        var used = false
        for b in layout.bands.indices {
            guard let slot = layout.bands[b].slot, let q = steps[b], ISO11172_3.pretab[slot] > 0 else { continue }
            if (base(b) - q + unit - 1) / unit < ISO11172_3.pretab[slot] { return false }
            used = true
        }
        return used
    }

    /// The gains and scalefactors that reach `chosen` (nil when every band is discarded).
    private static func realize(_ chosen: [Int?], layout: GranuleLayout) -> Realization? {
        guard let gain = chosen.compactMap({ $0 }).max() else { return nil }
        // A short window whose bands are all fine starts lower by its subblock gain (8 steps each).
        var subblockGain = [0, 0, 0]
        if layout.short {
            for w in 0..<3 {
                let coarsest = layout.bands.indices.filter { layout.bands[$0].window == w }.compactMap { chosen[$0] }.max()
                if let coarsest { subblockGain[w] = min(7, (gain - coarsest) / 8) }
            }
        }
        let base = layout.bands.map { gain - 8 * subblockGain[$0.window] }
        // Past the reach of 3 dB scalefactor steps (preflag's included), use 6 dB steps.
        let fine = preflagFits(chosen, layout, unit: 2) { base[$0] }
        let scale = layout.bands.indices.contains { b in
            guard let slot = layout.bands[b].slot, let q = chosen[b] else { return false }
            return (base[b] - q + 1) / 2 - pretab(slot, preflag: fine) > layout.reach(slot)
        }
        let unit = scale ? 4 : 2
        let pre = scale ? preflagFits(chosen, layout, unit: 4) { base[$0] } : fine
        var scalefactors = [Int](repeating: 0, count: layout.slotCount)
        var floors = [Int](), reachable = true
        for (b, band) in layout.bands.enumerated() {
            let lift = pretab(band.slot, preflag: pre)
            let floor = base[b] - unit * ((band.slot.map(layout.reach) ?? 0) + lift)
            floors.append(floor)
            guard let q = chosen[b] else { continue }
            if q < floor { reachable = false }
            if let slot = band.slot {
                scalefactors[slot] = min(layout.reach(slot), max(0, (base[b] - q + unit - 1) / unit - lift))
            }
        }
        return Realization(gain: gain, scale: scale, preflag: pre, subblockGain: subblockGain, scalefactors: scalefactors,
                           floors: floors, reachable: reachable)
    }

    /// The smallest global gain whose exact bits fit `maxBits` (no smaller than the realization's
    /// unless `finer`), with the values and Huffman plan it gives and the squared error it leaves in each band.
    private static func fit(_ lines: [Float], _ menus: Menus, _ chosen: [Int?], _ realization: Realization,
                            layout: GranuleLayout, part2: Int, maxBits: Int, finer: Bool)
        -> (gain: Int, values: [Int32], coding: HuffmanCoding, bandNoise: [Double])? {
        let unit = realization.scale ? 4 : 2
        // Each band's step below the global gain.
        let offsets = layout.bands.map { band in
            8 * realization.subblockGain[band.window]
                + unit * ((band.slot.map { realization.scalefactors[$0] } ?? 0) + pretab(band.slot, preflag: realization.preflag))
        }
        // A discarded band's noise is its energy, whatever the gain.
        let discardedNoise = layout.bands.indices.map { b in
            chosen[b] == nil ? layout.bands[b].lines.reduce(0) { $0 + Double(menus.magnitudes[$1]) * Double(menus.magnitudes[$1]) } : 0
        }
        let tables = PowerLawQuantizer.Tables.shared
        // The values' magnitudes; the fit's are signed at the end.
        func attempt(_ gain: Int) -> (values: [Int32], coding: HuffmanCoding, bandNoise: [Double])? {
            var values = [Int32](repeating: 0, count: 576)
            var bandNoise = [Double]()
            let ok: Bool = menus.companded.withUnsafeBufferPointer { c in
                menus.magnitudes.withUnsafeBufferPointer { m in
                    values.withUnsafeMutableBufferPointer { out in
                        for (b, band) in layout.bands.enumerated() {
                            guard chosen[b] != nil else {
                                bandNoise.append(discardedNoise[b])
                                continue
                            }
                            let q = gain - offsets[b]
                            guard q >= 0, let result = PowerLawQuantizer.quantize(c, m, band.lines, largest: menus.largest[b], step: q, into: out, tables)
                            else { return false }
                            bandNoise.append(result.squaredError)
                        }
                        return true
                    }
                }
            }
            guard ok else { return nil }
            let coding = values.withUnsafeBufferPointer { HuffmanCoder.plan($0, bandEdges: layout.huffmanEdges) }
            guard coding.bits + part2 <= maxBits else { return nil }
            return (values, coding, bandNoise)
        }
        func signed(_ values: [Int32]) -> [Int32] {
            var values = values
            for i in 0..<576 where lines[i] < 0 { values[i] = -values[i] }
            return values
        }
        // The fit lands near the gain the allocation chose, most often one or two steps
        // off: gallop from there to a bracket (a gain that fails below one that fits),
        // each try twice as far from the start, then bisect it.
        var failing = -1, fitting = 256
        var best: (values: [Int32], coding: HuffmanCoding, bandNoise: [Double])?
        let start = min(255, max(0, realization.gain))
        var distance = 1
        if let fit = attempt(start) {
            guard finer else { return (start, signed(fit.values), fit.coding, fit.bandNoise) }
            best = fit
            fitting = start
            while start - distance >= 0 {
                guard let lower = attempt(start - distance) else { failing = start - distance; break }
                best = lower
                fitting = start - distance
                distance *= 2
            }
        } else {
            failing = start
            while failing < 255 {
                let next = min(255, start + distance)
                if let fit = attempt(next) { best = fit; fitting = next; break }
                failing = next
                distance *= 2
            }
            guard fitting <= 255 else { return nil }
        }
        while failing + 1 < fitting {
            let mid = (failing + fitting) / 2
            if let fit = attempt(mid) { best = fit; fitting = mid } else { failing = mid }
        }
        return (fitting, signed(best!.values), best!.coding, best!.bandNoise)
    }

    /// The scalefac_compress with the fewest bits that holds every scalefactor.
    static func scalefacCompress(for scalefactors: [Int], layout: GranuleLayout) -> Int {
        let lowMax = scalefactors[0..<layout.lowSlots].max() ?? 0
        let highMax = scalefactors[layout.lowSlots...].max() ?? 0
        let fits = ISO11172_3.scalefactorBitWidths.indices.filter {
            let w = ISO11172_3.scalefactorBitWidths[$0]
            return lowMax < 1 << w.low && highMax < 1 << w.high
        }
        return fits.min {
            layout.scalefactorBits(ISO11172_3.scalefactorBitWidths[$0]) < layout.scalefactorBits(ISO11172_3.scalefactorBitWidths[$1])
        }!
    }

    /// A granule with nothing in it, still carrying its block type (the decoder's windows depend on it).
    private static func silent(_ input: GranuleInput, magnitudes: [Float]) -> CodedGranule {
        let layout = input.layout
        let coding = HuffmanCoding(bigValues: 0, count1: 0, tableSelect: [0, 0, 0], region0Count: 0,
                                   region1Count: 0, count1TableB: false, bits: 0)
        var info = GranuleSideInfo()
        info.windowSwitching = layout.blockType != 0
        info.blockType = layout.blockType
        let energy = layout.bands.map { $0.lines.reduce(0.0) { $0 + Double(magnitudes[$1]) * Double(magnitudes[$1]) } }
        return CodedGranule(values: [Int32](repeating: 0, count: 576), scalefactors: [Int](repeating: 0, count: layout.slotCount),
                            info: info, coding: coding, part2Bits: 0, bandNoise: energy,
                            bandBits: [Int](repeating: 0, count: layout.bands.count))
    }
}
