package import Foundation
import GRDB

extension ArchiveStore {
    /// The relative paths of every archive the catalog of `archiveRoot` records, read without writing anything;
    /// `nil` when `archiveRoot` holds no state file (it is not an archive root).
    ///
    /// For `verify ROOT`, which must not create, migrate or lock the state: the file is opened read-only.
    ///
    /// - Parameter archiveRoot: A directory that may be an archive root.
    /// - Returns: Paths relative to `archiveRoot`, sorted; `nil` without a state file.
    /// - Throws: ``StoreError`` when the state file exists but cannot be read.
    package static func catalogedArchivePaths(archiveRoot: URL) throws -> [String]? {
        let url = databaseURL(archiveRoot: archiveRoot)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue
        else { return nil }
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        configuration.label = "state.sqlite (read-only)"
        do {
            let queue = try DatabaseQueue(path: url.path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                guard try db.tableExists("archives") else { return [] }
                return try String.fetchAll(db, sql: "SELECT relativePath FROM archives ORDER BY relativePath")
            }
        } catch {
            throw StoreDatabase.storeError(from: error, path: url.path)
        }
    }
}
