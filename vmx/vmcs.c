// SPDX-License-Identifier: GPL-2.0
/*
 * vmcs.c - VMCS setup for a vCPU and access to its register state.
 *
 * A new vCPU is in the x86 reset state (SDM Vol. 3A 10.1.1, Table 10-1):
 * real mode at F000:FFF0. Unrestricted guest (SDM Vol. 3C 26.6) runs it
 * natively. CR0.PE/PG/NE/CD/NW and all of CR4 are owned by hvx through
 * the guest/host masks; the guest reads its own values from the read
 * shadows (SDM Vol. 3C 25.6.6).
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <asm/desc.h>
#include <asm/fpu/xstate.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "vmx.h"

#define CR0_OWNED	(X86_CR0_PE | X86_CR0_PG | X86_CR0_NE | X86_CR0_CD | \
			 X86_CR0_NW)
#define PAT_RESET	0x0007040600070406ULL

/**
 * hvx_vmx_read - VMREAD with the vCPU's VMCS made current first
 * @v: the vCPU.
 * @field: field encoding.
 *
 * Inside hvx_vmx_run()'s use of the VMCS (@v->vmcs_current: the exit
 * fast path, reading the exit) the VMCS is current already and this is
 * one VMREAD; elsewhere the VMCS is loaded around it.
 * Context: process context (preemptible) on slow paths, or the vCPU
 * thread inside hvx_vmx_run() with preemption or interrupts off.
 * Return: the field value.
 */
u64 hvx_vmx_read(struct hvx_vmx_vcpu *v, unsigned long field)
{
	u64 val;

	if (v->vmcs_current) {
		lockdep_assert_preemption_disabled();
		return vmcs_read(field);
	}
	preempt_disable();
	hvx_vmx_load(v);
	val = vmcs_read(field);
	hvx_vmx_unload();
	return val;
}

/**
 * hvx_vmx_write - VMWRITE with the vCPU's VMCS made current first
 * @v: the vCPU.
 * @field: field encoding.
 * @val: value.
 *
 * One VMWRITE where @v->vmcs_current says the VMCS is current (see
 * hvx_vmx_read()).
 * Context: as hvx_vmx_read().
 */
void hvx_vmx_write(struct hvx_vmx_vcpu *v, unsigned long field, u64 val)
{
	hvx_vmx_xfield_flush(v);	/* it may be one of them */
	if (v->vmcs_current) {
		lockdep_assert_preemption_disabled();
		vmcs_write(field, val);
		return;
	}
	preempt_disable();
	hvx_vmx_load(v);
	vmcs_write(field, val);
	hvx_vmx_unload();
}

/* VMCS fields of the cached registers, in enum hvx_reg order. */
static const unsigned long reg_fields[HVX_NR_REGS] = {
	[HVX_REG_RIP]		= GUEST_RIP,
	[HVX_REG_RSP]		= GUEST_RSP,
	[HVX_REG_RFLAGS]	= GUEST_RFLAGS,
	[HVX_REG_INTR]		= GUEST_INTERRUPTIBILITY_INFO,
};

/**
 * hvx_vmx_reg_load - read a guest register into the cache
 * @v: the vCPU; its own thread.
 * @reg: the register; not in @v->regs_avail (hvx_vmx_reg() checks).
 *
 * Context: process context, or interrupts off with the VMCS current.
 * Return: its value.
 */
u64 hvx_vmx_reg_load(struct hvx_vmx_vcpu *v, enum hvx_reg reg)
{
	u64 *p = hvx_vmx_reg_ptr(v, reg);

	/* The exit fast path and hvx_vmx_run(): no call for a VMREAD. */
	if (likely(v->vmcs_current))
		*p = vmcs_read(reg_fields[reg]);
	else
		*p = hvx_vmx_read(v, reg_fields[reg]);
	v->regs_avail |= BIT(reg);
	return *p;
}

/* VMCS fields of the per-exit cache, in enum hvx_xfield order. */
static const unsigned long xfield_fields[HVX_NR_XF] = {
	[HVX_XF_GPA]		= GUEST_PHYSICAL_ADDRESS,
	[HVX_XF_GLA]		= GUEST_LINEAR_ADDRESS,
	[HVX_XF_CS_AR]		= GUEST_CS_AR_BYTES,
	[HVX_XF_CS_BASE]	= GUEST_CS_BASE,
	[HVX_XF_SS_AR]		= GUEST_SS_AR_BYTES,
	[HVX_XF_CR3]		= GUEST_CR3,
};

/**
 * hvx_vmx_xfield_load - read a field of the per-exit cache
 * @v: the vCPU; its own thread.
 * @f: the field; not in @v->xf_avail (hvx_vmx_xfield() checks).
 *
 * Context: process context, or interrupts off with the VMCS current.
 * Return: its value.
 */
u64 hvx_vmx_xfield_load(struct hvx_vmx_vcpu *v, enum hvx_xfield f)
{
	v->xf[f] = hvx_vmx_read(v, xfield_fields[f]);
	v->xf_avail |= BIT(f);
	return v->xf[f];
}

/**
 * hvx_vmx_regs_cache - make RIP, RSP and RFLAGS plain fields of @v
 * @v: the vCPU; its own thread (or not running).
 * @dirty: the caller may change @v->rip, @v->rsp or @v->rflags directly:
 *	write back, before the next entry, those that then differ from
 *	what they are now.
 *
 * For slow paths (instruction emulation, register ioctls) that use the
 * fields rather than the accessors. The values are remembered once per
 * entry (the first call with @dirty), so that an MMIO instruction that
 * changes RIP alone costs one VMWRITE, not three.
 * Context: process context.
 */
void hvx_vmx_regs_cache(struct hvx_vmx_vcpu *v, bool dirty)
{
	hvx_vmx_rip(v);
	hvx_vmx_rsp(v);
	hvx_vmx_rflags(v);
	if (dirty && !(v->regs_dirty & HVX_REGS_CHECK)) {
		v->regs_seen[HVX_REG_RIP] = v->rip;
		v->regs_seen[HVX_REG_RSP] = v->rsp;
		v->regs_seen[HVX_REG_RFLAGS] = v->rflags;
		v->regs_dirty |= HVX_REGS_CHECK;
	}
}

/**
 * hvx_vmx_regs_flush - write the changed cached registers to the VMCS
 * @v: the vCPU, VMCS current, preemption off; right before an entry.
 */
void hvx_vmx_regs_flush(struct hvx_vmx_vcpu *v)
{
	u8 dirty = v->regs_dirty;

	if (likely(!dirty))
		return;
	if (dirty & HVX_REGS_CHECK) {
		/* A register already dirty is written whatever its value. */
		if (v->rip != v->regs_seen[HVX_REG_RIP])
			dirty |= BIT(HVX_REG_RIP);
		if (v->rsp != v->regs_seen[HVX_REG_RSP])
			dirty |= BIT(HVX_REG_RSP);
		if (v->rflags != v->regs_seen[HVX_REG_RFLAGS])
			dirty |= BIT(HVX_REG_RFLAGS);
	}
	/* Unrolled: a skip dirties RIP on every instruction exit. */
	BUILD_BUG_ON(HVX_NR_REGS != 4);
	if (dirty & BIT(HVX_REG_RIP))
		vmcs_write(GUEST_RIP, v->rip);
	if (dirty & BIT(HVX_REG_RSP))
		vmcs_write(GUEST_RSP, v->rsp);
	if (dirty & BIT(HVX_REG_RFLAGS))
		vmcs_write(GUEST_RFLAGS, v->rflags);
	if (dirty & BIT(HVX_REG_INTR))
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, v->intr_state);
	v->regs_dirty = 0;
}

/* VTPR: bits 7:4 of the TPR at offset 80H of the APIC page (SDM 30.1.1). */
#define VAPIC_TPR	0x80

/**
 * hvx_vmx_get_tpr - the guest's task-priority register
 * @v: the vCPU; its own thread (or not running).
 *
 * With the TPR shadow this is the VTPR byte the guest's MOV to CR8
 * writes without exits (SDM Vol. 3C 30.1.1); the in-kernel local APIC
 * uses the same byte as its TPR (SDM Vol. 3A 11.8.3.1, 11.8.6: CR8 is
 * TPR bits 7:4).
 * Return: the TPR, 0..255.
 */
u8 hvx_vmx_get_tpr(struct hvx_vmx_vcpu *v)
{
	return v->vapic ? READ_ONCE(v->vapic[VAPIC_TPR]) : v->tpr;
}

/**
 * hvx_vmx_set_tpr - set the guest's task-priority register
 * @v: the vCPU; its own thread (or not running).
 * @tpr: the new TPR.
 */
void hvx_vmx_set_tpr(struct hvx_vmx_vcpu *v, u8 tpr)
{
	if (v->vapic)
		WRITE_ONCE(v->vapic[VAPIC_TPR], tpr);
	else
		v->tpr = tpr;
	hvx_vmx_request_event(v);	/* the TPR gates interrupts */
}

/**
 * hvx_vmx_has_apic_access - can vCPUs virtualize APIC accesses?
 *
 * Return: true if the CPU has the "virtualize APIC accesses" control (SDM
 * Vol. 3C 25.6.2, 30.4) and the TPR shadow. With both, guest accesses to
 * the APIC-access page exit with the register offset in the
 * qualification, except TPR reads and writes, which the CPU performs on
 * the virtual-APIC page without an exit (30.4.1, 30.4.3).
 */
bool hvx_vmx_has_apic_access(void)
{
	return (hvx_caps.proc & CPU_BASED_TPR_SHADOW) &&
	       (hvx_caps.proc2_may & SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES);
}

/**
 * hvx_vmx_enable_apic_access - virtualize accesses to the APIC page
 * @v: the vCPU (not running).
 * @hpa: host-physical address of the APIC-access page, which EPT maps at
 *	the guest's xAPIC base; hvx_vmx_has_apic_access() must be true.
 *
 * Accesses that translate to @hpa become APIC-access exits (reason 44)
 * instead of EPT violations.
 */
void hvx_vmx_enable_apic_access(struct hvx_vmx_vcpu *v, u64 hpa)
{
	preempt_disable();
	hvx_vmx_load(v);
	vmcs_write(APIC_ACCESS_ADDR, hpa);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL,
		   vmcs_read(SECONDARY_VM_EXEC_CONTROL) |
		   SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES);
	hvx_vmx_unload();
	v->apic_access = true;
	v->stats.s.apic_assists |= HVX_STATS_APIC_ACCESS;
}

/**
 * hvx_vmx_get_cr8 - the guest's CR8 (task-priority class)
 * @v: the vCPU (not running).
 *
 * Return: 0..15, TPR bits 7:4.
 */
u8 hvx_vmx_get_cr8(struct hvx_vmx_vcpu *v)
{
	return hvx_vmx_get_tpr(v) >> 4;
}

/**
 * hvx_vmx_set_cr8 - set the guest's CR8
 * @v: the vCPU (not running).
 * @cr8: 0..15, checked by the caller; TPR bits 3:0 become 0 (SDM Vol. 3A
 *	11.8.6.1).
 */
void hvx_vmx_set_cr8(struct hvx_vmx_vcpu *v, u8 cr8)
{
	hvx_vmx_set_tpr(v, cr8 << 4);
}

/**
 * hvx_vmx_cr4_allowed - CR4 bits a guest may set
 *
 * Return: HVX_CR4_GUEST_BASE, plus OSXSAVE when guests get XSAVE and the
 * bits of hvx_caps.cr4_native (FSGSBASE, SMEP, SMAP, UMIP, PCIDE as the
 * host has them), limited to what the CPU allows in VMX operation
 * (IA32_VMX_CR4_FIXED1).
 */
u64 hvx_vmx_cr4_allowed(void)
{
	u64 allowed = HVX_CR4_GUEST_BASE;

	if (hvx_caps.guest_xcr0)
		allowed |= X86_CR4_OSXSAVE;
	allowed |= hvx_caps.cr4_native;
	return allowed & hvx_caps.cr4_fixed1;
}

/**
 * hvx_vmx_set_efer - set guest IA32_EFER and the IA-32e mode entry control
 * @v: the vCPU, VMCS current.
 * @efer: new value; LMA is recomputed as LME && CR0.PG (SDM Vol. 3A 9.8.5).
 */
void hvx_vmx_set_efer(struct hvx_vmx_vcpu *v, u64 efer)
{
	efer &= ~EFER_LMA;
	if ((efer & EFER_LME) && (v->cr0 & X86_CR0_PG))
		efer |= EFER_LMA;
	v->efer = efer;
	if (efer & EFER_LMA)
		v->entry_ctls |= VM_ENTRY_IA32E_MODE;
	else
		v->entry_ctls &= ~VM_ENTRY_IA32E_MODE;
	vmcs_write(GUEST_IA32_EFER, efer);
	vmcs_write(VM_ENTRY_CONTROLS, v->entry_ctls);
}

/**
 * hvx_vmx_set_cr0 - set guest CR0 (shadow and the value the CPU uses)
 * @v: the vCPU, VMCS current.
 * @cr0: the guest's value; the caller has checked it.
 *
 * The CPU always runs with CR0.NE set and CD/NW clear, plus the
 * IA32_VMX_CR0_FIXED0 bits other than PE/PG, which unrestricted guest
 * exempts (SDM Vol. 3C 26.3.1.1).
 */
void hvx_vmx_set_cr0(struct hvx_vmx_vcpu *v, u64 cr0)
{
	u64 hw = (cr0 & ~(X86_CR0_CD | X86_CR0_NW)) | X86_CR0_NE |
		 (hvx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG));

	/*
	 * MOV to CR0 changing PG, PE or WP flushes the TLB (SDM Vol. 3A
	 * 4.10.4.1); with a VPID nothing else would when hvx emulates it.
	 */
	v->flush_tlb = true;
	v->cr0 = cr0;
	vmcs_write(CR0_READ_SHADOW, cr0);
	vmcs_write(GUEST_CR0, hw & hvx_caps.cr0_fixed1);
	hvx_vmx_set_efer(v, v->efer);
}

/**
 * hvx_vmx_set_cr4 - set guest CR4 (shadow and the value the CPU uses)
 * @v: the vCPU, VMCS current.
 * @cr4: the guest's value; the caller has checked it.
 */
void hvx_vmx_set_cr4(struct hvx_vmx_vcpu *v, u64 cr4)
{
	v->flush_tlb = true;	/* PGE, PAE, PSE changes flush (4.10.4.1) */
	v->cr4 = cr4;
	vmcs_write(CR4_READ_SHADOW, cr4);
	vmcs_write(GUEST_CR4, (cr4 | hvx_caps.cr4_fixed0) & hvx_caps.cr4_fixed1);
}

/* Field encodings of one segment register. */
struct seg_fields {
	u16 sel, base, limit, ar;
};

#define SEG_FIELDS(seg)							\
	{ GUEST_##seg##_SELECTOR, GUEST_##seg##_BASE, GUEST_##seg##_LIMIT,	\
	  GUEST_##seg##_AR_BYTES }

static const struct seg_fields seg_cs = SEG_FIELDS(CS);
static const struct seg_fields seg_ds = SEG_FIELDS(DS);
static const struct seg_fields seg_es = SEG_FIELDS(ES);
static const struct seg_fields seg_fs = SEG_FIELDS(FS);
static const struct seg_fields seg_gs = SEG_FIELDS(GS);
static const struct seg_fields seg_ss = SEG_FIELDS(SS);
static const struct seg_fields seg_tr = SEG_FIELDS(TR);
static const struct seg_fields seg_ldtr = SEG_FIELDS(LDTR);

/* Access-rights format: SDM Vol. 3C 25.4.1, Table 25-2. */
static u32 seg_to_ar(const struct hvx_segment *s)
{
	if (s->unusable)
		return VMX_AR_UNUSABLE_MASK;
	return s->type | (s->s << 4) | (s->dpl << 5) | (s->present << 7) |
	       (s->avl << 12) | (s->l << 13) | (s->db << 14) | (s->g << 15);
}

static void write_seg(const struct seg_fields *f, const struct hvx_segment *s)
{
	vmcs_write(f->sel, s->selector);
	vmcs_write(f->base, s->base);
	vmcs_write(f->limit, s->limit);
	vmcs_write(f->ar, seg_to_ar(s));
}

static void read_seg(const struct seg_fields *f, struct hvx_segment *s)
{
	u32 ar = vmcs_read(f->ar);

	memset(s, 0, sizeof(*s));
	s->selector = vmcs_read(f->sel);
	s->base = vmcs_read(f->base);
	s->limit = vmcs_read(f->limit);
	s->type = ar & 0xf;
	s->s = (ar >> 4) & 1;
	s->dpl = (ar >> 5) & 3;
	s->present = (ar >> 7) & 1;
	s->avl = (ar >> 12) & 1;
	s->l = (ar >> 13) & 1;
	s->db = (ar >> 14) & 1;
	s->g = (ar >> 15) & 1;
	s->unusable = (ar >> 16) & 1;
}

static void set_reset_state(struct hvx_vmx_vcpu *v)
{
	struct hvx_segment code = {
		.selector = 0xf000, .base = 0xffff0000, .limit = 0xffff,
		.type = 0xb, .s = 1, .present = 1,
	};
	struct hvx_segment data = {
		.limit = 0xffff, .type = 0x3, .s = 1, .present = 1,
	};
	struct hvx_segment ldtr = { .limit = 0xffff, .type = 0x2, .present = 1 };
	struct hvx_segment tr = { .limit = 0xffff, .type = 0xb, .present = 1 };

	write_seg(&seg_cs, &code);
	write_seg(&seg_ds, &data);
	write_seg(&seg_es, &data);
	write_seg(&seg_fs, &data);
	write_seg(&seg_gs, &data);
	write_seg(&seg_ss, &data);
	write_seg(&seg_ldtr, &ldtr);
	write_seg(&seg_tr, &tr);
	hvx_vmx_xfield_flush(v);
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_CR3, 0);
	vmcs_write(GUEST_DR7, HVX_DR7_FIXED_1);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	if (hvx_caps.entry & VM_ENTRY_LOAD_IA32_PAT)
		vmcs_write(GUEST_IA32_PAT, PAT_RESET);
	vmcs_write(GUEST_ACTIVITY_STATE, 0);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	v->intr_state = 0;
	v->regs_avail |= BIT(HVX_REG_INTR);
	v->regs_dirty &= ~BIT(HVX_REG_INTR);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VMCS_LINK_POINTER, -1ULL);

	v->efer = 0;
	hvx_vmx_set_cr0(v, X86_CR0_ET | X86_CR0_CD | X86_CR0_NW);
	hvx_vmx_set_cr4(v, 0);
	hvx_vmx_reg_set(v, HVX_REG_RIP, 0xfff0);
	hvx_vmx_reg_set(v, HVX_REG_RFLAGS, X86_EFLAGS_FIXED);
	hvx_vmx_reg_set(v, HVX_REG_RSP, 0);
	memset(v->dr, 0, sizeof(v->dr));	/* DR0-3 are 0 (Table 10-1) */
	v->dr[4] = HVX_DR6_FIXED_1;
	v->dr_armed = false;
	v->gprs[HVX_RDX] = cpuid_eax(1);	/* processor signature */
	v->msr.apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
			   (v->id == 0 ? MSR_IA32_APICBASE_BSP : 0);
	v->msr.misc_enable = hvx_caps.fast_string ?
			     MSR_IA32_MISC_ENABLE_FAST_STRING : 0;
	/*
	 * FNINIT control word and the MXCSR reset value (SDM Vol. 1 8.1.1,
	 * 10.2.3.1) at their FXSAVE offsets; XSTATE_BV = 0 in the XSAVE
	 * header makes XRSTOR start every component in its initial state.
	 */
	*(u16 *)&v->fpu[0] = 0x37f;
	*(u32 *)&v->fpu[24] = 0x1f80;
	v->xcr0 = XFEATURE_MASK_FP;
	hvx_vmx_request_event(v);	/* evaluate interrupts at first entry */
}

static void setup_controls(struct hvx_vmx_vcpu *v)
{
	u64 efer, pat;
	struct desc_ptr idt;

	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, hvx_caps.pin);
	v->proc_ctls = hvx_caps.proc;
	/* The VM's I/O bitmaps, all ones until a port is passed through. */
	if (v->vm->io_bitmap) {
		vmcs_write(IO_BITMAP_A, __pa(v->vm->io_bitmap));
		vmcs_write(IO_BITMAP_B, __pa(v->vm->io_bitmap) + PAGE_SIZE);
		v->proc_ctls = (v->proc_ctls & ~CPU_BASED_UNCOND_IO_EXITING) |
			       CPU_BASED_USE_IO_BITMAPS;
	}
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, v->proc_ctls);
	/* No VPID left for this vCPU (hvx_vpid_alloc()): run without. */
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, hvx_caps.proc2 &
		   ~(v->vpid ? 0 : SECONDARY_EXEC_ENABLE_VPID));
	vmcs_write(VM_EXIT_CONTROLS, hvx_caps.exit);
	v->entry_ctls = hvx_caps.entry;
	vmcs_write(VM_ENTRY_CONTROLS, v->entry_ctls);
	vmcs_write(EXCEPTION_BITMAP, HVX_EXCEPTION_BITMAP);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write(TSC_OFFSET, 0);
	if (hvx_caps.proc & CPU_BASED_USE_MSR_BITMAPS)
		vmcs_write(MSR_BITMAP, __pa(hvx_msr_bitmap));
	v->msr_bitmap_key = ~0u;	/* the first entry updates it */
	if (v->vapic) {
		vmcs_write(VIRTUAL_APIC_PAGE_ADDR, __pa(v->vapic));
		vmcs_write(TPR_THRESHOLD, 0);	/* no TPR-below-threshold exits */
		v->tpr_threshold = 0;
	}
	if (v->vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, v->vpid);
	vmcs_write(EPT_POINTER, v->mem->eptp);
	/* PAUSE-loop exiting: a spinning vCPU exits (vmx.h, HVX_PLE_*). */
	if (hvx_caps.proc2 & SECONDARY_EXEC_PAUSE_LOOP_EXITING) {
		vmcs_write(PLE_GAP, HVX_PLE_GAP);
		vmcs_write(PLE_WINDOW, HVX_PLE_WINDOW);
		v->ple_window = HVX_PLE_WINDOW;
	}
	vmcs_write(CR0_GUEST_HOST_MASK, CR0_OWNED);
	vmcs_write(CR4_GUEST_HOST_MASK, ~0UL);

	/* Host state that is the same on every CPU (SDM Vol. 3C 25.5). */
	vmcs_write(HOST_CR0, read_cr0());
	vmcs_write(HOST_CR3, __read_cr3());
	vmcs_write(HOST_CR4, cr4_read_shadow());
	v->timer_reload = true;
	vmcs_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write(HOST_DS_SELECTOR, 0);
	vmcs_write(HOST_ES_SELECTOR, 0);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	store_idt(&idt);
	vmcs_write(HOST_IDTR_BASE, idt.address);
	vmcs_write(HOST_RIP, (unsigned long)hvx_vmx_exit);
	rdmsrq(MSR_IA32_SYSENTER_CS, efer);
	vmcs_write(HOST_IA32_SYSENTER_CS, (u32)efer);
	rdmsrq(MSR_IA32_SYSENTER_EIP, efer);
	vmcs_write(HOST_IA32_SYSENTER_EIP, efer);
	rdmsrq(MSR_EFER, efer);
	vmcs_write(HOST_IA32_EFER, efer);
	if (hvx_caps.exit & VM_EXIT_LOAD_IA32_PAT) {
		rdmsrq(MSR_IA32_CR_PAT, pat);
		vmcs_write(HOST_IA32_PAT, pat);
	}
}

/**
 * hvx_vmx_vcpu_create - allocate and initialise a vCPU's VMCS
 * @v: zeroed vCPU state.
 * @vm: the VM's VMX state (its memory gives the EPT pointer).
 * @id: vCPU id; vCPU 0 is the bootstrap processor.
 * @run: the shared run page.
 * @io_data: the shared I/O data page.
 *
 * Context: process context; VMX root mode held (hvx_vmx_get()).
 * Return: 0 or -ENOMEM.
 */
int hvx_vmx_vcpu_create(struct hvx_vmx_vcpu *v, struct hvx_vmx_vm *vm, u32 id,
			struct hvx_run *run, void *io_data)
{
	if (!zalloc_cpumask_var(&v->wbinvd_dirty, GFP_KERNEL_ACCOUNT))
		return -ENOMEM;
	v->vmcs = hvx_vmx_alloc_vmcs();
	if (!v->vmcs) {
		free_cpumask_var(v->wbinvd_dirty);
		return -ENOMEM;
	}
	v->cpu = -1;
	INIT_LIST_HEAD(&v->loaded_node);
	v->id = id;
	v->vm = vm;
	v->mem = vm->mem;
	v->run = run;
	v->io_data = io_data;
	if (hvx_caps.proc & CPU_BASED_TPR_SHADOW) {
		v->vapic = (u8 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!v->vapic) {
			free_page((unsigned long)v->vmcs);
			v->vmcs = NULL;
			free_cpumask_var(v->wbinvd_dirty);
			return -ENOMEM;
		}
	}
	v->vpid = hvx_vpid_alloc();
	v->irq_vector = -1;
	memset(v->mmio_hint, 0xff, sizeof(v->mmio_hint));
	v->guest_cpu = -1;
	init_waitqueue_head(&v->wq);
	hvx_vmx_cpuid_default(v->cpuid, &v->cpuid_nent, id);
	v->cpuid_default = true;
	hvx_vmx_cpuid_pv_init(v);

	preempt_disable();
	hvx_vmx_load(v);
	setup_controls(v);
	set_reset_state(v);
	hvx_vmx_unload();
	return 0;
}

/**
 * hvx_vmx_reset - put the vCPU in its INIT state (SDM Vol. 3A 10.1.1)
 * @v: the vCPU; called by its own thread.
 *
 * Registers as at reset; events waiting for delivery are dropped.
 */
void hvx_vmx_reset(struct hvx_vmx_vcpu *v)
{
	preempt_disable();
	hvx_vmx_load(v);
	set_reset_state(v);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	hvx_vmx_unload();
	v->reinject_info = 0;
	v->pending = HVX_PENDING_NONE;
}

/**
 * hvx_vmx_vcpu_destroy - clear and free a vCPU's VMCS and VPID
 * @v: the vCPU; no thread may be running it.
 *
 * Context: process context; VMX root mode still held.
 */
void hvx_vmx_vcpu_destroy(struct hvx_vmx_vcpu *v)
{
	if (!v->vmcs)
		return;
	hvx_vmx_clear(v);
	hvx_vmx_run_destroy(v);
	hvx_vpid_free(v->mem, v->vpid);
	hvx_vmx_apicv_destroy(v);
	free_page((unsigned long)v->vmcs);
	free_page((unsigned long)v->vapic);
	free_cpumask_var(v->wbinvd_dirty);
	v->vmcs = NULL;
	v->vapic = NULL;
}

/**
 * hvx_vmx_get_regs - read the guest GPRs, RIP and RFLAGS
 * @v: the vCPU (not running).
 * @regs: output.
 */
void hvx_vmx_get_regs(struct hvx_vmx_vcpu *v, struct hvx_regs *regs)
{
	const unsigned long *g = v->gprs;

	hvx_vmx_regs_cache(v, false);
	*regs = (struct hvx_regs) {
		.rax = g[HVX_RAX], .rbx = g[HVX_RBX], .rcx = g[HVX_RCX],
		.rdx = g[HVX_RDX], .rsi = g[HVX_RSI], .rdi = g[HVX_RDI],
		.rsp = v->rsp, .rbp = g[HVX_RBP],
		.r8 = g[HVX_R8], .r9 = g[HVX_R9], .r10 = g[HVX_R10],
		.r11 = g[HVX_R11], .r12 = g[HVX_R12], .r13 = g[HVX_R13],
		.r14 = g[HVX_R14], .r15 = g[HVX_R15],
		.rip = v->rip, .rflags = v->rflags,
	};
}

/**
 * hvx_vmx_set_regs - write the guest GPRs, RIP and RFLAGS
 * @v: the vCPU (not running).
 * @regs: new values; RFLAGS is checked at VM entry, not here.
 */
void hvx_vmx_set_regs(struct hvx_vmx_vcpu *v, const struct hvx_regs *regs)
{
	unsigned long *g = v->gprs;

	g[HVX_RAX] = regs->rax;
	g[HVX_RBX] = regs->rbx;
	g[HVX_RCX] = regs->rcx;
	g[HVX_RDX] = regs->rdx;
	g[HVX_RSI] = regs->rsi;
	g[HVX_RDI] = regs->rdi;
	g[HVX_RBP] = regs->rbp;
	g[HVX_R8] = regs->r8;
	g[HVX_R9] = regs->r9;
	g[HVX_R10] = regs->r10;
	g[HVX_R11] = regs->r11;
	g[HVX_R12] = regs->r12;
	g[HVX_R13] = regs->r13;
	g[HVX_R14] = regs->r14;
	g[HVX_R15] = regs->r15;
	hvx_vmx_reg_set(v, HVX_REG_RSP, regs->rsp);
	hvx_vmx_reg_set(v, HVX_REG_RIP, regs->rip);
	hvx_vmx_reg_set(v, HVX_REG_RFLAGS, regs->rflags);
	hvx_vmx_request_event(v);	/* RFLAGS.IF may have changed */
}

/**
 * hvx_vmx_get_sregs - read segments, descriptor tables and control registers
 * @v: the vCPU (not running).
 * @s: output; CR0/CR4 are the guest's view.
 */
void hvx_vmx_get_sregs(struct hvx_vmx_vcpu *v, struct hvx_sregs *s)
{
	memset(s, 0, sizeof(*s));
	preempt_disable();
	hvx_vmx_load(v);
	read_seg(&seg_cs, &s->cs);
	read_seg(&seg_ds, &s->ds);
	read_seg(&seg_es, &s->es);
	read_seg(&seg_fs, &s->fs);
	read_seg(&seg_gs, &s->gs);
	read_seg(&seg_ss, &s->ss);
	read_seg(&seg_tr, &s->tr);
	read_seg(&seg_ldtr, &s->ldt);
	s->gdt.base = vmcs_read(GUEST_GDTR_BASE);
	s->gdt.limit = vmcs_read(GUEST_GDTR_LIMIT);
	s->idt.base = vmcs_read(GUEST_IDTR_BASE);
	s->idt.limit = vmcs_read(GUEST_IDTR_LIMIT);
	s->cr3 = vmcs_read(GUEST_CR3);
	hvx_vmx_unload();
	s->cr0 = v->cr0;
	s->cr2 = v->cr2;
	s->cr4 = v->cr4;
	s->cr8 = hvx_vmx_get_cr8(v);
	s->efer = v->efer;
	s->apic_base = v->msr.apic_base;
}

static bool seg_valid(const struct hvx_segment *s)
{
	return s->type <= 0xf && s->present <= 1 && s->dpl <= 3 &&
	       s->db <= 1 && s->s <= 1 && s->l <= 1 && s->g <= 1 &&
	       s->avl <= 1 && s->unusable <= 1 &&
	       !s->padding[0] && !s->padding[1];
}

static int sregs_validate(const struct hvx_sregs *s)
{
	const struct hvx_segment *segs[] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};
	u64 cr4_allowed = hvx_vmx_cr4_allowed();
	int i;

	for (i = 0; i < ARRAY_SIZE(segs); i++)
		if (!seg_valid(segs[i]))
			return -EINVAL;
	for (i = 0; i < 3; i++)
		if (s->gdt.padding[i] || s->idt.padding[i])
			return -EINVAL;
	if (s->cr0 >> 32 || ((s->cr0 & X86_CR0_PG) && !(s->cr0 & X86_CR0_PE)))
		return -EINVAL;
	if (s->cr4 & ~cr4_allowed)
		return -EINVAL;
	if (s->cr8 > 15 || (s->efer & ~HVX_EFER_ALLOWED))
		return -EINVAL;
	if (!!(s->efer & EFER_LMA) !=
	    ((s->efer & EFER_LME) && (s->cr0 & X86_CR0_PG)))
		return -EINVAL;
	if ((s->efer & EFER_LMA) && !(s->cr4 & X86_CR4_PAE))
		return -EINVAL;
	/* PCIDE only in IA-32e mode (SDM Vol. 3A 4.10.1). */
	if ((s->cr4 & X86_CR4_PCIDE) && !(s->efer & EFER_LMA))
		return -EINVAL;
	if (s->apic_base >> boot_cpu_data.x86_phys_bits)
		return -EINVAL;
	return 0;
}

/**
 * hvx_vmx_set_sregs - write segments, descriptor tables, control registers
 * @v: the vCPU (not running).
 * @s: new values (see struct hvx_sregs for the rules).
 *
 * The reserved tail was checked by the ioctl dispatcher (kmod/ioctl.c).
 * Return: 0, or -EINVAL with nothing changed: bad segment fields, nonzero
 * descriptor-table padding, CR0 bits 63:32 or PG without PE, CR4 bits the guest may
 * not set (VMXE, SMXE, OSXSAVE, ...), CR8 > 15, unknown EFER bits,
 * EFER.LMA != (LME && PG), long mode without PAE, PDPTEs not readable
 * for PAE paging.
 */
int hvx_vmx_set_sregs(struct hvx_vmx_vcpu *v, const struct hvx_sregs *s)
{
	bool pae_paging = (s->cr0 & X86_CR0_PG) && (s->cr4 & X86_CR4_PAE) &&
			  !(s->efer & EFER_LMA);
	int ret;

	ret = sregs_validate(s);
	if (ret)
		return ret;

	preempt_disable();
	hvx_vmx_load(v);
	write_seg(&seg_cs, &s->cs);
	write_seg(&seg_ds, &s->ds);
	write_seg(&seg_es, &s->es);
	write_seg(&seg_fs, &s->fs);
	write_seg(&seg_gs, &s->gs);
	write_seg(&seg_ss, &s->ss);
	write_seg(&seg_tr, &s->tr);
	write_seg(&seg_ldtr, &s->ldt);
	hvx_vmx_xfield_flush(v);
	vmcs_write(GUEST_GDTR_BASE, s->gdt.base);
	vmcs_write(GUEST_GDTR_LIMIT, s->gdt.limit);
	vmcs_write(GUEST_IDTR_BASE, s->idt.base);
	vmcs_write(GUEST_IDTR_LIMIT, s->idt.limit);
	vmcs_write(GUEST_CR3, s->cr3);
	v->efer = s->efer;
	hvx_vmx_set_cr0(v, s->cr0);
	hvx_vmx_set_cr4(v, s->cr4);
	hvx_vmx_unload();
	v->cr2 = s->cr2;
	hvx_vmx_set_cr8(v, s->cr8);	/* requests an interrupt evaluation */
	v->msr.apic_base = s->apic_base;
	if (pae_paging)
		return hvx_vmx_load_pdptrs(v, s->cr3) ? -EINVAL : 0;
	return 0;
}
