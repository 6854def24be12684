#ifndef CLIBARCHIVE_SHIM_H
#define CLIBARCHIVE_SHIM_H

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <sys/syscall.h>
#include <unistd.h>

// Cast macros are not imported into Swift.
static inline unsigned int clibarchive_ae_ifreg(void) { return (unsigned int)AE_IFREG; }
static inline unsigned int clibarchive_ae_ifdir(void) { return (unsigned int)AE_IFDIR; }
static inline int clibarchive_lc_ctype_mask(void) { return LC_CTYPE_MASK; }

// Starts writeback of a written range without waiting for it (sync_file_range(2) with SYNC_FILE_RANGE_WRITE, a
// hint only: durability still comes from fsync). Called through syscall(2) because glibc declares
// sync_file_range only under _GNU_SOURCE. Returns 0 where the call does not exist.
static inline int clibarchive_start_writeback(int fd, long long offset, long long length) {
#ifdef SYS_sync_file_range
    return (int)syscall(SYS_sync_file_range, fd, offset, length, 2 /* SYNC_FILE_RANGE_WRITE */);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}

#endif
