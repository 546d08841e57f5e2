import Foundation

/// Per input column of each weight matrix, the mean square of the
/// activations it multiplies, E[x²]: how much an error in that column
/// moves the layer's output. It is the tolerance's inverse in the core's
/// terms: the block formats minimise Σ E[x²]·(w − ŵ)².
///
/// Read from llama.cpp's two formats (`llama-imatrix` writes both):
/// - GGUF (`general.type` = "imatrix"): for each matrix W, a tensor
///   "W.in_sum2" of Σx² per column (one row per expert) and "W.counts"
///   with the number of activations summed per expert; E[x²] = in_sum2/count
///   (1 where the count is 0, as llama-quantize does).
/// - the legacy `.dat`: int32 entry count, then per entry an int32 name
///   length, the name, int32 call count, int32 value count and the float
///   values (sums scaled to calls); E[x²] = value/calls. A trailing chunk
///   count and dataset name may follow.
public struct ImportanceMatrix: Sendable {
    /// E[x²] per tensor name: `columns` values per expert, experts in order.
    public private(set) var entries: [String: [Float]]

    public init(entries: [String: [Float]]) {
        self.entries = entries
    }

    /// The importance of `tensor`'s columns, for a row length of `columns`
    /// (expert `expert` of a 3-D tensor), or nil when the matrix has none.
    public func columns(of tensor: String, count columns: Int, expert: Int = 0) throws(ImportanceMatrixError) -> ArraySlice<Float>? {
        guard let values = entries[tensor] else { return nil }
        guard columns > 0, values.count % columns == 0 else {
            throw .sizeMismatch(tensor: tensor, values: values.count, columns: columns)
        }
        let start = expert * columns
        guard start + columns <= values.count else {
            throw .sizeMismatch(tensor: tensor, values: values.count, columns: columns)
        }
        return values[start..<(start + columns)]
    }

    /// Checks every entry naming one of `tensors` against its row length, so
    /// a matrix made for another model fails before anything is planned.
    public func check(against tensors: [GGUFTensorInfo]) throws(ImportanceMatrixError) {
        for info in tensors where entries[info.name] != nil && !info.shape.isEmpty {
            _ = try columns(of: info.name, count: info.shape[0])
        }
    }

    /// Reads either format, told apart by the GGUF magic.
    public static func load(path: String) throws -> ImportanceMatrix {
        let file = try MappedFile(path: path)
        if GGUFFile.hasMagic(file.bytes) {
            return try ImportanceMatrix(gguf: try GGUFFile(mapping: file), path: path)
        }
        return try ImportanceMatrix(legacy: file.bytes, path: path)
    }

    init(gguf file: GGUFFile, path: String) throws(ImportanceMatrixError) {
        var sums: [String: GGUFTensorInfo] = [:]
        var counts: [String: GGUFTensorInfo] = [:]
        for tensor in file.tensors {
            if tensor.name.hasSuffix(".in_sum2") { sums[String(tensor.name.dropLast(8))] = tensor }
            else if tensor.name.hasSuffix(".counts") { counts[String(tensor.name.dropLast(7))] = tensor }
        }
        guard !sums.isEmpty else { throw .notAnImportanceMatrix(path: path) }
        var entries: [String: [Float]] = [:]
        for (name, sum) in sums {
            guard let count = counts[name] else { throw .missingCounts(tensor: name) }
            guard sum.type == .f32, count.type == .f32 else { throw .notFloat(tensor: name) }
            let columns = sum.shape[0]
            let experts = sum.elementCount / max(columns, 1)
            guard count.elementCount == experts else {
                throw .sizeMismatch(tensor: name, values: count.elementCount, columns: experts)
            }
            let sumBytes = file.data(of: sum), countBytes = file.data(of: count)
            var values = [Float](repeating: 1, count: sum.elementCount)
            for expert in 0..<experts {
                let calls = countBytes.f32(at: 4 * expert)
                guard calls > 0 else { continue }
                for column in 0..<columns {
                    let index = expert * columns + column
                    values[index] = sumBytes.f32(at: 4 * index) / calls
                }
            }
            guard values.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw .nonFinite(tensor: name) }
            entries[name] = values
        }
        self.init(entries: entries)
    }

    init(legacy bytes: UnsafeRawBufferPointer, path: String) throws(ImportanceMatrixError) {
        var reader = LegacyReader(bytes: bytes)
        let entryCount = try reader.int32()
        // Each entry takes at least 12 bytes: a count that cannot fit is no imatrix.
        guard entryCount > 0, entryCount <= (bytes.count - 4) / 12 else {
            throw .notAnImportanceMatrix(path: path)
        }
        var entries: [String: [Float]] = [:]
        for _ in 0..<entryCount {
            let nameLength = try reader.int32()
            guard nameLength > 0, nameLength <= 4096 else { throw .truncated(offset: reader.offset) }
            let name = try reader.string(length: nameLength)
            let calls = try reader.int32()
            let valueCount = try reader.int32()
            guard calls >= 0, valueCount > 0, valueCount <= reader.remaining / 4 else {
                throw .truncated(offset: reader.offset)
            }
            var values = [Float](repeating: 0, count: valueCount)
            for i in 0..<valueCount {
                let sum = try reader.float()
                values[i] = calls > 0 ? sum / Float(calls) : sum
            }
            guard values.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw .nonFinite(tensor: name) }
            guard entries.updateValue(values, forKey: name) == nil else { throw .duplicate(tensor: name) }
        }
        self.init(entries: entries)
    }

    private struct LegacyReader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0
        var remaining: Int { bytes.count - offset }

        mutating func int32() throws(ImportanceMatrixError) -> Int {
            guard remaining >= 4 else { throw .truncated(offset: offset) }
            defer { offset += 4 }
            return Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
        }

        mutating func float() throws(ImportanceMatrixError) -> Float {
            guard remaining >= 4 else { throw .truncated(offset: offset) }
            defer { offset += 4 }
            return bytes.f32(at: offset)
        }

        mutating func string(length: Int) throws(ImportanceMatrixError) -> String {
            guard remaining >= length else { throw .truncated(offset: offset) }
            defer { offset += length }
            return String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
        }
    }
}

public enum ImportanceMatrixError: Error, Equatable, CustomStringConvertible {
    case notAnImportanceMatrix(path: String)
    case truncated(offset: Int)
    case missingCounts(tensor: String)
    case notFloat(tensor: String)
    case nonFinite(tensor: String)
    case duplicate(tensor: String)
    case sizeMismatch(tensor: String, values: Int, columns: Int)

    public var description: String {
        switch self {
        case let .notAnImportanceMatrix(path):
            return "\(path) is not an importance matrix (neither a GGUF imatrix nor llama.cpp's legacy .dat)"
        case let .truncated(offset): return "importance matrix ends early, at byte \(offset)"
        case let .missingCounts(tensor): return "importance matrix has \(tensor).in_sum2 but no \(tensor).counts"
        case let .notFloat(tensor): return "importance matrix entries of \(tensor) are not F32"
        case let .nonFinite(tensor): return "importance matrix has a negative or non-finite value for \(tensor)"
        case let .duplicate(tensor): return "importance matrix names \(tensor) twice"
        case let .sizeMismatch(tensor, values, columns):
            return "importance matrix has \(values) values for \(tensor), not a multiple of its \(columns) columns"
        }
    }
}
