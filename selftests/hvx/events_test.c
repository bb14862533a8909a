// SPDX-License-Identifier: GPL-2.0
/*
 * events_test - the vCPU state ioctls: CPUID tables, MSR lists, and
 * exceptions, external interrupts and NMIs injected from userspace.
 */
#include <sys/ioctl.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "events_guest.h"

/* Guest code. */

/* Labels in the guest code, for the host's checks of RIP. */
extern const char guest_sti_insn[], guest_ss_next[];

volatile uint64_t guest_irq_count;
volatile uint64_t guest_irq_leaves[4] = { 1, 5, 0x40000000, 0x40000001 };

/*
 * Interrupt handler for EVENTS_IRQ_VECTOR: count and return. A 64-bit
 * interrupt gate pushes SS, RSP, RFLAGS, CS, RIP and no error code (SDM
 * Vol. 3A 6.14.2), so IRETQ is all it needs.
 */
asm(".pushsection .text\n"
    ".globl guest_irq_stub\n"
    "guest_irq_stub:\n\t"
    "lock incq guest_irq_count(%rip)\n\t"
    "iretq\n"
    ".popsection");
extern const char guest_irq_stub[];

/* CPUID of each leaf in guest_irq_leaves; each result is one SYNC. */
GUEST_CODE
void guest_cpuid_report(uint64_t nleaves)
{
	for (uint64_t i = 0; i < nleaves; i++) {
		uint32_t a = guest_irq_leaves[i], b, c = 0, d;

		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		GUEST_SYNC_ARGS(a, b, c, d);
	}
	GUEST_DONE();
}

GUEST_CODE
void guest_rdmsr_report(uint64_t msr)
{
	uint64_t val = 0, vec = guest_rdmsr_safe(msr, &val);

	GUEST_SYNC_ARGS(vec, val, 0, 0);
	GUEST_DONE();
}

/* RDMSR then WRMSR of @msr; each reports its vector (0: none). */
GUEST_CODE
void guest_msr_rw_report(uint64_t msr)
{
	uint64_t val = 0, vec = guest_rdmsr_safe(msr, &val);

	GUEST_SYNC_ARGS(vec, val, 0, 0);
	vec = guest_wrmsr_safe(msr, 0x1122334455667788ull);
	GUEST_SYNC_ARGS(vec, 0, 0, 0);
	GUEST_DONE();
}

/*
 * With interrupts off, tell the host (which queues an interrupt), then
 * open the window and wait until the handler has run exactly once.
 */
GUEST_CODE
void guest_irq_wait(uint64_t unused)
{
	(void)unused;
	asm volatile("cli");
	GUEST_SYNC(1);
	GUEST_ASSERT_EQ(0, guest_irq_count);
	asm volatile("sti");
	while (!guest_irq_count)
		;
	asm volatile("cli");
	GUEST_SYNC(guest_irq_count);
	GUEST_DONE();
}

/* Interrupts off, SYNC, then STI and spin with them on. */
GUEST_CODE
void guest_spin_sti(uint64_t unused)
{
	(void)unused;
	asm volatile("cli");
	GUEST_SYNC(1);
	asm volatile(".globl guest_sti_insn\n"
		     "guest_sti_insn:\n\tsti\n\tnop\n"
		     "1:\tjmp 1b");
}

/* Set RFLAGS.TF, then CPUID (emulated by hvx): the single-step trap must
 * come right after the CPUID, as on hardware. */
GUEST_CODE
void guest_single_step(uint64_t unused)
{
	(void)unused;
	asm volatile("xor %%eax, %%eax\n\t"
		     "pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n\t"
		     "cpuid\n"
		     ".globl guest_ss_next\n"
		     "guest_ss_next:\n\t"
		     "nop\n\t"
		     "nop"
		     : : : "rax", "rbx", "rcx", "rdx", "memory");
	GUEST_DONE();
}

GUEST_CODE
static uint64_t guest_xsetbv_safe(uint32_t xcr, uint64_t val)
{
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "xsetbv\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip)
		     : "c"(xcr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
	return guest_fixup_vector;
}

/*
 * Enable XSAVE and AVX like an OS would (CR4.OSXSAVE, then XSETBV, SDM
 * Vol. 1 13.3), check that refused XCR0 values raise #GP, then keep a
 * pattern in YMM7 across a SYNC (the host runs another VM meanwhile) and
 * report whether it survived.
 */
GUEST_CODE
void guest_avx(uint64_t pattern_byte)
{
	uint8_t pattern[32], seen[32];
	uint32_t a, b, c, d;
	uint64_t same = 1;

	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(c & (1u << 26));			/* XSAVE offered */
	GUEST_ASSERT(!(c & (1u << 27)));		/* OSXSAVE off */
	asm volatile("mov %0, %%cr4" : : "r"(guest_read_cr4() | (1ul << 18)));
	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(c & (1u << 27));			/* follows CR4 */

	GUEST_ASSERT_EQ(13, guest_xsetbv_safe(0, 0));	/* x87 must stay */
	GUEST_ASSERT_EQ(13, guest_xsetbv_safe(0, 5));	/* AVX needs SSE */
	GUEST_ASSERT_EQ(13, guest_xsetbv_safe(0, 1ull << 9));
	GUEST_ASSERT_EQ(13, guest_xsetbv_safe(1, 1));	/* only XCR0 */
	cpuid(0xd, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(576, b);			/* x87 only */
	GUEST_ASSERT_EQ(0, guest_xsetbv_safe(0, 7));
	cpuid(0xd, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(c, b);				/* all enabled */

	for (int i = 0; i < 32; i++)
		pattern[i] = pattern_byte + i;
	asm volatile("vmovdqu %0, %%ymm7" : : "m"(pattern));
	GUEST_SYNC(1);
	asm volatile("vmovdqu %%ymm7, %0" : "=m"(seen));
	for (int i = 0; i < 32; i++)
		same &= seen[i] == pattern[i];
	GUEST_SYNC(same);
	GUEST_DONE();
}

/* Host code. */

static struct hvx_cpuid_entry *find_leaf(struct hvx_cpuid *c, uint32_t fn,
					 uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/* The default table: host leaves, hypervisor bit, VMX hidden, hvx leaf. */
TEST(supported_cpuid)
{
	static struct hvx_cpuid sup, vc;
	struct hvx_cpuid_entry *e;
	struct vcpu *vcpu;
	struct vm *vm;
	int sys;

	REQUIRE_VMX();
	sys = hvx_open();
	ASSERT_EQ(0, ioctl(sys, HVX_GET_SUPPORTED_CPUID, &sup));
	ASSERT_LT(4, sup.nent);
	ASSERT_GE(HVX_MAX_CPUID_ENTRIES, sup.nent);
	e = find_leaf(&sup, 1, 0);
	ASSERT_NE(NULL, e);
	ASSERT_TRUE(e->ecx & CPUID_1_ECX_HYPERVISOR);
	ASSERT_FALSE(e->ecx & CPUID_1_ECX_VMX);
	e = find_leaf(&sup, CPUID_SIG_LEAF, 0);
	ASSERT_NE(NULL, e);
	ASSERT_EQ(0, memcmp(&e->ebx, "hvxh", 4));

	/* vCPU 0 starts with exactly this table. */
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_CPUID, &vc));
	ASSERT_EQ(sup.nent, vc.nent);
	ASSERT_EQ(0, memcmp(sup.entries, vc.entries,
			    sup.nent * sizeof(sup.entries[0])));
	vm_free(vm);
	close(sys);
}

/* A table set from userspace is what the guest sees, with Intel's rule
 * for leaves above the maximum, and zeros for unknown hypervisor leaves. */
TEST(set_cpuid_guest_view)
{
	static struct hvx_cpuid c;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_cpuid_report, 4);
	c.nent = 3;
	c.entries[0] = (struct hvx_cpuid_entry){ .function = 0, .eax = 1 };
	c.entries[1] = (struct hvx_cpuid_entry){ .function = 1, .eax = 0x11,
		.ebx = 0x22, .ecx = 0x33, .edx = 0x44 };
	c.entries[2] = (struct hvx_cpuid_entry){ .function = CPUID_SIG_LEAF,
		.eax = CPUID_SIG_LEAF };
	memcpy(&c.entries[2].ebx, "testtesttest", 12);
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_SET_CPUID, &c));

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));	/* leaf 1 */
	ASSERT_EQ(0x11, uc.args[0]);
	ASSERT_EQ(0x22, uc.args[1]);
	ASSERT_EQ(0x33, uc.args[2]);
	ASSERT_EQ(0x44, uc.args[3]);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));	/* leaf 5 > max */
	ASSERT_EQ(0x11, uc.args[0]);
	ASSERT_EQ(0x44, uc.args[3]);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));	/* hvx leaf */
	ASSERT_EQ(0, memcmp("test", &uc.args[1], 4));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));	/* not listed */
	ASSERT_EQ(0, uc.args[0] | uc.args[1] | uc.args[2] | uc.args[3]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(set_cpuid_bad_input)
{
	static struct hvx_cpuid before, c, after;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_CPUID, &before));

	c.nent = HVX_MAX_CPUID_ENTRIES + 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_CPUID, &c));
	c.nent = 1;
	c.padding = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_CPUID, &c));
	c.padding = 0;
	c.entries[0].flags = 2;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_CPUID, &c));
	c.entries[0].flags = 0;
	c.entries[0].padding = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_CPUID, &c));
	c.entries[0].padding = 0;
	c.nent = 2;			/* leaf 0 twice */
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_CPUID, &c));
	/* Same leaf with distinct significant subleaves is fine. */
	c.entries[0].flags = c.entries[1].flags = HVX_CPUID_FLAG_SIGNIFICANT_INDEX;
	c.entries[0].function = c.entries[1].function = 7;
	c.entries[1].index = 1;
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_SET_CPUID, &c));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_SET_CPUID, &before));

	/* Failed calls changed nothing. */
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_CPUID, &after));
	ASSERT_EQ(0, memcmp(&before, &after, sizeof(before)));
	vm_free(vm);
}

/* MSR lists: written values reach the guest; a bad list changes nothing. */
TEST(msr_lists)
{
	static struct hvx_msrs m, g;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_rdmsr_report, MSR_LSTAR);
	m.nmsrs = 3;
	m.entries[0] = (struct hvx_msr_entry){ .index = MSR_LSTAR,
					       .data = 0xffffffff81234560ull };
	m.entries[1] = (struct hvx_msr_entry){ .index = MSR_STAR,
					       .data = 0x0023001000000000ull };
	m.entries[2] = (struct hvx_msr_entry){ .index = MSR_SFMASK,
					       .data = 0x47700 };
	ASSERT_EQ(3, ioctl(vcpu->fd, HVX_SET_MSRS, &m));
	g = m;
	for (int i = 0; i < 3; i++)
		g.entries[i].data = 0;
	ASSERT_EQ(3, ioctl(vcpu->fd, HVX_GET_MSRS, &g));
	ASSERT_EQ(0, memcmp(&m, &g, sizeof(m)));

	/* Non-canonical LSTAR in second place: the first entry must not land. */
	g.nmsrs = 2;
	g.entries[0] = (struct hvx_msr_entry){ .index = MSR_STAR, .data = 1 };
	g.entries[1] = (struct hvx_msr_entry){ .index = MSR_LSTAR,
					       .data = 0x8000000000000000ull };
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MSRS, &g));
	g.entries[1] = (struct hvx_msr_entry){ .index = 0x12345678 };
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MSRS, &g));
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_GET_MSRS, &g));
	g.nmsrs = 1;
	g.entries[0].reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MSRS, &g));
	g.entries[0].reserved = 0;
	g.nmsrs = HVX_MAX_MSR_ENTRIES + 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_GET_MSRS, &g));
	g = m;
	ASSERT_EQ(3, ioctl(vcpu->fd, HVX_GET_MSRS, &g));
	ASSERT_EQ(0, memcmp(&m, &g, sizeof(m)));

	/* The guest's RDMSR sees the value written through the ioctl. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0, uc.args[0]);			/* no exception */
	ASSERT_EQ(0xffffffff81234560ull, uc.args[1]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/*
 * IA32_MISC_ENABLE after a reset: fast-string operation (bit 0) as the
 * host's CPU has it, nothing else; the guest's RDMSR sees the same. The
 * host's value comes from the msr driver, or else from its CPU flags
 * (Linux drops erms and rep_good when the bit is clear).
 */
TEST(misc_enable_fast_string_as_host)
{
	static struct hvx_msrs g;
	bool fast = false;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t host;

	REQUIRE_VMX();
	if (!host_msr(0, MSR_IA32_MISC_ENABLE, &host, false)) {
		fast = host & 1;
	} else {
		char flags[8192] = "";
		FILE *f = fopen("/proc/cpuinfo", "r");

		ASSERT_NE(NULL, f);
		while (fgets(flags, sizeof(flags), f) &&
		       strncmp(flags, "flags", 5))
			;
		fclose(f);
		if (!strstr(flags, " erms") && !strstr(flags, " rep_good"))
			TH_LOG("no /dev/cpu/0/msr and no erms, rep_good: the host's bit read as clear");
		fast = strstr(flags, " erms") || strstr(flags, " rep_good");
	}
	vcpu = vm_create_long(&vm, guest_rdmsr_report, MSR_IA32_MISC_ENABLE);
	g.nmsrs = 1;
	g.entries[0].index = MSR_IA32_MISC_ENABLE;
	ASSERT_EQ(1, ioctl(vcpu->fd, HVX_GET_MSRS, &g));
	ASSERT_EQ(fast ? 1 : 0, g.entries[0].data);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0, uc.args[0]);
	ASSERT_EQ(fast ? 1 : 0, uc.args[1]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* HVX_VM_MSR_EXITS: an unknown MSR goes to userspace, which answers with
 * a value or a #GP. */
TEST(msr_exit_to_userspace)
{
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create_flags(HVX_VM_MSR_EXITS);
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_msr_rw_report, 0x12345678);

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MSR, vcpu);
	ASSERT_EQ(0x12345678, vcpu->run->msr.index);
	ASSERT_EQ(0, vcpu->run->msr.is_write);
	vcpu->run->msr.data = 0xabcdef0123ull;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0, uc.args[0]);			/* no #GP */
	ASSERT_EQ(0xabcdef0123ull, uc.args[1]);

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MSR, vcpu);
	ASSERT_EQ(1, vcpu->run->msr.is_write);
	ASSERT_EQ(0x1122334455667788ull, vcpu->run->msr.data);
	vcpu->run->msr.error = 1;			/* refuse it */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(13, uc.args[0]);			/* #GP */
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* MTRRs, TSC_ADJUST and the fixed read-only MSRs through the list ioctls. */
TEST(msr_emulated_values)
{
	static struct hvx_msrs m;
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t tsc;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	m.nmsrs = 3;
	m.entries[0].index = 0xfe;		/* MTRRcap: 8 ranges, fixed, WC */
	m.entries[1].index = 0x3a;		/* FEATURE_CONTROL: locked */
	m.entries[2].index = 0x179;		/* MCG_CAP: no banks */
	ASSERT_EQ(3, ioctl(vcpu->fd, HVX_GET_MSRS, &m));
	ASSERT_EQ(0x508, m.entries[0].data);
	ASSERT_EQ(1, m.entries[1].data);
	ASSERT_EQ(0, m.entries[2].data);

	m.nmsrs = 3;
	m.entries[0] = (struct hvx_msr_entry){ .index = 0x2ff, .data = 0xc06 };
	m.entries[1] = (struct hvx_msr_entry){ .index = 0x200, .data = 0x80000006 };
	m.entries[2] = (struct hvx_msr_entry){ .index = 0x250,
					       .data = 0x0606060606060606ull };
	ASSERT_EQ(3, ioctl(vcpu->fd, HVX_SET_MSRS, &m));
	memset(&m.entries[0].data, 0, 8);
	ASSERT_EQ(3, ioctl(vcpu->fd, HVX_GET_MSRS, &m));
	ASSERT_EQ(0xc06, m.entries[0].data);
	ASSERT_EQ(0x80000006, m.entries[1].data);

	m.nmsrs = 1;
	m.entries[0] = (struct hvx_msr_entry){ .index = 0x2ff, .data = 2 };
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MSRS, &m));	/* type 2 */
	m.entries[0] = (struct hvx_msr_entry){ .index = 0x200, .data = 0x106 };
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MSRS, &m));	/* bit 8 */
	m.entries[0] = (struct hvx_msr_entry){ .index = 0xfe, .data = 0 };
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MSRS, &m));	/* read-only */

	/* TSC_ADJUST moves the TSC by the same amount. */
	m.entries[0] = (struct hvx_msr_entry){ .index = 0x10 };
	ASSERT_EQ(1, ioctl(vcpu->fd, HVX_GET_MSRS, &m));
	tsc = m.entries[0].data;
	m.entries[0] = (struct hvx_msr_entry){ .index = 0x3b, .data = 1ull << 40 };
	ASSERT_EQ(1, ioctl(vcpu->fd, HVX_SET_MSRS, &m));
	m.entries[0] = (struct hvx_msr_entry){ .index = 0x10 };
	ASSERT_EQ(1, ioctl(vcpu->fd, HVX_GET_MSRS, &m));
	ASSERT_LE(tsc + (1ull << 40), m.entries[0].data);
	ASSERT_GT(tsc + (1ull << 40) + (1ull << 36), m.entries[0].data);
	vm_free(vm);
}

/*
 * SPEC_CTRL and PRED_CMD follow the host: with IBRS/IBPB (CPUID.7.0:EDX
 * bit 26) the guest's values are kept and advertised, without them the
 * MSRs do not exist for the guest either.
 */
TEST(speculation_msrs_follow_host)
{
	static struct hvx_cpuid c;
	static struct hvx_msrs m;
	uint32_t a, b, cx, d;
	struct vcpu *vcpu;
	struct vm *vm;
	int has;

	REQUIRE_VMX();
	cpuid(7, 0, &a, &b, &cx, &d);
	has = !!(d & (1u << 26));
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_CPUID, &c));
	for (uint32_t i = 0; i < c.nent; i++) {
		if (c.entries[i].function == 7 && c.entries[i].index == 0) {
			ASSERT_EQ(has, !!(c.entries[i].edx & (1u << 26)));
		}
	}
	m.nmsrs = 1;
	m.entries[0] = (struct hvx_msr_entry){ .index = 0x48, .data = 1 };
	m.entries[1] = (struct hvx_msr_entry){ .index = 0x49, .data = 1 };
	if (has) {
		ASSERT_EQ(1, ioctl(vcpu->fd, HVX_SET_MSRS, &m));
		m.entries[0].data = 0;
		ASSERT_EQ(1, ioctl(vcpu->fd, HVX_GET_MSRS, &m));
		ASSERT_EQ(1, m.entries[0].data);	/* IBRS kept */
		m.entries[0] = m.entries[1];
		ASSERT_EQ(1, ioctl(vcpu->fd, HVX_SET_MSRS, &m));	/* IBPB */
		m.entries[0].data = 2;
		ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MSRS, &m));
	} else {
		TH_LOG("host has no IBRS/IBPB: checking that hvx hides them");
		ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MSRS, &m));
		ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_GET_MSRS, &m));
		m.entries[0] = m.entries[1];
		ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MSRS, &m));
	}
	vm_free(vm);
}

/* An interrupt queued while the guest has IF = 0 waits for STI and is
 * delivered exactly once through the guest's IDT. */
TEST(interrupt_waits_for_window)
{
	struct hvx_vcpu_events ev;
	struct hvx_interrupt irq = { .vector = EVENTS_IRQ_VECTOR };
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_irq_wait, 0);
	vcpu_set_idt_gate(vcpu, EVENTS_IRQ_VECTOR, (uint64_t)guest_irq_stub);
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	ASSERT_FALSE(vcpu->run->if_flag);
	ASSERT_FALSE(vcpu->run->ready_for_interrupt_injection);

	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_INTERRUPT, &irq));
	ASSERT_ERRNO(EBUSY, ioctl(vcpu->fd, HVX_INTERRUPT, &irq));
	memset(&ev, 0, sizeof(ev));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_VCPU_EVENTS, &ev));
	ASSERT_EQ(1, ev.interrupt.pending);
	ASSERT_EQ(EVENTS_IRQ_VECTOR, ev.interrupt.vector);

	ASSERT_EQ(1, vcpu_run_sync(vcpu));	/* handler ran once */
	ASSERT_EQ(1, guest_var(vm, guest_irq_count));
	memset(&ev, 0, sizeof(ev));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_VCPU_EVENTS, &ev));
	ASSERT_EQ(0, ev.interrupt.pending);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* request_interrupt_window: HVX_RUN returns when the guest's STI opens
 * the window, with the run page saying it is ready. */
TEST(interrupt_window_exit)
{
	struct vcpu *vcpu;
	struct vm *vm;
	struct hvx_regs r;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_spin_sti, 0);
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	vcpu->run->request_interrupt_window = 1;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_IRQ_WINDOW_OPEN, vcpu);
	ASSERT_TRUE(vcpu->run->if_flag);
	ASSERT_TRUE(vcpu->run->ready_for_interrupt_injection);
	vcpu_get_regs(vcpu, &r);
	/* STI blocks for one instruction: the window opens after the NOP. */
	ASSERT_LE((uint64_t)guest_sti_insn + 2, r.rip);
	ASSERT_GE((uint64_t)guest_sti_insn + 4, r.rip);
	vm_free(vm);
}

TEST(interrupt_bad_input)
{
	struct hvx_interrupt irq = { .vector = 31 };
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_INTERRUPT, &irq));
	irq.vector = 256;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_INTERRUPT, &irq));
	irq.vector = 32;
	irq.padding = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_INTERRUPT, &irq));
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_NMI, 1));
	vm_free(vm);
}

/* An exception set with HVX_SET_VCPU_EVENTS is delivered with its error
 * code through the guest's IDT (the library's stub reports it). */
TEST(inject_exception)
{
	struct hvx_vcpu_events ev = {
		.exception = { .pending = 1, .vector = 13,
			       .has_error_code = 1, .error_code = 0x18 },
	};
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t rip;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_spin_sti, 0);
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	rip = vcpu_get_rip(vcpu);
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, &ev));
	memset(&ev, 0, sizeof(ev));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_VCPU_EVENTS, &ev));
	ASSERT_EQ(1, ev.exception.pending);
	ASSERT_EQ(13, ev.exception.vector);
	ASSERT_EQ(0x18, ev.exception.error_code);
	ASSERT_EQ(0, __vcpu_run(vcpu));
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc));
	ASSERT_EQ(13, uc.args[0]);
	ASSERT_EQ(0x18, uc.args[1]);
	/* The ucall's OUT (2 bytes) completes first; the #GP comes after. */
	ASSERT_EQ(rip + 2, uc.args[2]);
	vm_free(vm);
}

/* An NMI is delivered through IDT vector 2. */
TEST(inject_nmi)
{
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_spin_sti, 0);
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_NMI, 0));
	ASSERT_ERRNO(EBUSY, ioctl(vcpu->fd, HVX_NMI, 0));
	ASSERT_EQ(0, __vcpu_run(vcpu));
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc));
	ASSERT_EQ(2, uc.args[0]);
	vm_free(vm);
}

/* Single-stepping over an instruction hvx emulates traps right after it. */
TEST(single_step_over_emulated_instruction)
{
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_single_step, 0);
	ASSERT_EQ(0, __vcpu_run(vcpu));
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc))
		TH_LOG("%s", vcpu_exit_str(vcpu));
	ASSERT_EQ(1, uc.args[0]);				/* #DB */
	ASSERT_EQ((uint64_t)guest_ss_next, uc.args[2]);
	vm_free(vm);
}

/* XSAVE/AVX: the guest's YMM state survives exits and another VM using
 * the same registers (the guest code checks the XSETBV rules itself). */
TEST(xsave_avx_state)
{
	struct vcpu *a, *b;
	struct vm *vma, *vmb;
	uint32_t eax, ebx, ecx, edx;

	REQUIRE_VMX();
	cpuid(1, 0, &eax, &ebx, &ecx, &edx);
	if (!(ecx & (1u << 28)))
		SKIP(return, "host CPU has no AVX");
	a = vm_create_long(&vma, guest_avx, 0x10);
	b = vm_create_long(&vmb, guest_avx, 0x80);
	ASSERT_EQ(1, vcpu_run_sync(a));
	ASSERT_EQ(1, vcpu_run_sync(b));		/* B loads its own YMM7 */
	ASSERT_EQ(1, vcpu_run_sync(a));		/* A still has its pattern */
	ASSERT_EQ(1, vcpu_run_sync(b));
	vcpu_run_done(a);
	vcpu_run_done(b);
	vm_free(vma);
	vm_free(vmb);
}

/*
 * Real mode: an interrupt goes through the IVT (SDM Vol. 3A 20.1.4), and
 * an injected #GP pushes FLAGS, CS and IP only, no error code.
 */
TEST(inject_real_mode)
{
	struct hvx_vcpu_events ev = {
		.exception = { .pending = 1, .vector = 13, .has_error_code = 1 },
	};
	struct hvx_interrupt irq = { .vector = EVENTS_IRQ_VECTOR };
	struct hvx_regs regs;
	uint16_t *ivt;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t sp;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, ev_rm_start, ev_rm_end);
	ivt = vm_gpa2hva(vm, 0, 0x400);
	ivt[EVENTS_IRQ_VECTOR * 2] = ev_rm_irq - ev_rm_start;
	ivt[EVENTS_IRQ_VECTOR * 2 + 1] = GPA_BLOB >> 4;
	ivt[13 * 2] = ev_rm_gp - ev_rm_start;
	ivt[13 * 2 + 1] = GPA_BLOB >> 4;
	vcpu_setup_real(vcpu, GPA_BLOB);

	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_INTERRUPT, &irq));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(EVENTS_IRQ_VECTOR, uc.args[0]);

	/* Inside the handler, at its ucall: now a #GP. */
	vcpu_get_regs(vcpu, &regs);
	sp = regs.rsp & 0xffff;
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, &ev));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(13, uc.args[0]);
	ASSERT_EQ(sp - 6, uc.args[1]);
	vm_free(vm);
}

/* Write a 32-bit interrupt gate (SDM Vol. 3A 6.11, Figure 6-2). */
static void set_gate32(uint32_t *gate, uint32_t handler)
{
	gate[0] = (handler & 0xffff) | (SEL_CODE32 << 16);
	gate[1] = (handler & 0xffff0000) | 0x8e00;
}

/* 32-bit protected mode: the interrupt and a #GP with its error code. */
TEST(inject_protected_mode)
{
	struct hvx_vcpu_events ev = {
		.exception = { .pending = 1, .vector = 13, .has_error_code = 1,
			       .error_code = 0x2a },
	};
	struct hvx_interrupt irq = { .vector = EVENTS_IRQ_VECTOR };
	const uint64_t idt = GPA_BLOB_DATA + 0x800;
	struct hvx_sregs s;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;
	uint32_t *gates;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, ev_pm_start, ev_pm_end);
	gates = vm_gpa2hva(vm, idt, 256 * 8);
	memset(gates, 0, 256 * 8);
	set_gate32(&gates[EVENTS_IRQ_VECTOR * 2],
		   GPA_BLOB + (ev_pm_irq - ev_pm_start));
	set_gate32(&gates[13 * 2], GPA_BLOB + (ev_pm_gp - ev_pm_start));
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	vcpu_get_sregs(vcpu, &s);
	s.idt.base = idt;
	s.idt.limit = 256 * 8 - 1;
	vcpu_set_sregs(vcpu, &s);

	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_INTERRUPT, &irq));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(EVENTS_IRQ_VECTOR, uc.args[0]);
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, &ev));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(13, uc.args[0]);
	ASSERT_EQ(0x2a, uc.args[1]);
	vm_free(vm);
}

TEST(set_events_bad_input)
{
	struct hvx_vcpu_events ev, after;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	memset(&ev, 0, sizeof(ev));
	ev.exception.pending = 1;
	ev.exception.vector = 2;			/* NMI is not an exception */
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, &ev));
	ev.exception.vector = 13;			/* #GP needs its error code */
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, &ev));
	ev.exception.vector = 6;			/* #UD has none */
	ev.exception.has_error_code = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, &ev));
	ev.exception.vector = 32;
	ev.exception.has_error_code = 0;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, &ev));
	memset(&ev, 0, sizeof(ev));
	ev.interrupt.pending = 1;
	ev.interrupt.vector = 8;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, &ev));
	memset(&ev, 0, sizeof(ev));
	ev.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, &ev));
	ev.flags = 0;
	ev.reserved[7] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_VCPU_EVENTS, &ev));
	memset(&after, 0xff, sizeof(after));
	memset(&ev, 0, sizeof(ev));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_VCPU_EVENTS, &after));
	ASSERT_EQ(0, memcmp(&ev, &after, sizeof(ev)));	/* nothing queued */
	vm_free(vm);
}

TEST_HARNESS_MAIN
