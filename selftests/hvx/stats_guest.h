/* SPDX-License-Identifier: GPL-2.0 */
/* stats_guest.h - what stats_test's host and guest sides share. */
#ifndef STATS_GUEST_H
#define STATS_GUEST_H

#include <stdint.h>

/* guest_counted() executes exactly this many CPUIDs, then OUTs. */
#define STATS_CPUIDS	1000
#define STATS_OUTS	500
#define STATS_PORT	0x80	/* an OUT port nothing else in the guest uses */

/* An MSR no CPU has: RDMSR raises #GP. */
#define STATS_BAD_MSR	0x12345678

void guest_counted(uint64_t unused);
void guest_msr_hlt(uint64_t unused);
void guest_cpuid_once(uint64_t unused);
void guest_ud2(uint64_t unused);
void guest_mmio_exec(uint64_t unused);

void guest_cr8(uint64_t value);

/* guest_fast(kind): STATS_FAST_LOOPS exits of one kind the fast path takes. */
#define STATS_FAST_LOOPS	1000
#define STATS_FAST_CPUID	0
#define STATS_FAST_VMCALL	1
#define STATS_FAST_PIC		2	/* IN from the in-kernel PIC's IMR */
#define STATS_FAST_RTC		3	/* OUT index, IN register A, in turn */
#define STATS_RTC_REG_A		0x26	/* its reset value, UIP aside */
void guest_fast(uint64_t kind);
void guest_cpuid_forever(uint64_t unused);

void guest_syscall_msrs(uint64_t unused);

#endif /* STATS_GUEST_H */
