import Foundation

/// One line of progress on a terminal, rewritten in place; nothing at all
/// when stderr is a pipe or a file.
struct ProgressLine {
    let enabled = isatty(STDERR_FILENO) == 1

    func show(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

func printErr(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
