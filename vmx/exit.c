// SPDX-License-Identifier: GPL-2.0
/*
 * exit.c - one VM entry, and the table of VM-exit handlers.
 *
 * hvx_vmx_run() enters the guest once and handles the exit. Each handler
 * returns HVX_RUN_RESUME (enter again), HVX_RUN_USER (struct hvx_run is
 * filled for userspace) or a negative errno. Handlers run preemptible with
 * the guest's RIP, RSP, RFLAGS and GPRs cached in struct hvx_vmx_vcpu;
 * they reach other VMCS fields through hvx_vmx_read()/hvx_vmx_write().
 *
 * Statistics (stats.h) are counted at the one dispatch point in
 * hvx_vmx_run() (exits by reason, handling time) and in the handlers that
 * know more (port, MSR, guest page): plain increments on the vCPU's own
 * struct, and two RDTSCs per exit. The hvx_vm_entry/hvx_vm_exit
 * tracepoints (vmx_trace.h) bracket each stay in the guest.
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
		 "Handle CPUID, VMCALL and port I/O to the in-kernel PIC and UART with interrupts off and re-enter the guest at once (default: on)");

static bool check_entry;
module_param(check_entry, bool, 0644);
MODULE_PARM_DESC(check_entry,
		 "Debug: run the SDM guest-state checks in software before every VM entry and report the failing one without entering (default: off)");

/*
 * Interruption-information fields (SDM Vol. 3C 25.8.3, Table 25-17) use
 * the INTR_INFO_* and INTR_TYPE_* definitions of <asm/vmx.h>.
 */
#define EXIT_FAILED_ENTRY	BIT(31)

/* DR6 and #DB exit qualification bits besides B0-B3, BS (SDM Vol. 3B 18.2.3). */
#define HVX_DR6_BD		BIT_ULL(13)
#define HVX_DR6_RTM		BIT_ULL(16)

/*
 * Host state switched around one entry. What a VM exit does not restore
 * and the host does not need before the run ends (SDM Vol. 3C 28.5) is
 * switched once per run (run.c, struct hvx_vmx_host_state).
 */
struct host_state {
	unsigned long dr[4];	/* DR0-3, where compat.h needs a copy */
};

/* Exceptions that push an error code (SDM Vol. 3A 6.15; 27.2.1.3). */
static bool exception_has_error_code(u8 vector)
{
	return vector == X86_TRAP_DF || vector == X86_TRAP_TS ||
	       vector == X86_TRAP_NP || vector == X86_TRAP_SS ||
	       vector == X86_TRAP_GP || vector == X86_TRAP_PF ||
	       vector == X86_TRAP_AC;
}

/*
 * Faults (SDM Vol. 3A 6.5, 6.15): every exception but the traps #BP and
 * #OF, #DB (a trap or, for an instruction breakpoint, a fault whose
 * handler sets RF itself, 17.3.1.1), and the aborts #DF and #MC.
 */
static bool exception_is_fault(u8 vector)
{
	return vector != X86_TRAP_DB && vector != X86_TRAP_BP &&
	       vector != X86_TRAP_OF && vector != X86_TRAP_DF &&
	       vector != X86_TRAP_MC;
}

/* Contributory exceptions (SDM Vol. 3A 6.15, Table 6-4). */
static bool exception_is_contributory(u8 vector)
{
	return vector == X86_TRAP_DE || vector == X86_TRAP_TS ||
	       vector == X86_TRAP_NP || vector == X86_TRAP_SS ||
	       vector == X86_TRAP_GP;
}

/**
 * hvx_vmx_inject_exception - deliver a hardware exception at next entry
 * @v: the vCPU.
 * @vector: exception vector (SDM Vol. 3A 6.15).
 * @has_error: the exception pushes an error code.
 * @error: the error code.
 *
 * The error code is dropped at entry in real mode, where none is pushed
 * (SDM Vol. 3C 27.2.1.3).
 *
 * A fault sets RFLAGS.RF, so that the RFLAGS image pushed for it has RF
 * set as the CPU's own delivery of a fault would (SDM Vol. 3A 17.3.1.1):
 * VM entry delivers an injected event with the guest RFLAGS of the VMCS
 * as they are (SDM Vol. 3C 27.6.1) and clears RF only afterwards.
 *
 * An exception waiting for re-injection (its delivery caused the exit)
 * combines with the new one as SDM Vol. 3A Table 6-5 says: a
 * contributory exception or #PF during a #PF, or a contributory one
 * during a contributory one, is a double fault; any of them during a
 * double fault shuts the vCPU down (@v->triple_fault, reported at the
 * next entry as HVX_EXIT_SHUTDOWN). Otherwise the new one replaces it,
 * as the CPU would handle them serially.
 */
void hvx_vmx_inject_exception(struct hvx_vmx_vcpu *v, u8 vector,
			      bool has_error, u32 error)
{
	u32 old = v->reinject_info;
	u8 first = old & INTR_INFO_VECTOR_MASK;
	bool second_bad = exception_is_contributory(vector) ||
			  vector == X86_TRAP_PF;

	/* The instruction did not complete: its data breakpoints are void. */
	v->db_hits = 0;
	if ((old & INTR_INFO_VALID_MASK) &&
	    (old & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION &&
	    second_bad) {
		if (first == X86_TRAP_DF) {
			v->triple_fault = true;
			v->reinject_info = 0;
			return;
		}
		if (first == X86_TRAP_PF ||
		    (exception_is_contributory(first) &&
		     exception_is_contributory(vector))) {
			vector = X86_TRAP_DF;
			has_error = true;
			error = 0;
		}
	}
	if (exception_is_fault(vector))
		hvx_vmx_reg_set(v, HVX_REG_RFLAGS,
				hvx_vmx_rflags(v) | X86_EFLAGS_RF);
	v->reinject_info = INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION | vector |
			   (has_error ? INTR_INFO_DELIVER_CODE_MASK : 0);
	v->reinject_err = error;
	v->reinject_len = 0;
	v->stats.s.exceptions_injected++;
}

/**
 * hvx_vmx_skip_instruction - advance RIP past an emulated instruction
 * @v: the vCPU.
 * @len: instruction length, bytes.
 *
 * Also ends blocking by STI and MOV SS, as executing the instruction would
 * (SDM Vol. 3C 25.4.2, Table 25-3), and raises the single-step trap the
 * CPU would have raised after it when RFLAGS.TF is set (and
 * IA32_DEBUGCTL.BTF clear): #DB with DR6.BS
 * (SDM Vol. 3B 18.3.1.4), with B0-B3 of the data and I/O breakpoints its
 * accesses matched (@v->db_hits, one #DB for all, as the CPU reports
 * them). Clears RFLAGS.RF, as the completion of an instruction does
 * (SDM Vol. 3A 17.3.1.1).
 */
void hvx_vmx_skip_instruction(struct hvx_vmx_vcpu *v, u32 len)
{
	u64 rip = hvx_vmx_rip(v) + len;
	u64 rflags = hvx_vmx_rflags(v);
	bool step = rflags & X86_EFLAGS_TF;
	u32 intr;

	if (!(v->efer & EFER_LMA))
		rip &= 0xffffffff;
	hvx_vmx_reg_set(v, HVX_REG_RIP, rip);
	if (rflags & X86_EFLAGS_RF)
		hvx_vmx_reg_set(v, HVX_REG_RFLAGS, rflags & ~X86_EFLAGS_RF);
	/* With DEBUGCTL.BTF, TF traps on branches only: none is emulated. */
	if (step && (hvx_vmx_read(v, GUEST_IA32_DEBUGCTL) & DEBUGCTLMSR_BTF))
		step = false;
	if (step || v->db_hits) {
		if (v->db_hits)
			v->dr[4] = (v->dr[4] & ~(u64)DR_TRAP_BITS) | v->db_hits;
		if (step)
			v->dr[4] |= DR_STEP;
		hvx_vmx_inject_exception(v, X86_TRAP_DB, false, 0);
	}
	intr = hvx_vmx_intr_state(v);
	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		hvx_vmx_reg_set(v, HVX_REG_INTR,
				intr & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
}

/* Vector of an interrupt the in-kernel controllers hold for @v, or -1. */
static int dev_intr_pending(struct hvx_vmx_vcpu *v)
{
	return v->dev_ops ? v->dev_ops->intr_pending(v) : -1;
}

static bool event_queued(struct hvx_vmx_vcpu *v)
{
	return READ_ONCE(v->irq_vector) >= 0 || READ_ONCE(v->nmi_pending);
}

/**
 * hvx_vmx_queue_interrupt - queue an external interrupt from userspace
 * @v: the vCPU (not running).
 * @vector: 32..255.
 *
 * Context: any thread; a running vCPU is kicked, a halted one woken.
 * Return: 0, -EINVAL for a vector below 32, -EBUSY if an interrupt is
 * already queued.
 */
int hvx_vmx_queue_interrupt(struct hvx_vmx_vcpu *v, u32 vector)
{
	if (vector < 32 || vector > 255)
		return -EINVAL;
	if (cmpxchg(&v->irq_vector, -1, vector) != -1)
		return -EBUSY;
	hvx_vmx_kick_event(v);
	return 0;
}

/**
 * hvx_vmx_queue_nmi - queue an NMI from userspace
 * @v: the vCPU; any thread, as hvx_vmx_queue_interrupt().
 *
 * Return: 0, -EBUSY if one is queued, -EOPNOTSUPP without virtual NMIs
 * (SDM Vol. 3C 25.6.1), which hvx needs to track NMI blocking.
 */
int hvx_vmx_queue_nmi(struct hvx_vmx_vcpu *v)
{
	if (!(hvx_caps.pin & PIN_BASED_VIRTUAL_NMIS))
		return -EOPNOTSUPP;
	if (xchg(&v->nmi_pending, 1))
		return -EBUSY;
	hvx_vmx_kick_event(v);
	return 0;
}

/**
 * hvx_vmx_get_events - report queued events
 * @v: the vCPU (not running).
 * @e: output (zeroed by the caller).
 */
void hvx_vmx_get_events(struct hvx_vmx_vcpu *v, struct hvx_vcpu_events *e)
{
	u32 info = v->reinject_info;

	if (info & INTR_INFO_VALID_MASK) {
		switch (info & INTR_INFO_INTR_TYPE_MASK) {
		case INTR_TYPE_HARD_EXCEPTION:
			e->exception.pending = 1;
			e->exception.vector = info & INTR_INFO_VECTOR_MASK;
			e->exception.has_error_code = !!(info & INTR_INFO_DELIVER_CODE_MASK);
			e->exception.error_code = v->reinject_err;
			break;
		case INTR_TYPE_EXT_INTR:
			e->interrupt.pending = 1;
			e->interrupt.vector = info & INTR_INFO_VECTOR_MASK;
			break;
		case INTR_TYPE_NMI_INTR:
			e->nmi.pending = 1;
			break;
		}
		/* Software events are re-executed by the guest if dropped. */
	}
	if (READ_ONCE(v->irq_vector) >= 0) {
		e->interrupt.pending = 1;
		e->interrupt.vector = READ_ONCE(v->irq_vector);
	}
	if (READ_ONCE(v->nmi_pending))
		e->nmi.pending = 1;
}

/**
 * hvx_vmx_set_events - replace the queued events
 * @v: the vCPU (not running).
 * @e: the events (see struct hvx_vcpu_events).
 *
 * The reserved tail was checked by the ioctl dispatcher (kmod/ioctl.c).
 * Return: 0, or -EINVAL with nothing changed: nonzero flags or padding;
 * an exception vector above 31 or equal to 2 (NMI), or an error
 * code flag that does not match the vector (VM entry would fail, SDM
 * Vol. 3C 27.2.1.3); an interrupt vector below 32; an NMI without
 * virtual-NMI support.
 */
int hvx_vmx_set_events(struct hvx_vmx_vcpu *v, const struct hvx_vcpu_events *e)
{
	if (e->flags || e->exception.pad || e->interrupt.pad[0] ||
	    e->interrupt.pad[1] || e->nmi.pad[0] || e->nmi.pad[1] ||
	    e->nmi.pad[2] || e->exception.pending > 1 ||
	    e->interrupt.pending > 1 || e->nmi.pending > 1 ||
	    e->exception.has_error_code > 1)
		return -EINVAL;
	if (e->exception.pending &&
	    (e->exception.vector > 31 || e->exception.vector == X86_TRAP_NMI ||
	     e->exception.has_error_code !=
	     exception_has_error_code(e->exception.vector)))
		return -EINVAL;
	if (e->interrupt.pending && e->interrupt.vector < 32)
		return -EINVAL;
	if (e->nmi.pending && !(hvx_caps.pin & PIN_BASED_VIRTUAL_NMIS))
		return -EINVAL;

	v->reinject_info = 0;
	if (e->exception.pending)
		hvx_vmx_inject_exception(v, e->exception.vector,
					 e->exception.has_error_code,
					 e->exception.error_code);
	WRITE_ONCE(v->irq_vector, e->interrupt.pending ? e->interrupt.vector : -1);
	WRITE_ONCE(v->nmi_pending, e->nmi.pending);
	hvx_vmx_request_event(v);
	return 0;
}

/**
 * hvx_vmx_kick - make the vCPU's thread look at its requests soon
 * @v: the vCPU.
 *
 * Wakes the thread if it sleeps (halted, waiting for SIPI) and, if it is
 * running guest code on another CPU, sends that CPU a reschedule IPI:
 * external interrupts cause VM exits (SDM Vol. 3C 26.2). The caller has
 * set a request bit first; the entry path sets guest_cpu before it checks
 * the bits, with full barriers on both sides, so one of the two sees the
 * other. Context: any, including hard interrupt context (device timers).
 */
void hvx_vmx_kick(struct hvx_vmx_vcpu *v)
{
	int cpu, target;

	/* The request bit before guest_cpu: pairs with hvx_vmx_run()'s smp_mb(). */
	smp_mb__after_atomic();
	wake_up_interruptible(&v->wq);
	cpu = get_cpu();
	target = READ_ONCE(v->guest_cpu);
	if (target >= 0 && target != cpu)
		smp_send_reschedule(target);
	put_cpu();
}

/**
 * hvx_vmx_kick_event - an interrupt or NMI source changed: tell the vCPU
 * @v: the vCPU.
 *
 * Sets HVX_REQ_EVENT, so that a halted vCPU re-checks its interrupt
 * sources, and kicks it (hvx_vmx_kick()).
 * Context: any, including hard interrupt context.
 */
void hvx_vmx_kick_event(struct hvx_vmx_vcpu *v)
{
	set_bit(HVX_REQ_EVENT, &v->requests);
	hvx_vmx_kick(v);
}

/**
 * hvx_vmx_request_event - re-evaluate interrupts before the next entry
 * @v: the vCPU.
 *
 * Interrupt evaluation (the controllers' pending vectors, window exits,
 * the TPR threshold, the virtual-APIC page) runs before an entry only
 * when HVX_REQ_EVENT is set, as KVM's KVM_REQ_EVENT. Whoever changes
 * what it depends on sets it: this function for the vCPU's own thread
 * (an EOI, a TPR or APIC register write, a window exit, an ioctl that
 * changes events or registers), hvx_vmx_kick_event() for other contexts.
 * Context: any; does not kick (the caller is the vCPU's thread, or the
 * vCPU is not running).
 */
void hvx_vmx_request_event(struct hvx_vmx_vcpu *v)
{
	set_bit(HVX_REQ_EVENT, &v->requests);
}

/**
 * hvx_vmx_send_ipi - deliver INIT or SIPI to a vCPU
 * @v: the target.
 * @kind: HVX_IPI_INIT or HVX_IPI_SIPI (checked by the caller).
 * @vector: SIPI vector.
 *
 * Context: any thread; the target's own thread acts on it.
 */
void hvx_vmx_send_ipi(struct hvx_vmx_vcpu *v, u8 kind, u8 vector)
{
	if (kind == HVX_IPI_SIPI) {
		WRITE_ONCE(v->sipi_vector, vector);
		smp_wmb();	/* vector before the request bit */
		set_bit(HVX_REQ_SIPI, &v->requests);
	} else {
		set_bit(HVX_REQ_INIT, &v->requests);
	}
	hvx_vmx_kick(v);
}

/**
 * hvx_vmx_handle_requests - act on INIT, SIPI and queued events
 * @v: the vCPU; called by its own thread before each entry.
 *
 * INIT resets the vCPU and, for an application processor, waits for a
 * SIPI; a SIPI starts a waiting vCPU in real mode at vector * 4096 (SDM
 * Vol. 3A 9.4.4.1, 11.6.1); a queued interrupt or NMI wakes a halted one.
 * A vCPU that cannot run consumes HVX_REQ_EVENT here (so that its thread
 * sleeps), and sets it again when it becomes runnable: the next entry
 * then evaluates interrupts.
 */
void hvx_vmx_handle_requests(struct hvx_vmx_vcpu *v)
{
	if (test_and_clear_bit(HVX_REQ_INIT, &v->requests)) {
		u64 apic_base = v->msr.apic_base;

		hvx_vmx_reset(v);
		if (v->apic_ops) {
			/* INIT keeps IA32_APIC_BASE (SDM Vol. 3A 11.4.7.3). */
			v->msr.apic_base = apic_base;
			v->apic_ops->init(v);
		}
		v->mp_state = (v->msr.apic_base & MSR_IA32_APICBASE_BSP) ?
			      HVX_MP_RUNNABLE : HVX_MP_WAIT_SIPI;
		hvx_vmx_request_event(v);
	}
	if (test_and_clear_bit(HVX_REQ_SIPI, &v->requests) &&
	    v->mp_state == HVX_MP_WAIT_SIPI) {
		u8 vector;

		smp_rmb();	/* pairs with hvx_vmx_send_ipi() */
		vector = READ_ONCE(v->sipi_vector);
		preempt_disable();
		hvx_vmx_load(v);
		vmcs_write(GUEST_CS_SELECTOR, vector << 8);
		vmcs_write(GUEST_CS_BASE, vector << 12);
		hvx_vmx_unload();
		hvx_vmx_reg_set(v, HVX_REG_RIP, 0);
		v->mp_state = HVX_MP_RUNNABLE;
		hvx_vmx_request_event(v);
	}
	if (v->mp_state == HVX_MP_RUNNABLE ||
	    !test_and_clear_bit(HVX_REQ_EVENT, &v->requests))
		return;
	if (v->mp_state == HVX_MP_HALTED &&
	    (event_queued(v) || dev_intr_pending(v) >= 0 ||
	     hvx_vmx_apicv_pending(v))) {
		v->mp_state = HVX_MP_RUNNABLE;
		v->stats.s.wakeups++;
		hvx_vmx_request_event(v);
	}
}

/**
 * hvx_vmx_runnable - may the vCPU enter the guest now?
 * @v: the vCPU.
 *
 * Return: false while it is halted or waits for a SIPI.
 */
bool hvx_vmx_runnable(struct hvx_vmx_vcpu *v)
{
	return v->mp_state == HVX_MP_RUNNABLE;
}

/**
 * hvx_vmx_wakeup_pending - should a sleeping vCPU thread wake up?
 * @v: the vCPU.
 *
 * Return: true if any request is pending (the loop re-checks).
 */
bool hvx_vmx_wakeup_pending(struct hvx_vmx_vcpu *v)
{
	return READ_ONCE(v->requests) != 0;
}

/**
 * hvx_vmx_set_mp_state - set the multiprocessor state from userspace
 * @v: the vCPU (not running).
 * @state: HVX_MP_RUNNABLE or HVX_MP_WAIT_SIPI.
 *
 * Return: 0, or -EINVAL for other states.
 */
int hvx_vmx_set_mp_state(struct hvx_vmx_vcpu *v, u32 state)
{
	if (state != HVX_MP_RUNNABLE && state != HVX_MP_WAIT_SIPI)
		return -EINVAL;
	v->mp_state = state;
	hvx_vmx_request_event(v);
	return 0;
}

/**
 * hvx_vmx_update_run - fill the run page's interrupt-state fields
 * @v: the vCPU, before returning to userspace.
 *
 * Also requests an interrupt evaluation for the next HVX_RUN, which may
 * come with a new request_interrupt_window or after ioctls that changed
 * what is pending.
 */
void hvx_vmx_update_run(struct hvx_vmx_vcpu *v)
{
	u32 intr = hvx_vmx_intr_state(v);
	u64 rflags = hvx_vmx_rflags(v);
	bool open = (rflags & X86_EFLAGS_IF) &&
		    !(intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));

	v->run->if_flag = !!(rflags & X86_EFLAGS_IF);
	v->run->ready_for_interrupt_injection =
		open && READ_ONCE(v->irq_vector) < 0 &&
		!(v->reinject_info & INTR_INFO_VALID_MASK);
	hvx_vmx_request_event(v);
}

/*
 * Take the event waiting for re-injection, if any: an event whose
 * delivery caused the last exit, or an exception a handler raised. Needs
 * no interrupt evaluation. Writes its error code and length; the caller
 * writes the returned interruption information (0: none).
 * Context: VMCS current.
 */
static u32 inject_reinject(struct hvx_vmx_vcpu *v)
{
	u32 info = v->reinject_info;

	if (!(info & INTR_INFO_VALID_MASK))
		return 0;
	/* No error code is pushed in real mode (27.2.1.3). */
	if (!(v->cr0 & X86_CR0_PE))
		info &= ~INTR_INFO_DELIVER_CODE_MASK;
	vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, v->reinject_err);
	vmcs_write(VM_ENTRY_INSTRUCTION_LEN, v->reinject_len);
	v->reinject_info = 0;
	return info;
}

/*
 * Pick the event to inject at this entry and ask for window exits for
 * what must wait (SDM Vol. 3C 26.7.5 and 26.7.6). Runs when HVX_REQ_EVENT
 * was set (hvx_vmx_request_event()); the window controls and the TPR
 * threshold it sets stay right until something sets it again.
 * Context: VMCS current.
 */
static void inject_events(struct hvx_vmx_vcpu *v)
{
	u32 intr = hvx_vmx_intr_state(v);
	bool shadow = intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
	u32 ctls = v->proc_ctls & ~(CPU_BASED_INTR_WINDOW_EXITING |
				    CPU_BASED_NMI_WINDOW_EXITING);
	u32 info = 0;
	int dev_vec = -2;	/* -2: not asked yet (asking costs a scan) */

	if (v->reinject_info & INTR_INFO_VALID_MASK) {
		info = inject_reinject(v);
	} else if (READ_ONCE(v->nmi_pending) && !shadow &&
		   !(intr & GUEST_INTR_STATE_NMI)) {
		info = INTR_INFO_VALID_MASK | INTR_TYPE_NMI_INTR | X86_TRAP_NMI;
		WRITE_ONCE(v->nmi_pending, 0);
		v->stats.s.irqs_injected[HVX_IRQ_SRC_NMI]++;
	} else if (!shadow && (hvx_vmx_rflags(v) & X86_EFLAGS_IF)) {
		int vec = READ_ONCE(v->irq_vector);

		/* Other threads only ever set it from -1: take it. */
		if (vec >= 0 && cmpxchg(&v->irq_vector, vec, -1) == vec) {
			info = INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | vec;
			v->stats.s.irqs_injected[HVX_IRQ_SRC_USER]++;
		} else {
			vec = dev_intr_pending(v);
			dev_vec = vec;
			if (vec >= 0) {
				int src = -1;

				/* The acknowledge says what to inject. */
				vec = v->dev_ops->intr_ack(v, vec, &src);
				dev_vec = -2;	/* another may be waiting */
				if (vec >= 0)
					info = INTR_INFO_VALID_MASK |
					       INTR_TYPE_EXT_INTR | vec;
				if (vec >= 0 && src >= 0 &&
				    src < HVX_STATS_IRQ_SOURCES)
					v->stats.s.irqs_injected[src]++;
			}
		}
	}
	if (info)
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
	v->entry_info = info;

	if (READ_ONCE(v->nmi_pending))
		ctls |= CPU_BASED_NMI_WINDOW_EXITING;
	if (READ_ONCE(v->irq_vector) >= 0 || v->request_irq_window ||
	    (dev_vec == -2 ? dev_intr_pending(v) : dev_vec) >= 0)
		ctls |= CPU_BASED_INTR_WINDOW_EXITING;
	/*
	 * VTPR below the threshold exits (SDM Vol. 3C 30.1.2); with
	 * virtual-interrupt delivery the CPU delivers what a lowered TPR
	 * unblocks itself (the threshold is then 0 and unused).
	 */
	hvx_vmx_apicv_prepare(v);
	if (v->apic_ops && v->vapic) {
		int t = v->apic_ops->tpr_threshold(v);

		if (t != v->tpr_threshold) {
			vmcs_write(TPR_THRESHOLD, t);
			v->tpr_threshold = t;
		}
	}
	ctls &= hvx_caps.proc_may;
	if (ctls != v->proc_ctls) {
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, ctls);
		v->proc_ctls = ctls;
	}
}

/*
 * The entry prepared by inject_events() did not happen: take the event
 * back from the VMCS (a VM exit would have cleared its valid bit, SDM
 * Vol. 3C 28.2.3), so that the next entry delivers it rather than
 * overwriting it with a newer one. Context: VMCS current.
 */
static void cancel_injection(struct hvx_vmx_vcpu *v)
{
	u32 info = vmcs_read(VM_ENTRY_INTR_INFO_FIELD);

	if (!(info & INTR_INFO_VALID_MASK))
		return;
	v->reinject_info = info;
	v->reinject_err = vmcs_read(VM_ENTRY_EXCEPTION_ERROR_CODE);
	v->reinject_len = vmcs_read(VM_ENTRY_INSTRUCTION_LEN);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	hvx_vmx_request_event(v);
}

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
 * PAUSE-loop exit: the guest spins on a lock. The run loop's
 * cond_resched() lets other tasks run; directed yield to the vCPU
 * holding the lock needs the SMP support still to come.
 */
static int handle_pause(struct hvx_vmx_vcpu *v)
{
	return handle_skip(v);
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

static int handle_failed_entry(struct hvx_vmx_vcpu *v, u32 reason,
			       enum hvx_entry_check check, u32 hw_reason);

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
		return handle_failed_entry(v, EXIT_FAILED_ENTRY |
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
 * HLT with interrupts on: the vCPU sleeps in hvx_vmx_handle_requests()'s
 * caller until an interrupt or NMI is queued (no busy loop, no exit).
 * HLT with interrupts off can only end with an NMI, INIT or reset:
 * userspace decides (HVX_EXIT_HLT), as before in-kernel devices exist.
 */
static int handle_hlt(struct hvx_vmx_vcpu *v)
{
	v->stats.s.halts++;
	/* Whether it may sleep depends on every interrupt source. */
	hvx_vmx_request_event(v);
	hvx_vmx_skip_instruction(v, v->instr_len);
	if (hvx_vmx_rflags(v) & X86_EFLAGS_IF) {
		if (!event_queued(v))
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
		v->pending = HVX_PENDING_IO;
		ret = HVX_RUN_USER;
	}
	if (v->pending == HVX_PENDING_IO) {
		int k = hvx_vmx_io_in_kernel(v);

		if (k != -ENOENT)
			return k;
	}
	return ret;
}

static int handle_ept_violation(struct hvx_vmx_vcpu *v)
{
	/* Exit qualification: SDM Vol. 3C 28.2.1, Table 28-7. */
	u64 gpa = hvx_vmx_read(v, GUEST_PHYSICAL_ADDRESS);
	bool write = v->exit_qual & EPT_VIOLATION_ACC_WRITE;
	int ret;

	v->stats.s.ept_violations++;
	hvx_stats_top_add(v->stats.s.gpa_pages, gpa & PAGE_MASK);
	ret = hvx_ept_fault(v->mem, gpa, write, &v->stats.s);
	if (ret < 0)
		return ret;
	if (ret == HVX_FAULT_MAPPED)
		return HVX_RUN_RESUME;
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
	[EXIT_REASON_VMCALL]		  = handle_ud,
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

static int handle_failed_entry(struct hvx_vmx_vcpu *v, u32 reason,
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

/*
 * Switch from unconditional I/O exiting to the VM's I/O bitmaps once it
 * has some (a port passed through to an assigned device). A bitmap with
 * every bit set exits exactly as before (SDM Vol. 3C 25.6.4, 26.1.3).
 */
static void io_bitmap_update(struct hvx_vmx_vcpu *v)
{
	void *bm = v->io_bitmap_src ? READ_ONCE(*v->io_bitmap_src) : NULL;

	if (!bm || bm == v->io_bitmap ||
	    !(hvx_caps.proc_may & CPU_BASED_USE_IO_BITMAPS))
		return;
	vmcs_write(IO_BITMAP_A, __pa(bm));
	vmcs_write(IO_BITMAP_B, __pa(bm) + PAGE_SIZE);
	v->io_bitmap = bm;
	v->proc_ctls = (v->proc_ctls & ~CPU_BASED_UNCOND_IO_EXITING) |
		       CPU_BASED_USE_IO_BITMAPS;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, v->proc_ctls);
}

/*
 * An entry with no request bit set: only the event the last exit
 * interrupted is delivered again, the virtual APIC needs no sync, and the
 * registers the exit handler changed are written back.
 */
static void quiet_entry(struct hvx_vmx_vcpu *v)
{
	v->entry_info = inject_reinject(v);
	if (v->entry_info)
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, v->entry_info);
	hvx_vmx_apicv_quiet_entry(v);
	hvx_vmx_regs_flush(v);
}

/* Write the cached state and any event to inject into the VMCS. */
static void prepare_entry(struct hvx_vmx_vcpu *v)
{
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
	io_bitmap_update(v);
	if (test_bit(HVX_REQ_EVENT, &v->requests)) {
		clear_bit(HVX_REQ_EVENT, &v->requests);
		inject_events(v);
		/* After inject_events(), which may set RFLAGS.RF. */
		hvx_vmx_regs_flush(v);
	} else {
		quiet_entry(v);
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
#define NO_LEN_EXITS	(BIT_ULL(EXIT_REASON_EXTERNAL_INTERRUPT) | \
			 BIT_ULL(EXIT_REASON_INTERRUPT_WINDOW) | \
			 BIT_ULL(EXIT_REASON_NMI_WINDOW) | \
			 BIT_ULL(EXIT_REASON_TPR_BELOW_THRESHOLD) | \
			 BIT_ULL(EXIT_REASON_PREEMPTION_TIMER))

static bool exit_in(u64 set, u32 reason)
{
	return reason < 64 && (set & BIT_ULL(reason));
}

/*
 * Read what the exit needs while the VMCS is current: the reason (read
 * already by hvx_vmx_run()), the IDT-vectoring information, and the
 * qualification and instruction length unless the reason never uses
 * them. Guest registers are read on demand (hvx_vmx_reg()); IA32_EFER
 * and the IA-32e mode entry control are hvx's own copies, since every
 * change of EFER.LME or CR0.PG exits (MSR bitmap, CR0 guest/host mask).
 */
static void read_exit_state(struct hvx_vmx_vcpu *v, u32 reason)
{
	u32 basic = reason & 0xffff;
	u32 vectoring;

	v->exit_reason = reason;
	v->regs_avail = 0;
	v->exit_qual = exit_in(NO_QUAL_EXITS, basic) ? 0 :
		       vmcs_read(EXIT_QUALIFICATION);

	/* An event whose delivery caused the exit must be re-injected. */
	vectoring = vmcs_read(IDT_VECTORING_INFO_FIELD);
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

/* Count the exit and run its handler (preemptible). */
static int dispatch_exit(struct hvx_vmx_vcpu *v, enum hvx_entry_check check)
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
		return handle_failed_entry(v, v->exit_reason, check,
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

/*
 * IN/OUT to an in-kernel device that can be driven with interrupts off
 * (struct hvx_vmx_dev_ops.pio_fast). Return: true if done, false if the
 * access needs the full handle_io() (nothing changed then).
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

	if ((q & BIT(4)) || !v->dev_ops || !v->dev_ops->pio_fast)
		return false;		/* INS/OUTS: the emulator */
	if (!in)
		val = *rax & mask;
	if (v->dev_ops->pio_fast(v, port, in, size, &val))
		return false;
	if (in)		/* a 32-bit write zero-extends (SDM Vol. 1 3.4.1.1) */
		*rax = size == 4 ? (u32)val : (*rax & ~mask) | (val & mask);
	hvx_stats_top_add(v->stats.s.io_ports,
			  port | (in ? HVX_STATS_IO_IN : 0));
	hvx_vmx_skip_instruction(v, v->instr_len);
	return true;
}

/*
 * The exit fast path: with interrupts still off and the guest's state
 * still loaded, handle an exit that needs nothing of the host (CPUID,
 * VMCALL, port I/O to the PIC or UART), so that the guest can be entered
 * again at once. Returns false, having read the exit's state at most, for
 * anything else: an event to re-inject, a device that needs process
 * context, an enabled tracepoint (it could fault with the guest's CR2
 * loaded), the check_entry debug mode (it checks before the first entry
 * only). *@read tells whether the exit's state was read (then the slow
 * path must not read it again: read_exit_state() is not idempotent).
 */
static bool fast_exit(struct hvx_vmx_vcpu *v, u32 reason, u64 exit_tsc,
		      bool *read)
{
	*read = false;
	if (!READ_ONCE(fastpath) || READ_ONCE(check_entry) ||
	    trace_hvx_vm_exit_enabled() || trace_hvx_vm_entry_enabled())
		return false;
	switch (reason) {
	case EXIT_REASON_CPUID:
	case EXIT_REASON_VMCALL:
	case EXIT_REASON_IO_INSTRUCTION:
		break;
	default:
		return false;
	}
	read_exit_state(v, reason);
	*read = true;
	if (v->reinject_info & INTR_INFO_VALID_MASK)
		return false;
	switch (reason) {
	case EXIT_REASON_CPUID:
		hvx_vmx_handle_cpuid(v);
		break;
	case EXIT_REASON_VMCALL:
		handle_ud(v);
		break;
	default:
		if (!fast_io(v))
			return false;
	}
	v->launched = true;
	v->stats.s.exits++;
	v->stats.s.exits_by_reason[reason]++;
	v->stats.s.fastpath_exits++;
	hvx_stats_hist_add(v->stats.s.hist_handler, rdtsc() - exit_tsc);
	return true;
}

/* May the fast path enter the guest again, or does the host need the CPU? */
static bool fast_reenter(struct hvx_vmx_vcpu *v)
{
	/*
	 * A kick after this check finds guest_cpu set and sends an IPI,
	 * which makes the entry exit at once (hvx_vmx_kick()).
	 */
	if (signal_pending(current) || need_resched() ||
	    READ_ONCE(v->requests) || v->triple_fault)
		return false;
	quiet_entry(v);
	return true;
}

/**
 * hvx_vmx_run - enter the guest once and handle the VM exit
 * @v: the vCPU; the caller is its only runner.
 *
 * The guest's x87/SSE/AVX state is the thread's for the whole run, or
 * loaded around the entry (guest_fpu_load()); the guest's XCR0 is in
 * force only while the guest runs. What the host needs back only before
 * user mode or another task runs is switched once per run (run.c).
 *
 * Context: process context of the VM owner, between hvx_vmx_vcpu_load()
 * and hvx_vmx_vcpu_put(); may sleep in exit handlers.
 * Return: HVX_RUN_RESUME, HVX_RUN_USER (run->exit_reason set), or a
 * negative errno (-EFAULT when guest RAM cannot be pinned, -ENOMEM).
 */
int hvx_vmx_run(struct hvx_vmx_vcpu *v)
{
	struct host_state hs;
	enum hvx_entry_check check = HVX_CHECK_UNKNOWN;
	u32 reason = 0, intr_info = 0;
	bool exit_read = false, fast_done = false;
	unsigned long flags;
	u64 exit_tsc;
	int fail, ret;

	preempt_disable();
	hvx_vmx_load(v);
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
			cancel_injection(v);
			hvx_vmx_unload();
			/* Reason 0: software refused it; the CPU never saw it. */
			v->exit_qual = 0;
			v->stats.s.entry_failures++;
			return handle_failed_entry(v, EXIT_REASON_INVALID_STATE,
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
		cancel_injection(v);
		hvx_spec_user_exit(v);
		/* Let the caller's loop see the signal or reschedule. */
		hvx_vmx_irq_enable();
		guest_fpu_save(v);
		hvx_vmx_unload();
		return HVX_RUN_RESUME;
	}
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
		fail = hvx_vmx_enter(v->gprs, flags, &v->msr.spec_ctrl);
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
		exit_tsc = rdtsc();
		hvx_spec_after_exit(v, flags, fail ? -1 : (int)(reason & 0xffff));
		if (fail || !fast_exit(v, reason, exit_tsc, &exit_read))
			break;
		if (!fast_reenter(v)) {
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

		cancel_injection(v);
		hvx_vmx_unload();
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
		hvx_vmx_unload();
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
	hvx_vmx_unload();

	ret = dispatch_exit(v, check);
	hvx_stats_hist_add(v->stats.s.hist_handler, rdtsc() - exit_tsc);
	if (ret != HVX_RUN_RESUME)
		hvx_spec_user_exit(v);
	return ret;
}
