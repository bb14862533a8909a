// SPDX-License-Identifier: GPL-2.0
/*
 * equiv_test - equivalence: the same code gives the same results natively
 * and in a guest; and a rare exit hvx does not emulate (task switch) stops
 * the VM with the exit reason reported.
 */
#include "hvx_test.h"
#include "hvx_guest.h"

#define OUT_GVA		GPA_BLOB_DATA
#define EQUIV_WORDS	32

/* The 32-bit task-switch guest, in equiv_blobs.S. */
extern const char ts_start[], ts_end[];

/* Guest code. */

GUEST_CODE
static uint64_t flags_of_add(uint64_t a, uint64_t b)
{
	uint64_t f;

	asm volatile("add %2, %1\n\tpushfq\n\tpop %0"
		     : "=r"(f), "+r"(a) : "r"(b) : "cc");
	return f & 0x8d5;	/* OF, SF, ZF, AF, PF, CF */
}

/* No libgcc in the guest: count bits by hand. */
GUEST_CODE
static uint64_t popcount(uint64_t v)
{
	uint64_t c = 0;

	for (; v; v &= v - 1)
		c++;
	return c;
}

/*
 * Code whose results must be the same natively and in a guest (Popek and
 * Goldberg's equivalence): integer arithmetic, flags, string instructions,
 * bit operations, and x87/SSE arithmetic (inline asm: GUEST_CODE has no
 * FPU code generation). The test calls it natively and the guest runs the
 * same machine code: noipa keeps it out of line and makes its callers
 * assume only the ABI, as its asm clobbers XMM0/1 and the x87 stack
 * without declaring them (no such clobbers without SSE and x87 code
 * generation).
 */
GUEST_CODE __attribute__((noipa))
static void guest_equiv_kernel(uint64_t *out)
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
	/* x87: sqrt(2) * pi, and SSE2: 1/3 in double and in float; the x87
	 * stack is empty again afterwards. */
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

GUEST_CODE
static void guest_equiv(uint64_t out_gva)
{
	guest_equiv_kernel((uint64_t *)out_gva);
	GUEST_DONE();
}

/* Host code. */

TEST(native_equals_guest)
{
	uint64_t native[EQUIV_WORDS], *guest;
	struct hvx_sregs s;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	guest_equiv_kernel(native);
	vcpu = vm_create_long(&vm, guest_equiv, OUT_GVA);
	/* The x87/SSE parts need what an OS sets: CR4.OSFXSR (SDM Vol. 3A
	 * 13.1.4), CR0.MP, no CR0.EM. */
	vcpu_get_sregs(vcpu, &s);
	s.cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	s.cr0 |= X86_CR0_MP;
	vcpu_set_sregs(vcpu, &s);
	vcpu_run_done(vcpu);
	guest = vm_gpa2hva(vm, OUT_GVA, sizeof(native));
	for (int i = 0; i < EQUIV_WORDS; i++) {
		EXPECT_EQ(native[i], guest[i]) TH_LOG("word %d", i);
	}
	vm_free(vm);
}

TEST(task_switch_stops_vm)
{
	struct hvx_sregs s;
	struct vcpu *vcpu;
	struct vm *vm;
	uint32_t *desc;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, ts_start, ts_end);
	/* GDT entry 0x30: an available 32-bit TSS at GPA_BLOB_DATA. */
	desc = vm_gpa2hva(vm, GPA_GDT + 0x30, 8);
	desc[0] = ((GPA_BLOB_DATA & 0xffff) << 16) | 0x67;
	desc[1] = ((GPA_BLOB_DATA >> 16) & 0xff) | 0x8900 |
		  (GPA_BLOB_DATA & 0xff000000);
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	vcpu_get_sregs(vcpu, &s);
	s.gdt.limit = 0x37;
	vcpu_set_sregs(vcpu, &s);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_INTERNAL_ERROR, vcpu);
	ASSERT_EQ(HVX_INTERNAL_UNHANDLED_EXIT, vcpu->run->internal.suberror);
	ASSERT_EQ(9, vcpu->run->internal.exit_reason);	/* task switch */
	vm_free(vm);
}

TEST_HARNESS_MAIN
