// SPDX-License-Identifier: GPL-2.0
/*
 * guard.c - machine checks that interrupt a guest, handed to the host.
 *
 * #MC is always intercepted (HVX_EXCEPTION_BITMAP). A machine check that
 * causes a VM exit, or that makes a VM entry fail (basic exit reason 41),
 * was not delivered to anybody: the host's handler must run on this CPU
 * before interrupts are enabled again, or the error is neither logged nor
 * acted upon, MCIP stays set (a second #MC then shuts the CPU down) and the
 * other CPUs of a broadcast machine check wait for this one in vain (SDM
 * Vol. 3B 16.10; Vol. 3C 27.8, 28.1). hvx calls do_machine_check() with
 * registers that say "user mode", as KVM does: the error struck the vCPU
 * thread's guest, so the kernel's recovery (memory_failure() of a poisoned
 * guest page, SIGBUS) is aimed at that task and never treats the error as
 * a kernel-mode one. int $18 would present a kernel context instead, and
 * is fatal under FRED.
 *
 * The mce_test_hook module parameter lets tests reach this path on
 * machines (and emulators) that cannot raise a real #MC inside a guest.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/moduleparam.h>
#include <asm/mce.h>
#include <asm/ptrace.h>

#include "vmx.h"

/* Values of mce_test_hook. */
enum {
	HOOK_IDLE,	/* no test */
	HOOK_EXIT,	/* armed: next exception exit acts as an #MC exit */
	HOOK_ENTRY,	/* armed: ... as a machine check during VM entry */
	HOOK_RAN_OK,	/* the stub ran: interrupts off, user regs, same CPU */
	HOOK_RAN_BAD,	/* the stub ran in the wrong context */
};

static int mce_test_hook;

static int hook_set(const char *val, const struct kernel_param *kp)
{
	int n, ret = kstrtoint(val, 0, &n);

	if (ret)
		return ret;
	if (n < HOOK_IDLE || n > HOOK_ENTRY)
		return -EINVAL;
	WRITE_ONCE(mce_test_hook, n);
	return 0;
}

static const struct kernel_param_ops hook_ops = {
	.set = hook_set,
	.get = param_get_int,
};
module_param_cb(mce_test_hook, &hook_ops, &mce_test_hook, 0600);
MODULE_PARM_DESC(mce_test_hook,
		 "Test only: 1 (2) makes the next exception exit of any vCPU act as an #MC exit (a machine check during VM entry), with a stub in place of the host's handler; reads 3 once the stub ran with interrupts off, user-mode registers and on the exit's CPU, 4 if not (default: 0)");

/* Stands in for do_machine_check() when the hook is armed. */
static void mce_test_stub(struct hvx_vmx_vcpu *v, struct pt_regs *regs)
{
	bool ok = irqs_disabled() && user_mode(regs) &&
		  v->cpu == raw_smp_processor_id();

	WRITE_ONCE(mce_test_hook, ok ? HOOK_RAN_OK : HOOK_RAN_BAD);
}

/**
 * hvx_vmx_machine_check - run the host's machine-check handler for an exit
 * @v: the vCPU that just exited.
 * @reason: full exit reason.
 * @intr_info: VM-exit interruption information for exception exits.
 *
 * Called by hvx_vmx_mce_irqoff() for exception exits and reason 41. Sets
 * @v->mce_exit for the exit handlers and counts the machine check in
 * hvx_stats.machine_checks.
 * Context: interrupts off, right after the VM exit, on its CPU.
 */
void hvx_vmx_machine_check(struct hvx_vmx_vcpu *v, u32 reason, u32 intr_info)
{
	/* User mode (CS RPL 3) with interrupts on: the guest's context. */
	struct pt_regs regs = { .cs = 3, .flags = X86_EFLAGS_IF };
	bool stub = false;
	int hook;

	v->mce_exit = HVX_MCE_NONE;
	if ((u16)reason == EXIT_REASON_MCE_DURING_VMENTRY) {
		v->mce_exit = HVX_MCE_ENTRY;
	} else if ((intr_info & (INTR_INFO_INTR_TYPE_MASK | INTR_INFO_VECTOR_MASK)) ==
		   (INTR_TYPE_HARD_EXCEPTION | X86_TRAP_MC)) {
		v->mce_exit = HVX_MCE_EXIT;
	} else {
		hook = READ_ONCE(mce_test_hook);
		if (likely(hook != HOOK_EXIT && hook != HOOK_ENTRY))
			return;
		if (cmpxchg(&mce_test_hook, hook, HOOK_IDLE) != hook)
			return;
		v->mce_exit = hook == HOOK_EXIT ? HVX_MCE_EXIT : HVX_MCE_ENTRY;
		stub = true;
	}
	v->stats.s.machine_checks++;
	if (stub)
		mce_test_stub(v, &regs);
#ifdef CONFIG_X86_MCE
	else
		do_machine_check(&regs);
#endif
}
