import ArgumentParser
import Foundation
import RateDistortion
import WeightCodec

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a GGUF or safetensors model to llama.cpp's block formats, as llama-quantize does, and report what was lost.",
        discussion: """
            --type takes llama-quantize's recipe names (\(LlamaFileType.allCases.filter { $0.defaultType.isQuantized }.map(\.name).joined(separator: ", ")); \
            F32, F16, BF16 convert every matrix) or a block format for every matrix. Norms and other \
            1-D tensors keep their type, as llama.cpp keeps them. Rows that are not a whole number of a \
            format's blocks take llama.cpp's fallback format. A safetensors checkpoint (a file, a \
            sharded checkpoint's model.safetensors.index.json, or their folder) whose config.json \
            describes a LLaMA-family model and which has a tokenizer.json becomes a GGUF that llama.cpp \
            loads; other safetensors keep their tensor names.
            """
    )

    @Argument(help: "The model: GGUF v2/v3, a .safetensors file, a model.safetensors.index.json, or a folder with either.")
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the GGUF.", valueName: "out.gguf"))
    var output: String?

    @Option(help: ArgumentHelp("Recipe or block format: Q4_K_M, Q8_0, Q6_K, …", valueName: "type"))
    var type: String

    @Option(help: ArgumentHelp("Importance matrix (llama.cpp's GGUF imatrix or legacy .dat): errors weighted by E[x²] per input column.",
                               valueName: "file"))
    var imatrix: String?

    @Option(name: .customLong("tensor-type"), help: ArgumentHelp("Give tensors whose name matches REGEX this format (repeatable).",
                                                                 valueName: "REGEX=TYPE"))
    var tensorTypes: [String] = []

    @Flag(help: "Every quantizable tensor gets the recipe's default format (no per-tensor rules).")
    var pure = false

    @Flag(help: """
        Encode with ggml's reference quantizers where a format has one (F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, TQ2_0): \
        the bytes llama.cpp writes without an imatrix. Other formats, and the default, use lossy's search.
        """)
    var reference = false

    @Flag(name: .customLong("dry-run"), help: "Print each tensor's format, size and bits per weight; write nothing.")
    var dryRun = false

    @Option(help: "Report format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ReportFormat = .table

    func validate() throws {
        if output == nil && !dryRun { throw ValidationError("give -o OUT.gguf, or --dry-run") }
        if reference && imatrix != nil {
            throw ValidationError("--reference ignores importance: drop --imatrix or --reference")
        }
        if let output, URL(fileURLWithPath: output).standardizedFileURL == URL(fileURLWithPath: input).standardizedFileURL {
            throw ValidationError("the output would overwrite the input \(input)")
        }
        guard fileType != nil else {
            throw ValidationError("unknown --type '\(type)'; known: \(LlamaFileType.allCases.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        let fileType = self.fileType!
        let overrides = try tensorTypes.map { try QuantizationRecipe.Override(parsing: $0) }
        let importance = try imatrix.map { try ImportanceMatrix.load(path: $0) }
        let source = try ModelSource.open(input)
        let recipe = QuantizationRecipe(fileType: fileType, overrides: overrides, pure: pure,
                                        hasImportanceMatrix: importance != nil)
        let quantizer = try ModelQuantizer(source: source, recipe: recipe, importance: importance, reference: reference)
        if let importance {
            let covered = quantizer.plan.filter(\.hasImportance).count
            let wanted = quantizer.plan.filter { !$0.copied }.count
            printErr("importance matrix: \(importance.entries.count) entries; \(covered) of \(wanted) quantized tensors covered")
        }
        if dryRun {
            print(render(QuantizationReport.table(quantizer.plan)), terminator: "")
            if format == .table { print("\n" + QuantizationReport.summary(quantizer.plan).joined(separator: "\n")) }
            return
        }
        let progress = ProgressLine()
        let started = Date()
        var outcomes = [ModelQuantizer.Outcome]()
        try AtomicFile.replace(output!) { temporary in
            outcomes = try quantizer.write(to: temporary) { index, tensor in
                progress.show("[\(index + 1)/\(quantizer.plan.count)] \(tensor.name) → \(tensor.targetType.name)")
            }
        }
        progress.clear()
        print(render(QuantizationReport.table(quantizer.plan, outcomes: outcomes)), terminator: "")
        if format == .table {
            print("\n" + QuantizationReport.summary(quantizer.plan, outcomes: outcomes).joined(separator: "\n"))
            print("time         \(formatFixed(Date().timeIntervalSince(started), decimals: 2)) s; wrote \(output!)")
        }
    }

    /// --type as a recipe name, or a block format that names one.
    private var fileType: LlamaFileType? {
        LlamaFileType(name: type) ?? GGMLType(name: type).flatMap(LlamaFileType.init(uniform:))
    }

    private func render(_ table: ReportTable) -> String {
        switch format {
        case .table: return table.text()
        case .markdown: return table.markdown()
        case .csv: return table.csv()
        case .json: return table.json().serialized(indent: 1) + "\n"
        }
    }
}
