/* SPDX-License-Identifier: GPL-2.0 */
/* lifecycle_guest.h - what lifecycle_test's host and guest sides share. */
#ifndef LIFECYCLE_GUEST_H
#define LIFECYCLE_GUEST_H

#include <stdint.h>

#define LC_ITERATIONS	2000
#define LC_IN_PORT	0xe0
#define LC_IN_DATA	0x89abcdef
#define LC_MMIO_DATA	0x76543210

/* The guests' computation: one LCG step per iteration. */
static inline uint64_t lc_next(uint64_t x)
{
	return x * 6364136223846793005ull + 1442695040888963407ull;
}

void guest_count(uint64_t seed);
void guest_pending_reads(uint64_t unused);
extern const char lc_in_insn[], lc_in_next[], lc_mmio_insn[], lc_mmio_next[];

#endif /* LIFECYCLE_GUEST_H */
