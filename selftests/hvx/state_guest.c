// SPDX-License-Identifier: GPL-2.0
/*
 * state_guest.c - guests of state_test: one keeps a pattern in all 16 YMM
 * registers across in-kernel exits, exits to userspace, preemption and
 * migration; one keeps its SYSCALL MSRs, KERNEL_GS_BASE and TSC_AUX;
 * one keeps its IA32_DEBUGCTL.
 */
#include "hvx_guest.h"
#include "state_guest.h"

static uint8_t want[16 * 32], seen[16 * 32];

#define YMM_ALL(insn, buf)						\
	asm volatile(insn " %%ymm0, 0(%0)\n\t" insn " %%ymm1, 32(%0)\n\t"	\
		     insn " %%ymm2, 64(%0)\n\t" insn " %%ymm3, 96(%0)\n\t"	\
		     insn " %%ymm4, 128(%0)\n\t" insn " %%ymm5, 160(%0)\n\t" \
		     insn " %%ymm6, 192(%0)\n\t" insn " %%ymm7, 224(%0)\n\t" \
		     insn " %%ymm8, 256(%0)\n\t" insn " %%ymm9, 288(%0)\n\t" \
		     insn " %%ymm10, 320(%0)\n\t" insn " %%ymm11, 352(%0)\n\t" \
		     insn " %%ymm12, 384(%0)\n\t" insn " %%ymm13, 416(%0)\n\t" \
		     insn " %%ymm14, 448(%0)\n\t" insn " %%ymm15, 480(%0)"	\
		     : : "r"(buf) : "memory")

static void ymm_load(const uint8_t *buf)
{
	asm volatile("vmovdqu 0(%0), %%ymm0\n\t vmovdqu 32(%0), %%ymm1\n\t"
		     "vmovdqu 64(%0), %%ymm2\n\t vmovdqu 96(%0), %%ymm3\n\t"
		     "vmovdqu 128(%0), %%ymm4\n\t vmovdqu 160(%0), %%ymm5\n\t"
		     "vmovdqu 192(%0), %%ymm6\n\t vmovdqu 224(%0), %%ymm7\n\t"
		     "vmovdqu 256(%0), %%ymm8\n\t vmovdqu 288(%0), %%ymm9\n\t"
		     "vmovdqu 320(%0), %%ymm10\n\t vmovdqu 352(%0), %%ymm11\n\t"
		     "vmovdqu 384(%0), %%ymm12\n\t vmovdqu 416(%0), %%ymm13\n\t"
		     "vmovdqu 448(%0), %%ymm14\n\t vmovdqu 480(%0), %%ymm15"
		     : : "r"(buf) : "memory");
}

void guest_state_avx(uint64_t seed)
{
	uint32_t a, b, c, d;
	uint64_t round;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26)) || !(c & (1u << 28))) {	/* XSAVE, AVX */
		GUEST_SYNC(0);
		GUEST_DONE();
	}
	/* As Linux: CR4.OSXSAVE, then XCR0 = x87 | SSE | AVX. */
	asm volatile("mov %0, %%cr4" : : "r"(guest_read_cr4() | (1ul << 18)));
	asm volatile("xsetbv" : : "c"(0), "a"(7), "d"(0));
	for (int r = 0; r < 16; r++)
		for (int i = 0; i < 32; i++)
			want[r * 32 + i] = state_pattern(seed, r, i);
	ymm_load(want);
	GUEST_SYNC(1);
	for (round = 0;; round++) {
		uint64_t bad = 0;

		for (int k = 0; k < STATE_CPUIDS; k++)
			cpuid(0, 0, &a, &b, &c, &d);
		YMM_ALL("vmovdqu", seen);
		for (int i = 0; i < 16 * 32; i++)
			bad += seen[i] != want[i];
		GUEST_ASSERT_EQ(0, bad);
		GUEST_SYNC(round);
		YMM_ALL("vmovdqu", seen);
		for (int i = 0; i < 16 * 32; i++)
			bad += seen[i] != want[i];
		GUEST_ASSERT_EQ(0, bad);
	}
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}

static void wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)val),
		     "d"((uint32_t)(val >> 32)) : "memory");
}

void guest_state_msrs(uint64_t unused)
{
	uint32_t a, b, c, d, aux;
	bool rdtscp, rdpid;
	uint64_t v;

	cpuid(0x80000001, 0, &a, &b, &c, &d);
	rdtscp = d & (1u << 27);
	cpuid(7, 0, &a, &b, &c, &d);
	rdpid = c & (1u << 22);
	wrmsr(MSR_STAR, STATE_STAR);
	wrmsr(MSR_LSTAR, STATE_LSTAR);
	wrmsr(MSR_SFMASK, STATE_SFMASK);
	wrmsr(MSR_KERNEL_GS_BASE, STATE_KGS_BASE);
	if (rdtscp || rdpid)
		wrmsr(MSR_TSC_AUX, STATE_TSC_AUX);
	GUEST_SYNC(rdtscp | rdpid << 1);
	for (;;) {
		GUEST_ASSERT_EQ(STATE_STAR, rdmsr(MSR_STAR));
		GUEST_ASSERT_EQ(STATE_LSTAR, rdmsr(MSR_LSTAR));
		GUEST_ASSERT_EQ(STATE_SFMASK, rdmsr(MSR_SFMASK));
		GUEST_ASSERT_EQ(STATE_KGS_BASE, rdmsr(MSR_KERNEL_GS_BASE));
		if (rdtscp) {
			asm volatile("rdtscp" : "=a"(a), "=d"(d), "=c"(aux));
			GUEST_ASSERT_EQ(STATE_TSC_AUX, aux);
		}
		if (rdpid) {
			asm volatile("rdpid %0" : "=r"(v));
			GUEST_ASSERT_EQ(STATE_TSC_AUX, v);
		}
		if (rdtscp || rdpid)
			GUEST_ASSERT_EQ(STATE_TSC_AUX, rdmsr(MSR_TSC_AUX));
		/* SWAPGS works on the guest's KERNEL_GS_BASE, twice = same. */
		asm volatile("swapgs; swapgs" ::: "memory");
		for (int k = 0; k < STATE_CPUIDS / 4; k++)
			cpuid(0, 0, &a, &b, &c, &d);
		GUEST_SYNC(2);
	}
}

/*
 * IA32_DEBUGCTL set once, then read back around in-kernel exits (CPUID)
 * and exits to userspace: each SYNC reports what RDMSR returns.
 */
void guest_state_debugctl(uint64_t debugctl)
{
	uint32_t a, b, c, d;

	wrmsr(MSR_DEBUGCTL, debugctl);
	for (;;) {
		for (int k = 0; k < STATE_CPUIDS / 4; k++)
			cpuid(0, 0, &a, &b, &c, &d);
		GUEST_SYNC(rdmsr(MSR_DEBUGCTL));
	}
}
