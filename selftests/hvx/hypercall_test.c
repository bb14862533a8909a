// SPDX-License-Identifier: GPL-2.0
/*
 * hypercall_test - the hvx hypercall ABI and the KVM paravirtual leaves
 * (uapi/hvx.h, "Paravirtual interface"): unknown numbers and user mode
 * get KVM's error values without a fault; a VMCALL across the end of the
 * canonical address space faults before it exits; the arguments come
 * from RBX, RCX, RDX, RSI and nothing but RAX changes; outside 64-bit
 * mode (32-bit protected and compatibility mode) only their low halves
 * count and RAX gets a 32-bit result, at CPL 0 and 3; numbers the VMM
 * picks exit to it (HVX_EXIT_HYPERCALL) and its answer reaches RAX;
 * registers set after an exit to userspace complete its instruction
 * (the OUT, the VMCALL's answer) only with RIP where the exit left it, in
 * each mode;
 * KVM_HC_KICK_CPU wakes a vCPU halted with interrupts off (and is not
 * lost when it comes first); KVM_HC_SEND_IPI reaches two vCPUs through
 * their local APICs; KVM_HC_SCHED_YIELD reaches the scheduler's
 * yield_to() for a spinning vCPU's thread; a PAUSE loop waiting for a
 * kicked vCPU yields to it, and one at CPL 0 passes over a sibling
 * preempted in user mode; a feature the VMM leaves out of CPUID is invisible and off; and
 * the statistics count calls by number.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"

#define EXIT_REASON_VMCALL	18
#define ENOSYS_RET		((uint64_t)-HVX_HC_ENOSYS)
#define KVM_SIG_EBX		0x4b4d564bu	/* "KVMK" */
#define KVM_SIG_ECX		0x564b4d56u	/* "VMKV" */
#define KVM_SIG_EDX		0x0000004du	/* "M\0\0\0" */
#define PV_FEATURES		(1u << HVX_KVM_FEATURE_PV_UNHALT | \
				 1u << HVX_KVM_FEATURE_PV_SEND_IPI | \
				 1u << HVX_KVM_FEATURE_PV_SCHED_YIELD)

/* A number no one defines, and one the VMM takes (HVX_SET_HYPERCALL_EXITS). */
#define HC_UNKNOWN		0x7fff0000ull
#define HC_USER			100
/* The result the VMM gives HC_USER, and the register patterns. */
#define HC_USER_RET		0x1122334455667788ull
#define HC_PATTERN(reg)		(0xa5a5000000000000ull | (uint64_t)(reg) << 40 | \
				 0x1000 | (reg))

/* The vector of the paravirtual IPI. */
#define V_PV_IPI		0x60

/* The last page of the lower canonical half: 0x7ffffffff000. */
#define EDGE_PAGE		0x00007ffffffff000ull

/* guest_edge() cases. */
#define EDGE_STRADDLE		0	/* 0F 01 at ...FFE: C1 beyond the edge */
#define EDGE_ENDS_AT_EDGE	1	/* 0F 01 C1 at ...FFD: next RIP beyond */

/* Guest code. */

#define APIC_GPA	0xfee00000u
#define APIC_SVR	0xf0
#define PTE_P		1ull
#define PTE_W		2ull
#define PTE_U		4ull

volatile uint64_t guest_pv_ipis[4];
static volatile uint64_t guest_spin_ctr;
static volatile uint64_t guest_regs_after[16];

static uint64_t edge_pdpt[512] __attribute__((aligned(4096)));
static uint64_t edge_pd[512] __attribute__((aligned(4096)));
static uint64_t edge_pt[512] __attribute__((aligned(4096)));
static uint8_t edge_code[4096] __attribute__((aligned(4096)));

GUEST_CODE
static inline uint64_t hc(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
			  uint64_t a3)
{
	asm volatile("vmcall"
		     : "+a"(nr) : "b"(a0), "c"(a1), "d"(a2), "S"(a3)
		     : "memory");
	return nr;
}

void guest_pv_ipi_entry(void);

/* A fixed IPI arrives: count it for this APIC id, EOI. */
asm(".pushsection .text.guest, \"ax\", @progbits\n"
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
GUEST_CODE
static void guest_basic(uint64_t unused)
{
	(void)unused;
	GUEST_ASSERT_EQ(ENOSYS_RET, hc(HC_UNKNOWN, 1, 2, 3, 4));
	GUEST_ASSERT_EQ(ENOSYS_RET, hc(1ull << 40, 0, 0, 0, 0));
	GUEST_ASSERT_EQ(ENOSYS_RET, hc(~0ull, 0, 0, 0, 0));
	GUEST_ASSERT_EQ(0, hc(HVX_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0));
	GUEST_DONE();
}

GUEST_CODE
static void guest_user_main(void)
{
	/* Refused, not faulted, not handed to the VMM: even HC_USER. */
	GUEST_ASSERT_EQ((uint64_t)-HVX_HC_EPERM,
			hc(HVX_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0));
	GUEST_ASSERT_EQ((uint64_t)-HVX_HC_EPERM, hc(HC_USER, 0, 0, 0, 0));
	GUEST_ASSERT_EQ((uint64_t)-HVX_HC_EPERM, hc(HC_UNKNOWN, 0, 0, 0, 0));
	GUEST_DONE();
}

/* Go to CPL 3 with IOPL 3 (ucalls are OUTs) and run user_main(). */
GUEST_CODE
static void guest_user(uint64_t unused)
{
	(void)unused;
	guest_enter_user(guest_user_main);
}

/*
 * Map EDGE_PAGE, the last page below the canonical hole, to edge_code
 * (PML4[255] -> PDPT[511] -> PD[511] -> PT[511]) and run a VMCALL placed
 * at its end. Reports the vector, error code and RAX after it.
 */
GUEST_CODE
static void guest_edge(uint64_t which)
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
asm(".pushsection .text.guest, \"ax\", @progbits\n"
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

/*
 * The 32-bit guest of hypercall_32bit_* (legacy protected mode or
 * compatibility mode, copied to GPA_BLOB): three VMCALLs, each followed
 * by an OUT (an exit to the VMM, which reads RAX there and sets the
 * registers of the next call).
 */
#define HC32_PORT		0x80
extern const char hc32_start[], hc32_end[];
asm(".pushsection .rodata.blobs, \"a\"\n"
    ".code32\n"
    ".globl hc32_start, hc32_end\n"
    "hc32_start:\n\t"
    "vmcall\n\t"
    "outb %al, $0x80\n\t"
    "vmcall\n\t"
    "outb %al, $0x80\n\t"
    "vmcall\n\t"
    "outb %al, $0x80\n"
    "hc32_end:\n"
    ".code64\n"
    ".popsection");

GUEST_CODE
static void guest_all_regs(uint64_t unused)
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
GUEST_CODE
static void guest_kick_waiter(uint64_t unused)
{
	(void)unused;
	asm volatile("cli; hlt" : : : "memory");
	GUEST_SYNC(1);
	asm volatile("cli; hlt" : : : "memory");
	GUEST_SYNC(2);
	GUEST_DONE();
}

/* Kick APIC id @target, twice (one SYNC after each); id 63 has no vCPU. */
GUEST_CODE
static void guest_kicker(uint64_t target)
{
	GUEST_ASSERT_EQ(0, hc(HVX_HC_KICK_CPU, 0, target, 0, 0));
	GUEST_ASSERT_EQ(0, hc(HVX_HC_KICK_CPU, 0, 63, 0, 0));
	GUEST_SYNC(0);
	GUEST_ASSERT_EQ(0, hc(HVX_HC_KICK_CPU, 0, target, 0, 0));
	GUEST_DONE();
}

static volatile uint64_t guest_woken;

/* Halt with interrupts off until a kick, then say so. */
GUEST_CODE
static void guest_woken_waiter(uint64_t unused)
{
	(void)unused;
	asm volatile("cli; hlt" : : : "memory");
	guest_woken = 1;
	GUEST_DONE();
}

/*
 * Kick APIC id @target, then wait for it in a PAUSE loop, as a CPU
 * that sends a function-call IPI waits for the target to run it.
 */
GUEST_CODE
static void guest_kick_and_spin(uint64_t target)
{
	GUEST_ASSERT_EQ(0, hc(HVX_HC_KICK_CPU, 0, target, 0, 0));
	while (!guest_woken)
		asm volatile("pause");
	GUEST_DONE();
}

GUEST_CODE
static void apic_sw_enable(void)
{
	*(volatile uint32_t *)(uint64_t)(APIC_GPA + APIC_SVR) = 0x1ff;
}

GUEST_CODE
static uint32_t apic_id(void)
{
	return *(volatile uint32_t *)(uint64_t)(APIC_GPA + 0x20) >> 24;
}

/* An IPI receiver: ready (SYNC), then halt until the PV IPI came. */
GUEST_CODE
static void guest_ipi_rx(uint64_t unused)
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
GUEST_CODE
static void guest_ipi_tx(uint64_t unused)
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

static volatile uint64_t guest_stop, guest_user_ctr, guest_kernel_ctr;

/* At CPL 3 (IOPL 3: ucalls work): count until the host says stop. */
GUEST_CODE
static void guest_user_busy_main(void)
{
	while (!guest_stop)
		guest_user_ctr++;
	GUEST_DONE();
}

GUEST_CODE
static void guest_user_busy(uint64_t unused)
{
	(void)unused;
	guest_enter_user(guest_user_busy_main);
}

/* The same at CPL 0. */
GUEST_CODE
static void guest_kernel_busy(uint64_t unused)
{
	(void)unused;
	while (!guest_stop)
		guest_kernel_ctr++;
	GUEST_DONE();
}

/* A CPL 0 PAUSE loop that waits for the host. */
GUEST_CODE
static void guest_pause_until_stop(uint64_t unused)
{
	(void)unused;
	while (!guest_stop)
		asm volatile("pause");
	GUEST_DONE();
}

/*
 * KVM_HC_SCHED_YIELD to the vCPU @target, which spins on guest_spin_ctr
 * on the same host CPU: count the yields after which it had run (for the
 * log). Also to itself and to an id without a vCPU: 0, nothing happens.
 */
GUEST_CODE
static void guest_yield(uint64_t target)
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
GUEST_CODE
static void guest_features(uint64_t unused)
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

/* Host code. */

static void on_signal(int sig)
{
	(void)sig;
}

/* SIGUSR1 and SIGALRM interrupt HVX_RUN (no SA_RESTART). */
static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
}

static struct vm *lapic_vm(uint32_t flags)
{
	struct hvx_platform_config c = { .devices = HVX_PLATFORM_LAPIC };
	struct vm *vm = vm_create_flags(flags);

	LIB_ASSERT(!ioctl(vm->fd, HVX_CREATE_PLATFORM, &c),
		   "HVX_CREATE_PLATFORM: %m");
	return vm;
}

static struct vcpu *long_vcpu(struct vm *vm, uint32_t id,
			      void (*fn)(uint64_t), uint64_t arg)
{
	struct vcpu *vcpu = vcpu_create(vm, id);

	vcpu_setup_long(vcpu, fn, arg);
	return vcpu;
}

/* vCPU @vcpu's statistics, or the test fails. */
static void vcpu_stats(struct __test_metadata *_metadata, int vcpu,
		       struct hvx_stats *st)
{
	struct hvx_nl_stats s;
	struct hvx_nl nl;

	ASSERT_EQ(0, hvx_nl_open(&nl));
	ASSERT_EQ(1, hvx_nl_get_stats(&nl, hvx_nl_own_vm_id(&nl), vcpu, &s, 1));
	hvx_nl_close(&nl);
	*st = s.st;
}

static int set_exits(struct vm *vm, const uint64_t *nrs, int n)
{
	struct hvx_hypercall_exits e = { 0 };

	for (int i = 0; i < n; i++)
		e.bitmap[nrs[i] / 64] |= 1ull << (nrs[i] % 64);
	return ioctl(vm->fd, HVX_SET_HYPERCALL_EXITS, &e);
}

/* A vCPU on its own thread, until DONE, another exit or a signal. */
struct runner {
	struct vcpu *vcpu;
	pthread_t thread;
	volatile int syncs, done, error;
	volatile uint64_t last_sync, bad_exit;
};

static void *runner_thread(void *arg)
{
	struct runner *r = arg;
	struct ucall uc;

	for (;;) {
		uint64_t cmd;

		if (__vcpu_run(r->vcpu)) {
			r->error = errno;
			break;
		}
		cmd = get_ucall(r->vcpu, &uc);
		if (cmd == UCALL_SYNC) {
			r->last_sync = uc.args[0];
			__atomic_add_fetch(&r->syncs, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (cmd == UCALL_DONE)
			r->done = 1;
		else
			r->bad_exit = cmd ? cmd : 1000 + r->vcpu->run->exit_reason;
		break;
	}
	return NULL;
}

static void runner_start(struct runner *r, struct vcpu *vcpu)
{
	r->vcpu = vcpu;
	LIB_ASSERT(!pthread_create(&r->thread, NULL, runner_thread, r),
		   "pthread_create");
}

/* Wait up to @ms for *@flag >= @want (10 ms steps). */
static bool wait_for(volatile int *flag, int want, int ms)
{
	for (int t = 0; t < ms; t += 10) {
		if (*flag >= want)
			return true;
		msleep(10);
	}
	return *flag >= want;
}

/* End the runner: interrupt its HVX_RUN if it still runs, join. */
static void runner_stop(struct runner *r)
{
	r->vcpu->run->immediate_exit = 1;
	pthread_kill(r->thread, SIGUSR1);
	pthread_join(r->thread, NULL);
}

/* Unknown numbers, huge numbers and the no-op: RAX only, no fault. */
TEST(unknown_number_no_fault)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_basic, 0);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* CPL 3: -EPERM for every number, even one the VMM takes; no fault. */
TEST(user_mode_eperm)
{
	const uint64_t nr = HC_USER;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_user, 0);
	ASSERT_EQ(0, set_exits(vm, &nr, 1));
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/*
 * A VMCALL whose last byte would be at 0x800000000000: the fetch faults
 * (#GP(0), SDM Vol. 1 3.3.7.1) and no VM exit happens at all.
 */
TEST(vmcall_straddles_canonical_edge)
{
	struct hvx_stats st;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_edge, EDGE_STRADDLE);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(13, uc.args[0]) TH_LOG("the guest must get #GP");
	EXPECT_EQ(0, uc.args[1]);
	EXPECT_EQ(HVX_HC_VAPIC_POLL_IRQ, uc.args[2]) TH_LOG("RAX changed");
	vcpu_stats(_metadata, 0, &st);
	EXPECT_EQ(0, st.exits_by_reason[EXIT_REASON_VMCALL]);
	EXPECT_EQ(0, st.hypercalls[HVX_HC_VAPIC_POLL_IRQ]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/*
 * A VMCALL that ends exactly at the edge exits, but the RIP after it is
 * not canonical (VM entry would fail): hvx raises #GP(0) at the VMCALL
 * instead and does not carry out the call.
 */
TEST(vmcall_ends_at_canonical_edge)
{
	struct hvx_stats st;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_edge, EDGE_ENDS_AT_EDGE);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(13, uc.args[0]) TH_LOG("the guest must get #GP");
	EXPECT_EQ(0, uc.args[1]);
	EXPECT_EQ(HVX_HC_VAPIC_POLL_IRQ, uc.args[2]) TH_LOG("the call ran");
	vcpu_stats(_metadata, 0, &st);
	EXPECT_EQ(1, st.exits_by_reason[EXIT_REASON_VMCALL]);
	EXPECT_EQ(0, st.hypercalls[HVX_HC_VAPIC_POLL_IRQ]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/*
 * Every GPR set to a pattern: the VMM sees the number and RBX, RCX, RDX,
 * RSI as the arguments (HVX_EXIT_HYPERCALL), its result lands in RAX at
 * the next HVX_RUN, and no other register changes (checked in the guest).
 */
TEST(args_in_every_register)
{
	const uint64_t nr = HC_USER;
	struct hvx_run *run;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_all_regs, 0);
	run = vcpu->run;
	ASSERT_EQ(0, set_exits(vm, &nr, 1));
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_HYPERCALL, vcpu);
	EXPECT_EQ(HC_USER, run->hypercall.nr);
	EXPECT_EQ(HC_PATTERN(3), run->hypercall.args[0]);	/* RBX */
	EXPECT_EQ(HC_PATTERN(1), run->hypercall.args[1]);	/* RCX */
	EXPECT_EQ(HC_PATTERN(2), run->hypercall.args[2]);	/* RDX */
	EXPECT_EQ(HC_PATTERN(6), run->hypercall.args[3]);	/* RSI */
	EXPECT_EQ(HVX_HYPERCALL_LONG_MODE, run->hypercall.flags);
	run->hypercall.ret = HC_USER_RET;
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* The upper half of every register the 32-bit guest's VMCALLs get. */
#define HC_HIGH			0xa5a5000000000000ull

/*
 * Run the 32-bit guest to its next OUT with RAX = HC_HIGH | @nr and
 * RBX, RCX, RDX, RSI = HC_PATTERN(): *@rax is RAX after the VMCALL. A
 * call that exits to the VMM (HC_USER at CPL 0) must come with the low
 * halves alone and no HVX_HYPERCALL_LONG_MODE; it is answered with
 * HC_USER_RET.
 */
static void hc32_call(struct __test_metadata *_metadata, struct vcpu *vcpu,
		      uint64_t nr, bool to_vmm, uint64_t *rax)
{
	struct hvx_run *run = vcpu->run;
	struct hvx_regs regs;

	vcpu_get_regs(vcpu, &regs);
	regs.rax = HC_HIGH | nr;
	regs.rbx = HC_PATTERN(3);
	regs.rcx = HC_PATTERN(1);
	regs.rdx = HC_PATTERN(2);
	regs.rsi = HC_PATTERN(6);
	vcpu_set_regs(vcpu, &regs);
	vcpu_run(vcpu);
	if (to_vmm) {
		ASSERT_EXIT(HVX_EXIT_HYPERCALL, vcpu);
		EXPECT_EQ(nr, run->hypercall.nr);
		EXPECT_EQ((uint32_t)HC_PATTERN(3), run->hypercall.args[0]);
		EXPECT_EQ((uint32_t)HC_PATTERN(1), run->hypercall.args[1]);
		EXPECT_EQ((uint32_t)HC_PATTERN(2), run->hypercall.args[2]);
		EXPECT_EQ((uint32_t)HC_PATTERN(6), run->hypercall.args[3]);
		EXPECT_EQ(0, run->hypercall.flags);
		run->hypercall.ret = HC_USER_RET;
		vcpu_run(vcpu);
	}
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	ASSERT_EQ(HC32_PORT, run->io.port);
	vcpu_get_regs(vcpu, &regs);
	*rax = regs.rax;
}

/*
 * The three calls of hc32_start from its first byte: a number the VMM
 * takes, the no-op and an unknown one, each with the upper halves of the
 * registers set. Outside 64-bit mode only the low halves count (so the
 * no-op is the no-op, not an unknown number) and RAX gets a 32-bit
 * result, zero-extended; at CPL 3 each is -KVM_EPERM, 32 bits wide.
 */
static void hc32_run(struct __test_metadata *_metadata, struct vcpu *vcpu,
		     bool user)
{
	const uint64_t eperm = (uint32_t)-HVX_HC_EPERM;
	struct hvx_regs regs;
	uint64_t rax;

	vcpu_get_regs(vcpu, &regs);
	regs.rip = GPA_BLOB;
	vcpu_set_regs(vcpu, &regs);
	hc32_call(_metadata, vcpu, HC_USER, !user, &rax);
	EXPECT_EQ(user ? eperm : (uint32_t)HC_USER_RET, rax);
	hc32_call(_metadata, vcpu, HVX_HC_VAPIC_POLL_IRQ, false, &rax);
	EXPECT_EQ(user ? eperm : 0, rax);
	hc32_call(_metadata, vcpu, HC_UNKNOWN, false, &rax);
	EXPECT_EQ(user ? eperm : (uint32_t)-HVX_HC_ENOSYS, rax);
}

/* A 32-bit vCPU at CPL 3: CS and SS with RPL and DPL 3, IOPL 3 (its OUTs). */
static void hc32_to_user(struct vcpu *vcpu)
{
	struct hvx_sregs sregs;
	struct hvx_regs regs;

	vcpu_get_sregs(vcpu, &sregs);
	sregs.cs.selector |= 3;
	sregs.cs.dpl = 3;
	sregs.ss.selector |= 3;
	sregs.ss.dpl = 3;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_get_regs(vcpu, &regs);
	regs.rflags |= 3 << 12;
	vcpu_set_regs(vcpu, &regs);
}

/* A VM whose HC_USER calls exit to userspace, for the blob's calls. */
static struct vm *hc32_vm(void)
{
	const uint64_t nr = HC_USER;
	struct vm *vm = vm_create();

	LIB_ASSERT(!set_exits(vm, &nr, 1), "HVX_SET_HYPERCALL_EXITS: %m");
	return vm;
}

/* vCPU 0 in 32-bit protected mode at the blob. */
static struct vcpu *hc32_prot_vcpu(struct vm *vm)
{
	struct vcpu *vcpu = vcpu_create(vm, 0);

	vm_load_blob(vm, GPA_BLOB, hc32_start, hc32_end);
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	return vcpu;
}

/*
 * 32-bit protected mode (EFER.LMA clear): the calls decode 32-bit
 * registers and return 32-bit results, at CPL 0 and at CPL 3.
 */
TEST(hypercall_32bit_protected_mode)
{
	struct hvx_stats st;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = hc32_vm();
	vcpu = hc32_prot_vcpu(vm);
	hc32_run(_metadata, vcpu, false);
	hc32_to_user(vcpu);
	hc32_run(_metadata, vcpu, true);
	vcpu_stats(_metadata, 0, &st);
	EXPECT_EQ(6, st.exits_by_reason[EXIT_REASON_VMCALL]);
	EXPECT_EQ(2, st.hypercalls[HVX_HC_VAPIC_POLL_IRQ]);
	EXPECT_EQ(1, st.user_exits[HVX_EXIT_HYPERCALL]);
	EXPECT_EQ(0, st.exceptions_injected);
	vm_free(vm);
}

/*
 * A vCPU in compatibility mode at the blob of hc32_start: the page tables
 * of vcpu_setup_long() map it, for user mode too from before the first
 * entry (no stale TLB entry).
 */
static struct vcpu *hc32_compat_vcpu(struct __test_metadata *_metadata,
				     struct vm *vm)
{
	struct vcpu *vcpu = long_vcpu(vm, 0, guest_basic, 0);
	struct hvx_sregs sregs;

	vm_load_blob(vm, GPA_BLOB, hc32_start, hc32_end);
	*(uint64_t *)vm_gpa2hva(vm, GPA_PML4, 8) |= PTE_U;
	*(uint64_t *)vm_gpa2hva(vm, GPA_PDPT, 8) |= PTE_U;
	*(uint64_t *)vm_gpa2hva(vm, GPA_PD + (GPA_BLOB >> 21) * 8, 8) |= PTE_U;
	vcpu_get_sregs(vcpu, &sregs);
	sregs.cs = tables_seg_code32;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_get_sregs(vcpu, &sregs);
	EXPECT_EQ(EFER_LMA, sregs.efer & EFER_LMA);
	EXPECT_EQ(0, sregs.cs.l);
	return vcpu;
}

/*
 * Compatibility mode (EFER.LMA set, CS.L clear): 32-bit operands too, at
 * CPL 0 and at CPL 3.
 */
TEST(hypercall_32bit_compat_mode)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = hc32_vm();
	vcpu = hc32_compat_vcpu(_metadata, vm);
	hc32_run(_metadata, vcpu, false);
	hc32_to_user(vcpu);
	hc32_run(_metadata, vcpu, true);
	vm_free(vm);
}

/* Point the guest of hc32_start at @off in it, with RAX = @rax. */
static void hc32_set(struct vcpu *vcpu, uint64_t off, uint64_t rax)
{
	struct hvx_regs regs;

	vcpu_get_regs(vcpu, &regs);
	regs.rip = GPA_BLOB + off;
	regs.rax = rax;
	vcpu_set_regs(vcpu, &regs);
}

/*
 * Run the guest of hc32_start to its next exit, which must be @reason
 * with RIP at offset @off; *@rax is then its RAX.
 */
static void hc32_run_to(struct __test_metadata *_metadata, struct vcpu *vcpu,
			uint32_t reason, uint64_t off, uint64_t *rax)
{
	struct hvx_regs regs;

	vcpu_run(vcpu);
	ASSERT_EXIT(reason, vcpu);
	vcpu_get_regs(vcpu, &regs);
	ASSERT_EQ(GPA_BLOB + off, regs.rip);
	*rax = regs.rax;
}

/*
 * Exits to userspace, then HVX_SET_REGS, then HVX_RUN: where the guest
 * goes on. hc32_start's VMCALLs are at offsets 0, 5 and 10, its OUTs
 * at 3, 8 and 13. Registers set with RIP where the exit left it (at the
 * OUT, or past the VMCALL of HVX_EXIT_HYPERCALL) complete the exit's
 * instruction once: past the OUT, RAX = the VMM's answer. A RIP moved
 * elsewhere abandons it, as KVM drops a port I/O completion when the
 * RIP changed (complete_fast_pio_out()): the guest starts at the new RIP
 * with the RAX it was given, whether it moved back or forward.
 */
static void hc32_set_regs_rip(struct __test_metadata *_metadata,
			      struct vcpu *vcpu, bool lng)
{
	const uint64_t width = lng ? ~0ull : 0xffffffffull;
	uint64_t rax;

	hc32_set(vcpu, 0, HC_USER);
	hc32_run_to(_metadata, vcpu, HVX_EXIT_HYPERCALL, 3, &rax);
	vcpu->run->hypercall.ret = HC_USER_RET;
	hc32_set(vcpu, 3, HVX_HC_VAPIC_POLL_IRQ);	/* RIP unchanged */
	hc32_run_to(_metadata, vcpu, HVX_EXIT_IO, 3, &rax);
	EXPECT_EQ(HC_USER_RET & width, rax);
	hc32_set(vcpu, 3, HVX_HC_VAPIC_POLL_IRQ);	/* at the OUT still */
	hc32_run_to(_metadata, vcpu, HVX_EXIT_IO, 8, &rax);
	EXPECT_EQ(0, rax);
	hc32_set(vcpu, 0, HVX_HC_VAPIC_POLL_IRQ);	/* back, OUT pending */
	hc32_run_to(_metadata, vcpu, HVX_EXIT_IO, 3, &rax);
	EXPECT_EQ(0, rax);
	hc32_set(vcpu, 10, HC_UNKNOWN);			/* forward, OUT pending */
	hc32_run_to(_metadata, vcpu, HVX_EXIT_IO, 13, &rax);
	EXPECT_EQ(ENOSYS_RET & width, rax);
	hc32_set(vcpu, 0, HC_USER);
	hc32_run_to(_metadata, vcpu, HVX_EXIT_HYPERCALL, 3, &rax);
	vcpu->run->hypercall.ret = HC_USER_RET;
	hc32_set(vcpu, 5, HVX_HC_VAPIC_POLL_IRQ);	/* no RAX = the answer */
	hc32_run_to(_metadata, vcpu, HVX_EXIT_IO, 8, &rax);
	EXPECT_EQ(0, rax);
}

/*
 * The RIP after an exit to userspace and HVX_SET_REGS, in 32-bit
 * protected mode, in compatibility mode and in 64-bit mode (the blob's
 * VMCALL and OUT encode alike there).
 */
TEST(set_regs_rip_after_exit)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = hc32_vm();
	vcpu = hc32_prot_vcpu(vm);
	hc32_set_regs_rip(_metadata, vcpu, false);
	vm_free(vm);

	vm = hc32_vm();
	vcpu = hc32_compat_vcpu(_metadata, vm);
	hc32_set_regs_rip(_metadata, vcpu, false);
	vm_free(vm);

	vm = hc32_vm();
	vcpu = long_vcpu(vm, 0, guest_basic, 0);
	vm_load_blob(vm, GPA_BLOB, hc32_start, hc32_end);
	hc32_set_regs_rip(_metadata, vcpu, true);
	vm_free(vm);
}

/* The 2 MiB page below 4 GiB: the last PDE of tables_init()'s fourth PD. */
#define GPA_PDE_4G_LAST		(GPA_PD + 3 * 4096 + 511 * 8)

/*
 * Run @vcpu from a VMCALL (the no-op, handled in the kernel) whose last
 * byte is at 4 GiB - 1 to the OUT at linear 0 and at 4 GiB, and assert
 * where its RIP is then: @rip.
 */
static void vmcall_at_4g(struct __test_metadata *_metadata, struct vm *vm,
			 struct vcpu *vcpu, uint64_t rip)
{
	static const uint8_t vmcall[] = { 0x0f, 0x01, 0xc1 };
	static const uint8_t out[] = { 0xe6, HC32_PORT };	/* outb %al */
	struct hvx_regs regs;

	/* Linear 4 GiB - 2 MiB.. is GPA 0.., and so is 4 GiB.. (PDPTE 4). */
	*(uint64_t *)vm_gpa2hva(vm, GPA_PDE_4G_LAST, 8) =
		PTE_PRESENT | PTE_WRITE | PTE_LARGE;
	*(uint64_t *)vm_gpa2hva(vm, GPA_PDPT + 4 * 8, 8) =
		GPA_PD | PTE_PRESENT | PTE_WRITE;
	memcpy(vm_gpa2hva(vm, 0x200000 - sizeof(vmcall), sizeof(vmcall)), vmcall,
	       sizeof(vmcall));
	memcpy(vm_gpa2hva(vm, 0, sizeof(out)), out, sizeof(out));
	vcpu_get_regs(vcpu, &regs);
	regs.rip = 0x100000000ull - sizeof(vmcall);
	regs.rax = HVX_HC_VAPIC_POLL_IRQ;
	vcpu_set_regs(vcpu, &regs);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	ASSERT_EQ(HC32_PORT, vcpu->run->io.port);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(rip, regs.rip);
	EXPECT_EQ(0, regs.rax);
}

/*
 * A VMCALL that ends at 4 GiB - 1: in compatibility mode EIP wraps to 0,
 * as outside IA-32e mode (VM entry would refuse a RIP of 4 GiB there);
 * in 64-bit mode RIP goes on to 4 GiB.
 */
TEST(vmcall_ends_at_4g)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = hc32_compat_vcpu(_metadata, vm);
	vmcall_at_4g(_metadata, vm, vcpu, 0);
	vm_free(vm);

	vm = vm_create();
	vcpu = long_vcpu(vm, 0, guest_basic, 0);
	vmcall_at_4g(_metadata, vm, vcpu, 0x100000000ull);
	vm_free(vm);
}

/* HVX_SET_HYPERCALL_EXITS: what it refuses, changing nothing. */
TEST(hypercall_exits_ioctl)
{
	const uint64_t own[] = { HVX_HC_VAPIC_POLL_IRQ, HVX_HC_KICK_CPU,
				 HVX_HC_SEND_IPI, HVX_HC_SCHED_YIELD };
	const uint64_t ok[] = { 0, 12, HC_USER, HVX_HYPERCALL_EXIT_NRS - 1 };
	struct hvx_hypercall_exits e = { 0 };
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	e.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_HYPERCALL_EXITS, &e));
	e.flags = 0;
	e.pad = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_HYPERCALL_EXITS, &e));
	e.pad = 0;
	e.reserved[3] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_HYPERCALL_EXITS, &e));
	for (unsigned int i = 0; i < ARRAY_SIZE(own); i++)
		ASSERT_ERRNO_MSG(EINVAL, set_exits(vm, &own[i], 1),
				 " (number %lu)", (unsigned long)own[i]);
	ASSERT_EQ(0, set_exits(vm, ok, ARRAY_SIZE(ok)));
	ASSERT_EQ(0, set_exits(vm, NULL, 0));
	vm_free(vm);
}

/*
 * KVM_HC_KICK_CPU and HLT with interrupts off (Linux's PV spinlocks): a
 * kick that comes first makes the next HLT return at once; a vCPU that
 * sleeps in such a HLT (in the kernel: no HVX_EXIT_HLT) wakes on the next
 * kick. Needs the in-kernel LAPIC and a second vCPU.
 */
TEST(kick_wakes_halted_vcpu)
{
	struct runner waiter = { 0 };
	struct itimerval it = { .it_value = { .tv_sec = 20 } };
	struct itimerval off = { 0 };
	struct vcpu *kicker, *w;
	struct hvx_stats st;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	setup_signals();
	vm = lapic_vm(0);
	kicker = long_vcpu(vm, 0, guest_kicker, 1);
	w = long_vcpu(vm, 1, guest_kick_waiter, 0);
	ASSERT_EQ(0, vcpu_run_sync(kicker));

	/* The kick was latched: the waiter's first HLT does not sleep. */
	setitimer(ITIMER_REAL, &it, NULL);
	ASSERT_EQ(0, __vcpu_run(w)) TH_LOG("HLT slept despite the kick: %s",
					   strerror(errno));
	setitimer(ITIMER_REAL, &off, NULL);
	ASSERT_EQ(UCALL_SYNC, get_ucall(w, &uc)) TH_LOG("%s", vcpu_exit_str(w));
	ASSERT_EQ(1, uc.args[0]);

	/* The second HLT sleeps in the kernel until the next kick. */
	runner_start(&waiter, w);
	for (int t = 0; t < 20000; t += 10) {
		vcpu_stats(_metadata, 1, &st);
		if (st.halts >= 2)
			break;
		msleep(10);
	}
	ASSERT_EQ(2, st.halts) TH_LOG("the waiter did not halt again");
	msleep(100);
	EXPECT_EQ(0, waiter.syncs) TH_LOG("a HLT with interrupts off returned");
	EXPECT_EQ(0, waiter.bad_exit) TH_LOG("HLT went to userspace");
	vcpu_run_done(kicker);
	if (!wait_for(&waiter.syncs, 1, 20000) || !wait_for(&waiter.done, 1, 20000)) {
		runner_stop(&waiter);
		ASSERT_TRUE(0) TH_LOG("the kick did not wake the halted vCPU");
	}
	pthread_join(waiter.thread, NULL);
	EXPECT_EQ(2, waiter.last_sync);
	vcpu_stats(_metadata, 1, &st);
	EXPECT_LE(1, st.wakeups);
	vcpu_stats(_metadata, 0, &st);
	EXPECT_EQ(3, st.hypercalls[HVX_HC_KICK_CPU]);
	vm_free(vm);
}

/*
 * KVM_HC_SEND_IPI from vCPU 0 to APIC ids 1 and 2: both take the vector
 * through their local APICs and the call returns 2; ids without a vCPU
 * count 0; logical destinations and shorthands are -EINVAL.
 */
TEST(send_ipi_to_two_vcpus)
{
	struct runner rx[2] = { 0 };
	struct vcpu *tx;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	setup_signals();
	vm = lapic_vm(0);
	tx = long_vcpu(vm, 0, guest_ipi_tx, 0);
	for (int i = 0; i < 2; i++) {
		struct vcpu *v = long_vcpu(vm, i + 1, guest_ipi_rx, 0);

		vcpu_set_idt_gate(v, V_PV_IPI, (uint64_t)guest_pv_ipi_entry);
		runner_start(&rx[i], v);
	}
	for (int i = 0; i < 2; i++) {
		if (!wait_for(&rx[i].syncs, 1, 20000)) {
			runner_stop(&rx[0]);
			runner_stop(&rx[1]);
			ASSERT_TRUE(0) TH_LOG("receiver %d not ready", i + 1);
		}
		EXPECT_EQ(i + 1, rx[i].last_sync);
	}
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(tx, &uc));
	EXPECT_EQ(2, uc.args[0]);
	EXPECT_EQ(0, uc.args[1]);
	EXPECT_EQ((uint64_t)-HVX_HC_EINVAL, uc.args[2]);
	EXPECT_EQ((uint64_t)-HVX_HC_EINVAL, uc.args[3]);
	for (int i = 0; i < 2; i++) {
		bool done = wait_for(&rx[i].done, 1, 20000);

		if (!done)
			runner_stop(&rx[i]);
		else
			pthread_join(rx[i].thread, NULL);
		EXPECT_TRUE(done) TH_LOG("vCPU %d got no IPI", i + 1);
		EXPECT_EQ(1, guest_var(vm, guest_pv_ipis[i + 1]));
	}
	EXPECT_EQ(0, guest_var(vm, guest_pv_ipis[0]));
	vcpu_run_done(tx);
	vm_free(vm);
}

#define SCHEDSTATS	"/proc/sys/kernel/sched_schedstats"

/* Sum of the yld_count field of every CPU in /proc/schedstat, or -1. */
static long yld_count(void)
{
	char line[512];
	long sum = 0, n;
	FILE *f = fopen("/proc/schedstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu", 3) && sscanf(line, "cpu%*u %ld", &n) == 1)
			sum += n;
	fclose(f);
	return sum;
}

/*
 * KVM_HC_SCHED_YIELD: vCPU 1 spins on a counter, both vCPU threads on
 * host CPU 0. Each yield to vCPU 1 reaches the scheduler's yield_to()
 * with vCPU 1's thread, runnable and not running: the CPU's yld_count
 * (schedstats) rises by at least the 20 yields; whether the scheduler
 * then runs the target is its fairness decision (logged: how often the
 * counter moved). Yields to itself and to an id without a vCPU do not
 * reach it.
 */
TEST(sched_yield_runs_target)
{
	struct runner spin = { 0 };
	cpu_set_t cpu0, was;
	long y0, y1;
	char stats_was[8];
	struct vcpu *v0;
	struct hvx_stats st;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	if (read_str(SCHEDSTATS, stats_was, sizeof(stats_was)) ||
	    write_str(SCHEDSTATS, "1") || yld_count() < 0)
		SKIP(return, SCHEDSTATS " or /proc/schedstat not usable: no CONFIG_SCHEDSTATS");
	setup_signals();
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(was), &was));
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpu0), &cpu0));
	v0 = vm_create_long(&vm, guest_yield, 1);
	runner_start(&spin, long_vcpu(vm, 1, guest_spin,
				       (uint64_t)&guest_spin_ctr));
	ASSERT_EQ(0, pthread_setaffinity_np(spin.thread, sizeof(cpu0), &cpu0));
	y0 = yld_count();
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(v0, &uc));
	y1 = yld_count();
	write_str(SCHEDSTATS, stats_was);
	TH_LOG("%ld yields in the scheduler; the spinning vCPU ran during %lu of 20",
	       y1 - y0, (unsigned long)uc.args[0]);
	EXPECT_LE(20, y1 - y0);
	vcpu_run_done(v0);
	runner_stop(&spin);
	sched_setaffinity(0, sizeof(was), &was);
	vcpu_stats(_metadata, 0, &st);
	EXPECT_EQ(22, st.hypercalls[HVX_HC_SCHED_YIELD]);
	vm_free(vm);
}

#define EXIT_REASON_PAUSE_INSTRUCTION	40

/* A runner whose thread shares host CPU 0 and never preempts on wake-up. */
struct batch_runner {
	struct runner r;
	volatile pid_t tid;
};

static void *batch_runner_thread(void *arg)
{
	struct batch_runner *b = arg;
	struct sched_param sp = { 0 };
	cpu_set_t cpu0;

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0) ||
	    sched_setscheduler(0, SCHED_BATCH, &sp)) {
		b->r.error = errno;
		b->tid = -1;
		return NULL;
	}
	b->tid = gettid();
	return runner_thread(&b->r);
}

/* The state letter of thread @tid of this process (/proc), or 0. */
static char thread_state(pid_t tid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (read_str(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * Directed yield to a woken vCPU: vCPU 1 sleeps in HLT; vCPU 0 kicks it
 * (KVM_HC_KICK_CPU) and waits for it in a PAUSE loop. Both threads are
 * on host CPU 0, and vCPU 1's is SCHED_BATCH, so its wake-up does not
 * preempt vCPU 0's: only a directed yield at vCPU 0's PAUSE-loop exit
 * runs it before the scheduler's tick does. That vCPU was not preempted
 * but woken and not run yet (KVM's vcpu->ready): it must be a candidate,
 * so vCPU 0 counts a successful yield (hvx_stats.pause_yields, among its
 * pause_yield_attempts). Skips where the CPU makes no PAUSE exits.
 */
TEST(pause_yields_to_woken_vcpu)
{
	struct batch_runner w = { 0 };
	cpu_set_t cpu0, was;
	struct vcpu *kicker;
	struct hvx_stats st;
	struct vm *vm;
	char state = 0;

	REQUIRE_VMX();
	setup_signals();
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(was), &was));
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpu0), &cpu0));
	vm = lapic_vm(0);
	kicker = long_vcpu(vm, 0, guest_kick_and_spin, 1);
	w.r.vcpu = long_vcpu(vm, 1, guest_woken_waiter, 0);
	ASSERT_EQ(0, pthread_create(&w.r.thread, NULL, batch_runner_thread, &w));
	/* vCPU 1 halted and its thread sleeps in the kernel. */
	for (int t = 0; t < 20000; t += 10) {
		vcpu_stats(_metadata, 1, &st);
		if (w.tid && st.halts >= 1) {
			state = w.tid > 0 ? thread_state(w.tid) : 0;
			if (state == 'S' || w.tid < 0)
				break;
		}
		msleep(10);
	}
	if (state != 'S') {
		runner_stop(&w.r);
		ASSERT_EQ('S', state) TH_LOG("vCPU 1 did not sleep in HLT (error %s)",
					     strerror(w.r.error));
	}
	vcpu_run_done(kicker);
	if (!wait_for(&w.r.done, 1, 20000)) {
		runner_stop(&w.r);
		ASSERT_TRUE(0) TH_LOG("the kicked vCPU did not finish");
	}
	pthread_join(w.r.thread, NULL);
	sched_setaffinity(0, sizeof(was), &was);
	vcpu_stats(_metadata, 0, &st);
	TH_LOG("vCPU 0: %llu PAUSE exits, %llu directed yields tried, %llu done",
	       st.exits_by_reason[EXIT_REASON_PAUSE_INSTRUCTION],
	       st.pause_yield_attempts, st.pause_yields);
	vm_free(vm);
	if (!st.exits_by_reason[EXIT_REASON_PAUSE_INSTRUCTION])
		SKIP(return, "no PAUSE exits: the CPU has no PAUSE-loop exiting");
	EXPECT_LE(1, st.pause_yields);
	EXPECT_LE(st.pause_yields, st.pause_yield_attempts);
}

/* Wait up to @ms for the guest counter *@ctr to leave 0 (10 ms steps). */
static bool wait_nonzero(volatile uint64_t *ctr, int ms)
{
	for (int t = 0; t < ms && !*ctr; t += 10)
		msleep(10);
	return *ctr != 0;
}

/*
 * vCPU 0 spins at CPL 0 (a PAUSE loop) beside vCPU 1, busy at CPL 3,
 * and, with @kernel_sibling, vCPU 2, busy at CPL 0; every thread on host
 * CPU 0, so the siblings are preempted (candidates) whenever vCPU 0 runs.
 * The siblings run first, until their counters move (vCPU 1 is in user
 * mode, and so at every later preemption). Ends once vCPU 0's counters
 * show what the case waits for (or after 30 s): its statistics in @st.
 */
static void spin_beside_user(struct __test_metadata *_metadata,
			     bool kernel_sibling, struct hvx_stats *st)
{
	struct runner user = { 0 }, kern = { 0 }, spin = { 0 };
	struct runner *all[] = { &user, &kern, &spin };
	cpu_set_t cpu0, was;
	struct vcpu *v0, *v1, *v2 = NULL;
	struct vm *vm;

	setup_signals();
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(was), &was));
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpu0), &cpu0));
	v0 = vm_create_long(&vm, guest_pause_until_stop, 0);
	v1 = long_vcpu(vm, 1, guest_user_busy, 0);
	if (kernel_sibling)
		v2 = long_vcpu(vm, 2, guest_kernel_busy, 0);
	runner_start(&user, v1);	/* the threads inherit CPU 0 */
	if (v2)
		runner_start(&kern, v2);
	ASSERT_TRUE(wait_nonzero(&guest_var(vm, guest_user_ctr), 20000))
		TH_LOG("vCPU 1 never ran in user mode");
	if (v2)
		ASSERT_TRUE(wait_nonzero(&guest_var(vm, guest_kernel_ctr), 20000))
			TH_LOG("vCPU 2 never ran");
	runner_start(&spin, v0);
	for (int t = 0; t < 30000; t += 10) {
		vcpu_stats(_metadata, 0, st);
		if (st->pause_yield_user_skips >= 3 &&
		    (!kernel_sibling || st->pause_yields >= 3))
			break;
		msleep(10);
	}
	guest_var(vm, guest_stop) = 1;
	for (int i = 0; i < 3; i++) {
		if (!all[i]->vcpu)
			continue;
		if (!wait_for(&all[i]->done, 1, 20000))
			runner_stop(all[i]);
		else
			pthread_join(all[i]->thread, NULL);
		EXPECT_EQ(1, all[i]->done) TH_LOG("vCPU %d: error %s, exit %llu", i,
						  strerror(all[i]->error),
						  (unsigned long long)all[i]->bad_exit);
	}
	sched_setaffinity(0, sizeof(was), &was);
	vcpu_stats(_metadata, 0, st);
	TH_LOG("vCPU 0: %llu PAUSE exits, %llu directed yields tried, %llu done, "
	       "%llu candidates in user mode passed over",
	       st->exits_by_reason[EXIT_REASON_PAUSE_INSTRUCTION],
	       st->pause_yield_attempts, st->pause_yields,
	       st->pause_yield_user_skips);
	vm_free(vm);
}

/*
 * KVM's rule (kvm_vcpu_on_spin() with yield_to_kernel_mode): a vCPU that
 * spins at CPL 0 passes over a sibling preempted in user mode, which
 * holds none of its kernel's locks, and yields to one preempted in the
 * kernel. vCPU 0 counts user-mode candidates passed over
 * (hvx_stats.pause_yield_user_skips) and yields that succeeded, which
 * can only have gone to vCPU 2.
 */
TEST(pause_yield_passes_over_user_mode_sibling)
{
	struct hvx_stats st;

	REQUIRE_VMX();
	spin_beside_user(_metadata, true, &st);
	if (!st.exits_by_reason[EXIT_REASON_PAUSE_INSTRUCTION])
		SKIP(return, "no PAUSE exits: the CPU has no PAUSE-loop exiting");
	EXPECT_LE(1, st.pause_yield_user_skips);
	EXPECT_LE(1, st.pause_yields);
	EXPECT_LE(st.pause_yields, st.pause_yield_attempts);
}

/*
 * With only a sibling preempted in user mode, a CPL 0 spinner tries no
 * directed yield at all: every PAUSE exit passes it over.
 */
TEST(pause_yield_none_to_user_mode_sibling)
{
	struct hvx_stats st;

	REQUIRE_VMX();
	spin_beside_user(_metadata, false, &st);
	if (!st.exits_by_reason[EXIT_REASON_PAUSE_INSTRUCTION])
		SKIP(return, "no PAUSE exits: the CPU has no PAUSE-loop exiting");
	EXPECT_LE(1, st.pause_yield_user_skips);
	EXPECT_EQ(0, st.pause_yield_attempts);
	EXPECT_EQ(0, st.pause_yields);
}

/* Run guest_features; its two SYNCs' arguments in @a and @b. */
static void run_features(struct __test_metadata *_metadata, struct vcpu *v,
			 struct ucall *a, struct ucall *b)
{
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(v, a));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(v, b));
	vcpu_run_done(v);
}

/*
 * The default table offers every feature at 0x40000100; a VMM that
 * clears PV_SEND_IPI in its table (HVX_SET_CPUID) hides it and turns the
 * call off, the others stay; HVX_VM_NO_PV offers nothing.
 */
TEST(vmm_masks_features)
{
	static struct hvx_cpuid c;
	struct ucall a, b;
	struct vcpu *v;
	struct vm *vm;

	REQUIRE_VMX();
	vm = lapic_vm(0);
	v = long_vcpu(vm, 0, guest_features, 0);
	run_features(_metadata, v, &a, &b);
	EXPECT_EQ(HVX_CPUID_KVM_FEATURES, a.args[0]);
	EXPECT_EQ(KVM_SIG_EBX | (uint64_t)KVM_SIG_ECX << 32, a.args[1]);
	EXPECT_EQ(KVM_SIG_EDX, a.args[2]);
	EXPECT_EQ(PV_FEATURES, a.args[3] & PV_FEATURES);
	EXPECT_EQ(0, b.args[0]);
	EXPECT_EQ(0, b.args[1]);
	EXPECT_EQ(0, b.args[2]);
	EXPECT_EQ(0, b.args[3]);	/* no hints */
	vm_free(vm);

	vm = lapic_vm(0);
	v = long_vcpu(vm, 0, guest_features, 0);
	ASSERT_EQ(0, ioctl(v->fd, HVX_GET_CPUID, &c));
	for (unsigned int i = 0; i < c.nent; i++)
		if (c.entries[i].function == HVX_CPUID_KVM_FEATURES)
			c.entries[i].eax &= ~(1u << HVX_KVM_FEATURE_PV_SEND_IPI);
	ASSERT_EQ(0, ioctl(v->fd, HVX_SET_CPUID, &c));
	run_features(_metadata, v, &a, &b);
	EXPECT_EQ(HVX_CPUID_KVM_FEATURES, a.args[0]);
	EXPECT_EQ(0, a.args[3] & (1u << HVX_KVM_FEATURE_PV_SEND_IPI));
	EXPECT_EQ(PV_FEATURES & ~(1u << HVX_KVM_FEATURE_PV_SEND_IPI),
		  a.args[3] & PV_FEATURES);
	EXPECT_EQ(0, b.args[0]);
	EXPECT_EQ(ENOSYS_RET, b.args[1]);
	EXPECT_EQ(0, b.args[2]);
	vm_free(vm);

	vm = lapic_vm(HVX_VM_NO_PV);
	v = long_vcpu(vm, 0, guest_features, 0);
	run_features(_metadata, v, &a, &b);
	EXPECT_EQ(0, a.args[0]);
	EXPECT_EQ(0, a.args[1]);
	EXPECT_EQ(0, a.args[3]);
	EXPECT_EQ(ENOSYS_RET, b.args[0]);
	EXPECT_EQ(ENOSYS_RET, b.args[1]);
	EXPECT_EQ(ENOSYS_RET, b.args[2]);
	vm_free(vm);
}

/* hvx_stats counts VMCALLs by number, refused ones included. */
TEST(stats_by_number)
{
	const uint64_t nr = HC_USER;
	struct hvx_stats st;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_basic, 0);
	vcpu_run_done(vcpu);
	vcpu_stats(_metadata, 0, &st);
	EXPECT_EQ(1, st.hypercalls[HVX_HC_VAPIC_POLL_IRQ]);
	EXPECT_EQ(3, st.hypercalls_other);
	EXPECT_EQ(4, st.exits_by_reason[EXIT_REASON_VMCALL]);
	EXPECT_EQ(0, st.exceptions_injected);
	vm_free(vm);

	vcpu = vm_create_long(&vm, guest_user, 0);
	ASSERT_EQ(0, set_exits(vm, &nr, 1));
	vcpu_run_done(vcpu);
	vcpu_stats(_metadata, 0, &st);
	EXPECT_EQ(1, st.hypercalls[HVX_HC_VAPIC_POLL_IRQ]);
	EXPECT_EQ(2, st.hypercalls_other);	/* HC_USER, HC_UNKNOWN */
	EXPECT_EQ(0, st.user_exits[HVX_EXIT_HYPERCALL]);
	vm_free(vm);
}

TEST_HARNESS_MAIN
