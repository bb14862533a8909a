// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_linux_test - hvx's in-kernel virtio-blk driven by the stock
 * Debian guest drivers (virtio_pci, virtio_blk) and ext4, through hvx-run.
 *
 * The emulated host makes ext4 images with e2fsprogs (check.sh puts
 * mke2fs, e2fsck and debugfs in the initramfs for this program), boots the
 * Debian guest of run_test (/lib/hvx/guest) with them as --disk, and the
 * guest's hvx-disk script (selftests/vm/disk.sh) uses them:
 *
 * - ext4_files_and_ro_disk: a writable disk and a read-only one. The
 *   guest reads back a file the host wrote, copies a set of files from
 *   the read-only disk to the writable one with an fsync each and reads
 *   them back from the disk; it writes, deletes and trims 8 MiB, which
 *   the image gives back (discard); writes to the read-only disk fail. The
 *   functions use MSI-X and GET_ID gives the serial. While the files
 *   move (the guest waits for a line on its console at either end, so
 *   the test can sample the running VM's netlink counters, and at the
 *   end read them with `hvxctl stats`, text and --json) the disks
 *   serve every byte with no exit to hvx-run; the whole boot makes only
 *   the few of its port probes and power-off. After the VM is gone, the
 *   host finds the files with their SHA-256 sums in the image, e2fsck
 *   finds the file system clean and the read-only image is unchanged.
 * - kill9_mid_fsync_loop: the disk is a loop device on the image (a
 *   block device backing), and the guest boots with pci=nomsi, so its
 *   driver takes INTx, and acpi=noirq, so Linux routes it by hvx-run's
 *   MP table (its PCI interrupt entries), not the DSDT's _PRT: the
 *   disk's line is GSI 16 as _PRT would say. The guest creates and fsyncs a file after
 *   another and says which it finished; the host kills hvx-run with
 *   SIGKILL in the middle. The journal replays, e2fsck -n finds the file
 *   system clean, and every file the guest saw acknowledged is there
 *   whole. While the loop runs, the device serves requests with no exit
 *   to hvx-run (the netlink counters of the running VM), and the loop
 *   device counts a flush for each fsync: the guest's flushes reach the
 *   host's storage (vfs_fsync()), not only the page cache.
 * - net_dhcp_ping_stream: the stock virtio_net driver on hvx-run --net,
 *   in a network namespace with a tap, udhcpd and a TCP sink: a lease,
 *   pings without loss, a 16 MiB stream whose SHA-256 the sink checks,
 *   no exit to hvx-run while it moves (selftests/vm/vnet.sh).
 *
 * hvx-run is $HVX_RUN, else /usr/bin/hvx-run (where check.sh installs it);
 * hvxctl is $HVX_HVXCTL (the hvxctl checks are skipped without it).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "hvx_test.h"
#include "hvx_nl.h"

#define GUEST_DIR	"/lib/hvx/guest"
#define E2FS_DIR	"/usr/sbin"
/* loop.ko, if the loop driver is a module (check.sh puts it there). */
#define LOOP_KO		"/lib/hvx/blk/loop.ko"
/*
 * Hang guard per Linux boot, in seconds of the emulated host's clock
 * (emulated seconds in Bochs): both boots and the image work must fit
 * the per-program limit in settings.
 */
#define LINUX_LIMIT_S	120
/* The crash case kills hvx-run once the guest acknowledged this many. */
#define CRASH_ACKS	24
/* ...and samples the VM's counters from this acknowledgement to then. */
#define CRASH_SAMPLE	8
/*
 * Exits to hvx-run: none while the disks work; after the last sample
 * (unmount, power-off) a few; a whole boot some dozens, the port probes
 * of devices the machine does not have, which no in-kernel device
 * answers (the Super I/O configuration ports 0x2e and 0x4e among them).
 * The bounds are guards: each is a few times what a boot makes.
 */
#define MAX_END_USER_EXITS	16
#define MAX_BOOT_USER_EXITS	256
/* The crash record: a header line and the first 16 KiB of host.bin. */
#define CRASH_BLK	16384

#define HOST_BIN_SIZE	(256 << 10)

static const struct {
	const char *name;
	size_t size;
} data_files[] = {
	{ "byte", 1 },
	{ "page", 4096 },
	{ "odd", 65537 },
	{ "meg", (1 << 20) + 3 },
	{ "three-megs", 3 << 20 },
};
#define NR_DATA		ARRAY_SIZE(data_files)

static const char *hvx_run_path(void)
{
	const char *p = getenv("HVX_RUN");

	return p && *p ? p : "/usr/bin/hvx-run";
}

/* The same bytes on every run: xorshift64 from @seed. */
static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)(x >> 24);
	}
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* A file's bytes (malloc'd, NUL after them) and its length; NULL if none. */
static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	if (buf) {
		buf[st.st_size] = 0;
		*len = st.st_size;
	}
	return buf;
}

/*
 * Run a shell command line in the emulated host (busybox sh), its output
 * (stdout and stderr) into @out. Return: its exit status, or -1.
 */
static int __attribute__((format(printf, 3, 4)))
sh(char *out, size_t len, const char *fmt, ...)
{
	char cmd[1024];
	size_t n = 0;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 8, fmt, ap);
	va_end(ap);
	strcat(cmd, " 2>&1");
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n + 1 < len && fgets(out + n, len - n, f))
		n += strlen(out + n);
	out[n] = 0;
	while (fgetc(f) != EOF)
		;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* @path's SHA-256 as 64 hex digits into @sum (65 bytes), by sha256sum. */
static int sha256_file(const char *path, char *sum)
{
	char out[256];

	if (sh(out, sizeof(out), "sha256sum '%s'", path) || strlen(out) < 64)
		return -1;
	memcpy(sum, out, 64);
	sum[64] = 0;
	return 0;
}

/* A hvx-run with the guest, its console and messages in memfds. */
struct boot {
	pid_t pid;
	int out_fd, err_fd;
	int in_fd;		/* hvx-run's stdin: the guest's console input */
	int status;		/* exit status, or 128 + signal */
	bool timed_out;
	char *out;		/* the guest's console (stdout) */
	char err[16384];	/* hvx-run's messages (stderr) */
};

#define OUT_MAX		(1 << 20)

static pid_t boot_start(struct boot *b, char *const args[])
{
	char *argv[32];
	int n = 0, in[2];

	argv[n++] = (char *)hvx_run_path();
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	b->out = calloc(1, OUT_MAX);
	b->out_fd = memfd_create("hvx-run-out", 0);
	b->err_fd = memfd_create("hvx-run-err", 0);
	b->status = -1;
	b->timed_out = false;
	b->err[0] = 0;
	if (!b->out || b->out_fd < 0 || b->err_fd < 0 || pipe(in))
		return -1;
	/* A line for a guest whose hvx-run is gone fails with EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	b->pid = fork();
	if (b->pid == 0) {
		dup2(in[0], 0);
		dup2(b->out_fd, 1);
		dup2(b->err_fd, 2);
		close(in[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	b->in_fd = in[1];
	return b->pid;
}

/*
 * Follow the console until hvx-run exits, printing it as "# " lines (a
 * Linux boot in Bochs takes a while: the log shows where); stop it after
 * LINUX_LIMIT_S. @poll, if set, is called with the console so far after
 * each read and may kill hvx-run itself.
 */
static void boot_follow(struct boot *b,
			void (*poll)(struct boot *b, void *arg), void *arg)
{
	struct timespec t0, t;
	size_t len = 0, printed = 0;
	bool exited = false;
	int st = 0;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!exited) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > LINUX_LIMIT_S && !b->timed_out) {
			b->timed_out = true;
			kill(b->pid, SIGTERM);
		}
		exited = waitpid(b->pid, &st, WNOHANG) == b->pid;
		while (len + 1 < OUT_MAX &&
		       (n = pread(b->out_fd, b->out + len, OUT_MAX - 1 - len, len)) > 0)
			len += n;
		b->out[len] = 0;
		for (char *nl; (nl = strchr(b->out + printed, '\n')); printed = nl + 1 - b->out) {
			int l = nl - (b->out + printed);

			if (l && nl[-1] == '\r')
				l--;
			printf("# %.*s\n", l, b->out + printed);
		}
		fflush(stdout);
		if (!exited && poll)
			poll(b, arg);
		if (!exited)
			msleep(200);
	}
	b->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	n = pread(b->err_fd, b->err, sizeof(b->err) - 1, 0);
	b->err[n > 0 ? n : 0] = 0;
	close(b->out_fd);
	close(b->err_fd);
	close(b->in_fd);
}

static void boot_free(struct boot *b)
{
	free(b->out);
	b->out = NULL;
}

/* The guest's console line "hvx-guest: @what..." present? */
static bool said(const struct boot *b, const char *fmt, ...)
{
	char want[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	return strstr(b->out, want);
}

/* Sum of the counts after "exits to hvx-run:" in --summary's line. */
static long summary_user_exits(const char *err)
{
	const char *s = strstr(err, "exits to hvx-run:");
	long total = 0;

	if (!s)
		return -1;
	s += strlen("exits to hvx-run:");
	while (*s && *s != '\n') {
		if (*s >= '0' && *s <= '9')
			total += strtol(s, (char **)&s, 10);
		else
			s++;
	}
	return total;
}

FIXTURE(disk) {
	char dir[64];
	char path[256];
	char loop[32];		/* a loop device the case attached */
};

FIXTURE_SETUP(disk)
{
	REQUIRE_VMX();
	if (access(hvx_run_path(), X_OK))
		SKIP(return, "%s: %s (set HVX_RUN)", hvx_run_path(), strerror(errno));
	if (access(GUEST_DIR "/vmlinuz", R_OK) || access(GUEST_DIR "/initrd.gz", R_OK))
		SKIP(return, GUEST_DIR "/{vmlinuz,initrd.gz} missing (check.sh adds them with this program)");
	if (access(E2FS_DIR "/mke2fs", X_OK) || access(E2FS_DIR "/e2fsck", X_OK) ||
	    access(E2FS_DIR "/debugfs", X_OK))
		SKIP(return, "no mke2fs, e2fsck or debugfs in " E2FS_DIR " (check.sh adds them with this program)");
	/* Made last: the harness skips the teardown after a skip here. */
	strcpy(self->dir, "/tmp/virtio_linux.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(disk)
{
	char out[256];

	if (self->loop[0])
		sh(out, sizeof(out), "losetup -d '%s'", self->loop);
	sh(out, sizeof(out), "rm -rf '%s'", self->dir);
}

static const char *at(FIXTURE_DATA(disk) *self, const char *name)
{
	snprintf(self->path, sizeof(self->path), "%s/%s", self->dir, name);
	return self->path;
}

/*
 * An ext4 image of @mib MiB at @img holding the tree @src; 4 KiB blocks,
 * inode tables and journal written now (no lazy init in the guest).
 */
static int make_ext4(const char *img, const char *src, int mib, char *out, size_t len)
{
	return sh(out, len, E2FS_DIR "/mke2fs -q -F -t ext4 -b 4096 "
		  "-E lazy_itable_init=0,lazy_journal_init=0 -d '%s' '%s' %dM",
		  src, img, mib);
}

/* The guest's command line: hvx.disk=@mode, and @extra. */
static char *linux_args(char *append, size_t len, const char *mode,
			const char *extra)
{
	snprintf(append, len,
		 "console=ttyS0 nokaslr mitigations=off tsc=reliable lpj=2000000 "
		 "no_timer_check nowatchdog audit=0 lsm= cryptomgr.notests "
		 "quiet panic=-1 hvx.disk=%s%s", mode, extra);
	return append;
}

static void print_err(const struct boot *b)
{
	for (const char *l = b->err, *e; *l; l = *e ? e + 1 : e) {
		e = strchrnul(l, '\n');
		printf("# %.*s\n", (int)(e - l), l);
	}
}

/*
 * The virtio functions use MSI-X, and their queue vector fired; the
 * driver took packed rings (feature bit 34), which hvx offers.
 */
static void check_msix(struct __test_metadata *_metadata, const struct boot *b)
{
	const char *l;

	for (int d = 0; d < 2; d++) {
		char name[40];

		snprintf(name, sizeof(name), "hvx-guest: disk features virtio%d ", d);
		l = strstr(b->out, name);
		ASSERT_NE(NULL, l) TH_LOG("no features of virtio%d", d);
		l += strlen(name);
		ASSERT_LT(34, strcspn(l, "\r\n"));
		ASSERT_EQ('1', l[34]) TH_LOG("virtio%d did not take packed rings: %.64s", d, l);
	}

	ASSERT_TRUE(said(b, "hvx-guest: disk msi 0000:00:10.0 msix msix"))
		TH_LOG("no MSI-X vectors on the first disk");
	ASSERT_TRUE(said(b, "hvx-guest: disk msi 0000:00:11.0 msix msix"))
		TH_LOG("no MSI-X vectors on the second disk");
	/* "disk irq N: COUNT PCI-MSI ...-edge virtioD-req.0": each queue's vector. */
	for (int d = 0; d < 2; d++) {
		char name[32];
		long count;

		snprintf(name, sizeof(name), "-edge virtio%d-req.0\r\n", d);
		l = strstr(b->out, name);
		ASSERT_NE(NULL, l) TH_LOG("no MSI %s in /proc/interrupts", name + 6);
		while (l > b->out && l[-1] != '\n')
			l--;
		ASSERT_EQ(0, strncmp(l, "hvx-guest: disk irq ", 20));
		l = strchr(l + 20, ':');
		ASSERT_NE(NULL, l);
		count = strtol(l + 1, (char **)&l, 10);
		ASSERT_LT(0, count) TH_LOG("virtio%d-req.0 never fired", d);
		ASSERT_EQ(0, strncmp(l, " PCI-MSI ", 9));
	}
}

/*
 * The virtio function took INTx: "disk irq N: COUNT IO-APIC @gsi-fasteoi
 * virtio0", a level-triggered I/O APIC line that fired.
 */
static void check_intx(struct __test_metadata *_metadata, const struct boot *b,
		       int gsi)
{
	char pin[32];

	const char *l = strstr(b->out, "-fasteoi virtio0\r\n");
	long count;

	ASSERT_NE(NULL, l) TH_LOG("no level-triggered virtio0 line in /proc/interrupts");
	while (l > b->out && l[-1] != '\n')
		l--;
	ASSERT_EQ(0, strncmp(l, "hvx-guest: disk irq ", 20));
	l = strchr(l + 20, ':');
	ASSERT_NE(NULL, l);
	count = strtol(l + 1, (char **)&l, 10);
	ASSERT_LT(0, count) TH_LOG("virtio0's INTx line never fired");
	ASSERT_EQ(0, strncmp(l, " IO-APIC ", 9)) TH_LOG("virtio0 not on the I/O APIC");
	snprintf(pin, sizeof(pin), "%d-fasteoi", gsi);
	ASSERT_EQ(0, strncmp(l + 9, pin, strlen(pin)))
		TH_LOG("virtio0 not on GSI %d: %.40s", gsi, l + 9);
}

/* A running VM's counters, read over netlink. */
struct sample {
	uint32_t nr_virtio;
	struct hvx_virtio_stats v[2];	/* the disks, by PCI slot */
	uint64_t user;			/* exits to hvx-run, all vCPUs */
	struct hvx_stats_top io[HVX_STATS_TOP];	/* vCPU 0's I/O exits by port */
};

/* The counters of the VM that hvx-run @pid runs; *vm_id caches its id. */
static int vm_sample(pid_t pid, uint32_t *vm_id, struct sample *s)
{
	struct hvx_nl_stats *st = calloc(4, sizeof(*st));
	struct hvx_nl_vm *vms = calloc(8, sizeof(*vms));
	struct hvx_nl nl;
	int n, ret = -1;

	if (!st || !vms || hvx_nl_open(&nl))
		goto out_free;
	if (!*vm_id) {
		n = hvx_nl_list_vms(&nl, vms, 8);
		for (int i = 0; i < n; i++)
			if (vms[i].pid == (uint32_t)pid)
				*vm_id = vms[i].id;
	}
	if (*vm_id && !hvx_nl_get_vm(&nl, *vm_id, vms) &&
	    vms->nr_virtio >= 1 && vms->nr_virtio <= 2) {
		n = hvx_nl_get_stats(&nl, *vm_id, -1, st, 4);
		s->nr_virtio = vms->nr_virtio;
		memcpy(s->v, vms->virtio, s->nr_virtio * sizeof(s->v[0]));
		s->user = 0;
		if (n > 0)
			memcpy(s->io, st[0].st.io_ports, sizeof(s->io));
		for (int i = 0; i < n; i++)
			for (int r = 0; r < HVX_STATS_USER_EXITS; r++)
				s->user += st[i].st.user_exits[r];
		ret = n > 0 ? 0 : -1;
	}
	hvx_nl_close(&nl);
out_free:
	free(st);
	free(vms);
	return ret;
}

#define DELTA(a, b, f)	((unsigned long long)((b).f - (a).f))

#define HVXCTL_OUT	32768

struct check {
	uint32_t vm_id;
	int step;		/* samples taken */
	struct sample s[2];
	int nl_err;
	const char *hvxctl;	/* $HVX_HVXCTL, or NULL */
	char *stats, *json;	/* hvxctl stats at the last sample */
	int stats_rc, json_rc;
};

/* $HVX_HVXCTL if it is an executable, else NULL. */
static const char *hvxctl_path(void)
{
	const char *p = getenv("HVX_HVXCTL");

	return p && *p && !access(p, X_OK) ? p : NULL;
}

/*
 * At "disk wait io" (modules loaded, vda mounted) and "disk wait done"
 * (the files copied and read back): sample, then let the guest go on.
 */
static void check_poll(struct boot *b, void *arg)
{
	static const char *const marks[] = {
		"hvx-guest: disk wait io\r\n", "hvx-guest: disk wait done\r\n",
	};
	struct check *c = arg;

	if (c->step < 2 && strstr(b->out, marks[c->step])) {
		if (!c->nl_err)
			c->nl_err = vm_sample(b->pid, &c->vm_id, &c->s[c->step]);
		/* The guest waits: hvxctl reads the counters of the same VM. */
		if (c->step == 1 && c->hvxctl && c->vm_id) {
			c->stats_rc = sh(c->stats, HVXCTL_OUT, "'%s' stats %u",
					 c->hvxctl, c->vm_id);
			c->json_rc = sh(c->json, HVXCTL_OUT, "'%s' stats %u --json",
					c->hvxctl, c->vm_id);
		}
		c->step++;
		if (write(b->in_fd, "\n", 1) != 1)
			c->nl_err = -EPIPE;
	}
}

/* Counters of one virtio device as hvxctl shows them. */
struct ctl_virtio {
	unsigned long long requests, bytes, notifications, interrupts, errors;
};

/* The text line "blk 00:SS.0 REQ BYTES NOTIF IRQ ERR" of slot @slot. */
static int ctl_text(const char *out, unsigned int slot, struct ctl_virtio *v)
{
	char name[32];
	const char *l;

	snprintf(name, sizeof(name), "\nblk 00:%02x.0 ", slot);
	l = strstr(out, name);
	if (!l || sscanf(l + strlen(name), "%llu %llu %llu %llu %llu",
			 &v->requests, &v->bytes, &v->notifications,
			 &v->interrupts, &v->errors) != 5)
		return -1;
	return 0;
}

/* The --json "virtio" array's object of slot @slot. */
static int ctl_json(const char *out, unsigned int slot, struct ctl_virtio *v)
{
	char name[48];
	const char *l;

	snprintf(name, sizeof(name), "\"slot\": %u, \"function\": 0, ", slot);
	l = strstr(out, "\"virtio\": [");
	l = l ? strstr(l, name) : NULL;
	if (!l || sscanf(l + strlen(name),
			 "\"requests\": %llu, \"bytes\": %llu, \"notifications\": %llu, "
			 "\"interrupts\": %llu, \"errors\": %llu}",
			 &v->requests, &v->bytes, &v->notifications,
			 &v->interrupts, &v->errors) != 5)
		return -1;
	return 0;
}

/*
 * hvxctl stats, text and --json, taken at the second sample while the
 * guest waited: each disk's line, its counters at least the netlink
 * sample's (read just before), and the two forms the same.
 */
static void check_hvxctl(struct __test_metadata *_metadata, const struct check *c)
{
	for (int d = 0; d < 2; d++) {
		const struct hvx_virtio_stats *s = &c->s[1].v[d];
		struct ctl_virtio t, j;

		ASSERT_EQ(0, ctl_text(c->stats, 0x10 + d, &t))
			TH_LOG("no line for disk 00:%02x.0 in hvxctl stats: %.2000s",
			       0x10 + d, c->stats);
		ASSERT_EQ(0, ctl_json(c->json, 0x10 + d, &j))
			TH_LOG("no disk 00:%02x.0 in hvxctl stats --json: %.2000s",
			       0x10 + d, c->json);
		printf("# hvxctl stats: blk 00:%02x.0 %llu requests, %llu bytes, %llu notifications, %llu interrupts, %llu errors\n",
		       0x10 + d, t.requests, t.bytes, t.notifications,
		       t.interrupts, t.errors);
		ASSERT_LE(s->requests, t.requests);
		ASSERT_LE(s->bytes, t.bytes);
		ASSERT_LE(s->notifications, t.notifications);
		ASSERT_LE(s->interrupts, t.interrupts);
		ASSERT_LT(0, t.requests);
		ASSERT_LT(0, t.bytes);
		ASSERT_LT(0, t.notifications);
		ASSERT_LT(0, t.interrupts);
		ASSERT_EQ(0, t.errors);
		/* The guest waited between the two: the same counts. */
		ASSERT_EQ(t.requests, j.requests);
		ASSERT_EQ(t.bytes, j.bytes);
		ASSERT_EQ(t.notifications, j.notifications);
		ASSERT_EQ(t.interrupts, j.interrupts);
		ASSERT_EQ(t.errors, j.errors);
	}
}

TEST_F_TIMEOUT(disk, ext4_files_and_ro_disk, 2 * LINUX_LIMIT_S)
{
	char sums[NR_DATA][65], host_sum[65], sum[65], ro_sum[65];
	char append[512], rw[300], ro[300], d0[320], d1[320], out[4096];
	char *args[] = { "--kernel", GUEST_DIR "/vmlinuz", "--initrd",
			 GUEST_DIR "/initrd.gz", "--mem", "192M",
			 "--append", linux_args(append, sizeof(append), "check", ""),
			 "--summary", "--disk", d0, "--disk", d1, NULL };
	unsigned long long alloc0;
	struct check c = { .hvxctl = hvxctl_path() };
	struct boot b = { 0 };
	size_t total = 0;
	struct stat st;
	uint8_t *buf;
	long exits;

	/* The host's files: host.bin on the writable disk, data/ on the other. */
	ASSERT_EQ(0, mkdir(at(self, "rw"), 0755));
	ASSERT_EQ(0, mkdir(at(self, "ro"), 0755));
	ASSERT_EQ(0, mkdir(at(self, "ro/data"), 0755));
	ASSERT_EQ(0, mkdir(at(self, "out"), 0755));
	buf = malloc(3 << 20);
	ASSERT_NE(NULL, buf);
	fill(buf, HOST_BIN_SIZE, 0x4856585f68737421ull);
	ASSERT_EQ(0, write_file(at(self, "rw/host.bin"), buf, HOST_BIN_SIZE));
	ASSERT_EQ(0, sha256_file(self->path, host_sum));
	for (unsigned int i = 0; i < NR_DATA; i++) {
		char name[64];

		fill(buf, data_files[i].size, 0x1000 + i);
		total += data_files[i].size;
		snprintf(name, sizeof(name), "ro/data/%s", data_files[i].name);
		ASSERT_EQ(0, write_file(at(self, name), buf, data_files[i].size));
		ASSERT_EQ(0, sha256_file(self->path, sums[i]));
	}
	free(buf);
	snprintf(rw, sizeof(rw), "%s/rw.img", self->dir);
	snprintf(ro, sizeof(ro), "%s/ro.img", self->dir);
	ASSERT_EQ(0, make_ext4(rw, at(self, "rw"), 32, out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, make_ext4(ro, at(self, "ro"), 16, out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, sha256_file(ro, ro_sum));
	ASSERT_EQ(0, stat(rw, &st));
	alloc0 = st.st_blocks * 512ull;
	c.stats = calloc(1, HVXCTL_OUT);
	c.json = calloc(1, HVXCTL_OUT);
	ASSERT_TRUE(c.stats && c.json);
	snprintf(d0, sizeof(d0), "%s,serial=hvx-disk-0", rw);
	snprintf(d1, sizeof(d1), "%s,ro", ro);
	ASSERT_LT(0, boot_start(&b, args));
	boot_follow(&b, check_poll, &c);
	print_err(&b);
	ASSERT_FALSE(b.timed_out)
		TH_LOG("the guest did not power off within %d s: stopped", LINUX_LIMIT_S);
	ASSERT_EQ(0, b.status) TH_LOG("stderr: %s", b.err);
	ASSERT_NE(NULL, strstr(b.err, "the guest powered off"));
	ASSERT_TRUE(said(&b, "hvx-guest: disk done\r\n")) TH_LOG("the guest's disk script failed");

	/* GET_ID, MSI-X, the host's file. */
	ASSERT_TRUE(said(&b, "hvx-guest: disk serial vda hvx-disk-0\r\n"));
	ASSERT_TRUE(said(&b, "hvx-guest: disk serial vdb \r\n"));
	check_msix(_metadata, &b);
	ASSERT_TRUE(said(&b, "hvx-guest: disk read host.bin sha256 %s\r\n", host_sum));

	/* What the guest wrote, as written and as read back from the disk. */
	for (unsigned int i = 0; i < NR_DATA; i++) {
		ASSERT_TRUE(said(&b, "hvx-guest: disk wrote %s sha256 %s\r\n",
				 data_files[i].name, sums[i])) TH_LOG("%s", data_files[i].name);
		ASSERT_TRUE(said(&b, "hvx-guest: disk reread %s sha256 %s\r\n",
				 data_files[i].name, sums[i])) TH_LOG("%s", data_files[i].name);
	}

	/*
	 * Discard: the guest wrote 8 MiB more, deleted them and trimmed;
	 * the device punched the holes, so the image holds the files and
	 * some metadata, not the 8 MiB.
	 */
	ASSERT_TRUE(said(&b, "hvx-guest: disk fstrim rc=0\r\n"));
	ASSERT_EQ(0, stat(rw, &st));
	printf("# writable image: %llu KiB allocated before the boot, %llu KiB after; %zu KiB of files\n",
	       alloc0 >> 10, (st.st_blocks * 512ull) >> 10, total >> 10);
	ASSERT_GT(alloc0 + total + (4 << 20), st.st_blocks * 512ull);

	/* The read-only disk: read-only in the guest, no write got through. */
	ASSERT_TRUE(said(&b, "hvx-guest: disk ro sysfs 1\r\n"));
	ASSERT_FALSE(said(&b, "hvx-guest: disk ro touch rc=0\r\n"));
	ASSERT_FALSE(said(&b, "hvx-guest: disk ro remount rc=0\r\n"));
	ASSERT_FALSE(said(&b, "hvx-guest: disk ro dd rc=0\r\n"));

	/*
	 * The I/O made no exit to hvx-run: between the two samples the
	 * writable disk wrote and read back every file, the read-only one
	 * gave them, all in the kernel. The boot itself makes a few (its
	 * port probes that no in-kernel device answers, the power-off).
	 */
	ASSERT_EQ(2, c.step) TH_LOG("the guest never reached both \"disk wait\" lines");
	ASSERT_EQ(0, c.nl_err) TH_LOG("could not read the running VM's counters over netlink");
	ASSERT_EQ(2, c.s[1].nr_virtio);
	for (int d = 0; d < 2; d++)
		printf("# disk %d while copying: %llu requests, %llu bytes, %llu notifications, %llu interrupts, %llu errors\n",
		       d, DELTA(c.s[0], c.s[1], v[d].requests),
		       DELTA(c.s[0], c.s[1], v[d].bytes),
		       DELTA(c.s[0], c.s[1], v[d].notifications),
		       DELTA(c.s[0], c.s[1], v[d].interrupts),
		       DELTA(c.s[0], c.s[1], v[d].errors));
	ASSERT_EQ(0, DELTA(c.s[0], c.s[1], user));
	/* Written and read back on vda, read from vdb, each a request at least. */
	ASSERT_LE(2 * total, DELTA(c.s[0], c.s[1], v[0].bytes));
	ASSERT_LE(total, DELTA(c.s[0], c.s[1], v[1].bytes));
	ASSERT_LE(2 * NR_DATA, DELTA(c.s[0], c.s[1], v[0].requests));
	ASSERT_LT(0, DELTA(c.s[0], c.s[1], v[0].interrupts));
	ASSERT_LT(0, DELTA(c.s[0], c.s[1], v[1].interrupts));
	ASSERT_EQ(0, c.s[1].v[0].errors);
	exits = summary_user_exits(b.err);
	ASSERT_LE(0, exits) TH_LOG("no --summary line: %s", b.err);
	printf("# exits to hvx-run: %llu up to the first sample, %llu after the second, %ld in all; port I/O exits (in the kernel or not) by port:",
	       (unsigned long long)c.s[0].user,
	       (unsigned long long)(exits - c.s[1].user), exits);
	for (int i = 0; i < HVX_STATS_TOP; i++)
		if (c.s[1].io[i].count)
			printf(" %#llx %llu", (unsigned long long)c.s[1].io[i].key,
			       (unsigned long long)c.s[1].io[i].count);
	printf("\n");
	ASSERT_GE(MAX_END_USER_EXITS, exits - c.s[1].user);
	ASSERT_GE(MAX_BOOT_USER_EXITS, exits);
	boot_free(&b);

	/* hvxctl stats showed the same devices and counters. */
	if (c.hvxctl) {
		ASSERT_EQ(0, c.stats_rc) TH_LOG("hvxctl stats %u: %.2000s", c.vm_id, c.stats);
		ASSERT_EQ(0, c.json_rc) TH_LOG("hvxctl stats %u --json: %.2000s", c.vm_id, c.json);
		check_hvxctl(_metadata, &c);
	} else {
		printf("# hvxctl checks skipped: HVX_HVXCTL (%s) is not an executable hvxctl\n",
		       getenv("HVX_HVXCTL") ?: "unset");
	}
	free(c.stats);
	free(c.json);

	/* The VM is gone: the files are in the image, and it is clean. */
	ASSERT_EQ(0, sh(out, sizeof(out), E2FS_DIR "/e2fsck -fn '%s'", rw)) TH_LOG("%s", out);
	ASSERT_EQ(0, sh(out, sizeof(out), E2FS_DIR "/debugfs -R 'rdump /data %s/out' '%s'",
			self->dir, rw)) TH_LOG("%s", out);
	for (unsigned int i = 0; i < NR_DATA; i++) {
		char name[64];

		snprintf(name, sizeof(name), "out/data/%s", data_files[i].name);
		ASSERT_EQ(0, sha256_file(at(self, name), sum)) TH_LOG("%s missing", name);
		ASSERT_STREQ(sums[i], sum) TH_LOG("%s", name);
	}
	/* Not a byte of the read-only image changed. */
	ASSERT_EQ(0, sha256_file(ro, sum));
	ASSERT_STREQ(ro_sum, sum);
}

/*
 * Attach @img to a free loop device (its name into self->loop), loading
 * loop.ko first if there is no loop driver. Return: 0, or -1 with the
 * reason in @out.
 */
static int loop_attach(FIXTURE_DATA(disk) *self, const char *img, char *out, size_t len)
{
	if (access("/dev/loop-control", F_OK) && !access(LOOP_KO, R_OK) &&
	    sh(out, len, "insmod " LOOP_KO))
		return -1;
	if (sh(out, len, "losetup -f") || strncmp(out, "/dev/loop", 9) ||
	    strcspn(out, "\n") >= sizeof(self->loop))
		return -1;
	out[strcspn(out, "\n")] = 0;
	strcpy(self->loop, out);
	if (sh(out, len, "losetup '%s' '%s'", self->loop, img)) {
		self->loop[0] = 0;
		return -1;
	}
	return 0;
}

/*
 * Detach self->loop and wait until its last user is gone and it let go
 * of the image (all the device's writes are in the image then).
 */
static int loop_detach(FIXTURE_DATA(disk) *self, char *out, size_t len)
{
	char path[64];

	if (sh(out, len, "losetup -d '%s'", self->loop))
		return -1;
	snprintf(path, sizeof(path), "/sys/block/%s/loop", self->loop + 5);
	for (int i = 0; i < 100 && !access(path, F_OK); i++)
		msleep(100);
	if (!access(path, F_OK))
		return -1;
	self->loop[0] = 0;
	return 0;
}

/*
 * Flush requests the block device @dev completed: the 16th field of
 * /sys/block/<dev>/stat (Documentation/block/stat.rst, since 5.5); -1
 * if unreadable.
 */
static long long blk_flushes(const char *dev)
{
	char path[64], buf[512], *p = buf;
	long long v = -1;

	snprintf(path, sizeof(path), "/sys/block/%s/stat", dev + 5);
	if (read_str(path, buf, sizeof(buf)) || !buf[0])
		return -1;
	for (int i = 0; i < 16; i++) {
		char *end;

		v = strtoll(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	return v;
}

struct crash {
	uint32_t vm_id;
	const char *loop;	/* the disk's loop device */
	int acks;		/* the last acknowledgement seen */
	bool sampled, killed;
	struct sample s0, s1;
	int ack0, ack1;		/* acknowledgements seen at either sample */
	long long flush0, flush1;	/* the loop device's flushes then */
	int nl_err;
};

/* The highest "disk ack N" on the console so far. */
static int last_ack(const char *out)
{
	const char *s = out, *p;
	int n = 0;

	while ((p = strstr(s, "hvx-guest: disk ack "))) {
		int v = atoi(p + strlen("hvx-guest: disk ack "));

		if (v > n)
			n = v;
		s = p + 1;
	}
	return n;
}

static void crash_poll(struct boot *b, void *arg)
{
	struct crash *c = arg;

	c->acks = last_ack(b->out);
	if (!c->sampled && c->acks >= CRASH_SAMPLE) {
		c->sampled = true;
		c->ack0 = c->acks;
		c->flush0 = blk_flushes(c->loop);
		c->nl_err = vm_sample(b->pid, &c->vm_id, &c->s0);
	}
	if (!c->killed && c->acks >= CRASH_ACKS) {
		if (!c->nl_err)
			c->nl_err = vm_sample(b->pid, &c->vm_id, &c->s1);
		c->ack1 = c->acks;
		c->flush1 = blk_flushes(c->loop);
		/* In the middle of the next file's write or fsync. */
		kill(b->pid, SIGKILL);
		c->killed = true;
	}
}

TEST_F_TIMEOUT(disk, kill9_mid_fsync_loop, 2 * LINUX_LIMIT_S)
{
	char append[512], img[300], out[4096], name[64];
	char *args[] = { "--kernel", GUEST_DIR "/vmlinuz", "--initrd",
			 GUEST_DIR "/initrd.gz", "--mem", "192M",
			 "--append", linux_args(append, sizeof(append), "crash",
					     " pci=nomsi acpi=noirq"),
			 "--disk", self->loop, NULL };
	struct crash c = { .loop = self->loop };
	struct boot b = { 0 };
	long refcnt = hvx_module_refcnt();
	uint8_t *host;
	int acks, rc, fsyncs;

	ASSERT_EQ(0, mkdir(at(self, "rw"), 0755));
	ASSERT_EQ(0, mkdir(at(self, "out"), 0755));
	host = malloc(HOST_BIN_SIZE);
	ASSERT_NE(NULL, host);
	fill(host, HOST_BIN_SIZE, 0x4856585f68737421ull);
	ASSERT_EQ(0, write_file(at(self, "rw/host.bin"), host, HOST_BIN_SIZE));
	snprintf(img, sizeof(img), "%s/crash.img", self->dir);
	ASSERT_EQ(0, make_ext4(img, at(self, "rw"), 32, out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, loop_attach(self, img, out, sizeof(out)))
		TH_LOG("no loop device for %s: %s", img, out);
	ASSERT_LE(0, blk_flushes(self->loop)) TH_LOG("no flush count for %s", self->loop);
	ASSERT_LT(0, boot_start(&b, args));
	boot_follow(&b, crash_poll, &c);
	print_err(&b);
	acks = last_ack(b.out);
	ASSERT_TRUE(c.killed)
		TH_LOG("hvx-run ended (status %d%s) after %d acknowledgements",
		       b.status, b.timed_out ? ", timed out" : "", acks);
	ASSERT_EQ(128 + SIGKILL, b.status);
	ASSERT_LE(CRASH_ACKS, acks);
	/*
	 * pci=nomsi: the driver fell back to INTx, through the I/O APIC;
	 * acpi=noirq: on the GSI of the MP table's entry for slot 0x10 INTA#
	 * (none, and the driver would have no interrupt), the one of _PRT.
	 */
	ASSERT_TRUE(said(&b, "hvx-guest: disk msi 0000:00:10.0 \r\n"))
		TH_LOG("MSI vectors with pci=nomsi");
	check_intx(_metadata, &b, 16);
	boot_free(&b);
	/* Nothing of the VM holds hvx: no worker, no device, no file. */
	ASSERT_TRUE(wait_for_refcnt(refcnt, 5000))
		TH_LOG("hvx refcnt %ld after kill -9, was %ld", hvx_module_refcnt(), refcnt);

	/*
	 * The loop ran without exits to hvx-run: between the two samples
	 * the disk served requests and interrupted the guest. The fsyncs
	 * that began and ended between them: each is a write and a flush
	 * at least, and each flush an fsync of the loop device, which
	 * counts a flush request (a flush acknowledged without one would
	 * leave the count still).
	 */
	ASSERT_EQ(0, c.nl_err) TH_LOG("could not read the running VM's counters over netlink");
	fsyncs = c.ack1 - c.ack0 - 1;
	printf("# %d acknowledgements; from %d to %d: %llu requests, %llu notifications, %llu interrupts, %llu exits to hvx-run, %lld flushes of %s\n",
	       acks, c.ack0, c.ack1, DELTA(c.s0, c.s1, v[0].requests),
	       DELTA(c.s0, c.s1, v[0].notifications),
	       DELTA(c.s0, c.s1, v[0].interrupts), DELTA(c.s0, c.s1, user),
	       c.flush1 - c.flush0, self->loop);
	ASSERT_LE(4, fsyncs) TH_LOG("acknowledgements %d to %d: too few between the samples",
				    c.ack0, c.ack1);
	ASSERT_LE(2 * fsyncs, DELTA(c.s0, c.s1, v[0].requests));
	ASSERT_LT(0, DELTA(c.s0, c.s1, v[0].interrupts));
	ASSERT_EQ(0, c.s1.v[0].errors);
	ASSERT_EQ(0, DELTA(c.s0, c.s1, user));
	ASSERT_LE(0, c.flush0);
	ASSERT_LE(fsyncs, c.flush1 - c.flush0)
		TH_LOG("the guest's flushes did not reach %s", self->loop);

	/* hvx let go of the device: detached, the image holds all it wrote. */
	ASSERT_EQ(0, loop_detach(self, out, sizeof(out))) TH_LOG("%s: %s", self->loop, out);

	/* The journal replays, then the file system is clean. */
	rc = sh(out, sizeof(out), E2FS_DIR "/e2fsck -E journal_only -y '%s'", img);
	ASSERT_TRUE(rc == 0 || rc == 1) TH_LOG("e2fsck status %d: %s", rc, out);
	ASSERT_EQ(0, sh(out, sizeof(out), E2FS_DIR "/e2fsck -fn '%s'", img)) TH_LOG("%s", out);

	/* Every file the guest saw acknowledged is there, whole. */
	ASSERT_EQ(0, sh(out, sizeof(out), E2FS_DIR "/debugfs -R 'rdump /c %s/out' '%s'",
			self->dir, img)) TH_LOG("%s", out);
	for (int i = 1; i <= acks; i++) {
		char head[64];
		size_t len, hlen;
		char *got;

		snprintf(name, sizeof(name), "out/c/%d", i);
		got = read_file(at(self, name), &len);
		ASSERT_NE(NULL, got) TH_LOG("c/%d, acknowledged, is missing", i);
		hlen = snprintf(head, sizeof(head), "hvx-crash record %d\n", i);
		ASSERT_EQ(hlen + CRASH_BLK, len) TH_LOG("c/%d", i);
		ASSERT_EQ(0, memcmp(got, head, hlen)) TH_LOG("c/%d", i);
		ASSERT_EQ(0, memcmp(got + hlen, host, CRASH_BLK)) TH_LOG("c/%d", i);
		free(got);
	}
	free(host);
}

/* --- virtio-net: net_dhcp_ping_stream --- */

#define TUN_KO		"/lib/hvx/net/tun.ko"
#define VNET_TAP	"hvxvnet0"
#define VNET_HOST	"10.0.2.1"
#define VNET_PORT	5000
#define VNET_MAC	"52:54:00:12:34:56"
#define VNET_BYTES	(16 << 20)

/*
 * At "vnet wait io" (a lease, the pings done) and "vnet wait done" (the
 * stream sent): sample, then let the guest go on.
 */
static void vnet_poll(struct boot *b, void *arg)
{
	static const char *const marks[] = {
		"hvx-guest: vnet wait io\r\n", "hvx-guest: vnet wait done\r\n",
	};
	struct check *c = arg;

	if (c->step < 2 && strstr(b->out, marks[c->step])) {
		if (!c->nl_err)
			c->nl_err = vm_sample(b->pid, &c->vm_id, &c->s[c->step]);
		c->step++;
		if (write(b->in_fd, "\n", 1) != 1)
			c->nl_err = -EPIPE;
	}
}

/* The guest's "hvx-guest: vnet stream sha256 <hash>" hash, or "". */
static void guest_stream_sum(const struct boot *b, char *sum)
{
	const char *s = strstr(b->out, "hvx-guest: vnet stream sha256 ");

	sum[0] = 0;
	if (s && sscanf(s + strlen("hvx-guest: vnet stream sha256 "), "%64[0-9a-f]", sum) != 1)
		sum[0] = 0;
}

/*
 * The stock virtio_net driver on an hvx virtio-net device: in a network
 * namespace of the emulated host (this test's process only), a tap made
 * the iproute2 way (persistent, by name) with the server's address, a
 * busybox udhcpd on it and a TCP sink (nc into sha256sum). The guest
 * gets a lease, pings the server with no loss and sends 16 MiB of
 * random bytes, whose SHA-256 the sink must see. While the bytes move
 * the device's counters grow with no exit to hvx-run.
 */
TEST_F_TIMEOUT(disk, net_dhcp_ping_stream, 2 * LINUX_LIMIT_S)
{
	char append[512], net[64], out[4096], sum[65], sink[65] = "";
	char *args[] = { "--kernel", GUEST_DIR "/vmlinuz", "--initrd",
			 GUEST_DIR "/initrd.gz", "--mem", "192M",
			 "--append", append, "--summary", "--net", net, NULL };
	struct ifreq ifr = { 0 };
	struct check c = { 0 };
	struct boot b = { 0 };
	const struct hvx_virtio_stats *v0, *v1;
	FILE *f;
	int fd, initns;

	fd = open("/dev/net/tun", O_RDWR);
	if (fd < 0 && !access(TUN_KO, R_OK)) {
		sh(out, sizeof(out), "insmod " TUN_KO);
		fd = open("/dev/net/tun", O_RDWR);
	}
	if (fd < 0)
		SKIP(return, "no /dev/net/tun (" TUN_KO " missing)");
	close(fd);
	/*
	 * The network side in a namespace of its own; the test itself goes
	 * back to the first one once hvx-run started there, for the hvx
	 * netlink family (registered in the initial namespace only).
	 */
	initns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, initns);
	ASSERT_EQ(0, unshare(CLONE_NEWNET)) TH_LOG("unshare: %m");

	/* ip tuntap add NAME mode tap; ip link set NAME up (by hand). */
	fd = open("/dev/net/tun", O_RDWR);
	ASSERT_LE(0, fd);
	strcpy(ifr.ifr_name, VNET_TAP);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	ASSERT_EQ(0, ioctl(fd, TUNSETIFF, &ifr)) TH_LOG("TUNSETIFF: %m");
	ASSERT_EQ(0, ioctl(fd, TUNSETPERSIST, 1)) TH_LOG("TUNSETPERSIST: %m");
	close(fd);
	ASSERT_EQ(0, sh(out, sizeof(out),
			"ip link set lo up && ip addr add " VNET_HOST "/24 dev " VNET_TAP
			" && ip link set " VNET_TAP " up")) TH_LOG("%s", out);

	f = fopen(at(self, "udhcpd.conf"), "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "start 10.0.2.15\nend 10.0.2.20\ninterface " VNET_TAP "\n"
		"lease_file %s/leases\npidfile %s/udhcpd.pid\n"
		"option subnet 255.255.255.0\noption router " VNET_HOST "\n",
		self->dir, self->dir);
	fclose(f);
	ASSERT_EQ(0, sh(out, sizeof(out), "touch '%s/leases' && udhcpd -S '%s/udhcpd.conf'",
			self->dir, self->dir)) TH_LOG("%s", out);
	/* The sink's stdin stays open: nc -l ends at its stdin's end too. */
	ASSERT_EQ(0, sh(out, sizeof(out),
			"(sh -c 'echo $$ >%s/sleep.pid; exec sleep 300' | nc -l -p %d |"
			" sha256sum >'%s/sink') >/dev/null 2>&1 &",
			self->dir, VNET_PORT, self->dir)) TH_LOG("%s", out);

	snprintf(append, sizeof(append),
		 "console=ttyS0 nokaslr mitigations=off tsc=reliable lpj=2000000 "
		 "no_timer_check nowatchdog audit=0 lsm= cryptomgr.notests "
		 "quiet panic=-1 hvx.vnet=%d", VNET_PORT);
	snprintf(net, sizeof(net), "tap=" VNET_TAP ",mac=" VNET_MAC);
	ASSERT_LT(0, boot_start(&b, args));
	ASSERT_EQ(0, setns(initns, CLONE_NEWNET)) TH_LOG("setns: %m");
	close(initns);
	boot_follow(&b, vnet_poll, &c);
	print_err(&b);
	ASSERT_FALSE(b.timed_out);
	ASSERT_EQ(0, b.status);
	ASSERT_TRUE(said(&b, "hvx-guest: vnet link eth0 " VNET_MAC "\r\n"));
	ASSERT_TRUE(said(&b, "hvx-guest: vnet dhcp eth0 10.0.2.15 router " VNET_HOST "\r\n"));
	ASSERT_TRUE(said(&b, "hvx-guest: vnet ping " VNET_HOST " sent 10 received 10 loss 0%%\r\n"));
	ASSERT_TRUE(said(&b, "hvx-guest: vnet sent rc=0\r\n"));
	ASSERT_TRUE(said(&b, "hvx-guest: vnet exit rc=0\r\n"));

	/* The sink saw exactly the guest's bytes. */
	guest_stream_sum(&b, sum);
	ASSERT_EQ(64, strlen(sum));
	for (int i = 0; i < 50 && !sink[0]; i++) {
		f = fopen(at(self, "sink"), "r");
		if (f) {
			if (fscanf(f, "%64[0-9a-f]", sink) != 1)
				sink[0] = 0;
			fclose(f);
		}
		if (!sink[0])
			msleep(100);
	}
	/* The sink's stdin and the DHCP server go; the namespace with them. */
	sh(out, sizeof(out), "kill $(cat '%s/sleep.pid') $(cat '%s/udhcpd.pid')",
	   self->dir, self->dir);
	ASSERT_STREQ(sum, sink);

	/* The stream moved in the kernel: no exit to hvx-run meanwhile. */
	ASSERT_EQ(2, c.step) TH_LOG("the guest never reached both \"vnet wait\" lines");
	ASSERT_EQ(0, c.nl_err) TH_LOG("could not read the running VM's counters over netlink");
	ASSERT_EQ(1, c.s[1].nr_virtio);
	v0 = &c.s[0].v[0];
	v1 = &c.s[1].v[0];
	ASSERT_EQ(HVX_VIRTIO_NET, v1->type);
	printf("# net while streaming: %llu requests, %llu bytes, %llu notifications, %llu interrupts, %llu errors, %llu exits to hvx-run\n",
	       (unsigned long long)(v1->requests - v0->requests),
	       (unsigned long long)(v1->bytes - v0->bytes),
	       (unsigned long long)(v1->notifications - v0->notifications),
	       (unsigned long long)(v1->interrupts - v0->interrupts),
	       (unsigned long long)(v1->errors - v0->errors),
	       DELTA(c.s[0], c.s[1], user));
	ASSERT_LE(VNET_BYTES, v1->bytes - v0->bytes);
	ASSERT_LT(0, v1->interrupts - v0->interrupts);
	ASSERT_EQ(0, v1->errors);
	ASSERT_GE(4, DELTA(c.s[0], c.s[1], user));
	ASSERT_GE(MAX_BOOT_USER_EXITS, summary_user_exits(b.err));
	boot_free(&b);
}

TEST_HARNESS_MAIN
