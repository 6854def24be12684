import Crypto
import Foundation
import Glibc
import HTTPTypes
import Hummingbird
import NIOCore

extension SimulatorResponder {
    /// Thrown inside a blob body writer to make Hummingbird close the connection mid-body.
    private struct InjectedConnectionFault: Error {}

    func respondBlob(to request: Request, context: Context) async -> Response {
        let method = request.method
        let rawPath = request.uri.path
        state.update { $0.blobRequests += 1 }
        let response = blobResponse(to: request, context: context)
        state.journal(kind: "blob", method: method.rawValue, path: rawPath, status: Int(response.status.code))
        return response
    }

    private static func s3Error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        let xml =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message>"
            + "<RequestId>SIMULATOR</RequestId><HostId>simulator</HostId></Error>"
        return Response(
            status: status,
            headers: [.contentType: "application/xml"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: xml))
        )
    }

    private func blobResponse(to request: Request, context: Context) -> Response {
        // Key leaks: any Authorization header, or any API key string anywhere in the request.
        let keys = state.apiKeys.map(\.key)
        let hasAuthorization = request.headers[.authorization] != nil
        let everything = ([request.uri.string] + request.headers.map(\.value)).joined(separator: "\n")
        if hasAuthorization || keys.contains(where: { everything.contains($0) }) {
            state.update { $0.keyLeaks += 1 }
        }
        if hasAuthorization {
            return Self.s3Error(
                .badRequest,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string"
                    + " parameter or the Authorization header should be specified"
            )
        }
        guard request.method == .get || request.method == .head else {
            return Self.s3Error(.methodNotAllowed, "MethodNotAllowed", "The specified method is not allowed")
        }
        if request.method == .head, state.configuration.blob.refusesHead {
            return Self.s3Error(
                .forbidden,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided."
            )
        }
        let path = request.uri.path
        var query: [String: String] = [:]
        for item in Self.queryItems(request.uri.query) { query[item.name] = item.value }
        switch signer.verify(path: path, query: query, nowSeconds: Timestamp.nowMilliseconds() / 1000) {
        case .valid:
            break
        case .expired:
            return Self.s3Error(.forbidden, "AccessDenied", "Request has expired")
        case .missing:
            return Self.s3Error(
                .forbidden,
                "AccessDenied",
                "Query-string authentication requires the Signature, Expires and Credential parameters"
            )
        case .badSignature:
            return Self.s3Error(
                .forbidden,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided."
            )
        }
        guard let segments = Self.segments(path.dropFirst("/blob".count)), segments.count == 3,
            let recording = state.recording(id: segments[1]), recording.workspaceID == segments[0],
            !recording.isDeleted,
            let spec = recording.resources.values.first(where: { $0.fileName == segments[2] }),
            spec.availability == .available
        else {
            return Self.s3Error(.notFound, "NoSuchKey", "The specified key does not exist.")
        }
        return serve(spec, of: recording, request: request, context: context)
    }

    /// A strong validator derived from what determines the bytes.
    static func etag(_ spec: ResourceSpec, recordingID: String) -> String {
        let seed: UInt64
        switch spec.body {
        case .generated(let s, _, _): seed = s
        case .bytes(let bytes): seed = SplitMix64.hash(String(decoding: bytes, as: UTF8.self))
        }
        return "\"" + hex(SplitMix64.hash("\(recordingID)/\(spec.fileName)/\(spec.body.size)", seed: seed)) + "\""
    }

    private func serve(
        _ spec: ResourceSpec,
        of recording: SimulatedRecording,
        request: Request,
        context: Context
    ) -> Response {
        let size = spec.body.size
        let etag = Self.etag(spec, recordingID: recording.id)
        let lastModified = HTTPDate.format(seconds: recording.createdAtMilliseconds / 1000)
        var headers: HTTPFields = [
            .contentType: spec.mediaType, .eTag: etag, .lastModified: lastModified, .acceptRanges: "bytes",
        ]
        var range = 0..<size
        var status = HTTPResponse.Status.ok
        if let rangeHeader = request.headers[.range] {
            let ifRange = request.headers[.ifRange]
            if ifRange == nil || ifRange == etag || ifRange == lastModified {
                switch ByteRange.parse(rangeHeader, size: size) {
                case .none:
                    break
                case .unsatisfiable:
                    headers[.contentRange] = "bytes */\(size)"
                    return Response(
                        status: .rangeNotSatisfiable,
                        headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer())
                    )
                case .satisfiable(let satisfiable):
                    range = satisfiable
                    status = .partialContent
                    headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
                }
            }
        }
        headers[.contentLength] = String(range.count)
        if request.method == .head {
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        let faults = state.blobFaultsApply(path: request.uri.path)
        var sendLimit = range.count
        var isDrop = false
        if let faults, let truncate = faults.blobTruncateFraction {
            sendLimit = min(sendLimit, Int(Double(range.count) * max(0, min(1, truncate))))
        }
        if let faults, let dropAfter = faults.blobDropAfterBytes, dropAfter < sendLimit {
            sendLimit = max(0, dropAfter)
            isDrop = true
        }
        var isStall = false
        if let faults, let stallAfter = faults.blobStallAfterBytes, stallAfter < sendLimit {
            sendLimit = max(0, stallAfter)
            isStall = true
            isDrop = false
        }
        let isFaulted = sendLimit < range.count
        let isStallFault = isStall
        let stallLength = Duration.seconds(max(0, faults?.blobStallSeconds ?? 0))
        let isDropFault = isDrop
        let isReset = isDrop && (faults?.blobDropMode.isReset ?? false)
        let bytesPerSecond = faults?.blobBytesPerSecond ?? state.faults.blobBytesPerSecond
        let chunkBytes = max(
            1,
            min(state.configuration.blob.chunkBytes, bytesPerSecond.map { max(1, $0 / 10) } ?? .max)
        )
        let state = self.state
        let channel = context.channel
        let body = spec.body
        let sendRange = range.lowerBound..<(range.lowerBound + sendLimit)
        let responseBody = ResponseBody(contentLength: range.count) { writer in
            var position = sendRange.lowerBound
            let started = ContinuousClock.now
            var sent = 0
            while position < sendRange.upperBound {
                let length = min(chunkBytes, sendRange.upperBound - position)
                var buffer = ByteBuffer()
                body.write(offset: position, length: length, into: &buffer)
                try await writer.write(buffer)
                position += length
                sent += length
                state.update { $0.blobBytesSent += length }
                if let bytesPerSecond, bytesPerSecond > 0 {
                    let due = started + .milliseconds(Int64(sent) * 1000 / Int64(bytesPerSecond))
                    try await Task.sleep(until: due, clock: .continuous)
                }
            }
            if isStallFault {
                state.update { $0.injectedStalls += 1 }
                // Silent until the client closes the connection or the stall's length has passed.
                let end = ContinuousClock.now + stallLength
                while channel.isActive, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(50)) }
                throw InjectedConnectionFault()
            }
            if isFaulted {
                state.update { counters in
                    if isDropFault { counters.injectedDrops += 1 } else { counters.injectedTruncations += 1 }
                }
                if isReset, let provider = channel as? any SocketOptionProvider {
                    // Abortive close: SO_LINGER on with a zero timeout makes close() send RST.
                    try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                }
                throw InjectedConnectionFault()
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: responseBody)
    }
}
