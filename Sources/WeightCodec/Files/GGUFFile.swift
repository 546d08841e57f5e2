/// A GGUF file (versions 2 and 3, little-endian), memory-mapped and checked.
///
/// Layout (llama.cpp `gguf.cpp`, ggml `docs/gguf.md`):
///
///     "GGUF" · uint32 version · uint64 tensor count · uint64 metadata count
///     metadata: string key · uint32 value type · value            (× count)
///     tensor infos: string name · uint32 n_dims · uint64 ne[n_dims]
///                   · uint32 ggml type · uint64 offset             (× count)
///     padding to `general.alignment` (default 32)
///     data section: each tensor at its offset, itself aligned
///
/// where a string is a uint64 byte length and UTF-8 bytes, and an array is a
/// uint32 element type, a uint64 count and the elements.
///
/// Every number read is checked before it is used: counts against the bytes
/// left in the file (so a count of 2^63 is refused before anything is
/// allocated), sizes with overflow-checked arithmetic, and every tensor's
/// bytes against the end of the file and the other tensors.
public struct GGUFFile: Sendable {
    public static let defaultAlignment = 32
    /// Deepest nesting of arrays of arrays accepted.
    public static let maximumArrayDepth = 8
    static let magic: [UInt8] = Array("GGUF".utf8)

    /// Whether `bytes` start with the GGUF magic: how every reader that takes
    /// either GGUF or another format tells them apart.
    public static func hasMagic(_ bytes: some Collection<UInt8>) -> Bool { bytes.starts(with: magic) }

    public let mapping: MappedFile
    public let version: UInt32
    public let metadata: GGUFMetadata
    /// Tensors in the order of their infos in the file.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataOffset: Int
    private let indexOfTensor: [String: Int]

    public init(path: String) throws(WeightFileError) {
        try self.init(mapping: MappedFile(path: path))
    }

    public init(mapping: MappedFile) throws(WeightFileError) {
        self.mapping = mapping
        var reader = ByteReader(mapping.bytes)
        let magic = try reader.readBytes(4, "the magic \"GGUF\"")
        guard magic.elementsEqual(Self.magic) else { throw .badMagic(found: Array(magic)) }
        version = try reader.read(UInt32.self, "the version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        let tensorCount = try reader.read(UInt64.self, "the tensor count")
        let metadataCount = try reader.read(UInt64.self, "the metadata count")
        // Smallest entry: empty key (8), type (4), one-byte value.
        let entries = try reader.checkedCount(metadataCount, minimumBytes: 13, "the metadata count")
        // An absurd tensor count is refused before any metadata is read, and
        // checked again below against what the metadata leaves.
        _ = try reader.checkedCount(tensorCount, minimumBytes: Self.minimumTensorInfoSize, "the tensor count")

        metadata = try Self.readMetadata(&reader, count: entries)
        alignment = try Self.alignment(of: metadata)

        let count = try reader.checkedCount(tensorCount, minimumBytes: Self.minimumTensorInfoSize, "the tensor count")
        var infos: [GGUFTensorInfo] = []
        var byteCounts: [Int] = []
        var indexOfTensor: [String: Int] = [:]
        infos.reserveCapacity(min(count, 1 << 16))
        byteCounts.reserveCapacity(min(count, 1 << 16))
        for index in 0..<count {
            let (info, bytes) = try Self.readTensorInfo(&reader, index: index, alignment: alignment)
            guard indexOfTensor.updateValue(index, forKey: info.name) == nil else { throw .duplicateTensorName(info.name) }
            infos.append(info)
            byteCounts.append(bytes)
        }
        let (padded, overflow) = reader.offset.addingReportingOverflow(alignment - 1)
        guard !overflow else {
            throw .truncated(field: "the data section", offset: reader.offset, size: alignment, fileSize: mapping.count)
        }
        dataOffset = padded / alignment * alignment
        tensors = infos
        self.indexOfTensor = indexOfTensor
        try Self.checkPlacement(infos, byteCounts: byteCounts, dataOffset: dataOffset, fileSize: mapping.count)
    }

    /// The value of metadata `key`.
    public subscript(key: String) -> GGUFValue? { metadata[key] }

    public func tensor(named name: String) -> GGUFTensorInfo? { indexOfTensor[name].map { tensors[$0] } }

    /// The bytes of `tensor`, a view into the mapping (no copy), valid while
    /// this file (its `mapping`) is alive.
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(indexOfTensor[tensor.name].map { tensors[$0] } == tensor, "tensor '\(tensor.name)' is not one of this file's")
        let start = dataOffset + tensor.offset
        return mapping.slice(start..<start + tensor.byteCount)
    }

    // MARK: Parsing

    /// Name length (8), n_dims (4), type (4), offset (8), with no name and no dimensions.
    static let minimumTensorInfoSize = 24

    private static func readMetadata(_ reader: inout ByteReader, count: Int) throws(WeightFileError) -> GGUFMetadata {
        var metadata = GGUFMetadata()
        for index in 0..<count {
            let key = try reader.readString("the key of metadata entry \(index)")
            let typeOffset = reader.offset
            let typeID = try reader.read(UInt32.self, "the value type of '\(key)'")
            let value = try readValue(&reader, typeID: typeID, at: typeOffset, key: key, depth: 0)
            guard metadata.appendIfNew(GGUFKeyValue(key: key, value: value)) else { throw .duplicateKey(key) }
        }
        return metadata
    }

    /// One value of type `typeID` (read at `offset`), without its type id.
    private static func readValue(_ reader: inout ByteReader, typeID: UInt32, at offset: Int, key: String, depth: Int)
        throws(WeightFileError) -> GGUFValue
    {
        guard let type = GGUFValueType(rawValue: typeID) else {
            throw .unknownValueType(key: key, typeID: typeID, offset: offset)
        }
        func field() -> String { "the value of '\(key)'" }
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self, field()))
        case .int8: return .int8(try reader.read(Int8.self, field()))
        case .uint16: return .uint16(try reader.read(UInt16.self, field()))
        case .int16: return .int16(try reader.read(Int16.self, field()))
        case .uint32: return .uint32(try reader.read(UInt32.self, field()))
        case .int32: return .int32(try reader.read(Int32.self, field()))
        case .float32: return .float32(Float(bitPattern: try reader.read(UInt32.self, field())))
        case .uint64: return .uint64(try reader.read(UInt64.self, field()))
        case .int64: return .int64(try reader.read(Int64.self, field()))
        case .float64: return .float64(Double(bitPattern: try reader.read(UInt64.self, field())))
        case .bool:
            let byteOffset = reader.offset
            let byte = try reader.read(UInt8.self, field())
            guard byte <= 1 else { throw .invalidBool(key: key, byte: byte, offset: byteOffset) }
            return .bool(byte == 1)
        case .string: return .string(try reader.readString(field()))
        case .array:
            guard depth < maximumArrayDepth else { throw .arrayTooDeep(key: key, limit: maximumArrayDepth) }
            let elementOffset = reader.offset
            let elementID = try reader.read(UInt32.self, "the element type of array '\(key)'")
            guard let elementType = GGUFValueType(rawValue: elementID) else {
                throw .unknownValueType(key: key, typeID: elementID, offset: elementOffset)
            }
            let rawCount = try reader.read(UInt64.self, "the element count of array '\(key)'")
            let count = try reader.checkedCount(rawCount, minimumBytes: elementType.minimumSize,
                                                "the element count of array '\(key)'")
            var values: [GGUFValue] = []
            // Counts are bounded by the bytes left, but a value takes more
            // memory than its bytes; grow with what is actually read.
            values.reserveCapacity(min(count, 1 << 16))
            for _ in 0..<count {
                values.append(try readValue(&reader, typeID: elementID, at: elementOffset, key: key, depth: depth + 1))
            }
            return .array(GGUFArray(checkedElementType: elementType, values: values))
        }
    }

    /// `general.alignment` when present: a uint32 power of two (llama.cpp reads it as uint32).
    static func alignment(of metadata: GGUFMetadata) throws(WeightFileError) -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard case let .uint32(alignment) = value, alignment > 0, alignment & (alignment - 1) == 0 else {
            throw .badAlignment(found: value.description)
        }
        return Int(alignment)
    }

    private static func readTensorInfo(_ reader: inout ByteReader, index: Int, alignment: Int)
        throws(WeightFileError) -> (GGUFTensorInfo, byteCount: Int)
    {
        let name = try reader.readString("the name of tensor \(index)")
        let dimensionCount = try reader.read(UInt32.self, "the dimension count of '\(name)'")
        guard dimensionCount <= UInt32(GGUFTensorInfo.maximumDimensions) else {
            throw .tooManyDimensions(name: name, count: dimensionCount, limit: GGUFTensorInfo.maximumDimensions)
        }
        var dimensions: [UInt64] = []
        for axis in 0..<Int(dimensionCount) {
            dimensions.append(try reader.read(UInt64.self, "dimension \(axis) of '\(name)'"))
        }
        let type = try GGUFTensorInfo.type(id: try reader.read(UInt32.self, "the type of '\(name)'"), name: name)
        let offset = try reader.read(UInt64.self, "the offset of '\(name)'")
        let (shape, byteCount) = try GGUFTensorInfo.validatedLayout(name: name, dimensions: dimensions, type: type)
        guard offset % UInt64(alignment) == 0 else { throw .misalignedTensor(name: name, offset: offset, alignment: alignment) }
        guard offset <= UInt64(Int.max) else {
            throw .tensorOutOfBounds(name: name, offset: offset, size: byteCount, fileSize: reader.bytes.count)
        }
        return (GGUFTensorInfo(name: name, shape: shape, type: type, offset: Int(offset)), byteCount)
    }

    /// Every tensor inside the file, and none overlapping another.
    private static func checkPlacement(_ tensors: [GGUFTensorInfo], byteCounts: [Int], dataOffset: Int, fileSize: Int)
        throws(WeightFileError)
    {
        var ends: [Int] = []
        ends.reserveCapacity(tensors.count)
        for (tensor, size) in zip(tensors, byteCounts) {
            let (start, startOverflow) = dataOffset.addingReportingOverflow(tensor.offset)
            let (end, endOverflow) = start.addingReportingOverflow(size)
            guard !startOverflow, !endOverflow, end <= fileSize else {
                let offset = startOverflow ? UInt64(tensor.offset) : UInt64(start)
                throw .tensorOutOfBounds(name: tensor.name, offset: offset, size: size, fileSize: fileSize)
            }
            ends.append(end)
        }
        let byOffset = tensors.indices.sorted { tensors[$0].offset < tensors[$1].offset }
        for (previous, next) in zip(byOffset, byOffset.dropFirst()) {
            let start = dataOffset + tensors[next].offset
            if start < ends[previous] {
                throw .overlappingTensors(name: tensors[next].name, offset: start,
                                          other: tensors[previous].name, otherEnd: ends[previous])
            }
        }
    }
}
