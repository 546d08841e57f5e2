/// The element types the safetensors format defines (huggingface/safetensors
/// `Dtype`), by the name its JSON header uses. Every one can be read and
/// sized; only those with a `TensorDataType` can be converted to weights.
/// (The sub-byte F4/F6 types of newer versions are refused as unknown.)
public enum SafetensorsDType: String, Sendable, Hashable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8"
    case f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
    case u16 = "U16", i16 = "I16", f16 = "F16", bf16 = "BF16"
    case u32 = "U32", i32 = "I32", f32 = "F32"
    case u64 = "U64", i64 = "I64", f64 = "F64"

    public var byteWidth: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: 1
        case .u16, .i16, .f16, .bf16: 2
        case .u32, .i32, .f32: 4
        case .u64, .i64, .f64: 8
        }
    }

    /// The weight element type, for the five the front end converts.
    public var dataType: TensorDataType? { TensorDataType(rawValue: rawValue) }
}
