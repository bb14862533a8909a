/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_entry.S - the benchmark guest's own interrupt stubs, on top of the
 * selftests' guest library (selftests/lib/guest_entry.S: the exception
 * stubs of vectors 0-31, guest_exc_common, which reports UCALL_UNHANDLED,
 * and guest_return_trap, the return address of bench_guest_main()). Runs
 * in the guest only, in 64-bit mode, at the binary's link addresses (see
 * bench.h).
 *
 * Frames: in 64-bit mode the CPU pushes SS, RSP, RFLAGS, CS, RIP and, for
 * vectors 8, 10-14, 17, 21, 29 and 30, an error code (SDM Vol. 3A 6.14.2
 * and table 6-1); a stub that gives up pushes an error code (0) and the
 * vector, as the library's stubs do, and jumps to guest_exc_common.
 */
#include "bench.h"

	.code64
	.text

/* Any vector from 32 up that the guest did not expect: reported as 0x100. */
	.p2align 4
	.globl	bench_unexpected_stub
bench_unexpected_stub:
	pushq	$0
	pushq	$0x100
	jmp	guest_exc_common

/*
 * #UD: a hypervisor without hypercalls injects it for VMCALL. Skip a VMCALL (0f 01 c1, SDM Vol. 2B)
 * and resume after it; any other #UD is unexpected.
 */
	.p2align 4
	.globl	bench_ud_stub
bench_ud_stub:
	pushq	%rax
	movq	8(%rsp), %rax		/* RIP of the faulting instruction */
	movl	(%rax), %eax
	andl	$0xffffff, %eax
	cmpl	$0xc1010f, %eax
	jne	1f
	addq	$3, 8(%rsp)
	popq	%rax
	iretq
1:	popq	%rax
	pushq	$0
	pushq	$X86_VEC_UD
	jmp	guest_exc_common

/* The self-IPI: count it and signal end of interrupt to the xAPIC. */
	.p2align 4
	.globl	bench_ipi_stub
bench_ipi_stub:
	pushq	%rax
	incq	bench_irq_count(%rip)
	movl	$(BENCH_APIC_GPA + APIC_EOI), %eax
	movl	$0, (%rax)
	popq	%rax
	iretq

/* The TSC-deadline timer: note the TSC first, then end of interrupt. */
	.p2align 4
	.globl	bench_timer_stub
bench_timer_stub:
	pushq	%rax
	pushq	%rdx
	lfence
	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
	movq	%rax, bench_irq_tsc(%rip)
	incq	bench_irq_count(%rip)
	movl	$(BENCH_APIC_GPA + APIC_EOI), %eax
	movl	$0, (%rax)
	popq	%rdx
	popq	%rax
	iretq

/* The spurious-interrupt vector needs no EOI (SDM Vol. 3A 11.9). */
	.p2align 4
	.globl	bench_spurious_stub
bench_spurious_stub:
	iretq

	.section .note.GNU-stack, "", @progbits
