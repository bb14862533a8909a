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
 * Where the GPA and host address of a range are both aligned to 2 MiB or
 * 1 GiB (and the VM may use such leaves), a large UC leaf maps it: a
 * large BAR costs few tables and few loop steps, and the loop yields the
 * CPU every MMIO_RESCHED leaves all the same.
 *
 * The APIC-access page (hvx_mem_map_private()) is kept on the same list,
 * as a write-back page, so that no slot can be created over it either;
 * it is RAM, so it does not count as device memory for the MMIO-stale-data
 * VERW (hvx_mem.nr_device_mmio).
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
#include <asm/io.h>

#include "ept.h"

#define MMIO_PROT	(VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK)
/* Leaves installed between two cond_resched() calls. */
#define MMIO_RESCHED	512

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
 * Installs leaves, readable and writable but not executable, of memory
 * type UC: 1 GiB or 2 MiB leaves where both addresses are aligned to that
 * size and the VM may use them (hvx_mem.max_level), else 4 KiB. Adding
 * translations needs no INVEPT (SDM Vol. 3C 29.4.3.1). The loop yields
 * the CPU regularly (a BAR may be many GiB).
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
	u64 off = 0, steps = 0;
	int ret = 0, level;

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
	hvx_mem_changed(mem);
	r->gpa = gpa;
	r->hpa = hpa;
	while (off < size) {
		level = hvx_ept_leaf_level(mem->max_level, gpa + off, hpa + off,
					   size - off);
		for (;;) {
			ret = hvx_ept_map_mt(mem, gpa + off, hpa + off, level,
					     MMIO_PROT, VMX_EPTP_MT_UC);
			/* A table of smaller leaves in the way: go smaller. */
			if (ret != -EEXIST || level == 1)
				break;
			level--;
		}
		if (ret < 0)
			break;
		if (ret == 0) {		/* a larger leaf is there */
			ret = -EBUSY;
			break;
		}
		ret = 0;
		off += 1ULL << (PAGE_SHIFT + 9 * (level - 1));
		if (!(++steps % MMIO_RESCHED))
			cond_resched();
	}
	if (ret) {
		/* Only the leaves installed here; one that was in the way stays. */
		mmio_zap(mem, r, off >> PAGE_SHIFT);
		goto out;
	}
	r->npages = size >> PAGE_SHIFT;
	r->private = false;
	list_add(&r->node, &mem->mmio);
	WRITE_ONCE(mem->nr_device_mmio, mem->nr_device_mmio + 1);
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
	hvx_mem_changed(mem);
	list_del(&r->node);
	mmio_zap(mem, r, r->npages);
	r->npages = 0;
	if (!r->private)
		WRITE_ONCE(mem->nr_device_mmio, mem->nr_device_mmio - 1);
	mutex_unlock(&mem->lock);
}

/**
 * hvx_mem_map_private - map a kernel page into a VM's EPT and reserve its GPA
 * @mem: the VM's memory.
 * @r: the range's bookkeeping, not mapped (@r->npages == 0).
 * @gpa: guest-physical address, page-aligned.
 * @page: the page, write-back, readable and writable, not executable.
 *
 * For the APIC-access page (SDM Vol. 3C 30.4): the CPU never accesses the
 * page itself, only its address matters, but a RAM slot over it would
 * make the guest's accesses there hit the slot's memory (or fault with no
 * way out), so the GPA is reserved as device memory is: a slot that
 * overlaps it is refused with -EEXIST. hvx_mmio_unmap() undoes it.
 * Context: process context, may sleep; takes mem->lock.
 * Return: 0; -EEXIST if a slot or mapped range covers @gpa; -EBUSY if
 * another leaf is there; -EOPNOTSUPP for a VM without EPT; -ENOMEM.
 */
int hvx_mem_map_private(struct hvx_mem *mem, struct hvx_mmio_range *r,
			u64 gpa, struct page *page)
{
	int ret;

	if (!PAGE_ALIGNED(gpa) || WARN_ON_ONCE(r->npages))
		return -EINVAL;
	if (mem->no_ept)
		return -EOPNOTSUPP;
	mutex_lock(&mem->lock);
	if (hvx_mem_range_used(mem, gpa, gpa + PAGE_SIZE) ||
	    hvx_mmio_overlaps(mem, gpa, gpa + PAGE_SIZE)) {
		ret = -EEXIST;
		goto out;
	}
	hvx_mem_changed(mem);
	ret = hvx_ept_map(mem, gpa, page_to_phys(page), 1,
			  VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK);
	if (ret < 0)
		goto out;
	if (ret == 0) {
		ret = -EBUSY;
		goto out;
	}
	ret = 0;
	r->gpa = gpa;
	r->hpa = page_to_phys(page);
	r->npages = 1;
	r->private = true;
	list_add(&r->node, &mem->mmio);
out:
	mutex_unlock(&mem->lock);
	return ret;
}
