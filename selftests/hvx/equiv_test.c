// SPDX-License-Identifier: GPL-2.0
/*
 * equiv_test - equivalence: the same code gives the same results natively
 * and in a guest; and a rare exit hvx does not emulate (task switch) stops
 * the VM with the exit reason reported.
 */
#include "hvx_test.h"
#include "equiv_guest.h"

#define OUT_GVA		GPA_BLOB_DATA

TEST(native_equals_guest)
{
	uint64_t native[EQUIV_WORDS], *guest;
	struct hvx_sregs s;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	guest_equiv_kernel(native);
	vcpu = vm_create_long(&vm, guest_equiv, OUT_GVA);
	/* The x87/SSE parts need what an OS sets: CR4.OSFXSR (SDM Vol. 3A
	 * 13.1.4), CR0.MP, no CR0.EM. */
	vcpu_get_sregs(vcpu, &s);
	s.cr4 |= X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	s.cr0 |= X86_CR0_MP;
	vcpu_set_sregs(vcpu, &s);
	vcpu_run_done(vcpu);
	guest = vm_gpa2hva(vm, OUT_GVA, sizeof(native));
	for (int i = 0; i < EQUIV_WORDS; i++) {
		EXPECT_EQ(native[i], guest[i]) TH_LOG("word %d", i);
	}
	vm_free(vm);
}

TEST(task_switch_stops_vm)
{
	struct hvx_sregs s;
	struct vcpu *vcpu;
	struct vm *vm;
	uint32_t *desc;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, ts_start, ts_end);
	/* GDT entry 0x30: an available 32-bit TSS at GPA_BLOB_DATA. */
	desc = vm_gpa2hva(vm, GPA_GDT + 0x30, 8);
	desc[0] = ((GPA_BLOB_DATA & 0xffff) << 16) | 0x67;
	desc[1] = ((GPA_BLOB_DATA >> 16) & 0xff) | 0x8900 |
		  (GPA_BLOB_DATA & 0xff000000);
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	vcpu_get_sregs(vcpu, &s);
	s.gdt.limit = 0x37;
	vcpu_set_sregs(vcpu, &s);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_INTERNAL_ERROR, vcpu);
	ASSERT_EQ(HVX_INTERNAL_UNHANDLED_EXIT, vcpu->run->internal.suberror);
	ASSERT_EQ(9, vcpu->run->internal.exit_reason);	/* task switch */
	vm_free(vm);
}

TEST_HARNESS_MAIN
