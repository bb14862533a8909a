// SPDX-License-Identifier: GPL-2.0
/*
 * request.c - requests to a VM's owner (uapi/hvx.h, "Requests to a VM's
 * owner"). hvx cannot save or migrate a VM itself: the VMM owns the RAM
 * and the files. HVX_CMD_REQUEST (netlink.c) posts a request here; the
 * owner polls its VM fd, takes the request with HVX_GET_REQUEST and
 * answers with HVX_REQUEST_DONE, which goes back to the requester's
 * netlink socket as HVX_CMD_REQUEST_DONE.
 *
 * One request at a time per VM, from posted to answered. Everything is
 * under vm->req.lock, which nests inside the registry mutex (the netlink
 * handler posts with the VM still listed) and takes no other lock of hvx.
 * The answer is built and unicast under it (GFP_KERNEL, non-blocking
 * send), so it reaches the requester's socket after the request's ACK
 * only if the owner answers after the post returned; the uapi says to
 * read both in either order.
 */
#include <linux/errno.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "hvx_core.h"

/**
 * hvx_request_init - set up a new VM's request state
 * @vm: the VM, not yet visible to anyone.
 *
 * Context: process context.
 */
void hvx_request_init(struct hvx_vm *vm)
{
	mutex_init(&vm->req.lock);
	init_waitqueue_head(&vm->req.wq);
}

/**
 * hvx_request_post - hand a request to the VM's owner
 * @vm: the VM; the caller holds the registry mutex, so it stays.
 * @action: enum hvx_request_action, already checked.
 * @arg: its argument, NUL-terminated, already checked.
 * @portid: the requester's netlink port, for the answer.
 * @seq: the request's netlink sequence number, for the answer.
 * @extack: why it is refused.
 *
 * Context: process context, may sleep.
 * Return: 0 (the VM fd polls readable now); -EOPNOTSUPP if the owner
 * takes no requests, -EBUSY if one is in progress, -ENOMEM.
 */
int hvx_request_post(struct hvx_vm *vm, u32 action, const char *arg,
		     u32 portid, u32 seq, struct netlink_ext_ack *extack)
{
	struct hvx_vm_request *r = &vm->req;
	char *copy;
	int ret = 0;

	copy = kstrdup(arg, GFP_KERNEL_ACCOUNT);
	if (!copy)
		return -ENOMEM;
	mutex_lock(&r->lock);
	if (!r->open) {
		NL_SET_ERR_MSG(extack, "the VM's owner takes no requests");
		ret = -EOPNOTSUPP;
	} else if (r->state != HVX_REQ_NONE) {
		NL_SET_ERR_MSG(extack, "the VM's owner has a request in progress");
		ret = -EBUSY;
	} else {
		r->id = r->id + 1 ? r->id + 1 : 1;
		r->action = action;
		r->portid = portid;
		r->seq = seq;
		r->arg = copy;
		copy = NULL;
		WRITE_ONCE(r->state, HVX_REQ_POSTED);
		wake_up_interruptible_poll(&r->wq, EPOLLIN | EPOLLRDNORM);
	}
	mutex_unlock(&r->lock);
	kfree(copy);
	return ret;
}

/* Answer the request in progress and forget it. Caller holds r->lock. */
static void finish(struct hvx_vm *vm, u32 error, const char *msg)
{
	struct hvx_vm_request *r = &vm->req;

	lockdep_assert_held(&r->lock);
	hvx_netlink_request_done(vm, r->portid, r->seq, r->action, error, msg);
	kfree(r->arg);
	r->arg = NULL;
	WRITE_ONCE(r->state, HVX_REQ_NONE);
}

/**
 * hvx_request_get - HVX_GET_REQUEST: take the pending request
 * @vm: the VM.
 * @out: filled in (zeroed by the ioctl layer).
 *
 * The first call makes the VM take requests.
 * Context: process context (the owner's), may sleep.
 * Return: 0, or -EAGAIN when no request is pending.
 */
long hvx_request_get(struct hvx_vm *vm, struct hvx_request *out)
{
	struct hvx_vm_request *r = &vm->req;
	long ret = -EAGAIN;

	mutex_lock(&r->lock);
	r->open = true;
	if (r->state == HVX_REQ_POSTED) {
		out->id = r->id;
		out->action = r->action;
		strscpy(out->arg, r->arg, sizeof(out->arg));
		WRITE_ONCE(r->state, HVX_REQ_TAKEN);
		ret = 0;
	}
	mutex_unlock(&r->lock);
	return ret;
}

/**
 * hvx_request_done - HVX_REQUEST_DONE: answer the taken request
 * @vm: the VM.
 * @d: the answer; its reserved words were checked by the ioctl layer.
 *
 * Context: process context (the owner's), may sleep.
 * Return: 0 (sent, or the requester is gone), or -EINVAL for an answer
 * to no taken request, an errno out of range or a message without a NUL.
 */
long hvx_request_done(struct hvx_vm *vm, const struct hvx_request_done *d)
{
	struct hvx_vm_request *r = &vm->req;
	long ret = -EINVAL;

	if (d->error < 0 || d->error > MAX_ERRNO ||
	    !memchr(d->msg, 0, sizeof(d->msg)))
		return -EINVAL;
	mutex_lock(&r->lock);
	if (r->state == HVX_REQ_TAKEN && d->id == r->id) {
		finish(vm, d->error, d->msg);
		ret = 0;
	}
	mutex_unlock(&r->lock);
	return ret;
}

/**
 * hvx_request_poll - the VM fd's poll: readable while a request waits
 * @vm: the VM.
 * @file: its fd.
 * @pt: the poll table.
 *
 * Context: process context.
 * Return: EPOLLIN | EPOLLRDNORM while a request is posted, else 0.
 */
__poll_t hvx_request_poll(struct hvx_vm *vm, struct file *file,
			  poll_table *pt)
{
	poll_wait(file, &vm->req.wq, pt);
	return READ_ONCE(vm->req.state) == HVX_REQ_POSTED ?
	       EPOLLIN | EPOLLRDNORM : 0;
}

/**
 * hvx_request_release - the VM fd is closed: nobody will answer
 * @vm: the VM.
 *
 * A request posted or taken is answered with ESRCH; later ones fail
 * with -EOPNOTSUPP.
 * Context: process context, may sleep.
 */
void hvx_request_release(struct hvx_vm *vm)
{
	struct hvx_vm_request *r = &vm->req;

	mutex_lock(&r->lock);
	r->open = false;
	if (r->state != HVX_REQ_NONE)
		finish(vm, ESRCH, "the VM's owner closed it without answering");
	mutex_unlock(&r->lock);
}
