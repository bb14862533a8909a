// SPDX-License-Identifier: GPL-2.0
/*
 * bench_guest.c - the benchmark's guest code: one body, run unchanged under
 * hvx and under KVM, on the selftests' guest library (selftests/lib/
 * hvx_guest.h: ucalls, GUEST_ASSERT, port I/O, CPUID, MSRs; guest.c and
 * guest_entry.S: exception handling). Built with GUEST_CFLAGS (no SSE, no
 * red zone, no libc); it may reference only bench_* and guest_* symbols.
 *
 * bench_guest_main() runs one operation: a short warm-up, then @rounds
 * timed loops of @iters iterations, each reported with a ucall as the TSC
 * ticks the whole loop took (GUEST_SYNC_ARGS(op, round, ticks)). RDTSC
 * does not exit under either hypervisor, and the ucall is outside the
 * timed loop.
 */
#include <stdint.h>

#include "hvx_guest.h"
#include "bench.h"

#define PAGE_SIZE	4096

/* bench_entry.S: reports an unexpected vector (LSTAR and CSTAR point here). */
extern const char bench_unexpected_stub[];

/* Written by the interrupt stubs in bench_entry.S. */
volatile uint64_t bench_irq_count;
volatile uint64_t bench_irq_tsc;

void bench_guest_main(uint64_t op, uint64_t iters, uint64_t rounds,
		      uint64_t fresh, uint64_t flags);

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	/* LFENCE: earlier instructions finish before the TSC is read
	 * (SDM Vol. 2B, RDTSC).
	 */
	asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return lo | (uint64_t)hi << 32;
}

/*
 * A failed check: the library's UCALL_ASSERT report (guest_layout.h, with
 * arg2 = @value; the host prints file, line, expression and value), made
 * inline rather than by calling guest_assert_failed() as GUEST_ASSERT
 * does. The checks sit in operations that are timed and traced; a call on
 * their failure path changes GCC's register allocation, and so the counted
 * instructions, of the code they check.
 */
#define BENCH_CHECK(cond, value) do {					\
	if (!(cond)) {							\
		static const struct guest_assert_info __info = {	\
			__FILE__, #cond, __LINE__, 2 };			\
		ucall(UCALL_ASSERT, (uint64_t)&__info, 0, (value), 0);	\
		for (;;)						\
			asm volatile("cli; hlt");			\
	}								\
} while (0)

static inline void apic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(BENCH_APIC_GPA + reg) = val;
}

/*
 * The state a 64-bit Linux kernel leaves behind by the time it runs
 * anything a hypervisor would measure, so that both hypervisors pay for the
 * state a real guest has (guest XCR0 != host XCR0 is an XSETBV per
 * round trip; SYSCALL MSRs that differ from the host's must be switched):
 *
 *   - CR4.OSFXSR, OSXMMEXCPT, and OSXSAVE with XCR0 = x87|SSE|AVX as far
 *     as CPUID.(0DH,0):EAX offers them (Linux's fpu__init_cpu_xstate();
 *     SDM Vol. 1 13.3; no AVX-512 in Bochs's CPU models);
 *   - EFER.SCE, and STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE written
 *     (Linux's syscall_init(); SDM Vol. 3A 5.8.8). LSTAR and CSTAR point
 *     at a stub that reports an unexpected vector: nothing here executes
 *     SYSCALL. KERNEL_GS_BASE holds a user-space GS base.
 *
 * Every step is a guest instruction that exits, so each hypervisor handles
 * it as it would for Linux; none of it is inside a timed loop.
 */
static void linux_cpu_state(void)
{
	uint32_t a, b, c, d, xa, xb, xc, xd;
	uint64_t cr4 = guest_read_cr4(), xcr0 = 0;

	cpuid(1, 0, &a, &b, &c, &d);
	cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	if (c & CPUID_1_ECX_XSAVE) {
		cpuid(0xd, 0, &xa, &xb, &xc, &xd);
		xcr0 = xa & (XCR0_X87 | XCR0_SSE |
			     (c & CPUID_1_ECX_AVX ? XCR0_AVX : 0));
		cr4 |= CR4_OSXSAVE;
	}
	asm volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
	if (xcr0)
		asm volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0),
			     "d"((uint32_t)(xcr0 >> 32)) : "memory");

	guest_wrmsr(MSR_EFER, guest_rdmsr(MSR_EFER) | EFER_SCE);
	guest_wrmsr(MSR_STAR, LINUX_STAR);
	guest_wrmsr(MSR_LSTAR, (uint64_t)bench_unexpected_stub);
	guest_wrmsr(MSR_CSTAR, (uint64_t)bench_unexpected_stub);
	guest_wrmsr(MSR_SFMASK, LINUX_SFMASK);
	guest_wrmsr(MSR_KERNEL_GS_BASE, LINUX_USER_GS_BASE);
}

/*
 * A Bochs magic breakpoint (bochsrc "magic_break: enabled=1"): the
 * debugger turns instruction tracing on at the first and off at the
 * second. RAX holds BENCH_TRACE_TAG, which the first traced register dump
 * shows, so that the trace parser knows the window's operation and
 * hypervisor. On a real CPU it is an exchange of BX with itself.
 */
static inline void trace_mark(uint64_t tag)
{
	asm volatile("xchg %%bx, %%bx" : : "a"(tag) : "memory");
}

/*
 * Each op_*() is one timed loop; noinline so that every operation pays the
 * same few loop instructions around its body.
 */
static uint64_t __attribute__((noinline)) op_cpuid(uint64_t n)
{
	uint64_t t0 = rdtsc();

	/* The instruction under test written out: with the library's
	 * cpuid() (x86.h) GCC allocates this loop's registers differently,
	 * and the counts in baseline.json are of this code. */
	for (uint64_t i = 0; i < n; i++) {
		uint32_t a = 0, b, c = 0, d;

		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	}
	return rdtsc() - t0;
}

/*
 * VMCALL with RAX = a hypercall number nobody defines: KVM and hvx
 * return -KVM_ENOSYS in RAX (a hypervisor that injects #UD instead is
 * skipped over by bench_ud_stub).
 */
static uint64_t __attribute__((noinline)) op_vmcall(uint64_t n)
{
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < n; i++) {
		uint64_t rax = 0x7fff0000;

		asm volatile("vmcall" : "+a"(rax) : : "memory");
	}
	return rdtsc() - t0;
}

static uint64_t __attribute__((noinline)) op_pio_kernel(uint64_t n)
{
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < n; i++)
		inb(PIC_IMR_PORT);
	return rdtsc() - t0;
}

static uint64_t __attribute__((noinline)) op_pio_user(uint64_t n)
{
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < n; i++)
		outb(BENCH_PIO_PORT, 0);
	return rdtsc() - t0;
}

static uint64_t __attribute__((noinline)) op_mmio_user(uint64_t n)
{
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < n; i++)
		asm volatile("movl %0, (%1)"
			     : : "a"(0), "r"(BENCH_MMIO_GPA) : "memory");
	return rdtsc() - t0;
}

/* One write to each of @n consecutive fresh pages from @base. */
static uint64_t __attribute__((noinline)) op_ept_fault(uint64_t n,
						       uint64_t base)
{
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < n; i++)
		*(volatile uint8_t *)(base + i * PAGE_SIZE) = 1;
	return rdtsc() - t0;
}

/* A fixed self-IPI (ICR shorthand "self"), delivered to bench_ipi_stub. */
static uint64_t __attribute__((noinline)) op_ipi(uint64_t n)
{
	uint64_t c0 = bench_irq_count, t0;

	asm volatile("sti" : : : "memory");
	t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		apic_write(APIC_ICR_LO, APIC_ICR_SELF | APIC_ICR_ASSERT |
			   VEC_IPI);
	t0 = rdtsc() - t0;
	asm volatile("cli" : : : "memory");
	BENCH_CHECK(bench_irq_count - c0 == n, bench_irq_count - c0);
	return t0;
}

/*
 * HLT until the TSC-deadline timer fires HLT_DEADLINE_DELTA ticks later;
 * the result is the sum of (TSC in the handler - deadline): how long after
 * its deadline a sleeping vCPU runs its interrupt handler.
 */
static uint64_t __attribute__((noinline)) op_hlt_wake(uint64_t n)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t deadline = rdtsc() + HLT_DEADLINE_DELTA;

		bench_irq_tsc = 0;
		guest_wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
		/* STI's interrupt shadow covers HLT: no wake-up is lost. */
		asm volatile("sti; hlt; cli" : : : "memory");
		BENCH_CHECK(bench_irq_tsc >= deadline, bench_irq_tsc);
		sum += bench_irq_tsc - deadline;
	}
	return sum;
}

static uint64_t run_op(uint64_t op, uint64_t n, uint64_t fresh)
{
	switch (op) {
	case OP_CPUID:
		return op_cpuid(n);
	case OP_VMCALL:
		return op_vmcall(n);
	case OP_PIO_KERNEL:
		return op_pio_kernel(n);
	case OP_PIO_USER:
		return op_pio_user(n);
	case OP_MMIO_USER:
		return op_mmio_user(n);
	case OP_EPT_FAULT:
		return op_ept_fault(n, fresh);
	case OP_IPI:
		return op_ipi(n);
	case OP_HLT_WAKE:
		return op_hlt_wake(n);
	}
	return 0;	/* bench_guest_main() checked op */
}

/* Software-enable the xAPIC; the timer in TSC-deadline mode (SDM Vol. 3A
 * 11.5.4.1).
 */
static void apic_setup(void)
{
	apic_write(APIC_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS);
	apic_write(APIC_LVT_TIMER, APIC_LVT_TSC_DEADLINE | VEC_TIMER);
}

void bench_guest_main(uint64_t op, uint64_t iters, uint64_t rounds,
		      uint64_t fresh, uint64_t flags)
{
	BENCH_CHECK(op < NR_GUEST_OPS, op);
	linux_cpu_state();
	if (op == OP_IPI || op == OP_HLT_WAKE)
		apic_setup();
	if (op == OP_EPT_FAULT) {
		run_op(op, EPT_WARMUP_PAGES, fresh);
		fresh += EPT_WARMUP_PAGES * PAGE_SIZE;
	} else {
		run_op(op, iters < WARMUP_ITERS ? iters : WARMUP_ITERS, fresh);
	}
	/*
	 * More iterations, warm, each between two magic breakpoints: the
	 * windows bench.sh traces instruction by instruction. There are
	 * BENCH_TRACE_WINDOWS of them, so that a host timer tick, which can
	 * land in one, cannot land in all (benchtool.py keeps the cheapest).
	 */
	for (uint64_t w = 0; (flags & BENCH_F_TRACE) && w < BENCH_TRACE_WINDOWS; w++) {
		trace_mark(BENCH_TRACE_TAG(op, flags));
		run_op(op, 1, fresh);
		trace_mark(BENCH_TRACE_TAG(op, flags));
		if (op == OP_EPT_FAULT)
			fresh += PAGE_SIZE;
	}
	for (uint64_t r = 0; r < rounds; r++) {
		uint64_t t = run_op(op, iters, fresh);

		if (op == OP_EPT_FAULT)
			fresh += iters * PAGE_SIZE;
		GUEST_SYNC_ARGS(op, r, t, 0);
	}
}
