import RealModule

/// One frame ready for the rate loop: per granule, its channels as they will
/// be coded (left/right or mid/side) with their tolerances, their perceptual
/// entropy, and the menus of steps the allocator chooses from.
struct PlannedFrame: Sendable {
    var inputs: [[GranuleInput]]
    /// Perceptual entropy of each granule over its channels as coded.
    var entropy: [Double]
    var midSide: Bool
    /// One per input of `codingOrder`.
    var menus: [GranuleCoder.Menus]
    /// The lines before the lowpass, as coded (mid/side too), when the report asks.
    var unfiltered: [[[Float]]]

    /// Every channel of granule 0, then of granule 1: the order the rate loop codes them in.
    var codingOrder: [GranuleInput] { inputs[0] + inputs[1] }
}

/// The encoder's middle stage: from an analysed frame, each band's tolerance
/// (masking ratio times energy, floored by the threshold in quiet), the
/// mid/side decision, and the menus. None of it depends on the bits spent so
/// far, except through the threshold in quiet's scale, which only average
/// bitrate moves: otherwise it runs ahead of the coding on a thread of its own.
struct FramePlanner: Sendable {
    let quiet: ThresholdInQuiet
    let midSideCoding: MidSideCoding?
    /// The rate control's GranuleCoder.MenuDepth.
    let menuDepth: Double

    func plan(_ frame: AnalyzedFrame, quietScale: Double) -> PlannedFrame {
        func input(_ granule: AnalyzedGranule) -> GranuleInput {
            GranuleInput(lines: granule.lines, tolerance: tolerance(granule.lines, granule.ratios, granule.layout, quietScale: quietScale),
                         layout: granule.layout)
        }
        // Both granules' tolerances first: mid/side is decided per frame.
        let leftRight = frame.channels.map { $0.map(input) }
        var midSideInputs: [[GranuleInput]]?
        if let midSideCoding, let midSide = frame.midSide {
            midSideInputs = zip(leftRight, midSide).map { pair, granule in
                midSideCoding.granule(pair, midSide: granule) { lines, ratios in
                    tolerance(lines, ratios, pair[0].layout, quietScale: quietScale)
                }
            }
        }
        let stereo = MidSideCoding.choose(leftRight: leftRight, midSide: midSideInputs)
        var unfiltered = frame.unfiltered ?? []
        if stereo.midSide {
            unfiltered = unfiltered.map { pair in
                let lines = MidSideCoding.transform(pair[0], pair[1])
                return [lines.mid, lines.side]
            }
        }
        var planned = PlannedFrame(inputs: stereo.inputs, entropy: stereo.entropy, midSide: stereo.midSide, menus: [],
                                   unfiltered: unfiltered)
        planned.menus = planned.codingOrder.map { GranuleCoder.menus(for: $0, depth: menuDepth) }
        return planned
    }

    /// How closely the tolerances follow the masking thresholds' shape across
    /// a granule's bands: each band's threshold is drawn towards the granule's
    /// geometric mean, log T = s·log T_band + (1 − s)·mean log T. At 1 the
    /// bare model rules; at 0 every band takes the same noise, which is what
    /// minimises the squared error. Measured with ViSQOL against LAME at 128
    /// kbit/s (notebooks-md/mp3-quality-vs-lame.md): the model's full 40–60 dB
    /// spread of thresholds leaves too much noise in the loud bands (median
    /// 4.627); 0.7 for long blocks keeps the tonal clips' gains (4.68), and
    /// at attacks, where the thresholds come from 256-point spectra and
    /// smear least reliably, plain squared error does best (castanets 4.56 → 4.61).
    static let thresholdShaping = (long: 0.7, transient: 0.0)

    /// Per band, the noise power per line that goes unnoticed: the masking
    /// ratio times the band's energy per line, or the threshold in quiet
    /// (times `quietScale`) if higher, then shaped by `thresholdShaping`
    /// (bands under the threshold in quiet take part in the mean: measured,
    /// that beats shaping first and flooring after, 4.681 against 4.647).
    func tolerance(_ lines: [Float], _ ratios: MaskingRatios, _ layout: GranuleLayout, quietScale: Double) -> [Double] {
        precondition(!layout.short || !ratios.short.isEmpty, "a short block needs its short windows analysed")
        let thresholds = layout.bands.enumerated().map { b, band in
            let energy = band.lines.reduce(0.0) { $0 + Double(lines[$1] * lines[$1]) }
            let ratio = layout.short ? ratios.short[b] : ratios.long[b]
            return max(quietScale * (layout.short ? quiet.short[b / 3] : quiet.long[b]), ratio * energy / Double(band.lines.count))
        }
        let shaping = layout.blockType == 0 ? Self.thresholdShaping.long : Self.thresholdShaping.transient
        let meanLog = zip(thresholds, layout.bands).reduce(0.0) { $0 + Double.log($1.0) * Double($1.1.lines.count) } / 576
        return thresholds.map { Double.exp(shaping * Double.log($0) + (1 - shaping) * meanLog) }
    }
}
