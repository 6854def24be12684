import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// Hostile ids, keys, proxies and archive roots through the real binary (issue 12, items 9, 13, 14, 15).
@Suite(.timeLimit(.minutes(4))) struct HostileInputTests {
    /// Item 14: an id with a NUL used to be cut at the NUL by SQLite, so the recording was never archived while
    /// the run exited 0.
    @Test func recordingIDWithANULFailsTheRunWithItsFullIdAndTheOthersAreArchived() async throws {
        let hostileId = "rec_\u{0}_hidden"
        let configuration = EndToEnd.configuration(recordings: 3) { configuration in
            configuration.content.unfinishedFraction = 0
            configuration.includesHostileRecording = true
            configuration.hostileRecordingID = hostileId
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let outcome = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(outcome.status == 3, "stderr: \(outcome.stderr.suffix(3000))")
                let inspection = ArchiveRootInspection(root: root)
                let report = try #require(try inspection.runReports().last)
                #expect(report.counts.failed == 1)
                let failure = try #require(report.failures.first)
                #expect(failure.recordingID == hostileId)
                #expect(failure.reason.contains("control character U+0000"))
                #expect(failure.willRetry == false)
                #expect(report.counts.archived == simulator.archivableRecordingIDs().count - 1)
            }
        }
    }

    /// Item 15: a key with CR/LF would inject request headers.
    @Test func keyWithALineBreakInsideExitsOneWithoutEchoingIt() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 1)) { simulator in
            try await withTemporaryDirectory { directory in
                let key = simulator.apiKey + "\r\nX-Injected: yes"
                let outcome = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: directory.appendingPathComponent("archive")),
                    environment: ["USERPLANE_API_KEY": key],
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(outcome.status == 1, "stderr: \(outcome.stderr.suffix(2000))")
                #expect(outcome.stderr.contains("control character"))
                EndToEnd.expectNoSecrets(in: outcome.output, key: simulator.apiKey, "output")
                #expect(simulator.counters().keyLeaks == 0)
            }
        }
    }

    /// Item 13: with `http_proxy` set, a loopback http base URL must not hand the key to the proxy.
    @Test func loopbackHTTPBaseURLBypassesTheProxyFromTheEnvironment() async throws {
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: Array("not an API".utf8)) { server in
                // One server plays both parts: a proxied request arrives in absolute form, a direct one does not.
                let outcome = try await ArchiverProcess.run(
                    [
                        "archive", "--workspace", "ws", "--archive", directory.appendingPathComponent("a").path,
                        "--base-url", server.baseURL + "/api/v1", "--dry-run",
                    ],
                    environment: [
                        "USERPLANE_API_KEY": "uspl_proxy_secret", "http_proxy": server.baseURL,
                        "HTTP_PROXY": server.baseURL, "all_proxy": server.baseURL, "no_proxy": "",
                    ],
                    logDirectory: EndToEnd.logDirectory(directory),
                    timeout: .seconds(60)
                )
                #expect(outcome.status != 0)
                let requests = server.requests
                #expect(!requests.isEmpty, "the API request reached the loopback server directly")
                for request in requests {
                    #expect(request.target.hasPrefix("/"), "request went through the proxy: \(request.target)")
                }
            }
        }
    }

    /// Item 9: archives the walk cannot reach (behind a symlink, or missing) are failures, not silence.
    @Test func verifyRootReportsCatalogedArchivesItDidNotCheck() async throws {
        let configuration = EndToEnd.configuration(recordings: 3) { configuration in
            configuration.content.unfinishedFraction = 0
            configuration.includesHostileRecording = false
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let archived = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(archived.status == 0, "stderr: \(archived.stderr.suffix(2000))")
                let tars = ArchiveRootInspection(root: root).tarFiles()
                try #require(tars.count == 3)
                // One tar moved elsewhere and replaced by a symlink, one deleted with its sidecar.
                let moved = root.appendingPathComponent(tars[0])
                let elsewhere = directory.appendingPathComponent("elsewhere.tar")
                try FileManager.default.moveItem(at: moved, to: elsewhere)
                try FileManager.default.createSymbolicLink(at: moved, withDestinationURL: elsewhere)
                try FileManager.default.removeItem(at: root.appendingPathComponent(tars[1]))
                try FileManager.default.removeItem(at: root.appendingPathComponent(tars[1] + ".sha256"))

                let verify = try await ArchiverProcess.run(
                    ["verify", root.path],
                    environment: [:],
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(verify.status == 4, "stdout: \(verify.stdout)")
                for tar in tars.prefix(2) {
                    #expect(
                        verify.stdout.split(separator: "\n").contains {
                            $0.hasPrefix("FAIL") && $0.contains(tar) && $0.contains("did not check")
                        },
                        "stdout: \(verify.stdout)"
                    )
                }
                #expect(verify.stdout.contains("OK    \(root.appendingPathComponent(tars[2]).path)"))
            }
        }
    }

    /// Item 6: a FIFO or a symlink to /dev/zero given to verify is refused at once, never read.
    @Test func verifyRefusesAFIFOAndASymlinkToDevZeroWithoutHanging() async throws {
        try await withTemporaryDirectory { directory in
            let fifo = directory.appendingPathComponent("fifo.tar")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            let zero = directory.appendingPathComponent("zero.tar")
            try FileManager.default.createSymbolicLink(atPath: zero.path, withDestinationPath: "/dev/zero")
            for path in [fifo.path, zero.path, "/dev/zero"] {
                let outcome = try await ArchiverProcess.run(
                    ["verify", path],
                    environment: [:],
                    logDirectory: EndToEnd.logDirectory(directory),
                    timeout: .seconds(30)
                )
                #expect(outcome.status == 4, "\(path): \(outcome.output)")
                #expect(
                    outcome.stdout.contains("not a regular file") || outcome.stdout.contains("symbolic link"),
                    "\(path): \(outcome.stdout)"
                )
            }
        }
    }

    /// Item 5's setting reaches the transfer engine: a blob larger than `--max-blob-size` is refused, not fetched.
    @Test func maxBlobSizeFlagIsHonouredAndValidated() async throws {
        let configuration = EndToEnd.configuration(recordings: 1) { configuration in
            configuration.content.unfinishedFraction = 0
            configuration.includesHostileRecording = false
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let bad = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root, ["--max-blob-size", "lots"]),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(bad.status == 64, "stderr: \(bad.stderr)")
                #expect(bad.stderr.contains("--max-blob-size"))
                let small = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root, ["--max-blob-size", "1KiB"]),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(small.status == 3, "stderr: \(small.stderr.suffix(2000))")
                let report = try #require(try ArchiveRootInspection(root: root).runReports().last)
                #expect(report.failures.first?.reason.contains("maximum blob size") == true, "\(report.failures)")
            }
        }
    }
}
