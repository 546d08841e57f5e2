import Dispatch
import Synchronization

/// Runs a producer on a thread of its own, at most `depth` items ahead of
/// the consumer that takes them in order: each of the encoder's stages
/// (analysis, planning) beside the one after it. The items and their order
/// are what a plain loop would give, so the output does not depend on the
/// threads.
///
/// The consumer takes every item, `count` calls of `next()`: the producer
/// holds its state until it has handed over the last one.
final class LookaheadQueue<Element: Sendable>: Sendable {
    private let count: Int
    private let free: DispatchSemaphore
    private let ready = DispatchSemaphore(value: 0)
    /// Items made and not yet taken, and how many have been taken.
    private let state = Mutex<(items: [Element], taken: Int)>(([], 0))

    /// Starts `produce(0)`, `produce(1)`, … `produce(count − 1)` on a thread of their own.
    init(count: Int, depth: Int, produce: @escaping @Sendable (Int) -> Element) {
        precondition(depth > 0, "the queue holds at least one item")
        self.count = count
        free = DispatchSemaphore(value: depth)
        DispatchQueue(label: "LookaheadQueue").async { [self] in
            for index in 0..<count {
                free.wait()
                let item = produce(index)
                state.withLock { $0.items.append(item) }
                ready.signal()
            }
        }
    }

    /// The next item, waiting for the producer if it has not made it yet.
    func next() -> Element {
        state.withLock { state in
            precondition(state.taken < count, "all \(count) items were taken")
            state.taken += 1
        }
        ready.wait()
        let item = state.withLock { $0.items.removeFirst() }
        free.signal()
        return item
    }
}
