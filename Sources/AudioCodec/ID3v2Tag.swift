/// An ID3v2.4 tag (id3.org, "ID3 tag version 2.4.0 – Main Structure" and
/// "– Native Frames"): title, artist, album, recording year and a comment,
/// as UTF-8 text frames, to put in front of an MP3 stream.
public struct ID3v2Tag: Sendable, Equatable {
    public var title: String?
    public var artist: String?
    public var album: String?
    /// The recording time, yyyy (TDRC takes ISO 8601 timestamps; a year is the usual one).
    public var year: Int?
    public var comment: String?

    public init(title: String? = nil, artist: String? = nil, album: String? = nil, year: Int? = nil, comment: String? = nil) {
        self.title = title
        self.artist = artist
        self.album = album
        self.year = year
        self.comment = comment
    }

    public var isEmpty: Bool { title == nil && artist == nil && album == nil && year == nil && comment == nil }

    /// Text encoding byte 3: UTF-8 (new in v2.4).
    private static let utf8Encoding: UInt8 = 3

    /// The tag's bytes: a 10-byte header, then one frame per field present.
    /// No unsynchronisation, extended header or footer; sizes are syncsafe.
    public var bytes: [UInt8] {
        var frames = [UInt8]()
        func text(_ id: String, _ value: String?) {
            guard let value else { return }
            frames += Self.frame(id, [Self.utf8Encoding] + Array(value.utf8))
        }
        text("TIT2", title)
        text("TPE1", artist)
        text("TALB", album)
        text("TDRC", year.map { year in
            let digits = String(year)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        })
        if let comment {
            // Encoding, language, an empty short description (terminated), then the text.
            frames += Self.frame("COMM", [Self.utf8Encoding] + Array("eng".utf8) + [0] + Array(comment.utf8))
        }
        return Array("ID3".utf8) + [4, 0, 0] + Self.syncsafe(frames.count) + frames
    }

    private static func frame(_ id: String, _ content: [UInt8]) -> [UInt8] {
        Array(id.utf8) + syncsafe(content.count) + [0, 0] + content
    }

    /// 28 bits in four bytes of seven.
    private static func syncsafe(_ value: Int) -> [UInt8] {
        precondition(value < 1 << 28, "an ID3v2 tag holds at most 256 MB")
        return [21, 14, 7, 0].map { UInt8((value >> $0) & 0x7F) }
    }
}
