/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ept.h - guest memory: slots, EPT page tables, VPIDs (the ept/ room).
 *
 * Nothing in here knows about devices or ioctls. Callers: vmx/ (EPT
 * violations, guest memory reads for emulation) and kmod/ (slot ioctls).
 */
#ifndef HVX_EPT_H
#define HVX_EPT_H

#include <linux/cpumask.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <asm/asm.h>
#include <asm/vmx.h>

#include "hvx.h"

struct hvx_mem_listener;
struct iovec;

/**
 * struct hvx_slot - one memory slot: a GPA range backed by user memory
 * @gpa: first guest physical address, bytes, page-aligned.
 * @npages: size in 4 KiB pages.
 * @hva: host virtual address of the first byte.
 * @flags: HVX_MEM_* flags.
 * @id: slot number.
 * @invalid: the slot is being changed or deleted: a vCPU that faults in it
 *	waits for hvx_mem.lock and looks again. Set under hvx_mem.lock, then
 *	mem->srcu is synchronized, so no fault of the slot is in progress
 *	when its translations are zapped.
 * @pages: one entry per page: the pinned host page, or NULL while the guest
 *	has not touched it. Entries go from NULL to a page with cmpxchg()
 *	under hvx_mem.mmu_lock held for reading, and back to NULL under it
 *	held for writing (an invalidation of the HVA, a move of the pins to
 *	the slot that replaces this one), or when the slot is freed.
 * @dirty: with HVX_MEM_LOG_DIRTY, one bit per page, set (atomically) for
 *	pages written since the last HVX_GET_DIRTY_LOG; else NULL.
 * @mem: the VM's memory this slot belongs to.
 * @mn: MMU interval notifier over [@hva, @hva + @npages * 4 KiB) of
 *	hvx_mem.mm, from slot creation until slot_free().
 * @mn_live: @mn is registered.
 * @zapped: the slot is retired and its GPA range zapped and flushed, so
 *	leaves there belong to its successor: @mn only unpins. Under
 *	hvx_mem.mmu_lock held for writing.
 */
struct hvx_slot {
	u64 gpa;
	u64 npages;
	unsigned long hva;
	u32 flags;
	u32 id;
	bool invalid;
	struct page **pages;
	unsigned long *dirty;
	struct hvx_mem *mem;
	struct mmu_interval_notifier mn;
	bool mn_live;
	bool zapped;
};

/**
 * struct hvx_ept_hint - the last table of 4 KiB leaves a vCPU's fault used
 * @region: (GPA >> 21) + 1 of the 2 MiB range that @table maps; 0: none.
 * @gen: hvx_mem.tables_gen read before @table was found.
 * @table: kernel address of that table.
 *
 * Saves the walk from the PML4 when a fault lands in the same 2 MiB range
 * as the last one (a guest touching its memory in order). Read and
 * written by one vCPU's thread only, so never torn; good while @gen is
 * hvx_mem.tables_gen: a table is unhooked, then the generation bumped,
 * then (after an SRCU grace period, or once no slot can reach it) freed.
 */
struct hvx_ept_hint {
	u64 region;
	unsigned long gen;
	u64 *table;
};

/**
 * struct hvx_mem - the guest-physical address space of one VM
 * @lock: serialises slot changes, the listener and dirty-log harvesting.
 * @srcu: protects readers of @slots (EPT-violation handler, guest memory
 *	access); writers wait with synchronize_srcu() before freeing.
 * @slots: slot table, indexed by slot number.
 * @slots_used: bit n set while @slots[n] is not NULL (set before the
 *	pointer is published, cleared after it is NULL): lookups test only
 *	these entries. Written under @lock, read with READ_ONCE().
 * @slots_gen: bumped under @lock before any change of the slot table or
 *	of mapped device memory becomes visible (a slot published, retired or
 *	restored; a range mapped or unmapped): what a vCPU remembered of the
 *	GPA space (a page with no slot, the user address of a guest
 *	page-table entry) holds while it reads the same value (vmx/emulate.c,
 *	vmx/handlers.c). Read with hvx_mem_gen().
 * @pml4: EPT PML4 table (kernel virtual address).
 * @eptp: EPT pointer for the VMCS (SDM Vol. 3C 25.6.11).
 * @ad: EPT accessed/dirty flags are enabled in @eptp.
 * @max_level: largest EPT leaf this VM may use: 1 (4 KiB), 2 (2 MiB) or
 *	3 (1 GiB).
 * @memcg: memory cgroup of the VM's creator; EPT tables and slot
 *	bookkeeping are charged to it (a reference is held).
 * @limit: most bytes of guest memory the slots may hold (HVX_SET_MEM_LIMIT),
 *	0 for no limit; under @lock.
 * @bytes: bytes of guest memory in the slots; under @lock.
 * @nr_pinned: pages currently pinned for this VM.
 * @nr_tables: EPT table pages allocated for this VM.
 * @nr_flushes: VM-wide EPT flushes done (hvx_ept_flush_all_cpus()).
 * @nr_leaves: EPT leaves present now, by size: 4 KiB, 2 MiB, 1 GiB.
 * @tables_gen: bumped after an EPT table is unhooked and before it can be
 *	freed; a struct hvx_ept_hint of another value is stale.
 * @listener: told about every RAM slot (IOMMU mapping), or NULL; set and
 *	read under @lock. While one is set, every page of every slot is
 *	pinned.
 * @mmio: device memory ranges mapped into the EPT (struct hvx_mmio_range,
 *	ept/mmio.c); under @lock. Slots may not overlap them.
 * @nr_device_mmio: how many of @mmio are device memory (not the private
 *	APIC-access page); written under @lock, read locklessly at VM entry
 *	(hvx_vmx_has_host_mmio()).
 * @no_ept: a DMA-only VM (HVX_VM_NO_VCPUS): no vCPU walks the EPT and
 *	VMX root mode may be off, so EPT flushes are skipped.
 * @mm: address space of the VM's creator (a reference is held): the pins
 *	are charged to its locked_vm (RLIMIT_MEMLOCK).
 * @cpus: CPUs that have loaded @eptp (hvx_ept_flush_local() at vCPU load);
 *	bits are only ever set. VM-wide flushes go to these CPUs only.
 * @nx_huge: large leaves are mapped without execute permission and split
 *	on an instruction fetch (iTLB multihit), fixed at VM creation.
 * @nx_split: large leaves split for execution and not yet recovered:
 *	index (GPA >> 21) << 1 | (split leaf was 1 GiB), value a dummy.
 * @nr_nx_split: entries in @nx_split.
 * @nx_work: periodic recovery of @nx_split (ept/slots.c).
 * @nx_cursor: @nx_split index where the next recovery round starts.
 * @nr_nx_recovered: split leaves zapped by recovery so far.
 * @mmu_lock: orders EPT faults against invalidations of slot memory by
 *	the owner's mm (ept/slots.c). Held for reading by a fault from its
 *	mmu_interval_read_retry() check to its last EPT leaf, and while
 *	pinned pages are stored in hvx_slot.pages; for writing by the MMU
 *	notifier (mmu_interval_set_seq(), zap, unpin) and by moves of pins
 *	between slots. Nothing is allocated and no user memory is touched
 *	under it.
 * @keep_pins: invalidations leave pins and EPT alone (a listener, i.e. an
 *	IOMMU, maps every page); under @lock and @mmu_lock for writing.
 * @unlock_pages: pages unpinned by the MMU notifier whose locked_vm charge
 *	is still to be returned (the notifier may not take mmap_lock).
 * @unlock_work: returns @unlock_pages from process context.
 * @nr_noncoherent: assigned devices whose DMA may bypass the CPU caches
 *	(no IOMMU, or one that does not enforce snooping); while non-zero a
 *	guest WBINVD is carried out (vmx/exit.c). Changed by iommu/ under
 *	the VM's passthrough lock, read without it.
 */
struct hvx_mem {
	struct mutex lock;	/* slot changes, listener, dirty log */
	struct srcu_struct srcu;
	struct hvx_slot __rcu *slots[HVX_MAX_MEM_SLOTS];
	unsigned long slots_used;
	unsigned long slots_gen;
	u64 *pml4;
	u64 eptp;
	bool ad;
	int max_level;
	struct mem_cgroup *memcg;
	u64 limit;
	u64 bytes;
	atomic64_t nr_pinned;
	atomic64_t nr_tables;
	atomic64_t nr_flushes;
	atomic64_t nr_leaves[3];
	atomic_long_t tables_gen;
	struct hvx_mem_listener *listener;
	struct list_head mmio;
	unsigned int nr_device_mmio;
	bool no_ept;
	struct mm_struct *mm;
	cpumask_var_t cpus;
	bool nx_huge;
	struct xarray nx_split;
	atomic_long_t nr_nx_split;
	struct delayed_work nx_work;
	unsigned long nx_cursor;
	atomic64_t nr_nx_recovered;
	atomic_t nr_noncoherent;
	struct rw_semaphore mmu_lock;
	bool keep_pins;
	atomic64_t unlock_pages;
	struct work_struct unlock_work;
};

/**
 * struct hvx_mmio_range - device memory (a PCI BAR) mapped into the EPT
 * @node: in hvx_mem.mmio while mapped.
 * @gpa: first guest physical address, page-aligned.
 * @hpa: host physical address it maps, page-aligned.
 * @npages: size in 4 KiB pages; 0 while not mapped.
 * @private: a kernel page (hvx_mem_map_private()), not device memory.
 *
 * Owned by the caller (zeroed before first use); ept/mmio.c links it
 * while it is mapped.
 */
struct hvx_mmio_range {
	struct list_head node;
	u64 gpa;
	u64 hpa;
	u64 npages;
	bool private;
};

/**
 * struct hvx_mem_listener - told about RAM slots, for IOMMU mapping
 * @slot_add: a slot is about to appear. Called under hvx_mem.lock with
 *	every page of the slot pinned, BEFORE the slot becomes visible to
 *	the guest; a non-zero return aborts the slot change (nothing
 *	changed) and is returned to the caller. @pages[i] is the page at
 *	@gpa + i * 4096; the array stays valid until @slot_remove for this
 *	slot. @readonly: guest writes to the slot are not allowed.
 * @slot_remove: a slot is gone. Called under hvx_mem.lock AFTER the slot
 *	is invisible to the guest (EPT zapped and flushed), BEFORE its pages
 *	are unpinned.
 *
 * A moved, resized or re-flagged slot is reported as @slot_remove of the
 * old range followed by @slot_add of the new one.
 */
struct hvx_mem_listener {
	int (*slot_add)(struct hvx_mem_listener *l, u64 gpa, u64 npages,
			struct page **pages, bool readonly);
	void (*slot_remove)(struct hvx_mem_listener *l, u64 gpa, u64 npages);
};

/**
 * enum hvx_fault - outcome of hvx_ept_fault()
 * @HVX_FAULT_MAPPED: the GPA is RAM and is now mapped; re-enter the guest.
 * @HVX_FAULT_MMIO: no slot holds the GPA: emulate the access. That stays
 *	so while hvx_mem_gen() is unchanged.
 * @HVX_FAULT_MMIO_RO: a write to a read-only slot: emulate the access.
 */
enum hvx_fault {
	HVX_FAULT_MAPPED,
	HVX_FAULT_MMIO,
	HVX_FAULT_MMIO_RO,
};

/**
 * struct hvx_gpa_walk - small reads of guest RAM in one SRCU section
 * @mem: the VM's memory.
 * @slot: the slot of the last read (valid while the section lasts), or
 *	NULL.
 * @idx: the SRCU index of the section.
 * @hva: the owner's user address of the last value read.
 *
 * For a walk of the guest's page tables: one section and, while the
 * tables stay in one slot, one slot lookup for all its levels
 * (hvx_gpa_walk_begin(), hvx_gpa_walk_read(), hvx_gpa_walk_end()).
 */
struct hvx_gpa_walk {
	struct hvx_mem *mem;
	struct hvx_slot *slot;
	int idx;
	void __user *hva;
};

/**
 * hvx_mem_gen - the generation of a VM's slot table and device memory
 * @mem: the VM's memory.
 *
 * Return: hvx_mem.slots_gen; a change means that a GPA's slot, or its
 * user address, may have changed.
 */
static inline unsigned long hvx_mem_gen(struct hvx_mem *mem)
{
	return READ_ONCE(mem->slots_gen);
}

/**
 * struct hvx_gpa_cursor - the slot of the last hvx_gpa_iov() or
 *	hvx_gpa_dirty() range
 * @slot: that slot (valid while the hvx_gpa_hold() section lasts), or
 *	NULL: zero the cursor at the start of each section.
 *
 * A request's buffers mostly lie in one slot: the next range inside it
 * needs no slot lookup.
 */
struct hvx_gpa_cursor {
	struct hvx_slot *slot;
};

int hvx_mem_init(struct hvx_mem *mem);
void hvx_mem_destroy(struct hvx_mem *mem);
int hvx_mem_set_region(struct hvx_mem *mem, const struct hvx_memory_region *r);
int hvx_mem_get_dirty_log(struct hvx_mem *mem, const struct hvx_dirty_log *d);
int hvx_mem_set_limit(struct hvx_mem *mem, const struct hvx_mem_limit *l);
void hvx_mem_get_info(struct hvx_mem *mem, struct hvx_mem_info *info);
u64 hvx_mem_size(struct hvx_mem *mem);
int hvx_ept_fault(struct hvx_mem *mem, u64 gpa, bool write, bool mapped,
		  struct hvx_stats *stats, struct hvx_ept_hint *hint);
int hvx_gpa_read(struct hvx_mem *mem, u64 gpa, void *buf, unsigned int len);
int hvx_gpa_write(struct hvx_mem *mem, u64 gpa, const void *buf,
		  unsigned int len);
bool hvx_gpa_is_ram(struct hvx_mem *mem, u64 gpa, u64 len, bool write);
void hvx_gpa_walk_begin(struct hvx_gpa_walk *w, struct hvx_mem *mem);
int hvx_gpa_walk_read(struct hvx_gpa_walk *w, u64 gpa, unsigned int size,
		      u64 *val);
int hvx_gpa_walk_fetch(struct hvx_gpa_walk *w, u64 gpa, u64 *buf);
void hvx_gpa_walk_end(struct hvx_gpa_walk *w);
void hvx_mem_changed(struct hvx_mem *mem);
bool hvx_gpa_ram_span(struct hvx_mem *mem, u64 gpa, u64 *start, u64 *end,
		      bool *ro);
int hvx_gpa_hold(struct hvx_mem *mem);
void hvx_gpa_release(struct hvx_mem *mem, int idx);
long hvx_gpa_iov(struct hvx_mem *mem, struct hvx_gpa_cursor *cur, u64 gpa,
		 u64 len, bool write, struct iovec *iov, unsigned int max,
		 unsigned int *nr);
void hvx_gpa_dirty(struct hvx_mem *mem, struct hvx_gpa_cursor *cur, u64 gpa,
		   u64 len);
int hvx_gpa_uaddr(struct hvx_mem *mem, u64 gpa, unsigned int len, bool write,
		  void __user **uaddr);
void hvx_gpa_mark_dirty(struct hvx_mem *mem, u64 gpa);
void hvx_mem_wait(struct hvx_mem *mem);
void hvx_ept_flush_all_cpus(struct hvx_mem *mem);
int hvx_mem_set_listener(struct hvx_mem *mem, struct hvx_mem_listener *l);
void hvx_mem_clear_listener(struct hvx_mem *mem);

/* ept/mmio.c: device memory (passthrough BARs), uncacheable */
int hvx_mmio_map(struct hvx_mem *mem, struct hvx_mmio_range *r, u64 gpa,
		 u64 hpa, u64 size);
void hvx_mmio_unmap(struct hvx_mem *mem, struct hvx_mmio_range *r);
int hvx_mem_map_private(struct hvx_mem *mem, struct hvx_mmio_range *r,
			u64 gpa, struct page *page);
bool hvx_mmio_overlaps(struct hvx_mem *mem, u64 start, u64 end);

/* Called once by vmx/ at module init with IA32_VMX_EPT_VPID_CAP. */
void hvx_ept_caps_init(u64 ept_vpid_cap);
int hvx_ept_max_level(void);
bool hvx_ept_nx_huge(void);

/* Inside ept/: table management used by the slot code. */
int hvx_ept_init(struct hvx_mem *mem);
void hvx_ept_destroy(struct hvx_mem *mem);
int hvx_ept_map(struct hvx_mem *mem, u64 gpa, u64 hpa, int level, u64 prot);
int hvx_ept_map_mt(struct hvx_mem *mem, u64 gpa, u64 hpa, int level, u64 prot,
		   u8 mt);
void hvx_ept_zap_range(struct hvx_mem *mem, u64 gpa, u64 npages);
bool hvx_ept_unmap(struct hvx_mem *mem, u64 start, u64 end,
		   unsigned long *dirty, u64 dirty_base);
int hvx_ept_prepare(struct hvx_mem *mem, u64 gpa, int level);
int hvx_ept_map_prepared(struct hvx_mem *mem, u64 gpa, u64 hpa, int level,
			 u64 prot);
int hvx_ept_map_4k(struct hvx_mem *mem, struct hvx_ept_hint *hint, u64 gpa,
		   u64 hpa, u64 prot);
int hvx_ept_map_block(struct hvx_mem *mem, struct hvx_ept_hint *hint, u64 gpa,
		      struct page **pages, unsigned int n, u64 prot);
bool hvx_mem_range_used(struct hvx_mem *mem, u64 start, u64 end);
bool hvx_ept_write_protect(struct hvx_mem *mem, u64 gpa);
bool hvx_ept_test_clear_dirty(struct hvx_mem *mem, u64 gpa);
void hvx_ept_flush_local(struct hvx_mem *mem);
void hvx_ept_flush_cpu_all(void);
/* vmx/vmx.c: INVEPT and INVVPID only where this is true */
bool hvx_vmx_cpu_on(void);
int hvx_ept_nx_split(struct hvx_mem *mem, u64 gpa, u64 need);
u64 hvx_ept_nx_unhook(struct hvx_mem *mem, u64 gpa, int level);
void hvx_ept_nx_free(struct hvx_mem *mem, u64 entry, u64 gpa, int level);
int hvx_ept_leaf_level(int max_level, u64 gpa, u64 hpa, u64 left);

int hvx_vpid_init(bool enabled);
int hvx_vpid_alloc(void);
void hvx_vpid_free(struct hvx_mem *mem, int vpid);

/**
 * hvx_invept - execute INVEPT (SDM Vol. 3C 31.3, "INVEPT")
 * @type: VMX_EPT_EXTENT_CONTEXT (single-context) or 2 (all-context).
 * @eptp: EPT pointer for single-context; ignored for all-context.
 *
 * An INVEPT that faults is skipped: the CPU is outside VMX operation (it
 * left for a reboot, vmx/vmx.c hvx_vmx_insn_fault()), where it caches no
 * EPT translation that its next VMXON would not flush.
 *
 * Context: VMX root operation on this CPU (any VM exists).
 */
static inline void hvx_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, gpa; } desc = { eptp, 0 };

	asm volatile("1: invept %[desc], %[type]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : : [desc] "m"(desc), [type] "r"(type) : "cc", "memory");
}

/**
 * hvx_invvpid - execute INVVPID (SDM Vol. 3C 31.3, "INVVPID")
 * @type: VMX_VPID_EXTENT_SINGLE_CONTEXT or VMX_VPID_EXTENT_ALL_CONTEXT.
 * @vpid: the VPID to flush for single-context.
 *
 * A fault is skipped, as in hvx_invept().
 *
 * Context: VMX root operation on this CPU.
 */
static inline void hvx_invvpid(unsigned long type, u16 vpid)
{
	struct { u64 vpid, gla; } desc = { vpid, 0 };

	asm volatile("1: invvpid %[desc], %[type]\n\t"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : : [desc] "m"(desc), [type] "r"(type) : "cc", "memory");
}

#endif /* HVX_EPT_H */
