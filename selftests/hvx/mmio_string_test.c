// SPDX-License-Identifier: GPL-2.0
/*
 * mmio_string_test - MOVS (A4/A5) and STOS (AA/AB), with and without REP,
 * with the source and/or the destination on MMIO, in 64-bit code, 32-bit
 * protected mode and real mode, with RFLAGS.DF clear and set.
 *
 * hvx emulates one element per exit and leaves RIP on the instruction
 * while a REP count remains, so the guest executes it again. For every
 * element the host checks: RIP on the instruction and RSI/RDI/RCX as
 * before the element (they are advanced, in the address size, as each
 * element completes); a read of the source element's GPA if the source
 * is MMIO; a write of the destination element's GPA with the element's
 * data if the destination is MMIO (data from the host's read, from RAM,
 * or from rAX). After the last element: the MARK_PORT out at exactly
 * <case>_next with the final RSI/RDI/RCX, and RAM destinations hold the
 * data that was read from MMIO.
 *
 * Also: with RFLAGS.TF set, REP STOS on MMIO raises the single-step trap
 * where the same instruction on RAM does (after each iteration). Caveat:
 * Bochs 2.7 also delivers a trap of its own there (the pending debug
 * exception it wrongly saves on the EPT-violation exit), so in Bochs this
 * checks the native behaviour and the exits, but would pass without hvx's
 * trap; on hardware it checks hvx's.
 *
 * And: MOVS from MMIO to a not-present page raises the #PF (write,
 * not present, CR2 = the destination) before any MMIO exit.
 */
#include "hvx_test.h"
#include "hvx_guest.h"
#include "mmio_string_guest.h"

/* A 2 MiB region whose PDE the fault test clears: not present. */
#define STR_NP_LA	0x3fe00000

/* The 64-bit cases, in the table format of mmio_string_guest.h;
 * guest_mmio_string64() runs them in this order. */
#define STR_CASES64(X)							\
	X(stosb_rep, 1, STR_NONE, STR_MMIO, 0, GPA_MMIO + 0x100, 3,	\
	  0, 1, 3, ~0ull, 0, 0)						\
	X(stosq_rep_df, 8, STR_NONE, STR_MMIO, 0, GPA_MMIO + 0x210, 2,	\
	  1, 1, 2, ~0ull, 0, 0)						\
	X(stosw, 2, STR_NONE, STR_MMIO, 0x1234, GPA_MMIO + 0x300, 0x77,	\
	  0, 0, 1, ~0ull, 0, 0)						\
	X(stosl_rep_addr32, 4, STR_NONE, STR_MMIO, 0,			\
	  0xffffffff00000000 | (GPA_MMIO + 0x400), 0xdead000000000002,	\
	  0, 1, 2, 0xffffffff, 0, 0)					\
	X(movsb_rep_ram_mmio, 1, STR_RAM, STR_MMIO, STR_RAM_SRC,	\
	  GPA_MMIO + 0x500, 3, 0, 1, 3, ~0ull, 0, 0)			\
	X(movsl_rep_mmio_ram_df, 4, STR_MMIO, STR_RAM, GPA_MMIO + 0x608, \
	  STR_RAM_DST + 4, 2, 1, 1, 2, ~0ull, 0, 0)			\
	X(movsq_rep_mmio_mmio, 8, STR_MMIO, STR_MMIO, GPA_MMIO + 0x700,	\
	  GPA_MMIO + 0x800, 2, 0, 1, 2, ~0ull, 0, 0)			\
	X(movsw_ram_mmio_df, 2, STR_RAM, STR_MMIO, STR_RAM_SRC + 0x10,	\
	  GPA_MMIO + 0x900, 0x55, 1, 0, 1, ~0ull, 0, 0)			\
	X(movsb_mmio_ram, 1, STR_MMIO, STR_RAM, GPA_MMIO + 0xa00,	\
	  STR_RAM_DST + 0x20, 0, 0, 0, 1, ~0ull, 0, 0)
STR_CASES64(STR_DECLARE_LABELS)

extern const char movs_fault_insn[];
extern const char ss_stos_insn[], ss_stos_next[];

/* Guest code. */

#define INSN(c)	".globl " #c "_insn, " #c "_next\n" #c "_insn:\t"
#define NEXT(c)	"\n" #c "_next:\toutl %%eax, %[mark]"
#define MARK	[mark] "i"(MARK_PORT)

#define STR_CONSTS(c, size, src, dst, rsi, rdi, rcx, df, rep, n, mask, sb, db) \
	static const uint64_t rsi_##c = rsi, rdi_##c = rdi, rcx_##c = rcx;
STR_CASES64(STR_CONSTS)

/* Case c: registers from the table, DF by dfop ("std"/"cld"), then text. */
#define STR64(c, dfop, text)						\
	do {								\
		uint64_t si = rsi_##c, di = rdi_##c, cx = rcx_##c;	\
									\
		asm volatile(dfop "\n\t" INSN(c) text NEXT(c) "\n\tcld"	\
			     : "+S"(si), "+D"(di), "+c"(cx)		\
			     : "a"(STR_RAX), MARK : "memory", "cc");	\
	} while (0)

/* In the order of STR_CASES64. */
GUEST_CODE
void guest_mmio_string64(uint64_t unused)
{
	uint64_t di, cx, di_ram, cx_ram;

	(void)unused;
	STR64(stosb_rep, "cld", "rep stosb");
	STR64(stosq_rep_df, "std", "rep stosq");
	STR64(stosw, "cld", "stosw");

	/*
	 * 67 prefix: EDI and ECX count, whatever RDI and RCX hold above.
	 * Then the same on RAM: the upper halves must end up the same.
	 */
	di = rdi_stosl_rep_addr32;
	cx = rcx_stosl_rep_addr32;
	asm volatile("cld\n\t" INSN(stosl_rep_addr32) "addr32 rep stosl"
		     NEXT(stosl_rep_addr32)
		     : "+D"(di), "+c"(cx)
		     : "a"(STR_RAX), "S"(rsi_stosl_rep_addr32), MARK
		     : "memory");
	di_ram = 0xffffffff00000000 | (STR_RAM_DST + 0x80);
	cx_ram = rcx_stosl_rep_addr32;
	asm volatile("addr32 rep stosl"
		     : "+D"(di_ram), "+c"(cx_ram) : "a"(STR_RAX) : "memory");
	GUEST_ASSERT_EQ(di_ram >> 32, di >> 32);
	GUEST_ASSERT_EQ(cx_ram >> 32, cx >> 32);
	GUEST_ASSERT_EQ((uint32_t)(STR_RAM_DST + 0x88), (uint32_t)di_ram);

	STR64(movsb_rep_ram_mmio, "cld", "rep movsb");
	STR64(movsl_rep_mmio_ram_df, "std", "rep movsl");
	STR64(movsq_rep_mmio_mmio, "cld", "rep movsq");
	STR64(movsw_ram_mmio_df, "std", "movsw");
	STR64(movsb_mmio_ram, "cld", "movsb");
	GUEST_DONE();
}

/*
 * RFLAGS.TF set, then REP STOSB of two bytes at dst (RAM or MMIO): the
 * single-step trap ends the guest (UCALL_UNHANDLED) and reports where.
 *
 * The RAM pages the instruction needs (the RAM destination, the page
 * directory mapping GPA_MMIO) are touched first, so that the only exits
 * under TF are MMIO ones: Bochs 2.7 wrongly keeps the trap it scheduled
 * for an instruction as a pending debug exception across a fault-like
 * exit (an EPT violation that hvx resolves by mapping RAM) and delivers
 * it on re-entry, before the instruction (see mmio_alu_test.c).
 */
GUEST_CODE
void guest_string_single_step(uint64_t dst)
{
	uint64_t cx = 2;

	*(volatile uint8_t *)STR_RAM_DST = 0;
	(void)*(volatile uint64_t *)(GPA_PD + 0x1000);
	asm volatile("pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n"
		     ".globl ss_stos_insn, ss_stos_next\n"
		     "ss_stos_insn:\trep stosb\n"
		     "ss_stos_next:\tnop"
		     : "+D"(dst), "+c"(cx) : "a"(0x5a) : "memory", "cc");
	GUEST_DONE();
}

/*
 * MOVSB from MMIO to a linear address whose page is not present: the
 * #PF must come before the MMIO read (it ends the guest, UCALL_UNHANDLED).
 */
GUEST_CODE
void guest_string_movs_fault(uint64_t unused)
{
	volatile uint64_t *pde = (volatile uint64_t *)GPA_PD + (STR_NP_LA >> 21);
	uint64_t si = GPA_MMIO, di = STR_NP_LA;

	(void)unused;
	*pde &= ~PTE_PRESENT;
	asm volatile("invlpg (%0)" : : "r"(di) : "memory");
	asm volatile("cld\n"
		     ".globl movs_fault_insn\n"
		     "movs_fault_insn:\tmovsb"
		     : "+S"(si), "+D"(di) : : "memory");
	GUEST_DONE();
}

/* Host code. */

struct str_case {
	const char *name, *insn, *next;
	uint32_t size, src, dst;
	uint64_t rsi, rdi, rcx;
	bool df, rep;
	uint32_t n;			/* elements */
	uint64_t mask;			/* address size */
	uint64_t src_base, dst_base;	/* segment bases */
};

#define STR_CASE(c, size, src, dst, rsi, rdi, rcx, df, rep, n, mask, sb, db) \
	{ #c, c##_insn, c##_next, size, src, dst, rsi, rdi, rcx, df, rep, \
	  n, mask, sb, db },

static const struct str_case cases64[] = { STR_CASES64(STR_CASE) };
static const struct str_case cases32[] = { STR_CASES32(STR_CASE) };
static const struct str_case cases16[] = { STR_CASES16(STR_CASE) };

#define MAX_ELEMENTS	4

static uint64_t size_mask(uint32_t size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* A register written in the address size (32-bit writes zero-extend). */
static uint64_t addr_update(uint64_t old, uint64_t val, uint64_t mask)
{
	if (mask == 0xffffffff)
		return (uint32_t)val;
	return (old & ~mask) | (val & mask);
}

/* Byte i of the host's pattern in STR_RAM_SRC. */
static uint8_t src_pattern(unsigned int i)
{
	return 0xa0 ^ (i * 7);
}

static void fill_sources(struct vm *vm)
{
	uint8_t *p = vm_gpa2hva(vm, STR_RAM_SRC, STR_RAM_SIZE);

	for (unsigned int i = 0; i < STR_RAM_SIZE; i++)
		p[i] = src_pattern(i);
	memset(vm_gpa2hva(vm, STR_RAM_DST, STR_RAM_SIZE), 0, STR_RAM_SIZE);
}

/*
 * Run the cases in order (RIP of a label as in mmio_test: label - start +
 * rip_base, or the label itself when start is NULL). Registers are
 * compared under reg_mask (16/32-bit code: the low half).
 */
static void run_str_cases(struct __test_metadata *_metadata,
			  struct vcpu *vcpu, const struct str_case *cases,
			  unsigned int n, const char *start, uint64_t rip_base,
			  uint64_t reg_mask)
{
	struct hvx_run *run = vcpu->run;
	struct hvx_regs regs;

#define RIP_OF(l) (start ? (uint64_t)((l) - start) + rip_base : (uint64_t)(l))
	for (unsigned int k = 0; k < n; k++) {
		const struct str_case *c = &cases[k];
		uint64_t rsi = c->rsi, rdi = c->rdi, rcx = c->rcx;
		uint64_t step = c->df ? -(uint64_t)c->size : c->size;
		uint64_t ram_la[MAX_ELEMENTS], ram_data[MAX_ELEMENTS];
		unsigned int nram = 0;

		ASSERT_GE(MAX_ELEMENTS, c->n);
		for (unsigned int i = 0; i < c->n; i++) {
			uint64_t src_la = c->src_base + (rsi & c->mask);
			uint64_t dst_la = c->dst_base + (rdi & c->mask);
			uint64_t data = 0, got = 0;

			vcpu_run(vcpu);
			ASSERT_EXIT_MSG(HVX_EXIT_MMIO, vcpu, " (case %s element %u)",
					c->name, i);
			vcpu_get_regs(vcpu, &regs);
			ASSERT_EQ(RIP_OF(c->insn), regs.rip)
				TH_LOG("case %s element %u", c->name, i);
			ASSERT_EQ(rsi & reg_mask, regs.rsi & reg_mask)
				TH_LOG("case %s element %u: RSI", c->name, i);
			ASSERT_EQ(rdi & reg_mask, regs.rdi & reg_mask)
				TH_LOG("case %s element %u: RDI", c->name, i);
			ASSERT_EQ(rcx & reg_mask, regs.rcx & reg_mask)
				TH_LOG("case %s element %u: RCX", c->name, i);

			if (c->src == STR_MMIO) {
				ASSERT_EQ(src_la, run->mmio.phys_addr)
					TH_LOG("case %s element %u: %s", c->name,
					       i, vcpu_exit_str(vcpu));
				ASSERT_EQ(c->size, run->mmio.len);
				ASSERT_EQ(0, run->mmio.is_write)
					TH_LOG("case %s element %u", c->name, i);
				data = STR_RD + i;
				memcpy(run->mmio.data, &data, sizeof(data));
				if (c->dst == STR_MMIO) {
					vcpu_run(vcpu);
					ASSERT_EXIT_MSG(HVX_EXIT_MMIO, vcpu,
							" (case %s element %u)",
							c->name, i);
					ASSERT_EQ(RIP_OF(c->insn),
						  vcpu_get_rip(vcpu));
				}
			} else if (c->src == STR_RAM) {
				memcpy(&data, vm_gpa2hva(vcpu->vm, src_la, c->size),
				       c->size);
			} else {
				data = STR_RAX;
			}
			data &= size_mask(c->size);

			if (c->dst == STR_MMIO) {
				ASSERT_EQ(dst_la, run->mmio.phys_addr)
					TH_LOG("case %s element %u: %s", c->name,
					       i, vcpu_exit_str(vcpu));
				ASSERT_EQ(c->size, run->mmio.len);
				ASSERT_EQ(1, run->mmio.is_write)
					TH_LOG("case %s element %u", c->name, i);
				memcpy(&got, run->mmio.data, c->size);
				ASSERT_EQ(data, got)
					TH_LOG("case %s element %u: data", c->name, i);
			} else {
				ram_la[nram] = dst_la;
				ram_data[nram++] = data;
			}

			if (c->src != STR_NONE)
				rsi = addr_update(rsi, rsi + step, c->mask);
			rdi = addr_update(rdi, rdi + step, c->mask);
			if (c->rep)
				rcx = addr_update(rcx, rcx - 1, c->mask);
		}

		/* All elements done: the guest is past the instruction. */
		vcpu_run(vcpu);
		ASSERT_EXIT_MSG(HVX_EXIT_IO, vcpu, " (case %s)", c->name);
		ASSERT_EQ(MARK_PORT, run->io.port)
			TH_LOG("case %s: %s", c->name, vcpu_exit_str(vcpu));
		vcpu_get_regs(vcpu, &regs);
		ASSERT_EQ(RIP_OF(c->next), regs.rip) TH_LOG("case %s", c->name);
		ASSERT_EQ(rsi & reg_mask, regs.rsi & reg_mask)
			TH_LOG("case %s: final RSI", c->name);
		ASSERT_EQ(rdi & reg_mask, regs.rdi & reg_mask)
			TH_LOG("case %s: final RDI", c->name);
		ASSERT_EQ(rcx & reg_mask, regs.rcx & reg_mask)
			TH_LOG("case %s: final RCX", c->name);
		for (unsigned int i = 0; i < nram; i++) {
			uint64_t got = 0;

			memcpy(&got, vm_gpa2hva(vcpu->vm, ram_la[i], c->size),
			       c->size);
			ASSERT_EQ(ram_data[i], got)
				TH_LOG("case %s: RAM at 0x%llx", c->name,
				       (unsigned long long)ram_la[i]);
		}
	}
#undef RIP_OF
}

TEST(string_64bit)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mmio_string64, 0);
	fill_sources(vm);
	run_str_cases(_metadata, vcpu, cases64, ARRAY_SIZE(cases64), NULL, 0,
		      ~0ull);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(string_32bit)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	fill_sources(vm);
	vm_load_blob(vm, GPA_BLOB, str32_start, str32_end);
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	run_str_cases(_metadata, vcpu, cases32, ARRAY_SIZE(cases32),
		      str32_start, GPA_BLOB, 0xffffffff);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(string_16bit_real_mode)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	fill_sources(vm);
	vm_load_blob(vm, GPA_BLOB, str16_start, str16_end);
	vcpu_setup_real(vcpu, GPA_BLOB);
	run_str_cases(_metadata, vcpu, cases16, ARRAY_SIZE(cases16),
		      str16_start, 0, 0xffffffff);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* RIP of the #DB that ends guest_string_single_step(dst). */
static uint64_t single_step_rip(struct __test_metadata *_metadata,
				struct vcpu *vcpu)
{
	struct ucall uc;

	ASSERT_EQ(0, __vcpu_run(vcpu)) TH_LOG("%s", vcpu_exit_str(vcpu));
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc))
		TH_LOG("%s", vcpu_exit_str(vcpu));
	ASSERT_EQ(1, uc.args[0])	/* #DB */ TH_LOG("%s", ucall_str(vcpu, &uc));
	return uc.args[2];
}

TEST(string_rep_single_step)
{
	struct hvx_run *run;
	struct vcpu *vcpu;
	uint64_t native;
	struct vm *vm;

	REQUIRE_VMX();
	/* On RAM, the CPU alone. */
	vcpu = vm_create_long(&vm, guest_string_single_step, STR_RAM_DST);
	native = single_step_rip(_metadata, vcpu);
	ASSERT_EQ((uint64_t)ss_stos_insn, native)
		TH_LOG("the CPU traps after each iteration, on the instruction");
	vm_free(vm);

	/* On MMIO: one element, then the same trap. */
	vcpu = vm_create_long(&vm, guest_string_single_step, GPA_MMIO);
	run = vcpu->run;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(GPA_MMIO, run->mmio.phys_addr);
	ASSERT_EQ(1, run->mmio.is_write);
	ASSERT_EQ(native, single_step_rip(_metadata, vcpu));
	vm_free(vm);
}

TEST(string_movs_fault_before_mmio)
{
	struct hvx_sregs sregs;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_string_movs_fault, 0);
	vcpu_run(vcpu);
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc))
		TH_LOG("expected #PF before any MMIO access, got %s",
		       vcpu_exit_str(vcpu));
	ASSERT_EQ(X86_VEC_PF, uc.args[0]) TH_LOG("%s", ucall_str(vcpu, &uc));
	ASSERT_EQ(2, uc.args[1]);		/* write, not present */
	ASSERT_EQ((uint64_t)movs_fault_insn, uc.args[2]);
	vcpu_get_sregs(vcpu, &sregs);
	ASSERT_EQ(STR_NP_LA, sregs.cr2);
	vm_free(vm);
}

TEST_HARNESS_MAIN
