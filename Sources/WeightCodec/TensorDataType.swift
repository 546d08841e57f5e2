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
        var value: Float = 0
        Array(bytes).withUnsafeBytes { raw in
            withUnsafeMutablePointer(to: &value) { widen(raw, into: UnsafeMutableBufferPointer(start: $0, count: 1)) }
        }
        return value
    }

    /// Widens a run of little-endian elements to floats, exactly.
    public func widen(_ bytes: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>) {
        precondition(bytes.count == values.count * byteWidth, "one \(rawValue) element per value")
        switch self {
        case .f32: for i in values.indices { values[i] = bytes.f32(at: 4 * i) }
        case .f16: for i in values.indices { values[i] = bytes.f16(at: 2 * i) }
        case .bf16:
            for i in values.indices {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                values[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .i8: for i in values.indices { values[i] = Float(bytes.i8(at: i)) }
        case .u8: for i in values.indices { values[i] = Float(bytes.u8(at: i)) }
        }
    }
}
