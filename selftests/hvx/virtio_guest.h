/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio_guest.h - the guest driver's side of hvx's virtio 1.x PCI
 * transport, for the tests that drive a device by hand (virtio_test: the
 * block device, virtio_net_test: the network device).
 *
 * Configuration space through ports 0xcf8/0xcfc (mechanism #1), the
 * offsets of the common configuration structure (virtio 1.2, 4.1.4.3),
 * the device status bits (2.1), the split ring's descriptor (2.7.5) and
 * the capability walk that finds the four structures (4.1.4). Every
 * helper is guest code (GUEST_CODE static inline, lib/x86.h).
 */
#ifndef VIRTIO_GUEST_H
#define VIRTIO_GUEST_H

#include <stdint.h>

#include "hvx_guest.h"

#define PCI_ADDR		0xcf8
#define PCI_DATA		0xcfc

#define CC_DFSELECT		0x00
#define CC_DF			0x04
#define CC_GFSELECT		0x08
#define CC_GF			0x0c
#define CC_MSIX			0x10
#define CC_NUMQ			0x12
#define CC_STATUS		0x14
#define CC_QSELECT		0x16
#define CC_QSIZE		0x18
#define CC_QMSIX		0x1a
#define CC_QENABLE		0x1c
#define CC_QNOTIFY		0x1e
#define CC_QDESC		0x20
#define CC_QAVAIL		0x28
#define CC_QUSED		0x30

#define S_ACK			1
#define S_DRIVER		2
#define S_DRIVER_OK		4
#define S_FEATURES_OK		8
#define S_NEEDS_RESET		0x40

#define F_VERSION_1		(1ull << 32)

#define D_NEXT			1
#define D_WRITE			2

#define MMIO8(p, off)	(*(volatile uint8_t *)((p) + (off)))
#define MMIO16(p, off)	(*(volatile uint16_t *)((p) + (off)))
#define MMIO32(p, off)	(*(volatile uint32_t *)((p) + (off)))
#define MMIO64(p, off)	(*(volatile uint64_t *)((p) + (off)))

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* One virtio PCI function: where it is and where its structures are. */
struct vpci {
	uint32_t devfn;
	volatile uint8_t *common, *isr, *device, *notify;
};

GUEST_CODE static inline uint32_t vpci_cfg32(const struct vpci *d,
					   uint32_t off)
{
	outl(PCI_ADDR, 0x80000000u | d->devfn << 8 | (off & 0xfc));
	return inl(PCI_DATA);
}

GUEST_CODE static inline void vpci_cfg_write32(const struct vpci *d,
					     uint32_t off, uint32_t v)
{
	outl(PCI_ADDR, 0x80000000u | d->devfn << 8 | (off & 0xfc));
	outl(PCI_DATA, v);
}

GUEST_CODE static inline uint8_t vpci_cfg8(const struct vpci *d, uint32_t off)
{
	return vpci_cfg32(d, off) >> (8 * (off & 3));
}

/*
 * Find function @devfn, which must be device @id (vendor in the low 16
 * bits), revision 1 (modern only), and its capabilities: MSI-X with its
 * table in BAR 0, and the four vendor capabilities (4.1.4), all in BAR 0,
 * the notify multiplier 4. Turns memory decoding and bus mastering on.
 */
GUEST_CODE static inline void vpci_find(struct vpci *d, uint32_t devfn,
				      uint32_t id)
{
	uint32_t bar, cap;

	*d = (struct vpci){ .devfn = devfn };
	GUEST_ASSERT_EQ(id, vpci_cfg32(d, 0));
	GUEST_ASSERT_EQ(1, vpci_cfg8(d, 8));
	GUEST_ASSERT(vpci_cfg32(d, 4) & (1u << 20));	/* capability list */
	bar = vpci_cfg32(d, 0x10) & ~0xfu;
	GUEST_ASSERT(bar);
	vpci_cfg_write32(d, 4, vpci_cfg32(d, 4) | 6);
	for (cap = vpci_cfg8(d, 0x34); cap; cap = vpci_cfg8(d, cap + 1)) {
		volatile uint8_t *p;

		if (vpci_cfg8(d, cap) == 0x11) {	/* MSI-X: table in BAR 0 */
			GUEST_ASSERT_EQ(0, vpci_cfg32(d, cap + 4) & 7);
			continue;
		}
		GUEST_ASSERT_EQ(0x09, vpci_cfg8(d, cap));	/* vendor */
		GUEST_ASSERT_EQ(0, vpci_cfg8(d, cap + 4));	/* BAR 0 */
		p = (volatile uint8_t *)(uint64_t)(bar + vpci_cfg32(d, cap + 8));
		switch (vpci_cfg8(d, cap + 3)) {
		case 1:
			d->common = p;
			break;
		case 2:
			d->notify = p;
			GUEST_ASSERT_EQ(4, vpci_cfg32(d, cap + 16));
			break;
		case 3:
			d->isr = p;
			break;
		case 4:
			d->device = p;
			break;
		}
	}
	GUEST_ASSERT(d->common && d->notify && d->isr && d->device);
}

GUEST_CODE static inline uint8_t vpci_status(const struct vpci *d)
{
	return MMIO8(d->common, CC_STATUS);
}

GUEST_CODE static inline void vpci_set_status(const struct vpci *d, uint8_t s)
{
	MMIO8(d->common, CC_STATUS) = s;
}

/* The device's 64 feature bits (4.1.4.3: two 32-bit windows). */
GUEST_CODE static inline uint64_t vpci_offered(const struct vpci *d)
{
	uint64_t f;

	MMIO32(d->common, CC_DFSELECT) = 0;
	f = MMIO32(d->common, CC_DF);
	MMIO32(d->common, CC_DFSELECT) = 1;
	return f | (uint64_t)MMIO32(d->common, CC_DF) << 32;
}

GUEST_CODE static inline void vpci_accept(const struct vpci *d, uint64_t f)
{
	MMIO32(d->common, CC_GFSELECT) = 0;
	MMIO32(d->common, CC_GF) = (uint32_t)f;
	MMIO32(d->common, CC_GFSELECT) = 1;
	MMIO32(d->common, CC_GF) = f >> 32;
}

/*
 * Give the selected queue its three areas (descriptors; driver area:
 * avail ring or driver event; device area: used ring or device event),
 * no MSI-X vector, and enable it (4.1.4.3).
 */
GUEST_CODE static inline void vpci_queue_on(const struct vpci *d,
					    const volatile void *desc,
					    const volatile void *driver,
					    const volatile void *device)
{
	MMIO16(d->common, CC_QMSIX) = 0xffff;
	MMIO64(d->common, CC_QDESC) = (uint64_t)desc;
	MMIO64(d->common, CC_QAVAIL) = (uint64_t)driver;
	MMIO64(d->common, CC_QUSED) = (uint64_t)device;
	MMIO16(d->common, CC_QENABLE) = 1;
}

GUEST_CODE static inline void vpci_set_desc(volatile struct desc *d,
					  uint64_t addr, uint32_t len,
					  uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

#endif
