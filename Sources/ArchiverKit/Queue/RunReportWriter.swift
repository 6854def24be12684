import Foundation

/// Writes run reports to `<root>/.userplane-archiver/runs/<runId>.json`, atomically.
enum RunReportWriter {
    static func directory(archiveRoot: URL) -> URL {
        archiveRoot.appendingPathComponent(ArchiveStore.stateDirectoryName, isDirectory: true)
            .appendingPathComponent("runs", isDirectory: true)
    }

    /// Encodes and writes `report`; returns its URL.
    static func write(_ report: RunReport, archiveRoot: URL) throws -> URL {
        let directory = directory(archiveRoot: archiveRoot)
        try PrivateFile.makeDirectories(directory, under: archiveRoot)
        let url = directory.appendingPathComponent(RecordingPathComponent.encode(report.runID) + ".json")
        try DurableFile.writeAtomically(Array(encode(report)), to: url.path)
        return url
    }

    static func encode(_ report: RunReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = UTCTime.jsonEncoding
        return try encoder.encode(report) + Data("\n".utf8)
    }
}
