// SPDX-License-Identifier: GPL-2.0
/*
 * spec_test - the speculation barriers at the VM entry/exit boundary
 * (vmx/spec.c, vmx/vmenter.S): each barrier's counter moves exactly as
 * the state in /sys/module/hvx/parameters/mitigations says, for the
 * host's own choice and for module parameters that override it (the
 * module is reloaded from $HVX_KO with finit_module(2)); a barrier that
 * cannot be applied refuses VM creation unless spec_unsafe=1; an IBPB
 * comes when a CPU switches vCPUs and not when one vCPU re-enters; a
 * hostile guest's IA32_SPEC_CTRL never stays in the host's MSR.
 *
 * The emulators have no speculation: what is asserted is what ran
 * (counters), and a feature the emulated CPU lacks is a skip that says
 * so. The process is pinned to CPU 0 so that "this CPU" is one CPU.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"

#define MITIGATIONS	"/sys/module/hvx/parameters/mitigations"
#define L1TF_FILE	"/sys/devices/system/cpu/vulnerabilities/l1tf"
#define EXIT_REASON_MSR_WRITE	32

/* guest_cpuids() executes this many CPUIDs (each an exit), then DONE. */
#define SPEC_CPUIDS	200

#define MSR_SPEC_CTRL	0x48
#define SPEC_IBRS	(1ULL << 0)
#define SPEC_STIBP	(1ULL << 1)
#define SPEC_SSBD	(1ULL << 2)

/* Guest code. */

GUEST_CODE
static void guest_cpuids(uint64_t unused)
{
	uint32_t a, b, c, d;

	(void)unused;
	for (int i = 0; i < SPEC_CPUIDS; i++)
		cpuid(0, 0, &a, &b, &c, &d);
	GUEST_DONE();
}

/*
 * A guest that plays with IA32_SPEC_CTRL: GUEST_SYNC(0) if CPUID offers
 * no IBRS (no MSR); else, for each value, write it, read it back, and
 * GUEST_SYNC(value) so that the host can look at its own MSR meanwhile.
 * The values drop IBRS after having set it, as an attacker would.
 */
#define SPEC_STEPS	6

GUEST_CODE
static uint64_t guest_step_value(unsigned int i)
{
	switch (i) {
	case 0: return SPEC_SSBD;
	case 2: return SPEC_IBRS | SPEC_SSBD;
	case 3: return SPEC_STIBP;
	case 5: return SPEC_SSBD;
	}
	return 0;
}

GUEST_CODE
static void guest_spec_ctrl(uint64_t unused)
{
	uint32_t a, b, c, d;
	uint64_t v, val;

	(void)unused;
	cpuid(7, 0, &a, &b, &c, &d);
	if (!(d & (1u << 26))) {
		GUEST_SYNC(~0ULL);
		GUEST_DONE();
	}
	for (unsigned int i = 0; i < SPEC_STEPS; i++) {
		val = guest_step_value(i);
		/* The host masks what its CPU lacks: #GP is then fine. */
		if (guest_wrmsr_safe(MSR_SPEC_CTRL, val))
			continue;
		GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_SPEC_CTRL, &v));
		GUEST_ASSERT_EQ(val, v);
		GUEST_SYNC(val);
		/* Still the guest's value after a round trip to the host. */
		GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_SPEC_CTRL, &v));
		GUEST_ASSERT_EQ(val, v);
	}
	GUEST_DONE();
}

/* GUEST_SYNC(i) for i = 0, 1, 2, ...: one return to the host per run. */
GUEST_CODE
static void guest_sync_loop(uint64_t unused)
{
	(void)unused;
	for (uint64_t i = 0; ; i++)
		GUEST_SYNC(i);
}

/* Host code. */

static const char * const barrier_names[] = {
	"rsb", "verw", "bhi", "ibpb", "vmscape", "l1d",
};

/* The state word of barrier @name in the listing, or "" if absent. */
static void state_of(const char *list, const char *name, char *out,
		     size_t len)
{
	size_t n = strlen(name);
	const char *p = list;

	out[0] = 0;
	while (p && *p) {
		if (!strncmp(p, name, n) && p[n] == ':' && p[n + 1] == ' ') {
			const char *s = p + n + 2, *e = s + strcspn(s, ":\n");

			if ((size_t)(e - s) < len) {
				memcpy(out, s, e - s);
				out[e - s] = 0;
			}
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

static bool has_cpu_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[8192], *tok, *save;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (tok = strtok_r(line, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			if (!strcmp(tok, flag))
				found = true;
		break;
	}
	fclose(f);
	return found;
}

/*
 * Run guest_cpuids() in a new VM, with the in-kernel LAPIC if @lapic; its
 * vCPU's statistics in @st. With the LAPIC, where the CPU has APIC
 * virtualization, the APIC-access page is in the EPT, on the list of
 * device ranges but RAM: it must not count as host MMIO.
 */
static void run_cpuids(struct __test_metadata *_metadata,
		       struct hvx_stats *st, bool lapic)
{
	struct hvx_platform_config c = { .devices = HVX_PLATFORM_LAPIC };
	struct vm *vm = vm_create_flags(0);
	struct vcpu *vcpu;
	int ret;

	if (lapic)
		ASSERT_EQ(0, ioctl(vm->fd, HVX_CREATE_PLATFORM, &c));
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_cpuids, 0);
	vcpu_run_done(vcpu);
	ret = hvx_nl_own_stats(st);
	ASSERT_EQ(0, ret) TH_LOG("statistics: %s", strerrorname_np(-ret));
	vm_free(vm);
	ASSERT_LE(SPEC_CPUIDS, st->exits);
	ASSERT_EQ(0, st->entry_failures);
}

/*
 * Every counter against the state the module reports: a barrier run at
 * each entry or exit counts once per exit (no entry failed), one that is
 * off never counts.
 */
static void check_counters(struct __test_metadata *_metadata,
			   const struct hvx_stats *st)
{
	char list[4096], s[32];
	uint64_t l1d = st->l1d_flushes_hw + st->l1d_flushes_sw;

	ASSERT_EQ(0, read_str(MITIGATIONS, list, sizeof(list)));

	state_of(list, "rsb", s, sizeof(s));
	if (!strcmp(s, "on") || !strcmp(s, "lite")) {
		EXPECT_EQ(st->exits, st->rsb_fills) TH_LOG("rsb %s", s);
	} else {
		EXPECT_EQ(0, st->rsb_fills) TH_LOG("rsb %s", s);
	}

	state_of(list, "verw", s, sizeof(s));
	/* "mmio": these VMs have no passthrough MMIO. */
	if (!strcmp(s, "on")) {
		EXPECT_EQ(st->exits, st->verw) TH_LOG("verw %s", s);
	} else {
		EXPECT_EQ(0, st->verw) TH_LOG("verw %s", s);
	}

	state_of(list, "bhi", s, sizeof(s));
	if (!strcmp(s, "on")) {
		EXPECT_EQ(st->exits, st->bhi_clears) TH_LOG("bhi %s", s);
	} else {
		EXPECT_EQ(0, st->bhi_clears) TH_LOG("bhi %s", s);
	}

	state_of(list, "l1d", s, sizeof(s));
	if (!strcmp(s, "on")) {
		EXPECT_EQ(st->exits, l1d) TH_LOG("l1d %s", s);
	} else if (!strcmp(s, "cond")) {
		/* The first entry, and after EPT violations, not per CPUID. */
		EXPECT_LE(1, l1d);
		EXPECT_GT(st->exits, l1d) TH_LOG("l1d cond flushed every entry");
	} else {
		EXPECT_EQ(0, l1d) TH_LOG("l1d %s", s);
	}
	if (has_cpu_flag("flush_l1d")) {
		EXPECT_EQ(0, st->l1d_flushes_sw);
	} else {
		EXPECT_EQ(0, st->l1d_flushes_hw);
	}

	/*
	 * A new vCPU on CPU 0, which last ran another one or none: one IBPB
	 * at its first load (which may come before its statistics start),
	 * none as it re-enters.
	 */
	state_of(list, "ibpb", s, sizeof(s));
	if (!strcmp(s, "on")) {
		EXPECT_GE(1, st->ibpb_switch) TH_LOG("ibpb %s", s);
	} else {
		EXPECT_EQ(0, st->ibpb_switch) TH_LOG("ibpb %s", s);
	}

	state_of(list, "vmscape", s, sizeof(s));
	if (!strcmp(s, "on")) {
		EXPECT_LE(1, st->ibpb_exit_to_user);
	} else {
		EXPECT_EQ(0, st->ibpb_exit_to_user) TH_LOG("vmscape %s", s);
	}
}

/* The listing names every barrier with a known state. */
TEST(listing)
{
	static const char * const states[] = {
		"off", "on", "lite", "mmio", "cond", "unavailable", "skipped",
	};
	char list[4096], s[32], path[128];

	REQUIRE_HVX();
	ASSERT_EQ(0, read_str(MITIGATIONS, list, sizeof(list)))
		TH_LOG("%s", MITIGATIONS);
	for (size_t i = 0; i < ARRAY_SIZE(barrier_names); i++) {
		bool known = false;

		state_of(list, barrier_names[i], s, sizeof(s));
		for (size_t j = 0; j < ARRAY_SIZE(states); j++)
			known |= !strcmp(s, states[j]);
		EXPECT_TRUE(known) TH_LOG("%s: state \"%s\"", barrier_names[i], s);
		snprintf(path, sizeof(path), "/sys/module/hvx/parameters/spec_%s",
			 barrier_names[i]);
		EXPECT_EQ(0, read_str(path, s, sizeof(s))) TH_LOG("%s", path);
	}
	state_of(list, "vms", s, sizeof(s));
	EXPECT_TRUE(!strcmp(s, "allowed") || !strcmp(s, "refused"));
	TH_LOG("%s", list);
}

/*
 * An NMI that causes a VM exit reaches the host's handler through the
 * kernel's entry for the way it runs: with FRED (7.x with kmod/patches/,
 * x86_entry_from_kvm()) the NMI path is on and VMs are allowed. Where the
 * CPU has no FRED the other cases ran with FRED off, through the IDT.
 */
TEST(nmi_path_under_fred)
{
	char list[4096], s[32];

	REQUIRE_HVX();
	ASSERT_EQ(0, read_str(MITIGATIONS, list, sizeof(list)))
		TH_LOG("%s", MITIGATIONS);
	state_of(list, "nmi", s, sizeof(s));
	if (!has_cpu_flag("fred"))
		SKIP(return, "no FRED on this CPU (Bochs corei7_haswell_4770, QEMU TCG): NMI exits ran with FRED off, through the IDT entry (nmi: %s)",
		     s);
	EXPECT_STREQ("on", s) TH_LOG("%s", list);
	state_of(list, "vms", s, sizeof(s));
	EXPECT_STREQ("allowed", s) TH_LOG("%s", list);
}

/* "hvxctl mitigations" prints the listing as the module has it. */
/*
 * With no kvm_intel, the kernel's l1tf file describes hvx's L1D flush
 * ("VMX: ..."), as the module's listing states it, while hvx holds VMX
 * (a kvm_intel unloaded earlier in the run put the kernel's variable back
 * to "auto"; hvx sets it again when it takes VMX for a VM).
 */
TEST(l1tf_sysfs)
{
	char buf[256] = "", list[4096], s[32];
	const char *want, *vmx;
	struct vcpu *vcpu;
	struct vm *vm;

	if (!access("/sys/module/kvm_intel", F_OK))
		SKIP(return, "kvm_intel is loaded: the VMX part is KVM's");
	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_sync_loop, 0);
	ASSERT_LE(0, read_str(L1TF_FILE, buf, sizeof(buf)));
	vcpu_free(vcpu);
	vm_free(vm);
	if (!strncmp(buf, "Not affected", 12))
		SKIP(return, "the emulated CPU is not affected by L1TF: no VMX part");
	ASSERT_EQ(0, read_str(MITIGATIONS, list, sizeof(list)));
	state_of(list, "l1d", s, sizeof(s));
	vmx = strstr(buf, "VMX: ");
	ASSERT_NE(NULL, vmx) TH_LOG("l1tf: %s", buf);
	vmx += 5;
	want = !strcmp(s, "cond") ? "conditional cache flushes" :
	       !strcmp(s, "on") ? "cache flushes" : NULL;
	if (want) {
		ASSERT_EQ(0, strncmp(vmx, want, strlen(want)))
			TH_LOG("l1d %s, l1tf: %s", s, buf);
	} else {
		ASSERT_TRUE(!strncmp(vmx, "vulnerable", 10) ||
			    !strncmp(vmx, "flush not necessary", 19))
			TH_LOG("l1d %s, l1tf: %s", s, buf);
	}
}

TEST(hvxctl_mitigations)
{
	const char *tool = getenv("HVX_HVXCTL");
	char list[4096], out[4096], cmd[512];
	size_t n;
	FILE *p;

	REQUIRE_HVX();
	if (!tool || !*tool)
		SKIP(return, "HVX_HVXCTL is not set (make check sets it)");
	ASSERT_EQ(0, read_str(MITIGATIONS, list, sizeof(list)));
	snprintf(cmd, sizeof(cmd), "%s mitigations", tool);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	ASSERT_EQ(0, pclose(p));
	if (n && out[n - 1] == '\n')
		out[n - 1] = 0;
	EXPECT_STREQ(list, out);
}

/* With the module as the host loaded it (mitigations=auto or off). */
TEST(counters_as_loaded)
{
	struct hvx_stats st;

	REQUIRE_VMX();
	pin_cpu(0);
	run_cpuids(_metadata, &st, false);
	check_counters(_metadata, &st);
}

/* The module reloaded with parameters; put back as it was afterwards. */
FIXTURE(reload) {
	const char *ko;
};

FIXTURE_SETUP(reload)
{
	self->ko = NULL;
}

FIXTURE_TEARDOWN(reload)
{
	if (!self->ko)
		return;
	if (hvx_module_refcnt() >= 0 && !wait_for_refcnt(0, 5000))
		return;
	unload_module("hvx");
	if (load_module_params(self->ko, ""))
		TH_LOG("could not load %s again", self->ko);
}

#define REQUIRE_RELOAD(params) do {					\
	int __r;							\
									\
	REQUIRE_VMX();							\
	self->ko = getenv("HVX_KO");					\
	if (!self->ko || access(self->ko, R_OK)) {			\
		self->ko = NULL;					\
		SKIP(return, "HVX_KO (path of hvx.ko) is not set");	\
	}								\
	ASSERT_TRUE(wait_for_refcnt(0, 5000));				\
	__r = unload_module("hvx");					\
	ASSERT_EQ(0, __r) TH_LOG("delete_module: %s", strerrorname_np(-__r)); \
	__r = load_module_params(self->ko, params);				\
	ASSERT_EQ(0, __r) TH_LOG("finit_module(%s): %s", params,	\
				 strerrorname_np(-__r));		\
	pin_cpu(0);							\
} while (0)

TEST_F(reload, all_on)
{
	struct hvx_stats st;
	char list[4096], s[32];

	REQUIRE_RELOAD("spec_rsb=on spec_verw=on spec_bhi=on spec_l1d=always");
	ASSERT_EQ(0, read_str(MITIGATIONS, list, sizeof(list)));
	for (int i = 0; i < 3; i++) {
		state_of(list, barrier_names[i], s, sizeof(s));
		ASSERT_STREQ("on", s) TH_LOG("%s", barrier_names[i]);
	}
	state_of(list, "l1d", s, sizeof(s));
	ASSERT_STREQ("on", s);
	run_cpuids(_metadata, &st, false);
	check_counters(_metadata, &st);
	EXPECT_EQ(st.exits, st.rsb_fills);
	EXPECT_EQ(st.exits, st.verw);
	EXPECT_EQ(st.exits, st.bhi_clears);
	EXPECT_EQ(st.exits, st.l1d_flushes_hw + st.l1d_flushes_sw);
}

TEST_F(reload, all_off)
{
	struct hvx_stats st;

	REQUIRE_RELOAD("spec_rsb=off spec_verw=off spec_bhi=off spec_l1d=never spec_ibpb=off spec_vmscape=off");
	run_cpuids(_metadata, &st, false);
	check_counters(_metadata, &st);
	EXPECT_EQ(0, st.rsb_fills);
	EXPECT_EQ(0, st.verw);
	EXPECT_EQ(0, st.bhi_clears);
	EXPECT_EQ(0, st.l1d_flushes_hw + st.l1d_flushes_sw);
	EXPECT_EQ(0, st.ibpb_switch);
	EXPECT_EQ(0, st.ibpb_exit_to_user);
}

TEST_F(reload, lite_cond)
{
	struct hvx_stats st;
	char list[4096], s[32];

	REQUIRE_RELOAD("spec_rsb=lite spec_l1d=cond spec_verw=mmio");
	ASSERT_EQ(0, read_str(MITIGATIONS, list, sizeof(list)));
	state_of(list, "rsb", s, sizeof(s));
	ASSERT_STREQ("lite", s);
	state_of(list, "l1d", s, sizeof(s));
	ASSERT_STREQ("cond", s);
	run_cpuids(_metadata, &st, false);
	check_counters(_metadata, &st);
	EXPECT_EQ(st.exits, st.rsb_fills);
	EXPECT_EQ(0, st.verw);
	/* The APIC-access page is not host MMIO: still no VERW. */
	run_cpuids(_metadata, &st, true);
	EXPECT_EQ(0, st.verw);
}

/* A bad value is refused at load; nothing is left loaded. */
TEST_F(reload, bad_value)
{
	int r;

	REQUIRE_VMX();
	self->ko = getenv("HVX_KO");
	if (!self->ko || access(self->ko, R_OK)) {
		self->ko = NULL;
		SKIP(return, "HVX_KO (path of hvx.ko) is not set");
	}
	ASSERT_TRUE(wait_for_refcnt(0, 5000));
	ASSERT_EQ(0, unload_module("hvx"));
	r = load_module_params(self->ko, "spec_rsb=sometimes");
	EXPECT_EQ(-EINVAL, r);
	r = load_module_params(self->ko, "spec_verw=cond");
	EXPECT_EQ(-EINVAL, r);
	EXPECT_EQ(-1, hvx_module_refcnt());
}

/* One vCPU per VM, stopped at GUEST_SYNC: one HVX_RUN each time. */
static struct vcpu *sync_vm(struct vm **vm, uint32_t *id)
{
	struct vcpu *vcpu = vm_create_long(vm, guest_sync_loop, 0);
	struct hvx_nl nl;

	if (!hvx_nl_open(&nl)) {
		*id = hvx_nl_own_vm_id(&nl);
		hvx_nl_close(&nl);
	}
	return vcpu;
}

static uint64_t ibpbs(struct __test_metadata *_metadata, uint32_t id)
{
	struct hvx_nl_stats s;
	struct hvx_nl nl;

	if (hvx_nl_open(&nl))
		return ~0ULL;
	if (hvx_nl_get_stats(&nl, id, 0, &s, 1) != 1)
		s.st.ibpb_switch = ~0ULL;
	hvx_nl_close(&nl);
	return s.st.ibpb_switch;
}

/*
 * Two VMs taking turns on CPU 0 get an IBPB at every turn; one vCPU that
 * re-enters gets none. Where the CPU has no IBPB, spec_ibpb=on refuses
 * VM creation, and spec_unsafe=1 lets it through without IBPBs.
 */
TEST_F(reload, ibpb_switch)
{
	struct vcpu *a, *b;
	struct vm *va, *vb;
	uint32_t ida = 0, idb = 0;
	char list[4096], s[32];
	uint64_t base;
	int fd;

	REQUIRE_RELOAD("spec_ibpb=on");
	ASSERT_EQ(0, read_str(MITIGATIONS, list, sizeof(list)));
	state_of(list, "ibpb", s, sizeof(s));
	if (!strcmp(s, "unavailable")) {
		fd = hvx_open();
		ASSERT_ERRNO(EOPNOTSUPP, ioctl(fd, HVX_CREATE_VM, 0));
		close(fd);
		ASSERT_EQ(0, unload_module("hvx"));
		ASSERT_EQ(0, load_module_params(self->ko, "spec_ibpb=on spec_unsafe=1"));
		ASSERT_EQ(0, read_str(MITIGATIONS, list, sizeof(list)));
		state_of(list, "ibpb", s, sizeof(s));
		ASSERT_STREQ("skipped", s);
		a = sync_vm(&va, &ida);
		EXPECT_EQ(0, vcpu_run_sync(a));
		EXPECT_EQ(0, ibpbs(_metadata, ida));
		vm_free(va);
		SKIP(return, "the emulated CPU has no IBPB (no Bochs 2.7 model with VMX that boots 6.1 has it: selftests/README.md): refused, then skipped with spec_unsafe");
	}
	ASSERT_STREQ("on", s);

	a = sync_vm(&va, &ida);
	b = sync_vm(&vb, &idb);
	ASSERT_NE(0, ida);
	ASSERT_NE(ida, idb);
	EXPECT_EQ(0, vcpu_run_sync(a));
	EXPECT_EQ(0, vcpu_run_sync(b));
	base = ibpbs(_metadata, ida);
	for (uint64_t i = 1; i <= 10; i++) {
		EXPECT_EQ(i, vcpu_run_sync(a));
		EXPECT_EQ(i, vcpu_run_sync(b));
	}
	EXPECT_EQ(base + 10, ibpbs(_metadata, ida));
	base = ibpbs(_metadata, idb);
	for (uint64_t i = 11; i <= 20; i++)
		EXPECT_EQ(i, vcpu_run_sync(b));
	EXPECT_EQ(base, ibpbs(_metadata, idb)) TH_LOG("IBPB on re-entry");
	vm_free(vb);
	vm_free(va);
}

/* IA32_SPEC_CTRL of CPU 0 through the msr driver, or -errno. */
static int host_spec_ctrl(uint64_t *v)
{
	return host_msr(0, MSR_SPEC_CTRL, v, false);
}

/*
 * A guest writes IA32_SPEC_CTRL values, dropping IBRS after setting it;
 * after each exit the host's MSR holds the host's value, the guest
 * keeps its own, and after the first non-zero write its writes no
 * longer exit.
 */
TEST(hostile_spec_ctrl)
{
	struct hvx_stats st;
	struct vcpu *vcpu;
	uint64_t host, now, v;
	struct vm *vm;
	int ret, steps = 0;

	REQUIRE_VMX();
	pin_cpu(0);
	ret = host_spec_ctrl(&host);
	if (ret == -EIO)
		SKIP(return, "the emulated CPU has no IA32_SPEC_CTRL (RDMSR 0x48 faults; no Bochs 2.7 model with VMX that boots 6.1 has it: selftests/README.md)");
	if (ret)
		SKIP(return, "/dev/cpu/0/msr: %s (msr driver not loaded)",
		     strerrorname_np(-ret));

	vcpu = vm_create_long(&vm, guest_spec_ctrl, 0);
	for (;;) {
		struct ucall uc;

		if (vcpu_run_ucall(vcpu, &uc) == UCALL_DONE)
			break;
		v = uc.args[0];
		if (v == ~0ULL) {
			vcpu_run_done(vcpu);
			vm_free(vm);
			SKIP(return, "hvx offers the guest no IBRS (CPUID.7.EDX[26]): the emulated CPU has none (no Bochs 2.7 model with VMX that boots 6.1 has it: selftests/README.md)");
		}
		ASSERT_EQ(0, host_spec_ctrl(&now));
		EXPECT_EQ(host, now) TH_LOG("guest wrote 0x%llx",
					    (unsigned long long)v);
		steps++;
	}
	ASSERT_EQ(0, hvx_nl_own_stats(&st));
	/* The first non-zero write exits; later ones go straight through. */
	EXPECT_LT(0, steps);
	if (steps > 1) {
		EXPECT_GT(steps, st.exits_by_reason[EXIT_REASON_MSR_WRITE]);
	}
	vm_free(vm);
}

TEST_HARNESS_MAIN
