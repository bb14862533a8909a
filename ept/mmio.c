// SPDX-License-Identifier: GPL-2.0
/*
 * mmio.c - device memory in the EPT: the BARs of assigned PCI devices,
 * mapped uncacheable at the guest-physical address the guest gave them,
 * so that the guest's register accesses cost no exit.
 *
 * Memory type UC is 0 in bits 5:3 of an EPT leaf (SDM Vol. 3C 29.3.7);
 * with EPT type UC the effective type is UC whatever the guest's PAT says
 * (SDM Vol. 3A 12.11, Table 12-7), as device registers need.
 *
 * A range never overlaps a RAM slot: mapping one over a slot fails, and
 * so does creating a slot over a mapped range (hvx_mmio_overlaps()). So
 * the EPT-violation path (which only maps pages inside slots) never
 * walks into these leaves, and hvx_ept_zap_range() frees only tables no
 * slot and no other range needs (an emptied table with device leaves is
 * not empty).
 */
#include <linux/list.h>
#include <linux/mm.h>

#include "ept.h"

#define MMIO_PROT	(VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK)

/**
 * hvx_mmio_overlaps - does a GPA range touch mapped device memory?
 * @mem: the VM's memory.
 * @start: first byte.
 * @end: one past the last byte.
 *
 * Context: holds mem->lock.
 * Return: true if a range of mem->mmio overlaps [@start, @end).
 */
bool hvx_mmio_overlaps(struct hvx_mem *mem, u64 start, u64 end)
{
	struct hvx_mmio_range *r;

	lockdep_assert_held(&mem->lock);
	list_for_each_entry(r, &mem->mmio, node)
		if (start < r->gpa + (r->npages << PAGE_SHIFT) && r->gpa < end)
			return true;
	return false;
}

/* Clear @r's leaves and flush every CPU. Holds mem->lock. */
static void mmio_zap(struct hvx_mem *mem, struct hvx_mmio_range *r, u64 npages)
{
	if (npages)
		hvx_ept_zap_range(mem, r->gpa, npages);
}

/**
 * hvx_mmio_map - map device memory into a VM's EPT, uncacheable
 * @mem: the VM's memory.
 * @r: the range's bookkeeping, not mapped (@r->npages == 0).
 * @gpa: guest-physical address, page-aligned.
 * @hpa: host physical address (a BAR), page-aligned.
 * @size: bytes, a multiple of the page size.
 *
 * Installs 4 KiB leaves, readable and writable but not executable, of
 * memory type UC. Adding translations needs no INVEPT (SDM Vol. 3C
 * 29.4.3.1).
 * Context: process context, may sleep; takes mem->lock.
 * Return: 0; -EINVAL for a misaligned or empty range or one beyond the
 * host's physical address width; -EEXIST if it overlaps a RAM slot or
 * another mapped range; -EBUSY if another leaf (the APIC-access page) is
 * there; -EOPNOTSUPP for a VM without EPT (HVX_VM_NO_VCPUS); -ENOMEM.
 * Nothing stays mapped on error.
 */
int hvx_mmio_map(struct hvx_mem *mem, struct hvx_mmio_range *r, u64 gpa,
		 u64 hpa, u64 size)
{
	u64 max_gpa = 1ULL << boot_cpu_data.x86_phys_bits;
	u64 i, n = size >> PAGE_SHIFT;
	int ret = 0;

	if (!size || !PAGE_ALIGNED(gpa) || !PAGE_ALIGNED(hpa) ||
	    !PAGE_ALIGNED(size) || gpa + size < gpa || gpa + size > max_gpa ||
	    WARN_ON_ONCE(r->npages))
		return -EINVAL;
	if (mem->no_ept)
		return -EOPNOTSUPP;
	mutex_lock(&mem->lock);
	if (hvx_mem_range_used(mem, gpa, gpa + size) ||
	    hvx_mmio_overlaps(mem, gpa, gpa + size)) {
		ret = -EEXIST;
		goto out;
	}
	r->gpa = gpa;
	r->hpa = hpa;
	for (i = 0; i < n; i++) {
		ret = hvx_ept_map_mt(mem, gpa + (i << PAGE_SHIFT),
				     hpa + (i << PAGE_SHIFT), 1, MMIO_PROT,
				     VMX_EPTP_MT_UC);
		if (ret < 0)
			break;
		if (ret == 0) {		/* a larger leaf is there */
			ret = -EBUSY;
			break;
		}
		ret = 0;
	}
	if (ret) {
		/* Only the leaves installed here; one that was in the way stays. */
		mmio_zap(mem, r, i);
		goto out;
	}
	r->npages = n;
	list_add(&r->node, &mem->mmio);
out:
	mutex_unlock(&mem->lock);
	return ret;
}

/**
 * hvx_mmio_unmap - remove device memory from a VM's EPT
 * @mem: the VM's memory.
 * @r: a range hvx_mmio_map() mapped; nothing happens if it is not mapped.
 *
 * Clears its leaves and executes INVEPT on every CPU
 * (hvx_ept_zap_range()) before returning: afterwards no guest access
 * reaches the device through @r.
 * Context: process context, may sleep; takes mem->lock.
 */
void hvx_mmio_unmap(struct hvx_mem *mem, struct hvx_mmio_range *r)
{
	if (!r->npages)
		return;
	mutex_lock(&mem->lock);
	list_del(&r->node);
	mmio_zap(mem, r, r->npages);
	r->npages = 0;
	mutex_unlock(&mem->lock);
}
