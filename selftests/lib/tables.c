// SPDX-License-Identifier: GPL-2.0
/*
 * tables.c - the guest's GDT, TSS, 64-bit IDT and identity-mapping page
 * tables at the addresses in guest_layout.h, and the segment, table and
 * control registers of 64-bit mode. Plain memory writes and a struct: no
 * ioctl, so that a VMM other than this library (userspace/bench, under hvx
 * and KVM) gives its guest the same tables.
 *
 * The segment registers are described once, as struct hvx_segment (the
 * hidden part the CPU caches); the GDT entries are encoded from the same
 * structs, so what SET_SREGS loads and what the guest would reload from the
 * GDT agree.
 */
#include <string.h>

#include "tables.h"
#include "x86.h"

#define FLAT_LIMIT	0xffffffffu

/* guest_entry.S */
extern const uint64_t guest_exc_stubs[IDT_VECTORS];

const struct hvx_segment tables_seg_code64 = {
	.limit = FLAT_LIMIT, .selector = SEL_CODE64,
	.type = SEG_TYPE_CODE_XR_A, .present = 1, .s = 1, .l = 1, .g = 1,
};
const struct hvx_segment tables_seg_code32 = {
	.limit = FLAT_LIMIT, .selector = SEL_CODE32,
	.type = SEG_TYPE_CODE_XR_A, .present = 1, .s = 1, .db = 1, .g = 1,
};
const struct hvx_segment tables_seg_data = {
	.limit = FLAT_LIMIT, .selector = SEL_DATA,
	.type = SEG_TYPE_DATA_RW_A, .present = 1, .s = 1, .db = 1, .g = 1,
};
/* TR must hold a busy TSS for VM entry (SDM Vol. 3C 27.3.1.2): type 11 is
 * a busy 32-bit TSS in legacy modes and a busy 64-bit TSS in IA-32e mode. */
const struct hvx_segment tables_seg_tr = {
	.base = GPA_TSS, .limit = TSS_LIMIT, .selector = SEL_TSS,
	.type = SYS_TYPE_TSS_BUSY, .present = 1,
};
/* A usable, empty LDT, as after reset. */
const struct hvx_segment tables_seg_ldt = {
	.limit = 0xffff, .type = SYS_TYPE_LDT, .present = 1,
};

/*
 * Segment descriptor from the cached form, SDM Vol. 3A 3.4.5: limit 19:0 in
 * bits 15:0 and 51:48 (in 4 KiB units when G=1), base 31:0 in bits 39:16 and
 * 63:56, type 43:40, S 44, DPL 46:45, P 47, AVL 52, L 53, D/B 54, G 55.
 */
static uint64_t seg_desc(const struct hvx_segment *s)
{
	uint32_t limit = s->g ? s->limit >> 12 : s->limit;
	uint32_t base = (uint32_t)s->base;

	return (limit & 0xffffull) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)s->type << 40 | (uint64_t)s->s << 44 |
	       (uint64_t)s->dpl << 45 | (uint64_t)s->present << 47 |
	       (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)s->avl << 52 | (uint64_t)s->l << 53 |
	       (uint64_t)s->db << 54 | (uint64_t)s->g << 55 |
	       (uint64_t)(base >> 24) << 56;
}

/**
 * tables_set_gate() - point one vector of the guest's IDT at a handler
 * @ram: host address of guest-physical address 0 (the tables' page)
 * @vector: 0-255; the page at GPA_IDT has room for all 256 gates
 * @handler: guest-virtual address of the handler
 *
 * Writes a 64-bit interrupt gate (SDM Vol. 3A, "64-bit mode IDT"): offset
 * 15:0 in bits 15:0, selector 31:16, IST 34:32, type 43:40, DPL 46:45,
 * P 47, offset 31:16 in 63:48; offset 63:32 in the next quadword. The IDT
 * limit (tables_long_sregs(): IDT_VECTORS gates) is the caller's to raise.
 */
void tables_set_gate(uint8_t *ram, int vector, uint64_t handler)
{
	uint64_t *gate = (uint64_t *)(ram + GPA_IDT + vector * 16);

	gate[0] = (handler & 0xffff) | (uint64_t)SEL_CODE64 << 16 |
		  (uint64_t)SYS_TYPE_INTR_GATE << 40 | 1ull << 47 |
		  ((handler >> 16) & 0xffff) << 48;
	gate[1] = handler >> 32;
}

/**
 * tables_init() - write the guest's GDT, TSS, IDT and page tables
 * @ram: host address of guest-physical address 0, with at least
 *       GPA_LOW_RAM_END bytes of guest RAM behind it
 *
 * GDT at GPA_GDT with the SEL_* entries, a TSS without I/O permission
 * bitmap at GPA_TSS, IDT_VECTORS gates at GPA_IDT to the library's
 * exception stubs (guest_entry.S), and page tables at GPA_PML4 that
 * identity-map 0..4 GiB with 2 MiB pages. Every vCPU shares them.
 */
void tables_init(uint8_t *ram)
{
	uint64_t *gdt = (uint64_t *)(ram + GPA_GDT);
	uint64_t *pml4 = (uint64_t *)(ram + GPA_PML4);
	uint64_t *pdpt = (uint64_t *)(ram + GPA_PDPT);
	uint64_t *pd = (uint64_t *)(ram + GPA_PD);
	struct hvx_segment tss = tables_seg_tr;

	gdt[0] = 0;
	gdt[SEL_CODE64 / 8] = seg_desc(&tables_seg_code64);
	gdt[SEL_DATA / 8] = seg_desc(&tables_seg_data);
	gdt[SEL_CODE32 / 8] = seg_desc(&tables_seg_code32);
	/* In 64-bit mode a TSS descriptor is 16 bytes, the upper 8 holding
	 * base 63:32 (SDM Vol. 3A, "TSS Descriptor in 64-bit mode"). In the
	 * GDT it is "available"; LTR (or VM entry, via SET_SREGS) marks it
	 * busy. */
	tss.type = SYS_TYPE_TSS_AVAIL;
	gdt[SEL_TSS / 8] = seg_desc(&tss);
	gdt[SEL_TSS / 8 + 1] = tss.base >> 32;

	/* The TSS: all zeros but the I/O map base, put past the limit so
	 * there is no I/O permission bitmap (SDM Vol. 3A, "64-bit TSS"). */
	memset(ram + GPA_TSS, 0, TSS_LIMIT + 1);
	*(uint16_t *)(ram + GPA_TSS + 0x66) = TSS_LIMIT + 1;

	for (int v = 0; v < IDT_VECTORS; v++)
		tables_set_gate(ram, v, guest_exc_stubs[v]);

	/*
	 * 4-level paging (SDM Vol. 3A 4.5): one PML4E -> one PDPT whose four
	 * entries point to four PDs; each PDE with PS=1 maps a 2 MiB page
	 * (physical address in bits 51:21). Result: 0..4 GiB identity-mapped,
	 * read/write, supervisor, executable. Unbacked GPAs in that range are
	 * MMIO.
	 */
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = GPA_PDPT | PTE_PRESENT | PTE_WRITE;
	for (uint64_t i = 0; i < 4; i++) {
		pdpt[i] = (GPA_PD + i * 4096) | PTE_PRESENT | PTE_WRITE;
		for (uint64_t j = 0; j < 512; j++)
			pd[i * 512 + j] = (i << 30 | j << 21) | PTE_PRESENT |
					  PTE_WRITE | PTE_LARGE;
	}
}

/**
 * tables_long_sregs() - the registers of 64-bit mode with tables_init()'s
 * tables
 * @sregs: filled in: segment registers, TR, LDTR, GDTR, IDTR (IDT_VECTORS
 *         gates), CR0, CR3, CR4 and EFER; other fields are left alone
 *
 * CR0.PE|PG, CR4.PAE, EFER.LME|LMA, CS.L=1: the guest starts in 64-bit mode
 * without switching modes itself (SDM Vol. 3A, "Initializing IA-32e Mode").
 */
void tables_long_sregs(struct hvx_sregs *sregs)
{
	sregs->cs = tables_seg_code64;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss =
		tables_seg_data;
	sregs->tr = tables_seg_tr;
	sregs->ldt = tables_seg_ldt;
	sregs->gdt = (struct hvx_dtable){ .base = GPA_GDT, .limit = GDT_LIMIT };
	sregs->idt = (struct hvx_dtable){ .base = GPA_IDT,
					  .limit = IDT_VECTORS * 16 - 1 };
	sregs->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		     X86_CR0_WP | X86_CR0_PG;
	sregs->cr3 = GPA_PML4;
	sregs->cr4 = X86_CR4_PAE;
	sregs->efer = EFER_LME | EFER_LMA;
}
