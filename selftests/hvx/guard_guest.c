// SPDX-License-Identifier: GPL-2.0
/* guard_guest.c - 64-bit guest code of guard_test. */
#include "hvx_guest.h"
#include "guard_guest.h"

volatile uint32_t guard_target;

#define SET_DR(n, v)	asm volatile("mov %0, %%dr" #n : : "r"((uint64_t)(v)))
#define GET_DR(n, v)	asm volatile("mov %%dr" #n ", %0" : "=r"(v))

/* Write guard_target; return the vector of a #DB it raised, or 0. */
static uint64_t write_watched(volatile uint32_t *p, uint32_t val)
{
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "movl %[val], %[t]\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip), [t] "=m"(*p)
		     : [val] "r"(val) : "memory");
	return guest_fixup_vector;
}

/*
 * A data breakpoint (DR0, writes, 4 bytes) and an instruction breakpoint
 * (DR1) of the guest's own: each raises #DB, with B0 or B1 in DR6.
 * noclone: the label exists once.
 */
void __attribute__((noinline, noclone)) guest_dr_breakpoints(uint64_t unused)
{
	uint64_t dr6, vec;

	(void)unused;
	SET_DR(6, DR6_RESET);
	SET_DR(0, &guard_target);
	SET_DR(7, DR7_FIXED | DR7_L0 | DR7_RW0_WRITE | DR7_LEN0_4);
	vec = write_watched(&guard_target, 1);
	GET_DR(6, dr6);
	SET_DR(7, DR7_FIXED);
	GUEST_SYNC_ARGS(GUARD_DATA_BP, vec, dr6, guard_target);

	SET_DR(6, DR6_RESET);
	SET_DR(1, guard_bp_insn);
	SET_DR(7, DR7_FIXED | DR7_L1);	/* R/W1 = 00, LEN1 = 00: execution */
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n"
		     ".globl guard_bp_insn\n"
		     "guard_bp_insn:\tnop\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : : "memory");
	vec = guest_fixup_vector;
	GET_DR(6, dr6);
	SET_DR(7, DR7_FIXED);
	GUEST_SYNC_ARGS(GUARD_EXEC_BP, vec, dr6, 0);
	GUEST_DONE();
}

/*
 * Arm breakpoint 0 in DR7 without writing DR0 (0 since reset), then write
 * @addr, which the host watches with its own DR0: no #DB may come of it.
 */
void guest_dr_host_hidden(uint64_t addr)
{
	uint64_t dr0, dr6, vec;

	GET_DR(0, dr0);
	SET_DR(6, DR6_RESET);
	SET_DR(7, DR7_FIXED | DR7_L0 | DR7_RW0_WRITE | DR7_LEN0_4);
	vec = write_watched((volatile uint32_t *)addr, 5);
	GET_DR(6, dr6);
	SET_DR(7, DR7_FIXED);
	GUEST_SYNC_ARGS(GUARD_HOST_DR, vec, dr6, dr0);
	/* Unarmed: no breakpoint of anybody's is visible either. */
	SET_DR(6, DR6_RESET);
	vec = write_watched((volatile uint32_t *)addr, 6);
	GET_DR(6, dr6);
	GUEST_SYNC_ARGS(GUARD_HOST_DR, vec, dr6, 0);
	GUEST_DONE();
}

/*
 * CPUID.(7,0):EDX and IA32_ARCH_CAPABILITIES; then the command MSRs, each
 * written GUARD_CMD_WRITES times if CPUID offers it, else once (#GP
 * expected); then a reserved bit of IA32_FLUSH_CMD.
 */
void guest_mitigations(uint64_t unused)
{
	uint32_t a, b, c, d;
	uint64_t cap = 0, vec, vp = 0, vf = 0;
	int i, n;

	(void)unused;
	cpuid(7, 0, &a, &b, &c, &d);
	vec = guest_rdmsr_safe(MSR_IA32_ARCH_CAPABILITIES, &cap);
	GUEST_SYNC_ARGS(GUARD_CPUID, d, vec, cap);

	GUEST_SYNC(GUARD_CMD_BEGIN);
	n = (d & CPUID7_EDX_IBRS_IBPB) ? GUARD_CMD_WRITES : 1;
	for (i = 0; i < n; i++)
		vp |= guest_wrmsr_safe(MSR_IA32_PRED_CMD, 1);
	n = (d & CPUID7_EDX_FLUSH_L1D) ? GUARD_CMD_WRITES : 1;
	for (i = 0; i < n; i++)
		vf |= guest_wrmsr_safe(MSR_IA32_FLUSH_CMD, 1);
	GUEST_SYNC_ARGS(GUARD_CMD_END, vp, vf, 0);

	vec = guest_wrmsr_safe(MSR_IA32_FLUSH_CMD, 2);
	GUEST_SYNC_ARGS(GUARD_CMD_RESERVED, vec, 0, 0);
	GUEST_DONE();
}

/* INT1 (ICEBP): a #DB the guest's handler sees once. */
void guest_int1(uint64_t unused)
{
	(void)unused;
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     ".byte 0xf1\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : : "memory");
	GUEST_SYNC_ARGS(GUARD_INT1, guest_fixup_vector, 0, 0);
	GUEST_DONE();
}
