// SPDX-License-Identifier: GPL-2.0
/* mmio_guest.c - 64-bit guest code of mmio_test. */
#include "hvx_guest.h"
#include "mmio_guest.h"

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
