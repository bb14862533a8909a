// SPDX-License-Identifier: GPL-2.0
/*
 * debug_test - the guest's debug facilities after instructions hvx
 * emulates: single-step traps with DR6.BS right after CPUID, IN/OUT,
 * REP OUTS, MMIO loads, stores, read-modify-writes and string moves;
 * data breakpoints on emulated MMIO accesses; I/O breakpoints (CR4.DE)
 * on emulated port I/O; MOV SS blocking of the single-step trap;
 * IA32_DEBUGCTL.BTF read and written. Each at CPL 0 and CPL 3. The guest checks each #DB
 * (debug_guest.c); this side answers its port and MMIO accesses.
 */
#include "hvx_test.h"
#include "debug_guest.h"

/* Serve the guest's MMIO and port accesses until a ucall. */
static uint64_t run_serving(struct __test_metadata *_metadata,
			    struct vcpu *vcpu, struct ucall *uc)
{
	struct hvx_run *run = vcpu->run;

	for (;;) {
		vcpu_run(vcpu);
		if (get_ucall(vcpu, uc) != UCALL_NONE)
			return uc->cmd;
		if (run->exit_reason == HVX_EXIT_MMIO) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
			continue;
		}
		if (run->exit_reason == HVX_EXIT_IO &&
		    (run->io.port == DBG_PORT_WATCHED ||
		     run->io.port == DBG_PORT_OTHER)) {
			if (run->io.direction == HVX_EXIT_IO_IN)
				memset(vcpu_io_data(vcpu), 0,
				       run->io.size * run->io.count);
			continue;
		}
		return UCALL_NONE;
	}
}

static void run_matrix(struct __test_metadata *_metadata, uint64_t cpl)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t cmd;

	vcpu = vm_create_long(&vm, guest_debug_matrix, cpl);
	cmd = run_serving(_metadata, vcpu, &uc);
	ASSERT_EQ(UCALL_DONE, cmd) TH_LOG("%s", cmd == UCALL_NONE ?
					  vcpu_exit_str(vcpu) :
					  ucall_str(vcpu, &uc));
	vm_free(vm);
}

TEST(debug_kernel)
{
	REQUIRE_VMX();
	run_matrix(_metadata, 0);
}

TEST(debug_user)
{
	REQUIRE_VMX();
	run_matrix(_metadata, 3);
}

TEST_HARNESS_MAIN
