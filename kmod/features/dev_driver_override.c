// SPDX-License-Identifier: GPL-2.0
/*
 * The driver core keeps driver_override in struct device, under its own
 * spinlock, and sets it with device_set_driver_override(); the bus
 * structures (pci_dev::driver_override) lost their copies. Upstream in
 * 2026, and backported to stable series (Debian's 6.12.107 has it).
 */
#include <linux/device.h>
#include <linux/slab.h>

char *hvx_feature_test(struct device *dev);
char *hvx_feature_test(struct device *dev)
{
	char *s;

	spin_lock(&dev->driver_override.lock);
	s = kstrdup(dev->driver_override.name, GFP_ATOMIC);
	spin_unlock(&dev->driver_override.lock);
	if (device_set_driver_override(dev, ""))
		return NULL;
	return s;
}
