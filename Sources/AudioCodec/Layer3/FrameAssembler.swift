/// Lays frames out in the bitstream with the bit reservoir (clause 2.4.3.4.2):
/// a frame's main data may start up to 511 bytes before its own slot, in
/// the unused tail of earlier frames, and main_data_begin says how far.
struct FrameAssembler {
    private let sampleRateIndex: Int
    private let mode: FrameHeader.Mode
    private let crc: Bool
    /// Fractional frame length: padding slots accumulate as 144·bitrate mod fs.
    private var paddingRemainder = 0
    private var frames: [(header: FrameHeader, sideInfo: SideInfo, slotStart: Int)] = []
    /// Every frame's main data slot, end to end.
    private var mainStream: [UInt8] = []
    /// End of the main data written so far, in `mainStream`.
    private var dataEnd = 0
    private var current: (header: FrameHeader, slotStart: Int, dataStart: Int)?

    init(sampleRateIndex: Int, mode: FrameHeader.Mode, crc: Bool) {
        self.sampleRateIndex = sampleRateIndex
        self.mode = mode
        self.crc = crc
    }

    var slotBytes: Int { current?.header.mainDataSlotBytes ?? 0 }

    /// Bits of earlier frames' slots the next frame's main data may still use.
    var reservoirBits: Int { 8 * min(mainStream.count - dataEnd, ISO11172_3.maxMainDataBegin) }

    /// Bytes each finished frame takes in the stream.
    var frameSizes: [Int] { frames.map(\.header.frameBytes) }

    /// Main data bytes of an unpadded frame at `bitrateIndex`.
    func slotBytes(bitrateIndex: Int) -> Int {
        FrameHeader(bitrateIndex: bitrateIndex, sampleRateIndex: sampleRateIndex, padding: false, mode: mode, hasCRC: crc)
            .mainDataSlotBytes
    }

    /// Starts the next frame at `bitrateIndex`; returns the bits its main data may take.
    mutating func beginFrame(bitrateIndex: Int) -> Int {
        precondition(current == nil, "end the previous frame first")
        let rate = ISO11172_3.sampleRates[sampleRateIndex]
        paddingRemainder += 144_000 * ISO11172_3.bitrates[bitrateIndex] % rate
        let padding = paddingRemainder >= rate
        if padding { paddingRemainder -= rate }
        let header = FrameHeader(bitrateIndex: bitrateIndex, sampleRateIndex: sampleRateIndex, padding: padding,
                                 mode: mode, hasCRC: crc)
        let slotStart = mainStream.count
        mainStream.append(contentsOf: [UInt8](repeating: 0, count: header.mainDataSlotBytes))
        let dataStart = max(dataEnd, slotStart - ISO11172_3.maxMainDataBegin)
        current = (header, slotStart, dataStart)
        return 8 * (mainStream.count - dataStart)
    }

    /// Places the frame's main data and records its side information and
    /// mode extension (joint stereo: 2 for mid/side); returns the frame's bytes.
    @discardableResult
    mutating func endFrame(sideInfo: SideInfo, mainData: BitWriter, modeExtension: Int = 0) -> Int {
        guard var frame = current else { preconditionFailure("begin a frame first") }
        frame.header.modeExtension = modeExtension
        precondition(frame.dataStart + mainData.bytes.count <= mainStream.count, "main data overflows the reservoir")
        var info = sideInfo
        info.mainDataBegin = frame.slotStart - frame.dataStart
        mainStream.replaceSubrange(frame.dataStart..<(frame.dataStart + mainData.bytes.count), with: mainData.bytes)
        dataEnd = frame.dataStart + mainData.bytes.count
        frames.append((frame.header, info, frame.slotStart))
        current = nil
        return frame.header.frameBytes
    }

    /// The whole bitstream.
    func finish() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(frames.reduce(0) { $0 + $1.header.frameBytes })
        for frame in frames {
            var head = BitWriter(reservingBytes: 4)
            frame.header.write(to: &head)
            var side = BitWriter(reservingBytes: 32)
            frame.sideInfo.write(to: &side)
            out.append(contentsOf: head.bytes)
            if crc {
                let checksum = mpegCRC16(head.bytes[2...] + side.bytes)
                out.append(UInt8(checksum >> 8))
                out.append(UInt8(checksum & 0xFF))
            }
            out.append(contentsOf: side.bytes)
            let slot = frame.header.mainDataSlotBytes
            out.append(contentsOf: mainStream[frame.slotStart..<(frame.slotStart + slot)])
        }
        return out
    }
}
