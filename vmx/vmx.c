// SPDX-License-Identifier: GPL-2.0
/*
 * vmx.c - VMX capabilities and VMX root mode.
 *
 * hvx holds VMX root mode only while at least one VM exists: the first
 * hvx_vmx_get() executes VMXON on every online CPU, the last hvx_vmx_put()
 * executes VMXOFF, so hvx takes turns with kvm_intel. Where the core
 * kernel owns VMXON (HVX_VMX_SHARED: 7.x with kmod/patches/), hvx takes
 * and drops the core's per-CPU reference instead, shares VMX operation
 * with KVM, and hands each CPU's current VMCS back whenever it stops using
 * the CPU (hvx_vmx_cpu_acquire()/hvx_vmx_cpu_release()). A CPU coming online
 * while VMs exist enters VMX operation; a CPU going offline clears every
 * VMCS active on it and leaves it. Suspend, reboot, kexec and crash leave
 * VMX operation too (syscore ops and the kernel's emergency callback);
 * vmx/README.md, "VMX lifecycle", has the whole picture.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/slab.h>
#include <asm/desc.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>

#include "vmx.h"

/*
 * IA32_VMX_MISC[4:0]: the preemption timer counts down once every 2^X TSC
 * ticks (SDM Vol. 3D A.6). Defined here because the kernel's name for it
 * (VMX_MISC_PREEMPTION_TIMER_RATE_MASK) is gone from 6.12's <asm/vmx.h>.
 */
#define HVX_VMX_MISC_TIMER_RATE	0x1fULL

struct hvx_vmx_caps hvx_caps;
void *hvx_msr_bitmap;
void *hvx_msr_bitmap_long;

static const char *vmx_unusable;	/* NULL when VMX is usable */
static DEFINE_PER_CPU(void *, vmxon_region);
static DEFINE_PER_CPU(bool, vmx_on);
static DEFINE_PER_CPU(void *, current_vmcs);
static DEFINE_PER_CPU(struct list_head, loaded_vmcss);

/*
 * Shared VMX: the core kernel's reference-counted VMXON, used by KVM at the
 * same time (kmod/compat.h, HVX_VMX_SHARED). Per CPU, between the
 * outermost hvx_vmx_cpu_acquire() and its hvx_vmx_cpu_release(): the
 * nesting depth, and the VMCS that was current before (HVX_NO_VMCS: none,
 * or hvx's own).
 */
#define HVX_NO_VMCS	(~0ULL)	/* VMPTRST's "no current VMCS" (SDM Vol. 3C 31.3) */
static const bool vmx_shared = HVX_VMX_IS_SHARED;
static DEFINE_PER_CPU(int, cpu_held);
static bool vmx_shared_param = HVX_VMX_IS_SHARED;
module_param_named(vmx_shared, vmx_shared_param, bool, 0444);
MODULE_PARM_DESC(vmx_shared, "Read-only: Y when hvx shares VMX operation with KVM through the kernel's reference-counted VMXON (7.x with kmod/patches/); N when it does its own VMXON and takes turns with kvm_intel");
static DEFINE_PER_CPU(u64, found_vmcs);
static DEFINE_MUTEX(vmx_users_lock);
static int vmx_users;			/* changed under cpus_read_lock() */
static int vmx_hp_state = -1;
/* Set by the syscore shutdown hook: no VMXON after it (reboot, kexec). */
static bool vmx_shutting_down;
/* Under vmx_users_lock: hvx's emergency callback is registered. */
static bool emergency_cb_held;
/* Under vmx_users_lock: kvm_intel is (or may be) loaded. */
static bool kvm_intel_loaded;

/*
 * Set when the kernel starts a reboot, power-off, halt or kexec (the
 * reboot notifier, below): from then on a VMX instruction may fault on any
 * CPU, because vmx_reboot_notify() takes the CPUs out of VMX operation
 * while vCPU threads still run.
 */
bool hvx_vmx_rebooting;

/**
 * hvx_vmx_insn_fault - a VMX instruction faulted (exception-table fixup)
 * @insn: its mnemonic.
 *
 * VMX instructions #UD outside VMX operation. hvx takes every CPU out of
 * it at reboot while vCPU threads may be between two VMX instructions
 * (vmx_reboot_notify()), so their fixups come here, and the fault is
 * expected then. Either way the instruction is skipped and the vCPU's
 * next VM entry faults too, so HVX_RUN returns HVX_EXIT_FAIL_ENTRY: the
 * VM stops, the host goes on. Outside a reboot the fault means hvx lost
 * track of VMX operation (another hypervisor left it behind hvx's back,
 * or a hvx bug), and it WARNs once. KVM's kvm_spurious_fault() BUG()s
 * instead.
 *
 * Context: any; the CPU is outside VMX operation.
 */
void hvx_vmx_insn_fault(const char *insn)
{
	WARN_ONCE(!READ_ONCE(hvx_vmx_rebooting),
		  "hvx: %s faulted outside VMX operation on CPU %d; the VM's entries fail\n",
		  insn, raw_smp_processor_id());
}

/* VMPTRLD @pa (SDM Vol. 3C 31.3); a fault goes to hvx_vmx_insn_fault(). */
static __always_inline void vmcs_make_current(u64 pa)
{
	asm goto("1: vmptrld %[pa]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [pa] "m"(pa) : "cc", "memory" : fault);
	return;
fault:
	hvx_vmx_insn_fault("VMPTRLD");
}

/**
 * hvx_vmwrite_error - report a failed VMWRITE (a hvx bug)
 * @field: field encoding.
 * @value: value that was refused.
 */
void hvx_vmwrite_error(unsigned long field, unsigned long value)
{
	pr_err_ratelimited("VMWRITE of field %#lx value %#lx failed, VM-instruction error %lu\n",
			   field, value, vmcs_read(VM_INSTRUCTION_ERROR));
}

/*
 * Combine required and optional control bits with what the CPU allows:
 * low 32 bits of the capability MSR are the bits that must be 1, high
 * 32 bits the bits that may be 1 (SDM Vol. 3D A.3).
 */
static int adjust_controls(u32 required, u32 optional, u32 msr, u32 *out)
{
	u32 must, may, ctl;

	rdmsr(msr, must, may);
	ctl = ((required | optional) & may) | must;
	if ((ctl & required) != required)
		return -EOPNOTSUPP;
	*out = ctl;
	return 0;
}

/*
 * CR4 bits of features the CPU carries out for a guest by itself under
 * EPT, none of which exits: FSGSBASE (RD/WRFS/GSBASE act on the guest's
 * segment bases in the VMCS), SMEP and SMAP (checks of the guest's own
 * page walk, SDM Vol. 3A 4.6; emulate.c makes its own walks check them
 * too), UMIP (SGDT, SIDT, SLDT, SMSW and STR at CPL > 0 raise #GP, SDM
 * Vol. 3A 2.5) and PCIDE (CR3 loads do not exit, so the CPU keeps the
 * PCID and honours CR3 bit 63; with VPID its TLB entries are tagged by
 * VPID and PCID, SDM Vol. 3C 29.1.1). Each is offered as the host has it.
 * PKE is not: the guest's PKRU would have to be switched around every
 * entry and exit.
 */
static void probe_cr4_native(struct hvx_vmx_caps *c)
{
	c->cr4_native = 0;
	if (boot_cpu_has(X86_FEATURE_FSGSBASE))
		c->cr4_native |= X86_CR4_FSGSBASE;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		c->cr4_native |= X86_CR4_SMEP;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		c->cr4_native |= X86_CR4_SMAP;
	if (boot_cpu_has(X86_FEATURE_UMIP))
		c->cr4_native |= X86_CR4_UMIP;
	if (boot_cpu_has(X86_FEATURE_PCID))
		c->cr4_native |= X86_CR4_PCIDE;
}

/*
 * Guests get XSAVE with the x87, SSE and AVX components the host has
 * enabled, in the standard (non-compacted) layout, which must fit
 * HVX_FPU_AREA_SIZE (SDM Vol. 1 13.4; AVX offset from CPUID.(0DH,2)).
 */
static void probe_xsave(struct hvx_vmx_caps *c)
{
	u32 size, offset, ecx, edx;

	if (!boot_cpu_has(X86_FEATURE_XSAVE) ||
	    !(cr4_read_shadow() & X86_CR4_OSXSAVE))
		return;
	c->host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	c->guest_xcr0 = c->host_xcr0 &
			(XFEATURE_MASK_FP | XFEATURE_MASK_SSE | XFEATURE_MASK_YMM);
	if (c->guest_xcr0 & XFEATURE_MASK_YMM) {
		cpuid_count(0xd, XFEATURE_YMM, &size, &offset, &ecx, &edx);
		if (offset + size > HVX_FPU_AREA_SIZE)
			c->guest_xcr0 &= ~XFEATURE_MASK_YMM;
	}
}

#define VMX_OFF_BY_FIRMWARE \
	"VMX is disabled by firmware (IA32_FEATURE_CONTROL not locked with VMX outside SMX enabled)"

static const char *probe_caps(void)
{
	struct hvx_vmx_caps *c = &hvx_caps;
	bool true_msrs;
	u64 feat;

	if (!(cpuid_ecx(1) & BIT(5)))
		return "CPU has no VMX (CPUID.1:ECX.VMX[bit 5] = 0)";
	if (rdmsrq_safe(MSR_IA32_FEAT_CTL, &feat))
		return "IA32_FEATURE_CONTROL is not readable";
	if (!(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return VMX_OFF_BY_FIRMWARE;

	rdmsrq(MSR_IA32_VMX_BASIC, c->basic);
	c->revision = c->basic & 0x7fffffff;
	c->vmcs_size = (c->basic >> 32) & 0x1fff;
	if (c->vmcs_size > PAGE_SIZE)
		return "VMCS region larger than a page";
	if (((c->basic >> 50) & 0xf) != 6)
		return "VMCS must be write-back memory (IA32_VMX_BASIC[53:50])";
	if (!(c->basic & BIT_ULL(54)))
		return "no VM-exit instruction information for INS/OUTS (IA32_VMX_BASIC[54])";
	true_msrs = c->basic & BIT_ULL(55);

	if (adjust_controls(PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING,
			    PIN_BASED_VIRTUAL_NMIS | PIN_BASED_VMX_PREEMPTION_TIMER,
			    true_msrs ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
					MSR_IA32_VMX_PINBASED_CTLS, &c->pin))
		return "missing pin-based controls (external-interrupt or NMI exiting)";
	if (adjust_controls(CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING |
			    CPU_BASED_MOV_DR_EXITING | CPU_BASED_MWAIT_EXITING |
			    CPU_BASED_MONITOR_EXITING | CPU_BASED_RDPMC_EXITING |
			    CPU_BASED_USE_TSC_OFFSETTING |
			    CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
			    CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_TPR_SHADOW,
			    true_msrs ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
					MSR_IA32_VMX_PROCBASED_CTLS, &c->proc))
		return "missing processor-based controls";
	/*
	 * CR8 is the TPR. With the TPR shadow, guest MOV CR8 reads and
	 * writes VTPR in the virtual-APIC page without a VM exit (SDM Vol.
	 * 3C 30.1.1, 30.3); without it every MOV CR8 must exit, or the guest
	 * would write the host's real TPR.
	 */
	rdmsr(true_msrs ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
			  MSR_IA32_VMX_PROCBASED_CTLS, feat, c->proc_may);
	if (!(c->proc & CPU_BASED_TPR_SHADOW)) {
		if ((c->proc_may & (CPU_BASED_CR8_LOAD_EXITING |
			   CPU_BASED_CR8_STORE_EXITING)) !=
		    (CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING))
			return "neither TPR shadow nor CR8 exiting";
		c->proc |= CPU_BASED_CR8_LOAD_EXITING |
			   CPU_BASED_CR8_STORE_EXITING;
	}
	/* NMI-window exiting needs virtual NMIs (SDM Vol. 3C 27.2.1.1). */
	if (!(c->pin & PIN_BASED_VIRTUAL_NMIS))
		c->proc_may &= ~CPU_BASED_NMI_WINDOW_EXITING;
	if (adjust_controls(SECONDARY_EXEC_ENABLE_EPT |
			    SECONDARY_EXEC_UNRESTRICTED_GUEST,
			    SECONDARY_EXEC_ENABLE_VPID |
			    SECONDARY_EXEC_WBINVD_EXITING |
			    SECONDARY_EXEC_PAUSE_LOOP_EXITING |
			    SECONDARY_EXEC_ENABLE_RDTSCP |
			    SECONDARY_EXEC_ENABLE_INVPCID,
			    MSR_IA32_VMX_PROCBASED_CTLS2, &c->proc2))
		return "no EPT or no unrestricted guest";
	rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2, feat, c->proc2_may);
	/*
	 * RDTSCP and RDPID read IA32_TSC_AUX, which run.c switches to the
	 * guest's value: only where the host has the MSR (either instruction).
	 */
	if (!boot_cpu_has(X86_FEATURE_RDTSCP) && !boot_cpu_has(X86_FEATURE_RDPID))
		c->proc2 &= ~SECONDARY_EXEC_ENABLE_RDTSCP;
	/*
	 * INVPCID runs natively with "enable INVPCID" (INVLPG exiting is
	 * off); without the control it raises #UD (SDM Vol. 3C 26.4).
	 */
	if (!boot_cpu_has(X86_FEATURE_INVPCID))
		c->proc2 &= ~SECONDARY_EXEC_ENABLE_INVPCID;
	probe_cr4_native(c);
	if (adjust_controls(VM_EXIT_HOST_ADDR_SPACE_SIZE |
			    VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER,
			    VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT |
			    VM_EXIT_SAVE_DEBUG_CONTROLS |
			    VM_EXIT_SAVE_VMX_PREEMPTION_TIMER,
			    true_msrs ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
					MSR_IA32_VMX_EXIT_CTLS, &c->exit))
		return "missing VM-exit controls (64-bit host, save/load EFER)";
	if (adjust_controls(VM_ENTRY_LOAD_IA32_EFER,
			    VM_ENTRY_LOAD_IA32_PAT | VM_ENTRY_LOAD_DEBUG_CONTROLS,
			    true_msrs ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
					MSR_IA32_VMX_ENTRY_CTLS, &c->entry))
		return "missing VM-entry controls (load EFER)";
	/* hvx decides these per vCPU. */
	c->entry &= ~(VM_ENTRY_IA32E_MODE | VM_ENTRY_SMM | VM_ENTRY_DEACT_DUAL_MONITOR);
	/* Consistency: PAT load and save go together. */
	if (!(c->exit & VM_EXIT_LOAD_IA32_PAT) || !(c->entry & VM_ENTRY_LOAD_IA32_PAT)) {
		c->exit &= ~(VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT);
		c->entry &= ~VM_ENTRY_LOAD_IA32_PAT;
	}

	/*
	 * Bound every stay in the guest to one host tick. Host interrupts
	 * already force exits; the timer also covers CPUs and emulators
	 * that keep external interrupts blocked while a guest runs with
	 * RFLAGS.IF = 0 (Bochs 2.7 does), so signals and need_resched are
	 * seen within a tick whatever the guest does. The timer counts
	 * only while the guest runs (SDM Vol. 3C 26.5.1): the exit fast
	 * path, which goes round many stays with interrupts off, bounds
	 * itself by @tick_tsc as well (exit.c).
	 */
	c->tick_tsc = max_t(u64, (u64)tsc_khz * 1000 / HZ, 1);
	if (c->pin & PIN_BASED_VMX_PREEMPTION_TIMER) {
		u64 misc, ticks;

		rdmsrq(MSR_IA32_VMX_MISC, misc);
		ticks = c->tick_tsc >> (misc & HVX_VMX_MISC_TIMER_RATE);
		c->preempt_timer = clamp_t(u64, ticks, 1, U32_MAX);
	}
	/*
	 * Saving the timer at exits (SDM Vol. 3C 28.3.2) lets it count guest
	 * time across exits: it is then only reloaded after it expired,
	 * instead of a VMWRITE before every entry.
	 */
	if (!c->preempt_timer)
		c->exit &= ~VM_EXIT_SAVE_VMX_PREEMPTION_TIMER;

	c->debugctl = !rdmsrq_safe(MSR_IA32_DEBUGCTLMSR, &feat);
	c->fast_string = !rdmsrq_safe(MSR_IA32_MISC_ENABLE, &feat) &&
			 (feat & MSR_IA32_MISC_ENABLE_FAST_STRING);
	/* Speculation controls, offered to guests as the host has them. */
	c->ibpb = boot_cpu_has(X86_FEATURE_SPEC_CTRL);
	c->spec_ctrl = (c->ibpb ? SPEC_CTRL_IBRS : 0) |
		       (boot_cpu_has(X86_FEATURE_INTEL_STIBP) ? SPEC_CTRL_STIBP : 0) |
		       (boot_cpu_has(X86_FEATURE_SPEC_CTRL_SSBD) ? SPEC_CTRL_SSBD : 0);
	probe_xsave(c);

	rdmsrq(MSR_IA32_VMX_CR0_FIXED0, c->cr0_fixed0);
	rdmsrq(MSR_IA32_VMX_CR0_FIXED1, c->cr0_fixed1);
	rdmsrq(MSR_IA32_VMX_CR4_FIXED0, c->cr4_fixed0);
	rdmsrq(MSR_IA32_VMX_CR4_FIXED1, c->cr4_fixed1);
	rdmsrq(MSR_IA32_VMX_EPT_VPID_CAP, c->ept_vpid);
	if (!(c->ept_vpid & VMX_EPT_PAGE_WALK_4_BIT) ||
	    !(c->ept_vpid & VMX_EPTP_WB_BIT) ||
	    !(c->ept_vpid & VMX_EPT_INVEPT_BIT) ||
	    !(c->ept_vpid & VMX_EPT_EXTENT_CONTEXT_BIT))
		return "EPT lacks 4-level walks, write-back tables or single-context INVEPT";
	/* <asm/vmx.h> numbers the VPID bits from bit 32 of the MSR (A.10). */
	c->vpid = (c->proc2 & SECONDARY_EXEC_ENABLE_VPID) &&
		  ((c->ept_vpid >> 32) & VMX_VPID_INVVPID_BIT) &&
		  ((c->ept_vpid >> 32) & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT);
	if (!c->vpid)
		c->proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;
	return NULL;
}

/**
 * hvx_vmx_usable - can VMs be created on this CPU?
 *
 * Return: true if hvx_vmx_module_init() found VMX with everything hvx needs.
 */
bool hvx_vmx_usable(void)
{
	return !vmx_unusable;
}

static void *alloc_vmx_region(int cpu)
{
	struct page *page = alloc_pages_node(cpu_to_node(cpu),
					     GFP_KERNEL_ACCOUNT | __GFP_ZERO, 0);
	u32 *region;

	if (!page)
		return NULL;
	region = page_address(page);
	region[0] = hvx_caps.revision;	/* SDM Vol. 3C 25.2 */
	return region;
}

/**
 * hvx_vmx_cpu_on - is this CPU in VMX operation for hvx?
 *
 * True from this CPU's VMXON (or its reference on the core's) to its
 * VMXOFF. A CPU outside VMX operation needs no INVEPT or INVVPID: it
 * cannot execute them (#UD, SDM Vol. 3C 31.3), and it flushes every
 * EPT and VPID translation when it enters again (vmx_cpu_on()).
 *
 * Context: preemption disabled (an IPI callback).
 * Return: true if this CPU is in VMX operation.
 */
bool hvx_vmx_cpu_on(void)
{
	return this_cpu_read(vmx_on);
}

/* Enter VMX operation on this CPU (SDM Vol. 3C 24.7). */
static int vmx_cpu_on(void)
{
	u64 pa = __pa(this_cpu_read(vmxon_region));

	if (this_cpu_read(vmx_on))
		return 0;
	if (vmx_shared) {
		/* The core's VMXON, or a reference on KVM's. */
		int ret = hvx_virt_get_ref();

		if (ret)
			return ret;
		this_cpu_write(vmx_on, true);
		hvx_ept_flush_cpu_all();
		return 0;
	}
	/* Another hypervisor (kvm_intel) is in VMX operation here. */
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;
	cr4_set_bits(X86_CR4_VMXE);
	hvx_intel_pt_handle_vmx(1);
	asm goto("1: vmxon %[pa]\n\t"
		 "jbe %l[fail]\n\t"
		 _ASM_EXTABLE(1b, %l[fail])
		 : : [pa] "m"(pa) : "cc", "memory" : fail);
	this_cpu_write(vmx_on, true);
	hvx_ept_flush_cpu_all();
	return 0;
fail:
	hvx_intel_pt_handle_vmx(0);
	cr4_clear_bits(X86_CR4_VMXE);
	return -EBUSY;
}

/*
 * VMCLEAR @v's VMCS on this CPU. Nothing to do unless it is still active
 * here: a CPU that went offline or left VMX operation has cleared it
 * already (v->cpu == -1), and the IPI asking for it may arrive after
 * that, even after VMXOFF, where VMCLEAR would #UD.
 */
static void vmclear_local(struct hvx_vmx_vcpu *v)
{
	u64 pa = __pa(v->vmcs);

	if (READ_ONCE(v->cpu) != smp_processor_id() || !this_cpu_read(vmx_on))
		return;
	if (this_cpu_read(current_vmcs) == v->vmcs)
		this_cpu_write(current_vmcs, NULL);
	asm volatile("vmclear %0" : : "m"(pa) : "cc", "memory");
	list_del(&v->loaded_node);
	v->launched = false;
	smp_wmb();	/* list and state before the owner sees cpu == -1 */
	WRITE_ONCE(v->cpu, -1);
}

/* Leave VMX operation on this CPU after clearing its active VMCSs. */
static void vmx_cpu_off(void)
{
	struct hvx_vmx_vcpu *v, *tmp;
	unsigned long flags;

	if (!this_cpu_read(vmx_on))
		return;
	local_irq_save(flags);
	list_for_each_entry_safe(v, tmp, this_cpu_ptr(&loaded_vmcss), loaded_node)
		vmclear_local(v);
	hvx_vmx_run_cpu_off();	/* user-return MSRs: host values, notifier off */
	local_irq_restore(flags);
	if (vmx_shared) {
		/* VMXOFF when KVM holds no reference here either. */
		hvx_virt_put_ref();
		this_cpu_write(vmx_on, false);
		return;
	}
	asm volatile("vmxoff" : : : "cc", "memory");
	cr4_clear_bits(X86_CR4_VMXE);
	hvx_intel_pt_handle_vmx(0);
	this_cpu_write(vmx_on, false);
}

/*
 * The kernel's emergency callback (crash, NMI shootdown, the stop IPI of
 * reboot and kexec): leave VMX operation on this CPU, because a CPU in it
 * blocks INIT, so the next kernel could not start it. VMCLEAR first, so
 * that a kdump vmcore has the guests' state in memory. Runs in NMI or
 * IRQs-off context and may interrupt hvx anywhere, even halfway through
 * vmx_cpu_on() or vmx_cpu_off(): it takes no lock, trusts the hardware
 * CR4.VMXE rather than vmx_on, and a VMCLEAR or VMXOFF that faults (the
 * CPU already left VMX operation) is skipped. With shared VMX the core
 * executes VMXOFF right after this callback returns.
 */
static void vmx_emergency_off(void)
{
	struct hvx_vmx_vcpu *v;
	u64 pa;

	if (!(__read_cr4() & X86_CR4_VMXE))
		return;
	if (this_cpu_read(vmx_on)) {
		list_for_each_entry(v, this_cpu_ptr(&loaded_vmcss), loaded_node) {
			pa = __pa(v->vmcs);
			asm goto("1: vmclear %[pa]\n\t"
				 _ASM_EXTABLE(1b, %l[next])
				 : : [pa] "m"(pa) : "cc", "memory" : next);
next:
			;
		}
	}
	if (vmx_shared)
		return;
	asm goto("1: vmxoff\n\t"
		 _ASM_EXTABLE(1b, %l[off])
		 : : : "cc", "memory" : off);
off:
	cr4_clear_bits(X86_CR4_VMXE);
	this_cpu_write(vmx_on, false);
}

/*
 * Hold the emergency callback slot exactly while hvx has VMs and kvm_intel
 * is not loaded. The slot takes one callback and the kernel WARNs on a
 * second registration, so hvx must never race kvm_intel for it: 6.1's
 * kvm_intel takes it at load (and its callback turns off any CPU's VMX,
 * hvx's included); 6.12's KVM takes it when it enables virtualization
 * (at load by default). Where the kernel has a slot for each VMX user
 * (HVX_EMERGENCY_OWN_SLOT), hvx holds its own while it has VMs, whatever
 * kvm_intel does. @vms: hvx has VMs (or is about to).
 * Context: process context, vmx_users_lock held.
 */
static void emergency_cb_update(bool vms)
{
	bool want = vms && (HVX_EMERGENCY_OWN_SLOT || !kvm_intel_loaded);

	if (want == emergency_cb_held)
		return;
	if (want)
		hvx_emergency_virt_register(vmx_emergency_off);
	else
		hvx_emergency_virt_unregister(vmx_emergency_off);
	emergency_cb_held = want;
}

/*
 * kvm_intel loading or unloading: give the slot up before its init runs
 * (MODULE_STATE_COMING), take it back once its exit has run
 * (MODULE_STATE_GOING, also sent when its init failed).
 */
static int vmx_module_event(struct notifier_block *nb, unsigned long state,
			    void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, "kvm_intel") ||
	    (state != MODULE_STATE_COMING && state != MODULE_STATE_GOING))
		return NOTIFY_DONE;
	mutex_lock(&vmx_users_lock);
	kvm_intel_loaded = state == MODULE_STATE_COMING;
	emergency_cb_update(vmx_users > 0);
	mutex_unlock(&vmx_users_lock);
	return NOTIFY_OK;
}

static struct notifier_block vmx_module_nb = {
	.notifier_call = vmx_module_event,
};

/*
 * Was kvm_intel loaded before hvx's notifier was registered? Its directory
 * in /sys/module (a kobject of the module kset, which hvx's own module
 * kobject belongs to) exists from just after its MODULE_STATE_COMING until
 * after its MODULE_STATE_GOING, and also for a built-in kvm_intel.
 */
static bool kvm_intel_in_sysfs(void)
{
	struct kset *modules = THIS_MODULE->mkobj.kobj.kset;
	struct kobject *kobj;

	if (!modules)
		return false;
	kobj = kset_find_obj(modules, "kvm_intel");
	kobject_put(kobj);
	return kobj;
}

static void vmx_on_ipi(void *failed)
{
	int ret = vmx_cpu_on();

	if (ret)
		atomic_set(failed, ret);
}

static void vmx_off_ipi(void *unused)
{
	vmx_cpu_off();
}

/**
 * hvx_vmx_get - take a reference on VMX root mode, entering it if needed
 *
 * Context: process context, may sleep.
 * Return: 0; -EOPNOTSUPP if VMX is not usable; -EBUSY if another
 * hypervisor holds VMX root mode on some CPU (nothing is left changed).
 */
int hvx_vmx_get(void)
{
	atomic_t failed = ATOMIC_INIT(0);
	int ret = 0;

	if (vmx_unusable)
		return -EOPNOTSUPP;
	ret = hvx_spec_check();
	if (ret)
		return ret;
	cpus_read_lock();
	mutex_lock(&vmx_users_lock);
	if (READ_ONCE(vmx_shutting_down)) {
		ret = -EBUSY;
	} else if (!vmx_users) {
		/* Callback first: a crash during VMXON is covered too. */
		emergency_cb_update(true);
		on_each_cpu(vmx_on_ipi, &failed, 1);
		ret = atomic_read(&failed);
		if (ret) {
			on_each_cpu(vmx_off_ipi, NULL, 1);
			emergency_cb_update(false);
			if (vmx_shared)
				pr_warn_ratelimited("cannot enter VMX root mode: VMX is on outside the kernel's reference count (another out-of-tree hypervisor?), or VMXON faulted (error %d)\n",
						    ret);
			else
				pr_warn_ratelimited("cannot enter VMX root mode: another hypervisor holds it (kvm_intel while it has a VM, or from load on 6.12+); end its VMs, rmmod kvm_intel, or boot with kvm.enable_virt_at_load=0\n");
		}
	}
	if (!ret && !vmx_users++)
		hvx_spec_report_l1tf();	/* kvm_intel's unload resets it */
	mutex_unlock(&vmx_users_lock);
	cpus_read_unlock();
	return ret;
}

/**
 * hvx_vmx_put - drop a reference on VMX root mode, leaving it on the last
 *
 * Context: process context, may sleep. All vCPUs of the caller's VM have
 * had their VMCS cleared.
 */
void hvx_vmx_put(void)
{
	cpus_read_lock();
	mutex_lock(&vmx_users_lock);
	if (!WARN_ON(vmx_users <= 0) && !--vmx_users) {
		on_each_cpu(vmx_off_ipi, NULL, 1);
		emergency_cb_update(false);
	}
	mutex_unlock(&vmx_users_lock);
	cpus_read_unlock();
}

static int vmx_cpu_online(unsigned int cpu)
{
	int ret = 0;

	/* vmx_users is stable: changes hold cpus_read_lock(). */
	if (READ_ONCE(vmx_users) && !READ_ONCE(vmx_shutting_down)) {
		preempt_disable();
		ret = vmx_cpu_on();
		preempt_enable();
	}
	return ret;
}

static int vmx_cpu_offline(unsigned int cpu)
{
	preempt_disable();
	vmx_cpu_off();
	preempt_enable();
	return 0;
}

static void vmclear_ipi(void *data)
{
	vmclear_local(data);
}

/*
 * Suspend: the other CPUs are offline already (vmx_cpu_offline() turned
 * VMX off there), this is the last one, with IRQs off and tasks frozen.
 * VMX operation does not survive S3 or hibernation, so leave it here and
 * enter it again on resume while VMs exist; the other CPUs do in
 * vmx_cpu_online() as they come back.
 */
static int vmx_syscore_suspend(void)
{
	if (!this_cpu_read(vmx_on))
		return 0;
	vmx_cpu_off();
	pr_debug("suspend: left VMX operation on CPU %d\n", smp_processor_id());
	return 0;
}

static void vmx_syscore_resume(void)
{
	if (!READ_ONCE(vmx_users))
		return;
	if (vmx_cpu_on())
		pr_err("cannot enter VMX root mode again after resume: the VMs' vCPUs fail to run on CPU %d\n",
		       smp_processor_id());
	else
		pr_debug("resume: in VMX operation again on CPU %d\n",
			 smp_processor_id());
}

/*
 * Reboot, power-off, kexec: runs on the CPU that reboots, after device
 * shutdown, while other CPUs may still run tasks. Leave VMX operation
 * here, clearing the VMCSs active on this CPU, and never enter it again.
 * The other CPUs are not touched now: a vCPU there may be between VMX
 * instructions. They leave VMX operation in vmx_emergency_off() when the
 * kernel stops them (machine_shutdown()'s stop IPI or NMI), from which
 * they never return.
 */
static void vmx_syscore_shutdown(void)
{
	WRITE_ONCE(vmx_shutting_down, true);
	preempt_disable();
	if (this_cpu_read(vmx_on)) {
		vmx_cpu_off();
		pr_info("shutdown: left VMX operation on CPU %d\n",
			smp_processor_id());
	}
	preempt_enable();
}

/*
 * The reboot IPI of vmx_reboot_notify(): leave VMX operation on this
 * CPU, whatever a vCPU thread interrupted here was doing between two VMX
 * instructions. Its next ones fault and are ignored (hvx_vmx_insn_fault()).
 */
static void vmx_reboot_off_ipi(void *unused)
{
	if (!this_cpu_read(vmx_on))
		return;
	vmx_emergency_off();
	this_cpu_write(current_vmcs, NULL);
}

/*
 * Reboot notifier: runs in process context at the start of reboot,
 * power-off, halt and kexec (kernel_restart_prepare(), before
 * migrate_to_reboot_cpu() and any syscore shutdown). From here on no CPU
 * enters VMX operation again, every VMX instruction's fault is ignored,
 * and with hvx's own VMXON every CPU leaves VMX operation now, by IPI,
 * as KVM's kvm_reboot() did. This is what makes kexec with VMs alive work
 * where kernel_kexec() runs no syscore shutdown (before 6.8): the CPU that
 * jumps into the next kernel would otherwise still be in VMX operation
 * when relocate_kernel clears CR4.VMXE (#GP without an IDT: a triple
 * fault). With shared VMX the core turns VMX off itself; hvx only stops
 * using it.
 */
static int vmx_reboot_notify(struct notifier_block *nb, unsigned long code,
			     void *unused)
{
	cpus_read_lock();
	mutex_lock(&vmx_users_lock);
	WRITE_ONCE(vmx_shutting_down, true);
	WRITE_ONCE(hvx_vmx_rebooting, true);
	if (vmx_users && !vmx_shared) {
		on_each_cpu(vmx_reboot_off_ipi, NULL, 1);
		pr_info("reboot: left VMX operation on every CPU\n");
	}
	mutex_unlock(&vmx_users_lock);
	cpus_read_unlock();
	return NOTIFY_DONE;
}

static struct notifier_block vmx_reboot_nb = {
	.notifier_call = vmx_reboot_notify,
};

static struct hvx_syscore vmx_syscore = {
	.suspend = vmx_syscore_suspend,
	.resume = vmx_syscore_resume,
	.shutdown = vmx_syscore_shutdown,
};

/* Host-state fields that differ between CPUs (SDM Vol. 3C 25.5). */
static void load_host_cpu_state(void)
{
	struct desc_ptr gdt;
	struct ldttss_desc *tss;
	unsigned long base;
	u64 msr;

	native_store_gdt(&gdt);
	vmcs_write(HOST_GDTR_BASE, gdt.address);
	tss = (struct ldttss_desc *)(gdt.address + GDT_ENTRY_TSS * 8);
	base = tss->base0 | ((unsigned long)tss->base1 << 16) |
	       ((unsigned long)tss->base2 << 24) |
	       ((unsigned long)tss->base3 << 32);
	vmcs_write(HOST_TR_BASE, base);
	rdmsrq(MSR_GS_BASE, msr);
	vmcs_write(HOST_GS_BASE, msr);
	rdmsrq(MSR_IA32_SYSENTER_ESP, msr);
	vmcs_write(HOST_IA32_SYSENTER_ESP, msr);
}

/**
 * hvx_vmx_cpu_acquire - borrow this CPU's current-VMCS pointer for hvx
 *
 * With shared VMX (the core kernel's VMXON, kmod/compat.h HVX_VMX_SHARED),
 * KVM runs VMs on the same CPUs, and KVM remembers per CPU which of its
 * VMCSs it made current last: it executes VMPTRLD again only when it
 * wants another one (its vCPU load after a context switch or an ioctl).
 * hvx must therefore leave every CPU with the current VMCS it found. This
 * notes that VMCS (VMPTRST, SDM Vol. 3C 31.3) before hvx makes its own
 * current; hvx_vmx_cpu_release() makes it current again. Interrupts stay
 * off from the outermost acquire to its release: KVM VMCLEARs one of its
 * VMCSs on this CPU by IPI when its vCPU moves to another CPU or is freed,
 * and a VMCS cleared meanwhile must not be made current here again (SDM
 * Vol. 3C 25.11.1: active on one CPU at a time). When hvx's own VMCS was
 * left current (the CPU had none), hvx's cached pointer stays valid and
 * the next load needs no VMPTRLD.
 *
 * Calls nest. Without shared VMX (hvx's own VMXON, no other VMX user while
 * hvx holds VMX) it does nothing. hvx_vmx_load() calls it; a vCPU load
 * that keeps the VMCS across preemption must not.
 * Context: preemption disabled; interrupts on for the outermost call.
 */
void hvx_vmx_cpu_acquire(void)
{
	void *cur;
	u64 pa;

	if (!vmx_shared || this_cpu_inc_return(cpu_held) > 1)
		return;
	local_irq_disable();
	pa = HVX_NO_VMCS;	/* what a fault while rebooting leaves */
	asm volatile("1: vmptrst %[pa]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [pa] "+m"(pa) : : "cc", "memory");
	cur = this_cpu_read(current_vmcs);
	if (cur && pa == __pa(cur)) {
		pa = HVX_NO_VMCS;	/* hvx's own, still current */
	} else if (cur) {
		/* Another VMX user made its VMCS current since. */
		this_cpu_write(current_vmcs, NULL);
	}
	this_cpu_write(found_vmcs, pa);
}

/**
 * hvx_vmx_cpu_release - give this CPU's current-VMCS pointer back
 *
 * Undoes the matching hvx_vmx_cpu_acquire(): at the outermost one, makes
 * the VMCS found there current again (VMPTRLD), or leaves hvx's current if
 * the CPU had none, then turns interrupts back on. Without shared VMX it
 * does nothing.
 * Context: preemption disabled, interrupts off (shared VMX).
 */
void hvx_vmx_cpu_release(void)
{
	u64 pa;

	if (!vmx_shared || WARN_ON_ONCE(this_cpu_read(cpu_held) <= 0) ||
	    this_cpu_dec_return(cpu_held))
		return;
	pa = this_cpu_read(found_vmcs);
	if (pa != HVX_NO_VMCS) {
		this_cpu_write(current_vmcs, NULL);
		/* Faults only if an emergency VMXOFF came in between. */
		asm goto("1: vmptrld %[pa]\n\t"
			 _ASM_EXTABLE(1b, %l[out])
			 : : [pa] "m"(pa) : "cc", "memory" : out);
	}
out:
	local_irq_enable();
}

/**
 * hvx_vmx_load - make the vCPU's VMCS current and active on this CPU
 * @v: the vCPU.
 *
 * A VMCS active on another CPU is cleared there first (VMCLEAR by IPI),
 * as the SDM requires before it may be made current elsewhere (Vol. 3C
 * 25.11.1). Moving to a new CPU also flushes the VM's EPT-tagged mappings
 * there, which may be stale from an earlier stay. A CPU that last ran
 * another vCPU's guest gets an IBPB first (spec.c). Calls
 * hvx_vmx_cpu_acquire(): the caller ends its use of the VMCS with
 * hvx_vmx_unload().
 *
 * Context: preemption disabled, interrupts enabled.
 */
void hvx_vmx_load(struct hvx_vmx_vcpu *v)
{
	int cpu = smp_processor_id();
	int old = READ_ONCE(v->cpu);
	unsigned long flags;
	u64 pa = __pa(v->vmcs);

	hvx_spec_vcpu_load(v);	/* IBPB if this CPU ran another vCPU */
	if (old >= 0 && old != cpu) {
		smp_call_function_single(old, vmclear_ipi, v, 1);
		/* Its caches may hold the guest's writes (WBINVD exit). */
		cpumask_set_cpu(old, v->wbinvd_dirty);
		/* Pairs with the smp_wmb() in vmclear_local(): see its list_del. */
		smp_rmb();
	}
	hvx_vmx_cpu_acquire();
	if (READ_ONCE(v->cpu) == cpu) {
		if (this_cpu_read(current_vmcs) != v->vmcs) {
			vmcs_make_current(pa);
			this_cpu_write(current_vmcs, v->vmcs);
		}
		return;
	}

	local_irq_save(flags);
	list_add(&v->loaded_node, this_cpu_ptr(&loaded_vmcss));
	v->cpu = cpu;
	local_irq_restore(flags);

	vmcs_make_current(pa);
	this_cpu_write(current_vmcs, v->vmcs);
	load_host_cpu_state();
	hvx_ept_flush_local(v->mem);
	v->stats.s.flushes++;
}

/**
 * hvx_vmx_peek - VMREAD a field of the vCPU's VMCS only if it is current here
 * @v: the vCPU.
 * @field: field encoding.
 * @val: the value, when read.
 *
 * For the preempt notifier's sched_out, which runs with interrupts off
 * and cannot load a VMCS (hvx_vmx_load() may have to clear it on another
 * CPU by IPI): after an exit the VMCS stays current on its CPU until
 * another one is loaded there, so the field of the vCPU's last exit is
 * one VMREAD away when the thread is scheduled out on that CPU before it
 * loaded another. Where hvx shares VMX with KVM, KVM may have made its
 * own current since: VMPTRST says.
 * Context: interrupts off; the vCPU's own thread.
 * Return: true if *@val was read; false if the VMCS is not current on
 * this CPU (the thread moved, or another VMCS was loaded here).
 */
bool hvx_vmx_peek(struct hvx_vmx_vcpu *v, unsigned long field, u64 *val)
{
	u64 pa = HVX_NO_VMCS;

	lockdep_assert_irqs_disabled();
	if (READ_ONCE(v->cpu) != smp_processor_id() ||
	    this_cpu_read(current_vmcs) != v->vmcs)
		return false;
	if (vmx_shared) {
		asm volatile("1: vmptrst %[pa]\n\t"
			     "2:\n\t"
			     _ASM_EXTABLE(1b, 2b)
			     : [pa] "+m"(pa) : : "cc", "memory");
		if (pa != __pa(v->vmcs))
			return false;
	}
	*val = vmcs_read(field);
	return true;
}

/**
 * hvx_vmx_clear - clear the vCPU's VMCS wherever it is active
 * @v: the vCPU.
 *
 * Context: process context; VMX root mode is still held.
 */
void hvx_vmx_clear(struct hvx_vmx_vcpu *v)
{
	int cpu = READ_ONCE(v->cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, vmclear_ipi, v, 1);
}

/* Let the guest read and write @msr without a VM exit. */
static void msr_passthrough(u8 *bitmap, u32 msr)
{
	/*
	 * Read bitmap for MSRs 0..1fffH at byte 0, for C0000000H..C0001fffH
	 * at 1024; the write bitmaps follow at 2048 and 3072 (SDM Vol. 3C
	 * 25.6.9). A set bit makes the access exit.
	 */
	u32 base = msr >= 0xc0000000 ? 1024 : 0, bit = msr & 0x1fff;

	__clear_bit(bit, (unsigned long *)(bitmap + base));
	__clear_bit(bit, (unsigned long *)(bitmap + base + 2048));
}

/* Let the guest read @msr without a VM exit; writes still exit. */
static void msr_read_passthrough(u8 *bitmap, u32 msr)
{
	u32 base = msr >= 0xc0000000 ? 1024 : 0, bit = msr & 0x1fff;

	__clear_bit(bit, (unsigned long *)(bitmap + base));
}

/*
 * MSRs that live in the VMCS guest-state area are loaded and saved by the
 * CPU on entry and exit, so the guest may access them directly; the CPU
 * checks the values as it would natively. Everything else exits.
 */
static void init_msr_bitmap(u8 *bitmap)
{
	memset(bitmap, 0xff, PAGE_SIZE);
	msr_passthrough(bitmap, MSR_FS_BASE);
	msr_passthrough(bitmap, MSR_GS_BASE);
	msr_passthrough(bitmap, MSR_IA32_SYSENTER_CS);
	msr_passthrough(bitmap, MSR_IA32_SYSENTER_ESP);
	msr_passthrough(bitmap, MSR_IA32_SYSENTER_EIP);
	hvx_vmx_msr_bitmap_cmds(bitmap);
}

/**
 * hvx_vmx_module_init - probe VMX and prepare per-CPU VMXON regions
 *
 * Context: module load. On a CPU without usable VMX the module still
 * loads; VM creation then fails with -EOPNOTSUPP and the reason is logged
 * once here.
 *
 * Return: 0 or -ENOMEM.
 */
int hvx_vmx_module_init(void)
{
	int cpu, ret;

	for_each_possible_cpu(cpu)
		INIT_LIST_HEAD(per_cpu_ptr(&loaded_vmcss, cpu));

	ret = hvx_spec_init();	/* entry/exit barriers, before any VM */
	if (ret)
		return ret;
	vmx_unusable = probe_caps();
	if (vmx_unusable) {
		pr_info("VMX not usable: %s; VM creation will fail with EOPNOTSUPP\n",
			vmx_unusable);
		return 0;
	}
	if (hvx_caps.proc & CPU_BASED_USE_MSR_BITMAPS) {
		hvx_msr_bitmap = (void *)__get_free_page(GFP_KERNEL);
		if (!hvx_msr_bitmap)
			return -ENOMEM;
		init_msr_bitmap(hvx_msr_bitmap);
		hvx_msr_bitmap_long = (void *)__get_free_page(GFP_KERNEL);
		if (!hvx_msr_bitmap_long) {
			free_page((unsigned long)hvx_msr_bitmap);
			hvx_msr_bitmap = NULL;
			return -ENOMEM;
		}
		memcpy(hvx_msr_bitmap_long, hvx_msr_bitmap, PAGE_SIZE);
		/*
		 * Once the CPU holds a vCPU's KERNEL_GS_BASE, STAR, LSTAR and
		 * SFMASK while it runs (hvx_vmx_vcpu.syscall_msrs, run.c), the
		 * guest may read them directly, and write KERNEL_GS_BASE (SWAPGS
		 * changes it anyway), which run.c reads back when the run
		 * ends. Writes of the others exit, so that the user-return
		 * MSR code always knows what the CPU holds. CSTAR (SYSCALL
		 * from compatibility mode) is unused by Intel CPUs: kept in
		 * software.
		 */
		msr_passthrough(hvx_msr_bitmap_long, MSR_KERNEL_GS_BASE);
		msr_read_passthrough(hvx_msr_bitmap_long, MSR_STAR);
		msr_read_passthrough(hvx_msr_bitmap_long, MSR_LSTAR);
		msr_read_passthrough(hvx_msr_bitmap_long, MSR_SYSCALL_MASK);
	}
	for_each_possible_cpu(cpu) {
		void *region = alloc_vmx_region(cpu);

		if (!region) {
			hvx_vmx_module_exit();
			return -ENOMEM;
		}
		per_cpu(vmxon_region, cpu) = region;
	}
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "hvx:online",
					vmx_cpu_online, vmx_cpu_offline);
	if (ret < 0) {
		hvx_vmx_module_exit();
		return ret;
	}
	vmx_hp_state = ret;
	hvx_register_syscore(&vmx_syscore);
	register_reboot_notifier(&vmx_reboot_nb);
	ret = register_module_notifier(&vmx_module_nb);
	if (ret) {
		hvx_vmx_module_exit();
		return ret;
	}
	mutex_lock(&vmx_users_lock);
	kvm_intel_loaded |= kvm_intel_in_sysfs();
	mutex_unlock(&vmx_users_lock);
	hvx_vpid_init(hvx_caps.vpid);
	hvx_ept_caps_init(hvx_caps.ept_vpid);
	hvx_vmx_apicv_init();
	pr_info("VMX usable: EPT, unrestricted guest%s\n",
		hvx_caps.vpid ? ", VPID" : " (no VPID)");
	hvx_spec_report_l1tf();
	return 0;
}

/**
 * hvx_vmx_module_exit - free per-CPU state; no VM may exist.
 */
void hvx_vmx_module_exit(void)
{
	int cpu;

	if (vmx_hp_state >= 0) {
		unregister_module_notifier(&vmx_module_nb);
		unregister_reboot_notifier(&vmx_reboot_nb);
		hvx_unregister_syscore(&vmx_syscore);
		cpuhp_remove_state_nocalls(vmx_hp_state);
	}
	vmx_hp_state = -1;
	for_each_possible_cpu(cpu) {
		void *region = per_cpu(vmxon_region, cpu);

		if (region)
			free_page((unsigned long)region);
		per_cpu(vmxon_region, cpu) = NULL;
	}
	free_page((unsigned long)hvx_msr_bitmap);
	free_page((unsigned long)hvx_msr_bitmap_long);
	hvx_msr_bitmap = NULL;
	hvx_msr_bitmap_long = NULL;
	hvx_spec_exit();
}

/**
 * hvx_vmx_alloc_vmcs - allocate a VMCS region on the local node
 *
 * Return: the region with its revision identifier written, or NULL.
 */
void *hvx_vmx_alloc_vmcs(void)
{
	return alloc_vmx_region(raw_smp_processor_id());
}
