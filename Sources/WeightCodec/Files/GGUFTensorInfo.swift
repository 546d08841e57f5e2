/// A tensor as a GGUF file describes it: name, shape in ggml order (ne0,
/// the row length along which blocks run, first), type, and offset of its
/// bytes from the start of the data section.
///
/// A [4096, 11008] tensor is 11008 rows of 4096 weights; in numpy and
/// safetensors order the same tensor has shape (11008, 4096).
public struct GGUFTensorInfo: Sendable, Hashable {
    public var name: String
    public var shape: [Int]
    public var type: GGMLType
    /// Bytes from the start of the data section; a multiple of the
    /// file's alignment. Assigned by `GGUFWriter` when writing.
    public var offset: Int

    public init(name: String, shape: [Int], type: GGMLType, offset: Int = 0) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
    }

    /// ggml's limit (`GGML_MAX_DIMS`).
    public static let maximumDimensions = 4

    public var elementCount: Int { shape.reduce(1, *) }
    /// Weights per row: ne0 (1 for a tensor of no dimensions, as in ggml).
    public var rowLength: Int { shape.first ?? 1 }
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }

    public var byteCount: Int {
        guard let bytes = byteCount(as: type) else {
            preconditionFailure("tensor '\(name)': row of \(rowLength) is not a whole number of \(type.name) blocks")
        }
        return bytes
    }

    /// The tensor's bytes in `format`, or nil when its rows are not a whole
    /// number of the format's blocks.
    public func byteCount(as format: GGMLType) -> Int? {
        format.rowBytes(rowLength).map { $0 * rowCount }
    }

    /// Checks dimensions as a file gives them (uint64 each) against ggml's
    /// rules and `type`'s blocks; returns the shape and byte count. All
    /// products are overflow-checked.
    static func validatedLayout(name: String, dimensions: [UInt64], type: GGMLType)
        throws(WeightFileError) -> (shape: [Int], byteCount: Int)
    {
        guard dimensions.count <= maximumDimensions else {
            throw .tooManyDimensions(name: name, count: UInt32(clamping: dimensions.count), limit: maximumDimensions)
        }
        var shape: [Int] = []
        shape.reserveCapacity(dimensions.count)
        var elements = 1
        for (index, dimension) in dimensions.enumerated() {
            guard dimension != 0, dimension <= UInt64(Int64.max) else {
                throw .badDimension(name: name, index: index, value: dimension)
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(dimension))
            guard !overflow else { throw .sizeOverflow(name: name, shape: dimensions) }
            elements = product
            shape.append(Int(dimension))
        }
        let rowLength = shape.first ?? 1
        guard rowLength % type.blockWeights == 0 else {
            throw .rowNotBlockMultiple(name: name, rowLength: rowLength, type: type)
        }
        guard let rowBytes = type.rowBytes(rowLength) else { throw .sizeOverflow(name: name, shape: dimensions) }
        let (bytes, overflow) = rowBytes.multipliedReportingOverflow(by: elements / rowLength)
        guard !overflow else { throw .sizeOverflow(name: name, shape: dimensions) }
        return (shape, bytes)
    }

    /// The type of ggml type id `id`, or the error naming a retired or unknown id.
    static func type(id: UInt32, name: String) throws(WeightFileError) -> GGMLType {
        if let type = GGMLType(rawValue: id) { return type }
        // Q4_2, Q4_3 (4, 5); Q4_0_4_4, Q4_0_4_8, Q4_0_8_8 (31–33); IQ4_NL_4_4, _4_8, _8_8 (36–38).
        let retired: Set<UInt32> = [4, 5, 31, 32, 33, 36, 37, 38]
        throw retired.contains(id) ? .retiredTensorType(name: name, typeID: id) : .unknownTensorType(name: name, typeID: id)
    }
}
