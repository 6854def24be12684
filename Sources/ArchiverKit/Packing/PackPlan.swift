import Foundation

/// Everything about one archive that can be decided before writing a byte: names, order, tag files.
struct PackPlan {
    struct PayloadFile {
        var kind: String
        var fileName: String
        var stagedPath: String
        var size: Int64
        var sha256: String
        var sha512: String
        /// The download's seal of the staged bytes, if this process downloaded them.
        var contentSeal: ContentSeal?
        /// The tar's SHA-256 over the front and this body, computed while downloading (see
        /// ``StagedResource/tarMidstate``).
        var tarMidstate: SHA256Midstate?
        /// Where the body starts in the staged file (see ``StagedResource/dataOffset``).
        var dataOffset: Int64
    }

    var bagName: String
    var mtime: Int
    var recordingJSON: [UInt8]
    var manifest: ArchiveManifest
    /// `bagit.txt`, `bag-info.txt`, `archive-manifest.json`, in tar order (after the payload).
    var tagFiles: [(name: String, bytes: [UInt8])]
    /// The staged resources to stream, in tar order.
    var payloadFiles: [PayloadFile]
    /// Every payload file (recording.json first) with its digests, in the payload manifests' order.
    var payloadDigests: [(fileName: String, sha256: String, sha512: String)]

    init(staged: StagedRecording, bagName: String, sourceOrganization: String?) throws(PackingError) {
        self.bagName = bagName
        mtime = Int(staged.createdAt.timeIntervalSince1970.rounded(.down))
        recordingJSON = staged.recordingJSON
        let recordingFile = ArchiveManifest.File(
            fileName: ArchiveLayout.recordingFileName,
            mediaType: "application/json",
            size: Int64(recordingJSON.count),
            sha256: HashState.hex(.sha256, of: recordingJSON),
            sha512: HashState.hex(.sha512, of: recordingJSON)
        )
        payloadDigests = [(recordingFile.fileName, recordingFile.sha256, recordingFile.sha512)]
        payloadFiles = []
        var resources: [String: ArchiveManifest.Resource] = [:]
        var usedNames: Set<String> = [ArchiveLayout.recordingFileName]
        for resource in Self.ordered(staged.resources) {
            guard resources[resource.kind] == nil else {
                throw PackingError(code: .invalidInput, message: "resource kind \(resource.kind) is staged twice")
            }
            var provenance = resource.provenance
            provenance.resolvedAt = provenance.resolvedAt.map(ArchiveManifest.millisecondPrecision)
            provenance.downloadedAt = provenance.downloadedAt.map(ArchiveManifest.millisecondPrecision)
            var entry = ArchiveManifest.Resource(
                availability: resource.availability,
                message: resource.apiMessage,
                fileName: nil,
                mediaType: resource.mediaType,
                size: nil,
                sha256: nil,
                sha512: nil,
                provenance: provenance
            )
            if resource.availability == .archived {
                let file = try Self.payloadFile(resource)
                guard usedNames.insert(file.fileName).inserted else {
                    throw PackingError(
                        code: .invalidInput,
                        message: "two resources would both be data/\(file.fileName)"
                    )
                }
                entry.message = nil
                entry.fileName = file.fileName
                entry.size = file.size
                entry.sha256 = file.sha256
                entry.sha512 = file.sha512
                payloadFiles.append(file)
                payloadDigests.append((file.fileName, file.sha256, file.sha512))
            }
            resources[resource.kind] = entry
        }
        manifest = ArchiveManifest(
            schema: ArchiveManifest.currentSchema,
            tool: .init(name: ArchiverKitVersion.toolName, version: ArchiverKitVersion.version),
            runID: staged.runID,
            archivedAt: ArchiveManifest.millisecondPrecision(staged.archivedAt),
            workspaceID: staged.workspaceID,
            recordingID: staged.recordingID,
            createdAt: ArchiveManifest.millisecondPrecision(staged.createdAt),
            durationMs: staged.durationMs,
            recording: recordingFile,
            resources: resources
        )
        let manifestBytes: [UInt8]
        do {
            manifestBytes = try manifest.encoded()
        } catch {
            throw PackingError(code: .manifest, message: "cannot encode archive-manifest.json: \(error)")
        }
        let sizes = [recordingFile.size] + payloadFiles.map(\.size)
        let baggingDate = UTCTime.day(staged.archivedAt)
        let bagInfo = BagIt.bagInfo([
            ("Source-Organization", sourceOrganization ?? "Userplane workspace \(staged.workspaceID)"),
            ("External-Identifier", staged.recordingID),
            ("Bagging-Date", baggingDate),
            ("Payload-Oxum", BagIt.payloadOxum(sizes: sizes)),
            ("Bag-Software-Agent", "\(ArchiverKitVersion.toolName)/\(ArchiverKitVersion.version)"),
        ])
        tagFiles = [
            ("bagit.txt", BagIt.declaration),
            ("bag-info.txt", bagInfo),
            (ArchiveLayout.manifestFileName, manifestBytes),
        ]
    }

    private static func ordered(_ resources: [StagedResource]) -> [StagedResource] {
        resources.sorted { lhs, rhs in
            let left = ArchiveLayout.kindOrder.firstIndex(of: lhs.kind) ?? ArchiveLayout.kindOrder.count
            let right = ArchiveLayout.kindOrder.firstIndex(of: rhs.kind) ?? ArchiveLayout.kindOrder.count
            return left != right ? left < right : lhs.kind < rhs.kind
        }
    }

    private static func payloadFile(_ resource: StagedResource) throws(PackingError) -> PayloadFile {
        guard let stagedFile = resource.stagedFile else {
            throw PackingError(code: .invalidInput, message: "archived resource \(resource.kind) has no staged file")
        }
        let fileName = resource.fileName ?? ArchiveLayout.fileName(kind: resource.kind, mediaType: resource.mediaType)
        guard RecordingPathComponent.encode(fileName) == fileName, fileName != ArchiveLayout.recordingFileName else {
            throw PackingError(
                code: .invalidInput,
                message: "file name \(fileName.debugDescription) for \(resource.kind) is not a safe payload name"
            )
        }
        let sha256 = resource.sha256.lowercased()
        let sha512 = resource.sha512.lowercased()
        guard HexDigest.isHex(sha256, length: 64), HexDigest.isHex(sha512, length: 128), resource.size >= 0 else {
            throw PackingError(code: .invalidInput, message: "resource \(resource.kind) lacks valid staged digests")
        }
        return PayloadFile(
            kind: resource.kind,
            fileName: fileName,
            stagedPath: stagedFile.path,
            size: resource.size,
            sha256: sha256,
            sha512: sha512,
            contentSeal: resource.contentSeal,
            tarMidstate: resource.tarMidstate,
            dataOffset: max(resource.dataOffset, 0)
        )
    }
}
