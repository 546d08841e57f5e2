import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import RateDistortion

struct RenderingTests {
    private static let sweep: RDSweep = {
        let source = SyntheticSource(density: .gaussian, partitionCount: 6, samplesPerPartition: 512,
                                     spreadDB: 20, seed: 4)
        return try! SourceSweep.run(source: source, rates: [0.5, 1.5, 3], families: QuantizerFamily.allCases)
    }()

    /// The numbers of a point in the table's column order.
    private func numbers(_ p: RDPoint) -> [Double] {
        [p.targetRate, p.rate, p.sideRate, p.meanSquaredError, p.snrDB, p.boundSNRDB, p.gapBits, p.gapDB,
         Double(p.discard.discarded.count), 100 * p.discard.discardedEnergyFraction,
         p.discard.meanNoiseToToleranceDB, p.discard.tailNoiseToToleranceDB, p.discard.maxNoiseToToleranceDB]
    }

    @Test func csvParsesBackToTheSameNumbers() {
        let lines = Self.sweep.rendered(as: .csv).split(separator: "\n").map(String.init)
        #expect(lines.first == "codec,target_rate,rate,side_rate,mse,snr_db,bound_snr_db,gap_bits,gap_db,discarded_partitions,discarded_energy_percent,ntr_mean_db,ntr_tail_db,ntr_max_db")
        #expect(lines.count == Self.sweep.points.count + 1)
        for (line, point) in zip(lines.dropFirst(), Self.sweep.points) {
            let fields = line.split(separator: ",").map(String.init)
            #expect(fields[0] == point.codec)
            #expect(fields.dropFirst().map { Double($0)! } == numbers(point))
        }
    }

    /// The JSON report's shape, decoded with Foundation's JSONDecoder.
    private struct Report: Decodable {
        struct Bound: Decodable { var name: String; var curve: [[Double]] }
        struct Point: Decodable {
            struct Discard: Decodable {
                struct Partition: Decodable { var index: Int; var bits: Double; var noise_power: Double }
                var discarded: [Int]
                var worst: [Int]
                var partitions: [Partition]
            }
            var codec: String
            var target_rate, rate, side_rate, mse, snr_db, bound_snr_db, gap_bits, gap_db: Double
            var discarded_partitions, discarded_energy_percent, ntr_mean_db, ntr_tail_db, ntr_max_db: Double
            var discard: Discard

            var numbers: [Double] {
                [target_rate, rate, side_rate, mse, snr_db, bound_snr_db, gap_bits, gap_db, discarded_partitions,
                 discarded_energy_percent, ntr_mean_db, ntr_tail_db, ntr_max_db]
            }
        }
        var title: String
        var bound: Bound
        var points: [Point]
    }

    @Test func jsonParsesBackToTheSameNumbers() throws {
        let text = Self.sweep.rendered(as: .json)
        let report = try JSONDecoder().decode(Report.self, from: Data(text.utf8))
        #expect(report.title == Self.sweep.title)
        #expect(report.bound.curve.map { $0[1] } == Self.sweep.boundCurve.map(\.snrDB))
        #expect(report.points.count == Self.sweep.points.count)
        for (decoded, point) in zip(report.points, Self.sweep.points) {
            #expect(decoded.codec == point.codec)
            #expect(decoded.numbers == numbers(point))
            #expect(decoded.discard.discarded == point.discard.discarded)
            #expect(decoded.discard.worst == point.discard.worst)
            #expect(decoded.discard.partitions.map(\.noise_power) == point.discard.partitions.map(\.noisePower))
            #expect(decoded.discard.partitions.map(\.bits) == point.discard.partitions.map(\.bits))
        }
    }

    @Test func svgIsValidXMLWithLabelledAxes() throws {
        let svg = Self.sweep.plot().svg()
        final class Collector: NSObject, XMLParserDelegate {
            var elements: [String: Int] = [:]
            var text = ""
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                        qualifiedName: String?, attributes: [String: String] = [:]) {
                elements[name, default: 0] += 1
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { text += string + "\n" }
        }
        let collector = Collector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        #expect(parser.parse(), "SVG does not parse: \(String(describing: parser.parserError))")
        #expect(collector.elements["svg"] == 1)
        // The bound and three measured curves.
        #expect(collector.elements["polyline"] == 4)
        #expect(collector.text.contains("rate (bits per sample)"))
        #expect(collector.text.contains("SNR (dB)"))
        #expect(collector.text.contains("Gaussian D(R) bound"))
        #expect(collector.text.contains("lloyd-max (fixed)"))
    }

    @Test func escapingKeepsTheSVGWellFormed() {
        var plot = SVGPlot(title: "a < b & \"c\"", xLabel: "x", yLabel: "y")
        plot.series = [.init(name: "<&>", points: [(0, 0), (1, 1)], style: .measured)]
        let parser = XMLParser(data: Data(plot.svg().utf8))
        #expect(parser.parse())
    }

    /// A tail is drawn dotted with open markers, in a colour of its own; a mean beside it solid and filled.
    @Test func aTailIsDottedWithOpenMarkers() {
        var plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y")
        plot.series = [.init(name: "mean", points: [(0, 0), (1, 1)], style: .measured),
                       .init(name: "worst", points: [(0, 2), (1, 3)], style: .tail)]
        let svg = plot.svg()
        #expect(XMLParser(data: Data(svg.utf8)).parse())
        let lines = svg.split(separator: "\n")
        let polylines = lines.filter { $0.hasPrefix("<polyline") }
        #expect(polylines.count == 2)
        #expect(!polylines[0].contains("stroke-dasharray") && polylines[1].contains("stroke-dasharray=\"2 3\""))
        #expect(polylines[0].contains("#1f77b4") && polylines[1].contains("#d62728"))
        // Two points and a legend marker each.
        #expect(lines.filter { $0.hasPrefix("<circle") && $0.contains("fill=\"#1f77b4\"") }.count == 3)
        #expect(lines.filter { $0.hasPrefix("<circle") && $0.contains("fill=\"white\" stroke=\"#d62728\"") }.count == 3)
    }

    /// Labels of points close together go to different sides, so no two overlap.
    @Test func pointLabelsDoNotOverlap() {
        var plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y")
        let points: [(x: Double, y: Double)] = [(4.13, 24.8), (4.29, 24.9), (4.5, 25.7), (5.3, 33), (8.5, 58.6)]
        plot.series = [.init(name: "m", points: points, style: .measured, labels: ["Q2_K", "Q3_K", "Q4_0", "Q4_K", "a<b"])]
        let svg = plot.svg()
        #expect(svg.contains(">a&lt;b</text>"))
        var placed = [SVGPlot.LabelBox]()
        for point in points {
            let spot = SVGPlot.labelSpot(at: (point.x * 60, 400 - point.y * 6), characters: 4, avoiding: placed, markers: [])
            #expect(!placed.contains { $0.left < spot.box.right && spot.box.left < $0.right && $0.top < spot.box.bottom && spot.box.top < $0.bottom })
            placed.append(spot.box)
        }
        #expect(Set(placed.map(\.left)).count == points.count)
    }

    @Test(arguments: [
        (1.23456, 2, "1.23"), (-1.5, 0, "-2"), (0.5, 0, "1"), (-0.004, 2, "0.00"), (123456.789, 1, "123456.8"),
        (0.000042, 6, "0.000042"), (7, 3, "7.000"), (Double.infinity, 2, "inf"), (-Double.infinity, 1, "-inf"),
        (Double.nan, 2, "nan"),
    ])
    func fixedPointFormatting(value: Double, decimals: Int, text: String) {
        #expect(formatFixed(value, decimals: decimals) == text)
    }

    @Test func textTableAlignsNumbersRight() {
        var table = ReportTable(columns: [.init("name", key: "name"), .init("x", unit: "dB", key: "x", decimals: 1)])
        table.append([.text("a"), .number(1.25)])
        table.append([.text("longer"), .number(-12.5)])
        #expect(table.text() == """
            name    x (dB)
            ------  ------
            a          1.3
            longer   -12.5

            """)
        #expect(table.markdown() == """
            | name | x (dB) |
            |---|---:|
            | a | 1.3 |
            | longer | -12.5 |

            """)
    }

    @Test func csvQuotesFieldsThatNeedIt() {
        var table = ReportTable(columns: [.init("name", key: "name")])
        table.append([.text("a, \"b\"")])
        #expect(table.csv() == "name\n\"a, \"\"b\"\"\"\n")
    }

    @Test func jsonEscapesAndDropsNonFiniteNumbers() {
        let value = JSONValue.object([("s", .string("q\"\n\u{1}")), ("n", .number(.infinity)), ("i", .number(3))])
        #expect(value.serialized() == "{\n  \"s\": \"q\\\"\\n\\u0001\",\n  \"n\": null,\n  \"i\": 3\n}")
    }

    /// Two domains at two budgets: a row per domain per budget, each domain's
    /// own columns missing for the other ("-", empty, null), one colour per domain.
    @Test func aComparisonShowsBothDomainsAtEveryBudget() throws {
        func row(_ budget: Double, _ extra: CompressionComparison.Measure) -> CompressionComparison.Row {
            .init(budget: budget, setting: "s\(Int(budget))", label: "s", fits: true, rate: budget - 0.1, snrDB: 6 * budget,
                  worstSNRDB: 6 * budget - 3, measures: [extra], boundRate: budget - 1, zeroedPartitionShare: 0.05, zeroedShare: 0.1,
                  zeroedEnergyShare: 0.001, boundZeroedShare: 0.2, whereLost: "here")
        }
        let nmr = ReportTable.Column("NMR", unit: "dB", key: "nmr_db"), mse = ReportTable.Column("MSE", key: "mse")
        let comparison = CompressionComparison(budgets: [2, 4], domains: [
            .init(name: "audio", subject: "a.wav", coefficient: "sample", notes: ["a note"],
                  rows: [row(2, .init(nmr, -3)), row(4, .init(nmr, -9))], boundCurve: [(0, 0), (5, 30)]),
            .init(name: "weights", subject: "m", coefficient: "weight", notes: ["w note"],
                  rows: [row(2, .init(mse, 1e-3)), row(4, .init(mse, 1e-4))], boundCurve: [(0, 0), (5, 31)]),
        ])
        let csv = comparison.rendered(as: .csv).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(csv[0] == "budget,domain,setting,fits,rate,snr_db,worst_1pct_snr_db,nmr_db,mse,bound_rate,gap,zeroed_partitions_percent,zeroed_percent,zeroed_energy_percent,bound_zeroed_percent,where")
        #expect(csv[1].hasPrefix("2.0,audio,s2,yes,1.9,12.0,9.0,-3.0,,1.0,0.8999999999999999,5.0,10.0,"))
        #expect(csv[2].hasPrefix("2.0,weights,s2,yes,1.9,12.0,9.0,,0.001,1.0,"))
        let text = comparison.rendered(as: .table)
        #expect(text.contains("audio: a note") && text.contains("weights: w note"))
        let json = comparison.json().serialized()
        #expect(json.contains("\"nmr_db\": null") && json.contains("\"mse\": null"))
        let svg = comparison.plot().svg()
        #expect(svg.components(separatedBy: "<polygon").count - 1 == 2)
        #expect(svg.contains("stroke=\"\(SVGPlot.palette[0])\" stroke-width=\"2\" stroke-dasharray=\"6 4\""))
        #expect(svg.contains("stroke=\"\(SVGPlot.palette[1])\" stroke-width=\"2\" stroke-dasharray=\"6 4\""))
        #expect(svg.contains(">audio worst 1%<") && svg.contains(">weights bound<"))
    }
}
