// SPDX-License-Identifier: GPL-2.0
/* mmio_string_guest.c - 64-bit guest code of mmio_string_test. */
#include "hvx_guest.h"
#include "mmio_string_guest.h"

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
 * it on re-entry, before the instruction (see mmio_alu_guest.c).
 */
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
