/* SPDX-License-Identifier: GPL-2.0 */
/* mem_guest.h - what mem_test's host and guest sides share. */
#ifndef MEM_GUEST_H
#define MEM_GUEST_H

#include <stdint.h>

/* Operations the guest performs, one per HVX_RUN, then GUEST_SYNC(op). */
#define MEM_OP_DONE		0
#define MEM_OP_WRITE_PATTERN	1	/* every u64 of [gpa, gpa + size) = addr ^ seed */
#define MEM_OP_CHECK_PATTERN	2	/* assert that pattern */
#define MEM_OP_READ_LIST	3	/* GUEST_SYNC_ARGS(addr, value) per addrs[] */
#define MEM_OP_WRITE_LIST	4	/* *addrs[i] = addrs[i] ^ seed */
#define MEM_OP_TOUCH		5	/* read one u64 every stride bytes of the range */
#define MEM_OP_SPIN		6	/* read gpa and count spins until it reads 0 */
#define MEM_OP_MAP_HIGH		7	/* map VA 4 GiB -> GPA gpa (2 MiB guest page), read it */
#define MEM_OP_READ_ONE		8	/* GUEST_SYNC_ARGS(gpa, *gpa) */

#define MEM_MAX_ADDRS		64

/* Where the guest's extra page mapping lives (VA), see MEM_OP_MAP_HIGH. */
#define MEM_HIGH_VA		(4ull << 30)

struct mem_args {
	uint64_t op;
	uint64_t gpa;
	uint64_t size;
	uint64_t stride;
	uint64_t seed;
	uint64_t n;
	uint64_t addrs[MEM_MAX_ADDRS];
	uint64_t spins;		/* out: MEM_OP_SPIN iterations so far */
};

extern struct mem_args mem_args;

void guest_mem(uint64_t unused);

#endif /* MEM_GUEST_H */
