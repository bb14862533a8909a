// SPDX-License-Identifier: GPL-2.0
/* events_guest.c - 64-bit guest code of events_test. */
#include "hvx_guest.h"
#include "events_guest.h"

volatile uint64_t guest_irq_count;
volatile uint64_t guest_irq_leaves[4] = { 1, 5, 0x40000000, 0x40000001 };

/*
 * Interrupt handler for EVENTS_IRQ_VECTOR: count and return. A 64-bit
 * interrupt gate pushes SS, RSP, RFLAGS, CS, RIP and no error code (SDM
 * Vol. 3A 6.14.2), so IRETQ is all it needs.
 */
asm(".pushsection .text\n"
    ".globl guest_irq_stub\n"
    "guest_irq_stub:\n\t"
    "lock incq guest_irq_count(%rip)\n\t"
    "iretq\n"
    ".popsection");

/* CPUID of each leaf in guest_irq_leaves; each result is one SYNC. */
void guest_cpuid_report(uint64_t nleaves)
{
	for (uint64_t i = 0; i < nleaves; i++) {
		uint32_t a = guest_irq_leaves[i], b, c = 0, d;

		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		GUEST_SYNC_ARGS(a, b, c, d);
	}
	GUEST_DONE();
}

void guest_rdmsr_report(uint64_t msr)
{
	uint64_t val = 0, vec = guest_rdmsr_safe(msr, &val);

	GUEST_SYNC_ARGS(vec, val, 0, 0);
	GUEST_DONE();
}

/* RDMSR then WRMSR of @msr; each reports its vector (0: none). */
void guest_msr_rw_report(uint64_t msr)
{
	uint64_t val = 0, vec = guest_rdmsr_safe(msr, &val);

	GUEST_SYNC_ARGS(vec, val, 0, 0);
	vec = guest_wrmsr_safe(msr, 0x1122334455667788ull);
	GUEST_SYNC_ARGS(vec, 0, 0, 0);
	GUEST_DONE();
}

/*
 * With interrupts off, tell the host (which queues an interrupt), then
 * open the window and wait until the handler has run exactly once.
 */
void guest_irq_wait(uint64_t unused)
{
	(void)unused;
	asm volatile("cli");
	GUEST_SYNC(1);
	GUEST_ASSERT_EQ(0, guest_irq_count);
	asm volatile("sti");
	while (!guest_irq_count)
		;
	asm volatile("cli");
	GUEST_SYNC(guest_irq_count);
	GUEST_DONE();
}

/* Interrupts off, SYNC, then STI and spin with them on. */
void guest_spin_sti(uint64_t unused)
{
	(void)unused;
	asm volatile("cli");
	GUEST_SYNC(1);
	asm volatile(".globl guest_sti_insn\n"
		     "guest_sti_insn:\n\tsti\n\tnop\n"
		     "1:\tjmp 1b");
}

/* Set RFLAGS.TF, then CPUID (emulated by hvx): the single-step trap must
 * come right after the CPUID, as on hardware. */
void guest_single_step(uint64_t unused)
{
	(void)unused;
	asm volatile("xor %%eax, %%eax\n\t"
		     "pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "cpuid\n"
		     ".globl guest_ss_next\n"
		     "guest_ss_next:\n\t"
		     "nop\n\t"
		     "nop"
		     : : : "rax", "rbx", "rcx", "rdx", "memory");
	GUEST_DONE();
}

static uint64_t guest_xsetbv_safe(uint32_t xcr, uint64_t val)
{
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "xsetbv\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip)
		     : "c"(xcr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
	return guest_fixup_vector;
}

/*
 * Enable XSAVE and AVX like an OS would (CR4.OSXSAVE, then XSETBV, SDM
 * Vol. 1 13.3), check that refused XCR0 values raise #GP, then keep a
 * pattern in YMM7 across a SYNC (the host runs another VM meanwhile) and
 * report whether it survived.
 */
void guest_avx(uint64_t pattern_byte)
{
	uint8_t pattern[32], seen[32];
	uint32_t a, b, c, d;
	uint64_t same = 1;

	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(c & (1u << 26));			/* XSAVE offered */
	GUEST_ASSERT(!(c & (1u << 27)));		/* OSXSAVE off */
	asm volatile("mov %0, %%cr4" : : "r"(guest_read_cr4() | (1ul << 18)));
	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(c & (1u << 27));			/* follows CR4 */

	GUEST_ASSERT_EQ(13, guest_xsetbv_safe(0, 0));	/* x87 must stay */
	GUEST_ASSERT_EQ(13, guest_xsetbv_safe(0, 5));	/* AVX needs SSE */
	GUEST_ASSERT_EQ(13, guest_xsetbv_safe(0, 1ull << 9));
	GUEST_ASSERT_EQ(13, guest_xsetbv_safe(1, 1));	/* only XCR0 */
	cpuid(0xd, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(576, b);			/* x87 only */
	GUEST_ASSERT_EQ(0, guest_xsetbv_safe(0, 7));
	cpuid(0xd, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(c, b);				/* all enabled */

	for (int i = 0; i < 32; i++)
		pattern[i] = pattern_byte + i;
	asm volatile("vmovdqu %0, %%ymm7" : : "m"(pattern));
	GUEST_SYNC(1);
	asm volatile("vmovdqu %%ymm7, %0" : "=m"(seen));
	for (int i = 0; i < 32; i++)
		same &= seen[i] == pattern[i];
	GUEST_SYNC(same);
	GUEST_DONE();
}
