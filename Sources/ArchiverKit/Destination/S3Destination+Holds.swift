extension S3Destination {
    /// Makes the S3 legal hold of each recording's stored versions (tar and sidecar) match the catalog: on while an
    /// active hold covers the recording, off otherwise.
    ///
    /// Only objects written with Object Lock have a legal hold; for the others the catalog's hold is the only one.
    ///
    /// - Parameters:
    ///   - recordingIDs: The recordings whose hold changed.
    ///   - workspaceID: Only this workspace's archives, or all.
    ///   - store: The state holding the catalog and the S3 object records.
    /// - Returns: How many archives had their S3 legal hold set (`on`) and cleared (`off`).
    /// - Throws: ``S3Error``, ``StoreError``.
    package func syncLegalHolds(
        recordingIDs: [String],
        workspaceID: String?,
        store: any StateStore
    ) async throws -> (on: Int, off: Int) {
        let wanted = Set(recordingIDs)
        var counts = (on: 0, off: 0)
        for object in try await store.catalog.s3Objects()
        where wanted.contains(object.recordingID) && (workspaceID == nil || object.workspaceID == workspaceID)
            // S3 legal holds exist only on objects written with Object Lock; the catalog hold covers the others.
            && object.lockMode != nil
        {
            guard object.bucket == location.bucket, let relativePath = location.relativePath(ofKey: object.key) else {
                continue
            }
            let held = try await store.catalog.isHeld(recordingID: object.recordingID, workspaceID: object.workspaceID)
            let stored = StoredArchive(
                relativePath: relativePath,
                versionId: object.versionId,
                sidecarVersionId: object.sidecarVersionId
            )
            try await setLegalHold(stored, on: held)
            if held { counts.on += 1 } else { counts.off += 1 }
        }
        return counts
    }
}
