import Foundation
import Testing

struct DecodeCommandTests {
    @Test func encodeThenDecodeTheBundledSample() throws {
        let folder = try Lossy.temporaryFolder()
        let sample = Lossy.packageRoot.appendingPathComponent("samples/tone-and-chirp.wav").path
        #expect(try Lossy.run(["encode", sample, "-o", "x.mp3"], in: folder).status == 0)
        let run = try Lossy.run(["decode", "x.mp3", "-o", "x.wav"], in: folder)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("x.wav: 78 frames, 88200 samples per channel at 44100 Hz, 2 channel(s); 0 damaged frame(s); trimmed encoder delay 528 and padding 1128"))
        let inspect = try Lossy.run(["inspect", folder.appendingPathComponent("x.wav").path])
        #expect(inspect.stdout.contains("frames       88200"))
        let mp3 = try Lossy.run(["inspect", folder.appendingPathComponent("x.mp3").path])
        #expect(mp3.stdout.contains("format       MPEG audio Layer III, 78 frames"), "\(mp3.stdout)")
        #expect(mp3.stdout.contains("bitrate      128.0 kbit/s on average"))
        #expect(mp3.stdout.contains("damaged      0 frame(s)"))
        let flac = try Lossy.run(["decode", "x.mp3", "-o", "x.flac"], in: folder)
        #expect(flac.status == 0, "stderr: \(flac.stderr)")
        #expect(try Lossy.run(["inspect", folder.appendingPathComponent("x.flac").path]).stdout.contains("FLAC"))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)) == ["x.mp3", "x.wav", "x.flac"])
    }

    @Test func badInputIsOneLine() throws {
        let folder = try Lossy.temporaryFolder()
        try Data("not an mp3 at all".utf8).write(to: folder.appendingPathComponent("junk.mp3"))
        let cases: [([String], Int32, String)] = [
            (["decode", "junk.mp3", "-o", "out.wav"], 1, "no MPEG audio Layer III frames found"),
            (["decode", "missing.mp3", "-o", "out.wav"], 1, "cannot read missing.mp3: no such file"),
            (["decode", "junk.mp3", "-o", "junk.mp3"], 64, "the output junk.mp3 is the input; choose another path"),
            (["decode", "junk.mp3", "-o", "out.flac", "--float"], 64, "FLAC holds integer samples only; drop --float or write .wav"),
        ]
        for (arguments, status, message) in cases {
            let run = try Lossy.run(arguments, in: folder)
            #expect(run.status == status, "\(arguments): \(run.stderr)")
            #expect(run.stderr.hasPrefix("lossy: " + message), "\(arguments): \(run.stderr)")
            #expect(run.stderr.filter { $0 == "\n" }.count == 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["junk.mp3"])
    }
}
