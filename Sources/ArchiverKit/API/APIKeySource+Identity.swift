extension APIClient.APIKeySource {
    /// Reads the key as a request would (the file, if the key comes from one), for identifying it by a hash.
    ///
    /// The shared pacer stores only a SHA-256 of it (product.md §11.2); never log or store the returned value.
    ///
    /// - Returns: The key.
    /// - Throws: ``APIError`` with ``APIError/Code/apiKeyUnavailable`` when the file cannot be read.
    package func loadForIdentity() throws(APIError) -> String {
        try APIKeyStore(source: self).current()
    }
}
