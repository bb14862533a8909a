// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - exceptions and interrupts for the guest, and vCPU requests.
 *
 * Exceptions that hvx raises for emulated instructions, interrupts and
 * NMIs queued by the in-kernel devices or userspace, the request bits
 * (HVX_REQ_*) other threads set, and the per-request evaluation that
 * turns them into one VM-entry event or a window exit
 * (hvx_vmx_inject_events(), run only when HVX_REQ_EVENT is set; who sets
 * it is listed in vmx/README.md).
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
 * hvx_vmx_skip_instruction_slow - advance RIP past an emulated instruction
 * @v: the vCPU.
 * @len: instruction length, bytes.
 *
 * hvx_vmx_skip_instruction() (vmx.h) when the usual case does not apply.
 * Outside 64-bit mode, in compatibility mode too (EFER.LMA set, CS.L
 * clear), the new EIP wraps at 4 GiB as on the CPU; VM entry would refuse
 * a RIP above it there (SDM Vol. 3C 27.3.1.4). Also ends blocking by STI
 * and MOV SS, as executing the instruction would
 * (SDM Vol. 3C 25.4.2, Table 25-3), and raises the single-step trap the
 * CPU would have raised after it when RFLAGS.TF is set (and
 * IA32_DEBUGCTL.BTF clear): #DB with DR6.BS
 * (SDM Vol. 3B 18.3.1.4), with B0-B3 of the data and I/O breakpoints its
 * accesses matched (@v->db_hits, one #DB for all, as the CPU reports
 * them). Clears RFLAGS.RF, as the completion of an instruction does
 * (SDM Vol. 3A 17.3.1.1).
 */
void hvx_vmx_skip_instruction_slow(struct hvx_vmx_vcpu *v, u32 len)
{
	u64 old = hvx_vmx_rip(v), rip = old + len;
	u64 rflags = hvx_vmx_rflags(v);
	bool step = rflags & X86_EFLAGS_TF;
	u32 intr;

	/* CS.L is read only for a RIP that crossed 4 GiB in IA-32e mode. */
	if (!(v->efer & EFER_LMA) ||
	    (old <= U32_MAX && rip > U32_MAX &&
	     !(hvx_vmx_xfield(v, HVX_XF_CS_AR) & VMX_AR_L_MASK)))
		rip = (u32)rip;
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

static bool kick_defer = true;
module_param(kick_defer, bool, 0644);
MODULE_PARM_DESC(kick_defer,
		 "A vCPU's thread wakes a sleeping sibling at its next entry, not amid an exit (default Y)");

#ifdef HVX_HAVE_PREEMPT_NOTIFIERS
/* The vCPU whose thread runs on this CPU inside HVX_RUN (run.c keeps it). */
static DEFINE_PER_CPU(struct hvx_vmx_vcpu *, kick_sender);

/**
 * hvx_vmx_kick_sender - note which vCPU's thread runs on this CPU
 * @v: the vCPU whose thread now runs here inside HVX_RUN, or NULL.
 * @old: with @v NULL, clear only if this vCPU is the one noted.
 *
 * Context: preemption off (the preempt notifier, the run's load and put).
 */
void hvx_vmx_kick_sender(struct hvx_vmx_vcpu *v, struct hvx_vmx_vcpu *old)
{
	if (v || this_cpu_read(kick_sender) == old)
		this_cpu_write(kick_sender, v);
}

/*
 * Defer waking @t's thread when the caller is the thread of a sibling
 * vCPU (inside HVX_RUN, not an interrupt on its CPU): it is handling an
 * exit, most often an IPI or a kick that the guest sends while it holds
 * a lock. Woken now, @t's thread could preempt the sender on this CPU
 * (the scheduler's wake-up preemption) and spin on that lock; woken at
 * the sender's next entry, with interrupts off, it runs at the sender's
 * next exit, or at once on another CPU. Return: true if deferred.
 */
static bool kick_deferred(struct hvx_vmx_vcpu *t)
{
	struct hvx_vmx_vcpu *s;
	bool done = false;

	if (!READ_ONCE(kick_defer) || !in_task())
		return false;
	preempt_disable();
	s = this_cpu_read(kick_sender);
	if (s && s != t && s->vm == t->vm && s->pv_ops && s->pv_ops->wake &&
	    t->id < BITS_PER_LONG) {
		set_bit(t->id, &s->rs.kick_ids);
		done = true;
	}
	preempt_enable();
	return done;
}
#else
static bool kick_deferred(struct hvx_vmx_vcpu *t)
{
	return false;
}
#endif

/**
 * hvx_vmx_wake - wake the vCPU's thread if it sleeps
 * @v: the vCPU.
 *
 * A thread woken here is a candidate for a sibling's directed yield until
 * it runs (rs.ready, as KVM's kvm_vcpu_wake_up()).
 * Context: any; does not sleep.
 */
void hvx_vmx_wake(struct hvx_vmx_vcpu *v)
{
	if (waitqueue_active(&v->wq))	/* asleep: about to be woken */
		WRITE_ONCE(v->rs.ready, true);
	wake_up_interruptible(&v->wq);
}

/**
 * __hvx_vmx_kick_flush - wake the siblings whose wake-up @v deferred
 * @v: the sender vCPU.
 *
 * Context: @v's thread, or its kick_work; interrupts on or off.
 */
void __hvx_vmx_kick_flush(struct hvx_vmx_vcpu *v)
{
#ifdef HVX_HAVE_PREEMPT_NOTIFIERS
	unsigned long ids = xchg(&v->rs.kick_ids, 0);
	unsigned int id;

	for_each_set_bit(id, &ids, BITS_PER_LONG)
		v->pv_ops->wake(v, id);
#endif
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
 * other. A thread woken here is a candidate for a sibling's directed
 * yield until it runs (rs.ready, as KVM's kvm_vcpu_wake_up()). When the
 * caller is a sibling vCPU's thread handling an exit, the wake-up waits
 * for that sibling's next entry (kick_deferred(), the kick_defer module
 * parameter).
 * Context: any, including hard interrupt context (device timers).
 */
void hvx_vmx_kick(struct hvx_vmx_vcpu *v)
{
	int cpu, target;

	/* The request bit before guest_cpu: pairs with hvx_vmx_run()'s smp_mb(). */
	smp_mb__after_atomic();
	/* Asleep (the barrier above orders it after the request bit)? */
	if (!waitqueue_active(&v->wq) || !kick_deferred(v))
		hvx_vmx_wake(v);
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
 * hvx_vmx_pv_kick - KVM_HC_KICK_CPU for @v: end its halt
 * @v: the target vCPU.
 *
 * Latches the kick (hvx_vmx_vcpu.pv_unhalted) and wakes the vCPU: a
 * halted one becomes runnable, a running one completes its next HLT at
 * once.
 * Context: any; does not sleep.
 */
void hvx_vmx_pv_kick(struct hvx_vmx_vcpu *v)
{
	WRITE_ONCE(v->pv_unhalted, 1);
	smp_mb__before_atomic();	/* the latch before the request bit */
	hvx_vmx_kick_event(v);
}

/**
 * hvx_vmx_handle_requests - act on INIT, SIPI and queued events
 * @v: the vCPU; called by its own thread before each entry.
 *
 * INIT resets the vCPU and, for an application processor, waits for a
 * SIPI; a SIPI starts a waiting vCPU in real mode at vector * 4096 (SDM
 * Vol. 3A 9.4.4.1, 11.6.1); a queued interrupt or NMI wakes a halted one;
 * paravirtual updates (steal time, kvmclock: pvmsr.c) are written.
 * A vCPU that cannot run consumes HVX_REQ_EVENT here (so that its thread
 * sleeps), and sets it again when it becomes runnable: the next entry
 * then evaluates interrupts.
 */
void hvx_vmx_handle_requests(struct hvx_vmx_vcpu *v)
{
	if (test_and_clear_bit(HVX_REQ_INIT, &v->requests)) {
		u64 apic_base = v->msr.apic_base;

		hvx_vmx_reset(v);
		hvx_vmx_pv_reset(v);
		WRITE_ONCE(v->pv_unhalted, 0);
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
		hvx_vmx_xfield_flush(v);
		hvx_vmx_reg_set(v, HVX_REG_RIP, 0);
		v->mp_state = HVX_MP_RUNNABLE;
		hvx_vmx_request_event(v);
	}
	if (unlikely(READ_ONCE(v->requests) &
		     (BIT(HVX_REQ_PV_CLOCK) | BIT(HVX_REQ_PV_STEAL))))
		hvx_vmx_pv_requests(v);
	if (v->mp_state == HVX_MP_RUNNABLE ||
	    !test_and_clear_bit(HVX_REQ_EVENT, &v->requests))
		return;
	if (v->mp_state == HVX_MP_HALTED &&
	    (xchg(&v->pv_unhalted, 0) ||
	     (v->halt_irqs_off ? READ_ONCE(v->nmi_pending) :
	      hvx_vmx_event_queued(v) || dev_intr_pending(v) >= 0 ||
	      hvx_vmx_apicv_pending(v)))) {
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
 * hvx_vmx_yield_target - may a spinning sibling yield to this vCPU?
 * @v: a vCPU that is a candidate (rs.ready: preempted, or woken and not
 *	run yet); read from another vCPU's thread, without its locks.
 *
 * As KVM's check of a blocking vCPU in kvm_vcpu_on_spin(): a halted vCPU
 * is worth the CPU only if it is about to run: a kick (KVM_HC_KICK_CPU)
 * or an interrupt event came since it halted. Waiting for SIPI, it holds
 * no lock anyone waits for.
 * Return: true if yielding to its thread may help.
 */
bool hvx_vmx_yield_target(struct hvx_vmx_vcpu *v)
{
	switch (READ_ONCE(v->mp_state)) {
	case HVX_MP_RUNNABLE:
		return true;
	case HVX_MP_HALTED:
		return READ_ONCE(v->pv_unhalted) ||
		       test_bit(HVX_REQ_EVENT, &v->requests);
	default:
		return false;
	}
}

/**
 * hvx_vmx_preempted_in_user - skip this candidate for a spinner at CPL 0?
 * @v: a candidate vCPU (hvx_vmx_yield_target()); read from another
 *	vCPU's thread, without its locks.
 *
 * As KVM's kvm_vcpu_on_spin() with yield_to_kernel_mode: a guest kernel
 * that spins waits for a lock or an answer of its own kernel, which a
 * vCPU preempted in user mode (rs.preempted_user) holds or gives only
 * once it is back in the kernel; unless an interrupt is pending for it
 * (HVX_REQ_EVENT, KVM's kvm_arch_dy_has_pending_interrupt()): the
 * spinner may wait for it to take that IPI.
 * Return: true if a spinner at CPL 0 should not yield to it.
 */
bool hvx_vmx_preempted_in_user(struct hvx_vmx_vcpu *v)
{
	return READ_ONCE(v->rs.preempted_user) &&
	       !test_bit(HVX_REQ_EVENT, &v->requests);
}

/**
 * hvx_vmx_in_kernel - is the guest at CPL 0 at this exit?
 * @v: the vCPU, handling an exit (after the unload: one VMCS load and
 *	VMREAD of SS's access rights, whose DPL is the CPL, SDM Vol. 3C
 *	27.3.1.2, unless the exit read them already).
 *
 * Context: process context of @v's thread, preemption enabled.
 * Return: true at CPL 0.
 */
bool hvx_vmx_in_kernel(struct hvx_vmx_vcpu *v)
{
	return !VMX_AR_DPL(hvx_vmx_xfield(v, HVX_XF_SS_AR));
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
 * @state: HVX_MP_RUNNABLE, HVX_MP_WAIT_SIPI, or HVX_MP_HALTED (a restored
 *	vCPU that was halted: it sleeps until an interrupt, as after HLT).
 *
 * Return: 0, or -EINVAL for other states.
 */
int hvx_vmx_set_mp_state(struct hvx_vmx_vcpu *v, u32 state)
{
	if (state != HVX_MP_RUNNABLE && state != HVX_MP_WAIT_SIPI &&
	    state != HVX_MP_HALTED)
		return -EINVAL;
	v->mp_state = state;
	hvx_vmx_request_event(v);
	return 0;
}

/**
 * hvx_vmx_update_run - fill the run page's interrupt-state fields
 * @v: the vCPU, before returning to userspace.
 *
 * Requests no interrupt evaluation: a round trip through userspace
 * changes nothing it depends on unless userspace calls another ioctl of
 * the vCPU, or changes request_interrupt_window (both request one,
 * kmod/vcpu.c), or makes an interrupt pending (which kicks the vCPU with
 * a request, hvx_vmx_kick_event()).
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
}

/**
 * hvx_vmx_inject_reinject - take the event waiting for re-injection
 * @v: the vCPU
 *
 * The event is one whose delivery caused the last exit (SDM Vol. 3C
 * 28.2.4), or an exception a handler raised. Needs no interrupt
 * evaluation. Writes its error code and length into the VMCS.
 *
 * Context: VMCS current, preemption off.
 * Return: the interruption information the caller writes (0: none).
 */
u32 hvx_vmx_inject_reinject(struct hvx_vmx_vcpu *v)
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
void hvx_vmx_inject_events(struct hvx_vmx_vcpu *v)
{
	u32 intr = hvx_vmx_intr_state(v);
	bool shadow = intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
	u32 ctls = v->proc_ctls & ~(CPU_BASED_INTR_WINDOW_EXITING |
				    CPU_BASED_NMI_WINDOW_EXITING);
	u32 info = 0;
	int dev_vec = -2;	/* -2: not asked yet (asking costs a scan) */

	if (v->reinject_info & INTR_INFO_VALID_MASK) {
		info = hvx_vmx_inject_reinject(v);
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
 * The entry prepared by hvx_vmx_inject_events() did not happen: take the event
 * back from the VMCS (a VM exit would have cleared its valid bit, SDM
 * Vol. 3C 28.2.3), so that the next entry delivers it rather than
 * overwriting it with a newer one. Context: VMCS current.
 */
void hvx_vmx_cancel_injection(struct hvx_vmx_vcpu *v)
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
