/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nlclient.h - the client side of the "hvx" generic netlink family
 * (uapi/hvx.h) on libnl-genl-3, shared by hvxctl, hvx-run --summary and
 * the selftests (selftests/lib/nl.c): open a socket, build a request,
 * send it and collect the replies, decode a VM's attributes.
 *
 * Functions return 0 on success and -errno on failure; a request's errno
 * is the kernel's own (from NLMSG_ERROR), not libnl's translation.
 * Not thread-safe: one struct hvx_nl per thread.
 */
#ifndef HVX_USERSPACE_NLCLIENT_H
#define HVX_USERSPACE_NLCLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "hvx.h"

/**
 * struct hvx_nl - a generic netlink socket bound to the "hvx" family
 * @sk:		the libnl socket
 * @family:	the family's id, resolved by hvx_nl_open()
 * @extack:	the kernel's message (extended ACK) about the last request
 *		that failed, or empty
 */
struct hvx_nl {
	struct nl_sock *sk;
	int family;
	char extack[256];
};

/**
 * struct hvx_nl_vm - one VM as HVX_CMD_GET_VM reports it
 * @id:		VM id (HVX_A_VM_ID)
 * @pid:	owner's process id
 * @uid:	owner's user id
 * @nr_vcpus:	vCPUs created
 * @nr_devices:	passthrough devices assigned
 * @mem_bytes:	guest memory in slots, bytes
 * @pinned_bytes: guest memory pinned now, bytes
 * @ept_flushes: INVEPTs issued for the VM
 * @comm:	owner's command name, NUL-terminated
 * @nr_virtio:	in-kernel virtio devices in @virtio (at most HVX_NL_VIRTIO)
 * @virtio:	their counters (HVX_A_VIRTIO_STATS)
 *
 * An attribute the kernel left out reads as 0 (or an empty @comm).
 */
#define HVX_NL_VIRTIO	8
struct hvx_nl_vm {
	uint32_t id, pid, uid, nr_vcpus, nr_devices;
	uint64_t mem_bytes, pinned_bytes, ept_flushes;
	char comm[32];
	uint32_t nr_virtio;
	struct hvx_virtio_stats virtio[HVX_NL_VIRTIO];
};

/**
 * typedef hvx_nl_parse_fn - called with each reply's attributes
 * @tb:		indexed by HVX_A_*; absent ones are NULL
 * @arg:	the caller's cookie
 *
 * Return: 0 to go on; anything else stops the request and is returned.
 */
typedef int (*hvx_nl_parse_fn)(struct nlattr **tb, void *arg);

/**
 * hvx_nl_open() - open a socket and resolve the "hvx" family
 * @nl:		filled in; free with hvx_nl_close()
 *
 * The socket's receive buffer takes whole dump batches (a statistics
 * message is about 3 KiB).
 *
 * Return: 0; -ENOMEM; -EIO if no generic netlink socket could be opened;
 * -ENOENT if the family is not registered (hvx.ko not loaded).
 */
int hvx_nl_open(struct hvx_nl *nl);

/**
 * hvx_nl_close() - free the socket of hvx_nl_open(); safe to call twice
 * @nl:		the socket
 */
void hvx_nl_close(struct hvx_nl *nl);

/**
 * hvx_nl_msg() - a request with its generic netlink header filled in
 * @nl:		the socket (for the family id)
 * @cmd:	HVX_CMD_*
 * @dump:	true for a dump request (NLM_F_DUMP)
 *
 * Add attributes with libnl's nla_put_*().
 *
 * Return: the message, or NULL when out of memory (hvx_nl_transact()
 * takes NULL and returns -ENOMEM).
 */
struct nl_msg *hvx_nl_msg(struct hvx_nl *nl, uint8_t cmd, bool dump);

/**
 * hvx_nl_transact() - send a request and read its answer
 * @nl:		the socket
 * @msg:	the request; freed here, whatever happens; NULL: -ENOMEM
 * @parse:	called with each reply's attributes, or NULL
 * @arg:	passed to @parse
 *
 * Reads until the ACK, the end of the dump or an error.
 *
 * Return: 0; the kernel's -errno; @parse's nonzero value; -ENOMEM;
 * -EIO if sending or receiving failed; -EBADMSG for a reply whose
 * attributes do not parse.
 */
int hvx_nl_transact(struct hvx_nl *nl, struct nl_msg *msg,
		    hvx_nl_parse_fn parse, void *arg);

/**
 * hvx_nl_wait() - read messages that come unasked until @parse is satisfied
 * @nl:		the socket (no sequence check: such messages carry the
 *		sequence number of an older request)
 * @parse:	called with each message's attributes; nonzero ends the wait
 * @arg:	passed to @parse
 *
 * For the answer to HVX_CMD_REQUEST (HVX_CMD_REQUEST_DONE), which comes
 * when the VM's owner is done. Blocks until then.
 *
 * Return: @parse's nonzero value; -EIO if receiving failed; -EBADMSG.
 */
int hvx_nl_wait(struct hvx_nl *nl, hvx_nl_parse_fn parse, void *arg);

/**
 * hvx_nl_subscribe() - join the events multicast group
 * @nl:		the socket; from now on it receives HVX_CMD_EVENT messages
 *		(sequence checks off, as multicast messages carry none)
 *
 * Return: 0; -ENOENT if the family has no HVX_GENL_MCGRP_EVENTS group;
 * -EPERM without CAP_SYS_ADMIN; -EIO for other failures.
 */
int hvx_nl_subscribe(struct hvx_nl *nl);

/**
 * hvx_nl_get_u32() - a u32 attribute's value, 0 if it is absent
 * @tb:		attributes indexed by HVX_A_*
 * @type:	HVX_A_*
 *
 * Return: the value, or 0.
 */
static inline uint32_t hvx_nl_get_u32(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u32(tb[type]) : 0;
}

/**
 * hvx_nl_get_u64() - a u64 attribute's value, 0 if it is absent
 * @tb:		attributes indexed by HVX_A_*
 * @type:	HVX_A_*
 *
 * Return: the value, or 0.
 */
static inline uint64_t hvx_nl_get_u64(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u64(tb[type]) : 0;
}

/**
 * hvx_nl_parse_vm() - decode the attributes of an HVX_CMD_GET_VM reply
 * @tb:		the reply's attributes, indexed by HVX_A_*
 * @vm:		filled in (absent attributes read as 0)
 */
void hvx_nl_parse_vm(struct nlattr **tb, struct hvx_nl_vm *vm);

#endif /* HVX_USERSPACE_NLCLIENT_H */
