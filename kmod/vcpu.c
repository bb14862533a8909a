// SPDX-License-Identifier: GPL-2.0
/*
 * vcpu.c - the vCPU object and its fd: register access, the shared run
 * page, and the run loop.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "hvx_core.h"
#include "hvx_trace.h"

/* Apply a TSC offset set on the VM since this vCPU last ran. */
static void vcpu_sync_tsc_offset(struct hvx_vcpu *vcpu)
{
	int gen = atomic_read(&vcpu->vm->tsc_gen);

	if (gen != vcpu->tsc_gen) {
		vcpu->tsc_gen = gen;
		hvx_vmx_set_tsc_offset(&vcpu->vmx, READ_ONCE(vcpu->vm->tsc_offset));
	}
}

static long vcpu_run(struct hvx_vcpu *vcpu, struct hvx_run *run)
{
	long ret;

	/* Completing a read may give the write of a read-modify-write. */
	ret = hvx_vmx_complete_pending(&vcpu->vmx);
	if (ret)
		return ret == HVX_RUN_USER ? 0 : ret;
	vcpu_sync_tsc_offset(vcpu);
	run->exit_reason = HVX_EXIT_UNKNOWN;
	if (READ_ONCE(run->immediate_exit)) {
		run->exit_reason = HVX_EXIT_INTR;
		return -EINTR;
	}
	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = HVX_EXIT_INTR;
			return -EINTR;
		}
		hvx_vmx_handle_requests(&vcpu->vmx);
		if (!hvx_vmx_runnable(&vcpu->vmx)) {
			/* Halted or waiting for SIPI: sleep, not spin. */
			wait_event_interruptible(vcpu->vmx.wq,
						 hvx_vmx_wakeup_pending(&vcpu->vmx));
			continue;
		}
		cond_resched();
		ret = hvx_vmx_run(&vcpu->vmx);
		if (ret != HVX_RUN_RESUME)
			return ret == HVX_RUN_USER ? 0 : ret;
	}
}

static long vcpu_ioctl_run(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;
	struct hvx_run *run = page_address(vcpu->run_page);
	u32 reason;
	long ret;

	if (arg)
		return -EINVAL;
	vcpu->vmx.request_irq_window = READ_ONCE(run->request_interrupt_window);
	hvx_stats_user_enter(&vcpu->vmx.stats);
	/* Per-run state: the guest's FPU, host segments, preempt notifier. */
	ret = hvx_vmx_vcpu_load(&vcpu->vmx);
	if (!ret) {
		ret = vcpu_run(vcpu, run);
		hvx_vmx_vcpu_put(&vcpu->vmx);
	}
	hvx_vmx_update_run(&vcpu->vmx);
	/* The run page is shared with userspace: read the reason once. */
	reason = READ_ONCE(run->exit_reason);
	hvx_stats_user_return(&vcpu->vmx.stats, reason, !ret || ret == -EINTR);
	trace_hvx_userspace_exit(vcpu->vm->id, vcpu->vmx.id, reason, ret);
	if (!ret && (reason == HVX_EXIT_SHUTDOWN ||
		     reason == HVX_EXIT_FAIL_ENTRY ||
		     reason == HVX_EXIT_INTERNAL_ERROR))
		hvx_netlink_vcpu_event(vcpu, run);
	return ret;
}

static long vcpu_get_regs(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	hvx_vmx_get_regs(&vcpu->vmx, karg);
	return 0;
}

static long vcpu_set_regs(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	hvx_vmx_set_regs(&vcpu->vmx, karg);
	return 0;
}

static long vcpu_get_sregs(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	hvx_vmx_get_sregs(&vcpu->vmx, karg);
	return 0;
}

static long vcpu_set_sregs(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	return hvx_vmx_set_sregs(&vcpu->vmx, karg);
}

static long vcpu_get_cpuid(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	hvx_vmx_cpuid_get(&vcpu->vmx, karg);
	return 0;
}

static long vcpu_set_cpuid(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	return hvx_vmx_cpuid_set(&vcpu->vmx, karg);
}

static long vcpu_get_msrs(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	return hvx_vmx_get_msrs(&vcpu->vmx, karg);
}

static long vcpu_set_msrs(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	return hvx_vmx_set_msrs(&vcpu->vmx, karg);
}

static long vcpu_interrupt(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;
	struct hvx_interrupt *irq = karg;

	if (irq->padding)
		return -EINVAL;
	return hvx_vmx_queue_interrupt(&vcpu->vmx, irq->vector);
}

static long vcpu_nmi(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	if (arg)
		return -EINVAL;
	return hvx_vmx_queue_nmi(&vcpu->vmx);
}

static long vcpu_get_events(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	hvx_vmx_get_events(&vcpu->vmx, karg);
	return 0;
}

static long vcpu_set_events(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	return hvx_vmx_set_events(&vcpu->vmx, karg);
}

static long vcpu_get_mp_state(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;
	struct hvx_mp_state *mp = karg;

	mp->state = vcpu->vmx.mp_state;
	return 0;
}

static long vcpu_set_mp_state(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;
	struct hvx_mp_state *mp = karg;

	if (mp->reserved[0] || mp->reserved[1] || mp->reserved[2])
		return -EINVAL;
	return hvx_vmx_set_mp_state(&vcpu->vmx, mp->state);
}

static long vcpu_get_lapic(void *obj, void *karg, unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;

	if (!vcpu->lapic)
		return -ENXIO;
	hvx_lapic_get_state(vcpu, karg);
	return 0;
}

static const struct hvx_ioctl_desc vcpu_ioctls[] = {
	{ HVX_RUN, HVX_IOC_OWNER, vcpu_ioctl_run },
	{ HVX_GET_REGS, 0, vcpu_get_regs },
	{ HVX_SET_REGS, 0, vcpu_set_regs },
	{ HVX_GET_SREGS, 0, vcpu_get_sregs },
	{ HVX_SET_SREGS, HVX_IOC_OWNER, vcpu_set_sregs },
	{ HVX_GET_CPUID, 0, vcpu_get_cpuid },
	{ HVX_SET_CPUID, 0, vcpu_set_cpuid },
	{ HVX_GET_MSRS, 0, vcpu_get_msrs },
	{ HVX_SET_MSRS, HVX_IOC_OWNER, vcpu_set_msrs },
	{ HVX_INTERRUPT, HVX_IOC_NOLOCK, vcpu_interrupt },
	{ HVX_NMI, HVX_IOC_NOLOCK, vcpu_nmi },
	{ HVX_GET_MP_STATE, 0, vcpu_get_mp_state },
	{ HVX_SET_MP_STATE, 0, vcpu_set_mp_state },
	{ HVX_GET_LAPIC, 0, vcpu_get_lapic },
	{ HVX_GET_VCPU_EVENTS, 0, vcpu_get_events },
	{ HVX_SET_VCPU_EVENTS, 0, vcpu_set_events },
};

static long vcpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hvx_vcpu *vcpu = file->private_data;

	/*
	 * One thread at a time runs a vCPU or touches its state; queueing an
	 * interrupt or NMI (HVX_IOC_NOLOCK) works from any thread.
	 */
	return hvx_ioctl(vcpu_ioctls, ARRAY_SIZE(vcpu_ioctls), vcpu->vm->mm,
			 &vcpu->run_lock, vcpu, cmd, arg);
}

static vm_fault_t vcpu_fault(struct vm_fault *vmf)
{
	struct hvx_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff == 0)
		page = vcpu->run_page;
	else if (vmf->pgoff == 1)
		page = vcpu->io_page;
	else
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct vcpu_vm_ops = {
	.fault = vcpu_fault,
};

static int vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start > HVX_VCPU_MMAP_SIZE)
		return -EINVAL;
	vma->vm_ops = &vcpu_vm_ops;
	return 0;
}

static void vcpu_free(struct hvx_vcpu *vcpu)
{
	hvx_platform_vcpu_destroy(vcpu);
	hvx_vmx_vcpu_destroy(&vcpu->vmx);
	if (vcpu->run_page)
		__free_page(vcpu->run_page);
	if (vcpu->io_page)
		__free_page(vcpu->io_page);
	kfree(vcpu);
	hvx_vcpu_uncharge();
}

static int vcpu_release(struct inode *inode, struct file *file)
{
	struct hvx_vcpu *vcpu = file->private_data;
	struct hvx_vm *vm = vcpu->vm;

	mutex_lock(&vm->lock);
	WRITE_ONCE(vm->vcpus[vcpu->vmx.id], NULL);
	atomic_dec(&vm->nr_vcpus);
	mutex_unlock(&vm->lock);
	synchronize_rcu();	/* the interrupt router's lookups are done */
	vcpu_free(vcpu);
	hvx_vm_put(vm);
	return 0;
}

static const struct file_operations hvx_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= vcpu_release,
	.unlocked_ioctl	= vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= vcpu_mmap,
	.llseek		= noop_llseek,
};

/**
 * hvx_vcpu_create - create vCPU @id of @vm
 * @vm: the VM.
 * @id: vCPU id, 0 .. HVX_MAX_VCPUS - 1 (vCPU 0 is the bootstrap CPU).
 *
 * Context: process context of the VM owner.
 * Return: a new vCPU fd, or -EINVAL (id out of range), -EEXIST (id in
 * use), -ENOSPC (max_vcpus vCPUs exist in all VMs), -ENOMEM.
 */
int hvx_vcpu_create(struct hvx_vm *vm, unsigned long id)
{
	struct hvx_vcpu *vcpu;
	int ret;

	if (id >= HVX_MAX_VCPUS)
		return -EINVAL;
	if (!hvx_vcpu_charge())
		return -ENOSPC;
	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu) {
		hvx_vcpu_uncharge();
		return -ENOMEM;
	}
	if (WARN_ON(!IS_ALIGNED((unsigned long)vcpu->vmx.fpu, 64))) {
		kfree(vcpu);
		hvx_vcpu_uncharge();
		return -ENOMEM;
	}
	mutex_init(&vcpu->run_lock);
	vcpu->vm = vm;
	vcpu->vmx.vm_id = vm->id;
	vcpu->run_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	vcpu->io_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	ret = -ENOMEM;
	if (!vcpu->run_page || !vcpu->io_page)
		goto err;

	mutex_lock(&vm->lock);
	ret = -EEXIST;
	if (vm->vcpus[id])
		goto err_unlock;
	ret = -EBUSY;	/* HVX_CREATE_PLATFORM is still creating devices */
	if (vm->plat && !vm->plat_ready)
		goto err_unlock;
	ret = hvx_vmx_vcpu_create(&vcpu->vmx, &vm->mem, id,
				  page_address(vcpu->run_page),
				  page_address(vcpu->io_page));
	if (ret)
		goto err_unlock;
	vcpu->vmx.msr_exits = vm->flags & HVX_VM_MSR_EXITS;
	vcpu->vmx.nr_vcpus = &vm->nr_vcpus;
	vcpu->vmx.io_bitmap_src = &vm->io_bitmap;
	ret = hvx_platform_vcpu_create(vcpu);
	if (ret)
		goto err_unlock;
	vcpu_sync_tsc_offset(vcpu);
	kref_get(&vm->ref);
	ret = anon_inode_getfd("hvx-vcpu", &hvx_vcpu_fops, vcpu,
			       O_RDWR | O_CLOEXEC);
	if (ret < 0) {
		refcount_dec(&vm->ref.refcount);	/* the VM fd still holds one */
		goto err_unlock;
	}
	WRITE_ONCE(vm->vcpus[id], vcpu);
	atomic_inc(&vm->nr_vcpus);
	mutex_unlock(&vm->lock);
	return ret;

err_unlock:
	mutex_unlock(&vm->lock);
err:
	vcpu_free(vcpu);
	return ret;
}
