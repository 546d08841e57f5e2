import Foundation
import Testing
import WeightCodec

/// `lossy quantize --prune` on the small llama-shaped GGUF of the quantize
/// tests: the output read back with the project's GGUF reader, zero by zero,
/// against what the report says; and every bad request as one line.
@Suite(.serialized) struct PruneCommandTests {
    /// The 14 matrices inside the blocks (2 layers × q, k, v, output, gate, up, down).
    static let blockMatrices = 14
    static let blockWeights = 2 * (256 * 256 * 2 + 128 * 256 * 2 + 512 * 256 * 3)

    /// Every tensor of a GGUF decoded to floats.
    static func tensors(_ path: String) throws -> [String: (shape: [Int], values: [Float])] {
        let file = try GGUFFile(path: path)
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for info in file.tensors {
            var values = [Float](repeating: .nan, count: info.elementCount)
            let format = try #require(BlockFormats.format(for: info.type))
            values.withUnsafeMutableBufferPointer { format.dequantize(file.data(of: info), into: $0) }
            tensors[info.name] = (info.shape, values)
        }
        return tensors
    }

    static func isBlockMatrix(_ name: String) -> Bool { name.hasPrefix("blk.") && !name.hasSuffix("norm.weight") }

    static func zeros(_ values: some Collection<Float>) -> Int { values.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } }

    /// Runs `lossy quantize MODEL -o OUT arguments…` and returns stdout.
    static func quantize(_ model: String, _ output: String, _ arguments: [String]) throws -> String {
        let run = try Lossy.run(["quantize", model, "-o", output] + arguments)
        try #require(run.status == 0, "\(arguments): \(run.stderr)")
        return run.stdout
    }

    @Test func magnitudeZeroesHalfOfEveryBlockMatrixAndNothingElse() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let output = folder.appendingPathComponent("pruned.gguf").path
        let report = try Self.quantize(model, output, ["--type", "F16", "--prune", "0.5"])
        let input = try Self.tensors(model), pruned = try Self.tensors(output)
        #expect(pruned.count == 20)
        for (name, tensor) in pruned {
            let x = try #require(input[name]).values
            if Self.isBlockMatrix(name) {
                #expect(Self.zeros(tensor.values) == x.count / 2, "\(name)")
                // What is kept is the larger half, at binary16 precision.
                let kept = zip(x, tensor.values).filter { $1 != 0 }
                let dropped = zip(x, tensor.values).filter { $1 == 0 }
                #expect(kept.allSatisfy { abs($0 - $1) <= 1e-3 * abs($0) }, "\(name)")
                #expect(dropped.map { abs($0.0) }.max()! <= kept.map { abs($0.0) }.min()!, "\(name)")
            } else {
                #expect(Self.zeros(tensor.values) == Self.zeros(x), "\(name) is not pruned")
            }
        }
        #expect(report.contains("pruned       \(Self.blockWeights / 2) of \(Self.blockWeights) weights (50.00 %) in 14 tensors: magnitude ×14"),
                "\(report)")
        #expect(report.contains("zeros kept   \(Self.blockWeights / 2) of the \(Self.blockWeights / 2) weights that were 0 going into the quantizer (pruned, or 0 already): 100.00 % came out exactly 0"),
                "\(report)")
        #expect(report.contains("energy lost  ") && !report.contains("weighted     "), "\(report)")
        let line = try #require(report.split(separator: "\n").first { $0.hasPrefix("blk.0.attn_q.weight ") })
        #expect(line.contains(" magnitude ") && line.contains(" 50.00 "), "\(line)")
    }

    @Test func wandaKeepsTheImportantColumnsAndLosesLessOutputEnergy() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let imatrix = try QuantizeCommandTests.columnImatrix(in: folder)
        let wanda = folder.appendingPathComponent("wanda.gguf").path, magnitude = folder.appendingPathComponent("magnitude.gguf").path
        let report = try Self.quantize(model, wanda, ["--type", "F16", "--prune", "0.5", "--prune-method", "wanda", "--imatrix", imatrix])
        #expect(report.contains("in 14 tensors: magnitude (no imatrix entry) ×12, wanda ×2"), "\(report)")
        #expect(report.contains("over the 2 tensors with an imatrix entry"), "\(report)")
        let pruned = try Self.tensors(wanda)
        let q = try #require(pruned["blk.0.attn_q.weight"]).values
        // Half of every row; the important columns (score ×√1000) almost all survive (about 2.4 % go, against 50 % by magnitude).
        for row in 0..<256 { #expect(Self.zeros(q[(row * 256)..<((row + 1) * 256)]) == 128, "row \(row)") }
        let important = stride(from: 0, to: q.count, by: 4).map { q[$0] }
        #expect(Self.zeros(important) < important.count / 20, "\(Self.zeros(important)) of \(important.count) important weights pruned")
        // A tensor without an entry lost half of itself by magnitude.
        #expect(Self.zeros(try #require(pruned["blk.1.ffn_down.weight"]).values) == 256 * 512 / 2)

        // Magnitude with the same imatrix (for the weighted column only) loses more of Σ E[x²]·w².
        let json = try Lossy.run(["quantize", model, "-o", magnitude, "--type", "F16", "--prune", "0.5", "--imatrix", imatrix,
                                  "--format", "json"])
        try #require(json.status == 0, "\(json.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let byMagnitude = try #require(rows.first { $0["tensor"] as? String == "blk.0.attn_q.weight" })
        let magnitudeLost = try #require(byMagnitude["pruned_weighted_energy_percent"] as? Double)
        let wandaLine = try #require(report.split(separator: "\n").first { $0.hasPrefix("blk.0.attn_q.weight ") })
        let numbers = wandaLine.split(separator: " ").compactMap { Double($0) }
        // Columns: params, size, rate, SQNR, worst 1 %, worst, zeroed, pruned, energy lost, weighted lost, zeros kept.
        let wandaLost = numbers[numbers.count - 2]
        #expect(wandaLost < magnitudeLost, "weighted energy lost: wanda \(wandaLost) %, magnitude \(magnitudeLost) %")
    }

    @Test func twoOfFourLeavesTwoOfEveryFourAndTheReportCountsTheZerosKept() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let dry = try Lossy.run(["quantize", model, "--type", "Q4_1", "--prune-method", "2:4", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("prune        14 tensors: 2:4 ×14"), "\(dry.stdout)\(dry.stderr)")

        let f16 = folder.appendingPathComponent("f16.gguf").path
        _ = try Self.quantize(model, f16, ["--type", "F16", "--prune-method", "2:4"])
        let pattern = try Self.tensors(f16)
        for (name, tensor) in pattern where Self.isBlockMatrix(name) {
            let groups = stride(from: 0, to: tensor.values.count, by: 4)
            #expect(groups.allSatisfy { Self.zeros(tensor.values[$0..<($0 + 4)]) == 2 }, "\(name)")
        }
        // Q4_1 (x = d·q + m) need not reconstruct the zeros: the report counts those it did,
        // which are those zero in the F16 file that are zero in the Q4_1 file too.
        for (type, allKept) in [("Q4_1", false), ("IQ4_NL", false), ("Q8_0", true), ("Q4_0", true)] {
            let output = folder.appendingPathComponent("\(type).gguf").path
            let report = try Self.quantize(model, output, ["--type", type, "--prune-method", "2:4", "--prune", "0.5"])
            let quantized = try Self.tensors(output)
            var kept = 0
            for (name, tensor) in pattern where Self.isBlockMatrix(name) {
                let y = try #require(quantized[name]).values
                kept += zip(tensor.values, y).filter { $0 == 0 && $1 == 0 }.count
            }
            #expect(allKept == (kept == Self.blockWeights / 2), "\(type): \(kept) kept")
            #expect(report.contains("zeros kept   \(kept) of the \(Self.blockWeights / 2) weights that were 0"), "\(type): \(report)")
        }
    }

    @Test func globalScopePrunesExactlyTheModelsShare() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let imatrix = try QuantizeCommandTests.columnImatrix(in: folder)
        let output = folder.appendingPathComponent("global.gguf").path
        let report = try Self.quantize(model, output, ["--type", "F16", "--prune", "0.3", "--prune-scope", "global"])
        #expect(report.contains("in 14 tensors: magnitude (global) ×14"), "\(report)")
        let total = try Self.tensors(output).filter { Self.isBlockMatrix($0.key) }.reduce(0) { $0 + Self.zeros($1.value.values) }
        #expect(total == Int((0.3 * Double(Self.blockWeights)).rounded()))

        // Global Wanda ranks the two tensors with an entry together; the others lose 30 % each by magnitude.
        let wanda = folder.appendingPathComponent("wanda.gguf").path
        let wandaReport = try Self.quantize(model, wanda, ["--type", "F16", "--prune", "0.3", "--prune-method", "wanda",
                                                           "--prune-scope", "global", "--imatrix", imatrix])
        #expect(wandaReport.contains("magnitude (no imatrix entry) ×12, wanda (global) ×2"), "\(wandaReport)")
        let tensors = try Self.tensors(wanda)
        let ranked = ["blk.0.attn_q.weight", "blk.1.attn_q.weight"].reduce(0) { $0 + Self.zeros(tensors[$1]!.values) }
        #expect(ranked == Int((0.3 * 2 * 65536).rounded()))
        let down = try #require(tensors["blk.0.ffn_down.weight"]).values
        #expect(Self.zeros(down) == Int((0.3 * Double(down.count)).rounded()))
    }

    /// With a target the allocator measures every format on the pruned
    /// weights: formats with an exact 0 keep Wanda's zeros row by row, the
    /// file fits, and the measured errors are those of the pruned (half
    /// as energetic) weights, below the unpruned model's at the same budget.
    @Test func pruningUnderATargetMeasuresThePrunedWeights() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let imatrix = try QuantizeCommandTests.columnImatrix(in: folder)
        // Between uniform Q4_0 (716 kB) and Q8_0.
        let budget = 1_000_000
        let common = ["--target-size", "\(budget)B", "--formats", "Q4_0,Q5_0,Q8_0,F16", "--imatrix", imatrix, "--format", "json"]
        let output = folder.appendingPathComponent("pruned.gguf").path
        let pruned = try Self.quantize(model, output, common + ["--prune", "0.5", "--prune-method", "wanda"])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int)
        #expect(size <= budget && size > budget - 40_000, "\(size) bytes")
        for (name, tensor) in try Self.tensors(output) where Self.isBlockMatrix(name) {
            #expect(Self.zeros(tensor.values) >= tensor.values.count / 2, "\(name)")
            // Wanda (the tensors with an imatrix entry) prunes each row by half.
            guard name.hasSuffix("attn_q.weight") else { continue }
            let rowLength = tensor.shape[0]
            for row in 0..<(tensor.values.count / rowLength) {
                let zeros = Self.zeros(tensor.values[(row * rowLength)..<((row + 1) * rowLength)])
                #expect(zeros >= rowLength / 2, "\(name) row \(row): \(zeros) zeros")
            }
        }
        let whole = try Self.quantize(model, folder.appendingPathComponent("whole.gguf").path, common)
        func blockError(_ json: String) throws -> Double {
            let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            let rows = try #require(report?["allocation"] as? [[String: Any]])
            return rows.filter { Self.isBlockMatrix($0["tensor"] as! String) }.reduce(0.0) { $0 + ($1["weighted_error"] as! Double) }
        }
        let prunedError = try blockError(pruned), wholeError = try blockError(whole)
        #expect(prunedError < 0.75 * wholeError, "pruned \(prunedError), whole \(wholeError)")
    }

    @Test func badPruneRequestsAreOneLine() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let out = folder.appendingPathComponent("out.gguf").path
        let cases: [([String], String)] = [
            (["--prune", "1"], "--prune must be a fraction in [0, 1), got 1.0"),
            (["--prune=-0.5"], "--prune must be a fraction in [0, 1), got -0.5"),
            (["--prune", "half"], "The value 'half' is invalid for '--prune <fraction>'"),
            (["--prune", "0.5", "--prune-method", "lottery"], "The value 'lottery' is invalid for '--prune-method <prune-method>'"),
            (["--prune", "0.5", "--prune-method", "wanda"], "--prune-method wanda scores |w|·√E[x²]: give --imatrix FILE"),
            (["--prune", "0.5", "--reference"], "--reference writes llama.cpp's bytes for the input's weights: drop --prune or --reference"),
            (["--prune", "0.3", "--prune-method", "2:4"], "--prune-method 2:4 prunes 0.5 by construction, got --prune 0.3"),
            (["--prune-method", "2:4", "--prune-scope", "global"], "--prune-method 2:4 works within groups of 4 weights: --prune-scope global does not apply"),
            (["--prune-method", "magnitude"], "--prune-method magnitude needs --prune FRACTION"),
            (["--prune-scope", "global"], "--prune-scope needs --prune FRACTION or --prune-method"),
            (["--prune", "0.5", "--prune-scope", "model"], "The value 'model' is invalid for '--prune-scope <prune-scope>'"),
        ]
        for (arguments, message) in cases {
            let run = try Lossy.run(["quantize", model, "-o", out, "--type", "Q4_0"] + arguments)
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
            let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 2 && lines[1].isEmpty, "\(arguments): expected one line, got: \(run.stderr)")
            #expect(run.stderr.hasPrefix("lossy: ") && run.stderr.contains(message), "\(arguments): got: \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(arguments) left an output")
        }
    }

    @Test func helpDescribesPruning() throws {
        let help = try Lossy.run(["quantize", "--help"])
        #expect(help.status == 0)
        for phrase in ["--prune <fraction>", "--prune-method <prune-method>", "--prune-scope <prune-scope>", "Sun et al. 2023", "blk.*", "2:4"] {
            #expect(help.stdout.contains(phrase), "\(phrase) missing from: \(help.stdout)")
        }
    }
}
