public import Foundation

/// Finds executables built next to the test bundle (`.build/<config>/`).
public enum ExecutableLocator {
    /// The URL of the built product `name`, such as `userplane-archiver`.
    public static func url(of name: String) -> URL {
        productsDirectory.appendingPathComponent(name)
    }

    /// The directory holding the built products.
    public static var productsDirectory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test runner is `<products>/<Package>PackageTests.xctest`.
        if url.pathExtension == "xctest" { url.deleteLastPathComponent() }
        return url
    }
}
