extension SideInfo {
    enum ReadFailure: Error { case truncated, invalid(String) }

    /// Reads the side information of MPEG-1 (two granules) or, with `lsf`,
    /// of MPEG-2/2.5 (one granule, 9-bit scalefac_compress, no scfsi).
    static func read(_ reader: inout BitReader, channels: Int, lsf: Bool = false) throws(ReadFailure) -> SideInfo {
        func field(_ bits: Int) throws(ReadFailure) -> Int {
            guard let value = reader.read(bits: bits) else { throw .truncated }
            return Int(value)
        }
        var info = SideInfo(channels: channels, granules: 0)
        info.mainDataBegin = try field(lsf ? 8 : 9)
        _ = try field(lsf ? channels : (channels == 1 ? 5 : 3))
        for channel in 0..<channels {
            for group in 0..<4 { info.scfsi[channel][group] = lsf ? false : try field(1) == 1 }
        }
        for _ in 0..<(lsf ? 1 : 2) {
            var granule = [GranuleSideInfo]()
            for _ in 0..<channels {
                var g = GranuleSideInfo()
                g.part23Length = try field(12)
                g.bigValues = try field(9)
                guard g.bigValues <= 288 else { throw .invalid("big_values \(g.bigValues) exceeds 288") }
                g.globalGain = try field(8)
                g.scalefacCompress = try field(lsf ? 9 : 4)
                g.windowSwitching = try field(1) == 1
                if g.windowSwitching {
                    g.blockType = try field(2)
                    guard g.blockType != 0 else { throw .invalid("window switching with block type 0") }
                    g.mixedBlock = try field(1) == 1
                    g.tableSelect = [try field(5), try field(5), 0]
                    g.subblockGain = [try field(3), try field(3), try field(3)]
                    // Implicit region counts (clause 2.4.2.7); region 1 reaches the end.
                    g.region0Count = g.blockType == 2 && !g.mixedBlock ? 8 : 7
                    g.region1Count = 36
                } else {
                    g.tableSelect = [try field(5), try field(5), try field(5)]
                    g.region0Count = try field(4)
                    g.region1Count = try field(3)
                }
                for t in g.tableSelect where t == 4 || t == 14 {
                    throw .invalid("Huffman table \(t) does not exist")
                }
                if !lsf { g.preflag = try field(1) == 1 }
                g.scalefacScale = try field(1) == 1
                g.count1TableB = try field(1) == 1
                granule.append(g)
            }
            info.granules.append(granule)
        }
        return info
    }
}
