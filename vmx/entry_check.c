// SPDX-License-Identifier: GPL-2.0
/*
 * entry_check.c - name the guest-state check that made a VM entry fail.
 *
 * The CPU reports only "invalid guest state" (exit reason 33, SDM Vol. 3C
 * 27.8). To tell users which register is wrong, hvx re-runs the checks of
 * SDM Vol. 3C 27.3.1 on the VMCS in software, in the SDM's order, and
 * returns the first that fails. Checks that hvx's own setup always
 * satisfies (activity state, interruptibility, VMCS link pointer, PDPTEs
 * loaded by hvx) are not repeated.
 */
#include <asm/processor-flags.h>

#include "vmx.h"

#define SEG_AR_TYPE(ar)	((ar) & 0xf)
#define SEG_AR_S(ar)	(((ar) >> 4) & 1)
#define SEG_AR_DPL(ar)	(((ar) >> 5) & 3)
#define SEG_AR_P(ar)	(((ar) >> 7) & 1)
#define SEG_AR_L(ar)	(((ar) >> 13) & 1)
#define SEG_AR_DB(ar)	(((ar) >> 14) & 1)
#define SEG_AR_G(ar)	(((ar) >> 15) & 1)
#define SEG_AR_UNUSABLE(ar)	(((ar) >> 16) & 1)
#define SEG_AR_RESERVED	(GENMASK(11, 8) | GENMASK(31, 17))
#define RFLAGS_RESERVED	(GENMASK_ULL(63, 22) | BIT(15) | BIT(5) | BIT(3))

struct seg {
	u16 sel;
	u64 base;
	u32 limit, ar;
};

static void read_seg(struct seg *s, u16 sel, u16 base, u16 limit, u16 ar)
{
	s->sel = vmcs_read(sel);
	s->base = vmcs_read(base);
	s->limit = vmcs_read(limit);
	s->ar = vmcs_read(ar);
}

/* Limit and granularity agree (SDM Vol. 3C 27.3.1.2, last checks). */
static bool limit_ok(const struct seg *s)
{
	if ((s->limit & 0xfff) != 0xfff && SEG_AR_G(s->ar))
		return false;
	if ((s->limit & 0xfff00000) && !SEG_AR_G(s->ar))
		return false;
	return !(s->ar & SEG_AR_RESERVED);
}

static bool data_seg_ok(const struct seg *s)
{
	u32 type = SEG_AR_TYPE(s->ar);

	if (SEG_AR_UNUSABLE(s->ar))
		return true;
	if (!(type & 1) || ((type & 8) && !(type & 2)))
		return false;	/* must be accessed; code must be readable */
	return SEG_AR_S(s->ar) && SEG_AR_P(s->ar) && limit_ok(s);
}

static bool v86_seg_ok(const struct seg *s)
{
	return s->base == (u64)s->sel << 4 && s->limit == 0xffff &&
	       s->ar == 0xf3;
}

/**
 * hvx_vmx_check_guest_state - find the first failing guest-state check
 *
 * Context: preemption disabled, the failing vCPU's VMCS current.
 * Return: the enum hvx_entry_check value, HVX_CHECK_UNKNOWN if all pass.
 */
enum hvx_entry_check hvx_vmx_check_guest_state(void)
{
	u64 cr0 = vmcs_read(GUEST_CR0), cr4 = vmcs_read(GUEST_CR4);
	u64 efer = vmcs_read(GUEST_IA32_EFER);
	u64 rflags = vmcs_read(GUEST_RFLAGS), rip = vmcs_read(GUEST_RIP);
	bool ia32e = vmcs_read(VM_ENTRY_CONTROLS) & VM_ENTRY_IA32E_MODE;
	u64 fixed0 = hvx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
	struct seg cs, ss, ds, es, fs, gs, tr, ldtr;
	struct seg *data[] = { &ds, &es, &fs, &gs };
	int i;

	/* 27.3.1.1: control registers and EFER */
	if ((cr0 & fixed0) != fixed0 || (cr0 & ~hvx_caps.cr0_fixed1))
		return HVX_CHECK_CR0_FIXED;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return HVX_CHECK_CR0_PG_PE;
	if ((cr4 & hvx_caps.cr4_fixed0) != hvx_caps.cr4_fixed0 ||
	    (cr4 & ~hvx_caps.cr4_fixed1))
		return HVX_CHECK_CR4_FIXED;
	if (ia32e && (!(cr0 & X86_CR0_PG) || !(cr4 & X86_CR4_PAE)))
		return HVX_CHECK_LONG_MODE_PAGING;
	if (!ia32e && (cr4 & X86_CR4_PCIDE))
		return HVX_CHECK_LONG_MODE_PAGING;
	if ((efer & ~HVX_EFER_ALLOWED) || !!(efer & EFER_LMA) != ia32e ||
	    ((cr0 & X86_CR0_PG) && !!(efer & EFER_LME) != !!(efer & EFER_LMA)))
		return HVX_CHECK_EFER;

	/* 27.3.1.2: segment registers */
	read_seg(&cs, GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES);
	read_seg(&ss, GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES);
	read_seg(&ds, GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES);
	read_seg(&es, GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES);
	read_seg(&fs, GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES);
	read_seg(&gs, GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES);
	read_seg(&tr, GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES);
	read_seg(&ldtr, GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT,
		 GUEST_LDTR_AR_BYTES);

	if ((tr.sel & 4) || SEG_AR_UNUSABLE(tr.ar) || SEG_AR_S(tr.ar) || !SEG_AR_P(tr.ar) ||
	    !limit_ok(&tr) ||
	    !(SEG_AR_TYPE(tr.ar) == 11 || (!ia32e && SEG_AR_TYPE(tr.ar) == 3)))
		return HVX_CHECK_SEG_TR;
	if (!SEG_AR_UNUSABLE(ldtr.ar) &&
	    ((ldtr.sel & 4) || SEG_AR_TYPE(ldtr.ar) != 2 || SEG_AR_S(ldtr.ar) ||
	     !SEG_AR_P(ldtr.ar) || !limit_ok(&ldtr)))
		return HVX_CHECK_SEG_LDTR;

	if (rflags & X86_EFLAGS_VM) {
		if (!v86_seg_ok(&cs) || !v86_seg_ok(&ss) || !v86_seg_ok(&ds) ||
		    !v86_seg_ok(&es) || !v86_seg_ok(&fs) || !v86_seg_ok(&gs))
			return HVX_CHECK_V86;
	} else {
		u32 type = SEG_AR_TYPE(cs.ar);

		if (!(type == 9 || type == 11 || type == 13 || type == 15 ||
		      type == 3) || SEG_AR_UNUSABLE(cs.ar) || !SEG_AR_S(cs.ar) ||
		    !SEG_AR_P(cs.ar) || !limit_ok(&cs) ||
		    (type == 3 && SEG_AR_DPL(cs.ar)) ||
		    ((type == 9 || type == 11) && SEG_AR_DPL(cs.ar) != SEG_AR_DPL(ss.ar)) ||
		    ((type == 13 || type == 15) && SEG_AR_DPL(cs.ar) > SEG_AR_DPL(ss.ar)) ||
		    (ia32e && SEG_AR_L(cs.ar) && SEG_AR_DB(cs.ar)))
			return HVX_CHECK_SEG_CS;
		if (!SEG_AR_UNUSABLE(ss.ar) &&
		    ((SEG_AR_TYPE(ss.ar) != 3 && SEG_AR_TYPE(ss.ar) != 7) ||
		     !SEG_AR_S(ss.ar) || !SEG_AR_P(ss.ar) || !limit_ok(&ss)))
			return HVX_CHECK_SEG_SS;
		if ((type == 3 || !(cr0 & X86_CR0_PE)) && SEG_AR_DPL(ss.ar))
			return HVX_CHECK_SEG_SS;
		for (i = 0; i < ARRAY_SIZE(data); i++)
			if (!data_seg_ok(data[i]))
				return HVX_CHECK_SEG_DATA;
	}
	if (!hvx_is_canonical(fs.base) || !hvx_is_canonical(gs.base) ||
	    !hvx_is_canonical(tr.base) ||
	    (!SEG_AR_UNUSABLE(ldtr.ar) && !hvx_is_canonical(ldtr.base)) ||
	    cs.base >> 32 || (!SEG_AR_UNUSABLE(ss.ar) && ss.base >> 32) ||
	    (!SEG_AR_UNUSABLE(ds.ar) && ds.base >> 32) ||
	    (!SEG_AR_UNUSABLE(es.ar) && es.base >> 32))
		return HVX_CHECK_SEG_BASE;

	/* 27.3.1.3: descriptor-table registers */
	if (!hvx_is_canonical(vmcs_read(GUEST_GDTR_BASE)) ||
	    !hvx_is_canonical(vmcs_read(GUEST_IDTR_BASE)) ||
	    vmcs_read(GUEST_GDTR_LIMIT) >> 16 || vmcs_read(GUEST_IDTR_LIMIT) >> 16)
		return HVX_CHECK_DTABLE;

	/* 27.3.1.4: RIP and RFLAGS */
	if (ia32e && SEG_AR_L(cs.ar) ? !hvx_is_canonical(rip) : rip >> 32)
		return HVX_CHECK_RIP;
	if ((rflags & RFLAGS_RESERVED) || !(rflags & X86_EFLAGS_FIXED) ||
	    ((ia32e || !(cr0 & X86_CR0_PE)) && (rflags & X86_EFLAGS_VM)))
		return HVX_CHECK_RFLAGS;
	return HVX_CHECK_UNKNOWN;
}
