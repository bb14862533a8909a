// SPDX-License-Identifier: GPL-2.0
/*
 * snapshot_test - hvx-run --save FILE (on SIGUSR1) and --restore FILE.
 *
 * - round_trip: a flat guest (snapshot_blobs.S) on 2 vCPUs prints a
 *   counter and keeps a checksum over a buffer it keeps changing. It is
 *   saved mid-run; hvx-run exits 0 and leaves FILE (and no temporary
 *   file). hvx-run --restore FILE runs it on: the two outputs together
 *   count from 0 to the guest's limit with no gap and no repeat, and the
 *   guest's checks of its sum pass to the end (it says DONE, never BAD).
 * - refusals: a truncated file, a bad magic, a newer format, a record of
 *   a newer version, of an unknown type, of the wrong size or with a
 *   corrupted payload, and bytes after the end are each refused with one
 *   line and exit status 1, before hvx-run opens the hvx device (it is
 *   given one that does not exist); options that --restore takes from the
 *   file are a usage error.
 * - forged: files built here (no VMX needed) with valid CRCs: a RAM
 *   record whose sizes wrap around 2^64, an unknown device state type
 *   and a device state record longer than its record are refused the
 *   same way, not by a crash.
 * - disk_round_trip: the Debian guest of linux_2cpus with a virtio disk
 *   (--disk, hvx.disk=count) writes each count to a sector of it with an
 *   fsync; saved mid-count (requests in flight are completed by the
 *   save) and restored with the same --disk, it counts on with no gap or
 *   repeat and no new kernel warning; at the end the guest reads every
 *   sector back from the device (page cache dropped) and the host reads
 *   them from the file: all there. A restore without the disk is
 *   refused with one line and no VM.
 * - net_round_trip: the flat guest with a virtio-net device (--net, a
 *   random MAC) saved and restored onto another tap: counts on with no
 *   gap or repeat; a restore without --net is refused with one line
 *   before hvx is opened.
 * - migrate_disk: the flat guest with a disk migrates live; a destination
 *   without the --disk option refuses it with one line, the source runs
 *   on and then migrates to one with it.
 * - refuse_device: nor is a VM with a passed-through device (Bochs's
 *   NE2000): the line names EOPNOTSUPP.
 * - linux_2cpus: the Debian guest of run_test (check.sh puts it in
 *   /lib/hvx/guest/) on 2 vCPUs counts every 100 ms and checks a tmpfs
 *   file it appends to against the sum it keeps (hvx.count=, guest.sh).
 *   Saved mid-count and restored, it counts on with no gap or repeat, the
 *   sums match, the kernel logged no new warning or error (no lost timer,
 *   RCU stall or clocksource complaint), and it powers off.
 * - migrate_live: the flat guest, rewriting pages of a 2 MiB region at a
 *   paced rate and checking each one's previous value, migrates live
 *   between two hvx-run processes over loopback TCP (--migrate,
 *   --incoming): the counter goes on with no gap or repeat, no page is
 *   stale, the source exits only once the destination runs the VM, and
 *   the downtime it reports is within --max-downtime (its summary line is
 *   printed for build/check/migration.txt).
 * - migrate_abort: the destination killed mid-stream, then a stream with
 *   a corrupted record (refused: one line, no VM): the source runs on
 *   each time, and then migrates.
 * - migrate_newer: a stream of a newer format is refused with one line.
 * - migrate_linux: the Debian guest of linux_2cpus, migrated live
 *   mid-count with the default budget (auto-converge throttles it): it
 *   counts on with no gap or repeat, the sums match, no new kernel
 *   warning, it powers off on the destination, and the downtime is
 *   within 300 ms.
 * - hvxctl_save, hvxctl_migrate: round_trip and migrate_live started by
 *   'hvxctl save' and 'hvxctl migrate' (over netlink, through hvx, to the
 *   VM's hvx-run) instead of SIGUSR1, with neither --save nor --migrate:
 *   hvxctl exits 0 with hvx-run's line once it is done.
 * - hvxctl_refused, hvxctl_failed: requests refused (a passed-through
 *   device, an unknown VM, an address that is not tcp:) or failing (a missing
 *   directory, nobody listening): hvxctl exits 1 with one line saying
 *   why, and the guest runs on to its end.
 *
 * hvx-run is $HVX_RUN, else /usr/bin/hvx-run (where check.sh installs it).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/if_tun.h>
#include <time.h>

#include "hvx_nl.h"
#include "hvx_test.h"
#include "hvx_proc.h"
#include "snapshot_guest.h"


/* The file layout of userspace/hvx-run/snapshot.c (userspace/README.md). */
#define HDR_SIZE	40
#define HDR_FORMAT	8	/* u32 */
#define REC_SIZE	24
#define REC_TYPE	0	/* u32 */
#define REC_VERSION	4	/* u16 */
#define REC_LEN		16	/* u64 */
#define TYPE_CONFIG	1
#define TYPE_RAM	2
#define TYPE_REGS	16

#define LIMIT_S		200	/* hang guard per hvx-run, emulated seconds */
#define GUEST_DIR	"/lib/hvx/guest"
#define LINUX_COUNT	60	/* the Linux guest's lines, 100 ms apart */
#define LINUX_SAVE_AT	20	/* saved once it printed this one */
/* The Debian guest's command line, with guest.sh's hvx.* options @opts. */
#define LINUX_APPEND(opts)						\
	"console=ttyS0 nokaslr mitigations=off tsc=reliable lpj=2000000 " \
	"no_timer_check nowatchdog audit=0 lsm= cryptomgr.notests "	\
	"quiet panic=-1 " opts

/* Start hvx-run with args (NULL-terminated); stdin is /dev/null. */
static bool start(struct proc *p, char *const args[])
{
	return proc_start(p, hvx_run_path(), args, NULL);
}

/* Wait for it to end (at most LIMIT_S, then KILL), collect its output. */
static void finish(struct proc *p)
{
	proc_finish(p, LIMIT_S);
}

/* Wait until the guest printed @lines lines; false if it ended first. */
static bool wait_lines(struct proc *p, int lines)
{
	for (int i = 0; i < LIMIT_S * 100; i++) {
		if (proc_count_lines(p->out_fd) >= lines)
			return true;
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid)
			return false;
		msleep(10);
	}
	return false;
}

#define NE2K_BDF	"0000:00:03.0"	/* Bochs's ne2k in slot 2 (check.sh) */
#define NE2K_DEV	"/sys/bus/pci/devices/" NE2K_BDF
#define NOIOMMU_PARAM	"/sys/module/hvx/parameters/allow_unsafe_noiommu"

/* Bochs's NE2000 to the hvx-pci stub, in no-IOMMU mode: a VM with it cannot be saved. */
static int ne2k_take(void)
{
	if (!access(NE2K_DEV "/driver", F_OK) &&
	    write_str(NE2K_DEV "/driver/unbind", NE2K_BDF))
		return -1;
	if (write_str(NOIOMMU_PARAM, "1") ||
	    write_str(NE2K_DEV "/driver_override", "hvx-pci") ||
	    write_str("/sys/bus/pci/drivers_probe", NE2K_BDF))
		return -1;
	return 0;
}

static void ne2k_give_back(void)
{
	write_str(NOIOMMU_PARAM, "0");
	write_str(NE2K_DEV "/driver/unbind", NE2K_BDF);
	write_str(NE2K_DEV "/driver_override", "\n");
}

FIXTURE(snap) {
	char dir[64];
	char guest[128];
	char file[128];
	char bad[128];
	char disk[128];
	bool ne2k;	/* the NE2000 is on the hvx-pci stub: give it back */
};

FIXTURE_SETUP(snap)
{
	int fd;

	strcpy(self->dir, "/tmp/snapshot_test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->guest, sizeof(self->guest), "%s/guest", self->dir);
	snprintf(self->file, sizeof(self->file), "%s/vm.snap", self->dir);
	snprintf(self->bad, sizeof(self->bad), "%s/bad.snap", self->dir);
	snprintf(self->disk, sizeof(self->disk), "%s/disk", self->dir);
	fd = open(self->guest, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(snap_guest_end - snap_guest_start,
		  write(fd, snap_guest_start, snap_guest_end - snap_guest_start));
	close(fd);
	if (access(hvx_run_path(), X_OK))
		SKIP(return, "%s: %s (set HVX_RUN)", hvx_run_path(), strerror(errno));
}

FIXTURE_TEARDOWN(snap)
{
	char tmp[160];

	snprintf(tmp, sizeof(tmp), "%s.tmp", self->file);
	unlink(tmp);
	unlink(self->guest);
	unlink(self->file);
	unlink(self->bad);
	unlink(self->disk);
	rmdir(self->dir);
	if (self->ne2k)
		ne2k_give_back();
}

/*
 * Run the guest with --save (and the options @extra, NULL-ended, if
 * any), SIGUSR1 once it printed @lines lines; it must exit 0 with the
 * file written. Its output goes to *@out.
 */
static void save_guest_with(struct __test_metadata *_metadata,
			    FIXTURE_DATA(snap) *self, int lines, char **out,
			    char *const *extra)
{
	char *args[20] = { "--kernel", self->guest, "--flat", SNAP_LOAD, "--mem",
			   SNAP_MEM, "--cpus", "2", "--save", self->file, NULL };
	char tmp[160];
	struct proc p;
	struct stat st;
	int n = 10;

	for (; extra && *extra && n < 19; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	ASSERT_TRUE(start(&p, args));
	ASSERT_TRUE(wait_lines(&p, lines))
		TH_LOG("the guest did not print %d lines", lines);
	kill(p.pid, SIGUSR1);
	finish(&p);
	ASSERT_EQ(0, p.status) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "saved the VM to ")) TH_LOG("stderr: %s", p.err);
	ASSERT_EQ(NULL, strstr(p.out, "DONE"))
		TH_LOG("the guest ended before the save");
	ASSERT_EQ(0, stat(self->file, &st));
	snprintf(tmp, sizeof(tmp), "%s.tmp", self->file);
	ASSERT_NE(0, access(tmp, F_OK)) TH_LOG("%s left behind", tmp);
	*out = p.out;
	free(p.err);
}

static void save_guest(struct __test_metadata *_metadata, FIXTURE_DATA(snap) *self,
		       int lines, char **out)
{
	save_guest_with(_metadata, self, lines, out, NULL);
}

TEST_F(snap, round_trip)
{
	char *args[] = { "--restore", self->file, NULL };
	char *saved, *whole, *both, why[128];
	bool done, bad;
	long last;
	struct proc p;

	REQUIRE_VMX();
	save_guest(_metadata, self, 100, &saved);
	/* Its whole lines: the save may come in the middle of one. */
	whole = strdup(saved);
	ASSERT_NE(NULL, whole);
	*(strrchr(whole, '\n') ? strrchr(whole, '\n') + 1 : whole) = 0;
	last = check_counter(whole, &done, &bad, why, sizeof(why));
	ASSERT_LE(99, last) TH_LOG("saved run: %s", last == -2 ? why : "too few lines");
	ASSERT_FALSE(bad);
	printf("# saved after counter %ld%s\n", last,
	       strlen(whole) < strlen(saved) ? ", in the middle of a line" : "");
	free(whole);

	ASSERT_TRUE(start(&p, args));
	finish(&p);
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, p.status)
		TH_LOG("stderr: %s\nstdout tail: %s", p.err,
		       p.out + (strlen(p.out) > 200 ? strlen(p.out) - 200 : 0));
	ASSERT_NE(NULL, strstr(p.err, "snapshot ")) TH_LOG("stderr: %s", p.err);
	/* One stream: no gap, no repeat at the seam, the sum always right. */
	both = malloc(strlen(saved) + strlen(p.out) + 1);
	ASSERT_NE(NULL, both);
	strcpy(both, saved);
	strcat(both, p.out);
	last = check_counter(both, &done, &bad, why, sizeof(why));
	ASSERT_NE(-2, last) TH_LOG("%s", why);
	ASSERT_FALSE(bad) TH_LOG("the guest's checksum failed after the restore");
	ASSERT_TRUE(done);
	ASSERT_EQ(SNAP_LIMIT - 1, last);
	free(both);
	free(saved);
	proc_release(&p);
}

/*
 * A persistent tap @name, which hvx-run attaches to by name as to one
 * made with "ip tuntap add" (tun.ko loaded from HVX_NET_DIR, as
 * virtio_net_test does); with @on false, made not persistent (gone).
 */
static bool tap_persist(const char *name, bool on)
{
	const char *dir = getenv("HVX_NET_DIR") ?: "/lib/hvx/net";
	struct ifreq ifr = { 0 };
	char cmd[512];
	bool ok;
	int fd;

	fd = open("/dev/net/tun", O_RDWR);
	if (fd < 0 && on) {
		snprintf(cmd, sizeof(cmd), "insmod %s/tun.ko 2>/dev/null", dir);
		if (system(cmd)) {
			/* ignored: built in, or already loaded */
		}
		mkdir("/dev/net", 0755);
		mknod("/dev/net/tun", S_IFCHR | 0666, makedev(10, 200));
		fd = open("/dev/net/tun", O_RDWR);
	}
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	ok = !ioctl(fd, TUNSETIFF, &ifr) && !ioctl(fd, TUNSETPERSIST, on ? 1 : 0);
	close(fd);
	return ok;
}

/*
 * The flat guest with a virtio-net device (--net, a random MAC) is saved
 * and restored: a restore without the --net option is refused with one
 * line before the VM exists (hvx is not even opened), one with --net on
 * another tap takes the kernel's records (its own random MAC differs
 * from the saved one) and the counter goes on with no gap or repeat.
 */
TEST_F_TIMEOUT(snap, net_round_trip, 2 * LIMIT_S)
{
	char *net[] = { "--net", "tap=hvxsnap0", NULL };
	char *bad_args[] = { "--restore", self->file, "--dev", "/nonexistent/hvx", NULL };
	char *args[] = { "--restore", self->file, "--net", "tap=hvxsnap1", NULL };
	char *saved, *both, why[128];
	bool done, bad;
	struct proc p;
	long last;

	REQUIRE_VMX();
	if (!tap_persist("hvxsnap0", true) || !tap_persist("hvxsnap1", true))
		SKIP(return, "no /dev/net/tun (tun.ko not in HVX_NET_DIR)");
	save_guest_with(_metadata, self, 100, &saved, net);

	ASSERT_TRUE(start(&p, bad_args));
	finish(&p);
	ASSERT_EQ(1, p.status) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "the saved VM had 1 virtio-net device, this hvx-run was given 0"))
		TH_LOG("stderr: %s", p.err);
	ASSERT_EQ(1, p.err_lines) TH_LOG("stderr: %s", p.err);
	proc_release(&p);

	ASSERT_TRUE(start(&p, args));
	finish(&p);
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, p.status)
		TH_LOG("stderr: %s\nstdout tail: %s", p.err,
		       p.out + (strlen(p.out) > 200 ? strlen(p.out) - 200 : 0));
	/* One stream: the restored guest finishes a line cut by the save. */
	both = malloc(strlen(saved) + strlen(p.out) + 1);
	ASSERT_NE(NULL, both);
	strcpy(both, saved);
	strcat(both, p.out);
	last = check_counter(both, &done, &bad, why, sizeof(why));
	ASSERT_NE(-2, last) TH_LOG("%s", why);
	ASSERT_FALSE(bad);
	ASSERT_TRUE(done);
	ASSERT_EQ(SNAP_LIMIT - 1, last);
	free(both);
	free(saved);
	proc_release(&p);
	tap_persist("hvxsnap0", false);
	tap_persist("hvxsnap1", false);
}

/* @data with @len bytes to self->bad. */
static bool write_bad(FIXTURE_DATA(snap) *self, const uint8_t *data, size_t len)
{
	int fd = open(self->bad, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* Byte offset of the first record of @type, or 0. */
static size_t find_record(const uint8_t *f, size_t len, uint32_t type)
{
	for (size_t off = HDR_SIZE; off + REC_SIZE <= len;) {
		uint32_t t;
		uint64_t size;

		memcpy(&t, f + off + REC_TYPE, 4);
		memcpy(&size, f + off + REC_LEN, 8);
		if (t == type)
			return off;
		size = (size + 7) & ~7ull;	/* padded to 8 bytes */
		if (size > len - off - REC_SIZE)
			break;
		off += REC_SIZE + size;
	}
	return 0;
}

TEST_F(snap, refusals)
{
	char *args[] = { "--restore", self->bad, "--dev", "/nonexistent/hvx", NULL };
	char *usage[] = { "--restore", self->file, "--mem", "16M", NULL };
	uint8_t *f, *copy;
	size_t len, cfg, ram, regs;
	struct stat st;
	struct proc p;
	char *saved;
	int fd;

	REQUIRE_VMX();
	save_guest(_metadata, self, 20, &saved);
	free(saved);
	fd = open(self->file, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	len = st.st_size;
	f = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, f);
	copy = malloc(len + 8);
	ASSERT_NE(NULL, copy);
	cfg = find_record(f, len, TYPE_CONFIG);
	ram = find_record(f, len, TYPE_RAM);
	regs = find_record(f, len, TYPE_REGS);
	ASSERT_NE(0, cfg);
	ASSERT_NE(0, ram);
	ASSERT_NE(0, regs);

	for (int c = 0; c < 9; c++) {
		const char *msg = NULL;
		size_t n = len;
		uint32_t v32;
		uint16_t v16;
		uint64_t v64;

		memcpy(copy, f, len);
		switch (c) {
		case 0:
			n = len / 2;
			msg = "truncated";
			break;
		case 1:
			n = 20;
			msg = "truncated";
			break;
		case 2:
			copy[0] ^= 0xff;
			msg = "bad magic";
			break;
		case 3:
			v32 = 2;
			memcpy(copy + HDR_FORMAT, &v32, 4);
			msg = "snapshot format 2 is newer";
			break;
		case 4:
			v16 = 2;
			memcpy(copy + cfg + REC_VERSION, &v16, 2);
			msg = "has version 2, newer";
			break;
		case 5:
			v32 = 99;
			memcpy(copy + cfg + REC_TYPE, &v32, 4);
			msg = "unknown record type 99";
			break;
		case 6:
			memcpy(&v64, copy + regs + REC_LEN, 8);
			v64 -= 8;
			memcpy(copy + regs + REC_LEN, &v64, 8);
			msg = "registers record";
			break;
		case 7:
			/* A byte of the RAM record's payload (the bitmap). */
			copy[ram + REC_SIZE + 40] ^= 0x01;
			msg = "RAM record";
			break;
		case 8:
			memset(copy + len, 0, 8);
			n = len + 8;
			msg = "bytes after the end record";
			break;
		}
		ASSERT_TRUE(write_bad(self, copy, n));
		ASSERT_TRUE(start(&p, args));
		finish(&p);
		ASSERT_EQ(1, p.status) TH_LOG("case %d: stderr: %s", c, p.err);
		ASSERT_EQ(1, p.err_lines) TH_LOG("case %d: stderr: %s", c, p.err);
		ASSERT_EQ(0, strncmp(p.err, "hvx-run: --restore ", 19))
			TH_LOG("case %d: stderr: %s", c, p.err);
		ASSERT_NE(NULL, strstr(p.err, msg))
			TH_LOG("case %d: expected \"%s\" in: %s", c, msg, p.err);
		proc_release(&p);
	}
	/* The corrupted page of case 7 is named as a CRC mismatch. */
	memcpy(copy, f, len);
	copy[len - REC_SIZE - 1] ^= 0x80;	/* the last RAM page's last byte */
	ASSERT_TRUE(write_bad(self, copy, len));
	ASSERT_TRUE(start(&p, args));
	finish(&p);
	ASSERT_EQ(1, p.status) TH_LOG("stderr: %s", p.err);
	ASSERT_EQ(1, p.err_lines) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "corrupted (CRC mismatch)")) TH_LOG("stderr: %s", p.err);
	proc_release(&p);

	ASSERT_TRUE(start(&p, usage));
	finish(&p);
	ASSERT_EQ(2, p.status) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "--mem cannot be used with --restore"))
		TH_LOG("stderr: %s", p.err);
	proc_release(&p);
	munmap(f, len);
	free(copy);
}


/* Append a record of @type with @len bytes of @payload at @f + *@off. */
static void put_record(uint8_t *f, size_t *off, uint32_t type,
		       const void *payload, uint64_t len)
{
	uint8_t *r = f + *off;
	uint32_t crc = crc32_ieee(payload, len);
	uint16_t version = 1;

	memset(r, 0, REC_SIZE);
	memcpy(r + REC_TYPE, &type, 4);
	memcpy(r + REC_VERSION, &version, 2);
	memcpy(r + 12, &crc, 4);
	memcpy(r + REC_LEN, &len, 8);
	memcpy(r + REC_SIZE, payload, len);
	memset(r + REC_SIZE + len, 0, (8 - len % 8) % 8);
	*off += REC_SIZE + ((len + 7) & ~7ull);
}

/*
 * Forged files, built here with valid CRCs (no VMX needed): a RAM record
 * whose sizes wrap around 2^64 to match its length (read naively, its
 * bitmap lies far past the file), and device state records that
 * HVX_SET_VM_STATE would refuse. Each is refused with one line and exit
 * status 1, before the hvx device is opened, not by a crash.
 */
TEST_F(snap, forged)
{
	char *args[] = { "--restore", self->bad, "--dev", "/nonexistent/hvx", NULL };
	uint8_t *f = calloc(1, 3 * 4096);
	uint64_t ram[4 + 512] = { 0 };
	struct hvx_state_header st[2];
	uint32_t v32;
	struct proc p;

	ASSERT_NE(NULL, f);
	for (int c = 0; c < 3; c++) {
		const char *msg = NULL;
		size_t off = HDR_SIZE;

		memset(f, 0, 3 * 4096);
		memcpy(f, "HVXSNAP", 8);
		v32 = 1;
		memcpy(f + HDR_FORMAT, &v32, 4);
		v32 = HVX_API_VERSION;
		memcpy(f + 12, &v32, 4);
		v32 = HDR_SIZE;
		memcpy(f + 16, &v32, 4);
		memset(st, 0, sizeof(st));
		switch (c) {
		case 0: {
			/*
			 * 2^64 - 4 KiB of RAM: a 2^49-byte bitmap; the page
			 * count makes 32 + bitmap + pages * 4 KiB wrap to
			 * the 32 + 4096 bytes the record has.
			 */
			uint64_t words = ((~0ull >> 12) + 63) / 64;

			ram[1] = ~0ull - 4095;
			ram[2] = 4096;
			ram[3] = (4096 - words * 8) / 4096;
			put_record(f, &off, TYPE_RAM, ram, sizeof(ram));
			msg = "RAM record 0 has 4128 bytes, its header says otherwise";
			break;
		}
		case 1:
			st[0].type = 99;
			st[0].version = 1;
			st[0].size = sizeof(st[0]);
			put_record(f, &off, 4, st, sizeof(st[0]));
			msg = "unknown device state type 99";
			break;
		case 2:
			st[0].type = HVX_STATE_PIC;
			st[0].version = 1;
			st[0].size = 4096;	/* past the record's end */
			put_record(f, &off, 4, st, sizeof(st));
			msg = "the PIC state is malformed";
			break;
		}
		put_record(f, &off, 0, NULL, 0);
		ASSERT_TRUE(write_bad(self, f, off));
		ASSERT_TRUE(start(&p, args));
		finish(&p);
		ASSERT_EQ(1, p.status) TH_LOG("case %d: stderr: %s", c, p.err);
		ASSERT_EQ(1, p.err_lines) TH_LOG("case %d: stderr: %s", c, p.err);
		ASSERT_NE(NULL, strstr(p.err, msg))
			TH_LOG("case %d: expected \"%s\" in: %s", c, msg, p.err);
		proc_release(&p);
	}
	free(f);
}

static bool has_line(int fd, const char *s);
static long check_linux_count(const char *out, char *why, size_t len);

#define DISK_COUNT	40	/* the Linux guest's lines with a disk */
#define DISK_SAVE_AT	15

TEST_F_TIMEOUT(snap, disk_round_trip, 3 * LIMIT_S + 60)
{
	static const char append[] = LINUX_APPEND("hvx.disk=count hvx.count=40");
	char *save_args[] = { "--kernel", GUEST_DIR "/vmlinuz", "--initrd",
			      GUEST_DIR "/initrd.gz", "--mem", "128M", "--cpus", "2",
			      "--append", (char *)append, "--disk", self->disk,
			      "--save", self->file, NULL };
	char *nodisk_args[] = { "--restore", self->file, NULL };
	char *restore_args[] = { "--restore", self->file, "--disk", self->disk, NULL };
	char at[64], why[128], sector[512], want[16], *both;
	struct proc p, q;
	bool seen = false;
	long last;
	int fd;

	REQUIRE_VMX();
	if (access(GUEST_DIR "/vmlinuz", R_OK) || access(GUEST_DIR "/initrd.gz", R_OK))
		SKIP(return, GUEST_DIR "/{vmlinuz,initrd.gz} missing (check.sh adds them when snapshot_test runs)");
	fd = open(self->disk, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 1 << 20));
	close(fd);
	snprintf(at, sizeof(at), "hvx-guest: count %d\r\n", DISK_SAVE_AT);
	ASSERT_TRUE(start(&p, save_args));
	for (int i = 0; i < LIMIT_S * 10 && !seen; i++) {
		seen = has_line(p.out_fd, at);
		if (!seen && waitpid(p.pid, NULL, WNOHANG) == p.pid)
			break;
		if (!seen)
			msleep(100);
	}
	kill(p.pid, seen ? SIGUSR1 : SIGTERM);
	finish(&p);
	ASSERT_TRUE(seen) TH_LOG("no \"%.20s\"; stderr: %s; console tail: %s", at, p.err,
				 p.out + (strlen(p.out) > 2000 ? strlen(p.out) - 2000 : 0));
	ASSERT_EQ(0, p.status) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "saved the VM to ")) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.out, "hvx-guest: disk ready")) TH_LOG("console: %s", p.out);
	last = check_linux_count(p.out, why, sizeof(why));
	ASSERT_LE(DISK_SAVE_AT, last) TH_LOG("%s", last == -2 ? why : p.out);

	/* Restored at once, as linux_2cpus: the guest's clock jumps little. */
	ASSERT_TRUE(start(&q, restore_args));
	finish(&q);
	ASSERT_EQ(0, q.status) TH_LOG("stderr: %s; console: %s", q.err, q.out);
	both = malloc(strlen(p.out) + strlen(q.out) + 1);
	ASSERT_NE(NULL, both);
	strcpy(both, p.out);
	strcat(both, q.out);
	last = check_linux_count(both, why, sizeof(why));
	ASSERT_NE(-2, last) TH_LOG("%s", why);
	ASSERT_EQ(DISK_COUNT - 1, last) TH_LOG("console after the restore: %s", q.out);
	ASSERT_EQ(NULL, strstr(both, "BAD")) TH_LOG("console: %s", q.out);
	ASSERT_NE(NULL, strstr(q.out, "hvx-guest: disk verified 40 sectors"))
		TH_LOG("console: %s", q.out);
	ASSERT_EQ(NULL, strstr(q.out, "hvx-guest: new warning"))
		TH_LOG("console after the restore: %s", q.out);
	/* What the guest wrote before and after the save is in the file. */
	fd = open(self->disk, O_RDONLY);
	ASSERT_LE(0, fd);
	for (int i = 0; i < DISK_COUNT; i++) {
		ASSERT_EQ(sizeof(sector), pread(fd, sector, sizeof(sector), i * 512L));
		snprintf(want, sizeof(want), "%d\n", i);
		ASSERT_EQ(0, memcmp(sector, want, strlen(want) + 1))
			TH_LOG("sector %d: '%.8s'", i, sector);
	}
	close(fd);
	free(both);
	proc_release(&p);
	proc_release(&q);

	/* Without its disk: refused before a VM exists, one line. */
	ASSERT_TRUE(start(&q, nodisk_args));
	finish(&q);
	ASSERT_EQ(1, q.status) TH_LOG("stderr: %s", q.err);
	ASSERT_EQ(1, q.err_lines) TH_LOG("stderr: %s", q.err);
	ASSERT_NE(NULL, strstr(q.err, "the saved VM had 1 virtio disk, this hvx-run was given 0"))
		TH_LOG("stderr: %s", q.err);
	proc_release(&q);
}

static bool write_mig_guest(const char *path);
static void mig_setup(struct __test_metadata *_metadata, FIXTURE_DATA(snap) *self,
		      char *mguest, char *to, int kto, char *from, int kfrom);
static int mig_port(int k);
static int loopback_up(void);
static bool wait_err(struct proc *p, const char *s, int secs);
static void mig_args(char **args, const char *guest, const char *target);
static void migrate_ok(struct __test_metadata *_metadata, struct proc *src,
		       struct proc *dst, long *downtime);
static void check_both(struct __test_metadata *_metadata, const char *a,
		       const char *b);

/*
 * The flat guest of migrate_live with a disk migrates live: a destination
 * without the --disk option refuses the stream with one line (the source
 * runs on), one with it takes the VM (its virtio record from the stream)
 * and the counter goes on with no gap or repeat.
 */
TEST_F_TIMEOUT(snap, migrate_disk, 2 * LIMIT_S)
{
	char to[64], from[64], *src_args[20], mguest[160];
	char *bad_args[] = { "--incoming", from, NULL };
	char *dst_args[] = { "--incoming", from, "--disk", self->disk, NULL };
	struct proc src, dst;
	long downtime = -1;
	int fd, n;

	REQUIRE_VMX();
	fd = open(self->disk, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 1 << 20));
	close(fd);
	mig_setup(_metadata, self, mguest, to, 0, from, 0);
	mig_args(src_args, mguest, to);
	for (n = 0; src_args[n]; n++)
		;
	src_args[n++] = "--disk";
	src_args[n++] = self->disk;
	src_args[n] = NULL;

	ASSERT_TRUE(start(&dst, bad_args));
	ASSERT_TRUE(wait_err(&dst, "waiting for a VM", 30)) TH_LOG("destination did not listen");
	ASSERT_TRUE(start(&src, src_args));
	ASSERT_TRUE(wait_lines(&src, 100)) TH_LOG("the guest did not print 100 lines");
	kill(src.pid, SIGUSR1);
	finish(&dst);
	ASSERT_EQ(1, dst.status) TH_LOG("destination: %s", dst.err);
	ASSERT_NE(NULL, strstr(dst.err, "the saved VM had 1 virtio disk, this hvx-run was given 0"))
		TH_LOG("destination: %s", dst.err);
	proc_release(&dst);
	ASSERT_EQ(0, waitpid(src.pid, NULL, WNOHANG)) TH_LOG("the source ended");

	ASSERT_TRUE(start(&dst, dst_args));
	ASSERT_TRUE(wait_err(&dst, "waiting for a VM", 30)) TH_LOG("destination did not listen");
	ASSERT_TRUE(wait_lines(&src, 300)) TH_LOG("the source stopped counting");
	migrate_ok(_metadata, &src, &dst, &downtime);
	finish(&dst);
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, dst.status)
		TH_LOG("destination: %s\nstdout tail: %s", dst.err,
		       dst.out + (strlen(dst.out) > 200 ? strlen(dst.out) - 200 : 0));
	check_both(_metadata, src.out, dst.out);
	proc_release(&src);
	proc_release(&dst);
	unlink(mguest);
}


/*
 * A VM with a passed-through device (Bochs's NE2000, as run_test's
 * linux_with_passthrough_nic: no IOMMU, unsafe mode) is not saved: one
 * line naming EOPNOTSUPP, no file, and the guest runs on to its end.
 */
TEST_F(snap, refuse_device)
{
	char *args[] = { "--kernel", self->guest, "--flat", SNAP_LOAD, "--mem",
			 SNAP_MEM, "--device", NE2K_BDF, "--save", self->file, NULL };
	bool done, bad, started, ran;
	char why[128];
	struct proc p;
	long last;

	REQUIRE_VMX();
	if (access(NE2K_DEV "/vendor", R_OK))
		SKIP(return, "no NE2000 at " NE2K_BDF " (Bochs's ne2k slot)");
	self->ne2k = true;
	ASSERT_EQ(0, ne2k_take());
	started = start(&p, args);
	ran = started && wait_lines(&p, 50);
	if (started) {
		kill(p.pid, SIGUSR1);
		finish(&p);
	}
	ASSERT_TRUE(started);
	ASSERT_TRUE(ran) TH_LOG("the guest did not print 50 lines: %s", p.err);
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, p.status) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "hvx-run: cannot save the VM: --device " NE2K_BDF
			       ": Operation not supported"))
		TH_LOG("stderr: %s", p.err);
	last = check_counter(p.out, &done, &bad, why, sizeof(why));
	ASSERT_EQ(SNAP_LIMIT - 1, last) TH_LOG("%s", last == -2 ? why : "");
	ASSERT_TRUE(done);
	ASSERT_NE(0, access(self->file, F_OK));
	proc_release(&p);
}

/* Has the memfd @fd a line containing @s? */
static bool has_line(int fd, const char *s)
{
	char *all = proc_read(fd);
	bool found = all && strstr(all, s);

	free(all);
	return found;
}

/* The Linux guest's "count" lines in @out: from 0, one by one, to the end. */
static long check_linux_count(const char *out, char *why, size_t len)
{
	static const char tag[] = "hvx-guest: count ";
	long last = -1;

	for (const char *s = strstr(out, tag); s; s = strstr(s + 1, tag)) {
		const char *v = s + sizeof(tag) - 1;
		char *end;
		long n;

		if (!strncmp(v, "done", 4))
			break;
		n = strtol(v, &end, 10);
		if (!*end)
			break;	/* cut by the save: the restored run goes on */
		if (end == v || (*end != '\r' && *end != '\n') || n != last + 1) {
			snprintf(why, len, "'%.40s' after count %ld", s, last);
			return -2;
		}
		last = n;
	}
	return last;
}

TEST_F_TIMEOUT(snap, linux_2cpus, 2 * LIMIT_S + 60)
{
	static const char append[] = LINUX_APPEND("hvx.count=60");
	char *save_args[] = { "--kernel", GUEST_DIR "/vmlinuz", "--initrd",
			      GUEST_DIR "/initrd.gz", "--mem", "128M", "--cpus", "2",
			      "--append", (char *)append, "--save", self->file, NULL };
	char *restore_args[] = { "--restore", self->file, NULL };
	char at[64], why[128], *both;
	struct proc p, q;
	bool seen = false;
	struct stat st;
	long last;

	REQUIRE_VMX();
	if (access(GUEST_DIR "/vmlinuz", R_OK) || access(GUEST_DIR "/initrd.gz", R_OK))
		SKIP(return, GUEST_DIR "/{vmlinuz,initrd.gz} missing (check.sh adds them when snapshot_test runs)");
	snprintf(at, sizeof(at), "hvx-guest: count %d\r\n", LINUX_SAVE_AT);
	ASSERT_TRUE(start(&p, save_args));
	for (int i = 0; i < LIMIT_S * 10 && !seen; i++) {
		seen = has_line(p.out_fd, at);
		if (!seen && waitpid(p.pid, NULL, WNOHANG) == p.pid)
			break;
		if (!seen)
			msleep(100);
	}
	if (!seen)
		kill(p.pid, SIGTERM);
	else
		kill(p.pid, SIGUSR1);
	finish(&p);
	ASSERT_TRUE(seen) TH_LOG("no \"%.20s\" in %d s; stderr: %s; console tail: %s", at,
				 LIMIT_S, p.err,
				 p.out + (strlen(p.out) > 2000 ? strlen(p.out) - 2000 : 0));
	ASSERT_EQ(0, p.status) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "saved the VM to ")) TH_LOG("stderr: %s", p.err);
	ASSERT_EQ(NULL, strstr(p.out, "hvx-guest: count done"));
	ASSERT_EQ(0, stat(self->file, &st));
	last = check_linux_count(p.out, why, sizeof(why));
	ASSERT_LE(LINUX_SAVE_AT, last) TH_LOG("%s", last == -2 ? why : p.out);
	printf("# saved after count %ld: %lld MiB\n", last, (long long)st.st_size >> 20);

	ASSERT_TRUE(start(&q, restore_args));
	finish(&q);
	ASSERT_EQ(0, q.status) TH_LOG("stderr: %s; console: %s", q.err, q.out);
	ASSERT_NE(NULL, strstr(q.err, "the guest powered off")) TH_LOG("stderr: %s", q.err);
	both = malloc(strlen(p.out) + strlen(q.out) + 1);
	ASSERT_NE(NULL, both);
	strcpy(both, p.out);
	strcat(both, q.out);
	last = check_linux_count(both, why, sizeof(why));
	ASSERT_NE(-2, last) TH_LOG("%s", why);
	ASSERT_EQ(LINUX_COUNT - 1, last) TH_LOG("console after the restore: %s", q.out);
	ASSERT_EQ(NULL, strstr(both, "hvx-guest: count BAD")) TH_LOG("console: %s", q.out);
	ASSERT_NE(NULL, strstr(q.out, "hvx-guest: count done")) TH_LOG("console: %s", q.out);
	ASSERT_EQ(NULL, strstr(q.out, "hvx-guest: new warning"))
		TH_LOG("console after the restore: %s", q.out);
	free(both);
	proc_release(&p);
	proc_release(&q);
}

/* ------------------------------------------------------------------ */
/* Live migration: --migrate and --incoming */

/*
 * Bochs's loopback TCP between two hvx-run processes moved about 3 MB/s
 * of emulated time, and the guest made about 45 steps a second while
 * they ran: 2 pages a step keeps the dirty rate well below what the link
 * can send, as pre-copy needs.
 */
#define MIG_LIMIT	1500	/* the flat guest counts this far */
#define MIG_DIRTY	2	/* pages of its dirty region per step */
#define MIG_PACE	(1 << 20)	/* TSC ticks per step at least */
#define MIG_DOWNTIME	300	/* --max-downtime, ms */

/* The flat guest with the migration parameters, to @path. */
static bool write_mig_guest(const char *path)
{
	return flat_guest_write(path, MIG_LIMIT, MIG_DIRTY, MIG_PACE);
}

/*
 * The migration tests' start: the flat guest with the migration
 * parameters at @mguest (beside the fixture's guest), the loopback up,
 * @to and @from (64 bytes each) the addresses of ports mig_port(@kto) and
 * mig_port(@kfrom).
 */
static void mig_setup(struct __test_metadata *_metadata, FIXTURE_DATA(snap) *self,
		      char *mguest, char *to, int kto, char *from, int kfrom)
{
	snprintf(mguest, 160, "%s.mig", self->guest);
	ASSERT_TRUE(write_mig_guest(mguest));
	snprintf(to, 64, "tcp:127.0.0.1:%d", mig_port(kto));
	snprintf(from, 64, "tcp:127.0.0.1:%d", mig_port(kfrom));
	ASSERT_EQ(0, loopback_up());
}

/* The destination listening, then the source, which printed 200 lines. */
static void mig_start(struct __test_metadata *_metadata, struct proc *src,
		      char **src_args, struct proc *dst, char **dst_args)
{
	ASSERT_TRUE(start(dst, dst_args));
	ASSERT_TRUE(wait_err(dst, "waiting for a VM", 30)) TH_LOG("destination did not listen");
	ASSERT_TRUE(start(src, src_args));
	ASSERT_TRUE(wait_lines(src, 200)) TH_LOG("the guest did not print 200 lines");
}

/*
 * The loopback interface up (the test initramfs's init leaves it down;
 * Linux gives it 127.0.0.1 as it comes up): 0 or -errno.
 */
static int loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(fd, SIOCSIFFLAGS, &ifr))
		ret = -errno;
	close(fd);
	return ret;
}

/* A TCP port of this run on the loopback; @k picks one of several. */
static int mig_port(int k)
{
	return 30000 + (getpid() % 10000) * 3 + k;
}

/* How often @s occurs in the memfd @fd. */
static int count_str(int fd, const char *s)
{
	char *all = proc_read(fd);
	int n = 0;

	for (char *c = all ? strstr(all, s) : NULL; c; c = strstr(c + 1, s))
		n++;
	free(all);
	return n;
}

/* Wait up to @secs for @s in the stderr of @p; false if it ended first. */
static bool wait_err(struct proc *p, const char *s, int secs)
{
	for (int i = 0; i < secs * 100; i++) {
		if (has_line(p->err_fd, s))
			return true;
		if (!p->reaped && waitpid(p->pid, &p->status, WNOHANG) == p->pid) {
			p->reaped = true;
			p->status = WIFEXITED(p->status) ? WEXITSTATUS(p->status) :
				    128 + WTERMSIG(p->status);
			return has_line(p->err_fd, s);
		}
		msleep(10);
	}
	return false;
}

/* Wait up to @secs for @p to end; its status in p->status. */
static bool wait_exit(struct proc *p, int secs)
{
	int st;

	for (int i = 0; i < secs * 100 && !p->reaped; i++) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->reaped = true;
			p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		} else {
			msleep(10);
		}
	}
	return p->reaped;
}

static long count_of(struct proc *p)
{
	char *out = proc_read(p->out_fd), why[128];
	bool done, bad;
	long last;

	if (!out)
		return -1;
	*(strrchr(out, '\n') ? strrchr(out, '\n') + 1 : out) = 0;
	last = check_counter(out, &done, &bad, why, sizeof(why));
	free(out);
	return last;
}

/*
 * A TCP relay from 127.0.0.1:@from to 127.0.0.1:@to, in a child process,
 * for one connection: it flips a bit of the byte at stream offset
 * @flip_at (if >= 0), and once it passed @kill_at bytes on (if >= 0) it
 * kills @victim with SIGKILL. It forwards replies back and ends when
 * either side does. Listens before it returns.
 */
static pid_t relay(int from, int to, long flip_at, long kill_at, pid_t victim)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1, src, dst;
	static char buf[65536];
	long passed = 0;
	pid_t pid;

	if (ls < 0)
		return -1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_port = htons(from);
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1)) {
		close(ls);
		return -1;
	}
	pid = fork();
	if (pid) {
		close(ls);
		return pid;
	}
	signal(SIGPIPE, SIG_IGN);
	src = accept(ls, NULL, NULL);
	dst = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = htons(to);
	if (src < 0 || dst < 0 || connect(dst, (struct sockaddr *)&a, sizeof(a)))
		_exit(1);
	for (;;) {
		struct pollfd p[2] = { { .fd = src, .events = POLLIN },
				       { .fd = dst, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, -1) < 0)
			_exit(1);
		if (p[1].revents) {
			n = read(dst, buf, sizeof(buf));
			if (n <= 0 || write(src, buf, n) != n)
				_exit(0);
		}
		if (p[0].revents) {
			n = read(src, buf, sizeof(buf));
			if (n <= 0)
				_exit(0);
			if (flip_at >= passed && flip_at < passed + n)
				buf[flip_at - passed] ^= 0x01;
			if (write(dst, buf, n) != n) {
				/* Its last words (a refusal) still go back. */
				while ((n = read(dst, buf, sizeof(buf))) > 0)
					if (write(src, buf, n) != n)
						break;
				_exit(0);
			}
			passed += n;
			if (kill_at >= 0 && passed >= kill_at && victim > 0) {
				kill(victim, SIGKILL);
				victim = 0;
			}
		}
	}
}

/* The number of VMs hvx has (root sees all), -1 if it cannot tell. */
static int count_vms(void)
{
	struct hvx_nl_vm vms[64];
	struct hvx_nl nl;
	int n;

	if (hvx_nl_open(&nl))
		return -1;
	n = hvx_nl_list_vms(&nl, vms, 64);
	hvx_nl_close(&nl);
	return n;
}

static void mig_args(char **args, const char *guest, const char *target)
{
	static char to[64];
	int n = 0;

	snprintf(to, sizeof(to), "%s", target);
	args[n++] = "--kernel";
	args[n++] = (char *)guest;
	args[n++] = "--flat";
	args[n++] = SNAP_LOAD;
	args[n++] = "--mem";
	args[n++] = SNAP_MEM;
	args[n++] = "--cpus";
	args[n++] = "2";
	args[n++] = "--migrate";
	args[n++] = to;
	args[n] = NULL;
}

/*
 * Migrate @src (running, printing its counter) to @dst (waiting): SIGUSR1,
 * then the source must exit 0 with its summary while the destination
 * already said that the VM runs there and is still running. Fills
 * *@downtime from the summary.
 */
static void migrate_ok(struct __test_metadata *_metadata, struct proc *src,
		       struct proc *dst, long *downtime)
{
	const char *d;
	char *err;

	kill(src->pid, SIGUSR1);
	ASSERT_TRUE(wait_exit(src, LIMIT_S));
	err = proc_read(dst->err_fd);
	ASSERT_NE(NULL, err);
	/* The source ended: the destination runs the VM already. */
	ASSERT_NE(NULL, strstr(err, "runs here"))
		TH_LOG("destination: %s; source: %s", err, proc_read(src->err_fd));
	ASSERT_EQ(0, waitpid(dst->pid, NULL, WNOHANG));
	free(err);
	finish(src);
	ASSERT_EQ(0, src->status) TH_LOG("source: %s", src->err);
	d = strstr(src->err, "migrated to ");
	ASSERT_NE(NULL, d) TH_LOG("source: %s", src->err);
	ASSERT_NE(NULL, strstr(d, "downtime ")) TH_LOG("source: %s", src->err);
	*downtime = strtol(strstr(d, "downtime ") + 9, NULL, 10);
	printf("# %.*s\n", (int)strcspn(d, "\n"), d);
}

/* The two outputs count on from 0 to the end: no gap, no repeat, no BAD. */
static void check_both(struct __test_metadata *_metadata, const char *a,
		       const char *b)
{
	char *both = malloc(strlen(a) + strlen(b) + 1), why[128];
	bool done, bad;
	long last;

	ASSERT_NE(NULL, both);
	strcpy(both, a);
	strcat(both, b);
	last = check_counter(both, &done, &bad, why, sizeof(why));
	ASSERT_NE(-2, last) TH_LOG("%s", why);
	ASSERT_FALSE(bad) TH_LOG("the guest found a page or its sum wrong");
	ASSERT_TRUE(done);
	ASSERT_EQ(MIG_LIMIT - 1, last);
	free(both);
}

/*
 * The flat guest on 2 vCPUs, rewriting MIG_DIRTY pages per paced step,
 * moves between two hvx-run processes over loopback TCP: the source exits
 * 0 only once the destination runs the VM, the counter goes on with no
 * gap or repeat, every page and the sum check out to the end, and the
 * downtime the source reports is within --max-downtime.
 */
TEST_F_TIMEOUT(snap, migrate_live, LIMIT_S + 60)
{
	char to[64], from[64], *src_args[16], *dst_args[] = { "--incoming", from, NULL };
	char mguest[160];
	struct proc src, dst;
	long downtime = -1;

	REQUIRE_VMX();
	mig_setup(_metadata, self, mguest, to, 0, from, 0);
	mig_args(src_args, mguest, to);
	mig_start(_metadata, &src, src_args, &dst, dst_args);
	migrate_ok(_metadata, &src, &dst, &downtime);
	finish(&dst);
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, dst.status)
		TH_LOG("destination: %s\nstdout tail: %s", dst.err,
		       dst.out + (strlen(dst.out) > 200 ? strlen(dst.out) - 200 : 0));
	check_both(_metadata, src.out, dst.out);
	ASSERT_LE(0, downtime);
	ASSERT_GE(MIG_DOWNTIME, downtime) TH_LOG("source: %s", src.err);
	proc_release(&src);
	proc_release(&dst);
	unlink(mguest);
}

/*
 * Failures leave the source running, and it can migrate again: the
 * destination killed with SIGKILL mid-stream (by a relay, after 64 KiB),
 * then a stream with one bit flipped (in the first RAM pages record):
 * that destination refuses it with one line, exit status 1, and never
 * creates a VM (hvx lists only the source's). Then the migration to a
 * third destination succeeds, and the counter went on throughout.
 */
TEST_F_TIMEOUT(snap, migrate_abort, 2 * LIMIT_S)
{
	char to[64], from[64], *src_args[16], *dst_args[] = { "--incoming", from, NULL };
	char mguest[160];
	struct proc src, dst;
	long downtime, at;
	pid_t r;
	int st;

	REQUIRE_VMX();
	mig_setup(_metadata, self, mguest, to, 1, from, 2);
	mig_args(src_args, mguest, to);
	ASSERT_TRUE(start(&src, src_args));
	ASSERT_TRUE(wait_lines(&src, 100)) TH_LOG("the guest did not print 100 lines");

	/* 1: the destination dies mid-stream. */
	ASSERT_TRUE(start(&dst, dst_args));
	ASSERT_TRUE(wait_err(&dst, "waiting for a VM", 30));
	r = relay(mig_port(1), mig_port(2), -1, 64 * 1024, dst.pid);
	ASSERT_LT(0, r);
	kill(src.pid, SIGUSR1);
	ASSERT_TRUE(wait_err(&src, "failed: ", LIMIT_S)) TH_LOG("source: %s", proc_read(src.err_fd));
	ASSERT_TRUE(wait_exit(&dst, 30));
	ASSERT_EQ(128 + SIGKILL, dst.status);
	waitpid(r, &st, 0);
	finish(&dst);
	proc_release(&dst);
	at = count_of(&src);
	ASSERT_TRUE(wait_lines(&src, at + 50)) TH_LOG("the source stopped counting at %ld", at);
	ASSERT_TRUE(has_line(src.err_fd, "the VM keeps running"));

	/* 2: a corrupted record: refused, no VM. */
	ASSERT_TRUE(start(&dst, dst_args));
	ASSERT_TRUE(wait_err(&dst, "waiting for a VM", 30));
	r = relay(mig_port(1), mig_port(2), 8192, -1, 0);
	ASSERT_LT(0, r);
	kill(src.pid, SIGUSR1);
	ASSERT_TRUE(wait_exit(&dst, LIMIT_S));
	finish(&dst);
	ASSERT_EQ(1, dst.status) TH_LOG("destination: %s", dst.err);
	ASSERT_EQ(2, dst.err_lines) TH_LOG("destination: %s", dst.err);
	ASSERT_NE(NULL, strstr(dst.err, "corrupted (CRC mismatch)")) TH_LOG("destination: %s", dst.err);
	ASSERT_EQ(1, count_vms()) TH_LOG("only the source's VM should exist");
	for (int i = 0; i < 6000 && count_str(src.err_fd, "failed: ") < 2; i++)
		msleep(10);
	ASSERT_EQ(2, count_str(src.err_fd, "failed: ")) TH_LOG("source: %s", proc_read(src.err_fd));
	waitpid(r, &st, 0);
	proc_release(&dst);
	at = count_of(&src);
	ASSERT_TRUE(wait_lines(&src, at + 50)) TH_LOG("the source stopped counting at %ld", at);

	/* 3: and then it migrates. */
	ASSERT_TRUE(start(&dst, dst_args));
	ASSERT_TRUE(wait_err(&dst, "waiting for a VM", 30));
	r = relay(mig_port(1), mig_port(2), -1, -1, 0);
	ASSERT_LT(0, r);
	migrate_ok(_metadata, &src, &dst, &downtime);
	finish(&dst);
	waitpid(r, &st, 0);
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, dst.status) TH_LOG("destination: %s", dst.err);
	check_both(_metadata, src.out, dst.out);
	proc_release(&src);
	proc_release(&dst);
	unlink(mguest);
}

/*
 * A stream from a newer hvx-run (format 2 in its header) is refused with
 * one line and status 1, a refusal goes back, and no VM was made (the hvx
 * device is one that does not exist). No VMX needed.
 */
TEST_F(snap, migrate_newer)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(mig_port(0)) };
	char from[64], *args[] = { "--incoming", from, "--dev", "/nonexistent/hvx", NULL };
	uint8_t h[HDR_SIZE] = "HVXSNAP", reply[64] = { 0 };
	uint32_t v32;
	struct proc p;
	int fd;

	snprintf(from, sizeof(from), "tcp:127.0.0.1:%d", mig_port(0));
	ASSERT_EQ(0, loopback_up());
	ASSERT_TRUE(start(&p, args));
	ASSERT_TRUE(wait_err(&p, "waiting for a VM", 30));
	v32 = 2;
	memcpy(h + HDR_FORMAT, &v32, 4);
	v32 = HVX_API_VERSION;
	memcpy(h + 12, &v32, 4);
	v32 = HDR_SIZE;
	memcpy(h + 16, &v32, 4);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(HDR_SIZE, write(fd, h, HDR_SIZE));
	ASSERT_LT(16, read(fd, reply, sizeof(reply) - 1));
	close(fd);
	ASSERT_EQ(0, memcmp(reply, "HVXMIGR", 8));
	ASSERT_NE(NULL, strstr((char *)reply + 16, "format 2 is newer"));
	finish(&p);
	ASSERT_EQ(1, p.status) TH_LOG("stderr: %s", p.err);
	ASSERT_EQ(2, p.err_lines) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "hvx-run: --incoming tcp:127.0.0.1:")) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "stream format 2 is newer than this hvx-run's (1)"))
		TH_LOG("stderr: %s", p.err);
	proc_release(&p);
}

#define MIG_LINUX_COUNT	250	/* the Linux guest's lines when migrated */

/*
 * The Debian guest of linux_2cpus, migrated live at count LINUX_SAVE_AT
 * instead of saved, with the default downtime budget (300 ms): it counts
 * on with no gap or repeat on the destination, the sums match, its kernel
 * logged no new warning or error, and it powers off there; the downtime
 * hvx-run reports is within the budget. Its 76 MiB take Bochs's loopback
 * tens of seconds, so it counts longer; its fork loop dirties pages about
 * as fast as Bochs's loopback sends them, so it needs auto-converge.
 */
TEST_F_TIMEOUT(snap, migrate_linux, 2 * LIMIT_S + 60)
{
	static const char append[] = LINUX_APPEND("hvx.count=250");
	char to[64], from[64], at[64], why[128], *both;
	char *src_args[] = { "--kernel", GUEST_DIR "/vmlinuz", "--initrd",
			     GUEST_DIR "/initrd.gz", "--mem", "128M", "--cpus", "2",
			     "--append", (char *)append, "--migrate", to, NULL };
	char *dst_args[] = { "--incoming", from, NULL };
	struct proc src, dst;
	long downtime, last;
	bool seen = false;

	REQUIRE_VMX();
	if (access(GUEST_DIR "/vmlinuz", R_OK) || access(GUEST_DIR "/initrd.gz", R_OK))
		SKIP(return, GUEST_DIR "/{vmlinuz,initrd.gz} missing (check.sh adds them when snapshot_test runs)");
	snprintf(to, sizeof(to), "tcp:127.0.0.1:%d", mig_port(0));
	snprintf(from, sizeof(from), "tcp:127.0.0.1:%d", mig_port(0));
	snprintf(at, sizeof(at), "hvx-guest: count %d\r\n", LINUX_SAVE_AT);
	ASSERT_EQ(0, loopback_up());
	ASSERT_TRUE(start(&dst, dst_args));
	ASSERT_TRUE(wait_err(&dst, "waiting for a VM", 30));
	ASSERT_TRUE(start(&src, src_args));
	for (int i = 0; i < LIMIT_S * 10 && !seen; i++) {
		seen = has_line(src.out_fd, at);
		if (!seen && waitpid(src.pid, NULL, WNOHANG) == src.pid)
			break;
		if (!seen)
			msleep(100);
	}
	if (!seen) {
		kill(src.pid, SIGTERM);
		kill(dst.pid, SIGTERM);
		finish(&src);
		finish(&dst);
	}
	ASSERT_TRUE(seen) TH_LOG("no \"%.20s\" in %d s; stderr: %s", at, LIMIT_S, src.err);
	migrate_ok(_metadata, &src, &dst, &downtime);
	EXPECT_GE(300, downtime) TH_LOG("source: %s", src.err);
	finish(&dst);
	ASSERT_EQ(0, dst.status) TH_LOG("stderr: %s; console: %s", dst.err, dst.out);
	ASSERT_NE(NULL, strstr(dst.err, "the guest powered off")) TH_LOG("stderr: %s", dst.err);
	both = malloc(strlen(src.out) + strlen(dst.out) + 1);
	ASSERT_NE(NULL, both);
	strcpy(both, src.out);
	strcat(both, dst.out);
	last = check_linux_count(both, why, sizeof(why));
	ASSERT_NE(-2, last) TH_LOG("%s", why);
	ASSERT_EQ(MIG_LINUX_COUNT - 1, last) TH_LOG("console after the migration: %s", dst.out);
	ASSERT_EQ(NULL, strstr(both, "hvx-guest: count BAD")) TH_LOG("console: %s", dst.out);
	ASSERT_NE(NULL, strstr(dst.out, "hvx-guest: count done")) TH_LOG("console: %s", dst.out);
	ASSERT_EQ(NULL, strstr(dst.out, "hvx-guest: new warning"))
		TH_LOG("console after the migration: %s", dst.out);
	free(both);
	proc_release(&src);
	proc_release(&dst);
}

/* ---- hvxctl save and hvxctl migrate ------------------------------------ */

/* hvxctl's path from $HVX_HVXCTL (make check installs it), or NULL. */
static const char *hvxctl_path(void)
{
	const char *p = getenv("HVX_HVXCTL");

	return p && *p && !access(p, X_OK) ? p : NULL;
}

/*
 * Run hvxctl with @args (NULL-terminated) in directory @cwd; wait up to
 * LIMIT_S. Its exit status (128 + signal, -1 if it hung), stdout and
 * stderr (malloc()ed) in @p.
 */
static void hvxctl(struct proc *p, const char *cwd, char *const args[])
{
	proc_start(p, hvxctl_path(), args, cwd);
	finish(p);
}

/* The id hvx gave the VM of hvx-run @pid, 0 if it has none. */
static uint32_t vm_of(pid_t pid)
{
	struct hvx_nl_vm vms[64];
	struct hvx_nl nl;
	uint32_t id = 0;
	int n;

	if (hvx_nl_open(&nl))
		return 0;
	n = hvx_nl_list_vms(&nl, vms, 64);
	for (int i = 0; i < n && i < 64; i++)
		if (vms[i].pid == (uint32_t)pid)
			id = vms[i].id;
	hvx_nl_close(&nl);
	return id;
}

/*
 * The pace of the flat guest in the tests whose hvxctl requests are
 * answered while it runs (TSC ticks per step at least): it must outlive
 * several hvxctl runs, which on a loaded host or a debug kernel take
 * longer than the unpaced guest's whole count.
 */
#define REQ_PACE	(1 << 20)

#define REQUIRE_HVXCTL() do {						\
	if (!hvxctl_path())						\
		SKIP(return, "no hvxctl: HVX_HVXCTL is not set or not executable (make check sets it)"); \
} while (0)

/*
 * round_trip through hvxctl: hvx-run without --save, and 'hvxctl save VM
 * vm.snap' run in the test's directory (a relative FILE, which hvxctl
 * makes absolute). hvxctl exits 0 with hvx-run's line, hvx-run exits 0
 * with the file written at that path, and --restore counts on from it
 * with no gap or repeat to the guest's end, its sum right throughout.
 */
TEST_F(snap, hvxctl_save)
{
	char *args[] = { "--kernel", self->guest, "--flat", SNAP_LOAD, "--mem",
			 SNAP_MEM, "--cpus", "2", NULL };
	char *rargs[] = { "--restore", self->file, NULL };
	char id[16], want[200], why[128], *both;
	struct proc p, c, r;
	bool done, bad;
	long last;

	REQUIRE_VMX();
	REQUIRE_HVXCTL();
	ASSERT_TRUE(start(&p, args));
	ASSERT_TRUE(wait_lines(&p, 100)) TH_LOG("the guest did not print 100 lines");
	snprintf(id, sizeof(id), "%u", vm_of(p.pid));
	ASSERT_STRNE("0", id);
	hvxctl(&c, self->dir, (char *[]){ "save", id, "vm.snap", NULL });
	finish(&p);
	ASSERT_EQ(0, c.status) TH_LOG("hvxctl: %s; hvx-run: %s", c.err, p.err);
	snprintf(want, sizeof(want), "VM %s: saved the VM to %s\n", id, self->file);
	ASSERT_STREQ(want, c.out);
	ASSERT_STREQ("", c.err);
	ASSERT_EQ(0, p.status) TH_LOG("stderr: %s", p.err);
	ASSERT_NE(NULL, strstr(p.err, "saved the VM to ")) TH_LOG("stderr: %s", p.err);
	ASSERT_EQ(0, access(self->file, R_OK));
	ASSERT_EQ(NULL, strstr(p.out, "DONE")) TH_LOG("the guest ended before the save");

	ASSERT_TRUE(start(&r, rargs));
	finish(&r);
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, r.status) TH_LOG("stderr: %s", r.err);
	both = malloc(strlen(p.out) + strlen(r.out) + 1);
	ASSERT_NE(NULL, both);
	strcpy(both, p.out);
	strcat(both, r.out);
	last = check_counter(both, &done, &bad, why, sizeof(why));
	ASSERT_NE(-2, last) TH_LOG("%s", why);
	ASSERT_FALSE(bad) TH_LOG("the guest's checksum failed after the restore");
	ASSERT_TRUE(done);
	ASSERT_EQ(SNAP_LIMIT - 1, last);
	free(both);
	proc_release(&p);
	proc_release(&c);
	proc_release(&r);
}

/*
 * migrate_live through hvxctl: the source has no --migrate; 'hvxctl
 * migrate VM tcp:...' waits for the end and exits 0 with the source's
 * "migrated to" line, once the destination runs the VM; the source exits
 * 0 and the counter goes on there with no gap or repeat.
 */
TEST_F_TIMEOUT(snap, hvxctl_migrate, LIMIT_S + 60)
{
	char to[64], from[64], id[16], mguest[160], *src_args[16];
	char *dst_args[] = { "--incoming", from, NULL };
	struct proc src, dst, c;

	REQUIRE_VMX();
	REQUIRE_HVXCTL();
	mig_setup(_metadata, self, mguest, to, 1, from, 1);
	mig_args(src_args, mguest, to);
	src_args[8] = NULL;	/* no --migrate */
	mig_start(_metadata, &src, src_args, &dst, dst_args);
	snprintf(id, sizeof(id), "%u", vm_of(src.pid));
	ASSERT_STRNE("0", id);
	hvxctl(&c, self->dir, (char *[]){ "migrate", id, to, NULL });
	ASSERT_EQ(0, c.status) TH_LOG("hvxctl: %s; source: %s", c.err, proc_read(src.err_fd));
	ASSERT_NE(NULL, strstr(c.out, ": migrated to tcp:127.0.0.1:")) TH_LOG("hvxctl: %s", c.out);
	ASSERT_NE(NULL, strstr(c.out, "downtime ")) TH_LOG("hvxctl: %s", c.out);
	ASSERT_TRUE(wait_exit(&src, LIMIT_S));
	finish(&src);
	ASSERT_EQ(0, src.status) TH_LOG("source: %s", src.err);
	ASSERT_NE(NULL, strstr(src.err, "migrated to ")) TH_LOG("source: %s", src.err);
	finish(&dst);
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, dst.status)
		TH_LOG("destination: %s", dst.err);
	check_both(_metadata, src.out, dst.out);
	printf("# %.*s\n", (int)strcspn(c.out, "\n"), c.out);
	proc_release(&src);
	proc_release(&dst);
	proc_release(&c);
	unlink(mguest);
}

/*
 * Requests hvx-run cannot do, and requests hvx refuses, each one line on
 * hvxctl's stderr and exit status 1, the VM running on: a save and a
 * migration of a VM with a virtio disk (hvx-run's SIGUSR1 refusal, which
 * it also prints itself), a VM id nobody has, and an address that is not
 * tcp: (hvx's own line). The guest counts on to its end throughout and
 * no file is left.
 */
TEST_F(snap, hvxctl_refused)
{
	static const char refusal[] = "cannot save the VM: --device " NE2K_BDF
				      ": Operation not supported";
	char *args[] = { "--kernel", self->guest, "--flat", SNAP_LOAD, "--mem",
			 SNAP_MEM, "--device", NE2K_BDF, NULL };
	char id[16], why[128], nowhere[64], line[128];
	struct proc p, c;
	bool done, bad;
	long last;

	REQUIRE_VMX();
	REQUIRE_HVXCTL();
	ASSERT_TRUE(flat_guest_write(self->guest, SNAP_LIMIT, 0, REQ_PACE));
	if (access(NE2K_DEV "/vendor", R_OK))
		SKIP(return, "no NE2000 at " NE2K_BDF " (Bochs's ne2k slot) for a VM that cannot be saved");
	self->ne2k = true;
	ASSERT_EQ(0, ne2k_take());
	ASSERT_EQ(0, loopback_up());
	snprintf(nowhere, sizeof(nowhere), "tcp:127.0.0.1:%d", mig_port(2));
	ASSERT_TRUE(start(&p, args));
	ASSERT_TRUE(wait_lines(&p, 50)) TH_LOG("the guest did not print 50 lines");
	snprintf(id, sizeof(id), "%u", vm_of(p.pid));
	ASSERT_STRNE("0", id);

	hvxctl(&c, self->dir, (char *[]){ "save", id, self->file, NULL });
	ASSERT_EQ(1, c.status) TH_LOG("hvxctl: %s", c.err);
	ASSERT_NE(NULL, strstr(c.err, "hvxctl: VM ")) TH_LOG("hvxctl: %s", c.err);
	ASSERT_NE(NULL, strstr(c.err, refusal)) TH_LOG("hvxctl: %s", c.err);
	snprintf(line, sizeof(line), "hvx-run: %s", refusal);
	ASSERT_EQ(1, count_str(p.err_fd, line)) TH_LOG("hvx-run did not print the refusal once");
	ASSERT_STREQ("", c.out);
	proc_release(&c);

	hvxctl(&c, self->dir, (char *[]){ "migrate", id, nowhere, NULL });
	ASSERT_EQ(1, c.status) TH_LOG("hvxctl: %s", c.err);
	ASSERT_NE(NULL, strstr(c.err, refusal)) TH_LOG("hvxctl: %s", c.err);
	proc_release(&c);

	hvxctl(&c, self->dir, (char *[]){ "save", "2147483647", self->file, NULL });
	ASSERT_EQ(1, c.status) TH_LOG("hvxctl: %s", c.err);
	ASSERT_NE(NULL, strstr(c.err, "no such VM")) TH_LOG("hvxctl: %s", c.err);
	proc_release(&c);

	hvxctl(&c, self->dir, (char *[]){ "migrate", id, "127.0.0.1:1", NULL });
	ASSERT_EQ(1, c.status) TH_LOG("hvxctl: %s", c.err);
	ASSERT_NE(NULL, strstr(c.err, "the address must be tcp:HOST:PORT")) TH_LOG("hvxctl: %s", c.err);
	ASSERT_EQ(0, strchr(c.err, '\n')[1]) TH_LOG("more than one line: %s", c.err);
	proc_release(&c);

	finish(&p);
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, p.status) TH_LOG("stderr: %s", p.err);
	last = check_counter(p.out, &done, &bad, why, sizeof(why));
	ASSERT_EQ(SNAP_LIMIT - 1, last) TH_LOG("%s", last == -2 ? why : "");
	ASSERT_TRUE(done);
	ASSERT_NE(0, access(self->file, F_OK));
	proc_release(&p);
}

/*
 * Without a disk, hvx-run acts on requests and reports its failures: a
 * save into a directory that does not exist names the file and its
 * error, and a migration to a port nothing listens on ends with its
 * "failed" line; both exit 1 and the guest counts on to its end.
 */
TEST_F(snap, hvxctl_failed)
{
	char *args[] = { "--kernel", self->guest, "--flat", SNAP_LOAD, "--mem",
			 SNAP_MEM, NULL };
	char id[16], why[128], nowhere[64], missing[160];
	struct proc p, c;
	bool done, bad;
	long last;

	REQUIRE_VMX();
	REQUIRE_HVXCTL();
	ASSERT_TRUE(flat_guest_write(self->guest, SNAP_LIMIT, 0, REQ_PACE));
	ASSERT_EQ(0, loopback_up());
	snprintf(nowhere, sizeof(nowhere), "tcp:127.0.0.1:%d", mig_port(2));
	snprintf(missing, sizeof(missing), "%s/no/such/dir/vm.snap", self->dir);
	ASSERT_TRUE(start(&p, args));
	ASSERT_TRUE(wait_lines(&p, 50)) TH_LOG("the guest did not print 50 lines");
	snprintf(id, sizeof(id), "%u", vm_of(p.pid));
	ASSERT_STRNE("0", id);

	hvxctl(&c, self->dir, (char *[]){ "save", id, missing, NULL });
	ASSERT_EQ(1, c.status) TH_LOG("hvxctl: %s", c.err);
	ASSERT_NE(NULL, strstr(c.err, "no/such/dir/vm.snap.tmp: No such file or directory"))
		TH_LOG("hvxctl: %s", c.err);
	proc_release(&c);

	hvxctl(&c, self->dir, (char *[]){ "migrate", id, nowhere, NULL });
	ASSERT_EQ(1, c.status) TH_LOG("hvxctl: %s", c.err);
	ASSERT_NE(NULL, strstr(c.err, "migration to tcp:127.0.0.1:")) TH_LOG("hvxctl: %s", c.err);
	ASSERT_NE(NULL, strstr(c.err, "the VM keeps running")) TH_LOG("hvxctl: %s", c.err);
	proc_release(&c);

	finish(&p);
	ASSERT_EQ((SNAP_EXIT_DONE << 1) | 1, p.status) TH_LOG("stderr: %s", p.err);
	last = check_counter(p.out, &done, &bad, why, sizeof(why));
	ASSERT_EQ(SNAP_LIMIT - 1, last) TH_LOG("%s", last == -2 ? why : "");
	ASSERT_FALSE(bad);
	ASSERT_TRUE(done);
	proc_release(&p);
}

TEST_HARNESS_MAIN
