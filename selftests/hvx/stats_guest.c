// SPDX-License-Identifier: GPL-2.0
/* stats_guest.c - 64-bit guest code of stats_test. */
#include "hvx.h"
#include "hvx_guest.h"
#include "stats_guest.h"

/*
 * Exactly STATS_CPUIDS CPUID exits, then STATS_OUTS one-byte OUTs to
 * STATS_PORT (each an exit to the host), then GUEST_DONE (one more OUT,
 * to UCALL_PORT). Nothing else here exits except EPT violations on first
 * touch and host interrupts.
 */
void guest_counted(uint64_t unused)
{
	uint32_t a, b, c, d;

	(void)unused;
	for (int i = 0; i < STATS_CPUIDS; i++)
		cpuid(0, 0, &a, &b, &c, &d);
	for (int i = 0; i < STATS_OUTS; i++)
		asm volatile("outb %%al, %[port]"
			     : : "a"(i), [port] "i"(STATS_PORT));
	GUEST_DONE();
}

/* RDMSR and WRMSR of the TSC, RDMSR of STATS_BAD_MSR (#GP), then HLT. */
void guest_msr_hlt(uint64_t unused)
{
	uint64_t v = 0;

	(void)unused;
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_TSC, &v));
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_IA32_TSC, v));
	GUEST_ASSERT_EQ(X86_VEC_GP, guest_rdmsr_safe(STATS_BAD_MSR, &v));
	asm volatile("hlt");
	GUEST_DONE();
}

void guest_cpuid_once(uint64_t unused)
{
	uint32_t a, b, c, d;

	(void)unused;
	cpuid(0, 0, &a, &b, &c, &d);
	GUEST_DONE();
}

/* STATS_FAST_LOOPS exits of @kind, then GUEST_DONE. */
void guest_fast(uint64_t kind)
{
	uint32_t a, b, c, d;
	uint8_t imr;

	for (int i = 0; i < STATS_FAST_LOOPS; i++) {
		switch (kind) {
		case STATS_FAST_CPUID:
			cpuid(0, 0, &a, &b, &c, &d);
			break;
		case STATS_FAST_VMCALL:	/* an unknown hypercall */
			a = 0x7fff0000;
			asm volatile("vmcall" : "+a"(a) : : "memory");
			GUEST_ASSERT_EQ((uint32_t)-HVX_HC_ENOSYS, a);
			break;
		case STATS_FAST_RTC:
			if (!(i & 1)) {
				asm volatile("outb %0, $0x70" : : "a"((uint8_t)0x0a));
				break;
			}
			asm volatile("inb $0x71, %0" : "=a"(imr));
			GUEST_ASSERT_EQ(STATS_RTC_REG_A, imr & 0x7f);
			break;
		default:
			asm volatile("inb $0x21, %0" : "=a"(imr));
			GUEST_ASSERT_EQ(0, imr);	/* nothing masked yet */
			break;
		}
	}
	GUEST_DONE();
}

/* CPUID until the host stops running the vCPU. */
void guest_cpuid_forever(uint64_t unused)
{
	uint32_t a, b, c, d;

	(void)unused;
	for (;;)
		cpuid(0, 0, &a, &b, &c, &d);
}

/* With an IDT limit of 0 (set by the host) this triple-faults. */
void guest_ud2(uint64_t unused)
{
	(void)unused;
	asm volatile("ud2");
	GUEST_DONE();
}

/*
 * Code fetched from MMIO: hvx cannot read the instruction, so an internal
 * error. (An instruction it does not emulate on MMIO raises #UD now.)
 */
void guest_mmio_exec(uint64_t unused)
{
	(void)unused;
	asm volatile("jmp *%0" : : "r"((uint64_t)GPA_MMIO) : "memory");
	GUEST_DONE();
}

/* CR8 round trip: write @value, report what reads back, then report what
 * the host set meanwhile (SDM Vol. 3A 10.8.6.1: CR8 is TPR[7:4]). */
void guest_cr8(uint64_t value)
{
	uint64_t v;

	asm volatile("mov %0, %%cr8" : : "r"(value));
	asm volatile("mov %%cr8, %0" : "=r"(v));
	GUEST_SYNC(v);
	asm volatile("mov %%cr8, %0" : "=r"(v));
	GUEST_SYNC(v);
	GUEST_DONE();
}

/*
 * The first write of a SYSCALL MSR exits; from then on they and
 * KERNEL_GS_BASE are the guest's own: no more exits, and SWAPGS swaps in
 * the KERNEL_GS_BASE the guest wrote.
 */
void guest_syscall_msrs(uint64_t unused)
{
	uint64_t lstar = 0, kgs = 0, gs = 0;

	(void)unused;
	guest_wrmsr_safe(0xc0000082, 0xffffffff81234000ull);	/* LSTAR */
	guest_wrmsr_safe(0xc0000081, 0x0023001000000000ull);	/* STAR */
	guest_wrmsr_safe(0xc0000084, 0x47700);			/* SFMASK */
	guest_wrmsr_safe(0xc0000102, 0x5678000);		/* KERNEL_GS_BASE */
	guest_rdmsr_safe(0xc0000082, &lstar);
	guest_rdmsr_safe(0xc0000102, &kgs);
	asm volatile("swapgs");
	guest_rdmsr_safe(0xc0000101, &gs);			/* GS_BASE */
	asm volatile("swapgs");
	GUEST_SYNC_ARGS(lstar, kgs, gs, 0);
	GUEST_DONE();
}
