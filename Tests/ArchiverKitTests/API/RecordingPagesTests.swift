import ArchiverKit
import ArchiverTestSupport
import Foundation
import Hummingbird
import Synchronization
import Testing

/// A server-side recordings table that tests can mutate between pages.
final class RecordingTable: Sendable {
    let items: Mutex<[String]>
    init(count: Int) { items = Mutex((0..<count).map { recordingItem("rec_\($0)", minute: $0) }) }

    func page(_ number: Int, perPage: Int, hasMore: Bool? = nil) -> Response {
        let all = items.withLock { $0 }
        let start = min((number - 1) * perPage, all.count)
        let slice = Array(all[start..<min(start + perPage, all.count)])
        return jsonResponse(
            200,
            listBody(
                slice,
                page: number,
                perPage: perPage,
                total: all.count,
                hasMore: hasMore ?? (start + perPage < all.count)
            )
        )
    }
}

@Suite(.timeLimit(.minutes(3))) struct RecordingPagesTests {
    private func collect(_ pages: RecordingPages) async throws -> [String] {
        var ids: [String] = []
        for try await page in pages { ids += page.recordings.map(\.recordingID) }
        return ids
    }

    @Test func followsHasMoreAcrossPagesOldestFirstWithQueryParameters() async throws {
        let table = RecordingTable(count: 45)
        let queries = Mutex<[String]>([])
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { request, _ -> Response in
            queries.withLock { $0.append(request.uri.query ?? "") }
            let page = Int(request.uri.queryParameters.get("page") ?? "") ?? 0
            let perPage = Int(request.uri.queryParameters.get("per_page") ?? "") ?? 0
            return table.page(page, perPage: perPage)
        }
        try await withTestHTTPServer(router) { baseURL in
            let pages = makeClient(baseURL).listRecordings(workspace: "ws")
            let collected = try await collect(pages)
            #expect(collected == (0..<45).map { "rec_\($0)" })
            let reconciliation = try #require(pages.reconciliation)
            #expect(reconciliation.pagesFetched == 3)
            #expect(reconciliation.uniqueIds == 45)
            #expect(reconciliation.firstPageTotal == 45)
            #expect(reconciliation.difference == 0)
        }
        let sent = queries.withLock { $0 }
        #expect(sent.count == 3)
        #expect(sent[1] == "page=2&per_page=20&sort_by=created_at&sort_direction=asc")
    }

    @Test func sendsArrayFiltersInBracketNotation() async throws {
        let query = Mutex<[String: String]>([:])
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { request, _ -> Response in
            var values: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { values[String(key)] = String(value) }
            query.withLock { $0 = values }
            return jsonResponse(200, listBody([], page: 1, perPage: 20, total: 0, hasMore: false))
        }
        try await withTestHTTPServer(router) { baseURL in
            let filter = RecordingFilter(projectIds: ["p1", "p 2&x"], linkIds: ["l1"], createdBy: ["m/1"])
            _ = try await collect(makeClient(baseURL).listRecordings(workspace: "ws", filter: filter))
        }
        let values = query.withLock { $0 }
        #expect(values["project_id[0]"] == "p1")
        #expect(values["project_id[1]"] == "p 2&x")
        #expect(values["link_id[0]"] == "l1")
        #expect(values["created_by[0]"] == "m/1")
    }

    @Test func insertionDuringListingIsDedupedAndReconciled() async throws {
        let table = RecordingTable(count: 40)
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { request, _ -> Response in
            let page = Int(request.uri.queryParameters.get("page") ?? "") ?? 0
            let response = table.page(page, perPage: 20)
            // After page 1 was served, an older recording appears at the front: page 2 now starts with
            // the last item of page 1.
            if page == 1 { table.items.withLock { $0.insert(recordingItem("rec_late", minute: 0), at: 0) } }
            return response
        }
        try await withTestHTTPServer(router) { baseURL in
            let pages = makeClient(baseURL).listRecordings(workspace: "ws")
            let ids = try await collect(pages)
            #expect(ids == (0..<40).map { "rec_\($0)" })
            let reconciliation = try #require(pages.reconciliation)
            #expect(reconciliation.duplicatesSkipped == 1)
            #expect(reconciliation.firstPageTotal == 40)
            #expect(reconciliation.lastPageTotal == 41)
            #expect(reconciliation.difference == -1)
        }
    }

    /// The sort parameters are known only from third-party code: a server that ignores
    /// `sort_direction=desc` (here: always oldest first) must not make an incremental listing stop at
    /// the oldest page; it reads the whole list instead.
    @Test func aServerIgnoringTheSortOrderMakesTheCutoffReadEverything() async throws {
        let table = RecordingTable(count: 45)
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { request, _ -> Response in
            let page = Int(request.uri.queryParameters.get("page") ?? "") ?? 0
            return table.page(page, perPage: 20)
        }
        try await withTestHTTPServer(router) { baseURL in
            let cutoff = try #require(ISO8601DateFormatter().date(from: "2025-01-01T00:30:00Z"))
            let pages = makeClient(baseURL).listRecordings(workspace: "ws", order: .newestFirst, stopAtOrBefore: cutoff)
            let collected = try await collect(pages)
            #expect(collected.count == 45)
            let reconciliation = try #require(pages.reconciliation)
            #expect(reconciliation.unsortedPages == 3)
            #expect(reconciliation.reachedEnd && !reconciliation.stoppedAtCutoff)
        }
    }

    @Test func stopsAtTheFirstEmptyPageWhenHasMoreLies() async throws {
        let table = RecordingTable(count: 25)
        let hits = Counter()
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { request, _ -> Response in
            _ = hits.next()
            let page = Int(request.uri.queryParameters.get("page") ?? "") ?? 0
            return table.page(page, perPage: 20, hasMore: true)
        }
        try await withTestHTTPServer(router) { baseURL in
            let pages = makeClient(baseURL).listRecordings(workspace: "ws")
            let collected = try await collect(pages)
            #expect(collected.count == 25)
            #expect(hits.count == 3)
            #expect(pages.reconciliation?.stoppedAtPageLimit == false)
        }
    }

    @Test func emptyWorkspaceYieldsNoPages() async throws {
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { _, _ -> Response in
            jsonResponse(200, listBody([], page: 1, perPage: 20, total: 0, hasMore: false))
        }
        try await withTestHTTPServer(router) { baseURL in
            let pages = makeClient(baseURL).listRecordings(workspace: "ws")
            var count = 0
            for try await _ in pages { count += 1 }
            #expect(count == 0)
            #expect(pages.reconciliation?.uniqueIds == 0)
            #expect(pages.reconciliation?.difference == 0)
        }
    }

    @Test func endlessListingStopsAtThePageLimit() async throws {
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { request, _ -> Response in
            let page = Int(request.uri.queryParameters.get("page") ?? "") ?? 0
            let items = (0..<2).map { recordingItem("rec_\(page)_\($0)", minute: page) }
            return jsonResponse(200, listBody(items, page: page, perPage: 2, total: 1_000_000, hasMore: true))
        }
        try await withTestHTTPServer(router) { baseURL in
            let pages = makeClient(baseURL, pageSize: 2, maximumPages: 3).listRecordings(workspace: "ws")
            let collected = try await collect(pages)
            #expect(collected.count == 6)
            #expect(pages.reconciliation?.stoppedAtPageLimit == true)
        }
    }

    @Test func sinceUntilFilterOnCreatedAtAndOddItemsAreCounted() async throws {
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { _, _ -> Response in
            let items =
                (0..<5).map { recordingItem("rec_\($0)", minute: $0 * 10) } + ["{\"recordingId\":\"bad\"}", "42"]
            return jsonResponse(200, listBody(items, page: 1, perPage: 20, total: 7, hasMore: false))
        }
        try await withTestHTTPServer(router) { baseURL in
            let filter = RecordingFilter(
                since: Date(timeIntervalSince1970: 1_735_689_600 + 600),  // 2025-01-01T00:10:00Z
                until: Date(timeIntervalSince1970: 1_735_689_600 + 1800)  // 2025-01-01T00:30:00Z
            )
            let pages = makeClient(baseURL).listRecordings(workspace: "ws", filter: filter)
            let collected = try await collect(pages)
            #expect(collected == ["rec_1", "rec_2"])
            #expect(pages.reconciliation?.undecodableItems == 2)
            #expect(pages.reconciliation?.uniqueIds == 5)
            #expect(pages.reconciliation?.difference == 0)
        }
    }

    @Test func recordingIDsAreFetchedDirectlyAndGoneOnesReported() async throws {
        let listed = Counter()
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { _, _ -> Response in
            _ = listed.next()
            return jsonResponse(500, errorBody("UNEXPECTED"))
        }
        router.get("/api/v1/public/workspace/:ws/recordings/:id") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            if id == "rec_gone" { return jsonResponse(410, errorBody("RECORDING_GONE")) }
            return jsonResponse(
                200,
                "{\"message\":\"ok\",\"data\":{\"recording\":{\"recordingId\":\"\(id)\",\"meta\":{\"createdAt\":\"2025-01-01T00:00:00Z\"}}}}"
            )
        }
        try await withTestHTTPServer(router) { baseURL in
            let filter = RecordingFilter(recordingIDs: ["rec_a", "rec_gone", "rec_b", "rec_a"])
            let pages = makeClient(baseURL, pageSize: 2).listRecordings(workspace: "ws", filter: filter)
            let collected = try await collect(pages)
            #expect(collected == ["rec_a", "rec_b"])
            #expect(pages.reconciliation?.goneIds == ["rec_gone"])
            #expect(listed.count == 0)
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct APIModelTests {
    @Test func statusFinalityRule() {
        for value in ["pending", "processing", "uploading", "Queued", "in_progress", "awaiting_upload", "transcoding"] {
            #expect(!RecordingStatus(rawValue: value).isFinal, "\(value)")
        }
        for value in ["ready", "completed", "processed", "uploaded", "failed", "archived", "brand_new_final"] {
            #expect(RecordingStatus(rawValue: value).isFinal, "\(value)")
        }
    }

    @Test func resourceKindNames() {
        #expect(
            ResourceKind.allCases.map(\.pathSuffix) == ["video", "thumbnail", "console-log", "network-log", "action"]
        )
        #expect(
            ResourceKind.allCases.map(\.archiveBaseName) == [
                "video", "thumbnail", "console-log", "network-log", "actions",
            ]
        )
        #expect(ResourceKind(name: "action") == .actions)
        #expect(ResourceKind(name: "actions") == .actions)
        #expect(ResourceKind(name: "audio") == nil)
    }

    @Test func listItemDatesParseWithAndWithoutFractionalSeconds() throws {
        let json =
            "[{\"recordingId\":\"a\",\"createdAt\":\"2025-01-01T00:00:00Z\",\"recordingDurationMs\":null},"
            + "{\"recordingId\":\"b\",\"createdAt\":\"2025-01-01T00:00:00.250Z\",\"expiresAt\":\"garbage\",\"unknown\":true}]"
        let items = try JSONDecoder().decode([Recording].self, from: Data(json.utf8))
        #expect(items[0].createdAt == Date(timeIntervalSince1970: 1_735_689_600))
        #expect(items[1].createdAt == Date(timeIntervalSince1970: 1_735_689_600.25))
        #expect(items[0].recordingDurationMs == nil)
        #expect(items[1].expiresAt == nil)
    }
}
