/// How one granule of one channel is coded: the per-granule fields of the
/// side information (clause 2.4.1.7), window switching included.
struct GranuleSideInfo: Hashable {
    /// Bits of scalefactors (part 2) plus Huffman data (part 3).
    var part23Length = 0
    /// Pairs coded with the big-value tables.
    var bigValues = 0
    var globalGain = 210
    /// 4 bits in MPEG-1, 9 in MPEG-2/2.5.
    var scalefacCompress = 0
    var windowSwitching = false
    /// 0 normal, 1 start, 2 short, 3 stop (with window switching).
    var blockType = 0
    var mixedBlock = false
    /// Huffman table per region 0, 1, 2 (two regions with window switching).
    var tableSelect = [0, 0, 0]
    /// Gain offsets of the three short windows, in units of 2 (×4 of global gain).
    var subblockGain = [0, 0, 0]
    /// Scalefactor bands in region 0, minus one.
    var region0Count = 0
    /// Scalefactor bands in region 1, minus one.
    var region1Count = 0
    var preflag = false
    /// Scalefactor step: false is √2 (1.5 dB·2), true is 2.
    var scalefacScale = false
    /// Count1 table: false is A, true is B.
    var count1TableB = false
}

/// The side information of one frame (clause 2.4.1.7, and ISO/IEC 13818-3
/// 2.4.1.7 for MPEG-2/2.5): the encoder writes it, the decoder reads it (`read`).
struct SideInfo: Hashable {
    var mainDataBegin = 0
    /// scfsi[channel][group]: granule 1 reuses granule 0's scalefactors for that group.
    var scfsi: [[Bool]]
    /// granules[granule][channel].
    var granules: [[GranuleSideInfo]]

    init(channels: Int, granules: Int = 2) {
        scfsi = Array(repeating: [false, false, false, false], count: channels)
        self.granules = Array(repeating: Array(repeating: GranuleSideInfo(), count: channels), count: granules)
    }

    /// Writes the side information of MPEG-1 or, with `lsf`, of MPEG-2/2.5
    /// (8-bit main_data_begin, 9-bit scalefac_compress, no scfsi or preflag).
    func write(to writer: inout BitWriter, lsf: Bool = false) {
        let channels = scfsi.count
        writer.write(mainDataBegin, bits: lsf ? 8 : 9)
        writer.write(0, bits: lsf ? channels : (channels == 1 ? 5 : 3))  // private_bits
        if !lsf {
            for channel in 0..<channels {
                for flag in scfsi[channel] { writer.write(flag) }
            }
        }
        for granule in granules {
            for info in granule {
                writer.write(info.part23Length, bits: 12)
                writer.write(info.bigValues, bits: 9)
                writer.write(info.globalGain, bits: 8)
                writer.write(info.scalefacCompress, bits: lsf ? 9 : 4)
                writer.write(info.windowSwitching)
                if info.windowSwitching {
                    writer.write(info.blockType, bits: 2)
                    writer.write(info.mixedBlock)
                    for table in info.tableSelect.prefix(2) { writer.write(table, bits: 5) }
                    for gain in info.subblockGain { writer.write(gain, bits: 3) }
                } else {
                    for table in info.tableSelect { writer.write(table, bits: 5) }
                    writer.write(info.region0Count, bits: 4)
                    writer.write(info.region1Count, bits: 3)
                }
                if !lsf { writer.write(info.preflag) }
                writer.write(info.scalefacScale)
                writer.write(info.count1TableB)
            }
        }
    }
}
