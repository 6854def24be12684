#ifndef CLIBARCHIVE_SHIM_H
#define CLIBARCHIVE_SHIM_H

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
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

// Whether O_DIRECT writes to fd go straight to a local block device: ext2/3/4, XFS or Btrfs, or an overlay (a
// container's; it refuses O_DIRECT when its upper file system does). Elsewhere (NFS, where each direct write is a
// synchronous round trip; tmpfs; FUSE) downloads keep writing through the page cache.
static inline int clibarchive_direct_io_file_system(int fd) {
    struct statfs info;
    if (fstatfs(fd, &info) != 0) return 0;
    switch ((unsigned long)info.f_type) {
    case 0xEF53UL:     // ext2, ext3, ext4
    case 0x58465342UL: // XFS
    case 0x9123683EUL: // Btrfs
    case 0x794C7630UL: // overlay
        return 1;
    default:
        return 0;
    }
}

// Turns O_DIRECT on or off for fd with fcntl(F_SETFL) (glibc names the flag O_DIRECT only under _GNU_SOURCE).
// Returns 0, or -1 with errno (EINVAL where the file system refuses direct I/O).
static inline int clibarchive_set_direct_io(int fd, int on) {
#ifdef __O_DIRECT
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, on ? (flags | __O_DIRECT) : (flags & ~__O_DIRECT));
#else
    (void)fd; (void)on;
    errno = EINVAL;
    return -1;
#endif
}

#endif
