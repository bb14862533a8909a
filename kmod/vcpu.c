// SPDX-License-Identifier: GPL-2.0
/*
 * vcpu.c - the vCPU object and its fd: register access, the shared run
 * page, and the run loop.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "hvx_core.h"
#include "hvx_trace.h"

/* The vCPU with APIC id @apic_id (its vCPU id), or NULL; under RCU. */
static struct hvx_vcpu *vcpu_pv_target(struct hvx_vcpu *vcpu, u64 apic_id)
{
	if (apic_id >= HVX_MAX_VCPUS)
		return NULL;
	return READ_ONCE(vcpu->vm->vcpus[apic_id]);
}

static void vcpu_pv_kick(struct hvx_vmx_vcpu *v, u64 apic_id)
{
	struct hvx_vcpu *t;

	rcu_read_lock();
	t = vcpu_pv_target(to_hvx_vcpu(v), apic_id);
	if (t)
		hvx_vmx_pv_kick(&t->vmx);
	rcu_read_unlock();
}

/* A wake-up that @v's thread deferred to its entry (hvx_vmx_kick()). */
static void vcpu_pv_wake(struct hvx_vmx_vcpu *v, u32 id)
{
	struct hvx_vcpu *t;

	rcu_read_lock();
	t = vcpu_pv_target(to_hvx_vcpu(v), id);
	if (t)
		hvx_vmx_wake(&t->vmx);
	rcu_read_unlock();
}

static long vcpu_pv_send_ipi(struct hvx_vmx_vcpu *v, const unsigned long *map,
			     unsigned int cluster, u64 min, u32 icr)
{
	return hvx_lapic_pv_send_ipi(to_hvx_vcpu(v), map, cluster, min, icr);
}

/*
 * Directed yield, as KVM's kvm_vcpu_yield_to(): yield_to() boosts the
 * target thread and gives up the CPU only if that thread is runnable
 * and not running (a vCPU preempted, perhaps while it holds a lock the
 * caller waits for); a halted, running or absent target costs nothing.
 */
static void vcpu_pv_yield(struct hvx_vmx_vcpu *v, u64 apic_id)
{
	struct hvx_vcpu *t;
	struct task_struct *task = NULL;

	rcu_read_lock();
	t = vcpu_pv_target(to_hvx_vcpu(v), apic_id);
	if (t && &t->vmx != v)
		task = get_pid_task(rcu_dereference(t->pid), PIDTYPE_PID);
	rcu_read_unlock();
	if (!task)
		return;
	yield_to(task, true);
	put_task_struct(task);
}

static const struct hvx_vmx_pv_ops vcpu_pv_ops = {
	.kick = vcpu_pv_kick,
	.yield = vcpu_pv_yield,
	.wake = vcpu_pv_wake,
};

static const struct hvx_vmx_pv_ops vcpu_pv_ops_lapic = {
	.kick = vcpu_pv_kick,
	.send_ipi = vcpu_pv_send_ipi,
	.yield = vcpu_pv_yield,
	.wake = vcpu_pv_wake,
};

static long vcpu_run(struct hvx_vcpu *vcpu, struct hvx_run *run)
{
	long ret;

	/* Completing a read may give the write of a read-modify-write. */
	ret = hvx_vmx_complete_pending(&vcpu->vmx);
	if (ret)
		return ret == HVX_RUN_USER ? 0 : ret;
	hvx_vmx_sync_tsc_offset(&vcpu->vmx);
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
			hvx_vmx_kick_flush(&vcpu->vmx);
			wait_event_interruptible(vcpu->vmx.wq,
						 hvx_vmx_wakeup_pending(&vcpu->vmx));
			continue;
		}
		cond_resched();
		/* It runs now: no longer a candidate for directed yield. */
		WRITE_ONCE(vcpu->vmx.rs.ready, false);
		ret = hvx_vmx_run(&vcpu->vmx);
		if (ret != HVX_RUN_RESUME)
			return ret == HVX_RUN_USER ? 0 : ret;
	}
}

/*
 * Remember the thread that runs the vCPU, for siblings that yield to it.
 * It rarely changes; a reader holds rcu_read_lock() around its lookup.
 */
static void vcpu_set_pid(struct hvx_vcpu *vcpu)
{
	struct pid *old = rcu_access_pointer(vcpu->pid);

	if (old == task_pid(current))
		return;
	rcu_assign_pointer(vcpu->pid, get_task_pid(current, PIDTYPE_PID));
	if (old) {	/* a sibling may be looking at it */
		synchronize_rcu();
		put_pid(old);
	}
}

/**
 * hvx_vcpu_on_spin - a PAUSE exit: yield to a sibling vCPU that needs the CPU
 * @v: the spinning vCPU.
 *
 * A guest that spins with PAUSE waits for another vCPU: often one whose
 * thread was preempted while it held a lock, or one that was just woken
 * (out of HLT, by an IPI or a kick) to do what the spinner waits for but
 * whose thread has not run yet. As KVM's kvm_vcpu_on_spin(), the
 * candidates are the VM's other vCPUs marked ready (rs.ready: preempted,
 * or woken and not run since) that are runnable or halted with a wake-up
 * pending (hvx_vmx_yield_target()); a vCPU halted for nothing is
 * skipped, and so, when @v spins at CPL 0, is one preempted above CPL 0
 * with no interrupt pending (hvx_vmx_preempted_in_user(), KVM's
 * yield_to_kernel_mode; @v's CPL is read at the first such candidate,
 * hvx_stats.pause_yield_user_skips counts them). The search starts after
 * the vCPU boosted last (round robin)
 * and the first candidate whose thread takes the rest of this thread's
 * time slice (yield_to()) ends it, after three failed attempts at most.
 * hvx_stats.pause_yield_attempts counts the yield_to() calls,
 * hvx_stats.pause_yields the successes.
 * Context: process context of @v's thread, preemption enabled; may
 * schedule.
 */
void hvx_vcpu_on_spin(struct hvx_vmx_vcpu *v)
{
	struct hvx_vcpu *me = to_hvx_vcpu(v);
	struct hvx_vm *vm = me->vm;
	int start = READ_ONCE(vm->last_boosted);
	int i, k, tries = 3, in_kernel = -1;

	if (atomic_read(&vm->vmx.nr_vcpus) < 2)
		return;
	hvx_vmx_kick_flush(v);	/* a sibling it just woke is a candidate */
	for (k = 1; k <= HVX_MAX_VCPUS && tries; k++) {
		struct task_struct *task = NULL;
		struct hvx_vcpu *vcpu;
		bool user = false;
		int ret;

		i = (start + k) % HVX_MAX_VCPUS;
		rcu_read_lock();
		vcpu = READ_ONCE(vm->vcpus[i]);
		if (vcpu && vcpu != me && READ_ONCE(vcpu->vmx.rs.ready) &&
		    hvx_vmx_yield_target(&vcpu->vmx)) {
			user = hvx_vmx_preempted_in_user(&vcpu->vmx);
			task = get_pid_task(rcu_dereference(vcpu->pid),
					    PIDTYPE_PID);
		}
		rcu_read_unlock();
		if (!task)
			continue;
		if (user) {
			if (in_kernel < 0)
				in_kernel = hvx_vmx_in_kernel(v);
			if (in_kernel) {
				v->stats.s.pause_yield_user_skips++;
				put_task_struct(task);
				continue;
			}
		}
		v->stats.s.pause_yield_attempts++;
		ret = yield_to(task, true);
		put_task_struct(task);
		if (ret > 0) {
			WRITE_ONCE(vm->last_boosted, i);
			v->stats.s.pause_yields++;
			return;
		}
		if (ret < 0)	/* nothing else runnable here, or a race */
			tries--;
	}
}

static long vcpu_ioctl_run(struct hvx_vcpu *vcpu)
{
	struct hvx_run *run = page_address(vcpu->run_page);
	bool window;
	u32 reason;
	long ret;

	vcpu_set_pid(vcpu);

	/* The interrupt-window exit it asks for is set by the evaluation. */
	window = !!READ_ONCE(run->request_interrupt_window);
	if (window != vcpu->vmx.request_irq_window) {
		vcpu->vmx.request_irq_window = window;
		hvx_vmx_request_event(&vcpu->vmx);
	}
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

static long vcpu_get_lapic(struct hvx_vcpu *vcpu, struct hvx_lapic_state *s)
{
	if (!vcpu->lapic)
		return -ENXIO;
	hvx_lapic_get_state(vcpu, s);
	return 0;
}

/*
 * The vCPU fd's ioctls. One thread at a time runs a vCPU or touches its
 * state (HVX_IOC_LOCK_VCPU); queueing an interrupt or NMI works from any
 * thread (HVX_IOC_LOCK_NONE).
 */
static const struct hvx_ioctl vcpu_ioctls[] = {
	HVX_IOCTL_VAL(HVX_RUN, HVX_IOC_LOCK_VCPU,
		      HVX_IOC_OWNER | HVX_IOC_ARG_ZERO),
	HVX_IOCTL(HVX_GET_REGS, struct hvx_regs, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL(HVX_SET_REGS, struct hvx_regs, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL(HVX_GET_SREGS, struct hvx_sregs, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL_RSVD(HVX_SET_SREGS, struct hvx_sregs, reserved,
		       HVX_IOC_LOCK_VCPU, HVX_IOC_OWNER),
	HVX_IOCTL(HVX_GET_CPUID, struct hvx_cpuid, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL(HVX_SET_CPUID, struct hvx_cpuid, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL(HVX_GET_MSRS, struct hvx_msrs, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL(HVX_SET_MSRS, struct hvx_msrs, HVX_IOC_LOCK_VCPU,
		  HVX_IOC_OWNER),
	HVX_IOCTL_RSVD(HVX_INTERRUPT, struct hvx_interrupt, padding,
		       HVX_IOC_LOCK_NONE, 0),
	HVX_IOCTL_VAL(HVX_NMI, HVX_IOC_LOCK_NONE, HVX_IOC_ARG_ZERO),
	HVX_IOCTL(HVX_GET_MP_STATE, struct hvx_mp_state, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL_RSVD(HVX_SET_MP_STATE, struct hvx_mp_state, reserved,
		       HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL(HVX_GET_LAPIC, struct hvx_lapic_state, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL(HVX_GET_VCPU_EVENTS, struct hvx_vcpu_events,
		  HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL_RSVD(HVX_SET_VCPU_EVENTS, struct hvx_vcpu_events, reserved,
		       HVX_IOC_LOCK_VCPU, 0),
	/*
	 * Save and restore (vmx/state.c). The XSAVE pair may allocate the
	 * guest's fpstate, sized by the owner's XSAVE permissions.
	 */
	HVX_IOCTL(HVX_SET_LAPIC, struct hvx_lapic_state, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL(HVX_GET_XSAVE, struct hvx_xsave, HVX_IOC_LOCK_VCPU,
		  HVX_IOC_OWNER),
	HVX_IOCTL(HVX_SET_XSAVE, struct hvx_xsave, HVX_IOC_LOCK_VCPU,
		  HVX_IOC_OWNER),
	HVX_IOCTL(HVX_GET_XCRS, struct hvx_xcrs, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL_RSVD(HVX_SET_XCRS, struct hvx_xcrs, reserved,
		       HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL(HVX_GET_DEBUGREGS, struct hvx_debugregs, HVX_IOC_LOCK_VCPU, 0),
	HVX_IOCTL_RSVD(HVX_SET_DEBUGREGS, struct hvx_debugregs, flags,
		       HVX_IOC_LOCK_VCPU, 0),
};

static long vcpu_ioctl_call(void *obj, const struct hvx_ioctl *d, void *karg,
			    unsigned long arg)
{
	struct hvx_vcpu *vcpu = obj;
	struct hvx_vmx_vcpu *v = &vcpu->vmx;

	if (d->cmd == HVX_RUN)
		return vcpu_ioctl_run(vcpu);
	/*
	 * Any other ioctl may change what interrupt evaluation depends on
	 * (registers, events, the local APIC, MSRs): evaluate at the next
	 * entry. HVX_RUN itself does not ask for it (hvx_vmx_update_run()).
	 */
	hvx_vmx_request_event(v);
	switch (d->cmd) {
	case HVX_GET_REGS:
		hvx_vmx_get_regs(v, karg);
		return 0;
	case HVX_SET_REGS:
		hvx_vmx_set_regs(v, karg);
		return 0;
	case HVX_GET_SREGS:
		hvx_vmx_get_sregs(v, karg);
		return 0;
	case HVX_SET_SREGS:
		return hvx_vmx_set_sregs(v, karg);
	case HVX_GET_CPUID:
		hvx_vmx_cpuid_get(v, karg);
		return 0;
	case HVX_SET_CPUID:
		return hvx_vmx_cpuid_set(v, karg);
	case HVX_GET_MSRS:
		return hvx_vmx_get_msrs(v, karg);
	case HVX_SET_MSRS:
		return hvx_vmx_set_msrs(v, karg);
	case HVX_INTERRUPT:
		return hvx_vmx_queue_interrupt(v,
				((struct hvx_interrupt *)karg)->vector);
	case HVX_NMI:
		return hvx_vmx_queue_nmi(v);
	case HVX_GET_MP_STATE:
		((struct hvx_mp_state *)karg)->state = v->mp_state;
		return 0;
	case HVX_SET_MP_STATE:
		return hvx_vmx_set_mp_state(v,
				((struct hvx_mp_state *)karg)->state);
	case HVX_GET_LAPIC:
		return vcpu_get_lapic(vcpu, karg);
	case HVX_GET_VCPU_EVENTS:
		hvx_vmx_get_events(v, karg);
		return 0;
	case HVX_SET_VCPU_EVENTS:
		return hvx_vmx_set_events(v, karg);
	case HVX_SET_LAPIC:
		return vcpu->lapic ? hvx_lapic_set_state(vcpu, karg) : -ENXIO;
	case HVX_GET_XSAVE:
		return hvx_vmx_get_xsave(v, karg);
	case HVX_SET_XSAVE:
		return hvx_vmx_set_xsave(v, karg);
	case HVX_GET_XCRS:
		hvx_vmx_get_xcrs(v, karg);
		return 0;
	case HVX_SET_XCRS:
		return hvx_vmx_set_xcrs(v, karg);
	case HVX_GET_DEBUGREGS:
		hvx_vmx_get_debugregs(v, karg);
		return 0;
	case HVX_SET_DEBUGREGS:
		return hvx_vmx_set_debugregs(v, karg);
	}
	return -ENOTTY;
}

static const struct hvx_ioctl_table vcpu_ioctl_table = {
	.ioctls = vcpu_ioctls,
	.n = ARRAY_SIZE(vcpu_ioctls),
	.call = vcpu_ioctl_call,
};

static long vcpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hvx_vcpu *vcpu = file->private_data;
	const struct hvx_ioctl_target tgt = {
		.obj = vcpu,
		.owner = vcpu->vm->mm,
		.locks = { [HVX_IOC_LOCK_VCPU] = &vcpu->run_lock },
	};

	return hvx_ioctl(&vcpu_ioctl_table, &tgt, cmd, arg);
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
	put_pid(rcu_access_pointer(vcpu->pid));	/* no reader left */
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
	atomic_dec(&vm->vmx.nr_vcpus);
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
 * Context: process context of the VM owner; holds vm->lock (the
 * HVX_CREATE_VCPU entry's HVX_IOC_LOCK_VM).
 * Return: a new vCPU fd, or -EINVAL (id out of range), -EEXIST (id in
 * use), -ENOSPC (max_vcpus vCPUs exist in all VMs), -ENOMEM.
 */
int hvx_vcpu_create(struct hvx_vm *vm, unsigned long id)
{
	struct hvx_vcpu *vcpu;
	int ret;

	lockdep_assert_held(&vm->lock);
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

	ret = -EEXIST;
	if (vm->vcpus[id])
		goto err;
	ret = -EBUSY;	/* HVX_CREATE_PLATFORM is still creating devices */
	if (vm->plat && !vm->plat_ready)
		goto err;
	ret = hvx_vmx_vcpu_create(&vcpu->vmx, &vm->vmx, id,
				  page_address(vcpu->run_page),
				  page_address(vcpu->io_page));
	if (ret)
		goto err;
	if (vm->flags & HVX_VM_NO_PV)
		hvx_vmx_cpuid_no_pv(&vcpu->vmx);
	ret = hvx_platform_vcpu_create(vcpu);
	if (ret)
		goto err;
	vcpu->vmx.pv_ops = vcpu->lapic ? &vcpu_pv_ops_lapic : &vcpu_pv_ops;
	hvx_vmx_sync_tsc_offset(&vcpu->vmx);
	kref_get(&vm->ref);
	ret = anon_inode_getfd("hvx-vcpu", &hvx_vcpu_fops, vcpu,
			       O_RDWR | O_CLOEXEC);
	if (ret < 0) {
		refcount_dec(&vm->ref.refcount);	/* the VM fd still holds one */
		goto err;
	}
	if (id >= vm->vcpus_end)
		WRITE_ONCE(vm->vcpus_end, id + 1);
	WRITE_ONCE(vm->vcpus[id], vcpu);
	atomic_inc(&vm->vmx.nr_vcpus);
	return ret;

err:
	vcpu_free(vcpu);
	return ret;
}
