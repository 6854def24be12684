package import Foundation

extension S3Destination {
    /// Refuses to start a new catalog for a bucket prefix that already holds archives (product.md §10): the state
    /// directory's `state.sqlite` is missing or empty while objects exist, so a fresh catalog would forget legal
    /// holds and archive everything again.
    ///
    /// - Parameter stateRoot: The local state directory (`--state-dir`).
    /// - Throws: ``StoreError/Code/catalogMissing`` naming an archive found, ``S3Error`` when the listing fails.
    package func refuseMissingCatalog(stateRoot: URL) async throws {
        let database = ArchiveStore.databaseURL(archiveRoot: stateRoot)
        let size = (try? FileManager.default.attributesOfItem(atPath: database.path)[.size] as? NSNumber)?.intValue
        guard size == nil || size == 0 else { return }
        guard let example = try await list().first else { return }
        throw StoreError(
            code: .catalogMissing,
            message: """
                \(describe(example)) and other archives exist but \(database.path) is \
                \(size == nil ? "missing" : "empty"): refusing to start a new catalog, which would forget legal \
                holds and archive everything again. Restore the state directory from its backup, pass \
                --state-dir with the directory that holds this archive's state.sqlite, or rebuild the catalog \
                from the objects (they are not modified): userplane-archiver rebuild-catalog --archive \
                \(location) --state-dir \(stateRoot.path)
                """
        )
    }
}
