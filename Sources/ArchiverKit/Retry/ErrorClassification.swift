// The one classification of failures (issue 11): whether a request or a job is tried again, how a
// failure is described, and which outcome it gives a command. Retry loops (``APIClient``,
// ``Downloader``), the queue and the command line all ask here.

extension RetryPolicy {
    /// Whether one request may succeed if sent again: the one classification every retry loop uses.
    ///
    /// ``APIError/isRetryable`` (HTTP 429, 500, 502, 503, 504) and ``TransferError/isRetryable``
    /// (connection failures, timeouts, stalls, truncation, 408/429/5xx); anything else, cancellation
    /// included, is final.
    ///
    /// - Parameter error: The failure of one attempt.
    /// - Returns: Whether to try the same request again.
    public static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let error as APIError: return error.isRetryable
        case let error as TransferError: return error.isRetryable
        default: return false
        }
    }

    /// Whether a blob request may succeed if sent again: ``isRetryable(_:)``, and also a 403 from the
    /// blob host that persisted after the presigned URL was resolved again (the next attempt resolves
    /// once more).
    ///
    /// - Parameter error: The failure of one download attempt.
    /// - Returns: Whether the download tries again.
    package static func isRetryableDownload(_ error: TransferError) -> Bool {
        isRetryable(error) || (error.code == .httpStatus && error.httpStatus == 403)
    }

    /// Whether a recording whose processing failed is worth another attempt later (the job level).
    ///
    /// Wider than ``isRetryable(_:)``: a failed job is retried by a later attempt or run (up to the job
    /// state machine's attempt limit), so an API failure without a response, any blob HTTP status, a
    /// size or digest mismatch, an I/O error and a full disk all count; an API refusal does not, nor a link (or a
    /// file) planted where the archive's folder should be (``PrivateFile/UnsafePath/needsOperator``): only an
    /// operator can remove it, so the job fails for this run at once instead of waiting for retries, and the next
    /// run (which re-queues failed jobs) archives it once the path is fixed.
    ///
    /// - Parameter error: What stopped the job.
    /// - Returns: Whether the job goes back to the queue.
    package static func isRetryableJob(_ error: any Error) -> Bool {
        switch error {
        case let error as APIError: return error.isRetryable || error.status == nil
        case let error as TransferError:
            return error.isRetryable || error.code == .httpStatus || error.code == .sizeMismatch
                || error.code == .diskFull
        case let error as PrivateFile.UnsafePath: return !error.needsOperator
        case let error as PackingError:
            if let cause = error.cause as? PrivateFile.UnsafePath, cause.needsOperator { return false }
            return error.code == .digestMismatch || error.code == .sizeMismatch || error.code == .io
                || error.code == .diskFull
        case let error as S3Error: return !error.stopsRun && error.code != .invalidRequest
        default: return true
        }
    }

    /// Added to the reason of a job failed by ``PrivateFile/UnsafePath/needsOperator``.
    private static let notRetriedNote =
        "; not retried in this run: the next run archives the recording once the path is fixed"

    /// A job failure in words, capped (``SafeText/maximumStoredBytes``) and escaped, as stored in the
    /// queue and printed in the run report.
    ///
    /// - Parameter error: What stopped the job.
    /// - Returns: One printable line.
    package static func describe(_ error: any Error) -> String {
        let raw: String
        switch error {
        case let error as APIError: raw = "\(error.code): \(error.message)"
        case let error as TransferError: raw = error.description
        case let error as PackingError:
            if let cause = error.cause as? PrivateFile.UnsafePath, cause.needsOperator {
                raw = cause.message + Self.notRetriedNote
            } else {
                raw = error.description
            }
        case let error as StoreError: raw = error.description
        case let error as S3Error: raw = error.message
        case let error as PrivateFile.UnsafePath where error.needsOperator:
            raw = error.message + Self.notRetriedNote
        default: raw = String(describing: error)
        }
        return SafeText.printable(raw)
    }
}

extension RunOutcome {
    /// The outcome of a command that `error` stopped, and a message that says what happened and what
    /// to do (product.md §10).
    ///
    /// A held archive root is ``RunOutcome/locked``; a missing, empty or damaged catalog next to
    /// archives is ``RunOutcome/catalogUnreadable``; everything else is ``RunOutcome/failed``.
    ///
    /// - Parameter error: The error that ended the command.
    /// - Returns: The outcome and the message (without the `error:` prefix).
    package static func failure(_ error: any Error) -> (outcome: RunOutcome, message: String) {
        switch error {
        case let error as APIError where error.stopsRun:
            return (
                .failed,
                "the API refused the key (\(error.code)): \(error.message) — check USERPLANE_API_KEY or --api-key-file"
            )
        case let error as APIError:
            return (.failed, "API error \(error.code)\(error.status.map { " (HTTP \($0))" } ?? ""): \(error.message)")
        case let error as TransferError:
            return (
                .failed, "cannot reach the API: \(error.message) — check --base-url, the network and any proxy settings"
            )
        case let error as QueueError where error.code == .alreadyRunning:
            return (.locked, error.message)
        case let error as QueueError:
            return (.failed, error.message)
        case let error as StoreError
        where error.code == .catalogMissing || error.code == .corrupt || error.code == .newerSchema:
            return (.catalogUnreadable, error.description)
        case let error as StoreError:
            return (.failed, error.description)
        case let error as PackingError:
            return (.failed, error.description)
        case let error as RetentionError:
            return (.failed, error.message)
        case let error as ConfigurationError:
            return (.failed, "configuration file \(error.description)")
        case let error as S3Error:
            return (.failed, error.message)
        default:
            return (.failed, String(describing: error))
        }
    }
}
