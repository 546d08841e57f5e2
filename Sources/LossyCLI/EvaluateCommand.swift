import ArgumentParser
import Foundation
import RateDistortion
import WeightCodec

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an original and compressed models through llama.cpp on a text and report what the outputs lose.",
        discussion: """
            Every model is run on the same tokens of the text (the reference's tokenizer, one window \
            of --context tokens at a time; longer texts in windows overlapping by half, each scoring \
            only its new half). Per token, the KL divergence of the compressed model's next-token \
            distribution from the reference's, over the whole vocabulary; reported as its mean, 99th \
            and 99.9th percentiles and maximum, with top-1 agreement, both perplexities, and the worst \
            tokens in their context. Needs Python 3 with llama-cpp-python and numpy.
            """
    )

    @Argument(help: ArgumentHelp("The original model (GGUF).", valueName: "reference.gguf"))
    var reference: String

    @Argument(help: ArgumentHelp("Compressed models with the reference's vocabulary.", valueName: "model.gguf"))
    var models: [String] = []

    @Option(help: ArgumentHelp("The text to run (UTF-8), e.g. samples/text/pride-and-prejudice-ch1-3.txt.", valueName: "file"))
    var text: String

    @Option(help: ArgumentHelp("Tokens per window.", valueName: "tokens"))
    var context = 4096

    @Option(help: ArgumentHelp("How many of the worst tokens to list per model.", valueName: "count"))
    var worst = 10

    @Option(help: "Report format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ReportFormat = .table

    func validate() throws {
        if models.isEmpty { throw ValidationError("give at least one model to compare with \(reference)") }
        if !(16...65536).contains(context) { throw ValidationError("--context must be 16…65536 tokens") }
        if !(0...1000).contains(worst) { throw ValidationError("--worst must be 0…1000") }
        try requireReadable([reference, text] + models)
    }

    func run() throws {
        let results = try OutputDivergence.measure(
            reference: reference, models: models, textPath: text, context: context, worstCount: worst)
        let sizes = models.map { (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0 }
        let summary = OutputDivergence.table(results, sizes: sizes)
        switch format {
        case .json:
            let worstTokens = results.map { JSONValue.object([("model", .string($0.path)), ("worst", $0.worstTable().json())]) }
            print(JSONValue.object([("models", summary.json()), ("worst_tokens", .array(worstTokens))]).serialized(indent: 1))
        case .csv:
            print(summary.csv(), terminator: "")
        case .markdown, .table:
            print(format == .table ? summary.text() : summary.markdown(), terminator: "")
            guard worst > 0 else { return }
            for result in results {
                print("\nworst \(result.worst.count) tokens of \(result.path) by KL divergence (context: the 12 tokens before)")
                print(format == .table ? result.worstTable().text() : result.worstTable().markdown(), terminator: "")
            }
        }
    }
}

struct Imatrix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imatrix",
        abstract: "Compute an importance matrix (E[x²] of every weight matrix's inputs) by running a model on a text through llama.cpp.",
        discussion: """
            What llama.cpp's llama-imatrix computes: the text is cut into chunks of --chunk tokens, \
            each run in a fresh context, and every matrix multiplication by a model weight adds the \
            squares of its input columns. Unlike llama-imatrix's default, the output projection is \
            kept too. The file is llama-imatrix's GGUF format, which `lossy quantize --imatrix` and \
            llama-quantize read. Needs Python 3 with llama-cpp-python and numpy.
            """
    )

    @Argument(help: ArgumentHelp("The model (GGUF).", valueName: "model.gguf"))
    var model: String

    @Option(help: ArgumentHelp("The text to run (UTF-8).", valueName: "file"))
    var text: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the imatrix (GGUF).", valueName: "imatrix.gguf"))
    var output: String

    @Option(help: ArgumentHelp("Tokens per chunk.", valueName: "tokens"))
    var chunk = 512

    func validate() throws {
        if !(16...65536).contains(chunk) { throw ValidationError("--chunk must be 16…65536 tokens") }
        try requireReadable([model, text])
        try requireDistinctPaths(input: model, output: output)
    }

    func run() throws {
        let statistics = try ActivationStatistics.collect(model: model, textPath: text, chunkSize: chunk)
        try AtomicFile.replace(output) { try statistics.write(to: $0) }
        var table = ReportTable(columns: [
            .init("tensor", key: "tensor"), .init("columns", key: "columns", decimals: 0),
            .init("tokens", key: "tokens", decimals: 0), .init("mean E[x²]", key: "mean_square", decimals: 5),
            .init("max E[x²]", key: "max_square", decimals: 3), .init("max/mean", key: "peak_ratio", decimals: 1),
        ])
        for entry in statistics.entries {
            let squares = entry.sumOfSquares.map { Double($0) / entry.count }
            let mean = squares.reduce(0, +) / Double(squares.count), peak = squares.max() ?? 0
            table.append([.text(entry.name), .integer(squares.count), .integer(Int(entry.count)), .number(mean),
                          .number(peak), .number(mean > 0 ? peak / mean : 0)])
        }
        print(table.text(), terminator: "")
        print("\n\(statistics.entries.count) matrices, \(statistics.chunkCount) chunks of \(statistics.chunkSize) tokens from \(statistics.dataset); wrote \(output)")
    }
}

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure through llama.cpp what each tensor role's error costs the outputs, for quantize --calibration.",
        discussion: """
            One probe model per tensor role (attn_q.weight, ffn_down.weight, … over every block, and each \
            tensor outside the blocks such as token_embd.weight): that role's matrices in the --probe \
            format, everything else as in the model; llama.cpp runs them all on the text against the \
            model, and each role's mean next-token KL divergence is kept. quantize --target-size … \
            --calibration FILE then weighs each tensor's error by its role's KL per unit error in the \
            probe format, and so minimises the predicted KL rather than the summed error. Matrices whose \
            rows the probe's blocks do not fit take llama.cpp's fallback. Needs Python 3 with \
            llama-cpp-python and numpy, and room in the temporary folder for one model per role. Give \
            it the --imatrix quantize will have: an importance matrix helps some roles more than others.
            """
    )

    @Argument(help: ArgumentHelp("The model (GGUF), as it will be given to quantize.", valueName: "model.gguf"))
    var model: String

    @Option(help: ArgumentHelp("The text to run (UTF-8).", valueName: "file"))
    var text: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the calibration (JSON).", valueName: "roles.json"))
    var output: String

    @Option(help: ArgumentHelp("Importance matrix to quantize the probes with: the one quantize will be given.",
                               valueName: "file"))
    var imatrix: String?

    @Option(help: ArgumentHelp("The format each role is probed in.", valueName: "type"))
    var probe = "IQ4_NL"

    @Option(help: ArgumentHelp("Tokens per window.", valueName: "tokens"))
    var context = 4096

    @Option(help: "Report format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ReportFormat = .table

    func validate() throws {
        if !(16...65536).contains(context) { throw ValidationError("--context must be 16…65536 tokens") }
        guard let type = GGMLType(name: probe), type.isQuantized, GGMLType.writable.contains(type) else {
            throw ValidationError("--probe '\(probe)' is not a quantized block format lossy writes")
        }
        try requireReadable([model, text] + (imatrix.map { [$0] } ?? []))
        try requireDistinctPaths(input: model, output: output)
    }

    func run() throws {
        let importance = try imatrix.map { try ImportanceMatrix.load(path: $0) }
        let source = try ModelSource.open(model)
        guard source is GGUFSource else { throw ValidationError("calibrate takes a GGUF model; convert with quantize --type F16") }
        let progress = ProgressLine()
        let calibration = try RoleCalibration.measure(
            reference: model, source: source, probe: GGMLType(name: probe)!, importance: importance, textPath: text,
            context: context,
            progress: progress.show)
        progress.clear()
        try AtomicFile.write(try calibration.serialized(), to: output)
        var table = ReportTable(columns: [
            .init("role", key: "role"), .init("tensors", key: "tensors", decimals: 0),
            .init("params", key: "params", decimals: 0), .init("KL mean", key: "kl_mean", decimals: 5),
            .init("KL p99.9", key: "kl_p999", decimals: 4), .init("top-1", unit: "%", key: "top1_percent", decimals: 2),
        ])
        for role in calibration.roles {
            table.append([.text(role.name), .integer(role.tensors), .integer(role.weights), .number(role.klMean),
                          .number(role.klP999), .number(role.topPercent)])
        }
        print(table.rendered(as: format), terminator: "")
        if format == .table {
            print("\n\(calibration.roles.count) roles probed in \(calibration.probe.name) on \(calibration.tokens) tokens; wrote \(output)")
        }
    }
}
