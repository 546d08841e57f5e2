import Dispatch
import Synchronization

/// Runs a producer on a thread of its own, at most `depth` items ahead of
/// the consumer that takes them in order: the encoder's analysis stage
/// beside its coding stage. The order and the items are what a plain loop
/// would give, so the output does not depend on the threads.
final class LookaheadQueue<Element: Sendable>: Sendable {
    private let free: DispatchSemaphore
    private let ready = DispatchSemaphore(value: 0)
    private let items = Mutex<[Element]>([])

    /// Starts `produce(0)`, `produce(1)`, … `produce(count − 1)` on a thread of their own.
    init(count: Int, depth: Int, produce: @escaping @Sendable (Int) -> Element) {
        precondition(depth > 0, "the queue holds at least one item")
        free = DispatchSemaphore(value: depth)
        DispatchQueue(label: "LookaheadQueue").async { [self] in
            for index in 0..<count {
                let item = produce(index)
                free.wait()
                items.withLock { $0.append(item) }
                ready.signal()
            }
        }
    }

    /// The next item, waiting for the producer if it has not made it yet.
    func next() -> Element {
        ready.wait()
        let item = items.withLock { $0.removeFirst() }
        free.signal()
        return item
    }
}
