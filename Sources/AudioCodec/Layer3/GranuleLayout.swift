/// Where a granule's scalefactor bands lie among its 576 lines in bitstream
/// order, which scalefactor sets each band's step, and how the Huffman
/// regions are divided, for one block type.
struct GranuleLayout {
    struct Band {
        var lines: Range<Int>
        /// Index into the scalefactors; nil for the last band, which has none.
        var slot: Int?
        /// Short-block window (0…2), whose subblock gain applies; 0 for long blocks.
        var window: Int
    }

    let bands: [Band]
    let blockType: Int
    /// Scalefactors sent: 21 for long blocks, 12 bands × 3 windows for short.
    let slotCount: Int
    /// Slots below this use slen1 (4-bit at most), the rest slen2 (3-bit).
    let lowSlots: Int
    /// Band edges for the Huffman region division: the long bands, or for a
    /// switched window a fixed split at line 36 (clause 2.4.2.7).
    let huffmanEdges: [Int]

    var short: Bool { blockType == 2 }

    /// The largest value a slot's field can hold under the widest scalefac_compress.
    func reach(_ slot: Int) -> Int { slot < lowSlots ? 15 : 7 }

    /// Bits of the scalefactors under a scalefac_compress's widths.
    func scalefactorBits(_ widths: (low: Int, high: Int)) -> Int {
        lowSlots * widths.low + (slotCount - lowSlots) * widths.high
    }

    init(blockType: Int, longEdges: [Int], shortEdges: [Int]) {
        self.blockType = blockType
        let switched = blockType != 0
        if blockType == 2 {
            var bands = [Band]()
            var start = 0
            for b in 0..<13 {
                let width = shortEdges[b + 1] - shortEdges[b]
                for w in 0..<3 {
                    bands.append(Band(lines: start..<(start + width), slot: b < 12 ? b * 3 + w : nil, window: w))
                    start += width
                }
            }
            self.bands = bands
            slotCount = 36
            lowSlots = 18
        } else {
            bands = (0..<22).map { b in Band(lines: longEdges[b]..<longEdges[b + 1], slot: b < 21 ? b : nil, window: 0) }
            slotCount = 21
            lowSlots = 11
        }
        huffmanEdges = switched ? [0, 36, 576] : longEdges
    }
}
