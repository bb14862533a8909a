// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_boot.c - hvx-kvm-boot: the KVM side of the benchmark's "Linux boot
 * to /init" row. Boots a Linux bzImage in a one-vCPU KVM VM with exactly
 * the RAM, zero page, e820 map, command line, initrd placement, ACPI and
 * MP tables and entry state that hvx-run gives it (it builds hvx-run's
 * boot.c and tables.c), and stops when the guest writes to the debug-exit
 * port 0xf4, which the benchmark's /init does first thing.
 *
 *   hvx-kvm-boot --kernel FILE --initrd FILE --append CMDLINE --mem SIZE
 *                [--trace-exits] [--quiet]
 *
 * The machine is what a minimal VMM gives a KVM guest: KVM_CREATE_IRQCHIP
 * (PIC, IOAPIC, LAPIC) and KVM_CREATE_PIT2 in the kernel, the CPUID table
 * KVM supports (with its paravirtual leaves, as QEMU passes them) plus the
 * TSC-deadline timer and the hypervisor bit, as QEMU adds them; in
 * userspace a 16450-style UART at COM1 without interrupts, the CMOS clock
 * at 0x70/0x71, PCI configuration space as absent (all ones), hvx-run's
 * ACPI PM ports and the debug-exit port. Other ports read all ones;
 * unbacked MMIO reads all ones and drops writes.
 *
 * Output (stdout; the guest console goes there too):
 *
 *   BENCH kvm linux_boot T T T 1 1        TSC from the first KVM_RUN to the
 *                                         0xf4 exit (report.sh's BENCH line)
 *   BENCH kvm linux_boot_exits N N N 1 1  the vCPU's "exits" counter
 *   BENCHX kvm linux_boot user IO 123     exits to this loader, by KVM_EXIT_*
 *   BENCHX kvm linux_boot kstat NAME N    KVM's nonzero vCPU and VM statistics
 *                                         (KVM_GET_STATS_FD: no cost per exit)
 *
 * --trace-exits counts every VM exit by basic exit reason with a histogram
 * trigger on the kvm:kvm_exit tracepoint (tracefs) and prints them as
 * "BENCHX kvm linux_boot vmx NAME N", and the RDMSR/WRMSR that KVM
 * intercepted by MSR (kvm:kvm_msr) as "BENCHX kvm linux_boot msr
 * WRMSR_0x6e0 N", instead of the lines above: the
 * tracepoint costs instructions on every exit, so a traced run gives the
 * breakdown, never the instruction count.
 *
 * Under Bochs with clock sync=none the TSC counts emulated instructions.
 * Exit status 0 when the guest reached the port write, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <linux/kvm.h>

#include "hvx-run.h"
#include "names.h"

#define KVM_TSS_GPA	0xfffbd000	/* as QEMU (and hv_kvm.c) */
#define MAX_CPUID	256
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define MSR_TABLE_ROWS	16	/* --trace-exits: MSRs listed; then "other" */
#define PORT_CMOS_INDEX	0x70
#define PORT_CMOS_DATA	0x71
#define PORT_PCI_CONF	0xcf8	/* 0xcf8-0xcff */
#define TRACE_DIR	"/sys/kernel/tracing"
#define TRIGGER_FILE	TRACE_DIR "/events/kvm/kvm_exit/trigger"
#define HIST_FILE	TRACE_DIR "/events/kvm/kvm_exit/hist"
#define TRIGGER		"hist:keys=exit_reason:vals=hitcount:sort=hitcount.descending"
/* RDMSR/WRMSR that KVM handled, by MSR (kvm:kvm_msr: write 1 for WRMSR) */
#define MSR_TRIGGER_FILE TRACE_DIR "/events/kvm/kvm_msr/trigger"
#define MSR_HIST_FILE	TRACE_DIR "/events/kvm/kvm_msr/hist"
#define MSR_TRIGGER	"hist:keys=write,ecx.hex:vals=hitcount:sort=hitcount.descending"

const char *prog = "hvx-kvm-boot";
static bool quiet;

void info(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Userspace devices */

struct devices {
	/* UART at COM1: registers that read back, no FIFO, no interrupts. */
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	char out[256];
	size_t nout;
	/* CMOS */
	uint8_t cmos_index;
	/* ACPI PM1 enable (bytes 2-3 of PM1a_EVT) */
	uint8_t pm1[4];
	bool stop;
	const char *why;
};

static void uart_flush(struct devices *d)
{
	if (d->nout) {
		fflush(stdout);
		if (write(STDOUT_FILENO, d->out, d->nout) < 0)
			d->nout = 0;	/* nowhere to go: drop it */
	}
	d->nout = 0;
}

static uint8_t com1_io(struct devices *d, unsigned int reg, bool out, uint8_t v)
{
	bool dlab = d->lcr & 0x80;

	switch (reg) {
	case 0:
		if (dlab) {
			if (out)
				d->dll = v;
			return d->dll;
		}
		if (out) {
			d->out[d->nout++] = (char)v;
			if (v == '\n' || d->nout == sizeof(d->out))
				uart_flush(d);
		}
		return 0;		/* RBR: no input */
	case 1:
		if (dlab) {
			if (out)
				d->dlm = v;
			return d->dlm;
		}
		if (out)
			d->ier = v & 0x0f;
		return d->ier;
	case 2:
		return 0x01;		/* IIR: no interrupt, no FIFO */
	case 3:
		if (out)
			d->lcr = v;
		return d->lcr;
	case 4:
		if (out)
			d->mcr = v & 0x1f;
		return d->mcr;
	case 5:
		return 0x60;		/* LSR: THRE | TEMT */
	case 6:
		return 0xb0;		/* MSR: DCD, DSR, CTS */
	default:
		if (out)
			d->scr = v;
		return d->scr;
	}
}

static uint8_t bcd(int v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

/* MC146818: the host's UTC time in BCD, 24-hour mode, never updating. */
static uint8_t cmos_read(struct devices *d)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (d->cmos_index & 0x7f) {
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case 0x32: return bcd(19 + tm.tm_year / 100);
	case 0x0a: return 0x26;		/* 32.768 kHz, 1024 Hz; UIP clear */
	case 0x0b: return 0x02;		/* 24 hour, BCD, no interrupts */
	case 0x0d: return 0x80;		/* valid RAM and time */
	default: return 0;
	}
}

/* One byte of port I/O; ports not listed read all ones. */
static void port_io(struct devices *d, uint16_t port, bool out, uint8_t *data,
		    unsigned int size)
{
	uint32_t val = 0;

	if (out)
		memcpy(&val, data, size);
	else
		memset(data, 0xff, size);
	if (port >= PORT_COM1 && port < PORT_COM1 + 8) {
		for (unsigned int i = 0; i < size && port + i < PORT_COM1 + 8; i++)
			data[i] = com1_io(d, port - PORT_COM1 + i, out, data[i]);
		return;
	}
	switch (port) {
	case PORT_DEBUG_EXIT:
		if (out) {
			d->stop = true;
			d->why = "the guest wrote to the debug-exit port";
		}
		break;
	case PORT_CMOS_INDEX:
		if (out)
			d->cmos_index = (uint8_t)val;
		break;
	case PORT_CMOS_DATA:
		if (!out)
			data[0] = cmos_read(d);
		break;
	/* hvx-run's ACPI ports (tables.c's FADT), with hvx-run's answers. */
	case PORT_ACPI_SLEEP:
		if (out && (val & 0x20) && ((val >> 2) & 7) == 5) {
			d->stop = true;
			d->why = "the guest powered off before /init";
		}
		break;
	case PORT_ACPI_SLEEP_STS:
		if (!out)
			data[0] = 0;
		break;
	case PORT_ACPI_PM1_EVT ... PORT_ACPI_PM1_EVT + 3: {
		unsigned int off = port - PORT_ACPI_PM1_EVT;

		for (unsigned int i = 0; i < size && off + i < 4; i++) {
			if (!out)
				data[i] = d->pm1[off + i];
			else if (off + i >= 2)
				d->pm1[off + i] = data[i];
		}
		break;
	}
	case PORT_ACPI_PM1_CNT:
		if (!out) {
			memset(data, 0, size);
			data[0] = 1;	/* SCI_EN */
		} else if ((val & 0x2000) && ((val >> 10) & 7) == 5) {
			d->stop = true;
			d->why = "the guest powered off before /init";
		}
		break;
	case PORT_ACPI_PM1_CNT + 1:
		if (!out)
			data[0] = 0;
		break;
	case PORT_KBD_CMD:
		if (out && (val & 0xff) == 0xfe) {
			d->stop = true;
			d->why = "the guest reset the machine";
		} else if (!out) {
			data[0] = 0;
		}
		break;
	case PORT_ACPI_RESET:
	case PORT_RESET_CTL:
		if (out && (val & (port == PORT_RESET_CTL ? 0x4 : 0xff)) ==
		    (port == PORT_RESET_CTL ? 0x4 : ACPI_RESET_VALUE)) {
			d->stop = true;
			d->why = "the guest reset the machine";
		}
		break;
	default:
		/* PCI configuration (0xcf8-0xcff) and the rest: absent. */
		break;
	}
}

/* ------------------------------------------------------------------ */
/* KVM */

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int ret = ioctl(fd, req, arg);

	if (ret < 0)
		die("%s: %s", what, strerror(errno));
	return ret;
}

static void set_cpuid(int sys_fd, int vcpu_fd)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_CPUID * sizeof(c->entries[0]));

	if (!c)
		die("out of memory");
	c->nent = MAX_CPUID;
	xioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c, "KVM_GET_SUPPORTED_CPUID");
	/*
	 * KVM's supported table has neither the TSC-deadline timer nor the
	 * "running under a hypervisor" bit; QEMU adds both. Without the
	 * latter Linux does not look for KVM's leaves (no kvmclock, PV EOI,
	 * ...), and it applies the bare-metal microcode check of the
	 * TSC-deadline timer (apic_validate_deadline_timer()), which on a
	 * model with a known erratum and KVM's guest microcode revision turns
	 * the timer off: the guest would then run a different timer than
	 * under hvx-run, which sets the bit.
	 */
	for (uint32_t i = 0; i < c->nent; i++) {
		if (c->entries[i].function != 1)
			continue;
		c->entries[i].ecx |= CPUID_1_ECX_HYPERVISOR;
		if (ioctl(sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
			c->entries[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
	}
	xioctl(vcpu_fd, KVM_SET_CPUID2, c, "KVM_SET_CPUID2");
	free(c);
}

/* The entry state hvx-run's set_boot_regs() gives vCPU 0. */
static void set_boot_regs(int vcpu_fd, const struct boot_state *bs)
{
	struct kvm_regs regs;
	struct kvm_sregs s;

	xioctl(vcpu_fd, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
	BOOT_ENTRY_SREGS(s, bs);
	xioctl(vcpu_fd, KVM_SET_SREGS, &s, "KVM_SET_SREGS");
	BOOT_ENTRY_REGS(regs, bs);
	xioctl(vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

static void set_region(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size,
		       void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	xioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r, "KVM_SET_USER_MEMORY_REGION");
}

/* KVM's binary statistics (Documentation/virt/kvm/api.rst, 4.133): every
 * nonzero counter as "BENCHX kvm linux_boot kstat PREFIX.NAME N"; returns the
 * counter called want (0 if absent).
 */
static uint64_t print_kstats(int fd, const char *prefix, const char *want)
{
	struct kvm_stats_header h;
	uint64_t found = 0;
	size_t dsize;
	char *descs;
	int sfd = ioctl(fd, KVM_GET_STATS_FD, NULL);

	if (sfd < 0) {
		printf("# %s statistics: KVM_GET_STATS_FD: %s\n", prefix, strerror(errno));
		return 0;
	}
	if (pread(sfd, &h, sizeof(h), 0) != sizeof(h))
		die("KVM stats header: %s", strerror(errno));
	dsize = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = calloc(h.num_desc, dsize);
	if (!descs)
		die("out of memory");
	if (pread(sfd, descs, h.num_desc * dsize, h.desc_offset) != (ssize_t)(h.num_desc * dsize))
		die("KVM stats descriptors: %s", strerror(errno));
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsize);
		uint64_t v;

		if (d->size != 1 || (d->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_CUMULATIVE)
			continue;
		if (pread(sfd, &v, sizeof(v), h.data_offset + d->offset) != sizeof(v))
			die("KVM stats data: %s", strerror(errno));
		if (want && !strcmp(d->name, want))
			found = v;
		if (v)
			printf("BENCHX kvm linux_boot kstat %s.%s %" PRIu64 "\n",
			       prefix, d->name, v);
	}
	free(descs);
	close(sfd);
	return found;
}

/* ------------------------------------------------------------------ */
/* The kvm_exit histogram */

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die("%s: %s (tracefs with CONFIG_HIST_TRIGGERS and kvm.ko needed for --trace-exits)",
		    path, strerror(errno));
	close(fd);
}

/* The triggers this process set, removed at exit. */
static bool exit_trigger_set, msr_trigger_set;

static void trigger_remove(const char *path, const char *trigger)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, trigger, strlen(trigger)) < 0)
			fprintf(stderr, "%s: cannot remove the trigger %s: %s\n",
				prog, trigger, strerror(errno));
		close(fd);
	}
}

/* At exit, also after die(): a trigger left behind would slow every later
 * KVM exit and refuse the next --trace-exits. Only those set here: one
 * that was there before (the write failed) is not this run's.
 */
static void trace_remove(void)
{
	if (exit_trigger_set)
		trigger_remove(TRIGGER_FILE, "!" TRIGGER);
	if (msr_trigger_set)
		trigger_remove(MSR_TRIGGER_FILE, "!" MSR_TRIGGER);
}

static void trace_start(void)
{
	if (access(TRIGGER_FILE, W_OK))
		mount("tracefs", TRACE_DIR, "tracefs", 0, NULL);	/* may be there */
	atexit(trace_remove);
	write_file(TRIGGER_FILE, TRIGGER);
	exit_trigger_set = true;
	write_file(MSR_TRIGGER_FILE, MSR_TRIGGER);
	msr_trigger_set = true;
}

/*
 * The kvm_msr histogram as "BENCHX kvm linux_boot msr WRMSR_0x6e0 N": the
 * MSR accesses KVM intercepted and handled (its MSR bitmap lets the others
 * through), in the format hvx-run's --summary gives hvx's.
 */
static void trace_msrs(void)
{
	FILE *f = fopen(MSR_HIST_FILE, "r");
	char line[256];
	unsigned long long wr, ecx, count, other = 0;
	int rows = 0;

	if (!f)
		die("%s: %s", MSR_HIST_FILE, strerror(errno));
	/* The histogram is sorted by decreasing count. */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " { write: %llu , ecx: %llx } hitcount: %llu",
			   &wr, &ecx, &count) == 3) {
			if (rows++ >= MSR_TABLE_ROWS)
				other += count;
			else
				printf("BENCHX kvm linux_boot msr %s_%#llx %llu\n",
				       wr ? "WRMSR" : "RDMSR", ecx, count);
		}
	if (other)
		printf("BENCHX kvm linux_boot msr other %llu\n", other);
	fclose(f);
}

static void trace_stop(void)
{
	FILE *f = fopen(HIST_FILE, "r");
	char line[256];
	unsigned long long reason, count;

	if (!f)
		die("%s: %s", HIST_FILE, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " { exit_reason: %llu } hitcount: %llu", &reason, &count) == 2) {
			if (reason < HVX_STATS_EXIT_REASONS && hvx_exit_names[reason])
				printf("BENCHX kvm linux_boot vmx %s %llu\n", hvx_exit_names[reason], count);
			else
				printf("BENCHX kvm linux_boot vmx reason_%llu %llu\n", reason, count);
		}
	fclose(f);
	trace_msrs();
}

/* ------------------------------------------------------------------ */

static const char *const kvm_exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO", [KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG", [KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO", [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN", [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR", [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
};

#define N_KVM_EXITS (sizeof(kvm_exit_names) / sizeof(kvm_exit_names[0]))

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: %s --kernel BZIMAGE [--initrd FILE] [--append CMDLINE] [--mem SIZE_MIB]\n"
		"       [--trace-exits] [--quiet]\n"
		"Boots the kernel in a 1-vCPU KVM VM as hvx-run would and stops at the\n"
		"guest's first write to port 0xf4 (see the head of kvm_boot.c).\n", prog);
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "mem", required_argument, NULL, 'm' },
		{ "trace-exits", no_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct vm vm;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t user_exits[N_KVM_EXITS] = { 0 }, other_exits = 0;
	uint64_t tsc_start, tsc_stop, exits;
	static struct devices dev;
	struct boot_state bs;
	bool trace = false;
	struct kvm_run *run;
	int sys_fd, vm_fd, vcpu_fd, run_size, c;
	char *end;

	vm.opt.mem = 256 * MiB;
	vm.opt.append = "";
	vm.opt.cpus = 1;
	vm.ncpus = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'k': vm.opt.kernel = optarg; break;
		case 'i': vm.opt.initrd = optarg; break;
		case 'a': vm.opt.append = optarg; break;
		case 'm':
			errno = 0;
			vm.opt.mem = strtoull(optarg, &end, 10) * MiB;
			if (errno || (*end && strcmp(end, "M")) || vm.opt.mem < 16 * MiB ||
			    vm.opt.mem > LOW_RAM_MAX)
				die("--mem: a size in MiB from 16 to 3072, got '%s'", optarg);
			break;
		case 't': trace = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!vm.opt.kernel || optind != argc)
		usage(2);

	alloc_ram(&vm);
	load_kernel(&vm, &bs);
	if (!bs.is_linux)
		die("kernel %s: not a Linux bzImage", vm.opt.kernel);

	sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (sys_fd < 0)
		die("/dev/kvm: %s (are kvm.ko and kvm-intel.ko loaded?)", strerror(errno));
	run_size = ioctl(sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	vm_fd = xioctl(sys_fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	if (ioctl(vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_GPA))
		die("KVM_SET_TSS_ADDR: %s", strerror(errno));
	xioctl(vm_fd, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
	xioctl(vm_fd, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
	set_region(vm_fd, 0, 0, vm.low_size, vm.ram);
	if (vm.high_size)
		set_region(vm_fd, 1, GPA_4G, vm.high_size, vm.ram + vm.low_size);
	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0)
		die("KVM_CREATE_VCPU: %s", strerror(errno));
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (run == MAP_FAILED)
		die("cannot map the kvm_run area: %s", strerror(errno));
	set_cpuid(sys_fd, vcpu_fd);
	set_boot_regs(vcpu_fd, &bs);
	info("%s; 1 vCPU, %" PRIu64 " MiB, KVM irqchip and PIT%s", bs.desc,
	     vm.opt.mem >> 20, trace ? ", kvm_exit traced" : "");

	if (trace)
		trace_start();
	tsc_start = __rdtsc();
	while (!dev.stop) {
		if (ioctl(vcpu_fd, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN: %s", strerror(errno));
		}
		if (run->exit_reason < N_KVM_EXITS)
			user_exits[run->exit_reason]++;
		else
			other_exits++;
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;

			if (run->io.size != 1 && run->io.size != 2 && run->io.size != 4)
				break;
			if (run->io.data_offset + (uint64_t)run->io.size * run->io.count >
			    (uint64_t)run_size)
				die("I/O exit data outside the run area");
			for (uint32_t i = 0; i < run->io.count; i++)
				port_io(&dev, run->io.port, run->io.direction == KVM_EXIT_IO_OUT,
					data + (uint64_t)i * run->io.size, run->io.size);
			break;
		}
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_INTR:
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			break;
		case KVM_EXIT_SHUTDOWN:
			uart_flush(&dev);
			die("triple fault (the guest shut down)");
		case KVM_EXIT_FAIL_ENTRY:
			uart_flush(&dev);
			die("VM entry failed: hardware reason 0x%llx",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			uart_flush(&dev);
			die("KVM internal error: suberror %u", run->internal.suberror);
		default:
			uart_flush(&dev);
			die("unexpected exit reason %u", run->exit_reason);
		}
	}
	tsc_stop = __rdtsc();
	uart_flush(&dev);
	fflush(stdout);
	info("%s", dev.why);
	if (strcmp(dev.why, "the guest wrote to the debug-exit port"))
		return 1;

	if (trace) {
		trace_stop();
		printf("# traced run (figures perturbed by the tracepoint): %" PRIu64 " TSC cycles\n",
		       tsc_stop - tsc_start);
	} else {
		printf("BENCH kvm linux_boot %" PRIu64 " %" PRIu64 " %" PRIu64 " 1 1\n",
		       tsc_stop - tsc_start, tsc_stop - tsc_start, tsc_stop - tsc_start);
		for (size_t i = 0; i < N_KVM_EXITS; i++)
			if (user_exits[i])
				printf("BENCHX kvm linux_boot user %s %" PRIu64 "\n",
				       kvm_exit_names[i] ? kvm_exit_names[i] : "?", user_exits[i]);
		if (other_exits)
			printf("BENCHX kvm linux_boot user other %" PRIu64 "\n", other_exits);
		exits = print_kstats(vcpu_fd, "vcpu", "exits");
		print_kstats(vm_fd, "vm", NULL);
		if (exits)
			printf("BENCH kvm linux_boot_exits %" PRIu64 " %" PRIu64 " %" PRIu64 " 1 1\n",
			       exits, exits, exits);
	}
	return 0;
}
