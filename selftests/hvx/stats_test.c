// SPDX-License-Identifier: GPL-2.0
/*
 * stats_test - observability: the "hvx" generic netlink family (VM list,
 * per-vCPU statistics, events), its policies and visibility rules, the
 * hvxctl tool ($HVX_HVXCTL) and the hvx tracepoints.
 *
 * Tests that only talk netlink run without VMX too (QEMU); the others skip
 * there. Netlink is read through the lib's libnl client (hvx_nl.h), and
 * hvxctl is run as a program and its output checked.
 */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include <netlink/genl/family.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"

/* guest_counted() executes exactly this many CPUIDs, then OUTs. */
#define STATS_CPUIDS	1000
#define STATS_OUTS	500
#define STATS_PORT	0x80	/* an OUT port nothing else in the guest uses */

/* An MSR no CPU has: RDMSR raises #GP. */
#define STATS_BAD_MSR	0x12345678

/* guest_fast(kind): STATS_FAST_LOOPS exits of one kind the fast path takes. */
#define STATS_FAST_LOOPS	1000
#define STATS_FAST_CPUID	0
/* guest_mmio_pages(): rounds of one hot and one fresh MMIO page. */
#define STATS_MMIO_PAGES	64
#define STATS_FAST_VMCALL	1
#define STATS_FAST_PIC		2	/* IN from the in-kernel PIC's IMR */
#define STATS_FAST_RTC		3	/* OUT index, IN register A, in turn */
#define STATS_RTC_REG_A		0x26	/* its reset value, UIP aside */

/* Guest code. */

/*
 * Exactly STATS_CPUIDS CPUID exits, then STATS_OUTS one-byte OUTs to
 * STATS_PORT (each an exit to the host), then GUEST_DONE (one more OUT,
 * to UCALL_PORT). Nothing else here exits except EPT violations on first
 * touch and host interrupts.
 */
GUEST_CODE
void guest_counted(uint64_t unused)
{
	uint32_t a, b, c, d;

	(void)unused;
	for (int i = 0; i < STATS_CPUIDS; i++)
		cpuid(0, 0, &a, &b, &c, &d);
	for (int i = 0; i < STATS_OUTS; i++)
		asm volatile("outb %%al, %[port]"
			     : : "a"(i), [port] "i"(STATS_PORT));
	GUEST_DONE();
}

/* RDMSR and WRMSR of the TSC, RDMSR of STATS_BAD_MSR (#GP), then HLT. */
GUEST_CODE
void guest_msr_hlt(uint64_t unused)
{
	uint64_t v = 0;

	(void)unused;
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_IA32_TSC, &v));
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_IA32_TSC, v));
	GUEST_ASSERT_EQ(X86_VEC_GP, guest_rdmsr_safe(STATS_BAD_MSR, &v));
	asm volatile("hlt");
	GUEST_DONE();
}

GUEST_CODE
void guest_cpuid_once(uint64_t unused)
{
	uint32_t a, b, c, d;

	(void)unused;
	cpuid(0, 0, &a, &b, &c, &d);
	GUEST_DONE();
}

/*
 * @n rounds of a read of GPA_MMIO (the hot page) and a write to the next
 * of @n other MMIO pages (each seen once): 2 * @n EPT violations to
 * userspace, more keys than gpa_pages holds, one of them half of them.
 */
GUEST_CODE
void guest_mmio_pages(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		(void)*(volatile uint32_t *)GPA_MMIO;
		*(volatile uint32_t *)(GPA_MMIO + (i + 1) * 4096) = 0;
	}
	GUEST_DONE();
}

/* STATS_FAST_LOOPS exits of @kind, then GUEST_DONE. */
GUEST_CODE
void guest_fast(uint64_t kind)
{
	uint32_t a, b, c, d;
	uint8_t imr;

	for (int i = 0; i < STATS_FAST_LOOPS; i++) {
		switch (kind) {
		case STATS_FAST_CPUID:
			cpuid(0, 0, &a, &b, &c, &d);
			break;
		case STATS_FAST_VMCALL:	/* an unknown hypercall */
			a = 0x7fff0000;
			asm volatile("vmcall" : "+a"(a) : : "memory");
			GUEST_ASSERT_EQ((uint32_t)-HVX_HC_ENOSYS, a);
			break;
		case STATS_FAST_RTC:
			if (!(i & 1)) {
				asm volatile("outb %0, $0x70" : : "a"((uint8_t)0x0a));
				break;
			}
			asm volatile("inb $0x71, %0" : "=a"(imr));
			GUEST_ASSERT_EQ(STATS_RTC_REG_A, imr & 0x7f);
			break;
		default:
			asm volatile("inb $0x21, %0" : "=a"(imr));
			GUEST_ASSERT_EQ(0, imr);	/* nothing masked yet */
			break;
		}
	}
	GUEST_DONE();
}

/* CPUID until the host stops running the vCPU. */
GUEST_CODE
void guest_cpuid_forever(uint64_t unused)
{
	uint32_t a, b, c, d;

	(void)unused;
	for (;;)
		cpuid(0, 0, &a, &b, &c, &d);
}

/* With an IDT limit of 0 (set by the host) this triple-faults. */
GUEST_CODE
void guest_ud2(uint64_t unused)
{
	(void)unused;
	asm volatile("ud2");
	GUEST_DONE();
}

/*
 * Code fetched from MMIO: hvx cannot read the instruction, so an internal
 * error. (An instruction it does not emulate on MMIO raises #UD now.)
 */
GUEST_CODE
void guest_mmio_exec(uint64_t unused)
{
	(void)unused;
	asm volatile("jmp *%0" : : "r"((uint64_t)GPA_MMIO) : "memory");
	GUEST_DONE();
}

/* CR8 round trip: write @value, report what reads back, then report what
 * the host set meanwhile (SDM Vol. 3A 10.8.6.1: CR8 is TPR[7:4]). */
GUEST_CODE
void guest_cr8(uint64_t value)
{
	uint64_t v;

	asm volatile("mov %0, %%cr8" : : "r"(value));
	asm volatile("mov %%cr8, %0" : "=r"(v));
	GUEST_SYNC(v);
	asm volatile("mov %%cr8, %0" : "=r"(v));
	GUEST_SYNC(v);
	GUEST_DONE();
}

/*
 * The first write of a SYSCALL MSR exits; from then on they and
 * KERNEL_GS_BASE are the guest's own: no more exits, and SWAPGS swaps in
 * the KERNEL_GS_BASE the guest wrote.
 */
GUEST_CODE
void guest_syscall_msrs(uint64_t unused)
{
	uint64_t lstar = 0, kgs = 0, gs = 0;

	(void)unused;
	guest_wrmsr_safe(0xc0000082, 0xffffffff81234000ull);	/* LSTAR */
	guest_wrmsr_safe(0xc0000081, 0x0023001000000000ull);	/* STAR */
	guest_wrmsr_safe(0xc0000084, 0x47700);			/* SFMASK */
	guest_wrmsr_safe(0xc0000102, 0x5678000);		/* KERNEL_GS_BASE */
	guest_rdmsr_safe(0xc0000082, &lstar);
	guest_rdmsr_safe(0xc0000102, &kgs);
	asm volatile("swapgs");
	guest_rdmsr_safe(0xc0000101, &gs);			/* GS_BASE */
	asm volatile("swapgs");
	GUEST_SYNC_ARGS(lstar, kgs, gs, 0);
	GUEST_DONE();
}

/* @n PAUSEs in a row; then the TSC cycles they took. */
GUEST_CODE
static void guest_pause_loop(uint64_t n)
{
	uint64_t t0 = guest_rdtsc();

	for (uint64_t i = 0; i < n; i++)
		asm volatile("pause");
	GUEST_SYNC(guest_rdtsc() - t0);
	GUEST_DONE();
}

/* Host code. */

/* Basic exit reasons (SDM Vol. 3D Appendix C). */
#define EXIT_REASON_CPUID		10
#define EXIT_REASON_IO_INSTRUCTION	30
#define EXIT_REASON_MSR_READ		31
#define EXIT_REASON_MSR_WRITE		32
#define EXIT_REASON_INVALID_STATE	33
#define EXIT_REASON_EPT_VIOLATION	48

#define NOBODY			65534
#define EVENT_TIMEOUT_MS	10000
#define TOOL_TIMEOUT_MS		60000
#define TRACEFS			"/sys/kernel/tracing"

/* Skip without hvx.ko; fail if it is loaded but the family is missing. */
#define REQUIRE_NL(nl) do {						\
	int __r;							\
									\
	REQUIRE_HVX();							\
	__r = hvx_nl_open(nl);						\
	ASSERT_EQ(0, __r) TH_LOG("resolving family \"%s\": %s",		\
				 HVX_GENL_NAME, strerrorname_np(-__r));	\
} while (0)

/* hvxctl's path from $HVX_HVXCTL (set by the make check initramfs). */
#define REQUIRE_HVXCTL(path) do {					\
	path = getenv("HVX_HVXCTL");					\
	if (!path || !*path)						\
		SKIP(return, "HVX_HVXCTL is not set (make check sets it; "	\
		     "else point it at build/userspace/hvxctl)");	\
	ASSERT_EQ(0, access(path, X_OK))				\
		TH_LOG("HVX_HVXCTL=%s: %s", path, strerror(errno));	\
} while (0)

static uint64_t sum(const __u64 *v, int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

static uint64_t top_sum(const struct hvx_stats_top *t)
{
	uint64_t s = 0;

	for (int i = 0; i < HVX_STATS_TOP; i++)
		s += t[i].count;
	return s;
}

static const struct hvx_stats_top *top_find(const struct hvx_stats_top *t,
					     uint64_t key)
{
	for (int i = 0; i < HVX_STATS_TOP && t[i].count; i++)
		if (t[i].key == key)
			return &t[i];
	return NULL;
}

/* The id of the one VM this process owns, or 0 (logged) if not exactly one. */
static uint32_t own_vm_id(struct __test_metadata *_metadata, struct hvx_nl *nl)
{
	struct hvx_nl_vm vms[64];
	uint32_t id = 0;
	int n, mine = 0;

	n = hvx_nl_list_vms(nl, vms, 64);
	if (n < 0 || n > 64) {
		TH_LOG("listing VMs: %s", n < 0 ? strerrorname_np(-n) : "too many");
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (vms[i].pid == (uint32_t)getpid()) {
			id = vms[i].id;
			mine++;
		}
	}
	if (mine != 1) {
		TH_LOG("%d VMs owned by pid %d in a list of %d", mine, getpid(), n);
		return 0;
	}
	return id;
}

/* The statistics of our only VM, which has one vCPU. */
static void own_vm_stats(struct __test_metadata *_metadata, struct hvx_nl *nl,
			 struct hvx_nl_stats *s)
{
	uint32_t id = own_vm_id(_metadata, nl);

	ASSERT_LT(0, id);
	ASSERT_EQ(1, hvx_nl_get_stats(nl, id, -1, s, 1));
}

/* ---- The family, and requests its policies reject ------------------- */

TEST(family_registered)
{
	struct genl_family *fam;
	struct nl_cache *cache;
	struct hvx_nl nl;

	REQUIRE_NL(&nl);
	ASSERT_LT(0, nl.family);
	ASSERT_LE(0, genl_ctrl_resolve_grp(nl.sk, HVX_GENL_NAME,
					   HVX_GENL_MCGRP_EVENTS));
	ASSERT_EQ(0, genl_ctrl_alloc_cache(nl.sk, &cache));
	fam = genl_ctrl_search_by_name(cache, HVX_GENL_NAME);
	ASSERT_NE(NULL, fam);
	ASSERT_EQ(HVX_GENL_VERSION, genl_family_get_version(fam));
	genl_family_put(fam);
	nl_cache_free(cache);
	hvx_nl_close(&nl);
}

struct attr {
	uint16_t type;
	const void *data;
	uint16_t len;
};

/* Attributes as raw bytes, exactly as given (no policy in the way). */
static size_t put_attrs(uint8_t *buf, const struct attr *a, int n)
{
	size_t off = 0;

	for (int i = 0; i < n; i++) {
		struct nlattr nla = {
			.nla_len = NLA_HDRLEN + a[i].len,
			.nla_type = a[i].type,
		};

		memset(buf + off, 0, NLA_ALIGN(nla.nla_len));
		memcpy(buf + off, &nla, sizeof(nla));
		memcpy(buf + off + NLA_HDRLEN, a[i].data, a[i].len);
		off += NLA_ALIGN(nla.nla_len);
	}
	return off;
}

/*
 * Each request is malformed in one way and must fail with one errno,
 * decided by the family's policies (EINVAL for a wrong type, length or
 * unexpected attribute, ERANGE for a value out of range) or by the
 * genetlink core (EOPNOTSUPP), or by hvx (ENOENT: no such VM).
 */
TEST(policy_rejects_malformed)
{
	static const uint32_t one = 1, zero = 0, nvcpus = HVX_MAX_VCPUS;
	static const uint32_t unknown = 0x7fffffff;
	static const uint64_t u64 = 1;
	static const uint16_t u16 = 1;
	static const uint8_t u8;
	static const uint32_t save = HVX_REQUEST_SAVE;
	static const uint32_t migrate = HVX_REQUEST_MIGRATE;
	static const uint32_t action_max = __HVX_REQUEST_MAX;
	static const char path[] = "/var/vm.snap", rel[] = "vm.snap";
	static const char udp[] = "udp:127.0.0.1:1", tcp[] = "tcp:";
	static const char nonul[4] = { '/', 'a', 'b', 'c' };
	static const struct {
		const char *what;
		uint8_t cmd;
		bool dump;
		uint8_t reserved;
		int n;
		struct attr a[3];
		int err;
	} cases[] = {
		{ "GET_VM without VM_ID", HVX_CMD_GET_VM, false, 0, 0, {}, EINVAL },
		{ "VM_ID as a u16", HVX_CMD_GET_VM, false, 0, 1,
		  { { HVX_A_VM_ID, &u16, 2 } }, EINVAL },
		{ "VM_ID as a u64", HVX_CMD_GET_VM, false, 0, 1,
		  { { HVX_A_VM_ID, &u64, 8 } }, EINVAL },
		{ "VM_ID flagged NLA_F_NESTED", HVX_CMD_GET_VM, false, 0, 1,
		  { { HVX_A_VM_ID | NLA_F_NESTED, &one, 4 } }, EINVAL },
		{ "VM_ID 0 (ids start at 1)", HVX_CMD_GET_VM, false, 0, 1,
		  { { HVX_A_VM_ID, &zero, 4 } }, ERANGE },
		{ "attribute type 200", HVX_CMD_GET_VM, false, 0, 2,
		  { { HVX_A_VM_ID, &one, 4 }, { 200, &one, 4 } }, EINVAL },
		{ "HVX_A_PAD in a request", HVX_CMD_GET_VM, false, 0, 2,
		  { { HVX_A_VM_ID, &one, 4 }, { HVX_A_PAD, &one, 4 } }, EINVAL },
		{ "VCPU_ID in GET_VM", HVX_CMD_GET_VM, false, 0, 2,
		  { { HVX_A_VM_ID, &one, 4 }, { HVX_A_VCPU_ID, &zero, 4 } }, EINVAL },
		{ "GET_VM dump with a u16 VM_ID", HVX_CMD_GET_VM, true, 0, 1,
		  { { HVX_A_VM_ID, &u16, 2 } }, EINVAL },
		{ "GET_VM with the reserved header byte set", HVX_CMD_GET_VM,
		  false, 1, 1, { { HVX_A_VM_ID, &one, 4 } }, EINVAL },
		{ "GET_STATS without VM_ID", HVX_CMD_GET_STATS, true, 0, 0, {},
		  EINVAL },
		{ "GET_STATS with VCPU_ID 64", HVX_CMD_GET_STATS, true, 0, 2,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_VCPU_ID, &nvcpus, 4 } },
		  ERANGE },
		{ "GET_STATS with VCPU_ID as a u8", HVX_CMD_GET_STATS, true, 0, 2,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_VCPU_ID, &u8, 1 } },
		  EINVAL },
		{ "GET_STATS without NLM_F_DUMP", HVX_CMD_GET_STATS, false, 0, 1,
		  { { HVX_A_VM_ID, &one, 4 } }, EOPNOTSUPP },
		{ "EVENT sent as a request", HVX_CMD_EVENT, false, 0, 0, {},
		  EOPNOTSUPP },
		{ "command 99", 99, false, 0, 0, {}, EOPNOTSUPP },
		{ "GET_VM of a VM that does not exist", HVX_CMD_GET_VM, false, 0, 1,
		  { { HVX_A_VM_ID, &unknown, 4 } }, ENOENT },
		{ "GET_STATS of a VM that does not exist", HVX_CMD_GET_STATS, true,
		  0, 1, { { HVX_A_VM_ID, &unknown, 4 } }, ENOENT },
		{ "REQUEST without REQUEST_ARG", HVX_CMD_REQUEST, false, 0, 2,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_REQUEST_ACTION, &save, 4 } },
		  EINVAL },
		{ "REQUEST without REQUEST_ACTION", HVX_CMD_REQUEST, false, 0, 2,
		  { { HVX_A_VM_ID, &unknown, 4 },
		    { HVX_A_REQUEST_ARG, path, sizeof(path) } }, EINVAL },
		{ "REQUEST without VM_ID", HVX_CMD_REQUEST, false, 0, 2,
		  { { HVX_A_REQUEST_ACTION, &save, 4 },
		    { HVX_A_REQUEST_ARG, path, sizeof(path) } }, EINVAL },
		{ "REQUEST with action 0", HVX_CMD_REQUEST, false, 0, 3,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_REQUEST_ACTION, &zero, 4 },
		    { HVX_A_REQUEST_ARG, path, sizeof(path) } }, ERANGE },
		{ "REQUEST with an unknown action", HVX_CMD_REQUEST, false, 0, 3,
		  { { HVX_A_VM_ID, &unknown, 4 },
		    { HVX_A_REQUEST_ACTION, &action_max, 4 },
		    { HVX_A_REQUEST_ARG, path, sizeof(path) } }, ERANGE },
		{ "REQUEST_ARG without its NUL", HVX_CMD_REQUEST, false, 0, 3,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_REQUEST_ACTION, &save, 4 },
		    { HVX_A_REQUEST_ARG, nonul, sizeof(nonul) } }, EINVAL },
		{ "REQUEST_ARG as a u32", HVX_CMD_REQUEST, false, 0, 3,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_REQUEST_ACTION, &save, 4 },
		    { HVX_A_REQUEST_ARG, &one, 4 } }, EINVAL },
		{ "save to a relative path", HVX_CMD_REQUEST, false, 0, 3,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_REQUEST_ACTION, &save, 4 },
		    { HVX_A_REQUEST_ARG, rel, sizeof(rel) } }, EINVAL },
		{ "migrate to udp:", HVX_CMD_REQUEST, false, 0, 3,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_REQUEST_ACTION, &migrate, 4 },
		    { HVX_A_REQUEST_ARG, udp, sizeof(udp) } }, EINVAL },
		{ "migrate to tcp: alone", HVX_CMD_REQUEST, false, 0, 3,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_REQUEST_ACTION, &migrate, 4 },
		    { HVX_A_REQUEST_ARG, tcp, sizeof(tcp) } }, EINVAL },
		{ "REQUEST with VCPU_ID", HVX_CMD_REQUEST, false, 0, 3,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_REQUEST_ACTION, &save, 4 },
		    { HVX_A_VCPU_ID, &zero, 4 } }, EINVAL },
		{ "REQUEST as a dump", HVX_CMD_REQUEST, true, 0, 3,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_REQUEST_ACTION, &save, 4 },
		    { HVX_A_REQUEST_ARG, path, sizeof(path) } }, EOPNOTSUPP },
		{ "REQUEST_DONE sent as a request", HVX_CMD_REQUEST_DONE, false, 0,
		  0, {}, EOPNOTSUPP },
		{ "REQUEST to a VM that does not exist", HVX_CMD_REQUEST, false, 0, 3,
		  { { HVX_A_VM_ID, &unknown, 4 }, { HVX_A_REQUEST_ACTION, &save, 4 },
		    { HVX_A_REQUEST_ARG, path, sizeof(path) } }, ENOENT },
	};
	uint8_t buf[128];
	struct hvx_nl nl;
	int failed = 0;

	REQUIRE_NL(&nl);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = put_attrs(buf, cases[i].a, cases[i].n);
		int ret = hvx_nl_send_raw(&nl, cases[i].cmd, cases[i].dump, buf,
					  len, cases[i].reserved);

		if (ret != -cases[i].err) {
			TH_LOG("%s: %s, expected %s", cases[i].what,
			       ret ? strerrorname_np(-ret) : "accepted",
			       strerrorname_np(cases[i].err));
			failed++;
		}
	}
	/* An attribute whose length runs past the end of the message. */
	{
		struct nlattr nla = { .nla_len = NLA_HDRLEN + 8,
				      .nla_type = HVX_A_VM_ID };
		int ret;

		memcpy(buf, &nla, sizeof(nla));
		memcpy(buf + NLA_HDRLEN, &one, 4);
		ret = hvx_nl_send_raw(&nl, HVX_CMD_GET_VM, false, buf,
				      NLA_HDRLEN + 4, 0);
		if (ret != -EINVAL) {
			TH_LOG("truncated attribute: %s, expected EINVAL",
			       ret ? strerrorname_np(-ret) : "accepted");
			failed++;
		}
	}
	/* The socket still works after all that. */
	ASSERT_LE(0, hvx_nl_list_vms(&nl, NULL, 0));
	ASSERT_EQ(0, failed);
	hvx_nl_close(&nl);
}

/* ---- Listing VMs ----------------------------------------------------- */

TEST(list_and_get_own_vm)
{
	struct hvx_nl_vm vms[64], one;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;
	uint32_t id;
	int n, found = 0;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	vcpu = vm_create_long(&vm, guest_sync_done, 0);
	id = own_vm_id(_metadata, &nl);
	ASSERT_LT(0, id);

	n = hvx_nl_list_vms(&nl, vms, 64);
	ASSERT_LT(0, n);
	for (int i = 0; i < n && i < 64; i++) {
		if (vms[i].id != id)
			continue;
		found++;
		one = vms[i];
	}
	ASSERT_EQ(1, found);
	ASSERT_EQ((uint32_t)getpid(), one.pid);
	ASSERT_EQ(geteuid(), one.uid);
	ASSERT_STREQ("stats_test", one.comm);
	ASSERT_EQ(1, one.nr_vcpus);
	ASSERT_EQ(0, one.nr_devices);
	/* Two slots: [0, 640 KiB) and [1 MiB, ram_size). */
	ASSERT_EQ(GPA_LOW_RAM_END + vm->ram_size - GPA_HOLE_END, one.mem_bytes);
	ASSERT_GE(one.mem_bytes, one.pinned_bytes);

	/* Running the guest pins pages on first touch. */
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	memset(&one, 0, sizeof(one));
	ASSERT_EQ(0, hvx_nl_get_vm(&nl, id, &one));
	ASSERT_EQ(id, one.id);
	ASSERT_EQ((uint32_t)getpid(), one.pid);
	ASSERT_LT(0, one.pinned_bytes);
	ASSERT_EQ(0, one.pinned_bytes % 4096);

	/* Gone with its last fd. */
	vcpu_free(vcpu);
	vm_free(vm);
	ASSERT_EQ(-ENOENT, hvx_nl_get_vm(&nl, id, &one));
	n = hvx_nl_list_vms(&nl, vms, 64);
	ASSERT_LE(0, n);
	for (int i = 0; i < n && i < 64; i++)
		ASSERT_NE(id, vms[i].id);
	hvx_nl_close(&nl);
}

/* ---- The exit fast path ---------------------------------------------- */

#define EXIT_REASON_VMCALL		18
#define PARAM_FASTPATH			"/sys/module/hvx/parameters/fastpath"

/* Skip unless hvx handles exits on its fast path (module parameter). */
#define REQUIRE_FASTPATH() do {						\
	char __v[8] = "";						\
									\
	if (read_str(PARAM_FASTPATH, __v, sizeof(__v)) < 0)		\
		SKIP(return, "no %s: hvx without a fast path",		\
		     PARAM_FASTPATH);					\
	if (__v[0] != 'Y')						\
		SKIP(return, "fastpath=%s", __v);			\
} while (0)

/* A VM with the in-kernel PIC, PIT and RTC and one 64-bit vCPU at fn(arg). */
static struct vcpu *pic_vcpu(struct vm **vm, void (*fn)(uint64_t),
			     uint64_t arg)
{
	struct hvx_platform_config c = {
		.devices = HVX_PLATFORM_PIC | HVX_PLATFORM_PIT |
			   HVX_PLATFORM_RTC,
	};
	struct vcpu *vcpu;

	*vm = vm_create();
	LIB_ASSERT(!ioctl((*vm)->fd, HVX_CREATE_PLATFORM, &c),
		   "HVX_CREATE_PLATFORM: %m");
	vcpu = vcpu_create(*vm, 0);
	vcpu_setup_long(vcpu, fn, arg);
	return vcpu;
}

/*
 * CPUID, VMCALL (an unknown hypercall) and port I/O to the in-kernel PIC
 * and RTC are handled on the fast path: a loop of each in the guest
 * raises fastpath_exits by the loop count, and those exits are also
 * counted as exits of their reason.
 */
TEST(fastpath_counts)
{
	static const struct {
		uint64_t kind;
		int reason;
		const char *what;
	} loops[] = {
		{ STATS_FAST_CPUID, EXIT_REASON_CPUID, "CPUID" },
		{ STATS_FAST_VMCALL, EXIT_REASON_VMCALL, "VMCALL" },
		{ STATS_FAST_PIC, EXIT_REASON_IO_INSTRUCTION, "IN 0x21" },
		{ STATS_FAST_RTC, EXIT_REASON_IO_INSTRUCTION, "RTC 0x70/0x71" },
	};
	struct hvx_stats st;
	struct hvx_nl nl;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	hvx_nl_close(&nl);
	REQUIRE_FASTPATH();
	for (unsigned int i = 0; i < ARRAY_SIZE(loops); i++) {
		struct vcpu *vcpu;
		struct vm *vm;

		vcpu = pic_vcpu(&vm, guest_fast, loops[i].kind);
		vcpu_run_done(vcpu);
		/* The newest VM: the one before may still be listed. */
		ASSERT_EQ(0, hvx_nl_own_stats(&st));
		/* Only the loop is fast: not EPT faults, not the DONE OUT. */
		ASSERT_EQ(STATS_FAST_LOOPS, st.fastpath_exits)
			TH_LOG("%s", loops[i].what);
		ASSERT_LE(STATS_FAST_LOOPS, st.exits_by_reason[loops[i].reason])
			TH_LOG("%s", loops[i].what);
		ASSERT_EQ(st.exits, sum(st.exits_by_reason,
					HVX_STATS_EXIT_REASONS) +
				    st.exits_other);
		vm_free(vm);
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A guest that does nothing but CPUID stays on the fast path, which must
 * still leave for a signal: HVX_RUN returns EINTR soon after SIGALRM.
 * "Soon" is a host tick or so: also where the host's interrupts do not
 * force exits (Bochs with the guest's IF clear), the fast path gives them
 * a chance every tick. A slack of many ticks keeps the bound about that,
 * not about how fast the host runs.
 */
#define SIGNAL_SLACK_MS	250

TEST(fastpath_leaves_for_signal)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct timespec t0, t1;
	struct hvx_nl_stats s;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;
	long ms;
	int ret;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	REQUIRE_FASTPATH();
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));	/* no SA_RESTART */
	vcpu = pic_vcpu(&vm, guest_cpuid_forever, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	alarm(1);
	ret = __vcpu_run(vcpu);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(EINTR, errno);
	ASSERT_EQ(HVX_EXIT_INTR, vcpu->run->exit_reason);
	/* One second to the alarm; the rest is the way out. */
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ASSERT_GT(1000 + SIGNAL_SLACK_MS, ms)
		TH_LOG("HVX_RUN took %ld ms to see the signal", ms);
	ASSERT_EQ(0, hvx_nl_own_stats(&s.st));
	ASSERT_LT(0, s.st.fastpath_exits);
	vm_free(vm);
	signal(SIGALRM, SIG_DFL);
	hvx_nl_close(&nl);
}

/* ---- Exact counts ---------------------------------------------------- */

#define TIMING_PARAM	"/sys/module/hvx/parameters/stats_timing"

/* Turn the exit and round-trip timing (hist_handler, hist_user) on or off. */
static int set_timing(bool on)
{
	FILE *f = fopen(TIMING_PARAM, "w");

	if (!f)
		return -1;
	fputs(on ? "Y" : "N", f);
	return fclose(f);
}

/* Run guest_counted(): one exit to us per OUT, then DONE. */
static void run_counted(struct __test_metadata *_metadata, struct vcpu *vcpu)
{
	for (int i = 0; i < STATS_OUTS; i++) {
		vcpu_run(vcpu);
		ASSERT_EXIT(HVX_EXIT_IO, vcpu);
		ASSERT_EQ(STATS_PORT, vcpu->run->io.port);
		ASSERT_EQ(HVX_EXIT_IO_OUT, vcpu->run->io.direction);
	}
	vcpu_run_done(vcpu);
}

/*
 * 1000 CPUIDs and 500 OUTs in the guest show up as exactly that many
 * exits; everything that is derived from the same exits adds up. With
 * stats_timing on, every exit and round trip is timed; with it off, none.
 */
static void exact_counts(struct __test_metadata *_metadata, bool timing)
{
	struct hvx_nl_stats s[2];
	const struct hvx_stats_top *t;
	const struct hvx_stats *st;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;
	uint32_t id;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	ASSERT_EQ(0, set_timing(timing)) TH_LOG("%s: %m", TIMING_PARAM);
	vcpu = vm_create_long(&vm, guest_counted, 0);
	run_counted(_metadata, vcpu);
	ASSERT_EQ(0, set_timing(false));
	id = own_vm_id(_metadata, &nl);
	ASSERT_LT(0, id);

	ASSERT_EQ(1, hvx_nl_get_stats(&nl, id, -1, s, 2));
	ASSERT_EQ(id, s[0].vm_id);
	ASSERT_EQ(0, s[0].vcpu_id);
	st = &s[0].st;

	ASSERT_EQ(STATS_CPUIDS, st->exits_by_reason[EXIT_REASON_CPUID]);
	/* The OUTs, and GUEST_DONE's OUT to the ucall port. */
	ASSERT_EQ(STATS_OUTS + 1, st->exits_by_reason[EXIT_REASON_IO_INSTRUCTION]);
	t = top_find(st->io_ports, STATS_PORT);
	ASSERT_NE(NULL, t) TH_LOG("port 0x%x not in the I/O table", STATS_PORT);
	ASSERT_EQ(STATS_OUTS, t->count);
	ASSERT_EQ(0, t->overcount);
	t = top_find(st->io_ports, UCALL_PORT);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(1, t->count);
	ASSERT_EQ(NULL, top_find(st->io_ports, STATS_PORT | HVX_STATS_IO_IN));
	ASSERT_EQ(STATS_OUTS + 1, top_sum(st->io_ports));
	ASSERT_EQ(0, top_sum(st->msrs));
	ASSERT_EQ(st->exits_by_reason[EXIT_REASON_MSR_READ] +
		  st->exits_by_reason[EXIT_REASON_MSR_WRITE], 0);

	/* Every exit is counted once, by reason and in the histogram. */
	ASSERT_EQ(st->exits, sum(st->exits_by_reason, HVX_STATS_EXIT_REASONS) +
			     st->exits_other);
	ASSERT_EQ(timing ? st->exits : 0,
		  sum(st->hist_handler, HVX_STATS_HIST_BUCKETS));
	ASSERT_EQ(0, st->entry_failures);

	/* HVX_RUN returned 501 times with an I/O exit; 500 round trips. */
	ASSERT_EQ(STATS_OUTS + 1, st->user_exits[HVX_EXIT_IO]);
	ASSERT_EQ(STATS_OUTS + 1, sum(st->user_exits, HVX_STATS_USER_EXITS));
	ASSERT_EQ(timing ? STATS_OUTS : 0,
		  sum(st->hist_user, HVX_STATS_HIST_BUCKETS));

	/* First touches of RAM; none is MMIO. */
	ASSERT_LT(0, st->ept_violations);
	ASSERT_EQ(st->ept_violations, st->exits_by_reason[EXIT_REASON_EPT_VIOLATION]);
	ASSERT_EQ(st->ept_violations, top_sum(st->gpa_pages));
	ASSERT_EQ(0, st->ept_mmio);
	for (int i = 0; i < HVX_STATS_TOP && st->gpa_pages[i].count; i++)
		ASSERT_EQ(0, st->gpa_pages[i].key & 0xfff);

	/* Not there yet: stay 0. The vCPU was loaded at least once. */
	ASSERT_EQ(0, st->halts);
	ASSERT_EQ(0, st->wakeups);
	ASSERT_EQ(0, st->passthrough_irqs);
	ASSERT_EQ(0, sum(st->irqs_injected, HVX_STATS_IRQ_SOURCES));
	ASSERT_EQ(0, st->exceptions_injected);
	ASSERT_LE(1, st->flushes);

	/* One vCPU asked for by id; a vCPU that does not exist. */
	ASSERT_EQ(1, hvx_nl_get_stats(&nl, id, 0, s, 2));
	ASSERT_EQ(STATS_CPUIDS, s[0].st.exits_by_reason[EXIT_REASON_CPUID]);
	ASSERT_EQ(-ENOENT, hvx_nl_get_stats(&nl, id, 1, s, 2));

	vcpu_free(vcpu);
	vm_free(vm);
	ASSERT_EQ(-ENOENT, hvx_nl_get_stats(&nl, id, -1, s, 2));
	hvx_nl_close(&nl);
}

TEST(exact_exit_counts)
{
	exact_counts(_metadata, true);
}

TEST(exact_exit_counts_untimed)
{
	exact_counts(_metadata, false);
}

/* Exits by MSR index (with the write bit), HLT, and injected exceptions. */
TEST(msr_hlt_exception_counts)
{
	const struct hvx_stats_top *t;
	const struct hvx_stats *st;
	struct hvx_nl_stats s;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	vcpu = vm_create_long(&vm, guest_msr_hlt, 0);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_HLT, vcpu);
	vcpu_run_done(vcpu);
	own_vm_stats(_metadata, &nl, &s);
	st = &s.st;

	ASSERT_EQ(2, st->exits_by_reason[EXIT_REASON_MSR_READ]);
	ASSERT_EQ(1, st->exits_by_reason[EXIT_REASON_MSR_WRITE]);
	ASSERT_EQ(3, top_sum(st->msrs));
	t = top_find(st->msrs, MSR_IA32_TSC);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(1, t->count);
	t = top_find(st->msrs, MSR_IA32_TSC | HVX_STATS_MSR_WRITE);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(1, t->count);
	t = top_find(st->msrs, STATS_BAD_MSR);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(1, t->count);
	/* The #GP for the MSR that does not exist. */
	ASSERT_EQ(1, st->exceptions_injected);
	ASSERT_EQ(1, st->halts);
	ASSERT_EQ(1, st->exits_by_reason[12 /* HLT */]);
	ASSERT_EQ(1, st->user_exits[HVX_EXIT_HLT]);
	ASSERT_EQ(1, st->user_exits[HVX_EXIT_IO]);	/* GUEST_DONE */
	ASSERT_EQ(0, st->wakeups);
	vcpu_free(vcpu);
	vm_free(vm);
	hvx_nl_close(&nl);
}

/*
 * gpa_pages past its 16 entries ("space saving", uapi/hvx.h): every key
 * is there once, page aligned; for the MMIO pages, whose true counts the
 * guest fixes, count - overcount <= true count <= count; the page of half
 * the exits is there; an entry's overcount was the smallest count when
 * it was taken, so none is above the smallest count now.
 */
TEST(gpa_pages_space_saving)
{
	const struct hvx_stats_top *t;
	const struct hvx_stats *st;
	struct hvx_nl_stats s;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;
	uint64_t min, replaced = 0;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	vcpu = vm_create_long(&vm, guest_mmio_pages, STATS_MMIO_PAGES);
	for (int i = 0; i < 2 * STATS_MMIO_PAGES; i++) {
		vcpu_run(vcpu);
		ASSERT_EXIT(HVX_EXIT_MMIO, vcpu);
		ASSERT_EQ(GPA_MMIO + (i & 1 ? (i / 2 + 1) * 4096 : 0),
			  vcpu->run->mmio.phys_addr);
		ASSERT_EQ(i & 1, vcpu->run->mmio.is_write);
	}
	vcpu_run_done(vcpu);
	own_vm_stats(_metadata, &nl, &s);
	st = &s.st;

	ASSERT_EQ(2 * STATS_MMIO_PAGES, st->ept_mmio);
	ASSERT_EQ(st->ept_violations, top_sum(st->gpa_pages));
	min = st->gpa_pages[0].count;
	for (int i = 0; i < HVX_STATS_TOP; i++) {
		t = &st->gpa_pages[i];
		ASSERT_LT(0, t->count) TH_LOG("entry %d unused", i);
		ASSERT_EQ(0, t->key & 0xfff);
		for (int j = 0; j < i; j++)
			ASSERT_NE(st->gpa_pages[j].key, t->key);
		if (t->count < min)
			min = t->count;
		if (t->overcount)
			replaced++;
		if (t->key < GPA_MMIO ||
		    t->key > GPA_MMIO + STATS_MMIO_PAGES * 4096)
			continue;
		ASSERT_LE(t->count - t->overcount,
			  t->key == GPA_MMIO ? STATS_MMIO_PAGES : 1);
		ASSERT_LE(t->key == GPA_MMIO ? STATS_MMIO_PAGES : 1, t->count);
	}
	ASSERT_LT(0, replaced);
	for (int i = 0; i < HVX_STATS_TOP; i++)
		ASSERT_LE(st->gpa_pages[i].overcount, min);
	ASSERT_NE(NULL, top_find(st->gpa_pages, GPA_MMIO));
	vcpu_free(vcpu);
	vm_free(vm);
	hvx_nl_close(&nl);
}

/* Interrupts and NMIs injected from userspace are counted by source when
 * they enter the guest. */
TEST(injected_interrupt_counts)
{
	struct hvx_interrupt irq = { .vector = 0x40 };
	struct hvx_nl_stats s;
	struct hvx_regs regs;
	struct ucall uc;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	vcpu = vm_create_long(&vm, guest_sync_done, 1);
	/* Gate 0x40 -> the library's vector-0 stub, which reports itself. */
	vcpu_set_idt_gate(vcpu, 0x40, guest_exc_stubs[0]);
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	vcpu_get_regs(vcpu, &regs);
	regs.rflags |= 1u << 9;		/* IF */
	vcpu_set_regs(vcpu, &regs);
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_INTERRUPT, &irq));
	ASSERT_EQ(0, __vcpu_run(vcpu));
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc));
	ASSERT_EQ(0, uc.args[0]);	/* delivered through gate 0x40 */
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_NMI, 0));
	ASSERT_EQ(0, __vcpu_run(vcpu));
	ASSERT_EQ(UCALL_UNHANDLED, get_ucall(vcpu, &uc));
	ASSERT_EQ(2, uc.args[0]);

	own_vm_stats(_metadata, &nl, &s);
	ASSERT_EQ(1, s.st.irqs_injected[HVX_IRQ_SRC_USER]);
	ASSERT_EQ(1, s.st.irqs_injected[HVX_IRQ_SRC_NMI]);
	ASSERT_EQ(2, sum(s.st.irqs_injected, HVX_STATS_IRQ_SOURCES));
	vcpu_free(vcpu);
	vm_free(vm);
	hvx_nl_close(&nl);
}

/* CR8 round-trips between guest and HVX_GET/SET_SREGS, and with the TPR
 * shadow (Bochs has it) costs no CR-access exit. */
TEST(cr8_through_tpr_shadow)
{
	struct hvx_nl_stats s;
	struct hvx_sregs sregs;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	vcpu = vm_create_long(&vm, guest_cr8, 9);
	ASSERT_EQ(9, vcpu_run_sync(vcpu));
	vcpu_get_sregs(vcpu, &sregs);
	ASSERT_EQ(9, sregs.cr8);
	sregs.cr8 = 4;
	vcpu_set_sregs(vcpu, &sregs);
	ASSERT_EQ(4, vcpu_run_sync(vcpu));
	vcpu_run_done(vcpu);

	own_vm_stats(_metadata, &nl, &s);
	ASSERT_EQ(0, s.st.exits_by_reason[28 /* CR_ACCESS */]);
	vcpu_free(vcpu);
	vm_free(vm);
	hvx_nl_close(&nl);
}

TEST(syscall_msrs_pass_through)
{
	static struct hvx_msrs m;
	struct hvx_nl_stats s;
	struct ucall uc;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	vcpu = vm_create_long(&vm, guest_syscall_msrs, 0);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0xffffffff81234000ull, uc.args[0]);
	ASSERT_EQ(0x5678000, uc.args[1]);
	ASSERT_EQ(0x5678000, uc.args[2]);	/* SWAPGS used the guest's */

	m.nmsrs = 3;
	m.entries[0].index = 0xc0000081;
	m.entries[1].index = 0xc0000084;
	m.entries[2].index = 0xc0000102;
	ASSERT_EQ(3, ioctl(vcpu->fd, HVX_GET_MSRS, &m));
	ASSERT_EQ(0x0023001000000000ull, m.entries[0].data);
	ASSERT_EQ(0x47700, m.entries[1].data);
	ASSERT_EQ(0x5678000, m.entries[2].data);
	vcpu_run_done(vcpu);

	/*
	 * Writes of STAR, LSTAR and SFMASK exit (the per-CPU user-return
	 * cache must know what the CPU holds: vmx/README.md, "Run loop
	 * levels"); KERNEL_GS_BASE and every read go through.
	 */
	own_vm_stats(_metadata, &nl, &s);
	ASSERT_EQ(3, s.st.exits_by_reason[EXIT_REASON_MSR_WRITE]);
	ASSERT_EQ(0, s.st.exits_by_reason[EXIT_REASON_MSR_READ]);
	vcpu_free(vcpu);
	vm_free(vm);
	hvx_nl_close(&nl);
}

/* ---- hvxctl ------------------------------------------------------------ */

/* Read everything from two fds until both are closed or time runs out. */
static int drain(int fd1, char *b1, size_t l1, int fd2, char *b2, size_t l2,
		 int timeout_ms)
{
	struct pollfd p[2] = { { fd1, POLLIN, 0 }, { fd2, POLLIN, 0 } };
	size_t n[2] = { 0, 0 }, len[2] = { l1 - 1, l2 - 1 };
	char *b[2] = { b1, b2 };
	int open = 2;

	while (open) {
		int r = poll(p, 2, timeout_ms);

		if (r <= 0)
			return -ETIMEDOUT;
		for (int i = 0; i < 2; i++) {
			char tmp[4096];
			ssize_t got;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			got = read(p[i].fd, tmp, sizeof(tmp));
			if (got <= 0) {
				p[i].fd = -1;
				open--;
				continue;
			}
			if ((size_t)got > len[i] - n[i])
				got = len[i] - n[i];
			memcpy(b[i] + n[i], tmp, got);
			n[i] += got;
		}
	}
	b1[n[0]] = 0;
	b2[n[1]] = 0;
	return 0;
}

/* Run a program; its stdout and stderr go to out/err. The wait status. */
static int run_tool(const char *const argv[], char *out, size_t outlen,
		    char *err, size_t errlen)
{
	int po[2], pe[2], status;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	if (drain(po[0], out, outlen, pe[0], err, errlen, TOOL_TIMEOUT_MS))
		kill(pid, SIGKILL);
	close(po[0]);
	close(pe[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/*
 * A small JSON reader, enough to check that hvxctl prints a well-formed
 * document and to look values up in it. Each function takes a pointer to
 * a value and returns a pointer to another, or NULL.
 */
static const char *js_ws(const char *p)
{
	while (p && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static const char *js_str_end(const char *p)
{
	if (!p || *p != '"')
		return NULL;
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && !*++p)
			return NULL;
	return *p ? p + 1 : NULL;
}

/* The end of the value at p, or NULL if it is not valid JSON. */
static const char *js_skip(const char *p)
{
	char close;

	p = js_ws(p);
	if (!p)
		return NULL;
	if (*p == '"')
		return js_str_end(p);
	if (*p == '{' || *p == '[') {
		close = *p == '{' ? '}' : ']';
		p = js_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = js_ws(js_str_end(js_ws(p)));
				if (!p || *p++ != ':')
					return NULL;
			}
			p = js_ws(js_skip(p));
			if (!p)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		char *end;

		strtod(p, &end);
		return end;
	}
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	return NULL;
}

/* Member @key of the object at p. */
static const char *js_get(const char *p, const char *key)
{
	size_t klen = strlen(key);

	p = js_ws(p);
	if (!p || *p != '{')
		return NULL;
	p = js_ws(p + 1);
	while (p && *p == '"') {
		const char *k = p + 1, *kend = js_str_end(p);

		p = js_ws(kend);
		if (!p || *p++ != ':')
			return NULL;
		if ((size_t)(kend - 1 - k) == klen && !strncmp(k, key, klen))
			return js_ws(p);
		p = js_ws(js_skip(p));
		if (p && *p == ',')
			p = js_ws(p + 1);
	}
	return NULL;
}

/* Element @i of the array at p. */
static const char *js_at(const char *p, int i)
{
	p = js_ws(p);
	if (!p || *p != '[')
		return NULL;
	p = js_ws(p + 1);
	if (*p == ']')
		return NULL;
	while (i--) {
		p = js_ws(js_skip(p));
		if (!p || *p++ != ',')
			return NULL;
		p = js_ws(p);
	}
	return p;
}

/* The unsigned integer at p, or ~0 if p is not one. */
static uint64_t js_u64(const char *p)
{
	p = js_ws(p);
	if (!p || *p < '0' || *p > '9')
		return ~0ull;
	return strtoull(p, NULL, 10);
}

static bool js_is(const char *p, const char *s)
{
	size_t n = strlen(s);

	p = js_ws(p);
	return p && *p == '"' && !strncmp(p + 1, s, n) && p[n + 1] == '"';
}

static bool js_valid(const char *doc)
{
	const char *end = js_ws(js_skip(doc));

	return end && !*end;
}

static char tool_out[1 << 17], tool_err[4096];

/* Exit status 0, nothing on stderr, and valid JSON out. */
#define ASSERT_TOOL_JSON(status) do {					\
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))		\
		TH_LOG("status 0x%x, stderr: %s", status, tool_err);	\
	ASSERT_STREQ("", tool_err);					\
	ASSERT_TRUE(js_valid(tool_out)) TH_LOG("not JSON:\n%s", tool_out); \
} while (0)

/* hvxctl stats --json shows the same exact counts, and list shows the VM. */
TEST(hvxctl_stats_json)
{
	const char *path, *total, *ports, *e;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;
	char idstr[16];
	bool found = false;
	uint32_t id;
	int status;

	REQUIRE_VMX();
	REQUIRE_HVXCTL(path);
	REQUIRE_NL(&nl);
	vcpu = vm_create_long(&vm, guest_counted, 0);
	run_counted(_metadata, vcpu);
	id = own_vm_id(_metadata, &nl);
	ASSERT_LT(0, id);
	snprintf(idstr, sizeof(idstr), "%u", id);

	status = run_tool((const char *[]){ path, "stats", idstr, "--json", NULL },
			  tool_out, sizeof(tool_out), tool_err, sizeof(tool_err));
	ASSERT_TOOL_JSON(status);
	ASSERT_EQ(id, js_u64(js_get(tool_out, "vm")));
	ASSERT_EQ((uint64_t)getpid(), js_u64(js_get(js_get(tool_out, "info"), "pid")));
	ASSERT_EQ(0, js_u64(js_get(js_at(js_get(tool_out, "vcpus"), 0), "vcpu")));
	ASSERT_EQ(NULL, js_at(js_get(tool_out, "vcpus"), 1));
	total = js_get(tool_out, "total");
	ASSERT_NE(NULL, total);
	ASSERT_EQ(STATS_CPUIDS, js_u64(js_get(js_get(total, "exits_by_reason"), "CPUID")));
	ASSERT_EQ(STATS_OUTS + 1,
		  js_u64(js_get(js_get(total, "exits_by_reason"), "IO_INSTRUCTION")));
	ASSERT_EQ(STATS_OUTS + 1, js_u64(js_get(js_get(total, "user_exits"), "IO")));
	ASSERT_EQ(0, js_u64(js_get(total, "halts")));
	ASSERT_EQ(0, js_u64(js_get(js_get(total, "irqs_injected"), "passthrough")));
	ports = js_get(total, "io_ports");
	for (int i = 0; (e = js_at(ports, i)); i++) {
		if (js_u64(js_get(e, "port")) != STATS_PORT)
			continue;
		ASSERT_TRUE(js_is(js_get(e, "dir"), "out"));
		ASSERT_EQ(STATS_OUTS, js_u64(js_get(e, "count")));
		ASSERT_EQ(0, js_u64(js_get(e, "overcount")));
		found = true;
	}
	ASSERT_TRUE(found) TH_LOG("port %d not in io_ports:\n%s", STATS_PORT, tool_out);
	ASSERT_NE(NULL, js_at(js_get(total, "hist_handler_log2"),
			      HVX_STATS_HIST_BUCKETS - 1));

	/* The table says the same. */
	status = run_tool((const char *[]){ path, "stats", idstr, NULL },
			  tool_out, sizeof(tool_out), tool_err, sizeof(tool_err));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("status 0x%x, stderr: %s", status, tool_err);
	ASSERT_NE(NULL, strstr(tool_out, "\n  CPUID ")) TH_LOG("%s", tool_out);
	ASSERT_EQ(STATS_CPUIDS, strtoull(strstr(tool_out, "\n  CPUID ") + 9, NULL, 10));
	ASSERT_NE(NULL, strstr(tool_out, "port 0x0080 out")) TH_LOG("%s", tool_out);
	ASSERT_NE(NULL, strstr(tool_out, "exit handling time")) TH_LOG("%s", tool_out);
	/* For whoever reads the log: what hvxctl shows. */
	for (char *l = strtok(tool_out, "\n"); l; l = strtok(NULL, "\n"))
		printf("# | %s\n", l);

	/* list --json has the VM, with our pid. */
	status = run_tool((const char *[]){ path, "list", "--json", NULL },
			  tool_out, sizeof(tool_out), tool_err, sizeof(tool_err));
	ASSERT_TOOL_JSON(status);
	found = false;
	for (int i = 0; (e = js_at(tool_out, i)); i++) {
		if (js_u64(js_get(e, "vm")) != id)
			continue;
		ASSERT_EQ((uint64_t)getpid(), js_u64(js_get(e, "pid")));
		ASSERT_EQ(1, js_u64(js_get(e, "vcpus")));
		found = true;
	}
	ASSERT_TRUE(found) TH_LOG("VM %u not in:\n%s", id, tool_out);

	vcpu_free(vcpu);
	vm_free(vm);
	hvx_nl_close(&nl);
}

/* Errors are one line on stderr and a non-zero exit status. */
TEST(hvxctl_errors)
{
	static const struct {
		const char *args[4];
		int status;
		const char *says;
	} cases[] = {
		{ { "stats", "2147483647" }, 1, "no such VM" },
		{ { "stats", "2147483647", "--json" }, 1, "no such VM" },
		{ { "stats", "--vcpu", "64", "1" }, 2, "not a valid id" },
		{ { "stats" }, 2, "which VM" },
		{ { "frobnicate" }, 2, "unknown command" },
		{ { "list", "extra" }, 2, "unexpected argument" },
		{ { "save", "2147483647", "/var/vm.snap" }, 1, "no such VM" },
		{ { "migrate", "2147483647", "tcp:127.0.0.1:1" }, 1, "no such VM" },
		/* hvx checks the argument before the VM: its extack line. */
		{ { "migrate", "2147483647", "udp:127.0.0.1:1" }, 1,
		  "the address must be tcp:HOST:PORT" },
		{ { "save", "1" }, 2, "expected VM FILE" },
		{ { "migrate", "x", "tcp:127.0.0.1:1" }, 2, "not a valid id" },
	};
	const char *path;

	REQUIRE_HVX();
	REQUIRE_HVXCTL(path);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[6] = { path };
		char *nl;
		int status;

		memcpy(&argv[1], cases[i].args, sizeof(cases[i].args));
		status = run_tool(argv, tool_out, sizeof(tool_out), tool_err,
				  sizeof(tool_err));
		ASSERT_TRUE(WIFEXITED(status)) TH_LOG("hvxctl %s: status 0x%x",
						      cases[i].args[0], status);
		ASSERT_EQ(cases[i].status, WEXITSTATUS(status))
			TH_LOG("hvxctl %s %s: stderr: %s", cases[i].args[0],
			       cases[i].args[1] ?: "", tool_err);
		ASSERT_STREQ("", tool_out);
		nl = strchr(tool_err, '\n');
		ASSERT_NE(NULL, nl);
		ASSERT_EQ(0, nl[1]) TH_LOG("more than one line: %s", tool_err);
		ASSERT_EQ(0, strncmp(tool_err, "hvxctl: ", 8)) TH_LOG("%s", tool_err);
		ASSERT_NE(NULL, strstr(tool_err, cases[i].says)) TH_LOG("%s", tool_err);
	}
}

/* One line from fd (without the newline), within timeout_ms. */
static int read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	size_t n = 0;

	while (n + 1 < len) {
		if (poll(&p, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		if (read(fd, buf + n, 1) != 1)
			return -EPIPE;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return 0;
}

/* hvxctl monitor prints the events of a VM's creation and destruction. */
TEST(hvxctl_monitor)
{
	const char *path;
	char line[512];
	struct hvx_nl nl;
	struct vm *vm;
	int p[2], status;
	uint32_t id;
	pid_t pid;

	REQUIRE_VMX();
	REQUIRE_HVXCTL(path);
	REQUIRE_NL(&nl);
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(path, path, "monitor", "--json", "--count", "2", NULL);
		_exit(127);
	}
	close(p[1]);
	/* It says so on stderr once it has joined the group. */
	ASSERT_EQ(0, read_line(p[0], line, sizeof(line), TOOL_TIMEOUT_MS));
	ASSERT_NE(NULL, strstr(line, "listening")) TH_LOG("%s", line);

	vm = vm_create_bare();
	id = own_vm_id(_metadata, &nl);
	ASSERT_LT(0, id);
	vm_free(vm);

	ASSERT_EQ(0, read_line(p[0], line, sizeof(line), TOOL_TIMEOUT_MS));
	ASSERT_TRUE(js_valid(line)) TH_LOG("%s", line);
	ASSERT_TRUE(js_is(js_get(line, "event"), "vm_created")) TH_LOG("%s", line);
	ASSERT_EQ(id, js_u64(js_get(line, "vm")));
	ASSERT_EQ((uint64_t)getpid(), js_u64(js_get(line, "pid")));
	ASSERT_EQ(0, read_line(p[0], line, sizeof(line), TOOL_TIMEOUT_MS));
	ASSERT_TRUE(js_is(js_get(line, "event"), "vm_destroyed")) TH_LOG("%s", line);
	ASSERT_EQ(id, js_u64(js_get(line, "vm")));
	/* --count 2: it exits by itself. */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("status 0x%x", status);
	close(p[0]);
	hvx_nl_close(&nl);
}

/* ---- Events ------------------------------------------------------------ */

static const char *event_str(uint32_t e)
{
	static const char *const names[] = {
		"UNSPEC", "VM_CREATED", "VM_DESTROYED", "VCPU_SHUTDOWN",
		"ENTRY_FAILURE", "INTERNAL_ERROR", "DEVICE_ASSIGNED",
		"DEVICE_RELEASED", "IOMMU_FAULT",
	};

	return e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

/* The next event about one of our VMs must be @event. */
static void expect_event(struct __test_metadata *_metadata, struct hvx_nl *nl,
			 uint32_t event, struct hvx_nl_event *ev)
{
	int ret;

	do {
		ret = hvx_nl_next_event(nl, ev, EVENT_TIMEOUT_MS);
		ASSERT_EQ(0, ret) TH_LOG("waiting for %s: %s", event_str(event),
					 strerrorname_np(-ret));
	} while (ev->pid != (uint32_t)getpid());
	ASSERT_EQ(HVX_CMD_EVENT, ev->cmd);
	ASSERT_EQ(event, ev->event) TH_LOG("got %s, expected %s",
					   event_str(ev->event), event_str(event));
	ASSERT_TRUE(ev->has[HVX_A_VM_ID] && ev->has[HVX_A_OWNER_PID] &&
		    ev->has[HVX_A_OWNER_UID]);
	ASSERT_EQ(geteuid(), ev->uid);
}

/*
 * Every lifecycle step is announced: VM created, vCPU shutdown (triple
 * fault), VM destroyed; an entry failure; an internal error.
 */
TEST(events_lifecycle)
{
	struct hvx_nl_event ev;
	struct hvx_sregs sregs;
	struct hvx_regs regs;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;
	uint32_t id;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	ASSERT_EQ(0, hvx_nl_subscribe(&nl));

	/* A triple fault shuts the vCPU down. */
	vcpu = vm_create_long(&vm, guest_ud2, 0);
	expect_event(_metadata, &nl, HVX_EVENT_VM_CREATED, &ev);
	id = ev.vm_id;
	ASSERT_LT(0, id);
	ASSERT_FALSE(ev.has[HVX_A_VCPU_ID]);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.idt.limit = 0;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_SHUTDOWN, vcpu);
	expect_event(_metadata, &nl, HVX_EVENT_VCPU_SHUTDOWN, &ev);
	ASSERT_EQ(id, ev.vm_id);
	ASSERT_TRUE(ev.has[HVX_A_VCPU_ID]);
	ASSERT_EQ(0, ev.vcpu_id);
	vcpu_free(vcpu);
	vm_free(vm);
	expect_event(_metadata, &nl, HVX_EVENT_VM_DESTROYED, &ev);
	ASSERT_EQ(id, ev.vm_id);

	/* RFLAGS bit 1 clear: invalid guest state, the entry fails. */
	vcpu = vm_create_long(&vm, guest_sync_done, 0);
	expect_event(_metadata, &nl, HVX_EVENT_VM_CREATED, &ev);
	ASSERT_NE(id, ev.vm_id);
	id = ev.vm_id;
	vcpu_get_regs(vcpu, &regs);
	regs.rflags = 0;
	vcpu_set_regs(vcpu, &regs);
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_FAIL_ENTRY, vcpu);
	expect_event(_metadata, &nl, HVX_EVENT_ENTRY_FAILURE, &ev);
	ASSERT_EQ(id, ev.vm_id);
	ASSERT_EQ(0, ev.vcpu_id);
	ASSERT_EQ(HVX_ENTRY_FAIL_GUEST_STATE, ev.suberror);
	ASSERT_EQ(0x80000000u | EXIT_REASON_INVALID_STATE, ev.exit_reason);
	ASSERT_EQ(HVX_CHECK_RFLAGS, ev.check);
	ASSERT_TRUE(ev.has[HVX_A_EXIT_QUAL] && ev.has[HVX_A_INSN_ERROR]);
	vcpu_free(vcpu);
	vm_free(vm);
	expect_event(_metadata, &nl, HVX_EVENT_VM_DESTROYED, &ev);
	ASSERT_EQ(id, ev.vm_id);

	/* Code fetched from MMIO, which hvx cannot emulate: internal error. */
	vcpu = vm_create_long(&vm, guest_mmio_exec, 0);
	expect_event(_metadata, &nl, HVX_EVENT_VM_CREATED, &ev);
	id = ev.vm_id;
	vcpu_run(vcpu);
	ASSERT_EXIT(HVX_EXIT_INTERNAL_ERROR, vcpu);
	expect_event(_metadata, &nl, HVX_EVENT_INTERNAL_ERROR, &ev);
	ASSERT_EQ(id, ev.vm_id);
	ASSERT_EQ(0, ev.vcpu_id);
	ASSERT_EQ(HVX_INTERNAL_EMULATION, ev.suberror);
	ASSERT_EQ(EXIT_REASON_EPT_VIOLATION, ev.exit_reason);
	ASSERT_EQ(vcpu->run->internal.qualification, ev.qual);
	vcpu_free(vcpu);
	vm_free(vm);
	expect_event(_metadata, &nl, HVX_EVENT_VM_DESTROYED, &ev);
	ASSERT_EQ(id, ev.vm_id);

	/* And nothing else. */
	ASSERT_EQ(-ETIMEDOUT, hvx_nl_next_event(&nl, &ev, 200))
		TH_LOG("unexpected %s", event_str(ev.event));
	hvx_nl_close(&nl);
}

/* ---- Another user's VMs ------------------------------------------------ */

static void become_nobody(void)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		_exit(100);
}

/* Child: report @fmt on the pipe and exit with 1. */
static void __attribute__((noreturn, format(printf, 2, 3)))
child_fail(int fd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (write(fd, msg, strlen(msg)) < 0)
		_exit(2);
	_exit(1);
}

/* Wait for the child; fail with what it wrote on the pipe. */
static void check_child(struct __test_metadata *_metadata, pid_t pid, int fd)
{
	char msg[256] = "";
	int status;
	ssize_t n;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	n = read(fd, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child status 0x%x", status);
	ASSERT_NE(100, WEXITSTATUS(status)) TH_LOG("could not become uid %d", NOBODY);
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("as uid %d: %s", NOBODY, msg);
}

/* Without CAP_SYS_ADMIN the event group cannot be joined (events name
 * every user's VMs); listing works, and shows no one else's VM. */
TEST(unprivileged_events_refused)
{
	struct hvx_nl nl;
	int p[2];
	pid_t pid;

	REQUIRE_NL(&nl);
	hvx_nl_close(&nl);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct hvx_nl_vm vms[64];
		int ret, n;

		close(p[0]);
		become_nobody();
		if (hvx_nl_open(&nl))
			child_fail(p[1], "cannot resolve the family");
		n = hvx_nl_list_vms(&nl, vms, 64);
		if (n < 0)
			child_fail(p[1], "list: %s", strerrorname_np(-n));
		for (int i = 0; i < n && i < 64; i++)
			if (vms[i].uid != NOBODY)
				child_fail(p[1], "sees VM %u of uid %u", vms[i].id,
					   vms[i].uid);
		hvx_nl_close(&nl);
		if (hvx_nl_open(&nl))
			child_fail(p[1], "cannot resolve the family");
		ret = hvx_nl_subscribe(&nl);
		if (ret != -EPERM)
			child_fail(p[1], "joining the event group: %s, expected EPERM",
				   ret ? strerrorname_np(-ret) : "allowed");
		_exit(0);
	}
	close(p[1]);
	check_child(_metadata, pid, p[0]);
	close(p[0]);
}

/*
 * A VM of root is invisible to uid 65534: not listed, and GET_VM and
 * GET_STATS answer ENOENT as for a VM that does not exist. Its own VM
 * (created through /dev/hvx opened before dropping root) is visible.
 */
TEST(other_users_vm_invisible)
{
	struct hvx_nl_stats s;
	struct hvx_nl_vm one;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	uint32_t root_id;
	struct vm *vm;
	int p[2];
	pid_t pid;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	vm = vm_create_bare();
	vcpu = vcpu_create(vm, 0);
	root_id = own_vm_id(_metadata, &nl);
	ASSERT_LT(0, root_id);
	ASSERT_EQ(1, hvx_nl_get_stats(&nl, root_id, -1, &s, 1));
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct hvx_nl_vm vms[64];
		int sys_fd, vm_fd, vcpu_fd, n, ret, own = 0;
		uint32_t own_id = 0;

		close(p[0]);
		sys_fd = open(HVX_DEV, O_RDWR | O_CLOEXEC);
		if (sys_fd < 0)
			child_fail(p[1], "open %s: %s", HVX_DEV, strerror(errno));
		become_nobody();
		vm_fd = ioctl(sys_fd, HVX_CREATE_VM, 0);
		vcpu_fd = vm_fd < 0 ? -1 : ioctl(vm_fd, HVX_CREATE_VCPU, 0);
		if (vcpu_fd < 0)
			child_fail(p[1], "creating a VM and vCPU: %s", strerror(errno));
		hvx_nl_close(&nl);	/* root's socket: use our own */
		if (hvx_nl_open(&nl))
			child_fail(p[1], "cannot resolve the family");

		n = hvx_nl_list_vms(&nl, vms, 64);
		if (n < 0)
			child_fail(p[1], "list: %s", strerrorname_np(-n));
		for (int i = 0; i < n && i < 64; i++) {
			if (vms[i].id == root_id)
				child_fail(p[1], "root's VM %u is listed", root_id);
			if (vms[i].uid != NOBODY)
				child_fail(p[1], "VM %u of uid %u is listed",
					   vms[i].id, vms[i].uid);
			if (vms[i].pid == (uint32_t)getpid()) {
				own++;
				own_id = vms[i].id;
			}
		}
		if (own != 1)
			child_fail(p[1], "its own VM is listed %d times", own);
		ret = hvx_nl_get_vm(&nl, root_id, &one);
		if (ret != -ENOENT)
			child_fail(p[1], "GET_VM of root's VM: %s, expected ENOENT",
				   ret ? strerrorname_np(-ret) : "answered");
		ret = hvx_nl_get_stats(&nl, root_id, -1, &s, 1);
		if (ret != -ENOENT)
			child_fail(p[1], "GET_STATS of root's VM: %s, expected ENOENT",
				   ret < 0 ? strerrorname_np(-ret) : "answered");
		ret = hvx_nl_get_stats(&nl, root_id, 0, &s, 1);
		if (ret != -ENOENT)
			child_fail(p[1], "GET_STATS of root's vCPU 0: %s, expected ENOENT",
				   ret < 0 ? strerrorname_np(-ret) : "answered");
		ret = hvx_nl_get_vm(&nl, own_id, &one);
		if (ret || one.uid != NOBODY || one.nr_vcpus != 1)
			child_fail(p[1], "GET_VM of its own VM: %s, uid %u, %u vCPUs",
				   strerrorname_np(-ret) ?: "ok", one.uid, one.nr_vcpus);
		ret = hvx_nl_get_stats(&nl, own_id, -1, &s, 1);
		if (ret != 1)
			child_fail(p[1], "GET_STATS of its own VM: %d", ret);
		_exit(0);
	}
	close(p[1]);
	check_child(_metadata, pid, p[0]);
	close(p[0]);
	/* Root still sees its VM. */
	ASSERT_EQ(0, hvx_nl_get_vm(&nl, root_id, &one));
	vcpu_free(vcpu);
	vm_free(vm);
	hvx_nl_close(&nl);
}

/* ---- Tracepoints ------------------------------------------------------- */

static const char *const trace_events[] = {
	"hvx_vm_entry", "hvx_vm_exit", "hvx_userspace_exit",
};

#define REQUIRE_TRACEFS() do {						\
	if (access(TRACEFS "/events", F_OK))				\
		SKIP(return, "tracefs not mounted at " TRACEFS);	\
} while (0)

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

TEST(tracepoints_registered)
{
	char path[256];

	REQUIRE_HVX();
	REQUIRE_TRACEFS();
	for (size_t i = 0; i < sizeof(trace_events) / sizeof(trace_events[0]); i++) {
		snprintf(path, sizeof(path), TRACEFS "/events/hvx/%s/format",
			 trace_events[i]);
		ASSERT_EQ(0, access(path, R_OK)) TH_LOG("%s: %s", path, strerror(errno));
	}
}

/* With the events on, a CPUID in the guest is traced like KVM would. */
TEST(tracepoints_fire)
{
	char line[1024], want_exit[64], want_entry[64], want_user[64];
	bool exit_seen = false, entry_seen = false, user_seen = false;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;
	uint32_t id;
	FILE *f;

	REQUIRE_VMX();
	REQUIRE_TRACEFS();
	REQUIRE_NL(&nl);
	vcpu = vm_create_long(&vm, guest_cpuid_once, 0);
	id = own_vm_id(_metadata, &nl);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_file(TRACEFS "/events/hvx/enable", "1"));
	vcpu_run_done(vcpu);
	ASSERT_EQ(0, write_file(TRACEFS "/events/hvx/enable", "0"));

	snprintf(want_exit, sizeof(want_exit), "vm %u vcpu 0 reason CPUID ", id);
	snprintf(want_entry, sizeof(want_entry), "vm %u vcpu 0 rip ", id);
	snprintf(want_user, sizeof(want_user), "vm %u vcpu 0 reason IO ret 0", id);
	f = fopen(TRACEFS "/trace", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "hvx_vm_exit: ") && strstr(line, want_exit))
			exit_seen = true;
		if (strstr(line, "hvx_vm_entry: ") && strstr(line, want_entry))
			entry_seen = true;
		if (strstr(line, "hvx_userspace_exit: ") && strstr(line, want_user))
			user_seen = true;
	}
	fclose(f);
	ASSERT_TRUE(entry_seen) TH_LOG("no hvx_vm_entry with \"%s\"", want_entry);
	ASSERT_TRUE(exit_seen) TH_LOG("no hvx_vm_exit with \"%s\"", want_exit);
	ASSERT_TRUE(user_seen) TH_LOG("no hvx_userspace_exit with \"%s\"", want_user);
	vcpu_free(vcpu);
	vm_free(vm);
	hvx_nl_close(&nl);
}

#define EXIT_REASON_PAUSE_INSTRUCTION	40
#define PAUSE_LOOPS			4000000
#define PLE_WINDOW_FIRST		4096	/* HVX_PLE_WINDOW, cycles */

/*
 * A guest that spins on PAUSE for millions of cycles exits on PAUSE-loop
 * exiting, and each exit doubles its window (vmx.h, HVX_PLE_WINDOW): a
 * few dozen exits, where a fixed window would give one per 4096 cycles.
 * The bound is 8 times below the fixed window's count.
 */
TEST(pause_loop_window_grows)
{
	uint64_t cycles, pauses;
	struct hvx_stats st;
	struct vcpu *vcpu;
	struct hvx_nl nl;
	struct vm *vm;

	REQUIRE_VMX();
	REQUIRE_NL(&nl);
	hvx_nl_close(&nl);
	vcpu = vm_create_long(&vm, guest_pause_loop, PAUSE_LOOPS);
	cycles = vcpu_run_sync(vcpu);
	vcpu_run_done(vcpu);
	ASSERT_EQ(0, hvx_nl_own_stats(&st));
	pauses = st.exits_by_reason[EXIT_REASON_PAUSE_INSTRUCTION];
	vm_free(vm);
	printf("# %lu PAUSE exits in %lu TSC cycles of PAUSE loop\n", pauses, cycles);
	if (!pauses)
		SKIP(return, "no PAUSE-loop exit in %lu cycles: the CPU has no PAUSE-loop exiting", cycles);
	ASSERT_LT(pauses * 8, cycles / PLE_WINDOW_FIRST)
		TH_LOG("%lu PAUSE exits in %lu cycles: the window did not grow", pauses, cycles);
}

/* ---- Requests to a VM's owner ------------------------------------------ */

/* The owner's answer, HVX_CMD_REQUEST_DONE. */
struct answer {
	uint32_t vm, action, error;
	char msg[HVX_REQUEST_MSG_MAX];
	bool done;
};

static int answer_parse(struct nlattr **tb, void *arg)
{
	struct answer *a = arg;

	if (!tb[HVX_A_REQUEST_ERROR])
		return 0;
	a->done = true;
	a->vm = hvx_nl_get_u32(tb, HVX_A_VM_ID);
	a->action = hvx_nl_get_u32(tb, HVX_A_REQUEST_ACTION);
	a->error = hvx_nl_get_u32(tb, HVX_A_REQUEST_ERROR);
	snprintf(a->msg, sizeof(a->msg), "%s",
		 tb[HVX_A_REQUEST_MSG] ? (char *)nla_data(tb[HVX_A_REQUEST_MSG]) : "");
	return 1;
}

/* HVX_CMD_REQUEST: 0 once the owner has it, or -errno (and nl->extack). */
static int send_request(struct hvx_nl *nl, uint32_t vm, uint32_t action,
			const char *arg)
{
	struct nl_msg *msg = hvx_nl_msg(nl, HVX_CMD_REQUEST, false);

	if (msg && (nla_put_u32(msg, HVX_A_VM_ID, vm) ||
		    nla_put_u32(msg, HVX_A_REQUEST_ACTION, action) ||
		    nla_put_string(msg, HVX_A_REQUEST_ARG, arg))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return hvx_nl_transact(nl, msg, NULL, NULL);
}

/* The answer on @nl within 5 s: 0, or -errno. */
static int wait_answer(struct hvx_nl *nl, struct answer *a)
{
	struct timeval tv = { .tv_sec = 5 };
	int ret;

	memset(a, 0, sizeof(*a));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	ret = hvx_nl_wait(nl, answer_parse, a);
	return ret == 1 ? 0 : ret;
}

static bool vm_fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/*
 * HVX_CMD_REQUEST to a DMA-only VM of this process (no VMX needed), the
 * test playing hvx-run's part: refused with EOPNOTSUPP (and hvx's line)
 * until the owner's first HVX_GET_REQUEST; then posted: the VM fd polls
 * readable, HVX_GET_REQUEST hands out the action and argument, another
 * request is EBUSY until the answer, HVX_REQUEST_DONE with another id, a
 * negative errno or a reserved word set is EINVAL, and the answer reaches
 * the requesting socket with the VM, action, errno and line. uid 65534
 * cannot ask (ENOENT, as for a VM it cannot see). A request unanswered
 * when the VM fd closes is answered ESRCH.
 */
TEST(request_to_owner)
{
	struct hvx_request_done d;
	struct hvx_request r;
	struct hvx_nl nl, nl2;
	struct answer a;
	int sys, vm, p[2];
	uint32_t id;
	pid_t pid;

	REQUIRE_NL(&nl);
	sys = open("/dev/hvx", O_RDWR | O_CLOEXEC);
	if (sys < 0)
		SKIP(return, "/dev/hvx: %s", strerror(errno));
	vm = ioctl(sys, HVX_CREATE_VM, HVX_VM_NO_VCPUS);
	ASSERT_LE(0, vm) TH_LOG("HVX_CREATE_VM: %s", strerror(errno));
	id = hvx_nl_own_vm_id(&nl);
	ASSERT_NE(0, id);

	ASSERT_EQ(-EOPNOTSUPP, send_request(&nl, id, HVX_REQUEST_SAVE, "/var/a"));
	ASSERT_STREQ("the VM's owner takes no requests", nl.extack);
	ASSERT_EQ(-1, ioctl(vm, HVX_GET_REQUEST, &r));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_FALSE(vm_fd_readable(vm));

	ASSERT_EQ(0, send_request(&nl, id, HVX_REQUEST_SAVE, "/var/a"));
	ASSERT_TRUE(vm_fd_readable(vm));
	ASSERT_EQ(0, hvx_nl_open(&nl2));
	ASSERT_EQ(-EBUSY, send_request(&nl2, id, HVX_REQUEST_MIGRATE, "tcp::1"));
	ASSERT_STREQ("the VM's owner has a request in progress", nl2.extack);
	memset(&r, 0xff, sizeof(r));
	ASSERT_EQ(0, ioctl(vm, HVX_GET_REQUEST, &r)) TH_LOG("%s", strerror(errno));
	ASSERT_NE(0, r.id);
	ASSERT_EQ(HVX_REQUEST_SAVE, r.action);
	ASSERT_EQ(0, r.reserved[0] | r.reserved[1]);
	ASSERT_STREQ("/var/a", r.arg);
	ASSERT_FALSE(vm_fd_readable(vm));
	ASSERT_EQ(-1, ioctl(vm, HVX_GET_REQUEST, &r));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(-EBUSY, send_request(&nl2, id, HVX_REQUEST_MIGRATE, "tcp::1"));

	/* uid 65534 may not ask for root's VM. */
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct hvx_nl nn;
		int ret;

		close(p[0]);
		become_nobody();
		if (hvx_nl_open(&nn))
			child_fail(p[1], "cannot resolve the family");
		ret = send_request(&nn, id, HVX_REQUEST_SAVE, "/var/b");
		if (ret != -ENOENT)
			child_fail(p[1], "request for root's VM: %s, expected ENOENT",
				   ret ? strerrorname_np(-ret) : "accepted");
		_exit(0);
	}
	close(p[1]);
	check_child(_metadata, pid, p[0]);
	close(p[0]);

	memset(&d, 0, sizeof(d));
	d.id = r.id + 1;
	ASSERT_EQ(-1, ioctl(vm, HVX_REQUEST_DONE, &d));
	ASSERT_EQ(EINVAL, errno);
	d.id = r.id;
	d.error = -1;
	ASSERT_EQ(-1, ioctl(vm, HVX_REQUEST_DONE, &d));
	ASSERT_EQ(EINVAL, errno);
	d.error = 0;
	d.reserved[1] = 1;
	ASSERT_EQ(-1, ioctl(vm, HVX_REQUEST_DONE, &d));
	ASSERT_EQ(EINVAL, errno);
	d.reserved[1] = 0;
	memset(d.msg, 'x', sizeof(d.msg));
	ASSERT_EQ(-1, ioctl(vm, HVX_REQUEST_DONE, &d));
	ASSERT_EQ(EINVAL, errno);
	d.error = EIO;
	snprintf(d.msg, sizeof(d.msg), "cannot write /var/a");
	ASSERT_EQ(0, ioctl(vm, HVX_REQUEST_DONE, &d)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, wait_answer(&nl, &a));
	ASSERT_EQ(id, a.vm);
	ASSERT_EQ(HVX_REQUEST_SAVE, a.action);
	ASSERT_EQ(EIO, a.error);
	ASSERT_STREQ("cannot write /var/a", a.msg);
	/* Answered: the same id again is refused, the next request goes in. */
	ASSERT_EQ(-1, ioctl(vm, HVX_REQUEST_DONE, &d));
	ASSERT_EQ(EINVAL, errno);

	ASSERT_EQ(0, send_request(&nl2, id, HVX_REQUEST_MIGRATE, "tcp:127.0.0.1:1"));
	ASSERT_TRUE(vm_fd_readable(vm));
	close(vm);
	ASSERT_EQ(0, wait_answer(&nl2, &a));
	ASSERT_EQ(id, a.vm);
	ASSERT_EQ(HVX_REQUEST_MIGRATE, a.action);
	ASSERT_EQ(ESRCH, a.error);
	ASSERT_NE(0, a.msg[0]);
	ASSERT_EQ(-ENOENT, send_request(&nl, id, HVX_REQUEST_SAVE, "/var/a"));
	hvx_nl_close(&nl2);
	hvx_nl_close(&nl);
	close(sys);
}

TEST_HARNESS_MAIN
