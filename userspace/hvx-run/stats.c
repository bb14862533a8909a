// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - the --summary line: how long the guest ran and its VM exits
 * by reason, read from hvx's "hvx" generic netlink family (uapi/hvx.h)
 * before the VM is closed. Falls back to the exits hvx-run itself saw
 * when the family cannot be reached.
 *
 *   hvx-run: summary: 2 vCPUs, 812345678 TSC cycles, 41234 exits: EPT_VIOLATION 20001, IO_INSTRUCTION 9000, ...; exits to hvx-run: IO 12, ...
 *
 * The run time is from the start of the vCPUs to the first stop request
 * (power-off, debug-exit port, ...), not to the end of the teardown; every
 * exit reason seen is listed, by decreasing count, then the exits that
 * reached hvx-run itself. Under Bochs with
 * "clock: sync=none" the TSC counts emulated instructions, so the figure
 * is the run time in instructions (make bench parses this line).
 *
 * After a stop by a signal, print_vcpu_states() adds a line per vCPU.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <x86intrin.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "hvx-run.h"
#include "names.h"


struct collect {
	uint32_t vm_id;		/* GET_VM: the VM owned by this process */
	uint64_t by_reason[HVX_STATS_EXIT_REASONS];
	uint64_t other;
	uint64_t total;
	int vcpus;
	int error;
	bool done;
};

static int parse_reply(struct nl_msg *msg, void *arg)
{
	struct collect *c = arg;
	struct nlattr *tb[HVX_A_MAX + 1];
	struct genlmsghdr *g = genlmsg_hdr(nlmsg_hdr(msg));
	struct hvx_stats *st;
	size_t len;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, HVX_A_MAX, NULL) < 0)
		return NL_OK;
	if (g->cmd == HVX_CMD_GET_VM) {
		if (tb[HVX_A_VM_ID] && tb[HVX_A_OWNER_PID] &&
		    nla_get_u32(tb[HVX_A_OWNER_PID]) == (uint32_t)getpid())
			c->vm_id = nla_get_u32(tb[HVX_A_VM_ID]);
		return NL_OK;
	}
	if (g->cmd != HVX_CMD_GET_STATS || !tb[HVX_A_STATS])
		return NL_OK;
	/* Later ABI versions only append: copy what we know. */
	st = calloc(1, sizeof(*st));
	if (!st)
		return NL_STOP;
	len = (size_t)nla_len(tb[HVX_A_STATS]);
	memcpy(st, nla_data(tb[HVX_A_STATS]), len < sizeof(*st) ? len : sizeof(*st));
	for (int i = 0; i < HVX_STATS_EXIT_REASONS; i++)
		c->by_reason[i] += st->exits_by_reason[i];
	c->other += st->exits_other;
	c->total += st->exits;
	c->vcpus++;
	free(st);
	return NL_OK;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	(void)msg;
	((struct collect *)arg)->done = true;
	return NL_STOP;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct collect *c = arg;

	(void)nla;
	c->error = err->error;
	c->done = true;
	return NL_STOP;
}

static int dump(struct nl_sock *sk, int family, uint8_t cmd, uint32_t vm_id,
		struct collect *c)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nl_cb *cb;
	int ret;

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
				 NLM_F_DUMP, cmd, HVX_GENL_VERSION))
		return -ENOMEM;
	if (vm_id)
		nla_put_u32(msg, HVX_A_VM_ID, vm_id);
	ret = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return -EIO;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, parse_reply, c);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, c);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_finish, c);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, c);
	c->done = false;
	c->error = 0;
	while (!c->done)
		if (nl_recvmsgs(sk, cb) < 0 && !c->done) {
			c->error = -EIO;
			break;
		}
	nl_cb_put(cb);
	return c->error;
}

/* Exit counts of our VM from the kernel; false if unavailable. */
static bool kernel_stats(struct collect *c)
{
	struct nl_sock *sk = nl_socket_alloc();
	int family;
	bool ok = false;

	if (!sk)
		return false;
	if (genl_connect(sk) < 0)
		goto out;
	nl_socket_set_msg_buf_size(sk, 65536);
	nl_socket_enable_msg_peek(sk);
	family = genl_ctrl_resolve(sk, HVX_GENL_NAME);
	if (family < 0)
		goto out;
	if (dump(sk, family, HVX_CMD_GET_VM, 0, c) || !c->vm_id)
		goto out;
	ok = !dump(sk, family, HVX_CMD_GET_STATS, c->vm_id, c) && c->vcpus;
out:
	nl_socket_free(sk);
	return ok;
}

void print_summary(struct vm *vm)
{
	static struct collect c;
	uint64_t tsc = (vm->tsc_stop ? vm->tsc_stop : __rdtsc()) - vm->tsc_start;
	bool shown[HVX_STATS_EXIT_REASONS] = { false };
	uint64_t u[HVX_STATS_USER_EXITS] = { 0 };
	char line[2048];
	int n, k = 0;

	n = snprintf(line, sizeof(line), "summary: %d vCPU%s, %" PRIu64 " TSC cycles",
		     vm->ncpus, vm->ncpus > 1 ? "s" : "", tsc);
	if (kernel_stats(&c)) {
		n += snprintf(line + n, sizeof(line) - n, ", %" PRIu64 " exits:",
			      c.total);
		/* Every reason seen, by decreasing count. */
		for (k = 0; k < HVX_STATS_EXIT_REASONS; k++) {
			int best = -1;

			for (int i = 0; i < HVX_STATS_EXIT_REASONS; i++)
				if (!shown[i] && c.by_reason[i] &&
				    (best < 0 || c.by_reason[i] > c.by_reason[best]))
					best = i;
			if (best < 0)
				break;
			shown[best] = true;
			if (hvx_exit_names[best])
				n += snprintf(line + n, sizeof(line) - n, "%s %s %" PRIu64,
					      k ? "," : "", hvx_exit_names[best],
					      c.by_reason[best]);
			else
				n += snprintf(line + n, sizeof(line) - n, "%s reason_%d %" PRIu64,
					      k ? "," : "", best, c.by_reason[best]);
			if (n >= (int)sizeof(line))
				break;
		}
		k = 0;
		if (n < (int)sizeof(line))
			n += snprintf(line + n, sizeof(line) - n, ";");
	}
	/* The exits that came back to hvx-run (HVX_RUN returned). */
	for (int v = 0; v < vm->ncpus; v++)
		for (int i = 0; i < HVX_STATS_USER_EXITS; i++)
			u[i] += vm->vcpus[v].user_exits[i];
	if (n < (int)sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, "%s exits to hvx-run:",
			      line[n - 1] == ';' ? "" : ",");
	for (int i = 0; i < HVX_STATS_USER_EXITS && n < (int)sizeof(line); i++)
		if (u[i] && hvx_user_exit_names[i])
			n += snprintf(line + n, sizeof(line) - n, "%s %s %" PRIu64,
				      k++ ? "," : "", hvx_user_exit_names[i], u[i]);
	fprintf(stderr, "hvx-run: %s\n", line);
}

static uint32_t apic_reg(const struct hvx_lapic_state *r, unsigned int reg)
{
	uint32_t v;

	memcpy(&v, r->regs + reg, 4);
	return v;
}

/* Highest set bit of a 256-bit APIC register (IRR, ISR) in @r, or -1. */
static int apic_highest(const struct hvx_lapic_state *r, unsigned int reg)
{
	for (int w = 7; w >= 0; w--) {
		uint32_t v = apic_reg(r, reg + 16 * w);

		if (v)
			return w * 32 + 31 - __builtin_clz(v);
	}
	return -1;
}

/*
 * A line per vCPU for a guest that had to be stopped: where it was, its
 * multiprocessor state and, with in-kernel LAPICs, the priorities and the
 * highest vectors in service and requested (SDM Vol. 3A 11.8.3-11.8.4), so
 * that a hung guest shows which vCPU waits for which interrupt.
 */
void print_vcpu_states(struct vm *vm)
{
	static const char *const mp[] = { "runnable", "wait-sipi", "halted" };

	for (int i = 0; i < vm->ncpus; i++) {
		struct hvx_lapic_state l;
		struct hvx_mp_state m;
		struct hvx_regs r;
		int fd = vm->vcpus[i].fd;
		char where[96];

		if (ioctl(fd, HVX_GET_REGS, &r) || ioctl(fd, HVX_GET_MP_STATE, &m))
			continue;
		snprintf(where, sizeof(where), "vcpu %d: rip %#llx if %d %s", i,
			 (unsigned long long)r.rip, !!(r.rflags & 0x200), /* IF */
			 m.state < 3 ? mp[m.state] : "?");
		if (!vm->platform || ioctl(fd, HVX_GET_LAPIC, &l)) {
			info("%s", where);
			continue;
		}
		info("%s; lapic tpr %#x ppr %#x isr %d irr %d svr %#x lvtt %#x",
		     where, apic_reg(&l, 0x80), apic_reg(&l, 0xa0),
		     apic_highest(&l, 0x100), apic_highest(&l, 0x200),
		     apic_reg(&l, 0xf0), apic_reg(&l, 0x320));
	}
}
