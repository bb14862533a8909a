// SPDX-License-Identifier: GPL-2.0
/*
 * spec.c - speculative-execution barriers at the VM entry/exit boundary.
 *
 * One table (barriers[]) lists every barrier hvx applies around guest
 * execution. At module load each one's state is chosen from the host
 * kernel's own bug and mitigation state (X86_BUG_*, X86_FEATURE_*,
 * cpu_mitigations_off()), as KVM chooses its own, unless a module
 * parameter (spec_<name>=...) overrides it. A barrier the host needs but
 * hvx cannot apply on the running kernel refuses VM creation with a
 * logged reason, unless spec_unsafe=1, which taints the kernel and skips
 * it. The read-only parameter "mitigations" lists the outcome, one line
 * per barrier, worded like /sys/devices/system/cpu/vulnerabilities/.
 *
 * What runs where:
 *  - vmenter.S: SPEC_CTRL swap, VERW, GPR scrub, RSB fill, BHB clear
 *    (HVX_ENTER_* flags from hvx_spec_enter_flags());
 *  - hvx_spec_vcpu_load(): IBPB when a CPU runs a different vCPU;
 *  - hvx_spec_l1d_flush(): L1D flush right before entry;
 *  - hvx_spec_after_exit(): VMSCAPE mark and the counters.
 * See vmx/README.md, "Host protection at the entry/exit boundary".
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/gfp.h>
#include <linux/moduleparam.h>
#include <linux/panic.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/hardirq.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>

#include "vmx.h"

/* Values of the spec_* parameters and states of the barriers. */
enum spec_mode {
	SPEC_AUTO,	/* parameter only: follow the host */
	SPEC_OFF,
	SPEC_ON,	/* RSB: full fill; L1D: every entry ("always") */
	SPEC_LITE,	/* RSB: one CALL before a RET (PBRSB) */
	SPEC_MMIO,	/* VERW only for VMs with passthrough MMIO */
	SPEC_COND,	/* L1D: after exits that ran sensitive host code */
	SPEC_NR
};

static const char * const mode_names[SPEC_NR] = {
	[SPEC_AUTO] = "auto", [SPEC_OFF] = "off", [SPEC_ON] = "on",
	[SPEC_LITE] = "lite", [SPEC_MMIO] = "mmio", [SPEC_COND] = "cond",
};

enum spec_which { B_RSB, B_VERW, B_BHI, B_IBPB, B_VMSCAPE, B_L1D, B_NR };

/**
 * struct spec_barrier - one barrier of the boundary
 * @name: parameter suffix (spec_<name>) and label in "mitigations".
 * @what: the attack, as the kernel's vulnerabilities files name it.
 * @modes: SPEC_* values the parameter accepts (bit mask).
 * @param: the parameter's value.
 * @state: the state chosen at module load (never SPEC_AUTO).
 * @host: what in the host's state decided it, for the listing.
 * @missing: the host needs it (or it was forced) but this kernel or CPU
 *	cannot provide it; NULL if it can.
 */
struct spec_barrier {
	const char *name, *what;
	unsigned int modes;
	int param, state;
	const char *host, *missing;
};

#define M(x)	BIT(SPEC_##x)
static struct spec_barrier barriers[B_NR] = {
	[B_RSB] = { "rsb", "Spectre v2 (RSB)", M(AUTO) | M(OFF) | M(ON) | M(LITE) },
	[B_VERW] = { "verw", "MDS/TAA/MMIO stale data/RFDS",
		     M(AUTO) | M(OFF) | M(ON) | M(MMIO) },
	[B_BHI] = { "bhi", "Branch history injection", M(AUTO) | M(OFF) | M(ON) },
	[B_IBPB] = { "ibpb", "Spectre v2 (guest to guest)", M(AUTO) | M(OFF) | M(ON) },
	[B_VMSCAPE] = { "vmscape", "VMSCAPE", M(AUTO) | M(OFF) | M(ON) },
	[B_L1D] = { "l1d", "L1TF", M(AUTO) | M(OFF) | M(ON) | M(COND) },
};

#undef M

static bool spec_unsafe;
module_param(spec_unsafe, bool, 0444);
MODULE_PARM_DESC(spec_unsafe,
		 "Allow VMs although a needed barrier cannot be applied on this kernel or CPU (taints the kernel; default: off)");

static int spec_param_set(const char *val, const struct kernel_param *kp)
{
	struct spec_barrier *b = kp->arg;
	int i;

	/* KVM's vmentry_l1d_flush names. */
	if (b == &barriers[B_L1D]) {
		if (sysfs_streq(val, "never"))
			val = "off";
		else if (sysfs_streq(val, "always"))
			val = "on";
	}
	i = sysfs_match_string(mode_names, val);
	if (i < 0 || !(b->modes & BIT(i)))
		return -EINVAL;
	b->param = i;
	return 0;
}

static int spec_param_get(char *buf, const struct kernel_param *kp)
{
	const struct spec_barrier *b = kp->arg;

	return sysfs_emit(buf, "%s\n", mode_names[b->param]);
}

static const struct kernel_param_ops spec_param_ops = {
	.set = spec_param_set,
	.get = spec_param_get,
};

/* Read-only: the state is chosen once, at load; reload to change it. */
#define SPEC_PARAM(b, nm, desc)						\
	module_param_cb(spec_##nm, &spec_param_ops, &barriers[b], 0444); \
	MODULE_PARM_DESC(spec_##nm, desc)

SPEC_PARAM(B_RSB, rsb,
	   "RSB fill after VM exit: auto|on|lite|off (auto: the host's X86_FEATURE_RSB_VMEXIT or _LITE)");
SPEC_PARAM(B_VERW, verw,
	   "VERW before VM entry: auto|on|mmio|off (auto: X86_FEATURE_CLEAR_CPU_BUF_VM, or mmio with MMIO stale data clearing)");
SPEC_PARAM(B_BHI, bhi,
	   "Branch-history clear after VM exit: auto|on|off (auto: the host clears it on VM exit, X86_FEATURE_CLEAR_BHB_LOOP_ON_VMEXIT or CLEAR_BHB_VMEXIT)");
SPEC_PARAM(B_IBPB, ibpb,
	   "IBPB when a CPU switches vCPUs: auto|on|off (auto: X86_FEATURE_USE_IBPB)");
SPEC_PARAM(B_VMSCAPE, vmscape,
	   "IBPB before returning to the VMM after guest execution: auto|on|off (auto: X86_FEATURE_IBPB_EXIT_TO_USER)");
SPEC_PARAM(B_L1D, l1d,
	   "L1D flush before VM entry: auto|cond|always|never (auto: cond when the host has X86_BUG_L1TF and mitigates it)");

/* Decided at load from the table. */
static unsigned long enter_flags;	/* HVX_ENTER_* every entry gets */
static bool verw_mmio;			/* VERW for VMs with host MMIO */
static bool ibpb_switch;
static bool vmscape;
static int l1d_mode;			/* SPEC_OFF, SPEC_COND or SPEC_ON */
static bool l1d_hw;			/* IA32_FLUSH_CMD, not the fill */
static void *l1d_buf;			/* 64 KiB for the software fill */
static const char *refusal;		/* why VMs cannot be created */

/* The vCPU (hvx_vmx_vcpu.spec_id) whose guest a CPU ran last, or 0. */
static DEFINE_PER_CPU(u64, last_vcpu);
static atomic64_t vcpu_ids = ATOMIC64_INIT(0);

#define L1D_FILL_SIZE	SZ_64K

/* WRMSR without paravirt or tracing: IRQs off, next to the entry. */
static __always_inline void hvx_raw_wrmsr(u32 msr, u64 val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32))
		     : "memory");
}

/*
 * Host facts whose names changed across kernels. Newer kernels export
 * some of them to KVM only; hvx then uses what the CPU feature bits say.
 */

/* Before the TSA fixes, one bit meant VERW for user and guest alike. */
#ifdef X86_FEATURE_CLEAR_CPU_BUF_VM
#define HVX_FEATURE_VERW_VM	X86_FEATURE_CLEAR_CPU_BUF_VM
#else
#define HVX_FEATURE_VERW_VM	X86_FEATURE_CLEAR_CPU_BUF
#endif

static bool host_mmio_verw(void)
{
#ifdef X86_FEATURE_CLEAR_CPU_BUF_VM_MMIO
	return boot_cpu_has(X86_FEATURE_CLEAR_CPU_BUF_VM_MMIO);
#else
	return static_key_enabled(&mmio_stale_data_clear);
#endif
}

static bool host_uses_ibpb(void)
{
#ifdef X86_FEATURE_USE_IBPB
	return boot_cpu_has(X86_FEATURE_USE_IBPB);
#else
	return boot_cpu_has(X86_FEATURE_IBPB);
#endif
}

static bool host_ibpb_exit_to_user(void)
{
#ifdef X86_FEATURE_IBPB_EXIT_TO_USER
	return boot_cpu_has(X86_FEATURE_IBPB_EXIT_TO_USER);
#else
	return false;
#endif
}

/* The kernel's own L1TF choice (l1tf=), where modules may read it. */
static bool host_l1tf_mitigated(bool *force)
{
#ifndef HVX_KVM_ONLY_EXPORTS
	*force = l1tf_mitigation == L1TF_MITIGATION_FULL_FORCE;
	return l1tf_mitigation != L1TF_MITIGATION_OFF;
#else
	*force = false;
	return true;
#endif
}

/* The CPU says a hypervisor need not flush L1D on VM entry. */
static bool cpu_skips_l1d_flush(void)
{
	u64 cap = 0;

	return boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES) &&
	       !rdmsrq_safe(MSR_IA32_ARCH_CAPABILITIES, &cap) &&
	       (cap & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH);
}

static bool host_has_l1tf_flush(bool *force)
{
	if (!boot_cpu_has_bug(X86_BUG_L1TF) || cpu_mitigations_off() ||
	    !host_l1tf_mitigated(force))
		return false;
	return !cpu_skips_l1d_flush();
}

/*
 * /sys/devices/system/cpu/vulnerabilities/l1tf reports the L1D flush of
 * VM entries ("VMX: ...") from the kernel's l1tf_vmx_mitigation, which
 * kvm_intel sets while it is loaded and puts back to "auto" (no
 * hypervisor) when it goes. hvx sets it to its own mode if no one else
 * has, and puts "auto" back at unload if the value is still hvx's: with
 * both modules loaded the file describes the one loaded first. The
 * variable exists only in kernels built with KVM_INTEL; it is exported to
 * modules up to 6.18, and from 6.19 to KVM and, with kmod/patches/, to
 * hvx (Kbuild builds the real module only where it is).
 */
#if IS_ENABLED(CONFIG_KVM_INTEL)
static enum vmx_l1d_flush_state l1tf_reported = VMENTER_L1D_FLUSH_AUTO;

static void l1tf_report(void)
{
	enum vmx_l1d_flush_state s;

	if (!boot_cpu_has_bug(X86_BUG_L1TF))
		s = VMENTER_L1D_FLUSH_NOT_REQUIRED;
	else if (l1d_mode == SPEC_ON)
		s = VMENTER_L1D_FLUSH_ALWAYS;
	else if (l1d_mode == SPEC_COND)
		s = VMENTER_L1D_FLUSH_COND;
	else if (cpu_skips_l1d_flush())
		s = VMENTER_L1D_FLUSH_NOT_REQUIRED;
	else
		s = VMENTER_L1D_FLUSH_NEVER;
	if (cmpxchg(&l1tf_vmx_mitigation, VMENTER_L1D_FLUSH_AUTO, s) ==
	    VMENTER_L1D_FLUSH_AUTO)
		l1tf_reported = s;
}

static void l1tf_unreport(void)
{
	if (l1tf_reported != VMENTER_L1D_FLUSH_AUTO)
		cmpxchg(&l1tf_vmx_mitigation, l1tf_reported,
			VMENTER_L1D_FLUSH_AUTO);
	l1tf_reported = VMENTER_L1D_FLUSH_AUTO;
}
#else
static void l1tf_report(void) { }
static void l1tf_unreport(void) { }
#endif

/*
 * An NMI that causes a VM exit must reach the kernel's NMI handler. With
 * x86_entry_from_kvm() (7.x with kmod/patches/) the kernel picks its FRED
 * or IDT entry; otherwise hvx calls the IDT entry meant for this
 * (vmenter.S). Under FRED that entry is not used, and a software INT 2
 * is not an NMI there: no VMs then.
 */
static const char *nmi_refusal(void)
{
#ifdef HVX_HAVE_X86_ENTRY_FROM_KVM
	return NULL;
#endif
#ifndef HVX_NMI_ENTRY
	return "this kernel exports no NMI entry to modules";
#endif
#ifdef X86_FEATURE_FRED
	if (cpu_feature_enabled(X86_FEATURE_FRED))
		return "FRED is enabled and its NMI entry is not available to modules";
#endif
	return NULL;
}

/* What the running kernel does for itself; sets b->host and the state. */
static void choose_auto(struct spec_barrier *b, enum spec_which id)
{
	bool off = cpu_mitigations_off(), force;

	switch (id) {
	case B_RSB:
		if (boot_cpu_has(X86_FEATURE_RSB_VMEXIT)) {
			b->state = SPEC_ON;
			b->host = "X86_FEATURE_RSB_VMEXIT";
		} else if (boot_cpu_has(X86_FEATURE_RSB_VMEXIT_LITE)) {
			b->state = SPEC_LITE;
			b->host = "X86_FEATURE_RSB_VMEXIT_LITE";
		} else {
			b->state = SPEC_OFF;
			b->host = "no RSB_VMEXIT in the host";
		}
		break;
	case B_VERW:
		if (boot_cpu_has(HVX_FEATURE_VERW_VM)) {
			b->state = SPEC_ON;
			b->host = "the host clears CPU buffers before VM entry";
		} else if (host_mmio_verw()) {
			b->state = SPEC_MMIO;
			b->host = "X86_BUG_MMIO_STALE_DATA, mmio_stale_data_clear";
		} else {
			b->state = SPEC_OFF;
			b->host = "the host clears no CPU buffers for guests";
		}
		break;
	case B_BHI:
#ifdef HVX_FEATURE_BHB_VMEXIT
		b->state = boot_cpu_has(HVX_FEATURE_BHB_VMEXIT) ? SPEC_ON : SPEC_OFF;
#else
		b->state = SPEC_OFF;
#endif
		b->host = b->state == SPEC_ON ? "the host clears branch history on VM exit" :
			  boot_cpu_has_bug(X86_BUG_BHI) ? "X86_BUG_BHI, not cleared by the host" :
			  "not affected";
		break;
	case B_IBPB:
		b->state = host_uses_ibpb() && !off ? SPEC_ON : SPEC_OFF;
		b->host = b->state == SPEC_ON ? "IBPB in use by the host" :
			  "no IBPB in use by the host";
		break;
	case B_VMSCAPE:
		b->state = host_ibpb_exit_to_user() ? SPEC_ON : SPEC_OFF;
		b->host = b->state == SPEC_ON ? "X86_FEATURE_IBPB_EXIT_TO_USER" :
			  "no IBPB_EXIT_TO_USER in the host";
		break;
	case B_L1D:
		if (host_has_l1tf_flush(&force)) {
			b->state = force ? SPEC_ON : SPEC_COND;
			b->host = "X86_BUG_L1TF, l1tf mitigation on";
		} else {
			b->state = SPEC_OFF;
			b->host = boot_cpu_has_bug(X86_BUG_L1TF) ?
				  "X86_BUG_L1TF, mitigation off or flush not needed" :
				  "not affected";
		}
		break;
	default:
		break;
	}
}

/* Can the running kernel and CPU do @b in its state? */
#define NO_IBPB_EXIT_TO_USER \
	"the kernel does not issue IBPB on exit to user (X86_FEATURE_IBPB_EXIT_TO_USER)"

static const char *check_possible(const struct spec_barrier *b,
				  enum spec_which id)
{
	if (b->state == SPEC_OFF)
		return NULL;
	switch (id) {
	case B_BHI:
#ifndef HVX_FEATURE_BHB_VMEXIT
		return "this kernel has no branch-history clearing sequence";
#endif
		break;
	case B_IBPB:
		if (!boot_cpu_has(X86_FEATURE_IBPB))
			return "the CPU has no IBPB";
		break;
	case B_VMSCAPE:
		/* Only the kernel's exit-to-user path issues this IBPB. */
		if (!host_ibpb_exit_to_user())
			return NO_IBPB_EXIT_TO_USER;
		break;
	default:
		break;
	}
	return NULL;
}

static void apply(void)
{
	unsigned long f = 0;

	if (boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL))
		f |= HVX_ENTER_SPEC_CTRL;
	if (boot_cpu_has(X86_FEATURE_KERNEL_IBRS))
		f |= HVX_ENTER_IBRS_ALWAYS;
	if (!barriers[B_RSB].missing) {
		if (barriers[B_RSB].state == SPEC_ON)
			f |= HVX_ENTER_RSB;
		else if (barriers[B_RSB].state == SPEC_LITE)
			f |= HVX_ENTER_RSB_LITE;
	}
	if (barriers[B_VERW].state == SPEC_ON)
		f |= HVX_ENTER_VERW;
	verw_mmio = barriers[B_VERW].state == SPEC_MMIO;
	if (barriers[B_BHI].state == SPEC_ON && !barriers[B_BHI].missing)
		f |= HVX_ENTER_BHB;
	ibpb_switch = barriers[B_IBPB].state == SPEC_ON &&
		      !barriers[B_IBPB].missing;
	vmscape = barriers[B_VMSCAPE].state == SPEC_ON &&
		  !barriers[B_VMSCAPE].missing;
	l1d_mode = barriers[B_L1D].state;
	enter_flags = f;
}

/**
 * hvx_spec_init - choose the barriers from the host's state and parameters
 *
 * Context: module load, before any VM exists. Logs, once, each barrier
 * the host needs that hvx cannot apply, and the NMI path's refusal.
 * Return: 0, or -ENOMEM (the L1D fill buffer).
 */
int hvx_spec_init(void)
{
	int i;

	for (i = 0; i < B_NR; i++) {
		struct spec_barrier *b = &barriers[i];

		if (b->param == SPEC_AUTO) {
			choose_auto(b, i);
		} else {
			b->state = b->param;
			b->host = "set by parameter";
		}
		b->missing = check_possible(b, i);
		if (b->missing) {
			pr_warn("barrier %s (%s) cannot be applied: %s; %s\n",
				b->name, b->what, b->missing,
				spec_unsafe ? "skipped (spec_unsafe)" :
				"VM creation is refused");
			if (!spec_unsafe && !refusal)
				refusal = b->missing;
		}
	}
	if (nmi_refusal()) {
		pr_warn("VM creation is refused: %s\n", nmi_refusal());
		refusal = nmi_refusal();
	}
	for (i = 0; i < B_NR; i++)
		if (spec_unsafe && barriers[i].missing)
			add_taint(TAINT_USER, LOCKDEP_STILL_OK);

	l1d_hw = boot_cpu_has(X86_FEATURE_FLUSH_L1D);
	if (barriers[B_L1D].state != SPEC_OFF && !l1d_hw) {
		struct page *p = alloc_pages(GFP_KERNEL, get_order(L1D_FILL_SIZE));

		if (!p)
			return -ENOMEM;
		l1d_buf = page_address(p);
		/* Real, distinct lines: never the shared zero page. */
		memset(l1d_buf, 0x5a, L1D_FILL_SIZE);
	}
	apply();
	return 0;
}

/**
 * hvx_spec_report_l1tf - describe hvx's L1D flush in the kernel's l1tf file
 *
 * Sets the kernel's l1tf_vmx_mitigation to hvx's mode ("VMX: conditional
 * cache flushes", "cache flushes", "flush not necessary", "vulnerable")
 * unless kvm_intel already set it; hvx_spec_exit() undoes it. Does
 * nothing where the kernel keeps the variable to KVM.
 *
 * Context: module load, once VMX is known to be usable, and again each
 * time hvx enters VMX root mode for its first VM (a kvm_intel unloaded
 * meanwhile put the variable back to "auto"); process context.
 */
void hvx_spec_report_l1tf(void)
{
	l1tf_report();
}

/**
 * hvx_spec_exit - free what hvx_spec_init() allocated
 *
 * Context: module unload; no VM exists.
 */
void hvx_spec_exit(void)
{
	l1tf_unreport();
	if (l1d_buf)
		free_pages((unsigned long)l1d_buf, get_order(L1D_FILL_SIZE));
	l1d_buf = NULL;
	hvx_vmx_spec_bitmaps_free();
}

/**
 * hvx_spec_check - may a VM be created with the barriers as chosen?
 *
 * Context: process context (VM creation).
 * Return: 0, or -EOPNOTSUPP when a needed barrier cannot be applied
 * (logged at module load and again, rate-limited, here).
 */
int hvx_spec_check(void)
{
	if (!refusal)
		return 0;
	pr_warn_ratelimited("VM creation refused: %s (see /sys/module/hvx/parameters/mitigations)\n",
			    refusal);
	return -EOPNOTSUPP;
}

/**
 * hvx_spec_enter_flags - HVX_ENTER_* flags for the next entry of @v
 * @v: the vCPU.
 *
 * Context: interrupts disabled, right before hvx_vmx_enter().
 * Return: the flags; VERW is added for a VM with passthrough MMIO in the
 * "mmio" state (MMIO stale data).
 */
unsigned long hvx_spec_enter_flags(struct hvx_vmx_vcpu *v)
{
	unsigned long f = enter_flags;

	if (v->launched)
		f |= HVX_ENTER_RESUME;
	if (v->spec_ctrl_direct)
		f |= HVX_ENTER_SAVE_SPEC_CTRL;
	if (verw_mmio && hvx_vmx_has_host_mmio(v))
		f |= HVX_ENTER_VERW;
	return f;
}

/**
 * hvx_spec_vcpu_load - barriers when @v is loaded on this CPU
 * @v: the vCPU whose VMCS is being made current.
 *
 * If this CPU last ran another vCPU's guest, both guests ran in the same
 * predictor mode: issue IBPB (SDM Vol. 4 2.1, IA32_PRED_CMD), as KVM's
 * kvm_arch_vcpu_load() does, and ask the next entry to flush L1D.
 * vCPUs are told apart by a never-reused id, not by address.
 *
 * Context: preemption disabled.
 */
void hvx_spec_vcpu_load(struct hvx_vmx_vcpu *v)
{
	if (unlikely(!v->spec_id))
		v->spec_id = atomic64_inc_return(&vcpu_ids);
	if (likely(this_cpu_read(last_vcpu) == v->spec_id))
		return;
	this_cpu_write(last_vcpu, v->spec_id);
	v->l1d_flush = true;
	if (ibpb_switch) {
		hvx_raw_wrmsr(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
		v->stats.s.ibpb_switch++;
	}
}

/* Read every line of the fill buffer: TLB entries first, then the lines. */
static void l1d_fill(void)
{
	asm volatile("xor %%eax, %%eax\n"
		     "1: movzbl (%[buf], %%rax), %%ecx\n"
		     "add $4096, %%eax\n"
		     "cmp %[size], %%eax\n"
		     "jne 1b\n"
		     "xor %%eax, %%eax\n"
		     "2: movzbl (%[buf], %%rax), %%ecx\n"
		     "add $64, %%eax\n"
		     "cmp %[size], %%eax\n"
		     "jne 2b\n"
		     : : [buf] "r"(l1d_buf), [size] "i"(L1D_FILL_SIZE)
		     : "eax", "ecx", "cc", "memory");
}

/**
 * hvx_spec_l1d_flush - flush L1D before an entry if the state says so
 * @v: the vCPU about to enter.
 *
 * "on" flushes before every entry; "cond" only when host code that may
 * have touched other data ran since the last entry: an interrupt or
 * softirq on this CPU (the kernel's per-CPU flag for KVM), a context
 * switch of this thread, a return to userspace, a vCPU switch on this
 * CPU, or an exit whose handler is not one of the short ones
 * (hvx_spec_after_exit()). IA32_FLUSH_CMD where the CPU has it (SDM Vol.
 * 4 2.1), else a 64 KiB read.
 *
 * Context: interrupts disabled, immediately before hvx_vmx_enter().
 */
void hvx_spec_l1d_flush(struct hvx_vmx_vcpu *v)
{
	unsigned long nsw;
	bool flush;

	if (l1d_mode == SPEC_OFF)
		return;
	nsw = current->nvcsw + current->nivcsw;
	flush = v->l1d_flush || nsw != v->spec_nsw || l1d_mode == SPEC_ON;
	v->l1d_flush = false;
	v->spec_nsw = nsw;
#if IS_ENABLED(CONFIG_KVM_INTEL)
	flush |= kvm_get_cpu_l1tf_flush_l1d();
	kvm_clear_cpu_l1tf_flush_l1d();
#else
	flush = true;	/* the kernel does not track interrupts for us */
#endif
	if (!flush)
		return;
	if (l1d_hw) {
		hvx_raw_wrmsr(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		v->stats.s.l1d_flushes_hw++;
	} else {
		l1d_fill();
		v->stats.s.l1d_flushes_sw++;
	}
}

/* Exits whose handlers only touch the vCPU's own state. */
static bool exit_is_short(u32 reason)
{
	switch (reason) {
	case EXIT_REASON_EXTERNAL_INTERRUPT:	/* the IRQ flag covers it */
	case EXIT_REASON_PREEMPTION_TIMER:
	case EXIT_REASON_CPUID:
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
	case EXIT_REASON_CR_ACCESS:
	case EXIT_REASON_XSETBV:
	case EXIT_REASON_PAUSE_INSTRUCTION:
	case EXIT_REASON_INTERRUPT_WINDOW:
	case EXIT_REASON_NMI_WINDOW:
	case EXIT_REASON_HLT:		/* a sleep is a context switch */
	case EXIT_REASON_TPR_BELOW_THRESHOLD:
		return true;
	}
	return false;
}

/**
 * hvx_spec_after_exit - bookkeeping after hvx_vmx_enter() returned
 * @v: the vCPU.
 * @flags: the HVX_ENTER_* flags of that entry.
 * @reason: the basic exit reason, or -1 after VMfail.
 *
 * Marks the CPU for an IBPB before its next return to userspace
 * (VMSCAPE) and counts the barriers the entry code ran.
 *
 * Context: interrupts disabled, on the CPU that ran the guest.
 */
void hvx_spec_after_exit(struct hvx_vmx_vcpu *v, unsigned long flags,
			 int reason)
{
#ifdef X86_FEATURE_IBPB_EXIT_TO_USER
	if (vmscape && !this_cpu_read(x86_ibpb_exit_to_user)) {
		this_cpu_write(x86_ibpb_exit_to_user, true);
		v->stats.s.ibpb_exit_to_user++;
	}
#endif
	if (flags & (HVX_ENTER_RSB | HVX_ENTER_RSB_LITE))
		v->stats.s.rsb_fills++;
	if (flags & HVX_ENTER_VERW)
		v->stats.s.verw++;
	if (flags & HVX_ENTER_BHB)
		v->stats.s.bhi_clears++;
	if (reason < 0 || !exit_is_short(reason))
		v->l1d_flush = true;
}

/**
 * hvx_spec_user_exit - hvx_vmx_run() returns to the VMM
 * @v: the vCPU.
 *
 * Userspace (and whatever the kernel does meanwhile) runs before the next
 * entry: "cond" flushes L1D then.
 */
void hvx_spec_user_exit(struct hvx_vmx_vcpu *v)
{
	v->l1d_flush = true;
}

static const char *state_text(const struct spec_barrier *b,
			      enum spec_which id)
{
	static const char * const on_text[B_NR] = {
		[B_RSB] = "RSB filled after every exit",
		[B_VERW] = "VERW before every entry",
		[B_BHI] = "branch history cleared after every exit",
		[B_IBPB] = "IBPB when a CPU switches vCPUs",
		[B_VMSCAPE] = "IBPB before return to userspace after guest code",
		[B_L1D] = "L1D flushed before every entry",
	};

	switch (b->state) {
	case SPEC_OFF:
		return "No barrier";
	case SPEC_LITE:
		return "Mitigation: one CALL retired before the first RET (PBRSB)";
	case SPEC_MMIO:
		return "Mitigation: VERW before entry of VMs with passthrough MMIO";
	case SPEC_COND:
		return "Mitigation: L1D flushed before entry after sensitive host code (cond)";
	}
	return on_text[id];
}

/*
 * One line per barrier: "name: state: text (attack; source: host state)",
 * state being off, on, lite, mmio or cond as chosen, or "unavailable"
 * (VMs refused) or "skipped" (spec_unsafe) when it cannot be applied.
 */
static int mitigations_get(char *buf, const struct kernel_param *kp)
{
	int i, n = 0;

	for (i = 0; i < B_NR; i++) {
		const struct spec_barrier *b = &barriers[i];

		if (b->missing)
			n += sysfs_emit_at(buf, n, "%s: %s: Vulnerable: %s (%s; %s: %s)\n",
					   b->name, spec_unsafe ? "skipped" : "unavailable",
					   b->missing, b->what,
					   b->param == SPEC_AUTO ? "auto" : "parameter",
					   b->host);
		else
			n += sysfs_emit_at(buf, n, "%s: %s: %s (%s; %s: %s)\n",
					   b->name, mode_names[b->state],
					   state_text(b, i), b->what,
					   b->param == SPEC_AUTO ? "auto" : "parameter",
					   b->host);
	}
	if (enter_flags & HVX_ENTER_SPEC_CTRL)
		n += sysfs_emit_at(buf, n, "spec_ctrl: %s\n",
				   "on: Mitigation: guest value loaded before entry, host value restored before the first RET");
	else
		n += sysfs_emit_at(buf, n, "spec_ctrl: %s\n",
				   "off: Not affected: the CPU has no IA32_SPEC_CTRL");
	n += sysfs_emit_at(buf, n, "scrub: on: Mitigation: all GPRs zeroed after every exit\n");
	n += sysfs_emit_at(buf, n, "nmi: %s\n",
			   nmi_refusal() ? "unavailable: FRED: no NMI entry for modules" :
			   "on: Mitigation: the kernel's NMI entry right after the exit");
	n += sysfs_emit_at(buf, n, "vms: %s\n",
			   refusal ? "refused: VM creation fails with EOPNOTSUPP" :
			   spec_unsafe ? "allowed: spec_unsafe" : "allowed");
	return n;
}

static const struct kernel_param_ops mitigations_ops = {
	.get = mitigations_get,
};
module_param_cb(mitigations, &mitigations_ops, NULL, 0444);
MODULE_PARM_DESC(mitigations,
		 "Read-only: each barrier at the VM entry/exit boundary and its state");
