// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_test - in-kernel virtio-blk over the virtio 1.x PCI transport
 * (HVX_CREATE_VIRTIO): a guest driver written in C (virtio_guest.c)
 * finds the function, negotiates features and drives one split virtqueue
 * built by hand. Reads see what the host put in the backing file, writes
 * and flushes land in it, a read-only disk refuses writes, two disks work
 * side by side, and hostile rings (a loop, buffers outside RAM or at the
 * APIC page, an index jump, nested indirect tables, a next index out of
 * the table) end in DEVICE_NEEDS_RESET, after which a reset gives a
 * working device. The ioctl's errors, and kill -9 of the VMM in the
 * middle of I/O (no worker thread or module reference left), too.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "hvx_test.h"
#include "hvx_nl.h"
#include "virtio_guest.h"

#define DEVFN(slot)	((slot) << 3)
#define BAR_A		0xe0000000ull
#define BAR_B		0xe0004000ull
#define DISK_BYTES	(1 << 20)	/* VG_BASIC checks the capacity */
#define GSI		11

/* A 1 MiB disk image, unlinked, with VG_PATTERN_R at VG_SECTOR_READ. */
static int disk(int flags)
{
	const char *dir = getenv("TMPDIR") ?: P_tmpdir;
	char path[256], buf[1024];
	int fd, ro;

	snprintf(path, sizeof(path), "%s/hvx-virtio-XXXXXX", dir);
	fd = mkstemp(path);
	LIB_ASSERT(fd >= 0, "mkstemp(%s): %m", path);
	LIB_ASSERT(!ftruncate(fd, DISK_BYTES), "ftruncate: %m");
	memset(buf, VG_PATTERN_R, sizeof(buf));
	LIB_ASSERT(pwrite(fd, buf, sizeof(buf), VG_SECTOR_READ * 512) ==
		   sizeof(buf), "pwrite: %m");
	if (flags == O_RDWR) {
		unlink(path);
		return fd;
	}
	ro = open(path, flags);
	LIB_ASSERT(ro >= 0, "open(%s): %m", path);
	unlink(path);
	close(fd);
	return ro;
}

static struct vm *pci_vm(void)
{
	struct hvx_platform_config c = { .devices = HVX_PLATFORM_PCI };
	struct vm *vm = vm_create();

	LIB_ASSERT(!ioctl(vm->fd, HVX_CREATE_PLATFORM, &c),
		   "HVX_CREATE_PLATFORM: %m");
	return vm;
}

static void blk_arg(struct hvx_virtio_device *a, int fd, int slot,
		    uint64_t bar, uint32_t flags)
{
	memset(a, 0, sizeof(*a));
	a->type = HVX_VIRTIO_BLK;
	a->flags = flags;
	a->fd = fd;
	a->devfn = DEVFN(slot);
	a->gsi = GSI;
	a->bar = bar;
	memcpy(a->serial, VG_SERIAL, sizeof(a->serial));
}

static int create_blk(struct vm *vm, int fd, int slot, uint64_t bar,
		      uint32_t flags)
{
	struct hvx_virtio_device a;

	blk_arg(&a, fd, slot, bar, flags);
	return ioctl(vm->fd, HVX_CREATE_VIRTIO, &a);
}

/* Kernel threads named hvx-virtio-* (the workers) that exist now. */
static int workers(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	LIB_ASSERT(d, "/proc: %m");
	while ((e = readdir(d))) {
		char path[300], comm[32] = "";

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (!read_str(path, comm, sizeof(comm)) &&
		    !strncmp(comm, "hvx-virtio", 10))
			n++;
	}
	closedir(d);
	return n;
}

/*
 * No worker left once the VM is gone (its vCPUs freed first: each holds
 * the VM). After a kill -9 the fds close during the exit, so wait up to
 * 5 s.
 */
static bool workers_gone(void)
{
	for (int i = 0; i < 500 && workers(); i++)
		msleep(10);
	return !workers();
}

/* Run the guest on @vcpu (new if NULL) until GUEST_DONE. */
static struct vcpu *run_guest(struct vm *vm, struct vcpu *vcpu, uint64_t arg)
{
	if (!vcpu)
		vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_virtio, arg);
	vcpu_run_done(vcpu);
	return vcpu;
}

/* The write sector holds VG_PATTERN_W, the sector after it zeroes. */
static bool written(int fd)
{
	uint8_t buf[1024];

	if (pread(fd, buf, sizeof(buf), VG_SECTOR_WRITE * 512) != sizeof(buf))
		return false;
	for (int i = 0; i < 1024; i++)
		if (buf[i] != (i < 512 ? VG_PATTERN_W : 0))
			return false;
	return true;
}

TEST(basic)
{
	const struct hvx_virtio_stats *st;
	struct hvx_nl_vm info;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	fd = disk(O_RDWR);
	vm = pci_vm();
	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, 0)) TH_LOG("%m");
	ASSERT_EQ(1, workers());
	vcpu = run_guest(vm, NULL, VG_ARG(VG_BASIC, DEVFN(3)));
	ASSERT_TRUE(written(fd)) TH_LOG("the guest's write is not in the file");

	/* The device's counters over netlink (HVX_A_VIRTIO_STATS). */
	ASSERT_EQ(0, hvx_nl_open(&nl));
	ASSERT_EQ(0, hvx_nl_get_vm(&nl, hvx_nl_own_vm_id(&nl), &info));
	hvx_nl_close(&nl);
	ASSERT_EQ(1, info.nr_virtio);
	st = &info.virtio[0];
	ASSERT_EQ(HVX_VIRTIO_BLK, st->type);
	ASSERT_EQ(DEVFN(3), st->devfn);
	/* GET_ID, read, write, flush, read beyond the end, unknown type. */
	ASSERT_EQ(6, st->requests);
	ASSERT_EQ(1024 + 512, st->bytes);
	ASSERT_LE(6, st->notifications);
	ASSERT_LE(1, st->interrupts);
	ASSERT_EQ(2, st->errors);
	vcpu_free(vcpu);
	vm_free(vm);
	ASSERT_TRUE(workers_gone()) TH_LOG("a worker outlived its VM");
	close(fd);
}

TEST(read_only)
{
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	fd = disk(O_RDONLY);
	vm = pci_vm();
	ASSERT_ERRNO(EPERM, create_blk(vm, fd, 3, BAR_A, 0));
	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, HVX_VIRTIO_RO)) TH_LOG("%m");
	vcpu_free(run_guest(vm, NULL, VG_ARG(VG_RO, DEVFN(3))));
	ASSERT_FALSE(written(fd));
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	close(fd);
}

TEST(two_disks)
{
	struct vcpu *vcpu;
	struct vm *vm;
	int a, b;

	REQUIRE_VMX();
	a = disk(O_RDWR);
	b = disk(O_RDWR);
	vm = pci_vm();
	ASSERT_EQ(0, create_blk(vm, a, 3, BAR_A, 0)) TH_LOG("%m");
	ASSERT_EQ(0, create_blk(vm, b, 4, BAR_B, 0)) TH_LOG("%m");
	ASSERT_EQ(2, workers());
	vcpu = run_guest(vm, NULL, VG_ARG(VG_BASIC, DEVFN(4)));
	ASSERT_TRUE(written(b));
	ASSERT_FALSE(written(a));
	/* Indirect tables, and the ISR, on the first disk. */
	run_guest(vm, vcpu, VG_ARG(VG_INDIRECT, DEVFN(3)));
	ASSERT_TRUE(written(a));
	vcpu_free(vcpu);
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	close(a);
	close(b);
}

/* A hostile case must end in NEEDS_RESET, then work after a reset. */
static void hostile(struct __test_metadata *_metadata, enum vg_case c)
{
	struct vm *vm;
	int fd;

	fd = disk(O_RDWR);
	vm = pci_vm();
	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, 0)) TH_LOG("%m");
	vcpu_free(run_guest(vm, NULL, VG_ARG(c, DEVFN(3))));
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	close(fd);
}

TEST(notify_storm)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_STORM);
}

TEST(hostile_loop)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_LOOP);
}

TEST(hostile_outside_ram)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_OUTSIDE);
}

TEST(hostile_apic_page)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_APIC);
}

TEST(hostile_index_jump)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_JUMP);
}

TEST(hostile_nested_indirect)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_NESTED);
}

TEST(hostile_next_out_of_table)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_NEXT);
}

TEST(errors)
{
	struct hvx_virtio_device a;
	int fd, ro, wo, efd, dir;
	struct vm *vm;

	REQUIRE_VMX();
	fd = disk(O_RDWR);
	ro = disk(O_RDONLY);
	wo = disk(O_WRONLY);
	efd = eventfd(0, 0);
	dir = open(".", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, efd);
	ASSERT_LE(0, dir);

	vm = vm_create();
	ASSERT_ERRNO(ENODEV, create_blk(vm, fd, 3, BAR_A, 0));
	vm_free(vm);

	vm = pci_vm();
	blk_arg(&a, fd, 3, BAR_A, 0);
	a.type = 0;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	a.type = 1;	/* virtio-net: not (yet) a type */
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 3, BAR_A, 1u << 1);
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 3, BAR_A, 0);
	a.pad = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 3, BAR_A, 0);
	a.reserved[6] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 0, BAR_A, 0);	/* the host bridge's slot */
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 3, BAR_A, 0);
	a.devfn |= 1;			/* function 1 */
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 3, BAR_A, 0);
	a.gsi = HVX_NR_GSIS;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	ASSERT_ERRNO(EINVAL, create_blk(vm, fd, 3, BAR_A + 0x1000, 0));
	ASSERT_ERRNO(EINVAL, create_blk(vm, fd, 3, 0x100000000ull, 0));
	ASSERT_ERRNO(EBADF, create_blk(vm, -1, 3, BAR_A, 0));
	ASSERT_ERRNO(EINVAL, create_blk(vm, efd, 3, BAR_A, 0));
	ASSERT_ERRNO(EINVAL, create_blk(vm, dir, 3, BAR_A, 0));
	ASSERT_ERRNO(EBADF, create_blk(vm, wo, 3, BAR_A, HVX_VIRTIO_RO));
	ASSERT_ERRNO(EPERM, create_blk(vm, ro, 3, BAR_A, 0));
	ASSERT_EQ(0, workers());

	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, 0)) TH_LOG("%m");
	/* Slot taken; BAR over another device's: nothing is left behind. */
	ASSERT_ERRNO(EEXIST, create_blk(vm, fd, 3, BAR_B, 0));
	ASSERT_ERRNO(EEXIST, create_blk(vm, fd, 4, BAR_A, 0));
	ASSERT_EQ(1, workers());
	ASSERT_EQ(0, create_blk(vm, fd, 4, BAR_B, 0)) TH_LOG("%m");
	/* No BAR address: the guest assigns it. */
	ASSERT_EQ(0, create_blk(vm, ro, 5, 0, HVX_VIRTIO_RO)) TH_LOG("%m");
	ASSERT_EQ(3, workers());
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	close(fd);
	close(ro);
	close(wo);
	close(efd);
	close(dir);
}

/* kill -9 of the VMM while its guest writes and flushes in a loop. */
TEST(kill_mid_io)
{
	long refs;
	int fd, p[2], status;
	pid_t pid;
	char c;

	REQUIRE_VMX();
	fd = disk(O_RDWR);
	ASSERT_EQ(0, pipe(p));
	refs = hvx_module_refcnt();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vm *vm = pci_vm();
		struct vcpu *vcpu;

		if (create_blk(vm, fd, 3, BAR_A, 0))
			_exit(1);
		vcpu = vcpu_create(vm, 0);
		vcpu_setup_long(vcpu, guest_virtio, VG_ARG(VG_IO_LOOP, DEVFN(3)));
		if (vcpu_run_sync(vcpu) != 1)
			_exit(2);
		if (write(p[1], "r", 1) != 1)
			_exit(3);
		for (;;)
			__vcpu_run(vcpu);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1)) TH_LOG("the child never started I/O");
	/* Let it write for a while; the file must see it. */
	for (int i = 0; i < 500; i++) {
		uint8_t b = 0;

		if (pread(fd, &b, 1, 0) == 1 && b == VG_PATTERN_W)
			break;
		msleep(10);
	}
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_TRUE(workers_gone()) TH_LOG("a worker outlived the killed VMM");
	ASSERT_TRUE(wait_for_refcnt(refs, 5000))
		TH_LOG("module references: %ld, were %ld", hvx_module_refcnt(),
		       refs);
	close(p[0]);
	close(fd);
}

TEST_HARNESS_MAIN
