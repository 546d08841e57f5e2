#if canImport(Glibc)
import Glibc
#endif

/// The parsers under test open files by path, as `lossy` does, so each
/// input is written to a file of this process's own (pid in the name, so
/// `-fork`/`-jobs` workers never share one) and removed after the run.
public enum FuzzInput {
    /// Writes the bytes to `name` in the temporary folder, runs `body` on
    /// its path, and removes the file whatever `body` does.
    public static func withFile(_ data: UnsafePointer<UInt8>, _ size: Int, named name: String,
                                _ body: (String) -> Void) {
        let folder = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        let path = "\(folder)/lossy-fuzz-\(getpid())-\(name)"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { fatalError("cannot write the fuzz input \(path)") }
        var written = 0
        while written < size {
            let step = write(descriptor, data + written, size - written)
            guard step > 0 else { fatalError("cannot write the fuzz input \(path)") }
            written += step
        }
        close(descriptor)
        defer { unlink(path) }
        body(path)
    }
}
