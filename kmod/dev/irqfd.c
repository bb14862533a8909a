// SPDX-License-Identifier: GPL-2.0
/*
 * irqfd.c - HVX_IRQFD: eventfds bound to a GSI or an MSI message.
 *
 * The binding waits on the eventfd's wait queue with a custom wake
 * function, so a write to the eventfd (from userspace, another kernel
 * subsystem or a passthrough interrupt handler) injects right in the
 * writer's context: the router sets the APIC's IRR and kicks the vCPU.
 * No vCPU thread returns to userspace and no VM exit is needed beyond
 * the kick of a running target.
 *
 * Lifetime: bindings sit on an RCU list (read by resampling on EOI) that
 * a mutex serialises for assign, deassign and release. A binding holds a
 * reference to its eventfd context, so the context outlives a close() of
 * the fd: the wake function only marks the binding dead on EPOLLHUP, and
 * dead bindings are dropped at the next HVX_IRQFD or with the VM. The
 * wake function runs under the eventfd's wait-queue lock, which
 * eventfd_ctx_remove_wait_queue() also takes, so once a binding is
 * unhooked no wake-up runs on it.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/rculist.h>
#include <linux/slab.h>

#include "../compat.h"
#include "../hvx_core.h"
#include "dev.h"

/**
 * struct hvx_irqfds - the eventfds bound to one VM
 * @lock: serialises changes of @list.
 * @list: struct irqfd entries (RCU list).
 * @n: entries on @list.
 * @vm: the VM.
 * @ack: on the VM's interrupt router from creation to
 *	hvx_irqfd_release(): resamples on each EOI of a level-triggered GSI.
 */
struct hvx_irqfds {
	struct mutex lock;	/* changes of @list */
	struct list_head list;
	unsigned int n;
	struct hvx_vm *vm;
	struct hvx_irq_ack_notifier ack;
};

static void irqfd_resample(struct hvx_irq_ack_notifier *n, u32 gsi);

struct irqfd {
	struct list_head node;
	struct list_head dead_node;
	struct hvx_vm *vm;
	struct eventfd_ctx *ctx;
	struct eventfd_ctx *resample;
	wait_queue_entry_t wait;
	wait_queue_head_t *wqh;
	poll_table pt;
	u32 flags, gsi;
	u32 msi_lo, msi_hi, msi_data;
	bool dead;
};

/* Inject once; any context (the eventfd's wait-queue lock is held). */
static void irqfd_inject(struct irqfd *fd)
{
	struct hvx_vm *vm = fd->vm;

	if (fd->flags & HVX_IRQFD_MSI) {
		hvx_irq_msi(vm, fd->msi_lo, fd->msi_hi, fd->msi_data,
			    HVX_IRQ_SRC_MSI);
	} else if (fd->flags & HVX_IRQFD_RESAMPLE) {
		hvx_irq_set_gsi(vm, fd->gsi, 1);	/* until the EOI */
	} else {
		hvx_irq_set_gsi(vm, fd->gsi, 1);
		hvx_irq_set_gsi(vm, fd->gsi, 0);
	}
}

static int irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync,
			void *key)
{
	struct irqfd *fd = container_of(wait, struct irqfd, wait);
	__poll_t events = key_to_poll(key);
	u64 cnt;

	if (events & EPOLLIN) {
		eventfd_ctx_do_read(fd->ctx, &cnt);
		if (!READ_ONCE(fd->dead))
			irqfd_inject(fd);
	}
	if (events & EPOLLHUP)
		WRITE_ONCE(fd->dead, true);
	return 0;
}

static void irqfd_queue(struct file *file, wait_queue_head_t *wqh,
			poll_table *pt)
{
	struct irqfd *fd = container_of(pt, struct irqfd, pt);

	fd->wqh = wqh;
	add_wait_queue(wqh, &fd->wait);
}

/* Unhook from the eventfd; after this no wake-up runs on @fd. */
static void irqfd_unhook(struct irqfd *fd)
{
	u64 cnt;

	if (fd->wqh)
		eventfd_ctx_remove_wait_queue(fd->ctx, &fd->wait, &cnt);
}

static void irqfd_free(struct irqfd *fd)
{
	eventfd_ctx_put(fd->ctx);
	if (fd->resample)
		eventfd_ctx_put(fd->resample);
	kfree(fd);
}

/* Unlink the dead bindings (lock held); return them on @dead. */
static void irqfd_reap(struct hvx_irqfds *fds, struct list_head *dead)
{
	struct irqfd *fd, *tmp;

	list_for_each_entry_safe(fd, tmp, &fds->list, node) {
		if (!READ_ONCE(fd->dead))
			continue;
		irqfd_unhook(fd);
		list_del_rcu(&fd->node);
		list_add(&fd->dead_node, dead);	/* freed after a grace period */
		fds->n--;
	}
}

/* Free unlinked bindings once RCU readers (resample) are done. */
static void irqfd_free_list(struct list_head *dead)
{
	struct irqfd *fd, *tmp;

	if (list_empty(dead))
		return;
	synchronize_rcu();
	list_for_each_entry_safe(fd, tmp, dead, dead_node)
		irqfd_free(fd);
}

static struct hvx_irqfds *irqfds_get(struct hvx_vm *vm)
{
	struct hvx_irqfds *fds = READ_ONCE(vm->plat->irqfds), *new;

	if (fds)
		return fds;
	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	mutex_init(&new->lock);
	INIT_LIST_HEAD(&new->list);
	new->vm = vm;
	new->ack.acked = irqfd_resample;
	fds = cmpxchg(&vm->plat->irqfds, NULL, new);
	if (fds) {
		kfree(new);
		return fds;
	}
	hvx_irq_register_ack_notifier(vm, &new->ack);
	return new;
}

/* Check an assignment against the VM's controllers. */
static int irqfd_check(struct hvx_vm *vm, const struct hvx_irqfd *a)
{
	struct hvx_platform *plat = vm->plat;
	bool msi = a->flags & HVX_IRQFD_MSI;
	bool resample = a->flags & HVX_IRQFD_RESAMPLE;

	if (a->reserved[0] || a->reserved[1] || a->msi.flags ||
	    a->msi.reserved[0] || a->msi.reserved[1] ||
	    (resample && msi) || (!resample && a->resamplefd))
		return -EINVAL;
	if (msi) {
		if (a->gsi || hvx_irq_msi_check(a->msi.address_lo,
						a->msi.address_hi, a->msi.data))
			return -EINVAL;
	} else if (a->gsi >= HVX_NR_GSIS || a->msi.address_lo ||
		   a->msi.address_hi || a->msi.data) {
		return -EINVAL;
	}
	/* Acquire pairs with the release that publishes a built platform. */
	if (!plat || !smp_load_acquire(&vm->plat_ready))
		return -ENXIO;
	if ((msi || resample) && !(plat->flags & HVX_PLATFORM_LAPIC))
		return -ENXIO;
	if (resample && !plat->ioapic)
		return -ENXIO;
	if (!msi && !plat->pic && !plat->ioapic)
		return -ENXIO;
	return 0;
}

static int irqfd_assign(struct hvx_vm *vm, const struct hvx_irqfd *a)
{
	struct hvx_irqfds *fds;
	struct irqfd *fd, *other;
	LIST_HEAD(dead);
	struct file *file;
	__poll_t events;
	int ret;

	ret = irqfd_check(vm, a);
	if (ret)
		return ret;
	fd = kzalloc(sizeof(*fd), GFP_KERNEL_ACCOUNT);
	if (!fd)
		return -ENOMEM;
	fd->vm = vm;
	fd->flags = a->flags;
	fd->gsi = a->gsi;
	fd->msi_lo = a->msi.address_lo;
	fd->msi_hi = a->msi.address_hi;
	fd->msi_data = a->msi.data;
	file = fget(a->fd);
	ret = -EBADF;
	if (!file)
		goto err_free;
	fd->ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(fd->ctx)) {
		ret = PTR_ERR(fd->ctx);	/* -EINVAL: not an eventfd */
		fd->ctx = NULL;
		goto err_fdput;
	}
	if (a->flags & HVX_IRQFD_RESAMPLE) {
		fd->resample = eventfd_ctx_fdget(a->resamplefd);
		if (IS_ERR(fd->resample)) {
			ret = PTR_ERR(fd->resample);
			fd->resample = NULL;
			goto err_ctx;
		}
	}
	ret = -ENOMEM;
	fds = irqfds_get(vm);
	if (!fds)
		goto err_ctx;
	init_waitqueue_func_entry(&fd->wait, irqfd_wakeup);
	init_poll_funcptr(&fd->pt, irqfd_queue);

	mutex_lock(&fds->lock);
	irqfd_reap(fds, &dead);
	ret = -EBUSY;
	list_for_each_entry(other, &fds->list, node)
		if (other->ctx == fd->ctx)
			goto err_unlock;
	ret = -ENOSPC;
	if (fds->n >= HVX_MAX_IRQFDS)
		goto err_unlock;
	list_add_tail_rcu(&fd->node, &fds->list);
	fds->n++;
	/* Hook into the eventfd; a count already there injects once. */
	events = vfs_poll(file, &fd->pt);
	if (events & EPOLLIN)
		irqfd_inject(fd);
	mutex_unlock(&fds->lock);
	fput(file);
	irqfd_free_list(&dead);
	return 0;

err_unlock:
	mutex_unlock(&fds->lock);
	irqfd_free_list(&dead);
err_ctx:
	if (fd->resample)
		eventfd_ctx_put(fd->resample);
	eventfd_ctx_put(fd->ctx);
err_fdput:
	fput(file);
err_free:
	kfree(fd);
	return ret;
}

static int irqfd_deassign(struct hvx_vm *vm, const struct hvx_irqfd *a)
{
	struct hvx_irqfds *fds = vm->plat ? READ_ONCE(vm->plat->irqfds) : NULL;
	struct eventfd_ctx *ctx;
	struct irqfd *fd;
	LIST_HEAD(dead);
	int ret = -ENOENT;

	ctx = eventfd_ctx_fdget(a->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	if (fds) {
		mutex_lock(&fds->lock);
		list_for_each_entry(fd, &fds->list, node) {
			if (fd->ctx == ctx) {
				WRITE_ONCE(fd->dead, true);
				ret = 0;
				break;
			}
		}
		irqfd_reap(fds, &dead);
		mutex_unlock(&fds->lock);
		irqfd_free_list(&dead);
	}
	eventfd_ctx_put(ctx);
	return ret;
}

/**
 * hvx_irqfd - HVX_IRQFD: bind or unbind an eventfd
 * @vm: the VM.
 * @a: the argument (see struct hvx_irqfd).
 *
 * Context: process context of the caller, whose fds are looked up.
 * Return: 0, -EBADF, -EINVAL, -EBUSY, -ENOENT, -ENOSPC, -ENXIO or
 * -ENOMEM, as the ioctl's documentation in uapi/hvx.h says; nothing
 * changes on error.
 */
int hvx_irqfd(struct hvx_vm *vm, const struct hvx_irqfd *a)
{
	if (a->flags & ~HVX_IRQFD_VALID_FLAGS)
		return -EINVAL;
	if (a->flags & HVX_IRQFD_DEASSIGN) {
		if (a->flags != HVX_IRQFD_DEASSIGN)
			return -EINVAL;
		return irqfd_deassign(vm, a);
	}
	return irqfd_assign(vm, a);
}

/*
 * The guest EOI'd the level-triggered interrupt of @gsi (an ack notifier):
 * every HVX_IRQFD_RESAMPLE binding of @gsi deasserts the line and signals
 * its resample eventfd, so that the device can assert it again if it
 * still needs service.
 */
static void irqfd_resample(struct hvx_irq_ack_notifier *n, u32 gsi)
{
	struct hvx_irqfds *fds = container_of(n, struct hvx_irqfds, ack);
	struct irqfd *fd;

	rcu_read_lock();
	list_for_each_entry_rcu(fd, &fds->list, node) {
		if ((fd->flags & HVX_IRQFD_RESAMPLE) && fd->gsi == gsi) {
			hvx_irq_set_gsi(fds->vm, gsi, 0);
			hvx_eventfd_signal(fd->resample);
		}
	}
	rcu_read_unlock();
}

/**
 * hvx_irqfd_release - unbind every eventfd of a VM
 * @vm: the VM, being freed.
 */
void hvx_irqfd_release(struct hvx_vm *vm)
{
	struct hvx_irqfds *fds = vm->plat ? vm->plat->irqfds : NULL;
	struct irqfd *fd;
	LIST_HEAD(dead);

	if (!fds)
		return;
	hvx_irq_unregister_ack_notifier(vm, &fds->ack);
	mutex_lock(&fds->lock);
	list_for_each_entry(fd, &fds->list, node)
		WRITE_ONCE(fd->dead, true);
	irqfd_reap(fds, &dead);
	mutex_unlock(&fds->lock);
	irqfd_free_list(&dead);
	vm->plat->irqfds = NULL;
	kfree(fds);
}
