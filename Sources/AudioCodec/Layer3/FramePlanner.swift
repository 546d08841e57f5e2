/// One frame ready for the rate loop: per granule, its channels as they will
/// be coded (left/right or mid/side) with their tolerances, their perceptual
/// entropy, and the menus of steps the allocator chooses from.
struct PlannedFrame: Sendable {
    var inputs: [[GranuleInput]]
    /// Perceptual entropy of each granule over its channels as coded.
    var entropy: [Double]
    var midSide: Bool
    /// One per channel of granule 0, then of granule 1 (`inputs[0] + inputs[1]`).
    var menus: [GranuleCoder.Menus]
    /// The lines before the lowpass, as coded (mid/side too), when the report asks.
    var unfiltered: [[[Float]]]
}

/// The encoder's middle stage: from an analysed frame, each band's tolerance
/// (masking ratio times energy, floored by the threshold in quiet), the
/// mid/side decision, and the menus. None of it depends on the bits spent so
/// far, except through the threshold in quiet's scale, which only average
/// bitrate moves: otherwise it runs ahead of the coding on a thread of its own.
struct FramePlanner: Sendable {
    let quiet: ThresholdInQuiet
    let midSideCoding: MidSideCoding?

    func plan(_ frame: AnalyzedFrame, quietScale: Double) -> PlannedFrame {
        func input(_ granule: AnalyzedGranule) -> GranuleInput {
            GranuleInput(lines: granule.lines,
                         tolerance: Layer3Encoder.tolerance(granule.lines, granule.ratios, granule.layout, quiet,
                                                            quietScale: quietScale),
                         layout: granule.layout)
        }
        // Both granules' tolerances first: mid/side is decided per frame.
        let leftRight = frame.channels.map { $0.map(input) }
        let midSideInputs = frame.midSide.map { midSide in
            zip(leftRight, midSide).map { pair, granule in
                midSideCoding!.granule(pair, midSide: granule) { lines, ratios in
                    Layer3Encoder.tolerance(lines, ratios, pair[0].layout, quiet, quietScale: quietScale)
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
        return PlannedFrame(inputs: stereo.inputs, entropy: stereo.entropy, midSide: stereo.midSide,
                            menus: (stereo.inputs[0] + stereo.inputs[1]).map(GranuleCoder.menus(for:)),
                            unfiltered: unfiltered)
    }
}
