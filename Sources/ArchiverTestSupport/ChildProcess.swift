public import Foundation

/// Runs child processes from async tests without blocking Swift's cooperative thread pool.
///
/// `Process.waitUntilExit()` and pipe reads block their thread. On a 2-core machine the cooperative
/// pool has two threads, so one blocked test stalls every in-process server of the tests running
/// beside it (seen here: a 1 s stall timeout measured as 11 s). Everything blocking runs on a
/// dedicated thread instead, and output goes to files, so a full pipe can never block the child.
public enum ChildProcess {
    /// How a finished child ended and what it printed.
    public struct Result: Sendable {
        /// The exit status, or the signal number when ``reason`` is `.uncaughtSignal`.
        public var status: Int32
        /// Whether the child exited or was killed by a signal.
        public var reason: Process.TerminationReason
        /// Everything written to standard output.
        public var stdout: String
        /// Everything written to standard error.
        public var stderr: String
    }

    /// Runs `executable` with `arguments` to completion.
    ///
    /// - Parameters:
    ///   - executable: The program.
    ///   - arguments: Its arguments.
    ///   - environment: Its whole environment; `nil` inherits the test runner's.
    /// - Returns: The exit status and the captured output.
    /// - Throws: When the program cannot be started.
    public static func run(
        _ executable: URL,
        _ arguments: [String],
        environment: [String: String]? = nil
    ) async throws -> Result {
        try await offPool {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("child-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let stdoutURL = directory.appendingPathComponent("stdout")
            let stderrURL = directory.appendingPathComponent("stderr")
            _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
            _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            if let environment { process.environment = environment }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
            process.standardError = try FileHandle(forWritingTo: stderrURL)
            try process.run()
            process.waitUntilExit()
            return Result(
                status: process.terminationStatus,
                reason: process.terminationReason,
                stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
            )
        }
    }

    /// Runs blocking `body` on a dedicated thread and returns its result.
    ///
    /// - Parameter body: The blocking work.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public static func offPool<Value: Sendable>(
        _ body: @escaping @Sendable () throws -> Value
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Swift.Result { try body() }) }.start()
        }
    }
}
