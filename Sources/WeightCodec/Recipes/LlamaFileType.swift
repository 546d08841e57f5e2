/// llama.cpp's file types (`enum llama_ftype` in `llama.h`, written as
/// `general.file_type`): a name users know ("Q4_K_M") for a recipe that
/// gives each tensor a block format. Only the recipes whose formats this
/// package writes are listed; ids are llama.h's.
public enum LlamaFileType: UInt32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case allF32 = 0, mostlyF16 = 1, q4_0 = 2, q4_1 = 3, q8_0 = 7, q5_0 = 8, q5_1 = 9
    case q2_K = 10, q3_K_S = 11, q3_K_M = 12, q3_K_L = 13, q4_K_S = 14, q4_K_M = 15
    case q5_K_S = 16, q5_K_M = 17, q6_K = 18, q2_K_S = 21, iq4_nl = 25, iq4_xs = 30
    case mostlyBF16 = 32, tq2_0 = 37

    /// The name llama-quantize takes ("Q4_K_M", "F16").
    public var name: String {
        switch self {
        case .allF32: return "F32"
        case .mostlyF16: return "F16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q8_0: return "Q8_0"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q2_K: return "Q2_K"
        case .q3_K_S: return "Q3_K_S"
        case .q3_K_M: return "Q3_K_M"
        case .q3_K_L: return "Q3_K_L"
        case .q4_K_S: return "Q4_K_S"
        case .q4_K_M: return "Q4_K_M"
        case .q5_K_S: return "Q5_K_S"
        case .q5_K_M: return "Q5_K_M"
        case .q6_K: return "Q6_K"
        case .q2_K_S: return "Q2_K_S"
        case .iq4_nl: return "IQ4_NL"
        case .iq4_xs: return "IQ4_XS"
        case .mostlyBF16: return "BF16"
        case .tq2_0: return "TQ2_0"
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let match = LlamaFileType.allCases.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            return nil
        }
        self = match
    }

    /// The format most tensors get (llama.cpp's `llama_ftype_get_default_type`).
    public var defaultType: GGMLType {
        switch self {
        case .allF32: return .f32
        case .mostlyF16: return .f16
        case .mostlyBF16: return .bf16
        case .q4_0: return .q4_0
        case .q4_1: return .q4_1
        case .q5_0: return .q5_0
        case .q5_1: return .q5_1
        case .q8_0: return .q8_0
        case .q2_K, .q2_K_S: return .q2_K
        case .q3_K_S, .q3_K_M, .q3_K_L: return .q3_K
        case .q4_K_S, .q4_K_M: return .q4_K
        case .q5_K_S, .q5_K_M: return .q5_K
        case .q6_K: return .q6_K
        case .iq4_nl: return .iq4_nl
        case .iq4_xs: return .iq4_xs
        case .tq2_0: return .tq2_0
        }
    }

    /// The first file type whose recipe's default format is `type` (Q4_K:
    /// Q4_K_S), to name a file by; llama.cpp only displays it.
    public init?(defaultType type: GGMLType) {
        guard let match = Self.allCases.first(where: { $0.defaultType == type }) else { return nil }
        self = match
    }

    /// The file type that names a file whose tensors are all `type`, for
    /// `--type Q8_0` given as a block format.
    public init?(uniform type: GGMLType) {
        let candidates: [LlamaFileType] = [
            .allF32, .mostlyF16, .mostlyBF16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q6_K, .iq4_nl, .iq4_xs, .tq2_0,
        ]
        guard let match = candidates.first(where: { $0.defaultType == type }) else { return nil }
        self = match
    }
}
