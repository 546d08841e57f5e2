import Foundation

/// Runs the built `lossy` executable, as a user would.
struct LossyRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum Lossy {
    /// The executable sits beside the test bundle in the build folder;
    /// `LOSSY_BIN` overrides.
    static let executable: URL = {
        if let override = ProcessInfo.processInfo.environment["LOSSY_BIN"] {
            return URL(fileURLWithPath: override)
        }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = me.deletingLastPathComponent()
        // Inside a bundle (…/X.xctest/…) climb out to the build folder.
        while folder.path.contains(".xctest") { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("lossy")
    }()

    /// Runs `lossy`, or with `program` another tool (a referee) by its path.
    /// Output goes through files: with two pipes, a child that fills the one
    /// not being read (llama.cpp logs tens of kilobytes to stderr) would stall.
    static func run(_ arguments: [String], in folder: URL? = nil, program: String? = nil) throws -> LossyRun {
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: capture, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: capture) }
        let outURL = capture.appendingPathComponent("out"), errURL = capture.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = program.map { URL(fileURLWithPath: $0) } ?? executable
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return LossyRun(status: process.terminationStatus,
                        stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                        stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The package's root, for the bundled samples.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
