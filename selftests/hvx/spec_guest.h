/* SPDX-License-Identifier: GPL-2.0 */
/* spec_guest.h - what spec_test's host and guest sides share. */
#ifndef SPEC_GUEST_H
#define SPEC_GUEST_H

#include <stdint.h>

/* guest_cpuids() executes this many CPUIDs (each an exit), then DONE. */
#define SPEC_CPUIDS	200

#define MSR_SPEC_CTRL	0x48
#define SPEC_IBRS	(1ULL << 0)
#define SPEC_STIBP	(1ULL << 1)
#define SPEC_SSBD	(1ULL << 2)

void guest_cpuids(uint64_t unused);
void guest_spec_ctrl(uint64_t unused);
void guest_sync_loop(uint64_t unused);

#endif /* SPEC_GUEST_H */
