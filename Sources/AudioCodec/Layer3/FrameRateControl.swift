import RealModule

/// Chooses each frame's bitrate and how many bits its granules may spend.
///
/// Constant bitrate spends the slot, less a share saved in the reservoir,
/// or more drawn from it, by how the frame's perceptual entropy compares
/// with the recent frames'. Variable bitrate codes the frame with
/// every band's noise within a margin of its masking threshold and takes the
/// least bitrate that, with half the reservoir, pays for those exact bits.
/// Average bitrate is variable bitrate whose margin is steered by how far the
/// bits spent so far run ahead of the target.
struct FrameRateControl {
    let rate: RateControl
    /// Noise allowed over the masking threshold, in dB, for variable and average bitrate.
    private(set) var marginDB: Double
    private let startMarginDB: Double
    private var spentBits = 0
    private var frames = 0
    private let frameSeconds: Double
    /// Constant bitrate: the perceptual entropy of the last `Reservoir.span` frames.
    private var recentEntropy = [Double]()

    /// How constant bitrate moves bits through the reservoir, after LAME's
    /// rule (ResvMaxBits and on_pe, with its perceptual entropy normalised by
    /// a 19-frame average): a frame whose perceptual entropy is more than
    /// `drawAbove` times the mean of the last `span` frames' may draw up to
    /// `drawShare` of the reservoir, in proportion to its excess; any other
    /// frame saves `saveShare` of its slot while the reservoir is under
    /// `fullShare` of its capacity. Measured against the rule before, which
    /// drew the whole reservoir whenever the entropy passed the slot (so on a
    /// steady piano, whose entropy sits near the slot, it never filled), this
    /// rule alone on the 21 quality clips at 128 kbit/s (ViSQOL,
    /// scripts/quality): the harp 4.58 → 4.67, the piano 4.686 → 4.705, the
    /// castanets 4.706 → 4.679 (LAME 4.675) (notebooks-md/mp3-quality-vs-lame.md).
    /// The stream's last `span` frames spend what is left.
    enum Reservoir {
        static let span = 19
        static let drawAbove = 1.1
        static let drawShare = 0.6
        static let saveShare = 0.15
        static let fullShare = 0.9
    }

    /// LAME's published average bitrates of -V 0 … 9 on typical music (kbit/s):
    /// the bitrate that names each level (and sets the lowpass of 7 … 9).
    static let nominalVariableKbps = [245, 225, 190, 175, 165, 130, 115, 100, 85, 65]

    /// Noise-to-mask margin of each quality level, in dB: calibrated so that our
    /// total bytes on the seven quality clips (scripts/quality) land within 0.4 %
    /// of LAME 3.100's at the same -V, every level measured.
    static let variableMarginDB: [Double] = [-4.52, -0.3, 2.84, 4.74, 7.2, 9.9, 11.95, 12.85, 15.65, 21.7]

    /// How far below the threshold in quiet variable bitrate holds a band's
    /// noise, in dB, whatever the margin: as if a full-scale sine played 12 dB
    /// louder than the constant-bitrate placement (AbsoluteThreshold.fullScaleSPL).
    /// The margin is a rate knob for masked noise, not a claim that the ear
    /// hears less in quiet; decays and soft notes sit near that threshold.
    /// At VBR 2, margins recalibrated to equal bytes: the glockenspiel 4.709 →
    /// 4.718 (ViSQOL MOS-LQO), the median 4.711 → 4.718. At 128 kbit/s, where
    /// the slot caps the bits, the same placement cost the castanets 0.03.
    static let variableQuietLowerDB = 12.0

    /// How many dB the average-bitrate margin moves per second of target bits spent ahead.
    static let averageSteeringDBPerSecond = 30.0

    init(_ rate: RateControl, sampleRate: Int) throws(EncoderError) {
        self.rate = rate
        frameSeconds = Double(ISO11172_3.frameLength) / Double(sampleRate)
        switch rate {
        case let .constant(kbps):
            guard let index = ISO11172_3.bitrates.firstIndex(of: kbps), index > 0 else { throw .unsupportedBitrate(kbps) }
            startMarginDB = 0
        case let .variable(quality):
            guard Self.variableMarginDB.indices.contains(quality) else { throw .unsupportedQuality(quality) }
            startMarginDB = Self.variableMarginDB[quality]
        case let .average(kbps):
            guard (32...320).contains(kbps) else { throw .averageBitrateOutOfRange(kbps) }
            startMarginDB = Self.interpolatedMargin(kbps: kbps)
        }
        marginDB = startMarginDB
    }

    /// The bitrate that sets the lowpass and names the stream.
    var nominalKbps: Int {
        switch rate {
        case let .constant(kbps), let .average(kbps): return kbps
        case let .variable(quality): return Self.nominalVariableKbps[quality]
        }
    }

    /// The default lowpass for this rate control.
    func cutoff(channels: Int, sampleRate: Int) -> Double {
        if case let .variable(quality) = rate {
            return Lowpass.cutoff(quality: quality, nominalKbps: nominalKbps, channels: channels, sampleRate: sampleRate)
        }
        return Lowpass.cutoff(bitrate: nominalKbps, channels: channels, sampleRate: sampleRate)
    }

    var isConstant: Bool { if case .constant = rate { true } else { false } }

    /// `quietScale` when it holds for the whole stream; nil at average
    /// bitrate, whose margin (and with it the scale) `record` moves frame by frame.
    var fixedQuietScale: Double? { if case .average = rate { nil } else { quietScale } }

    /// The noise-to-mask ratio (a power ratio) variable frames are coded to.
    var noiseRatio: Double { Double.pow(10, marginDB / 10) }

    /// The exponent the psychoacoustic model softens masking ratios with.
    var ratioExponent: Double {
        isConstant ? PsychoacousticModel.ratioExponent.constant : PsychoacousticModel.ratioExponent.variable
    }

    /// How far under a band's tolerance its menu of steps goes (GranuleCoder.MenuDepth).
    var menuDepth: Double { isConstant ? GranuleCoder.MenuDepth.constant : GranuleCoder.MenuDepth.variable }

    /// What the threshold in quiet is scaled by before it floors a band's
    /// tolerance: variable frames multiply the tolerance by `noiseRatio`, and
    /// this brings their noise to `variableQuietLowerDB` under the threshold.
    var quietScale: Double {
        isConstant ? 1 : Double.exp10(-(marginDB + Self.variableQuietLowerDB) / 10)
    }

    /// The bitrate index of the next frame, given the main data bits it asks for.
    func bitrateIndex(demand: Int, stream: FrameAssembler) -> Int {
        if case let .constant(kbps) = rate { return ISO11172_3.bitrates.firstIndex(of: kbps)! }
        let reservoir = stream.reservoirBits / 2
        return (1...14).first { 8 * stream.slotBytes(bitrateIndex: $0) + reservoir >= demand } ?? 14
    }

    /// The bits a frame's granules may spend. Call it once per frame, in
    /// order: constant bitrate counts the frame's perceptual entropy among
    /// the recent frames'. `framesLeft` counts this frame and those after it.
    mutating func budget(available: Int, slotBits: Int, demand: Int, perceptualEntropy: Double, framesLeft: Int) -> Int {
        let ceiling = 8 * ISO11172_3.maxMainDataBegin
        var bits: Double
        if isConstant {
            if recentEntropy.count == Reservoir.span { recentEntropy.removeFirst() }
            recentEntropy.append(perceptualEntropy)
            let mean = recentEntropy.reduce(0, +) / Double(recentEntropy.count)
            let ratio = mean > 0 ? perceptualEntropy / mean : 1
            let reservoir = Double(available - slotBits)
            bits = Double(slotBits)
            if framesLeft <= Reservoir.span {
                // The stream's last frames spend what the reservoir holds, a share each.
                bits += reservoir / Double(framesLeft)
            } else if ratio > Reservoir.drawAbove {
                bits += min(Reservoir.drawShare * reservoir, bits * (ratio - 1))
            } else if reservoir < Reservoir.fullShare * Double(ceiling) {
                bits -= Reservoir.saveShare * bits
            }
        } else {
            bits = Double(demand)
        }
        // Bits past the reservoir's reach next frame are lost unless spent now.
        // Aim an eighth of a slot below the reach: the granules' exact fits
        // fall short of their allowance by up to a global-gain step, and that
        // shortfall must land in the reservoir rather than past it.
        let overflow = Double(available) - bits - Double(ceiling - slotBits / 8)
        if overflow > 0 { bits += overflow }
        return min(available, Int(bits))
    }

    /// Counts a finished frame; average bitrate steers its margin.
    mutating func record(frameBytes: Int) {
        spentBits += 8 * frameBytes
        frames += 1
        guard case let .average(kbps) = rate else { return }
        let target = Double(kbps) * 1000
        let aheadSeconds = (Double(spentBits) - target * frameSeconds * Double(frames)) / target
        marginDB = min(startMarginDB + 20, max(startMarginDB - 20, startMarginDB + Self.averageSteeringDBPerSecond * aheadSeconds))
    }

    /// The variable-bitrate margin whose nominal bitrate is `kbps`, interpolated
    /// between quality levels (held at the ends).
    static func interpolatedMargin(kbps: Int) -> Double {
        let rates = nominalVariableKbps.map(Double.init), target = Double(kbps)
        if target >= rates[0] { return variableMarginDB[0] }
        for q in 1..<rates.count where target >= rates[q] {
            let t = (rates[q - 1] - target) / (rates[q - 1] - rates[q])
            return variableMarginDB[q - 1] + t * (variableMarginDB[q] - variableMarginDB[q - 1])
        }
        return variableMarginDB[rates.count - 1]
    }
}
