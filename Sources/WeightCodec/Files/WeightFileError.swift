/// Everything that can be wrong with a weight file we read (GGUF,
/// safetensors, a sharded checkpoint's index) or write. Every case carries
/// the numbers that show the problem, and its description says them in one
/// line for the CLI to print.
///
/// Offsets are absolute byte offsets in the file unless a case says
/// otherwise; `field` names the thing being read ("the tensor count",
/// "the key of metadata entry 3").
public enum WeightFileError: Error, CustomStringConvertible, Equatable, Sendable {
    // MARK: Opening, mapping, writing
    case cannotOpen(path: String, reason: String)
    case notARegularFile(path: String)
    case cannotMap(path: String, size: Int, reason: String)
    case cannotWrite(path: String, reason: String)

    // MARK: Layout (both formats)
    /// `size` bytes of `field` at `offset` run past the end of the file.
    case truncated(field: String, offset: Int, size: Int, fileSize: Int)
    /// A count read from the header that the bytes left could not hold,
    /// even at `minimumBytesEach` per item; refused before allocating.
    case countTooLarge(field: String, count: UInt64, remainingBytes: Int, minimumBytesEach: Int)
    /// A string's length prefix runs past the end of the file.
    case stringTooLong(field: String, length: UInt64, offset: Int, fileSize: Int)
    case invalidUTF8(field: String, offset: Int)

    // MARK: GGUF header and metadata
    case badMagic(found: [UInt8])
    case unsupportedVersion(UInt32)
    case unknownValueType(key: String, typeID: UInt32, offset: Int)
    case arrayTooDeep(key: String, limit: Int)
    case invalidBool(key: String, byte: UInt8, offset: Int)
    case duplicateKey(String)
    /// `general.alignment` is not a uint32 power of two; `found` is the
    /// value as read ("uint32 3", "int32 64").
    case badAlignment(found: String)

    // MARK: GGUF tensor infos
    case unknownTensorType(name: String, typeID: UInt32)
    case retiredTensorType(name: String, typeID: UInt32)
    case tooManyDimensions(name: String, count: UInt32, limit: Int)
    /// A dimension that is zero, or negative when read as ggml's int64.
    case badDimension(name: String, index: Int, value: UInt64)
    /// The element or byte count of `shape` does not fit in 63 bits.
    case sizeOverflow(name: String, shape: [UInt64])
    case rowNotBlockMultiple(name: String, rowLength: Int, type: GGMLType)
    case duplicateTensorName(String)
    /// `offset` is relative to the data section.
    case misalignedTensor(name: String, offset: UInt64, alignment: Int)
    case tensorOutOfBounds(name: String, offset: UInt64, size: Int, fileSize: Int)
    /// `name` starts at `offset`, before `other` (which starts first) ends at `otherEnd`.
    case overlappingTensors(name: String, offset: Int, other: String, otherEnd: Int)
    case tensorNameTooLong(name: String, bytes: Int, limit: Int)

    // MARK: safetensors
    case headerLengthPastEnd(length: UInt64, fileSize: Int)
    case headerTooLarge(length: UInt64, limit: Int)
    case invalidJSON(file: String, reason: String)
    case missingField(tensor: String, field: String)
    case badField(tensor: String, field: String, reason: String)
    /// A dtype the safetensors format does not define.
    case unknownDType(tensor: String, dtype: String)
    /// A dtype the format defines but the weight front end does not convert.
    case unsupportedDType(tensor: String, dtype: String)
    case dataSizeMismatch(tensor: String, dtype: String, shape: [Int], expected: Int, actual: Int)
    /// Offsets relative to the data section (after the JSON header).
    case dataOutOfBounds(tensor: String, begin: Int, end: Int, dataSize: Int)

    // MARK: Sharded checkpoints
    case noCheckpoint(directory: String)
    case badShardName(String)
    case missingShard(shard: String, tensor: String, index: String)
    case tensorNotInShard(tensor: String, shard: String)
    case tensorNotInIndex(tensor: String, shard: String)
    case duplicateTensorAcrossShards(tensor: String, shard: String, otherShard: String)
    /// An error found in one file of a checkpoint.
    indirect case inFile(path: String, error: WeightFileError)

    // MARK: Writing
    case wrongTensorByteCount(name: String, expected: Int, written: Int)
    case invalidArray(key: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): "cannot open '\(path)': \(reason)"
        case let .notARegularFile(path): "'\(path)' is not a regular file"
        case let .cannotMap(path, size, reason): "cannot map the \(size)-byte file '\(path)': \(reason)"
        case let .cannotWrite(path, reason): "cannot write '\(path)': \(reason)"

        case let .truncated(field, offset, size, fileSize):
            "file ends before \(field): \(size) bytes at offset \(offset) run past the end of the \(fileSize)-byte file"
        case let .countTooLarge(field, count, remaining, each):
            "\(field) \(count) cannot fit in the \(remaining) bytes left in the file (each needs at least \(each) bytes)"
        case let .stringTooLong(field, length, offset, fileSize):
            "\(field) at offset \(offset) claims \(length) bytes, past the end of the \(fileSize)-byte file"
        case let .invalidUTF8(field, offset): "\(field) at offset \(offset) is not valid UTF-8"

        case let .badMagic(found):
            "not a GGUF file: starts with \(hex(found)), expected 47 47 55 46 (\"GGUF\")"
        case let .unsupportedVersion(version):
            if version == 1 {
                "GGUF version 1 (32-bit counts, before August 2023) is not supported: only versions 2 and 3"
            } else if version.byteSwapped == 2 || version.byteSwapped == 3 {
                "GGUF version \(version) is version \(version.byteSwapped) byte-swapped: big-endian files are not supported"
            } else {
                "GGUF version \(version) is not supported: only versions 2 and 3"
            }
        case let .unknownValueType(key, typeID, offset):
            "metadata '\(key)' has unknown value type \(typeID) at offset \(offset) (known: 0-12)"
        case let .arrayTooDeep(key, limit): "metadata '\(key)' nests arrays deeper than \(limit) levels"
        case let .invalidBool(key, byte, offset): "metadata '\(key)' has bool byte \(byte) at offset \(offset) (must be 0 or 1)"
        case let .duplicateKey(key): "metadata key '\(key)' appears twice"
        case let .badAlignment(found): "general.alignment must be a uint32 power of two, found \(found)"

        case let .unknownTensorType(name, id): "tensor '\(name)' has unknown ggml type \(id)"
        case let .retiredTensorType(name, id): "tensor '\(name)' has ggml type \(id), which ggml retired"
        case let .tooManyDimensions(name, count, limit): "tensor '\(name)' has \(count) dimensions (at most \(limit))"
        case let .badDimension(name, index, value):
            value == 0
                ? "dimension \(index) of tensor '\(name)' is 0"
                : "dimension \(index) of tensor '\(name)' is \(value), negative as ggml's int64 (\(Int64(bitPattern: value)))"
        case let .sizeOverflow(name, shape):
            "tensor '\(name)' of shape \(shape) has more elements or bytes than fit in 63 bits"
        case let .rowNotBlockMultiple(name, rowLength, type):
            "tensor '\(name)': row of \(rowLength) weights is not a multiple of the \(type.blockWeights)-weight block of \(type.name)"
        case let .duplicateTensorName(name): "tensor name '\(name)' appears twice"
        case let .misalignedTensor(name, offset, alignment):
            "tensor '\(name)' at data offset \(offset) is not a multiple of the \(alignment)-byte alignment"
        case let .tensorOutOfBounds(name, offset, size, fileSize):
            "tensor '\(name)' at offset \(offset) with \(size) bytes runs past the end of the \(fileSize)-byte file"
        case let .overlappingTensors(name, offset, other, otherEnd):
            "tensor '\(name)' starts at offset \(offset), inside tensor '\(other)' which ends at \(otherEnd)"
        case let .tensorNameTooLong(name, bytes, limit):
            "tensor name '\(name)' has \(bytes) bytes (llama.cpp allows at most \(limit))"

        case let .headerLengthPastEnd(length, fileSize):
            "safetensors header of \(length) bytes runs past the end of the \(fileSize)-byte file"
        case let .headerTooLarge(length, limit): "safetensors header of \(length) bytes is over the \(limit)-byte limit"
        case let .invalidJSON(file, reason): "\(file) is not valid JSON: \(reason)"
        case let .missingField(tensor, field): "tensor '\(tensor)' has no '\(field)'"
        case let .badField(tensor, field, reason): "tensor '\(tensor)': '\(field)' \(reason)"
        case let .unknownDType(tensor, dtype): "unknown dtype '\(dtype)' of tensor '\(tensor)'"
        case let .unsupportedDType(tensor, dtype):
            "unsupported dtype '\(dtype)' of tensor '\(tensor)' (supported: F32, F16, BF16, I8, U8)"
        case let .dataSizeMismatch(tensor, dtype, shape, expected, actual):
            "tensor '\(tensor)' of \(dtype) \(shape) needs \(expected) bytes but its data_offsets span \(actual)"
        case let .dataOutOfBounds(tensor, begin, end, dataSize):
            "tensor '\(tensor)' at data_offsets [\(begin), \(end)] runs past the end of the \(dataSize)-byte data section"

        case let .noCheckpoint(directory):
            "'\(directory)' holds neither model.safetensors.index.json nor model.safetensors"
        case let .badShardName(name): "shard name '\(name)' is not a plain file name"
        case let .missingShard(shard, tensor, index): "shard '\(shard)' of tensor '\(tensor)' named in '\(index)' does not exist"
        case let .tensorNotInShard(tensor, shard): "tensor '\(tensor)' is not in shard '\(shard)', where the index puts it"
        case let .tensorNotInIndex(tensor, shard): "tensor '\(tensor)' of shard '\(shard)' is not in the index"
        case let .duplicateTensorAcrossShards(tensor, shard, other):
            "tensor '\(tensor)' is in both '\(other)' and '\(shard)'"
        case let .inFile(path, error): "\(path): \(error)"

        case let .wrongTensorByteCount(name, expected, written):
            "tensor '\(name)' needs \(expected) bytes but \(written) were written"
        case let .invalidArray(key, reason): "metadata '\(key)': \(reason)"
        }
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.isEmpty ? "nothing" : bytes.map { byte in
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
}
