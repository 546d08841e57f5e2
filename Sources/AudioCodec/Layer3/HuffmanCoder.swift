/// Layer III's entropy coding of one granule's 576 quantized lines (clause
/// 2.4.2.7 and Annex B): pairs in up to three regions, each with its own
/// big-value table; then quadruples of magnitude ≤ 1 with a count1 table; the
/// rest is zero and costs nothing.
struct HuffmanCoding: Hashable {
    /// Pairs coded with big-value tables (the first 2·bigValues lines).
    var bigValues: Int
    /// Quadruples coded with the count1 table, after the big values.
    var count1: Int
    var tableSelect: [Int]
    var region0Count: Int
    var region1Count: Int
    var count1TableB: Bool
    /// Bits of all Huffman codes, linbits and signs (part 3 of part2_3_length).
    var bits: Int
}

enum HuffmanCoder {
    /// Big-value tables without escapes, smallest first.
    static let plainTables = [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15]
    /// The two escape families: tables 16…23 and 24…31 share codes and differ in linbits.
    static let escapeFamilies = [16, 24]

    /// The member of an escape family with the fewest linbits that reaches `largest`.
    @inline(__always)
    static func escapeTable(family: Int, largest: Int) -> Int {
        (family == 16 ? escapeTables16 : escapeTables24)[largest]
    }

    /// escapeTable(family:largest:) for every largest value 0…8206, worked out once.
    private static let escapeTables16 = escapeLookup(family: 16)
    private static let escapeTables24 = escapeLookup(family: 24)
    private static func escapeLookup(family: Int) -> [Int] {
        (0...ISO11172_3.maxQuantized).map { largest in
            (family..<(family + 8)).first { largest <= 15 + (1 << ISO11172_3.bigValueTables[$0]!.linbits) - 1 }!
        }
    }

    /// Sizes and codeword lengths of the plain tables, in `plainTables` order.
    private static let plainSizes = plainTables.map { ISO11172_3.bigValueTables[$0]!.size }
    private static let plainLengths = plainTables.map { ISO11172_3.bigValueTables[$0]!.lengths }
    private static let linbits = (0..<32).map { ISO11172_3.bigValueTables[$0]?.linbits ?? 0 }
    private static let familyLengths = escapeFamilies.map { ISO11172_3.bigValueTables[$0]!.lengths }

    /// What plan sums per band piece, and estimatedBits per band, for a pair
    /// (x, y) clipped to 15, as four words of four 16-bit fields at
    /// [(x·16 + y)·4 …]: fields 0…12 the bits (codeword and signs) in each
    /// plain table (0 where the table cannot code the pair: neither reads the
    /// sums of a table too small for the values summed), 13 and 14 in each
    /// escape family without linbits, 15 the escapes. A granule has 288 pairs
    /// of at most 21 bits, so no field overflows.
    private static let planWords: [UInt64] = (0..<256).flatMap { index -> [UInt64] in
        let x = index / 16, y = index % 16
        let signs = (x > 0 ? 1 : 0) + (y > 0 ? 1 : 0)
        var fields = plainTables.indices.map { k in
            x < plainSizes[k] && y < plainSizes[k] ? Int(plainLengths[k][x * plainSizes[k] + y]) + signs : 0
        }
        fields += familyLengths.map { Int($0[x * 16 + y]) + signs }
        fields.append((x == 15 ? 1 : 0) + (y == 15 ? 1 : 0))
        return (0..<4).map { w in
            (0..<4).reduce(UInt64(0)) { $0 | UInt64(fields[w * 4 + $1]) << UInt64(16 * $1) }
        }
    }

    /// Bits of the pair (x, y) of magnitudes in table `t`, escapes and signs included.
    @inline(__always)
    static func pairBits(_ x: Int, _ y: Int, table t: Int) -> Int {
        guard t != 0 else { return 0 }
        let table = ISO11172_3.bigValueTables[t]!
        let cx = min(x, 15), cy = min(y, 15)
        var bits = Int(table.lengths[cx * table.size + cy])
        if x > 0 { bits += 1 }
        if y > 0 { bits += 1 }
        if table.linbits > 0 {
            if x >= 15 { bits += table.linbits }
            if y >= 15 { bits += table.linbits }
        }
        return bits
    }

    /// A quick estimate of a band's bits: the best of the smallest tables
    /// that hold its largest magnitude.
    static func estimatedBits(_ magnitudes: UnsafeBufferPointer<Int32>, _ range: Range<Int>) -> Int {
        var largest: Int32 = 0
        for i in range { largest = max(largest, magnitudes[i]) }
        return estimatedBits(magnitudes, range, largest: largest)
    }

    /// estimatedBits(_:_:) for a band whose largest magnitude is known.
    static func estimatedBits(_ magnitudes: UnsafeBufferPointer<Int32>, _ range: Range<Int>, largest: Int32) -> Int {
        guard largest > 0 else { return 0 }
        var tally = PairBitTally(largest: largest, TallyTables.shared)
        var i = range.lowerBound
        while i < range.upperBound {
            tally.add(magnitudes[i], magnitudes[i &+ 1])
            i &+= 2
        }
        return tally.bits
    }

    /// What PairBitTally reads, planWords and plainCandidates, in memory the
    /// process keeps: a loop fetches them once, where a static array is
    /// checked for its lazy initialization on every read. Written once, before
    /// any read, and never again: safe to share between threads.
    struct TallyTables: @unchecked Sendable {
        fileprivate let words: UnsafeBufferPointer<UInt64>
        fileprivate let candidates: UnsafeBufferPointer<(low: Int, high: Int, candidates: SIMD8<Int32>)>

        static let shared = TallyTables(words: permanentCopy(of: planWords), candidates: permanentCopy(of: plainCandidates))
    }

    /// estimatedBits, a pair at a time: the bits of a band's pairs in each
    /// table it weighs, which its largest magnitude decides.
    ///
    /// One pass over the pairs serves every candidate table: planWords packs a
    /// pair's bits in all of them, and the candidates' fields (with the escape
    /// count beside the escape families) lie in at most two of its four words.
    struct PairBitTally {
        private let largest: Int32
        private let words: UnsafeBufferPointer<UInt64>
        /// The two words of planWords summed; the same word twice when one holds every candidate.
        private let low: Int, high: Int
        private var sums: (low: UInt64, high: UInt64) = (0, 0)
        /// Over the eight fields of the two words: 0 in a candidate table's, all ones elsewhere.
        private let candidates: SIMD8<Int32>

        @inline(__always)
        init(largest: Int32, _ tables: TallyTables) {
            self.largest = largest
            words = tables.words
            (low, high, candidates) = largest > 15 || largest == 0 ? (3, 3, .zero) : tables.candidates[Int(largest)]
        }

        /// Counts the pair (x, y) of magnitudes.
        @inline(__always)
        mutating func add(_ x: Int32, _ y: Int32) {
            // Wrapping arithmetic: nothing here can overflow, and the checks would cost more than the work.
            let index = (Int(min(x, 15)) &* 16 &+ Int(min(y, 15))) &* 4
            sums.low &+= words[index &+ low]
            sums.high &+= words[index &+ high]
        }

        /// The fewest bits of the pairs counted in any table that holds them all.
        @inline(__always)
        var bits: Int {
            guard largest > 0 else { return 0 }
            func field(_ f: Int) -> Int { Int(((f / 4 == low ? sums.low : sums.high) >> UInt64(16 * (f % 4))) & 0xFFFF) }
            guard largest > 15 else {
                let fields = SIMD8<Int32>(truncatingIfNeeded: unsafeBitCast(SIMD2(sums.low, sums.high), to: SIMD8<UInt16>.self))
                return Int((fields | candidates).min())
            }
            return escapeFamilies.indices.reduce(Int.max) { bits, k in
                min(bits, field(13 + k) + linbits[escapeTable(family: escapeFamilies[k], largest: Int(largest))] * field(15))
            }
        }
    }

    /// The plain tables estimatedBits tries, by the largest magnitude (1…15)
    /// they must hold: the smallest ones that can. From 16 up, the escape families.
    private static let candidateGroups = [[1], [2, 3], [5, 6], [7, 8, 9], [10, 11, 12], [13, 15]]
    /// Per largest magnitude 1…15, its group in candidateGroups.
    private static let candidateGroup = [0, 0, 1, 2, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5]
    /// Per largest magnitude 0…15, what PairBitTally sums: the words of planWords
    /// that hold its candidate tables' fields, and which of their eight fields those are.
    private static let plainCandidates = (0..<16).map { largest -> (low: Int, high: Int, candidates: SIMD8<Int32>) in
        guard largest > 0 else { return (3, 3, .zero) }
        let fields = candidateGroups[candidateGroup[largest]].map { plainField[$0] }
        let low = fields.first! / 4, high = fields.last! / 4
        var candidates = SIMD8<Int32>(repeating: .max)
        for f in fields { candidates[(f / 4 == low ? 0 : 4) + f % 4] = 0 }
        return (low, high, candidates)
    }
    /// Per largest magnitude 0…15, all ones in the lanes of planWords' fields that are
    /// no plain table able to hold it (the escape fields among them): or-ed into a field's
    /// bits, it takes that field out of the least.
    private static let plainUnfit = (0..<16).map { peak in
        SIMD16<Int32>((0..<16).map { $0 < plainTables.count && plainSizes[$0] > peak ? 0 : Int32.max })
    }
    /// Per escape family, per largest magnitude 0…8206: the linbits of escapeTable(family:largest:).
    private static let escapeLinbits = escapeFamilies.map { f in
        (0...ISO11172_3.maxQuantized).map { linbits[escapeTable(family: f, largest: $0)] }
    }
    /// Per table_select of a plain table, its field in planWords (its place in plainTables).
    private static let plainField = (0..<32).map { plainTables.firstIndex(of: $0) ?? -1 }

    /// Chooses the big-value/count1 split, the region division and the tables
    /// that code `magnitudes` (576 values, each ≤ 8206) in the fewest bits.
    ///
    /// Regions end on band edges, so the bits of every table are summed per
    /// band piece once; each of the 128 region divisions then costs a few
    /// prefix-sum differences.
    static func plan(_ magnitudes: UnsafeBufferPointer<Int32>, bandEdges: [Int]) -> HuffmanCoding {
        precondition(magnitudes.count == ISO11172_3.granuleLength, "a granule has 576 lines")
        // The zero region: trailing pairs of zeros.
        var end = 576
        while end > 1 && magnitudes[end - 1] == 0 && magnitudes[end - 2] == 0 { end -= 2 }
        // The count1 region: trailing quadruples of magnitudes ≤ 1.
        var bigEnd = end
        while bigEnd > 3 && magnitudes[bigEnd - 1] <= 1 && magnitudes[bigEnd - 2] <= 1
            && magnitudes[bigEnd - 3] <= 1 && magnitudes[bigEnd - 4] <= 1 {
            bigEnd -= 4
        }
        let count1 = (end - bigEnd) / 4
        let (count1TableB, count1Bits) = count1Choice(magnitudes, bigEnd..<end)

        // Band pieces below bigEnd (a prefix of the bands), per piece its largest value,
        // and the running sums over the pieces of planWords' 16 fields, one vector per
        // piece boundary: a region's bits in every table are one subtraction.
        var n = 0
        while n < bandEdges.count - 1 && bandEdges[n] < bigEnd { n += 1 }
        var largest = [Int32](repeating: 0, count: n)
        var prefix = [SIMD16<Int32>](repeating: .zero, count: n + 1)
        planWords.withUnsafeBufferPointer { words in
            for p in 0..<n {
                var sums = SIMD4<UInt64>()
                var i = bandEdges[p]
                let end = min(bandEdges[p + 1], bigEnd)
                var peak: Int32 = 0
                // Wrapping arithmetic: no field can overflow (see planWords), and the checks would cost more than the work.
                while i < end {
                    let x = magnitudes[i], y = magnitudes[i &+ 1]
                    peak = max(peak, x, y)
                    let index = (Int(min(x, 15)) &* 16 &+ Int(min(y, 15))) &* 4
                    sums &+= UnsafeRawPointer(words.baseAddress! + index).loadUnaligned(as: SIMD4<UInt64>.self)
                    i &+= 2
                }
                // Field f of word w is lane 4w + f of the words' 16-bit halves (little-endian).
                prefix[p + 1] = prefix[p] &+ SIMD16<Int32>(truncatingIfNeeded: unsafeBitCast(sums, to: SIMD16<UInt16>.self))
                largest[p] = peak
            }
        }
        // Bound to constants: cost reads them, and captured variables would be checked for exclusive access on every read.
        let peaks = largest, sums = prefix
        let unfit = Self.plainUnfit, familyLinbits = Self.escapeLinbits
        let lanes = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

        /// The cheapest table for pieces [a, b), and its bits.
        func cost(_ a: Int, _ b: Int) -> (table: Int, bits: Int) {
            guard a < b else { return (0, 0) }
            var peak: Int32 = 0
            for p in a..<b { peak = max(peak, peaks[p]) }
            if peak == 0 { return (0, 0) }
            let bits = sums[b] &- sums[a]
            var best = (table: 0, bits: Int.max)
            if peak < 16 {
                // Each plain table's bits, with its place in the low bits so that the least
                // picks the first of equals, and the tables that cannot hold the peak masked off.
                let cheapest = ((bits &<< 5) | lanes | unfit[Int(peak)]).min()
                best = (plainTables[Int(cheapest & 31)], Int(cheapest >> 5))
            }
            for (k, f) in escapeFamilies.enumerated() {
                let total = Int(bits[13 + k]) + familyLinbits[k][Int(peak)] * Int(bits[15])
                if total < best.bits { best = (escapeTable(family: f, largest: Int(peak)), total) }
            }
            return best
        }

        // Region division: every split on band edges; region 2 takes the rest.
        // Regions 0 and 2 recur across divisions: their costs once, per split.
        let heads = (0...min(16, n)).map { cost(0, $0) }
        let tails = (0...n).map { cost($0, n) }
        var best = (bits: Int.max, r0: 0, r1: 0, tables: (0, 0, 0))
        for r0 in 0..<16 {
            let split1 = min(r0 + 1, n)
            for r1 in 0..<8 where r0 + r1 + 2 < bandEdges.count {
                let split2 = min(r0 + r1 + 2, n)
                let a = heads[split1], b = cost(split1, split2), c = tails[split2]
                let bits = a.bits + b.bits + c.bits
                if bits < best.bits { best = (bits, r0, r1, (a.table, b.table, c.table)) }
                if split2 == n { break }  // larger r1 give the same regions
            }
            if split1 == n { break }
        }
        return HuffmanCoding(bigValues: bigEnd / 2, count1: count1,
                             tableSelect: [best.tables.0, best.tables.1, best.tables.2],
                             region0Count: best.r0, region1Count: best.r1, count1TableB: count1TableB,
                             bits: best.bits + count1Bits)
    }

    /// The cheaper count1 table for the quadruples of `range`, and its bits.
    static func count1Choice(_ magnitudes: UnsafeBufferPointer<Int32>, _ range: Range<Int>) -> (tableB: Bool, bits: Int) {
        var bitsA = 0, bitsB = 0
        var i = range.lowerBound
        while i < range.upperBound {
            let v = Int(magnitudes[i]), w = Int(magnitudes[i + 1]), x = Int(magnitudes[i + 2]), y = Int(magnitudes[i + 3])
            let index = v * 8 + w * 4 + x * 2 + y
            let signs = v + w + x + y
            bitsA += Int(ISO11172_3.count1Lengths[0][index]) + signs
            bitsB += Int(ISO11172_3.count1Lengths[1][index]) + signs
            i += 4
        }
        return bitsB < bitsA ? (true, bitsB) : (false, bitsA)
    }

    /// Writes one signed pair: the codeword, then x's linbits and sign, then y's.
    static func writePair(_ x: Int32, _ y: Int32, table t: Int, to writer: inout BitWriter) {
        let table = ISO11172_3.bigValueTables[t]!
        let ax = Int(abs(x)), ay = Int(abs(y))
        let entry = min(ax, 15) * table.size + min(ay, 15)
        writer.write(table.codes[entry], bits: Int(table.lengths[entry]))
        if table.linbits > 0 && ax >= 15 { writer.write(ax - 15, bits: table.linbits) }
        if ax > 0 { writer.write(x < 0) }
        if table.linbits > 0 && ay >= 15 { writer.write(ay - 15, bits: table.linbits) }
        if ay > 0 { writer.write(y < 0) }
    }

    /// Writes the Huffman data of `values` (signed) as `coding` plans it.
    static func write(_ values: UnsafeBufferPointer<Int32>, _ coding: HuffmanCoding, bandEdges: [Int],
                      to writer: inout BitWriter) {
        let bigEnd = coding.bigValues * 2
        let split1 = min(bandEdges[coding.region0Count + 1], bigEnd)
        let split2 = min(bandEdges[coding.region0Count + coding.region1Count + 2], bigEnd)
        let regions = [0..<split1, split1..<split2, split2..<bigEnd]
        for (region, t) in zip(regions, coding.tableSelect) where t != 0 {
            var i = region.lowerBound
            while i < region.upperBound {
                writePair(values[i], values[i + 1], table: t, to: &writer)
                i += 2
            }
        }
        let quadTable = coding.count1TableB ? 1 : 0
        var i = bigEnd
        for _ in 0..<coding.count1 {
            var index = 0
            for k in 0..<4 { index |= Int(abs(values[i + k])) << (3 - k) }
            writer.write(UInt32(ISO11172_3.count1Codes[quadTable][index]), bits: Int(ISO11172_3.count1Lengths[quadTable][index]))
            for k in 0..<4 where values[i + k] != 0 { writer.write(values[i + k] < 0) }
            i += 4
        }
    }
}
