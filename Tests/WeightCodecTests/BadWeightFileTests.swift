import Foundation
import Testing
import WeightCodec

private typealias Support = WeightFileTestSupport

/// One hostile GGUF file, made from the valid hand-made one, and the error it must raise.
struct BadGGUF: Sendable, CustomTestStringConvertible {
    var name: String
    var file: HandMadeGGUF
    /// The expected error, given the file's size and data offset.
    var expected: @Sendable (_ fileSize: Int, _ dataOffset: Int) -> WeightFileError
    /// Text the message must contain (the numbers).
    var message: [String]

    var testDescription: String { name }

    init(_ name: String, message: [String] = [], edit: (inout HandMadeGGUF) -> Void,
         expected: @escaping @Sendable (_ fileSize: Int, _ dataOffset: Int) -> WeightFileError) {
        self.name = name
        var file = HandMadeGGUF()
        edit(&file)
        self.file = file
        self.expected = expected
        self.message = message
    }
}


private func entry(_ key: String, type: UInt32, _ payload: (inout GGUFBytes) -> Void) -> [UInt8] {
    GGUFBytes.entry(key, type: type, payload)
}

private func info(_ name: String, _ dimensions: [UInt64], type: UInt32 = 0, offset: UInt64 = 0) -> [UInt8] {
    GGUFBytes.tensorInfo(name, dimensions: dimensions, type: type, offset: offset)
}

/// Offsets: the header is 24 bytes, so a first entry with key "k" has its
/// type id at 33 and its value at 37.
let badGGUFs: [BadGGUF] = [
    BadGGUF("bad magic", message: ["47 47 55 47"], edit: { $0.magic = Array("GGUG".utf8) }) { _, _ in
        .badMagic(found: [0x47, 0x47, 0x55, 0x47]) },
    BadGGUF("version 1", message: ["version 1"], edit: { $0.version = 1 }) { _, _ in .unsupportedVersion(1) },
    BadGGUF("big-endian version 3", message: ["50331648", "byte-swapped"], edit: { $0.version = 3 << 24 }) { _, _ in
        .unsupportedVersion(3 << 24) },
    BadGGUF("2^63 tensors", message: ["9223372036854775808", "24 bytes"], edit: { $0.tensorCount = 1 << 63 }) { size, _ in
        .countTooLarge(field: "the tensor count", count: 1 << 63, remainingBytes: size - 24, minimumBytesEach: 24) },
    BadGGUF("2^63 metadata entries", message: ["9223372036854775808"], edit: { $0.metadataCount = 1 << 63 }) { size, _ in
        .countTooLarge(field: "the metadata count", count: 1 << 63, remainingBytes: size - 24, minimumBytesEach: 13) },
    BadGGUF("key of length 2^62", message: ["4611686018427387904", "offset 24"],
            edit: { $0.metadata = [{ var b = GGUFBytes(); b.u64(1 << 62); return b.bytes }()] }) { size, _ in
        .stringTooLong(field: "the key of metadata entry 0", length: 1 << 62, offset: 24, fileSize: size) },
    BadGGUF("string value past the end", message: ["offset 37"],
            edit: { $0.metadata = [entry("k", type: 8) { $0.u64(1 << 62) }] }) { size, _ in
        .stringTooLong(field: "the value of 'k'", length: 1 << 62, offset: 37, fileSize: size) },
    BadGGUF("key not UTF-8", message: ["offset 32"],
            edit: { $0.metadata = [{ var b = GGUFBytes(); b.u64(2); b.bytes += [0xFF, 0xFE]; b.u32(0); b.u8(0); return b.bytes }()] }) { _, _ in
        .invalidUTF8(field: "the key of metadata entry 0", offset: 32) },
    BadGGUF("unknown value type 13", message: ["13", "offset 33"], edit: { $0.metadata = [entry("k", type: 13) { $0.u32(0) }] }) { _, _ in
        .unknownValueType(key: "k", typeID: 13, offset: 33) },
    BadGGUF("unknown array element type 99", message: ["99"],
            edit: { $0.metadata = [entry("k", type: 9) { $0.u32(99); $0.u64(1) }] }) { _, _ in
        .unknownValueType(key: "k", typeID: 99, offset: 37) },
    BadGGUF("2^62 uint64 elements", message: ["4611686018427387904", "8 bytes"],
            edit: { $0.metadata = [entry("k", type: 9) { $0.u32(10); $0.u64(1 << 62) }] }) { size, _ in
        .countTooLarge(field: "the element count of array 'k'", count: 1 << 62, remainingBytes: size - 49, minimumBytesEach: 8) },
    BadGGUF("2^60 string elements", message: ["1152921504606846976"],
            edit: { $0.metadata = [entry("k", type: 9) { $0.u32(8); $0.u64(1 << 60) }] }) { size, _ in
        .countTooLarge(field: "the element count of array 'k'", count: 1 << 60, remainingBytes: size - 49, minimumBytesEach: 8) },
    BadGGUF("arrays nested 20 deep", message: ["8 levels"],
            edit: { $0.metadata = [entry("k", type: 9) { b in for _ in 0..<20 { b.u32(9); b.u64(1) }; b.u32(0); b.u64(0) }] }) { _, _ in
        .arrayTooDeep(key: "k", limit: 8) },
    BadGGUF("bool byte 2", message: ["bool byte 2"], edit: { $0.metadata = [entry("k", type: 7) { $0.u8(2) }] }) { _, _ in
        .invalidBool(key: "k", byte: 2, offset: 37) },
    BadGGUF("duplicate key", edit: { $0.metadata += $0.metadata }) { _, _ in .duplicateKey("general.architecture") },
    BadGGUF("alignment 0", message: ["uint32 0"], edit: { $0.metadata.append(entry("general.alignment", type: 4) { $0.u32(0) }) }) { _, _ in
        .badAlignment(found: "uint32 0") },
    BadGGUF("alignment 3", message: ["uint32 3"], edit: { $0.metadata.append(entry("general.alignment", type: 4) { $0.u32(3) }) }) { _, _ in
        .badAlignment(found: "uint32 3") },
    BadGGUF("alignment as int32", message: ["int32 64"],
            edit: { $0.metadata.append(entry("general.alignment", type: 5) { $0.u32(64) }) }) { _, _ in
        .badAlignment(found: "int32 64") },
    BadGGUF("tensor type 99", message: ["99"], edit: { $0.tensors[1] = info("b", [8], type: 99, offset: 32) }) { _, _ in
        .unknownTensorType(name: "b", typeID: 99) },
    BadGGUF("retired tensor type 4", message: ["type 4", "retired"], edit: { $0.tensors[0] = info("a", [32], type: 4) }) { _, _ in
        .retiredTensorType(name: "a", typeID: 4) },
    BadGGUF("5 dimensions", message: ["5 dimensions"], edit: { $0.tensors[0] = info("a", [2, 1, 1, 2, 2]) }) { _, _ in
        .tooManyDimensions(name: "a", count: 5, limit: 4) },
    BadGGUF("2^32-1 dimensions", message: ["4294967295"],
            edit: { $0.tensors[0] = { var b = GGUFBytes(); b.string("a"); b.u32(.max); return b.bytes }() }) { _, _ in
        .tooManyDimensions(name: "a", count: .max, limit: 4) },
    BadGGUF("zero dimension", message: ["dimension 1", "is 0"], edit: { $0.tensors[0] = info("a", [8, 0]) }) { _, _ in
        .badDimension(name: "a", index: 1, value: 0) },
    BadGGUF("negative dimension", message: ["-1"], edit: { $0.tensors[0] = info("a", [.max]) }) { _, _ in
        .badDimension(name: "a", index: 0, value: .max) },
    BadGGUF("element count overflows", message: ["4294967296"], edit: { $0.tensors[0] = info("a", [1 << 32, 1 << 32]) }) { _, _ in
        .sizeOverflow(name: "a", shape: [1 << 32, 1 << 32]) },
    BadGGUF("byte count overflows", edit: { $0.tensors[0] = info("a", [1 << 62]) }) { _, _ in
        .sizeOverflow(name: "a", shape: [1 << 62]) },
    BadGGUF("row not a whole block", message: ["row of 33 weights", "32-weight block of Q8_0"],
            edit: { $0.tensors[0] = info("a", [33], type: 8) }) { _, _ in
        .rowNotBlockMultiple(name: "a", rowLength: 33, type: .q8_0) },
    BadGGUF("duplicate tensor name", edit: { $0.tensors[1] = info("a", [8], offset: 32) }) { _, _ in .duplicateTensorName("a") },
    BadGGUF("misaligned offset", message: ["data offset 36", "32-byte"], edit: { $0.tensors[1] = info("b", [8], offset: 36) }) { _, _ in
        .misalignedTensor(name: "b", offset: 36, alignment: 32) },
    BadGGUF("offset past the end", message: ["32 bytes", "-byte file"], edit: { $0.tensors[1] = info("b", [8], offset: 4096) }) { size, data in
        .tensorOutOfBounds(name: "b", offset: UInt64(data + 4096), size: 32, fileSize: size) },
    BadGGUF("offset near 2^64", message: ["18446744073709551584"], edit: { $0.tensors[1] = info("b", [8], offset: 0 &- 32) }) { size, _ in
        .tensorOutOfBounds(name: "b", offset: 0 &- 32, size: 32, fileSize: size) },
    BadGGUF("data cut short", edit: { $0.dataSize = 40 }) { size, data in
        .tensorOutOfBounds(name: "b", offset: UInt64(data + 32), size: 32, fileSize: size) },
    BadGGUF("overlapping tensors", edit: { $0.tensors[0] = info("a", [16]) }) { _, data in
        .overlappingTensors(name: "b", offset: data + 32, other: "a", otherEnd: data + 64) },
]

struct BadWeightFileTests {
    static func parse(_ bytes: [UInt8], in folder: String, name: String = "bad.gguf") -> WeightFileError? {
        let path = folder + "/" + name
        do { try Support.write(bytes, to: path) } catch { Issue.record("\(error)"); return nil }
        return Support.error { _ = try GGUFFile(path: path) }
    }

    @Test(arguments: badGGUFs)
    func hostileGGUFIsRefused(_ bad: BadGGUF) throws {
        try Support.withTemporaryFolder { folder in
            let bytes = bad.file.bytes
            let error = Self.parse(bytes, in: folder)
            #expect(error == bad.expected(bytes.count, bad.file.dataOffset))
            for text in bad.message {
                #expect(error?.description.contains(text) == true, "'\(error?.description ?? "")' lacks '\(text)'")
            }
        }
    }

    @Test func theValidHandMadeFileParses() throws {
        try Support.withTemporaryFolder { folder in
            let path = folder + "/good.gguf"
            let good = HandMadeGGUF()
            try Support.write(good.bytes, to: path)
            let file = try GGUFFile(path: path)
            #expect(file.tensors.map(\.name) == ["a", "b"])
            #expect(file.dataOffset == good.dataOffset)
            var version2 = good
            version2.version = 2
            try Support.write(version2.bytes, to: path)
            #expect(try GGUFFile(path: path).version == 2)
        }
    }

    /// Every strict prefix of a valid file is refused with a layout error, never a crash.
    @Test func everyTruncationIsRefused() throws {
        try Support.withTemporaryFolder { folder in
            let bytes = HandMadeGGUF().bytes
            for length in 0..<bytes.count {
                let error = Self.parse(Array(bytes[..<length]), in: folder)
                switch error {
                case .truncated?, .countTooLarge?, .stringTooLong?, .tensorOutOfBounds?: break
                default: Issue.record("prefix of \(length) bytes: \(String(describing: error))")
                }
            }
            // At the boundaries of the fixed header, the field is named.
            let fields = [(0, "the magic \"GGUF\"", 4), (4, "the version", 4), (8, "the tensor count", 8), (16, "the metadata count", 8)]
            for (length, field, size) in fields {
                #expect(Self.parse(Array(bytes[..<length]), in: folder)
                    == .truncated(field: field, offset: length, size: size, fileSize: length))
            }
            #expect(Self.parse(Array(bytes[..<24]), in: folder)
                == .countTooLarge(field: "the metadata count", count: 1, remainingBytes: 0, minimumBytesEach: 13))
        }
    }

    @Test func messagesGiveTheNumbers() {
        #expect(WeightFileError.tensorOutOfBounds(name: "blk.0.attn_q.weight", offset: 123, size: 4096, fileSize: 2000).description
            == "tensor 'blk.0.attn_q.weight' at offset 123 with 4096 bytes runs past the end of the 2000-byte file")
        #expect(WeightFileError.rowNotBlockMultiple(name: "w", rowLength: 4095, type: .q4_0).description
            == "tensor 'w': row of 4095 weights is not a multiple of the 32-weight block of Q4_0")
        #expect(WeightFileError.inFile(path: "model-00002-of-00002.safetensors", error: .duplicateTensorName("x")).description
            == "model-00002-of-00002.safetensors: tensor name 'x' appears twice")
    }

    // MARK: safetensors

    struct BadSafetensors: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var expected: @Sendable (_ dataOffset: Int) -> WeightFileError?
        var testDescription: String { name }
    }

    static let u8Data = [UInt8](repeating: 1, count: 16)

    static func one(_ entry: String) -> String { "{\"w\":\(entry)}" }

    static let badSafetensors: [BadSafetensors] = [
        BadSafetensors(name: "shorter than the length", bytes: [1, 2, 3, 4, 5]) { _ in
            .truncated(field: "the safetensors header length", offset: 0, size: 8, fileSize: 5) },
        BadSafetensors(name: "header length past the end", bytes: handMadeSafetensors(json: "{}", data: [], headerLength: 1000)) { _ in
            .headerLengthPastEnd(length: 1000, fileSize: 10) },
        BadSafetensors(name: "header length 2^63", bytes: handMadeSafetensors(json: "{}", data: [], headerLength: 1 << 63)) { _ in
            .headerLengthPastEnd(length: 1 << 63, fileSize: 10) },
        BadSafetensors(name: "JSON garbage", bytes: handMadeSafetensors(json: "{not json", data: [])) { _ in nil },
        BadSafetensors(name: "JSON not an object", bytes: handMadeSafetensors(json: "[1, 2]", data: [])) { _ in nil },
        BadSafetensors(name: "missing dtype", bytes: handMadeSafetensors(json: one("{\"shape\":[1],\"data_offsets\":[0,1]}"), data: u8Data)) { _ in
            .missingField(tensor: "w", field: "dtype") },
        BadSafetensors(name: "missing data_offsets", bytes: handMadeSafetensors(json: one("{\"dtype\":\"U8\",\"shape\":[1]}"), data: u8Data)) { _ in
            .missingField(tensor: "w", field: "data_offsets") },
        BadSafetensors(name: "shape not a list", bytes: handMadeSafetensors(json: one("{\"dtype\":\"U8\",\"shape\":\"x\",\"data_offsets\":[0,1]}"), data: u8Data)) { _ in
            .badField(tensor: "w", field: "shape", reason: "must be a list of integers") },
        BadSafetensors(name: "entry not an object", bytes: handMadeSafetensors(json: one("5"), data: u8Data)) { _ in
            .badField(tensor: "w", field: "w", reason: "is not a JSON object") },
        BadSafetensors(name: "metadata not strings", bytes: handMadeSafetensors(json: "{\"__metadata__\":{\"n\":1}}", data: [])) { _ in
            .badField(tensor: "__metadata__", field: "__metadata__", reason: "must be an object of strings") },
        BadSafetensors(name: "unknown dtype", bytes: handMadeSafetensors(json: one("{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}"), data: u8Data)) { _ in
            .unknownDType(tensor: "w", dtype: "F128") },
        BadSafetensors(name: "negative dimension", bytes: handMadeSafetensors(json: one("{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}"), data: u8Data)) { _ in
            .badField(tensor: "w", field: "shape", reason: "has a negative dimension: [-1]") },
        BadSafetensors(name: "offsets reversed", bytes: handMadeSafetensors(json: one("{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[8,4]}"), data: u8Data)) { _ in
            .badField(tensor: "w", field: "data_offsets", reason: "must be [begin, end] with 0 ≤ begin ≤ end, not [8, 4]") },
        BadSafetensors(name: "offset beyond 2^64", bytes: handMadeSafetensors(json: one("{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,100000000000000000000]}"), data: u8Data)) { _ in
            .badField(tensor: "w", field: "data_offsets", reason: "must be a list of two integers") },
        BadSafetensors(name: "dtype size mismatch", bytes: handMadeSafetensors(json: one("{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}"), data: u8Data + u8Data)) { _ in
            .dataSizeMismatch(tensor: "w", dtype: "F32", shape: [2, 3], expected: 24, actual: 20) },
        BadSafetensors(name: "shape overflows", bytes: handMadeSafetensors(json: one("{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,16]}"), data: u8Data)) { _ in
            .sizeOverflow(name: "w", shape: [1 << 62, 4]) },
        BadSafetensors(name: "data out of bounds", bytes: handMadeSafetensors(json: one("{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}"), data: u8Data)) { _ in
            .dataOutOfBounds(tensor: "w", begin: 0, end: 32, dataSize: 16) },
        BadSafetensors(name: "duplicate tensor name",
                       bytes: handMadeSafetensors(json: "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", data: u8Data)) { _ in
            .duplicateTensorName("w") },
        BadSafetensors(name: "one name escaped two ways",
                       bytes: handMadeSafetensors(json: "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"\\u0077\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", data: u8Data)) { _ in
            .duplicateTensorName("(one name written with two escapings)") },
        BadSafetensors(name: "overlapping offsets",
                       bytes: handMadeSafetensors(json: "{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"I8\",\"shape\":[2,4],\"data_offsets\":[4,12]}}", data: u8Data)) { data in
            .overlappingTensors(name: "b", offset: data + 4, other: "a", otherEnd: data + 8) },
    ]

    @Test(arguments: badSafetensors)
    func hostileSafetensorsIsRefused(_ bad: BadSafetensors) throws {
        try Support.withTemporaryFolder { folder in
            let path = folder + "/bad.safetensors"
            try Support.write(bad.bytes, to: path)
            let error = Support.error { _ = try SafetensorsFile(path: path) }
            let headerLength = bad.bytes.count >= 8 ? Int(bad.bytes[0]) | Int(bad.bytes[1]) << 8 : 0
            if let expected = bad.expected(8 + headerLength) {
                #expect(error == expected)
            } else {
                guard case let .invalidJSON(file, _)? = error else { Issue.record("not invalidJSON: \(String(describing: error))"); return }
                #expect(file.contains(path))
            }
        }
    }

    /// A header over 100 MB in a file large enough to hold it (sparse, so nothing is written).
    @Test func headerOverTheLimit() throws {
        try Support.withTemporaryFolder { folder in
            let path = folder + "/huge.safetensors"
            try Support.write(handMadeSafetensors(json: "", data: [], headerLength: 100_000_001), to: path)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: 100_000_100)
            try handle.close()
            #expect(throws: WeightFileError.headerTooLarge(length: 100_000_001, limit: 100_000_000)) {
                try SafetensorsFile(path: path)
            }
        }
    }

    // MARK: Sharded checkpoints

    static func shard(_ names: [String]) -> [UInt8] {
        let entries = names.enumerated().map { "\"\($1)\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[\(2 * $0),\(2 * $0 + 2)]}" }
        return handMadeSafetensors(json: "{" + entries.joined(separator: ",") + "}", data: [UInt8](repeating: 9, count: 2 * names.count))
    }

    /// Writes shards and an index; returns the error opening the folder.
    static func openCheckpoint(shards: [String: [String]], index: String) throws -> (WeightFileError?, folder: String) {
        try Support.withTemporaryFolder { folder in
            for (file, names) in shards { try Support.write(shard(names), to: folder + "/" + file) }
            try Support.write(Array(index.utf8), to: folder + "/model.safetensors.index.json")
            return (Support.error { _ = try SafetensorsCheckpoint(path: folder) }, folder)
        }
    }

    static func index(_ map: [(String, String)]) -> String {
        "{\"metadata\":{\"total_size\":8},\"weight_map\":{" + map.map { "\"\($0)\":\"\($1)\"" }.joined(separator: ",") + "}}"
    }

    @Test func shardIndexProblems() throws {
        let one = "model-00001-of-00002.safetensors", two = "model-00002-of-00002.safetensors"
        let (missing, folder) = try Self.openCheckpoint(shards: [one: ["a"]], index: Self.index([("a", one), ("b", two)]))
        #expect(missing == .missingShard(shard: two, tensor: "b", index: folder + "/model.safetensors.index.json"))

        let (notInShard, _) = try Self.openCheckpoint(shards: [one: ["a"], two: ["b"]], index: Self.index([("a", one), ("b", one)]))
        #expect(notInShard == .tensorNotInShard(tensor: "b", shard: one))

        let (twice, _) = try Self.openCheckpoint(shards: [one: ["a", "b"], two: ["b"]], index: Self.index([("a", one), ("b", two)]))
        #expect(twice == .duplicateTensorAcrossShards(tensor: "b", shard: one, otherShard: two))

        let (unlisted, _) = try Self.openCheckpoint(shards: [one: ["a", "c"]], index: Self.index([("a", one)]))
        #expect(unlisted == .tensorNotInIndex(tensor: "c", shard: one))

        let (escape, _) = try Self.openCheckpoint(shards: [:], index: Self.index([("a", "../etc/x.safetensors")]))
        #expect(escape == .badShardName("../etc/x.safetensors"))

        let (garbage, _) = try Self.openCheckpoint(shards: [:], index: "{\"weight_map\": [")
        guard case .invalidJSON? = garbage else { Issue.record("\(String(describing: garbage))"); return }

        let (noMap, _) = try Self.openCheckpoint(shards: [:], index: "{\"metadata\": {}}")
        #expect(noMap?.description.contains("no 'weight_map'") == true)

        let (brokenShard, _) = try Self.openCheckpoint(shards: [one: []], index: Self.index([("a", one)]))
        #expect(brokenShard == .tensorNotInShard(tensor: "a", shard: one))
    }

    @Test func aBrokenShardIsNamed() throws {
        try Support.withTemporaryFolder { folder in
            let one = "model-00001-of-00001.safetensors"
            try Support.write(handMadeSafetensors(json: "{", data: []), to: folder + "/" + one)
            try Support.write(Array(Self.index([("a", one)]).utf8), to: folder + "/model.safetensors.index.json")
            let error = Support.error { _ = try SafetensorsCheckpoint(path: folder + "/model.safetensors.index.json") }
            guard case let .inFile(path, inner)? = error, case .invalidJSON = inner else {
                Issue.record("\(String(describing: error))"); return
            }
            #expect(path == one)
            #expect(error?.description.hasPrefix(one + ": ") == true)
        }
    }

    @Test func emptyFolderIsNoCheckpoint() throws {
        try Support.withTemporaryFolder { folder in
            #expect(throws: WeightFileError.noCheckpoint(directory: folder)) { try SafetensorsCheckpoint(path: folder) }
        }
    }
}
