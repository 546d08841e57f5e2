import RealModule

/// A line plot rendered as standalone SVG: title, labelled axes with ticks,
/// a legend, measured series as lines with markers, and bounds as dashed
/// lines with the unreachable side shaded.
public struct SVGPlot: Sendable {
    public enum Style: Sendable {
        /// Measured points, joined, with markers.
        case measured
        /// A measured tail beside a mean (the worst frames, the worst groups):
        /// dotted, with open markers.
        case tail
        /// A theoretical bound; `shadeAbove` shades the region beyond it.
        case bound(shadeAbove: Bool)
    }

    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var style: Style
        /// A label beside each measured point (e.g. its format), or none.
        public var labels: [String]
        /// A colour (e.g. "#1f77b4") shared with related series; nil: the
        /// next of the palette for measured points, dark grey for a bound.
        public var colour: String?

        public init(name: String, points: [(x: Double, y: Double)], style: Style, labels: [String] = [],
                    colour: String? = nil) {
            precondition(labels.isEmpty || labels.count == points.count, "one label per point, or none")
            self.name = name
            self.points = points
            self.style = style
            self.labels = labels
            self.colour = colour
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]

    public init(title: String, xLabel: String, yLabel: String, series: [Series] = []) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]
    private static let width = 760.0, height = 480.0
    private static let left = 70.0, right = 210.0, top = 44.0, bottom = 56.0

    public func svg() -> String {
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xs = niceAxis(finite.map(\.x))
        let ys = niceAxis(finite.map(\.y))
        let plotW = Self.width - Self.left - Self.right
        let plotH = Self.height - Self.top - Self.bottom
        func px(_ x: Double) -> Double { Self.left + (x - xs.low) / (xs.high - xs.low) * plotW }
        func py(_ y: Double) -> Double { Self.top + plotH - (y - ys.low) / (ys.high - ys.low) * plotH }
        func f(_ v: Double) -> String { formatFixed(v, decimals: 1) }

        var out = svgDocumentStart(width: Self.width, height: Self.height, title: title, titleX: Self.left + plotW / 2)
        out += "<defs><clipPath id=\"plot-area\"><rect x=\"\(f(Self.left))\" y=\"\(f(Self.top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/></clipPath></defs>\n"

        // Grid and ticks.
        for tick in xs.ticks {
            out += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(Self.top))\" x2=\"\(f(px(tick)))\" y2=\"\(f(Self.top + plotH))\" stroke=\"#e5e5e5\"/>\n"
            out += "<text x=\"\(f(px(tick)))\" y=\"\(f(Self.top + plotH + 16))\" text-anchor=\"middle\">\(formatFixed(tick, decimals: xs.decimals))</text>\n"
        }
        for tick in ys.ticks {
            out += "<line x1=\"\(f(Self.left))\" y1=\"\(f(py(tick)))\" x2=\"\(f(Self.left + plotW))\" y2=\"\(f(py(tick)))\" stroke=\"#e5e5e5\"/>\n"
            out += "<text x=\"\(f(Self.left - 6))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\">\(formatFixed(tick, decimals: ys.decimals))</text>\n"
        }
        out += "<rect x=\"\(f(Self.left))\" y=\"\(f(Self.top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        out += "<text x=\"\(f(Self.left + plotW / 2))\" y=\"\(f(Self.height - 14))\" text-anchor=\"middle\">\(escaped(xLabel))</text>\n"
        out += "<text transform=\"translate(18 \(f(Self.top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escaped(yLabel))</text>\n"

        // Series, clipped to the plot area; legend on the right.
        var colour = 0
        var placed = [LabelBox]()
        for (n, s) in series.enumerated() {
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            let legendY = Self.top + 10 + Double(n) * 20
            let legendX = Self.left + plotW + 16
            switch s.style {
            case let .bound(shadeAbove):
                let c = s.colour ?? "#444"
                if shadeAbove, let first = points.first, let last = points.last {
                    let area = "\(f(px(first.x))),\(f(Self.top)) " + path + " \(f(px(last.x))),\(f(Self.top))"
                    out += "<polygon points=\"\(area)\" fill=\"\(s.colour ?? "#999")\" fill-opacity=\"0.12\" stroke=\"none\" clip-path=\"url(#plot-area)\"/>\n"
                }
                out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"2\" stroke-dasharray=\"6 4\" clip-path=\"url(#plot-area)\"/>\n"
                out += "<line x1=\"\(f(legendX))\" y1=\"\(f(legendY))\" x2=\"\(f(legendX + 24))\" y2=\"\(f(legendY))\" stroke=\"\(c)\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n"
            case .measured, .tail:
                let c = s.colour ?? Self.palette[colour % Self.palette.count]
                if s.colour == nil { colour += 1 }
                let isTail = if case .tail = s.style { true } else { false }
                let dash = isTail ? " stroke-dasharray=\"2 3\"" : ""
                let marker = isTail ? "fill=\"white\" stroke=\"\(c)\" stroke-width=\"1.5\"" : "fill=\"\(c)\""
                out += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.8\"\(dash) clip-path=\"url(#plot-area)\"/>\n"
                for p in points {
                    out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3.2\" \(marker)/>\n"
                }
                let markers = points.map { (px($0.x), py($0.y)) }
                for (p, label) in zip(s.points, s.labels) where p.x.isFinite && p.y.isFinite {
                    let spot = Self.labelSpot(at: (px(p.x), py(p.y)), characters: label.count, avoiding: placed, markers: markers)
                    placed.append(spot.box)
                    out += "<text x=\"\(f(spot.x))\" y=\"\(f(spot.y))\" text-anchor=\"\(spot.anchor)\" font-size=\"10\" fill=\"\(c)\">\(escaped(label))</text>\n"
                }
                out += "<line x1=\"\(f(legendX))\" y1=\"\(f(legendY))\" x2=\"\(f(legendX + 24))\" y2=\"\(f(legendY))\" stroke=\"\(c)\" stroke-width=\"2\"\(dash)/>\n"
                out += "<circle cx=\"\(f(legendX + 12))\" cy=\"\(f(legendY))\" r=\"3.2\" \(marker)/>\n"
            }
            out += "<text x=\"\(f(legendX + 30))\" y=\"\(f(legendY + 4))\">\(escaped(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    typealias LabelBox = (left: Double, top: Double, right: Double, bottom: Double)

    /// Where a point's label goes: right of it, else left, above or below,
    /// the first place that covers no label already placed and no marker
    /// (10-pixel text, about 6 pixels a character); right when none is free.
    static func labelSpot(
        at point: (x: Double, y: Double), characters: Int, avoiding placed: [LabelBox], markers: [(Double, Double)]
    ) -> (x: Double, y: Double, anchor: String, box: LabelBox) {
        let width = 6.0 * Double(characters), height = 10.0
        let spots: [(dx: Double, dy: Double, anchor: String)] = [(7, 4, "start"), (-7, 4, "end"), (0, -7, "middle"), (0, 15, "middle")]
        func box(_ spot: (dx: Double, dy: Double, anchor: String)) -> LabelBox {
            let x = point.x + spot.dx, baseline = point.y + spot.dy
            let left = spot.anchor == "start" ? x : spot.anchor == "end" ? x - width : x - width / 2
            return (left, baseline - height, left + width, baseline)
        }
        func free(_ b: LabelBox) -> Bool {
            !placed.contains { $0.left < b.right && b.left < $0.right && $0.top < b.bottom && b.top < $0.bottom }
                && !markers.contains { $0.0 + 3 > b.left && $0.0 - 3 < b.right && $0.1 + 3 > b.top && $0.1 - 3 < b.bottom }
        }
        let spot = spots.first { free(box($0)) } ?? spots[0]
        return (point.x + spot.dx, point.y + spot.dy, spot.anchor, box(spot))
    }

    /// An axis range widened to round numbers, with 4–8 ticks of step 1, 2 or 5 × 10^k.
    private func niceAxis(_ values: [Double]) -> (low: Double, high: Double, ticks: [Double], decimals: Int) {
        var low = values.min() ?? 0
        var high = values.max() ?? 1
        if high - low < 1e-9 { low -= 1; high += 1 }
        let rough = (high - low) / 6
        let magnitude = Double.exp10(Double.log10(rough).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        low = (low / step).rounded(.down) * step
        high = (high / step).rounded(.up) * step
        let count = Int(((high - low) / step).rounded())
        let ticks = (0...count).map { low + Double($0) * step }
        let decimals = max(0, min(6, Int(-Double.log10(step).rounded(.down))))
        return (low, high, ticks, decimals)
    }
}

/// A standalone SVG document's opening: the canvas, a white page and a bold
/// title centred at `titleX`; the caller adds the drawing and `</svg>`.
func svgDocumentStart(width: Double, height: Double, title: String, titleX: Double) -> String {
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
    viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
    <rect width="100%" height="100%" fill="white"/>
    <text x="\(formatFixed(titleX, decimals: 1))" y="24" text-anchor="middle" font-size="15" font-weight="bold">\(escaped(title))</text>

    """
}

/// Text made safe for XML character data and attribute values.
public func escaped(_ text: String) -> String {
    var out = ""
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}
