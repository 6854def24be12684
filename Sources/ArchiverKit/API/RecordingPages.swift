public import Foundation
import Logging
import Synchronization

/// The recordings of a workspace as an `AsyncSequence` of pages, fetched lazily.
///
/// Listing asks for `per_page` = ``APIClient/Configuration/Pagination/pageSize`` (20) in ``order``
/// (`sort_by=created_at`) and follows `pagination.hasMore` (or, when absent, `page < totalPages`). It
/// stops at the first empty page even if `hasMore` claims more, and after
/// ``APIClient/Configuration/Pagination/maximumPages``. Newest first with ``stopAtOrBefore`` set, it
/// also stops after the first page whose every item was created at or before that instant (an
/// incremental listing).
///
/// The list may change while it is paged through; nothing that existed throughout is lost:
/// - Ids already seen are skipped, so a recording shifted onto the next page by an insertion is
///   yielded once.
/// - When `pagination.total` drops between two pages by *d*, recordings not read yet may have
///   shifted onto pages already read; the last ⌈*d*/`per_page`⌉ pages read are fetched again.
/// - Newest first, recordings created during the listing land on page 1, already read: when the
///   total grew, the head is read again until a page reaches an id read before (at most 3 passes).
///
/// When ``RecordingFilter/recordingIDs`` is set, those recordings are fetched one by one instead (one
/// page per `pageSize` ids); ids the API answers as not found or gone are listed in
/// ``ListingReconciliation/goneIds`` rather than thrown.
public struct RecordingPages: AsyncSequence, Sendable {
    /// A page of recordings.
    public typealias Element = RecordingPage

    let client: APIClient
    let workspace: String
    let filter: RecordingFilter
    /// The order asked of the API.
    public let order: ListingOrder
    /// Newest first only: stop after a page whose items were all created at or before this instant.
    public let stopAtOrBefore: Date?
    private let outcome = Outcome()

    /// Passes of re-reading the head after the list grew.
    static let maximumHeadPasses = 3
    /// Forward pages in a row that may bring nothing new (every id already seen) while the server claims more.
    ///
    /// One such page happens when a page's worth of recordings is created between two requests (newest first);
    /// ten in a row is a server that ignores `page` and repeats itself, which would otherwise be listed until
    /// ``APIClient/Configuration/Pagination/maximumPages`` (100,000 requests, most of a day at the default pace).
    static let maximumRepeatedPages = 10

    init(client: APIClient, workspace: String, filter: RecordingFilter, order: ListingOrder, stopAtOrBefore: Date?) {
        self.client = client
        self.workspace = workspace
        self.filter = filter
        self.order = order
        self.stopAtOrBefore = order == .newestFirst ? stopAtOrBefore : nil
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
        private enum Role {
            case forward, head, refetch
        }

        private let pages: RecordingPages
        private var state = ListingReconciliation()
        private var seen: Set<String> = []
        private var isFinished = false
        private let directIds: [String]
        private var nextDirectBatch = 1

        /// The highest page read by the forward sweep.
        private var frontier = 0
        private var forwardDone = false
        /// Pages to read again (a drop in `total` shifted unread items onto them).
        private var refetch: [Int] = []
        /// The head sweep in progress: the last page it read (0 before its first page).
        private var headPosition: Int?
        private var headPasses = 0
        /// Whether `total` grew since the current sweep started.
        private var grew = false
        private var previousTotal: Int?
        /// Set once a page came back in another order than newest first: the cutoff no longer applies.
        private var cutoffDisabled = false
        /// Forward pages in a row that held only ids already seen.
        private var repeatedPages = 0

        init(pages: RecordingPages) {
            self.pages = pages
            var unique: [String] = []
            var seenIds: Set<String> = []
            for id in pages.filter.recordingIDs where seenIds.insert(id).inserted { unique.append(id) }
            self.directIds = unique
        }

        /// The next page, or `nil` when the listing is complete.
        ///
        /// - Returns: A page (possibly with no recordings after filtering), or `nil`.
        /// - Throws: What ``APIClient`` throws.
        public mutating func next() async throws -> RecordingPage? {
            guard !isFinished else { return nil }
            guard pages.filter.recordingIDs.isEmpty else { return try await nextDirectPage() }
            while let listed = try await nextListedPage() {
                // An empty answer (the end of the list) is not a page worth yielding.
                if !listed.wasEmpty { return listed.page }
            }
            return nil
        }

        /// Which page to read next, or `nil` when the listing is complete.
        private mutating func plan() -> (number: Int, role: Role)? {
            if !refetch.isEmpty { return (refetch.removeFirst(), .refetch) }
            if !forwardDone { return (frontier + 1, .forward) }
            if let position = headPosition { return (position + 1, .head) }
            guard pages.order == .newestFirst, grew, headPasses < RecordingPages.maximumHeadPasses else { return nil }
            headPasses += 1
            grew = false
            headPosition = 0
            return (1, .head)
        }

        private mutating func nextListedPage() async throws -> (page: RecordingPage, wasEmpty: Bool)? {
            let configuration = pages.client.configuration.pagination
            let pageSize = Swift.max(configuration.pageSize, 1)
            guard let next = plan() else {
                _ = finish()
                return nil
            }
            let (number, role) = next
            guard state.pagesFetched < configuration.maximumPages else {
                state.stoppedAtPageLimit = true
                pages.client.logger.info(
                    "listing stopped at the page limit",
                    metadata: ["listing.pages": "\(state.pagesFetched)"]
                )
                _ = finish()
                return nil
            }
            let payload = try await pages.client.recordingsPage(
                workspace: pages.workspace,
                filter: pages.filter,
                page: number,
                order: pages.order
            )
            state.pagesFetched += 1
            switch role {
            case .forward: break
            case .head: state.headPagesRefetched += 1
            case .refetch: state.pagesRefetched += 1
            }
            let total = payload.pagination?.total
            if state.pagesFetched == 1 { state.firstPageTotal = total }
            state.lastPageTotal = total ?? state.lastPageTotal
            state.undecodableItems += payload.undecodable

            // Where the sweep in progress stood before this page: unread items lie after it.
            let position: Int
            switch role {
            case .forward: position = number - 1
            case .head: position = number - 1
            case .refetch: position = forwardDone ? (headPosition ?? frontier) : frontier
            }
            if let total, let previous = previousTotal {
                if total < previous {
                    let back = (previous - total + pageSize - 1) / pageSize
                    let first = Swift.max(1, position - back + 1)
                    if first <= position {
                        refetch.append(contentsOf: first...position)
                        pages.client.logger.info(
                            "listing total dropped while listing; reading earlier pages again",
                            metadata: ["listing.pages": "\(first)...\(position)", "listing.total": "\(total)"]
                        )
                    }
                } else if total > previous {
                    grew = true
                }
            }
            if let total { previousTotal = total }

            var fresh: [Recording] = []
            var unseen = 0
            for recording in payload.recordings {
                state.newestCreatedAt = Swift.max(state.newestCreatedAt ?? recording.createdAt, recording.createdAt)
                if seen.insert(recording.recordingID).inserted {
                    unseen += 1
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

            let isEmpty = payload.recordings.isEmpty && payload.undecodable == 0
            let hasMore: Bool
            if isEmpty {
                hasMore = false
            } else if let reported = payload.pagination?.hasMore {
                hasMore = reported
            } else if let totalPages = payload.pagination?.totalPages {
                hasMore = number < totalPages
            } else {
                hasMore = payload.recordings.count + payload.undecodable >= pageSize
            }
            // The sort parameters come from third-party code, not Userplane's docs: a page that is not
            // newest first means the order is not honoured, and a cutoff would stop at the wrong end.
            if pages.order == .newestFirst,
                zip(payload.recordings, payload.recordings.dropFirst()).contains(where: { $0.createdAt < $1.createdAt })
            {
                state.unsortedPages += 1
                if pages.stopAtOrBefore != nil && !cutoffDisabled {
                    pages.client.logger.warning(
                        "the API did not list newest first; reading the whole list instead of stopping at the cutoff",
                        metadata: ["listing.page": "\(number)"]
                    )
                }
                cutoffDisabled = true
            }
            let isBehindCutoff =
                cutoffDisabled
                ? false
                : pages.stopAtOrBefore.map { cutoff in
                    !isEmpty && payload.undecodable == 0 && payload.recordings.allSatisfy { $0.createdAt <= cutoff }
                } ?? false
            switch role {
            case .forward:
                frontier = number
                repeatedPages = !isEmpty && payload.undecodable == 0 && unseen == 0 ? repeatedPages + 1 : 0
                if !hasMore {
                    forwardDone = true
                    state.reachedEnd = true
                } else if isBehindCutoff {
                    forwardDone = true
                    state.stoppedAtCutoff = true
                } else if repeatedPages >= RecordingPages.maximumRepeatedPages {
                    forwardDone = true
                    state.stoppedAtRepeatedPages = true
                    pages.client.logger.warning(
                        "the API repeated pages of recordings already listed; the listing stopped early, incomplete",
                        metadata: ["listing.page": "\(number)", "listing.repeated": "\(repeatedPages)"]
                    )
                }
            case .head:
                headPosition = number
                // Recordings created meanwhile sit together at the head: a page that reaches an id read
                // before has found them all.
                if !hasMore || isBehindCutoff || unseen < payload.recordings.count { headPosition = nil }
            case .refetch:
                break
            }
            return (RecordingPage(number: number, recordings: fresh, reportedTotal: total), isEmpty)
        }

        private mutating func nextDirectPage() async throws -> RecordingPage? {
            let size = Swift.max(pages.client.configuration.pagination.pageSize, 1)
            let start = (nextDirectBatch - 1) * size
            guard start < directIds.count else { return finish() }
            let number = nextDirectBatch
            nextDirectBatch += 1
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
            if start + size >= directIds.count {
                state.reachedEnd = true
                _ = finish()
            }
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
