// SPDX-License-Identifier: GPL-2.0
/*
 * vmstate_guest.c - guests of vmstate_test: one runs port and MMIO
 * scripts the host writes into its memory (to program devices and read
 * them back, before a save and after a restore), one keeps a pattern in
 * its YMM registers across a save and a restore into another VM.
 */
#include "hvx_guest.h"
#include "vmstate_guest.h"

struct vs_script vs_script;

void guest_script(uint64_t unused)
{
	volatile struct vs_script *s = &vs_script;
	uint64_t round;

	(void)unused;
	for (round = 1;; round++) {
		GUEST_SYNC(round);
		for (uint32_t i = 0; i < s->n && i < VS_MAX_OPS; i++) {
			volatile struct vs_op *op = &s->ops[i];

			switch (op->kind) {
			case VS_OUTB:
				outb(op->addr, op->val);
				break;
			case VS_INB:
				op->val = inb(op->addr);
				break;
			case VS_W32:
				*(volatile uint32_t *)op->addr = op->val;
				break;
			case VS_R32:
				op->val = *(volatile uint32_t *)op->addr;
				break;
			}
		}
	}
}

static uint8_t want[16 * 32], seen[16 * 32];

void guest_avx(uint64_t seed)
{
	uint32_t a, b, c, d;
	uint64_t bad = 0;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26)) || !(c & (1u << 28))) {	/* XSAVE, AVX */
		GUEST_SYNC(0);
		GUEST_DONE();
	}
	asm volatile("mov %0, %%cr4" : : "r"(guest_read_cr4() | (1ul << 18)));
	asm volatile("xsetbv" : : "c"(0), "a"(7), "d"(0));
	for (int r = 0; r < 16; r++)
		for (int i = 0; i < 32; i++)
			want[r * 32 + i] = vs_pattern(seed, r, i);
	asm volatile("vmovdqu 0(%0), %%ymm0\n\t vmovdqu 32(%0), %%ymm1\n\t"
		     "vmovdqu 64(%0), %%ymm2\n\t vmovdqu 96(%0), %%ymm3\n\t"
		     "vmovdqu 128(%0), %%ymm4\n\t vmovdqu 160(%0), %%ymm5\n\t"
		     "vmovdqu 192(%0), %%ymm6\n\t vmovdqu 224(%0), %%ymm7\n\t"
		     "vmovdqu 256(%0), %%ymm8\n\t vmovdqu 288(%0), %%ymm9\n\t"
		     "vmovdqu 320(%0), %%ymm10\n\t vmovdqu 352(%0), %%ymm11\n\t"
		     "vmovdqu 384(%0), %%ymm12\n\t vmovdqu 416(%0), %%ymm13\n\t"
		     "vmovdqu 448(%0), %%ymm14\n\t vmovdqu 480(%0), %%ymm15"
		     : : "r"(want) : "memory");
	GUEST_SYNC(1);
	asm volatile("vmovdqu %%ymm0, 0(%0)\n\t vmovdqu %%ymm1, 32(%0)\n\t"
		     "vmovdqu %%ymm2, 64(%0)\n\t vmovdqu %%ymm3, 96(%0)\n\t"
		     "vmovdqu %%ymm4, 128(%0)\n\t vmovdqu %%ymm5, 160(%0)\n\t"
		     "vmovdqu %%ymm6, 192(%0)\n\t vmovdqu %%ymm7, 224(%0)\n\t"
		     "vmovdqu %%ymm8, 256(%0)\n\t vmovdqu %%ymm9, 288(%0)\n\t"
		     "vmovdqu %%ymm10, 320(%0)\n\t vmovdqu %%ymm11, 352(%0)\n\t"
		     "vmovdqu %%ymm12, 384(%0)\n\t vmovdqu %%ymm13, 416(%0)\n\t"
		     "vmovdqu %%ymm14, 448(%0)\n\t vmovdqu %%ymm15, 480(%0)"
		     : : "r"(seen) : "memory");
	for (int i = 0; i < 16 * 32; i++)
		bad += want[i] != seen[i];
	GUEST_SYNC(2 + bad);
	GUEST_DONE();
}
