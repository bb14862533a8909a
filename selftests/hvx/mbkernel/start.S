/* SPDX-License-Identifier: GPL-2.0 */
/*
 * start.S - multiboot (v1) header and entry of the hvx-run test kernel.
 *
 * Multiboot Specification 0.6.96, 3.1.1: the header is in the first
 * 8 KiB, 4-byte aligned; flags 0x3 ask for page-aligned modules and the
 * memory fields. The loader enters in 32-bit protected mode with paging
 * off, EAX = 0x2BADB002 and EBX = the information structure (3.2).
 */
	.section .multiboot, "a"
	.align	4
	.long	0x1badb002
	.long	0x00000003
	.long	-(0x1badb002 + 0x00000003)

	.text
	.code32
	.globl	_start
_start:
	cli
	movl	$stack_top, %esp
	pushl	%ebx
	pushl	%eax
	call	mb_main
1:	hlt
	jmp	1b

/*
 * ACPI S3 resume (mbkernel.c, s3_sleep()). wake32 is the X waking vector
 * and where the real-mode stub goes: 32-bit protected mode, paging off,
 * flat CS 0x10 and data segments already loaded; EBX says the way in (1:
 * through the stub, 0: the X vector, whose entry state has EBX = 0).
 */
	.globl	wake32
wake32:
	cli
	movl	$stack_top, %esp
	pushl	%ebx
	call	mb_resume
2:	hlt
	jmp	2b

/*
 * The real-mode waking vector's code, copied to WAKE16_ADDR (its CS:IP is
 * then 0x9000:0000): loads its GDT, enters protected mode and far-jumps
 * to wake32 with EBX = 1.
 */
#define WAKE16_ADDR	0x90000
	.globl	wake16_start, wake16_end
	.code16
wake16_start:
	cli
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	(wake16_gdtr - wake16_start)
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	movw	$0x18, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$1, %ebx
	ljmpl	$0x10, $wake32
	.align	8
wake16_gdt:
	.quad	0
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x10: flat 32-bit code */
	.quad	0x00cf92000000ffff	/* 0x18: flat data */
wake16_gdtr:
	.word	31
	.long	WAKE16_ADDR + (wake16_gdt - wake16_start)
wake16_end:
	.code32

	.bss
	.align	16
	.space	8192
stack_top:

	.section .note.GNU-stack, "", @progbits
