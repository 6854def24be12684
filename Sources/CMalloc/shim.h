#ifndef CMALLOC_SHIM_H
#define CMALLOC_SHIM_H

// glibc's malloc tuning (<malloc.h>, not exported by Swift's Glibc module), for userplane-archiver's entry point.
#if defined(__GLIBC__) || (defined(__linux__) && __has_include(<malloc.h>))
#include <malloc.h>
#endif

/// Caps glibc's malloc at `arenas` arenas (M_ARENA_MAX); returns 1 on success, 0 elsewhere or on failure.
static inline int userplane_limit_malloc_arenas(int arenas) {
#if defined(M_ARENA_MAX)
    return mallopt(M_ARENA_MAX, arenas);
#else
    (void)arenas;
    return 0;
#endif
}

#endif
