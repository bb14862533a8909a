/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmenter.h - flags of hvx_vmx_enter(), shared by vmenter.S and C.
 *
 * The barriers at the entry/exit boundary are chosen once at module load
 * (spec.c) and per VM (VERW for passthrough MMIO); the entry code only
 * tests these bits, so the choice can follow module parameters rather
 * than boot-time alternatives.
 */
#ifndef HVX_VMX_VMENTER_H
#define HVX_VMX_VMENTER_H

#include <linux/version.h>

#define HVX_ENTER_RESUME_BIT	0	/* VMRESUME, not VMLAUNCH */
#define HVX_ENTER_RESUME	(1 << HVX_ENTER_RESUME_BIT)
#define HVX_ENTER_SPEC_CTRL	(1 << 1) /* the CPU has IA32_SPEC_CTRL */
#define HVX_ENTER_SAVE_SPEC_CTRL (1 << 2) /* the guest writes it directly */
#define HVX_ENTER_IBRS_ALWAYS	(1 << 3) /* legacy IBRS: rewrite after exit */
#define HVX_ENTER_VERW		(1 << 4) /* clear CPU buffers before entry */
#define HVX_ENTER_RSB		(1 << 5) /* fill the RSB (32 entries) */
#define HVX_ENTER_RSB_LITE	(1 << 6) /* one CALL retires before a RET */
#define HVX_ENTER_BHB		(1 << 7) /* clear branch history after exit */

/*
 * The kernel's IDT NMI entry for an NMI that caused a VM exit, as exported
 * to modules: asm_exc_nmi_noist until 6.2, asm_exc_nmi_kvm_vmx from 6.3;
 * from 6.19 it is exported to KVM only (HVX_NMI_ENTRY undefined: VM
 * creation is refused, spec.c). Kept here because vmenter.S needs it and
 * cannot include kmod/compat.h.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#undef HVX_NMI_ENTRY
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define HVX_NMI_ENTRY	asm_exc_nmi_kvm_vmx
#else
#define HVX_NMI_ENTRY	asm_exc_nmi_noist
#endif

#endif /* HVX_VMX_VMENTER_H */
