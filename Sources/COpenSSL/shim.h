#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

// Only the message-digest and MAC half of libcrypto (OpenSSL 3): ArchiverKit's SHA-256/SHA-512 (see HashState.swift)
// and the Poly1305 content seal with its random one-time key (see ContentSeal.swift).
#include <openssl/evp.h>
#include <openssl/rand.h>

#endif
