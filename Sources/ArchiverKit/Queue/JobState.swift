/// The life-cycle state of a ``Job`` (product.md §8).
///
/// `queued → listing-confirmed → downloading → packing → archived`, or `deferred`, `failed`
/// (a retry is scheduled), `failed-permanently` (attempts exhausted or not retryable) and `gone`.
package struct JobState: Hashable, Sendable, CustomStringConvertible, CaseIterable {
    /// The value stored in the `jobs.state` column.
    package let rawValue: String

    private init(rawValue: String) { self.rawValue = rawValue }

    /// Waiting to be claimed, or claimed and not yet confirmed by the API.
    package static var queued: Self { Self(rawValue: "queued") }
    /// The recording was fetched and is final; its resources can be downloaded.
    package static var listingConfirmed: Self { Self(rawValue: "listing-confirmed") }
    /// Resources are being downloaded into the staging directory.
    package static var downloading: Self { Self(rawValue: "downloading") }
    /// All resources are staged; the tar is being written.
    package static var packing: Self { Self(rawValue: "packing") }
    /// The archive is written, fsynced and in the catalog (terminal).
    package static var archived: Self { Self(rawValue: "archived") }
    /// The recording is not final yet; a later run picks it up again.
    package static var deferred: Self { Self(rawValue: "deferred") }
    /// The last attempt failed; the job is claimable again from `nextAttemptAt`.
    package static var failed: Self { Self(rawValue: "failed") }
    /// The job failed for good: not retryable, or out of attempts (terminal until re-enqueued).
    package static var failedPermanently: Self { Self(rawValue: "failed-permanently") }
    /// The recording no longer exists upstream (terminal).
    package static var gone: Self { Self(rawValue: "gone") }

    /// Every state, in life-cycle order.
    package static var allCases: [JobState] {
        [.queued, .listingConfirmed, .downloading, .packing, .archived, .deferred, .failed, .failedPermanently, .gone]
    }

    /// Parses a stored value; `nil` for an unknown one.
    package init?(stored: String) {
        guard let state = Self.allCases.first(where: { $0.rawValue == stored }) else { return nil }
        self = state
    }

    /// States in which a worker holds the job under a lease.
    package var isInProgress: Bool {
        self == .listingConfirmed || self == .downloading || self == .packing
    }

    /// States no event leaves (a new `enqueue` may revive ``failedPermanently``).
    package var isTerminal: Bool {
        self == .archived || self == .gone || self == .failedPermanently
    }

    /// The stored value.
    package var description: String { rawValue }
}
