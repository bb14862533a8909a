// SPDX-License-Identifier: GPL-2.0
/* io_guest.c - 64-bit guest code of io_test. */
#include "hvx_guest.h"
#include "io_guest.h"

uint8_t io_buf[IO_BUF_SIZE];

/* "<c>_insn: <instruction>" ... "<c>_next: out %eax, MARK_PORT" */
#define INSN(c)	".globl " #c "_insn, " #c "_next\n" #c "_insn:\t"
#define NEXT(c)	"\n" #c "_next:\toutl %%eax, %[mark]"

void guest_io_single(uint64_t unused)
{
	uint64_t rax;

	(void)unused;
	asm volatile(INSN(out8) "outb %%al, %[port]" NEXT(out8)
		     : : "a"(IO_OUT8), [port] "i"(IO_PORT_IMM),
		       [mark] "i"(MARK_PORT));
	asm volatile(INSN(out16) "outw %%ax, %%dx" NEXT(out16)
		     : : "a"(IO_OUT16), "d"(IO_PORT_DX), [mark] "i"(MARK_PORT));
	asm volatile(INSN(out32) "outl %%eax, %%dx" NEXT(out32)
		     : : "a"(IO_OUT32), "d"(IO_PORT_DX), [mark] "i"(MARK_PORT));

	/* IN to AL/AX merges into RAX; IN to EAX zero-extends into RAX. */
	rax = IO_RAX_BEFORE;
	asm volatile(INSN(in8) "inb %[port], %%al" NEXT(in8)
		     : "+a"(rax) : [port] "i"(IO_PORT_IMM), [mark] "i"(MARK_PORT));
	GUEST_ASSERT_EQ((IO_RAX_BEFORE & ~0xffull) | IO_IN8, rax);
	rax = IO_RAX_BEFORE;
	asm volatile(INSN(in16) "inw %%dx, %%ax" NEXT(in16)
		     : "+a"(rax) : "d"(IO_PORT_DX), [mark] "i"(MARK_PORT));
	GUEST_ASSERT_EQ((IO_RAX_BEFORE & ~0xffffull) | IO_IN16, rax);
	rax = IO_RAX_BEFORE;
	asm volatile(INSN(in32) "inl %%dx, %%eax" NEXT(in32)
		     : "+a"(rax) : "d"(IO_PORT_DX), [mark] "i"(MARK_PORT));
	GUEST_ASSERT_EQ(IO_IN32, rax);
	GUEST_DONE();
}

#define STR_IO(c, insn, si, di, cx)					\
	asm volatile(INSN(c) insn NEXT(c)				\
		     : "+S"(si), "+D"(di), "+c"(cx)			\
		     : "d"(IO_PORT_DX), [mark] "i"(MARK_PORT) : "memory")
#define STR_IO_DF(c, insn, si, di, cx)					\
	asm volatile("std\n" INSN(c) insn "\n\tcld" NEXT(c)		\
		     : "+S"(si), "+D"(di), "+c"(cx)			\
		     : "d"(IO_PORT_DX), [mark] "i"(MARK_PORT) : "memory")

/* io_buf[off] = pattern(off) for the bytes an OUT case sends. */
static void fill(uint32_t first, uint32_t bytes, uint32_t seed)
{
	for (uint32_t i = first; i < first + bytes; i++)
		io_buf[i] = io_pattern(i, seed);
}

/* Element k of an IN case (data stream bytes k*size..) landed at
 * first +/- k*size. */
static void check_in(uint32_t first, uint32_t size, uint32_t n, int df,
		     uint32_t seed)
{
	for (uint32_t k = 0; k < n; k++) {
		uint32_t off = df ? first - k * size : first + k * size;

		for (uint32_t j = 0; j < size; j++)
			GUEST_ASSERT_EQ(io_pattern(k * size + j, seed),
					io_buf[off + j]);
	}
}

#define BUF(off)	((uint64_t)io_buf + (off))

void guest_io_string(uint64_t unused)
{
	uint64_t si, di, cx;

	(void)unused;
	/* OUTS with REP, DF=0: RSI advances by count * size, RCX ends 0. */
	fill(0, IO_N_B, io_seed(IO_N_B, 1, 0, 0));
	si = BUF(0), di = 0, cx = IO_N_B;
	STR_IO(outsb_rep, "rep outsb", si, di, cx);
	GUEST_ASSERT_EQ(BUF(IO_N_B), si);
	GUEST_ASSERT_EQ(0, cx);

	fill(0, IO_N_W * 2, io_seed(IO_N_W, 2, 0, 0));
	si = BUF(0), di = 0, cx = IO_N_W;
	STR_IO(outsw_rep, "rep outsw", si, di, cx);
	GUEST_ASSERT_EQ(BUF(IO_N_W * 2), si);
	GUEST_ASSERT_EQ(0, cx);

	fill(0, IO_N_L * 4, io_seed(IO_N_L, 4, 0, 0));
	si = BUF(0), di = 0, cx = IO_N_L;
	STR_IO(outsl_rep, "rep outsl", si, di, cx);
	GUEST_ASSERT_EQ(BUF(IO_N_L * 4), si);
	GUEST_ASSERT_EQ(0, cx);

	/* INS with REP, DF=0: RDI advances. */
	si = 0, di = BUF(0), cx = IO_N_B;
	STR_IO(insb_rep, "rep insb", si, di, cx);
	GUEST_ASSERT_EQ(BUF(IO_N_B), di);
	GUEST_ASSERT_EQ(0, cx);
	check_in(0, 1, IO_N_B, 0, io_seed(IO_N_B, 1, 1, 0));

	si = 0, di = BUF(0), cx = IO_N_W;
	STR_IO(insw_rep, "rep insw", si, di, cx);
	GUEST_ASSERT_EQ(BUF(IO_N_W * 2), di);
	GUEST_ASSERT_EQ(0, cx);
	check_in(0, 2, IO_N_W, 0, io_seed(IO_N_W, 2, 1, 0));

	si = 0, di = BUF(0), cx = IO_N_L;
	STR_IO(insl_rep, "rep insl", si, di, cx);
	GUEST_ASSERT_EQ(BUF(IO_N_L * 4), di);
	GUEST_ASSERT_EQ(0, cx);
	check_in(0, 4, IO_N_L, 0, io_seed(IO_N_L, 4, 1, 0));

	/* DF=1: elements go from high addresses to low. */
	fill(0, IO_N_DF_B, io_seed(IO_N_DF_B, 1, 0, 1));
	si = BUF(IO_DF_B_FIRST), di = 0, cx = IO_N_DF_B;
	STR_IO_DF(outsb_rep_df, "rep outsb", si, di, cx);
	GUEST_ASSERT_EQ(BUF(IO_DF_B_FIRST) - IO_N_DF_B, si);
	GUEST_ASSERT_EQ(0, cx);

	si = 0, di = BUF(IO_DF_L_FIRST), cx = IO_N_DF_L;
	STR_IO_DF(insl_rep_df, "rep insl", si, di, cx);
	GUEST_ASSERT_EQ(BUF(IO_DF_L_FIRST) - IO_N_DF_L * 4, di);
	GUEST_ASSERT_EQ(0, cx);
	check_in(IO_DF_L_FIRST, 4, IO_N_DF_L, 1, io_seed(IO_N_DF_L, 4, 1, 1));

	/* Without REP: one element, RCX untouched. */
	fill(IO_ONCE_B_OFF, 1, io_seed(1, 1, 0, 0));
	si = BUF(IO_ONCE_B_OFF), di = 0, cx = IO_ONCE_RCX;
	STR_IO(outsb_once, "outsb", si, di, cx);
	GUEST_ASSERT_EQ(BUF(IO_ONCE_B_OFF + 1), si);
	GUEST_ASSERT_EQ(IO_ONCE_RCX, cx);

	si = 0, di = BUF(IO_ONCE_W_OFF), cx = IO_ONCE_RCX;
	STR_IO(insw_once, "insw", si, di, cx);
	GUEST_ASSERT_EQ(BUF(IO_ONCE_W_OFF + 2), di);
	GUEST_ASSERT_EQ(IO_ONCE_RCX, cx);
	check_in(IO_ONCE_W_OFF, 2, 1, 0, io_seed(1, 2, 1, 0));

	/* REP with RCX = 0 does nothing: no I/O at all. */
	si = BUF(0), di = 0, cx = 0;
	STR_IO(outsb_rep_zero, "rep outsb", si, di, cx);
	GUEST_ASSERT_EQ(BUF(0), si);
	GUEST_ASSERT_EQ(0, cx);
	GUEST_DONE();
}
