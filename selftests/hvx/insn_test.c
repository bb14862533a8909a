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
#include "hvx_guest.h"

/* Instructions hvx intercepts, and the vector each must raise (0: none). */
enum insn_case {
	INSN_INVD, INSN_WBINVD, INSN_VMCALL, INSN_VMXON, INSN_VMCLEAR,
	INSN_VMPTRLD, INSN_VMREAD, INSN_VMWRITE, INSN_VMLAUNCH, INSN_VMRESUME,
	INSN_VMXOFF, INSN_INVEPT, INSN_INVVPID, INSN_MONITOR, INSN_MWAIT,
	INSN_RDPMC, INSN_DR7_HIGH, INSN_NR
};

extern volatile uint64_t guest_insn_vec[INSN_NR];
void guest_insns(uint64_t unused);
void guest_debug_regs(uint64_t unused);
void guest_rdtsc_twice(uint64_t unused);

/* Guest code. */

volatile uint64_t guest_insn_vec[INSN_NR];

/* Execute @insn; return the vector it raised, 0 if none. */
#define TRY(insn) ({							\
	guest_fixup_vector = 0;						\
	asm volatile("movq $1f, %[fix]\n\t"				\
		     insn "\n"						\
		     "1:\tmovq $0, %[fix]"				\
		     : [fix] "=m"(guest_fixup_rip)			\
		     : : "memory", "rax", "rcx", "rdx");		\
	guest_fixup_vector;						\
})

GUEST_CODE
void guest_insns(uint64_t unused)
{
	uint64_t mem[2] = { 0, 0 };

	(void)unused;
	(void)mem;
	guest_insn_vec[INSN_INVD] = TRY("invd");
	guest_insn_vec[INSN_WBINVD] = TRY("wbinvd");
	guest_insn_vec[INSN_VMCALL] = TRY("vmcall");
	guest_insn_vec[INSN_VMXON] = TRY("vmxon (%%rsp)");
	guest_insn_vec[INSN_VMCLEAR] = TRY("vmclear (%%rsp)");
	guest_insn_vec[INSN_VMPTRLD] = TRY("vmptrld (%%rsp)");
	guest_insn_vec[INSN_VMREAD] = TRY("xor %%eax, %%eax; vmread %%rax, %%rcx");
	guest_insn_vec[INSN_VMWRITE] = TRY("xor %%eax, %%eax; vmwrite %%rcx, %%rax");
	guest_insn_vec[INSN_VMLAUNCH] = TRY("vmlaunch");
	guest_insn_vec[INSN_VMRESUME] = TRY("vmresume");
	guest_insn_vec[INSN_VMXOFF] = TRY("vmxoff");
	guest_insn_vec[INSN_INVEPT] = TRY("mov $1, %%eax; invept (%%rsp), %%rax");
	guest_insn_vec[INSN_INVVPID] = TRY("mov $1, %%eax; invvpid (%%rsp), %%rax");
	guest_insn_vec[INSN_MONITOR] = TRY("mov %%rsp, %%rax; xor %%ecx, %%ecx; xor %%edx, %%edx; monitor");
	guest_insn_vec[INSN_MWAIT] = TRY("xor %%eax, %%eax; xor %%ecx, %%ecx; mwait");
	guest_insn_vec[INSN_RDPMC] = TRY("xor %%ecx, %%ecx; rdpmc");
	guest_insn_vec[INSN_DR7_HIGH] = TRY("mov $0x100000400, %%rax; mov %%rax, %%dr7");
	GUEST_DONE();
}

/* DR0-DR3 and DR7 round-trip; DR6 reads its reset value (SDM Vol. 3B
 * 18.2.3); MOV to DR7 raises no exception for a valid value. */
GUEST_CODE
void guest_debug_regs(uint64_t unused)
{
	uint64_t dr0, dr3, dr6, dr7;

	(void)unused;
	asm volatile("mov %0, %%dr0" : : "r"(0x1234000ull));
	asm volatile("mov %0, %%dr3" : : "r"(0xfedcba98ull));
	asm volatile("mov %0, %%dr7" : : "r"(0x401ull));
	asm volatile("mov %%dr0, %0" : "=r"(dr0));
	asm volatile("mov %%dr3, %0" : "=r"(dr3));
	asm volatile("mov %%dr6, %0" : "=r"(dr6));
	asm volatile("mov %%dr7, %0" : "=r"(dr7));
	asm volatile("mov %0, %%dr7" : : "r"(0x400ull));
	GUEST_SYNC_ARGS(dr0, dr3, dr6, dr7);
	GUEST_DONE();
}

GUEST_CODE
void guest_rdtsc_twice(uint64_t unused)
{
	(void)unused;
	GUEST_SYNC(guest_rdtsc());
	GUEST_SYNC(guest_rdtsc());
	GUEST_DONE();
}

/* Host code. */

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
