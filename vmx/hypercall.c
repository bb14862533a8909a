// SPDX-License-Identifier: GPL-2.0
/*
 * hypercall.c - VMCALL: the hvx hypercall ABI (uapi/hvx.h, "Paravirtual
 * interface"), with KVM's numbers and error values so that a stock Linux
 * guest uses it (Linux's Documentation/virt/kvm/x86/hypercalls.rst).
 *
 * RAX = number; RBX, RCX, RDX, RSI = arguments; RAX = result. VMCALL
 * always exits (SDM Vol. 3C 26.1.2) and reports its length (28.2.5);
 * the CPU checks nothing about the caller first, so CPL and mode are
 * checked here. Calls that touch only this vCPU, or wake another one
 * without sleeping, are handled on the exit fast path (exit.c) with
 * interrupts off; SCHED_YIELD (it schedules) and the numbers userspace
 * takes (HVX_EXIT_HYPERCALL) go to the slow path.
 */
#include <linux/bitops.h>
#include <linux/kvm_para.h>
#include <asm/apicdef.h>

#include "vmx.h"

/* The ABI's names are KVM's values (uapi/hvx.h). */
static_assert(HVX_HC_VAPIC_POLL_IRQ == KVM_HC_VAPIC_POLL_IRQ);
static_assert(HVX_HC_KICK_CPU == KVM_HC_KICK_CPU);
static_assert(HVX_HC_SEND_IPI == KVM_HC_SEND_IPI);
static_assert(HVX_HC_SCHED_YIELD == KVM_HC_SCHED_YIELD);
static_assert(HVX_HC_EPERM == KVM_EPERM);
static_assert(HVX_HC_EINVAL == KVM_EINVAL);
static_assert(HVX_HC_ENOSYS == KVM_ENOSYS);
static_assert(HVX_KVM_FEATURE_PV_UNHALT == KVM_FEATURE_PV_UNHALT);
static_assert(HVX_KVM_FEATURE_PV_SEND_IPI == KVM_FEATURE_PV_SEND_IPI);
static_assert(HVX_KVM_FEATURE_PV_SCHED_YIELD == KVM_FEATURE_PV_SCHED_YIELD);
/* KVM's leaves, moved up by 0x100 to leave 0x40000000 to hvx's own. */
static_assert(HVX_CPUID_KVM_FEATURES - HVX_CPUID_KVM_SIGNATURE ==
	      KVM_CPUID_FEATURES - KVM_CPUID_SIGNATURE);

/* ICR destination shorthand, bits 19:18 (SDM Vol. 3A Figure 11-12). */
#define ICR_SHORTHAND	(3u << 18)

/* Numbers hvx answers itself: userspace may not take them. */
static bool hypercall_in_kernel(u64 nr)
{
	switch (nr) {
	case HVX_HC_VAPIC_POLL_IRQ:
	case HVX_HC_KICK_CPU:
	case HVX_HC_SEND_IPI:
	case HVX_HC_SCHED_YIELD:
		return true;
	}
	return false;
}

/**
 * hvx_vmx_hypercall_exits_valid - may userspace take these numbers?
 * @bitmap: HVX_HYPERCALL_EXIT_NRS bits, from struct hvx_hypercall_exits.
 *
 * Return: false if a number hvx handles in the kernel is set.
 */
bool hvx_vmx_hypercall_exits_valid(const unsigned long *bitmap)
{
	u64 nr;

	for (nr = 0; nr < HVX_STATS_HYPERCALLS; nr++)
		if (hypercall_in_kernel(nr) && test_bit(nr, bitmap))
			return false;
	return true;
}

/**
 * hvx_vmx_pv_features - the KVM paravirtual features hvx implements
 *
 * The bits of CPUID 0x40000101 EAX (KVM_FEATURE_*) in the supported and
 * the default tables: the hypercalls of this file (PV_UNHALT,
 * PV_SEND_IPI, PV_SCHED_YIELD) and the paravirtual MSRs of pvmsr.c
 * (HVX_PV_MSR_FEATURES: kvmclock, steal time, PV TLB flush, PV EOI).
 * Context: any.
 * Return: the feature mask.
 */
u32 hvx_vmx_pv_features(void)
{
	return BIT(KVM_FEATURE_PV_UNHALT) | BIT(KVM_FEATURE_PV_SEND_IPI) |
	       BIT(KVM_FEATURE_PV_SCHED_YIELD) | HVX_PV_MSR_FEATURES;
}

/*
 * A guest VMCS field: with a plain VMREAD on the fast path (interrupts
 * off, the VMCS current), else through hvx_vmx_read().
 */
static __always_inline u64 hc_vmcs(struct hvx_vmx_vcpu *v, bool fast,
				   unsigned long field)
{
	return fast ? vmcs_read(field) : hvx_vmx_read(v, field);
}

/*
 * CPL: SS.DPL, which is always the CPL (SDM Vol. 3C 25.4.1); CS.DPL is
 * not for a conforming code segment.
 */
static __always_inline u32 hypercall_cpl(struct hvx_vmx_vcpu *v, bool fast)
{
	return (hc_vmcs(v, fast, GUEST_SS_AR_BYTES) >> 5) & 3;
}

/*
 * 64-bit mode: EFER.LMA (hvx's copy: every change of it exits) and CS.L
 * (SDM Vol. 3A 5.2.1), which the guest changes without an exit, so CS
 * is read only in IA-32e mode.
 */
static __always_inline bool hypercall_long(struct hvx_vmx_vcpu *v, bool fast)
{
	return (v->efer & EFER_LMA) &&
	       (hc_vmcs(v, fast, GUEST_CS_AR_BYTES) & VMX_AR_L_MASK);
}

/* A register as the call sees it: its low 32 bits outside 64-bit mode. */
static __always_inline unsigned long hc_reg(struct hvx_vmx_vcpu *v, bool lng,
					    unsigned int reg)
{
	return lng ? v->gprs[reg] : (u32)v->gprs[reg];
}

static __always_inline void hypercall_count(struct hvx_vmx_vcpu *v, u64 nr)
{
	if (nr < HVX_STATS_HYPERCALLS)
		v->stats.s.hypercalls[nr]++;
	else
		v->stats.s.hypercalls_other++;
}

/* Does the vCPU's CPUID show KVM_FEATURE_@bit? */
static bool pv_has(struct hvx_vmx_vcpu *v, unsigned int bit)
{
	return READ_ONCE(v->pv_features) & BIT(bit);
}

/* Set RAX (32 bits wide outside 64-bit mode) and skip the VMCALL. */
static __always_inline int hypercall_done(struct hvx_vmx_vcpu *v, bool lng,
					  long ret)
{
	v->gprs[HVX_RAX] = lng ? (unsigned long)ret : (u32)ret;
	hvx_vmx_skip_instruction(v, v->instr_len);
	return HVX_RUN_RESUME;
}

/*
 * KVM_HC_SEND_IPI: RBX and RCX are a bitmap of destination APIC ids,
 * RBX bit i for id RDX + i, RCX bit i for id RDX + 64 + i (32 and 32 + i
 * outside 64-bit mode), RSI the ICR's low word: fixed, physical, no
 * shorthand. Return: the number of vCPUs that took the IPI.
 */
static noinline long hc_send_ipi(struct hvx_vmx_vcpu *v, bool lng)
{
	unsigned long map[2] = { hc_reg(v, lng, HVX_RBX),
				 hc_reg(v, lng, HVX_RCX) };
	u32 icr = hc_reg(v, lng, HVX_RSI);

	if (!v->pv_ops || !v->pv_ops->send_ipi || !pv_has(v, KVM_FEATURE_PV_SEND_IPI))
		return -KVM_ENOSYS;
	if (icr & (APIC_DEST_LOGICAL | ICR_SHORTHAND))
		return -KVM_EINVAL;
	return v->pv_ops->send_ipi(v, map, lng ? 64 : 32,
				   hc_reg(v, lng, HVX_RDX), icr);
}

/*
 * Hypercalls that never sleep. Return: true if handled (RAX set, RIP
 * advanced), false if the slow path must handle it (nothing changed).
 */
static __always_inline bool hypercall_fast(struct hvx_vmx_vcpu *v, bool lng,
					   u64 nr)
{
	long ret;

	switch (nr) {
	case KVM_HC_VAPIC_POLL_IRQ:
		ret = 0;
		break;
	case KVM_HC_KICK_CPU:	/* RBX flags, RCX APIC id */
		if (!v->pv_ops || !pv_has(v, KVM_FEATURE_PV_UNHALT)) {
			ret = -KVM_ENOSYS;
			break;
		}
		v->pv_ops->kick(v, hc_reg(v, lng, HVX_RCX));
		ret = 0;
		break;
	case KVM_HC_SEND_IPI:
		ret = hc_send_ipi(v, lng);
		break;
	case KVM_HC_SCHED_YIELD:
		if (pv_has(v, KVM_FEATURE_PV_SCHED_YIELD))
			return false;
		ret = -KVM_ENOSYS;
		break;
	default:
		if (nr < HVX_HYPERCALL_EXIT_NRS && test_bit(nr, v->vm->hc_exits))
			return false;
		ret = -KVM_ENOSYS;
		break;
	}
	hypercall_count(v, nr);
	hypercall_done(v, lng, ret);
	return true;
}

/* What hypercall_read() found. */
enum hc_read { HC_CALL, HC_DONE, HC_FAULT };

/*
 * Decode the call: its width (*@lng) and the CPL; the number and the
 * arguments are then hc_reg() of RAX, RBX, RCX, RDX and RSI. A VMCALL
 * at CPL > 0 is answered here (-KVM_EPERM, RIP advanced: HC_DONE). A
 * VMCALL whose last byte is the last canonical one in 64-bit mode would
 * leave a non-canonical RIP, which VM entry refuses (SDM Vol. 3C
 * 27.3.1.4): it gets #GP(0) instead, like a branch there (HC_FAULT,
 * nothing done yet). Inline, so that nothing of the decode goes through
 * memory.
 */
static __always_inline enum hc_read hypercall_read(struct hvx_vmx_vcpu *v,
						   bool fast, bool *lng)
{
	bool l = hypercall_long(v, fast);

	*lng = l;
	if (l && !hvx_is_canonical(hvx_vmx_rip(v) + v->instr_len))
		return HC_FAULT;
	if (unlikely(hypercall_cpl(v, fast))) {
		hypercall_count(v, hc_reg(v, l, HVX_RAX));
		hypercall_done(v, l, -KVM_EPERM);
		return HC_DONE;
	}
	return HC_CALL;
}

/**
 * hvx_vmx_hypercall_fastpath - a VMCALL on the exit fast path
 * @v: the vCPU; interrupts off, its VMCS current.
 *
 * Return: true if it was handled (the guest may be entered again), false
 * if hvx_vmx_handle_vmcall() must handle it in process context (nothing
 * was changed).
 */
bool hvx_vmx_hypercall_fastpath(struct hvx_vmx_vcpu *v)
{
	bool lng;

	switch (hypercall_read(v, true, &lng)) {
	case HC_DONE:
		return true;
	case HC_FAULT:
		return false;	/* injected by the slow path */
	default:
		return hypercall_fast(v, lng, hc_reg(v, lng, HVX_RAX));
	}
}

/**
 * hvx_vmx_handle_vmcall - VM exit for VMCALL: a hypercall
 * @v: the vCPU; process context.
 *
 * Return: HVX_RUN_RESUME, or HVX_RUN_USER with HVX_EXIT_HYPERCALL for a
 * number userspace takes (completed by the next HVX_RUN,
 * hvx_vmx_hypercall_complete()).
 */
int hvx_vmx_handle_vmcall(struct hvx_vmx_vcpu *v)
{
	struct hvx_run *run = v->run;
	bool lng;
	u64 nr;

	switch (hypercall_read(v, false, &lng)) {
	case HC_DONE:
		return HVX_RUN_RESUME;
	case HC_FAULT:
		hvx_vmx_inject_exception(v, X86_TRAP_GP, true, 0);
		return HVX_RUN_RESUME;
	default:
		break;
	}
	nr = hc_reg(v, lng, HVX_RAX);
	if (hypercall_fast(v, lng, nr))
		return HVX_RUN_RESUME;
	hypercall_count(v, nr);
	if (nr == KVM_HC_SCHED_YIELD) {
		/* RBX: the APIC id of the vCPU to give the CPU to. */
		if (v->pv_ops)
			v->pv_ops->yield(v, hc_reg(v, lng, HVX_RBX));
		return hypercall_done(v, lng, 0);
	}
	memset(&run->hypercall, 0, sizeof(run->hypercall));
	run->exit_reason = HVX_EXIT_HYPERCALL;
	run->hypercall.nr = nr;
	run->hypercall.args[0] = hc_reg(v, lng, HVX_RBX);
	run->hypercall.args[1] = hc_reg(v, lng, HVX_RCX);
	run->hypercall.args[2] = hc_reg(v, lng, HVX_RDX);
	run->hypercall.args[3] = hc_reg(v, lng, HVX_RSI);
	run->hypercall.flags = lng ? HVX_HYPERCALL_LONG_MODE : 0;
	v->hc_long = lng;
	hvx_vmx_skip_instruction(v, v->instr_len);
	hvx_vmx_set_pending(v, HVX_PENDING_HYPERCALL);
	return HVX_RUN_USER;
}

/**
 * hvx_vmx_hypercall_complete - the VMM's result of HVX_EXIT_HYPERCALL
 * @v: the vCPU, at the HVX_RUN after the exit.
 *
 * Puts hvx_run.hypercall.ret into the guest's RAX (32 bits outside
 * 64-bit mode); RIP is past the VMCALL already.
 */
void hvx_vmx_hypercall_complete(struct hvx_vmx_vcpu *v)
{
	u64 ret = READ_ONCE(v->run->hypercall.ret);

	v->gprs[HVX_RAX] = v->hc_long ? ret : (u32)ret;
}
