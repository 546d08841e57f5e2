import ArgumentParser
import AudioCodec
import Foundation
import RateDistortion
import WeightCodec

extension ReportFormat: ExpressibleByArgument {}

/// Options every reporting command takes.
struct ReportOptions: ParsableArguments {
    @Option(help: "Report format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ReportFormat = .table

    @Option(help: ArgumentHelp("Also write the rate-distortion curves as an SVG plot.", valueName: "file.svg"))
    var plot: String?

    /// Prints the sweep in the chosen format and writes the plot if asked.
    func emit(_ sweep: some PlottedReport) throws {
        if let plot {
            try AtomicFile.write(Data(sweep.plot().svg().utf8), to: plot)
        }
        print(sweep.rendered(as: format), terminator: "")
    }
}

/// A report that renders in every format and as an SVG plot.
protocol PlottedReport {
    func rendered(as format: ReportFormat) -> String
    func plot() -> SVGPlot
}

extension RDSweep: PlottedReport {}
extension WeightSweep: PlottedReport {}
extension AudioSweep: PlottedReport {}
extension CompressionComparison: PlottedReport {}

/// A comma-separated list of numbers, e.g. `0.5,1,2`.
struct NumberList: ExpressibleByArgument {
    var values: [Double]

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        let numbers = parts.map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, numbers.allSatisfy({ $0?.isFinite == true }) else { return nil }
        values = numbers.map { $0! }
    }

    var defaultValueDescription: String { values.map { formatNumber($0) }.joined(separator: ",") }
}

/// A comma-separated list of names from a fixed set, e.g. `uniform,offset`.
struct NameList<Name: RawRepresentable & CaseIterable & Hashable>: ExpressibleByArgument
where Name.RawValue == String {
    var values: [Name]

    init(_ values: [Name]) { self.values = values }

    init?(argument: String) {
        let names = argument.split(separator: ",", omittingEmptySubsequences: false).map {
            Name(rawValue: $0.trimmingCharacters(in: .whitespaces))
        }
        guard !names.isEmpty, names.allSatisfy({ $0 != nil }) else { return nil }
        values = names.map { $0! }
    }

    var defaultValueDescription: String { values.map(\.rawValue).joined(separator: ",") }
    static var allValueStrings: [String] { Name.allCases.map(\.rawValue) }
}
