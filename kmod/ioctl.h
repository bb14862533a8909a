/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioctl.h - declarative ioctl tables and their one dispatcher (ioctl.c).
 *
 * A leaf: it knows no object of its own, so every fd of the module
 * (/dev/hvx, VM, vCPU, passthrough device) uses it. See "The ioctl
 * dispatcher" in kmod/README.md.
 */
#ifndef HVX_IOCTL_H
#define HVX_IOCTL_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/ioctl.h>
#include <linux/mutex.h>
#include <linux/stddef.h>
#include <linux/types.h>

struct mm_struct;

/**
 * enum hvx_ioctl_lock - the lock the dispatcher holds around a handler
 * @HVX_IOC_LOCK_NONE: none; the handler is lock-free or uses the locks of
 *	the subsystem it calls (interrupt router, device, passthrough).
 * @HVX_IOC_LOCK_VM: the VM's lock (struct hvx_vm, @lock), mutex_lock().
 * @HVX_IOC_LOCK_MEM: the VM's memory lock (struct hvx_mem, @lock),
 *	mutex_lock().
 * @HVX_IOC_LOCK_VCPU: the vCPU's run lock (struct hvx_vcpu, @run_lock),
 *	mutex_trylock(): -EBUSY while another thread runs the vCPU.
 * @HVX_IOC_LOCK_DEV: a passthrough device fd's lock, mutex_lock().
 * @HVX_IOC_NR_LOCKS: number of lock classes.
 */
enum hvx_ioctl_lock {
	HVX_IOC_LOCK_NONE,
	HVX_IOC_LOCK_VM,
	HVX_IOC_LOCK_MEM,
	HVX_IOC_LOCK_VCPU,
	HVX_IOC_LOCK_DEV,
	HVX_IOC_NR_LOCKS
};

/* Flags of struct hvx_ioctl. */
#define HVX_IOC_OWNER		BIT(0)	/* caller must be in the VM owner's mm (-EIO) */
#define HVX_IOC_ARG_ZERO	BIT(1)	/* _IO ioctl whose argument must be 0 (-EINVAL) */

/**
 * struct hvx_ioctl - one entry of an ioctl table
 * @cmd: ioctl number (it encodes @size and @dir; a call with another size
 *	is another, unknown, number).
 * @size: size of the argument struct, bytes; 0 for a value argument.
 * @dir: _IOC_NONE, _IOC_WRITE (copied in), _IOC_READ (copied out, from a
 *	zeroed buffer) or both.
 * @lock: enum hvx_ioctl_lock.
 * @flags: HVX_IOC_*.
 * @zero_from: first byte of the argument that must be zero (reserved and
 *	padding fields), checked after copying in; @zero_to if none.
 * @zero_to: end of that range, bytes.
 *
 * Fill with HVX_IOCTL(), HVX_IOCTL_RSVD(), HVX_IOCTL_RSVD_FIELD() or
 * HVX_IOCTL_VAL(), which check at build time that the named argument type
 * has the size @cmd encodes.
 */
struct hvx_ioctl {
	unsigned int cmd;
	u16 size;
	u8 dir;
	u8 lock;
	u16 flags;
	u16 zero_from;
	u16 zero_to;
};

#define __HVX_IOCTL(_cmd, _type, _from, _to, _lock, _flags) {		\
	.cmd = (_cmd),							\
	.size = sizeof(_type) +						\
		BUILD_BUG_ON_ZERO(sizeof(_type) != _IOC_SIZE(_cmd)),	\
	.dir = _IOC_DIR(_cmd),						\
	.lock = (_lock),						\
	.flags = (_flags),						\
	.zero_from = (_from),						\
	.zero_to = (_to),						\
}

/* An ioctl with an argument struct of type @_type and no reserved field. */
#define HVX_IOCTL(_cmd, _type, _lock, _flags)				\
	__HVX_IOCTL(_cmd, _type, sizeof(_type), sizeof(_type), _lock, _flags)

/* Reserved from field @_first to the end of @_type. */
#define HVX_IOCTL_RSVD(_cmd, _type, _first, _lock, _flags)		\
	__HVX_IOCTL(_cmd, _type, offsetof(_type, _first), sizeof(_type),	\
		    _lock, _flags)

/* Reserved: field @_field of @_type only (more fields follow it). */
#define HVX_IOCTL_RSVD_FIELD(_cmd, _type, _field, _lock, _flags)	\
	__HVX_IOCTL(_cmd, _type, offsetof(_type, _field),		\
		    offsetofend(_type, _field), _lock, _flags)

/* An _IO ioctl: a value argument (or none: HVX_IOC_ARG_ZERO). */
#define HVX_IOCTL_VAL(_cmd, _lock, _flags) {				\
	.cmd = (_cmd) + BUILD_BUG_ON_ZERO(_IOC_SIZE(_cmd)),		\
	.dir = _IOC_NONE,						\
	.lock = (_lock),						\
	.flags = (_flags),						\
}

/**
 * struct hvx_ioctl_table - the ioctls of one kind of fd
 * @ioctls: the entries.
 * @n: number of entries.
 * @call: the object's handlers: a switch on @cmd with one typed call per
 *	entry. Gets the object, the entry, the argument in kernel memory
 *	(NULL for a value argument) and the raw argument; runs with the
 *	entry's lock held and its argument checked.
 */
struct hvx_ioctl_table {
	const struct hvx_ioctl *ioctls;
	unsigned int n;
	long (*call)(void *obj, const struct hvx_ioctl *d, void *karg,
		     unsigned long arg);
};

/**
 * struct hvx_ioctl_target - the object an ioctl acts on, built per call
 * @obj: the object, passed to the table's @call.
 * @owner: the mm HVX_IOC_OWNER entries require, or NULL.
 * @locks: the mutex behind each enum hvx_ioctl_lock the object has; an
 *	entry whose class is NULL here is refused (-ENOTTY, with a warning:
 *	a table bug).
 */
struct hvx_ioctl_target {
	void *obj;
	struct mm_struct *owner;
	struct mutex *locks[HVX_IOC_NR_LOCKS];	/* by enum hvx_ioctl_lock */
};

long hvx_ioctl(const struct hvx_ioctl_table *t,
	       const struct hvx_ioctl_target *tgt, unsigned int cmd,
	       unsigned long arg);

#endif /* HVX_IOCTL_H */
