public import Foundation

/// A real S3-compatible server (moto, from PyPI's `moto[server]`) on 127.0.0.1 and a random free port, started
/// for one test and killed afterwards.
///
/// Started as `python3 -m moto.server -H 127.0.0.1 -p PORT` (not through PATH, as the install script checks it).
/// Buckets are created over plain HTTP by a tiny Python helper: moto without authentication accepts unsigned
/// requests, so the tests need no S3 client of their own.
public struct MotoServer: Sendable {
    /// `http://127.0.0.1:PORT`.
    public var endpoint: String
    /// With authentication on: an access key moto knows (created through its IAM API).
    public var accessKeyID: String
    /// With authentication on: that key's secret.
    public var secretAccessKey: String

    /// The environment a client needs to reach this server with its credentials.
    public var environment: [String: String] {
        [
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": accessKeyID,
            "AWS_SECRET_ACCESS_KEY": secretAccessKey,
            "AWS_REGION": "us-east-1",
        ]
    }

    /// Creates a bucket, with Object Lock (and so versioning) when `objectLock` is true.
    public func createBucket(_ name: String, objectLock: Bool) async throws {
        let script = """
            import sys, urllib.request
            request = urllib.request.Request(sys.argv[1] + "/" + sys.argv[2], method="PUT", data=b"")
            request.add_header("Authorization", sys.argv[4])
            if sys.argv[3] == "1":
                request.add_header("x-amz-bucket-object-lock-enabled", "true")
            urllib.request.urlopen(request).read()
            """
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", "-c", script, endpoint, name, objectLock ? "1" : "0", Self.fakeAuthorization("s3")]
        )
        guard result.status == 0 else {
            throw MotoError(message: "cannot create bucket \(name): \(result.stderr.suffix(2000))")
        }
    }

    /// Writes an object with a plain unsigned PUT (to tamper with a bucket behind the archiver's back).
    public func putObject(bucket: String, key: String, contents: URL) async throws {
        let script = """
            import sys, urllib.parse, urllib.request
            data = open(sys.argv[3], "rb").read()
            url = sys.argv[1] + "/" + urllib.parse.quote(sys.argv[2], safe="/")
            request = urllib.request.Request(url, method="PUT", data=data)
            request.add_header("Authorization", sys.argv[4])
            # Without it urllib says form-urlencoded, and the server parses the body away as a form.
            request.add_header("Content-Type", "application/octet-stream")
            urllib.request.urlopen(request).read()
            """
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", "-c", script, endpoint, "\(bucket)/\(key)", contents.path, Self.fakeAuthorization("s3")]
        )
        guard result.status == 0 else {
            throw MotoError(message: "cannot put \(key): \(result.stderr.suffix(2000))")
        }
    }

    /// An Authorization header that routes a request to `service` in moto's server mode (not checked while
    /// authentication is off).
    static func fakeAuthorization(_ service: String) -> String {
        "AWS4-HMAC-SHA256 Credential=AKIATESTTESTTESTTEST/20260101/us-east-1/\(service)/aws4_request, "
            + "SignedHeaders=host, Signature=0"
    }
}

/// Moto could not be started or set up.
public struct MotoError: Error, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// The message.
    public var description: String { message }
}

/// Runs `body` with a moto S3 server listening on a free loopback port; the server is killed on every path.
///
/// - Parameters:
///   - authenticating: Whether moto checks SigV4 signatures (then an IAM user with `s3:*` and its key are created
///     first, and every request must be signed with that key).
///   - body: Receives the running server.
/// - Returns: What `body` returns.
/// - Throws: ``MotoError`` when moto does not start within a minute, or what `body` throws.
public func withMotoServer<Value: Sendable>(
    authenticating: Bool = false,
    _ body: @Sendable (MotoServer) async throws -> Value
) async throws -> Value {
    let port = try freeLoopbackPort()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "\(port)"]
    var environment = ProcessInfo.processInfo.environment
    // With authentication, the first three requests (create user, allow s3:*, create key) go unchecked.
    if authenticating { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3" }
    process.environment = environment
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    // Process.waitUntilExit spins a run loop off the main thread; the termination handler resumes a stream instead.
    let (exits, exited) = AsyncStream.makeStream(of: Void.self)
    process.terminationHandler = { _ in
        exited.yield()
        exited.finish()
    }
    try process.run()
    let pid = process.processIdentifier
    func stop() async {
        // SIGKILL: the werkzeug server may linger on SIGTERM while a request is open.
        kill(pid, SIGKILL)
        for await _ in exits { break }
    }
    do {
        let endpoint = "http://127.0.0.1:\(port)"
        try await waitUntilListening(port: port, process: process)
        var server = MotoServer(endpoint: endpoint, accessKeyID: "AKIATESTTESTTESTTEST", secretAccessKey: "moto-secret")
        if authenticating {
            (server.accessKeyID, server.secretAccessKey) = try await createIAMKey(endpoint: endpoint)
        }
        let value = try await body(server)
        await stop()
        return value
    } catch {
        await stop()
        throw error
    }
}

/// A TCP port that was free a moment ago on 127.0.0.1.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw MotoError(message: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw MotoError(message: "cannot bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Polls until something accepts connections on `port` (moto takes seconds to import on a loaded machine).
private func waitUntilListening(port: Int, process: Process) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(90)
    while clock.now < deadline {
        guard process.isRunning else {
            throw MotoError(message: "moto exited at once: is moto[server] installed (Scripts/install-system-deps.sh)?")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        close(fd)
        if connected { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw MotoError(message: "moto did not listen on port \(port) within 90 s")
}

/// Creates an IAM user allowed `s3:*` and returns its new access key (moto's first three requests are unchecked).
private func createIAMKey(endpoint: String) async throws -> (String, String) {
    let script = """
        import sys, urllib.request, urllib.parse, re
        def call(params):
            data = urllib.parse.urlencode(dict(params, Version="2010-05-08")).encode()
            request = urllib.request.Request(sys.argv[1] + "/", data=data, method="POST")
            request.add_header("Authorization", sys.argv[2])
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            return urllib.request.urlopen(request).read().decode()
        call({"Action": "CreateUser", "UserName": "archiver"})
        policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
        call({"Action": "PutUserPolicy", "UserName": "archiver", "PolicyName": "s3", "PolicyDocument": policy})
        answer = call({"Action": "CreateAccessKey", "UserName": "archiver"})
        print(re.search("<AccessKeyId>(.*?)</AccessKeyId>", answer).group(1))
        print(re.search("<SecretAccessKey>(.*?)</SecretAccessKey>", answer).group(1))
        """
    let result = try await ChildProcess.run(
        URL(fileURLWithPath: "/usr/bin/env"),
        ["python3", "-c", script, endpoint, MotoServer.fakeAuthorization("iam")]
    )
    let lines = result.stdout.split(separator: "\n").map(String.init)
    guard result.status == 0, lines.count == 2 else {
        throw MotoError(message: "cannot create an IAM key in moto: \(result.stderr.suffix(2000))")
    }
    return (lines[0], lines[1])
}
