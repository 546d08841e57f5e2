/// Reads bit fields most significant bit first: the inverse of `BitWriter`.
struct BitReader {
    private let bytes: [UInt8]
    /// Bits consumed so far.
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count * 8 - position }

    /// Moves to an absolute bit position (at most the end).
    mutating func seek(to bit: Int) {
        precondition(bit >= 0 && bit <= bytes.count * 8, "seek past the end")
        position = bit
    }

    /// The next `width` bits, or `nil` past the end.
    mutating func read(bits width: Int) -> UInt32? {
        precondition((0...32).contains(width), "a field is 0...32 bits")
        guard width <= remaining else { return nil }
        var value: UInt32 = 0
        for _ in 0..<width {
            let bit = (bytes[position >> 3] >> UInt8(7 - position & 7)) & 1
            value = value << 1 | UInt32(bit)
            position += 1
        }
        return value
    }
}

/// Decodes the Layer III Huffman codes with a canonical lookup: codewords
/// grouped by length, each group a dictionary. Used by the decoder and to
/// check the tables round-trip.
struct HuffmanTableDecoder {
    /// codeword → symbol, per codeword length (index = length).
    private let byLength: [[UInt32: Int]]

    /// A decoder for a code given as codewords and lengths by symbol.
    init(codes: [UInt32], lengths: [UInt8]) {
        var groups = [[UInt32: Int]](repeating: [:], count: Int(lengths.max() ?? 0) + 1)
        for (symbol, (code, length)) in zip(codes, lengths).enumerated() {
            groups[Int(length)][code] = symbol
        }
        byLength = groups
    }

    /// The next symbol, or `nil` if the bits run out or match no codeword.
    func decode(_ reader: inout BitReader) -> Int? {
        var code: UInt32 = 0
        for length in 1..<byLength.count {
            guard let bit = reader.read(bits: 1) else { return nil }
            code = code << 1 | bit
            if let symbol = byLength[length][code] { return symbol }
        }
        return nil
    }
}
