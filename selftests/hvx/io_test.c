// SPDX-License-Identifier: GPL-2.0
/*
 * io_test - port I/O exits: IN/OUT of 1, 2 and 4 bytes (imm8 and DX forms),
 * and string I/O (INS/OUTS, with and without REP, DF=0 and DF=1), which
 * the kernel handles in possibly several exits per instruction.
 */
#include "hvx_test.h"
#include "hvx_guest.h"

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
GUEST_CODE
static inline uint8_t io_pattern(uint32_t i, uint32_t seed)
{
	return (uint8_t)(i * 31 + seed * 77 + (i >> 8));
}

/* A different data stream for each string case. */
GUEST_CODE
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

/* Guest code. */

uint8_t io_buf[IO_BUF_SIZE];

/* "<c>_insn: <instruction>" ... "<c>_next: out %eax, MARK_PORT" */
#define INSN(c)	".globl " #c "_insn, " #c "_next\n" #c "_insn:\t"
#define NEXT(c)	"\n" #c "_next:\toutl %%eax, %[mark]"

GUEST_CODE
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
GUEST_CODE
static void fill(uint32_t first, uint32_t bytes, uint32_t seed)
{
	for (uint32_t i = first; i < first + bytes; i++)
		io_buf[i] = io_pattern(i, seed);
}

/* Element k of an IN case (data stream bytes k*size..) landed at
 * first +/- k*size. */
GUEST_CODE
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

GUEST_CODE
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

/* Host code. */

/* Run to the "out %eax, MARK_PORT" at next: the guest resumed at exactly
 * the instruction after the one under test. */
static void run_to_mark(struct __test_metadata *_metadata, struct vcpu *vcpu,
			const char *next, struct hvx_regs *regs)
{
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	ASSERT_EQ(MARK_PORT, vcpu->run->io.port)
		TH_LOG("expected the mark after the instruction, got %s",
		       vcpu_exit_str(vcpu));
	vcpu_get_regs(vcpu, regs);
	ASSERT_EQ((uint64_t)next, regs->rip);
}

static const struct io_case {
	const char *name, *insn, *next;
	uint8_t direction, size;
	uint16_t port;
	uint32_t value;
	uint64_t rax_after;	/* IN only */
} single_cases[] = {
	{ "out8", out8_insn, out8_next, HVX_EXIT_IO_OUT, 1, IO_PORT_IMM, IO_OUT8, 0 },
	{ "out16", out16_insn, out16_next, HVX_EXIT_IO_OUT, 2, IO_PORT_DX, IO_OUT16, 0 },
	{ "out32", out32_insn, out32_next, HVX_EXIT_IO_OUT, 4, IO_PORT_DX, IO_OUT32, 0 },
	{ "in8", in8_insn, in8_next, HVX_EXIT_IO_IN, 1, IO_PORT_IMM, IO_IN8,
	  (IO_RAX_BEFORE & ~0xffull) | IO_IN8 },
	{ "in16", in16_insn, in16_next, HVX_EXIT_IO_IN, 2, IO_PORT_DX, IO_IN16,
	  (IO_RAX_BEFORE & ~0xffffull) | IO_IN16 },
	{ "in32", in32_insn, in32_next, HVX_EXIT_IO_IN, 4, IO_PORT_DX, IO_IN32,
	  IO_IN32 },
};

TEST(in_out)
{
	struct hvx_regs regs;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_io_single, 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(single_cases); i++) {
		const struct io_case *c = &single_cases[i];
		struct hvx_run *run = vcpu->run;
		uint32_t data = 0;

		TH_LOG("case %s", c->name);
		vcpu_run(vcpu);
		ASSERT_EXIT(HVX_EXIT_IO, vcpu);
		ASSERT_EQ(c->direction, run->io.direction);
		ASSERT_EQ(c->size, run->io.size);
		ASSERT_EQ(c->port, run->io.port);
		ASSERT_EQ(1, run->io.count);
		ASSERT_EQ(HVX_RUN_IO_DATA_OFFSET, run->io.data_offset);
		/* Not completed yet: RIP is still at the instruction. */
		ASSERT_EQ((uint64_t)c->insn, vcpu_get_rip(vcpu));
		if (c->direction == HVX_EXIT_IO_OUT) {
			memcpy(&data, vcpu_io_data(vcpu), c->size);
			ASSERT_EQ(c->value, data);
		} else {
			memcpy(vcpu_io_data(vcpu), &c->value, c->size);
		}
		run_to_mark(_metadata, vcpu, c->next, &regs);
		if (c->direction == HVX_EXIT_IO_IN)
			ASSERT_EQ(c->rax_after, regs.rax);
	}
	vcpu_run_done(vcpu);
	vm_free(vm);
}

static const struct string_case {
	const char *name, *insn, *next;
	uint8_t direction, size;
	bool df, rep;
	uint32_t n;		/* elements */
	uint32_t first;		/* io_buf offset of the first element */
} string_cases[] = {
#define S(c, dir, size, df, rep, n, first) \
	{ #c, c##_insn, c##_next, dir, size, df, rep, n, first }
	S(outsb_rep, HVX_EXIT_IO_OUT, 1, false, true, IO_N_B, 0),
	S(outsw_rep, HVX_EXIT_IO_OUT, 2, false, true, IO_N_W, 0),
	S(outsl_rep, HVX_EXIT_IO_OUT, 4, false, true, IO_N_L, 0),
	S(insb_rep, HVX_EXIT_IO_IN, 1, false, true, IO_N_B, 0),
	S(insw_rep, HVX_EXIT_IO_IN, 2, false, true, IO_N_W, 0),
	S(insl_rep, HVX_EXIT_IO_IN, 4, false, true, IO_N_L, 0),
	S(outsb_rep_df, HVX_EXIT_IO_OUT, 1, true, true, IO_N_DF_B, IO_DF_B_FIRST),
	S(insl_rep_df, HVX_EXIT_IO_IN, 4, true, true, IO_N_DF_L, IO_DF_L_FIRST),
	S(outsb_once, HVX_EXIT_IO_OUT, 1, false, false, 1, IO_ONCE_B_OFF),
	S(insw_once, HVX_EXIT_IO_IN, 2, false, false, 1, IO_ONCE_W_OFF),
	S(outsb_rep_zero, HVX_EXIT_IO_OUT, 1, false, true, 0, 0),
#undef S
};

/*
 * One string instruction: every exit carries count >= 1 elements of the
 * right size and port, at most a data page, with RIP still at the
 * instruction; the counts add up to n and the data, in execution order,
 * is the buffer (OUT) or lands in it (IN, checked by the guest). Then the
 * guest continues right after it with RSI/RDI/RCX updated.
 */
static void run_string_case(struct __test_metadata *_metadata,
			    struct vcpu *vcpu, const struct string_case *c)
{
	bool in = c->direction == HVX_EXIT_IO_IN;
	uint32_t seed = io_seed(c->n, c->size, in, c->df);
	uint64_t buf = (uint64_t)io_buf, end;
	struct hvx_run *run = vcpu->run;
	struct hvx_regs regs;
	uint32_t done = 0;
	int exits = 0;

	while (done < c->n) {
		uint8_t *data;

		vcpu_run(vcpu);
		ASSERT_EXIT(HVX_EXIT_IO, vcpu);
		ASSERT_EQ(c->direction, run->io.direction);
		ASSERT_EQ(c->size, run->io.size);
		ASSERT_EQ(IO_PORT_DX, run->io.port);
		ASSERT_LE(1, run->io.count);
		ASSERT_GE(c->n - done, run->io.count)
			TH_LOG("exit %d: %u elements after %u of %u", exits,
			       run->io.count, done, c->n);
		ASSERT_GE(HVX_RUN_IO_DATA_SIZE, run->io.count * c->size);
		ASSERT_EQ(HVX_RUN_IO_DATA_OFFSET, run->io.data_offset);
		ASSERT_EQ((uint64_t)c->insn, vcpu_get_rip(vcpu));
		data = vcpu_io_data(vcpu);
		for (uint32_t k = done; k < done + run->io.count; k++) {
			uint32_t off = c->df ? c->first - k * c->size :
					       c->first + k * c->size;

			for (uint32_t j = 0; j < c->size; j++) {
				uint8_t *b = &data[(k - done) * c->size + j];

				if (in) {
					*b = io_pattern(k * c->size + j, seed);
					continue;
				}
				ASSERT_EQ(io_pattern(off + j, seed), *b)
					TH_LOG("element %u byte %u", k, j);
			}
		}
		done += run->io.count;
		exits++;
	}
	run_to_mark(_metadata, vcpu, c->next, &regs);

	end = c->df ? buf + c->first - (uint64_t)c->n * c->size :
		      buf + c->first + (uint64_t)c->n * c->size;
	ASSERT_EQ(in ? 0 : end, regs.rsi);
	ASSERT_EQ(in ? end : 0, regs.rdi);
	ASSERT_EQ(c->rep ? 0 : IO_ONCE_RCX, regs.rcx);
	ASSERT_EQ(0, regs.rflags & X86_RFLAGS_DF);
	TH_LOG("case %s: %u elements in %d exits", c->name, c->n, exits);
}

TEST(string_io)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_io_string, 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(string_cases); i++)
		run_string_case(_metadata, vcpu, &string_cases[i]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST_HARNESS_MAIN
