import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension SimulatorResponder {
    private struct APIFailure: Error {
        var status: HTTPResponse.Status
        var code: String
        var message: String
    }

    private static let authDocs = " See https://docs.userplane.io/api/authentication"
    private static let rateLimitMessage =
        "Rate limit exceeded. Wait and retry with exponential backoff. See https://docs.userplane.io/api/rate-limits"

    func respondAPI(to request: Request) async -> Response {
        let rawPath = request.uri.path.dropFirst(UserplaneSimulatorPaths.apiBasePath.count)
        let segments = Self.segments(rawPath) ?? []
        let method = request.method.rawValue
        let endpoint = "\(method) \(Self.template(segments))"
        let sequence = state.countAPICall(endpoint: endpoint)
        let latency = state.faults.apiLatencyMilliseconds
        if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }

        var headers = HTTPFields()
        headers[.accessControlAllowOrigin] = "*"
        if state.configuration.sendsRequestId {
            headers[HTTPField.Name.requestId] = "req_" + hex(SplitMix64.hash("req#\(sequence)", seed: sequence))
        }
        let response: Response
        do {
            let value = try await route(
                request: request,
                segments: segments,
                pathKey: "\(method) \(rawPath)",
                sequence: sequence,
                headers: &headers
            )
            response = Self.json(.ok, value, headers: headers)
        } catch {
            if error.code.isEmpty {
                response = Self.json(error.status, .object([]), headers: headers)
            } else {
                response = Self.json(error.status, Self.error(error.code, error.message), headers: headers)
            }
        }
        state.journal(kind: "api", method: method, path: request.uri.path, status: Int(response.status.code))
        return response
    }

    /// `/public/workspace/{ws}/recordings/{id}/video` style name of an endpoint, for counters.
    static func template(_ segments: [String]) -> String {
        var names = segments
        if names.count >= 3, names[0] == "public", names[1] == "workspace" { names[2] = "{ws}" }
        if names.count >= 5, names[3] == "recordings" { names[4] = "{id}" }
        return "/" + names.joined(separator: "/")
    }

    private func route(
        request: Request,
        segments: [String],
        pathKey: String,
        sequence: UInt64,
        headers: inout HTTPFields
    ) async throws(APIFailure) -> JSONValue {
        // 1. Authentication (documented precedence is unknown; auth → membership → resource is inferred).
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
            authorization.count > 7
        else {
            throw APIFailure(
                status: .unauthorized,
                code: "API_KEY_REQUIRED",
                message: "API key is required. Include it as Authorization: Bearer <your-api-key>." + Self.authDocs
            )
        }
        if state.faults.keyServiceDown {
            state.update { $0.injected5xx += 1 }
            throw Self.serviceUnavailable
        }
        let presented = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard let key = state.apiKeys.first(where: { $0.key == presented }) else {
            throw APIFailure(
                status: .unauthorized,
                code: "API_KEY_INVALID",
                message: "The provided API key is not valid. Verify the key and try again."
            )
        }
        if key.state == .expired {
            throw APIFailure(
                status: .unauthorized,
                code: "API_KEY_EXPIRED",
                message: "The API key has expired. Rotate or create a new key."
            )
        }
        if key.state == .disabled {
            throw APIFailure(
                status: .forbidden,
                code: "API_KEY_DISABLED",
                message: "The API key is disabled. Enable it or create a new key."
            )
        }
        // 2. Rate limit, per user.
        let decision = state.admit(userId: key.userId)
        let limits = state.configuration.rateLimit
        if limits.sendsRateLimitHeaders {
            headers[HTTPField.Name.rateLimitLimit] = String(decision.limit)
            headers[HTTPField.Name.rateLimitRemaining] = String(decision.remaining)
            headers[HTTPField.Name.rateLimitReset] = String(decision.resetSeconds)
        }
        guard decision.isAllowed else {
            if limits.sendsRetryAfter { headers[.retryAfter] = String(decision.resetSeconds) }
            throw APIFailure(status: .tooManyRequests, code: "RATE_LIMITED", message: Self.rateLimitMessage)
        }
        // 3. Injected server errors.
        if let status = state.injectedAPIStatus(pathKey: pathKey, sequence: sequence) {
            if status == 503 { throw Self.serviceUnavailable }
            throw APIFailure(status: .init(code: status), code: "", message: "")
        }
        // 4. Routing.
        let query = Self.queryItems(request.uri.query)
        switch (request.method, segments.count) {
        case (.get, 2) where segments == ["public", "me"]:
            return me()
        case (.get, 2) where segments == ["public", "workspaces"]:
            return try listWorkspaces(query: query)
        case (_, 3...) where segments[0] == "public" && segments[1] == "workspace":
            let workspaceId = segments[2]
            try checkMembership(workspaceId)
            return try workspaceRoute(request.method, workspaceId: workspaceId, rest: Array(segments[3...]), query)
        default:
            throw APIFailure(status: .notFound, code: "NOT_FOUND", message: "Not found")
        }
    }

    private static var serviceUnavailable: APIFailure {
        APIFailure(
            status: .serviceUnavailable,
            code: "SERVICE_UNAVAILABLE",
            message: "API key verification service is temporarily unavailable. Please try again later."
        )
    }

    private func checkMembership(_ workspaceId: String) throws(APIFailure) {
        if state.memberWorkspaceIds.contains(workspaceId) { return }
        if workspaceId == state.foreignWorkspaceId {
            throw APIFailure(
                status: .forbidden,
                code: "NOT_A_MEMBER",
                message: "The API key owner is not a member of this workspace."
            )
        }
        throw APIFailure(status: .notFound, code: "WORKSPACE_NOT_FOUND", message: "Workspace not found")
    }

    private func workspaceRoute(
        _ method: HTTPRequest.Method,
        workspaceId: String,
        rest: [String],
        _ query: [(name: String, value: String)]
    ) throws(APIFailure) -> JSONValue {
        switch (method, rest.count) {
        case (.get, 0):
            return Self.envelope(
                "Workspace retrieved successfully",
                .object([("workspace", workspaceObject(workspaceId, includeMembership: false))])
            )
        case (.get, 1) where rest[0] == "recordings":
            return try listRecordings(workspaceId: workspaceId, query: query)
        case (.get, 2) where rest[0] == "recordings":
            let recording = try lookup(rest[1], in: workspaceId, isDelete: false)
            return Self.envelope(
                "Recording retrieved successfully",
                .object([("workspaceId", .string(workspaceId)), ("recording", recordingObject(recording))])
            )
        case (.delete, 2) where rest[0] == "recordings":
            let recording = try lookup(rest[1], in: workspaceId, isDelete: true)
            switch state.delete(id: recording.id) {
            case .deleted:
                return Self.envelope(
                    "Recording deleted successfully",
                    .object([("workspaceId", .string(workspaceId)), ("recordingId", .string(recording.id))])
                )
            case .alreadyGone:
                throw Self.gone
            case .forbidden:
                throw APIFailure(
                    status: .forbidden,
                    code: "RECORDING_DELETE_FORBIDDEN",
                    message: "You do not have permission to delete this recording."
                )
            case .failed:
                throw APIFailure(
                    status: .internalServerError,
                    code: "RECORDING_DELETE_FAILED",
                    message: "Failed to delete recording"
                )
            }
        case (.get, 3) where rest[0] == "recordings":
            guard let kind = ResourceKind(rawValue: rest[2]) else {
                throw APIFailure(status: .notFound, code: "NOT_FOUND", message: "Not found")
            }
            let recording = try lookup(rest[1], in: workspaceId, isDelete: false)
            return Self.envelope(
                "Recording \(kind.noun) retrieved successfully",
                .object([("recordingId", .string(recording.id)), ("resource", resourceObject(recording, kind))])
            )
        default:
            throw APIFailure(status: .notFound, code: "NOT_FOUND", message: "Not found")
        }
    }

    private static var gone: APIFailure {
        APIFailure(status: .gone, code: "RECORDING_GONE", message: "Recording has already been deleted")
    }

    private static var notFound: APIFailure {
        APIFailure(status: .notFound, code: "RECORDING_NOT_FOUND", message: "Recording not found")
    }

    private func lookup(_ id: String, in workspaceId: String, isDelete: Bool) throws(APIFailure) -> SimulatedRecording {
        guard let recording = state.recording(id: id) else { throw Self.notFound }
        if recording.workspaceId != workspaceId {
            if isDelete || state.configuration.reportsWorkspaceMismatchOnGet {
                throw APIFailure(
                    status: .forbidden,
                    code: "RECORDING_WORKSPACE_MISMATCH",
                    message: "Recording does not belong to this workspace."
                )
            }
            throw Self.notFound
        }
        if recording.isDeleted { throw Self.gone }
        let faults = state.faults
        if faults.vanishedRecordingIds.contains(id) {
            throw faults.vanishStatus == 410 ? Self.gone : Self.notFound
        }
        return recording
    }

    // MARK: - Bodies

    private func me() -> JSONValue {
        let recordings = state.activeRecordings(workspaceId: state.workspaceId)
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
                        ("workspaces", .int(state.memberWorkspaceIds.count)), ("recordings", .int(recordings.count)),
                        ("links", .int(Set(recordings.map(\.linkId)).count)),
                    ])
                ),
            ])
        )
    }

    private func workspaceObject(_ id: String, includeMembership: Bool) -> JSONValue {
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

    private func listWorkspaces(query: [(name: String, value: String)]) throws(APIFailure) -> JSONValue {
        var includeMembership = false
        for item in query where item.name == "include_workspace_membership" {
            guard item.value == "true" || item.value == "false" else {
                throw Self.validation("include_workspace_membership must be a boolean")
            }
            includeMembership = item.value == "true"
        }
        let (page, perPage) = try pageParameters(query)
        let all = state.memberWorkspaceIds
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

    private static func validation(_ message: String) -> APIFailure {
        APIFailure(status: .badRequest, code: "BAD_REQUEST", message: "Input validation failed: " + message)
    }

    /// `page` ≥ 1 (default 1) and `per_page` in 1...20 (default 10); anything else is a 400 `BAD_REQUEST`.
    private func pageParameters(_ query: [(name: String, value: String)]) throws(APIFailure) -> (Int, Int) {
        var page = 1
        var perPage = 10
        for item in query {
            switch item.name {
            case "page":
                guard let value = Int(item.value), value >= 1 else {
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

    private func listRecordings(
        workspaceId: String,
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
        var recordings = state.activeRecordings(workspaceId: workspaceId).filter { recording in
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
        if page == 1 { state.insertAfterFirstPageIfNeeded() }
        return Self.envelope(
            "Recordings retrieved successfully",
            .object([
                ("workspaceId", .string(workspaceId)), ("recordings", .array(items)), ("pagination", pagination),
            ])
        )
    }

    private func recordingObject(_ recording: SimulatedRecording) -> JSONValue {
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
                    ("workspaceId", .string(recording.workspaceId)),
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

    private func resourceObject(_ recording: SimulatedRecording, _ kind: ResourceKind) -> JSONValue {
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
            "/blob/\(Self.encodeSegment(recording.workspaceId))/\(Self.encodeSegment(recording.id))/"
            + Self.encodeSegment(spec.fileName)
        let lifetime = state.faults.urlLifetimeSeconds ?? state.configuration.blob.urlLifetimeSeconds
        state.update { $0.urlsIssued += 1 }
        let query = signer.query(path: path, nowSeconds: Timestamp.nowMilliseconds() / 1000, lifetimeSeconds: lifetime)
        return blobBaseURL + path + "?" + query
    }
}

extension HTTPField.Name {
    fileprivate static let requestId = Self.custom("X-Request-Id")
    fileprivate static let rateLimitLimit = Self.custom("X-RateLimit-Limit")
    fileprivate static let rateLimitRemaining = Self.custom("X-RateLimit-Remaining")
    fileprivate static let rateLimitReset = Self.custom("X-RateLimit-Reset")

    private static func custom(_ name: String) -> Self {
        // The names are valid tokens; the fallback is unreachable.
        Self(name) ?? .contentType
    }
}
