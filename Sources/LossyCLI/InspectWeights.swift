import Foundation
import RateDistortion
import WeightCodec

/// `lossy inspect` for weight files: GGUF (metadata and tensor table) and
/// safetensors (one file or a sharded checkpoint's index).
enum InspectWeights {
    /// Whether `path` is a weight file, by magic or name.
    static func handles(_ path: String) -> Bool {
        let lower = path.lowercased()
        if lower.hasSuffix(".safetensors") || lower.hasSuffix(".safetensors.index.json") || lower.hasSuffix(".gguf") {
            return true
        }
        return (try? ModelSource.isGGUF(path)) ?? false
    }

    static func describe(_ path: String) throws -> String {
        let lower = path.lowercased()
        if lower.hasSuffix(".safetensors") || lower.hasSuffix(".json") {
            return try describe(checkpoint: SafetensorsCheckpoint(path: path), path: path)
        }
        return try describe(gguf: GGUFFile(path: path), path: path)
    }

    static func describe(gguf file: GGUFFile, path: String) -> String {
        var lines = [
            path,
            "format       GGUF v\(file.version), \(file.metadata.count) metadata keys, \(file.tensors.count) tensors, alignment \(file.alignment)",
        ]
        if let architecture = file.metadata.string("general.architecture") {
            lines.append("architecture \(architecture)\(file.metadata.string("general.name").map { " (\($0))" } ?? "")")
        }
        if let fileType = file.metadata.int("general.file_type") {
            let name = LlamaFileType(rawValue: UInt32(clamping: fileType))?.name ?? "id \(fileType)"
            lines.append("file type    \(name)")
        }
        lines.append(contentsOf: summary(file.tensors.map { ($0.elementCount, $0.byteCount, $0.type.name) }))
        lines.append("")
        lines.append("metadata")
        for entry in file.metadata {
            lines.append("  \(entry.key) = \(abbreviated(entry.value))")
        }
        lines.append("")
        var table = ReportTable(columns: [
            .init("tensor", key: "tensor"), .init("shape", key: "shape"), .init("type", key: "type"),
            .init("size", unit: "KiB", key: "kib", decimals: 1), .init("rate", unit: "bit/w", key: "bits_per_weight", decimals: 3),
        ])
        for tensor in file.tensors {
            table.append([
                .text(tensor.name), .text(tensor.shape.map(String.init).joined(separator: "×")), .text(tensor.type.name),
                .number(Double(tensor.byteCount) / 1024),
                .number(Double(tensor.byteCount * 8) / Double(max(tensor.elementCount, 1))),
            ])
        }
        return lines.joined(separator: "\n") + "\n" + table.text()
    }

    static func describe(checkpoint: SafetensorsCheckpoint, path: String) -> String {
        var lines = [
            path,
            "format       safetensors, \(checkpoint.shards.count) file(s), \(checkpoint.tensors.count) tensors",
        ]
        lines.append(contentsOf: summary(checkpoint.tensors.map { ($0.elementCount, $0.byteCount, $0.dtype.rawValue) }))
        if !checkpoint.metadata.isEmpty {
            lines.append("")
            lines.append("metadata")
            for (key, value) in checkpoint.metadata.sorted(by: { $0.key < $1.key }) { lines.append("  \(key) = \(value)") }
        }
        lines.append("")
        var table = ReportTable(columns: [
            .init("tensor", key: "tensor"), .init("shape", key: "shape"), .init("dtype", key: "dtype"),
            .init("size", unit: "KiB", key: "kib", decimals: 1),
        ])
        for tensor in checkpoint.tensors {
            table.append([
                .text(tensor.name), .text(tensor.shape.map(String.init).joined(separator: "×")), .text(tensor.dtype.rawValue),
                .number(Double(tensor.byteCount) / 1024),
            ])
        }
        return lines.joined(separator: "\n") + "\n" + table.text()
    }

    private static func summary(_ tensors: [(elements: Int, bytes: Int, type: String)]) -> [String] {
        let weights = tensors.reduce(0) { $0 + $1.elements }, bytes = tensors.reduce(0) { $0 + $1.bytes }
        var byType: [String: Int] = [:]
        for tensor in tensors { byType[tensor.type, default: 0] += 1 }
        return [
            "weights      \(weights) in \(formatFixed(Double(bytes) / 1_048_576, decimals: 2)) MiB: "
                + "\(formatFixed(Double(bytes * 8) / Double(max(weights, 1)), decimals: 3)) bits per weight",
            "types        " + byType.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "),
        ]
    }

    /// A value for one line: long arrays show their first elements and length.
    private static func abbreviated(_ value: GGUFValue) -> String {
        switch value {
        case let .array(array):
            let head = array.values.prefix(4).map { element -> String in
                if case let .string(s) = element { return "\"\(s.prefix(24))\"" }
                return element.description.split(separator: " ").last.map(String.init) ?? ""
            }
            return "[\(array.count) × \(array.elementType)] " + head.joined(separator: ", ") + (array.count > 4 ? ", …" : "")
        case let .string(s) where s.count > 80:
            return "string \"\(s.prefix(77))…\" (\(s.utf8.count) bytes)"
        default:
            return value.description
        }
    }
}
