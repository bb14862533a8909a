// SPDX-License-Identifier: GPL-2.0
/*
 * hvxctl - look at hvx VMs through the "hvx" generic netlink family.
 *
 *   hvxctl list [--json]                  VMs you may see (all, as root)
 *   hvxctl stats VM [--vcpu N] [--json]   exit statistics and histograms
 *   hvxctl monitor [--json] [--count N]   events as they happen
 *   hvxctl mitigations                    barriers at the VM entry/exit
 *   hvxctl save VM FILE                   ask VM's owner to save it to FILE
 *   hvxctl migrate VM tcp:HOST:PORT       ... to migrate it there
 *
 * The ABI is the generic netlink section of uapi/hvx.h. Errors are one
 * line on stderr ("hvxctl: what: why") and exit status 1; usage errors
 * exit with 2. Built static (the test initramfs has no libc).
 */
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvx.h"
#include "msg.h"
#include "names.h"
#include "nlclient.h"

#define MAX_VCPUS	HVX_MAX_VCPUS

const char *prog = "hvxctl";

static void usage(void)
{
	printf("usage: %s list [--json]\n"
	       "       %s stats VM [--vcpu N] [--json]\n"
	       "       %s monitor [--json] [--count N]\n"
	       "       %s mitigations\n"
	       "       %s save VM FILE\n"
	       "       %s migrate VM tcp:HOST:PORT\n"
	       "\n"
	       "  list     the VMs you may see: all of them with CAP_SYS_ADMIN,\n"
	       "           else those you created\n"
	       "  stats    per-vCPU exit statistics of VM (an id from 'list'):\n"
	       "           exits by reason, port, MSR and guest page, and log2\n"
	       "           histograms of exit handling and userspace round trips\n"
	       "           in TSC cycles\n"
	       "  monitor  print hvx events as they happen (needs CAP_SYS_ADMIN);\n"
	       "           --count N: exit after N events\n"
	       "  mitigations  the speculation barriers at the VM entry/exit\n"
	       "           boundary and their state (hvx.ko parameter\n"
	       "           'mitigations')\n"
	       "  save     ask VM's owner (hvx-run) to pause it, save it to FILE\n"
	       "           (relative to this directory) and stop it\n"
	       "  migrate  ask VM's owner to send it live to an hvx-run\n"
	       "           --incoming tcp:HOST:PORT and stop once it runs there\n"
	       "           (save and migrate wait for the owner's answer: exit 0\n"
	       "           and its line on stdout when done, 1 and the reason on\n"
	       "           stderr when refused or failed; the VM then runs on)\n",
	       prog, prog, prog, prog, prog, prog);
}

/* ---- Names ------------------------------------------------------------ */

static const char *exit_name(unsigned int reason, char *buf, size_t len)
{
	if (reason < HVX_STATS_EXIT_REASONS && hvx_exit_names[reason])
		return hvx_exit_names[reason];
	snprintf(buf, len, "REASON_%u", reason);
	return buf;
}


static const char *const irq_names[HVX_STATS_IRQ_SOURCES] = {
	[HVX_IRQ_SRC_PIC] = "pic", [HVX_IRQ_SRC_IOAPIC] = "ioapic",
	[HVX_IRQ_SRC_LAPIC] = "lapic", [HVX_IRQ_SRC_MSI] = "msi",
	[HVX_IRQ_SRC_PASSTHROUGH] = "passthrough", [HVX_IRQ_SRC_NMI] = "nmi",
	[HVX_IRQ_SRC_USER] = "userspace",
};

static const char *const event_names[] = {
	[HVX_EVENT_VM_CREATED] = "vm_created",
	[HVX_EVENT_VM_DESTROYED] = "vm_destroyed",
	[HVX_EVENT_VCPU_SHUTDOWN] = "vcpu_shutdown",
	[HVX_EVENT_ENTRY_FAILURE] = "entry_failure",
	[HVX_EVENT_INTERNAL_ERROR] = "internal_error",
	[HVX_EVENT_DEVICE_ASSIGNED] = "device_assigned",
	[HVX_EVENT_DEVICE_RELEASED] = "device_released",
	[HVX_EVENT_IOMMU_FAULT] = "iommu_fault",
};

/* ---- Netlink ---------------------------------------------------------- */

/* Opens the socket, or exits with one line saying why. */
static void session_open(struct hvx_nl *nl)
{
	int ret = hvx_nl_open(nl);

	if (ret == -ENOENT)
		die("the \"%s\" generic netlink family is not registered (is hvx.ko loaded?)",
		    HVX_GENL_NAME);
	if (ret)
		die("cannot open a generic netlink socket: %s", strerror(-ret));
}

static struct nl_msg *request_new(struct hvx_nl *nl, uint8_t cmd, bool dump)
{
	struct nl_msg *msg = hvx_nl_msg(nl, cmd, dump);

	if (!msg)
		die("out of memory");
	return msg;
}

/* ---- JSON output helpers ---------------------------------------------- */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* ---- list ------------------------------------------------------------- */

struct vm_list {
	struct hvx_nl_vm *vms;
	size_t n, cap;
};

static int list_parse(struct nlattr **tb, void *arg)
{
	struct vm_list *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->vms = realloc(l->vms, l->cap * sizeof(*l->vms));
		if (!l->vms)
			die("out of memory");
	}
	hvx_nl_parse_vm(tb, &l->vms[l->n++]);
	return 0;
}

static int one_vm_parse(struct nlattr **tb, void *arg)
{
	hvx_nl_parse_vm(tb, arg);
	return 0;
}

static void vm_json(const struct hvx_nl_vm *vm)
{
	printf("{\"vm\": %u, \"pid\": %u, \"uid\": %u, \"comm\": ", vm->id,
	       vm->pid, vm->uid);
	json_str(vm->comm);
	printf(", \"vcpus\": %u, \"memory_bytes\": %" PRIu64
	       ", \"pinned_bytes\": %" PRIu64 ", \"ept_flushes\": %" PRIu64
	       ", \"devices\": %u", vm->nr_vcpus, vm->mem_bytes, vm->pinned_bytes,
	       vm->ept_flushes, vm->nr_devices);
	if (vm->nr_virtio) {
		printf(", \"virtio\": [");
		for (uint32_t i = 0; i < vm->nr_virtio; i++) {
			const struct hvx_virtio_stats *v = &vm->virtio[i];

			printf("%s{\"type\": %u, \"slot\": %u, \"function\": %u"
			       ", \"requests\": %llu, \"bytes\": %llu"
			       ", \"notifications\": %llu, \"interrupts\": %llu"
			       ", \"errors\": %llu}", i ? ", " : "", v->type,
			       v->devfn >> 3, v->devfn & 7, v->requests, v->bytes,
			       v->notifications, v->interrupts, v->errors);
		}
		printf("]");
	}
	printf("}");
}

static void mib(char *buf, size_t len, unsigned long long bytes)
{
	snprintf(buf, len, "%.1fM", bytes / 1048576.0);
}

static int cmd_list(int argc, char **argv)
{
	struct vm_list l = { 0 };
	struct hvx_nl s;
	bool json = false;
	int ret;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			usage_error("list: unexpected argument '%s'", argv[i]);
	}
	session_open(&s);
	ret = hvx_nl_transact(&s, request_new(&s, HVX_CMD_GET_VM, true),
			      list_parse, &l);
	if (ret)
		die("list: %s", strerror(-ret));
	hvx_nl_close(&s);

	if (json) {
		printf("[");
		for (size_t i = 0; i < l.n; i++) {
			printf(i ? ",\n " : "");
			vm_json(&l.vms[i]);
		}
		printf("]\n");
	} else {
		printf("%5s %8s %6s %5s %9s %9s %7s  %s\n", "VM", "PID", "UID",
		       "VCPUS", "MEMORY", "PINNED", "DEVICES", "COMMAND");
		for (size_t i = 0; i < l.n; i++) {
			const struct hvx_nl_vm *vm = &l.vms[i];
			char m[32], p[32];

			mib(m, sizeof(m), vm->mem_bytes);
			mib(p, sizeof(p), vm->pinned_bytes);
			printf("%5u %8u %6u %5u %9s %9s %7u  %s\n", vm->id,
			       vm->pid, vm->uid, vm->nr_vcpus, m, p,
			       vm->nr_devices, vm->comm);
		}
	}
	free(l.vms);
	return 0;
}

/* ---- stats ------------------------------------------------------------ */

struct vcpu_stats {
	uint32_t id;
	struct hvx_stats st;
};

struct stats_set {
	struct vcpu_stats v[MAX_VCPUS];
	int n;
};

static int stats_parse(struct nlattr **tb, void *arg)
{
	struct stats_set *set = arg;
	struct vcpu_stats *vs;
	size_t len;

	if (!tb[HVX_A_STATS] || !tb[HVX_A_VCPU_ID] || set->n == MAX_VCPUS)
		return -EBADMSG;
	vs = &set->v[set->n++];
	memset(vs, 0, sizeof(*vs));
	vs->id = nla_get_u32(tb[HVX_A_VCPU_ID]);
	/* Older kernels send a shorter struct, newer ones a longer one. */
	len = nla_len(tb[HVX_A_STATS]);
	memcpy(&vs->st, nla_data(tb[HVX_A_STATS]),
	       len < sizeof(vs->st) ? len : sizeof(vs->st));
	return 0;
}

static void top_merge(struct hvx_stats_top *dst, size_t *n,
		      const struct hvx_stats_top *src)
{
	for (int i = 0; i < HVX_STATS_TOP && src[i].count; i++) {
		size_t j;

		for (j = 0; j < *n && dst[j].key != src[i].key; j++)
			;
		if (j == *n) {
			dst[j].key = src[i].key;
			(*n)++;
		}
		dst[j].count += src[i].count;
		dst[j].overcount += src[i].overcount;
	}
}

static int top_cmp(const void *a, const void *b)
{
	const struct hvx_stats_top *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* All vCPUs together; by-key tables merged (up to 16 keys per vCPU). */
struct total {
	struct hvx_stats st;	/* counters and histograms summed */
	struct hvx_stats_top ports[HVX_STATS_TOP * MAX_VCPUS];
	struct hvx_stats_top msrs[HVX_STATS_TOP * MAX_VCPUS];
	struct hvx_stats_top pages[HVX_STATS_TOP * MAX_VCPUS];
	size_t nports, nmsrs, npages;
};

static void total_of(const struct stats_set *set, struct total *t)
{
	size_t words = offsetof(struct hvx_stats, io_ports) / sizeof(unsigned long long);

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < set->n; i++) {
		const unsigned long long *src = (const unsigned long long *)&set->v[i].st;
		unsigned long long *dst = (unsigned long long *)&t->st;

		for (size_t w = 0; w < words; w++)
			dst[w] += src[w];
		top_merge(t->ports, &t->nports, set->v[i].st.io_ports);
		top_merge(t->msrs, &t->nmsrs, set->v[i].st.msrs);
		top_merge(t->pages, &t->npages, set->v[i].st.gpa_pages);
	}
	qsort(t->ports, t->nports, sizeof(t->ports[0]), top_cmp);
	qsort(t->msrs, t->nmsrs, sizeof(t->msrs[0]), top_cmp);
	qsort(t->pages, t->npages, sizeof(t->pages[0]), top_cmp);
}

static size_t top_len(const struct hvx_stats_top *t)
{
	size_t n = 0;

	while (n < HVX_STATS_TOP && t[n].count)
		n++;
	return n;
}

enum top_kind { TOP_PORT, TOP_MSR, TOP_PAGE };

static void top_json(const char *name, enum top_kind kind,
		     const struct hvx_stats_top *t, size_t n)
{
	printf(",\n    \"%s\": [", name);
	for (size_t i = 0; i < n; i++) {
		printf(i ? ", " : "");
		switch (kind) {
		case TOP_PORT:
			printf("{\"port\": %llu, \"dir\": \"%s\"",
			       t[i].key & 0xffff,
			       t[i].key & HVX_STATS_IO_IN ? "in" : "out");
			break;
		case TOP_MSR:
			printf("{\"msr\": %llu, \"op\": \"%s\"",
			       t[i].key & 0xffffffff,
			       t[i].key & HVX_STATS_MSR_WRITE ? "wrmsr" : "rdmsr");
			break;
		case TOP_PAGE:
			printf("{\"gpa\": %llu", t[i].key);
			break;
		}
		printf(", \"count\": %llu, \"overcount\": %llu}",
		       t[i].count, t[i].overcount);
	}
	printf("]");
}

static void hist_json(const char *name, const unsigned long long *h)
{
	printf(",\n    \"%s\": [", name);
	for (int i = 0; i < HVX_STATS_HIST_BUCKETS; i++)
		printf("%s%llu", i ? ", " : "", h[i]);
	printf("]");
}

/* The counters of struct hvx_stats as one JSON object's members. */
static void stats_json(const struct hvx_stats *st,
		       const struct hvx_stats_top *ports, size_t nports,
		       const struct hvx_stats_top *msrs, size_t nmsrs,
		       const struct hvx_stats_top *pages, size_t npages)
{
	char buf[32];
	bool first;

	printf("\"exits\": %llu,\n    \"exits_by_reason\": {", st->exits);
	first = true;
	for (int i = 0; i < HVX_STATS_EXIT_REASONS; i++) {
		if (!st->exits_by_reason[i])
			continue;
		printf("%s\"%s\": %llu", first ? "" : ", ",
		       exit_name(i, buf, sizeof(buf)), st->exits_by_reason[i]);
		first = false;
	}
	printf("},\n    \"exits_other\": %llu, \"entry_failures\": %llu"
	       ",\n    \"user_exits\": {", st->exits_other, st->entry_failures);
	first = true;
	for (int i = 0; i < HVX_STATS_USER_EXITS; i++) {
		if (!st->user_exits[i])
			continue;
		if (hvx_user_exit_name(i))
			printf("%s\"%s\": %llu", first ? "" : ", ",
			       hvx_user_exit_name(i), st->user_exits[i]);
		else
			printf("%s\"EXIT_%d\": %llu", first ? "" : ", ", i,
			       st->user_exits[i]);
		first = false;
	}
	printf("},\n    \"halts\": %llu, \"wakeups\": %llu"
	       ", \"exceptions_injected\": %llu,\n    \"irqs_injected\": {",
	       st->halts, st->wakeups, st->exceptions_injected);
	for (int i = 0; i < HVX_STATS_IRQ_SOURCES; i++) {
		if (irq_names[i])
			printf("%s\"%s\": %llu", i ? ", " : "", irq_names[i],
			       st->irqs_injected[i]);
	}
	printf("},\n    \"passthrough_irqs\": %llu, \"ept_violations\": %llu"
	       ", \"ept_mmio\": %llu, \"flushes\": %llu",
	       st->passthrough_irqs, st->ept_violations, st->ept_mmio,
	       st->flushes);
	printf(",\n    \"barriers\": {\"rsb_fills\": %llu, \"verw\": %llu"
	       ", \"l1d_flushes_hw\": %llu, \"l1d_flushes_sw\": %llu"
	       ", \"ibpb_switch\": %llu, \"ibpb_exit_to_user\": %llu"
	       ", \"bhi_clears\": %llu}"
	       ", \"nx_huge_splits\": %llu, \"machine_checks\": %llu"
	       ", \"mmio_unknown_insns\": %llu, \"wbinvd_flushes\": %llu"
	       ", \"fastpath_exits\": %llu, \"pause_yields\": %llu"
	       ", \"pause_yield_attempts\": %llu"
	       ", \"pause_yield_user_skips\": %llu"
	       ", \"ept_maps_around\": %llu",
	       st->rsb_fills, st->verw, st->l1d_flushes_hw, st->l1d_flushes_sw,
	       st->ibpb_switch, st->ibpb_exit_to_user, st->bhi_clears,
	       st->nx_huge_splits, st->machine_checks, st->mmio_unknown_insns,
	       st->wbinvd_flushes, st->fastpath_exits, st->pause_yields,
	       st->pause_yield_attempts, st->pause_yield_user_skips,
	       st->ept_maps_around);
	printf(",\n    \"hypercalls\": {");
	first = true;
	for (int i = 0; i < HVX_STATS_HYPERCALLS; i++) {
		if (!st->hypercalls[i])
			continue;
		printf("%s\"%s\": %llu", first ? "" : ", ",
		       hvx_hc_name(i, buf, sizeof(buf)), st->hypercalls[i]);
		first = false;
	}
	printf("}, \"hypercalls_other\": %llu", st->hypercalls_other);
	top_json("io_ports", TOP_PORT, ports, nports);
	top_json("msrs", TOP_MSR, msrs, nmsrs);
	top_json("gpa_pages", TOP_PAGE, pages, npages);
	hist_json("hist_handler_log2", st->hist_handler);
	hist_json("hist_user_log2", st->hist_user);
}

static void stats_print_json(const struct hvx_nl_vm *vm,
			     const struct stats_set *set, const struct total *t)
{
	printf("{\"vm\": %u, \"info\": ", vm->id);
	vm_json(vm);
	printf(",\n  \"vcpus\": [");
	for (int i = 0; i < set->n; i++) {
		const struct hvx_stats *st = &set->v[i].st;

		printf("%s{\"vcpu\": %u,\n    ", i ? ",\n   " : "", set->v[i].id);
		stats_json(st, st->io_ports, top_len(st->io_ports), st->msrs,
			   top_len(st->msrs), st->gpa_pages, top_len(st->gpa_pages));
		printf("}");
	}
	printf("],\n  \"total\": {\n    ");
	stats_json(&t->st, t->ports, t->nports, t->msrs, t->nmsrs, t->pages,
		   t->npages);
	printf("}}\n");
}

/* Text output: one column for the total, one per vCPU (up to 8). */
#define COLS_MAX	8

static void row(const char *label, const struct stats_set *set, unsigned long long total,
		size_t off)
{
	printf("%-26s %14llu", label, total);
	if (set->n > 1 && set->n <= COLS_MAX)
		for (int i = 0; i < set->n; i++)
			printf(" %12llu",
			       *(const unsigned long long *)((const char *)&set->v[i].st + off));
	printf("\n");
}

#define ROW(label, field) \
	row(label, set, t->st.field, offsetof(struct hvx_stats, field))

static void top_print(const char *title, enum top_kind kind,
		      const struct hvx_stats_top *t, size_t n)
{
	if (!n)
		return;
	printf("\n%-26s %14s %12s\n", title, "count", "overcount");
	for (size_t i = 0; i < n; i++) {
		char key[40];

		switch (kind) {
		case TOP_PORT:
			snprintf(key, sizeof(key), "  port 0x%04llx %s",
				 t[i].key & 0xffff,
				 t[i].key & HVX_STATS_IO_IN ? "in" : "out");
			break;
		case TOP_MSR:
			snprintf(key, sizeof(key), "  msr 0x%08llx %s",
				 t[i].key & 0xffffffff,
				 t[i].key & HVX_STATS_MSR_WRITE ? "wr" : "rd");
			break;
		case TOP_PAGE:
			snprintf(key, sizeof(key), "  gpa 0x%llx", t[i].key);
			break;
		}
		printf("%-26s %14llu %12llu\n", key, t[i].count,
		       t[i].overcount);
	}
}

static void hist_print(const char *title, const unsigned long long *h)
{
	unsigned long long max = 0, sum = 0;
	int lo = -1, hi = -1;

	for (int i = 0; i < HVX_STATS_HIST_BUCKETS; i++) {
		sum += h[i];
		if (h[i] > max)
			max = h[i];
		if (h[i] && lo < 0)
			lo = i;
		if (h[i])
			hi = i;
	}
	printf("\n%s: %llu samples\n", title, sum);
	if (!sum)
		return;
	for (int i = lo; i <= hi; i++) {
		int bar = (int)((h[i] * 40 + max - 1) / max);
		unsigned long long from = i ? 1ULL << i : 0;

		printf("  %20llu .. %-20llu %12llu %.*s\n", from,
		       i < 63 ? (1ULL << (i + 1)) - 1 : ULLONG_MAX, h[i], bar,
		       "########################################");
	}
}

/* The in-kernel virtio devices' counters, one line each. */
static void virtio_print(const struct hvx_nl_vm *vm)
{
	if (!vm->nr_virtio)
		return;
	printf("\n%-12s %12s %14s %14s %12s %10s\n", "virtio device",
	       "requests", "bytes", "notifications", "interrupts", "errors");
	for (uint32_t i = 0; i < vm->nr_virtio; i++) {
		const struct hvx_virtio_stats *v = &vm->virtio[i];
		char name[32];

		snprintf(name, sizeof(name), "%s 00:%02x.%x",
			 v->type == HVX_VIRTIO_BLK ? "blk" :
			 v->type == HVX_VIRTIO_NET ? "net" : "?", v->devfn >> 3,
			 v->devfn & 7);
		printf("%-12s %12llu %14llu %14llu %12llu %10llu\n", name,
		       v->requests, v->bytes, v->notifications, v->interrupts,
		       v->errors);
	}
}

static void stats_print_text(const struct hvx_nl_vm *vm,
			     const struct stats_set *set, const struct total *t)
{
	char buf[32], label[64];

	printf("VM %u: pid %u (%s), uid %u, %u vCPU(s), %" PRIu64 " bytes of memory\n\n",
	       vm->id, vm->pid, vm->comm, vm->uid, vm->nr_vcpus, vm->mem_bytes);
	printf("%-26s %14s", "", "total");
	if (set->n > 1 && set->n <= COLS_MAX)
		for (int i = 0; i < set->n; i++) {
			snprintf(label, sizeof(label), "vcpu%u", set->v[i].id);
			printf(" %12s", label);
		}
	printf("\n");
	ROW("exits", exits);
	for (int r = 0; r < HVX_STATS_EXIT_REASONS; r++) {
		if (!t->st.exits_by_reason[r])
			continue;
		snprintf(label, sizeof(label), "  %s", exit_name(r, buf, sizeof(buf)));
		row(label, set, t->st.exits_by_reason[r],
		    offsetof(struct hvx_stats, exits_by_reason) + r * sizeof(unsigned long long));
	}
	if (t->st.exits_other)
		ROW("  other reasons", exits_other);
	ROW("entry failures", entry_failures);
	printf("HVX_RUN returns by exit\n");
	for (int r = 0; r < HVX_STATS_USER_EXITS; r++) {
		if (!t->st.user_exits[r])
			continue;
		if (hvx_user_exit_name(r))
			snprintf(label, sizeof(label), "  %s", hvx_user_exit_name(r));
		else
			snprintf(label, sizeof(label), "  EXIT_%d", r);
		row(label, set, t->st.user_exits[r],
		    offsetof(struct hvx_stats, user_exits) + r * sizeof(unsigned long long));
	}
	ROW("halts", halts);
	ROW("wakeups", wakeups);
	ROW("exceptions injected", exceptions_injected);
	printf("interrupts injected\n");
	for (int i = 0; i < HVX_STATS_IRQ_SOURCES; i++) {
		if (!irq_names[i])
			continue;
		snprintf(label, sizeof(label), "  %s", irq_names[i]);
		row(label, set, t->st.irqs_injected[i],
		    offsetof(struct hvx_stats, irqs_injected) + i * sizeof(unsigned long long));
	}
	ROW("EPT violations", ept_violations);
	ROW("  of which MMIO", ept_mmio);
	ROW("pages mapped around a fault", ept_maps_around);
	ROW("EPT flushes", flushes);
	ROW("huge leaves split for execution", nx_huge_splits);
	printf("speculation barriers\n");
	ROW("  RSB fills after exit", rsb_fills);
	ROW("  VERW before entry", verw);
	ROW("  L1D flushes (FLUSH_CMD)", l1d_flushes_hw);
	ROW("  L1D flushes (software)", l1d_flushes_sw);
	ROW("  IBPB on vCPU switch", ibpb_switch);
	ROW("  IBPB before user (VMSCAPE)", ibpb_exit_to_user);
	ROW("  branch-history clears", bhi_clears);
	ROW("machine checks to host", machine_checks);
	ROW("MMIO instructions not emulated (#UD)", mmio_unknown_insns);
	ROW("WBINVD carried out (non-coherent DMA)", wbinvd_flushes);
	ROW("exits handled on the fast path", fastpath_exits);
	ROW("PAUSE exits yielded to a sibling", pause_yields);
	ROW("  directed yields tried", pause_yield_attempts);
	ROW("  preempted in user mode, passed over", pause_yield_user_skips);
	printf("hypercalls\n");
	for (int i = 0; i < HVX_STATS_HYPERCALLS; i++) {
		if (!t->st.hypercalls[i])
			continue;
		snprintf(label, sizeof(label), "  %s", hvx_hc_name(i, buf, sizeof(buf)));
		row(label, set, t->st.hypercalls[i],
		    offsetof(struct hvx_stats, hypercalls) + i * sizeof(unsigned long long));
	}
	ROW("  other numbers", hypercalls_other);

	virtio_print(vm);
	top_print("I/O ports", TOP_PORT, t->ports, t->nports);
	top_print("MSRs", TOP_MSR, t->msrs, t->nmsrs);
	top_print("guest pages (EPT)", TOP_PAGE, t->pages, t->npages);
	hist_print("exit handling time, TSC cycles", t->st.hist_handler);
	hist_print("userspace round trip, TSC cycles", t->st.hist_user);
}

static uint32_t parse_id(const char *what, const char *s, uint32_t max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (!*s || *end || errno || v > max || *s == '-')
		usage_error("%s: '%s' is not a valid id", what, s);
	return v;
}

static int cmd_stats(int argc, char **argv)
{
	static struct stats_set set;
	static struct total total;
	struct hvx_nl s;
	struct hvx_nl_vm vm;
	struct nl_msg *msg;
	bool json = false, have_vm = false;
	long long vcpu = -1;
	uint32_t vm_id = 0;
	int ret;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--vcpu")) {
			if (++i == argc)
				usage_error("stats: --vcpu needs a vCPU id");
			vcpu = parse_id("vcpu", argv[i], HVX_MAX_VCPUS - 1);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			usage_error("stats: unknown option '%s'", argv[i]);
		} else if (!have_vm) {
			vm_id = parse_id("VM", argv[i], UINT32_MAX);
			have_vm = true;
		} else {
			usage_error("stats: unexpected argument '%s'", argv[i]);
		}
	}
	if (!have_vm)
		usage_error("stats: which VM? (an id from 'hvxctl list')");
	if (!vm_id)
		die("VM 0: no such VM (ids start at 1)");

	session_open(&s);
	msg = request_new(&s, HVX_CMD_GET_VM, false);
	nla_put_u32(msg, HVX_A_VM_ID, vm_id);
	ret = hvx_nl_transact(&s, msg, one_vm_parse, &vm);
	if (ret == -ENOENT)
		die("VM %u: no such VM, or not yours", vm_id);
	if (ret)
		die("VM %u: %s", vm_id, strerror(-ret));

	msg = request_new(&s, HVX_CMD_GET_STATS, true);
	nla_put_u32(msg, HVX_A_VM_ID, vm_id);
	if (vcpu >= 0)
		nla_put_u32(msg, HVX_A_VCPU_ID, vcpu);
	ret = hvx_nl_transact(&s, msg, stats_parse, &set);
	if (ret == -ENOENT && vcpu >= 0)
		die("VM %u: no vCPU %lld (or the VM is gone)", vm_id, vcpu);
	if (ret == -ENOENT)
		die("VM %u: no such VM, or not yours", vm_id);
	if (ret)
		die("VM %u: statistics: %s", vm_id, strerror(-ret));
	hvx_nl_close(&s);

	total_of(&set, &total);
	if (json)
		stats_print_json(&vm, &set, &total);
	else
		stats_print_text(&vm, &set, &total);
	return 0;
}

/* ---- monitor ---------------------------------------------------------- */

struct monitor {
	bool json;
	long count;	/* events left to print; < 0: no limit */
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gnlh = nlmsg_data(nlh);
	struct nlattr *tb[HVX_A_MAX + 1];
	struct monitor *m = arg;
	const char *name;
	uint32_t ev;
	char buf[32];
	/* The attributes an event may carry, printed when present. */
	static const struct {
		int type;
		const char *key;
		bool u64, hex;
	} extra[] = {
		{ HVX_A_VCPU_ID, "vcpu", false, false },
		{ HVX_A_SUBERROR, "suberror", false, false },
		{ HVX_A_EXIT_REASON, "exit_reason", false, true },
		{ HVX_A_EXIT_QUAL, "qualification", true, true },
		{ HVX_A_ENTRY_CHECK, "check", false, false },
		{ HVX_A_INSN_ERROR, "insn_error", false, false },
		{ HVX_A_DEVICE, "device", false, true },
		{ HVX_A_FAULT_ADDR, "fault_addr", true, true },
		{ HVX_A_FAULT_REASON, "fault_reason", false, false },
	};
	static const char *const reasons[] = {
		[HVX_RELEASE_UNASSIGN] = "unassign",
		[HVX_RELEASE_VM_DESTROYED] = "vm_destroyed",
		[HVX_RELEASE_OWNER_EXITED] = "owner_exited",
		[HVX_RELEASE_MODULE_UNLOAD] = "module_unload",
	};

	if (gnlh->cmd != HVX_CMD_EVENT ||
	    genlmsg_parse(nlh, 0, tb, HVX_A_MAX, NULL) < 0 || !tb[HVX_A_EVENT])
		return NL_SKIP;
	ev = nla_get_u32(tb[HVX_A_EVENT]);
	name = ev < sizeof(event_names) / sizeof(event_names[0]) && event_names[ev] ?
	       event_names[ev] : (snprintf(buf, sizeof(buf), "event_%u", ev), buf);
	if (m->json)
		printf("{\"event\": \"%s\", \"vm\": %u, \"pid\": %u, \"uid\": %u",
		       name, hvx_nl_get_u32(tb, HVX_A_VM_ID),
		       hvx_nl_get_u32(tb, HVX_A_OWNER_PID),
		       hvx_nl_get_u32(tb, HVX_A_OWNER_UID));
	else
		printf("%-15s vm=%u pid=%u uid=%u", name,
		       hvx_nl_get_u32(tb, HVX_A_VM_ID),
		       hvx_nl_get_u32(tb, HVX_A_OWNER_PID),
		       hvx_nl_get_u32(tb, HVX_A_OWNER_UID));
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		unsigned long long v;

		if (!tb[extra[i].type])
			continue;
		v = extra[i].u64 ? nla_get_u64(tb[extra[i].type]) :
				   nla_get_u32(tb[extra[i].type]);
		if (m->json)
			printf(", \"%s\": %llu", extra[i].key, v);
		else if (extra[i].hex)
			printf(" %s=0x%llx", extra[i].key, v);
		else
			printf(" %s=%llu", extra[i].key, v);
	}
	if (tb[HVX_A_DEVICE]) {
		uint32_t d = nla_get_u32(tb[HVX_A_DEVICE]);

		printf(m->json ? ", \"bdf\": \"%04x:%02x:%02x.%u\"" :
				 " bdf=%04x:%02x:%02x.%u",
		       d >> 16, (d >> 8) & 0xff, (d >> 3) & 0x1f, d & 7);
	}
	if (tb[HVX_A_RELEASE_REASON]) {
		uint32_t r = nla_get_u32(tb[HVX_A_RELEASE_REASON]);
		const char *rn = r < sizeof(reasons) / sizeof(reasons[0]) &&
				 reasons[r] ? reasons[r] : NULL;

		if (rn)
			printf(m->json ? ", \"reason\": \"%s\"" : " reason=%s", rn);
		else
			printf(m->json ? ", \"reason\": %u" : " reason=%u", r);
	}
	printf(m->json ? "}\n" : "\n");
	fflush(stdout);
	if (m->count > 0 && --m->count == 0)
		exit(0);
	return NL_OK;
}

static int cmd_monitor(int argc, char **argv)
{
	struct monitor m = { .count = -1 };
	struct hvx_nl s;
	int ret;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			m.json = true;
		} else if (!strcmp(argv[i], "--count")) {
			char *end;

			if (++i == argc)
				usage_error("monitor: --count needs a number");
			m.count = strtol(argv[i], &end, 10);
			if (!*argv[i] || *end || m.count <= 0)
				usage_error("monitor: --count: '%s' is not a positive number",
					    argv[i]);
		} else {
			usage_error("monitor: unexpected argument '%s'", argv[i]);
		}
	}
	session_open(&s);
	ret = hvx_nl_subscribe(&s);
	if (ret == -ENOENT)
		die("monitor: the \"%s\" family has no \"%s\" group",
		    HVX_GENL_NAME, HVX_GENL_MCGRP_EVENTS);
	if (ret == -EPERM)
		die("monitor: joining the \"%s\" group needs CAP_SYS_ADMIN",
		    HVX_GENL_MCGRP_EVENTS);
	if (ret)
		die("monitor: joining the \"%s\" group: %s",
		    HVX_GENL_MCGRP_EVENTS, strerror(-ret));
	nl_socket_modify_cb(s.sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, &m);
	/* Tells scripts (and the tests) that events from now on are seen. */
	fprintf(stderr, "%s: listening for hvx events\n", prog);
	for (;;) {
		ret = nl_recvmsgs_default(s.sk);
		if (ret == -NLE_NOMEM)	/* ENOBUFS: the socket overflowed */
			fprintf(stderr, "%s: monitor: events were lost\n", prog);
		else if (ret < 0)
			die("monitor: receiving: %s", nl_geterror(ret));
	}
}

#define MITIGATIONS_FILE "/sys/module/hvx/parameters/mitigations"

/* Copy the module's read-only listing to stdout. */
static int cmd_mitigations(int argc, char **argv)
{
	char buf[4096];
	size_t n;
	FILE *f;

	if (argc)
		usage_error("mitigations: unexpected argument '%s'", argv[0]);
	f = fopen(MITIGATIONS_FILE, "r");
	if (!f)
		die("mitigations: %s: %s%s", MITIGATIONS_FILE, strerror(errno),
		    errno == ENOENT ? " (is hvx.ko loaded?)" : "");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	if (ferror(f))
		die("mitigations: reading %s: %s", MITIGATIONS_FILE, strerror(errno));
	fclose(f);
	return 0;
}

/* ---- save, migrate ---------------------------------------------------- */

/* The owner's answer (HVX_CMD_REQUEST_DONE). */
struct answer {
	uint32_t vm;
	bool done;
	uint32_t error;
	char msg[HVX_REQUEST_MSG_MAX];
};

static int answer_parse(struct nlattr **tb, void *arg)
{
	struct answer *a = arg;

	if (!tb[HVX_A_REQUEST_ERROR] || hvx_nl_get_u32(tb, HVX_A_VM_ID) != a->vm)
		return 0;	/* not the answer */
	a->done = true;
	a->error = hvx_nl_get_u32(tb, HVX_A_REQUEST_ERROR);
	if (tb[HVX_A_REQUEST_MSG])
		snprintf(a->msg, sizeof(a->msg), "%.*s",
			 nla_len(tb[HVX_A_REQUEST_MSG]),
			 (char *)nla_data(tb[HVX_A_REQUEST_MSG]));
	return 1;
}

/*
 * HVX_CMD_REQUEST, then wait for the owner's answer: its line on stdout
 * and 0 when done, on stderr and 1 when refused (by hvx or the owner).
 */
static int cmd_request(const char *name, uint32_t action, int argc,
		       char **argv)
{
	char arg[HVX_REQUEST_ARG_MAX], cwd[PATH_MAX];
	struct answer a = { 0 };
	struct nl_msg *msg;
	struct hvx_nl s;
	int ret, n;

	if (argc != 2)
		usage_error("%s: expected VM %s", name,
			    action == HVX_REQUEST_SAVE ? "FILE" : "tcp:HOST:PORT");
	a.vm = parse_id("VM", argv[0], UINT32_MAX);
	if (!a.vm)
		die("VM 0: no such VM (ids start at 1)");
	/* The owner opens FILE in its own directory: make it absolute. */
	if (action == HVX_REQUEST_SAVE && argv[1][0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			die("save: the current directory: %s", strerror(errno));
		n = snprintf(arg, sizeof(arg), "%s/%s", strcmp(cwd, "/") ? cwd : "",
			     argv[1]);
	} else {
		n = snprintf(arg, sizeof(arg), "%s", argv[1]);
	}
	if (n < 0 || n >= (int)sizeof(arg))
		die("%s: '%s' is longer than %d bytes", name, argv[1],
		    HVX_REQUEST_ARG_MAX - 1);

	session_open(&s);
	msg = request_new(&s, HVX_CMD_REQUEST, false);
	nla_put_u32(msg, HVX_A_VM_ID, a.vm);
	nla_put_u32(msg, HVX_A_REQUEST_ACTION, action);
	nla_put_string(msg, HVX_A_REQUEST_ARG, arg);
	ret = hvx_nl_transact(&s, msg, answer_parse, &a);
	if (ret == -ENOENT)
		die("VM %u: no such VM, or not yours", a.vm);
	if (ret < 0)
		die("VM %u: %s: %s", a.vm, name, s.extack[0] ? s.extack : strerror(-ret));
	/* The answer may come with the ACK, or much later (a migration). */
	if (!a.done) {
		ret = hvx_nl_wait(&s, answer_parse, &a);
		if (ret < 0)
			die("VM %u: %s: waiting for the answer: %s", a.vm, name,
			    strerror(-ret));
	}
	hvx_nl_close(&s);
	if (a.error)
		die("VM %u: %s", a.vm, a.msg[0] ? a.msg : strerror(a.error));
	printf("VM %u: %s\n", a.vm, a.msg);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage_error("no command given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage();
		return 0;
	}
	if (!strcmp(argv[1], "list"))
		return cmd_list(argc - 2, argv + 2);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc - 2, argv + 2);
	if (!strcmp(argv[1], "monitor"))
		return cmd_monitor(argc - 2, argv + 2);
	if (!strcmp(argv[1], "mitigations"))
		return cmd_mitigations(argc - 2, argv + 2);
	if (!strcmp(argv[1], "save"))
		return cmd_request("save", HVX_REQUEST_SAVE, argc - 2, argv + 2);
	if (!strcmp(argv[1], "migrate"))
		return cmd_request("migrate", HVX_REQUEST_MIGRATE, argc - 2,
				   argv + 2);
	usage_error("unknown command '%s'", argv[1]);
}
