// SPDX-License-Identifier: GPL-2.0
/*
 * vm.c - the VM object and its fd: memory slots and vCPU creation.
 *
 * A VM lives while its fd or any of its vCPU fds is open. The VM holds
 * VMX root mode (hvx_vmx_get()) for its whole life, and is listed in the
 * registry (registry.c) under its id for the netlink family, which sends
 * an event when a VM is created and when it is destroyed.
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "hvx_core.h"
#include "../iommu/iommu.h"

/*
 * Module-wide limits (resource control); 0 means no limit. They are not
 * security controls: they count all users together, so one user can take
 * them all from the others. Per-user bounds come from the memory cgroup
 * and RLIMIT_MEMLOCK (see ept/README.md).
 */
static unsigned int max_vms = 64;
module_param(max_vms, uint, 0644);
MODULE_PARM_DESC(max_vms, "Most VMs that may exist at once; HVX_CREATE_VM fails with ENOSPC beyond (0: no limit)");
static unsigned int max_vcpus = 256;
module_param(max_vcpus, uint, 0644);
MODULE_PARM_DESC(max_vcpus, "Most vCPUs that may exist at once in all VMs; HVX_CREATE_VCPU fails with ENOSPC beyond (0: no limit)");
static atomic_t nr_vms = ATOMIC_INIT(0);
static atomic_t nr_vcpus_all = ATOMIC_INIT(0);

/* Take one unit of @count unless that would exceed @max (0: no limit). */
static bool limit_get(atomic_t *count, unsigned int max)
{
	unsigned int n = atomic_inc_return(count);

	if (max && n > max) {
		atomic_dec(count);
		return false;
	}
	return true;
}

/**
 * hvx_vcpu_charge - count a new vCPU against the max_vcpus parameter
 *
 * Context: any.
 * Return: true if the vCPU may be created; then hvx_vcpu_uncharge() must
 * be called when it is freed.
 */
bool hvx_vcpu_charge(void)
{
	return limit_get(&nr_vcpus_all, READ_ONCE(max_vcpus));
}

/**
 * hvx_vcpu_uncharge - a vCPU counted by hvx_vcpu_charge() is gone
 *
 * Context: any.
 */
void hvx_vcpu_uncharge(void)
{
	atomic_dec(&nr_vcpus_all);
}

static void vm_free(struct kref *ref)
{
	struct hvx_vm *vm = container_of(ref, struct hvx_vm, ref);

	/* Unlisted first: nobody reads the VM while it is taken apart. */
	if (vm->id) {
		hvx_registry_remove(vm);
		hvx_netlink_vm_event(vm, HVX_EVENT_VM_DESTROYED);
	}
	/* Assigned devices go back first: no DMA into RAM about to go. */
	hvx_pt_vm_destroy(vm);
	hvx_platform_destroy(vm);
	hvx_bus_destroy(vm);
	/* No vCPU is left; drop stale EPT translations before unpinning. */
	hvx_ept_flush_all_cpus(&vm->mem);
	hvx_mem_destroy(&vm->mem);
	if (vm->io_bitmap)
		free_pages((unsigned long)vm->io_bitmap, 1);
	if (!(vm->flags & HVX_VM_NO_VCPUS))
		hvx_vmx_put();
	mmdrop(vm->mm);
	put_pid(vm->owner_pid);
	kfree(vm);
	atomic_dec(&nr_vms);
}

/**
 * hvx_vm_put - drop a reference to a VM, freeing it on the last one
 * @vm: the VM.
 *
 * Context: process context, may sleep.
 */
void hvx_vm_put(struct hvx_vm *vm)
{
	kref_put(&vm->ref, vm_free);
}

static long vm_set_memory_region(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vm *vm = obj;

	return hvx_mem_set_region(&vm->mem, karg);
}

static long vm_get_dirty_log(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vm *vm = obj;

	return hvx_mem_get_dirty_log(&vm->mem, karg);
}

static long vm_set_mem_limit(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vm *vm = obj;

	return hvx_mem_set_limit(&vm->mem, karg);
}

static long vm_get_mem_info(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vm *vm = obj;

	hvx_mem_get_info(&vm->mem, karg);
	return 0;
}

static long vm_create_vcpu(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vm *vm = obj;

	if (vm->flags & HVX_VM_NO_VCPUS)
		return -EINVAL;	/* a DMA-only VM */
	return hvx_vcpu_create(obj, arg);
}

static long vm_assign_device(void *obj, void *karg, unsigned long arg)
{
	return hvx_pt_assign(obj, karg);
}

static long vm_unassign_device(void *obj, void *karg, unsigned long arg)
{
	return hvx_pt_unassign(obj, karg);
}

static long vm_set_tsc_offset(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vm *vm = obj;
	struct hvx_tsc_offset *t = karg;
	int i;

	for (i = 0; i < ARRAY_SIZE(t->reserved); i++)
		if (t->reserved[i])
			return -EINVAL;
	mutex_lock(&vm->lock);
	WRITE_ONCE(vm->tsc_offset, t->offset);
	atomic_inc(&vm->tsc_gen);
	mutex_unlock(&vm->lock);
	return 0;
}

static long vm_get_tsc_offset(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vm *vm = obj;
	struct hvx_tsc_offset *t = karg;

	t->offset = READ_ONCE(vm->tsc_offset);
	return 0;
}

static long vm_send_ipi(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vm *vm = obj;
	struct hvx_ipi *ipi = karg;
	long ret = 0;

	if ((ipi->kind != HVX_IPI_INIT && ipi->kind != HVX_IPI_SIPI) ||
	    ipi->pad[0] || ipi->pad[1] || ipi->reserved[0] || ipi->reserved[1])
		return -EINVAL;
	if (ipi->vcpu_id >= HVX_MAX_VCPUS)
		return -ENOENT;
	/* vm->lock keeps the vCPU from being freed; sending never sleeps. */
	mutex_lock(&vm->lock);
	if (vm->vcpus[ipi->vcpu_id])
		hvx_vmx_send_ipi(&vm->vcpus[ipi->vcpu_id]->vmx, ipi->kind,
				 ipi->vector);
	else
		ret = -ENOENT;
	mutex_unlock(&vm->lock);
	return ret;
}

static long vm_create_platform(void *obj, void *karg, unsigned long arg)
{
	struct hvx_platform_config *c = karg;
	int i;

	if (!c->devices || (c->devices & ~HVX_PLATFORM_ALL) || c->flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(c->reserved); i++)
		if (c->reserved[i])
			return -EINVAL;
	return hvx_platform_create(obj, c->devices);
}

static long vm_irq_line(void *obj, void *karg, unsigned long arg)
{
	return hvx_irq_line(obj, karg);
}

static long vm_signal_msi(void *obj, void *karg, unsigned long arg)
{
	return hvx_signal_msi(obj, karg);
}

static long vm_irqfd(void *obj, void *karg, unsigned long arg)
{
	return hvx_irqfd(obj, karg);
}

static long vm_get_console_fd(void *obj, void *karg, unsigned long arg)
{
	return hvx_uart_console_fd(obj, arg);
}

static long vm_set_cmos(void *obj, void *karg, unsigned long arg)
{
	return hvx_rtc_cmos(obj, karg, true);
}

static long vm_get_cmos(void *obj, void *karg, unsigned long arg)
{
	return hvx_rtc_cmos(obj, karg, false);
}

static const struct hvx_ioctl_desc vm_ioctls[] = {
	{ HVX_SET_MEMORY_REGION, HVX_IOC_OWNER, vm_set_memory_region },
	{ HVX_GET_DIRTY_LOG, 0, vm_get_dirty_log },
	/* Not HVX_IOC_OWNER: a VMM's own guard, not a host protection. */
	{ HVX_SET_MEM_LIMIT, 0, vm_set_mem_limit },
	{ HVX_GET_MEM_INFO, 0, vm_get_mem_info },
	{ HVX_CREATE_VCPU, HVX_IOC_OWNER, vm_create_vcpu },
	{ HVX_SET_TSC_OFFSET, 0, vm_set_tsc_offset },
	{ HVX_GET_TSC_OFFSET, 0, vm_get_tsc_offset },
	{ HVX_SEND_IPI, 0, vm_send_ipi },
	{ HVX_CREATE_PLATFORM, HVX_IOC_OWNER, vm_create_platform },
	{ HVX_IRQ_LINE, 0, vm_irq_line },
	{ HVX_SIGNAL_MSI, 0, vm_signal_msi },
	{ HVX_IRQFD, 0, vm_irqfd },
	{ HVX_ASSIGN_DEVICE, HVX_IOC_OWNER, vm_assign_device },
	{ HVX_UNASSIGN_DEVICE, 0, vm_unassign_device },
	/* Platform devices (dev/uart.c, dev/rtc.c), numbers 0x40-0x47. */
	{ HVX_GET_CONSOLE_FD, 0, vm_get_console_fd },
	{ HVX_SET_CMOS, 0, vm_set_cmos },
	{ HVX_GET_CMOS, 0, vm_get_cmos },
};

static long vm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hvx_vm *vm = file->private_data;

	return hvx_ioctl(vm_ioctls, ARRAY_SIZE(vm_ioctls), vm->mm, NULL, vm,
			 cmd, arg);
}

static int vm_release(struct inode *inode, struct file *file)
{
	hvx_vm_put(file->private_data);
	return 0;
}

static const struct file_operations hvx_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= vm_release,
	.unlocked_ioctl	= vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/**
 * hvx_vm_create - create a VM owned by the calling process
 * @flags: HVX_VM_* flags, already checked by the caller.
 *
 * The VM is listed in the registry with the caller's pid, effective uid
 * and command name as its owner, and HVX_EVENT_VM_CREATED is sent.
 * Context: process context.
 * Return: a new VM fd, or -EOPNOTSUPP (no usable VMX; a HVX_VM_NO_VCPUS
 * VM needs none), -EBUSY (VMX root mode held by another hypervisor),
 * -ENOMEM, -ENOSPC (max_vms VMs exist, or no VM id left), or an fd
 * allocation error.
 */
int hvx_vm_create(u32 flags)
{
	struct hvx_vm *vm;
	int ret, fd;

	if (!limit_get(&nr_vms, READ_ONCE(max_vms)))
		return -ENOSPC;
	ret = -ENOMEM;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		goto err_count;
	kref_init(&vm->ref);
	mutex_init(&vm->lock);
	vm->flags = flags;
	/*
	 * A DMA-only VM (HVX_VM_NO_VCPUS) never enters a guest: it needs no
	 * VMX root mode, and its EPT is never walked, so never flushed.
	 */
	ret = flags & HVX_VM_NO_VCPUS ? 0 : hvx_vmx_get();
	if (ret)
		goto err_free;
	ret = hvx_mem_init(&vm->mem);
	if (ret)
		goto err_vmx;
	vm->mem.no_ept = flags & HVX_VM_NO_VCPUS;
	ret = hvx_bus_init(vm);
	if (ret)
		goto err_mem;
	vm->mm = current->mm;
	mmgrab(vm->mm);
	vm->owner_pid = get_task_pid(current, PIDTYPE_TGID);
	vm->owner_uid = current_euid();
	get_task_comm(vm->owner_comm, current);

	ret = hvx_registry_add(vm);
	if (ret) {
		hvx_vm_put(vm);
		return ret;
	}
	/*
	 * Before the fd exists, so that no close() of a guessed fd can
	 * announce the VM's end before its start.
	 */
	hvx_netlink_vm_event(vm, HVX_EVENT_VM_CREATED);
	fd = anon_inode_getfd("hvx-vm", &hvx_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		hvx_vm_put(vm);	/* sends HVX_EVENT_VM_DESTROYED */
	return fd;

err_mem:
	hvx_mem_destroy(&vm->mem);
err_vmx:
	if (!(flags & HVX_VM_NO_VCPUS))
		hvx_vmx_put();
err_free:
	kfree(vm);
err_count:
	atomic_dec(&nr_vms);
	return ret;
}
