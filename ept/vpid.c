// SPDX-License-Identifier: GPL-2.0
/*
 * vpid.c - VPID allocator (SDM Vol. 3C 29.1, "Virtual Processor
 * Identifiers").
 *
 * Each vCPU gets its own VPID so that VM entries and exits flush nothing.
 * VPID 0 is the host's and never handed out. A freed VPID is flushed
 * (INVVPID single-context) on every CPU where its VM has run before it
 * can be given to a new vCPU. When none is left, a vCPU gets 0 and runs
 * with the "enable VPID" control clear (vmx/vmcs.c): every VM entry and
 * exit then flushes its linear and combined mappings (SDM Vol. 3C
 * 29.4.3.3), which is slower but correct.
 *
 * Where hvx shares VMX with KVM (kmod/compat.h, HVX_VMX_SHARED), hvx hands
 * out VPIDs from vpid_max downwards and KVM from 1 upwards, so the two
 * meet only when both together use all 65535. Mappings are tagged with
 * the VPID, the PCID and, with EPT, the EPT root (SDM Vol. 3C 29.4.1), and
 * each hypervisor flushes by VPID (INVVPID) on its own assumptions about
 * which VPIDs are its: disjoint VPIDs keep KVM's flushes and hvx's from
 * having to cover each other's.
 */
#include <linux/cpu.h>
#include <linux/module.h>
#include <linux/bitmap.h>
#include <linux/smp.h>
#include <linux/spinlock.h>

#include "ept.h"
#include "../kmod/compat.h"

#define HVX_NR_VPIDS	BIT(16)

static DECLARE_BITMAP(vpid_used, HVX_NR_VPIDS);
static DEFINE_SPINLOCK(vpid_lock);
static bool vpid_enabled;
static const bool vpid_top_down = HVX_VMX_IS_SHARED;

/* The bit of @vpid in vpid_used: reversed when handing out top-down. */
static unsigned int vpid_bit(unsigned int vpid)
{
	return vpid_top_down ? HVX_NR_VPIDS - 1 - vpid : vpid;
}

static unsigned int vpid_max = HVX_NR_VPIDS - 1;
module_param(vpid_max, uint, 0644);
MODULE_PARM_DESC(vpid_max, "Largest VPID handed to a vCPU (1-65535; fewer VPIDs than vCPUs makes the rest run without VPID)");

/**
 * hvx_vpid_init - enable or disable VPID allocation
 * @enabled: the CPU supports VPID and single-context INVVPID.
 *
 * Return: 0.
 */
int hvx_vpid_init(bool enabled)
{
	vpid_enabled = enabled;
	__set_bit(vpid_bit(0), vpid_used);
	return 0;
}

/**
 * hvx_vpid_alloc - allocate a VPID
 *
 * Context: any.
 * Return: a VPID in 1..vpid_max (the largest free one with shared VMX,
 * else the smallest), or 0 when VPIDs are not used or are
 * exhausted: the caller then clears SECONDARY_EXEC_ENABLE_VPID for the
 * vCPU (a VM entry with the control set and VPID 0 fails, SDM Vol. 3C
 * 27.2.1.1), and every VM entry and exit flushes its linear mappings
 * (SDM Vol. 3C 29.4.3.3).
 */
int hvx_vpid_alloc(void)
{
	unsigned int max = min_t(unsigned int, READ_ONCE(vpid_max),
				 HVX_NR_VPIDS - 1);
	unsigned int bit;
	int vpid;

	if (!vpid_enabled)
		return 0;
	spin_lock(&vpid_lock);
	if (vpid_top_down) {
		/* Bits HVX_NR_VPIDS - 1 - max .. HVX_NR_VPIDS - 2: VPIDs max .. 1. */
		bit = find_next_zero_bit(vpid_used, HVX_NR_VPIDS - 1,
					 HVX_NR_VPIDS - 1 - max);
		vpid = bit < HVX_NR_VPIDS - 1 ? HVX_NR_VPIDS - 1 - bit : 0;
	} else {
		bit = find_first_zero_bit(vpid_used, max + 1);
		vpid = bit <= max ? bit : 0;
	}
	if (vpid)
		__set_bit(vpid_bit(vpid), vpid_used);
	spin_unlock(&vpid_lock);
	return vpid;
}

static void vpid_flush_ipi(void *data)
{
	if (hvx_vmx_cpu_on())
		hvx_invvpid(VMX_VPID_EXTENT_SINGLE_CONTEXT,
			    (u16)(unsigned long)data);
}

/**
 * hvx_vpid_free - flush a VPID where it was used and release it
 * @mem: memory of the vCPU's VM: its @cpus are the CPUs where the vCPU
 *	can have run, so the only ones that can cache the VPID's mappings.
 * @vpid: a value from hvx_vpid_alloc(); 0 is ignored.
 *
 * CPU hotplug is held off meanwhile, so every CPU the IPI reaches is in
 * VMX root operation.
 * Context: process context while VMX root operation is on (a VM exists).
 */
void hvx_vpid_free(struct hvx_mem *mem, int vpid)
{
	if (!vpid)
		return;
	cpus_read_lock();
	on_each_cpu_mask(mem->cpus, vpid_flush_ipi, (void *)(unsigned long)vpid,
			 1);
	cpus_read_unlock();
	spin_lock(&vpid_lock);
	__clear_bit(vpid_bit(vpid), vpid_used);
	spin_unlock(&vpid_lock);
}
