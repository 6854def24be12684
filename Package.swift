// swift-tools-version:6.2
import PackageDescription

var swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]
// Scripts/soundness.sh sets this: warnings in our targets (not in dependencies) fail the build.
if Context.environment["USERPLANE_WARNINGS_AS_ERRORS"] == "1" {
    swiftSettings.append(.treatAllWarnings(as: .error))
}

// Release builds on Linux link the Swift runtime and Foundation statically (link step only, with the toolchain's
// lld; the compiled objects are the same as for a dynamic build): about 3 MiB less peak RSS (README, Memory), and
// the binary runs without the toolchain. lld resolves the static archives in any order; the Foundation archives are
// named because objects compiled for dynamic linking do not ask for their static dependencies.
// `--no-export-dynamic` undoes the toolchain's `-export-dynamic` for static binaries (nothing loads symbols from the
// executable; crash backtraces read its symbol table): the 44,000 exported symbols cost 2.7 MiB of .dynsym/.dynstr/
// .gnu.hash paged in at every start. `-z pack-relative-relocs` (DT_RELR, glibc 2.36+) shrinks .rela.dyn from 2.9 MiB,
// read in full by the dynamic loader, to 45 KiB. Together about 5.4 MiB less peak RSS (README, Memory).
// Linker/userplane-archiver.order (Scripts/update-link-order.sh) puts the functions that download and archive run
// first in .text, so they share a few MiB of pages instead of touching 16 MiB: about 6.7 MiB less peak RSS. Only the
// layout changes; names missing from the binary are ignored.
let staticRuntimeInRelease: [LinkerSetting] = [
    .unsafeFlags(
        [
            "-static-stdlib", "-use-ld=lld",
            "-lFoundation", "-lFoundationEssentials", "-lFoundationInternationalization", "-l_FoundationICU",
            "-l_FoundationCollections", "-l_FoundationCShims", "-lCoreFoundation", "-lswiftDispatch", "-ldispatch",
            "-lBlocksRuntime", "-lswiftSynchronization",
            "-Xlinker", "--no-export-dynamic", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
            "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Linker/userplane-archiver.order",
            "-Xlinker", "--no-warn-symbol-ordering",
        ],
        .when(platforms: [.linux], configuration: .release)
    )
]

let package = Package(
    name: "userplane-archiver",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex/Atomic; irrelevant on Linux
    products: [
        .executable(name: "userplane-archiver", targets: ["userplane-archiver"]),
        .executable(name: "userplane-sim", targets: ["userplane-sim"]),
        .executable(name: "archiver-bench", targets: ["archiver-bench"]),
        .library(name: "ArchiverKit", targets: ["ArchiverKit"]),
        .library(name: "UserplaneSimulator", targets: ["UserplaneSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),  // config file (issue 8)
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),  // shared state (issue 15)
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.25.0"),  // postgres-nio's TLS settings
        // Simulator and tests only; never linked into userplane-archiver.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0", traits: []),
    ],
    targets: [
        .systemLibrary(name: "CLibCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // SHA-256/SHA-512 via OpenSSL 3's EVP (faster here than swift-crypto; see HashState.swift).
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // glibc's mallopt for userplane-archiver's entry point (no library to link).
        .systemLibrary(name: "CMalloc"),
        .target(
            name: "ArchiverKit",
            dependencies: [
                "CLibCurl", "CLibArchive", "COpenSSL",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(  // the PostgreSQL engine of the store (issue 15); keeps NIO out of ArchiverKit
            name: "ArchiverPostgres",
            dependencies: [
                "ArchiverKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "userplane-archiver",
            dependencies: [
                "ArchiverKit", "ArchiverPostgres", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: staticRuntimeInRelease
        ),
        .executableTarget(  // drives ArchiverKit subsystems for Scripts/bench-*.sh; not installed
            name: "archiver-bench",
            dependencies: [
                "ArchiverKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: staticRuntimeInRelease  // measured as the shipped binary is linked
        ),
        .target(
            name: "UserplaneSimulator",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "userplane-sim",
            dependencies: [
                "UserplaneSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(  // test support, not a product (argument-parser's ArgumentParserTestHelpers pattern)
            name: "ArchiverTestSupport",
            dependencies: [
                "UserplaneSimulator",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ArchiverKitTests",
            dependencies: [
                "ArchiverKit", "ArchiverPostgres", "ArchiverTestSupport", "UserplaneSimulator",
                .product(name: "GRDB", package: "GRDB.swift"),  // StoredDateTests: rows as GRDB itself wrote them
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ArchiverPostgresTests",
            dependencies: [
                "ArchiverKit", "ArchiverPostgres", "ArchiverTestSupport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UserplaneSimulatorTests",
            dependencies: [
                "UserplaneSimulator", "ArchiverTestSupport", "ArchiverKit",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ArchiverCLITests",
            dependencies: [
                "userplane-archiver", "userplane-sim", "ArchiverTestSupport", "UserplaneSimulator",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
