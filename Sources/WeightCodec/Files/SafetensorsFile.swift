import Foundation

/// A tensor as a safetensors header describes it.
public struct SafetensorsTensorInfo: Sendable, Hashable {
    public var name: String
    public var dtype: SafetensorsDType
    /// Row-major (numpy) order, outermost first: a linear layer of 4096
    /// inputs and 11008 outputs is [11008, 4096]. Empty for a scalar.
    public var shape: [Int]
    /// Byte range in the data section (which starts after the JSON header).
    public var dataOffsets: Range<Int>

    public init(name: String, dtype: SafetensorsDType, shape: [Int], dataOffsets: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { dataOffsets.count }
    /// The shape in ggml order (ne0, the row length, first), as GGUF stores it.
    public var ggmlShape: [Int] { shape.reversed() }

    /// The weight element type; nil for dtypes the front end does not convert.
    public var dataType: TensorDataType? { dtype.dataType }

    /// The weight element type, or the error naming the unsupported dtype.
    public func requireDataType() throws(WeightFileError) -> TensorDataType {
        guard let type = dtype.dataType else { throw .unsupportedDType(tensor: name, dtype: dtype.rawValue) }
        return type
    }
}

/// A .safetensors file, memory-mapped and checked.
///
/// Layout (huggingface/safetensors): a little-endian uint64 header length
/// N, N bytes of JSON `{"__metadata__": {string: string}, name: {"dtype":
/// "F16", "shape": [..], "data_offsets": [begin, end]}, …}`, then the data
/// section, offsets relative to its start.
///
/// The header length is checked against the file and a 100 MB limit before
/// the JSON is parsed; every tensor's size must equal dtype × shape (with
/// overflow-checked products), lie inside the data section and overlap no
/// other. Tensors are kept in data-offset order.
public struct SafetensorsFile: Sendable {
    /// The reference implementation's limit on the JSON header.
    public static let maximumHeaderSize = 100_000_000

    public let mapping: MappedFile
    public let metadata: [String: String]
    /// In data-offset order.
    public let tensors: [SafetensorsTensorInfo]
    /// Absolute offset of the data section: 8 + the header length.
    public let dataOffset: Int
    private let indexOfTensor: [String: Int]

    public var path: String { mapping.path }

    public init(path: String) throws(WeightFileError) {
        try self.init(mapping: MappedFile(path: path))
    }

    public init(mapping: MappedFile) throws(WeightFileError) {
        self.mapping = mapping
        var reader = ByteReader(mapping.bytes)
        let length = try reader.read(UInt64.self, "the safetensors header length")
        guard length <= UInt64(reader.remaining) else { throw .headerLengthPastEnd(length: length, fileSize: mapping.count) }
        guard length <= UInt64(Self.maximumHeaderSize) else { throw .headerTooLarge(length: length, limit: Self.maximumHeaderSize) }
        let json = try reader.readBytes(Int(length), "the safetensors header")
        dataOffset = reader.offset
        let dataSize = mapping.count - dataOffset

        let header: SafetensorsHeader
        do {
            header = try JSONDecoder().decode(SafetensorsHeader.self, from: Data(json))
        } catch let error as WeightFileError {
            if case let .invalidJSON(_, reason) = error {
                throw .invalidJSON(file: "the safetensors header of '\(mapping.path)'", reason: reason)
            }
            throw error
        } catch {
            throw .invalidJSON(file: "the safetensors header of '\(mapping.path)'", reason: JSONFailure.reason(error))
        }
        metadata = header.metadata
        try Self.checkUniqueKeys(json, decodedCount: header.keyCount)

        let tensors = header.tensors.sorted { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
            < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name) }
        var previous: SafetensorsTensorInfo?
        for tensor in tensors {
            guard tensor.dataOffsets.upperBound <= dataSize else {
                throw .dataOutOfBounds(tensor: tensor.name, begin: tensor.dataOffsets.lowerBound,
                                       end: tensor.dataOffsets.upperBound, dataSize: dataSize)
            }
            guard !tensor.dataOffsets.isEmpty else { continue }
            if let previous, tensor.dataOffsets.lowerBound < previous.dataOffsets.upperBound {
                throw .overlappingTensors(name: tensor.name, offset: dataOffset + tensor.dataOffsets.lowerBound,
                                          other: previous.name, otherEnd: dataOffset + previous.dataOffsets.upperBound)
            }
            previous = tensor
        }
        var indexOfTensor: [String: Int] = [:]
        for (index, tensor) in tensors.enumerated() {
            guard indexOfTensor.updateValue(index, forKey: tensor.name) == nil else { throw .duplicateTensorName(tensor.name) }
        }
        self.tensors = tensors
        self.indexOfTensor = indexOfTensor
    }

    public func tensor(named name: String) -> SafetensorsTensorInfo? { indexOfTensor[name].map { tensors[$0] } }

    /// The bytes of `tensor`, a view into the mapping (no copy), valid while
    /// this file (its `mapping`) is alive.
    public func data(of tensor: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        precondition(indexOfTensor[tensor.name].map { tensors[$0] } == tensor, "tensor '\(tensor.name)' is not one of this file's")
        return mapping.slice(dataOffset + tensor.dataOffsets.lowerBound..<dataOffset + tensor.dataOffsets.upperBound)
    }

    /// JSONDecoder keeps one of two equal keys and says nothing; other
    /// readers may keep the other. A file that two readers would see
    /// differently is refused.
    static func checkUniqueKeys(_ json: UnsafeRawBufferPointer, decodedCount: Int) throws(WeightFileError) {
        let keys = SafetensorsHeader.rawTopLevelKeys(json)
        guard keys.count != decodedCount else { return }
        var seen = Set<[UInt8]>()
        let repeated = keys.first { !seen.insert($0).inserted }
        throw .duplicateTensorName(repeated.map { String(decoding: $0, as: UTF8.self) } ?? "(one name written with two escapings)")
    }
}

/// The JSON header: `__metadata__` and the tensor entries, checked field by
/// field so that each problem names its tensor and field.
struct SafetensorsHeader: Decodable {
    var metadata: [String: String] = [:]
    var tensors: [SafetensorsTensorInfo] = []
    /// Keys the decoder saw, `__metadata__` included.
    var keyCount = 0

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container: KeyedDecodingContainer<Key>
        do {
            container = try decoder.container(keyedBy: Key.self)
        } catch {
            throw WeightFileError.invalidJSON(file: "the safetensors header", reason: "it is not a JSON object")
        }
        keyCount = container.allKeys.count
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                guard let metadata = try? container.decode([String: String].self, forKey: key) else {
                    throw WeightFileError.badField(tensor: "__metadata__", field: "__metadata__",
                                                   reason: "must be an object of strings")
                }
                self.metadata = metadata
            } else {
                tensors.append(try Self.tensor(named: key.stringValue, in: container, at: key))
            }
        }
    }

    /// The keys of the top-level object as written (escapes left as they
    /// are), in order. Only for JSON the decoder has already accepted.
    static func rawTopLevelKeys(_ json: UnsafeRawBufferPointer) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        var depth = 0, index = 0, expectingKey = false
        while index < json.count {
            switch json[index] {
            case UInt8(ascii: "{"):
                depth += 1
                if depth == 1 { expectingKey = true }
            case UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectingKey = true }
            case UInt8(ascii: "\""):
                let start = index + 1
                index += 1
                while index < json.count, json[index] != UInt8(ascii: "\"") {
                    index += json[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if depth == 1, expectingKey {
                    keys.append(Array(json[start..<min(index, json.count)]))
                    expectingKey = false
                }
            default: break
            }
            index += 1
        }
        return keys
    }

    private static func tensor(named name: String, in container: KeyedDecodingContainer<Key>, at key: Key)
        throws(WeightFileError) -> SafetensorsTensorInfo
    {
        guard let entry = try? container.nestedContainer(keyedBy: Key.self, forKey: key) else {
            throw .badField(tensor: name, field: name, reason: "is not a JSON object")
        }
        func field<T: Decodable>(_ field: String, _: T.Type, expected: String) throws(WeightFileError) -> T {
            let key = Key(stringValue: field)
            guard entry.contains(key) else { throw .missingField(tensor: name, field: field) }
            guard let value = try? entry.decode(T.self, forKey: key) else {
                throw .badField(tensor: name, field: field, reason: "must be \(expected)")
            }
            return value
        }
        let dtypeName = try field("dtype", String.self, expected: "a string")
        let shape = try field("shape", [Int].self, expected: "a list of integers")
        let offsets = try field("data_offsets", [Int].self, expected: "a list of two integers")
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else { throw .unknownDType(tensor: name, dtype: dtypeName) }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .badField(tensor: name, field: "shape", reason: "has a negative dimension: \(shape)")
        }
        guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
            throw .badField(tensor: name, field: "data_offsets", reason: "must be [begin, end] with 0 ≤ begin ≤ end, not \(offsets)")
        }
        var bytes = dtype.byteWidth
        for dimension in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .sizeOverflow(name: name, shape: shape.map { UInt64($0) }) }
            bytes = product
        }
        guard bytes == offsets[1] - offsets[0] else {
            throw .dataSizeMismatch(tensor: name, dtype: dtypeName, shape: shape, expected: bytes, actual: offsets[1] - offsets[0])
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
    }
}
