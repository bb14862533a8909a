// SPDX-License-Identifier: GPL-2.0
/*
 * cpuid.c - CPUID exits (SDM Vol. 3C 26.1.2: CPUID always exits).
 *
 * The guest sees the host's CPUID with what hvx does not virtualize
 * hidden (VMX, SMX, XSAVE and AVX, PCID, x2APIC, performance monitoring,
 * MONITOR/MWAIT, RDTSCP, most of leaf 7), the hypervisor bit set, a
 * single-CPU topology with the vCPU id as initial APIC id, and the hvx
 * signature leaf 0x40000000. Bit positions: SDM Vol. 2A, CPUID, Tables
 * 3-10 and 3-11.
 */
#include <asm/processor.h>

#include "vmx.h"

#define HVX_CPUID_SIGNATURE	"hvxhvxhvxhvx"

/* CPUID.1:ECX bits hidden from the guest. */
#define LEAF1_ECX_HIDDEN (BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | \
			  BIT(7) | BIT(8) | BIT(11) | BIT(12) | BIT(14) | \
			  BIT(15) | BIT(17) | BIT(18) | BIT(21) | BIT(24) | \
			  BIT(26) | BIT(27) | BIT(28) | BIT(29))
#define LEAF1_ECX_HYPERVISOR	BIT(31)
/* CPUID.1:EDX: DS, ACPI, HTT, TM, PBE. */
#define LEAF1_EDX_HIDDEN (BIT(21) | BIT(22) | BIT(28) | BIT(29) | BIT(31))
/* CPUID.7.0:EBX bits kept: BMI1, BMI2, ERMS, ADX (no OS support needed). */
#define LEAF7_EBX_KEPT	(BIT(3) | BIT(8) | BIT(9) | BIT(19))
/* CPUID.80000001H:EDX RDTSCP (hvx does not enable it). */
#define EXT1_EDX_HIDDEN	BIT(27)

/**
 * hvx_vmx_handle_cpuid - emulate CPUID for the leaf in EAX, subleaf in ECX
 * @v: the vCPU.
 *
 * Return: HVX_RUN_RESUME.
 */
int hvx_vmx_handle_cpuid(struct hvx_vmx_vcpu *v)
{
	u32 leaf = v->gprs[HVX_RAX], subleaf = v->gprs[HVX_RCX];
	u32 eax = 0, ebx = 0, ecx = 0, edx = 0;

	if ((leaf & 0xffff0000) == 0x40000000) {
		if (leaf == 0x40000000) {
			eax = 0x40000000;
			memcpy(&ebx, HVX_CPUID_SIGNATURE, 4);
			memcpy(&ecx, HVX_CPUID_SIGNATURE + 4, 4);
			memcpy(&edx, HVX_CPUID_SIGNATURE + 8, 4);
		}
		goto out;
	}

	cpuid_count(leaf, subleaf, &eax, &ebx, &ecx, &edx);
	switch (leaf) {
	case 1:
		ecx = (ecx & ~LEAF1_ECX_HIDDEN) | LEAF1_ECX_HYPERVISOR;
		edx &= ~LEAF1_EDX_HIDDEN;
		/* EBX[31:24] initial APIC id, [23:16] logical processors. */
		ebx = (ebx & 0xffff) | (v->id << 24) | (1 << 16);
		break;
	case 4:
		/* One core, one thread per cache (EAX[31:26], EAX[25:14]). */
		eax &= 0x3fff;
		break;
	case 7:
		if (subleaf == 0) {
			eax = 0;
			ebx &= LEAF7_EBX_KEPT;
		} else {
			ebx = 0;
		}
		ecx = 0;
		edx = 0;
		break;
	case 5:		/* MONITOR/MWAIT */
	case 6:		/* thermal and power */
	case 0xa:	/* performance monitoring */
	case 0xb:	/* x2APIC topology */
	case 0xd:	/* XSAVE */
	case 0x1f:	/* V2 topology */
		eax = ebx = ecx = edx = 0;
		break;
	case 0x80000001:
		edx &= ~EXT1_EDX_HIDDEN;
		break;
	}
out:
	v->gprs[HVX_RAX] = eax;
	v->gprs[HVX_RBX] = ebx;
	v->gprs[HVX_RCX] = ecx;
	v->gprs[HVX_RDX] = edx;
	hvx_vmx_skip_instruction(v, v->instr_len);
	return HVX_RUN_RESUME;
}
