import Foundation
import Testing

struct SweepSourceCommandTests {
    static let small = ["sweep", "source", "gaussian", "--partitions", "4", "--samples", "256", "--rates", "1,2"]

    @Test func printsTheTableWithBoundAndDiscardReport() throws {
        let run = try Lossy.run(Self.small)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stderr.isEmpty)
        #expect(run.stdout.contains("gap (bit)"))
        #expect(run.stdout.contains("NTR worst 1% (dB)"))
        #expect(run.stdout.contains("bound: Gaussian D(R) bound"))
        #expect(run.stdout.contains("What was discarded"))
        // Three quantizers at two rates: a table row and a discard report each.
        let lines = run.stdout.split(separator: "\n")
        for codec in ["uniform (entropy)", "offset (fixed)", "lloyd-max (fixed)"] {
            #expect(lines.filter { $0.hasPrefix(codec + "  ") }.count == 2, "table rows of \(codec)")
            #expect(lines.filter { $0.hasPrefix(codec + " at ") }.count == 2, "discard reports of \(codec)")
        }
    }

    @Test(arguments: ["csv", "json", "markdown"])
    func everyFormatRenders(format: String) throws {
        let run = try Lossy.run(Self.small + ["--format", format])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        switch format {
        case "csv": #expect(run.stdout.hasPrefix("codec,target_rate,rate,"))
        case "json": #expect(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) is [String: Any])
        default: #expect(run.stdout.contains("|---|"))
        }
    }

    @Test func theSameSeedPrintsTheSameNumbers() throws {
        let a = try Lossy.run(Self.small + ["--format", "csv", "--seed", "5"])
        let b = try Lossy.run(Self.small + ["--format", "csv", "--seed", "5"])
        let c = try Lossy.run(Self.small + ["--format", "csv", "--seed", "6"])
        #expect(a.stdout == b.stdout)
        #expect(a.stdout != c.stdout)
    }

    @Test func thePlotIsWrittenWholeAndNothingElseIsLeft() throws {
        let folder = try Lossy.temporaryFolder()
        let plot = folder.appendingPathComponent("rd.svg")
        try Data("an older plot".utf8).write(to: plot)
        let run = try Lossy.run(Self.small + ["--plot", "rd.svg"], in: folder)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let svg = try String(contentsOf: plot, encoding: .utf8)
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["rd.svg"])
    }
}
