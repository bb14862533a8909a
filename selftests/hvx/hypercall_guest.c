// SPDX-License-Identifier: GPL-2.0
/*
 * hypercall_guest.c - 64-bit guest code of hypercall_test: VMCALLs with
 * KVM's numbers (uapi/hvx.h, "Paravirtual interface") from CPL 0 and
 * CPL 3, at the end of the canonical address space, with every register
 * set, and the paravirtual spinlock, IPI and yield calls between vCPUs.
 */
#include "hvx.h"
#include "hvx_guest.h"
#include "hypercall_guest.h"

#define APIC_GPA	0xfee00000u
#define APIC_SVR	0xf0
#define PTE_P		1ull
#define PTE_W		2ull
#define PTE_USER	4ull
#define SEL_UCODE	0x30	/* after the lib's TSS descriptor */
#define SEL_UDATA	0x38
#define ENOSYS_RET	((uint64_t)-HVX_HC_ENOSYS)

volatile uint64_t guest_pv_ipis[4];
volatile uint64_t guest_spin_ctr;
volatile uint64_t guest_regs_after[16];

static uint8_t user_stack[4096] __attribute__((aligned(16)));
static uint64_t edge_pdpt[512] __attribute__((aligned(4096)));
static uint64_t edge_pd[512] __attribute__((aligned(4096)));
static uint64_t edge_pt[512] __attribute__((aligned(4096)));
static uint8_t edge_code[4096] __attribute__((aligned(4096)));

static inline uint64_t hc(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
			  uint64_t a3)
{
	asm volatile("vmcall"
		     : "+a"(nr) : "b"(a0), "c"(a1), "d"(a2), "S"(a3)
		     : "memory");
	return nr;
}

/* A fixed IPI arrives: count it for this APIC id, EOI. */
asm(".pushsection .text\n"
    ".globl guest_pv_ipi_entry\n"
    "guest_pv_ipi_entry:\n\t"
    "push %rax\n\t"
    "push %rdx\n\t"
    "mov $0xfee00020, %eax\n\t"
    "mov (%rax), %eax\n\t"
    "shr $24, %eax\n\t"
    "and $3, %eax\n\t"
    "lock incq guest_pv_ipis(,%rax,8)\n\t"
    "mov $0xfee000b0, %edx\n\t"
    "movl $0, (%rdx)\n\t"
    "pop %rdx\n\t"
    "pop %rax\n\t"
    "iretq\n"
    ".popsection");

/* Unknown numbers and the no-op, from CPL 0: no fault, RAX only. */
void guest_basic(uint64_t unused)
{
	(void)unused;
	GUEST_ASSERT_EQ(ENOSYS_RET, hc(HC_UNKNOWN, 1, 2, 3, 4));
	GUEST_ASSERT_EQ(ENOSYS_RET, hc(1ull << 40, 0, 0, 0, 0));
	GUEST_ASSERT_EQ(ENOSYS_RET, hc(~0ull, 0, 0, 0, 0));
	GUEST_ASSERT_EQ(0, hc(HVX_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0));
	GUEST_DONE();
}

static void user_main(void)
{
	/* Refused, not faulted, not handed to the VMM: even HC_USER. */
	GUEST_ASSERT_EQ((uint64_t)-HVX_HC_EPERM,
			hc(HVX_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0));
	GUEST_ASSERT_EQ((uint64_t)-HVX_HC_EPERM, hc(HC_USER, 0, 0, 0, 0));
	GUEST_ASSERT_EQ((uint64_t)-HVX_HC_EPERM, hc(HC_UNKNOWN, 0, 0, 0, 0));
	GUEST_DONE();
}

/*
 * Go to CPL 3 with IOPL 3 (ucalls are OUTs), as debug_guest.c does:
 * 64-bit code and data segments of DPL 3 after the lib's GDT and the user
 * bit in the identity map. Never returns.
 */
void guest_user(uint64_t unused)
{
	volatile uint64_t *gdt = (volatile uint64_t *)GPA_GDT;
	volatile uint64_t *pd = (volatile uint64_t *)GPA_PD;
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;
	uint64_t cr3, cr4;
	int i;

	(void)unused;
	gdt[SEL_UCODE / 8] = 0x00affa000000ffffull;	/* L = 1, DPL 3 */
	gdt[SEL_UDATA / 8] = 0x00cff2000000ffffull;	/* DPL 3 */
	gdtr.limit = SEL_UDATA + 7;
	gdtr.base = GPA_GDT;
	asm volatile("lgdt %0" : : "m"(gdtr));
	((volatile uint64_t *)GPA_PML4)[0] |= PTE_USER;
	for (i = 0; i < 4; i++)
		((volatile uint64_t *)GPA_PDPT)[i] |= PTE_USER;
	for (i = 0; i < 4 * 512; i++)
		pd[i] |= PTE_USER;
	cr4 = guest_read_cr4() & ~((1ull << 20) | (1ull << 21));	/* SMEP, SMAP */
	asm volatile("mov %0, %%cr4" : : "r"(cr4));
	asm volatile("mov %%cr3, %0\n\tmov %0, %%cr3" : "=r"(cr3) : : "memory");
	asm volatile("push %[ss]\n\t"
		     "push %[sp]\n\t"
		     "push %[fl]\n\t"
		     "push %[cs]\n\t"
		     "push %[ip]\n\t"
		     "iretq"
		     : : [ss] "i"(SEL_UDATA | 3),
		       [sp] "r"((uint64_t)user_stack + sizeof(user_stack) - 8),
		       [fl] "i"(0x3002), [cs] "i"(SEL_UCODE | 3),
		       [ip] "r"((uint64_t)user_main)
		     : "memory");
	__builtin_unreachable();
}

/*
 * Map EDGE_PAGE, the last page below the canonical hole, to edge_code
 * (PML4[255] -> PDPT[511] -> PD[511] -> PT[511]) and run a VMCALL placed
 * at its end. Reports the vector, error code and RAX after it.
 */
void guest_edge(uint64_t which)
{
	volatile uint64_t *pml4 = (volatile uint64_t *)GPA_PML4;
	uint64_t target, rax = HVX_HC_VAPIC_POLL_IRQ, cr3;

	pml4[255] = (uint64_t)edge_pdpt | PTE_P | PTE_W;
	edge_pdpt[511] = (uint64_t)edge_pd | PTE_P | PTE_W;
	edge_pd[511] = (uint64_t)edge_pt | PTE_P | PTE_W;
	edge_pt[511] = (uint64_t)edge_code | PTE_P | PTE_W;
	asm volatile("mov %%cr3, %0\n\tmov %0, %%cr3" : "=r"(cr3) : : "memory");
	for (int i = 0; i < 4096; i++)
		edge_code[i] = 0x90;
	if (which == EDGE_STRADDLE) {
		edge_code[4094] = 0x0f;		/* C1 would be at 0x800000000000 */
		edge_code[4095] = 0x01;
	} else {
		edge_code[4093] = 0x0f;
		edge_code[4094] = 0x01;
		edge_code[4095] = 0xc1;
	}
	/* From the page's start: its NOPs run first, so the page is mapped. */
	target = EDGE_PAGE;
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "jmp *%[t]\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip), "+a"(rax)
		     : [t] "r"(target) : "memory");
	GUEST_SYNC_ARGS(guest_fixup_vector, guest_fixup_error, rax, 0);
	GUEST_DONE();
}

/*
 * VMCALL with every GPR but RSP set to HC_PATTERN(its number), RAX =
 * HC_USER: the VMM sees RBX, RCX, RDX, RSI as the arguments and answers
 * HC_USER_RET. Stores all 16 registers after the VMCALL (by hardware
 * number) in guest_regs_after.
 */
void guest_vmcall_all(volatile uint64_t *out);
asm(".pushsection .text\n"
    "guest_vmcall_all:\n\t"
    "push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\t"
    "push %r14\n\tpush %r15\n\tpush %rdi\n\t"
    "mov $" "100" ", %eax\n\t"
    "movabs $0xa5a5010000001001, %rcx\n\t"
    "movabs $0xa5a5020000001002, %rdx\n\t"
    "movabs $0xa5a5030000001003, %rbx\n\t"
    "movabs $0xa5a5050000001005, %rbp\n\t"
    "movabs $0xa5a5060000001006, %rsi\n\t"
    "movabs $0xa5a5070000001007, %rdi\n\t"
    "movabs $0xa5a5080000001008, %r8\n\t"
    "movabs $0xa5a5090000001009, %r9\n\t"
    "movabs $0xa5a50a000000100a, %r10\n\t"
    "movabs $0xa5a50b000000100b, %r11\n\t"
    "movabs $0xa5a50c000000100c, %r12\n\t"
    "movabs $0xa5a50d000000100d, %r13\n\t"
    "movabs $0xa5a50e000000100e, %r14\n\t"
    "movabs $0xa5a50f000000100f, %r15\n\t"
    "vmcall\n\t"
    "push %rax\n\t"
    "mov 8(%rsp), %rax\n\t"		/* out */
    "mov %rcx, 8(%rax)\n\t"
    "mov %rdx, 16(%rax)\n\t"
    "mov %rbx, 24(%rax)\n\t"
    "mov %rbp, 40(%rax)\n\t"
    "mov %rsi, 48(%rax)\n\t"
    "mov %rdi, 56(%rax)\n\t"
    "mov %r8, 64(%rax)\n\t"
    "mov %r9, 72(%rax)\n\t"
    "mov %r10, 80(%rax)\n\t"
    "mov %r11, 88(%rax)\n\t"
    "mov %r12, 96(%rax)\n\t"
    "mov %r13, 104(%rax)\n\t"
    "mov %r14, 112(%rax)\n\t"
    "mov %r15, 120(%rax)\n\t"
    "pop %rcx\n\t"
    "mov %rcx, (%rax)\n\t"
    "pop %rdi\n\tpop %r15\n\tpop %r14\n\tpop %r13\n\t"
    "pop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
    "ret\n"
    ".popsection");

void guest_all_regs(uint64_t unused)
{
	(void)unused;
	_Static_assert(HC_USER == 100, "guest_vmcall_all loads 100");
	guest_vmcall_all(guest_regs_after);
	GUEST_ASSERT_EQ(HC_USER_RET, guest_regs_after[0]);
	for (int r = 1; r < 16; r++)
		if (r != 4)
			GUEST_ASSERT_EQ(HC_PATTERN(r), guest_regs_after[r]);
	GUEST_DONE();
}

/*
 * The vCPU that waits for a lock as Linux's PV spinlocks do: HLT with
 * interrupts off. The first HLT finds the kick that came before it; the
 * second sleeps until the next kick.
 */
void guest_kick_waiter(uint64_t unused)
{
	(void)unused;
	asm volatile("cli; hlt" : : : "memory");
	GUEST_SYNC(1);
	asm volatile("cli; hlt" : : : "memory");
	GUEST_SYNC(2);
	GUEST_DONE();
}

/* Kick APIC id @target, twice (one SYNC after each); id 63 has no vCPU. */
void guest_kicker(uint64_t target)
{
	GUEST_ASSERT_EQ(0, hc(HVX_HC_KICK_CPU, 0, target, 0, 0));
	GUEST_ASSERT_EQ(0, hc(HVX_HC_KICK_CPU, 0, 63, 0, 0));
	GUEST_SYNC(0);
	GUEST_ASSERT_EQ(0, hc(HVX_HC_KICK_CPU, 0, target, 0, 0));
	GUEST_DONE();
}

static void apic_sw_enable(void)
{
	*(volatile uint32_t *)(uint64_t)(APIC_GPA + APIC_SVR) = 0x1ff;
}

static uint32_t apic_id(void)
{
	return *(volatile uint32_t *)(uint64_t)(APIC_GPA + 0x20) >> 24;
}

/* An IPI receiver: ready (SYNC), then halt until the PV IPI came. */
void guest_ipi_rx(uint64_t unused)
{
	uint32_t id = apic_id();

	(void)unused;
	(void)*(volatile uint8_t *)guest_pv_ipi_entry;	/* fault it in */
	apic_sw_enable();
	GUEST_SYNC(id);
	while (!guest_pv_ipis[id & 3])
		asm volatile("sti; hlt; cli" : : : "memory");
	GUEST_DONE();
}

/*
 * The sender (APIC id 0): one KVM_HC_SEND_IPI to APIC ids 1 and 2 (bits 0
 * and 1 above the minimum 1), which both take; bits for ids without a
 * vCPU count nothing; a logical or shorthand ICR is refused.
 */
void guest_ipi_tx(uint64_t unused)
{
	uint64_t r1, r2, r3, r4;

	(void)unused;
	apic_sw_enable();
	r1 = hc(HVX_HC_SEND_IPI, 3, 0, 1, V_PV_IPI);
	r2 = hc(HVX_HC_SEND_IPI, 1ull << 40, 1, 3, V_PV_IPI);	/* ids 43, 67 */
	r3 = hc(HVX_HC_SEND_IPI, 2, 0, 0, V_PV_IPI | 0x800);	/* logical */
	r4 = hc(HVX_HC_SEND_IPI, 2, 0, 0, V_PV_IPI | 0xc0000);	/* shorthand */
	GUEST_SYNC_ARGS(r1, r2, r3, r4);
	GUEST_DONE();
}

/*
 * KVM_HC_SCHED_YIELD to the vCPU @target, which spins on guest_spin_ctr
 * on the same host CPU: count the yields after which it had run (for the
 * log). Also to itself and to an id without a vCPU: 0, nothing happens.
 */
void guest_yield(uint64_t target)
{
	uint64_t progress = 0;

	while (!guest_spin_ctr)		/* the other vCPU runs */
		asm volatile("pause");
	for (int i = 0; i < 20; i++) {
		uint64_t c0 = guest_spin_ctr;

		GUEST_ASSERT_EQ(0, hc(HVX_HC_SCHED_YIELD, target, 0, 0, 0));
		progress += guest_spin_ctr != c0;
	}
	GUEST_ASSERT_EQ(0, hc(HVX_HC_SCHED_YIELD, 0, 0, 0, 0));
	GUEST_ASSERT_EQ(0, hc(HVX_HC_SCHED_YIELD, 63, 0, 0, 0));
	GUEST_SYNC(progress);
	GUEST_DONE();
}

/*
 * What the guest sees of the paravirtual interface: the signature leaf,
 * the feature and hint words, then the results of each paravirtual call
 * (to ids without a vCPU: no effect when on, -ENOSYS when off).
 */
void guest_features(uint64_t unused)
{
	uint32_t a, b, c, d, fa, fb, fc, fd;

	(void)unused;
	cpuid(HVX_CPUID_KVM_SIGNATURE, 0, &a, &b, &c, &d);
	cpuid(HVX_CPUID_KVM_FEATURES, 0, &fa, &fb, &fc, &fd);
	GUEST_SYNC_ARGS(a, (uint64_t)b | (uint64_t)c << 32, d, fa);
	GUEST_SYNC_ARGS(hc(HVX_HC_KICK_CPU, 0, 63, 0, 0),
			hc(HVX_HC_SEND_IPI, 0, 0, 60, V_PV_IPI),
			hc(HVX_HC_SCHED_YIELD, 63, 0, 0, 0), fd);
	GUEST_DONE();
}
