/* SPDX-License-Identifier: GPL-2.0 */
/* io_guest.h - what io_test's host and guest sides share. */
#ifndef IO_GUEST_H
#define IO_GUEST_H

#include <stdint.h>

#define IO_PORT_IMM	0xe0	/* reachable with the imm8 forms */
#define IO_PORT_DX	0x5678	/* needs DX */

/* Value the RAX of IN tests starts with, to see which bits IN replaces. */
#define IO_RAX_BEFORE	0x1122334455667788ull
#define IO_OUT8		0x5a
#define IO_OUT16	0xbeef
#define IO_OUT32	0xdeadbeef
#define IO_IN8		0xab
#define IO_IN16		0xcdef
#define IO_IN32		0xf00dcafe

/* String I/O element counts: more than HVX_RUN_IO_DATA_SIZE bytes forces
 * the kernel to split the REP into several exits. */
#define IO_N_B		5000
#define IO_N_W		3000
#define IO_N_L		2500
#define IO_N_DF_B	300
#define IO_N_DF_L	700
#define IO_ONCE_RCX	77	/* RCX of non-REP string I/O: must not change */
#define IO_BUF_SIZE	16384
/* Offset in io_buf of the first element of the DF=1 and non-REP cases. */
#define IO_DF_B_FIRST	(IO_N_DF_B - 1)
#define IO_DF_L_FIRST	((IO_N_DF_L - 1) * 4)
#define IO_ONCE_B_OFF	7
#define IO_ONCE_W_OFF	10

/* Byte i of the data stream (or buffer) of the string case with this
 * seed; host and guest compute the same. */
static inline uint8_t io_pattern(uint32_t i, uint32_t seed)
{
	return (uint8_t)(i * 31 + seed * 77 + (i >> 8));
}

/* A different data stream for each string case. */
static inline uint32_t io_seed(uint32_t n, uint32_t size, int in, int df)
{
	return n + size * 3 + in * 5 + df * 7;
}

/* Every instruction under test is at label <case>_insn, immediately
 * followed by "out %eax, MARK_PORT" at <case>_next (after a CLD for the
 * DF=1 cases). */
#define IO_CASES(X)							\
	X(out8) X(out16) X(out32) X(in8) X(in16) X(in32)		\
	X(outsb_rep) X(outsw_rep) X(outsl_rep)				\
	X(insb_rep) X(insw_rep) X(insl_rep)				\
	X(outsb_rep_df) X(insl_rep_df) X(outsb_once) X(insw_once)	\
	X(outsb_rep_zero)

#define IO_DECLARE_LABELS(c) extern const char c##_insn[], c##_next[];
IO_CASES(IO_DECLARE_LABELS)

extern uint8_t io_buf[IO_BUF_SIZE];
void guest_io_single(uint64_t unused);
void guest_io_string(uint64_t unused);

#endif /* IO_GUEST_H */
