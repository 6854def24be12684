package import Foundation

/// The durable progress of one resource (video, thumbnail, logs, ...) of a job.
///
/// Once a resource is recorded here with its staged file and digests, a re-run after a crash packs
/// the staged file instead of downloading it again.
package struct JobResource: Sendable, Hashable {
    /// The resource kind (stored as its ``ResourceKind/archiveBaseName``).
    package var kind: ResourceKind
    /// The manifest's availability: archived (downloaded and staged), not captured, unavailable or gone.
    package var availability: StagedResource.Availability
    /// The file name inside the job's staging directory, when downloaded.
    package var stagedFileName: String?
    /// The staged file's size.
    package var sizeBytes: Int?
    /// Lowercase hex SHA-256 of the staged file.
    package var sha256: String?
    /// Lowercase hex SHA-512 of the staged file.
    package var sha512: String?
    /// Provenance for the manifest (source without query, ETag, request ids, ...), when downloaded.
    package var provenance: ArchiveProvenance?
    /// The resource's media type, from the API or the blob host.
    package var mediaType: String?
    /// The API's message when the resource is not archived.
    package var apiMessage: String?
    /// When the record was written.
    package var updatedAt: Date

    /// Creates a resource record.
    package init(
        kind: ResourceKind,
        availability: StagedResource.Availability,
        stagedFileName: String? = nil,
        sizeBytes: Int? = nil,
        sha256: String? = nil,
        sha512: String? = nil,
        provenance: ArchiveProvenance? = nil,
        mediaType: String? = nil,
        apiMessage: String? = nil,
        updatedAt: Date
    ) {
        self.mediaType = mediaType
        self.apiMessage = apiMessage
        self.kind = kind
        self.availability = availability
        self.stagedFileName = stagedFileName
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.sha512 = sha512
        self.provenance = provenance
        self.updatedAt = updatedAt
    }
}
