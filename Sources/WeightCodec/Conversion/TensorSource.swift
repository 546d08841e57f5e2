/// A model's tensors as the quantizer reads them, one at a time, whatever
/// file they come from: GGUF, safetensors, or a Hugging Face checkpoint
/// converted on the fly.
public protocol TensorSource: Sendable {
    /// The GGUF metadata the output starts from.
    var metadata: GGUFMetadata { get }
    /// Names and shapes as GGUF has them (ggml order: shape[0] is the row).
    var tensors: [GGUFTensorInfo] { get }
    /// The tensor's bytes when they can be copied to the output unchanged
    /// (stored in `tensors[index].type` in ggml's layout), else nil.
    func storedBytes(of index: Int) -> UnsafeRawBufferPointer?
    /// Rows `rows` of the tensor's weights as floats, in ggml order (a row
    /// is `shape[0]` weights), so a tensor can be read a slice at a time.
    func values(of index: Int, rows: Range<Int>, into values: UnsafeMutableBufferPointer<Float>) throws
    /// The tensor will not be read again: its pages may leave memory.
    func release(_ index: Int)
}

extension TensorSource {
    /// The tensor's weights as floats, in ggml order.
    public func values(of index: Int, into values: UnsafeMutableBufferPointer<Float>) throws {
        try self.values(of: index, rows: 0..<tensors[index].rowCount, into: values)
    }

    /// The tensor's weights as floats, in ggml order, in an array of their own.
    public func values(of index: Int) throws -> [Float] {
        var values = [Float](repeating: 0, count: tensors[index].elementCount)
        try values.withUnsafeMutableBufferPointer { try self.values(of: index, into: $0) }
        return values
    }

    /// The elements of `rows` in a tensor of `info`'s shape.
    static func elements(of rows: Range<Int>, in info: GGUFTensorInfo) -> Range<Int> {
        let rowLength = info.shape.first ?? 1
        precondition(rows.lowerBound >= 0 && rows.upperBound <= info.rowCount, "rows \(rows) outside '\(info.name)'")
        return (rows.lowerBound * rowLength)..<(rows.upperBound * rowLength)
    }
}

/// A GGUF file as a source: bytes copied as they are, or decoded by the
/// block format of their type.
public struct GGUFSource: TensorSource {
    public let file: GGUFFile

    public init(_ file: GGUFFile) { self.file = file }

    public var metadata: GGUFMetadata { file.metadata }
    public var tensors: [GGUFTensorInfo] { file.tensors }

    public func storedBytes(of index: Int) -> UnsafeRawBufferPointer? { file.data(of: file.tensors[index]) }

    public func release(_ index: Int) {
        let tensor = file.tensors[index], start = file.dataOffset + tensor.offset
        file.mapping.release(start..<(start + tensor.byteCount))
    }

    public func values(of index: Int, rows: Range<Int>, into values: UnsafeMutableBufferPointer<Float>) throws {
        let info = file.tensors[index]
        guard let format = BlockFormats.format(for: info.type),
              let rowBytes = info.type.rowBytes(info.shape.first ?? 1) else {
            throw QuantizeError.cannotDecode(tensor: info.name, type: info.type)
        }
        _ = Self.elements(of: rows, in: info)
        let data = file.data(of: info)
        format.dequantize(UnsafeRawBufferPointer(rebasing: data[(rows.lowerBound * rowBytes)..<(rows.upperBound * rowBytes)]),
                          into: values)
    }
}

/// Safetensors tensors under their own names, F32/F16/BF16 kept as such,
/// I8 as GGML's I8 and U8 widened to F32 (GGUF has no unsigned bytes):
/// a GGUF that the `gguf` package reads, for models llama.cpp has no
/// architecture for.
public struct SafetensorsSource: TensorSource {
    public let checkpoint: SafetensorsCheckpoint
    public let metadata: GGUFMetadata
    public let tensors: [GGUFTensorInfo]

    public init(_ checkpoint: SafetensorsCheckpoint, name: String) throws(WeightFileError) {
        self.checkpoint = checkpoint
        var metadata: GGUFMetadata = ["general.architecture": .string("unknown"), "general.name": .string(name)]
        for (key, value) in checkpoint.metadata.sorted(by: { $0.key < $1.key }) {
            metadata["safetensors.\(key)"] = .string(value)
        }
        self.metadata = metadata
        tensors = try checkpoint.tensors.map { tensor throws(WeightFileError) in
            GGUFTensorInfo(name: tensor.name, shape: tensor.ggmlShape.isEmpty ? [1] : tensor.ggmlShape,
                           type: try Self.storedType(of: tensor))
        }
    }

    static func storedType(of tensor: SafetensorsTensorInfo) throws(WeightFileError) -> GGMLType {
        switch try tensor.requireDataType() {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .i8: return .i8
        case .u8: return .f32
        }
    }

    public func storedBytes(of index: Int) -> UnsafeRawBufferPointer? {
        let tensor = checkpoint.tensors[index]
        return tensor.dataType == .u8 ? nil : checkpoint.data(of: tensor)
    }

    public func values(of index: Int, rows: Range<Int>, into values: UnsafeMutableBufferPointer<Float>) throws {
        let tensor = checkpoint.tensors[index]
        let type = try tensor.requireDataType(), elements = Self.elements(of: rows, in: tensors[index])
        let data = checkpoint.data(of: tensor)
        type.widen(UnsafeRawBufferPointer(rebasing: data[(elements.lowerBound * type.byteWidth)..<(elements.upperBound * type.byteWidth)]),
                   into: values)
    }

    public func release(_ index: Int) { checkpoint.release(checkpoint.tensors[index]) }
}
