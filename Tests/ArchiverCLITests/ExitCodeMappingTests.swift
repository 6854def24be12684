import ArchiverKit
import Testing

@testable import userplane_archiver

/// The one table from ``RunOutcome`` to exit codes (product.md §4, §10; README "Exit codes"), in process.
@Suite struct ExitCodeMappingTests {
    static let documented: [(RunOutcome, Int32)] = [
        (.completed, 0), (.failed, 1), (.partialFailure, 3), (.verificationFailed, 4), (.usageError, 64),
        (.catalogUnreadable, 65), (.locked, 75), (.interrupted, 130),
    ]

    @Test(arguments: documented)
    func outcomeMapsToItsDocumentedCode(outcome: RunOutcome, code: Int32) {
        #expect(ExitCodes.code(for: outcome) == code)
    }

    @Test func everyOutcomeIsDocumented() {
        #expect(Set(Self.documented.map(\.0)) == Set(RunOutcome.allCases))
        #expect(Set(RunOutcome.allCases.map(ExitCodes.code(for:))).count == RunOutcome.allCases.count)
    }

    @Test func errorsMapToTheirOutcomes() {
        let locked = ExitCodes.describe(QueueError(code: .alreadyRunning, message: "held by pid 1"))
        #expect(locked.0 == .locked && locked.1 == "held by pid 1")
        let corrupt = ExitCodes.describe(StoreError(code: .corrupt, message: "state.sqlite is damaged"))
        #expect(corrupt.0 == .catalogUnreadable)
        let missing = ExitCodes.describe(StoreError(code: .catalogMissing, message: "state.sqlite is missing"))
        #expect(missing.0 == .catalogUnreadable)
        let key = ExitCodes.describe(APIError(code: .apiKeyInvalid, status: 401, message: "invalid"))
        #expect(key.0 == .failed && key.1.contains("USERPLANE_API_KEY"))
        #expect(ExitCodes.describe(CLIError("bad")).0 == .failed)
    }

    /// A multi-workspace run exits with the worst outcome: interrupted, failed, partial, then any other.
    @Test func combinedOutcomeIsTheWorst() {
        #expect(RunOutcome.combined([]) == .completed)
        #expect(RunOutcome.combined([.completed, .completed]) == .completed)
        #expect(RunOutcome.combined([.partialFailure, .failed, .completed]) == .failed)
        #expect(RunOutcome.combined([.failed, .interrupted]) == .interrupted)
        #expect(RunOutcome.combined([.completed, .partialFailure]) == .partialFailure)
        #expect(RunOutcome.combined([.completed, .verificationFailed, .locked]) == .verificationFailed)
    }
}
