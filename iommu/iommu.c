// SPDX-License-Identifier: GPL-2.0
/*
 * iommu.c - the iommu/ room: PCI passthrough with a per-VM IOMMU domain.
 *
 * Device assignment is not implemented yet; these hooks keep the room's
 * place in module init and exit so that passthrough lands without
 * reshaping the module.
 */
#include "../kmod/hvx_core.h"

/**
 * hvx_iommu_init - set up passthrough support at module load
 *
 * Return: 0.
 */
int hvx_iommu_init(void)
{
	return 0;
}

/**
 * hvx_iommu_exit - undo hvx_iommu_init() at module unload
 */
void hvx_iommu_exit(void)
{
}
