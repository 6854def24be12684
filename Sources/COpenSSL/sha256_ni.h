#ifndef COPENSSL_SHA256_NI_H
#define COPENSSL_SHA256_NI_H

// The SHA-256 compression function on the x86 SHA extensions (SHA-NI), one or two states over the same blocks at
// once: ArchiverKit's TwinSHA256 (see TwinSHA256.swift) hashes a staged video's body and, in the same pass, the tar
// that will hold it (the same body behind the tar headers), so that packing need not hash the video again.
//
// Only the compression function is here; padding and lengths are in TwinSHA256. The rounds follow Intel's published
// SHA-NI sequence (the "Intel SHA Extensions" white paper, 2013; the same as OpenSSL's and Linux's sha256_ni code):
// four rounds per step, two `sha256rnds2` with the schedule words plus K, the schedule extended with `sha256msg1`,
// `palignr` and `sha256msg2`. Interleaving a second state over the same schedule is what Linux's
// `sha256_ni_finup2x` (6.11) does for two messages: `sha256rnds2` is latency-bound, so the second state costs about
// half a pass here instead of a whole one. Checked against OpenSSL by TwinSHA256Tests.
//
// Elsewhere (no SHA-NI, another architecture) `upa_sha256_ni_available()` is 0 and nothing else may be called.

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__clang__)
#include <cpuid.h>
#include <immintrin.h>

#define UPA_SHA256_NI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

static const uint32_t upa_sha256_ni_k[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/// 1 when this CPU has the SHA extensions with SSSE3 and SSE4.1 (CPUID leaf 7 EBX bit 29; leaf 1 ECX bits 9, 19).
static inline int upa_sha256_ni_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & (1u << 9)) || !(ecx & (1u << 19))) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & (1u << 29)) != 0;
}

// state[0..7] = a..h  ->  the ABEF and CDGH registers sha256rnds2 works on, and back.
UPA_SHA256_NI_TARGET static inline void upa_sha256_ni_load(const uint32_t *state, __m128i *abef, __m128i *cdgh) {
    __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[0]), 0xB1);
    __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[4]), 0x1B);
    *abef = _mm_alignr_epi8(dcba, efgh, 8);
    *cdgh = _mm_blend_epi16(efgh, dcba, 0xF0);
}

UPA_SHA256_NI_TARGET static inline void upa_sha256_ni_store(uint32_t *state, __m128i abef, __m128i cdgh) {
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

/// Compresses `blocks` 64-byte blocks at `data` into the state `first` and, unless `second` is NULL, into the
/// state `second` too (the same blocks; the message schedule is computed once).
UPA_SHA256_NI_TARGET static inline void upa_sha256_ni_blocks(
    uint32_t *first, uint32_t *second, const uint8_t *data, size_t blocks
) {
    const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i a0, a1, b0 = _mm_setzero_si128(), b1 = _mm_setzero_si128();
    upa_sha256_ni_load(first, &a0, &a1);
    if (second) upa_sha256_ni_load(second, &b0, &b1);
    for (; blocks > 0; blocks--, data += 64) {
        const __m128i saved_a0 = a0, saved_a1 = a1, saved_b0 = b0, saved_b1 = b1;
        __m128i w[4];
        for (int j = 0; j < 4; j++) w[j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * j)), mask);
#pragma clang loop unroll(full)
        for (int i = 0; i < 16; i++) {
            const __m128i words = _mm_add_epi32(w[i & 3], _mm_load_si128((const __m128i *)&upa_sha256_ni_k[4 * i]));
            const __m128i high = _mm_shuffle_epi32(words, 0x0E);
            a1 = _mm_sha256rnds2_epu32(a1, a0, words);
            if (second) b1 = _mm_sha256rnds2_epu32(b1, b0, words);
            a0 = _mm_sha256rnds2_epu32(a0, a1, high);
            if (second) b0 = _mm_sha256rnds2_epu32(b0, b1, high);
            if (i < 12) {
                const __m128i partial = _mm_add_epi32(
                    _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]),
                    _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4)
                );
                w[i & 3] = _mm_sha256msg2_epu32(partial, w[(i + 3) & 3]);
            }
        }
        a0 = _mm_add_epi32(a0, saved_a0);
        a1 = _mm_add_epi32(a1, saved_a1);
        b0 = _mm_add_epi32(b0, saved_b0);
        b1 = _mm_add_epi32(b1, saved_b1);
    }
    upa_sha256_ni_store(first, a0, a1);
    if (second) upa_sha256_ni_store(second, b0, b1);
}

#else

static inline int upa_sha256_ni_available(void) { return 0; }

static inline void upa_sha256_ni_blocks(uint32_t *first, uint32_t *second, const uint8_t *data, size_t blocks) {
    (void)first;
    (void)second;
    (void)data;
    (void)blocks;
    __builtin_trap();  // never called: upa_sha256_ni_available() is 0
}

#endif

#endif
