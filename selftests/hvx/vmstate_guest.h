/* SPDX-License-Identifier: GPL-2.0 */
/* vmstate_guest.h - what vmstate_test's host and guest sides share. */
#ifndef VMSTATE_GUEST_H
#define VMSTATE_GUEST_H

#include <stdint.h>

/* Operations of a script the guest runs between two GUEST_SYNCs. */
#define VS_OUTB		1	/* outb(@addr, @val) */
#define VS_INB		2	/* @val = inb(@addr) */
#define VS_W32		3	/* 32-bit store of @val at @addr (MMIO) */
#define VS_R32		4	/* @val = 32-bit load at @addr */
#define VS_MAX_OPS	32

struct vs_op {
	uint64_t addr;
	uint64_t val;
	uint32_t kind;
	uint32_t pad;
};

struct vs_script {
	uint32_t n;
	uint32_t pad;
	struct vs_op ops[VS_MAX_OPS];
};

/* The script, in guest memory (the host writes it through the VM's RAM). */
extern struct vs_script vs_script;

void guest_script(uint64_t unused);
void guest_avx(uint64_t seed);

/* Byte @i of YMM register @r in guest_avx(). */
static inline uint8_t vs_pattern(uint64_t seed, int r, int i)
{
	return (uint8_t)(seed * 131 + r * 37 + i * 7 + 1);
}

#endif
