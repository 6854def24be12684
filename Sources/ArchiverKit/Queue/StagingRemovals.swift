import Foundation
import Synchronization

/// Removals of finished jobs' staging directories, each on a thread of its own, that the run waits for only at its
/// very end.
///
/// Unlinking a large staged file blocks until the file system has freed its blocks, and on a file system mounted
/// with `discard` (without a journal, as on the 2-core benchmark VM) until the device has discarded them: about
/// 0.5 ms per MiB there, 100-170 ms for a 256 MiB video. Off the cooperative pool and not awaited by the worker, that
/// wait overlaps the worker's next job, the other workers' packing, and the end of the run (report, catalog), instead
/// of holding one of the pool's few threads and coming on top of everything else.
///
/// Only the staging of a job that reached a final state (archived, gone) is removed this way: no worker claims such a
/// job again, so nothing writes to that staging directory while it goes.
final class StagingRemovals: Sendable {
    private struct State {
        var running = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Starts `removal` on a new thread and returns at once.
    func start(_ removal: @escaping @Sendable () -> Void) {
        state.withLock { $0.running += 1 }
        let thread = Thread { [self] in
            removal()
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.running -= 1
                guard state.running == 0 else { return [] }
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = "archiver-cleanup"
        thread.start()
    }

    /// Returns once every removal started so far has finished.
    func waitForAll() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isIdle = state.withLock { state -> Bool in
                guard state.running > 0 else { return true }
                state.waiters.append(continuation)
                return false
            }
            if isIdle { continuation.resume() }
        }
    }
}
