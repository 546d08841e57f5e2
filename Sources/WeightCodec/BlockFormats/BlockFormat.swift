/// One of ggml's block formats: how a block of `type.blockWeights` weights
/// becomes `type.blockBytes` bytes, and back.
///
/// The bytes are ggml's layout exactly (little-endian, packed as
/// `ggml-common.h` declares the block structs), so llama.cpp and the `gguf`
/// package read what we write. Each conforming type documents its
/// reconstruction formula and bits per weight.
///
/// Implementations are stateless and safe to call from several threads.
public protocol BlockFormat: Sendable {
    var type: GGMLType { get }

    /// Decodes whole blocks: `values.count` weights from
    /// `values.count / type.blockWeights · type.blockBytes` bytes.
    func dequantize(_ blocks: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<Float>)

    /// Encodes `values` (a whole number of blocks) so as to minimise
    /// Σ importance·(x − x̂)², measured after every stored scale is rounded
    /// to its storage precision. `importance` has one weight per value, or
    /// is nil for plain squared error.
    func quantize(
        _ values: UnsafeBufferPointer<Float>, importance: UnsafeBufferPointer<Float>?,
        into blocks: UnsafeMutableRawBufferPointer)
}

/// A format whose file layout ggml defines by a deterministic reference
/// quantizer (`quantize_row_*_ref` in `ggml-quants.c`; gguf-py's
/// `quants.py` implements the same). Ours reproduces its bytes exactly.
public protocol ReferenceQuantizable: BlockFormat {
    func quantizeReference(_ values: UnsafeBufferPointer<Float>, into blocks: UnsafeMutableRawBufferPointer)
}
