import Foundation
import Testing

/// The memory benchmark's claim, checked on a smaller model than its
/// default 2 GB: lossy's peak stays below the largest tensor plus the
/// stated allowance. A memory figure, not a time, so it does not flake.
@Suite struct BenchMemoryTests {
    @Test func quantizingStaysWithinTheLargestTensorPlusTheAllowance() throws {
        let run = try Lossy.run(["bench", "memory", "--gigabytes", "0.6", "--no-peer"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("largest tensor token_embd.weight, 125.0 MiB"), "\(run.stdout)")
        #expect(run.stdout.contains("lossy's bound: largest tensor + 128 MiB = 253.0 MiB: within"), "\(run.stdout)")
    }
}
