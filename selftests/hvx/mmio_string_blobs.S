/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmio_string_blobs.S - MOVS and STOS on MMIO in 32-bit protected mode
 * (flat, no paging) and in real mode, for mmio_string_test. Copied to
 * GPA_BLOB and run there.
 */
#include "guest_layout.h"
#include "mmio_string_guest.h"

STR_CASES32(STR_SYMS)
STR_CASES16(STR_SYMS)

/*
 * str case, insn, dfop: ESI, EDI, ECX from the table, EAX = low half of
 * STR_RAX, DF by dfop (std or cld); insn between the case labels.
 */
.macro str c, insn, dfop
	movl	$rsi_\c, %esi
	movl	$rdi_\c, %edi
	movl	$rcx_\c, %ecx
	movl	$(STR_RAX & 0xffffffff), %eax
	\dfop
	.globl	\c\()_insn, \c\()_next
\c\()_insn:
	\insn
\c\()_next:
	outl	%eax, $MARK_PORT
	cld
.endm

	.section .rodata.blobs, "a"

	.code32
	.globl	str32_start, str32_end
str32_start:
	str	p32_stosl_rep, "rep stosl", cld
	str	p32_movsb_rep_mmio_ram_df, "rep movsb", std
	str	p32_movsw_ram_mmio, "movsw", cld
	str	p32_movsl_rep_mmio_mmio_df, "rep movsl", std
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
	hlt
str32_end:

	.code16
	.globl	str16_start, str16_end
str16_start:
	movw	$(GPA_VGA >> 4), %ax
	movw	%ax, %es
	str	r16_stosb_rep_df_wrap, "rep stosb", std
	/* Source FS:SI (RAM); DS stays the blob's segment. */
	movw	$(GPA_BLOB_DATA >> 4), %ax
	movw	%ax, %fs
	str	r16_movsw_rep_fs, "rep movsw %fs:(%si), %es:(%di)", cld
	movw	$(GPA_VGA >> 4), %ax
	movw	%ax, %ds
	movw	$(GPA_BLOB_DATA >> 4), %ax
	movw	%ax, %es
	str	r16_movsb_mmio_ram, "movsb", cld
	movw	$(GPA_VGA >> 4), %ax
	movw	%ax, %es
	str	r16_movsl_addr32, "addr32 movsl", cld
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
	hlt
str16_end:

	.section .note.GNU-stack, "", @progbits
