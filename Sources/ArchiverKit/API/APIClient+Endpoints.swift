public import Foundation

extension APIClient {
    /// The user the key belongs to (`GET /public/me`): the preflight check of the key.
    ///
    /// - Returns: The user.
    /// - Throws: ``APIError`` (for example `API_KEY_INVALID`), ``TransferError`` or `CancellationError`.
    public func me() async throws -> UserProfile {
        let response = try await send(Endpoint(segments: ["public", "me"]))
        return try decode(response, as: UserProfilePayload.self).value
    }

    /// A workspace (`GET /public/workspace/{id}`): the preflight check of membership.
    ///
    /// - Parameter id: The workspace id.
    /// - Returns: The workspace.
    /// - Throws: ``APIError`` (for example `NOT_A_MEMBER`, `WORKSPACE_NOT_FOUND`), ``TransferError`` or
    ///   `CancellationError`.
    public func workspace(_ id: String) async throws -> Workspace {
        let response = try await send(Endpoint(segments: ["public", "workspace", try nonEmpty(id, "workspace id")]))
        return try decode(response, as: WorkspacePayload.self).value
    }

    /// One recording with its status and the raw `data` bytes (`GET …/recordings/{id}`).
    ///
    /// - Parameters:
    ///   - workspace: The workspace id.
    ///   - id: The recording id.
    /// - Returns: The recording.
    /// - Throws: ``APIError`` (``APIError/meansGone`` for `RECORDING_NOT_FOUND`/`RECORDING_GONE`),
    ///   ``TransferError`` or `CancellationError`.
    public func recording(workspace: String, id: String) async throws -> RecordingDetail {
        let response = try await send(Endpoint(segments: try recordingSegments(workspace, id)))
        let payload = try decode(response, as: RecordingDetailPayload.self)
        guard let raw = JSONSpanScanner.rawValue(ofTopLevelKey: "data", in: response.body) else {
            throw malformed(response, "the get-recording body has no top-level data member")
        }
        var detail = payload.value
        detail.rawData = Array(raw)
        return detail
    }

    /// A resource's availability and freshly presigned URL (`GET …/recordings/{id}/<kind>`).
    ///
    /// - Parameters:
    ///   - workspace: The workspace id.
    ///   - recording: The recording id.
    ///   - kind: Which resource.
    /// - Returns: The resource; check ``RecordingResource/availability``.
    /// - Throws: ``APIError``, ``TransferError`` or `CancellationError`.
    public func resource(workspace: String, recording: String, kind: ResourceKind) async throws -> RecordingResource {
        let response = try await send(
            Endpoint(segments: try recordingSegments(workspace, recording) + [kind.pathSuffix])
        )
        return try decode(response, as: ResourcePayload.self).value
    }

    /// Soft-deletes a recording (`DELETE …/recordings/{id}`).
    ///
    /// - Parameters:
    ///   - workspace: The workspace id.
    ///   - id: The recording id.
    /// - Throws: ``APIError`` (`RECORDING_GONE` when already deleted, `RECORDING_DELETE_FORBIDDEN`, …),
    ///   ``TransferError`` or `CancellationError`.
    /// - Returns: What the server answered: the documented answer is `200` with the JSON success envelope.
    @discardableResult
    public func deleteRecording(workspace: String, id: String) async throws -> DeleteAnswer {
        let response = try await send(Endpoint(method: "DELETE", segments: try recordingSegments(workspace, id)))
        let isEnvelope =
            (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["data"] != nil
        return DeleteAnswer(status: response.status, hasSuccessEnvelope: isEnvelope)
    }

    /// The recordings of a workspace as a lazy sequence of pages (or the recordings named in
    /// `filter.recordingIDs`, fetched directly).
    ///
    /// - Parameters:
    ///   - workspace: The workspace id.
    ///   - filter: Server-side and client-side filters.
    ///   - order: Oldest first (the default) or newest first.
    ///   - stopAtOrBefore: Newest first only: stop after the first page whose every item was created at
    ///     or before this instant (an incremental listing). Default `nil`: read to the end.
    /// - Returns: The pages; read ``RecordingPages/reconciliation`` after iterating.
    public func listRecordings(
        workspace: String,
        filter: RecordingFilter = RecordingFilter(),
        order: ListingOrder = .oldestFirst,
        stopAtOrBefore: Date? = nil
    ) -> RecordingPages {
        RecordingPages(client: self, workspace: workspace, filter: filter, order: order, stopAtOrBefore: stopAtOrBefore)
    }

    /// Fetches one page of the recordings list.
    func recordingsPage(
        workspace: String,
        filter: RecordingFilter,
        page: Int,
        order: ListingOrder
    ) async throws -> ListPayload {
        var query: [(name: String, value: String)] = [
            ("page", "\(page)"),
            ("per_page", "\(configuration.pagination.pageSize)"),
            ("sort_by", "created_at"),
            ("sort_direction", order.sortDirection),
        ]
        for (name, values) in [
            ("project_id", filter.projectIds), ("link_id", filter.linkIds), ("created_by", filter.createdBy),
        ] {
            for (index, value) in values.enumerated() { query.append(("\(name)[\(index)]", value)) }
        }
        let endpoint = Endpoint(
            segments: ["public", "workspace", try nonEmpty(workspace, "workspace id"), "recordings"],
            query: query
        )
        return try decode(try await send(endpoint), as: ListPayload.self)
    }

    private func recordingSegments(_ workspace: String, _ id: String) throws(APIError) -> [String] {
        [
            "public", "workspace", try nonEmpty(workspace, "workspace id"), "recordings",
            try nonEmpty(id, "recording id"),
        ]
    }

    private func nonEmpty(_ value: String, _ what: String) throws(APIError) -> String {
        guard !value.isEmpty else {
            throw APIError(code: .invalidRequest, status: nil, message: "the \(what) is empty")
        }
        return value
    }

    private func decode<T: Decodable>(_ response: TransportResponse, as type: T.Type) throws(APIError) -> T {
        do {
            return try JSONCoding.decoder.decode(DataEnvelope<T>.self, from: Data(response.body)).data
        } catch {
            throw malformed(response, "the body is not the expected JSON {message, data} envelope (\(error))")
        }
    }

    private func malformed(_ response: TransportResponse, _ message: String) -> APIError {
        APIError(
            code: .malformedResponse,
            status: response.status,
            message: "HTTP \(response.status): \(message)",
            requestId: Self.requestId(in: response)
        )
    }
}

/// `{"message": …, "data": T}`; `data` is required.
struct DataEnvelope<T: Decodable>: Decodable {
    var data: T
}

struct UserProfilePayload: Decodable {
    var value: UserProfile
    init(from decoder: any Decoder) throws {
        value = try UserProfile(data: try decoder.container(keyedBy: AnyCodingKey.self))
    }
}

struct WorkspacePayload: Decodable {
    var value: Workspace
    init(from decoder: any Decoder) throws {
        value = try Workspace(data: try decoder.container(keyedBy: AnyCodingKey.self))
    }
}

struct RecordingDetailPayload: Decodable {
    var value: RecordingDetail
    init(from decoder: any Decoder) throws {
        value = try RecordingDetail(data: try decoder.container(keyedBy: AnyCodingKey.self), rawData: [])
    }
}

struct ResourcePayload: Decodable {
    var value: RecordingResource
    init(from decoder: any Decoder) throws {
        let data = try decoder.container(keyedBy: AnyCodingKey.self)
        guard let resource = data.object("resource") else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "no data.resource")
            )
        }
        value = RecordingResource(container: resource)
    }
}

/// `data` of the recordings list: items decoded one by one so one odd item does not sink the page.
struct ListPayload: Decodable {
    var recordings: [Recording]
    var undecodable: Int
    var pagination: Pagination?

    struct Pagination: Sendable {
        var page: Int?
        var perPage: Int?
        var total: Int?
        var totalPages: Int?
        var hasMore: Bool?
    }

    init(from decoder: any Decoder) throws {
        let data = try decoder.container(keyedBy: AnyCodingKey.self)
        var recordings: [Recording] = []
        var undecodable = 0
        var list = try data.nestedUnkeyedContainer(forKey: AnyCodingKey("recordings"))
        while !list.isAtEnd {
            if let recording = try? list.decode(Recording.self) {
                recordings.append(recording)
            } else {
                undecodable += 1
                _ = try list.decode(SkippedValue.self)
            }
        }
        self.recordings = recordings
        self.undecodable = undecodable
        self.pagination = data.object("pagination").map {
            Pagination(
                page: $0.lenientInt("page"),
                perPage: $0.lenientInt("perPage"),
                total: $0.lenientInt("total"),
                totalPages: $0.lenientInt("totalPages"),
                hasMore: $0.lenientBool("hasMore")
            )
        }
    }
}

/// Consumes any JSON value.
private struct SkippedValue: Decodable {
    init(from decoder: any Decoder) throws {}
}

/// The server's 2xx answer to a `DELETE`.
public struct DeleteAnswer: Sendable, Hashable {
    /// The HTTP status (`200` is documented; `204` and others are possible).
    public var status: Int
    /// Whether the body was the documented `{"message", "data"}` JSON envelope.
    public var hasSuccessEnvelope: Bool

    /// Whether this is the documented answer: `200` with the JSON envelope.
    public var isDocumented: Bool { status == 200 && hasSuccessEnvelope }
}
