import ArgumentParser
import Foundation
import RateDistortion
import WeightCodec

struct BenchMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Peak memory (max RSS) of quantizing a generated model, lossy beside llama.cpp's quantizer.",
        discussion: """
            Writes a LLaMA-shaped F16 GGUF of about --gigabytes (TinyLlama's widths, random weights) to \
            the temporary folder, then quantizes it with `lossy quantize` and with llama_model_quantize \
            (through llama-cpp-python, whose interpreter counts in its figure), each as its own process. \
            lossy's peak must stay below the largest tensor as stored plus \(BenchMemory.allowanceMiB) MiB: \
            it maps the input, decodes and encodes \(ModelQuantizer.sliceWeights >> 20) Mi weights at a \
            time, and drops each tensor's pages when done. The exit status is 1 when it does not.
            """
    )

    /// What lossy may use beyond the largest tensor: runtime, buffers, slices.
    static let allowanceMiB = 128

    @Option(help: "Size of the generated model in GB (10⁹ bytes).")
    var gigabytes = 2.0

    @Option(help: "The recipe both quantizers run.")
    var type = "Q8_0"

    @Flag(help: "Measure lossy only (no llama-cpp-python needed).")
    var noPeer = false

    func validate() throws {
        guard gigabytes.isFinite, gigabytes >= 0.1, gigabytes <= 64 else {
            throw ValidationError("--gigabytes must be 0.1–64, got \(formatNumber(gigabytes))")
        }
        guard LlamaFileType(name: type) != nil else { throw ValidationError("unknown recipe '\(type)' for --type") }
    }

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-bench-memory-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = SyntheticLlama.sized(bytes: Int(gigabytes * 1e9))
        let input = folder.appendingPathComponent("synthetic-f16.gguf").path
        try model.write(to: input)
        let inputBytes = try FileManager.default.attributesOfItem(atPath: input)[.size] as? Int ?? 0
        let largest = model.tensors.max { $0.byteCount < $1.byteCount }!
        let mib = 1024.0 * 1024.0

        let lossy = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let ours = try measure(lossy, ["quantize", input, "-o", folder.appendingPathComponent("lossy.gguf").path, "--type", type])
        var table = ReportTable(columns: [
            .init("quantizer", key: "quantizer"),
            .init("time", unit: "s", key: "seconds", decimals: 2),
            .init("peak memory", unit: "MiB", key: "max_rss_mib", decimals: 1),
            .init("over largest tensor", unit: "MiB", key: "over_largest_mib", decimals: 1),
        ])
        let oursMiB = Double(ours.maxRSSKiB) / 1024
        table.append([.text("lossy"), .number(ours.seconds), .number(oursMiB),
                      .number(oursMiB - Double(largest.byteCount) / mib)])
        if !noPeer {
            guard let python = executablePath("python3") else { throw ValidationError("python3 is not installed") }
            let peer = try measure(python, [BenchQuantize.refereeScript(), "quantize", input,
                                            folder.appendingPathComponent("llama.gguf").path, type])
            let peerMiB = Double(peer.maxRSSKiB) / 1024
            table.append([.text("llama.cpp"), .number(peer.seconds), .number(peerMiB),
                          .number(peerMiB - Double(largest.byteCount) / mib)])
        }
        let bound = Double(largest.byteCount) / mib + Double(Self.allowanceMiB)
        print("""
            Quantizing a generated \(formatFixed(Double(inputBytes) / 1e9, decimals: 2)) GB F16 model \
            (\(model.layers) layers, \(model.tensors.count) tensors) to \(type); largest tensor \
            \(largest.name), \(formatFixed(Double(largest.byteCount) / mib, decimals: 1)) MiB

            """)
        print(table.text(), terminator: "")
        let within = oursMiB <= bound
        print("\nlossy's bound: largest tensor + \(Self.allowanceMiB) MiB = \(formatFixed(bound, decimals: 1)) MiB: " +
              (within ? "within" : "EXCEEDED"))
        if !within { throw ExitCode.failure }
    }
}
