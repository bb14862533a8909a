// SPDX-License-Identifier: GPL-2.0
/*
 * domain.c - the per-VM IOMMU domain. Every IOMMU group a VM owns is
 * attached to one unmanaged domain in which each RAM slot is mapped at
 * IOVA = GPA onto the very pages EPT maps. The memory listener of ept/
 * keeps it so: a new slot is mapped while it is still invisible to the
 * guest, a deleted one unmapped (and the IOTLB flushed by iommu_unmap())
 * before its pages are unpinned. Any other IOVA faults in the IOMMU.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/slab.h>

#include "pt.h"
#include "../kmod/compat.h"

static int iommu_prot(bool readonly, struct hvx_pt_vm *ptvm)
{
	int prot = IOMMU_READ;

	if (!readonly)
		prot |= IOMMU_WRITE;
	/* Snooped DMA, as the CPU's write-back view of the pages. */
	if (ptvm->coherent)
		prot |= IOMMU_CACHE;
	return prot;
}

/*
 * Map one slot, in runs of physically contiguous pages. Called under
 * hvx_mem.lock with every page pinned, before the slot is guest-visible.
 */
static int listener_slot_add(struct hvx_mem_listener *l, u64 gpa, u64 npages,
			     struct page **pages, bool readonly)
{
	struct hvx_pt_vm *ptvm = container_of(l, struct hvx_pt_vm, listener);
	int prot = iommu_prot(readonly, ptvm);
	u64 i = 0;
	int ret;

	while (i < npages) {
		phys_addr_t pa = page_to_phys(pages[i]);
		u64 n = 1;

		while (i + n < npages &&
		       page_to_phys(pages[i + n]) == pa + (n << PAGE_SHIFT))
			n++;
		ret = hvx_iommu_map(ptvm->domain, gpa + (i << PAGE_SHIFT), pa,
				    n << PAGE_SHIFT, prot);
		if (ret) {
			if (i)
				iommu_unmap(ptvm->domain, gpa, i << PAGE_SHIFT);
			pr_warn_ratelimited("VM %u: IOMMU map of GPA %#llx failed (%d)\n",
					    ptvm->vm->id, gpa + (i << PAGE_SHIFT),
					    ret);
			return ret;
		}
		i += n;
		cond_resched();
	}
	return 0;
}

/* Unmap a slot; iommu_unmap() flushes the IOTLB before it returns. */
static void listener_slot_remove(struct hvx_mem_listener *l, u64 gpa,
				 u64 npages)
{
	struct hvx_pt_vm *ptvm = container_of(l, struct hvx_pt_vm, listener);

	iommu_unmap(ptvm->domain, gpa, npages << PAGE_SHIFT);
}

/*
 * Fault report of IOMMU drivers that call report_iommu_fault() (AMD-Vi,
 * Arm SMMU). Intel VT-d logs its DMA-remapping faults itself ("DMAR:
 * [DMA Write] Request device ... fault addr ..."; VT-d Spec 7.2) and does
 * not call this. Returning -ENOSYS lets the driver log as well.
 * Context: interrupt.
 */
static int domain_fault(struct iommu_domain *domain, struct device *dev,
			unsigned long iova, int flags, void *token)
{
	struct hvx_pt_vm *ptvm = token;

	atomic64_inc(&ptvm->nr_faults);
	dev_err_ratelimited(dev, "hvx: VM %u: blocked DMA %s at IOVA %#lx (not guest RAM)\n",
			    ptvm->vm->id,
			    flags & IOMMU_FAULT_WRITE ? "write" : "read", iova);
	return -ENOSYS;
}

static struct hvx_pt_group *find_group(struct hvx_pt_vm *ptvm,
				       struct iommu_group *group)
{
	struct hvx_pt_group *pg;

	list_for_each_entry(pg, &ptvm->groups, node)
		if (pg->group == group)
			return pg;
	return NULL;
}

/* Create the VM's domain and map its RAM into it. */
static int domain_create(struct hvx_pt_vm *ptvm, struct hvx_pt_dev *dev)
{
	struct iommu_domain *domain;
	int ret;

	domain = hvx_iommu_domain_alloc(&dev->pdev->dev);
	if (IS_ERR(domain)) {
		pci_warn(dev->pdev, "hvx: cannot allocate an IOMMU domain (%ld)\n",
			 PTR_ERR(domain));
		return PTR_ERR(domain);
	}
	iommu_set_fault_handler(domain, domain_fault, ptvm);
	ptvm->domain = domain;
	ptvm->coherent = device_iommu_capable(&dev->pdev->dev,
					      IOMMU_CAP_CACHE_COHERENCY);
	ptvm->listener.slot_add = listener_slot_add;
	ptvm->listener.slot_remove = listener_slot_remove;
	/* Pins all of guest RAM and maps every slot (slot_add). */
	ret = hvx_mem_set_listener(&ptvm->vm->mem, &ptvm->listener);
	if (ret) {
		ptvm->domain = NULL;
		iommu_domain_free(domain);
	}
	return ret;
}

static void domain_destroy(struct hvx_pt_vm *ptvm)
{
	hvx_mem_clear_listener(&ptvm->vm->mem);
	iommu_domain_free(ptvm->domain);
	ptvm->domain = NULL;
}

/**
 * hvx_pt_domain_attach - put a device's IOMMU group into the VM's domain
 * @ptvm: the VM's passthrough state (its lock is held).
 * @dev: the device being assigned; gets its @pt_group.
 * @group: the device's IOMMU group (this reference is consumed), or NULL
 *	in no-IOMMU mode (nothing to do).
 *
 * The first device of a group claims the group's DMA ownership (no
 * DMA-API driver can then bind to any device of the group) and attaches
 * it; the first group of the VM creates the domain, which maps all guest
 * RAM. Further devices of an attached group only count.
 * Context: process context of the VM's creator; hvx_pt_mutex and
 * ptvm->lock held.
 * Return: 0; -EPERM if a device of the group is in use by a host driver;
 * -ENOMEM; or the IOMMU core's error. Nothing changes on error.
 */
int hvx_pt_domain_attach(struct hvx_pt_vm *ptvm, struct hvx_pt_dev *dev,
			 struct iommu_group *group)
{
	struct hvx_pt_group *pg;
	bool created = false;
	int ret;

	if (!group)
		return 0;
	pg = find_group(ptvm, group);
	if (pg) {
		pg->nr_devs++;
		dev->pt_group = pg;
		iommu_group_put(group);
		return 0;
	}
	ret = -ENOMEM;
	pg = kzalloc(sizeof(*pg), GFP_KERNEL_ACCOUNT);
	if (!pg)
		goto err_put;
	ret = iommu_group_claim_dma_owner(group, ptvm);
	if (ret) {
		pci_info(dev->pdev, "hvx: not assigned: IOMMU group %d is in use by a host driver (%d)\n",
			 iommu_group_id(group), ret);
		ret = -EPERM;
		goto err_free;
	}
	if (!ptvm->domain) {
		ret = domain_create(ptvm, dev);
		if (ret)
			goto err_owner;
		created = true;
	}
	ret = iommu_attach_group(ptvm->domain, group);
	if (ret) {
		pci_warn(dev->pdev, "hvx: cannot attach IOMMU group %d (%d)\n",
			 iommu_group_id(group), ret);
		goto err_domain;
	}
	pg->group = group;
	pg->nr_devs = 1;
	list_add(&pg->node, &ptvm->groups);
	dev->pt_group = pg;
	return 0;

err_domain:
	if (created)
		domain_destroy(ptvm);
err_owner:
	iommu_group_release_dma_owner(group);
err_free:
	kfree(pg);
err_put:
	iommu_group_put(group);
	return ret;
}

/**
 * hvx_pt_domain_detach - take a released device out of the VM's domain
 * @ptvm: the VM's passthrough state (its lock is held).
 * @dev: the device, quiesced (no bus mastering, reset).
 *
 * The last device of a group detaches the group (it goes back to its
 * default domain) and gives up DMA ownership; the last group frees the
 * domain after unmapping all guest RAM.
 * Context: process context; hvx_pt_mutex and ptvm->lock held.
 */
void hvx_pt_domain_detach(struct hvx_pt_vm *ptvm, struct hvx_pt_dev *dev)
{
	struct hvx_pt_group *pg = dev->pt_group;

	if (!pg)
		return;
	dev->pt_group = NULL;
	if (--pg->nr_devs)
		return;
	iommu_detach_group(ptvm->domain, pg->group);
	iommu_group_release_dma_owner(pg->group);
	iommu_group_put(pg->group);
	list_del(&pg->node);
	kfree(pg);
	if (list_empty(&ptvm->groups))
		domain_destroy(ptvm);
}
