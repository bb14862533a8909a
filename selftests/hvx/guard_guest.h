/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard_guest.h - what guard_blobs.S (the 32-bit #AC guest) shares with
 * guard_test.c.
 */
#ifndef GUARD_GUEST_H
#define GUARD_GUEST_H

#define X86_VEC_AC	17
#define X86_CR0_AM	(1u << 18)
#define X86_EFLAGS_AC	(1u << 18)

/* The 32-bit #AC blob's own GDT selectors. */
#define AC_SEL_CODE0	0x08
#define AC_SEL_DATA0	0x10
#define AC_SEL_CODE3	0x1b	/* DPL 3, RPL 3 */
#define AC_SEL_DATA3	0x23
#define AC_SEL_CONFORM	0x28	/* conforming, DPL 0: the #AC handler */

#ifndef __ASSEMBLER__
extern const char ac_start[], ac_end[];
#endif

#endif /* GUARD_GUEST_H */
