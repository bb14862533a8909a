// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - the vCPU state that only save and restore need: the XSAVE
 * area, the XCRs and the debug registers (HVX_GET/SET_XSAVE, _XCRS,
 * _DEBUGREGS). Each SET checks everything before it changes anything.
 */
#include <linux/string.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>

#include "vmx.h"

/* Offsets in the XSAVE area (SDM Vol. 1 13.4.1, 13.4.2). */
#define XS_MXCSR		24
#define XS_HEADER		512
#define XS_XSTATE_BV		512
#define XS_XCOMP_BV		520
#define XS_HEADER_END		576
#define MXCSR_RESERVED		0xffff0000u	/* bits 31:16: #GP in XRSTOR */

/*
 * XCR0 bits this vCPU's guest may enable: what hvx offers, narrowed by
 * CPUID leaf 0DH sub-leaf 0 of the vCPU's table (SDM Vol. 1 13.2). x87 is
 * always allowed, as XCR0 bit 0 must be set.
 */
static u64 xcr0_allowed(struct hvx_vmx_vcpu *v)
{
	const struct hvx_cpuid_entry *e = hvx_vmx_cpuid_lookup(v, 0xd, 0);
	u64 allowed = hvx_caps.guest_xcr0;

	if (e && e->function == 0xd)
		allowed &= e->eax | (u64)e->edx << 32 | XFEATURE_MASK_FP;
	return allowed;
}

static u64 xsave_bv(const u8 *area)
{
	u64 bv;

	memcpy(&bv, area + XS_XSTATE_BV, sizeof(bv));
	return bv;
}

/**
 * hvx_vmx_get_xsave - read the guest's XSAVE area in the standard format
 * @v: the vCPU (not running; its run lock held).
 * @x: output, zeroed by the caller.
 *
 * With the kernel's guest-fpstate API the state is in that fpstate
 * (allocated here if the vCPU never ran) and converted by the kernel;
 * otherwise it is the vCPU's own XSAVE image. XSTATE_BV keeps only the
 * components the guest may enable.
 * Context: process context, may sleep.
 * Return: 0 or -ENOMEM.
 */
int hvx_vmx_get_xsave(struct hvx_vmx_vcpu *v, struct hvx_xsave *x)
{
	u8 *area = (u8 *)x->region;
	u64 bv;

	if (HVX_GUEST_FPSTATE) {
		if (!v->rs.gfpu.fpstate && !hvx_fpstate_alloc(&v->rs.gfpu))
			return -ENOMEM;
		hvx_fpstate_to_uabi(&v->rs.gfpu, area, sizeof(x->region),
				    hvx_caps.guest_xcr0);
	} else {
		memcpy(area, v->fpu, sizeof(v->fpu));
	}
	if (!hvx_caps.guest_xcr0)
		return 0;	/* FXSAVE format: no header */
	bv = xsave_bv(area) & hvx_caps.guest_xcr0;
	memcpy(area + XS_XSTATE_BV, &bv, sizeof(bv));
	return 0;
}

/**
 * hvx_vmx_set_xsave - write the guest's XSAVE area
 * @v: the vCPU (not running; its run lock held).
 * @x: the area, checked as struct hvx_xsave says.
 *
 * Context: process context, may sleep.
 * Return: 0, -EINVAL (see struct hvx_xsave) or -ENOMEM, with nothing
 * changed on error.
 */
int hvx_vmx_set_xsave(struct hvx_vmx_vcpu *v, const struct hvx_xsave *x)
{
	const u8 *area = (const u8 *)x->region;
	u64 allowed = xcr0_allowed(v);
	u32 mxcsr;

	memcpy(&mxcsr, area + XS_MXCSR, sizeof(mxcsr));
	if (mxcsr & MXCSR_RESERVED)
		return -EINVAL;
	if (hvx_caps.guest_xcr0 &&
	    ((xsave_bv(area) & ~allowed) ||
	     memchr_inv(area + XS_XCOMP_BV, 0, XS_HEADER_END - XS_XCOMP_BV)))
		return -EINVAL;
	if (HVX_GUEST_FPSTATE) {
		if (!v->rs.gfpu.fpstate && !hvx_fpstate_alloc(&v->rs.gfpu))
			return -ENOMEM;
		/* The kernel checks again (MXCSR mask) before it copies. */
		return hvx_fpstate_from_uabi(&v->rs.gfpu, area, allowed);
	}
	memcpy(v->fpu, area, sizeof(v->fpu));
	return 0;
}

/**
 * hvx_vmx_get_xcrs - read the guest's XCRs
 * @v: the vCPU (not running).
 * @x: output, zeroed by the caller.
 */
void hvx_vmx_get_xcrs(struct hvx_vmx_vcpu *v, struct hvx_xcrs *x)
{
	if (!hvx_caps.guest_xcr0)
		return;
	x->nr_xcrs = 1;
	x->xcrs[0].xcr = XCR_XFEATURE_ENABLED_MASK;
	x->xcrs[0].value = v->xcr0;
}

/**
 * hvx_vmx_set_xcrs - write the guest's XCRs
 * @v: the vCPU (not running).
 * @x: the registers; the dispatcher checked @x->reserved.
 *
 * XCR0 follows the rules of XSETBV (SDM Vol. 1 13.3; Vol. 2D XSETBV),
 * within what the vCPU's CPUID allows.
 * Return: 0, or -EINVAL (too many entries, nonzero flags or entry
 * reserved field, an XCR other than 0 or given twice, a value XSETBV
 * would refuse) with nothing changed.
 */
int hvx_vmx_set_xcrs(struct hvx_vmx_vcpu *v, const struct hvx_xcrs *x)
{
	u64 allowed = xcr0_allowed(v), xcr0 = v->xcr0;
	bool seen = false;
	u32 i;

	if (x->nr_xcrs > HVX_MAX_XCRS || x->flags)
		return -EINVAL;
	for (i = 0; i < x->nr_xcrs; i++) {
		u64 val = x->xcrs[i].value;

		if (x->xcrs[i].xcr != XCR_XFEATURE_ENABLED_MASK ||
		    x->xcrs[i].reserved || seen || !hvx_caps.guest_xcr0)
			return -EINVAL;
		if (!(val & XFEATURE_MASK_FP) || (val & ~allowed) ||
		    ((val & XFEATURE_MASK_YMM) && !(val & XFEATURE_MASK_SSE)))
			return -EINVAL;
		seen = true;
		xcr0 = val;
	}
	v->xcr0 = xcr0;
	return 0;
}

/* DR6 bit 12 and DR7 bits 11, 12, 14, 15 (SDM Vol. 3B 18.2.3, 18.2.4). */
#define DR6_RESERVED_0	BIT_ULL(12)
#define DR7_RESERVED_0	(BIT_ULL(11) | BIT_ULL(12) | BIT_ULL(14) | BIT_ULL(15))

/**
 * hvx_vmx_get_debugregs - read DR0-DR3, DR6 and DR7
 * @v: the vCPU (not running).
 * @d: output, zeroed by the caller.
 */
void hvx_vmx_get_debugregs(struct hvx_vmx_vcpu *v, struct hvx_debugregs *d)
{
	memcpy(d->db, v->dr, sizeof(d->db));
	d->dr6 = v->dr[4];
	d->dr7 = hvx_vmx_read(v, GUEST_DR7);
}

/**
 * hvx_vmx_set_debugregs - write DR0-DR3, DR6 and DR7
 * @v: the vCPU (not running).
 * @d: the registers; the dispatcher checked @d->flags and @d->reserved.
 *
 * The bits that read as 1 are set, as a MOV to DR6/DR7 leaves them.
 * Return: 0, or -EINVAL (a rule of struct hvx_debugregs broken) with
 * nothing changed.
 */
int hvx_vmx_set_debugregs(struct hvx_vmx_vcpu *v,
			  const struct hvx_debugregs *d)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!hvx_is_canonical(d->db[i]))
			return -EINVAL;
	if ((d->dr6 >> 32) || (d->dr6 & DR6_RESERVED_0) ||
	    (d->dr7 >> 32) || (d->dr7 & DR7_RESERVED_0))
		return -EINVAL;
	memcpy(v->dr, d->db, sizeof(d->db));
	v->dr[4] = d->dr6 | HVX_DR6_FIXED_1;
	hvx_vmx_write(v, GUEST_DR7, d->dr7 | HVX_DR7_FIXED_1);
	/* L0-L3, G0-G3: the guest's DR0-3 must be live (handlers.c). */
	v->dr_armed = d->dr7 & 0xff;
	return 0;
}
