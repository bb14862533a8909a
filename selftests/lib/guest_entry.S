/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest_entry.S - 64-bit guest entry points of the library: the exception
 * stubs the lib's IDT points at, and the return address of guest functions.
 */
#include "guest_layout.h"

	.code64
	.text

/* One stub per vector 0-31. The CPU pushes an error code for 8, 10-14, 17,
 * 21, 29 and 30 (SDM Vol. 3A table 6-1); the others push a zero so that
 * every frame has the same shape. */
.macro EXC_STUB vec
	.p2align 4
guest_exc_stub_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || \
	    (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$\vec
	jmp	guest_exc_common
.endm

.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	EXC_STUB \vec
.endr

/* Save the GPRs as struct guest_exc_frame (guest.c), call the C handler,
 * restore (it may have changed the saved RIP) and return. In 64-bit mode the
 * CPU aligns RSP to 16 before pushing its 5-quadword frame; 2 + 15 more
 * quadwords keep it aligned for the call. Global for a guest's own stubs
 * (userspace/bench): jump here with an error code (or 0) and the vector
 * pushed, as the stubs above do. */
	.globl	guest_exc_common
guest_exc_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	cld
	call	guest_exception_handler
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp
	iretq

/* vcpu_setup_long() puts this address on the stack as guest_fn's return
 * address: returning from the guest function reports UCALL_DONE. */
	.globl	guest_return_trap
guest_return_trap:
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
1:	hlt
	jmp	1b

	.section .rodata
	.p2align 3
	.globl	guest_exc_stubs
guest_exc_stubs:
.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	guest_exc_stub_\vec
.endr

	.section .note.GNU-stack, "", @progbits
