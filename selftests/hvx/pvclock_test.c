// SPDX-License-Identifier: GPL-2.0
/*
 * pvclock_test - the KVM paravirtual MSRs (vmx/pvmsr.c): the CPUID leaf
 * that offers them and the #GP when the VMM hides them (in the leaf, by
 * spoiling KVM's signature, or with HVX_VM_NO_PV); kvmclock against
 * the guest's TSC and the host's CLOCK_BOOTTIME, the wall clock against
 * CLOCK_REALTIME, monotonic across two vCPUs and across host CPUs; bad
 * GPAs (unaligned, outside RAM, the APIC page) refused or ignored as
 * KVM's msr.rst says; a moved and a deleted slot; steal time growing
 * while the vCPU thread waits for its CPU; the PV TLB flush request
 * consumed; PV EOI completing interrupts without EOI exits; save and
 * restore through HVX_GET_MSRS/HVX_SET_MSRS.
 *
 * Under Bochs, host time and the TSC both follow emulated instructions,
 * so the clock comparisons hold there as on hardware; the tolerances
 * cover the exits between the host's two clock reads.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"
#include "hvx_state.h"

/* KVM's paravirtual interface (Linux's Documentation/virt/kvm/x86/). */
#define KVM_CPUID_BASE		0x40000100
#define KVM_CPUID_FEATURES	0x40000101
#define KVM_FEAT_CLOCKSOURCE2	3
#define KVM_FEAT_STEAL_TIME	5
#define KVM_FEAT_PV_EOI		6
#define KVM_FEAT_PV_TLB_FLUSH	9
#define KVM_FEAT_STABLE_BIT	24
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define MSR_KVM_STEAL_TIME	0x4b564d03
#define MSR_KVM_PV_EOI_EN	0x4b564d04
#define PVCLOCK_TSC_STABLE	1
#define KVM_VCPU_PREEMPTED	1
#define KVM_VCPU_FLUSH_TLB	2

/* The interrupt vector of the PV EOI case, and the xAPIC page. */
#define V_PV			0x58
#define PV_APIC_GPA		0xfee00000ull

/* guest_pv_msrs(): a 4 KiB slot of its own for the structures. */
#define GPA_PV			0x60000000ull
#define GPA_PV_MOVED		0x61000000ull
#define PV_SLOT			5

struct pvclock_ti {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t mul;
	int8_t shift;
	uint8_t flags, pad[2];
} __attribute__((packed));

struct pvclock_wall {
	uint32_t version, sec, nsec;
} __attribute__((packed));

struct steal_time {
	uint64_t steal;
	uint32_t version, flags;
	uint8_t preempted, pad8[3];
	uint32_t pad[11];
} __attribute__((packed));

/*
 * Guest code: it uses the KVM paravirtual MSRs as a Linux guest does and
 * reports what it sees.
 */

volatile struct pvclock_ti guest_ti[2] __attribute__((aligned(64)));
volatile struct pvclock_wall guest_wall;
volatile struct steal_time guest_steal __attribute__((aligned(64)));
volatile uint64_t guest_eoi_word __attribute__((aligned(64)));
volatile uint64_t guest_last_ns, guest_pv_irqs, guest_pv_skipped;
volatile uint64_t guest_stop, guest_pv_sync_in_irq;

/* kvmclock now, by msr.rst's formula and version protocol. */
GUEST_CODE
static uint64_t pvclock_read(volatile struct pvclock_ti *ti, uint8_t *flags)
{
	uint32_t ver;
	uint64_t ns, delta;

	do {
		ver = ti->version;
		asm volatile("" : : : "memory");
		delta = guest_rdtsc() - ti->tsc_timestamp;
		if (ti->shift >= 0)
			delta <<= ti->shift;
		else
			delta >>= -ti->shift;
		ns = ti->system_time +
		     (uint64_t)(((unsigned __int128)delta * ti->mul) >> 32);
		*flags = ti->flags;
		asm volatile("" : : : "memory");
	} while ((ver & 1) || ver != ti->version);
	return ns;
}

/* CPUID 0x40000100/0x40000101 as the guest sees them. */
GUEST_CODE
void guest_pv_cpuid(uint64_t unused)
{
	uint32_t a, b, c, d, f;

	(void)unused;
	cpuid(KVM_CPUID_FEATURES, 0, &f, &b, &c, &d);
	cpuid(KVM_CPUID_BASE, 0, &a, &b, &c, &d);
	GUEST_SYNC_ARGS(a, b, c, d);
	GUEST_SYNC(f);
	GUEST_DONE();
}

/* RDMSR and WRMSR (disable) of the four MSRs: a bit per #GP. */
GUEST_CODE
void guest_pv_msr_faults(uint64_t unused)
{
	static const uint32_t msrs[4] = {
		MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW,
		MSR_KVM_STEAL_TIME, MSR_KVM_PV_EOI_EN,
	};
	uint64_t rd = 0, wr = 0, val;

	(void)unused;
	for (int i = 0; i < 4; i++) {
		if (guest_rdmsr_safe(msrs[i], &val) == X86_VEC_GP)
			rd |= 1u << i;
		if (guest_wrmsr_safe(msrs[i], 0) == X86_VEC_GP)
			wr |= 1u << i;
	}
	GUEST_SYNC_ARGS(rd, wr, 0, 0);
	GUEST_DONE();
}

/*
 * Enable kvmclock at @gpa (the MSR value's bit 0 is set here), then
 * report readings: SYNC(ns, flags, version, rdtsc) until the host stops.
 */
GUEST_CODE
void guest_kvmclock(uint64_t gpa)
{
	volatile struct pvclock_ti *ti = (volatile void *)gpa;
	uint8_t flags;
	uint64_t ns;

	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, gpa | 1));
	for (;;) {
		ns = pvclock_read(ti, &flags);
		GUEST_SYNC_ARGS(ns, flags, ti->version, ti->tsc_timestamp);
	}
}

/* Write MSR_KVM_WALL_CLOCK_NEW with @gpa; report the structure. */
GUEST_CODE
void guest_wall_clock(uint64_t gpa)
{
	volatile struct pvclock_wall *wc = (volatile void *)gpa;
	uint8_t flags;
	uint64_t ns;

	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW,
					    (uint64_t)&guest_ti[0] | 1));
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_KVM_WALL_CLOCK_NEW, gpa));
	ns = pvclock_read(&guest_ti[0], &flags);
	GUEST_SYNC_ARGS(wc->version, wc->sec, wc->nsec, ns);
	GUEST_DONE();
}

/*
 * vCPU @idx of two: kvmclock must never go below a value the other vCPU
 * (or this one on another host CPU) read before. Each reading first
 * takes the shared maximum, then reads its own clock, then raises the
 * maximum. Runs until guest_stop; SYNC(readings) every 4096, SYNC(~1)
 * while the stable bit is clear.
 */
GUEST_CODE
void guest_clock_mono(uint64_t idx)
{
	volatile struct pvclock_ti *ti = &guest_ti[idx];
	uint64_t n = 0, seen, ns, cur;
	uint8_t flags;

	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW,
					    (uint64_t)ti | 1));
	while (!guest_stop) {
		seen = __atomic_load_n(&guest_last_ns, __ATOMIC_SEQ_CST);
		ns = pvclock_read(ti, &flags);
		/* Without the flag, monotonicity is the guest's own job. */
		if (!(flags & PVCLOCK_TSC_STABLE))
			GUEST_SYNC_ARGS(~1ull, flags, 0, idx);
		if (ns < seen)
			GUEST_SYNC_ARGS(~0ull, seen, ns, idx);
		cur = seen;
		while (cur < ns &&
		       !__atomic_compare_exchange_n(&guest_last_ns, &cur, ns, 0,
						    __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST))
			;
		if (!(++n & 4095))
			GUEST_SYNC_ARGS(n, 0, 0, idx);
	}
	GUEST_DONE();
}

/*
 * Steal time at guest_steal: SYNC(steal, version, preempted) first, then
 * spin (with a ucall every @spins loops, so the host can look) until
 * steal grows; then SYNC(steal, version, 1).
 */
GUEST_CODE
void guest_steal_spin(uint64_t spins)
{
	volatile struct steal_time *st = &guest_steal;
	uint64_t s0;

	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_KVM_STEAL_TIME,
					    (uint64_t)st | 1));
	s0 = st->steal;
	GUEST_SYNC_ARGS(s0, st->version, st->preempted, 0);
	while (st->steal == s0) {
		for (volatile uint64_t i = 0; i < spins; i++)
			;
		GUEST_SYNC_ARGS(st->steal, st->version, st->preempted, 2);
	}
	GUEST_SYNC_ARGS(st->steal, st->version, st->preempted, 1);
	GUEST_DONE();
}

/* One WRMSR-free SYNC per run, to let the host act between entries. */
GUEST_CODE
void guest_wrmsr_sync(uint64_t unused)
{
	(void)unused;
	for (;;)
		GUEST_SYNC(0);
}

/* The interrupt handler of guest_pv_eoi(): EOI in memory if offered. */
void guest_pv_irq_c(void);
GUEST_CODE
void guest_pv_irq_c(void)
{
	uint8_t offered;

	guest_pv_irqs++;
	/* A stop inside the handler, the vector in service (pv_eoi_restored). */
	if (guest_pv_sync_in_irq)
		GUEST_SYNC_ARGS(guest_eoi_word, 0, 0, 3);
	/* One instruction tests and clears the flag (msr.rst). */
	asm volatile("btrq $0, %0; setc %1"
		     : "+m"(guest_eoi_word), "=r"(offered) : : "cc");
	if (offered)
		guest_pv_skipped++;
	else
		*(volatile uint32_t *)(PV_APIC_GPA + 0xb0) = 0;	/* EOI */
}

asm(".pushsection .text.guest, \"ax\", @progbits\n"
    ".globl guest_pv_irq_stub\n"
    "guest_pv_irq_stub:\n\t"
    "pushq %rax\n\tpushq %rcx\n\tpushq %rdx\n\tpushq %rsi\n\tpushq %rdi\n\t"
    "pushq %r8\n\tpushq %r9\n\tpushq %r10\n\tpushq %r11\n\t"
    "call guest_pv_irq_c\n\t"
    "popq %r11\n\tpopq %r10\n\tpopq %r9\n\tpopq %r8\n\tpopq %rdi\n\t"
    "popq %rsi\n\tpopq %rdx\n\tpopq %rcx\n\tpopq %rax\n\t"
    "iretq\n"
    ".popsection");
extern const char guest_pv_irq_stub[];

/*
 * @n self-IPIs through the xAPIC, each handled by guest_pv_irq_stub with
 * PV EOI on (if @n has bit 63 set: off). SYNC(irqs, skipped) around.
 */
GUEST_CODE
void guest_pv_eoi(uint64_t n)
{
	volatile uint32_t *apic = (volatile void *)PV_APIC_GPA;
	int pv = !(n >> 63);

	n &= ~(1ull << 63);
	guest_eoi_word = 0;
	if (pv)
		GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_KVM_PV_EOI_EN,
						    (uint64_t)&guest_eoi_word | 1));
	(void)*(volatile const char *)guest_pv_irq_stub;
	apic[0xf0 / 4] = 0x1ff;				/* SVR: enabled */
	asm volatile("sti" : : : "memory");
	GUEST_SYNC_ARGS(guest_pv_irqs, guest_pv_skipped, 0, 0);
	for (uint64_t i = 0; i < n; i++) {
		apic[0x300 / 4] = (1u << 18) | V_PV;	/* self */
		for (uint64_t t = 0; guest_pv_irqs < i + 1; t++)
			GUEST_ASSERT(t < 100000000);
	}
	GUEST_SYNC_ARGS(guest_pv_irqs, guest_pv_skipped, 0, 1);
	/* After an exit, which completes an EOI done in memory. */
	GUEST_SYNC_ARGS(apic[(0x100 + 0x10 * (V_PV / 32)) / 4], 0, 0, 2);
	GUEST_DONE();
}

/* Host code. */

#define CLOCK_TOL_NS	50000000ull	/* 50 ms */
#define PV_FEATURES	((1u << KVM_FEAT_CLOCKSOURCE2) | (1u << KVM_FEAT_STEAL_TIME) | \
			 (1u << KVM_FEAT_PV_EOI) | (1u << KVM_FEAT_PV_TLB_FLUSH) | \
			 (1u << KVM_FEAT_STABLE_BIT))

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *val)
{
	struct hvx_msrs m = { .nmsrs = 1 };
	int ret;

	m.entries[0].index = index;
	ret = ioctl(vcpu->fd, HVX_GET_MSRS, &m);
	*val = m.entries[0].data;
	return ret;
}

static int set_msr(struct vcpu *vcpu, uint32_t index, uint64_t val)
{
	struct hvx_msrs m = { .nmsrs = 1 };

	m.entries[0].index = index;
	m.entries[0].data = val;
	return ioctl(vcpu->fd, HVX_SET_MSRS, &m);
}

/* Set CPUID.0x40000101:EAX of @vcpu to @features. */
static void set_pv_features(struct vcpu *vcpu, uint32_t features)
{
	static struct hvx_cpuid c;
	uint32_t i;

	LIB_ASSERT(!ioctl(vcpu->fd, HVX_GET_CPUID, &c), "HVX_GET_CPUID: %m");
	for (i = 0; i < c.nent; i++)
		if (c.entries[i].function == KVM_CPUID_FEATURES)
			break;
	LIB_ASSERT(i < c.nent, "no leaf 0x40000101 in the default table");
	c.entries[i].eax = features;
	LIB_ASSERT(!ioctl(vcpu->fd, HVX_SET_CPUID, &c), "HVX_SET_CPUID: %m");
}

/* Set CPUID.0x40000100:EBX (the signature's first four bytes) of @vcpu. */
static void set_pv_signature(struct vcpu *vcpu, uint32_t ebx)
{
	static struct hvx_cpuid c;
	uint32_t i;

	LIB_ASSERT(!ioctl(vcpu->fd, HVX_GET_CPUID, &c), "HVX_GET_CPUID: %m");
	for (i = 0; i < c.nent; i++)
		if (c.entries[i].function == KVM_CPUID_BASE)
			break;
	LIB_ASSERT(i < c.nent, "no leaf 0x40000100 in the default table");
	c.entries[i].ebx = ebx;
	LIB_ASSERT(!ioctl(vcpu->fd, HVX_SET_CPUID, &c), "HVX_SET_CPUID: %m");
}

/* A 4 KiB slot at @gpa backed by @hva (NULL: delete). */
static void pv_slot(struct vm *vm, uint64_t gpa, void *hva)
{
	LIB_ASSERT(!__vm_set_memory_region(vm->fd, PV_SLOT, 0, gpa,
					   hva ? 4096 : 0, hva),
		   "HVX_SET_MEMORY_REGION: %m");
}

static void *page_alloc(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	LIB_ASSERT(p != MAP_FAILED, "mmap: %m");
	return p;
}

static bool page_zero(const void *p)
{
	static const char zero[4096];

	return !memcmp(p, zero, sizeof(zero));
}

TEST(cpuid_leaf)
{
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_pv_cpuid, 0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(KVM_CPUID_FEATURES, uc.args[0]);
	ASSERT_EQ(0x4b4d564b, uc.args[1]);	/* "KVMK" */
	ASSERT_EQ(0x564b4d56, uc.args[2]);	/* "VMKV" */
	ASSERT_EQ(0x4d, uc.args[3]);		/* "M\0\0\0" */
	ASSERT_EQ(PV_FEATURES, vcpu_run_sync(vcpu) & PV_FEATURES);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* Hidden features: the guest's RDMSR/WRMSR fault, the ioctls refuse. */
TEST(hidden_features_gp)
{
	static const uint32_t msrs[4] = {
		MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW,
		MSR_KVM_STEAL_TIME, MSR_KVM_PV_EOI_EN,
	};
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t val;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_pv_msr_faults, 0);
	set_pv_features(vcpu, 0);
	for (int i = 0; i < 4; i++) {
		ASSERT_ERRNO(EINVAL, get_msr(vcpu, msrs[i], &val));
		ASSERT_ERRNO(EINVAL, set_msr(vcpu, msrs[i], 0));
	}
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0xf, uc.args[0]);
	ASSERT_EQ(0xf, uc.args[1]);
	vm_free(vm);

	/* A VM created with HVX_VM_NO_PV: no leaves, every MSR hidden. */
	vm = vm_create_flags(HVX_VM_NO_PV);
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_pv_msr_faults, 0);
	for (int i = 0; i < 4; i++)
		ASSERT_ERRNO(EINVAL, get_msr(vcpu, msrs[i], &val));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0xf, uc.args[0]);
	ASSERT_EQ(0xf, uc.args[1]);
	vm_free(vm);

	/* The features without KVM's signature at 0x40000100 count for nothing. */
	vcpu = vm_create_long(&vm, guest_pv_msr_faults, 0);
	set_pv_signature(vcpu, 0);
	ASSERT_ERRNO(EINVAL, get_msr(vcpu, MSR_KVM_SYSTEM_TIME_NEW, &val));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0xf, uc.args[0]);
	ASSERT_EQ(0xf, uc.args[1]);
	vm_free(vm);

	/* Offered: none faults. */
	vcpu = vm_create_long(&vm, guest_pv_msr_faults, 0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0, uc.args[0]);
	ASSERT_EQ(0, uc.args[1]);
	vm_free(vm);
}

/* kvmclock agrees with CLOCK_BOOTTIME and with the guest's TSC. */
TEST(kvmclock_host_time)
{
	uint64_t before, after, gpa, val, tsc_ts, ver;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_kvmclock, 0);
	gpa = (uint64_t)&guest_ti[0];
	{
		struct hvx_regs regs;

		vcpu_get_regs(vcpu, &regs);
		regs.rdi = gpa;
		vcpu_set_regs(vcpu, &regs);
	}
	for (int i = 0; i < 3; i++) {
		before = clock_ns(CLOCK_BOOTTIME);
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		after = clock_ns(CLOCK_BOOTTIME);
		ASSERT_GE(uc.args[0] + CLOCK_TOL_NS, before)
			TH_LOG("kvmclock %llu, host before %llu",
			       (unsigned long long)uc.args[0],
			       (unsigned long long)before);
		ASSERT_LE(uc.args[0], after + CLOCK_TOL_NS)
			TH_LOG("kvmclock %llu, host after %llu",
			       (unsigned long long)uc.args[0],
			       (unsigned long long)after);
		ASSERT_EQ(0, uc.args[2] & 1);		/* version even */
		TH_LOG("stable bit %llu", (unsigned long long)uc.args[1]);
	}
	tsc_ts = uc.args[3];
	ver = uc.args[2];
	ASSERT_EQ(1, get_msr(vcpu, MSR_KVM_SYSTEM_TIME_NEW, &val));
	ASSERT_EQ(gpa | 1, val);

	/* A guest TSC write moves tsc_timestamp by the same amount. */
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_TSC, 1ull << 40));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_NE(tsc_ts, uc.args[3]);
	ASSERT_LT(ver, uc.args[2]);
	ASSERT_LT(uc.args[3], 1ull << 41);
	before = clock_ns(CLOCK_BOOTTIME);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	after = clock_ns(CLOCK_BOOTTIME);
	ASSERT_GE(uc.args[0] + CLOCK_TOL_NS, before);
	ASSERT_LE(uc.args[0], after + CLOCK_TOL_NS);

	/* Disabled: no more updates, even on a TSC change. */
	ASSERT_EQ(1, set_msr(vcpu, MSR_KVM_SYSTEM_TIME_NEW, gpa));
	memset((void *)&guest_var(vm, guest_ti[0]), 0, sizeof(guest_ti[0]));
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_TSC, 1ull << 42));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0, guest_var(vm, guest_ti[0]).version);
	ASSERT_EQ(0, guest_var(vm, guest_ti[0]).system_time);
	vm_free(vm);
}

TEST(wall_clock)
{
	uint64_t wall, real, boot;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_wall_clock, (uint64_t)&guest_wall);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	real = clock_ns(CLOCK_REALTIME);
	boot = clock_ns(CLOCK_BOOTTIME);
	ASSERT_EQ(0, uc.args[0] & 1);
	ASSERT_NE(0, uc.args[0]);
	ASSERT_LT(uc.args[2], 1000000000ull);
	/* Boot time in wall-clock terms plus kvmclock is now. */
	wall = uc.args[1] * 1000000000ull + uc.args[2] + uc.args[3];
	ASSERT_LE(wall, real + CLOCK_TOL_NS);
	ASSERT_GE(wall + CLOCK_TOL_NS, real - (boot - uc.args[3]));
	vm_free(vm);
}

/* Bad GPAs: kvmclock and steal time accept and ignore, PV EOI faults. */
TEST(bad_gpa)
{
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t ti = (uint64_t)&guest_ti[0];
	uint64_t eoi = (uint64_t)&guest_eoi_word;
	uint64_t st = (uint64_t)&guest_steal;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_wrmsr_sync, 0);
	/* kvmclock: unaligned, outside RAM, the APIC page: never written. */
	static const uint64_t bad_ti[] = { 2, 0x2000000000ull, GPA_MMIO,
					   PV_APIC_GPA };
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t gpa = i ? bad_ti[i] : ti + bad_ti[i];

		memset((void *)&guest_var(vm, guest_ti[0]), 0, 64);
		ASSERT_EQ(1, set_msr(vcpu, MSR_KVM_SYSTEM_TIME_NEW, gpa | 1));
		ASSERT_EQ(0, vcpu_run_sync(vcpu));
		ASSERT_EQ(0, guest_var(vm, guest_ti[0]).version);
		ASSERT_EQ(0, guest_var(vm, guest_ti[0]).system_time);
	}
	/* The same GPA, aligned: written. */
	ASSERT_EQ(1, set_msr(vcpu, MSR_KVM_SYSTEM_TIME_NEW, ti | 1));
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	ASSERT_NE(0, guest_var(vm, guest_ti[0]).version);

	/* Steal time: reserved bits 5:1 fault, unaligned by 64 is masked. */
	for (int b = 1; b <= 5; b++)
		ASSERT_ERRNO(EINVAL, set_msr(vcpu, MSR_KVM_STEAL_TIME,
					     st | 1 | (1ull << b)));
	ASSERT_EQ(1, set_msr(vcpu, MSR_KVM_STEAL_TIME, GPA_MMIO | 1));
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	ASSERT_EQ(1, set_msr(vcpu, MSR_KVM_STEAL_TIME, PV_APIC_GPA | 1));
	ASSERT_EQ(0, vcpu_run_sync(vcpu));

	/* PV EOI: bit 1, outside RAM, the APIC page fault; disabled is fine. */
	ASSERT_ERRNO(EINVAL, set_msr(vcpu, MSR_KVM_PV_EOI_EN, eoi | 3));
	ASSERT_ERRNO(EINVAL, set_msr(vcpu, MSR_KVM_PV_EOI_EN, GPA_MMIO | 1));
	ASSERT_ERRNO(EINVAL, set_msr(vcpu, MSR_KVM_PV_EOI_EN,
				     0x2000000000ull | 1));
	ASSERT_ERRNO(EINVAL, set_msr(vcpu, MSR_KVM_PV_EOI_EN, PV_APIC_GPA | 1));
	ASSERT_EQ(1, set_msr(vcpu, MSR_KVM_PV_EOI_EN, GPA_MMIO));
	ASSERT_EQ(1, set_msr(vcpu, MSR_KVM_PV_EOI_EN, eoi | 1));
	vm_free(vm);
}

/* Save and restore: what HVX_SET_MSRS wrote, HVX_GET_MSRS returns. */
TEST(save_restore)
{
	static struct hvx_msrs m, g;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_wrmsr_sync, 0);
	m.nmsrs = 4;
	m.entries[0].index = MSR_KVM_SYSTEM_TIME_NEW;
	m.entries[0].data = (uint64_t)&guest_ti[0] | 1;
	m.entries[1].index = MSR_KVM_WALL_CLOCK_NEW;
	m.entries[1].data = (uint64_t)&guest_wall;
	m.entries[2].index = MSR_KVM_STEAL_TIME;
	m.entries[2].data = (uint64_t)&guest_steal | 1;
	m.entries[3].index = MSR_KVM_PV_EOI_EN;
	m.entries[3].data = (uint64_t)&guest_eoi_word | 1;
	ASSERT_EQ(4, ioctl(vcpu->fd, HVX_SET_MSRS, &m));
	g = m;
	for (int i = 0; i < 4; i++)
		g.entries[i].data = 0;
	ASSERT_EQ(4, ioctl(vcpu->fd, HVX_GET_MSRS, &g));
	ASSERT_EQ(0, memcmp(&m, &g, sizeof(m)));
	/* The restored kvmclock and steal time are written at the next run. */
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	ASSERT_NE(0, guest_var(vm, guest_ti[0]).version);
	ASSERT_NE(0, guest_var(vm, guest_steal).version);
	ASSERT_NE(0, guest_var(vm, guest_wall).version);
	vm_free(vm);
}

/* Run the kvmclock guest once; its clock, checked against [lo, hi]. */
static uint64_t guest_clock_in(struct __test_metadata *_metadata,
			       struct vcpu *vcpu, uint64_t lo, uint64_t hi)
{
	struct ucall uc;

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_GE(uc.args[0] + CLOCK_TOL_NS, lo)
		TH_LOG("kvmclock %llu, expected at least %llu",
		       (unsigned long long)uc.args[0], (unsigned long long)lo);
	EXPECT_LE(uc.args[0], hi + CLOCK_TOL_NS)
		TH_LOG("kvmclock %llu, expected at most %llu",
		       (unsigned long long)uc.args[0], (unsigned long long)hi);
	return uc.args[0];
}

/*
 * HVX_GET_CLOCK / HVX_SET_CLOCK: the VM's kvmclock follows the value set,
 * ahead of the host's clock or behind it (a snapshot restored on a host
 * that rebooted), with the wall time elapsed since the save added on
 * request; bad input changes nothing.
 */
TEST(set_clock)
{
	const uint64_t sec = 1000000000ull, ahead = 5000 * sec, behind = 3 * sec;
	struct hvx_clock c = {}, got;
	uint64_t t0, t1, real;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_kvmclock, 0);
	{
		struct hvx_regs regs;

		vcpu_get_regs(vcpu, &regs);
		regs.rdi = (uint64_t)&guest_ti[0];
		vcpu_set_regs(vcpu, &regs);
	}
	/* By default the host's boot time, and the wall time beside it. */
	t0 = clock_ns(CLOCK_BOOTTIME);
	real = clock_ns(CLOCK_REALTIME);
	ASSERT_EQ(0, ioctl(vm->fd, HVX_GET_CLOCK, &got));
	t1 = clock_ns(CLOCK_BOOTTIME);
	ASSERT_EQ(HVX_CLOCK_REALTIME, got.flags);
	ASSERT_GE(got.clock + CLOCK_TOL_NS, t0);
	ASSERT_LE(got.clock, t1 + CLOCK_TOL_NS);
	ASSERT_GE(got.realtime + CLOCK_TOL_NS, real);
	ASSERT_LE(got.realtime, clock_ns(CLOCK_REALTIME) + CLOCK_TOL_NS);
	guest_clock_in(_metadata, vcpu, t0, clock_ns(CLOCK_BOOTTIME));

	/* Ahead of the host. */
	c.clock = clock_ns(CLOCK_BOOTTIME) + ahead;
	t0 = clock_ns(CLOCK_BOOTTIME);
	ASSERT_EQ(0, ioctl(vm->fd, HVX_SET_CLOCK, &c));
	guest_clock_in(_metadata, vcpu, t0 + ahead,
		       clock_ns(CLOCK_BOOTTIME) + ahead);
	ASSERT_EQ(0, ioctl(vm->fd, HVX_GET_CLOCK, &got));
	ASSERT_GE(got.clock + CLOCK_TOL_NS, t0 + ahead);

	/* Behind it, as on a host that rebooted since the save. */
	c.clock = behind;
	t0 = clock_ns(CLOCK_BOOTTIME);
	ASSERT_EQ(0, ioctl(vm->fd, HVX_SET_CLOCK, &c));
	t1 = guest_clock_in(_metadata, vcpu, behind,
			    behind + clock_ns(CLOCK_BOOTTIME) - t0);
	ASSERT_LT(t1, clock_ns(CLOCK_BOOTTIME));
	/* And it goes on from there. */
	ASSERT_LE(t1, guest_clock_in(_metadata, vcpu, t1,
				     behind + clock_ns(CLOCK_BOOTTIME) - t0));

	/* Saved 10 s ago by the wall clock: the guest finds 10 s gone. */
	c.clock = behind;
	c.realtime = clock_ns(CLOCK_REALTIME) - 10 * sec;
	c.flags = HVX_CLOCK_REALTIME;
	t0 = clock_ns(CLOCK_BOOTTIME);
	ASSERT_EQ(0, ioctl(vm->fd, HVX_SET_CLOCK, &c));
	guest_clock_in(_metadata, vcpu, behind + 10 * sec,
		       behind + 10 * sec + clock_ns(CLOCK_BOOTTIME) - t0);
	/* A save time in the future adds nothing. */
	c.realtime = clock_ns(CLOCK_REALTIME) + 100 * sec;
	t0 = clock_ns(CLOCK_BOOTTIME);
	ASSERT_EQ(0, ioctl(vm->fd, HVX_SET_CLOCK, &c));
	guest_clock_in(_metadata, vcpu, behind,
		       behind + clock_ns(CLOCK_BOOTTIME) - t0);

	/* Bad input: EINVAL and the clock stays. */
	ASSERT_EQ(0, ioctl(vm->fd, HVX_GET_CLOCK, &got));
	c.clock = ahead;
	c.realtime = 0;
	c.flags = 2;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_CLOCK, &c));
	c.flags = 0;
	c.pad = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_CLOCK, &c));
	c.pad = 0;
	c.reserved[3] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_CLOCK, &c));
	t0 = clock_ns(CLOCK_BOOTTIME);
	ASSERT_EQ(0, ioctl(vm->fd, HVX_GET_CLOCK, &c));
	ASSERT_LT(c.clock, ahead);
	ASSERT_GE(c.clock, got.clock);
	vm_free(vm);
}

/* The kvmclock page's slot moves, then goes: never a stale write. */
TEST(slot_move)
{
	uint8_t *a = page_alloc(), *b = page_alloc();
	struct vcpu *vcpu;
	struct vm *vm;
	const struct pvclock_ti *ti;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_wrmsr_sync, 0);
	pv_slot(vm, GPA_PV, a);
	ASSERT_EQ(1, set_msr(vcpu, MSR_KVM_SYSTEM_TIME_NEW, GPA_PV | 1));
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	ti = (const void *)a;
	ASSERT_NE(0, ti->version);
	ASSERT_NE(0, ti->system_time);

	/* The same GPA, now backed by b: b gets the update, a nothing. */
	pv_slot(vm, GPA_PV, NULL);
	pv_slot(vm, GPA_PV, b);
	memset(a, 0, 4096);
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_TSC, 1ull << 40));
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	ti = (const void *)b;
	ASSERT_NE(0, ti->version);
	ASSERT_TRUE(page_zero(a));

	/* The slot moves away: GPA_PV is no RAM, nothing is written. */
	pv_slot(vm, GPA_PV, NULL);
	pv_slot(vm, GPA_PV_MOVED, b);
	memset(b, 0, 4096);
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_TSC, 1ull << 41));
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	ASSERT_TRUE(page_zero(a));
	ASSERT_TRUE(page_zero(b));

	/* Deleted: likewise, and the vCPU runs on. */
	pv_slot(vm, GPA_PV_MOVED, NULL);
	ASSERT_EQ(1, set_msr(vcpu, MSR_IA32_TSC, 1ull << 42));
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	ASSERT_TRUE(page_zero(a));
	ASSERT_TRUE(page_zero(b));
	vm_free(vm);
	munmap(a, 4096);
	munmap(b, 4096);
}

struct mono_arg {
	struct vcpu *vcpu;
	int migrate;		/* move between host CPUs 0 and 1 */
	uint64_t readings;
	int unstable;		/* no PVCLOCK_TSC_STABLE_BIT */
	char err[256];
};

static volatile int mono_stop;

static void *mono_thread(void *p)
{
	struct mono_arg *m = p;
	struct ucall uc;
	uint64_t ret;
	int cpu = 0;

	while (!mono_stop) {
		if (m->migrate) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			cpu ^= 1;
			sched_setaffinity(0, sizeof(set), &set);
		}
		if (__vcpu_run(m->vcpu)) {
			snprintf(m->err, sizeof(m->err), "HVX_RUN: %s",
				 vcpu_exit_str(m->vcpu));
			break;
		}
		ret = get_ucall(m->vcpu, &uc);
		if (ret == UCALL_DONE)		/* guest_stop seen */
			break;
		if (ret != UCALL_SYNC) {
			snprintf(m->err, sizeof(m->err), "%s",
				 vcpu_exit_str(m->vcpu));
			break;
		}
		if (uc.args[0] == ~1ull) {
			m->unstable = 1;
			break;
		}
		if (uc.args[0] == ~0ull) {
			snprintf(m->err, sizeof(m->err),
				 "kvmclock went back: %llu after %llu",
				 (unsigned long long)uc.args[2],
				 (unsigned long long)uc.args[1]);
			break;
		}
		m->readings = uc.args[0];
	}
	return NULL;
}

static int nr_cpus(void)
{
	cpu_set_t set;

	sched_getaffinity(0, sizeof(set), &set);
	return CPU_COUNT(&set);
}

/* Two vCPUs, one of them moving between host CPUs when there are two. */
TEST(kvmclock_monotonic)
{
	struct mono_arg m[2] = {};
	pthread_t t[2];
	struct vm *vm;
	int migrate = nr_cpus() >= 2;

	REQUIRE_VMX();
	m[0].vcpu = vm_create_long(&vm, guest_clock_mono, 0);
	m[1].vcpu = vcpu_create(vm, 1);
	vcpu_setup_long(m[1].vcpu, guest_clock_mono, 1);
	m[1].migrate = migrate;
	mono_stop = 0;
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, mono_thread, &m[i]);
	sleep(3);
	mono_stop = 1;
	guest_var(vm, guest_stop) = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (m[0].unstable || m[1].unstable) {
		vm_free(vm);
		SKIP(return, "host TSC not stable: no PVCLOCK_TSC_STABLE_BIT");
	}
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, m[i].err[0]) TH_LOG("vCPU %d: %s", i, m[i].err);
	}
	ASSERT_NE(0, m[0].readings);
	ASSERT_NE(0, m[1].readings);
	if (!migrate)
		TH_LOG("one host CPU: no migration between CPUs (bochs-smp has two)");
	vm_free(vm);
}

static volatile int hog_stop;

static void *hog(void *p)
{
	(void)p;
	while (!hog_stop)
		;
	return NULL;
}

/* Steal time grows while a hog keeps the vCPU thread off its CPU. */
TEST(steal_time)
{
	pthread_attr_t attr;
	cpu_set_t set;
	pthread_t t;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t s0;
	int i;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_steal_spin, 100000);
	pin_cpu(0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	s0 = uc.args[0];
	ASSERT_EQ(0, uc.args[1] & 1);
	ASSERT_EQ(0, uc.args[2]);		/* running: not preempted */
	hog_stop = 0;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	pthread_create(&t, &attr, hog, NULL);
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		if (uc.args[3] == 1)
			break;
	}
	hog_stop = 1;
	pthread_join(t, NULL);
	ASSERT_EQ(1, uc.args[3]) TH_LOG("steal never grew");
	ASSERT_GT(uc.args[0], s0);
	ASSERT_EQ(0, uc.args[1] & 1);
	ASSERT_EQ(0, uc.args[2]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* A FLUSH_TLB request left in the preempted byte is consumed. */
TEST(pv_tlb_flush)
{
	struct hvx_stats st0, st1;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_wrmsr_sync, 0);
	ASSERT_EQ(1, set_msr(vcpu, MSR_KVM_STEAL_TIME,
			     (uint64_t)&guest_steal | 1));
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	ASSERT_EQ(0, hvx_nl_own_stats(&st0));
	/* What another vCPU does to a preempted one instead of an IPI. */
	guest_var(vm, guest_steal).preempted =
		KVM_VCPU_PREEMPTED | KVM_VCPU_FLUSH_TLB;
	/* HVX_RUN starts a run: steal time is updated before the entry. */
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	ASSERT_EQ(0, guest_var(vm, guest_steal).preempted);
	/* One INVVPID of the vCPU's VPID before that entry. */
	ASSERT_EQ(0, hvx_nl_own_stats(&st1));
	ASSERT_GT(st1.invvpid, st0.invvpid);
	vm_free(vm);
}

static uint64_t eoi_exits(const struct hvx_stats *s)
{
	return s->exits_by_reason[31] + s->exits_by_reason[32] +	/* MSR */
	       s->exits_by_reason[44] + s->exits_by_reason[56] +	/* APIC */
	       s->exits_by_reason[45] + s->ept_mmio;
}

/* With apic_vid off (PV EOI is for LAPICs that do not virtualize EOI). */
static struct vm *lapic_vm(void)
{
	static const char *param = "/sys/module/hvx/parameters/apic_vid";
	struct hvx_platform_config c = { .devices = HVX_PLATFORM_LAPIC };
	char was[8];
	struct vm *vm = vm_create();

	LIB_ASSERT(!read_str(param, was, sizeof(was)), "%s", param);
	LIB_ASSERT(!write_str(param, "0"), "%s", param);
	LIB_ASSERT(!ioctl(vm->fd, HVX_CREATE_PLATFORM, &c),
		   "HVX_CREATE_PLATFORM: %m");
	LIB_ASSERT(!write_str(param, was), "%s", param);
	return vm;
}

#define PV_EOI_IRQS	64

static uint64_t pv_eoi_run(struct __test_metadata *_metadata, bool pv,
			   uint64_t *skipped)
{
	struct hvx_stats s0, s1;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm = lapic_vm();

	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_pv_eoi, PV_EOI_IRQS | (pv ? 0 : 1ull << 63));
	vcpu_set_idt_gate(vcpu, V_PV, (uint64_t)guest_pv_irq_stub);
	EXPECT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0, hvx_nl_own_stats(&s0));
	EXPECT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0, hvx_nl_own_stats(&s1));
	EXPECT_EQ(PV_EOI_IRQS, uc.args[0]);
	*skipped = uc.args[1];
	EXPECT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0, uc.args[0]);	/* ISR clear after the exit */
	vcpu_run_done(vcpu);
	vm_free(vm);
	return eoi_exits(&s1) - eoi_exits(&s0);
}

/* PV EOI: every interrupt EOIed in memory, one exit each (the IPI). */
TEST(pv_eoi)
{
	uint64_t with, without, skipped;

	REQUIRE_VMX();
	with = pv_eoi_run(_metadata, true, &skipped);
	ASSERT_EQ(PV_EOI_IRQS, skipped);
	without = pv_eoi_run(_metadata, false, &skipped);
	ASSERT_EQ(0, skipped);
	TH_LOG("APIC/MSR exits for %d interrupts: %llu with PV EOI, %llu without",
	       PV_EOI_IRQS, (unsigned long long)with,
	       (unsigned long long)without);
	ASSERT_LE(with + PV_EOI_IRQS, without);
}

/*
 * A vCPU saved inside its interrupt handler with the PV EOI offer out,
 * restored into a new VM: the handler clears the flag instead of writing
 * EOI, and that must still retire the vector (else the restored guest
 * never gets an interrupt of that priority class again).
 */
TEST(pv_eoi_restored)
{
	struct vcpu_state *st = calloc(1, sizeof(*st));
	uint32_t isr_word = 0x100 + 0x10 * (V_PV / 32);
	struct vcpu *va, *vb;
	struct vm *vma, *vmb;
	struct ucall uc;
	uint32_t isr;

	REQUIRE_VMX();
	ASSERT_NE(NULL, st);
	vma = lapic_vm();
	va = vcpu_create(vma, 0);
	vcpu_setup_long(va, guest_pv_eoi, 1);
	vcpu_set_idt_gate(va, V_PV, (uint64_t)guest_pv_irq_stub);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(va, &uc));
	guest_var(vma, guest_pv_sync_in_irq) = 1;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(va, &uc));
	ASSERT_EQ(3, uc.args[3]);		/* in the handler */
	ASSERT_EQ(1, uc.args[0]);		/* the offer is out */
	ASSERT_EQ(0, vcpu_state_save(va, st));
	memcpy(&isr, st->lapic.regs + isr_word, 4);
	ASSERT_EQ(1u << (V_PV % 32), isr);

	vmb = lapic_vm();
	vb = vcpu_create(vmb, 0);
	vcpu_setup_long(vb, guest_pv_eoi, 1);	/* CPUID; the rest is restored */
	memcpy(vmb->ram, vma->ram, vma->ram_size);
	vm_free(vma);
	ASSERT_EQ(0, vcpu_state_restore(vb, st));
	guest_var(vmb, guest_pv_sync_in_irq) = 0;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vb, &uc));
	ASSERT_EQ(1, uc.args[3]);
	ASSERT_EQ(1, uc.args[0]);		/* interrupts */
	ASSERT_EQ(1, uc.args[1]);		/* EOIed in memory */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vb, &uc));
	ASSERT_EQ(2, uc.args[3]);
	ASSERT_EQ(0, uc.args[0]) TH_LOG("ISR word 0x%llx: the vector stayed in service",
					(unsigned long long)uc.args[0]);
	vcpu_run_done(vb);
	vm_free(vmb);
	free(st);
}

TEST_HARNESS_MAIN
