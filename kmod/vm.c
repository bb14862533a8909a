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
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "hvx_core.h"
#include "dev/virtio.h"

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
	hvx_pt_vm_destroy(&vm->pt);
	/* Likewise the virtio workers, before the bus they sit on. */
	hvx_virtio_vm_destroy(vm);
	hvx_platform_destroy(vm);
	hvx_bus_destroy(vm);
	/* No vCPU is left; drop stale EPT translations before unpinning. */
	hvx_ept_flush_all_cpus(&vm->mem);
	hvx_mem_destroy(&vm->mem);
	hvx_vmx_vm_destroy(&vm->vmx);
	if (!(vm->flags & HVX_VM_NO_VCPUS))
		hvx_vmx_put();
	mmdrop(vm->mm);
	put_pid(vm->owner_pid);
	cleanup_srcu_struct(&vm->irq_srcu);
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

/**
 * hvx_vm_has_ioapic - whether a VM has an in-kernel I/O APIC
 * @vm: the VM.
 *
 * For iommu/, which wires an assigned device's INTx to an I/O APIC input.
 * Context: any; HVX_CREATE_PLATFORM may be creating the devices.
 * Return: true if the VM's platform includes HVX_PLATFORM_IOAPIC.
 */
bool hvx_vm_has_ioapic(struct hvx_vm *vm)
{
	const struct hvx_platform *plat = READ_ONCE(vm->plat);

	return plat && (plat->flags & HVX_PLATFORM_IOAPIC);
}

static long vm_create_vcpu(struct hvx_vm *vm, unsigned long id)
{
	if (vm->flags & HVX_VM_NO_VCPUS)
		return -EINVAL;	/* a DMA-only VM */
	return hvx_vcpu_create(vm, id);
}

static long vm_set_tsc_offset(struct hvx_vm *vm, const struct hvx_tsc_offset *t)
{
	lockdep_assert_held(&vm->lock);
	hvx_vmx_vm_set_tsc_offset(&vm->vmx, t->offset);
	return 0;
}

/*
 * HVX_SET_CLOCK: a new kvmclock offset, then every vCPU rewrites its
 * kvmclock page before its next entry.
 */
static long vm_set_clock(struct hvx_vm *vm, const struct hvx_clock *c)
{
	int i;

	lockdep_assert_held(&vm->lock);
	if ((c->flags & ~HVX_CLOCK_REALTIME) || c->pad)
		return -EINVAL;
	hvx_vmx_vm_set_clock(&vm->vmx, c->clock,
			     c->flags & HVX_CLOCK_REALTIME ? &c->realtime : NULL);
	for (i = 0; i < HVX_MAX_VCPUS; i++) {
		if (!vm->vcpus[i])
			continue;
		hvx_vmx_pv_tsc_changed(&vm->vcpus[i]->vmx);
		hvx_vmx_kick(&vm->vcpus[i]->vmx);
	}
	return 0;
}

static long vm_get_clock(struct hvx_vm *vm, struct hvx_clock *c)
{
	c->clock = hvx_vmx_vm_get_clock(&vm->vmx, &c->realtime);
	c->flags = HVX_CLOCK_REALTIME;
	return 0;
}

static long vm_send_ipi(struct hvx_vm *vm, const struct hvx_ipi *ipi)
{
	lockdep_assert_held(&vm->lock);
	if (ipi->kind != HVX_IPI_INIT && ipi->kind != HVX_IPI_SIPI)
		return -EINVAL;
	if (ipi->vcpu_id >= HVX_MAX_VCPUS || !vm->vcpus[ipi->vcpu_id])
		return -ENOENT;
	/* vm->lock keeps the vCPU from being freed; sending never sleeps. */
	hvx_vmx_send_ipi(&vm->vcpus[ipi->vcpu_id]->vmx, ipi->kind, ipi->vector);
	return 0;
}

static long vm_set_hypercall_exits(struct hvx_vm *vm,
				   const struct hvx_hypercall_exits *e)
{
	unsigned int i;

	lockdep_assert_held(&vm->lock);
	BUILD_BUG_ON(sizeof(e->bitmap) != sizeof(vm->vmx.hc_exits));
	if (e->flags || e->pad ||
	    !hvx_vmx_hypercall_exits_valid((const unsigned long *)e->bitmap))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(vm->vmx.hc_exits); i++)
		WRITE_ONCE(vm->vmx.hc_exits[i], e->bitmap[i]);
	return 0;
}

static long vm_create_platform(struct hvx_vm *vm,
			       const struct hvx_platform_config *c)
{
	if (!c->devices || (c->devices & ~HVX_PLATFORM_ALL) || c->flags)
		return -EINVAL;
	return hvx_platform_create(vm, c->devices);
}

/*
 * The VM fd's ioctls. LOCK_NONE entries call subsystems that lock for
 * themselves: the interrupt router and the devices (dev/), passthrough
 * (iommu/, its global mutex); HVX_GET_TSC_OFFSET reads one word,
 * HVX_GET_CLOCK one offset.
 */
static const struct hvx_ioctl vm_ioctls[] = {
	HVX_IOCTL_RSVD(HVX_SET_MEMORY_REGION, struct hvx_memory_region,
		       reserved, HVX_IOC_LOCK_MEM, HVX_IOC_OWNER),
	HVX_IOCTL_RSVD(HVX_GET_DIRTY_LOG, struct hvx_dirty_log, reserved,
		       HVX_IOC_LOCK_MEM, 0),
	/* Not HVX_IOC_OWNER: a VMM's own guard, not a host protection. */
	HVX_IOCTL_RSVD(HVX_SET_MEM_LIMIT, struct hvx_mem_limit, reserved,
		       HVX_IOC_LOCK_MEM, 0),
	HVX_IOCTL(HVX_GET_MEM_INFO, struct hvx_mem_info, HVX_IOC_LOCK_MEM, 0),
	HVX_IOCTL_VAL(HVX_CREATE_VCPU, HVX_IOC_LOCK_VM, HVX_IOC_OWNER),
	HVX_IOCTL_RSVD(HVX_SET_TSC_OFFSET, struct hvx_tsc_offset, reserved,
		       HVX_IOC_LOCK_VM, 0),
	HVX_IOCTL(HVX_GET_TSC_OFFSET, struct hvx_tsc_offset,
		  HVX_IOC_LOCK_NONE, 0),
	HVX_IOCTL_RSVD(HVX_SET_CLOCK, struct hvx_clock, reserved,
		       HVX_IOC_LOCK_VM, 0),
	HVX_IOCTL(HVX_GET_CLOCK, struct hvx_clock, HVX_IOC_LOCK_NONE, 0),
	HVX_IOCTL_RSVD(HVX_SEND_IPI, struct hvx_ipi, pad, HVX_IOC_LOCK_VM, 0),
	HVX_IOCTL_RSVD(HVX_CREATE_PLATFORM, struct hvx_platform_config,
		       reserved, HVX_IOC_LOCK_NONE, HVX_IOC_OWNER),
	HVX_IOCTL_RSVD(HVX_IRQ_LINE, struct hvx_irq_level, reserved,
		       HVX_IOC_LOCK_NONE, 0),
	HVX_IOCTL_RSVD(HVX_SIGNAL_MSI, struct hvx_msi, reserved,
		       HVX_IOC_LOCK_NONE, 0),
	/* Reserved fields are checked on assignment only (dev/irqfd.c). */
	HVX_IOCTL(HVX_IRQFD, struct hvx_irqfd, HVX_IOC_LOCK_NONE, 0),
	HVX_IOCTL_RSVD(HVX_ASSIGN_DEVICE, struct hvx_pci_device, reserved,
		       HVX_IOC_LOCK_NONE, HVX_IOC_OWNER),
	HVX_IOCTL_RSVD(HVX_UNASSIGN_DEVICE, struct hvx_pci_device, reserved,
		       HVX_IOC_LOCK_NONE, 0),
	HVX_IOCTL_RSVD(HVX_SET_HYPERCALL_EXITS, struct hvx_hypercall_exits,
		       reserved, HVX_IOC_LOCK_VM, 0),
	/* Platform devices (dev/uart.c, dev/rtc.c), numbers 0x40-0x47. */
	HVX_IOCTL_VAL(HVX_GET_CONSOLE_FD, HVX_IOC_LOCK_NONE, HVX_IOC_ARG_ZERO),
	HVX_IOCTL_RSVD_FIELD(HVX_SET_CMOS, struct hvx_cmos, reserved,
			     HVX_IOC_LOCK_NONE, 0),
	HVX_IOCTL_RSVD_FIELD(HVX_GET_CMOS, struct hvx_cmos, reserved,
			     HVX_IOC_LOCK_NONE, 0),
	/* In-kernel virtio devices (dev/virtio_pci.c). */
	HVX_IOCTL_RSVD(HVX_CREATE_VIRTIO, struct hvx_virtio_device, reserved,
		       HVX_IOC_LOCK_NONE, HVX_IOC_OWNER),
	/*
	 * Device state (vmstate.c), numbers 0x70-0x7f: the handlers copy
	 * the user buffer without a lock, then take vm->lock themselves.
	 */
	HVX_IOCTL_RSVD(HVX_GET_VM_STATE, struct hvx_vm_state, reserved,
		       HVX_IOC_LOCK_NONE, 0),
	HVX_IOCTL_RSVD(HVX_SET_VM_STATE, struct hvx_vm_state, reserved,
		       HVX_IOC_LOCK_NONE, HVX_IOC_OWNER),
	/* Requests to the owner (request.c), 0x80-0x87: its own lock. */
	HVX_IOCTL(HVX_GET_REQUEST, struct hvx_request, HVX_IOC_LOCK_NONE,
		  HVX_IOC_OWNER),
	HVX_IOCTL_RSVD_FIELD(HVX_REQUEST_DONE, struct hvx_request_done,
			     reserved, HVX_IOC_LOCK_NONE, HVX_IOC_OWNER),
};

static long vm_ioctl_call(void *obj, const struct hvx_ioctl *d, void *karg,
			  unsigned long arg)
{
	struct hvx_vm *vm = obj;

	switch (d->cmd) {
	case HVX_SET_MEMORY_REGION:
		return hvx_mem_set_region(&vm->mem, karg);
	case HVX_GET_DIRTY_LOG:
		return hvx_mem_get_dirty_log(&vm->mem, karg);
	case HVX_SET_MEM_LIMIT:
		return hvx_mem_set_limit(&vm->mem, karg);
	case HVX_GET_MEM_INFO:
		hvx_mem_get_info(&vm->mem, karg);
		return 0;
	case HVX_CREATE_VCPU:
		return vm_create_vcpu(vm, arg);
	case HVX_SET_TSC_OFFSET:
		return vm_set_tsc_offset(vm, karg);
	case HVX_GET_TSC_OFFSET:
		((struct hvx_tsc_offset *)karg)->offset =
			hvx_vmx_vm_tsc_offset(&vm->vmx);
		return 0;
	case HVX_SET_CLOCK:
		return vm_set_clock(vm, karg);
	case HVX_GET_CLOCK:
		return vm_get_clock(vm, karg);
	case HVX_SEND_IPI:
		return vm_send_ipi(vm, karg);
	case HVX_CREATE_PLATFORM:
		return vm_create_platform(vm, karg);
	case HVX_IRQ_LINE:
		return hvx_irq_line(vm, karg);
	case HVX_SIGNAL_MSI:
		return hvx_signal_msi(vm, karg);
	case HVX_IRQFD:
		return hvx_irqfd(vm, karg);
	case HVX_ASSIGN_DEVICE:
		return hvx_pt_assign(&vm->pt, karg);
	case HVX_UNASSIGN_DEVICE:
		return hvx_pt_unassign(&vm->pt, karg);
	case HVX_SET_HYPERCALL_EXITS:
		return vm_set_hypercall_exits(vm, karg);
	case HVX_GET_CONSOLE_FD:
		return hvx_uart_console_fd(vm, arg);
	case HVX_SET_CMOS:
		return hvx_rtc_cmos(vm, karg, true);
	case HVX_GET_CMOS:
		return hvx_rtc_cmos(vm, karg, false);
	case HVX_CREATE_VIRTIO:
		return hvx_virtio_create(vm, karg);
	case HVX_GET_VM_STATE:
		return hvx_vm_get_state(vm, karg);
	case HVX_SET_VM_STATE:
		return hvx_vm_set_state(vm, karg);
	case HVX_GET_REQUEST:
		return hvx_request_get(vm, karg);
	case HVX_REQUEST_DONE:
		return hvx_request_done(vm, karg);
	}
	return -ENOTTY;
}

static const struct hvx_ioctl_table vm_ioctl_table = {
	.ioctls = vm_ioctls,
	.n = ARRAY_SIZE(vm_ioctls),
	.call = vm_ioctl_call,
};

static long vm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hvx_vm *vm = file->private_data;
	const struct hvx_ioctl_target tgt = {
		.obj = vm,
		.owner = vm->mm,
		.locks = {
			[HVX_IOC_LOCK_VM] = &vm->lock,
			[HVX_IOC_LOCK_MEM] = &vm->mem.lock,
		},
	};

	return hvx_ioctl(&vm_ioctl_table, &tgt, cmd, arg);
}

static __poll_t vm_poll(struct file *file, poll_table *pt)
{
	return hvx_request_poll(file->private_data, file, pt);
}

static int vm_release(struct inode *inode, struct file *file)
{
	struct hvx_vm *vm = file->private_data;

	/* Nobody can answer a request now (vCPU fds may keep the VM). */
	hvx_request_release(vm);
	hvx_vm_put(vm);
	return 0;
}

static const struct file_operations hvx_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= vm_release,
	.poll		= vm_poll,
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
	hvx_request_init(vm);
	INIT_HLIST_HEAD(&vm->irq_ack_notifiers);
	INIT_LIST_HEAD(&vm->virtio);
	spin_lock_init(&vm->irq_ack_lock);
	ret = init_srcu_struct(&vm->irq_srcu);
	if (ret)
		goto err_free;
	vm->flags = flags;
	/*
	 * A DMA-only VM (HVX_VM_NO_VCPUS) never enters a guest: it needs no
	 * VMX root mode, and its EPT is never walked, so never flushed.
	 */
	ret = flags & HVX_VM_NO_VCPUS ? 0 : hvx_vmx_get();
	if (ret)
		goto err_srcu;
	ret = hvx_mem_init(&vm->mem);
	if (ret)
		goto err_vmx;
	vm->mem.no_ept = flags & HVX_VM_NO_VCPUS;
	ret = hvx_vmx_vm_init(&vm->vmx, &vm->mem, flags);
	if (ret)
		goto err_vmx_vm;
	ret = hvx_bus_init(vm);
	if (ret)
		goto err_vmx_vm;
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
	vm->pt = (struct hvx_pt_host) {
		.vm = vm,
		.mem = &vm->mem,
		.io_bitmap = vm->vmx.io_bitmap,
		.id = vm->id,
		.no_vcpus = flags & HVX_VM_NO_VCPUS,
	};
	/*
	 * Before the fd exists, so that no close() of a guessed fd can
	 * announce the VM's end before its start.
	 */
	hvx_netlink_vm_event(vm, HVX_EVENT_VM_CREATED);
	fd = anon_inode_getfd("hvx-vm", &hvx_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		hvx_vm_put(vm);	/* sends HVX_EVENT_VM_DESTROYED */
	return fd;

err_vmx_vm:
	hvx_vmx_vm_destroy(&vm->vmx);
	hvx_mem_destroy(&vm->mem);
err_vmx:
	if (!(flags & HVX_VM_NO_VCPUS))
		hvx_vmx_put();
err_srcu:
	cleanup_srcu_struct(&vm->irq_srcu);
err_free:
	kfree(vm);
err_count:
	atomic_dec(&nr_vms);
	return ret;
}
