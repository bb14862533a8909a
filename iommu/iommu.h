/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommu.h - what kmod/ calls in the iommu/ room (PCI passthrough).
 */
#ifndef HVX_IOMMU_H
#define HVX_IOMMU_H

#include "hvx.h"

struct hvx_vm;

long hvx_pt_assign(struct hvx_vm *vm, const struct hvx_pci_device *d);
long hvx_pt_unassign(struct hvx_vm *vm, const struct hvx_pci_device *d);
void hvx_pt_vm_destroy(struct hvx_vm *vm);
unsigned int hvx_pt_nr_devices(struct hvx_vm *vm);

#endif /* HVX_IOMMU_H */
