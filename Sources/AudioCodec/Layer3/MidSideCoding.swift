import RealModule

/// Joint stereo's mid/side decision (ms_stereo in the mode extension,
/// clause 2.4.3.4.9.2): M = (L + R)/√2 and S = (L − R)/√2, coded in the
/// frames where that needs no more bits than left/right by perceptual
/// entropy.
///
/// Mid and side get thresholds of their own: the psychoacoustic model runs
/// on the mid and side signals as on left and right (in `FrameAnalyzer`), so
/// a centred voice masks in the mid what it masks in the channels. Then, as
/// in LAME (after Johnston & Ferreira, "Sum-difference stereo transform
/// coding", ICASSP 1992), each of mid and side may count on masking from the
/// other's energy, up to the other's own threshold, but lowered by the
/// binaural masking level difference (noise the ear can place apart from
/// the masker is heard up to 25 dB sooner in the bass); and the noise both
/// put into left and right, (N_M + N_S)/2, stays within `noiseAllowance` of
/// the stricter channel's own threshold. LAME takes the other's masking
/// only where the channels' thresholds lie within 2 dB of each other; here
/// the allowance alone bounds it.
///
/// Judging mid/side against min(T_L, T_R) for both, as this coder once did,
/// chose it in 0–28 of 194 frames on the piano and dense-mix clips where LAME
/// chooses it in 84 and 171; with the model's own mid and side thresholds the
/// decision follows the signal (measured in notebooks-md/mp3-quality-vs-lame.md).
struct MidSideCoding {
    /// How far the noise mid/side coding puts into left and right may exceed
    /// the stricter channel's threshold, as a power ratio (√2: 1.5 dB, per
    /// channel on average). LAME allows 1.95 at 128 kbit/s and 1.29 at -V 2
    /// (its msfix); at 128 kbit/s on the 21 quality clips (scripts/quality),
    /// 1 (no excess) kept the choir clip 0.10 below LAME (ViSQOL), √2 brought
    /// it within 0.04 and 1.95 within 0.05.
    static let noiseAllowance = 2.0.squareRoot()

    /// The masking level difference at `bark`, as a power ratio: −25 dB at
    /// 0 Bark rising along a raised cosine to 0 dB at 15.5 Bark and above (the
    /// curve of Johnston & Ferreira's paper as LAME tabulates it).
    static func maskingLevelDifference(bark: Double) -> Double {
        Double.exp10(1.25 * (1 - Double.cos(Double.pi * min(bark, 15.5) / 15.5)) - 2.5)
    }

    /// Per block type, the critical-band rate of each band's centre.
    private let bandBark: [[Double]]

    init(sampleRate: Int, layouts: [GranuleLayout], longEdges: [Int], shortEdges: [Int]) {
        let hz = Double(sampleRate)
        bandBark = layouts.map { layout in
            (0..<layout.bands.count).map { b in
                // Long line i sits at (i + ½)·fs/1152; a short band's lines are per window, fs/384 apart.
                let centre = layout.short
                    ? Double(shortEdges[b / 3] + shortEdges[b / 3 + 1]) / 2 * hz / 384
                    : Double(longEdges[b] + longEdges[b + 1]) / 2 * hz / 1152
                return AbsoluteThreshold.bark(centre)
            }
        }
    }

    /// A granule's mid and side (`midSide`, as the analysis stage made them)
    /// with their tolerances, given its left and right `pair` with theirs.
    func granule(_ pair: [GranuleInput], midSide: [AnalyzedGranule],
                 tolerance: (_ lines: [Float], MaskingRatios) -> [Double]) -> [GranuleInput] {
        let layout = pair[0].layout
        let lines = (mid: midSide[0].lines, side: midSide[1].lines)
        var mid = tolerance(lines.mid, midSide[0].ratios)
        var side = tolerance(lines.side, midSide[1].ratios)
        let bark = bandBark[layout.blockType]
        for (b, band) in layout.bands.enumerated() {
            let width = Double(band.lines.count)
            let midEnergy = band.lines.reduce(0.0) { $0 + Double(lines.mid[$1] * lines.mid[$1]) } / width
            let sideEnergy = band.lines.reduce(0.0) { $0 + Double(lines.side[$1] * lines.side[$1]) } / width
            let unmasking = Self.maskingLevelDifference(bark: bark[b])
            var m = max(mid[b], min(side[b], unmasking * sideEnergy))
            var s = max(side[b], min(mid[b], unmasking * midEnergy))
            let ceiling = 2 * Self.noiseAllowance * min(pair[0].tolerance[b], pair[1].tolerance[b])
            if m + s > ceiling {
                let scale = ceiling / (m + s)
                m *= scale
                s *= scale
            }
            mid[b] = m
            side[b] = s
        }
        return [GranuleInput(lines: lines.mid, tolerance: mid, layout: layout),
                GranuleInput(lines: lines.side, tolerance: side, layout: layout)]
    }

    /// A frame's granules as they will be coded, with the perceptual entropy
    /// of each: mid/side where it needs no more bits than left/right.
    static func choose(leftRight: [[GranuleInput]], midSide: [[GranuleInput]]?)
        -> (inputs: [[GranuleInput]], entropy: [Double], midSide: Bool) {
        func entropy(_ granule: [GranuleInput]) -> Double { granule.reduce(0) { $0 + Layer3Encoder.perceptualEntropy($1) } }
        let leftRightEntropy = leftRight.map(entropy)
        guard let midSide else { return (leftRight, leftRightEntropy, false) }
        let midSideEntropy = midSide.map(entropy)
        return midSideEntropy.reduce(0, +) <= leftRightEntropy.reduce(0, +)
            ? (midSide, midSideEntropy, true) : (leftRight, leftRightEntropy, false)
    }

    /// M = (L + R)/√2 and S = (L − R)/√2 of one pair of values.
    @inline(__always)
    static func transform(_ left: Float, _ right: Float) -> (mid: Float, side: Float) {
        let scale = Float(0.5.squareRoot())
        return ((left + right) * scale, (left - right) * scale)
    }

    /// `transform(_:_:)` line by line, each pair once.
    static func transform(_ left: [Float], _ right: [Float]) -> (mid: [Float], side: [Float]) {
        var mid = [Float](), side = [Float]()
        mid.reserveCapacity(left.count)
        side.reserveCapacity(left.count)
        for (l, r) in zip(left, right) {
            let pair = transform(l, r)
            mid.append(pair.mid)
            side.append(pair.side)
        }
        return (mid, side)
    }
}
