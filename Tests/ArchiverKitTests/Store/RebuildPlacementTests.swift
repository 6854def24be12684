import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// `rebuild-catalog` catalogs what the archives' manifests say, so the place each archive was found at must agree
/// with its manifest, and two archives of one recording must not silently replace each other (the last one walked
/// used to win).
@Suite(.timeLimit(.minutes(2))) struct RebuildPlacementTests {
    /// Packs `id` (manifest workspace `ws_1`, created 2024-05) into `folders` below `root`.
    static func pack(
        _ id: String,
        into folders: [String],
        root: URL,
        scratch: URL,
        archivedAt: Date? = nil
    ) throws -> String {
        var recording = try PackingFixture.fullRecording(
            in: scratch.appendingPathComponent(UUID().uuidString),
            id: id,
            videoBytes: 4096
        )
        if let archivedAt { recording.archivedAt = archivedAt }
        let directory = try PrivateFile.makeDirectories(folders, under: root.path)
        let name = RecordingPathComponent.encode(id) + ".tar"
        _ = try ArchivePackager().pack(recording, to: URL(fileURLWithPath: directory).appendingPathComponent(name))
        return (folders + [name]).joined(separator: "/")
    }

    @Test func anArchiveInAnotherWorkspacesFolderIsReportedAndLeftOut() async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let good = try Self.pack("rec_1", into: ["ws_1", "2024", "05"], root: root, scratch: scratch)
            // A valid archive of workspace ws_1, copied into ws_2's folder.
            let misplaced = try Self.pack("rec_2", into: ["ws_2", "2024", "05"], root: root, scratch: scratch)

            let report = try await ArchiveStore.rebuildCatalog(archiveRoot: root)
            #expect(report.catalogued == [good], "\(report.catalogued)")
            let rejected = try #require(report.rejected.first, "\(report)")
            #expect(report.rejected.count == 1)
            #expect(rejected.path == root.path + "/" + misplaced)
            #expect(rejected.problems.first?.code == .misplaced)
            let message = rejected.problems.first?.message ?? ""
            #expect(message.contains("workspace ws_1"), "\(message)")
            #expect(message.contains("ws_1/2024/05/rec_2.tar"), "\(message)")
            #expect(message.contains("left out of the catalog"), "\(message)")

            let store = try ArchiveStore(archiveRoot: root)
            #expect(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_2") == nil)
            #expect(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1")?.relativePath == good)
            try store.close()
            #expect(FileManager.default.fileExists(atPath: root.path + "/" + misplaced), "left on disk")
        }
    }

    /// Two valid archives of one recording: the one at its layout path is kept whatever the walk order (here the
    /// other sorts first), and the other is reported.
    @Test func ofTwoArchivesOfOneRecordingTheOneAtItsLayoutPathIsKeptAndTheOtherReported() async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let layout = try Self.pack("rec_1", into: ["ws_1", "2024", "05"], root: root, scratch: scratch)
            for folders in [["ws_1", "2023", "01"], ["ws_1", "2025", "12"]] {
                let copy = try Self.pack("rec_1", into: folders, root: root, scratch: scratch)
                let report = try await ArchiveStore.rebuildCatalog(archiveRoot: root)
                #expect(report.catalogued == [layout], "\(report.catalogued)")
                #expect(report.rejected.map(\.path) == [root.path + "/" + copy], "\(report.rejected)")
                #expect(report.rejected.first?.problems.first?.code == .duplicate)
                #expect(report.rejected.first?.problems.first?.message.contains(layout) == true)
                let store = try ArchiveStore(archiveRoot: root)
                #expect(
                    try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1")?.relativePath == layout
                )
                try store.close()
                try FileManager.default.removeItem(at: root.appendingPathComponent(copy))
                try FileManager.default.removeItem(at: root.appendingPathComponent(copy + ".sha256"))
                try FileManager.default.removeItem(at: ArchiveStore.databaseURL(archiveRoot: root))
            }
        }
    }

    /// Neither at its layout path: the earliest archived is kept, in whichever order they are found.
    @Test func ofTwoMisfiledArchivesTheEarliestArchivedIsKept() async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let base = PackingFixture.createdAt.addingTimeInterval(86_400)
            let later = try Self.pack(
                "rec_1",
                into: ["ws_1", "2023", "01"],
                root: root,
                scratch: scratch,
                archivedAt: base.addingTimeInterval(3600)
            )
            let earlier = try Self.pack(
                "rec_1",
                into: ["ws_1", "2025", "12"],
                root: root,
                scratch: scratch,
                archivedAt: base
            )
            let report = try await ArchiveStore.rebuildCatalog(archiveRoot: root)
            #expect(report.catalogued == [earlier], "\(report.catalogued)")
            #expect(report.rejected.map(\.path) == [root.path + "/" + later], "\(report.rejected)")
            #expect(report.rejected.first?.problems.first?.code == .duplicate)
        }
    }
}
