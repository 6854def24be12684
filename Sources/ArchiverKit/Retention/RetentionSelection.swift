package import Foundation

/// Which catalog entries a retention run (`prune` or `delete-remote`) acts on, and why each one is or is not selected.
///
/// A pure function of the catalog, the active holds, the policy and an injected `now`: no I/O, no clock.
package struct RetentionSelection: Sendable, Hashable {
    /// Why an entry was or was not selected.
    package enum Reason: String, Sendable, Hashable {
        /// Older than the cutoff and not held: act on it.
        case selected
        /// Under an active legal hold; holds always win.
        case held
        /// Created at or after the cutoff.
        case tooNew = "too-new"
        /// Already deleted in this scope.
        case alreadyDeleted = "already-deleted"
    }

    /// One catalog entry and its verdict.
    package struct Decision: Sendable, Hashable {
        /// The catalog entry.
        package var archive: ArchiveRecord
        /// The verdict.
        package var reason: Reason
    }

    /// Every catalog entry with its verdict, in catalog order.
    package var decisions: [Decision]
    /// The cutoff: entries whose recording was created strictly before it are old enough.
    package var cutoff: Date

    /// The entries to act on.
    package var selected: [ArchiveRecord] { decisions.filter { $0.reason == .selected }.map(\.archive) }

    /// Decides, for each archive, whether a retention run in `scope` acts on it.
    ///
    /// - Parameters:
    ///   - archives: The catalog entries.
    ///   - holds: The active holds (a hold without a workspace covers the recording id in every workspace).
    ///   - keepWithin: Keep recordings created within this duration before `now`.
    ///   - scope: ``DeletionLogEntry/Scope/local`` for `prune`, ``DeletionLogEntry/Scope/remote`` for `delete-remote`.
    ///   - now: The current time.
    ///   - maxDelete: The most entries that may be selected; `nil` for no cap.
    /// - Returns: The selection.
    /// - Throws: ``RetentionError`` with ``RetentionError/Code/tooManyDeletions`` when more than `maxDelete`
    ///   entries would be selected.
    package static func select(
        archives: [ArchiveRecord],
        holds: [Hold],
        keepWithin: RetentionDuration,
        scope: DeletionLogEntry.Scope,
        now: Date,
        maxDelete: Int? = nil
    ) throws(RetentionError) -> RetentionSelection {
        let cutoff = keepWithin.cutoff(before: now)
        let active = holds.filter(\.isActive)
        let decisions = archives.map { archive in
            let deletedAt = scope == .local ? archive.deletedLocallyAt : archive.deletedRemotelyAt
            let isHeld = active.contains { hold in
                hold.recordingID == archive.recordingID
                    && (hold.workspaceID == nil || hold.workspaceID == archive.workspaceID)
            }
            let reason: Reason =
                if deletedAt != nil {
                    .alreadyDeleted
                } else if isHeld {
                    .held
                } else if archive.recordingCreatedAt < cutoff {
                    .selected
                } else {
                    .tooNew
                }
            return Decision(archive: archive, reason: reason)
        }
        let selection = RetentionSelection(decisions: decisions, cutoff: cutoff)
        if let maxDelete {
            let count = selection.selected.count
            if count > maxDelete {
                throw RetentionError(
                    code: .tooManyDeletions,
                    message: "\(count) archives are older than \(keepWithin) but --max-delete is \(maxDelete); "
                        + "nothing was deleted. Raise --max-delete or narrow the policy."
                )
            }
        }
        return selection
    }
}
