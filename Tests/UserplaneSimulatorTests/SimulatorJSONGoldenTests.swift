import Foundation
import Testing

@testable import UserplaneSimulator

/// Pins the JSON keys of the simulator's admin API answers and of its `--config` file, whose Swift
/// properties spell ids `recordingID` and `workspaceID` while the JSON keeps `recordingId` and
/// `workspaceId` (issue 11, one spelling).
@Suite(.timeLimit(.minutes(1))) struct SimulatorJSONGoldenTests {
    /// The admin endpoints' encoder (`SimulatorResponder+Admin`): compact, sorted keys.
    static func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func expectedResource() throws {
        let resource = ExpectedResource(
            recordingID: "rec_1",
            resource: "video",
            isAvailable: true,
            captureEnabled: true,
            mediaType: "video/webm",
            fileName: "video.webm",
            size: 3,
            sha256: "ab",
            sha512: "cd"
        )
        let golden =
            #"{"captureEnabled":true,"fileName":"video.webm","isAvailable":true,"mediaType":"video\/webm","#
            + #""recordingId":"rec_1","resource":"video","sha256":"ab","sha512":"cd","size":3}"#
        #expect(try Self.encoded(resource) == golden)
        #expect(try JSONDecoder().decode(ExpectedResource.self, from: Data(golden.utf8)) == resource)
    }

    @Test func recordingSummary() throws {
        let summary = SimulatedRecordingSummary(
            recordingID: "rec_1",
            workspaceID: "ws_1",
            createdAt: "2026-01-01T00:00:00.000Z",
            status: "ready",
            title: "t",
            creatorMemberId: "m",
            projectId: "p",
            linkId: "l",
            durationMs: 5,
            isDeleted: false,
            isDeleteForbidden: false
        )
        let golden =
            #"{"createdAt":"2026-01-01T00:00:00.000Z","creatorMemberId":"m","durationMs":5,"isDeleteForbidden":false,"#
            + #""isDeleted":false,"linkId":"l","projectId":"p","recordingId":"rec_1","status":"ready","title":"t","#
            + #""workspaceId":"ws_1"}"#
        #expect(try Self.encoded(summary) == golden)
        #expect(try JSONDecoder().decode(SimulatedRecordingSummary.self, from: Data(golden.utf8)) == summary)
    }

    @Test func faults() throws {
        var faults = SimulatorFaults()
        faults.vanishedRecordingIDs = ["rec_1"]
        faults.vanishStatus = 410
        let golden =
            #"{"apiErrorRate":0,"apiLatencyMilliseconds":0,"blobDropMode":"close","blobStallSeconds":30,"#
            + #""deleteWhileListing":0,"#
            + #""failFirstAPIRequestsPerPath":0,"failFirstDeletes":0,"insertWhileListing":0,"keyServiceDown":false,"#
            + #""vanishStatus":410,"vanishedRecordingIds":["rec_1"]}"#
        #expect(try Self.encoded(faults) == golden)
        let decoded = try SimulatorFaults(json: Array(#"{"vanishedRecordingIds":["rec_1"],"vanishStatus":410}"#.utf8))
        #expect(decoded == faults)
    }

    @Test func configurationKeys() throws {
        let configuration = try SimulatorConfiguration(json: Array(#"{"hostileRecordingId":"../x"}"#.utf8))
        #expect(configuration.hostileRecordingID == "../x")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(Self.encoded(configuration).utf8)) as? [String: Any]
        )
        #expect(
            object.keys.sorted() == [
                "blob", "content", "deleteForbiddenCount", "emptyWorkspaceRecordingCount", "faults",
                "host", "hostileRecordingId", "includesHostileRecording", "journalCapacity", "port", "rateLimit",
                "recordingCount", "reportsWorkspaceMismatchOnGet", "seed", "sendsRequestId",
            ]
        )
        #expect(object["hostileRecordingId"] as? String == "../x")
    }
}
