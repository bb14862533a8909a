// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module init/exit and the /dev/hvx misc device. The ioctl
 * dispatcher is in ioctl.c, statistics and events in netlink.c, the VM table
 * in registry.c.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "hvx_core.h"

static long dev_get_supported_cpuid(struct hvx_cpuid *c)
{
	if (!hvx_vmx_usable())
		return -EOPNOTSUPP;
	hvx_vmx_cpuid_default(c->entries, &c->nent, 0);
	return 0;
}

/* /dev/hvx: no object, so no owner and no lock. */
static const struct hvx_ioctl dev_ioctls[] = {
	HVX_IOCTL_VAL(HVX_GET_API_VERSION, HVX_IOC_LOCK_NONE, HVX_IOC_ARG_ZERO),
	HVX_IOCTL_VAL(HVX_CREATE_VM, HVX_IOC_LOCK_NONE, 0),
	HVX_IOCTL_VAL(HVX_GET_VCPU_MMAP_SIZE, HVX_IOC_LOCK_NONE,
		      HVX_IOC_ARG_ZERO),
	HVX_IOCTL(HVX_GET_SUPPORTED_CPUID, struct hvx_cpuid,
		  HVX_IOC_LOCK_NONE, 0),
};

static long dev_ioctl_call(void *obj, const struct hvx_ioctl *d, void *karg,
			   unsigned long arg)
{
	switch (d->cmd) {
	case HVX_GET_API_VERSION:
		return HVX_API_VERSION;
	case HVX_CREATE_VM:
		if (arg & ~(unsigned long)HVX_VM_VALID_FLAGS)
			return -EINVAL;
		return hvx_vm_create(arg);
	case HVX_GET_VCPU_MMAP_SIZE:
		return HVX_VCPU_MMAP_SIZE;
	case HVX_GET_SUPPORTED_CPUID:
		return dev_get_supported_cpuid(karg);
	}
	return -ENOTTY;
}

static const struct hvx_ioctl_table dev_ioctl_table = {
	.ioctls = dev_ioctls,
	.n = ARRAY_SIZE(dev_ioctls),
	.call = dev_ioctl_call,
};

static long hvx_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	const struct hvx_ioctl_target tgt = { };

	return hvx_ioctl(&dev_ioctl_table, &tgt, cmd, arg);
}

static const struct file_operations hvx_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= hvx_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice hvx_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "hvx",
	.fops	= &hvx_dev_fops,
	.mode	= 0660,
};

static int __init hvx_init(void)
{
	int ret;

	ret = hvx_vmx_module_init();
	if (ret)
		return ret;
	ret = hvx_iommu_init();
	if (ret)
		goto err_vmx;
	/* Before /dev/hvx: creating a VM sends an event. */
	ret = hvx_netlink_init();
	if (ret)
		goto err_iommu;
	ret = misc_register(&hvx_misc);
	if (ret)
		goto err_netlink;
	pr_info("loaded, API version %d, /dev/hvx ready\n", HVX_API_VERSION);
	return 0;

err_netlink:
	hvx_netlink_exit();
err_iommu:
	hvx_iommu_exit();
err_vmx:
	hvx_vmx_module_exit();
	return ret;
}

static void __exit hvx_exit(void)
{
	misc_deregister(&hvx_misc);
	hvx_netlink_exit();
	hvx_registry_exit();
	hvx_iommu_exit();
	hvx_vmx_module_exit();
	pr_info("unloaded\n");
}

module_init(hvx_init);
module_exit(hvx_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvx: a small VT-x hypervisor with EPT, VPID and PCI passthrough");
MODULE_AUTHOR("The hvx developers");
