import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// `archive` into a root whose year folder is a symbolic link fails the recording at once and archives it next run.
///
/// The year folder (`<root>/<workspace>/<YYYY>`) links to a folder outside the root: the recording fails with a
/// message naming the link before any of its resources is downloaded, and nothing is written through the link.
/// Only an operator can remove the link, so the job is not retried in the same run (which used to wait 30 s, then
/// 60 s, for the same refusal): the run exits 3 at once, and the next run, after the link is removed, archives the
/// recording.
@Suite(.timeLimit(.minutes(5))) struct LinkedFolderArchiveCLITests {
    @Test func aLinkedYearFolderIsRefusedBeforeAnyDownload() async throws {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 1
        configuration.includesHostileRecording = false
        configuration.content.maximumVideoBytes = 16 << 10
        configuration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(configuration) { sim in
            try await withTemporaryDirectory { scratch in
                let recording = try #require(sim.recordings.first { !$0.isDeleted })
                let root = scratch.appendingPathComponent("archive", isDirectory: true)
                let workspace = root.appendingPathComponent(sim.workspaceID, isDirectory: true)
                try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
                let outside = scratch.appendingPathComponent("outside", isDirectory: true)
                try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
                let link = workspace.appendingPathComponent(String(recording.createdAt.prefix(4)))
                try FileManager.default.createSymbolicLink(at: link, withDestinationURL: outside)

                let archive = try await RetentionCLITests.archiver(
                    ["archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url", sim.apiBaseURL],
                    key: sim.apiKey,
                    in: scratch
                )
                let output = archive.stdout + archive.stderr
                #expect(archive.status == 3, "\(output)")
                #expect(output.contains("\(link.path) is a symbolic link"), "\(output)")
                #expect(sim.counters().blobRequests == 0, "nothing downloaded: \(sim.counters())")
                #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == outside.path)
                let reports = try ArchiveRootInspection(root: root).runReports()
                let failure = try #require(reports.last?.failures.first)
                // Not retried in this run, but by the next one, which requeues it (and archives it below).
                #expect(failure.willRetry == true, "\(failure)")
                #expect(failure.attempts == 1, "retried in the same run: \(failure)")
                #expect(failure.reason.contains("next run"), "\(failure.reason)")

                let status = try await RetentionCLITests.archiver(
                    ["status", "--archive", root.path],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(
                    status.stdout.contains("failed-permanently, 1 attempt(s), retried by the next run"),
                    "\(status)"
                )

                // The operator removes the link: the next run archives the recording.
                try FileManager.default.removeItem(at: link)
                let again = try await RetentionCLITests.archiver(
                    ["archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url", sim.apiBaseURL],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(again.status == 0, "\(again.stdout + again.stderr)")
                let tars = RetentionCLITests.tars(under: root).filter { $0.hasSuffix(".tar") }
                #expect(tars.count == sim.archivableRecordingIDs().count, "\(tars)")
                #expect(
                    tars.contains { $0.hasSuffix("/" + RecordingPathComponent.encode(recording.recordingID) + ".tar") }
                )
                #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
            }
        }
    }
}
