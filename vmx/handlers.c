// SPDX-License-Identifier: GPL-2.0
/*
 * handlers.c - the table of VM-exit handlers, and the exit dispatch.
 *
 * Each handler returns HVX_RUN_RESUME (enter again), HVX_RUN_USER
 * (struct hvx_run is filled for userspace) or a negative errno. Handlers
 * run preemptible with the guest's GPRs in struct hvx_vmx_vcpu and RIP,
 * RSP, RFLAGS read on demand (hvx_vmx_reg()); they reach other VMCS
 * fields through hvx_vmx_read()/hvx_vmx_write(). Exits counted here are
 * the slow path's; the fast path (exit.c) counts its own.
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
#include <asm/kvm_para.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <trace/events/ipi.h>	/* smp_send_reschedule() traces on 6.6+ */

#include "vmx.h"
#include "vmx_trace.h"

/* DR6 and #DB exit qualification bits besides B0-B3, BS (SDM Vol. 3B 18.2.3). */
#define HVX_DR6_BD		BIT_ULL(13)
#define HVX_DR6_RTM		BIT_ULL(16)

static int handle_interrupt_window(struct hvx_vmx_vcpu *v)
{
	hvx_vmx_request_event(v);	/* the window is open: evaluate */
	if (v->request_irq_window && READ_ONCE(v->irq_vector) < 0) {
		v->request_irq_window = false;
		v->run->exit_reason = HVX_EXIT_IRQ_WINDOW_OPEN;
		return HVX_RUN_USER;
	}
	return HVX_RUN_RESUME;	/* the queued interrupt goes in next entry */
}

static int internal_error(struct hvx_vmx_vcpu *v, u32 suberror)
{
	struct hvx_run *run = v->run;

	run->exit_reason = HVX_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.exit_reason = v->exit_reason;
	run->internal.qualification = v->exit_qual;
	run->internal.ndata = 1;
	run->internal.data[0] = hvx_vmx_rip(v);
	return HVX_RUN_USER;
}

static int handle_unhandled(struct hvx_vmx_vcpu *v)
{
	pr_debug("unhandled exit reason %u qualification %#llx\n",
		 v->exit_reason, v->exit_qual);
	return internal_error(v, HVX_INTERNAL_UNHANDLED_EXIT);
}

static int handle_resume(struct hvx_vmx_vcpu *v)
{
	return HVX_RUN_RESUME;
}

/*
 * NMI window open, or the guest lowered its TPR below the threshold: what
 * waited may be delivered now.
 */
static int handle_reevaluate(struct hvx_vmx_vcpu *v)
{
	hvx_vmx_request_event(v);
	return HVX_RUN_RESUME;
}

static int handle_skip(struct hvx_vmx_vcpu *v)
{
	hvx_vmx_skip_instruction(v, v->instr_len);
	return HVX_RUN_RESUME;
}

static void wbinvd_ipi(void *unused)
{
	wbinvd();
}

/*
 * WBINVD (SDM Vol. 2D). With only snooped DMA the guest needs no cache
 * write-back and the instruction is skipped: a real WBINVD takes long
 * and disturbs every core sharing the cache. With a device assigned whose
 * DMA may bypass the caches (hvx_vmx_noncoherent_dma()), the guest's
 * writes must reach memory: every CPU the vCPU ran on since its last
 * WBINVD writes back its caches, as KVM does for non-coherent DMA. Other
 * CPUs are not disturbed.
 */
static int handle_wbinvd(struct hvx_vmx_vcpu *v)
{
	if (hvx_vmx_noncoherent_dma(v)) {
		cpumask_set_cpu(get_cpu(), v->wbinvd_dirty);
		on_each_cpu_mask(v->wbinvd_dirty, wbinvd_ipi, NULL, true);
		put_cpu();
		cpumask_clear(v->wbinvd_dirty);
		v->stats.s.wbinvd_flushes++;
	}
	return handle_skip(v);
}

/*
 * PAUSE-loop exit (or PAUSE exit): the guest spins, most likely on a lock
 * held by a sibling vCPU whose thread is preempted, or for a sibling it
 * has just woken. Give that thread the CPU (directed yield, kmod/
 * hvx_vcpu_on_spin()). With PAUSE-loop
 * exiting the exit is fault-like but skipping the PAUSE is harmless (SDM
 * Vol. 3C 26.1.3): the guest's loop runs it again. The window doubles
 * (vmx.h, HVX_PLE_*), so that a vCPU whose wait lasts exits fewer times.
 */
static int handle_pause(struct hvx_vmx_vcpu *v)
{
	if (v->ple_window && v->ple_window < HVX_PLE_WINDOW_MAX) {
		v->ple_window = min_t(u32, v->ple_window * 2, HVX_PLE_WINDOW_MAX);
		v->ple_window_dirty = true;
	}
	hvx_vcpu_on_spin(v);
	return handle_skip(v);
}

/**
 * hvx_vmx_ple_reset - back to the first PAUSE-loop window
 * @v: the vCPU, whose thread was scheduled in or starts a run.
 *
 * Context: the vCPU's own thread (also from its preempt notifier, with
 * preemption disabled); the VMCS need not be current: the next entry
 * writes the field.
 */
void hvx_vmx_ple_reset(struct hvx_vmx_vcpu *v)
{
	if (v->ple_window > HVX_PLE_WINDOW) {
		v->ple_window = HVX_PLE_WINDOW;
		v->ple_window_dirty = true;
	}
}

static int handle_ud(struct hvx_vmx_vcpu *v)
{
	hvx_vmx_inject_exception(v, X86_TRAP_UD, false, 0);
	return HVX_RUN_RESUME;
}

static int handle_gp(struct hvx_vmx_vcpu *v)
{
	hvx_vmx_inject_exception(v, X86_TRAP_GP, true, 0);
	return HVX_RUN_RESUME;
}

/*
 * An intercepted exception that happened while the CPU delivered another
 * event (IDT-vectoring information, SDM Vol. 3C 28.2.4) replaces it, as
 * the CPU handles a benign exception after any other one serially (SDM
 * Vol. 3A 6.15, Table 6-5): a re-executed instruction raises a dropped
 * exception again. An external interrupt or NMI would be lost instead;
 * that stops the VM as an unhandled event.
 */
static bool vectoring_lost(struct hvx_vmx_vcpu *v)
{
	u32 type = v->reinject_info & INTR_INFO_INTR_TYPE_MASK;

	return (v->reinject_info & INTR_INFO_VALID_MASK) &&
	       (type == INTR_TYPE_EXT_INTR || type == INTR_TYPE_NMI_INTR);
}

/* Did the guest enable alignment checking: CPL 3, CR0.AM, RFLAGS.AC? */
static bool guest_wants_ac(struct hvx_vmx_vcpu *v)
{
	/* CPL is SS.DPL (SDM Vol. 3C 27.3.1.2); CR0.AM is the guest's own. */
	return (hvx_vmx_rflags(v) & X86_EFLAGS_AC) &&
	       (hvx_vmx_read(v, GUEST_CR0) & X86_CR0_AM) &&
	       ((hvx_vmx_read(v, GUEST_SS_AR_BYTES) >> 5) & 3) == 3;
}

/*
 * #AC (SDM Vol. 3A 6.15, interrupt 17). Alignment checking the guest
 * enabled is its own business: reflect it. Otherwise the #AC is a split
 * lock detected because the host enabled detection (MSR_TEST_CTRL, the
 * kernel's split_lock_detect= policy), and that policy decides, as for a
 * task.
 */
static int handle_ac(struct hvx_vmx_vcpu *v, u32 error)
{
	if (vectoring_lost(v))
		return internal_error(v, HVX_INTERNAL_BAD_EVENT);
	if (boot_cpu_has(X86_FEATURE_SPLIT_LOCK_DETECT) && !guest_wants_ac(v)) {
		switch (hvx_guest_split_lock(hvx_vmx_rip(v))) {
		case 1:
			return HVX_RUN_RESUME;
		case 0:		/* fatal: SIGBUS is queued for the VMM */
			return internal_error(v, HVX_INTERNAL_UNHANDLED_EXIT);
		}
	}
	hvx_vmx_inject_exception(v, X86_TRAP_AC, true, error);
	return HVX_RUN_RESUME;
}

/* DR7 enables breakpoint n (Ln or Gn, SDM Vol. 3B 18.2.4): bit n. */
static u64 dr7_enabled(u64 dr7)
{
	u64 mask = 0;
	int n;

	for (n = 0; n < 4; n++)
		if (dr7 & (3 << (2 * n)))
			mask |= BIT(n);
	return mask;
}

/*
 * #DB (SDM Vol. 3B 18.2.3, 18.3). A #DB that causes a VM exit leaves DR6
 * alone and reports its bits in the exit qualification (SDM Vol. 3C
 * 28.1, Table 28-1): hvx applies them to the guest's DR6 and delivers the
 * #DB. B0-B3 of breakpoints the guest did not enable are dropped (the CPU
 * may report matches of disabled ones, and the hardware DR0-3 then hold
 * someone else's addresses). INT1 is re-injected as the privileged
 * software exception it is, past the instruction.
 */
static int handle_db(struct hvx_vmx_vcpu *v, u32 info)
{
	u64 q = v->exit_qual, dr6 = v->dr[4];
	u64 intr;

	if (vectoring_lost(v))
		return internal_error(v, HVX_INTERNAL_BAD_EVENT);
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION) {
		v->reinject_info = INTR_INFO_VALID_MASK |
				   INTR_TYPE_PRIV_SW_EXCEPTION | X86_TRAP_DB;
		v->reinject_err = 0;
		v->reinject_len = v->instr_len;
		v->stats.s.exceptions_injected++;
		return HVX_RUN_RESUME;
	}
	dr6 &= ~(u64)DR_TRAP_BITS;
	dr6 |= HVX_DR6_FIXED_1 |
	       (q & dr7_enabled(hvx_vmx_read(v, GUEST_DR7))) |
	       (q & (DR_STEP | HVX_DR6_BD));
	if (q & HVX_DR6_RTM)	/* active low in DR6 */
		dr6 &= ~HVX_DR6_RTM;
	v->dr[4] = dr6;
	/*
	 * A single-step trap under STI or MOV SS blocking stays pending in
	 * the VMCS, or VM entry fails its check (SDM Vol. 3C 27.3.1.5),
	 * which wants BS clear when DEBUGCTL.BTF is set.
	 */
	intr = hvx_vmx_intr_state(v);
	if ((hvx_vmx_rflags(v) & X86_EFLAGS_TF) &&
	    (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) &&
	    !(hvx_vmx_read(v, GUEST_IA32_DEBUGCTL) & DEBUGCTLMSR_BTF))
		hvx_vmx_write(v, GUEST_PENDING_DBG_EXCEPTIONS,
			      hvx_vmx_read(v, GUEST_PENDING_DBG_EXCEPTIONS) |
			      DR_STEP);
	hvx_vmx_inject_exception(v, X86_TRAP_DB, false, 0);
	return HVX_RUN_RESUME;
}

/*
 * Exceptions in HVX_EXCEPTION_BITMAP, and NMIs. NMIs and machine checks
 * were handed to the host's handlers with interrupts off right after the
 * exit (hvx_vmx_mce_irqoff()); the guest then goes on, as it would after
 * a corrected error, or after the host's handler returned from a
 * recoverable one in user mode (SIGBUS for poison is the VMM's to see).
 */
static int handle_exception_nmi(struct hvx_vmx_vcpu *v)
{
	u32 info = hvx_vmx_read(v, VM_EXIT_INTR_INFO);

	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
		return HVX_RUN_RESUME;
	if (v->mce_exit == HVX_MCE_ENTRY)	/* mce_test_hook only */
		return hvx_vmx_failed_entry(v, EXIT_FAILED_ENTRY |
					   EXIT_REASON_MCE_DURING_VMENTRY,
					   HVX_CHECK_UNKNOWN, EXIT_FAILED_ENTRY |
					   EXIT_REASON_MCE_DURING_VMENTRY);
	if (v->mce_exit == HVX_MCE_EXIT)
		return HVX_RUN_RESUME;
	switch (info & INTR_INFO_VECTOR_MASK) {
	case X86_TRAP_AC:
		return handle_ac(v, hvx_vmx_read(v, VM_EXIT_INTR_ERROR_CODE));
	case X86_TRAP_DB:
		return handle_db(v, info);
	}
	return handle_unhandled(v);
}

static int handle_triple_fault(struct hvx_vmx_vcpu *v)
{
	v->run->exit_reason = HVX_EXIT_SHUTDOWN;
	return HVX_RUN_USER;
}

/*
 * A HLT with interrupts off that sleeps in the kernel: the guest was
 * offered PV_UNHALT (its spinlocks halt so while they wait for a lock and
 * are woken by KVM_HC_KICK_CPU), runs in long mode (a real-mode or 32-bit
 * HLT with interrupts off, e.g. of an AP's boot trampoline, is a stop
 * the VMM sees), another vCPU can kick it, and the in-kernel local APIC
 * delivers NMIs and INIT, which also end it.
 */
static bool halt_irqs_off_in_kernel(struct hvx_vmx_vcpu *v)
{
	return (v->pv_features & BIT(KVM_FEATURE_PV_UNHALT)) &&
	       (v->efer & EFER_LMA) && v->apic_ops &&
	       atomic_read(&v->vm->nr_vcpus) > 1;
}

/*
 * HLT with interrupts on: the vCPU sleeps in hvx_vmx_handle_requests()'s
 * caller until an interrupt or NMI is queued (no busy loop, no exit).
 * HLT with interrupts off can only end with an NMI, INIT or reset:
 * userspace decides (HVX_EXIT_HLT), as before in-kernel devices exist,
 * unless halt_irqs_off_in_kernel(): then it sleeps until a kick, an NMI
 * or INIT. A kick that came before the HLT ends it at once, so a wake-up
 * between the guest's last look at its lock and its HLT is not lost.
 */
static int handle_hlt(struct hvx_vmx_vcpu *v)
{
	bool irqs_on;

	v->stats.s.halts++;
	/* Whether it may sleep depends on every interrupt source. */
	hvx_vmx_request_event(v);
	hvx_vmx_skip_instruction(v, v->instr_len);
	if (xchg(&v->pv_unhalted, 0))
		return HVX_RUN_RESUME;
	irqs_on = hvx_vmx_rflags(v) & X86_EFLAGS_IF;
	if (irqs_on || halt_irqs_off_in_kernel(v)) {
		v->halt_irqs_off = !irqs_on;
		if (irqs_on ? !hvx_vmx_event_queued(v) :
			      !READ_ONCE(v->nmi_pending))
			v->mp_state = HVX_MP_HALTED;
		return HVX_RUN_RESUME;
	}
	v->run->exit_reason = HVX_EXIT_HLT;
	return HVX_RUN_USER;
}

static int handle_dr(struct hvx_vmx_vcpu *v)
{
	/* Exit qualification: SDM Vol. 3C 28.2.1, Table 28-4. */
	unsigned int dr = v->exit_qual & 7;
	bool to_reg = v->exit_qual & BIT(4);
	unsigned int gpr = (v->exit_qual >> 8) & 0xf;
	unsigned long *reg = &v->gprs[gpr];

	if (gpr == HVX_RSP) {
		hvx_vmx_regs_cache(v, true);
		reg = (unsigned long *)&v->rsp;
	}
	if (dr == 4 || dr == 5) {
		if (v->cr4 & X86_CR4_DE)
			return handle_ud(v);
		dr += 2;
	}
	if (to_reg) {
		*reg = dr == 7 ? hvx_vmx_read(v, GUEST_DR7) :
		       dr == 6 ? v->dr[4] : v->dr[dr];
	} else {
		u64 val = *reg;

		if (dr >= 6 && val >> 32)
			return handle_gp(v);
		if (dr == 7) {
			hvx_vmx_write(v, GUEST_DR7, val | HVX_DR7_FIXED_1);
			/* L0-L3, G0-G3: the guest's DR0-3 must be live. */
			v->dr_armed = val & 0xff;
		} else if (dr == 6) {
			v->dr[4] = val | HVX_DR6_FIXED_1;
		} else {
			v->dr[dr] = val;
		}
	}
	return handle_skip(v);
}

static int handle_io(struct hvx_vmx_vcpu *v)
{
	/* Exit qualification: SDM Vol. 3C 28.2.1, Table 28-5. */
	u64 q = v->exit_qual;
	struct hvx_io_op *io = &v->io;
	struct hvx_run *run = v->run;
	int ret;

	memset(io, 0, sizeof(*io));
	io->size = (q & 7) + 1;
	io->in = q & BIT(3);
	io->string = q & BIT(4);
	io->rep = q & BIT(5);
	io->port = q >> 16;
	run->exit_reason = HVX_EXIT_IO;
	run->io.direction = io->in ? HVX_EXIT_IO_IN : HVX_EXIT_IO_OUT;
	run->io.size = io->size;
	run->io.port = io->port;
	run->io.data_offset = HVX_RUN_IO_DATA_OFFSET;
	hvx_stats_top_add(v->stats.s.io_ports,
			  io->port | (io->in ? HVX_STATS_IO_IN : 0));
	if (io->string) {
		ret = hvx_vmx_handle_string_io(v);
	} else {
		io->count = 1;
		run->io.count = 1;
		if (!io->in)
			memcpy(v->io_data, &v->gprs[HVX_RAX], io->size);
		hvx_vmx_set_pending(v, HVX_PENDING_IO);
		ret = HVX_RUN_USER;
	}
	/* The fast path may have found no device on the port already. */
	if (v->pending == HVX_PENDING_IO && !v->io_unclaimed) {
		int k = hvx_vmx_io_in_kernel(v);

		if (k != -ENOENT)
			return k;
	}
	return ret;
}

/*
 * Exit qualification bits 5:3 of an EPT violation: the access the EPT
 * allowed to the GPA (SDM Vol. 3C 28.2.1, Table 28-7); all clear when no
 * leaf maps it. Defined here: the kernel's names for them differ between
 * versions (EPT_VIOLATION_RWX_MASK in 6.1, EPT_VIOLATION_PROT_* later).
 */
#define HVX_EPT_QUAL_PROT	(7ULL << 3)

static int handle_ept_violation(struct hvx_vmx_vcpu *v)
{
	/* Exit qualification: SDM Vol. 3C 28.2.1, Table 28-7. */
	u64 gpa = hvx_vmx_xfield(v, HVX_XF_GPA);
	bool write = v->exit_qual & EPT_VIOLATION_ACC_WRITE;
	u64 gfn = gpa >> PAGE_SHIFT;
	unsigned int i = gfn % HVX_MMIO_HINTS;
	unsigned long gen = hvx_mem_gen(v->mem) << 1 | 1;
	int ret;

	v->stats.s.ept_violations++;
	hvx_stats_page_add(&v->stats, gpa & PAGE_MASK);
	/*
	 * A frame that had no slot at this generation of the slot table
	 * still has none (KVM's MMIO SPTEs and their generation): no
	 * lookup. The generation is read before the fault looks.
	 */
	if (v->mmio_hint[i] == gfn && v->mmio_nosl[i] == gen) {
		ret = HVX_FAULT_MMIO;
	} else {
		smp_rmb();	/* the generation before the slots: hvx_mem_changed() */
		ret = hvx_ept_fault(v->mem, gpa, write,
				    v->exit_qual & HVX_EPT_QUAL_PROT,
				    &v->stats.s, &v->ept_hint);
		if (ret < 0)
			return ret;
		if (ret == HVX_FAULT_MAPPED) {
			v->ram_fault = true;	/* hvx_vmx_run() goes on */
			return HVX_RUN_RESUME;
		}
		/* The next exit here reads the emulator's fields early (exit.c). */
		v->mmio_hint[i] = gfn;
		v->mmio_nosl[i] = ret == HVX_FAULT_MMIO ? gen : 0;
	}
	v->stats.s.ept_mmio++;
	/*
	 * Not RAM. Only an access through a linear address by an
	 * instruction can be emulated; a guest paging-structure or event
	 * delivery access to MMIO stops the VM.
	 */
	if (!(v->exit_qual & EPT_VIOLATION_GVA_TRANSLATED) ||
	    (v->reinject_info & INTR_INFO_VALID_MASK))
		return internal_error(v, HVX_INTERNAL_BAD_EVENT);
	return hvx_vmx_handle_mmio(v, gpa);
}

/*
 * APIC-access exit (SDM Vol. 3C 30.4; qualification Table 28-6: offset in
 * bits 11:0, access type in 15:12). A linear read or write by an
 * instruction is emulated like MMIO at the xAPIC base, where the local
 * APIC claims the page on the bus; anything else (instruction fetch,
 * access during event delivery) stops the VM, as for other MMIO.
 */
static int handle_apic_access(struct hvx_vmx_vcpu *v)
{
	u32 type = (v->exit_qual >> 12) & 0xf;

	if (type > 1 || (v->reinject_info & INTR_INFO_VALID_MASK))
		return internal_error(v, HVX_INTERNAL_BAD_EVENT);
	return hvx_vmx_handle_mmio(v, APIC_DEFAULT_PHYS_BASE |
				   (v->exit_qual & 0xfff));
}

static int handle_xsetbv(struct hvx_vmx_vcpu *v);

typedef int (*exit_handler_t)(struct hvx_vmx_vcpu *v);

/* One handler per basic exit reason (SDM Vol. 3D Appendix C). */
static const exit_handler_t exit_handlers[] = {
	[EXIT_REASON_EXCEPTION_NMI]	  = handle_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = handle_resume,
	[EXIT_REASON_TRIPLE_FAULT]	  = handle_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW]	  = handle_interrupt_window,
	[EXIT_REASON_NMI_WINDOW]	  = handle_reevaluate,
	[EXIT_REASON_CPUID]		  = hvx_vmx_handle_cpuid,
	[EXIT_REASON_HLT]		  = handle_hlt,
	[EXIT_REASON_INVD]		  = handle_skip,
	[EXIT_REASON_RDPMC]		  = handle_gp,
	[EXIT_REASON_VMCALL]		  = hvx_vmx_handle_vmcall,
	[EXIT_REASON_VMCLEAR]		  = handle_ud,
	[EXIT_REASON_VMLAUNCH]		  = handle_ud,
	[EXIT_REASON_VMPTRLD]		  = handle_ud,
	[EXIT_REASON_VMPTRST]		  = handle_ud,
	[EXIT_REASON_VMREAD]		  = handle_ud,
	[EXIT_REASON_VMRESUME]		  = handle_ud,
	[EXIT_REASON_VMWRITE]		  = handle_ud,
	[EXIT_REASON_VMOFF]		  = handle_ud,
	[EXIT_REASON_VMON]		  = handle_ud,
	[EXIT_REASON_CR_ACCESS]		  = hvx_vmx_handle_cr,
	[EXIT_REASON_DR_ACCESS]		  = handle_dr,
	[EXIT_REASON_IO_INSTRUCTION]	  = handle_io,
	[EXIT_REASON_MSR_READ]		  = hvx_vmx_handle_rdmsr,
	[EXIT_REASON_MSR_WRITE]		  = hvx_vmx_handle_wrmsr,
	[EXIT_REASON_MWAIT_INSTRUCTION]	  = handle_ud,
	[EXIT_REASON_MONITOR_INSTRUCTION] = handle_ud,
	[EXIT_REASON_PAUSE_INSTRUCTION]	  = handle_pause,
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = handle_reevaluate,
	[EXIT_REASON_APIC_ACCESS]	  = handle_apic_access,
	[EXIT_REASON_EOI_INDUCED]	  = hvx_vmx_handle_eoi_induced,
	[EXIT_REASON_EPT_VIOLATION]	  = handle_ept_violation,
	[EXIT_REASON_INVEPT]		  = handle_ud,
	[EXIT_REASON_PREEMPTION_TIMER]	  = handle_resume,
	[EXIT_REASON_INVVPID]		  = handle_ud,
	[EXIT_REASON_WBINVD]		  = handle_wbinvd,
	[EXIT_REASON_XSETBV]		  = handle_xsetbv,
	[EXIT_REASON_APIC_WRITE]	  = hvx_vmx_handle_apic_write,
	[EXIT_REASON_VMFUNC]		  = handle_ud,
};

int hvx_vmx_failed_entry(struct hvx_vmx_vcpu *v, u32 reason,
			 enum hvx_entry_check check, u32 hw_reason)
{
	struct hvx_run *run = v->run;

	run->exit_reason = HVX_EXIT_FAIL_ENTRY;
	memset(&run->fail_entry, 0, sizeof(run->fail_entry));
	run->fail_entry.hardware_entry_failure_reason = hw_reason;
	run->fail_entry.qualification = v->exit_qual;
	run->fail_entry.cpu = raw_smp_processor_id();
	switch (reason & 0xffff) {
	case EXIT_REASON_INVALID_STATE:
		run->fail_entry.kind = HVX_ENTRY_FAIL_GUEST_STATE;
		run->fail_entry.check = check;
		break;
	case EXIT_REASON_MSR_LOAD_FAIL:
		run->fail_entry.kind = HVX_ENTRY_FAIL_MSR_LOADING;
		break;
	case EXIT_REASON_MCE_DURING_VMENTRY:
		/* The host's handler ran (hvx_vmx_mce_irqoff()); KVM stops too. */
		run->fail_entry.kind = HVX_ENTRY_FAIL_MACHINE_CHECK;
		break;
	default:
		return internal_error(v, HVX_INTERNAL_UNHANDLED_EXIT);
	}
	pr_debug("VM entry failed: reason %#x check %u\n", reason, check);
	return HVX_RUN_USER;
}

static int handle_xsetbv(struct hvx_vmx_vcpu *v)
{
	u64 val = (u32)v->gprs[HVX_RAX] | ((u64)(u32)v->gprs[HVX_RDX] << 32);
	u64 allowed = hvx_caps.guest_xcr0;

	if (!allowed)
		return handle_ud(v);
	/* XCR0 rules: SDM Vol. 1 13.3 and the XSETBV entry of Vol. 2D. */
	if ((u32)v->gprs[HVX_RCX] != XCR_XFEATURE_ENABLED_MASK ||
	    !(val & XFEATURE_MASK_FP) || (val & ~allowed) ||
	    ((val & XFEATURE_MASK_YMM) && !(val & XFEATURE_MASK_SSE)))
		return handle_gp(v);
	v->xcr0 = val;
	return handle_skip(v);
}

/* Count the exit and run its handler (preemptible). */
int hvx_vmx_dispatch_exit(struct hvx_vmx_vcpu *v, enum hvx_entry_check check)
{
	u32 reason = v->exit_reason & 0xffff;
	int ret;

	v->stats.s.exits++;
	if (reason < HVX_STATS_EXIT_REASONS)
		v->stats.s.exits_by_reason[reason]++;
	else
		v->stats.s.exits_other++;
	if (v->exit_reason & EXIT_FAILED_ENTRY) {
		v->stats.s.entry_failures++;
		return hvx_vmx_failed_entry(v, v->exit_reason, check,
					   v->exit_reason);
	}
	if (reason < ARRAY_SIZE(exit_handlers) && exit_handlers[reason])
		ret = exit_handlers[reason](v);
	else
		ret = handle_unhandled(v);
	/* A fault during a double fault (hvx_vmx_inject_exception()). */
	if (unlikely(v->triple_fault)) {
		v->triple_fault = false;
		if (ret == HVX_RUN_RESUME)
			ret = handle_triple_fault(v);
	}
	return ret;
}
