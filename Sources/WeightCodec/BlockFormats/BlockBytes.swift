/// Little-endian reads and writes of the fields inside a block. Blocks are
/// packed without alignment, so every access is unaligned-safe.
extension UnsafeRawBufferPointer {
    @inlinable func f16(at offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }

    @inlinable func f32(at offset: Int) -> Float {
        Float(bitPattern: UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }

    @inlinable func u8(at offset: Int) -> UInt8 { self[offset] }

    @inlinable func i8(at offset: Int) -> Int8 { Int8(bitPattern: self[offset]) }
}

extension UnsafeMutableRawBufferPointer {
    /// Stores `value` as binary16, rounded to nearest even (ggml's
    /// GGML_FP32_TO_FP16); returns the stored value widened back.
    @inlinable @discardableResult
    func storeF16(_ value: Float, at offset: Int) -> Float {
        let half = Float16(value)
        storeBytes(of: half.bitPattern.littleEndian, toByteOffset: offset, as: UInt16.self)
        return Float(half)
    }

    @inlinable func storeF32(_ value: Float, at offset: Int) {
        storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset, as: UInt32.self)
    }
}

/// The value a float has once stored as binary16.
@inlinable func roundedToF16(_ value: Float) -> Float { Float(Float16(value)) }
