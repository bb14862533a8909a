// SPDX-License-Identifier: GPL-2.0
/*
 * slots.c - memory slots: guest RAM taken from the VM owner's address
 * space, pinned on first guest touch (FOLL_LONGTERM: pin_user_pages() for
 * a fault's page, pin_user_pages_fast() for ranges), mapped with the
 * largest EPT leaf the host backing allows, and unpinned when the slot or
 * the VM goes away. Also the dirty log, the per-VM memory limit and the
 * memory listener (IOMMU).
 *
 * A slot change (create, move, resize, new flags, delete) runs under
 * mem->lock: the old slot is marked invalid, readers are waited for
 * (SRCU), its EPT range is zapped and flushed on every CPU, and only then
 * is the new slot published and the old one freed. A vCPU that faults in
 * an invalid slot waits for mem->lock and looks again, so the guest never
 * sees a half-changed slot.
 *
 * Guest memory follows the owner's address space as KVM's does: each slot
 * has an MMU interval notifier over its HVA range. When the pages mapped
 * there change (munmap(), mremap(), MADV_DONTNEED, a mapping replaced
 * with MAP_FIXED, migration, exit), the notifier clears the EPT leaves
 * over the range, flushes the VM's CPUs and unpins the pages; the next
 * guest access faults and pins what is mapped then. A fault follows the
 * mmu_interval_read_begin() / mmu_interval_read_retry() protocol: it
 * pins without locks, then stores the pages and installs the leaf under
 * mem->mmu_lock (read) only if no invalidation hit the slot since it
 * began, and starts again otherwise.
 */
#include <linux/capability.h>
#include <linux/hugetlb.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/io.h>
#include <asm/processor.h>

#include "ept.h"
#include "../kmod/compat.h"

/* Pages pinned per pin_user_pages_fast() call when pinning a range. */
#define PIN_BATCH	512
/*
 * A range this short (an EPT fault's page, the first page of a large
 * leaf) pins through an array on the stack: the heap array would cost a
 * slab allocation, and with init_on_alloc (Debian's default) a 4 KiB
 * memset, per fault.
 */
#define PIN_STACK	8

/*
 * Largest slot, in 4 KiB pages (512 GiB): its page array (8 bytes a page)
 * stays below the INT_MAX bytes kvmalloc() accepts without a warning.
 */
#define SLOT_MAX_PAGES	BIT_ULL(27)

static unsigned int nx_huge_pages_recovery_ratio = 60;
module_param(nx_huge_pages_recovery_ratio, uint, 0644);
MODULE_PARM_DESC(nx_huge_pages_recovery_ratio, "Each recovery period, zap 1/ratio of the huge leaves split for execution (nx_huge_pages) so they can be mapped huge again (0: never)");
static unsigned int nx_huge_pages_recovery_period_ms = 60000;
module_param(nx_huge_pages_recovery_period_ms, uint, 0644);
MODULE_PARM_DESC(nx_huge_pages_recovery_period_ms, "Period of that recovery, ms (0: never)");

static void nx_recover_work(struct work_struct *work);
static void unlock_work(struct work_struct *work);

#define EPT_PROT_RX	(VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK)
#define EPT_PROT_RWX	VMX_EPT_RWX_MASK

/**
 * hvx_mem_init - initialise a VM's guest-physical address space
 * @mem: zeroed memory of the VM.
 *
 * Takes a reference on the caller's memory cgroup: EPT tables and slot
 * bookkeeping are charged to it, whichever thread allocates them; and on
 * its mm, whose locked_vm the pinned pages are charged to.
 * Context: process context of the VM's creator.
 * Return: 0, or -ENOMEM.
 */
int hvx_mem_init(struct hvx_mem *mem)
{
	int ret;

	mutex_init(&mem->lock);
	INIT_LIST_HEAD(&mem->mmio);
	xa_init(&mem->nx_split);
	INIT_DELAYED_WORK(&mem->nx_work, nx_recover_work);
	init_rwsem(&mem->mmu_lock);
	INIT_WORK(&mem->unlock_work, unlock_work);
	ret = init_srcu_struct(&mem->srcu);
	if (ret)
		return ret;
	mem->memcg = get_mem_cgroup_from_mm(current->mm);
	ret = hvx_ept_init(mem);
	if (ret) {
		mem_cgroup_put(mem->memcg);
		cleanup_srcu_struct(&mem->srcu);
		return ret;
	}
	mem->mm = current->mm;
	mmgrab(mem->mm);
	return 0;
}

static u64 slot_end(const struct hvx_slot *s)
{
	return s->gpa + (s->npages << PAGE_SHIFT);
}

/*
 * Unpin every page of @slot, marking the pages of a writable slot dirty
 * (the guest wrote them through the EPT, behind the page tables' back),
 * and take the pins off the owner's locked_vm.
 */
static void slot_free(struct hvx_mem *mem, struct hvx_slot *slot)
{
	bool dirty = !(slot->flags & HVX_MEM_READONLY);
	u64 i = 0, j, n = 0;

	/* Waits for a running invalidation: none can touch the pages after. */
	if (slot->mn_live)
		mmu_interval_notifier_remove(&slot->mn);
	while (slot->pages && i < slot->npages) {
		if (!slot->pages[i]) {
			if (!(++i % PIN_BATCH))
				cond_resched();	/* a large, sparse slot */
			continue;
		}
		/* A run of pinned pages, at most PIN_BATCH long. */
		for (j = i; j < slot->npages && j - i < PIN_BATCH &&
		     slot->pages[j]; j++)
			;
		unpin_user_pages_dirty_lock(&slot->pages[i], j - i, dirty);
		n += j - i;
		i = j;
		cond_resched();
	}
	atomic64_sub(n, &mem->nr_pinned);
	account_locked_vm(mem->mm, n, false);
	kvfree(slot->pages);
	kvfree(slot->dirty);
	kfree(slot);
}

/*
 * Give back the locked_vm charge of pages the MMU notifier unpinned: it
 * runs under mmap_lock, which account_locked_vm() takes.
 * Context: process context, not holding mmap_lock.
 */
static void unlock_settle(struct hvx_mem *mem)
{
	s64 n;

	/* A plain read first: every fault passes here, seldom with work. */
	if (!atomic64_read(&mem->unlock_pages))
		return;
	n = atomic64_xchg(&mem->unlock_pages, 0);
	if (n)
		account_locked_vm(mem->mm, n, false);
}

static void unlock_work(struct work_struct *work)
{
	unlock_settle(container_of(work, struct hvx_mem, unlock_work));
}

/*
 * Charge @n pinned pages to @mm's locked_vm, as account_locked_vm() does,
 * but asking for CAP_IPC_LOCK only when RLIMIT_MEMLOCK would refuse them
 * (as mlock() does): a capability check on every pin costs as much as the
 * charge itself, and audits a capability that is not needed.
 * Context: process context of the VM owner, not holding mmap_lock.
 */
static int pin_charge(struct mm_struct *mm, unsigned long n)
{
	int ret;

	mmap_write_lock(mm);
	ret = __account_locked_vm(mm, n, true, current, false);
	if (ret && capable(CAP_IPC_LOCK))
		ret = __account_locked_vm(mm, n, true, current, true);
	mmap_write_unlock(mm);
	return ret;
}

/* Unpin @n pages that were pinned and charged but not stored, and uncharge. */
static void pins_give_back(struct hvx_mem *mem, struct page **pages,
			   unsigned long n)
{
	if (!n)
		return;
	unpin_user_pages(pages, n);
	account_locked_vm(mem->mm, n, false);
}

/*
 * Store the pinned pages @pages[0..@n) (NULL entries skipped) in the
 * entries of @slot from @first on. An entry another vCPU filled meanwhile
 * keeps its page: ours is moved to the front of @pages. Returns how many
 * were moved there, for pins_give_back(). Caller holds mem->mmu_lock for
 * reading, and no invalidation hit the slot since the pins
 * (mmu_interval_read_retry()).
 */
static unsigned int slot_store_pins(struct hvx_mem *mem, struct hvx_slot *slot,
				    u64 first, struct page **pages,
				    unsigned int n)
{
	unsigned int k, dup = 0;

	for (k = 0; k < n; k++) {
		if (!pages[k])
			continue;
		if (cmpxchg(&slot->pages[first + k], NULL, pages[k]))
			pages[dup++] = pages[k];
		else
			atomic64_inc(&mem->nr_pinned);
	}
	return dup;
}

/*
 * Pin the pages [first, first + n) of @slot that are not pinned yet, and
 * charge them to the owner's locked_vm (pin_charge(): RLIMIT_MEMLOCK
 * unless the caller has CAP_IPC_LOCK; -ENOMEM beyond it, with the batch
 * unpinned again). Each batch is pinned without locks and stored under
 * mem->mmu_lock only if no invalidation hit the slot meanwhile
 * (mmu_interval_read_retry()); otherwise it is unpinned and pinned again,
 * so a stored page is always the one the HVA maps now. vCPUs may pin
 * pages of the slot concurrently; an entry is only ever set with
 * cmpxchg(), so a page pinned twice is unpinned and uncharged again here.
 * On error the pages pinned so far stay in the slot (and are unpinned
 * with it or by an invalidation).
 * Context: process context of the VM owner (current->mm == mem->mm), may
 * sleep; not holding mem->mmu_lock.
 */
static int slot_pin_range(struct hvx_mem *mem, struct hvx_slot *slot,
			  u64 first, u64 n)
{
	unsigned int flags = FOLL_LONGTERM;
	struct page *stack[PIN_STACK], **tmp = stack;
	u64 i = first, end = first + n;
	u64 batch = min_t(u64, n, PIN_BATCH);
	int ret = 0;

	if (!(slot->flags & HVX_MEM_READONLY))
		flags |= FOLL_WRITE;
	if (batch > PIN_STACK) {
		tmp = kmalloc_array(batch, sizeof(*tmp), GFP_KERNEL);
		if (!tmp)
			return -ENOMEM;
	}
	unlock_settle(mem);
	while (i < end) {
		int chunk = min_t(u64, batch, end - i);
		unsigned long seq;
		int got, dup;

		/* Skip what is pinned already (the common case on refault). */
		if (READ_ONCE(slot->pages[i])) {
			i++;
			continue;
		}
		seq = mmu_interval_read_begin(&slot->mn);
		got = pin_user_pages_fast(slot->hva + (i << PAGE_SHIFT), chunk,
					  flags, tmp);
		if (got <= 0) {
			ret = got ? got : -EFAULT;
			break;
		}
		ret = pin_charge(mem->mm, got);
		if (ret) {
			unpin_user_pages(tmp, got);
			break;
		}
		down_read(&mem->mmu_lock);
		if (mmu_interval_read_retry(&slot->mn, seq)) {
			dup = got;	/* the HVA changed: pin again */
			got = 0;
		} else {
			dup = slot_store_pins(mem, slot, i, tmp, got);
		}
		up_read(&mem->mmu_lock);
		pins_give_back(mem, tmp, dup);
		i += got;
		cond_resched();
	}
	if (tmp != stack)
		kfree(tmp);
	return ret;
}

/*
 * Does an invalidation of this kind change the page an address maps?
 * Unmapping, clearing (zap, reclaim, KSM merge, THP collapse), process
 * exit and migration do: the guest must stop using the old page.
 * Device-exclusive conversion keeps the page but takes it from the CPU
 * until the device gives it back, which a CPU access forces: followed
 * too, the guest's next access is that CPU access. Protection changes
 * (mprotect(), NUMA hinting, userfaultfd write protection) and soft-dirty
 * clearing keep the page: ignored, the guest keeps its mapping and its
 * pins (the VMM's own protection does not apply to the guest).
 */
static bool event_changes_page(enum mmu_notifier_event event)
{
	switch (event) {
	case MMU_NOTIFY_PROTECTION_VMA:
	case MMU_NOTIFY_PROTECTION_PAGE:
	case MMU_NOTIFY_SOFT_DIRTY:
		return false;
	default:
		return true;
	}
}

/*
 * The MMU notifier of a slot: the pages at [range->start, range->end) of
 * the owner's address space are about to change. Unless the VM keeps its
 * pins for an IOMMU, the EPT leaves over them are cleared and flushed
 * from every CPU the VM ran on, then the pages are unpinned (dirty for a
 * writable slot) and forgotten, under mem->mmu_lock, so that a fault that
 * pinned the old page fails its mmu_interval_read_retry() and starts
 * again. A retired slot (being changed or deleted) has had its range
 * zapped already (hvx_ept_zap_range(), which frees tables under
 * mem->mmu_lock for writing too): only its pins go. mem->srcu keeps
 * tables that nx recovery unhooks alive while the walk may be in them.
 * Runs under the caller's mmap_lock and possibly its page lock (reclaim,
 * migration), and may run inside reclaim entered from any allocation:
 * it allocates nothing and takes neither mem->lock, mmap_lock (the
 * locked_vm charge is returned later, from a work item) nor the CPU
 * hotplug lock (hvx_ept_flush_all_cpus()), and marks pages dirty
 * without the page lock, which anonymous, shmem and hugetlbfs pages (the
 * only ones a slot may hold) do not need. Nothing allocates while
 * holding mem->mmu_lock.
 * When it may not sleep (the OOM reaper, process_mrelease()), it takes
 * mem->mmu_lock only if that is free, as KVM takes its mmu_lock, and
 * otherwise returns false, leaving everything, for the reaper to try again;
 * it then waits for nothing but the flush IPIs. Unpinning is what lets the
 * reaper free the slot's pages: a pinned page cannot be reaped.
 */
static bool slot_invalidate(struct mmu_interval_notifier *mn,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq)
{
	struct hvx_slot *slot = container_of(mn, struct hvx_slot, mn);
	unsigned long size = slot->npages << PAGE_SHIFT;
	bool dirty = !(slot->flags & HVX_MEM_READONLY);
	bool block = mmu_notifier_range_blockable(range);
	struct hvx_mem *mem = slot->mem;
	u64 first, last, i, n = 0;
	bool flush = false;
	int idx;

	if (!event_changes_page(range->event))
		return true;
	first = (max(range->start, slot->hva) - slot->hva) >> PAGE_SHIFT;
	last = (min(range->end, slot->hva + size) - slot->hva + PAGE_SIZE - 1) >>
	       PAGE_SHIFT;
	idx = srcu_read_lock(&mem->srcu);
	if (block) {
		down_write(&mem->mmu_lock);
	} else if (!down_write_trylock(&mem->mmu_lock)) {
		srcu_read_unlock(&mem->srcu, idx);
		return false;
	}
	mmu_interval_set_seq(mn, cur_seq);
	if (mem->keep_pins) {
		if (range->event != MMU_NOTIFY_RELEASE)
			pr_warn_ratelimited("hvx: pid %d changed guest memory at 0x%lx-0x%lx with a device assigned: the guest and the device keep the old pages\n",
					    task_tgid_nr(current),
					    slot->hva + (unsigned long)(first << PAGE_SHIFT),
					    slot->hva + (unsigned long)(last << PAGE_SHIFT));
		goto out;
	}
	/*
	 * A retired slot's range was zapped and flushed already, and may now
	 * hold the leaves (and dirty flags) of the slot that replaced it.
	 */
	if (!slot->zapped)
		flush = hvx_ept_unmap(mem, slot->gpa + (first << PAGE_SHIFT),
				      slot->gpa + (last << PAGE_SHIFT),
				      slot->dirty, slot->gpa);
	if (flush)
		hvx_ept_flush_all_cpus(mem);
	/* Entries are stored under the read side: no one races these. */
	for (i = first; i < last; i++) {
		struct page *page = READ_ONCE(slot->pages[i]);

		if (!page) {
			if (block && !(i % PIN_BATCH))
				cond_resched();	/* a large, sparse slot */
			continue;
		}
		/*
		 * Flushed before the first unpin even when no leaf was
		 * cleared: a table that nx recovery unhooked and has not
		 * flushed yet may still be cached and map the page.
		 */
		if (!flush) {
			hvx_ept_flush_all_cpus(mem);
			flush = true;
		}
		WRITE_ONCE(slot->pages[i], NULL);
		if (dirty)
			folio_mark_dirty(page_folio(page));
		unpin_user_page(page);
		n++;
		if (block && !(n % PIN_BATCH))
			cond_resched();
	}
out:
	up_write(&mem->mmu_lock);
	srcu_read_unlock(&mem->srcu, idx);
	if (n) {
		atomic64_sub(n, &mem->nr_pinned);
		atomic64_add(n, &mem->unlock_pages);
		schedule_work(&mem->unlock_work);
	}
	return true;
}

static const struct mmu_interval_notifier_ops slot_mn_ops = {
	.invalidate = slot_invalidate,
};

static int listener_add(struct hvx_mem *mem, struct hvx_slot *slot)
{
	struct hvx_mem_listener *l = mem->listener;
	int ret;

	if (!l)
		return 0;
	ret = slot_pin_range(mem, slot, 0, slot->npages);
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

static struct hvx_slot *slot_locked(struct hvx_mem *mem, int id)
{
	return rcu_dereference_protected(mem->slots[id],
					 lockdep_is_held(&mem->lock));
}

/**
 * hvx_mem_destroy - free all slots, unpin all pages, free the EPT
 * @mem: the VM's memory; no vCPU may run any more.
 *
 * The caller flushes stale EPT translations (hvx_ept_flush_all_cpus())
 * before this returns the pages to the owner. A listener still set is told
 * that every slot is gone first.
 */
void hvx_mem_destroy(struct hvx_mem *mem)
{
	int i;

	/* No vCPU is left to queue it again. */
	cancel_delayed_work_sync(&mem->nx_work);
	xa_destroy(&mem->nx_split);
	mutex_lock(&mem->lock);
	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		struct hvx_slot *slot = slot_locked(mem, i);

		if (slot) {
			listener_remove(mem, slot);
			slot_free(mem, slot);
		}
		RCU_INIT_POINTER(mem->slots[i], NULL);
	}
	WRITE_ONCE(mem->slots_used, 0);
	mem->listener = NULL;
	mutex_unlock(&mem->lock);
	/* No notifier is left to queue it again. */
	cancel_work_sync(&mem->unlock_work);
	unlock_settle(mem);
	WARN_ON(atomic64_read(&mem->nr_pinned));
	hvx_ept_destroy(mem);
	mem_cgroup_put(mem->memcg);
	mmdrop(mem->mm);
	cleanup_srcu_struct(&mem->srcu);
}

/* Does [gpa, gpa + size) overlap a slot other than @except? */
static bool region_overlaps(struct hvx_mem *mem, u64 gpa, u64 size, u32 except)
{
	int i;

	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		struct hvx_slot *s = slot_locked(mem, i);

		if (s && i != except && gpa < slot_end(s) &&
		    s->gpa < gpa + size)
			return true;
	}
	return false;
}

/**
 * hvx_mem_range_used - may a vCPU fault somewhere in a GPA range?
 * @mem: the VM's memory.
 * @start: first byte.
 * @end: one past the last byte.
 *
 * Used by the EPT code to decide whether an emptied table can be freed.
 * Context: holds mem->lock.
 * Return: true if a slot that is not being retired (invalid) overlaps
 * [@start, @end).
 */
bool hvx_mem_range_used(struct hvx_mem *mem, u64 start, u64 end)
{
	int i;

	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		struct hvx_slot *s = slot_locked(mem, i);

		if (s && !s->invalid && start < slot_end(s) && s->gpa < end)
			return true;
	}
	return false;
}

static int region_validate(const struct hvx_memory_region *r)
{
	u64 max_gpa = 1ULL << boot_cpu_data.x86_phys_bits;

	/* r->reserved: checked by the ioctl dispatcher (kmod/ioctl.c). */
	if (r->slot >= HVX_MAX_MEM_SLOTS || (r->flags & ~HVX_MEM_VALID_FLAGS))
		return -EINVAL;
	if (!r->memory_size)
		return 0;
	if (!PAGE_ALIGNED(r->guest_phys_addr) || !PAGE_ALIGNED(r->memory_size) ||
	    !PAGE_ALIGNED(r->userspace_addr))
		return -EINVAL;
	if (r->memory_size >> PAGE_SHIFT > SLOT_MAX_PAGES)
		return -E2BIG;
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
	    r->guest_phys_addr + r->memory_size > max_gpa)
		return -EINVAL;
	if (r->userspace_addr + r->memory_size < r->userspace_addr ||
	    !access_ok((void __user *)(unsigned long)r->userspace_addr,
		       r->memory_size))
		return -EFAULT;
	return 0;
}

/*
 * Is every page of [hva, hva + size) backed by a readable VMA of this
 * process, writable unless the slot is read-only, and not device memory
 * (-EFAULT otherwise)? And is it anonymous, shmem (memfd, tmpfs) or
 * hugetlbfs memory (-EOPNOTSUPP otherwise)? Long-term pins of page-cache
 * pages of other files would let guest writes bypass the filesystem's
 * dirty tracking and writeback; 6.1's GUP still allows them (6.5 and
 * later refuse them with FOLL_LONGTERM | FOLL_WRITE), so hvx refuses such
 * mappings itself, read-only slots included, on every kernel.
 */
static int region_mapped(unsigned long hva, u64 size, bool readonly)
{
	unsigned long need = VM_READ | (readonly ? 0 : VM_WRITE);
	struct mm_struct *mm = current->mm;
	unsigned long end = hva + size;
	struct vm_area_struct *vma;
	int ret = 0;

	mmap_read_lock(mm);
	while (hva < end) {
		vma = find_vma(mm, hva);
		if (!vma || vma->vm_start > hva ||
		    (vma->vm_flags & need) != need ||
		    (vma->vm_flags & (VM_IO | VM_PFNMAP))) {
			ret = -EFAULT;
			break;
		}
		/* shmem_file(), not vma_is_shmem(): that one is not exported. */
		if (!vma_is_anonymous(vma) && !is_vm_hugetlb_page(vma) &&
		    !(vma->vm_file && shmem_file(vma->vm_file))) {
			ret = -EOPNOTSUPP;
			break;
		}
		hva = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

static struct hvx_slot *slot_alloc(struct hvx_mem *mem,
				   const struct hvx_memory_region *r)
{
	struct mem_cgroup *old_memcg = set_active_memcg(mem->memcg);
	struct hvx_slot *slot;

	slot = kzalloc(sizeof(*slot), GFP_KERNEL_ACCOUNT);
	if (!slot)
		goto out;
	slot->gpa = r->guest_phys_addr;
	slot->npages = r->memory_size >> PAGE_SHIFT;
	slot->hva = r->userspace_addr;
	slot->flags = r->flags;
	slot->id = r->slot;
	slot->mem = mem;
	/* Large for a large slot: fail quietly, the caller gets -ENOMEM. */
	slot->pages = kvcalloc(slot->npages, sizeof(*slot->pages),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (slot->pages && (r->flags & HVX_MEM_LOG_DIRTY))
		slot->dirty = kvcalloc(BITS_TO_LONGS(slot->npages), sizeof(long),
				       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!slot->pages || (!slot->dirty && (r->flags & HVX_MEM_LOG_DIRTY))) {
		kvfree(slot->pages);
		kfree(slot);
		slot = NULL;
	}
out:
	set_active_memcg(old_memcg);
	return slot;
}

/* Tell @slot's MMU notifier whether the EPT over the slot is its own. */
static void slot_set_zapped(struct hvx_mem *mem, struct hvx_slot *slot,
			    bool zapped)
{
	down_write(&mem->mmu_lock);
	slot->zapped = zapped;
	up_write(&mem->mmu_lock);
}

/*
 * Make @slot unreachable for the guest: no new fault can map it (invalid,
 * then an SRCU grace period), and its EPT range is zapped and flushed on
 * every CPU. The slot stays in the table so that faults in it wait.
 */
static void slot_retire(struct hvx_mem *mem, struct hvx_slot *slot)
{
	hvx_mem_changed(mem);
	WRITE_ONCE(slot->invalid, true);
	synchronize_srcu_expedited(&mem->srcu);
	hvx_ept_zap_range(mem, slot->gpa, slot->npages);
	slot_set_zapped(mem, slot, true);
}

/*
 * The pins of @old for HVAs that @new maps at the same offset move to
 * @new, so a move or a flag change does not unpin and repin the guest's
 * memory. Both slots are invisible to the guest. @seq is @new's
 * mmu_interval_read_begin() from after its notifier was inserted: an
 * invalidation before that has been applied to @old; one after it may
 * have found @new still empty, and then nothing moves (the pins go with
 * @old and the guest refaults).
 */
static void slot_take_pages(struct hvx_mem *mem, struct hvx_slot *new,
			    struct hvx_slot *old, unsigned long seq)
{
	u64 i, n = min(new->npages, old->npages);

	if (new->hva != old->hva || (new->flags & HVX_MEM_READONLY) !=
	    (old->flags & HVX_MEM_READONLY))
		return;
	down_write(&mem->mmu_lock);
	if (!mmu_interval_read_retry(&new->mn, seq)) {
		for (i = 0; i < n; i++) {
			new->pages[i] = old->pages[i];
			old->pages[i] = NULL;
		}
	}
	up_write(&mem->mmu_lock);
}

/*
 * Watch the slot's HVA range in the owner's address space (MMU interval
 * notifier); the owner is the caller, so its mm has users.
 */
static int slot_watch(struct hvx_mem *mem, struct hvx_slot *slot)
{
	int ret;

	if (!mmget_not_zero(mem->mm))
		return -EFAULT;
	ret = mmu_interval_notifier_insert(&slot->mn, mem->mm, slot->hva,
					   slot->npages << PAGE_SHIFT,
					   &slot_mn_ops);
	mmput(mem->mm);
	slot->mn_live = !ret;
	return ret;
}

static int region_delete(struct hvx_mem *mem, u32 id)
{
	struct hvx_slot *slot = slot_locked(mem, id);

	if (!slot)
		return -ENOENT;
	slot_retire(mem, slot);
	listener_remove(mem, slot);
	rcu_assign_pointer(mem->slots[id], NULL);
	WRITE_ONCE(mem->slots_used, mem->slots_used & ~BIT(id));
	synchronize_srcu_expedited(&mem->srcu);
	mem->bytes -= slot->npages << PAGE_SHIFT;
	slot_free(mem, slot);
	return 0;
}

/* Create slot r->slot, or replace it. Holds mem->lock; @r is validated. */
static int region_set(struct hvx_mem *mem, const struct hvx_memory_region *r)
{
	struct hvx_slot *old = slot_locked(mem, r->slot);
	u64 bytes = mem->bytes + r->memory_size;
	struct hvx_slot *slot;
	unsigned long seq;
	int ret;

	if (old && old->gpa == r->guest_phys_addr && old->hva == r->userspace_addr &&
	    old->npages << PAGE_SHIFT == r->memory_size && old->flags == r->flags)
		return 0;
	if (region_overlaps(mem, r->guest_phys_addr, r->memory_size, r->slot) ||
	    hvx_mmio_overlaps(mem, r->guest_phys_addr,
			      r->guest_phys_addr + r->memory_size))
		return -EEXIST;
	if (old)
		bytes -= old->npages << PAGE_SHIFT;
	if (mem->limit && bytes > mem->limit)
		return -ENOSPC;
	ret = region_mapped(r->userspace_addr, r->memory_size,
			    r->flags & HVX_MEM_READONLY);
	if (ret)
		return ret;
	slot = slot_alloc(mem, r);
	if (!slot)
		return -ENOMEM;
	ret = slot_watch(mem, slot);
	if (ret)
		goto err_free;
	seq = mmu_interval_read_begin(&slot->mn);
	/* With a listener the new slot is pinned whole before anything changes. */
	if (mem->listener) {
		ret = slot_pin_range(mem, slot, 0, slot->npages);
		if (ret)
			goto err_free;
	}
	if (old) {
		slot_retire(mem, old);
		listener_remove(mem, old);
	}
	ret = listener_add(mem, slot);
	if (ret) {
		if (old) {
			/* Back to the old slot: the listener had it before. */
			WARN_ON(listener_add(mem, old));
			slot_set_zapped(mem, old, false);
			hvx_mem_changed(mem);
			WRITE_ONCE(old->invalid, false);
		}
		goto err_free;
	}
	if (old && !mem->listener)
		slot_take_pages(mem, slot, old, seq);
	/* The bit first: every lookup that starts after this tests the slot. */
	hvx_mem_changed(mem);
	WRITE_ONCE(mem->slots_used, mem->slots_used | BIT(r->slot));
	rcu_assign_pointer(mem->slots[r->slot], slot);
	mem->bytes = bytes;
	if (old) {
		synchronize_srcu_expedited(&mem->srcu);
		slot_free(mem, old);
	}
	return 0;

err_free:
	slot_free(mem, slot);
	return ret;
}

/**
 * hvx_mem_set_region - create, change or delete a memory slot
 * @mem: the VM's memory.
 * @r: the request, as passed by userspace (see struct hvx_memory_region).
 *
 * A change of an existing slot (GPA, size, HVA or flags) is atomic for the
 * guest: vCPUs that touch the slot meanwhile wait (struct hvx_slot,
 * @invalid). The old slot's translations are zapped and flushed from every
 * CPU (INVEPT) before its pages are unpinned; pins of pages the new slot
 * maps at the same HVA move to it.
 *
 * Context: process context of the VM owner; holds mem->lock.
 * Return: 0; -EINVAL for bad slot, flags, alignment or
 * range; -E2BIG for a slot over 512 GiB; -EFAULT if the HVA range is not
 * mapped in the caller (readable, and writable unless read-only);
 * -EOPNOTSUPP if it is not anonymous, shmem or hugetlbfs memory; -EEXIST
 * if the GPA range overlaps another slot or mapped device memory (a BAR,
 * the APIC-access page); -ENOENT when deleting a missing slot; -ENOSPC if
 * the VM's memory limit would be exceeded; -ENOMEM (also when pinning the
 * whole slot for a listener would pass RLIMIT_MEMLOCK); -EINTR (a fatal
 * signal while the process's first MMU notifier is registered); the
 * listener's error. Nothing changes on error.
 */
int hvx_mem_set_region(struct hvx_mem *mem, const struct hvx_memory_region *r)
{
	int ret;

	lockdep_assert_held(&mem->lock);
	ret = region_validate(r);
	if (ret)
		return ret;
	if (!r->memory_size)
		return region_delete(mem, r->slot);
	return region_set(mem, r);
}

/**
 * hvx_mem_set_limit - set the VM's memory limit
 * @mem: the VM's memory.
 * @l: the request (struct hvx_mem_limit).
 *
 * Context: process context; holds mem->lock.
 * Return: 0; -EINVAL for a size that is not page-aligned; -EBUSY if the
 * slots already hold more than the limit.
 */
int hvx_mem_set_limit(struct hvx_mem *mem, const struct hvx_mem_limit *l)
{
	lockdep_assert_held(&mem->lock);
	if (!PAGE_ALIGNED(l->max_bytes))
		return -EINVAL;
	if (l->max_bytes && mem->bytes > l->max_bytes)
		return -EBUSY;
	mem->limit = l->max_bytes;
	return 0;
}

/**
 * hvx_mem_get_info - describe a VM's guest memory (struct hvx_mem_info)
 * @mem: the VM's memory.
 * @info: filled in; zeroed by the caller.
 *
 * Context: process context; holds mem->lock.
 */
void hvx_mem_get_info(struct hvx_mem *mem, struct hvx_mem_info *info)
{
	int i;

	lockdep_assert_held(&mem->lock);
	/* locked_vm up to date with pinned_pages (the notifier defers it). */
	unlock_settle(mem);
	info->flags = (mem->ad ? HVX_MEM_INFO_AD : 0) |
		      (mem->max_level >= 2 ? HVX_MEM_INFO_2M : 0) |
		      (mem->max_level >= 3 ? HVX_MEM_INFO_1G : 0) |
		      (mem->nx_huge ? HVX_MEM_INFO_NX_HUGE : 0);
	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++)
		if (slot_locked(mem, i))
			info->nr_slots++;
	info->bytes = mem->bytes;
	info->limit = mem->limit;
	info->pinned_pages = atomic64_read(&mem->nr_pinned);
	info->table_pages = atomic64_read(&mem->nr_tables);
	info->leaves_4k = atomic64_read(&mem->nr_leaves[0]);
	info->leaves_2m = atomic64_read(&mem->nr_leaves[1]);
	info->leaves_1g = atomic64_read(&mem->nr_leaves[2]);
	info->ept_flushes = atomic64_read(&mem->nr_flushes);
	info->nx_huge_recovered = atomic64_read(&mem->nr_nx_recovered);
}

/**
 * hvx_mem_get_dirty_log - copy and clear a slot's dirty bitmap
 * @mem: the VM's memory.
 * @d: the request (struct hvx_dirty_log).
 *
 * Takes the bits recorded by faults and emulated writes, then, with EPT
 * A/D flags, adds and clears the dirty flag of every leaf of the slot, or
 * else write-protects the leaves of the pages found dirty, and flushes
 * the VM's translations from every CPU (INVEPT single-context) before
 * returning, so that every later write sets a flag or faults again. A
 * write racing with this call is in this bitmap or the next one.
 *
 * Context: process context; holds mem->lock.
 * Return: 0; -EINVAL (nonzero padding, bad slot number, slot
 * without HVX_MEM_LOG_DIRTY); -ENOENT (no such slot); -EFAULT (bitmap not
 * writable; the bits are kept for the next call); -ENOMEM.
 */
int hvx_mem_get_dirty_log(struct hvx_mem *mem, const struct hvx_dirty_log *d)
{
	void __user *ubuf = u64_to_user_ptr(d->dirty_bitmap);
	unsigned long *snap = NULL;
	struct hvx_slot *slot;
	bool flush = false;
	size_t words, bytes;
	u64 i;
	int ret;

	lockdep_assert_held(&mem->lock);
	/* d->reserved: checked by the ioctl dispatcher (kmod/ioctl.c). */
	if (d->padding || d->slot >= HVX_MAX_MEM_SLOTS)
		return -EINVAL;
	slot = slot_locked(mem, d->slot);
	ret = -ENOENT;
	if (!slot)
		goto out;
	ret = -EINVAL;
	if (!slot->dirty)
		goto out;
	words = BITS_TO_LONGS(slot->npages);
	/* The ABI's bitmap is __u64 words: the same bytes on x86-64. */
	bytes = DIV_ROUND_UP(slot->npages, 64) * sizeof(u64);
	ret = -EFAULT;
	if (!access_ok(ubuf, bytes))
		goto out;
	ret = -ENOMEM;
	snap = kvcalloc(words, sizeof(long), GFP_KERNEL_ACCOUNT);
	if (!snap)
		goto out;
	for (i = 0; i < words; i++)
		snap[i] = xchg(&slot->dirty[i], 0);
	for (i = 0; i < slot->npages; i++) {
		u64 gpa = slot->gpa + (i << PAGE_SHIFT);

		if (mem->ad) {
			if (hvx_ept_test_clear_dirty(mem, gpa)) {
				__set_bit(i, snap);
				flush = true;
			}
		} else if (test_bit(i, snap)) {
			flush |= hvx_ept_write_protect(mem, gpa);
		}
		if (!(i % PIN_BATCH))
			cond_resched();
	}
	if (flush)
		hvx_ept_flush_all_cpus(mem);
	ret = 0;
	if (copy_to_user(ubuf, snap, bytes)) {
		/* Keep the bits for the next call. */
		for_each_set_bit(i, snap, slot->npages)
			set_bit(i, slot->dirty);
		ret = -EFAULT;
	}
out:
	kvfree(snap);
	return ret;
}

static void mem_keep_pins(struct hvx_mem *mem, bool keep)
{
	down_write(&mem->mmu_lock);
	mem->keep_pins = keep;
	up_write(&mem->mmu_lock);
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
	/* From now on the IOMMU may map any page: invalidations keep them. */
	mem_keep_pins(mem, true);
	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		struct hvx_slot *s = slot_locked(mem, i);

		if (!s)
			continue;
		ret = listener_add(mem, s);
		if (ret)
			break;
	}
	if (ret) {
		while (--i >= 0) {
			struct hvx_slot *s = slot_locked(mem, i);

			if (s)
				listener_remove(mem, s);
		}
		mem->listener = NULL;
		mem_keep_pins(mem, false);
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
			struct hvx_slot *s = slot_locked(mem, i);

			if (s)
				listener_remove(mem, s);
		}
		mem->listener = NULL;
		mem_keep_pins(mem, false);
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
	/*
	 * Only the slots in use: an address that is in none (MMIO) costs a
	 * test per slot, not one per possible slot.
	 */
	unsigned long used = READ_ONCE(mem->slots_used);

	BUILD_BUG_ON(HVX_MAX_MEM_SLOTS > BITS_PER_LONG);
	while (used) {
		unsigned int i = __ffs(used);
		struct hvx_slot *s = srcu_dereference(mem->slots[i], &mem->srcu);

		if (s && gpa >= s->gpa && gpa < slot_end(s))
			return s;
		used &= used - 1;
	}
	return NULL;
}

/* Wait until the slot change in progress is done. */
static void slot_wait(struct hvx_mem *mem)
{
	mutex_lock(&mem->lock);
	mutex_unlock(&mem->lock);
}

/*
 * Pin the page of entry @i of @slot for a fault (not stored yet: see
 * fault_store()), and charge it to the owner's locked_vm as
 * slot_pin_range() does. Returns the page, or an ERR_PTR: -EFAULT,
 * -ENOMEM (also beyond RLIMIT_MEMLOCK).
 *
 * A guest's first touch is mostly of memory the VMM never touched, with
 * no page table entry yet, where pin_user_pages_fast()'s lockless walk
 * always fails before it takes mmap_lock and faults the page in. So the
 * one page goes straight to the locked path, as VFIO pins (a page the
 * VMM wrote first costs a VMA lookup more than the lockless walk).
 * *@faulted tells whether the pin had to fault the page in: whether its
 * neighbours are worth mapping now (fault_around()).
 * Context: as slot_pin_range().
 */
static struct page *fault_pin(struct hvx_mem *mem, struct hvx_slot *slot,
			      u64 i, bool *faulted)
{
	unsigned int flags = FOLL_LONGTERM;
	unsigned long flt;
	struct page *page;
	long ret;

	if (!(slot->flags & HVX_MEM_READONLY))
		flags |= FOLL_WRITE;
	unlock_settle(mem);
	mmap_read_lock(current->mm);	/* the owner's: mem->mm */
	/* GUP counts the faults it makes in the task's min_flt/maj_flt. */
	flt = current->min_flt + current->maj_flt;
	ret = hvx_pin_user_pages(slot->hva + (i << PAGE_SHIFT), 1, flags, &page);
	*faulted = current->min_flt + current->maj_flt != flt;
	mmap_read_unlock(current->mm);
	if (ret <= 0)
		return ERR_PTR(ret ? ret : -EFAULT);
	ret = pin_charge(mem->mm, 1);
	if (ret) {
		unpin_user_page(page);
		return ERR_PTR(ret);
	}
	return page;
}

/*
 * Store @new, pinned by fault_pin() since @seq, in entry @i of @slot, or
 * with !@new look the entry up. Returns the page the entry holds now, or
 * NULL if an invalidation hit the slot since @seq. @new is still the
 * caller's to give back (pins_give_back()) unless it was stored: *@stored.
 * Caller holds mem->mmu_lock for reading, so that an invalidation cannot
 * come between the check and the use of the page.
 */
static struct page *fault_store(struct hvx_mem *mem, struct hvx_slot *slot,
				u64 i, unsigned long seq, struct page *new,
				bool *stored)
{
	struct page *old;

	*stored = false;
	if (mmu_interval_read_retry(&slot->mn, seq))
		return NULL;
	if (!new)
		return READ_ONCE(slot->pages[i]);
	old = cmpxchg(&slot->pages[i], NULL, new);
	if (old)	/* another vCPU pinned it too */
		return old;
	atomic64_inc(&mem->nr_pinned);
	*stored = true;
	return new;
}

/*
 * Map entry @i of @slot with a 4 KiB leaf (hvx_ept_map_4k(), through
 * @hint), storing *@new first if it is set (fault_store(); *@new becomes
 * NULL once the slot holds it). Returns as hvx_ept_map_prepared(),
 * -ENOENT when a table above the leaf is missing (hvx_ept_prepare() it
 * unlocked, and try again), or -ESTALE if an invalidation hit the slot
 * since @seq. Caller holds mem->srcu.
 */
static int fault_map_4k(struct hvx_mem *mem, struct hvx_slot *slot, u64 i,
			unsigned long seq, struct page **new, u64 prot,
			struct hvx_ept_hint *hint)
{
	struct page *page;
	bool stored;
	int ret = -ESTALE;

	down_read(&mem->mmu_lock);
	page = fault_store(mem, slot, i, seq, *new, &stored);
	if (stored)
		*new = NULL;
	if (page)
		ret = hvx_ept_map_4k(mem, hint, slot->gpa + (i << PAGE_SHIFT),
				     page_to_phys(page), prot);
	up_read(&mem->mmu_lock);
	return ret;
}

/*
 * The block of pages mapped around a fault (ept/README.md,
 * "Fault-around"): 64 KiB, aligned, as the page cache's fault-around.
 */
#define FAULT_AROUND_PAGES	16

/*
 * Map the other pages of the aligned FAULT_AROUND_PAGES block around
 * entry @i of @slot (mapped already) that the owner's address space has
 * and the EPT does not: pages the slot holds pinned as they are, others
 * if the owner's page tables map them already (never faulting one in:
 * hvx_pin_user_pages_present()), charged and stored as slot_pin_range()
 * does. Whatever fails (RLIMIT_MEMLOCK, an invalidation of the slot since
 * @seq, a page that is not there) is left to its own fault. Returns the
 * number of leaves installed.
 * Context: as hvx_ept_fault(), holding mem->srcu; not for a slot with
 * dirty logging.
 */
static unsigned int fault_around(struct hvx_mem *mem, struct hvx_slot *slot,
				 u64 i, unsigned long seq, u64 prot,
				 struct hvx_ept_hint *hint)
{
	const u64 block = FAULT_AROUND_PAGES << PAGE_SHIFT;
	u64 gpa = slot->gpa + (i << PAGE_SHIFT);
	u64 first = (max(gpa & ~(block - 1), slot->gpa) - slot->gpa) >> PAGE_SHIFT;
	u64 end = (min((gpa | (block - 1)) + 1, slot_end(slot)) - slot->gpa) >>
		  PAGE_SHIFT;
	struct page *pin[FAULT_AROUND_PAGES] = { }, *map[FAULT_AROUND_PAGES];
	unsigned int flags = FOLL_LONGTERM, n = end - first, k, done, dup = 0;
	int pinned = 0;
	u64 j, r;

	if (!(slot->flags & HVX_MEM_READONLY))
		flags |= FOLL_WRITE;
	/* Runs of entries not pinned yet, skipping @i. */
	for (j = first; j < end; j = r + 1) {
		while (j < end && (j == i || READ_ONCE(slot->pages[j])))
			j++;
		for (r = j; r < end && r != i && !READ_ONCE(slot->pages[r]); r++)
			;
		if (r > j)
			pinned += hvx_pin_user_pages_present(slot->hva +
							     (j << PAGE_SHIFT),
							     r - j, flags,
							     &pin[j - first]);
	}
	if (pinned && pin_charge(mem->mm, pinned)) {
		for (k = 0; k < n; k++)
			if (pin[k])
				unpin_user_page(pin[k]);
		memset(pin, 0, sizeof(pin));
		pinned = 0;
	}
	done = 0;
	down_read(&mem->mmu_lock);
	if (mmu_interval_read_retry(&slot->mn, seq)) {
		for (k = 0; k < n; k++)	/* all of them back */
			if (pin[k])
				pin[dup++] = pin[k];
	} else {
		dup = slot_store_pins(mem, slot, first, pin, n);
		/* What the slot holds now: ours, or another vCPU's. */
		for (k = 0; k < n; k++)
			map[k] = first + k == i ? NULL :
				 READ_ONCE(slot->pages[first + k]);
		done = hvx_ept_map_block(mem, hint,
					 slot->gpa + (first << PAGE_SHIFT), map,
					 n, prot);
	}
	up_read(&mem->mmu_lock);
	pins_give_back(mem, pin, dup);
	return done;
}

/*
 * Map the @level leaf around @gpa if the host backing allows: the aligned
 * range lies in the slot, HVA and GPA are congruent modulo its size, and
 * the pinned pages are one physically contiguous, aligned part of one
 * compound (huge) page. @page is the pinned page at @gpa, stored in the
 * slot: the range is pinned only if that page can be part of such a leaf.
 * Returns 1 if a new leaf was installed, 0 if the range is mapped already,
 * -EAGAIN if this level is not possible, -ESTALE if an invalidation hit
 * the slot since @seq (start the fault again), or an error. Caller holds
 * mem->srcu.
 */
static int fault_large(struct hvx_mem *mem, struct hvx_slot *slot, u64 gpa,
		       int level, u64 prot, unsigned long seq,
		       struct page *page)
{
	u64 size = 1ULL << (PAGE_SHIFT + 9 * (level - 1));
	u64 n = size >> PAGE_SHIFT, base = gpa & ~(size - 1), first, i;
	unsigned long pfn;
	int ret;

	if (base < slot->gpa || base + size > slot_end(slot) ||
	    ((slot->hva - slot->gpa) & (size - 1)))
		return -EAGAIN;
	first = (base - slot->gpa) >> PAGE_SHIFT;
	/* From the faulting page: no point pinning a range of small pages. */
	if (!PageCompound(page) ||
	    compound_order(compound_head(page)) < 9 * (level - 1))
		return -EAGAIN;
	pfn = page_to_pfn(page) - ((gpa - base) >> PAGE_SHIFT);
	if (pfn & (n - 1))
		return -EAGAIN;
	ret = slot_pin_range(mem, slot, first, n);
	if (ret)
		return ret;
	ret = hvx_ept_prepare(mem, base, level);
	if (ret)
		return ret;
	down_read(&mem->mmu_lock);
	/* The pages checked below are still the ones mapped at the HVA. */
	ret = -ESTALE;
	if (mmu_interval_read_retry(&slot->mn, seq))
		goto out;
	ret = -EAGAIN;
	for (i = 0; i < n; i++) {
		page = READ_ONCE(slot->pages[first + i]);
		if (!page || page_to_pfn(page) != pfn + i)
			goto out;
	}
	ret = hvx_ept_map_prepared(mem, base, PFN_PHYS(pfn), level, prot);
	if (ret == -EEXIST)
		ret = -EAGAIN;
	else if (ret == -ENOENT)
		ret = -ESTALE;		/* table recovered meanwhile */
out:
	up_read(&mem->mmu_lock);
	return ret;
}

/* Split leaves recovered per synchronize_srcu() and INVEPT round. */
#define NX_RECOVER_BATCH	32

static unsigned long nx_index(u64 gpa, int level)
{
	u64 base = gpa & ~((1ULL << (PAGE_SHIFT + 9 * (level - 1))) - 1);

	return (unsigned long)(base >> 21) << 1 | (level == 3);
}

/*
 * Remember a split of a @level leaf around @gpa for recovery, and make
 * sure a recovery round is coming. An entry that cannot be stored (no
 * memory) is simply never recovered: the range stays split.
 */
static void nx_record(struct hvx_mem *mem, u64 gpa, int level)
{
	unsigned int period = READ_ONCE(nx_huge_pages_recovery_period_ms);
	void *old;

	old = xa_store(&mem->nx_split, nx_index(gpa, level), xa_mk_value(0),
		       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (xa_is_err(old))
		return;
	if (!old)
		atomic_long_inc(&mem->nr_nx_split);
	if (period && READ_ONCE(nx_huge_pages_recovery_ratio))
		queue_delayed_work(system_unbound_wq, &mem->nx_work,
				   msecs_to_jiffies(period));
}

/* The slot that holds all of [start, end) and may be recovered in. */
static struct hvx_slot *nx_slot(struct hvx_mem *mem, u64 start, u64 end)
{
	int i;

	for (i = 0; i < HVX_MAX_MEM_SLOTS; i++) {
		struct hvx_slot *s = slot_locked(mem, i);

		if (s && s->gpa <= start && end <= slot_end(s))
			return s->invalid || s->dirty ? NULL : s;
	}
	return NULL;
}

/*
 * One recovery round (as KVM's nx_huge_pages_recovery): the tables of up
 * to 1/ratio of the recorded splits, at least one, are dropped, so that
 * the guest's next access maps those ranges with large leaves again. A
 * range the guest still executes from is split again on its next fetch.
 * The entries are taken in index order from where the last round
 * stopped. Runs from the system unbound workqueue; re-arms itself while
 * splits are recorded.
 */
static void nx_recover_work(struct work_struct *work)
{
	struct hvx_mem *mem = container_of(to_delayed_work(work), struct hvx_mem,
					   nx_work);
	unsigned int ratio = READ_ONCE(nx_huge_pages_recovery_ratio);
	unsigned int period = READ_ONCE(nx_huge_pages_recovery_period_ms);
	struct { u64 entry, gpa; int level; } batch[NX_RECOVER_BATCH];
	unsigned long todo, idx;
	int n, i;

	if (!ratio || !period)
		return;
	/* Briefly off by one while a fault records a split: never negative. */
	todo = DIV_ROUND_UP(max(atomic_long_read(&mem->nr_nx_split), 0L), ratio);
	mutex_lock(&mem->lock);
	while (todo) {
		n = 0;
		idx = mem->nx_cursor;
		while (todo && n < NX_RECOVER_BATCH) {
			int level;
			u64 gpa, size;

			if (!xa_find(&mem->nx_split, &idx, ULONG_MAX, XA_PRESENT)) {
				if (!mem->nx_cursor)
					break;
				mem->nx_cursor = 0;	/* wrap once */
				idx = 0;
				continue;
			}
			xa_erase(&mem->nx_split, idx);
			atomic_long_dec(&mem->nr_nx_split);
			todo--;
			level = idx & 1 ? 3 : 2;
			gpa = (u64)(idx >> 1) << 21;
			size = 1ULL << (PAGE_SHIFT + 9 * (level - 1));
			mem->nx_cursor = ++idx;
			if (!nx_slot(mem, gpa, gpa + size))
				continue;	/* slot changed: zapped already */
			batch[n].entry = hvx_ept_nx_unhook(mem, gpa, level);
			if (!batch[n].entry)
				continue;
			batch[n].gpa = gpa;
			batch[n].level = level;
			n++;
		}
		if (!n)
			break;
		synchronize_srcu(&mem->srcu);
		hvx_ept_flush_all_cpus(mem);
		for (i = 0; i < n; i++)
			hvx_ept_nx_free(mem, batch[i].entry, batch[i].gpa,
					batch[i].level);
		atomic64_add(n, &mem->nr_nx_recovered);
		cond_resched();
	}
	mutex_unlock(&mem->lock);
	if (atomic_long_read(&mem->nr_nx_split))
		queue_delayed_work(system_unbound_wq, &mem->nx_work,
				   msecs_to_jiffies(period));
}

/**
 * hvx_ept_fault - resolve an EPT violation
 * @mem: the VM's memory.
 * @gpa: faulting guest physical address.
 * @write: the access was a write.
 * @mapped: the EPT allowed some access to @gpa when the violation
 *	happened (exit qualification bits 5:3, SDM Vol. 3C 28.2.1, Table
 *	28-7); false for a GPA with no leaf, which needs no iTLB-multihit
 *	split.
 * @stats: the faulting vCPU's statistics: ept_maps_4k/2m/1g,
 *	ept_maps_around, ept_dirty_faults, ept_slot_waits and nx_huge_splits
 *	are counted here.
 * @hint: the faulting vCPU's last table of 4 KiB leaves (struct
 *	hvx_ept_hint), used and updated here.
 *
 * Pins the page (or, for a large leaf, the whole aligned range) and maps
 * it write-back. The leaf is installed only if no invalidation of the
 * slot's memory (MMU notifier) came since the fault began
 * (mmu_interval_read_retry() under mem->mmu_lock); otherwise the fault
 * starts again and pins what the HVA maps now. Slots with
 * HVX_MEM_LOG_DIRTY get 4 KiB leaves only; a write sets the page's dirty
 * bit, and without EPT A/D flags a read maps the page read-only so that
 * the first write faults. With mem->nx_huge, large leaves are mapped
 * without execute permission and a fault that finds one mapping @gpa is
 * an instruction fetch: the leaf is split (hvx_ept_nx_split(), counted in
 * nx_huge_splits) and recorded for recovery. Only a violation at a
 * mapped GPA (@mapped) looks for such a leaf: a fresh page walks the EPT
 * once, to map it. A leaf mapped by another vCPU meanwhile is seen
 * by the next violation, which has @mapped set.
 *
 * Context: process context of the VM owner (pins its pages), may sleep;
 * the vCPU's thread (@stats is written without locks).
 * Return: HVX_FAULT_MAPPED, HVX_FAULT_MMIO (no slot), HVX_FAULT_MMIO_RO
 * (a write to a read-only slot), -EFAULT if the slot's user
 * memory cannot be pinned (nothing mapped at the HVA any more, or a
 * mapping hvx cannot pin, e.g. PROT_NONE or device memory), -ENOMEM (also
 * when the pin would pass the owner's RLIMIT_MEMLOCK; nothing is pinned
 * then).
 */
int hvx_ept_fault(struct hvx_mem *mem, u64 gpa, bool write, bool mapped,
		  struct hvx_stats *stats, struct hvx_ept_hint *hint)
{
	bool readonly, logged, stored, faulted = false;
	struct page *page, *new;
	struct hvx_slot *slot;
	int idx, ret, level;
	unsigned long seq;
	u64 i, prot;

again:
	idx = srcu_read_lock(&mem->srcu);
	slot = slot_find(mem, gpa);
	ret = HVX_FAULT_MMIO;
	if (!slot)
		goto out;
	ret = HVX_FAULT_MMIO_RO;
	if (READ_ONCE(slot->invalid)) {
		srcu_read_unlock(&mem->srcu, idx);
		stats->ept_slot_waits++;
		slot_wait(mem);
		goto again;
	}
	/* Pages pinned from here on are checked against invalidations. */
	seq = mmu_interval_read_begin(&slot->mn);
	readonly = slot->flags & HVX_MEM_READONLY;
	logged = slot->dirty;
	if (write && readonly)
		goto out;
	ret = HVX_FAULT_MMIO;
	prot = readonly ? EPT_PROT_RX : EPT_PROT_RWX;

	/* A fetch through a non-executable large leaf (iTLB multihit). */
	if (mem->nx_huge && !logged && mapped) {
		ret = hvx_ept_nx_split(mem, gpa, VMX_EPT_READABLE_MASK |
				       (write ? VMX_EPT_WRITABLE_MASK : 0));
		if (ret < 0)
			goto out;
		if (ret) {
			stats->nx_huge_splits++;
			nx_record(mem, gpa, ret);
			ret = HVX_FAULT_MAPPED;
			goto out;
		}
	}

	/* The faulting page first, pinned once, whatever the leaf. */
	i = (gpa - slot->gpa) >> PAGE_SHIFT;
	page = READ_ONCE(slot->pages[i]);
	new = NULL;
	if (!page) {
		new = fault_pin(mem, slot, i, &faulted);
		if (IS_ERR(new)) {
			ret = PTR_ERR(new);
			goto out;
		}
		page = new;
	}
	level = 1;
	if (!logged && mem->max_level > 1 && PageCompound(page)) {
		/* A large leaf may be possible: its range pins from the slot. */
		if (new) {
			down_read(&mem->mmu_lock);
			page = fault_store(mem, slot, i, seq, new, &stored);
			up_read(&mem->mmu_lock);
			if (!stored)
				pins_give_back(mem, &new, 1);
			new = NULL;
		}
		ret = -ESTALE;
		level = page ? mem->max_level : 0;
		for (; level > 1; level--) {
			ret = fault_large(mem, slot, gpa, level, prot, seq, page);
			if (ret != -EAGAIN)
				break;
		}
	}
	if (level == 1) {
		if (logged && !write && !mem->ad)
			prot = EPT_PROT_RX;
		/* One walk when the tables are there (the common case). */
		ret = fault_map_4k(mem, slot, i, seq, &new, prot, hint);
		if (ret == -ENOENT) {
			ret = hvx_ept_prepare(mem, gpa & PAGE_MASK, 1);
			if (!ret)
				ret = fault_map_4k(mem, slot, i, seq, &new,
						   prot, hint);
			if (ret == -ENOENT)
				ret = -ESTALE;	/* table recovered meanwhile */
		}
		if (new)
			pins_give_back(mem, &new, 1);
		/* A page the host had: its neighbours likely too (the VMM's). */
		if (ret == 1 && !logged && !faulted)
			stats->ept_maps_around += fault_around(mem, slot, i, seq,
							       prot, hint);
		/*
		 * Mark the page dirty after making it writable, so that a
		 * concurrent HVX_GET_DIRTY_LOG either reports it now and
		 * write-protects it, or reports it next time.
		 */
		if (logged && write && ret >= 0) {
			set_bit(i, slot->dirty);
			if (!ret && !mem->ad)
				stats->ept_dirty_faults++;
		}
	}
	if (ret == -ESTALE) {
		/* An invalidation raced with this fault: start again. */
		srcu_read_unlock(&mem->srcu, idx);
		cond_resched();
		goto again;
	}
	if (ret < 0)
		goto out;
	if (ret == 1) {
		if (level == 3)
			stats->ept_maps_1g++;
		else if (level == 2)
			stats->ept_maps_2m++;
		else
			stats->ept_maps_4k++;
	}
	ret = HVX_FAULT_MAPPED;
out:
	srcu_read_unlock(&mem->srcu, idx);
	return ret;
}

/*
 * One sized user access between @buf (maybe unaligned: memcpy() of a
 * constant size is one move) and @hva.
 */
#define HVA_RW(type)							\
static int hva_rw_##type(void __user *hva, void *buf, bool write)	\
{									\
	type v;								\
									\
	if (write) {							\
		memcpy(&v, buf, sizeof(v));				\
		return put_user(v, (type __user *)hva);			\
	}								\
	if (get_user(v, (type __user *)hva))				\
		return -EFAULT;						\
	memcpy(buf, &v, sizeof(v));					\
	return 0;							\
}

HVA_RW(u8)
HVA_RW(u16)
HVA_RW(u32)
HVA_RW(u64)

/*
 * Copy @n bytes between @buf and the owner's user address @hva. Most
 * copies are a ring index, a descriptor, a page-table entry or a status
 * byte: sized user accesses take them without the generic copy's
 * hardened-usercopy walk of @buf (which the kernel skips for copies of a
 * constant size, too), several times cheaper per copy.
 */
static int hva_copy(void __user *hva, void *buf, unsigned int n, bool write)
{
	switch (n) {
	case 1:
		return hva_rw_u8(hva, buf, write);
	case 2:
		return hva_rw_u16(hva, buf, write);
	case 4:
		return hva_rw_u32(hva, buf, write);
	case 8:
		return hva_rw_u64(hva, buf, write);
	case 16:	/* a descriptor */
		if (hva_rw_u64(hva, buf, write))
			return -EFAULT;
		return hva_rw_u64(hva + 8, buf + 8, write);
	}
	if (write ? copy_to_user(hva, buf, n) : copy_from_user(buf, hva, n))
		return -EFAULT;
	return 0;
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

		if (slot && READ_ONCE(slot->invalid)) {
			srcu_read_unlock(&mem->srcu, idx);
			slot_wait(mem);
			idx = srcu_read_lock(&mem->srcu);
			continue;
		}
		if (!slot || (write && (slot->flags & HVX_MEM_READONLY))) {
			ret = -ENOENT;
			break;
		}
		hva = (void __user *)(slot->hva + (gpa - slot->gpa));
		if (hva_copy(hva, buf, chunk, write)) {
			ret = -EFAULT;
			break;
		}
		if (write && slot->dirty)
			set_bit((gpa - slot->gpa) >> PAGE_SHIFT, slot->dirty);
		gpa += chunk;
		buf += chunk;
		len -= chunk;
	}
	srcu_read_unlock(&mem->srcu, idx);
	return ret;
}

/*
 * A sized user access of 4, 8 or 16 bytes at @gpa, which do not cross a
 * page (hva_copy()). A slot change in progress, or an address that is not
 * RAM, takes gpa_copy()'s path, which waits for the change or says
 * -ENOENT.
 */
static int gpa_get(struct hvx_mem *mem, u64 gpa, unsigned int size, u64 *val)
{
	struct hvx_slot *slot;
	void __user *hva;
	int idx, ret;

	val[0] = 0;
	idx = srcu_read_lock(&mem->srcu);
	slot = slot_find(mem, gpa);
	if (unlikely(!slot || READ_ONCE(slot->invalid))) {
		srcu_read_unlock(&mem->srcu, idx);
		return gpa_copy(mem, gpa, val, size, false);
	}
	hva = (void __user *)(slot->hva + (gpa - slot->gpa));
	ret = hva_copy(hva, val, size, false);
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
 * Context: process context of the VM owner, may sleep (user memory access,
 * waiting for a slot change in progress).
 * Return: 0, -ENOENT if a byte is not RAM, -EFAULT if the HVA is not readable.
 */
int hvx_gpa_read(struct hvx_mem *mem, u64 gpa, void *buf, unsigned int len)
{
	u64 q[2];
	int ret;

	/*
	 * An instruction fetch or a small field: two get_user() of the
	 * 16 bytes at @gpa, in one page, rather than a copy_from_user() of
	 * a variable length with its object checks.
	 */
	if (len <= sizeof(q) && offset_in_page(gpa) + sizeof(q) <= PAGE_SIZE) {
		ret = gpa_get(mem, gpa, sizeof(q), q);
		if (!ret)
			memcpy(buf, q, len);
		return ret;
	}
	return gpa_copy(mem, gpa, buf, len, false);
}

/**
 * hvx_gpa_walk_begin - begin reads of guest page-table entries
 * @w: the walk's state.
 * @mem: the VM's memory.
 *
 * Context: as hvx_gpa_read(); end with hvx_gpa_walk_end().
 */
void hvx_gpa_walk_begin(struct hvx_gpa_walk *w, struct hvx_mem *mem)
	__acquires(&mem->srcu)
{
	w->mem = mem;
	w->slot = NULL;
	w->idx = srcu_read_lock(&mem->srcu);
}

/* The user address of @gpa for a walk (w->hva), or NULL if not RAM. */
static void __user *walk_hva(struct hvx_gpa_walk *w, u64 gpa)
{
	struct hvx_slot *slot = w->slot;

	if (!slot || gpa < slot->gpa || gpa >= slot_end(slot) ||
	    READ_ONCE(slot->invalid)) {
		slot = slot_find(w->mem, gpa);
		while (slot && READ_ONCE(slot->invalid)) {
			srcu_read_unlock(&w->mem->srcu, w->idx);
			slot_wait(w->mem);
			w->idx = srcu_read_lock(&w->mem->srcu);
			slot = slot_find(w->mem, gpa);
		}
		w->slot = slot;
		if (!slot)
			return NULL;
	}
	w->hva = (void __user *)(slot->hva + (gpa - slot->gpa));
	return w->hva;
}

/**
 * hvx_gpa_walk_read - read one naturally aligned 4- or 8-byte guest value
 * @w: the walk, from hvx_gpa_walk_begin().
 * @gpa: guest physical address, a multiple of @size.
 * @size: 4 or 8.
 * @val: the value, zero-extended.
 *
 * One sized user access (hva_copy()), in the slot of the last read if
 * @gpa is in it.
 * A slot being changed is waited for outside the section, as
 * hvx_gpa_read() does.
 * Context: as hvx_gpa_read().
 * Return: as hvx_gpa_read().
 */
int hvx_gpa_walk_read(struct hvx_gpa_walk *w, u64 gpa, unsigned int size,
		      u64 *val)
{
	void __user *hva;

	if (WARN_ON_ONCE((size != 4 && size != 8) || (gpa & (size - 1))))
		return -EINVAL;
	hva = walk_hva(w, gpa);
	if (!hva)
		return -ENOENT;
	*val = 0;	/* a 4-byte entry fills the low half (little-endian) */
	return hva_copy(hva, val, size, false);
}

/**
 * hvx_gpa_walk_fetch - read the 16 bytes at @gpa, inside one page
 * @w: the walk, from hvx_gpa_walk_begin().
 * @gpa: guest physical address; @gpa + 16 must not cross a page.
 * @buf: the bytes, as two u64.
 *
 * An instruction fetch after the walk that translated its address, in
 * the same section; @w->hva says where the bytes are.
 * Context: as hvx_gpa_read().
 * Return: as hvx_gpa_read().
 */
int hvx_gpa_walk_fetch(struct hvx_gpa_walk *w, u64 gpa, u64 *buf)
{
	void __user *hva;

	if (WARN_ON_ONCE(offset_in_page(gpa) + 16 > PAGE_SIZE))
		return -EINVAL;
	hva = walk_hva(w, gpa);
	if (!hva)
		return -ENOENT;
	return hva_copy(hva, buf, 16, false);
}

/**
 * hvx_mem_changed - a slot or a device range is about to change
 * @mem: the VM's memory.
 *
 * Bumps hvx_mem.slots_gen, ordered before the stores that make the
 * change visible; called before them.
 * Context: holds mem->lock.
 */
void hvx_mem_changed(struct hvx_mem *mem)
{
	lockdep_assert_held(&mem->lock);
	WRITE_ONCE(mem->slots_gen, mem->slots_gen + 1);
	smp_wmb();	/* pairs with the readers' smp_rmb() after hvx_mem_gen() */
}

/**
 * hvx_gpa_walk_end - end the reads of hvx_gpa_walk_begin()
 * @w: the walk.
 */
void hvx_gpa_walk_end(struct hvx_gpa_walk *w)
	__releases(&w->mem->srcu)
{
	srcu_read_unlock(&w->mem->srcu, w->idx);
}

/**
 * hvx_gpa_write - copy a kernel buffer into guest RAM
 * @mem: the VM's memory.
 * @gpa: guest physical address.
 * @buf: source.
 * @len: bytes.
 *
 * Pages written are marked in the dirty log of their slot.
 * Context: as hvx_gpa_read().
 * Return: as hvx_gpa_read(); a read-only slot gives -ENOENT.
 */
int hvx_gpa_write(struct hvx_mem *mem, u64 gpa, const void *buf,
		  unsigned int len)
{
	return gpa_copy(mem, gpa, (void *)buf, len, true);
}

/**
 * hvx_gpa_hold - begin an SRCU read section for hvx_gpa_iov()
 * @mem: the VM's memory.
 *
 * No slot change completes while the section lasts (it waits for the
 * section to end before it unmaps or frees a slot), so the host
 * addresses hvx_gpa_iov() gives stay what the guest's addresses mean
 * until hvx_gpa_release(). The section may sleep (file I/O), but a slot
 * change waits for it, so it lasts one I/O.
 * Context: process context; does not sleep itself.
 * Return: the index for hvx_gpa_release().
 */
int hvx_gpa_hold(struct hvx_mem *mem)
	__acquires(&mem->srcu)
{
	return srcu_read_lock(&mem->srcu);
}

/**
 * hvx_gpa_release - end the section of hvx_gpa_hold()
 * @mem: the VM's memory.
 * @idx: what hvx_gpa_hold() returned.
 *
 * Context: as hvx_gpa_hold(), after hvx_gpa_dirty() for what was written.
 */
void hvx_gpa_release(struct hvx_mem *mem, int idx)
	__releases(&mem->srcu)
{
	srcu_read_unlock(&mem->srcu, idx);
}

/*
 * The slot of @gpa for a range of a hold section: the cursor's if @gpa
 * is inside it, else looked up (NULL if none) and kept in the cursor. A
 * slot seen valid once in the section stays usable until it ends: a
 * change waits for the section before it unmaps or frees the slot.
 */
static struct hvx_slot *cursor_slot(struct hvx_mem *mem,
				    struct hvx_gpa_cursor *cur, u64 gpa,
				    bool *stale)
{
	struct hvx_slot *slot = cur->slot;

	*stale = false;
	if (slot && gpa >= slot->gpa && gpa < slot_end(slot))
		return slot;
	slot = slot_find(mem, gpa);
	if (slot && READ_ONCE(slot->invalid)) {
		*stale = true;
		return NULL;
	}
	cur->slot = slot;
	return slot;
}

/**
 * hvx_gpa_iov - the host user ranges of guest RAM, for I/O straight to it
 * @mem: the VM's memory.
 * @cur: the section's cursor (zeroed after hvx_gpa_hold()).
 * @gpa: first byte.
 * @len: bytes.
 * @write: the I/O will write the range (device to guest): a read-only
 *	slot refuses.
 * @iov: the array to append to; a range that continues the last entry in
 *	the host's address space extends it.
 * @max: entries of @iov.
 * @nr: entries of @iov used; updated.
 *
 * For a device that reads or writes guest memory with one call into the
 * VFS (an iov_iter over the host addresses, user memory of the VM owner's
 * mm, which the caller must be using). The addresses are valid only
 * inside the caller's hvx_gpa_hold() section, which must last until the
 * I/O is done; after writing guest memory the caller marks the range
 * with hvx_gpa_dirty() before hvx_gpa_release(). A slot being changed
 * cannot be waited for inside the section (the change waits for it): the
 * caller releases, waits with hvx_mem_wait() and starts again.
 * Context: process context, in a section of hvx_gpa_hold(); does not sleep.
 * Return: bytes of the range appended, fewer than @len only when @iov is
 * full; -ENOENT if a byte of the range is not RAM (or, for @write, lies in
 * a read-only slot): @nr then holds what was appended before it; -EAGAIN
 * if a slot of the range is being changed.
 */
long hvx_gpa_iov(struct hvx_mem *mem, struct hvx_gpa_cursor *cur, u64 gpa,
		 u64 len, bool write, struct iovec *iov, unsigned int max,
		 unsigned int *nr)
{
	u64 done = 0;

	while (done < len) {
		struct hvx_slot *slot;
		bool stale;
		u64 n, hva;

		slot = cursor_slot(mem, cur, gpa + done, &stale);
		if (stale)
			return -EAGAIN;
		if (!slot || (write && (slot->flags & HVX_MEM_READONLY)))
			return -ENOENT;
		n = min(len - done, slot_end(slot) - (gpa + done));
		hva = slot->hva + (gpa + done - slot->gpa);
		if (*nr && (unsigned long)iov[*nr - 1].iov_base +
			   iov[*nr - 1].iov_len == hva) {
			iov[*nr - 1].iov_len += n;
		} else {
			if (*nr == max)
				break;
			iov[*nr].iov_base = (void __user *)hva;
			iov[*nr].iov_len = n;
			(*nr)++;
		}
		done += n;
	}
	return done;
}

/* Set bits @first to @last of @map, a word at a time (atomically). */
static void dirty_set_range(unsigned long *map, u64 first, u64 last)
{
	while (first <= last) {
		u64 w = first / BITS_PER_LONG;
		u64 end = min(last, (w + 1) * BITS_PER_LONG - 1);
		unsigned long mask = GENMASK(end % BITS_PER_LONG,
					     first % BITS_PER_LONG);

		/* HVX_GET_DIRTY_LOG and faults change the words too. */
		atomic_long_or(mask, (atomic_long_t *)&map[w]);
		first = end + 1;
	}
}

/**
 * hvx_gpa_dirty - log a write made through hvx_gpa_iov()
 * @mem: the VM's memory.
 * @cur: the section's cursor.
 * @gpa: first byte written.
 * @len: bytes written.
 *
 * Marks the pages of the range in the dirty log of their slots, after the
 * write: a concurrent HVX_GET_DIRTY_LOG reports them now or next time.
 * Context: in the hvx_gpa_hold() section of hvx_gpa_iov(); does not sleep.
 */
void hvx_gpa_dirty(struct hvx_mem *mem, struct hvx_gpa_cursor *cur, u64 gpa,
		   u64 len)
{
	u64 end = gpa + len;

	while (gpa < end) {
		struct hvx_slot *slot = cur->slot;
		u64 last;

		/* The slots the write went to, even one being changed. */
		if (!slot || gpa < slot->gpa || gpa >= slot_end(slot)) {
			slot = slot_find(mem, gpa);
			if (!slot)
				return;
			cur->slot = slot;
		}
		last = min(end, slot_end(slot));
		if (slot->dirty)
			dirty_set_range(slot->dirty,
					(gpa - slot->gpa) >> PAGE_SHIFT,
					(last - 1 - slot->gpa) >> PAGE_SHIFT);
		gpa = last;
	}
}

/**
 * hvx_gpa_is_ram - is a guest-physical range all RAM?
 * @mem: the VM's memory.
 * @gpa: first byte.
 * @len: bytes; 0 is always RAM.
 * @write: the range must also be writable (no HVX_MEM_READONLY slot).
 *
 * For checking a device's DMA descriptors before use: device memory, the
 * APIC page and holes are not RAM. The answer may be stale when a slot
 * changes at the same time, so the access itself must still be checked
 * (hvx_gpa_read() and hvx_gpa_write() do).
 * Context: any process context; does not wait for slot changes.
 * Return: true if every byte of the range lies in a slot.
 */
bool hvx_gpa_is_ram(struct hvx_mem *mem, u64 gpa, u64 len, bool write)
{
	u64 end = gpa + len;
	bool ok = true;
	int idx;

	if (end < gpa)
		return false;
	idx = srcu_read_lock(&mem->srcu);
	while (gpa < end) {
		struct hvx_slot *s = slot_find(mem, gpa);

		if (!s || (write && (s->flags & HVX_MEM_READONLY))) {
			ok = false;
			break;
		}
		gpa = slot_end(s);
	}
	srcu_read_unlock(&mem->srcu, idx);
	return ok;
}

/**
 * hvx_gpa_ram_span - the slot of guest RAM around an address
 * @mem: the VM's memory.
 * @gpa: the address.
 * @start: output: the slot's first guest-physical byte.
 * @end: output: the first byte past the slot.
 * @ro: output: the slot is read-only (HVX_MEM_READONLY).
 *
 * For checking many buffers against the slots, as hvx_gpa_is_ram()
 * does one: a buffer inside [@start, @end) is RAM. The answer may be
 * stale when a slot changes at the same time, so the access itself must
 * still be checked (hvx_gpa_read() and hvx_gpa_write() do).
 * Context: any process context; does not wait for slot changes.
 * Return: true if @gpa is RAM, with the outputs set.
 */
bool hvx_gpa_ram_span(struct hvx_mem *mem, u64 gpa, u64 *start, u64 *end,
		      bool *ro)
{
	struct hvx_slot *s;
	bool ram;
	int idx;

	idx = srcu_read_lock(&mem->srcu);
	s = slot_find(mem, gpa);
	ram = s;
	if (s) {
		*start = s->gpa;
		*end = slot_end(s);
		*ro = s->flags & HVX_MEM_READONLY;
	}
	srcu_read_unlock(&mem->srcu, idx);
	return ram;
}

/**
 * hvx_gpa_uaddr - the host user address of a few bytes of guest RAM
 * @mem: the VM's memory.
 * @gpa: guest physical address.
 * @len: bytes, all in the page of @gpa.
 * @write: the caller will write them (a read-only slot refuses).
 * @uaddr: output: the address in the VM owner's address space.
 *
 * For paravirtual structures the guest names by GPA (vmx/pvmsr.c),
 * written from contexts that cannot use hvx_gpa_write() (a preempt
 * notifier, interrupts off) or that need an atomic access. The address is
 * re-resolved through the slots on every call and is valid only until
 * the caller's srcu_read_unlock(): a slot change waits for that before
 * the mapping can go. Only the owner's threads (current->mm == mem->mm)
 * may use it; a write must be followed by hvx_gpa_mark_dirty().
 *
 * Context: any but NMI; the caller holds mem->srcu.
 * Return: 0; -ENOENT if not RAM (or read-only for @write) or the range
 * crosses a page; -EAGAIN if the slot is being changed (process context
 * may wait with hvx_mem_wait() and try again).
 */
int hvx_gpa_uaddr(struct hvx_mem *mem, u64 gpa, unsigned int len, bool write,
		  void __user **uaddr)
{
	struct hvx_slot *slot;

	if (!len || offset_in_page(gpa) + len > PAGE_SIZE)
		return -ENOENT;
	slot = slot_find(mem, gpa);
	if (!slot || (write && (slot->flags & HVX_MEM_READONLY)))
		return -ENOENT;
	if (READ_ONCE(slot->invalid))
		return -EAGAIN;
	*uaddr = (void __user *)(slot->hva + (gpa - slot->gpa));
	return 0;
}

/**
 * hvx_gpa_mark_dirty - log a write made through hvx_gpa_uaddr()
 * @mem: the VM's memory.
 * @gpa: an address written.
 *
 * Context: as hvx_gpa_uaddr(), after the write.
 */
void hvx_gpa_mark_dirty(struct hvx_mem *mem, u64 gpa)
{
	struct hvx_slot *slot = slot_find(mem, gpa);

	if (slot && slot->dirty)
		set_bit((gpa - slot->gpa) >> PAGE_SHIFT, slot->dirty);
}

/**
 * hvx_mem_wait - wait until a slot change in progress is done
 * @mem: the VM's memory.
 *
 * Context: process context, may sleep; not holding mem->srcu.
 */
void hvx_mem_wait(struct hvx_mem *mem)
{
	slot_wait(mem);
}
