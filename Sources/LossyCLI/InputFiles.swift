import Foundation

/// An input that cannot be read: a problem with the file, not the command
/// line, so it exits 1 like every other input error (usage errors exit 64).
struct UnreadableInput: Error, CustomStringConvertible {
    var path: String
    var reason: String

    var description: String { "cannot read \(path): \(reason)" }
}

/// Checks before any work that each input exists, is a file and can be read,
/// naming the first that is not.
func requireReadable(_ paths: [String]) throws {
    for path in paths {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw UnreadableInput(path: path, reason: "no such file")
        }
        if isFolder.boolValue { throw UnreadableInput(path: path, reason: "it is a folder") }
        if !FileManager.default.isReadableFile(atPath: path) { throw UnreadableInput(path: path, reason: "permission denied") }
    }
}
