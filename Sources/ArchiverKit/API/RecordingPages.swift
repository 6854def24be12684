import Logging
import Synchronization

/// The recordings of a workspace as an `AsyncSequence` of pages, fetched lazily.
///
/// Listing asks for `per_page` = ``APIClient/Configuration/Pagination/pageSize`` (20), oldest first
/// (`sort_by=created_at&sort_direction=asc`), and follows `pagination.hasMore` (or, when absent,
/// `page < totalPages`). It stops at the first empty page even if `hasMore` claims more, and after
/// ``APIClient/Configuration/Pagination/maximumPages``. Ids already seen are skipped, so a recording
/// shifted onto the next page by an insertion is yielded once. When ``RecordingFilter/recordingIds``
/// is set, those recordings are fetched one by one instead (one page per `pageSize` ids); ids the API
/// answers as not found or gone are listed in ``ListingReconciliation/goneIds`` rather than thrown.
public struct RecordingPages: AsyncSequence, Sendable {
    /// A page of recordings.
    public typealias Element = RecordingPage

    let client: APIClient
    let workspace: String
    let filter: RecordingFilter
    private let outcome = Outcome()

    init(client: APIClient, workspace: String, filter: RecordingFilter) {
        self.client = client
        self.workspace = workspace
        self.filter = filter
    }

    /// The reconciliation of the most recently finished iteration; `nil` until one finishes.
    public var reconciliation: ListingReconciliation? { outcome.value.withLock { $0 } }

    /// Starts a new listing from page 1.
    ///
    /// - Returns: The iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(pages: self)
    }

    /// Fetches pages on demand.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let pages: RecordingPages
        private var state: ListingReconciliation
        private var seen: Set<String> = []
        private var nextPage = 1
        private var isFinished = false
        private let directIds: [String]

        init(pages: RecordingPages) {
            self.pages = pages
            self.state = ListingReconciliation(
                uniqueIds: 0,
                duplicatesSkipped: 0,
                undecodableItems: 0,
                matched: 0,
                pagesFetched: 0,
                firstPageTotal: nil,
                lastPageTotal: nil,
                stoppedAtPageLimit: false,
                goneIds: []
            )
            var unique: [String] = []
            var seenIds: Set<String> = []
            for id in pages.filter.recordingIds where seenIds.insert(id).inserted { unique.append(id) }
            self.directIds = unique
        }

        /// The next page, or `nil` when the listing is complete.
        ///
        /// - Returns: A page (possibly with no recordings after filtering), or `nil`.
        /// - Throws: What ``APIClient`` throws.
        public mutating func next() async throws -> RecordingPage? {
            guard !isFinished else { return nil }
            return pages.filter.recordingIds.isEmpty ? try await nextListedPage() : try await nextDirectPage()
        }

        private mutating func nextListedPage() async throws -> RecordingPage? {
            let configuration = pages.client.configuration.pagination
            guard state.pagesFetched < configuration.maximumPages else {
                state.stoppedAtPageLimit = true
                pages.client.logger.info(
                    "listing stopped at the page limit",
                    metadata: ["listing.pages": "\(state.pagesFetched)"]
                )
                return finish()
            }
            let number = nextPage
            let payload = try await pages.client.recordingsPage(
                workspace: pages.workspace,
                filter: pages.filter,
                page: number
            )
            nextPage += 1
            state.pagesFetched += 1
            let total = payload.pagination?.total
            if number == 1 { state.firstPageTotal = total }
            state.lastPageTotal = total ?? state.lastPageTotal
            state.undecodableItems += payload.undecodable
            if payload.recordings.isEmpty && payload.undecodable == 0 { return finish() }

            var fresh: [Recording] = []
            for recording in payload.recordings {
                if seen.insert(recording.recordingId).inserted {
                    state.uniqueIds += 1
                    if pages.filter.matches(createdAt: recording.createdAt) { fresh.append(recording) }
                } else {
                    state.duplicatesSkipped += 1
                }
            }
            state.matched += fresh.count
            pages.client.logger.trace(
                "listed page",
                metadata: ["listing.page": "\(number)", "listing.new": "\(fresh.count)"]
            )
            let hasMore: Bool
            if let reported = payload.pagination?.hasMore {
                hasMore = reported
            } else if let totalPages = payload.pagination?.totalPages {
                hasMore = number < totalPages
            } else {
                hasMore = payload.recordings.count + payload.undecodable >= configuration.pageSize
            }
            let page = RecordingPage(number: number, recordings: fresh, reportedTotal: total)
            if !hasMore { _ = finish() }
            return page
        }

        private mutating func nextDirectPage() async throws -> RecordingPage? {
            let size = Swift.max(pages.client.configuration.pagination.pageSize, 1)
            let start = (nextPage - 1) * size
            guard start < directIds.count else { return finish() }
            let number = nextPage
            nextPage += 1
            state.pagesFetched += 1
            var fresh: [Recording] = []
            for id in directIds[start..<Swift.min(start + size, directIds.count)] {
                do {
                    let detail = try await pages.client.recording(workspace: pages.workspace, id: id)
                    guard let item = detail.listItem else {
                        throw APIError(
                            code: .malformedResponse,
                            status: 200,
                            message: "recording \(id) has no parseable meta.createdAt"
                        )
                    }
                    state.uniqueIds += 1
                    if pages.filter.matches(detail) { fresh.append(item) }
                } catch let error as APIError where error.meansGone {
                    state.goneIds.append(id)
                }
            }
            state.matched += fresh.count
            let page = RecordingPage(number: number, recordings: fresh, reportedTotal: nil)
            if start + size >= directIds.count { _ = finish() }
            return page
        }

        private mutating func finish() -> RecordingPage? {
            isFinished = true
            let state = self.state
            pages.outcome.value.withLock { $0 = state }
            return nil
        }
    }
}

/// Where an iterator publishes its reconciliation for the sequence to read.
private final class Outcome: Sendable {
    let value = Mutex<ListingReconciliation?>(nil)
}
