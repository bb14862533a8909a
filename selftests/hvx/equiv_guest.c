// SPDX-License-Identifier: GPL-2.0
/*
 * equiv_guest.c - code whose results must be the same natively and in a
 * guest (Popek and Goldberg's equivalence): integer arithmetic, flags,
 * string instructions, bit operations, and x87/SSE arithmetic (inline
 * asm: guest C is built without FPU code generation).
 */
#include "hvx_guest.h"
#include "equiv_guest.h"

static uint64_t flags_of_add(uint64_t a, uint64_t b)
{
	uint64_t f;

	asm volatile("add %2, %1\n\tpushfq\n\tpop %0"
		     : "=r"(f), "+r"(a) : "r"(b) : "cc");
	return f & 0x8d5;	/* OF, SF, ZF, AF, PF, CF */
}

/* No libgcc in the guest: count bits by hand. */
static uint64_t popcount(uint64_t v)
{
	uint64_t c = 0;

	for (; v; v &= v - 1)
		c++;
	return c;
}

void guest_equiv_kernel(uint64_t *out)
{
	uint64_t x = 0x0123456789abcdefull, h = 0xcbf29ce484222325ull;
	uint8_t src[64], dst[64];
	uint64_t d;
	uint32_t fl;
	int n = 0;

	for (int i = 0; i < 1000; i++) {		/* FNV-1a over a LCG */
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		h = (h ^ (x >> 17)) * 0x100000001b3ull;
	}
	out[n++] = h;
	out[n++] = x / 12345 + x % 12345;
	out[n++] = (uint64_t)((int64_t)(x ^ h) >> 13);
	out[n++] = popcount(x) | (uint64_t)__builtin_clzll(h | 1) << 8 |
		   (uint64_t)__builtin_ctzll(x | (1ull << 63)) << 16;
	out[n++] = flags_of_add(~0ull, 1);
	out[n++] = flags_of_add(0x7fffffffffffffffull, 1);
	out[n++] = flags_of_add(0x0f, 0x01);
	for (int i = 0; i < 64; i++)
		src[i] = x >> (i % 57);
	asm volatile("rep movsb" : : "S"(src), "D"(dst), "c"(64) : "memory");
	asm volatile("std\n\trep stosb\n\tcld"
		     : : "D"(dst + 63), "a"(0x5a), "c"(8) : "memory");
	for (int i = 0; i < 8; i++)
		out[n++] = ((uint64_t *)dst)[i];
	/*
	 * x87: sqrt(2) * pi, and SSE2: 1/3 in double and in float. XMM0/1
	 * are not declared clobbered: this file is built without SSE code
	 * generation (-mgeneral-regs-only), so nothing else lives there.
	 */
	asm volatile("fninit\n\tfld1\n\tfadd %%st(0), %%st(0)\n\tfsqrt\n\t"
		     "fldpi\n\tfmulp\n\tfstpl %0" : "=m"(d));
	out[n++] = d;
	asm volatile("mov $1, %%eax\n\tcvtsi2sd %%eax, %%xmm0\n\t"
		     "mov $3, %%eax\n\tcvtsi2sd %%eax, %%xmm1\n\t"
		     "divsd %%xmm1, %%xmm0\n\tmovsd %%xmm0, %0"
		     : "=m"(d) : : "rax");
	out[n++] = d;
	asm volatile("mov $1, %%eax\n\tcvtsi2ss %%eax, %%xmm0\n\t"
		     "mov $3, %%eax\n\tcvtsi2ss %%eax, %%xmm1\n\t"
		     "divss %%xmm1, %%xmm0\n\tmovss %%xmm0, %0"
		     : "=m"(fl) : : "rax");
	out[n++] = fl;
	while (n < EQUIV_WORDS)
		out[n++] = 0;
}

void guest_equiv(uint64_t out_gva)
{
	guest_equiv_kernel((uint64_t *)out_gva);
	GUEST_DONE();
}
