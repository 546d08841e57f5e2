import Foundation
import Testing

/// Interrupted runs leave nothing half-written: SIGINT and SIGTERM remove the
/// temporary output and exit 128 + the signal with one line; SIGKILL at any
/// moment leaves the output path holding the previous complete file or the
/// new complete one, never a part, and the input is never touched.
@Suite(.serialized) struct InterruptTests {
    /// Starts `lossy` with `arguments`, sends `signal` after `delay` seconds
    /// (if it is still running), and returns its exit status and stderr.
    static func interrupt(_ arguments: [String], after delay: Double, with signal: Int32) throws -> (status: Int32, stderr: String, signalled: Bool) {
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-interrupt-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: capture.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: capture) }
        let process = Process()
        process.executableURL = Lossy.executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: capture)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: delay)
        let signalled = process.isRunning
        if signalled { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        let stderr = String(decoding: try Data(contentsOf: capture), as: UTF8.self)
        return (process.terminationStatus, stderr, signalled)
    }

    /// How long a run takes, in seconds.
    static func duration(_ arguments: [String]) throws -> Double {
        let start = Date()
        let run = try Lossy.run(arguments)
        try #require(run.status == 0, "\(arguments): \(run.stderr)")
        return Date().timeIntervalSince(start)
    }

    static func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// Files in `folder` other than `expected`: temporary outputs left behind.
    static func strays(in folder: URL, expected: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !expected.contains($0) }.sorted()
    }

    /// A minute of stereo noise at 44.1 kHz, long enough for an encode to be caught in the middle.
    static func longWAV(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("long.wav").path
        let script = """
            import sys, wave, random
            random.seed(3)
            w = wave.open(sys.argv[1], 'wb'); w.setnchannels(2); w.setsampwidth(2); w.setframerate(44100)
            w.writeframes(random.randbytes(4 * 44100 * 60))
            w.close()
            """
        let run = try Lossy.run(["python3", "-c", script, path], program: "/usr/bin/env")
        try #require(run.status == 0, "\(run.stderr)")
        return path
    }

    @Test func sigintAndSigtermRemoveTheTemporaryOutput() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.longWAV(in: folder)
        let output = folder.appendingPathComponent("out.mp3").path
        _ = try Self.duration(["encode", input, "-o", output, "--bitrate", "320"])
        let previous = try #require(Self.contents(output))
        for (signal, word) in [(SIGINT, "interrupted"), (SIGTERM, "terminated")] {
            let run = try Self.interrupt(["encode", input, "-o", output, "--bitrate", "64"], after: 0.3, with: signal)
            try #require(run.signalled, "the encode ended before the signal")
            #expect(run.status == 128 + signal, "status \(run.status)")
            #expect(run.stderr == "lossy: \(word); no output was left half-written\n", "\(run.stderr)")
            #expect(Self.contents(output) == previous, "the previous output changed")
            #expect(try Self.strays(in: folder, expected: ["long.wav", "out.mp3"]).isEmpty)
        }
    }

    /// Kills at random moments across a whole run; the output is the
    /// previous file (another setting) or the complete new one.
    static func killAtRandomPoints(_ arguments: [String], previous: [String], input: String, output: String,
                                   folder: URL, runs: Int) throws {
        let newDuration = try duration(arguments)
        let complete = try #require(contents(output))
        let inputBefore = try #require(contents(input))
        var generator = SystemRandomNumberGenerator()
        var caught = 0
        for _ in 0..<runs {
            _ = try duration(previous)
            let before = try #require(contents(output))
            #expect(before != complete, "the previous setting must write other bytes")
            let delay = Double.random(in: 0.05...(newDuration * 0.9), using: &generator)
            let run = try interrupt(arguments, after: delay, with: SIGKILL)
            let after = contents(output)
            if run.signalled { caught += 1 }
            #expect(after == before || after == complete, "after SIGKILL at \(delay) s: \(after?.count ?? -1) bytes")
            #expect(contents(input) == inputBefore, "the input changed")
            // Only the temporary file of the killed run may remain, and SIGKILL leaves it; clear it for the next run.
            for stray in try strays(in: folder, expected: [URL(fileURLWithPath: input).lastPathComponent,
                                                           URL(fileURLWithPath: output).lastPathComponent]) {
                #expect(stray.hasPrefix(".\(URL(fileURLWithPath: output).lastPathComponent).") && stray.hasSuffix(".tmp"), "\(stray)")
                try FileManager.default.removeItem(at: folder.appendingPathComponent(stray))
            }
        }
        #expect(caught >= runs / 2, "only \(caught) of \(runs) runs were still going when killed")
    }

    @Test func sigkillDuringEncodeLeavesThePreviousOrTheCompleteFile() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try Self.longWAV(in: folder)
        let output = folder.appendingPathComponent("out.mp3").path
        try Self.killAtRandomPoints(["encode", input, "-o", output, "--bitrate", "128"],
                                    previous: ["encode", input, "-o", output, "--bitrate", "320"],
                                    input: input, output: output, folder: folder, runs: 5)
    }

    @Test func sigkillDuringQuantizeLeavesThePreviousOrTheCompleteFile() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try LlamaRefereeTests.f16Model(in: folder)
        let output = folder.appendingPathComponent("out.gguf").path
        try Self.killAtRandomPoints(["quantize", input, "-o", output, "--type", "Q8_0"],
                                    previous: ["quantize", input, "-o", output, "--type", "Q4_0"],
                                    input: input, output: output, folder: folder, runs: 4)
    }
}

/// The input is never the output, under any name: a symbolic link to it or
/// a hard link of it is refused before anything is read or written.
struct SameFileTests {
    @Test func anOutputThatIsTheInputUnderAnotherNameIsRefused() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("in.wav").path
        try FileManager.default.copyItem(atPath: EncodeCommandTests.sample, toPath: input)
        let before = try #require(FileManager.default.contents(atPath: input))
        let symbolic = folder.appendingPathComponent("symbolic.mp3").path, hard = folder.appendingPathComponent("hard.mp3").path
        try FileManager.default.createSymbolicLink(atPath: symbolic, withDestinationPath: input)
        try FileManager.default.linkItem(atPath: input, toPath: hard)
        for output in [symbolic, hard] {
            let run = try Lossy.run(["encode", input, "-o", output])
            #expect(run.status == 64 && run.stderr.contains("the output \(output) is the input; choose another path"), "\(run.stderr)")
        }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let modelLink = folder.appendingPathComponent("link.gguf").path
        try FileManager.default.linkItem(atPath: model, toPath: modelLink)
        let quantize = try Lossy.run(["quantize", model, "-o", modelLink, "--type", "Q8_0"])
        #expect(quantize.status == 64 && quantize.stderr.contains("is the input"), "\(quantize.stderr)")
        #expect(FileManager.default.contents(atPath: input) == before)
    }
}
