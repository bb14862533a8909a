/* SPDX-License-Identifier: GPL-2.0 */
/* virtio_guest.h - shared between virtio_test.c and virtio_guest.c. */
#ifndef VIRTIO_GUEST_H
#define VIRTIO_GUEST_H

#include <stdint.h>

/* What the guest does (the low byte of its argument; devfn above). */
enum vg_case {
	VG_BASIC,	/* negotiation, GET_ID, read, write, flush, ISR */
	VG_RO,		/* a read-only disk: RO offered, writes refused */
	VG_INDIRECT,	/* a read and a write through indirect tables */
	VG_STORM,	/* many notifications: no harm, still works */
	VG_LOOP,	/* hostile: a chain that loops */
	VG_OUTSIDE,	/* hostile: a buffer outside RAM */
	VG_APIC,	/* hostile: a buffer at the APIC page */
	VG_JUMP,	/* hostile: the available index jumps */
	VG_NESTED,	/* hostile: an indirect table inside one */
	VG_NEXT,	/* hostile: a next index outside the table */
	VG_IO_LOOP,	/* write forever (for kill -9) */
};

#define VG_ARG(c, devfn)	((uint64_t)(c) | (uint64_t)(devfn) << 8)

#define VG_QSIZE		16
#define VG_SECTOR_READ		8	/* the host fills it with VG_PATTERN_R */
#define VG_SECTOR_WRITE		16	/* the guest writes VG_PATTERN_W */
#define VG_PATTERN_R		0x5a
#define VG_PATTERN_W		0xc3
#define VG_SERIAL		"hvx-disk-serial-0001"	/* 20 bytes */

void guest_virtio(uint64_t arg);

#endif /* VIRTIO_GUEST_H */
