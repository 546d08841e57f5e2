import Testing
@testable import AudioCodec

struct BitstreamTests {
    @Test func bitWriterPacksMostSignificantBitFirst() {
        var writer = BitWriter()
        writer.write(0b101, bits: 3)
        writer.write(0b1, bits: 1)
        writer.write(0xABC, bits: 12)
        writer.write(true)
        #expect(writer.bytes == [0b1011_1010, 0b1011_1100, 0b1000_0000])
        #expect(writer.count == 17)

        var other = BitWriter()
        other.write(0b11, bits: 2)
        writer.append(other)
        #expect(writer.bytes == [0b1011_1010, 0b1011_1100, 0b1110_0000])
        #expect(writer.count == 19)
    }

    /// The MPEG audio CRC is CRC-16/CMS: its check value over "123456789" is 0xAEE7.
    @Test func crcMatchesTheCatalogueCheckValue() {
        #expect(mpegCRC16(Array("123456789".utf8)) == 0xAEE7)
    }

    /// Frame lengths of clause 2.4.3.1: ⌊144 000·bitrate/fs⌋ bytes, one more when padded.
    @Test(arguments: [(9, 0, false, 417), (9, 0, true, 418), (9, 1, false, 384), (9, 2, false, 576),
                      (1, 0, false, 104), (14, 1, false, 960), (14, 2, true, 1441)])
    func frameLengths(bitrateIndex: Int, rateIndex: Int, padding: Bool, bytes: Int) {
        let header = FrameHeader(bitrateIndex: bitrateIndex, sampleRateIndex: rateIndex, padding: padding,
                                 mode: .stereo, hasCRC: false)
        #expect(header.frameBytes == bytes)
        #expect(header.mainDataSlotBytes == bytes - 4 - 32)
    }

    @Test func headerBitsFor128kStereoAt44100() {
        var writer = BitWriter()
        FrameHeader(bitrateIndex: 9, sampleRateIndex: 0, padding: false, mode: .stereo, hasCRC: false)
            .write(to: &writer)
        // FFFB 9004: sync, MPEG-1, Layer III, no CRC, 128 kbit/s, 44.1 kHz, stereo, original.
        #expect(writer.bytes == [0xFF, 0xFB, 0x90, 0x04])
        var protected = BitWriter()
        FrameHeader(bitrateIndex: 9, sampleRateIndex: 1, padding: true, mode: .singleChannel, hasCRC: true)
            .write(to: &protected)
        #expect(protected.bytes == [0xFF, 0xFA, 0x96, 0xC4])
    }

    /// 17/32 bytes in MPEG-1, 9/17 in MPEG-2/2.5 (one granule).
    @Test(arguments: [1, 2], [false, true])
    func sideInfoHasTheStandardLength(channels: Int, lsf: Bool) {
        var writer = BitWriter()
        SideInfo(channels: channels, granules: lsf ? 1 : 2).write(to: &writer, lsf: lsf)
        #expect(writer.count == (lsf ? (channels == 1 ? 72 : 136) : (channels == 1 ? 136 : 256)))
    }

    /// What the encoder writes, the decoder reads back, window switching included.
    @Test(arguments: [1, 2])
    func sideInfoRoundTrips(channels: Int) throws {
        var side = SideInfo(channels: channels)
        side.mainDataBegin = 300
        side.scfsi[channels - 1] = [true, false, true, true]
        var normal = GranuleSideInfo(part23Length: 1234, bigValues: 200, globalGain: 170, scalefacCompress: 11,
                                     tableSelect: [24, 13, 7], region0Count: 9, region1Count: 5)
        normal.preflag = true
        normal.count1TableB = true
        // The decoder fills in the implicit fields of a switched window: regions and table 3.
        let short = GranuleSideInfo(part23Length: 777, bigValues: 100, globalGain: 150, scalefacCompress: 3,
                                    windowSwitching: true, blockType: 2, mixedBlock: false, tableSelect: [5, 12, 0],
                                    subblockGain: [1, 0, 7], region0Count: 8, region1Count: 36, scalefacScale: true)
        side.granules = [Array(repeating: normal, count: channels), Array(repeating: short, count: channels)]
        var writer = BitWriter()
        side.write(to: &writer)
        var reader = BitReader(writer.bytes)
        #expect(try SideInfo.read(&reader, channels: channels) == side)

        // MPEG-2/2.5: one granule, a 9-bit scalefac_compress, no scfsi or preflag.
        var lsf = SideInfo(channels: channels, granules: 1)
        lsf.mainDataBegin = 200
        normal.preflag = false
        normal.scalefacCompress = 501
        lsf.granules = [[normal, short].suffix(channels)]
        var lsfWriter = BitWriter()
        lsf.write(to: &lsfWriter, lsf: true)
        var lsfReader = BitReader(lsfWriter.bytes)
        #expect(try SideInfo.read(&lsfReader, channels: channels, lsf: true) == lsf)
    }

    /// Table 3-B.8: band widths of the long blocks, as printed, per sampling frequency.
    @Test(arguments: [
        (0, [4, 4, 4, 4, 4, 4, 6, 6, 8, 8, 10, 12, 16, 20, 24, 28, 34, 42, 50, 54, 76, 158]),
        (1, [4, 4, 4, 4, 4, 4, 6, 6, 6, 8, 10, 12, 16, 18, 22, 28, 34, 40, 46, 54, 54, 192]),
        (2, [4, 4, 4, 4, 4, 4, 6, 6, 8, 10, 12, 16, 20, 24, 30, 38, 46, 56, 68, 84, 102, 26]),
    ])
    func longBandWidthsMatchTheStandard(rateIndex: Int, widths: [Int]) {
        let edges = ISO11172_3.longBandEdges[rateIndex]
        #expect(zip(edges, edges.dropFirst()).map { $1 - $0 } == widths)
        #expect(edges.last == 576)
    }

    @Test(arguments: [
        (0, [4, 4, 4, 4, 6, 8, 10, 12, 14, 18, 22, 30, 56]),
        (1, [4, 4, 4, 4, 6, 6, 10, 12, 14, 16, 20, 26, 66]),
        (2, [4, 4, 4, 4, 6, 8, 12, 16, 20, 26, 34, 42, 12]),
    ])
    func shortBandWidthsMatchTheStandard(rateIndex: Int, widths: [Int]) {
        let edges = ISO11172_3.shortBandEdges[rateIndex]
        #expect(zip(edges, edges.dropFirst()).map { $1 - $0 } == widths)
    }

    @Test func scalefacCompressPicksTheCheapestThatFits() {
        // Maxima 5 (needs 3 bits) and 2 (needs 2): (3, 2), index 12, costs 53 bits; (3, 3) and (4, 2) cost more.
        let long = GranuleLayout(blockType: 0, longEdges: ISO11172_3.longBandEdges[0], shortEdges: ISO11172_3.shortBandEdges[0])
        var scalefactors = [Int](repeating: 0, count: 21)
        scalefactors[3] = 5
        scalefactors[15] = 2
        #expect(GranuleCoder.scalefacCompress(for: scalefactors, layout: long) == 12)
        #expect(GranuleCoder.scalefacCompress(for: [Int](repeating: 0, count: 21), layout: long) == 0)
        scalefactors[3] = 15
        scalefactors[15] = 7
        #expect(GranuleCoder.scalefacCompress(for: scalefactors, layout: long) == 15)
    }

    @Test func shortBlockScalefactorsSplitAtBandSix() {
        // Short blocks send 36 scalefactors: bands 0-5 (18 slots) under slen1, 6-11 under slen2.
        let short = GranuleLayout(blockType: 2, longEdges: ISO11172_3.longBandEdges[0], shortEdges: ISO11172_3.shortBandEdges[0])
        #expect(short.slotCount == 36 && short.lowSlots == 18)
        #expect(short.bands.count == 39 && short.bands.last!.lines.upperBound == 576)
        #expect(short.huffmanEdges == [0, 36, 576])
        var scalefactors = [Int](repeating: 0, count: 36)
        scalefactors[17] = 7   // band 5, window 2: 3 bits
        scalefactors[18] = 1   // band 6, window 0: 1 bit
        // (3, 1) is index 11; its 18·3 + 18·1 = 72 bits beat (3, 2), (3, 3), (4, 2) and (4, 3).
        #expect(GranuleCoder.scalefacCompress(for: scalefactors, layout: short) == 11)
        scalefactors[18] = 0
        // (3, 0) is index 4: the high slots cost nothing.
        #expect(GranuleCoder.scalefacCompress(for: scalefactors, layout: short) == 4)
    }
}
