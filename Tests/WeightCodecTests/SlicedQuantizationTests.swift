import Foundation
import Testing
@testable import WeightCodec

/// `ModelQuantizer` reads and encodes a tensor a slice of rows at a time,
/// so its memory does not grow with the tensor; the result must not change.
@Suite struct SlicedQuantizationTests {
    @Test func theSyntheticModelHasTheSizeAskedFor() {
        let model = SyntheticLlama.sized(bytes: 2_000_000_000)
        let bytes = model.tensors.reduce(0) { $0 + $1.byteCount }
        let layer = 2 * (4 * 2048 * 2048 + 3 * 2048 * 5632) + 2 * 4 * 2048
        #expect(abs(bytes - 2_000_000_000) <= layer / 2, "\(bytes) bytes in \(model.layers) layers")
        #expect(model.tensors.count == 9 * model.layers + 3)
    }

    @Test func quantizingInSlicesMatchesQuantizingWhole() throws {
        // Three slices of rows and a remainder, against one pass over the tensor.
        var model = GeneratedModel()
        model.addMatrix("blk.0.ffn_up.weight", rowLength: 256, rows: ModelQuantizer.sliceWeights / 256 * 3 + 7,
                        scale: 0.02, seed: 5)
        let values = try model.values(of: 0)
        let format = BlockFormats.format(for: .q4_K)!
        var whole = [UInt8](repeating: 0, count: model.tensors[0].byteCount(as: .q4_K)!)
        let wholeError = values.withUnsafeBufferPointer { x in
            whole.withUnsafeMutableBytes { TensorQuantizer.quantize(x, rowLength: 256, format: format, importance: nil, into: $0) }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sliced-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let quantizer = try ModelQuantizer(source: model, types: [.q4_K], fileType: .q4_K_S)
        let path = folder.appendingPathComponent("sliced.gguf").path
        let outcomes = try quantizer.write(to: path)
        let written = try GGUFFile(path: path)
        #expect(Array(written.data(of: written.tensors[0])) == whole)
        let sliced = try #require(outcomes[0].error)
        #expect(sliced.count == wholeError.count && sliced.zeroed == wholeError.zeroed)
        #expect(abs(sliced.noiseEnergy - wholeError.noiseEnergy) <= 1e-9 * wholeError.noiseEnergy)
    }
}
