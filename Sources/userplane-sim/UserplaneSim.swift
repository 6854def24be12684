import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import UserplaneSimulator

@main
struct UserplaneSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "userplane-sim",
        abstract: "A local, faithful simulator of the Userplane public REST API and its presigned blob host.",
        discussion: """
            Prints one JSON line with apiBaseURL, apiKey, workspaceId and adminBaseURL once listening.
            Admin endpoints: GET /_sim/counters, /_sim/journal, /_sim/expected, /_sim/recordings, /_sim/faults;
            PUT or PATCH /_sim/faults (JSON SimulatorFaults); POST /_sim/reset-counters;
            POST /_sim/recordings {"count": N, "ageSeconds": S} adds N recordings created S seconds ago.

            Example: userplane-sim --recordings 50 --seed 7 --info-file /tmp/sim.json
            """
    )

    @Option(help: "Address to listen on.") var host: String?
    @Option(help: "Port to listen on (0 picks a free port).") var port: Int?
    @Option(help: "Number of recordings in the workspace.") var recordings: Int?
    @Option(help: "Seed for all generated content.") var seed: UInt64?
    @Option(help: "JSON configuration file (SimulatorConfiguration keys; flags override it).") var config: String?
    @Option(help: "Write the start-up JSON line to this file (atomically).") var infoFile: String?
    @Option(help: "Write the counters as JSON to this file on exit.") var countersFile: String?
    @Option(help: "Write the request journal as JSON to this file on exit.") var journalFile: String?
    @Option(help: "Requests per sliding minute per user.") var ratePerMinute: Int?
    @Option(help: "Requests per UTC day per user.") var dailyLimit: Int?
    @Option(help: "Exact size of every video in bytes.") var videoBytes: Int?
    @Option(help: "Presigned URL lifetime in seconds.") var urlLifetime: Int?
    @Option(help: "Base URL of presigned blob URLs ({port} is replaced).") var blobBaseUrl: String?
    @Flag(help: "Send Retry-After on 429.") var retryAfter = false
    @Flag(help: "Send X-RateLimit-* headers.") var rateLimitHeaders = false
    @Flag(help: "Refuse HEAD on blob URLs with 403, like S3 presigned GET URLs.") var refuseHead = false
    @Flag(help: "Do not serve the path-traversal recording.") var noHostileRecording = false

    func run() async throws {
        var configuration = SimulatorConfiguration()
        if let config {
            configuration = try SimulatorConfiguration(json: Array(try Data(contentsOf: URL(fileURLWithPath: config))))
        }
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let recordings { configuration.recordingCount = recordings }
        if let seed { configuration.seed = seed }
        if let ratePerMinute { configuration.rateLimit.requestsPerMinute = ratePerMinute }
        if let dailyLimit { configuration.rateLimit.requestsPerDay = dailyLimit }
        if let videoBytes {
            configuration.content.minimumVideoBytes = videoBytes
            configuration.content.maximumVideoBytes = videoBytes
        }
        if let urlLifetime { configuration.blob.urlLifetimeSeconds = urlLifetime }
        if let blobBaseUrl { configuration.blob.baseURL = blobBaseUrl }
        if retryAfter { configuration.rateLimit.sendsRetryAfter = true }
        if rateLimitHeaders { configuration.rateLimit.sendsRateLimitHeaders = true }
        if refuseHead { configuration.blob.refusesHead = true }
        if noHostileRecording { configuration.includesHostileRecording = false }

        var logger = Logger(label: "userplane-sim", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        let server = UserplaneSimulatorServer(configuration: configuration)
        let infoFile = self.infoFile
        let app = server.application(logger: logger) { port in
            let running = server.running(port: port)
            let info: [String: String] = [
                "apiBaseURL": running.apiBaseURL, "apiKey": running.apiKey, "workspaceId": running.workspaceID,
                "adminBaseURL": running.adminBaseURL, "blobBaseURL": running.blobBaseURL,
                "emptyWorkspaceId": running.emptyWorkspaceID, "foreignWorkspaceId": running.foreignWorkspaceID,
            ]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            guard let data = try? encoder.encode(info) else { return }
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            if let infoFile {
                let temporary = infoFile + ".tmp"
                _ = FileManager.default.createFile(atPath: temporary, contents: data + Data("\n".utf8))
                _ = rename(temporary, infoFile)
            }
        }
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
        if let countersFile {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            let data = try encoder.encode(server.running(port: 0).counters())
            try data.write(to: URL(fileURLWithPath: countersFile), options: .atomic)
        }
        if let journalFile {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(server.running(port: 0).journal())
            try data.write(to: URL(fileURLWithPath: journalFile), options: .atomic)
        }
    }
}
