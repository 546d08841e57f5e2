import FuzzTensors

/// A .safetensors file: the length prefix, the JSON header, dtypes, shapes
/// and offsets, then every tensor read as the quantizer would read it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    readModel(data, size, named: "model.safetensors")
}
