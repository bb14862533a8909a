// SPDX-License-Identifier: GPL-2.0
/*
 * equiv2_test - the guest sees the CPU it was promised: exceptions hvx
 * injects carry what the CPU's own would (RFLAGS.RF, error code) and
 * escalate as the CPU's own (double fault, shutdown), and
 * CPUID announces what hvx virtualizes (IA32_TSC_ADJUST, and FSGSBASE,
 * SMEP, SMAP, PCID and INVPCID as the host has them).
 */
#include "hvx_test.h"
#include "equiv2_guest.h"

static void run_long(void (*fn)(uint64_t))
{
	struct vcpu *vcpu;
	struct vm *vm;

	vcpu = vm_create_long(&vm, fn, 0);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* Faults pushed by injection have RF set, as the CPU's own faults. */
TEST(injected_fault_sets_rf)
{
	REQUIRE_VMX();
	run_long(guest_fault_rflags);
}

/* CPUID.(7,0):EBX.TSC_ADJUST and the MSR's behaviour. */
TEST(tsc_adjust)
{
	REQUIRE_VMX();
	run_long(guest_tsc_adjust);
}

/* #GP hvx injects through a missing gate: #NP, then #DF (error 0). */
TEST(injected_fault_escalates_to_double_fault)
{
	REQUIRE_VMX();
	run_long(guest_double_fault);
}

/* A fault during #DF: the vCPU shuts down, reported as HVX_EXIT_SHUTDOWN. */
TEST(fault_in_double_fault_shuts_down)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_double_fault, 1);
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_SHUTDOWN, vcpu);
	vm_free(vm);
}

/*
 * Each CR4 bit, EFER bit, MSR and instruction checked against the CPUID
 * bit that announces it (the guest reports each CR4 case first, so a
 * failure names the leaf, register and bit).
 */
TEST(cpuid_consistent_with_virtualized_features)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_cpuid_consistent, 0);
	while (vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC)
		TH_LOG("CPUID leaf %#llx reg %llu bit %llu: %s",
		       (unsigned long long)uc.args[0],
		       (unsigned long long)uc.args[1],
		       (unsigned long long)uc.args[2],
		       uc.args[3] ? "announced" : "hidden");
	vm_free(vm);
}

/*
 * FSGSBASE, SMEP, SMAP, PCID and INVPCID behave as the SDM says where
 * CPUID announces them (the guest syncs with each one it tries).
 */
TEST(cr4_native_features)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_cr4_native, 0);
	while (vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC)
		TH_LOG("announced and checked: %#llx", (unsigned long long)uc.args[0]);
	vm_free(vm);
}

TEST_HARNESS_MAIN
