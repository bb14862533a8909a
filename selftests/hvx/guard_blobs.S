/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard_blobs.S - the 32-bit guest of guard_test's #AC tests, copied to
 * GPA_BLOB and entered in 32-bit protected mode at CPL 0 (vcpu_setup_prot32)
 * with EBX = the user stack pointer. It loads its own GDT and IDT, sets
 * CR0.AM and goes to CPL 3 with RFLAGS.AC and IOPL 3, where a misaligned
 * load raises #AC. The #AC gate leads to a conforming code segment, so the
 * handler runs at CPL 3 on the same stack (SDM Vol. 3A 6.12.1.1): with an
 * aligned stack it reports SYNC(X86_VEC_AC, error code); with a misaligned
 * one, delivering the #AC pushes to a misaligned stack at CPL 3 and raises
 * #AC again, for ever (the CVE-2015-5307 microcode loop).
 *
 * Absolute addresses are "label - ac_start + GPA_BLOB".
 */
#include "guest_layout.h"
#include "guard_guest.h"

#define ABS(l)	((l) - ac_start + GPA_BLOB)

	.section .rodata.blobs, "a"
	.code32
	.globl	ac_start, ac_end
ac_start:
	lgdt	ABS(ac_gdtr)
	lidt	ABS(ac_idtr)
	ljmp	$AC_SEL_CODE0, $ABS(1f)
1:	movw	$AC_SEL_DATA0, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	%cr0, %eax
	orl	$X86_CR0_AM, %eax
	movl	%eax, %cr0
	/* IRET to CPL 3: SS, ESP, EFLAGS (AC, IOPL 3, bit 1), CS, EIP. */
	pushl	$AC_SEL_DATA3
	pushl	%ebx
	pushl	$(X86_EFLAGS_AC | 0x3000 | 0x2)
	pushl	$AC_SEL_CODE3
	pushl	$ABS(ac_user)
	iretl

ac_user:
	movw	$AC_SEL_DATA3, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movl	(GPA_BLOB_DATA + 1), %eax	/* misaligned: #AC */
	movl	$UCALL_DONE, %eax		/* not reached */
	outl	%eax, $UCALL_PORT
2:	jmp	2b

ac_handler:				/* CPL 3, conforming segment */
	popl	%esi			/* error code */
	movl	$X86_VEC_AC, %edi
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
3:	jmp	3b

	.balign	8
ac_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: code, DPL 0 */
	.quad	0x00cf92000000ffff	/* 0x10: data, DPL 0 */
	.quad	0x00cffa000000ffff	/* 0x18: code, DPL 3 */
	.quad	0x00cff2000000ffff	/* 0x20: data, DPL 3 */
	.quad	0x00cf9e000000ffff	/* 0x28: code, conforming, DPL 0 */
ac_gdt_end:
ac_idt:
	.fill	X86_VEC_AC, 8, 0
	/* 32-bit interrupt gate, present, DPL 0 (SDM Vol. 3A 6.11). */
	.word	ABS(ac_handler) & 0xffff
	.word	AC_SEL_CONFORM
	.word	0x8e00
	.word	ABS(ac_handler) >> 16
ac_idt_end:
ac_gdtr:
	.word	ac_gdt_end - ac_gdt - 1
	.long	ABS(ac_gdt)
ac_idtr:
	.word	ac_idt_end - ac_idt - 1
	.long	ABS(ac_idt)
ac_end:

	.section .note.GNU-stack, "", @progbits
