/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx-run.h - shared definitions of the hvx-run launcher.
 *
 * Files:
 *   main.c     options, VM and vCPU setup, the vCPU threads, exits, teardown
 *   boot.c     guest RAM and loaders: Linux bzImage, multiboot v1 ELF, flat
 *              binary (shared with userspace/bench/kvm_boot.c)
 *   tables.c   e820 map, MP table, ACPI (RSDP, XSDT, FADT, DSDT, MADT)
 *   console.c  stdio console: raw tty, Ctrl-A x, the fallback UART
 *   sleep.c    ACPI PM1 registers, S3 sleep and the firmware's resume
 *   stats.c    the closing summary (exit counts over generic netlink)
 *   snapshot.c --save FILE and --restore FILE: the VM to a file and back;
 *              the records a migration stream shares with the file
 *   migrate.c  --migrate and --incoming: live migration over TCP
 */
#ifndef HVX_RUN_H
#define HVX_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hvx.h"
#include "msg.h"

#define KiB		((uint64_t)1 << 10)
#define MiB		((uint64_t)1 << 20)
#define GiB		((uint64_t)1 << 30)

/*
 * Guest-physical layout. RAM starts at 0; the part above LOW_RAM_MAX
 * continues at 4 GiB, leaving the PCI hole, the IOAPIC (IOAPIC_ADDR)
 * and the LAPIC (LAPIC_ADDR) free below 4 GiB.
 */
#define GPA_GDT		0x1000ull	/* boot GDT (32- and 64-bit entry) */
#define GPA_BOOT_PARAMS	0x7000ull	/* Linux zero page */
#define GPA_PML4	0x9000ull	/* identity page tables, 6 pages */
#define GPA_CMDLINE	0x20000ull	/* command line, up to CMDLINE_MAX */
#define CMDLINE_MAX	0x10000ull
#define GPA_EBDA	0x9fc00ull	/* top of conventional memory */
#define GPA_BIOS	0xe0000ull	/* reserved: ACPI, MP table */
#define GPA_BIOS_END	0x100000ull
#define GPA_HIGH	0x100000ull	/* 1 MiB */
#define LOW_RAM_MAX	0xc0000000ull	/* 3 GiB: the rest goes above 4 GiB */
#define GPA_4G		0x100000000ull
#define IOAPIC_ADDR	0xfec00000ull
#define LAPIC_ADDR	0xfee00000ull
#define IOAPIC_PINS	24

/* Ports that hvx-run itself serves (the rest are the kernel's or dummies). */
#define PORT_DEBUG_EXIT	0xf4	/* QEMU isa-debug-exit: status (v << 1) | 1 */
#define PORT_FW_CFG_SEL	0x510	/* QEMU fw_cfg selector (16 bit) */
#define PORT_FW_CFG_DATA 0x511	/* QEMU fw_cfg data (8 bit) */
#define PORT_ACPI_SLEEP	0x600	/* FADT SLEEP_CONTROL_REG (8 bit) */
#define PORT_ACPI_SLEEP_STS 0x601 /* FADT SLEEP_STATUS_REG (8 bit) */
#define PORT_ACPI_RESET	0x602	/* FADT RESET_REG (8 bit) */
#define PORT_ACPI_PM1_EVT 0x604	/* FADT PM1a_EVT_BLK: status, enable (16 bit each) */
#define PORT_ACPI_PM1_CNT 0x608	/* FADT PM1a_CNT_BLK (16 bit) */
#define ACPI_SCI_IRQ	9	/* FADT SCI_INT; never raised: no fixed events */
#define ACPI_S3_SLP_TYP	1	/* \_S3's SLP_TYP (DSDT) */
#define ACPI_S5_SLP_TYP	5	/* \_S5's SLP_TYP (DSDT) */
#define ACPI_RESET_VALUE 0x1
#define PORT_KBD_CMD	0x64	/* i8042: 0xfe pulses the reset line */
#define PORT_RESET_CTL	0xcf9	/* PIIX reset control */
#define PORT_COM1	0x3f8

/* How the VM ended. */
enum stop_kind {
	STOP_NONE,
	STOP_POWEROFF,		/* ACPI S5 */
	STOP_RESET,		/* reset through i8042, 0xcf9 or ACPI */
	STOP_HALT,		/* every vCPU halted with interrupts off */
	STOP_DEBUG_EXIT,	/* port 0xf4 */
	STOP_USER,		/* Ctrl-A x */
	STOP_SIGNAL,		/* SIGINT/SIGTERM/SIGHUP */
	STOP_ERROR,		/* triple fault, entry failure, internal error */
	STOP_SAVED,		/* --save: the snapshot is written */
	STOP_MIGRATED,		/* --migrate: the destination runs the VM */
};

struct vm;

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct hvx_run *run;
	uint64_t user_exits[HVX_STATS_USER_EXITS];
	bool dead_halt;		/* last exit: HLT with interrupts off */
	bool started;		/* the thread runs */
	unsigned int wakes;	/* S3 resumes this vCPU has been reset for */
	unsigned long thread;	/* pthread_t */
	uint64_t throttle_next;	/* ms: its next migration throttle sleep */
};

#define MAX_DEVICES	4	/* --device at most this often */
#define MAX_DISKS	8	/* --disk at most this often */

/* One --disk FILE[,ro][,serial=S]. */
struct disk_opt {
	const char *arg;	/* as given, for messages */
	char path[4096];
	bool ro;
	char serial[HVX_VIRTIO_SERIAL_LEN];
};

#define MAX_NETS	4	/* --net at most this often */

/* One --net tap=NAME[,mac=M]. */
struct net_opt {
	const char *arg;	/* as given, for messages */
	char tap[16];		/* IFNAMSIZ */
	bool has_mac;		/* else hvx picks a random one */
	uint8_t mac[6];
};

struct options {
	const char *kernel;
	const char *initrd;
	const char *append;
	const char *dev;
	uint64_t mem;
	int cpus;
	bool hugepages;
	bool flat;
	uint64_t flat_addr;
	int entry;		/* 0 auto, 32 or 64: bzImage entry point */
	bool no_acpi;
	bool no_pv;		/* HVX_VM_NO_PV: no KVM paravirtual leaves */
	bool summary;
	bool quiet;
	int ndevices;		/* --device: PCI devices to pass through */
	const char *device_arg[MAX_DEVICES];
	struct hvx_pci_device device[MAX_DEVICES];
	int ndisks;		/* --disk: virtio-blk disks */
	struct disk_opt disk[MAX_DISKS];
	int nnets;		/* --net: virtio-net devices */
	struct net_opt net[MAX_NETS];
	const char *save;	/* --save FILE: snapshot on SIGUSR1 */
	const char *restore;	/* --restore FILE */
	const char *migrate;	/* --migrate tcp:HOST:PORT: on SIGUSR1 */
	const char *incoming;	/* --incoming tcp:HOST:PORT */
	unsigned int max_downtime_ms;	/* --max-downtime, default 300 */
};

struct vm {
	struct options opt;
	int sys_fd;
	int fd;
	int console_fd;		/* in-kernel UART console, or -1 */
	bool platform;		/* in-kernel PIC/PIT/LAPIC/IOAPIC/UART/RTC/PCI */
	uint8_t *ram;
	uint64_t ram_size;	/* mapping size (may be rounded up for hugepages) */
	uint64_t low_size;	/* RAM at [0, low_size) */
	uint64_t high_size;	/* RAM at [4 GiB, 4 GiB + high_size) */
	int ncpus;
	struct vcpu *vcpus;
	int stop_fd;		/* eventfd: a vCPU stopped the VM */
	int sleep_fd;		/* eventfd: a vCPU put the VM in S3 */
	uint64_t facs;		/* GPA of the ACPI FACS, or 0 */
	uint64_t tsc_start;	/* TSC when the vCPUs start */
	uint64_t tsc_stop;	/* TSC at the first vm_stop(), or 0 */
};

/* Entry state a loader leaves for vCPU 0. */
struct boot_state {
	int mode;		/* 32: protected, paging off; 64: long mode */
	uint64_t rip, rsp;
	uint64_t rax, rbx, rsi;
	uint64_t cr3;		/* mode 64 */
	char desc[160];		/* what was loaded, for the start message */
	bool is_linux;		/* a bzImage: needs the in-kernel devices */
	uint64_t gdt;		/* GPA of the boot GDT (load_kernel()) */
};

/*
 * BOOT_ENTRY_SREGS/BOOT_ENTRY_REGS - the boot protocol's entry state of
 * vCPU 0 for @bs, written into @s (a struct hvx_sregs or struct kvm_sregs,
 * read from the vCPU first) and @r (a struct hvx_regs or struct kvm_regs):
 * the same field names, so that hvx-run and the benchmark's KVM loader
 * start the guest identically. Flat 0x10 code and 0x18 data segments of
 * the boot GDT at @bs->gdt; protected mode with paging off (mode 32,
 * Documentation/x86/boot.rst "32-bit BOOT PROTOCOL") or long mode with
 * @bs->cr3 (mode 64); no IDT.
 */
#define BOOT_ENTRY_SREGS(s, bs) do {					\
	__typeof__((s).cs) code_ = {					\
		.base = 0, .limit = 0xffffffff, .selector = 0x10,	\
		.type = 0xb, .present = 1, .s = 1, .db = 1, .g = 1,	\
	};								\
	__typeof__((s).ds) data_ = {					\
		.base = 0, .limit = 0xffffffff, .selector = 0x18,	\
		.type = 0x3, .present = 1, .s = 1, .db = 1, .g = 1,	\
	};								\
	if ((bs)->mode == 64) {						\
		code_.db = 0;						\
		code_.l = 1;						\
		(s).cr3 = (bs)->cr3;					\
		(s).cr4 = 0x20;			/* PAE */		\
		(s).efer = 0x500;		/* LME | LMA */		\
		(s).cr0 = 0x80000011;		/* PG | ET | PE */	\
	} else {							\
		(s).cr0 = 0x11;			/* ET | PE */		\
		(s).cr4 = 0;						\
		(s).efer = 0;						\
	}								\
	(s).cs = code_;							\
	(s).ds = (s).es = (s).fs = (s).gs = (s).ss = data_;		\
	/* Boot GDT: null, null, 0x10 code, 0x18 data. */		\
	(s).gdt.base = (bs)->gdt;					\
	(s).gdt.limit = 4 * 8 - 1;					\
	(s).idt.base = 0;						\
	(s).idt.limit = 0;						\
} while (0)

#define BOOT_ENTRY_REGS(r, bs) do {					\
	memset(&(r), 0, sizeof(r));					\
	(r).rip = (bs)->rip;						\
	(r).rsp = (bs)->rsp;						\
	(r).rax = (bs)->rax;						\
	(r).rbx = (bs)->rbx;						\
	(r).rsi = (bs)->rsi;						\
	(r).rflags = 0x2;						\
} while (0)

/* net.c */
void parse_net(const char *s, struct net_opt *n);
void create_nets(struct vm *vm);

/* main.c */
void __attribute__((format(printf, 1, 2))) info(const char *fmt, ...);
void vm_stop(struct vm *vm, enum stop_kind kind, int status, const char *why);
bool vm_stopping(struct vm *vm);
bool vm_pausing(void);			/* --save: vCPU threads leave HVX_RUN */
bool vm_pause(struct vm *vm);		/* false: the VM is stopping */
void vm_resume(struct vm *vm);
/* Answer hvxctl's request @req (HVX_REQUEST_DONE); @req 0: nothing. */
void __attribute__((format(printf, 4, 5)))
request_done(struct vm *vm, uint32_t req, int error, const char *fmt, ...);

/* boot.c (also linked into the benchmark's KVM loader, userspace/bench/) */
void *gpa_ptr(struct vm *vm, uint64_t gpa, uint64_t len);
void alloc_ram(struct vm *vm);
void load_kernel(struct vm *vm, struct boot_state *bs);	/* and the boot GDT */

/* tables.c */
struct e820 {
	uint64_t addr, size;
	uint32_t type;
};
#define E820_RAM	1
#define E820_RESERVED	2
#define E820_MAX	8
int build_e820(struct vm *vm, struct e820 *map);
uint64_t build_tables(struct vm *vm);	/* returns the RSDP's GPA, or 0 */

/* console.c */
void console_init(struct vm *vm);
void console_restore(void);
int console_stdin_fd(void);
bool console_input(struct vm *vm);	/* false: Ctrl-A x */
void console_output(struct vm *vm);
bool console_pending(void);
void console_flush(struct vm *vm);
bool uart_io(struct vm *vm, uint16_t port, bool out, uint8_t *data);

/* sleep.c */
/*
 * Takes a vCPU thread out of HVX_RUN (pthread_kill()). Not SIGUSR1: that
 * one is for the user (--save).
 */
#define KICK_SIGNAL	SIGUSR2
bool sleep_io(struct vcpu *v, uint16_t port, bool out, uint8_t *data,
	      unsigned int size);	/* false: not a PM1/sleep port */
void sleep_wait(struct vcpu *v);	/* before each HVX_RUN */
bool sleep_asleep(void);
void sleep_poll(struct vm *vm);		/* main thread: RTC alarm wake */
void sleep_console_key(void);		/* main thread: console input wake */
void sleep_stopping(void);		/* vm_stop(): release sleeping vCPUs */
void sleep_get_pm1(uint16_t *sts, uint16_t *en);	/* for a snapshot */
void sleep_set_pm1(uint16_t sts, uint16_t en);
#define SLEEP_POLL_MS	20

/* snapshot.c */
bool snapshot_refused(struct vm *vm, char *why, size_t len);	/* why not */
int snapshot_save(struct vm *vm, const char *path, char *err, size_t errlen);
void snapshot_load(struct vm *vm, const char *path);	/* dies if bad */
/* A stream on @fd (what: for messages); dies if bad; allocates the RAM. */
void snapshot_receive(struct vm *vm, int fd, const char *what);
extern void (*snapshot_refused_hook)(const char *why);	/* before dying */
struct snap_writer;
struct snap_writer *snap_writer_new(int fd);	/* free() it */
int snap_writer_flush(struct snap_writer *w);	/* 0 or -errno */
int snap_writer_error(const struct snap_writer *w);	/* 0 or errno */
uint64_t snap_writer_bytes(const struct snap_writer *w);
void snapshot_write_begin(struct snap_writer *w, struct vm *vm); /* header, config */
uint64_t snapshot_write_pages(struct snap_writer *w, struct vm *vm, int slot,
			      const uint64_t *want, bool zeros, uint64_t first,
			      uint64_t n);	/* pages with data sent */
int snapshot_write_state(struct snap_writer *w, struct vm *vm, char *err,
			 size_t errlen);	/* the paused VM's; -1: err */
void snapshot_write_end(struct snap_writer *w);
void snapshot_load_ram(struct vm *vm);
bool snapshot_platform(void);
void snapshot_set_tsc(struct vm *vm);	/* before the vCPUs exist */
void snapshot_restore(struct vm *vm);	/* devices and vCPUs */

/* migrate.c */
void migrate_check_addr(const char *opt, const char *spec);	/* or usage_error */
/* SIGUSR1 with --migrate (@req 0), or hvxctl's request @req */
void migrate_start(struct vm *vm, const char *to, uint32_t req);
int migrate_fd(void);			/* poll it: pre-copy is over, or -1 */
bool migrate_ready(struct vm *vm);	/* main thread: true if migrated */
void migrate_cancel(struct vm *vm);	/* the VM stops: end a pre-copy */
void migrate_throttle(struct vcpu *v);	/* vCPU thread: auto-converge sleep */
void migrate_receive(struct vm *vm);	/* --incoming: dies if refused */
void migrate_running(struct vm *vm);	/* --incoming: the VM runs: ack */

/* stats.c */
void print_summary(struct vm *vm);
void print_vcpu_states(struct vm *vm);	/* after a stop by a signal */

#endif /* HVX_RUN_H */
