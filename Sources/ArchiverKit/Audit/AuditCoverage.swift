package import Foundation

/// How recently every archive of a root was re-read: what `status` shows and the audit metrics export.
///
/// An archive's last read is its most recent audit check, or, if it was never audited, the read-back when
/// it was packed (`verifiedAt`, else `archivedAt`). It counts as re-read within the window when that read
/// is recent enough and its latest audit check (if any) did not fail.
package struct AuditCoverage: Codable, Sendable, Equatable {
    /// The window, in days.
    package var windowDays: Int
    /// Archives in the catalog still on disk.
    package var archives: Int
    /// Of those, archives re-read clean within the window.
    package var reReadWithinWindow: Int
    /// `reReadWithinWindow / archives` in percent (100 with no archive).
    package var percent: Double
    /// Archives never checked by `audit` (only read back when packed).
    package var neverAudited: Int
    /// Archives whose latest audit check failed or found them missing.
    package var failing: Int
    /// The oldest last read over all archives.
    package var oldestCheckAt: Date?
    /// Its age in seconds at ``computedAt``.
    package var oldestCheckAgeSeconds: Double?
    /// The most recent audit check of any archive.
    package var lastAuditAt: Date?
    /// When the figures were computed.
    package var computedAt: Date

    /// The default window: every archive re-read within 30 days.
    package static let defaultWindowDays = 30

    /// Computes coverage from the catalog and the audit log.
    ///
    /// - Parameters:
    ///   - store: The archive root's store.
    ///   - windowDays: The window in days.
    ///   - now: The current time.
    /// - Returns: The coverage of every catalogued archive still on disk.
    /// - Throws: ``StoreError``.
    package static func load(
        store: any StateStore,
        windowDays: Int = defaultWindowDays,
        now: Date = Date()
    ) async throws -> AuditCoverage {
        let archives = try await store.catalog.allArchives().filter { $0.deletedLocallyAt == nil }
        let latest = try await store.catalog.latestAuditEvents()
        return compute(archives: archives, latest: latest, windowDays: windowDays, now: now)
    }

    /// Computes coverage from known values.
    package static func compute(
        archives: [ArchiveRecord],
        latest: [ArchiveKey: AuditEvent],
        windowDays: Int,
        now: Date
    ) -> AuditCoverage {
        let since = now.addingTimeInterval(-Double(windowDays) * 86_400)
        var covered = 0
        var neverAudited = 0
        var failing = 0
        var oldest: Date?
        for archive in archives {
            let event = latest[
                ArchiveKey(workspaceID: archive.workspaceID, recordingID: archive.recordingID)
            ]
            let lastRead = event?.at ?? archive.verifiedAt ?? archive.archivedAt
            if event == nil { neverAudited += 1 }
            if event?.outcome.isFailure == true {
                failing += 1
            } else if lastRead >= since {
                covered += 1
            }
            oldest = min(oldest ?? lastRead, lastRead)
        }
        return AuditCoverage(
            windowDays: windowDays,
            archives: archives.count,
            reReadWithinWindow: covered,
            percent: archives.isEmpty ? 100 : (Double(covered) * 100 / Double(archives.count)),
            neverAudited: neverAudited,
            failing: failing,
            oldestCheckAt: oldest,
            oldestCheckAgeSeconds: oldest.map { max(0, now.timeIntervalSince($0)) },
            lastAuditAt: latest.values.map(\.at).max(),
            computedAt: now
        )
    }

    /// One line for humans, for example `every archive re-read within 30 d: 97 %, oldest check 41 d ago`.
    package var summary: String {
        let share = percent.rounded() == percent ? String(Int(percent)) : String(format: "%.1f", percent)
        var text = "every archive re-read within \(windowDays) d: \(share) % (\(reReadWithinWindow) of \(archives))"
        if let age = oldestCheckAgeSeconds { text += ", oldest check \(Int(age / 86_400)) d ago" }
        if failing > 0 { text += ", \(failing) failing their last audit" }
        if let lastAuditAt {
            text += ", last audit \(lastAuditAt.formatted(.iso8601))"
        } else {
            text += ", never audited (run 'userplane-archiver audit')"
        }
        return text
    }
}
