import AudioCodec
import Foundation
import Testing
import WeightCodec

/// The parsers the libFuzzer targets in Fuzz/ drive, called here as those
/// targets call them, on their committed inputs: the seeds (valid files,
/// which must parse) and the corpus the fuzzing runs grew, merged to the
/// inputs that reach distinct paths, with any input a run failed on
/// (Tests/Fixtures/fuzz-corpus/<target>/): each must be answered with a
/// result or one clear error, never a crash, in this plain build too.
enum FuzzedParser: String, CaseIterable, CustomTestStringConvertible {
    case audioFile = "FuzzAudioFile", mp3 = "FuzzMP3", safetensors = "FuzzSafetensors"
    case gguf = "FuzzGGUF", importanceMatrix = "FuzzImportanceMatrix"

    var testDescription: String { rawValue }

    /// The name the fuzz target gives its input file.
    var fileName: String {
        switch self {
        case .audioFile: "audio"
        case .mp3: "input.mp3"
        case .safetensors: "model.safetensors"
        case .gguf: "model.gguf"
        case .importanceMatrix: "imatrix"
        }
    }

    /// Reads the file as the fuzz target does, throwing what the parser throws.
    func read(_ path: String) throws {
        switch self {
        case .audioFile:
            _ = AudioSummary(try AudioFileReader.read(path: path))
        case .mp3:
            let stream = try Layer3Decoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            #expect(stream.audio.channels.allSatisfy { $0.allSatisfy(\.isFinite) })
        case .safetensors, .gguf:
            let source = try ModelSource.open(path)
            for index in source.tensors.indices { _ = try source.values(of: index) }
        case .importanceMatrix:
            let matrix = try ImportanceMatrix.load(path: path)
            try matrix.check(against: matrix.entries.keys.map { GGUFTensorInfo(name: $0, shape: [32, 2], type: .f32) })
        }
    }

    func inputs(under folder: String) throws -> [URL] {
        let directory = Lossy.packageRoot.appendingPathComponent(folder).appendingPathComponent(rawValue)
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Copies `input` to the fuzz target's file name in a fresh folder and reads it.
    func readCopy(of input: URL) throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent(fileName)
        try FileManager.default.copyItem(at: input, to: copy)
        try read(copy.path)
    }
}

@Suite struct FuzzCorpusTests {
    @Test(arguments: FuzzedParser.allCases)
    func everySeedParses(_ parser: FuzzedParser) throws {
        let seeds = try parser.inputs(under: "Fuzz/Seeds")
        #expect(seeds.count >= 3, "too few seeds for \(parser.rawValue)")
        for seed in seeds {
            #expect(throws: Never.self, "\(seed.lastPathComponent)") { try parser.readCopy(of: seed) }
        }
    }

    @Test(arguments: FuzzedParser.allCases)
    func everyFuzzedInputIsAnsweredInOneLine(_ parser: FuzzedParser) throws {
        let inputs = try parser.inputs(under: "Tests/Fixtures/fuzz-corpus")
        #expect(inputs.count >= 20, "\(inputs.count) inputs for \(parser.rawValue)")
        var refused = 0
        for input in inputs {
            do {
                try parser.readCopy(of: input)
            } catch {
                refused += 1
                let message = "\(error)"
                #expect(!message.isEmpty && !message.contains("\n"), "\(input.lastPathComponent): \(message)")
            }
        }
        // Mutations of valid files: most are broken, some still parse.
        #expect(refused > 0, "no input of \(parser.rawValue) was refused")
    }
}
