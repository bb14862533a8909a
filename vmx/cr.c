// SPDX-License-Identifier: GPL-2.0
/*
 * cr.c - control-register exits (SDM Vol. 3C 26.1.3 and 28.2.1, Table
 * 28-3): MOV to/from CR0, CR3, CR4, CR8, CLTS and LMSW.
 *
 * CR0 and CR4 writes that touch a bit hvx owns exit; hvx checks them as
 * the CPU would (SDM Vol. 3A 2.5 and the MOV CR entry of Vol. 2B), raises
 * #GP(0) for what the CPU refuses, switches IA32_EFER.LMA on paging
 * changes in long mode, and loads the PDPTEs when PAE paging starts.
 */
#include <asm/processor-flags.h>

#include <asm/trapnr.h>

#include "vmx.h"

static unsigned long *gpr(struct hvx_vmx_vcpu *v, unsigned int n)
{
	if (n != HVX_RSP)
		return &v->gprs[n];
	hvx_vmx_regs_cache(v, true);	/* RSP is the VMCS's: cache it */
	return (unsigned long *)&v->rsp;
}

static bool pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LME);
}

static int set_cr0(struct hvx_vmx_vcpu *v, u64 val)
{
	u64 cr3;

	val |= X86_CR0_ET;
	if (val >> 32 || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)))
		return -1;
	/* Leaving paging from 64-bit code is refused (SDM Vol. 3A 9.8.5.4). */
	if (!(val & X86_CR0_PG) && (v->efer & EFER_LMA) &&
	    (hvx_vmx_read(v, GUEST_CS_AR_BYTES) & VMX_AR_L_MASK))
		return -1;
	/* Paging stays on while CR4.PCIDE is set (MOV CR0, SDM Vol. 2B). */
	if (!(val & X86_CR0_PG) && (v->cr4 & X86_CR4_PCIDE))
		return -1;
	/* Enabling long mode paging needs PAE (SDM Vol. 3A 9.8.5). */
	if ((val & X86_CR0_PG) && !(v->cr0 & X86_CR0_PG) &&
	    (v->efer & EFER_LME) && !(v->cr4 & X86_CR4_PAE))
		return -1;
	if (pae_paging(val, v->cr4, v->efer) &&
	    !pae_paging(v->cr0, v->cr4, v->efer)) {
		cr3 = hvx_vmx_read(v, GUEST_CR3);
		if (hvx_vmx_load_pdptrs(v, cr3))
			return -1;
	}
	preempt_disable();
	hvx_vmx_load(v);
	hvx_vmx_set_cr0(v, val);
	hvx_vmx_unload();
	return 0;
}

static int set_cr4(struct hvx_vmx_vcpu *v, u64 val)
{
	u64 cr3;

	if (val & ~hvx_vmx_cr4_allowed())
		return -1;
	if ((v->efer & EFER_LMA) && !(val & X86_CR4_PAE))
		return -1;
	/*
	 * PCIDE may be set only in IA-32e mode with CR3[11:0] = 0 (SDM Vol.
	 * 3A 4.10.1, MOV CR4 in Vol. 2B).
	 */
	if ((val & X86_CR4_PCIDE) && !(v->cr4 & X86_CR4_PCIDE) &&
	    (!(v->efer & EFER_LMA) || (hvx_vmx_read(v, GUEST_CR3) & 0xfff)))
		return -1;
	if (pae_paging(v->cr0, val, v->efer) &&
	    ((val ^ v->cr4) & (X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PGE))) {
		cr3 = hvx_vmx_read(v, GUEST_CR3);
		if (hvx_vmx_load_pdptrs(v, cr3))
			return -1;
	}
	preempt_disable();
	hvx_vmx_load(v);
	hvx_vmx_set_cr4(v, val);
	hvx_vmx_unload();
	return 0;
}

/**
 * hvx_vmx_handle_cr - emulate a control-register access
 * @v: the vCPU.
 *
 * Return: HVX_RUN_RESUME, with #GP(0) injected for refused values.
 */
int hvx_vmx_handle_cr(struct hvx_vmx_vcpu *v)
{
	u64 q = v->exit_qual;
	unsigned int cr = q & 0xf, type = (q >> 4) & 3;
	unsigned long *reg = gpr(v, (q >> 8) & 0xf);
	u64 val = *reg;
	int err = 0;

	if (!(v->efer & EFER_LMA))
		val &= 0xffffffff;
	switch (type) {
	case 0:		/* MOV to CR */
		if (cr == 0)
			err = set_cr0(v, val);
		else if (cr == 4)
			err = set_cr4(v, val);
		else if (cr == 3)
			hvx_vmx_write(v, GUEST_CR3, val);
		else if (cr == 8 && val <= 15)
			hvx_vmx_set_cr8(v, val);
		else
			err = -1;
		break;
	case 1:		/* MOV from CR */
		if (cr == 3)
			*reg = hvx_vmx_read(v, GUEST_CR3);
		else if (cr == 8)
			*reg = hvx_vmx_get_cr8(v);
		else
			err = -1;
		break;
	case 2:		/* CLTS */
		err = set_cr0(v, v->cr0 & ~X86_CR0_TS);
		break;
	case 3:		/* LMSW: bits 3:0 from the source; PE cannot be cleared */
		err = set_cr0(v, (v->cr0 & ~0xeULL) | ((q >> 16) & 0xf));
		break;
	}
	if (err) {
		hvx_vmx_inject_exception(v, X86_TRAP_GP, true, 0);
		return HVX_RUN_RESUME;
	}
	hvx_vmx_skip_instruction(v, v->instr_len);
	return HVX_RUN_RESUME;
}
