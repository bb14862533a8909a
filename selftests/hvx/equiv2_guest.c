// SPDX-License-Identifier: GPL-2.0
/*
 * equiv2_guest.c - the guest's CPU: the frames of exceptions hvx injects
 * look like the CPU's own, and the CPUID bits hvx announces work.
 */
#include "hvx_guest.h"
#include "equiv2_guest.h"

#define RFLAGS_RF		(1ull << 16)
#define MSR_IA32_TSC_ADJUST	0x3b
#define MSR_NONE		0x4b564d99	/* no such MSR on Intel CPUs */
#define CR4_RESERVED_BIT	(1ull << 31)
#define LEAF7_EBX_TSC_ADJUST	(1u << 1)

/* Run UD2 (a fault the CPU itself delivers): the vector, 0 if none. */
static uint64_t ud2_safe(void)
{
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "ud2\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : : "memory");
	return guest_fixup_vector;
}

/* MOV to CR4 (always exits under hvx): the vector raised, or 0. */
static uint64_t write_cr4_safe(uint64_t val)
{
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "mov %[v], %%cr4\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : [v] "r"(val) : "memory");
	return guest_fixup_vector;
}

#define NP_LA			0x3fe00000	/* its 2 MiB page made not present */

/*
 * MOVSB from MMIO (emulated by hvx) to a page that is not present: the
 * #PF hvx injects. The vector, 0 if none.
 */
static uint64_t mmio_movs_pf(void)
{
	volatile uint64_t *pde = (volatile uint64_t *)GPA_PD + (NP_LA >> 21);
	uint64_t si = GPA_MMIO, di = NP_LA;

	*pde &= ~PTE_PRESENT;
	asm volatile("invlpg (%0)" : : "r"(di) : "memory");
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "cld\n\t"
		     "movsb\n"
		     "1:\tmovq $0, %[fix]"
		     : "+S"(si), "+D"(di), [fix] "=m"(guest_fixup_rip)
		     : : "memory");
	*pde |= PTE_PRESENT;
	asm volatile("invlpg (%0)" : : "r"(di) : "memory");
	return guest_fixup_vector;
}

/*
 * A fault pushes RFLAGS with RF set (SDM Vol. 3A 17.3.1.1), whether the
 * CPU delivers it (#UD from UD2, not intercepted) or hvx injects it
 * after emulating the instruction (#GP from RDMSR/WRMSR of a missing
 * MSR, from a reserved CR4 bit; #PF from an emulated MMIO string move).
 * The error code of those #GPs is 0.
 */
void guest_fault_rflags(uint64_t arg)
{
	uint64_t val;

	(void)arg;
	GUEST_ASSERT_EQ(6, ud2_safe());
	GUEST_ASSERT_EQ(RFLAGS_RF, guest_fixup_rflags & RFLAGS_RF);

	GUEST_ASSERT_EQ(13, guest_rdmsr_safe(MSR_NONE, &val));
	GUEST_ASSERT_EQ(0, guest_fixup_error);
	GUEST_ASSERT_EQ(RFLAGS_RF, guest_fixup_rflags & RFLAGS_RF);

	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_NONE, 1));
	GUEST_ASSERT_EQ(0, guest_fixup_error);
	GUEST_ASSERT_EQ(RFLAGS_RF, guest_fixup_rflags & RFLAGS_RF);

	GUEST_ASSERT_EQ(13, write_cr4_safe(guest_read_cr4() | CR4_RESERVED_BIT));
	GUEST_ASSERT_EQ(0, guest_fixup_error);
	GUEST_ASSERT_EQ(RFLAGS_RF, guest_fixup_rflags & RFLAGS_RF);

	GUEST_ASSERT_EQ(14, mmio_movs_pf());
	GUEST_ASSERT_EQ(2, guest_fixup_error);	/* write, not present */
	GUEST_ASSERT_EQ(RFLAGS_RF, guest_fixup_rflags & RFLAGS_RF);

	/* An emulated instruction that completes leaves RF clear. */
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_TSC_ADJUST, &val));
	GUEST_DONE();
}

static uint64_t rdtsc64(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/*
 * IA32_TSC_ADJUST (SDM Vol. 3B 18.17.3): announced by CPUID.(7,0):EBX[1];
 * 0 at reset; adding X to it adds X to the TSC; a write of the TSC adds
 * the same difference to it.
 */
void guest_tsc_adjust(uint64_t arg)
{
	const uint64_t step = 1ull << 40, jump = 1ull << 36;
	uint32_t a, b, c, d;
	uint64_t adj, t0, t1;

	(void)arg;
	cpuid(7, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(LEAF7_EBX_TSC_ADJUST, b & LEAF7_EBX_TSC_ADJUST);
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_TSC_ADJUST, &adj));
	GUEST_ASSERT_EQ(0, adj);

	t0 = rdtsc64();
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_IA32_TSC_ADJUST, step));
	t1 = rdtsc64();
	GUEST_ASSERT(t1 - t0 >= step && t1 - t0 < step + (1ull << 32));
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_TSC_ADJUST, &adj));
	GUEST_ASSERT_EQ(step, adj);

	t0 = rdtsc64();
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_IA32_TSC, t0 + jump));
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_TSC_ADJUST, &adj));
	/* jump less the ticks between the RDTSC and the WRMSR */
	GUEST_ASSERT(adj - step <= jump && adj - step > jump - (1ull << 32));
	GUEST_DONE();
}
