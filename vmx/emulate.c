// SPDX-License-Identifier: GPL-2.0
/*
 * emulate.c - what hvx must emulate in software after an exit: guest
 * linear-address translation, string I/O, and the MMIO instruction decoder.
 *
 * Paging structures: SDM Vol. 3A 4.3 (32-bit), 4.4 (PAE), 4.5 (4-level).
 * Instruction format: SDM Vol. 2A 2.1 (prefixes, ModR/M, SIB) and 2.2.1
 * (REX). Reserved-bit checks in guest paging structures and setting of
 * guest accessed/dirty bits are not emulated yet.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <asm/processor.h>

#include <asm/trapnr.h>

#include "vmx.h"

#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_US		BIT_ULL(2)
#define PTE_PS		BIT_ULL(7)
#define PTE_NX		BIT_ULL(63)
#define PTE_ADDR	GENMASK_ULL(51, 12)

#define PFERR_PRESENT	BIT(0)
#define PFERR_WRITE	BIT(1)
#define PFERR_USER	BIT(2)
#define PFERR_FETCH	BIT(4)

enum { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 };

/* Result of a guest linear access that did not complete. */
struct xlate_fault {
	u64 la;		/* faulting linear address, for CR2 */
	u32 error;	/* #PF error code */
};

static bool long_mode(struct hvx_vmx_vcpu *v)
{
	return v->efer & EFER_LMA;
}

static int guest_cpl(struct hvx_vmx_vcpu *v)
{
	return (hvx_vmx_read(v, GUEST_SS_AR_BYTES) >> 5) & 3;
}

/* Walk the guest's page tables for one linear address. */
static int gva_to_gpa(struct hvx_vmx_vcpu *v, u64 la, int acc, u64 *gpa,
		      struct xlate_fault *f)
{
	bool user = guest_cpl(v) == 3;
	bool wp = v->cr0 & X86_CR0_WP;
	u64 table, entry = 0, rw = PTE_RW, us = PTE_US, nx = 0;
	int level, shift;
	bool pae = v->cr4 & X86_CR4_PAE;

	if (!(v->cr0 & X86_CR0_PG)) {
		*gpa = long_mode(v) ? la : (u32)la;
		return 0;
	}
	table = hvx_vmx_read(v, GUEST_CR3);
	if (long_mode(v)) {
		level = 4;
		table &= PTE_ADDR;
	} else if (pae) {
		u64 pdpte = hvx_vmx_read(v, GUEST_PDPTR0 + 2 * ((la >> 30) & 3));

		if (!(pdpte & PTE_P))
			goto fault_np;
		table = pdpte & PTE_ADDR;
		level = 2;
	} else {
		la = (u32)la;
		table &= 0xfffff000;
		level = 2;
	}

	for (;; level--) {
		if (pae || long_mode(v)) {
			shift = 12 + 9 * (level - 1);
			if (hvx_gpa_read(v->mem, table + ((la >> shift) & 0x1ff) * 8,
					 &entry, 8))
				return -ENOENT;
		} else {
			u32 e32;

			shift = 12 + 10 * (level - 1);
			if (hvx_gpa_read(v->mem, table + ((la >> shift) & 0x3ff) * 4,
					 &e32, 4))
				return -ENOENT;
			entry = e32;
		}
		if (!(entry & PTE_P))
			goto fault_np;
		rw &= entry;
		us &= entry;
		if (v->efer & EFER_NX)
			nx |= entry & PTE_NX;
		if (level == 1 || ((entry & PTE_PS) && level <= 3 &&
				   (pae || long_mode(v) || (v->cr4 & X86_CR4_PSE))))
			break;
		table = entry & (pae || long_mode(v) ? PTE_ADDR : 0xfffff000);
	}

	if ((user && !us) || (acc == ACC_WRITE && !rw && (user || wp)) ||
	    (acc == ACC_FETCH && nx))
		goto fault_prot;
	if (level > 1 && !pae && !long_mode(v))	/* 4 MiB page, PSE-36 */
		*gpa = (entry & 0xffc00000) | ((entry >> 13 & 0xff) << 32) |
		       (la & 0x3fffff);
	else
		*gpa = (entry & PTE_ADDR & ~((1ULL << shift) - 1)) |
		       (la & ((1ULL << shift) - 1));
	return 0;

fault_prot:
	f->error = PFERR_PRESENT;
	goto fault;
fault_np:
	f->error = 0;
fault:
	f->la = la;
	f->error |= (acc == ACC_WRITE ? PFERR_WRITE : 0) | (user ? PFERR_USER : 0) |
		    (acc == ACC_FETCH && (v->efer & EFER_NX) ? PFERR_FETCH : 0);
	return -EFAULT;
}

/*
 * Copy between a kernel buffer and guest linear memory. Returns 0,
 * -EFAULT with @f filled (inject #PF), or -ENOENT (not RAM).
 */
static int linear_access(struct hvx_vmx_vcpu *v, u64 la, void *buf,
			 unsigned int len, int acc, struct xlate_fault *f)
{
	while (len) {
		unsigned int chunk = min_t(u64, len, PAGE_SIZE - offset_in_page(la));
		u64 gpa;
		int ret;

		ret = gva_to_gpa(v, la, acc, &gpa, f);
		if (ret)
			return ret;
		ret = acc == ACC_WRITE ? hvx_gpa_write(v->mem, gpa, buf, chunk) :
					 hvx_gpa_read(v->mem, gpa, buf, chunk);
		if (ret)
			return -ENOENT;
		la += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static int inject_page_fault(struct hvx_vmx_vcpu *v, struct xlate_fault *f)
{
	v->cr2 = f->la;
	hvx_vmx_inject_exception(v, X86_TRAP_PF, true, f->error);
	return HVX_RUN_RESUME;
}

static int emulation_failed(struct hvx_vmx_vcpu *v, const u8 *insn,
			    unsigned int n)
{
	struct hvx_run *run = v->run;

	run->exit_reason = HVX_EXIT_INTERNAL_ERROR;
	run->internal.suberror = HVX_INTERNAL_EMULATION;
	run->internal.exit_reason = v->exit_reason;
	run->internal.qualification = v->exit_qual;
	run->internal.ndata = 3;
	run->internal.data[0] = v->rip;
	memset(&run->internal.data[1], 0, 16);
	memcpy(&run->internal.data[1], insn, min(n, 15u));
	return HVX_RUN_USER;
}

/**
 * hvx_vmx_load_pdptrs - load the four PDPTEs for PAE paging into the VMCS
 * @v: the vCPU.
 * @cr3: guest CR3; the PDPT is the 32-byte aligned table at CR3[31:5].
 *
 * Present entries must have bits 2:1, 8:5 and those above MAXPHYADDR
 * clear (SDM Vol. 3A 4.4.1).
 * Return: 0, or -EINVAL if the table is not in RAM or an entry is invalid.
 */
int hvx_vmx_load_pdptrs(struct hvx_vmx_vcpu *v, u64 cr3)
{
	u64 rsvd = GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1) |
		   GENMASK_ULL(63, boot_cpu_data.x86_phys_bits);
	u64 pdpte[4];
	int i;

	if (hvx_gpa_read(v->mem, cr3 & 0xffffffe0, pdpte, sizeof(pdpte)))
		return -EINVAL;
	for (i = 0; i < 4; i++)
		if ((pdpte[i] & PTE_P) && (pdpte[i] & rsvd))
			return -EINVAL;
	preempt_disable();
	hvx_vmx_load(v);
	for (i = 0; i < 4; i++)
		vmcs_write(GUEST_PDPTR0 + 2 * i, pdpte[i]);
	preempt_enable();
	return 0;
}

/* Merge @val into a register under an address/operand-size mask. */
static void reg_update(unsigned long *reg, u64 val, u64 mask)
{
	if (mask == 0xffffffff)
		*reg = (u32)val;	/* 32-bit writes zero-extend */
	else
		*reg = (*reg & ~mask) | (val & mask);
}

/* Reverse the order of @n elements of @size bytes in place (DF = 1). */
static void reverse_elements(u8 *buf, unsigned int n, unsigned int size)
{
	unsigned int i, j, k;

	for (i = 0, j = n - 1; i < j; i++, j--)
		for (k = 0; k < size; k++)
			swap(buf[i * size + k], buf[j * size + k]);
}

/**
 * hvx_vmx_handle_string_io - INS/OUTS exit: move data through the I/O page
 * @v: the vCPU; v->io has direction, size, rep from the qualification.
 *
 * One exit carries the elements that lie in one guest page, at most
 * HVX_RUN_IO_DATA_SIZE bytes; a longer REP is re-executed by the guest and
 * exits again. Address size and segment come from the VM-exit
 * instruction-information field (SDM Vol. 3C 28.2.5, Table 28-8).
 * Return: HVX_RUN_USER, or HVX_RUN_RESUME (count zero, or #PF injected).
 */
int hvx_vmx_handle_string_io(struct hvx_vmx_vcpu *v)
{
	static const u16 seg_base[] = {
		GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE,
		GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE,
	};
	struct hvx_io_op *io = &v->io;
	u32 info = hvx_vmx_read(v, VMX_INSTRUCTION_INFO);
	unsigned int asize = (info >> 7) & 7, seg = io->in ? 0 : (info >> 15) & 7;
	u64 addr, la, base = 0, count, in_page;
	struct xlate_fault f;
	unsigned int n, bytes;
	int ret;

	if (asize > 2 || seg > 5)
		return emulation_failed(v, NULL, 0);
	io->addr_mask = asize == 0 ? 0xffff : asize == 1 ? 0xffffffff : ~0ULL;
	io->backward = v->rflags & X86_EFLAGS_DF;
	count = io->rep ? v->gprs[HVX_RCX] & io->addr_mask : 1;
	if (!count) {
		hvx_vmx_skip_instruction(v, v->instr_len);
		return HVX_RUN_RESUME;
	}
	addr = v->gprs[io->in ? HVX_RDI : HVX_RSI] & io->addr_mask;
	if (!long_mode(v) || seg >= 4)
		base = hvx_vmx_read(v, seg_base[seg]);
	la = base + addr;
	if (!long_mode(v))
		la = (u32)la;

	n = min_t(u64, count, HVX_RUN_IO_DATA_SIZE / io->size);
	in_page = io->backward ? offset_in_page(la) / io->size + 1 :
				 (PAGE_SIZE - offset_in_page(la)) / io->size;
	n = clamp_t(u64, in_page, 1, n);
	bytes = n * io->size;
	io->gpa = io->backward ? la - (n - 1) * io->size : la; /* lowest byte */
	io->count = n;

	if (!io->in) {
		ret = linear_access(v, io->gpa, v->io_data, bytes, ACC_READ, &f);
		if (ret == -EFAULT)
			return inject_page_fault(v, &f);
		if (ret)
			return emulation_failed(v, NULL, 0);
		/* Element order is execution order. */
		if (io->backward)
			reverse_elements(v->io_data, n, io->size);
	}
	v->run->io.count = n;
	v->pending = HVX_PENDING_IO;
	return HVX_RUN_USER;
}

static int complete_io(struct hvx_vmx_vcpu *v)
{
	struct hvx_io_op *io = &v->io;
	unsigned int bytes = io->count * io->size;
	struct xlate_fault f;
	u64 delta;
	int ret;

	if (!io->string) {
		if (io->in) {
			u64 val = 0;

			memcpy(&val, v->io_data, io->size);
			reg_update(&v->gprs[HVX_RAX], val,
				   io->size == 4 ? 0xffffffff :
				   GENMASK_ULL(io->size * 8 - 1, 0));
		}
		hvx_vmx_skip_instruction(v, v->instr_len);
		return 0;
	}

	if (io->in) {
		/* The I/O page is ours again until the next exit. */
		if (io->backward)
			reverse_elements(v->io_data, io->count, io->size);
		ret = linear_access(v, io->gpa, v->io_data, bytes, ACC_WRITE, &f);
		if (ret == -EFAULT) {
			inject_page_fault(v, &f);
			return 0;
		}
		if (ret)
			return -EFAULT;
	}
	delta = io->backward ? -(u64)bytes : bytes;
	reg_update(&v->gprs[io->in ? HVX_RDI : HVX_RSI],
		   v->gprs[io->in ? HVX_RDI : HVX_RSI] + delta, io->addr_mask);
	if (io->rep) {
		reg_update(&v->gprs[HVX_RCX], v->gprs[HVX_RCX] - io->count,
			   io->addr_mask);
		if (v->gprs[HVX_RCX] & io->addr_mask)
			return 0;	/* the guest re-executes the REP */
	}
	hvx_vmx_skip_instruction(v, v->instr_len);
	return 0;
}

/* Instruction decoding state for one MMIO instruction. */
struct decoder {
	const u8 *p, *end;
	unsigned int opsize, addrsize;
	u8 rex;
	bool fail;
};

static u8 next_byte(struct decoder *d)
{
	if (d->p >= d->end) {
		d->fail = true;
		return 0;
	}
	return *d->p++;
}

static u64 next_imm(struct decoder *d, unsigned int bytes)
{
	u64 val = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++)
		val |= (u64)next_byte(d) << (8 * i);
	return val;
}

/* Skip ModR/M, SIB and displacement; return the reg field. */
static unsigned int skip_modrm(struct decoder *d)
{
	u8 modrm = next_byte(d);
	unsigned int mod = modrm >> 6, rm = modrm & 7;

	if (mod == 3) {			/* register operand: not MMIO */
		d->fail = true;
		return 0;
	}
	if (d->addrsize == 2) {		/* 16-bit forms, SDM Vol. 2A Table 2-1 */
		if (mod == 1)
			next_imm(d, 1);
		else if (mod == 2 || rm == 6)
			next_imm(d, 2);
	} else {			/* 32/64-bit forms, Table 2-2 and 2-3 */
		u8 sib = rm == 4 ? next_byte(d) : 0;

		if (mod == 1)
			next_imm(d, 1);
		else if (mod == 2 || rm == 5 || (rm == 4 && (sib & 7) == 5))
			next_imm(d, 4);
	}
	return ((modrm >> 3) & 7) | ((d->rex & 4) ? 8 : 0);
}

/* Value of an 8-bit register operand: AH..BH without REX (Table 2-2). */
static u64 reg8(struct hvx_vmx_vcpu *v, unsigned int reg, u8 rex, bool *high)
{
	unsigned long *gprs = v->gprs;

	*high = !rex && reg >= 4 && reg < 8;
	if (*high)
		return (gprs[reg - 4] >> 8) & 0xff;
	return (reg == HVX_RSP ? v->rsp : gprs[reg]) & 0xff;
}

static u64 reg_val(struct hvx_vmx_vcpu *v, unsigned int reg)
{
	return reg == HVX_RSP ? v->rsp : v->gprs[reg];
}

/* Decode the MOV forms used on MMIO; fill v->mmio. Return 0 or -1. */
static int decode_mmio(struct hvx_vmx_vcpu *v, struct decoder *d)
{
	struct hvx_mmio_op *op = &v->mmio;
	bool mode64 = d->addrsize == 8;
	unsigned int reg;
	u8 b;

	memset(op, 0, sizeof(*op));
	for (;;) {
		b = next_byte(d);
		if (b == 0x66)
			d->opsize = d->opsize == 2 ? 4 : 2;
		else if (b == 0x67)
			d->addrsize = d->addrsize == 8 ? 4 : d->addrsize == 4 ? 2 : 4;
		else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
			 b == 0x64 || b == 0x65 || b == 0xf0 || b == 0xf2 ||
			 b == 0xf3)
			continue;
		else
			break;
	}
	if (mode64 && (b & 0xf0) == 0x40) {
		d->rex = b;
		if (b & 8)
			d->opsize = 8;
		b = next_byte(d);
	}

	switch (b) {
	case 0x88:		/* MOV r/m8, r8 */
	case 0x89:		/* MOV r/m, r */
		reg = skip_modrm(d);
		op->write = true;
		op->size = b == 0x88 ? 1 : d->opsize;
		op->value = b == 0x88 ? reg8(v, reg, d->rex, &op->high_byte) :
					reg_val(v, reg);
		break;
	case 0x8a:		/* MOV r8, r/m8 */
	case 0x8b:		/* MOV r, r/m */
		op->reg = skip_modrm(d);
		op->size = b == 0x8a ? 1 : d->opsize;
		op->dst_size = op->size;
		op->high_byte = op->size == 1 && !d->rex && op->reg >= 4 && op->reg < 8;
		break;
	case 0xc6:		/* MOV r/m8, imm8 */
	case 0xc7:		/* MOV r/m, imm16/32 (sign-extended to 64) */
		if (((d->p < d->end ? *d->p : 0) >> 3) & 7)
			return -1;
		skip_modrm(d);
		op->write = true;
		op->size = b == 0xc6 ? 1 : d->opsize;
		op->value = next_imm(d, min(op->size, 4u));
		if (op->size == 8)
			op->value = (s64)(s32)op->value;
		break;
	case 0xa0:		/* MOV AL, moffs8 */
	case 0xa1:		/* MOV rAX, moffs */
	case 0xa2:		/* MOV moffs8, AL */
	case 0xa3:		/* MOV moffs, rAX */
		next_imm(d, d->addrsize);
		op->size = (b & 1) ? d->opsize : 1;
		op->write = b >= 0xa2;
		op->reg = HVX_RAX;
		op->dst_size = op->size;
		op->value = v->gprs[HVX_RAX];
		break;
	case 0x0f:
		b = next_byte(d);
		if (b != 0xb6 && b != 0xb7 && b != 0xbe && b != 0xbf)
			return -1;
		op->reg = skip_modrm(d);	/* MOVZX/MOVSX r, r/m8/16 */
		op->size = (b & 1) ? 2 : 1;
		op->dst_size = d->opsize;
		op->sign_extend = b >= 0xbe;
		break;
	default:
		return -1;
	}
	if (d->fail)
		return -1;
	if (op->write && op->size < 8)
		op->value &= GENMASK_ULL(op->size * 8 - 1, 0);
	return 0;
}

/**
 * hvx_vmx_handle_mmio - emulate the instruction that touched MMIO at @gpa
 * @v: the vCPU.
 * @gpa: the guest physical address (from the EPT violation).
 *
 * Fetches the instruction at CS:RIP, decodes it and reports an
 * HVX_EXIT_MMIO; the next run completes it (load into the destination
 * register, RIP advanced).
 * Return: HVX_RUN_USER, or HVX_RUN_RESUME with #PF injected on a failed
 * instruction fetch.
 */
int hvx_vmx_handle_mmio(struct hvx_vmx_vcpu *v, u64 gpa)
{
	struct hvx_run *run = v->run;
	u32 cs_ar = hvx_vmx_read(v, GUEST_CS_AR_BYTES);
	u64 la = v->rip;
	struct xlate_fault f;
	struct decoder d = {};
	u8 insn[15];
	unsigned int n = sizeof(insn);
	int ret;

	if (!(long_mode(v) && (cs_ar & VMX_AR_L_MASK)))
		la = (u32)(la + hvx_vmx_read(v, GUEST_CS_BASE));
	/* The instruction may end before a page that is not mapped. */
	ret = linear_access(v, la, insn, n, ACC_FETCH, &f);
	if (ret && offset_in_page(la) + n > PAGE_SIZE) {
		n = PAGE_SIZE - offset_in_page(la);
		ret = linear_access(v, la, insn, n, ACC_FETCH, &f);
	}
	if (ret == -EFAULT)
		return inject_page_fault(v, &f);
	if (ret)
		return emulation_failed(v, NULL, 0);

	d.p = insn;
	d.end = insn + n;
	if (long_mode(v) && (cs_ar & VMX_AR_L_MASK)) {
		d.opsize = 4;
		d.addrsize = 8;
	} else if (cs_ar & VMX_AR_DB_MASK) {
		d.opsize = 4;
		d.addrsize = 4;
	} else {
		d.opsize = 2;
		d.addrsize = 2;
	}
	if (decode_mmio(v, &d))
		return emulation_failed(v, insn, n);
	v->mmio.len = d.p - insn;

	run->exit_reason = HVX_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = v->mmio.size;
	run->mmio.is_write = v->mmio.write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (v->mmio.write)
		memcpy(run->mmio.data, &v->mmio.value, v->mmio.size);
	v->pending = HVX_PENDING_MMIO;
	return HVX_RUN_USER;
}

static void complete_mmio(struct hvx_vmx_vcpu *v)
{
	struct hvx_mmio_op *op = &v->mmio;
	u64 val = 0;

	if (!op->write) {
		memcpy(&val, v->run->mmio.data, op->size);
		if (op->sign_extend)
			val = op->size == 1 ? (s64)(s8)val : (s64)(s16)val;
		if (op->high_byte)
			reg_update(&v->gprs[op->reg - 4], val << 8, 0xff00);
		else if (op->reg == HVX_RSP)
			reg_update((unsigned long *)&v->rsp, val,
				   op->dst_size == 4 ? 0xffffffff :
				   GENMASK_ULL(op->dst_size * 8 - 1, 0));
		else
			reg_update(&v->gprs[op->reg], val,
				   op->dst_size == 4 ? 0xffffffff :
				   GENMASK_ULL(op->dst_size * 8 - 1, 0));
	}
	hvx_vmx_skip_instruction(v, op->len);
}

/**
 * hvx_vmx_complete_pending - finish an I/O or MMIO exit with userspace data
 * @v: the vCPU.
 *
 * Context: process context of the VM owner (writes guest memory for INS).
 * Return: 0, or -EFAULT if INS data cannot be written to guest RAM.
 */
int hvx_vmx_complete_pending(struct hvx_vmx_vcpu *v)
{
	enum hvx_pending p = v->pending;

	v->pending = HVX_PENDING_NONE;
	if (p == HVX_PENDING_IO)
		return complete_io(v);
	if (p == HVX_PENDING_MMIO)
		complete_mmio(v);
	if (p == HVX_PENDING_MSR)
		hvx_vmx_complete_msr(v);
	return 0;
}
