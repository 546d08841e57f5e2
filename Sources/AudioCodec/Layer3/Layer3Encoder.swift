import RealModule

/// How each frame's bitrate is chosen.
public enum RateControl: Sendable, Hashable {
    /// Every frame at this bitrate (kbit/s), the bit reservoir evening out the granules.
    case constant(Int)
    /// Each frame at the least bitrate that keeps its noise within a margin of
    /// the masking threshold; quality 0 is the finest margin, 9 the coarsest (LAME's -V).
    case variable(quality: Int)
    /// Variable, with the margin steered so that the average lands on this bitrate (kbit/s).
    case average(Int)
}

/// How to encode.
public struct EncoderSettings: Sendable, Hashable {
    /// The CBR bitrates MPEG-1 Layer III has, in kbit/s (free format aside).
    public static let bitrates = Array(ISO11172_3.bitrates.dropFirst())

    public enum ChannelMode: String, Sendable, CaseIterable {
        /// Two independent channels (L/R).
        case stereo
        /// Two channels, coded as mid/side in the frames where that needs fewer bits.
        case joint
        /// One channel; stereo input is mixed down.
        case mono
    }

    public var rate: RateControl
    /// `nil`: joint stereo for two-channel input, mono for one.
    public var mode: ChannelMode?
    /// Protect each frame with a CRC-16.
    public var crc: Bool
    /// Lowpass cutoff in Hz; `nil` for the bitrate's default.
    public var lowpassHz: Double?
    /// Switch to short blocks at attacks; off, every granule is a long block.
    public var shortBlocks: Bool
    /// Tally the NMR, bits and zeroing of the bands (`EncodedAudio.analysis`).
    public var analysis = false
    /// With the analysis, keep every band of every granule too (memory grows with the input).
    public var analysisPerBand = false

    public init(rate: RateControl, mode: ChannelMode? = nil, crc: Bool = false, lowpassHz: Double? = nil,
                shortBlocks: Bool = true) {
        self.rate = rate
        self.mode = mode
        self.crc = crc
        self.lowpassHz = lowpassHz
        self.shortBlocks = shortBlocks
    }

    /// Constant bitrate: one of 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320 kbit/s.
    public init(bitrate: Int, mode: ChannelMode? = nil, crc: Bool = false, lowpassHz: Double? = nil,
                shortBlocks: Bool = true) {
        self.init(rate: .constant(bitrate), mode: mode, crc: crc, lowpassHz: lowpassHz, shortBlocks: shortBlocks)
    }
}

public enum EncoderError: Error, Equatable, CustomStringConvertible {
    case unsupportedSampleRate(Int)
    case unsupportedBitrate(Int)
    case unsupportedQuality(Int)
    case averageBitrateOutOfRange(Int)
    case unsupportedChannelCount(Int)
    case lowpassOutOfRange(hz: Double, nyquist: Double)

    public var description: String {
        switch self {
        case let .unsupportedSampleRate(rate):
            return "MPEG-1 Layer III codes 32000, 44100 or 48000 Hz; the input is \(rate) Hz (resample it first)"
        case let .unsupportedBitrate(kbps):
            return "bitrate \(kbps) kbit/s is not an MPEG-1 Layer III bitrate; use one of \(EncoderSettings.bitrates.map(String.init).joined(separator: ", "))"
        case let .unsupportedQuality(quality):
            return "VBR quality \(quality) is outside 0…9 (0 is the best, 9 the smallest)"
        case let .averageBitrateOutOfRange(kbps):
            return "average bitrate \(kbps) kbit/s is outside 32…320"
        case let .unsupportedChannelCount(count):
            return "the encoder takes mono or stereo input; this file has \(count) channels"
        case let .lowpassOutOfRange(hz, nyquist):
            return "lowpass \(Int(hz)) Hz is outside 1000…\(Int(nyquist)) Hz"
        }
    }
}

/// An encoded MP3 and what it took.
public struct EncodedAudio: Sendable {
    public var bytes: [UInt8]
    public var frameCount: Int
    public var sampleRate: Int
    public var channelCount: Int
    /// Samples of the decoded output that precede the first input sample when
    /// the decoder does not trim what the Info frame records.
    public var delay: Int
    /// Input samples per channel.
    public var inputLength: Int
    /// The lowpass applied, in Hz.
    public var lowpassHz: Double
    /// Bits of scalefactors and Huffman data in all granules (part2_3_length summed).
    public var mainDataBits: Int
    /// Granules coded with each block type: normal, start, short, stop.
    public var blockTypeCounts: [Int]
    /// Frames coded as mid/side.
    public var midSideFrames: Int
    /// Perceptual entropy of each granule in bits, over its channels as coded.
    public var perceptualEntropy: [Double]
    /// Audio frames at each bitrate (kbit/s); the Info frame apart.
    public var bitrateCounts: [Int: Int]
    /// Bytes of the Xing/Info frame that heads `bytes`.
    public var infoFrameBytes: Int
    /// Per band and per frame, when the settings asked for it.
    public var analysis: EncodingAnalysis?
}

/// The MPEG-1 Layer III encoder: PCM in, a standard bitstream out, headed by a Xing/Info frame.
public enum Layer3Encoder {
    /// Delay of the whole chain, analysis and synthesis: a decoder's output
    /// sample n + delay reproduces input sample n. 481 samples of polyphase
    /// analysis and synthesis (512 − 32 + 1) and one granule (576) of MDCT overlap.
    public static let delay = 1057

    /// Frames each stage may run ahead of the next.
    static let stageLookahead = 4

    public static func encode(_ audio: PCMAudio, settings: EncoderSettings) throws(EncoderError) -> EncodedAudio {
        guard let rateIndex = ISO11172_3.sampleRates.firstIndex(of: audio.sampleRate) else {
            throw .unsupportedSampleRate(audio.sampleRate)
        }
        var rateControl = try FrameRateControl(settings.rate, sampleRate: audio.sampleRate)
        guard (1...2).contains(audio.channels.count) else { throw .unsupportedChannelCount(audio.channels.count) }
        let mode = settings.mode ?? (audio.channels.count == 2 ? .joint : .mono)
        let input = audio.channels(as: mode == .mono ? 1 : 2)
        let channels = input.count
        let nyquist = Double(audio.sampleRate) / 2
        let cutoff = settings.lowpassHz ?? rateControl.cutoff(channels: channels, sampleRate: audio.sampleRate)
        guard cutoff >= 1000 && cutoff <= nyquist else { throw .lowpassOutOfRange(hz: cutoff, nyquist: nyquist) }

        let frameCount = (audio.frameCount + delay + ISO11172_3.frameLength - 1) / ISO11172_3.frameLength
        let longEdges = ISO11172_3.longBandEdges[rateIndex], shortEdges = ISO11172_3.shortBandEdges[rateIndex]
        let layouts = (0..<4).map { GranuleLayout(blockType: $0, longEdges: longEdges, shortEdges: shortEdges) }
        let cutoffLine = Lowpass.firstLine(above: cutoff, sampleRate: audio.sampleRate)
        let quiet = ThresholdInQuiet(longEdges: longEdges, shortEdges: shortEdges, sampleRate: audio.sampleRate,
                                     longSineEnergy: fullScaleSineEnergy.long, shortSineEnergy: fullScaleSineEnergy.short)
        // Both channels switch together, so that mid/side pairs lines of the same transform.
        let blockTypes = settings.shortBlocks
            ? BlockSwitching.blockTypes(attacks: BlockSwitching.attacks(input, granules: 2 * frameCount))
            : [Int](repeating: 0, count: 2 * frameCount)
        let joint = mode == .joint && channels == 2
        let midSideCoding = joint
            ? MidSideCoding(sampleRate: audio.sampleRate, layouts: layouts, longEdges: longEdges, shortEdges: shortEdges)
            : nil
        // Filterbank and psychoacoustic model run ahead, on a thread of their own:
        // a few frames are enough to keep the stages after them from waiting.
        let analyzer = FrameAnalyzer(input: input, sampleRate: audio.sampleRate, layouts: layouts, blockTypes: blockTypes,
                                     longEdges: longEdges, shortEdges: shortEdges, cutoffLine: cutoffLine,
                                     softening: rateControl.ratioExponent, midSide: joint, keepUnfiltered: settings.analysis)
        let analyzed = LookaheadQueue(count: frameCount, depth: stageLookahead) { analyzer.frame($0) }
        let planner = FramePlanner(quiet: quiet, midSideCoding: midSideCoding, menuDepth: rateControl.menuDepth)
        // Thresholds, the stereo decision and the menus take a stage of their own,
        // on a third thread, unless the threshold in quiet moves frame by frame
        // (average bitrate): then they are worked out here, as each frame comes.
        let planned = rateControl.fixedQuietScale.map { quietScale in
            // Frames are produced in order, so the next analysed one is the frame asked for.
            LookaheadQueue(count: frameCount, depth: stageLookahead) { _ in
                planner.plan(analyzed.next(), quietScale: quietScale)
            }
        }

        let frameMode: FrameHeader.Mode = channels == 1 ? .singleChannel : (mode == .joint ? .jointStereo : .stereo)
        var stream = FrameAssembler(sampleRateIndex: rateIndex, mode: frameMode, crc: settings.crc)
        var mainDataBits = 0, midSideFrames = 0
        var blockTypeCounts = [0, 0, 0, 0]
        var bitrateCounts = [Int](repeating: 0, count: 15)
        var analysis = settings.analysis
            ? EncodingAnalysis.Builder(sampleRate: audio.sampleRate, longEdges: longEdges, shortEdges: shortEdges,
                                       perBand: settings.analysisPerBand)
            : nil
        var perceptualEntropy = [Double]()
        for frame in 0..<frameCount {
            let plan = planned?.next() ?? planner.plan(analyzed.next(), quietScale: rateControl.quietScale)
            let inputs = plan.inputs, entropy = plan.entropy, menus = plan.menus
            if plan.midSide { midSideFrames += 1 }
            var sideInfo = SideInfo(channels: channels)
            let frameInputs = plan.codingOrder
            // A variable frame is first coded to its margin, and its exact bits choose the bitrate.
            let meetingMargin = rateControl.isConstant ? nil
                : GranuleCoder.code(frameInputs, menus: menus, maxBits: .max, noiseRatio: rateControl.noiseRatio)
            let demand = meetingMargin?.reduce(0) { $0 + $1.info.part23Length } ?? 0
            let bitrateIndex = rateControl.bitrateIndex(demand: demand, stream: stream)
            bitrateCounts[bitrateIndex] += 1
            let available = stream.beginFrame(bitrateIndex: bitrateIndex)
            perceptualEntropy += entropy
            let frameBits = rateControl.budget(available: available, slotBits: 8 * stream.slotBytes, demand: demand,
                                               perceptualEntropy: entropy.reduce(0, +), framesLeft: frameCount - frame)
            // Otherwise (constant bitrate, a frame past 320 kbit/s, or bits the reservoir
            // cannot keep) both granules of every channel share one allocation: one
            // noise-to-mask slope across the frame, so an attack granule takes bits from a quiet one.
            let coded = meetingMargin.flatMap { frameBits == demand ? $0 : nil }
                ?? GranuleCoder.code(frameInputs, menus: menus, maxBits: frameBits)
            var granules = [Array(coded[0..<channels]), Array(coded[channels...])]
            for granule in 0..<2 { blockTypeCounts[inputs[granule][0].layout.blockType] += 1 }
            shareScalefactors(&granules, &sideInfo)
            analysis?.add(frame: frame, kbps: ISO11172_3.bitrates[bitrateIndex], midSide: plan.midSide,
                          inputs: inputs, unfiltered: plan.unfiltered, coded: granules)
            var mainData = BitWriter(reservingBytes: 2 * stream.slotBytes)
            for granule in 0..<2 {
                for channel in 0..<channels {
                    let coded = granules[granule][channel]
                    sideInfo.granules[granule][channel] = coded.info
                    guard coded.info.part23Length > 0 else { continue }
                    let layout = inputs[granule][channel].layout
                    let widths = ISO11172_3.scalefactorBitWidths[coded.info.scalefacCompress]
                    for slot in 0..<layout.slotCount {
                        // Long-block slots are bands 0…20; skip the scfsi groups granule 1 shares.
                        if granule == 1 && !layout.short,
                           let group = ISO11172_3.scfsiBands.firstIndex(where: { $0.contains(slot) }),
                           sideInfo.scfsi[channel][group] { continue }
                        mainData.write(coded.scalefactors[slot], bits: slot < layout.lowSlots ? widths.low : widths.high)
                    }
                    coded.values.withUnsafeBufferPointer {
                        HuffmanCoder.write($0, coded.coding, bandEdges: layout.huffmanEdges, to: &mainData)
                    }
                }
            }
            mainDataBits += mainData.count
            rateControl.record(frameBytes: stream.endFrame(sideInfo: sideInfo, mainData: mainData,
                                                           modeExtension: plan.midSide ? 2 : 0))
        }
        let frames = stream.finish()
        let tagFrame = infoFrame(stream: stream, frames: frames, rateControl: rateControl, inputLength: audio.frameCount,
                                 sampleRateIndex: rateIndex, mode: frameMode, lowpassHz: cutoff)
        return EncodedAudio(bytes: tagFrame + frames, frameCount: frameCount, sampleRate: audio.sampleRate,
                            channelCount: channels, delay: delay, inputLength: audio.frameCount, lowpassHz: cutoff,
                            mainDataBits: mainDataBits, blockTypeCounts: blockTypeCounts, midSideFrames: midSideFrames,
                            perceptualEntropy: perceptualEntropy,
                            bitrateCounts: Dictionary(uniqueKeysWithValues: bitrateCounts.enumerated()
                                .filter { $0.element > 0 }.map { (ISO11172_3.bitrates[$0.offset], $0.element) }),
                            infoFrameBytes: tagFrame.count, analysis: analysis?.analysis)
    }

    /// The Xing/Info frame that heads the stream: frame and byte counts, seek
    /// table, and the delay and padding that trim the decoded output to the input.
    static func infoFrame(stream: FrameAssembler, frames: [UInt8], rateControl: FrameRateControl, inputLength: Int,
                          sampleRateIndex: Int, mode: FrameHeader.Mode, lowpassHz: Double) -> [UInt8] {
        // Constant bitrate keeps its bitrate if the tag fits; variable takes 128 kbit/s as LAME does.
        // No CRC: readers look for the tag right after the side information as if none could be there.
        let least = rateControl.isConstant ? rateControl.nominalKbps : 128
        let header = (1...14).lazy.map {
            FrameHeader(bitrateIndex: $0, sampleRateIndex: sampleRateIndex, padding: false, mode: mode, hasCRC: false)
        }.first { ISO11172_3.bitrates[$0.bitrateIndex] >= least && $0.frameBytes >= 4 + $0.sideInfoBytes + InfoTag.length }!
        let audioSizes = stream.frameSizes
        let sizes = [header.frameBytes] + audioSizes
        let encoderDelay = delay - Layer3Decoder.decoderDelay
        let method: InfoTag.RateMethod
        let quality: Int
        switch rateControl.rate {
        case .constant: method = .constant; quality = 0
        case .average: method = .average; quality = 0
        case let .variable(level): method = .variable; quality = 100 - 10 * level
        }
        let sampleRate = ISO11172_3.sampleRates[sampleRateIndex]
        let tag = InfoTag(variable: !rateControl.isConstant, frameCount: audioSizes.count, byteCount: sizes.reduce(0, +),
                          seekTable: InfoTag.seekTable(frameSizes: sizes), quality: quality, encoder: InfoTag.encoderName,
                          method: method, lowpassHz: Int(lowpassHz),
                          bitrate: rateControl.isConstant || method == .average ? rateControl.nominalKbps : 32,
                          delay: encoderDelay,
                          padding: audioSizes.count * ISO11172_3.frameLength - inputLength - encoderDelay,
                          sourceRateClass: sampleRate == 44100 ? 1 : (sampleRate == 48000 ? 2 : 0),
                          stereoMode: mode == .singleChannel ? 0 : (mode == .jointStereo ? 3 : 1))
        return tag.frame(header: header, audio: frames)
    }

    static func perceptualEntropy(_ input: GranuleInput) -> Double {
        let energy = input.layout.bands.map { band in band.lines.reduce(0.0) { $0 + Double(input.lines[$1] * input.lines[$1]) } }
        return PsychoacousticModel.perceptualEntropy(energy: energy, tolerance: input.tolerance,
                                                     widths: input.layout.bands.map { $0.lines.count })
    }

    /// Granule 1 reuses granule 0's long-block scalefactors where a whole scfsi group agrees.
    static func shareScalefactors(_ granules: inout [[CodedGranule]], _ sideInfo: inout SideInfo) {
        for channel in sideInfo.scfsi.indices {
            let first = granules[0][channel], second = granules[1][channel]
            guard first.info.blockType != 2 && second.info.blockType != 2 && second.info.part23Length > 0
                  && first.info.scalefacCompress == second.info.scalefacCompress else { continue }
            for (group, bands) in ISO11172_3.scfsiBands.enumerated()
            where first.scalefactors[bands] == second.scalefactors[bands] {
                sideInfo.scfsi[channel][group] = true
            }
            let widths = ISO11172_3.scalefactorBitWidths[second.info.scalefacCompress]
            let saved = ISO11172_3.scfsiBands.enumerated().reduce(0) { total, entry in
                guard sideInfo.scfsi[channel][entry.offset] else { return total }
                return total + entry.element.count * (entry.element.lowerBound < 11 ? widths.low : widths.high)
            }
            granules[1][channel].part2Bits -= saved
            granules[1][channel].info.part23Length -= saved
        }
    }

    /// MDCT energy of a full-scale 1 kHz sine measured through the
    /// filterbank itself: per granule of long blocks, and per window of short
    /// blocks. The references that place the threshold in quiet.
    static let fullScaleSineEnergy: (long: Double, short: Double) = {
        let sine = (0..<(6 * 576)).map { Float(Double.sin(2 * Double.pi * 1000 * Double($0) / 44100)) }
        func energy(blockType: Int) -> Double {
            var analysis = ChannelAnalysis()
            var lines = [Float](repeating: 0, count: 576)
            for granule in 0..<6 { analysis.granule(from: sine, start: granule * 576, blockType: blockType, into: &lines) }
            return lines.reduce(0) { $0 + Double($1) * Double($1) }
        }
        return (energy(blockType: 0), energy(blockType: 2) / 3)
    }()
}

/// The filterbank state of one channel.
struct ChannelAnalysis {
    private var polyphase = PolyphaseAnalysis()
    private var mdct = HybridMDCT()
    private var block = [Float](repeating: 0, count: 32)
    private var subbands = [Float](repeating: 0, count: 576)

    /// The MDCT lines of the granule whose samples start at `start` (zeros
    /// past the end), transformed as `blockType`.
    mutating func granule(from samples: [Float], start: Int, blockType: Int, into lines: inout [Float]) {
        for t in 0..<18 {
            for j in 0..<32 {
                let n = start + t * 32 + j
                block[j] = n < samples.count ? samples[n] : 0
            }
            block.withUnsafeBufferPointer { input in
                subbands.withUnsafeMutableBufferPointer { out in
                    polyphase.analyze(input, into: UnsafeMutableBufferPointer(rebasing: out[(t * 32)..<(t * 32 + 32)]))
                }
            }
        }
        subbands.withUnsafeBufferPointer { input in
            lines.withUnsafeMutableBufferPointer { mdct.transform(input, blockType: blockType, into: $0) }
        }
    }
}

