import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

extension SimulatorResponder {
    /// `GET /_sim/counters`, `GET /_sim/journal`, `GET /_sim/expected`, `GET /_sim/recordings`,
    /// `GET|PUT|PATCH /_sim/faults`, `POST /_sim/reset-counters`, `GET /_sim/info`, and
    /// `POST /_sim/recordings` with `{"count": N, "ageSeconds": S}` (both optional; 1 and 0) to add N
    /// recordings created S seconds ago, answering their ids.
    func respondAdmin(to request: Request) async -> Response {
        let name = String(request.uri.path.dropFirst(UserplaneSimulatorPaths.adminBasePath.count + 1))
        let response: Response
        do {
            response = try await adminResponse(name: name, request: request)
        } catch {
            response = Self.json(.badRequest, Self.error("BAD_REQUEST", "\(error)"))
        }
        state.journal(
            kind: "admin",
            method: request.method.rawValue,
            path: request.uri.path,
            status: Int(response.status.code)
        )
        return response
    }

    private func adminResponse(name: String, request: Request) async throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func encoded(_ value: some Encodable) throws -> Response {
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
            )
        }
        switch (request.method, name) {
        case (.get, "counters"):
            return try encoded(state.storage.withLock { $0.counters })
        case (.get, "journal"):
            return try encoded(state.storage.withLock { $0.journal })
        case (.get, "expected"):
            return try encoded(
                ExpectedResources.compute(
                    state.storage.withLock { $0.recordings }.filter { $0.workspaceID == state.workspaceID }
                )
            )
        case (.get, "recordings"):
            return try encoded(state.summaries)
        case (.get, "faults"):
            return try encoded(state.faults)
        case (.put, "faults"), (.patch, "faults"):
            // PUT replaces (missing keys take their defaults); PATCH merges over the faults in force.
            let body = try await request.body.collect(upTo: 1 << 20)
            let base = request.method == .patch ? state.faults : SimulatorFaults()
            let faults = try SimulatorFaults(json: Array(buffer: body), over: base)
            state.setFaults(faults)
            return try encoded(faults)
        case (.post, "recordings"):
            let body = try await request.body.collect(upTo: 1 << 20)
            let object = try JSONSerialization.jsonObject(with: Data(Array(buffer: body))) as? [String: Any] ?? [:]
            let count = (object["count"] as? Int) ?? 1
            let age = (object["ageSeconds"] as? Int) ?? 0
            guard (0...100_000).contains(count), age >= 0 else {
                return Self.json(.badRequest, Self.error("BAD_REQUEST", "count must be 0...100000, ageSeconds >= 0"))
            }
            let createdAt = Timestamp.nowMilliseconds() - Int64(age) * 1000
            return try encoded(state.insert(count: count, createdAtMilliseconds: createdAt))
        case (.post, "reset-counters"):
            state.storage.withLock { storage in
                storage.counters = SimulatorCounters()
                storage.journal = []
                storage.allCalls = SlidingWindow()
            }
            return Response(status: .noContent)
        default:
            return Self.json(.notFound, Self.error("NOT_FOUND", "Not found"))
        }
    }
}
