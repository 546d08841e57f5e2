import Foundation
import Testing

/// Every kind of bad input ends with one line on stderr, starting `lossy:`,
/// and a non-zero exit; nothing is written.
struct ErrorPathTests {
    struct Case: Sendable, CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var message: String
        var description: String { arguments.joined(separator: " ") }
    }

    static let usage: Int32 = 64  // EX_USAGE, ArgumentParser's validation failure

    static let cases: [Case] = [
        Case(arguments: ["--bogus"], status: usage, message: "Unknown option '--bogus'"),
        Case(arguments: ["frobnicate"], status: usage, message: "Unexpected argument 'frobnicate'"),
        Case(arguments: ["sweep", "source", "cauchy"], status: usage, message: "The value 'cauchy' is invalid for '<density>'"),
        Case(arguments: ["sweep", "source"], status: usage, message: "Missing expected argument '<density>'"),
        Case(arguments: ["sweep", "source", "gaussian", "--rates", "1,x"], status: usage, message: "The value '1,x' is invalid for '--rates <rates>'"),
        Case(arguments: ["sweep", "source", "gaussian", "--rates", "0"], status: usage, message: "--rates must each be in (0, 8] bits per sample, got 0"),
        Case(arguments: ["sweep", "source", "gaussian", "--rates", "9"], status: usage, message: "--rates must each be in (0, 8] bits per sample, got 9"),
        Case(arguments: ["sweep", "source", "gaussian", "--partitions", "0"], status: usage, message: "--partitions must be 1–4096, got 0"),
        Case(arguments: ["sweep", "source", "gaussian", "--partitions", "many"], status: usage, message: "The value 'many' is invalid for '--partitions <partitions>'"),
        Case(arguments: ["sweep", "source", "gaussian", "--samples", "8"], status: usage, message: "--samples must be 16–1048576 per partition, got 8"),
        Case(arguments: ["sweep", "source", "gaussian", "--partitions", "4096", "--samples", "65536"], status: usage, message: "--partitions × --samples must be at most 16777216, got 268435456"),
        Case(arguments: ["sweep", "source", "gaussian", "--spread=-3"], status: usage, message: "--spread must be 0–120 dB, got -3"),
        Case(arguments: ["sweep", "source", "gaussian", "--spread", "nan"], status: usage, message: "--spread must be 0–120 dB, got nan"),
        Case(arguments: ["sweep", "source", "gaussian", "--quantizers", "uniform,nf4"], status: usage, message: "The value 'uniform,nf4' is invalid for '--quantizers <quantizers>'"),
        Case(arguments: ["sweep", "source", "gaussian", "--format", "xml"], status: usage, message: "The value 'xml' is invalid for '--format <format>'"),
        Case(arguments: ["sweep", "source", "gaussian", "--seed=-1"], status: usage, message: "The value '-1' is invalid for '--seed <seed>'"),
        Case(arguments: ["sweep", "source", "gaussian", "--partitions", "4", "--samples", "64", "--rates", "0.001"], status: 1,
             message: "rate 0.001 bits/sample is below what uniform (entropy) needs for side information alone (0.1250 bits/sample)"),
        Case(arguments: ["sweep", "source", "gaussian", "--partitions", "2", "--samples", "64", "--plot", "/nonexistent-folder/rd.svg"], status: 1,
             message: "cannot write /nonexistent-folder/rd.svg: folder /nonexistent-folder does not exist"),
        Case(arguments: ["sweep", "source", "gaussian", "--partitions", "2", "--samples", "64", "--plot", "/tmp"], status: 1,
             message: "cannot write /tmp: it is a folder"),
        Case(arguments: ["inspect", "/nonexistent/song.wav"], status: 1, message: "cannot read audio from /nonexistent/song.wav: "),
        Case(arguments: ["inspect"], status: usage, message: "Missing expected argument '<file>'"),
        Case(arguments: ["bench", "encode", "--runs", "0"], status: usage, message: "--runs must be 1–50, got 0"),
        Case(arguments: ["bench", "decode", "--seconds", "0"], status: usage, message: "--seconds must be 1–3600, got 0"),
    ]

    @Test(arguments: cases)
    func badInputEndsWithOneClearLine(_ c: Case) throws {
        let run = try Lossy.run(c.arguments)
        #expect(run.status == c.status, "stderr: \(run.stderr)")
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "expected exactly one line, got: \(run.stderr)")
        #expect(run.stderr.hasPrefix("lossy: " + c.message), "got: \(run.stderr)")
    }

    @Test func anUnreadableAudioFileIsOneLine() throws {
        let folder = try Lossy.temporaryFolder()
        let path = folder.appendingPathComponent("not-audio.wav").path
        try Data("this is not a wave file at all, just text".utf8).write(to: URL(fileURLWithPath: path))
        let run = try Lossy.run(["inspect", path])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("lossy: cannot read audio from \(path): "))
        #expect(run.stderr.filter { $0 == "\n" }.count == 1)
    }

    @Test func helpAndVersionExitCleanly() throws {
        let help = try Lossy.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: lossy <subcommand>"))
        let sweepHelp = try Lossy.run(["sweep", "source", "--help"])
        #expect(sweepHelp.status == 0)
        #expect(sweepHelp.stdout.contains("--plot <file.svg>"))
        let version = try Lossy.run(["--version"])
        #expect(version.status == 0 && version.stdout == "0.1.0\n")
    }
}
