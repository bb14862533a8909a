// SPDX-License-Identifier: GPL-2.0
/*
 * snapshot.c - hvx-run --save FILE and --restore FILE: a stopped VM to a
 * file and back, with the state ioctls of uapi/hvx.h ("Saving and
 * restoring state"), in the order that section gives.
 *
 * The file (userspace/README.md, "Snapshots"): a struct snap_header, then
 * records, each a struct snap_record and its payload, the last one
 * SNAP_END. Every record carries its type, a layout version, the
 * instance it belongs to (vCPU index, memory slot) and a CRC-32 of its
 * payload. A reader refuses the file as a whole if anything is off (an
 * unknown type, a newer version, a size that is not the type's, a bad
 * CRC, a missing or repeated record, bytes after SNAP_END), before it
 * creates a VM.
 *
 * A migration stream (migrate.c) is the same format on a socket: the
 * writer never seeks, and the reader takes one record at a time, from the
 * file's mapping or from the socket (snapshot_receive()). A stream sends
 * RAM as SNAP_RAM_PAGES records, round after round, and SNAP_PM at the
 * pause; a file has one SNAP_RAM record per slot.
 *
 * Time. Device timers (PIT, RTC periodic, LAPIC timer) keep their phase:
 * the pause does not count for them (the kernel's records). The RTC's
 * wall clock follows the host's CLOCK_REALTIME, so it jumps by the pause,
 * as across a suspend. kvmclock and the TSC are made to jump likewise:
 * SNAP_TSC holds the VM's kvmclock (HVX_GET_CLOCK), its guest TSC (host
 * TSC plus the VM's offset) and CLOCK_REALTIME at the save. The restore
 * sets the kvmclock to the saved value plus the paused real time
 * (HVX_SET_CLOCK with HVX_CLOCK_REALTIME: right on a host whose boot time
 * is behind the saved clock too), and the new VM's TSC offset (before any vCPU exists)
 * so that the guest TSC resumes from there plus the paused real time at
 * the guest's TSC frequency, and then each vCPU's IA32_TSC_ADJUST, which
 * puts back each vCPU's own difference exactly (SDM Vol. 3B 18.17.3).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "hvx-run.h"

#define SNAP_MAGIC	"HVXSNAP"	/* 8 bytes with its NUL */
#define SNAP_FORMAT	1
#define SNAP_PAGE	4096ull

/* The file's first bytes. */
struct snap_header {
	char magic[8];
	uint32_t format;	/* SNAP_FORMAT */
	uint32_t api;		/* HVX_API_VERSION of the saving hvx */
	uint32_t header_size;	/* sizeof(struct snap_header) */
	uint32_t flags;		/* 0 */
	uint64_t reserved[2];
};

/*
 * Before every payload; zero bytes after the payload pad it to a multiple
 * of 8 (not counted in @size), so every record starts 8-byte aligned.
 */
struct snap_record {
	uint32_t type;		/* SNAP_* */
	uint16_t version;	/* the payload's layout, 1 so far */
	uint16_t flags;		/* 0 */
	uint32_t instance;	/* vCPU index, memory slot, else 0 */
	uint32_t crc;		/* CRC-32 (IEEE 802.3) of the payload */
	uint64_t size;		/* payload bytes */
};

enum {
	SNAP_END = 0,		/* no payload; the last record */
	SNAP_CONFIG = 1,	/* struct snap_config */
	SNAP_RAM = 2,		/* struct snap_ram, bitmap, pages */
	SNAP_TSC = 3,		/* struct snap_tsc */
	SNAP_VM_STATE = 4,	/* HVX_GET_VM_STATE's records */
	SNAP_RAM_PAGES = 5,	/* struct snap_ram_pages, bitmaps, pages */
	SNAP_PM = 6,		/* struct snap_pm */
	SNAP_DISKS = 7,		/* struct snap_disks (a VM with --disk) */
	SNAP_NETS = 8,		/* struct snap_nets (a VM with --net) */
	SNAP_REGS = 16,		/* per vCPU: struct hvx_regs */
	SNAP_SREGS,		/* struct hvx_sregs */
	SNAP_XCRS,		/* struct hvx_xcrs */
	SNAP_XSAVE,		/* struct hvx_xsave */
	SNAP_LAPIC,		/* struct hvx_lapic_state (with the in-kernel LAPIC) */
	SNAP_MSRS,		/* struct hvx_msr_entry[] */
	SNAP_DEBUGREGS,		/* struct hvx_debugregs */
	SNAP_EVENTS,		/* struct hvx_vcpu_events */
	SNAP_MP_STATE,		/* struct hvx_mp_state */
	SNAP_VCPU_LAST = SNAP_MP_STATE,
};
#define SNAP_VCPU_TYPES	(SNAP_VCPU_LAST - SNAP_REGS + 1)

/* What hvx-run needs to build the same VM again. */
struct snap_config {
	uint64_t mem;		/* --mem, bytes */
	uint64_t low_size;	/* slot 0: RAM at 0 */
	uint64_t high_size;	/* slot 1: RAM at 4 GiB */
	uint32_t cpus;		/* --cpus */
	uint32_t vm_flags;	/* HVX_CREATE_VM flags (HVX_VM_NO_PV) */
	uint32_t platform;	/* HVX_CREATE_PLATFORM devices, 0: none */
	uint16_t pm1_sts;	/* hvx-run's ACPI PM1 registers (sleep.c) */
	uint16_t pm1_en;
	uint64_t facs;		/* GPA of the ACPI FACS, or 0 */
	uint64_t reserved[4];
};

/*
 * The --disk options the VM was created with, but their files: a restore
 * must be given the same disks (the same count, read-only flags and
 * serials), the devices the kernel's virtio records are loaded into.
 */
struct snap_disks {
	uint32_t count;		/* --disk options */
	uint32_t ro;		/* bit n: disk n is read-only */
	char serial[MAX_DISKS][HVX_VIRTIO_SERIAL_LEN];
};

/*
 * The --net options' count: a restore must be given as many, the devices
 * the kernel's virtio-net records (MACs included) are loaded into; the
 * taps are the destination's own.
 */
struct snap_nets {
	uint32_t count;		/* --net options */
	uint32_t reserved;	/* 0 */
};

/* One memory slot: pages that are all zero are left out. */
struct snap_ram {
	uint64_t gpa;
	uint64_t size;		/* bytes, a multiple of SNAP_PAGE */
	uint64_t page_size;	/* SNAP_PAGE */
	uint64_t pages;		/* pages present after the bitmap */
	/* then a bitmap of size / SNAP_PAGE bits (bit n: page n present),
	 * in whole uint64_t, then the present pages in order */
};

/*
 * Some pages of a memory slot (instance: the slot), as a migration
 * stream sends them (migrate.c): any number of these, applied in order,
 * each after the config record; pages named by neither bitmap keep what
 * they hold.
 */
struct snap_ram_pages {
	uint64_t gpa;		/* of the first page covered, in the slot */
	uint64_t npages;	/* pages covered, 1 to SNAP_CHUNK_PAGES */
	uint64_t page_size;	/* SNAP_PAGE */
	uint64_t pages;		/* pages with data after the bitmaps */
	/* then two bitmaps of npages bits in whole uint64_t: the pages
	 * whose data follows, and the pages that are now all zeros (never
	 * both); then the data pages in order */
};
#define SNAP_CHUNK_PAGES 256

/* hvx-run's ACPI state at the save; overrides the config record's. */
struct snap_pm {
	uint16_t pm1_sts;
	uint16_t pm1_en;
	uint32_t reserved0;
	uint64_t facs;
	uint64_t reserved[2];
};

struct snap_tsc {
	uint64_t guest_tsc;	/* host TSC + the VM's offset at the save */
	uint64_t tsc_khz;	/* the guest's TSC frequency, 0: unknown */
	int64_t realtime_ns;	/* CLOCK_REALTIME at the save */
	uint64_t kvmclock_ns;	/* HVX_GET_CLOCK then, 0: not recorded */
};

/*
 * The MSRs a guest can change besides those in struct hvx_sregs (EFER,
 * FS/GS base, IA32_APIC_BASE) and in the LAPIC (x2APIC): what vmx/msr.c
 * and vmx/pvmsr.c keep per vCPU. Restore order: IA32_TSC_ADJUST before
 * IA32_TSC_DEADLINE (a deadline is a TSC value), kvmclock and the other
 * paravirtual MSRs after both (they write guest RAM from the new TSC).
 * IA32_TSC itself is not saved: SNAP_TSC and IA32_TSC_ADJUST give it.
 * MSRs that HVX_GET_MSRS refuses on a vCPU (its CPUID lacks them) are
 * left out.
 */
static const uint32_t snap_msrs[] = {
	0x3b,					/* IA32_TSC_ADJUST */
	0x6e0,					/* IA32_TSC_DEADLINE */
	0x174, 0x175, 0x176,			/* SYSENTER_CS, _ESP, _EIP */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR .. SFMASK */
	0xc0000102, 0xc0000103,			/* KERNEL_GS_BASE, TSC_AUX */
	0x277, 0x1a0, 0x17a, 0x1d9, 0x48,	/* PAT, MISC_ENABLE, MCG_STATUS,
						 * DEBUGCTL, SPEC_CTRL */
	0x2ff,					/* MTRRdefType */
	0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, /* fixed MTRRs */
	0x26c, 0x26d, 0x26e, 0x26f,
	0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207, /* variable */
	0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
	0x4b564d00, 0x4b564d01,			/* kvmclock wall clock, system time */
	0x4b564d03, 0x4b564d04,			/* steal time, PV EOI */
};

/* CRC-32 tables for eight bytes a step ("slicing by 8"). */
static uint32_t crc_table[8][256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xff] ^
					  (crc_table[t - 1][i] >> 8);
}

/* CRC-32 of IEEE 802.3 (zlib's crc32()), continued from @crc (0 to start). */
static uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!crc_table[0][1])
		crc_init();
	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo, hi;

		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
	}
	while (len--)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ------------------------------------------------------------------ */
/* Saving */

/*
 * A writer puts records on a file or a socket (migrate.c) through a
 * buffer, never seeking back: every record's size and CRC are known
 * before its header is written.
 */
struct snap_writer {
	int fd;
	bool failed;
	int err;
	uint64_t bytes;		/* given to the writer so far */
	size_t fill;
	uint8_t buf[64 * 1024];
};

struct snap_writer *snap_writer_new(int fd)
{
	struct snap_writer *w = calloc(1, sizeof(*w));

	if (w)
		w->fd = fd;
	return w;
}

static void w_out(struct snap_writer *w, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len && !w->failed) {
		ssize_t n = write(w->fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->failed = true;
			w->err = n < 0 ? errno : EIO;
			break;
		}
		b += n;
		len -= (size_t)n;
	}
}

int snap_writer_flush(struct snap_writer *w)
{
	if (w->fill)
		w_out(w, w->buf, w->fill);
	w->fill = 0;
	return w->failed ? -w->err : 0;
}

int snap_writer_error(const struct snap_writer *w)
{
	return w->failed ? w->err : 0;
}

uint64_t snap_writer_bytes(const struct snap_writer *w)
{
	return w->bytes;
}

static void w_bytes(struct snap_writer *w, const void *p, size_t len)
{
	if (w->failed || !len)
		return;
	w->bytes += len;
	if (w->fill + len > sizeof(w->buf)) {
		snap_writer_flush(w);
		if (len >= sizeof(w->buf)) {
			w_out(w, p, len);
			return;
		}
	}
	memcpy(w->buf + w->fill, p, len);
	w->fill += len;
}

static void rec_head(struct snap_writer *w, uint32_t type, uint32_t instance,
		     uint32_t crc, uint64_t size)
{
	struct snap_record r = { .type = type, .version = 1,
				 .instance = instance, .crc = crc, .size = size };

	w_bytes(w, &r, sizeof(r));
}

/* The zero bytes after a payload of @size bytes. */
static void rec_pad(struct snap_writer *w, uint64_t size)
{
	static const uint8_t zero[8];

	w_bytes(w, zero, (8 - size % 8) % 8);
}

static void rec_whole(struct snap_writer *w, uint32_t type, uint32_t instance,
		      const void *p, size_t len)
{
	rec_head(w, type, instance, crc32_update(0, p, len), len);
	w_bytes(w, p, len);
	rec_pad(w, len);
}

static bool page_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;

	for (size_t i = 0; i < SNAP_PAGE / 8; i++)
		if (q[i])
			return false;
	return true;
}

/*
 * A whole slot as one SNAP_RAM record, for a file: the vCPUs are paused,
 * so the pages read for the CRC are the ones written after it.
 */
static void save_ram(struct snap_writer *w, uint32_t slot, uint64_t gpa,
		     const uint8_t *ram, uint64_t size)
{
	uint64_t npages = size / SNAP_PAGE, words = (npages + 63) / 64;
	uint64_t *bitmap = calloc(words ? words : 1, sizeof(uint64_t));
	struct snap_ram r = { .gpa = gpa, .size = size, .page_size = SNAP_PAGE };
	uint32_t crc;

	if (!bitmap) {
		w->failed = true;
		w->err = ENOMEM;
		return;
	}
	for (uint64_t i = 0; i < npages; i++)
		if (!page_zero(ram + i * SNAP_PAGE)) {
			bitmap[i / 64] |= 1ull << (i % 64);
			r.pages++;
		}
	crc = crc32_update(0, &r, sizeof(r));
	crc = crc32_update(crc, bitmap, words * sizeof(uint64_t));
	for (uint64_t i = 0; i < npages; i++)
		if (bitmap[i / 64] & (1ull << (i % 64)))
			crc = crc32_update(crc, ram + i * SNAP_PAGE, SNAP_PAGE);
	rec_head(w, SNAP_RAM, slot, crc,
		 sizeof(r) + words * sizeof(uint64_t) + r.pages * SNAP_PAGE);
	w_bytes(w, &r, sizeof(r));
	w_bytes(w, bitmap, words * sizeof(uint64_t));
	for (uint64_t i = 0; i < npages; i++)
		if (bitmap[i / 64] & (1ull << (i % 64)))
			w_bytes(w, ram + i * SNAP_PAGE, SNAP_PAGE);
	/* The payload is a multiple of 8 bytes: no padding. */
	free(bitmap);
}

/*
 * Pages [@first, @first + @n) of memory slot @slot (RAM at @vm->ram +
 * @base, guest-physical @gpa) as SNAP_RAM_PAGES records of at most
 * SNAP_CHUNK_PAGES pages each: those whose bit is set in @want (all if
 * NULL). Each page is copied before its CRC is taken, so that a vCPU
 * writing it meanwhile cannot make the record lie; a page that reads as
 * zeros goes as a bit of the zero bitmap (with @zeros) or not at all (the
 * receiver's RAM starts zeroed). Returns the pages with data sent.
 */
static uint64_t write_pages(struct snap_writer *w, uint32_t slot, uint64_t gpa,
			    const uint8_t *ram, const uint64_t *want,
			    bool zeros, uint64_t first, uint64_t n)
{
	static struct {
		struct snap_ram_pages h;
		uint64_t data[SNAP_CHUNK_PAGES / 64];
		uint64_t zero[SNAP_CHUNK_PAGES / 64];
		uint8_t pages[SNAP_CHUNK_PAGES][SNAP_PAGE];
	} *c;
	uint64_t sent = 0;

	if (!c)
		c = malloc(sizeof(*c));
	if (!c) {
		w->failed = true;
		w->err = ENOMEM;
		return 0;
	}
	for (uint64_t at = first; at < first + n && !w->failed;) {
		uint64_t cnt = first + n - at, words;
		bool any = false;
		uint32_t crc;

		if (cnt > SNAP_CHUNK_PAGES)
			cnt = SNAP_CHUNK_PAGES;
		memset(&c->h, 0, sizeof(c->h) + sizeof(c->data) + sizeof(c->zero));
		c->h.gpa = gpa + at * SNAP_PAGE;
		c->h.npages = cnt;
		c->h.page_size = SNAP_PAGE;
		for (uint64_t i = 0; i < cnt; i++) {
			uint64_t pg = at + i;
			uint8_t *dst = c->pages[c->h.pages];

			if (want && !(want[pg / 64] & (1ull << (pg % 64))))
				continue;
			memcpy(dst, ram + pg * SNAP_PAGE, SNAP_PAGE);
			if (page_zero(dst)) {
				if (!zeros)
					continue;
				c->zero[i / 64] |= 1ull << (i % 64);
			} else {
				c->data[i / 64] |= 1ull << (i % 64);
				c->h.pages++;
			}
			any = true;
		}
		at += cnt;
		if (!any)
			continue;
		/* Bitmaps of (cnt + 63) / 64 words each. */
		words = (cnt + 63) / 64;
		crc = crc32_update(0, &c->h, sizeof(c->h));
		crc = crc32_update(crc, c->data, words * 8);
		crc = crc32_update(crc, c->zero, words * 8);
		crc = crc32_update(crc, c->pages, c->h.pages * SNAP_PAGE);
		rec_head(w, SNAP_RAM_PAGES, slot, crc, sizeof(c->h) + 2 * words * 8 +
			 c->h.pages * SNAP_PAGE);
		w_bytes(w, &c->h, sizeof(c->h));
		w_bytes(w, c->data, words * 8);
		w_bytes(w, c->zero, words * 8);
		w_bytes(w, c->pages, c->h.pages * SNAP_PAGE);
		sent += c->h.pages;
	}
	return sent;
}

uint64_t snapshot_write_pages(struct snap_writer *w, struct vm *vm, int slot,
			      const uint64_t *want, bool zeros, uint64_t first,
			      uint64_t n)
{
	if (slot == 0)
		return write_pages(w, 0, 0, vm->ram, want, zeros, first, n);
	return write_pages(w, 1, GPA_4G, vm->ram + vm->low_size, want, zeros,
			   first, n);
}

/* The guest's TSC frequency in kHz from its CPUID, or 0. */
static uint64_t guest_tsc_khz(struct vcpu *v)
{
	struct hvx_cpuid *c = calloc(1, sizeof(*c));
	uint64_t khz = 0;

	if (!c)
		return 0;
	c->nent = HVX_MAX_CPUID_ENTRIES;
	if (!ioctl(v->fd, HVX_GET_CPUID, c)) {
		for (uint32_t i = 0; i < c->nent && i < HVX_MAX_CPUID_ENTRIES; i++) {
			const struct hvx_cpuid_entry *e = &c->entries[i];

			/* 0x40000010: EAX the TSC's kHz (hvx, as KVM). */
			if (e->function == 0x40000010 && e->eax)
				khz = e->eax;
			/* 15H: ECX * EBX / EAX Hz, if nothing better. */
			if (e->function == 0x15 && !khz && e->eax && e->ebx && e->ecx)
				khz = (uint64_t)e->ecx * e->ebx / e->eax / 1000;
		}
	}
	free(c);
	return khz;
}

/* Per vCPU: finish its exit to userspace, then every GET. */
static int save_vcpu(struct snap_writer *w, struct vcpu *v, const char **what)
{
	struct {
		struct hvx_regs regs;
		struct hvx_sregs sregs;
		struct hvx_xcrs xcrs;
		struct hvx_xsave xsave;
		struct hvx_lapic_state lapic;
		struct hvx_debugregs dregs;
		struct hvx_vcpu_events events;
		struct hvx_mp_state mp;
		struct hvx_msr_entry msrs[HVX_MAX_MSR_ENTRIES];
	} *s = calloc(1, sizeof(*s));
	uint32_t nmsrs = 0;
	bool lapic;
	int ret;

	if (!s)
		return -ENOMEM;
	/*
	 * HVX_RUN with immediate_exit completes the last exit's instruction
	 * (the IN's data, the MMIO read) and returns EINTR without entering.
	 * The write exit a read-modify-write's completion may give is
	 * dropped, as hvx-run drops every MMIO write (main.c).
	 */
	v->run->immediate_exit = 1;
	for (int i = 0; i < 4 && !(ret = ioctl(v->fd, HVX_RUN, 0)); i++)
		if (v->run->exit_reason == HVX_EXIT_MMIO && !v->run->mmio.is_write)
			memset(v->run->mmio.data, 0xff, sizeof(v->run->mmio.data));
	if (ret == 0 || errno != EINTR) {
		*what = "HVX_RUN";
		ret = ret ? -errno : -EAGAIN;
		goto out;
	}
	ret = 0;
#define GET(req, p) do {						\
	if (!ret && ioctl(v->fd, req, p)) {				\
		ret = -errno;						\
		*what = #req;						\
	}								\
} while (0)
	GET(HVX_GET_REGS, &s->regs);
	GET(HVX_GET_SREGS, &s->sregs);
	GET(HVX_GET_XCRS, &s->xcrs);
	GET(HVX_GET_XSAVE, &s->xsave);
	GET(HVX_GET_DEBUGREGS, &s->dregs);
	GET(HVX_GET_VCPU_EVENTS, &s->events);
	GET(HVX_GET_MP_STATE, &s->mp);
#undef GET
	if (ret)
		goto out;
	/*
	 * IA32_TSC_DEADLINE before the LAPIC: a deadline that expires in
	 * between is then saved twice, as the deadline and as its IRR bit
	 * (at worst one extra timer interrupt after the restore, which a
	 * guest takes as an early tick), instead of not at all (the IRR
	 * read before it fired, the MSR after it was cleared).
	 */
	for (size_t i = 0; i < sizeof(snap_msrs) / sizeof(snap_msrs[0]); i++) {
		struct hvx_msrs one = { .nmsrs = 1 };

		one.entries[0].index = snap_msrs[i];
		if (ioctl(v->fd, HVX_GET_MSRS, &one) == 1)
			s->msrs[nmsrs++] = one.entries[0];
	}
	lapic = !ioctl(v->fd, HVX_GET_LAPIC, &s->lapic);
	if (!lapic && errno != ENXIO) {
		ret = -errno;
		*what = "HVX_GET_LAPIC";
		goto out;
	}
	rec_whole(w, SNAP_REGS, v->id, &s->regs, sizeof(s->regs));
	rec_whole(w, SNAP_SREGS, v->id, &s->sregs, sizeof(s->sregs));
	rec_whole(w, SNAP_XCRS, v->id, &s->xcrs, sizeof(s->xcrs));
	rec_whole(w, SNAP_XSAVE, v->id, &s->xsave, sizeof(s->xsave));
	if (lapic)
		rec_whole(w, SNAP_LAPIC, v->id, &s->lapic, sizeof(s->lapic));
	rec_whole(w, SNAP_MSRS, v->id, s->msrs, nmsrs * sizeof(s->msrs[0]));
	rec_whole(w, SNAP_DEBUGREGS, v->id, &s->dregs, sizeof(s->dregs));
	rec_whole(w, SNAP_EVENTS, v->id, &s->events, sizeof(s->events));
	rec_whole(w, SNAP_MP_STATE, v->id, &s->mp, sizeof(s->mp));
out:
	free(s);
	return ret;
}

bool snapshot_refused(struct vm *vm, char *why, size_t len)
{
	if (vm->opt.ndevices) {
		snprintf(why, len, "cannot save the VM: --device %s: %s (a passed-through device keeps state in hardware that hvx cannot save); the VM keeps running",
			 vm->opt.device_arg[0], strerror(EOPNOTSUPP));
		return true;
	}
	if (sleep_asleep()) {
		snprintf(why, len, "cannot save the VM while the guest is suspended to RAM (S3); the VM keeps running");
		return true;
	}
	return false;
}

void snapshot_write_begin(struct snap_writer *w, struct vm *vm)
{
	struct snap_header h = { .format = SNAP_FORMAT, .api = HVX_API_VERSION,
				 .header_size = sizeof(h) };
	struct snap_config c = {
		.mem = vm->opt.mem, .low_size = vm->low_size,
		.high_size = vm->high_size, .cpus = (uint32_t)vm->ncpus,
		.vm_flags = vm->opt.no_pv ? HVX_VM_NO_PV : 0,
		.platform = vm->platform ? HVX_PLATFORM_ALL : 0,
		.facs = vm->facs,
	};

	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	sleep_get_pm1(&c.pm1_sts, &c.pm1_en);
	w_bytes(w, &h, sizeof(h));
	rec_whole(w, SNAP_CONFIG, 0, &c, sizeof(c));
	if (vm->opt.ndisks) {
		struct snap_disks d = { .count = (uint32_t)vm->opt.ndisks };

		for (int i = 0; i < vm->opt.ndisks; i++) {
			d.ro |= vm->opt.disk[i].ro ? 1u << i : 0;
			memcpy(d.serial[i], vm->opt.disk[i].serial,
			       sizeof(d.serial[i]));
		}
		rec_whole(w, SNAP_DISKS, 0, &d, sizeof(d));
	}
	if (vm->opt.nnets) {
		struct snap_nets n = { .count = (uint32_t)vm->opt.nnets };

		rec_whole(w, SNAP_NETS, 0, &n, sizeof(n));
	}
}

/*
 * The paused VM's state: the TSC, hvx-run's PM1 registers and the FACS
 * address (SNAP_PM: a stream's config record went out while the guest
 * ran, so these are sent again here), every vCPU and the in-kernel
 * devices.
 */
int snapshot_write_state(struct snap_writer *w, struct vm *vm, char *err,
			 size_t errlen)
{
	struct hvx_tsc_offset off;
	struct snap_tsc tsc = { 0 };
	struct hvx_clock clock;
	struct snap_pm pm = { .facs = vm->facs };
	struct timespec ts;
	const char *what = NULL;
	void *vmstate = NULL;
	int len = 0, ret;

	sleep_get_pm1(&pm.pm1_sts, &pm.pm1_en);
	if (vm->platform) {
		struct hvx_vm_state a = { 0 };

		len = ioctl(vm->fd, HVX_GET_VM_STATE, &a);
		if (len >= 0 && !(vmstate = malloc(len ? len : 1)))
			errno = ENOMEM, len = -1;
		if (len >= 0) {
			a.addr = (uintptr_t)vmstate;
			a.size = (uint32_t)len;
			len = ioctl(vm->fd, HVX_GET_VM_STATE, &a);
		}
		if (len < 0) {
			snprintf(err, errlen, "cannot save the VM: HVX_GET_VM_STATE: %s%s",
				 strerror(errno), errno == EOPNOTSUPP ?
				 " (a device is passed through)" : "");
			free(vmstate);
			return -1;
		}
	}
	/* Guest TSC and real time, read together. */
	if (ioctl(vm->fd, HVX_GET_TSC_OFFSET, &off)) {
		snprintf(err, errlen, "cannot save the VM: HVX_GET_TSC_OFFSET: %s",
			 strerror(errno));
		free(vmstate);
		return -1;
	}
	if (ioctl(vm->fd, HVX_GET_CLOCK, &clock)) {
		snprintf(err, errlen, "cannot save the VM: HVX_GET_CLOCK: %s",
			 strerror(errno));
		free(vmstate);
		return -1;
	}
	tsc.kvmclock_ns = clock.clock;
	tsc.tsc_khz = guest_tsc_khz(&vm->vcpus[0]);
	clock_gettime(CLOCK_REALTIME, &ts);
	tsc.guest_tsc = __rdtsc() + (uint64_t)off.offset;
	tsc.realtime_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	rec_whole(w, SNAP_TSC, 0, &tsc, sizeof(tsc));
	rec_whole(w, SNAP_PM, 0, &pm, sizeof(pm));
	for (int i = 0; i < vm->ncpus; i++) {
		ret = save_vcpu(w, &vm->vcpus[i], &what);
		if (ret) {
			snprintf(err, errlen, "cannot save vCPU %d: %s: %s", i,
				 what, strerror(-ret));
			free(vmstate);
			return -1;
		}
	}
	if (vm->platform)
		rec_whole(w, SNAP_VM_STATE, 0, vmstate, (size_t)len);
	free(vmstate);
	return 0;
}

void snapshot_write_end(struct snap_writer *w)
{
	rec_whole(w, SNAP_END, 0, NULL, 0);
}

int snapshot_save(struct vm *vm, const char *path, char *err, size_t errlen)
{
	struct snap_writer *w;
	char tmp[4200];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "--save %s: the file name is too long", path);
		return -1;
	}
	/* Only the user may read it: it holds the guest's memory. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "--save %s: %s", tmp, strerror(errno));
		return -1;
	}
	w = snap_writer_new(fd);
	if (!w) {
		snprintf(err, errlen, "--save %s: %s", tmp, strerror(ENOMEM));
		goto fail;
	}
	snapshot_write_begin(w, vm);
	if (snapshot_write_state(w, vm, err, errlen))
		goto fail;
	save_ram(w, 0, 0, vm->ram, vm->low_size);
	if (vm->high_size)
		save_ram(w, 1, GPA_4G, vm->ram + vm->low_size, vm->high_size);
	snapshot_write_end(w);
	if (!snap_writer_flush(w) && fsync(fd)) {
		w->failed = true;
		w->err = errno;
	}
	if (w->failed) {
		snprintf(err, errlen, "--save %s: %s", tmp, strerror(w->err));
		goto fail;
	}
	if (close(fd)) {
		fd = -1;
		snprintf(err, errlen, "--save %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path)) {
		snprintf(err, errlen, "--save: cannot rename %s to %s: %s", tmp,
			 path, strerror(errno));
		goto fail;
	}
	free(w);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(w);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Restoring */

/*
 * The parsed snapshot: pointers into the file's read-only mapping, or,
 * for a stream, into copies of its records. SNAP_RAM_PAGES records of a
 * file wait in @pages until the RAM exists; a stream's are applied as
 * they come, into the RAM allocated at its config record.
 */
static struct {
	const char *what;	/* "--restore FILE", "--incoming tcp:..." */
	const uint8_t *map;
	size_t map_size;
	struct vm *vm;		/* a stream: where its RAM goes */
	const struct snap_config *config;
	const struct snap_tsc *tsc;
	const struct snap_pm *pm;
	const struct snap_disks *disks;
	const struct snap_nets *nets;
	const uint8_t *vm_state;
	uint64_t vm_state_size;
	const struct snap_ram *ram[2];
	const struct snap_ram_pages **pages;
	size_t npages, pages_cap;
	uint64_t pages_seen;
	const uint8_t *vcpu[HVX_MAX_VCPUS][SNAP_VCPU_TYPES];
	uint64_t msrs_size[HVX_MAX_VCPUS];
} snap;

/* Called with the reason before a refused snapshot ends hvx-run. */
void (*snapshot_refused_hook)(const char *why);

static void __attribute__((noreturn, format(printf, 1, 2))) bad(const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (snapshot_refused_hook)
		snapshot_refused_hook(why);
	die("%s: %s", snap.what, why);
}

static const char *type_name(uint32_t type)
{
	static const char *const names[] = {
		[SNAP_END] = "end", [SNAP_CONFIG] = "config", [SNAP_RAM] = "RAM",
		[SNAP_TSC] = "TSC", [SNAP_VM_STATE] = "device state",
		[SNAP_REGS] = "registers", [SNAP_SREGS] = "special registers",
		[SNAP_XCRS] = "XCRs", [SNAP_XSAVE] = "XSAVE", [SNAP_LAPIC] = "LAPIC",
		[SNAP_RAM_PAGES] = "RAM pages", [SNAP_PM] = "ACPI",
		[SNAP_DISKS] = "disks", [SNAP_NETS] = "nets",
		[SNAP_MSRS] = "MSRs", [SNAP_DEBUGREGS] = "debug registers",
		[SNAP_EVENTS] = "events", [SNAP_MP_STATE] = "MP state",
	};

	return type < sizeof(names) / sizeof(names[0]) && names[type] ?
	       names[type] : "unknown";
}

/* The payload size a fixed-size type must have, 0 for variable ones. */
static uint64_t fixed_size(uint32_t type)
{
	switch (type) {
	case SNAP_END: return 0;
	case SNAP_CONFIG: return sizeof(struct snap_config);
	case SNAP_TSC: return sizeof(struct snap_tsc);
	case SNAP_PM: return sizeof(struct snap_pm);
	case SNAP_DISKS: return sizeof(struct snap_disks);
	case SNAP_NETS: return sizeof(struct snap_nets);
	case SNAP_REGS: return sizeof(struct hvx_regs);
	case SNAP_SREGS: return sizeof(struct hvx_sregs);
	case SNAP_XCRS: return sizeof(struct hvx_xcrs);
	case SNAP_XSAVE: return sizeof(struct hvx_xsave);
	case SNAP_LAPIC: return sizeof(struct hvx_lapic_state);
	case SNAP_DEBUGREGS: return sizeof(struct hvx_debugregs);
	case SNAP_EVENTS: return sizeof(struct hvx_vcpu_events);
	case SNAP_MP_STATE: return sizeof(struct hvx_mp_state);
	}
	return 0;
}

static void check_ram(const struct snap_record *r, const uint8_t *p)
{
	const struct snap_ram *ram = (const void *)p;
	uint64_t npages, words, present = 0;
	const uint64_t *bitmap;

	if (r->size < sizeof(*ram) || ram->page_size != SNAP_PAGE ||
	    ram->size % SNAP_PAGE)
		bad("RAM record %u is malformed", r->instance);
	npages = ram->size / SNAP_PAGE;
	words = (npages + 63) / 64;
	/* Divided, not multiplied: a forged size must not wrap around. */
	if (ram->pages > npages || words > (r->size - sizeof(*ram)) / 8 ||
	    ram->pages != (r->size - sizeof(*ram) - words * 8) / SNAP_PAGE ||
	    (r->size - sizeof(*ram) - words * 8) % SNAP_PAGE)
		bad("RAM record %u has %" PRIu64 " bytes, its header says otherwise",
		    r->instance, r->size);
	bitmap = (const uint64_t *)(p + sizeof(*ram));
	for (uint64_t i = 0; i < words; i++)
		present += (uint64_t)__builtin_popcountll(bitmap[i]);
	if (present != ram->pages || (npages % 64 &&
	    bitmap[words - 1] >> (npages % 64)))
		bad("RAM record %u: its page bitmap does not match its page count",
		    r->instance);
}

/*
 * The device state record holds HVX_GET_VM_STATE's records: check their
 * framing as HVX_SET_VM_STATE will (type, version, size, each device once
 * and every one HVX_PLATFORM_ALL has), so that a bad one is refused
 * before a VM exists. The fields' values are the kernel's to check.
 */
static void check_vm_state(const uint8_t *p, uint64_t size)
{
	static const struct {
		uint16_t type;
		const char *name;
		uint32_t size;	/* UART: at least this (then its ring) */
	} types[] = {
		{ HVX_STATE_PIC, "PIC", sizeof(struct hvx_state_pic) },
		{ HVX_STATE_PIT, "PIT", sizeof(struct hvx_state_pit) },
		{ HVX_STATE_IOAPIC, "IOAPIC", sizeof(struct hvx_state_ioapic) },
		{ HVX_STATE_RTC, "RTC", sizeof(struct hvx_state_rtc) },
		{ HVX_STATE_UART, "UART", sizeof(struct hvx_state_uart) },
		{ HVX_STATE_PCI, "PCI", sizeof(struct hvx_state_pci) },
	};
	bool seen[sizeof(types) / sizeof(types[0])] = { false };
	bool slots[32] = { false }, net_slots[32] = { false };
	uint64_t off = 0;
	size_t i;

	while (off < size) {
		struct hvx_state_header h;

		if (size - off < sizeof(h))
			bad("the device state record is truncated at its byte %" PRIu64, off);
		memcpy(&h, p + off, sizeof(h));
		if (h.type == HVX_STATE_VIRTIO || h.type == HVX_STATE_VIRTIO_NET) {
			/*
			 * One per device, its instance the devfn; a
			 * virtio-net device's own after it.
			 */
			bool net = h.type == HVX_STATE_VIRTIO_NET;
			const char *what = net ? "virtio-net" : "virtio";
			bool *seen_slot = net ? net_slots : slots;

			if (h.version > 1)
				bad("the %s state has version %u, newer than this hvx-run's (1)",
				    what, h.version);
			if (h.version != 1 ||
			    h.size != (net ? sizeof(struct hvx_state_virtio_net) :
					     sizeof(struct hvx_state_virtio)) ||
			    h.size > size - off || h.reserved || (h.instance & 7) ||
			    !(h.instance >> 3) || h.instance >> 3 >= 32)
				bad("the %s state is malformed (version %u, %u bytes, devfn %#x)",
				    what, h.version, h.size, h.instance);
			if (seen_slot[h.instance >> 3])
				bad("two %s states for slot %u", what, h.instance >> 3);
			if (net && !slots[h.instance >> 3])
				bad("a virtio-net state for slot %u without its virtio state",
				    h.instance >> 3);
			seen_slot[h.instance >> 3] = true;
			off += h.size;
			continue;
		}
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (types[i].type == h.type)
				break;
		if (i == sizeof(types) / sizeof(types[0]))
			bad("unknown device state type %u", h.type);
		if (h.version > 1)
			bad("the %s state has version %u, newer than this hvx-run's (1)",
			    types[i].name, h.version);
		if (h.version != 1 || h.size < sizeof(h) || h.size % 8 ||
		    h.size > size - off || h.instance || h.reserved ||
		    (h.type == HVX_STATE_UART ? h.size < types[i].size :
						h.size != types[i].size))
			bad("the %s state is malformed (version %u, %u bytes)",
			    types[i].name, h.version, h.size);
		if (seen[i])
			bad("two %s states in the device state record", types[i].name);
		seen[i] = true;
		off += h.size;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!seen[i])
			bad("no %s state in the device state record", types[i].name);
}

/* The header of a file or stream (@kind), refused as a whole if off. */
static void check_header(const struct snap_header *h, const char *kind)
{
	if (memcmp(h->magic, SNAP_MAGIC, sizeof(h->magic)))
		bad("not an hvx-run %s (bad magic)", kind);
	if (h->format > SNAP_FORMAT)
		bad("%s format %u is newer than this hvx-run's (%u)", kind,
		    h->format, SNAP_FORMAT);
	if (h->format != SNAP_FORMAT || h->header_size != sizeof(*h) || h->flags)
		bad("unsupported %s header (format %u, size %u, flags 0x%x)", kind,
		    h->format, h->header_size, h->flags);
	if (h->api != HVX_API_VERSION)
		bad("%s from an hvx with API version %u, this one is %d", kind,
		    h->api, HVX_API_VERSION);
}

/* The config record, checked as soon as it is seen. */
static void check_config(const struct snap_config *c)
{
	if (!c->cpus || c->cpus > HVX_MAX_VCPUS || c->mem < 4 * MiB ||
	    c->mem % (4 * KiB) || c->high_size > c->mem ||
	    c->low_size != c->mem - c->high_size ||
	    c->low_size > LOW_RAM_MAX || (c->vm_flags & ~HVX_VM_NO_PV) ||
	    (c->platform && c->platform != HVX_PLATFORM_ALL) ||
	    (c->facs && (c->facs > c->low_size || c->low_size - c->facs < 64)))
		bad("the config record is malformed");
}

static void check_pm(const struct snap_pm *pm)
{
	const struct snap_config *c = snap.config;

	if (!c)
		bad("the ACPI record comes before the config record");
	if (pm->reserved0 || pm->reserved[0] || pm->reserved[1] ||
	    (pm->facs && (pm->facs > c->low_size || c->low_size - pm->facs < 64)))
		bad("the ACPI record is malformed");
}

/* Memory slot @slot of the config: its GPA and size. */
static bool config_slot(uint32_t slot, uint64_t *gpa, uint64_t *size)
{
	const struct snap_config *c = snap.config;

	if (slot == 0) {
		*gpa = 0;
		*size = c->low_size;
	} else {
		*gpa = GPA_4G;
		*size = c->high_size;
	}
	return slot <= 1 && *size;
}

/* A SNAP_RAM_PAGES record: its sizes, its bitmaps, its place in the slot. */
static void check_pages(const struct snap_record *r, const uint8_t *p)
{
	const struct snap_ram_pages *h = (const void *)p;
	const uint64_t *data, *zero;
	uint64_t words, present = 0, gpa, size;

	if (!snap.config)
		bad("a RAM pages record comes before the config record");
	if (r->size < sizeof(*h) || h->page_size != SNAP_PAGE || !h->npages ||
	    h->npages > SNAP_CHUNK_PAGES)
		bad("a RAM pages record of slot %u is malformed", r->instance);
	words = (h->npages + 63) / 64;
	if (h->pages > h->npages ||
	    r->size != sizeof(*h) + 2 * words * 8 + h->pages * SNAP_PAGE)
		bad("a RAM pages record of slot %u has %" PRIu64 " bytes, its header says otherwise",
		    r->instance, r->size);
	if (!config_slot(r->instance, &gpa, &size) || h->gpa % SNAP_PAGE ||
	    h->gpa < gpa || h->gpa - gpa > size ||
	    h->npages > (size - (h->gpa - gpa)) / SNAP_PAGE)
		bad("a RAM pages record at 0x%" PRIx64 " lies outside memory slot %u",
		    h->gpa, r->instance);
	data = (const uint64_t *)(h + 1);
	zero = data + words;
	for (uint64_t i = 0; i < words; i++) {
		present += (uint64_t)__builtin_popcountll(data[i]);
		if (data[i] & zero[i])
			bad("a RAM pages record of slot %u has a page both in its data and zero bitmaps",
			    r->instance);
	}
	if (present != h->pages || (h->npages % 64 &&
	    ((data[words - 1] | zero[words - 1]) >> (h->npages % 64))))
		bad("a RAM pages record of slot %u: its bitmaps do not match its page count",
		    r->instance);
}

/* Guest RAM of slot @slot at @dst, from @p (a checked SNAP_RAM_PAGES). */
static void apply_pages(uint8_t *ram, uint32_t slot, uint64_t low_size,
			const struct snap_ram_pages *h)
{
	const uint64_t words = (h->npages + 63) / 64;
	const uint64_t *data = (const uint64_t *)(h + 1), *zero = data + words;
	const uint8_t *src = (const uint8_t *)(zero + words);
	uint8_t *dst = ram + (slot ? low_size + h->gpa - GPA_4G : h->gpa);

	for (uint64_t i = 0; i < h->npages; i++) {
		if (data[i / 64] & (1ull << (i % 64))) {
			memcpy(dst + i * SNAP_PAGE, src, SNAP_PAGE);
			src += SNAP_PAGE;
		} else if (zero[i / 64] & (1ull << (i % 64))) {
			memset(dst + i * SNAP_PAGE, 0, SNAP_PAGE);
		}
	}
}

/* This hvx-run's RAM for the config, in a stream as soon as it is known. */
static void config_to_vm(struct vm *vm)
{
	const struct snap_config *c = snap.config;

	vm->opt.mem = c->mem;
	vm->opt.cpus = (int)c->cpus;
	vm->opt.no_pv = c->vm_flags & HVX_VM_NO_PV;
	vm->ncpus = (int)c->cpus;
}

/*
 * One record, @off bytes into the snapshot: its framing, its CRC, its
 * type's rules; then it is kept (or, a stream's RAM pages, applied).
 */
static void take_record(const struct snap_record *r, const uint8_t *p,
			uint64_t off)
{
	uint64_t fixed = fixed_size(r->type);

	if (!strcmp(type_name(r->type), "unknown"))
		bad("unknown record type %u at byte %" PRIu64, r->type, off);
	if (r->version > 1)
		bad("the %s record at byte %" PRIu64 " has version %u, newer than this hvx-run's (1)",
		    type_name(r->type), off, r->version);
	if (r->version != 1 || r->flags)
		bad("the %s record at byte %" PRIu64 " is malformed (version %u, flags 0x%x)",
		    type_name(r->type), off, r->version, r->flags);
	if ((fixed || r->type == SNAP_END) && r->size != fixed)
		bad("the %s record at byte %" PRIu64 " has %" PRIu64 " bytes, not %" PRIu64,
		    type_name(r->type), off, r->size, fixed);
	if (crc32_update(0, p, r->size) != r->crc)
		bad("the %s record at byte %" PRIu64 " is corrupted (CRC mismatch)",
		    type_name(r->type), off);
	for (uint64_t i = 0; i < (8 - r->size % 8) % 8; i++)
		if (p[r->size + i])
			bad("the %s record at byte %" PRIu64 " has nonzero padding",
			    type_name(r->type), off);
	if (r->type >= SNAP_REGS) {
		uint32_t t = r->type - SNAP_REGS;

		if (r->instance >= HVX_MAX_VCPUS)
			bad("%s record for vCPU %u (at most %d)", type_name(r->type),
			    r->instance, HVX_MAX_VCPUS - 1);
		if (snap.vcpu[r->instance][t])
			bad("two %s records for vCPU %u", type_name(r->type), r->instance);
		if (r->type == SNAP_MSRS) {
			if (r->size % sizeof(struct hvx_msr_entry) ||
			    r->size > HVX_MAX_MSR_ENTRIES * sizeof(struct hvx_msr_entry))
				bad("the MSR record of vCPU %u has %" PRIu64 " bytes",
				    r->instance, r->size);
			snap.msrs_size[r->instance] = r->size;
		}
		snap.vcpu[r->instance][t] = p;
		return;
	}
	if (r->type != SNAP_RAM && r->type != SNAP_RAM_PAGES && r->instance)
		bad("the %s record at byte %" PRIu64 " has instance %u, not 0",
		    type_name(r->type), off, r->instance);
	switch (r->type) {
	case SNAP_CONFIG:
		if (snap.config)
			bad("two config records");
		check_config((const void *)p);
		snap.config = (const void *)p;
		if (snap.vm) {
			config_to_vm(snap.vm);
			alloc_ram(snap.vm);
			if (snap.vm->low_size != snap.config->low_size ||
			    snap.vm->high_size != snap.config->high_size)
				bad("this hvx-run lays out %" PRIu64 " MiB differently",
				    snap.vm->opt.mem >> 20);
		}
		return;
	case SNAP_TSC:
		if (snap.tsc)
			bad("two TSC records");
		snap.tsc = (const void *)p;
		return;
	case SNAP_PM:
		if (snap.pm)
			bad("two ACPI records");
		check_pm((const void *)p);
		snap.pm = (const void *)p;
		return;
	case SNAP_DISKS:
		if (snap.disks)
			bad("two disks records");
		if (((const struct snap_disks *)p)->count > MAX_DISKS ||
		    ((const struct snap_disks *)p)->ro >>
		    ((const struct snap_disks *)p)->count)
			bad("the disks record is malformed");
		snap.disks = (const void *)p;
		return;
	case SNAP_NETS:
		if (snap.nets)
			bad("two nets records");
		if (((const struct snap_nets *)p)->count > MAX_NETS ||
		    ((const struct snap_nets *)p)->reserved)
			bad("the nets record is malformed");
		snap.nets = (const void *)p;
		return;
	case SNAP_VM_STATE:
		if (snap.vm_state)
			bad("two device state records");
		if (r->size > HVX_VM_STATE_MAX_SIZE)
			bad("the device state record has %" PRIu64 " bytes", r->size);
		check_vm_state(p, r->size);
		snap.vm_state = p;
		snap.vm_state_size = r->size;
		return;
	case SNAP_RAM:
		if (r->instance > 1)
			bad("RAM record for memory slot %u", r->instance);
		check_ram(r, p);
		if (snap.ram[r->instance])
			bad("two RAM records");
		if (snap.pages_seen)
			bad("a RAM record after RAM pages records");
		snap.ram[r->instance] = (const void *)p;
		return;
	case SNAP_RAM_PAGES:
		check_pages(r, p);
		snap.pages_seen++;
		if (snap.vm) {
			apply_pages(snap.vm->ram, r->instance, snap.vm->low_size,
				    (const void *)p);
			return;
		}
		if (snap.npages == snap.pages_cap) {
			size_t cap = snap.pages_cap ? 2 * snap.pages_cap : 64;
			const struct snap_ram_pages **n = realloc(snap.pages, cap * sizeof(*n));

			if (!n)
				die("out of memory");
			snap.pages = n;
			snap.pages_cap = cap;
		}
		snap.pages[snap.npages++] = (const void *)p;
		return;
	}
}

/*
 * The disks the VM is restored with must be the saved VM's: the kernel's
 * virtio records go into the devices --disk creates, in order.
 */
static void check_disks(const struct vm *vm)
{
	const struct snap_disks *d = snap.disks;
	uint32_t n = d ? d->count : 0;

	if (n != (uint32_t)vm->opt.ndisks)
		bad("the saved VM had %u virtio disk%s, this hvx-run was given %d: give it the same --disk options",
		    n, n == 1 ? "" : "s", vm->opt.ndisks);
	for (uint32_t i = 0; i < n; i++) {
		const struct disk_opt *o = &vm->opt.disk[i];

		if (!(d->ro & 1u << i) != !o->ro)
			bad("--disk %s is %s, the saved VM's disk %u was %s: give it the same --disk options",
			    o->arg, o->ro ? "read-only" : "writable", i + 1,
			    o->ro ? "writable" : "read-only");
		if (memcmp(d->serial[i], o->serial, sizeof(o->serial)))
			bad("--disk %s has serial '%.*s', the saved VM's disk %u had '%.*s': give it the same --disk options",
			    o->arg, HVX_VIRTIO_SERIAL_LEN, o->serial, i + 1,
			    HVX_VIRTIO_SERIAL_LEN, d->serial[i]);
	}
}

/*
 * As many --net options as the saved VM had: the kernel's virtio-net
 * records go into the devices --net creates, in order.
 */
static void check_nets(const struct vm *vm)
{
	uint32_t n = snap.nets ? snap.nets->count : 0;

	if (n != (uint32_t)vm->opt.nnets)
		bad("the saved VM had %u virtio-net device%s, this hvx-run was given %d: give it as many --net options",
		    n, n == 1 ? "" : "s", vm->opt.nnets);
}

/* After the end record: everything the configuration calls for, nothing else. */
static void check_whole(struct vm *vm)
{
	const struct snap_config *c = snap.config;

	if (!c || !snap.tsc)
		bad("no %s record", c ? "TSC" : "config");
	for (uint32_t i = 0; i < HVX_MAX_VCPUS; i++)
		for (uint32_t t = 0; t < SNAP_VCPU_TYPES; t++) {
			bool want = i < c->cpus &&
				    (t + SNAP_REGS != SNAP_LAPIC || c->platform);

			if (want != !!snap.vcpu[i][t])
				bad("%s %s record for vCPU %u", want ? "no" : "an unexpected",
				    type_name(t + SNAP_REGS), i);
		}
	if (!c->platform != !snap.vm_state)
		bad("%s device state record", c->platform ? "no" : "an unexpected");
	check_disks(vm);
	check_nets(vm);
	if (!snap.pages_seen &&
	    (!snap.ram[0] || snap.ram[0]->gpa || snap.ram[0]->size != c->low_size))
		bad("no RAM record for the %" PRIu64 " bytes at 0", c->low_size);
	if (snap.ram[0] && (snap.ram[0]->gpa || snap.ram[0]->size != c->low_size))
		bad("the RAM record of slot 0 does not match the config's %" PRIu64 " bytes",
		    c->low_size);
	if ((!snap.pages_seen && !c->high_size != !snap.ram[1]) ||
	    (snap.ram[1] && (snap.ram[1]->gpa != GPA_4G || snap.ram[1]->size != c->high_size)))
		bad("the RAM records do not match the config's %" PRIu64 " bytes above 4 GiB",
		    c->high_size);
	config_to_vm(vm);
}

void snapshot_load(struct vm *vm, const char *path)
{
	static char what[4200];
	const struct snap_header *h;
	struct stat st;
	size_t off;
	bool end = false;
	int fd;

	snprintf(what, sizeof(what), "--restore %s", path);
	snap.what = what;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("--restore %s: %s", path, strerror(errno));
	if (fstat(fd, &st))
		die("--restore %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die("--restore %s: not a regular file", path);
	if ((uint64_t)st.st_size < sizeof(*h))
		bad("truncated: %lld bytes, not even a header", (long long)st.st_size);
	snap.map_size = (size_t)st.st_size;
	snap.map = mmap(NULL, snap.map_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (snap.map == MAP_FAILED)
		die("--restore %s: %s", path, strerror(errno));
	h = (const void *)snap.map;
	check_header(h, "snapshot");

	for (off = sizeof(*h); !end;) {
		const struct snap_record *r = (const void *)(snap.map + off);
		const uint8_t *p = snap.map + off + sizeof(*r);
		uint64_t pad;

		if (snap.map_size - off < sizeof(*r))
			bad("truncated: no end record after %zu bytes", off);
		pad = (8 - r->size % 8) % 8;
		if (r->size > snap.map_size - off - sizeof(*r) ||
		    pad > snap.map_size - off - sizeof(*r) - r->size)
			bad("truncated: the %s record at byte %zu needs %" PRIu64 " bytes, %zu are left",
			    type_name(r->type), off, r->size + pad, snap.map_size - off - sizeof(*r));
		take_record(r, p, off);
		end = r->type == SNAP_END;
		off += sizeof(*r) + r->size + pad;
	}
	if (off != snap.map_size)
		bad("%zu bytes after the end record", snap.map_size - off);
	check_whole(vm);
}

/* Read exactly @len bytes; false at the stream's end or an error. */
static bool read_full(int fd, void *p, size_t len, int *err)
{
	uint8_t *b = p;

	while (len) {
		ssize_t n = read(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err = n < 0 ? errno : 0;
			return false;
		}
		b += n;
		len -= (size_t)n;
	}
	return true;
}

/* The largest record a stream may carry (its RAM comes in chunks). */
#define SNAP_STREAM_MAX	(2 * MiB)

void snapshot_receive(struct vm *vm, int fd, const char *what)
{
	struct snap_header h;
	uint64_t off = sizeof(h);
	uint8_t *chunk = NULL;
	bool end = false;
	int err = 0;

	snap.what = what;
	if (!read_full(fd, &h, sizeof(h), &err))
		bad("the stream ended before its header%s%s", err ? ": " : "",
		    err ? strerror(err) : "");
	check_header(&h, "stream");
	snap.vm = vm;
	chunk = malloc(SNAP_STREAM_MAX);
	if (!chunk)
		die("out of memory");
	while (!end) {
		struct snap_record r;
		uint64_t len;
		uint8_t *p;

		if (!read_full(fd, &r, sizeof(r), &err))
			bad("the stream ended after %" PRIu64 " bytes, before its end record%s%s",
			    off, err ? ": " : " (the source is gone)", err ? strerror(err) : "");
		len = r.size + (8 - r.size % 8) % 8;
		if (r.size > SNAP_STREAM_MAX - 8)
			bad("the %s record at byte %" PRIu64 " has %" PRIu64 " bytes, more than a stream record may have",
			    type_name(r.type), off, r.size);
		/* RAM pages go to guest RAM at once; the rest is kept. */
		p = r.type == SNAP_RAM_PAGES ? chunk : malloc(len ? len : 1);
		if (!p)
			die("out of memory");
		if (!read_full(fd, p, len, &err))
			bad("the stream ended in the %s record at byte %" PRIu64 "%s%s",
			    type_name(r.type), off, err ? ": " : " (the source is gone)",
			    err ? strerror(err) : "");
		take_record(&r, p, off);
		end = r.type == SNAP_END;
		off += sizeof(r) + len;
	}
	free(chunk);
	check_whole(vm);
	if (!vm->ram)
		bad("no config record");
}

static void load_ram(uint8_t *dst, const struct snap_ram *r)
{
	const uint64_t *bitmap = (const uint64_t *)(r + 1);
	uint64_t npages = r->size / SNAP_PAGE, words = (npages + 63) / 64;
	const uint8_t *src = (const uint8_t *)(bitmap + words);

	for (uint64_t i = 0; i < npages; i++)
		if (bitmap[i / 64] & (1ull << (i % 64))) {
			memcpy(dst + i * SNAP_PAGE, src, SNAP_PAGE);
			src += SNAP_PAGE;
		}
}

void snapshot_load_ram(struct vm *vm)
{
	if (vm->low_size != snap.config->low_size ||
	    vm->high_size != snap.config->high_size)
		bad("this hvx-run lays out %" PRIu64 " MiB differently", vm->opt.mem >> 20);
	if (snap.ram[0])
		load_ram(vm->ram, snap.ram[0]);
	if (snap.ram[1])
		load_ram(vm->ram + vm->low_size, snap.ram[1]);
	for (size_t i = 0; i < snap.npages; i++)
		apply_pages(vm->ram, snap.pages[i]->gpa >= GPA_4G, vm->low_size,
			    snap.pages[i]);
	vm->facs = snap.pm ? snap.pm->facs : snap.config->facs;
	if (snap.pm)
		sleep_set_pm1(snap.pm->pm1_sts, snap.pm->pm1_en);
	else
		sleep_set_pm1(snap.config->pm1_sts, snap.config->pm1_en);
}

bool snapshot_platform(void)
{
	return snap.config->platform;
}

void snapshot_set_tsc(struct vm *vm)
{
	const struct snap_tsc *t = snap.tsc;
	struct hvx_tsc_offset off = { 0 };
	struct timespec ts;
	uint64_t guest = t->guest_tsc;
	int64_t now, paused;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	paused = now - t->realtime_ns;
	/* A clock that went back: resume where it stopped. */
	if (paused > 0 && t->tsc_khz)
		guest += (uint64_t)((unsigned __int128)paused * t->tsc_khz / 1000000);
	off.offset = (int64_t)(guest - __rdtsc());
	if (ioctl(vm->fd, HVX_SET_TSC_OFFSET, &off))
		die("HVX_SET_TSC_OFFSET: %s", strerror(errno));
	/* The saved kvmclock plus the pause (an older hvx-run saved none). */
	if (t->kvmclock_ns) {
		struct hvx_clock c = {
			.clock = t->kvmclock_ns,
			.realtime = (uint64_t)t->realtime_ns,
			.flags = HVX_CLOCK_REALTIME,
		};

		if (ioctl(vm->fd, HVX_SET_CLOCK, &c))
			die("HVX_SET_CLOCK: %s", strerror(errno));
	}
}

void snapshot_restore(struct vm *vm)
{
	struct hvx_vm_state a = {
		.addr = (uintptr_t)snap.vm_state, .size = (uint32_t)snap.vm_state_size,
	};
	int ret;

	if (snap.vm_state && ioctl(vm->fd, HVX_SET_VM_STATE, &a))
		die("%s: the kernel refused the device state (HVX_SET_VM_STATE): %s",
		    snap.what, strerror(errno));
	for (int i = 0; i < vm->ncpus; i++) {
		const uint8_t *const *r = snap.vcpu[i];
		struct vcpu *v = &vm->vcpus[i];
		struct hvx_msrs *m = calloc(1, sizeof(*m));

		if (!m)
			die("out of memory");
		m->nmsrs = (uint32_t)(snap.msrs_size[i] / sizeof(m->entries[0]));
		memcpy(m->entries, r[SNAP_MSRS - SNAP_REGS], snap.msrs_size[i]);
#define SET(req, type) do {						\
	if (r[type - SNAP_REGS] &&					\
	    ioctl(v->fd, req, (void *)r[type - SNAP_REGS]))		\
		die("%s: vCPU %d: " #req ": %s", snap.what, i,	\
		    strerror(errno));						\
} while (0)
		/* The order of uapi/hvx.h, "Saving and restoring state". */
		SET(HVX_SET_SREGS, SNAP_SREGS);
		SET(HVX_SET_REGS, SNAP_REGS);
		SET(HVX_SET_XCRS, SNAP_XCRS);
		SET(HVX_SET_XSAVE, SNAP_XSAVE);
		SET(HVX_SET_LAPIC, SNAP_LAPIC);
		ret = ioctl(v->fd, HVX_SET_MSRS, m);
		if (ret < 0)
			die("%s: vCPU %d: HVX_SET_MSRS: %s", snap.what, i,
			    strerror(errno));
		if (ret != (int)m->nmsrs)
			die("%s: vCPU %d: HVX_SET_MSRS refused MSR 0x%x", snap.what,
			    i, m->entries[ret].index);
		SET(HVX_SET_DEBUGREGS, SNAP_DEBUGREGS);
		SET(HVX_SET_VCPU_EVENTS, SNAP_EVENTS);
		SET(HVX_SET_MP_STATE, SNAP_MP_STATE);
#undef SET
		free(m);
	}
	if (snap.map)
		munmap((void *)snap.map, snap.map_size);
	snap.map = NULL;
}
