/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_entry.S - the benchmark guest's interrupt and exception stubs, and
 * the return address of bench_guest_main(). Runs in the guest only, in
 * 64-bit mode, at the binary's link addresses (see bench.h).
 *
 * Frames: in 64-bit mode the CPU pushes SS, RSP, RFLAGS, CS, RIP and, for
 * vectors 8, 10-14, 17, 21, 29 and 30, an error code (SDM Vol. 3A 6.14.2
 * and table 6-1).
 */
#include "bench.h"

	.code64
	.text

/* Report an unexpected vector and stop: ucall UNHANDLED(vector, error
 * code, RIP). Entered with the vector and an error code (or 0) pushed. */
bench_unhandled:
	popq	%rdi			/* vector */
	popq	%rsi			/* error code */
	movq	(%rsp), %rdx		/* RIP of the interrupted code */
	movl	$UCALL_UNHANDLED, %eax
	outl	%eax, $UCALL_PORT
1:	cli
	hlt
	jmp	1b

.macro EXC_STUB vec
	.p2align 4
bench_exc_stub_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || \
	    (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$\vec
	jmp	bench_unhandled
.endm

.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	EXC_STUB \vec
.endr

/* Any vector from 32 up that the guest did not expect. */
	.p2align 4
	.globl	bench_unexpected_stub
bench_unexpected_stub:
	pushq	$0
	pushq	$0x100
	jmp	bench_unhandled

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
	pushq	$VEC_UD
	jmp	bench_unhandled

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

/* The return address of bench_guest_main(): report DONE, stay halted. */
	.globl	bench_return_trap
bench_return_trap:
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
1:	cli
	hlt
	jmp	1b

	.section .rodata
	.p2align 3
	.globl	bench_exc_stubs
bench_exc_stubs:
.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	bench_exc_stub_\vec
.endr

	.section .note.GNU-stack, "", @progbits
