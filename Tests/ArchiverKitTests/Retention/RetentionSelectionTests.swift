import ArchiverKit
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct RetentionSelectionTests {
    private static let now = Date(timeIntervalSince1970: 1_700_000_000)
    private static let day: TimeInterval = 86_400

    private static func archive(_ id: String, daysOld: Double, workspace: String = "ws_1") -> ArchiveRecord {
        ArchiveRecord(
            workspaceID: workspace,
            recordingID: id,
            relativePath: "\(workspace)/\(id).tar",
            sizeBytes: 10,
            sha256: "00",
            archivedAt: now,
            recordingCreatedAt: now.addingTimeInterval(-daysOld * day)
        )
    }

    private static func hold(_ id: String, workspace: String? = nil, active: Bool = true) -> Hold {
        Hold(
            id: 1,
            recordingID: id,
            workspaceID: workspace,
            reason: "case",
            operatorName: "ana",
            createdAt: now,
            isActive: active,
            removedAt: nil
        )
    }

    @Test func selectsOnlyOldUnheldEntriesAndSaysWhyForEachOther() throws {
        var deleted = Self.archive("deleted", daysOld: 90)
        deleted.deletedLocallyAt = Self.now
        let archives = [
            Self.archive("old", daysOld: 31),
            Self.archive("boundary", daysOld: 30),
            Self.archive("new", daysOld: 1),
            Self.archive("held", daysOld: 400),
            Self.archive("heldElsewhere", daysOld: 400, workspace: "ws_1"),
            Self.archive("liftedHold", daysOld: 400),
            deleted,
        ]
        let holds = [
            Self.hold("held"), Self.hold("heldElsewhere", workspace: "ws_2"), Self.hold("liftedHold", active: false),
        ]
        let selection = try RetentionSelection.select(
            archives: archives,
            holds: holds,
            keepWithin: try RetentionDuration(parsing: "30d"),
            scope: .local,
            now: Self.now
        )
        let reasons = Dictionary(uniqueKeysWithValues: selection.decisions.map { ($0.archive.recordingID, $0.reason) })
        #expect(
            reasons == [
                "old": .selected, "boundary": .tooNew, "new": .tooNew, "held": .held,
                "heldElsewhere": .selected, "liftedHold": .selected, "deleted": .alreadyDeleted,
            ]
        )
        #expect(selection.selected.map(\.recordingID) == ["old", "heldElsewhere", "liftedHold"])
        #expect(selection.cutoff == Self.now.addingTimeInterval(-30 * Self.day))
    }

    @Test func scopeDecidesWhichDeletionCounts() throws {
        var prunedLocally = Self.archive("pruned", daysOld: 100)
        prunedLocally.deletedLocallyAt = Self.now
        let remote = try RetentionSelection.select(
            archives: [prunedLocally],
            holds: [],
            keepWithin: try RetentionDuration(parsing: "30d"),
            scope: .remote,
            now: Self.now
        )
        #expect(remote.decisions.map(\.reason) == [.selected])
        let local = try RetentionSelection.select(
            archives: [prunedLocally],
            holds: [],
            keepWithin: try RetentionDuration(parsing: "30d"),
            scope: .local,
            now: Self.now
        )
        #expect(local.decisions.map(\.reason) == [.alreadyDeleted])
    }

    @Test func maxDeleteRefusesWhenMoreWouldBeDeleted() throws {
        let archives = (0..<5).map { Self.archive("r\($0)", daysOld: 100) }
        let policy = try RetentionDuration(parsing: "30d")
        let error = try #require(throws: RetentionError.self) {
            try RetentionSelection.select(
                archives: archives,
                holds: [],
                keepWithin: policy,
                scope: .local,
                now: Self.now,
                maxDelete: 4
            )
        }
        #expect(error.code == .tooManyDeletions)
        #expect(error.message.contains("5 archives"))
        #expect(error.message.contains("nothing was deleted"))
        let exact = try RetentionSelection.select(
            archives: archives,
            holds: [Self.hold("r0")],
            keepWithin: policy,
            scope: .local,
            now: Self.now,
            maxDelete: 4
        )
        #expect(exact.selected.count == 4, "held entries do not count against the cap")
    }
}
