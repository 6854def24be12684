import ArchiverKit
import Foundation
import UserplaneSimulator

/// A thin test client over ArchiverKit's libcurl `HTTPTransport`, talking to a real simulator socket.
struct SimulatorClient {
    let simulator: RunningSimulator
    let transport = HTTPTransport()

    struct Reply {
        var status: Int
        var response: TransportResponse
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        }
        var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }
        var error: String? { json["error"] as? String }
        var text: String { String(decoding: response.body, as: UTF8.self) }
        func header(_ name: String) -> String? { response.header(name) }
    }

    /// `GET`/`DELETE` under the API base, with the simulator's key unless `key` says otherwise.
    func api(_ path: String, method: String = "GET", key: String?? = .none) async throws -> Reply {
        let usedKey: String? =
            switch key {
            case .none: simulator.apiKey
            case .some(let value): value
            }
        var headers: [(name: String, value: String)] = []
        if let usedKey { headers.append(("Authorization", "Bearer \(usedKey)")) }
        let response = try await transport.send(
            TransportRequest(method: method, url: simulator.apiBaseURL + path, headers: headers)
        )
        return Reply(status: response.status, response: response)
    }

    /// Any absolute URL, no key.
    func fetch(
        _ url: String,
        method: String = "GET",
        headers: [(name: String, value: String)] = []
    ) async throws -> Reply {
        let response = try await transport.send(TransportRequest(method: method, url: url, headers: headers))
        return Reply(status: response.status, response: response)
    }

    /// The path of one recording, id percent-encoded as one segment.
    func recordingPath(_ id: String, workspace: String? = nil) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.~"))
        let encoded = id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
        return "/public/workspace/\(workspace ?? simulator.workspaceID)/recordings/\(encoded)"
    }

    /// The presigned URL of a resource, or nil when `url` is null.
    func resourceURL(_ id: String, _ resource: String) async throws -> String? {
        let reply = try await api(recordingPath(id) + "/" + resource)
        return (reply.data["resource"] as? [String: Any])?["url"] as? String
    }

    /// Recording ids of one listing page.
    static func ids(_ reply: Reply) -> [String] {
        (reply.data["recordings"] as? [[String: Any]] ?? []).compactMap { $0["recordingId"] as? String }
    }

    static func pagination(_ reply: Reply) -> [String: Any] { reply.data["pagination"] as? [String: Any] ?? [:] }
}

extension SimulatorConfiguration {
    /// A small, fault-free world for tests.
    static func small(recordings: Int = 25, _ adjust: (inout SimulatorConfiguration) -> Void = { _ in }) -> Self {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = recordings
        configuration.content.maximumVideoBytes = 96 << 10
        adjust(&configuration)
        return configuration
    }
}
