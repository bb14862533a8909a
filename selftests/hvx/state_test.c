// SPDX-License-Identifier: GPL-2.0
/*
 * state_test - host and guest state that hvx switches once per HVX_RUN
 * (vmx/run.c): FPU/AVX registers, SYSCALL MSRs, KERNEL_GS_BASE, TSC_AUX,
 * FS/GS base, IA32_DEBUGCTL, across in-kernel exits, exits to userspace, preemption
 * (sched_yield, a busy sibling thread), migration between CPUs
 * (sched_setaffinity between runs) and signals that interrupt HVX_RUN.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "hvx_test.h"
#include "hvx_guest.h"

#define ROUNDS		24

#define MSR_TSC_AUX		0xc0000103
#define MSR_DEBUGCTL		0x1d9
#define DEBUGCTL_BTF		(1ull << 1)	/* the one bit a guest may set */

/* Values the MSR guest writes (valid for each MSR). */
#define STATE_STAR		0x0023001000000000ull
#define STATE_LSTAR		0xffffffff81234560ull
#define STATE_SFMASK		0x47700ull
#define STATE_KGS_BASE		0xffff888000123000ull
#define STATE_TSC_AUX		0x5a5ull

/* CPUIDs (in-kernel exits) between two exits to userspace. */
#define STATE_CPUIDS		200

/* The 16 YMM registers' pattern for @seed, byte i of register r. */
GUEST_CODE
static inline uint8_t state_pattern(uint64_t seed, int r, int i)
{
	return (uint8_t)(seed + r * 32 + i * 7);
}

/* The pattern of all 16 registers (GUEST_YMM_BYTES), for both sides. */
GUEST_CODE
static void ymm_fill(uint8_t *buf, uint64_t seed)
{
	for (int r = 0; r < 16; r++)
		for (int i = 0; i < 32; i++)
			buf[r * 32 + i] = state_pattern(seed, r, i);
}

/*
 * Guest code: one guest keeps a pattern in all 16 YMM registers across
 * in-kernel exits, exits to userspace, preemption and migration; one
 * keeps its SYSCALL MSRs, KERNEL_GS_BASE and TSC_AUX; one keeps its
 * IA32_DEBUGCTL.
 */

static uint8_t want[GUEST_YMM_BYTES], seen[GUEST_YMM_BYTES];

/* First SYNC: 0 if the vCPU has no AVX, else 1; then SYNC(round) each
 * STATE_CPUIDS in-kernel exits, the registers checked around it. */
GUEST_CODE
void guest_state_avx(uint64_t seed)
{
	uint32_t a, b, c, d;
	uint64_t round;

	if (!guest_enable_avx()) {
		GUEST_SYNC(0);
		GUEST_DONE();
	}
	ymm_fill(want, seed);
	guest_ymm_load(want);
	GUEST_SYNC(1);
	for (round = 0;; round++) {
		uint64_t bad = 0;

		for (int k = 0; k < STATE_CPUIDS; k++)
			cpuid(0, 0, &a, &b, &c, &d);
		guest_ymm_store(seen);
		for (int i = 0; i < GUEST_YMM_BYTES; i++)
			bad += seen[i] != want[i];
		GUEST_ASSERT_EQ(0, bad);
		GUEST_SYNC(round);
		guest_ymm_store(seen);
		for (int i = 0; i < GUEST_YMM_BYTES; i++)
			bad += seen[i] != want[i];
		GUEST_ASSERT_EQ(0, bad);
	}
}

GUEST_CODE
static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}

GUEST_CODE
static void wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)val),
		     "d"((uint32_t)(val >> 32)) : "memory");
}

/*
 * First SYNC: bit 0 RDTSCP offered, bit 1 RDPID offered. @cpuids: CPUIDs
 * between two later SYNCs, 0 for STATE_CPUIDS / 4.
 */
GUEST_CODE
void guest_state_msrs(uint64_t cpuids)
{
	uint32_t a, b, c, d, aux;
	bool rdtscp, rdpid;
	uint64_t v;

	cpuid(0x80000001, 0, &a, &b, &c, &d);
	rdtscp = d & (1u << 27);
	cpuid(7, 0, &a, &b, &c, &d);
	rdpid = c & (1u << 22);
	wrmsr(MSR_STAR, STATE_STAR);
	wrmsr(MSR_LSTAR, STATE_LSTAR);
	wrmsr(MSR_SFMASK, STATE_SFMASK);
	wrmsr(MSR_KERNEL_GS_BASE, STATE_KGS_BASE);
	if (rdtscp || rdpid)
		wrmsr(MSR_TSC_AUX, STATE_TSC_AUX);
	GUEST_SYNC(rdtscp | rdpid << 1);
	for (;;) {
		GUEST_ASSERT_EQ(STATE_STAR, rdmsr(MSR_STAR));
		GUEST_ASSERT_EQ(STATE_LSTAR, rdmsr(MSR_LSTAR));
		GUEST_ASSERT_EQ(STATE_SFMASK, rdmsr(MSR_SFMASK));
		GUEST_ASSERT_EQ(STATE_KGS_BASE, rdmsr(MSR_KERNEL_GS_BASE));
		if (rdtscp) {
			asm volatile("rdtscp" : "=a"(a), "=d"(d), "=c"(aux));
			GUEST_ASSERT_EQ(STATE_TSC_AUX, aux);
		}
		if (rdpid) {
			asm volatile("rdpid %0" : "=r"(v));
			GUEST_ASSERT_EQ(STATE_TSC_AUX, v);
		}
		if (rdtscp || rdpid)
			GUEST_ASSERT_EQ(STATE_TSC_AUX, rdmsr(MSR_TSC_AUX));
		/* SWAPGS works on the guest's KERNEL_GS_BASE, twice = same. */
		asm volatile("swapgs; swapgs" ::: "memory");
		for (uint64_t k = 0; k < (cpuids ? cpuids : STATE_CPUIDS / 4); k++)
			cpuid(0, 0, &a, &b, &c, &d);
		GUEST_SYNC(2);
	}
}

/*
 * IA32_DEBUGCTL set to @debugctl once, then read back around in-kernel
 * exits (CPUID) and exits to userspace: each SYNC reports what RDMSR
 * returns.
 */
GUEST_CODE
void guest_state_debugctl(uint64_t debugctl)
{
	uint32_t a, b, c, d;

	wrmsr(MSR_DEBUGCTL, debugctl);
	for (;;) {
		for (int k = 0; k < STATE_CPUIDS / 4; k++)
			cpuid(0, 0, &a, &b, &c, &d);
		GUEST_SYNC(rdmsr(MSR_DEBUGCTL));
	}
}

/* Host code. */

static bool host_has_avx(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return (c & (1u << 27)) && (c & (1u << 28));	/* OSXSAVE, AVX */
}

/* CPUs this thread may run on, in *cpus (at most 64); returns how many. */
static int allowed_cpus(int *cpus)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (int i = 0; i < CPU_SETSIZE && n < 64; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	return n;
}

#define YMM_LOAD(buf)							\
	"vmovdqu 0(" buf "), %%ymm0\n\t vmovdqu 32(" buf "), %%ymm1\n\t" \
	"vmovdqu 64(" buf "), %%ymm2\n\t vmovdqu 96(" buf "), %%ymm3\n\t" \
	"vmovdqu 128(" buf "), %%ymm4\n\t vmovdqu 160(" buf "), %%ymm5\n\t" \
	"vmovdqu 192(" buf "), %%ymm6\n\t vmovdqu 224(" buf "), %%ymm7\n\t" \
	"vmovdqu 256(" buf "), %%ymm8\n\t vmovdqu 288(" buf "), %%ymm9\n\t" \
	"vmovdqu 320(" buf "), %%ymm10\n\t vmovdqu 352(" buf "), %%ymm11\n\t" \
	"vmovdqu 384(" buf "), %%ymm12\n\t vmovdqu 416(" buf "), %%ymm13\n\t" \
	"vmovdqu 448(" buf "), %%ymm14\n\t vmovdqu 480(" buf "), %%ymm15\n\t"
#define YMM_STORE(buf)							\
	"vmovdqu %%ymm0, 0(" buf ")\n\t vmovdqu %%ymm1, 32(" buf ")\n\t" \
	"vmovdqu %%ymm2, 64(" buf ")\n\t vmovdqu %%ymm3, 96(" buf ")\n\t" \
	"vmovdqu %%ymm4, 128(" buf ")\n\t vmovdqu %%ymm5, 160(" buf ")\n\t" \
	"vmovdqu %%ymm6, 192(" buf ")\n\t vmovdqu %%ymm7, 224(" buf ")\n\t" \
	"vmovdqu %%ymm8, 256(" buf ")\n\t vmovdqu %%ymm9, 288(" buf ")\n\t" \
	"vmovdqu %%ymm10, 320(" buf ")\n\t vmovdqu %%ymm11, 352(" buf ")\n\t" \
	"vmovdqu %%ymm12, 384(" buf ")\n\t vmovdqu %%ymm13, 416(" buf ")\n\t" \
	"vmovdqu %%ymm14, 448(" buf ")\n\t vmovdqu %%ymm15, 480(" buf ")\n\t"
#define YMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", \
	"xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", \
	"xmm15"

/* HVX_RUN with the thread's own YMM registers loaded from @in; after the
 * ioctl they are stored to @out. Returns the ioctl's result (-errno). */
static long run_with_ymm(int fd, const uint8_t *in, uint8_t *out)
{
	long ret;

	asm volatile(YMM_LOAD("%[in]")
		     "syscall\n\t"
		     YMM_STORE("%[out]")
		     : "=a"(ret)
		     : "a"((long)SYS_ioctl), "D"((long)fd), "S"((long)HVX_RUN),
		       "d"(0L), [in] "r"(in), [out] "r"(out)
		     : "rcx", "r11", "memory", YMM_CLOBBERS);
	return ret;
}

/* A host thread using AVX beside the vCPU thread: its registers must hold. */
struct sibling {
	pthread_t thread;
	atomic_bool stop;
	atomic_long rounds, errors;
};

static void *sibling_fn(void *arg)
{
	struct sibling *s = arg;
	uint8_t in[512], out[512];

	ymm_fill(in, 0xa5);
	while (!atomic_load(&s->stop)) {
		asm volatile(YMM_LOAD("%0") : : "r"(in) : "memory", YMM_CLOBBERS);
		sched_yield();
		for (volatile int i = 0; i < 2000; i++)
			;
		asm volatile(YMM_STORE("%0") : : "r"(out) : "memory");
		if (memcmp(in, out, sizeof(in)))
			atomic_fetch_add(&s->errors, 1);
		atomic_fetch_add(&s->rounds, 1);
	}
	return NULL;
}

static atomic_long signals;

/* A signal handler that uses AVX itself (the kernel saves and restores). */
static void on_alarm(int sig)
{
	static const uint8_t junk[512] = { 0xff, 0xee, 0xdd };

	asm volatile(YMM_LOAD("%0") : : "r"(junk) : "memory", YMM_CLOBBERS);
	atomic_fetch_add(&signals, 1);
}

/*
 * The guest keeps all 16 YMM registers across 24 exits to userspace with
 * 200 in-kernel exits each, while the vCPU thread keeps its own YMM
 * registers across every HVX_RUN, a sibling thread keeps its own across
 * sched_yield(), the vCPU thread moves between CPUs between runs, and an
 * interval timer interrupts HVX_RUN (EINTR) with a handler that uses AVX.
 */
TEST(avx_preempt_migrate_signal)
{
	struct itimerval it = { { 0, 3000 }, { 0, 3000 } };
	uint8_t in[512], out[512];
	struct sibling sib = { 0 };
	struct sigaction sa = { 0 };
	int cpus[64], ncpus, eintr = 0, moves = 0;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t round = 0;

	REQUIRE_VMX();
	if (!host_has_avx())
		SKIP(return, "host CPU or kernel has no AVX");
	ncpus = allowed_cpus(cpus);
	ASSERT_LE(1, ncpus);
	vcpu = vm_create_long(&vm, guest_state_avx, 0x40);
	ASSERT_EQ(1, vcpu_run_sync(vcpu)) TH_LOG("guest has no AVX");

	ASSERT_EQ(0, pthread_create(&sib.thread, NULL, sibling_fn, &sib));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: HVX_RUN gets EINTR */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	ymm_fill(in, 0x17);
	while (round < ROUNDS) {
		long ret;

		if (ncpus > 1 && !pin_cpu(cpus[round % ncpus]))
			moves++;
		if (round & 1)
			sched_yield();
		memset(out, 0, sizeof(out));
		ret = run_with_ymm(vcpu->fd, in, out);
		ASSERT_EQ(0, memcmp(in, out, sizeof(in)))
			TH_LOG("the vCPU thread's YMM registers changed in HVX_RUN (round %llu)",
			       (unsigned long long)round);
		if (ret == -EINTR) {
			eintr++;
			continue;
		}
		ASSERT_EQ(0, ret) TH_LOG("HVX_RUN: %s", strerror(-ret));
		ASSERT_EQ(UCALL_SYNC, get_ucall(vcpu, &uc))
			TH_LOG("%s", ucall_str(vcpu, &uc));
		ASSERT_EQ(round, uc.args[0]);
		round++;
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	atomic_store(&sib.stop, true);
	pthread_join(sib.thread, NULL);
	TH_LOG("%d EINTR, %ld signals, %d CPU moves, %ld sibling rounds",
	       eintr, atomic_load(&signals), moves, atomic_load(&sib.rounds));
	ASSERT_EQ(0, atomic_load(&sib.errors))
		TH_LOG("the sibling thread's YMM registers changed");
	vcpu_free(vcpu);
	vm_free(vm);
}

static bool host_has_rdtscp(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000001, 0, &a, &b, &c, &d);
	return d & (1u << 27);
}

/*
 * The guest's STAR, LSTAR, SFMASK, KERNEL_GS_BASE and TSC_AUX survive
 * exits to userspace and moves between CPUs (the guest reads them back
 * each round, RDTSCP/RDPID included); after every run the host's
 * syscalls work, its TSC_AUX still names the CPU (RDTSCP and getcpu),
 * and its FS and GS bases are its own.
 */
TEST(syscall_msrs_tsc_aux_fsgs)
{
	unsigned long fs0, fs, gs, gs0 = 0x00007f5500001000ul;
	int cpus[64], ncpus;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t feat;

	REQUIRE_VMX();
	ncpus = allowed_cpus(cpus);
	ASSERT_LE(1, ncpus);
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_GET_FS, &fs0));
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_SET_GS, gs0));
	vcpu = vm_create_long(&vm, guest_state_msrs, 0);
	feat = vcpu_run_sync(vcpu);
	TH_LOG("guest RDTSCP %s, RDPID %s", feat & 1 ? "on" : "off",
	       feat & 2 ? "on" : "off");
	if (host_has_rdtscp())
		ASSERT_EQ(1, feat & 1) TH_LOG("host has RDTSCP, the guest not");
	for (int round = 0; round < ROUNDS; round++) {
		int cpu = cpus[round % ncpus];
		uint32_t lo, hi, aux;

		ASSERT_EQ(0, pin_cpu(cpu));
		if (round & 1)
			sched_yield();
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		ASSERT_EQ(2, uc.args[0]);
		/* Back in userspace: the host's state. */
		ASSERT_EQ(getpid(), syscall(SYS_getpid));
		ASSERT_EQ(cpu, sched_getcpu()) TH_LOG("getcpu after a run");
		if (host_has_rdtscp()) {
			asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
			ASSERT_EQ(cpu, aux & 0xfff)
				TH_LOG("host TSC_AUX %#x on CPU %d", aux, cpu);
		}
		ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
		ASSERT_EQ(fs0, fs);
		ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_GET_GS, &gs));
		ASSERT_EQ(gs0, gs) TH_LOG("host GS base (KERNEL_GS_BASE in the kernel)");
	}
	vcpu_free(vcpu);
	vm_free(vm);
}

/* A host thread on the vCPU thread's CPU, checking its own MSR state. */
struct msr_sibling {
	pthread_t thread;
	int cpu;
	bool rdtscp;
	atomic_bool stop, in_run;
	atomic_long rounds, in_run_rounds, errors;
};

static void *msr_sibling_fn(void *arg)
{
	struct msr_sibling *s = arg;
	unsigned long gs0 = 0x00007f5500002000ul, gs;
	uint32_t lo, hi, aux;
	bool in_run;

	if (pin_cpu(s->cpu) ||
	    syscall(SYS_arch_prctl, ARCH_SET_GS, gs0)) {
		atomic_fetch_add(&s->errors, 1);
		return NULL;
	}
	while (!atomic_load(&s->stop)) {
		in_run = atomic_load(&s->in_run);
		/* SYSCALL through the host's LSTAR, STAR and SFMASK. */
		if (syscall(SYS_getpid) != getpid() ||
		    sched_getcpu() != s->cpu ||
		    syscall(SYS_arch_prctl, ARCH_GET_GS, &gs) || gs != gs0)
			atomic_fetch_add(&s->errors, 1);
		if (s->rdtscp) {
			asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
			if ((aux & 0xfff) != (uint32_t)s->cpu)
				atomic_fetch_add(&s->errors, 1);
		}
		if (in_run && atomic_load(&s->in_run))
			atomic_fetch_add(&s->in_run_rounds, 1);
		atomic_fetch_add(&s->rounds, 1);
		sched_yield();
	}
	return NULL;
}

/*
 * The vCPU thread is scheduled out inside HVX_RUN (long runs of in-kernel
 * exits) while a sibling thread on the same CPU returns to user mode
 * again and again: the sibling's SYSCALLs, TSC_AUX (RDTSCP, getcpu) and
 * GS base are the host's every time (the guest's user-return MSRs are
 * restored on its way to user mode, KERNEL_GS_BASE by the preempt
 * notifier), and the guest keeps its own values.
 */
TEST(syscall_msrs_preempted_in_run)
{
	struct msr_sibling sib = { 0 };
	int cpus[64], ncpus;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	REQUIRE_VMX();
	ncpus = allowed_cpus(cpus);
	ASSERT_LE(1, ncpus);
	sib.cpu = cpus[0];
	sib.rdtscp = host_has_rdtscp();
	ASSERT_EQ(0, pin_cpu(sib.cpu));
	vcpu = vm_create_long(&vm, guest_state_msrs, 20 * STATE_CPUIDS);
	vcpu_run_sync(vcpu);
	ASSERT_EQ(0, pthread_create(&sib.thread, NULL, msr_sibling_fn, &sib));
	for (int round = 0; round < ROUNDS / 3; round++) {
		atomic_store(&sib.in_run, true);
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		atomic_store(&sib.in_run, false);
		ASSERT_EQ(2, uc.args[0]);
		ASSERT_EQ(getpid(), syscall(SYS_getpid));
	}
	atomic_store(&sib.stop, true);
	pthread_join(sib.thread, NULL);
	TH_LOG("%ld sibling rounds, %ld while the vCPU was in HVX_RUN",
	       atomic_load(&sib.rounds), atomic_load(&sib.in_run_rounds));
	ASSERT_EQ(0, atomic_load(&sib.errors))
		TH_LOG("the sibling saw the guest's SYSCALL MSRs, TSC_AUX or GS base");
	ASSERT_LT(0, atomic_load(&sib.in_run_rounds))
		TH_LOG("the vCPU thread was never scheduled out inside a run");
	vcpu_free(vcpu);
	vm_free(vm);
}

/* IA32_DEBUGCTL of host CPU @cpu through the msr driver; -errno if none. */
static int host_debugctl(int cpu, uint64_t *val, bool write)
{
	return host_msr(cpu, MSR_DEBUGCTL, val, write);
}

/*
 * One guest DEBUGCTL against one host DEBUGCTL: ROUNDS runs, moved
 * between CPUs and yielding between runs; the guest reads its own value
 * back each time and, where the msr driver can read it, the host's CPU
 * holds the host's value after each run. Fails with EXPECT and returns,
 * so that the caller can put the host's values back.
 */
static void debugctl_rounds(struct __test_metadata *_metadata,
			    uint64_t guest, const uint64_t *host,
			    const int *cpus, int ncpus)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	vcpu = vm_create_long(&vm, guest_state_debugctl, guest);
	for (int round = 0; round < ROUNDS; round++) {
		int i = round % ncpus, kind;
		uint64_t now = 0;

		EXPECT_EQ(0, pin_cpu(cpus[i]));
		if (round & 1)
			sched_yield();
		kind = vcpu_run_ucall(vcpu, &uc);
		EXPECT_EQ(UCALL_SYNC, kind) TH_LOG("%s", vcpu_exit_str(vcpu));
		if (kind != UCALL_SYNC)
			break;
		EXPECT_EQ(guest, uc.args[0]) TH_LOG("the guest's DEBUGCTL");
		if (host && !host_debugctl(cpus[i], &now, false))
			EXPECT_EQ(host[i], now)
				TH_LOG("host DEBUGCTL of CPU %d", cpus[i]);
	}
	vcpu_free(vcpu);
	vm_free(vm);
}

/*
 * IA32_DEBUGCTL is the guest's while it runs and the host's otherwise
 * (VMCS guest field, host value written back after exits, vmx/run.c):
 * a guest's BTF never stays in the host's CPU, and a host's non-zero
 * DEBUGCTL (BTF, set on every CPU through the msr driver where it
 * allows writes) comes back after each exit, while the guest sees 0.
 */
TEST(debugctl_host_guest)
{
	uint64_t host[64], btf[64], now = 0;
	int cpus[64], ncpus, ret;
	bool readable;

	REQUIRE_VMX();
	ncpus = allowed_cpus(cpus);
	ASSERT_LE(1, ncpus);
	readable = !host_debugctl(cpus[0], &host[0], false);
	for (int i = 1; readable && i < ncpus; i++)
		ASSERT_EQ(0, host_debugctl(cpus[i], &host[i], false));
	if (!readable)
		TH_LOG("no /dev/cpu/N/msr: the host's DEBUGCTL is not checked");
	debugctl_rounds(_metadata, DEBUGCTL_BTF, readable ? host : NULL,
			cpus, ncpus);
	if (!readable)
		return;

	/* The host's value non-zero: BTF on every CPU we use. */
	for (int i = 0; i < ncpus; i++)
		btf[i] = host[i] | DEBUGCTL_BTF;
	ret = host_debugctl(cpus[0], &btf[0], true);
	if (ret)
		SKIP(return, "the msr driver refuses DEBUGCTL writes (%s)",
		     strerror(-ret));
	for (int i = 1; i < ncpus; i++)
		ASSERT_EQ(0, host_debugctl(cpus[i], &btf[i], true));
	ASSERT_EQ(0, host_debugctl(cpus[0], &now, false));
	if (!(now & DEBUGCTL_BTF)) {
		for (int i = 0; i < ncpus; i++)
			host_debugctl(cpus[i], &host[i], true);
		SKIP(return, "the CPU keeps no BTF in the host's DEBUGCTL (wrote 0x%llx, reads 0x%llx; Bochs 2.7 ignores the bit): only the guest's side is checked",
		     (unsigned long long)btf[0], (unsigned long long)now);
	}
	debugctl_rounds(_metadata, 0, btf, cpus, ncpus);
	for (int i = 0; i < ncpus; i++)
		EXPECT_EQ(0, host_debugctl(cpus[i], &host[i], true));
}

TEST_HARNESS_MAIN
