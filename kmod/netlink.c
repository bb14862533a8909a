// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - the "hvx" generic netlink family: the list of VMs, per-vCPU
 * statistics and lifecycle events. The ABI (commands, attributes, the
 * statistics layout) is the generic netlink section of uapi/hvx.h.
 *
 * Requests: the genetlink core parses every request against the
 * command's strict policy before a handler runs, so handlers only check
 * what a policy cannot express (a required attribute, whether the VM
 * exists). The family sets parallel_ops: handlers take the registry mutex
 * and a VM's vm->lock themselves, in that order, and never genl_lock.
 *
 * Visibility: struct hvx_nl_caller records who asks, at the start of the
 * request (for dumps, in .start, which runs in the sender's context). A
 * VM the caller may not see is answered exactly like a missing one.
 *
 * Requests to a VM's owner (HVX_CMD_REQUEST): checked here, posted and
 * answered in request.c; the answer is unicast to the requester.
 *
 * Events: built and multicast from process context with GFP_KERNEL, only
 * when the group has listeners, so the cost without listeners is one
 * genl_has_listeners() test. The group needs CAP_SYS_ADMIN to join
 * (compat.h), because events name other users' VMs.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/string.h>
#include <linux/uidgid.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "compat.h"
#include "hvx_core.h"
#include "dev/virtio.h"

enum hvx_nl_groups {
	HVX_NL_GRP_EVENTS,
};

/* What a dump keeps in netlink_callback.args between calls. */
enum hvx_nl_cb_args {
	CB_NEXT,	/* next VM id (GET_VM) or vCPU id (GET_STATS) to send */
	CB_ADMIN,	/* the caller has CAP_SYS_ADMIN */
	CB_EUID,	/* the caller's effective uid (kuid value) */
	CB_VM,		/* GET_STATS: the VM id */
	CB_VCPU,	/* GET_STATS: vCPU id + 1, or 0 for all vCPUs */
};

/**
 * struct hvx_nl_caller - who sent a request
 * @admin: has CAP_SYS_ADMIN (through its socket and itself): sees all VMs.
 * @euid: effective uid; sees the VMs created with that effective uid.
 */
struct hvx_nl_caller {
	bool admin;
	kuid_t euid;
};

static struct genl_family hvx_nl_family;

static void caller_init(struct hvx_nl_caller *c, struct sk_buff *req)
{
	c->admin = netlink_capable(req, CAP_SYS_ADMIN);
	c->euid = current_euid();
}

static void caller_from_cb(struct hvx_nl_caller *c, struct netlink_callback *cb)
{
	c->admin = cb->args[CB_ADMIN];
	c->euid = KUIDT_INIT(cb->args[CB_EUID]);
}

static void caller_to_cb(struct netlink_callback *cb)
{
	struct hvx_nl_caller c;

	caller_init(&c, cb->skb);
	cb->args[CB_ADMIN] = c.admin;
	cb->args[CB_EUID] = __kuid_val(c.euid);
}

static bool visible(const struct hvx_vm *vm, const struct hvx_nl_caller *c)
{
	return c->admin || uid_eq(vm->owner_uid, c->euid);
}

/* Caller holds the registry. NULL if there is no such VM for @c. */
static struct hvx_vm *find_vm(u32 id, const struct hvx_nl_caller *c)
{
	struct hvx_vm *vm = hvx_registry_find(id);

	return vm && visible(vm, c) ? vm : NULL;
}

/* One VM message. Caller holds the registry. */
static int fill_vm(struct sk_buff *skb, struct hvx_vm *vm, u32 portid,
		   u32 seq, int flags)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &hvx_nl_family, flags,
			  HVX_CMD_GET_VM);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, HVX_A_VM_ID, vm->id) ||
	    nla_put_u32(skb, HVX_A_OWNER_PID, pid_vnr(vm->owner_pid)) ||
	    nla_put_u32(skb, HVX_A_OWNER_UID,
			from_kuid_munged(current_user_ns(), vm->owner_uid)) ||
	    nla_put_string(skb, HVX_A_OWNER_COMM, vm->owner_comm) ||
	    nla_put_u32(skb, HVX_A_NR_VCPUS, atomic_read(&vm->vmx.nr_vcpus)) ||
	    nla_put_u64_64bit(skb, HVX_A_MEM_BYTES, hvx_mem_size(&vm->mem),
			      HVX_A_PAD) ||
	    nla_put_u64_64bit(skb, HVX_A_PINNED_BYTES,
			      atomic64_read(&vm->mem.nr_pinned) << PAGE_SHIFT,
			      HVX_A_PAD) ||
	    nla_put_u64_64bit(skb, HVX_A_EPT_FLUSHES,
			      atomic64_read(&vm->mem.nr_flushes), HVX_A_PAD) ||
	    nla_put_u32(skb, HVX_A_NR_DEVICES, 0) ||
	    hvx_virtio_put_stats(skb, vm)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int get_vm_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct hvx_nl_caller caller;
	struct sk_buff *msg;
	struct hvx_vm *vm;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, HVX_A_VM_ID))
		return -EINVAL;
	caller_init(&caller, skb);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hvx_registry_lock();
	vm = find_vm(nla_get_u32(info->attrs[HVX_A_VM_ID]), &caller);
	ret = vm ? fill_vm(msg, vm, info->snd_portid, info->snd_seq, 0) :
		   -ENOENT;
	hvx_registry_unlock();
	if (ret) {
		nlmsg_free(msg);
		if (ret == -ENOENT)
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[HVX_A_VM_ID],
					    "no such VM");
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int get_vm_start(struct netlink_callback *cb)
{
	caller_to_cb(cb);
	cb->args[CB_NEXT] = 1;
	return 0;
}

static int get_vm_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct hvx_nl_caller caller;
	u32 id = cb->args[CB_NEXT];
	struct hvx_vm *vm;
	int ret = 0;

	caller_from_cb(&caller, cb);
	hvx_registry_lock();
	for (; (vm = hvx_registry_next(&id)); id++) {
		if (!visible(vm, &caller))
			continue;
		ret = fill_vm(skb, vm, NETLINK_CB(cb->skb).portid,
			      cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (ret)
			break;
	}
	hvx_registry_unlock();
	cb->args[CB_NEXT] = id;
	/* A message that does not fit an empty buffer would end the dump. */
	return ret && !skb->len ? ret : skb->len;
}

/* One vCPU's statistics. Caller holds vm->lock, so @vcpu stays. */
static int fill_stats(struct sk_buff *skb, struct hvx_vm *vm,
		      struct hvx_vcpu *vcpu, u32 portid, u32 seq, int flags)
{
	struct nlattr *attr;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &hvx_nl_family, flags,
			  HVX_CMD_GET_STATS);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, HVX_A_VM_ID, vm->id) ||
	    nla_put_u32(skb, HVX_A_VCPU_ID, vcpu->vmx.id))
		goto cancel;
	attr = nla_reserve_64bit(skb, HVX_A_STATS, sizeof(struct hvx_stats),
				 HVX_A_PAD);
	if (!attr)
		goto cancel;
	hvx_stats_read(&vcpu->vmx.stats, nla_data(attr));
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int get_stats_start(struct netlink_callback *cb)
{
	struct nlattr **attrs = hvx_genl_dump_attrs(cb);
	struct hvx_nl_caller caller;
	struct hvx_vm *vm;
	int ret = 0;
	u32 vcpu;

	/* A stats message must fit the smallest dump buffer. */
	BUILD_BUG_ON(nlmsg_total_size(GENL_HDRLEN + 2 * nla_total_size(4) +
			nla_total_size_64bit(sizeof(struct hvx_stats))) >
		     NLMSG_GOODSIZE);

	if (NL_REQ_ATTR_CHECK(cb->extack, NULL, attrs, HVX_A_VM_ID))
		return -EINVAL;
	caller_to_cb(cb);
	caller_from_cb(&caller, cb);
	cb->args[CB_NEXT] = 0;
	cb->args[CB_VM] = nla_get_u32(attrs[HVX_A_VM_ID]);
	cb->args[CB_VCPU] = 0;
	if (attrs[HVX_A_VCPU_ID])
		cb->args[CB_VCPU] = nla_get_u32(attrs[HVX_A_VCPU_ID]) + 1;

	/* Report a missing VM or vCPU as an error, not as an empty dump. */
	hvx_registry_lock();
	vm = find_vm(cb->args[CB_VM], &caller);
	if (!vm) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[HVX_A_VM_ID],
				    "no such VM");
		ret = -ENOENT;
	} else if (cb->args[CB_VCPU]) {
		vcpu = cb->args[CB_VCPU] - 1;
		mutex_lock(&vm->lock);
		if (!vm->vcpus[vcpu]) {
			NL_SET_ERR_MSG_ATTR(cb->extack, attrs[HVX_A_VCPU_ID],
					    "no such vCPU");
			ret = -ENOENT;
		}
		mutex_unlock(&vm->lock);
	}
	hvx_registry_unlock();
	return ret;
}

static int get_stats_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	unsigned long only = cb->args[CB_VCPU];
	unsigned long i = cb->args[CB_NEXT];
	struct hvx_nl_caller caller;
	struct hvx_vm *vm;
	int ret = 0;

	caller_from_cb(&caller, cb);
	hvx_registry_lock();
	vm = find_vm(cb->args[CB_VM], &caller);
	if (vm) {	/* else the VM went away during the dump: end it */
		mutex_lock(&vm->lock);
		for (; i < HVX_MAX_VCPUS; i++) {
			if (!vm->vcpus[i] || (only && i != only - 1))
				continue;
			ret = fill_stats(skb, vm, vm->vcpus[i],
					 NETLINK_CB(cb->skb).portid,
					 cb->nlh->nlmsg_seq, NLM_F_MULTI);
			if (ret)
				break;
		}
		mutex_unlock(&vm->lock);
	}
	hvx_registry_unlock();
	cb->args[CB_NEXT] = i;
	return ret && !skb->len ? ret : skb->len;
}

/*
 * HVX_CMD_REQUEST: check what the policy cannot (required attributes, the
 * argument's form, the VM) and post the request to the VM's owner
 * (request.c). Nothing is posted on an error. The owner's answer goes to
 * the sender later, as HVX_CMD_REQUEST_DONE.
 */
static int request_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *arg_attr = info->attrs[HVX_A_REQUEST_ARG];
	struct hvx_nl_caller caller;
	struct hvx_vm *vm;
	const char *arg;
	u32 action;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, HVX_A_VM_ID) ||
	    GENL_REQ_ATTR_CHECK(info, HVX_A_REQUEST_ACTION) ||
	    GENL_REQ_ATTR_CHECK(info, HVX_A_REQUEST_ARG))
		return -EINVAL;
	action = nla_get_u32(info->attrs[HVX_A_REQUEST_ACTION]);
	arg = nla_data(arg_attr);	/* NUL-terminated: NLA_NUL_STRING */
	if (action == HVX_REQUEST_SAVE && arg[0] != '/') {
		NL_SET_ERR_MSG_ATTR(info->extack, arg_attr,
				    "the file must be an absolute path");
		return -EINVAL;
	}
	if (action == HVX_REQUEST_MIGRATE &&
	    (strncmp(arg, "tcp:", 4) || !arg[4])) {
		NL_SET_ERR_MSG_ATTR(info->extack, arg_attr,
				    "the address must be tcp:HOST:PORT");
		return -EINVAL;
	}
	caller_init(&caller, skb);
	hvx_registry_lock();
	vm = find_vm(nla_get_u32(info->attrs[HVX_A_VM_ID]), &caller);
	if (vm) {
		ret = hvx_request_post(vm, action, arg, info->snd_portid,
				       info->snd_seq, info->extack);
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HVX_A_VM_ID],
				    "no such VM");
		ret = -ENOENT;
	}
	hvx_registry_unlock();
	return ret;
}

/* Request policies: only what each command takes, strictly. */
static const struct nla_policy get_vm_policy[HVX_A_VM_ID + 1] = {
	[HVX_A_VM_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy get_stats_policy[HVX_A_VCPU_ID + 1] = {
	[HVX_A_VM_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[HVX_A_VCPU_ID]	= NLA_POLICY_MAX(NLA_U32, HVX_MAX_VCPUS - 1),
};

static const struct nla_policy request_policy[HVX_A_REQUEST_ARG + 1] = {
	[HVX_A_VM_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[HVX_A_REQUEST_ACTION]	= NLA_POLICY_RANGE(NLA_U32, HVX_REQUEST_SAVE,
						   __HVX_REQUEST_MAX - 1),
	[HVX_A_REQUEST_ARG]	= { .type = NLA_NUL_STRING,
				    .len = HVX_REQUEST_ARG_MAX - 1 },
};

static const struct genl_ops hvx_nl_ops[] = {
	{
		.cmd	 = HVX_CMD_GET_VM,
		.doit	 = get_vm_doit,
		.start	 = get_vm_start,
		.dumpit	 = get_vm_dumpit,
		.policy	 = get_vm_policy,
		.maxattr = ARRAY_SIZE(get_vm_policy) - 1,
	},
	{
		.cmd	 = HVX_CMD_GET_STATS,
		.start	 = get_stats_start,
		.dumpit	 = get_stats_dumpit,
		.policy	 = get_stats_policy,
		.maxattr = ARRAY_SIZE(get_stats_policy) - 1,
	},
	{
		.cmd	 = HVX_CMD_REQUEST,
		.doit	 = request_doit,
		.policy	 = request_policy,
		.maxattr = ARRAY_SIZE(request_policy) - 1,
	},
};

static const struct genl_multicast_group hvx_nl_mcgrps[] = {
	[HVX_NL_GRP_EVENTS] = {
		.name	= HVX_GENL_MCGRP_EVENTS,
		.flags	= HVX_GENL_MCGRP_ADMIN,
	},
};

/* resv_start_op is 0: every command gets strict header checks. */
static struct genl_family hvx_nl_family __ro_after_init = {
	.name		= HVX_GENL_NAME,
	.version	= HVX_GENL_VERSION,
	.module		= THIS_MODULE,
	.parallel_ops	= true,
	.ops		= hvx_nl_ops,
	.n_ops		= ARRAY_SIZE(hvx_nl_ops),
	.mcgrps		= hvx_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(hvx_nl_mcgrps),
};

/*
 * Start an event about @vm, or return NULL when nobody listens or memory
 * is short (events are best effort). Owner ids as the initial namespaces
 * see them: listeners need CAP_SYS_ADMIN there anyway.
 */
static struct sk_buff *event_new(struct hvx_vm *vm, enum hvx_event event,
				 void **hdr)
{
	struct sk_buff *msg;

	if (!genl_has_listeners(&hvx_nl_family, &init_net, HVX_NL_GRP_EVENTS))
		return NULL;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return NULL;
	*hdr = genlmsg_put(msg, 0, 0, &hvx_nl_family, 0, HVX_CMD_EVENT);
	if (!*hdr ||
	    nla_put_u32(msg, HVX_A_EVENT, event) ||
	    nla_put_u32(msg, HVX_A_VM_ID, vm->id) ||
	    nla_put_u32(msg, HVX_A_OWNER_PID, pid_nr(vm->owner_pid)) ||
	    nla_put_u32(msg, HVX_A_OWNER_UID,
			from_kuid_munged(&init_user_ns, vm->owner_uid))) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static void event_send(struct sk_buff *msg, void *hdr)
{
	genlmsg_end(msg, hdr);
	/* -ESRCH (the last listener just left) is not an error. */
	genlmsg_multicast(&hvx_nl_family, msg, 0, HVX_NL_GRP_EVENTS,
			  GFP_KERNEL);
}

/**
 * hvx_netlink_vm_event - multicast a VM lifecycle event
 * @vm: the VM (listed or just unlisted; its id and owner are valid).
 * @event: HVX_EVENT_VM_CREATED or HVX_EVENT_VM_DESTROYED.
 *
 * Context: process context, may sleep. Best effort: nothing is sent when
 * nobody listens or memory is short.
 */
void hvx_netlink_vm_event(struct hvx_vm *vm, enum hvx_event event)
{
	struct sk_buff *msg;
	void *hdr;

	msg = event_new(vm, event, &hdr);
	if (msg)
		event_send(msg, hdr);
}

/**
 * hvx_netlink_device_event - multicast a PCI passthrough event
 * @vm: the VM the device is (or was) assigned to; its id and owner are
 *	valid (also while it is being freed).
 * @event: HVX_EVENT_DEVICE_ASSIGNED or HVX_EVENT_DEVICE_RELEASED.
 * @device: the device: segment << 16 | bus << 8 | devfn (HVX_A_DEVICE).
 * @reason: enum hvx_release_reason for HVX_EVENT_DEVICE_RELEASED
 *	(HVX_A_RELEASE_REASON); HVX_RELEASE_UNSPEC sends no reason.
 *
 * Context: process context, may sleep (the caller may hold the
 * passthrough mutexes: nothing here takes a lock of hvx). Best effort:
 * nothing is sent when nobody listens or memory is short.
 */
void hvx_netlink_device_event(struct hvx_vm *vm, enum hvx_event event,
			      u32 device, u32 reason)
{
	struct sk_buff *msg;
	void *hdr;

	msg = event_new(vm, event, &hdr);
	if (!msg)
		return;
	if (nla_put_u32(msg, HVX_A_DEVICE, device) ||
	    (reason && nla_put_u32(msg, HVX_A_RELEASE_REASON, reason))) {
		nlmsg_free(msg);
		return;
	}
	event_send(msg, hdr);
}

/* Details of HVX_EVENT_ENTRY_FAILURE; nonzero if the message is full. */
static int put_entry_failure(struct sk_buff *msg, const struct hvx_run *run)
{
	const typeof(run->fail_entry) *f = &run->fail_entry;

	return nla_put_u32(msg, HVX_A_SUBERROR, READ_ONCE(f->kind)) ||
	       nla_put_u32(msg, HVX_A_EXIT_REASON,
			   READ_ONCE(f->hardware_entry_failure_reason)) ||
	       nla_put_u64_64bit(msg, HVX_A_EXIT_QUAL,
				 READ_ONCE(f->qualification), HVX_A_PAD) ||
	       nla_put_u32(msg, HVX_A_ENTRY_CHECK, READ_ONCE(f->check)) ||
	       nla_put_u32(msg, HVX_A_INSN_ERROR,
			   READ_ONCE(f->vm_instruction_error));
}

/* Details of HVX_EVENT_INTERNAL_ERROR; nonzero if the message is full. */
static int put_internal_error(struct sk_buff *msg, const struct hvx_run *run)
{
	const typeof(run->internal) *i = &run->internal;

	return nla_put_u32(msg, HVX_A_SUBERROR, READ_ONCE(i->suberror)) ||
	       nla_put_u32(msg, HVX_A_EXIT_REASON, READ_ONCE(i->exit_reason)) ||
	       nla_put_u64_64bit(msg, HVX_A_EXIT_QUAL,
				 READ_ONCE(i->qualification), HVX_A_PAD);
}

/**
 * hvx_netlink_vcpu_event - multicast the event for an exit that stops a vCPU
 * @vcpu: the vCPU; its run_lock is held.
 * @run: its run page, as HVX_RUN is about to report it.
 *
 * Sends HVX_EVENT_VCPU_SHUTDOWN, HVX_EVENT_ENTRY_FAILURE or
 * HVX_EVENT_INTERNAL_ERROR for HVX_EXIT_SHUTDOWN, HVX_EXIT_FAIL_ENTRY and
 * HVX_EXIT_INTERNAL_ERROR; other exits send nothing. The run page is
 * shared with userspace, so each field is read once.
 * Context: process context of the vCPU's runner, may sleep. Best effort.
 */
void hvx_netlink_vcpu_event(struct hvx_vcpu *vcpu, const struct hvx_run *run)
{
	u32 reason = READ_ONCE(run->exit_reason);
	enum hvx_event event;
	struct sk_buff *msg;
	void *hdr;
	int err;

	switch (reason) {
	case HVX_EXIT_SHUTDOWN:
		event = HVX_EVENT_VCPU_SHUTDOWN;
		break;
	case HVX_EXIT_FAIL_ENTRY:
		event = HVX_EVENT_ENTRY_FAILURE;
		break;
	case HVX_EXIT_INTERNAL_ERROR:
		event = HVX_EVENT_INTERNAL_ERROR;
		break;
	default:
		return;
	}
	msg = event_new(vcpu->vm, event, &hdr);
	if (!msg)
		return;
	err = nla_put_u32(msg, HVX_A_VCPU_ID, vcpu->vmx.id);
	if (!err && event == HVX_EVENT_ENTRY_FAILURE)
		err = put_entry_failure(msg, run);
	else if (!err && event == HVX_EVENT_INTERNAL_ERROR)
		err = put_internal_error(msg, run);
	if (err) {
		nlmsg_free(msg);
		return;
	}
	event_send(msg, hdr);
}

/**
 * hvx_netlink_request_done - send the owner's answer to a request
 * @vm: the VM the request was for.
 * @portid: the requester's netlink port (HVX_CMD_REQUEST's sender).
 * @seq: the request's sequence number.
 * @action: its enum hvx_request_action.
 * @error: 0, or the positive errno of the owner's refusal or failure.
 * @msg: the owner's line, NUL-terminated.
 *
 * Sends HVX_CMD_REQUEST_DONE to @portid alone. Best effort: a requester
 * that is gone, or whose socket is full, loses it.
 * Context: process context, may sleep (the caller may hold vm->req.lock;
 * the send does not block).
 */
void hvx_netlink_request_done(struct hvx_vm *vm, u32 portid, u32 seq,
			      u32 action, u32 error, const char *msg)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, portid, seq, &hvx_nl_family, 0,
			  HVX_CMD_REQUEST_DONE);
	if (!hdr ||
	    nla_put_u32(skb, HVX_A_VM_ID, vm->id) ||
	    nla_put_u32(skb, HVX_A_REQUEST_ACTION, action) ||
	    nla_put_u32(skb, HVX_A_REQUEST_ERROR, error) ||
	    nla_put_string(skb, HVX_A_REQUEST_MSG, msg)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	/* The family lives in the initial namespace only. */
	genlmsg_unicast(&init_net, skb, portid);
}

/**
 * hvx_netlink_init - register the "hvx" generic netlink family
 *
 * Context: module init, before /dev/hvx exists (VM creation sends events).
 * Return: 0, or the error of genl_register_family() (-EEXIST if a family
 * of that name exists).
 */
int hvx_netlink_init(void)
{
	return genl_register_family(&hvx_nl_family);
}

/**
 * hvx_netlink_exit - unregister the family
 *
 * Context: module exit, after /dev/hvx is gone and with no VM left.
 */
void hvx_netlink_exit(void)
{
	genl_unregister_family(&hvx_nl_family);
}
