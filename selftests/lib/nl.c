// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c - tests' client of the "hvx" generic netlink family (hvx_nl.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hvx_nl.h"

int hvx_nl_send_raw(struct hvx_nl *nl, uint8_t cmd, bool dump,
		    const void *attrs, size_t len, uint8_t reserved)
{
	struct genlmsghdr hdr = {
		.cmd = cmd,
		.version = HVX_GENL_VERSION,
		.reserved = reserved,
	};
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(nl->family, dump ? NLM_F_DUMP : 0);
	if (!msg)
		return -ENOMEM;
	/* No padding after the attributes: their bytes are exactly @attrs. */
	if (nlmsg_append(msg, &hdr, sizeof(hdr), NLMSG_ALIGNTO) < 0 ||
	    (len && nlmsg_append(msg, (void *)attrs, len, 0) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return hvx_nl_transact(nl, msg, NULL, NULL);
}

struct vm_list {
	struct hvx_nl_vm *vms;
	int n, max;
};

static int list_parse(struct nlattr **tb, void *arg)
{
	struct vm_list *l = arg;

	if (!tb[HVX_A_VM_ID])
		return -EBADMSG;
	if (l->n < l->max)
		hvx_nl_parse_vm(tb, &l->vms[l->n]);
	l->n++;
	return 0;
}

int hvx_nl_list_vms(struct hvx_nl *nl, struct hvx_nl_vm *vms, int max)
{
	struct vm_list l = { .vms = vms, .max = max };
	int ret;

	ret = hvx_nl_transact(nl, hvx_nl_msg(nl, HVX_CMD_GET_VM, true),
			      list_parse, &l);
	return ret ? ret : l.n;
}

uint32_t hvx_nl_own_vm_id(struct hvx_nl *nl)
{
	struct hvx_nl_vm vms[64];
	uint32_t id = 0;
	int n;

	n = hvx_nl_list_vms(nl, vms, 64);
	for (int i = 0; i < n; i++)
		if (vms[i].pid == (uint32_t)getpid())
			id = vms[i].id;
	return id;
}

int hvx_nl_own_stats(struct hvx_stats *st)
{
	struct hvx_nl_stats s;
	struct hvx_nl nl;
	uint32_t id;
	int ret;

	ret = hvx_nl_open(&nl);
	if (ret)
		return ret;
	id = hvx_nl_own_vm_id(&nl);
	ret = id ? hvx_nl_get_stats(&nl, id, 0, &s, 1) : -ENOENT;
	hvx_nl_close(&nl);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	*st = s.st;
	return 0;
}

static int one_vm_parse(struct nlattr **tb, void *arg)
{
	if (!tb[HVX_A_VM_ID])
		return -EBADMSG;
	hvx_nl_parse_vm(tb, arg);
	return 0;
}

int hvx_nl_get_vm(struct hvx_nl *nl, uint32_t id, struct hvx_nl_vm *vm)
{
	struct nl_msg *msg = hvx_nl_msg(nl, HVX_CMD_GET_VM, false);

	if (msg && nla_put_u32(msg, HVX_A_VM_ID, id) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return hvx_nl_transact(nl, msg, one_vm_parse, vm);
}

struct stats_list {
	struct hvx_nl_stats *out;
	int n, max;
};

static int stats_parse(struct nlattr **tb, void *arg)
{
	struct stats_list *l = arg;
	struct hvx_nl_stats *s;
	size_t len;

	if (!tb[HVX_A_VM_ID] || !tb[HVX_A_VCPU_ID] || !tb[HVX_A_STATS])
		return -EBADMSG;
	if (l->n < l->max) {
		s = &l->out[l->n];
		memset(s, 0, sizeof(*s));
		s->vm_id = nla_get_u32(tb[HVX_A_VM_ID]);
		s->vcpu_id = nla_get_u32(tb[HVX_A_VCPU_ID]);
		len = nla_len(tb[HVX_A_STATS]);
		memcpy(&s->st, nla_data(tb[HVX_A_STATS]),
		       len < sizeof(s->st) ? len : sizeof(s->st));
	}
	l->n++;
	return 0;
}

int hvx_nl_get_stats(struct hvx_nl *nl, uint32_t vm_id, int vcpu,
		     struct hvx_nl_stats *out, int max)
{
	struct stats_list l = { .out = out, .max = max };
	struct nl_msg *msg = hvx_nl_msg(nl, HVX_CMD_GET_STATS, true);
	int ret;

	if (msg && (nla_put_u32(msg, HVX_A_VM_ID, vm_id) < 0 ||
		    (vcpu >= 0 && nla_put_u32(msg, HVX_A_VCPU_ID, vcpu) < 0))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	ret = hvx_nl_transact(nl, msg, stats_parse, &l);
	return ret ? ret : l.n;
}

static int event_parse(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[HVX_A_MAX + 1];
	struct hvx_nl_event *ev = arg;

	memset(ev, 0, sizeof(*ev));
	ev->cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	if (genlmsg_parse(nlh, 0, tb, HVX_A_MAX, NULL) < 0)
		return NL_STOP;
	for (int i = 0; i <= HVX_A_MAX; i++)
		ev->has[i] = tb[i] != NULL;
	ev->event = hvx_nl_get_u32(tb, HVX_A_EVENT);
	ev->vm_id = hvx_nl_get_u32(tb, HVX_A_VM_ID);
	ev->pid = hvx_nl_get_u32(tb, HVX_A_OWNER_PID);
	ev->uid = hvx_nl_get_u32(tb, HVX_A_OWNER_UID);
	ev->vcpu_id = hvx_nl_get_u32(tb, HVX_A_VCPU_ID);
	ev->suberror = hvx_nl_get_u32(tb, HVX_A_SUBERROR);
	ev->exit_reason = hvx_nl_get_u32(tb, HVX_A_EXIT_REASON);
	ev->check = hvx_nl_get_u32(tb, HVX_A_ENTRY_CHECK);
	ev->insn_error = hvx_nl_get_u32(tb, HVX_A_INSN_ERROR);
	ev->qual = hvx_nl_get_u64(tb, HVX_A_EXIT_QUAL);
	ev->device = hvx_nl_get_u32(tb, HVX_A_DEVICE);
	ev->release_reason = hvx_nl_get_u32(tb, HVX_A_RELEASE_REASON);
	return NL_STOP;
}

int hvx_nl_next_event(struct hvx_nl *nl, struct hvx_nl_event *ev,
		      int timeout_ms)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(nl->sk), .events = POLLIN };
	struct nl_cb *cb, *scb;
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIMEDOUT;
	/* The socket's callbacks: sequence checks are off (events). */
	scb = nl_socket_get_cb(nl->sk);
	cb = nl_cb_clone(scb);
	nl_cb_put(scb);
	if (!cb)
		return -ENOMEM;
	ev->event = HVX_EVENT_UNSPEC;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, event_parse, ev);
	ret = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (ret < 0 && ev->event == HVX_EVENT_UNSPEC)
		return -EIO;
	return ev->event == HVX_EVENT_UNSPEC ? -EBADMSG : 0;
}
