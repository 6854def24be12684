import Foundation

extension JobStore {
    /// The `provenance` column: the JSON the manifest writer uses (sorted keys, ISO-8601 milliseconds).
    static func encode(_ provenance: ArchiveProvenance) throws -> String {
        String(decoding: try JSONEncoder.archiver.encode(provenance), as: UTF8.self)
    }

    /// Decodes the `provenance` column; an unreadable document reads as no provenance, as before.
    static func decode(_ json: String) -> ArchiveProvenance? {
        try? JSONDecoder.archiver.decode(ArchiveProvenance.self, from: Data(json.utf8))
    }
}
