/// A grid of values drawn as coloured cells, rendered as standalone SVG:
/// columns left to right (time), rows bottom to top (partitions), a colour
/// bar with its unit, and ticks on both axes. Each row is drawn the same
/// height whatever its span, so narrow low bands stay visible; the row
/// edges label the axis.
public struct SVGHeatmap: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// What a colour means, with its unit, e.g. "ghost energy (dB re loudest band)".
    public var valueLabel: String
    /// The columns' edges (one more than the columns), rising, e.g. seconds.
    public var columnEdges: [Double]
    /// The rows' edges (one more than the rows), rising, e.g. kHz.
    public var rowEdges: [Double]
    /// values[column][row]; below the range (−∞ included) draws as its lowest colour.
    public var values: [[Double]]
    public var range: ClosedRange<Double>

    public init(title: String, xLabel: String, yLabel: String, valueLabel: String, columnEdges: [Double],
                rowEdges: [Double], values: [[Double]], range: ClosedRange<Double>) {
        precondition(columnEdges.count == values.count + 1 && values.allSatisfy { $0.count + 1 == rowEdges.count },
                     "edges around every cell")
        precondition(range.upperBound > range.lowerBound, "a colour range")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.valueLabel = valueLabel
        self.columnEdges = columnEdges
        self.rowEdges = rowEdges
        self.values = values
        self.range = range
    }

    private static let width = 760.0, height = 480.0
    private static let left = 70.0, right = 120.0, top = 44.0, bottom = 56.0

    /// A dark-blue → teal → yellow scale (close to matplotlib's viridis), readable in grey too.
    private static let stops: [(Double, Double, Double)] = [
        (68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37),
    ]

    static func colour(_ fraction: Double) -> String {
        let t = min(1, max(0, fraction.isNaN ? 0 : fraction)) * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(t))
        let f = t - Double(i)
        let (a, b) = (stops[i], stops[i + 1])
        func channel(_ x: Double, _ y: Double) -> String {
            let v = Int((x + (y - x) * f).rounded())
            let hex = String(v, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        return "#" + channel(a.0, b.0) + channel(a.1, b.1) + channel(a.2, b.2)
    }

    public func svg() -> String {
        let plotW = Self.width - Self.left - Self.right, plotH = Self.height - Self.top - Self.bottom
        let columns = values.count, rows = rowEdges.count - 1
        let (t0, t1) = (columnEdges[0], columnEdges[columns])
        func px(_ x: Double) -> Double { Self.left + (x - t0) / max(t1 - t0, .leastNormalMagnitude) * plotW }
        let rowH = plotH / Double(max(rows, 1))
        func f(_ v: Double) -> String { formatFixed(v, decimals: 1) }
        func fraction(_ v: Double) -> Double { (v - range.lowerBound) / (range.upperBound - range.lowerBound) }

        var out = svgDocumentStart(width: Self.width, height: Self.height, title: title, titleX: Self.left + plotW / 2)
        out += "<g shape-rendering=\"crispEdges\">\n"
        for (c, column) in values.enumerated() {
            let x0 = px(columnEdges[c]), x1 = px(columnEdges[c + 1])
            for (r, value) in column.enumerated() {
                let y = Self.top + plotH - Double(r + 1) * rowH
                out += "<rect x=\"\(f(x0))\" y=\"\(f(y))\" width=\"\(f(max(x1 - x0, 0.5) + 0.3))\" height=\"\(f(rowH + 0.3))\" fill=\"\(Self.colour(fraction(value)))\"/>\n"
            }
        }
        out += "</g>\n"
        out += "<rect x=\"\(f(Self.left))\" y=\"\(f(Self.top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"

        // Time ticks at round steps; row edges labelled, thinned to fit.
        let step = Self.niceStep((t1 - t0) / 6)
        var tick = (t0 / step).rounded(.up) * step
        while tick <= t1 + step * 1e-9 {
            out += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(Self.top + plotH))\" x2=\"\(f(px(tick)))\" y2=\"\(f(Self.top + plotH + 4))\" stroke=\"#333\"/>\n"
            out += "<text x=\"\(f(px(tick)))\" y=\"\(f(Self.top + plotH + 16))\" text-anchor=\"middle\">\(formatNumber(Self.rounded(tick, step)))</text>\n"
            tick += step
        }
        let every = max(1, Int((14 / rowH).rounded(.up)))
        for r in stride(from: 0, through: rows, by: every) {
            let y = Self.top + plotH - Double(r) * rowH
            out += "<line x1=\"\(f(Self.left - 4))\" y1=\"\(f(y))\" x2=\"\(f(Self.left))\" y2=\"\(f(y))\" stroke=\"#333\"/>\n"
            out += "<text x=\"\(f(Self.left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(formatFixed(rowEdges[r], decimals: rowEdges[r] < 10 ? 1 : 0))</text>\n"
        }
        out += "<text x=\"\(f(Self.left + plotW / 2))\" y=\"\(f(Self.height - 14))\" text-anchor=\"middle\">\(escaped(xLabel))</text>\n"
        out += "<text transform=\"translate(18 \(f(Self.top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escaped(yLabel))</text>\n"

        // The colour bar: 32 steps from the range's bottom to its top, labelled at both ends and the middle.
        let barX = Self.left + plotW + 24, barW = 16.0, steps = 32
        for s in 0..<steps {
            let y = Self.top + plotH - Double(s + 1) * plotH / Double(steps)
            out += "<rect x=\"\(f(barX))\" y=\"\(f(y))\" width=\"\(f(barW))\" height=\"\(f(plotH / Double(steps) + 0.3))\" fill=\"\(Self.colour((Double(s) + 0.5) / Double(steps)))\" shape-rendering=\"crispEdges\"/>\n"
        }
        out += "<rect x=\"\(f(barX))\" y=\"\(f(Self.top))\" width=\"\(f(barW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        for (value, y) in [(range.upperBound, Self.top), ((range.lowerBound + range.upperBound) / 2, Self.top + plotH / 2),
                           (range.lowerBound, Self.top + plotH)] {
            out += "<text x=\"\(f(barX + barW + 4))\" y=\"\(f(y + 4))\">\(formatFixed(value, decimals: 0))</text>\n"
        }
        out += "<text transform=\"translate(\(f(Self.width - 12)) \(f(Self.top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escaped(valueLabel))</text>\n"
        return out + "</svg>\n"
    }

    /// 1, 2 or 5 × 10^k, the first at least `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        var magnitude = 1.0
        while magnitude > rough { magnitude /= 10 }
        while magnitude * 10 <= rough { magnitude *= 10 }
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
    }

    /// A tick without the step's floating-point dust (0.30000000000000004 → 0.3).
    static func rounded(_ tick: Double, _ step: Double) -> Double {
        var decimals = 0, scale = 1.0
        while step * scale < 1 - 1e-9 && decimals < 6 { scale *= 10; decimals += 1 }
        return (tick * scale).rounded() / scale
    }
}
