// SPDX-License-Identifier: GPL-2.0
/*
 * pvclock_guest.c - 64-bit guest code of pvclock_test: it uses the KVM
 * paravirtual MSRs as a Linux guest does and reports what it sees.
 */
#include "hvx_guest.h"
#include "guest_layout.h"
#include "pvclock_guest.h"

volatile struct pvclock_ti guest_ti[2] __attribute__((aligned(64)));
volatile struct pvclock_wall guest_wall;
volatile struct steal_time guest_steal __attribute__((aligned(64)));
volatile uint64_t guest_eoi_word __attribute__((aligned(64)));
volatile uint64_t guest_last_ns, guest_pv_irqs, guest_pv_skipped;
volatile uint64_t guest_stop;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)val),
		     "d"((uint32_t)(val >> 32)) : "memory");
}

/* kvmclock now, by msr.rst's formula and version protocol. */
static uint64_t pvclock_read(volatile struct pvclock_ti *ti, uint8_t *flags)
{
	uint32_t ver;
	uint64_t ns, delta;

	do {
		ver = ti->version;
		asm volatile("" : : : "memory");
		delta = rdtsc() - ti->tsc_timestamp;
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
void guest_wrmsr_sync(uint64_t unused)
{
	(void)unused;
	for (;;)
		GUEST_SYNC(0);
}

/* The interrupt handler of guest_pv_eoi(): EOI in memory if offered. */
void guest_pv_irq_c(void);
void guest_pv_irq_c(void)
{
	uint8_t offered;

	guest_pv_irqs++;
	/* One instruction tests and clears the flag (msr.rst). */
	asm volatile("btrq $0, %0; setc %1"
		     : "+m"(guest_eoi_word), "=r"(offered) : : "cc");
	if (offered)
		guest_pv_skipped++;
	else
		*(volatile uint32_t *)(PV_APIC_GPA + 0xb0) = 0;	/* EOI */
}

asm(".pushsection .text\n"
    ".globl guest_pv_irq_stub\n"
    "guest_pv_irq_stub:\n\t"
    "pushq %rax\n\tpushq %rcx\n\tpushq %rdx\n\tpushq %rsi\n\tpushq %rdi\n\t"
    "pushq %r8\n\tpushq %r9\n\tpushq %r10\n\tpushq %r11\n\t"
    "call guest_pv_irq_c\n\t"
    "popq %r11\n\tpopq %r10\n\tpopq %r9\n\tpopq %r8\n\tpopq %rdi\n\t"
    "popq %rsi\n\tpopq %rdx\n\tpopq %rcx\n\tpopq %rax\n\t"
    "iretq\n"
    ".popsection");

/*
 * @n self-IPIs through the xAPIC, each handled by guest_pv_irq_stub with
 * PV EOI on (if @n has bit 63 set: off). SYNC(irqs, skipped) around.
 */
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
