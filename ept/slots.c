// SPDX-License-Identifier: GPL-2.0
/*
 * slots.c - memory slots: guest RAM taken from the VM owner's address
 * space, pinned page by page on first guest touch (pin_user_pages_fast()
 * with FOLL_LONGTERM), and unpinned when the slot or the VM goes away.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/io.h>
#include <asm/processor.h>

#include "ept.h"

/* Pages pinned per pin_user_pages_fast() call when pinning a whole slot. */
#define PIN_BATCH	512

/**
 * hvx_mem_init - initialise a VM's guest-physical address space
 * @mem: zeroed memory of the VM.
 *
 * Return: 0, or -ENOMEM.
 */
int hvx_mem_init(struct hvx_mem *mem)
{
	int ret;

	mutex_init(&mem->lock);
	ret = init_srcu_struct(&mem->srcu);
	if (ret)
		return ret;
	ret = hvx_ept_init(mem);
	if (ret)
		cleanup_srcu_struct(&mem->srcu);
	return ret;
}

static void slot_free(struct hvx_mem *mem, struct hvx_slot *slot)
{
	u64 i, n = 0;

	for (i = 0; i < slot->npages; i++) {
		if (slot->pages[i]) {
			unpin_user_page(slot->pages[i]);
			n++;
		}
	}
	atomic64_sub(n, &mem->nr_pinned);
	kvfree(slot->pages);
	kfree(slot);
}

/*
 * Pin every page of @slot that is not pinned yet. vCPUs may pin pages of
 * the slot concurrently (slot_pin()); an entry is only ever set with
 * cmpxchg(), so a page pinned twice is unpinned again here. On error the
 * pages pinned so far stay in the slot (and are unpinned with it).
 * Context: process context of the VM owner, may sleep.
 */
static int slot_pin_all(struct hvx_mem *mem, struct hvx_slot *slot)
{
	unsigned int flags = FOLL_LONGTERM;
	struct page **tmp;
	u64 i = 0;
	int ret = 0;

	if (!(slot->flags & HVX_MEM_READONLY))
		flags |= FOLL_WRITE;
	tmp = kmalloc_array(PIN_BATCH, sizeof(*tmp), GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	while (i < slot->npages) {
		int n = min_t(u64, PIN_BATCH, slot->npages - i);
		int got, j;

		got = pin_user_pages_fast(slot->hva + (i << PAGE_SHIFT), n,
					  flags, tmp);
		if (got <= 0) {
			ret = got ? got : -EFAULT;
			break;
		}
		for (j = 0; j < got; j++) {
			if (cmpxchg(&slot->pages[i + j], NULL, tmp[j]))
				unpin_user_page(tmp[j]);
			else
				atomic64_inc(&mem->nr_pinned);
		}
		i += got;
		cond_resched();
	}
	kfree(tmp);
	return ret;
}

static int listener_add(struct hvx_mem *mem, struct hvx_slot *slot)
{
	struct hvx_mem_listener *l = mem->listener;
	int ret;

	if (!l)
		return 0;
	ret = slot_pin_all(mem, slot);
	if (ret)
		return ret;
	return l->slot_add(l, slot->gpa, slot->npages, slot->pages,
			   slot->flags & HVX_MEM_READONLY);
}

static void listener_remove(struct hvx_mem *mem, struct hvx_slot *slot)
{
	if (mem->listener)
		mem->listener->slot_remove(mem->listener, slot->gpa,
					   slot->npages);
}

/**
 * hvx_mem_destroy - free all slots, unpin all pages, free the EPT
 * @mem: the VM's memory; no vCPU may run any more.
 *
 * The caller flushes stale EPT translations (hvx_ept_flush_all_cpus())
 * before this returns the pages to the owner.
 */
void hvx_mem_destroy(struct hvx_mem *mem)
{
	int i;

	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		struct hvx_slot *slot = rcu_dereference_protected(mem->slots[i], 1);

		if (slot) {
			listener_remove(mem, slot);
			slot_free(mem, slot);
		}
		RCU_INIT_POINTER(mem->slots[i], NULL);
	}
	mem->listener = NULL;
	WARN_ON(atomic64_read(&mem->nr_pinned));
	hvx_ept_destroy(mem);
	cleanup_srcu_struct(&mem->srcu);
}

static bool region_overlaps(struct hvx_mem *mem, u64 gpa, u64 size)
{
	int i;

	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		struct hvx_slot *s = rcu_dereference_protected(mem->slots[i],
						lockdep_is_held(&mem->lock));

		if (s && gpa < s->gpa + (s->npages << PAGE_SHIFT) &&
		    s->gpa < gpa + size)
			return true;
	}
	return false;
}

static int region_validate(const struct hvx_memory_region *r)
{
	u64 max_gpa = 1ULL << boot_cpu_data.x86_phys_bits;
	int i;

	if (r->slot >= HVX_MAX_MEM_SLOTS || (r->flags & ~HVX_MEM_VALID_FLAGS))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(r->reserved); i++)
		if (r->reserved[i])
			return -EINVAL;
	if (!r->memory_size)
		return 0;
	if (!PAGE_ALIGNED(r->guest_phys_addr) || !PAGE_ALIGNED(r->memory_size) ||
	    !PAGE_ALIGNED(r->userspace_addr))
		return -EINVAL;
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
	    r->guest_phys_addr + r->memory_size > max_gpa)
		return -EINVAL;
	if (r->userspace_addr + r->memory_size < r->userspace_addr ||
	    !access_ok((void __user *)(unsigned long)r->userspace_addr,
		       r->memory_size))
		return -EFAULT;
	return 0;
}

static int region_delete(struct hvx_mem *mem, u32 id)
{
	struct hvx_slot *slot = rcu_dereference_protected(mem->slots[id],
						lockdep_is_held(&mem->lock));

	if (!slot)
		return -ENOENT;
	rcu_assign_pointer(mem->slots[id], NULL);
	/* After this no vCPU can be mapping a page of the slot. */
	synchronize_srcu(&mem->srcu);
	hvx_ept_unmap_range(mem, slot->gpa, slot->npages);
	hvx_ept_flush_all_cpus(mem);
	listener_remove(mem, slot);
	slot_free(mem, slot);
	return 0;
}

/*
 * Is every page of [hva, hva + size) backed by a readable VMA of this
 * process, writable unless the slot is read-only, and not device memory?
 */
static bool region_mapped(unsigned long hva, u64 size, bool readonly)
{
	unsigned long need = VM_READ | (readonly ? 0 : VM_WRITE);
	struct mm_struct *mm = current->mm;
	unsigned long end = hva + size;
	struct vm_area_struct *vma;
	bool ok = true;

	mmap_read_lock(mm);
	while (hva < end) {
		vma = find_vma(mm, hva);
		if (!vma || vma->vm_start > hva ||
		    (vma->vm_flags & need) != need ||
		    (vma->vm_flags & (VM_IO | VM_PFNMAP))) {
			ok = false;
			break;
		}
		hva = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ok;
}

/**
 * hvx_mem_set_region - create or delete a memory slot
 * @mem: the VM's memory.
 * @r: the request, as passed by userspace (see struct hvx_memory_region).
 *
 * Context: process context of the VM owner; takes mem->lock.
 * Return: 0; -EINVAL for bad slot, flags, reserved fields, alignment or
 * range; -EFAULT if the HVA range is not mapped in the caller; -EEXIST if
 * the slot exists or the GPA range overlaps another slot; -ENOENT when
 * deleting a missing slot; -ENOMEM.
 */
int hvx_mem_set_region(struct hvx_mem *mem, const struct hvx_memory_region *r)
{
	struct hvx_slot *slot;
	int ret;

	ret = region_validate(r);
	if (ret)
		return ret;

	mutex_lock(&mem->lock);
	if (!r->memory_size) {
		ret = region_delete(mem, r->slot);
		goto out;
	}
	ret = -EEXIST;
	if (rcu_access_pointer(mem->slots[r->slot]) ||
	    region_overlaps(mem, r->guest_phys_addr, r->memory_size))
		goto out;
	ret = -EFAULT;
	if (!region_mapped(r->userspace_addr, r->memory_size,
			   r->flags & HVX_MEM_READONLY))
		goto out;

	ret = -ENOMEM;
	slot = kzalloc(sizeof(*slot), GFP_KERNEL_ACCOUNT);
	if (!slot)
		goto out;
	slot->gpa = r->guest_phys_addr;
	slot->npages = r->memory_size >> PAGE_SHIFT;
	slot->hva = r->userspace_addr;
	slot->flags = r->flags;
	slot->pages = kvcalloc(slot->npages, sizeof(*slot->pages),
			       GFP_KERNEL_ACCOUNT);
	if (!slot->pages) {
		kfree(slot);
		goto out;
	}
	ret = listener_add(mem, slot);
	if (ret) {
		slot_free(mem, slot);
		goto out;
	}
	rcu_assign_pointer(mem->slots[r->slot], slot);
	ret = 0;
out:
	mutex_unlock(&mem->lock);
	return ret;
}

/**
 * hvx_mem_set_listener - attach the (single) memory listener
 * @mem: the VM's memory.
 * @l: the listener; its callbacks are called under mem->lock.
 *
 * Pins every page of every existing slot (from now on memory stays fully
 * pinned while a listener exists, and new slots are pinned whole when they
 * are added) and calls @l->slot_add for each slot.
 *
 * Context: process context of the VM owner (pins its pages); takes
 * mem->lock.
 * Return: 0; -EBUSY if a listener is set; -EFAULT if a slot's user memory
 * cannot be pinned; -ENOMEM; or the error of @l->slot_add. On error the
 * slots already reported are removed again (@l->slot_remove) and no
 * listener is set; pages pinned meanwhile stay pinned until their slot
 * goes.
 */
int hvx_mem_set_listener(struct hvx_mem *mem, struct hvx_mem_listener *l)
{
	int i, ret = 0;

	mutex_lock(&mem->lock);
	if (mem->listener) {
		ret = -EBUSY;
		goto out;
	}
	mem->listener = l;
	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		struct hvx_slot *s = rcu_dereference_protected(mem->slots[i],
						lockdep_is_held(&mem->lock));

		if (!s)
			continue;
		ret = listener_add(mem, s);
		if (ret)
			break;
	}
	if (ret) {
		while (--i >= 0) {
			struct hvx_slot *s = rcu_dereference_protected(mem->slots[i],
						lockdep_is_held(&mem->lock));

			if (s)
				listener_remove(mem, s);
		}
		mem->listener = NULL;
	}
out:
	mutex_unlock(&mem->lock);
	return ret;
}

/**
 * hvx_mem_clear_listener - detach the memory listener
 * @mem: the VM's memory.
 *
 * Calls slot_remove of the listener for every slot, then forgets it. The
 * pages stay pinned until their slot is deleted or the VM goes. Does
 * nothing without a listener.
 *
 * Context: process context; takes mem->lock.
 */
void hvx_mem_clear_listener(struct hvx_mem *mem)
{
	int i;

	mutex_lock(&mem->lock);
	if (mem->listener) {
		for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
			struct hvx_slot *s = rcu_dereference_protected(mem->slots[i],
						lockdep_is_held(&mem->lock));

			if (s)
				listener_remove(mem, s);
		}
		mem->listener = NULL;
	}
	mutex_unlock(&mem->lock);
}

/**
 * hvx_mem_size - bytes of guest memory in a VM's slots
 * @mem: the VM's memory.
 *
 * Context: any process context; does not wait for slot changes (a
 * concurrent change is either counted or not).
 * Return: the sum of the slot sizes, bytes.
 */
u64 hvx_mem_size(struct hvx_mem *mem)
{
	u64 pages = 0;
	int i, idx;

	idx = srcu_read_lock(&mem->srcu);
	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		struct hvx_slot *s = srcu_dereference(mem->slots[i], &mem->srcu);

		if (s)
			pages += s->npages;
	}
	srcu_read_unlock(&mem->srcu, idx);
	return pages << PAGE_SHIFT;
}

/* Caller holds mem->srcu. */
static struct hvx_slot *slot_find(struct hvx_mem *mem, u64 gpa)
{
	int i;

	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		struct hvx_slot *s = srcu_dereference(mem->slots[i], &mem->srcu);

		if (s && gpa >= s->gpa && gpa < s->gpa + (s->npages << PAGE_SHIFT))
			return s;
	}
	return NULL;
}

/* Pin the page behind @idx of @slot once; caller holds mem->srcu. */
static struct page *slot_pin(struct hvx_mem *mem, struct hvx_slot *slot,
			     u64 idx)
{
	unsigned int flags = FOLL_LONGTERM;
	struct page *page, *old;

	page = READ_ONCE(slot->pages[idx]);
	if (page)
		return page;
	if (!(slot->flags & HVX_MEM_READONLY))
		flags |= FOLL_WRITE;
	if (pin_user_pages_fast(slot->hva + (idx << PAGE_SHIFT), 1, flags,
				&page) != 1)
		return ERR_PTR(-EFAULT);
	old = cmpxchg(&slot->pages[idx], NULL, page);
	if (old) {
		unpin_user_page(page);	/* another vCPU pinned it first */
		return old;
	}
	atomic64_inc(&mem->nr_pinned);
	return page;
}

/**
 * hvx_ept_fault - resolve an EPT violation
 * @mem: the VM's memory.
 * @gpa: faulting guest physical address.
 * @write: the access was a write.
 *
 * Context: process context of the VM owner (pins its pages), may sleep.
 * Return: HVX_FAULT_MAPPED, HVX_FAULT_MMIO, -EFAULT if the slot's user
 * memory cannot be pinned (unmapped behind hvx's back), -ENOMEM.
 */
int hvx_ept_fault(struct hvx_mem *mem, u64 gpa, bool write)
{
	struct hvx_slot *slot;
	struct page *page;
	int idx, ret;
	u64 pfn_idx;

	idx = srcu_read_lock(&mem->srcu);
	slot = slot_find(mem, gpa);
	ret = HVX_FAULT_MMIO;
	if (!slot || (write && (slot->flags & HVX_MEM_READONLY)))
		goto out;
	pfn_idx = (gpa - slot->gpa) >> PAGE_SHIFT;
	page = slot_pin(mem, slot, pfn_idx);
	ret = PTR_ERR_OR_ZERO(page);
	if (ret)
		goto out;
	ret = hvx_ept_map(mem, gpa & PAGE_MASK, page_to_phys(page),
			  !(slot->flags & HVX_MEM_READONLY));
	if (!ret)
		ret = HVX_FAULT_MAPPED;
out:
	srcu_read_unlock(&mem->srcu, idx);
	return ret;
}

static int gpa_copy(struct hvx_mem *mem, u64 gpa, void *buf, unsigned int len,
		    bool write)
{
	int idx, ret = 0;

	idx = srcu_read_lock(&mem->srcu);
	while (len) {
		struct hvx_slot *slot = slot_find(mem, gpa);
		unsigned int chunk = min_t(u64, len, PAGE_SIZE - offset_in_page(gpa));
		void __user *hva;

		if (!slot || (write && (slot->flags & HVX_MEM_READONLY))) {
			ret = -ENOENT;
			break;
		}
		hva = (void __user *)(slot->hva + (gpa - slot->gpa));
		if (write ? copy_to_user(hva, buf, chunk) :
			    copy_from_user(buf, hva, chunk)) {
			ret = -EFAULT;
			break;
		}
		gpa += chunk;
		buf += chunk;
		len -= chunk;
	}
	srcu_read_unlock(&mem->srcu, idx);
	return ret;
}

/**
 * hvx_gpa_read - copy guest RAM into a kernel buffer
 * @mem: the VM's memory.
 * @gpa: guest physical address.
 * @buf: destination.
 * @len: bytes; the range may span pages and slots.
 *
 * Context: process context of the VM owner, may sleep (user memory access).
 * Return: 0, -ENOENT if a byte is not RAM, -EFAULT if the HVA is not readable.
 */
int hvx_gpa_read(struct hvx_mem *mem, u64 gpa, void *buf, unsigned int len)
{
	return gpa_copy(mem, gpa, buf, len, false);
}

/**
 * hvx_gpa_write - copy a kernel buffer into guest RAM
 * @mem: the VM's memory.
 * @gpa: guest physical address.
 * @buf: source.
 * @len: bytes.
 *
 * Context: as hvx_gpa_read().
 * Return: as hvx_gpa_read(); a read-only slot gives -ENOENT.
 */
int hvx_gpa_write(struct hvx_mem *mem, u64 gpa, const void *buf,
		  unsigned int len)
{
	return gpa_copy(mem, gpa, (void *)buf, len, true);
}
