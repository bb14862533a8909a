// SPDX-License-Identifier: GPL-2.0
/*
 * modes.c - the guest's descriptor tables and page tables in a VM's RAM
 * (written by tables.c), and putting a vCPU into real mode, 32-bit
 * protected mode or 64-bit mode with HVX_SET_SREGS.
 */
#include "hvx_util.h"

/* One gate of the IDT tables_init() wrote (see tables_set_gate()). */
void vm_set_idt_gate(struct vm *vm, int vector, uint64_t handler)
{
	LIB_ASSERT(vector >= 0 && vector < 256, "IDT vector %d", vector);
	tables_set_gate(vm_gpa2hva(vm, 0, GPA_LOW_RAM_END), vector, handler);
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

/* The tables of tables.c, built once per VM; every vCPU shares them. */
void vm_init_tables(struct vm *vm)
{
	tables_init(vm_gpa2hva(vm, 0, GPA_LOW_RAM_END));
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
	sregs->tr = tables_seg_tr;
	sregs->ldt = tables_seg_ldt;
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
	tables_long_sregs(&sregs);
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
	sregs.cs = tables_seg_code32;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = tables_seg_data;
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
