import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The request context: Hummingbird's core storage plus the channel, needed to inject connection resets.
struct SimulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Answers every request: `/api/v1/...` (the API), `/blob/...` (presigned blobs), `/_sim/...` (admin).
///
/// One hand-written dispatcher instead of Hummingbird's router, because recording ids arrive
/// percent-encoded (`%2F`) and must be split on raw `/` before decoding.
struct SimulatorResponder: HTTPResponder {
    typealias Context = SimulatorRequestContext

    let state: SimulatorState
    let signer: BlobSigner

    init(state: SimulatorState) {
        self.state = state
        self.signer = BlobSigner(secret: state.signingSecret)
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix(UserplaneSimulatorPaths.apiBasePath + "/") {
            return await respondAPI(to: request)
        }
        if path.hasPrefix("/blob/") {
            return await respondBlob(to: request, context: context)
        }
        if path.hasPrefix("/_sim/") {
            return await respondAdmin(to: request)
        }
        return Self.json(.notFound, Self.error("NOT_FOUND", "Not found"))
    }

    // MARK: - Helpers

    /// The base of presigned URLs.
    var blobBaseURL: String {
        let port = state.boundPort.withLock { $0 }
        if let base = state.configuration.blob.baseURL {
            return base.replacingOccurrences(of: "{port}", with: String(port))
        }
        return "http://\(state.configuration.host):\(port)"
    }

    static func error(_ code: String, _ message: String) -> JSONValue {
        .object([("error", .string(code)), ("message", .string(message))])
    }

    static func envelope(_ message: String, _ data: JSONValue) -> JSONValue {
        .object([("message", .string(message)), ("data", data)])
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: status,
            headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized))
        )
    }

    /// Splits a raw path into percent-decoded segments (empty segments dropped).
    static func segments(_ rawPath: Substring) -> [String]? {
        var result: [String] = []
        for raw in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = String(raw).removingPercentEncoding else { return nil }
            result.append(decoded)
        }
        return result
    }

    /// Parses a raw query string into decoded name/value pairs, in order.
    static func queryItems(_ query: String?) -> [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Percent-encodes `text` so it is one path segment (everything but RFC 3986 unreserved characters).
    static func encodeSegment(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = String(byte, radix: 16, uppercase: true)
                result += "%" + (digits.count == 1 ? "0" + digits : digits)
            }
        }
        return result
    }
}

/// Fixed paths of the simulator.
public enum UserplaneSimulatorPaths {
    /// The API base path every route lives under.
    public static let apiBasePath = "/api/v1"
    /// The admin prefix (not under the API).
    public static let adminBasePath = "/_sim"
}
