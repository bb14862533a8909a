// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_test - in-kernel virtio-blk over the virtio 1.x PCI transport
 * (HVX_CREATE_VIRTIO): a guest driver written in C (the guest code below)
 * finds the function, negotiates features and drives one split virtqueue
 * built by hand. Reads see what the host put in the backing file, writes
 * and flushes land in it, a read-only disk refuses writes, two disks work
 * side by side, a buffer over several memory slots is read into (its
 * pages logged dirty) and written from, read-only memory is written from
 * and never read into, and hostile rings (a loop, buffers outside RAM,
 * at the APIC page, at claimed MMIO (the device's own BAR, the I/O
 * APIC), 4 GiB long, wrapping around or over the end of RAM, an index
 * jump, nested indirect tables, a next index out of the table) end in
 * DEVICE_NEEDS_RESET with nothing moved, after which a reset gives a
 * working device. WRITE_ZEROES with and without UNMAP zeroes its range
 * of the file (and frees its blocks with UNMAP where the file system
 * punches holes); a read-only disk offers no WRITE_ZEROES and answers
 * it UNSUPP. On a split ring with EVENT_IDX the device interrupts just
 * when the used index passes used_event. The ioctl's errors, and kill -9
 * of the VMM in the middle of I/O (no worker thread or module reference
 * left), too.
 *
 * state_round_trip: the device's HVX_STATE_VIRTIO record, saved with a
 * write in flight (completed by the save: its data is on the disk and
 * in the used ring), loads field by field into a fresh VM with the same
 * disk, where the guest goes on with the device (its in-flight request
 * answered, the write read back); loaded without the packed-ring offer
 * (a record from an hvx without them), the device keeps that offer. A
 * record for another device (a read-only disk, another slot) or a
 * malformed one is refused with EINVAL and the fresh VM's state does
 * not change.
 *
 * The packed_* cases drive a packed ring (VIRTIO_F_RING_PACKED) the same
 * way: I/O through a 7-descriptor ring that wraps, event suppression both
 * ways, hostile descriptors, and a state round trip mid-write.
 */
#include <dirent.h>
#include <linux/falloc.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"
#include "hvx_state.h"
#include "virtio_guest.h"

/* What the guest does (the low byte of its argument; devfn above). */
enum vg_case {
	VG_BASIC,	/* negotiation, GET_ID, read, write, flush, ISR */
	VG_RO,		/* a read-only disk: RO offered, writes refused */
	VG_INDIRECT,	/* a read and a write through indirect tables, and a
			 * read through a table of queue size: 14 buffers
			 * scattered backwards; then a queue of the device's
			 * largest size (sizes above it refused) and a read
			 * through a table as long, then one longer */
	VG_STORM,	/* many notifications: no harm, still works */
	VG_LOOP,	/* hostile: a chain that loops */
	VG_OUTSIDE,	/* hostile: a buffer outside RAM */
	VG_APIC,	/* hostile: a buffer at the APIC page */
	VG_JUMP,	/* hostile: the available index jumps */
	VG_NESTED,	/* hostile: an indirect table inside one */
	VG_NEXT,	/* hostile: a next index outside the table */
	VG_IO_LOOP,	/* write forever (for kill -9) */
	VG_STATE,	/* a write in flight at a save, then on after it */
	VG_PACKED,	/* a packed ring: I/O, wrap-around, event suppression */
	VG_P_LONG,	/* hostile, packed: a chain longer than the ring */
	VG_P_ID,	/* hostile, packed: a buffer ID out of range */
	VG_P_INDNEXT,	/* hostile, packed: NEXT in an indirect table */
	VG_P_APIC,	/* hostile, packed: a buffer at the APIC page */
	VG_P_STATE,	/* VG_STATE through a packed ring */
	VG_SPLIT,	/* a buffer over three slots; read-only memory */
	VG_BAR,		/* hostile: a buffer at the device's own BAR */
	VG_IOAPIC,	/* hostile: a buffer at the I/O APIC's page */
	VG_HUGE,	/* hostile: a 4 GiB - 1 buffer; one that wraps */
	VG_PAST_END,	/* hostile: a buffer over the end of RAM */
	VG_WZ,		/* WRITE_ZEROES with and without UNMAP */
	VG_WZ_RO,	/* WRITE_ZEROES on a read-only disk */
	VG_EVIDX,	/* split ring EVENT_IDX: interrupts at used_event */
};

#define VG_ARG(c, devfn)	((uint64_t)(c) | (uint64_t)(devfn) << 8)
/* The end of the guest's RAM, for VG_PAST_END, above the devfn. */
#define VG_ARG_END(arg)		((arg) >> 16)

#define VG_QSIZE		16
#define VG_QMAX			1024	/* the disk's queue size offered */
#define VG_SECTOR_READ		8	/* the host fills it with VG_PATTERN_R */
#define VG_SECTOR_WRITE		16	/* the guest writes VG_PATTERN_W */
#define VG_PATTERN_R		0x5a
#define VG_PATTERN_W		0xc3
#define VG_SECTOR_STATE		24	/* VG_STATE's in-flight write */
#define VG_PATTERN_S		0x3c
#define VG_STATE_LEN		4096
#define VG_SERIAL		"hvx-disk-serial-0001"	/* 20 bytes */
/* A packed ring's size: not a power of two, and wrapping often. */
#define VG_PSIZE		7
/*
 * VG_SPLIT's memory (TEST(split_slots)): four 8 KiB slots, the first
 * three logging dirty pages, the fourth read-only. The host addresses of
 * the first two are apart, those of the second and third adjacent.
 */
#define VG_SPLIT_GPA		0x10000000ull	/* above the lib's RAM */
#define VG_SPLIT_BUF		(VG_SPLIT_GPA + 0x1000)	/* over three slots */
#define VG_SPLIT_LEN		0x4000
#define VG_SPLIT_ROM		(VG_SPLIT_GPA + 0x6000)	/* the fourth slot */
#define VG_SECTOR_SPLIT_R	64	/* the host fills VG_SPLIT_LEN bytes */
#define VG_SECTOR_SPLIT_W	128	/* the guest writes them back here */
#define VG_SECTOR_ROM		192	/* and the read-only page here */
/* Interrupts VG_PACKED expects the device to send. */
#define VG_PACKED_IRQS		6
/* VG_WZ's ranges (the host fills them, and a sector either side). */
#define VG_SECTOR_WZ		512
#define VG_SECTOR_UNMAP		640
#define VG_WZ_SECTORS		128	/* 64 KiB each, adjacent */
/* VG_EVIDX: its requests, and the interrupts used_event asks for. */
#define VG_EVIDX_RQS		8
#define VG_EVIDX_IRQS		3
/* The I/O APIC's registers (HVX_PLATFORM_IOAPIC). */
#define IOAPIC_GPA		0xfec00000ull
#define IOAPIC_WIN		0x10

/*
 * Guest code: a virtio 1.x PCI driver written from the specification. It
 * finds the function's capabilities in configuration space, negotiates
 * features, sets up one split virtqueue by hand and sends virtio-blk
 * requests; the hostile cases build broken rings on purpose and expect
 * DEVICE_NEEDS_RESET, after which a reset must give a working device
 * again.
 */

/* Features, descriptor flags (virtio_guest.h has the transport's). */
#define F_RO			(1ull << 5)
#define F_FLUSH			(1ull << 9)
#define F_DISCARD		(1ull << 13)
#define F_WZ			(1ull << 14)	/* WRITE_ZEROES */
#define F_INDIRECT		(1ull << 28)
#define F_EVENT_IDX		(1ull << 29)
#define F_PACKED		(1ull << 34)

#define D_INDIRECT		4
#define D_AVAIL			(1 << 7)	/* packed rings */
#define D_USED			(1 << 15)

/* Packed event suppression flags and the wrap counter's bit. */
#define EV_ENABLE		0
#define EV_DISABLE		1
#define EV_DESC			2
#define EV_WRAP			(1 << 15)

#define T_IN			0
#define T_OUT			1
#define T_FLUSH			4
#define T_GET_ID		8
#define T_WRITE_ZEROES		13
#define WZ_UNMAP		1

/* The device configuration's write-zeroes fields (5.2.4). */
#define CFG_WZ_SECTORS		48
#define CFG_WZ_SEG		52
#define CFG_WZ_UNMAP		56
#define MAX_WZ_SECTORS		(1u << 21)	/* 1 GiB, virtio_blk.c's */

#define POLL_LIMIT		2000000

struct avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[VG_QSIZE];
	uint16_t used_event;
};

struct used {
	uint16_t flags;
	uint16_t idx;
	struct {
		uint32_t id;
		uint32_t len;
	} ring[VG_QSIZE];
	uint16_t avail_event;
};

struct blk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

static volatile struct desc vg_desc[VG_QSIZE] __attribute__((aligned(4096)));
static volatile struct avail vg_avail __attribute__((aligned(4096)));
static volatile struct used vg_used __attribute__((aligned(4096)));
static volatile struct desc vg_ind[2][8] __attribute__((aligned(4096)));

/* A split queue of VG_QMAX, and an indirect table one longer (ind_long()). */
static volatile struct desc vl_desc[VG_QMAX] __attribute__((aligned(4096)));
static volatile struct {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[VG_QMAX];
	uint16_t used_event;
} vl_avail __attribute__((aligned(4096)));
static volatile struct {
	uint16_t flags;
	uint16_t idx;
	struct {
		uint32_t id;
		uint32_t len;
	} ring[VG_QMAX];
	uint16_t avail_event;
} vl_used __attribute__((aligned(4096)));
static volatile struct desc vl_ind[VG_QMAX + 1] __attribute__((aligned(4096)));

/* A packed ring (2.7.13, 2.7.14) and its event suppression structures. */
struct pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct pevent {
	uint16_t off_wrap;
	uint16_t flags;
};

static volatile struct pdesc vg_pring[VG_PSIZE] __attribute__((aligned(4096)));
static volatile struct pdesc vg_pind[8] __attribute__((aligned(4096)));
static volatile struct pevent vg_drv_event __attribute__((aligned(64)));
static volatile struct pevent vg_dev_event __attribute__((aligned(64)));

/* The packed driver's side: wrap counters start at 1 (2.7.1). */
static struct {
	uint16_t next_avail, next_used;
	bool avail_wrap, used_wrap;
	uint16_t ndesc[VG_PSIZE];
	uint32_t len;		/* of the last used descriptor */
} pq;
static volatile struct blk_hdr vg_hdr;
/* A discard or write-zeroes segment (5.2.6). */
static volatile struct {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
} vg_wz;
static volatile uint8_t vg_status;
static volatile uint8_t vg_buf[4096] __attribute__((aligned(4096)));

static struct vpci dev;
/* The driver's state: what it accepted, the next avail index. */
static struct {
	uint64_t features;
	uint16_t avail_idx;
} drv;

/*
 * Find the block function: its BAR sized (16 KiB) before memory decoding
 * is on, then its capabilities (4.1.4).
 */
GUEST_CODE
static void find(uint32_t devfn)
{
	uint32_t bar;

	dev.devfn = devfn;
	bar = vpci_cfg32(&dev, 0x10) & ~0xfu;
	vpci_cfg_write32(&dev, 0x10, 0xffffffff);
	GUEST_ASSERT_EQ(0xffffc000, vpci_cfg32(&dev, 0x10));
	vpci_cfg_write32(&dev, 0x10, bar);
	GUEST_ASSERT_EQ(bar, vpci_cfg32(&dev, 0x10));
	vpci_find(&dev, devfn, 0x10421af4);	/* 1af4:1042, block */
}

/* Reset, negotiate @want, set up queue 0 and start (3.1.1). */
GUEST_CODE
static void start(uint64_t want)
{
	uint64_t f;

	vpci_set_status(&dev, 0);
	GUEST_ASSERT_EQ(0, vpci_status(&dev));
	vpci_set_status(&dev, S_ACK);
	vpci_set_status(&dev, S_ACK | S_DRIVER);
	f = vpci_offered(&dev);
	GUEST_ASSERT(f & F_VERSION_1);
	GUEST_ASSERT(f & F_EVENT_IDX);
	GUEST_ASSERT(f & F_INDIRECT);
	GUEST_ASSERT(f & F_FLUSH);
	drv.features = f & want;
	vpci_accept(&dev, drv.features);
	vpci_set_status(&dev, S_ACK | S_DRIVER | S_FEATURES_OK);
	GUEST_ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK, vpci_status(&dev));

	guest_memset((void *)&vg_avail, 0, sizeof(vg_avail));
	guest_memset((void *)&vg_used, 0, sizeof(vg_used));
	drv.avail_idx = 0;
	GUEST_ASSERT_EQ(1, MMIO16(dev.common, CC_NUMQ));
	MMIO16(dev.common, CC_QSELECT) = 0;
	GUEST_ASSERT_EQ(VG_QMAX, MMIO16(dev.common, CC_QSIZE));
	MMIO16(dev.common, CC_QSIZE) = VG_QSIZE;
	GUEST_ASSERT_EQ(VG_QSIZE, MMIO16(dev.common, CC_QSIZE));
	GUEST_ASSERT_EQ(0, MMIO16(dev.common, CC_QNOTIFY));
	vpci_queue_on(&dev, vg_desc, &vg_avail, &vg_used);
	vpci_set_status(&dev, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

GUEST_CODE
static void notify(void)
{
	MMIO16(dev.notify, 0) = 0;
}

/* Make chain @head available and notify. */
GUEST_CODE
static void submit(uint16_t head)
{
	vg_avail.ring[drv.avail_idx % VG_QSIZE] = head;
	asm volatile("" : : : "memory");
	vg_avail.idx = ++drv.avail_idx;
	asm volatile("mfence" : : : "memory");
	notify();
}

/* Wait for the device: 0 when the chain came back, -1 on NEEDS_RESET. */
GUEST_CODE
static int wait_used(void)
{
	for (uint64_t i = 0; i < POLL_LIMIT; i++) {
		if (vg_used.idx == drv.avail_idx)
			return 0;
		if (vpci_status(&dev) & S_NEEDS_RESET)
			return -1;
		asm volatile("pause");
	}
	GUEST_ASSERT(!"the device never answered");
	return -1;
}

/*
 * One virtio-blk request (5.2.6): header, data at @buf, status. With
 * @indirect the three descriptors sit in an indirect table.
 */
GUEST_CODE
static int blk_rq_at(uint32_t type, uint64_t sector, uint64_t buf,
		     uint32_t len, bool indirect)
{
	volatile struct desc *t = indirect ? vg_ind[0] : vg_desc;
	uint16_t data_flags = type == T_IN || type == T_GET_ID ? D_WRITE : 0;
	int n = 0;

	vg_hdr.type = type;
	vg_hdr.ioprio = 0;
	vg_hdr.sector = sector;
	vg_status = 0xff;
	vpci_set_desc(&t[n], (uint64_t)&vg_hdr, sizeof(vg_hdr), D_NEXT, n + 1);
	n++;
	if (len) {
		vpci_set_desc(&t[n], buf, len, data_flags | D_NEXT, n + 1);
		n++;
	}
	vpci_set_desc(&t[n], (uint64_t)&vg_status, 1, D_WRITE, 0);
	n++;
	if (indirect)
		vpci_set_desc(&vg_desc[0], (uint64_t)vg_ind[0], n * sizeof(*t),
			      D_INDIRECT, 0);
	submit(0);
	if (wait_used())
		return -1;
	GUEST_ASSERT_EQ(0, vg_used.ring[(drv.avail_idx - 1) % VG_QSIZE].id);
	return vg_status;
}

GUEST_CODE
static int blk_rq(uint32_t type, uint64_t sector, uint32_t len, bool indirect)
{
	return blk_rq_at(type, sector, (uint64_t)vg_buf, len, indirect);
}

GUEST_CODE
static void check_id(void)
{
	const char *s = VG_SERIAL;

	guest_memset((void *)vg_buf, 0, 32);
	GUEST_ASSERT_EQ(0, blk_rq(T_GET_ID, 0, 20, false));
	for (int i = 0; i < 20; i++)
		GUEST_ASSERT_EQ(s[i], vg_buf[i]);
	GUEST_ASSERT_EQ(21, vg_used.ring[(drv.avail_idx - 1) % VG_QSIZE].len);
}

/* Wait for DEVICE_NEEDS_RESET, then reset and check the device works. */
GUEST_CODE
static void wait_needs_reset(void)
{
	for (uint64_t i = 0; i < POLL_LIMIT; i++) {
		if (vpci_status(&dev) & S_NEEDS_RESET) {
			/* The ISR says "configuration changed" (INTx mode). */
			GUEST_ASSERT_EQ(2, MMIO8(dev.isr, 0) & 2);
			start(F_VERSION_1 | F_INDIRECT);
			check_id();
			return;
		}
		asm volatile("pause");
	}
	GUEST_ASSERT(!"no DEVICE_NEEDS_RESET");
}

/* The ISR once the worker set it (it does so after the used index). */
GUEST_CODE
static uint8_t wait_isr(void)
{
	uint8_t isr = 0;

	for (uint64_t i = 0; i < POLL_LIMIT && !isr; i++)
		isr = MMIO8(dev.isr, 0);
	return isr;
}

GUEST_CODE
static void negotiation(void)
{
	uint64_t f;

	/* Without VERSION_1, FEATURES_OK does not stick (no legacy). */
	vpci_set_status(&dev, 0);
	vpci_set_status(&dev, S_ACK | S_DRIVER);
	f = vpci_offered(&dev);
	vpci_accept(&dev, f & ~F_VERSION_1);
	vpci_set_status(&dev, S_ACK | S_DRIVER | S_FEATURES_OK);
	GUEST_ASSERT_EQ(0, vpci_status(&dev) & S_FEATURES_OK);
	/* Nor with a bit the device did not offer. */
	vpci_set_status(&dev, 0);
	vpci_set_status(&dev, S_ACK | S_DRIVER);
	vpci_accept(&dev, f | (1ull << 50));
	vpci_set_status(&dev, S_ACK | S_DRIVER | S_FEATURES_OK);
	GUEST_ASSERT_EQ(0, vpci_status(&dev) & S_FEATURES_OK);
}

GUEST_CODE
static void fill(uint8_t v, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		vg_buf[i] = v;
}

GUEST_CODE
static void check(uint8_t v, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		GUEST_ASSERT_EQ(v, vg_buf[i]);
}

/*
 * A read of two sectors through an indirect table as long as the queue
 * (the device reads it whole): the header, 14 buffers of 64 or 128 bytes
 * at descending offsets 128 bytes apart, the status. Each gets its bytes
 * and nothing around it changes.
 */
GUEST_CODE
static void ind_full(void)
{
	volatile struct desc *t = &vg_ind[0][0];	/* both halves: 16 */
	int k;

	fill(0x11, 2048);
	vg_hdr.type = T_IN;
	vg_hdr.ioprio = 0;
	vg_hdr.sector = VG_SECTOR_READ;
	vg_status = 0xff;
	vpci_set_desc(&t[0], (uint64_t)&vg_hdr, sizeof(vg_hdr), D_NEXT, 1);
	for (k = 0; k < 14; k++)
		vpci_set_desc(&t[1 + k], (uint64_t)&vg_buf[(13 - k) * 128],
			      k < 12 ? 64 : 128, D_WRITE | D_NEXT, 2 + k);
	vpci_set_desc(&t[15], (uint64_t)&vg_status, 1, D_WRITE, 0);
	vpci_set_desc(&vg_desc[0], (uint64_t)t, VG_QSIZE * sizeof(*t), D_INDIRECT, 0);
	submit(0);
	GUEST_ASSERT_EQ(0, wait_used());
	GUEST_ASSERT_EQ(0, vg_status);
	GUEST_ASSERT_EQ(1025, vg_used.ring[(drv.avail_idx - 1) % VG_QSIZE].len);
	for (k = 0; k < 14; k++)
		for (int i = 0; i < 128; i++)
			GUEST_ASSERT_EQ(i < (k < 12 ? 64 : 128) ? VG_PATTERN_R : 0x11,
					vg_buf[(13 - k) * 128 + i]);
	for (int i = 14 * 128; i < 2048; i++)
		GUEST_ASSERT_EQ(0x11, vg_buf[i]);
}

/*
 * A queue of the device's largest size, VG_QMAX (a size above it, or not
 * a power of two for a split ring, is refused: the field keeps its
 * value), and a read of 4 KiB through an indirect table as long: the
 * header, VG_QMAX - 2 buffers of 8 or 4 bytes at descending offsets, the
 * status, each buffer getting its bytes of the disk. Then a table one
 * descriptor longer than the queue breaks the rules.
 */
GUEST_CODE
static void ind_long(void)
{
	volatile struct desc *t = vl_ind;
	uint32_t off = 4096, pos = 0;
	uint64_t i;
	int k;

	vpci_set_status(&dev, 0);
	vpci_set_status(&dev, S_ACK);
	vpci_set_status(&dev, S_ACK | S_DRIVER);
	vpci_accept(&dev, vpci_offered(&dev) & (F_VERSION_1 | F_INDIRECT));
	vpci_set_status(&dev, S_ACK | S_DRIVER | S_FEATURES_OK);
	GUEST_ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK, vpci_status(&dev));
	guest_memset((void *)&vl_avail, 0, sizeof(vl_avail));
	guest_memset((void *)&vl_used, 0, sizeof(vl_used));
	MMIO16(dev.common, CC_QSELECT) = 0;
	GUEST_ASSERT_EQ(VG_QMAX, MMIO16(dev.common, CC_QSIZE));
	MMIO16(dev.common, CC_QSIZE) = 2 * VG_QMAX;
	GUEST_ASSERT_EQ(VG_QMAX, MMIO16(dev.common, CC_QSIZE));
	MMIO16(dev.common, CC_QSIZE) = VG_QMAX - 1;
	GUEST_ASSERT_EQ(VG_QMAX, MMIO16(dev.common, CC_QSIZE));
	vpci_queue_on(&dev, vl_desc, &vl_avail, &vl_used);
	vpci_set_status(&dev, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);

	fill(0x11, 4096);
	vg_hdr.type = T_IN;
	vg_hdr.ioprio = 0;
	vg_hdr.sector = VG_SECTOR_READ;
	vg_status = 0xff;
	vpci_set_desc(&t[0], (uint64_t)&vg_hdr, sizeof(vg_hdr), D_NEXT, 1);
	for (k = 0; k < VG_QMAX - 2; k++) {
		off -= k < 2 ? 8 : 4;
		vpci_set_desc(&t[1 + k], (uint64_t)&vg_buf[off], k < 2 ? 8 : 4,
			      D_WRITE | D_NEXT, 2 + k);
	}
	vpci_set_desc(&t[VG_QMAX - 1], (uint64_t)&vg_status, 1, D_WRITE, 0);
	vpci_set_desc(&vl_desc[0], (uint64_t)t, VG_QMAX * sizeof(*t), D_INDIRECT, 0);
	vl_avail.ring[0] = 0;
	asm volatile("" : : : "memory");
	vl_avail.idx = 1;
	asm volatile("mfence" : : : "memory");
	notify();
	for (i = 0; i < POLL_LIMIT && vl_used.idx != 1; i++)
		asm volatile("pause");
	GUEST_ASSERT_EQ(1, vl_used.idx);
	GUEST_ASSERT_EQ(0, vg_status);
	GUEST_ASSERT_EQ(0, vl_used.ring[0].id);
	GUEST_ASSERT_EQ(4097, vl_used.ring[0].len);
	/* The host put VG_PATTERN_R in the first 1024 bytes, zeroes after. */
	off = 4096;
	for (k = 0; k < VG_QMAX - 2; k++) {
		uint32_t len = k < 2 ? 8 : 4;

		off -= len;
		for (uint32_t j = 0; j < len; j++, pos++)
			GUEST_ASSERT_EQ(pos < 1024 ? VG_PATTERN_R : 0,
					vg_buf[off + j]);
	}

	/* One descriptor longer than the queue: NEEDS_RESET. */
	vpci_set_desc(&t[VG_QMAX - 1], (uint64_t)&vg_status, 1, D_WRITE | D_NEXT,
		      VG_QMAX);
	vpci_set_desc(&t[VG_QMAX], (uint64_t)&vg_status, 1, D_WRITE, 0);
	vpci_set_desc(&vl_desc[1], (uint64_t)t, (VG_QMAX + 1) * sizeof(*t),
		      D_INDIRECT, 0);
	vl_avail.ring[1] = 1;
	asm volatile("" : : : "memory");
	vl_avail.idx = 2;
	asm volatile("mfence" : : : "memory");
	notify();
	for (i = 0; i < POLL_LIMIT && !(vpci_status(&dev) & S_NEEDS_RESET); i++)
		asm volatile("pause");
	GUEST_ASSERT(vpci_status(&dev) & S_NEEDS_RESET);
	GUEST_ASSERT_EQ(1, vl_used.idx);
}

/*
 * A request whose data buffer is [@addr, @addr + @len), not all of it RAM:
 * the device refuses the chain (NEEDS_RESET) before it moves a byte, so
 * vg_buf, the status and the used ring stay as they were; then a reset
 * gives a working device.
 */
GUEST_CODE
static void bad_buf(uint32_t type, uint64_t sector, uint64_t addr, uint32_t len)
{
	uint16_t used = vg_used.idx;

	fill(0x11, sizeof(vg_buf));
	vg_hdr.type = type;
	vg_hdr.ioprio = 0;
	vg_hdr.sector = sector;
	vg_status = 0xff;
	vpci_set_desc(&vg_desc[0], (uint64_t)&vg_hdr, sizeof(vg_hdr), D_NEXT, 1);
	vpci_set_desc(&vg_desc[1], addr, len,
		      (type == T_OUT ? 0 : D_WRITE) | D_NEXT, 2);
	vpci_set_desc(&vg_desc[2], (uint64_t)&vg_status, 1, D_WRITE, 0);
	submit(0);
	GUEST_ASSERT_EQ(-1, wait_used());
	GUEST_ASSERT_EQ(0xff, vg_status);
	GUEST_ASSERT_EQ(used, vg_used.idx);
	check(0x11, sizeof(vg_buf));
	wait_needs_reset();
}

/* A buffer at claimed MMIO: neither written nor read by the device. */
GUEST_CODE
static void bad_mmio(volatile uint8_t *regs)
{
	start(F_VERSION_1);
	bad_buf(T_IN, VG_SECTOR_READ, (uint64_t)regs, 512);
	bad_buf(T_OUT, VG_SECTOR_WRITE, (uint64_t)regs, 512);
}

/*
 * Buffers past the end of RAM at @end: over it (hostile_on() sees its
 * last 512 bytes kept) and right at it.
 */
GUEST_CODE
static void past_end(uint64_t end)
{
	start(F_VERSION_1);
	bad_buf(T_IN, VG_SECTOR_READ, end - 512, 1024);
	bad_buf(T_OUT, VG_SECTOR_WRITE, end - 512, 1024);
	bad_buf(T_IN, VG_SECTOR_READ, end, 512);
}

/* One WRITE_ZEROES request of one segment: its status. */
GUEST_CODE
static int wz_rq(uint64_t sector, uint32_t num, uint32_t flags)
{
	vg_wz.sector = sector;
	vg_wz.num_sectors = num;
	vg_wz.flags = flags;
	return blk_rq_at(T_WRITE_ZEROES, 0, (uint64_t)&vg_wz, sizeof(vg_wz),
			 false);
}

/*
 * WRITE_ZEROES (5.2.6.2) on a writable file: offered with its limits,
 * both ranges zeroed (the host looks at the file), a flag the device
 * does not know refused, a range past the end an I/O error.
 */
GUEST_CODE
static void wz_file(void)
{
	GUEST_ASSERT(vpci_offered(&dev) & F_WZ);
	GUEST_ASSERT(vpci_offered(&dev) & F_DISCARD);
	start(F_VERSION_1 | F_WZ);
	GUEST_ASSERT_EQ(MAX_WZ_SECTORS, MMIO32(dev.device, CFG_WZ_SECTORS));
	GUEST_ASSERT_EQ(1, MMIO32(dev.device, CFG_WZ_SEG));
	GUEST_ASSERT_EQ(1, MMIO8(dev.device, CFG_WZ_UNMAP));
	GUEST_ASSERT_EQ(0, wz_rq(VG_SECTOR_WZ, VG_WZ_SECTORS, 0));
	GUEST_ASSERT_EQ(0, wz_rq(VG_SECTOR_UNMAP, VG_WZ_SECTORS, WZ_UNMAP));
	fill(0xff, 4096);
	GUEST_ASSERT_EQ(0, blk_rq(T_IN, VG_SECTOR_UNMAP - 4, 4096, false));
	check(0, 4096);
	GUEST_ASSERT_EQ(2, wz_rq(VG_SECTOR_WZ, 1, 2));
	GUEST_ASSERT_EQ(1, wz_rq(2047, 2, 0));
	GUEST_ASSERT_EQ(0, vpci_status(&dev) & S_NEEDS_RESET);
}

/*
 * A read-only disk offers neither DISCARD nor WRITE_ZEROES, and answers
 * a WRITE_ZEROES with UNSUPP (blk_request()); the data stays.
 */
GUEST_CODE
static void wz_read_only(void)
{
	GUEST_ASSERT(vpci_offered(&dev) & F_RO);
	GUEST_ASSERT_EQ(0, vpci_offered(&dev) & (F_WZ | F_DISCARD));
	start(F_VERSION_1 | F_RO);
	GUEST_ASSERT_EQ(2, wz_rq(VG_SECTOR_READ, 2, 0));
	GUEST_ASSERT_EQ(2, wz_rq(VG_SECTOR_READ, 2, WZ_UNMAP));
	fill(0, 1024);
	GUEST_ASSERT_EQ(0, blk_rq(T_IN, VG_SECTOR_READ, 1024, false));
	check(VG_PATTERN_R, 1024);
}

/*
 * Split ring EVENT_IDX (2.6.7.2): the first used chain interrupts, then
 * only the one that moves the used index past used_event, whatever the
 * driver's NO_INTERRUPT flag says (ignored with EVENT_IDX); an event
 * already passed asks for none. VG_EVIDX_IRQS in all, counted by the host.
 */
GUEST_CODE
static void event_idx(void)
{
	int i;

	start(F_VERSION_1 | F_EVENT_IDX);
	(void)MMIO8(dev.isr, 0);
	check_id();
	GUEST_ASSERT_EQ(1, wait_isr());
	/* Of the next three, only the third. */
	vg_avail.flags = 1;
	vg_avail.used_event = drv.avail_idx + 2;
	check_id();
	check_id();
	GUEST_ASSERT_EQ(0, MMIO8(dev.isr, 0));
	check_id();
	GUEST_ASSERT_EQ(1, wait_isr());
	/* Behind the used index: none. */
	vg_avail.flags = 0;
	vg_avail.used_event = drv.avail_idx - 1;
	for (i = 0; i < 3; i++)
		check_id();
	GUEST_ASSERT_EQ(0, MMIO8(dev.isr, 0));
	/* At it: the next one. */
	vg_avail.used_event = drv.avail_idx;
	check_id();
	GUEST_ASSERT_EQ(1, wait_isr());
	GUEST_ASSERT_EQ(VG_EVIDX_RQS, drv.avail_idx);
}

/* Packed ring driver (2.7): the same requests through a packed queue. */

/* Reset, negotiate @want with RING_PACKED, set up queue 0 and start. */
GUEST_CODE
static void p_start(uint64_t want)
{
	vpci_set_status(&dev, 0);
	GUEST_ASSERT_EQ(0, vpci_status(&dev));
	vpci_set_status(&dev, S_ACK);
	vpci_set_status(&dev, S_ACK | S_DRIVER);
	GUEST_ASSERT(vpci_offered(&dev) & F_PACKED);
	drv.features = vpci_offered(&dev) & (want | F_PACKED);
	vpci_accept(&dev, drv.features);
	vpci_set_status(&dev, S_ACK | S_DRIVER | S_FEATURES_OK);
	GUEST_ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK, vpci_status(&dev));

	guest_memset((void *)vg_pring, 0, sizeof(vg_pring));
	guest_memset((void *)&vg_drv_event, 0, sizeof(vg_drv_event));
	guest_memset((void *)&vg_dev_event, 0, sizeof(vg_dev_event));
	pq.next_avail = 0;
	pq.next_used = 0;
	pq.avail_wrap = true;
	pq.used_wrap = true;
	MMIO16(dev.common, CC_QSELECT) = 0;
	/* Packed: the size need not be a power of two. */
	MMIO16(dev.common, CC_QSIZE) = VG_PSIZE;
	GUEST_ASSERT_EQ(VG_PSIZE, MMIO16(dev.common, CC_QSIZE));
	vpci_queue_on(&dev, vg_pring, &vg_drv_event, &vg_dev_event);
	vpci_set_status(&dev, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* A position with its wrap counter, as in the event structures. */
GUEST_CODE
static uint16_t p_pos(uint16_t i, bool wrap)
{
	return i | (wrap ? EV_WRAP : 0);
}

struct pseg {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
};

/*
 * Make @n descriptors available as buffer @id (the caller sets NEXT), the
 * first one's flags last (2.7.13), and notify.
 */
GUEST_CODE
static void p_submit(const struct pseg *s, int n, uint16_t id)
{
	uint16_t first = pq.next_avail, first_flags = 0;

	for (int k = 0; k < n; k++) {
		volatile struct pdesc *d = &vg_pring[pq.next_avail];
		uint16_t f = s[k].flags | (pq.avail_wrap ? D_AVAIL : D_USED);

		d->addr = s[k].addr;
		d->len = s[k].len;
		d->id = id;
		if (k)
			d->flags = f;
		else
			first_flags = f;
		if (++pq.next_avail == VG_PSIZE) {
			pq.next_avail = 0;
			pq.avail_wrap = !pq.avail_wrap;
		}
	}
	if (id < VG_PSIZE)
		pq.ndesc[id] = n;
	asm volatile("" : : : "memory");
	vg_pring[first].flags = first_flags;
	asm volatile("mfence" : : : "memory");
	notify();
}

/*
 * Wait for the next used descriptor: its buffer ID (its length in
 * pq.len), skipping the chain's descriptors; -1 on NEEDS_RESET.
 */
GUEST_CODE
static int p_wait(void)
{
	for (uint64_t i = 0; i < POLL_LIMIT; i++) {
		uint16_t f = vg_pring[pq.next_used].flags, id;

		if (!!(f & D_USED) == pq.used_wrap &&
		    !!(f & D_AVAIL) == pq.used_wrap) {
			asm volatile("" : : : "memory");
			id = vg_pring[pq.next_used].id;
			GUEST_ASSERT(id < VG_PSIZE);
			pq.len = vg_pring[pq.next_used].len;
			/* WRITE says whether the device wrote (2.7.3). */
			GUEST_ASSERT_EQ(!!pq.len, !!(f & D_WRITE));
			pq.next_used += pq.ndesc[id];
			if (pq.next_used >= VG_PSIZE) {
				pq.next_used -= VG_PSIZE;
				pq.used_wrap = !pq.used_wrap;
			}
			return id;
		}
		if (vpci_status(&dev) & S_NEEDS_RESET)
			return -1;
		asm volatile("pause");
	}
	GUEST_ASSERT(!"the device never answered");
	return -1;
}

/*
 * One virtio-blk request as buffer @id: a chain of header, data and status
 * in the ring, or with @indirect one descriptor for an indirect table.
 * The used descriptor returns @id and the bytes written.
 */
GUEST_CODE
static int p_blk_rq(uint32_t type, uint64_t sector, uint32_t len,
		    bool indirect, uint16_t id)
{
	uint16_t data_flags = type == T_OUT ? 0 : D_WRITE;
	struct pseg s[3];
	int n = 0;

	vg_hdr.type = type;
	vg_hdr.ioprio = 0;
	vg_hdr.sector = sector;
	vg_status = 0xff;
	s[n++] = (struct pseg){ (uint64_t)&vg_hdr, sizeof(vg_hdr), D_NEXT };
	if (len)
		s[n++] = (struct pseg){ (uint64_t)vg_buf, len, data_flags | D_NEXT };
	s[n++] = (struct pseg){ (uint64_t)&vg_status, 1, D_WRITE };
	if (indirect) {
		for (int k = 0; k < n; k++) {
			vg_pind[k].addr = s[k].addr;
			vg_pind[k].len = s[k].len;
			vg_pind[k].id = 0;
			vg_pind[k].flags = s[k].flags & D_WRITE;
		}
		s[0] = (struct pseg){ (uint64_t)vg_pind, n * sizeof(vg_pind[0]),
				      D_INDIRECT };
		n = 1;
	}
	p_submit(s, n, id);
	if (p_wait() != id)
		return -1;
	GUEST_ASSERT_EQ(type == T_OUT || !len ? 1 : len + 1, pq.len);
	return vg_status;
}

GUEST_CODE
static void p_check_id(uint16_t id)
{
	const char *s = VG_SERIAL;

	guest_memset((void *)vg_buf, 0, 32);
	GUEST_ASSERT_EQ(0, p_blk_rq(T_GET_ID, 0, 20, false, id));
	for (int i = 0; i < 20; i++)
		GUEST_ASSERT_EQ(s[i], vg_buf[i]);
}

/*
 * DEVICE_NEEDS_RESET, then a packed ring works again after a reset. A
 * hostile chain that comes back used fails at once.
 */
GUEST_CODE
static void p_wait_needs_reset(void)
{
	for (uint64_t i = 0; i < POLL_LIMIT; i++) {
		GUEST_ASSERT(!(vg_pring[0].flags & D_USED));
		if (vpci_status(&dev) & S_NEEDS_RESET) {
			GUEST_ASSERT_EQ(2, MMIO8(dev.isr, 0) & 2);
			p_start(F_VERSION_1 | F_INDIRECT);
			p_check_id(3);
			fill(0, 512);
			GUEST_ASSERT_EQ(0, p_blk_rq(T_IN, VG_SECTOR_READ, 512,
						    true, 1));
			check(VG_PATTERN_R, 512);
			GUEST_ASSERT_EQ(0, vpci_status(&dev) & S_NEEDS_RESET);
			return;
		}
		asm volatile("pause");
	}
	GUEST_ASSERT(!"no DEVICE_NEEDS_RESET");
}

/*
 * I/O through a packed ring of 7 descriptors that wraps every few
 * requests, with chains and indirect tables; then the driver event
 * suppression structure (enable, disable, a descriptor with EVENT_IDX:
 * VG_PACKED_IRQS interrupts in all, counted by the host) and the device's
 * (the next descriptor it wants a notification for).
 */
GUEST_CODE
static void packed_io(void)
{
	uint16_t ev;

	p_start(F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | F_FLUSH);
	(void)MMIO8(dev.isr, 0);
	/* Events enabled (the structure is zero): one interrupt each. */
	p_check_id(6);
	GUEST_ASSERT_EQ(1, wait_isr());
	fill(VG_PATTERN_W, 512);
	GUEST_ASSERT_EQ(0, p_blk_rq(T_OUT, VG_SECTOR_WRITE, 512, false, 5));
	GUEST_ASSERT_EQ(1, wait_isr());
	GUEST_ASSERT_EQ(0, p_blk_rq(T_FLUSH, 0, 0, false, 0));
	GUEST_ASSERT_EQ(1, wait_isr());
	fill(0, 512);
	GUEST_ASSERT_EQ(0, p_blk_rq(T_IN, VG_SECTOR_WRITE, 512, true, 2));
	check(VG_PATTERN_W, 512);
	GUEST_ASSERT_EQ(1, wait_isr());
	/* 9 descriptors so far: the ring wrapped. */
	GUEST_ASSERT(!pq.avail_wrap && !pq.used_wrap);
	GUEST_ASSERT_EQ(2, pq.next_used);

	/* Disabled: no interrupt for 4 requests (and a second wrap). */
	vg_drv_event.flags = EV_DISABLE;
	for (int i = 0; i < 4; i++) {
		fill(0, 512);
		GUEST_ASSERT_EQ(0, p_blk_rq(T_IN, VG_SECTOR_READ, 512, i & 1,
					    i));
		check(VG_PATTERN_R, 512);
	}
	GUEST_ASSERT(pq.used_wrap);
	GUEST_ASSERT_EQ(3, pq.next_used);

	/*
	 * EVENT_IDX: an interrupt only for the used descriptor at the
	 * event's position: the second request's (after a chain of 3).
	 */
	ev = pq.next_used + 3;
	vg_drv_event.off_wrap = ev >= VG_PSIZE ?
		p_pos(ev - VG_PSIZE, !pq.used_wrap) : p_pos(ev, pq.used_wrap);
	asm volatile("" : : : "memory");
	vg_drv_event.flags = EV_DESC;
	GUEST_ASSERT_EQ(0, p_blk_rq(T_IN, VG_SECTOR_READ, 512, false, 4));
	GUEST_ASSERT_EQ(0, p_blk_rq(T_IN, VG_SECTOR_READ, 512, true, 1));
	GUEST_ASSERT_EQ(1, wait_isr());
	GUEST_ASSERT_EQ(0, p_blk_rq(T_IN, VG_SECTOR_READ, 512, false, 3));
	/*
	 * The device event structure: a notification is wanted for the
	 * next descriptor the driver makes available.
	 */
	for (uint64_t i = 0; i < POLL_LIMIT; i++)
		if (vg_dev_event.off_wrap == p_pos(pq.next_avail, pq.avail_wrap))
			break;
	GUEST_ASSERT_EQ(p_pos(pq.next_avail, pq.avail_wrap),
			vg_dev_event.off_wrap);
	GUEST_ASSERT_EQ(EV_DESC, vg_dev_event.flags);

	/* Enabled again: the last one interrupts. */
	vg_drv_event.flags = EV_ENABLE;
	p_check_id(0);
	GUEST_ASSERT_EQ(1, wait_isr());
	GUEST_ASSERT_EQ(0, vpci_status(&dev) & S_NEEDS_RESET);
}

/* Hostile packed rings: each ends in NEEDS_RESET, then works again. */
GUEST_CODE
static void p_hostile(enum vg_case c)
{
	struct pseg s[VG_PSIZE];

	p_start(F_VERSION_1 | F_INDIRECT);
	vg_hdr.type = T_IN;
	vg_hdr.sector = 0;
	s[0] = (struct pseg){ (uint64_t)&vg_hdr, sizeof(vg_hdr), D_NEXT };
	s[1] = (struct pseg){ (uint64_t)vg_buf, 512, D_WRITE | D_NEXT };
	s[2] = (struct pseg){ (uint64_t)&vg_status, 1, D_WRITE };
	switch (c) {
	case VG_P_LONG:
		/* Every descriptor of the ring, and NEXT on the last. */
		for (int k = 0; k < VG_PSIZE; k++)
			s[k] = (struct pseg){ (uint64_t)vg_buf, 16,
					      D_WRITE | D_NEXT };
		p_submit(s, VG_PSIZE, 0);
		break;
	case VG_P_ID:
		p_submit(s, 3, VG_PSIZE);
		break;
	case VG_P_INDNEXT:
		for (int k = 0; k < 3; k++) {
			vg_pind[k].addr = s[k].addr;
			vg_pind[k].len = s[k].len;
			vg_pind[k].flags = s[k].flags;	/* NEXT kept */
		}
		s[0] = (struct pseg){ (uint64_t)vg_pind, 3 * sizeof(vg_pind[0]),
				      D_INDIRECT };
		p_submit(s, 1, 0);
		break;
	default:
		s[1].addr = 0xfee00000;
		p_submit(s, 3, 0);
		break;
	}
	p_wait_needs_reset();
}

/*
 * A packed ring that wrapped, and a write made available and notified, not
 * waited for, at the save; restored, the request is answered and the
 * device goes on.
 */
GUEST_CODE
static void packed_state(void)
{
	struct pseg s[3];

	p_start(F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | F_FLUSH);
	p_check_id(6);
	fill(VG_PATTERN_W, 512);
	GUEST_ASSERT_EQ(0, p_blk_rq(T_OUT, VG_SECTOR_WRITE, 512, false, 5));
	GUEST_ASSERT_EQ(0, p_blk_rq(T_FLUSH, 0, 0, false, 0));
	fill(VG_PATTERN_S, VG_STATE_LEN);
	vg_hdr.type = T_OUT;
	vg_hdr.sector = VG_SECTOR_STATE;
	vg_status = 0xff;
	s[0] = (struct pseg){ (uint64_t)&vg_hdr, sizeof(vg_hdr), D_NEXT };
	s[1] = (struct pseg){ (uint64_t)vg_buf, VG_STATE_LEN, D_NEXT };
	s[2] = (struct pseg){ (uint64_t)&vg_status, 1, D_WRITE };
	p_submit(s, 3, 4);
	GUEST_SYNC(1);
	GUEST_ASSERT_EQ(4, p_wait());
	GUEST_ASSERT_EQ(0, vg_status);
	fill(0, VG_STATE_LEN);
	GUEST_ASSERT_EQ(0, p_blk_rq(T_IN, VG_SECTOR_STATE, VG_STATE_LEN, true, 2));
	check(VG_PATTERN_S, VG_STATE_LEN);
	p_check_id(1);
}

GUEST_CODE
static void guest_virtio(uint64_t arg)
{
	uint64_t f;

	find((arg >> 8) & 0xff);
	switch (arg & 0xff) {
	case VG_BASIC:
		negotiation();
		start(F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | F_FLUSH);
		GUEST_ASSERT_EQ(0, vpci_offered(&dev) & F_RO);
		/* Capacity (config offset 0): 1 MiB = 2048 sectors. */
		GUEST_ASSERT_EQ(2048, MMIO64(dev.device, 0));
		check_id();
		fill(0, 1024);
		GUEST_ASSERT_EQ(0, blk_rq(T_IN, VG_SECTOR_READ, 1024, false));
		check(VG_PATTERN_R, 1024);
		fill(VG_PATTERN_W, 512);
		GUEST_ASSERT_EQ(0, blk_rq(T_OUT, VG_SECTOR_WRITE, 512, false));
		GUEST_ASSERT_EQ(0, blk_rq(T_FLUSH, 0, 0, false));
		/* Beyond the end: an I/O error, not a device error. */
		GUEST_ASSERT_EQ(1, blk_rq(T_IN, 2048, 512, false));
		/* Unknown request type: unsupported. */
		GUEST_ASSERT_EQ(2, blk_rq(99, 0, 0, false));
		GUEST_ASSERT_EQ(0, vpci_status(&dev) & S_NEEDS_RESET);
		break;
	case VG_RO:
		f = vpci_offered(&dev);
		GUEST_ASSERT(f & F_RO);
		start(F_VERSION_1 | F_RO);
		check_id();
		fill(VG_PATTERN_W, 512);
		GUEST_ASSERT_EQ(1, blk_rq(T_OUT, VG_SECTOR_WRITE, 512, false));
		GUEST_ASSERT_EQ(0, blk_rq(T_IN, VG_SECTOR_READ, 512, false));
		check(VG_PATTERN_R, 512);
		break;
	case VG_INDIRECT:
		start(F_VERSION_1 | F_INDIRECT);
		/* Without EVENT_IDX and with interrupts on: ISR bit 0. */
		(void)MMIO8(dev.isr, 0);
		fill(0, 512);
		GUEST_ASSERT_EQ(0, blk_rq(T_IN, VG_SECTOR_READ, 512, true));
		check(VG_PATTERN_R, 512);
		GUEST_ASSERT_EQ(1, wait_isr());
		GUEST_ASSERT_EQ(0, MMIO8(dev.isr, 0));	/* read clears it */
		fill(VG_PATTERN_W, 512);
		GUEST_ASSERT_EQ(0, blk_rq(T_OUT, VG_SECTOR_WRITE, 512, true));
		ind_full();
		ind_long();
		break;
	case VG_STORM:
		start(F_VERSION_1);
		for (int i = 0; i < 20000; i++)
			notify();
		/* A queue that does not exist. */
		for (int i = 0; i < 100; i++)
			MMIO16(dev.notify, 12) = 3;
		check_id();
		GUEST_ASSERT_EQ(0, vpci_status(&dev) & S_NEEDS_RESET);
		break;
	case VG_LOOP:
		start(F_VERSION_1);
		vpci_set_desc(&vg_desc[0], (uint64_t)&vg_hdr, 16, D_NEXT, 1);
		vpci_set_desc(&vg_desc[1], (uint64_t)vg_buf, 512, D_NEXT, 0);
		submit(0);
		wait_needs_reset();
		break;
	case VG_OUTSIDE:
	case VG_APIC:
		start(F_VERSION_1);
		bad_buf(T_IN, 0, (arg & 0xff) == VG_APIC ? 0xfee00000 : GPA_MMIO,
			512);
		break;
	case VG_BAR:
		/* The device's own registers, where the guest put them. */
		bad_mmio(dev.device);
		GUEST_ASSERT_EQ(2048, MMIO64(dev.device, 0));
		bad_mmio(dev.common);
		break;
	case VG_IOAPIC: {
		volatile uint8_t *io = (volatile uint8_t *)IOAPIC_GPA;
		uint32_t ver;

		MMIO32(io, 0) = 1;	/* IOREGSEL: the version register */
		ver = MMIO32(io, IOAPIC_WIN);
		bad_mmio(io);
		GUEST_ASSERT_EQ(1, MMIO32(io, 0));
		GUEST_ASSERT_EQ(ver, MMIO32(io, IOAPIC_WIN));
		break;
	}
	case VG_HUGE:
		start(F_VERSION_1);
		bad_buf(T_IN, VG_SECTOR_READ, (uint64_t)vg_buf, 0xffffffff);
		bad_buf(T_OUT, VG_SECTOR_WRITE, (uint64_t)vg_buf, 0xffffffff);
		/* The address plus the length wraps around. */
		bad_buf(T_IN, VG_SECTOR_READ, -512ull, 1024);
		break;
	case VG_PAST_END:
		past_end(VG_ARG_END(arg));
		break;
	case VG_WZ:
		wz_file();
		break;
	case VG_WZ_RO:
		wz_read_only();
		break;
	case VG_EVIDX:
		event_idx();
		break;
	case VG_JUMP:
		start(F_VERSION_1);
		drv.avail_idx += 100;
		submit(0);
		wait_needs_reset();
		break;
	case VG_NESTED:
		start(F_VERSION_1 | F_INDIRECT);
		vpci_set_desc(&vg_ind[0][0], (uint64_t)vg_ind[1], 16, D_INDIRECT, 0);
		vpci_set_desc(&vg_ind[1][0], (uint64_t)&vg_status, 1, D_WRITE, 0);
		vpci_set_desc(&vg_desc[0], (uint64_t)vg_ind[0], 16, D_INDIRECT, 0);
		submit(0);
		wait_needs_reset();
		break;
	case VG_NEXT:
		start(F_VERSION_1);
		vpci_set_desc(&vg_desc[0], (uint64_t)&vg_hdr, 16, D_NEXT, VG_QSIZE);
		submit(0);
		wait_needs_reset();
		break;
	case VG_STATE:
		start(F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | F_FLUSH);
		check_id();
		fill(VG_PATTERN_W, 512);
		GUEST_ASSERT_EQ(0, blk_rq(T_OUT, VG_SECTOR_WRITE, 512, false));
		/* A write made available and notified, not waited for. */
		fill(VG_PATTERN_S, VG_STATE_LEN);
		vg_hdr.type = T_OUT;
		vg_hdr.sector = VG_SECTOR_STATE;
		vg_status = 0xff;
		vpci_set_desc(&vg_desc[0], (uint64_t)&vg_hdr, sizeof(vg_hdr), D_NEXT, 1);
		vpci_set_desc(&vg_desc[1], (uint64_t)vg_buf, VG_STATE_LEN, D_NEXT, 2);
		vpci_set_desc(&vg_desc[2], (uint64_t)&vg_status, 1, D_WRITE, 0);
		submit(0);
		GUEST_SYNC(1);
		/* Restored: the request was answered, the device goes on. */
		GUEST_ASSERT_EQ(0, wait_used());
		GUEST_ASSERT_EQ(0, vg_status);
		fill(0, VG_STATE_LEN);
		GUEST_ASSERT_EQ(0, blk_rq(T_IN, VG_SECTOR_STATE, VG_STATE_LEN, true));
		check(VG_PATTERN_S, VG_STATE_LEN);
		check_id();
		break;
	case VG_PACKED:
		packed_io();
		break;
	case VG_P_STATE:
		packed_state();
		break;
	case VG_P_LONG:
	case VG_P_ID:
	case VG_P_INDNEXT:
	case VG_P_APIC:
		p_hostile(arg & 0xff);
		break;
	case VG_SPLIT:
		start(F_VERSION_1);
		/* One descriptor over three slots, read into and written. */
		GUEST_ASSERT_EQ(0, blk_rq_at(T_IN, VG_SECTOR_SPLIT_R,
					     VG_SPLIT_BUF, VG_SPLIT_LEN, false));
		GUEST_SYNC(1);
		GUEST_ASSERT_EQ(0, blk_rq_at(T_OUT, VG_SECTOR_SPLIT_W,
					     VG_SPLIT_BUF, VG_SPLIT_LEN, false));
		/* Read-only memory: written to the disk, never read into. */
		GUEST_ASSERT_EQ(0, blk_rq_at(T_OUT, VG_SECTOR_ROM, VG_SPLIT_ROM,
					     4096, false));
		GUEST_ASSERT_EQ(-1, blk_rq_at(T_IN, VG_SECTOR_SPLIT_R,
					      VG_SPLIT_ROM, 4096, false));
		wait_needs_reset();
		break;
	case VG_IO_LOOP:
		start(F_VERSION_1 | F_FLUSH);
		GUEST_SYNC(1);
		fill(VG_PATTERN_W, 4096);
		for (;;) {
			GUEST_ASSERT_EQ(0, blk_rq(T_OUT, 0, 4096, false));
			GUEST_ASSERT_EQ(0, blk_rq(T_FLUSH, 0, 0, false));
		}
	}
	GUEST_DONE();
}

/* Host code. */

#define DEVFN(slot)	((slot) << 3)
#define BAR_A		0xe0000000ull
#define BAR_B		0xe0004000ull
#define DISK_BYTES	(1 << 20)	/* VG_BASIC checks the capacity */
#define GSI		11

/* A 1 MiB disk image, unlinked, with VG_PATTERN_R at VG_SECTOR_READ. */
static int disk(int flags)
{
	const char *dir = getenv("TMPDIR") ?: P_tmpdir;
	char path[256], buf[1024];
	int fd, ro;

	snprintf(path, sizeof(path), "%s/hvx-virtio-XXXXXX", dir);
	fd = mkstemp(path);
	LIB_ASSERT(fd >= 0, "mkstemp(%s): %m", path);
	LIB_ASSERT(!ftruncate(fd, DISK_BYTES), "ftruncate: %m");
	memset(buf, VG_PATTERN_R, sizeof(buf));
	LIB_ASSERT(pwrite(fd, buf, sizeof(buf), VG_SECTOR_READ * 512) ==
		   sizeof(buf), "pwrite: %m");
	if (flags == O_RDWR) {
		unlink(path);
		return fd;
	}
	ro = open(path, flags);
	LIB_ASSERT(ro >= 0, "open(%s): %m", path);
	unlink(path);
	close(fd);
	return ro;
}

/* A VM with the in-kernel @devices (HVX_PLATFORM_*). */
static struct vm *platform_vm(uint32_t devices)
{
	struct hvx_platform_config c = { .devices = devices };
	struct vm *vm = vm_create();

	LIB_ASSERT(!ioctl(vm->fd, HVX_CREATE_PLATFORM, &c),
		   "HVX_CREATE_PLATFORM: %m");
	return vm;
}

static struct vm *pci_vm(void)
{
	return platform_vm(HVX_PLATFORM_PCI);
}

static void blk_arg(struct hvx_virtio_device *a, int fd, int slot,
		    uint64_t bar, uint32_t flags)
{
	memset(a, 0, sizeof(*a));
	a->type = HVX_VIRTIO_BLK;
	a->flags = flags;
	a->fd = fd;
	a->devfn = DEVFN(slot);
	a->gsi = GSI;
	a->bar = bar;
	memcpy(a->serial, VG_SERIAL, sizeof(a->serial));
}

static int create_blk(struct vm *vm, int fd, int slot, uint64_t bar,
		      uint32_t flags)
{
	struct hvx_virtio_device a;

	blk_arg(&a, fd, slot, bar, flags);
	return ioctl(vm->fd, HVX_CREATE_VIRTIO, &a);
}

/* Kernel threads named hvx-virtio-* (the workers) that exist now. */
static int workers(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	LIB_ASSERT(d, "/proc: %m");
	while ((e = readdir(d))) {
		char path[300], comm[32] = "";

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (!read_str(path, comm, sizeof(comm)) &&
		    !strncmp(comm, "hvx-virtio", 10))
			n++;
	}
	closedir(d);
	return n;
}

/*
 * No worker left once the VM is gone (its vCPUs freed first: each holds
 * the VM). After a kill -9 the fds close during the exit, so wait up to
 * 5 s.
 */
static bool workers_gone(void)
{
	for (int i = 0; i < 500 && workers(); i++)
		msleep(10);
	return !workers();
}

/* Run the guest on @vcpu (new if NULL) until GUEST_DONE. */
static struct vcpu *run_guest(struct vm *vm, struct vcpu *vcpu, uint64_t arg)
{
	if (!vcpu)
		vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_virtio, arg);
	vcpu_run_done(vcpu);
	return vcpu;
}

/* The write sector holds VG_PATTERN_W, the sector after it zeroes. */
static bool written(int fd)
{
	uint8_t buf[1024];

	if (pread(fd, buf, sizeof(buf), VG_SECTOR_WRITE * 512) != sizeof(buf))
		return false;
	for (int i = 0; i < 1024; i++)
		if (buf[i] != (i < 512 ? VG_PATTERN_W : 0))
			return false;
	return true;
}

TEST(basic)
{
	const struct hvx_virtio_stats *st;
	struct hvx_nl_vm info;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	fd = disk(O_RDWR);
	vm = pci_vm();
	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, 0)) TH_LOG("%m");
	ASSERT_EQ(1, workers());
	vcpu = run_guest(vm, NULL, VG_ARG(VG_BASIC, DEVFN(3)));
	ASSERT_TRUE(written(fd)) TH_LOG("the guest's write is not in the file");

	/* The device's counters over netlink (HVX_A_VIRTIO_STATS). */
	ASSERT_EQ(0, hvx_nl_open(&nl));
	ASSERT_EQ(0, hvx_nl_get_vm(&nl, hvx_nl_own_vm_id(&nl), &info));
	hvx_nl_close(&nl);
	ASSERT_EQ(1, info.nr_virtio);
	st = &info.virtio[0];
	ASSERT_EQ(HVX_VIRTIO_BLK, st->type);
	ASSERT_EQ(DEVFN(3), st->devfn);
	/* GET_ID, read, write, flush, read beyond the end, unknown type. */
	ASSERT_EQ(6, st->requests);
	ASSERT_EQ(1024 + 512, st->bytes);
	ASSERT_LE(6, st->notifications);
	ASSERT_LE(1, st->interrupts);
	ASSERT_EQ(2, st->errors);
	vcpu_free(vcpu);
	vm_free(vm);
	ASSERT_TRUE(workers_gone()) TH_LOG("a worker outlived its VM");
	close(fd);
}

TEST(read_only)
{
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	fd = disk(O_RDONLY);
	vm = pci_vm();
	ASSERT_ERRNO(EPERM, create_blk(vm, fd, 3, BAR_A, 0));
	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, HVX_VIRTIO_RO)) TH_LOG("%m");
	vcpu_free(run_guest(vm, NULL, VG_ARG(VG_RO, DEVFN(3))));
	ASSERT_FALSE(written(fd));
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	close(fd);
}

TEST(two_disks)
{
	struct vcpu *vcpu;
	struct vm *vm;
	int a, b;

	REQUIRE_VMX();
	a = disk(O_RDWR);
	b = disk(O_RDWR);
	vm = pci_vm();
	ASSERT_EQ(0, create_blk(vm, a, 3, BAR_A, 0)) TH_LOG("%m");
	ASSERT_EQ(0, create_blk(vm, b, 4, BAR_B, 0)) TH_LOG("%m");
	ASSERT_EQ(2, workers());
	vcpu = run_guest(vm, NULL, VG_ARG(VG_BASIC, DEVFN(4)));
	ASSERT_TRUE(written(b));
	ASSERT_FALSE(written(a));
	/* Indirect tables, and the ISR, on the first disk. */
	run_guest(vm, vcpu, VG_ARG(VG_INDIRECT, DEVFN(3)));
	ASSERT_TRUE(written(a));
	vcpu_free(vcpu);
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	close(a);
	close(b);
}

/* Bit i set for page i of @slot written since the last look. */
static uint64_t dirty_pages(struct vm *vm, uint32_t slot)
{
	struct hvx_dirty_log d = { .slot = slot };
	uint64_t bm = 0;

	d.dirty_bitmap = (uint64_t)&bm;
	LIB_ASSERT(!ioctl(vm->fd, HVX_GET_DIRTY_LOG, &d), "HVX_GET_DIRTY_LOG: %m");
	return bm;
}

/*
 * Requests whose data lies in several slots: a read into a buffer over
 * three of them (their host memory apart, then adjacent) lands where
 * each slot's memory is and logs exactly the pages written; a write from
 * it and from read-only memory reaches the disk and logs nothing; a read
 * into read-only memory stops the queue and leaves that memory as it was.
 */
TEST(split_slots)
{
	uint8_t want[VG_SPLIT_LEN], got[VG_SPLIT_LEN];
	struct vcpu *vcpu;
	uint8_t *m, *rom;
	struct vm *vm;
	int fd, i;

	REQUIRE_VMX();
	fd = disk(O_RDWR);
	for (i = 0; i < VG_SPLIT_LEN; i++)
		want[i] = i * 7 + i / 4096;
	ASSERT_EQ(VG_SPLIT_LEN, pwrite(fd, want, VG_SPLIT_LEN,
				       VG_SECTOR_SPLIT_R * 512));
	/* Slot 2 at m, slot 3 at m + 16 KiB, slot 4 right after it. */
	m = mmap(NULL, 0x8000, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rom = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_NE(MAP_FAILED, rom);
	memset(m, 0xee, 0x8000);
	memset(rom, 0xa5, 0x2000);
	vm = pci_vm();
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 2, HVX_MEM_LOG_DIRTY,
					    VG_SPLIT_GPA, 0x2000, m));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 3, HVX_MEM_LOG_DIRTY,
					    VG_SPLIT_GPA + 0x2000, 0x2000,
					    m + 0x4000));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 4, HVX_MEM_LOG_DIRTY,
					    VG_SPLIT_GPA + 0x4000, 0x2000,
					    m + 0x6000));
	ASSERT_EQ(0, __vm_set_memory_region(vm->fd, 5, HVX_MEM_READONLY,
					    VG_SPLIT_GPA + 0x6000, 0x2000, rom));
	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, 0)) TH_LOG("%m");
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_virtio, VG_ARG(VG_SPLIT, DEVFN(3)));
	ASSERT_EQ(1, vcpu_run_sync(vcpu));

	/* The read: the second page of slot 2, all of 3, the first of 4. */
	ASSERT_EQ(0, memcmp(m + 0x1000, want, 0x1000));
	ASSERT_EQ(0, memcmp(m + 0x4000, want + 0x1000, 0x3000));
	for (i = 0; i < 0x1000; i++) {
		ASSERT_EQ(0xee, m[i]);
		ASSERT_EQ(0xee, m[0x7000 + i]);
	}
	ASSERT_EQ(2, dirty_pages(vm, 2));
	ASSERT_EQ(3, dirty_pages(vm, 3));
	ASSERT_EQ(1, dirty_pages(vm, 4));

	vcpu_run_done(vcpu);
	ASSERT_EQ(VG_SPLIT_LEN, pread(fd, got, VG_SPLIT_LEN,
				      VG_SECTOR_SPLIT_W * 512));
	ASSERT_EQ(0, memcmp(want, got, VG_SPLIT_LEN));
	ASSERT_EQ(4096, pread(fd, got, 4096, VG_SECTOR_ROM * 512));
	for (i = 0; i < 0x2000; i++) {
		if (i < 4096)
			ASSERT_EQ(0xa5, got[i]);
		ASSERT_EQ(0xa5, rom[i]);
	}
	/* The device read them: not written. */
	ASSERT_EQ(0, dirty_pages(vm, 2));
	ASSERT_EQ(0, dirty_pages(vm, 3));
	ASSERT_EQ(0, dirty_pages(vm, 4));
	vcpu_free(vcpu);
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	munmap(m, 0x8000);
	munmap(rom, 0x2000);
	close(fd);
}

/* @len bytes of @fd at sector @sector are all @v. */
static bool all_at(int fd, uint64_t sector, size_t len, uint8_t v)
{
	uint8_t buf[4096];

	for (size_t off = 0; off < len; off += sizeof(buf)) {
		size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);

		if (pread(fd, buf, n, sector * 512 + off) != (ssize_t)n)
			return false;
		for (size_t i = 0; i < n; i++)
			if (buf[i] != v)
				return false;
	}
	return true;
}

/*
 * A hostile case must end in NEEDS_RESET, then work after a reset; none
 * writes to the disk, nor to the last bytes of RAM (where the binary
 * does not reach). The VM has the in-kernel @devices.
 */
static void hostile_on(struct __test_metadata *_metadata, enum vg_case c,
		       uint32_t devices)
{
	extern char _end[];
	uint8_t *tail;
	struct vm *vm;
	bool watch;
	int fd;

	fd = disk(O_RDWR);
	vm = platform_vm(devices);
	tail = vm->ram + vm->ram_size - 512;
	watch = (uintptr_t)_end <= vm->ram_size - 512;
	if (watch)
		memset(tail, 0x22, 512);
	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, 0)) TH_LOG("%m");
	vcpu_free(run_guest(vm, NULL, VG_ARG(c, DEVFN(3)) | vm->ram_size << 16));
	for (int i = 0; watch && i < 512; i++)
		ASSERT_EQ(0x22, tail[i]);
	ASSERT_TRUE(all_at(fd, VG_SECTOR_WRITE, 512, 0));
	ASSERT_TRUE(all_at(fd, VG_SECTOR_READ, 1024, VG_PATTERN_R));
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	close(fd);
}

static void hostile(struct __test_metadata *_metadata, enum vg_case c)
{
	hostile_on(_metadata, c, HVX_PLATFORM_PCI);
}

TEST(notify_storm)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_STORM);
}

TEST(hostile_loop)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_LOOP);
}

TEST(hostile_outside_ram)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_OUTSIDE);
}

TEST(hostile_apic_page)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_APIC);
}

TEST(hostile_index_jump)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_JUMP);
}

TEST(hostile_nested_indirect)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_NESTED);
}

TEST(hostile_next_out_of_table)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_NEXT);
}

/* Buffers at the device's own BAR, as the guest programmed it. */
TEST(hostile_own_bar)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_BAR);
}

/* Buffers at the I/O APIC, claimed by an in-kernel device. */
TEST(hostile_ioapic_page)
{
	REQUIRE_VMX();
	hostile_on(_metadata, VG_IOAPIC, HVX_PLATFORM_PCI | HVX_PLATFORM_IOAPIC);
}

TEST(hostile_huge_length)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_HUGE);
}

TEST(hostile_past_ram_end)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_PAST_END);
}

/* The statistics of the VM's only virtio device, over netlink. */
static void virtio_stats(struct hvx_virtio_stats *st)
{
	struct hvx_nl_vm info;
	struct hvx_nl nl;

	LIB_ASSERT(!hvx_nl_open(&nl), "hvx_nl_open");
	LIB_ASSERT(!hvx_nl_get_vm(&nl, hvx_nl_own_vm_id(&nl), &info),
		   "hvx_nl_get_vm");
	hvx_nl_close(&nl);
	LIB_ASSERT(info.nr_virtio == 1, "%u virtio devices", info.nr_virtio);
	*st = info.virtio[0];
}

static long long file_blocks(int fd)
{
	struct stat st;

	LIB_ASSERT(!fstat(fd, &st), "fstat: %m");
	return st.st_blocks;
}

/*
 * Does punching a hole free the file's blocks here? Tried on the last
 * 64 KiB of the disk, written first. tmpfs, ext4 and xfs do.
 */
static bool punch_frees(int fd)
{
	off_t off = DISK_BYTES - 65536;
	uint8_t buf[65536];
	long long before;

	memset(buf, 0xee, sizeof(buf));
	if (pwrite(fd, buf, sizeof(buf), off) != sizeof(buf) || fsync(fd))
		return false;
	before = file_blocks(fd);
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, off,
		      sizeof(buf)))
		return false;
	return file_blocks(fd) <= before - 128;
}

/*
 * One disk 00:03.0 on @fd (HVX_VIRTIO_* @flags) in a new VM, the guest run
 * with @arg to its end; the device's statistics in *@st. Returns the VM.
 */
static struct vm *blk_run_stats(struct __test_metadata *_metadata, int fd,
				uint32_t flags, uint64_t arg,
				struct hvx_virtio_stats *st)
{
	struct vm *vm = pci_vm();

	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, flags)) TH_LOG("%m");
	vcpu_free(run_guest(vm, NULL, arg));
	virtio_stats(st);
	return vm;
}

/* The VM and the disk go; no worker stays behind. */
static void blk_end(struct __test_metadata *_metadata, struct vm *vm, int fd)
{
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	close(fd);
}

/*
 * WRITE_ZEROES without and with UNMAP on a file: both ranges read back
 * as zeroes, the sectors either side keep their data, the size stays,
 * and with UNMAP the blocks are freed where the file system punches
 * holes (the device punches for UNMAP, and when it cannot zero a range).
 */
TEST(write_zeroes)
{
	uint8_t buf[(2 * VG_WZ_SECTORS + 2) * 512];
	struct hvx_virtio_stats st;
	long long before, after;
	struct vm *vm;
	bool punch;
	int fd;

	REQUIRE_VMX();
	fd = disk(O_RDWR);
	punch = punch_frees(fd);
	memset(buf, 0xee, sizeof(buf));
	ASSERT_EQ(sizeof(buf), pwrite(fd, buf, sizeof(buf),
				      (VG_SECTOR_WZ - 1) * 512));
	ASSERT_EQ(0, fsync(fd));
	before = file_blocks(fd);
	vm = blk_run_stats(_metadata, fd, 0, VG_ARG(VG_WZ, DEVFN(3)), &st);
	ASSERT_TRUE(all_at(fd, VG_SECTOR_WZ, 2 * VG_WZ_SECTORS * 512, 0));
	ASSERT_TRUE(all_at(fd, VG_SECTOR_WZ - 1, 512, 0xee));
	ASSERT_TRUE(all_at(fd, VG_SECTOR_UNMAP + VG_WZ_SECTORS, 512, 0xee));
	ASSERT_TRUE(all_at(fd, VG_SECTOR_READ, 1024, VG_PATTERN_R));
	ASSERT_EQ(DISK_BYTES, lseek(fd, 0, SEEK_END));
	after = file_blocks(fd);
	if (punch) {
		ASSERT_LE(VG_WZ_SECTORS, before - after)
			TH_LOG("UNMAP freed %lld of 128 blocks", before - after);
	} else {
		TH_LOG("punching keeps the blocks on this file system: st_blocks %lld -> %lld not checked",
		       before, after);
	}
	/* Two zeroed, one read, a flag unknown, a range past the end. */
	ASSERT_EQ(5, st.requests);
	ASSERT_EQ(2, st.errors);
	blk_end(_metadata, vm, fd);
}

TEST(write_zeroes_read_only)
{
	struct hvx_virtio_stats st;
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	fd = disk(O_RDONLY);
	vm = blk_run_stats(_metadata, fd, HVX_VIRTIO_RO,
			   VG_ARG(VG_WZ_RO, DEVFN(3)), &st);
	ASSERT_TRUE(all_at(fd, VG_SECTOR_READ, 1024, VG_PATTERN_R));
	ASSERT_EQ(3, st.requests);
	ASSERT_EQ(2, st.errors);
	blk_end(_metadata, vm, fd);
}

/*
 * Split ring EVENT_IDX: the device sent exactly the interrupts used_event
 * asked for.
 */
TEST(split_event_idx)
{
	struct hvx_virtio_stats st;
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	fd = disk(O_RDWR);
	vm = blk_run_stats(_metadata, fd, 0, VG_ARG(VG_EVIDX, DEVFN(3)), &st);
	ASSERT_EQ(VG_EVIDX_RQS, st.requests);
	ASSERT_EQ(0, st.errors);
	ASSERT_EQ(VG_EVIDX_IRQS, st.interrupts);
	blk_end(_metadata, vm, fd);
}

/*
 * A packed ring: the write lands in the file, and the device sent the
 * interrupts the driver's event suppression asked for, no more.
 */
TEST(packed_ring)
{
	const struct hvx_virtio_stats *st;
	struct hvx_nl_vm info;
	struct hvx_nl nl;
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	fd = disk(O_RDWR);
	vm = pci_vm();
	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, 0)) TH_LOG("%m");
	vcpu_free(run_guest(vm, NULL, VG_ARG(VG_PACKED, DEVFN(3))));
	ASSERT_TRUE(written(fd)) TH_LOG("the guest's write is not in the file");
	ASSERT_EQ(0, hvx_nl_open(&nl));
	ASSERT_EQ(0, hvx_nl_get_vm(&nl, hvx_nl_own_vm_id(&nl), &info));
	hvx_nl_close(&nl);
	ASSERT_EQ(1, info.nr_virtio);
	st = &info.virtio[0];
	ASSERT_EQ(12, st->requests);
	ASSERT_EQ(0, st->errors);
	ASSERT_EQ(VG_PACKED_IRQS, st->interrupts);
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	close(fd);
}

TEST(packed_hostile_long_chain)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_P_LONG);
}

TEST(packed_hostile_id)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_P_ID);
}

TEST(packed_hostile_indirect_next)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_P_INDNEXT);
}

TEST(packed_hostile_apic_page)
{
	REQUIRE_VMX();
	hostile(_metadata, VG_P_APIC);
}

TEST(errors)
{
	struct hvx_virtio_device a;
	int fd, ro, wo, efd, dir;
	struct vm *vm;

	REQUIRE_VMX();
	fd = disk(O_RDWR);
	ro = disk(O_RDONLY);
	wo = disk(O_WRONLY);
	efd = eventfd(0, 0);
	dir = open(".", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, efd);
	ASSERT_LE(0, dir);

	vm = vm_create();
	ASSERT_ERRNO(ENODEV, create_blk(vm, fd, 3, BAR_A, 0));
	vm_free(vm);

	vm = pci_vm();
	blk_arg(&a, fd, 3, BAR_A, 0);
	a.type = 0;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	a.type = HVX_VIRTIO_NET;	/* with a disk's serial */
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 3, BAR_A, 1u << 1);
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 3, BAR_A, 0);
	a.pad = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 3, BAR_A, 0);
	a.reserved[4] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 0, BAR_A, 0);	/* the host bridge's slot */
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 3, BAR_A, 0);
	a.devfn |= 1;			/* function 1 */
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	blk_arg(&a, fd, 3, BAR_A, 0);
	a.gsi = HVX_NR_GSIS;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	ASSERT_ERRNO(EINVAL, create_blk(vm, fd, 3, BAR_A + 0x1000, 0));
	ASSERT_ERRNO(EINVAL, create_blk(vm, fd, 3, 0x100000000ull, 0));
	ASSERT_ERRNO(EBADF, create_blk(vm, -1, 3, BAR_A, 0));
	ASSERT_ERRNO(EINVAL, create_blk(vm, efd, 3, BAR_A, 0));
	ASSERT_ERRNO(EINVAL, create_blk(vm, dir, 3, BAR_A, 0));
	ASSERT_ERRNO(EBADF, create_blk(vm, wo, 3, BAR_A, HVX_VIRTIO_RO));
	ASSERT_ERRNO(EPERM, create_blk(vm, ro, 3, BAR_A, 0));
	ASSERT_EQ(0, workers());

	ASSERT_EQ(0, create_blk(vm, fd, 3, BAR_A, 0)) TH_LOG("%m");
	/* Slot taken; BAR over another device's: nothing is left behind. */
	ASSERT_ERRNO(EEXIST, create_blk(vm, fd, 3, BAR_B, 0));
	ASSERT_ERRNO(EEXIST, create_blk(vm, fd, 4, BAR_A, 0));
	ASSERT_EQ(1, workers());
	ASSERT_EQ(0, create_blk(vm, fd, 4, BAR_B, 0)) TH_LOG("%m");
	/* No BAR address: the guest assigns it. */
	ASSERT_EQ(0, create_blk(vm, ro, 5, 0, HVX_VIRTIO_RO)) TH_LOG("%m");
	ASSERT_EQ(3, workers());
	vm_free(vm);
	ASSERT_TRUE(workers_gone());
	close(fd);
	close(ro);
	close(wo);
	close(efd);
	close(dir);
}

/*
 * kill -9 of the VMM while its guest writes and flushes in a loop: no
 * worker, module reference or pinned page (FOLL_PIN) is left.
 */
TEST(kill_mid_io)
{
	long long pins;
	long refs;
	int fd, p[2], status;
	pid_t pid;
	char c;

	REQUIRE_VMX();
	fd = disk(O_RDWR);
	ASSERT_EQ(0, pipe(p));
	refs = hvx_module_refcnt();
	pins = host_pins();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vm *vm = pci_vm();
		struct vcpu *vcpu;

		if (create_blk(vm, fd, 3, BAR_A, 0))
			_exit(1);
		vcpu = vcpu_create(vm, 0);
		vcpu_setup_long(vcpu, guest_virtio, VG_ARG(VG_IO_LOOP, DEVFN(3)));
		if (vcpu_run_sync(vcpu) != 1)
			_exit(2);
		if (write(p[1], "r", 1) != 1)
			_exit(3);
		for (;;)
			__vcpu_run(vcpu);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1)) TH_LOG("the child never started I/O");
	/* Let it write for a while; the file must see it. */
	for (int i = 0; i < 500; i++) {
		uint8_t b = 0;

		if (pread(fd, &b, 1, 0) == 1 && b == VG_PATTERN_W)
			break;
		msleep(10);
	}
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_TRUE(workers_gone()) TH_LOG("a worker outlived the killed VMM");
	ASSERT_TRUE(wait_for_refcnt(refs, 5000))
		TH_LOG("module references: %ld, were %ld", hvx_module_refcnt(),
		       refs);
	for (int i = 0; i < 500 && host_pins() != pins; i++)
		msleep(10);
	ASSERT_EQ(pins, host_pins()) TH_LOG("pages left pinned");
	close(p[0]);
	close(fd);
}

/* The HVX_STATE_VIRTIO record of @devfn in a HVX_GET_VM_STATE buffer. */
static struct hvx_state_virtio *virtio_record(void *buf, ssize_t len,
					      uint32_t devfn)
{
	return vm_state_record(buf, len, HVX_STATE_VIRTIO, devfn);
}

/* SET @rec (a copy of @a, @len bytes, changed by @edit) into @vm. */
static int set_edited(struct vm *vm, const void *a, ssize_t len, uint32_t devfn,
		      void (*edit)(struct hvx_state_virtio *s))
{
	void *buf = malloc(len);
	int ret;

	LIB_ASSERT(buf, "malloc");
	memcpy(buf, a, len);
	edit(virtio_record(buf, len, devfn));
	ret = vm_state_restore(vm, buf, len);
	free(buf);
	return ret;
}

static void edit_slot(struct hvx_state_virtio *s) { s->hdr.instance = DEVFN(5); }
static void edit_func(struct hvx_state_virtio *s) { s->hdr.instance |= 1; }
static void edit_nqueues(struct hvx_state_virtio *s) { s->num_queues = 2; }
static void edit_type(struct hvx_state_virtio *s) { s->device_id = HVX_VIRTIO_NET; }
static void edit_offer(struct hvx_state_virtio *s) { s->device_features ^= F_RO; }
static void edit_accept(struct hvx_state_virtio *s) { s->driver_features |= 1ull << 50; }
static void edit_status(struct hvx_state_virtio *s) { s->status = S_ACK | S_DRIVER_OK; }
static void edit_isr(struct hvx_state_virtio *s) { s->isr = 4; }
static void edit_reserved(struct hvx_state_virtio *s) { s->reserved = 1; }
static void edit_vector(struct hvx_state_virtio *s) { s->msix_config = 5; }
static void edit_vendor(struct hvx_state_virtio *s) { s->pci_config[0] ^= 1; }
static void edit_capacity(struct hvx_state_virtio *s) { s->device_config[0] ^= 1; }
static void edit_qsize(struct hvx_state_virtio *s) { s->queue[0].size = 24; }
static void edit_qflags(struct hvx_state_virtio *s) { s->queue[0].flags |= 8; }
static void edit_qidx(struct hvx_state_virtio *s) { s->queue[0].avail_idx += 17; }
static void edit_unused(struct hvx_state_virtio *s) { s->queue[1].size = 16; }
static void edit_size(struct hvx_state_virtio *s) { s->hdr.size -= 8; }

TEST(state_round_trip)
{
	static void (*const edits[])(struct hvx_state_virtio *) = {
		edit_slot, edit_func, edit_nqueues, edit_type, edit_offer,
		edit_accept, edit_status, edit_isr, edit_reserved, edit_vector,
		edit_vendor, edit_capacity, edit_qsize, edit_qflags, edit_qidx,
		edit_unused, edit_size,
	};
	struct hvx_state_virtio *sa, *sb;
	struct vcpu_state *st;
	void *a = NULL, *b = NULL, *b0 = NULL, *c0 = NULL, *c1 = NULL;
	ssize_t la, lb, lb0, lc;
	struct vm *vma, *vmb, *vmc;
	uint8_t buf[VG_STATE_LEN];
	struct vcpu *va, *vb;
	int fd, ro;

	REQUIRE_VMX();
	st = calloc(1, sizeof(*st));
	ASSERT_NE(NULL, st);
	fd = disk(O_RDWR);
	ro = disk(O_RDONLY);
	vma = pci_vm();
	ASSERT_EQ(0, create_blk(vma, fd, 4, BAR_A, 0));
	va = vcpu_create(vma, 0);
	vcpu_setup_long(va, guest_virtio, VG_ARG(VG_STATE, DEVFN(4)));
	ASSERT_EQ(1, vcpu_run_sync(va));
	/* The devices first, as hvx-run does: the drain may interrupt. */
	la = vm_state_save(vma, &a);
	ASSERT_LT(0, la) TH_LOG("HVX_GET_VM_STATE: %s", strerror(-la));
	ASSERT_EQ(0, vcpu_state_save(va, st));
	sa = virtio_record(a, la, DEVFN(4));
	ASSERT_NE(NULL, sa);
	ASSERT_EQ(sizeof(*sa), sa->hdr.size);
	ASSERT_EQ(1, sa->hdr.version);
	ASSERT_EQ(HVX_VIRTIO_BLK, sa->device_id);
	ASSERT_EQ(1, sa->num_queues);
	ASSERT_EQ(0, sa->reserved);
	ASSERT_EQ(F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | F_FLUSH,
		  sa->driver_features);
	ASSERT_EQ(F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | F_FLUSH,
		  sa->device_features & (F_VERSION_1 | F_EVENT_IDX |
					 F_INDIRECT | F_FLUSH | F_RO));
	ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK, sa->status);
	ASSERT_EQ(0xffff, sa->msix_config);
	ASSERT_EQ(2048, *(uint64_t *)sa->device_config);	/* capacity */
	ASSERT_EQ(0x10421af4, *(uint32_t *)sa->pci_config);
	ASSERT_EQ(BAR_A, *(uint32_t *)(sa->pci_config + 0x10) & ~0xfu);
	ASSERT_EQ(VG_QSIZE, sa->queue[0].size);
	ASSERT_EQ(0xffff, sa->queue[0].msix_vector);
	ASSERT_EQ((uint64_t)vg_desc, sa->queue[0].desc);
	ASSERT_EQ((uint64_t)&vg_avail, sa->queue[0].avail);
	ASSERT_EQ((uint64_t)&vg_used, sa->queue[0].used);
	/* GET_ID, the first write and the one in flight: all used. */
	ASSERT_EQ(3, sa->queue[0].last_avail_idx);
	ASSERT_EQ(3, sa->queue[0].avail_idx);
	ASSERT_EQ(3, sa->queue[0].used_idx);
	ASSERT_EQ(3, sa->queue[0].signalled_used);
	ASSERT_EQ(HVX_VQ_ENABLED | HVX_VQ_SIGNALLED, sa->queue[0].flags);
	for (int q = 1; q < HVX_STATE_VIRTIO_QUEUES; q++)
		ASSERT_EQ(0, sa->queue[q].size);
	/* The write in flight is on the disk and in the used ring. */
	ASSERT_EQ(3, guest_var(vma, vg_used).idx);
	ASSERT_EQ(0, guest_var(vma, vg_status));
	ASSERT_EQ(sizeof(buf), pread(fd, buf, sizeof(buf), VG_SECTOR_STATE * 512));
	for (size_t i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(VG_PATTERN_S, buf[i]);

	/* Another device at that devfn: a read-only disk. */
	vmc = pci_vm();
	ASSERT_EQ(0, create_blk(vmc, ro, 4, BAR_A, HVX_VIRTIO_RO));
	ASSERT_LT(0, lc = vm_state_save(vmc, &c0));
	ASSERT_EQ(-EINVAL, vm_state_restore(vmc, a, la));
	ASSERT_EQ(lc, vm_state_save(vmc, &c1));
	ASSERT_EQ(0, memcmp(c0, c1, lc)) TH_LOG("a refused SET changed the device");
	vm_free(vmc);

	/* The same disk in a fresh VM: malformed records change nothing. */
	vmb = pci_vm();
	ASSERT_EQ(0, create_blk(vmb, fd, 4, BAR_A, 0));
	lb0 = vm_state_save(vmb, &b0);
	ASSERT_EQ(la, lb0);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		ASSERT_EQ(-EINVAL, set_edited(vmb, a, la, DEVFN(4), edits[i]))
			TH_LOG("edit %zu accepted", i);
		free(b);
		b = NULL;
		ASSERT_EQ(lb0, vm_state_save(vmb, &b));
		ASSERT_EQ(0, memcmp(b0, b, lb0)) TH_LOG("edit %zu changed state", i);
	}
	/* The record twice. */
	{
		uint8_t *two = malloc(la + sizeof(*sa));

		ASSERT_NE(NULL, two);
		memcpy(two, a, la);
		memcpy(two + la, sa, sizeof(*sa));
		ASSERT_EQ(-EINVAL, vm_state_restore(vmb, two, la + sizeof(*sa)));
		free(two);
	}

	/*
	 * Field by field into the fresh VM, as saved by an hvx that did
	 * not offer packed rings: the device takes that offer for its own.
	 */
	vb = vcpu_create(vmb, 0);
	memcpy(vmb->ram, vma->ram, vma->ram_size);
	vm_free(vma);	/* the saved state is all that is left */
	ASSERT_TRUE(sa->device_features & F_PACKED);
	sa->device_features &= ~F_PACKED;
	ASSERT_EQ(0, vm_state_restore(vmb, a, la));
	ASSERT_EQ(0, vcpu_state_restore(vb, st));
	free(b);
	b = NULL;
	lb = vm_state_save(vmb, &b);
	ASSERT_EQ(la, lb);
	sb = virtio_record(b, lb, DEVFN(4));
	ASSERT_NE(NULL, sb);
#define SAME(f)	ASSERT_EQ(sa->f, sb->f) TH_LOG(#f " differs")
	SAME(hdr.instance);
	SAME(device_id);
	SAME(num_queues);
	SAME(config_len);
	SAME(device_features);
	SAME(driver_features);
	SAME(device_feature_select);
	SAME(driver_feature_select);
	SAME(msix_config);
	SAME(queue_select);
	SAME(status);
	SAME(isr);
	SAME(config_generation);
	SAME(msix_pba);
	for (int q = 0; q < HVX_STATE_VIRTIO_QUEUES; q++) {
		SAME(queue[q].desc);
		SAME(queue[q].avail);
		SAME(queue[q].used);
		SAME(queue[q].size);
		SAME(queue[q].msix_vector);
		SAME(queue[q].last_avail_idx);
		SAME(queue[q].avail_idx);
		SAME(queue[q].used_idx);
		SAME(queue[q].signalled_used);
		SAME(queue[q].flags);
	}
#undef SAME
	ASSERT_EQ(0, memcmp(sa->msix_table, sb->msix_table, sizeof(sa->msix_table)));
	ASSERT_EQ(0, memcmp(sa->pci_config, sb->pci_config, sizeof(sa->pci_config)));
	ASSERT_EQ(0, memcmp(sa->device_config, sb->device_config,
			    sizeof(sa->device_config)));
	ASSERT_EQ(0, memcmp(a, b, la)) TH_LOG("the records differ");

	/* The guest goes on with the device in the new VM. */
	vcpu_run_done(vb);
	vm_free(vmb);
	close(fd);
	close(ro);
	free(a);
	free(b);
	free(b0);
	free(c0);
	free(c1);
	free(st);
}

static void edit_plast(struct hvx_state_virtio *s) { s->queue[0].last_avail_idx = VG_PSIZE; }
static void edit_pused(struct hvx_state_virtio *s) { s->queue[0].used_idx |= 0x4000; }
static void edit_pavail(struct hvx_state_virtio *s) { s->queue[0].avail_idx = 1; }

/*
 * A packed queue's state: the positions with their wrap counters in the
 * record, malformed ones refused with nothing changed, and the guest going
 * on in a fresh VM with its in-flight write answered.
 */
TEST(packed_state_round_trip)
{
	static void (*const edits[])(struct hvx_state_virtio *) = {
		edit_plast, edit_pused, edit_pavail,
	};
	struct hvx_state_virtio *sa;
	struct vcpu_state *st;
	void *a = NULL, *b = NULL, *b0 = NULL;
	ssize_t la, lb0;
	struct vm *vma, *vmb;
	struct vcpu *va, *vb;
	int fd;

	REQUIRE_VMX();
	st = calloc(1, sizeof(*st));
	ASSERT_NE(NULL, st);
	fd = disk(O_RDWR);
	vma = pci_vm();
	ASSERT_EQ(0, create_blk(vma, fd, 4, BAR_A, 0));
	va = vcpu_create(vma, 0);
	vcpu_setup_long(va, guest_virtio, VG_ARG(VG_P_STATE, DEVFN(4)));
	ASSERT_EQ(1, vcpu_run_sync(va));
	la = vm_state_save(vma, &a);
	ASSERT_LT(0, la) TH_LOG("HVX_GET_VM_STATE: %s", strerror(-la));
	ASSERT_EQ(0, vcpu_state_save(va, st));
	sa = virtio_record(a, la, DEVFN(4));
	ASSERT_NE(NULL, sa);
	ASSERT_EQ(1, sa->hdr.version);
	ASSERT_TRUE(sa->driver_features & F_PACKED);
	ASSERT_EQ(VG_PSIZE, sa->queue[0].size);
	ASSERT_EQ((uint64_t)vg_pring, sa->queue[0].desc);
	ASSERT_EQ((uint64_t)&vg_drv_event, sa->queue[0].avail);
	ASSERT_EQ((uint64_t)&vg_dev_event, sa->queue[0].used);
	/* 3 + 3 + 2 descriptors, then the write's 3: index 4, wrap 0. */
	ASSERT_EQ(4, sa->queue[0].last_avail_idx);
	ASSERT_EQ(4, sa->queue[0].used_idx);
	ASSERT_EQ(4, sa->queue[0].signalled_used);
	ASSERT_EQ(0, sa->queue[0].avail_idx);
	ASSERT_EQ(HVX_VQ_ENABLED | HVX_VQ_SIGNALLED, sa->queue[0].flags);

	vmb = pci_vm();
	ASSERT_EQ(0, create_blk(vmb, fd, 4, BAR_A, 0));
	lb0 = vm_state_save(vmb, &b0);
	ASSERT_EQ(la, lb0);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		ASSERT_EQ(-EINVAL, set_edited(vmb, a, la, DEVFN(4), edits[i]))
			TH_LOG("edit %zu accepted", i);
		free(b);
		b = NULL;
		ASSERT_EQ(lb0, vm_state_save(vmb, &b));
		ASSERT_EQ(0, memcmp(b0, b, lb0)) TH_LOG("edit %zu changed state", i);
	}
	vb = vcpu_create(vmb, 0);
	memcpy(vmb->ram, vma->ram, vma->ram_size);
	vm_free(vma);
	ASSERT_EQ(0, vm_state_restore(vmb, a, la));
	ASSERT_EQ(0, vcpu_state_restore(vb, st));
	free(b);
	b = NULL;
	ASSERT_EQ(la, vm_state_save(vmb, &b));
	ASSERT_EQ(0, memcmp(a, b, la)) TH_LOG("the records differ");
	vcpu_run_done(vb);
	vm_free(vmb);
	close(fd);
	free(a);
	free(b);
	free(b0);
	free(st);
}

/*
 * Lifecycle under load: the memory that holds the request buffers moved or
 * deleted, and a device reset, while the worker has a queue full of large
 * requests. LG_NRQ requests of LG_LEN bytes, even ones writes to the disk
 * and odd ones reads from it, their data in slot LG_SLOT (LG_BUF()), their
 * headers and statuses in the lib's RAM, are made available at once.
 */
enum lg_case {
	LG_MOVE,	/* the slot moves to LG_GPA2 (new backing) mid-flood */
	LG_DELETE,	/* the slot goes away mid-flood */
	LG_RESET,	/* status 0 right after the flood is notified */
};

#define LG_NRQ			5	/* 3 descriptors each: 15 of VG_QSIZE */
#define LG_LEN			0x10000
#define LG_SLOT			2
#define LG_GPA			0x10000000ull	/* above the lib's RAM */
#define LG_GPA2			0x10400000ull
#define LG_SIZE			0x100000
/* Request @i's buffer, 64 KiB apart: the gaps must stay untouched. */
#define LG_OFF(i)		(0x10000 + (uint64_t)(i) * 0x20000)
#define LG_BUF(base, i)		((base) + LG_OFF(i))
#define LG_SECTOR(i)		(256 + (uint64_t)(i) * (LG_LEN / 512))
#define LG_ROUNDS		3	/* resets mid-flood */
#define LG_FILL			0xee	/* the backing around the buffers */
#define LG_FILL2		0xdd	/* the same in the backing moved to */

static volatile struct blk_hdr lg_hdr[LG_NRQ];
static volatile uint8_t lg_st[LG_NRQ];
static volatile struct used lg_used_snap;
static volatile uint8_t lg_st_snap[LG_NRQ];

/* Make LG_NRQ requests with data at LG_BUF(@base, i) available, notify. */
GUEST_CODE
static void lg_flood(uint64_t base)
{
	for (int i = 0; i < LG_NRQ; i++) {
		uint16_t h = 3 * i;
		bool rd = i & 1;

		lg_hdr[i].type = rd ? T_IN : T_OUT;
		lg_hdr[i].ioprio = 0;
		lg_hdr[i].sector = LG_SECTOR(i);
		lg_st[i] = 0xff;
		vpci_set_desc(&vg_desc[h], (uint64_t)&lg_hdr[i],
			      sizeof(lg_hdr[i]), D_NEXT, h + 1);
		vpci_set_desc(&vg_desc[h + 1], LG_BUF(base, i), LG_LEN,
			      (rd ? D_WRITE : 0) | D_NEXT, h + 2);
		vpci_set_desc(&vg_desc[h + 2], (uint64_t)&lg_st[i], 1,
			      D_WRITE, 0);
		vg_avail.ring[drv.avail_idx++ % VG_QSIZE] = h;
	}
	asm volatile("" : : : "memory");
	vg_avail.idx = drv.avail_idx;
	asm volatile("mfence" : : : "memory");
	notify();
}

/* The statuses, request i's in byte i. */
GUEST_CODE
static uint64_t lg_status(void)
{
	uint64_t s = 0;

	for (int i = 0; i < LG_NRQ; i++)
		s |= (uint64_t)lg_st[i] << (8 * i);
	return s;
}

/*
 * LG_RESET, round @k: a reset while the worker has the flood. What came
 * back used before the reset returned is complete (status 0); after it
 * returned, nothing in the used ring or a status changes (the host looks
 * at the data buffers meanwhile).
 */
GUEST_CODE
static void lg_reset_round(uint64_t k)
{
	uint16_t n;
	int i;

	start(F_VERSION_1);
	lg_flood(LG_GPA);
	vpci_set_status(&dev, 0);
	GUEST_ASSERT_EQ(0, vpci_status(&dev));
	n = vg_used.idx;
	GUEST_ASSERT(n <= LG_NRQ);
	for (i = 0; i < (int)sizeof(lg_used_snap); i++)
		((volatile uint8_t *)&lg_used_snap)[i] =
			((volatile uint8_t *)&vg_used)[i];
	for (i = 0; i < LG_NRQ; i++)
		lg_st_snap[i] = lg_st[i];
	for (i = 0; i < n; i++) {
		uint32_t id = vg_used.ring[i].id;

		GUEST_ASSERT(id % 3 == 0 && id < 3 * LG_NRQ);
		GUEST_ASSERT_EQ(0, lg_st[id / 3]);
	}
	GUEST_SYNC_ARGS(1, k, n, lg_status());
	for (i = 0; i < (int)sizeof(lg_used_snap); i++)
		GUEST_ASSERT_EQ(((volatile uint8_t *)&lg_used_snap)[i],
				((volatile uint8_t *)&vg_used)[i]);
	for (i = 0; i < LG_NRQ; i++)
		GUEST_ASSERT_EQ(lg_st_snap[i], lg_st[i]);
}

GUEST_CODE
static void guest_life(uint64_t arg)
{
	int r;

	find(arg >> 8);
	switch (arg & 0xff) {
	case LG_MOVE:
	case LG_DELETE:
		start(F_VERSION_1);
		lg_flood(LG_GPA);
		GUEST_SYNC(1);
		/* The host changed the slot: all back, or NEEDS_RESET. */
		r = wait_used();
		GUEST_SYNC_ARGS(2, vg_used.idx, r, lg_status());
		/* A reset (after NEEDS_RESET too) gives a working device. */
		start(F_VERSION_1);
		check_id();
		fill(0, 512);
		GUEST_ASSERT_EQ(0, blk_rq(T_IN, VG_SECTOR_READ, 512, false));
		check(VG_PATTERN_R, 512);
		if ((arg & 0xff) == LG_MOVE) {
			/* The slot's new place works as RAM for the device. */
			lg_flood(LG_GPA2);
			GUEST_ASSERT_EQ(0, wait_used());
			GUEST_ASSERT_EQ(0, lg_status());
		}
		break;
	case LG_RESET:
		for (uint64_t k = 0; k < LG_ROUNDS; k++)
			lg_reset_round(k);
		start(F_VERSION_1);
		lg_flood(LG_GPA);
		GUEST_ASSERT_EQ(0, wait_used());
		GUEST_ASSERT_EQ(0, lg_status());
		check_id();
		break;
	}
	GUEST_DONE();
}

static bool lg_read(int i)
{
	return i & 1;
}

static uint8_t lg_pat_disk(int i, uint64_t j)
{
	return j * 7 + i * 31 + 1;
}

static uint8_t lg_pat_mem(int i, uint64_t j)
{
	return j * 13 + i * 17 + 3;
}

/* A slot's backing: @fill, the write buffers patterned. */
static uint8_t *lg_backing(uint8_t fill)
{
	uint8_t *m = mmap(NULL, LG_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	LIB_ASSERT(m != MAP_FAILED, "mmap: %m");
	memset(m, fill, LG_SIZE);
	for (int i = 0; i < LG_NRQ; i++)
		for (uint64_t j = 0; !lg_read(i) && j < LG_LEN; j++)
			m[LG_OFF(i) + j] = lg_pat_mem(i, j);
	return m;
}

/* The disk: the read requests' sectors patterned, the written ones zero. */
static void lg_disk_init(int fd)
{
	static uint8_t buf[LG_LEN];

	for (int i = 0; i < LG_NRQ; i++) {
		for (uint64_t j = 0; j < LG_LEN; j++)
			buf[j] = lg_read(i) ? lg_pat_disk(i, j) : 0;
		LIB_ASSERT(pwrite(fd, buf, LG_LEN, LG_SECTOR(i) * 512) ==
			   LG_LEN, "pwrite: %m");
	}
}

/* Request @i's data went where it belongs (@m: the backing it used). */
static bool lg_done_ok(int fd, const uint8_t *m, int i)
{
	static uint8_t buf[LG_LEN];

	if (lg_read(i)) {
		for (uint64_t j = 0; j < LG_LEN; j++)
			if (m[LG_OFF(i) + j] != lg_pat_disk(i, j))
				return false;
		return true;
	}
	if (pread(fd, buf, LG_LEN, LG_SECTOR(i) * 512) != LG_LEN)
		return false;
	for (uint64_t j = 0; j < LG_LEN; j++)
		if (buf[j] != lg_pat_mem(i, j))
			return false;
	return true;
}

/* Around the buffers @fill, the write buffers unchanged (device-read). */
static bool lg_untouched(const uint8_t *m, uint8_t fill)
{
	for (uint64_t a = 0; a < LG_SIZE; a++) {
		int i = a < LG_OFF(0) ? -1 : (a - LG_OFF(0)) / 0x20000;
		uint64_t j = a - LG_OFF(0) - (uint64_t)i * 0x20000;

		if (i < 0 || i >= LG_NRQ || j >= LG_LEN) {
			if (m[a] != fill)
				return false;
		} else if (!lg_read(i) && m[a] != lg_pat_mem(i, j)) {
			return false;
		}
	}
	return true;
}

/* The host's FOLL_PIN count back at @want (a VM's release may lag). */
static bool pins_back(long long want)
{
	for (int i = 0; i < 500; i++) {
		if (host_pins() == want)
			return true;
		msleep(10);
	}
	return false;
}

/*
 * The slot with the request buffers moved to another GPA and backing
 * (@move) or deleted while the worker has the flood: each request is
 * complete (its data where it belongs) or failed (I/O error, or not
 * answered with DEVICE_NEEDS_RESET), the old backing outside the buffers
 * is untouched and nothing reaches it once the change returned; a reset
 * gives a working device (and the moved slot works), and the VM goes
 * with its worker and its pins.
 */
/* One lifecycle case: its disk, backing, VM and vCPU. */
struct lg_run {
	long long pins;
	int fd;
	uint8_t *m, *snap;
	struct vm *vm;
	struct vcpu *vcpu;
};

/* The disk, slot LG_SLOT on fresh backing, the device, guest_life(@c). */
static void lg_start(struct __test_metadata *_metadata, struct lg_run *r,
		     uint64_t c)
{
	r->pins = host_pins();
	r->fd = disk(O_RDWR);
	lg_disk_init(r->fd);
	r->m = lg_backing(LG_FILL);
	r->snap = malloc(LG_SIZE);
	ASSERT_NE(NULL, r->snap);
	r->vm = pci_vm();
	ASSERT_EQ(0, __vm_set_memory_region(r->vm->fd, LG_SLOT, 0, LG_GPA,
					    LG_SIZE, r->m));
	ASSERT_EQ(0, create_blk(r->vm, r->fd, 3, BAR_A, 0)) TH_LOG("%m");
	r->vcpu = vcpu_create(r->vm, 0);
	vcpu_setup_long(r->vcpu, guest_life, VG_ARG(c, DEVFN(3)));
}

/*
 * Statuses @st of the LG_NRQ requests: 0 and complete, 1 (an error) if
 * @fail_ok, 0xff (never answered) if @reset_ok.
 */
static void lg_check_statuses(struct __test_metadata *_metadata,
			      struct lg_run *r, uint64_t st, bool fail_ok,
			      bool reset_ok)
{
	for (int i = 0; i < LG_NRQ; i++) {
		uint8_t s = st >> (8 * i);

		if (!s) {
			ASSERT_TRUE(lg_done_ok(r->fd, r->m, i))
				TH_LOG("request %d: status 0, data wrong", i);
		} else {
			ASSERT_TRUE((s == 1 && fail_ok) || (s == 0xff && reset_ok))
				TH_LOG("request %d: status %#x", i, s);
		}
	}
}

/* The VM goes; no worker or pin stays behind. */
static void lg_end(struct __test_metadata *_metadata, struct lg_run *r)
{
	vcpu_free(r->vcpu);
	vm_free(r->vm);
	ASSERT_TRUE(workers_gone()) TH_LOG("a worker outlived its VM");
	ASSERT_TRUE(pins_back(r->pins))
		TH_LOG("pinned pages: %lld, were %lld", host_pins(), r->pins);
	free(r->snap);
	munmap(r->m, LG_SIZE);
	close(r->fd);
}

static void lg_slot_change(struct __test_metadata *_metadata, bool move)
{
	struct lg_run r;
	uint8_t *m2 = NULL;
	struct ucall uc;
	uint64_t st;
	bool reset;
	int n, i;

	lg_start(_metadata, &r, move ? LG_MOVE : LG_DELETE);
	if (move)
		m2 = lg_backing(LG_FILL2);
	ASSERT_EQ(1, vcpu_run_sync(r.vcpu));
	/* The worker has the flood now: change its memory under it. */
	if (move) {
		ASSERT_EQ(0, __vm_set_memory_region(r.vm->fd, LG_SLOT, 0,
						    LG_GPA2, LG_SIZE, m2));
	} else {
		ASSERT_EQ(0, __vm_set_memory_region(r.vm->fd, LG_SLOT, 0, 0, 0,
						    NULL));
	}
	memcpy(r.snap, r.m, LG_SIZE);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(r.vcpu, &uc));
	ASSERT_EQ(2, uc.args[0]);
	n = uc.args[1];
	reset = uc.args[2];
	st = uc.args[3];
	ASSERT_LE(n, LG_NRQ);
	ASSERT_TRUE(reset || n == LG_NRQ);
	lg_check_statuses(_metadata, &r, st, true, reset);
	TH_LOG("%s: %d of %d used, %s, statuses %#llx",
	       move ? "move" : "delete", n, LG_NRQ,
	       reset ? "NEEDS_RESET" : "no reset", (unsigned long long)st);
	ASSERT_TRUE(lg_untouched(r.m, LG_FILL));

	vcpu_run_done(r.vcpu);
	ASSERT_EQ(0, memcmp(r.snap, r.m, LG_SIZE))
		TH_LOG("the old backing was written after the slot changed");
	if (move) {
		for (i = 0; i < LG_NRQ; i++) {
			ASSERT_TRUE(lg_done_ok(r.fd, m2, i)) TH_LOG("request %d", i);
		}
		ASSERT_TRUE(lg_untouched(m2, LG_FILL2));
	}
	lg_end(_metadata, &r);
	if (m2)
		munmap(m2, LG_SIZE);
}

TEST(slot_move_mid_io)
{
	REQUIRE_VMX();
	lg_slot_change(_metadata, true);
}

TEST(slot_delete_mid_io)
{
	REQUIRE_VMX();
	lg_slot_change(_metadata, false);
}

/*
 * A device reset while the worker has the flood, LG_ROUNDS times: it
 * returns, what was used before it is complete, and after it returned
 * the device writes neither the ring nor a status (the guest compares)
 * nor a data buffer (the host looks for 200 ms); the device then works
 * again, every request complete.
 */
TEST(reset_mid_io)
{
	struct lg_run r;
	struct ucall uc;

	REQUIRE_VMX();
	lg_start(_metadata, &r, LG_RESET);
	for (int k = 0; k < LG_ROUNDS; k++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(r.vcpu, &uc));
		ASSERT_EQ(1, uc.args[0]);
		ASSERT_EQ(k, uc.args[1]);
		lg_check_statuses(_metadata, &r, uc.args[3], false, true);
		TH_LOG("round %d: %d of %d used before the reset", k,
		       (int)uc.args[2], LG_NRQ);
		memcpy(r.snap, r.m, LG_SIZE);
		msleep(200);
		ASSERT_EQ(0, memcmp(r.snap, r.m, LG_SIZE))
			TH_LOG("guest memory written after the reset returned");
		ASSERT_TRUE(lg_untouched(r.m, LG_FILL));
	}
	vcpu_run_done(r.vcpu);
	for (int i = 0; i < LG_NRQ; i++) {
		ASSERT_TRUE(lg_done_ok(r.fd, r.m, i)) TH_LOG("request %d", i);
	}
	ASSERT_TRUE(lg_untouched(r.m, LG_FILL));
	lg_end(_metadata, &r);
}

TEST_HARNESS_MAIN
