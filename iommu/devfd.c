// SPDX-License-Identifier: GPL-2.0
/*
 * devfd.c - the device fd of an assigned device, shaped like a VFIO
 * device fd: regions read and written with pread/pwrite at
 * HVX_PCI_REGION_OFFSET(index), memory BARs mapped with mmap, interrupts
 * routed to eventfds, and a few ioctls to describe it all.
 *
 * The fd has an address space of its own, so that release can remove
 * every user mapping of the BARs at once (unmap_mapping_range()); pages
 * are inserted at fault time under the device lock, after checking the
 * device is still assigned, so none can appear after release.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "pt.h"
#include "../kmod/compat.h"
#include "../kmod/ioctl.h"

#define REGION_SHIFT	40
#define REGION_MASK	((1ULL << REGION_SHIFT) - 1)

static long do_get_info(struct hvx_pt_dev *dev,
			struct hvx_pci_device_info *info)
{
	struct pci_dev *pdev = dev->pdev;

	info->segment = pci_domain_nr(pdev->bus);
	info->bus = pdev->bus->number;
	info->devfn = pdev->devfn;
	info->vendor = pdev->vendor;
	info->device = pdev->device;
	info->iommu_group = -1;
	if (dev->pt_group)
		info->iommu_group = iommu_group_id(dev->pt_group->group);
	else
		info->flags |= HVX_PCI_DEV_NOIOMMU;
	if (dev->reset_works)
		info->flags |= HVX_PCI_DEV_RESET;
	if (dev->intx_maskable)
		info->flags |= HVX_PCI_DEV_INTX_MASK;
	info->msi_vectors = dev->msi_vectors;
	info->msix_vectors = dev->msix_vectors;
	info->irq_pin = pdev->irq ? pdev->pin : 0;
	return 0;
}

static long do_get_region_info(struct hvx_pt_dev *dev,
			       struct hvx_pci_region_info *r)
{
	u32 index = r->index;

	if (index >= HVX_PCI_NUM_REGIONS)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->index = index;
	r->offset = HVX_PCI_REGION_OFFSET(index);
	if (index == HVX_PCI_REGION_CONFIG) {
		r->flags = HVX_PCI_REGION_READ | HVX_PCI_REGION_WRITE;
		r->size = PCI_CFG_SPACE_EXP_SIZE;
	} else if (index < HVX_PT_NR_BARS) {
		struct hvx_pt_bar *b = &dev->bars[index];

		r->flags = b->flags;
		r->size = b->size;
		r->host_addr = b->host;
		if (b->size && hvx_pt_bar_in_msix(dev, index, 0, b->size,
						  &r->msix_offset,
						  &r->msix_size))
			r->flags |= HVX_PCI_REGION_MSIX;
	}
	/* HVX_PCI_REGION_ROM: hidden, size 0. */
	return 0;
}

static long do_reset(struct hvx_pt_dev *dev)
{
	long ret;

	if (!dev->reset_works)
		return -ENOTTY;
	hvx_pt_irq_disable(dev);
	/*
	 * Under the device fd's lock, which the stub's remove takes inside
	 * the device lock: only try that lock (-EAGAIN if busy).
	 */
	ret = pci_try_reset_function(dev->pdev);
	/* The guest's wiring (INTx or MSI) comes back; its config is restored. */
	hvx_pt_guest_irq_init(dev);
	hvx_pt_guest_sync(dev);
	return ret;
}

/*
 * The device fd's ioctls. Every call runs under the device lock
 * (HVX_IOC_LOCK_DEV) and only while the device is assigned; hvx_ioctl()
 * copies the argument in and out outside the lock: a user buffer may be
 * a mapping of this very device, whose fault handler takes the lock.
 */
static const struct hvx_ioctl devfd_ioctls[] = {
	HVX_IOCTL(HVX_DEVICE_GET_INFO, struct hvx_pci_device_info,
		  HVX_IOC_LOCK_DEV, 0),
	HVX_IOCTL(HVX_DEVICE_GET_REGION_INFO, struct hvx_pci_region_info,
		  HVX_IOC_LOCK_DEV, 0),
	HVX_IOCTL_RSVD(HVX_DEVICE_SET_IRQS, struct hvx_pci_irqs, reserved,
		       HVX_IOC_LOCK_DEV, 0),
	HVX_IOCTL_VAL(HVX_DEVICE_UNMASK_INTX, HVX_IOC_LOCK_DEV,
		      HVX_IOC_ARG_ZERO),
	HVX_IOCTL_VAL(HVX_DEVICE_RESET, HVX_IOC_LOCK_DEV, HVX_IOC_ARG_ZERO),
};

static long devfd_ioctl_call(void *obj, const struct hvx_ioctl *d,
			     void *karg, unsigned long arg)
{
	struct hvx_pt_dev *dev = obj;

	lockdep_assert_held(&dev->lock);
	if (!dev->alive)
		return -ENODEV;
	switch (d->cmd) {
	case HVX_DEVICE_GET_INFO:
		return do_get_info(dev, karg);
	case HVX_DEVICE_GET_REGION_INFO:
		return do_get_region_info(dev, karg);
	case HVX_DEVICE_SET_IRQS:
		return hvx_pt_irq_set(dev, karg);
	case HVX_DEVICE_UNMASK_INTX:
		return hvx_pt_intx_unmask(dev);
	case HVX_DEVICE_RESET:
		return do_reset(dev);
	}
	return -ENOTTY;
}

static const struct hvx_ioctl_table devfd_ioctl_table = {
	.ioctls = devfd_ioctls,
	.n = ARRAY_SIZE(devfd_ioctls),
	.call = devfd_ioctl_call,
};

static long devfd_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hvx_pt_dev *dev = file->private_data;
	const struct hvx_ioctl_target tgt = {
		.obj = dev,
		.locks = { [HVX_IOC_LOCK_DEV] = &dev->lock },
	};

	return hvx_ioctl(&devfd_ioctl_table, &tgt, cmd, arg);
}

/**
 * hvx_pt_bar_rw - one access to a BAR of the device, as its owner sees it
 * @dev: the device (its lock held, alive).
 * @bar: BAR index.
 * @off: offset in the BAR, bytes (ports for an I/O BAR), naturally
 *	aligned to @len.
 * @len: 1, 2, 4 or 8 bytes (not 8 for an I/O BAR).
 * @val: in for writes (low @len bytes), out for reads (zero-extended).
 * @write: a write.
 *
 * I/O BARs go to the host's ports (IN/OUT), memory BARs to their kernel
 * mapping, except the MSI-X table and PBA, which are emulated
 * (hvx_pt_msix_table_rw()). Used by the device fd and by the guest's
 * trapped accesses (trap.c).
 * Context: process context.
 * Return: 0, or -EINVAL for an access outside the BAR, of a bad size or
 * misaligned.
 */
int hvx_pt_bar_rw(struct hvx_pt_dev *dev, int bar, u64 off, unsigned int len,
		  u64 *val, bool write)
{
	struct hvx_pt_bar *b = &dev->bars[bar];
	u64 ms, msz;

	if (!b->size || off >= b->size || len > b->size - off ||
	    (len != 1 && len != 2 && len != 4 && len != 8) || (off & (len - 1)))
		return -EINVAL;
	if (b->flags & HVX_PCI_REGION_IO) {
		unsigned long port = b->host + off;

		switch (len) {
		case 1:
			if (write)
				outb(*val, port);
			else
				*val = inb(port);
			return 0;
		case 2:
			if (write)
				outw(*val, port);
			else
				*val = inw(port);
			return 0;
		case 4:
			if (write)
				outl(*val, port);
			else
				*val = inl(port);
			return 0;
		}
		return -EINVAL;
	}
	if (hvx_pt_bar_in_msix(dev, bar, off, len, &ms, &msz))
		return hvx_pt_msix_table_rw(dev, bar, off, len, val, write);
	switch (len) {
	case 1:
		if (write)
			writeb(*val, b->va + off);
		else
			*val = readb(b->va + off);
		break;
	case 2:
		if (write)
			writew(*val, b->va + off);
		else
			*val = readw(b->va + off);
		break;
	case 4:
		if (write)
			writel(*val, b->va + off);
		else
			*val = readl(b->va + off);
		break;
	case 8:
		if (write)
			writeq(*val, b->va + off);
		else
			*val = readq(b->va + off);
		break;
	}
	return 0;
}

/* Largest aligned config access at @off within @count bytes. */
static unsigned int cfg_chunk(u64 off, size_t count)
{
	if (!(off & 3) && count >= 4)
		return 4;
	if (!(off & 1) && count >= 2)
		return 2;
	return 1;
}

/*
 * pread/pwrite. The device is touched under its lock with kernel
 * buffers; user memory is copied outside the lock (a user buffer may be
 * a mapping of this very device, whose fault handler takes the lock).
 */
static ssize_t devfd_rw(struct file *file, char __user *ubuf, size_t count,
			loff_t *ppos, bool write)
{
	struct hvx_pt_dev *dev = file->private_data;
	u64 index = (u64)*ppos >> REGION_SHIFT, off = *ppos & REGION_MASK;
	size_t done = 0;
	int ret = 0;

	if (index >= HVX_PCI_NUM_REGIONS || index == HVX_PCI_REGION_ROM)
		return -EINVAL;
	if (index < HVX_PT_NR_BARS &&
	    (count != 1 && count != 2 && count != 4 && count != 8))
		return -EINVAL;
	while (done < count) {
		unsigned int len = index == HVX_PCI_REGION_CONFIG ?
				   cfg_chunk(off + done, count - done) : count;
		u64 val = 0;
		u32 v32;

		if (write && copy_from_user(&val, ubuf + done, len))
			return done ? done : -EFAULT;
		mutex_lock(&dev->lock);
		if (!dev->alive) {
			ret = -ENODEV;
		} else if (index == HVX_PCI_REGION_CONFIG) {
			if (write) {
				ret = hvx_pt_config_write(dev, off + done, len,
							  val);
				/* The EPT follows BARs the VMM moves, too. */
				if (!ret)
					hvx_pt_guest_sync(dev);
			} else {
				ret = hvx_pt_config_read(dev, off + done, len,
							 &v32);
				val = v32;
			}
		} else {
			ret = hvx_pt_bar_rw(dev, index, off + done, len, &val, write);
		}
		mutex_unlock(&dev->lock);
		if (ret)
			break;
		if (!write && copy_to_user(ubuf + done, &val, len)) {
			ret = -EFAULT;
			break;
		}
		done += len;
	}
	if (!done)
		return ret;
	*ppos += done;
	return done;
}

static ssize_t devfd_read(struct file *file, char __user *buf, size_t count,
			  loff_t *ppos)
{
	return devfd_rw(file, buf, count, ppos, false);
}

static ssize_t devfd_write(struct file *file, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	return devfd_rw(file, (char __user *)buf, count, ppos, true);
}

static vm_fault_t devfd_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct hvx_pt_dev *dev = vma->vm_private_data;
	u64 index = (u64)vma->vm_pgoff >> (REGION_SHIFT - PAGE_SHIFT);
	u64 off = ((u64)vma->vm_pgoff << PAGE_SHIFT & REGION_MASK) +
		  (vmf->address - vma->vm_start);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	mutex_lock(&dev->map_lock);
	if (dev->user_map)
		ret = vmf_insert_pfn(vma, vmf->address & PAGE_MASK,
				     (dev->bars[index].host + off) >> PAGE_SHIFT);
	mutex_unlock(&dev->map_lock);
	return ret;
}

static const struct vm_operations_struct devfd_vm_ops = {
	.fault = devfd_fault,
};

/*
 * mmap of a memory BAR (MAP_SHARED), page-aligned, outside the MSI-X
 * table and PBA pages, uncached (PCI BARs are device memory).
 */
static int devfd_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct hvx_pt_dev *dev = file->private_data;
	u64 index = (u64)vma->vm_pgoff >> (REGION_SHIFT - PAGE_SHIFT);
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT & REGION_MASK;
	u64 len = vma->vm_end - vma->vm_start, ms, msz;
	struct hvx_pt_bar *b;
	int ret = 0;

	if (index >= HVX_PT_NR_BARS || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	/* The BARs' host side is fixed while assigned: no dev->lock here. */
	mutex_lock(&dev->map_lock);
	b = &dev->bars[index];
	if (!dev->user_map)
		ret = -ENODEV;
	else if (!(b->flags & HVX_PCI_REGION_MMAP) ||
		 !PAGE_ALIGNED(b->host) || off >= b->size ||
		 len > PAGE_ALIGN(b->size) - off)
		ret = -EINVAL;
	else if (hvx_pt_bar_in_msix(dev, index, off, len, &ms, &msz))
		ret = -EACCES;
	mutex_unlock(&dev->map_lock);
	if (ret)
		return ret;
	vma->vm_private_data = dev;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	hvx_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &devfd_vm_ops;
	return 0;
}

static int devfd_release(struct inode *inode, struct file *file)
{
	hvx_pt_dev_put(file->private_data);
	return 0;
}

static const struct file_operations hvx_devfd_fops = {
	.owner		= THIS_MODULE,
	.release	= devfd_release,
	.read		= devfd_read,
	.write		= devfd_write,
	.mmap		= devfd_mmap,
	.unlocked_ioctl	= devfd_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= default_llseek,
};

/**
 * hvx_pt_devfd_create - make the device fd's file for an assignment
 * @dev: the new assignment; the file takes a reference.
 *
 * Context: process context.
 * Return: the file (not yet installed in an fd), or an ERR_PTR.
 */
struct file *hvx_pt_devfd_create(struct hvx_pt_dev *dev)
{
	struct file *file;

	file = anon_inode_getfile("hvx-device", &hvx_devfd_fops, dev, O_RDWR);
	if (IS_ERR(file))
		return file;
	kref_get(&dev->ref);
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE | FMODE_LSEEK;
	/* Own address space: release zaps this device's mappings only. */
	dev->mapping.host = file_inode(file);
	file->f_mapping = &dev->mapping;
	return file;
}

/**
 * hvx_pt_devfd_allow - let the device fd map the BARs
 * @dev: the device, assigned and alive.
 *
 * Context: process context; takes @dev->map_lock.
 */
void hvx_pt_devfd_allow(struct hvx_pt_dev *dev)
{
	mutex_lock(&dev->map_lock);
	dev->user_map = true;
	mutex_unlock(&dev->map_lock);
}

/**
 * hvx_pt_devfd_revoke - remove every user mapping of the device's BARs
 * @dev: the device being released.
 *
 * New mmaps and page faults fail from here on; the mappings made before
 * are zapped.
 * Context: process context, may sleep; takes @dev->map_lock.
 */
void hvx_pt_devfd_revoke(struct hvx_pt_dev *dev)
{
	mutex_lock(&dev->map_lock);
	dev->user_map = false;
	mutex_unlock(&dev->map_lock);
	unmap_mapping_range(&dev->mapping, 0, 0, 1);
}
