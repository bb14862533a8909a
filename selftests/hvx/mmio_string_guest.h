/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmio_string_guest.h - what mmio_string_blobs.S shares with
 * mmio_string_test.c.
 *
 * Each case is one MOVS or STOS, optionally REP, with the source and/or
 * destination on MMIO. The guest loads RSI, RDI, RCX (and RAX = STR_RAX,
 * and DF) from the table, executes the instruction at <case>_insn and
 * "out %eax, MARK_PORT" at <case>_next. The host knows from the same
 * table every element's addresses and the registers before and after it.
 */
#ifndef MMIO_STRING_GUEST_H
#define MMIO_STRING_GUEST_H

#include "guest_layout.h"

/* Where a string instruction's source or destination is. */
#define STR_NONE	0	/* STOS: the source is rAX */
#define STR_RAM		1
#define STR_MMIO	2

/* rAX for STOS, and the host's answer to the read of element i. */
#define STR_RAX		0x8877665544332211
#define STR_RD		0x0123456789abcdef	/* + i */

/* RAM the host fills with a byte pattern (sources), and destinations. */
#define STR_RAM_SRC	(GPA_BLOB_DATA + 0x400)
#define STR_RAM_DST	(GPA_BLOB_DATA + 0x800)
#define STR_RAM_SIZE	0x100

/*
 * X(case, element size, source, destination, RSI, RDI, RCX, DF, REP,
 *   elements, address-size mask, source segment base, destination
 *   segment base). Addresses are linear = guest-physical (flat segments,
 *   identity paging; real mode has the bases). The 64-bit table,
 *   STR_CASES64, is in mmio_string_test.c.
 */
/* 32-bit protected mode, flat (mmio_string_blobs.S). */
#define STR_CASES32(X)							\
	X(p32_stosl_rep, 4, STR_NONE, STR_MMIO, 0, GPA_MMIO + 0x100, 2,	\
	  0, 1, 2, 0xffffffff, 0, 0)					\
	X(p32_movsb_rep_mmio_ram_df, 1, STR_MMIO, STR_RAM,		\
	  GPA_MMIO + 0x201, STR_RAM_DST + 0x11, 2, 1, 1, 2, 0xffffffff,	\
	  0, 0)								\
	X(p32_movsw_ram_mmio, 2, STR_RAM, STR_MMIO, STR_RAM_SRC + 0x20,	\
	  GPA_MMIO + 0x300, 9, 0, 0, 1, 0xffffffff, 0, 0)		\
	X(p32_movsl_rep_mmio_mmio_df, 4, STR_MMIO, STR_MMIO,		\
	  GPA_MMIO + 0x404, GPA_MMIO + 0x504, 2, 1, 1, 2, 0xffffffff,	\
	  0, 0)

/*
 * Real mode: 16-bit addresses wrap and leave bits 31:16 of ESI, EDI and
 * ECX alone; a segment override (FS) on the source; a 67 prefix.
 */
#define STR_CASES16(X)							\
	X(r16_stosb_rep_df_wrap, 1, STR_NONE, STR_MMIO, 0, 0x55550000,	\
	  0x77770002, 1, 1, 2, 0xffff, 0, GPA_VGA)			\
	X(r16_movsw_rep_fs, 2, STR_RAM, STR_MMIO,			\
	  0x12340000 | (STR_RAM_SRC - GPA_BLOB_DATA), 0x56780020,	\
	  0x9abc0002, 0, 1, 2, 0xffff, GPA_BLOB_DATA, GPA_VGA)		\
	X(r16_movsb_mmio_ram, 1, STR_MMIO, STR_RAM, 0x30,		\
	  STR_RAM_DST + 0x30 - GPA_BLOB_DATA, 0, 0, 0, 1, 0xffff,	\
	  GPA_VGA, GPA_BLOB_DATA)					\
	X(r16_movsl_addr32, 4, STR_MMIO, STR_MMIO, 0x40, 0x50, 0,	\
	  0, 0, 1, 0xffffffff, GPA_VGA, GPA_VGA)

#ifdef __ASSEMBLER__
/* rsi_<case>, rdi_<case>, rcx_<case> for the blobs. */
#define STR_SYMS(c, size, src, dst, rsi, rdi, rcx, df, rep, n, mask, sb, db) \
	.set rsi_##c, rsi; .set rdi_##c, rdi; .set rcx_##c, rcx;
#else
#define STR_DECLARE_LABELS(c, ...) extern const char c##_insn[], c##_next[];
STR_CASES32(STR_DECLARE_LABELS)
STR_CASES16(STR_DECLARE_LABELS)

extern const char str32_start[], str32_end[];
extern const char str16_start[], str16_end[];
#endif

#endif /* MMIO_STRING_GUEST_H */
