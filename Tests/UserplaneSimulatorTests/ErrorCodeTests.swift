import Testing
import UserplaneSimulator

@Suite(.timeLimit(.minutes(3))) struct ErrorCodeTests {
    @Test func authErrorsHaveDocumentedStatusesAndBodies() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let expired = simulator.apiKeys.first { $0.state == .expired }?.key
            let disabled = simulator.apiKeys.first { $0.state == .disabled }?.key
            let cases: [(String??, Int, String)] = [
                (.some(nil), 401, "API_KEY_REQUIRED"), (.some("uspl_wrong"), 401, "API_KEY_INVALID"),
                (.some(expired), 401, "API_KEY_EXPIRED"), (.some(disabled), 403, "API_KEY_DISABLED"),
            ]
            for (key, status, code) in cases {
                let reply = try await client.api("/public/me", key: key)
                #expect(reply.status == status)
                #expect(reply.error == code)
                #expect(reply.json.keys.sorted() == ["error", "message"])
            }
            let required = try await client.api("/public/me", key: .some(nil))
            #expect(
                required.json["message"] as? String
                    == "API key is required. Include it as Authorization: Bearer <your-api-key>."
                    + " See https://docs.userplane.io/api/authentication"
            )
        }
    }

    @Test func workspaceAndRecordingErrors() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let notMember = try await client.api("/public/workspace/\(simulator.foreignWorkspaceID)/recordings")
            #expect(notMember.status == 403 && notMember.error == "NOT_A_MEMBER")
            let missing = try await client.api("/public/workspace/ws_nope")
            #expect(missing.status == 404 && missing.error == "WORKSPACE_NOT_FOUND")
            let noRecording = try await client.api(client.recordingPath("rec_missing"))
            #expect(noRecording.status == 404 && noRecording.error == "RECORDING_NOT_FOUND")
            let foreign = try #require(simulator.foreignRecordingIDs.first)
            let mismatch = try await client.api(client.recordingPath(foreign), method: "DELETE")
            #expect(mismatch.status == 403 && mismatch.error == "RECORDING_WORKSPACE_MISMATCH")
            let forbidden = try #require(simulator.recordings.first { $0.isDeleteForbidden })
            let denied = try await client.api(client.recordingPath(forbidden.recordingID), method: "DELETE")
            #expect(denied.status == 403 && denied.error == "RECORDING_DELETE_FORBIDDEN")
            let workspace = try await client.api("/public/workspace/\(simulator.workspaceID)")
            #expect((workspace.data["workspace"] as? [String: Any])?["workspaceId"] as? String == simulator.workspaceID)
        }
    }

    @Test func softDeleteAnswers410EverywhereAndLeavesTheListing() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let target = try #require(simulator.recordings.first { !$0.isDeleteForbidden }).recordingID
            let deleted = try await client.api(client.recordingPath(target), method: "DELETE")
            #expect(deleted.status == 200)
            #expect(deleted.data["recordingId"] as? String == target)
            for suffix in ["", "/video", "/thumbnail", "/console-log", "/network-log", "/action"] {
                let reply = try await client.api(client.recordingPath(target) + suffix)
                #expect(reply.status == 410 && reply.error == "RECORDING_GONE")
            }
            let again = try await client.api(client.recordingPath(target), method: "DELETE")
            #expect(again.status == 410 && again.error == "RECORDING_GONE")
            let list = try await client.api("/public/workspace/\(simulator.workspaceID)/recordings?per_page=20&page=1")
            #expect(!SimulatorClient.ids(list).contains(target))
            #expect(SimulatorClient.pagination(list)["total"] as? Int == 25)
            #expect(simulator.counters().deletes == 1)
        }
    }

    @Test func injectedDeleteFailureAndKeyServiceOutage() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            var faults = SimulatorFaults()
            faults.failFirstDeletes = 1
            simulator.setFaults(faults)
            let target = try #require(simulator.recordings.first { !$0.isDeleteForbidden }).recordingID
            let failed = try await client.api(client.recordingPath(target), method: "DELETE")
            #expect(failed.status == 500 && failed.error == "RECORDING_DELETE_FAILED")
            let retried = try await client.api(client.recordingPath(target), method: "DELETE")
            #expect(retried.status == 200)
            faults.keyServiceDown = true
            simulator.setFaults(faults)
            let down = try await client.api("/public/me")
            #expect(down.status == 503 && down.error == "SERVICE_UNAVAILABLE")
        }
    }

    @Test func hostileIdIsServedByItsRawIdWhenPercentEncoded() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let hostile = try #require(simulator.hostileRecordingID)
            let reply = try await client.api(client.recordingPath(hostile))
            #expect(reply.status == 200)
            #expect((reply.data["recording"] as? [String: Any])?["recordingId"] as? String == hostile)
            let resource = try await client.api(client.recordingPath(hostile) + "/console-log")
            #expect(resource.status == 200)
            #expect(resource.data["recordingId"] as? String == hostile)
        }
    }
}
