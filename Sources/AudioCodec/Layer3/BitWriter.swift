/// Appends bit fields most significant bit first, as every MPEG audio
/// syntax element is written.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    /// Bits written so far.
    private(set) var count = 0

    init(reservingBytes: Int = 0) { bytes.reserveCapacity(reservingBytes) }

    /// Writes the low `width` bits of `value`.
    mutating func write(_ value: UInt32, bits width: Int) {
        precondition((0...32).contains(width), "a field is 0...32 bits")
        precondition(width == 32 || value >> UInt32(width) == 0, "\(value) does not fit in \(width) bits")
        var remaining = width
        while remaining > 0 {
            let used = count & 7
            if used == 0 { bytes.append(0) }
            let room = 8 - used
            let take = min(room, remaining)
            let chunk = UInt8(truncatingIfNeeded: (value >> UInt32(remaining - take)) & ((1 << UInt32(take)) - 1))
            bytes[bytes.count - 1] |= chunk << UInt8(room - take)
            remaining -= take
            count += take
        }
    }

    mutating func write(_ value: Int, bits width: Int) {
        precondition(value >= 0, "fields are unsigned")
        write(UInt32(value), bits: width)
    }

    mutating func write(_ flag: Bool) { write(flag ? 1 : 0, bits: 1) }

    /// Appends another writer's bits.
    mutating func append(_ other: BitWriter) {
        var bit = 0
        for byte in other.bytes {
            let width = min(8, other.count - bit)
            write(UInt32(byte >> UInt8(8 - width)), bits: width)
            bit += width
        }
    }
}
