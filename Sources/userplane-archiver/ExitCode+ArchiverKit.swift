import ArchiverKit
import ArgumentParser
import Foundation

/// The one place where errors become exit codes and user-facing messages (product.md §4).
enum ExitCodes {
    static let fatal: Int32 = 1
    static let partial: Int32 = 3
    static let verificationFailed: Int32 = 4
    static let usage: Int32 = 64
    /// The archive root holds archives but its catalog is missing, empty or damaged (EX_DATAERR): nothing was
    /// written; `rebuild-catalog` restores it from the archives.
    static let catalogUnreadable: Int32 = 65
    /// Another process holds the archive root (EX_TEMPFAIL): try again later or pass `--wait-lock`.
    static let locked: Int32 = 75
    static let interrupted: Int32 = 130

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
            let (code, message) = describe(error)
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            throw ExitCode(code)
        }
    }

    static func describe(_ error: any Error) -> (Int32, String) {
        switch error {
        case let error as APIError where error.stopsRun:
            return (
                fatal,
                "the API refused the key (\(error.code)): \(error.message) — check USERPLANE_API_KEY or --api-key-file"
            )
        case let error as APIError:
            return (fatal, "API error \(error.code)\(error.status.map { " (HTTP \($0))" } ?? ""): \(error.message)")
        case let error as TransferError:
            return (
                fatal, "cannot reach the API: \(error.message) — check --base-url, the network and any proxy settings"
            )
        case let error as QueueError where error.code == .alreadyRunning:
            return (locked, error.message)
        case let error as QueueError:
            return (fatal, error.message)
        case let error as StoreError
        where error.code == .catalogMissing || error.code == .corrupt || error.code == .newerSchema:
            return (catalogUnreadable, error.description)
        case let error as StoreError:
            return (fatal, error.description)
        case let error as PackingError:
            return (fatal, error.description)
        case let error as RetentionError:
            return (fatal, error.message)
        case let error as ConfigurationError:
            return (fatal, "configuration file \(error.description)")
        case let error as CLIError:
            return (fatal, error.description)
        default:
            return (fatal, String(describing: error))
        }
    }
}
