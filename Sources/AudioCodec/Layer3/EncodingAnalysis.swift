import RateDistortion

/// What the encoder did with every scalefactor band of every granule: the
/// noise it left against the masking threshold (noise-to-mask ratio, NMR),
/// the bits it spent, what it zeroed and why, and the worst frames.
public struct EncodingAnalysis: Sendable {
    /// Why a band with energy in it came out as silence.
    public enum Zeroing: String, Sendable {
        /// The allocator gave it no bits: its loss costs least against the threshold.
        case masked
        /// It lies above the lowpass.
        case lowpass
    }

    /// One scalefactor band of one channel in one granule.
    public struct Band: Sendable {
        public var frame: Int
        public var granule: Int
        /// As coded: left/right, or mid/side in a mid/side frame.
        public var channel: Int
        /// Scalefactor band number (0…21 long, 0…12 short).
        public var band: Int
        /// Short-block window (0…2); nil for long blocks.
        public var window: Int?
        public var lowHz: Double
        public var highHz: Double
        /// Energy, tolerance (the masking threshold), noise and bits, per line.
        public var outcome: PartitionOutcome
        public var zeroed: Zeroing?

        public var nmrDB: Double { decibels(outcome.noiseToTolerance) }
    }

    public struct Frame: Sendable {
        public var index: Int
        public var kbps: Int
        /// Block type of each granule: 0 long, 1 start, 2 short, 3 stop.
        public var blockTypes: [Int]
        public var midSide: Bool
        /// Noise-to-mask over the frame's lines (power mean), and of its worst band, in dB.
        public var meanNMRDB: Double
        public var worstNMRDB: Double
        /// Main data bits of the frame's granules.
        public var bits: Int
    }

    public var bands: [Band]
    public var frames: [Frame]
    /// The core's discard report over every band of every granule: mean, 99th percentile and worst NMR.
    public var discard: DiscardReport
    /// The worst 1 % of frames by mean NMR (at least one), worst first.
    public var worstFrames: [Int]

    init(bands: [Band], frames: [Frame]) {
        self.bands = bands
        self.frames = frames
        discard = DiscardReport(partitions: bands.isEmpty
            ? [PartitionOutcome(index: 0, count: 1, power: 0, tolerance: 1, bits: 0, noisePower: 0, zeroedCoefficients: 0)]
            : bands.map(\.outcome))
        let tail = max(1, (frames.count + 99) / 100)
        worstFrames = frames.indices.sorted {
            frames[$0].meanNMRDB != frames[$1].meanNMRDB ? frames[$0].meanNMRDB > frames[$1].meanNMRDB : $0 < $1
        }.prefix(tail).map { frames[$0].index }
    }

    /// Collects a frame as it is coded.
    struct Builder {
        let sampleRate: Int
        let cutoffHz: Double
        let longEdges: [Int]
        let shortEdges: [Int]
        var bands: [Band] = []
        var frames: [Frame] = []

        mutating func add(frame: Int, kbps: Int, midSide: Bool, inputs: [[GranuleInput]], coded: [[CodedGranule]]) {
            var weightedNTR = 0.0, lines = 0, worst = -Double.infinity, bits = 0
            for granule in inputs.indices {
                for channel in inputs[granule].indices {
                    let input = inputs[granule][channel], result = coded[granule][channel]
                    bits += result.info.part23Length
                    for (b, band) in input.layout.bands.enumerated() {
                        let count = band.lines.count
                        let energy = band.lines.reduce(0.0) { $0 + Double(input.lines[$1]) * Double(input.lines[$1]) }
                        let zeros = band.lines.reduce(0) { $0 + (result.values[$1] == 0 ? 1 : 0) }
                        let outcome = PartitionOutcome(index: bands.count, count: count, power: energy / Double(count),
                                                       tolerance: input.tolerance[b], bits: Double(result.bandBits[b]),
                                                       noisePower: result.bandNoise[b] / Double(count), zeroedCoefficients: zeros)
                        let number = input.layout.short ? b / 3 : b
                        let (low, high) = frequencies(number, short: input.layout.short)
                        var zeroed: Zeroing?
                        if energy > 0 && zeros == count { zeroed = low >= cutoffHz ? .lowpass : .masked }
                        bands.append(Band(frame: frame, granule: granule, channel: channel, band: number,
                                          window: input.layout.short ? band.window : nil, lowHz: low, highHz: high,
                                          outcome: outcome, zeroed: zeroed))
                        weightedNTR += outcome.noiseToTolerance * Double(count)
                        lines += count
                        worst = max(worst, decibels(outcome.noiseToTolerance))
                    }
                }
            }
            frames.append(Frame(index: frame, kbps: kbps, blockTypes: inputs.map { $0[0].layout.blockType }, midSide: midSide,
                                meanNMRDB: decibels(weightedNTR / Double(max(1, lines))), worstNMRDB: worst, bits: bits))
        }

        /// The band's edges in Hz: long lines are fs/1152 apart, short ones fs/384.
        private func frequencies(_ band: Int, short: Bool) -> (Double, Double) {
            let edges = short ? shortEdges : longEdges
            let lineHz = Double(sampleRate) / Double(short ? 384 : 1152)
            return (Double(edges[band]) * lineHz, Double(edges[band + 1]) * lineHz)
        }

        var analysis: EncodingAnalysis { EncodingAnalysis(bands: bands, frames: frames) }
    }
}

extension EncodingAnalysis {
    /// One long-block scalefactor band over the whole stream.
    public struct BandSummary: Sendable {
        public var band: Int
        public var lowHz: Double
        public var highHz: Double
        /// Power mean of the NMR over its occurrences, and the 99th percentile, in dB.
        public var meanNMRDB: Double
        public var tailNMRDB: Double
        /// Average Huffman bits per granule and channel.
        public var bits: Double
        /// Share of occurrences (with energy) zeroed as masked, or above the lowpass.
        public var maskedShare: Double
        public var lowpassShare: Double
    }

    /// Long-block bands, band by band (short-block granules apart).
    public var longBandSummary: [BandSummary] {
        var groups = [Int: [Band]]()
        for band in bands where band.window == nil { groups[band.band, default: []].append(band) }
        return groups.keys.sorted().map { number in
            let group = groups[number]!
            let ratios = group.map(\.outcome.noiseToTolerance).sorted()
            let withEnergy = group.filter { $0.outcome.power > 0 }
            let share = { (kind: Zeroing) in
                Double(withEnergy.filter { $0.zeroed == kind }.count) / Double(max(1, withEnergy.count))
            }
            return BandSummary(band: number, lowHz: group[0].lowHz, highHz: group[0].highHz,
                               meanNMRDB: decibels(ratios.reduce(0, +) / Double(ratios.count)),
                               tailNMRDB: decibels(ratios[min(ratios.count - 1, Int(0.99 * Double(ratios.count)))]),
                               bits: group.reduce(0) { $0 + $1.outcome.bits } / Double(group.count),
                               maskedShare: share(.masked), lowpassShare: share(.lowpass))
        }
    }

    /// Everything, for scripts: the summary, the band table, every frame with
    /// its bands' NMR, and the worst frames.
    public func json(sampleRate: Int) -> JSONValue {
        func number(_ x: Double) -> JSONValue { .number(x) }
        let frameSeconds = Double(ISO11172_3.frameLength) / Double(sampleRate)
        var bandsByFrame = [[Band]](repeating: [], count: frames.count)
        for band in bands where band.frame < frames.count { bandsByFrame[band.frame].append(band) }
        let frameValues: [JSONValue] = frames.map { frame in
            .object([
                ("frame", number(Double(frame.index))),
                ("time_s", number(Double(frame.index) * frameSeconds)),
                ("kbps", number(Double(frame.kbps))),
                ("block_types", .array(frame.blockTypes.map { number(Double($0)) })),
                ("mid_side", .bool(frame.midSide)),
                ("mean_nmr_db", number(frame.meanNMRDB)),
                ("worst_nmr_db", number(frame.worstNMRDB)),
                ("bits", number(Double(frame.bits))),
                ("bands", .array(bandsByFrame[frame.index].map { band in
                    .object([
                        ("granule", number(Double(band.granule))),
                        ("channel", number(Double(band.channel))),
                        ("band", number(Double(band.band))),
                        ("window", band.window.map { number(Double($0)) } ?? .null),
                        ("nmr_db", number(band.nmrDB)),
                        ("bits", number(band.outcome.bits)),
                        ("zeroed", band.zeroed.map { .string($0.rawValue) } ?? .null),
                    ])
                })),
            ])
        }
        return .object([
            ("mean_nmr_db", number(discard.meanNoiseToToleranceDB)),
            ("p99_nmr_db", number(discard.tailNoiseToToleranceDB)),
            ("worst_nmr_db", number(discard.maxNoiseToToleranceDB)),
            ("zeroed_masked", number(Double(bands.filter { $0.zeroed == .masked }.count))),
            ("zeroed_lowpass", number(Double(bands.filter { $0.zeroed == .lowpass }.count))),
            ("worst_frames", .array(worstFrames.map { number(Double($0)) })),
            ("long_bands", .array(longBandSummary.map { summary in
                .object([
                    ("band", number(Double(summary.band))),
                    ("low_hz", number(summary.lowHz)), ("high_hz", number(summary.highHz)),
                    ("mean_nmr_db", number(summary.meanNMRDB)), ("p99_nmr_db", number(summary.tailNMRDB)),
                    ("bits", number(summary.bits)),
                    ("masked_share", number(summary.maskedShare)), ("lowpass_share", number(summary.lowpassShare)),
                ])
            })),
            ("frames", .array(frameValues)),
        ])
    }
}
