import Foundation
import Testing

@testable import ArchiverKit

/// The one transition function every store engine persists: state machine plus lease rules.
@Suite struct JobTransitionTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)

    static func leased(_ state: JobState) -> Job {
        Job(
            id: 7,
            kind: .archive,
            workspaceID: "ws_1",
            recordingID: "rec_1",
            recordingCreatedAt: now,
            state: state,
            attempts: 1,
            lastError: nil,
            nextAttemptAt: nil,
            deferredAt: nil,
            leaseOwner: "w",
            leaseExpiresAt: now.addingTimeInterval(60),
            knownSizeBytes: nil,
            enqueuedAt: now,
            updatedAt: now
        )
    }

    @Test func aFailureUsesTheCallersRetryRulesAndDropsTheLease() throws {
        var rules = JobStateMachine.Configuration()
        rules.retryBaseDelay = .seconds(7)
        var job = Self.leased(.downloading)
        let action = try job.apply(.failed(reason: "503", isRetryable: true), now: Self.now, configuration: rules)
        #expect(action == .retry(at: Self.now.addingTimeInterval(14)))
        #expect(job.state == .failed && job.attempts == 2 && job.nextAttemptAt == Self.now.addingTimeInterval(14))
        #expect(job.lease == nil && job.updatedAt == Self.now)
    }

    @Test func progressKeepsTheLeaseAndReleaseDropsIt() throws {
        var job = Self.leased(.queued)
        _ = try job.apply(.listingConfirmed, now: Self.now)
        #expect(job.lease == JobLease(jobID: 7, owner: "w", expiresAt: Self.now.addingTimeInterval(60)))
        _ = try job.apply(.released, now: Self.now)
        #expect(job.state == .queued && job.lease == nil)
    }

    @Test func theStoresOwnEventsNeverApplyAFailureWithDefaultRules() {
        var job = Self.leased(.downloading)
        let error = #expect(throws: StoreError.self) {
            try job.apply(.failed(reason: "503", isRetryable: true), now: Self.now)
        }
        #expect(error?.code == .illegalTransition)
        #expect(job == Self.leased(.downloading))
    }
}
