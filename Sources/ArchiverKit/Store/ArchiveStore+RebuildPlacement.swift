import Foundation

extension ArchiveStore {
    /// Why a verified archive found at `relativePath` must not be catalogued as the record `record` it describes,
    /// or `nil` when its place agrees with its manifest.
    ///
    /// Its workspace folder (the first component) must be the manifest's workspace and its file name the
    /// manifest's recording: `status`, `prune` and `delete-remote` act on the catalog's workspace, so an archive
    /// copied into another workspace's folder (or renamed) would be counted, kept or deleted as the wrong
    /// workspace's. The year and month folders are not compared: they are only where an archive is filed.
    static func placementProblem(of record: ArchiveRecord) -> String? {
        let components = record.relativePath.split(separator: "/", omittingEmptySubsequences: false)
        let workspaceFolder = RecordingPathComponent.encode(record.workspaceID)
        let fileName = RecordingPathComponent.encode(record.recordingID) + ".tar"
        if components.count >= 2, components.first.map(String.init) == workspaceFolder,
            components.last.map(String.init) == fileName
        {
            return nil
        }
        let expected = layoutPath(of: record)
        return SafeText.printable(
            "its archive-manifest.json describes recording \(record.recordingID) of workspace \(record.workspaceID), "
                + "which archive runs file as \(expected), not as \(record.relativePath): it was left out of the "
                + "catalog (and on disk as it is). Move it to \(expected) if it belongs there, or out of the "
                + "archive root, then rebuild again",
            maximumBytes: ArchiveScan.maximumPrintedMessageBytes
        )
    }

    /// The archives to catalog among `records` (verified, well placed), and the others: when two or more
    /// describe the same recording of the same workspace, one is kept whatever order the walk found them in
    /// (the one at its layout path, then the earliest archived, then the first in path order) and each other one
    /// is reported, never silently replacing it in the catalog.
    ///
    /// - Returns: The records to catalog, in the order given, and the verdicts of those left out (by `paths`,
    ///   the path each record was found at, for the report).
    static func resolvingDuplicates(
        _ records: [(record: ArchiveRecord, path: String)]
    ) -> (kept: [(record: ArchiveRecord, path: String)], rejected: [ArchiveVerification]) {
        struct Key: Hashable {
            var workspaceID: String
            var recordingID: String
        }
        let groups = Dictionary(grouping: records.indices) {
            Key(workspaceID: records[$0].record.workspaceID, recordingID: records[$0].record.recordingID)
        }
        var keptIndices = Set<Int>()
        var rejected: [ArchiveVerification] = []
        for indices in groups.values {
            let ordered = indices.sorted { lhs, rhs in
                let (left, right) = (records[lhs].record, records[rhs].record)
                let leftAtLayout = left.relativePath == layoutPath(of: left)
                let rightAtLayout = right.relativePath == layoutPath(of: right)
                if leftAtLayout != rightAtLayout { return leftAtLayout }
                if left.archivedAt != right.archivedAt { return left.archivedAt < right.archivedAt }
                return left.relativePath < right.relativePath
            }
            guard let first = ordered.first else { continue }
            keptIndices.insert(first)
            let kept = records[first].record
            for other in ordered.dropFirst() {
                let message = SafeText.printable(
                    "recording \(kept.recordingID) of workspace \(kept.workspaceID) has another valid archive, "
                        + "\(kept.relativePath), which was catalogued (at its layout path, else the earliest "
                        + "archived); this one was left out of the catalog (and on disk as it is): compare the two, "
                        + "move the one you do not keep out of the archive root",
                    maximumBytes: ArchiveScan.maximumPrintedMessageBytes
                )
                rejected.append(
                    ArchiveVerification(
                        path: records[other].path,
                        recordingID: records[other].record.recordingID,
                        sha256: records[other].record.sha256,
                        problems: [.init(code: .duplicate, message: message)]
                    )
                )
            }
        }
        rejected.sort { $0.path < $1.path }
        return (records.indices.filter { keptIndices.contains($0) }.map { records[$0] }, rejected)
    }

    private static func layoutPath(of record: ArchiveRecord) -> String {
        ArchiveLayout.relativePath(
            workspaceID: record.workspaceID,
            recordingID: record.recordingID,
            createdAt: record.recordingCreatedAt
        )
    }
}
