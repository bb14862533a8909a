// SPDX-License-Identifier: GPL-2.0
/*
 * churn_test - lifecycle faults: the VM owner killed with SIGKILL at
 * random points (creating a VM, running, changing memory slots), many VMs
 * created and destroyed by concurrent threads, and kernel allocation
 * failures injected at every allocation of a VM's life (systematic fault
 * injection through /proc/thread-self/fail-nth, on kernels with
 * CONFIG_FAILSLAB such as the `make check-debug` kernel).
 *
 * After each, nothing may be left behind: no VM in the netlink list, the
 * module's reference count back where it was, and (checked by the harness)
 * no WARN, oops, lockdep or KASAN report and no kmemleak leak.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "hvx_test.h"
#include "hvx_nl.h"

#define KILL_ROUNDS	40
#define CHURN_THREADS	3
#define CHURN_VMS	12	/* per thread */
#define FAULT_MAX_NTH	3000	/* give up if a VM's life allocates more */

/* Number of VMs the netlink family lists (all of them: we are root). */
static int count_vms(void)
{
	struct hvx_nl_vm vms[64];
	struct hvx_nl nl;
	int n;

	if (hvx_nl_open(&nl))
		return -1;
	n = hvx_nl_list_vms(&nl, vms, 64);
	hvx_nl_close(&nl);
	return n;
}

/* Wait up to 5 s for every VM to be gone and refcnt back at @refcnt. */
static bool all_gone(long refcnt)
{
	for (int i = 0; i < 500; i++) {
		if (count_vms() == 0 && hvx_module_refcnt() == refcnt)
			return true;
		msleep(10);
	}
	return false;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* --- kill -9 at random points ----------------------------------------- */

static uint64_t spin_counter;

static void *run_forever(void *arg)
{
	struct vcpu *vcpu = arg;

	for (;;)
		__vcpu_run(vcpu);
	return NULL;
}

/* Add and delete a slot, and create vCPUs, until killed. */
static void *slot_churn(void *arg)
{
	struct vm *vm = arg;
	void *mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	for (uint32_t i = 0;; i++) {
		memset(mem, i, 4096);
		__vm_set_memory_region(vm->fd, 20, 0, 0x80000000ull, 1 << 20, mem);
		__vm_set_memory_region(vm->fd, 20, 0, 0x80000000ull, 0, NULL);
		if (i % 8 == 0)
			close(ioctl(vm->fd, HVX_CREATE_VCPU, 1 + i / 8 % 60));
	}
	return NULL;
}

/* The victim: a running guest, slot churn and a second VM being made. */
static void __attribute__((noreturn)) victim(int ready_fd)
{
	struct vcpu *vcpu;
	pthread_t t1, t2;
	struct vm *vm, *vm2;

	vcpu = vm_create_long(&vm, guest_spin, (uint64_t)&spin_counter);
	pthread_create(&t1, NULL, run_forever, vcpu);
	pthread_create(&t2, NULL, slot_churn, vm);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	for (;;) {
		vm2 = vm_create();
		vm_free(vm2);
	}
}

TEST(kill9_at_random_points)
{
	long refcnt;
	int kills = 0;

	REQUIRE_VMX();
	ASSERT_LE(0, count_vms()) TH_LOG("netlink family not reachable");
	ASSERT_TRUE(all_gone(0)) TH_LOG("VMs left over from an earlier test");
	refcnt = hvx_module_refcnt();
	for (int round = 0; round < KILL_ROUNDS; round++) {
		int pipefd[2], status;
		uint64_t r = rng();
		pid_t pid;
		char c;

		ASSERT_EQ(0, pipe(pipefd));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			close(pipefd[0]);
			victim(pipefd[1]);
		}
		close(pipefd[1]);
		/*
		 * A third of the kills land while the VM is being set up, the
		 * rest at a random moment (0-20 ms) after the guest runs.
		 */
		if (r % 3) {
			if (read(pipefd[0], &c, 1) == 1)
				usleep((r >> 8) % 20000);
		} else {
			usleep((r >> 8) % 3000);
		}
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		close(pipefd[0]);
		ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			TH_LOG("round %d: victim ended with status %#x", round, status);
		kills++;
		ASSERT_TRUE(all_gone(refcnt))
			TH_LOG("round %d: %d VMs listed, refcnt %ld (want %ld)",
			       round, count_vms(), hvx_module_refcnt(), refcnt);
	}
	ksft_print_msg("survived %d SIGKILLs of VM owners\n", kills);
}

/* --- many VMs created and destroyed at once ---------------------------- */

struct churn_arg {
	int id;
	int done;
	char error[200];
};

static void *churn_thread(void *p)
{
	struct churn_arg *a = p;

	for (int i = 0; i < CHURN_VMS; i++) {
		uint64_t tag = (uint64_t)a->id << 32 | i;
		struct vcpu *vcpu[2];
		struct ucall uc;
		struct vm *vm;

		vcpu[0] = vm_create_long(&vm, guest_sync_done, tag);
		vcpu[1] = vcpu_create(vm, 1);
		vcpu_setup_long(vcpu[1], guest_sync_done, ~tag);
		for (int c = 0; c < 2; c++) {
			uint64_t want = c ? ~tag : tag;

			if (vcpu_run_ucall(vcpu[c], &uc) != UCALL_SYNC ||
			    uc.args[0] != want ||
			    vcpu_run_ucall(vcpu[c], &uc) != UCALL_DONE) {
				snprintf(a->error, sizeof(a->error),
					 "VM %d.%d vCPU %d: %s", a->id, i, c,
					 ucall_str(vcpu[c], &uc));
				return NULL;
			}
		}
		/* Alternate the order in which the fds go. */
		if (i & 1) {
			vcpu_free(vcpu[0]);
			vcpu_free(vcpu[1]);
			vm_free(vm);
		} else {
			close(vm->fd);
			vm->fd = -1;
			vcpu_free(vcpu[1]);
			vcpu_free(vcpu[0]);
			close(vm->sys_fd);
			munmap(vm->ram, vm->ram_size);
			free(vm);
		}
		a->done++;
	}
	return NULL;
}

TEST(concurrent_vm_churn)
{
	struct churn_arg a[CHURN_THREADS] = { };
	pthread_t t[CHURN_THREADS];
	int total = 0;
	long refcnt;

	REQUIRE_VMX();
	ASSERT_TRUE(all_gone(0)) TH_LOG("VMs left over from an earlier test");
	refcnt = hvx_module_refcnt();
	for (int i = 0; i < CHURN_THREADS; i++) {
		a[i].id = i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn_thread, &a[i]));
	}
	for (int i = 0; i < CHURN_THREADS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		ASSERT_EQ(0, a[i].error[0]) TH_LOG("%s", a[i].error);
		total += a[i].done;
	}
	ASSERT_EQ(CHURN_THREADS * CHURN_VMS, total);
	ASSERT_TRUE(all_gone(refcnt))
		TH_LOG("%d VMs listed, refcnt %ld", count_vms(), hvx_module_refcnt());
	ksft_print_msg("%d VMs with 2 vCPUs each created, run and destroyed by %d threads\n",
		       total, CHURN_THREADS);
}

/* --- injected allocation failures --------------------------------------- */

/*
 * One VM's life in raw syscalls (the library would abort on the first
 * error): create, add RAM, create a vCPU, run real-mode code that does
 * one OUT and HLT, tear down. With @dma_only, the life of a DMA-only VM
 * (HVX_VM_NO_VCPUS, no VMX needed): create, add RAM, move it, add a
 * second slot, delete both. Returns the step that failed (0: none) and
 * its errno in *err. Every failure must be a clean errno.
 */
static int vm_life(bool dma_only, int *err)
{
	static const uint8_t code[] = { 0xb0, 0x42, 0xe6, 0x80, 0xf4 };
	static uint8_t ram[64 << 10] __attribute__((aligned(4096)));
	int sys = -1, vm = -1, vcpu = -1, step = 0;
	struct hvx_memory_region mr = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = sizeof(ram),
		.userspace_addr = (uint64_t)ram,
	};
	struct hvx_sregs sregs;
	struct hvx_regs regs;
	struct hvx_run *run = MAP_FAILED;

	memcpy(ram + 0x1000, code, sizeof(code));
	*err = 0;
#define STEP(cond) do { step++; if (!(cond)) { *err = errno; goto out; } } while (0)
	STEP((sys = open(HVX_DEV, O_RDWR | O_CLOEXEC)) >= 0);
	STEP((vm = ioctl(sys, HVX_CREATE_VM, dma_only ? HVX_VM_NO_VCPUS : 0)) >= 0);
	STEP(!ioctl(vm, HVX_SET_MEMORY_REGION, &mr));
	if (dma_only) {
		mr.guest_phys_addr = 1ull << 30;		/* move */
		STEP(!ioctl(vm, HVX_SET_MEMORY_REGION, &mr));
		mr.slot = 1;
		mr.guest_phys_addr = 0;
		mr.memory_size = sizeof(ram) / 2;
		STEP(!ioctl(vm, HVX_SET_MEMORY_REGION, &mr));
		mr.memory_size = 0;				/* delete */
		STEP(!ioctl(vm, HVX_SET_MEMORY_REGION, &mr));
		mr.slot = 0;
		STEP(!ioctl(vm, HVX_SET_MEMORY_REGION, &mr));
		step = 0;
		goto out;
	}
	STEP((vcpu = ioctl(vm, HVX_CREATE_VCPU, 0)) >= 0);
	STEP((run = mmap(NULL, HVX_VCPU_MMAP_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu, 0)) != MAP_FAILED);
	STEP(!ioctl(vcpu, HVX_GET_SREGS, &sregs));
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	STEP(!ioctl(vcpu, HVX_SET_SREGS, &sregs));
	STEP(!ioctl(vcpu, HVX_GET_REGS, &regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	STEP(!ioctl(vcpu, HVX_SET_REGS, &regs));
	STEP(!ioctl(vcpu, HVX_RUN, 0));
	errno = EPROTO;
	STEP(run->exit_reason == HVX_EXIT_IO && run->io.port == 0x80);
	STEP(!ioctl(vcpu, HVX_RUN, 0));
	errno = EPROTO;
	STEP(run->exit_reason == HVX_EXIT_HLT);
	step = 0;
#undef STEP
out:
	/*
	 * munmap() allocates too (maple tree nodes) and can be the one
	 * that fails: the mapping, and with it the vCPU and the VM, would
	 * then live until the process exits. fail-nth fires once, so a
	 * second try unmaps.
	 */
	if (run != MAP_FAILED && munmap(run, HVX_VCPU_MMAP_SIZE))
		munmap(run, HVX_VCPU_MMAP_SIZE);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	if (sys >= 0)
		close(sys);
	return step;
}

/*
 * An allocation failure injected at every allocation of a VM's life in
 * turn (/proc/thread-self/fail-nth, failslab): each step fails with a
 * resource errno or absorbs it, nothing is left behind, and the next
 * life works.
 */
static void fail_every_allocation(struct __test_metadata *_metadata,
				  bool dma_only)
{
	static const char *const fs = "/sys/kernel/debug/failslab";
	int nth, failures = 0, step, err, fd;
	char path[128], buf[32];
	long refcnt;

	if (access(fs, F_OK) || access("/proc/thread-self/fail-nth", W_OK))
		SKIP(return, "kernel without CONFIG_FAILSLAB/FAULT_INJECTION_DEBUG_FS (make check-debug has them)");
	/* Fail GFP_KERNEL slab allocations too, and say nothing per failure. */
	snprintf(path, sizeof(path), "%s/ignore-gfp-wait", fs);
	ASSERT_EQ(0, write_str(path, "N"));
	snprintf(path, sizeof(path), "%s/verbose", fs);
	ASSERT_EQ(0, write_str(path, "0"));
	ASSERT_TRUE(all_gone(0));
	refcnt = hvx_module_refcnt();
	ASSERT_EQ(0, vm_life(dma_only, &err)) TH_LOG("without faults: %s", strerror(err));

	for (nth = 1; nth <= FAULT_MAX_NTH; nth++) {
		snprintf(buf, sizeof(buf), "%d", nth);
		fd = open("/proc/thread-self/fail-nth", O_RDWR);
		ASSERT_LE(0, fd);
		ASSERT_EQ((ssize_t)strlen(buf), write(fd, buf, strlen(buf)));
		step = vm_life(dma_only, &err);
		/* 0 means the nth fault point was reached (and failed). */
		memset(buf, 0, sizeof(buf));
		ASSERT_LT(0, pread(fd, buf, sizeof(buf) - 1, 0));
		ASSERT_EQ(0, write(fd, "0", 1) < 0 ? errno : 0);
		close(fd);
		if (step) {
			/* A failed step must say why with a resource errno. */
			ASSERT_TRUE(err == ENOMEM || err == EFAULT || err == ENOSPC ||
				    err == EAGAIN || err == EINTR || err == EMFILE ||
				    err == ENFILE || err == ENODEV)
				TH_LOG("fail-nth %d: step %d failed with %s", nth, step,
				       strerrorname_np(err));
			failures++;
		}
		ASSERT_TRUE(all_gone(refcnt))
			TH_LOG("fail-nth %d (step %d, %s): %d VMs listed, refcnt %ld",
			       nth, step, strerrorname_np(err), count_vms(),
			       hvx_module_refcnt());
		if (atoi(buf) > 0)
			break;	/* the whole life needed fewer than nth allocations */
	}
	ASSERT_GE(FAULT_MAX_NTH, nth) TH_LOG("a VM's life made over %d allocations", FAULT_MAX_NTH);
	/* And it still works. */
	ASSERT_EQ(0, vm_life(dma_only, &err)) TH_LOG("after faults: %s", strerror(err));
	ksft_print_msg("%s: injected %d allocation failures (%d surfaced as errors), nothing leaked\n",
		       dma_only ? "DMA-only VM" : "VM with a vCPU", nth - 1, failures);
}

TEST(injected_allocation_failures)
{
	REQUIRE_VMX();
	fail_every_allocation(_metadata, false);
}

/* The same without VMX, so that it also runs in QEMU (make check-debug). */
TEST(injected_allocation_failures_dma_only)
{
	REQUIRE_HVX();
	fail_every_allocation(_metadata, true);
}


TEST_HARNESS_MAIN
