// SPDX-License-Identifier: GPL-2.0
/*
 * equiv2_test - the guest sees the CPU it was promised: exceptions hvx
 * injects carry what the CPU's own would (RFLAGS.RF, error code), and
 * CPUID announces what hvx virtualizes (IA32_TSC_ADJUST).
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

TEST_HARNESS_MAIN
