/* SPDX-License-Identifier: GPL-2.0 */
/* equiv_guest.h - shared between equiv_test.c, equiv_guest.c, equiv_blobs.S. */
#ifndef EQUIV_GUEST_H
#define EQUIV_GUEST_H

#define EQUIV_WORDS	32

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Compiled once, with the guest flags, and called both natively by the
 * test and inside the guest. */
void guest_equiv_kernel(uint64_t *out);
void guest_equiv(uint64_t out_gva);
extern const char ts_start[], ts_end[];
#endif

#endif
