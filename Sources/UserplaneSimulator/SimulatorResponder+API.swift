import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension SimulatorResponder {
    struct APIFailure: Error {
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
            let workspaceID = segments[2]
            try checkMembership(workspaceID)
            return try workspaceRoute(request.method, workspaceID: workspaceID, rest: Array(segments[3...]), query)
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

    func checkMembership(_ workspaceID: String) throws(APIFailure) {
        if state.memberWorkspaceIDs.contains(workspaceID) { return }
        if workspaceID == state.foreignWorkspaceID {
            throw APIFailure(
                status: .forbidden,
                code: "NOT_A_MEMBER",
                message: "The API key owner is not a member of this workspace."
            )
        }
        throw APIFailure(status: .notFound, code: "WORKSPACE_NOT_FOUND", message: "Workspace not found")
    }

    func workspaceRoute(
        _ method: HTTPRequest.Method,
        workspaceID: String,
        rest: [String],
        _ query: [(name: String, value: String)]
    ) throws(APIFailure) -> JSONValue {
        switch (method, rest.count) {
        case (.get, 0):
            return Self.envelope(
                "Workspace retrieved successfully",
                .object([("workspace", workspaceObject(workspaceID, includeMembership: false))])
            )
        case (.get, 1) where rest[0] == "recordings":
            return try listRecordings(workspaceID: workspaceID, query: query)
        case (.get, 2) where rest[0] == "recordings":
            let recording = try lookup(rest[1], in: workspaceID, isDelete: false)
            return Self.envelope(
                "Recording retrieved successfully",
                .object([("workspaceId", .string(workspaceID)), ("recording", recordingObject(recording))])
            )
        case (.delete, 2) where rest[0] == "recordings":
            let recording = try lookup(rest[1], in: workspaceID, isDelete: true)
            switch state.delete(id: recording.id) {
            case .deleted:
                return Self.envelope(
                    "Recording deleted successfully",
                    .object([("workspaceId", .string(workspaceID)), ("recordingId", .string(recording.id))])
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
            let recording = try lookup(rest[1], in: workspaceID, isDelete: false)
            return Self.envelope(
                "Recording \(kind.noun) retrieved successfully",
                .object([("recordingId", .string(recording.id)), ("resource", resourceObject(recording, kind))])
            )
        default:
            throw APIFailure(status: .notFound, code: "NOT_FOUND", message: "Not found")
        }
    }

    static var gone: APIFailure {
        APIFailure(status: .gone, code: "RECORDING_GONE", message: "Recording has already been deleted")
    }

    static var notFound: APIFailure {
        APIFailure(status: .notFound, code: "RECORDING_NOT_FOUND", message: "Recording not found")
    }

    func lookup(_ id: String, in workspaceID: String, isDelete: Bool) throws(APIFailure) -> SimulatedRecording {
        guard let recording = state.recording(id: id) else { throw Self.notFound }
        if recording.workspaceID != workspaceID {
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
        if faults.vanishedRecordingIDs.contains(id) {
            throw faults.vanishStatus == 410 ? Self.gone : Self.notFound
        }
        return recording
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
