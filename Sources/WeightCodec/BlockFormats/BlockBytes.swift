import RateDistortion

/// Little-endian reads and writes of the fields inside a block. Blocks are
/// packed without alignment, so every access is unaligned-safe.
extension UnsafeRawBufferPointer {
    @inlinable func f16(at offset: Int) -> Float {
        widenedBinary16(UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
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

/// The value a float has once stored as binary16 (ggml's GGML_FP32_TO_FP16).
@inlinable func roundedToF16(_ value: Float) -> Float {
    abs(value) <= 65504 ? GridFit.roundedToBinary16(value) : Float(Float16(value))
}

/// `Float(Float16(bitPattern: bits))` by moving the fields, without the
/// library call baseline x86-64 needs (no F16C): exact for every pattern,
/// NaN payloads included.
@inlinable func widenedBinary16(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16, exponent = UInt32(bits >> 10 & 0x1F), fraction = UInt32(bits & 0x3FF)
    switch exponent {
    case 0: return Float(bitPattern: sign | (Float(fraction) * 0x1p-24).bitPattern)  // zero, subnormal
    case 0x1F: return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13)  // ±∞, NaN
    default: return Float(bitPattern: sign | (exponent + 112) << 23 | fraction << 13)
    }
}

extension UnsafeRawBufferPointer {
    @inlinable func u16(at offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable func u32(at offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// Index `j` (0..<32) of a run of 32 four-bit indices packed as ggml
    /// packs them from `offset`: byte j holds index j in its low nibble and
    /// index j + 16 in its high nibble.
    @inlinable func nibble(_ j: Int, at offset: Int) -> Int32 {
        j < 16 ? Int32(self[offset + j] & 0x0F) : Int32(self[offset + j - 16] >> 4)
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable func storeU16(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inlinable func storeU32(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// Packs 32 indices q[first..<first+32] (each plus `bias`, low four bits
    /// kept) as ggml does from `offset`: byte j gets index j in its low
    /// nibble and index j + 16 in its high nibble.
    @inlinable func storeNibbles(_ q: UnsafeMutableBufferPointer<Int32>, from first: Int = 0, bias: Int32, at offset: Int) {
        for j in 0..<16 {
            let low = UInt8(truncatingIfNeeded: q[first + j] + bias) & 0x0F
            let high = UInt8(truncatingIfNeeded: q[first + j + 16] + bias) & 0x0F
            self[offset + j] = low | high << 4
        }
    }

    /// The fifth bits of 32 indices q[0..<32] + `bias` as one little-endian
    /// word (bit i from index i), as Q5_0 and Q5_1 store them.
    @inlinable func storeFifthBits(_ q: UnsafeMutableBufferPointer<Int32>, bias: Int32, at offset: Int) {
        var bits: UInt32 = 0
        for i in 0..<32 { bits |= UInt32(truncatingIfNeeded: (q[i] + bias) >> 4 & 1) << UInt32(i) }
        storeU32(bits, at: offset)
    }
}

// MARK: - numpy's casts, as the gguf-py reference quantizers apply them

extension UInt8 {
    /// numpy's binary32 → uint8 `astype` on x86-64: truncation toward zero
    /// through a 32-bit integer, keeping the low byte (NaN, ±∞ and values
    /// beyond the 32-bit range give 0).
    @inlinable init(numpyCast v: Float) {
        self = v.isFinite && abs(v) < 0x1p31 ? UInt8(truncatingIfNeeded: Int32(v)) : 0
    }
}

extension Int8 {
    /// numpy's binary32 → int8 `astype` on x86-64 (see `UInt8(numpyCast:)`).
    @inlinable init(numpyCast v: Float) {
        self = Int8(bitPattern: UInt8(numpyCast: v))
    }
}
