import Foundation
import HTTPTypes
import Hummingbird

/// Response bodies and listing logic of the API endpoints.
extension SimulatorResponder {
    // MARK: - Bodies

    func me() -> JSONValue {
        let recordings = state.activeRecordings(workspaceID: state.workspaceID)
        let user = state.user
        return Self.envelope(
            "User retrieved successfully",
            .object([
                (
                    "user",
                    .object([
                        ("id", .string(user.id)), ("name", .string(user.name)), ("email", .string(user.email)),
                        ("emailVerified", true), ("image", .null), ("createdAt", "2023-11-07T05:31:56.000Z"),
                    ])
                ),
                (
                    "stats",
                    .object([
                        ("workspaces", .int(state.memberWorkspaceIDs.count)), ("recordings", .int(recordings.count)),
                        ("links", .int(Set(recordings.map(\.linkId)).count)),
                    ])
                ),
            ])
        )
    }

    func workspaceObject(_ id: String, includeMembership: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("workspaceId", .string(id)), ("workspaceName", .string(state.workspaceName(id))),
            ("createdAt", "2023-11-07T05:31:56.000Z"), ("updatedAt", "2024-01-15T09:00:00.000Z"),
        ]
        if includeMembership {
            members.append(
                (
                    "workspaceMembership",
                    .object([
                        ("workspaceMemberId", "wsm_owner01"), ("workspaceRole", "owner"),
                        ("workspaceJoinedAt", "2023-11-07T05:31:56.000Z"),
                    ])
                )
            )
        }
        return .object(members)
    }

    func listWorkspaces(query: [(name: String, value: String)]) throws(APIFailure) -> JSONValue {
        var includeMembership = false
        for item in query where item.name == "include_workspace_membership" {
            guard item.value == "true" || item.value == "false" else {
                throw Self.validation("include_workspace_membership must be a boolean")
            }
            includeMembership = item.value == "true"
        }
        let (page, perPage) = try pageParameters(query)
        let all = state.memberWorkspaceIDs
        let (slice, pagination) = Self.paginate(all, page: page, perPage: perPage)
        return Self.envelope(
            "Workspaces retrieved successfully",
            .object([
                ("workspaces", .array(slice.map { workspaceObject($0, includeMembership: includeMembership) })),
                ("total", .int(all.count)),
                ("pagination", pagination),
            ])
        )
    }

    static func validation(_ message: String) -> APIFailure {
        APIFailure(status: .badRequest, code: "BAD_REQUEST", message: "Input validation failed: " + message)
    }

    /// `page` ≥ 1 (default 1) and `per_page` in 1...20 (default 10); anything else is a 400 `BAD_REQUEST`.
    func pageParameters(_ query: [(name: String, value: String)]) throws(APIFailure) -> (Int, Int) {
        var page = 1
        var perPage = 10
        for item in query {
            switch item.name {
            case "page":
                guard let value = Int(item.value), (1...9_007_199_254_740_991).contains(value) else {
                    throw Self.validation("page must be an integer greater than 0")
                }
                page = value
            case "per_page":
                guard let value = Int(item.value), (1...20).contains(value) else {
                    throw Self.validation("per_page must be an integer between 1 and 20")
                }
                perPage = value
            default:
                continue
            }
        }
        return (page, perPage)
    }

    static func paginate<T>(_ items: [T], page: Int, perPage: Int) -> ([T], JSONValue) {
        let total = items.count
        let totalPages = (total + perPage - 1) / perPage
        let start = min(
            total,
            (page - 1).multipliedReportingOverflow(by: perPage).overflow ? total : (page - 1) * perPage
        )
        let slice = Array(items[start..<min(total, start + perPage)])
        return (
            slice,
            .object([
                ("page", .int(page)), ("perPage", .int(perPage)), ("total", .int(total)),
                ("totalPages", .int(totalPages)), ("hasMore", .bool(page < totalPages)),
            ])
        )
    }

    func listRecordings(
        workspaceID: String,
        query: [(name: String, value: String)]
    ) throws(APIFailure) -> JSONValue {
        let (page, perPage) = try pageParameters(query)
        var filters: [String: Set<String>] = [:]
        var sortBy = "created_at"
        var sortDirection = "desc"
        for item in query {
            if let open = item.name.firstIndex(of: "["), item.name.hasSuffix("]") {
                let name = String(item.name[..<open])
                let index = item.name[item.name.index(after: open)..<item.name.index(before: item.name.endIndex)]
                guard ["created_by", "project_id", "link_id"].contains(name), Int(index) != nil else {
                    throw Self.validation("unknown array parameter \(name)")
                }
                filters[name, default: []].insert(item.value)
                continue
            }
            switch item.name {
            case "created_by", "project_id", "link_id":
                throw Self.validation("\(item.name) must be an array (use \(item.name)[0]=...)")
            case "sort_by":
                guard item.value == "created_at" || item.value == "recording_duration" else {
                    throw Self.validation("sort_by must be one of created_at, recording_duration")
                }
                sortBy = item.value
            case "sort_direction":
                guard item.value == "asc" || item.value == "desc" else {
                    throw Self.validation("sort_direction must be one of asc, desc")
                }
                sortDirection = item.value
            default:
                continue
            }
        }
        var recordings = state.activeRecordings(workspaceID: workspaceID).filter { recording in
            (filters["created_by"].map { $0.contains(recording.creator.workspaceMemberId) } ?? true)
                && (filters["project_id"].map { $0.contains(recording.project.projectId) } ?? true)
                && (filters["link_id"].map { $0.contains(recording.linkId) } ?? true)
        }
        let ascending = sortDirection == "asc"
        recordings.sort { lhs, rhs in
            if sortBy == "recording_duration" {
                // Unfinished recordings (no duration) sort last in both directions.
                switch (lhs.durationMs, rhs.durationMs) {
                case (nil, nil): break
                case (nil, _): return false
                case (_, nil): return true
                case (let left?, let right?) where left != right: return ascending ? left < right : left > right
                default: break
                }
            } else if lhs.createdAtMilliseconds != rhs.createdAtMilliseconds {
                return ascending
                    ? lhs.createdAtMilliseconds < rhs.createdAtMilliseconds
                    : lhs.createdAtMilliseconds > rhs.createdAtMilliseconds
            }
            return ascending ? lhs.id < rhs.id : lhs.id > rhs.id
        }
        let (slice, pagination) = Self.paginate(recordings, page: page, perPage: perPage)
        let items: [JSONValue] = slice.map { recording in
            let thumbnail = recording.resources[.thumbnail]
            let thumbnailURL = thumbnail.flatMap { $0.availability == .available ? presign(recording, $0) : nil }
            return .object([
                ("recordingId", .string(recording.id)),
                ("recordingThumbnail", .optional(thumbnailURL)),
                ("recordingDurationMs", .optional(recording.durationMs)),
                ("expiresAt", .optional(recording.expiresAtMilliseconds.map(Timestamp.iso8601(milliseconds:)))),
                ("createdAt", .string(Timestamp.iso8601(milliseconds: recording.createdAtMilliseconds))),
                (
                    "creator",
                    .object([
                        ("workspaceMemberId", .string(recording.creator.workspaceMemberId)),
                        ("name", .string(recording.creator.name)),
                    ])
                ),
                ("linkTitle", .string(recording.title)),
            ])
        }
        if page == 1 {
            state.insertAfterFirstPageIfNeeded()
            state.deleteAfterFirstPageIfNeeded(served: slice.map(\.id))
        }
        return Self.envelope(
            "Recordings retrieved successfully",
            .object([
                ("workspaceId", .string(workspaceID)), ("recordings", .array(items)), ("pagination", pagination),
            ])
        )
    }

    func recordingObject(_ recording: SimulatedRecording) -> JSONValue {
        let created = Timestamp.iso8601(milliseconds: recording.createdAtMilliseconds)
        return .object([
            ("recordingId", .string(recording.id)),
            ("recordingDurationMs", .optional(recording.durationMs)),
            ("recordingStartedAt", .string(Timestamp.iso8601(milliseconds: recording.startedAtMilliseconds))),
            (
                "meta",
                .object([
                    (
                        "link",
                        .object([
                            ("linkId", .string(recording.linkId)), ("title", .string(recording.title)),
                            ("providerType", .string(recording.providerType)),
                            ("providerId", .string("conv_" + recording.linkId.dropFirst(4))),
                            ("providerRef", .null), ("createdAt", .string(created)), ("providerData", .object([])),
                        ])
                    ),
                    (
                        "creator",
                        .object([
                            ("workspaceMemberId", .string(recording.creator.workspaceMemberId)),
                            ("name", .string(recording.creator.name)),
                        ])
                    ),
                    (
                        "project",
                        .object([
                            ("projectId", .string(recording.project.projectId)),
                            ("title", .string(recording.project.title)),
                        ])
                    ),
                    ("domain", .object([("domainId", "dom_app01"), ("url", "https://app.example.com")])),
                    ("workspaceId", .string(recording.workspaceID)),
                    ("status", .string(recording.status)),
                    (
                        "systemMeta",
                        .object([("browser", "Firefox 128"), ("os", "Linux"), ("viewport", "1280x800")])
                    ),
                    ("customMeta", .object([("plan", "enterprise")])),
                    ("notes", .string(recording.notes)),
                    ("expiresAt", .optional(recording.expiresAtMilliseconds.map(Timestamp.iso8601(milliseconds:)))),
                    ("createdAt", .string(created)),
                    ("updatedAt", .string(Timestamp.iso8601(milliseconds: recording.updatedAtMilliseconds))),
                ])
            ),
        ])
    }

    func resourceObject(_ recording: SimulatedRecording, _ kind: ResourceKind) -> JSONValue {
        guard let spec = recording.resources[kind] else { return .null }
        var members: [(String, JSONValue)] = []
        let url: String?
        switch spec.availability {
        case .available:
            url = presign(recording, spec)
            members = [("url", .optional(url)), ("message", .string("\(kind.title) available"))]
        case .notCaptured:
            url = nil
            members = [("url", .null), ("message", .string("\(kind.title) was not captured for this recording"))]
        case .unavailable:
            url = nil
            let text =
                recording.status == "ready"
                ? "\(kind.title) is not available" : "\(kind.title) is still processing"
            members = [("url", .null), ("message", .string(text))]
        }
        members.append(("type", .string(spec.mediaType)))
        if kind == .video {
            members.append(
                (
                    "sources",
                    .array(url.map { [.object([("url", .string($0)), ("type", .string(spec.mediaType))])] } ?? [])
                )
            )
        }
        if spec.availability == .available { members.append(("size", .int(spec.body.size))) }
        if kind == .video { members.append(("durationMs", .optional(spec.durationMs))) }
        members.append(("captureEnabled", .bool(spec.availability != .notCaptured)))
        return .object(members)
    }

    /// A presigned URL for one blob.
    func presign(_ recording: SimulatedRecording, _ spec: ResourceSpec) -> String {
        let path =
            "/blob/\(Self.encodeSegment(recording.workspaceID))/\(Self.encodeSegment(recording.id))/"
            + Self.encodeSegment(spec.fileName)
        let lifetime = state.faults.urlLifetimeSeconds ?? state.configuration.blob.urlLifetimeSeconds
        state.update { $0.urlsIssued += 1 }
        let query = signer.query(path: path, nowSeconds: Timestamp.nowMilliseconds() / 1000, lifetimeSeconds: lifetime)
        return blobBaseURL + path + "?" + query
    }
}
