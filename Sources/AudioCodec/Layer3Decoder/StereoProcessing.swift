import RealModule

/// Joint stereo (ISO 11172-3 clause 2.4.3.4.9.3, ISO/IEC 13818-3 clause
/// 2.4.3.2): mid/side and intensity, applied to both channels' requantized
/// lines in bitstream order.
enum StereoProcessing {
    /// A run of lines sharing one scalefactor: a long band, or one window of a short band.
    struct Segment {
        var lines: Range<Int>
        var short: Bool
        var band: Int
        var window: Int
    }

    /// The granule's segments in bitstream order.
    static func segments(_ g: GranuleSideInfo, longEdges: [Int], shortEdges: [Int]) -> [Segment] {
        let shortFrom = GranuleDecoder.shortFrom(g, shortEdges: shortEdges)
        var result = [Segment]()
        for b in 0..<22 where longEdges[b] < shortFrom {
            result.append(Segment(lines: longEdges[b]..<min(longEdges[b + 1], shortFrom), short: false, band: b, window: 0))
        }
        guard shortFrom < 576 else { return result }
        var i = shortFrom
        for b in (shortFrom == 0 ? 0 : 3)..<13 {
            let width = shortEdges[b + 1] - shortEdges[b]
            for w in 0..<3 {
                result.append(Segment(lines: i..<(i + width), short: true, band: b, window: w))
                i += width
            }
        }
        return result
    }

    static func apply(left: inout [Float], right: inout [Float], header: ParsedHeader, _ g: GranuleSideInfo,
                      rightScalefactors sf: GranuleDecoder.Scalefactors, longEdges: [Int], shortEdges: [Int]) {
        let segments = segments(g, longEdges: longEdges, shortEdges: shortEdges)
        var intensity = [Bool](repeating: false, count: segments.count)
        if header.intensityStereo {
            // Above the last segment where the right channel is non-zero: per
            // window for short segments; a long segment (of a long or mixed
            // block) only if nothing above it in any window is non-zero.
            var lastNonZero = [-1, -1, -1]  // per window; long segments count as window 0
            for (s, segment) in segments.enumerated() where segment.lines.contains(where: { right[$0] != 0 }) {
                lastNonZero[segment.window] = s
            }
            let longBound = lastNonZero.max()!
            let lsfScale = header.version == .mpeg1 ? nil : g.scalefacCompress & 1
            for (s, segment) in segments.enumerated() where s > (segment.short ? lastNonZero[segment.window] : longBound) {
                // The last band sends no scalefactor and reuses the one below it.
                let index = segment.short ? min(segment.band, 11) * 3 + segment.window : min(segment.band, 20)
                let position = segment.short ? sf.short[index] : sf.long[index]
                guard position != (segment.short ? sf.shortIllegal[index] : sf.longIllegal[index]) else { continue }
                intensity[s] = true
                let (l, r) = intensityGains(position: position, lsfScale: lsfScale)
                for i in segment.lines {
                    let x = left[i]
                    left[i] = x * l
                    right[i] = x * r
                }
            }
        }
        if header.msStereo {
            let scale = Float(1 / 2.0.squareRoot())
            for (s, segment) in segments.enumerated() where !intensity[s] {
                for i in segment.lines {
                    let m = left[i], side = right[i]
                    left[i] = (m + side) * scale
                    right[i] = (m - side) * scale
                }
            }
        }
    }

    /// Left and right gains of an intensity position. MPEG-1 pans by
    /// tan(position·π/12); MPEG-2/2.5 attenuates one side by powers of
    /// 2^-1/4 (intensity_scale 0) or 2^-1/2 (intensity_scale 1, the low bit of
    /// the right channel's scalefac_compress): odd positions the left, even the right.
    static func intensityGains(position: Int, lsfScale: Int?) -> (left: Float, right: Float) {
        guard let lsfScale else {
            let ratio = Double.tan(Double(position) * Double.pi / 12)
            return (Float(ratio / (1 + ratio)), Float(1 / (1 + ratio)))
        }
        let step = lsfScale == 0 ? -0.25 : -0.5
        return position % 2 == 1
            ? (Float(Double.exp2(step * Double((position + 1) / 2))), 1)
            : (1, Float(Double.exp2(step * Double(position / 2))))
    }
}
