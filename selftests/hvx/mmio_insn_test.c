// SPDX-License-Identifier: GPL-2.0
/*
 * mmio_insn_test - instructions compilers and drivers use on device
 * memory, emulated with the CPU's semantics (equivalence).
 *
 * The guest runs each case first on RAM, where the CPU itself executes
 * it, then with one or both memory regions on MMIO, which this host backs
 * with plain memory, and compares registers, flags and memory (see
 * its guest code below): LODS, SCAS, CMPS with REP/REPE/REPNE, all sizes,
 * DF clear and set; MOVS between two MMIO regions and MMIO<->RAM; BT BTS
 * BTR BTC with register (signed, beyond the operand) and immediate bit
 * offsets; XADD; CMPXCHG (with LOCK) that succeeds and fails; SETcc (all
 * conditions); CMOVcc taken and not; the SSE moves memcpy_toio and
 * friends use (MOVDQU MOVDQA MOVUPS MOVAPS MOVUPD MOVAPD MOVSS MOVSD MOVD
 * MOVQ MOVNTDQ MOVNTPS, XMM1 and XMM9), their VEX forms with XMM and
 * YMM registers when the guest has AVX, and MOVNTI; CMPXCHG8B and
 * CMPXCHG16B that succeed and fail.
 *
 * And: an instruction hvx does not emulate raises #UD in the guest instead
 * of stopping the VM, and is counted in hvx_stats.mmio_unknown_insns.
 */
#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"

#include "guest_layout.h"

#define INSN_REGION	64			/* bytes per region */
/* RAM: reference source and destination, then those beside MMIO. */
#define INSN_RAM_A	(GPA_BLOB_DATA + 0x1000)
#define INSN_RAM_B	(GPA_BLOB_DATA + 0x1100)
#define INSN_RAM_C	(GPA_BLOB_DATA + 0x1200)
#define INSN_RAM_D	(GPA_BLOB_DATA + 0x1300)
#define INSN_MMIO_A	(GPA_MMIO + 0x100)
#define INSN_MMIO_B	(GPA_MMIO + 0x200)
#define INSN_MMIO_SIZE	0x1000			/* the host's device memory */

/* Case placement: which region is MMIO in the second run. */
#define SRC_MMIO	1
#define DST_MMIO	2

/* GUEST_SYNC_ARGS(INSN_MISMATCH, case << 12 | offset << 4 | what,
 * reference, MMIO); what: 1-6 RAX RBX RCX RDX RSI RDI, 7 RFLAGS, 8 and 9
 * the source and destination regions (offset: the quadword there). */
#define INSN_MISMATCH	0x4d4d
/* GUEST_SYNC(INSN_AVX_DONE): the VEX cases (100 and up) ran. */
#define INSN_AVX_DONE	0x4156

void guest_mmio_insns(uint64_t unused);
void guest_mmio_unknown(uint64_t unused);
extern const char unknown_neg[], unknown_imul[];

/* Guest code. */

struct st {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, fl;
};

/* Arithmetic flags and DF. */
#define FL_ARITH	0x8d5
#define FL_ALL		(FL_ARITH | 0x400)
#define FL_CF		0x001
#define FL_PF		0x004
#define FL_ZF		0x040
#define FL_SF		0x080
#define FL_DF		0x400
#define FL_OF		0x800

/* A function per case: registers in and out of @s, RFLAGS from s->fl. */
#define CASE_FN(name, text)						\
	static void name(struct st *s)					\
	{								\
		asm volatile("push %[fl]\n\tpopfq\n\t" text "\n\t"	\
			     "pushfq\n\tpop %[fl]\n\tcld"		\
			     : "+a"(s->rax), "+b"(s->rbx),		\
			       "+c"(s->rcx), "+d"(s->rdx),		\
			       "+S"(s->rsi), "+D"(s->rdi),		\
			       [fl] "+r"(s->fl)				\
			     : : "memory", "cc");			\
	}

/* Byte i of the source region, and of the destination region. */
GUEST_CODE
static uint8_t pat_a(unsigned int i)
{
	return 0x11 * (i % 7) + i / 8;
}

GUEST_CODE
static uint8_t pat_b(unsigned int i)
{
	return i == 10 || i == 37 ? pat_a(i) ^ 0x80 : pat_a(i);
}

GUEST_CODE
static void fill(uint64_t base, uint8_t (*pat)(unsigned int))
{
	for (unsigned int i = 0; i < INSN_REGION; i += 8) {
		uint64_t q = 0;

		for (unsigned int k = 0; k < 8; k++)
			q |= (uint64_t)pat(i + k) << (8 * k);
		*(volatile uint64_t *)(base + i) = q;
	}
}

GUEST_CODE
static void mismatch(unsigned int id, unsigned int what, uint64_t ref,
		     uint64_t got)
{
	if (ref != got)
		GUEST_SYNC_ARGS(INSN_MISMATCH, id << 12 | what, ref, got);
}

GUEST_CODE
static void compare_regions(unsigned int id, unsigned int what,
			    uint64_t ref, uint64_t got)
{
	for (unsigned int i = 0; i < INSN_REGION; i += 8)
		mismatch(id, what | i << 4, *(volatile uint64_t *)(ref + i),
			 *(volatile uint64_t *)(got + i));
}

/*
 * Run @fn on RAM, then with the regions @where names on MMIO; RBX and
 * RSI are offsets into the source region, RDI into the destination.
 */
GUEST_CODE
static void check(unsigned int id, void (*fn)(struct st *), const struct st *in,
		  unsigned int where, uint64_t flmask)
{
	uint64_t a = where & SRC_MMIO ? INSN_MMIO_A : INSN_RAM_C;
	uint64_t b = where & DST_MMIO ? INSN_MMIO_B : INSN_RAM_D;
	struct st r, m;

	fill(INSN_RAM_A, pat_a);
	fill(INSN_RAM_B, pat_b);
	fill(a, pat_a);
	fill(b, pat_b);
	r.rax = m.rax = in->rax;
	r.rcx = m.rcx = in->rcx;
	r.rdx = m.rdx = in->rdx;
	r.fl = m.fl = in->fl | 2;
	r.rbx = INSN_RAM_A + in->rbx;
	r.rsi = INSN_RAM_A + in->rsi;
	r.rdi = INSN_RAM_B + in->rdi;
	m.rbx = a + in->rbx;
	m.rsi = a + in->rsi;
	m.rdi = b + in->rdi;
	fn(&r);
	fn(&m);
	mismatch(id, 1, r.rax, m.rax);
	mismatch(id, 2, r.rbx - INSN_RAM_A, m.rbx - a);
	mismatch(id, 3, r.rcx, m.rcx);
	mismatch(id, 4, r.rdx, m.rdx);
	mismatch(id, 5, r.rsi - INSN_RAM_A, m.rsi - a);
	mismatch(id, 6, r.rdi - INSN_RAM_B, m.rdi - b);
	mismatch(id, 7, r.fl & flmask, m.fl & flmask);
	compare_regions(id, 8, INSN_RAM_A, a);
	compare_regions(id, 9, INSN_RAM_B, b);
}

/* String instructions. */
CASE_FN(lodsb, "lodsb")
CASE_FN(lodsw, "lodsw")
CASE_FN(lodsl, "lodsl")
CASE_FN(lodsq, "lodsq")
CASE_FN(rep_lodsb, "rep lodsb")
CASE_FN(rep_lodsq, "rep lodsq")
CASE_FN(scasb, "scasb")
CASE_FN(scasw, "scasw")
CASE_FN(scasl, "scasl")
CASE_FN(scasq, "scasq")
CASE_FN(repne_scasb, "repne scasb")
CASE_FN(repe_scasb, "repe scasb")
CASE_FN(repne_scasw, "repne scasw")
CASE_FN(repe_scasq, "repe scasq")
CASE_FN(cmpsb, "cmpsb")
CASE_FN(cmpsw, "cmpsw")
CASE_FN(cmpsl, "cmpsl")
CASE_FN(cmpsq, "cmpsq")
CASE_FN(repe_cmpsb, "repe cmpsb")
CASE_FN(repe_cmpsl, "repe cmpsl")
CASE_FN(repne_cmpsb, "repne cmpsb")
CASE_FN(repe_cmpsq, "repe cmpsq")
CASE_FN(repne_cmpsw, "repne cmpsw")
CASE_FN(movsb, "movsb")
CASE_FN(rep_movsl, "rep movsl")
CASE_FN(rep_movsw, "rep movsw")
CASE_FN(rep_movsq, "rep movsq")

/* Bit tests: BT m, r takes the bit offset signed, beyond the operand. */
CASE_FN(btl_r, "btl %%eax, (%%rbx)")
CASE_FN(btsl_r, "btsl %%eax, (%%rbx)")
CASE_FN(btrq_r, "btrq %%rax, (%%rbx)")
CASE_FN(btcw_r, "btcw %%ax, (%%rbx)")
CASE_FN(btsq_r, "btsq %%rax, (%%rbx)")
CASE_FN(btl_i, "btl $35, (%%rbx)")
CASE_FN(btsq_i, "btsq $63, (%%rbx)")
CASE_FN(btrw_i, "btrw $9, (%%rbx)")
CASE_FN(btcl_i, "btcl $0, (%%rbx)")

/* XADD, CMPXCHG (the loads before them are MMIO too). */
CASE_FN(xaddl, "xaddl %%eax, (%%rbx)")
CASE_FN(xaddb_ah, "xaddb %%ah, 3(%%rbx)")
CASE_FN(lock_xaddq, "lock xaddq %%rax, (%%rbx)")
CASE_FN(xaddw, "xaddw %%dx, 6(%%rbx)")
CASE_FN(cmpxchgl_fail, "lock cmpxchgl %%edx, (%%rbx)")
CASE_FN(cmpxchgl_ok, "movl (%%rbx), %%ecx\n\tshlq $32, %%rax\n\t"
	"orq %%rcx, %%rax\n\tlock cmpxchgl %%edx, (%%rbx)")
CASE_FN(cmpxchgq_ok, "movq 8(%%rbx), %%rax\n\tcmpxchgq %%rdx, 8(%%rbx)")
CASE_FN(cmpxchgb_dh, "movb 5(%%rbx), %%al\n\tlock cmpxchgb %%dh, 5(%%rbx)")
CASE_FN(cmpxchgw_fail, "cmpxchgw %%dx, 2(%%rbx)")

/* SETcc m8, all sixteen conditions. */
CASE_FN(seto, "seto (%%rbx)")
CASE_FN(setno, "setno 1(%%rbx)")
CASE_FN(setb, "setb 2(%%rbx)")
CASE_FN(setae, "setae 3(%%rbx)")
CASE_FN(sete, "sete 4(%%rbx)")
CASE_FN(setne, "setne 5(%%rbx)")
CASE_FN(setbe, "setbe 6(%%rbx)")
CASE_FN(seta, "seta 7(%%rbx)")
CASE_FN(sets, "sets 8(%%rbx)")
CASE_FN(setns, "setns 9(%%rbx)")
CASE_FN(setp, "setp 10(%%rbx)")
CASE_FN(setnp, "setnp 11(%%rbx)")
CASE_FN(setl, "setl 12(%%rbx)")
CASE_FN(setge, "setge 13(%%rbx)")
CASE_FN(setle, "setle 14(%%rbx)")
CASE_FN(setg, "setg 15(%%rbx)")

/* CMOVcc r, m: taken and not (a 32-bit one still zero-extends). */
CASE_FN(cmovel, "cmovel (%%rbx), %%eax")
CASE_FN(cmovneq, "cmovneq 8(%%rbx), %%rax")
CASE_FN(cmovgw, "cmovgw 2(%%rbx), %%dx")
CASE_FN(cmovbl, "cmovbl 4(%%rbx), %%ecx")

/*
 * SSE moves: XMM1 (or XMM9) from RDX:RAX before a store, into RDX:RAX
 * after a load, which starts from all ones to show which bits it writes.
 */
#define XMM_IN	"movq %%rax, %%xmm1\n\tmovq %%rdx, %%xmm2\n\t"	\
		"movlhps %%xmm2, %%xmm1\n\t"
#define XMM_OUT	"\n\tmovq %%xmm1, %%rax\n\t"			\
		"movhlps %%xmm1, %%xmm1\n\tmovq %%xmm1, %%rdx"
#define LD(name, text)							\
	CASE_FN(name, "pcmpeqd %%xmm1, %%xmm1\n\t" text XMM_OUT)
#define ST(name, text)	CASE_FN(name, XMM_IN text)

LD(movdqu_ld, "movdqu 8(%%rbx), %%xmm1")
LD(movdqa_ld, "movdqa 16(%%rbx), %%xmm1")
LD(movups_ld, "movups 4(%%rbx), %%xmm1")
LD(movaps_ld, "movaps 32(%%rbx), %%xmm1")
LD(movupd_ld, "movupd 3(%%rbx), %%xmm1")
LD(movapd_ld, "movapd (%%rbx), %%xmm1")
LD(movss_ld, "movss 4(%%rbx), %%xmm1")
LD(movsd_ld, "movsd 8(%%rbx), %%xmm1")
LD(movq_ld, "movq 8(%%rbx), %%xmm1")			/* F3 0F 7E */
LD(movd_ld, "movd 4(%%rbx), %%xmm1")			/* 66 0F 6E */
LD(movq_w_ld, ".byte 0x66, 0x48, 0x0f, 0x6e, 0x0b")	/* 66 REX.W 0F 6E */
CASE_FN(movdqu_ld9, "pcmpeqd %%xmm9, %%xmm9\n\tmovdqu 16(%%rbx), %%xmm9\n\t"
	"movq %%xmm9, %%rax\n\tmovhlps %%xmm9, %%xmm9\n\tmovq %%xmm9, %%rdx")
ST(movdqu_st, "movdqu %%xmm1, 8(%%rbx)")
ST(movdqa_st, "movdqa %%xmm1, 16(%%rbx)")
ST(movups_st, "movups %%xmm1, 4(%%rbx)")
ST(movaps_st, "movaps %%xmm1, 32(%%rbx)")
ST(movupd_st, "movupd %%xmm1, 3(%%rbx)")
ST(movapd_st, "movapd %%xmm1, (%%rbx)")
ST(movntdq_st, "movntdq %%xmm1, 16(%%rbx)")
ST(movntps_st, "movntps %%xmm1, 32(%%rbx)")
ST(movss_st, "movss %%xmm1, 4(%%rbx)")
ST(movsd_st, "movsd %%xmm1, 8(%%rbx)")
ST(movq_st, "movq %%xmm1, 8(%%rbx)")			/* 66 0F D6 */
ST(movd_st, "movd %%xmm1, 4(%%rbx)")			/* 66 0F 7E */
ST(movq_w_st, ".byte 0x66, 0x48, 0x0f, 0x7e, 0x0b")	/* 66 REX.W 0F 7E */
CASE_FN(movdqu_st9, "movq %%rax, %%xmm9\n\tmovq %%rdx, %%xmm2\n\t"
	"movlhps %%xmm2, %%xmm9\n\tmovdqu %%xmm9, 16(%%rbx)")
CASE_FN(movnti_l, "movnti %%eax, 4(%%rbx)")
CASE_FN(movnti_q, "movnti %%rax, 8(%%rbx)")

/* CMPXCHG8B/16B on (RSI); RBX (the base otherwise) is saved around it. */
#define CX8(name, load, insn)						\
	CASE_FN(name, "push %%rbx\n\t" load				\
		"movabsq $0x1122334455667788, %%rbx\n\t" insn "\n\tpop %%rbx")
CX8(cmpxchg8b_fail, "", "lock cmpxchg8b (%%rsi)")
CX8(cmpxchg8b_ok, "movl (%%rsi), %%eax\n\tmovl 4(%%rsi), %%edx\n\t",
    "lock cmpxchg8b (%%rsi)")
CX8(cmpxchg16b_fail, "", "lock cmpxchg16b (%%rsi)")
CX8(cmpxchg16b_ok, "movq (%%rsi), %%rax\n\tmovq 8(%%rsi), %%rdx\n\t",
    "cmpxchg16b (%%rsi)")

/*
 * VEX moves: YMM1 from RAX, RDX (bits 127:0), RCX, RAX (255:128) before a
 * store; after a load RAX, RDX = bits 127:0 and RCX = bits 191:128 XOR
 * bits 255:192 rotated by one, the register starting from all ones.
 */
#define YMM_IN	"vmovq %%rax, %%xmm1\n\tvpinsrq $1, %%rdx, %%xmm1, %%xmm1\n\t" \
		"vmovq %%rcx, %%xmm2\n\tvpinsrq $1, %%rax, %%xmm2, %%xmm2\n\t" \
		"vinsertf128 $1, %%xmm2, %%ymm1, %%ymm1\n\t"
#define YMM_OUT(r)							\
	"\n\tpush %%r8\n\tvmovq %%xmm" r ", %%rax\n\t"			\
	"vpextrq $1, %%xmm" r ", %%rdx\n\t"				\
	"vextractf128 $1, %%ymm" r ", %%xmm2\n\tvmovq %%xmm2, %%rcx\n\t" \
	"vpextrq $1, %%xmm2, %%r8\n\trolq $1, %%r8\n\txorq %%r8, %%rcx\n\t" \
	"pop %%r8"
#define VLD(name, r, text)						\
	CASE_FN(name, "vcmptrueps %%ymm" r ", %%ymm" r ", %%ymm" r "\n\t"	\
		text YMM_OUT(r))
#define VST(name, text)	CASE_FN(name, YMM_IN text)

VLD(vmovdqu_ld256, "1", "vmovdqu 8(%%rbx), %%ymm1")
VLD(vmovdqa_ld256, "1", "vmovdqa 32(%%rbx), %%ymm1")
VLD(vmovups_ld128, "1", "vmovups 4(%%rbx), %%xmm1")
VLD(vmovq_ld, "1", "vmovq 8(%%rbx), %%xmm1")
VLD(vmovd_ld, "1", "vmovd 4(%%rbx), %%xmm1")
VLD(vmovdqu_ld9, "9", "vmovdqu 16(%%rbx), %%ymm9")
VLD(movdqu_keeps_upper, "1", "movdqu 8(%%rbx), %%xmm1")
VST(vmovdqu_st256, "vmovdqu %%ymm1, 8(%%rbx)")
VST(vmovaps_st256, "vmovaps %%ymm1, (%%rbx)")
VST(vmovdqu_st128, "vmovdqu %%xmm1, 4(%%rbx)")
VST(vmovntdq_st256, "vmovntdq %%ymm1, 32(%%rbx)")
VST(vmovq_st, "vmovq %%xmm1, 8(%%rbx)")

typedef void (*case_fn)(struct st *);

struct insn_case {
	case_fn fn;
	struct st in;
	unsigned int where;
	uint64_t flmask;
};

#define X(f, rax, rbx, rcx, rdx, rsi, rdi, fl, where, mask)		\
	{ f, { rax, rbx, rcx, rdx, rsi, rdi, fl }, where, mask }
#define BOTH	(SRC_MMIO | DST_MMIO)
#define BTMASK	(FL_CF | FL_ZF | FL_DF)
#define HI	0xa5a5a5a500000000ull
#define VEC_LO	0x0123456789abcdefull
#define VEC_HI	0xfedcba9876543210ull

static const struct insn_case cases[] = {
	/* 0: LODS */
	X(lodsb, HI | 0x1234, 0, 0, 0, 5, 0, 0, SRC_MMIO, FL_ALL),
	X(lodsw, HI | 0x1234, 0, 0, 0, 20, 0, FL_DF, SRC_MMIO, FL_ALL),
	X(lodsl, HI | 0x1234, 0, 0, 0, 24, 0, 0, SRC_MMIO, FL_ALL),
	X(lodsq, HI | 0x1234, 0, 0, 0, 40, 0, FL_DF, SRC_MMIO, FL_ALL),
	X(rep_lodsb, HI, 0, 3, 0, 7, 0, 0, SRC_MMIO, FL_ALL),
	X(rep_lodsq, HI, 0, 2, 0, 40, 0, FL_DF, SRC_MMIO, FL_ALL),
	/* 6: SCAS (ES:RDI, the destination region) */
	X(scasb, 0x2a, 0, 0, 0, 0, 9, 0, DST_MMIO, FL_ALL),
	X(scasw, 0x7766, 0, 0, 0, 0, 12, FL_DF, DST_MMIO, FL_ALL),
	X(scasl, 0x0, 0, 0, 0, 0, 16, FL_CF, DST_MMIO, FL_ALL),
	X(scasq, ~0ull, 0, 0, 0, 0, 8, FL_DF, DST_MMIO, FL_ALL),
	X(repne_scasb, 0x44 + 2, 0, 20, 0, 0, 4, 0, DST_MMIO, FL_ALL),
	X(repe_scasb, 0x11, 0, 9, 0, 0, 1, 0, DST_MMIO, FL_ALL),
	X(repne_scasw, 0xffff, 0, 5, 0, 0, 40, FL_DF, DST_MMIO, FL_ALL),
	X(repe_scasq, 0, 0, 0, 0, 0, 8, 0, DST_MMIO, FL_ALL),
	/* 14: CMPS: both MMIO, or one of them */
	X(cmpsb, 0, 0, 0, 0, 10, 10, 0, BOTH, FL_ALL),
	X(cmpsw, 0, 0, 0, 0, 36, 36, FL_DF, SRC_MMIO, FL_ALL),
	X(cmpsl, 0, 0, 0, 0, 8, 12, 0, DST_MMIO, FL_ALL),
	X(cmpsq, 0, 0, 0, 0, 32, 32, FL_DF, BOTH, FL_ALL),
	X(repe_cmpsb, 0, 0, 16, 0, 4, 4, 0, BOTH, FL_ALL),
	X(repe_cmpsl, 0, 0, 3, 0, 16, 16, 0, SRC_MMIO, FL_ALL),
	X(repne_cmpsb, 0, 0, 8, 0, 0, 1, 0, DST_MMIO, FL_ALL),
	X(repe_cmpsq, 0, 0, 4, 0, 40, 40, FL_DF, BOTH, FL_ALL),
	X(repne_cmpsw, 0, 0, 3, 0, 0, 0, FL_ZF, BOTH, FL_ALL),
	/* 23: MOVS between two MMIO regions, and MMIO<->RAM */
	X(movsb, 0, 0, 0, 0, 3, 50, FL_DF, BOTH, FL_ALL),
	X(rep_movsl, 0, 0, 3, 0, 8, 20, 0, SRC_MMIO, FL_ALL),
	X(rep_movsw, 0, 0, 4, 0, 30, 40, FL_DF, DST_MMIO, FL_ALL),
	X(rep_movsq, 0, 0, 3, 0, 0, 16, 0, BOTH, FL_ALL),
	/* 27: BT BTS BTR BTC, register offsets beyond the operand */
	X(btl_r, 5, 16, 0, 0, 0, 0, 0, SRC_MMIO, BTMASK),
	X(btsl_r, 100, 16, 0, 0, 0, 0, FL_ZF, SRC_MMIO, BTMASK),
	X(btrq_r, -20, 32, 0, 0, 0, 0, FL_CF, SRC_MMIO, BTMASK),
	X(btcw_r, HI | 0xfffd, 16, 0, 0, 0, 0, 0, SRC_MMIO, BTMASK),
	X(btsq_r, 130, 8, 0, 0, 0, 0, 0, SRC_MMIO, BTMASK),
	X(btl_i, 0, 16, 0, 0, 0, 0, FL_CF, SRC_MMIO, BTMASK),
	X(btsq_i, 0, 8, 0, 0, 0, 0, 0, SRC_MMIO, BTMASK),
	X(btrw_i, 0, 22, 0, 0, 0, 0, 0, SRC_MMIO, BTMASK),
	X(btcl_i, 0, 12, 0, 0, 0, 0, FL_ZF, SRC_MMIO, BTMASK),
	/* 36: XADD, CMPXCHG */
	X(xaddl, HI | 0xfffffff0, 8, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(xaddb_ah, 0xf000, 8, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(lock_xaddq, 0x8000000000000000ull, 16, 0, 0, 0, 0, 0, SRC_MMIO,
	  FL_ALL),
	X(xaddw, 0, 8, 0, 0x7fff, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(cmpxchgl_fail, HI | 1, 8, 0, 0x55, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(cmpxchgl_ok, 0x5a5a, 8, 0, 0x55, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(cmpxchgq_ok, 0, 8, 0, HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(cmpxchgb_dh, HI, 8, 0, 0x7700, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(cmpxchgw_fail, HI, 8, 0, 0x7700, 0, 0, 0, SRC_MMIO, FL_ALL),
	/* 45: SETcc, with flags that make about half true */
	X(seto, 0, 0, 0, 0, 0, 0, FL_OF, SRC_MMIO, FL_ALL),
	X(setno, 0, 0, 0, 0, 0, 0, FL_OF, SRC_MMIO, FL_ALL),
	X(setb, 0, 0, 0, 0, 0, 0, FL_CF, SRC_MMIO, FL_ALL),
	X(setae, 0, 0, 0, 0, 0, 0, FL_CF, SRC_MMIO, FL_ALL),
	X(sete, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(setne, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(setbe, 0, 0, 0, 0, 0, 0, FL_ZF, SRC_MMIO, FL_ALL),
	X(seta, 0, 0, 0, 0, 0, 0, FL_ZF, SRC_MMIO, FL_ALL),
	X(sets, 0, 0, 0, 0, 0, 0, FL_SF, SRC_MMIO, FL_ALL),
	X(setns, 0, 0, 0, 0, 0, 0, FL_SF, SRC_MMIO, FL_ALL),
	X(setp, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(setnp, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(setl, 0, 0, 0, 0, 0, 0, FL_SF, SRC_MMIO, FL_ALL),
	X(setge, 0, 0, 0, 0, 0, 0, FL_SF | FL_OF, SRC_MMIO, FL_ALL),
	X(setle, 0, 0, 0, 0, 0, 0, FL_OF, SRC_MMIO, FL_ALL),
	X(setg, 0, 0, 0, 0, 0, 0, FL_ZF, SRC_MMIO, FL_ALL),
	/* 61: CMOVcc */
	X(cmovel, HI | 1, 0, 0, 0, 0, 0, FL_ZF, SRC_MMIO, FL_ALL),
	X(cmovel, HI | 1, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(cmovneq, HI, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(cmovgw, 0, 0, 0, HI | 0x1111, 0, 0, FL_SF, SRC_MMIO, FL_ALL),
	X(cmovbl, 0, 0, HI | 3, 0, 0, 0, FL_CF, SRC_MMIO, FL_ALL),
	/* 66: SSE loads and stores, MOVNTI */
	X(movdqu_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movdqa_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movups_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movaps_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movupd_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movapd_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movss_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movsd_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movq_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movd_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movq_w_ld, 0, 8, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movdqu_ld9, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movdqu_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movdqa_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movups_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movaps_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movupd_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movapd_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movntdq_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movntps_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movss_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movsd_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movq_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movd_st, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movq_w_st, VEC_LO, 24, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movdqu_st9, VEC_LO, 0, 0, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movnti_l, VEC_LO, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movnti_q, VEC_LO, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	/* 94: CMPXCHG8B, CMPXCHG16B */
	X(cmpxchg8b_fail, HI | 5, 0, HI | 0x99, HI | 6, 8, 0, FL_ALL & ~FL_DF,
	  SRC_MMIO, FL_ALL),
	X(cmpxchg8b_ok, HI, 0, HI | 0x99, HI, 24, 0, 0, SRC_MMIO, FL_ALL),
	X(cmpxchg16b_fail, 5, 0, 0x99, 6, 16, 0, 0, SRC_MMIO, FL_ALL),
	X(cmpxchg16b_ok, 0, 0, VEC_HI, 0, 32, 0, FL_CF, SRC_MMIO, FL_ALL),
};

/* With AVX (guest_mmio_insns() enables it when CPUID has it). */
static const struct insn_case avx_cases[] = {
	X(vmovdqu_ld256, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(vmovdqa_ld256, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(vmovups_ld128, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(vmovq_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(vmovd_ld, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(vmovdqu_ld9, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(movdqu_keeps_upper, 0, 0, 0, 0, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(vmovdqu_st256, VEC_LO, 0, HI, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(vmovaps_st256, VEC_LO, 0, HI, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(vmovdqu_st128, VEC_LO, 0, HI, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(vmovntdq_st256, VEC_LO, 0, HI, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
	X(vmovq_st, VEC_LO, 0, HI, VEC_HI, 0, 0, 0, SRC_MMIO, FL_ALL),
};

GUEST_CODE
void guest_mmio_insns(uint64_t unused)
{
	uint32_t a, b, c, d;
	uint64_t cr;

	(void)unused;
	/* SSE on: CR4.OSFXSR and OSXMMEXCPT; CR0.EM and TS clear, MP set. */
	asm volatile("mov %%cr4, %0\n\tor $0x600, %0\n\tmov %0, %%cr4\n\t"
		     "mov %%cr0, %0\n\tand $~0xc, %0\n\tor $2, %0\n\t"
		     "mov %0, %%cr0" : "=&r"(cr));
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(i, cases[i].fn, &cases[i].in, cases[i].where,
		      cases[i].flmask);

	/* XSAVE and AVX: CR4.OSXSAVE, XCR0 = x87 | SSE | AVX. */
	cpuid(1, 0, &a, &b, &c, &d);
	if ((c & (1u << 26)) && (c & (1u << 28))) {
		asm volatile("mov %0, %%cr4"
			     : : "r"(guest_read_cr4() | (1ul << 18)));
		asm volatile("xsetbv" : : "c"(0), "a"(7), "d"(0));
		for (unsigned int i = 0;
		     i < sizeof(avx_cases) / sizeof(avx_cases[0]); i++)
			check(100 + i, avx_cases[i].fn, &avx_cases[i].in,
			      avx_cases[i].where, avx_cases[i].flmask);
		GUEST_SYNC(INSN_AVX_DONE);
	}
	GUEST_DONE();
}

/*
 * Instructions hvx does not emulate on MMIO: NEG m (F7 /3), IMUL r, m
 * (0F AF). Each must raise #UD (reported with GUEST_SYNC), and the guest
 * goes on after it.
 */
GUEST_CODE
void guest_mmio_unknown(uint64_t unused)
{
	(void)unused;
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n"
		     ".globl unknown_neg\nunknown_neg:\tnegl (%[p])\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : [p] "r"(GPA_MMIO)
		     : "memory", "cc");
	GUEST_SYNC(guest_fixup_vector);
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n"
		     ".globl unknown_imul\nunknown_imul:\timull (%[p]), %%eax\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : [p] "r"(GPA_MMIO)
		     : "rax", "memory", "cc");
	GUEST_SYNC(guest_fixup_vector);
	GUEST_DONE();
}

/* Host code. */

static uint8_t dev[INSN_MMIO_SIZE];

/* Run until a ucall, serving MMIO exits from dev[]. */
static uint64_t run_with_dev(struct __test_metadata *_metadata,
			     struct vcpu *vcpu, struct ucall *uc)
{
	struct hvx_run *run = vcpu->run;

	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason != HVX_EXIT_MMIO)
			break;
		ASSERT_TRUE(run->mmio.phys_addr >= GPA_MMIO &&
			    run->mmio.phys_addr + run->mmio.len <=
			    GPA_MMIO + INSN_MMIO_SIZE)
			TH_LOG("%s", vcpu_exit_str(vcpu));
		ASSERT_TRUE(run->mmio.len <= 8);
		if (run->mmio.is_write)
			memcpy(dev + run->mmio.phys_addr - GPA_MMIO,
			       run->mmio.data, run->mmio.len);
		else
			memcpy(run->mmio.data,
			       dev + run->mmio.phys_addr - GPA_MMIO,
			       run->mmio.len);
	}
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	return get_ucall(vcpu, uc);
}

TEST(insns_equal_ram)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t cmd;
	unsigned int mismatches = 0;
	bool avx = false;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mmio_insns, 0);
	for (;;) {
		cmd = run_with_dev(_metadata, vcpu, &uc);
		if (cmd != UCALL_SYNC)
			break;
		if (uc.args[0] == INSN_AVX_DONE) {
			avx = true;
			continue;
		}
		ASSERT_EQ(INSN_MISMATCH, uc.args[0]) TH_LOG("%s", ucall_str(vcpu, &uc));
		TH_LOG("case %llu, item %llu (offset %llu): RAM 0x%llx, MMIO 0x%llx",
		       (unsigned long long)uc.args[1] >> 12,
		       (unsigned long long)uc.args[1] & 15,
		       (unsigned long long)(uc.args[1] >> 4 & 0xff),
		       (unsigned long long)uc.args[2],
		       (unsigned long long)uc.args[3]);
		mismatches++;
	}
	ASSERT_EQ(UCALL_DONE, cmd) TH_LOG("%s", ucall_str(vcpu, &uc));
	ASSERT_EQ(0, mismatches);
	if (!avx)
		TH_LOG("no AVX in the guest's CPUID: VEX moves not tested");
	vm_free(vm);
}

/* hvx_stats.mmio_unknown_insns of this process's only VM is @n. */
static void unknown_counted(struct __test_metadata *_metadata, uint64_t n)
{
	struct hvx_nl_vm vms[64];
	struct hvx_nl_stats s;
	struct hvx_nl nl;
	uint32_t id = 0;
	int nvms;

	ASSERT_EQ(0, hvx_nl_open(&nl)) TH_LOG("the hvx netlink family");
	nvms = hvx_nl_list_vms(&nl, vms, 64);
	ASSERT_LT(0, nvms);
	for (int i = 0; i < nvms && i < 64; i++)
		if (vms[i].pid == (uint32_t)getpid())
			id = vms[i].id;
	ASSERT_LT(0, id);
	ASSERT_EQ(1, hvx_nl_get_stats(&nl, id, -1, &s, 1));
	ASSERT_EQ(n, s.st.mmio_unknown_insns);
	ASSERT_LE(n, s.st.exceptions_injected);
	hvx_nl_close(&nl);
}

TEST(unknown_insn_ud)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mmio_unknown, 0);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(UCALL_SYNC, run_with_dev(_metadata, vcpu, &uc))
			TH_LOG("insn %d: %s", i, ucall_str(vcpu, &uc));
		ASSERT_EQ(X86_VEC_UD, uc.args[0]) TH_LOG("insn %d", i);
	}
	ASSERT_EQ(UCALL_DONE, run_with_dev(_metadata, vcpu, &uc));
	unknown_counted(_metadata, 2);
	vm_free(vm);
}

TEST_HARNESS_MAIN
