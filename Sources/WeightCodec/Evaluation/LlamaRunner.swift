import Foundation

/// llama.cpp, through PyPI's llama-cpp-python, run by the `llama_runner.py`
/// bundled with this module: it evaluates models on a text and collects
/// importance matrices, and lossy does the rest (statistics, files).
/// Each call is one `python3` process whose JSON answer goes to a file.
public struct LlamaRunner: Sendable {
    public var python: String

    public init(python: String = "python3") { self.python = python }

    static var script: String? { Bundle.module.path(forResource: "llama_runner", ofType: "py") }

    /// Runs `llama_runner.py COMMAND ARGUMENTS --out FILE` and returns FILE's bytes.
    func run(_ command: String, _ arguments: [String]) throws -> Data {
        guard let script = Self.script else { throw LlamaRunnerError.scriptMissing }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-llama-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let answer = folder.appendingPathComponent("answer.json"), log = folder.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, command] + arguments + ["--out", answer.path]
        // llama.cpp writes freely to stderr: a file, never a pipe that could fill.
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { throw LlamaRunnerError.cannotStart(python: python) }
        process.waitUntilExit()
        let message = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: answer.path) else {
            let lastLine = message.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            if lastLine.contains("No module named 'llama_cpp'") || lastLine.contains("No module named 'numpy'") {
                throw LlamaRunnerError.missingPackage(lastLine)
            }
            throw LlamaRunnerError.failed(command: command, message: lastLine)
        }
        return data
    }
}

public enum LlamaRunnerError: Error, Equatable, CustomStringConvertible {
    case scriptMissing
    case cannotStart(python: String)
    case missingPackage(String)
    case failed(command: String, message: String)

    public var description: String {
        switch self {
        case .scriptMissing:
            return "llama_runner.py is missing from lossy's resources (reinstall lossy)"
        case let .cannotStart(python):
            return "cannot start \(python): llama.cpp evaluation needs Python 3 with llama-cpp-python and numpy"
        case let .missingPackage(line):
            return "llama.cpp evaluation needs llama-cpp-python and numpy (pip install llama-cpp-python numpy): \(line)"
        case let .failed(command, message):
            return "llama.cpp \(command): \(message.hasPrefix("llama_runner: ") ? String(message.dropFirst(14)) : message)"
        }
    }
}
