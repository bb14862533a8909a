// SPDX-License-Identifier: GPL-2.0
/*
 * vpid.c - VPID allocator (SDM Vol. 3C 29.1, "Virtual Processor
 * Identifiers").
 *
 * Each vCPU gets its own VPID so that VM entries and exits flush nothing.
 * VPID 0 is the host's and never handed out. A freed VPID is flushed on
 * every CPU (INVVPID single-context) before it can be given to a new vCPU.
 */
#include <linux/bitmap.h>
#include <linux/smp.h>
#include <linux/spinlock.h>

#include "ept.h"

#define HVX_NR_VPIDS	(1 << 16)

static DECLARE_BITMAP(vpid_used, HVX_NR_VPIDS);
static DEFINE_SPINLOCK(vpid_lock);
static bool vpid_enabled;

/**
 * hvx_vpid_init - enable or disable VPID allocation
 * @enabled: the CPU supports VPID and single-context INVVPID.
 *
 * Return: 0.
 */
int hvx_vpid_init(bool enabled)
{
	vpid_enabled = enabled;
	__set_bit(0, vpid_used);
	return 0;
}

/**
 * hvx_vpid_alloc - allocate a VPID
 *
 * Context: any.
 * Return: a VPID in 1..65535, or 0 when VPIDs are not used
 * or are exhausted (the vCPU then runs without VPID and every VM entry and
 * exit flushes its linear mappings, SDM Vol. 3C 29.4.3.3).
 */
int hvx_vpid_alloc(void)
{
	int vpid;

	if (!vpid_enabled)
		return 0;
	spin_lock(&vpid_lock);
	vpid = find_first_zero_bit(vpid_used, HVX_NR_VPIDS);
	if (vpid < HVX_NR_VPIDS)
		__set_bit(vpid, vpid_used);
	else
		vpid = 0;
	spin_unlock(&vpid_lock);
	return vpid;
}

static void vpid_flush_ipi(void *data)
{
	hvx_invvpid(VMX_VPID_EXTENT_SINGLE_CONTEXT, (u16)(unsigned long)data);
}

/**
 * hvx_vpid_free - flush a VPID on every CPU and release it
 * @vpid: a value from hvx_vpid_alloc(); 0 is ignored.
 *
 * Context: process context while VMX root operation is on (a VM exists).
 */
void hvx_vpid_free(int vpid)
{
	if (!vpid)
		return;
	on_each_cpu(vpid_flush_ipi, (void *)(unsigned long)vpid, 1);
	spin_lock(&vpid_lock);
	__clear_bit(vpid, vpid_used);
	spin_unlock(&vpid_lock);
}
