/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmio_blobs.S - MMIO instructions in 32-bit protected mode (flat, no
 * paging) and in real mode, for mmio_test. Copied to GPA_BLOB and run
 * there. Each instruction under test is at <case>_insn, followed at
 * <case>_next by "out %eax, MARK_PORT"; registers are preset so the host
 * can see which bits a load replaced.
 */
#include "guest_layout.h"
#include "mmio_guest.h"

#define CASE(c)		.globl c##_insn, c##_next; c##_insn:
#define NEXT(c)		c##_next: outl %eax, $MARK_PORT

/*
 * An absolute symbol at MMIO_RIPREL_GPA for the RIP-relative cases of
 * mmio_test.c. Defined here, in another object, so that the assembler
 * there emits a PC-relative relocation instead of folding the value into
 * the displacement.
 */
	.globl	guest_mmio_riprel
	.set	guest_mmio_riprel, MMIO_RIPREL_GPA

	.section .rodata.blobs, "a"

	.code32
	.globl	mmio32_start, mmio32_end
mmio32_start:
	movl	$MMIO_WR16, %ecx
CASE(p32_wr_imm32)
	movl	$MMIO_IMM32, GPA_MMIO			/* C7 05 disp32 imm32 */
NEXT(p32_wr_imm32)
CASE(p32_wr16)
	movw	%cx, GPA_MMIO + 4			/* 66 89 0D disp32 */
NEXT(p32_wr16)
	movl	$MMIO_PRE32, %ebx
CASE(p32_movzb)
	movzbl	GPA_MMIO + 8, %ebx			/* 0F B6 1D disp32 */
NEXT(p32_movzb)
	movl	$GPA_MMIO, %esi
	movl	$3, %edi
	movl	$MMIO_PRE32, %edx
CASE(p32_rd32_sib)
	movl	(%esi,%edi,4), %edx			/* 8B 14 BE */
NEXT(p32_rd32_sib)
	movl	$MMIO_PRE32, %eax
CASE(p32_moffs_rd8)
	movb	GPA_MMIO + 0x10, %al			/* A0 moffs32 */
NEXT(p32_moffs_rd8)
	movl	$MMIO_PRE32, %edx
CASE(p32_rd16)
	movw	GPA_MMIO + 0x14, %dx			/* 66 8B 15 disp32 */
NEXT(p32_rd16)
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
	hlt
mmio32_end:

/* Real mode: ES = the VGA text segment (in the hole at 0xa0000-0xfffff). */
	.code16
	.globl	mmio16_start, mmio16_end
mmio16_start:
	movw	$(GPA_VGA >> 4), %ax
	movw	%ax, %es
	xorw	%di, %di
	xorw	%bx, %bx
	xorw	%bp, %bp
	xorl	%esi, %esi
CASE(r16_wr_imm16)
	movw	$0x0741, %es:(%di)			/* 26 C7 05 imm16 */
NEXT(r16_wr_imm16)
	movb	$MMIO_WR8, %al
CASE(r16_moffs_wr8)
	movb	%al, %es:0x10				/* 26 A2 moffs16 */
NEXT(r16_moffs_wr8)
	movl	$MMIO_PRE32, %ecx
CASE(r16_rd32)
	movl	%es:4(%bx,%si), %ecx			/* 66 26 8B 48 04 */
NEXT(r16_rd32)
	movl	$MMIO_PRE32, %edx
CASE(r16_movzb)
	movzbl	%es:0x20, %edx				/* 66 26 0F B6 16 disp16 */
NEXT(r16_movzb)
	movl	$MMIO_PRE32, %edx
CASE(r16_rd16_addr32)
	movw	%es:0x30(%esi), %dx			/* 67 26 8B 56 30 */
NEXT(r16_rd16_addr32)
	movl	$MMIO_PRE32, %ebx
CASE(r16_rd8_bp)
	movb	%es:2(%bp), %bl				/* 26 8A 5E 02 */
NEXT(r16_rd8_bp)
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
	hlt
mmio16_end:

	.section .note.GNU-stack, "", @progbits
