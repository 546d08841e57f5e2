import Foundation

/// SIGINT, SIGTERM and SIGHUP during a run: every temporary output still
/// being written is removed, one line says why, and the exit is 128 + the
/// signal's number, as a shell reports it. The handler may only make
/// async-signal-safe calls (unlink, write, _exit), so the paths live in a
/// fixed table of C strings that it reads without locking; registering and
/// forgetting take a lock against each other only.
enum Interrupts {
    /// Temporary outputs that may be open at once (one per output of a command).
    static let capacity = 32

    nonisolated(unsafe) private static let table: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        table.initialize(repeating: nil, count: capacity)
        return table
    }()
    private static let lock = NSLock()

    /// Installs the handlers and unblocks the signals (a parent may have
    /// left them blocked, and the child inherits its mask); call once,
    /// before any output is opened.
    static func install() {
        _ = table
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for number in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&unblocked, number) }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number) { number in
                for slot in 0..<Interrupts.capacity {
                    if let path = Interrupts.table[slot] { unlink(path) }
                }
                let message: StaticString = number == SIGINT ? "lossy: interrupted; no output was left half-written\n"
                    : "lossy: terminated; no output was left half-written\n"
                _ = message.withUTF8Buffer { write(STDERR_FILENO, $0.baseAddress, $0.count) }
                _exit(128 + number)
            }
        }
    }

    /// Remembers `path` to remove if a signal arrives; returns its slot for `forget`.
    static func register(_ path: String) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard let slot = (0..<capacity).first(where: { table[$0] == nil }) else { return nil }
        table[slot] = strdup(path)
        return slot
    }

    static func forget(_ slot: Int?) {
        guard let slot else { return }
        lock.lock()
        defer { lock.unlock() }
        let path = table[slot]
        table[slot] = nil
        free(path)
    }
}
