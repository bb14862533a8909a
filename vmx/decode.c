// SPDX-License-Identifier: GPL-2.0
/*
 * decode.c - the x86 instruction decoder for MMIO emulation.
 *
 * Decodes the instructions a guest uses on device memory into a struct
 * hvx_insn: what to do (enum hvx_insn_op), operand sizes, the register
 * operand, an immediate, and the segment and repeat prefixes string
 * instructions need. It does not compute the memory operand's address:
 * the guest-physical address comes from the EPT violation. Executing the
 * instruction is emulate.c's job.
 *
 * Instruction format: SDM Vol. 2A 2.1 (legacy prefixes 2.1.1, ModR/M and
 * SIB 2.1.5 with Tables 2-1 to 2-3), 2.2.1 (REX). Opcodes: SDM Vol. 2D
 * Appendix A, Table A-2 (one-byte map), Table A-3 (two-byte map) and
 * Table A-6 (groups selected by ModR/M.reg).
 */
#include <linux/bits.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "vmx.h"

/* How an opcode's operands are encoded (flags of struct opcode). */
#define D_MODRM		BIT(0)	/* a ModR/M byte names the memory operand */
#define D_BYTE		BIT(1)	/* 8-bit memory operand */
#define D_WORD		BIT(2)	/* 16-bit memory operand (MOVZX/MOVSX r, m16) */
#define D_REG_DST	BIT(3)	/* the register operand is the destination */
#define D_IMM8		BIT(4)	/* imm8, sign-extended to the operand size */
#define D_IMMZ		BIT(5)	/* imm16 or imm32; imm32 sign-extended to 64 */
#define D_MOFFS		BIT(6)	/* moffs8/16/32/64 address; rAX is the register */
#define D_SIGN		BIT(7)	/* MOVSX: sign-extend the loaded value */
#define D_GROUP		BIT(8)	/* ModR/M.reg selects op and alu in @group */
#define D_RAX		BIT(9)	/* the register operand is AL/AX/EAX/RAX */
#define D_CC		BIT(10)	/* SETcc/CMOVcc: opcode bits 3:0 are the condition */

/**
 * struct opcode - one entry of an opcode map
 * @op: enum hvx_insn_op; HVX_OP_NONE for opcodes hvx does not emulate.
 * @alu: enum hvx_alu for HVX_OP_ALU.
 * @group: with D_GROUP, the index into groups[].
 * @flags: D_* operand encoding.
 */
struct opcode {
	u8 op, alu, group;
	u16 flags;
};

/* Groups of SDM Vol. 2D Table A-6 that hvx emulates. */
enum { GRP1 = 1, GRP3, GRP8, GRP9, GRP11, GRP15, NR_GROUPS };

/* op and alu by ModR/M.reg; operand flags come from the opcode entry. */
static const struct opcode groups[NR_GROUPS][8] = {
	/* Group 1 (80-83): ADD OR ADC SBB AND SUB XOR CMP, r/m, imm */
	[GRP1] = {
		{ HVX_OP_ALU, HVX_ALU_ADD }, { HVX_OP_ALU, HVX_ALU_OR },
		{ HVX_OP_ALU, HVX_ALU_ADC }, { HVX_OP_ALU, HVX_ALU_SBB },
		{ HVX_OP_ALU, HVX_ALU_AND }, { HVX_OP_ALU, HVX_ALU_SUB },
		{ HVX_OP_ALU, HVX_ALU_XOR }, { HVX_OP_ALU, HVX_ALU_CMP },
	},
	/* Group 3 (F6/F7): only /0, TEST r/m, imm; NOT NEG MUL DIV are not. */
	[GRP3] = { [0] = { HVX_OP_ALU, HVX_ALU_TEST } },
	/* Group 8 (0F BA): /4-/7 are BT BTS BTR BTC r/m, imm8. */
	[GRP8] = {
		[4] = { HVX_OP_BT, HVX_BT }, [5] = { HVX_OP_BT, HVX_BTS },
		[6] = { HVX_OP_BT, HVX_BTR }, [7] = { HVX_OP_BT, HVX_BTC },
	},
	/* Group 9 (0F C7): /1 is CMPXCHG8B/CMPXCHG16B m64/m128. */
	[GRP9] = { [1] = { HVX_OP_CMPXCHG8B } },
	/* Group 11 (C6/C7): /0 is MOV r/m, imm. */
	[GRP11] = { [0] = { HVX_OP_MOV_STORE } },
	/*
	 * Group 15 (0F AE) with a memory operand: /7 is CLFLUSH (66:
	 * CLFLUSHOPT), /6 with 66 is CLWB (without it XSAVEOPT, refused
	 * below).
	 */
	[GRP15] = { [6] = { HVX_OP_CACHE_FLUSH }, [7] = { HVX_OP_CACHE_FLUSH } },
};

/*
 * Rows 00-3F of the one-byte map: for ALU operation n (ADD OR ADC SBB AND
 * SUB XOR CMP), opcode 8n+0 is "op r/m8, r8", 8n+1 "op r/m, r",
 * 8n+2 "op r8, r/m8" and 8n+3 "op r, r/m". (8n+4 and 8n+5 take AL/rAX
 * and an immediate: no memory operand.)
 */
#define ALU_ROW(n)							\
	[(n) * 8 + 0] = { HVX_OP_ALU, n, 0, D_MODRM | D_BYTE },		\
	[(n) * 8 + 1] = { HVX_OP_ALU, n, 0, D_MODRM },			\
	[(n) * 8 + 2] = { HVX_OP_ALU, n, 0, D_MODRM | D_BYTE | D_REG_DST }, \
	[(n) * 8 + 3] = { HVX_OP_ALU, n, 0, D_MODRM | D_REG_DST }

/* One-byte opcode map, SDM Vol. 2D Table A-2. */
static const struct opcode onebyte[256] = {
	ALU_ROW(HVX_ALU_ADD), ALU_ROW(HVX_ALU_OR), ALU_ROW(HVX_ALU_ADC),
	ALU_ROW(HVX_ALU_SBB), ALU_ROW(HVX_ALU_AND), ALU_ROW(HVX_ALU_SUB),
	ALU_ROW(HVX_ALU_XOR), ALU_ROW(HVX_ALU_CMP),
	[0x80] = { 0, 0, GRP1, D_GROUP | D_MODRM | D_BYTE | D_IMM8 },
	[0x81] = { 0, 0, GRP1, D_GROUP | D_MODRM | D_IMMZ },
	/* 82 is 80 again outside 64-bit mode (#UD in it, so never seen). */
	[0x82] = { 0, 0, GRP1, D_GROUP | D_MODRM | D_BYTE | D_IMM8 },
	[0x83] = { 0, 0, GRP1, D_GROUP | D_MODRM | D_IMM8 },
	[0x84] = { HVX_OP_ALU, HVX_ALU_TEST, 0, D_MODRM | D_BYTE },
	[0x85] = { HVX_OP_ALU, HVX_ALU_TEST, 0, D_MODRM },
	[0x86] = { HVX_OP_XCHG, 0, 0, D_MODRM | D_BYTE },
	[0x87] = { HVX_OP_XCHG, 0, 0, D_MODRM },
	[0x88] = { HVX_OP_MOV_STORE, 0, 0, D_MODRM | D_BYTE },
	[0x89] = { HVX_OP_MOV_STORE, 0, 0, D_MODRM },
	[0x8a] = { HVX_OP_MOV_LOAD, 0, 0, D_MODRM | D_BYTE | D_REG_DST },
	[0x8b] = { HVX_OP_MOV_LOAD, 0, 0, D_MODRM | D_REG_DST },
	[0xa0] = { HVX_OP_MOV_LOAD, 0, 0, D_MOFFS | D_RAX | D_BYTE | D_REG_DST },
	[0xa1] = { HVX_OP_MOV_LOAD, 0, 0, D_MOFFS | D_RAX | D_REG_DST },
	[0xa2] = { HVX_OP_MOV_STORE, 0, 0, D_MOFFS | D_RAX | D_BYTE },
	[0xa3] = { HVX_OP_MOV_STORE, 0, 0, D_MOFFS | D_RAX },
	[0xa4] = { HVX_OP_MOVS, 0, 0, D_BYTE },
	[0xa5] = { HVX_OP_MOVS },
	[0xa6] = { HVX_OP_CMPS, 0, 0, D_BYTE },
	[0xa7] = { HVX_OP_CMPS },
	[0xaa] = { HVX_OP_STOS, 0, 0, D_RAX | D_BYTE },
	[0xab] = { HVX_OP_STOS, 0, 0, D_RAX },
	[0xac] = { HVX_OP_LODS, 0, 0, D_RAX | D_BYTE | D_REG_DST },
	[0xad] = { HVX_OP_LODS, 0, 0, D_RAX | D_REG_DST },
	[0xae] = { HVX_OP_SCAS, 0, 0, D_RAX | D_BYTE },
	[0xaf] = { HVX_OP_SCAS, 0, 0, D_RAX },
	[0xc6] = { 0, 0, GRP11, D_GROUP | D_MODRM | D_BYTE | D_IMM8 },
	[0xc7] = { 0, 0, GRP11, D_GROUP | D_MODRM | D_IMMZ },
	[0xf6] = { 0, 0, GRP3, D_GROUP | D_MODRM | D_BYTE | D_IMM8 },
	[0xf7] = { 0, 0, GRP3, D_GROUP | D_MODRM | D_IMMZ },
};

#define CC_ROW(base, op, fl)						\
	[(base) + 0x0] = { op, 0, 0, fl }, [(base) + 0x1] = { op, 0, 0, fl }, \
	[(base) + 0x2] = { op, 0, 0, fl }, [(base) + 0x3] = { op, 0, 0, fl }, \
	[(base) + 0x4] = { op, 0, 0, fl }, [(base) + 0x5] = { op, 0, 0, fl }, \
	[(base) + 0x6] = { op, 0, 0, fl }, [(base) + 0x7] = { op, 0, 0, fl }, \
	[(base) + 0x8] = { op, 0, 0, fl }, [(base) + 0x9] = { op, 0, 0, fl }, \
	[(base) + 0xa] = { op, 0, 0, fl }, [(base) + 0xb] = { op, 0, 0, fl }, \
	[(base) + 0xc] = { op, 0, 0, fl }, [(base) + 0xd] = { op, 0, 0, fl }, \
	[(base) + 0xe] = { op, 0, 0, fl }, [(base) + 0xf] = { op, 0, 0, fl }

/*
 * Two-byte opcode map (0F xx), SDM Vol. 2D Table A-3: CMOVcc, SETcc,
 * BT BTS BTR BTC, CMPXCHG, XADD, MOVZX, MOVSX, CLFLUSH and friends.
 */
static const struct opcode twobyte[256] = {
	CC_ROW(0x40, HVX_OP_CMOV, D_MODRM | D_REG_DST | D_CC),
	CC_ROW(0x90, HVX_OP_SETCC, D_MODRM | D_BYTE | D_CC),
	[0xa3] = { HVX_OP_BT, HVX_BT, 0, D_MODRM },
	[0xab] = { HVX_OP_BT, HVX_BTS, 0, D_MODRM },
	[0xae] = { 0, 0, GRP15, D_GROUP | D_MODRM },
	[0xb0] = { HVX_OP_CMPXCHG, 0, 0, D_MODRM | D_BYTE },
	[0xb1] = { HVX_OP_CMPXCHG, 0, 0, D_MODRM },
	[0xb3] = { HVX_OP_BT, HVX_BTR, 0, D_MODRM },
	[0xba] = { 0, 0, GRP8, D_GROUP | D_MODRM | D_IMM8 },
	[0xbb] = { HVX_OP_BT, HVX_BTC, 0, D_MODRM },
	[0xc0] = { HVX_OP_XADD, 0, 0, D_MODRM | D_BYTE },
	[0xc1] = { HVX_OP_XADD, 0, 0, D_MODRM },
	[0xc3] = { HVX_OP_MOV_STORE, 0, 0, D_MODRM },	/* MOVNTI */
	[0xc7] = { 0, 0, GRP9, D_GROUP | D_MODRM },
	[0xb6] = { HVX_OP_MOVX, 0, 0, D_MODRM | D_BYTE | D_REG_DST },
	[0xb7] = { HVX_OP_MOVX, 0, 0, D_MODRM | D_WORD | D_REG_DST },
	[0xbe] = { HVX_OP_MOVX, 0, 0, D_MODRM | D_BYTE | D_REG_DST | D_SIGN },
	[0xbf] = { HVX_OP_MOVX, 0, 0, D_MODRM | D_WORD | D_REG_DST | D_SIGN },
};

/* Segment-override prefixes, in VMX segment order (ES CS SS DS FS GS). */
static const u8 seg_prefix[] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };

struct decoder {
	const u8 *p, *end;
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

static u8 peek_byte(struct decoder *d)
{
	return d->p < d->end ? *d->p : 0;
}

/* Little-endian immediate or displacement of @bytes bytes. */
static u64 next_imm(struct decoder *d, unsigned int bytes)
{
	u64 val = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++)
		val |= (u64)next_byte(d) << (8 * i);
	return val;
}

/*
 * Consume ModR/M, SIB and displacement of a memory operand, keep them in
 * @insn (@rex: the REX prefix, or X and B from VEX, for the address's
 * registers) and return ModR/M.reg. A register operand (mod = 3) cannot
 * have caused an MMIO access: the decode fails.
 */
static unsigned int decode_modrm(struct decoder *d, struct hvx_insn *insn,
				 u8 rex)
{
	u8 modrm = next_byte(d);
	unsigned int mod = modrm >> 6, rm = modrm & 7;

	if (mod == 3) {
		d->fail = true;
		return 0;
	}
	insn->mem = HVX_MEM_MODRM;
	insn->modrm = modrm;
	insn->rex = rex;
	if (insn->addr_size == 2) {	/* Table 2-1 */
		if (mod == 1)
			insn->disp = (s8)next_imm(d, 1);
		else if (mod == 2 || rm == 6)
			insn->disp = (s16)next_imm(d, 2);
	} else {			/* Tables 2-2 and 2-3; RIP-relative */
		insn->sib = rm == 4 ? next_byte(d) : 0;
		if (mod == 1)
			insn->disp = (s8)next_imm(d, 1);
		else if (mod == 2 || rm == 5 || (rm == 4 && (insn->sib & 7) == 5))
			insn->disp = (s32)next_imm(d, 4);
	}
	return (modrm >> 3) & 7;
}

/*
 * SSE moves between an XMM register and memory (SDM Vol. 2D Table A-3;
 * @pfx is the last of 66, F2 and F3, the mandatory prefix, or 0): the
 * load or store op and the memory operand size in bytes, or 0.
 */
static unsigned int sse_move(u8 b, u8 pfx, bool rex_w, u8 *op)
{
	*op = HVX_OP_VEC_LOAD;
	switch (b) {
	case 0x11:	/* MOVUPS MOVUPD MOVSS MOVSD m, xmm */
		*op = HVX_OP_VEC_STORE;
		fallthrough;
	case 0x10:	/* MOVUPS MOVUPD MOVSS MOVSD xmm, m */
		return pfx == 0xf3 ? 4 : pfx == 0xf2 ? 8 : 16;
	case 0x29:	/* MOVAPS MOVAPD m, xmm */
	case 0x2b:	/* MOVNTPS MOVNTPD */
		*op = HVX_OP_VEC_STORE;
		fallthrough;
	case 0x28:	/* MOVAPS MOVAPD xmm, m */
		return pfx == 0 || pfx == 0x66 ? 16 : 0;
	case 0x6e:	/* 66: MOVD/MOVQ xmm, r/m32/64 */
		return pfx == 0x66 ? (rex_w ? 8 : 4) : 0;
	case 0x7e:	/* 66: MOVD/MOVQ r/m, xmm; F3: MOVQ xmm, m64 */
		if (pfx == 0xf3)
			return 8;
		*op = HVX_OP_VEC_STORE;
		return pfx == 0x66 ? (rex_w ? 8 : 4) : 0;
	case 0x7f:	/* MOVDQA MOVDQU m, xmm */
		*op = HVX_OP_VEC_STORE;
		fallthrough;
	case 0x6f:	/* MOVDQA MOVDQU xmm, m */
		return pfx == 0x66 || pfx == 0xf3 ? 16 : 0;
	case 0xd6:	/* MOVQ m64, xmm */
		*op = HVX_OP_VEC_STORE;
		return pfx == 0x66 ? 8 : 0;
	case 0xe7:	/* MOVNTDQ */
		*op = HVX_OP_VEC_STORE;
		return pfx == 0x66 ? 16 : 0;
	}
	return 0;
}

/*
 * The SSE move under a VEX prefix (@c4: C4 or C5, already consumed; the
 * operand sizes of @insn are set). VEX.L = 1 doubles a full-vector move
 * to 32 bytes; VEX.vvvv must be 1111b (else the CPU raised #UD).
 */
static int decode_vex(struct decoder *d, u8 c4, struct hvx_insn *insn,
		      const u8 *bytes)
{
	static const u8 pp_prefix[] = { 0, 0x66, 0xf3, 0xf2 };
	u8 p1 = next_byte(d), p2 = p1, b;
	bool w = false;

	if (c4 == 0xc4) {
		if ((p1 & 0x1f) != 1)		/* map 0F */
			return -EINVAL;
		p2 = next_byte(d);
		w = p2 & 0x80;
	}
	b = next_byte(d);
	if (d->fail || ((p2 >> 3) & 0xf) != 0xf)
		return -EINVAL;
	insn->vec_size = sse_move(b, pp_prefix[p2 & 3], w, &insn->op);
	if (!insn->vec_size)
		return -EINVAL;
	if ((p2 & 4) && insn->vec_size == 16)
		insn->vec_size = 32;
	insn->vex = true;
	insn->size = min_t(u8, insn->vec_size, 8);
	/* VEX holds R, X and B inverted: P1 bits 7, 6, 5 (C5: R only). */
	insn->reg = decode_modrm(d, insn, c4 == 0xc4 ? (~p1 >> 5) & 3 : 0) |
		    (p1 & 0x80 ? 0 : 8);
	if (d->fail)
		return -EINVAL;
	insn->len = d->p - bytes;
	return 0;
}

/**
 * hvx_decode - decode one instruction that accessed MMIO
 * @bytes: the instruction bytes at CS:RIP.
 * @n: how many of @bytes are valid (at most 15 are looked at).
 * @code_size: default operand/address size of the code segment: 2 (16-bit
 *	code), 4 (32-bit code) or 8 (64-bit mode, SDM Vol. 1 3.6.1).
 * @insn: output.
 *
 * Return: 0, or -EINVAL when the bytes are not one of the instruction
 * forms hvx emulates (see enum hvx_insn_op) or are cut short.
 */
int hvx_decode(const u8 *bytes, unsigned int n, unsigned int code_size,
	       struct hvx_insn *insn)
{
	struct decoder d = { .p = bytes, .end = bytes + min(n, 15u) };
	bool mode64 = code_size == 8, opsize_prefix = false;
	bool addrsize_prefix = false;
	const struct opcode *opc;
	u8 simd_pfx = 0;
	unsigned int reg = 0, i;
	u8 b, rex = 0;

	memset(insn, 0, sizeof(*insn));
	insn->seg = HVX_SEG_DS;
	/*
	 * Legacy prefixes in any order (SDM Vol. 2A 2.1.1), then in 64-bit
	 * mode an optional REX, which only counts right before the opcode
	 * (2.2.1). LOCK is accepted: each MMIO access is one exit anyway.
	 */
	for (;;) {
		b = next_byte(&d);
		if (d.fail)
			return -EINVAL;
		if (mode64 && (b & 0xf0) == 0x40) {
			rex = b;
			continue;
		}
		if (b == 0x66 || b == 0xf2 || b == 0xf3)
			simd_pfx = b;
		if (b == 0x66) {
			opsize_prefix = true;
		} else if (b == 0x67) {
			addrsize_prefix = true;
		} else if (b == 0xf2 || b == 0xf3) {
			/* REP, REPE or REPNE for string ops; else ignored. */
			insn->rep = true;
			insn->repne = b == 0xf2;	/* the last one counts */
		} else if (b == 0xf0) {
			insn->lock = true;
		} else {
			for (i = 0; i < ARRAY_SIZE(seg_prefix); i++)
				if (b == seg_prefix[i])
					break;
			if (i == ARRAY_SIZE(seg_prefix))
				break;		/* the opcode */
			/* 64-bit mode ignores ES/CS/SS/DS overrides. */
			if (!mode64 || i >= HVX_SEG_FS) {
				insn->seg = i;
				insn->seg_override = true;
			}
		}
		rex = 0;	/* a REX before a legacy prefix is ignored */
	}

	/* Operand size: SDM Vol. 1 3.6.1 (Table 3-4 for 64-bit mode). */
	if (rex & 8)
		insn->opsize = 8;
	else if (code_size == 2)
		insn->opsize = opsize_prefix ? 4 : 2;
	else
		insn->opsize = opsize_prefix ? 2 : 4;
	if (mode64)
		insn->addr_size = addrsize_prefix ? 4 : 8;
	else if (code_size == 4)
		insn->addr_size = addrsize_prefix ? 2 : 4;
	else
		insn->addr_size = addrsize_prefix ? 4 : 2;

	/*
	 * VEX (SDM Vol. 2A 2.3.5): C5 (two bytes) or C4 (three bytes, map
	 * 0F only), the SSE moves' VEX forms. Outside 64-bit mode C4/C5 are
	 * LES/LDS unless the next byte has bits 7:6 set.
	 */
	if ((b == 0xc4 || b == 0xc5) && (mode64 || (peek_byte(&d) & 0xc0) == 0xc0))
		return decode_vex(&d, b, insn, bytes);

	opc = &onebyte[b];
	if (b == 0x0f) {
		b = next_byte(&d);
		opc = &twobyte[b];
		insn->vec_size = sse_move(b, simd_pfx, rex & 8, &insn->op);
		if (insn->vec_size) {
			/* One access of up to 8 bytes per exit. */
			insn->size = min_t(u8, insn->vec_size, 8);
			insn->reg = decode_modrm(&d, insn, rex) |
				    (rex & 4 ? 8 : 0);
			if (d.fail)
				return -EINVAL;
			insn->len = d.p - bytes;
			return 0;
		}
	}
	if (opc->flags & D_CC)
		insn->alu = b & 0xf;	/* condition, SDM Vol. 2A B.1.4.7 */
	if (opc->flags & D_GROUP) {
		unsigned int modrm_reg = (peek_byte(&d) >> 3) & 7;
		const struct opcode *g = &groups[opc->group][modrm_reg];

		insn->op = g->op;
		insn->alu = g->alu;
		/*
		 * Group 15 holds other instructions under other prefixes,
		 * and fences with a register operand.
		 */
		if (opc->group == GRP15 &&
		    ((simd_pfx && simd_pfx != 0x66) ||
		     (modrm_reg == 6 && simd_pfx != 0x66) ||
		     (peek_byte(&d) & 0xc0) == 0xc0))
			return -EINVAL;
	} else {
		insn->op = opc->op;
		if (!(opc->flags & D_CC))
			insn->alu = opc->alu;
	}
	if (d.fail || insn->op == HVX_OP_NONE)
		return -EINVAL;

	if (opc->flags & D_MODRM)
		reg = decode_modrm(&d, insn, rex) | (rex & 4 ? 8 : 0);
	if (opc->flags & D_MOFFS) {
		insn->mem = HVX_MEM_MOFFS;
		insn->disp = next_imm(&d, insn->addr_size);
	}

	insn->size = opc->flags & D_BYTE ? 1 :
		     opc->flags & D_WORD ? 2 : insn->opsize;
	if (insn->op == HVX_OP_CMPXCHG8B) {
		/* m64, or m128 with REX.W, in 8-byte accesses */
		insn->vec_size = rex & 8 ? 16 : 8;
		insn->size = 8;
	}
	/* MOVZX/MOVSX load into a register of the operand size. */
	insn->reg_size = insn->op == HVX_OP_MOVX ? insn->opsize : insn->size;
	insn->reg_dst = opc->flags & D_REG_DST;
	insn->sign_extend = opc->flags & D_SIGN;

	if (opc->flags & D_RAX) {
		insn->reg = HVX_RAX;
	} else {
		insn->reg = reg;
		/* Without REX, byte registers 4-7 are AH CH DH BH (Table 2-2). */
		insn->high_byte = insn->reg_size == 1 && !rex &&
				  reg >= 4 && reg < 8;
	}

	if (opc->flags & (D_IMM8 | D_IMMZ)) {
		insn->has_imm = true;
		if (opc->flags & D_IMM8)
			insn->imm = (s64)(s8)next_imm(&d, 1);
		else if (insn->size == 2)
			insn->imm = (s64)(s16)next_imm(&d, 2);
		else
			insn->imm = (s64)(s32)next_imm(&d, 4);
	}
	if (d.fail)
		return -EINVAL;
	insn->len = d.p - bytes;
	return 0;
}
