import Foundation

/// Checks the LIST chunks of a RIFF or RF64 file before libsndfile parses
/// it. libsndfile 1.2 (Debian 12's) adds each LIST item's size to a 32-bit
/// count of the bytes read, so an item that claims nearly 4 GiB wraps the
/// count and its parser loops forever on a 118-byte file (found by
/// FuzzAudioFile). Each item must end inside the file; other chunks are
/// left to libsndfile, which bounds them.
enum RIFFListCheck {
    /// Why the file is refused, or nil when its LIST chunks are sound (or it is not RIFF).
    static func problem(in path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        func read(_ offset: UInt64, _ count: Int) -> [UInt8]? {
            guard (try? handle.seek(toOffset: offset)) != nil,
                  let data = try? handle.read(upToCount: count), data.count == count else { return nil }
            return [UInt8](data)
        }
        func word(_ bytes: [UInt8], _ at: Int) -> UInt64 {
            (0..<4).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) }
        }
        guard let head = read(0, 12),
              head[0..<4].elementsEqual("RIFF".utf8) || head[0..<4].elementsEqual("RF64".utf8),
              head[8..<12].elementsEqual("WAVE".utf8) else { return nil }
        let fileSize = (try? handle.seekToEnd()) ?? 0
        var offset: UInt64 = 12
        while let chunk = read(offset, 8) {
            let size = word(chunk, 4), body = offset + 8
            if chunk[0..<4].elementsEqual("LIST".utf8) {
                let end = min(body + size, fileSize)
                var item = body + 4
                while item + 8 <= end, let header = read(item, 8) {
                    let itemSize = word(header, 4)
                    let name = String(decoding: header[0..<4].map { (32...126).contains($0) ? $0 : 63 }, as: UTF8.self)
                    if item + 8 + itemSize > fileSize {
                        return "the item '\(name)' of its LIST chunk at byte \(offset) claims \(itemSize) bytes, " +
                            "more than the file's \(fileSize)"
                    }
                    item += 8 + itemSize + itemSize % 2
                }
            }
            offset = body + size + size % 2
            if offset >= fileSize { break }
        }
        return nil
    }
}
