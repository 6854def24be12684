import ArchiverKit
import Foundation

/// The one place a command chooses where its archives are.
///
/// An ``S3Destination`` for an `s3://` archive, else a ``LocalDirectoryDestination`` for the archive root; commands
/// then list, read, verify and delete through it alike.
enum DestinationWiring {
    /// The destination resolved settings name, S3 preflighted.
    ///
    /// - Parameters:
    ///   - settings: The layered settings (`archiveRoot`).
    ///   - rootURL: The local root: the archive root, or the state directory of an `s3://` archive.
    /// - Returns: The destination.
    /// - Throws: ``S3Error``, `ValidationError`, ``CLIError``.
    static func destination(settings: ArchiverConfiguration, rootURL: URL) async throws -> any ArchiveDestination {
        guard let location = try settings.archiveRoot.flatMap({ try S3Location(parsing: $0) }) else {
            return LocalDirectoryDestination(root: rootURL)
        }
        let destination = try S3Wiring.destination(location: location, stateRoot: rootURL)
        try await destination.preflight()
        return destination
    }

    /// What `verify PATH` reads: the destination and the path in it.
    ///
    /// A local PATH (a `.tar` or a directory) is its own root, with the path `""`; an `s3://BUCKET[/KEY]` is the
    /// bucket (preflighted) and the key (a `.tar`, a prefix, or `""` for all of it).
    ///
    /// - Returns: The destination and the path to pass to ``ArchiveDestination/verifyAll(at:)``.
    ///
    /// - Throws: ``S3Error`` for missing credentials, a bad endpoint or an unreachable bucket.
    static func verifyTarget(_ path: String) async throws -> (destination: any ArchiveDestination, path: String) {
        guard let location = try S3Location(parsing: path) else {
            return (LocalDirectoryDestination(root: URL(fileURLWithPath: path)), "")
        }
        let bucket = S3Location(bucket: location.bucket)
        let destination = try S3Wiring.destination(location: bucket, stateRoot: FileManager.default.temporaryDirectory)
        try await destination.preflight()
        return (destination, location.prefix)
    }
}
