#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

// Only the message-digest half of libcrypto (OpenSSL 3): ArchiverKit's SHA-256/SHA-512 (see HashState.swift).
#include <openssl/evp.h>

#endif
