import ArchiverKit
import ArgumentParser
import Foundation

/// Where the shared state lives when several archivers share it (product.md §11.2): a PostgreSQL URL, or
/// nothing for the archive root's own `state.sqlite`.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Keep the queue, catalog, holds and API pacing in this shared PostgreSQL database instead of the archive "
                + "root's state.sqlite, e.g. postgres://archiver@db.internal/userplane?sslmode=verify-full. "
                + "No password here (every user sees it in ps): use --database-password-file or PGPASSWORD. "
                + "(env: USERPLANE_DATABASE_URL; config: database_url)",
            valueName: "url"
        )
    )
    var database: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "File whose first line is the database role's password (else the URL's, else PGPASSWORD).",
            valueName: "path"
        ),
        completion: .file()
    )
    var databasePasswordFile: String?

    /// The database to use, with its password resolved; `nil` for the archive root's `state.sqlite`.
    ///
    /// - Parameter settings: The layered settings (environment `USERPLANE_DATABASE_URL`, config `database_url`).
    /// - Returns: The URL, or `nil`.
    /// - Throws: `ValidationError` (exit 64) for a password on the command line or a malformed URL.
    func resolved(settings: ArchiverConfiguration) throws -> DatabaseURL? {
        let text: String
        let source: String
        if let database {
            text = database
            source = "--database"
        } else if let fromSettings = settings.databaseURL {
            text = fromSettings
            source = "USERPLANE_DATABASE_URL / database_url"
        } else {
            if databasePasswordFile != nil {
                throw ValidationError(
                    "--database-password-file needs a database: pass --database URL or set USERPLANE_DATABASE_URL."
                )
            }
            return nil
        }
        let url: DatabaseURL
        do {
            url = try DatabaseURL(parsing: text)
        } catch {
            throw ValidationError("\(source): \(error.message)")
        }
        if database != nil, url.password != nil {
            throw ValidationError(
                "--database carries a password, which every user of this machine can read in ps; remove it from the "
                    + "URL and put it in --database-password-file PATH or PGPASSWORD (or pass the whole URL in "
                    + "USERPLANE_DATABASE_URL)."
            )
        }
        do {
            return try url.resolvingPassword(
                passwordFile: databasePasswordFile,
                environment: ProcessInfo.processInfo.environment
            )
        } catch {
            throw ValidationError(error.message)
        }
    }
}
