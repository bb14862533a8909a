// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_test - guests that try to hurt the host: random instruction
 * bytes in real and long mode, wild MSR and control-register writes, and
 * an exception loop that never exits. Each must end in an exit, a fault
 * inside the guest or a reported VM stop, and the host must stay usable
 * (the harness also fails the run on any kernel WARN or oops).
 */
#include <signal.h>
#include <sys/time.h>

#include "hvx_test.h"
#include "hostile_guest.h"

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

TEST_HARNESS_MAIN
