// SPDX-License-Identifier: GPL-2.0
/*
 * mmio_test - accesses to guest-physical addresses outside every memory
 * slot exit to userspace as HVX_EXIT_MMIO; the kernel decodes MOV (88-8B,
 * C6/C7, A0-A3) and MOVZX (0F B6/B7) in 64-, 32- and 16-bit code. For a
 * read, the data userspace supplies lands in the destination register (with
 * the x86 rules for which bits change) and the guest continues at the next
 * instruction. Also: read-only slots, #UD for
 * instructions hvx does not emulate, and what hvx remembers between MMIO
 * exits (a page's lack of a slot, the instruction's fetch and decode)
 * against slot changes and a guest that rewrites the instruction.
 * mmio_alu_test and mmio_string_test cover the other emulated forms.
 */
#include <sys/mman.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "mmio_guest.h"

/* A read-only RAM slot (HVX_MEM_READONLY), and what it holds. */
#define RO_GPA		0x30000000
#define RO_SIZE		0x10000
#define RO_PATTERN	0x5aa5c33c
#define RO_WRITE	0x12345678

/* The 64-bit cases (see mmio_guest.h), in guest_mmio64() below. */
#define MMIO_CASES64(X)							\
	X(rd8) X(rd16) X(rd32_sib) X(rd64_abs) X(movzb32) X(movzw64)	\
	X(movzb16) X(moffs_rd8) X(moffs_rd64) X(riprel_rd32) X(rd8_dil)	\
	X(rd8_bh) X(rd32_addr32)					\
	X(wr8) X(wr16) X(wr32_sib) X(wr64) X(wr_imm8) X(wr_imm16)	\
	X(wr_imm32) X(wr_imm64) X(moffs_wr32) X(moffs_wr8) X(wr8_bh)	\
	X(wr_imm8_disp32) X(riprel_wr_imm16)
MMIO_CASES64(MMIO_DECLARE_LABELS)

extern const char unsupported_imul[], unsupported_bt[], unsupported_neg[],
		  unsupported_end[];
extern const char ro_write_insn[], ro_write_next[];
extern const char rewrite_insn[];

/* A page that is MMIO, then RAM (a slot), then MMIO again. */
#define SC_GPA		(GPA_MMIO + 0x100000)
#define SC_SLOT		2

/* Guest code. */

/* "<c>_insn: <instruction>" then "<c>_next: out %eax, MARK_PORT" */
#define INSN(c)	".globl " #c "_insn, " #c "_next\n" #c "_insn:\t"
#define NEXT(c)	"\n" #c "_next:\toutl %%eax, %[mark]"
#define MARK	[mark] "i"(MARK_PORT)
#define P	[p] "S"((uint64_t)GPA_MMIO)

#define LOW_BYTE(v)	((MMIO_PRE & ~0xffull) | ((v) & 0xff))
#define LOW_WORD(v)	((MMIO_PRE & ~0xffffull) | ((v) & 0xffff))

/*
 * The case order here is the order of the host's table. Each read is
 * checked here too: which bits of the destination changed, and that the
 * guest carried on after the instruction.
 */
GUEST_CODE
void guest_mmio64(uint64_t unused)
{
	register uint64_t r9 asm("r9");
	register uint64_t r10 asm("r10");
	register uint64_t r11 asm("r11");
	uint64_t a, b, c, d;

	(void)unused;
	/* Loads: MOV r, r/m (8A/8B), MOVZX (0F B6/B7), MOV moffs (A0/A1). */
	b = MMIO_PRE;
	asm volatile(INSN(rd8) "movb (%[p]), %%bl" NEXT(rd8)
		     : "+b"(b) : P, MARK : "memory");
	GUEST_ASSERT_EQ(LOW_BYTE(MMIO_RD_DATA), b);

	c = MMIO_PRE;
	asm volatile(INSN(rd16) "movw 2(%[p]), %%cx" NEXT(rd16)
		     : "+c"(c) : P, MARK : "memory");
	GUEST_ASSERT_EQ(LOW_WORD(MMIO_RD_DATA), c);

	r9 = MMIO_PRE;
	asm volatile(INSN(rd32_sib) "movl 4(%[p],%%rdx,8), %%r9d" NEXT(rd32_sib)
		     : "+r"(r9) : P, "d"(1), MARK : "memory");
	GUEST_ASSERT_EQ((uint32_t)MMIO_RD_DATA, r9);	/* zero-extended */

	r10 = MMIO_PRE;
	asm volatile(INSN(rd64_abs) "movq %c[a], %%r10" NEXT(rd64_abs)
		     : "+r"(r10) : [a] "i"(GPA_MMIO + 0x10), MARK : "memory");
	GUEST_ASSERT_EQ(MMIO_RD_DATA, r10);

	d = MMIO_PRE;
	asm volatile(INSN(movzb32) "movzbl (%[p]), %%edx" NEXT(movzb32)
		     : "+d"(d) : P, MARK : "memory");
	GUEST_ASSERT_EQ(MMIO_RD_DATA & 0xff, d);

	r11 = MMIO_PRE;
	asm volatile(INSN(movzw64) "movzwq 6(%[p]), %%r11" NEXT(movzw64)
		     : "+r"(r11) : P, MARK : "memory");
	GUEST_ASSERT_EQ(MMIO_RD_DATA & 0xffff, r11);

	a = MMIO_PRE;	/* 16-bit destination: bits 63:16 stay */
	asm volatile(INSN(movzb16) "movzbw (%[p]), %%ax" NEXT(movzb16)
		     : "+a"(a) : P, MARK : "memory");
	GUEST_ASSERT_EQ(LOW_WORD(MMIO_RD_DATA & 0xff), a);

	a = MMIO_PRE;
	asm volatile(INSN(moffs_rd8) "movabsb %c[a], %%al" NEXT(moffs_rd8)
		     : "+a"(a) : [a] "i"(GPA_MMIO + 0x20), MARK : "memory");
	GUEST_ASSERT_EQ(LOW_BYTE(MMIO_RD_DATA), a);

	a = MMIO_PRE;
	asm volatile(INSN(moffs_rd64) "movabsq %c[a], %%rax" NEXT(moffs_rd64)
		     : "+a"(a) : [a] "i"(GPA_MMIO + 0x28), MARK : "memory");
	GUEST_ASSERT_EQ(MMIO_RD_DATA, a);

	b = MMIO_PRE;
	asm volatile(INSN(riprel_rd32) "movl guest_mmio_riprel(%%rip), %%ebx"
		     NEXT(riprel_rd32) : "+b"(b) : MARK : "memory");
	GUEST_ASSERT_EQ((uint32_t)MMIO_RD_DATA, b);

	/* With a REX prefix, reg 7 of a byte op is DIL (without: BH). */
	d = MMIO_PRE;
	asm volatile(INSN(rd8_dil) "movb (%[p]), %%dil" NEXT(rd8_dil)
		     : "+D"(d) : P, MARK : "memory");
	GUEST_ASSERT_EQ(LOW_BYTE(MMIO_RD_DATA), d);

	b = MMIO_PRE;
	asm volatile(INSN(rd8_bh) "movb 1(%[p]), %%bh" NEXT(rd8_bh)
		     : "+b"(b) : P, MARK : "memory");
	GUEST_ASSERT_EQ((MMIO_PRE & ~0xff00ull) | (MMIO_RD_DATA & 0xff) << 8, b);

	/* Address-size prefix: (%esi) ignores RSI's upper half. */
	b = MMIO_PRE;
	asm volatile(INSN(rd32_addr32) "movl 0x40(%%esi), %%ebx"
		     NEXT(rd32_addr32)
		     : "+b"(b) : "S"(0xffffffff00000000ull | GPA_MMIO), MARK
		     : "memory");
	GUEST_ASSERT_EQ((uint32_t)MMIO_RD_DATA, b);

	/* Stores: MOV r/m, r (88/89), MOV r/m, imm (C6/C7), moffs (A2/A3). */
	asm volatile(INSN(wr8) "movb %%bl, (%[p])" NEXT(wr8)
		     : : "b"(MMIO_WR8), P, MARK : "memory");
	asm volatile(INSN(wr16) "movw %%cx, 2(%[p])" NEXT(wr16)
		     : : "c"(MMIO_WR16), P, MARK : "memory");
	r9 = MMIO_WR32;
	asm volatile(INSN(wr32_sib) "movl %%r9d, (%[p],%%rdx,4)" NEXT(wr32_sib)
		     : : "r"(r9), "d"(3), P, MARK : "memory");
	r10 = MMIO_WR64;
	asm volatile(INSN(wr64) "movq %%r10, 8(%[p])" NEXT(wr64)
		     : : "r"(r10), P, MARK : "memory");
	asm volatile(INSN(wr_imm8) "movb %[v], 16(%[p])" NEXT(wr_imm8)
		     : : [v] "i"(MMIO_IMM8), P, MARK : "memory");
	asm volatile(INSN(wr_imm16) "movw %[v], 18(%[p])" NEXT(wr_imm16)
		     : : [v] "i"(MMIO_IMM16), P, MARK : "memory");
	asm volatile(INSN(wr_imm32) "movl %[v], 20(%[p])" NEXT(wr_imm32)
		     : : [v] "i"(MMIO_IMM32), P, MARK : "memory");
	/* imm32 sign-extended to 64 bits */
	asm volatile(INSN(wr_imm64) "movq $-2, 24(%[p])" NEXT(wr_imm64)
		     : : P, MARK : "memory");
	asm volatile(INSN(moffs_wr32) "movabsl %%eax, %c[a]" NEXT(moffs_wr32)
		     : : "a"(MMIO_WR32), [a] "i"(GPA_MMIO + 0x40), MARK
		     : "memory");
	asm volatile(INSN(moffs_wr8) "movabsb %%al, %c[a]" NEXT(moffs_wr8)
		     : : "a"(MMIO_WR8), [a] "i"(GPA_MMIO + 0x48), MARK
		     : "memory");
	asm volatile(INSN(wr8_bh) "movb %%bh, 5(%[p])" NEXT(wr8_bh)
		     : : "b"(MMIO_WR_BH << 8), P, MARK : "memory");
	asm volatile(INSN(wr_imm8_disp32) "movb %[v], 0x1000(%[p])"
		     NEXT(wr_imm8_disp32)
		     : : [v] "i"(MMIO_IMM8), P, MARK : "memory");
	/* RIP-relative with an immediate after the displacement. */
	asm volatile(INSN(riprel_wr_imm16) "movw %[v], guest_mmio_riprel(%%rip)"
		     NEXT(riprel_wr_imm16)
		     : : [v] "i"(MMIO_IMM16), MARK : "memory");
	GUEST_DONE();
}

/* Reads of a read-only slot are plain memory reads; a write is an MMIO
 * exit and leaves the memory as it was. */
GUEST_CODE
void guest_readonly(uint64_t unused)
{
	volatile uint32_t *p = (volatile uint32_t *)RO_GPA;

	(void)unused;
	GUEST_ASSERT_EQ(RO_PATTERN, p[0]);
	GUEST_ASSERT_EQ(RO_PATTERN, p[RO_SIZE / 4 - 1]);
	asm volatile(INSN(ro_write) "movl %[v], (%[p])" NEXT(ro_write)
		     : : [v] "r"(RO_WRITE), [p] "r"(p), MARK : "memory");
	GUEST_ASSERT_EQ(RO_PATTERN, p[0]);
	GUEST_DONE();
}

/*
 * Memory forms hvx does not emulate on MMIO: IMUL r, m (0F AF) and NEG m
 * (F7 /3, in the group whose /0 TEST is emulated) raise #UD, reported by
 * GUEST_SYNC(vector); between them BT m, imm (0F BA /4), emulated, reads
 * GPA_MMIO and reports CF.
 */
GUEST_CODE
void guest_mmio_unsupported(uint64_t unused)
{
	uint8_t cf;

	(void)unused;
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n"
		     ".globl unsupported_imul\n"
		     "unsupported_imul:\timull (%[p]), %%eax\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : [p] "r"(GPA_MMIO)
		     : "rax", "memory", "cc");
	GUEST_SYNC(guest_fixup_vector);
	asm volatile(".globl unsupported_bt\n"
		     "unsupported_bt:\tbtl $3, (%[p])\n\t"
		     "setc %[cf]"
		     : [cf] "=r"(cf) : [p] "r"(GPA_MMIO) : "memory", "cc");
	GUEST_SYNC(cf);
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n"
		     ".globl unsupported_neg\nunsupported_neg:\tnegl (%[p])\n"
		     "1:\tmovq $0, %[fix]\n"
		     ".globl unsupported_end\nunsupported_end:"
		     : [fix] "=m"(guest_fixup_rip) : [p] "r"(GPA_MMIO)
		     : "memory", "cc");
	GUEST_SYNC(guest_fixup_vector);
	GUEST_DONE();
}

/* Loads from SC_GPA at one RIP, each value reported by GUEST_SYNC. */
GUEST_CODE
void guest_slot_change(uint64_t unused)
{
	volatile uint32_t *p = (volatile uint32_t *)SC_GPA;

	(void)unused;
	for (;;)
		GUEST_SYNC(*p);
}

/*
 * One instruction at one RIP on GPA_MMIO: "movl (%rsi), %ebx" (8B 1E),
 * or, once the guest patched its opcode, "movl %ebx, (%rsi)" (89 1E).
 */
GUEST_CODE __attribute__((noinline, noclone))
uint32_t guest_rewrite_access(uint32_t v)
{
	asm volatile(".globl rewrite_insn\nrewrite_insn:\tmovl (%%rsi), %%ebx"
		     : "+b"(v) : "S"((uint64_t)GPA_MMIO) : "memory");
	return v;
}

/* Load, load, patch to a store, store, store, patch back, load. */
GUEST_CODE
void guest_rewrite(uint64_t unused)
{
	volatile uint8_t *op = (volatile uint8_t *)rewrite_insn;

	(void)unused;
	GUEST_SYNC(guest_rewrite_access(0));
	GUEST_SYNC(guest_rewrite_access(0));
	*op = 0x89;
	guest_rewrite_access(0x5151);
	guest_rewrite_access(0x5252);
	*op = 0x8b;
	GUEST_SYNC(guest_rewrite_access(0));
	GUEST_DONE();
}

/* Host code. */

/* Index of a register in struct hvx_regs seen as __u64[]. */
enum { RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP, R8, R9, R10, R11, NOREG = -1 };

struct mmio_case {
	const char *name, *insn, *next;
	bool write;
	uint32_t len;
	uint64_t gpa;
	uint64_t data;		/* write: what the guest stores */
	int reg;		/* read: destination register */
	uint64_t reg_after;	/* read: its value after the load */
};

#define RD(c, gpa, len, reg, after) \
	{ #c, c##_insn, c##_next, false, len, gpa, 0, reg, after }
#define WR(c, gpa, len, data) \
	{ #c, c##_insn, c##_next, true, len, gpa, data, NOREG, 0 }

#define M		GPA_MMIO
#define LOW_BYTE(v)	((MMIO_PRE & ~0xffull) | ((v) & 0xff))
#define LOW_WORD(v)	((MMIO_PRE & ~0xffffull) | ((v) & 0xffff))
#define D32		((uint32_t)MMIO_RD_DATA)

static const struct mmio_case cases64[] = {
	RD(rd8, M, 1, RBX, LOW_BYTE(MMIO_RD_DATA)),
	RD(rd16, M + 2, 2, RCX, LOW_WORD(MMIO_RD_DATA)),
	RD(rd32_sib, M + 12, 4, R9, D32),
	RD(rd64_abs, M + 0x10, 8, R10, MMIO_RD_DATA),
	RD(movzb32, M, 1, RDX, MMIO_RD_DATA & 0xff),
	RD(movzw64, M + 6, 2, R11, MMIO_RD_DATA & 0xffff),
	RD(movzb16, M, 1, RAX, LOW_WORD(MMIO_RD_DATA & 0xff)),
	RD(moffs_rd8, M + 0x20, 1, RAX, LOW_BYTE(MMIO_RD_DATA)),
	RD(moffs_rd64, M + 0x28, 8, RAX, MMIO_RD_DATA),
	RD(riprel_rd32, MMIO_RIPREL_GPA, 4, RBX, D32),
	RD(rd8_dil, M, 1, RDI, LOW_BYTE(MMIO_RD_DATA)),
	RD(rd8_bh, M + 1, 1, RBX,
	   (MMIO_PRE & ~0xff00ull) | (MMIO_RD_DATA & 0xff) << 8),
	RD(rd32_addr32, M + 0x40, 4, RBX, D32),
	WR(wr8, M, 1, MMIO_WR8),
	WR(wr16, M + 2, 2, MMIO_WR16),
	WR(wr32_sib, M + 12, 4, MMIO_WR32),
	WR(wr64, M + 8, 8, MMIO_WR64),
	WR(wr_imm8, M + 16, 1, MMIO_IMM8),
	WR(wr_imm16, M + 18, 2, MMIO_IMM16),
	WR(wr_imm32, M + 20, 4, MMIO_IMM32),
	WR(wr_imm64, M + 24, 8, (uint64_t)-2),
	WR(moffs_wr32, M + 0x40, 4, MMIO_WR32),
	WR(moffs_wr8, M + 0x48, 1, MMIO_WR8),
	WR(wr8_bh, M + 5, 1, MMIO_WR_BH),
	WR(wr_imm8_disp32, M + 0x1000, 1, MMIO_IMM8),
	WR(riprel_wr_imm16, MMIO_RIPREL_GPA, 2, MMIO_IMM16),
};

/* 16/32-bit code: only the low 32 bits of a register are compared. */
#define PRE32_BYTE(v)	((MMIO_PRE32 & ~0xffu) | ((v) & 0xff))
#define PRE32_WORD(v)	((MMIO_PRE32 & ~0xffffu) | ((v) & 0xffff))

static const struct mmio_case cases32[] = {
	WR(p32_wr_imm32, M, 4, MMIO_IMM32),
	WR(p32_wr16, M + 4, 2, MMIO_WR16),
	RD(p32_movzb, M + 8, 1, RBX, MMIO_RD_DATA & 0xff),
	RD(p32_rd32_sib, M + 12, 4, RDX, D32),
	RD(p32_moffs_rd8, M + 0x10, 1, RAX, PRE32_BYTE(MMIO_RD_DATA)),
	RD(p32_rd16, M + 0x14, 2, RDX, PRE32_WORD(MMIO_RD_DATA)),
};

static const struct mmio_case cases16[] = {
	WR(r16_wr_imm16, GPA_VGA, 2, 0x0741),
	WR(r16_moffs_wr8, GPA_VGA + 0x10, 1, MMIO_WR8),
	RD(r16_rd32, GPA_VGA + 4, 4, RCX, D32),
	RD(r16_movzb, GPA_VGA + 0x20, 1, RDX, MMIO_RD_DATA & 0xff),
	RD(r16_rd16_addr32, GPA_VGA + 0x30, 2, RDX, PRE32_WORD(MMIO_RD_DATA)),
	RD(r16_rd8_bp, GPA_VGA + 2, 1, RBX, PRE32_BYTE(MMIO_RD_DATA)),
};

/*
 * Run cases in order. RIP of a label: label - start + rip_base (the blobs
 * run at GPA_BLOB, with CS base 0 in 32-bit mode and GPA_BLOB in real mode);
 * start = NULL for code running where it was linked.
 */
static void run_cases(struct __test_metadata *_metadata, struct vcpu *vcpu,
		      const struct mmio_case *cases, unsigned int n,
		      const char *start, uint64_t rip_base, uint64_t reg_mask)
{
	struct hvx_run *run = vcpu->run;
	struct hvx_regs regs;

#define RIP_OF(l) (start ? (uint64_t)((l) - start) + rip_base : (uint64_t)(l))
	for (unsigned int i = 0; i < n; i++) {
		const struct mmio_case *c = &cases[i];
		uint64_t data = 0, rd = MMIO_RD_DATA;

		vcpu_run(vcpu);
		ASSERT_EXIT_MSG(HVX_EXIT_MMIO, vcpu, " (case %s)", c->name);
		ASSERT_EQ(c->gpa, run->mmio.phys_addr) TH_LOG("case %s", c->name);
		ASSERT_EQ(c->len, run->mmio.len) TH_LOG("case %s", c->name);
		ASSERT_EQ(c->write, run->mmio.is_write) TH_LOG("case %s", c->name);
		if (c->write) {
			memcpy(&data, run->mmio.data, c->len);
			ASSERT_EQ(c->data, data) TH_LOG("case %s", c->name);
		} else {
			/* Not completed yet: RIP still at the load. */
			ASSERT_EQ(RIP_OF(c->insn), vcpu_get_rip(vcpu))
				TH_LOG("case %s", c->name);
			memcpy(run->mmio.data, &rd, sizeof(rd));
		}

		/* Completed, and the guest went on to the very next one. */
		vcpu_run(vcpu);
		ASSERT_EXIT_MSG(HVX_EXIT_IO, vcpu, " (case %s)", c->name);
		ASSERT_EQ(MARK_PORT, run->io.port)
			TH_LOG("case %s: %s", c->name, vcpu_exit_str(vcpu));
		vcpu_get_regs(vcpu, &regs);
		ASSERT_EQ(RIP_OF(c->next), regs.rip) TH_LOG("case %s", c->name);
		if (!c->write) {
			uint64_t got = ((uint64_t *)&regs)[c->reg];

			ASSERT_EQ(c->reg_after & reg_mask, got & reg_mask)
				TH_LOG("case %s: destination register", c->name);
		}
	}
#undef RIP_OF
}

TEST(mmio_64bit)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mmio64, 0);
	run_cases(_metadata, vcpu, cases64, ARRAY_SIZE(cases64), NULL, 0, ~0ull);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(mmio_32bit)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, mmio32_start, mmio32_end);
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	run_cases(_metadata, vcpu, cases32, ARRAY_SIZE(cases32), mmio32_start,
		  GPA_BLOB, 0xffffffff);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(mmio_16bit_real_mode)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, mmio16_start, mmio16_end);
	vcpu_setup_real(vcpu, GPA_BLOB);
	run_cases(_metadata, vcpu, cases16, ARRAY_SIZE(cases16), mmio16_start,
		  0, 0xffffffff);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(readonly_slot)
{
	struct hvx_run *run;
	struct vcpu *vcpu;
	uint32_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	mem = mmap(NULL, RO_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	for (unsigned int i = 0; i < RO_SIZE / 4; i++)
		mem[i] = RO_PATTERN;
	vcpu = vm_create_long(&vm, guest_readonly, 0);
	run = vcpu->run;
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 2, HVX_MEM_READONLY,
					    RO_GPA, RO_SIZE, mem))
		TH_LOG("HVX_SET_MEMORY_REGION: %s", strerrorname_np(errno));

	/* The reads before it are not exits; the write is. */
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(RO_GPA, run->mmio.phys_addr);
	ASSERT_EQ(4, run->mmio.len);
	ASSERT_EQ(1, run->mmio.is_write);
	ASSERT_EQ(RO_WRITE, *(uint32_t *)run->mmio.data);

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	ASSERT_EQ(MARK_PORT, run->io.port) TH_LOG("%s", vcpu_exit_str(vcpu));
	ASSERT_EQ((uint64_t)ro_write_next, vcpu_get_rip(vcpu));
	ASSERT_EQ(RO_PATTERN, mem[0]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/*
 * An instruction hvx does not emulate on MMIO raises #UD in the guest
 * (it used to stop the VM with HVX_INTERNAL_EMULATION): no MMIO exit for
 * IMUL r, m and NEG m; BT m, imm between them is emulated (one read).
 */
TEST(unsupported_instruction)
{
	struct hvx_run *run;
	struct vcpu *vcpu;
	uint64_t data = 0x8;	/* bit 3 set */
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mmio_unsupported, 0);
	run = vcpu->run;
	ASSERT_EQ(X86_VEC_UD, vcpu_run_sync(vcpu));	/* IMUL */
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(GPA_MMIO, run->mmio.phys_addr);
	ASSERT_EQ(4, run->mmio.len);
	ASSERT_EQ(0, run->mmio.is_write);
	ASSERT_EQ((uint64_t)unsupported_bt, vcpu_get_rip(vcpu));
	memcpy(run->mmio.data, &data, sizeof(data));
	ASSERT_EQ(1, vcpu_run_sync(vcpu));		/* BT: CF */
	ASSERT_EQ(X86_VEC_UD, vcpu_run_sync(vcpu));	/* NEG */
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* The next run is an MMIO exit at @gpa: a 4-byte read answered with @val. */
static void mmio_read_exit(struct __test_metadata *_metadata,
			   struct vcpu *vcpu, uint64_t gpa, uint32_t val)
{
	struct hvx_run *run = vcpu->run;

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(gpa, run->mmio.phys_addr);
	ASSERT_EQ(4, run->mmio.len);
	ASSERT_EQ(0, run->mmio.is_write);
	memcpy(run->mmio.data, &val, sizeof(val));
}

/*
 * hvx remembers a page that had no slot and the last MMIO instruction's
 * decode (vmx/README.md, "MMIO instruction emulation"). A slot created
 * over the page turns the next load into a RAM read at once, and its
 * deletion turns the next into an MMIO exit again; a second slot with
 * other memory is read, not the first one's.
 */
TEST(slot_change_between_exits)
{
	uint32_t *a, *b;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	a = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a);
	b = a + 1024;
	a[0] = 0x3333;
	b[0] = 0x5555;
	vcpu = vm_create_long(&vm, guest_slot_change, 0);

	/* Twice on MMIO: the second exit is the remembered one. */
	mmio_read_exit(_metadata, vcpu, SC_GPA, 0x1111);
	ASSERT_EQ(0x1111, vcpu_run_sync(vcpu));
	mmio_read_exit(_metadata, vcpu, SC_GPA, 0x2222);
	ASSERT_EQ(0x2222, vcpu_run_sync(vcpu));

	/* MMIO becomes RAM: no exit, the slot's value. */
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, SC_SLOT, 0, SC_GPA, 4096, a))
		TH_LOG("HVX_SET_MEMORY_REGION: %s", strerrorname_np(errno));
	ASSERT_EQ(0x3333, vcpu_run_sync(vcpu));
	a[0] = 0x3434;
	ASSERT_EQ(0x3434, vcpu_run_sync(vcpu));

	/* RAM becomes MMIO again. */
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, SC_SLOT, 0, SC_GPA, 0, NULL))
		TH_LOG("HVX_SET_MEMORY_REGION: %s", strerrorname_np(errno));
	mmio_read_exit(_metadata, vcpu, SC_GPA, 0x4444);
	ASSERT_EQ(0x4444, vcpu_run_sync(vcpu));
	mmio_read_exit(_metadata, vcpu, SC_GPA, 0x4545);
	ASSERT_EQ(0x4545, vcpu_run_sync(vcpu));

	/* Another slot, other memory. */
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, SC_SLOT, 0, SC_GPA, 4096, b))
		TH_LOG("HVX_SET_MEMORY_REGION: %s", strerrorname_np(errno));
	ASSERT_EQ(0x5555, vcpu_run_sync(vcpu));
	vm_free(vm);
	munmap(a, 2 * 4096);
}

/*
 * A guest that rewrites its MMIO instruction between two exits at the
 * same RIP gets the new instruction emulated: a load turned into a store
 * is a write exit with the register's value, and back a load again.
 */
TEST(rewritten_instruction)
{
	struct hvx_run *run;
	struct vcpu *vcpu;
	uint32_t data;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_rewrite, 0);
	run = vcpu->run;
	mmio_read_exit(_metadata, vcpu, GPA_MMIO, 0x1010);
	ASSERT_EQ((uint64_t)rewrite_insn, vcpu_get_rip(vcpu));
	ASSERT_EQ(0x1010, vcpu_run_sync(vcpu));
	mmio_read_exit(_metadata, vcpu, GPA_MMIO, 0x2020);
	ASSERT_EQ(0x2020, vcpu_run_sync(vcpu));
	for (uint32_t want = 0x5151; want <= 0x5252; want += 0x101) {
		vcpu_run(vcpu);
		ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
		ASSERT_EQ(GPA_MMIO, run->mmio.phys_addr);
		ASSERT_EQ(4, run->mmio.len);
		ASSERT_EQ(1, run->mmio.is_write);
		ASSERT_EQ((uint64_t)rewrite_insn, vcpu_get_rip(vcpu));
		memcpy(&data, run->mmio.data, sizeof(data));
		ASSERT_EQ(want, data);
	}
	mmio_read_exit(_metadata, vcpu, GPA_MMIO, 0x3030);
	ASSERT_EQ(0x3030, vcpu_run_sync(vcpu));
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST_HARNESS_MAIN
