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
#include <asm/fpu/xstate.h>
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
	return (hvx_vmx_xfield(v, HVX_XF_SS_AR) >> 5) & 3;
}

/*
 * Walk the guest's page tables for one linear address, inside @w. With
 * @ic, each entry's user address and value go there (@ic->levels).
 */
static int walk_tables(struct hvx_vmx_vcpu *v, struct hvx_gpa_walk *w,
		       u64 la, int acc, u64 *gpa, struct xlate_fault *f,
		       struct hvx_mmio_icache *ic)
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
	table = hvx_vmx_xfield(v, HVX_XF_CR3);
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
			if (hvx_gpa_walk_read(w,
					      table + ((la >> shift) & 0x1ff) * 8,
					      8, &entry))
				return -ENOENT;
		} else {
			shift = 12 + 10 * (level - 1);
			if (hvx_gpa_walk_read(w,
					      table + ((la >> shift) & 0x3ff) * 4,
					      4, &entry))
				return -ENOENT;
		}
		if (ic) {
			ic->pte[ic->levels] = w->hva;
			ic->pte_val[ic->levels++] = entry;
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
	/*
	 * SMEP: no supervisor fetch from a user page; SMAP: no supervisor
	 * data access to one unless RFLAGS.AC (SDM Vol. 3A 4.6.1). The CPU
	 * checked the access that exited; these are the emulator's own.
	 */
	if (!user && us && acc == ACC_FETCH && (v->cr4 & X86_CR4_SMEP))
		goto fault_prot;
	if (!user && us && acc != ACC_FETCH && (v->cr4 & X86_CR4_SMAP) &&
	    !(hvx_vmx_rflags(v) & X86_EFLAGS_AC))
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
		    (acc == ACC_FETCH && (v->efer & EFER_NX || v->cr4 & X86_CR4_SMEP) ?
		     PFERR_FETCH : 0);
	return -EFAULT;
}

/* The table walk in one SRCU section, one slot lookup per slot. */
static int gva_to_gpa(struct hvx_vmx_vcpu *v, u64 la, int acc, u64 *gpa,
		      struct xlate_fault *f)
{
	struct hvx_gpa_walk w;
	int ret;

	hvx_gpa_walk_begin(&w, v->mem);
	ret = walk_tables(v, &w, la, acc, gpa, f, NULL);
	hvx_gpa_walk_end(&w);
	return ret;
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
	hvx_vmx_unload();
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

/* The guest runs 64-bit code: IA-32e mode and CS.L (SDM Vol. 3A 5.2.1). */
static bool mode64(struct hvx_vmx_vcpu *v)
{
	return long_mode(v) &&
	       (hvx_vmx_xfield(v, HVX_XF_CS_AR) & VMX_AR_L_MASK);
}

/*
 * Linear address of @seg:@offset (enum hvx_seg). In 64-bit mode only FS
 * and GS have a base (SDM Vol. 3A 3.4.4); elsewhere addresses wrap at
 * 4 GiB. Segment limits are not checked.
 */
static u64 seg_linear(struct hvx_vmx_vcpu *v, unsigned int seg, u64 offset)
{
	static const u16 seg_base[] = {
		[HVX_SEG_ES] = GUEST_ES_BASE, [HVX_SEG_CS] = GUEST_CS_BASE,
		[HVX_SEG_SS] = GUEST_SS_BASE, [HVX_SEG_DS] = GUEST_DS_BASE,
		[HVX_SEG_FS] = GUEST_FS_BASE, [HVX_SEG_GS] = GUEST_GS_BASE,
	};

	if (mode64(v))
		return offset + (seg >= HVX_SEG_FS ?
				 hvx_vmx_read(v, seg_base[seg]) : 0);
	return (u32)(offset + hvx_vmx_read(v, seg_base[seg]));
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
	struct hvx_io_op *io = &v->io;
	u32 info = hvx_vmx_read(v, VMX_INSTRUCTION_INFO);
	unsigned int asize = (info >> 7) & 7, seg = io->in ? 0 : (info >> 15) & 7;
	u64 addr, la, count, in_page;
	struct xlate_fault f;
	unsigned int n, bytes;
	int ret;

	hvx_vmx_regs_cache(v, true);	/* the emulator uses the fields */

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
	la = seg_linear(v, seg, addr);

	n = min_t(u64, count, HVX_RUN_IO_DATA_SIZE / io->size);
	/* Single-step and I/O breakpoints trap after each iteration. */
	if ((v->rflags & X86_EFLAGS_TF) ||
	    hvx_vmx_dr_hits(v, io->port, io->size, HVX_DR_IO))
		n = 1;
	in_page = io->backward ? offset_in_page(la) / io->size + 1 :
				 (PAGE_SIZE - offset_in_page(la)) / io->size;
	n = clamp_t(u64, in_page, 1, n);
	io->gpa = io->backward ? la - (n - 1) * io->size : la; /* lowest byte */
	/* So do data breakpoints on the memory side (complete_io()). */
	if (unlikely(v->dr_armed) && n > 1 &&
	    hvx_vmx_dr_hits(v, io->gpa, n * io->size,
			    io->in ? HVX_DR_WRITE : HVX_DR_READ)) {
		n = 1;
		io->gpa = la;
	}
	bytes = n * io->size;
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
	hvx_vmx_set_pending(v, HVX_PENDING_IO);
	return HVX_RUN_USER;
}

static int complete_io(struct hvx_vmx_vcpu *v)
{
	struct hvx_io_op *io = &v->io;
	unsigned int bytes = io->count * io->size;
	struct xlate_fault f;
	u64 delta;
	int ret;

	if (unlikely(v->dr_armed)) {
		v->db_hits = hvx_vmx_dr_hits(v, io->port, io->size, HVX_DR_IO);
		if (io->string)	/* INS writes memory, OUTS reads it */
			v->db_hits |= hvx_vmx_dr_hits(v, io->gpa, bytes,
						      io->in ? HVX_DR_WRITE :
						      HVX_DR_READ);
	}
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
		/*
		 * The guest re-executes the REP; the iterations done end STI
		 * and MOV SS blocking and trap as on the CPU (one iteration
		 * per exit then, hvx_vmx_handle_string_io()).
		 */
		if (v->gprs[HVX_RCX] & io->addr_mask) {
			hvx_vmx_skip_instruction(v, 0);
			return 0;
		}
	}
	hvx_vmx_skip_instruction(v, v->instr_len);
	return 0;
}

/* Arithmetic flags (SDM Vol. 1 3.4.3.1), all written by the ALU ops. */
#define ARITH_FLAGS	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			 X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF)

static u64 size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : BIT_ULL(8 * size) - 1;
}

/* A register operand; @high: AH, CH, DH or BH (encoded as 4-7). */
static u64 get_reg(struct hvx_vmx_vcpu *v, unsigned int reg, bool high)
{
	if (high)
		return v->gprs[reg - 4] >> 8;
	return reg == HVX_RSP ? v->rsp : v->gprs[reg];
}

/*
 * Write the low @size bytes of a register operand as the CPU does: 8- and
 * 16-bit writes keep the other bits, 32-bit writes zero-extend to 64
 * (SDM Vol. 1 3.4.1.1).
 */
static void set_reg(struct hvx_vmx_vcpu *v, unsigned int reg, bool high,
		    unsigned int size, u64 val)
{
	if (high)
		reg_update(&v->gprs[reg - 4], val << 8, 0xff00);
	else if (reg == HVX_RSP)
		reg_update((unsigned long *)&v->rsp, val, size_mask(size));
	else
		reg_update(&v->gprs[reg], val, size_mask(size));
}

/*
 * One ALU instruction on the host CPU: "bt $0, cf" loads the guest's CF
 * (the carry into ADC and SBB), then "op src, dst" and PUSHF. The result
 * and flags are thus exactly the guest CPU's, including AF after AND, OR,
 * XOR and TEST, which the SDM leaves undefined (Vol. 1 Appendix A, Table
 * A-2, and "Flags Affected" of each instruction in Vol. 2).
 */
#define ALU_ASM(insn, type)						\
	({								\
		type __d = dst;						\
									\
		asm("bt $0, %[c]\n\t" insn " %[s], %[d]\n\t"		\
		    "pushf\n\tpop %[f]"					\
		    : [d] "+r"(__d), [f] "=&r"(fl)			\
		    : [s] "r"((type)src), [c] "r"(cf) : "cc");		\
		__d;							\
	})

#define ALU_SIZES(insn)							\
	do {								\
		switch (size) {						\
		case 1:							\
			dst = ALU_ASM(insn, u8);			\
			break;						\
		case 2:							\
			dst = ALU_ASM(insn, u16);			\
			break;						\
		case 4:							\
			dst = ALU_ASM(insn, u32);			\
			break;						\
		default:						\
			dst = ALU_ASM(insn, u64);			\
		}							\
	} while (0)

/* dst = dst <op> src in @size bytes; *@rflags in: CF, out: ARITH_FLAGS. */
static u64 alu_exec(unsigned int alu, unsigned int size, u64 dst, u64 src,
		    unsigned long *rflags)
{
	unsigned long cf = *rflags & X86_EFLAGS_CF, fl;

	switch (alu) {
	case HVX_ALU_ADD:
		ALU_SIZES("add");
		break;
	case HVX_ALU_OR:
		ALU_SIZES("or");
		break;
	case HVX_ALU_ADC:
		ALU_SIZES("adc");
		break;
	case HVX_ALU_SBB:
		ALU_SIZES("sbb");
		break;
	case HVX_ALU_AND:
		ALU_SIZES("and");
		break;
	case HVX_ALU_SUB:
		ALU_SIZES("sub");
		break;
	case HVX_ALU_XOR:
		ALU_SIZES("xor");
		break;
	case HVX_ALU_CMP:
		ALU_SIZES("cmp");
		break;
	default:
		ALU_SIZES("test");
	}
	*rflags = (*rflags & ~ARITH_FLAGS) | (fl & ARITH_FLAGS);
	return dst;
}

/*
 * MMIO emulation. hvx_vmx_handle_mmio() decodes the instruction and starts
 * it; each access to MMIO is one HVX_EXIT_MMIO (mmio_exit()), completed
 * by the next HVX_RUN (complete_mmio()). Reads go through mmio_read(),
 * whose data goes to mmio_read_done(); that computes the result and
 * either writes it (a second exit) or finishes. mmio_commit() changes the
 * guest state once the last access is done: register, flags, RSI/RDI/RCX,
 * RIP.
 */

static int mmio_commit(struct hvx_vmx_vcpu *v);
static int mmio_read_done(struct hvx_vmx_vcpu *v, u64 val);

/*
 * Hand one access of the current instruction to an in-kernel device, or
 * else to userspace.
 */
static int mmio_exit(struct hvx_vmx_vcpu *v, u64 gpa, bool write, u64 val)
{
	struct hvx_mmio_op *op = &v->mmio;
	struct hvx_run *run = v->run;

	op->stage = write ? HVX_MMIO_WRITE : HVX_MMIO_READ;
	op->gpa = gpa;
	run->exit_reason = HVX_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = op->insn.size;
	run->mmio.is_write = write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (write)
		memcpy(run->mmio.data, &val, op->insn.size);
	if (v->dev_ops && !v->dev_ops->mmio(v, gpa, write, op->insn.size, &val)) {
		/* An in-kernel device took it: go on without userspace. */
		run->exit_reason = HVX_EXIT_UNKNOWN;
		if (write)
			return mmio_commit(v);
		return mmio_read_done(v, val & size_mask(op->insn.size));
	}
	hvx_vmx_set_pending(v, HVX_PENDING_MMIO);
	return HVX_RUN_USER;
}

static bool is_string(unsigned int op)
{
	return op == HVX_OP_MOVS || op == HVX_OP_STOS || op == HVX_OP_LODS ||
	       op == HVX_OP_SCAS || op == HVX_OP_CMPS;
}

/*
 * Step a string instruction by one element: RSI (MOVS, LODS, CMPS) and
 * RDI (MOVS, STOS, SCAS, CMPS) by the element size, backwards with
 * RFLAGS.DF, and RCX down by one for REP, all in the address size (SDM
 * Vol. 2B MOVS, STOS, LODS, SCAS, CMPS, REP/REPE/REPNE). Return true while
 * a REP goes on: RCX is not zero and, for CMPS and SCAS, ZF (in
 * @op->flags, just computed) is 1 for REPE, 0 for REPNE. Then RIP stays
 * and the guest executes the instruction again, as after an interrupt
 * between iterations.
 */
static bool string_step(struct hvx_vmx_vcpu *v)
{
	struct hvx_mmio_op *op = &v->mmio;
	unsigned int o = op->insn.op;
	u64 delta = op->backward ? -(u64)op->insn.size : op->insn.size;
	bool zf = op->flags & X86_EFLAGS_ZF;

	if (o == HVX_OP_MOVS || o == HVX_OP_LODS || o == HVX_OP_CMPS)
		reg_update(&v->gprs[HVX_RSI], v->gprs[HVX_RSI] + delta,
			   op->addr_mask);
	if (o != HVX_OP_LODS)
		reg_update(&v->gprs[HVX_RDI], v->gprs[HVX_RDI] + delta,
			   op->addr_mask);
	if (!op->insn.rep)
		return false;
	reg_update(&v->gprs[HVX_RCX], v->gprs[HVX_RCX] - 1, op->addr_mask);
	if (!(v->gprs[HVX_RCX] & op->addr_mask))
		return false;
	if (o == HVX_OP_CMPS || o == HVX_OP_SCAS)
		return op->insn.repne ? !zf : zf;
	return true;
}

/*
 * The guest's XMM registers between exits are in v->fpu, the image that
 * hvx_vmx_run() saves after each exit and loads before each entry: the
 * legacy area of FXSAVE/XSAVE, XMM0-15 at byte 160 (SDM Vol. 1 10.5.1,
 * Table 10-2). With XSAVE, XSTATE_BV (byte 512, 13.4.2) bit 1 clear means
 * the registers are in their initial state (zero) and the area is stale
 * (13.6, 13.8.1).
 */
#define FPU_XMM		160
#define FPU_XSTATE_BV	512

/*
 * Offset of the AVX component (bits 255:128 of YMM0-15) in the standard
 * XSAVE layout, CPUID.(0DH,2):EBX (SDM Vol. 1 13.4.3); read once.
 */
static unsigned int ymm_offset(void)
{
	static unsigned int offset;
	u32 size, ecx, edx;

	if (!READ_ONCE(offset)) {
		cpuid_count(0xd, XFEATURE_YMM, &size, &offset, &ecx, &edx);
		WARN_ON_ONCE(offset + size > HVX_FPU_AREA_SIZE);
	}
	return READ_ONCE(offset);
}

/* 16 bytes of a component (@mask) at @off, zero in its initial state. */
static void fpu_read16(struct hvx_vmx_vcpu *v, u64 mask, unsigned int off,
		       u64 *val)
{
	if (hvx_caps.guest_xcr0 &&
	    !(*(u64 *)&v->fpu[FPU_XSTATE_BV] & mask)) {
		val[0] = 0;
		val[1] = 0;
		return;
	}
	memcpy(val, &v->fpu[off], 16);
}

/* The same for a write; @base and @len: the component's registers. */
static void fpu_write16(struct hvx_vmx_vcpu *v, u64 mask, unsigned int base,
			unsigned int len, unsigned int off, const u64 *val)
{
	u64 *bv = (u64 *)&v->fpu[FPU_XSTATE_BV];

	if (hvx_caps.guest_xcr0 && !(*bv & mask)) {
		memset(&v->fpu[base], 0, len);
		*bv |= mask;
	}
	memcpy(&v->fpu[off], val, 16);
}

/* XMM (and with @ymm the upper YMM half) of @reg into val[0..3]. */
static void xmm_read(struct hvx_vmx_vcpu *v, unsigned int reg, bool ymm,
		     u64 *val)
{
	/* The guest's registers are the thread's during a run (run.c). */
	if (HVX_GUEST_FPSTATE) {
		hvx_vmx_xmm_read(reg, ymm && (hvx_caps.guest_xcr0 & XFEATURE_MASK_YMM),
				 val);
		return;
	}
	fpu_read16(v, XFEATURE_MASK_SSE, FPU_XMM + 16 * reg, val);
	if (ymm && (hvx_caps.guest_xcr0 & XFEATURE_MASK_YMM))
		fpu_read16(v, XFEATURE_MASK_YMM, ymm_offset() + 16 * reg,
			   val + 2);
}

/*
 * Legacy SSE loads write bits 127:0 and keep the upper YMM bits; VEX
 * loads (@vex) also write bits 255:128 from val[2..3] (SDM Vol. 1
 * 14.1.2). The CPU raised #UD for VEX unless the guest's XCR0 has AVX.
 */
static void xmm_write(struct hvx_vmx_vcpu *v, unsigned int reg, bool vex,
		      const u64 *val)
{
	if (HVX_GUEST_FPSTATE) {
		hvx_vmx_xmm_write(reg, vex && (hvx_caps.guest_xcr0 & XFEATURE_MASK_YMM),
				  val);
		return;
	}
	fpu_write16(v, XFEATURE_MASK_SSE, FPU_XMM, 16 * 16,
		    FPU_XMM + 16 * reg, val);
	if (vex && (hvx_caps.guest_xcr0 & XFEATURE_MASK_YMM))
		fpu_write16(v, XFEATURE_MASK_YMM, ymm_offset(), 16 * 16,
			    ymm_offset() + 16 * reg, val + 2);
}

/*
 * Linear address of the ModR/M or moffs memory operand of @in, computed
 * as the CPU does (SDM Vol. 2A 2.1.5 Tables 2-1 to 2-3, 2.2.1.6 for
 * RIP-relative; the default segment is SS for a base of rBP or rSP, Vol.
 * 1 3.7.5): for the exits that report no linear address. BT with a
 * register bit offset addresses the operand-sized word the offset falls
 * in (Vol. 2A BT). Return: false for operands addressed by rSI/rDI.
 */
#define NO_REG	0xff
static bool insn_linear(struct hvx_vmx_vcpu *v, const struct hvx_insn *in,
			u64 *la)
{
	/* 16-bit ModR/M.rm: base and index (Table 2-1). */
	static const u8 rm16[8][2] = {
		{ HVX_RBX, HVX_RSI }, { HVX_RBX, HVX_RDI },
		{ HVX_RBP, HVX_RSI }, { HVX_RBP, HVX_RDI },
		{ HVX_RSI, NO_REG }, { HVX_RDI, NO_REG },
		{ HVX_RBP, NO_REG }, { HVX_RBX, NO_REG },
	};
	unsigned int mod = in->modrm >> 6, rm = in->modrm & 7;
	unsigned int base = NO_REG, index = NO_REG, scale = 0;
	u64 ea = in->disp;

	if (in->mem == HVX_MEM_NONE)
		return false;
	if (in->mem == HVX_MEM_MODRM && in->addr_size == 2) {
		if (mod || rm != 6) {
			base = rm16[rm][0];
			index = rm16[rm][1];
		}
	} else if (in->mem == HVX_MEM_MODRM && rm == 4) {
		index = ((in->sib >> 3) & 7) | (in->rex & 2 ? 8 : 0);
		if (index == HVX_RSP)
			index = NO_REG;
		scale = in->sib >> 6;
		if (mod || (in->sib & 7) != 5)
			base = (in->sib & 7) | (in->rex & 1 ? 8 : 0);
	} else if (in->mem == HVX_MEM_MODRM && !mod && rm == 5) {
		if (mode64(v))		/* the next instruction's RIP */
			ea += v->rip + in->len;
	} else if (in->mem == HVX_MEM_MODRM) {
		base = rm | (in->rex & 1 ? 8 : 0);
	}
	if (base != NO_REG)
		ea += get_reg(v, base, false);
	if (index != NO_REG)
		ea += get_reg(v, index, false) << scale;
	if (in->op == HVX_OP_BT && !in->has_imm) {
		unsigned int shift = 3 + ilog2(in->size);
		s64 off = sign_extend64(get_reg(v, in->reg, false),
					in->size * 8 - 1);

		ea += (u64)(off >> shift) * in->size;
	}
	ea &= size_mask(in->addr_size);
	*la = seg_linear(v, !in->seg_override &&
			 (base == HVX_RSP || base == HVX_RBP) ?
			 HVX_SEG_SS : in->seg, ea);
	return true;
}

/*
 * The guest's data breakpoints that the accesses of the instruction
 * matched (hvx_vmx_dr_hits()), before the string registers move. String
 * elements are at RSI and RDI, whichever side is MMIO. Other instructions
 * have one memory operand, at the linear address of the EPT violation;
 * it was written if the last access was a write (a read-modify-write
 * counts as a write, as on the CPU); an APIC-access exit reports an
 * offset only, so the address is computed from the instruction
 * (insn_linear()).
 */
static void mmio_dr_hits(struct hvx_vmx_vcpu *v)
{
	struct hvx_mmio_op *op = &v->mmio;
	struct hvx_insn *in = &op->insn;
	u64 src = 0, dst = 0;
	u8 hits = 0;

	if (is_string(in->op)) {
		src = seg_linear(v, in->seg, v->gprs[HVX_RSI] & op->addr_mask);
		dst = seg_linear(v, HVX_SEG_ES,
				 v->gprs[HVX_RDI] & op->addr_mask);
	}
	switch (in->op) {
	case HVX_OP_MOVS:
		hits = hvx_vmx_dr_hits(v, src, in->size, HVX_DR_READ) |
		       hvx_vmx_dr_hits(v, dst, in->size, HVX_DR_WRITE);
		break;
	case HVX_OP_STOS:
		hits = hvx_vmx_dr_hits(v, dst, in->size, HVX_DR_WRITE);
		break;
	case HVX_OP_LODS:
		hits = hvx_vmx_dr_hits(v, src, in->size, HVX_DR_READ);
		break;
	case HVX_OP_SCAS:
		hits = hvx_vmx_dr_hits(v, dst, in->size, HVX_DR_READ);
		break;
	case HVX_OP_CMPS:
		hits = hvx_vmx_dr_hits(v, src, in->size, HVX_DR_READ) |
		       hvx_vmx_dr_hits(v, dst, in->size, HVX_DR_READ);
		break;
	default:
		if (op->la_valid)
			hits = hvx_vmx_dr_hits(v, op->la,
					       in->vec_size ?: in->size,
					       op->stage == HVX_MMIO_WRITE ?
					       HVX_DR_WRITE : HVX_DR_READ);
	}
	v->db_hits |= hits;
}

/* The last access is done: update the guest as the instruction would. */
static int mmio_commit(struct hvx_vmx_vcpu *v)
{
	struct hvx_mmio_op *op = &v->mmio;
	struct hvx_insn *in = &op->insn;

	/* A store in pieces: the next piece, if any. */
	if ((in->op == HVX_OP_VEC_STORE || in->op == HVX_OP_CMPXCHG8B) &&
	    ++op->frag * in->size < in->vec_size)
		return mmio_exit(v, op->vec_gpa + op->frag * in->size, true,
				 op->vec[op->frag]);
	/* CMPXCHG8B/16B mismatch: rDX:rAX = the operand (written back). */
	if (in->op == HVX_OP_CMPXCHG8B && !(op->flags & X86_EFLAGS_ZF)) {
		if (in->vec_size == 8) {
			set_reg(v, HVX_RAX, false, 4, (u32)op->vec[0]);
			set_reg(v, HVX_RDX, false, 4, op->vec[0] >> 32);
		} else {
			set_reg(v, HVX_RAX, false, 8, op->vec[0]);
			set_reg(v, HVX_RDX, false, 8, op->vec[1]);
		}
	}

	if (op->set_reg)
		set_reg(v, op->dst_reg, op->dst_high, in->reg_size, op->reg_val);
	if (op->set_flags)
		v->rflags = (v->rflags & ~ARITH_FLAGS) | (op->flags & ARITH_FLAGS);
	if (unlikely(v->dr_armed))
		mmio_dr_hits(v);
	/*
	 * While a REP goes on RIP stays, but one iteration has executed: STI
	 * and MOV SS blocking end and RFLAGS.TF traps, as after each
	 * iteration on the CPU.
	 */
	if (is_string(in->op) && string_step(v))
		hvx_vmx_skip_instruction(v, 0);
	else
		hvx_vmx_skip_instruction(v, in->len);
	return HVX_RUN_RESUME;
}

/* MOVS from MMIO: store the element read at the destination. */
static int movs_store(struct hvx_vmx_vcpu *v, u64 val)
{
	struct hvx_mmio_op *op = &v->mmio;
	struct xlate_fault f;
	int ret;

	ret = linear_access(v, op->dst_la, &val, op->insn.size, ACC_WRITE, &f);
	if (ret == -ENOENT)	/* not RAM (or read-only): MMIO as well */
		return mmio_exit(v, op->dst_gpa, true, val);
	if (ret == -EFAULT)
		return inject_page_fault(v, &f);
	return mmio_commit(v);
}

/*
 * Is condition @cc (tttn: SDM Vol. 2A B.1.4.7, Table B-10) true with
 * @fl? Bit 0 negates the condition of bits 3:1.
 */
static bool cond_true(unsigned int cc, unsigned long fl)
{
	bool cf = fl & X86_EFLAGS_CF, zf = fl & X86_EFLAGS_ZF;
	bool sf = fl & X86_EFLAGS_SF, of = fl & X86_EFLAGS_OF;
	bool r;

	switch (cc >> 1) {
	case 0:
		r = of;
		break;
	case 1:
		r = cf;
		break;
	case 2:
		r = zf;
		break;
	case 3:
		r = cf || zf;
		break;
	case 4:
		r = sf;
		break;
	case 5:
		r = fl & X86_EFLAGS_PF;
		break;
	case 6:
		r = sf != of;
		break;
	default:
		r = zf || sf != of;
	}
	return r ^ (cc & 1);
}

/*
 * BT BTS BTR BTC on the operand @val just read. The CPU has already
 * added the part of a register bit offset beyond the operand to the
 * address it accessed (SDM Vol. 2A BT, "Bit(BitBase, BitOffset)"), so
 * only the offset modulo the operand width is left. CF is the bit; ZF is
 * kept; OF, SF, AF and PF are undefined and kept as well.
 */
static int bt_done(struct hvx_vmx_vcpu *v, u64 val)
{
	struct hvx_mmio_op *op = &v->mmio;
	struct hvx_insn *in = &op->insn;
	u64 bit = BIT_ULL(op->src & (in->size * 8 - 1));

	op->flags = v->rflags & ~X86_EFLAGS_CF;
	if (val & bit)
		op->flags |= X86_EFLAGS_CF;
	op->set_flags = true;
	switch (in->alu) {
	case HVX_BTS:
		return mmio_exit(v, op->gpa, true, val | bit);
	case HVX_BTR:
		return mmio_exit(v, op->gpa, true, val & ~bit);
	case HVX_BTC:
		return mmio_exit(v, op->gpa, true, val ^ bit);
	}
	return mmio_commit(v);
}

/*
 * CMPXCHG8B/16B, operand read into op->vec: compare with EDX:EAX or
 * RDX:RAX; equal: ZF = 1 and ECX:EBX or RCX:RBX is stored; else ZF = 0,
 * the operand is written back unchanged (the CPU always writes it) and
 * loaded into rDX:rAX by mmio_commit(). Other flags are unchanged (SDM
 * Vol. 2A CMPXCHG8B/CMPXCHG16B).
 */
static int cmpxchg8b_done(struct hvx_vmx_vcpu *v)
{
	struct hvx_mmio_op *op = &v->mmio;
	unsigned long *r = v->gprs;
	bool eq;

	if (op->insn.vec_size == 8) {
		eq = op->vec[0] == ((u32)r[HVX_RAX] | (u64)(u32)r[HVX_RDX] << 32);
		if (eq)
			op->vec[0] = (u32)r[HVX_RBX] | (u64)(u32)r[HVX_RCX] << 32;
	} else {
		eq = op->vec[0] == r[HVX_RAX] && op->vec[1] == r[HVX_RDX];
		if (eq) {
			op->vec[0] = r[HVX_RBX];
			op->vec[1] = r[HVX_RCX];
		}
	}
	op->flags = v->rflags & ~X86_EFLAGS_ZF;
	if (eq)
		op->flags |= X86_EFLAGS_ZF;
	op->set_flags = true;
	op->frag = 0;
	return mmio_exit(v, op->vec_gpa, true, op->vec[0]);
}

static int mmio_read(struct hvx_vmx_vcpu *v, u64 gpa);

/* The data of a read arrived (@val, zero-extended): compute. */
static int mmio_read_done(struct hvx_vmx_vcpu *v, u64 val)
{
	struct hvx_mmio_op *op = &v->mmio;
	struct hvx_insn *in = &op->insn;
	u64 a, b, res;

	val &= size_mask(in->size);
	switch (in->op) {
	case HVX_OP_MOVX:
		if (in->sign_extend)
			val = in->size == 1 ? (s64)(s8)val : (s64)(s16)val;
		fallthrough;
	case HVX_OP_MOV_LOAD:
		op->set_reg = true;
		op->reg_val = val;
		break;
	case HVX_OP_XCHG:
		op->set_reg = true;
		op->reg_val = val;
		return mmio_exit(v, op->gpa, true, op->src);
	case HVX_OP_ALU:
		/* "op r, m" forms: the register is the first operand. */
		a = in->reg_dst ? op->src : val;
		b = in->reg_dst ? val : op->src;
		op->flags = v->rflags;
		res = alu_exec(in->alu, in->size, a, b, &op->flags);
		op->set_flags = true;
		if (in->alu == HVX_ALU_CMP || in->alu == HVX_ALU_TEST)
			break;
		if (!in->reg_dst)
			return mmio_exit(v, op->gpa, true, res);
		op->set_reg = true;
		op->reg_val = res;
		break;
	case HVX_OP_MOVS:
		return movs_store(v, val);
	case HVX_OP_LODS:
		op->set_reg = true;
		op->reg_val = val;
		break;
	case HVX_OP_SCAS:
		/* CMP rAX, ES:[rDI] */
		op->flags = v->rflags;
		alu_exec(HVX_ALU_CMP, in->size, op->src, val, &op->flags);
		op->set_flags = true;
		break;
	case HVX_OP_CMPS:
		/* CMP DS:[rSI], ES:[rDI]: the first read, then the second. */
		if (!op->second) {
			op->second = true;
			op->src = val;
			return mmio_read(v, op->dst_gpa);
		}
		op->flags = v->rflags;
		alu_exec(HVX_ALU_CMP, in->size, op->src, val, &op->flags);
		op->set_flags = true;
		break;
	case HVX_OP_BT:
		return bt_done(v, val);
	case HVX_OP_CMPXCHG8B:
		op->vec[op->frag] = val;
		if (++op->frag * in->size < in->vec_size)
			return mmio_read(v, op->vec_gpa + op->frag * in->size);
		return cmpxchg8b_done(v);
	case HVX_OP_VEC_LOAD:
		/* Piece by piece; the bits above the operand are zeroed. */
		op->vec[op->frag] = val;
		if (++op->frag * in->size < in->vec_size)
			return mmio_read(v, op->vec_gpa + op->frag * in->size);
		xmm_write(v, in->reg, in->vex, op->vec);
		break;
	case HVX_OP_XADD:
		/* The register gets the old value, memory the sum. */
		op->flags = v->rflags;
		res = alu_exec(HVX_ALU_ADD, in->size, val, op->src, &op->flags);
		op->set_flags = true;
		op->set_reg = true;
		op->reg_val = val;
		return mmio_exit(v, op->gpa, true, res);
	case HVX_OP_CMPXCHG:
		/*
		 * CMP rAX, m. Equal: m = r. Else rAX = m, and m is written
		 * back unchanged: the CPU writes the destination either way
		 * (SDM Vol. 2A CMPXCHG).
		 */
		op->flags = v->rflags;
		a = get_reg(v, HVX_RAX, false) & size_mask(in->size);
		alu_exec(HVX_ALU_CMP, in->size, a, val, &op->flags);
		op->set_flags = true;
		if (op->flags & X86_EFLAGS_ZF)
			return mmio_exit(v, op->gpa, true, op->src);
		op->set_reg = true;
		op->dst_reg = HVX_RAX;
		op->dst_high = false;
		op->reg_val = val;
		return mmio_exit(v, op->gpa, true, val);
	case HVX_OP_CMOV:
		/*
		 * The CPU reads the source whatever the condition; a 32-bit
		 * destination is zero-extended even when it is not moved.
		 */
		op->set_reg = true;
		op->reg_val = cond_true(in->alu, v->rflags) ? val :
			      get_reg(v, in->reg, false);
		break;
	}
	return mmio_commit(v);
}

/* Read @gpa: from a read-only slot in the kernel, else through userspace. */
static int mmio_read(struct hvx_vmx_vcpu *v, u64 gpa)
{
	u64 val = 0;
	int ret;

	v->mmio.gpa = gpa;	/* where the result goes */
	ret = hvx_gpa_read(v->mem, gpa, &val, v->mmio.insn.size);
	if (ret == -ENOENT)
		return mmio_exit(v, gpa, false, 0);
	if (ret)
		return ret;
	return mmio_read_done(v, val);
}

/*
 * MOVS: the CPU reads DS:RSI (or the override segment), then writes
 * ES:RDI. A write violation means the source was RAM and the destination
 * is MMIO; a read violation means the source is MMIO, and the destination
 * may be RAM or MMIO. Faults on the RAM side are raised before any MMIO
 * access, so a device never sees an access the guest will repeat.
 */
static int movs_start(struct hvx_vmx_vcpu *v, u64 gpa)
{
	struct hvx_mmio_op *op = &v->mmio;
	u64 rsi = v->gprs[HVX_RSI] & op->addr_mask;
	u64 rdi = v->gprs[HVX_RDI] & op->addr_mask;
	struct xlate_fault f;
	int ret;

	op->dst_la = seg_linear(v, HVX_SEG_ES, rdi);
	if (v->exit_qual & EPT_VIOLATION_ACC_WRITE) {
		op->src = 0;
		ret = linear_access(v, seg_linear(v, op->insn.seg, rsi), &op->src,
				    op->insn.size, ACC_READ, &f);
		if (!ret)
			return mmio_exit(v, gpa, true, op->src);
	} else {
		ret = gva_to_gpa(v, op->dst_la, ACC_WRITE, &op->dst_gpa, &f);
		if (!ret)
			return mmio_read(v, gpa);
	}
	if (ret == -EFAULT)
		return inject_page_fault(v, &f);
	return emulation_failed(v, NULL, 0);
}

/*
 * CMPS reads DS:RSI (or the override segment) and then ES:RDI; either may
 * be MMIO or RAM. Both are translated first, so that a #PF comes before
 * any MMIO access.
 */
static int cmps_start(struct hvx_vmx_vcpu *v)
{
	struct hvx_mmio_op *op = &v->mmio;
	u64 rsi = v->gprs[HVX_RSI] & op->addr_mask;
	u64 rdi = v->gprs[HVX_RDI] & op->addr_mask;
	struct xlate_fault f;
	u64 src_gpa;
	int ret;

	ret = gva_to_gpa(v, seg_linear(v, op->insn.seg, rsi), ACC_READ,
			 &src_gpa, &f);
	if (!ret)
		ret = gva_to_gpa(v, seg_linear(v, HVX_SEG_ES, rdi), ACC_READ,
				 &op->dst_gpa, &f);
	if (ret == -EFAULT)
		return inject_page_fault(v, &f);
	if (ret)
		return emulation_failed(v, NULL, 0);
	return mmio_read(v, src_gpa);
}

/* Start the decoded instruction in v->mmio.insn; its access hit @gpa. */
static int mmio_start(struct hvx_vmx_vcpu *v, u64 gpa)
{
	struct hvx_mmio_op *op = &v->mmio;
	struct hvx_insn *in = &op->insn;

	op->src = in->has_imm ? in->imm : get_reg(v, in->reg, in->high_byte);
	op->src &= size_mask(in->size);
	op->dst_reg = in->reg;
	op->dst_high = in->high_byte;
	if (is_string(in->op)) {
		op->addr_mask = size_mask(in->addr_size);
		op->backward = v->rflags & X86_EFLAGS_DF;
		/* With RCX = 0 the CPU accesses nothing; be safe anyway. */
		if (in->rep && !(v->gprs[HVX_RCX] & op->addr_mask)) {
			hvx_vmx_skip_instruction(v, in->len);
			return HVX_RUN_RESUME;
		}
	}

	switch (in->op) {
	case HVX_OP_MOV_STORE:
	case HVX_OP_STOS:
		return mmio_exit(v, gpa, true, op->src);
	case HVX_OP_SETCC:
		return mmio_exit(v, gpa, true, cond_true(in->alu, v->rflags));
	case HVX_OP_VEC_STORE:
		op->vec_gpa = gpa;
		xmm_read(v, in->reg, in->vec_size > 16, op->vec);
		if (in->vec_size < 8)
			op->vec[0] &= size_mask(in->vec_size);
		return mmio_exit(v, gpa, true, op->vec[0]);
	case HVX_OP_VEC_LOAD:
	case HVX_OP_CMPXCHG8B:
		op->vec_gpa = gpa;
		return mmio_read(v, gpa);
	case HVX_OP_MOVS:
		return movs_start(v, gpa);
	case HVX_OP_CMPS:
		return cmps_start(v);
	case HVX_OP_CACHE_FLUSH:
		/*
		 * Device memory is uncacheable: writing back and
		 * invalidating its line reaches no device (SDM Vol. 2A
		 * CLFLUSH, CLWB).
		 */
		hvx_vmx_skip_instruction(v, in->len);
		return HVX_RUN_RESUME;
	default:	/* loads, ALU, XCHG: read first */
		return mmio_read(v, gpa);
	}
}

/*
 * An instruction hvx does not emulate touched MMIO. A device access must
 * not end the VM: the guest gets #UD, as on a CPU without the
 * instruction, and the statistics count it.
 */
static int mmio_unknown(struct hvx_vmx_vcpu *v, u64 gpa, const u8 *insn,
			unsigned int n)
{
	v->stats.s.mmio_unknown_insns++;
	pr_debug_ratelimited("hvx: MMIO %#llx at RIP %#llx: instruction not emulated, #UD: %*ph\n",
			     gpa, v->rip, min(n, 15u), insn);
	hvx_vmx_inject_exception(v, X86_TRAP_UD, false, 0);
	return HVX_RUN_RESUME;
}

/*
 * The fetch of the 16 bytes at @la, inside one page, that fills @ic:
 * the walk records its entries, the fetch where the bytes are. Only for
 * walks that read all they use from guest memory (not PAE paging, whose
 * PDPTEs are VMCS fields).
 */
static int fetch_record(struct hvx_vmx_vcpu *v, u64 la, u64 *buf,
			struct xlate_fault *f, struct hvx_mmio_icache *ic)
{
	struct hvx_gpa_walk w;
	u64 gpa;
	int ret;

	ic->levels = 0;
	ic->pte_size = long_mode(v) ? 8 : 4;
	hvx_gpa_walk_begin(&w, v->mem);
	ret = walk_tables(v, &w, la, ACC_FETCH, &gpa, f, ic);
	if (!ret)
		ret = hvx_gpa_walk_fetch(&w, gpa, buf) ? -ENOENT : 0;
	ic->code = w.hva;
	hvx_gpa_walk_end(&w);
	return ret;
}

/* The walk needs no VMCS field that the cache's key leaves out. */
static bool icache_mode_ok(struct hvx_vmx_vcpu *v)
{
	return !(v->cr0 & X86_CR0_PG) || long_mode(v) ||
	       !(v->cr4 & X86_CR4_PAE);
}

/*
 * Is the instruction at @la the one in v->icache? The same translation
 * inputs (CR0, CR3, CR4, EFER, CPL), the same entries at the same user
 * addresses (the slot table's generation unchanged), and the same bytes
 * at the end of the walk: then the fetch and the decode give what they
 * gave before. Read in the order the walk reads; the generation is read
 * again after them, so a slot change meanwhile is a miss.
 */
static bool icache_hit(struct hvx_vmx_vcpu *v, u64 la, unsigned int code_size)
{
	struct hvx_mmio_icache *ic = &v->icache;
	unsigned long gen = hvx_mem_gen(v->mem);
	u64 b0, b1;
	unsigned int i;

	if (!ic->valid || ic->gen != gen || ic->la != la ||
	    ic->code_size != code_size || ic->cr0 != v->cr0 ||
	    ic->cr4 != v->cr4 || ic->efer != v->efer)
		return false;
	if ((v->cr0 & X86_CR0_PG) &&
	    (ic->cr3 != hvx_vmx_xfield(v, HVX_XF_CR3) ||
	     ic->user != (guest_cpl(v) == 3)))
		return false;
	smp_rmb();	/* the generation before the entries: hvx_mem_changed() */
	for (i = 0; i < ic->levels; i++) {
		u64 val;

		if (ic->pte_size == 8) {
			if (get_user(val, (u64 __user *)ic->pte[i]))
				return false;
		} else {
			u32 val32;

			if (get_user(val32, (u32 __user *)ic->pte[i]))
				return false;
			val = val32;
		}
		if (val != ic->pte_val[i])
			return false;
	}
	if (get_user(b0, (u64 __user *)ic->code) ||
	    get_user(b1, (u64 __user *)ic->code + 1))
		return false;
	if (((b0 ^ ic->bytes[0]) & ic->mask[0]) ||
	    ((b1 ^ ic->bytes[1]) & ic->mask[1]))
		return false;
	smp_rmb();	/* the entries and bytes before the generation again */
	return hvx_mem_gen(v->mem) == gen;
}

/* Keep the decode of the bytes fetched by fetch_record() in v->icache. */
static void icache_fill(struct hvx_vmx_vcpu *v, u64 la, unsigned int code_size,
			unsigned long gen, const u64 *q)
{
	struct hvx_mmio_icache *ic = &v->icache;
	unsigned int len = v->mmio.insn.len;

	ic->gen = gen;
	ic->la = la;
	ic->cr0 = v->cr0;
	ic->cr4 = v->cr4;
	ic->efer = v->efer;
	ic->code_size = code_size;
	if (v->cr0 & X86_CR0_PG) {
		ic->cr3 = hvx_vmx_xfield(v, HVX_XF_CR3);
		ic->user = guest_cpl(v) == 3;
	}
	ic->mask[0] = len >= 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
	ic->mask[1] = len > 8 ? (1ULL << (8 * (len - 8))) - 1 : 0;
	ic->bytes[0] = q[0] & ic->mask[0];
	ic->bytes[1] = q[1] & ic->mask[1];
	ic->insn = v->mmio.insn;
	ic->valid = true;
}

/**
 * hvx_vmx_handle_mmio - emulate the instruction that touched MMIO at @gpa
 * @v: the vCPU.
 * @gpa: the guest physical address (from the EPT violation).
 *
 * Fetches the instruction at CS:RIP, decodes it (hvx_decode()) and starts
 * it: a store becomes an HVX_EXIT_MMIO write, anything that reads the
 * MMIO operand an HVX_EXIT_MMIO read. Later HVX_RUNs complete it; see
 * hvx_vmx_complete_pending(). A read of a read-only slot (the write of a
 * read-modify-write faulted there) is done in the kernel.
 * An instruction hvx does not emulate gets #UD (counted in
 * hvx_stats.mmio_unknown_insns).
 * Return: HVX_RUN_USER (an MMIO exit, or HVX_EXIT_INTERNAL_ERROR with
 * suberror HVX_INTERNAL_EMULATION when the instruction cannot be
 * fetched from RAM), HVX_RUN_RESUME (done in the kernel, or #PF or #UD
 * injected), or a negative errno.
 */
int hvx_vmx_handle_mmio(struct hvx_vmx_vcpu *v, u64 gpa)
{
	u32 cs_ar = hvx_vmx_xfield(v, HVX_XF_CS_AR);
	u64 la;
	struct xlate_fault f;
	u64 q[2];
	u8 insn[15];
	unsigned int n = sizeof(insn), code_size;
	unsigned long gen = 0;
	bool record, hit;
	int ret;

	hvx_vmx_regs_cache(v, true);	/* the emulator uses the fields */
	la = v->rip;

	if (!mode64(v))
		la = (u32)(la + hvx_vmx_xfield(v, HVX_XF_CS_BASE));
	if (mode64(v))
		code_size = 8;
	else
		code_size = cs_ar & VMX_AR_DB_MASK ? 4 : 2;

	hit = icache_hit(v, la, code_size);
	record = !hit && offset_in_page(la) + sizeof(q) <= PAGE_SIZE &&
		 icache_mode_ok(v);
	if (!hit)
		v->icache.valid = false;
	if (hit) {
		ret = 0;
	} else if (record) {
		gen = hvx_mem_gen(v->mem);
		smp_rmb();	/* before the walk's slot lookups */
		ret = fetch_record(v, la, q, &f, &v->icache);
		memcpy(insn, q, n);
	} else {
		/* The instruction may end before a page that is not mapped. */
		ret = linear_access(v, la, insn, n, ACC_FETCH, &f);
		if (ret && offset_in_page(la) + n > PAGE_SIZE) {
			n = PAGE_SIZE - offset_in_page(la);
			ret = linear_access(v, la, insn, n, ACC_FETCH, &f);
		}
	}
	if (ret == -EFAULT)
		return inject_page_fault(v, &f);
	if (ret)
		return emulation_failed(v, NULL, 0);

	memset(&v->mmio, 0, sizeof(v->mmio));
	v->db_hits = 0;
	if (unlikely(v->dr_armed) &&
	    (u16)v->exit_reason == EXIT_REASON_EPT_VIOLATION &&
	    (v->exit_qual & EPT_VIOLATION_GVA_IS_VALID)) {
		v->mmio.la = hvx_vmx_xfield(v, HVX_XF_GLA);
		v->mmio.la_valid = true;
	}
	if (hit) {
		v->mmio.insn = v->icache.insn;
	} else {
		if (hvx_decode(insn, n, code_size, &v->mmio.insn))
			return mmio_unknown(v, gpa, insn, n);
		if (record)
			icache_fill(v, la, code_size, gen, q);
	}
	/* An APIC-access exit reports no linear address: compute it. */
	if (unlikely(v->dr_armed) && !v->mmio.la_valid)
		v->mmio.la_valid = insn_linear(v, &v->mmio.insn, &v->mmio.la);
	return mmio_start(v, gpa);
}

/* Userspace finished the access in v->run->mmio. */
static int complete_mmio(struct hvx_vmx_vcpu *v)
{
	u64 val = 0;

	if (v->mmio.stage == HVX_MMIO_WRITE)
		return mmio_commit(v);
	memcpy(&val, v->run->mmio.data, v->mmio.insn.size);
	return mmio_read_done(v, val);
}

/**
 * hvx_vmx_io_in_kernel - give a pending port access to an in-kernel device
 * @v: the vCPU, with an IN/OUT or INS/OUTS prepared in v->io and the run
 *	page (v->pending is HVX_PENDING_IO).
 *
 * Each element goes to v->dev_ops->pio() in execution order; then the
 * instruction completes as if userspace had handled the exit.
 * Return: -ENOENT if no device claims the port (the exit goes to
 * userspace), HVX_RUN_RESUME when done, or -EFAULT as
 * hvx_vmx_complete_pending().
 */
int hvx_vmx_io_in_kernel(struct hvx_vmx_vcpu *v)
{
	struct hvx_io_op *io = &v->io;
	/* The kernel's copy: userspace may rewrite the shared run page. */
	u16 port = io->port;
	u32 i;
	int ret;

	if (!v->dev_ops)
		return -ENOENT;
	for (i = 0; i < io->count; i++) {
		u8 *data = v->io_data + i * io->size;
		u64 val = 0;

		if (!io->in)
			memcpy(&val, data, io->size);
		ret = v->dev_ops->pio(v, port, io->in, io->size, &val);
		/* Claims are per port: only the first element can miss. */
		if (ret)
			return i ? -EIO : ret;
		if (io->in)
			memcpy(data, &val, io->size);
	}
	v->pending = HVX_PENDING_NONE;
	v->run->exit_reason = HVX_EXIT_UNKNOWN;
	ret = complete_io(v);
	return ret ? ret : HVX_RUN_RESUME;
}

/**
 * hvx_vmx_complete_pending - finish an I/O or MMIO exit with userspace data
 * @v: the vCPU.
 *
 * Only with RIP where the exit left it (hvx_vmx_set_pending()). A VMM
 * that moved it with HVX_SET_REGS has abandoned the instruction: nothing
 * of it is completed (no IN, MMIO or RDMSR data, no skip, no hypercall
 * result) and the guest starts at the new RIP, as KVM drops a port I/O
 * completion when the RIP changed (complete_fast_pio_out()). Else a
 * pending skip would move the new RIP past an instruction never run.
 *
 * An MMIO instruction that reads and then writes (an ALU operation or
 * XCHG on MMIO, MOVS between two MMIO addresses) reports the write here:
 * run->exit_reason is HVX_EXIT_MMIO again and the caller must return to
 * userspace without entering the guest.
 *
 * Context: process context of the VM owner (writes guest memory for INS
 * and MOVS).
 * Return: 0, HVX_RUN_USER for a new exit, or -EFAULT if INS data cannot be
 * written to guest RAM.
 */
int hvx_vmx_complete_pending(struct hvx_vmx_vcpu *v)
{
	enum hvx_pending p = v->pending;
	int ret;

	if (p == HVX_PENDING_NONE)
		return 0;
	v->pending = HVX_PENDING_NONE;
	if (unlikely(hvx_vmx_rip(v) != v->pending_rip))
		return 0;
	/*
	 * IN and OUT change RAX and skip, through the accessors: no VMREAD
	 * of RSP, no VMCS load around it.
	 */
	if (p == HVX_PENDING_IO && !v->io.string)
		return complete_io(v);
	hvx_vmx_regs_cache(v, true);	/* the emulator uses the fields */
	if (p == HVX_PENDING_IO)
		return complete_io(v);
	if (p == HVX_PENDING_MMIO) {
		ret = complete_mmio(v);
		return ret == HVX_RUN_RESUME ? 0 : ret;
	}
	if (p == HVX_PENDING_MSR)
		hvx_vmx_complete_msr(v);
	if (p == HVX_PENDING_HYPERCALL)
		hvx_vmx_hypercall_complete(v);
	return 0;
}
