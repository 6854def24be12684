import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// Several `archive` processes sharing one PostgreSQL database and one archive root (issue 15), against the
/// simulator at its rate limit, one of them killed with SIGKILL mid-run.
@Suite(.postgresServer, .timeLimit(.minutes(8))) struct SharedDatabaseEndToEndTests {
    @Test func threeArchiversShareOneQueueAndOneRateLimit() async throws {
        let limit = 600
        let configuration = EndToEnd.configuration(recordings: 45) { configuration in
            configuration.rateLimit.requestsPerMinute = limit
            configuration.content.maximumVideoBytes = 8 << 10
            configuration.includesHostileRecording = false
        }
        let database = try await PostgresTestServer.suiteServer().createDatabase("e2e")
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                var environment = EndToEnd.environment(simulator)
                environment["USERPLANE_DATABASE_URL"] = database.url
                environment["USERPLANE_DATABASE_LEASE_SECONDS"] = "4"
                let arguments = EndToEnd.archiveArguments(
                    simulator,
                    root: root,
                    apiRate: limit,
                    ["--concurrency", "2"]
                )
                let logs = EndToEnd.logDirectory(directory)
                // The victim's leases last 40 s, longer than the survivors need for the rest: they must wait for
                // its leases to run out and then finish its jobs, not exit leaving them undone.
                var victimEnvironment = environment
                victimEnvironment["USERPLANE_DATABASE_LEASE_SECONDS"] = "40"
                let processes = try [victimEnvironment, environment, environment].map {
                    try ArchiverProcess(arguments, environment: $0, logDirectory: logs)
                }
                // Kill one as soon as it has archived something: it dies holding leases.
                let victim = processes[0]
                _ = try await victim.waitForOutput(containing: "recording-archived", timeout: .seconds(60))
                victim.send(SIGKILL)
                _ = try await victim.waitForExit(timeout: .seconds(10))
                for survivor in processes.dropFirst() {
                    let outcome = try await survivor.waitForExit(timeout: .seconds(180))
                    #expect(outcome.status == 0 || outcome.status == 3, "stderr: \(outcome.stderr.suffix(2000))")
                }
                let counters = simulator.counters()
                #expect(counters.rateLimited == 0)
                #expect(counters.maxAPICallsInWindow <= limit)
                let inspection = ArchiveRootInspection(root: root)
                let tars = inspection.tarFiles()
                #expect(tars.count == simulator.archivableRecordingIDs().count)
                #expect(Set(tars).count == tars.count)
                // The work was shared, and the survivors finished what the victim held once its lease ran out: with
                // the victim's, every recording was archived once (the victim wrote no report).
                let reports = try inspection.runReports()
                let archivedPerRun = reports.map(\.counts.archived)
                #expect(reports.count == 2, "the two survivors")
                #expect(archivedPerRun.prefix(2).allSatisfy { $0 > 0 }, "\(archivedPerRun)")
                #expect(archivedPerRun.reduce(0, +) < tars.count, "the victim archived some before it died")
                let verify = try await ArchiverProcess.run(
                    ["verify", root.path],
                    environment: [:],
                    logDirectory: logs,
                    timeout: .seconds(120)
                )
                #expect(verify.status == 0, "verify: \(verify.output.suffix(2000))")
            }
        }
    }
}
