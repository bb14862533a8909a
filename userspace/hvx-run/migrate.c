// SPDX-License-Identifier: GPL-2.0
/*
 * migrate.c - live migration: hvx-run --migrate tcp:HOST:PORT (sends the
 * VM on SIGUSR1, or to hvxctl migrate's address) and hvx-run --incoming tcp:HOST:PORT (waits for one).
 *
 * The stream is a snapshot file's format (snapshot.c): its header, a
 * config record, then the RAM as SNAP_RAM_PAGES records, then the paused
 * VM's state and the end record. Pre-copy, as QEMU's: a thread turns on
 * the dirty log of both memory slots, sends every page that is not all
 * zeros while the vCPUs run (round 0), then in each round takes the
 * pages HVX_GET_DIRTY_LOG reports and sends them, until what is dirty
 * would take at most a third of --max-downtime at the bandwidth measured
 * so far (the rest is for what the estimate leaves out: the pages
 * dirtied meanwhile, the vCPU and device state, the destination's start,
 * together 100-150 ms of emulated time in Bochs), or after MIG_MAX_ROUNDS
 * rounds, with auto-converge (kicker()). The main thread then pauses the vCPUs (as
 * --save does), sends the last dirty pages and the state, and waits for
 * the destination's reply: it comes once the destination's vCPUs run.
 * Only then does the source stop (exit 0). Any failure before (connect,
 * a write, the destination gone, its refusal, no reply in
 * MIG_REPLY_TIMEOUT_MS) turns the dirty log off and lets the VM run on;
 * SIGUSR1 can start another migration. A migration that hvxctl asked for
 * (main.c, take_request()) goes to the address in the request, and its
 * end, success or failure, answers the request with the same line.
 *
 * The destination checks each record as it arrives (snapshot.c), writes
 * RAM pages into memory it allocated at the config record, and opens the
 * hvx device only after the end record: a bad stream ends it with one
 * line and status 1, with a refusal sent back, and no VM was created.
 */
#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hvx-run.h"

#define MIG_MAX_ROUNDS		30	/* dirty rounds before it stops anyway */
#define MIG_EST_SHARE		3	/* the pages' part: 1/3 of the budget */
#define MIG_REPLY_TIMEOUT_MS	60000	/* for the destination's reply */
#define MIG_STEP_PAGES		4096	/* pages per progress update */
#define MIG_THROTTLE_FROM	3	/* the first round that may throttle */
#define MIG_THROTTLE_FIRST	20	/* % of vCPU time taken at first */
#define MIG_THROTTLE_STEP	10	/* % more each round that does not fit */
#define MIG_THROTTLE_MAX	99
#define MIG_THROTTLE_SLICE_MS	10	/* a throttled vCPU runs this long */
#define MIG_REPLY_MAGIC		"HVXMIGR"	/* 8 bytes with its NUL */

/* The destination's one message back: the VM runs here, or why not. */
struct mig_reply {
	char magic[8];
	uint32_t status;	/* 0: the VM runs on the destination; 1: refused */
	uint32_t len;		/* bytes of the reason that follow, < 256 */
};

static struct {
	bool active;		/* the pre-copy thread exists, not joined */
	pthread_t thread;
	int efd;		/* eventfd: the pre-copy thread is done */
	int sock;
	atomic_bool cancel;
	struct snap_writer *w;
	bool converged;		/* else failed: @why */
	char why[512];
	uint64_t *dirty[2];	/* per slot: dirty, not yet sent */
	uint64_t npages[2];
	uint64_t t0;		/* ms, CLOCK_MONOTONIC */
	uint64_t send_ms;	/* time spent sending */
	unsigned int rounds;
	uint64_t pages;		/* pages sent */
	bool tty;
	atomic_uint throttle;	/* % of vCPU time taken (auto-converge) */
	unsigned int throttle_max;	/* the most it took */
	bool kicking;		/* the kicker thread exists, not joined */
	atomic_bool kicker_stop;
	pthread_t kicker;
	char to[HVX_REQUEST_ARG_MAX];	/* tcp:HOST:PORT */
	uint32_t req;		/* the hvxctl request to answer, or 0 */
} mig = { .efd = -1, .sock = -1 };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A line on stderr even with --quiet: a failure. */
static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

/*
 * "tcp:HOST:PORT" to a socket address. HOST is a numeric IPv4 address,
 * an IPv6 one in brackets, "localhost", or empty: every address (to
 * listen on) or the loopback (to connect to). No name service: hvx-run
 * is linked statically, and glibc's resolver then needs shared libraries.
 */
static bool parse_addr(const char *spec, struct sockaddr_storage *ss,
		       socklen_t *sl, char *why, size_t len)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	const char *colon;
	unsigned long port;
	char host[64], *end;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	colon = strncmp(spec, "tcp:", 4) ? NULL : strrchr(spec + 4, ':');
	if (!colon) {
		snprintf(why, len, "'%s' is not tcp:HOST:PORT", spec);
		return false;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port > 65535) {
		snprintf(why, len, "'%s': '%s' is not a port number", spec, colon + 1);
		return false;
	}
	hl = (size_t)(colon - (spec + 4));
	if (hl >= sizeof(host))
		hl = sizeof(host) - 1;
	memcpy(host, spec + 4, hl);
	host[hl] = 0;
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*in6);
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1)
			return true;
	} else {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*sl = sizeof(*in);
		if (!*host || !strcmp(host, "localhost")) {
			in->sin_addr.s_addr = htonl(*host ? INADDR_LOOPBACK : INADDR_ANY);
			return true;
		}
		if (inet_pton(AF_INET, host, &in->sin_addr) == 1)
			return true;
	}
	snprintf(why, len, "'%s': '%s' is not a numeric IPv4 address, an IPv6 address in brackets or localhost",
		 spec, host);
	return false;
}

void migrate_check_addr(const char *opt, const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char why[300];

	if (!parse_addr(spec, &ss, &sl, why, sizeof(why)))
		usage_error("%s: %s", opt, why);
}

/* Dirty logging of both memory slots on or off. */
static int set_log(struct vm *vm, bool on)
{
	for (uint32_t slot = 0; slot < 2; slot++) {
		struct hvx_memory_region r = {
			.slot = slot,
			.flags = on ? HVX_MEM_LOG_DIRTY : 0,
			.guest_phys_addr = slot ? GPA_4G : 0,
			.memory_size = slot ? vm->high_size : vm->low_size,
			.userspace_addr = (uintptr_t)vm->ram + (slot ? vm->low_size : 0),
		};

		if (!r.memory_size)
			continue;
		if (ioctl(vm->fd, HVX_SET_MEMORY_REGION, &r))
			return -errno;
	}
	return 0;
}

/* OR the pages dirtied since the last call into mig.dirty; their count. */
static int get_dirty(struct vm *vm, uint64_t *count)
{
	static uint64_t *buf;
	uint64_t most = (vm->low_size > vm->high_size ? vm->low_size :
			 vm->high_size) / 4096;

	if (!buf)
		buf = calloc((most + 63) / 64, 8);
	if (!buf)
		return -ENOMEM;
	*count = 0;
	for (uint32_t slot = 0; slot < 2; slot++) {
		struct hvx_dirty_log d = { .slot = slot, .dirty_bitmap = (uintptr_t)buf };
		uint64_t words = (mig.npages[slot] + 63) / 64;

		if (!mig.npages[slot])
			continue;
		if (ioctl(vm->fd, HVX_GET_DIRTY_LOG, &d))
			return -errno;
		for (uint64_t i = 0; i < words; i++) {
			mig.dirty[slot][i] |= buf[i];
			*count += (uint64_t)__builtin_popcountll(mig.dirty[slot][i]);
		}
	}
	return 0;
}

/* A reply waiting on the socket, within @timeout_ms: 0 ok, 1 refused, -1 none. */
static int read_reply(int timeout_ms, char *why, size_t len)
{
	struct pollfd p = { .fd = mig.sock, .events = POLLIN };
	struct mig_reply r;
	char reason[256];
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	n = recv(mig.sock, &r, sizeof(r), MSG_WAITALL);
	if (n != (ssize_t)sizeof(r) || memcmp(r.magic, MIG_REPLY_MAGIC, sizeof(r.magic)) ||
	    r.len >= sizeof(reason))
		return -1;
	if (r.len && recv(mig.sock, reason, r.len, MSG_WAITALL) != (ssize_t)r.len)
		r.len = 0;
	reason[r.len] = 0;
	if (!r.status)
		return 0;
	snprintf(why, len, "the destination refused the VM: %s",
		 r.len ? reason : "no reason given");
	return 1;
}

/* A write failed: the destination's refusal if it sent one, else @err. */
static void write_failed(int err)
{
	char why[400];

	if (read_reply(0, why, sizeof(why)) == 1)
		snprintf(mig.why, sizeof(mig.why), "%s", why);
	else
		snprintf(mig.why, sizeof(mig.why), "the destination is gone (%s) after %" PRIu64 " bytes",
			 strerror(err), snap_writer_bytes(mig.w));
}

static void progress(unsigned int round, uint64_t done, uint64_t total,
		     double rate)
{
	char bar[31];
	int fill = total ? (int)(done * 30 / total) : 30;

	if (!mig.tty)
		return;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '-', (size_t)(30 - fill));
	bar[30] = 0;
	fprintf(stderr, "\r%s: migrating, round %u [%s] %" PRIu64 "/%" PRIu64 " pages, dirty rate %.0f pages/s ",
		prog, round, bar, done, total, rate);
}

/*
 * One round: the pages set in mig.dirty (all non-zero pages if @all),
 * which are cleared. Returns the pages sent; the writer has the error.
 */
static uint64_t send_round(struct vm *vm, bool all, unsigned int round,
			   uint64_t total, double rate)
{
	uint64_t sent = 0, done = 0;

	for (int slot = 0; slot < 2; slot++) {
		uint64_t n = mig.npages[slot];

		for (uint64_t at = 0; at < n && !snap_writer_error(mig.w); at += MIG_STEP_PAGES) {
			uint64_t cnt = n - at < MIG_STEP_PAGES ? n - at : MIG_STEP_PAGES;

			if (atomic_load(&mig.cancel))
				return sent;
			sent += snapshot_write_pages(mig.w, vm, slot, all ? NULL : mig.dirty[slot],
						     !all, at, cnt);
			if (!all)
				for (uint64_t i = 0; i < cnt; i++)
					done += !!(mig.dirty[slot][(at + i) / 64] &
						   (1ull << ((at + i) % 64)));
			else
				done += cnt;
			progress(round, done, total, rate);
		}
		if (!all)
			memset(mig.dirty[slot], 0, (n + 63) / 64 * 8);
	}
	return sent;
}

/*
 * Auto-converge, as QEMU's: a guest that dirties pages faster than the
 * link sends them never fits the downtime budget, so from round
 * MIG_THROTTLE_FROM on, each round that still does not fit takes a larger
 * share of the vCPUs' time (MIG_THROTTLE_FIRST %, then MIG_THROTTLE_STEP %
 * more a round). This thread interrupts HVX_RUN every
 * MIG_THROTTLE_SLICE_MS; the vCPU threads then sleep their share
 * (migrate_throttle()). It ends with the pre-copy; the share stays taken
 * until the VM is paused, or is given back if the migration fails.
 */
static void *kicker(void *arg)
{
	const struct timespec slice = { 0, MIG_THROTTLE_SLICE_MS * 1000000L };
	struct vm *vm = arg;

	while (!atomic_load(&mig.kicker_stop)) {
		nanosleep(&slice, NULL);
		for (int i = 0; i < vm->ncpus; i++)
			if (vm->vcpus[i].started)
				pthread_kill((pthread_t)vm->vcpus[i].thread, KICK_SIGNAL);
	}
	return NULL;
}

/* ", vCPUs throttled N%" once auto-converge took time, else "". */
static void throttled(char *buf, size_t len)
{
	if (mig.throttle_max)
		snprintf(buf, len, ", vCPUs throttled %u%%", mig.throttle_max);
	else
		*buf = 0;
}

/* Take more of the vCPUs' time: a round did not fit the budget. */
static void throttle_up(struct vm *vm)
{
	unsigned int pct = atomic_load(&mig.throttle);

	pct = pct ? pct + MIG_THROTTLE_STEP : MIG_THROTTLE_FIRST;
	if (pct > MIG_THROTTLE_MAX)
		pct = MIG_THROTTLE_MAX;
	atomic_store(&mig.throttle, pct);
	if (pct > mig.throttle_max)
		mig.throttle_max = pct;
	if (!mig.kicking) {
		atomic_store(&mig.kicker_stop, false);
		mig.kicking = !pthread_create(&mig.kicker, NULL, kicker, vm);
	}
}

static void kicker_end(void)
{
	if (!mig.kicking)
		return;
	atomic_store(&mig.kicker_stop, true);
	pthread_join(mig.kicker, NULL);
	mig.kicking = false;
}

void migrate_throttle(struct vcpu *v)
{
	unsigned int pct = atomic_load(&mig.throttle);
	struct timespec ts;
	uint64_t now, ns;

	if (!pct)
		return;
	now = now_ms();
	if (now < v->throttle_next)
		return;
	/* Sleep pct/(100 - pct) of the slice the vCPU ran. */
	ns = (uint64_t)MIG_THROTTLE_SLICE_MS * 1000000 * pct / (100 - pct);
	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	/* A kick that pauses or stops the VM ends the sleep. */
	while (nanosleep(&ts, &ts) && errno == EINTR && !vm_pausing() &&
	       !vm_stopping(v->vm))
		;
	v->throttle_next = now_ms() + MIG_THROTTLE_SLICE_MS;
}

static void *precopy(void *arg)
{
	struct vm *vm = arg;
	uint64_t one = 1, dirty = 0, t, t_get, total = mig.npages[0] + mig.npages[1];
	struct sockaddr_storage ss;
	double rate = 0, bw;
	socklen_t sl;
	int ret;

	if (!parse_addr(mig.to, &ss, &sl, mig.why, sizeof(mig.why)))
		goto out;
	/* 0.0.0.0 to connect to: the loopback, as for an empty HOST. */
	if (ss.ss_family == AF_INET &&
	    ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY))
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mig.sock = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (mig.sock >= 0 && connect(mig.sock, (struct sockaddr *)&ss, sl)) {
		ret = errno;
		close(mig.sock);
		mig.sock = -1;
		errno = ret;
	}
	if (mig.sock < 0) {
		snprintf(mig.why, sizeof(mig.why), "connect: %s", strerror(errno));
		goto out;
	}
	mig.w = snap_writer_new(mig.sock);
	if (!mig.w) {
		snprintf(mig.why, sizeof(mig.why), "%s", strerror(ENOMEM));
		goto out;
	}
	ret = set_log(vm, true);
	if (ret) {
		snprintf(mig.why, sizeof(mig.why), "cannot turn on the dirty log: %s",
			 strerror(-ret));
		goto out;
	}
	/* Round 0: all of RAM but the zero pages, the guest running. */
	t = now_ms();
	t_get = t;
	snapshot_write_begin(mig.w, vm);
	mig.pages += send_round(vm, true, 0, total, 0);
	ret = snap_writer_flush(mig.w);
	mig.send_ms += now_ms() - t;
	info("migrate: round 0: %" PRIu64 " pages sent (all but zero pages), %" PRIu64 " bytes",
	     mig.pages, snap_writer_bytes(mig.w));
	while (!ret && !atomic_load(&mig.cancel)) {
		uint64_t pages, bytes0, now, est;
		char thr[40];

		if (read_reply(0, mig.why, sizeof(mig.why)) >= 0) {
			if (!*mig.why)
				snprintf(mig.why, sizeof(mig.why), "the destination replied too early");
			goto out;
		}
		ret = get_dirty(vm, &dirty);
		if (ret) {
			snprintf(mig.why, sizeof(mig.why), "HVX_GET_DIRTY_LOG: %s", strerror(-ret));
			goto out;
		}
		now = now_ms();
		rate = now > t_get ? dirty * 1000.0 / (double)(now - t_get) : 0;
		t_get = now;
		/* Bytes per ms so far; what is dirty would take est ms. */
		bw = (double)snap_writer_bytes(mig.w) / (double)(mig.send_ms ? mig.send_ms : 1);
		est = (uint64_t)((double)dirty * (4096 + 64) / bw);
		if (est <= vm->opt.max_downtime_ms / MIG_EST_SHARE ||
		    mig.rounds >= MIG_MAX_ROUNDS) {
			if (mig.tty)
				fputc('\n', stderr);
			info("migrate: %" PRIu64 " pages dirty, about %" PRIu64 " ms at %.1f MiB/s: %s",
			     dirty, est, bw * 1000 / MiB,
			     est <= vm->opt.max_downtime_ms / MIG_EST_SHARE ?
			     "stopping the VM" : "round limit reached, stopping the VM");
			mig.converged = true;
			goto out;
		}
		mig.rounds++;
		if (mig.rounds >= MIG_THROTTLE_FROM)
			throttle_up(vm);
		bytes0 = snap_writer_bytes(mig.w);
		pages = send_round(vm, false, mig.rounds, dirty, rate);
		ret = snap_writer_flush(mig.w);
		mig.send_ms += now_ms() - now;
		mig.pages += pages;
		if (mig.tty)
			fputc('\n', stderr);
		throttled(thr, sizeof(thr));
		info("migrate: round %u: %" PRIu64 " pages sent, %" PRIu64 " bytes, dirty rate %.0f pages/s%s",
		     mig.rounds, pages, snap_writer_bytes(mig.w) - bytes0, rate, thr);
	}
	if (atomic_load(&mig.cancel))
		snprintf(mig.why, sizeof(mig.why), "the VM stopped");
	else if (ret)
		write_failed(-ret);
out:
	kicker_end();
	if (write(mig.efd, &one, sizeof(one)) < 0)
		mig.converged = false;
	return NULL;
}

/* A failure to start: one line, and the answer to a request. */
#define start_failed(vm, req, err, ...) do {				\
	say(__VA_ARGS__);						\
	request_done(vm, req, err, __VA_ARGS__);			\
} while (0)

void migrate_start(struct vm *vm, const char *to, uint32_t req)
{
	char why[600];
	int err;

	if (mig.active) {
		start_failed(vm, req, EBUSY, "%s ignored: a migration is already running",
			     req ? "the request" : "SIGUSR1");
		return;
	}
	if (snapshot_refused(vm, why, sizeof(why))) {
		start_failed(vm, req, EOPNOTSUPP, "%s", why);
		return;
	}
	if (strlen(to) >= sizeof(mig.to)) {
		start_failed(vm, req, ENAMETOOLONG, "cannot migrate: the address is too long");
		return;
	}
	if (mig.efd < 0) {
		mig.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (mig.efd < 0) {
			err = errno;
			start_failed(vm, req, err, "cannot migrate: eventfd: %s", strerror(err));
			return;
		}
	}
	for (int slot = 0; slot < 2; slot++) {
		mig.npages[slot] = (slot ? vm->high_size : vm->low_size) / 4096;
		free(mig.dirty[slot]);
		mig.dirty[slot] = calloc((mig.npages[slot] + 63) / 64 + 1, 8);
		if (!mig.dirty[slot]) {
			start_failed(vm, req, ENOMEM, "cannot migrate: %s", strerror(ENOMEM));
			return;
		}
	}
	snprintf(mig.to, sizeof(mig.to), "%s", to);
	mig.converged = false;
	mig.why[0] = 0;
	mig.sock = -1;
	mig.w = NULL;
	mig.rounds = 0;
	mig.pages = 0;
	mig.send_ms = 0;
	mig.throttle_max = 0;
	atomic_store(&mig.throttle, 0);
	mig.tty = isatty(2) && !vm->opt.quiet;
	atomic_store(&mig.cancel, false);
	mig.t0 = now_ms();
	info("migrating to %s", mig.to);
	err = pthread_create(&mig.thread, NULL, precopy, vm);
	if (err) {
		start_failed(vm, req, err, "cannot migrate: %s", strerror(err));
		return;
	}
	mig.req = req;
	mig.active = true;
}

int migrate_fd(void)
{
	return mig.active ? mig.efd : -1;
}

static void end_stream(void)
{
	if (mig.sock >= 0)
		close(mig.sock);
	mig.sock = -1;
	free(mig.w);
	mig.w = NULL;
}

/* The VM runs on here, as it did; one line says why. */
static void give_up(struct vm *vm, bool resume)
{
	int ret = set_log(vm, false);

	atomic_store(&mig.throttle, 0);
	end_stream();
	if (resume)
		vm_resume(vm);
	say("migration to %s failed: %s; the VM keeps running%s", mig.to,
	    mig.why, ret ? " (but its dirty log stays on)" : "");
	request_done(vm, mig.req, EIO, "migration to %s failed: %s; the VM keeps running%s",
		     mig.to, mig.why, ret ? " (but its dirty log stays on)" : "");
	mig.req = 0;
}

bool migrate_ready(struct vm *vm)
{
	uint64_t cnt, t_pause, t_end, bytes;
	char msg[HVX_REQUEST_ARG_MAX + 340], thr[40];
	int ret;

	if (read(mig.efd, &cnt, sizeof(cnt)) < 0 && errno == EAGAIN)
		return false;
	pthread_join(mig.thread, NULL);
	mig.active = false;
	if (!mig.converged) {
		give_up(vm, false);
		return false;
	}
	if (!vm_pause(vm)) {
		end_stream();
		request_done(vm, mig.req, ESRCH, "the VM stopped before the migration to %s ended",
			     mig.to);
		mig.req = 0;
		return false;
	}
	t_pause = now_ms();
	if (snapshot_refused(vm, mig.why, sizeof(mig.why))) {
		give_up(vm, true);
		return false;
	}
	ret = get_dirty(vm, &cnt);
	if (ret) {
		snprintf(mig.why, sizeof(mig.why), "HVX_GET_DIRTY_LOG: %s", strerror(-ret));
		give_up(vm, true);
		return false;
	}
	/* hvx-run writes the FACS itself (sleep.c), past the dirty log. */
	if (vm->facs && vm->facs < vm->low_size)
		mig.dirty[0][vm->facs / 4096 / 64] |= 1ull << (vm->facs / 4096 % 64);
	mig.pages += send_round(vm, false, mig.rounds + 1, cnt, 0);
	if (mig.tty)
		fputc('\n', stderr);
	if (!snap_writer_error(mig.w) &&
	    snapshot_write_state(mig.w, vm, mig.why, sizeof(mig.why))) {
		give_up(vm, true);
		return false;
	}
	snapshot_write_end(mig.w);
	ret = snap_writer_flush(mig.w);
	if (ret) {
		write_failed(-ret);
		give_up(vm, true);
		return false;
	}
	ret = read_reply(MIG_REPLY_TIMEOUT_MS, mig.why, sizeof(mig.why));
	if (ret) {
		if (ret < 0)
			snprintf(mig.why, sizeof(mig.why), "no reply from the destination");
		give_up(vm, true);
		return false;
	}
	t_end = now_ms();
	bytes = snap_writer_bytes(mig.w);
	end_stream();
	throttled(thr, sizeof(thr));
	snprintf(msg, sizeof(msg),
		 "migrated to %s: total %" PRIu64 " ms, downtime %" PRIu64 " ms, %" PRIu64 " bytes sent, %" PRIu64 " pages in %u rounds%s",
		 mig.to, t_end - mig.t0, t_end - t_pause, bytes, mig.pages,
		 mig.rounds + 2, thr);
	request_done(vm, mig.req, 0, "%s", msg);
	mig.req = 0;
	vm_stop(vm, STOP_MIGRATED, 0, msg);
	return true;
}

void migrate_cancel(struct vm *vm)
{
	if (!mig.active)
		return;
	atomic_store(&mig.cancel, true);
	if (mig.sock >= 0)
		shutdown(mig.sock, SHUT_RDWR);
	pthread_join(mig.thread, NULL);
	mig.active = false;
	end_stream();
	request_done(vm, mig.req, ESRCH, "the VM stopped before the migration to %s ended",
		     mig.to);
	mig.req = 0;
}

/* ------------------------------------------------------------------ */
/* The destination */

static int in_sock = -1;
static bool in_replied;
static void (*in_prev_hook)(void);

static void reply(uint32_t status, const char *why)
{
	struct mig_reply r = { .status = status };
	size_t len = why ? strlen(why) : 0;
	char buf[sizeof(r) + 256];

	if (in_sock < 0 || in_replied)
		return;
	in_replied = true;
	if (len > 255)
		len = 255;
	memcpy(r.magic, MIG_REPLY_MAGIC, sizeof(r.magic));
	r.len = (uint32_t)len;
	memcpy(buf, &r, sizeof(r));
	if (len)
		memcpy(buf + sizeof(r), why, len);
	if (send(in_sock, buf, sizeof(r) + len, MSG_NOSIGNAL) != (ssize_t)(sizeof(r) + len))
		in_replied = false;
}

static void refused(const char *why)
{
	reply(1, why);
}

static void in_die(void)
{
	if (in_prev_hook)
		in_prev_hook();
	reply(1, "it failed after the stream (see its messages)");
}

void migrate_receive(struct vm *vm)
{
	static char what[300];
	struct sockaddr_storage ss;
	char why[300];
	int ls, one = 1;
	socklen_t sl;

	snprintf(what, sizeof(what), "--incoming %s", vm->opt.incoming);
	if (!parse_addr(vm->opt.incoming, &ss, &sl, why, sizeof(why)))
		die("--incoming: %s", why);
	ls = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&ss, sl) || listen(ls, 1))
		die("%s: cannot listen: %s", what, strerror(errno));
	info("waiting for a VM on %s", vm->opt.incoming);
	do {
		in_sock = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	} while (in_sock < 0 && errno == EINTR);
	if (in_sock < 0)
		die("%s: accept: %s", what, strerror(errno));
	close(ls);
	snapshot_refused_hook = refused;
	in_prev_hook = die_hook;
	die_hook = in_die;
	snapshot_receive(vm, in_sock, what);
	snapshot_load_ram(vm);
}

void migrate_running(struct vm *vm)
{
	info("the VM from %s runs here", vm->opt.incoming);
	reply(0, NULL);
	if (!in_replied)
		die("%s: the source is gone before it learnt that the VM runs here: %s; stopping this copy",
		    vm->opt.incoming, strerror(errno));
	close(in_sock);
	in_sock = -1;
	die_hook = in_prev_hook;
	snapshot_refused_hook = NULL;
}
