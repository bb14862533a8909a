// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_test - guests that try to hurt the host: random instruction
 * bytes in real and long mode, wild MSR and control-register writes, an
 * exception loop that never exits, a storm of interrupts and NMIs, and
 * accesses to every GPA outside RAM. Each must end in an exit, a fault
 * inside the guest or a reported VM stop, and the host must stay usable
 * (the harness also fails the run on any kernel WARN or oops).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/time.h>

#include "hvx_test.h"
#include "hvx_guest.h"

#define STORM_IRQ_VECTOR	0x41

void guest_wild_msr_cr(uint64_t seed);
void guest_storm(uint64_t want);
void guest_touch_gpas(uint64_t first);
extern volatile uint64_t guest_storm_irqs, guest_storm_nmis;
extern const char guest_storm_irq_stub[], guest_storm_nmi_stub[];

/* Guest code. */

GUEST_CODE
static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64 (Marsaglia 2003) */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

GUEST_CODE
static uint64_t guest_write_cr_safe(int cr, uint64_t val)
{
	guest_fixup_vector = 0;
	if (cr == 0)
		asm volatile("movq $1f, %[fix]\n\tmov %[v], %%cr0\n"
			     "1:\tmovq $0, %[fix]"
			     : [fix] "=m"(guest_fixup_rip) : [v] "r"(val) : "memory");
	else
		asm volatile("movq $1f, %[fix]\n\tmov %[v], %%cr4\n"
			     "1:\tmovq $0, %[fix]"
			     : [fix] "=m"(guest_fixup_rip) : [v] "r"(val) : "memory");
	return guest_fixup_vector;
}

/*
 * Write random values to random MSRs (around the architectural ranges
 * and anywhere) and random bits into CR0/CR4. Every write either takes
 * effect or raises #GP; none may end the VM or touch the host. CR0.PG,
 * PE and CR4.PAE stay set so the guest keeps running its own code.
 */
GUEST_CODE
void guest_wild_msr_cr(uint64_t seed)
{
	static const uint32_t bases[] = {
		0x0, 0x10, 0x1b, 0x3a, 0x48, 0x8b, 0x174, 0x1d9, 0x200, 0x277,
		0x2ff, 0x480, 0x6e0, 0x800, 0xc0000080, 0xc0000100,
	};
	uint64_t cr0 = guest_read_cr0(), cr4 = guest_read_cr4();
	uint64_t s = seed | 1, val, faults = 0;

	for (int i = 0; i < 1500; i++) {
		uint64_t r = next_rand(&s);
		uint32_t msr = (r & 1) ? (uint32_t)(r >> 32) :
			       bases[(r >> 8) % 16] + ((r >> 16) & 0xff);

		val = next_rand(&s);
		if (r & 2)	/* keep some values small and canonical */
			val &= 0xffff;
		/* Never move the guest's own stack and code segments away. */
		if (msr == 0xc0000100 || msr == 0xc0000101)
			continue;
		faults += !!guest_wrmsr_safe(msr, val);
		faults += !!guest_rdmsr_safe(msr, &val);
	}
	for (int i = 0; i < 300; i++) {
		val = next_rand(&s);
		faults += !!guest_write_cr_safe(0, (val & ~0x80000001ull) |
						   (cr0 & 0x80000001ull));
		faults += !!guest_write_cr_safe(4, (val & ~0x20ull) | 0x20);
	}
	guest_write_cr_safe(0, cr0);
	guest_write_cr_safe(4, cr4);
	GUEST_SYNC(faults);
	GUEST_DONE();
}

/* --- interrupt and NMI storm ------------------------------------------- */

volatile uint64_t guest_storm_irqs, guest_storm_nmis;

asm(".pushsection .text\n"
    ".globl guest_storm_irq_stub\n"
    "guest_storm_irq_stub:\n\t"
    "lock incq guest_storm_irqs(%rip)\n\t"
    "iretq\n"
    ".globl guest_storm_nmi_stub\n"
    "guest_storm_nmi_stub:\n\t"
    "lock incq guest_storm_nmis(%rip)\n\t"
    "iretq\n"
    ".popsection");

/*
 * With interrupts open, do exits of several kinds (CPUID, port I/O,
 * HLT) while the host throws interrupts and NMIs at us, until @want
 * events have arrived; then report both counts.
 */
GUEST_CODE
void guest_storm(uint64_t want)
{
	uint32_t a, b, c, d;

	asm volatile("sti");
	for (uint64_t i = 0; guest_storm_irqs + guest_storm_nmis < want; i++) {
		a = i;
		c = 0;
		asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		if (i % 64 == 0)
			asm volatile("outb %%al, $0x80" : : "a"(0));
		if (i % 256 == 0)
			asm volatile("hlt");	/* woken by the next interrupt */
	}
	asm volatile("cli");
	GUEST_SYNC_ARGS(guest_storm_irqs, guest_storm_nmis, 0, 0);
	GUEST_DONE();
}

/* --- every GPA outside RAM --------------------------------------------- */

/*
 * Read and write every 2 MiB step of the identity-mapped 0..4 GiB from
 * @first up: nothing there is RAM, so each access must reach the host as
 * an MMIO exit (reads return ~GPA), never host memory.
 */
GUEST_CODE
void guest_touch_gpas(uint64_t first)
{
	uint64_t n = 0;

	for (uint64_t gpa = first; gpa < (4ull << 30); gpa += 2ull << 20) {
		volatile uint64_t *p = (volatile uint64_t *)gpa;

		GUEST_ASSERT_EQ(~gpa, p[0]);
		p[1] = gpa;
		n++;
	}
	GUEST_SYNC(n);
	GUEST_DONE();
}

/* Host code. */

#define SEEDS		8
#define MAX_EXITS	40

static void on_alarm(int sig)
{
	(void)sig;
}

static void arm_timer(unsigned int ms)
{
	struct itimerval it = { .it_value = { .tv_usec = ms * 1000 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void install_alarm(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: HVX_RUN gets EINTR */
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull | 1;

	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		p[i] = s;
	}
}

/*
 * Run until the VM stops or the budget is spent. Every HVX_RUN must
 * return an exit the ABI documents, or EINTR from the timer. Returns the
 * final exit reason (HVX_EXIT_INTR for "still running").
 */
static uint32_t run_budget(struct __test_metadata *_metadata,
			   struct vcpu *vcpu)
{
	for (int n = 0; n < MAX_EXITS; n++) {
		int ret;

		arm_timer(10);
		ret = __vcpu_run(vcpu);
		arm_timer(0);
		if (ret) {
			ASSERT_EQ(EINTR, errno) TH_LOG("HVX_RUN: %m");
			return HVX_EXIT_INTR;
		}
		switch (vcpu->run->exit_reason) {
		case HVX_EXIT_IO:
		case HVX_EXIT_MMIO:
		case HVX_EXIT_HLT:
			continue;
		case HVX_EXIT_SHUTDOWN:
		case HVX_EXIT_INTERNAL_ERROR:
		case HVX_EXIT_FAIL_ENTRY:
			return vcpu->run->exit_reason;
		default:
			ASSERT_TRUE(0) TH_LOG("unexpected exit %s",
					      vcpu_exit_str(vcpu));
		}
	}
	return HVX_EXIT_INTR;
}

/* After a hostile guest the host still runs a normal one. */
static void check_host_usable(struct __test_metadata *_metadata)
{
	struct vcpu *vcpu;
	struct vm *vm;

	vcpu = vm_create_long(&vm, guest_sync_done, 99);
	ASSERT_EQ(99, vcpu_run_sync(vcpu));
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(random_code_long_mode)
{
	int outcome[16] = { 0 };

	REQUIRE_VMX();
	install_alarm();
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct hvx_regs regs;
		struct vcpu *vcpu;
		struct vm *vm;

		vcpu = vm_create_long(&vm, guest_sync_done, 0);
		fill_random(vm_gpa2hva(vm, GPA_BLOB_DATA, 4096), 4096, seed);
		vcpu_get_regs(vcpu, &regs);
		regs.rip = GPA_BLOB_DATA;
		vcpu_set_regs(vcpu, &regs);
		outcome[run_budget(_metadata, vcpu) & 15]++;
		vm_free(vm);
	}
	TH_LOG("outcomes: shutdown %d, internal error %d, entry failure %d, still running %d",
	       outcome[HVX_EXIT_SHUTDOWN], outcome[HVX_EXIT_INTERNAL_ERROR],
	       outcome[HVX_EXIT_FAIL_ENTRY], outcome[HVX_EXIT_INTR]);
	check_host_usable(_metadata);
}

TEST(random_code_real_mode)
{
	REQUIRE_VMX();
	install_alarm();
	for (uint64_t seed = 100; seed < 100 + SEEDS; seed++) {
		struct vcpu *vcpu;
		struct vm *vm;

		vm = vm_create();
		vcpu = vcpu_create(vm, 0);
		fill_random(vm_gpa2hva(vm, GPA_BLOB, 4096), 4096, seed);
		vcpu_setup_real(vcpu, GPA_BLOB);
		run_budget(_metadata, vcpu);
		vm_free(vm);
	}
	check_host_usable(_metadata);
}

/* Every wild write faults or lands; the guest gets to the end. */
TEST(wild_msr_and_cr_writes)
{
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_wild_msr_cr, 12345);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_LT(0, uc.args[0]);		/* some writes were refused */
	vcpu_run_done(vcpu);
	vm_free(vm);
	check_host_usable(_metadata);
}

/*
 * Every IDT gate points at "add $40, %rsp; ud2": each #UD is delivered,
 * its 5-word frame dropped, and the next #UD raised, forever, without a
 * VM exit and without the stack growing. The host must still be able to
 * stop the vCPU with a signal.
 */
TEST(endless_exception_loop)
{
	struct hvx_regs regs;
	struct vcpu *vcpu;
	struct vm *vm;
	static const uint8_t handler[] = {
		0x48, 0x83, 0xc4, 0x28,		/* add $40, %rsp */
		0x0f, 0x0b,			/* ud2 */
	};
	int ret;

	REQUIRE_VMX();
	install_alarm();
	vcpu = vm_create_long(&vm, guest_sync_done, 0);
	memcpy(vm_gpa2hva(vm, GPA_BLOB_DATA, sizeof(handler)), handler,
	       sizeof(handler));
	for (int v = 0; v < 32; v++)
		vm_set_idt_gate(vm, v, GPA_BLOB_DATA);
	vcpu_get_regs(vcpu, &regs);
	regs.rip = GPA_BLOB_DATA + 4;		/* start at the UD2 */
	vcpu_set_regs(vcpu, &regs);

	arm_timer(50);
	ret = __vcpu_run(vcpu);
	arm_timer(0);
	ASSERT_EQ(-1, ret) TH_LOG("exit %s", vcpu_exit_str(vcpu));
	ASSERT_EQ(EINTR, errno);
	ASSERT_EQ(HVX_EXIT_INTR, vcpu->run->exit_reason);
	vm_free(vm);
	check_host_usable(_metadata);
}

/* --- interrupt and NMI storm ------------------------------------------- */

#define STORM_EVENTS	1500

struct storm {
	struct vcpu *vcpu;
	atomic_bool done;
	uint64_t sent_irqs, sent_nmis;
	bool nmi_ok;
};

static void *storm_sender(void *arg)
{
	struct storm *st = arg;
	struct hvx_interrupt irq = { .vector = STORM_IRQ_VECTOR };

	while (!atomic_load(&st->done)) {
		if (!ioctl(st->vcpu->fd, HVX_INTERRUPT, &irq))
			st->sent_irqs++;
		if (st->nmi_ok && !ioctl(st->vcpu->fd, HVX_NMI, 0))
			st->sent_nmis++;
	}
	return NULL;
}

/*
 * Interrupts and NMIs queued from another thread as fast as it can, while
 * the guest exits for CPUID, port I/O and HLT: each event is delivered
 * exactly once (at most one can still be queued when the guest stops),
 * and nothing hangs.
 */
TEST(interrupt_and_nmi_storm)
{
	struct storm st = { };
	struct vm *vm;
	struct ucall uc;
	pthread_t t;
	uint64_t irqs, nmis;

	REQUIRE_VMX();
	st.vcpu = vm_create_long(&vm, guest_storm, STORM_EVENTS);
	vcpu_set_idt_gate(st.vcpu, STORM_IRQ_VECTOR, (uint64_t)guest_storm_irq_stub);
	vcpu_set_idt_gate(st.vcpu, 2, (uint64_t)guest_storm_nmi_stub);
	st.nmi_ok = ioctl(st.vcpu->fd, HVX_NMI, 0) == 0;
	if (st.nmi_ok)
		st.sent_nmis = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, storm_sender, &st));
	for (;;) {
		ASSERT_EQ(0, __vcpu_run(st.vcpu)) TH_LOG("HVX_RUN: %m");
		if (st.vcpu->run->exit_reason == HVX_EXIT_IO &&
		    st.vcpu->run->io.port == 0x80)
			continue;
		break;
	}
	atomic_store(&st.done, true);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(UCALL_SYNC, get_ucall(st.vcpu, &uc))
		TH_LOG("%s", ucall_str(st.vcpu, &uc));
	irqs = uc.args[0];
	nmis = uc.args[1];
	ASSERT_LE(STORM_EVENTS, irqs + nmis);
	ASSERT_LE(irqs, st.sent_irqs);
	ASSERT_GE(1, st.sent_irqs - irqs)
		TH_LOG("%llu interrupts queued, %llu delivered",
		       (unsigned long long)st.sent_irqs, (unsigned long long)irqs);
	ASSERT_LE(nmis, st.sent_nmis);
	ASSERT_GE(1, st.sent_nmis - nmis)
		TH_LOG("%llu NMIs queued, %llu delivered",
		       (unsigned long long)st.sent_nmis, (unsigned long long)nmis);
	vcpu_run_done(st.vcpu);
	ksft_print_msg("storm: %llu interrupts and %llu NMIs delivered\n",
		       (unsigned long long)irqs, (unsigned long long)nmis);
	vm_free(vm);
	check_host_usable(_metadata);
}

/* --- every GPA outside RAM --------------------------------------------- */

/*
 * The guest reads and writes every 2 MiB of 0..4 GiB above its RAM: each
 * access is an MMIO exit for exactly that GPA, in order, and reads see
 * only what the host supplies.
 */
TEST(touch_every_gpa)
{
	const uint64_t step = 2ull << 20;
	uint64_t first, cur, exits = 0;
	struct vcpu *vcpu;
	struct vm *vm;
	struct ucall uc;

	REQUIRE_VMX();
	vm = vm_create();
	first = (vm->ram_size + step - 1) & ~(step - 1);
	vm_free(vm);
	vcpu = vm_create_long(&vm, guest_touch_gpas, first);
	ASSERT_EQ(first, (vm->ram_size + step - 1) & ~(step - 1));
	cur = first;
	for (;;) {
		struct hvx_run *run = vcpu->run;

		ASSERT_EQ(0, __vcpu_run(vcpu)) TH_LOG("HVX_RUN: %m");
		if (run->exit_reason != HVX_EXIT_MMIO)
			break;
		exits++;
		ASSERT_EQ(8, run->mmio.len);
		if (!run->mmio.is_write) {
			uint64_t v = ~cur;

			ASSERT_EQ(cur, run->mmio.phys_addr);
			memcpy(run->mmio.data, &v, 8);
		} else {
			uint64_t v;

			ASSERT_EQ(cur + 8, run->mmio.phys_addr);
			memcpy(&v, run->mmio.data, 8);
			ASSERT_EQ(cur, v);
			cur += step;
		}
	}
	ASSERT_EQ(UCALL_SYNC, get_ucall(vcpu, &uc)) TH_LOG("%s", ucall_str(vcpu, &uc));
	ASSERT_EQ(((4ull << 30) - first) / step, uc.args[0]);
	ASSERT_EQ(2 * uc.args[0], exits);
	ASSERT_EQ(4ull << 30, cur);
	vcpu_run_done(vcpu);
	ksft_print_msg("%llu GPAs outside RAM touched, each an MMIO exit\n",
		       (unsigned long long)uc.args[0]);
	vm_free(vm);
}

TEST_HARNESS_MAIN
