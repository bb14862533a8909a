// SPDX-License-Identifier: GPL-2.0
/*
 * msr.c - RDMSR and WRMSR exits.
 *
 * The MSR bitmap (vmx.c) lets FS/GS base and the SYSENTER MSRs through;
 * every other RDMSR/WRMSR exits (SDM Vol. 3C 26.1.3). MSRs with a VMCS
 * field go there; STAR, LSTAR, SFMASK, KERNEL_GS_BASE and TSC_AUX are
 * kept in software and loaded into the CPU for a whole run (run.c; reads
 * of the SYSCALL MSRs and all KERNEL_GS_BASE accesses then go to the CPU
 * without exits); CSTAR, unused by Intel CPUs, is software only;
 * everything else raises #GP(0) in the guest, as on a
 * CPU without that MSR, or exits to userspace if the VM asked for that.
 * Guest MTRRs are kept but not applied: RAM stays write-back in EPT.
 * The KVM paravirtual MSRs (kvmclock, steal time, PV EOI) are pvmsr.c's.
 * MSR numbers: SDM Vol. 4, Table 2-2.
 *
 * The guest sees the host's speculation controls as far as they hold for
 * it: IA32_PRED_CMD (IBPB) and IA32_FLUSH_CMD (L1D flush) are written
 * directly, without exits, where the host has them (the MSR bitmap; both
 * are write-only commands whose only effect is on the CPU's own predictor
 * and cache state); IA32_ARCH_CAPABILITIES is synthesized from the host's
 * (arch_capabilities()).
 */
#include <linux/mutex.h>
#include <asm/apicdef.h>
#include <asm/msr.h>
#include <asm/msr-index.h>

#include <asm/trapnr.h>
#include <asm/cpufeature.h>

#include "vmx.h"

/*
 * Copies of the module-wide MSR bitmaps (hvx_msr_bitmap, then
 * hvx_msr_bitmap_long) that let IA32_SPEC_CTRL through, made on the first
 * guest write that asks for it; NULL before. Published with
 * smp_store_release() under spec_bitmaps_lock.
 */
static void *spec_bitmaps[2];
static DEFINE_MUTEX(spec_bitmaps_lock);

/* Clear the read and write intercepts of @msr (SDM Vol. 3C 25.6.9). */
static void spec_bitmap_pass(u8 *bitmap, u32 msr)
{
	__clear_bit(msr, (unsigned long *)bitmap);
	__clear_bit(msr, (unsigned long *)(bitmap + 2048));
}

/* Make spec_bitmaps[]; false if the CPU has no MSR bitmaps or no memory. */
static bool spec_bitmaps_get(void)
{
	const void *src[2] = { hvx_msr_bitmap, hvx_msr_bitmap_long };
	void *b[2] = { NULL, NULL };
	int i;

	/* Pairs with the release below: a set [0] means both pages are filled. */
	if (smp_load_acquire(&spec_bitmaps[0]))
		return true;
	if (!hvx_msr_bitmap)
		return false;
	mutex_lock(&spec_bitmaps_lock);
	if (spec_bitmaps[0])
		goto out;
	for (i = 0; i < 2; i++) {
		if (!src[i])
			continue;
		b[i] = (void *)__get_free_page(GFP_KERNEL);
		if (!b[i])
			goto fail;
		memcpy(b[i], src[i], PAGE_SIZE);
		spec_bitmap_pass(b[i], MSR_IA32_SPEC_CTRL);
	}
	spec_bitmaps[1] = b[1];
	/* [1] and both pages' contents are visible before [0] is. */
	smp_store_release(&spec_bitmaps[0], b[0]);
out:
	mutex_unlock(&spec_bitmaps_lock);
	return true;
fail:
	mutex_unlock(&spec_bitmaps_lock);
	free_page((unsigned long)b[0]);
	return false;
}

/**
 * hvx_vmx_spec_bitmap - the MSR bitmap with IA32_SPEC_CTRL let through
 * @lng: the variant that also lets the SYSCALL MSRs through.
 *
 * Context: a vCPU with spec_ctrl_direct set, so the bitmaps exist.
 * Return: the bitmap, or NULL when @lng is asked and the CPU has none.
 */
const void *hvx_vmx_spec_bitmap(bool lng)
{
	return spec_bitmaps[lng];
}

/**
 * hvx_vmx_spec_bitmaps_free - free the SPEC_CTRL bitmaps
 *
 * Context: module unload; no vCPU exists.
 */
void hvx_vmx_spec_bitmaps_free(void)
{
	free_page((unsigned long)spec_bitmaps[0]);
	free_page((unsigned long)spec_bitmaps[1]);
	spec_bitmaps[0] = NULL;
	spec_bitmaps[1] = NULL;
}

/*
 * IA32_ARCH_CAPABILITIES bits (SDM Vol. 4 Table 2-2) that describe the
 * CPU's own behaviour and so hold inside a guest as outside: "not
 * affected" and "the mitigation instruction works" bits, and RSBA/RRSBA
 * (which tell the guest to mitigate). Not passed: bits that announce MSRs
 * hvx does not give guests (TSX_CTRL, FB_CLEAR_CTRL, GDS_CTRL, ...) and
 * SKIP_VMENTRY_L1DFLUSH, which only a nested hypervisor would read.
 */
#define ARCH_CAP_FROM_HOST (ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL |	\
			    ARCH_CAP_RSBA | ARCH_CAP_SSB_NO |		\
			    ARCH_CAP_MDS_NO | ARCH_CAP_PSCHANGE_MC_NO |	\
			    ARCH_CAP_TAA_NO | ARCH_CAP_SBDR_SSDP_NO |	\
			    ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO |	\
			    ARCH_CAP_FB_CLEAR | ARCH_CAP_RRSBA |	\
			    ARCH_CAP_BHI_NO | ARCH_CAP_PBRSB_NO |	\
			    ARCH_CAP_GDS_NO | ARCH_CAP_RFDS_NO |	\
			    ARCH_CAP_RFDS_CLEAR)

/*
 * The guest's IA32_ARCH_CAPABILITIES, as KVM synthesizes it: the host's
 * bits of ARCH_CAP_FROM_HOST, plus the "not affected" bits the kernel
 * knows to be true from its own vulnerability list (older CPUs whose MSR
 * predates a bit). Only called when the host has the MSR.
 */
static u64 arch_capabilities(void)
{
	u64 host, val;

	if (rdmsrq_safe(MSR_IA32_ARCH_CAPABILITIES, &host))
		host = 0;
	val = host & ARCH_CAP_FROM_HOST;
	if (!boot_cpu_has_bug(X86_BUG_CPU_MELTDOWN))
		val |= ARCH_CAP_RDCL_NO;
	if (!boot_cpu_has_bug(X86_BUG_SPEC_STORE_BYPASS))
		val |= ARCH_CAP_SSB_NO;
	if (!boot_cpu_has_bug(X86_BUG_MDS))
		val |= ARCH_CAP_MDS_NO;
	if (!boot_cpu_has_bug(X86_BUG_GDS))
		val |= ARCH_CAP_GDS_NO;
	/* Without TSX there is no TAA to rule out (the guest sees no RTM). */
	if (!boot_cpu_has(X86_FEATURE_RTM))
		val &= ~ARCH_CAP_TAA_NO;
	else if (!boot_cpu_has_bug(X86_BUG_TAA))
		val |= ARCH_CAP_TAA_NO;
	return val;
}

/* Can a guest write IA32_FLUSH_CMD (CPUID.7.0:EDX.FLUSH_L1D)? */
static bool has_flush_cmd(void)
{
	return boot_cpu_has(X86_FEATURE_FLUSH_L1D);
}

static void msr_write_passthrough(u8 *bitmap, u32 msr)
{
	/* Write bitmap for MSRs 0..1fffH at byte 2048 (SDM Vol. 3C 25.6.9). */
	__clear_bit(msr, (unsigned long *)(bitmap + 2048));
}

/**
 * hvx_vmx_msr_bitmap_cmds - let guests write the command MSRs directly
 * @bitmap: an MSR bitmap page being set up (module load), all MSRs
 *	intercepted but those vmx.c passes through.
 *
 * WRMSR of IA32_PRED_CMD and IA32_FLUSH_CMD then runs natively: the CPU
 * checks the value (#GP for reserved bits) and performs the barrier or
 * flush, as on the host, without a VM exit. Only where the host has the
 * MSR; reads stay intercepted (#GP: both are write-only).
 */
void hvx_vmx_msr_bitmap_cmds(u8 *bitmap)
{
	if (hvx_caps.ibpb)
		msr_write_passthrough(bitmap, MSR_IA32_PRED_CMD);
	if (has_flush_cmd())
		msr_write_passthrough(bitmap, MSR_IA32_FLUSH_CMD);
}

/* PAT entries must be UC, WC, WT, WP, WB or UC- (SDM Vol. 3A 12.12.2). */
static bool pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = (pat >> (i * 8)) & 0xff;

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

/* MTRRs (SDM Vol. 3A 12.11): 8 variable ranges, fixed ranges, WC. */
#define MTRR_CAP_VALUE		(8 | BIT(8) | BIT(10))
#define MTRR_VAR_FIRST		0x200
#define MTRR_VAR_LAST		0x20f

static bool mtrr_type_ok(u8 type)
{
	return type == 0 || type == 1 || type == 4 || type == 5 || type == 6;
}

/* Index into msr.mtrr_fixed[], or -1 (SDM Vol. 3A 12.11.2.2, Table 12-9). */
static int mtrr_fixed_index(u32 index)
{
	if (index == 0x250)
		return 0;
	if (index == 0x258 || index == 0x259)
		return index - 0x258 + 1;
	if (index >= 0x268 && index <= 0x26f)
		return index - 0x268 + 3;
	return -1;
}

static bool mtrr_value_ok(u32 index, u64 val)
{
	u64 above = GENMASK_ULL(63, boot_cpu_data.x86_phys_bits);
	int i;

	if (index == MSR_MTRRdefType)
		return !(val & ~(0xffULL | BIT(10) | BIT(11))) &&
		       mtrr_type_ok(val & 0xff);
	if (mtrr_fixed_index(index) >= 0) {
		for (i = 0; i < 8; i++)
			if (!mtrr_type_ok(val >> (8 * i)))
				return false;
		return true;
	}
	if (index & 1)		/* PHYSMASKn: bits 10:0 reserved, 11 valid */
		return !(val & (GENMASK_ULL(10, 0) | above));
	return !(val & (GENMASK_ULL(11, 8) | above)) && mtrr_type_ok(val & 0xff);
}

/* MSRs of the local APIC (SDM Vol. 4 Table 2-2; Vol. 3A 11.12.1.2). */
static bool apic_msr(struct hvx_vmx_vcpu *v, u32 index)
{
	return v->apic_ops &&
	       (index == MSR_IA32_APICBASE || index == MSR_IA32_TSC_DEADLINE ||
		(index >= APIC_BASE_MSR && index <= APIC_BASE_MSR + 0xff));
}

/* The in-kernel APIC's answer: 0, -EINVAL (#GP) or -ENOENT (not its). */
static int apic_msr_op(struct hvx_vmx_vcpu *v, u32 index, enum hvx_msr_op op,
		       u64 *val)
{
	if (!apic_msr(v, index))
		return -ENOENT;
	return v->apic_ops->msr(v, index, op, val);
}

static int msr_read(struct hvx_vmx_vcpu *v, u32 index, u64 *val)
{
	int fixed = mtrr_fixed_index(index);
	int ret = apic_msr_op(v, index, HVX_MSR_READ, val);

	if (ret != -ENOENT)
		return ret ? -1 : 0;
	if (hvx_vmx_pv_msr(index))
		return hvx_vmx_pv_msr_read(v, index, val) ? -1 : 0;

	if (fixed >= 0) {
		*val = v->msr.mtrr_fixed[fixed];
		return 0;
	}
	if (index >= MTRR_VAR_FIRST && index <= MTRR_VAR_LAST) {
		*val = v->msr.mtrr_var[index - MTRR_VAR_FIRST];
		return 0;
	}
	switch (index) {
	case MSR_MTRRcap:
		*val = MTRR_CAP_VALUE;
		break;
	case MSR_MTRRdefType:
		*val = v->msr.mtrr_def_type;
		break;
	case MSR_IA32_TSC_ADJUST:
		*val = v->msr.tsc_adjust;
		break;
	case MSR_TSC_AUX:
		*val = v->msr.tsc_aux;
		break;
	case MSR_IA32_MCG_CAP:		/* no machine-check banks */
		*val = 0;
		break;
	case MSR_IA32_MCG_STATUS:
		*val = v->msr.mcg_status;
		break;
	case MSR_IA32_DEBUGCTLMSR:	/* loaded by VM entry, saved by exit */
		*val = hvx_vmx_read(v, GUEST_IA32_DEBUGCTL);
		break;
	case MSR_IA32_FEAT_CTL:		/* locked, VMX off: no nested VMX */
		*val = FEAT_CTL_LOCKED;
		break;
	case MSR_IA32_UCODE_REV:
	case MSR_IA32_PLATFORM_ID:
		*val = 0;
		break;
	case MSR_IA32_SPEC_CTRL:
		if (!hvx_caps.spec_ctrl)
			return -1;
		*val = v->msr.spec_ctrl;
		break;
	case MSR_IA32_ARCH_CAPABILITIES:	/* read-only */
		if (!boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
			return -1;
		*val = arch_capabilities();
		break;
	case MSR_EFER:
		*val = v->efer;
		break;
	case MSR_STAR:
		*val = v->msr.star;
		break;
	case MSR_LSTAR:
		*val = v->msr.lstar;
		break;
	case MSR_CSTAR:
		*val = v->msr.cstar;
		break;
	case MSR_SYSCALL_MASK:
		*val = v->msr.sfmask;
		break;
	case MSR_KERNEL_GS_BASE:
		*val = hvx_vmx_kernel_gs_base(v, false, 0);
		break;
	case MSR_FS_BASE:
		*val = hvx_vmx_read(v, GUEST_FS_BASE);
		break;
	case MSR_GS_BASE:
		*val = hvx_vmx_read(v, GUEST_GS_BASE);
		break;
	case MSR_IA32_SYSENTER_CS:
		*val = hvx_vmx_read(v, GUEST_SYSENTER_CS);
		break;
	case MSR_IA32_SYSENTER_ESP:
		*val = hvx_vmx_read(v, GUEST_SYSENTER_ESP);
		break;
	case MSR_IA32_SYSENTER_EIP:
		*val = hvx_vmx_read(v, GUEST_SYSENTER_EIP);
		break;
	case MSR_IA32_CR_PAT:
		if (!(hvx_caps.entry & VM_ENTRY_LOAD_IA32_PAT))
			return -1;
		*val = hvx_vmx_read(v, GUEST_IA32_PAT);
		break;
	case MSR_IA32_TSC:
		*val = rdtsc() + v->msr.tsc_offset;
		break;
	case MSR_IA32_APICBASE:
		*val = v->msr.apic_base;
		break;
	case MSR_IA32_MISC_ENABLE:
		*val = v->msr.misc_enable;
		break;
	default:
		return -1;
	}
	return 0;
}

/* Would the CPU accept @val in MSR @index? (SDM Vol. 4, Table 2-2) */
static bool msr_value_ok(struct hvx_vmx_vcpu *v, u32 index, u64 val)
{
	int ret = apic_msr_op(v, index, HVX_MSR_CHECK, &val);

	if (ret != -ENOENT)
		return !ret;
	if (hvx_vmx_pv_msr(index))
		return hvx_vmx_pv_msr_ok(v, index, val);
	if (mtrr_fixed_index(index) >= 0 || index == MSR_MTRRdefType ||
	    (index >= MTRR_VAR_FIRST && index <= MTRR_VAR_LAST))
		return mtrr_value_ok(index, val);
	switch (index) {
	case MSR_IA32_TSC_ADJUST:
	case MSR_IA32_UCODE_REV:	/* written before CPUID; ignored */
		return true;
	case MSR_TSC_AUX:
		return !(val >> 32);
	case MSR_IA32_MCG_STATUS:
		return !val;		/* only zero may be written */
	case MSR_IA32_DEBUGCTLMSR:
		/*
		 * BTF only (SDM Vol. 3B 18.4.1): no LBR, BTS or PMU
		 * freezes, which need MSRs hvx does not virtualize.
		 */
		return !(val & ~DEBUGCTLMSR_BTF);
	case MSR_IA32_SPEC_CTRL:
		return hvx_caps.spec_ctrl && !(val & ~hvx_caps.spec_ctrl);
	case MSR_IA32_PRED_CMD:		/* write-only command */
		return hvx_caps.ibpb && !(val & ~PRED_CMD_IBPB);
	case MSR_IA32_FLUSH_CMD:	/* write-only command */
		return has_flush_cmd() && !(val & ~L1D_FLUSH);
	case MSR_EFER:
		return !(val & ~HVX_EFER_ALLOWED) &&
		       !((v->cr0 & X86_CR0_PG) &&
			 (val & EFER_LME) != (v->efer & EFER_LME));
	case MSR_STAR:
	case MSR_IA32_TSC:
	case MSR_IA32_MISC_ENABLE:
		return true;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		return hvx_is_canonical(val);
	case MSR_SYSCALL_MASK:
		return !(val >> 32);
	case MSR_IA32_SYSENTER_CS:
		return true;
	case MSR_IA32_CR_PAT:
		return (hvx_caps.entry & VM_ENTRY_LOAD_IA32_PAT) && pat_valid(val);
	case MSR_IA32_APICBASE:
		return !(val >> boot_cpu_data.x86_phys_bits) && !(val & 0x6ff);
	default:
		return false;
	}
}

/* Write an MSR whose value msr_value_ok() accepted. */
static void msr_write(struct hvx_vmx_vcpu *v, u32 index, u64 val)
{
	int fixed = mtrr_fixed_index(index);
	u64 delta;

	if (apic_msr_op(v, index, HVX_MSR_WRITE, &val) != -ENOENT)
		return;
	if (hvx_vmx_pv_msr(index)) {
		hvx_vmx_pv_msr_write(v, index, val);
		return;
	}
	if (fixed >= 0) {
		v->msr.mtrr_fixed[fixed] = val;
		return;
	}
	if (index >= MTRR_VAR_FIRST && index <= MTRR_VAR_LAST) {
		v->msr.mtrr_var[index - MTRR_VAR_FIRST] = val;
		return;
	}
	switch (index) {
	case MSR_MTRRdefType:
		v->msr.mtrr_def_type = val;
		break;
	case MSR_IA32_TSC_ADJUST:
		/* Moves the TSC by the same amount (SDM Vol. 3B 18.17.3). */
		v->msr.tsc_offset += val - v->msr.tsc_adjust;
		v->msr.tsc_adjust = val;
		hvx_vmx_write(v, TSC_OFFSET, v->msr.tsc_offset);
		hvx_vmx_pv_tsc_changed(v);
		break;
	case MSR_TSC_AUX:
		v->msr.tsc_aux = val;
		v->rs.msrs_stale = true;	/* run.c loads it */
		break;
	case MSR_IA32_MCG_STATUS:
		v->msr.mcg_status = val;
		break;
	case MSR_IA32_DEBUGCTLMSR:
		hvx_vmx_write(v, GUEST_IA32_DEBUGCTL, val);
		break;
	case MSR_IA32_SPEC_CTRL:	/* swapped by vmenter.S */
		v->msr.spec_ctrl = val;
		/*
		 * A guest that uses the MSR gets it without exits from now
		 * on (a Linux guest in IBRS mode writes it on every kernel
		 * entry); vmenter.S then reads its value back after exits.
		 */
		if (val && !v->spec_ctrl_direct && spec_bitmaps_get())
			v->spec_ctrl_direct = true;
		break;
	case MSR_IA32_PRED_CMD:
		if (val)
			wrmsrq(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
		break;
	case MSR_IA32_FLUSH_CMD:
		if (val)
			wrmsrq(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		break;
	case MSR_IA32_UCODE_REV:
		break;
	case MSR_EFER:
		preempt_disable();
		hvx_vmx_load(v);
		hvx_vmx_set_efer(v, val);
		hvx_vmx_unload();
		if ((val & EFER_LME) && !v->syscall_msrs) {
			v->syscall_msrs = true;
			v->rs.msrs_stale = true;
		}
		break;
	case MSR_STAR:
		v->msr.star = val;
		v->syscall_msrs = true;
		v->rs.msrs_stale = true;	/* run.c loads it */
		break;
	case MSR_LSTAR:
		v->msr.lstar = val;
		v->syscall_msrs = true;
		v->rs.msrs_stale = true;	/* run.c loads it */
		break;
	case MSR_CSTAR:
		v->msr.cstar = val;
		v->syscall_msrs = true;
		v->rs.msrs_stale = true;	/* run.c loads the others */
		break;
	case MSR_KERNEL_GS_BASE:
		hvx_vmx_kernel_gs_base(v, true, val);
		v->syscall_msrs = true;
		v->rs.msrs_stale = true;	/* run.c loads it */
		break;
	case MSR_SYSCALL_MASK:
		v->msr.sfmask = val;
		v->syscall_msrs = true;
		v->rs.msrs_stale = true;	/* run.c loads it */
		break;
	case MSR_FS_BASE:
		hvx_vmx_write(v, GUEST_FS_BASE, val);
		break;
	case MSR_GS_BASE:
		hvx_vmx_write(v, GUEST_GS_BASE, val);
		break;
	case MSR_IA32_SYSENTER_ESP:
		hvx_vmx_write(v, GUEST_SYSENTER_ESP, val);
		break;
	case MSR_IA32_SYSENTER_EIP:
		hvx_vmx_write(v, GUEST_SYSENTER_EIP, val);
		break;
	case MSR_IA32_SYSENTER_CS:
		hvx_vmx_write(v, GUEST_SYSENTER_CS, val & 0xffff);
		break;
	case MSR_IA32_CR_PAT:
		hvx_vmx_write(v, GUEST_IA32_PAT, val);
		break;
	case MSR_IA32_TSC:
		/* A TSC write moves TSC_ADJUST with it (SDM Vol. 3B 18.17.3). */
		delta = val - (rdtsc() + v->msr.tsc_offset);
		v->msr.tsc_offset += delta;
		v->msr.tsc_adjust += delta;
		hvx_vmx_write(v, TSC_OFFSET, v->msr.tsc_offset);
		hvx_vmx_pv_tsc_changed(v);
		break;
	case MSR_IA32_APICBASE:
		v->msr.apic_base = val;
		break;
	case MSR_IA32_MISC_ENABLE:
		v->msr.misc_enable = val;
		break;
	}
}

/**
 * hvx_vmx_sync_tsc_offset - give the vCPU the VM's TSC offset if it changed
 * @v: the vCPU (not running); its VM's offset is applied at creation and
 *	whenever hvx_vmx_vm_set_tsc_offset() changed it since.
 *
 * The vCPU's own adjustment (IA32_TSC_ADJUST) then restarts at zero.
 * Context: the vCPU's thread, before a run.
 */
void hvx_vmx_sync_tsc_offset(struct hvx_vmx_vcpu *v)
{
	int gen = atomic_read(&v->vm->tsc_gen);
	s64 offset;

	if (gen == v->tsc_gen)
		return;
	v->tsc_gen = gen;
	smp_rmb();	/* the offset written before that generation */
	offset = hvx_vmx_vm_tsc_offset(v->vm);
	v->msr.tsc_offset = offset;
	v->msr.tsc_adjust = 0;
	hvx_vmx_write(v, TSC_OFFSET, offset);
	hvx_vmx_pv_tsc_changed(v);
}

/**
 * hvx_vmx_get_msrs - read a list of MSRs for userspace
 * @v: the vCPU (not running).
 * @m: the list; values are filled in.
 *
 * Return: the number of entries, or -EINVAL (too many entries, nonzero
 * reserved fields, an MSR hvx does not handle).
 */
int hvx_vmx_get_msrs(struct hvx_vmx_vcpu *v, struct hvx_msrs *m)
{
	u32 i;

	if (m->nmsrs > HVX_MAX_MSR_ENTRIES || m->padding)
		return -EINVAL;
	for (i = 0; i < m->nmsrs; i++)
		if (m->entries[i].reserved)
			return -EINVAL;
	for (i = 0; i < m->nmsrs; i++)
		if (msr_read(v, m->entries[i].index, &m->entries[i].data))
			return -EINVAL;
	return m->nmsrs;
}

/**
 * hvx_vmx_set_msrs - write a list of MSRs from userspace
 * @v: the vCPU (not running).
 * @m: the list.
 *
 * Every entry is checked before any is written, in order, so a list that
 * sets EFER is judged against the CR0 in force.
 * Return: the number of entries, or -EINVAL with nothing written.
 */
int hvx_vmx_set_msrs(struct hvx_vmx_vcpu *v, const struct hvx_msrs *m)
{
	u32 i;

	if (m->nmsrs > HVX_MAX_MSR_ENTRIES || m->padding)
		return -EINVAL;
	for (i = 0; i < m->nmsrs; i++)
		if (m->entries[i].reserved ||
		    !msr_value_ok(v, m->entries[i].index, m->entries[i].data))
			return -EINVAL;
	for (i = 0; i < m->nmsrs; i++)
		msr_write(v, m->entries[i].index, m->entries[i].data);
	return m->nmsrs;
}

static int msr_exit(struct hvx_vmx_vcpu *v, bool write, u64 val)
{
	struct hvx_run *run = v->run;

	run->exit_reason = HVX_EXIT_MSR;
	memset(&run->msr, 0, sizeof(run->msr));
	run->msr.index = v->gprs[HVX_RCX];
	run->msr.is_write = write;
	run->msr.data = val;
	hvx_vmx_set_pending(v, HVX_PENDING_MSR);
	return HVX_RUN_USER;
}

/* Is @index an MSR hvx implements (for the userspace-exit decision)? */
static bool msr_known(struct hvx_vmx_vcpu *v, u32 index)
{
	u64 val;

	return !msr_read(v, index, &val);
}

/**
 * hvx_vmx_complete_msr - finish an RDMSR/WRMSR that userspace handled
 * @v: the vCPU; run->msr holds userspace's answer.
 *
 * A nonzero run->msr.error raises #GP(0); otherwise RDMSR gets
 * run->msr.data in EDX:EAX, and both instructions complete.
 */
void hvx_vmx_complete_msr(struct hvx_vmx_vcpu *v)
{
	struct hvx_run *run = v->run;

	if (READ_ONCE(run->msr.error)) {
		hvx_vmx_inject_exception(v, X86_TRAP_GP, true, 0);
		return;
	}
	if (!run->msr.is_write) {
		u64 val = READ_ONCE(run->msr.data);

		v->gprs[HVX_RAX] = (u32)val;
		v->gprs[HVX_RDX] = val >> 32;
	}
	hvx_vmx_skip_instruction(v, v->instr_len);
}

/**
 * hvx_vmx_handle_rdmsr - RDMSR: ECX index, result in EDX:EAX
 * @v: the vCPU.
 *
 * Unknown MSRs raise #GP(0), or exit to userspace (HVX_EXIT_MSR) in VMs
 * created with HVX_VM_MSR_EXITS.
 * Return: HVX_RUN_RESUME or HVX_RUN_USER.
 */
int hvx_vmx_handle_rdmsr(struct hvx_vmx_vcpu *v)
{
	u64 val;

	hvx_stats_top_add(v->stats.s.msrs, (u32)v->gprs[HVX_RCX]);
	if (v->vm->msr_exits && !msr_known(v, v->gprs[HVX_RCX]))
		return msr_exit(v, false, 0);
	if (msr_read(v, v->gprs[HVX_RCX], &val)) {
		hvx_vmx_inject_exception(v, X86_TRAP_GP, true, 0);
		return HVX_RUN_RESUME;
	}
	v->gprs[HVX_RAX] = (u32)val;
	v->gprs[HVX_RDX] = val >> 32;
	hvx_vmx_skip_instruction(v, v->instr_len);
	return HVX_RUN_RESUME;
}

/**
 * hvx_vmx_fast_wrmsr - WRMSR on the exit fast path
 * @v: the vCPU, its exit state read (hvx_vmx_run()).
 *
 * The writes a guest makes most often to its local APIC: x2APIC EOI and
 * TPR, IA32_TSC_DEADLINE (struct hvx_vmx_apic_ops.msr_fast). Everything
 * else, and writes that fault or go to userspace, is left to
 * hvx_vmx_handle_wrmsr().
 * Context: interrupts off, the guest's state loaded; must not sleep.
 * Return: true if the write is done and the instruction skipped, false
 * if nothing changed.
 */
bool hvx_vmx_fast_wrmsr(struct hvx_vmx_vcpu *v)
{
	u32 index = v->gprs[HVX_RCX];
	u64 val = (u32)v->gprs[HVX_RAX] | ((u64)(u32)v->gprs[HVX_RDX] << 32);

	if (!v->apic_ops || !v->apic_ops->msr_fast || v->vm->msr_exits)
		return false;
	if (v->apic_ops->msr_fast(v, index, val))
		return false;
	hvx_stats_top_add(v->stats.s.msrs, index | HVX_STATS_MSR_WRITE);
	hvx_vmx_skip_instruction(v, v->instr_len);
	return true;
}

/**
 * hvx_vmx_handle_wrmsr - WRMSR: ECX index, value in EDX:EAX
 * @v: the vCPU.
 *
 * Values the CPU would refuse (non-canonical addresses, reserved bits)
 * raise #GP(0) in the guest and never reach a host MSR. Unknown MSRs are
 * handled as for RDMSR.
 * Return: HVX_RUN_RESUME or HVX_RUN_USER.
 */
int hvx_vmx_handle_wrmsr(struct hvx_vmx_vcpu *v)
{
	u64 val = (u32)v->gprs[HVX_RAX] | ((u64)(u32)v->gprs[HVX_RDX] << 32);

	hvx_stats_top_add(v->stats.s.msrs,
			  (u32)v->gprs[HVX_RCX] | HVX_STATS_MSR_WRITE);
	if (v->vm->msr_exits && !msr_known(v, v->gprs[HVX_RCX]))
		return msr_exit(v, true, val);
	if (!msr_value_ok(v, v->gprs[HVX_RCX], val)) {
		hvx_vmx_inject_exception(v, X86_TRAP_GP, true, 0);
		return HVX_RUN_RESUME;
	}
	msr_write(v, v->gprs[HVX_RCX], val);
	hvx_vmx_skip_instruction(v, v->instr_len);
	return HVX_RUN_RESUME;
}
