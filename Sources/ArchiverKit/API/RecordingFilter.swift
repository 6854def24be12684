public import Foundation

/// Which recordings a listing yields.
///
/// `projectIds`, `linkIds` and `createdBy` are sent as the API's bracketed array filters
/// (`project_id[0]=…`). `since`/`until` are applied client-side to `createdAt` (the API documents no
/// date filter). When ``recordingIDs`` is not empty, those recordings are fetched directly instead of
/// listing, and the other filters are applied client-side.
public struct RecordingFilter: Sendable, Hashable {
    /// Recordings to fetch directly (`--recording`).
    public var recordingIDs: [String]
    /// Projects to list (`--project`).
    public var projectIds: [String]
    /// Links to list (`--link`).
    public var linkIds: [String]
    /// Creating workspace members (`--created-by`).
    public var createdBy: [String]
    /// Only recordings created at or after this instant (`--since`).
    public var since: Date?
    /// Only recordings created before this instant (`--until`).
    public var until: Date?

    /// Creates a filter; the default matches everything.
    ///
    /// - Parameters:
    ///   - recordingIDs: Recordings to fetch directly.
    ///   - projectIds: Projects to list.
    ///   - linkIds: Links to list.
    ///   - createdBy: Creating members.
    ///   - since: Inclusive lower bound on `createdAt`.
    ///   - until: Exclusive upper bound on `createdAt`.
    public init(
        recordingIDs: [String] = [],
        projectIds: [String] = [],
        linkIds: [String] = [],
        createdBy: [String] = [],
        since: Date? = nil,
        until: Date? = nil
    ) {
        self.recordingIDs = recordingIDs
        self.projectIds = projectIds
        self.linkIds = linkIds
        self.createdBy = createdBy
        self.since = since
        self.until = until
    }

    /// Whether `createdAt` lies in `since..<until`.
    ///
    /// - Parameter createdAt: A creation time.
    /// - Returns: `true` when inside the range.
    public func matches(createdAt: Date) -> Bool {
        if let since, createdAt < since { return false }
        if let until, createdAt >= until { return false }
        return true
    }

    /// Whether a directly fetched recording passes the project, link, creator and date filters.
    func matches(_ detail: RecordingDetail) -> Bool {
        if !projectIds.isEmpty, !projectIds.contains(detail.project?.projectId ?? "") { return false }
        if !linkIds.isEmpty, !linkIds.contains(detail.link?.linkId ?? "") { return false }
        if !createdBy.isEmpty, !createdBy.contains(detail.creator?.workspaceMemberId ?? "") { return false }
        guard let createdAt = detail.createdAt else { return since == nil && until == nil }
        return matches(createdAt: createdAt)
    }
}
