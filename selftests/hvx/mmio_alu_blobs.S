/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmio_alu_blobs.S - ALU and XCHG instructions on MMIO in 32-bit protected
 * mode (flat, no paging) and in real mode, for mmio_alu_test. Copied to
 * GPA_BLOB and run there. Each case runs its instruction on MMIO and then
 * on RAM and reports both (see mmio_alu_guest.h).
 */
#include "guest_layout.h"
#include "mmio_alu_guest.h"

ALU_CASES32(ALU_SYMS)
ALU_CASES16(ALU_SYMS)

/*
 * An absolute symbol for the RIP-relative case of mmio_alu_test.c, in
 * another object so that the assembler there emits a PC-relative
 * relocation.
 */
	.globl	guest_alu_riprel
	.set	guest_alu_riprel, GPA_MMIO + ALU_RIPREL_OFF

	.section .rodata.blobs, "a"

/*
 * alu32 case, insn, init, fl, disp: run insn with EBX = init (the register
 * operand is BL, BH, BX or EBX) and EFLAGS = fl, the memory operand at
 * ESI + disp: on MMIO (GPA_MMIO + off_<case>) between the case labels,
 * then on ALU_RAM holding rd_<case>; report.
 */
.macro alu32 c, insn, init, fl, disp=0
	movl	$rd_\c, ALU_RAM
	movl	$(GPA_MMIO + off_\c - \disp), %esi
	movl	$\init, %ebx
	pushl	$\fl
	popfl
	.globl	\c\()_insn, \c\()_next
\c\()_insn:
	\insn
\c\()_next:
	outl	%eax, $MARK_PORT
	pushfl
	popl	ALU32_F1
	movl	%ebx, ALU32_R1
	movl	$(ALU_RAM - \disp), %esi
	movl	$\init, %ebx
	pushl	$\fl
	popfl
	\insn
	pushfl
	popl	%esi
	movl	%ebx, %ecx
	movl	ALU32_F1, %edi
	movl	ALU32_R1, %edx
	movl	ALU_RAM, %ebx
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
.endm

	.code32
	.globl	alu32_start, alu32_end
alu32_start:
	/* 01: 0x7fffffff + 1, OF SF AF */
	alu32	p32_add_m32_r32, "addl %ebx, (%esi)", 1, FL_NONE
	/* 2B disp8: 1 - 2, CF SF */
	alu32	p32_sub_r32_m32_disp8, "subl 8(%esi), %ebx", 1, FL_NONE, 8
	/* 66 81 /1 imm16 */
	alu32	p32_or_m16_imm16, "orw $0x8001, (%esi)", 0, FL_ALL
	/* 80 /4 */
	alu32	p32_and_m8_imm8, "andb $0x0f, (%esi)", 0, FL_ALL
	/* 83 /6 disp8 imm8 */
	alu32	p32_xor_m32_imm8_disp8, "xorl $-1, 4(%esi)", 0, FL_NONE, 4
	/* 38 with BH: ZF */
	alu32	p32_cmp_m8_bh, "cmpb %bh, (%esi)", 0x1000, FL_NONE
	/* F7 /0 */
	alu32	p32_test_m32_imm32, "testl $0x80000000, (%esi)", 0, FL_ALL
	/* 11 with CF = 1: 0xfffffffe + 1 + 1 = 0 */
	alu32	p32_adc_m32_r32, "adcl %ebx, (%esi)", 1, FL_CF
	/* 66 87 */
	alu32	p32_xchg_m16_r16, "xchgw %bx, (%esi)", 0x11112222, FL_NONE
	/* F0 09 */
	alu32	p32_lock_or_m32_r32, "lock orl %ebx, (%esi)", 0x80000000, FL_NONE
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
	hlt
alu32_end:

/*
 * alu16 case, insn, init, fl, disp: the same in real mode. The memory
 * operand is at DS:SI + disp = off_<case>, with DS the VGA segment (MMIO)
 * and then ALU_RAM_SEG (RAM); FS = ALU_RAM_SEG keeps the first results.
 */
.macro alu16 c, insn, init, fl, disp=0
	movw	$ALU_RAM_SEG, %ax
	movw	%ax, %ds
	movl	$rd_\c, off_\c
	movw	$(GPA_VGA >> 4), %ax
	movw	%ax, %ds
	movl	$(off_\c - \disp), %esi
	movl	$\init, %ebx
	pushl	$\fl
	popfl
	.globl	\c\()_insn, \c\()_next
\c\()_insn:
	\insn
\c\()_next:
	outl	%eax, $MARK_PORT
	pushfl
	popl	%fs:ALU16_F1
	movl	%ebx, %fs:ALU16_R1
	movw	$ALU_RAM_SEG, %ax
	movw	%ax, %ds
	movl	$(off_\c - \disp), %esi
	movl	$\init, %ebx
	pushl	$\fl
	popfl
	\insn
	pushfl
	popl	%esi
	movl	%ebx, %ecx
	movl	%fs:ALU16_F1, %edi
	movl	%fs:ALU16_R1, %edx
	movl	off_\c, %ebx
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
.endm

	.code16
	.globl	alu16_start, alu16_end
alu16_start:
	movw	$ALU_RAM_SEG, %ax
	movw	%ax, %fs
	/* 01: 0xfff0 + 0x10 = 0, CF ZF */
	alu16	r16_add_m16_r16, "addw %bx, (%si)", 0x10, FL_NONE
	/* 66 29: 0 - 1 */
	alu16	r16_sub_m32_r32, "subl %ebx, (%si)", 1, FL_NONE
	/* 3A: 0x10 - 0x90, OF SF CF */
	alu16	r16_cmp_r8_m8, "cmpb (%si), %bl", 0x10, FL_NONE
	/* 80 /1 with an absolute disp16 (mod 0, r/m 6) before imm8 */
	alu16	r16_or_abs16_imm8, "orb $0x81, 0x40", 0, FL_ALL
	/* 81 /4 disp8 imm16 */
	alu16	r16_and_m16_imm16_disp8, "andw $0xf0f0, 0x10(%si)", 0, FL_ALL, 0x10
	/* F6 /0: ZF */
	alu16	r16_test_m8_imm8, "testb $0x01, (%si)", 0, FL_NONE
	/* 86 */
	alu16	r16_xchg_m8_r8, "xchgb %bl, (%si)", 0x12345666, FL_NONE
	/* 67 01: 32-bit addressing in 16-bit code; CF OF ZF */
	alu16	r16_add_m16_addr32, "addw %bx, (%esi)", 0x8000, FL_NONE
	/* 83 /3 with CF = 1: 0 - 1 - 1 */
	alu16	r16_sbb_m16_imm8, "sbbw $1, (%si)", 0, FL_CF
	movl	$UCALL_DONE, %eax
	outl	%eax, $UCALL_PORT
	hlt
alu16_end:

	.section .note.GNU-stack, "", @progbits
