// SPDX-License-Identifier: GPL-2.0
/*
 * ept.c - EPT page tables (SDM Vol. 3C 29.3, "The Extended Page Table
 * Mechanism").
 *
 * Four levels, 4 KiB leaves, write-back memory type for RAM. Tables are
 * filled lazily from EPT violations; non-leaf entries only ever go from
 * zero to a table (installed with cmpxchg, so vCPUs fault in parallel
 * without a lock), and leaves are cleared only by a slot deletion, which
 * holds hvx_mem.lock and has waited for all faulting readers (SRCU).
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <asm/io.h>

#include "ept.h"

#define EPT_LEVELS		4
#define EPT_ENTRIES		512
#define EPT_ADDR_MASK		GENMASK_ULL(51, 12)
/* Non-leaf entries: read, write, execute; the leaf decides (29.3.2). */
#define EPT_TABLE_BITS		VMX_EPT_RWX_MASK
/* Leaf memory type, bits 5:3 (29.3.7); guest PAT is honoured (IPAT = 0). */
#define EPT_LEAF_WB		(VMX_EPTP_MT_WB << VMX_EPT_MT_EPTE_SHIFT)

static unsigned int ept_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * (level - 1))) & (EPT_ENTRIES - 1);
}

static u64 *ept_table_va(u64 entry)
{
	return phys_to_virt(entry & EPT_ADDR_MASK);
}

/**
 * ept_walk - find the leaf entry for @gpa, optionally creating tables
 * @mem: the VM's memory.
 * @gpa: guest physical address.
 * @create: allocate missing tables (may sleep).
 *
 * Return: pointer to the level-1 entry, NULL if a table is missing and
 * @create is false, or ERR_PTR(-ENOMEM).
 */
static u64 *ept_walk(struct hvx_mem *mem, u64 gpa, bool create)
{
	u64 *table = mem->pml4;
	int level;

	for (level = EPT_LEVELS; level > 1; level--) {
		u64 *entry = &table[ept_index(gpa, level)];
		u64 cur = READ_ONCE(*entry);

		if (!cur) {
			struct page *page;
			u64 new;

			if (!create)
				return NULL;
			page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
			if (!page)
				return ERR_PTR(-ENOMEM);
			new = page_to_phys(page) | EPT_TABLE_BITS;
			cur = cmpxchg64(entry, 0, new);
			if (cur) {
				__free_page(page);	/* another vCPU won */
			} else {
				cur = new;
				atomic64_inc(&mem->nr_tables);
			}
		}
		table = ept_table_va(cur);
	}
	return &table[ept_index(gpa, 1)];
}

/**
 * hvx_ept_map - install a 4 KiB EPT leaf
 * @mem: the VM's memory.
 * @gpa: guest physical address of the page.
 * @hpa: host physical address of the page.
 * @writable: map read/write/execute, else read/execute.
 *
 * Context: process context, may sleep; caller holds mem->srcu.
 * Return: 0 or -ENOMEM.
 */
int hvx_ept_map(struct hvx_mem *mem, u64 gpa, u64 hpa, bool writable)
{
	u64 *leaf = ept_walk(mem, gpa, true);
	u64 prot = VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK;

	if (IS_ERR(leaf))
		return PTR_ERR(leaf);
	if (writable)
		prot |= VMX_EPT_WRITABLE_MASK;
	/*
	 * Going from not-present to present needs no flush: EPT caches no
	 * not-present translations (SDM Vol. 3C 29.4.3.1).
	 */
	WRITE_ONCE(*leaf, (hpa & EPT_ADDR_MASK) | prot | EPT_LEAF_WB);
	return 0;
}

/**
 * hvx_ept_unmap_range - clear the leaves of a GPA range
 * @mem: the VM's memory.
 * @gpa: first byte, page-aligned.
 * @npages: number of 4 KiB pages.
 *
 * The caller must flush with hvx_ept_flush_all_cpus() before the pages
 * are reused. Context: holds mem->lock, no reader can fault in the range.
 */
void hvx_ept_unmap_range(struct hvx_mem *mem, u64 gpa, u64 npages)
{
	u64 i;

	for (i = 0; i < npages; i++) {
		u64 *leaf = ept_walk(mem, gpa + (i << PAGE_SHIFT), false);

		if (leaf)
			WRITE_ONCE(*leaf, 0);
		cond_resched();
	}
}

static void ept_free_table(struct hvx_mem *mem, u64 *table, int level)
{
	int i;

	if (level > 1) {
		for (i = 0; i < EPT_ENTRIES; i++)
			if (table[i])
				ept_free_table(mem, ept_table_va(table[i]),
					       level - 1);
	}
	free_page((unsigned long)table);
	atomic64_dec(&mem->nr_tables);
}

/**
 * hvx_ept_init - allocate the EPT root and compute the EPT pointer
 * @mem: the VM's memory.
 *
 * EPTP: memory type WB (bits 2:0), page-walk length 4 - 1 (bits 5:3),
 * SDM Vol. 3C 25.6.11.
 *
 * Return: 0 or -ENOMEM.
 */
int hvx_ept_init(struct hvx_mem *mem)
{
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);

	if (!page)
		return -ENOMEM;
	atomic64_inc(&mem->nr_tables);
	mem->pml4 = page_address(page);
	mem->eptp = page_to_phys(page) | VMX_EPTP_MT_WB |
		    ((EPT_LEVELS - 1) << 3);
	return 0;
}

/**
 * hvx_ept_destroy - free every EPT table of a VM
 * @mem: the VM's memory; no vCPU may run any more.
 */
void hvx_ept_destroy(struct hvx_mem *mem)
{
	if (mem->pml4)
		ept_free_table(mem, mem->pml4, EPT_LEVELS);
	mem->pml4 = NULL;
	WARN_ON(atomic64_read(&mem->nr_tables));
}

/**
 * hvx_ept_flush_local - INVEPT single-context for this VM on this CPU
 * @mem: the VM's memory.
 *
 * Context: preemption disabled, VMX root operation.
 */
void hvx_ept_flush_local(struct hvx_mem *mem)
{
	hvx_invept(VMX_EPT_EXTENT_CONTEXT, mem->eptp);
}

static void ept_flush_ipi(void *data)
{
	hvx_ept_flush_local(data);
}

/**
 * hvx_ept_flush_all_cpus - INVEPT single-context on every online CPU
 * @mem: the VM's memory.
 *
 * Every online CPU is in VMX root operation while a VM exists, so INVEPT
 * is legal everywhere. A vCPU running on another CPU takes an
 * external-interrupt VM exit for the IPI, so it re-enters with the flushed
 * mappings. Context: process context, may sleep.
 */
void hvx_ept_flush_all_cpus(struct hvx_mem *mem)
{
	if (mem->no_ept)
		return;	/* nothing cached; INVEPT may not even exist */
	atomic64_inc(&mem->nr_flushes);
	on_each_cpu(ept_flush_ipi, mem, 1);
}
