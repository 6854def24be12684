import ArchiverTestSupport
import Foundation
import Testing

/// The `userplane-sim` executable as the demo and the benchmarks use it: info file, real HTTP, clean stop.
@Suite(.timeLimit(.minutes(10))) struct SimulatorBinaryTests {
    @Test func servesTheAPIAndStopsCleanlyOnSIGTERM() async throws {
        try await withTemporaryDirectory { directory in
            let info = directory.appendingPathComponent("sim.json")
            let counters = directory.appendingPathComponent("counters.json")
            let simulator = Process()
            simulator.executableURL = ExecutableLocator.url(of: "userplane-sim")
            simulator.arguments = [
                "--port", "0", "--recordings", "5", "--seed", "11",
                "--info-file", info.path, "--counters-file", counters.path,
            ]
            simulator.standardOutput = FileHandle.nullDevice
            simulator.standardError = FileHandle.nullDevice
            try simulator.run()
            defer { if simulator.isRunning { simulator.terminate() } }

            // Readiness: the info file appears (atomically) once the server listens.
            let deadline = Date().addingTimeInterval(30)
            while !FileManager.default.fileExists(atPath: info.path) {
                try #require(Date() < deadline, "userplane-sim did not write its info file within 30 s")
                try #require(simulator.isRunning, "userplane-sim exited early")
                try await Task.sleep(for: .milliseconds(50))
            }
            let fields = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: info)) as? [String: String]
            )
            let apiBaseURL = try #require(fields["apiBaseURL"])
            let apiKey = try #require(fields["apiKey"])
            let workspaceID = try #require(fields["workspaceId"])

            let listing = try await curl(
                [
                    "-sS", "-H", "Authorization: Bearer \(apiKey)",
                    "\(apiBaseURL)/public/workspace/\(workspaceID)/recordings?per_page=20&page=1",
                ]
            )
            let body = try #require(try JSONSerialization.jsonObject(with: Data(listing.utf8)) as? [String: Any])
            let data = try #require(body["data"] as? [String: Any])
            let pagination = try #require(data["pagination"] as? [String: Any])
            #expect((pagination["total"] as? Int ?? 0) >= 5)
            #expect(body["message"] is String)

            let unauthorized = try await curl(["-sS", "\(apiBaseURL)/public/me"])
            #expect(unauthorized.contains("\"API_KEY_REQUIRED\""))

            simulator.terminate()  // SIGTERM
            try await ChildProcess.offPool { simulator.waitUntilExit() }
            #expect(simulator.terminationReason == .exit)
            #expect(simulator.terminationStatus == 0)
            let written = try JSONSerialization.jsonObject(with: Data(contentsOf: counters)) as? [String: Any]
            #expect((written?["apiCalls"] as? Int ?? 0) >= 1)
        }
    }

    private func curl(_ arguments: [String]) async throws -> String {
        try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/curl"), arguments).stdout
    }
}
