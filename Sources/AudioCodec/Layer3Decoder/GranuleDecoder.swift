import RealModule

/// Reads one granule of one channel from main data: scalefactors, Huffman
/// data, and requantization into 576 lines (clauses 2.4.2.7, 2.4.3.4).
enum GranuleDecoder {
    /// Scalefactors: long[0…21] and short[band·3 + window], band 0…12.
    struct Scalefactors {
        var long = [Int](repeating: 0, count: 22)
        var short = [Int](repeating: 0, count: 13 * 3)
        /// Per scalefactor, the intensity position that means "not intensity
        /// coded": 7 in MPEG-1 (clause 2.4.3.4.9.3); in MPEG-2/2.5 the largest
        /// value the scalefactor's bit width holds (ISO/IEC 13818-3, 2.4.3.2).
        var longIllegal = [Int](repeating: 7, count: 22)
        var shortIllegal = [Int](repeating: 7, count: 13 * 3)
    }

    enum Failure: Error { case overrun }

    /// MPEG-1 scalefactors (part 2); `previous` supplies scfsi-shared groups.
    static func readScalefactors(_ reader: inout BitReader, _ g: GranuleSideInfo, scfsi: [Bool],
                                 granule: Int, previous: Scalefactors) throws(Failure) -> Scalefactors {
        func field(_ bits: Int) throws(Failure) -> Int {
            guard let v = reader.read(bits: bits) else { throw .overrun }
            return Int(v)
        }
        let (slen1, slen2) = ISO11172_3.scalefactorBitWidths[g.scalefacCompress]
        var sf = Scalefactors()
        if g.windowSwitching && g.blockType == 2 {
            if g.mixedBlock {
                for b in 0..<8 { sf.long[b] = try field(slen1) }
                for b in 3..<6 { for w in 0..<3 { sf.short[b * 3 + w] = try field(slen1) } }
            } else {
                for b in 0..<6 { for w in 0..<3 { sf.short[b * 3 + w] = try field(slen1) } }
            }
            for b in 6..<12 { for w in 0..<3 { sf.short[b * 3 + w] = try field(slen2) } }
        } else {
            for (group, bands) in ISO11172_3.scfsiBands.enumerated() {
                for b in bands {
                    if granule == 1 && scfsi[group] { sf.long[b] = previous.long[b] }
                    else { sf.long[b] = try field(b < 11 ? slen1 : slen2) }
                }
            }
        }
        return sf
    }

    /// MPEG-2/2.5 scalefactors (ISO/IEC 13818-3, clause 2.4.3.2): four
    /// partitions of scalefactors, each with its own bit width. Sets preflag
    /// in `g` as scalefac_compress implies.
    static func readLSFScalefactors(_ reader: inout BitReader, _ g: inout GranuleSideInfo,
                                    intensityRight: Bool) throws(Failure) -> Scalefactors {
        let layout = ISO13818_3.scalefactorLayout(g.scalefacCompress, intensityRight: intensityRight)
        g.preflag = layout.preflag
        let kind = g.windowSwitching && g.blockType == 2 ? (g.mixedBlock ? 2 : 1) : 0
        let counts = ISO13818_3.scalefactorsPerPartition[layout.block][kind]
        var sequence = [(value: Int, illegal: Int)]()
        for (partition, count) in counts.enumerated() {
            let width = layout.widths[partition]
            for _ in 0..<count {
                guard let v = reader.read(bits: width) else { throw .overrun }
                sequence.append((Int(v), (1 << width) - 1))
            }
        }
        var sf = Scalefactors()
        var next = sequence.makeIterator()
        func assignLong(_ b: Int) {
            guard let (value, illegal) = next.next() else { return }
            sf.long[b] = value
            sf.longIllegal[b] = illegal
        }
        func assignShort(_ b: Int) {
            for w in 0..<3 {
                guard let (value, illegal) = next.next() else { return }
                sf.short[b * 3 + w] = value
                sf.shortIllegal[b * 3 + w] = illegal
            }
        }
        switch kind {
        case 0: for b in 0..<21 { assignLong(b) }
        case 1: for b in 0..<12 { assignShort(b) }
        default:
            for b in 0..<6 { assignLong(b) }
            for b in 3..<12 { assignShort(b) }
        }
        return sf
    }

    /// The first line coded as short blocks: 0, after the long part of a
    /// mixed block (three short bands' worth of lines), or 576.
    static func shortFrom(_ g: GranuleSideInfo, shortEdges: [Int]) -> Int {
        guard g.windowSwitching && g.blockType == 2 else { return 576 }
        return g.mixedBlock ? 3 * shortEdges[3] : 0
    }

    /// Huffman data (part 3) up to `end` bits, into 576 signed values.
    /// Returns the count of lines that may be non-zero.
    static func readHuffman(_ reader: inout BitReader, _ g: GranuleSideInfo, end: Int, longEdges: [Int],
                            shortEdges: [Int], decoders: HuffmanDecoders, into values: inout [Int32]) throws(Failure) -> Int {
        for i in 0..<576 { values[i] = 0 }
        let bigEnd = min(576, g.bigValues * 2)
        let region1: Int, region2: Int
        if g.windowSwitching {
            region1 = g.blockType == 2 && !g.mixedBlock ? 3 * shortEdges[3] : longEdges[8]
            region2 = 576
        } else {
            region1 = longEdges[min(g.region0Count + 1, 22)]
            region2 = longEdges[min(g.region0Count + g.region1Count + 2, 22)]
        }
        var i = 0
        while i < bigEnd {
            let t = g.tableSelect[i < region1 ? 0 : (i < region2 ? 1 : 2)]
            if t == 0 { i += 2; continue }
            let table = ISO11172_3.bigValueTables[t]!
            guard reader.position < end, let symbol = decoders.bigValue[t]!.decode(&reader) else { throw .overrun }
            var x = symbol / table.size, y = symbol % table.size
            if table.linbits > 0 && x == 15 { guard let e = reader.read(bits: table.linbits) else { throw .overrun }; x += Int(e) }
            if x > 0, let sign = reader.read(bits: 1), sign == 1 { x = -x }
            if table.linbits > 0 && y == 15 { guard let e = reader.read(bits: table.linbits) else { throw .overrun }; y += Int(e) }
            if y > 0, let sign = reader.read(bits: 1), sign == 1 { y = -y }
            values[i] = Int32(x)
            values[i + 1] = Int32(y)
            i += 2
        }
        guard reader.position <= end else { throw .overrun }
        let quad = decoders.count1[g.count1TableB ? 1 : 0]
        while i + 4 <= 576 && reader.position < end {
            let start = reader.position
            guard let symbol = quad.decode(&reader) else { break }
            var q = [(symbol >> 3) & 1, (symbol >> 2) & 1, (symbol >> 1) & 1, symbol & 1]
            for k in 0..<4 where q[k] != 0 {
                if let sign = reader.read(bits: 1), sign == 1 { q[k] = -1 }
            }
            // A quadruple that runs past part2_3_length was never sent.
            if reader.position > end { reader.seek(to: start); break }
            for k in 0..<4 { values[i + k] = Int32(q[k]) }
            i += 4
        }
        return i
    }

    /// Requantizes `values` into `lines` (in bitstream order).
    static func requantize(_ values: [Int32], _ g: GranuleSideInfo, _ sf: Scalefactors,
                           longEdges: [Int], shortEdges: [Int], into lines: inout [Float]) {
        let multiplier = g.scalefacScale ? 1.0 : 0.5
        let base = Double(g.globalGain - 210) / 4
        func line(_ i: Int, exponent: Double) {
            let v = values[i]
            if v == 0 { lines[i] = 0; return }
            let magnitude = PowerLawQuantizer.fourThirds[min(Int(abs(v)), ISO11172_3.maxQuantized)]
            lines[i] = (v < 0 ? -1 : 1) * magnitude * Float(Double.exp2(exponent))
        }
        let shortFrom = shortFrom(g, shortEdges: shortEdges)
        // Long part.
        for b in 0..<22 where longEdges[b] < shortFrom {
            let pre = g.preflag && b < 21 ? ISO11172_3.pretab[b] : 0
            let exponent = base - multiplier * Double(sf.long[b] + pre)
            for i in longEdges[b]..<min(longEdges[b + 1], shortFrom) { line(i, exponent: exponent) }
        }
        // Short part: band by band, window by window.
        guard shortFrom < 576 else { return }
        let firstBand = shortFrom == 0 ? 0 : 3
        var i = shortFrom
        for b in firstBand..<13 {
            let width = shortEdges[b + 1] - shortEdges[b]
            for w in 0..<3 {
                let exponent = base - 2 * Double(g.subblockGain[w]) - multiplier * Double(sf.short[b * 3 + w])
                for _ in 0..<width { line(i, exponent: exponent); i += 1 }
            }
        }
    }

    /// Reorders short-block lines from band/window/frequency order to
    /// subband order with windows interleaved: line f of window w goes to 3f + w.
    static func reorder(_ lines: inout [Float], _ g: GranuleSideInfo, shortEdges: [Int], scratch: inout [Float]) {
        guard g.windowSwitching && g.blockType == 2 else { return }
        let start = shortFrom(g, shortEdges: shortEdges)
        let order = ISO11172_3.shortBitstreamOrder(shortEdges: shortEdges, firstBand: g.mixedBlock ? 3 : 0)
        for i in 0..<576 { scratch[i] = lines[i] }
        for (position, line) in order.enumerated() { lines[line] = scratch[start + position] }
    }
}

/// The Huffman decoders of every table, built once per process.
struct HuffmanDecoders: Sendable {
    static let shared = HuffmanDecoders()

    let bigValue: [HuffmanTableDecoder?]
    let count1: [HuffmanTableDecoder]

    private init() {
        bigValue = ISO11172_3.bigValueTables.map { table in
            table.flatMap { $0.size > 0 ? HuffmanTableDecoder(codes: $0.codes, lengths: $0.lengths) : nil }
        }
        count1 = (0..<2).map {
            HuffmanTableDecoder(codes: ISO11172_3.count1Codes[$0].map { UInt32($0) }, lengths: ISO11172_3.count1Lengths[$0])
        }
    }
}
