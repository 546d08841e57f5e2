import ArgumentParser
import Foundation
import RateDistortion
import WeightCodec

struct BenchQuantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize one model with lossy and with llama.cpp's llama_model_quantize, alternating runs, per type.",
        discussion: """
            lossy runs as its own process (`lossy quantize`), timed from start to exit, with its peak \
            memory (max RSS); llama.cpp runs through llama-cpp-python (scripts/llama/referee.py), timed \
            around the llama_model_quantize call alone, so Python's start-up is not held against it. \
            Throughput is the input's tensor bytes per second. Needs python3 with llama_cpp.
            """
    )

    @Argument(help: "The model to quantize (an F16 GGUF keeps both sides from copying blocks).")
    var model: String

    @Option(help: "Recipes to time, comma-separated.")
    var types = "Q8_0,Q6_K,Q4_K_M,Q2_K"

    @Option(help: "Timed runs per quantizer and type (the median is reported).")
    var runs = 3

    func validate() throws {
        guard (1...20).contains(runs) else { throw ValidationError("--runs must be 1–20, got \(runs)") }
        for type in types.split(separator: ",") where LlamaFileType(name: String(type)) == nil {
            throw ValidationError("unknown recipe '\(type)' in --types")
        }
    }

    func run() throws {
        let source = try GGUFFile(path: model)
        let inputBytes = Double(source.tensors.reduce(0) { $0 + $1.byteCount })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-bench-quantize-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let lossy = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let referee = Self.refereeScript()
        guard let python = executablePath("python3") else { throw ValidationError("python3 is not installed") }

        var table = ReportTable(columns: [
            .init("type", key: "type"), .init("quantizer", key: "quantizer"),
            .init("median", unit: "s", key: "median_seconds", decimals: 3),
            .init("fastest", unit: "s", key: "min_seconds", decimals: 3),
            .init("throughput", unit: "MB/s", key: "mb_per_second", decimals: 1),
            .init("peak memory", unit: "MiB", key: "max_rss_mib", decimals: 1),
            .init("lossy's time", unit: "×", key: "ratio", decimals: 2),
        ])
        for type in types.split(separator: ",").map(String.init) {
            var ours: [Double] = [], theirs: [Double] = [], rss = 0
            for _ in 0..<runs {
                let measured = try measure(lossy, ["quantize", model, "-o", folder.appendingPathComponent("lossy.gguf").path, "--type", type])
                ours.append(measured.seconds)
                rss = max(rss, measured.maxRSSKiB)
                let peer = try measure(python, [referee, "quantize", model, folder.appendingPathComponent("llama.gguf").path, type])
                theirs.append(try Self.reportedSeconds(peer.stdout) ?? peer.seconds)
            }
            let ratio = median(ours) / median(theirs)
            table.append([.text(type), .text("lossy"), .number(median(ours)), .number(ours.min()!),
                          .number(inputBytes / median(ours) / 1e6), .number(Double(rss) / 1024), .number(ratio)])
            table.append([.text(type), .text("llama.cpp"), .number(median(theirs)), .number(theirs.min()!),
                          .number(inputBytes / median(theirs) / 1e6), .text("-"), .number(1)])
        }
        print("Quantizing \(model) (\(formatFixed(inputBytes / 1e6, decimals: 1)) MB of tensors), \(runs) runs each\n")
        print(table.text(), terminator: "")
    }

    static func refereeScript() -> String {
        // Installed beside the package's scripts; the executable sits in .build/<config>/.
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("scripts/llama/referee.py")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
            folder.deleteLastPathComponent()
        }
        return "scripts/llama/referee.py"
    }

    static func reportedSeconds(_ stdout: String) throws -> Double? {
        guard let line = stdout.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return (object["seconds"] as? NSNumber)?.doubleValue
    }
}

/// Runs a program to completion; its wall time, peak resident memory and output.
func measure(_ tool: String, _ arguments: [String]) throws -> (seconds: Double, maxRSSKiB: Int, stdout: String) {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-measure-\(getpid()).out")
    defer { unlink(output.path) }
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([tool] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let start = ContinuousClock.now
    let spawned = posix_spawn(&pid, tool, &actions, nil, argv, environ)
    guard spawned == 0 else { throw ValidationError("cannot run \(tool): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let duration = ContinuousClock.now - start
    let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    // WIFEXITED and WEXITSTATUS, spelled out: Swift does not import the macros.
    guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
        throw ValidationError("\(URL(fileURLWithPath: tool).lastPathComponent) \(arguments.first ?? "") failed (status \(status))")
    }
    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    return (seconds, Int(usage.ru_maxrss), text)
}
