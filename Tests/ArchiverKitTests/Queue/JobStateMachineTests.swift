import ArchiverKit
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct JobStateMachineTests {
    private static let now = Date(timeIntervalSince1970: 1_700_000_000)

    private static let events: [JobStateMachine.Event] = [
        .claimed, .listingConfirmed, .downloadStarted, .resourcesDownloaded, .packed,
        .deferred(reason: "pending"), .failed(reason: "boom", isRetryable: true),
        .failed(reason: "bad", isRetryable: false), .gone(reason: "410"), .leaseExpired, .released, .requeued,
    ]

    /// The complete transition table; every (state, event) pair not listed must be rejected.
    private static let legal: [JobState: [String: JobState]] = [
        .queued: [
            "claimed": .queued, "listingConfirmed": .listingConfirmed, "deferred": .deferred, "failed": .failed,
            "failedFatal": .failedPermanently, "gone": .gone, "leaseExpired": .queued, "released": .queued,
        ],
        .listingConfirmed: [
            "downloadStarted": .downloading, "resourcesDownloaded": .packing, "deferred": .deferred,
            "failed": .failed, "failedFatal": .failedPermanently, "gone": .gone, "leaseExpired": .queued,
            "released": .queued,
        ],
        .downloading: [
            "downloadStarted": .downloading, "resourcesDownloaded": .packing, "deferred": .deferred,
            "failed": .failed, "failedFatal": .failedPermanently, "gone": .gone, "leaseExpired": .queued,
            "released": .queued,
        ],
        .packing: [
            "packed": .archived, "failed": .failed, "failedFatal": .failedPermanently, "gone": .gone,
            "leaseExpired": .queued, "released": .queued,
        ],
        .archived: [:],
        .deferred: ["claimed": .queued],
        .failed: ["claimed": .queued],
        .failedPermanently: ["requeued": .queued],
        .gone: [:],
    ]

    private static func key(_ event: JobStateMachine.Event) -> String {
        if case .failed(_, false) = event { return "failedFatal" }
        return event.name
    }

    @Test(arguments: JobState.allCases)
    func everyEventInEveryStateFollowsTheTable(state: JobState) throws {
        let table = try #require(Self.legal[state])
        for event in Self.events {
            var machine = JobStateMachine(state: state, attempts: 1)
            if let expected = table[Self.key(event)] {
                _ = try machine.handle(event, now: Self.now)
                #expect(machine.state == expected, "\(state) + \(event.name)")
            } else {
                let error = try #require(throws: JobStateMachine.TransitionError.self) {
                    try machine.handle(event, now: Self.now)
                }
                #expect(error.state == state && error.event == event.name)
                #expect(machine.state == state, "a rejected event changes nothing")
                #expect(machine.attempts == 1)
            }
        }
    }

    @Test func happyPathReturnsTheWorkersNextActions() throws {
        var machine = JobStateMachine()
        #expect(try machine.handle(.claimed, now: Self.now) == .confirmRecording)
        #expect(try machine.handle(.listingConfirmed, now: Self.now) == .downloadResources)
        #expect(try machine.handle(.downloadStarted, now: Self.now) == .continueDownloading)
        #expect(try machine.handle(.resourcesDownloaded, now: Self.now) == .pack)
        #expect(try machine.handle(.packed, now: Self.now) == .finished)
        #expect(machine.state == .archived)
        #expect(machine.attempts == 0)
    }

    @Test func retryableFailuresBackOffExponentiallyUntilMaxAttempts() throws {
        var configuration = JobStateMachine.Configuration()
        configuration.maxAttempts = 4
        configuration.retryBaseDelay = .seconds(10)
        configuration.retryMaxDelay = .seconds(25)
        var machine = JobStateMachine(configuration: configuration)
        var expectedDelays: [TimeInterval] = [10, 20, 25]
        while !expectedDelays.isEmpty {
            _ = try machine.handle(.claimed, now: Self.now)
            let action = try machine.handle(.failed(reason: "503", isRetryable: true), now: Self.now)
            let delay = expectedDelays.removeFirst()
            #expect(action == .retry(at: Self.now.addingTimeInterval(delay)))
            #expect(machine.state == .failed)
            #expect(machine.nextAttemptAt == Self.now.addingTimeInterval(delay))
            #expect(machine.lastError == "503")
        }
        _ = try machine.handle(.claimed, now: Self.now)
        #expect(machine.nextAttemptAt == nil)
        #expect(try machine.handle(.failed(reason: "503", isRetryable: true), now: Self.now) == .giveUp)
        #expect(machine.state == .failedPermanently)
        #expect(machine.attempts == 4)
        #expect(try machine.handle(.requeued, now: Self.now) == .requeue)
        #expect(machine.attempts == 0)
    }

    @Test func nonRetryableFailureIsPermanentAtOnce() throws {
        var machine = JobStateMachine(state: .downloading)
        #expect(try machine.handle(.failed(reason: "403 denied", isRetryable: false), now: Self.now) == .giveUp)
        #expect(machine.state == .failedPermanently)
        #expect(machine.attempts == 1)
    }

    @Test func deferralAndLeaseExpiryDoNotCountAsAttempts() throws {
        var machine = JobStateMachine(state: .downloading, attempts: 2)
        #expect(try machine.handle(.leaseExpired, now: Self.now) == .requeue)
        _ = try machine.handle(.claimed, now: Self.now)
        #expect(try machine.handle(.deferred(reason: "pending"), now: Self.now) == .wait)
        #expect(machine.deferredAt == Self.now)
        #expect(machine.attempts == 2)
    }

    /// The fields beside the state: a finished job keeps no stale error, a re-claimed job no stale retry time or
    /// deferral stamp, and a deferral or a gone recording says why.
    @Test func transitionsKeepTheSideFieldsTruthful() throws {
        var machine = JobStateMachine()
        _ = try machine.handle(.claimed, now: Self.now)
        _ = try machine.handle(.failed(reason: "503", isRetryable: true), now: Self.now)
        #expect(machine.nextAttemptAt != nil)
        _ = try machine.handle(.claimed, now: Self.now)
        #expect(machine.nextAttemptAt == nil && machine.lastError == "503")
        _ = try machine.handle(.deferred(reason: "pending"), now: Self.now)
        #expect(machine.lastError == "pending" && machine.deferredAt == Self.now)
        _ = try machine.handle(.claimed, now: Self.now)
        #expect(machine.deferredAt == nil)
        for event in [JobStateMachine.Event.listingConfirmed, .downloadStarted, .resourcesDownloaded, .packed] {
            _ = try machine.handle(event, now: Self.now)
        }
        #expect(machine.state == .archived && machine.lastError == nil && machine.attempts == 1)

        var gone = JobStateMachine(state: .downloading)
        #expect(try gone.handle(.gone(reason: "410 RECORDING_GONE"), now: Self.now) == .discard)
        #expect(gone.lastError == "410 RECORDING_GONE" && gone.attempts == 0)
    }

    @Test func retryDelayIsCappedWithoutOverflow() {
        let configuration = JobStateMachine.Configuration()
        #expect(configuration.retryDelay(afterAttempt: 1) == .seconds(30))
        #expect(configuration.retryDelay(afterAttempt: 2) == .seconds(60))
        #expect(configuration.retryDelay(afterAttempt: 10_000) == configuration.retryMaxDelay)
    }
}
