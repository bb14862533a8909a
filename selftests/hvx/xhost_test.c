// SPDX-License-Identifier: GPL-2.0
/*
 * xhost_test - a snapshot moves from one emulated host to another.
 *
 * check.sh gives the `bochs` and the `bochs-spec` boots the same small
 * raw disk image (Bochs's ata1-master, model XHOST_MODEL), starts
 * bochs-spec only once bochs has powered off, and tells each its half on
 * the kernel command line (hvx.xhost=save, hvx.xhost=restore):
 *
 * - cross_host, source half (bochs): the flat guest of snapshot_test
 *   (snapshot_blobs.S) on 2 vCPUs, paced by its TSC, runs under
 *   hvx-run --save, is saved mid-count, and the snapshot file goes raw
 *   onto the shared disk with the console output so far, behind a
 *   header: magic, lengths, CRC-32s, the host's TSC at the save, its
 *   boot_id, its CPU model name and its mitigations= setting.
 * - cross_host, destination half (bochs-spec, another boot with other
 *   mitigations): it reads the disk, checks the CRCs, and hvx-run
 *   --restore runs the guest on: the two outputs count from 0 to the
 *   guest's limit with no gap and no repeat and its checksum holds. The
 *   two hosts must differ (boot_id, and the host TSC at the restore is
 *   not the one at the save); both are printed. The guest's pace waits
 *   for TSC deadlines, so a guest TSC that went back with the host's
 *   would stall it: the source saves only once its TSC is well ahead of
 *   what the destination's will be (XH_SOURCE_TSC), and the restored run
 *   must end within XH_RESTORE_S.
 *
 * The disk is reached through the host kernel's own drivers (ata_piix,
 * libata, sd_mod and what they need), which check.sh copies to
 * /lib/hvx/ata/ and this test loads. Without hvx.xhost= (another
 * emulator), or on a destination whose disk holds no snapshot (TESTS or
 * HVX_EMUS left the source out), the case skips and says why.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <x86intrin.h>

#include "hvx_test.h"
#include "hvx_proc.h"
#include "snapshot_guest.h"


#define XHOST_MODEL	"HVX-XHOST"	/* lib.sh's bochsrc model= */
#define ATA_DIR		"/lib/hvx/ata"
#define XH_MAGIC	"HVXXHOST"
#define XH_VERSION	1
#define XH_DATA		4096		/* the snapshot's offset on the disk */
#define XH_LIMIT	400		/* the guest counts this far */
#define XH_PACE		(1 << 20)	/* TSC ticks per step at least */
#define XH_SAVE_AT	100		/* saved once it printed these lines */
#define LIMIT_S		200		/* hang guard per hvx-run, seconds */
/*
 * The source saves once its host TSC passed this (2^33: 172 emulated s
 * at Bochs's 50M instructions a second; a source that ran the whole
 * suite before is long past it, one that runs this test alone idles
 * there, cheaply in Bochs). The destination, which ran three short
 * programs, is behind it: without the TSC adjustment the restored guest
 * would wait out the difference before its next step, far more than
 * XH_RESTORE_S.
 */
#define XH_SOURCE_TSC	(1ull << 33)
#define XH_RESTORE_S	60		/* the restored run takes at most */

/* The header at the start of the shared disk (little-endian). */
struct xh_header {
	char magic[8];
	uint32_t version;
	uint32_t header_crc;	/* CRC-32 of the header with this field 0 */
	uint64_t snap_len;	/* the snapshot file, at XH_DATA */
	uint64_t out_len;	/* the console output before the save, after it */
	uint32_t snap_crc;
	uint32_t out_crc;
	uint64_t tsc;		/* the source host's TSC at the save */
	char boot_id[40];	/* its /proc/sys/kernel/random/boot_id */
	char model[64];		/* its /proc/cpuinfo "model name" */
	char mitigations[32];	/* its mitigations= (kernel command line) */
};

/* The module files below ATA_DIR, in load order (absent: built in). */
static const char *const ata_mods[] = {
	"scsi_common", "scsi_mod", "libata", "ata_piix", "crct10dif_common",
	"crc-t10dif", "crc64", "crc64-rocksoft", "t10-pi", "sd_mod",
};


static uint32_t header_crc(struct xh_header h)
{
	h.header_crc = 0;
	return crc32_ieee(&h, sizeof(h));
}

/* The first line of @path without its newline into @buf ("" if none). */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (f && fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
}

/* The value of @key= on the kernel command line into @buf ("" if none). */
static void cmdline_arg(const char *key, char *buf, size_t len)
{
	char line[4096], *w, *save;
	size_t n = strlen(key);

	buf[0] = 0;
	read_line("/proc/cmdline", line, sizeof(line));
	for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (!strncmp(w, key, n) && w[n] == '=')
			snprintf(buf, len, "%s", w + n + 1);
}

/* This host: its boot_id, CPU model name and mitigations= setting. */
static void host_facts(struct xh_header *h)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	read_line("/proc/sys/kernel/random/boot_id", h->boot_id, sizeof(h->boot_id));
	snprintf(h->model, sizeof(h->model), "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			line[strcspn(line, "\n")] = 0;
			snprintf(h->model, sizeof(h->model), "%s", strchr(line, ':') + 2);
			break;
		}
	}
	if (f)
		fclose(f);
	cmdline_arg("mitigations", h->mitigations, sizeof(h->mitigations));
	if (!h->mitigations[0])
		snprintf(h->mitigations, sizeof(h->mitigations), "default");
}

/*
 * Load the ATA and SCSI disk drivers and find the shared disk (the
 * sd device whose model is XHOST_MODEL): its /dev path into @dev, its
 * size in bytes into *@size. 0, or -1 with the reason in @why.
 */
static int find_disk(char *dev, size_t len, uint64_t *size, char *why, size_t wlen)
{
	char path[96], model[64];
	struct dirent *d;
	DIR *dir;
	int ret;

	for (size_t i = 0; i < sizeof(ata_mods) / sizeof(ata_mods[0]); i++) {
		snprintf(path, sizeof(path), ATA_DIR "/%.40s.ko", ata_mods[i]);
		if (access(path, F_OK))
			continue;	/* built into the kernel */
		ret = load_module(path);
		if (ret && ret != -EEXIST) {
			snprintf(why, wlen, "finit_module(%.60s): %.40s", path, strerror(-ret));
			return -1;
		}
	}
	/* libata probes asynchronously. */
	for (int i = 0; i < 600; i++) {
		dir = opendir("/sys/block");
		while (dir && (d = readdir(dir))) {
			if (strncmp(d->d_name, "sd", 2))
				continue;
			snprintf(path, sizeof(path), "/sys/block/%.32s/device/model", d->d_name);
			read_line(path, model, sizeof(model));
			if (strncmp(model, XHOST_MODEL, strlen(XHOST_MODEL)))
				continue;
			snprintf(path, sizeof(path), "/sys/block/%.32s/size", d->d_name);
			read_line(path, model, sizeof(model));
			*size = strtoull(model, NULL, 10) * 512;
			snprintf(dev, len, "/dev/%.32s", d->d_name);
			closedir(dir);
			/* devtmpfs makes the node shortly after. */
			for (int j = 0; j < 500 && access(dev, R_OK | W_OK); j++)
				msleep(10);
			return 0;
		}
		if (dir)
			closedir(dir);
		msleep(100);
	}
	snprintf(why, wlen, "no sd disk with model %s after 60 s", XHOST_MODEL);
	return -1;
}

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *buf = NULL;

	if (fd >= 0 && !fstat(fd, &st) && (buf = calloc(1, st.st_size + 1)) &&
	    read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	if (buf)
		*len = st.st_size;
	return buf;
}

static bool full_pread(int fd, void *buf, size_t len, off_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + done);

		if (n <= 0)
			return false;
		done += n;
	}
	return true;
}

static bool full_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + done);

		if (n <= 0)
			return false;
		done += n;
	}
	return true;
}

/* Wait for hvx-run to end (at most LIMIT_S, then KILL), collect its output. */
static void finish(struct proc *p)
{
	proc_finish(p, LIMIT_S);
}

static void print_host(const char *who, const struct xh_header *h)
{
	printf("# %s: cpu \"%s\", mitigations=%s, TSC %llu, boot_id %s\n", who,
	       h->model, h->mitigations, (unsigned long long)h->tsc, h->boot_id);
}

FIXTURE(xhost) {
	char dir[64];
	char guest[128];
	char file[128];
	char role[16];
	char dev[64];
	uint64_t disk_size;
};

FIXTURE_SETUP(xhost)
{
	char why[128];

	cmdline_arg("hvx.xhost", self->role, sizeof(self->role));
	if (!self->role[0])
		SKIP(return, "no shared disk here: hvx.xhost= is not on the kernel command line (check.sh sets it for bochs and bochs-spec)");
	strcpy(self->dir, "/tmp/xhost_test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->guest, sizeof(self->guest), "%s/guest", self->dir);
	snprintf(self->file, sizeof(self->file), "%s/vm.snap", self->dir);
	ASSERT_EQ(0, find_disk(self->dev, sizeof(self->dev), &self->disk_size,
			       why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_LE(XH_DATA + 65536, self->disk_size);
	if (access(hvx_run_path(), X_OK))
		SKIP(return, "%s: %s (set HVX_RUN)", hvx_run_path(), strerror(errno));
}

FIXTURE_TEARDOWN(xhost)
{
	char tmp[160];

	if (!self->dir[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", self->file);
	unlink(tmp);
	unlink(self->guest);
	unlink(self->file);
	rmdir(self->dir);
}

/*
 * The source half: save the paced guest mid-count and write the snapshot
 * and its output so far onto the shared disk.
 */
static void source(struct __test_metadata *_metadata, FIXTURE_DATA(xhost) *self)
{
	char *args[] = { "--kernel", self->guest, "--flat", SNAP_LOAD, "--mem",
			 SNAP_MEM, "--cpus", "2", "--save", self->file, NULL };
	struct xh_header h = { .magic = XH_MAGIC, .version = XH_VERSION }, back;
	char *snap, *whole, why[128];
	bool done, bad, seen = false;
	size_t snap_len;
	struct proc p;
	long last;
	int fd;

	ASSERT_TRUE(flat_guest_write(self->guest, XH_LIMIT, 0, XH_PACE));
	for (uint64_t t = __rdtsc(); t < XH_SOURCE_TSC; t = __rdtsc())
		msleep(5000);
	ASSERT_TRUE(proc_start(&p, hvx_run_path(), args, NULL));
	for (int i = 0; i < LIMIT_S * 100 && !seen; i++) {
		seen = proc_count_lines(p.out_fd) >= XH_SAVE_AT;
		if (!seen && waitpid(p.pid, NULL, WNOHANG) == p.pid)
			break;
		if (!seen)
			msleep(10);
	}
	ASSERT_TRUE(seen) TH_LOG("the guest did not print %d lines", XH_SAVE_AT);
	kill(p.pid, SIGUSR1);
	finish(&p);
	h.tsc = __rdtsc();
	ASSERT_EQ(0, p.status) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "saved the VM to ")) TH_LOG("stderr: %s", p.err);
	whole = strdup(p.out);
	ASSERT_NE(NULL, whole);
	*(strrchr(whole, '\n') ? strrchr(whole, '\n') + 1 : whole) = 0;
	last = check_counter(whole, &done, &bad, why, sizeof(why));
	ASSERT_LE(XH_SAVE_AT - 1, last) TH_LOG("saved run: %s", last == -2 ? why : "too few lines");
	ASSERT_FALSE(done);
	ASSERT_FALSE(bad);
	free(whole);

	snap = read_file(self->file, &snap_len);
	ASSERT_NE(NULL, snap) TH_LOG("%s: %s", self->file, strerror(errno));
	h.snap_len = snap_len;
	h.out_len = strlen(p.out);
	ASSERT_LE(XH_DATA + h.snap_len + h.out_len, self->disk_size)
		TH_LOG("a snapshot of %llu bytes", (unsigned long long)h.snap_len);
	h.snap_crc = crc32_ieee(snap, h.snap_len);
	h.out_crc = crc32_ieee(p.out, h.out_len);
	host_facts(&h);
	h.header_crc = header_crc(h);

	fd = open(self->dev, O_RDWR);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", self->dev, strerror(errno));
	ASSERT_TRUE(full_pwrite(fd, snap, h.snap_len, XH_DATA));
	ASSERT_TRUE(full_pwrite(fd, p.out, h.out_len, XH_DATA + h.snap_len));
	ASSERT_EQ(0, fsync(fd));
	/* The header last: a disk with a header holds the rest. */
	ASSERT_TRUE(full_pwrite(fd, &h, sizeof(h), 0));
	ASSERT_EQ(0, fsync(fd)) TH_LOG("fsync(%s): %s", self->dev, strerror(errno));
	ASSERT_TRUE(full_pread(fd, &back, sizeof(back), 0));
	ASSERT_EQ(0, memcmp(&h, &back, sizeof(h)));
	close(fd);
	printf("# saved after counter %ld: %llu bytes of snapshot on %s\n", last,
	       (unsigned long long)h.snap_len, self->dev);
	print_host("source", &h);
	free(snap);
	proc_release(&p);
}

/*
 * The destination half: the snapshot from the disk, restored: the guest
 * counts on from where the source's output stopped, to its end.
 */
static void destination(struct __test_metadata *_metadata, FIXTURE_DATA(xhost) *self)
{
	char *args[] = { "--restore", self->file, NULL };
	struct xh_header h, here = { 0 };
	char *snap, *saved, *both, why[128];
	struct timespec t0, t1;
	bool done, bad;
	struct proc p;
	long last, ms;
	int fd;

	fd = open(self->dev, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", self->dev, strerror(errno));
	ASSERT_TRUE(full_pread(fd, &h, sizeof(h), 0));
	if (memcmp(h.magic, XH_MAGIC, 8)) {
		close(fd);
		SKIP(return, "the shared disk holds no snapshot: the source half (bochs) did not run before (TESTS or HVX_EMUS left it out?)");
	}
	ASSERT_EQ(XH_VERSION, h.version);
	ASSERT_EQ(header_crc(h), h.header_crc) TH_LOG("the header is corrupted");
	ASSERT_LE(XH_DATA + h.snap_len + h.out_len, self->disk_size);
	h.boot_id[sizeof(h.boot_id) - 1] = 0;
	h.model[sizeof(h.model) - 1] = 0;
	h.mitigations[sizeof(h.mitigations) - 1] = 0;
	snap = malloc(h.snap_len);
	saved = calloc(1, h.out_len + 1);
	ASSERT_NE(NULL, snap);
	ASSERT_NE(NULL, saved);
	ASSERT_TRUE(full_pread(fd, snap, h.snap_len, XH_DATA));
	ASSERT_TRUE(full_pread(fd, saved, h.out_len, XH_DATA + h.snap_len));
	close(fd);
	ASSERT_EQ(h.snap_crc, crc32_ieee(snap, h.snap_len)) TH_LOG("the snapshot is corrupted");
	ASSERT_EQ(h.out_crc, crc32_ieee(saved, h.out_len)) TH_LOG("the output is corrupted");
	fd = open(self->file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_TRUE(full_pwrite(fd, snap, h.snap_len, 0));
	close(fd);
	free(snap);

	REQUIRE_VMX();
	host_facts(&here);
	here.tsc = __rdtsc();
	print_host("source", &h);
	print_host("destination", &here);
	/* Two hosts: another boot, whose TSC is elsewhere. */
	ASSERT_STRNE(h.boot_id, here.boot_id) TH_LOG("the snapshot was written in this boot");
	ASSERT_NE(h.tsc, here.tsc);
	printf("# destination TSC %s the source's by %llu\n",
	       here.tsc > h.tsc ? "ahead of" : "behind",
	       (unsigned long long)(here.tsc > h.tsc ? here.tsc - h.tsc : h.tsc - here.tsc));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_TRUE(proc_start(&p, hvx_run_path(), args, NULL));
	finish(&p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, p.status)
		TH_LOG("stderr: %s\nstdout tail: %s", p.err,
		       p.out + (strlen(p.out) > 200 ? strlen(p.out) - 200 : 0));
	both = malloc(h.out_len + strlen(p.out) + 1);
	ASSERT_NE(NULL, both);
	strcpy(both, saved);
	strcat(both, p.out);
	last = check_counter(both, &done, &bad, why, sizeof(why));
	ASSERT_NE(-2, last) TH_LOG("%s", why);
	ASSERT_FALSE(bad) TH_LOG("the guest's checksum failed after the restore");
	ASSERT_TRUE(done);
	ASSERT_EQ(XH_LIMIT - 1, last);
	printf("# restored: counted on to %ld in %ld ms\n", last, ms);
	/* A guest TSC that restarted from this host's would stall it. */
	ASSERT_GE(XH_RESTORE_S * 1000, ms);
	free(both);
	free(saved);
	proc_release(&p);
}

TEST_F_TIMEOUT(xhost, cross_host, LIMIT_S + 120)
{
	if (!strcmp(self->role, "save")) {
		REQUIRE_VMX();
		source(_metadata, self);
	} else {
		ASSERT_STREQ("restore", self->role);
		destination(_metadata, self);
	}
}

TEST_HARNESS_MAIN
