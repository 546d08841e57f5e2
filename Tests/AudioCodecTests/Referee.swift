import Foundation
import Testing

/// A real program the tests check our output with (ffmpeg, mpg123, mp3val,
/// lame). Outside CI a missing referee skips its tests; in CI (CI=true) the
/// tests run and fail with a clear message.
enum Referee {
    static let inCI = ProcessInfo.processInfo.environment["CI"] != nil

    static func path(of tool: String) -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return folders.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether tests needing `tools` should run: yes when all are present, and always in CI.
    static func shouldRun(_ tools: String...) -> Bool {
        inCI || tools.allSatisfy { path(of: $0) != nil }
    }

    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    /// Runs a referee; a missing one is a test failure with its name.
    static func run(_ tool: String, _ arguments: [String]) throws -> Output {
        guard let executable = path(of: tool) else {
            Issue.record("referee '\(tool)' is not installed: run scripts/setup-system test")
            throw CancellationError()
        }
        // Output goes through files: two pipes could fill and stall the referee.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("referee-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("out"), errURL = folder.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: try Data(contentsOf: outURL),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
