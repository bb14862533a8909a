// SPDX-License-Identifier: GPL-2.0
/*
 * ept.c - EPT page tables (SDM Vol. 3C 29.3, "The Extended Page Table
 * Mechanism").
 *
 * Four levels; leaves of 4 KiB, 2 MiB or 1 GiB (29.3.2: bit 7 of a PDE or
 * PDPTE maps a page), write-back memory type for RAM (29.3.7). Tables are
 * filled lazily from EPT violations: a non-leaf entry goes from zero to a
 * table with cmpxchg() (so vCPUs fault in parallel without a lock) and a
 * leaf from zero to present, or from read-only to writable, also with
 * cmpxchg(). Entries are cleared, write-protected or have their dirty flag
 * cleared only under hvx_mem.lock, for GPA ranges no vCPU can fault in at
 * the time (slot changes), or for bits a racing fault cannot lose (dirty
 * log). Every such change is followed by a single-context INVEPT on every
 * CPU before the old translation's page may be reused.
 *
 * With the EPT accessed and dirty flags (29.3.5), the CPU sets bit 8 of
 * each entry it uses and bit 9 of a leaf it writes through; dirty logging
 * reads and clears bit 9. They are enabled per VM in the EPTP (bit 6).
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <asm/io.h>

#include "ept.h"

#define EPT_LEVELS		4
#define EPT_ENTRIES		512
#define EPT_ADDR_MASK		GENMASK_ULL(51, 12)
/* Non-leaf entries: read, write, execute; the leaf decides (29.3.2). */
#define EPT_TABLE_BITS		VMX_EPT_RWX_MASK
/*
 * Leaf memory type, bits 5:3 (29.3.7): WB for RAM, UC for device memory;
 * guest PAT is honoured (IPAT = 0), and with UC in the EPT the effective
 * type is UC whatever the guest's PAT says (SDM Vol. 3A 12.11, Table 12-7).
 */
/* Bit 7 of a PDE/PDPTE: the entry maps a 2 MiB / 1 GiB page (29.3.2). */
#define EPT_LARGE		BIT_ULL(7)
#define EPT_DIRTY_NR		9	/* bit number of VMX_EPT_DIRTY_BIT */
#define EPT_WRITE_NR		1	/* bit number of VMX_EPT_WRITABLE_MASK */

static bool ept_ad = true;
module_param(ept_ad, bool, 0644);
MODULE_PARM_DESC(ept_ad, "Use EPT accessed/dirty flags for dirty logging when the CPU has them (read at VM creation; 0: write-protect pages instead)");

static bool ept_large = true;
module_param(ept_large, bool, 0644);
MODULE_PARM_DESC(ept_large, "Map 2 MiB/1 GiB EPT leaves where the host backing is a huge page (read at VM creation)");

/* IA32_VMX_EPT_VPID_CAP bits hvx uses, set once by hvx_ept_caps_init(). */
static bool cap_2m, cap_1g, cap_ad;

/**
 * hvx_ept_caps_init - record the CPU's optional EPT features
 * @ept_vpid_cap: IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D A.10): bit 16 2 MiB
 *	leaves, bit 17 1 GiB leaves, bit 21 accessed and dirty flags.
 *
 * Features the CPU lacks are never used: leaves stay 4 KiB and dirty
 * logging write-protects pages.
 * Context: module init, before any VM exists.
 */
void hvx_ept_caps_init(u64 ept_vpid_cap)
{
	cap_2m = ept_vpid_cap & VMX_EPT_2MB_PAGE_BIT;
	cap_1g = ept_vpid_cap & VMX_EPT_1GB_PAGE_BIT;
	cap_ad = ept_vpid_cap & VMX_EPT_AD_BIT;
	pr_info("hvx: EPT leaves 4K%s%s, %s dirty logging\n",
		cap_2m ? "/2M" : "", cap_1g ? "/1G" : "",
		cap_ad ? "A/D-flag" : "write-protect");
}

static unsigned int ept_index(u64 gpa, int level)
{
	return (gpa >> (12 + 9 * (level - 1))) & (EPT_ENTRIES - 1);
}

static u64 ept_level_size(int level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

static u64 *ept_table_va(u64 entry)
{
	return phys_to_virt(entry & EPT_ADDR_MASK);
}

static bool ept_is_leaf(u64 entry, int level)
{
	return level == 1 || (entry & EPT_LARGE);
}

static u64 *ept_alloc_table(struct hvx_mem *mem)
{
	struct mem_cgroup *old = set_active_memcg(mem->memcg);
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);

	set_active_memcg(old);
	if (!page)
		return NULL;
	atomic64_inc(&mem->nr_tables);
	return page_address(page);
}

static void ept_free_table_page(struct hvx_mem *mem, u64 *table)
{
	free_page((unsigned long)table);
	atomic64_dec(&mem->nr_tables);
}

/*
 * The entry for @gpa at @level, creating missing tables above it when
 * @create. Returns NULL if a table is missing and !@create,
 * ERR_PTR(-EEXIST) if a larger leaf above @level already maps @gpa, or
 * ERR_PTR(-ENOMEM).
 */
static u64 *ept_entry(struct hvx_mem *mem, u64 gpa, int level, bool create)
{
	u64 *table = mem->pml4;
	int l;

	for (l = EPT_LEVELS; l > level; l--) {
		u64 *entry = &table[ept_index(gpa, l)];
		u64 cur = READ_ONCE(*entry);

		if (cur && ept_is_leaf(cur, l))
			return ERR_PTR(-EEXIST);
		if (!cur) {
			u64 *new_table, new;

			if (!create)
				return NULL;
			new_table = ept_alloc_table(mem);
			if (!new_table)
				return ERR_PTR(-ENOMEM);
			new = virt_to_phys(new_table) | EPT_TABLE_BITS;
			cur = cmpxchg64(entry, 0, new);
			if (cur)	/* another vCPU won */
				ept_free_table_page(mem, new_table);
			else
				cur = new;
		}
		table = ept_table_va(cur);
	}
	return &table[ept_index(gpa, level)];
}

/**
 * hvx_ept_map_mt - install or upgrade an EPT leaf of a given memory type
 * @mem: the VM's memory.
 * @gpa: guest physical address, aligned to the leaf size.
 * @hpa: host physical address, aligned to the leaf size.
 * @level: 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB).
 * @prot: VMX_EPT_{READABLE,WRITABLE,EXECUTABLE}_MASK bits.
 * @mt: EPT memory type for bits 5:3 of the leaf (SDM Vol. 3C 29.3.7):
 *	VMX_EPTP_MT_WB for RAM, VMX_EPTP_MT_UC (0) for device memory.
 *
 * A leaf that already maps @hpa gains the bits of @prot it lacks (a
 * write-protected page of a dirty-logging slot becoming writable); its
 * accessed and dirty flags are kept. Going from not present to present or
 * adding permissions needs no INVEPT: the CPU caches no translation that
 * caused an EPT violation (SDM Vol. 3C 29.4.3.1).
 *
 * Context: process context, may sleep (table allocation); the caller
 * holds mem->srcu and the GPA is in a slot that cannot change meanwhile,
 * or holds mem->lock and the GPA is in no slot (device memory).
 * Return: 1 if a new leaf was installed, 0 if the address was already
 * mapped (by a racing vCPU, or by a larger leaf), -EEXIST if @level > 1
 * and a table of smaller leaves is in the way, -EBUSY if a non-WB leaf
 * would replace one for another host address, -ENOMEM.
 */
int hvx_ept_map_mt(struct hvx_mem *mem, u64 gpa, u64 hpa, int level, u64 prot,
		   u8 mt)
{
	u64 *leaf = ept_entry(mem, gpa, level, true);
	u64 new, old;

	if (leaf == ERR_PTR(-EEXIST))
		return mt == VMX_EPTP_MT_WB ? 0 : -EBUSY;
	if (IS_ERR(leaf))
		return PTR_ERR(leaf);
	new = (hpa & EPT_ADDR_MASK) | prot | ((u64)mt << VMX_EPT_MT_EPTE_SHIFT) |
	      (level > 1 ? EPT_LARGE : 0);
	old = READ_ONCE(*leaf);
	for (;;) {
		u64 cur;

		if (!old) {
			cur = cmpxchg64(leaf, 0, new);
			if (!cur) {
				atomic64_inc(&mem->nr_leaves[level - 1]);
				return 1;
			}
			old = cur;
			continue;
		}
		if (!ept_is_leaf(old, level))
			return -EEXIST;
		if ((old & EPT_ADDR_MASK) != (hpa & EPT_ADDR_MASK)) {
			if (mt != VMX_EPTP_MT_WB)
				return -EBUSY;
			WARN_ON_ONCE(1);
			return 0;
		}
		if ((old & prot) == prot)
			return 0;
		cur = cmpxchg64(leaf, old, old | prot);
		if (cur == old)
			return 0;
		old = cur;
	}
}

/**
 * hvx_ept_map - install or upgrade a write-back EPT leaf (guest RAM)
 * @mem: the VM's memory.
 * @gpa: guest physical address, aligned to the leaf size.
 * @hpa: host physical address, aligned to the leaf size.
 * @level: 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB).
 * @prot: VMX_EPT_{READABLE,WRITABLE,EXECUTABLE}_MASK bits.
 *
 * hvx_ept_map_mt() with memory type WB; same context and returns.
 * Return: 1 if a new leaf was installed, 0 if already mapped, -EEXIST,
 * -ENOMEM (see hvx_ept_map_mt()).
 */
int hvx_ept_map(struct hvx_mem *mem, u64 gpa, u64 hpa, int level, u64 prot)
{
	return hvx_ept_map_mt(mem, gpa, hpa, level, prot, VMX_EPTP_MT_WB);
}

static bool ept_table_empty(const u64 *table)
{
	int i;

	for (i = 0; i < EPT_ENTRIES; i++)
		if (READ_ONCE(table[i]))
			return false;
	return true;
}

/*
 * Clear every entry of @table (at @level, mapping from @base) inside
 * [@start, @end). Tables that lie wholly inside the range, or that end up
 * empty and serve no other slot, are unhooked and queued on @free: only
 * faults inside a slot walk into a table, and none can for these (see
 * hvx_ept_zap_range()).
 */
static void ept_zap(struct hvx_mem *mem, u64 *table, int level, u64 base,
		    u64 start, u64 end, struct list_head *free)
{
	u64 size = ept_level_size(level);
	unsigned int i = (max(start, base) - base) / size;

	for (; i < EPT_ENTRIES; i++) {
		u64 a = base + i * size, b = a + size;
		u64 cur;

		if (a >= end)
			break;
		cur = READ_ONCE(table[i]);
		if (!cur)
			continue;
		if (ept_is_leaf(cur, level)) {
			/* Slots are leaf-aligned: a leaf is wholly inside. */
			WARN_ON_ONCE(a < start || b > end);
			WRITE_ONCE(table[i], 0);
			atomic64_dec(&mem->nr_leaves[level - 1]);
		} else if (start <= a && b <= end) {
			WRITE_ONCE(table[i], 0);
			ept_zap(mem, ept_table_va(cur), level - 1, a, a, b, free);
			list_add(&virt_to_page(ept_table_va(cur))->lru, free);
		} else {
			u64 *child = ept_table_va(cur);

			ept_zap(mem, child, level - 1, a, start, end, free);
			/* Emptied, and no other slot can fault into it. */
			if (ept_table_empty(child) &&
			    !hvx_mem_range_used(mem, a, b)) {
				WRITE_ONCE(table[i], 0);
				list_add(&virt_to_page(child)->lru, free);
			}
		}
		if (level >= 3)
			cond_resched();
	}
}

/**
 * hvx_ept_zap_range - unmap a GPA range and flush it from every CPU
 * @mem: the VM's memory.
 * @gpa: first byte, page-aligned.
 * @npages: number of 4 KiB pages.
 *
 * Clears the leaves in the range, frees the tables that only served it,
 * and executes INVEPT single-context on every CPU (hvx_ept_flush_all_cpus())
 * before the tables are freed; afterwards no CPU can use a translation
 * into the range, so its pages may be unpinned.
 *
 * Context: process context, may sleep; holds mem->lock, and no vCPU can
 * fault in the range (its slot is invalid or gone and mem->srcu was
 * synchronized).
 */
void hvx_ept_zap_range(struct hvx_mem *mem, u64 gpa, u64 npages)
{
	LIST_HEAD(free);
	struct page *page, *tmp;

	ept_zap(mem, mem->pml4, EPT_LEVELS, 0, gpa, gpa + (npages << PAGE_SHIFT),
		&free);
	hvx_ept_flush_all_cpus(mem);
	list_for_each_entry_safe(page, tmp, &free, lru) {
		list_del(&page->lru);
		ept_free_table_page(mem, page_address(page));
	}
}

/**
 * hvx_ept_write_protect - make a 4 KiB leaf read-only
 * @mem: the VM's memory.
 * @gpa: guest physical address of the page.
 *
 * Context: holds mem->lock. The caller flushes (INVEPT) afterwards.
 * Return: true if the leaf was writable (a flush is needed).
 */
bool hvx_ept_write_protect(struct hvx_mem *mem, u64 gpa)
{
	u64 *leaf = ept_entry(mem, gpa, 1, false);

	if (IS_ERR_OR_NULL(leaf))
		return false;
	return test_and_clear_bit(EPT_WRITE_NR, (unsigned long *)leaf);
}

/**
 * hvx_ept_test_clear_dirty - read and clear the dirty flag of a 4 KiB leaf
 * @mem: the VM's memory; EPT A/D flags enabled (mem->ad).
 * @gpa: guest physical address of the page.
 *
 * The CPU sets the flag again on the next write once the translation is
 * flushed (SDM Vol. 3C 29.3.5, 29.4.3.4): the caller flushes (INVEPT)
 * afterwards.
 * Context: holds mem->lock.
 * Return: true if the page was written since the flag was last cleared.
 */
bool hvx_ept_test_clear_dirty(struct hvx_mem *mem, u64 gpa)
{
	u64 *leaf = ept_entry(mem, gpa, 1, false);

	if (IS_ERR_OR_NULL(leaf))
		return false;
	return test_and_clear_bit(EPT_DIRTY_NR, (unsigned long *)leaf);
}

static void ept_free_table(struct hvx_mem *mem, u64 *table, int level)
{
	int i;

	if (level > 1) {
		for (i = 0; i < EPT_ENTRIES; i++)
			if (table[i] && !ept_is_leaf(table[i], level))
				ept_free_table(mem, ept_table_va(table[i]),
					       level - 1);
	}
	ept_free_table_page(mem, table);
}

/**
 * hvx_ept_max_level - the largest leaf a new VM may use
 *
 * Return: 3 (1 GiB), 2 (2 MiB) or 1 (4 KiB only), from the CPU's EPT
 * capabilities and the ept_large module parameter.
 */
int hvx_ept_max_level(void)
{
	if (!READ_ONCE(ept_large) || !cap_2m)
		return 1;
	return cap_1g ? 3 : 2;
}

/**
 * hvx_ept_init - allocate the EPT root and compute the EPT pointer
 * @mem: the VM's memory (mem->memcg set).
 *
 * EPTP: memory type WB (bits 2:0), page-walk length 4 - 1 (bits 5:3),
 * accessed and dirty flags (bit 6) when the CPU has them and the ept_ad
 * parameter allows; SDM Vol. 3C 25.6.11.
 *
 * Return: 0 or -ENOMEM.
 */
int hvx_ept_init(struct hvx_mem *mem)
{
	mem->pml4 = ept_alloc_table(mem);
	if (!mem->pml4)
		return -ENOMEM;
	mem->ad = cap_ad && READ_ONCE(ept_ad);
	mem->max_level = hvx_ept_max_level();
	mem->eptp = virt_to_phys(mem->pml4) | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4 |
		    (mem->ad ? VMX_EPTP_AD_ENABLE_BIT : 0);
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
