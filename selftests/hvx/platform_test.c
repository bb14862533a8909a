// SPDX-License-Identifier: GPL-2.0
/*
 * platform_test - the in-kernel legacy PC devices (HVX_CREATE_PLATFORM):
 * 8259A PIC pair, 8254 PIT, 16550A UART with its console fd, MC146818
 * RTC/CMOS and PCI configuration mechanism #1. Guests program the devices
 * through their ports (platform_guest.c); the host checks what reaches
 * it: interrupt counts and rates in virtual time, console bytes, clock
 * values, and that none of it needed an exit to userspace.
 *
 * Rates are compared with the host's CLOCK_MONOTONIC over the run: under
 * Bochs (clock: sync=none) it advances with emulated instructions, like
 * the hrtimers the devices use, so the bounds hold however slowly Bochs
 * runs.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>

#include "hvx_test.h"
#include "hvx_nl.h"
#include "platform_guest.h"

#define LEGACY	(HVX_PLATFORM_PIC | HVX_PLATFORM_PIT | HVX_PLATFORM_UART | \
		 HVX_PLATFORM_RTC | HVX_PLATFORM_PCI)
#define PIT_HZ			1193182.0
#define PIT_MIN_PERIOD_S	100e-6	/* the kernel's rate limit */
#define RING_SIZE		65536
#define FLOOD_BYTES		70000	/* more than the ring; multiple of 16 */

static int create_platform(int vm_fd, uint32_t devices)
{
	struct hvx_platform_config c = { .devices = devices };

	return ioctl(vm_fd, HVX_CREATE_PLATFORM, &c);
}

/* A VM with the legacy devices and vCPU 0 in long mode at @fn(@arg),
 * its IDT routing the 16 PIC vectors to the guest's handlers. */
static struct vcpu *platform_vm(struct vm **vmp, uint32_t devices,
				void (*fn)(uint64_t), uint64_t arg)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu;

	LIB_ASSERT(!create_platform(vm->fd, devices), "HVX_CREATE_PLATFORM: %m");
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, fn, arg);
	for (int i = 0; i < 16; i++)
		vcpu_set_idt_gate(vcpu, PLAT_PIC_VECTOR + i, guest_irq_stubs[i]);
	*vmp = vm;
	return vcpu;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read the console until it would block; returns the byte count. */
static size_t drain(int fd, uint8_t *buf, size_t max)
{
	size_t got = 0;
	ssize_t n;

	while (got < max && (n = read(fd, buf + got, max - got)) > 0)
		got += n;
	return got;
}

static int console_fd(struct vm *vm)
{
	int fd = ioctl(vm->fd, HVX_GET_CONSOLE_FD, 0);

	LIB_ASSERT(fd >= 0, "HVX_GET_CONSOLE_FD: %m");
	LIB_ASSERT(!fcntl(fd, F_SETFL, O_NONBLOCK), "O_NONBLOCK: %m");
	return fd;
}

/* Index of the first byte that breaks plat_pattern(), or -1. */
static long pattern_mismatch(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != plat_pattern(i))
			return i;
	return -1;
}

static uint64_t port_exits(const struct hvx_stats *st, uint64_t key)
{
	for (int i = 0; i < HVX_STATS_TOP; i++)
		if (st->io_ports[i].count && st->io_ports[i].key == key)
			return st->io_ports[i].count;
	return 0;
}

static uint64_t sum_user_exits(const struct hvx_stats *st)
{
	uint64_t s = 0;

	for (int i = 0; i < HVX_STATS_USER_EXITS; i++)
		s += st->user_exits[i];
	return s;
}

TEST(create_platform_bad_input)
{
	struct hvx_platform_config c = { .devices = HVX_PLATFORM_PIC };
	struct vcpu *vcpu;
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	vm = vm_create();
	/* Console and CMOS need the devices. */
	ASSERT_ERRNO(ENODEV, ioctl(vm->fd, HVX_GET_CONSOLE_FD, 0));
	c.devices = 0;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_PLATFORM, &c));
	c.devices = HVX_PLATFORM_ALL + 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_PLATFORM, &c));
	c.devices = 1u << 31;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_PLATFORM, &c));
	c.devices = HVX_PLATFORM_PIC;
	c.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_PLATFORM, &c));
	c.flags = 0;
	c.reserved[2] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_PLATFORM, &c));

	/* Only the PIC: no UART, so no console. */
	ASSERT_EQ(0, create_platform(vm->fd, HVX_PLATFORM_PIC));
	ASSERT_ERRNO(EEXIST, create_platform(vm->fd, HVX_PLATFORM_PIC));
	ASSERT_ERRNO(EEXIST, create_platform(vm->fd, LEGACY));
	ASSERT_ERRNO(ENODEV, ioctl(vm->fd, HVX_GET_CONSOLE_FD, 0));
	vm_free(vm);

	/* After a vCPU: too late. */
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	ASSERT_ERRNO(EBUSY, create_platform(vm->fd, LEGACY));
	(void)vcpu;
	vm_free(vm);

	/* All legacy devices; the console ioctl takes no argument. */
	vm = vm_create();
	ASSERT_EQ(0, create_platform(vm->fd, LEGACY));
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_GET_CONSOLE_FD, 1));
	fd = ioctl(vm->fd, HVX_GET_CONSOLE_FD, 0);
	ASSERT_LE(0, fd);
	ASSERT_NE(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	vm_free(vm);
}

/* A device that cannot be created undoes the ones made before it. */
TEST(create_platform_rollback)
{
	struct vm *vm;
	int ret;

	REQUIRE_VMX();
	vm = vm_create();
	ret = create_platform(vm->fd, HVX_PLATFORM_PIC | HVX_PLATFORM_IOAPIC);
	if (ret == 0) {
		vm_free(vm);
		SKIP(return, "every device exists: no failing one to roll back");
	}
	ASSERT_EQ(EOPNOTSUPP, errno);
	/* The PIC's ports were released: creating it again works. */
	ASSERT_EQ(0, create_platform(vm->fd, LEGACY));
	vm_free(vm);
}

TEST(cmos_ioctls)
{
	static struct hvx_cmos c, g;
	struct vm *vm;

	REQUIRE_VMX();
	vm = vm_create();
	c.first = 0x15;
	c.count = 2;
	ASSERT_ERRNO(ENODEV, ioctl(vm->fd, HVX_SET_CMOS, &c));
	ASSERT_EQ(0, create_platform(vm->fd, HVX_PLATFORM_RTC));

	c.data[0x15] = 0x80;
	c.data[0x16] = 0x02;
	ASSERT_EQ(0, ioctl(vm->fd, HVX_SET_CMOS, &c));
	g.first = HVX_CMOS_RAM_FIRST;
	g.count = HVX_CMOS_SIZE - HVX_CMOS_RAM_FIRST;
	ASSERT_EQ(0, ioctl(vm->fd, HVX_GET_CMOS, &g));
	ASSERT_EQ(0x80, g.data[0x15]);
	ASSERT_EQ(0x02, g.data[0x16]);
	ASSERT_EQ(0x20, g.data[0x32]);		/* century, BCD */
	ASSERT_EQ(0, g.data[0x0d]);		/* outside the range: untouched */

	/* Clock registers, empty or overlong ranges, reserved words. */
	c.data[0x15] = 0x11;
	c.first = 0x0d;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_CMOS, &c));
	c.first = 0x15;
	c.count = 0;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_CMOS, &c));
	c.first = 0x7f;
	c.count = 2;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_CMOS, &c));
	c.first = 0x80;
	c.count = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_GET_CMOS, &c));
	c.first = 0x15;
	c.count = 0xffffffff;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_CMOS, &c));
	c.count = 2;
	c.reserved[1] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_SET_CMOS, &c));
	ASSERT_EQ(0, ioctl(vm->fd, HVX_GET_CMOS, &g));
	ASSERT_EQ(0x80, g.data[0x15]);		/* nothing changed */

	/*
	 * GET reads the clock registers too: B's reset value (24-hour, BCD),
	 * D's VRT, A's divider and rate, BCD seconds, and C without clearing.
	 */
	memset(&g, 0, sizeof(g));
	g.first = 0;
	g.count = 0x40;
	ASSERT_EQ(0, ioctl(vm->fd, HVX_GET_CMOS, &g));
	ASSERT_EQ(0x02, g.data[0x0b]);
	ASSERT_EQ(0x80, g.data[0x0d]);
	ASSERT_EQ(0x26, g.data[0x0a] & 0x7f);
	ASSERT_GT(0x60, g.data[0x00]);
	ASSERT_GT(10, g.data[0x00] & 0xf);
	ASSERT_EQ(0, g.data[0x0c]);
	ASSERT_EQ(0x20, g.data[0x32]);		/* and the RAM after them */
	vm_free(vm);
}

/* Mode 2 at 100 Hz: PLAT_PIT_TICKS interrupts take that many periods. */
TEST(pit_rate)
{
	const uint16_t divisor = 11932;		/* 100.0 Hz */
	const double period = divisor / PIT_HZ;
	double t0, t1, elapsed;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = platform_vm(&vm, LEGACY, guest_pit_rate, divisor);
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	t0 = now_s();
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	t1 = now_s();
	ASSERT_EQ(PLAT_PIT_TICKS, uc.args[0]);
	elapsed = t1 - t0;
	/* Exactly N ticks: between N - 1 and N + 1 periods, with margin. */
	ASSERT_LE((PLAT_PIT_TICKS - 1) * period * 0.9, elapsed)
		TH_LOG("%d ticks in %.4f s: faster than %.1f Hz",
		       PLAT_PIT_TICKS, elapsed, 1 / period);
	ASSERT_GE((PLAT_PIT_TICKS + 1) * period * 2, elapsed)
		TH_LOG("%d ticks in %.4f s: much slower than %.1f Hz",
		       PLAT_PIT_TICKS, elapsed, 1 / period);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/*
 * Divisor 1 asks for 1.19 MHz; the host gives at most 10 kHz. On a slow
 * host (the debug kernel in Bochs) one tick's injection can outlast that
 * period, so the guest's handler masks IRQ 0 at the last tick it waits
 * for: the count stays exact and the elapsed time shows the rate limit.
 */
TEST(pit_divisor_1_rate_limited)
{
	double t0, elapsed;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = platform_vm(&vm, LEGACY, guest_pit_rate, 1);
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	t0 = now_s();
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	elapsed = now_s() - t0;
	ASSERT_EQ(PLAT_PIT_FAST_TICKS, uc.args[0]);
	ASSERT_LE((PLAT_PIT_FAST_TICKS - 1) * PIT_MIN_PERIOD_S * 0.9, elapsed)
		TH_LOG("%d ticks in %.6f s: the minimum period is not kept",
		       PLAT_PIT_FAST_TICKS, elapsed);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

TEST(pit_channel2_readback_gate)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = platform_vm(&vm, LEGACY, guest_pit_ch2, 0);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/* IMR, specific/non-specific/no EOI, poll, ELCR edge vs level. */
TEST(pic_mask_eoi_elcr)
{
	struct hvx_stats st;
	struct vcpu *vcpu;
	struct vm *vm;
	int ret;

	REQUIRE_VMX();
	vcpu = platform_vm(&vm, LEGACY, guest_pic, 0);
	vcpu_run_done(vcpu);
	ASSERT_EQ(3, guest_var(vm, guest_irqs[0]));
	ASSERT_EQ(3, guest_var(vm, guest_irqs[4]));
	ret = hvx_nl_own_stats(&st);
	if (!ret) {
		/* 3 IRQ 0 + 1 edge + 3 level IRQ 4, all from the PIC. */
		ASSERT_EQ(7, st.irqs_injected[HVX_IRQ_SRC_PIC]);
	} else {
		TH_LOG("no statistics (%s): injection count not checked",
		       strerrorname_np(-ret));
	}
	vm_free(vm);
}

/* Polled output reaches the console fd, with no exit to userspace. */
TEST(uart_output_polled)
{
	const uint64_t len = 3000;
	static uint8_t buf[4096];
	struct hvx_stats st;
	struct pollfd pfd;
	struct vcpu *vcpu;
	struct vm *vm;
	int fd, ret;

	REQUIRE_VMX();
	vcpu = platform_vm(&vm, LEGACY, guest_uart_puts, len);
	fd = console_fd(vm);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLOUT, pfd.revents);	/* nothing to read yet */
	ASSERT_ERRNO(EAGAIN, read(fd, buf, sizeof(buf)));

	vcpu_run_done(vcpu);
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLIN | POLLOUT, pfd.revents);
	ASSERT_EQ(len, drain(fd, buf, sizeof(buf)));
	ASSERT_EQ(-1, pattern_mismatch(buf, len));

	ret = hvx_nl_own_stats(&st);
	if (ret)
		SKIP(goto out, "no statistics: %s", strerrorname_np(-ret));
	/* One return of HVX_RUN (the DONE ucall); thousands of UART exits. */
	ASSERT_EQ(1, sum_user_exits(&st));
	ASSERT_EQ(1, st.user_exits[HVX_EXIT_IO]);
	ASSERT_EQ(len, port_exits(&st, 0x3f8));
	ASSERT_LE(len, port_exits(&st, 0x3fd | HVX_STATS_IO_IN));
out:
	close(fd);
	vm_free(vm);
}

/*
 * More output than the ring holds: the UART stops (THRE clear) exactly
 * when ring and transmit FIFO are full; reading resumes it; nothing is
 * lost or reordered, and only ucalls exit to userspace.
 */
TEST(uart_flow_control)
{
	static uint8_t buf[FLOOD_BYTES + 16];
	struct hvx_stats st;
	struct vcpu *vcpu;
	struct vm *vm;
	size_t got;
	int fd, ret;

	REQUIRE_VMX();
	vcpu = platform_vm(&vm, LEGACY, guest_uart_flood, FLOOD_BYTES);
	fd = console_fd(vm);
	ASSERT_EQ(RING_SIZE + 16, vcpu_run_sync(vcpu))
		TH_LOG("the guest must stall with the ring and FIFO full");
	/* Reading lets the 16 held bytes into the ring at once. */
	got = drain(fd, buf, RING_SIZE);
	ASSERT_EQ(RING_SIZE, got);
	vcpu_run_done(vcpu);
	got += drain(fd, buf + got, sizeof(buf) - got);
	ASSERT_EQ(FLOOD_BYTES, got);
	ASSERT_EQ(-1, pattern_mismatch(buf, FLOOD_BYTES));

	ret = hvx_nl_own_stats(&st);
	if (ret)
		SKIP(goto out, "no statistics: %s", strerrorname_np(-ret));
	ASSERT_EQ(2, sum_user_exits(&st));	/* SYNC and DONE */
	ASSERT_EQ(FLOOD_BYTES / 16, port_exits(&st, 0x3f8));	/* REP OUTSB */
out:
	close(fd);
	vm_free(vm);
}

struct writer {
	int fd;
	const uint8_t *buf;
	size_t len;
	ssize_t ret;
};

static void *write_all(void *arg)
{
	struct writer *w = arg;

	w->ret = write(w->fd, w->buf, w->len);
	return NULL;
}

/* Console input reaches the guest through RDA interrupts (guest in HLT). */
TEST(uart_input_interrupts)
{
	static uint8_t msg[200];
	struct writer w;
	struct pollfd pfd;
	pthread_t t;
	struct vcpu *vcpu;
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = plat_pattern(i * 3 + 1);
	vcpu = platform_vm(&vm, LEGACY, guest_uart_rx, sizeof(msg));
	fd = ioctl(vm->fd, HVX_GET_CONSOLE_FD, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vcpu_run_sync(vcpu));	/* UART set up, FIFOs on */

	/* Non-blocking: the 16-byte FIFO takes 16 bytes, then EAGAIN. */
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(16, write(fd, msg, sizeof(msg)));
	ASSERT_ERRNO(EAGAIN, write(fd, msg + 16, 1));
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	ASSERT_EQ(0, poll(&pfd, 1, 0));

	/* Blocking: the rest, while the guest takes it. */
	ASSERT_EQ(0, fcntl(fd, F_SETFL, 0));
	w = (struct writer){ fd, msg + 16, sizeof(msg) - 16, 0 };
	ASSERT_EQ(0, pthread_create(&t, NULL, write_all, &w));
	ASSERT_EQ(sizeof(msg), vcpu_run_sync(vcpu));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(sizeof(msg) - 16, w.ret);
	ASSERT_EQ(0, memcmp(msg, (const void *)vm_gpa2hva(vm,
			    (uint64_t)guest_rx_buf, sizeof(msg)), sizeof(msg)));
	/*
	 * Only the IRQ 4 handler reads RBR, so every byte came by interrupt;
	 * a handler that drains the FIFO while the writer refills it takes
	 * several loads per interrupt, so fewer interrupts than bytes.
	 */
	ASSERT_LE(1, guest_var(vm, guest_irqs[4]));
	ASSERT_GT(sizeof(msg), guest_var(vm, guest_irqs[4]));
	vcpu_run_done(vcpu);
	close(fd);
	vm_free(vm);
}

TEST(uart_loopback)
{
	uint8_t c;
	struct vcpu *vcpu;
	struct vm *vm;
	int fd;

	REQUIRE_VMX();
	vcpu = platform_vm(&vm, LEGACY, guest_uart_loop, 0);
	fd = console_fd(vm);
	vcpu_run_done(vcpu);
	/* Looped-back bytes never reach the line. */
	ASSERT_ERRNO(EAGAIN, read(fd, &c, 1));
	close(fd);
	vm_free(vm);
}

static unsigned int bcd(unsigned int v)
{
	return (v >> 4) * 10 + (v & 15);
}

TEST(rtc_clock_and_interrupts)
{
	static struct hvx_cmos c;
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;
	struct tm tm = { 0 };
	time_t guest, host;
	unsigned int h12, h24;

	REQUIRE_VMX();
	vcpu = platform_vm(&vm, LEGACY, guest_rtc, 0);
	c.first = 0x15;
	c.count = 0x36 - 0x15;
	c.data[0x15] = 0x80;			/* 640 KiB base memory */
	c.data[0x16] = 0x02;
	c.data[0x17] = 0x00;			/* 15 MiB extended */
	c.data[0x18] = 0x3c;
	c.data[0x32] = 0x20;
	c.data[0x34] = 0x00;			/* 64 KiB units above 16 MiB */
	c.data[0x35] = 0x1f;
	ASSERT_EQ(0, ioctl(vm->fd, HVX_SET_CMOS, &c));

	/* BCD, 24-hour: the host's UTC time within a few seconds. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	host = time(NULL);
	tm.tm_sec = bcd(uc.args[0] & 0xff);
	tm.tm_min = bcd(uc.args[0] >> 8 & 0xff);
	tm.tm_hour = bcd(uc.args[0] >> 16 & 0xff);
	tm.tm_mday = bcd(uc.args[1] & 0xff);
	tm.tm_mon = bcd(uc.args[1] >> 8 & 0xff) - 1;
	tm.tm_year = bcd(uc.args[1] >> 24 & 0xff) * 100 +
		     bcd(uc.args[1] >> 16 & 0xff) - 1900;
	guest = timegm(&tm);
	ASSERT_GE(5, labs(host - guest))
		TH_LOG("guest RTC %ld, host %ld (registers %#lx %#lx)",
		       (long)guest, (long)host, uc.args[0], uc.args[1]);

	/* Binary 12-hour vs 24-hour. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	h12 = uc.args[0];
	h24 = uc.args[1];
	ASSERT_GT(24, h24);
	ASSERT_EQ((h24 % 12 ? h24 % 12 : 12) | (h24 >= 12 ? 0x80 : 0), h12);
	ASSERT_GT(60, uc.args[2]);		/* binary seconds */

	/* SET, UF and PF interrupts are checked in the guest. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(0x0280, uc.args[0]);
	ASSERT_EQ(0x3c00, uc.args[1]);
	ASSERT_EQ(0x1f00, uc.args[2]);
	vcpu_run_done(vcpu);
	c.first = 0x40;
	c.count = 1;
	ASSERT_EQ(0, ioctl(vm->fd, HVX_GET_CMOS, &c));
	ASSERT_EQ(0x5a, c.data[0x40]);
	vm_free(vm);
}

TEST(pci_bus_scan)
{
	struct vcpu *vcpu;
	struct vm *vm;

	REQUIRE_VMX();
	vcpu = platform_vm(&vm, LEGACY, guest_pci, 0);
	vcpu_run_done(vcpu);
	vm_free(vm);
}

/*
 * Close everything while every timer fires: the VM
 * stays alive while the console fd is open, and goes (timers cancelled,
 * module references dropped) when it closes. Same for a process killed
 * with SIGKILL in the middle of HVX_RUN.
 */
TEST(teardown_with_timers)
{
	struct vcpu *vcpu;
	struct vm *vm;
	long base;
	uint8_t buf[256];
	pid_t pid;
	int fd, status;

	REQUIRE_VMX();
	base = hvx_module_refcnt();
	ASSERT_LE(0, base);
	vcpu = platform_vm(&vm, LEGACY, guest_timers_spin, 0);
	fd = console_fd(vm);
	ASSERT_EQ(0, vcpu_run_sync(vcpu));
	vcpu_free(vcpu);
	vm_free(vm);
	ASSERT_LT(base, hvx_module_refcnt());	/* the console holds the VM */
	ASSERT_EQ(100, drain(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_TRUE(wait_for_refcnt(base, 5000))
		TH_LOG("module refcount %ld, expected %ld", hvx_module_refcnt(), base);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		vcpu = platform_vm(&vm, LEGACY, guest_timers_spin, 0);
		(void)console_fd(vm);
		vcpu_run_sync(vcpu);
		vcpu_run(vcpu);			/* spins until killed */
		_exit(1);
	}
	msleep(200);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_TRUE(wait_for_refcnt(base, 5000))
		TH_LOG("module refcount %ld, expected %ld", hvx_module_refcnt(), base);
}

TEST_HARNESS_MAIN
