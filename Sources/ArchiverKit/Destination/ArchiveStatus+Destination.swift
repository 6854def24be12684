import Foundation

extension ArchiveStatus {
    /// Checks the catalog against a destination other than the local root (an `s3://` archive): archives the
    /// catalog records that the destination does not list become ``missingOnDisk``, and the root is shown as the
    /// destination's location.
    ///
    /// - Parameters:
    ///   - destination: Where the archives are.
    ///   - store: The state holding the catalog.
    /// - Throws: ``S3Error`` when the listing fails, ``StoreError``.
    package mutating func checkMissing(in destination: any ArchiveDestination, store: any StateStore) async throws {
        let present = Set(try await destination.list())
        archiveRoot = destination.describe("")
        missingOnDisk = try await store.catalog.allArchives().filter {
            $0.deletedLocallyAt == nil && !present.contains($0.relativePath)
        }.map { Missing(workspaceId: $0.workspaceID, recordingId: $0.recordingID, archivePath: $0.relativePath) }
    }
}
