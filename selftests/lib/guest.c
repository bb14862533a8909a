// SPDX-License-Identifier: GPL-2.0
/*
 * guest.c - guest side of the library (compiled with GUEST_CFLAGS).
 */
#include "hvx_guest.h"

volatile uint64_t guest_fixup_rip;
volatile uint64_t guest_fixup_vector;
volatile uint64_t guest_fixup_error;
volatile uint64_t guest_fixup_rflags;

/* The frame guest_exc_common (guest_entry.S) builds on the stack: pushed
 * GPRs, then vector and error code, then the CPU's 64-bit interrupt frame
 * (SDM Vol. 3A, "Exception and Interrupt Handling in 64-bit Mode"). */
struct guest_exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

void guest_exception_handler(struct guest_exc_frame *f);

static void __attribute__((noreturn)) guest_halt_forever(void)
{
	for (;;)
		asm volatile("hlt");
}

void guest_exception_handler(struct guest_exc_frame *f)
{
	if (guest_fixup_rip) {
		f->rip = guest_fixup_rip;
		guest_fixup_rip = 0;
		guest_fixup_vector = f->vector;
		guest_fixup_error = f->error_code;
		guest_fixup_rflags = f->rflags;
		return;
	}
	ucall(UCALL_UNHANDLED, f->vector, f->error_code, f->rip, 0);
	guest_halt_forever();
}

void guest_assert_failed(const struct guest_assert_info *info, uint64_t a,
			 uint64_t b)
{
	ucall(UCALL_ASSERT, (uint64_t)info, a, b, 0);
	guest_halt_forever();
}

void guest_memset(void *dst, int c, uint64_t n)
{
	volatile uint8_t *d = dst;	/* volatile: no call to memset */

	while (n--)
		*d++ = c;
}

/* Generic guests for tests that only need "a guest that reaches a ucall"
 * or "a guest that never exits". */
void guest_sync_done(uint64_t arg)
{
	GUEST_SYNC(arg);
	GUEST_DONE();
}

void guest_spin(uint64_t counter_gva)
{
	volatile uint64_t *counter = (volatile uint64_t *)counter_gva;

	for (;;)
		(*counter)++;
}
