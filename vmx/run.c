// SPDX-License-Identifier: GPL-2.0
/*
 * run.c - the per-run level of the run loop.
 *
 * A VM exit loads only part of the host's state from the VMCS (SDM Vol. 3C
 * 28.5): DS, ES, FS, GS and LDTR come back as null selectors, the GDTR
 * limit as 0xFFFF, the TR limit as 0x67, IA32_DEBUGCTL as 0, and MSRs the
 * guest uses without exits (IA32_KERNEL_GS_BASE, STAR, LSTAR, SFMASK,
 * IA32_TSC_AUX) keep the guest's values. None of that matters to kernel
 * code, which runs with GS from HOST_GS_BASE and never looks at the
 * others. It matters to the thread's user mode and to the next task on
 * the CPU. So, as KVM does (vmx_prepare_switch_to_guest/host, user-return
 * MSRs, the guest fpstate), hvx switches that state once per run:
 *
 * - hvx_vmx_vcpu_load() when HVX_RUN starts: the guest's FPU becomes the
 *   thread's FPU state (HVX_GUEST_FPSTATE), and a preempt notifier is
 *   registered;
 * - hvx_vmx_run_prepare() before the first entry of the run, and again
 *   after the thread was scheduled out: saves the host's segments, FS
 *   base, KERNEL_GS_BASE and DEBUGCTL, loads the guest's KERNEL_GS_BASE
 *   and user-return MSRs; writes HOST_FS_BASE only if it changed;
 * - put (when HVX_RUN ends, and from the preempt notifier when the thread
 *   is scheduled out): gives back segments, KERNEL_GS_BASE, the GDT limit
 *   (load_fixmap_gdt(), one LGDT) and the TSS limit.
 *
 * STAR, LSTAR, SFMASK and TSC_AUX are not given back by the put of a
 * thread scheduled out inside a run: the kernel does not use them before
 * the next return to user mode, so the preempt notifier registers a
 * per-CPU user-return notifier that restores the host's values then,
 * whichever task returns (the kernel moves the notification to the next
 * task on a context switch). A vCPU that runs again on the same CPU first
 * finds its own values still loaded, and pays no WRMSR. At the end of a
 * run they are written back at once: HVX_RUN returns to user mode next,
 * so waiting saves no WRMSR, and the notifier would cost a registration
 * and a call on every exit to userspace.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/user-return-notifier.h>
#include <asm/desc.h>
#include <asm/debugreg.h>
#include <asm/fpu/api.h>
#include <asm/fsgsbase.h>
#include <asm/msr.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "vmx.h"

/* MSRs restored on the way back to user mode (user-return MSRs). */
enum hvx_uret_slot {
	HVX_URET_STAR,
	HVX_URET_LSTAR,
	HVX_URET_SFMASK,
	HVX_URET_TSC_AUX,	/* last: only where guests get RDTSCP/RDPID */
	HVX_URET_NR
};

static const u32 uret_msrs[HVX_URET_NR] = {
	[HVX_URET_STAR]		= MSR_STAR,
	[HVX_URET_LSTAR]	= MSR_LSTAR,
	[HVX_URET_SFMASK]	= MSR_SYSCALL_MASK,
	[HVX_URET_TSC_AUX]	= MSR_TSC_AUX,
};

/*
 * Per CPU: the host's values (read on the CPU's first use, when hvx has
 * changed none of them there) and what the CPU holds now. @registered:
 * the notifier is on this CPU's list, so some return to user mode will
 * restore @host. @dirty: the slots where @curr is not @host, so that the
 * restore on every return to user mode looks at those alone.
 */
struct hvx_uret {
#ifdef HVX_HAVE_USER_RETURN_NOTIFIER
	struct user_return_notifier urn;
#endif
	bool registered, host_read;
	u8 dirty;
	u64 host[HVX_URET_NR];
	u64 curr[HVX_URET_NR];
};

static DEFINE_PER_CPU(struct hvx_uret, hvx_uret);

/**
 * hvx_vmx_tsc_aux_ok - do guests get RDTSCP/RDPID with their own TSC_AUX?
 *
 * Return: true if the "enable RDTSCP" control is in use (vmx.c enables it
 * only where the host has RDTSCP or RDPID, so IA32_TSC_AUX exists).
 */
bool hvx_vmx_tsc_aux_ok(void)
{
	return hvx_caps.proc2 & SECONDARY_EXEC_ENABLE_RDTSCP;
}

static unsigned int uret_nr(void)
{
	return hvx_vmx_tsc_aux_ok() ? HVX_URET_NR : HVX_URET_TSC_AUX;
}

/* Write back the host's values this CPU does not hold. IRQs off. */
static void uret_restore(struct hvx_uret *u)
{
	unsigned int i;

	while (u->dirty) {
		i = __ffs(u->dirty);
		wrmsrq(uret_msrs[i], u->host[i]);
		u->curr[i] = u->host[i];
		u->dirty &= ~BIT(i);
	}
}

#ifdef HVX_HAVE_USER_RETURN_NOTIFIER
/* Runs on the way to user mode, interrupts off, on the CPU it is for. */
static void uret_on_user_return(struct user_return_notifier *urn)
{
	struct hvx_uret *u = container_of(urn, struct hvx_uret, urn);

	if (u->registered) {
		u->registered = false;
		user_return_notifier_unregister(urn);
	}
	uret_restore(u);
}

static void uret_register(struct hvx_uret *u)
{
	if (u->registered)
		return;
	u->urn.on_user_return = uret_on_user_return;
	user_return_notifier_register(&u->urn);
	u->registered = true;
}
#else
/* No notifiers: put restores the host's values at the end of each run. */
static void uret_register(struct hvx_uret *u) { }
#endif

/* This CPU's user-return MSRs, the host's read on first use. IRQs off. */
static struct hvx_uret *uret_this_cpu(void)
{
	struct hvx_uret *u = this_cpu_ptr(&hvx_uret);
	unsigned int i;

	if (unlikely(!u->host_read)) {
		for (i = 0; i < uret_nr(); i++) {
			rdmsrq(uret_msrs[i], u->host[i]);
			u->curr[i] = u->host[i];
		}
		u->host_read = true;
	}
	return u;
}

/*
 * Make this CPU (@u, from uret_this_cpu()) hold @val in @slot. Inline: a
 * vCPU that runs again on the same CPU pays a compare per MSR.
 */
static __always_inline void uret_load(struct hvx_uret *u, unsigned int slot,
				      u64 val)
{
	if (likely(val == u->curr[slot]))
		return;
	wrmsrq(uret_msrs[slot], val);
	u->curr[slot] = val;
	if (val == u->host[slot]) {
		u->dirty &= ~BIT(slot);
		return;
	}
	u->dirty |= BIT(slot);
#ifndef HVX_HAVE_PREEMPT_NOTIFIERS
	/* No sched_out to register it: the thread may be switched out now. */
	uret_register(u);
#endif
}

#ifdef HVX_HAVE_PREEMPT_NOTIFIERS
/*
 * The thread is scheduled out inside a run (interrupts off): if this CPU
 * holds guest values, the next return to user mode on it restores them.
 */
static void uret_defer(void)
{
	struct hvx_uret *u = this_cpu_ptr(&hvx_uret);

	if (u->dirty)
		uret_register(u);
}
#endif

/*
 * The run ends and HVX_RUN returns to user mode: the host's values back
 * now, on this CPU (the one the run last loaded them on; a CPU the
 * thread left has the notifier registered by uret_defer()). Preemption
 * off. Without user-return notifiers, put restored them already.
 */
static void uret_put(void)
{
#ifdef HVX_HAVE_USER_RETURN_NOTIFIER
	struct hvx_uret *u = this_cpu_ptr(&hvx_uret);
	unsigned long flags;

	if (likely(!u->dirty))
		return;
	local_irq_save(flags);	/* against hvx_vmx_run_cpu_off() */
	uret_restore(u);
	local_irq_restore(flags);
#endif
}

/**
 * hvx_vmx_run_cpu_off - restore and forget this CPU's user-return MSRs
 *
 * Called where the CPU leaves VMX operation (last VM gone, CPU offline,
 * suspend, shutdown): no notifier of hvx stays on its list (the module
 * may go away next), and the host's values are read again when it next
 * runs a guest.
 * Context: interrupts off, on the CPU concerned.
 */
void hvx_vmx_run_cpu_off(void)
{
	struct hvx_uret *u = this_cpu_ptr(&hvx_uret);

#ifdef HVX_HAVE_USER_RETURN_NOTIFIER
	if (u->registered) {
		u->registered = false;
		user_return_notifier_unregister(&u->urn);
	}
#endif
	uret_restore(u);
	u->host_read = false;
}

/* SWAPGS is allowed: not under FRED, where it raises #UD (6.9 on). */
static __always_inline bool host_swapgs_ok(void)
{
#ifdef X86_FEATURE_FRED
	if (cpu_feature_enabled(X86_FEATURE_FRED))
		return false;
#endif
	return !cpu_feature_enabled(X86_FEATURE_XENPV);
}

/*
 * IA32_KERNEL_GS_BASE (user mode's GS base while the kernel runs, which
 * SWAPGS to user mode loads, or the guest's) is read and written as the
 * kernel itself does where it can (FSGSBASE, neither FRED nor Xen PV: its
 * __rdgsbase_inactive() and __wrgsbase_inactive(), behind
 * current_save_fsgs() and x86_gsbase_write_cpu_inactive(), which KVM's
 * vmx_prepare_switch_to_guest() uses): SWAPGS, RDGSBASE/WRGSBASE, SWAPGS,
 * with interrupts off. Neither is serializing, unlike RDMSR and WRMSR
 * (SDM Vol. 3A 9.3), so the per-run switch of a long-mode guest's value
 * costs no MSR access. An NMI, #DB or #MC between the SWAPGSes takes the
 * kernel's paranoid entry, which with FSGSBASE saves and sets GS base
 * itself whatever it holds. noinstr, and so out of kprobes' reach (as
 * the kernel's): nothing may trap between the SWAPGSes.
 */
static __always_inline bool kgs_fsgsbase(void)
{
	return static_cpu_has(X86_FEATURE_FSGSBASE) && host_swapgs_ok();
}

static noinline noinstr unsigned long kgs_read_fsgsbase(void)
{
	unsigned long base;

	asm volatile("swapgs\n\trdgsbase %0\n\tswapgs"
		     : "=r"(base) : : "memory");
	return base;
}

/* Load @val, return what was there; one SWAPGS pair for both. */
static noinline noinstr unsigned long kgs_xchg_fsgsbase(unsigned long val)
{
	unsigned long old;

	asm volatile("swapgs\n\trdgsbase %0\n\twrgsbase %1\n\tswapgs"
		     : "=&r"(old) : "r"(val) : "memory");
	return old;
}

static noinline noinstr void kgs_write_fsgsbase(unsigned long val)
{
	asm volatile("swapgs\n\twrgsbase %0\n\tswapgs"
		     : : "r"(val) : "memory");
}

/* The CPU's IA32_KERNEL_GS_BASE. Interrupts off. */
static __always_inline unsigned long kgs_read(void)
{
	unsigned long base;

	lockdep_assert_irqs_disabled();
	if (kgs_fsgsbase())
		return kgs_read_fsgsbase();
	rdmsrq(MSR_KERNEL_GS_BASE, base);
	return base;
}

/* Make the CPU's IA32_KERNEL_GS_BASE @val. Interrupts off. */
static __always_inline void kgs_write(unsigned long val)
{
	lockdep_assert_irqs_disabled();
	if (kgs_fsgsbase())
		kgs_write_fsgsbase(val);
	else
		wrmsrq(MSR_KERNEL_GS_BASE, val);
}

/* kgs_read(), then kgs_write() of @val. Interrupts off. */
static __always_inline unsigned long kgs_xchg(unsigned long val)
{
	unsigned long old;

	lockdep_assert_irqs_disabled();
	if (kgs_fsgsbase())
		return kgs_xchg_fsgsbase(val);
	rdmsrq(MSR_KERNEL_GS_BASE, old);
	wrmsrq(MSR_KERNEL_GS_BASE, val);
	return old;
}

/* The guest's KERNEL_GS_BASE and user-return MSRs, as it needs them. */
static void load_guest_msrs(struct hvx_vmx_vcpu *v)
{
	struct hvx_vmx_run_state *rs = &v->rs;
	bool sys = v->syscall_msrs;
	struct hvx_uret *u;

	rs->msrs_stale = false;
	/*
	 * KERNEL_GS_BASE is let through once syscall_msrs is set: from then
	 * on the CPU holds the guest's value, read back by put.
	 */
	if (sys && !rs->kgs_loaded) {
		kgs_write(v->msr.kernel_gs_base);
		rs->kgs_loaded = true;
	}
	/*
	 * A guest that never set up SYSCALL (no long mode) reads these
	 * through exits: the CPU may keep whatever it holds (the host's
	 * values, or another vCPU's), which SYSCALL outside 64-bit mode
	 * does not use on Intel CPUs.
	 */
	if (!sys && !hvx_vmx_tsc_aux_ok())
		return;
	u = uret_this_cpu();	/* one per-CPU lookup for all four */
	if (sys) {
		uret_load(u, HVX_URET_STAR, v->msr.star);
		uret_load(u, HVX_URET_LSTAR, v->msr.lstar);
		uret_load(u, HVX_URET_SFMASK, v->msr.sfmask);
	}
	if (hvx_vmx_tsc_aux_ok())
		uret_load(u, HVX_URET_TSC_AUX, v->msr.tsc_aux);
}

/**
 * hvx_vmx_kernel_gs_base - read or write the guest's IA32_KERNEL_GS_BASE
 * @v: the vCPU.
 * @write: write @val, else read.
 * @val: the value to write.
 *
 * While the CPU holds the guest's value (inside a run, since the last
 * time the thread was scheduled in) that is the one to use, not the copy
 * in @v, which put refreshes.
 * Context: the vCPU's thread, preemptible.
 * Return: the value read, or @val.
 */
u64 hvx_vmx_kernel_gs_base(struct hvx_vmx_vcpu *v, bool write, u64 val)
{
	preempt_disable();
	if (write) {
		v->msr.kernel_gs_base = val;
		if (v->rs.kgs_loaded)
			wrmsrq(MSR_KERNEL_GS_BASE, val);
	} else {
		if (v->rs.kgs_loaded)
			rdmsrq(MSR_KERNEL_GS_BASE, v->msr.kernel_gs_base);
		val = v->msr.kernel_gs_base;
	}
	preempt_enable();
	return val;
}

/**
 * hvx_vmx_run_prepare - switch the per-run state to the guest if needed
 * @v: the vCPU, about to be entered; its VMCS is current.
 *
 * Does nothing but two tests when the state is loaded already. Otherwise
 * (first entry of a run, or first after the thread was scheduled out)
 * saves what a VM exit does not restore, loads the guest's per-run MSRs,
 * and writes HOST_FS_BASE if the thread's FS base changed.
 * Context: interrupts off.
 */
void hvx_vmx_run_prepare(struct hvx_vmx_vcpu *v)
{
	struct hvx_vmx_run_state *rs = &v->rs;
	struct hvx_vmx_host_state *h = &rs->host;

	if (likely(rs->loaded)) {
		if (unlikely(rs->msrs_stale))
			load_guest_msrs(v);
		return;
	}
	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	asm volatile("sldt %0" : "=r"(h->ldt));
	h->fs_base = x86_fsbase_read_cpu();
	/* The host's KERNEL_GS_BASE, and the guest's in its place if used. */
	rs->kgs_loaded = v->syscall_msrs;
	if (rs->kgs_loaded)
		h->kernel_gs_base = kgs_xchg(v->msr.kernel_gs_base);
	else
		h->kernel_gs_base = kgs_read();
	h->debugctl = hvx_caps.debugctl ? get_debugctlmsr() : 0;
	/* The VMCS keeps the field across VMCLEAR and a move to another CPU. */
	if (!rs->host_fs_base_ok || rs->host_fs_base != h->fs_base) {
		vmcs_write(HOST_FS_BASE, h->fs_base);
		rs->host_fs_base = h->fs_base;
		rs->host_fs_base_ok = true;
	}
	load_guest_msrs(v);
	rs->loaded = true;
}

/**
 * hvx_vmx_host_cr - keep HOST_CR3 and HOST_CR4 right for this entry
 * @v: the vCPU, about to be entered; its VMCS is current.
 *
 * CR3 (its PCID bits) and CR4 can change between two entries of a run
 * without a context switch (TLB flushes, the kernel's temporary mm for
 * text patching, CR4 bits set by IPI), so both are compared before every
 * entry, and VMWRITEs happen only when they changed (as KVM).
 * Context: interrupts off.
 */
void hvx_vmx_host_cr(struct hvx_vmx_vcpu *v)
{
	struct hvx_vmx_run_state *rs = &v->rs;
	unsigned long cr3 = __read_cr3(), cr4 = cr4_read_shadow();

	if (unlikely(!rs->host_cr_ok || cr3 != rs->host_cr3)) {
		vmcs_write(HOST_CR3, cr3);
		rs->host_cr3 = cr3;
	}
	if (unlikely(!rs->host_cr_ok || cr4 != rs->host_cr4)) {
		vmcs_write(HOST_CR4, cr4);
		rs->host_cr4 = cr4;
	}
	rs->host_cr_ok = true;
}

/* Give the host back what VM exits took; no-op unless loaded. */
static void run_put_state(struct hvx_vmx_vcpu *v)
{
	struct hvx_vmx_run_state *rs = &v->rs;
	struct hvx_vmx_host_state *h = &rs->host;
	unsigned long flags;

	if (!rs->loaded)
		return;
	/*
	 * The guest writes it without exits (MSR bitmap): read it back and
	 * give the host its own, unless load_gs_index() below replaces it.
	 */
	if (rs->kgs_loaded) {
		local_irq_save(flags);
		if (h->gs)
			v->msr.kernel_gs_base = kgs_read();
		else
			v->msr.kernel_gs_base = kgs_xchg(h->kernel_gs_base);
		local_irq_restore(flags);
	}
	if (h->ldt)
		asm volatile("lldt %0" : : "r"(h->ldt));
	if (h->ds)
		loadsegment(ds, h->ds);
	if (h->es)
		loadsegment(es, h->es);
	if (h->fs) {
		/* Loading the selector loads the descriptor's base. */
		loadsegment(fs, h->fs);
		wrmsrq(MSR_FS_BASE, h->fs_base);
	}
	/* load_gs_index() replaces KERNEL_GS_BASE: restored after it. */
	if (h->gs)
		load_gs_index(h->gs);
	if (h->gs)
		wrmsrq(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	rs->kgs_loaded = false;
	/*
	 * A VM exit set the GDT limit to 0xFFFF and the TR limit to 0x67
	 * (SDM Vol. 3C 28.5.2). Kernel code does not care; user mode must
	 * not see the first, and the second hides the I/O bitmap: the
	 * kernel reloads TR before the next return to user mode of a task
	 * that has one.
	 */
	invalidate_tss_limit();
	load_fixmap_gdt(raw_smp_processor_id());
#ifndef HVX_HAVE_USER_RETURN_NOTIFIER
	uret_restore(this_cpu_ptr(&hvx_uret));
#endif
	rs->loaded = false;
}

/**
 * hvx_vmx_run_after_exit - per-exit part of the per-run level
 * @v: the vCPU that just exited.
 *
 * Restores IA32_DEBUGCTL, which the exit cleared, only if the host's
 * value is not zero (as KVM). Without preempt notifiers, nothing would
 * give the host its state back before a context switch, so the state is
 * put after every exit there.
 * Context: interrupts off, right after the exit.
 */
void hvx_vmx_run_after_exit(struct hvx_vmx_vcpu *v)
{
	if (v->rs.host.debugctl)
		update_debugctlmsr(v->rs.host.debugctl);
#ifndef HVX_HAVE_PREEMPT_NOTIFIERS
	run_put_state(v);
#endif
}

#ifdef HVX_HAVE_PREEMPT_NOTIFIERS
/*
 * The thread is scheduled out (interrupts off): give the CPU back. Still
 * on the runqueue means preempted, not asleep: a sibling spinning on a
 * lock this vCPU holds may yield to it (hvx_vcpu_on_spin()), unless it
 * spins at CPL 0 and this vCPU was preempted above it (rs.preempted_user:
 * one VMREAD per preemption, not per exit).
 */
static void run_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	struct hvx_vmx_vcpu *v = container_of(pn, struct hvx_vmx_vcpu, rs.pn);
	bool user = false;
	u64 ss_ar;

	if (current->on_rq) {
		WRITE_ONCE(v->rs.ready, true);
		/* The CPL of its last exit, read only now (SS.DPL). */
		user = hvx_vmx_peek(v, GUEST_SS_AR_BYTES, &ss_ar) &&
		       VMX_AR_DPL(ss_ar);
	}
	WRITE_ONCE(v->rs.preempted_user, user);
	/* Wake-ups it deferred: now, but not under the runqueue lock. */
	hvx_vmx_kick_sender(NULL, v);
	if (READ_ONCE(v->rs.kick_ids))
		irq_work_queue(&v->rs.kick_work);
	run_put_state(v);
	/* The guest's user-return MSRs stay until some task returns to user mode. */
	uret_defer();
	hvx_vmx_pv_sched_out(v);	/* steal time: preempted */
}

/*
 * Scheduled in, maybe on another CPU: the vCPU stops being a candidate
 * for directed yield (preempted or just woken), and only paravirtual
 * requests (steal time, kvmclock) are set now. The next entry makes the
 * VMCS current here (hvx_vmx_load(), which clears it on the CPU it left
 * and writes the per-CPU host fields) and loads the per-run state
 * (hvx_vmx_run_prepare()).
 */
static void run_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct hvx_vmx_vcpu *v = container_of(pn, struct hvx_vmx_vcpu, rs.pn);

	WRITE_ONCE(v->rs.ready, false);
	hvx_vmx_kick_sender(v, NULL);
	hvx_vmx_pv_load(v, cpu);
	hvx_vmx_ple_reset(v);
}

static void run_kick_work(struct irq_work *work)
{
	__hvx_vmx_kick_flush(container_of(work, struct hvx_vmx_vcpu,
					  rs.kick_work));
}

static struct preempt_ops run_preempt_ops = {
	.sched_in = run_sched_in,
	.sched_out = run_sched_out,
};
#endif

/**
 * hvx_vmx_vcpu_load - start a run: HVX_RUN entered the vCPU
 * @v: the vCPU; the caller holds its run lock.
 *
 * Makes the guest's FPU state the thread's for the whole run (with
 * HVX_GUEST_FPSTATE: one XSAVE of the thread's, one XRSTOR of the
 * guest's; the kernel then saves and restores the guest's registers on
 * context switches and around its own FPU use), and registers the
 * preempt notifier that puts the host's state back when the thread is
 * scheduled out.
 * Context: process context, may sleep (first run: allocation).
 * Return: 0 or -ENOMEM, with nothing changed.
 */
int hvx_vmx_vcpu_load(struct hvx_vmx_vcpu *v)
{
	struct hvx_vmx_run_state *rs = &v->rs;

	if (HVX_GUEST_FPSTATE && !rs->gfpu.fpstate &&
	    !hvx_fpstate_alloc(&rs->gfpu))
		return -ENOMEM;
#ifdef HVX_HAVE_PREEMPT_NOTIFIERS
	if (!rs->pn_inc) {
		preempt_notifier_inc();
		preempt_notifier_init(&rs->pn, &run_preempt_ops);
		init_irq_work(&rs->kick_work, run_kick_work);
		rs->pn_inc = true;
	}
	preempt_disable();
	preempt_notifier_register(&rs->pn);
	hvx_vmx_kick_sender(v, NULL);
	preempt_enable();
#endif
	hvx_vmx_ple_reset(v);
	if (HVX_GUEST_FPSTATE) {
		hvx_fpstate_swap(&rs->gfpu, true);
		rs->fpu_in = true;
	}
	rs->in_run = true;
	hvx_vmx_pv_load(v, raw_smp_processor_id());
	return 0;
}

/**
 * hvx_vmx_vcpu_put - end a run: HVX_RUN returns to userspace
 * @v: the vCPU, after a successful hvx_vmx_vcpu_load().
 *
 * Gives back the host's segments, KERNEL_GS_BASE and descriptor-table
 * limits, unregisters the preempt notifier and swaps the thread's own FPU
 * state back. The user-return MSRs stay until the return to user mode.
 * Context: process context.
 */
void hvx_vmx_vcpu_put(struct hvx_vmx_vcpu *v)
{
	struct hvx_vmx_run_state *rs = &v->rs;

	preempt_disable();
	run_put_state(v);
	uret_put();
#ifdef HVX_HAVE_PREEMPT_NOTIFIERS
	preempt_notifier_unregister(&rs->pn);
	hvx_vmx_kick_sender(NULL, v);
#endif
	WRITE_ONCE(rs->ready, false);
	preempt_enable();
#ifdef HVX_HAVE_PREEMPT_NOTIFIERS
	/* No wake-up left behind: none deferred, none in flight. */
	__hvx_vmx_kick_flush(v);
	if (irq_work_is_busy(&rs->kick_work))	/* rare: skip might_sleep() */
		irq_work_sync(&rs->kick_work);
#endif
	if (rs->fpu_in) {
		hvx_fpstate_swap(&rs->gfpu, false);
		rs->fpu_in = false;
	}
	rs->in_run = false;
}

/**
 * hvx_vmx_run_destroy - free the per-run state of a vCPU
 * @v: the vCPU; no thread runs it.
 *
 * Context: process context.
 */
void hvx_vmx_run_destroy(struct hvx_vmx_vcpu *v)
{
	struct hvx_vmx_run_state *rs = &v->rs;

	if (HVX_GUEST_FPSTATE && rs->gfpu.fpstate)
		hvx_fpstate_free(&rs->gfpu);
#ifdef HVX_HAVE_PREEMPT_NOTIFIERS
	if (rs->pn_inc) {
		preempt_notifier_dec();
		rs->pn_inc = false;
	}
#endif
}

/* 16 bytes at a time, as the guest's XMM/YMM halves. */
struct hvx_xmm {
	u64 q[2];
};

#define XMM_GET(n)							\
	case n:								\
		asm volatile("movdqu %%xmm" #n ", %0" : "=m"(lo));	\
		if (ymm)						\
			asm volatile("vextractf128 $1, %%ymm" #n ", %0"	\
				     : "=m"(hi));			\
		break

#define XMM_SET(n)							\
	case n:								\
		asm volatile("movdqu %0, %%xmm" #n : : "m"(lo));	\
		if (vex)						\
			asm volatile("vinsertf128 $1, %0, %%ymm" #n	\
				     ", %%ymm" #n : : "m"(hi));		\
		break

/**
 * hvx_vmx_xmm_read - read one of the guest's XMM/YMM registers
 * @reg: 0..15.
 * @ymm: also bits 255:128 (the guest's XCR0 has AVX).
 * @val: val[0..1] bits 127:0, val[2..3] bits 255:128 with @ymm.
 *
 * With HVX_GUEST_FPSTATE the guest's registers are the thread's during a
 * run: they are read from the CPU, after reloading them if the kernel
 * saved them meanwhile (as KVM's emulator does).
 * Context: inside a run (hvx_vmx_vcpu_load()), preemptible.
 */
void hvx_vmx_xmm_read(unsigned int reg, bool ymm, u64 *val)
{
	struct hvx_xmm lo, hi = { };

	fpregs_lock();
	hvx_fpu_reload();
	switch (reg) {
	XMM_GET(0); XMM_GET(1); XMM_GET(2); XMM_GET(3);
	XMM_GET(4); XMM_GET(5); XMM_GET(6); XMM_GET(7);
	XMM_GET(8); XMM_GET(9); XMM_GET(10); XMM_GET(11);
	XMM_GET(12); XMM_GET(13); XMM_GET(14); XMM_GET(15);
	default:
		lo = hi;
	}
	fpregs_unlock();
	val[0] = lo.q[0];
	val[1] = lo.q[1];
	if (ymm) {
		val[2] = hi.q[0];
		val[3] = hi.q[1];
	}
}

/**
 * hvx_vmx_xmm_write - write one of the guest's XMM/YMM registers
 * @reg: 0..15.
 * @vex: a VEX load (the guest's XCR0 has AVX): bits 255:128 too.
 * @val: as for hvx_vmx_xmm_read().
 *
 * A legacy SSE write keeps bits 255:128 (SDM Vol. 1 14.1.2), as the
 * MOVDQU used here does.
 * Context: as hvx_vmx_xmm_read().
 */
void hvx_vmx_xmm_write(unsigned int reg, bool vex, const u64 *val)
{
	struct hvx_xmm lo = { { val[0], val[1] } }, hi = { };

	if (vex) {
		hi.q[0] = val[2];
		hi.q[1] = val[3];
	}
	fpregs_lock();
	hvx_fpu_reload();
	switch (reg) {
	XMM_SET(0); XMM_SET(1); XMM_SET(2); XMM_SET(3);
	XMM_SET(4); XMM_SET(5); XMM_SET(6); XMM_SET(7);
	XMM_SET(8); XMM_SET(9); XMM_SET(10); XMM_SET(11);
	XMM_SET(12); XMM_SET(13); XMM_SET(14); XMM_SET(15);
	}
	fpregs_unlock();
}
