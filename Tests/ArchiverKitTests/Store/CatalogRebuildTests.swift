import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// A root with archives but no readable state is refused; `rebuildCatalog` restores the catalog from the
/// archives and the holds from `holds.jsonl`.
@Suite(.timeLimit(.minutes(5))) struct CatalogRebuildTests {
    /// Packs a real archive at `<root>/ws_1/2024/05/<id>.tar`.
    static func packArchive(_ id: String, root: URL, scratch: URL) throws -> PackedArchive {
        let recording = try PackingFixture.fullRecording(in: scratch, id: id, videoBytes: 4096)
        let directory = try PrivateFile.makeDirectories(["ws_1", "2024", "05"], under: root.path)
        return try ArchivePackager().pack(
            recording,
            to: URL(fileURLWithPath: directory).appendingPathComponent(RecordingPathComponent.encode(id) + ".tar")
        )
    }

    @Test func missingOrEmptyStateWithArchivesIsRefused() async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            _ = try Self.packArchive("rec_1", root: root, scratch: scratch)
            let missing = #expect(throws: StoreError.self) { try ArchiveStore(archiveRoot: root) }
            #expect(missing?.code == .catalogMissing)
            #expect(missing?.message.contains("rebuild-catalog --archive \(root.path)") == true)
            let state = ArchiveStore.databaseURL(archiveRoot: root)
            #expect(!FileManager.default.fileExists(atPath: state.path), "the refusal created no state file")

            try Data().write(to: state)
            let empty = #expect(throws: StoreError.self) { try ArchiveStore(archiveRoot: root) }
            #expect(empty?.code == .catalogMissing)
            #expect(try Data(contentsOf: state).isEmpty)
        }
    }

    @Test func stateFileAndItsWALArePrivateWhateverTheUmask() async throws {
        try await withTemporaryDirectory { root in
            let previous = umask(0)
            defer { umask(previous) }
            let store = try ArchiveStore(archiveRoot: root)
            try await store.catalog.addAPIUsage(1, on: Date())
            for path in [store.path, store.path + "-wal"] {
                var status = stat()
                #expect(lstat(path, &status) == 0)
                #expect(status.st_mode & 0o777 == 0o640, "\(path): \(String(status.st_mode & 0o777, radix: 8))")
            }
            var status = stat()
            #expect(lstat(root.appendingPathComponent(".userplane-archiver").path, &status) == 0)
            #expect(status.st_mode & 0o777 == 0o750)
            try store.close()
        }
    }

    @Test func holdChangesAreAppendedToTheHoldsLog() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let at = Date(timeIntervalSince1970: 1_750_000_000.125)
            try await store.catalog.addHold(recordingID: "rec_1", reason: "case 1", operatorName: "ana", now: at)
            try await store.catalog.addHold(
                recordingID: "rec_2",
                workspaceID: "ws_1",
                reason: "case 2",
                operatorName: "bo",
                now: at
            )
            try await store.catalog.removeHold(recordingID: "rec_1", reason: "closed", operatorName: "ana", now: at)
            #expect(
                try await store.catalog.addHold(
                    recordingID: "rec_2",
                    workspaceID: "ws_1",
                    reason: "again",
                    operatorName: "bo",
                    now: at
                ) == false
            )
            try store.close()
            let log = HoldsLog(databasePath: store.path)
            let (entries, unreadable) = try log.entries()
            #expect(unreadable == 0)
            #expect(entries.map(\.action) == [.add, .add, .remove])
            #expect(entries.map(\.recordingID) == ["rec_1", "rec_2", "rec_1"])
            #expect(entries[1].workspaceID == "ws_1" && entries[1].operator == "bo" && entries[1].reason == "case 2")
            #expect(entries[0].at == at)
            // The file's keys are those earlier versions wrote (and replay reads).
            let lines = try String(contentsOfFile: log.path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines[0].hasPrefix(#"{"action":"add","at":""#))
            #expect(lines[0].hasSuffix(#"","operator":"ana","reason":"case 1","recordingId":"rec_1"}"#))
            #expect(lines[1].hasSuffix(#""reason":"case 2","recordingId":"rec_2","workspaceId":"ws_1"}"#))
        }
    }

    /// A catalog written before `holds.jsonl` existed gets its holds written there when it is opened.
    @Test func holdsOfACatalogWithoutALogAreBackfilled() async throws {
        try await withTemporaryDirectory { root in
            do {
                let store = try ArchiveStore(archiveRoot: root)
                try await store.catalog.addHold(recordingID: "rec_1", reason: "old", operatorName: "ana", now: Date())
                try await store.catalog.removeHold(recordingID: "rec_1", reason: nil, operatorName: "ana", now: Date())
                try await store.catalog.addHold(recordingID: "rec_2", reason: "old", operatorName: "bo", now: Date())
                try store.close()
            }
            let log = HoldsLog(databasePath: ArchiveStore.databaseURL(archiveRoot: root).path)
            try FileManager.default.removeItem(atPath: log.path)
            let reopened = try ArchiveStore(archiveRoot: root)
            try reopened.close()
            let entries = try log.entries().entries
            #expect(entries.map(\.action) == [.add, .remove, .add])
            #expect(entries.map(\.recordingID) == ["rec_1", "rec_1", "rec_2"])
        }
    }

    @Test func rebuildRestoresCatalogAndHoldsWithoutTouchingTheArchives() async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            do {
                let store = try ArchiveStore(archiveRoot: root)
                try await store.catalog.addHold(recordingID: "rec_1", reason: "keep", operatorName: "ana", now: Date())
                try await store.catalog.addHold(recordingID: "rec_2", reason: "x", operatorName: "ana", now: Date())
                try await store.catalog.removeHold(recordingID: "rec_2", reason: nil, operatorName: "ana", now: Date())
                try store.close()
            }
            let first = try Self.packArchive("rec_1", root: root, scratch: scratch)
            let second = try Self.packArchive("rec_2", root: root, scratch: scratch)
            let bad = try Self.packArchive("rec_3", root: root, scratch: scratch)
            var tampered = try Data(contentsOf: bad.tarURL)
            tampered[tampered.count / 2] ^= 0x01
            try tampered.write(to: bad.tarURL)
            let state = ArchiveStore.databaseURL(archiveRoot: root)
            try Data(repeating: 0x5A, count: 4096).write(to: state)
            let before = try [first.tarURL, second.tarURL, bad.tarURL].map { try Data(contentsOf: $0) }
            // A torn last line (a crash mid-append) is skipped.
            let handle = try FileHandle(forWritingTo: root.appendingPathComponent(".userplane-archiver/holds.jsonl"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(#"{"action":"add","recor"#.utf8))
            try handle.close()

            let report = try await ArchiveStore.rebuildCatalog(archiveRoot: root)
            #expect(report.catalogued.sorted() == ["ws_1/2024/05/rec_1.tar", "ws_1/2024/05/rec_2.tar"])
            #expect(report.rejected.map(\.path) == [bad.tarURL.path])
            #expect(report.holdEventsReplayed == 3 && report.activeHolds == 1 && report.unreadableHoldLines == 1)
            let moved = try #require(report.previousStateMovedTo)
            #expect(try Data(contentsOf: URL(fileURLWithPath: moved)) == Data(repeating: 0x5A, count: 4096))
            #expect(try [first.tarURL, second.tarURL, bad.tarURL].map { try Data(contentsOf: $0) } == before)

            let store = try ArchiveStore(archiveRoot: root)
            let archives = try await store.catalog.allArchives()
            #expect(archives.map(\.recordingID) == ["rec_1", "rec_2"])
            #expect(archives.first?.sha256 == first.sha256)
            #expect(archives.first?.workspaceID == "ws_1")
            let createdAt = try #require(archives.first?.recordingCreatedAt)
            #expect(abs(createdAt.timeIntervalSince(first.manifest.createdAt)) < 0.002)
            #expect(archives.first?.sizeBytes == Int(first.size))
            #expect(try await store.catalog.isHeld(recordingID: "rec_1", workspaceID: "ws_1"))
            #expect(try await !store.catalog.isHeld(recordingID: "rec_2", workspaceID: "ws_1"))
            #expect(try await store.catalog.holds(includingRemoved: true).count == 2)
            try store.close()

            let again = await #expect(throws: StoreError.self) {
                try await ArchiveStore.rebuildCatalog(archiveRoot: root)
            }
            #expect(again?.code == .catalogIntact)
        }
    }
}
