package import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The second, append-only home of legal holds: `<archiveRoot>/.userplane-archiver/holds.jsonl`.
///
/// Every hold placed or lifted appends one JSON line (action, recording, workspace, reason, operator, time),
/// fsynced inside the same SQLite transaction that writes the catalog's hold rows (with a shared PostgreSQL
/// database, beside its transaction: see ``SecondHoldRecord``), so a catalog lost or rebuilt from the archives
/// (`rebuild-catalog`) gets its holds back by replaying this file. The file is never rewritten; a torn line (a
/// crash mid-append) is skipped on replay.
///
/// Appends from many processes, or many hosts sharing the root over a network filesystem, are serialised by an
/// exclusive `flock` on the file held for the one `write` and the `fsync` (NFS has no atomic `O_APPEND` across
/// clients; Linux maps `flock` to its byte-range locks there, and taking the lock revalidates the file's size). A
/// line left torn by a crash is closed with a newline by the next append, so it never swallows a complete line.
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

        /// Why this entry, read from storage that may have been tampered with, is not replayed; `nil` when it is.
        ///
        /// An empty recording id (no hold command takes one), a recording or workspace id with a control character
        /// (no archive run stores one, so such a hold protects nothing), or a NUL anywhere (SQLite cuts text there,
        /// PostgreSQL refuses it).
        package var replayProblem: String? {
            if recordingID.isEmpty { return "names an empty recording id, which no hold command stores" }
            let ids = [("recording id", recordingID)] + (workspaceID.map { [("workspace id", $0)] } ?? [])
            for (what, id) in ids {
                if let problem = ArchiverConfiguration.Workspace.controlCharacterProblem(in: id) {
                    return "names a \(what) that \(problem), which no archive run stores"
                }
            }
            if `operator`.utf8.contains(0) || reason?.utf8.contains(0) == true {
                return "holds a NUL character, which no hold command stores"
            }
            return nil
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

    /// The log of an archive root (or of the state directory of an `s3://` archive):
    /// `<archiveRoot>/.userplane-archiver/holds.jsonl`.
    package init(archiveRoot: URL) {
        self.init(databasePath: ArchiveStore.databaseURL(archiveRoot: archiveRoot).path)
    }

    /// `entry` as one line of the log, newline included (also the body of a hold record object on S3).
    ///
    /// - Throws: `EncodingError` (never for an entry built from strings and a finite date).
    package static func line(_ entry: Entry) throws -> [UInt8] {
        var line = [UInt8](try encoder.encode(entry))
        line.append(0x0A)
        return line
    }

    /// The entry one line (or one hold record object) holds, or `nil` when it is not one.
    package static func entry(decoding bytes: some Collection<UInt8>) -> Entry? {
        try? decoder.decode(Entry.self, from: Data(bytes))
    }

    /// Appends `entry` as one line and fsyncs it; the file is created private (0640) without following a link.
    ///
    /// - Throws: ``StoreError`` with code `io` when the line cannot be written durably.
    package func append(_ entry: Entry) throws {
        var line = try Self.line(entry)
        // O_NONBLOCK: a FIFO planted here fails at once (ENXIO) instead of blocking until a reader comes.
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, PrivateFile.fileMode)
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
        // One appender at a time, across processes and hosts (see the type's documentation); closing releases it.
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure("cannot lock") }
        }
        // A line torn by a crash gets its newline first, so that this one stays a line of its own.
        let end = lseek(fd, 0, SEEK_END)
        var last: UInt8 = 0x0A
        if end > 0, pread(fd, &last, 1, end - 1) == 1, last != 0x0A { line.insert(0x0A, at: 0) }
        let written = line.withUnsafeBytes { buffer in
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
            if let entry = Self.entry(decoding: line) {
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
