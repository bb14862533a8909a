// SPDX-License-Identifier: GPL-2.0
/*
 * iommu.c - the iommu/ room at module load and unload: PCI passthrough
 * with a per-VM IOMMU domain (see pt.h for the files of the room).
 */
#include "pt.h"

/**
 * hvx_iommu_init - set up passthrough support at module load: register
 *	the "hvx-pci" stub driver
 *
 * Context: module init.
 * Return: 0 or the error of the driver registration.
 */
int hvx_iommu_init(void)
{
	return hvx_pt_stub_register();
}

/**
 * hvx_iommu_exit - undo hvx_iommu_init() at module unload
 *
 * Context: module exit. Every VM, and so every assignment, is gone by
 * then (VM and device fds hold the module). Devices the stub held are
 * unbound, driverless, and can be bound to their host drivers again.
 */
void hvx_iommu_exit(void)
{
	hvx_pt_stub_unregister();
}
