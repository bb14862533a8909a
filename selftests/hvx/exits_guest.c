// SPDX-License-Identifier: GPL-2.0
/* exits_guest.c - 64-bit guest code of exits_test. */
#include "hvx_guest.h"
#include "exits_guest.h"

void guest_hlt(uint64_t unused)
{
	(void)unused;
	asm volatile("hlt\n.globl hlt1_next\nhlt1_next:");
	GUEST_SYNC(1);
	asm volatile("hlt\n.globl hlt2_next\nhlt2_next:");
	GUEST_DONE();
}

/* CPUID followed by the mark: the host reads the result registers and RIP
 * at the mark. noclone: the labels must exist once. */
static void __attribute__((noinline, noclone)) cpuid_marked(uint32_t leaf)
{
	uint32_t a = leaf, b, c = 0, d;

	asm volatile(".globl cpuid_insn, cpuid_next\n"
		     "cpuid_insn:\tcpuid\n"
		     "cpuid_next:\toutl %%eax, %[mark]"
		     : "+a"(a), "=b"(b), "+c"(c), "=d"(d)
		     : [mark] "i"(MARK_PORT));
}

void guest_cpuid(uint64_t unused)
{
	uint32_t a, b, c, d;

	(void)unused;
	cpuid_marked(0);
	cpuid_marked(1);
	cpuid_marked(CPUID_SIG_LEAF);

	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(c & CPUID_1_ECX_HYPERVISOR);
	GUEST_ASSERT(!(c & CPUID_1_ECX_VMX));
	GUEST_DONE();
}

/* Reports each step with GUEST_SYNC_ARGS(step, msr, vector(s), value). */
void guest_msr(uint64_t unused)
{
	uint64_t val, wvec, rvec;

	(void)unused;
	for (unsigned int i = 0; i < EXITS_NR_MSRS; i++) {
		wvec = guest_wrmsr_safe(exits_msrs[i].index, exits_msrs[i].value);
		rvec = guest_rdmsr_safe(exits_msrs[i].index, &val);
		GUEST_SYNC_ARGS(MSR_STEP_RW, exits_msrs[i].index,
				wvec << 8 | rvec, val);
	}
	for (unsigned int i = 0; i < EXITS_NR_MSRS_RO; i++) {
		rvec = guest_rdmsr_safe(exits_msrs_ro[i], &val);
		GUEST_SYNC_ARGS(MSR_STEP_RO, exits_msrs_ro[i], rvec, val);
	}
	for (unsigned int i = 0; i < EXITS_NR_MSRS_BAD; i++) {
		rvec = guest_rdmsr_safe(exits_msrs_bad[i], &val);
		wvec = guest_wrmsr_safe(exits_msrs_bad[i], 0);
		GUEST_SYNC_ARGS(MSR_STEP_BAD, exits_msrs_bad[i],
				wvec << 8 | rvec, 0);
	}
	rvec = guest_rdmsr_safe(MSR_EFER, &val);
	GUEST_SYNC_ARGS(MSR_STEP_EFER, MSR_EFER, rvec, val);
	wvec = guest_wrmsr_safe(MSR_IA32_TSC, EXITS_TSC_WRITE);
	rvec = guest_rdmsr_safe(MSR_IA32_TSC, &val);
	GUEST_SYNC_ARGS(MSR_STEP_TSC, MSR_IA32_TSC, wvec << 8 | rvec, val);
	GUEST_DONE();
}

void guest_ud2_only(uint64_t unused)
{
	(void)unused;
	asm volatile("ud2");
	GUEST_DONE();
}

void guest_int3_only(uint64_t unused)
{
	(void)unused;
	asm volatile("int3");
	GUEST_DONE();
}
