/* SPDX-License-Identifier: GPL-2.0 */
/* mmio_guest.h - what mmio_blobs.S shares with mmio_test.c. */
#ifndef MMIO_GUEST_H
#define MMIO_GUEST_H

/* Registers a read goes into start as MMIO_PRE, to see which bits the
 * load replaces; the host answers every read with MMIO_RD_DATA (its low
 * len bytes). */
#define MMIO_PRE	0xaaaaaaaaaaaaaaaa
#define MMIO_PRE32	0xaaaaaaaa
#define MMIO_RD_DATA	0x8877665544332211
/* Values the write cases store. */
#define MMIO_WR8	0x5a
#define MMIO_WR16	0xbeef
#define MMIO_WR32	0xdeadbeef
#define MMIO_WR64	0x0123456789abcdef
#define MMIO_IMM8	0x7f
#define MMIO_IMM16	0x1234
#define MMIO_IMM32	0xcafef00d
#define MMIO_WR_BH	0x6b
/* GPA of the RIP-relative cases (a symbol, so RIP-relative works). */
#define MMIO_RIPREL_GPA	(GPA_MMIO + 0x30)

#ifndef __ASSEMBLER__
/*
 * Every instruction under test is at <case>_insn and is followed at
 * <case>_next by "out %eax, MARK_PORT". The 32- and 16-bit cases are in
 * blobs (mmio_blobs.S) that run at GPA_BLOB; the 64-bit ones are in
 * mmio_test.c.
 */
#define MMIO_CASES32(X)							\
	X(p32_wr_imm32) X(p32_wr16) X(p32_movzb) X(p32_rd32_sib)	\
	X(p32_moffs_rd8) X(p32_rd16)
#define MMIO_CASES16(X)							\
	X(r16_wr_imm16) X(r16_moffs_wr8) X(r16_rd32) X(r16_movzb)	\
	X(r16_rd16_addr32) X(r16_rd8_bp)

#define MMIO_DECLARE_LABELS(c) extern const char c##_insn[], c##_next[];
MMIO_CASES32(MMIO_DECLARE_LABELS)
MMIO_CASES16(MMIO_DECLARE_LABELS)

extern const char mmio32_start[], mmio32_end[];
extern const char mmio16_start[], mmio16_end[];
#endif

#endif /* MMIO_GUEST_H */
