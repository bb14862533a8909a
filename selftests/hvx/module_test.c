// SPDX-License-Identifier: GPL-2.0
/*
 * module_test - unloading and reloading hvx.ko ($HVX_KO) with VMs created
 * and destroyed in between, and taking turns with KVM for VMX: while a KVM
 * VM exists, KVM holds VMX root mode and HVX_CREATE_VM fails with EBUSY.
 *
 * Modules are loaded with finit_module(2) and removed with delete_module(2)
 * (the emulated host has busybox only). The fixtures' teardowns put hvx
 * back and remove the KVM modules this test loaded, even after a failure.
 */
#include <fcntl.h>
#include <sys/ioctl.h>

#include "hvx_test.h"

/* KVM's ioctls (linux/kvm.h); defined here so the tests only include hvx.h. */
#define KVMIO			0xAE
#define KVM_GET_API_VERSION	_IO(KVMIO, 0x00)
#define KVM_CREATE_VM		_IO(KVMIO, 0x01)

#define RELOAD_CYCLES		3

/* open() a device node that may take a moment to appear after insmod. */
static int open_dev(const char *path)
{
	int fd = -1;

	for (int i = 0; i < 200 && fd < 0; i++) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			msleep(10);
	}
	return fd;
}

FIXTURE(hvx_module) {
	const char *ko;
};

FIXTURE_SETUP(hvx_module)
{
	self->ko = NULL;
}

FIXTURE_TEARDOWN(hvx_module)
{
	if (self->ko && hvx_module_refcnt() < 0) {
		int ret = load_module(self->ko);

		if (ret)
			TH_LOG("could not load %s again: %s", self->ko,
			       strerrorname_np(-ret));
	}
}

static void reload_cycles(struct __test_metadata *_metadata,
			  FIXTURE_DATA(hvx_module) *self, bool run_guest)
{
	int fd, ret;

	ASSERT_TRUE(wait_for_refcnt(0, 2000))
		TH_LOG("hvx is in use (refcnt %ld): cannot unload it",
		       hvx_module_refcnt());
	for (uint64_t i = 0; i < RELOAD_CYCLES; i++) {
		ret = unload_module("hvx");
		ASSERT_EQ(0, ret) TH_LOG("delete_module(hvx): %s",
					 strerrorname_np(-ret));
		ASSERT_EQ(-1, hvx_module_refcnt())
			TH_LOG("/sys/module/hvx still there after unloading");

		ret = load_module(self->ko);
		ASSERT_EQ(0, ret) TH_LOG("finit_module(%s): %s", self->ko,
					 strerrorname_np(-ret));
		fd = open_dev(HVX_DEV);
		ASSERT_LE(0, fd) TH_LOG("%s after loading: %s", HVX_DEV,
					strerrorname_np(errno));
		ASSERT_EQ(HVX_API_VERSION, ioctl(fd, HVX_GET_API_VERSION, 0));
		close(fd);

		if (run_guest) {
			struct vcpu *vcpu;
			struct vm *vm;

			vcpu = vm_create_long(&vm, guest_sync_done, i);
			ASSERT_EQ(i, vcpu_run_sync(vcpu));
			vcpu_run_done(vcpu);
			vcpu_free(vcpu);
			vm_free(vm);
		}
		ASSERT_TRUE(wait_for_refcnt(0, 2000))
			TH_LOG("refcnt %ld after closing everything",
			       hvx_module_refcnt());
	}
}

#define REQUIRE_HVX_KO() do {						\
	self->ko = getenv("HVX_KO");					\
	if (!self->ko)							\
		SKIP(return, "HVX_KO (path of hvx.ko) is not set");	\
	if (access(self->ko, R_OK))					\
		SKIP(return, "HVX_KO=%s: %s", self->ko, strerror(errno)); \
} while (0)

/* Runs with and without VMX: the module loads either way. */
TEST_F(hvx_module, reload)
{
	REQUIRE_HVX();
	REQUIRE_HVX_KO();
	reload_cycles(_metadata, self, false);
}

TEST_F(hvx_module, reload_with_guest)
{
	REQUIRE_VMX();
	REQUIRE_HVX_KO();
	reload_cycles(_metadata, self, true);
}

FIXTURE(kvm) {
	bool loaded[NR_KVM_MODS];	/* by this test, so it removes them */
	int kvm_fd, kvm_vm_fd, hvx_fd, hvx_vm_fd;
};

FIXTURE_SETUP(kvm)
{
	self->kvm_fd = self->kvm_vm_fd = self->hvx_fd = self->hvx_vm_fd = -1;
}

FIXTURE_TEARDOWN(kvm)
{
	int fds[] = { self->hvx_vm_fd, self->hvx_fd, self->kvm_vm_fd, self->kvm_fd };

	for (unsigned int i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (int i = NR_KVM_MODS - 1; i >= 0; i--) {
		int ret;

		if (!self->loaded[i])
			continue;
		ret = unload_module(kvm_mods[i].name);
		if (ret)
			TH_LOG("delete_module(%s): %s", kvm_mods[i].name,
			       strerrorname_np(-ret));
	}
}

TEST_F(kvm, kvm_vm_makes_create_vm_busy)
{
	const char *dir = getenv("HVX_KVM_DIR");
	char path[4096];
	int ret, err;

	REQUIRE_VMX();
	if (hvx_vmx_shared())
		SKIP(return, "hvx shares VMX with KVM on this kernel (vmx_shared=Y): no EBUSY to see; vmxlife_test runs_beside_kvm covers it");
	if (!dir)
		SKIP(return, "HVX_KVM_DIR (directory of kvm.ko etc.) is not set");
	for (unsigned int i = 0; i < NR_KVM_MODS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, kvm_mods[i].file);
		if (access(path, R_OK))
			SKIP(return, "%s/%s: %s", dir, kvm_mods[i].file,
			     strerror(errno));
	}
	for (unsigned int i = 0; i < NR_KVM_MODS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, kvm_mods[i].file);
		ret = load_module(path);
		if (ret == -EEXIST)
			continue;	/* already loaded: leave it so */
		if (ret && i == NR_KVM_MODS - 1)
			SKIP(return, "kvm_intel does not load here (%s)",
			     strerrorname_np(-ret));
		ASSERT_EQ(0, ret) TH_LOG("finit_module(%s): %s", path,
					 strerrorname_np(-ret));
		self->loaded[i] = true;
	}
	if (kvm_takes_vmx_at_load())
		SKIP(return, "kvm_intel holds VMX from its load here (kvm.enable_virt_at_load=Y): no window with KVM loaded but idle; vmxlife_test busy_names_the_fix covers the EBUSY");

	self->kvm_fd = open_dev("/dev/kvm");
	ASSERT_LE(0, self->kvm_fd) TH_LOG("/dev/kvm: %s", strerrorname_np(errno));
	ASSERT_EQ(12, ioctl(self->kvm_fd, KVM_GET_API_VERSION, 0));
	self->hvx_fd = hvx_open();

	/* KVM turns VMX on with its first VM... */
	self->kvm_vm_fd = ioctl(self->kvm_fd, KVM_CREATE_VM, 0);
	ASSERT_LE(0, self->kvm_vm_fd)
		TH_LOG("KVM_CREATE_VM: %s", strerrorname_np(errno));
	ASSERT_ERRNO(EBUSY, ioctl(self->hvx_fd, HVX_CREATE_VM, 0));

	/* ...and off when its last VM is gone (possibly just after close()
	 * returns); then hvx gets VMX again. */
	close(self->kvm_vm_fd);
	self->kvm_vm_fd = -1;
	for (int i = 0; i < 200; i++) {
		self->hvx_vm_fd = ioctl(self->hvx_fd, HVX_CREATE_VM, 0);
		err = errno;
		if (self->hvx_vm_fd >= 0 || err != EBUSY)
			break;
		msleep(10);
	}
	ASSERT_LE(0, self->hvx_vm_fd)
		TH_LOG("HVX_CREATE_VM after the KVM VM is gone: %s",
		       strerrorname_np(err));

	/* And it runs guests. */
	{
		struct vcpu *vcpu;
		struct vm *vm;

		vcpu = vm_create_long(&vm, guest_sync_done, 3);
		ASSERT_EQ(3, vcpu_run_sync(vcpu));
		vcpu_run_done(vcpu);
		vcpu_free(vcpu);
		vm_free(vm);
	}
}

TEST_HARNESS_MAIN
