// SPDX-License-Identifier: GPL-2.0
/*
 * pvmsr.c - the KVM paravirtual MSRs: kvmclock, steal time, PV TLB flush
 * and PV EOI, as Linux's Documentation/virt/kvm/x86/msr.rst describes
 * them, so that a stock Linux guest uses them.
 *
 * Each MSR names a structure in guest RAM. Its GPA is kept as written and
 * resolved through the memory slots at every access (ept/slots.c), so a
 * slot that moves or goes away is never written through a stale mapping:
 * the new RAM at that GPA gets the next update, and a GPA that is no
 * longer RAM is skipped. A GPA must be aligned as msr.rst says, lie in
 * one page and not in the APIC page; which bad values raise #GP and which
 * are accepted and ignored follows KVM (see msr_ok()). An MSR whose
 * feature the guest's CPUID leaf 0x40000101 does not offer raises #GP.
 *
 * Guest memory is written in process context with hvx_gpa_write() where
 * possible. Two places cannot sleep: the preempt notifier that marks a
 * scheduled-out vCPU preempted, and the PV EOI flag, set when an
 * interrupt is injected (preemption off); both write with
 * copy_to_user_nofault() and give up if the page is not present.
 *
 * kvmclock. The vCPU's TSC is the host's plus the VMCS TSC offset (no
 * scaling, vmx/msr.c), so the guest converts with the host's tsc_khz.
 * system_time is the host's CLOCK_BOOTTIME in nanoseconds. Where the
 * host's TSC is stable (constant, non-stop, the clocksource, not marked
 * unstable) every vCPU of every VM is given the same line: one pair of
 * (host TSC, boot time) taken at the first use, and PVCLOCK_TSC_STABLE_BIT.
 * Time is then monotonic across vCPUs and host CPUs with no update after
 * the first, except when the vCPU's TSC offset changes. Elsewhere each
 * update pairs the TSC of the CPU the vCPU is on with the boot time read
 * there, the flag is clear (the guest keeps its own cross-CPU maximum),
 * and a move to another host CPU requests an update.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/sched/stat.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/cpufeature.h>
#include <asm/pvclock-abi.h>
#include <asm/tsc.h>
#include <uapi/asm/kvm_para.h>

#include "vmx.h"

/* The uapi's feature bits are KVM's. */
static_assert(HVX_KVM_FEATURE_CLOCKSOURCE2 == KVM_FEATURE_CLOCKSOURCE2);
static_assert(HVX_KVM_FEATURE_STEAL_TIME == KVM_FEATURE_STEAL_TIME);
static_assert(HVX_KVM_FEATURE_PV_EOI == KVM_FEATURE_PV_EOI);
static_assert(HVX_KVM_FEATURE_PV_TLB_FLUSH == KVM_FEATURE_PV_TLB_FLUSH);
static_assert(HVX_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT ==
	      KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
static_assert(sizeof(struct pvclock_vcpu_time_info) == 32);
static_assert(sizeof(struct kvm_steal_time) == 64);

/* PV EOI MSR: bit 0 enables, bit 1 reserved, bits 63:2 the GPA (4 bytes). */
#define PV_EOI_RESERVED		BIT_ULL(1)

/*
 * The line every stable-TSC kvmclock uses: host TSC @tsc at boot time
 * @ns. Taken once, under the lock; read without it once @valid is set
 * (smp_store_release()).
 */
static struct {
	u64 tsc, ns;
	bool valid;
} pv_master;
static DEFINE_SPINLOCK(pv_master_lock);

/**
 * hvx_vmx_pv_msr - is @index one of the paravirtual MSRs of this file?
 * @index: MSR number.
 *
 * Return: true for MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW,
 * MSR_KVM_STEAL_TIME and MSR_KVM_PV_EOI_EN.
 */
bool hvx_vmx_pv_msr(u32 index)
{
	return index == MSR_KVM_WALL_CLOCK_NEW ||
	       index == MSR_KVM_SYSTEM_TIME_NEW ||
	       index == MSR_KVM_STEAL_TIME || index == MSR_KVM_PV_EOI_EN;
}

/*
 * Does the guest's CPUID offer KVM feature @bit? cpuid.c keeps
 * pv_features in step with the table: leaf 0x40000101 EAX, when leaf
 * 0x40000100 has KVM's signature; none with HVX_VM_NO_PV.
 */
static bool pv_has(struct hvx_vmx_vcpu *v, unsigned int bit)
{
	return READ_ONCE(v->pv_features) & BIT(bit);
}

static bool msr_offered(struct hvx_vmx_vcpu *v, u32 index)
{
	switch (index) {
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_SYSTEM_TIME_NEW:
		return pv_has(v, KVM_FEATURE_CLOCKSOURCE2);
	case MSR_KVM_STEAL_TIME:
		return pv_has(v, KVM_FEATURE_STEAL_TIME);
	default:
		return pv_has(v, KVM_FEATURE_PV_EOI);
	}
}

/*
 * May [@gpa, @gpa + @len) hold a structure: aligned to @align, in one
 * page, and not in the APIC page (where guest accesses never reach RAM)?
 * Whether it is RAM is found out at each access.
 */
static bool pv_gpa_ok(struct hvx_vmx_vcpu *v, u64 gpa, unsigned int len,
		      unsigned int align)
{
	u64 page = gpa & PAGE_MASK;

	if (!IS_ALIGNED(gpa, align) || offset_in_page(gpa) + len > PAGE_SIZE)
		return false;
	if (page == APIC_DEFAULT_PHYS_BASE)
		return false;
	return !v->apic_ops ||
	       page != (v->msr.apic_base & MSR_IA32_APICBASE_BASE);
}

/* Is @gpa (@len bytes, one page) guest RAM? Process context. */
static bool pv_gpa_ram(struct hvx_vmx_vcpu *v, u64 gpa, unsigned int len)
{
	u8 buf[4];

	return !hvx_gpa_read(v->mem, gpa, buf, min_t(unsigned int, len,
						     sizeof(buf)));
}

/*
 * Read (@write false) or write @len bytes at @gpa from a context that
 * cannot sleep. Return: 0, or -EFAULT (not RAM now, slot being changed,
 * page not present: it would need a page fault).
 */
static int pv_access_atomic(struct hvx_vmx_vcpu *v, u64 gpa, void *buf,
			    unsigned int len, bool write)
{
	struct hvx_mem *mem = v->mem;
	void __user *p;
	int idx, ret = -EFAULT;

	if (current->mm != mem->mm)
		return -EFAULT;
	idx = srcu_read_lock(&mem->srcu);
	if (!hvx_gpa_uaddr(mem, gpa, len, write, &p) &&
	    !(write ? copy_to_user_nofault(p, buf, len) :
		      copy_from_user_nofault(buf, p, len))) {
		if (write)
			hvx_gpa_mark_dirty(mem, gpa);
		ret = 0;
	}
	srcu_read_unlock(&mem->srcu, idx);
	return ret;
}

static int pv_write_atomic(struct hvx_vmx_vcpu *v, u64 gpa, const void *buf,
			   unsigned int len)
{
	return pv_access_atomic(v, gpa, (void *)buf, len, true);
}

/*
 * Exchange the byte at @gpa for 0 and return the old value in *@old, in
 * one locked instruction (another vCPU may set bits in it at the same
 * time). Process context. Return: 0 or -EFAULT.
 */
static int pv_xchg_zero_u8(struct hvx_vmx_vcpu *v, u64 gpa, u8 *old)
{
	struct hvx_mem *mem = v->mem;
	u8 __user *p;
	int idx, ret;
	u8 cur;

	if (current->mm != mem->mm)
		return -EFAULT;
	for (;;) {
		idx = srcu_read_lock(&mem->srcu);
		ret = hvx_gpa_uaddr(mem, gpa, 1, true, (void __user **)&p);
		if (ret != -EAGAIN)
			break;
		srcu_read_unlock(&mem->srcu, idx);
		hvx_mem_wait(mem);
	}
	if (ret || get_user(cur, p)) {
		ret = -EFAULT;
		goto out;
	}
	/* 1: another writer changed the byte; @cur holds its new value. */
	do {
		ret = __try_cmpxchg_user(p, &cur, 0, xchg_fault);
	} while (ret == 1);
	if (!ret) {
		hvx_gpa_mark_dirty(mem, gpa);
		*old = cur;
	}
out:
	srcu_read_unlock(&mem->srcu, idx);
	return ret ? -EFAULT : 0;
}

/*
 * Is the host's TSC one clock for all CPUs that the kernel's own time
 * follows? Constant rate, running in deep C-states, not found unstable,
 * and the current clocksource: its last reading in a snapshot lies
 * between two RDTSCs around it (another clocksource counts in other
 * units). Interrupts off.
 */
static bool host_tsc_stable(void)
{
	struct system_time_snapshot snap;
	u64 before, after;

	if (!boot_cpu_has(X86_FEATURE_CONSTANT_TSC) ||
	    !boot_cpu_has(X86_FEATURE_NONSTOP_TSC) || check_tsc_unstable() ||
	    !tsc_khz)
		return false;
	before = rdtsc_ordered();
	hvx_ktime_get_snapshot(&snap);
	after = rdtsc_ordered();
	return snap.cycles >= before && snap.cycles <= after;
}

/*
 * The pair (host TSC, boot time in ns) the next kvmclock update publishes.
 * Return: true if it is the shared stable line (pv_master).
 */
static bool pv_clock_pair(u64 *tsc, u64 *ns)
{
	unsigned long flags;
	bool stable;

	local_irq_save(flags);
	stable = host_tsc_stable();
	/* Pairs with the release below: a set @valid means @tsc, @ns are. */
	if (stable && !smp_load_acquire(&pv_master.valid)) {
		spin_lock(&pv_master_lock);
		if (!pv_master.valid) {
			/* Half-way between two reads: error below their gap. */
			u64 t0 = rdtsc_ordered();

			pv_master.ns = ktime_get_boottime_ns();
			pv_master.tsc = t0 + (rdtsc_ordered() - t0) / 2;
			/* @tsc and @ns are visible before @valid. */
			smp_store_release(&pv_master.valid, true);
		}
		spin_unlock(&pv_master_lock);
	}
	if (stable) {
		*tsc = pv_master.tsc;
		*ns = pv_master.ns;
	} else {
		*tsc = rdtsc_ordered();
		*ns = ktime_get_boottime_ns();
	}
	local_irq_restore(flags);
	return stable;
}

/*
 * tsc_to_system_mul and tsc_shift for the host's TSC frequency: ns =
 * ((cycles << shift, or >> -shift) * mul) >> 32. The shift is the
 * smallest that brings the shifted frequency above 1 GHz, so mul (below
 * 2^32) keeps 31 significant bits.
 */
static void pv_clock_scale(u32 *mul, s8 *shift)
{
	u64 hz = (u64)tsc_khz * 1000;
	int s = 0;

	while (hz > 2 * NSEC_PER_SEC && s > -31) {
		hz >>= 1;
		s--;
	}
	while (hz <= NSEC_PER_SEC && s < 31) {
		hz <<= 1;
		s++;
	}
	*mul = div64_u64((u64)NSEC_PER_SEC << 32, hz);
	*shift = s;
}

/* Nanoseconds of kvmclock for host TSC @tsc on the line (@tsc0, @ns0). */
static u64 pv_clock_at(u64 tsc, u64 tsc0, u64 ns0)
{
	u64 delta = tsc - tsc0;
	u32 mul;
	s8 shift;

	pv_clock_scale(&mul, &shift);
	if (shift >= 0)
		delta <<= shift;
	else
		delta >>= -shift;
	return ns0 + mul_u64_u32_shr(delta, mul, 32);
}

/*
 * Write a structure that starts with a u32 version: odd first, then the
 * body, then the next even value (msr.rst). @len includes the version.
 */
static void pv_write_versioned(struct hvx_vmx_vcpu *v, u64 gpa, void *obj,
			       unsigned int len)
{
	u32 ver, *objver = obj;

	if (hvx_gpa_read(v->mem, gpa, &ver, sizeof(ver)))
		return;
	ver = (ver + 1) | 1;
	if (hvx_gpa_write(v->mem, gpa, &ver, sizeof(ver)))
		return;
	*objver = ver;		/* still odd while the body lands */
	if (hvx_gpa_write(v->mem, gpa + sizeof(ver), (u8 *)obj + sizeof(ver),
			  len - sizeof(ver)))
		return;
	ver++;
	hvx_gpa_write(v->mem, gpa, &ver, sizeof(ver));
}

/* Rewrite the vCPU's pvclock_vcpu_time_info (process context). */
static void pv_clock_update(struct hvx_vmx_vcpu *v)
{
	struct pvclock_vcpu_time_info ti = {};
	u64 gpa = v->pv.system_time & ~(u64)KVM_MSR_ENABLED;
	u64 tsc, ns;
	bool stable;

	if (!(v->pv.system_time & KVM_MSR_ENABLED) ||
	    !pv_gpa_ok(v, gpa, sizeof(ti), 4))
		return;
	stable = pv_clock_pair(&tsc, &ns);
	v->pv.clock_cpu = raw_smp_processor_id() + 1;
	ti.tsc_timestamp = tsc + v->msr.tsc_offset;
	ti.system_time = ns + READ_ONCE(v->vm->clock_offset);
	pv_clock_scale(&ti.tsc_to_system_mul, &ti.tsc_shift);
	ti.flags = stable ? PVCLOCK_TSC_STABLE_BIT : 0;
	pv_write_versioned(v, gpa, &ti, sizeof(ti));
}

/* The host's kvmclock time now, and CLOCK_REALTIME at the same moment. */
static u64 pv_host_now(u64 *realtime)
{
	unsigned long flags;
	u64 tsc0, ns0, now;

	pv_clock_pair(&tsc0, &ns0);
	local_irq_save(flags);
	now = pv_clock_at(rdtsc_ordered(), tsc0, ns0);
	*realtime = ktime_get_real_ns();
	local_irq_restore(flags);
	return now;
}

/**
 * hvx_vmx_vm_get_clock - the VM's kvmclock now (HVX_GET_CLOCK)
 * @vm: the VM's VMX state.
 * @realtime: set to the host's CLOCK_REALTIME, in nanoseconds, read at the
 *	same moment.
 *
 * Context: any, except NMI.
 * Return: what the VM's kvmclock reads now, in nanoseconds.
 */
u64 hvx_vmx_vm_get_clock(struct hvx_vmx_vm *vm, u64 *realtime)
{
	return pv_host_now(realtime) + READ_ONCE(vm->clock_offset);
}

/* Fill the pvclock_wall_clock at the GPA written (process context). */
static void pv_wall_clock(struct hvx_vmx_vcpu *v, u64 gpa)
{
	struct pvclock_wall_clock wc = {};
	u64 now, real;
	u32 rem;

	if (!pv_gpa_ok(v, gpa, sizeof(wc), 4))
		return;
	/* Wall time when kvmclock read 0: now minus kvmclock now. */
	now = hvx_vmx_vm_get_clock(v->vm, &real);
	real -= now;
	wc.sec = div_u64_rem(real, NSEC_PER_SEC, &rem);
	wc.nsec = rem;
	pv_write_versioned(v, gpa, &wc, sizeof(wc));
}

/*
 * Steal time: add what the thread waited runnable since the last update,
 * and take back the preempted byte, with the TLB flush another vCPU may
 * have asked for there (process context).
 */
static void pv_steal_update(struct hvx_vmx_vcpu *v)
{
	u64 gpa = v->pv.steal & KVM_STEAL_VALID_BITS, delay = 0;
	u64 ver_gpa = gpa + offsetof(struct kvm_steal_time, version);
	struct { u64 steal; u32 version; } st;
	u8 preempted = 0;

	if (!(v->pv.steal & KVM_MSR_ENABLED) ||
	    !pv_gpa_ok(v, gpa, sizeof(struct kvm_steal_time), 64))
		return;
	if (!pv_xchg_zero_u8(v, gpa + offsetof(struct kvm_steal_time, preempted),
			     &preempted)) {
		v->pv.preempted = false;
		if ((preempted & KVM_VCPU_FLUSH_TLB) &&
		    pv_has(v, KVM_FEATURE_PV_TLB_FLUSH))
			v->flush_tlb = true;	/* hvx_vmx_run(), before entry */
	}
#ifdef CONFIG_SCHED_INFO
	delay = current->sched_info.run_delay;
#endif
	if (!v->pv.steal_started) {
		v->pv.last_run_delay = delay;
		v->pv.steal_started = true;
	}
	/* Odd version, steal, even version (msr.rst). */
	if (hvx_gpa_read(v->mem, gpa, &st, sizeof(st)))
		return;
	st.version = (st.version + 1) | 1;
	if (hvx_gpa_write(v->mem, ver_gpa, &st.version, sizeof(st.version)))
		return;
	st.steal += delay - v->pv.last_run_delay;
	v->pv.last_run_delay = delay;
	hvx_gpa_write(v->mem, gpa, &st.steal, sizeof(st.steal));
	st.version++;
	hvx_gpa_write(v->mem, ver_gpa, &st.version, sizeof(st.version));
}

/**
 * hvx_vmx_pv_requests - do the paravirtual work requested for a vCPU
 * @v: the vCPU; its own thread, before an entry.
 *
 * Handles HVX_REQ_PV_CLOCK and HVX_REQ_PV_STEAL (see hvx_vmx_pv_load()).
 * Context: process context, preemptible (writes guest memory).
 */
void hvx_vmx_pv_requests(struct hvx_vmx_vcpu *v)
{
	if (test_and_clear_bit(HVX_REQ_PV_STEAL, &v->requests))
		pv_steal_update(v);
	if (test_and_clear_bit(HVX_REQ_PV_CLOCK, &v->requests))
		pv_clock_update(v);
}

/**
 * hvx_vmx_pv_load - the vCPU's thread runs (again) on host CPU @cpu
 * @v: the vCPU.
 * @cpu: the CPU.
 *
 * Called when HVX_RUN starts and from the preempt notifier's sched_in:
 * requests a steal-time update, and a kvmclock update when the vCPU's
 * time info is not on the stable line and was written on another CPU.
 * Context: any; sets request bits only.
 */
void hvx_vmx_pv_load(struct hvx_vmx_vcpu *v, int cpu)
{
	if (v->pv.steal & KVM_MSR_ENABLED)
		set_bit(HVX_REQ_PV_STEAL, &v->requests);
	if ((v->pv.system_time & KVM_MSR_ENABLED) &&
	    v->pv.clock_cpu != cpu + 1 && !READ_ONCE(pv_master.valid))
		set_bit(HVX_REQ_PV_CLOCK, &v->requests);
}

/**
 * hvx_vmx_pv_sched_out - the vCPU's thread is being scheduled out
 * @v: the vCPU, inside HVX_RUN.
 *
 * When the thread was preempted (it stays runnable) and steal time is on,
 * sets the preempted byte, so that other vCPUs ask for a TLB flush there
 * instead of sending an IPI (msr.rst, struct kvm_steal_time). Not when it
 * sleeps (HLT): the guest knows that vCPU is idle.
 * Context: the scheduler, interrupts off; does not sleep or fault.
 */
void hvx_vmx_pv_sched_out(struct hvx_vmx_vcpu *v)
{
	u8 val = KVM_VCPU_PREEMPTED;
	u64 gpa = (v->pv.steal & KVM_STEAL_VALID_BITS) +
		  offsetof(struct kvm_steal_time, preempted);

	if (!(v->pv.steal & KVM_MSR_ENABLED) || v->pv.preempted ||
	    !READ_ONCE(current->on_rq) ||
	    !pv_gpa_ok(v, gpa & ~63ULL, sizeof(struct kvm_steal_time), 64))
		return;
	/* Set once: a second write would drop a FLUSH_TLB bit set since. */
	if (!pv_write_atomic(v, gpa, &val, 1))
		v->pv.preempted = true;
}

/**
 * hvx_vmx_pv_tsc_changed - the vCPU's TSC offset changed
 * @v: the vCPU.
 *
 * tsc_timestamp in the kvmclock page is in guest TSC cycles: rewrite it
 * before the next entry.
 */
void hvx_vmx_pv_tsc_changed(struct hvx_vmx_vcpu *v)
{
	if (v->pv.system_time & KVM_MSR_ENABLED)
		set_bit(HVX_REQ_PV_CLOCK, &v->requests);
}

/**
 * hvx_vmx_vm_set_clock - make the VM's kvmclock read @clock now
 * (HVX_SET_CLOCK)
 * @vm: the VM's VMX state.
 * @clock: nanoseconds.
 * @saved_realtime: NULL, or the host CLOCK_REALTIME (ns) when @clock was
 *	read: the real time since then, if positive, is added to @clock.
 *
 * Only the offset changes here; the caller has each vCPU rewrite its
 * kvmclock page (hvx_vmx_pv_tsc_changed(), then a kick). The arithmetic is
 * modulo 2^64, as the guest's is, so a clock behind the host's (a host that
 * rebooted since the VM was saved) works too.
 * Context: process context; the caller serialises setters (kmod/: the VM
 * lock).
 */
void hvx_vmx_vm_set_clock(struct hvx_vmx_vm *vm, u64 clock,
			  const u64 *saved_realtime)
{
	u64 realtime, now = pv_host_now(&realtime);

	if (saved_realtime && (s64)(realtime - *saved_realtime) > 0)
		clock += realtime - *saved_realtime;
	WRITE_ONCE(vm->clock_offset, (s64)(clock - now));
}

/**
 * hvx_vmx_pv_reset - INIT: every paravirtual MSR is disabled again
 * @v: the vCPU; its own thread.
 *
 * As KVM: the guest registers its structures again after INIT. An
 * offered PV EOI is dropped with the local APIC's reset.
 */
void hvx_vmx_pv_reset(struct hvx_vmx_vcpu *v)
{
	memset(&v->pv, 0, sizeof(v->pv));
	clear_bit(HVX_REQ_PV_CLOCK, &v->requests);
	clear_bit(HVX_REQ_PV_STEAL, &v->requests);
}

/**
 * hvx_vmx_pv_eoi_offer - let the guest EOI the injected interrupt in memory
 * @v: the vCPU; its own thread.
 * @offer: true when the in-kernel LAPIC injected an interrupt whose EOI
 *	needs nothing but its ISR bit cleared (edge-triggered, so no EOI to
 *	the I/O APIC; the highest in service; no other request waiting);
 *	false when that stopped being true (an EOI write, a request in IRR,
 *	a reset): the flag is taken back.
 *
 * Sets or clears bit 0 of the guest's PV EOI word (MSR_KVM_PV_EOI_EN).
 * With the bit set, a Linux guest clears it instead of writing the EOI
 * register, and hvx_vmx_pv_eoi_check() finds that at the next exit. A
 * failed write leaves things as they were, which stays correct: a flag
 * that could not be set was never offered, one that could not be taken
 * back is still looked at after every exit.
 * Context: the vCPU's thread, may have preemption off; does not sleep.
 */
void hvx_vmx_pv_eoi_offer(struct hvx_vmx_vcpu *v, bool offer)
{
	u64 gpa = v->pv.eoi & ~(u64)(KVM_MSR_ENABLED | PV_EOI_RESERVED);
	u8 val = offer;

	if (!offer && !v->pv.eoi_pending)
		return;
	if (offer && (!(v->pv.eoi & KVM_MSR_ENABLED) || v->pv.eoi_pending))
		return;
	if (!pv_gpa_ok(v, gpa, 4, 4) || pv_write_atomic(v, gpa, &val, 1))
		return;
	v->pv.eoi_pending = offer;
}

/*
 * Look at the PV EOI flag the guest was offered. @irqoff: the caller has
 * interrupts off (the exit fast path) and cannot take a fault; a flag
 * that cannot be read then is left for the caller's slow path. Return:
 * false only for that, true when the flag was dealt with.
 */
static bool pv_eoi_sync(struct hvx_vmx_vcpu *v, bool irqoff)
{
	u64 gpa = v->pv.eoi & ~(u64)(KVM_MSR_ENABLED | PV_EOI_RESERVED);
	u8 flag;

	if (irqoff ? pv_access_atomic(v, gpa, &flag, 1, false) :
		     hvx_gpa_read(v->mem, gpa, &flag, 1)) {
		if (irqoff)
			return false;
		v->pv.eoi_pending = false;	/* not RAM now: no EOI seen */
		return true;
	}
	if (flag & KVM_PV_EOI_ENABLED)
		return true;
	v->pv.eoi_pending = false;
	if (v->apic_ops && v->apic_ops->pv_eoi)
		v->apic_ops->pv_eoi(v);
	return true;
}

/**
 * hvx_vmx_pv_eoi_check - after an exit: did the guest take the PV EOI?
 * @v: the vCPU, with pv.eoi_pending set; its own thread.
 *
 * If the guest cleared the flag, the interrupt's EOI is done here
 * (struct hvx_vmx_apic_ops.pv_eoi), as if the guest had written the EOI
 * register, without that write's exit. Otherwise the offer stands.
 * Context: process context, after the exit, before any event is
 * evaluated or the APIC is read.
 */
void hvx_vmx_pv_eoi_check(struct hvx_vmx_vcpu *v)
{
	pv_eoi_sync(v, false);
}

/**
 * hvx_vmx_pv_eoi_check_irqoff - hvx_vmx_pv_eoi_check() in the fast path
 * @v: the vCPU, with pv.eoi_pending set; its own thread.
 *
 * The exit fast path evaluates and injects events and writes the APIC
 * between entries; each of those needs the PV EOI the guest may have
 * taken since the last entry to be seen first, or the vector it retired
 * stays in service (a new injection lands above it and takes its EOI,
 * or the offer is withdrawn and the guest's EOI is forgotten).
 * Context: interrupts off, the guest's state loaded; does not sleep.
 * Return: true if done; false if the flag could not be read without a
 * fault, and the exit must take the slow path (which checks again).
 */
bool hvx_vmx_pv_eoi_check_irqoff(struct hvx_vmx_vcpu *v)
{
	return pv_eoi_sync(v, true);
}

/*
 * Is bit 0 of the PV EOI word at the (new) GPA set? Such a flag stands
 * as an offer. That matters for a restored vCPU: it was saved inside an
 * interrupt handler, with the offer out and the vector in service, and
 * came back with that ISR bit (HVX_SET_LAPIC) and that memory, but with
 * no offer on record; its handler's clearing the flag must still retire
 * the vector, or that priority class stays blocked for good. A guest
 * enabling PV EOI clears the word first (Linux does); one that leaves
 * the bit set gets an EOI when it clears it, which it could write anyway.
 */
static bool pv_eoi_flag_set(struct hvx_vmx_vcpu *v)
{
	u64 gpa = v->pv.eoi & ~(u64)(KVM_MSR_ENABLED | PV_EOI_RESERVED);
	u8 flag;

	if (!(v->pv.eoi & KVM_MSR_ENABLED) || hvx_gpa_read(v->mem, gpa, &flag, 1))
		return false;
	return flag & KVM_PV_EOI_ENABLED;
}

/**
 * hvx_vmx_pv_msr_read - RDMSR or HVX_GET_MSRS of a paravirtual MSR
 * @v: the vCPU.
 * @index: an MSR hvx_vmx_pv_msr() accepts.
 * @val: output: the value last written.
 *
 * Return: 0, or -EINVAL (#GP) when the guest's CPUID does not offer it.
 */
int hvx_vmx_pv_msr_read(struct hvx_vmx_vcpu *v, u32 index, u64 *val)
{
	if (!msr_offered(v, index))
		return -EINVAL;
	switch (index) {
	case MSR_KVM_WALL_CLOCK_NEW:
		*val = v->pv.wall_clock;
		break;
	case MSR_KVM_SYSTEM_TIME_NEW:
		*val = v->pv.system_time;
		break;
	case MSR_KVM_STEAL_TIME:
		*val = v->pv.steal;
		break;
	default:
		*val = v->pv.eoi;
		break;
	}
	return 0;
}

/**
 * hvx_vmx_pv_msr_ok - would WRMSR of @val to a paravirtual MSR succeed?
 * @v: the vCPU.
 * @index: an MSR hvx_vmx_pv_msr() accepts.
 * @val: the value.
 *
 * As KVM: the feature must be offered; steal time refuses reserved bits
 * 5:1 (and hosts without run-delay accounting); PV EOI refuses bit 1 and,
 * when enabling, a GPA that is not RAM (or is the APIC page). kvmclock
 * and steal-time GPAs that are not usable are accepted and ignored.
 * Context: process context (may read guest memory).
 * Return: true if accepted.
 */
bool hvx_vmx_pv_msr_ok(struct hvx_vmx_vcpu *v, u32 index, u64 val)
{
	u64 gpa;

	if (!msr_offered(v, index))
		return false;
	switch (index) {
	case MSR_KVM_STEAL_TIME:
		if (!IS_ENABLED(CONFIG_SCHED_INFO) || !sched_info_on())
			return false;
		return !(val & KVM_STEAL_RESERVED_MASK);
	case MSR_KVM_PV_EOI_EN:
		if (val & PV_EOI_RESERVED)
			return false;
		if (!(val & KVM_MSR_ENABLED))
			return true;
		gpa = val & ~(u64)KVM_MSR_ENABLED;
		return pv_gpa_ok(v, gpa, 4, 4) && pv_gpa_ram(v, gpa, 4);
	default:
		return true;
	}
}

/**
 * hvx_vmx_pv_msr_write - WRMSR or HVX_SET_MSRS of a paravirtual MSR
 * @v: the vCPU.
 * @index: an MSR hvx_vmx_pv_msr() accepts.
 * @val: a value hvx_vmx_pv_msr_ok() accepted.
 *
 * The wall clock is written at once; kvmclock and steal time are
 * (re)started by request bits before the next entry. Disabling stops all
 * writes to the old GPA.
 * Context: process context of the VM owner (the vCPU's thread, or the
 * VMM's HVX_SET_MSRS while the vCPU does not run).
 */
void hvx_vmx_pv_msr_write(struct hvx_vmx_vcpu *v, u32 index, u64 val)
{
	switch (index) {
	case MSR_KVM_WALL_CLOCK_NEW:
		v->pv.wall_clock = val;
		pv_wall_clock(v, val);
		break;
	case MSR_KVM_SYSTEM_TIME_NEW:
		v->pv.system_time = val;
		v->pv.clock_cpu = 0;
		if (val & KVM_MSR_ENABLED)
			set_bit(HVX_REQ_PV_CLOCK, &v->requests);
		else
			clear_bit(HVX_REQ_PV_CLOCK, &v->requests);
		break;
	case MSR_KVM_STEAL_TIME:
		v->pv.steal = val;
		v->pv.steal_started = false;
		v->pv.preempted = false;
		if (val & KVM_MSR_ENABLED)
			set_bit(HVX_REQ_PV_STEAL, &v->requests);
		else
			clear_bit(HVX_REQ_PV_STEAL, &v->requests);
		break;
	default:
		/* A flag offered at the old GPA is void: the guest EOIs itself. */
		if (v->pv.eoi_pending)
			hvx_vmx_pv_eoi_offer(v, false);
		v->pv.eoi = val;
		v->pv.eoi_pending = pv_eoi_flag_set(v);
		break;
	}
}
