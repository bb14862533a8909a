// SPDX-License-Identifier: GPL-2.0
/*
 * ept_test - memory-side host protection: non-executable huge EPT leaves
 * split on instruction fetch and recovered (iTLB multihit,
 * nx_huge_pages), pins charged to RLIMIT_MEMLOCK, slots refused on
 * page-cache file mappings, the slot size cap, the reserved APIC-access
 * page, and vCPUs that run without a VPID when none is left.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"

/* Operations the guest performs, one per HVX_RUN, then GUEST_SYNC(op). */
#define EPT_OP_DONE	0
#define EPT_OP_READ	1	/* GUEST_SYNC_ARGS(EPT_OP_READ, *gpa) */
#define EPT_OP_WRITE	2	/* every u64 of [gpa, gpa + size) = addr ^ seed */
#define EPT_OP_CALL	3	/* GUEST_SYNC_ARGS(EPT_OP_CALL, ((fn)gpa)(seed)) */
#define EPT_OP_CHECK	4	/* assert the EPT_OP_WRITE pattern */

struct ept_args {
	uint64_t op;
	uint64_t gpa;
	uint64_t size;
	uint64_t seed;
};

extern struct ept_args ept_args;

void guest_ept(uint64_t unused);

/* Guest code. */

struct ept_args ept_args;

GUEST_CODE
void guest_ept(uint64_t unused)
{
	volatile struct ept_args *a = &ept_args;

	(void)unused;
	for (;;) {
		uint64_t op = a->op, gpa = a->gpa, r = 0;

		switch (op) {
		case EPT_OP_DONE:
			GUEST_DONE();
			break;
		case EPT_OP_READ:
			r = *(volatile uint64_t *)gpa;
			break;
		case EPT_OP_WRITE:
			for (uint64_t p = gpa; p < gpa + a->size; p += 8)
				*(volatile uint64_t *)p = p ^ a->seed;
			break;
		case EPT_OP_CHECK:
			for (uint64_t p = gpa; p < gpa + a->size; p += 8)
				GUEST_ASSERT_EQ(p ^ a->seed, *(volatile uint64_t *)p);
			break;
		case EPT_OP_CALL:
			/* Code the host wrote into guest RAM. */
			r = ((uint64_t (*)(uint64_t))gpa)(a->seed);
			break;
		}
		GUEST_SYNC_ARGS(op, r, 0, 0);
	}
}

/* Host code. */

#define SZ_4K		0x1000ull
#define SZ_2M		0x200000ull
#define SLOT_A		2		/* slots 0 and 1 are the lib's RAM */
#define GPA_HUGE	0x20000000ull	/* 512 MiB, 2 MiB-aligned */
#define GPA_A		0x10000000ull
#define PARAM_DIR	"/sys/module/hvx/parameters/"
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

/*
 * The guest calls this: "lea 0x1234(%rdi), %rax; ret", so the result
 * tells that the code at that GPA, and only it, ran.
 */
static const uint8_t add_1234[] = { 0x48, 0x8d, 0x87, 0x34, 0x12, 0x00, 0x00,
				    0xc3 };

static uint64_t splits(void)
{
	struct hvx_stats st;

	LIB_ASSERT(!hvx_nl_own_stats(&st), "netlink statistics");
	return st.nx_huge_splits;
}

/* A module parameter as text ("" if it cannot be read). */
static void param_read(const char *name, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	buf[0] = 0;
	if (read_str(path, buf, len) < 0)
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static int param_write(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	return write_str(path, val);
}

/* Run one guest operation; returns the value it reports. */
static uint64_t run_op(struct vcpu *vcpu, uint64_t op, uint64_t gpa,
		       uint64_t size, uint64_t seed)
{
	struct ucall uc;

	guest_var(vcpu->vm, ept_args).op = op;
	guest_var(vcpu->vm, ept_args).gpa = gpa;
	guest_var(vcpu->vm, ept_args).size = size;
	guest_var(vcpu->vm, ept_args).seed = seed;
	LIB_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC && uc.args[0] == op,
		   "op %lu: %s", (unsigned long)op, ucall_str(vcpu, &uc));
	return uc.args[1];
}

/* ---- iTLB multihit: non-executable huge leaves --------------------- */

FIXTURE(nx_huge)
{
	char old_nx[16], old_ratio[16], old_period[16];
	long old_nr;
	uint8_t *mem;
	uint64_t size;
	struct vm *vm;
	struct vcpu *vcpu;
};

FIXTURE_SETUP(nx_huge)
{
	FILE *f;

	self->old_nx[0] = self->old_ratio[0] = self->old_period[0] = 0;
	self->old_nr = -1;
	self->mem = MAP_FAILED;
	self->vm = NULL;
	self->size = 2 * SZ_2M;
	REQUIRE_VMX();
	param_read("nx_huge_pages", self->old_nx, sizeof(self->old_nx));
	param_read("nx_huge_pages_recovery_ratio", self->old_ratio,
		   sizeof(self->old_ratio));
	param_read("nx_huge_pages_recovery_period_ms", self->old_period,
		   sizeof(self->old_period));
	ASSERT_NE(0, self->old_nx[0]) TH_LOG("no nx_huge_pages parameter");
	ASSERT_EQ(0, param_write("nx_huge_pages", "on"));
	/* Recovery off unless a test turns it on. */
	ASSERT_EQ(0, param_write("nx_huge_pages_recovery_period_ms", "0"));

	f = fopen(NR_HUGEPAGES, "r");
	if (f) {
		if (fscanf(f, "%ld", &self->old_nr) != 1)
			self->old_nr = -1;
		fclose(f);
	}
	if (self->old_nr >= 0) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%ld", self->old_nr + 2);
		write_str(NR_HUGEPAGES, buf);
	}
	self->mem = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (self->mem == MAP_FAILED)
		SKIP(return, "no 2 MiB hugetlbfs pages: mmap(MAP_HUGETLB): %s",
		     strerror(errno));
	self->vcpu = vm_create_long(&self->vm, guest_ept, 0);
	if (!(vm_mem_info(self->vm).flags & HVX_MEM_INFO_2M))
		SKIP(return, "no 2 MiB EPT leaves (CPU or ept_large=0)");
	ASSERT_TRUE(vm_mem_info(self->vm).flags & HVX_MEM_INFO_NX_HUGE);
	memset(self->mem, 0x5a, self->size);
	memcpy(self->mem + 0x1000, add_1234, sizeof(add_1234));
	memcpy(self->mem + SZ_2M + 0x3000, add_1234, sizeof(add_1234));
	ASSERT_EQ(0, __vm_set_memory_region(self->vm->fd, SLOT_A, 0, GPA_HUGE,
					    self->size, self->mem));
}

FIXTURE_TEARDOWN(nx_huge)
{
	if (self->vm) {
		vcpu_free(self->vcpu);
		vm_free(self->vm);
	}
	if (self->mem != MAP_FAILED)
		munmap(self->mem, self->size);
	if (self->old_nr >= 0) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%ld", self->old_nr);
		write_str(NR_HUGEPAGES, buf);
	}
	if (self->old_nx[0])
		param_write("nx_huge_pages", self->old_nx);
	if (self->old_ratio[0])
		param_write("nx_huge_pages_recovery_ratio", self->old_ratio);
	if (self->old_period[0])
		param_write("nx_huge_pages_recovery_period_ms", self->old_period);
}

/*
 * Data accesses map and use 2 MiB leaves and split nothing; a call into
 * the region splits its leaf into 512 executable 4 KiB leaves, once, and
 * the code runs correctly; the other huge leaf stays.
 */
TEST_F(nx_huge, split_on_execute)
{
	struct hvx_mem_info info;
	uint64_t s0;

	/* A skip in the fixture's setup does not stop the body here. */
	REQUIRE_VMX();
	s0 = splits();
	run_op(self->vcpu, EPT_OP_WRITE, GPA_HUGE + 0x2000, SZ_4K, 0x77);
	run_op(self->vcpu, EPT_OP_CHECK, GPA_HUGE + 0x2000, SZ_4K, 0x77);
	ASSERT_EQ(0x5a5a5a5a5a5a5a5aull,
		  run_op(self->vcpu, EPT_OP_READ, GPA_HUGE + SZ_2M, 0, 0));
	info = vm_mem_info(self->vm);
	ASSERT_EQ(2, info.leaves_2m);
	ASSERT_EQ(s0, splits()) TH_LOG("data accesses split a huge leaf");

	ASSERT_EQ(5 + 0x1234, run_op(self->vcpu, EPT_OP_CALL,
				     GPA_HUGE + 0x1000, 0, 5));
	ASSERT_EQ(s0 + 1, splits());
	info = vm_mem_info(self->vm);
	ASSERT_EQ(1, info.leaves_2m);
	ASSERT_LE(512, info.leaves_4k);
	/* Executable now: no second split; data written before is intact. */
	ASSERT_EQ(7 + 0x1234, run_op(self->vcpu, EPT_OP_CALL,
				     GPA_HUGE + 0x1000, 0, 7));
	run_op(self->vcpu, EPT_OP_CHECK, GPA_HUGE + 0x2000, SZ_4K, 0x77);
	ASSERT_EQ(s0 + 1, splits());
	ASSERT_EQ(0, vm_mem_info(self->vm).nx_huge_recovered);
	/* The host sees the guest's writes through the split leaves. */
	ASSERT_EQ((GPA_HUGE + 0x2000) ^ 0x77, *(uint64_t *)(self->mem + 0x2000));
}

/*
 * With recovery on, a split range is zapped back, mapped huge again by
 * the next data access, and split again by the next call.
 */
TEST_F(nx_huge, recovery)
{
	struct hvx_mem_info info;
	uint64_t s0;
	int i;

	REQUIRE_VMX();
	s0 = splits();
	ASSERT_EQ(0, param_write("nx_huge_pages_recovery_ratio", "1"));
	ASSERT_EQ(0, param_write("nx_huge_pages_recovery_period_ms", "50"));
	ASSERT_EQ(11 + 0x1234, run_op(self->vcpu, EPT_OP_CALL,
				      GPA_HUGE + SZ_2M + 0x3000, 0, 11));
	ASSERT_EQ(s0 + 1, splits());
	for (i = 0; i < 100 && !vm_mem_info(self->vm).nx_huge_recovered; i++)
		msleep(50);
	info = vm_mem_info(self->vm);
	ASSERT_EQ(1, info.nx_huge_recovered)
		TH_LOG("the split leaf was not recovered within 5 s");
	ASSERT_EQ(0, info.leaves_2m);
	ASSERT_EQ(0x5a5a5a5a5a5a5a5aull,
		  run_op(self->vcpu, EPT_OP_READ, GPA_HUGE + SZ_2M + 0x8000, 0, 0));
	ASSERT_EQ(1, vm_mem_info(self->vm).leaves_2m);
	ASSERT_EQ(s0 + 1, splits());
	ASSERT_EQ(13 + 0x1234, run_op(self->vcpu, EPT_OP_CALL,
				      GPA_HUGE + SZ_2M + 0x3000, 0, 13));
	ASSERT_EQ(s0 + 2, splits());
}

/* ---- Pinning: RLIMIT_MEMLOCK, backing kinds, size cap --------------- */

/* VmLck of this process, kB. */
static long vm_locked_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	LIB_ASSERT(f, "/proc/self/status: %m");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	LIB_ASSERT(!syscall(SYS_capget, &h, d), "capget: %m");
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	LIB_ASSERT(!syscall(SYS_capset, &h, d), "capset: %m");
}

/*
 * Pins are charged to locked_vm (VmLck). With CAP_IPC_LOCK (root) a pin
 * beyond RLIMIT_MEMLOCK is still allowed; without it a guest touch beyond
 * the limit fails HVX_RUN with ENOMEM, pinning nothing more; with the
 * limit raised again the guest goes on. Deleting the slot gives the
 * charge back. In a child, which gives up CAP_IPC_LOCK.
 */
TEST(memlock_limit)
{
	const uint64_t size = 64 * SZ_4K;
	struct hvx_mem_info info;
	struct vcpu *vcpu;
	struct rlimit rl;
	struct vm *vm;
	long kb, base_kb;
	uint8_t *mem;
	pid_t pid;
	int status;

	REQUIRE_VMX();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid) {
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("the child failed (status %#x)", status);
		return;
	}
	vcpu = vm_create_long(&vm, guest_ept, 0);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	LIB_ASSERT(mem != MAP_FAILED, "mmap: %m");
	/* The guest's own pages are pinned (and charged) first. */
	run_op(vcpu, EPT_OP_READ, (uint64_t)&ept_args, 0, 0);
	info = vm_mem_info(vm);
	base_kb = vm_locked_kb();
	LIB_ASSERT(base_kb == (long)info.pinned_pages * 4,
		   "VmLck %ld kB, %llu pages pinned", base_kb,
		   (unsigned long long)info.pinned_pages);

	LIB_ASSERT(!getrlimit(RLIMIT_MEMLOCK, &rl), "getrlimit: %m");
	printf("# RLIMIT_MEMLOCK here: soft %lld, hard %lld bytes\n",
	       (long long)rl.rlim_cur, (long long)rl.rlim_max);
	LIB_ASSERT(!__vm_set_memory_region(vm->fd, SLOT_A, 0, GPA_A, size, mem),
		   "slot: %m");

	/* With CAP_IPC_LOCK (root) the limit does not apply, as for VFIO. */
	rl.rlim_cur = base_kb * 1024;
	LIB_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &rl), "setrlimit: %m");
	LIB_ASSERT(run_op(vcpu, EPT_OP_READ, GPA_A, 0, 0) == 0, "read");
	LIB_ASSERT(vm_locked_kb() == base_kb + 4, "VmLck %ld kB, expected %ld",
		   vm_locked_kb(), base_kb + 4);
	base_kb += 4;

	/* Room for 16 more pages, without CAP_IPC_LOCK. */
	drop_cap_ipc_lock();
	rl.rlim_cur = (base_kb + 16 * 4) * 1024;
	LIB_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &rl), "setrlimit: %m");
	guest_var(vm, ept_args).op = EPT_OP_WRITE;
	guest_var(vm, ept_args).gpa = GPA_A;
	guest_var(vm, ept_args).size = size;
	guest_var(vm, ept_args).seed = 0x99;
	LIB_ASSERT(__vcpu_run(vcpu) == -1 && errno == ENOMEM,
		   "HVX_RUN past RLIMIT_MEMLOCK: %m, expected ENOMEM");
	/* Still refused, and still nothing more pinned, on a retry. */
	LIB_ASSERT(__vcpu_run(vcpu) == -1 && errno == ENOMEM,
		   "HVX_RUN again: %m, expected ENOMEM");
	kb = vm_locked_kb();
	info = vm_mem_info(vm);
	LIB_ASSERT(kb == base_kb + 16 * 4 && kb == (long)info.pinned_pages * 4,
		   "VmLck %ld kB (limit %ld), %llu pages pinned", kb,
		   base_kb + 16 * 4, (unsigned long long)info.pinned_pages);

	/* Room again: the guest finishes its writes, correctly. */
	rl.rlim_cur = rl.rlim_max;
	LIB_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &rl), "setrlimit: %m");
	LIB_ASSERT(rl.rlim_cur == RLIM_INFINITY ||
		   rl.rlim_cur >= (uint64_t)(base_kb + 64 * 4) * 1024,
		   "hard RLIMIT_MEMLOCK below the test's needs");
	LIB_ASSERT(run_op(vcpu, EPT_OP_WRITE, GPA_A, size, 0x99) == 0, "rerun");
	for (uint64_t i = 0; i < size; i += 8)
		LIB_ASSERT(*(uint64_t *)(mem + i) == ((GPA_A + i) ^ 0x99),
			   "guest write lost at %#lx", (unsigned long)i);
	info = vm_mem_info(vm);
	kb = vm_locked_kb();
	LIB_ASSERT(kb >= base_kb + 63 * 4 && kb == (long)info.pinned_pages * 4,
		   "VmLck %ld kB, %llu pages pinned", kb,
		   (unsigned long long)info.pinned_pages);
	LIB_ASSERT(!__vm_set_memory_region(vm->fd, SLOT_A, 0, GPA_A, 0, mem),
		   "delete: %m");
	LIB_ASSERT(vm_locked_kb() == kb - 64 * 4, "VmLck %ld kB after delete",
		   vm_locked_kb());
	vcpu_free(vcpu);
	vm_free(vm);
	LIB_ASSERT(vm_locked_kb() == 0, "VmLck %ld kB after the VM",
		   vm_locked_kb());
	_exit(0);
}

/*
 * Writable page-cache pages of a regular file may not back a slot (a
 * ramfs file here: page cache, not shmem); shmem (memfd) may.
 */
TEST(file_backing)
{
	char dir[] = "/tmp/ept_test.XXXXXX", path[64];
	struct vm *vm;
	void *p;
	int fd;

	REQUIRE_VMX();
	vm = vm_create();
	ASSERT_NE(NULL, mkdtemp(dir));
	if (mount("none", dir, "ramfs", 0, NULL)) {
		rmdir(dir);
		vm_free(vm);
		SKIP(return, "mount ramfs: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/ram", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 16 * SZ_4K));
	p = mmap(NULL, 16 * SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_ERRNO(EOPNOTSUPP, __vm_set_memory_region(vm->fd, SLOT_A, 0, GPA_A,
							16 * SZ_4K, p));
	ASSERT_ERRNO(EOPNOTSUPP, __vm_set_memory_region(vm->fd, SLOT_A,
							HVX_MEM_READONLY, GPA_A,
							16 * SZ_4K, p));
	munmap(p, 16 * SZ_4K);
	close(fd);
	umount(dir);
	rmdir(dir);

	fd = memfd_create("ept_test", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 16 * SZ_4K));
	p = mmap(NULL, 16 * SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, SLOT_A, 0, GPA_A,
					    16 * SZ_4K, p));
	vm_free(vm);
	munmap(p, 16 * SZ_4K);
	close(fd);
}

/* A slot over 512 GiB is refused before anything is allocated. */
TEST(slot_size_cap)
{
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	ASSERT_ERRNO(E2BIG, __vm_set_memory_region(vm->fd, SLOT_A, 0, 0,
						   (512ull << 30) + SZ_4K,
						   (void *)(1ull << 30)));
	ASSERT_ERRNO(E2BIG, __vm_set_memory_region(vm->fd, SLOT_A, 0, 0,
						   1ull << 46,
						   (void *)(1ull << 30)));
	vm_free(vm);
}

/* No RAM slot over the APIC-access page. */
TEST(apic_access_reserved)
{
	struct hvx_platform_config c = { .devices = HVX_PLATFORM_LAPIC };
	char val[8] = "";
	struct vm *vm;
	void *p;

	REQUIRE_VMX();
	read_str(PARAM_DIR "apic_access", val, sizeof(val));
	if (val[0] != 'Y')
		SKIP(return, "apic_access=%s: no APIC-access page", val);
	vm = vm_create();
	p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, ioctl(vm->fd, HVX_CREATE_PLATFORM, &c));
	ASSERT_ERRNO(EEXIST, __vm_set_memory_region(vm->fd, SLOT_A, 0,
						    0xfee00000ull, SZ_4K, p));
	ASSERT_ERRNO(EEXIST, __vm_set_memory_region(vm->fd, SLOT_A, 0,
						    0xfed00000ull, SZ_2M, p));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, SLOT_A, 0, 0xfee01000ull,
					    SZ_4K, p));
	vm_free(vm);
	munmap(p, SZ_2M);
}

/*
 * With one VPID for the whole host, a second vCPU gets none: it runs
 * with the VPID control clear (VM entry would fail with it set and VPID
 * 0), as does the first.
 */
TEST(vpid_exhausted)
{
	struct vcpu *a, *b;
	struct vm *va, *vb;
	char old[16] = "";

	REQUIRE_VMX();
	read_str(PARAM_DIR "vpid_max", old, sizeof(old));
	ASSERT_NE(0, old[0]) TH_LOG("no vpid_max parameter");
	old[strcspn(old, "\n")] = 0;
	ASSERT_EQ(0, write_str(PARAM_DIR "vpid_max", "1"));
	a = vm_create_long(&va, guest_sync_done, 1);
	b = vm_create_long(&vb, guest_sync_done, 2);
	write_str(PARAM_DIR "vpid_max", old);
	ASSERT_EQ(2, vcpu_run_sync(b));
	vcpu_run_done(b);
	ASSERT_EQ(1, vcpu_run_sync(a));
	vcpu_run_done(a);
	vcpu_free(b);
	vm_free(vb);
	vcpu_free(a);
	vm_free(va);
}

TEST_HARNESS_MAIN
