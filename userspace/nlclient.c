// SPDX-License-Identifier: GPL-2.0
/*
 * nlclient.c - the "hvx" generic netlink client shared by the tools and
 * the selftests (nlclient.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "nlclient.h"

int hvx_nl_open(struct hvx_nl *nl)
{
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	if (genl_connect(nl->sk) < 0) {
		hvx_nl_close(nl);
		return -EIO;
	}
	nl_socket_set_msg_buf_size(nl->sk, 65536);
	/* Error messages from the kernel (best effort: old kernels lack it). */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &(int){ 1 }, sizeof(int));
	nl_socket_enable_msg_peek(nl->sk);
	nl->family = genl_ctrl_resolve(nl->sk, HVX_GENL_NAME);
	if (nl->family < 0) {
		hvx_nl_close(nl);
		return -ENOENT;
	}
	return 0;
}

void hvx_nl_close(struct hvx_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

struct nl_msg *hvx_nl_msg(struct hvx_nl *nl, uint8_t cmd, bool dump)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
				dump ? NLM_F_DUMP : 0, cmd, HVX_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/* The state of one request, shared by its libnl callbacks. */
struct request {
	struct hvx_nl *nl;
	hvx_nl_parse_fn parse;
	void *arg;
	int done, error;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[HVX_A_MAX + 1];
	struct request *r = arg;
	int ret;

	if (!r->parse)
		return NL_OK;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, HVX_A_MAX, NULL) < 0) {
		r->error = -EBADMSG;
		return NL_STOP;
	}
	ret = r->parse(tb, r->arg);
	if (ret) {
		r->error = ret;
		return NL_STOP;
	}
	return NL_OK;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;

	(void)msg;
	r->done = 1;
	return NL_STOP;
}

/* NLMSGERR_ATTR_MSG of an error message, into @nl->extack. */
static void get_extack(struct hvx_nl *nl, struct nlmsgerr *err)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((char *)err - NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN + sizeof(*err);
	struct nlattr *a;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(err->msg.nlmsg_len) - NLMSG_HDRLEN;
	while (off + NLA_HDRLEN <= h->nlmsg_len) {
		a = (struct nlattr *)((char *)h + off);
		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len)
			return;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			snprintf(nl->extack, sizeof(nl->extack), "%.*s",
				 (int)(a->nla_len - NLA_HDRLEN),
				 (char *)a + NLA_HDRLEN);
			return;
		}
		off += NLA_ALIGN(a->nla_len);
	}
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct request *r = arg;

	(void)nla;
	if (err->error)
		get_extack(r->nl, err);
	r->error = err->error;
	r->done = 1;
	return NL_STOP;
}

int hvx_nl_transact(struct hvx_nl *nl, struct nl_msg *msg,
		    hvx_nl_parse_fn parse, void *arg)
{
	struct request r = { .nl = nl, .parse = parse, .arg = arg };
	struct nl_cb *cb;
	int ret;

	nl->extack[0] = 0;
	if (!msg)
		return -ENOMEM;
	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return -EIO;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_finish, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &r);
	while (!r.done && !r.error) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && !r.done && !r.error)
			r.error = -EIO;
	}
	nl_cb_put(cb);
	return r.error;
}

static int any_seq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int hvx_nl_wait(struct hvx_nl *nl, hvx_nl_parse_fn parse, void *arg)
{
	struct request r = { .nl = nl, .parse = parse, .arg = arg };
	struct nl_cb *cb;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	/* This callback set's own check, not the socket's, applies. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, any_seq, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &r);
	/* A late ACK of the request: nothing to do. */
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, NULL, NULL);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &r);
	while (!r.error) {
		if (nl_recvmsgs(nl->sk, cb) < 0 && !r.error)
			r.error = -EIO;
	}
	nl_cb_put(cb);
	return r.error;
}

int hvx_nl_subscribe(struct hvx_nl *nl)
{
	int grp, ret;

	grp = genl_ctrl_resolve_grp(nl->sk, HVX_GENL_NAME,
				    HVX_GENL_MCGRP_EVENTS);
	if (grp < 0)
		return -ENOENT;
	ret = nl_socket_add_membership(nl->sk, grp);
	if (ret == -NLE_PERM)
		return -EPERM;
	if (ret < 0)
		return -EIO;
	nl_socket_disable_seq_check(nl->sk);
	return 0;
}

void hvx_nl_parse_vm(struct nlattr **tb, struct hvx_nl_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->id = hvx_nl_get_u32(tb, HVX_A_VM_ID);
	vm->pid = hvx_nl_get_u32(tb, HVX_A_OWNER_PID);
	vm->uid = hvx_nl_get_u32(tb, HVX_A_OWNER_UID);
	vm->nr_vcpus = hvx_nl_get_u32(tb, HVX_A_NR_VCPUS);
	vm->nr_devices = hvx_nl_get_u32(tb, HVX_A_NR_DEVICES);
	vm->mem_bytes = hvx_nl_get_u64(tb, HVX_A_MEM_BYTES);
	vm->pinned_bytes = hvx_nl_get_u64(tb, HVX_A_PINNED_BYTES);
	vm->ept_flushes = hvx_nl_get_u64(tb, HVX_A_EPT_FLUSHES);
	if (tb[HVX_A_OWNER_COMM])
		snprintf(vm->comm, sizeof(vm->comm), "%.*s",
			 nla_len(tb[HVX_A_OWNER_COMM]),
			 (char *)nla_data(tb[HVX_A_OWNER_COMM]));
	if (tb[HVX_A_VIRTIO_STATS]) {
		size_t n = nla_len(tb[HVX_A_VIRTIO_STATS]) /
			   sizeof(struct hvx_virtio_stats);

		if (n > HVX_NL_VIRTIO)
			n = HVX_NL_VIRTIO;
		/* The payload may be unaligned: copy it. */
		memcpy(vm->virtio, nla_data(tb[HVX_A_VIRTIO_STATS]),
		       n * sizeof(struct hvx_virtio_stats));
		vm->nr_virtio = n;
	}
}
