/// A cursor over untrusted little-endian bytes. Every read checks the bounds
/// first and throws `truncated` naming the field; nothing is allocated from
/// a length before the bytes for it are known to be there.
///
/// Field names are autoclosures so that a 50 000-token vocabulary does not
/// format 50 000 names that are only needed in an error.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String) throws(WeightFileError) -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { throw .truncated(field: field(), offset: offset, size: size, fileSize: bytes.count) }
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    /// Bytes of `count` that must all be there.
    mutating func readBytes(_ count: Int, _ field: @autoclosure () -> String) throws(WeightFileError) -> UnsafeRawBufferPointer {
        guard count <= remaining else { throw .truncated(field: field(), offset: offset, size: count, fileSize: bytes.count) }
        defer { offset += count }
        return count == 0 ? UnsafeRawBufferPointer(start: nil, count: 0)
            : UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    /// A GGUF string: uint64 length, then that many bytes of UTF-8.
    mutating func readString(_ field: @autoclosure () -> String) throws(WeightFileError) -> String {
        let start = offset
        let length = try read(UInt64.self, "the length of " + field())
        guard length <= UInt64(remaining) else {
            throw .stringTooLong(field: field(), length: length, offset: start, fileSize: bytes.count)
        }
        let utf8 = try readBytes(Int(length), field())
        guard let string = String(validating: utf8, as: UTF8.self) else {
            throw .invalidUTF8(field: field(), offset: start + 8)
        }
        return string
    }

    /// Checks that `count` items of at least `minimumBytes` each could fit
    /// in what is left, and returns the count as an Int.
    func checkedCount(_ count: UInt64, minimumBytes: Int, _ field: @autoclosure () -> String) throws(WeightFileError) -> Int {
        guard minimumBytes > 0 ? count <= UInt64(remaining / minimumBytes) : count <= UInt64(Int.max) else {
            throw .countTooLarge(field: field(), count: count, remainingBytes: remaining, minimumBytesEach: minimumBytes)
        }
        return Int(count)
    }
}
