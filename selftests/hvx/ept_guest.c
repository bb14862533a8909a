// SPDX-License-Identifier: GPL-2.0
/*
 * ept_guest.c - guest side of ept_test: an operation loop driven by the
 * host through ept_args (in guest RAM; the host changes it between runs).
 */
#include "hvx_guest.h"
#include "ept_guest.h"

struct ept_args ept_args;

void guest_ept(uint64_t unused)
{
	volatile struct ept_args *a = &ept_args;

	(void)unused;
	for (;;) {
		uint64_t op = a->op, gpa = a->gpa, r = 0;

		switch (op) {
		case EPT_OP_DONE:
			GUEST_DONE();
			break;
		case EPT_OP_READ:
			r = *(volatile uint64_t *)gpa;
			break;
		case EPT_OP_WRITE:
			for (uint64_t p = gpa; p < gpa + a->size; p += 8)
				*(volatile uint64_t *)p = p ^ a->seed;
			break;
		case EPT_OP_CHECK:
			for (uint64_t p = gpa; p < gpa + a->size; p += 8)
				GUEST_ASSERT_EQ(p ^ a->seed, *(volatile uint64_t *)p);
			break;
		case EPT_OP_CALL:
			/* Code the host wrote into guest RAM. */
			r = ((uint64_t (*)(uint64_t))gpa)(a->seed);
			break;
		}
		GUEST_SYNC_ARGS(op, r, 0, 0);
	}
}
