import AudioCodec
import Foundation
import Testing

struct EncodeCommandTests {
    static let sample = Lossy.packageRoot.appendingPathComponent("samples/tone-and-chirp.wav").path

    @Test func encodesTheBundledSample() throws {
        let folder = try Lossy.temporaryFolder()
        let run = try Lossy.run(["encode", Self.sample, "-o", "out.mp3", "--bitrate", "96", "--crc"], in: folder)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        // 78 audio frames of 96 kbit/s (24 450 bytes) after an Info frame of the same bitrate (313 bytes).
        #expect(run.stdout.contains("out.mp3: 78 frames, 24763 bytes"))
        let bytes = try Data(contentsOf: folder.appendingPathComponent("out.mp3"))
        // Frame sync, MPEG-1 Layer III, 96 kbit/s at 44.1 kHz: the Info frame without CRC, the audio with.
        #expect(Array(bytes.prefix(3)) == [0xFF, 0xFB, 0x70])
        #expect(Array(bytes[313..<316]) == [0xFF, 0xFA, 0x70])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.mp3"])
    }

    @Test func tagsReadBackInFfprobeAndMpg123() throws {
        let folder = try Lossy.temporaryFolder()
        let run = try Lossy.run(["encode", Self.sample, "-o", "tagged.mp3", "--bitrate", "64", "--title", "Tōne & chirp",
                                 "--artist", "LossyLab", "--album", "Samples", "--year", "2026", "--comment", "what was discarded"],
                                in: folder)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let path = folder.appendingPathComponent("tagged.mp3").path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(bytes.prefix(5)) == Array("ID3".utf8) + [4, 0])
        let probe = try Lossy.run(["-v", "error", "-show_entries", "format_tags", "-of", "default=noprint_wrappers=1", path],
                                  program: "/usr/bin/ffprobe")
        #expect(probe.status == 0, "ffprobe: \(probe.stderr)")
        for line in ["TAG:title=Tōne & chirp", "TAG:artist=LossyLab", "TAG:album=Samples", "TAG:date=2026",
                     "TAG:comment=what was discarded"] {
            #expect(probe.stdout.contains(line), "ffprobe: \(probe.stdout)")
        }
        // mpg123 1.31 shows v2.4's TDRC as no year; the rest it reads.
        let player = try Lossy.run(["-t", "-v", path], program: "/usr/bin/mpg123")
        #expect(player.status == 0, "mpg123: \(player.stderr)")
        for field in ["Title:   Tōne & chirp", "Artist:  LossyLab", "Album:   Samples", "Comment: what was discarded"] {
            #expect(player.stderr.contains(field), "mpg123: \(player.stderr)")
        }
        // The tag in front of the stream leaves the audio as it was.
        let plain = try Lossy.run(["encode", Self.sample, "-o", "plain.mp3", "--bitrate", "64"], in: folder)
        #expect(plain.status == 0)
        let untagged = try Data(contentsOf: folder.appendingPathComponent("plain.mp3"))
        #expect(bytes.suffix(untagged.count) == untagged)
    }

    /// VBR with the report and the ghost: the report's frames are the stream's,
    /// its NMR tails are there, and input = decoded + ghost, sample for sample.
    @Test func variableBitrateWithReportAndGhost() throws {
        let folder = try Lossy.temporaryFolder()
        let run = try Lossy.run(["encode", Self.sample, "-o", "v.mp3", "--vbr", "4", "--report", "r.json", "--ghost", "g.wav"],
                                in: folder)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("99th percentile") && run.stdout.contains("worst 1 % of frames by mean NMR"))
        #expect(run.stdout.contains("long-block scalefactor bands:"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("r.json"))) as! [String: Any]
        let frames = json["frames"] as! [[String: Any]]
        #expect(frames.count == 78)
        #expect((json["long_bands"] as! [Any]).count == 22)
        #expect(Set(frames.map { $0["kbps"] as! Double }).count > 1, "VBR frames all at one bitrate")
        let worst = json["worst_frames"] as! [Double]
        let meanNMR = frames.map { $0["mean_nmr_db"] as! Double }
        #expect(meanNMR[Int(worst[0])] == meanNMR.max())
        #expect((frames[0]["bands"] as! [Any]).count >= 2 * 2 * 22)
        // Input minus ghost decodes back as the MP3 does.
        let input = try AudioFileReader.read(path: Self.sample)
        let ghost = try AudioFileReader.read(path: folder.appendingPathComponent("g.wav").path)
        let decoded = try Layer3Decoder.decode([UInt8](Data(contentsOf: folder.appendingPathComponent("v.mp3"))))
        #expect(ghost.frameCount == input.frameCount && decoded.audio.frameCount == input.frameCount)
        let largest = (0..<input.frameCount).reduce(Float(0)) { worst, n in
            max(worst, abs(input.channels[0][n] - ghost.channels[0][n] - decoded.audio.channels[0][n]))
        }
        #expect(largest < 1e-6)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)) == ["v.mp3", "r.json", "g.wav"])
    }

    @Test func badRequestsEndWithOneClearLine() throws {
        let folder = try Lossy.temporaryFolder()
        let rate22k = folder.appendingPathComponent("22k.wav").path
        try Data(waveHeader(rate: 22050, frames: 100) + [UInt8](repeating: 0, count: 400)).write(to: URL(fileURLWithPath: rate22k))
        let cases: [([String], Int32, String)] = [
            (["encode", Self.sample, "-o", "x.mp3", "--bitrate", "100"], 64,
             "bitrate 100 kbit/s is not an MPEG-1 Layer III bitrate; use one of 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320"),
            (["encode", rate22k, "-o", "x.mp3"], 1,
             "MPEG-1 Layer III codes 32000, 44100 or 48000 Hz; the input is 22050 Hz (resample it first)"),
            (["encode", Self.sample, "-o", Self.sample], 64, "the output \(Self.sample) is the input; choose another path"),
            (["encode", Self.sample, "-o", "x.mp3", "--lowpass", "30000"], 1, "lowpass 30000 Hz is outside 1000…22050 Hz"),
            (["encode", Self.sample, "-o", "x.mp3", "--lowpass=-5"], 64, "--lowpass must be a positive frequency in Hz, got -5"),
            (["encode", Self.sample, "-o", "x.mp3", "--mode", "surround"], 64, "The value 'surround' is invalid for '--mode <mode>'"),
            (["encode", Self.sample], 64, "Missing expected argument '--output <out.mp3>'"),
            (["encode", Self.sample, "-o", "x.mp3", "--year", "20260"], 64, "--year must be 0–9999, got 20260"),
            (["encode", Self.sample, "-o", "x.mp3", "--year", "soon"], 64, "The value 'soon' is invalid for '--year <year>'"),
            (["encode", "/nonexistent.wav", "-o", "x.mp3"], 1, "cannot read audio from /nonexistent.wav: "),
            (["encode", Self.sample, "-o", "x.mp3", "--vbr", "10"], 64, "--vbr must be 0…9, got 10"),
            (["encode", Self.sample, "-o", "x.mp3", "--abr", "400"], 64, "--abr must be 32…320 kbit/s, got 400"),
            (["encode", Self.sample, "-o", "x.mp3", "--vbr", "2", "--bitrate", "128"], 64, "choose one of --bitrate, --vbr and --abr"),
            (["encode", Self.sample, "-o", "x.mp3", "--ghost", "g.flac"], 64, "--ghost writes a float WAV file; name it .wav, got g.flac"),
            (["encode", Self.sample, "-o", "x.mp3", "--report", "x.mp3"], 64, "the output x.mp3 is the input; choose another path"),
        ]
        for (arguments, status, message) in cases {
            let run = try Lossy.run(arguments, in: folder)
            #expect(run.status == status, "\(arguments): \(run.stderr)")
            #expect(run.stderr.hasPrefix("lossy: " + message), "\(arguments): \(run.stderr)")
            #expect(run.stderr.filter { $0 == "\n" }.count == 1)
        }
        // Nothing was written by any of them.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["22k.wav"])
    }

    /// A 16-bit mono WAV header for `frames` samples.
    private func waveHeader(rate: Int, frames: Int) -> [UInt8] {
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        return Array("RIFF".utf8) + le32(36 + 2 * frames) + Array("WAVEfmt ".utf8) + le32(16) + le16(1) + le16(1)
            + le32(rate) + le32(2 * rate) + le16(2) + le16(16) + Array("data".utf8) + le32(2 * frames)
    }
}
