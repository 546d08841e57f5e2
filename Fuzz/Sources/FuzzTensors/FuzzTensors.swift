import FuzzInput
import WeightCodec

/// What the model targets do with an input named `name`: open it as
/// `lossy quantize` does and read every tensor. No cap on sizes: the parser
/// must already have bounded each tensor by the file's bytes, so an
/// allocation beyond libFuzzer's limit here is a parser defect.
public func readModel(_ data: UnsafePointer<UInt8>, _ size: Int, named name: String) -> CInt {
    FuzzInput.withFile(data, size, named: name) { path in
        guard let source = try? ModelSource.open(path) else { return }
        for index in source.tensors.indices {
            _ = source.storedBytes(of: index)
            _ = try? source.values(of: index)
            source.release(index)
        }
    }
    return 0
}
