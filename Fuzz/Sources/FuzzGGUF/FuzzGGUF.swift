import FuzzTensors

/// A GGUF file: header, metadata values and arrays, the tensor table,
/// alignment and offsets, then every tensor decoded by its block format.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    readModel(data, size, named: "model.gguf")
}
