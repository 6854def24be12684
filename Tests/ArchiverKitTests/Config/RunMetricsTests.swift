import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(3))) struct RunMetricsTests {
    static func report(_ workspace: String, archived: Int, failed: Int, calls: Int, rateLimited: Int) -> RunReport {
        var report = RunReport(
            runID: "r-\(workspace)",
            command: "archive",
            workspaceID: workspace,
            arguments: [],
            startedAt: Date(timeIntervalSince1970: 0)
        )
        report.counts.archived = archived
        report.counts.failed = failed
        report.api.calls = calls
        report.api.rateLimited = rateLimited
        report.bytesDownloaded = 2048
        var listing = RunReport.Listing(mode: workspace == "ws_a" ? "incremental" : "full")
        listing.pages = workspace == "ws_a" ? 2 : 20
        report.listing = listing
        return report
    }

    static func sample(lastSuccess: Date?) -> RunMetrics {
        RunMetrics(
            command: "archive",
            reports: [
                report("ws_a", archived: 3, failed: 1, calls: 10, rateLimited: 1),
                report("ws_\"b\"", archived: 2, failed: 0, calls: 25, rateLimited: 3),
            ],
            exitCode: 3,
            duration: .milliseconds(1500),
            finishedAt: Date(timeIntervalSince1970: 1_000_000),
            lastSuccessAt: lastSuccess,
            archivesTotal: 42,
            archivedBytesTotal: 4096,
            oldestUnarchivedCreatedAt: Date(timeIntervalSince1970: 1_000_000 - 3600)
        )
    }

    @Test func rendersEveryMetricWithPerWorkspaceAPIDeltas() {
        let text = Self.sample(lastSuccess: Date(timeIntervalSince1970: 900_000)).prometheusText
        let samples = Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init))
        for expected in [
            #"userplane_archiver_last_run_timestamp_seconds{command="archive"} 1000000"#,
            #"userplane_archiver_last_success_timestamp_seconds{command="archive"} 900000"#,
            #"userplane_archiver_last_run_exit_code{command="archive"} 3"#,
            #"userplane_archiver_last_run_duration_seconds{command="archive"} 1.5"#,
            #"userplane_archiver_last_run_recordings_archived{command="archive",workspace="ws_a"} 3"#,
            #"userplane_archiver_last_run_recordings_failed{command="archive",workspace="ws_a"} 1"#,
            #"userplane_archiver_last_run_recordings_failed{command="archive",workspace="ws_\"b\""} 0"#,
            #"userplane_archiver_last_run_bytes_downloaded{command="archive",workspace="ws_a"} 2048"#,
            #"userplane_archiver_last_run_api_calls{command="archive",workspace="ws_a"} 10"#,
            #"userplane_archiver_last_run_api_calls{command="archive",workspace="ws_\"b\""} 15"#,
            #"userplane_archiver_last_run_api_rate_limited{command="archive",workspace="ws_\"b\""} 2"#,
            #"userplane_archiver_last_run_listing_pages{command="archive",mode="incremental",workspace="ws_a"} 2"#,
            #"userplane_archiver_last_run_listing_pages{command="archive",mode="full",workspace="ws_\"b\""} 20"#,
            "userplane_archiver_archives 42",
            "userplane_archiver_archived_bytes 4096",
            "userplane_archiver_oldest_unarchived_recording_age_seconds 3600",
        ] {
            #expect(samples.contains(expected), "missing \(expected)")
        }
        #expect(text.contains("# TYPE userplane_archiver_last_run_recordings_deferred gauge\n"))
        #expect(text.hasSuffix("\n"))
    }

    @Test func omitsLastSuccessWhenThereWasNone() {
        let text = Self.sample(lastSuccess: nil).prometheusText
        #expect(!text.contains("last_success_timestamp_seconds"))
    }

    @Test func lastSuccessIsReadBackFromThePreviousFile() {
        let previous = Self.sample(lastSuccess: Date(timeIntervalSince1970: 900_000)).prometheusText
        #expect(RunMetrics.lastSuccess(in: previous, command: "archive") == Date(timeIntervalSince1970: 900_000))
        #expect(RunMetrics.lastSuccess(in: previous, command: "download") == nil)
        #expect(RunMetrics.lastSuccess(in: Self.sample(lastSuccess: nil).prometheusText, command: "archive") == nil)
    }

    @Test func writesAtomicallyWithoutLeavingAPartialFile() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("userplane_archiver.prom").path
            try Data("stale\n".utf8).write(to: URL(fileURLWithPath: path))
            let metrics = Self.sample(lastSuccess: nil)
            try metrics.write(to: path)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == metrics.prometheusText)
            #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
        }
    }

    @Test func previousMetricsFileIsReadOnlyWhenItIsARegularFile() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("userplane_archiver.prom").path
            #expect(RunMetrics.previousText(at: file) == nil)
            try Data("x 1\n".utf8).write(to: URL(fileURLWithPath: file))
            #expect(RunMetrics.previousText(at: file) == "x 1\n")
            let fifo = directory.appendingPathComponent("fifo.prom").path
            #expect(mkfifo(fifo, 0o600) == 0)
            #expect(RunMetrics.previousText(at: fifo) == nil)
        }
    }
}
