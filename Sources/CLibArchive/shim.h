#ifndef CLIBARCHIVE_SHIM_H
#define CLIBARCHIVE_SHIM_H

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>

// Cast macros are not imported into Swift.
static inline unsigned int clibarchive_ae_ifreg(void) { return (unsigned int)AE_IFREG; }
static inline unsigned int clibarchive_ae_ifdir(void) { return (unsigned int)AE_IFDIR; }
static inline int clibarchive_lc_ctype_mask(void) { return LC_CTYPE_MASK; }

#endif
