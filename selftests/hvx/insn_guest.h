/* SPDX-License-Identifier: GPL-2.0 */
/* insn_guest.h - shared between insn_test.c and insn_guest.c. */
#ifndef INSN_GUEST_H
#define INSN_GUEST_H

#include <stdint.h>

/* Instructions hvx intercepts, and the vector each must raise (0: none). */
enum insn_case {
	INSN_INVD, INSN_WBINVD, INSN_VMCALL, INSN_VMXON, INSN_VMCLEAR,
	INSN_VMPTRLD, INSN_VMREAD, INSN_VMWRITE, INSN_VMLAUNCH, INSN_VMRESUME,
	INSN_VMXOFF, INSN_INVEPT, INSN_INVVPID, INSN_MONITOR, INSN_MWAIT,
	INSN_RDPMC, INSN_DR7_HIGH, INSN_NR
};

extern volatile uint64_t guest_insn_vec[INSN_NR];
void guest_insns(uint64_t unused);
void guest_debug_regs(uint64_t unused);
void guest_rdtsc_twice(uint64_t unused);

#endif
