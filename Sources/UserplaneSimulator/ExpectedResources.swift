import NIOCore

/// Computes expected sizes and digests by streaming the same generator that serves the blobs.
enum ExpectedResources {
    static func compute(_ recordings: [SimulatedRecording]) -> [ExpectedResource] {
        var result: [ExpectedResource] = []
        for recording in recordings where !recording.isDeleted {
            for kind in ResourceKind.allCases {
                guard let spec = recording.resources[kind] else { continue }
                var sha256 = SHA256Hasher()
                var sha512 = SHA512Hasher()
                var offset = 0
                let size = spec.body.size
                while offset < size {
                    let length = min(ResourceBody.blockBytes, size - offset)
                    var buffer = ByteBuffer()
                    spec.body.write(offset: offset, length: length, into: &buffer)
                    buffer.withUnsafeReadableBytes { bytes in
                        sha256.update(bytes)
                        sha512.update(bytes)
                    }
                    offset += length
                }
                result.append(
                    ExpectedResource(
                        recordingID: recording.id,
                        resource: kind.rawValue,
                        isAvailable: spec.availability == .available,
                        captureEnabled: spec.availability != .notCaptured,
                        mediaType: spec.mediaType,
                        fileName: spec.fileName,
                        size: size,
                        sha256: sha256.hexDigest,
                        sha512: sha512.hexDigest
                    )
                )
            }
        }
        return result
    }
}
