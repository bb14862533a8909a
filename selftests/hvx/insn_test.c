// SPDX-License-Identifier: GPL-2.0
/*
 * insn_test - instructions hvx intercepts and what the guest must see:
 * INVD/WBINVD complete, VMCALL is a hypercall (no fault: an unknown
 * number returns -HVX_HC_ENOSYS, hypercall_test), VMX instructions and
 * MONITOR/MWAIT raise #UD (no nested VMX, no MONITOR in CPUID), RDPMC raises #GP (no PMU), debug
 * registers behave, and RDTSC follows the VM's TSC offset.
 */
#include <sys/ioctl.h>

#include "hvx_test.h"
#include "insn_guest.h"

TEST(intercepted_instructions)
{
	static const struct { const char *name; uint64_t vector; } want[] = {
		[INSN_INVD] = { "invd", 0 },
		[INSN_WBINVD] = { "wbinvd", 0 },
		[INSN_VMCALL] = { "vmcall", 0 },
		[INSN_VMXON] = { "vmxon", 6 },
		[INSN_VMCLEAR] = { "vmclear", 6 },
		[INSN_VMPTRLD] = { "vmptrld", 6 },
		[INSN_VMREAD] = { "vmread", 6 },
		[INSN_VMWRITE] = { "vmwrite", 6 },
		[INSN_VMLAUNCH] = { "vmlaunch", 6 },
		[INSN_VMRESUME] = { "vmresume", 6 },
		[INSN_VMXOFF] = { "vmxoff", 6 },
		[INSN_INVEPT] = { "invept", 6 },
		[INSN_INVVPID] = { "invvpid", 6 },
		[INSN_MONITOR] = { "monitor", 6 },
		[INSN_MWAIT] = { "mwait", 6 },
		[INSN_RDPMC] = { "rdpmc", 13 },
		[INSN_DR7_HIGH] = { "mov to dr7, bits 63:32 set", 13 },
	};
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_insns, 0);
	vcpu_run_done(vcpu);
	for (int i = 0; i < INSN_NR; i++) {
		EXPECT_EQ(want[i].vector, guest_var(vm, guest_insn_vec[i]))
			TH_LOG("%s", want[i].name);
	}
	vm_free(vm);
}

TEST(debug_registers)
{
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_debug_regs, 0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0x1234000, uc.args[0]);
	ASSERT_EQ(0xfedcba98, uc.args[1]);
	ASSERT_EQ(0xffff0ff0, uc.args[2]);
	ASSERT_EQ(0x401, uc.args[3]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* The VM's TSC offset shows in guest RDTSC (without an exit) and is
 * per VM: another VM keeps its own. */
TEST(vm_tsc_offset)
{
	struct hvx_tsc_offset t = { .offset = 1ll << 50 }, got;
	struct vcpu *vcpu, *other;
	struct vm *vm, *vm2;
	uint64_t t0, t1, o0, o1;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_rdtsc_twice, 0);
	other = vm_create_long(&vm2, guest_rdtsc_twice, 0);
	t0 = vcpu_run_sync(vcpu);
	o0 = vcpu_run_sync(other);

	ASSERT_EQ(0, ioctl(vm->fd, HVX_SET_TSC_OFFSET, &t));
	memset(&got, 0, sizeof(got));
	ASSERT_EQ(0, ioctl(vm->fd, HVX_GET_TSC_OFFSET, &got));
	ASSERT_EQ(1ll << 50, got.offset);
	t.reserved[1] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_TSC_OFFSET, &t));

	t1 = vcpu_run_sync(vcpu);
	o1 = vcpu_run_sync(other);
	ASSERT_LE(t0 + (1ull << 50), t1);
	ASSERT_GT(t0 + (1ull << 50) + (1ull << 40), t1);
	ASSERT_GT(o0 + (1ull << 40), o1);	/* the other VM: unchanged */
	vcpu_run_done(vcpu);
	vcpu_run_done(other);
	vm_free(vm);
	vm_free(vm2);
}

TEST_HARNESS_MAIN
