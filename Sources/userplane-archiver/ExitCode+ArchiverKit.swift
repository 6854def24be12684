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

    /// The outcome and message of an error that ended a command: ArchiverKit's one classification
    /// (``RunOutcome/failure(_:)``), plus the command line's own errors.
    static func describe(_ error: any Error) -> (RunOutcome, String) {
        if let error = error as? CLIError { return (.failed, error.description) }
        let failure = RunOutcome.failure(error)
        return (failure.outcome, failure.message)
    }
}
