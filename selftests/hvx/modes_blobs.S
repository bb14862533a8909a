/* SPDX-License-Identifier: GPL-2.0 */
/*
 * modes_blobs.S - 16- and 32-bit guests for modes_test. Each blob is copied
 * to GPA_BLOB and entered there (vcpu_setup_real/prot32). They report with
 * ucalls (guest_layout.h: EAX = command, EDI/ESI/EDX/ECX = arguments).
 *
 * Addresses: real-mode code is position-independent (CS base = GPA_BLOB,
 * offsets from the blob start); absolute addresses are written as
 * "label - start + GPA_BLOB", which the assembler resolves.
 */
#include "guest_layout.h"
#include "x86.h"
#include "modes_guest.h"

	.section .rodata.blobs, "a"

/*
 * Real mode: AX = BX! with 16-bit MUL, stored at ES:0x100 (ES = segment of
 * GPA_BLOB_DATA), pushed and popped through SS:SP, then a far jump to
 * another CS:IP naming the same linear address. Reports
 * SYNC(result, CS, CR0).
 */
	.code16
	.globl	rm_start, rm_far, rm_end
rm_start:
	movw	$1, %ax
1:	mulw	%bx			/* DX:AX = AX * BX */
	decw	%bx
	jnz	1b
	movw	$(GPA_BLOB_DATA >> 4), %cx
	movw	%cx, %es
	movw	%ax, %es:0x100
	pushw	%ax
	xorw	%ax, %ax
	popw	%ax
	/* CS = 0x0ff0: base 0xff00, so IP = offset + 0x100. */
	ljmp	$RM_FAR_CS, $(rm_far - rm_start + GPA_BLOB - (RM_FAR_CS << 4))
rm_far:
	movzwl	%ax, %edi
	movw	%cs, %si
	movzwl	%si, %esi
	movl	%cr0, %edx
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
	hlt
rm_end:

/*
 * 32-bit protected mode, flat: EAX = ECX + (ECX-1) + ... + 1 modulo 2^32
 * with LOOP (which counts in ECX only with a 32-bit address size), stored at
 * PM_RESULT_GPA; a CALL to learn EIP. Reports SYNC(sum, EIP at pm_ret,
 * ESP after popping).
 */
	.code32
	.globl	pm_start, pm_ret, pm_end
pm_start:
	xorl	%eax, %eax
1:	addl	%ecx, %eax
	loop	1b
	movl	%eax, PM_RESULT_GPA
	movl	%eax, %edi
	call	pm_ret
pm_ret:
	popl	%esi
	movl	%esp, %edx
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
	hlt
pm_end:

/*
 * Real mode -> 32-bit protected mode -> 64-bit mode, all done by the guest
 * (SDM Vol. 3A, "Switching to Protected Mode" and "Initializing IA-32e
 * Mode"): LGDT, CR0.PE, far jump; LTR (VM entry in IA-32e mode needs a busy
 * 32/64-bit TSS in TR); CR4.PAE, CR3 = the lib's identity page tables,
 * EFER.LME, CR0.PG, far jump to a 64-bit code segment. Reports one SYNC per
 * stage: (1, CR0) in real mode, (2, CR0, CS) in protected mode,
 * (3, EFER, 64-bit constant, CR0) in 64-bit mode.
 */
	.code16
	.globl	ms_start, ms_end
ms_start:
	cli
	movl	$1, %edi
	movl	%cr0, %esi
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT

	lgdtl	ms_gdt_desc - ms_start		/* DS base = GPA_BLOB */
	movl	%cr0, %eax
	orl	$X86_CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$0x08, $(ms_pm - ms_start + GPA_BLOB)

	.code32
ms_pm:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$MS_STACK_TOP, %esp
	movw	$0x20, %ax
	ltr	%ax
	movl	$2, %edi
	movl	%cr0, %esi
	movl	%cs, %edx
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT

	movl	%cr4, %eax
	orl	$X86_CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$GPA_PML4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$X86_CR0_PG, %eax
	movl	%eax, %cr0			/* now IA-32e, compatibility mode */
	ljmpl	$0x18, $(ms_lm - ms_start + GPA_BLOB)

	.code64
ms_lm:
	movl	$MSR_EFER, %ecx
	rdmsr
	shlq	$32, %rdx
	orq	%rdx, %rax
	movq	%rax, %rsi
	movabsq	$MS_MAGIC64, %rdx
	movq	%cr0, %rcx
	movl	$3, %edi
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
	hlt

	.p2align 3
ms_gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* 0x08: 32-bit code, flat */
	.quad	0x00cf93000000ffff	/* 0x10: data, flat */
	.quad	0x00af9b000000ffff	/* 0x18: 64-bit code */
	/* 0x20: available 32-bit TSS (type 9, P) at MS_TSS_GPA, limit 0x67
	 * (SDM Vol. 3A 3.4.5 layout; base 23:0 in bits 39:16) */
	.quad	0x67 | (MS_TSS_GPA << 16) | (0x89 << 40)
ms_gdt_end:
ms_gdt_desc:
	.word	ms_gdt_end - ms_gdt - 1
	.long	ms_gdt - ms_start + GPA_BLOB
ms_end:

	.section .note.GNU-stack, "", @progbits
