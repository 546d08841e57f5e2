/// Element types of unquantized tensors as safetensors and GGUF store them.
///
/// The 16-bit formats are widened to Float exactly: F16 (IEEE 754 binary16:
/// 1 sign, 5 exponent, 10 fraction bits) and BF16 (the top half of a
/// binary32: 1 sign, 8 exponent, 7 fraction bits).
public enum TensorDataType: String, Sendable, Hashable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i8 = "I8"
    case u8 = "U8"

    public var byteWidth: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .i8, .u8: return 1
        }
    }

    /// The value of one element from its little-endian bytes.
    public func value(littleEndian bytes: some Collection<UInt8>) -> Float {
        precondition(bytes.count == byteWidth, "\(rawValue) elements are \(byteWidth) bytes")
        var bits: UInt32 = 0
        for (shift, byte) in bytes.enumerated() { bits |= UInt32(byte) << (8 * UInt32(shift)) }
        switch self {
        case .f32: return Float(bitPattern: bits)
        case .f16: return Float(Float16(bitPattern: UInt16(bits)))
        case .bf16: return Float(bitPattern: bits << 16)
        case .i8: return Float(Int8(bitPattern: UInt8(bits)))
        case .u8: return Float(bits)
        }
    }
}
