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
