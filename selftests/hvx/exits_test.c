// SPDX-License-Identifier: GPL-2.0
/*
 * exits_test - HLT, CPUID, MSRs, triple faults, and VM entries that fail
 * because of invalid guest state.
 */
#include <sys/ioctl.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"

/* MSRs the guest writes and reads back (values valid for each MSR). */
static const struct msr_value {
	uint32_t index;
	uint64_t value;
} exits_msrs[] = {
	{ MSR_STAR, 0x0023001000000000ull },
	{ MSR_LSTAR, 0xffffffff81000000ull },
	{ MSR_CSTAR, 0xffffffff81000100ull },
	{ MSR_SFMASK, 0x47700 },
	{ MSR_KERNEL_GS_BASE, 0xffff888000001000ull },
	{ MSR_FS_BASE, 0x00007f0000001000ull },
	{ MSR_GS_BASE, 0xffff888000002000ull },
	{ MSR_IA32_SYSENTER_CS, 0x10 },
	{ MSR_IA32_SYSENTER_ESP, 0xffffffff82000000ull },
	{ MSR_IA32_SYSENTER_EIP, 0xffffffff81800000ull },
	{ MSR_IA32_PAT, 0x0007010600070106ull },
};
#define EXITS_NR_MSRS	(sizeof(exits_msrs) / sizeof(exits_msrs[0]))
/* Read only: must not fault. */
static const uint32_t exits_msrs_ro[] = {
	MSR_IA32_APIC_BASE, MSR_IA32_MISC_ENABLE,
};
#define EXITS_NR_MSRS_RO (sizeof(exits_msrs_ro) / sizeof(exits_msrs_ro[0]))
/* No such MSRs: RDMSR and WRMSR raise #GP. */
static const uint32_t exits_msrs_bad[] = { 0x12345678, 0xdeadbeef };
#define EXITS_NR_MSRS_BAD (sizeof(exits_msrs_bad) / sizeof(exits_msrs_bad[0]))
#define EXITS_TSC_WRITE	(1ull << 40)

/*
 * MSRs the MSR bitmap lets a 64-bit guest access without exits (vmx.c
 * init_msr_bitmap(), hvx_vmx_module_init()): FS/GS base and SYSENTER in
 * the VMCS, KERNEL_GS_BASE in the CPU for the whole run once the guest has
 * written a SYSCALL MSR. msr_direct writes and reads each in a loop;
 * STAR, LSTAR and SFMASK are read only (their writes exit on purpose).
 */
static const uint32_t direct_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_IA32_SYSENTER_CS,
	MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};
#define NR_DIRECT_MSRS	(sizeof(direct_msrs) / sizeof(direct_msrs[0]))
static const uint32_t direct_read_msrs[] = { MSR_STAR, MSR_LSTAR, MSR_SFMASK };
#define NR_DIRECT_READ_MSRS (sizeof(direct_read_msrs) / sizeof(direct_read_msrs[0]))
#define DIRECT_LOOPS	64
#define DIRECT_SET_ROUND (DIRECT_LOOPS + 5)	/* the values SET_MSRS gives */
#define EXIT_REASON_MSR_READ	31
#define EXIT_REASON_MSR_WRITE	32

/* SYNC argument 0 of the MSR guest: which step is reported. */
enum { MSR_STEP_RW = 1, MSR_STEP_RO, MSR_STEP_BAD, MSR_STEP_EFER, MSR_STEP_TSC };

/* Labels in the guest code's asm, where the host expects RIP. */
extern const char hlt1_next[], hlt2_next[];
extern const char cpuid_insn[], cpuid_next[];

/* Guest code. */

GUEST_CODE
static void guest_hlt(uint64_t unused)
{
	(void)unused;
	asm volatile("hlt\n.globl hlt1_next\nhlt1_next:");
	GUEST_SYNC(1);
	asm volatile("hlt\n.globl hlt2_next\nhlt2_next:");
	GUEST_DONE();
}

/* CPUID followed by the mark: the host reads the result registers and RIP
 * at the mark. noclone: the labels must exist once. */
GUEST_CODE
static void __attribute__((noinline, noclone)) cpuid_marked(uint32_t leaf)
{
	uint32_t a = leaf, b, c = 0, d;

	asm volatile(".globl cpuid_insn, cpuid_next\n"
		     "cpuid_insn:\tcpuid\n"
		     "cpuid_next:\toutl %%eax, %[mark]"
		     : "+a"(a), "=b"(b), "+c"(c), "=d"(d)
		     : [mark] "i"(MARK_PORT));
}

GUEST_CODE
static void guest_cpuid(uint64_t unused)
{
	uint32_t a, b, c, d;

	(void)unused;
	cpuid_marked(0);
	cpuid_marked(1);
	cpuid_marked(CPUID_SIG_LEAF);

	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(c & CPUID_1_ECX_HYPERVISOR);
	GUEST_ASSERT(!(c & CPUID_1_ECX_VMX));
	GUEST_DONE();
}

/* Reports each step with GUEST_SYNC_ARGS(step, msr, vector(s), value). */
GUEST_CODE
static void guest_msr(uint64_t unused)
{
	uint64_t val, wvec, rvec;

	(void)unused;
	for (unsigned int i = 0; i < EXITS_NR_MSRS; i++) {
		wvec = guest_wrmsr_safe(exits_msrs[i].index, exits_msrs[i].value);
		rvec = guest_rdmsr_safe(exits_msrs[i].index, &val);
		GUEST_SYNC_ARGS(MSR_STEP_RW, exits_msrs[i].index,
				wvec << 8 | rvec, val);
	}
	for (unsigned int i = 0; i < EXITS_NR_MSRS_RO; i++) {
		rvec = guest_rdmsr_safe(exits_msrs_ro[i], &val);
		GUEST_SYNC_ARGS(MSR_STEP_RO, exits_msrs_ro[i], rvec, val);
	}
	for (unsigned int i = 0; i < EXITS_NR_MSRS_BAD; i++) {
		rvec = guest_rdmsr_safe(exits_msrs_bad[i], &val);
		wvec = guest_wrmsr_safe(exits_msrs_bad[i], 0);
		GUEST_SYNC_ARGS(MSR_STEP_BAD, exits_msrs_bad[i],
				wvec << 8 | rvec, 0);
	}
	rvec = guest_rdmsr_safe(MSR_EFER, &val);
	GUEST_SYNC_ARGS(MSR_STEP_EFER, MSR_EFER, rvec, val);
	wvec = guest_wrmsr_safe(MSR_IA32_TSC, EXITS_TSC_WRITE);
	rvec = guest_rdmsr_safe(MSR_IA32_TSC, &val);
	GUEST_SYNC_ARGS(MSR_STEP_TSC, MSR_IA32_TSC, wvec << 8 | rvec, val);
	GUEST_DONE();
}

/* A valid value of direct_msrs[@i] for @round: canonical, SYSENTER_CS a selector. */
GUEST_CODE static inline uint64_t direct_value(unsigned int i, unsigned int round)
{
	if (direct_msrs[i] == MSR_IA32_SYSENTER_CS)
		return 0x10 + 8 * (round % 16);
	return 0xffff888000000000ull + ((uint64_t)i << 32) + ((uint64_t)round << 12);
}

/*
 * SYNC 1 after a first write of each MSR (those may exit), SYNC 2 after
 * DIRECT_LOOPS rounds of WRMSR and RDMSR of direct_msrs and RDMSR of
 * direct_read_msrs (arg 1: values read back wrong), SYNC 3 after reading
 * back what the host set with HVX_SET_MSRS (arg 1: values wrong).
 */
GUEST_CODE
static void guest_msr_direct(uint64_t unused)
{
	uint64_t bad = 0, val;
	uint64_t ro[NR_DIRECT_READ_MSRS];

	(void)unused;
	guest_wrmsr(MSR_STAR, 0x0023001000000000ull);
	guest_wrmsr(MSR_LSTAR, 0xffffffff81000000ull);
	guest_wrmsr(MSR_SFMASK, 0x47700);
	for (unsigned int i = 0; i < NR_DIRECT_READ_MSRS; i++)
		ro[i] = guest_rdmsr(direct_read_msrs[i]);
	for (unsigned int i = 0; i < NR_DIRECT_MSRS; i++)
		guest_wrmsr(direct_msrs[i], direct_value(i, 0));
	GUEST_SYNC(1);
	for (unsigned int r = 1; r <= DIRECT_LOOPS; r++) {
		for (unsigned int i = 0; i < NR_DIRECT_MSRS; i++) {
			guest_wrmsr(direct_msrs[i], direct_value(i, r));
			bad += guest_rdmsr(direct_msrs[i]) != direct_value(i, r);
		}
		for (unsigned int i = 0; i < NR_DIRECT_READ_MSRS; i++)
			bad += guest_rdmsr(direct_read_msrs[i]) != ro[i];
	}
	GUEST_SYNC_ARGS(2, bad, 0, 0);
	bad = 0;
	for (unsigned int i = 0; i < NR_DIRECT_MSRS; i++) {
		val = guest_rdmsr(direct_msrs[i]);
		bad += val != direct_value(i, DIRECT_SET_ROUND);
	}
	GUEST_SYNC_ARGS(3, bad, 0, 0);
	GUEST_DONE();
}

GUEST_CODE
static void guest_ud2_only(uint64_t unused)
{
	(void)unused;
	asm volatile("ud2");
	GUEST_DONE();
}

GUEST_CODE
static void guest_int3_only(uint64_t unused)
{
	(void)unused;
	asm volatile("int3");
	GUEST_DONE();
}

/* Host code. */

TEST(hlt)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_hlt, 0);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_HLT, vcpu);
	ASSERT_EQ((uint64_t)hlt1_next, vcpu_get_rip(vcpu));	/* past the HLT */
	/* Resuming continues after it (not another HLT exit). */
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_HLT, vcpu);
	ASSERT_EQ((uint64_t)hlt2_next, vcpu_get_rip(vcpu));
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* Run to the mark after CPUID; returns the registers there. */
static void run_cpuid(struct __test_metadata *_metadata, struct vcpu *vcpu,
		      struct hvx_regs *regs)
{
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	ASSERT_EQ(MARK_PORT, vcpu->run->io.port) TH_LOG("%s", vcpu_exit_str(vcpu));
	vcpu_get_regs(vcpu, regs);
	ASSERT_EQ((uint64_t)cpuid_next, regs->rip);
}

/* The guest sees the host's CPUID with the hypervisor bit set, VMX hidden,
 * hvx's signature leaf, and its vCPU id as initial APIC id. */
TEST(cpuid_leaves)
{
	static const uint32_t ids[] = { 0, 5 };
	uint32_t host0[4], host1[4], sig[3];
	struct hvx_regs regs;
	struct vcpu *vcpus[2];
	struct vm *vm;

	REQUIRE_VMX();
	ASSERT_EQ(2, cpuid_next - cpuid_insn);	/* RIP advances by 2 */
	cpuid(0, 0, &host0[0], &host0[1], &host0[2], &host0[3]);
	cpuid(1, 0, &host1[0], &host1[1], &host1[2], &host1[3]);
	memcpy(sig, "hvxhvxhvxhvx", 12);

	vm = vm_create();
	for (int i = 0; i < 2; i++) {
		vcpus[i] = vcpu_create(vm, ids[i]);
		vcpu_setup_long(vcpus[i], guest_cpuid, 0);
	}
	for (int i = 0; i < 2; i++) {
		struct vcpu *vcpu = vcpus[i];

		run_cpuid(_metadata, vcpu, &regs);		/* leaf 0 */
		ASSERT_LE(1, (uint32_t)regs.rax);
		ASSERT_EQ(host0[1], (uint32_t)regs.rbx);	/* vendor */
		ASSERT_EQ(host0[3], (uint32_t)regs.rdx);
		ASSERT_EQ(host0[2], (uint32_t)regs.rcx);

		run_cpuid(_metadata, vcpu, &regs);		/* leaf 1 */
		ASSERT_EQ(host1[0], (uint32_t)regs.rax);	/* signature */
		ASSERT_EQ(CPUID_1_ECX_HYPERVISOR, regs.rcx & CPUID_1_ECX_HYPERVISOR);
		ASSERT_EQ(0, regs.rcx & CPUID_1_ECX_VMX);
		ASSERT_EQ(ids[i], (regs.rbx >> 24) & 0xff);	/* APIC id */

		run_cpuid(_metadata, vcpu, &regs);		/* hvx's leaf */
		ASSERT_EQ(CPUID_SIG_LEAF, regs.rax);
		ASSERT_EQ(sig[0], regs.rbx);
		ASSERT_EQ(sig[1], regs.rcx);
		ASSERT_EQ(sig[2], regs.rdx);
		vcpu_run_done(vcpu);
	}
	vcpu_free(vcpus[0]);
	vcpu_free(vcpus[1]);
	vm_free(vm);
}

TEST(msr)
{
	struct hvx_sregs sregs;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_msr, 0);
	for (unsigned int i = 0; i < EXITS_NR_MSRS; i++) {
		const struct msr_value *m = &exits_msrs[i];

		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		ASSERT_EQ(MSR_STEP_RW, uc.args[0]);
		ASSERT_EQ(m->index, uc.args[1]);
		ASSERT_EQ(0, uc.args[2])
			TH_LOG("MSR 0x%x: WRMSR/RDMSR raised vectors %llu/%llu",
			       m->index, (unsigned long long)uc.args[2] >> 8,
			       (unsigned long long)uc.args[2] & 0xff);
		ASSERT_EQ(m->value, uc.args[3]) TH_LOG("MSR 0x%x", m->index);
		if (m->index == MSR_FS_BASE || m->index == MSR_GS_BASE) {
			/* The MSRs are the segment bases. */
			vcpu_get_sregs(vcpu, &sregs);
			ASSERT_EQ(m->value, m->index == MSR_FS_BASE ?
					    sregs.fs.base : sregs.gs.base);
		}
	}
	for (unsigned int i = 0; i < EXITS_NR_MSRS_RO; i++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		ASSERT_EQ(MSR_STEP_RO, uc.args[0]);
		ASSERT_EQ(exits_msrs_ro[i], uc.args[1]);
		ASSERT_EQ(0, uc.args[2]) TH_LOG("RDMSR 0x%x faulted", exits_msrs_ro[i]);
	}
	for (unsigned int i = 0; i < EXITS_NR_MSRS_BAD; i++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		ASSERT_EQ(MSR_STEP_BAD, uc.args[0]);
		ASSERT_EQ(exits_msrs_bad[i], uc.args[1]);
		ASSERT_EQ(X86_VEC_GP << 8 | X86_VEC_GP, uc.args[2])
			TH_LOG("MSR 0x%x: expected #GP on WRMSR and RDMSR",
			       exits_msrs_bad[i]);
	}
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(MSR_STEP_EFER, uc.args[0]);
	ASSERT_EQ(0, uc.args[2]);
	ASSERT_EQ(EFER_LME | EFER_LMA, uc.args[3]);	/* as set by SET_SREGS */

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(MSR_STEP_TSC, uc.args[0]);
	ASSERT_EQ(0, uc.args[2]);
	/* The TSC kept counting from the written value. */
	ASSERT_LE(EXITS_TSC_WRITE, uc.args[3]);
	ASSERT_GT(EXITS_TSC_WRITE + (1ull << 36), uc.args[3]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* RDMSR and WRMSR exits of this process's VM so far (hvx statistics). */
static uint64_t msr_exits(struct __test_metadata *_metadata)
{
	struct hvx_stats st;

	ASSERT_EQ(0, hvx_nl_own_stats(&st)) TH_LOG("netlink statistics");
	return st.exits_by_reason[EXIT_REASON_MSR_READ] +
	       st.exits_by_reason[EXIT_REASON_MSR_WRITE];
}

/*
 * The MSRs the MSR bitmap passes through cost no exit once set up, and
 * their values still reach userspace (HVX_GET_MSRS reads what the guest
 * wrote, KERNEL_GS_BASE from the CPU) and come back (HVX_SET_MSRS).
 */
TEST(msr_direct)
{
	struct hvx_msrs m = { .nmsrs = NR_DIRECT_MSRS };
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t before, after;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_msr_direct, 0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(1, uc.args[0]);
	before = msr_exits(_metadata);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	after = msr_exits(_metadata);
	ASSERT_EQ(2, uc.args[0]);
	ASSERT_EQ(0, uc.args[1]) TH_LOG("%llu values read back wrong",
					 (unsigned long long)uc.args[1]);
	EXPECT_EQ(0, after - before)
		TH_LOG("%llu RDMSR/WRMSR exits for %u rounds of %u direct MSRs",
		       (unsigned long long)(after - before), DIRECT_LOOPS,
		       (unsigned int)(NR_DIRECT_MSRS + NR_DIRECT_READ_MSRS));

	for (unsigned int i = 0; i < NR_DIRECT_MSRS; i++)
		m.entries[i].index = direct_msrs[i];
	ASSERT_EQ(NR_DIRECT_MSRS, ioctl(vcpu->fd, HVX_GET_MSRS, &m));
	for (unsigned int i = 0; i < NR_DIRECT_MSRS; i++) {
		EXPECT_EQ(direct_value(i, DIRECT_LOOPS), m.entries[i].data)
			TH_LOG("HVX_GET_MSRS 0x%x", direct_msrs[i]);
		m.entries[i].data = direct_value(i, DIRECT_SET_ROUND);
	}
	ASSERT_EQ(NR_DIRECT_MSRS, ioctl(vcpu->fd, HVX_SET_MSRS, &m));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(3, uc.args[0]);
	EXPECT_EQ(0, uc.args[1]) TH_LOG("%llu values set by HVX_SET_MSRS read back wrong",
					 (unsigned long long)uc.args[1]);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
	vcpu_free(vcpu);
	vm_free(vm);
}

/* With an IDT limit of 0, the exception cannot be delivered, nor the #DF
 * that follows: a triple fault, which shuts the vCPU down. */
static void triple_fault(struct __test_metadata *_metadata,
			 void (*guest)(uint64_t))
{
	struct hvx_sregs sregs;
	struct vcpu *vcpu;
	struct vm *vm;

	vcpu = vm_create_long(&vm, guest, 0);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.idt.limit = 0;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_SHUTDOWN, vcpu);
	vm_free(vm);
}

TEST(triple_fault_ud2)
{
	REQUIRE_VMX();
	triple_fault(_metadata, guest_ud2_only);
}

TEST(triple_fault_int3)
{
	REQUIRE_VMX();
	triple_fault(_metadata, guest_int3_only);
}

/*
 * A VM entry with this guest state must fail with "invalid guest state"
 * (basic exit reason 33, bit 31 set: SDM Vol. 3C 27.8) and hvx must name
 * the failed check. Afterwards the host is fine: a new VM runs.
 */
static void expect_fail_entry(struct __test_metadata *_metadata,
			      struct vcpu *vcpu, uint32_t check)
{
	struct hvx_run *run = vcpu->run;
	struct vcpu *fresh;
	struct vm *vm;

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_FAIL_ENTRY, vcpu);
	ASSERT_EQ(HVX_ENTRY_FAIL_GUEST_STATE, run->fail_entry.kind);
	ASSERT_EQ(0x80000021, run->fail_entry.hardware_entry_failure_reason);
	ASSERT_EQ(check, run->fail_entry.check);

	fresh = vm_create_long(&vm, guest_sync_done, 42);
	ASSERT_EQ(42, vcpu_run_sync(fresh));
	vcpu_run_done(fresh);
	vm_free(vm);
}

/* RFLAGS bit 1 is reserved and must be 1 (SDM Vol. 3C 27.3.1.4). */
TEST(fail_entry_rflags)
{
	struct hvx_regs regs;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_sync_done, 0);
	vcpu_get_regs(vcpu, &regs);
	regs.rflags = 0;
	vcpu_set_regs(vcpu, &regs);
	expect_fail_entry(_metadata, vcpu, HVX_CHECK_RFLAGS);
	vm_free(vm);
}

/*
 * With the check_entry debug parameter, hvx runs the checks itself before
 * VMLAUNCH: the same check is named, and the hardware reason is 0 because
 * the CPU never saw the bad state.
 */
TEST(fail_entry_software_check)
{
	static const char param[] = "/sys/module/hvx/parameters/check_entry";
	struct hvx_regs regs;
	struct vcpu *vcpu;
	struct vm *vm;
	FILE *f;

	REQUIRE_VMX();
	f = fopen(param, "w");
	ASSERT_NE(NULL, f) TH_LOG("%s: %m", param);
	fputs("Y", f);
	ASSERT_EQ(0, fclose(f));

	vcpu = vm_create_long(&vm, guest_sync_done, 7);
	ASSERT_EQ(7, vcpu_run_sync(vcpu));	/* good state still runs */
	vcpu_get_regs(vcpu, &regs);
	regs.rflags = 0;
	vcpu_set_regs(vcpu, &regs);
	vcpu_run(vcpu);

	f = fopen(param, "w");
	ASSERT_NE(NULL, f);
	fputs("N", f);
	ASSERT_EQ(0, fclose(f));

	ASSERT_EXIT(HVX_EXIT_FAIL_ENTRY, vcpu);
	ASSERT_EQ(HVX_ENTRY_FAIL_GUEST_STATE, vcpu->run->fail_entry.kind);
	ASSERT_EQ(0, vcpu->run->fail_entry.hardware_entry_failure_reason);
	ASSERT_EQ(HVX_CHECK_RFLAGS, vcpu->run->fail_entry.check);
	vm_free(vm);
}

/*
 * CS must be an accessed code segment, or (only with unrestricted guest)
 * the read/write accessed data type 3 with DPL 0 (SDM Vol. 3C 27.3.1.2).
 * So, in 32-bit protected mode: type 1 (read-only data) fails, and so
 * does type 3 with DPL 3.
 */
static void fail_entry_cs(struct __test_metadata *_metadata, uint8_t type,
			  uint8_t dpl)
{
	struct hvx_sregs sregs;
	struct vcpu *vcpu;
	struct vm *vm;

	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.cs.type = type;
	sregs.cs.s = 1;
	sregs.cs.dpl = dpl;
	vcpu_set_sregs(vcpu, &sregs);
	expect_fail_entry(_metadata, vcpu, HVX_CHECK_SEG_CS);
	vm_free(vm);
}

TEST(fail_entry_cs_readonly_data)
{
	REQUIRE_VMX();
	fail_entry_cs(_metadata, SEG_TYPE_DATA_RO_A, 0);
}

TEST(fail_entry_cs_data_dpl3)
{
	REQUIRE_VMX();
	fail_entry_cs(_metadata, SEG_TYPE_DATA_RW_A, 3);
}

/* TR must be usable (SDM Vol. 3C 27.3.1.2). */
TEST(fail_entry_tr_unusable)
{
	struct hvx_sregs sregs;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_sync_done, 0);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.tr.unusable = 1;
	vcpu_set_sregs(vcpu, &sregs);
	expect_fail_entry(_metadata, vcpu, HVX_CHECK_SEG_TR);
	vm_free(vm);
}

TEST_HARNESS_MAIN
