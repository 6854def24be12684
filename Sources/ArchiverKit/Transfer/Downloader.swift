public import Foundation
public import Logging
import Synchronization

/// Streams blobs from presigned URLs to disk with libcurl: resumable, hashed as bytes arrive, never leaking the URL.
///
/// Each download writes `<destination>.partial` through a file descriptor, updating SHA-256 and SHA-512 with each
/// chunk libcurl hands over (memory does not grow with the file), then `fsync`s, renames it over the destination
/// and `fsync`s the directory. Interrupted transfers resume with `Range` + `If-Range` (the validator is kept in
/// `<destination>.partial.etag`, never the URL), also after a process restart. A server that sends neither a strong
/// ETag nor `Last-Modified` gives no validator: an existing partial is then restarted from zero after a process
/// restart, while retries within one call still resume with `Range` alone.
///
/// ## Concurrency
/// Each transfer runs one libcurl easy handle on its own dedicated thread (``BlockingExecutor``), so N concurrent
/// `download` calls use N threads and never block Swift's cooperative pool; the caller bounds N (its worker count).
/// This was chosen over the multi interface on one thread because it needs no hand-over protocol and the cost
/// per transfer is dominated by hashing and copying, not by threads: `Scripts/bench-transfer.sh` on loopback, 8
/// concurrent transfers, 2 shared cores under load from other builds (release build, 2025-11): 8 x 32 MiB +
/// 256 MiB to tmpfs: 225 MiB/s vs 175 MiB/s for `curl` + `sha256sum` + `sha512sum` + `sync` (ratio 1.29), 3.6 vs
/// 4.8 CPU s/GiB; 8 x 256 MiB + 2 GiB: ratio 0.75 (tmpfs) and 0.71 (disk), 5.2-6.3 vs 4.9-6.8 CPU s/GiB; peak RSS
/// 37 MiB in every run. The multi interface was not measured (time box); at equal CPU per GiB it could only win
/// on thread count, which the worker count already bounds.
/// Cancellation reaches libcurl through the progress callback within about a second.
public struct Downloader: Sendable {
    /// The configuration in use.
    public var configuration: Configuration

    /// Creates a downloader.
    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Downloads a blob to `destination`, resuming any `.partial` left by an earlier attempt or run.
    ///
    /// `resolveURL` is called before the first request, again when the blob host answers 403 (an expired or
    /// denied presigned URL; once per attempt), and when the source's ``ResolvedSource/expiresAt`` is near.
    /// Retryable failures (connection drops, resets, truncation, stalls, 5xx) are retried as
    /// ``Configuration/retry`` says, resuming from what is on disk. On cancellation or a final error the `.partial` stays for a later resume.
    /// A body is accepted only at the size `Content-Length`, `Content-Range` or the API announced; a 200 with none
    /// of them is confirmed first by asking for the bytes after it (a 416 carrying that total).
    ///
    /// - Parameters:
    ///   - destination: The final file path; its directory must exist.
    ///   - expectedSize: The size the API announced, checked against the body; `nil` if unknown.
    ///   - reusesExistingDestination: When `true` and `destination` exists (of `expectedSize`, if given), it is
    ///     only hashed, not fetched.
    ///   - resolveURL: Returns a fresh presigned URL.
    ///   - logger: Receives debug events; never a URL query.
    /// - Returns: The file's size, digests and provenance.
    /// - Throws: ``TransferError`` (``TransferError/Code/aborted`` on cancellation), or what `resolveURL` throws.
    public func download(
        to destination: URL,
        expectedSize: Int?,
        reusesExistingDestination: Bool = false,
        resolveURL: @Sendable () async throws -> ResolvedSource,
        logger: Logger
    ) async throws -> DownloadResult {
        try await download(
            to: destination,
            expectedSize: expectedSize,
            reusesExistingDestination: reusesExistingDestination,
            front: nil,
            resolveURL: resolveURL,
            logger: logger
        )
    }

    /// ``download(to:expectedSize:reusesExistingDestination:resolveURL:logger:)`` writing the body after `front`'s
    /// reserved bytes (see ``PartialFile``): the result's size and digests cover the body only.
    ///
    /// `received`, when given, is increased by the body bytes this call took from the blob host, whether it returns
    /// or throws: unlike the result's size it counts neither bytes an earlier call left in the partial nor fewer
    /// than travelled when an attempt failed or restarted.
    func download(
        to destination: URL,
        expectedSize: Int?,
        reusesExistingDestination: Bool = false,
        front: PackingFront?,
        received: ReceivedBytes? = nil,
        resolveURL: @Sendable () async throws -> ResolvedSource,
        logger: Logger
    ) async throws -> DownloadResult {
        let configuration = self.configuration
        if reusesExistingDestination, front == nil,
            let existing = try await Self.existingFile(destination, expectedSize, configuration)
        {
            let now = Date()
            return DownloadResult(
                destination: destination,
                byteCount: existing.bytes,
                sha256: existing.sha256,
                sha512: existing.sha512,
                provenance: ArchiveProvenance(downloadedAt: now, resumedBytes: Int64(existing.bytes)),
                contentType: nil
            )
        }
        let opened = await BlockingExecutor.run {
            Result { () throws(TransferError) in
                try PartialFileBox(
                    PartialFile(
                        destination: destination,
                        readBufferBytes: configuration.rehashBufferBytes,
                        seals: configuration.sealsContent,
                        front: front,
                        directWriteBufferBytes: configuration.directWriteBufferBytes
                    )
                )
            }
        }
        let partial = try opened.get().file
        defer { partial.close() }
        let cancelled = CancellationFlag()
        if let expectedSize, Int64(expectedSize) > configuration.maximumBlobBytes {
            throw TransferError(
                code: .sizeMismatch,
                message:
                    "\(destination.lastPathComponent): the API announces \(expectedSize) bytes, more than the maximum "
                    + "blob size of \(configuration.maximumBlobBytes) bytes; raise --max-blob-size if this is expected"
            )
        }
        let sink = DownloadSink(
            partial: partial,
            cancelled: cancelled,
            stallTimeout: configuration.stallTimeout,
            minimumBytesPerSecond: configuration.minimumBytesPerSecond,
            minimumSpeedWindow: configuration.minimumSpeedWindow,
            expectedSize: expectedSize,
            maximumBytes: configuration.maximumBlobBytes,
            reservedFreeBytes: configuration.reservedFreeBytes,
            freeSpaceCheckInterval: configuration.freeSpaceCheckIntervalBytes
        )
        // Every attempt has finished when this runs: BlockingExecutor returns only after its thread's work.
        defer { received?.add(sink.bodyBytesReceived) }
        var logger = logger
        logger[metadataKey: "transfer.destination"] = "\(destination.lastPathComponent)"
        if partial.length > 0 {
            logger.debug("resuming partial", metadata: ["transfer.bytes": "\(partial.length)"])
        }

        var source: ResolvedSource?
        var resolvedAt: Date?
        var requests = 0
        var failures = 0
        var reResolvedAfter403 = false
        while true {
            if cancelled.isCancelled || Task.isCancelled { throw Self.cancellation() }
            if source == nil || Self.isExpiring(source, margin: configuration.expiryMargin) {
                source = try await resolveURL()
                resolvedAt = Date()
                sink.expectedSize = expectedSize ?? source?.expectedSize
            }
            guard let current = source else { continue }
            requests += 1
            logger.debug(
                "requesting blob",
                metadata: [
                    "transfer.source": "\(current.redacted)", "transfer.offset": "\(partial.length)",
                    "retry.attempt": "\(requests)",
                ]
            )
            let url = current.url
            let outcome = await BlockingExecutor.run(cancelling: cancelled) {
                Self.performAttempt(url: url, sink: sink, configuration: configuration)
            }
            switch outcome {
            case .complete:
                // What the blob host says goes into archive-manifest.json: capped, so a host sending 100 KB headers
                // or redirecting to a megabyte URL cannot push the manifest past what verify reads.
                let provenance = ArchiveProvenance(
                    source: SafeText.capped((sink.effectiveURL ?? current.redacted).description, maximumBytes: 2048),
                    etag: sink.header("etag").map { SafeText.capped($0, maximumBytes: Self.maximumHeaderBytes) },
                    lastModified: sink.header("last-modified").map {
                        SafeText.capped($0, maximumBytes: Self.maximumHeaderBytes)
                    },
                    requestIds: Self.requestIDs(in: sink.headers).map {
                        SafeText.capped($0, maximumBytes: Self.maximumHeaderBytes)
                    },
                    resolvedAt: resolvedAt,
                    downloadedAt: Date(),
                    attempts: requests,
                    resumedBytes: Int64(sink.requestOffset),
                    httpStatus: sink.status
                )
                return try await Self.commit(
                    partial,
                    destination: destination,
                    provenance: provenance,
                    contentType: sink.header("content-type"),
                    logger: logger
                )
            case .restartFromZero(let reason):
                logger.info("restarting download from zero", metadata: ["transfer.reason": "\(reason)"])
                let box = PartialFileBox(partial)
                let truncated = await BlockingExecutor.run {
                    Result { () throws(TransferError) in try box.file.truncate() }
                }
                try truncated.get()
                if requests >= configuration.maximumAttempts * 3 {
                    throw TransferError(code: .rangeNotSupported, message: "restarted too often: \(reason)")
                }
            case .lengthUnconfirmed:
                if requests >= configuration.maximumAttempts * 3 {
                    throw TransferError(
                        code: .truncated,
                        message:
                            "GET \(current.redacted): the blob host sent \(partial.length) bytes without a length "
                            + "and never confirmed that size (no 416 with a total); the body may be short and "
                            + "was not accepted, retry later"
                    )
                }
                logger.debug(
                    "confirming the length of a body sent without one",
                    metadata: ["transfer.bytes": "\(partial.length)"]
                )
                sink.isConfirmingLength = true
            case .forbidden where !reResolvedAfter403:
                logger.info("blob host answered 403, resolving the URL again")
                reResolvedAfter403 = true
                source = nil
            case .forbidden:
                reResolvedAfter403 = false
                source = nil
                failures += 1
                let error = TransferError(
                    code: .httpStatus,
                    message: "GET \(current.redacted): HTTP 403 after re-resolving the URL",
                    httpStatus: 403
                )
                try await retryOrThrow(error, failures: failures, logger: logger)
            case .failed(let error):
                if error.code == .aborted { throw error }
                failures += 1
                reResolvedAfter403 = false
                try await retryOrThrow(error, failures: failures, logger: logger)
            }
        }
    }

    private func retryOrThrow(_ error: TransferError, failures: Int, logger: Logger) async throws {
        var generator = SystemRandomNumberGenerator()
        let decision = configuration.retry.decision(
            isRetryable: RetryPolicy.isRetryableDownload(error),
            attempt: failures,
            retryAfter: nil,
            using: &generator
        )
        guard case .retry(let delay) = decision else { throw error }
        logger.info(
            "retrying download",
            metadata: ["retry.attempt": "\(failures)", "retry.delay": "\(delay)", "error": "\(error)"]
        )
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw Self.cancellation()
        }
    }

    static func isExpiring(_ source: ResolvedSource?, margin: Duration) -> Bool {
        guard let expiresAt = source?.expiresAt else { return false }
        return expiresAt.timeIntervalSinceNow < Double(margin.milliseconds) / 1000
    }

    static func cancellation() -> TransferError {
        TransferError(code: .aborted, message: "download cancelled; the .partial file is kept for resuming")
    }

    /// The most UTF-8 bytes of one header value kept in provenance (an ETag, a date, a request id).
    static let maximumHeaderBytes = 512

    /// Request-id headers kept in provenance.
    static let requestIDHeaders: Set<String> = [
        "x-amz-request-id", "x-amz-id-2", "x-request-id", "x-ms-request-id", "x-goog-request-id",
        "x-guploader-uploadid", "cf-ray",
    ]

    /// The request-id headers as `name: value`, sorted by name (the last value of a repeated header wins).
    static func requestIDs(in headers: [(name: String, value: String)]) -> [String] {
        var ids: [String: String] = [:]
        for (name, value) in headers where requestIDHeaders.contains(name) { ids[name] = value }
        return ids.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
    }

    private static func existingFile(
        _ destination: URL,
        _ expectedSize: Int?,
        _ configuration: Configuration
    ) async throws -> (bytes: Int, sha256: String, sha512: String)? {
        // Only a regular file of ours counts: a link planted under the name is never read (nor packed).
        guard PrivateFile.isRegularFile(destination.path) else { return nil }
        let result = await BlockingExecutor.run {
            Result { () throws(TransferError) in
                try PartialFile.digests(of: destination, bufferBytes: configuration.rehashBufferBytes)
            }
        }
        let existing = try result.get()
        if let expectedSize, existing.bytes != expectedSize { return nil }
        return existing
    }

    private static func commit(
        _ partial: PartialFile,
        destination: URL,
        provenance: ArchiveProvenance,
        contentType: String?,
        logger: Logger
    ) async throws -> DownloadResult {
        let box = PartialFileBox(partial)
        let committed = await BlockingExecutor.run {
            Result { () throws(TransferError) in
                let digests = box.file.digests
                let tarMidstate = box.file.tarMidstate
                try box.file.commit()
                return (bytes: box.file.length, digests: digests, tarMidstate: tarMidstate)
            }
        }
        let file = try committed.get()
        logger.debug("download complete", metadata: ["transfer.bytes": "\(file.bytes)"])
        var result = DownloadResult(
            destination: destination,
            byteCount: file.bytes,
            sha256: file.digests.sha256,
            sha512: file.digests.sha512,
            provenance: provenance,
            contentType: contentType
        )
        result.contentSeal = file.digests.seal
        result.tarMidstate = file.tarMidstate
        return result
    }
}

/// A running count of blob body bytes received by downloads, shared across tasks.
package final class ReceivedBytes: Sendable {
    private let total = Atomic<Int>(0)

    /// Creates a count of zero.
    package init() {}

    /// The bytes counted so far.
    package var value: Int { total.load(ordering: .relaxed) }

    func add(_ count: Int) {
        total.wrappingAdd(count, ordering: .relaxed)
    }
}

/// Carries a ``PartialFile`` to and from its blocking thread.
///
/// unchecked: the file is used by one thread at a time; each hand-over is a thread start or a continuation
/// resume, which orders the accesses.
struct PartialFileBox: @unchecked Sendable {
    let file: PartialFile
    init(_ file: PartialFile) { self.file = file }
}
