import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A real HTTP/1.1 blob server on 127.0.0.1 (plain POSIX sockets) that honours `Range` and `If-Range` and can
/// misbehave on demand: cut the body with a clean close or a TCP reset, stall, ignore ranges, answer a status.
///
/// Hummingbird cannot send a TCP reset or stop mid-body on purpose, hence this small server. One request per
/// connection (`Connection: close`), one thread per connection. Every request is recorded in ``requests``.
public final class RangeBlobServer: Sendable {
    /// A request as received.
    public struct Request: Sendable {
        /// The request method.
        public var method: String
        /// The request target (path and query).
        public var target: String
        /// Header fields, names lowercased.
        public var headers: [String: String]
        /// The 0-based position of this request among all requests the server received.
        public var index: Int

        /// The value of a header, matched case-insensitively.
        public func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// How to answer one request.
    public enum Behaviour: Sendable {
        /// Serve the blob, honouring `Range` and `If-Range`.
        case serve
        /// Always answer 200 with the whole blob.
        case ignoreRange
        /// Honour `Range` but not `If-Range` (206 with the current ETag whatever the validator).
        case ignoreIfRange
        /// Announce the full length, send `bytes` body bytes, then close cleanly (FIN) or with a reset (RST).
        case dropAfter(bytes: Int, reset: Bool)
        /// Announce the full length, send `bytes` body bytes, then send nothing until the client goes away.
        case stallAfter(bytes: Int)
        /// Answer this status with a short body.
        case status(Int)
        /// Answer 302 with this `Location`.
        case redirect(location: String)
        /// Honour `Range`, but send at most `bytes` body bytes per 206, with a `Content-Range` and
        /// `Content-Length` that match what is sent: a well-formed but short answer.
        case capRange(bytes: Int)
        /// Answer 200 with chunked transfer coding and no `Content-Length`, send the first `bytes` of the blob and
        /// end the body cleanly (the terminating zero-length chunk): a well-formed but short answer.
        case chunkedPrefix(bytes: Int)
        /// Honour `Range`, announce the length, then send the body `bytes` at a time with a pause of `interval`
        /// after each piece: a slow-drip host that never stalls long enough for a stall timeout.
        case drip(bytes: Int, interval: Duration)
    }

    private struct Blob {
        var bytes: [UInt8]
        var etag: String
    }

    /// The base URL, `http://127.0.0.1:<port>`.
    public let baseURL: String
    private let blob: Mutex<Blob>
    private let log = Mutex<[Request]>([])
    private let openSockets = Mutex<Set<Int32>>([])
    private let isStopped = Atomic<Bool>(false)
    private let listener: Int32
    private let behaviour: @Sendable (Request) -> Behaviour
    private let events: AsyncStream<Request>.Continuation
    /// Yields each request as it arrives (a readiness signal for tests).
    public let arrivals: AsyncStream<Request>

    /// Starts serving `bytes` with `etag`; `behaviour` picks the answer to each request.
    public init(
        bytes: [UInt8],
        etag: String = "\"v1\"",
        behaviour: @escaping @Sendable (Request) -> Behaviour = { _ in .serve }
    ) throws {
        self.blob = Mutex(Blob(bytes: bytes, etag: etag))
        self.behaviour = behaviour
        (arrivals, events) = AsyncStream.makeStream(of: Request.self)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            _ = close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        baseURL = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "range-blob-server"
        thread.start()
    }

    /// Every request received so far, in order.
    public var requests: [Request] { log.withLock { $0 } }

    /// The blob currently served.
    public var bytes: [UInt8] { blob.withLock { $0.bytes } }

    /// Stops accepting and cuts every open connection.
    public func stop() {
        guard !isStopped.exchange(true, ordering: .relaxed) else { return }
        _ = shutdown(listener, Int32(SHUT_RDWR))
        openSockets.withLock { sockets in
            for socket in sockets { _ = shutdown(socket, Int32(SHUT_RDWR)) }
        }
        events.finish()
    }

    deinit {
        stop()
        _ = close(listener)
    }

    // MARK: - Serving

    private func acceptLoop() {
        while !isStopped.load(ordering: .relaxed) {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            openSockets.withLock { _ = $0.insert(connection) }
            let thread = Thread { [self] in
                handle(connection)
                openSockets.withLock { _ = $0.remove(connection) }
                _ = close(connection)
            }
            thread.start()
        }
    }

    private func handle(_ connection: Int32) {
        guard let head = readHead(connection) else { return }
        let lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.first?.split(separator: " ") ?? []
        guard requestLine.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        let request = log.withLock { log in
            let request = Request(
                method: String(requestLine[0]),
                target: String(requestLine[1]),
                headers: headers,
                index: log.count
            )
            log.append(request)
            return request
        }
        events.yield(request)
        respond(to: request, with: behaviour(request), on: connection)
    }

    private func respond(to request: Request, with behaviour: Behaviour, on connection: Int32) {
        let (bytes, etag) = blob.withLock { ($0.bytes, $0.etag) }
        if case .status(let status) = behaviour {
            let body = Array("status \(status)\n".utf8)
            send(head(status, ["Content-Length": "\(body.count)", "Content-Type": "text/plain"]), body, on: connection)
            return
        }
        if case .redirect(let location) = behaviour {
            send(head(302, ["Location": location, "Content-Length": "0"]), [], on: connection)
            return
        }
        var first = 0
        var last = bytes.count - 1
        var isPartial = false
        if case .ignoreRange = behaviour {
        } else if let range = request.header("range"), let parsed = Self.parseRange(range) {
            let ifRange = request.header("if-range")
            var honours = ifRange == nil || ifRange == etag
            if case .ignoreIfRange = behaviour { honours = true }
            if honours {
                guard parsed.first < bytes.count else {
                    send(
                        head(416, ["Content-Range": "bytes */\(bytes.count)", "Content-Length": "0"]),
                        [],
                        on: connection
                    )
                    return
                }
                first = parsed.first
                last = min(parsed.last ?? last, last)
                isPartial = true
            }
        }
        if case .capRange(let cap) = behaviour, isPartial { last = min(last, first + cap - 1) }
        var fields = [
            "Content-Length": "\(last - first + 1)",
            "ETag": etag,
            "Content-Type": "video/webm",
            "Last-Modified": "Mon, 03 Nov 2025 10:00:00 GMT",
            "Accept-Ranges": "bytes",
            "x-amz-request-id": "req-\(request.index)",
        ]
        if isPartial { fields["Content-Range"] = "bytes \(first)-\(last)/\(bytes.count)" }
        let body = bytes.isEmpty ? [] : Array(bytes[first...last])
        switch behaviour {
        case .dropAfter(let count, let reset):
            send(head(isPartial ? 206 : 200, fields), Array(body.prefix(count)), on: connection)
            if reset { resetAfterDelivery(connection) }
        case .chunkedPrefix(let count):
            fields["Content-Length"] = nil
            fields["Content-Range"] = nil
            fields["Transfer-Encoding"] = "chunked"
            let prefix = Array(bytes.prefix(count))
            var chunked = prefix.isEmpty ? [] : Array((String(prefix.count, radix: 16) + "\r\n").utf8) + prefix
            if !prefix.isEmpty { chunked += Array("\r\n".utf8) }
            chunked += Array("0\r\n\r\n".utf8)
            send(head(200, fields), chunked, on: connection)
            _ = shutdown(connection, Int32(SHUT_WR))
        case .drip(let count, let interval):
            send(head(isPartial ? 206 : 200, fields), [], on: connection)
            let pause = useconds_t(
                clamping: max(
                    interval.components.seconds * 1_000_000
                        + interval.components.attoseconds / 1_000_000_000_000,
                    0
                )
            )
            var offset = 0
            while offset < body.count, !isStopped.load(ordering: .relaxed) {
                let piece = Array(body[offset..<min(offset + max(count, 1), body.count)])
                // A client that went away fails the send: stop dripping.
                let sent = piece.withUnsafeBytes { buffer in
                    Glibc.send(connection, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
                }
                guard sent > 0 else { break }
                offset += sent
                usleep(pause)
            }
        case .stallAfter(let count):
            send(head(isPartial ? 206 : 200, fields), Array(body.prefix(count)), on: connection)
            var scratch = [UInt8](repeating: 0, count: 4096)
            while recv(connection, &scratch, scratch.count, 0) > 0 {}
        default:
            send(head(isPartial ? 206 : 200, fields), body, on: connection)
            _ = shutdown(connection, Int32(SHUT_WR))
        }
    }

    /// Waits until the client's kernel acknowledged everything sent, then closes with SO_LINGER 0 (a TCP RST).
    private func resetAfterDelivery(_ connection: Int32) {
        var unsent: Int32 = 1
        var rounds = 0
        while unsent > 0, rounds < 2000, ioctl(connection, UInt(TIOCOUTQ), &unsent) == 0 {
            rounds += 1
            usleep(1000)
        }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    private func head(_ status: Int, _ fields: [String: String]) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(status == 206 ? "Partial Content" : "Status")\r\nConnection: close\r\n"
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        return Array((text + "\r\n").utf8)
    }

    private func send(_ head: [UInt8], _ body: [UInt8], on connection: Int32) {
        for chunk in [head, body] {
            var sent = 0
            while sent < chunk.count {
                let count = chunk.withUnsafeBytes { buffer in
                    guard let base = buffer.baseAddress else { return -1 }
                    return Glibc.send(connection, base + sent, chunk.count - sent, Int32(MSG_NOSIGNAL))
                }
                if count <= 0 { return }
                sent += count
            }
        }
    }

    private func readHead(_ connection: Int32) -> String? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < 65_536 {
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { return nil }
            data.append(contentsOf: buffer[..<count])
            if let text = String(bytes: data, encoding: .utf8), let end = text.range(of: "\r\n\r\n") {
                return String(text[..<end.lowerBound])
            }
        }
        return nil
    }

    static func parseRange(_ text: String) -> (first: Int, last: Int?)? {
        guard text.hasPrefix("bytes=") else { return nil }
        let spec = text.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
        guard spec.count == 2, let first = Int(spec[0]) else { return nil }
        return (first, Int(spec[1]))
    }
}

/// Runs a ``RangeBlobServer`` serving `bytes` for the duration of `body`.
///
/// - Parameters:
///   - bytes: The blob.
///   - etag: Its ETag.
///   - behaviour: Picks the answer to each request.
///   - body: Receives the running server.
/// - Returns: What `body` returns.
/// - Throws: What `body` throws, or a socket error.
public func withRangeBlobServer<Value>(
    bytes: [UInt8],
    etag: String = "\"v1\"",
    behaviour: @escaping @Sendable (RangeBlobServer.Request) -> RangeBlobServer.Behaviour = { _ in .serve },
    _ body: (RangeBlobServer) async throws -> Value
) async throws -> Value {
    let server = try RangeBlobServer(bytes: bytes, etag: etag, behaviour: behaviour)
    defer { server.stop() }
    return try await body(server)
}
