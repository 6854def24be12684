import Logging
import Synchronization

/// Bootstraps swift-log once per process, to stderr, at the level the flags ask for.
enum LoggingBootstrap {
    private static let isBootstrapped = Mutex(false)

    static func bootstrap(_ options: GlobalOptions) -> Logger {
        let level = options.effectiveLogLevel
        isBootstrapped.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: "userplane-archiver")
        logger.logLevel = level
        return logger
    }
}
