/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommu.h - the interface between kmod/ and the iommu/ room (PCI
 * passthrough): what kmod/ calls here, and the little iommu/ needs from
 * kmod/ beyond the interrupt router and device buses (kmod/dev/dev.h).
 * iommu/ never sees inside struct hvx_vm: kmod/ describes the VM to it
 * in a struct hvx_pt_host.
 */
#ifndef HVX_IOMMU_H
#define HVX_IOMMU_H

#include <linux/types.h>

#include "hvx.h"

struct hvx_vm;
struct hvx_mem;
struct hvx_pt_vm;

/**
 * struct hvx_pt_host - a VM as passthrough sees it, filled in by kmod/
 * @vm: the VM; opaque here, handed back to the interrupt router, the PCI
 *	bus and the device bus (kmod/dev/dev.h), and to the functions below.
 * @mem: its guest-physical address space (ept/).
 * @io_bitmap: its VMX I/O bitmaps A and B (vmx/, struct hvx_vmx_vm), or
 *	NULL (no vCPUs, or a CPU without I/O bitmaps); a clear bit lets the
 *	guest reach that host port without an exit.
 * @id: its id in the module's registry, for messages.
 * @no_vcpus: a DMA-only VM (HVX_VM_NO_VCPUS): no guest view of devices.
 * @pt: passthrough state, NULL before the first assignment; set and
 *	cleared by iommu/ under its global mutex.
 */
struct hvx_pt_host {
	struct hvx_vm *vm;
	struct hvx_mem *mem;
	unsigned long *io_bitmap;
	u32 id;
	bool no_vcpus;
	struct hvx_pt_vm *pt;
};

int hvx_iommu_init(void);
void hvx_iommu_exit(void);
long hvx_pt_assign(struct hvx_pt_host *h, const struct hvx_pci_device *d);
long hvx_pt_unassign(struct hvx_pt_host *h, const struct hvx_pci_device *d);
void hvx_pt_vm_destroy(struct hvx_pt_host *h);
unsigned int hvx_pt_nr_devices(struct hvx_pt_host *h);

/* Provided by kmod/ for iommu/. */
bool hvx_vm_has_ioapic(struct hvx_vm *vm);
void hvx_netlink_device_event(struct hvx_vm *vm, enum hvx_event event,
			      u32 device, u32 reason);

#endif /* HVX_IOMMU_H */
