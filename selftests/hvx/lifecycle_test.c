// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle_test - VMs running concurrently, HVX_RUN interrupted by signals
 * and by immediate_exit, fds closed while a vCPU runs, HVX_RUN from the
 * wrong process or from two threads, and the module's reference count.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "hvx_test.h"
#include "hvx_guest.h"

#define LC_ITERATIONS	2000
#define LC_IN_PORT	0xe0
#define LC_IN_DATA	0x89abcdef
#define LC_MMIO_DATA	0x76543210

/* The guests' computation: one LCG step per iteration. */
GUEST_CODE
static inline uint64_t lc_next(uint64_t x)
{
	return x * 6364136223846793005ull + 1442695040888963407ull;
}

void guest_count(uint64_t seed);
void guest_pending_reads(uint64_t unused);
extern const char lc_in_insn[], lc_in_next[], lc_mmio_insn[], lc_mmio_next[];

/* Guest code. */

/* LC_ITERATIONS steps, each reported as SYNC(i, x_i). */
GUEST_CODE
void guest_count(uint64_t seed)
{
	uint64_t x = seed;

	for (uint64_t i = 0; i < LC_ITERATIONS; i++) {
		x = lc_next(x);
		GUEST_SYNC_ARGS(i, x, 0, 0);
	}
	GUEST_DONE();
}

/* An IN and an MMIO load; the host completes each with immediate_exit
 * set, so the guest only continues on the HVX_RUN after that. */
GUEST_CODE
void guest_pending_reads(uint64_t unused)
{
	uint64_t rax = 0, rbx = 0;

	(void)unused;
	asm volatile(".globl lc_in_insn, lc_in_next\n"
		     "lc_in_insn:\tinl %[port], %%eax\n"
		     "lc_in_next:"
		     : "+a"(rax) : [port] "i"(LC_IN_PORT));
	GUEST_SYNC(rax);
	asm volatile(".globl lc_mmio_insn, lc_mmio_next\n"
		     "lc_mmio_insn:\tmovl (%[p]), %%ebx\n"
		     "lc_mmio_next:"
		     : "+b"(rbx) : [p] "r"((uint64_t)GPA_MMIO) : "memory");
	GUEST_SYNC(rbx);
	GUEST_DONE();
}

/* Host code. */

/* Signal handlers installed without SA_RESTART: HVX_RUN returns EINTR. */
static void sig_nop(int sig)
{
	(void)sig;
}

static void install_handler(int sig)
{
	struct sigaction sa = { .sa_handler = sig_nop };

	sigemptyset(&sa.sa_mask);
	LIB_ASSERT(!sigaction(sig, &sa, NULL), "sigaction: %m");
}

/* Counter that guest_spin() increments, read in guest memory. */
static uint64_t spin_counter;

static uint64_t read_spins(struct vm *vm)
{
	return __atomic_load_n(&guest_var(vm, spin_counter), __ATOMIC_RELAXED);
}

/* Wait until the guest has demonstrably been running (so its thread is
 * inside HVX_RUN), up to 10 s. */
static bool wait_for_spins(struct vm *vm, uint64_t above)
{
	for (int i = 0; i < 10000; i++) {
		if (read_spins(vm) > above)
			return true;
		msleep(1);
	}
	return false;
}

/* --- Two VMs at once ------------------------------------------------- */

struct counter_thread {
	struct vcpu *vcpu;
	uint64_t seed;
	pthread_barrier_t *start;
	atomic_uint *progress;		/* this thread's iterations */
	atomic_uint *other;		/* the other thread's */
	bool overlapped;		/* saw the other one mid-way */
	char error[256];
};

static void *counter_thread(void *arg)
{
	struct counter_thread *t = arg;
	uint64_t x = t->seed;
	struct ucall uc;

	pthread_barrier_wait(t->start);
	for (uint64_t i = 0; i < LC_ITERATIONS; i++) {
		unsigned int other = atomic_load(t->other);

		x = lc_next(x);
		if (vcpu_run_ucall(t->vcpu, &uc) != UCALL_SYNC ||
		    uc.args[0] != i || uc.args[1] != x) {
			snprintf(t->error, sizeof(t->error),
				 "iteration %llu: %s, expected SYNC(0x%llx, 0x%llx)",
				 (unsigned long long)i, ucall_str(t->vcpu, &uc),
				 (unsigned long long)i, (unsigned long long)x);
			return NULL;
		}
		atomic_store(t->progress, i + 1);
		if (other > 0 && other < LC_ITERATIONS)
			t->overlapped = true;
	}
	if (vcpu_run_ucall(t->vcpu, &uc) != UCALL_DONE)
		snprintf(t->error, sizeof(t->error), "expected DONE, got %s",
			 ucall_str(t->vcpu, &uc));
	return NULL;
}

TEST(two_vms_concurrently)
{
	atomic_uint progress[2] = { 0, 0 };
	struct counter_thread t[2];
	pthread_barrier_t start;
	pthread_t tid[2];
	struct vm *vm[2];

	REQUIRE_VMX();
	pthread_barrier_init(&start, NULL, 2);
	for (int i = 0; i < 2; i++) {
		t[i] = (struct counter_thread){
			.seed = 0x1234 + i,
			.start = &start,
			.progress = &progress[i],
			.other = &progress[!i],
		};
		t[i].vcpu = vm_create_long(&vm[i], guest_count, t[i].seed);
	}
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, counter_thread, &t[i]));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(tid[i], NULL));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, t[i].error[0]) TH_LOG("VM %d: %s", i, t[i].error);
		ASSERT_EQ(LC_ITERATIONS, atomic_load(&progress[i]));
		vm_free(vm[i]);
	}
	TH_LOG("the two guests' runs %s", t[0].overlapped || t[1].overlapped ?
	       "interleaved" : "did not interleave (one CPU, long timeslices?)");
}

/* --- Signals and immediate_exit ------------------------------------- */

/* A timer signal interrupts HVX_RUN of an endless guest loop; each time
 * the guest has made progress, and it resumes. */
TEST(signal_interrupts_run)
{
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	uint64_t before = 0;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	install_handler(SIGALRM);
	vcpu = vm_create_long(&vm, guest_spin, (uint64_t)&spin_counter);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
		ASSERT_ERRNO(EINTR, __vcpu_run(vcpu));
		ASSERT_EXIT(HVX_EXIT_INTR, vcpu);
		ASSERT_LT(before, read_spins(vm));
		before = read_spins(vm);
	}
	vm_free(vm);
}

struct run_thread {
	struct vcpu *vcpu;
	bool unmap_after;	/* munmap the run page when done */
	int ret, err;
	uint32_t exit_reason;
};

/* One HVX_RUN, recording how it ended. */
static void *run_once_thread(void *arg)
{
	struct run_thread *t = arg;

	int ret = __vcpu_run(t->vcpu);

	t->err = errno;
	t->exit_reason = t->vcpu->run->exit_reason;
	if (t->unmap_after)
		munmap(t->vcpu->run, HVX_VCPU_MMAP_SIZE);
	__atomic_store_n(&t->ret, ret, __ATOMIC_RELEASE);
	return NULL;
}

TEST(pthread_kill_interrupts_run)
{
	struct run_thread t = { 0 };
	struct vcpu *vcpu;
	pthread_t tid;
	struct vm *vm;

	REQUIRE_VMX();
	install_handler(SIGUSR1);
	vcpu = vm_create_long(&vm, guest_spin, (uint64_t)&spin_counter);
	t.vcpu = vcpu;
	ASSERT_EQ(0, pthread_create(&tid, NULL, run_once_thread, &t));
	ASSERT_TRUE(wait_for_spins(vm, 0)) TH_LOG("the guest never ran");
	ASSERT_EQ(0, pthread_kill(tid, SIGUSR1));
	ASSERT_EQ(0, pthread_join(tid, NULL));
	ASSERT_EQ(-1, t.ret);
	ASSERT_EQ(EINTR, t.err) TH_LOG("errno %s", strerrorname_np(t.err));
	ASSERT_EQ(HVX_EXIT_INTR, t.exit_reason);
	vm_free(vm);
}

TEST(immediate_exit)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_sync_done, 7);
	vcpu->run->immediate_exit = 1;
	for (int i = 0; i < 2; i++) {
		ASSERT_ERRNO(EINTR, __vcpu_run(vcpu));
		ASSERT_EXIT(HVX_EXIT_INTR, vcpu);
		/* The guest did not run at all. */
		ASSERT_EQ((uint64_t)guest_sync_done, vcpu_get_rip(vcpu));
	}
	vcpu->run->immediate_exit = 0;
	ASSERT_EQ(7, vcpu_run_sync(vcpu));
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* With immediate_exit set, HVX_RUN still completes a pending IN or MMIO
 * read (register written, RIP advanced) before returning EINTR. */
TEST(immediate_exit_completes_pending_read)
{
	uint32_t in = LC_IN_DATA, mmio = LC_MMIO_DATA;
	struct hvx_regs regs;
	struct hvx_run *run;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_pending_reads, 0);
	run = vcpu->run;

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_IO, vcpu);
	ASSERT_EQ(HVX_EXIT_IO_IN, run->io.direction);
	ASSERT_EQ(LC_IN_PORT, run->io.port);
	memcpy(vcpu_io_data(vcpu), &in, 4);
	run->immediate_exit = 1;
	ASSERT_ERRNO(EINTR, __vcpu_run(vcpu));
	ASSERT_EXIT(HVX_EXIT_INTR, vcpu);
	vcpu_get_regs(vcpu, &regs);
	ASSERT_EQ((uint64_t)lc_in_next, regs.rip);
	ASSERT_EQ(LC_IN_DATA, regs.rax);
	run->immediate_exit = 0;
	ASSERT_EQ(LC_IN_DATA, vcpu_run_sync(vcpu));

	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
	ASSERT_EQ(GPA_MMIO, run->mmio.phys_addr);
	ASSERT_EQ(0, run->mmio.is_write);
	ASSERT_EQ(4, run->mmio.len);
	memcpy(run->mmio.data, &mmio, 4);
	run->immediate_exit = 1;
	ASSERT_ERRNO(EINTR, __vcpu_run(vcpu));
	ASSERT_EXIT(HVX_EXIT_INTR, vcpu);
	vcpu_get_regs(vcpu, &regs);
	ASSERT_EQ((uint64_t)lc_mmio_next, regs.rip);
	ASSERT_EQ(LC_MMIO_DATA, regs.rbx);
	run->immediate_exit = 0;
	ASSERT_EQ(LC_MMIO_DATA, vcpu_run_sync(vcpu));
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* --- fds, processes, threads ---------------------------------------- */

/*
 * The module's reference count with no hvx fd open in this process, which
 * should be 0. Wait for it to settle first: REQUIRE_VMX() has just created
 * and closed a probe VM.
 */
#define REQUIRE_REFCNT(var) do {					\
	if (hvx_module_refcnt() < 0)					\
		SKIP(return, "/sys/module/hvx/refcnt not readable");	\
	wait_for_refcnt(0, 2000);					\
	var = hvx_module_refcnt();					\
} while (0)

/*
 * Closing the vCPU and VM fds while a thread is inside HVX_RUN does not
 * disturb it (the guest keeps running); a signal still ends the run with
 * EINTR, and once that thread drops its last reference (the run page
 * mapping) the module's reference count is what it was before the VM.
 */
TEST(close_fds_while_running)
{
	struct run_thread t = { .unmap_after = true };
	long before, during;
	struct vcpu *vcpu;
	uint64_t spins;
	pthread_t tid;
	struct vm *vm;

	REQUIRE_VMX();
	REQUIRE_REFCNT(before);
	install_handler(SIGUSR1);
	vcpu = vm_create_long(&vm, guest_spin, (uint64_t)&spin_counter);
	t.vcpu = vcpu;
	ASSERT_EQ(0, pthread_create(&tid, NULL, run_once_thread, &t));
	ASSERT_TRUE(wait_for_spins(vm, 0)) TH_LOG("the guest never ran");

	ASSERT_EQ(0, close(vcpu->fd));
	ASSERT_EQ(0, close(vm->fd));
	ASSERT_EQ(0, close(vm->sys_fd));
	spins = read_spins(vm);
	ASSERT_TRUE(wait_for_spins(vm, spins))
		TH_LOG("the guest stopped when its fds were closed");
	during = hvx_module_refcnt();
	ASSERT_LT(before, during) TH_LOG("a running vCPU holds the module");

	ASSERT_EQ(0, pthread_kill(tid, SIGUSR1));
	ASSERT_EQ(0, pthread_join(tid, NULL));
	ASSERT_EQ(-1, t.ret);
	ASSERT_EQ(EINTR, t.err) TH_LOG("errno %s", strerrorname_np(t.err));
	ASSERT_EQ(HVX_EXIT_INTR, t.exit_reason);
	ASSERT_TRUE(wait_for_refcnt(before, 2000))
		TH_LOG("refcnt %ld, expected %ld", hvx_module_refcnt(), before);
	munmap(vm->ram, vm->ram_size);
	free(vcpu);
	free(vm);
}

/* The vCPU fd keeps its VM alive: it runs after the VM fd is closed. */
TEST(vcpu_outlives_vm_fd)
{
	struct vcpu *vcpu;
	struct vm *vm;
	long before;

	REQUIRE_VMX();
	REQUIRE_REFCNT(before);
	vcpu = vm_create_long(&vm, guest_sync_done, 9);
	ASSERT_EQ(0, close(vm->fd));
	ASSERT_EQ(0, close(vm->sys_fd));
	ASSERT_LT(before, hvx_module_refcnt());
	ASSERT_EQ(9, vcpu_run_sync(vcpu));
	vcpu_run_done(vcpu);
	vcpu_free(vcpu);
	ASSERT_TRUE(wait_for_refcnt(before, 2000))
		TH_LOG("refcnt %ld, expected %ld", hvx_module_refcnt(), before);
	munmap(vm->ram, vm->ram_size);
	free(vm);
}

/* With no hvx fd open the module's reference count is 0; a VM fd or a
 * vCPU fd holds it. */
TEST(refcnt_follows_fds)
{
	struct vcpu *vcpu;
	struct vm *vm;
	long n;

	REQUIRE_VMX();
	REQUIRE_REFCNT(n);
	ASSERT_EQ(0, n) TH_LOG("another process holds hvx");
	vm = vm_create_bare();
	vcpu = vcpu_create(vm, 0);
	ASSERT_EQ(0, close(vm->sys_fd));
	ASSERT_LE(1, hvx_module_refcnt());
	ASSERT_EQ(0, close(vm->fd));
	ASSERT_LE(1, hvx_module_refcnt());
	vcpu_free(vcpu);
	ASSERT_TRUE(wait_for_refcnt(0, 2000))
		TH_LOG("refcnt %ld after closing everything", hvx_module_refcnt());
	free(vm);
}

TEST(create_destroy_many)
{
	struct vcpu *vcpu;
	struct vm *vm;
	long before;

	REQUIRE_VMX();
	REQUIRE_REFCNT(before);
	for (uint64_t i = 0; i < 20; i++) {
		vcpu = vm_create_long(&vm, guest_sync_done, i);
		ASSERT_EQ(i, vcpu_run_sync(vcpu));
		vcpu_run_done(vcpu);
		vcpu_free(vcpu);
		vm_free(vm);
	}
	ASSERT_TRUE(wait_for_refcnt(before, 2000))
		TH_LOG("refcnt %ld, expected %ld", hvx_module_refcnt(), before);
}

/* HVX_RUN from a process other than the VM's creator: EIO. */
TEST(run_from_other_process)
{
	struct vcpu *vcpu;
	struct vm *vm;
	int status;
	pid_t pid;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_sync_done, 1);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int ret = __vcpu_run(vcpu);

		_exit(ret == -1 && errno == EIO ? 0 : ret == -1 ? errno : 255);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("HVX_RUN in the child: %s",
		       WEXITSTATUS(status) == 255 ? "succeeded" :
		       strerrorname_np(WEXITSTATUS(status)));
	/* The creator still runs it. */
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	vm_free(vm);
}

/*
 * A second HVX_RUN on a vCPU that a thread is running: EBUSY. The second
 * call runs in its own thread too, so that if it blocks instead, the test
 * fails with a message (the process exit then ends both).
 */
TEST(run_same_vcpu_twice)
{
	struct run_thread t1 = { 0 }, t2 = { 0 };
	pthread_t tid1, tid2;
	struct vcpu *vcpu;
	struct vm *vm;
	int i;

	REQUIRE_VMX();
	install_handler(SIGUSR1);
	vcpu = vm_create_long(&vm, guest_spin, (uint64_t)&spin_counter);
	t1.vcpu = t2.vcpu = vcpu;
	t2.ret = 1;	/* still running */
	ASSERT_EQ(0, pthread_create(&tid1, NULL, run_once_thread, &t1));
	ASSERT_TRUE(wait_for_spins(vm, 0)) TH_LOG("the guest never ran");
	ASSERT_EQ(0, pthread_create(&tid2, NULL, run_once_thread, &t2));
	for (i = 0; i < 5000 && __atomic_load_n(&t2.ret, __ATOMIC_ACQUIRE) == 1; i++)
		msleep(1);
	ASSERT_NE(1, __atomic_load_n(&t2.ret, __ATOMIC_ACQUIRE))
		TH_LOG("the second HVX_RUN blocked instead of failing with EBUSY");
	ASSERT_EQ(0, pthread_join(tid2, NULL));
	ASSERT_EQ(-1, t2.ret);
	ASSERT_EQ(EBUSY, t2.err) TH_LOG("errno %s", strerrorname_np(t2.err));

	ASSERT_EQ(0, pthread_kill(tid1, SIGUSR1));
	ASSERT_EQ(0, pthread_join(tid1, NULL));
	ASSERT_EQ(-1, t1.ret);
	ASSERT_EQ(EINTR, t1.err);
	vm_free(vm);
}

TEST_HARNESS_MAIN
