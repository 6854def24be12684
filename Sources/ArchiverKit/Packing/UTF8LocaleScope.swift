internal import CLibArchive
import Foundation

/// A thread-local `C.UTF-8` `LC_CTYPE` locale installed around libarchive header calls.
///
/// Swift never calls `setlocale`, so the process runs in the "C" locale, where libarchive 3.6's pax
/// writer crashes (`strlen(NULL)`) on a non-ASCII UTF-8 path and its reader refuses to convert one.
/// `setlocale(LC_ALL, "")` is no fix under `env -i`. `uselocale` changes only the calling thread, so
/// this is safe with other threads running (house-style gotcha 1).
///
/// - Important: Owned by one handle and used only on the thread that currently drives that handle.
final class UTF8LocaleScope {
    private let locale: locale_t?

    init() {
        let mask = clibarchive_lc_ctype_mask()
        locale = newlocale(mask, "C.UTF-8", nil) ?? newlocale(mask, "C.utf8", nil)
    }

    deinit {
        if let locale { freelocale(locale) }
    }

    /// Runs `body` with the UTF-8 locale installed on this thread, then restores the previous one.
    func run<Value>(_ body: () throws -> Value) rethrows -> Value {
        guard let locale else { return try body() }
        let previous = uselocale(locale)
        defer { uselocale(previous) }
        return try body()
    }
}
