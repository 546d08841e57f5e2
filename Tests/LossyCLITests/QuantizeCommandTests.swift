import Foundation
import Testing

/// `lossy quantize` and `lossy inspect` on a small llama-shaped GGUF that the
/// `gguf` package writes here (random weights, two layers), read back by the
/// same package; and every bad request as one line.
@Suite(.serialized) struct QuantizeCommandTests {
    /// Writes the model, `name`.gguf; returns its path. The defaults' rows
    /// of 256 let every format apply; `embedding: 576, ffn: 1536` gives
    /// SmolLM2's widths, where the K formats fall back.
    static func tinyModel(in folder: URL, name: String = "tiny", layers: Int = 2, embedding: Int = 256, ffn: Int = 512,
                          heads: Int = 4, kvHeads: Int = 2, vocabulary: Int = 320, seed: Int = 7) throws -> String {
        let path = folder.appendingPathComponent("\(name).gguf").path
        let (e, kv) = (embedding, embedding * kvHeads / heads)
        let script = """
            import sys, numpy as np, gguf
            rng = np.random.default_rng(\(seed))
            w = gguf.GGUFWriter(sys.argv[1], arch="llama")
            w.add_block_count(\(layers)); w.add_context_length(128); w.add_embedding_length(\(e))
            w.add_feed_forward_length(\(ffn)); w.add_head_count(\(heads)); w.add_head_count_kv(\(kvHeads))
            w.add_layer_norm_rms_eps(1e-5); w.add_file_type(0); w.add_string("general.name", "\(name)")
            def t(name, *shape, scale=0.05):
                w.add_tensor(name, (rng.standard_normal(shape) * scale * (1 + 4 * (rng.random(shape) > 0.995))).astype(np.float32))
            t("token_embd.weight", \(vocabulary), \(e))
            for i in range(\(layers)):
                w.add_tensor(f"blk.{i}.attn_norm.weight", (1 + 0.1 * rng.standard_normal(\(e))).astype(np.float32))
                t(f"blk.{i}.attn_q.weight", \(e), \(e)); t(f"blk.{i}.attn_k.weight", \(kv), \(e))
                t(f"blk.{i}.attn_v.weight", \(kv), \(e)); t(f"blk.{i}.attn_output.weight", \(e), \(e))
                w.add_tensor(f"blk.{i}.ffn_norm.weight", (1 + 0.1 * rng.standard_normal(\(e))).astype(np.float32))
                t(f"blk.{i}.ffn_gate.weight", \(ffn), \(e)); t(f"blk.{i}.ffn_up.weight", \(ffn), \(e)); t(f"blk.{i}.ffn_down.weight", \(e), \(ffn))
            w.add_tensor("output_norm.weight", np.ones(\(e), dtype=np.float32))
            w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
            """
        let run = try Lossy.run(["python3", "-c", script, path], program: "/usr/bin/env")
        try #require(run.status == 0, "gguf writer: \(run.stderr)")
        return path
    }

    /// A legacy .dat imatrix for both layers' attn_q of `tinyModel`: columns
    /// 0, 4, 8, … get E[x²] = 1000, the others 1.
    static func columnImatrix(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("columns.dat").path
        let write = """
            import sys, struct
            names = [f"blk.{i}.attn_q.weight" for i in range(2)]
            with open(sys.argv[1], "wb") as f:
                f.write(struct.pack("<i", len(names)))
                for n in names:
                    f.write(struct.pack("<i", len(n)) + n.encode() + struct.pack("<ii", 10, 256))
                    f.write(struct.pack("<256f", *[10000.0 if j % 4 == 0 else 10.0 for j in range(256)]))
                f.write(struct.pack("<i", 10) + struct.pack("<i", 4) + b"test")
            """
        let made = try Lossy.run(["python3", "-c", write, path], program: "/usr/bin/env")
        try #require(made.status == 0, "\(made.stderr)")
        return path
    }

    /// What the gguf package reads back: per tensor its type and SQNR against the input, in dB.
    static let readBack = """
        import sys, json, numpy as np, gguf
        a = {t.name: t for t in gguf.GGUFReader(sys.argv[1]).tensors}
        r = gguf.GGUFReader(sys.argv[2])
        out = {"file_type": int(r.fields["general.file_type"].contents()), "tensors": {}}
        for t in r.tensors:
            x = gguf.quants.dequantize(a[t.name].data, a[t.name].tensor_type).astype(np.float64).ravel()
            y = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64).ravel()
            e = ((x - y) ** 2).sum()
            out["tensors"][t.name] = {"type": t.tensor_type.name, "sqnr": 999.0 if e == 0 else float(10 * np.log10((x * x).sum() / e))}
        json.dump(out, sys.stdout)
        """

    struct ReadBack: Decodable {
        struct Tensor: Decodable { var type: String; var sqnr: Double }
        var file_type: Int
        var tensors: [String: Tensor]
    }

    static func read(_ input: String, _ output: String) throws -> ReadBack {
        let run = try Lossy.run(["python3", "-c", readBack, input, output], program: "/usr/bin/env")
        try #require(run.status == 0, "gguf reader: \(run.stderr)")
        return try JSONDecoder().decode(ReadBack.self, from: Data(run.stdout.utf8))
    }

    /// Recipe, its llama.h file type id, and the least SQNR a 4096-weight Gaussian matrix should keep.
    static let recipes: [(String, Int, Double)] = [
        ("F16", 1, 60), ("BF16", 32, 45), ("Q8_0", 7, 40), ("Q5_0", 8, 23), ("Q5_1", 9, 23), ("Q4_0", 2, 17),
        ("Q4_1", 3, 17), ("Q6_K", 18, 28), ("Q5_K_M", 17, 23), ("Q4_K_M", 15, 17), ("Q3_K_M", 12, 11),
        ("Q2_K", 10, 7), ("IQ4_NL", 25, 18), ("IQ4_XS", 30, 18), ("TQ2_0", 37, 2),
    ]

    @Test func everyRecipeWritesAFileTheGGUFPackageReads() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.tinyModel(in: folder)
        for (recipe, fileType, floor) in Self.recipes {
            let output = folder.appendingPathComponent("\(recipe).gguf").path
            let run = try Lossy.run(["quantize", model, "-o", output, "--type", recipe])
            try #require(run.status == 0, "\(recipe): \(run.stderr)")
            #expect(run.stdout.contains("SQNR") && run.stdout.contains("worst 1 %"), "\(run.stdout)")
            let back = try Self.read(model, output)
            #expect(back.file_type == fileType, "\(recipe)")
            #expect(back.tensors.count == 20)
            for (name, tensor) in back.tensors {
                if name.hasSuffix("norm.weight") {
                    #expect(tensor.type == "F32" && tensor.sqnr == 999, "\(recipe): \(name) should be copied")
                } else {
                    #expect(tensor.sqnr >= floor, "\(recipe): \(name) (\(tensor.type)) keeps \(tensor.sqnr) dB")
                }
            }
        }
    }

    @Test func targetSizeAndRateChooseFormatsThatFit() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.tinyModel(in: folder)
        // About 3.8 bits per weight, between uniform Q2_K and Q6_K: the file lands just under it.
        let budget = 600_000
        let output = folder.appendingPathComponent("fit.gguf").path
        let run = try Lossy.run(["quantize", model, "-o", output, "--target-size", "\(budget)B"])
        try #require(run.status == 0, "\(run.stderr)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int)
        #expect(size <= budget && size > budget - 40_000, "file of \(size) bytes for a budget of \(budget)")
        #expect(run.stdout.contains("share (%)") && run.stdout.contains("budget ") && run.stdout.contains("λ ="), "\(run.stdout)")
        let back = try Self.read(model, output)
        #expect(Set(back.tensors.values.map(\.type)).count > 2, "one format for all: \(back.tensors)")
        for (name, tensor) in back.tensors where name.hasSuffix("norm.weight") { #expect(tensor.type == "F32") }

        // A rate target: the table's rate is at or under it; JSON lists every allocated tensor.
        let rated = try Lossy.run(["quantize", model, "--dry-run", "--target-bpw", "4.0", "--format", "json"])
        try #require(rated.status == 0, "\(rated.stderr)")
        #expect(rated.stdout.components(separatedBy: "\"share_percent\"").count - 1 == 15, "\(rated.stdout)")

        // Restricted to two formats, only those appear.
        let two = folder.appendingPathComponent("two.gguf").path
        let restricted = try Lossy.run(["quantize", model, "-o", two, "--target-bpw", "6", "--formats", "Q4_0,Q8_0"])
        try #require(restricted.status == 0, "\(restricted.stderr)")
        let types = Set(try Self.read(model, two).tensors.filter { !$0.key.hasSuffix("norm.weight") }.values.map(\.type))
        #expect(types == ["Q4_0", "Q8_0"], "\(types)")

        for (arguments, message) in [
            (["--target-size", "10KB"], "below the"), (["--target-size", "lots"], "not a size"),
            (["--target-bpw", "0"], "above 0"), (["--target-bpw", "4", "--target-size", "1MB"], "not both"),
            (["--target-bpw", "4", "--formats", "Q4_0,Q9_9"], "'Q9_9' is not a block format"),
            (["--target-bpw", "4", "--pure"], "drop --reference and --pure"),
            (["--type", "Q4_0", "--calibration", model], "give --target-bpw or --target-size"),
            (["--target-bpw", "4", "--calibration", folder.appendingPathComponent("none.json").path], "cannot read"),
            (["--target-bpw", "4", "--calibration", model], "is not a lossy calibration"),
        ] {
            let bad = try Lossy.run(["quantize", model, "-o", folder.appendingPathComponent("bad.gguf").path] + arguments)
            #expect(bad.status != 0 && bad.stderr.contains(message), "\(arguments): \(bad.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("bad.gguf").path))
        }
    }

    @Test func dryRunOverridesAndImportance() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.tinyModel(in: folder)

        let dry = try Lossy.run(["quantize", model, "--type", "Q4_K_M", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("blk.0.attn_q.weight") && dry.stdout.contains("Q4_K") && dry.stdout.contains("bits per weight"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["tiny.gguf"])

        let output = folder.appendingPathComponent("override.gguf").path
        let run = try Lossy.run(["quantize", model, "-o", output, "--type", "Q4_K_M", "--tensor-type", "ffn_(up|gate)=Q8_0",
                                 "--tensor-type", "attn_q=IQ4_NL"])
        try #require(run.status == 0, "\(run.stderr)")
        let back = try Self.read(model, output)
        #expect(back.tensors["blk.1.ffn_up.weight"]?.type == "Q8_0")
        #expect(back.tensors["blk.0.ffn_gate.weight"]?.type == "Q8_0")
        #expect(back.tensors["blk.0.attn_q.weight"]?.type == "IQ4_NL")
        #expect(back.tensors["blk.0.attn_k.weight"]?.type == "Q4_K")

        // Every fourth column of attn_q matters 1000× more (within a block, so the fit has something to trade).
        let imatrix = try Self.columnImatrix(in: folder)
        let weighted = folder.appendingPathComponent("weighted.gguf").path
        let plain = folder.appendingPathComponent("plain.gguf").path
        let a = try Lossy.run(["quantize", model, "-o", weighted, "--type", "Q4_0", "--imatrix", imatrix])
        try #require(a.status == 0, "\(a.stderr)")
        #expect(a.stderr.contains("2 of 15 quantized tensors covered"), "\(a.stderr)")
        _ = try Lossy.run(["quantize", model, "-o", plain, "--type", "Q4_0"])
        // The important columns come out better with the importance matrix than without.
        let compare = """
            import sys, numpy as np, gguf
            def q(p): return {t.name: t for t in gguf.GGUFReader(p).tensors}["blk.0.attn_q.weight"]
            x, a, b = (gguf.quants.dequantize(q(p).data, q(p).tensor_type).reshape(256, 256)[:, ::4] for p in sys.argv[1:4])
            print(((x - a) ** 2).mean() / ((x - b) ** 2).mean())
            """
        let ratio = try Lossy.run(["python3", "-c", compare, model, weighted, plain], program: "/usr/bin/env")
        try #require(ratio.status == 0, "\(ratio.stderr)")
        let value = Double(ratio.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
        #expect(value < 0.9, "important columns' error with/without imatrix: \(value)")
    }

    @Test func inspectDescribesGGUF() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.tinyModel(in: folder)
        let run = try Lossy.run(["inspect", model])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("GGUF v3"), "\(run.stdout)")
        #expect(run.stdout.contains("llama.block_count = uint32 2"), "\(run.stdout)")
        #expect(run.stdout.contains("blk.1.ffn_down.weight") && run.stdout.contains("512×256"), "\(run.stdout)")
    }

    @Test func badRequestsAreOneLine() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.tinyModel(in: folder)
        let out = folder.appendingPathComponent("out.gguf").path
        let truncated = folder.appendingPathComponent("truncated.gguf").path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        try bytes.prefix(1000).write(to: URL(fileURLWithPath: truncated))
        let text = folder.appendingPathComponent("text.gguf").path
        try Data("GGUF? no, just text".utf8).write(to: URL(fileURLWithPath: text))
        let safetensors = folder.appendingPathComponent("bad.safetensors").path
        var header = Data([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
        header.append(Data("{}".utf8))
        try header.write(to: URL(fileURLWithPath: safetensors))
        let noise = folder.appendingPathComponent("noise.dat").path
        try Data((0..<64).map { UInt8($0 * 37 & 0xFF) }).write(to: URL(fileURLWithPath: noise))

        let cases: [([String], Int32, String)] = [
            (["quantize", model, "-o", out, "--type", "Q9_9"], 64, "unknown --type 'Q9_9'"),
            (["quantize", model, "--type", "Q4_0"], 64, "give -o OUT.gguf, or --dry-run"),
            (["quantize", model, "-o", model, "--type", "Q4_0"], 64, "the output \(model) is the input; choose another path"),
            (["quantize", model, "-o", out, "--type", "Q4_0", "--tensor-type", "ffn_up"], 1, "--tensor-type 'ffn_up': expected REGEX=TYPE"),
            (["quantize", model, "-o", out, "--type", "Q4_0", "--tensor-type", "ffn_up=Q7"], 1, "--tensor-type 'ffn_up=Q7': 'Q7' is not a type lossy writes"),
            (["quantize", model, "-o", out, "--type", "Q4_0", "--tensor-type", "ffn_(up=Q8_0"], 1, "--tensor-type 'ffn_(up=Q8_0': the pattern is not a regular expression"),
            (["quantize", folder.appendingPathComponent("missing.gguf").path, "-o", out, "--type", "Q4_0"], 1, "cannot open"),
            (["quantize", truncated, "-o", out, "--type", "Q4_0"], 1, "file ends before dimension 1 of 'blk.0.ffn_down.weight': 8 bytes at offset 993 run past the end of the 1000-byte file"),
            (["quantize", text, "-o", out, "--type", "Q4_0"], 1, "GGUF version 1869488191 is not supported"),
            (["quantize", safetensors, "-o", out, "--type", "Q4_0"], 1, "safetensors header of 4294967295 bytes runs past the end of the 10-byte file"),
            (["quantize", model, "-o", out, "--type", "Q4_0", "--imatrix", noise], 1, "noise.dat is not an importance matrix"),
            (["inspect", truncated], 1, "file ends before dimension 1"),
        ]
        for (arguments, status, message) in cases {
            let run = try Lossy.run(arguments)
            #expect(run.status == status, "\(arguments): \(run.stderr)")
            let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 2 && lines[1].isEmpty, "\(arguments): expected one line, got: \(run.stderr)")
            #expect(run.stderr.hasPrefix("lossy: ") && run.stderr.contains(message), "\(arguments): got: \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(arguments) left an output")
        }
        // Nothing but the inputs remains: no temporary files either.
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
                == ["tiny.gguf", "truncated.gguf", "text.gguf", "bad.safetensors", "noise.dat"])
    }

    /// Safetensors of no architecture llama.cpp knows: a GGUF of the same
    /// tensors under their own names, which the gguf package reads back.
    @Test func otherSafetensorsKeepTheirNames() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("mlp.safetensors").path
        let write = """
            import sys, numpy as np
            from safetensors.numpy import save_file
            rng = np.random.default_rng(3)
            save_file({"encoder.layer.weight": rng.standard_normal((64, 128)).astype(np.float32),
                       "encoder.layer.bias": rng.standard_normal(64).astype(np.float16),
                       "head.weight": (rng.standard_normal((8, 64)) * 0.1).astype(np.float16),
                       "codes": rng.integers(-100, 100, (4, 32)).astype(np.int8),
                       "mask": rng.integers(0, 255, 32).astype(np.uint8)}, sys.argv[1], metadata={"note": "test"})
            """
        let made = try Lossy.run(["python3", "-c", write, input], program: "/usr/bin/env")
        try #require(made.status == 0, "\(made.stderr)")
        let output = folder.appendingPathComponent("mlp.gguf").path
        let run = try Lossy.run(["quantize", input, "-o", output, "--type", "Q8_0"])
        try #require(run.status == 0, "\(run.stderr)")
        let check = """
            import sys, numpy as np, gguf
            from safetensors.numpy import load_file
            src = load_file(sys.argv[1])
            r = gguf.GGUFReader(sys.argv[2])
            assert r.fields["safetensors.note"].contents() == "test"
            for t in r.tensors:
                x = src[t.name].astype(np.float64)
                raw = np.array(t.data) if t.tensor_type == gguf.GGMLQuantizationType.I8 else None
                y = (raw if raw is not None else gguf.quants.dequantize(t.data, t.tensor_type)).astype(np.float64).reshape(x.shape)
                err = np.abs(x - y).max() / max(np.abs(x).max(), 1e-30)
                print(t.name, t.tensor_type.name, "x".join(str(int(d)) for d in t.shape), "exact" if err == 0 else f"{err:.4f}")
            """
        let back = try Lossy.run(["python3", "-c", check, input, output], program: "/usr/bin/env")
        try #require(back.status == 0, "\(back.stderr)")
        let lines = Set(back.stdout.split(separator: "\n").map(String.init))
        #expect(lines.contains("encoder.layer.bias F16 64 exact"), "\(back.stdout)")
        #expect(lines.contains("codes I8 32x4 exact"), "\(back.stdout)")
        #expect(lines.contains("mask F32 32 exact"), "\(back.stdout)")
        let quantized = lines.filter { $0.hasPrefix("encoder.layer.weight Q8_0 128x64 ") || $0.hasPrefix("head.weight Q8_0 64x8 ") }
        #expect(quantized.count == 2, "\(back.stdout)")
        for line in quantized { #expect((Double(line.split(separator: " ").last!) ?? 1) < 0.01, "\(line)") }
    }

    /// With --reference, the legacy formats' bytes are ggml's reference
    /// quantizer's: the gguf package's `quants.quantize` of the same weights
    /// gives them byte for byte.
    @Test(arguments: ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"])
    func referenceBytesEqualTheGGUFPackages(recipe: String) throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Self.tinyModel(in: folder)
        let output = folder.appendingPathComponent("reference.gguf").path
        let run = try Lossy.run(["quantize", model, "-o", output, "--type", recipe, "--pure", "--reference"])
        try #require(run.status == 0, "\(run.stderr)")
        let compare = """
            import sys, numpy as np, gguf
            src = {t.name: t for t in gguf.GGUFReader(sys.argv[1]).tensors}
            checked = 0
            for t in gguf.GGUFReader(sys.argv[2]).tensors:
                if t.tensor_type.name != sys.argv[3]:
                    continue
                x = np.array(src[t.name].data, dtype=np.float32)
                expected = gguf.quants.quantize(x, t.tensor_type)
                ours = np.array(t.data, dtype=np.uint8).reshape(expected.shape)
                if not np.array_equal(ours, expected):
                    rows = np.nonzero((ours != expected).any(axis=1))[0]
                    sys.exit(f"{t.name}: {rows.size} rows differ, first {rows[0]}")
                checked += 1
            print(checked)
            """
        let back = try Lossy.run(["python3", "-c", compare, model, output, recipe], program: "/usr/bin/env")
        try #require(back.status == 0, "\(back.stderr)")
        #expect(back.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "15", "\(back.stdout)")
    }
}
