// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module init/exit, the /dev/hvx misc device and ioctl dispatch.
 * Statistics and events are in netlink.c, the VM table in registry.c.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hvx_core.h"

/**
 * hvx_ioctl - dispatch an ioctl through a table of struct hvx_ioctl_desc
 * @table: the object's ioctls.
 * @n: entries in @table.
 * @owner: mm that HVX_IOC_OWNER ioctls require, or NULL.
 * @lock: the object's lock, taken with mutex_trylock() around every ioctl
 *	not marked HVX_IOC_NOLOCK (-EBUSY if another thread holds it), or
 *	NULL.
 * @obj: the object (VM, vCPU).
 * @cmd: ioctl number.
 * @arg: ioctl argument.
 *
 * Copies the argument struct in and out according to the direction and
 * size encoded in @cmd, so handlers see kernel memory only.
 * Context: process context.
 * Return: the handler's result; -ENOTTY for an unknown @cmd (including a
 * known ioctl with a wrong size), -EIO for an owner-only ioctl from another
 * process, -EFAULT if the argument cannot be copied.
 */
long hvx_ioctl(const struct hvx_ioctl_desc *table, unsigned int n,
	       struct mm_struct *owner, struct mutex *lock, void *obj,
	       unsigned int cmd, unsigned long arg)
{
	union {
		struct hvx_memory_region region;
		struct hvx_regs regs;
		struct hvx_sregs sregs;
	} small;
	const struct hvx_ioctl_desc *d = NULL;
	unsigned int size = _IOC_SIZE(cmd), i;
	void __user *uarg = (void __user *)arg;
	void *buf = &small;
	long ret;

	for (i = 0; i < n; i++) {
		if (table[i].cmd == cmd) {
			d = &table[i];
			break;
		}
	}
	if (!d)
		return -ENOTTY;
	if ((d->flags & HVX_IOC_OWNER) && current->mm != owner)
		return -EIO;
	/* Large argument structs (CPUID and MSR lists) go to the heap. */
	if (size > sizeof(small)) {
		buf = kzalloc(size, GFP_KERNEL_ACCOUNT);
		if (!buf)
			return -ENOMEM;
	} else if (_IOC_DIR(cmd) & _IOC_READ) {
		memset(buf, 0, size);
	}
	ret = -EFAULT;
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(buf, uarg, size))
		goto out;
	if (lock && !(d->flags & HVX_IOC_NOLOCK)) {
		ret = -EBUSY;
		if (!mutex_trylock(lock))
			goto out;
		ret = d->fn(obj, buf, arg);
		mutex_unlock(lock);
	} else {
		ret = d->fn(obj, buf, arg);
	}
	if (ret >= 0 && (_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(uarg, buf, size))
		ret = -EFAULT;
out:
	if (buf != &small)
		kfree(buf);
	return ret;
}

static long dev_get_api_version(void *obj, void *karg, unsigned long arg)
{
	return arg ? -EINVAL : HVX_API_VERSION;
}

static long dev_create_vm(void *obj, void *karg, unsigned long arg)
{
	return arg & ~(unsigned long)HVX_VM_VALID_FLAGS ? -EINVAL :
						       hvx_vm_create(arg);
}

static long dev_get_vcpu_mmap_size(void *obj, void *karg, unsigned long arg)
{
	return arg ? -EINVAL : HVX_VCPU_MMAP_SIZE;
}

static long dev_get_supported_cpuid(void *obj, void *karg, unsigned long arg)
{
	struct hvx_cpuid *c = karg;

	if (!hvx_vmx_usable())
		return -EOPNOTSUPP;
	hvx_vmx_cpuid_default(c->entries, &c->nent, 0);
	return 0;
}

static const struct hvx_ioctl_desc dev_ioctls[] = {
	{ HVX_GET_API_VERSION, 0, dev_get_api_version },
	{ HVX_CREATE_VM, 0, dev_create_vm },
	{ HVX_GET_VCPU_MMAP_SIZE, 0, dev_get_vcpu_mmap_size },
	{ HVX_GET_SUPPORTED_CPUID, 0, dev_get_supported_cpuid },
};

static long hvx_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	return hvx_ioctl(dev_ioctls, ARRAY_SIZE(dev_ioctls), NULL, NULL, NULL,
			 cmd, arg);
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
