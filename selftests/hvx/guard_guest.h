/* SPDX-License-Identifier: GPL-2.0 */
/* guard_guest.h - what guard_test's host and guest sides share. */
#ifndef GUARD_GUEST_H
#define GUARD_GUEST_H

/* DR6/DR7 bits (SDM Vol. 3B 18.2.3, 18.2.4). */
#define DR6_RESET	0xffff0ff0
#define DR6_B0		0x1
#define DR6_B1		0x2
#define DR6_BS		0x4000
#define DR7_FIXED	0x400
#define DR7_L0		0x1
#define DR7_L1		0x4
#define DR7_RW0_WRITE	(1 << 16)	/* R/W0 = 01: data writes */
#define DR7_LEN0_4	(3 << 18)	/* LEN0 = 11: 4 bytes */

/* MSRs of the mitigation test (SDM Vol. 4 Table 2-2). */
#define MSR_IA32_PRED_CMD		0x49
#define MSR_IA32_ARCH_CAPABILITIES	0x10a
#define MSR_IA32_FLUSH_CMD		0x10b
#define ARCH_CAP_RDCL_NO	(1ull << 0)
#define ARCH_CAP_SSB_NO		(1ull << 4)
#define ARCH_CAP_MDS_NO		(1ull << 5)
/* CPUID.(7,0):EDX. */
#define CPUID7_EDX_MD_CLEAR	(1u << 10)
#define CPUID7_EDX_IBRS_IBPB	(1u << 26)
#define CPUID7_EDX_FLUSH_L1D	(1u << 28)
#define CPUID7_EDX_ARCH_CAP	(1u << 29)
#define GUARD_CMD_WRITES	16	/* writes of each command MSR */

#define X86_VEC_DB	1
#define X86_VEC_AC	17
#define X86_CR0_AM	(1u << 18)
#define X86_EFLAGS_AC	(1u << 18)

/* The 32-bit #AC blob's own GDT selectors. */
#define AC_SEL_CODE0	0x08
#define AC_SEL_DATA0	0x10
#define AC_SEL_CODE3	0x1b	/* DPL 3, RPL 3 */
#define AC_SEL_DATA3	0x23
#define AC_SEL_CONFORM	0x28	/* conforming, DPL 0: the #AC handler */
/* User stacks for the blob (EBX): aligned, and off by one byte. */
#define AC_STACK_OK	0x2f000
#define AC_STACK_ODD	0x2f001

#ifndef __ASSEMBLER__
#include <stdint.h>

/* SYNC argument 0: which step the guest reports. */
enum { GUARD_DATA_BP = 1, GUARD_EXEC_BP, GUARD_HOST_DR, GUARD_CPUID,
       GUARD_CMD_BEGIN, GUARD_CMD_END, GUARD_CMD_RESERVED, GUARD_INT1 };

extern volatile uint32_t guard_target;
extern const char guard_bp_insn[];
extern const char ac_start[], ac_end[];

void guest_dr_breakpoints(uint64_t unused);
void guest_dr_host_hidden(uint64_t addr);
void guest_mitigations(uint64_t unused);
void guest_int1(uint64_t unused);
#endif

#endif /* GUARD_GUEST_H */
