// SPDX-License-Identifier: GPL-2.0
/*
 * modes.c - the guest's descriptor tables and page tables, and putting a vCPU
 * into real mode, 32-bit protected mode or 64-bit mode with HVX_SET_SREGS.
 *
 * The segment registers are described once, as struct hvx_segment (the
 * hidden part the CPU caches); the GDT entries are encoded from the same
 * structs, so what SET_SREGS loads and what the guest would reload from the
 * GDT agree.
 */
#include "hvx_util.h"

#define FLAT_LIMIT	0xffffffffu

static const struct hvx_segment seg_code64 = {
	.limit = FLAT_LIMIT, .selector = SEL_CODE64,
	.type = SEG_TYPE_CODE_XR_A, .present = 1, .s = 1, .l = 1, .g = 1,
};
static const struct hvx_segment seg_code32 = {
	.limit = FLAT_LIMIT, .selector = SEL_CODE32,
	.type = SEG_TYPE_CODE_XR_A, .present = 1, .s = 1, .db = 1, .g = 1,
};
static const struct hvx_segment seg_data = {
	.limit = FLAT_LIMIT, .selector = SEL_DATA,
	.type = SEG_TYPE_DATA_RW_A, .present = 1, .s = 1, .db = 1, .g = 1,
};
/* TR must hold a busy TSS for VM entry (SDM Vol. 3C 27.3.1.2): type 11 is
 * a busy 32-bit TSS in legacy modes and a busy 64-bit TSS in IA-32e mode. */
static const struct hvx_segment seg_tr = {
	.base = GPA_TSS, .limit = TSS_LIMIT, .selector = SEL_TSS,
	.type = SYS_TYPE_TSS_BUSY, .present = 1,
};
/* A usable, empty LDT, as after reset. */
static const struct hvx_segment seg_ldt = {
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

/*
 * A 64-bit interrupt gate for @vector in the IDT at GPA_IDT (SDM Vol. 3A,
 * "64-bit mode IDT"): offset 15:0 in bits 15:0, selector 31:16, IST 34:32,
 * type 43:40, DPL 46:45, P 47, offset 31:16 in 63:48; offset 63:32 in the
 * next quadword. The page at GPA_IDT has room for all 256 vectors.
 */
void vm_set_idt_gate(struct vm *vm, int vector, uint64_t handler)
{
	uint64_t *gate = vm_gpa2hva(vm, GPA_IDT + vector * 16, 16);

	gate[0] = (handler & 0xffff) | (uint64_t)SEL_CODE64 << 16 |
		  (uint64_t)SYS_TYPE_INTR_GATE << 40 | 1ull << 47 |
		  ((handler >> 16) & 0xffff) << 48;
	gate[1] = handler >> 32;
}

/* Gate @vector of @vcpu's IDT, and the IDT limit raised to 256 vectors. */
void vcpu_set_idt_gate(struct vcpu *vcpu, int vector, uint64_t handler)
{
	struct hvx_sregs s;

	vm_set_idt_gate(vcpu->vm, vector, handler);
	vcpu_get_sregs(vcpu, &s);
	s.idt.limit = 256 * 16 - 1;
	vcpu_set_sregs(vcpu, &s);
}

/*
 * GDT, TSS, 64-bit IDT and identity-mapped page tables at the addresses in
 * guest_layout.h. Built once per VM; every vCPU shares them.
 */
void vm_init_tables(struct vm *vm)
{
	uint64_t *gdt = vm_gpa2hva(vm, GPA_GDT, GDT_LIMIT + 1);
	uint64_t *idt = vm_gpa2hva(vm, GPA_IDT, IDT_VECTORS * 16);
	uint64_t *pml4 = vm_gpa2hva(vm, GPA_PML4, 4096);
	uint64_t *pdpt = vm_gpa2hva(vm, GPA_PDPT, 4096);
	uint64_t *pd = vm_gpa2hva(vm, GPA_PD, 4 * 4096);
	struct hvx_segment tss = seg_tr;

	gdt[0] = 0;
	gdt[SEL_CODE64 / 8] = seg_desc(&seg_code64);
	gdt[SEL_DATA / 8] = seg_desc(&seg_data);
	gdt[SEL_CODE32 / 8] = seg_desc(&seg_code32);
	/* In 64-bit mode a TSS descriptor is 16 bytes, the upper 8 holding
	 * base 63:32 (SDM Vol. 3A, "TSS Descriptor in 64-bit mode"). In the
	 * GDT it is "available"; LTR (or VM entry, via SET_SREGS) marks it
	 * busy. */
	tss.type = SYS_TYPE_TSS_AVAIL;
	gdt[SEL_TSS / 8] = seg_desc(&tss);
	gdt[SEL_TSS / 8 + 1] = tss.base >> 32;

	/* The TSS: all zeros but the I/O map base, put past the limit so
	 * there is no I/O permission bitmap (SDM Vol. 3A, "64-bit TSS"). */
	memset(vm_gpa2hva(vm, GPA_TSS, TSS_LIMIT + 1), 0, TSS_LIMIT + 1);
	*(uint16_t *)vm_gpa2hva(vm, GPA_TSS + 0x66, 2) = TSS_LIMIT + 1;

	(void)idt;
	for (int v = 0; v < IDT_VECTORS; v++)
		vm_set_idt_gate(vm, v, guest_exc_stubs[v]);

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

/* Each vCPU that runs code gets its own 32 KiB stack. */
static uint64_t vcpu_stack_top(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	if (!vcpu->stack_top) {
		LIB_ASSERT(vm->next_stack - GUEST_STACK_SIZE >= GPA_STACKS_BOTTOM,
			   "out of guest stacks");
		vcpu->stack_top = vm->next_stack;
		vm->next_stack -= GUEST_STACK_SIZE;
	}
	return vcpu->stack_top;
}

/* Fields common to every mode; start from GET_SREGS so that fields not set
 * here (apic_base, cr2, cr8, reserved) keep their values. */
static void sregs_common(struct vcpu *vcpu, struct hvx_sregs *sregs)
{
	vcpu_get_sregs(vcpu, sregs);
	sregs->tr = seg_tr;
	sregs->ldt = seg_ldt;
	sregs->gdt = (struct hvx_dtable){ .base = GPA_GDT, .limit = GDT_LIMIT };
	sregs->idt = (struct hvx_dtable){ 0 };
	sregs->cr3 = 0;
	sregs->cr4 = 0;
	sregs->efer = 0;
}

/*
 * 64-bit mode straight away (no mode switch in the guest): CR0.PE|PG,
 * CR4.PAE, EFER.LME|LMA, CS.L=1 (SDM Vol. 3A, "Initializing IA-32e Mode").
 * The guest starts at guest_fn(arg) with a stack whose return address is
 * guest_return_trap, which reports UCALL_DONE if guest_fn returns.
 */
void vcpu_setup_long(struct vcpu *vcpu, void (*guest_fn)(uint64_t),
		     uint64_t arg)
{
	uint64_t rsp = vcpu_stack_top(vcpu) - 8;
	struct hvx_sregs sregs;
	struct hvx_regs regs = {
		.rip = (uint64_t)guest_fn,
		.rdi = arg,
		.rsp = rsp,
		.rflags = X86_RFLAGS_FIXED,
	};

	sregs_common(vcpu, &sregs);
	sregs.cs = seg_code64;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg_data;
	sregs.idt = (struct hvx_dtable){ .base = GPA_IDT,
					 .limit = IDT_VECTORS * 16 - 1 };
	sregs.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		    X86_CR0_WP | X86_CR0_PG;
	sregs.cr3 = GPA_PML4;
	sregs.cr4 = X86_CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	vcpu_set_sregs(vcpu, &sregs);

	*(uint64_t *)vm_gpa2hva(vcpu->vm, rsp, 8) = (uint64_t)guest_return_trap;
	vcpu_set_regs(vcpu, &regs);
}

/*
 * 32-bit protected mode, flat 4 GiB segments, no paging, no IDT (an
 * exception triple-faults: HVX_EXIT_SHUTDOWN). Starts at eip.
 */
void vcpu_setup_prot32(struct vcpu *vcpu, uint32_t eip)
{
	struct hvx_sregs sregs;
	struct hvx_regs regs = {
		.rip = eip,
		.rsp = vcpu_stack_top(vcpu),
		.rflags = X86_RFLAGS_FIXED,
	};

	sregs_common(vcpu, &sregs);
	sregs.cs = seg_code32;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg_data;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_set_regs(vcpu, &regs);
}

/* A real-mode segment: base = selector * 16, 64 KiB limit. */
static struct hvx_segment real_seg(uint32_t base, uint8_t type)
{
	return (struct hvx_segment){
		.base = base, .limit = 0xffff, .selector = base >> 4,
		.type = type, .present = 1, .s = 1,
	};
}

/*
 * Real mode (runs natively thanks to unrestricted guest), CS = DS = ES =
 * gpa >> 4 and IP = 0, so a blob assembled at offset 0 runs unchanged at
 * any 16-byte aligned gpa below 1 MiB. SS:SP is the vCPU's stack; the IVT
 * is at 0 (empty). Starts with interrupts off.
 */
void vcpu_setup_real(struct vcpu *vcpu, uint32_t gpa)
{
	uint64_t stack_base = vcpu_stack_top(vcpu) - GUEST_STACK_SIZE;
	struct hvx_sregs sregs;
	struct hvx_regs regs = {
		.rip = 0,
		.rsp = GUEST_STACK_SIZE - 16,
		.rflags = X86_RFLAGS_FIXED,
	};

	LIB_ASSERT(!(gpa & 15) && gpa < GPA_LOW_RAM_END,
		   "real-mode entry 0x%x", gpa);
	sregs_common(vcpu, &sregs);
	sregs.cs = real_seg(gpa, SEG_TYPE_CODE_XR_A);
	sregs.ds = sregs.es = real_seg(gpa, SEG_TYPE_DATA_RW_A);
	sregs.fs = sregs.gs = real_seg(0, SEG_TYPE_DATA_RW_A);
	sregs.ss = real_seg(stack_base, SEG_TYPE_DATA_RW_A);
	sregs.idt = (struct hvx_dtable){ .base = 0, .limit = 0x3ff };
	sregs.cr0 = X86_CR0_ET;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_set_regs(vcpu, &regs);
}

/* The common case: a new VM with vCPU 0 about to run guest_fn(arg) in
 * 64-bit mode. */
struct vcpu *vm_create_long(struct vm **vmp, void (*guest_fn)(uint64_t),
			    uint64_t arg)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vcpu_create(vm, 0);

	vcpu_setup_long(vcpu, guest_fn, arg);
	*vmp = vm;
	return vcpu;
}
