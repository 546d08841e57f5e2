import FuzzInput
import WeightCodec

/// llama.cpp's imatrix files, GGUF and legacy .dat, as `--imatrix` reads
/// them, then checked against a model of one 32-column tensor.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImportanceMatrix(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzInput.withFile(data, size, named: "imatrix") { path in
        guard let matrix = try? ImportanceMatrix.load(path: path) else { return }
        let tensors = matrix.entries.keys.map { GGUFTensorInfo(name: $0, shape: [32, 2], type: .f32) }
        _ = try? matrix.check(against: tensors)
    }
    return 0
}
