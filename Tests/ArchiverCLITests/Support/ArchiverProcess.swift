import ArchiverTestSupport
import Foundation
import Testing

/// The real `userplane-archiver` binary running as a child process, with stdout and stderr captured
/// in files (no pipe can fill up and block the child).
final class ArchiverProcess: Sendable {
    /// How a finished process ended.
    struct Outcome: Sendable {
        var status: Int32
        var reason: Process.TerminationReason
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
    }

    /// Thrown when a bounded wait runs out; the process has been killed.
    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    let process: Process
    let stdoutURL: URL
    let stderrURL: URL
    let arguments: [String]

    /// Starts `userplane-archiver arguments` with the test environment plus `environment`.
    ///
    /// Every `USERPLANE_*` variable of the test runner is removed first, so only what a test passes counts.
    init(_ arguments: [String], environment: [String: String], logDirectory: URL) throws {
        self.arguments = arguments
        let process = Process()
        process.executableURL = ExecutableLocator.url(of: "userplane-archiver")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("USERPLANE_") }
        env.merge(environment) { _, new in new }
        process.environment = env
        let stamp = UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        stdoutURL = logDirectory.appendingPathComponent("archiver-\(stamp).stdout")
        stderrURL = logDirectory.appendingPathComponent("archiver-\(stamp).stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Sends `signal` (such as `SIGKILL` or `SIGINT`) to the process.
    func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the process to exit, killing it and throwing ``Timeout`` after `timeout`.
    ///
    /// The exit is seen with `waitid(WNOWAIT)`, not only through `Process.isRunning`: Foundation learns of a child's
    /// exit when a socket the child inherited is closed, and a child that another test thread spawns at the same
    /// moment can inherit that socket too (Foundation's `socketpair` is not close-on-exec), so `isRunning` can stay
    /// `true` for as long as that other child lives, with the archiver long dead (a zombie).
    func waitForExit(timeout: Duration) async throws -> Outcome {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if let exited = exitSeenByKernel() {
                return Outcome(status: exited.status, reason: exited.reason, stdout: stdout, stderr: stderr)
            }
            if ContinuousClock.now >= deadline {
                send(SIGKILL)
                process.waitUntilExit()
                throw Timeout(
                    description: "userplane-archiver \(arguments.joined(separator: " ")) did not exit within "
                        + "\(timeout); stderr:\n\(stderr.suffix(4000))"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            reason: process.terminationReason,
            stdout: stdout,
            stderr: stderr
        )
    }

    /// The exit status of a child that has exited but may not be reaped yet; `nil` while it runs (or once reaped).
    private func exitSeenByKernel() -> (status: Int32, reason: Process.TerminationReason)? {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
            info._sifields._sigchld.si_pid == pid
        else { return nil }
        let status = info._sifields._sigchld.si_status
        return info.si_code == CLD_EXITED ? (status, .exit) : (status, .uncaughtSignal)
    }

    /// Polls stdout until it contains `text`; returns `false` when the process exits or `timeout` passes first.
    func waitForOutput(containing text: String, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if stdout.contains(text) { return true }
            if !process.isRunning { return stdout.contains(text) }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Runs the archiver to completion.
    static func run(
        _ arguments: [String],
        environment: [String: String],
        logDirectory: URL,
        timeout: Duration = .seconds(120)
    ) async throws -> Outcome {
        let process = try ArchiverProcess(arguments, environment: environment, logDirectory: logDirectory)
        return try await process.waitForExit(timeout: timeout)
    }
}
