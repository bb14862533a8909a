// SPDX-License-Identifier: GPL-2.0
/* lifecycle_guest.c - 64-bit guest code of lifecycle_test. */
#include "hvx_guest.h"
#include "lifecycle_guest.h"

/* LC_ITERATIONS steps, each reported as SYNC(i, x_i). */
void guest_count(uint64_t seed)
{
	uint64_t x = seed;

	for (uint64_t i = 0; i < LC_ITERATIONS; i++) {
		x = lc_next(x);
		GUEST_SYNC_ARGS(i, x, 0, 0);
	}
	GUEST_DONE();
}

/* An IN and an MMIO load; the host completes each with immediate_exit
 * set, so the guest only continues on the HVX_RUN after that. */
void guest_pending_reads(uint64_t unused)
{
	uint64_t rax = 0, rbx = 0;

	(void)unused;
	asm volatile(".globl lc_in_insn, lc_in_next\n"
		     "lc_in_insn:\tinl %[port], %%eax\n"
		     "lc_in_next:"
		     : "+a"(rax) : [port] "i"(LC_IN_PORT));
	GUEST_SYNC(rax);
	asm volatile(".globl lc_mmio_insn, lc_mmio_next\n"
		     "lc_mmio_insn:\tmovl (%[p]), %%ebx\n"
		     "lc_mmio_next:"
		     : "+b"(rbx) : [p] "r"((uint64_t)GPA_MMIO) : "memory");
	GUEST_SYNC(rbx);
	GUEST_DONE();
}
