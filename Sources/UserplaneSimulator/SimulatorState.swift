import Synchronization

/// The simulator's mutable world: recordings, faults, quotas, counters and journal, behind one lock.
final class SimulatorState: Sendable {
    let configuration: SimulatorConfiguration
    let apiKeys: [SimulatedAPIKey]
    let workspaceID: String
    let emptyWorkspaceID: String
    let foreignWorkspaceID: String
    let signingSecret: [UInt8]
    let factory: RecordingFactory
    let storage: Mutex<Storage>
    let boundPort = Mutex<Int>(0)

    struct Storage: Sendable {
        var recordings: [SimulatedRecording]
        var faults: SimulatorFaults
        var counters = SimulatorCounters()
        var journal: [SimulatorJournalEntry] = []
        var requestSequence: UInt64 = 0
        var apiPathHits: [String: Int] = [:]
        var blobPathHits: [String: Int] = [:]
        var deleteAttempts = 0
        var hasInserted = false
        var hasDeletedWhileListing = false
        var insertedCount = 0
        var userWindows: [String: SlidingWindow] = [:]
        var userDays: [String: (day: Int64, count: Int)] = [:]
        var allCalls = SlidingWindow()
    }

    init(configuration: SimulatorConfiguration) {
        self.configuration = configuration
        let seed = configuration.seed
        apiKeys = configuration.apiKeys ?? SimulatedAPIKey.defaultKeys(seed: seed)
        workspaceID = "ws_" + String(hex(SplitMix64.hash("workspace", seed: seed)).prefix(12))
        emptyWorkspaceID = "ws_" + String(hex(SplitMix64.hash("empty", seed: seed)).prefix(12))
        foreignWorkspaceID = "ws_" + String(hex(SplitMix64.hash("foreign", seed: seed)).prefix(12))
        var secretRandom = SplitMix64(seed: SplitMix64.hash("secret", seed: seed))
        signingSecret = (0..<4).flatMap { _ in withUnsafeBytes(of: secretRandom.next()) { Array($0) } }
        let hour: Int64 = 3_600_000
        let factory = RecordingFactory(
            seed: seed,
            content: configuration.content,
            referenceMilliseconds: Timestamp.nowMilliseconds() / hour * hour
        )
        self.factory = factory
        let workspaceID = self.workspaceID
        let foreignWorkspaceID = self.foreignWorkspaceID
        var recordings = (0..<max(0, configuration.recordingCount)).map {
            factory.recording(index: $0, workspaceID: workspaceID)
        }
        var forbiddenLeft = configuration.deleteForbiddenCount
        for index in stride(from: 3, to: recordings.count, by: 7) where forbiddenLeft > 0 {
            recordings[index].isDeleteForbidden = true
            forbiddenLeft -= 1
        }
        if configuration.includesHostileRecording {
            var hostile = factory.recording(
                index: -1,
                workspaceID: workspaceID,
                id: configuration.hostileRecordingID
            )
            hostile.title = "../../etc/passwd \"quoted\"\nمرحبا ‮evil‬"
            recordings.append(hostile)
        }
        for index in 0..<3 {
            recordings.append(factory.recording(index: index, workspaceID: foreignWorkspaceID))
        }
        for index in 0..<max(0, configuration.emptyWorkspaceRecordingCount) {
            recordings.append(factory.recording(index: index, workspaceID: emptyWorkspaceID))
        }
        storage = Mutex(Storage(recordings: recordings, faults: configuration.faults))
    }

    var user: (id: String, name: String, email: String) {
        (SimulatedAPIKey.defaultUserId, "Ada Owner", "ada.owner@example.com")
    }

    var memberWorkspaceIDs: [String] { [workspaceID, emptyWorkspaceID] }

    func workspaceName(_ id: String) -> String {
        switch id {
        case workspaceID: "Acme Support – Production"
        case emptyWorkspaceID: "Empty sandbox"
        default: "Someone else's workspace"
        }
    }

    // MARK: - Journal and counters

    func journal(kind: String, method: String, path: String, status: Int) {
        let entry = SimulatorJournalEntry(
            kind: kind,
            method: method,
            path: path,
            status: status,
            time: Timestamp.iso8601(milliseconds: Timestamp.nowMilliseconds())
        )
        let capacity = configuration.journalCapacity
        storage.withLock { storage in
            storage.journal.append(entry)
            if storage.journal.count > capacity + capacity / 4 {
                storage.journal.removeFirst(storage.journal.count - capacity)
            }
        }
    }

    func update(_ body: (inout SimulatorCounters) -> Void) {
        storage.withLock { body(&$0.counters) }
    }

    /// Counts an API request; returns its sequence number.
    func countAPICall(endpoint: String) -> UInt64 {
        let now = ContinuousClock.now
        return storage.withLock { storage in
            storage.counters.apiCalls += 1
            storage.counters.callsByEndpoint[endpoint, default: 0] += 1
            storage.allCalls.expire(now: now)
            storage.allCalls.append(now)
            storage.counters.maxAPICallsInWindow = max(storage.counters.maxAPICallsInWindow, storage.allCalls.count)
            storage.requestSequence += 1
            return storage.requestSequence
        }
    }

    // MARK: - Rate limits

    struct RateDecision {
        var isAllowed: Bool
        var limit: Int
        var remaining: Int
        var resetSeconds: Int
    }

    func admit(userId: String) -> RateDecision {
        let limits = configuration.rateLimit
        let now = ContinuousClock.now
        let day = Timestamp.nowMilliseconds() / 86_400_000
        return storage.withLock { storage in
            var window = storage.userWindows[userId, default: SlidingWindow()]
            window.expire(now: now)
            var daily: (day: Int64, count: Int) =
                storage.userDays[userId].flatMap { $0.day == day ? $0 : nil } ?? (day, 0)
            let isAllowed = window.count < limits.requestsPerMinute && daily.count < limits.requestsPerDay
            if isAllowed || limits.countsRejectedRequests {
                window.append(now)
                daily.count += 1
            }
            storage.userWindows[userId] = window
            storage.userDays[userId] = daily
            let resetSeconds: Int
            if daily.count >= limits.requestsPerDay {
                resetSeconds = Int(86_400 - Timestamp.nowMilliseconds() / 1000 % 86_400)
            } else if let oldest = window.oldest, window.count >= limits.requestsPerMinute {
                let elapsed = now - oldest
                resetSeconds = max(1, Int((Duration.seconds(60) - elapsed).components.seconds) + 1)
            } else {
                resetSeconds = 60
            }
            if !isAllowed { storage.counters.rateLimited += 1 }
            return RateDecision(
                isAllowed: isAllowed,
                limit: limits.requestsPerMinute,
                remaining: max(0, min(limits.requestsPerMinute - window.count, limits.requestsPerDay - daily.count)),
                resetSeconds: resetSeconds
            )
        }
    }

    // MARK: - Faults

    var faults: SimulatorFaults { storage.withLock { $0.faults } }

    func setFaults(_ faults: SimulatorFaults) {
        storage.withLock { storage in
            storage.faults = faults
            storage.apiPathHits = [:]
            storage.blobPathHits = [:]
            storage.deleteAttempts = 0
            storage.hasInserted = false
            storage.hasDeletedWhileListing = false
        }
    }

    /// Decides whether this API request gets an injected 5xx; returns the status (503, 500, 502) or nil.
    func injectedAPIStatus(pathKey: String, sequence: UInt64) -> Int? {
        storage.withLock { storage in
            let faults = storage.faults
            let hits = storage.apiPathHits[pathKey, default: 0]
            storage.apiPathHits[pathKey] = hits + 1
            var status: Int?
            if hits < faults.failFirstAPIRequestsPerPath {
                status = 503
            } else if faults.apiErrorRate > 0 {
                let roll = SplitMix64.hash("api#\(sequence)", seed: configuration.seed)
                if SplitMix64.unit(roll) < faults.apiErrorRate { status = [503, 500, 502][Int(roll % 3)] }
            }
            if status != nil { storage.counters.injected5xx += 1 }
            return status
        }
    }

    /// Whether blob faults apply to this request of `path` (and counts it).
    func blobFaultsApply(path: String) -> SimulatorFaults? {
        storage.withLock { storage in
            let hits = storage.blobPathHits[path, default: 0]
            storage.blobPathHits[path] = hits + 1
            if let limit = storage.faults.blobFaultRequestsPerPath, hits >= limit { return nil }
            return storage.faults
        }
    }

    // MARK: - Recordings

    func recording(id: String) -> SimulatedRecording? {
        storage.withLock { storage in storage.recordings.first { $0.id == id } }
    }

    var summaries: [SimulatedRecordingSummary] {
        storage.withLock { $0.recordings.filter { $0.workspaceID == workspaceID }.map(\.summary) }
    }

    func activeRecordings(workspaceID: String) -> [SimulatedRecording] {
        storage.withLock { $0.recordings.filter { $0.workspaceID == workspaceID && !$0.isDeleted } }
    }

    /// Inserts the configured number of new recordings once per fault setting, after a first page was served.
    func insertAfterFirstPageIfNeeded() {
        storage.withLock { storage in
            let count = storage.faults.insertWhileListing
            guard count > 0, !storage.hasInserted else { return }
            storage.hasInserted = true
            let now = Timestamp.nowMilliseconds()
            for offset in 0..<count {
                let index = 1_000_000 + storage.insertedCount
                storage.insertedCount += 1
                let recording = factory.recording(
                    index: index,
                    workspaceID: workspaceID,
                    createdAt: now + Int64(offset)
                )
                storage.recordings.append(recording)
            }
        }
    }

    /// Soft-deletes the configured number of `served` recordings once per fault setting, after page 1 was served.
    func deleteAfterFirstPageIfNeeded(served: [String]) {
        storage.withLock { storage in
            let count = storage.faults.deleteWhileListing
            guard count > 0, !storage.hasDeletedWhileListing else { return }
            storage.hasDeletedWhileListing = true
            let now = Timestamp.nowMilliseconds()
            for id in served.prefix(count) {
                guard let index = storage.recordings.firstIndex(where: { $0.id == id }) else { continue }
                storage.recordings[index].isDeleted = true
                storage.recordings[index].updatedAtMilliseconds = now
            }
        }
    }

    /// Adds `count` recordings to the member workspace, created at `createdAtMilliseconds` (+1 ms each).
    func insert(count: Int, createdAtMilliseconds: Int64) -> [String] {
        storage.withLock { storage in
            (0..<max(0, count)).map { offset in
                let index = 1_000_000 + storage.insertedCount
                storage.insertedCount += 1
                let recording = factory.recording(
                    index: index,
                    workspaceID: workspaceID,
                    createdAt: createdAtMilliseconds + Int64(offset)
                )
                storage.recordings.append(recording)
                return recording.id
            }
        }
    }

    enum DeleteOutcome {
        case deleted, alreadyGone, forbidden, failed
    }

    func delete(id: String) -> DeleteOutcome {
        storage.withLock { storage in
            guard let index = storage.recordings.firstIndex(where: { $0.id == id }) else { return .alreadyGone }
            if storage.recordings[index].isDeleted { return .alreadyGone }
            if storage.recordings[index].isDeleteForbidden { return .forbidden }
            storage.deleteAttempts += 1
            if storage.deleteAttempts <= storage.faults.failFirstDeletes {
                storage.counters.injected5xx += 1
                return .failed
            }
            storage.recordings[index].isDeleted = true
            storage.recordings[index].updatedAtMilliseconds = Timestamp.nowMilliseconds()
            storage.counters.deletes += 1
            return .deleted
        }
    }
}
