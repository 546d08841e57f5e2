import ArgumentParser
import Foundation

/// Why an output could not be written.
struct OutputError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot write \(path): \(reason)" }
}

/// Writes outputs so that a failure never leaves a half file: the bytes go
/// to a temporary file in the target's folder, are flushed to disk, and the
/// file is renamed over the target in one step. An interrupt (`Interrupts`)
/// removes the temporary file; after SIGKILL, which nothing can catch, the
/// target still holds nothing or its previous complete file.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        try replace(path) { temporary in
            let descriptor = open(temporary, O_WRONLY | O_TRUNC)
            guard descriptor >= 0 else { throw OutputError(path: path, reason: String(cString: strerror(errno))) }
            defer { close(descriptor) }
            try data.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw OutputError(path: path, reason: String(cString: strerror(errno)))
                    }
                    offset += written
                }
            }
        }
    }

    /// Lets `produce` write the output at a temporary path in the target's
    /// folder, flushes it to disk and renames it over `path`; on any failure
    /// the temporary file is removed and `path` is left as it was.
    static func replace(_ path: String, producing produce: (String) throws -> Void) throws {
        let target = URL(fileURLWithPath: path)
        let folder = target.deletingLastPathComponent()
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw OutputError(path: path, reason: "folder \(folder.path) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw OutputError(path: path, reason: "it is a folder")
        }
        let temporary = folder.appendingPathComponent(".\(target.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp").path
        // Registered before it exists, so a signal at any point after leaves nothing behind.
        let slot = Interrupts.register(temporary)
        defer { Interrupts.forget(slot) }
        let created = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard created >= 0 else { throw OutputError(path: path, reason: String(cString: strerror(errno))) }
        close(created)
        do {
            try produce(temporary)
            let descriptor = open(temporary, O_RDONLY)
            let synced = descriptor >= 0 && fsync(descriptor) == 0
            let reason = String(cString: strerror(errno))
            if descriptor >= 0 { close(descriptor) }
            guard synced else { throw OutputError(path: path, reason: reason) }
            guard rename(temporary, path) == 0 else {
                throw OutputError(path: path, reason: String(cString: strerror(errno)))
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

/// Refuses to write over the input: the same path after `..` and symbolic
/// links are resolved, or, when both exist, the same file (a hard link).
func requireDistinctPaths(input: String, output: String) throws {
    let a = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath().path
    let b = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath().path
    var first = stat(), second = stat()
    let sameFile = stat(a, &first) == 0 && stat(b, &second) == 0 && first.st_dev == second.st_dev && first.st_ino == second.st_ino
    if a == b || sameFile { throw ValidationError("the output \(output) is the input; choose another path") }
}
