import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(3))) struct DownloaderTests {
    typealias Fixture = DownloaderFixture

    @Test func fullDownloadMatchesSystemDigestsAndCommitsAtomically() async throws {
        let bytes = Fixture.blob(size: 3 << 20)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes) { server in
                let destination = directory.appendingPathComponent("video.webm")
                let (logger, handler) = Fixture.logger()
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: logger
                )
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(result.byteCount == bytes.count)
                #expect(result.sha256 == expected.sha256)
                #expect(result.sha512 == expected.sha512)
                #expect(try Data(contentsOf: destination) == Data(bytes))
                #expect(!Fixture.partialExists(for: destination))
                #expect(!FileManager.default.fileExists(atPath: destination.path + ".partial.etag"))
                let provenance = result.provenance
                #expect(provenance.source == "\(server.baseURL)/blobs/rec-1/video.webm")
                #expect(provenance.httpStatus == 200)
                #expect(provenance.etag == "\"v1\"")
                #expect(result.contentType == "video/webm")
                #expect(provenance.lastModified == "Mon, 03 Nov 2025 10:00:00 GMT")
                #expect(provenance.requestIds.contains("x-amz-request-id: req-0"))
                #expect(provenance.attempts == 1)
                #expect(provenance.resumedBytes == 0)
                let encoded = String(decoding: try JSONEncoder().encode(provenance), as: UTF8.self)
                #expect(!encoded.contains("s3cr3t"))
                Fixture.expectNoCredentials(server)
                Fixture.expectNoSecretLogged(handler)
            }
        }
    }

    @Test(arguments: [false, true])
    func connectionDropMidBodyResumesWithExactDigest(reset: Bool) async throws {
        let bytes = Fixture.blob(size: 4 << 20, seed: 2)
        let cut = 1 << 20
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(
                bytes: bytes,
                behaviour: { $0.index == 0 ? .dropAfter(bytes: cut, reset: reset) : .serve }
            ) { server in
                let destination = directory.appendingPathComponent("video.webm")
                let (logger, handler) = Fixture.logger()
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: logger
                )
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(result.sha256 == expected.sha256)
                #expect(result.sha512 == expected.sha512)
                #expect(result.provenance.resumedBytes > 0)
                #expect(result.provenance.resumedBytes <= Int64(cut))
                #expect(result.provenance.httpStatus == 206)
                #expect(result.provenance.attempts == 2)
                let resumed = try #require(server.requests.last)
                #expect(resumed.header("range") == "bytes=\(result.provenance.resumedBytes)-")
                #expect(resumed.header("if-range") == "\"v1\"")
                // The first request really failed the way the server cut it: EOF (curl 18) or reset (curl 56).
                let firstError = Fixture.logged("error", of: "retrying download", in: handler)
                #expect(firstError?.contains(reset ? "curl error 56" : "curl error 18") == true)
                Fixture.expectNoCredentials(server)
                Fixture.expectNoSecretLogged(handler)
            }
        }
    }

    @Test func redirectIsFollowedWithoutCredentialsAndRecordedRedacted() async throws {
        let bytes = Fixture.blob(size: 128 << 10, seed: 9)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(
                bytes: bytes,
                behaviour: { request in
                    request.target.hasPrefix("/blobs/")
                        ? .redirect(location: "/storage/video.webm?X-Amz-Signature=s3cr3t-second") : .serve
                }
            ) { server in
                let destination = directory.appendingPathComponent("video.webm")
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(try Data(contentsOf: destination) == Data(bytes))
                #expect(result.provenance.source == "\(server.baseURL)/storage/video.webm")
                #expect(server.requests.count == 2)
                #expect(server.requests.last?.target.hasPrefix("/storage/video.webm?") == true)
                Fixture.expectNoCredentials(server)
            }
        }
    }

    @Test func serverErrorIsRetried() async throws {
        let bytes = Fixture.blob(size: 256 << 10, seed: 3)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes, behaviour: { $0.index == 0 ? .status(503) : .serve }) {
                server in
                let destination = directory.appendingPathComponent("video.webm")
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: nil,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(result.provenance.attempts == 2)
                #expect(try Data(contentsOf: destination) == Data(bytes))
                // The 503 body never reaches the file.
                #expect(result.byteCount == bytes.count)
            }
        }
    }

    @Test func expiredURLIsResolvedAgainAndDownloadFinishes() async throws {
        let bytes = Fixture.blob(size: 3 << 20, seed: 4)
        let resolves = ResolveCounter()
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(
                bytes: bytes,
                behaviour: { request in
                    if request.index == 0 { return .dropAfter(bytes: 1 << 20, reset: false) }
                    // The first presigned URL has expired by the time of the retry.
                    return request.target.contains("token=1&") ? .status(403) : .serve
                }
            ) { server in
                let destination = directory.appendingPathComponent("video.webm")
                let (logger, handler) = Fixture.logger()
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server, token: resolves.next())) },
                    logger: logger
                )
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(resolves.value == 2)
                #expect(result.sha256 == expected.sha256)
                #expect(result.provenance.attempts == 3)
                #expect(result.provenance.resumedBytes == 1 << 20)
                #expect(server.requests.map(\.target).last?.contains("token=2&") == true)
                #expect(result.provenance.source?.contains("?") == false)
                Fixture.expectNoCredentials(server)
                Fixture.expectNoSecretLogged(handler)
            }
        }
    }

    @Test func truncatedBodyIsNeverAccepted() async throws {
        let bytes = Fixture.blob(size: 1 << 20, seed: 5)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes, behaviour: { _ in .dropAfter(bytes: 1000, reset: false) }) {
                server in
                let destination = directory.appendingPathComponent("video.webm")
                let error = await #expect(throws: TransferError.self) {
                    try await Downloader(configuration: Fixture.configuration(maximumAttempts: 3)).download(
                        to: destination,
                        expectedSize: bytes.count,
                        resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                        logger: Fixture.logger().0
                    )
                }
                #expect(error?.code == .truncated)
                #expect(error?.isTransient == true)
                #expect(server.requests.count == 3)
                #expect(!FileManager.default.fileExists(atPath: destination.path))
                // What did arrive is kept for a later resume.
                let partial = try Data(contentsOf: URL(fileURLWithPath: destination.path + ".partial"))
                #expect(partial == Data(bytes.prefix(3000)))
                #expect(error.map { "\($0)" }?.contains("s3cr3t") == false)
            }
        }
    }

    @Test func bodyLargerThanTheAnnouncedSizeIsRejected() async throws {
        let bytes = Fixture.blob(size: 64 << 10, seed: 6)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes) { server in
                let destination = directory.appendingPathComponent("video.webm")
                let error = await #expect(throws: TransferError.self) {
                    try await Downloader(configuration: Fixture.configuration()).download(
                        to: destination,
                        expectedSize: bytes.count - 1,
                        resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                        logger: Fixture.logger().0
                    )
                }
                #expect(error?.code == .sizeMismatch)
                #expect(!FileManager.default.fileExists(atPath: destination.path))
            }
        }
    }

    @Test func stallTimeoutFires() async throws {
        let bytes = Fixture.blob(size: 64 << 10, seed: 7)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes, behaviour: { _ in .stallAfter(bytes: 0) }) { server in
                var configuration = Fixture.configuration(maximumAttempts: 1)
                configuration.stallTimeout = .seconds(1)
                let started = ContinuousClock.now
                let error = await #expect(throws: TransferError.self) {
                    try await Downloader(configuration: configuration).download(
                        to: directory.appendingPathComponent("video.webm"),
                        expectedSize: bytes.count,
                        resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                        logger: Fixture.logger().0
                    )
                }
                #expect(error?.code == .stalled)
                #expect(error?.isTransient == true)
                // Without stall detection this would wait for the server; 30 s leaves room for a loaded machine.
                #expect(ContinuousClock.now - started < .seconds(30))
            }
        }
    }

    @Test func cancellationStopsPromptlyAndKeepsThePartial() async throws {
        let bytes = Fixture.blob(size: 1 << 20, seed: 8)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes, behaviour: { _ in .stallAfter(bytes: 64 << 10) }) {
                server in
                let destination = directory.appendingPathComponent("video.webm")
                let (outcome, latency) = await withTaskGroup(of: (any Error)?.self) { group in
                    group.addTask {
                        do {
                            _ = try await Downloader(configuration: Fixture.configuration()).download(
                                to: destination,
                                expectedSize: bytes.count,
                                resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                                logger: Fixture.logger().0
                            )
                            return nil
                        } catch {
                            return error
                        }
                    }
                    var arrivals = server.arrivals.makeAsyncIterator()
                    _ = await arrivals.next()
                    let cancelledAt = ContinuousClock.now
                    group.cancelAll()
                    let outcome = await group.next()
                    return (outcome, ContinuousClock.now - cancelledAt)
                }
                let error = try #require(outcome ?? nil)
                #expect((error as? TransferError)?.code == .aborted)
                // Far below the 60 s stall timeout that would end it otherwise; roomy for a loaded machine.
                #expect(latency < .seconds(15))
                #expect(Fixture.partialExists(for: destination))
                #expect(!FileManager.default.fileExists(atPath: destination.path))
            }
        }
    }
}
