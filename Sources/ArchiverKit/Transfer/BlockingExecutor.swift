import Foundation

/// Runs blocking work (a libcurl transfer, large file I/O) on a dedicated thread, never on the cooperative pool.
///
/// One thread per call: the number of threads equals the number of concurrent transfers, which the caller
/// bounds (worker count). A dedicated thread rather than `DispatchQueue.global()` because on Linux the global
/// queue's pool is sized to the CPU count and only grows lazily when its threads block, which would serialise
/// eight long transfers on two cores.
enum BlockingExecutor {
    /// Runs `work` on a new thread and resumes with its result; task cancellation sets `flag`.
    static func run<Value: Sendable>(
        cancelling flag: CancellationFlag? = nil,
        _ work: @escaping @Sendable () -> Value
    ) async -> Value {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    continuation.resume(returning: work())
                }
                thread.name = "archiver-transfer"
                thread.start()
            }
        } onCancel: {
            flag?.cancel()
        }
    }
}
