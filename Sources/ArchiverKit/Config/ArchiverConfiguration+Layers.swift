extension ArchiverConfiguration {
    /// The built-in defaults, the lowest layer: `base_url`, `api_rate`, `api_daily_budget`,
    /// `concurrency`, `listing_overlap` and `full_listing_every` from ``ArchiverDefaults``; everything
    /// else unset.
    package static var defaults: ArchiverConfiguration {
        var defaults = ArchiverConfiguration()
        defaults.baseURL = ArchiverDefaults.baseURL
        defaults.apiRate = ArchiverDefaults.apiRequestsPerMinute
        defaults.apiDailyBudget = ArchiverDefaults.apiDailyBudget
        defaults.concurrency = ArchiverDefaults.concurrency
        defaults.listingOverlap = try? RetentionDuration(value: ArchiverDefaults.listingOverlapHours, unit: .hours)
        defaults.fullListingEvery = try? RetentionDuration(value: ArchiverDefaults.fullListingEveryDays, unit: .days)
        return defaults
    }

    /// The settings the environment gives.
    ///
    /// `USERPLANE_BASE_URL`, `USERPLANE_ARCHIVE_DIR`, `USERPLANE_DATABASE_URL`, `USERPLANE_WORKSPACE_ID` (one workspace, no
    /// filters). Empty variables count as unset. The key (`USERPLANE_API_KEY`) is not a setting
    /// here: it is a secret, read only by the key source.
    ///
    /// - Parameter environment: The process environment.
    package init(environment: [String: String]) {
        self.init()
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        baseURL = value("USERPLANE_BASE_URL")
        archiveRoot = value("USERPLANE_ARCHIVE_DIR")
        databaseURL = value("USERPLANE_DATABASE_URL")
        if let workspace = value("USERPLANE_WORKSPACE_ID") { workspaces = [Workspace(id: workspace)] }
    }

    /// Each setting from `self` when set, otherwise from `lower`.
    ///
    /// Workspaces are taken as a whole: a layer that names any workspace replaces the lower
    /// layer's list (with its filters). Build the effective settings as
    /// `flags.layered(over: environment.layered(over: file.layered(over: .defaults)))`.
    ///
    /// - Parameter lower: The layer of lower precedence.
    /// - Returns: The merged settings.
    package func layered(over lower: ArchiverConfiguration) -> ArchiverConfiguration {
        var merged = lower
        merged.sourcePath = sourcePath ?? lower.sourcePath
        merged.baseURL = baseURL ?? lower.baseURL
        merged.apiKeyFile = apiKeyFile ?? lower.apiKeyFile
        merged.archiveRoot = archiveRoot ?? lower.archiveRoot
        merged.caBundle = caBundle ?? lower.caBundle
        merged.databaseURL = databaseURL ?? lower.databaseURL
        merged.apiRate = apiRate ?? lower.apiRate
        merged.apiDailyBudget = apiDailyBudget ?? lower.apiDailyBudget
        merged.concurrency = concurrency ?? lower.concurrency
        merged.metricsFile = metricsFile ?? lower.metricsFile
        merged.listingOverlap = listingOverlap ?? lower.listingOverlap
        merged.fullListingEvery = fullListingEvery ?? lower.fullListingEvery
        merged.maxBlobSize = maxBlobSize ?? lower.maxBlobSize
        merged.stallTimeout = stallTimeout ?? lower.stallTimeout
        merged.minTransferSpeed = minTransferSpeed ?? lower.minTransferSpeed
        merged.directIO = directIO ?? lower.directIO
        merged.group = group ?? lower.group
        merged.stateDir = stateDir ?? lower.stateDir
        merged.objectLock = objectLock ?? lower.objectLock
        merged.retainFor = retainFor ?? lower.retainFor
        merged.workspaces = workspaces.isEmpty ? lower.workspaces : workspaces
        merged.retention.keepWithin = retention.keepWithin ?? lower.retention.keepWithin
        merged.retention.deleteRemoteOlderThan =
            retention.deleteRemoteOlderThan ?? lower.retention.deleteRemoteOlderThan
        merged.retention.maxDelete = retention.maxDelete ?? lower.retention.maxDelete
        return merged
    }
}
