import AudioCodec
import Foundation
import Testing

/// A RIFF/WAVE file assembled byte by byte, so the tests know every value in it.
func waveFile(channels: Int, sampleRate: Int, bitsPerSample: Int, float: Bool = false,
              data: [UInt8], claimedDataSize: Int? = nil) -> Data {
    func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    let blockAlign = channels * bitsPerSample / 8
    var bytes = Array("RIFF".utf8) + le32(36 + data.count) + Array("WAVE".utf8)
    bytes += Array("fmt ".utf8) + le32(16) + le16(float ? 3 : 1) + le16(channels) + le32(sampleRate)
    bytes += le32(sampleRate * blockAlign) + le16(blockAlign) + le16(bitsPerSample)
    bytes += Array("data".utf8) + le32(claimedDataSize ?? data.count) + data
    return Data(bytes)
}

func temporaryFile(_ name: String, _ contents: Data) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try contents.write(to: url)
    return url.path
}

struct AudioFileReaderTests {
    @Test func reads16BitStereoExactly() throws {
        // Frames (L, R): (16384, -32768), (1, -1), (32767, 0).
        let samples: [Int16] = [16384, -32768, 1, -1, 32767, 0]
        let data = samples.flatMap { s in [UInt8(UInt16(bitPattern: s) & 0xFF), UInt8(UInt16(bitPattern: s) >> 8)] }
        let path = try temporaryFile("s16.wav", waveFile(channels: 2, sampleRate: 44100, bitsPerSample: 16, data: data))
        let audio = try AudioFileReader.read(path: path)
        #expect(audio.sampleRate == 44100)
        #expect(audio.channels.count == 2)
        let left: [Float] = [0.5, 1.0 / 32768, 32767.0 / 32768]
        let right: [Float] = [-1, -1.0 / 32768, 0]
        #expect(audio.channels[0] == left)
        #expect(audio.channels[1] == right)
        #expect(audio.formatDescription.contains("16 bit"))
    }

    @Test func readsFloatWaveExactly() throws {
        let values: [Float] = [0.25, -0.75, 1e-6]
        let data = values.flatMap { v in (0..<4).map { UInt8((v.bitPattern >> (8 * UInt32($0))) & 0xFF) } }
        let path = try temporaryFile("f32.wav", waveFile(channels: 1, sampleRate: 48000, bitsPerSample: 32, float: true, data: data))
        let audio = try AudioFileReader.read(path: path)
        #expect(audio.channels == [values])
        #expect(audio.sampleRate == 48000)
    }

    @Test func aTruncatedFileYieldsWhatItHolds() throws {
        // The header claims a million frames; the file holds two.
        let path = try temporaryFile("short.wav", waveFile(channels: 1, sampleRate: 32000, bitsPerSample: 16,
                                                            data: [0, 0x40, 0, 0xC0], claimedDataSize: 2_000_000))
        let audio = try AudioFileReader.read(path: path)
        #expect(audio.channels == [[0.5, -0.5]])
    }

    @Test func garbageIsAClearError() throws {
        let path = try temporaryFile("noise.wav", Data((0..<300).map { UInt8(($0 * 37) & 0xFF) }))
        #expect {
            try AudioFileReader.read(path: path)
        } throws: { error in
            guard case let AudioFileError.cannotOpen(errorPath, _) = error else { return false }
            return errorPath == path && "\(error)".hasPrefix("cannot read audio from \(path): ")
        }
    }

    @Test func aListItemClaimingMoreThanTheFileIsRefusedBeforeLibsndfileLoopsOnIt() throws {
        // libsndfile 1.2 wraps its 32-bit count of LIST bytes on this item and never returns.
        let wave = [UInt8](waveFile(channels: 1, sampleRate: 44100, bitsPerSample: 16, data: [UInt8](repeating: 0, count: 200)))
        func le(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let list = Array("LIST".utf8) + le(26) + Array("INFOIXYZ".utf8) + le(0xFFFF_FFF4) + Array("lossy!".utf8) + [UInt8](repeating: 0, count: 8)
        let bytes = Array("RIFF".utf8) + le(UInt32(wave.count - 8 + list.count)) + Array(wave[8..<36]) + list + Array(wave[36...])
        let path = try temporaryFile("list.wav", Data(bytes))
        #expect(throws: AudioFileError.cannotOpen(path: path, reason:
            "the item 'IXYZ' of its LIST chunk at byte 36 claims 4294967284 bytes, more than the file's \(bytes.count)")) {
            try AudioFileReader.read(path: path)
        }
    }

    @Test func aMissingFileIsAClearError() {
        #expect(throws: AudioFileError.self) { try AudioFileReader.read(path: "/nonexistent/x.wav") }
    }

    @Test func anEmptyDataChunkIsNoAudio() throws {
        let path = try temporaryFile("empty.wav", waveFile(channels: 1, sampleRate: 44100, bitsPerSample: 16, data: []))
        #expect(throws: AudioFileError.noAudio(path: path)) { try AudioFileReader.read(path: path) }
    }
}
