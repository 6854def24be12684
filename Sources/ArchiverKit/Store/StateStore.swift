/// The durable state of the archiver, behind one contract that every storage engine implements: the job
/// queue (``JobQueueStore``) and the catalog with holds, deletion log, runs, daily budget, listing marks and
/// audit events (``ArchiveCatalogStore``).
///
/// Commands, the worker queue and retention use the state only through this protocol; only opening a
/// store names an engine. Engines:
///
/// - ``ArchiveStore``: SQLite (GRDB, WAL) in `<archiveRoot>/.userplane-archiver/state.sqlite`, the embedded
///   default, for the processes of one host. Its halves are ``JobStore`` and ``CatalogStore``.
/// - PostgreSQL, for many processes on many hosts (<doc:SharedQueue>).
///
/// The conformance suite in `Tests/ArchiverKitTests/Store/Conformance` holds every engine to the same
/// behaviour: claims, leases and owner checks (see ``JobQueueStore``), the catalog's guarantees (see
/// ``ArchiveCatalogStore``), each against a real, freshly created database that tests reopen where
/// durability matters.
package protocol StateStore: AnyObject, Sendable {
    /// The job queue's engine type.
    associatedtype Jobs: JobQueueStore
    /// The catalog's engine type.
    associatedtype Catalog: ArchiveCatalogStore

    /// The job queue.
    var jobs: Jobs { get }
    /// The catalog of archives, holds, deletion log, runs, API budget, listing marks and audit events.
    var catalog: Catalog { get }

    /// Releases the store's connections; further calls on this store fail.
    ///
    /// Synchronous, so commands can close in a `defer`; an engine whose shutdown is asynchronous starts it here.
    ///
    /// - Throws: ``StoreError`` when the engine cannot close cleanly.
    func close() throws
}
