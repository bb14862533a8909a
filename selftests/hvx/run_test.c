// SPDX-License-Identifier: GPL-2.0
/*
 * run_test - the hvx-run launcher, run as a user would run it.
 *
 * - Every documented error (bad option, a file that is no kernel, a kernel
 *   or initrd too large for the guest RAM, no /dev/hvx, VMX held by KVM)
 *   gives one line on stderr and its exit status, and no VM stays behind.
 * - Tiny flat guests end the VM through each way out: the debug-exit
 *   port, ACPI poweroff, reset, halt, a triple fault (reported with the
 *   registers), SIGTERM and Ctrl-A x.
 * - mbkernel (a multiboot ELF, built from mbkernel/ and embedded here)
 *   checks the multiboot information, fw_cfg, the ACPI and MP tables and a
 *   module, and reports through the debug-exit port.
 * - The Debian kernel boots as a guest with 1 and 2 vCPUs from the files
 *   check.sh puts in /lib/hvx/guest/, runs a command given on its command
 *   line, and powers off; with 1 vCPU it first suspends to RAM (ACPI S3)
 *   and is woken by its RTC alarm. It finds and uses the KVM paravirtual
 *   interface (kvm-clock, no PIT calibration; with 2 vCPUs PV spinlocks,
 *   IPIs, TLB flushes and sched yield); with hvx-run --no-pv it finds
 *   none, and the 2-vCPU boot makes more exits (PAUSE exits aside). Its
 *   --summary gives the directed yields of its PAUSE-loop exits (on one
 *   host CPU, some) and its hypercalls by number: with 2 vCPUs at least
 *   one KVM_HC_SEND_IPI (booted with no_ipi_broadcast=1), none with
 *   --no-pv.
 *
 * hvx-run is $HVX_RUN, else /usr/bin/hvx-run (where check.sh installs it).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "hvx_test.h"

#define GUEST_DIR	"/lib/hvx/guest"
#define DEBUG_EXIT_PASS	((0x10 << 1) | 1)	/* mbkernel's PASS_CODE */
/*
 * Hang guard for a Linux guest (seconds of the emulated host's clock,
 * i.e. emulated seconds in Bochs): the four boots and the rest of the
 * program must fit the 300 s per-program limit in settings.
 */
#define LINUX_LIMIT_S	130

extern const char mbkernel_start[], mbkernel_end[];
extern const char mbkernel_low_start[], mbkernel_low_end[];

static bool have_platform(void);

static const char *hvx_run_path(void)
{
	const char *p = getenv("HVX_RUN");

	return p && *p ? p : "/usr/bin/hvx-run";
}

struct result {
	int status;		/* exit status, or 128 + signal */
	char out[65536];	/* stdout (the guest's console) */
	char err[16384];	/* stderr (hvx-run's messages) */
	int err_lines;
	bool timed_out;		/* run_streamed() stopped it */
};

static void read_all(int fd, char *buf, size_t size)
{
	ssize_t n;
	size_t len = 0;

	lseek(fd, 0, SEEK_SET);
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fd);
}

/*
 * Start hvx-run with args (NULL-terminated, without argv[0]); its stdout
 * and stderr go to files. stdin_data, if set, is what it reads on stdin;
 * else, with in_fd, *in_fd is the write end of its stdin.
 */
static pid_t spawn_in(char *const args[], const char *stdin_data, int *out_fd,
		      int *err_fd, int *in_fd)
{
	char *argv[64];
	int in[2];
	pid_t pid;
	int n = 0;

	argv[n++] = (char *)hvx_run_path();
	for (int i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	*out_fd = memfd_create("hvx-run-out", 0);
	*err_fd = memfd_create("hvx-run-err", 0);
	if (*out_fd < 0 || *err_fd < 0 || pipe(in))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(*out_fd, 1);
		dup2(*err_fd, 2);
		close(in[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	if (stdin_data && write(in[1], stdin_data, strlen(stdin_data)) < 0)
		pid = -1;
	/* Without stdin_data the pipe stays open: no EOF games. */
	if (stdin_data)
		close(in[1]);
	else if (in_fd)
		*in_fd = in[1];
	return pid;
}

static pid_t spawn(char *const args[], const char *stdin_data, int *out_fd,
		   int *err_fd)
{
	return spawn_in(args, stdin_data, out_fd, err_fd, NULL);
}

static void collect(int st, int out_fd, int err_fd, struct result *r)
{
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	read_all(out_fd, r->out, sizeof(r->out));
	read_all(err_fd, r->err, sizeof(r->err));
	r->err_lines = 0;
	for (char *p = r->err; *p; p++)
		r->err_lines += *p == '\n';
}

static void finish(pid_t pid, int out_fd, int err_fd, struct result *r)
{
	int st = 0;

	waitpid(pid, &st, 0);
	collect(st, out_fd, err_fd, r);
}

/*
 * run(), but the guest's console also goes to our output as it comes, as
 * "# " lines (a Linux boot in Bochs takes minutes: the log shows where).
 */
static void run_streamed(char *const args[], struct result *r, int limit_s)
{
	struct timespec t0, t;
	char buf[4096], line[512];
	int out_fd, err_fd, st = 0;
	size_t n_line = 0;
	off_t off = 0;
	pid_t pid = spawn(args, NULL, &out_fd, &err_fd);
	bool exited = false;

	r->status = -1;
	r->out[0] = r->err[0] = 0;
	r->timed_out = false;
	if (pid <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!exited) {
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > limit_s && !r->timed_out) {
			/* A hang guard, not a measurement: stop hvx-run. */
			r->timed_out = true;
			kill(pid, SIGTERM);
		}

		exited = waitpid(pid, &st, WNOHANG) == pid;
		while ((n = pread(out_fd, buf, sizeof(buf), off)) > 0) {
			off += n;
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] == '\r')
					continue;
				if (buf[i] != '\n' && n_line < sizeof(line) - 1) {
					line[n_line++] = buf[i];
					continue;
				}
				if (buf[i] == '\n') {
					line[n_line] = 0;
					printf("# %s\n", line);
					n_line = 0;
				}
			}
			fflush(stdout);
		}
		if (!exited)
			msleep(500);
	}
	collect(st, out_fd, err_fd, r);
}

static void run(char *const args[], struct result *r)
{
	int out_fd, err_fd;
	pid_t pid = spawn(args, NULL, &out_fd, &err_fd);

	r->status = -1;
	r->out[0] = r->err[0] = 0;
	if (pid > 0)
		finish(pid, out_fd, err_fd, r);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		lib_fail(__FILE__, __LINE__, "writing %s: %m", path);
	close(fd);
}

/* A file of len bytes that starts with head. */
static void write_sized(const char *path, const void *head, size_t hlen, size_t len)
{
	char *buf = calloc(1, len);

	if (!buf)
		lib_fail(__FILE__, __LINE__, "calloc");
	memcpy(buf, head, hlen < len ? hlen : len);
	write_file(path, buf, len);
	free(buf);
}

/*
 * A bzImage-shaped file (Documentation/x86/boot.rst): one setup sector,
 * "HdrS", protocol 2.15, loaded high, relocatable, init_size bytes.
 */
static void write_fake_bzimage(const char *path, uint32_t init_size)
{
	uint8_t img[4096] = { 0 };

	img[0x1f1] = 1;				/* setup_sects */
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	img[0x201] = 0x6a;			/* header length */
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f;
	img[0x207] = 0x02;			/* version 2.15 */
	img[0x211] = 0x01;			/* LOADED_HIGH */
	img[0x216] = 0x10;			/* code32_start 0x100000 */
	img[0x22c] = 0xff; img[0x22d] = 0xff;
	img[0x22e] = 0xff; img[0x22f] = 0x7f;	/* initrd_addr_max */
	img[0x232] = 0x20;			/* kernel_alignment 2 MiB */
	img[0x234] = 1;				/* relocatable */
	img[0x238] = 0xff; img[0x239] = 0x07;	/* cmdline_size */
	img[0x25a] = 0x10;			/* pref_address 0x100000 */
	memcpy(img + 0x260, &init_size, 4);
	write_file(path, img, sizeof(img));
}

FIXTURE(run) {
	char dir[64];
	char path[9][128];
};

enum { F_MB, F_FLAT, F_TEXT, F_BIG, F_BZ, F_BZBIG, F_INITRD, F_MOD, F_MBLOW };

FIXTURE_SETUP(run)
{
	strcpy(self->dir, "/tmp/run_test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	for (int i = 0; i < 9; i++)
		snprintf(self->path[i], sizeof(self->path[i]), "%s/f%d", self->dir, i);
	write_file(self->path[F_MB], mbkernel_start, mbkernel_end - mbkernel_start);
	write_file(self->path[F_MBLOW], mbkernel_low_start,
		   mbkernel_low_end - mbkernel_low_start);
	write_file(self->path[F_TEXT], "this is not a kernel\n", 21);
	write_sized(self->path[F_BIG], "", 0, 5 << 20);
	write_fake_bzimage(self->path[F_BZ], 1 << 20);
	write_fake_bzimage(self->path[F_BZBIG], 8 << 20);
	write_sized(self->path[F_INITRD], "", 0, 3 << 20);
	write_sized(self->path[F_MOD], "HVXMOD", 6, 8192);
	if (access(hvx_run_path(), X_OK))
		SKIP(return, "%s: %s (set HVX_RUN)", hvx_run_path(), strerror(errno));
}

FIXTURE_TEARDOWN(run)
{
	for (int i = 0; i < 9; i++)
		unlink(self->path[i]);
	rmdir(self->dir);
}

/* hvx-run failed with status and one line on stderr containing msg. */
#define ASSERT_ONE_LINE_ERROR(r, st, msg) do {				\
	ASSERT_EQ(st, (r)->status) TH_LOG("stderr: %s", (r)->err);	\
	ASSERT_EQ(1, (r)->err_lines) TH_LOG("stderr: %s", (r)->err);	\
	ASSERT_EQ(0, strncmp((r)->err, "hvx-run: ", 9)) TH_LOG("stderr: %s", (r)->err); \
	ASSERT_NE(NULL, strstr((r)->err, msg))				\
		TH_LOG("expected \"%s\" in: %s", msg, (r)->err);	\
} while (0)

static void flat_guest(FIXTURE_DATA(run) *self, const uint8_t *code, size_t len)
{
	write_file(self->path[F_FLAT], code, len);
}

/* ---- Errors ---------------------------------------------------------- */

TEST_F(run, bad_options)
{
	static const struct {
		const char *args[7];	/* up to 6 arguments and the NULL */
		const char *msg;
	} cases[] = {
		{ { NULL }, "no --kernel given" },
		{ { "--bogus", NULL }, "unknown option '--bogus'" },
		{ { "--kernel", "k", "--mem", "12Q", NULL }, "--mem: '12Q' is not a size" },
		{ { "--kernel", "k", "--mem", "1M", NULL }, "less than 4 MiB" },
		{ { "--kernel", "k", "--cpus", "0", NULL }, "--cpus: 0 is not between 1 and 64" },
		{ { "--kernel", "k", "--cpus", "65", NULL }, "--cpus: 65 is not between 1 and 64" },
		{ { "--kernel", "k", "--entry", "16", NULL }, "--entry: '16' is not 32 or 64" },
		{ { "--kernel", "k", "--flat", "x", NULL }, "--flat: 'x' is not a number" },
		{ { "--kernel", "k", "extra", NULL }, "unexpected argument 'extra'" },
		{ { "--kernel", "k", "--flat", "0", "--initrd", "i" }, "--initrd cannot be used with --flat" },
	};
	struct result *r = calloc(1, sizeof(*r));

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		run((char *const *)cases[i].args, r);
		ASSERT_ONE_LINE_ERROR(r, 2, cases[i].msg);
		ASSERT_NE(NULL, strstr(r->err, "(try 'hvx-run --help')"));
	}
	free(r);
}

TEST_F(run, not_a_kernel)
{
	struct result *r = calloc(1, sizeof(*r));
	char *text[] = { "--kernel", self->path[F_TEXT], NULL };
	char *elf[] = { "--kernel", "/proc/self/exe", NULL };
	char *none[] = { "--kernel", "/nonexistent/vmlinuz", NULL };

	run(text, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "not a Linux bzImage or multiboot ELF");
	run(elf, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "an ELF file without a multiboot header");
	run(none, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "No such file or directory");
	free(r);
}

TEST_F(run, too_large_for_ram)
{
	struct result *r = calloc(1, sizeof(*r));
	char *big[] = { "--kernel", self->path[F_BIG], "--mem", "4M", NULL };
	char *bz[] = { "--kernel", self->path[F_BZBIG], "--mem", "4M", NULL };
	char *rd[] = { "--kernel", self->path[F_BZ], "--mem", "4M",
		       "--initrd", self->path[F_INITRD], NULL };
	char *mbrd[] = { "--kernel", self->path[F_MB], "--mem", "4M",
			 "--initrd", self->path[F_INITRD], NULL };

	run(big, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "is too large for the guest RAM (4 MiB)");
	run(bz, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "needs 8 MiB of RAM");
	run(rd, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "does not fit in the guest RAM above the kernel");
	run(mbrd, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "does not fit in the guest RAM after the kernel");
	free(r);
}

TEST_F(run, no_device)
{
	struct result *r = calloc(1, sizeof(*r));
	char *args[] = { "--kernel", self->path[F_MB], "--dev", "/nonexistent/hvx", NULL };

	run(args, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "/nonexistent/hvx: No such file or directory (is hvx.ko loaded?)");
	free(r);
}

/* KVM's ioctls (linux/kvm.h), so that only hvx.h is included. */
#define KVMIO			0xAE
#define KVM_CREATE_VM		_IO(KVMIO, 0x01)

TEST_F(run, vmx_busy)
{
	const char *dir = getenv("HVX_KVM_DIR");
	struct result *r;
	char *args[] = { "--kernel", self->path[F_MB], NULL };
	bool loaded[NR_KVM_MODS] = { false };
	char path[4096];
	int kvm = -1, kvm_vm, ret;
	long refcnt;

	REQUIRE_VMX();
	if (hvx_vmx_shared())
		SKIP(return, "hvx shares VMX with KVM on this kernel (vmx_shared=Y): no EBUSY to see; vmxlife_test runs_beside_kvm covers it");
	if (!dir)
		SKIP(return, "HVX_KVM_DIR (directory of kvm.ko etc.) is not set");
	for (unsigned int i = 0; i < NR_KVM_MODS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, kvm_mods[i].file);
		ret = load_module(path);
		if (ret == -EEXIST)
			continue;
		if (ret)
			SKIP(goto out, "%s does not load here (%s)", kvm_mods[i].file, strerrorname_np(-ret));
		loaded[i] = true;
	}
	for (int i = 0; i < 200 && kvm < 0; i++) {
		kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (kvm < 0)
			msleep(10);
	}
	ASSERT_LE(0, kvm) TH_LOG("/dev/kvm: %s", strerror(errno));
	kvm_vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, kvm_vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));

	refcnt = hvx_module_refcnt();
	r = calloc(1, sizeof(*r));
	run(args, r);
	close(kvm_vm);
	close(kvm);
	ASSERT_ONE_LINE_ERROR(r, 1, "VMX is busy, another hypervisor holds it");
	/* Nothing of the failed attempt holds hvx. */
	ASSERT_TRUE(wait_for_refcnt(refcnt, 2000))
		TH_LOG("hvx refcnt %ld, was %ld", hvx_module_refcnt(), refcnt);
	free(r);
out:
	for (int i = NR_KVM_MODS - 1; i >= 0; i--)
		if (loaded[i])
			unload_module(kvm_mods[i].name);
}

/* ---- Ways out of a VM, with flat guests ------------------------------ */

/* Flat guests run in 32-bit protected mode at 1 MiB. */
#define FLAT(self, r, ...) do {						\
	char *__a[] = { "--kernel", (self)->path[F_FLAT], "--flat",	\
			"0x100000", "--mem", "8M", ##__VA_ARGS__, NULL };	\
	run(__a, r);							\
} while (0)

TEST_F(run, debug_exit)
{
	/* mov al, 0x2a; out 0xf4, al; hlt */
	static const uint8_t code[] = { 0xb0, 0x2a, 0xe6, 0xf4, 0xf4 };
	struct result *r = calloc(1, sizeof(*r));

	REQUIRE_VMX();
	flat_guest(self, code, sizeof(code));
	FLAT(self, r);
	ASSERT_EQ((0x2a << 1) | 1, r->status) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "wrote 0x2a to the debug-exit port"));
	free(r);
}

TEST_F(run, acpi_poweroff)
{
	/* mov dx, 0x600; mov al, (5 << 2) | 0x20; out dx, al; hlt */
	static const uint8_t code[] = { 0x66, 0xba, 0x00, 0x06, 0xb0, 0x34, 0xee, 0xf4 };
	struct result *r = calloc(1, sizeof(*r));

	REQUIRE_VMX();
	flat_guest(self, code, sizeof(code));
	FLAT(self, r);
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "the guest powered off"));
	free(r);
}

/* The full-ACPI way Linux powers off: SLP_TYP 5 and SLP_EN in PM1a_CNT. */
TEST_F(run, acpi_pm1_poweroff)
{
	/* mov dx, 0x608; mov ax, (5 << 10) | 0x2000; out dx, ax; hlt */
	static const uint8_t code[] = { 0x66, 0xba, 0x08, 0x06, 0x66, 0xb8,
					0x00, 0x34, 0x66, 0xef, 0xf4 };
	struct result *r = calloc(1, sizeof(*r));

	REQUIRE_VMX();
	flat_guest(self, code, sizeof(code));
	FLAT(self, r);
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "the guest powered off"));
	free(r);
}

TEST_F(run, reset_and_halt)
{
	/* mov al, 0xfe; out 0x64, al; hlt */
	static const uint8_t kbd[] = { 0xb0, 0xfe, 0xe6, 0x64, 0xf4 };
	/* cli; hlt; jmp back */
	static const uint8_t halt[] = { 0xfa, 0xf4, 0xeb, 0xfd };
	struct result *r = calloc(1, sizeof(*r));

	REQUIRE_VMX();
	flat_guest(self, kbd, sizeof(kbd));
	FLAT(self, r);
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "the guest reset the machine (keyboard controller)"));
	flat_guest(self, halt, sizeof(halt));
	FLAT(self, r, "--cpus", "2");
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "every vCPU halted with interrupts off"));
	free(r);
}

TEST_F(run, triple_fault)
{
	/* int3 with an empty IDT: #GP, #DF, shutdown. */
	static const uint8_t code[] = { 0x90, 0xcc };
	struct result *r = calloc(1, sizeof(*r));

	REQUIRE_VMX();
	flat_guest(self, code, sizeof(code));
	FLAT(self, r);
	ASSERT_EQ(1, r->status) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "hvx-run: vCPU 0: triple fault"))
		TH_LOG("stderr: %s", r->err);
	/* The registers follow, with RIP at the int3. */
	ASSERT_NE(NULL, strstr(r->err, "rip 0000000000100001"))
		TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "cr0 0000000000000011"))
		TH_LOG("stderr: %s", r->err);
	free(r);
}

/* A spinning guest stopped from outside: SIGTERM, then Ctrl-A x. */
TEST_F(run, signal_and_ctrl_a_x)
{
	static const uint8_t spin[] = { 0xeb, 0xfe };	/* jmp . */
	char *args[] = { "--kernel", self->path[F_FLAT], "--flat", "0x100000",
			 "--mem", "8M", "--cpus", "2", "--summary", NULL };
	struct result *r = calloc(1, sizeof(*r));
	long refcnt = hvx_module_refcnt();
	int out_fd, err_fd;
	char buf[512];
	pid_t pid;

	REQUIRE_VMX();
	flat_guest(self, spin, sizeof(spin));
	pid = spawn(args, NULL, &out_fd, &err_fd);
	ASSERT_LT(0, pid);
	/* Wait until the vCPUs run (the start line), then TERM. */
	for (int i = 0; i < 3000; i++) {
		ssize_t n = pread(err_fd, buf, sizeof(buf) - 1, 0);

		buf[n > 0 ? n : 0] = 0;
		if (strstr(buf, "vCPUs"))
			break;
		msleep(10);
	}
	ASSERT_NE(NULL, strstr(buf, "flat binary at 0x100000; 2 vCPUs"))
		TH_LOG("stderr: %s", buf);
	msleep(100);
	kill(pid, SIGTERM);
	finish(pid, out_fd, err_fd, r);
	ASSERT_EQ(128 + SIGTERM, r->status) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "stopped by Terminated")) TH_LOG("stderr: %s", r->err);
	/* With --summary, where each vCPU was: the spin, and the AP unstarted. */
	ASSERT_NE(NULL, strstr(r->err, "hvx-run: vcpu 0: rip 0x100000 ")) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "; lapic tpr 0 ppr 0 isr -1 irr -1 ")) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "hvx-run: vcpu 1: rip ")) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, " wait-sipi; lapic ")) TH_LOG("stderr: %s", r->err);
	ASSERT_TRUE(wait_for_refcnt(refcnt, 2000))
		TH_LOG("hvx refcnt %ld after the VM, was %ld", hvx_module_refcnt(), refcnt);

	/* Ctrl-A x on stdin ends it with status 0. */
	pid = spawn(args, "\x01x", &out_fd, &err_fd);
	ASSERT_LT(0, pid);
	finish(pid, out_fd, err_fd, r);
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "Ctrl-A x")) TH_LOG("stderr: %s", r->err);
	free(r);
}

/* ---- The multiboot test kernel --------------------------------------- */

static void multiboot(struct __test_metadata *_metadata,
		      FIXTURE_DATA(run) *self, int kernel, const char *cpus,
		      const char *mem, const char *append, bool module,
		      bool no_acpi)
{
	struct result *r = calloc(1, sizeof(*r));
	char *args[16];
	int n = 0;

	args[n++] = "--kernel";
	args[n++] = self->path[kernel];
	args[n++] = "--cpus";
	args[n++] = (char *)cpus;
	args[n++] = "--mem";
	args[n++] = (char *)mem;
	args[n++] = "--append";
	args[n++] = (char *)append;
	if (module) {
		args[n++] = "--initrd";
		args[n++] = self->path[F_MOD];
	}
	if (no_acpi)
		args[n++] = "--no-acpi";
	args[n] = NULL;
	run(args, r);
	ASSERT_EQ(DEBUG_EXIT_PASS, r->status)
		TH_LOG("status %d; console: %s; stderr: %s", r->status, r->out, r->err);
	ASSERT_NE(NULL, strstr(r->out, "mbkernel: all checks passed"))
		TH_LOG("console: %s", r->out);
	free(r);
}

TEST_F(run, multiboot_1cpu)
{
	REQUIRE_VMX();
	multiboot(_metadata, self, F_MB, "1", "64M", "cpus=1 mem=64", false, false);
}

TEST_F(run, multiboot_4cpus_module_no_acpi)
{
	REQUIRE_VMX();
	multiboot(_metadata, self, F_MB, "4", "32M", "cpus=4 mem=32 mod noacpi", true, true);
}

/*
 * A kernel with a segment at 0x8000, where hvx-run's boot data sits for
 * other kernels: the launcher puts its data elsewhere (with a module,
 * which goes after the kernel, to be avoided too).
 */
TEST_F(run, multiboot_low_segment)
{
	REQUIRE_VMX();
	multiboot(_metadata, self, F_MBLOW, "1", "32M", "cpus=1 mem=32 mod", true, false);
}

TEST_F(run, multiboot_ram_above_4g)
{
	REQUIRE_VMX();
	/* 3 GiB below the PCI hole, 128 MiB above 4 GiB; untouched RAM is
	 * never pinned, so this fits the emulated host's 512 MiB. */
	multiboot(_metadata, self, F_MB, "2", "3200M", "cpus=2 mem=3200", false, false);
}

/*
 * ACPI S3 (mbkernel's s3=W): the kernel finds the FACS and \_S3, sets a
 * waking vector and sleeps through PM1a_CNT; it passes only after the
 * resume, which must come from the RTC alarm it set (with RTC_EN) and
 * enter at the real-mode or the X waking vector with WAK_STS and RTC_STS
 * set and its RAM as it was.
 */
TEST_F_TIMEOUT(run, multiboot_s3_rtc_alarm, 90)
{
	REQUIRE_VMX();
	if (!have_platform())
		SKIP(return, "no in-kernel devices (HVX_CREATE_PLATFORM): no RTC to wake the guest");
	multiboot(_metadata, self, F_MB, "2", "32M", "cpus=2 mem=32 s3=1", false, false);
	multiboot(_metadata, self, F_MB, "1", "32M", "cpus=1 mem=32 s3=2", false, false);
}

/* The same, woken by a key on the console: no RTC_STS then. */
TEST_F_TIMEOUT(run, multiboot_s3_console_key, 60)
{
	char *args[] = { "--kernel", self->path[F_MB], "--mem", "32M", "--append",
			 "cpus=1 mem=32 s3=3", NULL };
	struct result *r = calloc(1, sizeof(*r));
	int out_fd, err_fd, in_fd = -1;
	char buf[1024];
	pid_t pid;

	REQUIRE_VMX();
	pid = spawn_in(args, NULL, &out_fd, &err_fd, &in_fd);
	ASSERT_LT(0, pid);
	for (int i = 0; i < 3000; i++) {
		ssize_t n = pread(err_fd, buf, sizeof(buf) - 1, 0);

		buf[n > 0 ? n : 0] = 0;
		if (strstr(buf, "suspended to RAM") || waitpid(pid, NULL, WNOHANG) == pid)
			break;
		msleep(10);
	}
	ASSERT_NE(NULL, strstr(buf, "hvx-run: the guest suspended to RAM (S3)"))
		TH_LOG("stderr: %s", buf);
	/* Asleep: nothing runs until the key. */
	msleep(500);
	ASSERT_EQ(0, waitpid(pid, NULL, WNOHANG));
	ASSERT_EQ(1, write(in_fd, "k", 1));
	finish(pid, out_fd, err_fd, r);
	close(in_fd);
	ASSERT_EQ(DEBUG_EXIT_PASS, r->status)
		TH_LOG("status %d; console: %s; stderr: %s", r->status, r->out, r->err);
	ASSERT_NE(NULL, strstr(r->err, "the guest woke up (a key on the console)"))
		TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->out, "mbkernel: all checks passed: cpus=1 mem=32 s3"))
		TH_LOG("console: %s", r->out);
	free(r);
}

static long read_nr_hugepages(void)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static bool write_nr_hugepages(long n)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%ld\n", n) > 0;
	return !fclose(f) && ok;
}

/* --hugepages: a clear error without huge pages, a working guest with. */
TEST_F(run, hugepages)
{
	char *args[] = { "--kernel", self->path[F_MB], "--mem", "32M", "--hugepages",
			 "--append", "cpus=1 mem=32", NULL };
	long saved = read_nr_hugepages();
	struct result *r;

	REQUIRE_VMX();
	if (saved < 0)
		SKIP(return, "no /proc/sys/vm/nr_hugepages (kernel without hugetlbfs)");
	r = calloc(1, sizeof(*r));
	if (saved == 0) {
		run(args, r);
		ASSERT_ONE_LINE_ERROR(r, 1, "--hugepages: cannot map 32 MiB of 2 MiB huge pages");
	}
	if (!write_nr_hugepages(saved + 16) || read_nr_hugepages() < saved + 16) {
		write_nr_hugepages(saved);
		SKIP(return, "cannot reserve 16 huge pages (memory too fragmented?)");
	}
	run(args, r);
	write_nr_hugepages(saved);
	ASSERT_EQ(DEBUG_EXIT_PASS, r->status)
		TH_LOG("console: %s; stderr: %s", r->out, r->err);
	ASSERT_NE(NULL, strstr(r->err, "32 MiB in huge pages")) TH_LOG("stderr: %s", r->err);
	free(r);
}

/* ---- Linux ----------------------------------------------------------- */

/* Can this hvx create the in-kernel PC devices? */
static bool have_platform(void)
{
	struct hvx_platform_config cfg = { .devices = HVX_PLATFORM_ALL };
	int fd = hvx_open(), vm = ioctl(fd, HVX_CREATE_VM, 0);
	bool ok = vm >= 0 && !ioctl(vm, HVX_CREATE_PLATFORM, &cfg);

	if (vm >= 0)
		close(vm);
	close(fd);
	return ok;
}

/*
 * The guest's /init (selftests/vm/guest.sh) prints "hvx-guest: ..." lines
 * and runs the command line's hvx.double=N through the shell's arithmetic.
 */
/*
 * The guest's lines about the NE2000 on Bochs's simulated network
 * (selftests/vm/net.sh, run by the guest's /init for hvx.net=3:1): the
 * lease vnet hands out, 3 pings of its gateway answered, and one TFTP
 * fetch of the ethdev file with the checksum check.sh recorded.
 */
static void check_guest_net(struct __test_metadata *_metadata, const char *out)
{
	char want[160], sum[80] = "";
	FILE *f = fopen(GUEST_DIR "/hvx-net.bin.sha256", "r");

	ASSERT_NE(NULL, f) TH_LOG(GUEST_DIR "/hvx-net.bin.sha256 missing (check.sh writes it)");
	ASSERT_NE(NULL, fgets(sum, sizeof(sum), f));
	fclose(f);
	sum[strcspn(sum, "\n")] = 0;
	ASSERT_EQ(64, strlen(sum));

	ASSERT_NE(NULL, strstr(out, "hvx-guest: net link eth0 52:54:00:12:34:57\r\n"))
		TH_LOG("console: %s", out);
	ASSERT_NE(NULL, strstr(out, "hvx-guest: net dhcp eth0 192.168.10.15 router 192.168.10.1\r\n"))
		TH_LOG("console: %s", out);
	ASSERT_NE(NULL, strstr(out, "hvx-guest: net ping 192.168.10.1 sent 3 received 3 loss 0% rtt "))
		TH_LOG("console: %s", out);
	snprintf(want, sizeof(want), "hvx-guest: net tftp hvx-net.bin bytes 65536 sha256 %s tsc ", sum);
	ASSERT_NE(NULL, strstr(out, want)) TH_LOG("console: %s", out);
	ASSERT_NE(NULL, strstr(out, "hvx-guest: net done rc=0\r\n"));
}

/* @text as TAP comment lines, each after "@tag: " if @tag is given. */
static void print_lines(const char *tag, const char *text)
{
	for (const char *l = text, *e; *l; l = *e ? e + 1 : e) {
		e = strchrnul(l, '\n');
		printf("# %s%s%.*s\n", tag ?: "", tag ? ": " : "",
		       (int)(e - l - (e > l && e[-1] == '\r')), l);
	}
}

/* A Linux boot's figures, from hvx-run's --summary line (stats.c). */
struct boot_counts {
	bool valid;
	unsigned long long tsc;		/* TSC cycles the vCPUs ran */
	unsigned long long exits;	/* VM exits, all reasons */
	unsigned long long pause;	/* PAUSE_INSTRUCTION exits */
	unsigned long long yields;	/* directed yields that succeeded */
	unsigned long long yield_tries;	/* directed yields tried */
	unsigned long long hypercalls;	/* VMCALLs, all numbers */
	unsigned long long send_ipi;	/* of them KVM_HC_SEND_IPI */
};

/*
 * linux_2cpus's figures for linux_2cpus_no_pv, which the harness runs
 * next in another child process: shared memory made before any fork.
 */
static struct boot_counts *pv_2cpus;

static void __attribute__((constructor)) pv_2cpus_map(void)
{
	void *p = mmap(NULL, sizeof(*pv_2cpus), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	pv_2cpus = p == MAP_FAILED ? NULL : p;
}

/*
 * "hvx-run: pause yields: D of T tried; hypercalls: NAME n, ..., other n"
 * or "...; hypercalls: none" (stats.c): the directed yields and the
 * VMCALLs, added up.
 */
static bool parse_pv_line(const char *err, struct boot_counts *c)
{
	const char *s = strstr(err, "hvx-run: pause yields: ");
	char line[1024], *p, *tok, *save;

	if (!s)
		return false;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(s, "\n"), s);
	if (sscanf(line, "hvx-run: pause yields: %llu of %llu tried;",
		   &c->yields, &c->yield_tries) != 2)
		return false;
	p = strstr(line, "; hypercalls: ");
	if (!p)
		return false;
	p += strlen("; hypercalls: ");
	c->hypercalls = 0;
	c->send_ipi = 0;
	if (!strcmp(p, "none"))
		return true;
	for (tok = strtok_r(p, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char name[32];
		unsigned long long n;

		if (sscanf(tok, " %31s %llu", name, &n) != 2)
			return false;
		c->hypercalls += n;
		if (!strcmp(name, "SEND_IPI"))
			c->send_ipi = n;
	}
	return true;
}

/*
 * "hvx-run: summary: 2 vCPUs, T TSC cycles, N exits: R1 n1, R2 n2, ...;
 * exits to hvx-run: ..." (stats.c): every reason seen is listed, so a
 * missing PAUSE_INSTRUCTION is 0 of them. Then the yields and
 * hypercalls line.
 */
static bool parse_summary(const char *err, struct boot_counts *c)
{
	const char *s = strstr(err, "hvx-run: summary: ");
	char line[2048], *p;

	if (!s || !parse_pv_line(err, c))
		return false;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(s, "\n"), s);
	p = strstr(line, " vCPU");
	if (p)
		p = strchr(p, ',');
	if (!p || sscanf(p, ", %llu TSC cycles, %llu exits:", &c->tsc, &c->exits) != 2)
		return false;
	p = strstr(line, " PAUSE_INSTRUCTION ");
	c->pause = p ? strtoull(p + strlen(" PAUSE_INSTRUCTION "), NULL, 10) : 0;
	c->valid = true;
	return true;
}

/*
 * The kernel's own lines about the KVM paravirtual interface, which the
 * guest's /init copies from its dmesg ("hvx-guest: dmesg ..."): kvmclock
 * registered (arch/x86/kernel/kvmclock.c) and, with more than one vCPU,
 * PV spinlocks (KVM_FEATURE_PV_UNHALT), PV IPIs (PV_SEND_IPI), PV TLB
 * flushes (PV_TLB_FLUSH with STEAL_TIME) and PV sched yield
 * (PV_SCHED_YIELD with STEAL_TIME, no MWAIT) set up (arch/x86/kernel/kvm.c).
 */
static const char *const pv_lines[] = {
	"hvx-guest: dmesg kvm-clock: Using msrs ",
	"hvx-guest: dmesg clocksource: kvm-clock: mask: ",
	"hvx-guest: dmesg kvm-guest: PV spinlocks enabled\r\n",
	"hvx-guest: dmesg kvm-guest: setup PV IPIs\r\n",
	"hvx-guest: dmesg kvm-guest: KVM setup pv remote TLB flush\r\n",
	"hvx-guest: dmesg kvm-guest: setup PV sched yield\r\n",
};

/*
 * Boot the Debian guest with @cpus vCPUs. @no_pv: hvx-run --no-pv (no
 * KVM paravirtual interface). @counts, if set, gets the --summary figures.
 */
static void linux_guest(struct __test_metadata *_metadata, const char *cpus,
			const char *device, const char *want_pci, bool net,
			bool s3, bool no_pv, struct boot_counts *counts)
{
	static const char append_base[] =
		"console=ttyS0 nokaslr mitigations=off tsc=reliable lpj=2000000 "
		"no_timer_check nowatchdog audit=0 lsm= cryptomgr.notests "
		"quiet panic=-1 hvx.double=21";
	char append[sizeof(append_base) + 64];
	char *args[] = { "--kernel", GUEST_DIR "/vmlinuz", "--initrd",
			 GUEST_DIR "/initrd.gz", "--mem", "192M", "--cpus",
			 (char *)cpus, "--append", append, "--summary",
			 NULL, NULL, NULL, NULL };
	struct result *r = calloc(1, sizeof(*r));
	int nargs = 11, npv;
	char want[64];

	if (no_pv)
		args[nargs++] = "--no-pv";
	if (device) {
		args[nargs++] = "--device";
		args[nargs++] = (char *)device;
	}
	/*
	 * The S3 alarm must fire after the guest is in S3: one that fires
	 * while Linux is still suspending (seconds in the emulator) is
	 * handled and cleared by the guest and wakes nothing, as on hardware.
	 */
	/*
	 * With two vCPUs Linux 6.1 sends every IPI to one CPU (the ICR,
	 * an MSR with x2APIC) or to all but itself with the ICR's
	 * shorthand, never to a mask of CPUs, the one kind that takes
	 * KVM_HC_SEND_IPI (kvm_send_ipi_mask()). no_ipi_broadcast=1 turns
	 * the shorthand off: then an all-but-self IPI is a mask, as the
	 * stop IPI of the poweroff (native_stop_other_cpus()) is.
	 */
	snprintf(append, sizeof(append), "%s%s%s%s", append_base,
		 net ? " hvx.net=3:1" : "", s3 ? " hvx.s3=20" : "",
		 strcmp(cpus, "1") ? " no_ipi_broadcast=1" : "");

	REQUIRE_VMX();
	if (access(GUEST_DIR "/vmlinuz", R_OK) || access(GUEST_DIR "/initrd.gz", R_OK))
		SKIP(return, GUEST_DIR "/{vmlinuz,initrd.gz} missing (check.sh adds them when run_test runs)");
	if (!have_platform())
		SKIP(return, "this hvx has no in-kernel devices (HVX_CREATE_PLATFORM fails with EOPNOTSUPP): Linux cannot boot");
	run_streamed(args, r, LINUX_LIMIT_S);
	print_lines(NULL, r->err);
	if (r->timed_out) {
		/* What the guest said last (an RCU stall report, a panic). */
		size_t n = strlen(r->out);

		print_lines("console", r->out + (n > 8192 ? n - 8192 : 0));
	}
	ASSERT_FALSE(r->timed_out)
		TH_LOG("the guest did not power off within %d s: stopped", LINUX_LIMIT_S);
	ASSERT_EQ(0, r->status) TH_LOG("stderr: %s", r->err);
	ASSERT_NE(NULL, strstr(r->err, "the guest powered off"));
	ASSERT_NE(NULL, strstr(r->out, "hvx-guest: Linux "));
	ASSERT_NE(NULL, strstr(r->out, "hvx-guest: hypervisor hvxhvxhvxhvx"));
	/* The guest's tty ends lines with CR LF (ONLCR). */
	snprintf(want, sizeof(want), "hvx-guest: cpus %s\r\n", cpus);
	ASSERT_NE(NULL, strstr(r->out, want)) TH_LOG("console: %s", r->out);
	ASSERT_NE(NULL, strstr(r->out, "hvx-guest: double 21 = 42"));
	if (want_pci)
		ASSERT_NE(NULL, strstr(r->out, want_pci)) TH_LOG("console: %s", r->out);
	if (net)
		check_guest_net(_metadata, r->out);
	if (s3) {
		/* echo mem > /sys/power/state came back through the RTC alarm. */
		ASSERT_NE(NULL, strstr(r->out, "hvx-guest: s3 states ")) TH_LOG("console: %s", r->out);
		ASSERT_NE(NULL, strstr(r->err, "hvx-run: the guest suspended to RAM (S3)"))
			TH_LOG("stderr: %s", r->err);
		ASSERT_NE(NULL, strstr(r->err, "hvx-run: the guest woke up (RTC alarm)"))
			TH_LOG("stderr: %s", r->err);
		ASSERT_NE(NULL, strstr(r->out, "hvx-guest: s3 resumed rc=0\r\n"))
			TH_LOG("console: %s", r->out);
	}
	/* kvmclock always; the rest needs a second vCPU. */
	npv = strcmp(cpus, "1") ? ARRAY_SIZE(pv_lines) : 2;
	for (int i = 0; i < npv; i++) {
		if (no_pv) {
			ASSERT_EQ(NULL, strstr(r->out, pv_lines[i]))
				TH_LOG("--no-pv, yet the guest says \"%s\"; console: %s",
				       pv_lines[i], r->out);
		} else {
			ASSERT_NE(NULL, strstr(r->out, pv_lines[i]))
				TH_LOG("no \"%s\"; console: %s", pv_lines[i], r->out);
		}
	}
	if (no_pv) {
		ASSERT_EQ(NULL, strstr(r->out, "hvx-guest: dmesg kvm-"))
			TH_LOG("--no-pv, yet the guest found KVM's interface; console: %s", r->out);
	} else {
		/* kvmclock gives the TSC frequency: no PIT calibration. */
		ASSERT_EQ(NULL, strstr(r->out, "hvx-guest: dmesg tsc: Fast TSC calibration"))
			TH_LOG("the guest calibrated its TSC against the PIT; console: %s", r->out);
	}
	if (counts) {
		ASSERT_TRUE(parse_summary(r->err, counts)) TH_LOG("stderr: %s", r->err);
		printf("# %s vCPU%s, PV %s: %llu exits, %llu PAUSE exits, %llu TSC cycles, "
		       "%llu of %llu directed yields, %llu hypercalls\n",
		       cpus, strcmp(cpus, "1") ? "s" : "", no_pv ? "off" : "on",
		       counts->exits, counts->pause, counts->tsc, counts->yields,
		       counts->yield_tries, counts->hypercalls);
		/* Each PAUSE exit tries three yields at most. */
		ASSERT_LE(counts->yields, counts->yield_tries);
		ASSERT_LE(counts->yield_tries, 3 * counts->pause);
		/*
		 * On one host CPU a spinning vCPU's sibling is always
		 * preempted or woken and not run: the spin ends in a yield.
		 */
		if (counts->pause && sysconf(_SC_NPROCESSORS_ONLN) == 1)
			ASSERT_LT(0, counts->yields) TH_LOG("stderr: %s", r->err);
		if (no_pv)
			ASSERT_EQ(0, counts->hypercalls)
				TH_LOG("--no-pv, yet the guest made hypercalls: %s", r->err);
		/* At least the poweroff's stop IPI (no_ipi_broadcast=1). */
		if (!no_pv && strcmp(cpus, "1"))
			ASSERT_LE(1, counts->send_ipi)
				TH_LOG("no KVM_HC_SEND_IPI from 2 vCPUs: %s", r->err);
	}
	free(r);
}

TEST_F_TIMEOUT(run, linux_1cpu, 2 * LINUX_LIMIT_S)
{
	linux_guest(_metadata, "1", NULL, NULL, false, true, false, NULL);
}

TEST_F_TIMEOUT(run, linux_2cpus, 2 * LINUX_LIMIT_S)
{
	struct boot_counts c = { 0 };

	linux_guest(_metadata, "2", NULL, NULL, false, false, false, &c);
	if (pv_2cpus)
		*pv_2cpus = c;
}

/*
 * The same 2-vCPU boot without the paravirtual interface, against
 * linux_2cpus's (booted again here if that case did not run or failed).
 * With the interface the guest takes x2APIC, PV EOI, PV IPIs and
 * kvmclock, so it makes fewer exits other than PAUSE (no APIC-write
 * exits, fewer EOI and IPI exits).
 *
 * PAUSE exits are printed, not asserted: they depend on how the host
 * schedules the two vCPU threads and vary from run to run. Under Bochs,
 * with one CPU and with two, the PV boot made about as many PAUSE-loop
 * exits as the other (fewer in some runs, more in others), and in one
 * run on one host CPU several times as many, nearly cancelling what PV
 * saved on the other exits. So neither they nor the total are compared.
 */
TEST_F_TIMEOUT(run, linux_2cpus_no_pv, 3 * LINUX_LIMIT_S)
{
	struct boot_counts off = { 0 }, on = { 0 };

	linux_guest(_metadata, "2", NULL, NULL, false, false, true, &off);
	if (!off.valid)
		return;
	if (pv_2cpus && pv_2cpus->valid)
		on = *pv_2cpus;
	else
		linux_guest(_metadata, "2", NULL, NULL, false, false, false, &on);
	if (!on.valid)
		return;
	printf("# PV on/off: %llu/%llu exits, %llu/%llu PAUSE exits, %llu/%llu TSC cycles\n",
	       on.exits, off.exits, on.pause, off.pause, on.tsc, off.tsc);
	ASSERT_LT(on.exits - on.pause, off.exits - off.pause)
		TH_LOG("exits other than PAUSE: %llu with PV, %llu without",
		       on.exits - on.pause, off.exits - off.pause);
}

#define NE2K_BDF	"0000:00:03.0"	/* Bochs's ne2k in slot 2 (check.sh) */
#define NE2K_DEV	"/sys/bus/pci/devices/" NE2K_BDF
#define NOIOMMU_PARAM	"/sys/module/hvx/parameters/allow_unsafe_noiommu"

/*
 * hvx-run --device: refusals are one line with the reason, and with the
 * device passed through (Bochs has no IOMMU: unsafe mode) the Debian
 * guest finds the NE2000 (10ec:8029) on its own PCI bus, brings it up
 * with its stock driver (ne2k-pci: I/O BAR through the I/O bitmap, INTx
 * through the I/O APIC) and exchanges packets with Bochs's simulated
 * network (ethmod=vnet): DHCP, ping, TFTP (check_guest_net()).
 */
TEST_F_TIMEOUT(run, linux_with_passthrough_nic, 2 * LINUX_LIMIT_S)
{
	char *args[] = { "--kernel", GUEST_DIR "/vmlinuz", "--initrd",
			 GUEST_DIR "/initrd.gz", "--mem", "64M", "--device",
			 "0000:00:1f.7", NULL };
	struct result *r = calloc(1, sizeof(*r));

	REQUIRE_VMX();
	if (access(NE2K_DEV "/vendor", R_OK))
		SKIP(return, "no NE2000 at " NE2K_BDF " (Bochs's ne2k slot)");
	if (access(GUEST_DIR "/vmlinuz", R_OK) || !have_platform())
		SKIP(return, "no guest kernel or no in-kernel devices");
	ASSERT_EQ(0, write_str(NOIOMMU_PARAM, "0"));
	run(args, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "--device 0000:00:1f.7: No such device (no such PCI device)");
	args[7] = NE2K_BDF;
	run(args, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "--device " NE2K_BDF ": Operation not supported (no IOMMU: load hvx with allow_unsafe_noiommu=1 to accept unsafe DMA)");
	args[7] = "00:03";
	run(args, r);
	ASSERT_EQ(2, r->status) TH_LOG("stderr: %s", r->err);

	/*
	 * The emulated host must not drive the NIC itself: check.sh loads no
	 * NIC driver at boot, and passthrough_test unbinds the one it binds.
	 * A driverless device is not enough: only one an administrator bound
	 * to hvx-pci is assignable.
	 */
	if (!access(NE2K_DEV "/driver", F_OK))
		ASSERT_EQ(0, write_str(NE2K_DEV "/driver/unbind", NE2K_BDF));
	ASSERT_EQ(0, write_str(NOIOMMU_PARAM, "1"));
	args[7] = NE2K_BDF;
	run(args, r);
	ASSERT_ONE_LINE_ERROR(r, 1, "--device " NE2K_BDF ": Permission denied (not bound to hvx-pci: an administrator binds it first, see iommu/README.md)");
	free(r);

	/* The administrator's step: driver_override, then a probe. */
	ASSERT_EQ(0, write_str(NE2K_DEV "/driver_override", "hvx-pci"));
	ASSERT_EQ(0, write_str("/sys/bus/pci/drivers_probe", NE2K_BDF));
	linux_guest(_metadata, "1", NE2K_BDF, "0x10ec:0x8029", true, false, false, NULL);
	write_str(NOIOMMU_PARAM, "0");
	write_str(NE2K_DEV "/driver/unbind", NE2K_BDF);
	write_str(NE2K_DEV "/driver_override", "\n");
}

TEST_HARNESS_MAIN
