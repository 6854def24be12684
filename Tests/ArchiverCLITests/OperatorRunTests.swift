import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// Scheduled-run behaviour end to end: several workspaces from one config file, and the metrics file.
@Suite(.timeLimit(.minutes(10))) struct OperatorRunTests {
    static func simulatorConfiguration(recordings: Int, secondWorkspace: Int) -> SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = recordings
        configuration.emptyWorkspaceRecordingCount = secondWorkspace
        configuration.includesHostileRecording = false
        configuration.rateLimit.requestsPerMinute = 6000
        return configuration
    }

    static func config(_ simulator: RunningSimulator, root: URL, home: URL) throws -> URL {
        let url = home.appendingPathComponent("config.toml")
        let text = """
            base_url = "\(simulator.apiBaseURL)"
            archive_root = "\(root.path)"
            api_rate = 6000
            concurrency = 2

            [[workspace]]
            id = "\(simulator.workspaceID)"

            [[workspace]]
            id = "\(simulator.emptyWorkspaceID)"
            """
        try Data(text.utf8).write(to: url)
        return url
    }

    static func reports(in root: URL) throws -> [[String: Any]] {
        let runs = try FileManager.default.contentsOfDirectory(
            at: root.appendingPathComponent(".userplane-archiver/runs"),
            includingPropertiesForKeys: nil
        )
        return try runs.filter { $0.pathExtension == "json" }.compactMap {
            try JSONSerialization.jsonObject(with: Data(contentsOf: $0)) as? [String: Any]
        }.sorted { ($0["startedAt"] as? String ?? "") < ($1["startedAt"] as? String ?? "") }
    }

    static func tars(under directory: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        return (enumerator?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "tar" }.map(\.lastPathComponent)
    }

    @Test func archivesTwoWorkspacesFromTheConfigSharingOnePacer() async throws {
        try await withUserplaneSimulator(Self.simulatorConfiguration(recordings: 3, secondWorkspace: 2)) { simulator in
            try await withTemporaryDirectory { home in
                let root = home.appendingPathComponent("root")
                let config = try Self.config(simulator, root: root, home: home)
                let result = try await OperatorProcess.run(
                    ["archive", "--config", config.path, "--quiet"],
                    home: home,
                    environment: ["USERPLANE_API_KEY": simulator.apiKey]
                )
                #expect(result.status == 0, "\(result.stderr)")

                // Second-resolution timestamps cannot order the two runs: take them in config order.
                let byWorkspace = Dictionary(
                    try Self.reports(in: root).map { ($0["workspaceId"] as? String ?? "", $0) },
                    uniquingKeysWith: { first, _ in first }
                )
                #expect(byWorkspace.keys.sorted() == [simulator.workspaceID, simulator.emptyWorkspaceID].sorted())
                let reports = [simulator.workspaceID, simulator.emptyWorkspaceID].compactMap { byWorkspace[$0] }
                try #require(reports.count == 2)
                #expect(
                    (reports[0]["finishedAt"] as? String ?? "~") <= (reports[1]["startedAt"] as? String ?? ""),
                    "workspaces run one after the other, in file order"
                )
                for report in reports {
                    let workspace = try #require(report["workspaceId"] as? String)
                    let archived = (report["counts"] as? [String: Any])?["archived"] as? Int ?? -1
                    #expect(archived > 0, "\(workspace) should have archives")
                    #expect(Self.tars(under: root.appendingPathComponent(workspace)).count == archived)
                }
                // One pacer for the key: its counters run across workspaces, so the last report's call
                // count is every API call the simulator saw, more than the first workspace alone made.
                let calls = reports.map { ($0["api"] as? [String: Any])?["calls"] as? Int ?? -1 }
                let used = reports.map { ($0["api"] as? [String: Any])?["dailyBudgetUsed"] as? Int ?? -1 }
                #expect(calls[1] > calls[0])
                #expect(calls[1] == simulator.counters().apiCalls)
                #expect(used[1] == simulator.counters().apiCalls)
            }
        }
    }

    @Test func metricsFileAfterARunWithFailures() async throws {
        var configuration = Self.simulatorConfiguration(recordings: 3, secondWorkspace: 1)
        configuration.faults.blobDropAfterBytes = 100
        configuration.faults.blobFaultRequestsPerPath = 1000
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { home in
                let root = home.appendingPathComponent("root")
                let config = try Self.config(simulator, root: root, home: home)
                let metrics = home.appendingPathComponent("textfile/userplane_archiver.prom")
                try FileManager.default.createDirectory(
                    at: metrics.deletingLastPathComponent(),
                    withIntermediateDirectories: true
                )
                let result = try await OperatorProcess.run(
                    [
                        "archive", "--config", config.path, "--metrics-file", metrics.path, "--max-duration", "15s",
                        "--quiet",
                    ],
                    home: home,
                    environment: ["USERPLANE_API_KEY": simulator.apiKey]
                )
                #expect(result.status == 3, "\(result.stderr)")
                #expect(!FileManager.default.fileExists(atPath: metrics.path + ".partial"))
                let text = try String(contentsOf: metrics, encoding: .utf8)
                let samples = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
                let sampleLine = try Regex(
                    #"^userplane_archiver_[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? [0-9.e+-]+$"#
                )
                for sample in samples {
                    #expect(sample.wholeMatch(of: sampleLine) != nil, "not Prometheus text: \(sample)")
                }
                func value(_ prefix: String) -> Double? {
                    samples.first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
                }
                #expect(value(#"userplane_archiver_last_run_exit_code{command="archive"}"#) == 3)
                #expect(!text.contains("last_success_timestamp_seconds"), "no run succeeded yet")
                let failed = samples.filter { $0.hasPrefix("userplane_archiver_last_run_recordings_failed{") }
                    .compactMap { Double($0.split(separator: " ").last ?? "") }
                #expect(failed.count == 2, "one sample per workspace")
                #expect(failed.reduce(0, +) >= 1)
                let calls = samples.filter { $0.hasPrefix("userplane_archiver_last_run_api_calls{") }
                    .compactMap { Double($0.split(separator: " ").last ?? "") }
                #expect(calls.reduce(0, +) == Double(simulator.counters().apiCalls), "per-workspace deltas add up")
                #expect(value("userplane_archiver_archives") == 0)
                #expect((value("userplane_archiver_oldest_unarchived_recording_age_seconds") ?? 0) > 0)
                #expect((value(#"userplane_archiver_last_run_duration_seconds{command="archive"}"#) ?? 0) > 0)
            }
        }
    }
}
