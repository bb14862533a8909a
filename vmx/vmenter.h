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

#include <linux/bits.h>
#include <asm/cpufeatures.h>

/* HVX_NMI_ENTRY, which vmenter.S calls (assembler-safe part) */
#include "../kmod/compat.h"

#define HVX_ENTER_RESUME_BIT	0	/* VMRESUME, not VMLAUNCH */
#define HVX_ENTER_RESUME	BIT(HVX_ENTER_RESUME_BIT)
#define HVX_ENTER_SPEC_CTRL	BIT(1) /* the CPU has IA32_SPEC_CTRL */
#define HVX_ENTER_SAVE_SPEC_CTRL BIT(2) /* the guest writes it directly */
#define HVX_ENTER_IBRS_ALWAYS	BIT(3) /* legacy IBRS: rewrite after exit */
#define HVX_ENTER_VERW		BIT(4) /* clear CPU buffers before entry */
#define HVX_ENTER_RSB		BIT(5) /* fill the RSB (32 entries) */
#define HVX_ENTER_RSB_LITE	BIT(6) /* one CALL retires before a RET */
#define HVX_ENTER_BHB		BIT(7) /* clear branch history after exit */

/* hvx_vmx_enter()'s return values. */
#define HVX_ENTER_EXITED	0	/* a VM exit (or a failed VM entry) */
#define HVX_ENTER_VMFAIL	1	/* VMfail: see VM-instruction error */
#define HVX_ENTER_FAULTED	2	/* the CPU is outside VMX operation */

/*
 * HVX_FEATURE_BHB_VMEXIT - the host's "clear branch history on VM exit"
 * feature bit, whose name changed (..._LOOP_ON_VMEXIT, then 7.x's
 * ..._VMEXIT); undefined on kernels without the BHI mitigation, where
 * clear_bhb_loop() does not exist either. Where the kernel exports
 * clear_bhb_loop() to KVM only (6.19+), hvx builds only with
 * kmod/patches/, which exports it to hvx (Kbuild).
 */
#if defined(X86_FEATURE_CLEAR_BHB_LOOP_ON_VMEXIT)
#define HVX_FEATURE_BHB_VMEXIT	X86_FEATURE_CLEAR_BHB_LOOP_ON_VMEXIT
#elif defined(X86_FEATURE_CLEAR_BHB_VMEXIT)
#define HVX_FEATURE_BHB_VMEXIT	X86_FEATURE_CLEAR_BHB_VMEXIT
#endif

#endif /* HVX_VMX_VMENTER_H */
