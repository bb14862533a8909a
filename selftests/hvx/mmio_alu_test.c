// SPDX-License-Identifier: GPL-2.0
/*
 * mmio_alu_test - ADD OR ADC SBB AND SUB XOR CMP TEST (00-3B, 80-83,
 * 84/85, F6/F7 /0) and XCHG (86/87) with their memory operand on MMIO,
 * in 64-bit code, 32-bit protected mode and real mode.
 *
 * For each case the host checks the exits in order: a read of the right
 * GPA and length with RIP still on the instruction; for a read-modify-
 * write, then a write of the result at the same GPA, returned by the
 * HVX_RUN that took the read data (RIP still on the instruction); then the
 * guest's next instruction, the MARK_PORT out, at exactly <case>_next.
 * The guest then runs the same instruction on RAM holding the data the
 * host supplied, from the same registers and RFLAGS, and the host checks
 * that the two runs agree: RFLAGS (all of it, so OF SF ZF AF PF CF and
 * nothing else changed), the register operand, and the value written
 * (mmio_alu_guest.h).
 *
 * Also: a read-modify-write on a read-only slot (the read is done in the
 * kernel, only the write exits), and immediate_exit between the two exits
 * of a read-modify-write; and the single-step trap (RFLAGS.TF) right after
 * a read-modify-write completes, not after its read (in Bochs 2.7 the trap
 * may come from Bochs's stale pending debug exception instead of hvx's,
 * see mmio_string_test.c).
 */
#include <sys/mman.h>

#include "hvx_test.h"
#include "mmio_alu_guest.h"

struct alu_case {
	const char *name, *insn, *next;
	uint64_t off;		/* GPA of the access - the mode's MMIO base */
	uint32_t len;
	bool rmw;		/* a read, then the write of the result */
	uint64_t rd;		/* data returned for the read */
};

#define ALU_CASE(c, off, len, acc, rd)					\
	{ #c, c##_insn, c##_next, off, len, (acc) == ALU_RW, rd },

static const struct alu_case cases64[] = { ALU_CASES64(ALU_CASE) };
static const struct alu_case cases32[] = { ALU_CASES32(ALU_CASE) };
static const struct alu_case cases16[] = { ALU_CASES16(ALU_CASE) };

static uint64_t len_mask(uint32_t len)
{
	return len == 8 ? ~0ull : (1ull << (8 * len)) - 1;
}

/*
 * Run the cases in order. RIP of a label: label - start + rip_base (the
 * blobs run at GPA_BLOB, with CS base 0 in 32-bit mode and GPA_BLOB in
 * real mode); start = NULL for code running where it was linked. Only
 * reg_mask of the registers is compared (16/32-bit code: the low half).
 */
static void run_alu_cases(struct __test_metadata *_metadata,
			  struct vcpu *vcpu, const struct alu_case *cases,
			  unsigned int n, const char *start, uint64_t rip_base,
			  uint64_t mmio_base, uint64_t reg_mask)
{
	struct hvx_run *run = vcpu->run;
	struct hvx_regs regs;

#define RIP_OF(l) (start ? (uint64_t)((l) - start) + rip_base : (uint64_t)(l))
	for (unsigned int i = 0; i < n; i++) {
		const struct alu_case *c = &cases[i];
		uint64_t mask = len_mask(c->len), written = c->rd & mask;

		/* The read of the memory operand. */
		vcpu_run(vcpu);
		ASSERT_EXIT_MSG(HVX_EXIT_MMIO, vcpu, " (case %s)", c->name);
		ASSERT_EQ(mmio_base + c->off, run->mmio.phys_addr)
			TH_LOG("case %s", c->name);
		ASSERT_EQ(c->len, run->mmio.len) TH_LOG("case %s", c->name);
		ASSERT_EQ(0, run->mmio.is_write)
			TH_LOG("case %s: %s", c->name, vcpu_exit_str(vcpu));
		ASSERT_EQ(RIP_OF(c->insn), vcpu_get_rip(vcpu))
			TH_LOG("case %s", c->name);
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		memcpy(run->mmio.data, &c->rd, c->len);

		/* The write of the result, before the guest runs again. */
		if (c->rmw) {
			vcpu_run(vcpu);
			ASSERT_EXIT_MSG(HVX_EXIT_MMIO, vcpu, " (case %s)",
					c->name);
			ASSERT_EQ(mmio_base + c->off, run->mmio.phys_addr)
				TH_LOG("case %s", c->name);
			ASSERT_EQ(c->len, run->mmio.len)
				TH_LOG("case %s", c->name);
			ASSERT_EQ(1, run->mmio.is_write)
				TH_LOG("case %s", c->name);
			ASSERT_EQ(RIP_OF(c->insn), vcpu_get_rip(vcpu))
				TH_LOG("case %s: RIP moved before the write completed",
				       c->name);
			written = 0;
			memcpy(&written, run->mmio.data, c->len);
		}

		/* Done, and the guest went on to the very next instruction. */
		vcpu_run(vcpu);
		ASSERT_EXIT_MSG(HVX_EXIT_IO, vcpu, " (case %s)", c->name);
		ASSERT_EQ(MARK_PORT, run->io.port)
			TH_LOG("case %s: %s", c->name, vcpu_exit_str(vcpu));
		ASSERT_EQ(RIP_OF(c->next), vcpu_get_rip(vcpu))
			TH_LOG("case %s", c->name);

		/* The same instruction on RAM agrees. */
		vcpu_run_sync(vcpu);
		vcpu_get_regs(vcpu, &regs);
		ASSERT_EQ(regs.rsi, regs.rdi)
			TH_LOG("case %s: RFLAGS after MMIO 0x%llx, after RAM 0x%llx",
			       c->name, regs.rdi, regs.rsi);
		ASSERT_EQ(regs.rcx & reg_mask, regs.rdx & reg_mask)
			TH_LOG("case %s: register after MMIO 0x%llx, after RAM 0x%llx",
			       c->name, regs.rdx, regs.rcx);
		ASSERT_EQ(regs.rbx & mask, written)
			TH_LOG("case %s: %s 0x%llx, RAM got 0x%llx", c->name,
			       c->rmw ? "MMIO write" : "unchanged",
			       (unsigned long long)written, regs.rbx & mask);
	}
#undef RIP_OF
}

TEST(alu_64bit)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mmio_alu64, 0);
	run_alu_cases(_metadata, vcpu, cases64, ARRAY_SIZE(cases64), NULL, 0,
		      GPA_MMIO, ~0ull);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(alu_32bit)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, alu32_start, alu32_end);
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	run_alu_cases(_metadata, vcpu, cases32, ARRAY_SIZE(cases32),
		      alu32_start, GPA_BLOB, GPA_MMIO, 0xffffffff);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(alu_16bit_real_mode)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, alu16_start, alu16_end);
	vcpu_setup_real(vcpu, GPA_BLOB);
	run_alu_cases(_metadata, vcpu, cases16, ARRAY_SIZE(cases16),
		      alu16_start, 0, GPA_VGA, 0xffffffff);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(alu_readonly_slot)
{
	struct hvx_run *run;
	struct vcpu *vcpu;
	uint32_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	mem = mmap(NULL, ALU_RO_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	mem[0] = ALU_RO_PATTERN;
	vcpu = vm_create_long(&vm, guest_alu_readonly, 0);
	run = vcpu->run;
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 2, HVX_MEM_READONLY,
					    ALU_RO_GPA, ALU_RO_SIZE, mem))
		TH_LOG("HVX_SET_MEMORY_REGION: %s", strerrorname_np(errno));

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(ALU_RO_GPA, run->mmio.phys_addr);
	ASSERT_EQ(4, run->mmio.len);
	ASSERT_EQ(1, run->mmio.is_write) TH_LOG("%s", vcpu_exit_str(vcpu));
	ASSERT_EQ(ALU_RO_PATTERN | ALU_RO_OR, *(uint32_t *)run->mmio.data);
	ASSERT_EQ((uint64_t)ro_or_insn, vcpu_get_rip(vcpu));

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	ASSERT_EQ(MARK_PORT, run->io.port) TH_LOG("%s", vcpu_exit_str(vcpu));
	ASSERT_EQ((uint64_t)ro_or_next, vcpu_get_rip(vcpu));
	ASSERT_EQ(ALU_RO_PATTERN, mem[0]);
	vcpu_run_done(vcpu);
	vm_free(vm);
	munmap(mem, ALU_RO_SIZE);
}

/*
 * With immediate_exit set, the HVX_RUN that completes the read still
 * returns the write (it is part of the same instruction); the next one
 * completes the write, advances RIP and returns -EINTR.
 */
TEST(alu_rmw_immediate_exit)
{
	uint32_t rd = ALU_IE_RD, wr = 0;
	struct hvx_run *run;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_alu_immediate_exit, 0);
	run = vcpu->run;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(0, run->mmio.is_write);
	memcpy(run->mmio.data, &rd, 4);

	run->immediate_exit = 1;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(1, run->mmio.is_write);
	ASSERT_EQ(GPA_MMIO, run->mmio.phys_addr);
	memcpy(&wr, run->mmio.data, 4);
	ASSERT_EQ(ALU_IE_RD + ALU_IE_EBX, wr);
	ASSERT_EQ((uint64_t)ie_add_insn, vcpu_get_rip(vcpu));

	ASSERT_ERRNO(EINTR, __vcpu_run(vcpu));
	ASSERT_EXIT(HVX_EXIT_INTR, vcpu);
	ASSERT_EQ((uint64_t)ie_add_next, vcpu_get_rip(vcpu));

	run->immediate_exit = 0;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	ASSERT_EQ(MARK_PORT, run->io.port) TH_LOG("%s", vcpu_exit_str(vcpu));
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(alu_single_step)
{
	struct hvx_run *run;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_alu_single_step, 0);
	run = vcpu->run;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(0, run->mmio.is_write);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(1, run->mmio.is_write);
	ASSERT_EQ(0, __vcpu_run(vcpu));
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc))
		TH_LOG("%s", vcpu_exit_str(vcpu));
	ASSERT_EQ(1, uc.args[0])	/* #DB */ TH_LOG("%s", ucall_str(vcpu, &uc));
	ASSERT_EQ((uint64_t)ss_add_next, uc.args[2]);
	vm_free(vm);
}

TEST_HARNESS_MAIN
