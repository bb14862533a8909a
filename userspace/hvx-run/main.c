// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run - boot a Linux kernel (or a multiboot or flat test kernel) in an
 * hvx VM, with the guest's serial console on stdio.
 *
 *   hvx-run --kernel FILE [--initrd FILE] [--append CMDLINE] [--mem SIZE]
 *           [--cpus N] [--hugepages] [--flat ADDR] [--entry 32|64]
 *           [--no-acpi] [--no-pv] [--summary] [--dev PATH] [--quiet]
 *           [--device BDF]... [--disk FILE[,ro][,serial=S]]...
 *           [--net tap=NAME[,mac=M]]... [--save FILE]
 *   hvx-run --restore FILE [--save FILE] [--hugepages] [--summary] [--dev PATH]
 *           [--quiet] [--disk FILE[,ro][,serial=S]]...
 *           [--net tap=NAME[,mac=M]]... (the saved VM's)
 *   hvx-run --incoming tcp:HOST:PORT [the options of --restore]
 *   (--migrate tcp:HOST:PORT [--max-downtime MS] instead of --save)
 *
 * Exit status: 0 when the guest powers off, resets, or halts every vCPU
 * (or on Ctrl-A x); (v << 1) | 1 when it writes v to the debug-exit port
 * 0xf4; 128 + signal on SIGINT/SIGTERM/SIGHUP; 1 on an error of the
 * launcher or a guest failure (triple fault, failed VM entry, internal
 * error: printed with the guest's registers); 2 on a bad option. Every
 * error is one line on stderr starting with "hvx-run: ".
 *
 * Threads: one per vCPU, each looping on HVX_RUN and serving the ports
 * hvx leaves to userspace; the main thread owns the console and the
 * signals (signalfd) and stops the vCPUs (immediate_exit plus SIGUSR2,
 * KICK_SIGNAL). SIGUSR1 asks for a snapshot (--save, snapshot.c): the
 * main thread takes every vCPU thread out of HVX_RUN and joins it, writes
 * the file and exits 0; if the VM cannot be saved it says why in one
 * line and starts the vCPU threads again. With --migrate instead,
 * SIGUSR1 starts a live migration (migrate.c): a thread sends the RAM
 * while the vCPUs run, then the main thread pauses them, sends the rest
 * and exits once the destination runs the VM, or starts them again.
 * hvxctl save and hvxctl migrate ask the same through hvx (HVX_CMD_REQUEST):
 * the VM fd polls readable, the main thread takes the request and does
 * it with the file or address in it, with or without --save or
 * --migrate, and answers it (HVX_REQUEST_DONE) with its result line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "hvx-run.h"

const char *prog = "hvx-run";
static struct vm the_vm;

/* Set once by the first vm_stop(); read by every thread. */
static atomic_int stop_state = STOP_NONE;
static int stop_status;
static char stop_why[256];
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;

void info(const char *fmt, ...)
{
	va_list ap;

	if (the_vm.opt.quiet)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

static void usage(void)
{
	printf("usage: %s --kernel FILE [options]\n"
	       "Boot a guest in an hvx VM with its serial console on stdio.\n\n"
	       "  --kernel FILE    Linux bzImage, multiboot (v1) ELF, or flat binary (--flat)\n"
	       "  --initrd FILE    initial ramdisk (Linux) or first module (multiboot)\n"
	       "  --append CMDLINE kernel command line\n"
	       "  --mem SIZE       guest RAM, e.g. 512M or 2G (plain number: MiB; default 256M)\n"
	       "  --cpus N         vCPUs, one thread each (default 1, at most %d)\n"
	       "  --hugepages      back guest RAM with 2 MiB huge pages\n"
	       "  --flat ADDR      load FILE at guest-physical ADDR, start there in\n"
	       "                   32-bit protected mode (flat segments, no paging)\n"
	       "  --entry 32|64    bzImage entry point (default: 64-bit if the kernel has one)\n"
	       "  --no-acpi        MP table only, no ACPI tables\n"
	       "  --no-pv          no paravirtual interface (KVM's CPUID leaves): the\n"
	       "                   guest sees only the hardware\n"
	       "  --summary        print a line with run time and exits at the end\n"
	       "                   (and, when stopped by a signal, a line per vCPU)\n"
	       "  --dev PATH       hvx device (default /dev/hvx)\n"
	       "  --quiet          no launcher messages except errors\n"
	       "  --device BDF     pass the PCI device at BDF (e.g. 0000:00:03.0) through\n"
	       "                   (see iommu/README.md; repeat for more)\n"
	       "  --disk FILE[,ro][,serial=S]\n"
	       "                   a virtio-blk disk backed by FILE (a file or block\n"
	       "                   device), read-only with ro, GET_ID serial S (at most\n"
	       "                   20 bytes); repeat for more (at most %d)\n"
	       "  --net tap=NAME[,mac=M]\n"
	       "                   a virtio-net device on the existing tap NAME (ip\n"
	       "                   tuntap add NAME mode tap), MAC M or a random one;\n"
	       "                   repeat for more (at most %d)\n"
	       "  --save FILE      on SIGUSR1, pause the VM, write a snapshot to FILE\n"
	       "                   and exit 0 (not with --device);\n"
	       "                   'hvxctl save VM FILE' does it without --save too\n"
	       "  --restore FILE   run the VM saved in FILE (instead of --kernel; its\n"
	       "                   RAM size, vCPUs and --no-pv come from FILE; give\n"
	       "                   the --disk and --net options the saved VM had)\n"
	       "  --migrate tcp:HOST:PORT\n"
	       "                   on SIGUSR1, send the running VM to an hvx-run\n"
	       "                   --incoming there (live, pre-copy) and exit 0 once\n"
	       "                   it runs there; on failure it runs on here;\n"
	       "                   'hvxctl migrate VM tcp:HOST:PORT' without it too\n"
	       "  --max-downtime MS  --migrate's downtime budget (default 300): it\n"
	       "                   stops the VM when the rest takes a third of it,\n"
	       "                   throttling the vCPUs if need be\n"
	       "  --incoming tcp:HOST:PORT\n"
	       "                   wait for one VM from --migrate and run it (instead\n"
	       "                   of --kernel, as --restore)\n\n"
	       "Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n"
	       "Exit status: 0 poweroff/reset/halt, (v << 1) | 1 for a write of v to\n"
	       "port 0xf4, 128+N for signal N, 1 error or guest failure, 2 bad option.\n",
	       prog, HVX_MAX_VCPUS, MAX_DISKS, MAX_NETS);
}

/* ------------------------------------------------------------------ */
/* Options */

static uint64_t parse_size(const char *opt, const char *s)
{
	unsigned long long v;
	char *end;
	int shift = 20;

	errno = 0;
	if (!*s || *s == '-')
		usage_error("%s: '%s' is not a size (e.g. 512M, 2G)", opt, s);
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		usage_error("%s: '%s' is not a size (e.g. 512M, 2G)", opt, s);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case '\0': break;
	default:
		usage_error("%s: '%s' is not a size (e.g. 512M, 2G)", opt, s);
	}
	if (*end == 'i' || *end == 'B' || *end == 'b')
		end += (*end == 'i' && (end[1] == 'B' || end[1] == 'b')) ? 2 : 1;
	if (*end || v > (UINT64_MAX >> shift))
		usage_error("%s: '%s' is not a size (e.g. 512M, 2G)", opt, s);
	return v << shift;
}

static uint64_t parse_u64(const char *opt, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		usage_error("%s: '%s' is not a number", opt, s);
	return v;
}

/* A PCI address, [SSSS:]BB:DD.F in hex, as lspci and sysfs print it. */
static void parse_bdf(const char *s, struct hvx_pci_device *d)
{
	unsigned int seg = 0, bus, dev, fn;
	char end;

	if (sscanf(s, "%x:%x:%x.%x%c", &seg, &bus, &dev, &fn, &end) != 4) {
		seg = 0;
		if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &end) != 3)
			usage_error("--device: '%s' is not a PCI address like 0000:00:03.0", s);
	}
	if (seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		usage_error("--device: '%s' is out of range (SSSS:BB:DD.F, DD <= 1f, F <= 7)", s);
	memset(d, 0, sizeof(*d));
	d->segment = seg;
	d->bus = bus;
	d->devfn = dev << 3 | fn;
}

/* --disk FILE[,ro][,serial=S] (FILE may not contain a comma). */
static void parse_disk(const char *s, struct disk_opt *d)
{
	const char *p = strchr(s, ',');
	size_t n = p ? (size_t)(p - s) : strlen(s);

	memset(d, 0, sizeof(*d));
	d->arg = s;
	if (!n || n >= sizeof(d->path))
		usage_error("--disk: '%s' has no file name (or a too long one)", s);
	memcpy(d->path, s, n);
	while (p) {
		const char *opt = p + 1, *next = strchr(opt, ',');
		size_t len = next ? (size_t)(next - opt) : strlen(opt);

		if (len == 2 && !strncmp(opt, "ro", 2)) {
			d->ro = true;
		} else if (len >= 7 && !strncmp(opt, "serial=", 7)) {
			if (len - 7 > sizeof(d->serial))
				usage_error("--disk: serial '%.*s' is longer than %zu bytes",
					    (int)(len - 7), opt + 7, sizeof(d->serial));
			memcpy(d->serial, opt + 7, len - 7);
		} else {
			usage_error("--disk: unknown option '%.*s' (ro, serial=S)",
				    (int)len, opt);
		}
		p = next;
	}
}

static void parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_KERNEL = 256, OPT_INITRD, OPT_APPEND, OPT_MEM, OPT_CPUS, OPT_HUGE,
	       OPT_FLAT, OPT_ENTRY, OPT_NOACPI, OPT_SUMMARY, OPT_DEV, OPT_QUIET, OPT_HELP,
	       OPT_DEVICE, OPT_DISK, OPT_NOPV, OPT_SAVE, OPT_RESTORE, OPT_NET,
	       OPT_MIGRATE, OPT_INCOMING, OPT_DOWNTIME };
	static const struct option lopts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "hugepages", no_argument, NULL, OPT_HUGE },
		{ "flat", required_argument, NULL, OPT_FLAT },
		{ "entry", required_argument, NULL, OPT_ENTRY },
		{ "no-acpi", no_argument, NULL, OPT_NOACPI },
		{ "no-pv", no_argument, NULL, OPT_NOPV },
		{ "summary", no_argument, NULL, OPT_SUMMARY },
		{ "dev", required_argument, NULL, OPT_DEV },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "save", required_argument, NULL, OPT_SAVE },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "migrate", required_argument, NULL, OPT_MIGRATE },
		{ "incoming", required_argument, NULL, OPT_INCOMING },
		{ "max-downtime", required_argument, NULL, OPT_DOWNTIME },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *vm_opt = NULL;	/* an option --restore takes from the file
					 * (not --disk, --net: their files and
					 * taps are given again) */
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->mem = 256 * MiB;
	o->cpus = 1;
	o->dev = "/dev/hvx";
	o->append = "";
	o->max_downtime_ms = 300;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL: case OPT_INITRD: case OPT_APPEND: case OPT_MEM:
		case OPT_CPUS: case OPT_FLAT: case OPT_ENTRY: case OPT_NOACPI:
		case OPT_NOPV: case OPT_DEVICE:
			for (int i = 0; !vm_opt && lopts[i].name; i++)
				if (lopts[i].val == c)
					vm_opt = lopts[i].name;
			break;
		}
		switch (c) {
		case OPT_KERNEL: o->kernel = optarg; break;
		case OPT_INITRD: o->initrd = optarg; break;
		case OPT_APPEND: o->append = optarg; break;
		case OPT_MEM:
			o->mem = parse_size("--mem", optarg);
			if (o->mem < 4 * MiB || o->mem % (4 * KiB))
				usage_error("--mem: %s is less than 4 MiB or not a multiple of 4 KiB",
					    optarg);
			if (o->mem > 1024 * GiB)
				usage_error("--mem: %s is more than 1 TiB", optarg);
			break;
		case OPT_CPUS:
			v = parse_u64("--cpus", optarg);
			if (v < 1 || v > HVX_MAX_VCPUS)
				usage_error("--cpus: %s is not between 1 and %d",
					    optarg, HVX_MAX_VCPUS);
			o->cpus = (int)v;
			break;
		case OPT_HUGE: o->hugepages = true; break;
		case OPT_FLAT:
			o->flat = true;
			o->flat_addr = parse_u64("--flat", optarg);
			break;
		case OPT_ENTRY:
			if (!strcmp(optarg, "32"))
				o->entry = 32;
			else if (!strcmp(optarg, "64"))
				o->entry = 64;
			else
				usage_error("--entry: '%s' is not 32 or 64", optarg);
			break;
		case OPT_NOACPI: o->no_acpi = true; break;
		case OPT_NOPV: o->no_pv = true; break;
		case OPT_SUMMARY: o->summary = true; break;
		case OPT_DEV: o->dev = optarg; break;
		case OPT_QUIET: o->quiet = true; break;
		case OPT_DEVICE:
			if (o->ndevices == MAX_DEVICES)
				usage_error("--device: at most %d devices", MAX_DEVICES);
			parse_bdf(optarg, &o->device[o->ndevices]);
			o->device_arg[o->ndevices++] = optarg;
			break;
		case OPT_DISK:
			if (o->ndisks == MAX_DISKS)
				usage_error("--disk: at most %d disks", MAX_DISKS);
			parse_disk(optarg, &o->disk[o->ndisks++]);
			break;
		case OPT_NET:
			if (o->nnets == MAX_NETS)
				usage_error("--net: at most %d devices", MAX_NETS);
			parse_net(optarg, &o->net[o->nnets++]);
			break;
		case OPT_SAVE: o->save = optarg; break;
		case OPT_RESTORE: o->restore = optarg; break;
		case OPT_MIGRATE:
			migrate_check_addr("--migrate", optarg);
			o->migrate = optarg;
			break;
		case OPT_INCOMING:
			migrate_check_addr("--incoming", optarg);
			o->incoming = optarg;
			break;
		case OPT_DOWNTIME:
			v = parse_u64("--max-downtime", optarg);
			if (!v || v > 3600000)
				usage_error("--max-downtime: %s is not between 1 and 3600000 ms",
					    optarg);
			o->max_downtime_ms = (unsigned int)v;
			break;
		case 'h':
		case OPT_HELP:
			usage();
			exit(0);
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (o->restore && vm_opt)
		usage_error("--%s cannot be used with --restore (the snapshot has the VM)",
			    vm_opt);
	if (o->incoming && vm_opt)
		usage_error("--%s cannot be used with --incoming (the stream has the VM)",
			    vm_opt);
	if (o->incoming && o->restore)
		usage_error("--incoming cannot be used with --restore");
	if (o->migrate && o->save)
		usage_error("--migrate cannot be used with --save (SIGUSR1 starts one of them)");
	if (o->restore || o->incoming)
		return;
	if (!o->kernel)
		usage_error("no --kernel given");
	if (o->flat && o->initrd)
		usage_error("--initrd cannot be used with --flat");
	if (strlen(o->append) >= CMDLINE_MAX)
		usage_error("--append: the command line is longer than %llu bytes",
			    CMDLINE_MAX - 1);
}

/* ------------------------------------------------------------------ */
/* Guest memory */

static void set_region(struct vm *vm, uint32_t slot, uint64_t gpa,
		       uint64_t size, void *hva)
{
	struct hvx_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(vm->fd, HVX_SET_MEMORY_REGION, &r))
		die("cannot give the VM %" PRIu64 " MiB of RAM at 0x%" PRIx64 ": %s",
		    size >> 20, gpa, strerror(errno));
}

/* ------------------------------------------------------------------ */
/* The VM */

static void open_hvx(struct vm *vm)
{
	int ver;

	vm->sys_fd = open(vm->opt.dev, O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0) {
		if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
			die("%s: %s (is hvx.ko loaded?)", vm->opt.dev, strerror(errno));
		if (errno == EACCES || errno == EPERM)
			die("%s: %s (run as root or get access to the device)",
			    vm->opt.dev, strerror(errno));
		die("%s: %s", vm->opt.dev, strerror(errno));
	}
	ver = ioctl(vm->sys_fd, HVX_GET_API_VERSION, 0);
	if (ver != HVX_API_VERSION)
		die("%s: not an hvx device with API version %d (got %d)",
		    vm->opt.dev, HVX_API_VERSION, ver);
	vm->fd = ioctl(vm->sys_fd, HVX_CREATE_VM,
		       vm->opt.no_pv ? HVX_VM_NO_PV : 0);
	if (vm->fd < 0) {
		if (errno == EBUSY)
			die("cannot create a VM: VMX is busy, another hypervisor holds it (a KVM VM running?)");
		if (errno == EOPNOTSUPP)
			die("cannot create a VM: no usable VT-x on this CPU (see dmesg)");
		die("cannot create a VM: %s", strerror(errno));
	}
}

#ifdef HVX_SET_CMOS
/*
 * The memory sizes a PC BIOS leaves in CMOS RAM (the conventional
 * layout, as in QEMU's pc_cmos_init): base memory in KiB at 0x15, memory
 * from 1 MiB in KiB at 0x17 and 0x30 (at most 0xffff), memory from 16 MiB
 * in 64 KiB units at 0x34, memory above 4 GiB in 64 KiB units at 0x5b
 * (three bytes). All little-endian. Linux uses e820, but older or
 * simpler kernels look here.
 */
static void set_cmos_memory(struct vm *vm)
{
	struct hvx_cmos c = { .first = 0x15, .count = 0x5e - 0x15 };
	uint64_t ext = (vm->low_size - GPA_HIGH) / KiB;
	uint64_t above16 = vm->low_size > 16 * MiB ? (vm->low_size - 16 * MiB) >> 16 : 0;
	uint64_t above4g = vm->high_size >> 16;

	if (ioctl(vm->fd, HVX_GET_CMOS, &c))
		return;
	if (ext > 0xffff)
		ext = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	c.data[0x15] = 640 & 0xff;
	c.data[0x16] = 640 >> 8;
	c.data[0x17] = (uint8_t)ext;
	c.data[0x18] = (uint8_t)(ext >> 8);
	c.data[0x30] = c.data[0x17];
	c.data[0x31] = c.data[0x18];
	c.data[0x34] = (uint8_t)above16;
	c.data[0x35] = (uint8_t)(above16 >> 8);
	c.data[0x5b] = (uint8_t)above4g;
	c.data[0x5c] = (uint8_t)(above4g >> 8);
	c.data[0x5d] = (uint8_t)(above4g >> 16);
	if (ioctl(vm->fd, HVX_SET_CMOS, &c))
		die("cannot set the CMOS memory sizes: %s", strerror(errno));
}
#endif

/*
 * The in-kernel PC devices (PIC, PIT, UART, RTC, PCI configuration, LAPIC
 * per vCPU, IOAPIC) that a Linux guest needs. An hvx without them
 * (EOPNOTSUPP) still runs test kernels: hvx-run then answers COM1 itself.
 */
/* Is the PCI device @d in an IOMMU group (sysfs)? */
static bool device_has_iommu_group(const struct hvx_pci_device *d)
{
	char path[128];

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%04x:%02x:%02x.%x/iommu_group", d->segment,
		 d->bus, d->devfn >> 3, d->devfn & 7);
	return !access(path, F_OK);
}

/*
 * --device: hand each device to the VM (HVX_ASSIGN_DEVICE). An
 * administrator must have bound it to hvx's stub driver "hvx-pci" first
 * (iommu/README.md). With the in-kernel PCI bus it appears on the
 * guest's bus 0; its device fd stays open for the VM's life and closes
 * with hvx-run, which gives the device back to the stub (hvx also
 * releases it when the VM goes).
 */
static void assign_devices(struct vm *vm)
{
	for (int i = 0; i < vm->opt.ndevices; i++) {
		const struct hvx_pci_device *d = &vm->opt.device[i];
		const char *hint = "";
		int fd = ioctl(vm->fd, HVX_ASSIGN_DEVICE, d), err = errno;

		if (fd >= 0) {
			info("device %s passed through", vm->opt.device_arg[i]);
			continue;
		}
		switch (err) {
		case ENODEV: hint = " (no such PCI device)"; break;
		case EACCES: hint = " (not bound to hvx-pci: an administrator binds it first, see iommu/README.md)"; break;
		case EBUSY: hint = " (a host driver has it, or another VM has its IOMMU group)"; break;
		case EPERM: hint = " (its IOMMU group is not viable, or CAP_SYS_RAWIO is missing)"; break;
		case EOPNOTSUPP:
			hint = device_has_iommu_group(d) ?
			       " (no interrupt remapping: load hvx with allow_unsafe_interrupts=1 to accept unsafe MSIs)" :
			       " (no IOMMU: load hvx with allow_unsafe_noiommu=1 to accept unsafe DMA)";
			break;
		case EADDRINUSE: hint = " (guest RAM overlaps a range its IOMMU reserves: see the kernel log)"; break;
		case EEXIST: hint = " (already assigned)"; break;
		}
		die("--device %s: %s%s", vm->opt.device_arg[i], strerror(err), hint);
	}
}

/*
 * --disk: one in-kernel virtio-blk device each (HVX_CREATE_VIRTIO), at
 * 00:10.0 upwards, its BAR placed as firmware would in the PCI hole from
 * DISK_BAR_BASE, and INTA# on the GSI the DSDT's _PRT gives its slot.
 * hvx keeps its own reference to the file; ours is closed.
 */
#define DISK_SLOT	0x10
#define DISK_BAR_BASE	0xd0000000ull
#define DISK_BAR_SIZE	0x4000ull

static void create_disks(struct vm *vm)
{
	for (int i = 0; i < vm->opt.ndisks; i++) {
		const struct disk_opt *d = &vm->opt.disk[i];
		struct hvx_virtio_device a = {
			.type = HVX_VIRTIO_BLK,
			.flags = d->ro ? HVX_VIRTIO_RO : 0,
			.devfn = (DISK_SLOT + i) << 3,
			.gsi = 16 + ((DISK_SLOT + i) & 3),
			.bar = DISK_BAR_BASE + i * DISK_BAR_SIZE,
		};
		int fd = open(d->path, (d->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);

		if (fd < 0)
			die("--disk %s: %s", d->arg, strerror(errno));
		if (!vm->platform)
			die("--disk %s: this hvx has no in-kernel PCI bus", d->arg);
		memcpy(a.serial, d->serial, sizeof(a.serial));
		a.fd = fd;
		if (ioctl(vm->fd, HVX_CREATE_VIRTIO, &a))
			die("--disk %s: %s%s", d->arg, strerror(errno),
			    errno == ENOTTY ? " (this hvx has no virtio devices)" :
			    errno == EEXIST ? " (its PCI slot or BAR is taken by a passed-through device)" :
			    errno == EINVAL ? " (not a regular file or block device)" : "");
		close(fd);
		info("disk %s at 00:%02x.0%s", d->path, DISK_SLOT + i,
		     d->ro ? ", read-only" : "");
	}
}

static void setup_platform(struct vm *vm)
{
	struct hvx_platform_config cfg = { .devices = HVX_PLATFORM_ALL };

	vm->console_fd = -1;
	vm->platform = false;
	if (ioctl(vm->fd, HVX_CREATE_PLATFORM, &cfg)) {
		if (errno != EOPNOTSUPP && errno != ENOTTY)
			die("cannot create the in-kernel devices: %s", strerror(errno));
		return;
	}
	vm->platform = true;
#ifdef HVX_GET_CONSOLE_FD
	vm->console_fd = ioctl(vm->fd, HVX_GET_CONSOLE_FD, 0);
	if (vm->console_fd < 0)
		die("cannot get the console of the in-kernel UART: %s", strerror(errno));
	if (fcntl(vm->console_fd, F_SETFL, O_NONBLOCK))
		die("console fd: %s", strerror(errno));
#endif
#ifdef HVX_SET_CMOS
	set_cmos_memory(vm);
#endif
}

static void set_boot_regs(struct vcpu *v, const struct boot_state *bs)
{
	struct hvx_regs regs;
	struct hvx_sregs s;

	if (ioctl(v->fd, HVX_GET_SREGS, &s))
		die("HVX_GET_SREGS: %s", strerror(errno));
	BOOT_ENTRY_SREGS(s, bs);
	if (ioctl(v->fd, HVX_SET_SREGS, &s))
		die("HVX_SET_SREGS: %s", strerror(errno));
	BOOT_ENTRY_REGS(regs, bs);
	if (ioctl(v->fd, HVX_SET_REGS, &regs))
		die("HVX_SET_REGS: %s", strerror(errno));
}

static void create_vcpus(struct vm *vm, const struct boot_state *bs)
{
	struct hvx_mp_state wait = { .state = HVX_MP_WAIT_SIPI };

	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		die("out of memory");
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->fd, HVX_CREATE_VCPU, i);
		if (v->fd < 0)
			die("cannot create vCPU %d: %s", i, strerror(errno));
		v->run = mmap(NULL, HVX_VCPU_MMAP_SIZE, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED)
			die("cannot map vCPU %d's run struct: %s", i, strerror(errno));
		if (!bs)
			continue;	/* --restore: snapshot_restore() */
		if (i == 0)
			set_boot_regs(v, bs);
		else if (ioctl(v->fd, HVX_SET_MP_STATE, &wait))
			die("vCPU %d: HVX_SET_MP_STATE: %s", i, strerror(errno));
	}
}

/* ------------------------------------------------------------------ */
/* Stopping */

/* SIGUSR1 with --save: the vCPU threads leave their loops. */
static atomic_bool pausing;

bool vm_pausing(void)
{
	return atomic_load(&pausing);
}

bool vm_stopping(struct vm *vm)
{
	(void)vm;
	return atomic_load(&stop_state) != STOP_NONE;
}

void vm_stop(struct vm *vm, enum stop_kind kind, int status, const char *why)
{
	uint64_t one = 1;
	ssize_t n;

	pthread_mutex_lock(&stop_lock);
	if (atomic_load(&stop_state) == STOP_NONE) {
		vm->tsc_stop = __rdtsc();	/* the run time ends here */
		stop_status = status;
		snprintf(stop_why, sizeof(stop_why), "%s", why);
		atomic_store(&stop_state, kind);
	}
	pthread_mutex_unlock(&stop_lock);
	sleep_stopping();
	n = write(vm->stop_fd, &one, sizeof(one));
	(void)n;
}

static void kick_vcpus(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		v->run->immediate_exit = 1;
		pthread_kill((pthread_t)v->thread, KICK_SIGNAL);
	}
}

/* ------------------------------------------------------------------ */
/* Exits */

static const char *const seg_names[] = { "cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt" };

static void dump_regs(struct vcpu *v)
{
	struct hvx_regs r;
	struct hvx_sregs s;
	const struct hvx_segment *segs[8];

	if (ioctl(v->fd, HVX_GET_REGS, &r) || ioctl(v->fd, HVX_GET_SREGS, &s)) {
		fprintf(stderr, "  (registers unavailable: %s)\n", strerror(errno));
		return;
	}
	fprintf(stderr,
		"  vCPU %d registers:\n"
		"  rip %016llx rsp %016llx rflags %016llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n"
		"  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n"
		"  r13 %016llx r14 %016llx r15 %016llx\n"
		"  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx\n"
		"  efer %016llx apic_base %016llx\n",
		v->id, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx,
		r.rsi, r.rdi, r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
		r.r14, r.r15, s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.apic_base);
	segs[0] = &s.cs; segs[1] = &s.ds; segs[2] = &s.es; segs[3] = &s.fs;
	segs[4] = &s.gs; segs[5] = &s.ss; segs[6] = &s.tr; segs[7] = &s.ldt;
	for (int i = 0; i < 8; i++)
		fprintf(stderr, "  %-3s %04x base %016llx limit %08x type %x%s%s%s\n",
			seg_names[i], segs[i]->selector, segs[i]->base,
			segs[i]->limit, segs[i]->type,
			segs[i]->l ? " L" : "", segs[i]->db ? " D" : "",
			segs[i]->unusable ? " unusable" : "");
	fprintf(stderr, "  gdt %016llx/%x idt %016llx/%x\n", s.gdt.base,
		s.gdt.limit, s.idt.base, s.idt.limit);
}

/* The guest failed: one line with the reason, then the registers. */
static void guest_failed(struct vcpu *v, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&stop_lock);
	if (atomic_load(&stop_state) == STOP_NONE) {
		console_restore();
		fflush(stdout);
		fprintf(stderr, "%s: vCPU %d: %s\n", prog, v->id, why);
		dump_regs(v);
	}
	pthread_mutex_unlock(&stop_lock);
	vm_stop(v->vm, STOP_ERROR, 1, why);
}

/* fw_cfg (QEMU docs/specs/fw_cfg.rst): the selector picks an item, data
 * reads return its bytes in order, then zeros.
 */
#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_ID		0x01
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_MAX_CPUS		0x0f
static pthread_mutex_t fw_cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static uint16_t fw_cfg_sel;
static uint32_t fw_cfg_off;

static uint8_t fw_cfg_read(struct vm *vm)
{
	uint8_t item[8] = { 0 };
	size_t len = 0;
	uint8_t b = 0;

	pthread_mutex_lock(&fw_cfg_lock);
	switch (fw_cfg_sel) {
	case FW_CFG_SIGNATURE:
		memcpy(item, "QEMU", 4);
		len = 4;
		break;
	case FW_CFG_ID:
		item[0] = 1;	/* traditional interface, no DMA */
		len = 4;
		break;
	case FW_CFG_RAM_SIZE:
		for (int i = 0; i < 8; i++)
			item[i] = (uint8_t)(vm->opt.mem >> (8 * i));
		len = 8;
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		item[0] = (uint8_t)vm->ncpus;
		item[1] = (uint8_t)(vm->ncpus >> 8);
		len = 2;
		break;
	}
	if (fw_cfg_off < len)
		b = item[fw_cfg_off];
	if (fw_cfg_off < UINT32_MAX)
		fw_cfg_off++;
	pthread_mutex_unlock(&fw_cfg_lock);
	return b;
}

static void reset_requested(struct vm *vm, const char *how)
{
	char why[80];

	snprintf(why, sizeof(why), "the guest reset the machine (%s)", how);
	vm_stop(vm, STOP_RESET, 0, why);
}

/* One element of port I/O. */
static void port_io(struct vcpu *v, uint16_t port, bool out, uint8_t *data,
		    unsigned int size)
{
	struct vm *vm = v->vm;
	uint32_t val = 0;
	char why[80];

	if (out)
		memcpy(&val, data, size);
	else
		memset(data, 0xff, size);	/* an open bus reads all ones */

	if (sleep_io(v, port, out, data, size))
		return;
	if (!vm->platform && port >= PORT_COM1 && port < PORT_COM1 + 8) {
		for (unsigned int i = 0; i < size; i++)
			uart_io(vm, port + i, out, data + i);
		return;
	}
	switch (port) {
	case PORT_DEBUG_EXIT:
		if (out) {
			snprintf(why, sizeof(why), "the guest wrote 0x%x to the debug-exit port",
				 val);
			vm_stop(vm, STOP_DEBUG_EXIT, (int)((val << 1) | 1) & 0xff, why);
		}
		break;
	case PORT_FW_CFG_SEL:
		if (out) {
			pthread_mutex_lock(&fw_cfg_lock);
			fw_cfg_sel = (uint16_t)val;
			fw_cfg_off = 0;
			pthread_mutex_unlock(&fw_cfg_lock);
		}
		break;
	case PORT_FW_CFG_DATA:
		if (!out)
			for (unsigned int i = 0; i < size; i++)
				data[i] = fw_cfg_read(vm);
		break;
	case PORT_ACPI_RESET:
		if (out && (val & 0xff) == ACPI_RESET_VALUE)
			reset_requested(vm, "ACPI reset register");
		break;
	case PORT_KBD_CMD:
		if (out && (val & 0xff) == 0xfe)
			reset_requested(vm, "keyboard controller");
		else if (!out)
			data[0] = 0;	/* i8042 status: buffers empty */
		break;
	case PORT_RESET_CTL:
		if (out && (val & 0x4))
			reset_requested(vm, "port 0xcf9");
		break;
	}
}

static void handle_io(struct vcpu *v)
{
	struct hvx_run *run = v->run;
	uint64_t len = (uint64_t)run->io.size * run->io.count;
	uint8_t *data;

	if (run->io.size != 1 && run->io.size != 2 && run->io.size != 4)
		return;
	if (len > HVX_RUN_IO_DATA_SIZE ||
	    run->io.data_offset > HVX_VCPU_MMAP_SIZE - len) {
		guest_failed(v, "I/O exit data outside the run area");
		return;
	}
	data = (uint8_t *)run + run->io.data_offset;
	for (uint32_t i = 0; i < run->io.count; i++)
		port_io(v, run->io.port, run->io.direction == HVX_EXIT_IO_OUT,
			data + (uint64_t)i * run->io.size, run->io.size);
}

static void handle_halt(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool all = true;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	v->dead_halt = true;
	for (int i = 0; i < vm->ncpus; i++)
		if (!vm->vcpus[i].dead_halt && (i == 0 || vm->vcpus[i].user_exits[HVX_EXIT_HLT] ||
						vm->vcpus[i].user_exits[HVX_EXIT_IO]))
			all = false;
	if (all && vm->vcpus[0].dead_halt) {
		vm_stop(vm, STOP_HALT, 0, "every vCPU halted with interrupts off");
		return;
	}
	/* Only an NMI or INIT can wake it: look again a little later. */
	nanosleep(&ts, NULL);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct hvx_run *run = v->run;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!vm_stopping(v->vm) && !vm_pausing()) {
		sleep_wait(v);
		migrate_throttle(v);
		if (vm_stopping(v->vm) || vm_pausing())
			break;
		if (ioctl(v->fd, HVX_RUN, 0)) {
			if (errno == EINTR)
				continue;
			guest_failed(v, "HVX_RUN: %s", strerror(errno));
			break;
		}
		if (run->exit_reason < HVX_STATS_USER_EXITS)
			v->user_exits[run->exit_reason]++;
		if (run->exit_reason != HVX_EXIT_HLT)
			v->dead_halt = false;
		switch (run->exit_reason) {
		case HVX_EXIT_IO:
			handle_io(v);
			break;
		case HVX_EXIT_MMIO:
			/* Nothing here: reads see all ones, writes vanish. */
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case HVX_EXIT_HLT:
			handle_halt(v);
			break;
		case HVX_EXIT_SHUTDOWN:
			guest_failed(v, "triple fault (the guest shut down)");
			break;
		case HVX_EXIT_FAIL_ENTRY:
			guest_failed(v, "VM entry failed: kind %u, check %u, hardware reason 0x%llx, VM-instruction error %u",
				     run->fail_entry.kind, run->fail_entry.check,
				     run->fail_entry.hardware_entry_failure_reason,
				     run->fail_entry.vm_instruction_error);
			break;
		case HVX_EXIT_INTERNAL_ERROR:
			guest_failed(v, "hvx internal error: suberror %u, exit reason %llu, qualification 0x%llx",
				     run->internal.suberror,
				     run->internal.exit_reason,
				     run->internal.qualification);
			break;
		case HVX_EXIT_INTR:
		case HVX_EXIT_IRQ_WINDOW_OPEN:
			break;
		default:
			guest_failed(v, "unexpected exit reason %u", run->exit_reason);
			break;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */

static void start_vcpus(struct vm *vm)
{
	vm->tsc_start = __rdtsc();
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		pthread_t t;
		int err = pthread_create(&t, NULL, vcpu_thread, v);

		if (err)
			die("cannot start the thread of vCPU %d: %s", i, strerror(err));
		v->thread = (unsigned long)t;
		v->started = true;
	}
}

static void kick_handler(int sig)
{
	(void)sig;
}

/* A line on stderr that does not end hvx-run (errors only: not --quiet). */
static void __attribute__((format(printf, 1, 2))) complain(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

/* A save was asked for and did not happen: the exit status says so. */
static bool save_failed;

/*
 * Every vCPU thread out of HVX_RUN (kicked) and joined, the console
 * output so far written; false if the VM stops meanwhile.
 */
bool vm_pause(struct vm *vm)
{
	atomic_store(&pausing, true);
	sleep_stopping();	/* a vCPU waiting out an S3 sleep leaves too */
	kick_vcpus(vm);
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->started)
			pthread_join((pthread_t)v->thread, NULL);
		v->started = false;
	}
	/* Console output so far goes out now, not into the snapshot. */
	if (vm->console_fd >= 0)
		console_output(vm);
	return !vm_stopping(vm);
}

/* The vCPU threads of a paused VM run again. */
void vm_resume(struct vm *vm)
{
	atomic_store(&pausing, false);
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		pthread_t t;
		int err;

		v->run->immediate_exit = 0;
		err = pthread_create(&t, NULL, vcpu_thread, v);
		if (err)
			die("cannot restart the thread of vCPU %d: %s", i, strerror(err));
		v->thread = (unsigned long)t;
		v->started = true;
	}
}

/* Requests of hvxctl (HVX_CMD_REQUEST), taken from the VM fd. */
static bool take_requests;

void request_done(struct vm *vm, uint32_t req, int error, const char *fmt, ...)
{
	struct hvx_request_done d = { .id = req, .error = error };
	va_list ap;

	if (!req)
		return;
	va_start(ap, fmt);
	vsnprintf(d.msg, sizeof(d.msg), fmt, ap);
	va_end(ap);
	if (ioctl(vm->fd, HVX_REQUEST_DONE, &d))
		complain("cannot answer hvxctl: HVX_REQUEST_DONE: %s", strerror(errno));
}

/*
 * Pause the VM, write the snapshot to @path and stop the VM; if it
 * cannot be saved, say why and let it run on. Answers request @req
 * (0 for SIGUSR1) with the same line.
 */
static void save_to(struct vm *vm, const char *path, uint32_t req)
{
	char why[600], msg[4200];
	int err = EOPNOTSUPP;

	if (migrate_fd() >= 0) {
		snprintf(why, sizeof(why), "cannot save the VM: a migration is running");
		err = EBUSY;
		goto refused;
	}
	if (snapshot_refused(vm, why, sizeof(why)))
		goto refused;
	if (!vm_pause(vm)) {
		snprintf(why, sizeof(why), "the VM stopped before it could be saved");
		err = ESRCH;
		goto refused;
	}
	if (!snapshot_refused(vm, why, sizeof(why))) {
		if (!snapshot_save(vm, path, why, sizeof(why))) {
			snprintf(msg, sizeof(msg), "saved the VM to %s", path);
			save_failed = false;
			request_done(vm, req, 0, "%s", msg);
			vm_stop(vm, STOP_SAVED, 0, msg);
			return;
		}
		err = EIO;
	}
	vm_resume(vm);
refused:
	complain("%s", why);
	save_failed = true;
	request_done(vm, req, err, "%s", why);
}

/*
 * SIGUSR1: with --save, save the VM (save_to()). With --migrate, start
 * a migration (migrate.c).
 */
static void save_requested(struct vm *vm)
{
	if (vm->opt.migrate)
		migrate_start(vm, vm->opt.migrate, 0);
	else if (vm->opt.save)
		save_to(vm, vm->opt.save, 0);
	else
		complain("SIGUSR1 ignored: no --save FILE or --migrate given");
}

/*
 * The VM fd polls readable: hvxctl asks, through hvx, to save the VM to
 * a file or migrate it, whatever the options. It is done as SIGUSR1
 * does it, to the file or address in the request, and the same line
 * that goes to stderr (or the success line) answers the request.
 */
static void take_request(struct vm *vm)
{
	struct hvx_request r;

	if (ioctl(vm->fd, HVX_GET_REQUEST, &r))
		return;		/* EAGAIN: nothing (left) */
	r.arg[sizeof(r.arg) - 1] = 0;
	switch (r.action) {
	case HVX_REQUEST_SAVE:
		info("hvxctl asks to save the VM to %s", r.arg);
		save_to(vm, r.arg, r.id);
		break;
	case HVX_REQUEST_MIGRATE:
		info("hvxctl asks to migrate the VM to %s", r.arg);
		migrate_start(vm, r.arg, r.id);
		break;
	default:
		request_done(vm, r.id, EOPNOTSUPP, "hvx-run does not know request %u",
			     r.action);
		break;
	}
}

int main(int argc, char **argv)
{
	struct vm *vm = &the_vm;
	struct boot_state bs;
	struct sigaction sa;
	sigset_t set;
	int sfd, status;
	enum stop_kind kind;

	die_hook = console_restore;
	/* A SIGUSR1 before the VM runs waits for it (signalfd below). */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	parse_options(argc, argv, &vm->opt);
	vm->ncpus = vm->opt.cpus;
	vm->fd = -1;
	vm->sys_fd = -1;
	vm->console_fd = -1;
	vm->stop_fd = -1;
	vm->sleep_fd = -1;

	/*
	 * Everything that can fail on the guest's files (or the snapshot)
	 * happens before the VM exists.
	 */
	memset(&bs, 0, sizeof(bs));
	if (vm->opt.restore) {
		snapshot_load(vm, vm->opt.restore);
		alloc_ram(vm);
		snapshot_load_ram(vm);
		snprintf(bs.desc, sizeof(bs.desc), "snapshot %s", vm->opt.restore);
	} else if (vm->opt.incoming) {
		migrate_receive(vm);	/* the whole stream, RAM and checks */
		snprintf(bs.desc, sizeof(bs.desc), "VM from %s", vm->opt.incoming);
	} else {
		alloc_ram(vm);
		load_kernel(vm, &bs);
	}

	open_hvx(vm);
	setup_platform(vm);
	if ((vm->opt.restore || vm->opt.incoming) && vm->platform != snapshot_platform())
		die("%s %s: the saved VM %s in-kernel devices, this hvx %s",
		    vm->opt.restore ? "--restore" : "--incoming",
		    vm->opt.restore ? vm->opt.restore : vm->opt.incoming,
		    vm->platform ? "had no" : "had",
		    vm->platform ? "has them" : "has none");
	if (!vm->platform && bs.is_linux)
		die("this hvx has no in-kernel devices (HVX_CREATE_PLATFORM): a Linux guest cannot boot without its interrupt controllers and timers");
	set_region(vm, 0, 0, vm->low_size, vm->ram);
	if (vm->high_size)
		set_region(vm, 1, GPA_4G, vm->high_size, vm->ram + vm->low_size);
	create_disks(vm);
	create_nets(vm);
	assign_devices(vm);
	if (vm->opt.restore || vm->opt.incoming) {
		snapshot_set_tsc(vm);	/* the vCPUs take it when created */
		create_vcpus(vm, NULL);
		snapshot_restore(vm);
	} else {
		create_vcpus(vm, &bs);
	}

	/* The first HVX_GET_REQUEST makes the VM take hvxctl's requests. */
	{
		struct hvx_request r;

		take_requests = !ioctl(vm->fd, HVX_GET_REQUEST, &r) || errno == EAGAIN;
	}

	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->sleep_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0 || vm->sleep_fd < 0)
		die("eventfd: %s", strerror(errno));

	/* Signals: the main thread takes them through a signalfd; vCPU
	 * threads unblock only the kick signal.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);	/* --save, --migrate */
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, KICK_SIGNAL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd: %s", strerror(errno));

	console_init(vm);
	info("%s; %d vCPU%s, %" PRIu64 " MiB%s, %s", bs.desc, vm->ncpus,
	     vm->ncpus > 1 ? "s" : "", vm->opt.mem >> 20,
	     vm->opt.hugepages ? " in huge pages" : "",
	     vm->platform ? "in-kernel devices" : "no in-kernel devices");
	start_vcpus(vm);
	if (vm->opt.incoming)
		migrate_running(vm);	/* the source may stop now */

	while (!vm_stopping(vm)) {
		struct pollfd p[7] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = vm->stop_fd, .events = POLLIN },
			{ .fd = console_stdin_fd(), .events = POLLIN },
			{ .fd = vm->console_fd,
			  .events = POLLIN | (console_pending() ? POLLOUT : 0) },
			{ .fd = vm->sleep_fd, .events = POLLIN },
			{ .fd = migrate_fd(), .events = POLLIN },
			{ .fd = take_requests ? vm->fd : -1, .events = POLLIN },
		};
		bool asleep = sleep_asleep();
		uint64_t cnt;

		/* In S3, look for the RTC alarm every SLEEP_POLL_MS. */
		if (poll(p, 7, asleep ? SLEEP_POLL_MS : -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if ((p[4].revents & POLLIN) && read(vm->sleep_fd, &cnt, sizeof(cnt)) < 0)
			die("eventfd: %s", strerror(errno));
		sleep_poll(vm);
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			char why[64];

			if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
				/* nothing */
			} else if (si.ssi_signo == SIGUSR1) {
				save_requested(vm);
			} else {
				snprintf(why, sizeof(why), "stopped by %s",
					 strsignal((int)si.ssi_signo));
				vm_stop(vm, STOP_SIGNAL, 128 + (int)si.ssi_signo, why);
			}
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (!console_input(vm))
				vm_stop(vm, STOP_USER, 0, "Ctrl-A x");
			else if (asleep && (p[2].revents & POLLIN))
				sleep_console_key();
		}
		if (p[3].revents & POLLIN)
			console_output(vm);
		if (p[3].revents & POLLOUT)
			console_flush(vm);
		if (p[5].revents & POLLIN)
			migrate_ready(vm);
		if ((p[6].revents & POLLIN) && !vm_stopping(vm))
			take_request(vm);
	}

	migrate_cancel(vm);
	kick_vcpus(vm);
	for (int i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			pthread_join((pthread_t)vm->vcpus[i].thread, NULL);
	if (vm->console_fd >= 0)
		console_output(vm);
	fflush(stdout);
	console_restore();

	kind = atomic_load(&stop_state);
	status = stop_status;
	if (save_failed && !status)
		status = 1;	/* --save was asked for and refused */
	if (kind != STOP_ERROR)
		info("%s", stop_why);
	if (vm->opt.summary)
		print_summary(vm);
	if (vm->opt.summary && kind == STOP_SIGNAL)
		print_vcpu_states(vm);

	for (int i = 0; i < vm->ncpus; i++) {
		munmap(vm->vcpus[i].run, HVX_VCPU_MMAP_SIZE);
		close(vm->vcpus[i].fd);
	}
	if (vm->console_fd >= 0)
		close(vm->console_fd);
	close(vm->fd);
	close(vm->sys_fd);
	munmap(vm->ram, vm->ram_size);
	return status;
}
