// SPDX-License-Identifier: GPL-2.0
/*
 * mmio_alu_test - ADD OR ADC SBB AND SUB XOR CMP TEST (00-3B, 80-83,
 * 84/85, F6/F7 /0) and XCHG (86/87) with their memory operand on MMIO,
 * in 64-bit code, 32-bit protected mode and real mode.
 *
 * For each case the host checks the exits in order: a read of the right
 * GPA and length with RIP still on the instruction; for a read-modify-
 * write, then a write of the result at the same GPA, returned by the
 * HVX_RUN that took the read data (RIP still on the instruction); then the
 * guest's next instruction, the MARK_PORT out, at exactly <case>_next.
 * The guest then runs the same instruction on RAM holding the data the
 * host supplied, from the same registers and RFLAGS, and the host checks
 * that the two runs agree: RFLAGS (all of it, so OF SF ZF AF PF CF and
 * nothing else changed), the register operand, and the value written
 * (mmio_alu_guest.h).
 *
 * Also: a read-modify-write on a read-only slot (the read is done in the
 * kernel, only the write exits), and immediate_exit between the two exits
 * of a read-modify-write; and the single-step trap (RFLAGS.TF) right after
 * a read-modify-write completes, not after its read (in Bochs 2.7 the trap
 * may come from Bochs's stale pending debug exception instead of hvx's,
 * see mmio_string_test.c).
 */
#include <sys/mman.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "mmio_alu_guest.h"

/* The 64-bit cases (offsets from GPA_MMIO), in the table format of
 * mmio_alu_guest.h; guest_mmio_alu64() runs them in this order. */
#define ALU_CASES64(X)							\
	X(add_m8_r8,		0x00, 1, ALU_RW, 0x7f)			\
	X(add_m32_r32_disp8,	0x08, 4, ALU_RW, 0xfffffff0)		\
	X(add_m64_r64,		0x10, 8, ALU_RW, 0x7fffffffffffffff)	\
	X(add_r64_m64,		0x18, 8, ALU_R, 0x8000000000000000)	\
	X(add_ah_m8,		0x20, 1, ALU_R, 0xf8)			\
	X(or_m16_r16,		0x28, 2, ALU_RW, 0x8000)		\
	X(or_r9d_m32,		0x30, 4, ALU_R, 0x00010000)		\
	X(adc_m32_r32,		0x38, 4, ALU_RW, 0xffffffff)		\
	X(sbb_r10_m64,		0x40, 8, ALU_R, 0x0000000100000000)	\
	X(and_m32_r32_sib,	0x48, 4, ALU_RW, 0xf0f0f0f0)		\
	X(lock_and_m8_r8,	0x50, 1, ALU_RW, 0x81)			\
	X(and_r16_m16,		0x58, 2, ALU_R, 0x00ff)			\
	X(sub_m32_r32,		0x60, 4, ALU_RW, 0x00000000)		\
	X(sub_sil_m8,		0x68, 1, ALU_R, 0x01)			\
	X(xor_m64_r64_disp32,	0x1000, 8, ALU_RW, 0x0123456789abcdef)	\
	X(xor_r32_m32,		0x70, 4, ALU_R, 0x5a5a5a5a)		\
	X(cmp_m32_r32,		0x78, 4, ALU_R, 0x80000000)		\
	X(cmp_r64_m64,		0x80, 8, ALU_R, 0x0000000000000002)	\
	X(add_m8_imm8,		0x88, 1, ALU_RW, 0x80)			\
	X(cmp_m8_imm8,		0x90, 1, ALU_R, 0x7f)			\
	X(or_m32_imm32_disp8,	0x9c, 4, ALU_RW, 0x00000001)		\
	X(and_m16_imm16,	0xa0, 2, ALU_RW, 0x1234)		\
	X(sub_m64_imm32,	0xa8, 8, ALU_RW, 0x0000000012345678)	\
	X(add_m32_imm8,		0xb0, 4, ALU_RW, 0x00000001)		\
	X(xor_m64_imm8,		0xb8, 8, ALU_RW, 0x00000000000000ff)	\
	X(adc_m16_imm8,		0xc0, 2, ALU_RW, 0xfffe)		\
	X(sbb_m32_imm8,		0xc8, 4, ALU_RW, 0x80000000)		\
	X(cmp_m16_imm8,		0xd0, 2, ALU_R, 0xffff)			\
	X(test_m8_r8,		0xd8, 1, ALU_R, 0x80)			\
	X(test_m64_r64,		0xe0, 8, ALU_R, 0xff00000000000000)	\
	X(test_m8_imm8,		0xe8, 1, ALU_R, 0x7e)			\
	X(test_m32_imm32,	0xf0, 4, ALU_R, 0x80000001)		\
	X(test_m64_imm32,	0xf8, 8, ALU_R, 0x0000000000000000)	\
	X(xchg_m8_bh,		0x100, 1, ALU_RW, 0x3c)			\
	X(xchg_m16_r16,		0x108, 2, ALU_RW, 0xbeef)		\
	X(xchg_m64_r11,		0x110, 8, ALU_RW, 0x0011223344556677)	\
	X(lock_or_m32_r32,	0x118, 4, ALU_RW, 0x00f00000)		\
	X(riprel_add_m32_imm8,	ALU_RIPREL_OFF, 4, ALU_RW, 0x7fffffff)
ALU_CASES64(ALU_DECLARE_LABELS)

/* A read-only slot (HVX_MEM_READONLY): an OR to it only exits for the write. */
#define ALU_RO_GPA	0x30000000
#define ALU_RO_SIZE	0x1000
#define ALU_RO_PATTERN	0x5aa5c33c
#define ALU_RO_OR	0x00010001
/* Read data of the immediate_exit test's ADD, and EBX there. */
#define ALU_IE_RD	0x100
#define ALU_IE_EBX	0x23

extern const char ro_or_insn[], ro_or_next[];
extern const char ie_add_insn[], ie_add_next[];
extern const char ss_add_insn[], ss_add_next[];

/* Guest code. */

#define INSN(c)	".globl " #c "_insn, " #c "_next\n" #c "_insn:\t"
#define NEXT(c)	"\n" #c "_next:\toutl %%eax, %[mark]"
#define MARK	[mark] "i"(MARK_PORT)

/* rd_<case> and off_<case> from the shared table. */
#define ALU_CONSTS(c, off, len, acc, rd) \
	static const uint64_t rd_##c = rd, off_##c = off;
ALU_CASES64(ALU_CONSTS)

/* The SYNC report described in mmio_alu_guest.h. */
GUEST_CODE
static inline void alu_report(uint64_t f1, uint64_t f2, uint64_t r1,
			      uint64_t r2, uint64_t ram)
{
	asm volatile("outl %%eax, %[port]"
		     : : "a"(UCALL_SYNC), "D"(f1), "S"(f2), "d"(r1), "c"(r2),
		       "b"(ram), [port] "i"(UCALL_PORT)
		     : "memory");
}

/*
 * Case c: load register reg ("rbx", "r9", ...) with init and RFLAGS with
 * fl, run mtext with %[p] = the MMIO operand's address minus disp (the
 * displacement the addressing form adds), record RFLAGS and reg; then
 * the same from RAM with rtext, and report. Extra asm inputs (an index
 * register) follow.
 */
#define ALU64_2(c, reg, mtext, rtext, init, fl, disp, ...)		\
	do {								\
		uint64_t f1, f2, r1, r2;				\
									\
		*(volatile uint64_t *)ALU_RAM = rd_##c;			\
		asm volatile("movq %[i], %%" reg "\n\t"			\
			     "push %[fin]\n\tpopf\n\t"			\
			     INSN(c) mtext NEXT(c) "\n\t"		\
			     "pushf\n\tpop %[f]\n\t"			\
			     "movq %%" reg ", %[r]"			\
			     : [f] "=&r"(f1), [r] "=&r"(r1)		\
			     : [i] "r"((uint64_t)(init)),		\
			       [fin] "r"((uint64_t)(fl)),		\
			       [p] "r"(GPA_MMIO + off_##c - (disp)), MARK, \
			       ##__VA_ARGS__				\
			     : reg, "memory", "cc");			\
		asm volatile("movq %[i], %%" reg "\n\t"			\
			     "push %[fin]\n\tpopf\n\t"			\
			     rtext "\n\t"				\
			     "pushf\n\tpop %[f]\n\t"			\
			     "movq %%" reg ", %[r]"			\
			     : [f] "=&r"(f2), [r] "=&r"(r2)		\
			     : [i] "r"((uint64_t)(init)),		\
			       [fin] "r"((uint64_t)(fl)),		\
			       [p] "r"((uint64_t)ALU_RAM - (disp)),	\
			       ##__VA_ARGS__				\
			     : reg, "memory", "cc");			\
		alu_report(f1, f2, r1, r2, *(volatile uint64_t *)ALU_RAM); \
	} while (0)

#define ALU64(c, reg, text, init, fl, disp, ...)			\
	ALU64_2(c, reg, text, text, init, fl, disp, ##__VA_ARGS__)

/* In the order of ALU_CASES64. Comments: opcode, and what the flags show. */
GUEST_CODE
void guest_mmio_alu64(uint64_t unused)
{
	(void)unused;
	/* 00: 0x7f + 1 = 0x80, OF SF AF */
	ALU64(add_m8_r8, "rbx", "addb %%bl, (%[p])", 0x01, FL_NONE, 0);
	/* 01 disp8: 0xfffffff0 + 0x10 = 0, CF ZF PF */
	ALU64(add_m32_r32_disp8, "rbx", "addl %%ebx, 8(%[p])",
	      0xaaaaaaaa00000010, FL_ALL, 8);
	/* REX.W 01: OF SF AF */
	ALU64(add_m64_r64, "rbx", "addq %%rbx, (%[p])", 1, FL_NONE, 0);
	/* REX.W 03: 2^63 + 2^63 = 0, CF OF ZF */
	ALU64(add_r64_m64, "rbx", "addq (%[p]), %%rbx",
	      0x8000000000000000, FL_NONE, 0);
	/* 02 into AH: 0x09 + 0xf8, CF AF; the rest of RAX stays */
	ALU64(add_ah_m8, "rax", "addb (%[p]), %%ah", 0x1111111111110911,
	      FL_NONE, 0);
	/* 66 09: OF and CF cleared */
	ALU64(or_m16_r16, "rbx", "orw %%bx, (%[p])", 0x0001, FL_ALL, 0);
	/* REX.R 0B: R9D, zero-extended into R9 */
	ALU64(or_r9d_m32, "r9", "orl (%[p]), %%r9d", 0xffffffff00000001,
	      FL_ALL, 0);
	/* 11 with CF = 1: 0xffffffff + 0 + 1 = 0, CF ZF AF */
	ALU64(adc_m32_r32, "rbx", "adcl %%ebx, (%[p])", 0, FL_CF, 0);
	/* REX.W 1B with CF = 1 into R10 */
	ALU64(sbb_r10_m64, "r10", "sbbq (%[p]), %%r10", 0x0000000100000000,
	      FL_CF, 0);
	/* 21 with SIB and disp8: 8(p, 2, 4) */
	ALU64(and_m32_r32_sib, "rbx", "andl %%ebx, 8(%[p],%[x],4)",
	      0x0ff00ff0, FL_ALL, 16, [x] "r"(2ull));
	/* F0 20 */
	ALU64(lock_and_m8_r8, "rbx", "lock andb %%bl, (%[p])", 0x80,
	      FL_ALL, 0);
	/* 66 23: BX = 0, ZF; bits 63:16 stay */
	ALU64(and_r16_m16, "rbx", "andw (%[p]), %%bx", 0xaaaaaaaaaaaaff00,
	      FL_NONE, 0);
	/* 29: 0 - 1, CF SF AF PF */
	ALU64(sub_m32_r32, "rbx", "subl %%ebx, (%[p])", 1, FL_NONE, 0);
	/* REX 2A into SIL: 0x80 - 1, OF AF */
	ALU64(sub_sil_m8, "rsi", "subb (%[p]), %%sil", 0x1234567890abcd80,
	      FL_NONE, 0);
	/* REX.W 31 disp32: x ^ x = 0, ZF */
	ALU64(xor_m64_r64_disp32, "rbx", "xorq %%rbx, 0x1000(%[p])",
	      0x0123456789abcdef, FL_ALL, 0x1000);
	/* 33: EBX = 0, zero-extended */
	ALU64(xor_r32_m32, "rbx", "xorl (%[p]), %%ebx", 0xffffffff5a5a5a5a,
	      FL_NONE, 0);
	/* 39: 0x80000000 - 1, OF */
	ALU64(cmp_m32_r32, "rbx", "cmpl %%ebx, (%[p])", 1, FL_NONE, 0);
	/* REX.W 3B: 1 - 2, CF SF */
	ALU64(cmp_r64_m64, "rbx", "cmpq (%[p]), %%rbx", 1, FL_NONE, 0);
	/* 80 /0: 0x80 + 0x80 = 0, CF OF ZF */
	ALU64(add_m8_imm8, "rbx", "addb $0x80, (%[p])", 0, FL_NONE, 0);
	/* 80 /7: ZF */
	ALU64(cmp_m8_imm8, "rbx", "cmpb $0x7f, (%[p])", 0, FL_NONE, 0);
	/* 81 /1 disp8 imm32: the immediate follows the displacement */
	ALU64(or_m32_imm32_disp8, "rbx", "orl $0x80000000, 4(%[p])", 0,
	      FL_ALL, 4);
	/* 66 81 /4 imm16 */
	ALU64(and_m16_imm16, "rbx", "andw $0x0ff0, (%[p])", 0, FL_ALL, 0);
	/* REX.W 81 /5 imm32: ZF */
	ALU64(sub_m64_imm32, "rbx", "subq $0x12345678, (%[p])", 0, FL_NONE, 0);
	/* 83 /0 imm8 = -1 sign-extended: CF ZF AF */
	ALU64(add_m32_imm8, "rbx", "addl $-1, (%[p])", 0, FL_NONE, 0);
	/* REX.W 83 /6 imm8 = -128 sign-extended to 64 bits */
	ALU64(xor_m64_imm8, "rbx", "xorq $-128, (%[p])", 0, FL_NONE, 0);
	/* 66 83 /2 with CF = 1: 0xfffe + 1 + 1 = 0 */
	ALU64(adc_m16_imm8, "rbx", "adcw $1, (%[p])", 0, FL_CF, 0);
	/* 83 /3 with CF = 1: 0x80000000 - 0 - 1, OF */
	ALU64(sbb_m32_imm8, "rbx", "sbbl $0, (%[p])", 0, FL_CF, 0);
	/* 66 83 /7 imm8 = -1: ZF */
	ALU64(cmp_m16_imm8, "rbx", "cmpw $-1, (%[p])", 0, FL_NONE, 0);
	/* 84: SF, CF and OF cleared */
	ALU64(test_m8_r8, "rbx", "testb %%bl, (%[p])", 0x80, FL_ALL, 0);
	/* REX.W 85: ZF */
	ALU64(test_m64_r64, "rbx", "testq %%rbx, (%[p])", 0x00ff000000000000,
	      FL_ALL, 0);
	/* F6 /0 imm8: ZF PF */
	ALU64(test_m8_imm8, "rbx", "testb $0x81, (%[p])", 0, FL_NONE, 0);
	/* F7 /0 imm32: SF */
	ALU64(test_m32_imm32, "rbx", "testl $0x80000000, (%[p])", 0,
	      FL_NONE, 0);
	/* REX.W F7 /0 imm32 sign-extended: ZF */
	ALU64(test_m64_imm32, "rbx", "testq $-1, (%[p])", 0, FL_NONE, 0);
	/* 86 with BH; flags unchanged */
	ALU64(xchg_m8_bh, "rbx", "xchgb %%bh, (%[p])", 0x1111111111114411,
	      FL_ALL, 0);
	/* 66 87 */
	ALU64(xchg_m16_r16, "rbx", "xchgw %%bx, (%[p])", 0xaaaaaaaaaaaa1234,
	      FL_NONE, 0);
	/* REX.WR 87 */
	ALU64(xchg_m64_r11, "r11", "xchgq %%r11, (%[p])", 0x8877665544332211,
	      FL_NONE, 0);
	/* F0 09 */
	ALU64(lock_or_m32_r32, "rbx", "lock orl %%ebx, (%[p])", 0x0000000f,
	      FL_NONE, 0);
	/* 83 /0 RIP-relative: disp32 then imm8; OF SF AF */
	ALU64_2(riprel_add_m32_imm8, "rbx", "addl $1, guest_alu_riprel(%%rip)",
		"addl $1, (%[p])", 0, FL_NONE, 0);
	GUEST_DONE();
}

/* OR into a read-only slot: the slot is read in the kernel, the write exits. */
GUEST_CODE
void guest_alu_readonly(uint64_t unused)
{
	(void)unused;
	asm volatile(INSN(ro_or) "orl %[v], (%[p])" NEXT(ro_or)
		     : : [v] "r"(ALU_RO_OR), [p] "r"((uint64_t)ALU_RO_GPA), MARK
		     : "memory", "cc");
	GUEST_ASSERT_EQ(ALU_RO_PATTERN, *(volatile uint32_t *)ALU_RO_GPA);
	GUEST_DONE();
}

/* One ADD to MMIO, whose exits the host runs with immediate_exit set. */
GUEST_CODE
void guest_alu_immediate_exit(uint64_t unused)
{
	uint64_t rbx = ALU_IE_EBX;

	(void)unused;
	asm volatile(INSN(ie_add) "addl %%ebx, (%[p])" NEXT(ie_add)
		     : "+b"(rbx) : [p] "r"((uint64_t)GPA_MMIO), MARK
		     : "memory", "cc");
	GUEST_DONE();
}

/*
 * RFLAGS.TF set, then an ADD to MMIO: #DB right after it (two exits).
 *
 * First the guest reads the page directory that maps GPA_MMIO, so that
 * EPT maps it now: otherwise the ADD's page walk takes an EPT violation,
 * and Bochs 2.7 saves the single-step trap it has scheduled for the ADD
 * as a pending debug exception on that fault-like exit (hardware does
 * not, SDM Vol. 3C 28.3.4) and delivers it on re-entry, before the ADD.
 */
GUEST_CODE
void guest_alu_single_step(uint64_t unused)
{
	(void)unused;
	(void)*(volatile uint64_t *)(GPA_PD + 0x1000);
	asm volatile("pushfq\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popfq\n"
		     ".globl ss_add_insn, ss_add_next\n"
		     "ss_add_insn:\taddl %%ebx, (%[p])\n"
		     "ss_add_next:\tnop"
		     : : [p] "r"((uint64_t)GPA_MMIO), "b"(1) : "memory", "cc");
	GUEST_DONE();
}

/* Host code. */

struct alu_case {
	const char *name, *insn, *next;
	uint64_t off;		/* GPA of the access - the mode's MMIO base */
	uint32_t len;
	bool rmw;		/* a read, then the write of the result */
	uint64_t rd;		/* data returned for the read */
};

#define ALU_CASE(c, off, len, acc, rd)					\
	{ #c, c##_insn, c##_next, off, len, (acc) == ALU_RW, rd },

static const struct alu_case cases64[] = { ALU_CASES64(ALU_CASE) };
static const struct alu_case cases32[] = { ALU_CASES32(ALU_CASE) };
static const struct alu_case cases16[] = { ALU_CASES16(ALU_CASE) };

static uint64_t len_mask(uint32_t len)
{
	return len == 8 ? ~0ull : (1ull << (8 * len)) - 1;
}

/*
 * Run the cases in order. RIP of a label: label - start + rip_base (the
 * blobs run at GPA_BLOB, with CS base 0 in 32-bit mode and GPA_BLOB in
 * real mode); start = NULL for code running where it was linked. Only
 * reg_mask of the registers is compared (16/32-bit code: the low half).
 */
static void run_alu_cases(struct __test_metadata *_metadata,
			  struct vcpu *vcpu, const struct alu_case *cases,
			  unsigned int n, const char *start, uint64_t rip_base,
			  uint64_t mmio_base, uint64_t reg_mask)
{
	struct hvx_run *run = vcpu->run;
	struct hvx_regs regs;

#define RIP_OF(l) (start ? (uint64_t)((l) - start) + rip_base : (uint64_t)(l))
	for (unsigned int i = 0; i < n; i++) {
		const struct alu_case *c = &cases[i];
		uint64_t mask = len_mask(c->len), written = c->rd & mask;

		/* The read of the memory operand. */
		vcpu_run(vcpu);
		ASSERT_EXIT_MSG(HVX_EXIT_MMIO, vcpu, " (case %s)", c->name);
		ASSERT_EQ(mmio_base + c->off, run->mmio.phys_addr)
			TH_LOG("case %s", c->name);
		ASSERT_EQ(c->len, run->mmio.len) TH_LOG("case %s", c->name);
		ASSERT_EQ(0, run->mmio.is_write)
			TH_LOG("case %s: %s", c->name, vcpu_exit_str(vcpu));
		ASSERT_EQ(RIP_OF(c->insn), vcpu_get_rip(vcpu))
			TH_LOG("case %s", c->name);
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		memcpy(run->mmio.data, &c->rd, c->len);

		/* The write of the result, before the guest runs again. */
		if (c->rmw) {
			vcpu_run(vcpu);
			ASSERT_EXIT_MSG(HVX_EXIT_MMIO, vcpu, " (case %s)",
					c->name);
			ASSERT_EQ(mmio_base + c->off, run->mmio.phys_addr)
				TH_LOG("case %s", c->name);
			ASSERT_EQ(c->len, run->mmio.len)
				TH_LOG("case %s", c->name);
			ASSERT_EQ(1, run->mmio.is_write)
				TH_LOG("case %s", c->name);
			ASSERT_EQ(RIP_OF(c->insn), vcpu_get_rip(vcpu))
				TH_LOG("case %s: RIP moved before the write completed",
				       c->name);
			written = 0;
			memcpy(&written, run->mmio.data, c->len);
		}

		/* Done, and the guest went on to the very next instruction. */
		vcpu_run(vcpu);
		ASSERT_EXIT_MSG(HVX_EXIT_IO, vcpu, " (case %s)", c->name);
		ASSERT_EQ(MARK_PORT, run->io.port)
			TH_LOG("case %s: %s", c->name, vcpu_exit_str(vcpu));
		ASSERT_EQ(RIP_OF(c->next), vcpu_get_rip(vcpu))
			TH_LOG("case %s", c->name);

		/* The same instruction on RAM agrees. */
		vcpu_run_sync(vcpu);
		vcpu_get_regs(vcpu, &regs);
		ASSERT_EQ(regs.rsi, regs.rdi)
			TH_LOG("case %s: RFLAGS after MMIO 0x%llx, after RAM 0x%llx",
			       c->name, regs.rdi, regs.rsi);
		ASSERT_EQ(regs.rcx & reg_mask, regs.rdx & reg_mask)
			TH_LOG("case %s: register after MMIO 0x%llx, after RAM 0x%llx",
			       c->name, regs.rdx, regs.rcx);
		ASSERT_EQ(regs.rbx & mask, written)
			TH_LOG("case %s: %s 0x%llx, RAM got 0x%llx", c->name,
			       c->rmw ? "MMIO write" : "unchanged",
			       (unsigned long long)written, regs.rbx & mask);
	}
#undef RIP_OF
}

TEST(alu_64bit)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mmio_alu64, 0);
	run_alu_cases(_metadata, vcpu, cases64, ARRAY_SIZE(cases64), NULL, 0,
		      GPA_MMIO, ~0ull);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(alu_32bit)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, alu32_start, alu32_end);
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	run_alu_cases(_metadata, vcpu, cases32, ARRAY_SIZE(cases32),
		      alu32_start, GPA_BLOB, GPA_MMIO, 0xffffffff);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(alu_16bit_real_mode)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	vm_load_blob(vm, GPA_BLOB, alu16_start, alu16_end);
	vcpu_setup_real(vcpu, GPA_BLOB);
	run_alu_cases(_metadata, vcpu, cases16, ARRAY_SIZE(cases16),
		      alu16_start, 0, GPA_VGA, 0xffffffff);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(alu_readonly_slot)
{
	struct hvx_run *run;
	struct vcpu *vcpu;
	uint32_t *mem;
	struct vm *vm;

	REQUIRE_VMX();
	mem = mmap(NULL, ALU_RO_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	mem[0] = ALU_RO_PATTERN;
	vcpu = vm_create_long(&vm, guest_alu_readonly, 0);
	run = vcpu->run;
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 2, HVX_MEM_READONLY,
					    ALU_RO_GPA, ALU_RO_SIZE, mem))
		TH_LOG("HVX_SET_MEMORY_REGION: %s", strerrorname_np(errno));

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(ALU_RO_GPA, run->mmio.phys_addr);
	ASSERT_EQ(4, run->mmio.len);
	ASSERT_EQ(1, run->mmio.is_write) TH_LOG("%s", vcpu_exit_str(vcpu));
	ASSERT_EQ(ALU_RO_PATTERN | ALU_RO_OR, *(uint32_t *)run->mmio.data);
	ASSERT_EQ((uint64_t)ro_or_insn, vcpu_get_rip(vcpu));

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	ASSERT_EQ(MARK_PORT, run->io.port) TH_LOG("%s", vcpu_exit_str(vcpu));
	ASSERT_EQ((uint64_t)ro_or_next, vcpu_get_rip(vcpu));
	ASSERT_EQ(ALU_RO_PATTERN, mem[0]);
	vcpu_run_done(vcpu);
	vm_free(vm);
	munmap(mem, ALU_RO_SIZE);
}

/*
 * With immediate_exit set, the HVX_RUN that completes the read still
 * returns the write (it is part of the same instruction); the next one
 * completes the write, advances RIP and returns -EINTR.
 */
TEST(alu_rmw_immediate_exit)
{
	uint32_t rd = ALU_IE_RD, wr = 0;
	struct hvx_run *run;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_alu_immediate_exit, 0);
	run = vcpu->run;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(0, run->mmio.is_write);
	memcpy(run->mmio.data, &rd, 4);

	run->immediate_exit = 1;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(1, run->mmio.is_write);
	ASSERT_EQ(GPA_MMIO, run->mmio.phys_addr);
	memcpy(&wr, run->mmio.data, 4);
	ASSERT_EQ(ALU_IE_RD + ALU_IE_EBX, wr);
	ASSERT_EQ((uint64_t)ie_add_insn, vcpu_get_rip(vcpu));

	ASSERT_ERRNO(EINTR, __vcpu_run(vcpu));
	ASSERT_EXIT(HVX_EXIT_INTR, vcpu);
	ASSERT_EQ((uint64_t)ie_add_next, vcpu_get_rip(vcpu));

	run->immediate_exit = 0;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	ASSERT_EQ(MARK_PORT, run->io.port) TH_LOG("%s", vcpu_exit_str(vcpu));
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(alu_single_step)
{
	struct hvx_run *run;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_alu_single_step, 0);
	run = vcpu->run;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(0, run->mmio.is_write);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(1, run->mmio.is_write);
	ASSERT_EQ(0, __vcpu_run(vcpu));
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc))
		TH_LOG("%s", vcpu_exit_str(vcpu));
	ASSERT_EQ(1, uc.args[0])	/* #DB */ TH_LOG("%s", ucall_str(vcpu, &uc));
	ASSERT_EQ((uint64_t)ss_add_next, uc.args[2]);
	vm_free(vm);
}

TEST_HARNESS_MAIN
