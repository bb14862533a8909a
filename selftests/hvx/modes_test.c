// SPDX-License-Identifier: GPL-2.0
/*
 * modes_test - guests in real mode, 32-bit protected mode and 64-bit mode,
 * and a guest that switches from real mode to 64-bit mode by itself.
 */
#include "hvx_test.h"
#include "hvx_guest.h"
#include "modes_guest.h"

/* Guest code. */

uint64_t modes_table[64];
extern const char guest_ud2_insn[];

GUEST_CODE
static uint64_t __attribute__((noinline)) fib(uint64_t n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* Entered directly in 64-bit mode by vcpu_setup_long(). */
GUEST_CODE
void guest_long_mode(uint64_t fib_n)
{
	uint64_t efer, sum = 0;

	GUEST_ASSERT(guest_read_cr0() & X86_CR0_PG);
	GUEST_ASSERT(guest_read_cr4() & X86_CR4_PAE);
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_EFER, &efer));
	GUEST_ASSERT_EQ(EFER_LME | EFER_LMA, efer & (EFER_LME | EFER_LMA));

	/* Recursion: calls, returns and the stack work. */
	GUEST_SYNC(fib(fib_n));

	/* 64-bit arithmetic and stores to a global (guest memory). */
	for (uint64_t i = 0; i < 64; i++)
		modes_table[i] = i * i * 0x100000001ull;
	for (uint64_t i = 0; i < 64; i++)
		sum += modes_table[i];
	GUEST_SYNC(sum);
	GUEST_DONE();
}

/* An invalid opcode goes through the lib's IDT and is reported as a
 * UCALL_UNHANDLED with vector 6 and the RIP of the UD2. */
GUEST_CODE
void guest_ud2(uint64_t unused)
{
	(void)unused;
	asm volatile(".globl guest_ud2_insn\n"
		     "guest_ud2_insn: ud2");
	GUEST_DONE();
}

/* Host code. */

TEST(real_mode)
{
	struct hvx_sregs sregs;
	struct hvx_regs regs;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, rm_start, rm_end);
	vcpu_setup_real(vcpu, GPA_BLOB);
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = 7;
	vcpu_set_regs(vcpu, &regs);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(5040, uc.args[0]);		/* 7! */
	ASSERT_EQ(RM_FAR_CS, uc.args[1]);	/* the far jump loaded CS */
	ASSERT_EQ(0, uc.args[2] & X86_CR0_PE);
	/* ES:0x100 is linear ES * 16 + 0x100. */
	ASSERT_EQ(5040, *(uint16_t *)vm_gpa2hva(vm, RM_RESULT_GPA, 2));

	vcpu_get_sregs(vcpu, &sregs);
	ASSERT_EQ(RM_FAR_CS, sregs.cs.selector);
	ASSERT_EQ(RM_FAR_CS << 4, sregs.cs.base);
	ASSERT_EQ(GPA_BLOB_DATA >> 4, sregs.es.selector);
	ASSERT_EQ(GPA_BLOB_DATA, sregs.es.base);
	ASSERT_EQ(0, sregs.cr0 & (X86_CR0_PE | X86_CR0_PG));
	ASSERT_EQ(0, sregs.efer & EFER_LMA);
	vcpu_get_regs(vcpu, &regs);
	ASSERT_EQ(0, regs.rbx);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(protected_mode_32bit)
{
	uint32_t n = 100000, sum = 0;
	struct hvx_sregs sregs;
	struct hvx_regs regs;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	for (uint32_t i = 1; i <= n; i++)
		sum += i;			/* wraps, as in the guest */
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, pm_start, pm_end);
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	vcpu_get_regs(vcpu, &regs);
	regs.rcx = n;
	vcpu_set_regs(vcpu, &regs);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(sum, (uint32_t)uc.args[0]);
	ASSERT_EQ(GPA_BLOB + (pm_ret - pm_start), uc.args[1]);
	ASSERT_EQ(vcpu->stack_top, uc.args[2]);
	ASSERT_EQ(sum, *(uint32_t *)vm_gpa2hva(vm, PM_RESULT_GPA, 4));

	vcpu_get_sregs(vcpu, &sregs);
	ASSERT_EQ(X86_CR0_PE, sregs.cr0 & (X86_CR0_PE | X86_CR0_PG));
	ASSERT_EQ(1, sregs.cs.db);
	ASSERT_EQ(0, sregs.cs.l);
	ASSERT_EQ(0, sregs.efer & EFER_LMA);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(long_mode_c_guest)
{
	struct hvx_sregs sregs;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_long_mode, 20);
	ASSERT_EQ(6765, vcpu_run_sync(vcpu));		/* fib(20) */
	/* 0x100000001 * (0^2 + 1^2 + ... + 63^2) */
	ASSERT_EQ(0x100000001ull * 85344, vcpu_run_sync(vcpu));
	ASSERT_EQ(25 * 0x100000001ull, guest_var(vm, modes_table[5]));
	ASSERT_EQ(0, modes_table[5]);	/* the host copy is separate */

	vcpu_get_sregs(vcpu, &sregs);
	ASSERT_EQ(EFER_LME | EFER_LMA, sregs.efer & (EFER_LME | EFER_LMA));
	ASSERT_EQ(1, sregs.cs.l);
	ASSERT_EQ(X86_CR0_PE | X86_CR0_PG, sregs.cr0 & (X86_CR0_PE | X86_CR0_PG));
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* Guest exceptions are delivered through the guest's own IDT. */
TEST(long_mode_guest_exception)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_ud2, 0);
	vcpu_run(vcpu);
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc))
		TH_LOG("exit: %s", vcpu_exit_str(vcpu));
	ASSERT_EQ(X86_VEC_UD, uc.args[0]);
	ASSERT_EQ((uint64_t)guest_ud2_insn, uc.args[2]);
	vm_free(vm);
}

TEST(real_to_long_mode_switch)
{
	struct hvx_sregs sregs;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, ms_start, ms_end);
	vcpu_setup_real(vcpu, GPA_BLOB);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(1, uc.args[0]);
	ASSERT_EQ(0, uc.args[1] & X86_CR0_PE);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(2, uc.args[0]);
	ASSERT_EQ(X86_CR0_PE, uc.args[1] & (X86_CR0_PE | X86_CR0_PG));
	ASSERT_EQ(0x08, uc.args[2] & 0xffff);
	vcpu_get_sregs(vcpu, &sregs);
	ASSERT_EQ(0x08, sregs.cs.selector);
	ASSERT_EQ(1, sregs.cs.db);
	ASSERT_EQ(0x10, sregs.ss.selector);
	ASSERT_EQ(0x20, sregs.tr.selector);
	ASSERT_EQ(MS_TSS_GPA, sregs.tr.base);
	ASSERT_EQ(SYS_TYPE_TSS_BUSY, sregs.tr.type);
	ASSERT_EQ(0, sregs.efer & (EFER_LME | EFER_LMA));

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(3, uc.args[0]);
	ASSERT_EQ(EFER_LME | EFER_LMA, uc.args[1] & (EFER_LME | EFER_LMA));
	ASSERT_EQ(MS_MAGIC64, uc.args[2]);	/* a 64-bit register */
	ASSERT_EQ(X86_CR0_PE | X86_CR0_PG, uc.args[3] & (X86_CR0_PE | X86_CR0_PG));
	vcpu_get_sregs(vcpu, &sregs);
	ASSERT_EQ(EFER_LME | EFER_LMA, sregs.efer & (EFER_LME | EFER_LMA));
	ASSERT_EQ(X86_CR0_PE | X86_CR0_PG, sregs.cr0 & (X86_CR0_PE | X86_CR0_PG));
	ASSERT_EQ(X86_CR4_PAE, sregs.cr4 & X86_CR4_PAE);
	ASSERT_EQ(GPA_PML4, sregs.cr3);
	ASSERT_EQ(0x18, sregs.cs.selector);
	ASSERT_EQ(1, sregs.cs.l);
	ASSERT_EQ(0, sregs.cs.db);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST_HARNESS_MAIN
