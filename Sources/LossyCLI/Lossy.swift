import ArgumentParser
import Foundation

@main
struct Lossy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lossy",
        abstract: "See what lossy compression throws away: rate-distortion tables, bounds and discard reports.",
        discussion: """
            One rate-distortion core drives every command: partitions, quantizers, rate models, \
            a Lagrangian allocator and the Shannon bound (reverse water-filling).
            """,
        version: "0.1.0",
        subcommands: [Encode.self, Decode.self, Quantize.self, Evaluate.self, Imatrix.self, Calibrate.self, Sweep.self, Compare.self, Inspect.self, Bench.self]
    )

    /// Parses and runs, turning every failure into one line on stderr and a
    /// non-zero exit: no usage dump, no stack trace.
    static func main() {
        Interrupts.install()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            // --help and --version arrive as errors that exit cleanly.
            if code == .success { exit(withError: error) }
            var message = message(for: error)
                .split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("Usage:") && !$0.hasPrefix("See '") }
                .joined(separator: "; ")
            if message.isEmpty { message = String(describing: error) }
            if code == .validationFailure { message += " (see 'lossy help')" }
            FileHandle.standardError.write(Data("lossy: \(message)\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }
}
