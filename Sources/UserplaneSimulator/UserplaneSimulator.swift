public import Foundation
import Hummingbird
public import Logging
import NIOCore
public import ServiceLifecycle
import Synchronization

/// A running simulator, handed to the body of ``withUserplaneSimulator(_:_:)``.
public struct RunningSimulator: Sendable {
    let state: SimulatorState
    /// The API base URL, such as `http://127.0.0.1:PORT/api/v1`.
    public let apiBaseURL: String
    /// The admin base URL, such as `http://127.0.0.1:PORT/_sim`.
    public let adminBaseURL: String
    /// The base URL of presigned blob URLs.
    public let blobBaseURL: String
    /// The listening port.
    public let port: Int

    /// The first valid API key.
    public var apiKey: String { apiKeys.first { $0.state == .valid }?.key ?? "" }
    /// Every configured key with its state.
    public var apiKeys: [SimulatedAPIKey] { state.apiKeys }
    /// The workspace with the generated recordings.
    public var workspaceID: String { state.workspaceID }
    /// A workspace the user is a member of that has no recordings.
    public var emptyWorkspaceID: String { state.emptyWorkspaceID }
    /// A workspace that exists but the user is not a member of (`403 NOT_A_MEMBER`).
    public var foreignWorkspaceID: String { state.foreignWorkspaceID }
    /// The raw id of the hostile recording, or `nil` when it is disabled.
    public var hostileRecordingID: String? {
        state.configuration.includesHostileRecording ? state.configuration.hostileRecordingID : nil
    }

    /// Recordings of ``workspaceID`` (including deleted and inserted ones), in generation order.
    public var recordings: [SimulatedRecordingSummary] { state.summaries }

    /// Recordings of the foreign workspace (for `RECORDING_WORKSPACE_MISMATCH` tests).
    public var foreignRecordingIDs: [String] {
        state.storage.withLock { $0.recordings.filter { $0.workspaceID == state.foreignWorkspaceID }.map(\.id) }
    }

    /// A snapshot of the counters.
    public func counters() -> SimulatorCounters { state.storage.withLock { $0.counters } }

    /// A snapshot of the request journal.
    public func journal() -> [SimulatorJournalEntry] { state.storage.withLock { $0.journal } }

    /// Expected size, type, availability and digests of every resource of every non-deleted recording of ``workspaceID``.
    ///
    /// Streams the generator, so a huge video takes time proportional to its size.
    public func expectedResources() -> [ExpectedResource] {
        ExpectedResources.compute(state.storage.withLock { $0.recordings }.filter { $0.workspaceID == workspaceID })
    }

    /// The faults in force.
    public func faults() -> SimulatorFaults { state.faults }

    /// Replaces the faults; "first K" fault counters and the insert-while-listing latch start over.
    public func setFaults(_ faults: SimulatorFaults) { state.setFaults(faults) }

    /// Adds `count` new, final-or-not recordings (as generated) to ``workspaceID``, created at `createdAt`
    /// (one millisecond apart): new arrivals when `createdAt` is now, late arrivals when it is in the past.
    ///
    /// - Parameters:
    ///   - count: How many.
    ///   - createdAt: Their `createdAt`. Default: now.
    /// - Returns: Their ids.
    @discardableResult
    public func insertRecordings(count: Int, createdAt: Date = Date()) -> [String] {
        state.insert(count: count, createdAtMilliseconds: Int64((createdAt.timeIntervalSince1970 * 1000).rounded()))
    }

    /// Zeroes the counters and clears the journal.
    public func resetCounters() {
        state.storage.withLock { storage in
            storage.counters = SimulatorCounters()
            storage.journal = []
            storage.allCalls = SlidingWindow()
        }
    }
}

/// Runs a simulator on `configuration.host:configuration.port` for the duration of `body`.
///
/// - Parameters:
///   - configuration: What to serve.
///   - body: Receives the running simulator once it listens.
/// - Returns: What `body` returns. The server shuts down gracefully on every path.
/// - Throws: What `body` throws, or a server start-up error.
public func withUserplaneSimulator<T: Sendable>(
    _ configuration: SimulatorConfiguration = SimulatorConfiguration(),
    _ body: @Sendable (RunningSimulator) async throws -> T
) async throws -> T {
    let simulator = UserplaneSimulatorServer(configuration: configuration)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    var logger = Logger(label: "userplane-sim")
    logger.logLevel = .warning
    let app = simulator.application(logger: logger) { port in
        continuation.yield(port)
        continuation.finish()
    }
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            await group.triggerGracefulShutdown()
            throw CancellationError()
        }
        do {
            let value = try await body(simulator.running(port: port))
            await group.triggerGracefulShutdown()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
}

/// The simulator as a Hummingbird application, for executables that run their own `ServiceGroup`.
public struct UserplaneSimulatorServer: Sendable {
    let state: SimulatorState
    let responder: SimulatorResponder

    /// Generates the world described by `configuration`.
    public init(configuration: SimulatorConfiguration) {
        state = SimulatorState(configuration: configuration)
        responder = SimulatorResponder(state: state)
    }

    /// The application; `onListening` receives the bound port.
    ///
    /// - Parameters:
    ///   - logger: The server logger.
    ///   - onListening: Called once the server listens, with the port.
    /// - Returns: A service to run in a `ServiceGroup`.
    public func application(
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> some Service {
        let responder = self.responder
        return Application(
            responder: responder,
            configuration: .init(address: .hostname(state.configuration.host, port: state.configuration.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                responder.state.boundPort.withLock { $0 = port }
                await onListening(port)
            },
            logger: logger
        )
    }

    /// The handle for a server listening on `port`.
    ///
    /// - Parameter port: The bound port.
    /// - Returns: URLs, keys and accessors.
    public func running(port: Int) -> RunningSimulator {
        let host = state.configuration.host
        return RunningSimulator(
            state: state,
            apiBaseURL: "http://\(host):\(port)\(UserplaneSimulatorPaths.apiBasePath)",
            adminBaseURL: "http://\(host):\(port)\(UserplaneSimulatorPaths.adminBasePath)",
            blobBaseURL: responder.blobBaseURL,
            port: port
        )
    }
}
