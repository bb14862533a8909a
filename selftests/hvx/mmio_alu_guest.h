/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmio_alu_guest.h - what mmio_alu_blobs.S shares with mmio_alu_test.c.
 *
 * Each case is one instruction with a memory operand: ADD OR ADC SBB AND
 * SUB XOR CMP TEST or XCHG. The guest runs it twice from the same
 * registers and RFLAGS: first with the operand on MMIO, at <case>_insn,
 * followed at <case>_next by "out %eax, MARK_PORT"; then with the operand
 * in RAM (ALU_RAM, or DS = ALU_RAM_SEG in real mode) holding the value the
 * host returns for the MMIO read. Then it reports with a SYNC ucall:
 *
 *   RDI = RFLAGS after the MMIO run    RSI = RFLAGS after the RAM run
 *   RDX = register after the MMIO run  RCX = register after the RAM run
 *   RBX = the RAM operand after the RAM run
 *
 * so the host checks equivalence: same flags, same register, and the
 * value written to MMIO is the one written to RAM.
 */
#ifndef MMIO_ALU_GUEST_H
#define MMIO_ALU_GUEST_H

#include "guest_layout.h"

/* Accesses a case makes on MMIO. */
#define ALU_R		0	/* one read (CMP, TEST, "op r, m") */
#define ALU_RW		1	/* a read, then the write of the result */

/* RFLAGS to start from: all arithmetic flags clear, or all set. */
#define FL_NONE		0x002
#define FL_ALL		0x8d7	/* OF SF ZF AF PF CF, and bit 1 */
#define FL_CF		0x003

/* RAM operand of the RAM runs, and where real-mode blobs keep results. */
#define ALU_RAM		(GPA_BLOB_DATA + 0x100)
#define ALU_RAM_SEG	(GPA_BLOB_DATA >> 4)
#define ALU16_F1	0xff00	/* offsets in ALU_RAM_SEG */
#define ALU16_R1	0xff04
/* 32-bit blob: flags and register of the MMIO run. */
#define ALU32_F1	(GPA_BLOB_DATA + 0xf00)
#define ALU32_R1	(GPA_BLOB_DATA + 0xf04)

/* GPA of the RIP-relative case: guest_alu_riprel in mmio_alu_blobs.S. */
#define ALU_RIPREL_OFF	0x800

/*
 * Case tables: X(case, offset of the access, length, ALU_R/ALU_RW, data
 * the host returns for the read), run in this order. The 64-bit table,
 * ALU_CASES64, is in mmio_alu_test.c.
 */

/* 32-bit protected mode (mmio_alu_blobs.S); offsets from GPA_MMIO. */
#define ALU_CASES32(X)							\
	X(p32_add_m32_r32,	0x00, 4, ALU_RW, 0x7fffffff)		\
	X(p32_sub_r32_m32_disp8, 0x08, 4, ALU_R, 0x00000002)		\
	X(p32_or_m16_imm16,	0x10, 2, ALU_RW, 0x0ff0)		\
	X(p32_and_m8_imm8,	0x18, 1, ALU_RW, 0xf1)			\
	X(p32_xor_m32_imm8_disp8, 0x24, 4, ALU_RW, 0x12345678)		\
	X(p32_cmp_m8_bh,	0x28, 1, ALU_R, 0x10)			\
	X(p32_test_m32_imm32,	0x30, 4, ALU_R, 0x80000000)		\
	X(p32_adc_m32_r32,	0x38, 4, ALU_RW, 0xfffffffe)		\
	X(p32_xchg_m16_r16,	0x40, 2, ALU_RW, 0xcafe)		\
	X(p32_lock_or_m32_r32,	0x48, 4, ALU_RW, 0x00000100)

/* Real mode (mmio_alu_blobs.S); offsets from GPA_VGA (DS = its segment). */
#define ALU_CASES16(X)							\
	X(r16_add_m16_r16,	0x00, 2, ALU_RW, 0xfff0)		\
	X(r16_sub_m32_r32,	0x08, 4, ALU_RW, 0x00000000)		\
	X(r16_cmp_r8_m8,	0x10, 1, ALU_R, 0x90)			\
	X(r16_or_abs16_imm8,	0x40, 1, ALU_RW, 0x10)			\
	X(r16_and_m16_imm16_disp8, 0x58, 2, ALU_RW, 0x0f0f)		\
	X(r16_test_m8_imm8,	0x60, 1, ALU_R, 0xfe)			\
	X(r16_xchg_m8_r8,	0x68, 1, ALU_RW, 0x77)			\
	X(r16_add_m16_addr32,	0x70, 2, ALU_RW, 0x8000)		\
	X(r16_sbb_m16_imm8,	0x78, 2, ALU_RW, 0x0000)

#ifdef __ASSEMBLER__
/* rd_<case> and off_<case> as assembler symbols, for the blobs. */
#define ALU_SYMS(c, off, len, acc, rd)	.set rd_##c, rd; .set off_##c, off;
#else
#define ALU_DECLARE_LABELS(c, off, len, acc, rd) \
	extern const char c##_insn[], c##_next[];
ALU_CASES32(ALU_DECLARE_LABELS)
ALU_CASES16(ALU_DECLARE_LABELS)

extern const char alu32_start[], alu32_end[];
extern const char alu16_start[], alu16_end[];
#endif

#endif /* MMIO_ALU_GUEST_H */
