// SPDX-License-Identifier: GPL-2.0
/*
 * equiv2_test - the guest sees the CPU it was promised: exceptions hvx
 * injects carry what the CPU's own would (RFLAGS.RF, error code) and
 * escalate as the CPU's own (double fault, shutdown), and
 * CPUID announces what hvx virtualizes (IA32_TSC_ADJUST, and FSGSBASE,
 * SMEP, SMAP, PCID and INVPCID as the host has them).
 */
#include "hvx_test.h"
#include "hvx_guest.h"

/* Guest code: the frames of exceptions hvx injects look like the CPU's
 * own, and the CPUID bits hvx announces work. */

#define RFLAGS_RF		(1ull << 16)
#define MSR_IA32_TSC_ADJUST	0x3b
#define MSR_NONE		0x4b564d99	/* no such MSR on Intel CPUs */
#define CR4_RESERVED_BIT	(1ull << 31)
#define LEAF7_EBX_TSC_ADJUST	(1u << 1)
#define X86_TRAP_GP_VEC		13

/* Run UD2 (a fault the CPU itself delivers): the vector, 0 if none. */
GUEST_CODE
static uint64_t ud2_safe(void)
{
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "ud2\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : : "memory");
	return guest_fixup_vector;
}

/* MOV to CR@cr: the vector raised, or 0. */
#define WRITE_CR_SAFE(cr)						\
GUEST_CODE								\
static uint64_t write_cr##cr##_safe(uint64_t val)			\
{									\
	guest_fixup_vector = 0;						\
	asm volatile("movq $1f, %[fix]\n\t"				\
		     "mov %[v], %%cr" #cr "\n"				\
		     "1:\tmovq $0, %[fix]"					\
		     : [fix] "=m"(guest_fixup_rip) : [v] "r"(val) : "memory"); \
	return guest_fixup_vector;					\
}
WRITE_CR_SAFE(3)
WRITE_CR_SAFE(4)	/* always exits under hvx */

#define NP_LA			0x3fe00000	/* its 2 MiB page made not present */

/*
 * MOVSB from MMIO (emulated by hvx) to a page that is not present: the
 * #PF hvx injects. The vector, 0 if none.
 */
GUEST_CODE
static uint64_t mmio_movs_pf(void)
{
	volatile uint64_t *pde = (volatile uint64_t *)GPA_PD + (NP_LA >> 21);
	uint64_t si = GPA_MMIO, di = NP_LA;

	*pde &= ~PTE_PRESENT;
	asm volatile("invlpg (%0)" : : "r"(di) : "memory");
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "cld\n\t"
		     "movsb\n"
		     "1:\tmovq $0, %[fix]"
		     : "+S"(si), "+D"(di), [fix] "=m"(guest_fixup_rip)
		     : : "memory");
	*pde |= PTE_PRESENT;
	asm volatile("invlpg (%0)" : : "r"(di) : "memory");
	return guest_fixup_vector;
}

/*
 * A fault pushes RFLAGS with RF set (SDM Vol. 3A 17.3.1.1), whether the
 * CPU delivers it (#UD from UD2, not intercepted) or hvx injects it
 * after emulating the instruction (#GP from RDMSR/WRMSR of a missing
 * MSR, from a reserved CR4 bit; #PF from an emulated MMIO string move).
 * The error code of those #GPs is 0.
 */
GUEST_CODE
static void guest_fault_rflags(uint64_t arg)
{
	uint64_t val;

	(void)arg;
	GUEST_ASSERT_EQ(6, ud2_safe());
	GUEST_ASSERT_EQ(RFLAGS_RF, guest_fixup_rflags & RFLAGS_RF);

	GUEST_ASSERT_EQ(13, guest_rdmsr_safe(MSR_NONE, &val));
	GUEST_ASSERT_EQ(0, guest_fixup_error);
	GUEST_ASSERT_EQ(RFLAGS_RF, guest_fixup_rflags & RFLAGS_RF);

	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_NONE, 1));
	GUEST_ASSERT_EQ(0, guest_fixup_error);
	GUEST_ASSERT_EQ(RFLAGS_RF, guest_fixup_rflags & RFLAGS_RF);

	GUEST_ASSERT_EQ(13, write_cr4_safe(guest_read_cr4() | CR4_RESERVED_BIT));
	GUEST_ASSERT_EQ(0, guest_fixup_error);
	GUEST_ASSERT_EQ(RFLAGS_RF, guest_fixup_rflags & RFLAGS_RF);

	GUEST_ASSERT_EQ(14, mmio_movs_pf());
	GUEST_ASSERT_EQ(2, guest_fixup_error);	/* write, not present */
	GUEST_ASSERT_EQ(RFLAGS_RF, guest_fixup_rflags & RFLAGS_RF);

	/* An emulated instruction that completes leaves RF clear. */
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_TSC_ADJUST, &val));
	GUEST_DONE();
}

GUEST_CODE
static uint64_t rdtsc64(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/*
 * IA32_TSC_ADJUST (SDM Vol. 3B 18.17.3): announced by CPUID.(7,0):EBX[1];
 * 0 at reset; adding X to it adds X to the TSC; a write of the TSC adds
 * the same difference to it.
 */
GUEST_CODE
static void guest_tsc_adjust(uint64_t arg)
{
	const uint64_t step = 1ull << 40, jump = 1ull << 36;
	uint32_t a, b, c, d;
	uint64_t adj, t0, t1;

	(void)arg;
	cpuid(7, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(LEAF7_EBX_TSC_ADJUST, b & LEAF7_EBX_TSC_ADJUST);
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_TSC_ADJUST, &adj));
	GUEST_ASSERT_EQ(0, adj);

	t0 = rdtsc64();
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_IA32_TSC_ADJUST, step));
	t1 = rdtsc64();
	GUEST_ASSERT(t1 - t0 >= step && t1 - t0 < step + (1ull << 32));
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_TSC_ADJUST, &adj));
	GUEST_ASSERT_EQ(step, adj);

	t0 = rdtsc64();
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_IA32_TSC, t0 + jump));
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_TSC_ADJUST, &adj));
	/* jump less the ticks between the RDTSC and the WRMSR */
	GUEST_ASSERT(adj - step <= jump && adj - step > jump - (1ull << 32));
	GUEST_DONE();
}

/* Clear or set the present bit of IDT gate @vec (SDM Vol. 3A 6.14.1). */
GUEST_CODE
static void gate_present(unsigned int vec, int present)
{
	volatile uint8_t *attr = (volatile uint8_t *)GPA_IDT + 16 * vec + 5;

	*attr = present ? *attr | 0x80 : *attr & ~0x80;
}

/*
 * Exceptions while delivering an exception (SDM Vol. 3A 6.15, Tables 6-4
 * and 6-5), starting from exceptions hvx injects:
 * - #GP (hvx's, for RDMSR of a missing MSR) through a gate that is not
 *   present raises #NP, contributory during contributory: #DF, error 0;
 * - #UD (the CPU's) through a missing gate: benign, then contributory,
 *   handled serially: #NP with the #UD gate's index, IDT and EXT set;
 * - with @triple, the #DF gate is missing too: #NP during #DF shuts the
 *   processor down, which the VMM sees as a triple fault.
 */
GUEST_CODE
static void guest_double_fault(uint64_t triple)
{
	uint64_t val;

	gate_present(X86_TRAP_GP_VEC, 0);
	GUEST_ASSERT_EQ(8, guest_rdmsr_safe(MSR_NONE, &val));
	GUEST_ASSERT_EQ(0, guest_fixup_error);
	gate_present(X86_TRAP_GP_VEC, 1);

	gate_present(6, 0);
	GUEST_ASSERT_EQ(11, ud2_safe());
	/* selector index 6, IDT, EXT (during delivery of an exception) */
	GUEST_ASSERT_EQ(6 * 8 + 2 + 1, guest_fixup_error);
	gate_present(6, 1);

	if (triple) {
		gate_present(X86_TRAP_GP_VEC, 0);
		gate_present(8, 0);
		GUEST_SYNC(1);
		guest_rdmsr_safe(MSR_NONE, &val);
		GUEST_SYNC(2);				/* not reached */
	}
	GUEST_DONE();
}

/*
 * One CPUID bit and the CR4 bit it announces (SDM Vol. 2A Tables 3-8,
 * 3-10, 3-11).
 */
struct cr4_feature {
	uint32_t leaf, reg, bit;	/* reg: 0 EAX, 1 EBX, 2 ECX, 3 EDX */
	uint64_t cr4;
};

static const struct cr4_feature cr4_features[] = {
	{ 1, 3, 1, 1ull << 0 },		/* VME */
	{ 1, 3, 2, 1ull << 3 },		/* DE */
	{ 1, 3, 3, 1ull << 4 },		/* PSE */
	{ 1, 3, 7, 1ull << 6 },		/* MCE */
	{ 1, 3, 13, 1ull << 7 },	/* PGE */
	{ 1, 3, 24, 1ull << 9 },	/* FXSR: OSFXSR */
	{ 1, 3, 25, 1ull << 10 },	/* SSE: OSXMMEXCPT */
	{ 1, 2, 5, 1ull << 13 },	/* VMX: VMXE */
	{ 1, 2, 6, 1ull << 14 },	/* SMX: SMXE */
	{ 1, 2, 17, 1ull << 17 },	/* PCID: PCIDE */
	{ 1, 2, 26, 1ull << 18 },	/* XSAVE: OSXSAVE */
	{ 7, 1, 0, 1ull << 16 },	/* FSGSBASE */
	{ 7, 1, 7, 1ull << 20 },	/* SMEP */
	{ 7, 1, 20, 1ull << 21 },	/* SMAP */
	{ 7, 2, 2, 1ull << 11 },	/* UMIP */
	{ 7, 2, 3, 1ull << 22 },	/* PKU: PKE */
};

GUEST_CODE
static uint32_t cpuid_reg(uint32_t leaf, uint32_t sub, uint32_t reg)
{
	uint32_t r[4];

	cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
	return r[reg];
}

GUEST_CODE
static uint64_t exec_safe_invpcid(void)
{
	struct { uint64_t pcid, la; } desc = { 0, 0 };

	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "invpcid %[d], %[t]\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip)
		     : [d] "m"(desc), [t] "r"(2ull) : "memory");
	return guest_fixup_vector;
}

GUEST_CODE
static uint64_t exec_safe_monitor(void)
{
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "monitor\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip)
		     : "a"(GPA_BLOB_DATA), "c"(0), "d"(0) : "memory");
	return guest_fixup_vector;
}

/* CLFLUSH (0), CLFLUSHOPT (1) or CLWB (2) of an MMIO byte: the vector. */
GUEST_CODE
static uint64_t flush_safe(int which)
{
	volatile uint8_t *p = (volatile uint8_t *)GPA_MMIO;

	guest_fixup_vector = 0;
	if (which == 0)
		asm volatile("movq $1f, %[fix]\n\t"
			     "clflush %[m]\n"
			     "1:\tmovq $0, %[fix]"
			     : [fix] "=m"(guest_fixup_rip) : [m] "m"(*p) : "memory");
	else if (which == 1)
		asm volatile("movq $1f, %[fix]\n\t"
			     "clflushopt %[m]\n"
			     "1:\tmovq $0, %[fix]"
			     : [fix] "=m"(guest_fixup_rip) : [m] "m"(*p) : "memory");
	else
		asm volatile("movq $1f, %[fix]\n\t"
			     "clwb %[m]\n"
			     "1:\tmovq $0, %[fix]"
			     : [fix] "=m"(guest_fixup_rip) : [m] "m"(*p) : "memory");
	return guest_fixup_vector;
}

#define MSR_MTRRCAP	0xfe
#define MSR_MCG_CAP	0x179

/*
 * The CPUID table against what hvx virtualizes: a CR4 bit can be set
 * exactly when CPUID announces its feature (#GP otherwise, SDM Vol. 3A
 * 2.5); the MSRs of announced features (MTRR, MCA, PAT, SEP) read
 * without #GP; EFER.NXE and EFER.SCE are writable exactly when NX and
 * SYSCALL are announced; MONITOR and INVPCID raise #UD unless announced;
 * CLFLUSH, CLFLUSHOPT and CLWB, where announced, work on MMIO.
 */
GUEST_CODE
static void guest_cpuid_consistent(uint64_t arg)
{
	uint64_t cr4 = guest_read_cr4(), val, efer;
	uint32_t edx1 = cpuid_reg(1, 0, 3), ecx1 = cpuid_reg(1, 0, 2);
	uint32_t ext1 = cpuid_reg(0x80000001, 0, 3);
	unsigned int i;

	(void)arg;
	for (i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
		const struct cr4_feature *f = &cr4_features[i];
		int has = !!(cpuid_reg(f->leaf, 0, f->reg) & (1u << f->bit));

		if (cr4 & f->cr4) {
			GUEST_ASSERT_EQ(1, has);	/* set by the lib */
			continue;
		}
		GUEST_SYNC_ARGS(f->leaf, f->reg, f->bit, has);
		GUEST_ASSERT_EQ(has ? 0 : 13, write_cr4_safe(cr4 | f->cr4));
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4));
	}

	if (edx1 & (1u << 12))		/* MTRR */
		GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_MTRRCAP, &val));
	if (edx1 & (1u << 14))		/* MCA */
		GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_MCG_CAP, &val));
	if (edx1 & (1u << 16))		/* PAT */
		GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_PAT, &val));
	if (edx1 & (1u << 11))		/* SEP */
		GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_SYSENTER_CS, &val));

	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_EFER, &efer));
	if (!(efer & (1ull << 11)))	/* NXE */
		GUEST_ASSERT_EQ(ext1 & (1u << 20) ? 0 : 13,
				guest_wrmsr_safe(MSR_EFER, efer | (1ull << 11)));
	GUEST_ASSERT_EQ(ext1 & (1u << 11) ? 0 : 13,	/* SYSCALL: SCE */
			guest_wrmsr_safe(MSR_EFER, efer | EFER_SCE));
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_EFER, efer));

	if (!(ecx1 & (1u << 3)))	/* MONITOR */
		GUEST_ASSERT_EQ(6, exec_safe_monitor());
	GUEST_ASSERT_EQ(cpuid_reg(7, 0, 1) & (1u << 10) ? 0 : 6,
			exec_safe_invpcid());

	/*
	 * Leaf 0xB (x2APIC topology, SDM Vol. 3A 9.9.1): the SMT level with
	 * one thread, the core level with the VM's vCPUs, then the invalid
	 * level; EDX the x2APIC id, equal to the initial APIC id of leaf 1.
	 */
	if (cpuid_reg(0, 0, 0) >= 0xb && cpuid_reg(0xb, 0, 1)) {
		uint32_t id = cpuid_reg(1, 0, 1) >> 24;

		GUEST_ASSERT_EQ(id, cpuid_reg(0xb, 0, 3));
		GUEST_ASSERT_EQ(0x100, cpuid_reg(0xb, 0, 2));
		GUEST_ASSERT_EQ(1, cpuid_reg(0xb, 0, 1));
		GUEST_ASSERT_EQ(0x201, cpuid_reg(0xb, 1, 2));
		GUEST_ASSERT(cpuid_reg(0xb, 1, 1) >= 1);
		GUEST_ASSERT(id < (1u << cpuid_reg(0xb, 1, 0)) || !id);
		GUEST_ASSERT_EQ(id, cpuid_reg(0xb, 1, 3));
		GUEST_ASSERT_EQ(2, cpuid_reg(0xb, 2, 2));
		GUEST_ASSERT_EQ(0, cpuid_reg(0xb, 2, 1));
	}
	/* ARAT (leaf 6 EAX[2]) only with a local APIC. */
	if (cpuid_reg(6, 0, 0) & (1u << 2))
		GUEST_ASSERT(edx1 & (1u << 9));
	/* VAES, VPCLMULQDQ only with AVX and its XSAVE state; GFNI runs. */
	if (cpuid_reg(7, 0, 2) & (3u << 9)) {
		GUEST_ASSERT(ecx1 & (1u << 28));
		GUEST_ASSERT(cpuid_reg(0xd, 0, 0) & (1u << 2));
	}
	if (cpuid_reg(7, 0, 2) & (1u << 8)) {
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4 | (1ull << 9)));	/* OSFXSR */
		guest_fixup_vector = 0;
		asm volatile("movq $1f, %[fix]\n\t"
			     "gf2p8affineqb $0, %%xmm0, %%xmm0\n"
			     "1:\tmovq $0, %[fix]"
			     : [fix] "=m"(guest_fixup_rip) : : "memory");
		GUEST_ASSERT_EQ(0, guest_fixup_vector);
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4));
	}

	/* Cache-line flushes announced work on MMIO too (emulated). */
	if (edx1 & (1u << 19))		/* CLFSH */
		GUEST_ASSERT_EQ(0, flush_safe(0));
	if (cpuid_reg(7, 0, 1) & (1u << 23))	/* CLFLUSHOPT */
		GUEST_ASSERT_EQ(0, flush_safe(1));
	if (cpuid_reg(7, 0, 1) & (1u << 24))	/* CLWB */
		GUEST_ASSERT_EQ(0, flush_safe(2));
	GUEST_DONE();
}

#define CR4_UMIP	(1ull << 11)
#define CR4_FSGSBASE	(1ull << 16)
#define CR4_PCIDE	(1ull << 17)
#define CR4_SMEP	(1ull << 20)
#define CR4_SMAP	(1ull << 21)
#define PTE_USER	(1ull << 2)
#define MSR_FS_BASE	0xc0000100
#define USER_LA		0xc0000000ull	/* PD index 1536: an alias of 0-2 MiB */

GUEST_CODE
static uint64_t rdfsbase_safe(uint64_t *val)
{
	uint64_t v = 0;

	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "rdfsbase %[v]\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip), [v] "+r"(v) : : "memory");
	*val = v;
	return guest_fixup_vector;
}

GUEST_CODE
static uint64_t read_cr3(void)
{
	uint64_t v;

	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}


GUEST_CODE
static uint64_t invpcid_safe(uint64_t type, uint64_t pcid, uint64_t la)
{
	struct { uint64_t pcid, la; } desc = { pcid, la };

	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "invpcid %[d], %[t]\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip)
		     : [d] "m"(desc), [t] "r"(type) : "memory");
	return guest_fixup_vector;
}

/* Jump to @la, which holds RET: the vector of a fault on the way, or 0. */
GUEST_CODE
static uint64_t exec_safe(uint64_t la)
{
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "movq %%rsp, %%rbx\n\t"
		     "pushq $1f\n\t"
		     "jmp *%[la]\n"
		     "1:\tmovq %%rbx, %%rsp\n\t"
		     "movq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : [la] "r"(la)
		     : "rbx", "memory");
	return guest_fixup_vector;
}

/*
 * Features whose CR4 bit hvx lets through to the CPU (vmx.c,
 * probe_cr4_native()), each checked where CPUID announces it (the
 * consistency test above checks that the bit is refused otherwise):
 * - FSGSBASE: RDFSBASE reads IA32_FS_BASE with CR4.FSGSBASE, #UD without;
 * - SMEP: a supervisor fetch from a user page raises #PF with P and I/D
 *   (error 0x11), and works with SMEP off;
 * - SMAP: a supervisor read of a user page raises #PF (P, error 0x1)
 *   unless RFLAGS.AC;
 * - PCID: CR4.PCIDE refused (#GP) while CR3[11:0] != 0; with it, a CR3
 *   load keeps the PCID and drops bit 63 (no flush), SDM Vol. 3A 4.10.1;
 * - INVPCID: every type works, type 4 is #GP (SDM Vol. 2A INVPCID).
 * The guest reports each announced feature with GUEST_SYNC(bit).
 */
GUEST_CODE
static void guest_cr4_native(uint64_t arg)
{
	volatile uint64_t *pml4 = (volatile uint64_t *)GPA_PML4;
	volatile uint64_t *pdpt = (volatile uint64_t *)GPA_PDPT;
	volatile uint64_t *pd = (volatile uint64_t *)GPA_PD;
	volatile uint8_t *ret = (volatile uint8_t *)GPA_BLOB_DATA;
	uint64_t cr4 = guest_read_cr4(), cr3 = read_cr3(), val, msr;
	uint32_t ebx7 = cpuid_reg(7, 0, 1), ecx1 = cpuid_reg(1, 0, 2);

	(void)arg;
	if (ebx7 & (1u << 0)) {
		GUEST_SYNC(CR4_FSGSBASE);
		GUEST_ASSERT_EQ(6, rdfsbase_safe(&val));
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4 | CR4_FSGSBASE));
		GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_FS_BASE, 0x123456789000ull));
		GUEST_ASSERT_EQ(0, rdfsbase_safe(&val));
		GUEST_ASSERT_EQ(0x123456789000ull, val);
		asm volatile("wrfsbase %0" : : "r"(0x5000ull));
		GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_FS_BASE, &msr));
		GUEST_ASSERT_EQ(0x5000, msr);
		asm volatile("wrfsbase %0" : : "r"(0ull));
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4));
	}

	/* A user alias of the first 2 MiB at USER_LA; RET in the data blob. */
	*ret = 0xc3;
	pml4[0] |= PTE_USER;
	pdpt[USER_LA >> 30] |= PTE_USER;
	pd[USER_LA >> 21] = PTE_PRESENT | PTE_WRITE | PTE_LARGE | PTE_USER;
	write_cr3_safe(cr3);
	GUEST_ASSERT_EQ(0, exec_safe(USER_LA + GPA_BLOB_DATA));
	if (ebx7 & (1u << 7)) {
		GUEST_SYNC(CR4_SMEP);
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4 | CR4_SMEP));
		GUEST_ASSERT_EQ(14, exec_safe(USER_LA + GPA_BLOB_DATA));
		GUEST_ASSERT_EQ(0x11, guest_fixup_error);
		GUEST_ASSERT_EQ(0, exec_safe(GPA_BLOB_DATA));	/* supervisor page */
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4));
	}
	if (ebx7 & (1u << 20)) {
		volatile uint8_t *u = (volatile uint8_t *)(USER_LA + GPA_BLOB_DATA);

		GUEST_SYNC(CR4_SMAP);
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4 | CR4_SMAP));
		guest_fixup_vector = 0;
		asm volatile("movq $1f, %[fix]\n\t"
			     "movb %[m], %%al\n"
			     "1:\tmovq $0, %[fix]"
			     : [fix] "=m"(guest_fixup_rip) : [m] "m"(*u) : "rax", "memory");
		GUEST_ASSERT_EQ(14, guest_fixup_vector);
		GUEST_ASSERT_EQ(0x1, guest_fixup_error);
		asm volatile("stac; movb %0, %%al; clac" : : "m"(*u) : "rax");
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4));
	}
	pd[USER_LA >> 21] = USER_LA | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
	pdpt[USER_LA >> 30] &= ~PTE_USER;
	pml4[0] &= ~PTE_USER;
	write_cr3_safe(cr3);

	if (ecx1 & (1u << 17)) {
		GUEST_SYNC(CR4_PCIDE);
		GUEST_ASSERT_EQ(0, write_cr3_safe(cr3 | 0x8));		/* PWT */
		GUEST_ASSERT_EQ(13, write_cr4_safe(cr4 | CR4_PCIDE));
		GUEST_ASSERT_EQ(0, write_cr3_safe(cr3));
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4 | CR4_PCIDE));
		GUEST_ASSERT_EQ(0, write_cr3_safe(cr3 | 5));
		GUEST_ASSERT_EQ(cr3 | 5, read_cr3());
		GUEST_ASSERT_EQ(0, write_cr3_safe(cr3 | 7 | (1ull << 63)));
		GUEST_ASSERT_EQ(cr3 | 7, read_cr3());
		if (ebx7 & (1u << 10)) {
			GUEST_ASSERT_EQ(0, invpcid_safe(0, 7, GPA_BLOB_DATA));
			GUEST_ASSERT_EQ(0, invpcid_safe(1, 5, 0));
		}
		GUEST_ASSERT_EQ(0, write_cr3_safe(cr3));
		GUEST_ASSERT_EQ(0, write_cr4_safe(cr4));
	}
	if (ebx7 & (1u << 10)) {
		GUEST_SYNC(10);
		GUEST_ASSERT_EQ(0, invpcid_safe(0, 0, GPA_BLOB_DATA));
		GUEST_ASSERT_EQ(0, invpcid_safe(1, 0, 0));
		GUEST_ASSERT_EQ(0, invpcid_safe(2, 0, 0));
		GUEST_ASSERT_EQ(0, invpcid_safe(3, 0, 0));
		GUEST_ASSERT_EQ(13, invpcid_safe(4, 0, 0));
	}
	GUEST_DONE();
}

/* Host code. */

static void run_long(void (*fn)(uint64_t))
{
	struct vcpu *vcpu;
	struct vm *vm;

	vcpu = vm_create_long(&vm, fn, 0);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* Faults pushed by injection have RF set, as the CPU's own faults. */
TEST(injected_fault_sets_rf)
{
	REQUIRE_VMX();
	run_long(guest_fault_rflags);
}

/* CPUID.(7,0):EBX.TSC_ADJUST and the MSR's behaviour. */
TEST(tsc_adjust)
{
	REQUIRE_VMX();
	run_long(guest_tsc_adjust);
}

/* #GP hvx injects through a missing gate: #NP, then #DF (error 0). */
TEST(injected_fault_escalates_to_double_fault)
{
	REQUIRE_VMX();
	run_long(guest_double_fault);
}

/* A fault during #DF: the vCPU shuts down, reported as HVX_EXIT_SHUTDOWN. */
TEST(fault_in_double_fault_shuts_down)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_double_fault, 1);
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_SHUTDOWN, vcpu);
	vm_free(vm);
}

/*
 * Each CR4 bit, EFER bit, MSR and instruction checked against the CPUID
 * bit that announces it (the guest reports each CR4 case first, so a
 * failure names the leaf, register and bit).
 */
TEST(cpuid_consistent_with_virtualized_features)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_cpuid_consistent, 0);
	while (vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC)
		TH_LOG("CPUID leaf %#llx reg %llu bit %llu: %s",
		       (unsigned long long)uc.args[0],
		       (unsigned long long)uc.args[1],
		       (unsigned long long)uc.args[2],
		       uc.args[3] ? "announced" : "hidden");
	vm_free(vm);
}

/*
 * FSGSBASE, SMEP, SMAP, PCID and INVPCID behave as the SDM says where
 * CPUID announces them (the guest syncs with each one it tries).
 */
TEST(cr4_native_features)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_cr4_native, 0);
	while (vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC)
		TH_LOG("announced and checked: %#llx", (unsigned long long)uc.args[0]);
	vm_free(vm);
}

TEST_HARNESS_MAIN
