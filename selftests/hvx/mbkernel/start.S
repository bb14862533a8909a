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

	.bss
	.align	16
	.space	8192
stack_top:

	.section .note.GNU-stack, "", @progbits
