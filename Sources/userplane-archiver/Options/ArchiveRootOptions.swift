import ArgumentParser
import Foundation

/// The archive root every stateful command works in.
struct ArchiveRootOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("Archive root directory. (env: USERPLANE_ARCHIVE_DIR)", valueName: "dir")
    )
    var archive: String?

    /// The archive root: flag, then `USERPLANE_ARCHIVE_DIR`.
    func resolvedURL() throws -> URL {
        let fromEnvironment = ProcessInfo.processInfo.environment["USERPLANE_ARCHIVE_DIR"].flatMap {
            $0.isEmpty ? nil : $0
        }
        guard let path = archive ?? fromEnvironment else {
            throw ValidationError("Missing the archive root: pass --archive DIR or set USERPLANE_ARCHIVE_DIR.")
        }
        return URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
    }
}
