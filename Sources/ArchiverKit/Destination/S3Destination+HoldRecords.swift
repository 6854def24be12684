package import Foundation

extension S3Destination {
    /// The folder, relative to the prefix, of the hold records: `.userplane-archiver/holds/`.
    package static let holdRecordsFolder = ArchiveStore.stateDirectoryName + "/holds/"
    /// The largest hold record read or written (one event: ids, operator, reason, time).
    package static let maximumHoldRecordBytes = 64 << 10
    /// The most hold records one rebuild reads; the rest is reported, not read.
    package static let maximumHoldRecords = 200_000

    /// Stores one hold event as its own object, `PREFIX/.userplane-archiver/holds/<UTC time>-<random>.json`: the JSON
    /// line `holds.jsonl` would hold, written with `If-None-Match: *` (never over another record) and, when
    /// ``lock`` is set, the run's Object Lock mode and retain-until, so the record is write-once like the archives.
    ///
    /// - Parameters:
    ///   - entry: The event.
    ///   - now: The upload time the retain-until counts from.
    /// - Returns: The object's key.
    /// - Throws: ``S3Error``; ``S3Error/Code/configuration`` when the event is larger than a hold record may be.
    @discardableResult
    package func putHoldRecord(_ entry: HoldsLog.Entry, now: Date = Date()) async throws -> String {
        let bytes = try HoldsLog.line(entry)
        guard bytes.count <= Self.maximumHoldRecordBytes else {
            throw S3Error(
                code: .configuration,
                message: "the hold event is \(bytes.count) bytes, more than a hold record may hold "
                    + "(\(Self.maximumHoldRecordBytes >> 10) KiB); nothing was changed: shorten --reason and retry"
            )
        }
        // 20260430T125130.123Z-<random>.json: listed in time order; the random part keeps two hosts apart.
        let time = UTCTime.iso8601TruncatedMilliseconds(entry.at).filter { $0 != "-" && $0 != ":" }
        let name = time + "-" + String(UInt64.random(in: .min ... .max), radix: 16) + ".json"
        let key = location.key(Self.holdRecordsFolder + name)
        let objectLock = lock.map {
            S3ObjectLock(mode: $0.mode, retainUntil: now.addingTimeInterval(Double($0.retainFor.components.seconds)))
        }
        _ = try await client.putOnce(key, bytes: bytes, contentType: "application/json", lock: objectLock)
        return key
    }

    /// Reads the hold records among `listing` (one listing of the prefix), in time order (ties in key order).
    ///
    /// The objects come from a bucket that may have been tampered with: at most ``maximumHoldRecords`` are read,
    /// each at most ``maximumHoldRecordBytes``; one that is larger, not a hold event, or cannot be replayed as
    /// written (``HoldsLog/Entry/replayProblem``) is skipped and described in `skipped` (its key escaped; the first
    /// ``ArchiveStore/RebuildReport/maximumSkippedDescriptions``, then one line counting the rest), never replayed.
    ///
    /// - Throws: ``S3Error`` when an object cannot be read (a rebuild must not lose a hold to a network error).
    func readHoldRecords(in listing: [S3ListedObject]) async throws -> (entries: [HoldsLog.Entry], skipped: [String]) {
        let folder = location.key(Self.holdRecordsFolder)
        var found: [(key: String, entry: HoldsLog.Entry)] = []
        var skipped: [String] = []
        var beyond = 0
        func skip(_ description: String) {
            if skipped.count < ArchiveStore.RebuildReport.maximumSkippedDescriptions {
                skipped.append(description)
            } else {
                beyond += 1
            }
        }
        let records = listing.filter { $0.key.hasPrefix(folder) }
        for (index, object) in records.enumerated() {
            let name = SafeText.printable(describe(location.relativePath(ofKey: object.key) ?? object.key))
            guard index < Self.maximumHoldRecords else {
                skipped.append(
                    "\(records.count - index) hold record(s) beyond the first \(Self.maximumHoldRecords) were not "
                        + "read (far more than any archive's holds: inspect \(describe(Self.holdRecordsFolder)))"
                )
                break
            }
            guard object.size <= Self.maximumHoldRecordBytes else {
                skip("\(name) is \(object.size) bytes, larger than any hold record; it was not read")
                continue
            }
            guard let bytes = try await client.getSmall(object.key) else {
                skip("\(name) was listed but is gone")
                continue
            }
            guard bytes.count <= Self.maximumHoldRecordBytes else {
                skip("\(name) is \(bytes.count) bytes, larger than any hold record; it was not replayed")
                continue
            }
            guard let entry = HoldsLog.entry(decoding: bytes) else {
                skip(
                    "\(name) is not a hold record (one JSON object with action, recordingId, operator and at); "
                        + "it was not replayed"
                )
                continue
            }
            if let problem = entry.replayProblem {
                skip("\(name) \(problem); it was not replayed")
                continue
            }
            found.append((object.key, entry))
        }
        found.sort { $0.entry.at != $1.entry.at ? $0.entry.at < $1.entry.at : $0.key < $1.key }
        if beyond > 0 { skipped.append("and \(beyond) more hold record(s) skipped (only the first ones are listed)") }
        return (found.map(\.entry), skipped)
    }
}
