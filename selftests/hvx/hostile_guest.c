// SPDX-License-Identifier: GPL-2.0
/* hostile_guest.c - 64-bit guest code of hostile_test. */
#include "hvx_guest.h"
#include "hostile_guest.h"

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64 (Marsaglia 2003) */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t guest_write_cr_safe(int cr, uint64_t val)
{
	guest_fixup_vector = 0;
	if (cr == 0)
		asm volatile("movq $1f, %[fix]\n\tmov %[v], %%cr0\n"
			     "1:\tmovq $0, %[fix]"
			     : [fix] "=m"(guest_fixup_rip) : [v] "r"(val) : "memory");
	else
		asm volatile("movq $1f, %[fix]\n\tmov %[v], %%cr4\n"
			     "1:\tmovq $0, %[fix]"
			     : [fix] "=m"(guest_fixup_rip) : [v] "r"(val) : "memory");
	return guest_fixup_vector;
}

/*
 * Write random values to random MSRs (around the architectural ranges
 * and anywhere) and random bits into CR0/CR4. Every write either takes
 * effect or raises #GP; none may end the VM or touch the host. CR0.PG,
 * PE and CR4.PAE stay set so the guest keeps running its own code.
 */
void guest_wild_msr_cr(uint64_t seed)
{
	static const uint32_t bases[] = {
		0x0, 0x10, 0x1b, 0x3a, 0x48, 0x8b, 0x174, 0x1d9, 0x200, 0x277,
		0x2ff, 0x480, 0x6e0, 0x800, 0xc0000080, 0xc0000100,
	};
	uint64_t cr0 = guest_read_cr0(), cr4 = guest_read_cr4();
	uint64_t s = seed | 1, val, faults = 0;

	for (int i = 0; i < 1500; i++) {
		uint64_t r = next_rand(&s);
		uint32_t msr = (r & 1) ? (uint32_t)(r >> 32) :
			       bases[(r >> 8) % 16] + ((r >> 16) & 0xff);

		val = next_rand(&s);
		if (r & 2)	/* keep some values small and canonical */
			val &= 0xffff;
		/* Never move the guest's own stack and code segments away. */
		if (msr == 0xc0000100 || msr == 0xc0000101)
			continue;
		faults += !!guest_wrmsr_safe(msr, val);
		faults += !!guest_rdmsr_safe(msr, &val);
	}
	for (int i = 0; i < 300; i++) {
		val = next_rand(&s);
		faults += !!guest_write_cr_safe(0, (val & ~0x80000001ull) |
						   (cr0 & 0x80000001ull));
		faults += !!guest_write_cr_safe(4, (val & ~0x20ull) | 0x20);
	}
	guest_write_cr_safe(0, cr0);
	guest_write_cr_safe(4, cr4);
	GUEST_SYNC(faults);
	GUEST_DONE();
}

/* --- interrupt and NMI storm ------------------------------------------- */

volatile uint64_t guest_storm_irqs, guest_storm_nmis;

asm(".pushsection .text\n"
    ".globl guest_storm_irq_stub\n"
    "guest_storm_irq_stub:\n\t"
    "lock incq guest_storm_irqs(%rip)\n\t"
    "iretq\n"
    ".globl guest_storm_nmi_stub\n"
    "guest_storm_nmi_stub:\n\t"
    "lock incq guest_storm_nmis(%rip)\n\t"
    "iretq\n"
    ".popsection");

/*
 * With interrupts open, do exits of several kinds (CPUID, port I/O,
 * HLT) while the host throws interrupts and NMIs at us, until @want
 * events have arrived; then report both counts.
 */
void guest_storm(uint64_t want)
{
	uint32_t a, b, c, d;

	asm volatile("sti");
	for (uint64_t i = 0; guest_storm_irqs + guest_storm_nmis < want; i++) {
		a = i;
		c = 0;
		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		if (i % 64 == 0)
			asm volatile("outb %%al, $0x80" : : "a"(0));
		if (i % 256 == 0)
			asm volatile("hlt");	/* woken by the next interrupt */
	}
	asm volatile("cli");
	GUEST_SYNC_ARGS(guest_storm_irqs, guest_storm_nmis, 0, 0);
	GUEST_DONE();
}

/* --- every GPA outside RAM --------------------------------------------- */

/*
 * Read and write every 2 MiB step of the identity-mapped 0..4 GiB from
 * @first up: nothing there is RAM, so each access must reach the host as
 * an MMIO exit (reads return ~GPA), never host memory.
 */
void guest_touch_gpas(uint64_t first)
{
	uint64_t n = 0;

	for (uint64_t gpa = first; gpa < (4ull << 30); gpa += 2ull << 20) {
		volatile uint64_t *p = (volatile uint64_t *)gpa;

		GUEST_ASSERT_EQ(~gpa, p[0]);
		p[1] = gpa;
		n++;
	}
	GUEST_SYNC(n);
	GUEST_DONE();
}
