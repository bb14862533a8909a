/* SPDX-License-Identifier: GPL-2.0 */
/* ept_guest.h - what ept_test's host and guest sides share. */
#ifndef EPT_GUEST_H
#define EPT_GUEST_H

#include <stdint.h>

/* Operations the guest performs, one per HVX_RUN, then GUEST_SYNC(op). */
#define EPT_OP_DONE	0
#define EPT_OP_READ	1	/* GUEST_SYNC_ARGS(EPT_OP_READ, *gpa) */
#define EPT_OP_WRITE	2	/* every u64 of [gpa, gpa + size) = addr ^ seed */
#define EPT_OP_CALL	3	/* GUEST_SYNC_ARGS(EPT_OP_CALL, ((fn)gpa)(seed)) */
#define EPT_OP_CHECK	4	/* assert the EPT_OP_WRITE pattern */

struct ept_args {
	uint64_t op;
	uint64_t gpa;
	uint64_t size;
	uint64_t seed;
};

extern struct ept_args ept_args;

void guest_ept(uint64_t unused);

#endif /* EPT_GUEST_H */
