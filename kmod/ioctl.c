// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl.c - the one ioctl dispatcher: every fd's table goes through it.
 */
#include <linux/bug.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "hvx.h"
#include "ioctl.h"

/* Lock classes taken with mutex_trylock(): a busy object says -EBUSY. */
static const bool hvx_ioc_trylock[HVX_IOC_NR_LOCKS] = {
	[HVX_IOC_LOCK_VCPU] = true,
};

/* Take the entry's lock: -EBUSY if a trylock class is held elsewhere. */
static int ioc_lock(const struct hvx_ioctl *d, struct mutex *lock)
{
	if (!lock)
		return 0;
	if (hvx_ioc_trylock[d->lock])
		return mutex_trylock(lock) ? 0 : -EBUSY;
	mutex_lock(lock);
	return 0;
}

/*
 * An entry with an argument struct: copy in or zero, check the reserved
 * bytes, lock, call, unlock, copy out. Out of line, so that the value
 * ioctls (HVX_RUN first) neither zero nor carry its stack buffer.
 */
static noinline long ioc_call_struct(const struct hvx_ioctl_table *t,
				     const struct hvx_ioctl_target *tgt,
				     const struct hvx_ioctl *d,
				     struct mutex *lock, unsigned long arg)
{
	union {
		struct hvx_memory_region region;
		struct hvx_regs regs;
		struct hvx_sregs sregs;
	} small;
	void __user *uarg = (void __user *)arg;
	void *buf;
	long ret;

	/* Large argument structs (CPUID and MSR lists) go to the heap. */
	if (d->size > sizeof(small)) {
		buf = kzalloc(d->size, GFP_KERNEL_ACCOUNT);
		if (!buf)
			return -ENOMEM;
	} else {
		buf = &small;
		memset(buf, 0, d->size);
	}
	ret = -EFAULT;
	if ((d->dir & _IOC_WRITE) && copy_from_user(buf, uarg, d->size))
		goto out;
	ret = -EINVAL;
	if ((d->flags & HVX_IOC_ARG_ZERO) && arg)
		goto out;
	if (d->zero_from < d->zero_to &&
	    memchr_inv(buf + d->zero_from, 0, d->zero_to - d->zero_from))
		goto out;
	ret = ioc_lock(d, lock);
	if (ret)
		goto out;
	ret = t->call(tgt->obj, d, buf, arg);
	if (lock)
		mutex_unlock(lock);
	if (ret >= 0 && (d->dir & _IOC_READ) && copy_to_user(uarg, buf, d->size))
		ret = -EFAULT;
out:
	if (buf != &small)
		kfree(buf);
	return ret;
}

/**
 * hvx_ioctl - look up, check, copy, lock and call one ioctl
 * @t: the fd's table.
 * @tgt: the object, its owner mm and its locks.
 * @cmd: ioctl number.
 * @arg: ioctl argument (a user pointer, or a value for _IO ioctls).
 *
 * In this order: finds @cmd in @t; refuses a HVX_IOC_OWNER entry to a
 * caller outside @tgt's owner mm; copies the argument struct in (for
 * _IOC_WRITE) or zeroes it; checks HVX_IOC_ARG_ZERO and the entry's
 * reserved bytes (memchr_inv()); takes the entry's lock; calls the
 * table's handler; drops the lock; copies the struct out (for _IOC_READ,
 * when the handler returned 0 or more). The copies are made without the
 * lock: a user buffer may be a mapping whose fault handler takes it. An
 * entry with a value argument (HVX_RUN, the first of the vCPU table) has
 * nothing to copy and goes from the checks straight to its handler.
 * Context: process context; may sleep.
 * Return: the handler's result; -ENOTTY for an unknown @cmd (including a
 * known ioctl with a wrong size), -EIO for an owner-only ioctl from
 * another process, -EFAULT if the argument cannot be copied, -ENOMEM,
 * -EINVAL for a nonzero reserved field or value argument, -EBUSY if a
 * trylock class is held by another thread.
 */
long hvx_ioctl(const struct hvx_ioctl_table *t,
	       const struct hvx_ioctl_target *tgt, unsigned int cmd,
	       unsigned long arg)
{
	const struct hvx_ioctl *d = NULL;
	struct mutex *lock = NULL;
	unsigned int i;
	long ret;

	for (i = 0; i < t->n; i++) {
		if (t->ioctls[i].cmd == cmd) {
			d = &t->ioctls[i];
			break;
		}
	}
	if (!d)
		return -ENOTTY;
	if (d->lock != HVX_IOC_LOCK_NONE) {
		lock = tgt->locks[d->lock];
		if (WARN_ON_ONCE(!lock))
			return -ENOTTY;
	}
	if ((d->flags & HVX_IOC_OWNER) && current->mm != tgt->owner)
		return -EIO;
	if (d->size)
		return ioc_call_struct(t, tgt, d, lock, arg);
	if ((d->flags & HVX_IOC_ARG_ZERO) && arg)
		return -EINVAL;
	ret = ioc_lock(d, lock);
	if (ret)
		return ret;
	ret = t->call(tgt->obj, d, NULL, arg);
	if (lock)
		mutex_unlock(lock);
	return ret;
}
