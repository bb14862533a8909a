// SPDX-License-Identifier: GPL-2.0
/*
 * msr.c - RDMSR and WRMSR exits.
 *
 * No MSR bitmap is used yet, so every RDMSR/WRMSR exits (SDM Vol. 3C
 * 26.1.3). MSRs with a VMCS field go there; the SYSCALL MSRs and
 * KERNEL_GS_BASE are kept in software and put in the CPU only around
 * guest execution; everything else raises #GP(0) in the guest, as on a
 * CPU without that MSR. MSR numbers: SDM Vol. 4, Table 2-2.
 */
#include <asm/msr.h>
#include <asm/msr-index.h>

#include <asm/trapnr.h>

#include "vmx.h"

#define EFER_ALLOWED	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

static bool is_canonical(u64 addr)
{
	return (u64)((s64)(addr << 16) >> 16) == addr;
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

static int msr_read(struct hvx_vmx_vcpu *v, u32 index, u64 *val)
{
	switch (index) {
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
		*val = v->msr.kernel_gs_base;
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

static int msr_write(struct hvx_vmx_vcpu *v, u32 index, u64 val)
{
	switch (index) {
	case MSR_EFER:
		if ((val & ~EFER_ALLOWED) ||
		    ((v->cr0 & X86_CR0_PG) &&
		     (val & EFER_LME) != (v->efer & EFER_LME)))
			return -1;
		preempt_disable();
		hvx_vmx_load(v);
		hvx_vmx_set_efer(v, val);
		preempt_enable();
		if (val & EFER_LME)
			v->syscall_msrs = true;
		break;
	case MSR_STAR:
		v->msr.star = val;
		v->syscall_msrs = true;
		break;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
		if (!is_canonical(val))
			return -1;
		if (index == MSR_LSTAR)
			v->msr.lstar = val;
		else if (index == MSR_CSTAR)
			v->msr.cstar = val;
		else
			v->msr.kernel_gs_base = val;
		v->syscall_msrs = true;
		break;
	case MSR_SYSCALL_MASK:
		if (val >> 32)
			return -1;
		v->msr.sfmask = val;
		v->syscall_msrs = true;
		break;
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!is_canonical(val))
			return -1;
		hvx_vmx_write(v, index == MSR_FS_BASE ? GUEST_FS_BASE :
				 index == MSR_GS_BASE ? GUEST_GS_BASE :
				 index == MSR_IA32_SYSENTER_ESP ? GUEST_SYSENTER_ESP :
				 GUEST_SYSENTER_EIP, val);
		break;
	case MSR_IA32_SYSENTER_CS:
		hvx_vmx_write(v, GUEST_SYSENTER_CS, val & 0xffff);
		break;
	case MSR_IA32_CR_PAT:
		if (!(hvx_caps.entry & VM_ENTRY_LOAD_IA32_PAT) || !pat_valid(val))
			return -1;
		hvx_vmx_write(v, GUEST_IA32_PAT, val);
		break;
	case MSR_IA32_TSC:
		v->msr.tsc_offset = val - rdtsc();
		hvx_vmx_write(v, TSC_OFFSET, v->msr.tsc_offset);
		break;
	case MSR_IA32_APICBASE:
		if (val >> boot_cpu_data.x86_phys_bits || (val & 0x6ff))
			return -1;
		v->msr.apic_base = val;
		break;
	case MSR_IA32_MISC_ENABLE:
		v->msr.misc_enable = val;
		break;
	default:
		return -1;
	}
	return 0;
}

/**
 * hvx_vmx_handle_rdmsr - RDMSR: ECX index, result in EDX:EAX
 * @v: the vCPU.
 *
 * Return: HVX_RUN_RESUME (with #GP(0) injected for unknown MSRs).
 */
int hvx_vmx_handle_rdmsr(struct hvx_vmx_vcpu *v)
{
	u64 val;

	hvx_stats_top_add(v->stats.s.msrs, (u32)v->gprs[HVX_RCX]);
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
 * hvx_vmx_handle_wrmsr - WRMSR: ECX index, value in EDX:EAX
 * @v: the vCPU.
 *
 * Values the CPU would refuse (non-canonical addresses, reserved bits)
 * raise #GP(0) in the guest and never reach a host MSR.
 * Return: HVX_RUN_RESUME.
 */
int hvx_vmx_handle_wrmsr(struct hvx_vmx_vcpu *v)
{
	u64 val = (u32)v->gprs[HVX_RAX] | ((u64)(u32)v->gprs[HVX_RDX] << 32);

	hvx_stats_top_add(v->stats.s.msrs,
			  (u32)v->gprs[HVX_RCX] | HVX_STATS_MSR_WRITE);
	if (msr_write(v, v->gprs[HVX_RCX], val)) {
		hvx_vmx_inject_exception(v, X86_TRAP_GP, true, 0);
		return HVX_RUN_RESUME;
	}
	hvx_vmx_skip_instruction(v, v->instr_len);
	return HVX_RUN_RESUME;
}
