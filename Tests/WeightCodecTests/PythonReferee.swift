import Foundation
import Testing

/// The `gguf` Python package (PyPI), run as a referee on files and bytes the
/// tests write. Outside CI a missing package skips its tests; in CI (CI=true)
/// they run and fail with a clear message.
enum PythonReferee {
    static let inCI = ProcessInfo.processInfo.environment["CI"] != nil

    /// Whether tests needing `modules` should run: yes when they import, and always in CI.
    static func shouldRun(_ modules: String...) -> Bool {
        inCI || (try? run("import " + modules.joined(separator: ", "), arguments: []))?.status == 0
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `python3 -c script arguments…`.
    static func run(_ script: String, arguments: [String]) throws -> Output {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("out"), errURL = folder.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Runs a script that must succeed; its stdout is returned. A failure
    /// (the package missing included) is recorded with Python's own message.
    static func check(_ script: String, arguments: [String] = []) throws -> String {
        let output = try run(script, arguments: arguments)
        if output.status != 0 {
            Issue.record("python referee failed (\(output.status)): \(output.stderr.suffix(2000))")
        }
        return output.stdout
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
