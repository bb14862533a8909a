/* SPDX-License-Identifier: GPL-2.0 */
/* state_guest.h - what state_test's host and guest sides share. */
#ifndef STATE_GUEST_H
#define STATE_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "x86.h"

#define MSR_TSC_AUX		0xc0000103

/* Values the MSR guest writes (valid for each MSR). */
#define STATE_STAR		0x0023001000000000ull
#define STATE_LSTAR		0xffffffff81234560ull
#define STATE_SFMASK		0x47700ull
#define STATE_KGS_BASE		0xffff888000123000ull
#define STATE_TSC_AUX		0x5a5ull

/* CPUIDs (in-kernel exits) between two exits to userspace. */
#define STATE_CPUIDS		200

/* First SYNC of the AVX guest: 0 if the vCPU has no AVX, else 1. */
void guest_state_avx(uint64_t seed);
/* First SYNC: bit 0 RDTSCP offered, bit 1 RDPID offered. */
void guest_state_msrs(uint64_t unused);

#define MSR_DEBUGCTL		0x1d9
#define DEBUGCTL_BTF		(1ull << 1)	/* the one bit a guest may set */

/* Writes @debugctl to IA32_DEBUGCTL; each SYNC reports it read back. */
void guest_state_debugctl(uint64_t debugctl);

/* The 16 YMM registers' pattern for @seed, byte i of register r. */
static inline uint8_t state_pattern(uint64_t seed, int r, int i)
{
	return (uint8_t)(seed + r * 32 + i * 7);
}

#endif /* STATE_GUEST_H */
