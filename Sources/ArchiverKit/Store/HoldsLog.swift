package import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The second, append-only home of legal holds: `<archiveRoot>/.userplane-archiver/holds.jsonl`.
///
/// Every hold placed or lifted appends one JSON line (action, recording, workspace, reason, operator, time),
/// fsynced inside the same SQLite transaction that writes the catalog's hold rows, so a catalog lost or
/// rebuilt from the archives (`rebuild-catalog`) gets its holds back by replaying this file. The file is
/// never rewritten; a torn last line (a crash mid-append) is skipped on replay.
package struct HoldsLog: Sendable {
    /// The log file's name in the state directory.
    package static let fileName = "holds.jsonl"

    /// One line of the log.
    package struct Entry: Codable, Sendable, Hashable {
        /// `add` or `remove`.
        package var action: HoldEvent.Action
        /// The recording.
        package var recordingID: String
        /// The workspace, or `nil` for every workspace.
        package var workspaceID: String?
        /// Why.
        package var reason: String?
        /// Who.
        package var `operator`: String
        /// When, ISO 8601 with milliseconds.
        package var at: Date

        private enum CodingKeys: String, CodingKey {
            case action, reason, `operator`, at
            case recordingID = "recordingId"
            case workspaceID = "workspaceId"
        }

        /// Creates an entry.
        package init(
            action: HoldEvent.Action,
            recordingID: String,
            workspaceID: String?,
            reason: String?,
            operator: String,
            at: Date
        ) {
            self.action = action
            self.recordingID = recordingID
            self.workspaceID = workspaceID
            self.reason = reason
            self.operator = `operator`
            self.at = at
        }
    }

    /// The log file's path.
    package let path: String
    /// The largest log read: about 800,000 hold changes.
    package static let maximumBytes = 256 << 20

    /// The log of the state directory holding `databasePath`.
    package init(databasePath: String) {
        path = (databasePath as NSString).deletingLastPathComponent + "/" + Self.fileName
    }

    /// Appends `entry` as one line and fsyncs it; the file is created private (0640) without following a link.
    ///
    /// - Throws: ``StoreError`` with code `io` when the line cannot be written durably.
    package func append(_ entry: Entry) throws {
        var line = try Self.encoder.encode(entry)
        line.append(0x0A)
        // O_NONBLOCK: a FIFO planted here fails at once (ENXIO) instead of blocking until a reader comes.
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, PrivateFile.fileMode)
        guard fd >= 0 else { throw failure("cannot open") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw StoreError(
                code: .io,
                message: "\(path) is not a regular file (a FIFO, device or socket); move it away (holds are also "
                    + "in the catalog: hold list shows them) and retry"
            )
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        _ = fchmod(fd, PrivateFile.fileMode)
        _ = try? PrivateFile.applyGroup(fd)
        let written = [UInt8](line).withUnsafeBytes { buffer in
            Result { () throws(PackingError) in try DurableFile.writeAll(fd, buffer, path: path) }
        }
        if case .failure(let error) = written {
            throw StoreError(code: .io, message: "cannot append to \(path); free space and retry", cause: error)
        }
        guard fsync(fd) == 0 else { throw failure("cannot fsync") }
    }

    /// Every complete entry, in order, and how many lines could not be read.
    ///
    /// Only a regular file is read (a FIFO, device or link is refused at once, never waited on), and at most
    /// ``maximumBytes``.
    ///
    /// - Returns: Empty when the file does not exist.
    /// - Throws: ``StoreError`` when the file exists but cannot be read, is not a regular file, or is too large.
    package func entries() throws -> (entries: [Entry], unreadableLines: Int) {
        let bytes: [UInt8]?
        do throws(PackingError) {
            bytes = try DurableFile.readSmallRegularFile(path, maximumBytes: Self.maximumBytes, followsSymlinks: false)
        } catch  where error.code == .notFound {
            return ([], 0)
        } catch {
            throw StoreError(
                code: .io,
                message: "\(error.message); holds.jsonl must be a regular file the archiver can read",
                cause: error
            )
        }
        guard let bytes else {
            throw StoreError(
                code: .io,
                message: "\(path) is larger than \(Self.maximumBytes >> 20) MiB, far more than any record of holds; "
                    + "inspect it, keep a copy elsewhere and move it away, then place the holds again"
            )
        }
        let data = Data(bytes)
        var entries: [Entry] = []
        var unreadable = 0
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            if let entry = try? Self.decoder.decode(Entry.self, from: Data(line)) {
                entries.append(entry)
            } else {
                unreadable += 1
            }
        }
        return (entries, unreadable)
    }

    private func failure(_ what: String) -> StoreError {
        let code = errno
        return StoreError(
            code: .io,
            message: "\(what) \(path): \(String(cString: strerror(code))); it must be a regular file the archiver "
                + "can write (legal holds are recorded there too)"
        )
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(UTCTime.iso8601TruncatedMilliseconds(date))
        }
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = UTCTime.parseISO8601(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        return decoder
    }
}
