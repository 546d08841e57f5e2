import RateDistortion

/// What the encoder did with every scalefactor band of every granule: the
/// noise it left against the masking threshold (noise-to-mask ratio, NMR),
/// the bits it spent, what it zeroed and why, and the worst frames.
public struct EncodingAnalysis: Sendable {
    /// Why a band with energy in it came out as silence.
    public enum Zeroing: String, Sendable {
        /// The allocator gave it no bits: its loss costs least against the threshold.
        case masked
        /// The lowpass removed all its energy.
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
        /// The frame's input energy over its noise, lines as coded (the lowpass's removal counted as noise), in dB.
        public var snrDB: Double
        /// Whether the frame's input has any energy (a silent frame has no SNR).
        public var hasEnergy: Bool
        /// Per long-block scalefactor band (a short block's bands in the long
        /// band their lowest line falls in), over the granules and channels:
        /// the input's energy, and the ghost's (noise, and what the lowpass removed).
        public var bandEnergy: [Float]
        public var ghostEnergy: [Float]
    }

    /// What the bound and the discard figures need, over every line of every
    /// granule as coded (mid/side where the frame is): line energies before
    /// the lowpass, so what it removed is counted as lost.
    public struct Totals: Sendable {
        /// Each band as a Gaussian of variance its energy per line over its
        /// masking threshold per line: reverse water-filling over this is the
        /// bound on the noise-to-mask distortion the encoder minimises.
        public var maskedVariances = VarianceHistogram()
        /// The same bands with tolerance 1: the bound on plain squared error.
        public var variances = VarianceHistogram()
        /// Σ lines × noise / threshold, the removal by the lowpass counted as noise.
        public var noiseToMask = 0.0
        /// Σ noise², and Σ x² of the input lines.
        public var noiseEnergy = 0.0
        public var signalEnergy = 0.0
        /// Lines with energy coded as zero, of the lines with energy; Σ x² over them.
        public var zeroedLines = 0
        public var linesWithEnergy = 0
        public var zeroedEnergy = 0.0
    }

    /// Every band of every granule, when the settings asked to keep them (`EncoderSettings.analysisPerBand`).
    public var bands: [Band]
    public var frames: [Frame]
    /// NMR over every band of every granule: mean, 99th percentile and worst, in memory that does not grow.
    public var nmr: NoiseToToleranceTally
    /// Long-block bands, band by band.
    public var longBands: [BandSummary]
    /// Bands with energy in them, and those of them zeroed as masked and above the lowpass.
    public var bandsWithEnergy: Int
    public var zeroedMasked: Int
    public var zeroedLowpass: Int
    /// The worst 1 % of frames by mean NMR (at least one), worst first.
    public var worstFrames: [Int]
    public var totals: Totals

    /// The SNR that the worst 1 % of frames with energy (at least one) stay at or below: the mildest of them, in dB.
    public var worstFramesSNRDB: Double {
        let snrs = frames.filter(\.hasEnergy).map(\.snrDB).sorted()
        guard !snrs.isEmpty else { return .infinity }
        return snrs[max(1, (snrs.count + 99) / 100) - 1]
    }

    /// One long-block scalefactor band over the whole stream.
    public struct BandSummary: Sendable {
        public var band: Int
        public var lowHz: Double
        public var highHz: Double
        public var nmr: NoiseToToleranceTally
        /// Huffman bits summed over its occurrences.
        public var bitsTotal: Double
        public var occurrences: Int
        public var withEnergy: Int
        public var zeroedMasked: Int
        public var zeroedLowpass: Int

        /// Average Huffman bits per granule and channel.
        public var bits: Double { bitsTotal / Double(max(1, occurrences)) }
        public var maskedShare: Double { Double(zeroedMasked) / Double(max(1, withEnergy)) }
        public var lowpassShare: Double { Double(zeroedLowpass) / Double(max(1, withEnergy)) }
    }

    /// Collects a frame as it is coded.
    struct Builder {
        let sampleRate: Int
        let longEdges: [Int]
        let shortEdges: [Int]
        /// Keep every band, not only the tallies.
        let perBand: Bool
        private var bands: [Band] = []
        private var frames: [Frame] = []
        private var nmr = NoiseToToleranceTally()
        private var longBands: [BandSummary]
        private var withEnergy = 0, masked = 0, lowpassed = 0
        private var totals = Totals()

        init(sampleRate: Int, longEdges: [Int], shortEdges: [Int], perBand: Bool) {
            self.sampleRate = sampleRate
            self.longEdges = longEdges
            self.shortEdges = shortEdges
            self.perBand = perBand
            let lineHz = Double(sampleRate) / 1152
            longBands = (0..<(longEdges.count - 1)).map { b in
                BandSummary(band: b, lowHz: Double(longEdges[b]) * lineHz, highHz: Double(longEdges[b + 1]) * lineHz,
                            nmr: NoiseToToleranceTally(), bitsTotal: 0, occurrences: 0, withEnergy: 0,
                            zeroedMasked: 0, zeroedLowpass: 0)
            }
        }

        /// - Parameter unfiltered: per granule and channel, the lines as coded
        ///   (mid/side in a mid/side frame) before the lowpass zeroed them.
        mutating func add(frame: Int, kbps: Int, midSide: Bool, inputs: [[GranuleInput]], unfiltered: [[[Float]]],
                          coded: [[CodedGranule]]) {
            var weightedNTR = 0.0, lines = 0, worst = -Double.infinity, bits = 0
            var frameSignal = 0.0, frameNoise = 0.0
            var bandEnergy = [Float](repeating: 0, count: longBands.count), ghostEnergy = bandEnergy
            for granule in inputs.indices {
                for channel in inputs[granule].indices {
                    let input = inputs[granule][channel], result = coded[granule][channel], source = unfiltered[granule][channel]
                    bits += result.info.part23Length
                    for (b, band) in input.layout.bands.enumerated() {
                        let count = band.lines.count
                        let energy = band.lines.reduce(0.0) { $0 + Double(input.lines[$1]) * Double(input.lines[$1]) }
                        let sourceEnergy = band.lines.reduce(0.0) { $0 + Double(source[$1]) * Double(source[$1]) }
                        let zeros = band.lines.reduce(0) { $0 + (result.values[$1] == 0 ? 1 : 0) }
                        var removed = 0.0
                        for l in band.lines {
                            let x = Double(source[l]), d = x - Double(input.lines[l])
                            removed += d * d
                            if x != 0 {
                                totals.linesWithEnergy += 1
                                if result.values[l] == 0 { totals.zeroedLines += 1; totals.zeroedEnergy += x * x }
                            }
                        }
                        let tolerance = max(Double(input.tolerance[b]), .leastNormalMagnitude)
                        totals.maskedVariances.add(variance: sourceEnergy / Double(count) / tolerance, count: count)
                        totals.variances.add(variance: sourceEnergy / Double(count), count: count)
                        totals.noiseToMask += (result.bandNoise[b] + removed) / tolerance
                        totals.noiseEnergy += result.bandNoise[b] + removed
                        totals.signalEnergy += sourceEnergy
                        frameSignal += sourceEnergy
                        frameNoise += result.bandNoise[b] + removed
                        let outcome = PartitionOutcome(index: nmr.partitions, count: count, power: energy / Double(count),
                                                       tolerance: input.tolerance[b], bits: Double(result.bandBits[b]),
                                                       noisePower: result.bandNoise[b] / Double(count), zeroedCoefficients: zeros)
                        let number = input.layout.short ? b / 3 : b
                        let long = input.layout.short ? longBand(containing: 3 * shortEdges[number]) : b
                        bandEnergy[long] += Float(sourceEnergy)
                        ghostEnergy[long] += Float(result.bandNoise[b] + removed)
                        let (low, high) = frequencies(number, short: input.layout.short)
                        // Silent as coded with energy at the input: masked if the lowpass left it some, else lowpassed.
                        var zeroed: Zeroing?
                        if sourceEnergy > 0 && zeros == count { zeroed = energy > 0 ? .masked : .lowpass }
                        nmr.add(noiseToTolerance: outcome.noiseToTolerance, count: count)
                        if sourceEnergy > 0 { withEnergy += 1 }
                        if zeroed == .masked { masked += 1 }
                        if zeroed == .lowpass { lowpassed += 1 }
                        if !input.layout.short {
                            longBands[b].nmr.add(noiseToTolerance: outcome.noiseToTolerance, count: count)
                            longBands[b].bitsTotal += outcome.bits
                            longBands[b].occurrences += 1
                            if sourceEnergy > 0 { longBands[b].withEnergy += 1 }
                            if zeroed == .masked { longBands[b].zeroedMasked += 1 }
                            if zeroed == .lowpass { longBands[b].zeroedLowpass += 1 }
                        }
                        if perBand {
                            bands.append(Band(frame: frame, granule: granule, channel: channel, band: number,
                                              window: input.layout.short ? band.window : nil, lowHz: low, highHz: high,
                                              outcome: outcome, zeroed: zeroed))
                        }
                        weightedNTR += outcome.noiseToTolerance * Double(count)
                        lines += count
                        worst = max(worst, decibels(outcome.noiseToTolerance))
                    }
                }
            }
            frames.append(Frame(index: frame, kbps: kbps, blockTypes: inputs.map { $0[0].layout.blockType }, midSide: midSide,
                                meanNMRDB: decibels(weightedNTR / Double(max(1, lines))), worstNMRDB: worst, bits: bits,
                                snrDB: decibels(frameSignal / frameNoise), hasEnergy: frameSignal > 0,
                                bandEnergy: bandEnergy, ghostEnergy: ghostEnergy))
        }

        /// The long-block band holding long line `line` (a short block's line l sits at long line 3l).
        private func longBand(containing line: Int) -> Int {
            max(0, min(longBands.count - 1, (longEdges.lastIndex { $0 <= line } ?? 0)))
        }

        /// The band's edges in Hz: long lines are fs/1152 apart, short ones fs/384.
        private func frequencies(_ band: Int, short: Bool) -> (Double, Double) {
            let edges = short ? shortEdges : longEdges
            let lineHz = Double(sampleRate) / Double(short ? 384 : 1152)
            return (Double(edges[band]) * lineHz, Double(edges[band + 1]) * lineHz)
        }

        var analysis: EncodingAnalysis {
            let tail = max(1, (frames.count + 99) / 100)
            let worstFrames = frames.indices.sorted {
                frames[$0].meanNMRDB != frames[$1].meanNMRDB ? frames[$0].meanNMRDB > frames[$1].meanNMRDB : $0 < $1
            }.prefix(tail).map { frames[$0].index }
            return EncodingAnalysis(bands: bands, frames: frames, nmr: nmr, longBands: longBands, bandsWithEnergy: withEnergy,
                                    zeroedMasked: masked, zeroedLowpass: lowpassed, worstFrames: worstFrames, totals: totals)
        }
    }
}

extension EncodingAnalysis {
    /// Everything, for scripts: the summary, the band table, every frame, and
    /// with each frame its bands' NMR when they were kept.
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
                ("bands", bands.isEmpty ? .null : .array(bandsByFrame[frame.index].map { band in
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
            ("mean_nmr_db", number(nmr.meanDB)),
            ("p99_nmr_db", number(nmr.tailDB())),
            ("worst_nmr_db", number(nmr.maxDB)),
            ("bands_with_energy", number(Double(bandsWithEnergy))),
            ("zeroed_masked", number(Double(zeroedMasked))),
            ("zeroed_lowpass", number(Double(zeroedLowpass))),
            ("worst_frames", .array(worstFrames.map { number(Double($0)) })),
            ("long_bands", .array(longBands.map { summary in
                .object([
                    ("band", number(Double(summary.band))),
                    ("low_hz", number(summary.lowHz)), ("high_hz", number(summary.highHz)),
                    ("mean_nmr_db", number(summary.nmr.meanDB)), ("p99_nmr_db", number(summary.nmr.tailDB())),
                    ("bits", number(summary.bits)),
                    ("masked_share", number(summary.maskedShare)), ("lowpass_share", number(summary.lowpassShare)),
                ])
            })),
            ("frames", .array(frameValues)),
        ])
    }
}
