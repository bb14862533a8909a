// SPDX-License-Identifier: GPL-2.0
/*
 * guard_test - host machine-state integrity against a guest, and the
 * guest's view of the host's mitigations: #AC (reflected, and the
 * CVE-2015-5307 microcode loop, which must not hang the host), machine
 * checks handed to the host's handler (through hvx's mce_test_hook: no
 * emulator can raise a real #MC inside a guest), host NMIs taken in the
 * guest handed to the host's NMI handler (bochs-smp), the guest's own debug
 * registers versus the host's, and CPUID.7.EDX / IA32_ARCH_CAPABILITIES /
 * IA32_PRED_CMD / IA32_FLUSH_CMD as the host has them.
 */
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"
#include "guard_guest.h"

/* DR6/DR7 bits (SDM Vol. 3B 18.2.3, 18.2.4). */
#define DR6_RESET	0xffff0ff0
#define DR6_B0		0x1
#define DR6_B1		0x2
#define DR6_BS		0x4000
#define DR7_FIXED	0x400
#define DR7_L0		0x1
#define DR7_L1		0x4
#define DR7_RW0_WRITE	(1 << 16)	/* R/W0 = 01: data writes */
#define DR7_LEN0_4	(3 << 18)	/* LEN0 = 11: 4 bytes */

/* MSRs of the mitigation test (SDM Vol. 4 Table 2-2). */
#define MSR_IA32_PRED_CMD		0x49
#define MSR_IA32_ARCH_CAPABILITIES	0x10a
#define MSR_IA32_FLUSH_CMD		0x10b
#define ARCH_CAP_RDCL_NO	(1ull << 0)
#define ARCH_CAP_SSB_NO		(1ull << 4)
#define ARCH_CAP_MDS_NO		(1ull << 5)
/* CPUID.(7,0):EDX. */
#define CPUID7_EDX_MD_CLEAR	(1u << 10)
#define CPUID7_EDX_IBRS_IBPB	(1u << 26)
#define CPUID7_EDX_FLUSH_L1D	(1u << 28)
#define CPUID7_EDX_ARCH_CAP	(1u << 29)
#define GUARD_CMD_WRITES	16	/* writes of each command MSR */

#define X86_VEC_DB	1

/* User stacks for the blob (EBX): aligned, and off by one byte. */
#define AC_STACK_OK	0x2f000
#define AC_STACK_ODD	0x2f001

/* SYNC argument 0: which step the guest reports. */
enum { GUARD_DATA_BP = 1, GUARD_EXEC_BP, GUARD_HOST_DR, GUARD_CPUID,
       GUARD_CMD_BEGIN, GUARD_CMD_END, GUARD_CMD_RESERVED, GUARD_INT1 };

/* Guest code. */

volatile uint32_t guard_target;
extern const char guard_bp_insn[];

#define SET_DR(n, v)	asm volatile("mov %0, %%dr" #n : : "r"((uint64_t)(v)))
#define GET_DR(n, v)	asm volatile("mov %%dr" #n ", %0" : "=r"(v))

/* Write guard_target; return the vector of a #DB it raised, or 0. */
GUEST_CODE
static uint64_t write_watched(volatile uint32_t *p, uint32_t val)
{
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     "movl %[val], %[t]\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip), [t] "=m"(*p)
		     : [val] "r"(val) : "memory");
	return guest_fixup_vector;
}

/*
 * A data breakpoint (DR0, writes, 4 bytes) and an instruction breakpoint
 * (DR1) of the guest's own: each raises #DB, with B0 or B1 in DR6.
 * noclone: the label exists once.
 */
GUEST_CODE
void __attribute__((noinline, noclone)) guest_dr_breakpoints(uint64_t unused)
{
	uint64_t dr6, vec;

	(void)unused;
	SET_DR(6, DR6_RESET);
	SET_DR(0, &guard_target);
	SET_DR(7, DR7_FIXED | DR7_L0 | DR7_RW0_WRITE | DR7_LEN0_4);
	vec = write_watched(&guard_target, 1);
	GET_DR(6, dr6);
	SET_DR(7, DR7_FIXED);
	GUEST_SYNC_ARGS(GUARD_DATA_BP, vec, dr6, guard_target);

	SET_DR(6, DR6_RESET);
	SET_DR(1, guard_bp_insn);
	SET_DR(7, DR7_FIXED | DR7_L1);	/* R/W1 = 00, LEN1 = 00: execution */
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n"
		     ".globl guard_bp_insn\n"
		     "guard_bp_insn:\tnop\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : : "memory");
	vec = guest_fixup_vector;
	GET_DR(6, dr6);
	SET_DR(7, DR7_FIXED);
	GUEST_SYNC_ARGS(GUARD_EXEC_BP, vec, dr6, 0);
	GUEST_DONE();
}

/*
 * Arm breakpoint 0 in DR7 without writing DR0 (0 since reset), then write
 * @addr, which the host watches with its own DR0: no #DB may come of it.
 */
GUEST_CODE
void guest_dr_host_hidden(uint64_t addr)
{
	uint64_t dr0, dr6, vec;

	GET_DR(0, dr0);
	SET_DR(6, DR6_RESET);
	SET_DR(7, DR7_FIXED | DR7_L0 | DR7_RW0_WRITE | DR7_LEN0_4);
	vec = write_watched((volatile uint32_t *)addr, 5);
	GET_DR(6, dr6);
	SET_DR(7, DR7_FIXED);
	GUEST_SYNC_ARGS(GUARD_HOST_DR, vec, dr6, dr0);
	/* Unarmed: no breakpoint of anybody's is visible either. */
	SET_DR(6, DR6_RESET);
	vec = write_watched((volatile uint32_t *)addr, 6);
	GET_DR(6, dr6);
	GUEST_SYNC_ARGS(GUARD_HOST_DR, vec, dr6, 0);
	GUEST_DONE();
}

/*
 * CPUID.(7,0):EDX and IA32_ARCH_CAPABILITIES; then the command MSRs, each
 * written GUARD_CMD_WRITES times if CPUID offers it, else once (#GP
 * expected); then a reserved bit of IA32_FLUSH_CMD.
 */
GUEST_CODE
void guest_mitigations(uint64_t unused)
{
	uint32_t a, b, c, d;
	uint64_t cap = 0, vec, vp = 0, vf = 0;
	int i, n;

	(void)unused;
	cpuid(7, 0, &a, &b, &c, &d);
	vec = guest_rdmsr_safe(MSR_IA32_ARCH_CAPABILITIES, &cap);
	GUEST_SYNC_ARGS(GUARD_CPUID, d, vec, cap);

	GUEST_SYNC(GUARD_CMD_BEGIN);
	n = (d & CPUID7_EDX_IBRS_IBPB) ? GUARD_CMD_WRITES : 1;
	for (i = 0; i < n; i++)
		vp |= guest_wrmsr_safe(MSR_IA32_PRED_CMD, 1);
	n = (d & CPUID7_EDX_FLUSH_L1D) ? GUARD_CMD_WRITES : 1;
	for (i = 0; i < n; i++)
		vf |= guest_wrmsr_safe(MSR_IA32_FLUSH_CMD, 1);
	GUEST_SYNC_ARGS(GUARD_CMD_END, vp, vf, 0);

	vec = guest_wrmsr_safe(MSR_IA32_FLUSH_CMD, 2);
	GUEST_SYNC_ARGS(GUARD_CMD_RESERVED, vec, 0, 0);
	GUEST_DONE();
}

/* INT1 (ICEBP): a #DB the guest's handler sees once. */
GUEST_CODE
void guest_int1(uint64_t unused)
{
	(void)unused;
	guest_fixup_vector = 0;
	asm volatile("movq $1f, %[fix]\n\t"
		     ".byte 0xf1\n"
		     "1:\tmovq $0, %[fix]"
		     : [fix] "=m"(guest_fixup_rip) : : "memory");
	GUEST_SYNC_ARGS(GUARD_INT1, guest_fixup_vector, 0, 0);
	GUEST_DONE();
}

/* Host code. */

#define EXIT_REASON_EXCEPTION_NMI	0
#define EXIT_REASON_MSR_WRITE		32
#define EXIT_REASON_MCE_DURING_VMENTRY	41
#define EXIT_FAILED_ENTRY		0x80000000u

#define HOOK_PARAM	"/sys/module/hvx/parameters/mce_test_hook"
#define HOOK_IDLE	"0"
#define HOOK_EXIT	"1"
#define HOOK_ENTRY	"2"
#define HOOK_RAN_OK	3

/* Why the machine-check tests use hvx's hook (also on their TAP lines). */
#define HOOK_WHY "emulators cannot raise a real #MC in a guest"

static void on_alarm(int sig)
{
	(void)sig;
}

static struct hvx_stats own_stats(struct __test_metadata *_metadata)
{
	struct hvx_stats st;
	int ret = hvx_nl_own_stats(&st);

	if (ret)
		memset(&st, 0, sizeof(st));
	EXPECT_EQ(0, ret) TH_LOG("netlink statistics: %s", strerrorname_np(-ret));
	return st;
}

/* A 32-bit guest running ac_start with the user stack at @esp. */
static struct vcpu *ac_guest(struct vm **vm, uint32_t esp)
{
	struct hvx_regs regs;
	struct vcpu *vcpu;

	*vm = vm_create();
	vcpu = vcpu_create(*vm, 0);
	vm_load_blob(*vm, GPA_BLOB, ac_start, ac_end);
	vcpu_setup_prot32(vcpu, GPA_BLOB);
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = esp;
	vcpu_set_regs(vcpu, &regs);
	return vcpu;
}

/* Alignment checking the guest enabled (CPL 3, CR0.AM, EFLAGS.AC) is its
 * own: the #AC reaches its handler, with error code 0. */
TEST(ac_reflected)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = ac_guest(&vm, AC_STACK_OK);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(X86_VEC_AC, (uint32_t)uc.args[0]);
	ASSERT_EQ(0, (uint32_t)uc.args[1]);
	vm_free(vm);
}

/*
 * CVE-2015-5307: delivering the #AC raises #AC again (a misaligned stack
 * at CPL 3). On the CPU that loops in microcode, where no interrupt is
 * taken; with #AC intercepted each round is a VM exit, so the vCPU thread
 * keeps coming back to the host, and a signal ends HVX_RUN.
 */
TEST(ac_loop_does_not_hang_host)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 300 * 1000 } };
	struct hvx_stats st;
	struct vcpu *vcpu;
	struct vm *vm;
	int ret;

	REQUIRE_VMX();
	vcpu = ac_guest(&vm, AC_STACK_ODD);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));	/* no SA_RESTART */
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	ret = __vcpu_run(vcpu);
	ASSERT_EQ(-1, ret) TH_LOG("HVX_RUN returned: %s", vcpu_exit_str(vcpu));
	ASSERT_EQ(EINTR, errno);
	st = own_stats(_metadata);
	/* Many #AC exits, all reflected: the guest loops, the host does not. */
	ASSERT_LT(10, st.exits_by_reason[EXIT_REASON_EXCEPTION_NMI]);
	ASSERT_LT(10, st.exceptions_injected);
	vm_free(vm);
}

/*
 * Host NMIs while a guest runs. sysrq 'l' asks every online CPU for a
 * backtrace by NMI (nmi_trigger_cpumask_backtrace()); a CPU in the guest
 * takes it as an NMI exit (pin-based NMI exiting), and hvx hands it to the
 * kernel's NMI entry (hvx_vmx_forward_nmi()), whose handler prints
 * "NMI backtrace for cpu N" and returns to hvx, which re-enters.
 */
#define NMI_CPU		1	/* the vCPU's; sysrq is written on CPU 0 */
#define NMI_ROUNDS	3
#define NMI_LINE	"NMI backtrace for cpu 1"

static volatile uint64_t nmi_spin;

/* Records of the kernel log (/dev/kmsg) containing @needle, or -1. */
static int kmsg_count(const char *needle)
{
	char rec[8192];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK), n = 0;
	ssize_t r;

	if (fd < 0)
		return -1;
	for (;;) {
		r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EPIPE)
			continue;	/* overwritten while read: go on */
		if (r <= 0)
			break;
		rec[r] = 0;
		n += !!strstr(rec, needle);
	}
	close(fd);
	return n;
}

/* On CPU 0: NMI_ROUNDS backtrace requests, then SIGALRM to @arg's thread. */
static void *send_nmis(void *arg)
{
	pthread_t target = *(pthread_t *)arg;

	pin_cpu(0);
	for (int i = 0; i < NMI_ROUNDS; i++) {
		msleep(50);
		write_str("/proc/sysrq-trigger", "l");
	}
	msleep(50);
	pthread_kill(target, SIGALRM);
	return NULL;
}

TEST(host_nmi_in_guest_reaches_host_handler)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	pthread_t self = pthread_self(), sender;
	struct hvx_stats st;
	struct vcpu *vcpu;
	struct vm *vm;
	int before, ret;

	REQUIRE_VMX();
	if (sysconf(_SC_NPROCESSORS_ONLN) <= NMI_CPU)
		SKIP(return, "one CPU online: the NMI comes from another CPU (bochs-smp has two)");
	before = kmsg_count(NMI_LINE);
	ASSERT_LE(0, before) TH_LOG("/dev/kmsg: %m");
	ASSERT_EQ(0, pin_cpu(NMI_CPU));
	vcpu = vm_create_long(&vm, guest_spin, (uint64_t)&nmi_spin);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));	/* no SA_RESTART */
	ASSERT_EQ(0, pthread_create(&sender, NULL, send_nmis, &self));
	ret = __vcpu_run(vcpu);
	ASSERT_EQ(0, pthread_join(sender, NULL));
	ASSERT_EQ(-1, ret) TH_LOG("HVX_RUN returned: %s", vcpu_exit_str(vcpu));
	ASSERT_EQ(EINTR, errno);
	st = own_stats(_metadata);
	/* The guest spins without exceptions: these exits are the NMIs. */
	EXPECT_LE(1, st.exits_by_reason[EXIT_REASON_EXCEPTION_NMI]);
	EXPECT_EQ(0, st.exceptions_injected);
	EXPECT_LT(0, guest_var(vm, nmi_spin));
	/* One backtrace per request, those taken in the guest included. */
	EXPECT_EQ(before + NMI_ROUNDS, kmsg_count(NMI_LINE));
	vcpu_free(vcpu);
	vm_free(vm);
}

static int hook_read(void)
{
	char buf[16] = "";

	if (read_str(HOOK_PARAM, buf, sizeof(buf)) < 0)
		return -1;
	return atoi(buf);
}

/*
 * mce_test_hook=1: the next exception exit (the guest's INT1) is handled
 * as an #MC exit, with a stub in place of do_machine_check(). The stub
 * must run with interrupts off, user-mode registers, on the exit's CPU;
 * the exit is counted; the guest goes on as after a real #MC exit (its
 * INT1 runs again and reaches its handler once).
 */
TEST(mce_exit_via_test_hook_as_emulators_cannot_raise_mc)
{
	struct hvx_stats st;
	int hook;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	TH_LOG("using hvx's mce_test_hook: " HOOK_WHY);
	vcpu = vm_create_long(&vm, guest_int1, 0);
	ASSERT_EQ(0, write_str(HOOK_PARAM, HOOK_EXIT)) TH_LOG(HOOK_PARAM ": %m");
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	hook = hook_read();
	write_str(HOOK_PARAM, HOOK_IDLE);	/* never left armed */
	ASSERT_EQ(GUARD_INT1, uc.args[0]);
	ASSERT_EQ(X86_VEC_DB, uc.args[1]);
	ASSERT_EQ(HOOK_RAN_OK, hook);
	st = own_stats(_metadata);
	ASSERT_EQ(1, st.machine_checks);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/*
 * mce_test_hook=2: the exit is handled as a VM entry that failed because
 * of a machine check (basic reason 41): counted, and the VM stops with
 * HVX_EXIT_FAIL_ENTRY as KVM's does.
 */
TEST(mce_entry_via_test_hook_as_emulators_cannot_raise_mc)
{
	struct hvx_stats st;
	int hook;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	TH_LOG("using hvx's mce_test_hook: " HOOK_WHY);
	vcpu = vm_create_long(&vm, guest_int1, 0);
	ASSERT_EQ(0, write_str(HOOK_PARAM, HOOK_ENTRY)) TH_LOG(HOOK_PARAM ": %m");
	vcpu_run(vcpu);
	hook = hook_read();
	write_str(HOOK_PARAM, HOOK_IDLE);	/* never left armed */
	ASSERT_EXIT(HVX_EXIT_FAIL_ENTRY, vcpu);
	ASSERT_EQ(HVX_ENTRY_FAIL_MACHINE_CHECK, vcpu->run->fail_entry.kind);
	ASSERT_EQ(EXIT_FAILED_ENTRY | EXIT_REASON_MCE_DURING_VMENTRY,
		  vcpu->run->fail_entry.hardware_entry_failure_reason);
	ASSERT_EQ(HOOK_RAN_OK, hook);
	st = own_stats(_metadata);
	ASSERT_EQ(1, st.machine_checks);
	vm_free(vm);
}

/* Bad values for the hook are refused. */
TEST(mce_test_hook_rejects_bad_values)
{
	REQUIRE_VMX();
	ASSERT_EQ(0, write_str(HOOK_PARAM, HOOK_IDLE));
	ASSERT_EQ(-EINVAL, write_str(HOOK_PARAM, "3"));
	ASSERT_EQ(-EINVAL, write_str(HOOK_PARAM, "-1"));
	ASSERT_EQ(-EINVAL, write_str(HOOK_PARAM, "x"));
	ASSERT_EQ(0, hook_read());
}

/* The guest's own breakpoints work: #DB with B0 (data write), B1 (fetch). */
TEST(dr_guest_breakpoints)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_dr_breakpoints, 0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(GUARD_DATA_BP, uc.args[0]);
	ASSERT_EQ(X86_VEC_DB, uc.args[1]) TH_LOG("no #DB on the watched write");
	ASSERT_EQ(DR6_B0, uc.args[2] & 0xf) TH_LOG("DR6 %#llx",
						 (unsigned long long)uc.args[2]);
	ASSERT_EQ(DR6_RESET, uc.args[2] & DR6_RESET);
	ASSERT_EQ(1, uc.args[3]);		/* the write happened */

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(GUARD_EXEC_BP, uc.args[0]);
	ASSERT_EQ(X86_VEC_DB, uc.args[1]) TH_LOG("no #DB on the fetch");
	ASSERT_EQ(DR6_B1, uc.args[2] & 0xf) TH_LOG("DR6 %#llx",
						 (unsigned long long)uc.args[2]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

static volatile uint32_t host_watched;

static long perf_bp_open(void *addr)
{
	struct perf_event_attr pe = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(pe),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = (uintptr_t)addr,
		.bp_len = HW_BREAKPOINT_LEN_4,
		.sample_period = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};

	return syscall(__NR_perf_event_open, &pe, 0, -1, -1, 0);
}

static uint64_t perf_count(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return ~0ull;
	return n;
}

/*
 * The host watches host_watched with a hardware breakpoint (perf, in this
 * thread: the CPU's DR0 holds its address while the vCPU runs). A guest
 * that arms breakpoint 0 in DR7 without setting DR0 must not trigger on
 * that address (its DR0 is 0), nor see B0; afterwards the host's
 * breakpoint works again.
 */
TEST(dr_host_breakpoints_hidden)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t before;
	int fd;

	REQUIRE_VMX();
	fd = perf_bp_open((void *)&host_watched);
	if (fd < 0)
		SKIP(return, "no hardware breakpoint for the host: %s",
		     strerrorname_np(errno));
	before = perf_count(fd);
	host_watched = 1;
	ASSERT_EQ(before + 1, perf_count(fd)) TH_LOG("host breakpoint inactive");

	vcpu = vm_create_long(&vm, guest_dr_host_hidden,
			      (uint64_t)&host_watched);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(GUARD_HOST_DR, uc.args[0]);
	ASSERT_EQ(0, uc.args[3]);		/* the guest's DR0 */
	ASSERT_EQ(0, uc.args[1]) TH_LOG("guest took #DB on the host's address");
	ASSERT_EQ(0, uc.args[2] & 0xf) TH_LOG("DR6 %#llx",
					     (unsigned long long)uc.args[2]);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0, uc.args[1]);
	ASSERT_EQ(0, uc.args[2] & 0xf);
	vcpu_run_done(vcpu);
	vm_free(vm);

	/* The host's breakpoint is back in the CPU. */
	before = perf_count(fd);
	host_watched = 2;
	ASSERT_EQ(before + 1, perf_count(fd)) TH_LOG("host breakpoint lost");
	close(fd);
}

/* Does the host's /proc/cpuinfo list @flag? */
static bool host_flag(const char *flag)
{
	char line[8192], *p;
	size_t n = strlen(flag);
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (p = strstr(line, flag); p; p = strstr(p + 1, flag))
			if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n'))
				found = true;
		break;
	}
	fclose(f);
	return found;
}

/* Is the host "Not affected" by @vuln (sysfs)? */
static bool host_not_affected(const char *vuln)
{
	char path[128], buf[128] = "";

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/vulnerabilities/%s",
		 vuln);
	if (read_str(path, buf, sizeof(buf)) < 0)
		return false;
	return !strncmp(buf, "Not affected", 12);
}

/*
 * CPUID.7.EDX MD_CLEAR, FLUSH_L1D and ARCH_CAPABILITIES as the host has
 * them; IA32_ARCH_CAPABILITIES readable exactly then, with RDCL_NO,
 * MDS_NO and SSB_NO as the host's vulnerability files say; IA32_PRED_CMD
 * and IA32_FLUSH_CMD writes without exits where offered (#GP where not);
 * a reserved bit of IA32_FLUSH_CMD raises #GP.
 */
TEST(mitigations_as_host_has_them)
{
	struct hvx_stats st0, st1;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint32_t edx;
	bool pred, flush, cap;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_mitigations, 0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(GUARD_CPUID, uc.args[0]);
	edx = uc.args[1];
	ASSERT_EQ(host_flag("md_clear"), !!(edx & CPUID7_EDX_MD_CLEAR));
	ASSERT_EQ(host_flag("flush_l1d"), !!(edx & CPUID7_EDX_FLUSH_L1D));
	cap = host_flag("arch_capabilities");
	ASSERT_EQ(cap, !!(edx & CPUID7_EDX_ARCH_CAP));
	if (cap) {
		uint64_t v = uc.args[3];

		ASSERT_EQ(0, uc.args[2]) TH_LOG("RDMSR ARCH_CAPABILITIES faulted");
		ASSERT_EQ(host_not_affected("meltdown"), !!(v & ARCH_CAP_RDCL_NO));
		ASSERT_EQ(host_not_affected("mds"), !!(v & ARCH_CAP_MDS_NO));
		ASSERT_EQ(host_not_affected("spec_store_bypass"),
			  !!(v & ARCH_CAP_SSB_NO));
	} else {
		ASSERT_EQ(X86_VEC_GP, uc.args[2]);
		TH_LOG("host has no IA32_ARCH_CAPABILITIES: #GP checked");
	}

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(GUARD_CMD_BEGIN, uc.args[0]);
	st0 = own_stats(_metadata);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(GUARD_CMD_END, uc.args[0]);
	st1 = own_stats(_metadata);
	pred = edx & CPUID7_EDX_IBRS_IBPB;
	flush = edx & CPUID7_EDX_FLUSH_L1D;
	ASSERT_EQ(pred ? 0 : X86_VEC_GP, uc.args[1]);
	ASSERT_EQ(flush ? 0 : X86_VEC_GP, uc.args[2]);
	/* Offered commands are written without exits; others exit for #GP. */
	ASSERT_EQ(!pred + !flush,
		  st1.exits_by_reason[EXIT_REASON_MSR_WRITE] -
		  st0.exits_by_reason[EXIT_REASON_MSR_WRITE]);
	if (!pred || !flush)
		TH_LOG("host lacks %s%s (as every Bochs 2.7 model with VMX that boots 6.1: selftests/README.md): #GP path checked, no-exit path not",
		       pred ? "" : "IBPB ", flush ? "" : "FLUSH_L1D");

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(GUARD_CMD_RESERVED, uc.args[0]);
	ASSERT_EQ(X86_VEC_GP, uc.args[1]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST_HARNESS_MAIN
