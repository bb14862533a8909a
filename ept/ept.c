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
 * log), or by unhooking a whole table and waiting for the faults that may
 * still walk it (SRCU) before freeing it (recovery of split huge leaves).
 * Every such change is followed by a single-context INVEPT on every CPU
 * that has loaded the VM's EPTP before the old translation's page may be
 * reused.
 *
 * iTLB multihit (nx_huge_pages): on CPUs that may take a machine check
 * when an instruction fetch finds translations of two page sizes for one
 * address, large leaves are mapped without execute permission. An
 * instruction fetch through one then faults, and the leaf is replaced by
 * a table of smaller leaves (executable once they are 4 KiB), so the
 * guest only ever executes through 4 KiB translations.
 *
 * With the EPT accessed and dirty flags (29.3.5), the CPU sets bit 8 of
 * each entry it uses and bit 9 of a leaf it writes through; dirty logging
 * reads and clears bit 9. They are enabled per VM in the EPTP (bit 6).
 */
#include <linux/cpu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <asm/asm.h>
#include <asm/io.h>

#include "ept.h"

#define EPT_LEVELS		4
#define EPT_ENTRIES		512
#define EPT_ADDR_MASK		GENMASK_ULL(51, 12)
/* Non-leaf entries: read, write, execute; the leaf decides (29.3.2). */
#define EPT_TABLE_BITS		VMX_EPT_RWX_MASK
/*
 * Leaf memory type, bits 5:3 (29.3.7): WB for RAM, UC for device memory.
 * With UC in the EPT the effective type is UC whatever the guest's PAT
 * says (SDM Vol. 3A 12.11, Table 12-7). For WB RAM the guest's PAT is
 * ignored (IPAT, bit 6) unless the CPU self-snoops: otherwise a guest
 * UC/WC alias of host WB memory could leave stale cache lines.
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

/* nx_huge_pages: -1 auto, 0 off, 1 on. */
static int nx_huge_pages = -1;

static int nx_huge_set(const char *val, const struct kernel_param *kp)
{
	bool b;

	if (sysfs_streq(val, "auto"))
		WRITE_ONCE(nx_huge_pages, -1);
	else if (sysfs_streq(val, "on") || sysfs_streq(val, "force"))
		WRITE_ONCE(nx_huge_pages, 1);
	else if (sysfs_streq(val, "off"))
		WRITE_ONCE(nx_huge_pages, 0);
	else if (!kstrtobool(val, &b))
		WRITE_ONCE(nx_huge_pages, b);
	else
		return -EINVAL;
	return 0;
}

static int nx_huge_get(char *buf, const struct kernel_param *kp)
{
	int v = READ_ONCE(nx_huge_pages);

	return sysfs_emit(buf, "%s\n", v < 0 ? "auto" : v ? "on" : "off");
}

static const struct kernel_param_ops nx_huge_ops = {
	.set = nx_huge_set,
	.get = nx_huge_get,
};
module_param_cb(nx_huge_pages, &nx_huge_ops, NULL, 0644);
MODULE_PARM_DESC(nx_huge_pages, "Map 2 MiB/1 GiB EPT leaves non-executable and split them on instruction fetch, against iTLB multihit: auto (when the CPU has the bug and mitigations are not off), on, off (read at VM creation)");

/* IA32_VMX_EPT_VPID_CAP bits hvx uses, set once by hvx_ept_caps_init(). */
static bool cap_2m, cap_1g, cap_ad, cap_invept_all, cap_invvpid_all;

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
	cap_invept_all = ept_vpid_cap & VMX_EPT_EXTENT_GLOBAL_BIT;
	/* The kernel names bit 42 relative to the high half: use the full MSR. */
	cap_invvpid_all = ept_vpid_cap & BIT_ULL(42);
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

/* The leaf entry mapping @hpa at @level (hvx_ept_map_mt() says why). */
static u64 ept_leaf(struct hvx_mem *mem, u64 hpa, int level, u64 prot, u8 mt)
{
	u64 new;

	if (level > 1 && mem->nx_huge)
		prot &= ~VMX_EPT_EXECUTABLE_MASK;
	new = (hpa & EPT_ADDR_MASK) | prot | ((u64)mt << VMX_EPT_MT_EPTE_SHIFT) |
	      (level > 1 ? EPT_LARGE : 0);
	if (mt == VMX_EPTP_MT_WB && !boot_cpu_has(X86_FEATURE_SELFSNOOP))
		new |= VMX_EPT_IPAT_BIT;
	return new;
}

static int ept_set(struct hvx_mem *mem, u64 *leaf, u64 hpa, int level,
		   u64 prot, u8 mt);

/* hvx_ept_map_mt(); without @create a missing table gives -ENOENT. */
static int ept_map(struct hvx_mem *mem, u64 gpa, u64 hpa, int level, u64 prot,
		   u8 mt, bool create)
{
	u64 *leaf = ept_entry(mem, gpa, level, create);

	if (!leaf)
		return -ENOENT;
	if (leaf == ERR_PTR(-EEXIST))
		return mt == VMX_EPTP_MT_WB ? 0 : -EBUSY;
	if (IS_ERR(leaf))
		return PTR_ERR(leaf);
	return ept_set(mem, leaf, hpa, level, prot, mt);
}

/* Install or upgrade the @level entry @leaf: ept_map(), after the walk. */
static int ept_set(struct hvx_mem *mem, u64 *leaf, u64 hpa, int level,
		   u64 prot, u8 mt)
{
	u64 new = ept_leaf(mem, hpa, level, prot, mt), old;

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
 * caused an EPT violation (SDM Vol. 3C 29.4.3.1). Execute permission is
 * never added to a large leaf of a VM with @mem->nx_huge: such a leaf is
 * split instead (hvx_ept_nx_split()). WB leaves get IPAT unless the CPU
 * self-snoops.
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
	return ept_map(mem, gpa, hpa, level, prot, mt, true);
}

/**
 * hvx_ept_prepare - allocate the tables above a future leaf
 * @mem: the VM's memory.
 * @gpa: guest physical address the leaf will map.
 * @level: level of that leaf: 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB).
 *
 * So that hvx_ept_map_prepared() need not allocate under
 * hvx_mem.mmu_lock: an allocation may enter reclaim, and reclaim may
 * invalidate the VM owner's memory, whose MMU notifier takes that lock
 * for writing. The MMU notifier never frees tables.
 *
 * Context: process context, may sleep; as hvx_ept_map_mt() for RAM.
 * Return: 0 (also when a larger leaf maps @gpa already), or -ENOMEM.
 */
int hvx_ept_prepare(struct hvx_mem *mem, u64 gpa, int level)
{
	u64 *leaf = ept_entry(mem, gpa, level, true);

	if (leaf == ERR_PTR(-EEXIST))
		return 0;
	return PTR_ERR_OR_ZERO(leaf);
}

/**
 * hvx_ept_map_prepared - install or upgrade a write-back leaf, no allocation
 * @mem: the VM's memory.
 * @gpa: guest physical address, aligned to the leaf size.
 * @hpa: host physical address, aligned to the leaf size.
 * @level: 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB).
 * @prot: VMX_EPT_{READABLE,WRITABLE,EXECUTABLE}_MASK bits.
 *
 * hvx_ept_map(), for tables that hvx_ept_prepare() allocated.
 * Context: holds mem->srcu and hvx_mem.mmu_lock for reading; does not
 * sleep.
 * Return: as hvx_ept_map(), or -ENOENT if a table above the leaf is
 * missing (not prepared yet, or freed since hvx_ept_prepare(): prepare
 * and try again).
 */
int hvx_ept_map_prepared(struct hvx_mem *mem, u64 gpa, u64 hpa, int level,
			 u64 prot)
{
	return ept_map(mem, gpa, hpa, level, prot, VMX_EPTP_MT_WB, false);
}

/*
 * The table of 4 KiB leaves for @gpa: @hint's if it is still good, else
 * found by a walk and remembered there. NULL if a table above is
 * missing, ERR_PTR(-EEXIST) if a large leaf maps @gpa.
 */
static u64 *ept_l1_table(struct hvx_mem *mem, struct hvx_ept_hint *hint,
			 u64 gpa)
{
	unsigned long gen = atomic_long_read(&mem->tables_gen);
	u64 region = (gpa >> 21) + 1, *leaf;

	if (hint->region == region && hint->gen == gen)
		return hint->table;
	smp_rmb();	/* the generation before the walk: ept_unhooked() */
	leaf = ept_entry(mem, gpa, 1, false);
	if (IS_ERR_OR_NULL(leaf))
		return leaf;
	hint->region = region;
	hint->gen = gen;
	hint->table = leaf - ept_index(gpa, 1);
	return hint->table;
}

/* Tables were unhooked: no hint may lead to them once they are freed. */
static void ept_unhooked(struct hvx_mem *mem)
{
	smp_mb__before_atomic();	/* the unhook before the generation */
	atomic_long_inc(&mem->tables_gen);
}

/**
 * hvx_ept_map_4k - install or upgrade a 4 KiB write-back leaf, no allocation
 * @mem: the VM's memory.
 * @hint: the faulting vCPU's last table (struct hvx_ept_hint), used when
 *	@gpa lies in the same 2 MiB range and updated otherwise.
 * @gpa: guest physical address, 4 KiB aligned.
 * @hpa: host physical address, 4 KiB aligned.
 * @prot: VMX_EPT_{READABLE,WRITABLE,EXECUTABLE}_MASK bits.
 *
 * hvx_ept_map_prepared() at level 1, without the walk from the PML4 when
 * the hint holds.
 * Context: as hvx_ept_map_prepared(); @hint is the caller's vCPU's own.
 * Return: as hvx_ept_map_prepared().
 */
int hvx_ept_map_4k(struct hvx_mem *mem, struct hvx_ept_hint *hint, u64 gpa,
		   u64 hpa, u64 prot)
{
	u64 *table = ept_l1_table(mem, hint, gpa);

	if (!table)
		return -ENOENT;
	if (IS_ERR(table))
		return 0;	/* a large leaf maps it (-EEXIST) */
	return ept_set(mem, &table[ept_index(gpa, 1)], hpa, 1, prot,
		       VMX_EPTP_MT_WB);
}

/**
 * hvx_ept_map_block - install missing 4 KiB write-back leaves of one table
 * @mem: the VM's memory.
 * @hint: as for hvx_ept_map_4k().
 * @gpa: guest physical address of @pages[0], 4 KiB aligned; the @n pages
 *	from it lie in one 2 MiB-aligned range (one table of leaves).
 * @pages: the pages to map, in GPA order; a NULL entry is left alone.
 * @n: number of entries in @pages.
 * @prot: VMX_EPT_{READABLE,WRITABLE,EXECUTABLE}_MASK bits.
 *
 * For the pages mapped around an EPT fault (ept/README.md, "Fault-around"):
 * one walk to the table, then each entry that is still empty gets a
 * leaf, as hvx_ept_map_prepared() would install. An entry that is
 * present (a racing vCPU, or a leaf that a range already maps) is kept as
 * it is, and so is a large leaf above @gpa: nothing is installed then.
 * No INVEPT is needed for not-present entries made present (SDM Vol. 3C
 * 29.4.3.1).
 *
 * Context: as hvx_ept_map_prepared(): holds mem->srcu and
 * hvx_mem.mmu_lock for reading, the pages are pinned and stored in their
 * slot; does not sleep.
 * Return: the number of leaves installed; 0 also when the table is
 * missing.
 */
int hvx_ept_map_block(struct hvx_mem *mem, struct hvx_ept_hint *hint, u64 gpa,
		      struct page **pages, unsigned int n, u64 prot)
{
	u64 *leaf = ept_l1_table(mem, hint, gpa);
	unsigned int k, done = 0;

	if (IS_ERR_OR_NULL(leaf))
		return 0;
	leaf += ept_index(gpa, 1);
	if (WARN_ON_ONCE(ept_index(gpa, 1) + n > EPT_ENTRIES))
		return 0;
	for (k = 0; k < n; k++) {
		if (!pages[k] || READ_ONCE(leaf[k]))
			continue;
		if (!cmpxchg64(&leaf[k], 0,
			       ept_leaf(mem, page_to_phys(pages[k]), 1, prot,
					VMX_EPTP_MT_WB)))
			done++;
	}
	atomic64_add(done, &mem->nr_leaves[0]);
	return done;
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

/**
 * hvx_ept_nx_split - split a non-executable large leaf for an instruction fetch
 * @mem: the VM's memory, with @mem->nx_huge.
 * @gpa: guest physical address of the EPT violation.
 * @need: VMX_EPT_*_MASK rights of the access that faulted, other than
 *	execute (read, and write for a write).
 *
 * The exit qualification is not passed down, so an instruction fetch is
 * recognised by its leaf: a large leaf that maps @gpa and grants @need
 * but not execute cannot have faulted for anything but the missing
 * execute right (or raced with the vCPU that installed it, which costs
 * an unneeded split and nothing else). Such a leaf is replaced, with one
 * cmpxchg(), by a table of 512 leaves one level down that map the same
 * host memory with the same rights and memory type: non-executable large
 * leaves for a 1 GiB leaf, executable 4 KiB leaves for a 2 MiB one. The
 * guest refaults and splits again until a 4 KiB leaf maps @gpa. The
 * replaced leaf was never executable, so no CPU has an instruction
 * translation of the old size (SDM Vol. 3C 29.4.3.1: a translation that
 * caused an EPT violation is not cached); the VM's CPUs are flushed all
 * the same before returning, so that no stale large data translation is
 * left beside the new ones.
 *
 * Context: process context, may sleep; holds mem->srcu, @gpa is in a slot
 * without dirty logging.
 * Return: the level of the leaf that was split (2 or 3), 0 if there was
 * nothing to split (no large leaf, an executable one, or one lacking some
 * of @need), -ENOMEM.
 */
int hvx_ept_nx_split(struct hvx_mem *mem, u64 gpa, u64 need)
{
	u64 *table = mem->pml4, *entry = NULL, *child;
	u64 cur = 0, attrs, hpa, size;
	int l, i;

	for (l = EPT_LEVELS; l > 1; l--) {
		entry = &table[ept_index(gpa, l)];
		cur = READ_ONCE(*entry);
		if (!cur)
			return 0;
		if (ept_is_leaf(cur, l))
			break;
		table = ept_table_va(cur);
	}
	if (l == 1 || (cur & VMX_EPT_EXECUTABLE_MASK) ||
	    (cur & need) != need)
		return 0;
	child = ept_alloc_table(mem);
	if (!child)
		return -ENOMEM;
	size = ept_level_size(l - 1);
	hpa = cur & EPT_ADDR_MASK;
	attrs = cur & ~(EPT_ADDR_MASK | EPT_LARGE);
	if (l - 1 > 1)
		attrs |= EPT_LARGE;
	else
		attrs |= VMX_EPT_EXECUTABLE_MASK;
	for (i = 0; i < EPT_ENTRIES; i++)
		child[i] = (hpa + i * size) | attrs;
	if (cmpxchg64(entry, cur, virt_to_phys(child) | EPT_TABLE_BITS) != cur) {
		ept_free_table_page(mem, child);	/* changed under us: refault */
		return 0;
	}
	atomic64_dec(&mem->nr_leaves[l - 1]);
	atomic64_add(EPT_ENTRIES, &mem->nr_leaves[l - 2]);
	hvx_ept_flush_all_cpus(mem);
	return l;
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
 * synchronized); takes hvx_mem.mmu_lock for writing.
 */
void hvx_ept_zap_range(struct hvx_mem *mem, u64 gpa, u64 npages)
{
	LIST_HEAD(free);
	struct page *page, *tmp;

	/* Excludes the MMU notifier, which walks tables this may free. */
	down_write(&mem->mmu_lock);
	ept_zap(mem, mem->pml4, EPT_LEVELS, 0, gpa, gpa + (npages << PAGE_SHIFT),
		&free);
	if (!list_empty(&free))
		ept_unhooked(mem);
	hvx_ept_flush_all_cpus(mem);
	up_write(&mem->mmu_lock);
	list_for_each_entry_safe(page, tmp, &free, lru) {
		list_del(&page->lru);
		ept_free_table_page(mem, page_address(page));
	}
}

/*
 * Clear every leaf of @table (at @level, mapping from @base) that maps
 * any byte of [@start, @end); a large leaf goes whole. Tables stay.
 * Leaves are cleared with cmpxchg(), so a racing split (a leaf becoming
 * a table), dirty-log harvest or CPU A/D update is never lost.
 */
static bool ept_clear(struct hvx_mem *mem, u64 *table, int level, u64 base,
		      u64 start, u64 end, unsigned long *dirty, u64 dirty_base)
{
	u64 size = ept_level_size(level);
	unsigned int i = (max(start, base) - base) / size;
	bool any = false;

	for (; i < EPT_ENTRIES; i++) {
		u64 a = base + i * size;
		u64 cur = READ_ONCE(table[i]);

		if (a >= end)
			break;
		while (cur && ept_is_leaf(cur, level)) {
			u64 old = cmpxchg64(&table[i], cur, 0);

			if (old != cur) {
				cur = old;
				continue;
			}
			atomic64_dec(&mem->nr_leaves[level - 1]);
			any = true;
			if (dirty && level == 1 && a >= dirty_base &&
			    (cur & BIT_ULL(EPT_DIRTY_NR)))
				set_bit((a - dirty_base) >> PAGE_SHIFT, dirty);
			cur = 0;
		}
		if (cur)
			any |= ept_clear(mem, ept_table_va(cur), level - 1, a,
					 start, end, dirty, dirty_base);
		if (level >= 3)
			cond_resched();
	}
	return any;
}

/**
 * hvx_ept_unmap - clear the leaves over a GPA range of a live slot
 * @mem: the VM's memory.
 * @start: first byte, page-aligned.
 * @end: one past the last byte, page-aligned.
 * @dirty: the slot's dirty bitmap, or NULL: with EPT A/D flags, the pages
 *	whose leaf was dirty get their bit set, so the dirty log loses
 *	nothing.
 * @dirty_base: GPA of bit 0 of @dirty.
 *
 * For the MMU notifier, while vCPUs may fault in the range: a 2 MiB or
 * 1 GiB leaf that maps any of it is cleared whole, tables are never
 * freed (faults walk them without a lock). The caller flushes
 * (hvx_ept_flush_all_cpus()) before the old pages may be released.
 *
 * Context: process context, may sleep; holds mem->srcu and
 * hvx_mem.mmu_lock for writing, so no leaf appears in the range meanwhile.
 * Return: true if a leaf was cleared (a flush is needed).
 */
bool hvx_ept_unmap(struct hvx_mem *mem, u64 start, u64 end,
		   unsigned long *dirty, u64 dirty_base)
{
	lockdep_assert_held_write(&mem->mmu_lock);
	return ept_clear(mem, mem->pml4, EPT_LEVELS, 0, start, end, dirty,
			 dirty_base);
}

/**
 * hvx_ept_nx_unhook - detach the table that replaced a split large leaf
 * @mem: the VM's memory.
 * @gpa: guest physical address in the split range.
 * @level: level of the large leaf that was split: 2 (2 MiB) or 3 (1 GiB).
 *
 * If the @level entry for @gpa is a table, it is cleared; faults that
 * still walk the table may add leaves to it until mem->srcu is
 * synchronized. The caller then flushes the VM's CPUs and gives the
 * returned entry to hvx_ept_nx_free(). The guest's next access maps the
 * range again, with a large (non-executable) leaf where the backing
 * allows; the pages stay pinned by their slot.
 *
 * Context: holds mem->lock; the range lies in one slot without dirty
 * logging (no dirty flag of a leaf is lost) and no device memory is
 * mapped there.
 * Return: the old entry (a table), or 0 if there was none.
 */
u64 hvx_ept_nx_unhook(struct hvx_mem *mem, u64 gpa, int level)
{
	u64 *entry = ept_entry(mem, gpa, level, false);
	u64 cur;

	lockdep_assert_held(&mem->lock);
	if (IS_ERR_OR_NULL(entry))
		return 0;
	cur = READ_ONCE(*entry);
	if (!cur || ept_is_leaf(cur, level) || cmpxchg64(entry, cur, 0) != cur)
		return 0;
	ept_unhooked(mem);
	return cur;
}

/**
 * hvx_ept_nx_free - free a table detached by hvx_ept_nx_unhook()
 * @mem: the VM's memory.
 * @entry: the value hvx_ept_nx_unhook() returned (nonzero).
 * @gpa: the address given to hvx_ept_nx_unhook().
 * @level: the level given to hvx_ept_nx_unhook().
 *
 * Context: process context, may sleep; mem->srcu was synchronized and
 * the VM's CPUs flushed since the table was detached.
 */
void hvx_ept_nx_free(struct hvx_mem *mem, u64 entry, u64 gpa, int level)
{
	u64 size = ept_level_size(level), base = gpa & ~(size - 1);
	u64 *table = ept_table_va(entry);
	struct page *page, *tmp;
	LIST_HEAD(free);

	ept_zap(mem, table, level - 1, base, base, base + size, &free);
	list_add(&virt_to_page(table)->lru, &free);
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
 * hvx_ept_nx_huge - do new VMs map large leaves non-executable?
 *
 * As KVM's kvm.nx_huge_pages: "auto" is on when the CPU has the iTLB
 * multihit erratum (X86_BUG_ITLB_MULTIHIT: no ARCH_CAP_PSCHANGE_MC_NO)
 * and mitigations are not turned off on the kernel command line.
 * Return: the nx_huge_pages module parameter resolved to on or off.
 */
bool hvx_ept_nx_huge(void)
{
	int v = READ_ONCE(nx_huge_pages);

	if (v >= 0)
		return v;
	return boot_cpu_has_bug(X86_BUG_ITLB_MULTIHIT) && !cpu_mitigations_off();
}

/**
 * hvx_ept_leaf_level - the largest leaf that fits a mapping step
 * @max_level: the largest leaf allowed (hvx_mem.max_level).
 * @gpa: guest physical address of the step.
 * @hpa: host physical address it maps.
 * @left: bytes still to map from @gpa.
 *
 * Return: the largest level <= @max_level whose leaf size divides both
 * addresses and is at most @left; 1 (4 KiB) at least.
 */
int hvx_ept_leaf_level(int max_level, u64 gpa, u64 hpa, u64 left)
{
	int level;

	for (level = max_level; level > 1; level--) {
		u64 size = ept_level_size(level);

		if (!((gpa | hpa) & (size - 1)) && left >= size)
			break;
	}
	return level;
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
	if (!zalloc_cpumask_var(&mem->cpus, GFP_KERNEL_ACCOUNT)) {
		ept_free_table_page(mem, mem->pml4);
		mem->pml4 = NULL;
		return -ENOMEM;
	}
	mem->ad = cap_ad && READ_ONCE(ept_ad);
	mem->max_level = hvx_ept_max_level();
	mem->nx_huge = mem->max_level > 1 && hvx_ept_nx_huge();
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
	free_cpumask_var(mem->cpus);
	WARN_ON(atomic64_read(&mem->nr_tables));
}

/**
 * hvx_ept_flush_local - INVEPT single-context for this VM on this CPU
 * @mem: the VM's memory.
 *
 * Called when a vCPU of the VM is loaded on this CPU. The CPU is first
 * added to @mem->cpus, so that every later VM-wide flush reaches it: a
 * flusher clears entries, then reads the mask; this CPU sets its bit,
 * then flushes and walks the tables (full barriers on both sides), so
 * either the flusher sees the bit or this CPU sees the cleared entries.
 * Context: preemption disabled, VMX root operation.
 */
void hvx_ept_flush_local(struct hvx_mem *mem)
{
	int cpu = smp_processor_id();

	if (!cpumask_test_cpu(cpu, mem->cpus)) {
		cpumask_set_cpu(cpu, mem->cpus);
		/* Pairs with smp_mb() in hvx_ept_flush_all_cpus(): bit, then walk. */
		smp_mb__after_atomic();
	}
	hvx_invept(VMX_EPT_EXTENT_CONTEXT, mem->eptp);
}

/**
 * hvx_ept_flush_cpu_all - drop every EPT- and VPID-tagged translation this
 * CPU may hold from before it entered VMX operation
 *
 * VMXOFF and VMXON do not flush the TLB (SDM Vol. 3C 29.4.3.1): a CPU that
 * left VMX operation (offline, suspend) and comes back may still hold
 * translations of a VM whose EPTP or VPID is later reused, and VM-wide
 * flushes skip CPUs that are offline. All-context INVEPT and INVVPID
 * (where the CPU has them; bits 26 and 42 of IA32_VMX_EPT_VPID_CAP, SDM
 * Vol. 3D A.10) right after VMXON close that gap, as KVM does.
 * Context: this CPU has just entered VMX operation; preemption disabled.
 */
void hvx_ept_flush_cpu_all(void)
{
	if (cap_invept_all)
		hvx_invept(VMX_EPT_EXTENT_GLOBAL, 0);
	if (cap_invvpid_all)
		hvx_invvpid(VMX_VPID_EXTENT_ALL_CONTEXT, 0);
}

/*
 * INVEPT single-context for the VM, skipped where it faults: a CPU that
 * is on its way offline or online (past VMXOFF, before VMXON), or that
 * left VMX operation for a reboot, has no vCPU loaded (their VMCSs are
 * cleared before VMXOFF) and caches nothing that a later VMXON (global
 * INVEPT) or vCPU load (hvx_ept_flush_local()) would not flush.
 */
static void ept_flush_ipi(void *data)
{
	if (hvx_vmx_cpu_on())
		hvx_invept(VMX_EPT_EXTENT_CONTEXT, ((struct hvx_mem *)data)->eptp);
}

/**
 * hvx_ept_flush_all_cpus - INVEPT single-context where the VM has run
 * @mem: the VM's memory.
 *
 * Only the CPUs that have loaded the VM's EPTP (@mem->cpus) can cache its
 * translations, so only they are interrupted (an offline CPU is skipped);
 * other VMs' CPUs and the rest of the host are left alone. A vCPU running
 * on one of them takes an external-interrupt VM exit for the IPI and
 * re-enters with the flushed mappings. CPU hotplug is not held off: the
 * MMU notifier flushes from inside reclaim, which a hotplug callback may
 * enter with the hotplug lock held. So a CPU of the mask may have left
 * VMX operation (going offline, or for a reboot): the IPI executes
 * INVEPT only where hvx_vmx_cpu_on(), and one that still faults (the CPU
 * left between the check and the instruction) is skipped (hvx_invept()).
 * Context: process context, not in atomic context (waits for the IPIs);
 * takes no lock.
 */
void hvx_ept_flush_all_cpus(struct hvx_mem *mem)
{
	if (mem->no_ept)
		return;	/* nothing cached; INVEPT may not even exist */
	atomic64_inc(&mem->nr_flushes);
	/* Entries cleared before the mask is read: see hvx_ept_flush_local(). */
	smp_mb();
	on_each_cpu_mask(mem->cpus, ept_flush_ipi, mem, 1);
}
