import RealModule

/// How to encode.
public struct EncoderSettings: Sendable, Hashable {
    public enum ChannelMode: String, Sendable, CaseIterable {
        /// Two independent channels (L/R).
        case stereo
        /// One channel; stereo input is mixed down.
        case mono
    }

    /// Bitrate in kbit/s: one of 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320.
    public var bitrate: Int
    /// `nil`: stereo for two-channel input, mono for one.
    public var mode: ChannelMode?
    /// Protect each frame with a CRC-16.
    public var crc: Bool
    /// Lowpass cutoff in Hz; `nil` for the bitrate's default.
    public var lowpassHz: Double?

    public init(bitrate: Int, mode: ChannelMode? = nil, crc: Bool = false, lowpassHz: Double? = nil) {
        self.bitrate = bitrate
        self.mode = mode
        self.crc = crc
        self.lowpassHz = lowpassHz
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
        let mode = settings.mode ?? (audio.channels.count == 2 ? .stereo : .mono)
        let input: [[Float]]
        if mode == .mono && audio.channels.count == 2 {
            input = [zip(audio.channels[0], audio.channels[1]).map { ($0 + $1) / 2 }]
        } else if mode == .stereo && audio.channels.count == 1 {
            input = [audio.channels[0], audio.channels[0]]
        } else {
            input = audio.channels
        }
        let channels = input.count
        let nyquist = Double(audio.sampleRate) / 2
        let cutoff = settings.lowpassHz ?? Lowpass.cutoff(bitrate: settings.bitrate, channels: channels, sampleRate: audio.sampleRate)
        guard cutoff >= 1000 && cutoff <= nyquist else { throw .lowpassOutOfRange(hz: cutoff, nyquist: nyquist) }

        let frameCount = (audio.frameCount + delay + ISO11172_3.frameLength - 1) / ISO11172_3.frameLength
        let edges = ISO11172_3.longBandEdges[rateIndex]
        let cutoffLine = Lowpass.firstLine(above: cutoff, sampleRate: audio.sampleRate)
        var analyses = (0..<channels).map { _ in ChannelAnalysis() }
        let toleranceModel = ToleranceModel(edges: edges, sampleRate: audio.sampleRate,
                                            fullScaleSineEnergy: fullScaleSineEnergy)

        var stream = FrameAssembler(bitrateIndex: bitrateIndex, sampleRateIndex: rateIndex,
                                    mode: channels == 1 ? .singleChannel : .stereo, crc: settings.crc)
        var lines = [Float](repeating: 0, count: 576)
        var mainDataBits = 0
        for frame in 0..<frameCount {
            var sideInfo = SideInfo(channels: channels)
            var granules = [[CodedGranule]]()
            var available = stream.beginFrame()
            for granule in 0..<2 {
                var coded = [CodedGranule]()
                for channel in 0..<channels {
                    let start = (frame * 2 + granule) * ISO11172_3.granuleLength
                    analyses[channel].granule(from: input[channel], start: start, into: &lines)
                    for i in cutoffLine..<576 { lines[i] = 0 }
                    let tolerance = lines.withUnsafeBufferPointer { toleranceModel.tolerance(lines: $0) }
                    let remaining = 2 * channels - (granule * channels + channel)
                    let allowance = min(ISO11172_3.maxPart23Bits, available / remaining)
                    let result = GranuleCoder.code(lines: lines, tolerance: tolerance, edges: edges, maxBits: allowance)
                    available -= result.info.part23Length
                    coded.append(result)
                }
                granules.append(coded)
            }
            // Granule 1 reuses granule 0's scalefactors where a whole scfsi group agrees.
            for channel in 0..<channels {
                let first = granules[0][channel].scalefactors, second = granules[1][channel].scalefactors
                for (group, bands) in ISO11172_3.scfsiBands.enumerated()
                where first[bands] == second[bands] && granules[1][channel].info.part23Length > 0
                    && granules[0][channel].info.scalefacCompress == granules[1][channel].info.scalefacCompress {
                    sideInfo.scfsi[channel][group] = true
                }
                let widths = ISO11172_3.scalefactorBitWidths[granules[1][channel].info.scalefacCompress]
                let saved = ISO11172_3.scfsiBands.enumerated().reduce(0) { total, entry in
                    guard sideInfo.scfsi[channel][entry.offset] else { return total }
                    return total + entry.element.count * (entry.element.lowerBound < 11 ? widths.low : widths.high)
                }
                granules[1][channel].part2Bits -= saved
                granules[1][channel].info.part23Length -= saved
            }
            var mainData = BitWriter(reservingBytes: 2 * stream.slotBytes)
            for granule in 0..<2 {
                for channel in 0..<channels {
                    let coded = granules[granule][channel]
                    sideInfo.granules[granule][channel] = coded.info
                    guard coded.info.part23Length > 0 else { continue }
                    let widths = ISO11172_3.scalefactorBitWidths[coded.info.scalefacCompress]
                    for (group, bands) in ISO11172_3.scfsiBands.enumerated()
                    where granule == 0 || !sideInfo.scfsi[channel][group] {
                        for b in bands { mainData.write(coded.scalefactors[b], bits: b < 11 ? widths.low : widths.high) }
                    }
                    coded.values.withUnsafeBufferPointer {
                        HuffmanCoder.write($0, coded.coding, bandEdges: edges, to: &mainData)
                    }
                }
            }
            mainDataBits += mainData.count
            stream.endFrame(sideInfo: sideInfo, mainData: mainData)
        }
        return EncodedAudio(bytes: stream.finish(), frameCount: frameCount, sampleRate: audio.sampleRate,
                            channelCount: channels, delay: delay, inputLength: audio.frameCount, lowpassHz: cutoff,
                            mainDataBits: mainDataBits)
    }

    /// MDCT energy of one granule of a full-scale 1 kHz sine, measured through
    /// the filterbank itself: the reference that places the threshold in quiet.
    static let fullScaleSineEnergy: Double = {
        let sine = (0..<(6 * 576)).map { Float(Double.sin(2 * Double.pi * 1000 * Double($0) / 44100)) }
        var analysis = ChannelAnalysis()
        var lines = [Float](repeating: 0, count: 576)
        for granule in 0..<6 { analysis.granule(from: sine, start: granule * 576, into: &lines) }
        return lines.reduce(0) { $0 + Double($1) * Double($1) }
    }()
}

/// The filterbank state of one channel.
struct ChannelAnalysis {
    private var polyphase = PolyphaseAnalysis()
    private var mdct = HybridMDCT()
    private var block = [Float](repeating: 0, count: 32)
    private var subbands = [Float](repeating: 0, count: 576)

    /// The MDCT lines of the granule whose samples start at `start` (zeros past the end).
    mutating func granule(from samples: [Float], start: Int, into lines: inout [Float]) {
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
            lines.withUnsafeMutableBufferPointer { mdct.transform(input, into: $0) }
        }
    }
}
