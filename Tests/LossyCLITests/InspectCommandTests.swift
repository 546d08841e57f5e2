import Foundation
import Testing

struct InspectCommandTests {
    @Test func describesTheBundledSample() throws {
        let sample = Lossy.packageRoot.appendingPathComponent("samples/tone-and-chirp.wav").path
        let run = try Lossy.run(["inspect", sample])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("sample rate  44100 Hz"))
        #expect(run.stdout.contains("channels     2"))
        #expect(run.stdout.contains("frames       88200 (2.000 s)"))
        // The left channel is a 1 kHz sine at −20 dBFS.
        #expect(run.stdout.contains("      0       -20.00      -23.01"))
    }
}
