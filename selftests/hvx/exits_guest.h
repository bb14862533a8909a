/* SPDX-License-Identifier: GPL-2.0 */
/* exits_guest.h - what exits_test's host and guest sides share. */
#ifndef EXITS_GUEST_H
#define EXITS_GUEST_H

#include <stdint.h>

#include "x86.h"


/* MSRs the guest writes and reads back (values valid for each MSR). */
static const struct msr_value {
	uint32_t index;
	uint64_t value;
} exits_msrs[] = {
	{ MSR_STAR, 0x0023001000000000ull },
	{ MSR_LSTAR, 0xffffffff81000000ull },
	{ MSR_CSTAR, 0xffffffff81000100ull },
	{ MSR_SFMASK, 0x47700 },
	{ MSR_KERNEL_GS_BASE, 0xffff888000001000ull },
	{ MSR_FS_BASE, 0x00007f0000001000ull },
	{ MSR_GS_BASE, 0xffff888000002000ull },
	{ MSR_IA32_SYSENTER_CS, 0x10 },
	{ MSR_IA32_SYSENTER_ESP, 0xffffffff82000000ull },
	{ MSR_IA32_SYSENTER_EIP, 0xffffffff81800000ull },
	{ MSR_IA32_PAT, 0x0007010600070106ull },
};
#define EXITS_NR_MSRS	(sizeof(exits_msrs) / sizeof(exits_msrs[0]))
/* Read only: must not fault. */
static const uint32_t exits_msrs_ro[] = {
	MSR_IA32_APIC_BASE, MSR_IA32_MISC_ENABLE,
};
#define EXITS_NR_MSRS_RO (sizeof(exits_msrs_ro) / sizeof(exits_msrs_ro[0]))
/* No such MSRs: RDMSR and WRMSR raise #GP. */
static const uint32_t exits_msrs_bad[] = { 0x12345678, 0xdeadbeef };
#define EXITS_NR_MSRS_BAD (sizeof(exits_msrs_bad) / sizeof(exits_msrs_bad[0]))
#define EXITS_TSC_WRITE	(1ull << 40)

/* SYNC argument 0 of the MSR guest: which step is reported. */
enum { MSR_STEP_RW = 1, MSR_STEP_RO, MSR_STEP_BAD, MSR_STEP_EFER, MSR_STEP_TSC };

void guest_hlt(uint64_t unused);
extern const char hlt1_next[], hlt2_next[];
void guest_cpuid(uint64_t unused);
extern const char cpuid_insn[], cpuid_next[];
void guest_msr(uint64_t unused);
void guest_ud2_only(uint64_t unused);
void guest_int3_only(uint64_t unused);

#endif /* EXITS_GUEST_H */
