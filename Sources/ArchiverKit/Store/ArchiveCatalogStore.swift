package import Foundation

/// Identifies a catalogued archive: one recording of one workspace.
package struct ArchiveKey: Sendable, Hashable {
    /// The workspace.
    package var workspaceID: String
    /// The recording.
    package var recordingID: String

    /// Creates a key.
    package init(workspaceID: String, recordingID: String) {
        self.workspaceID = workspaceID
        self.recordingID = recordingID
    }
}

/// Totals over the archives still present locally.
package struct CatalogTotals: Sendable, Hashable {
    /// Number of archives.
    package var archives: Int
    /// Sum of their sizes.
    package var bytes: Int

    /// Creates totals.
    package init(archives: Int, bytes: Int) {
        self.archives = archives
        self.bytes = bytes
    }
}

/// The catalog half of the store contract (see ``StateStore``): archives, legal holds, the deletion log,
/// runs, the daily API budget, listing marks and fixity audit events.
///
/// ## Guarantees every engine keeps
///
/// - ``recordArchived(_:completing:now:)`` writes the catalog entry and moves the job from `packing` to
///   `archived` in **one** transaction, after checking the job's lease as every queue transition does
///   (``JobQueueStore``): a process that lost its lease never writes the catalog.
/// - ``deletingUnlessHeld(recordingID:workspaceID:_:)`` re-checks holds in the same transaction that records
///   the deletion (or its intent), and serialises with ``addHold(recordingID:workspaceID:reason:operatorName:now:)``:
///   a hold committed before it means the deletion never runs; one committed after it comes after the
///   deletion in the hold and deletion logs.
/// - The hold events, the deletion log and the audit events are append-only, read back in append order.
/// - ``reserveAPIUsage(_:on:dailyLimit:)`` checks and takes budget in one atomic step, so processes sharing
///   the store never exceed the daily limit together.
/// - ``recordListing(_:)`` only ever moves a high-water mark forward.
package protocol ArchiveCatalogStore: Sendable {
    // MARK: Archives

    /// Records an archive and moves its leased job from `packing` to `archived`, in one transaction.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/leaseLost`` or ``StoreError/Code/illegalTransition``
    ///   (then nothing is written).
    func recordArchived(_ record: ArchiveRecord, completing lease: JobLease, now: Date) async throws

    /// Records an archive without a job (rebuilding the catalog), replacing an entry for the same recording.
    ///
    /// - Throws: ``StoreError``.
    func recordArchived(_ record: ArchiveRecord) async throws

    /// The catalog entry of a recording, if it was ever archived (even if since pruned).
    ///
    /// - Throws: ``StoreError``.
    func archive(workspaceID: String, recordingID: String) async throws -> ArchiveRecord?

    /// Whether the catalog has an entry for `recordingID` (exactly as given: no case folding, no
    /// trimming), in `workspaceID` or, when `nil`, in any workspace.
    ///
    /// - Throws: ``StoreError``.
    func isCatalogued(recordingID: String, workspaceID: String?) async throws -> Bool

    /// Every catalog entry, oldest recording first.
    ///
    /// - Throws: ``StoreError``.
    func allArchives() async throws -> [ArchiveRecord]

    /// Stamps an archive as verified at `date`.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/notFound`` when the recording is not in the catalog.
    func markVerified(workspaceID: String, recordingID: String, at date: Date) async throws

    /// Count and bytes of the archives not deleted locally.
    ///
    /// - Throws: ``StoreError``.
    func totals() async throws -> CatalogTotals

    // MARK: Legal holds

    /// Places a legal hold and appends an `add` event, unless an identical active hold exists.
    ///
    /// - Parameters:
    ///   - recordingID: The recording to hold.
    ///   - workspaceID: The workspace, or `nil` to hold that recording id in every workspace.
    ///   - reason: Why.
    ///   - operatorName: Who.
    ///   - now: The current time.
    /// - Returns: `true` when a hold was placed, `false` when an identical active hold already existed.
    /// - Throws: ``StoreError``.
    @discardableResult
    func addHold(
        recordingID: String,
        workspaceID: String?,
        reason: String,
        operatorName: String,
        now: Date
    ) async throws -> Bool

    /// Lifts the active hold (the hold stays, inactive) and appends a `remove` event.
    ///
    /// - Returns: `true` when a hold was lifted, `false` when there was no such active hold.
    /// - Throws: ``StoreError``.
    @discardableResult
    func removeHold(
        recordingID: String,
        workspaceID: String?,
        reason: String?,
        operatorName: String,
        now: Date
    ) async throws -> Bool

    /// Holds, oldest first; only active ones unless `includingRemoved`.
    ///
    /// - Throws: ``StoreError``.
    func holds(includingRemoved: Bool) async throws -> [Hold]

    /// Whether an active hold covers the recording (a hold naming its workspace, or naming none).
    ///
    /// - Throws: ``StoreError``.
    func isHeld(recordingID: String, workspaceID: String) async throws -> Bool

    /// The audit trail of holds, in order.
    ///
    /// - Throws: ``StoreError``.
    func holdEvents() async throws -> [HoldEvent]

    /// Applies one line of the holds log (`holds.jsonl`) as it was recorded, at its own time, without appending it
    /// to that log again (`rebuild-catalog`).
    ///
    /// - Throws: ``StoreError``.
    func replay(_ entry: HoldsLog.Entry) async throws

    // MARK: Deletion log

    /// Appends a deletion attempt and, when it took effect, stamps the catalog entry (`deletedLocallyAt` or
    /// `deletedRemotelyAt`, kept if already set) in the same transaction.
    ///
    /// - Returns: The appended entry's id.
    /// - Throws: ``StoreError``.
    @discardableResult
    func recordDeletion(_ entry: DeletionLogEntry) async throws -> Int64

    /// Runs `body` and appends the entry it returns, in one transaction, unless an active hold covers
    /// the recording; then nothing runs.
    ///
    /// This is how `prune` and `delete-remote` make holds win every race: `body` performs the
    /// irreversible step (or returns the intent to perform it) immediately after the hold check.
    ///
    /// - Returns: `body`'s result, or `nil` when the recording is under hold.
    /// - Throws: ``StoreError``; whatever else `body` throws passes through unchanged (nothing is appended).
    func deletingUnlessHeld<T: Sendable>(
        recordingID: String,
        workspaceID: String,
        _ body: @escaping @Sendable () throws -> (result: T, entry: DeletionLogEntry)
    ) async throws -> T?

    /// Remote deletions whose outcome is unknown: the latest remote entry of the recording is an
    /// ``DeletionLogEntry/Outcome/intent`` or ``DeletionLogEntry/Outcome/unknown``, in log order.
    ///
    /// - Throws: ``StoreError``.
    func openRemoteIntents(workspaceID: String) async throws -> [DeletionLogEntry]

    /// The deletion log, in order.
    ///
    /// - Throws: ``StoreError``.
    func deletionLog() async throws -> [DeletionLogEntry]

    // MARK: Runs

    /// Records the start of a run.
    ///
    /// - Throws: ``StoreError``.
    func startRun(id: String, command: String, startedAt: Date) async throws

    /// Records the end of a run.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/notFound`` for an unknown run id.
    func finishRun(id: String, finishedAt: Date, exitCode: Int, reportPath: String?, counts: RunCounts?) async throws

    /// Runs, most recently started first.
    ///
    /// - Throws: ``StoreError``.
    func runs(limit: Int) async throws -> [RunRecord]

    // MARK: Daily API budget

    /// API requests used on the UTC day of `day`.
    ///
    /// - Throws: ``StoreError``.
    func apiUsage(on day: Date) async throws -> Int

    /// Adds `count` requests to the UTC day of `day`, unconditionally.
    ///
    /// - Returns: The day's new total.
    /// - Throws: ``StoreError``.
    @discardableResult
    func addAPIUsage(_ count: Int, on day: Date) async throws -> Int

    /// Atomically takes `count` requests from the UTC day's budget if that keeps it within `dailyLimit`.
    ///
    /// - Returns: `true` when reserved, `false` (nothing taken) when the budget would be exceeded.
    /// - Throws: ``StoreError``.
    func reserveAPIUsage(_ count: Int, on day: Date, dailyLimit: Int) async throws -> Bool

    // MARK: Listing marks

    /// The listing mark of a workspace, job kind and filter set, if a complete listing was ever recorded.
    ///
    /// - Throws: ``StoreError``.
    func listingMark(kind: JobKind, workspaceID: String, filterHash: String) async throws -> ListingMark?

    /// Every listing mark, by workspace, kind and filters.
    ///
    /// - Throws: ``StoreError``.
    func listingMarks() async throws -> [ListingMark]

    /// Records a complete listing; the stored high-water mark only moves forward and a `nil`
    /// `lastFullListingAt` keeps the stored one.
    ///
    /// - Returns: The mark as stored.
    /// - Throws: ``StoreError``.
    @discardableResult
    func recordListing(_ mark: ListingMark) async throws -> ListingMark

    // MARK: Fixity audit

    /// Appends a fixity check to the audit log.
    ///
    /// - Returns: The appended event's id.
    /// - Throws: ``StoreError``.
    @discardableResult
    func recordAuditEvent(_ event: AuditEvent) async throws -> Int64

    /// The audit log, in order.
    ///
    /// - Throws: ``StoreError``.
    func auditEvents() async throws -> [AuditEvent]

    /// The most recent check of each archive that was ever checked.
    ///
    /// - Throws: ``StoreError``.
    func latestAuditEvents() async throws -> [ArchiveKey: AuditEvent]

    // MARK: S3 objects

    /// Records (or replaces) where a recording's archive is stored on S3: bucket, key, version ids, ETag, lock.
    ///
    /// - Throws: ``StoreError``.
    func recordS3Object(_ record: S3ObjectRecord) async throws

    /// Where a recording's archive is stored on S3, if it is.
    ///
    /// - Throws: ``StoreError``.
    func s3Object(workspaceID: String, recordingID: String) async throws -> S3ObjectRecord?

    /// Every recording stored on S3, by key.
    ///
    /// - Throws: ``StoreError``.
    func s3Objects() async throws -> [S3ObjectRecord]
}

extension ArchiveCatalogStore {
    /// Whether the recording has a catalog entry (even if its tar was since pruned).
    ///
    /// - Throws: ``StoreError``.
    package func isArchived(workspaceID: String, recordingID: String) async throws -> Bool {
        try await archive(workspaceID: workspaceID, recordingID: recordingID) != nil
    }

    /// The active holds, oldest first.
    ///
    /// - Throws: ``StoreError``.
    package func holds() async throws -> [Hold] {
        try await holds(includingRemoved: false)
    }

    /// The 100 most recently started runs.
    ///
    /// - Throws: ``StoreError``.
    package func runs() async throws -> [RunRecord] {
        try await runs(limit: 100)
    }

    /// The most recently started run, if any.
    ///
    /// - Throws: ``StoreError``.
    package func lastRun() async throws -> RunRecord? {
        try await runs(limit: 1).first
    }
}
