import ArchiverTestSupport
import Foundation
import Synchronization
import Testing
import UserplaneSimulator

/// The single-instance lock between two processes: `flock(1)` holds the archive root's lock file
/// (the same `flock` the archiver takes), and a real `userplane-archiver` contends for it.
@Suite(.timeLimit(.minutes(10))) struct OperatorLockTests {
    /// Starts `flock LOCK sh -c 'echo locked; exec cat'` and returns once it holds the lock; closing
    /// the returned pipe's write end makes `cat`, and so the holder, exit.
    static func holdLock(at path: String) async throws -> (Process, Pipe) {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["--exclusive", path, "sh", "-c", "echo locked; exec cat"]
        let input = Pipe()
        let output = Pipe()
        holder.standardInput = input
        holder.standardOutput = output
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            output.fileHandleForReading.readabilityHandler = { handle in
                handle.readabilityHandler = nil
                continuation.resume()
            }
            do {
                try holder.run()
            } catch {
                output.fileHandleForReading.readabilityHandler = nil
                continuation.resume()
            }
        }
        #expect(holder.isRunning, "flock should hold the lock")
        return (holder, input)
    }

    static func release(_ holder: Process, _ input: Pipe) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // The handler may fire before or after the isRunning check: resume exactly once either way.
            let once = ResumeOnce()
            holder.terminationHandler = { _ in if once.claim() { continuation.resume() } }
            try? input.fileHandleForWriting.close()
            if !holder.isRunning, once.claim() { continuation.resume() }
        }
    }

    static func lockPath(_ root: URL) throws -> String {
        let state = root.appendingPathComponent(".userplane-archiver")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        return state.appendingPathComponent("lock").path
    }

    @Test func secondProcessExits75WhileTheLockIsHeld() async throws {
        try await withTemporaryDirectory { home in
            let root = home.appendingPathComponent("root")
            let (holder, input) = try await Self.holdLock(at: try Self.lockPath(root))
            let result = try await OperatorProcess.run(
                ["archive", "--workspace", "ws_x", "--archive", root.path, "--base-url", "http://127.0.0.1:9/api/v1"],
                home: home,
                environment: ["USERPLANE_API_KEY": "uspl_test"]
            )
            await Self.release(holder, input)
            #expect(result.status == 75)
            #expect(result.stderr.contains("another userplane-archiver process is working on"), "\(result.stderr)")
            #expect(result.stderr.contains("--wait-lock"))
        }
    }

    @Test func waitLockBlocksUntilTheHolderExitsThenRuns() async throws {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 2
        configuration.includesHostileRecording = false
        configuration.rateLimit.requestsPerMinute = 6000
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { home in
                let root = home.appendingPathComponent("root")
                let (holder, input) = try await Self.holdLock(at: try Self.lockPath(root))
                let waiter = try OperatorProcess(
                    [
                        "archive", "--workspace", simulator.workspaceID, "--archive", root.path, "--base-url",
                        simulator.apiBaseURL, "--api-rate", "6000", "--wait-lock", "--quiet",
                    ],
                    home: home,
                    environment: ["USERPLANE_API_KEY": simulator.apiKey]
                )
                async let finished = waiter.run()
                // Wait (bounded) until the kernel lists the archiver as blocked on the lock: /proc/locks
                // shows waiters as "N: -> FLOCK ... <pid> ...".
                var isBlocked = false
                for _ in 0..<1500 where !isBlocked {
                    let pid = waiter.process.processIdentifier
                    let locks = (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? ""
                    isBlocked =
                        pid > 0
                        && locks.split(separator: "\n").contains { $0.contains("->") && $0.contains(" \(pid) ") }
                    if !isBlocked { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(isBlocked, "the archiver should be waiting on the lock")
                #expect(waiter.process.isRunning, "it must not finish while the lock is held")
                let releasedAt = Date()
                await Self.release(holder, input)
                let result = try await finished
                #expect(result.status == 0, "\(result.stderr)")
                let runs = try FileManager.default.contentsOfDirectory(
                    at: root.appendingPathComponent(".userplane-archiver/runs"),
                    includingPropertiesForKeys: nil
                )
                #expect(runs.count == 1)
                let firstRun = try #require(runs.first)
                let object = try JSONSerialization.jsonObject(with: Data(contentsOf: firstRun))
                let report = try #require(object as? [String: Any])
                let startedAt = try #require(ISO8601DateFormatter().date(from: report["startedAt"] as? String ?? ""))
                #expect(startedAt >= releasedAt.addingTimeInterval(-1), "the run started only after the release")
            }
        }
    }
}

/// Lets exactly one of several racing callers resume a continuation.
private final class ResumeOnce: Sendable {
    private let claimed = Mutex(false)

    func claim() -> Bool {
        claimed.withLock { claimed in
            defer { claimed = true }
            return !claimed
        }
    }
}
