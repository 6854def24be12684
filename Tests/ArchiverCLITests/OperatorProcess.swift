import ArchiverTestSupport
import Foundation

/// Runs `userplane-archiver` (or another binary) as a child process without blocking the cooperative pool.
///
/// Output goes to files, not pipes, so a chatty child never blocks on a full pipe; the exit is awaited
/// through `terminationHandler`. The environment is the test's minus every `USERPLANE_*` variable, with
/// `HOME` and `XDG_CONFIG_HOME` pointed into `home` so no real configuration file is picked up.
struct OperatorProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    init(
        executable: URL = ExecutableLocator.url(of: "userplane-archiver"),
        _ arguments: [String],
        home: URL,
        environment: [String: String] = [:]
    ) throws {
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("USERPLANE_") }
        merged["HOME"] = home.path
        merged["XDG_CONFIG_HOME"] = home.appendingPathComponent("xdg").path
        merged.merge(environment) { _, new in new }
        let tag = UUID().uuidString
        stdoutURL = home.appendingPathComponent("stdout-\(tag).txt")
        stderrURL = home.appendingPathComponent("stderr-\(tag).txt")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        process.environment = merged
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
    }

    /// Starts the process and waits for it to exit.
    func run() async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        )
    }

    /// Runs `arguments` and waits for the exit.
    static func run(_ arguments: [String], home: URL, environment: [String: String] = [:]) async throws -> Result {
        try await OperatorProcess(arguments, home: home, environment: environment).run()
    }
}
