import ArgumentParser
import Foundation
import RateDistortion
import WeightCodec

struct SweepWeights: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Sweep a model through block formats: rate, weighted error and its tail, gap to the bound; KL with --text.",
        discussion: """
            For each format in --types, every tensor llama.cpp quantizes gets that format, as \
            llama-quantize --pure writes it: llama.cpp's fallback where the rows are not a whole number \
            of the format's blocks (576-wide rows: Q2_K and Q3_K take Q4_0, Q4_K Q5_0, Q5_K Q5_1, Q6_K \
            Q8_0), norms and other tensors kept. Per format: bits per weight over the quantized \
            tensors, exact from the byte counts, fallbacks included, and how many tensors fell back; \
            the mean squared error per weight, weighted by E[x²] of each input column on the \
            importance matrix's absolute scale with --imatrix (plain without); the SQNR, and the SQNR \
            that the worst 1 % of 32-weight groups fall below. Errors are measured by quantizing the \
            same share of every tensor's rows at an even stride (at most --sample-weights per format).

            The bound is Gaussian reverse water-filling over the model's groups of 32 consecutive \
            weights along a row (llama.cpp's smallest block): each group a component of variance the \
            mean square of its weights (nothing subtracted: weights are close to zero-mean) and, with \
            --imatrix, tolerance 1/(mean E[x²] of its columns), pooled in bins of 1/32 octave. The gap \
            is the rate spent minus the bound's rate at the same weighted distortion. The bound is \
            that of Gaussian groups whose variances the decoder knows: it charges nothing for block \
            scales, and non-Gaussian weights could need less, so it is a yardstick, not a limit.

            --text also writes each format's whole model to a temporary GGUF (removed afterwards) and \
            runs llama.cpp on the text with all of them against the input: top-1 agreement, KL mean \
            and p99.9. KL needs --text, a GGUF input and Python 3 with llama-cpp-python and numpy.
            """
    )

    @Argument(help: ArgumentHelp("The model (GGUF; safetensors as `lossy quantize` reads them, without --text).",
                                 valueName: "model.gguf"))
    var model: String

    @Option(help: ArgumentHelp("Block formats to sweep, comma-separated (\(WeightSweep.sweepableTypes.map(\.name).joined(separator: ", "))).",
                               valueName: "list"))
    var types = WeightSweep.defaultTypes.map(\.name).joined(separator: ",")

    @Option(help: ArgumentHelp("Importance matrix (llama.cpp's GGUF imatrix or legacy .dat): errors and the bound weighted by E[x²].",
                               valueName: "file"))
    var imatrix: String?

    @Option(help: ArgumentHelp("Also run every format's model through llama.cpp on this text (UTF-8) for KL divergence.",
                               valueName: "file"))
    var text: String?

    @Option(name: .customLong("sample-weights"), help: ArgumentHelp(
        "Weights quantized per format to measure the errors; the same share of every tensor's rows.", valueName: "count"))
    var sampleWeights = WeightSweep.defaultSampleWeights

    @OptionGroup var report: ReportOptions

    func validate() throws {
        let names = types.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where Self.sweepable(name) == nil {
            throw ValidationError("--types: '\(name)' is not a block format lossy writes; known: "
                                  + WeightSweep.sweepableTypes.map(\.name).joined(separator: ", "))
        }
        if let twice = names.first(where: { name in names.filter { $0.lowercased() == name.lowercased() }.count > 1 }) {
            throw ValidationError("--types names \(twice) twice")
        }
        if sampleWeights < 1 { throw ValidationError("--sample-weights must be at least 1, got \(sampleWeights)") }
        try requireReadable([imatrix, text].compactMap { $0 })
        if text != nil, FileManager.default.isReadableFile(atPath: model), !((try? ModelSource.isGGUF(model)) ?? false) {
            throw ValidationError("--text runs llama.cpp on the input as the reference: \(model) must be a GGUF file")
        }
    }

    func run() throws {
        let started = Date()
        let importance = try imatrix.map { try ImportanceMatrix.load(path: $0) }
        let source = try ModelSource.open(model)
        let progress = ProgressLine()
        let formats = types.split(separator: ",").compactMap { Self.sweepable($0.trimmingCharacters(in: .whitespaces)) }
        var sweep = try WeightSweep.run(source: source, types: formats, importance: importance, sampleWeights: sampleWeights) {
            position, count, name in progress.show("measuring [\(position + 1)/\(count)] \(name)")
        }
        let measured = Date()
        if let text {
            try sweep.measureDivergence(reference: model, source: source, importance: importance, textPath: text,
                                        progress: progress.show)
        }
        progress.clear()
        try report.emit(sweep)
        if report.format == .table {
            var time = "time: \(formatFixed(measured.timeIntervalSince(started), decimals: 1)) s measuring"
            if text != nil { time += ", \(formatFixed(Date().timeIntervalSince(measured), decimals: 1)) s writing models and running llama.cpp" }
            print(time)
        }
    }

    /// A block format the sweep takes, by name in any case.
    static func sweepable(_ name: String) -> GGMLType? {
        GGMLType(name: name).flatMap { WeightSweep.sweepableTypes.contains($0) ? $0 : nil }
    }
}
