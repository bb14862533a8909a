// SPDX-License-Identifier: GPL-2.0
/*
 * io_test - port I/O exits: IN/OUT of 1, 2 and 4 bytes (imm8 and DX forms),
 * and string I/O (INS/OUTS, with and without REP, DF=0 and DF=1), which
 * the kernel handles in possibly several exits per instruction.
 */
#include "hvx_test.h"
#include "io_guest.h"

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
