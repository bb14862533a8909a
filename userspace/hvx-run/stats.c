// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - the --summary line: how long the guest ran and its VM exits
 * by reason, read from hvx's "hvx" generic netlink family (uapi/hvx.h)
 * before the VM is closed. Falls back to the exits hvx-run itself saw
 * when the family cannot be reached.
 *
 *   hvx-run: summary: 2 vCPUs, 812345678 TSC cycles, 41234 exits: EPT_VIOLATION 20001, IO_INSTRUCTION 9000, ...; exits to hvx-run: IO 12, ...
 *   hvx-run: msr exits: WRMSR_0x6e0 2300, RDMSR_0x10 40, ...
 *   hvx-run: pause yields: 120 of 130 tried; hypercalls: SEND_IPI 400, KICK_CPU 3, ...
 *
 * The run time is from the start of the vCPUs to the first stop request
 * (power-off, debug-exit port, ...), not to the end of the teardown; every
 * exit reason seen is listed, by decreasing count, then the exits that
 * reached hvx-run itself. The second line, when the guest made RDMSR or
 * WRMSR exits, lists them by MSR (the kernel's by-key tables, so a count
 * may include a few exits of an MSR that an entry served before). The
 * third, whenever the kernel's counts were read, gives the directed yields
 * of PAUSE-loop exits (succeeded of tried: hvx_stats.pause_yields and
 * pause_yield_attempts) and the VMCALLs by hypercall number, by decreasing
 * count ("none" for none; numbers without a name as HC_n, those beyond
 * the kernel's table as "other"). Under
 * Bochs with
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

#include "hvx-run.h"
#include "names.h"
#include "nlclient.h"


struct collect {
	uint32_t vm_id;		/* GET_VM: the VM owned by this process */
	uint64_t by_reason[HVX_STATS_EXIT_REASONS];
	uint64_t other;
	uint64_t total;
	int vcpus;
	/* RDMSR/WRMSR exits by MSR (key: index | HVX_STATS_MSR_WRITE) */
	struct hvx_stats_top msrs[HVX_STATS_TOP * 8];
	int nmsrs;
	uint64_t pause_yields, pause_yield_attempts;
	uint64_t hypercalls[HVX_STATS_HYPERCALLS];
	uint64_t hypercalls_other;
};

/* Add one vCPU's by-MSR table to @c's (keys beyond its room are dropped). */
static void msrs_merge(struct collect *c, const struct hvx_stats_top *t)
{
	for (int i = 0; i < HVX_STATS_TOP && t[i].count; i++) {
		int j;

		for (j = 0; j < c->nmsrs && c->msrs[j].key != t[i].key; j++)
			;
		if (j == c->nmsrs) {
			if (j == (int)(sizeof(c->msrs) / sizeof(c->msrs[0])))
				continue;
			c->msrs[c->nmsrs++] = (struct hvx_stats_top){ .key = t[i].key };
		}
		c->msrs[j].count += t[i].count;
		c->msrs[j].overcount += t[i].overcount;
	}
}

static int top_cmp(const void *a, const void *b)
{
	const struct hvx_stats_top *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* HVX_CMD_GET_VM dump: the VM this process owns. */
static int own_vm_parse(struct nlattr **tb, void *arg)
{
	struct collect *c = arg;

	if (tb[HVX_A_VM_ID] &&
	    hvx_nl_get_u32(tb, HVX_A_OWNER_PID) == (uint32_t)getpid())
		c->vm_id = nla_get_u32(tb[HVX_A_VM_ID]);
	return 0;
}

/* HVX_CMD_GET_STATS dump: add up one vCPU's exits. */
static int stats_parse(struct nlattr **tb, void *arg)
{
	struct collect *c = arg;
	struct hvx_stats *st;
	size_t len;

	if (!tb[HVX_A_STATS])
		return 0;
	/* Later ABI versions only append: copy what we know. */
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	len = (size_t)nla_len(tb[HVX_A_STATS]);
	memcpy(st, nla_data(tb[HVX_A_STATS]), len < sizeof(*st) ? len : sizeof(*st));
	for (int i = 0; i < HVX_STATS_EXIT_REASONS; i++)
		c->by_reason[i] += st->exits_by_reason[i];
	c->other += st->exits_other;
	c->total += st->exits;
	c->pause_yields += st->pause_yields;
	c->pause_yield_attempts += st->pause_yield_attempts;
	for (int i = 0; i < HVX_STATS_HYPERCALLS; i++)
		c->hypercalls[i] += st->hypercalls[i];
	c->hypercalls_other += st->hypercalls_other;
	msrs_merge(c, st->msrs);
	c->vcpus++;
	free(st);
	return 0;
}

/* Exit counts of our VM from the kernel; false if unavailable. */
static bool kernel_stats(struct collect *c)
{
	struct hvx_nl nl;
	struct nl_msg *msg;
	bool ok = false;

	if (hvx_nl_open(&nl))
		return false;
	if (hvx_nl_transact(&nl, hvx_nl_msg(&nl, HVX_CMD_GET_VM, true),
			    own_vm_parse, c) || !c->vm_id)
		goto out;
	msg = hvx_nl_msg(&nl, HVX_CMD_GET_STATS, true);
	if (msg && nla_put_u32(msg, HVX_A_VM_ID, c->vm_id) < 0) {
		nlmsg_free(msg);
		goto out;
	}
	ok = !hvx_nl_transact(&nl, msg, stats_parse, c) && c->vcpus;
out:
	hvx_nl_close(&nl);
	return ok;
}

/*
 * "pause yields: D of T tried; hypercalls: NAME n, ..., other n" (or
 * "hypercalls: none"), the numbers by decreasing count.
 */
static void print_pv_line(const struct collect *c)
{
	bool shown[HVX_STATS_HYPERCALLS] = { false };
	char line[1024], buf[16];
	int n, k;

	n = snprintf(line, sizeof(line),
		     "pause yields: %" PRIu64 " of %" PRIu64 " tried; hypercalls:",
		     c->pause_yields, c->pause_yield_attempts);
	for (k = 0; k < HVX_STATS_HYPERCALLS; k++) {
		int best = -1;

		for (int i = 0; i < HVX_STATS_HYPERCALLS; i++)
			if (!shown[i] && c->hypercalls[i] &&
			    (best < 0 || c->hypercalls[i] > c->hypercalls[best]))
				best = i;
		if (best < 0)
			break;
		shown[best] = true;
		n += snprintf(line + n, sizeof(line) - n, "%s %s %" PRIu64,
			      k ? "," : "", hvx_hc_name(best, buf, sizeof(buf)),
			      c->hypercalls[best]);
	}
	if (c->hypercalls_other)
		n += snprintf(line + n, sizeof(line) - n, "%s other %" PRIu64,
			      k++ ? "," : "", c->hypercalls_other);
	if (!k)
		snprintf(line + n, sizeof(line) - n, " none");
	fprintf(stderr, "hvx-run: %s\n", line);
}

void print_summary(struct vm *vm)
{
	static struct collect c;
	uint64_t tsc = (vm->tsc_stop ? vm->tsc_stop : __rdtsc()) - vm->tsc_start;
	bool shown[HVX_STATS_EXIT_REASONS] = { false };
	uint64_t u[HVX_STATS_USER_EXITS] = { 0 };
	char line[2048];
	bool have_kernel;
	int n, k = 0;

	n = snprintf(line, sizeof(line), "summary: %d vCPU%s, %" PRIu64 " TSC cycles",
		     vm->ncpus, vm->ncpus > 1 ? "s" : "", tsc);
	have_kernel = kernel_stats(&c);
	if (have_kernel) {
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
		if (u[i] && hvx_user_exit_name(i))
			n += snprintf(line + n, sizeof(line) - n, "%s %s %" PRIu64,
				      k++ ? "," : "", hvx_user_exit_name(i), u[i]);
	fprintf(stderr, "hvx-run: %s\n", line);
	if (c.nmsrs) {
		/* A second line: the RDMSR/WRMSR exits by MSR, by decreasing count. */
		qsort(c.msrs, c.nmsrs, sizeof(c.msrs[0]), top_cmp);
		n = snprintf(line, sizeof(line), "msr exits:");
		for (int i = 0; i < c.nmsrs && n < (int)sizeof(line); i++)
			n += snprintf(line + n, sizeof(line) - n, "%s %s_%#x %" PRIu64,
				      i ? "," : "",
				      c.msrs[i].key & HVX_STATS_MSR_WRITE ? "WRMSR" : "RDMSR",
				      (uint32_t)c.msrs[i].key, (uint64_t)c.msrs[i].count);
		fprintf(stderr, "hvx-run: %s\n", line);
	}
	if (have_kernel)
		print_pv_line(&c);
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
