/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx_nl.h - host-side helpers for tests of the "hvx" generic netlink
 * family (uapi/hvx.h), on libnl-genl-3 and the tools' client
 * (userspace/nlclient.h: socket, requests, VM attributes). Link with
 * lib/nl.o, nlclient.o and `pkg-config --static --libs libnl-genl-3.0`.
 *
 * Functions return 0 (or a count) on success and -errno on failure; the
 * errno is the kernel's own (from NLMSG_ERROR), not libnl's translation,
 * so tests can assert exactly what the policy answered.
 */
#ifndef HVX_SELFTEST_NL_H
#define HVX_SELFTEST_NL_H

#include <stdbool.h>
#include <stdint.h>

#include "nlclient.h"

/* Statistics of one vCPU as HVX_CMD_GET_STATS reports them. */
struct hvx_nl_stats {
	uint32_t vm_id, vcpu_id;
	struct hvx_stats st;
};

/* An event; a field is meaningful if has[HVX_A_...] is set. */
struct hvx_nl_event {
	uint8_t cmd;		/* genl command: HVX_CMD_EVENT */
	bool has[HVX_A_MAX + 1];
	uint32_t event, vm_id, pid, uid, vcpu_id;
	uint32_t suberror, exit_reason, check, insn_error;
	uint32_t device, release_reason;
	uint64_t qual;
};

/* Send raw bytes after the genl header (malformed attributes). */
int hvx_nl_send_raw(struct hvx_nl *nl, uint8_t cmd, bool dump,
		    const void *attrs, size_t len, uint8_t reserved);

/* HVX_CMD_GET_VM dump: up to @max VMs; the count, or -errno. */
int hvx_nl_list_vms(struct hvx_nl *nl, struct hvx_nl_vm *vms, int max);
/* HVX_CMD_GET_VM do: 0 or -errno (-ENOENT: no such VM, or not visible). */
int hvx_nl_get_vm(struct hvx_nl *nl, uint32_t id, struct hvx_nl_vm *vm);
/* The id of the VM this process created (the last listed), 0 if none. */
uint32_t hvx_nl_own_vm_id(struct hvx_nl *nl);
/* vCPU 0's statistics of this process's VM, on a socket of its own: 0 or -errno. */
int hvx_nl_own_stats(struct hvx_stats *st);
/* HVX_CMD_GET_STATS dump of one VM (all vCPUs if @vcpu < 0): count or -errno. */
int hvx_nl_get_stats(struct hvx_nl *nl, uint32_t vm_id, int vcpu,
		     struct hvx_nl_stats *out, int max);

/* The next event within @timeout_ms: 0, or -ETIMEDOUT, or -errno. */
int hvx_nl_next_event(struct hvx_nl *nl, struct hvx_nl_event *ev,
		      int timeout_ms);

#endif /* HVX_SELFTEST_NL_H */
