// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-blkperf - sequential and 4 KiB random I/O on a file or block device,
 * timed with the TSC: the virtio-blk rows of `make bench`.
 *
 * usage: hvx-blkperf [--direct] [--trace] PATH MIB RANDOPS
 *
 * On the first MIB MiB of PATH (a file is extended to that size):
 *   seq_write   MIB MiB in 1 MiB writes, then fsync
 *   seq_read    the same MiB back in 1 MiB reads
 *   rand_write  RANDOPS 4 KiB writes at random 4 KiB offsets, then fsync
 *   rand_read   RANDOPS 4 KiB reads at random 4 KiB offsets
 * --direct opens PATH with O_DIRECT (a guest's /dev/vda: every request
 * reaches the device, not the guest's page cache). Before each read pass
 * the page cache of PATH is dropped where that is possible
 * (POSIX_FADV_DONTNEED; on tmpfs it is not: the file is its page cache).
 * --trace brackets the middle request of each pass (no fsync in it) with
 * Bochs magic breakpoints (xchg %bx,%bx; RAX holds the pass, 1 to 4 in
 * the order below), for an instruction trace of one request
 * (selftests/vm/bench.sh, HVX_BENCH_BLK_TRACE).
 *
 * The I/O buffer is one 2 MiB huge page where the kernel gives one, as
 * I/O benchmarks back theirs (fio's iomem=mmaphuge): a hugetlb page
 * (MAP_HUGETLB, from vm.nr_hugepages, which blk.sh sets to 1 on both
 * sides), else a transparent huge page (MADV_HUGEPAGE on a 2 MiB-aligned
 * mapping), else 4 KiB pages. In a huge page an O_DIRECT request's pages
 * are one physically contiguous run (one segment, one descriptor) whatever
 * the boot's page layout; a buffered read or write on tmpfs copies page by
 * page either way. The line
 *   blkperf-buffer hugetlb|thp|4k
 * says which it got.
 *
 * Prints one line per pass:
 *   blkperf PASS bytes N ops N tsc CYCLES
 * CYCLES is the TSC delta of the pass (emulated instructions in Bochs with
 * clock sync=none; the caller converts). The offsets are the same on every
 * run (xorshift64 from a fixed seed). Exit status 1 on an I/O error.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <x86intrin.h>

#define SEQ_BLK		(1 << 20)
#define RAND_BLK	4096
#define HUGE_SZ		(2 << 20)

static uint64_t rnd = 0x9e3779b97f4a7c15ull;
static int trace;

/* A Bochs magic breakpoint (magic_break: enabled=1), RAX = @tag. */
static void mark(long long i, long long n, unsigned long tag)
{
	if (trace && i == n / 2)
		asm volatile("xchg %%bx, %%bx" : : "a"(tag) : "memory");
}

static uint64_t next(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

static void report(const char *pass, uint64_t bytes, uint64_t ops, uint64_t t)
{
	printf("blkperf %s bytes %llu ops %llu tsc %llu\n", pass,
	       (unsigned long long)bytes, (unsigned long long)ops,
	       (unsigned long long)t);
	fflush(stdout);
}

/* Whether the mapping at @buf has a transparent huge page (smaps). */
static int is_thp(const char *buf)
{
	char line[256];
	long kib = 0;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2)
			in = lo <= (uintptr_t)buf && (uintptr_t)buf < hi;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib > 0;
}

/*
 * The HUGE_SZ I/O buffer, its first SEQ_BLK bytes filled: a hugetlb page,
 * else a 2 MiB-aligned mapping with MADV_HUGEPAGE (a larger one, trimmed);
 * NULL if neither maps. *@kind names what backs it.
 */
static char *huge_buf(const char **kind)
{
	int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	int hugetlb = 1;
	char *p, *a;

	a = mmap(NULL, HUGE_SZ, prot, flags | MAP_HUGETLB, -1, 0);
	if (a == MAP_FAILED) {
		p = mmap(NULL, 2 * HUGE_SZ, prot, flags, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		a = (char *)(((uintptr_t)p + HUGE_SZ - 1) & -(uintptr_t)HUGE_SZ);
		if (a > p)
			munmap(p, a - p);
		munmap(a + HUGE_SZ, p + HUGE_SZ - a);
		madvise(a, HUGE_SZ, MADV_HUGEPAGE);
		hugetlb = 0;
	}
	for (int i = 0; i < SEQ_BLK; i++)
		a[i] = (char)next();
	*kind = hugetlb ? "hugetlb" : is_thp(a) ? "thp" : "4k";
	return a;
}

static int fail(const char *what, long long off)
{
	fprintf(stderr, "hvx-blkperf: %s at offset %lld: ", what, off);
	perror(NULL);
	return 1;
}

int main(int argc, char **argv)
{
	int direct = 0, fd;
	long long mib, ops, blocks;
	uint64_t t0;
	const char *kind;
	char *buf;

	for (; argc > 1 && argv[1][0] == '-'; argv++, argc--) {
		if (!strcmp(argv[1], "--direct"))
			direct = 1;
		else if (!strcmp(argv[1], "--trace"))
			trace = 1;
		else
			argc = 0;
	}
	if (argc != 4 || (mib = atoll(argv[2])) <= 0 || (ops = atoll(argv[3])) < 0) {
		fprintf(stderr, "usage: hvx-blkperf [--direct] [--trace] PATH MIB RANDOPS\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CREAT | (direct ? O_DIRECT : 0), 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	buf = huge_buf(&kind);
	if (!buf) {
		perror("mmap");
		return 1;
	}
	printf("blkperf-buffer %s\n", kind);
	blocks = mib * (SEQ_BLK / RAND_BLK);

	t0 = __rdtsc();
	for (long long i = 0; i < mib; i++) {
		mark(i, mib, 1);
		if (pwrite(fd, buf, SEQ_BLK, i * SEQ_BLK) != SEQ_BLK)
			return fail("write", i * SEQ_BLK);
		mark(i, mib, 1);
	}
	if (fsync(fd))
		return fail("fsync", 0);
	report("seq_write", mib * SEQ_BLK, mib, __rdtsc() - t0);

	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	t0 = __rdtsc();
	for (long long i = 0; i < mib; i++) {
		mark(i, mib, 2);
		if (pread(fd, buf, SEQ_BLK, i * SEQ_BLK) != SEQ_BLK)
			return fail("read", i * SEQ_BLK);
		mark(i, mib, 2);
	}
	report("seq_read", mib * SEQ_BLK, mib, __rdtsc() - t0);

	t0 = __rdtsc();
	for (long long i = 0; i < ops; i++) {
		long long off = (long long)(next() % blocks) * RAND_BLK;

		mark(i, ops, 3);
		if (pwrite(fd, buf, RAND_BLK, off) != RAND_BLK)
			return fail("random write", off);
		mark(i, ops, 3);
	}
	if (fsync(fd))
		return fail("fsync", 0);
	report("rand_write", ops * RAND_BLK, ops, __rdtsc() - t0);

	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	t0 = __rdtsc();
	for (long long i = 0; i < ops; i++) {
		long long off = (long long)(next() % blocks) * RAND_BLK;

		mark(i, ops, 4);
		if (pread(fd, buf, RAND_BLK, off) != RAND_BLK)
			return fail("random read", off);
		mark(i, ops, 4);
	}
	report("rand_read", ops * RAND_BLK, ops, __rdtsc() - t0);
	close(fd);
	return 0;
}
