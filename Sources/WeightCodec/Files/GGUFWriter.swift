#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a GGUF v3 file: header, metadata in the order given, tensor
/// infos, then the tensors' bytes streamed one at a time from the caller.
///
/// ```swift
/// let writer = try GGUFWriter(metadata: metadata, tensors: infos)
/// try writer.write(to: path) { index, sink in
///     let bytes = quantize(index)          // one tensor in memory at a time
///     try sink.write(bytes)
/// }
/// ```
///
/// Offsets are laid out here (each tensor aligned to `alignment`, padded
/// with zeros after it, as gguf-py and llama.cpp do); any offset in the
/// given infos is ignored. `general.alignment` is written only when the
/// metadata holds it; the alignment is 32 otherwise.
public struct GGUFWriter: Sendable {
    public let metadata: GGUFMetadata
    /// The tensors with their offsets in the data section.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataOffset: Int
    /// Size of the whole file.
    public let fileSize: Int
    private let header: [UInt8]

    /// llama.cpp keeps names in `char name[GGML_MAX_NAME]` (64, with the NUL).
    public static let maximumNameBytes = 63

    public init(metadata: GGUFMetadata, tensors: [GGUFTensorInfo]) throws(WeightFileError) {
        let alignment = try GGUFFile.alignment(of: metadata)
        var names = Set<String>()
        var laidOut: [GGUFTensorInfo] = []
        var offset = 0
        for var tensor in tensors {
            guard tensor.name.utf8.count <= Self.maximumNameBytes else {
                throw .tensorNameTooLong(name: tensor.name, bytes: tensor.name.utf8.count, limit: Self.maximumNameBytes)
            }
            guard names.insert(tensor.name).inserted else { throw .duplicateTensorName(tensor.name) }
            let dimensions = tensor.shape.map { UInt64(bitPattern: Int64($0)) }
            let (_, byteCount) = try GGUFTensorInfo.validatedLayout(name: tensor.name, dimensions: dimensions, type: tensor.type)
            tensor.offset = offset
            laidOut.append(tensor)
            offset = try Self.padded(offset, byteCount, alignment: alignment, name: tensor.name)
        }
        var encoder = GGUFEncoder()
        try encoder.appendHeader(metadata: metadata, tensors: laidOut)
        self.metadata = metadata
        self.tensors = laidOut
        self.alignment = alignment
        self.header = encoder.bytes
        dataOffset = try Self.padded(0, encoder.bytes.count, alignment: alignment, name: "the header")
        let (size, overflow) = dataOffset.addingReportingOverflow(offset)
        guard !overflow else { throw .sizeOverflow(name: "the file", shape: []) }
        fileSize = size
    }

    /// `start + count` rounded up to `alignment`, overflow-checked.
    private static func padded(_ start: Int, _ count: Int, alignment: Int, name: String) throws(WeightFileError) -> Int {
        let (end, overflow) = start.addingReportingOverflow(count)
        let (rounded, roundOverflow) = end.addingReportingOverflow(alignment - 1)
        guard !overflow, !roundOverflow else { throw .sizeOverflow(name: name, shape: []) }
        return rounded / alignment * alignment
    }

    /// Writes the file at `path`, asking `tensorData` for each tensor's bytes
    /// in order. Each call must write exactly the tensor's `byteCount` through
    /// the sink. On any error the partial file is removed and the error
    /// (ours, or the one `tensorData` threw) is rethrown.
    public func write(to path: String, tensorData: (_ index: Int, _ sink: GGUFTensorSink) throws -> Void) throws {
        let output = try FileOutput(path: path)
        do {
            try output.write(header)
            try output.writeZeros(dataOffset - header.count)
            for (index, tensor) in tensors.enumerated() {
                let sink = GGUFTensorSink(tensor: tensor, output: output)
                try tensorData(index, sink)
                sink.isOpen = false
                guard sink.bytesWritten == tensor.byteCount else {
                    throw WeightFileError.wrongTensorByteCount(name: tensor.name, expected: tensor.byteCount, written: sink.bytesWritten)
                }
                let end = dataOffset + tensor.offset + tensor.byteCount
                try output.writeZeros((alignment - end % alignment) % alignment)
            }
            try output.finish()
        } catch {
            unlink(path)
            throw error
        }
    }
}

/// Where the caller writes one tensor's bytes. Writing more than the
/// tensor's `byteCount` throws at once; fewer is found when the callback
/// returns. Valid only inside the callback that received it.
public final class GGUFTensorSink {
    public let tensor: GGUFTensorInfo
    public private(set) var bytesWritten = 0
    private let output: FileOutput
    fileprivate var isOpen = true

    fileprivate init(tensor: GGUFTensorInfo, output: FileOutput) {
        self.tensor = tensor
        self.output = output
    }

    public var bytesRemaining: Int { tensor.byteCount - bytesWritten }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(WeightFileError) {
        precondition(isOpen, "the sink of tensor '\(tensor.name)' was used after its callback returned")
        guard bytes.count <= bytesRemaining else {
            throw .wrongTensorByteCount(name: tensor.name, expected: tensor.byteCount, written: bytesWritten + bytes.count)
        }
        try output.write(bytes)
        bytesWritten += bytes.count
    }

    public func write(_ bytes: [UInt8]) throws(WeightFileError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(WeightFileError) in try write(raw) } }.get()
    }

    /// The elements' memory as it is: little-endian values on the hosts we run on.
    public func write<Element: BitwiseCopyable>(contentsOf elements: [Element]) throws(WeightFileError) {
        try elements.withUnsafeBytes { raw in Result { () throws(WeightFileError) in try write(raw) } }.get()
    }
}

/// The header of a GGUF v3 file, little-endian.
struct GGUFEncoder {
    var bytes: [UInt8] = []

    mutating func appendHeader(metadata: GGUFMetadata, tensors: [GGUFTensorInfo]) throws(WeightFileError) {
        bytes.append(contentsOf: GGUFFile.magic)
        append(UInt32(3))
        append(UInt64(tensors.count))
        append(UInt64(metadata.count))
        for entry in metadata {
            append(entry.key)
            append(entry.value.type.rawValue)
            try append(entry.value, key: entry.key, depth: 0)
        }
        for tensor in tensors {
            append(tensor.name)
            append(UInt32(tensor.shape.count))
            for dimension in tensor.shape { append(UInt64(dimension)) }
            append(tensor.type.rawValue)
            append(UInt64(tensor.offset))
        }
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ string: String) {
        append(UInt64(string.utf8.count))
        bytes.append(contentsOf: string.utf8)
    }

    /// A value without its type id.
    mutating func append(_ value: GGUFValue, key: String, depth: Int) throws(WeightFileError) {
        switch value {
        case let .uint8(v): append(v)
        case let .int8(v): append(v)
        case let .uint16(v): append(v)
        case let .int16(v): append(v)
        case let .uint32(v): append(v)
        case let .int32(v): append(v)
        case let .float32(v): append(v.bitPattern)
        case let .bool(v): append(UInt8(v ? 1 : 0))
        case let .string(v): append(v)
        case let .uint64(v): append(v)
        case let .int64(v): append(v)
        case let .float64(v): append(v.bitPattern)
        case let .array(array):
            guard depth < GGUFFile.maximumArrayDepth else { throw .arrayTooDeep(key: key, limit: GGUFFile.maximumArrayDepth) }
            append(array.elementType.rawValue)
            append(UInt64(array.count))
            for element in array.values { try append(element, key: key, depth: depth + 1) }
        }
    }
}
