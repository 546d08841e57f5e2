import RealModule

/// Joint stereo of MPEG-1 (clause 2.4.3.4.9.3): mid/side and intensity,
/// applied to both channels' requantized lines in bitstream order.
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
            // Above the last segment (per short window) where the right channel is non-zero.
            var lastNonZero = [-1, -1, -1]  // per window; long blocks use window 0
            for (s, segment) in segments.enumerated() where segment.lines.contains(where: { right[$0] != 0 }) {
                lastNonZero[segment.window] = s
            }
            if !segments.contains(where: \.short) { lastNonZero = [lastNonZero[0], lastNonZero[0], lastNonZero[0]] }
            for (s, segment) in segments.enumerated() where s > lastNonZero[segment.window] {
                // The last band sends no scalefactor and reuses the one below it.
                let position = segment.short
                    ? sf.short[min(segment.band, 11) * 3 + segment.window]
                    : sf.long[min(segment.band, 20)]
                guard position != 7 else { continue }
                intensity[s] = true
                let ratio = Double.tan(Double(position) * Double.pi / 12)
                let l = Float(ratio / (1 + ratio)), r = Float(1 / (1 + ratio))
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
}
