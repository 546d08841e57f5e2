import Foundation
import Testing
import WeightCodec

/// Shared pieces of the file-format tests: a canonical text form of a GGUF
/// file that Swift and the Python referee both print, byte builders for
/// hostile files, and temporary files.
enum WeightFileTestSupport {
    /// A value as `type:payload`: integers in decimal, floats by bit pattern,
    /// strings as UTF-8 hex, arrays as `array:elementtype:[…]`. Python's
    /// `canon` below prints the same.
    static func canonical(_ value: GGUFValue) -> String {
        switch value {
        case let .uint8(v): "uint8:\(v)"
        case let .int8(v): "int8:\(v)"
        case let .uint16(v): "uint16:\(v)"
        case let .int16(v): "int16:\(v)"
        case let .uint32(v): "uint32:\(v)"
        case let .int32(v): "int32:\(v)"
        case let .uint64(v): "uint64:\(v)"
        case let .int64(v): "int64:\(v)"
        case let .bool(v): "bool:\(v ? 1 : 0)"
        case let .float32(v): "float32:" + hexDigits(UInt64(v.bitPattern), width: 8)
        case let .float64(v): "float64:" + hexDigits(v.bitPattern, width: 16)
        case let .string(v): "string:" + hex(Array(v.utf8))
        case let .array(a): "array:\(a.elementType):[" + a.values.map(canonical).joined(separator: ",") + "]"
        }
    }

    /// Version, alignment, every key and value in order, every tensor with its absolute offset and bytes.
    static func canonicalLines(version: UInt32, alignment: Int, metadata: GGUFMetadata,
                               tensors: [(info: GGUFTensorInfo, absoluteOffset: Int, bytes: [UInt8])]) -> [String] {
        var lines = ["version \(version)", "alignment \(alignment)"]
        lines += metadata.map { "kv \($0.key) " + canonical($0.value) }
        lines += tensors.map { tensor in
            ["tensor", tensor.info.name, tensor.info.shape.map(String.init).joined(separator: ","), typeName(tensor.info.type),
             String(tensor.absoluteOffset), String(tensor.bytes.count), hex(tensor.bytes)].joined(separator: " ")
        }
        return lines
    }

    static func canonicalLines(_ file: GGUFFile) -> [String] {
        canonicalLines(version: file.version, alignment: file.alignment, metadata: file.metadata,
                       tensors: file.tensors.map { ($0, file.dataOffset + $0.offset, Array(file.data(of: $0))) })
    }

    /// Python: `dump(path)` returns the same lines from `gguf.GGUFReader`,
    /// walking each field's parts (nested arrays included).
    static let pythonDump = """
    import sys, numpy as np
    from gguf import GGUFReader, GGUFValueType as T
    def canon(parts, i, vtype):
        name = vtype.name.lower()
        if vtype == T.STRING:
            return name + ':' + bytes(parts[i + 1]).hex(), i + 2
        if vtype == T.ARRAY:
            itype = T(int(parts[i][0])); n = int(parts[i + 1][0]); i += 2
            items = []
            for _ in range(n):
                s, i = canon(parts, i, itype); items.append(s)
            return name + ':' + itype.name.lower() + ':[' + ','.join(items) + ']', i
        v = parts[i]
        if vtype == T.FLOAT32: return name + ':' + format(int(v.view(np.uint32)[0]), '08x'), i + 1
        if vtype == T.FLOAT64: return name + ':' + format(int(v.view(np.uint64)[0]), '016x'), i + 1
        return name + ':' + str(int(v[0])), i + 1
    def dump(path):
        r = GGUFReader(path)
        out = ['version ' + str(int(r.fields['GGUF.version'].parts[0][0])), 'alignment ' + str(int(r.alignment))]
        for key, f in r.fields.items():
            if key.startswith('GGUF.'): continue
            s, end = canon(f.parts, 3, f.types[0])
            assert end == len(f.parts), key
            out.append('kv ' + key + ' ' + s)
        for t in r.tensors:
            out.append(' '.join(['tensor', t.name, ','.join(str(int(d)) for d in t.shape), t.tensor_type.name,
                                 str(int(t.data_offset)), str(int(t.n_bytes)), t.data.tobytes().hex()]))
        return out

    """

    /// gguf-py's names of the types these tests write (`GGMLType.name`
    /// recurses without end: it describes `self`, whose description is `name`).
    static func typeName(_ type: GGMLType) -> String {
        let names: [UInt32: String] = [0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0",
                                       10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 24: "I8", 26: "I32", 30: "BF16"]
        return names[type.rawValue] ?? "type \(type.rawValue)"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { hexDigits(UInt64($0), width: 2) }.joined()
    }

    static func hexDigits(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Deterministic pseudo-random bytes (SplitMix64).
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
    }

    /// A fresh temporary folder, removed when `body` returns.
    @discardableResult
    static func withTemporaryFolder<T>(_ body: (String) throws -> T) throws -> T {
        let folder = try PythonReferee.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        return try body(folder.path)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The error `body` throws, recorded as an issue when it throws none or another type.
    static func error(_ body: () throws -> Void) -> WeightFileError? {
        do {
            try body()
            Issue.record("expected a WeightFileError, got none")
            return nil
        } catch let error as WeightFileError {
            return error
        } catch {
            Issue.record("expected a WeightFileError, got \(error)")
            return nil
        }
    }
}

/// Little-endian bytes of GGUF pieces, for files built field by field.
struct GGUFBytes {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) {
        u64(UInt64(s.utf8.count))
        bytes += s.utf8
    }

    /// A metadata entry: key, type id, then `payload`.
    static func entry(_ key: String, type: UInt32, _ payload: (inout GGUFBytes) -> Void) -> [UInt8] {
        var b = GGUFBytes()
        b.string(key)
        b.u32(type)
        payload(&b)
        return b.bytes
    }

    static func stringEntry(_ key: String, _ value: String) -> [UInt8] { entry(key, type: 8) { $0.string(value) } }

    static func tensorInfo(_ name: String, dimensions: [UInt64], type: UInt32, offset: UInt64) -> [UInt8] {
        var b = GGUFBytes()
        b.string(name)
        b.u32(UInt32(dimensions.count))
        dimensions.forEach { b.u64($0) }
        b.u32(type)
        b.u64(offset)
        return b.bytes
    }
}

/// A small GGUF file laid out by hand, each field replaceable: by default
/// one metadata entry and two F32 tensors of 8 weights, "a" at 0, "b" at 32.
struct HandMadeGGUF {
    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var tensorCount: UInt64?
    var metadataCount: UInt64?
    var metadata: [[UInt8]] = [GGUFBytes.stringEntry("general.architecture", "test")]
    var tensors: [[UInt8]] = [
        GGUFBytes.tensorInfo("a", dimensions: [8], type: 0, offset: 0),
        GGUFBytes.tensorInfo("b", dimensions: [8], type: 0, offset: 32),
    ]
    var alignment = 32
    var dataSize = 64

    /// Bytes before the data section, unpadded.
    var headerSize: Int { 24 + metadata.map(\.count).reduce(0, +) + tensors.map(\.count).reduce(0, +) }
    var dataOffset: Int { (headerSize + alignment - 1) / alignment * alignment }

    var bytes: [UInt8] {
        var b = GGUFBytes()
        b.bytes = magic
        b.u32(version)
        b.u64(tensorCount ?? UInt64(tensors.count))
        b.u64(metadataCount ?? UInt64(metadata.count))
        metadata.forEach { b.bytes += $0 }
        tensors.forEach { b.bytes += $0 }
        b.bytes += [UInt8](repeating: 0, count: dataOffset - headerSize)
        b.bytes += WeightFileTestSupport.bytes(dataSize, seed: 7)
        return b.bytes
    }
}

/// A safetensors file by hand: 8-byte length, JSON text, data.
func handMadeSafetensors(json: String, data: [UInt8], headerLength: UInt64? = nil) -> [UInt8] {
    var b = GGUFBytes()
    let text = Array(json.utf8)
    b.u64(headerLength ?? UInt64(text.count))
    return b.bytes + text + data
}
