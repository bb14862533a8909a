// SPDX-License-Identifier: GPL-2.0
/*
 * smp_test - several vCPUs per VM, one thread each: APs started with
 * INIT/SIPI, IPIs to a vCPU that is running guest code, and HLT that
 * sleeps in the kernel until another thread queues an interrupt. The test
 * plays the local APIC's ICR: it turns the BSP's ICR writes (MMIO exits)
 * into HVX_SEND_IPI. A vCPU spinning with PAUSE yields its host CPU to a
 * preempted sibling (directed yield).
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/time.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"
#include "smp_guest.h"

#define SMP_IRQ_VECTOR		0x41
#define SMP_ICR_LO		0xfee00300	/* xAPIC ICR (SDM Vol. 3A 11.6.1) */
#define SMP_ICR_HI		0xfee00310

/* Guest code. */

volatile uint64_t guest_smp_irqs;

asm(".pushsection .text.guest, \"ax\", @progbits\n"
    ".globl guest_smp_irq_stub\n"
    "guest_smp_irq_stub:\n\t"
    "lock incq guest_smp_irqs(%rip)\n\t"
    "iretq\n"
    ".popsection");
extern const char guest_smp_irq_stub[];

/*
 * The BSP starts APs 1..n the way an OS does: INIT, then a Startup IPI
 * with the trampoline's page number, through the xAPIC ICR (SDM Vol. 3A
 * 9.4.4.1, 11.6.1), then waits until every AP has counted itself.
 */
GUEST_CODE
void guest_bsp_boot(uint64_t n_aps)
{
	volatile uint32_t *lo = (volatile uint32_t *)SMP_ICR_LO;
	volatile uint32_t *hi = (volatile uint32_t *)SMP_ICR_HI;
	volatile uint16_t *count = (volatile uint16_t *)GPA_BLOB_DATA;

	for (uint64_t i = 1; i <= n_aps; i++) {
		*hi = i << 24;
		*lo = 0x4500;			/* INIT, assert */
	}
	for (uint64_t i = 1; i <= n_aps; i++) {
		*hi = i << 24;
		*lo = 0x4600 | (GPA_BLOB >> 12);	/* Startup */
	}
	while (*count != n_aps)
		asm volatile("pause");
	GUEST_SYNC(*count);
	GUEST_DONE();
}

/* Interrupts on, then HLT: the vCPU sleeps until an interrupt arrives. */
GUEST_CODE
void guest_sti_hlt(uint64_t unused)
{
	(void)unused;
	asm volatile("sti; hlt; cli");
	GUEST_SYNC(guest_smp_irqs);
	GUEST_DONE();
}

/* Report CPUID.1:EBX, CPUID.1:EDX and CPUID.(4,0):EAX. */
GUEST_CODE
void guest_topology(uint64_t unused)
{
	uint32_t a, b1, c, d1, a4, b, d;

	(void)unused;
	cpuid(1, 0, &a, &b1, &c, &d1);
	cpuid(4, 0, &a4, &b, &c, &d);
	GUEST_SYNC_ARGS(b1, d1, a4, 0);
	GUEST_DONE();
}

volatile uint64_t guest_spin_flag;

/* A vCPU that holds a "lock" for @n iterations, without PAUSE or exits. */
GUEST_CODE
void guest_spin_holder(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		asm volatile("" : : : "memory");
	guest_spin_flag = 1;
	GUEST_DONE();
}

/* A vCPU that waits for it the way a spinlock does: a PAUSE loop. */
GUEST_CODE
void guest_spin_waiter(uint64_t unused)
{
	(void)unused;
	while (!guest_spin_flag)
		asm volatile("pause");
	GUEST_DONE();
}

/* Host code. */

struct ap {
	struct vcpu *vcpu;
	pthread_t thread;
	int started;		/* it reported SMP_AP_SYNC */
	int halted;		/* it ended in an HLT exit */
	int error;		/* errno of a failed HVX_RUN */
};

static void on_alarm(int sig)
{
	(void)sig;
}

/* An AP's thread: run until the trampoline halts (or a 20 s alarm). */
static void *ap_thread(void *arg)
{
	struct itimerval it = { .it_value = { .tv_sec = 20 } };
	struct ap *ap = arg;
	struct ucall uc;

	setitimer(ITIMER_REAL, &it, NULL);
	for (;;) {
		if (__vcpu_run(ap->vcpu)) {
			ap->error = errno;
			break;
		}
		if (ap->vcpu->run->exit_reason == HVX_EXIT_HLT) {
			ap->halted = 1;
			break;
		}
		if (get_ucall(ap->vcpu, &uc) == UCALL_SYNC &&
		    uc.args[0] == SMP_AP_SYNC)
			ap->started = 1;
		else
			break;
	}
	it.it_value.tv_sec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	return NULL;
}

static void set_mp_state(struct __test_metadata *_metadata,
			 struct vcpu *vcpu, uint32_t state)
{
	struct hvx_mp_state mp = { .state = state };

	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_SET_MP_STATE, &mp));
}

/* Run the BSP, forwarding its ICR writes, until its SYNC. */
static uint64_t run_bsp(struct __test_metadata *_metadata, struct vcpu *bsp)
{
	uint32_t dest = 0;
	struct ucall uc;

	for (;;) {
		struct hvx_run *run = bsp->run;
		struct hvx_ipi ipi = { 0 };
		uint32_t val;

		vcpu_run(bsp);
		if (run->exit_reason != HVX_EXIT_MMIO)
			break;
		ASSERT_TRUE(run->mmio.is_write);
		memcpy(&val, run->mmio.data, 4);
		if (run->mmio.phys_addr == SMP_ICR_HI) {
			dest = val >> 24;
			continue;
		}
		ASSERT_EQ(SMP_ICR_LO, run->mmio.phys_addr);
		ipi.vcpu_id = dest;
		ipi.kind = ((val >> 8) & 7) == 5 ? HVX_IPI_INIT : HVX_IPI_SIPI;
		ipi.vector = val & 0xff;
		ASSERT_EQ(0, ioctl(bsp->vm->fd, HVX_SEND_IPI, &ipi));
	}
	ASSERT_EQ(UCALL_SYNC, get_ucall(bsp, &uc)) TH_LOG("%s", vcpu_exit_str(bsp));
	return uc.args[0];
}

static void smp_boot(struct __test_metadata *_metadata, int nr_vcpus)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct ap aps[8] = { 0 };
	struct vcpu *bsp;
	struct vm *vm;

	sigaction(SIGALRM, &sa, NULL);
	bsp = vm_create_long(&vm, guest_bsp_boot, nr_vcpus - 1);
	vm_load_blob(vm, GPA_BLOB, smp_ap_start, smp_ap_end);
	*(uint16_t *)vm_gpa2hva(vm, GPA_BLOB_DATA, 2) = 0;
	for (int i = 1; i < nr_vcpus; i++) {
		aps[i].vcpu = vcpu_create(vm, i);
		/* Where firmware leaves APs: waiting for a SIPI. */
		set_mp_state(_metadata, aps[i].vcpu, HVX_MP_WAIT_SIPI);
		ASSERT_EQ(0, pthread_create(&aps[i].thread, NULL, ap_thread,
					    &aps[i]));
	}
	ASSERT_EQ(nr_vcpus - 1, run_bsp(_metadata, bsp));
	vcpu_run_done(bsp);
	for (int i = 1; i < nr_vcpus; i++) {
		pthread_join(aps[i].thread, NULL);
		EXPECT_EQ(0, aps[i].error) TH_LOG("AP %d: %s", i,
						  strerror(aps[i].error));
		EXPECT_TRUE(aps[i].started) TH_LOG("AP %d", i);
		EXPECT_TRUE(aps[i].halted) TH_LOG("AP %d", i);
	}
	vm_free(vm);
}

TEST(boot_2_vcpus)
{
	REQUIRE_VMX();
	smp_boot(_metadata, 2);
}

TEST(boot_4_vcpus)
{
	REQUIRE_VMX();
	smp_boot(_metadata, 4);
}

/* INIT and SIPI reach a vCPU whose thread is inside HVX_RUN running
 * guest code: it is kicked, resets, waits, and starts at the trampoline. */
TEST(ipi_to_running_vcpu)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct hvx_ipi ipi = { .vcpu_id = 1, .kind = HVX_IPI_INIT };
	struct hvx_mp_state mp;
	struct ap ap = { 0 };
	struct vcpu *bsp;
	struct vm *vm;

	REQUIRE_VMX();
	sigaction(SIGALRM, &sa, NULL);
	bsp = vm_create_long(&vm, guest_sync_done, 0);
	vm_load_blob(vm, GPA_BLOB, smp_ap_start, smp_ap_end);
	ap.vcpu = vcpu_create(vm, 1);
	vcpu_setup_long(ap.vcpu, guest_spin, GPA_BLOB_DATA + 8);
	ASSERT_EQ(0, pthread_create(&ap.thread, NULL, ap_thread, &ap));
	/* Wait until the AP runs guest code (its counter moves). */
	for (int i = 0; i < 1000 &&
	     !*(volatile uint64_t *)vm_gpa2hva(vm, GPA_BLOB_DATA + 8, 8); i++)
		msleep(1);
	ASSERT_NE(0, *(volatile uint64_t *)vm_gpa2hva(vm, GPA_BLOB_DATA + 8, 8));

	ASSERT_EQ(0, ioctl(vm->fd, HVX_SEND_IPI, &ipi));
	msleep(20);
	ASSERT_FALSE(ap.started);		/* INIT alone: waiting for SIPI */
	ipi.kind = HVX_IPI_SIPI;
	ipi.vector = GPA_BLOB >> 12;
	ASSERT_EQ(0, ioctl(vm->fd, HVX_SEND_IPI, &ipi));
	pthread_join(ap.thread, NULL);
	ASSERT_EQ(0, ap.error) TH_LOG("%s", strerror(ap.error));
	ASSERT_TRUE(ap.started);
	ASSERT_TRUE(ap.halted);
	ASSERT_EQ(0, ioctl(ap.vcpu->fd, HVX_GET_MP_STATE, &mp));
	ASSERT_EQ(HVX_MP_RUNNABLE, mp.state);
	(void)bsp;
	vm_free(vm);
}

struct halter {
	struct vcpu *vcpu;
	volatile int returned;
	int ret;
};

static void *halter_thread(void *arg)
{
	struct halter *h = arg;

	h->ret = __vcpu_run(h->vcpu);
	h->returned = 1;
	return NULL;
}

/* HLT with interrupts on sleeps in the kernel (HVX_RUN does not return)
 * until another thread queues an interrupt, which the guest then takes. */
TEST(hlt_sleeps_until_interrupt)
{
	struct hvx_interrupt irq = { .vector = SMP_IRQ_VECTOR };
	struct halter h = { 0 };
	struct ucall uc;
	pthread_t t;
	struct vm *vm;

	REQUIRE_VMX();
	h.vcpu = vm_create_long(&vm, guest_sti_hlt, 0);
	vcpu_set_idt_gate(h.vcpu, SMP_IRQ_VECTOR, (uint64_t)guest_smp_irq_stub);

	ASSERT_EQ(0, pthread_create(&t, NULL, halter_thread, &h));
	msleep(100);
	ASSERT_FALSE(h.returned);		/* asleep in HLT, not exited */
	ASSERT_EQ(0, ioctl(h.vcpu->fd, HVX_INTERRUPT, &irq));
	pthread_join(t, NULL);
	ASSERT_EQ(0, h.ret);
	ASSERT_EQ(UCALL_SYNC, get_ucall(h.vcpu, &uc)) TH_LOG("%s",
							 vcpu_exit_str(h.vcpu));
	ASSERT_EQ(1, uc.args[0]);		/* the handler ran once */
	vcpu_run_done(h.vcpu);
	vm_free(vm);
}

/* The default CPUID describes the VM's vCPUs as cores of one package:
 * 3 vCPUs -> 4 addressable ids, HTT set, leaf 4 cores - 1 = 3. A table set
 * by userspace is left alone. */
TEST(cpuid_topology_follows_vcpus)
{
	static struct hvx_cpuid c;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = vm_create_long(&vm, guest_topology, 0);
	vcpu_create(vm, 1);
	vcpu_create(vm, 2);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(4, (uc.args[0] >> 16) & 0xff);
	ASSERT_EQ(0, (uc.args[0] >> 24) & 0xff);	/* APIC id 0 */
	ASSERT_TRUE(uc.args[1] & (1u << 28));		/* HTT */
	if (uc.args[2] & 0x1f)				/* a cache is described */
		ASSERT_EQ(3, uc.args[2] >> 26);
	vcpu_run_done(vcpu);
	vm_free(vm);

	vcpu = vm_create_long(&vm, guest_topology, 0);
	vcpu_create(vm, 1);
	c.nent = 2;
	c.entries[0] = (struct hvx_cpuid_entry){ .function = 0, .eax = 4 };
	c.entries[1] = (struct hvx_cpuid_entry){ .function = 1, .ebx = 0x10000 };
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_SET_CPUID, &c));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0x10000, uc.args[0]);			/* as set */
	ASSERT_EQ(0, uc.args[1]);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

static int set_cpu_online(int cpu, int on)
{
	char path[64];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fprintf(f, "%d", on) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/*
 * CPU hotplug while a VM exists: the CPU going away must have its VMCSs
 * cleared and leave VMX operation (the vCPU then runs elsewhere); the CPU
 * coming back must enter VMX operation again, and the vCPU runs there.
 */
TEST(cpu_hotplug_with_vm)
{
	struct vcpu *a, *b;
	struct vm *vm;

	REQUIRE_VMX();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU online: CPU hotplug needs two (bochs-smp has them)");
	a = vm_create_long(&vm, guest_sync_done, 3);
	b = vcpu_create(vm, 1);
	vcpu_setup_long(b, guest_sync_done, 4);
	pin_cpu(1);
	ASSERT_EQ(3, vcpu_run_sync(a));			/* a's VMCS on CPU 1 */
	pin_cpu(0);
	ASSERT_EQ(0, set_cpu_online(1, 0)) TH_LOG("offline cpu1: %m");
	ASSERT_EQ(1, sysconf(_SC_NPROCESSORS_ONLN));	/* it really went */
	vcpu_run_done(a);				/* a continues on CPU 0 */
	ASSERT_EQ(0, set_cpu_online(1, 1)) TH_LOG("online cpu1: %m");
	ASSERT_EQ(2, sysconf(_SC_NPROCESSORS_ONLN));
	pin_cpu(1);					/* VMXON there again */
	ASSERT_EQ(4, vcpu_run_sync(b));
	pin_cpu(0);
	vcpu_run_done(b);
	vm_free(vm);
}

TEST(ipi_and_mp_state_bad_input)
{
	struct hvx_ipi ipi = { .vcpu_id = 0, .kind = 3 };
	struct hvx_mp_state mp = { .state = HVX_MP_HALTED + 1 };	/* none */
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SEND_IPI, &ipi));
	ipi.kind = HVX_IPI_INIT;
	ipi.reserved[1] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SEND_IPI, &ipi));
	ipi.reserved[1] = 0;
	ipi.vcpu_id = 7;
	ASSERT_ERRNO(ENOENT, ioctl(vm->fd, HVX_SEND_IPI, &ipi));
	ipi.vcpu_id = 1u << 31;
	ASSERT_ERRNO(ENOENT, ioctl(vm->fd, HVX_SEND_IPI, &ipi));
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MP_STATE, &mp));
	mp.state = HVX_MP_WAIT_SIPI;
	mp.reserved[2] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_MP_STATE, &mp));
	memset(&mp, 0xff, sizeof(mp));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_MP_STATE, &mp));
	ASSERT_EQ(HVX_MP_RUNNABLE, mp.state);
	vm_free(vm);
}

#define SPIN_HOLD_ITERS	20000000ull	/* seconds of guest time in Bochs */
#define EXIT_REASON_PAUSE_INSTRUCTION	40

static void *holder_thread(void *arg)
{
	struct vcpu *vcpu = arg;

	if (pin_cpu(0) || __vcpu_run(vcpu))
		return (void *)(long)errno;
	return NULL;
}

/*
 * Two vCPUs on one host CPU: vCPU 1 holds a lock for a long busy loop,
 * vCPU 0 waits for it in a PAUSE loop. The waiter's PAUSE-loop exits
 * must give the CPU to the preempted holder (hvx_stats.pause_yields),
 * and both finish. Skips where the CPU makes no PAUSE exits (no
 * PAUSE-loop exiting).
 */
TEST(pause_yields_to_preempted_sibling)
{
	struct hvx_nl_stats st[2];
	uint64_t pauses = 0, yields = 0;
	struct vcpu *waiter, *holder;
	struct hvx_nl nl;
	pthread_t thread;
	struct ucall uc;
	struct vm *vm;
	void *err;
	int n;

	REQUIRE_VMX();
	ASSERT_EQ(0, pin_cpu(0));
	waiter = vm_create_long(&vm, guest_spin_waiter, 0);
	holder = vcpu_create(vm, 1);
	vcpu_setup_long(holder, guest_spin_holder, SPIN_HOLD_ITERS);
	ASSERT_EQ(0, pthread_create(&thread, NULL, holder_thread, holder));
	vcpu_run_done(waiter);
	ASSERT_EQ(0, pthread_join(thread, &err));
	ASSERT_EQ(NULL, err) TH_LOG("holder: %s", strerror((long)err));
	ASSERT_EQ(UCALL_DONE, get_ucall(holder, &uc))
		TH_LOG("%s", vcpu_exit_str(holder));
	ASSERT_EQ(0, hvx_nl_open(&nl));
	n = hvx_nl_get_stats(&nl, hvx_nl_own_vm_id(&nl), -1, st, 2);
	hvx_nl_close(&nl);
	ASSERT_EQ(2, n);
	for (int i = 0; i < n; i++) {
		pauses += st[i].st.exits_by_reason[EXIT_REASON_PAUSE_INSTRUCTION];
		yields += st[i].st.pause_yields;
	}
	TH_LOG("PAUSE exits %lu, yields %lu", pauses, yields);
	vm_free(vm);
	if (!pauses)
		SKIP(return, "no PAUSE exits: the CPU has no PAUSE-loop exiting");
	ASSERT_LT(0, yields);
}

TEST_HARNESS_MAIN
