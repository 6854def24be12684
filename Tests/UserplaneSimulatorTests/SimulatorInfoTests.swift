import Testing
import UserplaneSimulator

@Suite struct SimulatorInfoTests {
    @Test func servesUnderTheVersionedBasePath() {
        #expect(UserplaneSimulatorInfo.apiBasePath == "/api/v1")
    }
}
