// SPDX-License-Identifier: GPL-2.0
/* mmio_alu_guest.c - 64-bit guest code of mmio_alu_test. */
#include "hvx_guest.h"
#include "mmio_alu_guest.h"

#define INSN(c)	".globl " #c "_insn, " #c "_next\n" #c "_insn:\t"
#define NEXT(c)	"\n" #c "_next:\toutl %%eax, %[mark]"
#define MARK	[mark] "i"(MARK_PORT)

/* rd_<case> and off_<case> from the shared table. */
#define ALU_CONSTS(c, off, len, acc, rd) \
	static const uint64_t rd_##c = rd, off_##c = off;
ALU_CASES64(ALU_CONSTS)

/* The SYNC report described in mmio_alu_guest.h. */
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
