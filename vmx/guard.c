// SPDX-License-Identifier: GPL-2.0
/*
 * guard.c - machine checks that interrupt a guest, handed to the host;
 * the guest's breakpoints on emulated accesses.
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
 *
 * Also here: matching the guest's data and I/O breakpoints against the
 * accesses of instructions hvx emulates (hvx_vmx_dr_hits()).
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

/*
 * Bytes covered by a breakpoint of LEN field @len (SDM Vol. 3B 18.2.5):
 * 00 one, 01 two, 11 four, 10 eight (a CPU without 64-bit support treats
 * 10 as undefined; hvx gives the 64-bit meaning).
 */
static unsigned int dr7_len_bytes(unsigned int len)
{
	static const u8 bytes[4] = { 1, 2, 8, 4 };

	return bytes[len & 3];
}

/**
 * hvx_vmx_dr_hits - the guest's breakpoints an emulated access matches
 * @v: the vCPU.
 * @addr: linear address of a data access, or the port of an I/O access.
 * @len: bytes accessed.
 * @type: HVX_DR_READ, HVX_DR_WRITE or HVX_DR_IO.
 *
 * An instruction that hvx emulates never executed on the CPU, so its data
 * and I/O breakpoints (traps, SDM Vol. 3B 18.2.4, 18.2.5, 18.3.1.2,
 * 18.3.1.3) must be checked here. Breakpoint n matches when Ln or Gn is
 * set in the guest's DR7, its R/Wn field covers @type (R/W = 10 means I/O
 * only with CR4.DE, and is undefined without it: no match), and the
 * access overlaps the DRn range, which is DRn rounded down to LENn bytes.
 * Costs nothing unless the guest armed a breakpoint (@v->dr_armed).
 *
 * Context: the vCPU's thread, its VMCS loaded.
 * Return: B0-B3 of the matching breakpoints, in DR6 layout.
 */
u8 hvx_vmx_dr_hits(struct hvx_vmx_vcpu *v, u64 addr, unsigned int len,
		   unsigned int type)
{
	u64 dr7, start, end = addr + len - 1;
	unsigned int n, rw, bytes;
	u8 hits = 0;

	if (!v->dr_armed || !len)
		return 0;
	dr7 = hvx_vmx_read(v, GUEST_DR7);
	for (n = 0; n < 4; n++) {
		if (!(dr7 & (3 << (2 * n))))
			continue;
		rw = (dr7 >> (16 + 4 * n)) & 3;
		if (type == HVX_DR_IO ? rw != 2 || !(v->cr4 & X86_CR4_DE) :
		    rw != 3 && (rw != 1 || type != HVX_DR_WRITE))
			continue;
		bytes = dr7_len_bytes(dr7 >> (18 + 4 * n));
		start = v->dr[n] & ~(u64)(bytes - 1);
		if (addr <= start + bytes - 1 && start <= end)
			hits |= BIT(n);
	}
	return hits;
}
