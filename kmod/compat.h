/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the one place where hvx adapts to kernel API changes between
 * the versions it supports (6.1 to 7.x). Code elsewhere uses the hvx_*
 * names below, or the newest kernel's names where this header supplies
 * them for older kernels, and contains no version checks.
 */
#ifndef HVX_COMPAT_H
#define HVX_COMPAT_H

#include <linux/version.h>

/*
 * HVX_NMI_ENTRY - the kernel's IDT NMI entry for an NMI that caused a VM
 * exit, as exported to modules: asm_exc_nmi_noist until 6.2,
 * asm_exc_nmi_kvm_vmx from 6.3; from 6.19 it is exported to KVM only
 * (HVX_NMI_ENTRY undefined: VM creation is refused, vmx/spec.c). This part
 * is read by vmx/vmenter.S too (through vmx/vmenter.h), so it comes before
 * the C-only rest of this header.
 */
#if KERNEL_VERSION(6, 19, 0) <= LINUX_VERSION_CODE
#undef HVX_NMI_ENTRY
#elif KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
#define HVX_NMI_ENTRY	asm_exc_nmi_kvm_vmx
#else
#define HVX_NMI_ENTRY	asm_exc_nmi_noist
#endif

#ifndef __ASSEMBLY__

#include <linux/eventfd.h>
#include <linux/hrtimer.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <asm/cpu.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/processor.h>
/* HVX_HAVE_*: Kbuild's compile tests against this tree (kmod/features/). */
#include "hvx_features.h"
#ifdef HVX_HAVE_X86_ENTRY_FROM_KVM
/* x86_entry_from_kvm(): vmx/vmx.h, hvx_vmx_forward_nmi(). */
#include <asm/entry-common.h>
#endif
#ifdef HVX_HAVE_ASM_CPUID_API
/* 6.15 moved cpuid_count(), cpuid_eax() and friends out of processor.h. */
#include <asm/cpuid/api.h>
#endif

/*
 * rdmsrq(), wrmsrq(), rdmsrq_safe(): 6.16 renamed the 64-bit MSR helpers
 * from their "l" names. hvx uses the new names; older kernels get them
 * here. Kbuild tests for them (kmod/features/msr_q.c): they are macros or
 * inline functions depending on the version and on paravirt.
 */
#ifndef HVX_HAVE_MSR_Q
#define rdmsrq(msr, val)	rdmsrl(msr, val)
#define wrmsrq(msr, val)	wrmsrl(msr, val)
#define rdmsrq_safe(msr, p)	rdmsrl_safe(msr, p)
#endif

/**
 * hvx_hrtimer_setup - initialise an hrtimer and set its callback
 * @timer: the timer.
 * @fn: the callback, run in hard or soft interrupt context per @mode.
 * @clock: CLOCK_MONOTONIC, CLOCK_REALTIME, ...
 * @mode: HRTIMER_MODE_*.
 *
 * 6.13 added hrtimer_setup(); 6.15 removed hrtimer_init(), after which a
 * timer's function may not be assigned directly.
 * Context: any; does not sleep.
 */
static inline void hvx_hrtimer_setup(struct hrtimer *timer,
				     enum hrtimer_restart (*fn)(struct hrtimer *),
				     clockid_t clock, enum hrtimer_mode mode)
{
#if KERNEL_VERSION(6, 13, 0) <= LINUX_VERSION_CODE
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/**
 * hvx_genl_dump_attrs - the parsed, policy-checked attributes of the
 * request that started a generic netlink dump
 * @cb: the dump's netlink callback (in .start or .dumpit).
 *
 * 6.6 moved them from struct genl_dumpit_info into an embedded struct
 * genl_info (genl_info_dump()).
 * Return: attribute table indexed by type, NULL entries for absent ones.
 */
static inline struct nlattr **hvx_genl_dump_attrs(struct netlink_callback *cb)
{
#if KERNEL_VERSION(6, 6, 0) <= LINUX_VERSION_CODE
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/*
 * HVX_GENL_MCGRP_ADMIN - flags of a multicast group only CAP_SYS_ADMIN may
 * join. GENL_MCAST_CAP_SYS_ADMIN arrived in 6.7 and was backported to the
 * 6.1 stable series (Debian's 6.1 and 6.12 both have it); an older 6.1
 * only offers GENL_UNS_ADMIN_PERM, which asks for CAP_NET_ADMIN.
 */
#ifdef GENL_MCAST_CAP_SYS_ADMIN
#define HVX_GENL_MCGRP_ADMIN	GENL_MCAST_CAP_SYS_ADMIN
#else
#define HVX_GENL_MCGRP_ADMIN	GENL_UNS_ADMIN_PERM
#endif

/**
 * hvx_eventfd_signal - add 1 to an eventfd's counter and wake its readers
 * @ctx: the eventfd context.
 *
 * 6.8 dropped the count argument of eventfd_signal().
 */
static inline void hvx_eventfd_signal(struct eventfd_ctx *ctx)
{
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/**
 * hvx_iommu_domain_alloc - allocate an unmanaged (paging) IOMMU domain
 * that @dev can be attached to
 * @dev: a device behind the IOMMU that will use the domain.
 *
 * 6.11 added iommu_paging_domain_alloc(dev) (ERR_PTR on failure); before
 * it, iommu_domain_alloc(bus) returns NULL on failure.
 * Context: process context, may sleep.
 * Return: the domain or an ERR_PTR (-ENOMEM, -ENODEV, ...).
 */
static inline struct iommu_domain *hvx_iommu_domain_alloc(struct device *dev)
{
#if KERNEL_VERSION(6, 11, 0) <= LINUX_VERSION_CODE
	return iommu_paging_domain_alloc(dev);
#else
	struct iommu_domain *d = iommu_domain_alloc(dev->bus);

	return d ? d : ERR_PTR(-ENOMEM);
#endif
}

/**
 * hvx_iommu_map - map a physically contiguous range into an IOMMU domain
 * @domain: the domain.
 * @iova: I/O virtual address, page-aligned.
 * @paddr: host physical address, page-aligned.
 * @size: bytes, a multiple of the page size.
 * @prot: IOMMU_READ, IOMMU_WRITE, IOMMU_CACHE.
 *
 * 6.3 added the gfp argument of iommu_map(); page tables are charged to
 * the VM's owner.
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
static inline int hvx_iommu_map(struct iommu_domain *domain, unsigned long iova,
				phys_addr_t paddr, size_t size, int prot)
{
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

/**
 * hvx_vm_flags_set - set flags of a VMA being mmap()ed
 * @vma: the VMA (in an mmap file operation, mmap lock held for writing).
 * @flags: VM_* flags to set.
 *
 * 6.3 made vm_flags read-only outside vm_flags_set().
 */
static inline void hvx_vm_flags_set(struct vm_area_struct *vma,
				    unsigned long flags)
{
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * driver_override moved from the buses (pci_dev::driver_override) into
 * struct device, with its own lock, upstream in 2026; stable series got
 * it too (Debian's 6.12.107 has it, 6.1 does not), so Kbuild tests for it
 * (kmod/features/dev_driver_override.c) instead of checking a version.
 */

/**
 * hvx_pci_override_dup - a copy of a PCI device's driver_override
 * @pdev: the device.
 *
 * Context: process context.
 * Return: a kmalloc'ed copy (kfree() it), or NULL if none is set or
 * memory is short.
 */
static inline char *hvx_pci_override_dup(struct pci_dev *pdev)
{
	char *s;

#ifdef HVX_HAVE_DEV_DRIVER_OVERRIDE
	spin_lock(&pdev->dev.driver_override.lock);
	s = kstrdup(pdev->dev.driver_override.name, GFP_ATOMIC);
	spin_unlock(&pdev->dev.driver_override.lock);
#else
	device_lock(&pdev->dev);
	s = kstrdup(pdev->driver_override, GFP_KERNEL);
	device_unlock(&pdev->dev);
#endif
	return s;
}

/**
 * hvx_pci_override_set - set (or with "" clear) a PCI device's
 * driver_override, as a write to its sysfs file does
 * @pdev: the device.
 * @s: driver name, or "" to clear.
 *
 * Context: process context; takes the device lock (do not hold it).
 * Return: 0 or -ENOMEM/-EINVAL.
 */
static inline int hvx_pci_override_set(struct pci_dev *pdev, const char *s)
{
#ifdef HVX_HAVE_DEV_DRIVER_OVERRIDE
	return device_set_driver_override(&pdev->dev, s);
#else
	return driver_set_override(&pdev->dev, &pdev->driver_override, s,
				   strlen(s));
#endif
}

/**
 * hvx_pin_user_pages - pin_user_pages() of the caller's mm
 * @start: first user address, page aligned.
 * @nr_pages: pages to pin.
 * @gup_flags: FOLL_* flags (FOLL_PIN is added).
 * @pages: where the pinned pages go.
 *
 * 6.5 dropped the vmas argument.
 * Context: process context, holding current->mm's mmap_lock for reading.
 * Return: pages pinned, or a negative errno.
 */
static inline long hvx_pin_user_pages(unsigned long start,
				      unsigned long nr_pages,
				      unsigned int gup_flags,
				      struct page **pages)
{
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
	return pin_user_pages(start, nr_pages, gup_flags, pages);
#else
	return pin_user_pages(start, nr_pages, gup_flags, pages, NULL);
#endif
}

/**
 * hvx_pin_user_pages_present - pin what the caller's mm maps already
 * @start: first user address, page aligned.
 * @nr_pages: pages to try.
 * @gup_flags: FOLL_* flags (FOLL_PIN is added).
 * @pages: where the pinned pages go.
 *
 * Pins the pages from @start up to the first one whose page table entry
 * is missing or does not allow the access @gup_flags ask for; never
 * faults a page in. pin_user_pages_fast_only() where the kernel has it
 * (HVX_HAVE_PIN_USER_PAGES_FAST_ONLY): a lockless walk only. Later
 * kernels dropped it; there pin_user_pages_fast() with FOLL_NOFAULT,
 * whose slow path (mmap_lock) stops at the first page it would have to
 * fault in.
 * Context: process context, not holding current->mm's mmap_lock.
 * Return: pages pinned, 0 to @nr_pages.
 */
static inline int hvx_pin_user_pages_present(unsigned long start,
					     int nr_pages,
					     unsigned int gup_flags,
					     struct page **pages)
{
#ifdef HVX_HAVE_PIN_USER_PAGES_FAST_ONLY
	return pin_user_pages_fast_only(start, nr_pages, gup_flags, pages);
#else
	int ret = pin_user_pages_fast(start, nr_pages,
				      gup_flags | FOLL_NOFAULT, pages);

	return max(ret, 0);
#endif
}

/* Interrupt isolation of an IOMMU group (hvx_iommu_group_msi_isolated()). */
#include <linux/irqdomain.h>

#if KERNEL_VERSION(6, 3, 0) > LINUX_VERSION_CODE
/* iommu_group_for_each_dev() callback: non-zero stops at such a device. */
static inline int hvx_dev_no_intr_remap(struct device *dev, void *data)
{
	return !device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP);
}
#endif

/**
 * hvx_iommu_group_msi_isolated - can no device of an IOMMU group raise an
 *	interrupt the host did not set up for it?
 * @group: the group.
 *
 * A device's DMA write to the x86 MSI window (0xFEEx_xxxx) is an
 * interrupt request: only interrupt remapping (VT-d Spec 5.1; AMD-Vi) or
 * an MSI controller that checks the requester keeps it from raising any
 * vector, NMI or INIT on any CPU. 6.3 added iommu_group_has_isolated_msi(),
 * which covers both. 6.1 has irq_domain_check_msi_remap() (an
 * MSI-remapping irqdomain, as on Arm) and the per-device
 * IOMMU_CAP_INTR_REMAP (VT-d and AMD-Vi interrupt remapping enabled),
 * which every device of the group must have.
 * Context: process context; takes the group's mutex.
 * Return: true if MSIs of the group's devices are isolated.
 */
static inline bool hvx_iommu_group_msi_isolated(struct iommu_group *group)
{
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
	return iommu_group_has_isolated_msi(group);
#else
	return irq_domain_check_msi_remap() ||
	       !iommu_group_for_each_dev(group, NULL, hvx_dev_no_intr_remap);
#endif
}

/*
 * HVX_KVM_ONLY_EXPORTS - 6.19 restricted the exports the kernel keeps for
 * KVM (hw_breakpoint_restore, handle_guest_split_lock, ...) to KVM's own
 * modules ("x86: Restrict KVM-induced symbol exports to KVM modules"),
 * and l1tf_mitigation with them (vmx/spec.c).
 */
#if KERNEL_VERSION(6, 19, 0) <= LINUX_VERSION_CODE
#define HVX_KVM_ONLY_EXPORTS	1
#endif

/*
 * HVX_GUEST_FPSTATE - the kernel's guest FPU API (fpu_alloc_guest_fpstate(),
 * fpu_swap_kvm_fpstate(), switch_fpu_return(); 5.16+) is exported to
 * modules: the guest's FPU is then the task's FPU for a whole HVX_RUN, as
 * in KVM. From 6.19 those are KVM-only exports (kmod/patches/ 0007 adds
 * hvx; Kbuild reads Module.symvers into HVX_GUEST_FPU_EXPORTS), and
 * without them vmx/run.c falls back to loading the guest's FPU around
 * each entry inside kernel_fpu_begin().
 *
 * HVX_HAVE_PREEMPT_NOTIFIERS, HVX_HAVE_USER_RETURN_NOTIFIER (compile
 * tests): kernels built without KVM may lack CONFIG_PREEMPT_NOTIFIERS or
 * CONFIG_USER_RETURN_NOTIFIER; vmx/run.c then switches per entry, or
 * restores the MSRs when the run ends.
 */
/*
 * load_gs_index() moved to <asm/gsseg.h> in 6.3 (feature test
 * asm_gsseg.c); a distribution config (PARAVIRT_XXL) gets it through
 * <asm/paravirt.h> anyway, a minimal one only from there.
 */
#ifdef HVX_HAVE_ASM_GSSEG
#include <asm/gsseg.h>
#endif

/*
 * hvx_ktime_get_snapshot - the clocksource counter and system times read
 * together; ktime_get_snapshot() became ktime_get_snapshot_id() (feature
 * test ktime_get_snapshot_id.c), which also names the clock.
 */
#include <linux/timekeeping.h>
static inline void hvx_ktime_get_snapshot(struct system_time_snapshot *snap)
{
#ifdef HVX_HAVE_KTIME_GET_SNAPSHOT_ID
	ktime_get_snapshot_id(CLOCK_MONOTONIC, snap);
#else
	ktime_get_snapshot(snap);
#endif
}

#include <asm/fpu/api.h>

#ifndef HVX_GUEST_FPU_EXPORTS	/* Kbuild had no Module.symvers to read */
#ifdef HVX_KVM_ONLY_EXPORTS
#define HVX_GUEST_FPU_EXPORTS	0
#else
#define HVX_GUEST_FPU_EXPORTS	1
#endif
#endif

#if HVX_GUEST_FPU_EXPORTS
#define HVX_GUEST_FPSTATE	1

/**
 * hvx_fpstate_alloc - allocate a guest FPU state in the kernel's format
 * @gfpu: zeroed; gfpu->fpstate is set on success.
 *
 * Context: process context, may sleep (GFP_KERNEL_ACCOUNT).
 * Return: true on success.
 */
static inline bool hvx_fpstate_alloc(struct fpu_guest *gfpu)
{
	return fpu_alloc_guest_fpstate(gfpu);
}

static inline void hvx_fpstate_free(struct fpu_guest *gfpu)
{
	fpu_free_guest_fpstate(gfpu);
}

/**
 * hvx_fpstate_swap - make the guest's FPU state the thread's, or back
 * @gfpu: the guest's state.
 * @enter: true at the start of a run, false at its end.
 *
 * One XSAVE of the outgoing and one XRSTOR of the incoming state.
 * Context: process context, preemptible.
 */
static inline void hvx_fpstate_swap(struct fpu_guest *gfpu, bool enter)
{
	fpu_swap_kvm_fpstate(gfpu, enter);
}

/**
 * hvx_fpstate_to_uabi - the guest's FPU state in the standard XSAVE format
 * @gfpu: the guest's state (not loaded: outside a run).
 * @buf: output, @size bytes.
 * @size: bytes of @buf (4096, struct hvx_xsave).
 * @xfeatures: the components to copy, where the kernel can narrow them
 *	(HVX_HAVE_FPU_UABI_XFEATURES); the caller masks XSTATE_BV anyway.
 *
 * PKRU is not offered to guests: 0 is reported where the kernel copies it.
 * Context: process context.
 */
static inline void hvx_fpstate_to_uabi(struct fpu_guest *gfpu, void *buf,
				       unsigned int size, u64 xfeatures)
{
#ifdef HVX_HAVE_FPU_UABI_XFEATURES
	fpu_copy_guest_fpstate_to_uabi(gfpu, buf, size, xfeatures, 0);
#else
	fpu_copy_guest_fpstate_to_uabi(gfpu, buf, size, 0);
#endif
}

/**
 * hvx_fpstate_from_uabi - load the guest's FPU state from the XSAVE format
 * @gfpu: the guest's state (not loaded: outside a run).
 * @buf: the standard-format area (struct hvx_xsave).
 * @xcr0: XSTATE_BV bits allowed.
 *
 * Context: process context.
 * Return: 0, or -EINVAL (a bad header or MXCSR) with nothing changed.
 */
static inline int hvx_fpstate_from_uabi(struct fpu_guest *gfpu,
					const void *buf, u64 xcr0)
{
	u32 pkru = 0;

	return fpu_copy_uabi_to_guest_fpstate(gfpu, buf, xcr0, &pkru);
}

/**
 * hvx_fpu_reload - put the thread's FPU state back into the registers
 *
 * Needed when the thread was scheduled out or the kernel used the FPU
 * (kernel_fpu_begin() saved the registers and set TIF_NEED_FPU_LOAD).
 * Context: preemption or interrupts disabled.
 */
static inline void hvx_fpu_reload(void)
{
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
}
#else
#define HVX_GUEST_FPSTATE	0

static inline bool hvx_fpstate_alloc(struct fpu_guest *gfpu)
{
	return true;
}

static inline void hvx_fpstate_free(struct fpu_guest *gfpu) { }
static inline void hvx_fpstate_swap(struct fpu_guest *gfpu, bool enter) { }
static inline void hvx_fpstate_to_uabi(struct fpu_guest *gfpu, void *buf,
				       unsigned int size, u64 xfeatures) { }
static inline int hvx_fpstate_from_uabi(struct fpu_guest *gfpu,
					const void *buf, u64 xcr0)
{
	return -EOPNOTSUPP;
}

static inline void hvx_fpu_reload(void) { }
#endif

/**
 * hvx_host_dr_save - keep what hvx_host_dr_restore() needs to give this
 * CPU's DR0-3 back to the host after a guest's were loaded
 * @dr: 4 values, written only where the kernel cannot restore them itself.
 *
 * Up to 6.18 hw_breakpoint_restore() reloads DR0-3 from the kernel's own
 * per-CPU copy; later kernels keep that to KVM, so the live values are
 * read here (four MOVs from DR0-3, only when the host has breakpoints
 * armed and the guest is about to replace them).
 * Context: interrupts off.
 */
static __always_inline void hvx_host_dr_save(unsigned long *dr)
{
#ifdef HVX_KVM_ONLY_EXPORTS
	dr[0] = native_get_debugreg(0);
	dr[1] = native_get_debugreg(1);
	dr[2] = native_get_debugreg(2);
	dr[3] = native_get_debugreg(3);
#endif
}

/**
 * hvx_host_dr_restore - give the host its hardware breakpoints back
 * @dr: what hvx_host_dr_save() kept, or NULL if DR0-3 were not replaced.
 *
 * A VM exit leaves DR7 = 400H (SDM Vol. 3C 28.3.3); call this when
 * hw_breakpoint_active() says the host had breakpoints armed. Reloads DR0-3
 * (where they were replaced), a clean DR6 and the host's DR7 (cpu_dr7, a
 * plain export on every kernel).
 * Context: interrupts off, right after the VM exit.
 */
static __always_inline void hvx_host_dr_restore(const unsigned long *dr)
{
#ifdef HVX_KVM_ONLY_EXPORTS
	if (dr) {
		native_set_debugreg(0, dr[0]);
		native_set_debugreg(1, dr[1]);
		native_set_debugreg(2, dr[2]);
		native_set_debugreg(3, dr[3]);
	}
	native_set_debugreg(6, 0xffff0ff0UL);	/* DR6 as after reset */
	native_set_debugreg(7, __this_cpu_read(cpu_dr7));
#else
	hw_breakpoint_restore();
#endif
}

/**
 * hvx_guest_split_lock - apply the host's split-lock policy to a split-lock
 * #AC that a guest did not ask for
 * @ip: the guest's RIP, for the host's log.
 *
 * Up to 6.18 this is handle_guest_split_lock(): in "warn" mode it warns
 * (rate-limited) and lets the task go on without detection for a while;
 * in "fatal" mode it queues SIGBUS for the current task (the VMM). Later
 * kernels keep that to KVM; hvx then reflects the #AC into the guest, as
 * KVM did before split-lock detection existed.
 * Context: process context, the vCPU thread.
 * Return: 1 the guest may re-execute the instruction, 0 the host's policy
 * is fatal (SIGBUS queued), -EOPNOTSUPP reflect the #AC.
 */
static inline int hvx_guest_split_lock(unsigned long ip)
{
#ifdef HVX_KVM_ONLY_EXPORTS
	return -EOPNOTSUPP;
#else
	return handle_guest_split_lock(ip) ? 1 : 0;
#endif
}

/*
 * VMX lifecycle hooks (vmx/vmx.c). Kept together at the end of this file.
 *
 * - cpu_emergency_register_virt_callback(): one callback slot that the
 *   crash, emergency-restart and stop-other-CPUs paths run on each CPU to
 *   leave VMX operation before INIT or kexec. Mainline added it in 6.6;
 *   Debian's 6.1 (6.1.192) carries it too. A second registration, and an
 *   unregistration by a non-owner, WARN. From 6.19 the core owns VMXON
 *   and the replacement is KVM-only: hvx registers nothing there (the
 *   core turns VMX off on any CPU with CR4.VMXE set).
 * - intel_pt_handle_vmx(): tells Intel PT that this CPU enters or leaves
 *   VMX operation. Exported to modules up to 6.18, KVM-only from 6.19.
 * - syscore ops: newer kernels pass a context pointer (struct syscore;
 *   mainline 6.19, Debian's 6.12.118 too: a compile test decides,
 *   HVX_HAVE_SYSCORE_DATA); hvx's callbacks take none, so struct
 *   hvx_syscore adapts them.
 *
 * hvx cannot be loaded on 6.19 and later anyway (its CR4 writes are
 * KVM-only exports there); these keep the code compiling.
 */
#include <linux/syscore_ops.h>
#include <asm/perf_event.h>
#include <asm/reboot.h>

/* What hvx registers as its emergency callback. */
typedef void (hvx_emergency_cb)(void);

/**
 * struct hvx_syscore - hvx's syscore callbacks, registered with
 * hvx_register_syscore()
 * @suspend: last step before the platform sleeps (one CPU, IRQs off).
 * @resume: first step after it wakes (one CPU, IRQs off).
 * @shutdown: on reboot, power-off and kexec, after device shutdown.
 * @sc: the kernel's registration (6.19+).
 * @ops: the kernel's registration (up to 6.18).
 */
struct hvx_syscore {
	int (*suspend)(void);
	void (*resume)(void);
	void (*shutdown)(void);
#ifdef HVX_HAVE_SYSCORE_DATA
	struct syscore sc;
#else
	struct syscore_ops ops;
#endif
};

#ifdef HVX_HAVE_SYSCORE_DATA
static inline int hvx_syscore_suspend(void *data)
{
	return ((struct hvx_syscore *)data)->suspend();
}

static inline void hvx_syscore_resume(void *data)
{
	((struct hvx_syscore *)data)->resume();
}

static inline void hvx_syscore_shutdown(void *data)
{
	((struct hvx_syscore *)data)->shutdown();
}

static const struct syscore_ops hvx_syscore_ops = {
	.suspend = hvx_syscore_suspend,
	.resume = hvx_syscore_resume,
	.shutdown = hvx_syscore_shutdown,
};

static inline void hvx_register_syscore(struct hvx_syscore *s)
{
	s->sc.ops = &hvx_syscore_ops;
	s->sc.data = s;
	register_syscore(&s->sc);
}

static inline void hvx_unregister_syscore(struct hvx_syscore *s)
{
	unregister_syscore(&s->sc);
}

#else
/**
 * hvx_register_syscore - register @s's callbacks with the kernel
 * @s: callbacks; @s must stay alive until hvx_unregister_syscore().
 *
 * Context: process context, may sleep.
 */
static inline void hvx_register_syscore(struct hvx_syscore *s)
{
	s->ops.suspend = s->suspend;
	s->ops.resume = s->resume;
	s->ops.shutdown = s->shutdown;
	register_syscore_ops(&s->ops);
}

static inline void hvx_unregister_syscore(struct hvx_syscore *s)
{
	unregister_syscore_ops(&s->ops);
}
#endif

/*
 * HVX_VMX_IS_SHARED - HVX_VMX_SHARED (below) as a C constant, for code that
 * tests it with if () rather than the preprocessor.
 */
#ifdef HVX_HAVE_X86_VIRT_REF
#define HVX_VMX_IS_SHARED	true
#else
#define HVX_VMX_IS_SHARED	false
#endif

/*
 * HVX_EMERGENCY_OWN_SLOT - the kernel's emergency callbacks have a slot
 * for hvx beside KVM's (kmod/patches/ 0005 on 7.x), so hvx need not give
 * its slot up to kvm_intel and its VMCSs are VMCLEARed on a crash even
 * while KVM has VMs too.
 */
#if defined(HVX_HAVE_X86_VIRT_REF) && defined(HVX_HAVE_X86_VIRT_EMERGENCY_SLOTS)
#define HVX_EMERGENCY_OWN_SLOT	true
#else
#define HVX_EMERGENCY_OWN_SLOT	false
#endif

#ifdef HVX_HAVE_X86_VIRT_REF
/*
 * The core kernel owns VMXON (arch/x86/virt/hw.c, 7.x) and kmod/patches/
 * exports it to hvx: hvx shares VMX operation with KVM through the core's
 * per-CPU reference count, and the core's emergency VMXOFF covers hvx's
 * CPUs. HVX_VMX_SHARED tells vmx/vmx.c to hand the current VMCS back
 * (hvx_vmx_cpu_acquire()/hvx_vmx_cpu_release()).
 */
#include <asm/virt.h>
#define HVX_VMX_SHARED	1

/**
 * hvx_virt_get_ref - take this CPU's VMX reference (VMXON on the first)
 *
 * Context: preemption disabled (on the CPU concerned).
 * Return: 0; -EBUSY if VMX was turned on behind the core's back (CR4.VMXE
 * already set), -EFAULT if VMXON faulted, -EOPNOTSUPP without VMX.
 */
static inline int hvx_virt_get_ref(void)
{
	return x86_virt_get_ref(X86_FEATURE_VMX);
}

/**
 * hvx_virt_put_ref - drop this CPU's VMX reference (VMXOFF on the last)
 *
 * Context: preemption disabled; hvx's VMCSs on this CPU are cleared.
 */
static inline void hvx_virt_put_ref(void)
{
	x86_virt_put_ref(X86_FEATURE_VMX);
}

/**
 * hvx_emergency_virt_register - take a core emergency callback slot (one
 * for KVM and one for hvx with kmod/patches/ 0005, HVX_EMERGENCY_OWN_SLOT;
 * else one, which KVM takes while it has virtualization enabled); the
 * caller must know one is free (else the kernel WARNs)
 * @cb: runs on each CPU in NMI or IRQs-off context on crash and reboot,
 *	right before the core's own VMXOFF.
 */
static inline void hvx_emergency_virt_register(hvx_emergency_cb *cb)
{
	x86_virt_register_emergency_callback(cb);
}

/**
 * hvx_emergency_virt_unregister - give the slot back; waits for running
 * callbacks (synchronize_rcu())
 * @cb: what hvx_emergency_virt_register() registered.
 *
 * Context: process context, may sleep.
 */
static inline void hvx_emergency_virt_unregister(hvx_emergency_cb *cb)
{
	x86_virt_unregister_emergency_callback(cb);
}

static inline void hvx_intel_pt_handle_vmx(int on) { }
#elif KERNEL_VERSION(6, 19, 0) <= LINUX_VERSION_CODE
static inline int hvx_virt_get_ref(void) { return -EOPNOTSUPP; }
static inline void hvx_virt_put_ref(void) { }
static inline void hvx_emergency_virt_register(hvx_emergency_cb *cb) { }
static inline void hvx_emergency_virt_unregister(hvx_emergency_cb *cb) { }
static inline void hvx_intel_pt_handle_vmx(int on) { }
#else
static inline int hvx_virt_get_ref(void) { return -EOPNOTSUPP; }
static inline void hvx_virt_put_ref(void) { }

/**
 * hvx_emergency_virt_register - take the kernel's emergency virt callback
 * slot; the caller must know it is free (else the kernel WARNs)
 * @cb: runs on each CPU in NMI or IRQs-off context on crash and reboot.
 */
static inline void hvx_emergency_virt_register(hvx_emergency_cb *cb)
{
	cpu_emergency_register_virt_callback(cb);
}

/**
 * hvx_emergency_virt_unregister - give the slot back; waits for running
 * callbacks (synchronize_rcu())
 * @cb: what hvx_emergency_virt_register() registered.
 *
 * Context: process context, may sleep.
 */
static inline void hvx_emergency_virt_unregister(hvx_emergency_cb *cb)
{
	cpu_emergency_unregister_virt_callback(cb);
}

static inline void hvx_intel_pt_handle_vmx(int on)
{
	intel_pt_handle_vmx(on);
}
#endif

/*
 * ITER_SOURCE, ITER_DEST: the iov_iter directions, named so from 6.2 (and
 * in later 6.1 stable releases); before, WRITE and READ.
 */
#include <linux/fs.h>
#include <linux/uio.h>
#ifndef ITER_SOURCE
#define ITER_SOURCE	WRITE
#define ITER_DEST	READ
#endif

/**
 * hvx_vfs_iter_write - vfs_iter_write() inside the file system's freeze
 * protection
 * @file: the file.
 * @iter: the data.
 * @pos: where; moved on by what was written.
 *
 * 6.8 moved file_start_write() into vfs_iter_write(); before, its caller
 * takes it (as kernel_write() does).
 * Context: process context, may sleep.
 * Return: bytes written, or a negative errno.
 */
static inline ssize_t hvx_vfs_iter_write(struct file *file,
					 struct iov_iter *iter, loff_t *pos)
{
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
	return vfs_iter_write(file, iter, pos, 0);
#else
	ssize_t ret;

	file_start_write(file);
	ret = vfs_iter_write(file, iter, pos, 0);
	file_end_write(file);
	return ret;
#endif
}

#endif /* !__ASSEMBLY__ */

#endif /* HVX_COMPAT_H */
