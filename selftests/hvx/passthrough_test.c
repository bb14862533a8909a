// SPDX-License-Identifier: GPL-2.0
/*
 * passthrough_test - VFIO-style PCI passthrough (HVX_ASSIGN_DEVICE and the
 * device fd), on the real PCI devices of the emulated host.
 *
 * Only a device an administrator bound to the stub "hvx-pci" may be
 * assigned; the tests bind what they assign the administrator's way
 * (driver_override, then drivers_probe: stub_bind()).
 *
 * In QEMU (q35, intel-iommu; check.sh puts an edu at 00:04.0 and an
 * e1000 at 00:04.1, one multifunction slot, hence one IOMMU group):
 * DMA-only VMs (HVX_VM_NO_VCPUS, QEMU has no VMX) own the edu, whose DMA
 * engine (QEMU docs/specs/edu.rst: BAR0, DMA registers at 0x80..0x98,
 * buffer at device offset 0x40000, interrupt raise/ack at 0x60/0x64)
 * writes and reads guest RAM at GPAs through the VM's IOMMU domain (and
 * keeps the pinned pages it had when the VMM remaps that memory);
 * DMA elsewhere faults in the IOMMU and corrupts nothing; its MSI and
 * INTx reach eventfds; refusals leave everything as it was; and released
 * devices go back to the host, where e1000.ko binds and works. Refused
 * and changing nothing: a driverless device, guest RAM over the MSI window
 * (an IOMMU reserved region), and, in the boot whose IOMMU has no
 * interrupt remapping (check.sh's qemu-nointremap: only the isolation
 * case runs there), any device until allow_unsafe_interrupts=1.
 *
 * In Bochs (no IOMMU): assignment is refused until allow_unsafe_noiommu=1
 * (which taints), then the e1000's MMIO BAR works through the device fd.
 * A long-mode guest with the in-kernel PCI bus finds the e1000 there,
 * sizes and programs its BAR0 and reads the EEPROM through the registers
 * with no exit (the BAR is in the EPT, uncacheable); with memory decode
 * off the same access exits, and a moved BAR works at its new address.
 * A guest reading the NE2000's passed-through port in a loop exits at
 * its next read once the device is unassigned under it.
 *
 * The e1000 driver module is loaded from $HVX_NIC_DIR (default
 * /lib/hvx/nic, where check.sh puts it); the tests unbind it again.
 */
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"

#define PCI_DEVS	"/sys/bus/pci/devices"
#define NOIOMMU_PARAM	"/sys/module/hvx/parameters/allow_unsafe_noiommu"
#define UNSAFE_IRQ_PARAM "/sys/module/hvx/parameters/allow_unsafe_interrupts"
#define STUB		"hvx-pci"
#define TAINT_USER_BIT	(1ul << 6)

/* QEMU edu (docs/specs/edu.rst) */
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_IDENT	0x00
#define EDU_LIVENESS	0x04
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	0x1
#define EDU_DMA_TO_RAM	0x2
#define EDU_BUF		0x40000

#define E1000_VENDOR	0x8086
#define E1000_DEVICE	0x100e
#define E1000_STATUS	0x0008		/* 8254x SDM 13.4.2 */
#define E1000_EERD	0x0014		/* 13.4.4: EEPROM read */
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE	(1u << 4)

/* Guest RAM of the DMA-only VMs. */
#define RAM_GPA		0x200000ull
#define RAM_SIZE	0x200000ull

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_CAP_PTR		0x34
#define PCI_CAP_ID_MSI		0x05

/* ---- sysfs and friends -------------------------------------------- */

static unsigned long sysfs_hex(const char *addr, const char *attr)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), PCI_DEVS "/%s/%s", addr, attr);
	if (read_str(path, buf, sizeof(buf)))
		return ~0ul;
	return strtoul(buf, NULL, 16);
}

/* First device with this vendor/device id; false if none. */
static bool find_pci(unsigned int vendor, unsigned int device, char *addr)
{
	DIR *d = opendir(PCI_DEVS);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (sysfs_hex(e->d_name, "vendor") == vendor &&
		    sysfs_hex(e->d_name, "device") == device) {
			strcpy(addr, e->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/* Name of the driver bound to addr, "" if none. */
static const char *driver_of(const char *addr)
{
	static char name[256];
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVS "/%s/driver", addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return "";
	link[n] = 0;
	snprintf(name, sizeof(name), "%s", strrchr(link, '/') + 1);
	return name;
}

static int unbind(const char *addr)
{
	char path[256];

	if (!*driver_of(addr))
		return 0;
	snprintf(path, sizeof(path), PCI_DEVS "/%s/driver/unbind", addr);
	return write_str(path, addr);
}

static int bind_to(const char *drv, const char *addr)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", drv);
	return write_str(path, addr);
}

/*
 * Bind @addr to the stub, as an administrator hands a device to hvx:
 * driver_override names the stub, the current driver lets go, and a probe
 * binds the stub. Returns 0 when the stub holds the device.
 */
static int stub_bind(const char *addr)
{
	char path[256];

	if (!strcmp(driver_of(addr), STUB))
		return 0;
	snprintf(path, sizeof(path), PCI_DEVS "/%s/driver_override", addr);
	if (write_str(path, STUB) || unbind(addr) ||
	    write_str("/sys/bus/pci/drivers_probe", addr))
		return -1;
	return strcmp(driver_of(addr), STUB) ? -1 : 0;
}

/* Undo stub_bind(): the device is driverless, driver_override cleared. */
static int stub_unbind(const char *addr)
{
	char path[256];

	snprintf(path, sizeof(path), PCI_DEVS "/%s/driver_override", addr);
	return unbind(addr) || write_str(path, "\n") ? -1 : 0;
}

/* driver_override of @addr, "" if none (sysfs shows "(null)"). */
static const char *override_of(const char *addr)
{
	static char buf[64];
	char path[256];

	snprintf(path, sizeof(path), PCI_DEVS "/%s/driver_override", addr);
	if (read_str(path, buf, sizeof(buf)) || !strcmp(buf, "(null)"))
		buf[0] = 0;
	return buf;
}

static unsigned long kernel_taint(void)
{
	char buf[64];

	if (read_str("/proc/sys/kernel/tainted", buf, sizeof(buf)))
		return 0;
	return strtoul(buf, NULL, 10);
}

/*
 * Does the host have interrupt remapping on? Its interrupt chips are then
 * the remapping ones ("IR-IO-APIC", "IR-PCI-MSI" in /proc/interrupts).
 */
static bool host_intremap(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024];
	bool ir = false;

	if (!f)
		return false;
	while (!ir && fgets(line, sizeof(line), f))
		ir = strstr(line, " IR-") != NULL;
	fclose(f);
	return ir;
}

static bool has_iommu_group(const char *addr)
{
	char path[256];

	snprintf(path, sizeof(path), PCI_DEVS "/%s/iommu_group", addr);
	return !access(path, F_OK);
}

static struct hvx_pci_device pci_dev_of(const char *addr)
{
	unsigned int seg, bus, dev, fn;
	struct hvx_pci_device d = { 0 };

	if (sscanf(addr, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) == 4) {
		d.segment = seg;
		d.bus = bus;
		d.devfn = dev << 3 | fn;
	}
	return d;
}

/* Load e1000.ko unless it is loaded; true if the driver exists now. */
static bool load_e1000(void)
{
	const char *dir = getenv("HVX_NIC_DIR");
	char path[512];
	int ret;

	if (!access("/sys/bus/pci/drivers/e1000", F_OK))
		return true;
	snprintf(path, sizeof(path), "%s/e1000.ko", dir ? dir : "/lib/hvx/nic");
	ret = load_module(path);
	return (!ret || ret == -EEXIST) &&
	       !access("/sys/bus/pci/drivers/e1000", F_OK);
}

/* Kernel log from now on: open /dev/kmsg at its end. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Does a record since kmsg_open() contain needle? */
static bool kmsg_has(int fd, const char *needle)
{
	char rec[2048];
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) != 0) {
		if (n < 0) {
			if (errno == EPIPE)
				continue;	/* overwritten records */
			return false;		/* EAGAIN: no more */
		}
		rec[n] = 0;
		if (strstr(rec, needle))
			return true;
	}
	return false;
}

/* Host physical address of a locked page of ours (/proc/self/pagemap). */
static uint64_t virt_to_phys(void *p)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t e = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &e, 8, (uintptr_t)p / 4096 * 8) != 8)
		e = 0;
	close(fd);
	if (!(e >> 63))
		return 0;
	return (e & ((1ull << 55) - 1)) * 4096;
}

/* eventfd count, waiting at most timeout_ms; 0 if nothing came. */
static uint64_t eventfd_wait(int efd, int timeout_ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t v = 0;

	if (poll(&p, 1, timeout_ms) == 1 && read(efd, &v, 8) != 8)
		v = 0;
	return v;
}

/* ---- device fd helpers ----------------------------------------------- */

static int cfg_read(int dfd, unsigned int off, void *buf, size_t len)
{
	return pread(dfd, buf, len, HVX_PCI_REGION_OFFSET(HVX_PCI_REGION_CONFIG) + off)
	       == (ssize_t)len ? 0 : -1;
}

static int cfg_write(int dfd, unsigned int off, const void *buf, size_t len)
{
	return pwrite(dfd, buf, len, HVX_PCI_REGION_OFFSET(HVX_PCI_REGION_CONFIG) + off)
	       == (ssize_t)len ? 0 : -1;
}

static volatile uint32_t *map_bar(int dfd, int bar, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd,
		       HVX_PCI_REGION_OFFSET(bar));

	return p == MAP_FAILED ? NULL : p;
}

static void mmio_w64(volatile uint32_t *bar, unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)((volatile uint8_t *)bar + off) = v;
}

static uint64_t mmio_r64(volatile uint32_t *bar, unsigned int off)
{
	return *(volatile uint64_t *)((volatile uint8_t *)bar + off);
}

/* Run one edu DMA; false if it never completes (the device is wedged). */
static bool edu_dma(volatile uint32_t *bar, uint64_t src, uint64_t dst,
		    uint64_t cnt, bool to_ram)
{
	mmio_w64(bar, EDU_DMA_SRC, src);
	mmio_w64(bar, EDU_DMA_DST, dst);
	mmio_w64(bar, EDU_DMA_CNT, cnt);
	mmio_w64(bar, EDU_DMA_CMD, EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
	/* The edu runs a DMA 100 ms of virtual time after the command. */
	for (int i = 0; i < 1000; i++) {
		if (!(mmio_r64(bar, EDU_DMA_CMD) & EDU_DMA_RUN))
			return true;
		msleep(10);
	}
	return false;
}

/* ---- the edu fixture (QEMU) ------------------------------------------ */

FIXTURE(edu) {
	bool present;		/* setup found the edu (else it skipped) */
	bool intremap;		/* the host has interrupt remapping */
	char addr[32];		/* the edu */
	char nic[32];		/* the e1000 in its slot, "" if none */
	struct hvx_pci_device d;
	int sys_fd, vm_fd, dfd;
	uint8_t *ram;
	volatile uint32_t *bar;
};

static int create_dma_vm(int sys_fd, uint8_t **ram)
{
	int vm_fd = ioctl(sys_fd, HVX_CREATE_VM, HVX_VM_NO_VCPUS);

	if (vm_fd < 0)
		return -1;
	*ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*ram == MAP_FAILED ||
	    __vm_set_memory_region(vm_fd, 0, 0, RAM_GPA, RAM_SIZE, *ram)) {
		close(vm_fd);
		return -1;
	}
	return vm_fd;
}

FIXTURE_SETUP(edu)
{
	const char *emu;

	self->vm_fd = self->dfd = -1;
	self->bar = NULL;
	self->ram = NULL;
	REQUIRE_HVX();
	if (!find_pci(EDU_VENDOR, EDU_DEVICE, self->addr))
		SKIP(return, "no QEMU edu device (1234:11e8) here: QEMU only");
	ASSERT_TRUE(has_iommu_group(self->addr))
		TH_LOG("%s has no IOMMU group: is intel_iommu=on?", self->addr);
	/*
	 * check.sh's QEMU boots: "qemu" with interrupt remapping, where
	 * everything runs, and "qemu-nointremap" without, where assignment
	 * needs allow_unsafe_interrupts=1 and only the case about it runs.
	 */
	self->intremap = host_intremap();
	emu = getenv("HVX_EMULATOR") ?: "";
	if (!strcmp(emu, "qemu"))
		ASSERT_TRUE(self->intremap)
			TH_LOG("QEMU's intel-iommu has intremap=on: no IR- chip in /proc/interrupts");
	if (!strcmp(emu, "qemu-nointremap"))
		ASSERT_FALSE(self->intremap)
			TH_LOG("QEMU's intel-iommu has intremap=off: IR- chips in /proc/interrupts");
	if (!self->intremap && strcmp(_metadata->name, "unsafe_interrupts"))
		SKIP(return, "no interrupt remapping here (intremap=off): only unsafe_interrupts runs");
	/* The e1000 sharing the edu's slot (and IOMMU group), if any. */
	snprintf(self->nic, sizeof(self->nic), "%.11s1", self->addr);
	if (sysfs_hex(self->nic, "vendor") != E1000_VENDOR)
		self->nic[0] = 0;
	if (*self->nic)
		ASSERT_EQ(0, unbind(self->nic));
	ASSERT_EQ(0, stub_bind(self->addr)) TH_LOG("bind %s to %s", self->addr, STUB);
	self->d = pci_dev_of(self->addr);
	self->sys_fd = hvx_open();
	self->vm_fd = create_dma_vm(self->sys_fd, &self->ram);
	ASSERT_LE(0, self->vm_fd) TH_LOG("DMA-only VM: %s", strerrorname_np(errno));
	self->present = true;
}

/* The harness runs the test after a SKIP in setup: leave at once then. */
#define EDU_REQUIRED()	do { if (!self->present) return; } while (0)

FIXTURE_TEARDOWN(edu)
{
	write_str(UNSAFE_IRQ_PARAM, "0");	/* if a test stopped early */
	if (self->bar)
		munmap((void *)self->bar, 1 << 20);
	if (self->dfd >= 0)
		close(self->dfd);
	if (self->vm_fd >= 0)
		close(self->vm_fd);
	if (self->ram)
		munmap(self->ram, RAM_SIZE);
}

/* Assign the edu, map its BAR0 and turn on memory decoding and DMA. */
static void edu_assign(struct __test_metadata *_metadata,
		       FIXTURE_DATA(edu) *self)
{
	struct hvx_pci_region_info r = { .index = 0 };
	struct hvx_pci_device_info info;
	uint16_t cmd;

	self->dfd = ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &self->d);
	ASSERT_LE(0, self->dfd) TH_LOG("HVX_ASSIGN_DEVICE(%s): %s", self->addr,
				       strerrorname_np(errno));
	ASSERT_EQ(0, ioctl(self->dfd, HVX_DEVICE_GET_INFO, &info));
	ASSERT_EQ(EDU_VENDOR, info.vendor);
	ASSERT_EQ(EDU_DEVICE, info.device);
	ASSERT_LE(0, info.iommu_group);
	ASSERT_EQ(0, info.flags & HVX_PCI_DEV_NOIOMMU);
	ASSERT_EQ(1, info.msi_vectors);
	ASSERT_EQ(0, ioctl(self->dfd, HVX_DEVICE_GET_REGION_INFO, &r));
	ASSERT_EQ(1 << 20, r.size);
	ASSERT_TRUE(r.flags & HVX_PCI_REGION_MMAP);
	self->bar = map_bar(self->dfd, 0, 1 << 20);
	ASSERT_NE(NULL, self->bar) TH_LOG("mmap BAR0: %s", strerrorname_np(errno));
	ASSERT_EQ(0x010000ed, self->bar[EDU_IDENT / 4]);
	self->bar[EDU_LIVENESS / 4] = 0x12345678;
	ASSERT_EQ(~0x12345678u, self->bar[EDU_LIVENESS / 4]);
	ASSERT_EQ(0, cfg_read(self->dfd, PCI_COMMAND, &cmd, 2));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	ASSERT_EQ(0, cfg_write(self->dfd, PCI_COMMAND, &cmd, 2));
}

/* Index of the first byte of p[0..n) that is not v, or -1. */
static long first_not(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return i;
	return -1;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = seed + i * 7;
}

/* DMA from guest RAM into the device and back lands at the GPAs. */
TEST_F(edu, dma_at_gpa)
{
	uint8_t want[256];

	EDU_REQUIRED();
	edu_assign(_metadata, self);
	fill(self->ram + 0x1000, 256, 0x31);
	memcpy(want, self->ram + 0x1000, 256);
	memset(self->ram + 0x3000 - 64, 0xee, 256 + 128);

	ASSERT_TRUE(edu_dma(self->bar, RAM_GPA + 0x1000, EDU_BUF, 256, false));
	ASSERT_TRUE(edu_dma(self->bar, EDU_BUF, RAM_GPA + 0x3000, 256, true));
	ASSERT_EQ(0, memcmp(want, self->ram + 0x3000, 256))
		TH_LOG("the device's DMA write did not land at GPA %#llx",
		       RAM_GPA + 0x3000);
	ASSERT_EQ(-1, first_not(self->ram + 0x3000 - 64, 64, 0xee));
	ASSERT_EQ(-1, first_not(self->ram + 0x3000 + 256, 64, 0xee));
}

/* A slot added after assignment is mapped; a deleted one is not. */
TEST_F(edu, slot_changes_follow)
{
	const uint64_t gpa = 0x1000000;
	uint8_t *extra;
	int kfd = kmsg_open();
	char needle[64];

	EDU_REQUIRED();
	edu_assign(_metadata, self);
	extra = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, extra);
	ASSERT_EQ(0, __vm_set_memory_region(self->vm_fd, 1, 0, gpa, 0x10000,
					    extra));
	fill(self->ram, 128, 0x55);
	ASSERT_TRUE(edu_dma(self->bar, RAM_GPA, EDU_BUF, 128, false));
	ASSERT_TRUE(edu_dma(self->bar, EDU_BUF, gpa + 0x800, 128, true));
	ASSERT_EQ(0, memcmp(self->ram, extra + 0x800, 128));

	/* Deleted: DMA there faults and the old pages stay as they are. */
	memset(extra, 0, 0x10000);
	ASSERT_EQ(0, __vm_set_memory_region(self->vm_fd, 1, 0, gpa, 0, NULL));
	ASSERT_TRUE(edu_dma(self->bar, EDU_BUF, gpa + 0x800, 128, true));
	ASSERT_EQ(-1, first_not(extra, 0x10000, 0))
		TH_LOG("a deleted slot's memory was written");
	/* VT-d records the faulting page (VT-d Spec 10.4.14, FRCD_REG). */
	snprintf(needle, sizeof(needle), "fault addr 0x%llx",
		 (unsigned long long)gpa);
	ASSERT_TRUE(kmsg_has(kfd, needle))
		TH_LOG("no IOMMU fault \"%s\" in the kernel log", needle);
	close(kfd);
	munmap(extra, 0x10000);
}

/*
 * With a device assigned, the VMM remapping guest memory is not followed,
 * as with VFIO type1: the device keeps reading and writing the old page,
 * which stays pinned (no DMA reaches a freed page), the VMM sees the new
 * one, and the kernel log says so.
 */
TEST_F(edu, remap_keeps_pinned_pages)
{
	struct hvx_mem_info before, after;
	uint8_t *page, want[128];
	int kfd;

	EDU_REQUIRED();
	edu_assign(_metadata, self);
	ASSERT_EQ(0, ioctl(self->vm_fd, HVX_GET_MEM_INFO, &before));
	page = self->ram + 0x1000;
	fill(page, 128, 0x33);
	fill(want, 128, 0x33);
	kfd = kmsg_open();
	ASSERT_EQ(page, mmap(page, 4096, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	memset(page, 0x77, 4096);
	ASSERT_EQ(0, ioctl(self->vm_fd, HVX_GET_MEM_INFO, &after));
	ASSERT_EQ(before.pinned_pages, after.pinned_pages);
	/* The device reads the old page... */
	ASSERT_TRUE(edu_dma(self->bar, RAM_GPA + 0x1000, EDU_BUF, 128, false));
	ASSERT_TRUE(edu_dma(self->bar, EDU_BUF, RAM_GPA + 0x2000, 128, true));
	ASSERT_EQ(0, memcmp(want, self->ram + 0x2000, 128));
	/* ...and writes it, not the new one. */
	ASSERT_TRUE(edu_dma(self->bar, EDU_BUF, RAM_GPA + 0x1000, 128, true));
	ASSERT_EQ(-1, first_not(page, 4096, 0x77));
	ASSERT_TRUE(kmsg_has(kfd, "keep the old pages"))
		TH_LOG("no warning about the remap in the kernel log");
	close(kfd);
}

/*
 * DMA aimed at a host physical page outside guest RAM (a canary page of
 * this process) is blocked by the IOMMU: the page is intact and the
 * IOMMU reports the fault.
 */
TEST_F(edu, dma_outside_ram_blocked)
{
	uint8_t *canary;
	uint64_t hpa;
	char needle[64];
	int kfd;

	EDU_REQUIRED();
	edu_assign(_metadata, self);
	canary = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	ASSERT_NE(MAP_FAILED, canary);
	memset(canary, 0x5a, 4096);
	hpa = virt_to_phys(canary);
	ASSERT_NE(0, hpa) TH_LOG("no physical address in /proc/self/pagemap");

	kfd = kmsg_open();
	fill(self->ram, 256, 0x99);
	ASSERT_TRUE(edu_dma(self->bar, RAM_GPA, EDU_BUF, 256, false));
	ASSERT_TRUE(edu_dma(self->bar, EDU_BUF, hpa + 0x100, 256, true));
	ASSERT_EQ(hpa, virt_to_phys(canary));
	ASSERT_EQ(-1, first_not(canary, 4096, 0x5a))
		TH_LOG("the canary page outside guest RAM was overwritten");
	/* Also just past the end of guest RAM. */
	ASSERT_TRUE(edu_dma(self->bar, EDU_BUF, RAM_GPA + RAM_SIZE, 64, true));

	snprintf(needle, sizeof(needle), "fault addr 0x%llx",
		 (unsigned long long)hpa);
	ASSERT_TRUE(kmsg_has(kfd, needle))
		TH_LOG("no IOMMU fault \"%s\" in the kernel log", needle);
	close(kfd);
	munmap(canary, 4096);
}

/* MSI and INTx of the edu arrive at eventfds. */
TEST_F(edu, interrupts_to_eventfd)
{
	struct hvx_pci_irqs irqs = { .type = HVX_PCI_IRQ_MSI, .count = 1 };
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint8_t cap = 0, id = 0;
	uint32_t data = 0;
	uint16_t v16;

	EDU_REQUIRED();
	edu_assign(_metadata, self);
	ASSERT_LE(0, efd);

	/* Bad requests change nothing. */
	irqs.count = 2;
	ASSERT_ERRNO(EINVAL, ioctl(self->dfd, HVX_DEVICE_SET_IRQS, &irqs));
	irqs.count = 1;
	irqs.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->dfd, HVX_DEVICE_SET_IRQS, &irqs));
	irqs.flags = 0;
	irqs.type = HVX_PCI_IRQ_MSIX;
	ASSERT_ERRNO(ENODEV, ioctl(self->dfd, HVX_DEVICE_SET_IRQS, &irqs));
	irqs.type = HVX_PCI_IRQ_MSI;
	irqs.eventfds[0] = self->vm_fd;	/* not an eventfd */
	ASSERT_ERRNO(EINVAL, ioctl(self->dfd, HVX_DEVICE_SET_IRQS, &irqs));

	/* MSI: one interrupt per raise. */
	irqs.eventfds[0] = efd;
	ASSERT_EQ(0, ioctl(self->dfd, HVX_DEVICE_SET_IRQS, &irqs));
	self->bar[EDU_IRQ_RAISE / 4] = 0x100;
	ASSERT_EQ(1, eventfd_wait(efd, 10000)) TH_LOG("no MSI");
	self->bar[EDU_IRQ_ACK / 4] = 0x100;
	self->bar[EDU_IRQ_RAISE / 4] = 0x1;
	ASSERT_EQ(1, eventfd_wait(efd, 10000)) TH_LOG("no second MSI");
	self->bar[EDU_IRQ_ACK / 4] = 0x1;

	/* The MSI capability the device fd shows is the virtual one. */
	ASSERT_EQ(0, cfg_read(self->dfd, PCI_CAP_PTR, &cap, 1));
	while (cap) {
		ASSERT_EQ(0, cfg_read(self->dfd, cap, &id, 1));
		if (id == PCI_CAP_ID_MSI)
			break;
		ASSERT_EQ(0, cfg_read(self->dfd, cap + 1, &cap, 1));
	}
	ASSERT_NE(0, cap) TH_LOG("no MSI capability");
	data = 0xfee00000;
	ASSERT_EQ(0, cfg_write(self->dfd, cap + 4, &data, 4));
	v16 = 0x4041;	/* vector 0x41 */
	ASSERT_EQ(0, cfg_write(self->dfd, cap + 12, &v16, 2));	/* 64-bit cap */
	data = 0;
	ASSERT_EQ(0, cfg_read(self->dfd, cap + 12, &data, 2));
	ASSERT_EQ(0x4041, data);

	/* INTx: masked after each interrupt until unmasked. */
	irqs.type = HVX_PCI_IRQ_INTX;
	ASSERT_EQ(0, ioctl(self->dfd, HVX_DEVICE_SET_IRQS, &irqs));
	self->bar[EDU_IRQ_RAISE / 4] = 0x1;
	ASSERT_EQ(1, eventfd_wait(efd, 10000)) TH_LOG("no INTx");
	self->bar[EDU_IRQ_ACK / 4] = 0x1;
	ASSERT_EQ(0, ioctl(self->dfd, HVX_DEVICE_UNMASK_INTX, 0));
	self->bar[EDU_IRQ_RAISE / 4] = 0x1;
	ASSERT_EQ(1, eventfd_wait(efd, 10000)) TH_LOG("no INTx after unmask");
	self->bar[EDU_IRQ_ACK / 4] = 0x1;
	ASSERT_EQ(0, ioctl(self->dfd, HVX_DEVICE_UNMASK_INTX, 0));

	irqs = (struct hvx_pci_irqs){ .type = HVX_PCI_IRQ_NONE };
	ASSERT_EQ(0, ioctl(self->dfd, HVX_DEVICE_SET_IRQS, &irqs));
	ASSERT_ERRNO(EINVAL, ioctl(self->dfd, HVX_DEVICE_UNMASK_INTX, 0));
	close(efd);
}

/* Each refusal has its errno and changes nothing. */
TEST_F(edu, refusals)
{
	struct hvx_pci_device d = self->d;
	int vm2;
	uint8_t *ram2;

	EDU_REQUIRED();
	d.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &d));
	d = self->d;
	d.pad = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &d));
	d = self->d;
	d.reserved[4] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &d));
	d = self->d;
	d.segment = 0x10000;
	ASSERT_ERRNO(EINVAL, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &d));
	d = (struct hvx_pci_device){ .bus = 0xfe, .devfn = 0xff };
	ASSERT_ERRNO(ENODEV, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &d));
	ASSERT_ERRNO(ENOENT, ioctl(self->vm_fd, HVX_UNASSIGN_DEVICE, &self->d));
	ASSERT_ERRNO(EINVAL, ioctl(self->vm_fd, HVX_CREATE_VCPU, 0));

	/* A host driver on the device, or on another device of its group. */
	if (*self->nic && load_e1000()) {
		struct hvx_pci_device nic = pci_dev_of(self->nic);

		if (strcmp(driver_of(self->nic), "e1000"))
			ASSERT_EQ(0, bind_to("e1000", self->nic));
		ASSERT_ERRNO(EBUSY, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &nic));
		ASSERT_ERRNO(EPERM, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &self->d));
		ASSERT_STREQ("e1000", driver_of(self->nic));
		ASSERT_EQ(0, unbind(self->nic));
	}

	/*
	 * Driverless is not enough: only the stub's devices are assignable
	 * (-EACCES); the device stays as it was, and once bound to the stub
	 * it is assignable.
	 */
	ASSERT_EQ(0, stub_unbind(self->addr));
	ASSERT_ERRNO(EACCES, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &self->d));
	ASSERT_STREQ("", driver_of(self->addr));
	ASSERT_STREQ("", override_of(self->addr));
	ASSERT_ERRNO(ENOENT, ioctl(self->vm_fd, HVX_UNASSIGN_DEVICE, &self->d));
	ASSERT_EQ(0, stub_bind(self->addr));

	/* Already assigned: to this VM, or to another. */
	self->dfd = ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &self->d);
	ASSERT_LE(0, self->dfd) TH_LOG("assign after refusals: %s",
				       strerrorname_np(errno));
	ASSERT_ERRNO(EEXIST, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &self->d));
	vm2 = create_dma_vm(self->sys_fd, &ram2);
	ASSERT_LE(0, vm2);
	ASSERT_ERRNO(EEXIST, ioctl(vm2, HVX_ASSIGN_DEVICE, &self->d));
	if (*self->nic) {
		struct hvx_pci_device nic = pci_dev_of(self->nic);

		/* Its group belongs to the first VM now. */
		ASSERT_EQ(0, stub_bind(self->nic));
		ASSERT_ERRNO(EBUSY, ioctl(vm2, HVX_ASSIGN_DEVICE, &nic));
		ASSERT_EQ(0, stub_unbind(self->nic));
	}
	close(vm2);
	munmap(ram2, RAM_SIZE);
}

/*
 * Nothing changed after a refused assignment: no device fd, nothing to
 * unassign, the stub still holds the device, and another VM may still
 * take its IOMMU group.
 */
static void assert_unchanged(struct __test_metadata *_metadata,
			     FIXTURE_DATA(edu) *self)
{
	uint8_t *ram2;
	int vm2, dfd;

	ASSERT_ERRNO(ENOENT, ioctl(self->vm_fd, HVX_UNASSIGN_DEVICE, &self->d));
	ASSERT_STREQ(STUB, driver_of(self->addr));
	vm2 = create_dma_vm(self->sys_fd, &ram2);
	ASSERT_LE(0, vm2);
	dfd = ioctl(vm2, HVX_ASSIGN_DEVICE, &self->d);
	ASSERT_LE(0, dfd) TH_LOG("another VM after the refusal: %s",
				 strerrorname_np(errno));
	close(dfd);
	close(vm2);
	munmap(ram2, RAM_SIZE);
}

/*
 * Interrupt isolation. With interrupt remapping (the "qemu" boot) the
 * device is assigned and nothing is tainted for it. Without (the
 * "qemu-nointremap" boot), assignment is refused with EOPNOTSUPP and a
 * log line naming allow_unsafe_interrupts, changing nothing; with the
 * parameter set it is accepted, taints the kernel, and DMA works.
 */
TEST_F(edu, unsafe_interrupts)
{
	unsigned long taint;
	int kfd;

	EDU_REQUIRED();
	ASSERT_EQ(0, write_str(UNSAFE_IRQ_PARAM, "0"));
	if (self->intremap) {
		taint = kernel_taint();
		edu_assign(_metadata, self);
		ASSERT_EQ(taint & TAINT_USER_BIT, kernel_taint() & TAINT_USER_BIT)
			TH_LOG("an isolated device tainted the kernel");
		return;
	}
	kfd = kmsg_open();
	ASSERT_ERRNO(EOPNOTSUPP, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &self->d));
	ASSERT_TRUE(kmsg_has(kfd, "allow_unsafe_interrupts"))
		TH_LOG("the refusal does not name the parameter");
	close(kfd);
	ASSERT_ERRNO(ENOENT, ioctl(self->vm_fd, HVX_UNASSIGN_DEVICE, &self->d));
	ASSERT_STREQ(STUB, driver_of(self->addr));

	/* Accepted with the parameter (tainting), and DMA works as ever. */
	ASSERT_EQ(0, write_str(UNSAFE_IRQ_PARAM, "1"));
	edu_assign(_metadata, self);
	ASSERT_EQ(0, write_str(UNSAFE_IRQ_PARAM, "0"));
	taint = kernel_taint();
	ASSERT_TRUE(taint & TAINT_USER_BIT) TH_LOG("not tainted (TAINT_USER): %lu", taint);
	fill(self->ram, 64, 0x42);
	ASSERT_TRUE(edu_dma(self->bar, RAM_GPA, EDU_BUF, 64, false));
	ASSERT_TRUE(edu_dma(self->bar, EDU_BUF, RAM_GPA + 0x2000, 64, true));
	ASSERT_EQ(0, memcmp(self->ram, self->ram + 0x2000, 64));
}

/*
 * Guest RAM over an IOMMU reserved region (VT-d's MSI window at
 * 0xfee00000): a VM with such a slot cannot have the device (EADDRINUSE),
 * and a VM that has it cannot add such a slot (EADDRINUSE); neither
 * refusal changes anything.
 */
TEST_F(edu, reserved_region_ram)
{
	const uint64_t msi_gpa = 0xfee00000, size = 0x10000;
	uint8_t *extra, want[64];
	int kfd;

	EDU_REQUIRED();
	extra = mmap(NULL, size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, extra);

	/* RAM there first: the assignment is refused. */
	ASSERT_EQ(0, __vm_set_memory_region(self->vm_fd, 1, 0, msi_gpa, size,
					    extra));
	kfd = kmsg_open();
	ASSERT_ERRNO(EADDRINUSE, ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &self->d));
	ASSERT_TRUE(kmsg_has(kfd, "MSI window"))
		TH_LOG("the refusal does not name the reserved region");
	close(kfd);
	assert_unchanged(_metadata, self);
	/* The slot is still there: deleting it works. */
	ASSERT_EQ(0, __vm_set_memory_region(self->vm_fd, 1, 0, msi_gpa, 0, NULL));

	/* The device first: a slot there is refused, and is not added. */
	edu_assign(_metadata, self);
	ASSERT_ERRNO(EADDRINUSE, __vm_set_memory_region(self->vm_fd, 1, 0,
							msi_gpa - 0x8000, size,
							extra));
	ASSERT_ERRNO(ENOENT, __vm_set_memory_region(self->vm_fd, 1, 0,
						    msi_gpa - 0x8000, 0, NULL));
	/* Elsewhere a slot is fine, and DMA still lands at its GPAs. */
	ASSERT_EQ(0, __vm_set_memory_region(self->vm_fd, 1, 0, 0x1000000, size,
					    extra));
	fill(self->ram, sizeof(want), 0x21);
	memcpy(want, self->ram, sizeof(want));
	ASSERT_TRUE(edu_dma(self->bar, RAM_GPA, EDU_BUF, sizeof(want), false));
	ASSERT_TRUE(edu_dma(self->bar, EDU_BUF, 0x1000000 + 0x100, sizeof(want),
			    true));
	ASSERT_EQ(0, memcmp(want, extra + 0x100, sizeof(want)));
	munmap(extra, size);
}

/*
 * After HVX_UNASSIGN_DEVICE the device fd is dead: calls fail with
 * ENODEV, its BAR mapping gives SIGBUS; the device can be assigned again.
 */
TEST_F(edu, unassign_revokes)
{
	struct hvx_pci_device_info info;
	uint32_t v;
	pid_t pid;
	int status;

	EDU_REQUIRED();
	edu_assign(_metadata, self);
	ASSERT_EQ(0, ioctl(self->vm_fd, HVX_UNASSIGN_DEVICE, &self->d));
	ASSERT_ERRNO(ENODEV, ioctl(self->dfd, HVX_DEVICE_GET_INFO, &info));
	ASSERT_EQ(-1, cfg_read(self->dfd, 0, &v, 4));
	ASSERT_EQ(ENODEV, errno);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		v = self->bar[0];
		_exit(v == 0x010000ed ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		TH_LOG("access to a revoked BAR mapping: status %#x", status);
	ASSERT_ERRNO(ENOENT, ioctl(self->vm_fd, HVX_UNASSIGN_DEVICE, &self->d));
	close(self->dfd);
	self->dfd = ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &self->d);
	ASSERT_LE(0, self->dfd);
}

/*
 * A process killed with SIGKILL while it owns the device gives it back
 * (to the stub, with the administrator's driver_override: here none);
 * the e1000 of the same group, released that way and unbound from the
 * stub, binds to its host driver and works.
 */
TEST_F(edu, kill9_releases_and_host_driver_works)
{
	bool nic = *self->nic && load_e1000();
	const char *addr = nic ? self->nic : self->addr;
	struct hvx_pci_device d = pci_dev_of(addr);
	char path[256], ifname[IF_NAMESIZE + 1] = "";
	int pipefd[2], status, sock;
	struct ifreq ifr;
	pid_t pid;
	DIR *dir;
	struct dirent *e;

	EDU_REQUIRED();
	close(self->vm_fd);	/* the child makes its own VM */
	self->vm_fd = -1;
	/* Bound to the stub, then driver_override cleared: the stub stays. */
	ASSERT_EQ(0, stub_bind(addr));
	snprintf(path, sizeof(path), PCI_DEVS "/%s/driver_override", addr);
	ASSERT_EQ(0, write_str(path, "\n"));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint8_t *ram;
		int vm, dfd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* if the test fails */
		vm = create_dma_vm(self->sys_fd, &ram);
		dfd = vm < 0 ? -1 : ioctl(vm, HVX_ASSIGN_DEVICE, &d);
		if (write(pipefd[1], dfd >= 0 ? "y" : "n", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], path, 1));
	close(pipefd[0]);
	ASSERT_EQ('y', path[0]) TH_LOG("the child could not assign %s", addr);
	if (nic) {
		/* Held by the stub: the host driver may not bind now. */
		ASSERT_NE(0, bind_to("e1000", self->nic));
		ASSERT_STREQ("hvx-pci", driver_of(self->nic));
	}
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_STREQ(STUB, driver_of(addr));

	/* Released: assignable again, and driver_override is as it was. */
	self->vm_fd = create_dma_vm(self->sys_fd, &self->ram);
	ASSERT_LE(0, self->vm_fd);
	self->dfd = ioctl(self->vm_fd, HVX_ASSIGN_DEVICE, &d);
	ASSERT_LE(0, self->dfd) TH_LOG("after kill -9: %s", strerrorname_np(errno));
	close(self->dfd);
	close(self->vm_fd);	/* releases it again */
	self->dfd = self->vm_fd = -1;
	snprintf(path, sizeof(path), PCI_DEVS "/%s/driver_override", addr);
	ASSERT_EQ(0, read_str(path, ifname, sizeof(ifname)));
	ASSERT_EQ(NULL, strstr(ifname, "hvx-pci")) TH_LOG("override %s", ifname);
	if (!nic)
		SKIP(return, "no e1000 and e1000.ko beside the edu: host driver not tried");

	/* Unbound from the stub, the host driver binds, makes a netdev, and brings it up. */
	ASSERT_EQ(0, stub_unbind(self->nic));
	ASSERT_EQ(0, bind_to("e1000", self->nic));
	ASSERT_STREQ("e1000", driver_of(self->nic));
	snprintf(path, sizeof(path), PCI_DEVS "/%s/net", self->nic);
	dir = opendir(path);
	ASSERT_NE(NULL, dir);
	ifname[0] = 0;
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			snprintf(ifname, sizeof(ifname), "%.*s", IF_NAMESIZE - 1,
				 e->d_name);
	closedir(dir);
	ASSERT_NE(0, ifname[0]);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, sock);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ASSERT_EQ(0, ioctl(sock, SIOCGIFFLAGS, &ifr));
	ifr.ifr_flags |= IFF_UP;
	ASSERT_EQ(0, ioctl(sock, SIOCSIFFLAGS, &ifr))
		TH_LOG("%s up: %s", ifname, strerrorname_np(errno));
	ASSERT_EQ(0, ioctl(sock, SIOCGIFFLAGS, &ifr));
	ASSERT_TRUE(ifr.ifr_flags & IFF_UP);
	ifr.ifr_flags &= ~IFF_UP;
	ioctl(sock, SIOCSIFFLAGS, &ifr);
	close(sock);
	ASSERT_EQ(0, unbind(self->nic));
}

/*
 * The stub: bound through driver_override and drivers_probe, it holds
 * the device, which stays assignable; driver_override is the user's
 * again after release; module unload unbinds the stub.
 */
TEST_F(edu, stub_driver)
{
	char path[256], buf[64];
	const char *ko = getenv("HVX_KO");

	EDU_REQUIRED();
	snprintf(path, sizeof(path), PCI_DEVS "/%s/driver_override", self->addr);
	ASSERT_EQ(0, write_str(path, "hvx-pci"));
	ASSERT_EQ(0, write_str("/sys/bus/pci/drivers_probe", self->addr));
	ASSERT_STREQ("hvx-pci", driver_of(self->addr));
	edu_assign(_metadata, self);
	ASSERT_EQ(0, ioctl(self->vm_fd, HVX_UNASSIGN_DEVICE, &self->d));
	ASSERT_STREQ("hvx-pci", driver_of(self->addr));
	ASSERT_EQ(0, read_str(path, buf, sizeof(buf)));
	ASSERT_STREQ("hvx-pci", buf);

	close(self->dfd);
	munmap((void *)self->bar, 1 << 20);
	close(self->vm_fd);
	close(self->sys_fd);
	self->dfd = self->vm_fd = -1;
	self->bar = NULL;
	if (!ko || access(ko, R_OK)) {
		ASSERT_EQ(0, write_str(path, "\n"));
		ASSERT_EQ(0, unbind(self->addr));
		SKIP(return, "HVX_KO not set: module unload not tried");
	}
	ASSERT_TRUE(wait_for_refcnt(0, 2000));
	ASSERT_EQ(0, unload_module("hvx"));
	ASSERT_STREQ("", driver_of(self->addr));
	ASSERT_EQ(0, write_str(path, "\n"));
	ASSERT_EQ(0, load_module(ko));
	for (int i = 0; i < 200 && access(HVX_DEV, R_OK); i++)
		msleep(10);
	self->sys_fd = hvx_open();
}

/*
 * Interrupts of the host IRQ whose /proc/interrupts line names @name
 * (summed over CPUs), or -1 if there is none.
 */
static long irq_count(const char *name)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024];
	long n = -1;

	if (!f)
		return -1;
	while (n < 0 && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':'), *end;

		if (!p || !strstr(line, name))
			continue;
		n = 0;
		for (p++;; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			n += v;
		}
	}
	fclose(f);
	return n;
}

/* Offset of capability @want in the device fd's config space, 0 if none. */
static uint8_t cap_of(int dfd, uint8_t want)
{
	uint8_t cap = 0, id = 0;

	if (cfg_read(dfd, PCI_CAP_PTR, &cap, 1))
		return 0;
	while (cap) {
		if (cfg_read(dfd, cap, &id, 1))
			return 0;
		if (id == want)
			break;
		if (cfg_read(dfd, cap + 1, &cap, 1))
			return 0;
	}
	return cap;
}

/*
 * A device on the VM's PCI bus gets host MSI vectors when its (virtual)
 * MSI capability is enabled, as a guest would do it: the edu's interrupts
 * then reach hvx's handler, which sends the guest's message to the
 * in-kernel LAPICs (a DMA-only VM has none: the last hop is the router
 * apic_test covers). Disabling MSI frees the vectors; interrupts set up
 * with HVX_DEVICE_SET_IRQS are not taken over.
 */
TEST_F(edu, guest_msi_wiring)
{
	struct hvx_platform_config c = { .devices = HVX_PLATFORM_PCI };
	struct hvx_pci_irqs irqs = { .type = HVX_PCI_IRQ_MSI, .count = 1 };
	char gname[64], uname[64];
	uint32_t addr = 0xfee00000;
	uint16_t data = 0x41, ctrl;
	long n0, n;
	uint8_t cap;
	int efd;

	EDU_REQUIRED();
	ASSERT_EQ(0, ioctl(self->vm_fd, HVX_CREATE_PLATFORM, &c))
		TH_LOG("platform on a DMA-only VM: %s", strerrorname_np(errno));
	edu_assign(_metadata, self);
	snprintf(gname, sizeof(gname), "hvx-gmsi0(%s)", self->addr);
	snprintf(uname, sizeof(uname), "hvx-msi0(%s)", self->addr);
	cap = cap_of(self->dfd, PCI_CAP_ID_MSI);
	ASSERT_NE(0, cap);
	ASSERT_EQ(-1, irq_count(gname));

	ASSERT_EQ(0, cfg_write(self->dfd, cap + 4, &addr, 4));
	ASSERT_EQ(0, cfg_write(self->dfd, cap + 12, &data, 2));	/* 64-bit cap */
	ASSERT_EQ(0, cfg_read(self->dfd, cap + 2, &ctrl, 2));
	ctrl |= 1;					/* MSI Enable */
	ASSERT_EQ(0, cfg_write(self->dfd, cap + 2, &ctrl, 2));
	n0 = irq_count(gname);
	ASSERT_LE(0, n0) TH_LOG("no %s in /proc/interrupts", gname);
	self->bar[EDU_IRQ_RAISE / 4] = 0x100;
	for (int i = 0; i < 1000 && (n = irq_count(gname)) == n0; i++)
		msleep(10);
	ASSERT_EQ(n0 + 1, n);
	self->bar[EDU_IRQ_ACK / 4] = 0x100;

	ctrl &= ~1;
	ASSERT_EQ(0, cfg_write(self->dfd, cap + 2, &ctrl, 2));
	ASSERT_EQ(-1, irq_count(gname));

	/* Userspace's own MSI: the guest's enable bit no longer wires. */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	irqs.eventfds[0] = efd;
	ASSERT_EQ(0, ioctl(self->dfd, HVX_DEVICE_SET_IRQS, &irqs));
	ctrl |= 1;
	ASSERT_EQ(0, cfg_write(self->dfd, cap + 2, &ctrl, 2));
	ASSERT_EQ(-1, irq_count(gname));
	ASSERT_LE(0, irq_count(uname));
	self->bar[EDU_IRQ_RAISE / 4] = 0x1;
	ASSERT_EQ(1, eventfd_wait(efd, 10000)) TH_LOG("no MSI to the eventfd");
	self->bar[EDU_IRQ_ACK / 4] = 0x1;
	close(efd);
}

/* ---- MSI-X and netlink events: QEMU's e1000e ------------------------- */

/* QEMU e1000e (82574L): MSI-X with 5 vectors, table and PBA in BAR3. */
#define E1000E_DEVICE	0x10d3
#define E1000E_VECTORS	5
#define E1000E_MSIX_BAR	3
#define E1000E_PBA_OFF	0x2000
#define E1000E_ICR	0x00c0		/* 82574 datasheet 10.2.4.1: cause */
#define E1000E_ICS	0x00c8		/* 10.2.4.3: cause set */
#define E1000E_IMS	0x00d0		/* 10.2.4.4: mask set */
#define E1000E_IMC	0x00d8		/* 10.2.4.5: mask clear */
#define E1000E_IVAR	0x00e4		/* 10.2.4.9: cause -> MSI-X vector */
#define E1000E_TXQ0	(1u << 22)	/* 10.2.4.1: transmit queue 0 */
#define E1000E_IVAR_TXQ0_V0 (0x8u << 8)	/* TxQ0 -> vector 0, valid */

#define PCI_CAP_ID_MSIX		0x11
#define MSIX_ENABLE		0x8000	/* message control (PCI 3.0 6.8.2.3) */
#define MSIX_MASKALL		0x4000


/* One access of @len bytes at @off of BAR @bar through the device fd. */
static int bar_pio(int dfd, int bar, unsigned int off, void *v, size_t len,
		   bool write)
{
	off_t pos = HVX_PCI_REGION_OFFSET(bar) + off;
	ssize_t n = write ? pwrite(dfd, v, len, pos) : pread(dfd, v, len, pos);

	return n == (ssize_t)len ? 0 : -1;
}

static uint32_t bar_r32(int dfd, int bar, unsigned int off)
{
	uint32_t v = 0xdeadbeef;

	bar_pio(dfd, bar, off, &v, 4, false);
	return v;
}

static int bar_w32(int dfd, int bar, unsigned int off, uint32_t v)
{
	return bar_pio(dfd, bar, off, &v, 4, true);
}

/* The next event of type @type about VM @vm_id (0: any), or -errno. */
static int next_event_of(struct hvx_nl *nl, uint32_t type, uint32_t vm_id,
			 struct hvx_nl_event *ev)
{
	for (int i = 0; i < 64; i++) {
		int ret = hvx_nl_next_event(nl, ev, 30000);

		if (ret)
			return ret;
		if (ev->event == type && (!vm_id || ev->vm_id == vm_id))
			return 0;
	}
	return -ENOENT;
}

/* One line from @fd into @buf (NUL-terminated, no newline): 0 or -1. */
static int read_line_fd(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < len) {
		if (poll(&pfd, 1, timeout_ms) != 1 || read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return 0;
}

/*
 * Start "hvxctl monitor --count @count" (text) with its output on the
 * returned pipe, once it listens; -1 without $HVX_HVXCTL.
 */
static int monitor_start(int count, pid_t *pid)
{
	const char *path = getenv("HVX_HVXCTL");
	char line[256], n[16];
	int p[2];

	if (!path || !*path || access(path, X_OK) || pipe2(p, O_CLOEXEC))
		return -1;
	snprintf(n, sizeof(n), "%d", count);
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (!*pid) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(path, path, "monitor", "--count", n, NULL);
		_exit(127);
	}
	close(p[1]);
	if (read_line_fd(p[0], line, sizeof(line), 30000) ||
	    !strstr(line, "listening")) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		close(p[0]);
		return -1;
	}
	return p[0];
}

/* segment << 16 | bus << 8 | devfn, as HVX_A_DEVICE carries it. */
static uint32_t dev_word(const struct hvx_pci_device *d)
{
	return d->segment << 16 | d->bus << 8 | d->devfn;
}

/*
 * Wait until host IRQ @name has counted more than @n0; the new count.
 * Up to 30 s: QEMU's TCG shares two cores with Bochs in a full run.
 */
static long irq_wait_above(const char *name, long n0)
{
	long n = irq_count(name);

	for (int i = 0; i < 3000 && n <= n0; i++) {
		msleep(10);
		n = irq_count(name);
	}
	return n;
}

/*
 * QEMU e1000e quirk (QEMU 7.2, Debian 12's qemu-system-x86): each MSI-X
 * message the model sends starts that vector's throttling timer for its
 * EITR interval (82574 datasheet 10.2.4.11; the model makes it at least
 * 500 * 256 ns = 128 us, so it cannot be turned off), and
 * - the timer's handler asserts that MSI-X is still enabled
 *   (e1000e_intrmgr_on_msix_throttling_timer() in hw/net/e1000e_core.c),
 *   so turning MSI-X off before it ran aborts QEMU. The case used to turn
 *   it off under a millisecond after its last message: a loaded machine
 *   that kept QEMU's main loop (its timers) off the CPU that long aborted
 *   the run. Upstream QEMU dropped the assertion ("e1000e: Do not assert
 *   when MSI-X is disabled later").
 * - a message caused while the timer runs is held back to its end, and
 *   the vector's pending flag then stays set for good: every later
 *   interval end sends one more message, which the case would count
 *   (upstream: "e1000e: Remove pending interrupt flags").
 * So the case waits out the longest interval before each message and
 * before MSI-X goes off. The timer runs on QEMU's virtual clock, as do the
 * emulated host's timer interrupts, and QEMU runs due timers in deadline
 * order: a sleep longer than the interval ends after the throttling
 * timer's handler ran, however late QEMU gets to both. On an 82574 the
 * waits only slow the case down.
 */
#define E1000E_EITR_MAX_MS	17	/* 0xffff * 256 ns, rounded up */

static void e1000e_throttle_wait(void)
{
	msleep(E1000E_EITR_MAX_MS);
}

/*
 * Make the e1000e send MSI-X vector 0: the transmit queue 0 cause goes to
 * the vector IVAR names (82574 datasheet 10.2.4.9); ICR is cleared first
 * so the cause is new. Not the link-status cause: the reset on assign
 * restarts autonegotiation, whose end (500 ms of QEMU's virtual time
 * later, so at any point of a loaded run) sets LSC by itself and would
 * send an interrupt the test did not ask for. With the transmitter off,
 * nothing but ICS sets TXQ0. The previous message's throttling interval
 * is over first (the QEMU quirk above).
 */
static void e1000e_raise(volatile uint32_t *bar)
{
	e1000e_throttle_wait();
	bar[E1000E_ICR / 4] = ~0u;
	bar[E1000E_ICS / 4] = E1000E_TXQ0;
}

/*
 * The guest side of MSI-X, with the e1000e on the PCI bus of a DMA-only
 * VM (QEMU has no VMX, so no vCPU can touch the BAR: the guest's trapped
 * accesses to the table page go through the same emulation as the device
 * fd's, hvx_pt_msix_table_rw(), which is what this drives; that the
 * table page is left out of the EPT shows as the device fd refusing to
 * mmap it, which is the same page range). What no emulator here can show
 * is the last hop, an MSI-X message into a guest's LAPIC: Bochs has VMX
 * but no MSI-X device, QEMU/TCG an MSI-X device but no VMX. That hop is
 * hvx_irq_msi(), which apic_test covers through HVX_SIGNAL_MSI.
 *
 * Checked: the virtual capability (table size, BIR and offsets as the
 * device has them, enable and function mask emulated), the region info
 * and mmap refusal of the MSI-X pages, the emulated table (starts masked,
 * keeps address/data/mask, refuses byte accesses), host MSI-X vectors
 * following the virtual enable bit, an interrupt from a masked vector held
 * pending in the emulated PBA and released by unmasking (vector mask and
 * function mask), and the netlink events of assignment and of each kind
 * of release (unassign, VM destroyed, owner killed).
 */
TEST(e1000e_guest_msix_and_events)
{
	struct hvx_platform_config c = { .devices = HVX_PLATFORM_PCI };
	struct hvx_pci_region_info r = { .index = E1000E_MSIX_BAR };
	struct hvx_pci_device_info info;
	struct hvx_pci_device d;
	struct hvx_nl_event ev;
	volatile uint32_t *bar0;
	uint32_t tbl, pba, vm_id;
	char addr[32], gname[64];
	uint16_t ctrl, cmd;
	uint64_t q;
	struct hvx_nl nl;
	int sys_fd, vm, dfd, pfd[2], mon;
	uint8_t *ram, cap, b;
	char line[256], want[128];
	pid_t pid, mon_pid;
	long n0, n;

	REQUIRE_HVX();
	if (!find_pci(E1000_VENDOR, E1000E_DEVICE, addr))
		SKIP(return, "no e1000e (8086:10d3) here: QEMU only");
	if (!host_intremap())
		SKIP(return, "no interrupt remapping here (intremap=off): only unsafe_interrupts runs");
	ASSERT_EQ(0, stub_bind(addr));
	d = pci_dev_of(addr);
	ASSERT_EQ(0, hvx_nl_open(&nl));
	ASSERT_EQ(0, hvx_nl_subscribe(&nl));
	/* hvxctl shows the first three: VM created, assigned, released. */
	mon = monitor_start(3, &mon_pid);
	sys_fd = hvx_open();
	vm = create_dma_vm(sys_fd, &ram);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, next_event_of(&nl, HVX_EVENT_VM_CREATED, 0, &ev));
	ASSERT_EQ((uint32_t)getpid(), ev.pid);
	vm_id = ev.vm_id;
	ASSERT_EQ(0, ioctl(vm, HVX_CREATE_PLATFORM, &c));
	dfd = ioctl(vm, HVX_ASSIGN_DEVICE, &d);
	ASSERT_LE(0, dfd) TH_LOG("assign %s: %s", addr, strerrorname_np(errno));
	ASSERT_EQ(0, next_event_of(&nl, HVX_EVENT_DEVICE_ASSIGNED, vm_id, &ev));
	ASSERT_TRUE(ev.has[HVX_A_DEVICE]);
	ASSERT_EQ(dev_word(&d), ev.device);
	ASSERT_FALSE(ev.has[HVX_A_RELEASE_REASON]);

	/* The virtual MSI-X capability: the device's table size and places. */
	ASSERT_EQ(0, ioctl(dfd, HVX_DEVICE_GET_INFO, &info));
	ASSERT_EQ(E1000E_VECTORS, info.msix_vectors);
	cap = cap_of(dfd, PCI_CAP_ID_MSIX);
	ASSERT_NE(0, cap);
	ASSERT_EQ(0, cfg_read(dfd, cap + 2, &ctrl, 2));
	ASSERT_EQ(E1000E_VECTORS - 1, ctrl & 0x7ff);
	ASSERT_EQ(0, ctrl & (MSIX_ENABLE | MSIX_MASKALL));
	ASSERT_EQ(0, cfg_read(dfd, cap + 4, &tbl, 4));
	ASSERT_EQ(0, cfg_read(dfd, cap + 8, &pba, 4));
	ASSERT_EQ(E1000E_MSIX_BAR, tbl & 7);
	ASSERT_EQ(0, tbl & ~7u);
	ASSERT_EQ(E1000E_MSIX_BAR, pba & 7);
	ASSERT_EQ(E1000E_PBA_OFF, pba & ~7u);

	/* The MSI-X pages: emulated, never mapped; the rest of BAR3 maps. */
	ASSERT_EQ(0, ioctl(dfd, HVX_DEVICE_GET_REGION_INFO, &r));
	ASSERT_TRUE(r.flags & HVX_PCI_REGION_MSIX);
	ASSERT_EQ(0, r.msix_offset);
	ASSERT_EQ(E1000E_PBA_OFF + 0x1000, r.msix_size);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, dfd,
				   HVX_PCI_REGION_OFFSET(E1000E_MSIX_BAR)));
	ASSERT_EQ(EACCES, errno);
	if (r.size > r.msix_size) {
		void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, dfd,
			       HVX_PCI_REGION_OFFSET(E1000E_MSIX_BAR) + r.msix_size);

		ASSERT_NE(MAP_FAILED, p);
		munmap(p, 4096);
	}

	/* The emulated table: masked at first, keeps what is written. */
	for (int i = 0; i < E1000E_VECTORS; i++)
		ASSERT_EQ(1, bar_r32(dfd, E1000E_MSIX_BAR, 16 * i + 12));
	ASSERT_EQ(0, bar_w32(dfd, E1000E_MSIX_BAR, 0, 0xfee00000));
	ASSERT_EQ(0, bar_w32(dfd, E1000E_MSIX_BAR, 4, 0));
	ASSERT_EQ(0, bar_w32(dfd, E1000E_MSIX_BAR, 8, 0x45));
	ASSERT_EQ(0, bar_w32(dfd, E1000E_MSIX_BAR, 12, 0xfffffffe));
	ASSERT_EQ(0xfee00000, bar_r32(dfd, E1000E_MSIX_BAR, 0));
	ASSERT_EQ(0x45, bar_r32(dfd, E1000E_MSIX_BAR, 8));
	ASSERT_EQ(0, bar_r32(dfd, E1000E_MSIX_BAR, 12))
		TH_LOG("reserved vector control bits kept");
	ASSERT_EQ(0, bar_w32(dfd, E1000E_MSIX_BAR, 12, 1));	/* mask again */
	ASSERT_EQ(-1, bar_pio(dfd, E1000E_MSIX_BAR, 1, &b, 1, false))
		TH_LOG("byte read of the table allowed");
	ASSERT_EQ(0, bar_r32(dfd, E1000E_MSIX_BAR, E1000E_PBA_OFF));

	/* Decode and bus mastering (MSI-X messages are DMA writes). */
	ASSERT_EQ(0, cfg_read(dfd, PCI_COMMAND, &cmd, 2));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	ASSERT_EQ(0, cfg_write(dfd, PCI_COMMAND, &cmd, 2));
	bar0 = map_bar(dfd, 0, 0x20000);
	ASSERT_NE(NULL, bar0);

	/* Enabling MSI-X in the virtual capability: host vectors, one each. */
	snprintf(gname, sizeof(gname), "hvx-gmsix0(%s)", addr);
	ASSERT_EQ(-1, irq_count(gname));
	ctrl = MSIX_ENABLE;
	ASSERT_EQ(0, cfg_write(dfd, cap + 2, &ctrl, 2));
	ASSERT_EQ(0, cfg_read(dfd, cap + 2, &ctrl, 2));
	ASSERT_EQ(MSIX_ENABLE | (E1000E_VECTORS - 1), ctrl);
	for (int i = 0; i < E1000E_VECTORS; i++) {
		char name[64];

		snprintf(name, sizeof(name), "hvx-gmsix%d(%s)", i, addr);
		ASSERT_LE(0, irq_count(name)) TH_LOG("no %s", name);
	}

	/* Vector 0 masked: the interrupt is held in the PBA... */
	bar0[E1000E_IVAR / 4] = E1000E_IVAR_TXQ0_V0;
	bar0[E1000E_IMS / 4] = E1000E_TXQ0;
	n0 = irq_count(gname);
	e1000e_raise(bar0);
	n = irq_wait_above(gname, n0);
	ASSERT_EQ(n0 + 1, n) TH_LOG("no MSI-X interrupt from the e1000e");
	ASSERT_EQ(1, bar_r32(dfd, E1000E_MSIX_BAR, E1000E_PBA_OFF));
	ASSERT_EQ(0, bar_pio(dfd, E1000E_MSIX_BAR, E1000E_PBA_OFF, &q, 8, false));
	ASSERT_EQ(1, q);
	/* ... until unmasked, which sends it (to no LAPIC: DMA-only VM). */
	ASSERT_EQ(0, bar_w32(dfd, E1000E_MSIX_BAR, 12, 0));
	ASSERT_EQ(0, bar_r32(dfd, E1000E_MSIX_BAR, E1000E_PBA_OFF));

	/* The function mask holds it too; clearing it sends it. */
	ctrl = MSIX_ENABLE | MSIX_MASKALL;
	ASSERT_EQ(0, cfg_write(dfd, cap + 2, &ctrl, 2));
	e1000e_raise(bar0);
	n = irq_wait_above(gname, n0 + 1);
	ASSERT_EQ(n0 + 2, n) TH_LOG("function-masked interrupt not counted once");
	ASSERT_EQ(1, bar_r32(dfd, E1000E_MSIX_BAR, E1000E_PBA_OFF));
	ctrl = MSIX_ENABLE;
	ASSERT_EQ(0, cfg_write(dfd, cap + 2, &ctrl, 2));
	ASSERT_EQ(0, bar_r32(dfd, E1000E_MSIX_BAR, E1000E_PBA_OFF));

	/* Unmasked: delivered at once, nothing pending. */
	e1000e_raise(bar0);
	ASSERT_EQ(n0 + 3, irq_wait_above(gname, n0 + 2))
		TH_LOG("unmasked interrupt not counted once");
	ASSERT_EQ(0, bar_r32(dfd, E1000E_MSIX_BAR, E1000E_PBA_OFF));

	/*
	 * Disabled: the host vectors go. As a driver does before it frees
	 * its vectors, every cause is masked first, and the last message's
	 * throttling interval is waited out (the QEMU quirk above).
	 */
	bar0[E1000E_IMC / 4] = ~0u;
	e1000e_throttle_wait();
	ctrl = 0;
	ASSERT_EQ(0, cfg_write(dfd, cap + 2, &ctrl, 2));
	ASSERT_EQ(-1, irq_count(gname));
	munmap((void *)bar0, 0x20000);

	/* Released by HVX_UNASSIGN_DEVICE. */
	ASSERT_EQ(0, ioctl(vm, HVX_UNASSIGN_DEVICE, &d));
	ASSERT_EQ(0, next_event_of(&nl, HVX_EVENT_DEVICE_RELEASED, vm_id, &ev));
	ASSERT_EQ(dev_word(&d), ev.device);
	ASSERT_EQ(HVX_RELEASE_UNASSIGN, ev.release_reason);
	close(dfd);
	if (mon >= 0) {
		ASSERT_EQ(0, read_line_fd(mon, line, sizeof(line), 30000));
		ASSERT_NE(NULL, strstr(line, "vm_created")) TH_LOG("%s", line);
		snprintf(want, sizeof(want), "bdf=%s", addr);
		ASSERT_EQ(0, read_line_fd(mon, line, sizeof(line), 30000));
		ASSERT_NE(NULL, strstr(line, "device_assigned")) TH_LOG("%s", line);
		ASSERT_NE(NULL, strstr(line, want)) TH_LOG("%s", line);
		ASSERT_EQ(0, read_line_fd(mon, line, sizeof(line), 30000));
		ASSERT_NE(NULL, strstr(line, "device_released")) TH_LOG("%s", line);
		ASSERT_NE(NULL, strstr(line, want)) TH_LOG("%s", line);
		ASSERT_NE(NULL, strstr(line, "reason=unassign")) TH_LOG("%s", line);
		ASSERT_EQ(mon_pid, waitpid(mon_pid, NULL, 0));
		close(mon);
	} else {
		TH_LOG("hvxctl monitor not tried: HVX_HVXCTL unset or not runnable");
	}

	/* Released because the VM went (its last fd closed). */
	dfd = ioctl(vm, HVX_ASSIGN_DEVICE, &d);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, next_event_of(&nl, HVX_EVENT_DEVICE_ASSIGNED, vm_id, &ev));
	close(dfd);
	close(vm);
	ASSERT_EQ(0, next_event_of(&nl, HVX_EVENT_VM_DESTROYED, vm_id, &ev));
	ASSERT_EQ(0, next_event_of(&nl, HVX_EVENT_DEVICE_RELEASED, vm_id, &ev));
	ASSERT_EQ(dev_word(&d), ev.device);
	ASSERT_EQ(HVX_RELEASE_VM_DESTROYED, ev.release_reason);
	munmap(ram, RAM_SIZE);

	/* Released because its owner was killed. */
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int cvm = create_dma_vm(sys_fd, &ram);

		if (cvm < 0 || ioctl(cvm, HVX_ASSIGN_DEVICE, &d) < 0)
			_exit(1);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &b, 1)) TH_LOG("child could not assign");
	close(pfd[0]);
	ASSERT_EQ(0, next_event_of(&nl, HVX_EVENT_VM_CREATED, 0, &ev));
	ASSERT_EQ((uint32_t)pid, ev.pid);
	vm_id = ev.vm_id;
	ASSERT_EQ(0, next_event_of(&nl, HVX_EVENT_DEVICE_ASSIGNED, vm_id, &ev));
	ASSERT_EQ(dev_word(&d), ev.device);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	ASSERT_EQ(0, next_event_of(&nl, HVX_EVENT_DEVICE_RELEASED, vm_id, &ev));
	ASSERT_EQ(dev_word(&d), ev.device);
	ASSERT_EQ(HVX_RELEASE_OWNER_EXITED, ev.release_reason);
	ASSERT_EQ((uint32_t)pid, ev.pid);
	ASSERT_STREQ(STUB, driver_of(addr));
	ASSERT_EQ(0, stub_unbind(addr));
	hvx_nl_close(&nl);
	close(sys_fd);
}

/* ---- no IOMMU (Bochs) ------------------------------------------------- */

/*
 * Without an IOMMU, assignment is refused unless allow_unsafe_noiommu=1,
 * which taints the kernel; the e1000's MMIO BAR then works through the
 * device fd (its receive address register holds the MAC Bochs gave it).
 */
TEST(noiommu_unsafe_mode)
{
	char addr[32];
	struct hvx_pci_device d;
	struct hvx_pci_device_info info;
	struct hvx_pci_region_info r = { .index = 0 };
	volatile uint32_t *bar;
	unsigned long taint;
	uint8_t *ram;
	int sys_fd, vm, dfd;

	REQUIRE_HVX();
	if (!find_pci(E1000_VENDOR, E1000_DEVICE, addr) || has_iommu_group(addr))
		SKIP(return, "needs an e1000 without IOMMU (Bochs)");
	ASSERT_EQ(0, stub_bind(addr));
	d = pci_dev_of(addr);
	sys_fd = hvx_open();
	vm = create_dma_vm(sys_fd, &ram);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, write_str(NOIOMMU_PARAM, "0"));
	ASSERT_ERRNO(EOPNOTSUPP, ioctl(vm, HVX_ASSIGN_DEVICE, &d));

	ASSERT_EQ(0, write_str(NOIOMMU_PARAM, "1"));
	dfd = ioctl(vm, HVX_ASSIGN_DEVICE, &d);
	write_str(NOIOMMU_PARAM, "0");
	ASSERT_LE(0, dfd) TH_LOG("unsafe assign: %s", strerrorname_np(errno));
	taint = kernel_taint();
	ASSERT_TRUE(taint & TAINT_USER_BIT) TH_LOG("not tainted (TAINT_USER): %lu", taint);
	ASSERT_EQ(0, ioctl(dfd, HVX_DEVICE_GET_INFO, &info));
	ASSERT_TRUE(info.flags & HVX_PCI_DEV_NOIOMMU);
	ASSERT_EQ(-1, info.iommu_group);

	ASSERT_EQ(0, ioctl(dfd, HVX_DEVICE_GET_REGION_INFO, &r));
	ASSERT_TRUE(r.flags & HVX_PCI_REGION_MMAP);
	bar = map_bar(dfd, 0, r.size);
	ASSERT_NE(NULL, bar);
	/*
	 * Read EEPROM word 0 through EERD (8254x SDM 13.4.4): the first two
	 * bytes of the MAC Bochs was given (52:54:...).
	 */
	bar[E1000_EERD / 4] = E1000_EERD_START;
	for (int i = 0; i < 1000 && !(bar[E1000_EERD / 4] & E1000_EERD_DONE); i++)
		msleep(1);
	ASSERT_EQ(0x5452, bar[E1000_EERD / 4] >> 16)
		TH_LOG("EERD %#x, STATUS %#x", bar[E1000_EERD / 4],
		       bar[E1000_STATUS / 4]);
	munmap((void *)bar, r.size);
	close(dfd);
	close(vm);
	munmap(ram, RAM_SIZE);
	close(sys_fd);
}

/* ---- the guest side (Bochs: needs VMX) ------------------------------- */

/*
 * Guest code: finds the assigned e1000 on the in-kernel PCI bus 0
 * (configuration mechanism #1, PCI Local Bus Spec 3.0 3.2.2.3.2), sizes
 * and programs its BAR0 (6.2.5.1), and reads its EEPROM through the
 * registers (8254x SDM 13.4.4, EERD).
 */

#define PT_E1000_ID	0x100e8086u	/* device << 16 | vendor */
#define PT_BAR_GPA	0xc0000000ull	/* where the guest puts BAR0 */
#define PT_BAR_GPA2	0xd0000000ull	/* ... and where it moves it */
#define PT_BAR_SIZE	0x20000u	/* the 82540EM's 128 KiB register BAR */
#define PT_TRAP_VALUE	0x5a5a5a5au	/* host's answer to a trapped read */

#define PT_E1000_STATUS	0x0008		/* 8254x SDM 13.4.2 */
#define PT_E1000_EERD	0x0014		/* 13.4.4: EEPROM read */
#define PT_EERD_START	(1u << 0)
#define PT_EERD_DONE	(1u << 4)

#define PT_E1000_ICR	0x00c0		/* 13.4.17: cause, read to clear */
#define PT_E1000_ICS	0x00c8		/* 13.4.19: cause set */
#define PT_E1000_IMS	0x00d0		/* 13.4.20: mask set */
#define PT_E1000_IMC	0x00d8		/* 13.4.21: mask clear */
#define PT_E1000_TXDW	(1u << 0)	/* a cause: transmit descriptor written back */

#define PT_VECTOR	0x41		/* the guest's vector for the e1000 */
#define PT_INTX_ROUNDS	3

#define PT_NE2K_ID	0x802910ecu	/* RTL8029 (PCI NE2000) */
#define PT_NE2K_PROM	32		/* bytes of station address PROM */
#define PT_NE2K_MOVED	0x3000		/* a port that is not the host's */
#define PT_NE2K_TRAP	0x77		/* host's answer there, decode off */

#define PCI_COMMAND_IO		0x1
#define PCI_BAR0		0x10
#define PCI_ROM			0x30
#define PCI_INTERRUPT_LINE	0x3c

#define APIC_GPA		0xfee00000ull
#define APIC_EOI		0xb0
#define APIC_SVR		0xf0
#define IOAPIC_GPA		0xfec00000ull
#define RE_LEVEL		(1u << 15)	/* 82093AA 3.2.4: trigger mode */
#define WAIT_CYCLES		400000000ull	/* seconds under Bochs */

static volatile uint64_t guest_pt_irqs;
static volatile uint8_t guest_pt_prom[PT_NE2K_PROM];
static volatile uint8_t guest_pt_prom_moved[PT_NE2K_PROM];
static volatile uint64_t guest_pt_spins;
static volatile uint64_t guest_pt_icr;

GUEST_CODE
static uint32_t pt_cfg_read(int dev, int off)
{
	outl(0xcf8, 0x80000000u | dev << 11 | off);
	return inl(0xcfc);
}

GUEST_CODE
static void pt_cfg_write(int dev, int off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | dev << 11 | off);
	outl(0xcfc, v);
}

/* The slot of device @id on bus 0; asserts there is one. */
GUEST_CODE
static int find_dev(uint32_t id)
{
	int slot = 0;

	for (int dev = 1; dev < 32; dev++)
		if (pt_cfg_read(dev, 0) == id)
			slot = dev;
	GUEST_ASSERT(slot);
	return slot;
}

GUEST_CODE
static int find_e1000(void)
{
	return find_dev(PT_E1000_ID);
}

/* EEPROM word @w through EERD; *@n counts the register accesses. */
GUEST_CODE
static uint16_t eerd(volatile uint32_t *bar, int w, uint64_t *n)
{
	uint32_t v = 0;

	bar[PT_E1000_EERD / 4] = PT_EERD_START | w << 8;
	++*n;
	for (int i = 0; i < 100000; i++) {
		v = bar[PT_E1000_EERD / 4];
		++*n;
		if (v & PT_EERD_DONE)
			break;
	}
	GUEST_ASSERT(v & PT_EERD_DONE);
	return v >> 16;
}

/*
 * SYNC(slot) once BAR0 is at PT_BAR_GPA with memory decode on; SYNC(MAC
 * words 0-2, accesses made) after reading the EEPROM there; then a read
 * with decode off (must exit: the host answers PT_TRAP_VALUE), then the
 * same EEPROM word through the BAR moved to PT_BAR_GPA2.
 */
GUEST_CODE
static void guest_pt_e1000(uint64_t unused)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;
	volatile uint32_t *bar2 = (volatile uint32_t *)PT_BAR_GPA2;
	uint64_t n = 0, mac = 0;
	uint32_t cmd, v;
	int slot;

	(void)unused;
	slot = find_e1000();
	cmd = pt_cfg_read(slot, PCI_COMMAND) & 0xffff;
	/* Size BAR0 with decoding off, as an OS does. */
	pt_cfg_write(slot, PCI_COMMAND,
		     cmd & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
	pt_cfg_write(slot, PCI_BAR0, ~0u);
	v = pt_cfg_read(slot, PCI_BAR0);
	GUEST_ASSERT_EQ(0, v & 1);			/* memory BAR */
	GUEST_ASSERT_EQ(PT_BAR_SIZE, ~(v & ~0xfu) + 1);
	pt_cfg_write(slot, PCI_ROM, ~0u);
	GUEST_ASSERT_EQ(0, pt_cfg_read(slot, PCI_ROM));	/* ROM hidden */
	pt_cfg_write(slot, PCI_BAR0, PT_BAR_GPA);
	GUEST_ASSERT_EQ(PT_BAR_GPA, pt_cfg_read(slot, PCI_BAR0) & ~0xfu);
	pt_cfg_write(slot, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	GUEST_ASSERT(pt_cfg_read(slot, PCI_COMMAND) & PCI_COMMAND_MEMORY);
	GUEST_SYNC(slot);

	for (int w = 0; w < 3; w++)
		mac |= (uint64_t)eerd(bar, w, &n) << (16 * w);
	GUEST_SYNC_ARGS(mac, n, 0, 0);

	pt_cfg_write(slot, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	GUEST_ASSERT_EQ(PT_TRAP_VALUE, bar[PT_E1000_STATUS / 4]);

	pt_cfg_write(slot, PCI_BAR0, PT_BAR_GPA2);
	pt_cfg_write(slot, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	n = 0;
	GUEST_ASSERT_EQ(mac & 0xffff, eerd(bar2, 0, &n));
	GUEST_DONE();
}

/* The e1000's interrupt: read ICR (which deasserts INTx), then EOI. */
void guest_pt_irq_c(void);
GUEST_CODE
void guest_pt_irq_c(void)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;

	guest_pt_icr |= bar[PT_E1000_ICR / 4];
	guest_pt_irqs++;
	*(volatile uint32_t *)(APIC_GPA + APIC_EOI) = 0;
}

void guest_pt_irq_stub(void);
asm(".pushsection .text.guest, \"ax\", @progbits\n"
    ".globl guest_pt_irq_stub\n"
    "guest_pt_irq_stub:\n\t"
    "pushq %rax\n\tpushq %rcx\n\tpushq %rdx\n\tpushq %rsi\n\tpushq %rdi\n\t"
    "pushq %r8\n\tpushq %r9\n\tpushq %r10\n\tpushq %r11\n\t"
    "call guest_pt_irq_c\n\t"
    "popq %r11\n\tpopq %r10\n\tpopq %r9\n\tpopq %r8\n\tpopq %rdi\n\t"
    "popq %rsi\n\tpopq %rdx\n\tpopq %rcx\n\tpopq %rax\n\t"
    "iretq\n"
    ".popsection");

GUEST_CODE
static void ioapic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)IOAPIC_GPA = reg;
	*(volatile uint32_t *)(IOAPIC_GPA + 0x10) = val;
}

/*
 * SYNC(GSI from the Interrupt Line register) with the e1000's BAR0 at
 * PT_BAR_GPA, its GSI routed level-triggered to PT_VECTOR on APIC 0 and
 * interrupts on; then PT_INTX_ROUNDS times: unmask TXDW (IMS) and set it
 * (ICS), wait for the interrupt; SYNC(interrupts, ICR bits seen).
 */
GUEST_CODE
static uint32_t intx_setup(void)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;
	uint32_t cmd, gsi;
	int slot;

	slot = find_e1000();
	GUEST_ASSERT((pt_cfg_read(slot, PCI_INTERRUPT_LINE) >> 8 & 0xff) != 0);
	gsi = pt_cfg_read(slot, PCI_INTERRUPT_LINE) & 0xff;
	cmd = pt_cfg_read(slot, PCI_COMMAND) & 0xffff;
	pt_cfg_write(slot, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	pt_cfg_write(slot, PCI_BAR0, PT_BAR_GPA);
	/* Memory decode on, INTx Disable (bit 10) off. */
	pt_cfg_write(slot, PCI_COMMAND,
		     (cmd | PCI_COMMAND_MEMORY) & ~(1u << 10));
	bar[PT_E1000_IMC / 4] = ~0u;
	(void)bar[PT_E1000_ICR / 4];
	ioapic_write(0x11 + 2 * gsi, 0);		/* destination APIC 0 */
	ioapic_write(0x10 + 2 * gsi, PT_VECTOR | RE_LEVEL);
	*(volatile uint32_t *)(APIC_GPA + APIC_SVR) = 0x1ff;
	asm volatile("sti" : : : "memory");
	return gsi;
}

GUEST_CODE
static void guest_pt_intx(uint64_t unused)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;

	(void)unused;
	GUEST_SYNC(intx_setup());

	for (uint64_t k = 1; k <= PT_INTX_ROUNDS; k++) {
		uint64_t t0 = guest_rdtsc();

		bar[PT_E1000_IMS / 4] = PT_E1000_TXDW;
		bar[PT_E1000_ICS / 4] = PT_E1000_TXDW;
		while (guest_pt_irqs < k) {
			asm volatile("pause");
			GUEST_ASSERT(guest_rdtsc() - t0 < WAIT_CYCLES);
		}
	}
	bar[PT_E1000_IMC / 4] = ~0u;
	GUEST_SYNC_ARGS(guest_pt_irqs, guest_pt_icr, 0, 0);
	GUEST_DONE();
}

/*
 * The NE2000's station address PROM through remote DMA (DP8390D
 * datasheet, "Remote DMA"; as ne2k-pci reads it): stop, byte-wide
 * transfers, 32 bytes from address 0, remote read, then the data port,
 * into @prom. Returns the port accesses made.
 */
GUEST_CODE
static uint64_t ne2k_prom(uint16_t io, volatile uint8_t *prom)
{
	uint64_t n = 0;

	outb(io + 0x00, 0x21);		/* CR: page 0, STOP, abort DMA */
	outb(io + 0x0e, 0x48);		/* DCR: byte-wide, FIFO 8 */
	outb(io + 0x0a, PT_NE2K_PROM);	/* RBCR0 */
	outb(io + 0x0b, 0);		/* RBCR1 */
	outb(io + 0x08, 0);		/* RSAR0 */
	outb(io + 0x09, 0);		/* RSAR1 */
	outb(io + 0x00, 0x0a);		/* CR: remote read, START */
	n += 7;
	for (int i = 0; i < PT_NE2K_PROM; i++, n++)
		prom[i] = inb(io + 0x10);
	return n;
}

/*
 * SYNC(I/O BAR port) with I/O decode on and the BAR where the host has
 * it; SYNC(port accesses) after reading the PROM into guest_pt_prom
 * (passed through); the BAR moved to PT_NE2K_MOVED: SYNC(port accesses)
 * after reading it into guest_pt_prom_moved (forwarded in the kernel);
 * back at the host's port: SYNC(port accesses) after reading it again
 * (passed through again); then moved with I/O decode off, where a read
 * exits to userspace (the host answers PT_NE2K_TRAP).
 */
GUEST_CODE
static void guest_pt_ne2k(uint64_t unused)
{
	uint32_t bar, cmd;
	uint16_t io;
	int slot;

	(void)unused;
	slot = find_dev(PT_NE2K_ID);
	bar = pt_cfg_read(slot, PCI_BAR0);
	GUEST_ASSERT(bar & 1);				/* an I/O BAR */
	io = bar & ~3u;
	cmd = pt_cfg_read(slot, PCI_COMMAND) & 0xffff;
	pt_cfg_write(slot, PCI_COMMAND, cmd | PCI_COMMAND_IO);
	GUEST_SYNC(io);
	GUEST_SYNC(ne2k_prom(io, guest_pt_prom));
	pt_cfg_write(slot, PCI_BAR0, PT_NE2K_MOVED);
	GUEST_ASSERT_EQ(PT_NE2K_MOVED | 1, pt_cfg_read(slot, PCI_BAR0));
	GUEST_SYNC(ne2k_prom(PT_NE2K_MOVED, guest_pt_prom_moved));
	pt_cfg_write(slot, PCI_BAR0, io);
	GUEST_SYNC(ne2k_prom(io, guest_pt_prom));
	pt_cfg_write(slot, PCI_BAR0, PT_NE2K_MOVED);
	pt_cfg_write(slot, PCI_COMMAND, cmd & ~PCI_COMMAND_IO);
	GUEST_ASSERT_EQ(PT_NE2K_TRAP, inb(PT_NE2K_MOVED));
	GUEST_DONE();
}

/*
 * The NE2000's I/O BAR at the host's ports, I/O decode on: SYNC(port),
 * then read its command register forever, counting in guest_pt_spins.
 * Passed through, the reads do not exit; once the host revokes the
 * ports, the next one exits to userspace.
 */
GUEST_CODE
static void guest_pt_port_spin(uint64_t unused)
{
	uint16_t io;
	int slot;

	(void)unused;
	slot = find_dev(PT_NE2K_ID);
	io = pt_cfg_read(slot, PCI_BAR0) & ~3u;
	pt_cfg_write(slot, PCI_COMMAND,
		     pt_cfg_read(slot, PCI_COMMAND) | PCI_COMMAND_IO);
	GUEST_SYNC(io);
	for (;;) {
		inb(io);
		guest_pt_spins++;
	}
}

/*
 * With BAR0 at PT_BAR_GPA (the host put it there through the device fd):
 * SYNC(STATUS); after the host unassigned the device, the same read exits
 * (the host answers PT_TRAP_VALUE) and no e1000 is left on the bus.
 */
GUEST_CODE
static void guest_pt_unassigned(uint64_t unused)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;

	(void)unused;
	GUEST_SYNC(bar[PT_E1000_STATUS / 4]);
	GUEST_ASSERT_EQ(PT_TRAP_VALUE, bar[PT_E1000_STATUS / 4]);
	for (int dev = 1; dev < 32; dev++)
		GUEST_ASSERT(pt_cfg_read(dev, 0) != PT_E1000_ID);
	GUEST_DONE();
}

/* SYNC(GSI), then interrupts from the e1000 back to back, forever. */
GUEST_CODE
static void guest_pt_storm(uint64_t unused)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;

	(void)unused;
	GUEST_SYNC(intx_setup());
	for (;;) {
		uint64_t k = guest_pt_irqs;

		bar[PT_E1000_IMS / 4] = PT_E1000_TXDW;
		bar[PT_E1000_ICS / 4] = PT_E1000_TXDW;
		while (guest_pt_irqs == k)
			asm volatile("pause");
	}
}

/* @n WBINVDs, then SYNC(n). */
GUEST_CODE
static void guest_pt_wbinvd(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		asm volatile("wbinvd" : : : "memory");
	GUEST_SYNC(n);
}

/*
 * BAR0 of the e1000 at PT_BAR_GPA, decode on: SYNC(0); then @n times
 * memory decode off and on (two remaps each): SYNC(n); then EEPROM word
 * 0 through the BAR: SYNC(word).
 */
GUEST_CODE
static void guest_pt_toggles(uint64_t n)
{
	int slot = find_e1000();
	uint64_t accesses = 0;
	uint32_t cmd;

	cmd = pt_cfg_read(slot, PCI_COMMAND) & 0xffff;
	pt_cfg_write(slot, PCI_BAR0, PT_BAR_GPA);
	pt_cfg_write(slot, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	GUEST_SYNC(0);
	for (uint64_t i = 0; i < n; i++) {
		pt_cfg_write(slot, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
		pt_cfg_write(slot, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	}
	GUEST_SYNC(n);
	GUEST_SYNC(eerd((volatile uint32_t *)PT_BAR_GPA, 0, &accesses));
}

/* Host code of the guest side. */

static uint64_t sum_user_exits(const struct hvx_stats *st)
{
	uint64_t s = 0;

	for (int i = 0; i < HVX_STATS_USER_EXITS; i++)
		s += st->user_exits[i];
	return s;
}

/* EEPROM words 0-2 of the e1000 through the device fd's BAR0 mapping. */
static uint64_t host_mac(int dfd)
{
	volatile uint32_t *bar = map_bar(dfd, 0, PT_BAR_SIZE);
	uint64_t mac = 0;

	if (!bar)
		return 0;
	for (int w = 0; w < 3; w++) {
		bar[E1000_EERD / 4] = E1000_EERD_START | w << 8;
		for (int i = 0; i < 1000 && !(bar[E1000_EERD / 4] & E1000_EERD_DONE); i++)
			msleep(1);
		mac |= (uint64_t)(bar[E1000_EERD / 4] >> 16) << (16 * w);
	}
	munmap((void *)bar, PT_BAR_SIZE);
	return mac;
}

/*
 * Assign a device to a VM with the in-kernel PCI bus (unsafe no-IOMMU
 * mode where there is no IOMMU); returns the device fd or -errno.
 */
static int assign_to_guest(struct vm *vm, const char *addr, uint32_t devices)
{
	struct hvx_platform_config c = { .devices = devices };
	struct hvx_pci_device d = pci_dev_of(addr);
	bool noiommu = !has_iommu_group(addr);
	int dfd;

	if (ioctl(vm->fd, HVX_CREATE_PLATFORM, &c))
		return -errno;
	if (stub_bind(addr))
		return -EBUSY;
	if (noiommu && write_str(NOIOMMU_PARAM, "1"))
		return -errno;
	dfd = ioctl(vm->fd, HVX_ASSIGN_DEVICE, &d);
	if (dfd < 0)
		dfd = -errno;
	if (noiommu)
		write_str(NOIOMMU_PARAM, "0");
	return dfd;
}

/*
 * vCPU 0 of @vm runs guest_pt_e1000 to its slot sync, then through its
 * pass over the e1000's registers (@uc), with the VM's statistics before
 * (@s0) and after (@s1) that pass.
 */
static struct vcpu *e1000_guest_pass(struct __test_metadata *_metadata,
				     struct vm *vm, struct ucall *uc,
				     struct hvx_stats *s0, struct hvx_stats *s1)
{
	struct vcpu *vcpu = vcpu_create(vm, 0);

	vcpu_setup_long(vcpu, guest_pt_e1000, 0);
	ASSERT_LE(1, vcpu_run_sync(vcpu));		/* slot */
	ASSERT_EQ(0, hvx_nl_own_stats(s0));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, uc));
	ASSERT_EQ(0, hvx_nl_own_stats(s1));
	ASSERT_LE(6, uc->args[1]);			/* register accesses */
	return vcpu;
}

/*
 * The e1000 on the guest's PCI bus: BAR sizing, ROM hidden, the guest's
 * address taken; its registers read with no exit at all (no EPT violation,
 * nothing to userspace but the ucall); with decode off the same read is an
 * HVX_EXIT_MMIO; the moved BAR works again.
 */
TEST(guest_bar_in_ept_no_exits)
{
	struct hvx_stats s0, s1;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t mac;
	char addr[32];
	int dfd;

	REQUIRE_VMX();
	if (!find_pci(E1000_VENDOR, E1000_DEVICE, addr))
		SKIP(return, "needs an e1000 (Bochs)");
	vm = vm_create();
	dfd = assign_to_guest(vm, addr, HVX_PLATFORM_PCI);
	ASSERT_LE(0, dfd) TH_LOG("assign: %s", strerrorname_np(-dfd));
	mac = host_mac(dfd);
	ASSERT_EQ(0x5452, mac & 0xffff) TH_LOG("host MAC %#lx", mac);

	vcpu = e1000_guest_pass(_metadata, vm, &uc, &s0, &s1);
	ASSERT_EQ(mac, uc.args[0]);
	/* No access trapped; first touches of RAM pages are all there was. */
	ASSERT_EQ(s0.ept_mmio, s1.ept_mmio);
	ASSERT_EQ(s1.ept_violations - s0.ept_violations,
		  s1.ept_maps_4k + s1.ept_maps_2m + s1.ept_maps_1g -
		  s0.ept_maps_4k - s0.ept_maps_2m - s0.ept_maps_1g);
	ASSERT_EQ(1, sum_user_exits(&s1) - sum_user_exits(&s0));

	/* Decode off: the BAR left the EPT, so the read exits. */
	vcpu_run(vcpu);
	ASSERT_EQ(HVX_EXIT_MMIO, vcpu->run->exit_reason)
		TH_LOG("exit %s", vcpu_exit_str(vcpu));
	ASSERT_EQ(PT_BAR_GPA + PT_E1000_STATUS, vcpu->run->mmio.phys_addr);
	ASSERT_EQ(0, vcpu->run->mmio.is_write);
	ASSERT_EQ(4, vcpu->run->mmio.len);
	*(uint32_t *)vcpu->run->mmio.data = PT_TRAP_VALUE;
	vcpu_run_done(vcpu);

	close(dfd);
	vm_free(vm);
}

/*
 * spec_verw=mmio (MMIO stale data): a VM with a device's BAR in its EPT
 * gets VERW before every entry. The module is loaded again with that
 * parameter, and with none at the end. (spec_test checks that VMs
 * without device memory, the APIC-access page's included, get none.)
 */
TEST(guest_bar_verw_mmio)
{
	const char *ko = getenv("HVX_KO");
	struct hvx_stats s0, s1;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	char addr[32];
	int dfd, ret;

	REQUIRE_VMX();
	if (!find_pci(E1000_VENDOR, E1000_DEVICE, addr))
		SKIP(return, "needs an e1000 (Bochs)");
	if (!ko || access(ko, R_OK))
		SKIP(return, "HVX_KO not set: no reload with spec_verw=mmio");
	ASSERT_TRUE(wait_for_refcnt(0, 5000));
	ASSERT_EQ(0, unload_module("hvx"));
	ret = load_module_params(ko, "spec_verw=mmio");
	ASSERT_EQ(0, ret) TH_LOG("finit_module: %s", strerrorname_np(-ret));
	for (int i = 0; i < 200 && access(HVX_DEV, R_OK); i++)
		msleep(10);

	vm = vm_create();
	dfd = assign_to_guest(vm, addr, HVX_PLATFORM_PCI);
	ASSERT_LE(0, dfd) TH_LOG("assign: %s", strerrorname_np(-dfd));
	vcpu = e1000_guest_pass(_metadata, vm, &uc, &s0, &s1);
	/* The BAR was mapped from the first of these entries on. */
	EXPECT_LT(0, s1.exits - s0.exits);
	EXPECT_EQ(s1.exits - s0.exits, s1.verw - s0.verw);
	close(dfd);
	vcpu_free(vcpu);
	vm_free(vm);

	ASSERT_TRUE(wait_for_refcnt(0, 5000));
	ASSERT_EQ(0, unload_module("hvx"));
	ASSERT_EQ(0, load_module(ko));
	for (int i = 0; i < 200 && access(HVX_DEV, R_OK); i++)
		msleep(10);
}

#define EXIT_REASON_WBINVD	54

/* Run guest_pt_wbinvd(@n) on a new vCPU of @vm; its statistics after. */
static struct hvx_stats run_wbinvds(struct __test_metadata *_metadata,
				    struct vm *vm, uint64_t n)
{
	struct vcpu *vcpu = vcpu_create(vm, 0);
	struct hvx_stats st;

	vcpu_setup_long(vcpu, guest_pt_wbinvd, n);
	EXPECT_EQ(n, vcpu_run_sync(vcpu));
	EXPECT_EQ(0, hvx_nl_own_stats(&st));
	vcpu_run_done(vcpu);
	return st;
}

/*
 * A guest WBINVD is skipped while all DMA of the VM is snooped, and
 * carried out while a device that may bypass the caches is assigned:
 * here the e1000 without an IOMMU (Bochs has none), as KVM does for
 * non-coherent DMA.
 */
TEST(guest_wbinvd_noncoherent_dma)
{
	struct hvx_stats st;
	struct vm *vm;
	char addr[32];
	int dfd;

	REQUIRE_VMX();
	vm = vm_create();
	st = run_wbinvds(_metadata, vm, 3);
	EXPECT_LE(3, st.exits_by_reason[EXIT_REASON_WBINVD]);
	EXPECT_EQ(0, st.wbinvd_flushes) TH_LOG("no device: WBINVD carried out");
	vm_free(vm);

	if (!find_pci(E1000_VENDOR, E1000_DEVICE, addr) || has_iommu_group(addr))
		SKIP(return, "needs an e1000 without an IOMMU (Bochs)");
	vm = vm_create();
	dfd = assign_to_guest(vm, addr, HVX_PLATFORM_PCI);
	ASSERT_LE(0, dfd) TH_LOG("assign: %s", strerrorname_np(-dfd));
	st = run_wbinvds(_metadata, vm, 3);
	EXPECT_EQ(3, st.wbinvd_flushes);
	close(dfd);
	vm_free(vm);
}

/*
 * A guest that keeps toggling memory decode (each toggle unmaps or maps
 * the BAR and flushes the EPT) gets 64 remaps a second: 200 remaps take
 * at least three seconds, where they take well under one unthrottled.
 * The BAR works afterwards.
 */
TEST(guest_bar_remaps_rate_limited)
{
	struct timespec t0, t1;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	uint64_t mac;
	char addr[32];
	double secs;
	int dfd;

	REQUIRE_VMX();
	if (!find_pci(E1000_VENDOR, E1000_DEVICE, addr))
		SKIP(return, "needs an e1000 (Bochs)");
	vm = vm_create();
	dfd = assign_to_guest(vm, addr, HVX_PLATFORM_PCI);
	ASSERT_LE(0, dfd) TH_LOG("assign: %s", strerrorname_np(-dfd));
	mac = host_mac(dfd);
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_pt_toggles, 100);
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(100, vcpu_run_sync(vcpu));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	EXPECT_LE(2.5, secs) TH_LOG("200 remaps in %.2f s: not rate-limited",
				    secs);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(mac & 0xffff, uc.args[0]);
	close(dfd);
	vm_free(vm);
}

/*
 * The e1000's INTx in the guest: wired to an I/O APIC GSI (the Interrupt
 * Line register says which), raised from the host's interrupt handler
 * and lowered and unmasked by the guest's EOI. Three rounds of ICS with
 * IMS set each reach the guest's vector, so the line is unmasked after
 * every EOI; only the ucalls reach userspace.
 */
TEST(guest_intx_to_ioapic)
{
	struct hvx_stats s0, s1;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;
	char addr[32];
	uint64_t gsi;
	int dfd;

	REQUIRE_VMX();
	if (!find_pci(E1000_VENDOR, E1000_DEVICE, addr))
		SKIP(return, "needs an e1000 (Bochs)");
	vm = vm_create();
	dfd = assign_to_guest(vm, addr, HVX_PLATFORM_PCI |
				    HVX_PLATFORM_LAPIC | HVX_PLATFORM_IOAPIC);
	ASSERT_LE(0, dfd) TH_LOG("assign: %s", strerrorname_np(-dfd));
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_pt_intx, 0);
	vcpu_set_idt_gate(vcpu, PT_VECTOR, (uint64_t)guest_pt_irq_stub);
	gsi = vcpu_run_sync(vcpu);
	ASSERT_LE(16, gsi);
	ASSERT_GE(19, gsi);
	ASSERT_EQ(0, hvx_nl_own_stats(&s0));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0, hvx_nl_own_stats(&s1));
	ASSERT_EQ(PT_INTX_ROUNDS, uc.args[0]);
	ASSERT_EQ(PT_E1000_TXDW, uc.args[1] & PT_E1000_TXDW);
	ASSERT_EQ(1, sum_user_exits(&s1) - sum_user_exits(&s0));
	vcpu_run_done(vcpu);
	close(dfd);
	vm_free(vm);
}

static uint64_t leaves_4k(struct vm *vm)
{
	struct hvx_mem_info info;

	if (ioctl(vm->fd, HVX_GET_MEM_INFO, &info))
		return ~0ull;
	return info.leaves_4k;
}

/* Set BAR0 and the memory-decode bit of the virtual config space. */
static int set_bar0(int dfd, uint32_t addr, bool decode)
{
	uint16_t cmd;

	if (cfg_read(dfd, PCI_COMMAND, &cmd, 2))
		return -1;
	cmd &= ~PCI_COMMAND_MEMORY;
	if (cfg_write(dfd, PCI_COMMAND, &cmd, 2) ||
	    cfg_write(dfd, 0x10, &addr, 4))
		return -1;
	cmd |= decode ? PCI_COMMAND_MEMORY : 0;
	return cfg_write(dfd, PCI_COMMAND, &cmd, 2);
}

/*
 * The EPT follows BAR changes made through the device fd, exactly: 32
 * leaves (128 KiB) while decode is on and the BAR sits outside RAM, none
 * when it is moved over RAM (refused: RAM wins) or decode is off; no slot
 * can be created over the mapped BAR; unassigning zaps it, so the
 * guest's next access exits, and the function leaves the guest's bus.
 */
TEST(guest_bar_follows_and_unassign_zaps)
{
	struct hvx_pci_device d;
	struct vcpu *vcpu;
	uint64_t l0, l1, status = 0;
	struct vm *vm;
	char addr[32];
	int dfd;

	REQUIRE_VMX();
	if (!find_pci(E1000_VENDOR, E1000_DEVICE, addr))
		SKIP(return, "needs an e1000 (Bochs)");
	vm = vm_create();
	dfd = assign_to_guest(vm, addr, HVX_PLATFORM_PCI);
	ASSERT_LE(0, dfd) TH_LOG("assign: %s", strerrorname_np(-dfd));
	d = pci_dev_of(addr);

	/* Assigned with decode on at the host's address: mapped there. */
	l0 = leaves_4k(vm);
	ASSERT_EQ(0, set_bar0(dfd, PT_BAR_GPA, false));
	ASSERT_EQ(l0 - PT_BAR_SIZE / 4096, leaves_4k(vm));
	ASSERT_EQ(0, set_bar0(dfd, PT_BAR_GPA, true));
	ASSERT_EQ(l0, leaves_4k(vm));
	ASSERT_ERRNO(EEXIST, __vm_set_memory_region(vm->fd, 5, 0, PT_BAR_GPA,
						    0x200000, vm->ram));
	ASSERT_EQ(0, set_bar0(dfd, 0x200000, true));	/* over RAM */
	ASSERT_EQ(l0 - PT_BAR_SIZE / 4096, leaves_4k(vm));
	ASSERT_EQ(0, set_bar0(dfd, PT_BAR_GPA, true));
	ASSERT_EQ(l0, leaves_4k(vm));

	ASSERT_EQ(0, pread(dfd, &status, 4, HVX_PCI_REGION_OFFSET(0) + E1000_STATUS) - 4);
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_pt_unassigned, 0);
	ASSERT_EQ((uint32_t)status, vcpu_run_sync(vcpu));

	l1 = leaves_4k(vm);
	ASSERT_EQ(0, ioctl(vm->fd, HVX_UNASSIGN_DEVICE, &d));
	ASSERT_EQ(l1 - PT_BAR_SIZE / 4096, leaves_4k(vm));
	vcpu_run(vcpu);
	ASSERT_EQ(HVX_EXIT_MMIO, vcpu->run->exit_reason)
		TH_LOG("exit %s", vcpu_exit_str(vcpu));
	ASSERT_EQ(PT_BAR_GPA + PT_E1000_STATUS, vcpu->run->mmio.phys_addr);
	*(uint32_t *)vcpu->run->mmio.data = PT_TRAP_VALUE;
	vcpu_run_done(vcpu);
	close(dfd);
	vm_free(vm);
}

/*
 * kill -9 of a process whose guest takes the e1000's interrupts back to
 * back through its mapped BAR: the device is released (back to the stub,
 * assignable again, its registers still answer through a new device fd).
 */
TEST(guest_kill9_with_interrupts_releases)
{
	int pipefd[2], status, dfd;
	char addr[32], c = 'n';
	struct vm *vm;
	pid_t pid;

	REQUIRE_VMX();
	if (!find_pci(E1000_VENDOR, E1000_DEVICE, addr))
		SKIP(return, "needs an e1000 (Bochs)");
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vcpu *vcpu;

		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* if the test fails */
		vm = vm_create();
		dfd = assign_to_guest(vm, addr, HVX_PLATFORM_PCI |
				      HVX_PLATFORM_LAPIC | HVX_PLATFORM_IOAPIC);
		if (dfd < 0)
			_exit(1);
		vcpu = vcpu_create(vm, 0);
		vcpu_setup_long(vcpu, guest_pt_storm, 0);
		vcpu_set_idt_gate(vcpu, PT_VECTOR, (uint64_t)guest_pt_irq_stub);
		vcpu_run_sync(vcpu);
		if (write(pipefd[1], "y", 1) != 1)
			_exit(1);
		vcpu_run(vcpu);		/* never returns: interrupts forever */
		_exit(1);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	ASSERT_EQ('y', c) TH_LOG("the child's guest did not start");
	msleep(200);
	ASSERT_STREQ("hvx-pci", driver_of(addr));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_STREQ(STUB, driver_of(addr));

	vm = vm_create();
	dfd = assign_to_guest(vm, addr, HVX_PLATFORM_PCI);
	ASSERT_LE(0, dfd) TH_LOG("after kill -9: %s", strerrorname_np(-dfd));
	ASSERT_EQ(0x5452, host_mac(dfd) & 0xffff);
	close(dfd);
	vm_free(vm);
}

#define EXIT_REASON_IO	30	/* SDM Vol. 3D, Appendix C */
#define NE2K_VENDOR	0x10ec
#define NE2K_DEVICE	0x8029

/* One byte of the NE2000's I/O BAR 0 through the device fd. */
static int ne2k_io(int dfd, unsigned int off, uint8_t *v, bool write)
{
	off_t pos = HVX_PCI_REGION_OFFSET(0) + off;

	return (write ? pwrite(dfd, v, 1, pos) : pread(dfd, v, 1, pos)) == 1 ?
	       0 : -1;
}

/* The PROM as the host reads it through the device fd (as the guest does). */
static int host_ne2k_prom(int dfd, uint8_t *prom)
{
	static const uint8_t seq[][2] = {
		{ 0x00, 0x21 }, { 0x0e, 0x48 }, { 0x0a, PT_NE2K_PROM },
		{ 0x0b, 0 }, { 0x08, 0 }, { 0x09, 0 }, { 0x00, 0x0a },
	};
	uint8_t v;

	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		v = seq[i][1];
		if (ne2k_io(dfd, seq[i][0], &v, true))
			return -1;
	}
	for (int i = 0; i < PT_NE2K_PROM; i++)
		if (ne2k_io(dfd, 0x10, &prom[i], false))
			return -1;
	return 0;
}

/* IO_INSTRUCTION exits and exits to userspace between two statistics. */
static void io_exits(const struct hvx_stats *a, const struct hvx_stats *b,
		     uint64_t *io, uint64_t *user)
{
	*io = b->exits_by_reason[EXIT_REASON_IO] - a->exits_by_reason[EXIT_REASON_IO];
	*user = sum_user_exits(b) - sum_user_exits(a);
}

/*
 * The NE2000's I/O BAR in the guest: left at the host's ports it is
 * passed through with the VMX I/O bitmap, so reading the PROM (39 port
 * accesses) exits only for the ucall, and the bytes are the ones the host
 * reads. Moved to another port, each access exits but is forwarded to the
 * host's port in the kernel: the same bytes, 39 I/O exits more, still
 * only the ucall in userspace. Moved back, no exits again; with I/O
 * decode off the moved port is unclaimed and exits to userspace.
 */
TEST(guest_io_bar_passthrough)
{
	uint8_t host_prom[PT_NE2K_PROM];
	struct hvx_stats s0, s1, s2, s3;
	uint64_t n, io, user;
	struct vcpu *vcpu;
	struct vm *vm;
	char addr[32];
	int dfd;

	REQUIRE_VMX();
	if (!find_pci(NE2K_VENDOR, NE2K_DEVICE, addr))
		SKIP(return, "needs a PCI NE2000 (Bochs)");
	vm = vm_create();
	dfd = assign_to_guest(vm, addr, HVX_PLATFORM_PCI);
	ASSERT_LE(0, dfd) TH_LOG("assign: %s", strerrorname_np(-dfd));
	ASSERT_EQ(0, host_ne2k_prom(dfd, host_prom));

	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_pt_ne2k, 0);
	ASSERT_EQ(sysfs_hex(addr, "resource") & ~3ul, vcpu_run_sync(vcpu))
		TH_LOG("the guest sees the host's port");
	ASSERT_EQ(0, hvx_nl_own_stats(&s0));
	n = vcpu_run_sync(vcpu);
	ASSERT_EQ(0, hvx_nl_own_stats(&s1));
	ASSERT_EQ(39, n);
	io_exits(&s0, &s1, &io, &user);
	ASSERT_EQ(1, io);		/* the ucall */
	ASSERT_EQ(1, user);
	ASSERT_EQ(0, memcmp(host_prom, vm_gpa2hva(vm, (uint64_t)guest_pt_prom,
						  PT_NE2K_PROM), PT_NE2K_PROM));

	/* Moved: forwarded in the kernel (BAR write 2 + read 2, ucall 1). */
	ASSERT_EQ(39, vcpu_run_sync(vcpu));
	ASSERT_EQ(0, hvx_nl_own_stats(&s2));
	io_exits(&s1, &s2, &io, &user);
	ASSERT_EQ(39 + 2 + 2 + 1, io);
	ASSERT_EQ(1, user) TH_LOG("moved-port accesses went to userspace");
	ASSERT_EQ(0, memcmp(host_prom,
			    vm_gpa2hva(vm, (uint64_t)guest_pt_prom_moved,
				       PT_NE2K_PROM), PT_NE2K_PROM));

	/* Back at the host's port: passed through again (BAR write 2). */
	memset(vm_gpa2hva(vm, (uint64_t)guest_pt_prom, PT_NE2K_PROM), 0,
	       PT_NE2K_PROM);
	ASSERT_EQ(39, vcpu_run_sync(vcpu));
	ASSERT_EQ(0, hvx_nl_own_stats(&s3));
	io_exits(&s2, &s3, &io, &user);
	ASSERT_EQ(2 + 1, io);
	ASSERT_EQ(1, user);
	ASSERT_EQ(0, memcmp(host_prom, vm_gpa2hva(vm, (uint64_t)guest_pt_prom,
						  PT_NE2K_PROM), PT_NE2K_PROM));

	/* Moved with I/O decode off: unclaimed, so it exits. */
	vcpu_run(vcpu);
	ASSERT_EQ(HVX_EXIT_IO, vcpu->run->exit_reason)
		TH_LOG("exit %s", vcpu_exit_str(vcpu));
	ASSERT_EQ(PT_NE2K_MOVED, vcpu->run->io.port);
	*(uint8_t *)vcpu_io_data(vcpu) = PT_NE2K_TRAP;
	vcpu_run_done(vcpu);
	close(dfd);
	vm_free(vm);
	/* Handed back: driverless again, as run_test expects to find it. */
	ASSERT_EQ(0, stub_unbind(addr));
}

struct spinner {
	struct vcpu *vcpu;
	volatile int exited;	/* HVX_RUN returned */
	int ret;
};

static void *spinner_thread(void *arg)
{
	struct spinner *sp = arg;

	sp->ret = __vcpu_run(sp->vcpu);
	sp->exited = 1;
	return NULL;
}

/*
 * Revoking passed-through ports while a vCPU runs guest code that uses
 * them: HVX_UNASSIGN_DEVICE returns (with 2 CPUs, after an IPI made the
 * vCPU leave guest mode and was waited for), and the guest's next IN
 * exits to userspace at that port.
 */
TEST(guest_ports_revoked_under_running_vcpu)
{
	struct spinner sp = { 0 };
	struct hvx_pci_device d;
	uint64_t io, spins;
	struct vm *vm;
	char addr[32];
	pthread_t t;
	int dfd;

	REQUIRE_VMX();
	if (!find_pci(NE2K_VENDOR, NE2K_DEVICE, addr))
		SKIP(return, "needs a PCI NE2000 (Bochs)");
	d = pci_dev_of(addr);
	vm = vm_create();
	dfd = assign_to_guest(vm, addr, HVX_PLATFORM_PCI);
	ASSERT_LE(0, dfd) TH_LOG("assign: %s", strerrorname_np(-dfd));
	sp.vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(sp.vcpu, guest_pt_port_spin, 0);
	io = vcpu_run_sync(sp.vcpu);
	ASSERT_EQ(sysfs_hex(addr, "resource") & ~3ul, io);
	ASSERT_EQ(0, pthread_create(&t, NULL, spinner_thread, &sp));
	for (int i = 0; i < 2000 && guest_var(vm, guest_pt_spins) < 1000; i++)
		msleep(1);
	ASSERT_LE(1000, guest_var(vm, guest_pt_spins))
		TH_LOG("the guest's reads of the passed-through port do not run");
	ASSERT_FALSE(sp.exited) TH_LOG("exit %s", vcpu_exit_str(sp.vcpu));

	ASSERT_EQ(0, ioctl(vm->fd, HVX_UNASSIGN_DEVICE, &d));
	for (int i = 0; i < 5000 && !sp.exited; i++)
		msleep(1);
	ASSERT_TRUE(sp.exited) TH_LOG("the vCPU still reads the revoked port");
	pthread_join(t, NULL);
	ASSERT_EQ(0, sp.ret);
	ASSERT_EQ(HVX_EXIT_IO, sp.vcpu->run->exit_reason)
		TH_LOG("exit %s", vcpu_exit_str(sp.vcpu));
	ASSERT_EQ(io, sp.vcpu->run->io.port);
	spins = guest_var(vm, guest_pt_spins);
	msleep(20);
	ASSERT_EQ(spins, guest_var(vm, guest_pt_spins));
	close(dfd);
	vm_free(vm);
	ASSERT_EQ(0, stub_unbind(addr));
}

TEST_HARNESS_MAIN
