/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ept.h - guest memory: slots, EPT page tables, VPIDs (the ept/ room).
 *
 * Nothing in here knows about devices or ioctls. Callers: vmx/ (EPT
 * violations, guest memory reads for emulation) and kmod/ (slot ioctls).
 */
#ifndef HVX_EPT_H
#define HVX_EPT_H

#include <linux/mutex.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <asm/vmx.h>

#include "hvx.h"

struct hvx_mem_listener;

/**
 * struct hvx_slot - one memory slot: a GPA range backed by user memory
 * @gpa: first guest physical address, bytes, page-aligned.
 * @npages: size in 4 KiB pages.
 * @hva: host virtual address of the first byte.
 * @flags: HVX_MEM_* flags.
 * @pages: one entry per page: the pinned host page, or NULL while the guest
 *	has not touched it. Entries go from NULL to a page with cmpxchg() and
 *	only go back when the slot is freed.
 */
struct hvx_slot {
	u64 gpa;
	u64 npages;
	unsigned long hva;
	u32 flags;
	struct page **pages;
};

/**
 * struct hvx_mem - the guest-physical address space of one VM
 * @lock: serialises slot changes (HVX_SET_MEMORY_REGION).
 * @srcu: protects readers of @slots (EPT-violation handler, guest memory
 *	access); writers wait with synchronize_srcu() before freeing.
 * @slots: slot table, indexed by slot number.
 * @pml4: EPT PML4 table (kernel virtual address).
 * @eptp: EPT pointer for the VMCS (SDM Vol. 3C 25.6.11).
 * @nr_pinned: pages currently pinned for this VM.
 * @nr_tables: EPT table pages allocated for this VM.
 * @nr_flushes: VM-wide EPT flushes done (hvx_ept_flush_all_cpus()).
 * @listener: told about every RAM slot (IOMMU mapping), or NULL; set and
 *	read under @lock. While one is set, every page of every slot is
 *	pinned.
 * @no_ept: a DMA-only VM (HVX_VM_NO_VCPUS): no vCPU walks the EPT and
 *	VMX root mode may be off, so EPT flushes are skipped.
 */
struct hvx_mem {
	struct mutex lock;
	struct srcu_struct srcu;
	struct hvx_slot __rcu *slots[HVX_MAX_MEM_SLOTS];
	u64 *pml4;
	u64 eptp;
	atomic64_t nr_pinned;
	atomic64_t nr_tables;
	atomic64_t nr_flushes;
	struct hvx_mem_listener *listener;
	bool no_ept;
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
 * @HVX_FAULT_MMIO: the GPA is not RAM (or a write to a read-only slot):
 *	emulate the access.
 */
enum hvx_fault {
	HVX_FAULT_MAPPED,
	HVX_FAULT_MMIO,
};

int hvx_mem_init(struct hvx_mem *mem);
void hvx_mem_destroy(struct hvx_mem *mem);
int hvx_mem_set_region(struct hvx_mem *mem, const struct hvx_memory_region *r);
u64 hvx_mem_size(struct hvx_mem *mem);
int hvx_ept_fault(struct hvx_mem *mem, u64 gpa, bool write);
int hvx_gpa_read(struct hvx_mem *mem, u64 gpa, void *buf, unsigned int len);
int hvx_gpa_write(struct hvx_mem *mem, u64 gpa, const void *buf,
		  unsigned int len);
void hvx_ept_flush_all_cpus(struct hvx_mem *mem);
int hvx_mem_set_listener(struct hvx_mem *mem, struct hvx_mem_listener *l);
void hvx_mem_clear_listener(struct hvx_mem *mem);

/* Inside ept/: table management used by the slot code. */
int hvx_ept_init(struct hvx_mem *mem);
void hvx_ept_destroy(struct hvx_mem *mem);
int hvx_ept_map(struct hvx_mem *mem, u64 gpa, u64 hpa, bool writable);
void hvx_ept_unmap_range(struct hvx_mem *mem, u64 gpa, u64 npages);
void hvx_ept_flush_local(struct hvx_mem *mem);

int hvx_vpid_init(bool enabled);
int hvx_vpid_alloc(void);
void hvx_vpid_free(int vpid);

/**
 * hvx_invept - execute INVEPT (SDM Vol. 3C 31.3, "INVEPT")
 * @type: VMX_EPT_EXTENT_CONTEXT (single-context) or 2 (all-context).
 * @eptp: EPT pointer for single-context; ignored for all-context.
 *
 * Context: VMX root operation on this CPU (any VM exists).
 */
static inline void hvx_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, gpa; } desc = { eptp, 0 };

	asm volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

/**
 * hvx_invvpid - execute INVVPID (SDM Vol. 3C 31.3, "INVVPID")
 * @type: VMX_VPID_EXTENT_SINGLE_CONTEXT or VMX_VPID_EXTENT_ALL_CONTEXT.
 * @vpid: the VPID to flush for single-context.
 *
 * Context: VMX root operation on this CPU.
 */
static inline void hvx_invvpid(unsigned long type, u16 vpid)
{
	struct { u64 vpid, gla; } desc = { vpid, 0 };

	asm volatile("invvpid %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

#endif /* HVX_EPT_H */
