import ArchiverKit
import ArgumentParser
import Foundation

/// Turns `--archive s3://BUCKET[/PREFIX]` and the AWS environment into a local state root and an ``S3Destination``.
enum S3Wiring {
    /// The local directory holding the state of an S3 archive: `--state-dir`, else
    /// `$XDG_STATE_HOME/userplane-archiver/s3-<bucket>[-<prefix>]` (`~/.local/state` when unset); created if missing.
    static func stateRoot(location: S3Location, stateDir: String?) throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        let url: URL
        if let stateDir, !stateDir.isEmpty {
            url = URL(fileURLWithPath: stateDir, isDirectory: true).standardizedFileURL
        } else {
            let base =
                environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
                ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/state")
            var name = "s3-" + RecordingPathComponent.encode(location.bucket)
            if !location.prefix.isEmpty { name += "-" + RecordingPathComponent.encode(location.prefix) }
            url = URL(fileURLWithPath: base, isDirectory: true).appendingPathComponent("userplane-archiver")
                .appendingPathComponent(name, isDirectory: true)
        }
        do {
            try FileManager.default.createDirectory(
                at: url,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o750]
            )
        } catch {
            throw CLIError(
                "cannot create the state directory \(url.path) for \(location): \(error.localizedDescription); "
                    + "pass --state-dir DIR with a writable directory"
            )
        }
        return url
    }

    /// The destination for `archive` (and the other commands that touch objects).
    ///
    /// - Parameters:
    ///   - location: Bucket and prefix.
    ///   - stateRoot: The local state directory; tars are packed under its `.userplane-archiver/outgoing/`.
    ///   - objectLock: `--object-lock` (`compliance` / `governance`), or `nil`.
    ///   - retainFor: `--retain-for`, required with `objectLock`.
    ///   - staging: `--staging`: where downloads are staged and tars packed before upload (default: under the state
    ///     directory).
    /// - Returns: The destination (not yet preflighted).
    /// - Throws: ``S3Error`` for missing credentials or a bad endpoint, `ValidationError` for bad flags.
    static func destination(
        location: S3Location,
        stateRoot: URL,
        objectLock: String? = nil,
        retainFor: String? = nil,
        staging: String? = nil
    ) throws -> S3Destination {
        let configuration = try S3Client.Configuration(environment: ProcessInfo.processInfo.environment)
        var lock: S3Destination.Lock?
        if let objectLock {
            guard let mode = S3ObjectLockMode(parsing: objectLock) else {
                throw ValidationError("--object-lock must be 'compliance' or 'governance', not '\(objectLock)'.")
            }
            guard let retainFor else {
                throw ValidationError(
                    "--object-lock needs --retain-for DUR (e.g. 7y): how long each archive is locked."
                )
            }
            let duration: RetentionDuration
            do {
                duration = try RetentionDuration(parsing: retainFor)
            } catch {
                throw ValidationError("--retain-for: \(error)")
            }
            lock = S3Destination.Lock(mode: mode, retainFor: duration.duration(endingAt: Date()))
        } else if retainFor != nil {
            throw ValidationError("--retain-for needs --object-lock compliance|governance.")
        }
        let stagingDirectory =
            staging.map { URL(fileURLWithPath: $0, isDirectory: true).standardizedFileURL }
            ?? stateRoot.appendingPathComponent(".userplane-archiver", isDirectory: true)
            .appendingPathComponent("outgoing", isDirectory: true)
        do {
            try FileManager.default.createDirectory(
                at: stagingDirectory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o750]
            )
        } catch {
            throw CLIError(
                "cannot create the staging directory \(stagingDirectory.path): \(error.localizedDescription); "
                    + "pass --staging DIR with a writable directory"
            )
        }
        return S3Destination(
            client: S3Client(bucket: location.bucket, configuration: configuration),
            location: location,
            lock: lock,
            stagingDirectory: stagingDirectory
        )
    }

    /// ` (COMPLIANCE until 2033-05-01T00:00:00Z, legal hold on)`, or nothing for an unlocked or local archive.
    static func lockSummary(_ lock: S3ObjectLock?) -> String {
        guard let lock else { return "" }
        var parts: [String] = []
        if let mode = lock.mode {
            // The mode is the store's header value, printed as sent: capped and escaped.
            let shown = SafeText.printable(mode.rawValue, maximumBytes: 64)
            parts.append("\(shown) until \(lock.retainUntil.map { $0.formatted(.iso8601) } ?? "?")")
        } else {
            parts.append("no retention")
        }
        if let hold = lock.legalHold { parts.append("legal hold \(hold ? "on" : "off")") }
        return " (" + parts.joined(separator: ", ") + ")"
    }

    /// The preflighted S3 destination when `--archive` (or its environment / config layer) names an `s3://`
    /// location; `nil` for a local root.
    ///
    /// - Throws: ``S3Error``, `ValidationError`, ``CLIError``.
    static func destination(root: ArchiveRootOptions, global: GlobalOptions) async throws -> S3Destination? {
        let (settings, rootURL) = try root.resolved(global: global)
        return try await DestinationWiring.destination(settings: settings, rootURL: rootURL) as? S3Destination
    }

    /// Makes the S3 legal holds match the catalog after `hold add/remove` on an `s3://` archive.
    ///
    /// Sets or clears the S3 legal hold of the recordings' object versions and says so on stderr. Does nothing for
    /// a local root.
    static func syncLegalHolds(
        root: ArchiveRootOptions,
        global: GlobalOptions,
        ids: [String],
        workspace: String?,
        store: any StateStore
    ) async throws {
        guard let destination = try await destination(root: root, global: global) else { return }
        let location = destination.location
        let counts = try await destination.syncLegalHolds(recordingIDs: ids, workspaceID: workspace, store: store)
        if !global.quiet {
            FileHandle.standardError.write(
                Data(
                    "S3 legal hold: set on \(counts.on), cleared on \(counts.off) archive(s) in \(location)\n".utf8
                )
            )
        }
    }
}
