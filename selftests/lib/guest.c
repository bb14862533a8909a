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

/**
 * guest_enable_avx() - enable AVX in the guest as Linux does
 *
 * If CPUID.1:ECX offers XSAVE (bit 26) and AVX (bit 28), sets CR4.OSXSAVE
 * and then XCR0 = x87 | SSE | AVX with XSETBV (SDM Vol. 1 13.3). Context:
 * guest code, CPL 0.
 *
 * Return: 1 if AVX is now enabled, 0 if the vCPU does not offer it
 * (nothing is changed then).
 */
int guest_enable_avx(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26)) || !(c & (1u << 28)))
		return 0;
	asm volatile("mov %0, %%cr4" : : "r"(guest_read_cr4() | (1ul << 18)));
	asm volatile("xsetbv" : : "c"(0), "a"(7), "d"(0));
	return 1;
}

/**
 * guest_ymm_load() - load YMM0-YMM15 from memory
 * @buf: GUEST_YMM_BYTES bytes, register r at @buf + r * 32 (any alignment)
 *
 * Context: guest code with AVX enabled (guest_enable_avx()); #UD otherwise.
 */
void guest_ymm_load(const uint8_t *buf)
{
	asm volatile("vmovdqu 0(%0), %%ymm0\n\t vmovdqu 32(%0), %%ymm1\n\t"
		     "vmovdqu 64(%0), %%ymm2\n\t vmovdqu 96(%0), %%ymm3\n\t"
		     "vmovdqu 128(%0), %%ymm4\n\t vmovdqu 160(%0), %%ymm5\n\t"
		     "vmovdqu 192(%0), %%ymm6\n\t vmovdqu 224(%0), %%ymm7\n\t"
		     "vmovdqu 256(%0), %%ymm8\n\t vmovdqu 288(%0), %%ymm9\n\t"
		     "vmovdqu 320(%0), %%ymm10\n\t vmovdqu 352(%0), %%ymm11\n\t"
		     "vmovdqu 384(%0), %%ymm12\n\t vmovdqu 416(%0), %%ymm13\n\t"
		     "vmovdqu 448(%0), %%ymm14\n\t vmovdqu 480(%0), %%ymm15"
		     : : "r"(buf) : "memory");
}

/**
 * guest_ymm_store() - store YMM0-YMM15 to memory
 * @buf: GUEST_YMM_BYTES bytes, register r to @buf + r * 32 (any alignment)
 *
 * Guest code is built without SSE, so no compiled code between a
 * guest_ymm_load() and this changes the registers. Context: as
 * guest_ymm_load().
 */
void guest_ymm_store(uint8_t *buf)
{
	asm volatile("vmovdqu %%ymm0, 0(%0)\n\t vmovdqu %%ymm1, 32(%0)\n\t"
		     "vmovdqu %%ymm2, 64(%0)\n\t vmovdqu %%ymm3, 96(%0)\n\t"
		     "vmovdqu %%ymm4, 128(%0)\n\t vmovdqu %%ymm5, 160(%0)\n\t"
		     "vmovdqu %%ymm6, 192(%0)\n\t vmovdqu %%ymm7, 224(%0)\n\t"
		     "vmovdqu %%ymm8, 256(%0)\n\t vmovdqu %%ymm9, 288(%0)\n\t"
		     "vmovdqu %%ymm10, 320(%0)\n\t vmovdqu %%ymm11, 352(%0)\n\t"
		     "vmovdqu %%ymm12, 384(%0)\n\t vmovdqu %%ymm13, 416(%0)\n\t"
		     "vmovdqu %%ymm14, 448(%0)\n\t vmovdqu %%ymm15, 480(%0)"
		     : : "r"(buf) : "memory");
}

void guest_spin(uint64_t counter_gva)
{
	volatile uint64_t *counter = (volatile uint64_t *)counter_gva;

	for (;;)
		(*counter)++;
}

/*
 * Dropping to CPL 3: the DPL 3 segments go after the lib's GDT entries
 * (the TSS descriptor ends at GDT_LIMIT), the stack is the lib's.
 */
#define SEL_UCODE	(GDT_LIMIT + 1)
#define SEL_UDATA	(SEL_UCODE + 8)
#define PTE_USER	(1ull << 2)
#define X86_CR4_SMEP	(1ull << 20)
#define X86_CR4_SMAP	(1ull << 21)

static uint8_t guest_user_stack[4096] __attribute__((aligned(16)));

void guest_enter_user(void (*fn)(void))
{
	volatile uint64_t *gdt = (volatile uint64_t *)GPA_GDT;
	volatile uint64_t *pdpt = (volatile uint64_t *)GPA_PDPT;
	volatile uint64_t *pd = (volatile uint64_t *)GPA_PD;
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;
	uint64_t cr3, cr4, rsp;
	int i;

	gdt[SEL_UCODE / 8] = 0x00affa000000ffffull;	/* L = 1, DPL 3 */
	gdt[SEL_UDATA / 8] = 0x00cff2000000ffffull;	/* DPL 3 */
	gdtr.limit = SEL_UDATA + 7;
	gdtr.base = GPA_GDT;
	asm volatile("lgdt %0" : : "m"(gdtr));
	/* The user bit in PML4[0], PDPT[0-3] and the four PDs. */
	((volatile uint64_t *)GPA_PML4)[0] |= PTE_USER;
	for (i = 0; i < 4; i++)
		pdpt[i] |= PTE_USER;
	for (i = 0; i < 4 * 512; i++)
		pd[i] |= PTE_USER;
	/* CPL 0 code now runs from, and touches, user pages. */
	cr4 = guest_read_cr4();
	if (cr4 & (X86_CR4_SMEP | X86_CR4_SMAP))
		asm volatile("mov %0, %%cr4"
			     : : "r"(cr4 & ~(X86_CR4_SMEP | X86_CR4_SMAP)));
	asm volatile("mov %%cr3, %0\n\tmov %0, %%cr3" : "=r"(cr3) : : "memory");
	/* RSP0 (TSS offset 4), for exceptions and interrupts at CPL 3. */
	asm volatile("mov %%rsp, %0" : "=r"(rsp));
	*(volatile uint64_t *)(GPA_TSS + 4) = (rsp - 512) & ~15ull;
	/* IRETQ to @fn: SS, RSP, RFLAGS (IOPL 3, IF = 0), CS, RIP. */
	asm volatile("push %[ss]\n\t"
		     "push %[sp]\n\t"
		     "push %[fl]\n\t"
		     "push %[cs]\n\t"
		     "push %[ip]\n\t"
		     "iretq"
		     : : [ss] "i"(SEL_UDATA | 3),
		       [sp] "r"((uint64_t)guest_user_stack +
				sizeof(guest_user_stack) - 8),
		       [fl] "i"(0x3002), [cs] "i"(SEL_UCODE | 3),
		       [ip] "r"((uint64_t)fn)
		     : "memory");
	__builtin_unreachable();
}
