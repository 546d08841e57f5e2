/// One granule of one channel as the analysis stage hands it on: its lines
/// in bitstream order with the lowpass applied, and the model's masking ratios.
struct AnalyzedGranule: Sendable {
    var lines: [Float]
    var ratios: MaskingRatios
    var layout: GranuleLayout
}

/// One frame as analysed, per granule: each channel, the mid/side pair
/// (joint stereo), and the lines before the lowpass (when the report asks).
struct AnalyzedFrame: Sendable {
    var channels: [[AnalyzedGranule]]
    var midSide: [[AnalyzedGranule]]?
    var unfiltered: [[[Float]]]?
}

/// The encoder's first stage: polyphase filterbank, MDCT, lowpass and the
/// psychoacoustic model of every channel (and of mid and side for joint
/// stereo), frame after frame. Nothing it computes depends on what the
/// later stages decide, so it can run ahead of them on a thread of its own
/// (`LookaheadQueue`).
///
/// It holds the filterbanks' and models' state: call `frame(_:)` for every
/// frame in order, from one thread at a time (`@unchecked Sendable`: it is
/// handed to the analysis thread once and used there alone).
final class FrameAnalyzer: @unchecked Sendable {
    private let input: [[Float]]
    /// Whether joint stereo may use mid and side, (L ± R)/√2.
    private let midSide: Bool
    /// Mid and side around the granule being analysed: all that their models read.
    private var midWindow = [Float](), sideWindow = [Float]()
    private let layouts: [GranuleLayout]
    private let blockTypes: [Int]
    private let shortOrder: [Int]
    private let cutoffLine: Int
    private let keepUnfiltered: Bool
    private var filterbanks: [ChannelAnalysis]
    private let models: [PsychoacousticModel]
    private let midSideModels: [PsychoacousticModel]
    private var transformed = [Float](repeating: 0, count: ISO11172_3.granuleLength)

    init(input: [[Float]], sampleRate: Int, layouts: [GranuleLayout], blockTypes: [Int], longEdges: [Int],
         shortEdges: [Int], cutoffLine: Int, softening: Double?, midSide: Bool, keepUnfiltered: Bool) {
        self.input = input
        self.layouts = layouts
        self.blockTypes = blockTypes
        shortOrder = ISO11172_3.shortBitstreamOrder(shortEdges: shortEdges)
        self.cutoffLine = cutoffLine
        self.keepUnfiltered = keepUnfiltered
        filterbanks = input.map { _ in ChannelAnalysis() }
        func model() -> PsychoacousticModel {
            PsychoacousticModel(sampleRate: sampleRate, longEdges: longEdges, shortEdges: shortEdges, softening: softening)
        }
        models = input.map { _ in model() }
        self.midSide = midSide
        midSideModels = midSide ? [model(), model()] : []
    }

    /// The samples from `PsychoacousticModel.span(granuleStart:)` of a
    /// granule, as mid and side, into `midWindow` and `sideWindow` (zeros outside the
    /// input, as the model reads them): the models get the same samples as
    /// from whole mid and side signals, without holding two more copies of
    /// the input.
    private func fillMidSideWindows(granuleStart start: Int) -> Int {
        let span = PsychoacousticModel.span(granuleStart: start)
        if midWindow.count != span.count {
            midWindow = [Float](repeating: 0, count: span.count)
            sideWindow = midWindow
        }
        input[0].withUnsafeBufferPointer { left in
            input[1].withUnsafeBufferPointer { right in
                midWindow.withUnsafeMutableBufferPointer { mid in
                    sideWindow.withUnsafeMutableBufferPointer { side in
                        for (i, n) in span.enumerated() {
                            let inside = n >= 0 && n < left.count
                            let pair = MidSideCoding.transform(inside ? left[n] : 0, inside ? right[n] : 0)
                            mid[i] = pair.mid
                            side[i] = pair.side
                        }
                    }
                }
            }
        }
        return start - span.lowerBound
    }

    /// Frame `frame`'s two granules.
    func frame(_ frame: Int) -> AnalyzedFrame {
        var channels = [[AnalyzedGranule]](), midSide = [[AnalyzedGranule]](), unfiltered = [[[Float]]]()
        for granule in 0..<2 {
            let index = frame * 2 + granule
            let layout = layouts[blockTypes[index]]
            let start = index * ISO11172_3.granuleLength
            // The lowpass: lines (or short-block frequencies) from the cutoff up are zero.
            let lowpassStart = layout.short ? 3 * ((cutoffLine + 2) / 3) : cutoffLine
            var lines = [[Float]]()
            for channel in input.indices {
                filterbanks[channel].granule(from: input[channel], start: start, blockType: layout.blockType, into: &transformed)
                if keepUnfiltered {
                    if channel == 0 { unfiltered.append([]) }
                    unfiltered[granule].append(layout.short ? shortOrder.map { transformed[$0] } : transformed)
                }
                for i in lowpassStart..<ISO11172_3.granuleLength { transformed[i] = 0 }
                lines.append(layout.short ? shortOrder.map { transformed[$0] } : transformed)
            }
            // Short windows where a short block uses them or the next one's pre-echo control reads them.
            let shortWindows = layout.short || (index + 1 < blockTypes.count && blockTypes[index + 1] == 2)
            channels.append(input.indices.map { channel in
                AnalyzedGranule(lines: lines[channel],
                                ratios: models[channel].analyze(input[channel], granuleStart: start, shortWindows: shortWindows),
                                layout: layout)
            })
            if self.midSide {
                let transform = MidSideCoding.transform(lines[0], lines[1])
                let windowStart = fillMidSideWindows(granuleStart: start)
                midSide.append(zip([transform.mid, transform.side], [midWindow, sideWindow]).enumerated().map { c, signal in
                    AnalyzedGranule(lines: signal.0,
                                    ratios: midSideModels[c].analyze(signal.1, granuleStart: windowStart, shortWindows: shortWindows),
                                    layout: layout)
                })
            }
        }
        return AnalyzedFrame(channels: channels, midSide: self.midSide ? midSide : nil,
                             unfiltered: keepUnfiltered ? unfiltered : nil)
    }
}
