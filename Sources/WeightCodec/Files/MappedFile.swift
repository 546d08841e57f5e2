#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. Pages are read from disk when
/// first touched, so mapping a 10 GB checkpoint costs nothing until its
/// tensors are used, and memory stays bounded by what is being read.
///
/// `bytes` stays valid while the `MappedFile` lives; the mapping is removed
/// on deinit. The file must not shrink while mapped (reading past its new
/// end would raise SIGBUS), as with every mmap reader.
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only and never changes after init.
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    public var count: Int { bytes.count }

    public init(path: String) throws(WeightFileError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, reason: systemError()) }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .cannotOpen(path: path, reason: systemError()) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path) }
        let size = Int(status.st_size)
        guard size > 0 else {
            // mmap refuses a length of 0; an empty file is an empty buffer.
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .cannotMap(path: path, size: size, reason: systemError())
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    /// Lets the kernel drop the pages that hold `range` from this process
    /// (they stay in the page cache and are read again if touched): after a
    /// tensor is done, resident memory need not hold it.
    public func release(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Whole pages inside the range only: a neighbour's page is left alone.
        let start = (range.lowerBound + page - 1) / page * page, end = min(range.upperBound, bytes.count) / page * page
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
    }

    /// The bytes in `range`, a view into the mapping (no copy).
    public func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count,
                     "range \(range) outside the \(bytes.count)-byte file '\(path)'")
        if range.isEmpty { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: bytes[range])
    }
}

/// The message of the current `errno`.
func systemError() -> String { String(cString: strerror(errno)) }
