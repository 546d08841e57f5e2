/// The bit packings the K formats share (`ggml-common.h`'s block_q2_K …
/// block_q6_K; unpacked as `ggml-quants.c`'s dequantize_row_q*_K and
/// `get_scale_min_k4` do, and as gguf-py's `quants.py`).
///
/// All offsets are bytes from the start of a block; every function reads or
/// writes the raw block in place.
enum KFormatPacking {
    /// Weights per super-block (ggml's QK_K).
    static let superBlock = 256

    // MARK: - Six-bit scale and min pairs (Q4_K, Q5_K)

    /// Eight 6-bit scale codes s₀…s₇ and eight 6-bit min codes m₀…m₇ in 12
    /// bytes. Pairs 0–3 keep their six bits in the low bits of bytes 0–3
    /// (scales) and 4–7 (mins); pairs 4–7 keep their low nibbles in bytes
    /// 8–11 (scale low, min high) and their top two bits in the spare top
    /// bits of bytes 0–3 (scales) and 4–7 (mins):
    ///
    ///     byte 0…3   s₄₋₇[5:4] s₀₋₃[5:0]
    ///     byte 4…7   m₄₋₇[5:4] m₀₋₃[5:0]
    ///     byte 8…11  m₄₋₇[3:0] s₄₋₇[3:0]
    @inline(__always)
    static func packScaleMinPairs(
        scales: UnsafeMutableBufferPointer<Int32>, mins: UnsafeMutableBufferPointer<Int32>,
        into block: UnsafeMutableRawBufferPointer, at offset: Int
    ) {
        for j in 0..<4 {
            let s = UInt8(scales[j]), m = UInt8(mins[j])
            let sHigh = UInt8(scales[j + 4]), mHigh = UInt8(mins[j + 4])
            block[offset + j] = s | (sHigh >> 4) << 6
            block[offset + j + 4] = m | (mHigh >> 4) << 6
            block[offset + j + 8] = (sHigh & 0xF) | (mHigh & 0xF) << 4
        }
    }

    /// Scale and min code of pair `j` (0…7) from the 12 bytes at `offset`.
    @inline(__always)
    static func scaleMinPair(_ j: Int, in block: UnsafeRawBufferPointer, at offset: Int) -> (scale: UInt8, min: UInt8) {
        if j < 4 {
            return (block[offset + j] & 63, block[offset + j + 4] & 63)
        }
        let low = block[offset + j + 4]
        return ((low & 0xF) | (block[offset + j - 4] >> 6) << 4, (low >> 4) | (block[offset + j] >> 6) << 4)
    }

    // MARK: - Six-bit signed scales (Q3_K)

    /// Sixteen signed scale codes c₀…c₁₅ in −32…31, stored as u = c + 32 in
    /// 12 bytes: the low nibbles of u₀…u₇ in the low halves of bytes 0–7,
    /// of u₈…u₁₅ in their high halves; the top two bits of u_j in byte
    /// 8 + j mod 4 at bit 2·⌊j/4⌋.
    @inline(__always)
    static func packSignedScales(
        _ codes: UnsafeMutableBufferPointer<Int32>, into block: UnsafeMutableRawBufferPointer, at offset: Int
    ) {
        for b in 0..<12 { block[offset + b] = 0 }
        for j in 0..<16 {
            let u = UInt8(codes[j] + 32)
            block[offset + j % 8] |= (u & 0xF) << (j < 8 ? 0 : 4)
            block[offset + 8 + j % 4] |= (u >> 4) << (2 * (j / 4))
        }
    }

    /// Signed scale code j (−32…31) from the 12 bytes at `offset`.
    @inline(__always)
    static func signedScale(_ j: Int, in block: UnsafeRawBufferPointer, at offset: Int) -> Int32 {
        let low = j < 8 ? block[offset + j] & 0xF : block[offset + j - 8] >> 4
        let high = (block[offset + 8 + j % 4] >> (2 * (j / 4))) & 3
        return Int32(low | high << 4) - 32
    }

    // MARK: - Two-bit planes (the qs of Q2_K and Q3_K)

    /// 256 two-bit indices in 64 bytes: weight 128·h + 32·k + l (h < 2,
    /// k < 4, l < 32) sits in byte 32·h + l at bits 2k…2k+1.
    @inline(__always)
    static func packTwoBitPlanes(
        _ levels: UnsafeMutableBufferPointer<Int32>, into block: UnsafeMutableRawBufferPointer, at offset: Int
    ) {
        for h in 0..<2 {
            for l in 0..<32 {
                let e = 128 * h + l
                var byte = UInt8(levels[e] & 3)
                byte |= UInt8(levels[e + 32] & 3) << 2
                byte |= UInt8(levels[e + 64] & 3) << 4
                byte |= UInt8(levels[e + 96] & 3) << 6
                block[offset + 32 * h + l] = byte
            }
        }
    }

    /// The two-bit index of weight `e` (0…255) from the planes at `offset`.
    @inline(__always)
    static func twoBitLevel(_ e: Int, in block: UnsafeRawBufferPointer, at offset: Int) -> UInt8 {
        (block[offset + 32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3
    }

    // MARK: - Nibble planes (the qs of Q4_K and Q5_K)

    /// 256 four-bit indices in 128 bytes: weight 64·c + l (l < 32) in the
    /// low nibble of byte 32·c + l, weight 64·c + 32 + l in its high nibble.
    @inline(__always)
    static func packNibblePlanes(
        _ levels: UnsafeMutableBufferPointer<Int32>, into block: UnsafeMutableRawBufferPointer, at offset: Int
    ) {
        for c in 0..<4 {
            for l in 0..<32 {
                let low = UInt8(levels[64 * c + l] & 0xF), high = UInt8(levels[64 * c + 32 + l] & 0xF)
                block[offset + 32 * c + l] = low | high << 4
            }
        }
    }
}

extension KFormatPacking {
    /// Blocks in a buffer of `weights` values and `bytes` bytes of `type`,
    /// checked (a mismatch is the caller's mistake).
    static func blockCount(weights: Int, bytes: Int, importance: Int?, type: GGMLType) -> Int {
        precondition(weights % superBlock == 0,
                     "row of \(weights) weights is not a multiple of the \(superBlock)-weight block")
        let count = weights / superBlock
        precondition(bytes >= count * type.blockBytes,
                     "\(count) blocks of \(type.blockBytes) bytes need \(count * type.blockBytes), the buffer has \(bytes)")
        if let importance {
            precondition(importance == weights, "\(importance) importances for \(weights) weights")
        }
        return count
    }
}
