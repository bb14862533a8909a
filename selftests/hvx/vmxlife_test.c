// SPDX-License-Identifier: GPL-2.0
/*
 * vmxlife_test - VMX root mode across the host's lifecycle events, with
 * VMs alive: CPU hotplug racing vCPU migration, suspend and resume (the
 * kernel's pm_test "core" level: every suspend step except the platform's
 * sleep), kvm_intel loading, unloading and holding VMX, and kexec.
 *
 * kexec ends the emulated machine's run, so it is not a test case:
 * selftests/vm/init.sh runs `vmxlife_test --kexec KERNEL INITRD` after the
 * suite. With a vCPU spinning in a guest it loads KERNEL and reboots into
 * it; the next kernel's /init reports how many CPUs came up, which
 * check.sh compares with the CPUs online here (a CPU left in VMX operation
 * blocks INIT and cannot be started).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <linux/reboot.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <termios.h>

#include "hvx_test.h"
#include "hvx_guest.h"

void guest_sync_forever(uint64_t start);

/* Guest code. */

/* SYNC(start), SYNC(start + 1), ... forever: every HVX_RUN returns the
 * next number, so a lost or repeated step shows. */
GUEST_CODE
void guest_sync_forever(uint64_t start)
{
	for (uint64_t i = start;; i++)
		GUEST_SYNC(i);
}

/* Host code. */

/* KVM's ioctls (linux/kvm.h); defined here so the tests only include hvx.h. */
#define KVMIO			0xAE
#define KVM_GET_API_VERSION	_IO(KVMIO, 0x00)
#define KVM_CREATE_VM		_IO(KVMIO, 0x01)
#define KVM_GET_VCPU_MMAP_SIZE	_IO(KVMIO, 0x04)
#define KVM_CREATE_VCPU		_IO(KVMIO, 0x41)
#define KVM_RUN			_IO(KVMIO, 0x80)
#define KVM_EXIT_IO		2

struct kvm_userspace_memory_region {
	uint32_t slot;
	uint32_t flags;
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
};

#define KVM_SET_USER_MEMORY_REGION _IOW(KVMIO, 0x46, struct kvm_userspace_memory_region)

/* The start of struct kvm_run, and its io exit at offset 32. */
struct kvm_run_io {
	uint8_t request_interrupt_window;
	uint8_t immediate_exit;
	uint8_t padding1[6];
	uint32_t exit_reason;
	uint8_t ready_for_interrupt_injection;
	uint8_t if_flag;
	uint16_t flags;
	uint64_t cr8;
	uint64_t apic_base;
	uint8_t direction;
	uint8_t size;
	uint16_t port;
	uint32_t count;
	uint64_t data_offset;
};

/* --- The kernel log ----------------------------------------------------- */

/* /dev/kmsg positioned after the last record: reads return newer ones. */
static int kmsg_open_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

#define KMSG_LEN	(256 * 1024)

/* The records written since @fd was opened or last read, one a line, in a
 * malloc'ed string (records that printk's ring overwrote meanwhile are
 * skipped). */
static char *kmsg_read(int fd)
{
	char *out = calloc(1, KMSG_LEN), rec[2048];
	size_t used = 0;

	if (!out)
		return NULL;
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);

		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		if (used + n + 1 < KMSG_LEN) {
			memcpy(out + used, rec, n);
			used += n;
		}
	}
	out[used] = 0;
	return out;
}

/* The line of @log containing @needle, in @line (empty if none). */
static bool log_has(const char *log, const char *needle, char *line, size_t len)
{
	const char *p = log ? strstr(log, needle) : NULL, *b, *e;

	if (line && len)
		line[0] = 0;
	if (!p)
		return false;
	for (b = p; b > log && b[-1] != '\n'; b--)
		;
	e = strchr(p, '\n');
	if (!e)
		e = p + strlen(p);
	if (line && len)
		snprintf(line, len, "%.*s", (int)(e - b), b);
	return true;
}

/* What the kernel prints when it WARNs or oopses. */
static bool log_has_trouble(const char *log, char *line, size_t len)
{
	static const char *const signs[] = {
		"WARNING:", "cut here", "BUG:", "Oops", "general protection",
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(signs); i++)
		if (log_has(log, signs[i], line, len))
			return true;
	return false;
}

/* --- CPUs ------------------------------------------------------------- */

static int set_cpu_online(int cpu, int on)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	return write_str(path, on ? "1" : "0");
}

static void unpin(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* --- CPU hotplug racing vCPU migration --------------------------------- */

struct hop_thread {
	struct vcpu *vcpu;
	atomic_bool stop;
	atomic_uint runs;
	uint64_t expect;		/* next SYNC value */
	bool bad;			/* a SYNC value out of sequence */
	uint64_t got;
};

/*
 * Run the vCPU over and over, moving between CPU 0 and CPU 1 (when CPU 1
 * is online) between runs: each move makes the next HVX_RUN clear the
 * VMCS on the CPU it left by IPI, while the main thread takes that CPU
 * offline and back.
 */
static void *hop_thread(void *arg)
{
	struct hop_thread *t = arg;

	for (unsigned int i = 0; !atomic_load(&t->stop); i++) {
		uint64_t v;

		if (pin_cpu(i & 1))
			pin_cpu(0);
		v = vcpu_run_sync(t->vcpu);
		if (v != t->expect) {
			t->bad = true;
			t->got = v;
			break;
		}
		t->expect++;
		atomic_fetch_add(&t->runs, 1);
	}
	return NULL;
}

TEST(hotplug_races_vcpu_migration)
{
	struct hop_thread t = { .expect = 100 };
	struct vcpu *vcpu;
	pthread_t tid;
	struct vm *vm;
	int kmsg = kmsg_open_end();
	char trouble[256];

	REQUIRE_VMX();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU online: needs two (bochs-smp has them)");
	vcpu = vm_create_long(&vm, guest_sync_forever, 100);
	t.vcpu = vcpu;
	ASSERT_EQ(0, pthread_create(&tid, NULL, hop_thread, &t));
	pin_cpu(0);
	for (int i = 0; i < 8; i++) {
		unsigned int before = atomic_load(&t.runs);

		ASSERT_EQ(0, set_cpu_online(1, 0)) TH_LOG("offline cpu1: %m");
		msleep(5);
		ASSERT_EQ(0, set_cpu_online(1, 1)) TH_LOG("online cpu1: %m");
		for (int w = 0; w < 2000 && atomic_load(&t.runs) < before + 4; w++)
			msleep(1);
		ASSERT_LE(before + 4, atomic_load(&t.runs))
			TH_LOG("the vCPU stopped making progress (cycle %d)", i);
	}
	atomic_store(&t.stop, true);
	pthread_join(tid, NULL);
	unpin();
	ASSERT_FALSE(t.bad) TH_LOG("SYNC %llu, expected %llu",
				   (unsigned long long)t.got,
				   (unsigned long long)t.expect);
	vm_free(vm);
	if (kmsg >= 0) {
		char *log = kmsg_read(kmsg);

		ASSERT_FALSE(log_has_trouble(log, trouble, sizeof(trouble)))
			TH_LOG("kernel log: %s", trouble);
		free(log);
		close(kmsg);
	}
}

/* --- Suspend and resume ----------------------------------------------- */

/*
 * A VM lives through a suspend and resume cycle: hvx leaves VMX operation
 * before the last CPU suspends and enters it again on resume, CPU by CPU,
 * and the VM's vCPUs run afterwards on every CPU. With pm_test=core the
 * kernel runs every step of suspend (freezing tasks, suspending devices,
 * taking the other CPUs offline, the syscore suspend callbacks) and of
 * resume, without the platform actually sleeping. hvx's pr_debug lines
 * (turned on through dynamic debug) show that its callbacks ran.
 */
TEST(suspend_resume_with_vm)
{
	char states[128];
	const char *state;
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	bool dyndbg;
	struct vcpu *vcpu;
	struct vm *vm;
	int kmsg, ret;

	REQUIRE_VMX();
	if (access("/sys/power/pm_test", W_OK))
		SKIP(return, "no /sys/power/pm_test (kernel without CONFIG_PM_DEBUG)");
	ASSERT_EQ(0, read_str("/sys/power/state", states, sizeof(states)));
	/* "mem" must mean S3 ("deep"): pm_test does not apply to s2idle. */
	if (strstr(states, "mem") &&
	    !write_str("/sys/power/mem_sleep", "deep"))
		state = "mem";
	else if (strstr(states, "disk"))
		state = "disk";
	else
		SKIP(return, "/sys/power/state offers neither S3 nor disk: %s", states);
	dyndbg = !write_str("/sys/kernel/debug/dynamic_debug/control",
			    "module hvx +p");
	if (!dyndbg)
		TH_LOG("no dynamic debug: the syscore callbacks are not checked by their messages");
	/* pm_test's 5 s wait (suspend) is 5 s of emulated busy waiting. */
	write_str("/sys/module/suspend/parameters/pm_test_delay", "0");

	vcpu = vm_create_long(&vm, guest_sync_forever, 7);
	for (int cpu = ncpus - 1; cpu >= 0; cpu--) {
		pin_cpu(cpu);	/* VMCSs active where they will be lost */
		ASSERT_EQ(7 + ncpus - 1 - cpu, vcpu_run_sync(vcpu));
	}
	unpin();

	kmsg = kmsg_open_end();
	ASSERT_EQ(0, write_str("/sys/power/pm_test", "core"));
	ret = write_str("/sys/power/state", state);
	write_str("/sys/power/pm_test", "none");
	ASSERT_EQ(0, ret) TH_LOG("echo %s > /sys/power/state: %s", state,
				 strerrorname_np(-ret));
	if (kmsg >= 0) {
		char *log = kmsg_read(kmsg), line[512];

		close(kmsg);
		ASSERT_FALSE(log_has_trouble(log, line, sizeof(line)))
			TH_LOG("kernel log: %s", line);
		if (dyndbg) {
			ASSERT_TRUE(log_has(log, "hvx: suspend: left VMX operation on CPU",
					    NULL, 0))
				TH_LOG("no \"hvx: suspend\" line in the kernel log");
			ASSERT_TRUE(log_has(log, "hvx: resume: in VMX operation again on CPU",
					    NULL, 0))
				TH_LOG("no \"hvx: resume\" line in the kernel log");
		}
		free(log);
	}

	/* The vCPU continues, on every CPU (VMXON again on each). */
	for (int cpu = 0; cpu < ncpus; cpu++) {
		ASSERT_EQ(0, pin_cpu(cpu)) TH_LOG("CPU %d is not back", cpu);
		ASSERT_EQ(7 + ncpus + cpu, vcpu_run_sync(vcpu));
	}
	unpin();
	vm_free(vm);

	/* And a new VM works. */
	vcpu = vm_create_long(&vm, guest_sync_forever, 1);
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	vm_free(vm);
	if (dyndbg)
		write_str("/sys/kernel/debug/dynamic_debug/control", "module hvx -p");
}

/* --- kvm_intel -------------------------------------------------------- */

FIXTURE(kvm) {
	bool loaded[NR_KVM_MODS];	/* by this test, so it removes them */
	int kmsg;
};

FIXTURE_SETUP(kvm)
{
	memset(self->loaded, 0, sizeof(self->loaded));
	self->kmsg = kmsg_open_end();
}

static void unload_kvm(FIXTURE_DATA(kvm) *self)
{
	for (int i = NR_KVM_MODS - 1; i >= 0; i--) {
		if (!self->loaded[i])
			continue;
		if (!unload_module(kvm_mods[i].name))
			self->loaded[i] = false;
	}
}

FIXTURE_TEARDOWN(kvm)
{
	unload_kvm(self);
	if (self->kmsg >= 0)
		close(self->kmsg);
}

/* 0, or why KVM's modules cannot be loaded here (a SKIP reason). */
static const char *load_kvm(struct __test_metadata *_metadata,
			    FIXTURE_DATA(kvm) *self, char *why, size_t len)
{
	const char *dir = getenv("HVX_KVM_DIR");
	char path[4096];

	if (!dir)
		return "HVX_KVM_DIR (directory of kvm.ko etc.) is not set";
	for (unsigned int i = 0; i < NR_KVM_MODS; i++) {
		int ret;

		snprintf(path, sizeof(path), "%s/%s", dir, kvm_mods[i].file);
		ret = load_module(path);
		if (ret == -EEXIST)
			continue;	/* already loaded: leave it so */
		if (ret) {
			snprintf(why, len, "finit_module(%s/%s): %s", dir,
				 kvm_mods[i].file, strerrorname_np(-ret));
			return why;
		}
		self->loaded[i] = true;
	}
	return NULL;
}

static void run_hvx_guest(struct __test_metadata *_metadata, uint64_t n)
{
	struct vcpu *vcpu;
	struct vm *vm;

	vcpu = vm_create_long(&vm, guest_sync_forever, n);
	ASSERT_EQ(n, vcpu_run_sync(vcpu));
	vm_free(vm);
}

/*
 * While KVM holds VMX root mode (on 6.1 while a KVM VM exists; on 6.12+
 * from kvm_intel's load), HVX_CREATE_VM fails with EBUSY and the kernel
 * log says how to make room; once the KVM VM is gone, hvx works again.
 */
TEST_F(kvm, busy_names_the_fix)
{
	char why[512], line[512], *log;
	const char *skip;
	int kvm_fd, kvm_vm, hvx_fd, vm_fd = -1, err = 0;
	bool found;

	REQUIRE_VMX();
	if (hvx_vmx_shared())
		SKIP(return, "hvx shares VMX with KVM on this kernel (vmx_shared=Y): no EBUSY to see; runs_beside_kvm covers it");
	skip = load_kvm(_metadata, self, why, sizeof(why));
	if (skip)
		SKIP(return, "%s", skip);
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, kvm_fd) TH_LOG("/dev/kvm: %s", strerrorname_np(errno));
	ASSERT_EQ(12, ioctl(kvm_fd, KVM_GET_API_VERSION, 0));
	kvm_vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	ASSERT_LE(0, kvm_vm) TH_LOG("KVM_CREATE_VM: %s", strerrorname_np(errno));

	hvx_fd = hvx_open();
	ASSERT_ERRNO(EBUSY, ioctl(hvx_fd, HVX_CREATE_VM, 0));
	ASSERT_LE(0, self->kmsg);
	log = kmsg_read(self->kmsg);
	found = log_has(log, "rmmod kvm_intel", line, sizeof(line));
	free(log);
	ASSERT_TRUE(found) TH_LOG("no log line naming `rmmod kvm_intel`");
	ASSERT_NE(NULL, strstr(line, "kvm.enable_virt_at_load=0")) TH_LOG("%s", line);

	close(kvm_vm);
	if (kvm_takes_vmx_at_load()) {
		/* 6.12+: KVM keeps VMX until kvm_intel goes, as the line says. */
		ASSERT_ERRNO(EBUSY, ioctl(hvx_fd, HVX_CREATE_VM, 0));
		close(kvm_fd);		/* /dev/kvm open keeps kvm_intel in */
		kvm_fd = -1;
		ASSERT_EQ(0, unload_module("kvm_intel"));
		self->loaded[NR_KVM_MODS - 1] = false;
	}
	for (int i = 0; i < 200; i++) {
		vm_fd = ioctl(hvx_fd, HVX_CREATE_VM, 0);
		err = errno;
		if (vm_fd >= 0 || err != EBUSY)
			break;
		msleep(10);
	}
	ASSERT_LE(0, vm_fd) TH_LOG("HVX_CREATE_VM after the KVM VM is gone: %s",
				   strerrorname_np(err));
	close(vm_fd);
	close(hvx_fd);
	if (kvm_fd >= 0)
		close(kvm_fd);
	run_hvx_guest(_metadata, 5);
}

/*
 * kvm_intel loads and unloads while hvx has a VM, and hvx creates and
 * destroys VMs while kvm_intel is loaded. The kernel's emergency callback
 * slot, which both want, changes hands each time without a WARN (the
 * kernel WARNs on a second registration and on unregistering someone
 * else's callback); hvx's VMs keep running throughout.
 */
TEST_F(kvm, emergency_slot_changes_hands)
{
	char why[512], trouble[512], *log;
	const char *skip;
	struct vcpu *vcpu;
	struct vm *vm;
	int kvm_fd, kvm_vm;

	REQUIRE_VMX();
	ASSERT_LE(0, self->kmsg);
	vcpu = vm_create_long(&vm, guest_sync_forever, 10);
	ASSERT_EQ(10, vcpu_run_sync(vcpu));		/* hvx holds VMX */

	skip = load_kvm(_metadata, self, why, sizeof(why));
	if (skip) {
		vm_free(vm);
		SKIP(return, "%s", skip);
	}
	ASSERT_EQ(11, vcpu_run_sync(vcpu));
	/*
	 * KVM cannot have VMX now (on 6.1: no KVM VM while hvx holds it),
	 * unless the two share the kernel's VMXON (vmx_shared=Y).
	 */
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, kvm_fd) TH_LOG("/dev/kvm: %s", strerrorname_np(errno));
	kvm_vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (kvm_vm >= 0)
		close(kvm_vm);
	if (hvx_vmx_shared()) {
		ASSERT_LE(0, kvm_vm) TH_LOG("KVM_CREATE_VM beside hvx: %s", strerrorname_np(errno));
	} else {
		ASSERT_GT(0, kvm_vm) TH_LOG("KVM created a VM while hvx holds VMX");
	}
	close(kvm_fd);
	ASSERT_EQ(12, vcpu_run_sync(vcpu));

	/* A second hvx VM while kvm_intel is loaded, gone again. */
	run_hvx_guest(_metadata, 20);

	unload_kvm(self);
	ASSERT_FALSE(self->loaded[NR_KVM_MODS - 1]) TH_LOG("rmmod kvm_intel failed");
	ASSERT_EQ(13, vcpu_run_sync(vcpu));
	vm_free(vm);

	/* kvm_intel loaded first, then hvx's VMs come and go. */
	skip = load_kvm(_metadata, self, why, sizeof(why));
	ASSERT_EQ(NULL, skip) TH_LOG("%s", skip);
	run_hvx_guest(_metadata, 30);
	unload_kvm(self);
	run_hvx_guest(_metadata, 40);

	log = kmsg_read(self->kmsg);
	ASSERT_FALSE(log_has_trouble(log, trouble, sizeof(trouble)))
		TH_LOG("kernel log: %s", trouble);
	free(log);
}

/* --- KVM and hvx running VMs at the same time ---------------------------- */

/* A KVM VM whose one vCPU, in real mode from reset, does OUT 0x10 with AL
 * counting up from 0: each KVM_RUN returns the next value. */
struct kvm_guest {
	int kvm, vm, vcpu;
	struct kvm_run_io *run;
	size_t run_size;
	void *mem;
	unsigned int next;	/* AL expected at the next exit */
	unsigned int runs;
	const char *bad;	/* what went wrong, or NULL */
	unsigned int got;
};

#define KVM_GUEST_MEM	0x10000		/* mapped at 4 GiB - 64 KiB */

static const char *kvm_guest_create(struct kvm_guest *g)
{
	/* At the reset vector FFFFFFF0H: out %al,$0x10; inc %al; jmp .-4 */
	static const uint8_t code[] = { 0xe6, 0x10, 0xfe, 0xc0, 0xeb, 0xfa };
	struct kvm_userspace_memory_region r = { 0 };
	int sz;

	memset(g, 0, sizeof(*g));
	g->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->kvm < 0)
		return "open /dev/kvm";
	g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	if (g->vm < 0)
		return "KVM_CREATE_VM";
	g->mem = mmap(NULL, KVM_GUEST_MEM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED)
		return "mmap of guest memory";
	memcpy((char *)g->mem + KVM_GUEST_MEM - 16, code, sizeof(code));
	r.guest_phys_addr = 0x100000000ULL - KVM_GUEST_MEM;
	r.memory_size = KVM_GUEST_MEM;
	r.userspace_addr = (uintptr_t)g->mem;
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &r))
		return "KVM_SET_USER_MEMORY_REGION";
	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	if (g->vcpu < 0)
		return "KVM_CREATE_VCPU";
	sz = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0)
		return "KVM_GET_VCPU_MMAP_SIZE";
	g->run_size = sz;
	g->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
	if (g->run == MAP_FAILED)
		return "mmap of kvm_run";
	return NULL;
}

static void kvm_guest_free(struct kvm_guest *g)
{
	if (g->run && g->run != MAP_FAILED)
		munmap(g->run, g->run_size);
	if (g->mem && g->mem != MAP_FAILED)
		munmap(g->mem, KVM_GUEST_MEM);
	if (g->vcpu > 0)
		close(g->vcpu);
	if (g->vm > 0)
		close(g->vm);
	if (g->kvm > 0)
		close(g->kvm);
}

struct beside {
	struct kvm_guest kvm;
	struct vcpu *hvx;
	unsigned int n;		/* runs each */
	uint64_t hvx_next;
	unsigned int hvx_runs;
	bool hvx_bad;
	uint64_t hvx_got;
	pthread_barrier_t start;
};

/*
 * Both threads on CPU 0, yielding after every run: the two hypervisors'
 * VMCSs take turns as that CPU's current VMCS, every switch a context
 * switch between them. A VMCS left current by the wrong one shows as a
 * wrong value, a failed run, or KVM's VMREAD/VMWRITE errors in the log.
 */
static void *kvm_side(void *arg)
{
	struct beside *b = arg;
	struct kvm_guest *g = &b->kvm;

	pin_cpu(0);
	pthread_barrier_wait(&b->start);
	for (unsigned int i = 0; i < b->n; i++) {
		unsigned int al;

		if (ioctl(g->vcpu, KVM_RUN, 0)) {
			g->bad = "KVM_RUN failed";
			break;
		}
		if (g->run->exit_reason != KVM_EXIT_IO || g->run->port != 0x10) {
			g->bad = "KVM exit not the OUT to port 0x10";
			g->got = g->run->exit_reason;
			break;
		}
		al = *((uint8_t *)g->run + g->run->data_offset);
		if (al != (g->next & 0xff)) {
			g->bad = "KVM guest's AL out of sequence";
			g->got = al;
			break;
		}
		g->next++;
		g->runs++;
		sched_yield();
	}
	return NULL;
}

static void *hvx_side(void *arg)
{
	struct beside *b = arg;

	pin_cpu(0);
	pthread_barrier_wait(&b->start);
	for (unsigned int i = 0; i < b->n; i++) {
		uint64_t v = vcpu_run_sync(b->hvx);

		if (v != b->hvx_next) {
			b->hvx_bad = true;
			b->hvx_got = v;
			break;
		}
		b->hvx_next++;
		b->hvx_runs++;
		sched_yield();
	}
	return NULL;
}

/*
 * Where hvx shares the kernel's VMXON with KVM (7.x with kmod/patches/),
 * a KVM VM and a hvx VM run at the same time, on the same CPU, each seeing
 * exactly its own guest's progress, and nothing in the kernel log.
 */
TEST_F(kvm, runs_beside_kvm)
{
	char why[512], trouble[512], *log;
	struct beside b = { .n = 300 };
	pthread_t kt, ht;
	const char *skip, *err;
	struct vm *vm;

	REQUIRE_VMX();
	if (!hvx_vmx_shared())
		SKIP(return, "hvx takes turns with kvm_intel on this kernel (vmx_shared=N); VMs side by side need 7.x with kmod/patches/");
	skip = load_kvm(_metadata, self, why, sizeof(why));
	if (skip)
		SKIP(return, "%s", skip);
	ASSERT_LE(0, self->kmsg);
	err = kvm_guest_create(&b.kvm);
	ASSERT_EQ(NULL, err) TH_LOG("%s: %s", err, strerrorname_np(errno));
	b.hvx = vm_create_long(&vm, guest_sync_forever, 0);
	ASSERT_EQ(0, pthread_barrier_init(&b.start, NULL, 2));
	ASSERT_EQ(0, pthread_create(&kt, NULL, kvm_side, &b));
	ASSERT_EQ(0, pthread_create(&ht, NULL, hvx_side, &b));
	pthread_join(kt, NULL);
	pthread_join(ht, NULL);
	pthread_barrier_destroy(&b.start);

	EXPECT_EQ(NULL, b.kvm.bad) TH_LOG("%s (got %u after %u runs)", b.kvm.bad,
					  b.kvm.got, b.kvm.runs);
	EXPECT_EQ(b.n, b.kvm.runs);
	EXPECT_FALSE(b.hvx_bad) TH_LOG("hvx SYNC %llu, expected %llu",
				       (unsigned long long)b.hvx_got,
				       (unsigned long long)b.hvx_next);
	EXPECT_EQ(b.n, b.hvx_runs);
	kvm_guest_free(&b.kvm);
	vm_free(vm);
	unpin();

	log = kmsg_read(self->kmsg);
	EXPECT_FALSE(log_has_trouble(log, trouble, sizeof(trouble)))
		TH_LOG("kernel log: %s", trouble);
	/* KVM's VMX instruction errors (vmx_insn_failed()). */
	for (unsigned int i = 0; i < 4; i++) {
		static const char *const insn[] = {
			"vmread failed", "vmwrite failed", "vmptrld failed", "vmclear failed",
		};

		EXPECT_FALSE(log_has(log, insn[i], trouble, sizeof(trouble)))
			TH_LOG("kernel log: %s", trouble);
	}
	free(log);
}

/* --- kexec (run by init.sh after the suite, not by the harness) -------- */

static uint64_t spin_counter;

/* Runs the guest until the machine goes down. */
static void *spin_thread(void *arg)
{
	struct vcpu *vcpu = arg;

	pin_cpu(sysconf(_SC_NPROCESSORS_ONLN) - 1);
	for (;;)
		__vcpu_run(vcpu);
	return NULL;
}

/* A marker line for check.sh, on the UART before anything else happens. */
#define KEXEC_MARK(what, fmt, ...) do {					\
	printf("### HVX-KEXEC-" what " " fmt "\n", ##__VA_ARGS__);	\
	fflush(stdout);							\
	tcdrain(STDOUT_FILENO);						\
} while (0)

/*
 * vmxlife_test --kexec KERNEL INITRD: load KERNEL (a bzImage) and INITRD
 * with this kernel's command line, start a vCPU spinning in a guest on the
 * last CPU, and reboot into KERNEL with the VM alive. Prints
 * "### HVX-KEXEC-GO cpus=N" just before; returns only on failure
 * ("### HVX-KEXEC-FAIL why", exit 1) or when there is nothing to test
 * ("### HVX-KEXEC-SKIP why", exit 4).
 */
static int kexec_main(int argc, char **argv)
{
	char cmdline[2048];
	struct vcpu *vcpu;
	pthread_t tid;
	struct vm *vm;
	int kfd, ifd, err;
	char *p;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (argc != 4) {
		KEXEC_MARK("FAIL", "usage: %s --kexec KERNEL INITRD", argv[0]);
		return 1;
	}
	err = hvx_vmx_errno();
	if (err) {
		KEXEC_MARK("SKIP", "hvx cannot create VMs here: %s", strerrorname_np(err));
		return 4;
	}
	if (read_str("/proc/cmdline", cmdline, sizeof(cmdline))) {
		KEXEC_MARK("FAIL", "cannot read /proc/cmdline");
		return 1;
	}
	cmdline[strcspn(cmdline, "\n")] = 0;
	/* The next kernel's boot on the console, to see why if it fails. */
	p = strstr(cmdline, " quiet");
	if (p)
		memmove(p, p + 6, strlen(p + 6) + 1);
	kfd = open(argv[2], O_RDONLY | O_CLOEXEC);
	ifd = open(argv[3], O_RDONLY | O_CLOEXEC);
	if (kfd < 0 || ifd < 0) {
		KEXEC_MARK("FAIL", "cannot open %s or %s: %m", argv[2], argv[3]);
		return 1;
	}
	/*
	 * Not a hang if nothing follows for minutes in Bochs: the kernel
	 * reads, checks and hashes the bzImage and every segment, about
	 * 70 s of Bochs guest time, several minutes of wall time in
	 * bochs-smp (selftests/README.md).
	 */
	printf("# kexec: loading %s\n", argv[2]);
	fflush(stdout);
	if (syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1, cmdline, 0UL)) {
		KEXEC_MARK("FAIL", "kexec_file_load(%s): %m", argv[2]);
		return 1;
	}
	printf("# kexec: %s loaded\n", argv[2]);
	fflush(stdout);

	vcpu = vm_create_long(&vm, guest_spin, (uint64_t)&spin_counter);
	if (pthread_create(&tid, NULL, spin_thread, vcpu)) {
		KEXEC_MARK("FAIL", "pthread_create failed");
		return 1;
	}
	for (int i = 0; i < 10000; i++) {
		if (__atomic_load_n(&guest_var(vm, spin_counter), __ATOMIC_RELAXED))
			break;
		msleep(1);
	}
	if (!__atomic_load_n(&guest_var(vm, spin_counter), __ATOMIC_RELAXED)) {
		KEXEC_MARK("FAIL", "the guest did not start spinning");
		return 1;
	}
	printf("# kexec: guest spinning on CPU %ld; rebooting\n", ncpus - 1);
	/* The old kernel's shutdown messages on the console too. */
	write_str("/proc/sys/kernel/printk", "7");
	KEXEC_MARK("GO", "cpus=%ld", ncpus);
	sync();
	reboot(LINUX_REBOOT_CMD_KEXEC);
	KEXEC_MARK("FAIL", "reboot(LINUX_REBOOT_CMD_KEXEC): %m");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--kexec"))
		return kexec_main(argc, argv);
	return test_harness_run(argc, argv);
}
