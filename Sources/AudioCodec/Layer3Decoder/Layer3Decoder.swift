/// Why a stream could not be decoded at all.
public enum DecoderError: Error, Equatable, CustomStringConvertible {
    case noFrames

    public var description: String {
        switch self {
        case .noFrames: return "no MPEG audio Layer III frames found"
        }
    }
}

/// A decoded stream and what the decoder met on the way.
public struct DecodedStream: Sendable {
    public var audio: PCMAudio
    public var frameCount: Int
    /// Frames whose main data was missing or damaged, and frames lost with
    /// the sync (counted from the bytes skipped); they decode as silence.
    public var damagedFrames: Int
    /// Encoder delay and padding from a LAME/Info tag, when there is one.
    public var gapless: (delay: Int, padding: Int)?
    /// Audio frames the Xing/Info tag counts beyond those the stream holds:
    /// a cut file. Its padding is then not trimmed, the end being elsewhere.
    public var missingFrames: Int
    /// kbit/s of the audio frames over their own duration (a Xing/Info frame apart).
    public var averageBitrate: Double
}

/// The Layer III decoder for MPEG-1, MPEG-2 and MPEG-2.5: sync and resync,
/// tags, the bit reservoir, long/short/mixed blocks, mid/side and intensity stereo.
public enum Layer3Decoder {
    /// Samples of delay of the decoder's own filterbank (the 528 + 1 that
    /// LAME's tag convention adds to the encoder delay).
    public static let decoderDelay = 529

    public static func decode(_ file: [UInt8]) throws(DecoderError) -> DecodedStream {
        let bytes = Array(file[..<audioEnd(file)])
        var position = id3v2Length(bytes)
        var first: ParsedHeader?
        var channels: [[Float]] = []
        var reservoir = [UInt8]()
        var synthesis = [HybridSynthesis]()
        var previousScalefactors = [GranuleDecoder.Scalefactors]()
        var frames = 0, damaged = 0, audioBytes = 0
        // Where the next frame starts if the stream is intact.
        var expectedStart: Int?
        var gapless: (delay: Int, padding: Int)?
        var taggedFrames: Int?
        let decoders = HuffmanDecoders.shared
        var values = [Int32](repeating: 0, count: 576)
        var scratch = [Float](repeating: 0, count: 576)

        while position + 4 <= bytes.count {
            guard let header = ParsedHeader(bytes[position...]),
                  first.map({ $0.sampleRate == header.sampleRate && $0.version == header.version }) ?? true,
                  // After lost sync a header must be confirmed again, as at the start.
                  confirmed(header, at: position, in: bytes, synced: first != nil && position == expectedStart)
            else { position += 1; continue }
            let end = min(bytes.count, position + header.frameBytes)
            if first == nil {
                first = header
                channels = Array(repeating: [], count: header.channelCount)
                synthesis = Array(repeating: HybridSynthesis(), count: header.channelCount)
                previousScalefactors = Array(repeating: GranuleDecoder.Scalefactors(), count: header.channelCount)
                let tagStart = 4 + (header.hasCRC ? 2 : 0) + header.sideInfoBytes
                if let tag = InfoTag.read(Array(bytes[position..<end]), tagStart: tagStart) {
                    gapless = tag.gapless
                    taggedFrames = tag.frameCount
                    position = end
                    expectedStart = end
                    continue
                }
            }
            guard header.channelCount == channels.count else { position += 1; continue }
            if let expected = expectedStart, position > expected {
                // Sync was lost: the bytes skipped held frames. As many frames
                // of silence as they would have held keep later audio in place;
                // the reservoir and filterbank restart, their history being gone.
                let frameBytes = frames > 0 ? Double(audioBytes) / Double(frames) : Double(header.frameBytes)
                let lost = Int((Double(position - expected) / frameBytes).rounded())
                if lost > 0 {
                    for c in channels.indices { channels[c].append(contentsOf: [Float](repeating: 0, count: lost * header.samples)) }
                    frames += lost
                    damaged += lost
                    audioBytes += position - expected
                    reservoir.removeAll()
                    synthesis = Array(repeating: HybridSynthesis(), count: header.channelCount)
                    previousScalefactors = Array(repeating: GranuleDecoder.Scalefactors(), count: header.channelCount)
                }
            }
            expectedStart = end
            let lsf = header.version != .mpeg1
            let sideStart = position + 4 + (header.hasCRC ? 2 : 0)
            let mainStart = sideStart + header.sideInfoBytes
            guard mainStart <= end else { break }
            var sideReader = BitReader(Array(bytes[sideStart..<mainStart]))
            let rateIndex = header.rateTableIndex
            let longEdges = rateIndex < 3 ? ISO11172_3.longBandEdges[rateIndex] : ISO13818_3.longBandEdges[rateIndex - 3]
            let shortEdges = rateIndex < 3 ? ISO11172_3.shortBandEdges[rateIndex] : ISO13818_3.shortBandEdges[rateIndex - 3]
            let base = channels[0].count
            for c in channels.indices { channels[c].append(contentsOf: [Float](repeating: 0, count: header.samples)) }
            frames += 1
            audioBytes += end - position

            let slot = Array(bytes[mainStart..<end])
            defer {
                reservoir.append(contentsOf: slot)
                if reservoir.count > 4096 { reservoir.removeFirst(reservoir.count - 4096) }
            }
            guard let side = try? SideInfo.read(&sideReader, channels: header.channelCount, lsf: lsf),
                  side.mainDataBegin <= reservoir.count else {
                damaged += 1
                position = end
                continue
            }
            var reader = BitReader(Array(reservoir.suffix(side.mainDataBegin)) + slot)
            var lines = Array(repeating: [Float](repeating: 0, count: 576), count: header.channelCount)
            var ok = true
            for gr in 0..<header.granules where ok {
                var rightScalefactors = GranuleDecoder.Scalefactors()
                for c in 0..<header.channelCount {
                    var g = side.granules[gr][c]
                    let start = reader.position
                    do {
                        let sf = lsf
                            ? try GranuleDecoder.readLSFScalefactors(&reader, &g, intensityRight: c == 1 && header.intensityStereo)
                            : try GranuleDecoder.readScalefactors(&reader, g, scfsi: side.scfsi[c], granule: gr,
                                                                  previous: previousScalefactors[c])
                        previousScalefactors[c] = sf
                        if c == 1 { rightScalefactors = sf }
                        _ = try GranuleDecoder.readHuffman(&reader, g, end: start + g.part23Length, longEdges: longEdges,
                                                           shortEdges: shortEdges, decoders: decoders, into: &values)
                    } catch { ok = false; break }
                    guard start + g.part23Length <= reader.remaining + reader.position else { ok = false; break }
                    reader.seek(to: start + g.part23Length)
                    GranuleDecoder.requantize(values, g, previousScalefactors[c], longEdges: longEdges,
                                              shortEdges: shortEdges, into: &lines[c])
                }
                guard ok else { break }
                if header.channelCount == 2 && (header.msStereo || header.intensityStereo) {
                    var left = lines[0], right = lines[1]
                    StereoProcessing.apply(left: &left, right: &right, header: header, side.granules[gr][1],
                                           rightScalefactors: rightScalefactors, longEdges: longEdges, shortEdges: shortEdges)
                    lines = [left, right]
                }
                for c in 0..<header.channelCount {
                    let g = side.granules[gr][c]
                    GranuleDecoder.reorder(&lines[c], g, shortEdges: shortEdges, scratch: &scratch)
                    synthesis[c].synthesize(&lines[c], g, shortFrom: GranuleDecoder.shortFrom(g, shortEdges: shortEdges),
                                            into: &channels[c], at: base + 576 * gr)
                }
            }
            if !ok {
                damaged += 1
                for c in channels.indices { for i in base..<(base + header.samples) { channels[c][i] = 0 } }
            }
            position = end
        }
        guard let header = first, frames > 0 else { throw .noFrames }
        let missing = max(0, (taggedFrames ?? 0) - frames)
        if let tag = gapless {
            // Trim the encoder's delay and padding, as LAME's tag convention counts them.
            let total = channels[0].count
            let head = min(total, tag.delay + decoderDelay)
            let padding = missing > 0 ? 0 : max(0, tag.padding - decoderDelay)
            let tail = max(head, total - padding)
            for c in channels.indices { channels[c] = Array(channels[c][head..<tail]) }
        }
        let seconds = Double(frames * header.samples) / Double(header.sampleRate)
        return DecodedStream(audio: PCMAudio(sampleRate: header.sampleRate, channels: channels),
                             frameCount: frames, damagedFrames: damaged, gapless: gapless, missingFrames: missing,
                             averageBitrate: Double(audioBytes) * 8 / seconds / 1000)
    }

    /// A header is believed at the first sync only if the next frame starts
    /// where this one ends (or the stream ends there).
    private static func confirmed(_ header: ParsedHeader, at position: Int, in bytes: [UInt8], synced: Bool) -> Bool {
        if synced { return true }
        let next = position + header.frameBytes
        if next + 4 > bytes.count { return next <= bytes.count + 1 }
        guard let following = ParsedHeader(bytes[next...]) else { return false }
        return following.version == header.version && following.sampleRate == header.sampleRate
    }

    /// Bytes of an ID3v2 tag at the start (header, syncsafe size, footer).
    private static func id3v2Length(_ bytes: [UInt8]) -> Int {
        guard bytes.count >= 10, bytes[0] == 0x49, bytes[1] == 0x44, bytes[2] == 0x33 else { return 0 }
        let size = bytes[6..<10].reduce(0) { $0 << 7 | Int($1 & 0x7F) }
        let footer = bytes[5] & 0x10 != 0 ? 10 : 0
        return min(bytes.count, 10 + size + footer)
    }

    /// Where the frames end: before trailing ID3v1 ("TAG", 128 bytes) and APEv2
    /// tags, in either order. An APEv2 footer ("APETAGEX", 32 bytes) gives the
    /// tag's size without its header, which flag bit 31 says is there too.
    private static func audioEnd(_ bytes: [UInt8]) -> Int {
        func littleEndian(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        var end = bytes.count
        while true {
            if end >= 128, bytes[(end - 128)..<(end - 125)].elementsEqual("TAG".utf8) {
                end -= 128
            } else if end >= 32, bytes[(end - 32)..<(end - 24)].elementsEqual("APETAGEX".utf8) {
                let size = littleEndian(end - 20) + (littleEndian(end - 12) & (1 << 31) != 0 ? 32 : 0)
                guard size >= 32, size <= end else { return end }
                end -= size
            } else {
                return end
            }
        }
    }
}
