// SPDX-License-Identifier: GPL-2.0
/* modes_guest.c - 64-bit guest code of modes_test. */
#include "hvx_guest.h"
#include "modes_guest.h"

uint64_t modes_table[64];

static uint64_t __attribute__((noinline)) fib(uint64_t n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* Entered directly in 64-bit mode by vcpu_setup_long(). */
void guest_long_mode(uint64_t fib_n)
{
	uint64_t efer, sum = 0;

	GUEST_ASSERT(guest_read_cr0() & X86_CR0_PG);
	GUEST_ASSERT(guest_read_cr4() & X86_CR4_PAE);
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_EFER, &efer));
	GUEST_ASSERT_EQ(EFER_LME | EFER_LMA, efer & (EFER_LME | EFER_LMA));

	/* Recursion: calls, returns and the stack work. */
	GUEST_SYNC(fib(fib_n));

	/* 64-bit arithmetic and stores to a global (guest memory). */
	for (uint64_t i = 0; i < 64; i++)
		modes_table[i] = i * i * 0x100000001ull;
	for (uint64_t i = 0; i < 64; i++)
		sum += modes_table[i];
	GUEST_SYNC(sum);
	GUEST_DONE();
}

/* An invalid opcode goes through the lib's IDT and is reported as a
 * UCALL_UNHANDLED with vector 6 and the RIP of the UD2. */
void guest_ud2(uint64_t unused)
{
	(void)unused;
	asm volatile(".globl guest_ud2_insn\n"
		     "guest_ud2_insn: ud2");
	GUEST_DONE();
}
