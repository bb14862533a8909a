// SPDX-License-Identifier: GPL-2.0
/*
 * owner.c - who owns a PCI device. hvx's stub driver "hvx-pci", the
 * checks made before a VM may have a device (an administrator bound it to
 * the stub, a viable IOMMU group, one VM at a time, an IOMMU and
 * interrupt remapping, or the unsafe parameters), the assignment itself,
 * and the release that resets the device and hands it back to the stub.
 *
 * The model is VFIO's: an administrator hands a device over by binding
 * it to "hvx-pci" (driver_override and a probe, or new_id), as to
 * vfio-pci; opening /dev/hvx alone takes nothing, and a device that
 * merely has no driver is refused. Every device of its IOMMU group must
 * be driverless or held by a stub, because the group shares one IOMMU
 * context; and while a VM owns the group, the IOMMU core's DMA ownership
 * claim (iommu_group_claim_dma_owner()) keeps DMA-API drivers off it.
 * The group's MSIs must be isolated (interrupt remapping), or else a
 * device's DMA to the MSI window raises any interrupt on any host CPU;
 * the module parameter allow_unsafe_interrupts accepts it, as VFIO's does.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/file.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "pt.h"
#include "../kmod/compat.h"

/* Serialises assignment and release across VMs; guards hvx_pt_assigned. */
DEFINE_MUTEX(hvx_pt_mutex);
static LIST_HEAD(hvx_pt_assigned);

bool hvx_pt_allow_unsafe_noiommu;
module_param_named(allow_unsafe_noiommu, hvx_pt_allow_unsafe_noiommu, bool,
		   0644);
MODULE_PARM_DESC(allow_unsafe_noiommu,
		 "Allow assigning PCI devices that no IOMMU isolates: their DMA reaches all host memory; taints the kernel (default 0)");

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Allow assigning PCI devices whose IOMMU does not isolate MSIs (no interrupt remapping): their DMA can raise any interrupt on the host; taints the kernel (default 0)");

static int stub_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	pci_info(pdev, "hvx: held by the hvx-pci stub for passthrough\n");
	return 0;
}

/*
 * Unbinding the stub from an assigned device (by hand, through sysfs)
 * frees the device's devres, MSI bookkeeping included: turn the device's
 * interrupts off first. The device stays assigned otherwise (its
 * driver_override and the group's DMA ownership keep host drivers off).
 * Context: device lock held; must not take hvx_pt_mutex (taken before
 * the device lock elsewhere).
 */
static void stub_remove(struct pci_dev *pdev)
{
	struct hvx_pt_dev *dev = pci_get_drvdata(pdev);

	if (!dev)
		return;
	mutex_lock(&dev->lock);
	hvx_pt_irq_disable(dev);
	mutex_unlock(&dev->lock);
	pci_set_drvdata(pdev, NULL);
	pci_warn(pdev, "hvx: stub unbound while assigned: device interrupts off\n");
}

/*
 * No id table: the stub binds only where driver_override names it (or a
 * new_id is written). It does no DMA of its own, so it may bind while a
 * VM owns the device's IOMMU group (driver_managed_dma, as vfio-pci).
 */
static struct pci_driver hvx_pt_stub = {
	.name			= HVX_PT_STUB_NAME,
	.probe			= stub_probe,
	.remove			= stub_remove,
	.driver_managed_dma	= true,
};

/* Let stub_remove() find the assignment (NULL: forget it). */
static void stub_link(struct hvx_pt_dev *dev, struct hvx_pt_dev *val)
{
	struct pci_dev *pdev = dev->pdev;

	device_lock(&pdev->dev);
	if (pdev->dev.driver == &hvx_pt_stub.driver &&
	    pci_get_drvdata(pdev) == (val ? NULL : dev))
		pci_set_drvdata(pdev, val);
	device_unlock(&pdev->dev);
}

/**
 * hvx_pt_stub_register - register the "hvx-pci" stub driver
 *
 * Context: module init.
 * Return: 0 or the error of pci_register_driver().
 */
int hvx_pt_stub_register(void)
{
	return pci_register_driver(&hvx_pt_stub);
}

/**
 * hvx_pt_stub_unregister - unregister the stub; devices it held become
 * driverless and can be bound to their host drivers.
 *
 * Context: module exit; no device is assigned any more (every VM is gone).
 */
void hvx_pt_stub_unregister(void)
{
	WARN_ON(!list_empty(&hvx_pt_assigned));
	pci_unregister_driver(&hvx_pt_stub);
}

/* A driver that leaves a group viable (VFIO's list, with our stub). */
static bool driver_viable(const struct device_driver *drv)
{
	return !drv || drv == &hvx_pt_stub.driver ||
	       !strcmp(drv->name, "pci-stub") || !strcmp(drv->name, "pcieport");
}

struct viable_ctx {
	char dev[32];
	char drv[32];
};

/*
 * Called under the group's mutex, which device probing takes inside the
 * device lock: read the driver without that lock, as VFIO does. A driver
 * binding meanwhile is stopped by the DMA ownership claim that follows.
 */
static int viable_one(struct device *dev, void *data)
{
	const struct device_driver *drv = READ_ONCE(dev->driver);
	struct viable_ctx *ctx = data;

	if (driver_viable(drv))
		return 0;
	strscpy(ctx->dev, dev_name(dev), sizeof(ctx->dev));
	strscpy(ctx->drv, drv->name, sizeof(ctx->drv));
	return -EPERM;
}

static void dev_free(struct kref *ref)
{
	struct hvx_pt_dev *dev = container_of(ref, struct hvx_pt_dev, ref);

	pci_dev_put(dev->pdev);
	kfree(dev->msix_table);
	kfree(dev);
}

/**
 * hvx_pt_dev_put - drop a reference to an assigned device's object
 * @dev: the device object.
 *
 * Context: process context.
 */
void hvx_pt_dev_put(struct hvx_pt_dev *dev)
{
	kref_put(&dev->ref, dev_free);
}

/**
 * hvx_pt_dev_reset - reset an assigned device with the best method it has
 * @dev: the device; interrupts must be off.
 *
 * pci_reset_function() tries, in order, device-specific reset, FLR (PCIe
 * Base Spec 6.6.2; or the Advanced Features capability), a D3hot->D0
 * power-management reset (PCI PM Spec 1.2, 5.6.1, when No_Soft_Reset is
 * clear) and a secondary bus reset of a slot or bus it has alone; it
 * saves and restores the config space around the reset.
 * Context: process context, may sleep; takes the device lock.
 * Return: 0, or -ENOTTY if the device has no reset method.
 */
int hvx_pt_dev_reset(struct hvx_pt_dev *dev)
{
	return pci_reset_function(dev->pdev);
}

static struct hvx_pt_dev *find_assigned(struct pci_dev *pdev)
{
	struct hvx_pt_dev *dev;

	lockdep_assert_held(&hvx_pt_mutex);
	list_for_each_entry(dev, &hvx_pt_assigned, global_node)
		if (dev->pdev == pdev)
			return dev;
	return NULL;
}

/* Another VM owns a device of @group? */
static struct hvx_pt_vm *group_user(struct iommu_group *group)
{
	struct hvx_pt_dev *dev;

	list_for_each_entry(dev, &hvx_pt_assigned, global_node)
		if (dev->pt_group && dev->pt_group->group == group)
			return dev->ptvm;
	return NULL;
}

static struct hvx_pt_vm *ptvm_get(struct hvx_pt_host *h)
{
	struct hvx_pt_vm *ptvm = h->pt;

	lockdep_assert_held(&hvx_pt_mutex);
	if (ptvm)
		return ptvm;
	ptvm = kzalloc(sizeof(*ptvm), GFP_KERNEL_ACCOUNT);
	if (!ptvm)
		return NULL;
	ptvm->host = h;
	ptvm->vm = h->vm;
	mutex_init(&ptvm->lock);
	INIT_LIST_HEAD(&ptvm->devs);
	INIT_LIST_HEAD(&ptvm->groups);
	INIT_LIST_HEAD(&ptvm->ram);
	ptvm->ack.acked = hvx_pt_intx_eoi;
	h->pt = ptvm;
	hvx_irq_register_ack_notifier(h->vm, &ptvm->ack);
	return ptvm;
}

/* Put driver_override back as it was before assignment. */
static void restore_override(struct hvx_pt_dev *dev)
{
	const char *s = dev->old_override ? dev->old_override : "";

	if (hvx_pci_override_set(dev->pdev, s))
		dev_warn_ratelimited(&dev->pdev->dev, "hvx: could not restore driver_override\n");
	kfree(dev->old_override);
	dev->old_override = NULL;
}

/* Is the stub bound to @pdev? Context: the device lock is held. */
static bool stub_holds(struct pci_dev *pdev)
{
	return pdev->dev.driver == &hvx_pt_stub.driver;
}

/*
 * Only a device an administrator bound to the stub may be assigned: a
 * host driver on it gives -EBUSY, no driver at all -EACCES (having no
 * driver grants nothing; VFIO likewise takes only vfio-pci's devices).
 */
static int stub_check(struct pci_dev *pdev)
{
	const char *drv = NULL;
	bool held;

	device_lock(&pdev->dev);
	held = stub_holds(pdev);
	if (!held && pdev->dev.driver)
		drv = pdev->dev.driver->name;
	device_unlock(&pdev->dev);
	if (drv) {
		pci_info_ratelimited(pdev, "hvx: not assigned: bound to host driver %s (an administrator must bind it to %s)\n",
				     drv, HVX_PT_STUB_NAME);
		return -EBUSY;
	}
	if (!held) {
		pci_info_ratelimited(pdev, "hvx: not assigned: not bound to %s (an administrator must bind it: driver_override and drivers_probe)\n",
				     HVX_PT_STUB_NAME);
		return -EACCES;
	}
	return 0;
}

/*
 * While the VM has the device, driver_override names the stub, so that
 * no host driver can probe it should the stub be unbound by hand (also
 * without an IOMMU, where no DMA ownership claim guards it). Fails with
 * -EACCES if the stub was unbound since stub_check().
 */
static int take_from_host(struct hvx_pt_dev *dev)
{
	struct pci_dev *pdev = dev->pdev;
	bool held;
	int ret;

	dev->old_override = hvx_pci_override_dup(pdev);
	ret = hvx_pci_override_set(pdev, HVX_PT_STUB_NAME);
	if (ret) {
		kfree(dev->old_override);
		dev->old_override = NULL;
		return ret;
	}
	device_lock(&pdev->dev);
	held = stub_holds(pdev);
	device_unlock(&pdev->dev);
	if (!held) {
		pci_info_ratelimited(pdev, "hvx: not assigned: %s unbound meanwhile\n",
				     HVX_PT_STUB_NAME);
		restore_override(dev);
		return -EACCES;
	}
	return 0;
}

/* driver_override back; the stub keeps the device until the admin unbinds it. */
static void give_to_host(struct hvx_pt_dev *dev)
{
	restore_override(dev);
}

/*
 * Without interrupt remapping a device's DMA write to the MSI window
 * raises whatever interrupt it encodes on the host: refuse unless the
 * administrator accepted that (allow_unsafe_interrupts).
 */
static int isolation_check(struct pci_dev *pdev, struct iommu_group *group,
			   bool *unsafe)
{
	*unsafe = !hvx_iommu_group_msi_isolated(group);
	if (*unsafe && !allow_unsafe_interrupts) {
		pci_info_ratelimited(pdev, "hvx: not assigned: the IOMMU does not isolate its MSIs (no interrupt remapping); module parameter allow_unsafe_interrupts=1 allows it, unsafely\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int check_group(struct hvx_pt_vm *ptvm, struct pci_dev *pdev,
		       struct iommu_group *group)
{
	struct viable_ctx ctx = { };
	struct hvx_pt_vm *user;

	user = group_user(group);
	if (user && user != ptvm) {
		pci_info_ratelimited(pdev, "hvx: not assigned: IOMMU group %d is used by VM %u\n",
				     iommu_group_id(group), user->host->id);
		return -EBUSY;
	}
	if (iommu_group_for_each_dev(group, &ctx, viable_one)) {
		pci_info_ratelimited(pdev, "hvx: not assigned: IOMMU group %d not viable: %s is bound to host driver %s\n",
				     iommu_group_id(group), ctx.dev, ctx.drv);
		return -EPERM;
	}
	return 0;
}

/* segment << 16 | bus << 8 | devfn, as HVX_A_DEVICE has it. */
static u32 dev_id(struct pci_dev *pdev)
{
	return (u32)pci_domain_nr(pdev->bus) << 16 | pdev->bus->number << 8 |
	       pdev->devfn;
}

/*
 * Give the device back; hvx_pt_mutex and ptvm->lock are held. @reason
 * (enum hvx_release_reason) goes into HVX_EVENT_DEVICE_RELEASED;
 * HVX_RELEASE_UNSPEC (an assignment that failed late) sends no event.
 */
static void dev_release(struct hvx_pt_dev *dev, u32 reason)
{
	struct pci_dev *pdev = dev->pdev;
	struct hvx_pt_vm *ptvm = dev->ptvm;

	stub_link(dev, NULL);
	/* Off the guest's bus first: config accesses take dev->lock. */
	hvx_pt_guest_detach(dev);
	mutex_lock(&dev->lock);
	dev->alive = false;
	hvx_pt_guest_sync(dev);		/* BARs out of the EPT */
	hvx_pt_irq_disable(dev);
	hvx_pt_config_exit(dev);
	mutex_unlock(&dev->lock);
	/* No trapped BAR access runs any more (they take dev->lock). */
	hvx_pt_traps_unregister(dev);
	/* No user mapping of a BAR survives, nor can one be faulted in. */
	hvx_pt_devfd_revoke(dev);

	/* Quiesce before the DMA context goes: no bus mastering, a reset. */
	pci_clear_master(pdev);
	if (dev->reset_works && hvx_pt_dev_reset(dev))
		dev_warn_ratelimited(&pdev->dev, "hvx: reset at release failed\n");
	if (dev->saved && !pci_load_and_free_saved_state(pdev, &dev->saved))
		pci_restore_state(pdev);
	pci_disable_device(pdev);
	hvx_pt_domain_detach(ptvm, dev);
	give_to_host(dev);

	list_del(&dev->vm_node);
	list_del(&dev->global_node);
	pci_info_ratelimited(pdev, "hvx: released by VM %u\n", ptvm->host->id);
	if (reason)
		hvx_netlink_device_event(ptvm->vm, HVX_EVENT_DEVICE_RELEASED,
					 dev_id(pdev), reason);
	hvx_pt_dev_put(dev);
}

static struct hvx_pt_dev *dev_assign(struct hvx_pt_vm *ptvm,
				     struct pci_dev *pdev)
{
	struct iommu_group *group;
	struct hvx_pt_dev *dev;
	bool unsafe_irqs = false;
	int ret;

	if (find_assigned(pdev)) {
		pci_info_ratelimited(pdev, "hvx: not assigned: already assigned to VM %u\n",
				     find_assigned(pdev)->ptvm->host->id);
		return ERR_PTR(-EEXIST);
	}
	group = iommu_group_get(&pdev->dev);
	if (!group && !hvx_pt_allow_unsafe_noiommu) {
		pci_info_ratelimited(pdev, "hvx: not assigned: no IOMMU isolates it (module parameter allow_unsafe_noiommu=1 allows it, unsafely)\n");
		return ERR_PTR(-EOPNOTSUPP);
	}
	/* Unisolated DMA reaches all memory: as VFIO's no-IOMMU mode. */
	if (!group && !capable(CAP_SYS_RAWIO)) {
		pci_info_ratelimited(pdev, "hvx: not assigned: no IOMMU and the caller lacks CAP_SYS_RAWIO\n");
		return ERR_PTR(-EPERM);
	}
	ret = -ENOMEM;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		goto err_group;
	kref_init(&dev->ref);
	mutex_init(&dev->lock);
	mutex_init(&dev->map_lock);
	spin_lock_init(&dev->irq_lock);
	address_space_init_once(&dev->mapping);
	dev->pdev = pci_dev_get(pdev);
	dev->ptvm = ptvm;

	/* The device's own driver first, for the clearer refusal. */
	ret = stub_check(pdev);
	if (ret)
		goto err_free;
	if (group) {
		ret = check_group(ptvm, pdev, group);
		if (!ret)
			ret = isolation_check(pdev, group, &unsafe_irqs);
		if (ret)
			goto err_free;
	}
	ret = take_from_host(dev);
	if (ret)
		goto err_free;
	ret = hvx_pt_domain_attach(ptvm, dev, group);
	group = NULL;	/* the domain code owns the reference now */
	if (ret)
		goto err_override;
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_domain;
	ret = hvx_pt_dev_reset(dev);
	dev->reset_works = !ret;
	if (ret)
		pci_info_ratelimited(pdev, "hvx: no reset method (%d); assigned as it is\n",
				     ret);
	pci_save_state(pdev);
	dev->saved = pci_store_saved_state(pdev);
	ret = hvx_pt_config_init(dev);
	if (ret)
		goto err_state;
	ret = hvx_pt_guest_attach(dev);
	if (ret) {
		hvx_pt_config_exit(dev);
		goto err_state;
	}
	mutex_lock(&dev->lock);
	dev->alive = true;
	hvx_pt_guest_sync(dev);
	hvx_pt_guest_irq_init(dev);
	mutex_unlock(&dev->lock);
	hvx_pt_devfd_allow(dev);
	stub_link(dev, dev);
	list_add_tail(&dev->vm_node, &ptvm->devs);
	list_add_tail(&dev->global_node, &hvx_pt_assigned);
	/* Unsafe modes taint once they are in force, not on a refusal. */
	if (!dev->pt_group) {
		add_taint(TAINT_USER, LOCKDEP_STILL_OK);
		dev_warn_ratelimited(&pdev->dev, "hvx: assigned WITHOUT an IOMMU (allow_unsafe_noiommu): its DMA can reach all host memory; kernel tainted\n");
	} else if (unsafe_irqs) {
		add_taint(TAINT_USER, LOCKDEP_STILL_OK);
		dev_warn_ratelimited(&pdev->dev, "hvx: assigned WITHOUT interrupt remapping (allow_unsafe_interrupts): its DMA can raise any host interrupt; kernel tainted\n");
	}
	pci_info_ratelimited(pdev, "hvx: assigned to VM %u%s\n", ptvm->host->id,
			     dev->pt_group ? "" : " (no IOMMU)");
	return dev;

err_state:
	if (dev->saved && !pci_load_and_free_saved_state(pdev, &dev->saved))
		pci_restore_state(pdev);
	pci_disable_device(pdev);
err_domain:
	hvx_pt_domain_detach(ptvm, dev);
err_override:
	give_to_host(dev);
err_free:
	hvx_pt_dev_put(dev);
err_group:
	iommu_group_put(group);
	return ERR_PTR(ret);
}

/* @d->reserved is checked by the ioctl dispatcher (HVX_IOCTL_RSVD). */
static int check_addr(const struct hvx_pci_device *d)
{
	if (d->pad || d->flags || d->segment > 0xffff)
		return -EINVAL;
	return 0;
}

static struct pci_dev *get_pdev(const struct hvx_pci_device *d)
{
	struct pci_dev *pdev;

	pdev = pci_get_domain_bus_and_slot(d->segment, d->bus, d->devfn);
	if (!pdev)
		pr_info_ratelimited("%04x:%02x:%02x.%d: no such PCI device\n",
				    d->segment, d->bus, PCI_SLOT(d->devfn),
				    PCI_FUNC(d->devfn));
	return pdev;
}

/**
 * hvx_pt_assign - HVX_ASSIGN_DEVICE: give a PCI device to a VM
 * @h: the VM.
 * @d: the device's address, as passed by userspace.
 *
 * Checks everything listed in uapi/hvx.h ("PCI passthrough"), attaches
 * the device's IOMMU group to the VM's domain, enables and resets the
 * device, saves its config space for release, and returns a device fd;
 * multicasts HVX_EVENT_DEVICE_ASSIGNED (hvx_netlink_device_event()).
 * Context: process context of the VM's creator (pins guest memory when
 * the VM's IOMMU domain is created); takes hvx_pt_mutex.
 * Return: a device fd, or -EINVAL, -ENODEV, -EBUSY, -EACCES (not bound
 * to the stub), -EPERM, -EEXIST, -EOPNOTSUPP (no IOMMU, or no interrupt
 * remapping, without the unsafe parameter), -EADDRINUSE (guest RAM over
 * an IOMMU reserved region), -ENOMEM, or an IOMMU or fd error; nothing
 * changes on error.
 */
long hvx_pt_assign(struct hvx_pt_host *h, const struct hvx_pci_device *d)
{
	struct hvx_pt_dev *dev;
	struct hvx_pt_vm *ptvm;
	struct pci_dev *pdev;
	struct file *file;
	int fd, ret;

	ret = check_addr(d);
	if (ret)
		return ret;
	pdev = get_pdev(d);
	if (!pdev)
		return -ENODEV;
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL) {
		pci_info_ratelimited(pdev, "hvx: not assigned: not an endpoint (header type %d)\n",
				     pdev->hdr_type);
		pci_dev_put(pdev);
		return -EINVAL;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		pci_dev_put(pdev);
		return fd;
	}

	mutex_lock(&hvx_pt_mutex);
	ptvm = ptvm_get(h);
	if (!ptvm) {
		ret = -ENOMEM;
		goto out;
	}
	mutex_lock(&ptvm->lock);
	dev = dev_assign(ptvm, pdev);
	ret = PTR_ERR_OR_ZERO(dev);
	if (!ret) {
		file = hvx_pt_devfd_create(dev);
		ret = PTR_ERR_OR_ZERO(file);
		if (ret)
			dev_release(dev, HVX_RELEASE_UNSPEC);
		else
			hvx_netlink_device_event(h->vm, HVX_EVENT_DEVICE_ASSIGNED,
						 dev_id(pdev), 0);
	}
	mutex_unlock(&ptvm->lock);
out:
	mutex_unlock(&hvx_pt_mutex);
	pci_dev_put(pdev);
	if (ret) {
		put_unused_fd(fd);
		return ret;
	}
	fd_install(fd, file);
	return fd;
}

/**
 * hvx_pt_unassign - HVX_UNASSIGN_DEVICE: give a device back to the host
 * @h: the VM.
 * @d: the device's address.
 *
 * Multicasts HVX_EVENT_DEVICE_RELEASED with HVX_RELEASE_UNASSIGN.
 * Context: process context; takes hvx_pt_mutex.
 * Return: 0, -EINVAL (bad fields), -ENODEV (no such device), -ENOENT
 * (not assigned to @h).
 */
long hvx_pt_unassign(struct hvx_pt_host *h, const struct hvx_pci_device *d)
{
	struct hvx_pt_dev *dev, *found = NULL;
	struct pci_dev *pdev;
	int ret;

	ret = check_addr(d);
	if (ret)
		return ret;
	pdev = get_pdev(d);
	if (!pdev)
		return -ENODEV;
	mutex_lock(&hvx_pt_mutex);
	if (h->pt) {
		mutex_lock(&h->pt->lock);
		list_for_each_entry(dev, &h->pt->devs, vm_node)
			if (dev->pdev == pdev)
				found = dev;
		if (found)
			dev_release(found, HVX_RELEASE_UNASSIGN);
		mutex_unlock(&h->pt->lock);
	}
	mutex_unlock(&hvx_pt_mutex);
	pci_dev_put(pdev);
	return found ? 0 : -ENOENT;
}

/**
 * hvx_pt_vm_destroy - release every device of a VM that is going away
 * @h: the VM; no vCPU runs any more. Its memory is still intact.
 *
 * Called before the VM's memory is torn down, so that no device can DMA
 * to pages about to be unpinned. Runs also when the VM's owner is killed
 * (its fds are closed at exit). Each device's HVX_EVENT_DEVICE_RELEASED
 * says HVX_RELEASE_OWNER_EXITED when the caller is an exiting process
 * (PF_EXITING: its files are closed by do_exit()), else
 * HVX_RELEASE_VM_DESTROYED.
 * Context: process context; takes hvx_pt_mutex.
 */
void hvx_pt_vm_destroy(struct hvx_pt_host *h)
{
	struct hvx_pt_vm *ptvm = h->pt;
	struct hvx_pt_dev *dev, *tmp;
	u32 reason;

	if (!ptvm)
		return;
	/* The last fd went with its process's exit (exit(), kill -9)? */
	reason = current->flags & PF_EXITING ? HVX_RELEASE_OWNER_EXITED :
					       HVX_RELEASE_VM_DESTROYED;
	mutex_lock(&hvx_pt_mutex);
	mutex_lock(&ptvm->lock);
	list_for_each_entry_safe(dev, tmp, &ptvm->devs, vm_node)
		dev_release(dev, reason);
	WARN_ON(ptvm->domain || !list_empty(&ptvm->groups));
	mutex_unlock(&ptvm->lock);
	mutex_unlock(&hvx_pt_mutex);
	hvx_irq_unregister_ack_notifier(h->vm, &ptvm->ack);
	h->pt = NULL;
	kfree(ptvm);
}

/**
 * hvx_pt_nr_devices - number of PCI devices assigned to a VM
 * @h: the VM.
 *
 * Context: process context; takes hvx_pt_mutex and the VM's passthrough
 * lock.
 * Return: the count (0 if none was ever assigned).
 */
unsigned int hvx_pt_nr_devices(struct hvx_pt_host *h)
{
	struct hvx_pt_dev *dev;
	unsigned int n = 0;

	mutex_lock(&hvx_pt_mutex);
	if (h->pt) {
		mutex_lock(&h->pt->lock);
		list_for_each_entry(dev, &h->pt->devs, vm_node)
			n++;
		mutex_unlock(&h->pt->lock);
	}
	mutex_unlock(&hvx_pt_mutex);
	return n;
}
