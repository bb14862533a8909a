// SPDX-License-Identifier: GPL-2.0
/* insn_guest.c - 64-bit guest code of insn_test. */
#include "hvx_guest.h"
#include "insn_guest.h"

volatile uint64_t guest_insn_vec[INSN_NR];

/* Execute @insn; return the vector it raised, 0 if none. */
#define TRY(insn) ({							\
	guest_fixup_vector = 0;						\
	asm volatile("movq $1f, %[fix]\n\t"				\
		     insn "\n"						\
		     "1:\tmovq $0, %[fix]"				\
		     : [fix] "=m"(guest_fixup_rip)			\
		     : : "memory", "rax", "rcx", "rdx");		\
	guest_fixup_vector;						\
})

void guest_insns(uint64_t unused)
{
	uint64_t mem[2] = { 0, 0 };

	(void)unused;
	(void)mem;
	guest_insn_vec[INSN_INVD] = TRY("invd");
	guest_insn_vec[INSN_WBINVD] = TRY("wbinvd");
	guest_insn_vec[INSN_VMCALL] = TRY("vmcall");
	guest_insn_vec[INSN_VMXON] = TRY("vmxon (%%rsp)");
	guest_insn_vec[INSN_VMCLEAR] = TRY("vmclear (%%rsp)");
	guest_insn_vec[INSN_VMPTRLD] = TRY("vmptrld (%%rsp)");
	guest_insn_vec[INSN_VMREAD] = TRY("xor %%eax, %%eax; vmread %%rax, %%rcx");
	guest_insn_vec[INSN_VMWRITE] = TRY("xor %%eax, %%eax; vmwrite %%rcx, %%rax");
	guest_insn_vec[INSN_VMLAUNCH] = TRY("vmlaunch");
	guest_insn_vec[INSN_VMRESUME] = TRY("vmresume");
	guest_insn_vec[INSN_VMXOFF] = TRY("vmxoff");
	guest_insn_vec[INSN_INVEPT] = TRY("mov $1, %%eax; invept (%%rsp), %%rax");
	guest_insn_vec[INSN_INVVPID] = TRY("mov $1, %%eax; invvpid (%%rsp), %%rax");
	guest_insn_vec[INSN_MONITOR] = TRY("mov %%rsp, %%rax; xor %%ecx, %%ecx; xor %%edx, %%edx; monitor");
	guest_insn_vec[INSN_MWAIT] = TRY("xor %%eax, %%eax; xor %%ecx, %%ecx; mwait");
	guest_insn_vec[INSN_RDPMC] = TRY("xor %%ecx, %%ecx; rdpmc");
	guest_insn_vec[INSN_DR7_HIGH] = TRY("mov $0x100000400, %%rax; mov %%rax, %%dr7");
	GUEST_DONE();
}

/* DR0-DR3 and DR7 round-trip; DR6 reads its reset value (SDM Vol. 3B
 * 18.2.3); MOV to DR7 raises no exception for a valid value. */
void guest_debug_regs(uint64_t unused)
{
	uint64_t dr0, dr3, dr6, dr7;

	(void)unused;
	asm volatile("mov %0, %%dr0" : : "r"(0x1234000ull));
	asm volatile("mov %0, %%dr3" : : "r"(0xfedcba98ull));
	asm volatile("mov %0, %%dr7" : : "r"(0x401ull));
	asm volatile("mov %%dr0, %0" : "=r"(dr0));
	asm volatile("mov %%dr3, %0" : "=r"(dr3));
	asm volatile("mov %%dr6, %0" : "=r"(dr6));
	asm volatile("mov %%dr7, %0" : "=r"(dr7));
	asm volatile("mov %0, %%dr7" : : "r"(0x400ull));
	GUEST_SYNC_ARGS(dr0, dr3, dr6, dr7);
	GUEST_DONE();
}

static inline uint64_t guest_rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

void guest_rdtsc_twice(uint64_t unused)
{
	(void)unused;
	GUEST_SYNC(guest_rdtsc());
	GUEST_SYNC(guest_rdtsc());
	GUEST_DONE();
}
