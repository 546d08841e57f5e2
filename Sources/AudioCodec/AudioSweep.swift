import RateDistortion

/// One input encoded at a list of constant bitrates, each decoded back and
/// measured: what was spent, what was left against the signal and against
/// the masking threshold, and what was thrown away.
///
/// Per bitrate, through the same encoder as `lossy encode` (its analysis on)
/// and our decoder, trimmed by the Info frame to the input's time line:
///
/// - Rate: bits of the whole file (the Info frame included) over the coded
///   samples, samples per channel × channels as coded.
/// - SNR: the input (the encoder's mix for mono) over the decoded output's
///   difference from it, as the ghost of `lossy encode --ghost` measures it.
/// - NMR: the encoder's noise against its masking threshold per band, as
///   `EncodingAnalysis` counts it: over every line (power mean), per frame,
///   and the frames' tail.
/// - Perceptual entropy: Johnston's estimate, summed over every granule as
///   coded (`EncodedAudio.perceptualEntropy`).
/// - Discarded: bands with energy that came out silent, masked or above the lowpass.
public struct AudioSweep: Sendable {
    /// The bitrates a sweep takes: MPEG-1 Layer III's, in kbit/s.
    public static let bitrates = Array(ISO11172_3.bitrates.dropFirst())
    public static let defaultBitrates = [32, 48, 64, 96, 128, 160, 192, 256, 320]

    /// One bitrate's operating point.
    public struct Row: Sendable {
        public var kbps: Int
        /// Bytes of the MP3, Info frame included.
        public var fileBytes: Int
        public var lowpassHz: Double
        /// Input energy over the energy of the decoded output's error, in dB.
        public var snrDB: Double
        /// Noise-to-mask ratio over every band of every granule (power mean over lines), in dB.
        public var meanNMRDB: Double
        /// The highest of the frames' mean NMR, in dB.
        public var worstFrameNMRDB: Double
        /// The mildest frame of the worst 1 % (at least one) by mean NMR, in dB.
        public var worstFramesNMRDB: Double
        /// The worst 1 % of frames, worst first.
        public var worstFrames: [Int]
        /// Perceptual entropy in bits, summed over the granules and channels as coded.
        public var perceptualEntropyBits: Double
        public var bandsWithEnergy: Int
        public var zeroedMasked: Int
        public var zeroedLowpass: Int

        /// The SNR the worst 1 % of frames with energy stay at or below (lines as coded), in dB.
        public var worstFramesSNRDB: Double
        /// Of the lines with energy, the share coded as zero, and their share of the energy.
        public var zeroedLineShare: Double
        public var zeroedEnergyShare: Double
        /// Long-block bands by the share of their occurrences zeroed, most first (three at most, none unzeroed).
        public var mostZeroed: [ZeroedBand]
        /// The bound's bits at the encoder's noise-to-mask distortion, and the
        /// share of lines it gives no bits there.
        public var boundBits: Double
        public var boundZeroedShare: Double

        public var maskedShare: Double { Double(zeroedMasked) / Double(max(1, bandsWithEnergy)) }
        public var lowpassShare: Double { Double(zeroedLowpass) / Double(max(1, bandsWithEnergy)) }
    }

    /// A long-block scalefactor band and how often it came out silent.
    public struct ZeroedBand: Sendable, Hashable {
        public var lowHz: Double
        public var highHz: Double
        /// Of its occurrences with energy, the share zeroed (masked or lowpassed).
        public var share: Double
    }

    /// What the input is called in titles, e.g. its file name.
    public var name: String
    public var sampleRate: Int
    /// Channels as coded.
    public var channels: Int
    /// Samples per channel of the input.
    public var samples: Int
    /// Audio frames per stream (the Info frame apart).
    public var frameCount: Int
    public var rows: [Row]
    /// Reverse water-filling over the bands of the highest bitrate's lines
    /// with tolerance 1, and their energy: the bound on plain SNR.
    public var signalBound: ReverseWaterFilling
    public var signalEnergy: Double

    /// Encodes `audio` at each of `bitrates` (kbit/s, constant), decodes it and measures it.
    ///
    /// - Parameter progress: called before each bitrate with its position among them and the bitrate.
    public static func run(_ audio: PCMAudio, name: String, bitrates: [Int],
                           progress: (Int, Int, Int) -> Void = { _, _, _ in }) throws -> AudioSweep {
        precondition(!bitrates.isEmpty, "bitrates to sweep")
        var rows = [Row]()
        var channels = audio.channels.count, frameCount = 0
        var signal: (kbps: Int, totals: EncodingAnalysis.Totals)?
        for (position, kbps) in bitrates.enumerated() {
            progress(position, bitrates.count, kbps)
            var settings = EncoderSettings(bitrate: kbps)
            settings.analysis = true
            let encoded = try Layer3Encoder.encode(audio, settings: settings)
            guard let analysis = encoded.analysis else { preconditionFailure("the settings asked for the analysis") }
            let decoded = try Layer3Decoder.decode(encoded.bytes).audio
            channels = encoded.channelCount
            frameCount = encoded.frameCount
            let frameNMR = analysis.frames.map(\.meanNMRDB)
            let totals = analysis.totals
            if signal.map({ kbps > $0.kbps }) ?? true { signal = (kbps, totals) }
            let bound = totals.maskedVariances.bound
            let boundPoint = bound.point(weightedDistortion: totals.noiseToMask)
            let zeroedBands: [ZeroedBand] = analysis.longBands.compactMap { band in
                let share = band.maskedShare + band.lowpassShare
                return share > 0 ? ZeroedBand(lowHz: band.lowHz, highHz: band.highHz, share: share) : nil
            }
            let mostZeroed = zeroedBands.sorted { a, b in a.share != b.share ? a.share > b.share : a.lowHz > b.lowHz }.prefix(3)
            rows.append(Row(
                kbps: kbps, fileBytes: encoded.bytes.count, lowpassHz: encoded.lowpassHz,
                snrDB: Ghost(input: audio, decoded: decoded).decibelsBelowInput,
                meanNMRDB: analysis.nmr.meanDB, worstFrameNMRDB: frameNMR.max() ?? -.infinity,
                worstFramesNMRDB: analysis.worstFrames.last.map { frameNMR[$0] } ?? -.infinity,
                worstFrames: analysis.worstFrames, perceptualEntropyBits: encoded.perceptualEntropy.reduce(0, +),
                bandsWithEnergy: analysis.bandsWithEnergy, zeroedMasked: analysis.zeroedMasked,
                zeroedLowpass: analysis.zeroedLowpass, worstFramesSNRDB: analysis.worstFramesSNRDB,
                zeroedLineShare: Double(totals.zeroedLines) / Double(max(1, totals.linesWithEnergy)),
                zeroedEnergyShare: totals.signalEnergy > 0 ? totals.zeroedEnergy / totals.signalEnergy : 0,
                mostZeroed: Array(mostZeroed), boundBits: boundPoint.bits,
                boundZeroedShare: bound.discardedShare(at: boundPoint)))
        }
        guard let signal else { preconditionFailure("a row per bitrate") }
        return AudioSweep(name: name, sampleRate: audio.sampleRate, channels: channels, samples: audio.frameCount,
                          frameCount: frameCount, rows: rows, signalBound: signal.totals.variances.bound,
                          signalEnergy: signal.totals.signalEnergy)
    }

    /// Samples the rates are counted over: per channel × channels as coded.
    public var codedSamples: Int { samples * channels }

    /// Bits of the file per coded sample.
    public func bitsPerSample(_ row: Row) -> Double { Double(8 * row.fileBytes) / Double(max(1, codedSamples)) }

    /// The bound's bits per coded sample at the row's noise-to-mask distortion.
    public func boundRate(_ row: Row) -> Double { row.boundBits / Double(max(1, codedSamples)) }

    /// The bound's plain SNR from rate 0 to half a bit beyond the highest rate measured, per coded sample.
    public func signalBoundCurve() -> [(rate: Double, snrDB: Double)] {
        let highest = rows.map(bitsPerSample).max() ?? 4
        return RDSweep.boundCurve(signalBound, energy: signalEnergy, maxRate: highest + 0.5, samples: codedSamples)
    }

    /// Perceptual entropy per coded sample.
    public func perceptualEntropyPerSample(_ row: Row) -> Double { row.perceptualEntropyBits / Double(max(1, codedSamples)) }
}
