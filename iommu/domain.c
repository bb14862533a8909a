// SPDX-License-Identifier: GPL-2.0
/*
 * domain.c - the per-VM IOMMU domain. Every IOMMU group a VM owns is
 * attached to one unmanaged domain in which each RAM slot is mapped at
 * IOVA = GPA onto the very pages EPT maps. The memory listener of ept/
 * keeps it so: a new slot is mapped while it is still invisible to the
 * guest, a deleted one unmapped (and the IOTLB flushed by iommu_unmap())
 * before its pages are unpinned. Any other IOVA faults in the IOMMU.
 *
 * IOVA = GPA leaves no room to move RAM out of the way of the IOVA ranges
 * the IOMMU reserves for a group (iommu_get_group_resv_regions(): on x86
 * the MSI window 0xFEE00000-0xFEEFFFFF, which interrupt remapping
 * intercepts, and RMRRs, which the firmware's own DMA uses). So, as VFIO
 * refuses conflicting mappings, a group whose reserved regions overlap a
 * RAM slot is not attached, and a slot over a reserved region of an
 * attached group is not added: both fail with -EADDRINUSE and change
 * nothing. Relaxable RMRRs (USB and graphics, IOMMU_RESV_DIRECT_RELAXABLE)
 * are left out, as VFIO leaves them out.
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

static const char *resv_name(int type)
{
	switch (type) {
	case IOMMU_RESV_DIRECT:
		return "direct-mapped (RMRR)";
	case IOMMU_RESV_MSI:
		return "MSI window";
	case IOMMU_RESV_SW_MSI:
		return "software MSI window";
	default:
		return "reserved";
	}
}

/* The first reserved region of @pg overlapping [start, last], or NULL. */
static const struct hvx_pt_resv *resv_overlap(const struct hvx_pt_group *pg,
					      u64 start, u64 last)
{
	unsigned int i;

	for (i = 0; i < pg->nr_resv; i++)
		if (pg->resv[i].start <= last && start <= pg->resv[i].last)
			return &pg->resv[i];
	return NULL;
}

/*
 * A slot being added over a reserved region of a group of the VM (on the
 * list even before it is attached, see hvx_pt_domain_attach()) is refused.
 * Called under hvx_mem.lock.
 */
static int slot_check_resv(struct hvx_pt_vm *ptvm, u64 gpa, u64 npages)
{
	u64 last = gpa + (npages << PAGE_SHIFT) - 1;
	const struct hvx_pt_resv *r;
	struct hvx_pt_group *pg;

	list_for_each_entry(pg, &ptvm->groups, node) {
		r = resv_overlap(pg, gpa, last);
		if (r) {
			pr_info_ratelimited("VM %u: guest RAM %#llx-%#llx refused: it overlaps %#llx-%#llx, reserved by IOMMU group %d (%s)\n",
					    ptvm->host->id, gpa, last, r->start,
					    r->last, iommu_group_id(pg->group),
					    resv_name(r->type));
			return -EADDRINUSE;
		}
	}
	return 0;
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
	struct hvx_pt_ram *ram;
	u64 i = 0;
	int ret;

	ret = slot_check_resv(ptvm, gpa, npages);
	if (ret)
		return ret;
	/*
	 * Not charged to the VM's memcg: a failed slot change re-adds the old
	 * slot, which must not fail then (ept/slots.c warns if it does).
	 */
	ram = kzalloc(sizeof(*ram), GFP_KERNEL);
	if (!ram)
		return -ENOMEM;
	ram->gpa = gpa;
	ram->npages = npages;
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
					    ptvm->host->id, gpa + (i << PAGE_SHIFT),
					    ret);
			kfree(ram);
			return ret;
		}
		i += n;
		cond_resched();
	}
	list_add(&ram->node, &ptvm->ram);
	return 0;
}

/* Unmap a slot; iommu_unmap() flushes the IOTLB before it returns. */
static void listener_slot_remove(struct hvx_mem_listener *l, u64 gpa,
				 u64 npages)
{
	struct hvx_pt_vm *ptvm = container_of(l, struct hvx_pt_vm, listener);
	struct hvx_pt_ram *ram;

	iommu_unmap(ptvm->domain, gpa, npages << PAGE_SHIFT);
	list_for_each_entry(ram, &ptvm->ram, node) {
		if (ram->gpa == gpa && ram->npages == npages) {
			list_del(&ram->node);
			kfree(ram);
			return;
		}
	}
	WARN_ON_ONCE(1);
}

/*
 * Copy the reserved regions of @pg's group that guest RAM must avoid.
 * Context: process context; takes the group's mutex.
 */
static int group_resv_get(struct hvx_pt_group *pg, struct pci_dev *pdev)
{
	struct iommu_resv_region *r;
	unsigned int n = 0;
	LIST_HEAD(list);
	int ret;

	ret = iommu_get_group_resv_regions(pg->group, &list);
	if (ret)
		goto out;
	list_for_each_entry(r, &list, list)
		n += r->type != IOMMU_RESV_DIRECT_RELAXABLE && r->length;
	if (n) {
		pg->resv = kcalloc(n, sizeof(*pg->resv), GFP_KERNEL_ACCOUNT);
		if (!pg->resv) {
			ret = -ENOMEM;
			goto out;
		}
	}
	list_for_each_entry(r, &list, list) {
		if (r->type == IOMMU_RESV_DIRECT_RELAXABLE || !r->length)
			continue;
		pg->resv[pg->nr_resv].start = r->start;
		pg->resv[pg->nr_resv].last = r->start + r->length - 1;
		pg->resv[pg->nr_resv].type = r->type;
		pg->nr_resv++;
	}
out:
	iommu_put_resv_regions(&pdev->dev, &list);
	return ret;
}

/*
 * Put @pg on the VM's list, unless one of its reserved regions overlaps a
 * RAM slot already mapped in the domain: the list is what the listener
 * checks new slots against, from now on.
 * Context: hvx_pt_vm.lock held; takes hvx_mem.lock.
 */
static int group_publish(struct hvx_pt_vm *ptvm, struct hvx_pt_group *pg,
			 struct pci_dev *pdev)
{
	struct hvx_mem *mem = ptvm->host->mem;
	const struct hvx_pt_resv *r = NULL;
	struct hvx_pt_ram *ram;

	mutex_lock(&mem->lock);
	list_for_each_entry(ram, &ptvm->ram, node) {
		r = resv_overlap(pg, ram->gpa,
				 ram->gpa + (ram->npages << PAGE_SHIFT) - 1);
		if (r)
			break;
	}
	if (!r)
		list_add(&pg->node, &ptvm->groups);
	mutex_unlock(&mem->lock);
	if (!r)
		return 0;
	pci_info_ratelimited(pdev, "hvx: not assigned: IOMMU group %d reserves %#llx-%#llx (%s), which is guest RAM of VM %u\n",
			     iommu_group_id(pg->group), r->start, r->last,
			     resv_name(r->type), ptvm->host->id);
	return -EADDRINUSE;
}

/* Take @pg off the VM's list. Context: as group_publish(). */
static void group_unpublish(struct hvx_pt_vm *ptvm, struct hvx_pt_group *pg)
{
	mutex_lock(&ptvm->host->mem->lock);
	list_del(&pg->node);
	mutex_unlock(&ptvm->host->mem->lock);
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
			    ptvm->host->id,
			    flags & IOMMU_FAULT_WRITE ? "write" : "read", iova);
	/* report_iommu_fault()'s "not resolved": the driver logs it too */
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
		dev_warn_ratelimited(&dev->pdev->dev, "hvx: cannot allocate an IOMMU domain (%ld)\n",
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
	ret = hvx_mem_set_listener(ptvm->host->mem, &ptvm->listener);
	if (ret) {
		ptvm->domain = NULL;
		iommu_domain_free(domain);
	}
	return ret;
}

static void domain_destroy(struct hvx_pt_vm *ptvm)
{
	hvx_mem_clear_listener(ptvm->host->mem);
	iommu_domain_free(ptvm->domain);
	ptvm->domain = NULL;
}

/*
 * Count @dev in the VM's non-coherent DMA if nothing guarantees that its
 * DMA snoops the CPU caches: no IOMMU, or one that cannot force snooping
 * (IOMMU_CAP_CACHE_COHERENCY), as KVM's noncoherent DMA count. The guest
 * may then need WBINVD to reach the device (vmx/exit.c).
 */
static void coherence_count(struct hvx_pt_vm *ptvm, struct hvx_pt_dev *dev)
{
	dev->noncoherent = !dev->pt_group || !ptvm->coherent ||
		!device_iommu_capable(&dev->pdev->dev,
				      IOMMU_CAP_CACHE_COHERENCY);
	if (dev->noncoherent)
		atomic_inc(&ptvm->host->mem->nr_noncoherent);
}

/**
 * hvx_pt_domain_attach - put a device's IOMMU group into the VM's domain
 * @ptvm: the VM's passthrough state (its lock is held).
 * @dev: the device being assigned; gets its @pt_group.
 * @group: the device's IOMMU group (this reference is consumed), or NULL
 *	in no-IOMMU mode (nothing to do).
 *
 * A device whose DMA may not snoop the CPU caches counts in the VM's
 * hvx_mem.nr_noncoherent from a successful attach to its detach.
 *
 * The first device of a group claims the group's DMA ownership (no
 * DMA-API driver can then bind to any device of the group) and attaches
 * it; the first group of the VM creates the domain, which maps all guest
 * RAM. Further devices of an attached group only count.
 * Context: process context of the VM's creator; hvx_pt_mutex and
 * ptvm->lock held.
 * A reserved region of the group (struct hvx_pt_resv) over a RAM slot
 * fails the attach; once attached, the group's regions keep new slots off
 * them (the listener's slot_add).
 * Return: 0; -EPERM if a device of the group is in use by a host driver;
 * -EADDRINUSE if a reserved region of the group overlaps guest RAM;
 * -ENOMEM; or the IOMMU core's error. Nothing changes on error.
 */
int hvx_pt_domain_attach(struct hvx_pt_vm *ptvm, struct hvx_pt_dev *dev,
			 struct iommu_group *group)
{
	struct hvx_pt_group *pg;
	bool created = false;
	int ret;

	if (!group) {
		coherence_count(ptvm, dev);
		return 0;
	}
	pg = find_group(ptvm, group);
	if (pg) {
		pg->nr_devs++;
		dev->pt_group = pg;
		iommu_group_put(group);
		coherence_count(ptvm, dev);
		return 0;
	}
	ret = -ENOMEM;
	pg = kzalloc(sizeof(*pg), GFP_KERNEL_ACCOUNT);
	if (!pg)
		goto err_put;
	pg->group = group;
	pg->nr_devs = 1;
	ret = group_resv_get(pg, dev->pdev);
	if (ret)
		goto err_free;
	ret = iommu_group_claim_dma_owner(group, ptvm);
	if (ret) {
		pci_info_ratelimited(dev->pdev, "hvx: not assigned: IOMMU group %d is in use by a host driver (%d)\n",
				     iommu_group_id(group), ret);
		ret = -EPERM;
		goto err_free;
	}
	/* From here on, slots over its reserved regions are refused. */
	ret = group_publish(ptvm, pg, dev->pdev);
	if (ret)
		goto err_owner;
	if (!ptvm->domain) {
		/* Maps every slot: one over a reserved region fails it. */
		ret = domain_create(ptvm, dev);
		if (ret)
			goto err_unpublish;
		created = true;
	}
	ret = iommu_attach_group(ptvm->domain, group);
	if (ret) {
		dev_warn_ratelimited(&dev->pdev->dev, "hvx: cannot attach IOMMU group %d (%d)\n",
				     iommu_group_id(group), ret);
		goto err_domain;
	}
	dev->pt_group = pg;
	coherence_count(ptvm, dev);
	return 0;

err_domain:
	if (created)
		domain_destroy(ptvm);
err_unpublish:
	group_unpublish(ptvm, pg);
err_owner:
	iommu_group_release_dma_owner(group);
err_free:
	kfree(pg->resv);
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

	if (dev->noncoherent) {
		dev->noncoherent = false;
		atomic_dec(&ptvm->host->mem->nr_noncoherent);
	}
	if (!pg)
		return;
	dev->pt_group = NULL;
	if (--pg->nr_devs)
		return;
	iommu_detach_group(ptvm->domain, pg->group);
	iommu_group_release_dma_owner(pg->group);
	iommu_group_put(pg->group);
	group_unpublish(ptvm, pg);
	kfree(pg->resv);
	kfree(pg);
	if (list_empty(&ptvm->groups))
		domain_destroy(ptvm);
}
