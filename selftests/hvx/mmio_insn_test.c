// SPDX-License-Identifier: GPL-2.0
/*
 * mmio_insn_test - instructions compilers and drivers use on device
 * memory, emulated with the CPU's semantics (equivalence).
 *
 * The guest runs each case first on RAM, where the CPU itself executes
 * it, then with one or both memory regions on MMIO, which this host backs
 * with plain memory, and compares registers, flags and memory (see
 * mmio_insn_guest.h): LODS, SCAS, CMPS with REP/REPE/REPNE, all sizes,
 * DF clear and set; MOVS between two MMIO regions and MMIO<->RAM; BT BTS
 * BTR BTC with register (signed, beyond the operand) and immediate bit
 * offsets; XADD; CMPXCHG (with LOCK) that succeeds and fails; SETcc (all
 * conditions); CMOVcc taken and not; the SSE moves memcpy_toio and
 * friends use (MOVDQU MOVDQA MOVUPS MOVAPS MOVUPD MOVAPD MOVSS MOVSD MOVD
 * MOVQ MOVNTDQ MOVNTPS, XMM1 and XMM9), their VEX forms with XMM and
 * YMM registers when the guest has AVX, and MOVNTI; CMPXCHG8B and
 * CMPXCHG16B that succeed and fail.
 *
 * And: an instruction hvx does not emulate raises #UD in the guest instead
 * of stopping the VM, and is counted in hvx_stats.mmio_unknown_insns.
 */
#include "hvx_test.h"
#include "hvx_nl.h"
#include "mmio_insn_guest.h"

static uint8_t dev[INSN_MMIO_SIZE];

/* Run until a ucall, serving MMIO exits from dev[]. */
static uint64_t run_with_dev(struct __test_metadata *_metadata,
			     struct vcpu *vcpu, struct ucall *uc)
{
	struct hvx_run *run = vcpu->run;

	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason != HVX_EXIT_MMIO)
			break;
		ASSERT_TRUE(run->mmio.phys_addr >= GPA_MMIO &&
			    run->mmio.phys_addr + run->mmio.len <=
			    GPA_MMIO + INSN_MMIO_SIZE)
			TH_LOG("%s", vcpu_exit_str(vcpu));
		ASSERT_TRUE(run->mmio.len <= 8);
		if (run->mmio.is_write)
			memcpy(dev + run->mmio.phys_addr - GPA_MMIO,
			       run->mmio.data, run->mmio.len);
		else
			memcpy(run->mmio.data,
			       dev + run->mmio.phys_addr - GPA_MMIO,
			       run->mmio.len);
	}
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	return get_ucall(vcpu, uc);
}

TEST(insns_equal_ram)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t cmd;
	unsigned int mismatches = 0;
	bool avx = false;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mmio_insns, 0);
	for (;;) {
		cmd = run_with_dev(_metadata, vcpu, &uc);
		if (cmd != UCALL_SYNC)
			break;
		if (uc.args[0] == INSN_AVX_DONE) {
			avx = true;
			continue;
		}
		ASSERT_EQ(INSN_MISMATCH, uc.args[0]) TH_LOG("%s", ucall_str(vcpu, &uc));
		TH_LOG("case %llu, item %llu (offset %llu): RAM 0x%llx, MMIO 0x%llx",
		       (unsigned long long)uc.args[1] >> 12,
		       (unsigned long long)uc.args[1] & 15,
		       (unsigned long long)(uc.args[1] >> 4 & 0xff),
		       (unsigned long long)uc.args[2],
		       (unsigned long long)uc.args[3]);
		mismatches++;
	}
	ASSERT_EQ(UCALL_DONE, cmd) TH_LOG("%s", ucall_str(vcpu, &uc));
	ASSERT_EQ(0, mismatches);
	if (!avx)
		TH_LOG("no AVX in the guest's CPUID: VEX moves not tested");
	vm_free(vm);
}

/* hvx_stats.mmio_unknown_insns of this process's only VM is @n. */
static void unknown_counted(struct __test_metadata *_metadata, uint64_t n)
{
	struct hvx_nl_vm vms[64];
	struct hvx_nl_stats s;
	struct hvx_nl nl;
	uint32_t id = 0;
	int nvms;

	ASSERT_EQ(0, hvx_nl_open(&nl)) TH_LOG("the hvx netlink family");
	nvms = hvx_nl_list_vms(&nl, vms, 64);
	ASSERT_LT(0, nvms);
	for (int i = 0; i < nvms && i < 64; i++)
		if (vms[i].pid == (uint32_t)getpid())
			id = vms[i].id;
	ASSERT_LT(0, id);
	ASSERT_EQ(1, hvx_nl_get_stats(&nl, id, -1, &s, 1));
	ASSERT_EQ(n, s.st.mmio_unknown_insns);
	ASSERT_LE(n, s.st.exceptions_injected);
	hvx_nl_close(&nl);
}

TEST(unknown_insn_ud)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mmio_unknown, 0);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(UCALL_SYNC, run_with_dev(_metadata, vcpu, &uc))
			TH_LOG("insn %d: %s", i, ucall_str(vcpu, &uc));
		ASSERT_EQ(X86_VEC_UD, uc.args[0]) TH_LOG("insn %d", i);
	}
	ASSERT_EQ(UCALL_DONE, run_with_dev(_metadata, vcpu, &uc));
	unknown_counted(_metadata, 2);
	vm_free(vm);
}

TEST_HARNESS_MAIN
