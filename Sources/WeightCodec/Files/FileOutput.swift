#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written through a 1 MiB buffer with POSIX `write`, retrying short
/// writes and EINTR. Writes larger than the buffer go straight to the file.
final class FileOutput {
    let path: String
    private let descriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    private var isClosed = false
    /// Bytes written so far, buffered ones included.
    private(set) var position = 0

    static let bufferSize = 1 << 20

    init(path: String) throws(WeightFileError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .cannotWrite(path: path, reason: systemError()) }
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 64)
    }

    deinit {
        if !isClosed { _ = posixClose(descriptor) }
        buffer.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(WeightFileError) {
        guard !bytes.isEmpty else { return }
        if buffered + bytes.count > buffer.count { try flush() }
        if bytes.count >= buffer.count {
            try writeFully(bytes)
        } else {
            UnsafeMutableRawBufferPointer(rebasing: buffer[buffered..<buffered + bytes.count]).copyMemory(from: bytes)
            buffered += bytes.count
        }
        position += bytes.count
    }

    func write(_ bytes: [UInt8]) throws(WeightFileError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(WeightFileError) in try write(raw) } }.get()
    }

    func writeZeros(_ count: Int) throws(WeightFileError) {
        precondition(count >= 0)
        var left = count
        while left > 0 {
            if buffered == buffer.count { try flush() }
            let chunk = min(left, buffer.count - buffered)
            UnsafeMutableRawBufferPointer(rebasing: buffer[buffered..<buffered + chunk]).initializeMemory(as: UInt8.self, repeating: 0)
            buffered += chunk
            position += chunk
            left -= chunk
        }
    }

    func flush() throws(WeightFileError) {
        guard buffered > 0 else { return }
        try writeFully(UnsafeRawBufferPointer(rebasing: buffer[0..<buffered]))
        buffered = 0
    }

    /// Flushes and closes; a failing close (a full disk on NFS, say) is an error.
    func finish() throws(WeightFileError) {
        try flush()
        isClosed = true
        guard posixClose(descriptor) == 0 else { throw .cannotWrite(path: path, reason: systemError()) }
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer) throws(WeightFileError) {
        var done = 0
        while done < bytes.count {
            let result = posixWrite(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if result < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, reason: systemError())
            }
            done += result
        }
    }
}

// Outside the class, whose methods would shadow these names.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, bytes, count) }
private func posixClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
