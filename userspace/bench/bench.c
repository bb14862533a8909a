// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - hvx-bench: the same guest microbenchmarks (bench_guest.c) under
 * hvx and under KVM, one after the other, in one process.
 *
 * For every operation and hypervisor it makes a fresh VM with one vCPU in
 * 64-bit mode whose RAM holds a copy of this (static, non-PIE) binary at its
 * link addresses, runs bench_guest_main(op, iters, rounds, fresh), and
 * collects the TSC ticks the guest measured for each round. It prints one
 * line per (hypervisor, operation):
 *
 *   BENCH <hv> <op> <median> <min> <max> <iters> <rounds>   ticks per operation
 *   BENCH <hv> <op> n/a <reason>                             not measurable here
 *   BENCH <hv> <op> error <message>                          the run failed
 *
 * plus "BENCHOP <op> <description>" lines naming the rows, in table order.
 * selftests/vm/bench.sh turns them into the table, the JSON and the plot
 * (userspace/bench/report.sh). Exit code: 0, or 1 if any run failed.
 *
 * Usage: hvx-bench [--iters N] [--rounds N] [--quick] [--hv hvx|kvm]
 *                  [--op NAME]... [--no-devices] [--trace]
 *        hvx-bench --e9    copy stdin to I/O port 0xE9 (Bochs's
 *                          port_e9_hack prints it on its stdout), for
 *                          bench.sh's symbol dump: far faster than the UART
 * With HVX_KVM_DIR set (the emulated host's /init sets it) and no /dev/kvm,
 * it loads irqbypass.ko, kvm.ko and kvm-intel.ko from there first.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "hv.h"
#include "tables.h"

#define SZ_2M		(2ull << 20)
#define PAGE_SIZE	4096ull
#define MAX_LOADS	16
#define MAX_ROUNDS	64

/* Guest symbols (bench_guest.c, bench_entry.S, selftests/lib/guest_entry.S). */
void bench_guest_main(uint64_t op, uint64_t iters, uint64_t rounds,
		      uint64_t fresh, uint64_t flags);
extern const char bench_ud_stub[], bench_ipi_stub[], bench_timer_stub[];
extern const char bench_spurious_stub[], bench_unexpected_stub[];
extern const char guest_return_trap[];

struct bench_op {
	const char *name;
	const char *desc;
	int guest_op;		/* OP_*, or -1: not a guest microbenchmark */
	int needs_devices;	/* needs the in-kernel PIC/LAPIC */
	unsigned int iter_div;	/* fewer iterations for slow operations */
	const char *na;		/* why it is not measured yet (guest_op -1) */
};

static const struct bench_op ops[] = {
	{ "cpuid", "CPUID exit (leaf 0)", OP_CPUID, 0, 1, NULL },
	{ "vmcall", "VMCALL round trip", OP_VMCALL, 0, 1, NULL },
	{ "pio_kernel", "port I/O handled in the kernel (IN 0x21)",
	  OP_PIO_KERNEL, 1, 1, NULL },
	{ "pio_user", "port I/O exit to userspace and back", OP_PIO_USER,
	  0, 1, NULL },
	{ "mmio_user", "MMIO exit to userspace and back", OP_MMIO_USER,
	  0, 1, NULL },
	{ "ept_fault", "EPT fault-in per fresh 4 KiB page", OP_EPT_FAULT,
	  0, 1, NULL },
	{ "ipi", "interrupt injection (self-IPI to handler)", OP_IPI,
	  1, 1, NULL },
	{ "hlt_wake", "HLT wake-up (timer deadline to handler)", OP_HLT_WAKE,
	  1, 10, NULL },
	{ "linux_boot", "guest Linux boot to /init", -1, 0, 1,
	  "measured by bench.sh (hvx-run and hvx-kvm-boot), not by hvx-bench" },
	{ "nic_throughput", "passed-through NIC throughput", -1, 0, 1,
	  "needs PCI passthrough" },
	{ "nic_ping", "passed-through NIC ping latency", -1, 0, 1,
	  "needs PCI passthrough" },
};

#define NR_OPS	(sizeof(ops) / sizeof(ops[0]))

static struct {
	int nr;
	Elf64_Phdr ph[MAX_LOADS];
	uint64_t end;
} self_elf;

static unsigned long iters = 1000, rounds = 5;
/* --no-devices: measure without the in-kernel interrupt controllers. */
static bool no_devices;
/* --trace: one more iteration between two Bochs magic breakpoints. */
static bool trace;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "hvx-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static void read_self_elf(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (fd < 0)
		die("/proc/self/exe: %s", strerror(errno));
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_type != ET_EXEC)
		die("/proc/self/exe is not a static, non-PIE ELF executable");
	for (int i = 0; i < eh.e_phnum; i++) {
		off_t off = eh.e_phoff + (off_t)i * eh.e_phentsize;

		if (pread(fd, &ph, sizeof(ph), off) != sizeof(ph))
			die("reading program header %d", i);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (self_elf.nr == MAX_LOADS)
			die("too many PT_LOAD segments");
		if (ph.p_vaddr < GPA_HOLE_END)
			die("PT_LOAD at 0x%llx overlaps the guest tables",
			    (unsigned long long)ph.p_vaddr);
		self_elf.ph[self_elf.nr++] = ph;
		if (ph.p_vaddr + ph.p_memsz > self_elf.end)
			self_elf.end = ph.p_vaddr + ph.p_memsz;
	}
	close(fd);
	if (self_elf.end > BENCH_FRESH_GPA)
		die("binary too large for the guest layout");
}

/* The guest image: the binary at its link addresses, and the selftests'
 * GDT, TSS and page tables (identity-mapping 0..4 GiB with 2 MiB pages)
 * with an IDT of 256 gates: the library's exception stubs, the benchmark's
 * interrupt stubs, and bench_unexpected_stub for every other vector. The
 * same bytes under both hypervisors.
 */
static void build_image(uint8_t *ram)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("/proc/self/exe: %s", strerror(errno));
	for (int i = 0; i < self_elf.nr; i++) {
		Elf64_Phdr *ph = &self_elf.ph[i];

		if (pread(fd, ram + ph->p_vaddr, ph->p_filesz, ph->p_offset) !=
		    (ssize_t)ph->p_filesz)
			die("reading PT_LOAD %d", i);
	}
	close(fd);

	tables_init(ram);
	for (int v = IDT_VECTORS; v < 256; v++)
		tables_set_gate(ram, v, (uint64_t)bench_unexpected_stub);
	tables_set_gate(ram, X86_VEC_UD, (uint64_t)bench_ud_stub);
	tables_set_gate(ram, VEC_IPI, (uint64_t)bench_ipi_stub);
	tables_set_gate(ram, VEC_TIMER, (uint64_t)bench_timer_stub);
	tables_set_gate(ram, VEC_SPURIOUS, (uint64_t)bench_spurious_stub);
}

/* The library's 64-bit mode registers (tables_long_sregs()) in the
 * drivers' neutral form, with the IDT limit raised to 256 gates. */
static void seg_from_lib(struct bseg *d, const struct hvx_segment *s)
{
	*d = (struct bseg){
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->type, .present = s->present, .dpl = s->dpl,
		.db = s->db, .s = s->s, .l = s->l, .g = s->g, .avl = s->avl,
		.unusable = s->unusable,
	};
}

static void long_mode_sregs(struct bsregs *b)
{
	struct hvx_sregs s = { 0 };

	tables_long_sregs(&s);
	seg_from_lib(&b->cs, &s.cs);
	seg_from_lib(&b->ds, &s.ds);
	seg_from_lib(&b->es, &s.es);
	seg_from_lib(&b->fs, &s.fs);
	seg_from_lib(&b->gs, &s.gs);
	seg_from_lib(&b->ss, &s.ss);
	seg_from_lib(&b->tr, &s.tr);
	seg_from_lib(&b->ldt, &s.ldt);
	b->gdt = (struct bdtable){ s.gdt.base, s.gdt.limit };
	b->idt = (struct bdtable){ s.idt.base, IDT_LIMIT };
	b->cr0 = s.cr0;
	b->cr3 = s.cr3;
	b->cr4 = s.cr4;
	b->efer = s.efer;
}

/* A NUL-terminated string in the guest's RAM (a GUEST_ASSERT's file or
 * expression, in the binary's .rodata), or a placeholder. */
static const char *ram_str(const uint8_t *ram, uint64_t ram_size,
			     uint64_t gva)
{
	if (gva < GPA_HOLE_END || gva >= ram_size ||
	    !memchr(ram + gva, 0, ram_size - gva))
		return "(bad string)";
	return (const char *)ram + gva;
}

struct result {
	unsigned long n;		/* rounds received */
	uint64_t ticks[MAX_ROUNDS];
	char err[300];
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Run one operation in a fresh VM. Returns 0 (r->ticks filled), -EOPNOTSUPP
 * (r->err says why it cannot be measured) or another -errno (r->err).
 */
static int run_one(const struct hv_ops *h, const struct bench_op *op,
		   unsigned long n, struct result *r)
{
	uint64_t ram_size = (self_elf.end + SZ_2M - 1) & ~(SZ_2M - 1);
	uint64_t fresh_size = (EPT_WARMUP_PAGES + n * rounds +
			       BENCH_TRACE_WINDOWS) * PAGE_SIZE;
	uint64_t max_exits = (n + WARMUP_ITERS) * (rounds + 1) * 4;
	uint8_t *ram = MAP_FAILED, *fresh = MAP_FAILED;
	struct hv *hv = NULL;
	struct bsregs s;
	struct bregs regs;
	struct bexit e;
	uint64_t user_exits = 0, want_exits = 0;
	int ret, devices;

	fresh_size = (fresh_size + SZ_2M - 1) & ~(SZ_2M - 1);
	ret = h->open(&hv, r->err, sizeof(r->err));
	if (ret)
		return ret == -ENOENT || ret == -EOPNOTSUPP || ret == -EBUSY ?
		       -EOPNOTSUPP : ret;
	devices = no_devices ? -EOPNOTSUPP : h->create_devices(hv, r->err, sizeof(r->err));
	if (devices && devices != -EOPNOTSUPP) {
		ret = devices;
		goto out;
	}
	if (devices && op->needs_devices) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	r->err[0] = 0;

	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	fresh = mmap(NULL, fresh_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED || fresh == MAP_FAILED) {
		ret = -ENOMEM;
		snprintf(r->err, sizeof(r->err), "mmap guest memory failed");
		goto out;
	}
	/* Fresh memory is faulted in 4 KiB at a time under both
	 * hypervisors: no transparent huge page behind it.
	 */
	madvise(fresh, fresh_size, MADV_NOHUGEPAGE);
	build_image(ram);

	ret = h->set_memory(hv, 0, 0, ram_size, ram);
	if (!ret)
		ret = h->set_memory(hv, 1, BENCH_FRESH_GPA, fresh_size, fresh);
	if (ret) {
		snprintf(r->err, sizeof(r->err), "set memory: %s", strerror(-ret));
		goto out;
	}
	ret = h->create_vcpu(hv);
	if (ret) {
		snprintf(r->err, sizeof(r->err), "create vCPU: %s", strerror(-ret));
		goto out;
	}
	long_mode_sregs(&s);
	ret = h->set_sregs(hv, &s);
	if (ret) {
		snprintf(r->err, sizeof(r->err), "set sregs: %s", strerror(-ret));
		goto out;
	}
	regs = (struct bregs){
		.rip = (uint64_t)bench_guest_main,
		.rdi = op->guest_op, .rsi = n, .rdx = rounds,
		.rcx = BENCH_FRESH_GPA,
		.r8 = trace ? BENCH_F_TRACE |
			      (uint64_t)(h == &hv_kvm_ops) << BENCH_F_HV_SHIFT : 0,
		.rsp = GPA_STACKS_TOP - 8, .rflags = X86_RFLAGS_FIXED,
	};
	*(uint64_t *)(ram + regs.rsp) = (uint64_t)guest_return_trap;
	ret = h->set_regs(hv, &regs);
	if (ret) {
		snprintf(r->err, sizeof(r->err), "set regs: %s", strerror(-ret));
		goto out;
	}

	for (uint64_t exits = 0; ; exits++) {
		if (exits > max_exits) {
			ret = -EIO;
			snprintf(r->err, sizeof(r->err),
				 "more than %llu exits without DONE",
				 (unsigned long long)max_exits);
			goto out;
		}
		ret = h->run(hv, &e);
		if (ret) {
			snprintf(r->err, sizeof(r->err), "run: %s", strerror(-ret));
			goto out;
		}
		if ((e.kind == BX_IO && e.write && e.port == BENCH_PIO_PORT &&
		     op->guest_op == OP_PIO_USER) ||
		    (e.kind == BX_MMIO && e.write && e.gpa == BENCH_MMIO_GPA &&
		     op->guest_op == OP_MMIO_USER)) {
			user_exits++;
			continue;
		}
		if (!(e.kind == BX_IO && e.write && e.port == UCALL_PORT &&
		      e.size == 4 && e.count == 1)) {
			ret = -EIO;
			if (e.kind == BX_OTHER)
				snprintf(r->err, sizeof(r->err), "%s", e.desc);
			else
				snprintf(r->err, sizeof(r->err),
					 "unexpected %s exit (port 0x%x gpa 0x%llx)",
					 e.kind == BX_IO ? "I/O" : "MMIO", e.port,
					 (unsigned long long)e.gpa);
			goto out;
		}
		ret = h->get_regs(hv, &regs);
		if (ret) {
			snprintf(r->err, sizeof(r->err), "get regs: %s", strerror(-ret));
			goto out;
		}
		switch ((uint32_t)regs.rax) {
		case UCALL_SYNC:	/* op, round, ticks */
			if (regs.rsi != r->n || r->n >= MAX_ROUNDS) {
				ret = -EIO;
				snprintf(r->err, sizeof(r->err), "round %llu out of order",
					 (unsigned long long)regs.rsi);
				goto out;
			}
			r->ticks[r->n++] = regs.rdx;
			continue;
		case UCALL_DONE:
			ret = r->n == rounds ? 0 : -EIO;
			if (ret) {
				snprintf(r->err, sizeof(r->err),
					 "guest done after %lu of %lu rounds",
					 r->n, rounds);
				goto out;
			}
			/* One exit to userspace per iteration, no more. */
			if (op->guest_op == OP_PIO_USER ||
			    op->guest_op == OP_MMIO_USER)
				want_exits = (n < WARMUP_ITERS ? n : WARMUP_ITERS) +
					     n * rounds +
					     (trace ? BENCH_TRACE_WINDOWS : 0);
			if (user_exits != want_exits) {
				ret = -EIO;
				snprintf(r->err, sizeof(r->err),
					 "%llu exits to userspace, expected %llu",
					 (unsigned long long)user_exits,
					 (unsigned long long)want_exits);
			}
			goto out;
		case UCALL_UNHANDLED:
			ret = -EIO;
			snprintf(r->err, sizeof(r->err),
				 "guest vector %llu, error code 0x%llx at RIP 0x%llx",
				 (unsigned long long)regs.rdi,
				 (unsigned long long)regs.rsi,
				 (unsigned long long)regs.rdx);
			goto out;
		case UCALL_ASSERT: {
			const struct guest_assert_info *info;

			ret = -EIO;
			if (regs.rdi < GPA_HOLE_END ||
			    regs.rdi + sizeof(*info) > ram_size) {
				snprintf(r->err, sizeof(r->err),
					 "guest check failed (bad info 0x%llx)",
					 (unsigned long long)regs.rdi);
				goto out;
			}
			info = (const void *)(ram + regs.rdi);
			snprintf(r->err, sizeof(r->err),
				 "guest check failed at %s:%d: %s (value %llu)",
				 ram_str(ram, ram_size, (uint64_t)info->file),
				 info->line,
				 ram_str(ram, ram_size, (uint64_t)info->expr),
				 (unsigned long long)regs.rdx);
			goto out;
		}
		default:
			ret = -EIO;
			snprintf(r->err, sizeof(r->err), "unknown ucall %llu",
				 (unsigned long long)regs.rax);
			goto out;
		}
	}
out:
	if (hv)
		h->close(hv);
	if (ram != MAP_FAILED)
		munmap(ram, ram_size);
	if (fresh != MAP_FAILED)
		munmap(fresh, fresh_size);
	return ret;
}

/* Error text on one line. */
static const char *oneline(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return s;
}

static int bench_hv(const struct hv_ops *h, const char *only[], int nonly)
{
	int failed = 0;

	for (size_t i = 0; i < NR_OPS; i++) {
		const struct bench_op *op = &ops[i];
		unsigned long n = iters / op->iter_div ? iters / op->iter_div : 1;
		struct result r = { 0 };
		double per[MAX_ROUNDS];
		int ret, skip = nonly > 0;

		for (int k = 0; k < nonly; k++)
			if (!strcmp(only[k], op->name))
				skip = 0;
		if (skip)
			continue;
		if (op->guest_op < 0) {
			printf("BENCH %s %s n/a %s\n", h->name, op->name, op->na);
			continue;
		}
		fprintf(stderr, "# %s %s: %lu x %lu\n", h->name, op->name,
			rounds, n);
		ret = run_one(h, op, n, &r);
		if (ret == -EOPNOTSUPP) {
			printf("BENCH %s %s n/a %s\n", h->name, op->name,
			       oneline(r.err));
		} else if (ret) {
			printf("BENCH %s %s error %s\n", h->name, op->name,
			       oneline(r.err));
			failed = 1;
		} else {
			for (unsigned long k = 0; k < r.n; k++)
				per[k] = (double)r.ticks[k] / n;
			qsort(per, r.n, sizeof(per[0]), cmp_double);
			printf("BENCH %s %s %.1f %.1f %.1f %lu %lu\n", h->name,
			       op->name, r.n % 2 ? per[r.n / 2] :
			       (per[r.n / 2 - 1] + per[r.n / 2]) / 2,
			       per[0], per[r.n - 1], n, r.n);
		}
		fflush(stdout);
	}
	return failed;
}

/* KVM's modules, in load order, from $HVX_KVM_DIR if /dev/kvm is missing. */
static void load_kvm(void)
{
	static const char *const mods[] = { "irqbypass.ko", "kvm.ko", "kvm-intel.ko" };
	const char *dir = getenv("HVX_KVM_DIR");
	char path[4096];

	if (!access("/dev/kvm", F_OK) || !dir || !*dir)
		return;
	for (size_t i = 0; i < 3; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, mods[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "# %s: %s\n", path, strerror(errno));
			return;
		}
		if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)
			fprintf(stderr, "# finit_module(%s): %s\n", path,
				strerror(errno));
		close(fd);
	}
}

static unsigned long parse_num(const char *s, const char *what,
			       unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || !v || v > max)
		die("%s must be a number from 1 to %lu: '%s'", what, max, s);
	return v;
}

static void __attribute__((noreturn)) usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: hvx-bench [--iters N] [--rounds N] [--quick] [--hv hvx|kvm] [--op NAME]...\n"
		"                 [--no-devices] [--trace]\n"
		"--no-devices: no in-kernel PIC/LAPIC (no HVX_CREATE_PLATFORM, no\n"
		"KVM_CREATE_IRQCHIP); the operations that need them are n/a\n"
		"--quick: 5 rounds of 10 iterations (1 for HLT)\n"
		"--trace: after the warm-up, %d more iterations of each operation, each\n"
		"between two Bochs magic breakpoints (xchg %%bx,%%bx), outside the timed\n"
		"rounds; bench.sh traces those windows (userspace/bench/README.md)\n"
		"hvx-bench --e9: copy stdin to I/O port 0xE9 (Bochs's port_e9_hack)\n",
		BENCH_TRACE_WINDOWS);
	exit(code);
}

/* --e9: stdin to port 0xE9, a byte per OUT; 0, or 1 without port access. */
static int copy_to_port_e9(void)
{
	int c;

	if (syscall(SYS_ioperm, 0xe9, 1, 1)) {
		perror("hvx-bench: ioperm(0xe9)");
		return 1;
	}
	while ((c = getchar()) != EOF)
		outb(0xe9, c);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "iters", required_argument, NULL, 'i' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "quick", no_argument, NULL, 'q' },
		{ "hv", required_argument, NULL, 'H' },
		{ "op", required_argument, NULL, 'o' },
		{ "no-devices", no_argument, NULL, 'n' },
		{ "trace", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *only[NR_OPS], *hv = NULL;
	int nonly = 0, c, failed = 0;

	if (argc == 2 && !strcmp(argv[1], "--e9"))
		return copy_to_port_e9();

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			iters = parse_num(optarg, "--iters", 1000000);
			break;
		case 'r':
			rounds = parse_num(optarg, "--rounds", MAX_ROUNDS);
			break;
		case 'q':	/* rounds: one a host tick lands in is not the fastest */
			iters = 10;
			rounds = 5;
			break;
		case 'H':
			if (strcmp(optarg, "hvx") && strcmp(optarg, "kvm"))
				die("--hv must be hvx or kvm: '%s'", optarg);
			hv = optarg;
			break;
		case 'o': {
			size_t i;

			for (i = 0; i < NR_OPS && strcmp(ops[i].name, optarg); i++)
				;
			if (i == NR_OPS)
				die("unknown operation '%s'", optarg);
			if (nonly < (int)NR_OPS)
				only[nonly++] = optarg;
			break;
		}
		case 'n':
			no_devices = true;
			break;
		case 't':
			trace = true;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);

	read_self_elf();
	for (size_t i = 0; i < NR_OPS; i++)
		printf("BENCHOP %s %s\n", ops[i].name, ops[i].desc);
	fflush(stdout);
	/* KVM's modules are loaded before either run, so that both run on
	 * the same host.
	 */
	if (!hv || !strcmp(hv, "kvm"))
		load_kvm();
	if (!hv || !strcmp(hv, "hvx"))
		failed |= bench_hv(&hv_hvx_ops, only, nonly);
	if (!hv || !strcmp(hv, "kvm"))
		failed |= bench_hv(&hv_kvm_ops, only, nonly);
	return failed;
}
