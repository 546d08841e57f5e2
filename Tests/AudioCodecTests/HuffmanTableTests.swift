import RateDistortion
import Testing
@testable import AudioCodec

struct HuffmanTableTests {
    static let tables = (0..<32).filter { ISO11172_3.bigValueTables[$0] != nil && $0 != 0 }

    /// Every big-value table is a complete prefix code: its Kraft sum is exactly 1.
    @Test(arguments: tables)
    func bigValueTableIsACompletePrefixCode(table t: Int) {
        let table = ISO11172_3.bigValueTables[t]!
        #expect(table.codes.count == table.size * table.size)
        let kraft = table.lengths.reduce(0.0) { $0 + 1 / Double(1 << Int($1)) }
        #expect(kraft == 1)
        #expect(zip(table.codes, table.lengths).allSatisfy { $0 < 1 << UInt32($1) })
    }

    /// Table 3-B.7: sizes and linbits by table_select.
    @Test func sizesAndLinbitsMatchTheStandard() {
        let expected: [Int: (Int, Int)] = [
            1: (2, 0), 2: (3, 0), 3: (3, 0), 5: (4, 0), 6: (4, 0), 7: (6, 0), 8: (6, 0), 9: (6, 0),
            10: (8, 0), 11: (8, 0), 12: (8, 0), 13: (16, 0), 15: (16, 0),
            16: (16, 1), 17: (16, 2), 18: (16, 3), 19: (16, 4), 20: (16, 6), 21: (16, 8), 22: (16, 10), 23: (16, 13),
            24: (16, 4), 25: (16, 5), 26: (16, 6), 27: (16, 7), 28: (16, 8), 29: (16, 9), 30: (16, 11), 31: (16, 13),
        ]
        for (t, (size, linbits)) in expected {
            #expect(ISO11172_3.bigValueTables[t]!.size == size && ISO11172_3.bigValueTables[t]!.linbits == linbits, "table \(t)")
        }
        #expect(ISO11172_3.bigValueTables[4] == nil && ISO11172_3.bigValueTables[14] == nil)
    }

    /// Every (x, y) of every table, escapes and signs included, written by the
    /// encoder's coder and read back through our own table decoder.
    @Test(arguments: tables)
    func everyPairRoundTrips(table t: Int) {
        let table = ISO11172_3.bigValueTables[t]!
        let decoder = HuffmanTableDecoder(codes: table.codes, lengths: table.lengths)
        let largest = table.linbits > 0 ? 15 + (1 << table.linbits) - 1 : table.size - 1
        // All small pairs, plus escaped values up to the table's largest.
        var values = Array(0..<table.size)
        if table.linbits > 0 { values += [16, 15 + (1 << table.linbits) / 2, largest] }
        for x in values {
            for y in values {
                for (sx, sy) in [(1, 1), (-1, -1)] {
                    let pair: [Int32] = [Int32(sx * x), Int32(sy * y)]
                    var writer = BitWriter()
                    HuffmanCoder.writePair(pair[0], pair[1], table: t, to: &writer)
                    #expect(writer.count == HuffmanCoder.pairBits(x, y, table: t))
                    var reader = BitReader(writer.bytes)
                    guard let symbol = decoder.decode(&reader) else {
                        Issue.record("table \(t): no codeword for (\(x), \(y))")
                        continue
                    }
                    var dx = symbol / table.size, dy = symbol % table.size
                    if table.linbits > 0 && dx == 15 { dx += Int(reader.read(bits: table.linbits)!) }
                    if dx > 0 && reader.read(bits: 1)! == 1 { dx = -dx }
                    if table.linbits > 0 && abs(dy) == 15 { dy += Int(reader.read(bits: table.linbits)!) }
                    if dy > 0 && reader.read(bits: 1)! == 1 { dy = -dy }
                    #expect([Int32(dx), Int32(dy)] == pair, "table \(t)")
                    #expect(reader.position == writer.count)
                }
            }
        }
    }

    /// A band's estimate is the fewest bits, pair by pair, of the smallest
    /// tables that hold its largest value (Table 3-B.7's sizes and linbits).
    @Test(arguments: [1, 2, 3, 5, 7, 12, 15, 16, 40, 300, 8206])
    func estimatedBitsIsTheBestOfTheSmallestTables(largest: Int) {
        let candidates: [Int]
        switch largest {
        case 1: candidates = [1]
        case 2: candidates = [2, 3]
        case 3: candidates = [5, 6]
        case 4...5: candidates = [7, 8, 9]
        case 6...7: candidates = [10, 11, 12]
        case 8...15: candidates = [13, 15]
        default:
            candidates = [16, 24].map { family in
                (family..<(family + 8)).first { largest <= 15 + (1 << ISO11172_3.bigValueTables[$0]!.linbits) - 1 }!
            }
        }
        var generator = SeededGenerator(seed: UInt64(largest))
        for width in [2, 4, 18, 58, 158] {
            // Mostly small values, as a band's are, with the largest somewhere in it.
            var band = (0..<width).map { _ in Int32(generator.next() % 3 == 0 ? generator.next() % UInt64(largest + 1) : generator.next() % 2) }
            band[Int(generator.next() % UInt64(width))] = Int32(largest)
            let expected = candidates.map { t in
                stride(from: 0, to: width, by: 2).reduce(0) { $0 + HuffmanCoder.pairBits(Int(band[$1]), Int(band[$1 + 1]), table: t) }
            }.min()!
            band.withUnsafeBufferPointer { values in
                #expect(HuffmanCoder.estimatedBits(values, 0..<width) == expected, "largest \(largest), width \(width)")
            }
        }
    }

    @Test(arguments: [0, 1])
    func count1TablesRoundTrip(table: Int) {
        let codes = ISO11172_3.count1Codes[table].map { UInt32($0) }
        let decoder = HuffmanTableDecoder(codes: codes, lengths: ISO11172_3.count1Lengths[table])
        let kraft = ISO11172_3.count1Lengths[table].reduce(0.0) { $0 + 1 / Double(1 << Int($1)) }
        #expect(kraft == 1)
        for symbol in 0..<16 {
            var writer = BitWriter()
            writer.write(codes[symbol], bits: Int(ISO11172_3.count1Lengths[table][symbol]))
            var reader = BitReader(writer.bytes)
            #expect(decoder.decode(&reader) == symbol)
        }
    }

    /// Table 3-C.1: |C[i]| = |C[512 − i]| and the peak C[256] = 0.035780907.
    @Test func analysisWindowHasTheStandardsSymmetry() {
        let c = ISO11172_3.analysisWindow
        #expect(c.count == 512)
        #expect(c[0] == 0 && c[256] == 0.035780907)
        #expect((1..<256).allSatisfy { abs(c[$0]) == abs(c[512 - $0]) })
        #expect(c.map(abs).max() == c[256])
    }
}
