import Testing
import WeightCodec

struct TensorDataTypeTests {
    /// Bit patterns from IEEE 754 binary16 and bfloat16 with their exact values.
    @Test(arguments: [
        (TensorDataType.f16, [UInt8]([0x00, 0x3C]), Float(1)),
        (.f16, [0x00, 0xC0], -2),
        (.f16, [0xFF, 0x7B], 65504),
        (.f16, [0x01, 0x00], 0x1p-24),
        (.bf16, [0x80, 0x3F], 1),
        (.bf16, [0x49, 0x40], 3.140625),
        (.f32, [0x00, 0x00, 0xC0, 0x3F], 1.5),
        (.i8, [0xFF], -1),
        (.u8, [0xFF], 255),
    ])
    func elementsWidenExactly(type: TensorDataType, bytes: [UInt8], value: Float) {
        #expect(type.value(littleEndian: bytes) == value)
        #expect(bytes.count == type.byteWidth)
    }

    @Test func infinitiesAndNaNSurvive() {
        #expect(TensorDataType.f16.value(littleEndian: [0x00, 0x7C]) == .infinity)
        #expect(TensorDataType.bf16.value(littleEndian: [0xC1, 0x7F]).isNaN)
    }
}
