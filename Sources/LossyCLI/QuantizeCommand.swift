import ArgumentParser
import Foundation
import RateDistortion
import WeightCodec

extension PruneMethod: ExpressibleByArgument {}
extension PruneScope: ExpressibleByArgument {}

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a GGUF or safetensors model to llama.cpp's block formats, as llama-quantize does, and report what was lost.",
        discussion: """
            --type takes llama-quantize's recipe names (\(LlamaFileType.allCases.filter { $0.defaultType.isQuantized }.map(\.name).joined(separator: ", ")); \
            F32, F16, BF16 convert every matrix); with --pure every matrix takes the recipe's base format, \
            and --tensor-type sets any tensor's format. Norms and other \
            1-D tensors keep their type, as llama.cpp keeps them. Rows that are not a whole number of a \
            format's blocks take llama.cpp's fallback format. A safetensors checkpoint (a file, a \
            sharded checkpoint's model.safetensors.index.json, or their folder) whose config.json \
            describes a LLaMA-family model and which has a tokenizer.json becomes a GGUF that llama.cpp \
            loads; other safetensors keep their tensor names.

            --target-bpw or --target-size replace the recipe: every matrix is quantized in every \
            format of --formats whose blocks fit its rows (on an even sample of at most 2^19 \
            weights), its importance-weighted squared error measured, and the core's Lagrangian \
            allocator picks one format per tensor so the file fits with the least total error. With \
            an imatrix the error is Σ E[x_j²]·Δw_ij², the energy it adds to the layer's output; \
            without, plain squared error. That energy reaches the outputs through different paths: \
            --calibration FILE (from lossy calibrate) weighs each tensor's error by its role's measured \
            KL per unit error, so the allocator minimises the predicted KL. A table shows each \
            tensor's choice and its share of the distortion.

            --prune FRACTION zeroes that share of the weights of every linear layer inside the blocks \
            (blk.* matrices; token embeddings, the output head and norms stay whole) before they are \
            quantized, with any --type (F16 for pruning alone) or a target (each format's error then \
            measured on the pruned weights). --prune-method magnitude (the default) \
            drops the smallest |w| of each tensor; wanda (Sun et al. 2023) drops in each output row the \
            lowest |w|·√E[x²] of the input column, from --imatrix (a tensor without an entry falls back \
            to magnitude); 2:4 keeps the 2 highest-scoring of every 4 consecutive weights along the input \
            (Wanda's score with --imatrix, else |w|), 50 % by construction, so --prune may be omitted or \
            0.5; rows that are not a multiple of 4 stay whole. --prune-scope global ranks all pruned \
            tensors' scores together (absolute E[x²] for Wanda), so tensors lose different shares and the \
            model the requested one; the threshold is exact, found in two extra reading passes. Exactly \
            round(FRACTION·n) weights go per tensor (per row for Wanda, per model for global); equal scores \
            go in file order. The report gives per tensor the share of weights and of energy (Σw², and \
            Σ E[x²]·w² with an imatrix) lost, and how many zeros the format kept exactly 0 (formats with an \
            offset, Q4_1, Q5_1, Q2_K, Q4_K and Q5_K, keep few; IQ4_NL and IQ4_XS have no 0 level); the \
            SQNR columns then measure the quantization of the pruned weights.
            """
    )

    @Argument(help: "The model: GGUF v2/v3, a .safetensors file, a model.safetensors.index.json, or a folder with either.")
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the GGUF.", valueName: "out.gguf"))
    var output: String?

    @Option(help: ArgumentHelp("Recipe or block format: Q4_K_M, Q8_0, Q6_K, … (optional with a target).", valueName: "type"))
    var type: String?

    // .unconditional: a negative value is read as the value (and refused by
    // validate) rather than as an unknown flag.
    @Option(name: .customLong("target-bpw"), parsing: .unconditional, help: ArgumentHelp(
        "Choose each tensor's format so the tensors average this many bits per weight, at the least weighted error.",
        valueName: "bits"))
    var targetBitsPerWeight: Double?

    @Option(name: .customLong("target-size"), help: ArgumentHelp(
        "Choose each tensor's format so the whole file fits this size: bytes, or with a unit (KB, MB, GB, KiB, MiB, GiB).",
        valueName: "size"))
    var targetSize: String?

    @Option(help: ArgumentHelp("Formats the allocator may choose from (comma-separated).", valueName: "list"))
    var formats: String = FormatAllocator.defaultCandidates.map(\.name).joined(separator: ",")

    @Option(help: ArgumentHelp(
        "With a target: weigh each tensor's error by its role's KL per unit error, from lossy calibrate.", valueName: "roles.json"))
    var calibration: String?

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

    @Option(parsing: .unconditional, help: ArgumentHelp("Zero this share of each blk.* matrix's weights before quantizing, in [0, 1).", valueName: "fraction"))
    var prune: Double?

    @Option(name: .customLong("prune-method"),
            help: "How weights are ranked for --prune: \(PruneMethod.allCases.map(\.rawValue).joined(separator: ", ")) (default magnitude).")
    var pruneMethod: PruneMethod?

    @Option(name: .customLong("prune-scope"),
            help: "tensor: each tensor loses the fraction; global: one threshold over all pruned tensors (default tensor).")
    var pruneScope: PruneScope?

    @Flag(name: .customLong("dry-run"), help: "Print each tensor's format, size and bits per weight; write nothing.")
    var dryRun = false

    @Option(help: "Report format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ReportFormat = .table

    func validate() throws {
        if output == nil && !dryRun { throw ValidationError("give -o OUT.gguf, or --dry-run") }
        if targetBitsPerWeight != nil && targetSize != nil { throw ValidationError("give --target-bpw or --target-size, not both") }
        if let rate = targetBitsPerWeight, !(rate > 0 && rate <= 32) {
            throw ValidationError("--target-bpw must be above 0 and at most 32 bits per weight")
        }
        if let targetSize, Self.bytes(targetSize) == nil {
            throw ValidationError("--target-size '\(targetSize)' is not a size such as 93.5MB, 89MiB or 93500000")
        }
        let targeted = targetBitsPerWeight != nil || targetSize != nil
        if targeted && (reference || pure) { throw ValidationError("--target-bpw and --target-size choose the formats: drop --reference and --pure") }
        if !targeted && type == nil { throw ValidationError("give --type, --target-bpw or --target-size") }
        if !targeted && calibration != nil { throw ValidationError("--calibration weighs the allocator's choices: give --target-bpw or --target-size") }
        if let calibration { try requireReadable([calibration]) }
        if targeted { _ = try Self.candidates(formats) }
        if reference && imatrix != nil {
            throw ValidationError("--reference ignores importance: drop --imatrix or --reference")
        }
        if let output { try requireDistinctPaths(input: input, output: output) }
        _ = try pruning()
        guard type == nil || fileType != nil else {
            throw ValidationError("unknown --type '\(type!)'; known: \(LlamaFileType.allCases.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        let overrides = try tensorTypes.map { try QuantizationRecipe.Override(parsing: $0) }
        let importance = try imatrix.map { try ImportanceMatrix.load(path: $0) }
        let roles = try calibration.map { try RoleCalibration.load(path: $0) }
        let source = try ModelSource.open(input)
        try importance?.check(against: source.tensors)
        let progress = ProgressLine()
        func showScoring(_ pass: Int, _ index: Int, _ name: String) {
            progress.show("scoring, pass \(pass) of 2: [\(index + 1)/\(source.tensors.count)] \(name)")
        }
        let started = Date()
        let quantizer: ModelQuantizer
        var allocation: FormatAllocation?
        var threshold: PruneThreshold?
        if let budget {
            let fitted = try ModelQuantizer.fitting(
                budget, source: source, importance: importance, overrides: overrides,
                candidates: try Self.candidates(formats), pruning: try pruning(), calibration: roles
            ) { step in
                switch step {
                case let .scoring(pass, index, name): showScoring(pass, index, name)
                case let .measuring(index, name):
                    progress.show("measuring [\(index + 1)/\(source.tensors.count)] \(name)")
                }
            }
            progress.clear()
            quantizer = fitted.quantizer
            allocation = fitted.allocation
            threshold = fitted.pruneThreshold
        } else {
            let recipe = QuantizationRecipe(fileType: fileType!, overrides: overrides, pure: pure,
                                            hasImportanceMatrix: importance != nil)
            quantizer = try ModelQuantizer(source: source, recipe: recipe, importance: importance, reference: reference,
                                           pruning: try pruning())
        }
        if let importance {
            let covered = quantizer.plan.filter(\.hasImportance).count
            let wanted = quantizer.plan.filter { !$0.copied }.count
            printErr("importance matrix: \(importance.entries.count) entries; \(covered) of \(wanted) quantized tensors covered")
        }
        if dryRun {
            report(allocation, QuantizationReport.table(quantizer.plan))
            if format == .table { print("\n" + QuantizationReport.summary(quantizer.plan).joined(separator: "\n")) }
            return
        }
        if budget == nil {
            threshold = try quantizer.globalPruneThreshold { pass, index, tensor in showScoring(pass, index, tensor.name) }
        }
        var outcomes = [ModelQuantizer.Outcome]()
        try AtomicFile.replace(output!) { temporary in
            outcomes = try quantizer.write(to: temporary, pruneThreshold: threshold) { index, tensor in
                progress.show("[\(index + 1)/\(quantizer.plan.count)] \(tensor.name) → \(tensor.targetType.name)")
            }
        }
        progress.clear()
        report(allocation, QuantizationReport.table(quantizer.plan, outcomes: outcomes))
        if format == .table {
            print("\n" + QuantizationReport.summary(quantizer.plan, outcomes: outcomes).joined(separator: "\n"))
            print("time         \(formatFixed(Date().timeIntervalSince(started), decimals: 2)) s; wrote \(output!)")
        }
    }

    /// --prune, --prune-method and --prune-scope as one request, or nil.
    private func pruning() throws -> Pruning? {
        guard prune != nil || pruneMethod != nil else {
            if pruneScope != nil { throw ValidationError("--prune-scope needs --prune FRACTION or --prune-method") }
            return nil
        }
        if reference {
            throw ValidationError("--reference writes llama.cpp's bytes for the input's weights: drop --prune or --reference")
        }
        do {
            let pruning = try Pruning(method: pruneMethod ?? .magnitude, fraction: prune, scope: pruneScope ?? .tensor)
            if pruning.method == .wanda && imatrix == nil { throw PruningError.wandaNeedsImportance }
            return pruning
        } catch let error as PruningError {
            throw ValidationError(error.description)
        }
    }

    /// --type as a recipe name, or a block format that names one.
    private var fileType: LlamaFileType? {
        type.flatMap { LlamaFileType(name: $0) ?? GGMLType(name: $0).flatMap(LlamaFileType.init(uniform:)) }
    }

    private var budget: ModelBudget? {
        if let targetBitsPerWeight { return .bitsPerWeight(targetBitsPerWeight) }
        return targetSize.flatMap(Self.bytes).map(ModelBudget.fileBytes)
    }

    /// --formats as block formats, refusing a name that is not one lossy writes.
    static func candidates(_ formats: String) throws -> [GGMLType] {
        try formats.split(separator: ",", omittingEmptySubsequences: false).map { name in
            guard let type = GGMLType(name: String(name).trimmingCharacters(in: .whitespaces)),
                  GGMLType.writable.contains(type) else {
                throw ValidationError("--formats: '\(name)' is not a block format lossy writes")
            }
            return type
        }
    }

    /// "93.5MB", "89MiB", "1.2 GB" or a plain byte count.
    static func bytes(_ text: String) -> Int? {
        let units: [(String, Double)] = [("KIB", 1024), ("MIB", 1_048_576), ("GIB", 1_073_741_824),
                                         ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("B", 1)]
        let upper = text.uppercased().trimmingCharacters(in: .whitespaces)
        let unit = units.first { upper.hasSuffix($0.0) }
        let number = unit.map { String(upper.dropLast($0.0.count)).trimmingCharacters(in: .whitespaces) } ?? upper
        guard let value = Double(number), value.isFinite, value > 0, value * (unit?.1 ?? 1) < 1e15 else { return nil }
        return Int((value * (unit?.1 ?? 1)).rounded(.down))
    }

    /// The allocator's choices (when it chose) and then the tensor table; in
    /// JSON one object holding both.
    private func report(_ allocation: FormatAllocation?, _ tensors: ReportTable) {
        guard let allocation else { return print(tensors.rendered(as: format), terminator: "") }
        let choices = QuantizationReport.allocationTable(allocation)
        if format == .json {
            return print(JSONValue.object([("allocation", choices.json()), ("tensors", tensors.json())]).serialized(indent: 1))
        }
        print(choices.rendered(as: format), terminator: "")
        if format == .table { print("\n" + QuantizationReport.allocationSummary(allocation).joined(separator: "\n")) }
        print()
        print(tensors.rendered(as: format), terminator: "")
    }
}
