import ArchiverKit
import Foundation
import Testing

/// `stall_timeout`, `min_transfer_speed` and `direct_io`: parsed and bounded the same way from the file and the
/// command line, layered flag over file over default, and set on the downloader of every queue.
@Suite struct TransferTuningTests {
    static func parseError(_ text: String) -> ConfigurationError? {
        ArchiverConfigurationFileTests.parseError(text)
    }

    /// The downloader configuration a run uses with `settings` (flags layered over the file over the defaults).
    static func downloader(_ settings: ArchiverConfiguration) -> Downloader.Configuration {
        var downloader = Downloader.Configuration()
        ArchiveRun.applyTransferSettings(settings.layered(over: .defaults), to: &downloader)
        return downloader
    }

    @Test func stallTimeoutTakesSecondsToAnHour() {
        #expect(TransferTuning.stallTimeout(parsing: "1s") == .seconds(1))
        #expect(TransferTuning.stallTimeout(parsing: "30s") == .seconds(30))
        #expect(TransferTuning.stallTimeout(parsing: "2m") == .seconds(120))
        #expect(TransferTuning.stallTimeout(parsing: "1h") == .seconds(3600))
        #expect(TransferTuning.stallTimeout(parsing: "3601s") == nil, "over an hour")
        #expect(TransferTuning.stallTimeout(parsing: "2h") == nil)
        #expect(TransferTuning.stallTimeout(parsing: "0s") == nil)
        #expect(TransferTuning.stallTimeout(parsing: "1mo") == nil)
        #expect(TransferTuning.stallTimeout(parsing: "60") == nil, "the unit is required")
        #expect(TransferTuning.stallTimeout(parsing: "-5s") == nil)
    }

    @Test func minimumSpeedTakesZeroBytesOrAUnitPerSecond() {
        #expect(TransferTuning.minimumSpeed(parsing: "0") == 0)
        #expect(TransferTuning.minimumSpeed(parsing: "0/s") == 0)
        #expect(TransferTuning.minimumSpeed(parsing: "2048") == 2048)
        #expect(TransferTuning.minimumSpeed(parsing: "10KiB") == 10 << 10)
        #expect(TransferTuning.minimumSpeed(parsing: "10KiB/s") == 10 << 10)
        #expect(TransferTuning.minimumSpeed(parsing: "1GiB") == 1 << 30)
        #expect(TransferTuning.minimumSpeed(parsing: "2GiB") == nil, "above 1 GiB/s")
        #expect(TransferTuning.minimumSpeed(parsing: "fast") == nil)
        #expect(TransferTuning.minimumSpeed(parsing: "-1") == nil)
        #expect(TransferTuning.minimumSpeed(parsing: "") == nil)
    }

    @Test func theFileSetsEachKey() throws {
        let text = """
            stall_timeout = "15s"
            min_transfer_speed = "8KiB"
            direct_io = false
            """
        let file = try ArchiverConfiguration(parsing: text, path: "c.toml")
        #expect(file.stallTimeout == .seconds(15))
        #expect(file.minTransferSpeed == 8 << 10)
        #expect(file.directIO == false)
        let integer = try ArchiverConfiguration(parsing: "min_transfer_speed = 0\ndirect_io = true", path: "c.toml")
        #expect(integer.minTransferSpeed == 0)
        #expect(integer.directIO == true)
    }

    @Test func theFileRefusesValuesOutOfBoundsSayingWhatIsAllowed() throws {
        let long = try #require(Self.parseError("stall_timeout = \"2h\""))
        #expect(long.code == .invalidValue)
        #expect(long.key == "stall_timeout")
        #expect(long.message.contains("between 1s and 1h"), "\(long.message)")
        #expect(Self.parseError("stall_timeout = \"0s\"")?.code == .invalidValue)
        #expect(Self.parseError("stall_timeout = 60")?.code == .wrongType)
        let fast = try #require(Self.parseError("min_transfer_speed = \"2GiB\""))
        #expect(fast.code == .invalidValue)
        #expect(fast.message.contains("0 turns the check off"), "\(fast.message)")
        #expect(Self.parseError("min_transfer_speed = -1")?.code == .invalidValue)
        #expect(Self.parseError("min_transfer_speed = true")?.code == .wrongType)
        let direct = try #require(Self.parseError("direct_io = \"no\""))
        #expect(direct.code == .wrongType)
        #expect(direct.message.contains("true or false"), "\(direct.message)")
    }

    @Test func flagBeatsFileBeatsDefault() throws {
        let file = try ArchiverConfiguration(
            parsing: "stall_timeout = \"15s\"\nmin_transfer_speed = \"8KiB\"\ndirect_io = false",
            path: "c.toml"
        )
        var flags = ArchiverConfiguration()
        flags.stallTimeout = .seconds(2)
        flags.minTransferSpeed = 0
        flags.directIO = true

        let fromFlags = Self.downloader(flags.layered(over: file))
        #expect(fromFlags.stallTimeout == .seconds(2))
        #expect(fromFlags.minimumBytesPerSecond == 0)
        #expect(fromFlags.directWriteBufferBytes == Downloader.Configuration().directWriteBufferBytes)
        #expect(fromFlags.directWriteBufferBytes == 512 << 10)

        let fromFile = Self.downloader(ArchiverConfiguration().layered(over: file))
        #expect(fromFile.stallTimeout == .seconds(15))
        #expect(fromFile.minimumBytesPerSecond == 8 << 10)
        #expect(fromFile.directWriteBufferBytes == 0)
        #expect(fromFile.minimumSpeedWindow == .seconds(120), "the window stays")

        let defaults = Self.downloader(ArchiverConfiguration())
        #expect(defaults.stallTimeout == .seconds(60))
        #expect(defaults.minimumBytesPerSecond == 1024)
        #expect(defaults.directWriteBufferBytes == 512 << 10)
    }
}
