public import Hummingbird
import Logging
import ServiceLifecycle

/// Runs a real Hummingbird server on 127.0.0.1 with an ephemeral port for the duration of `body`.
///
/// - Parameters:
///   - router: The routes the server answers.
///   - body: Receives the base URL (`http://127.0.0.1:PORT`) while the server is listening.
/// - Returns: What `body` returns. The server is shut down gracefully on every path.
/// - Throws: What `body` throws.
public func withTestHTTPServer<Value: Sendable>(
    _ router: Router<BasicRequestContext>,
    _ body: @Sendable (_ baseURL: String) async throws -> Value
) async throws -> Value {
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "test-server")
    logger.logLevel = .warning
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        },
        logger: logger
    )
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            let value = try await body("http://127.0.0.1:\(port)")
            await group.triggerGracefulShutdown()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
}
