import ArchiverKit
import ArgumentParser
import Foundation

/// The one place where outcomes and errors become exit codes and user-facing messages (product.md §4, §10).
///
/// ArchiverKit reports a ``RunOutcome``; this table is the only spelling of the exit codes.
enum ExitCodes {
    /// The documented exit code of `outcome`.
    static func code(for outcome: RunOutcome) -> Int32 {
        switch outcome {
        case .completed: return 0
        case .failed: return 1
        case .partialFailure: return 3
        case .verificationFailed: return 4
        case .usageError: return 64
        // The archive root holds archives but its catalog is missing, empty or damaged (EX_DATAERR): nothing was
        // written; `rebuild-catalog` restores it from the archives.
        case .catalogUnreadable: return 65
        // Another process holds the archive root (EX_TEMPFAIL): try again later or pass `--wait-lock`.
        case .locked: return 75
        case .interrupted: return 130
        }
    }

    /// The error that ends the process with `outcome`'s exit code: `ExitCode.success` for a completed one.
    static func exit(_ outcome: RunOutcome) -> ExitCode { ExitCode(code(for: outcome)) }

    /// Throws ``exit(_:)`` unless `outcome` is a success.
    static func exitUnlessSuccessful(_ outcome: RunOutcome) throws {
        if !outcome.isSuccess { throw exit(outcome) }
    }

    /// Runs `body`, printing a clear `error:` line and exiting with the right code for our errors.
    static func mapping(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            let (outcome, message) = describe(error)
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            throw exit(outcome)
        }
    }

    static func describe(_ error: any Error) -> (RunOutcome, String) {
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
        case let error as StoreError where error.code == .catalogMissing || error.code == .corrupt:
            return (.catalogUnreadable, error.description)
        case let error as StoreError:
            return (.failed, error.description)
        case let error as PackingError:
            return (.failed, error.description)
        case let error as RetentionError:
            return (.failed, error.message)
        case let error as ConfigurationError:
            return (.failed, "configuration file \(error.description)")
        case let error as CLIError:
            return (.failed, error.description)
        default:
            return (.failed, String(describing: error))
        }
    }
}
