// SPDX-License-Identifier: GPL-2.0
/*
 * cpuid.c - CPUID exits (SDM Vol. 3C 26.1.2: CPUID always exits).
 *
 * Each vCPU has a CPUID table (struct hvx_cpuid_entry), settable from
 * userspace. By default the guest sees the host's CPUID with what hvx
 * does not virtualize hidden (VMX, SMX, XSAVE and AVX, x2APIC,
 * performance monitoring, MONITOR/MWAIT, most of leaf 7: its EDX
 * keeps the speculation controls and mitigations that work in a guest),
 * the hypervisor bit set, a single-CPU topology with the vCPU id as
 * initial APIC id, the hvx signature leaf 0x40000000 and the
 * KVM-compatible paravirtual leaves 0x40000100-0x40000101 (a guest
 * looks for hypervisor signatures at every 0x100 step from 0x40000000).
 * Bit positions: SDM Vol. 2A, CPUID, Tables 3-10 and 3-11.
 */
#include <linux/log2.h>
#include <asm/fpu/xstate.h>
#include <asm/kvm_para.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include <asm/tsc.h>

#include "vmx.h"

#define HVX_CPUID_SIGNATURE	"hvxhvxhvxhvx"
#define HVX_CPUID_KVM_SIG	"KVMKVMKVM\0\0\0"
#define HVX_CPUID_MAX_BASIC	0xd
#define HVX_CPUID_TSC_LEAF	0x15	/* hvx's own, see add_tsc_leaf() */
#define HVX_CPUID_MAX_EXT	0x80000008

/* CPUID.1:ECX bits hidden from the guest. */
#define LEAF1_ECX_HIDDEN (BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | \
			  BIT(7) | BIT(8) | BIT(11) | BIT(12) | BIT(14) | \
			  BIT(15) | BIT(17) | BIT(18) | BIT(21) | BIT(24) | \
			  BIT(26) | BIT(27) | BIT(28) | BIT(29))
#define LEAF1_ECX_HYPERVISOR	BIT(31)
/* CPUID.1:EDX: DS, ACPI, HTT, TM, PBE. */
#define LEAF1_EDX_HIDDEN (BIT(21) | BIT(22) | BIT(28) | BIT(29) | BIT(31))
/* CPUID.1:ECX bits shown when guests get XSAVE (and AVX state). */
#define LEAF1_ECX_XSAVE		BIT(26)
#define LEAF1_ECX_OSXSAVE	BIT(27)
#define LEAF1_ECX_AVX_FAMILY	(BIT(12) | BIT(28) | BIT(29))	/* FMA, AVX, F16C */
#define LEAF7_EBX_AVX2		BIT(5)
/* CPUID.7.0:EDX: IBRS/IBPB, STIBP, SSBD, shown when the host has them. */
#define LEAF7_EDX_SPEC		(BIT(26) | BIT(27) | BIT(31))
/*
 * CPUID.7.0:EDX bits of the guest's view of mitigations, each shown when
 * the host kernel has the feature, as each works in a guest: MD_CLEAR
 * (VERW clears CPU buffers; VERW does not exit), FLUSH_L1D (guest writes
 * to IA32_FLUSH_CMD go to the CPU, msr.c) and ARCH_CAPABILITIES (msr.c
 * synthesizes the MSR).
 */
#define LEAF7_EDX_MD_CLEAR	BIT(10)
#define LEAF7_EDX_FLUSH_L1D	BIT(28)
#define LEAF7_EDX_ARCH_CAP	BIT(29)
/* XSAVE area: legacy region plus header (SDM Vol. 1 13.4.1, 13.4.2). */
#define XSAVE_LEGACY_AND_HEADER	576
/*
 * CPUID.7.0:EBX bits kept when the host has them: BMI1, BMI2, ERMS,
 * RDSEED, ADX, CLFLUSHOPT, CLWB, SHA. Each is an instruction (or a
 * property of one) that runs natively in a guest: no VM-execution
 * control makes it exit or fault, and it needs no CR4 bit.
 */
#define LEAF7_EBX_KEPT	(BIT(3) | BIT(8) | BIT(9) | BIT(18) | BIT(19) | \
			 BIT(23) | BIT(24) | BIT(29))
/* CPUID.7.0:EDX bits kept likewise: FSRM (fast short REP MOVSB), SERIALIZE. */
#define LEAF7_EDX_KEPT	(BIT(4) | BIT(14))
/*
 * CPUID.7.0:EBX IA32_TSC_ADJUST, always shown: msr.c emulates the MSR on
 * the TSC offset whatever the host has (SDM Vol. 3B 18.17.3).
 */
#define LEAF7_EBX_TSC_ADJUST	BIT(1)
/*
 * CPUID.80000001H:EDX RDTSCP and CPUID.(7,0):ECX RDPID: shown as the host
 * has them when guests get "enable RDTSCP" and their own IA32_TSC_AUX
 * (run.c switches it); hidden otherwise.
 */
#define EXT1_EDX_RDTSCP	BIT(27)
#define LEAF7_ECX_RDPID	BIT(22)
/*
 * Features whose CR4 bit guests may set (hvx_caps.cr4_native, vmx.c):
 * CPUID.1:ECX PCID, CPUID.(7,0):EBX FSGSBASE, SMEP, SMAP and ECX UMIP,
 * each shown exactly when hvx_vmx_cr4_allowed() has its bit. INVPCID
 * (CPUID.(7,0):EBX[10]) is shown with the "enable INVPCID" control.
 */
#define LEAF1_ECX_PCID		BIT(17)
#define LEAF7_EBX_FSGSBASE	BIT(0)
#define LEAF7_EBX_SMEP		BIT(7)
#define LEAF7_EBX_INVPCID	BIT(10)
#define LEAF7_EBX_SMAP		BIT(20)
#define LEAF7_ECX_UMIP		BIT(2)
/*
 * CPUID.(7,0):ECX GFNI (legacy-SSE and VEX forms), and VAES and
 * VPCLMULQDQ, which only exist in VEX/EVEX forms on YMM registers: shown
 * as the host has them, the last two only when guests get AVX state in
 * XCR0 (without it their VEX.256 forms would #UD).
 */
#define LEAF7_ECX_GFNI		BIT(8)
#define LEAF7_ECX_VAES		BIT(9)
#define LEAF7_ECX_VPCLMULQDQ	BIT(10)

/* @bit if hvx lets guests set @cr4 (a CPUID bit), else 0. */
static u32 cr4_feature(u64 cr4, u32 bit)
{
	return hvx_vmx_cr4_allowed() & cr4 ? bit : 0;
}

/* The leaf reports nothing: all four registers zero. */
static void cpuid_entry_zero(struct hvx_cpuid_entry *e)
{
	e->eax = 0;
	e->ebx = 0;
	e->ecx = 0;
	e->edx = 0;
}

/* Bytes of XSAVE area the components in @xcr0 need (CPUID.(0DH,0).EBX). */
static u32 xsave_size(u64 xcr0)
{
	u32 size, offset, ecx, edx;

	if (!(xcr0 & XFEATURE_MASK_YMM))
		return XSAVE_LEGACY_AND_HEADER;
	cpuid_count(0xd, XFEATURE_YMM, &size, &offset, &ecx, &edx);
	return offset + size;
}

/* Leaf 0DH for the components hvx offers (SDM Vol. 1 13.2). */
static void filter_xsave_leaf(struct hvx_cpuid_entry *e)
{
	u64 xcr0 = hvx_caps.guest_xcr0;

	if (!xcr0 || (e->index > 1 && !(xcr0 & BIT_ULL(e->index)))) {
		cpuid_entry_zero(e);
		return;
	}
	switch (e->index) {
	case 0:
		e->eax = (u32)xcr0;
		e->edx = xcr0 >> 32;
		e->ebx = xsave_size(XFEATURE_MASK_FP);	/* for XCR0 at reset */
		e->ecx = xsave_size(xcr0);
		break;
	case 1:		/* no XSAVEOPT/XSAVEC/XSAVES/XFD advertised */
		cpuid_entry_zero(e);
		break;
	default:	/* size and offset of the component, from the host */
		e->ecx = 0;
		e->edx = 0;
		break;
	}
}

/* Hide what hvx does not virtualize in one leaf of the host's CPUID. */
static void filter_leaf(struct hvx_cpuid_entry *e, u32 id)
{
	u32 hidden;

	switch (e->function) {
	case 0:
		e->eax = min_t(u32, e->eax, HVX_CPUID_MAX_BASIC);
		if (tsc_khz)
			e->eax = HVX_CPUID_TSC_LEAF;
		break;
	case 1:
		hidden = LEAF1_ECX_HIDDEN;
		if (hvx_caps.guest_xcr0)
			hidden &= ~LEAF1_ECX_XSAVE;
		if (hvx_caps.guest_xcr0 & XFEATURE_MASK_YMM)
			hidden &= ~LEAF1_ECX_AVX_FAMILY;
		hidden &= ~cr4_feature(X86_CR4_PCIDE, LEAF1_ECX_PCID);
		e->ecx = (e->ecx & ~hidden) | LEAF1_ECX_HYPERVISOR;
		e->edx &= ~LEAF1_EDX_HIDDEN;
		/* EBX[31:24] initial APIC id, [23:16] logical processors. */
		e->ebx = (e->ebx & 0xffff) | (id << 24) | (1 << 16);
		break;
	case 2:
		break;
	case 4:
		/* One core, one thread per cache (EAX[31:26], EAX[25:14]). */
		e->eax &= 0x3fff;
		break;
	case 7:
		if (e->index == 0) {
			e->eax = 0;
			e->ebx &= LEAF7_EBX_KEPT |
				  (hvx_caps.guest_xcr0 & XFEATURE_MASK_YMM ?
				   LEAF7_EBX_AVX2 : 0) |
				  cr4_feature(X86_CR4_FSGSBASE, LEAF7_EBX_FSGSBASE) |
				  cr4_feature(X86_CR4_SMEP, LEAF7_EBX_SMEP) |
				  cr4_feature(X86_CR4_SMAP, LEAF7_EBX_SMAP) |
				  (hvx_caps.proc2 & SECONDARY_EXEC_ENABLE_INVPCID ?
				   LEAF7_EBX_INVPCID : 0);
			e->ebx |= LEAF7_EBX_TSC_ADJUST;
			e->edx &= LEAF7_EDX_KEPT |
				  (hvx_caps.spec_ctrl ? LEAF7_EDX_SPEC : 0);
			if (boot_cpu_has(X86_FEATURE_MD_CLEAR))
				e->edx |= LEAF7_EDX_MD_CLEAR;
			if (boot_cpu_has(X86_FEATURE_FLUSH_L1D))
				e->edx |= LEAF7_EDX_FLUSH_L1D;
			if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
				e->edx |= LEAF7_EDX_ARCH_CAP;
			e->ecx &= (hvx_vmx_tsc_aux_ok() ? LEAF7_ECX_RDPID : 0) |
				  cr4_feature(X86_CR4_UMIP, LEAF7_ECX_UMIP) |
				  LEAF7_ECX_GFNI |
				  (hvx_caps.guest_xcr0 & XFEATURE_MASK_YMM ?
				   LEAF7_ECX_VAES | LEAF7_ECX_VPCLMULQDQ : 0);
		} else {
			e->ebx = 0;
			e->ecx = 0;
			e->edx = 0;
		}
		break;
	case 0xd:
		filter_xsave_leaf(e);
		break;
	case 0x80000000:
		e->eax = min_t(u32, e->eax, HVX_CPUID_MAX_EXT);
		break;
	case 0x80000001:
		if (!hvx_vmx_tsc_aux_ok())
			e->edx &= ~EXT1_EDX_RDTSCP;
		break;
	case 0x80000002 ... 0x80000008:
		break;
	default:	/* thermal, MONITOR, PMU, topology, XSAVE, ... */
		cpuid_entry_zero(e);
		break;
	}
}

static void add_leaf(struct hvx_cpuid_entry *tbl, u32 *nent, u32 id,
		     u32 function, u32 index, u32 flags)
{
	struct hvx_cpuid_entry *e;

	if (*nent >= HVX_MAX_CPUID_ENTRIES)
		return;
	e = &tbl[(*nent)++];
	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	e->flags = flags;
	if (function == 0x40000000) {
		e->eax = 0x40000000;
		memcpy(&e->ebx, HVX_CPUID_SIGNATURE, 4);
		memcpy(&e->ecx, HVX_CPUID_SIGNATURE + 4, 4);
		memcpy(&e->edx, HVX_CPUID_SIGNATURE + 8, 4);
		return;
	}
	/*
	 * KVM's leaves (Linux's Documentation/virt/kvm/x86/cpuid.rst): the
	 * signature with the highest leaf, then features in EAX and hints
	 * in EDX (none: the guest's vCPUs may be preempted).
	 */
	if (function == HVX_CPUID_KVM_SIGNATURE) {
		e->eax = HVX_CPUID_KVM_FEATURES;
		memcpy(&e->ebx, HVX_CPUID_KVM_SIG, 4);
		memcpy(&e->ecx, HVX_CPUID_KVM_SIG + 4, 4);
		memcpy(&e->edx, HVX_CPUID_KVM_SIG + 8, 4);
		return;
	}
	if (function == HVX_CPUID_KVM_FEATURES) {
		e->eax = hvx_vmx_pv_features();
		return;
	}
	cpuid_count(function, index, &e->eax, &e->ebx, &e->ecx, &e->edx);
	filter_leaf(e, id);
}

/*
 * Leaf 0x15, "Time Stamp Counter and Nominal Core Crystal Clock" (SDM
 * Vol. 2A, CPUID): TSC frequency = ECX (crystal, Hz) * EBX / EAX. The
 * crystal is reported as the local APIC timer's input clock
 * (HVX_APIC_BUS_KHZ) and the ratio gives the host's TSC frequency to
 * 1 MHz. A guest then needs no calibration against the PIT, which cannot
 * work where every port access is an exit of unknown cost (Linux gives up
 * and marks the TSC unstable). Products stay below 2^32 as Linux computes
 * crystal kHz * EBX in 32 bits.
 */
static void add_tsc_leaf(struct hvx_cpuid_entry *tbl, u32 *nent)
{
	struct hvx_cpuid_entry *e;

	if (!tsc_khz || *nent >= HVX_MAX_CPUID_ENTRIES)
		return;
	e = &tbl[(*nent)++];
	memset(e, 0, sizeof(*e));
	e->function = HVX_CPUID_TSC_LEAF;
	e->eax = HVX_APIC_BUS_KHZ / 1000;		/* crystal MHz */
	e->ebx = max_t(u32, tsc_khz / 1000, 1);	/* TSC MHz */
	e->ecx = HVX_APIC_BUS_KHZ * 1000;		/* crystal Hz */
}

/**
 * hvx_vmx_cpuid_default - build the default CPUID table for a vCPU
 * @tbl: output, HVX_MAX_CPUID_ENTRIES entries.
 * @nent: output, entries used.
 * @id: vCPU id (initial APIC id).
 *
 * Basic leaves up to HVX_CPUID_MAX_BASIC, the cache leaf 4 and leaf 7
 * with their subleaves, the TSC leaf 0x15 (when the TSC frequency is
 * known; leaves 0xe-0x14 then read as zeros), the hvx leaf 0x40000000,
 * the KVM leaves 0x40000100-0x40000101 with every feature of
 * hvx_vmx_pv_features() and extended leaves up to HVX_CPUID_MAX_EXT,
 * filtered as described at the top of this file.
 */
void hvx_vmx_cpuid_default(struct hvx_cpuid_entry *tbl, u32 *nent, u32 id)
{
	u32 max = min_t(u32, cpuid_eax(0), HVX_CPUID_MAX_BASIC);
	u32 fn, i, n, b, c, d;

	*nent = 0;
	for (fn = 0; fn <= max; fn++) {
		if (fn == 4) {
			/* Subleaves until the null cache type (EAX[4:0] = 0). */
			for (i = 0; i < 16; i++) {
				add_leaf(tbl, nent, id, 4, i,
					 HVX_CPUID_FLAG_SIGNIFICANT_INDEX);
				if (!(tbl[*nent - 1].eax & 0x1f))
					break;
			}
		} else if (fn == 0xd) {
			for (i = 0; i <= XFEATURE_YMM; i++)
				add_leaf(tbl, nent, id, 0xd, i,
					 HVX_CPUID_FLAG_SIGNIFICANT_INDEX);
		} else if (fn == 7) {
			cpuid_count(7, 0, &n, &b, &c, &d);
			n = min_t(u32, n, 3);
			for (i = 0; i <= n; i++)
				add_leaf(tbl, nent, id, 7, i,
					 HVX_CPUID_FLAG_SIGNIFICANT_INDEX);
		} else {
			add_leaf(tbl, nent, id, fn, 0, 0);
		}
	}
	add_tsc_leaf(tbl, nent);
	add_leaf(tbl, nent, id, 0x40000000, 0, 0);
	add_leaf(tbl, nent, id, HVX_CPUID_KVM_SIGNATURE, 0, 0);
	add_leaf(tbl, nent, id, HVX_CPUID_KVM_FEATURES, 0, 0);
	max = min_t(u32, cpuid_eax(0x80000000), HVX_CPUID_MAX_EXT);
	for (fn = 0x80000000; fn <= max; fn++)
		add_leaf(tbl, nent, id, fn, 0, 0);
}

/**
 * hvx_vmx_cpuid_lookup - the guest's CPUID output for a leaf
 * @v: the vCPU.
 * @function: leaf (EAX).
 * @index: subleaf (ECX).
 *
 * A basic leaf above the table's maximum (entry for leaf 0, EAX) reads as
 * the maximum basic leaf, as Intel CPUs do (SDM Vol. 2A, CPUID, "INPUT
 * EAX = 0: Returns CPUID's Highest Value..."). Anything else missing
 * reads as zeros.
 * Return: the entry, or NULL for all zeros.
 */
const struct hvx_cpuid_entry *
hvx_vmx_cpuid_lookup(struct hvx_vmx_vcpu *v, u32 function, u32 index)
{
	const struct hvx_cpuid_entry *max = NULL;
	u32 i, max_basic = 0;

	for (i = 0; i < v->cpuid_nent; i++) {
		const struct hvx_cpuid_entry *e = &v->cpuid[i];

		if (e->function == function &&
		    (!(e->flags & HVX_CPUID_FLAG_SIGNIFICANT_INDEX) ||
		     e->index == index))
			return e;
		if (e->function == 0)
			max_basic = e->eax;
	}
	if (function > max_basic && function < 0x40000000) {
		for (i = 0; i < v->cpuid_nent; i++) {
			if (v->cpuid[i].function == max_basic &&
			    (!(v->cpuid[i].flags & HVX_CPUID_FLAG_SIGNIFICANT_INDEX) ||
			     v->cpuid[i].index == index))
				max = &v->cpuid[i];
		}
	}
	return max;
}

/* Keep hvx_vmx_vcpu.pv_features in step with the table. */
static void pv_features_update(struct hvx_vmx_vcpu *v)
{
	const struct hvx_cpuid_entry *sig, *e;
	u32 f = 0;

	sig = hvx_vmx_cpuid_lookup(v, HVX_CPUID_KVM_SIGNATURE, 0);
	e = hvx_vmx_cpuid_lookup(v, HVX_CPUID_KVM_FEATURES, 0);
	if (sig && e && sig->eax >= HVX_CPUID_KVM_FEATURES &&
	    !memcmp(&sig->ebx, HVX_CPUID_KVM_SIG, 4) &&
	    !memcmp(&sig->ecx, HVX_CPUID_KVM_SIG + 4, 4) &&
	    !memcmp(&sig->edx, HVX_CPUID_KVM_SIG + 8, 4))
		f = e->eax;
	WRITE_ONCE(v->pv_features, f);
}

/**
 * hvx_vmx_cpuid_pv_init - the paravirtual features of a new default table
 * @v: a new vCPU, its table built by hvx_vmx_cpuid_default().
 */
void hvx_vmx_cpuid_pv_init(struct hvx_vmx_vcpu *v)
{
	pv_features_update(v);
}

/**
 * hvx_vmx_cpuid_no_pv - drop the KVM leaves from a vCPU's table
 * @v: the vCPU (not running), e.g. of a VM created with HVX_VM_NO_PV.
 *
 * The guest then sees no paravirtual interface (leaves 0x40000100 and up
 * read as zeros): every paravirtual hypercall returns -KVM_ENOSYS and the
 * paravirtual MSRs of pvmsr.c raise #GP.
 */
void hvx_vmx_cpuid_no_pv(struct hvx_vmx_vcpu *v)
{
	u32 i, n = 0;

	for (i = 0; i < v->cpuid_nent; i++) {
		u32 fn = v->cpuid[i].function;

		if (fn >= HVX_CPUID_KVM_SIGNATURE && fn <= HVX_CPUID_KVM_FEATURES)
			continue;
		v->cpuid[n++] = v->cpuid[i];
	}
	v->cpuid_nent = n;
	pv_features_update(v);
}

/**
 * hvx_vmx_cpuid_set - replace a vCPU's CPUID table
 * @v: the vCPU (not running).
 * @c: the new table from userspace.
 *
 * Return: 0, or -EINVAL (too many entries, unknown flags, nonzero padding,
 * a leaf listed twice) with the table unchanged.
 */
int hvx_vmx_cpuid_set(struct hvx_vmx_vcpu *v, const struct hvx_cpuid *c)
{
	u32 i, j;

	if (c->nent > HVX_MAX_CPUID_ENTRIES || c->padding)
		return -EINVAL;
	for (i = 0; i < c->nent; i++) {
		const struct hvx_cpuid_entry *e = &c->entries[i];

		if ((e->flags & ~HVX_CPUID_FLAG_SIGNIFICANT_INDEX) || e->padding)
			return -EINVAL;
		for (j = 0; j < i; j++) {
			const struct hvx_cpuid_entry *o = &c->entries[j];

			if (o->function == e->function &&
			    (!(o->flags & e->flags & HVX_CPUID_FLAG_SIGNIFICANT_INDEX) ||
			     o->index == e->index))
				return -EINVAL;
		}
	}
	memcpy(v->cpuid, c->entries, c->nent * sizeof(c->entries[0]));
	v->cpuid_nent = c->nent;
	v->cpuid_default = false;
	pv_features_update(v);
	return 0;
}

/**
 * hvx_vmx_cpuid_get - copy a vCPU's CPUID table out
 * @v: the vCPU.
 * @c: output.
 */
void hvx_vmx_cpuid_get(struct hvx_vmx_vcpu *v, struct hvx_cpuid *c)
{
	c->nent = v->cpuid_nent;
	memcpy(c->entries, v->cpuid, v->cpuid_nent * sizeof(c->entries[0]));
}

/*
 * The default table describes one package with a core per vCPU: leaf 1
 * EBX[23:16] addressable logical processors and EDX.HTT, leaf 4
 * EAX[31:26] addressable cores - 1 (SDM Vol. 3A 9.6.2; Vol. 2A, CPUID),
 * and leaf 0xB (x2APIC topology, SDM Vol. 3A 9.9.1): subleaf 0 the SMT
 * level (one thread, shift 0), subleaf 1 the core level (the VM's vCPUs,
 * shift log2 of the addressable ids), then the invalid level; EDX is the
 * vCPU's x2APIC id, its vCPU id.
 */
static void fix_topology(struct hvx_vmx_vcpu *v, u32 leaf, u32 subleaf)
{
	u32 n = max(atomic_read(&v->vm->nr_vcpus), 1);
	u32 ids = roundup_pow_of_two(n);

	if (leaf == 0xb) {
		v->gprs[HVX_RAX] = subleaf == 1 ? ilog2(ids) : 0;
		v->gprs[HVX_RBX] = subleaf == 0 ? 1 : subleaf == 1 ? n : 0;
		v->gprs[HVX_RCX] = (subleaf & 0xff) |
				   (subleaf < 2 ? (subleaf + 1) << 8 : 0);
		v->gprs[HVX_RDX] = v->id;
		return;
	}

	if (leaf == 1) {
		v->gprs[HVX_RBX] = (v->gprs[HVX_RBX] & ~0xff0000UL) |
				   (min(ids, 128u) << 16);
		if (n > 1)
			v->gprs[HVX_RDX] |= BIT(28);
	} else if (leaf == 4 && (v->gprs[HVX_RAX] & 0x1f)) {
		v->gprs[HVX_RAX] = (v->gprs[HVX_RAX] & 0x3ffffff) |
				   ((min(ids, 64u) - 1) << 26);
	}
}

#define LEAF1_EDX_APIC		BIT(9)
#define LEAF1_ECX_X2APIC	BIT(21)
#define LEAF1_ECX_TSC_DEADLINE	BIT(24)
#define HVX_CPUID_TIMING	0x40000010
#define LEAF6_EAX_ARAT		BIT(2)

/*
 * With an in-kernel local APIC the default table also offers x2APIC and
 * the TSC-deadline timer (SDM Vol. 2A Table 3-10), the APIC bit follows
 * IA32_APIC_BASE.EN (SDM Vol. 3A 11.4.3), and the hvx leaves reach
 * 0x40000010: EAX the TSC frequency, EBX the APIC timer's, in kHz (the
 * timing leaf other hypervisors offer there). Leaf 6 then shows ARAT
 * (EAX[2], "APIC timer always running"): the LAPIC timer is an hrtimer of
 * the host, which no guest C-state stops. Without one, the guest sees no
 * APIC, and the paravirtual features that need one (PV_UNHALT,
 * PV_SEND_IPI: both name vCPUs by APIC id) are hidden.
 */
static void fix_apic(struct hvx_vmx_vcpu *v, u32 leaf)
{
	unsigned long *ecx = &v->gprs[HVX_RCX], *edx = &v->gprs[HVX_RDX];

	if (!v->apic_ops) {
		if (leaf == 1)
			*edx &= ~LEAF1_EDX_APIC;
		if (leaf == HVX_CPUID_KVM_FEATURES)
			v->gprs[HVX_RAX] &= ~(BIT(KVM_FEATURE_PV_UNHALT) |
					      BIT(KVM_FEATURE_PV_SEND_IPI));
		return;
	}
	switch (leaf) {
	case 1:
		*ecx |= LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE;
		*edx &= ~LEAF1_EDX_APIC;
		if (v->msr.apic_base & MSR_IA32_APICBASE_ENABLE)
			*edx |= LEAF1_EDX_APIC;
		break;
	case 6:
		v->gprs[HVX_RAX] |= LEAF6_EAX_ARAT;
		break;
	case 0x40000000:
		v->gprs[HVX_RAX] = HVX_CPUID_TIMING;
		break;
	case HVX_CPUID_TIMING:
		v->gprs[HVX_RAX] = tsc_khz;
		v->gprs[HVX_RBX] = HVX_APIC_BUS_KHZ;
		*ecx = 0;
		*edx = 0;
		break;
	}
}

/**
 * hvx_vmx_handle_cpuid - emulate CPUID for the leaf in EAX, subleaf in ECX
 * @v: the vCPU.
 *
 * Return: HVX_RUN_RESUME.
 */
int hvx_vmx_handle_cpuid(struct hvx_vmx_vcpu *v)
{
	u32 leaf = v->gprs[HVX_RAX], subleaf = v->gprs[HVX_RCX];
	const struct hvx_cpuid_entry *e;

	e = hvx_vmx_cpuid_lookup(v, leaf, subleaf);
	v->gprs[HVX_RAX] = e ? e->eax : 0;
	v->gprs[HVX_RBX] = e ? e->ebx : 0;
	v->gprs[HVX_RCX] = e ? e->ecx : 0;
	v->gprs[HVX_RDX] = e ? e->edx : 0;
	/* Bits that follow the guest's own state (SDM Vol. 2A, CPUID). */
	if (e && leaf == 1) {
		v->gprs[HVX_RCX] &= ~LEAF1_ECX_OSXSAVE;
		if (v->cr4 & X86_CR4_OSXSAVE)
			v->gprs[HVX_RCX] |= LEAF1_ECX_OSXSAVE;
	}
	if (e && leaf == 0xd && subleaf == 0 && hvx_caps.guest_xcr0)
		v->gprs[HVX_RBX] = xsave_size(v->xcr0);
	if (e && v->cpuid_default)
		fix_topology(v, leaf, subleaf);
	if (v->cpuid_default)
		fix_apic(v, leaf);
	hvx_vmx_skip_instruction(v, v->instr_len);
	return HVX_RUN_RESUME;
}
