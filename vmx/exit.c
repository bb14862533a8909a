// SPDX-License-Identifier: GPL-2.0
/*
 * exit.c - one VM entry, and the exit fast path.
 *
 * hvx_vmx_run() enters the guest once, reads what the exit needs, and
 * either handles it with interrupts still off (fast_exit(): exits that
 * need nothing of the host) or hands it to the handler table
 * (handlers.c). Events are evaluated only when a request bit asks for it
 * (events.c); what is switched once per run is in run.c.
 *
 * Statistics (stats.h) are counted at the dispatch points (exits by
 * reason) and in the handlers that know more (port, MSR, guest page):
 * plain increments on the vCPU's own struct. The handling time of each
 * exit costs two RDTSCs, so it is taken only with stats_timing on. The
 * hvx_vm_entry/hvx_vm_exit tracepoints (vmx_trace.h) bracket each stay in
 * the guest.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/module.h>
#include <linux/sched/signal.h>
#include <asm/apicdef.h>
#include <asm/debugreg.h>
#include <asm/trapnr.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include <asm/hw_breakpoint.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <trace/events/ipi.h>	/* smp_send_reschedule() traces on 6.6+ */

#include "vmx.h"
#include "vmx_trace.h"

static bool fastpath = true;
module_param(fastpath, bool, 0644);
MODULE_PARM_DESC(fastpath,
		 "Handle CPUID, hypercalls that do not sleep, port I/O to the in-kernel PIC, UART and RTC, and the local APIC's EOI, TPR and TSC-deadline writes with interrupts off and re-enter the guest at once (default: on)");

/* stats.h: hvx_stats_timing. */
bool hvx_stats_timing __read_mostly;
module_param_named(stats_timing, hvx_stats_timing, bool, 0644);
MODULE_PARM_DESC(stats_timing,
		 "Time each exit's handling and each round trip through userspace (the statistics' hist_handler and hist_user; two RDTSCs per exit) (default: off)");

static bool check_entry;
module_param(check_entry, bool, 0644);
MODULE_PARM_DESC(check_entry,
		 "Debug: run the SDM guest-state checks in software before every VM entry and report the failing one without entering (default: off)");

/*
 * Host state switched around one entry. What a VM exit does not restore
 * and the host does not need before the run ends (SDM Vol. 3C 28.5) is
 * switched once per run (run.c, struct hvx_vmx_host_state).
 */
struct host_state {
	unsigned long dr[4];	/* DR0-3, where compat.h needs a copy */
};

/*
 * Where the kernel exports its guest-fpstate API (HVX_GUEST_FPSTATE), the
 * guest's FPU is the thread's for the whole run (run.c) and nothing is
 * done per entry but a reload after the kernel saved it (in
 * switch_to_guest()). Elsewhere the guest's x87/SSE/AVX registers are
 * loaded around each entry inside kernel_fpu_begin(), from v->fpu.
 * Preemption off, interrupts on.
 */
static void guest_fpu_load(struct hvx_vmx_vcpu *v)
{
	u64 mask = hvx_caps.guest_xcr0;

	if (HVX_GUEST_FPSTATE)
		return;
	kernel_fpu_begin_mask(KFPU_387 | KFPU_MXCSR);
	if (mask)
		asm volatile("xrstor64 %0"
			     : : "m"(v->fpu), "a"((u32)mask), "d"((u32)(mask >> 32))
			     : "memory");
	else
		asm volatile("fxrstor64 %0" : : "m"(v->fpu));
}

static void guest_fpu_save(struct hvx_vmx_vcpu *v)
{
	u64 mask = hvx_caps.guest_xcr0;

	if (HVX_GUEST_FPSTATE)
		return;
	if (mask)
		asm volatile("xsave64 %0"
			     : "+m"(v->fpu) : "a"((u32)mask), "d"((u32)(mask >> 32))
			     : "memory");
	else
		asm volatile("fxsave64 %0" : "=m"(v->fpu));
	kernel_fpu_end();
}

/* hvx_vmx_regs_flush(), inline for what a skip leaves: RIP alone. */
static __always_inline void regs_flush(struct hvx_vmx_vcpu *v)
{
	if (likely(v->regs_dirty == BIT(HVX_REG_RIP))) {
		vmcs_write(GUEST_RIP, v->rip);
		v->regs_dirty = 0;
	} else {
		hvx_vmx_regs_flush(v);
	}
}

/*
 * An entry with no request bit set: only the event the last exit
 * interrupted is delivered again, the virtual APIC needs no sync, and the
 * registers the exit handler changed are written back.
 */
static __always_inline void quiet_entry(struct hvx_vmx_vcpu *v)
{
	v->entry_info = 0;
	if (unlikely(v->reinject_info & INTR_INFO_VALID_MASK)) {
		v->entry_info = hvx_vmx_inject_reinject(v);
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, v->entry_info);
	}
	if (v->apicv & HVX_APICV_VID)	/* else it has nothing to do */
		hvx_vmx_apicv_quiet_entry(v);
	regs_flush(v);
}

/* Write the cached state and any event to inject into the VMCS. */
static void prepare_entry(struct hvx_vmx_vcpu *v)
{
	if (unlikely(hvx_vmx_msr_bitmap_key(v) != v->msr_bitmap_key))
		hvx_vmx_msr_bitmap_update(v);
	/*
	 * With the timer saved at exits it only needs a reload once it
	 * expired; without that control, before every entry.
	 */
	if (hvx_caps.preempt_timer &&
	    (v->timer_reload ||
	     !(hvx_caps.exit & VM_EXIT_SAVE_VMX_PREEMPTION_TIMER))) {
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE, hvx_caps.preempt_timer);
		v->timer_reload = false;
	}
	if (test_bit(HVX_REQ_EVENT, &v->requests)) {
		clear_bit(HVX_REQ_EVENT, &v->requests);
		hvx_vmx_inject_events(v);
		/* After hvx_vmx_inject_events(), which may set RFLAGS.RF. */
		hvx_vmx_regs_flush(v);
	} else {
		quiet_entry(v);
	}
	if (unlikely(v->ple_window_dirty)) {
		vmcs_write(PLE_WINDOW, v->ple_window);
		v->ple_window_dirty = false;
	}
	/* HOST_CR3 and HOST_CR4: written when they changed (run.c). */
}

/*
 * Interrupts off, right before the entry: the per-run state (run.c, a
 * no-op once loaded), and what must be the guest's only while it runs.
 */
static void switch_to_guest(struct hvx_vmx_vcpu *v, struct host_state *hs)
{
	hvx_vmx_run_prepare(v);
	hvx_vmx_host_cr(v);
	/* The kernel saved the guest's FPU state (context switch, its own use). */
	hvx_fpu_reload();
	if (native_read_cr2() != v->cr2)
		native_write_cr2(v->cr2);
	/* IA32_SPEC_CTRL is swapped in vmenter.S, next to the entry. */
	/*
	 * XCR0 matters to a guest only with CR4.OSXSAVE; the host's must be
	 * back before interrupts are on (the kernel's XSAVEs depend on it).
	 */
	if ((v->cr4 & X86_CR4_OSXSAVE) && v->xcr0 != hvx_caps.host_xcr0) {
		xsetbv(XCR_XFEATURE_ENABLED_MASK, v->xcr0);
		v->rs.xcr0_loaded = true;
	}
	/*
	 * The guest's DR7 (loaded by VM entry) arms breakpoints: they must
	 * watch its own DR0-3, not the host's. Host breakpoints are disarmed
	 * first, so none fires on a guest address meanwhile.
	 */
	if (unlikely(v->dr_armed)) {
		if (hw_breakpoint_active()) {
			hvx_host_dr_save(hs->dr);
			set_debugreg(0UL, 7);
		}
		set_debugreg(v->dr[0], 0);
		set_debugreg(v->dr[1], 1);
		set_debugreg(v->dr[2], 2);
		set_debugreg(v->dr[3], 3);
	}
}

/* Interrupts off, right after the exit: what the host needs at once. */
static void switch_to_host(struct hvx_vmx_vcpu *v, struct host_state *hs)
{
	if (unlikely(v->rs.xcr0_loaded)) {
		xsetbv(XCR_XFEATURE_ENABLED_MASK, hvx_caps.host_xcr0);
		v->rs.xcr0_loaded = false;
	}
	v->cr2 = native_read_cr2();
	hvx_vmx_run_after_exit(v);	/* DEBUGCTL */
	/*
	 * The exit left DR7 = 400H. Host breakpoints come back; without any,
	 * DR0-3 may keep the guest's values (nothing watches them, and no
	 * guest sees them: reads exit, #DB exits filter B0-B3). DR6 never
	 * holds guest state: #DB always exits, leaving DR6 untouched.
	 */
	if (hw_breakpoint_active())
		hvx_host_dr_restore(v->dr_armed ? hs->dr : NULL);
}

/*
 * Exits whose handlers never look at the exit qualification (which the SDM
 * leaves 0 for them, Vol. 3C 28.2.1), and those that have no instruction
 * length to skip (28.2.5; still read when an event needs re-injection).
 */
#define NO_QUAL_EXITS	(BIT_ULL(EXIT_REASON_EXTERNAL_INTERRUPT) | \
			 BIT_ULL(EXIT_REASON_INTERRUPT_WINDOW) | \
			 BIT_ULL(EXIT_REASON_NMI_WINDOW) | \
			 BIT_ULL(EXIT_REASON_CPUID) | \
			 BIT_ULL(EXIT_REASON_HLT) | \
			 BIT_ULL(EXIT_REASON_VMCALL) | \
			 BIT_ULL(EXIT_REASON_MSR_READ) | \
			 BIT_ULL(EXIT_REASON_MSR_WRITE) | \
			 BIT_ULL(EXIT_REASON_PAUSE_INSTRUCTION) | \
			 BIT_ULL(EXIT_REASON_TPR_BELOW_THRESHOLD) | \
			 BIT_ULL(EXIT_REASON_PREEMPTION_TIMER) | \
			 BIT_ULL(EXIT_REASON_XSETBV))
/*
 * Exits caused by executing an instruction. Event delivery never executes
 * one, so their IDT-vectoring information is never valid (SDM Vol. 3C
 * 28.2.4: it describes an event whose delivery caused the exit).
 */
#define INSN_EXITS	(BIT_ULL(EXIT_REASON_CPUID) | \
			 BIT_ULL(EXIT_REASON_HLT) | \
			 BIT_ULL(EXIT_REASON_INVD) | \
			 BIT_ULL(EXIT_REASON_INVLPG) | \
			 BIT_ULL(EXIT_REASON_RDPMC) | \
			 BIT_ULL(EXIT_REASON_RDTSC) | \
			 BIT_ULL(EXIT_REASON_VMCALL) | \
			 BIT_ULL(EXIT_REASON_CR_ACCESS) | \
			 BIT_ULL(EXIT_REASON_DR_ACCESS) | \
			 BIT_ULL(EXIT_REASON_IO_INSTRUCTION) | \
			 BIT_ULL(EXIT_REASON_MSR_READ) | \
			 BIT_ULL(EXIT_REASON_MSR_WRITE) | \
			 BIT_ULL(EXIT_REASON_MWAIT_INSTRUCTION) | \
			 BIT_ULL(EXIT_REASON_MONITOR_INSTRUCTION) | \
			 BIT_ULL(EXIT_REASON_PAUSE_INSTRUCTION) | \
			 BIT_ULL(EXIT_REASON_RDTSCP) | \
			 BIT_ULL(EXIT_REASON_WBINVD) | \
			 BIT_ULL(EXIT_REASON_XSETBV))
#define NO_LEN_EXITS	(BIT_ULL(EXIT_REASON_EXTERNAL_INTERRUPT) | \
			 BIT_ULL(EXIT_REASON_INTERRUPT_WINDOW) | \
			 BIT_ULL(EXIT_REASON_NMI_WINDOW) | \
			 BIT_ULL(EXIT_REASON_TPR_BELOW_THRESHOLD) | \
			 BIT_ULL(EXIT_REASON_PREEMPTION_TIMER))

/*
 * Exits that seldom end in a skip over an instruction: those without one,
 * EPT violations and misconfigurations (mostly RAM faults and MMIO
 * emulated from a fresh decode) and the trap-like APIC exits (SDM Vol. 3C
 * 30.4.3.3, 30.1.3).
 */
#define NO_SKIP_EXITS	(NO_LEN_EXITS | \
			 BIT_ULL(EXIT_REASON_EPT_VIOLATION) | \
			 BIT_ULL(EXIT_REASON_EPT_MISCONFIG) | \
			 BIT_ULL(EXIT_REASON_APIC_WRITE) | \
			 BIT_ULL(EXIT_REASON_EOI_INDUCED))

static bool exit_in(u64 set, u32 reason)
{
	return reason < 64 && (set & BIT_ULL(reason));
}

/*
 * Read what the exit needs while the VMCS is current: the reason (read
 * already by hvx_vmx_run()), the IDT-vectoring information unless an
 * instruction caused the exit, and the qualification and instruction
 * length unless the reason never uses them. Guest registers are read on
 * demand (hvx_vmx_reg()); IA32_EFER and the IA-32e mode entry control are
 * hvx's own copies, since every change of EFER.LME or CR0.PG exits (MSR
 * bitmap, CR0 guest/host mask).
 */
static __always_inline void read_exit_state(struct hvx_vmx_vcpu *v, u32 reason)
{
	u32 basic = reason & 0xffff;
	u32 vectoring;

	v->exit_reason = reason;
	v->regs_avail = 0;
	v->io_unclaimed = false;	/* fast_io() may set it */
	hvx_vmx_xfield_flush(v);
	v->exit_qual = exit_in(NO_QUAL_EXITS, basic) ? 0 :
		       vmcs_read(EXIT_QUALIFICATION);

	/* An event whose delivery caused the exit must be re-injected. */
	vectoring = exit_in(INSN_EXITS, basic) ? 0 :
		    vmcs_read(IDT_VECTORING_INFO_FIELD);
	if (!exit_in(NO_LEN_EXITS, basic) ||
	    (vectoring & VECTORING_INFO_VALID_MASK))
		v->instr_len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	else
		v->instr_len = 0;
	/*
	 * The timer only has to catch a guest that keeps host interrupts
	 * out (hvx_vmx_caps.preempt_timer): after an exit for one, the host
	 * had its chance, so a new period starts.
	 */
	if (basic == EXIT_REASON_PREEMPTION_TIMER ||
	    basic == EXIT_REASON_EXTERNAL_INTERRUPT)
		v->timer_reload = true;
	if (vectoring & VECTORING_INFO_VALID_MASK) {
		v->reinject_info = vectoring & ~INTR_INFO_RESVD_BITS_MASK;
		v->reinject_err = vmcs_read(IDT_VECTORING_ERROR_CODE);
		v->reinject_len = v->instr_len;
		if (v->apicv)
			hvx_vmx_apicv_vectoring(v);
		/* The event was not delivered: window exits may be needed. */
		hvx_vmx_request_event(v);
	}
}

/*
 * What hvx_vmx_skip_instruction() reads, inline while the VMCS is
 * current: RIP, RFLAGS and the interruptibility state, each unless the
 * cache has it already (no handler has run yet: none is dirty).
 */
static void read_skip_state(struct hvx_vmx_vcpu *v)
{
	u8 need = ~v->regs_avail;

	if (need & BIT(HVX_REG_RIP))
		v->rip = vmcs_read(GUEST_RIP);
	if (need & BIT(HVX_REG_RFLAGS))
		v->rflags = vmcs_read(GUEST_RFLAGS);
	if (need & BIT(HVX_REG_INTR))
		v->intr_state = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	v->regs_avail |= HVX_SKIP_REGS;
}

/*
 * read_skip_state() right after read_exit_state(), which emptied the
 * cache: the three fields, without tests.
 */
static __always_inline void read_skip_state_fresh(struct hvx_vmx_vcpu *v)
{
	v->rip = vmcs_read(GUEST_RIP);
	v->rflags = vmcs_read(GUEST_RFLAGS);
	v->intr_state = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	v->regs_avail = HVX_SKIP_REGS;
}

static void xfield_read(struct hvx_vmx_vcpu *v, enum hvx_xfield f,
			unsigned long field)
{
	v->xf[f] = vmcs_read(field);
	v->xf_avail |= BIT(f);
}

/*
 * Read, while the VMCS is current, what the instruction emulator needs
 * after an APIC-access exit or an EPT violation at a page that was MMIO
 * the last time (emulate.c, hvx_vmx_handle_mmio(): the instruction at
 * CS:RIP, fetched through the guest's page tables, and the skip over it).
 * Every other EPT violation needs the guest-physical address alone. What
 * is not read here (PDPTEs, other segment bases) is read after the
 * unload; nothing depends on the guess but how many VMCS loads follow.
 */
static void read_emulation_state(struct hvx_vmx_vcpu *v, u32 basic)
{
	u64 gfn;

	if (v->exit_reason & EXIT_FAILED_ENTRY)
		return;
	if (basic == EXIT_REASON_EPT_VIOLATION) {
		xfield_read(v, HVX_XF_GPA, GUEST_PHYSICAL_ADDRESS);
		gfn = v->xf[HVX_XF_GPA] >> PAGE_SHIFT;
		if (v->mmio_hint[gfn % HVX_MMIO_HINTS] != gfn)
			return;
		if (unlikely(v->dr_armed) &&
		    (v->exit_qual & EPT_VIOLATION_GVA_IS_VALID))
			xfield_read(v, HVX_XF_GLA, GUEST_LINEAR_ADDRESS);
	} else if (basic != EXIT_REASON_APIC_ACCESS) {
		return;
	}
	read_skip_state(v);
	if (!(v->regs_avail & BIT(HVX_REG_RSP))) {
		v->rsp = vmcs_read(GUEST_RSP);
		v->regs_avail |= BIT(HVX_REG_RSP);
	}
	xfield_read(v, HVX_XF_CS_AR, GUEST_CS_AR_BYTES);
	if (!(v->efer & EFER_LMA) || !(v->xf[HVX_XF_CS_AR] & VMX_AR_L_MASK))
		xfield_read(v, HVX_XF_CS_BASE, GUEST_CS_BASE);
	if (v->cr0 & X86_CR0_PG) {
		xfield_read(v, HVX_XF_SS_AR, GUEST_SS_AR_BYTES);
		xfield_read(v, HVX_XF_CR3, GUEST_CR3);
	}
}

/*
 * IN/OUT to an in-kernel device that can be driven with interrupts off
 * (struct hvx_vmx_dev_ops.pio_fast). Return: true if done, false if the
 * access needs the full handle_io() (nothing changed then but
 * v->io_unclaimed).
 */
static bool fast_io(struct hvx_vmx_vcpu *v)
{
	/* Exit qualification: SDM Vol. 3C 28.2.1, Table 28-5. */
	u64 q = v->exit_qual, val = 0;
	u16 port = q >> 16;
	u8 size = (q & 7) + 1;
	bool in = q & BIT(3);
	u64 mask = GENMASK_ULL(size * 8 - 1, 0);
	unsigned long *rax = &v->gprs[HVX_RAX];
	int ret;

	if ((q & BIT(4)) || !v->dev_ops || !v->dev_ops->pio_fast)
		return false;		/* INS/OUTS: the emulator */
	if (!in)
		val = *rax & mask;
	ret = v->dev_ops->pio_fast(v, port, in, size, &val);
	if (ret) {
		/* The VMM's port: handle_io() need not ask the devices again. */
		v->io_unclaimed = ret == -ENOENT;
		return false;
	}
	if (in)		/* a 32-bit write zero-extends (SDM Vol. 1 3.4.1.1) */
		*rax = size == 4 ? (u32)val : (*rax & ~mask) | (val & mask);
	hvx_stats_top_add(v->stats.s.io_ports,
			  port | (in ? HVX_STATS_IO_IN : 0));
	hvx_vmx_skip_instruction(v, v->instr_len);
	return true;
}

/* WRMSR of an MSR the fast path may write (hvx_vmx_fast_wrmsr())? */
static bool fast_msr(struct hvx_vmx_vcpu *v)
{
	switch ((u32)v->gprs[HVX_RCX]) {
	case MSR_IA32_TSC_DEADLINE:
	case APIC_BASE_MSR + (APIC_EOI >> 4):
	case APIC_BASE_MSR + (APIC_TASKPRI >> 4):
		return v->apic_ops;
	default:
		return false;
	}
}

/*
 * The exit fast path: with interrupts still off and the guest's state
 * still loaded, handle an exit that needs nothing of the host (CPUID,
 * a hypercall that does not sleep, port I/O to the PIC, UART or RTC, the
 * local APIC's EOI, TPR and TSC deadline written by WRMSR or an APIC-write
 * exit), so that the guest can be entered
 * again at once. Returns false, having read the exit's state at most, for
 * anything else: an event to re-inject, a device that needs process
 * context, an enabled tracepoint (it could fault with the guest's CR2
 * loaded), the check_entry debug mode (it checks before the first entry
 * only). *@read tells whether the exit's state was read (then the slow
 * path must not read it again: read_exit_state() is not idempotent).
 */
static bool fast_exit(struct hvx_vmx_vcpu *v, u32 reason, bool *read)
{
	*read = false;
	if (trace_hvx_vm_exit_enabled() || trace_hvx_vm_entry_enabled())
		return false;
	/* With a constant reason, read_exit_state() keeps only its reads. */
	switch (reason) {
	case EXIT_REASON_CPUID:
		read_exit_state(v, EXIT_REASON_CPUID);
		break;
	case EXIT_REASON_VMCALL:
		read_exit_state(v, EXIT_REASON_VMCALL);
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		read_exit_state(v, EXIT_REASON_IO_INSTRUCTION);
		break;
	case EXIT_REASON_MSR_WRITE:
		if (!fast_msr(v))
			return false;
		read_exit_state(v, EXIT_REASON_MSR_WRITE);
		break;
	case EXIT_REASON_APIC_WRITE:
		if (!v->apic_ops || !v->apic_ops->apic_write_fast)
			return false;
		read_exit_state(v, EXIT_REASON_APIC_WRITE);
		break;
	default:
		return false;
	}
	*read = true;
	if (v->reinject_info & INTR_INFO_VALID_MASK)
		return false;
	/* All but the trap-like APIC write end in a skip. */
	if (reason != EXIT_REASON_APIC_WRITE)
		read_skip_state_fresh(v);
	/* Before this exit's handler or fast_reenter() touches the APIC. */
	if (unlikely(v->pv.eoi_pending) && !hvx_vmx_pv_eoi_check_irqoff(v))
		return false;
	switch (reason) {
	case EXIT_REASON_CPUID:
		hvx_vmx_handle_cpuid(v);
		break;
	case EXIT_REASON_VMCALL:
		if (!hvx_vmx_hypercall_fastpath(v))
			return false;	/* it may sleep, or goes to userspace */
		break;
	case EXIT_REASON_MSR_WRITE:
		if (!hvx_vmx_fast_wrmsr(v))
			return false;
		break;
	case EXIT_REASON_APIC_WRITE:
		/* Trap-like (SDM Vol. 3C 30.4.3.3): RIP is past the write. */
		if (!v->apic_ops->apic_write_fast(v, v->exit_qual & 0xfff))
			return false;
		break;
	default:
		if (!fast_io(v))
			return false;
	}
	v->launched = true;
	v->stats.s.exits++;
	v->stats.s.exits_by_reason[reason]++;
	v->stats.s.fastpath_exits++;
	return true;
}

/*
 * The fast path reads the TSC for its bound of a host tick every this many
 * rounds (a power of 2), and on every round when it times exits: a round
 * is a small part of a tick, so the bound moves by a few rounds at most.
 */
#define FAST_TSC_ROUNDS	8

/*
 * May the fast path enter the guest again, or does the host need the CPU?
 * @tick_over: the fast path has kept interrupts off for a host tick.
 */
static bool fast_reenter(struct hvx_vmx_vcpu *v, bool tick_over)
{
	/*
	 * A kick after this check finds guest_cpu set and sends an IPI,
	 * which makes the entry exit at once (hvx_vmx_kick()). The tick
	 * is for hosts whose interrupts do not force that exit (Bochs 2.7
	 * with the guest's IF clear): the VMX-preemption timer counts only
	 * guest time, a small part of a round of the fast path.
	 */
	unsigned long req = READ_ONCE(v->requests);

	if (signal_pending(current) || need_resched() ||
	    (req & ~BIT(HVX_REQ_EVENT)) || v->triple_fault || tick_over)
		return false;
	/*
	 * An EOI or TPR write asks for interrupt evaluation, which never
	 * sleeps: as prepare_entry() does, with interrupts off. A request
	 * set after this by another CPU sends an IPI (guest_cpu is set), and
	 * the entry exits at once.
	 */
	if (req) {
		clear_bit(HVX_REQ_EVENT, &v->requests);
		hvx_vmx_inject_events(v);
		hvx_vmx_regs_flush(v);
	} else {
		quiet_entry(v);
	}
	hvx_vmx_kick_flush(v);	/* after need_resched(): see hvx_vmx_kick() */
	return true;
}

/* The end of hvx_vmx_run()'s use of the VMCS: slow paths load it again. */
static void run_unload(struct hvx_vmx_vcpu *v)
{
	v->vmcs_current = false;
	hvx_vmx_unload();
}

/* One entry and the handling of its exit: hvx_vmx_run(). */
static __always_inline int run_once(struct hvx_vmx_vcpu *v)
{
	struct host_state hs;
	enum hvx_entry_check check = HVX_CHECK_UNKNOWN;
	u32 reason = 0, intr_info = 0;
	bool exit_read = false, fast_done = false, tick_over = false;
	bool timing = READ_ONCE(hvx_stats_timing);
	/* check_entry checks before the first entry only: no fast path. */
	bool fast = READ_ONCE(fastpath) && !READ_ONCE(check_entry);
	u64 exit_tsc = 0, now, fast_end = 0;
	unsigned int fast_rounds = 0;
	unsigned long flags;
	int fail, ret;

	preempt_disable();
	hvx_vmx_load(v);
	v->vmcs_current = true;
	if (v->flush_tlb) {
		/* On this CPU; a move to another one flushes there (load). */
		if (v->vpid) {
			hvx_invvpid(VMX_VPID_EXTENT_SINGLE_CONTEXT, v->vpid);
			v->stats.s.invvpid++;
		}
		v->flush_tlb = false;
	}
	prepare_entry(v);
	if (unlikely(READ_ONCE(check_entry))) {
		check = hvx_vmx_check_guest_state();
		if (check != HVX_CHECK_UNKNOWN) {
			hvx_vmx_cancel_injection(v);
			run_unload(v);
			/* Reason 0: software refused it; the CPU never saw it. */
			v->exit_qual = 0;
			v->stats.s.entry_failures++;
			return hvx_vmx_failed_entry(v, EXIT_REASON_INVALID_STATE,
						   check, 0);
		}
	}
	guest_fpu_load(v);

	local_irq_disable();
	WRITE_ONCE(v->guest_cpu, smp_processor_id());
	smp_mb();	/* guest_cpu before requests: see hvx_vmx_kick() */
	if (signal_pending(current) || need_resched() ||
	    READ_ONCE(v->requests)) {
		WRITE_ONCE(v->guest_cpu, -1);
		hvx_vmx_cancel_injection(v);
		hvx_spec_user_exit(v);
		/* Let the caller's loop see the signal or reschedule. */
		hvx_vmx_irq_enable();
		guest_fpu_save(v);
		run_unload(v);
		return HVX_RUN_RESUME;
	}
	/*
	 * Siblings this thread woke while it handled the last exit: now,
	 * after the need_resched() check, so that a wake-up preemption
	 * waits for the next exit and the guest may leave its critical
	 * section first (hvx_vmx_kick()).
	 */
	hvx_vmx_kick_flush(v);
	/* Before the guest's CR2 and MSRs are loaded: a probe may fault. */
	if (trace_hvx_vm_entry_enabled())
		trace_hvx_vm_entry(v->vm_id, v->id, vmcs_read(GUEST_RIP));
	switch_to_guest(v, &hs);
	/*
	 * The fast path (fast_exit()) goes round this loop with the guest's
	 * state loaded; every entry and exit keeps its barriers.
	 */
	for (;;) {
		flags = hvx_spec_enter_flags(v);
		hvx_spec_l1d_flush(v);
		fail = hvx_vmx_enter(v->gprs, flags, &v->msr.spec_ctrl,
				     &v->host_rsp);
		if (!fail) {
			reason = vmcs_read(VM_EXIT_REASON);
			if (reason == EXIT_REASON_EXCEPTION_NMI)
				intr_info = vmcs_read(VM_EXIT_INTR_INFO);
			/*
			 * An NMI that caused the exit goes to the kernel's NMI
			 * entry first, before any instrumentable code (SDM
			 * Vol. 3C 28.1: NMIs stay blocked until its IRET).
			 */
			if ((intr_info & (INTR_INFO_VALID_MASK | INTR_INFO_INTR_TYPE_MASK)) ==
			    (INTR_INFO_VALID_MASK | INTR_TYPE_NMI_INTR))
				hvx_vmx_forward_nmi();
		}
		if (timing)
			exit_tsc = rdtsc();
		hvx_spec_after_exit(v, flags, fail ? -1 : (int)(reason & 0xffff));
		if (fail || !fast || !fast_exit(v, reason, &exit_read))
			break;
		/* The first round sets the bound; the histogram needs each. */
		if (timing || !(fast_rounds++ & (FAST_TSC_ROUNDS - 1))) {
			now = rdtsc();
			if (timing)
				hvx_stats_hist_add(v->stats.s.hist_handler,
						   now - exit_tsc);
			if (!fast_end)
				fast_end = now + hvx_caps.tick_tsc;
			tick_over = now >= fast_end;
		}
		if (!fast_reenter(v, tick_over)) {
			fast_done = true;
			break;
		}
	}
	WRITE_ONCE(v->guest_cpu, -1);
	switch_to_host(v, &hs);
	/* Host state is back: a machine check goes to the host's handler. */
	hvx_vmx_mce_irqoff(v, reason, intr_info);
	hvx_vmx_irq_enable();
	guest_fpu_save(v);

	if (fail) {
		u32 err = vmcs_read(VM_INSTRUCTION_ERROR);

		if (fail == HVX_ENTER_FAULTED)
			hvx_vmx_insn_fault("VMLAUNCH/VMRESUME");

		hvx_vmx_cancel_injection(v);
		run_unload(v);
		memset(&v->run->fail_entry, 0, sizeof(v->run->fail_entry));
		v->run->exit_reason = HVX_EXIT_FAIL_ENTRY;
		v->run->fail_entry.kind = HVX_ENTRY_FAIL_VMFAIL;
		v->run->fail_entry.vm_instruction_error = err;
		v->run->fail_entry.cpu = v->cpu;
		v->stats.s.entry_failures++;
		pr_debug("VMfail, VM-instruction error %u\n", err);
		hvx_spec_user_exit(v);
		return HVX_RUN_USER;
	}
	if (fast_done) {	/* handled; the host needs the CPU first */
		run_unload(v);
		if (unlikely(v->pv.eoi_pending))
			hvx_vmx_pv_eoi_check(v);
		return HVX_RUN_RESUME;
	}
	if (!exit_read)
		read_exit_state(v, reason);
	if (trace_hvx_vm_exit_enabled())
		trace_hvx_vm_exit(v->vm_id, v->id, v->exit_reason,
				  v->exit_qual, hvx_vmx_rip(v));
	if (v->exit_reason & EXIT_FAILED_ENTRY)
		check = hvx_vmx_check_guest_state();
	else
		v->launched = true;
	/*
	 * An instruction's exit ends in a skip over it, after the unload
	 * (the handler, or the completion of a userspace exit): read what
	 * the skip needs while a VMREAD is one instruction.
	 */
	if (!exit_in(NO_SKIP_EXITS, v->exit_reason & 0xffff))
		read_skip_state(v);
	read_emulation_state(v, v->exit_reason & 0xffff);
	run_unload(v);
	/* Before any handler sees the APIC: the guest may have EOIed in memory. */
	if (unlikely(v->pv.eoi_pending))
		hvx_vmx_pv_eoi_check(v);

	ret = hvx_vmx_dispatch_exit(v, check);
	hvx_vmx_xfield_flush(v);	/* valid for this exit's handling only */
	if (timing)
		hvx_stats_hist_add(v->stats.s.hist_handler, rdtsc() - exit_tsc);
	if (ret != HVX_RUN_RESUME)
		hvx_spec_user_exit(v);
	return ret;
}

/**
 * hvx_vmx_run - enter the guest and handle the VM exit
 * @v: the vCPU; the caller is its only runner.
 *
 * The guest's x87/SSE/AVX state is the thread's for the whole run, or
 * loaded around the entry (guest_fpu_load()); the guest's XCR0 is in
 * force only while the guest runs. What the host needs back only before
 * user mode or another task runs is switched once per run (run.c).
 *
 * An EPT violation that mapped guest RAM (v->ram_fault) is followed by
 * the next entry here, not in the caller's loop: the check with
 * interrupts off before each entry (signals, need_resched(), request
 * bits) returns to the caller for anything that loop would do, and a RAM
 * fault changes nothing else it looks at (the vCPU stays runnable).
 *
 * Context: process context of the VM owner, between hvx_vmx_vcpu_load()
 * and hvx_vmx_vcpu_put(); may sleep in exit handlers.
 * Return: HVX_RUN_RESUME, HVX_RUN_USER (run->exit_reason set), or a
 * negative errno (-EFAULT when guest RAM cannot be pinned, -ENOMEM).
 */
int hvx_vmx_run(struct hvx_vmx_vcpu *v)
{
	int ret;

	do {
		v->ram_fault = false;
		ret = run_once(v);
	} while (ret == HVX_RUN_RESUME && v->ram_fault);
	return ret;
}
