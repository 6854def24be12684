package import Foundation

extension ArchiveStore {
    /// Rebuilds the catalog of a local archive root into another engine's store (a shared PostgreSQL database).
    ///
    /// As ``rebuildCatalog(archiveRoot:verifier:now:)`` rebuilds `state.sqlite`: every archive under the root is
    /// verified and each valid one catalogued from its own manifest and sidecar; then the root's `holds.jsonl` is
    /// replayed. The archives are only read.
    ///
    /// - Parameters:
    ///   - archiveRoot: The local archive root (its `.userplane-archiver/holds.jsonl` is replayed when present).
    ///   - store: The open store to fill; its catalog must be empty.
    ///   - describing: How to name the store in messages (a URL without its password).
    ///   - verifier: The verifier.
    ///   - now: The time stamped as each archive's `verifiedAt`.
    /// - Returns: What was catalogued, rejected and replayed.
    /// - Throws: ``StoreError`` with ``StoreError/Code/catalogIntact`` when the store already catalogues archives or
    ///   holds (nothing is written), or another ``StoreError``.
    package static func rebuildCatalog(
        archiveRoot: URL,
        into store: some StateStore,
        describing: String,
        verifier: ArchiveVerifier = .init(),
        now: Date = Date()
    ) async throws -> RebuildReport {
        try await requireEmptyCatalog(store, describing: describing)
        var report = RebuildReport()
        try await fill(store, archiveRoot: archiveRoot, verifier: verifier, now: now, report: &report)
        try await restoreHolds(stateRoot: archiveRoot, into: store, now: now, report: &report)
        return report
    }

    /// Refuses to rebuild into a store that already catalogues archives or has hold events: the shared database's
    /// equivalent of the refusal to replace a `state.sqlite` that opens cleanly.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/catalogIntact``.
    static func requireEmptyCatalog(_ store: some StateStore, describing: String) async throws {
        let archives = try await store.catalog.allArchives().count
        let holdEvents = try await store.catalog.holdEvents().count
        guard archives == 0, holdEvents == 0 else {
            throw StoreError(
                code: .catalogIntact,
                message: "\(describing) already holds a catalog (\(archives) archive(s), \(holdEvents) hold "
                    + "event(s)); rebuild-catalog only fills an empty catalog and wrote nothing (run `verify` to "
                    + "check the archives instead, or point --database at a new, empty database to rebuild into)"
            )
        }
    }

    /// Why a verified manifest still cannot be catalogued: an id with a control character (NUL cuts SQLite text,
    /// ESC rewrites the terminal that prints it), which no archive run ever stores; `nil` when it can.
    static func uncataloguableIDProblem(in manifest: ArchiveManifest) -> String? {
        guard
            let problem = ArchiverConfiguration.Workspace.controlCharacterProblem(in: manifest.recordingID)
                .map({ "its recording id \($0)" })
                ?? ArchiverConfiguration.Workspace.controlCharacterProblem(in: manifest.workspaceID)
                .map({ "its workspace id \($0)" })
        else { return nil }
        return "archive-manifest.json is valid but \(problem): no archive run stores such an id, so this archive was "
            + "not written by this tool as it is; it was left out of the catalog"
    }

    /// `<workspace>/<YYYY>/<MM>/<recording>.tar`, where an archive run stores the archive `manifest` describes.
    static func layoutPath(of manifest: ArchiveManifest) -> String {
        ArchiveLayout.relativePath(
            workspaceID: manifest.workspaceID,
            recordingID: manifest.recordingID,
            createdAt: manifest.createdAt
        )
    }
}

extension ArchiveStore {
    /// Refuses to start archiving into a never-used shared store while archives already exist where the run stores
    /// them.
    ///
    /// A store with no catalogued archive and no job next to existing archives means the database was lost or
    /// reset: a new catalog would forget the legal holds and archive everything again (product.md §10). This is
    /// the shared-store twin of the check ``init(archiveRoot:configuration:)`` makes on `state.sqlite`.
    ///
    /// A store any process has archived into, or is archiving into, has jobs, so hosts starting together on a new
    /// database are never refused.
    ///
    /// - Parameters:
    ///   - store: The shared store, open.
    ///   - describing: How to name it in the message (a URL without its password).
    ///   - archiveRoot: The local archive root (ignored with `destination`).
    ///   - destination: The S3 destination, when the archives are objects.
    /// - Throws: ``StoreError`` with ``StoreError/Code/catalogMissing`` naming an archive found; ``S3Error`` when
    ///   the listing fails.
    package static func refuseMissingCatalog(
        in store: some StateStore,
        describing: String,
        archiveRoot: URL,
        destination: S3Destination?
    ) async throws {
        guard try await store.catalog.totals().archives == 0,
            try await store.jobs.counts(kind: nil).values.reduce(0, +) == 0
        else { return }
        let example: String?
        let archive: String
        if let destination {
            example = try await destination.list().first.map(destination.describe)
            archive = destination.location.description
        } else {
            example = firstArchive(under: archiveRoot).map { archiveRoot.path + "/" + $0 }
            archive = archiveRoot.path
        }
        guard let example else { return }
        throw StoreError(
            code: .catalogMissing,
            message: """
                \(SafeText.escaped(example)) and other archives exist but the catalog in \(describing) is empty: \
                refusing to start a new catalog, which would forget legal holds and archive everything again. Point \
                --database at the database that holds this archive's catalog, or rebuild it there from the \
                archives (they are not modified): userplane-archiver rebuild-catalog --archive \(archive) \
                --database URL
                """
        )
    }
}
