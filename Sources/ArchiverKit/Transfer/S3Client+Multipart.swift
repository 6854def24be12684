import Foundation

extension S3Client {
    /// Uploads a large file in parts of ``Configuration/partBytes`` (at least 8 MiB), never over an existing key.
    ///
    /// Uploads of the same key left behind by a killed run are aborted first, so a restart begins cleanly and no
    /// orphaned parts keep costing storage. `CreateMultipartUpload` carries the lock headers and
    /// `x-amz-checksum-algorithm: SHA256`; every part carries its signed SHA-256 and `x-amz-checksum-sha256`. Any
    /// failure aborts the upload.
    func multipartPutOnce(
        _ key: String,
        file path: String,
        size: Int64,
        contentType: String,
        lock: S3ObjectLock?
    )
        async throws(S3Error) -> S3StoredObject
    {
        if try await head(key) != nil {
            throw S3Error(
                code: .alreadyExists,
                message: "PUT \(describe(key)): an object already exists under this key; archives are never "
                    + "overwritten",
                httpStatus: 412
            )
        }
        try await abortStaleUploads(of: key)
        var create = Request(method: "POST", key: key, query: [("uploads", "")])
        create.headers =
            [("Content-Type", contentType), ("x-amz-checksum-algorithm", "SHA256")] + Self.lockHeaders(lock)
        let created = try await send(create, what: "POST \(describe(key))?uploads")
        guard let uploadId = S3XML.firstValue(of: "UploadId", in: created.body) else {
            throw S3Error(
                code: .invalidRequest,
                message: "POST \(describe(key))?uploads: the store's answer names no UploadId; is this an S3 endpoint?"
            )
        }
        do throws(S3Error) {
            let partBytes = max(configuration.partBytes, 8 << 20)
            var parts: [(number: Int, etag: String, checksum: String)] = []
            var offset: Int64 = 0
            var number = 1
            while offset < size {
                let length = min(partBytes, size - offset)
                let sha256 = try Self.sha256(ofFile: path, offset: offset, length: length)
                var part = Request(
                    method: "PUT",
                    key: key,
                    query: [("partNumber", String(number)), ("uploadId", uploadId)],
                    body: .file(path: path, offset: offset, length: length),
                    payloadSHA256: sha256
                )
                part.headers = [
                    ("x-amz-sdk-checksum-algorithm", "SHA256"),
                    ("x-amz-checksum-sha256", Self.base64(hex: sha256)),
                ]
                let response = try await send(part, what: "PUT \(describe(key)) part \(number)")
                guard let etag = response.header("etag") else {
                    throw S3Error(
                        code: .invalidRequest,
                        message: "PUT \(describe(key)) part \(number): the store's answer has no ETag"
                    )
                }
                parts.append((number, etag, Self.base64(hex: sha256)))
                offset += length
                number += 1
            }
            let xml =
                "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + parts.map {
                    "<Part><ETag>\(S3XML.escape($0.etag))</ETag><PartNumber>\($0.number)</PartNumber>"
                        + "<ChecksumSHA256>\($0.checksum)</ChecksumSHA256></Part>"
                }.joined() + "</CompleteMultipartUpload>"
            let body = Array(xml.utf8)
            var complete = Request(
                method: "POST",
                key: key,
                query: [("uploadId", uploadId)],
                body: .bytes(body),
                payloadSHA256: HashState.hex(.sha256, of: body)
            )
            complete.headers = [("Content-Type", "application/xml"), ("If-None-Match", "*")]
            let response = try await send(complete, what: "POST \(describe(key))?uploadId")
            // CompleteMultipartUpload may answer 200 with an <Error> document.
            if S3XML.firstValue(of: "Code", in: response.body) != nil,
                String(decoding: response.body, as: UTF8.self).contains("<Error>")
            {
                throw S3Error.fromResponse(status: 500, body: response.body, what: "POST \(describe(key))?uploadId")
            }
            var stored = Self.stored(key, response)
            if stored.etag == nil {
                stored.etag = S3XML.firstValue(of: "ETag", in: response.body).map {
                    $0.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
            }
            return stored
        } catch {
            try? await abort(key, uploadId: uploadId)
            throw error
        }
    }

    /// Aborts every unfinished multipart upload of exactly `key` (left by a killed run).
    func abortStaleUploads(of key: String) async throws(S3Error) {
        let response = try await send(
            Request(method: "GET", key: nil, query: [("prefix", key), ("uploads", "")]),
            what: "LIST uploads \(describe(key))"
        )
        let text = String(decoding: response.body, as: UTF8.self)
        for block in S3XML.blocks(of: "Upload", in: text) {
            guard S3XML.values(of: "Key", in: block).first == key,
                let uploadId = S3XML.values(of: "UploadId", in: block).first
            else { continue }
            try await abort(key, uploadId: uploadId)
        }
    }

    func abort(_ key: String, uploadId: String) async throws(S3Error) {
        _ = try await send(
            Request(method: "DELETE", key: key, query: [("uploadId", uploadId)], accepting: [404]),
            what: "DELETE \(describe(key))?uploadId"
        )
    }

    /// The SHA-256 of `length` bytes of a file from `offset` (a part's payload hash, read before it is sent).
    static func sha256(ofFile path: String, offset: Int64, length: Int64) throws(S3Error) -> String {
        do throws(PackingError) {
            let source = try S3UploadSource(path: path, offset: offset, length: length)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            let digest = HashState(.sha256)
            while true {
                guard let count = source.read(into: buffer) else {
                    throw source.error ?? DurableFile.ioError("cannot read \(path)")
                }
                if count == 0 { break }
                digest.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
            return digest.finalizeHex()
        } catch {
            throw S3Error(code: .io, message: "cannot read \(path) to upload it: \(error.message)")
        }
    }
}
