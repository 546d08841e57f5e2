import RealModule

/// How to encode.
public struct EncoderSettings: Sendable, Hashable {
    public enum ChannelMode: String, Sendable, CaseIterable {
        /// Two independent channels (L/R).
        case stereo
        /// Two channels, coded as mid/side in the frames where that needs fewer bits.
        case joint
        /// One channel; stereo input is mixed down.
        case mono
    }

    /// Bitrate in kbit/s: one of 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320.
    public var bitrate: Int
    /// `nil`: joint stereo for two-channel input, mono for one.
    public var mode: ChannelMode?
    /// Protect each frame with a CRC-16.
    public var crc: Bool
    /// Lowpass cutoff in Hz; `nil` for the bitrate's default.
    public var lowpassHz: Double?
    /// Switch to short blocks at attacks; off, every granule is a long block.
    public var shortBlocks: Bool

    public init(bitrate: Int, mode: ChannelMode? = nil, crc: Bool = false, lowpassHz: Double? = nil,
                shortBlocks: Bool = true) {
        self.bitrate = bitrate
        self.mode = mode
        self.crc = crc
        self.lowpassHz = lowpassHz
        self.shortBlocks = shortBlocks
    }
}

public enum EncoderError: Error, Equatable, CustomStringConvertible {
    case unsupportedSampleRate(Int)
    case unsupportedBitrate(Int)
    case unsupportedChannelCount(Int)
    case lowpassOutOfRange(hz: Double, nyquist: Double)

    public var description: String {
        switch self {
        case let .unsupportedSampleRate(rate):
            return "MPEG-1 Layer III codes 32000, 44100 or 48000 Hz; the input is \(rate) Hz (resample it first)"
        case let .unsupportedBitrate(kbps):
            return "bitrate \(kbps) kbit/s is not an MPEG-1 Layer III bitrate; use one of \(ISO11172_3.bitrates.dropFirst().map(String.init).joined(separator: ", "))"
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
    /// Samples of the decoded output that precede the first input sample.
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
}

/// The MPEG-1 Layer III encoder: PCM in, a standard CBR bitstream out.
public enum Layer3Encoder {
    /// Delay of the whole chain, analysis and synthesis: a decoder's output
    /// sample n + delay reproduces input sample n. 481 samples of polyphase
    /// analysis and synthesis (512 − 32 + 1) and one granule (576) of MDCT overlap.
    public static let delay = 1057

    public static func encode(_ audio: PCMAudio, settings: EncoderSettings) throws(EncoderError) -> EncodedAudio {
        guard let rateIndex = ISO11172_3.sampleRates.firstIndex(of: audio.sampleRate) else {
            throw .unsupportedSampleRate(audio.sampleRate)
        }
        guard let bitrateIndex = ISO11172_3.bitrates.firstIndex(of: settings.bitrate), bitrateIndex > 0 else {
            throw .unsupportedBitrate(settings.bitrate)
        }
        guard (1...2).contains(audio.channels.count) else { throw .unsupportedChannelCount(audio.channels.count) }
        let mode = settings.mode ?? (audio.channels.count == 2 ? .joint : .mono)
        let input: [[Float]]
        if mode == .mono && audio.channels.count == 2 {
            input = [zip(audio.channels[0], audio.channels[1]).map { ($0 + $1) / 2 }]
        } else if mode != .mono && audio.channels.count == 1 {
            input = [audio.channels[0], audio.channels[0]]
        } else {
            input = audio.channels
        }
        let channels = input.count
        let nyquist = Double(audio.sampleRate) / 2
        let cutoff = settings.lowpassHz ?? Lowpass.cutoff(bitrate: settings.bitrate, channels: channels, sampleRate: audio.sampleRate)
        guard cutoff >= 1000 && cutoff <= nyquist else { throw .lowpassOutOfRange(hz: cutoff, nyquist: nyquist) }

        let frameCount = (audio.frameCount + delay + ISO11172_3.frameLength - 1) / ISO11172_3.frameLength
        let longEdges = ISO11172_3.longBandEdges[rateIndex], shortEdges = ISO11172_3.shortBandEdges[rateIndex]
        let layouts = (0..<4).map { GranuleLayout(blockType: $0, longEdges: longEdges, shortEdges: shortEdges) }
        let shortOrder = ISO11172_3.shortBitstreamOrder(shortEdges: shortEdges)
        let cutoffLine = Lowpass.firstLine(above: cutoff, sampleRate: audio.sampleRate)
        let quiet = ThresholdInQuiet(longEdges: longEdges, shortEdges: shortEdges, sampleRate: audio.sampleRate,
                                     longSineEnergy: fullScaleSineEnergy.long, shortSineEnergy: fullScaleSineEnergy.short)
        // Both channels switch together, so that mid/side pairs lines of the same transform.
        let blockTypes = settings.shortBlocks
            ? BlockSwitching.blockTypes(attacks: BlockSwitching.attacks(input, granules: 2 * frameCount))
            : [Int](repeating: 0, count: 2 * frameCount)
        var analyses = (0..<channels).map { _ in ChannelAnalysis() }
        let models = (0..<channels).map { _ in
            PsychoacousticModel(sampleRate: audio.sampleRate, longEdges: longEdges, shortEdges: shortEdges)
        }

        var stream = FrameAssembler(bitrateIndex: bitrateIndex, sampleRateIndex: rateIndex,
                                    mode: channels == 1 ? .singleChannel : (mode == .joint ? .jointStereo : .stereo),
                                    crc: settings.crc)
        var transformed = [Float](repeating: 0, count: 576)
        var mainDataBits = 0, midSideFrames = 0
        var blockTypeCounts = [0, 0, 0, 0]
        var perceptualEntropy = [Double]()
        for frame in 0..<frameCount {
            // Both granules' lines and tolerances first: mid/side is decided per frame.
            var inputs = [[GranuleInput]]()
            for granule in 0..<2 {
                let index = frame * 2 + granule
                let layout = layouts[blockTypes[index]]
                let start = index * ISO11172_3.granuleLength
                inputs.append((0..<channels).map { channel in
                    analyses[channel].granule(from: input[channel], start: start, blockType: layout.blockType, into: &transformed)
                    // The lowpass: lines (or short-block frequencies) from the cutoff up are zero.
                    let lowpassStart = layout.short ? 3 * ((cutoffLine + 2) / 3) : cutoffLine
                    for i in lowpassStart..<576 { transformed[i] = 0 }
                    let lines = layout.short ? shortOrder.map { transformed[$0] } : transformed
                    let ratios = models[channel].analyze(input[channel], granuleStart: start)
                    return GranuleInput(lines: lines, tolerance: tolerance(lines, ratios, layout, quiet), layout: layout)
                })
            }
            let stereo = stereoCoding(inputs, joint: mode == .joint)
            inputs = stereo.inputs
            let entropy = stereo.entropy
            if stereo.midSide { midSideFrames += 1 }
            var sideInfo = SideInfo(channels: channels)
            let available = stream.beginFrame()
            perceptualEntropy += entropy
            let frameBits = frameBudget(available: available, slotBits: 8 * stream.slotBytes, demand: entropy.reduce(0, +))
            // Both granules of every channel share one allocation: one noise-to-mask
            // slope across the frame, so an attack granule takes bits from a quiet one.
            let coded = GranuleCoder.code(inputs[0] + inputs[1], maxBits: frameBits)
            var granules = [Array(coded[0..<channels]), Array(coded[channels...])]
            for granule in 0..<2 { blockTypeCounts[inputs[granule][0].layout.blockType] += 1 }
            shareScalefactors(&granules, &sideInfo)
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
            stream.endFrame(sideInfo: sideInfo, mainData: mainData, modeExtension: stereo.midSide ? 2 : 0)
        }
        return EncodedAudio(bytes: stream.finish(), frameCount: frameCount, sampleRate: audio.sampleRate,
                            channelCount: channels, delay: delay, inputLength: audio.frameCount, lowpassHz: cutoff,
                            mainDataBits: mainDataBits, blockTypeCounts: blockTypeCounts, midSideFrames: midSideFrames,
                            perceptualEntropy: perceptualEntropy)
    }

    /// Per band, the noise power per line that goes unnoticed: the masking
    /// ratio times the band's energy per line, or the threshold in quiet if higher.
    static func tolerance(_ lines: [Float], _ ratios: MaskingRatios, _ layout: GranuleLayout,
                          _ quiet: ThresholdInQuiet) -> [Double] {
        layout.bands.enumerated().map { b, band in
            let energy = band.lines.reduce(0.0) { $0 + Double(lines[$1] * lines[$1]) }
            let shortBand = b / 3
            let ratio = layout.short ? ratios.short[b] : ratios.long[b]
            let inQuiet = layout.short ? quiet.short[shortBand] : quiet.long[b]
            return max(inQuiet, ratio * energy / Double(band.lines.count))
        }
    }

    static func perceptualEntropy(_ input: GranuleInput) -> Double {
        let energy = input.layout.bands.map { band in band.lines.reduce(0.0) { $0 + Double(input.lines[$1] * input.lines[$1]) } }
        return PsychoacousticModel.perceptualEntropy(energy: energy, tolerance: input.tolerance,
                                                     widths: input.layout.bands.map(\.lines.count))
    }

    /// Mid/side, M = (L + R)/√2 and S = (L − R)/√2, with each band's
    /// tolerance the smaller of the two channels' (either may be exposed).
    static func midSideInputs(_ pair: [GranuleInput]) -> [GranuleInput] {
        let scale = Float(0.5.squareRoot())
        let mid = zip(pair[0].lines, pair[1].lines).map { ($0 + $1) * scale }
        let side = zip(pair[0].lines, pair[1].lines).map { ($0 - $1) * scale }
        let tolerance = zip(pair[0].tolerance, pair[1].tolerance).map { min($0, $1) }
        return [GranuleInput(lines: mid, tolerance: tolerance, layout: pair[0].layout),
                GranuleInput(lines: side, tolerance: tolerance, layout: pair[1].layout)]
    }

    /// A frame's granules as they will be coded, with the perceptual entropy
    /// of each: mid/side when joint stereo is on and that needs fewer bits
    /// than left/right by perceptual entropy, otherwise as they came.
    static func stereoCoding(_ granules: [[GranuleInput]], joint: Bool)
        -> (inputs: [[GranuleInput]], entropy: [Double], midSide: Bool) {
        func entropy(_ granule: [GranuleInput]) -> Double { granule.reduce(0) { $0 + perceptualEntropy($1) } }
        let leftRight = granules.map(entropy)
        guard joint && granules[0].count == 2 else { return (granules, leftRight, false) }
        let midSideGranules = granules.map(midSideInputs)
        let midSide = midSideGranules.map(entropy)
        return midSide.reduce(0, +) < leftRight.reduce(0, +) ? (midSideGranules, midSide, true) : (granules, leftRight, false)
    }

    /// The bits a frame's two granules may spend: its own slot, plus what
    /// the reservoir holds when the perceptual entropy asks for more, less
    /// up to a fifth saved when it asks for less; and whatever would
    /// overflow the reservoir.
    static func frameBudget(available: Int, slotBits: Int, demand: Double) -> Int {
        let reservoir = available - slotBits
        let ceiling = 8 * ISO11172_3.maxMainDataBegin
        var bits = Double(slotBits)
        if demand > bits {
            bits += min(Double(reservoir), demand - bits)
        } else {
            bits -= min(0.2 * bits, 0.5 * (bits - demand))
        }
        // Bits past the reservoir's reach next frame are lost unless spent now.
        // Aim an eighth of a slot below the reach: the granules' exact fits
        // fall short of their allowance by up to a global-gain step, and that
        // shortfall must land in the reservoir rather than past it.
        let overflow = Double(available) - bits - Double(ceiling - slotBits / 8)
        if overflow > 0 { bits += overflow }
        return min(available, Int(bits))
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

