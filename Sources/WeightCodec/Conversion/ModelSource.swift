import Foundation

/// Opens whatever model file or folder the user names as a `TensorSource`.
public enum ModelSource {
    /// - A GGUF file (by magic).
    /// - A .safetensors file, a sharded checkpoint's `model.safetensors.index.json`,
    ///   or a folder holding either: converted to llama.cpp's `llama`
    ///   architecture when the folder's config.json describes a LLaMA-family
    ///   model and tokenizer.json is there; otherwise the tensors under their
    ///   own names.
    public static func open(_ path: String) throws -> any TensorSource {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw WeightFileError.cannotOpen(path: path, reason: "no such file or folder")
        }
        var file = URL(fileURLWithPath: path)
        if isFolder.boolValue {
            let candidates = ["model.safetensors.index.json", "model.safetensors"]
            guard let found = candidates.map({ file.appendingPathComponent($0) })
                .first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
                throw WeightFileError.cannotOpen(path: path, reason: "the folder has no model.safetensors or model.safetensors.index.json")
            }
            file = found
        }
        if try isGGUF(file.path) { return GGUFSource(try GGUFFile(path: file.path)) }
        let checkpoint: SafetensorsCheckpoint
        do {
            checkpoint = try SafetensorsCheckpoint(path: file.path)
        } catch {
            // Not named as safetensors either: say what it is not before why.
            guard ["safetensors", "json"].contains(file.pathExtension.lowercased()) else {
                throw WeightFileError.cannotOpen(path: file.path, reason: "neither GGUF (no GGUF magic) nor safetensors (\(error))")
            }
            throw error
        }
        let folder = file.deletingLastPathComponent()
        if LlamaCheckpoint.describesLlama(folder: folder),
           FileManager.default.fileExists(atPath: folder.appendingPathComponent("tokenizer.json").path) {
            return try LlamaCheckpoint(folder: folder, checkpoint: checkpoint)
        }
        return try SafetensorsSource(checkpoint, name: folder.lastPathComponent)
    }

    /// Whether the file starts with GGUF's magic.
    public static func isGGUF(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw WeightFileError.cannotOpen(path: path, reason: "cannot be read")
        }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)).map(GGUFFile.hasMagic) ?? false
    }
}
