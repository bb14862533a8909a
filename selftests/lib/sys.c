// SPDX-License-Identifier: GPL-2.0
/*
 * sys.c - the test environment: /dev/hvx, whether VMX is usable, the
 * module's reference count, and module loading by syscall (the emulated
 * host has busybox only, so tests do not exec insmod/rmmod).
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hvx_util.h"

void lib_fail(const char *file, int line, const char *fmt, ...)
{
	int err = errno;	/* for %m in fmt */
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "# %s:%d: ", file, line);
	errno = err;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int hvx_open(void)
{
	int fd = open(HVX_DEV, O_RDWR | O_CLOEXEC);

	LIB_ASSERT(fd >= 0, "open(%s): %m", HVX_DEV);
	return fd;
}

/*
 * 0 if this machine can run hvx guests, else the errno of HVX_CREATE_VM
 * (EOPNOTSUPP: no VMX/EPT/unrestricted guest, e.g. QEMU TCG), or of opening
 * /dev/hvx (ENOENT: module not loaded). Checked once per process.
 */
int hvx_vmx_errno(void)
{
	static int cached = -1;
	int sys_fd, vm_fd;

	if (cached >= 0)
		return cached;
	sys_fd = open(HVX_DEV, O_RDWR | O_CLOEXEC);
	if (sys_fd < 0)
		return cached = errno;
	vm_fd = ioctl(sys_fd, HVX_CREATE_VM, 0);
	cached = vm_fd < 0 ? errno : 0;
	if (vm_fd >= 0)
		close(vm_fd);
	close(sys_fd);
	return cached;
}

/* Whether /proc/cpuinfo lists the "vmx" flag (the kernel clears it when VMX
 * is absent or disabled by firmware). */
bool cpuinfo_has_vmx(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool vmx = false;

	LIB_ASSERT(f, "/proc/cpuinfo: %m");
	while (!vmx && fgets(line, sizeof(line), f)) {
		char *tok, *save;

		if (strncmp(line, "flags", 5))
			continue;
		for (tok = strtok_r(line, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			if (!strcmp(tok, "vmx"))
				vmx = true;
	}
	fclose(f);
	return vmx;
}

/* /sys/module/hvx/refcnt, or -1 if the module is not loaded. */
long hvx_module_refcnt(void)
{
	FILE *f = fopen("/sys/module/hvx/refcnt", "r");
	long n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/*
 * Releasing the last reference to a VM may finish asynchronously after
 * close() returns (deferred fput, RCU); give it a moment.
 */
bool wait_for_refcnt(long want, int timeout_ms)
{
	for (int waited = 0; ; waited += 10) {
		if (hvx_module_refcnt() == want)
			return true;
		if (waited >= timeout_ms)
			return false;
		msleep(10);
	}
}

/*
 * Pages pinned (FOLL_PIN) in the whole host now, from /proc/vmstat: a
 * test that compares two values sees whether hvx left a pin behind.
 */
long long host_pins(void)
{
	long long acq = -1, rel = -1, v;
	char name[64];
	FILE *f;
	int fd;

	/* Fold the per-CPU counter deltas in first, or the sums lag. */
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	LIB_ASSERT(fd >= 0 && write(fd, "1", 1) == 1,
		   "/proc/sys/vm/stat_refresh: %m");
	close(fd);
	f = fopen("/proc/vmstat", "r");
	LIB_ASSERT(f, "/proc/vmstat: %m");
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acq = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			rel = v;
	}
	fclose(f);
	LIB_ASSERT(acq >= 0 && rel >= 0, "no FOLL_PIN counters in /proc/vmstat");
	return acq - rel;
}

const struct kvm_module kvm_mods[NR_KVM_MODS] = {
	{ "irqbypass.ko", "irqbypass" },
	{ "kvm.ko", "kvm" },
	{ "kvm-intel.ko", "kvm_intel" },
};

/* Pin the calling thread to CPU @cpu; 0 or -1 (errno set). */
int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* finit_module(2) of a .ko file with parameters @params; 0 or -errno. */
int load_module_params(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret, err;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0);
	err = errno;
	close(fd);
	return ret ? -err : 0;
}

/* finit_module(2) of a .ko file; 0 or -errno. */
int load_module(const char *path)
{
	return load_module_params(path, "");
}

/* delete_module(2), retrying for up to 2 s while the module is still in
 * use (EAGAIN/EBUSY); 0 or -errno. */
int unload_module(const char *name)
{
	for (int tries = 0; ; tries++) {
		if (!syscall(SYS_delete_module, name, O_NONBLOCK))
			return 0;
		if ((errno != EAGAIN && errno != EBUSY) || tries == 200)
			return -errno;
		msleep(10);
	}
}

/*
 * Write the string @s to the file @path (a sysfs, procfs or cgroup
 * attribute): 0 if all of it was written, else -errno (-EIO for a short
 * write). Such files report refusals as the write's error.
 */
int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(s))
		ret = -EIO;
	close(fd);
	return ret;
}

/*
 * Read the file @path (a sysfs or procfs attribute) into @buf, at most
 * @len - 1 bytes, NUL-terminated and without its trailing newline: 0, or
 * -errno.
 */
int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

bool hvx_vmx_shared(void)
{
	char buf[8] = "";

	read_str("/sys/module/hvx/parameters/vmx_shared", buf, sizeof(buf));
	return buf[0] == 'Y';
}

/*
 * Read (@write false) or write MSR @msr of host CPU @cpu through the msr
 * driver, loading the kernel's msr.ko from HVX_KVM_DIR first if the
 * driver is not there (make check puts it beside kvm*.ko): 0, -ENOENT
 * without the driver, -EIO if the access faults, or another -errno.
 */
int host_msr(int cpu, uint32_t msr, uint64_t *val, bool write)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	if (access(path, F_OK) && getenv("HVX_KVM_DIR")) {
		char ko[256];

		snprintf(ko, sizeof(ko), "%s/msr.ko", getenv("HVX_KVM_DIR"));
		load_module(ko);
	}
	fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write ? pwrite(fd, val, 8, msr) : pread(fd, val, 8, msr);
	close(fd);
	if (n == 8)
		return 0;
	return n < 0 ? -errno : -EIO;
}

/*
 * Does the loaded kvm module take VMX root mode on every CPU at its load
 * (kvm.enable_virt_at_load=Y, 6.12 and later) rather than with its first
 * VM? False without the parameter (6.1) or without kvm loaded.
 */
bool kvm_takes_vmx_at_load(void)
{
	char buf[8] = "";

	read_str("/sys/module/kvm/parameters/enable_virt_at_load", buf, sizeof(buf));
	return buf[0] == 'Y';
}
