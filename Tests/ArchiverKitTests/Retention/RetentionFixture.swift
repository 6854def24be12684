import ArchiverTestSupport
import Foundation

@testable import ArchiverKit

/// Real archives packed into a real archive root and catalogued in its real SQLite state file.
enum RetentionFixture {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)
    static let day: TimeInterval = 86_400

    /// Packs a small archive for `recordingID` under `root/<workspace>/` and catalogs it as created
    /// `ageDays` before ``now``.
    @discardableResult
    static func archive(
        _ recordingID: String,
        workspace: String = "ws_1",
        ageDays: Double,
        root: URL,
        store: ArchiveStore,
        verified: Bool = true
    ) async throws -> ArchiveRecord {
        let staging = root.appendingPathComponent("staging-src", isDirectory: true)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        var staged = try PackingFixture.fullRecording(in: staging, id: recordingID, videoBytes: 2048)
        staged.workspaceID = workspace
        let directory = root.appendingPathComponent(RecordingPathComponent.encode(workspace), isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tar = directory.appendingPathComponent(RecordingPathComponent.encode(recordingID) + ".tar")
        let packed = try ArchivePackager().pack(staged, to: tar)
        try? FileManager.default.removeItem(at: staging)
        let record = ArchiveRecord(
            workspaceID: workspace,
            recordingID: recordingID,
            relativePath: RecordingPathComponent.encode(workspace) + "/" + tar.lastPathComponent,
            sizeBytes: Int(packed.size),
            sha256: packed.sha256,
            archivedAt: now,
            verifiedAt: verified ? now : nil,
            recordingCreatedAt: now.addingTimeInterval(-ageDays * day)
        )
        try await store.catalog.recordArchived(record)
        return record
    }

    static func tarExists(_ record: ArchiveRecord, root: URL) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(record.relativePath).path)
    }

    static func sidecarExists(_ record: ArchiveRecord, root: URL) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(record.relativePath).path + ".sha256")
    }

    /// Every file under `root` except the state directory, relative to `root`, sorted.
    static func files(under root: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        var result: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasPrefix(ArchiveStore.stateDirectoryName) { continue }
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(
                atPath: root.appendingPathComponent(path).path,
                isDirectory: &isDirectory
            )
            if !isDirectory.boolValue { result.append(path) }
        }
        return result.sorted()
    }
}
