// SPDX-License-Identifier: GPL-2.0
/*
 * platform_test - the in-kernel legacy PC devices (HVX_CREATE_PLATFORM):
 * 8259A PIC pair, 8254 PIT, 16550A UART with its console fd, MC146818
 * RTC/CMOS and PCI configuration mechanism #1. Guests program the devices
 * through their ports (the guest code below); the host checks what reaches
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
#include "hvx_guest.h"

#define PLAT_PIC_VECTOR		0x20	/* master at 0x20, slave at 0x28 */
#define PLAT_PIT_TICKS		20	/* IRQ 0 ticks counted by the rate test */
#define PLAT_PIT_FAST_TICKS	50	/* ... by the divisor-1 test */
#define PLAT_UART_STALL_SPINS	1000	/* LSR reads before reporting a stall */
#define PLAT_RX_MAX		256

/* How the guest's IRQ handler ends an interrupt. */
#define PLAT_EOI_NONSPECIFIC	0
#define PLAT_EOI_SPECIFIC	1
#define PLAT_EOI_NONE		2

/* What the IRQ 4 handler does with the UART. */
#define PLAT_IRQ4_NOTHING	0
#define PLAT_IRQ4_RX		1	/* drain the receive FIFO */

/* The byte a guest sends at offset i (detects loss and reordering). */
GUEST_CODE
static inline uint8_t plat_pattern(uint64_t i)
{
	return (uint8_t)(i ^ (i >> 8) ^ (i >> 16));
}

/* The guest's handlers of the 16 PIC vectors, for its IDT. */
extern const uint64_t guest_irq_stubs[16];

/*
 * Guest code: drives the in-kernel PIC, PIT, UART, RTC and PCI host
 * bridge through their ports, with interrupt handlers for the 16 PIC
 * vectors (0x20-0x2f).
 */

#define PIC_M		0x20
#define PIC_S		0xa0
#define COM1		0x3f8
#define UART_IER	(COM1 + 1)
#define UART_IIR	(COM1 + 2)
#define UART_FCR	(COM1 + 2)
#define UART_LCR	(COM1 + 3)
#define UART_MCR	(COM1 + 4)
#define UART_LSR	(COM1 + 5)
#define UART_MSR	(COM1 + 6)
#define UART_SCR	(COM1 + 7)
#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20

static volatile uint64_t guest_irqs[16];
static volatile uint64_t guest_eoi_mode;
static volatile uint64_t guest_irq4_mode;
static volatile uint64_t guest_irq4_clear_after;	/* 0: never */
static volatile uint8_t guest_rx_buf[PLAT_RX_MAX];
static volatile uint64_t guest_rx_len;
static volatile uint64_t guest_rtc_c;
static volatile uint64_t guest_irq0_mask_at;		/* 0: never */

GUEST_CODE
static inline void sti(void)
{
	asm volatile("sti" ::: "memory");
}

GUEST_CODE
static inline void cli(void)
{
	asm volatile("cli" ::: "memory");
}

/* Busy loop that lets pending interrupts in (IF is whatever it is). */
GUEST_CODE
static void spin(uint64_t n)
{
	for (volatile uint64_t i = 0; i < n; i++)
		;
}

/*
 * Handlers for vectors 0x20-0x2f: save the caller-saved registers, call
 * guest_irq_dispatch(irq), IRETQ. The 40-byte frame plus 9 pushes keep
 * RSP 16-byte aligned at the call.
 */
asm(".pushsection .text.guest, \"ax\", @progbits\n"
    ".macro plat_irq_stub n\n"
    "guest_irq_stub_\\n:\n\t"
    "push %rax\n\tpush %rcx\n\tpush %rdx\n\tpush %rsi\n\tpush %rdi\n\t"
    "push %r8\n\tpush %r9\n\tpush %r10\n\tpush %r11\n\t"
    "mov $\\n, %edi\n\t"
    "call guest_irq_dispatch\n\t"
    "pop %r11\n\tpop %r10\n\tpop %r9\n\tpop %r8\n\tpop %rdi\n\t"
    "pop %rsi\n\tpop %rdx\n\tpop %rcx\n\tpop %rax\n\t"
    "iretq\n"
    ".endm\n"
    "plat_irq_stub 0\nplat_irq_stub 1\nplat_irq_stub 2\nplat_irq_stub 3\n"
    "plat_irq_stub 4\nplat_irq_stub 5\nplat_irq_stub 6\nplat_irq_stub 7\n"
    "plat_irq_stub 8\nplat_irq_stub 9\nplat_irq_stub 10\nplat_irq_stub 11\n"
    "plat_irq_stub 12\nplat_irq_stub 13\nplat_irq_stub 14\nplat_irq_stub 15\n"
    ".popsection\n"
    ".pushsection .rodata\n"
    ".balign 8\n"
    ".globl guest_irq_stubs\n"
    "guest_irq_stubs:\n\t"
    ".quad guest_irq_stub_0, guest_irq_stub_1, guest_irq_stub_2\n\t"
    ".quad guest_irq_stub_3, guest_irq_stub_4, guest_irq_stub_5\n\t"
    ".quad guest_irq_stub_6, guest_irq_stub_7, guest_irq_stub_8\n\t"
    ".quad guest_irq_stub_9, guest_irq_stub_10, guest_irq_stub_11\n\t"
    ".quad guest_irq_stub_12, guest_irq_stub_13, guest_irq_stub_14\n\t"
    ".quad guest_irq_stub_15\n"
    ".popsection");

GUEST_CODE
static uint8_t cmos_read(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

GUEST_CODE
static void cmos_write(uint8_t idx, uint8_t v)
{
	outb(0x70, idx);
	outb(0x71, v);
}

GUEST_CODE
static void eoi(uint64_t irq)
{
	switch (guest_eoi_mode) {
	case PLAT_EOI_NONE:
		return;
	case PLAT_EOI_SPECIFIC:
		if (irq >= 8) {
			outb(PIC_S, 0x60 | (irq & 7));
			irq = 2;
		}
		outb(PIC_M, 0x60 | irq);
		return;
	default:
		if (irq >= 8)
			outb(PIC_S, 0x20);
		outb(PIC_M, 0x20);
	}
}

/* Called by the stubs above, by name: not static. */
void guest_irq_dispatch(uint64_t irq);
GUEST_CODE
void guest_irq_dispatch(uint64_t irq)
{
	uint64_t n = ++guest_irqs[irq];

	if (irq == 4 && guest_irq4_mode == PLAT_IRQ4_RX) {
		while (inb(UART_LSR) & LSR_DR)
			guest_rx_buf[guest_rx_len++ % PLAT_RX_MAX] = inb(COM1);
	} else if (irq == 4 && guest_irq4_clear_after &&
		   n >= guest_irq4_clear_after) {
		(void)inb(UART_IIR);	/* ends the THRE interrupt */
	}
	if (irq == 8)
		guest_rtc_c |= cmos_read(0x0c);	/* re-arms IRQ 8 */
	/* Masked before the EOI, with IF clear: no tick after the last. */
	if (irq == 0 && guest_irq0_mask_at && n >= guest_irq0_mask_at)
		outb(PIC_M + 1, inb(PIC_M + 1) | 0x01);
	eoi(irq);
}

/* ICW1-ICW4 for both chips: vectors 0x20/0x28, slave on IR2. */
GUEST_CODE
static void pic_init(uint8_t mask_m, uint8_t mask_s)
{
	outb(PIC_M, 0x11);
	outb(PIC_M + 1, PLAT_PIC_VECTOR);
	outb(PIC_M + 1, 0x04);
	outb(PIC_M + 1, 0x01);
	outb(PIC_S, 0x11);
	outb(PIC_S + 1, PLAT_PIC_VECTOR + 8);
	outb(PIC_S + 1, 0x02);
	outb(PIC_S + 1, 0x01);
	outb(PIC_M + 1, mask_m);
	outb(PIC_S + 1, mask_s);
}

GUEST_CODE
static uint8_t pic_irr(void)
{
	outb(PIC_M, 0x0a);
	return inb(PIC_M);
}

GUEST_CODE
static uint8_t pic_isr(void)
{
	outb(PIC_M, 0x0b);
	return inb(PIC_M);
}

/* Spin until IRQ @irq was taken @n times, or give up after a while. */
GUEST_CODE
static void wait_irqs(int irq, uint64_t n)
{
	for (uint64_t i = 0; guest_irqs[irq] < n && i < 10000000; i++)
		;
}

/* Channel 0: control word for @mode (LSB then MSB, binary), count. */
GUEST_CODE
static void pit0_start(int mode, uint16_t count)
{
	outb(0x43, 0x30 | mode << 1);
	outb(0x40, count & 0xff);
	outb(0x40, count >> 8);
}

/* Channel 0's OUT from a read-back status. */
GUEST_CODE
static int pit0_out(void)
{
	outb(0x43, 0xe2);
	return inb(0x40) & 0x80;
}

GUEST_CODE
static uint16_t pit2_latch(void)
{
	uint16_t lo, hi;

	outb(0x43, 0x80);
	lo = inb(0x42);
	hi = inb(0x42);
	return lo | hi << 8;
}

/*
 * Count IRQ 0 ticks of a mode 2 channel 0 between two SYNCs. The handler
 * masks IRQ 0 at the last tick waited for, so the count is exact even
 * when ticks come faster than the loop below can see them.
 */
GUEST_CODE
static void guest_pit_rate(uint64_t divisor)
{
	uint64_t want = divisor == 1 ? PLAT_PIT_FAST_TICKS : PLAT_PIT_TICKS;
	uint64_t start;

	pic_init(0xfe, 0xff);
	pit0_start(2, divisor);
	sti();
	GUEST_SYNC(0);
	start = guest_irqs[0];
	guest_irq0_mask_at = start + want;
	while (guest_irqs[0] < start + want)
		;
	cli();
	GUEST_SYNC(guest_irqs[0] - start);
	pit0_start(0, 0);	/* stop the periodic mode */
	GUEST_DONE();
}

/* Channel 2 through port 0x61: latch, read-back, gate, OUT2, refresh. */
GUEST_CODE
static void guest_pit_ch2(uint64_t unused)
{
	uint16_t a, b;
	uint8_t r;
	uint64_t i;

	(void)unused;
	outb(0x61, (inb(0x61) & 0xfc) | 1);	/* gate 2 on, speaker off */
	outb(0x43, 0xb0);			/* ch 2, LSB/MSB, mode 0 */
	outb(0x42, 0x00);
	outb(0x42, 0x40);			/* 0x4000 clocks, 13.7 ms */
	a = pit2_latch();
	spin(1000);
	b = pit2_latch();
	GUEST_ASSERT(a <= 0x4000);
	GUEST_ASSERT(b < a);
	outb(0x43, 0xe8);			/* read-back: status of ch 2 */
	GUEST_ASSERT_EQ(0x30, inb(0x42));	/* OUT low, RW 3, mode 0 */
	GUEST_ASSERT_EQ(0, inb(0x61) & 0x20);

	/* Gate low holds the count in mode 0. */
	outb(0x61, inb(0x61) & ~1);
	a = pit2_latch();
	spin(1000);
	b = pit2_latch();
	GUEST_ASSERT_EQ(a, b);
	outb(0x61, inb(0x61) | 1);

	/* OUT2 rises at terminal count (Linux's PIT calibration loop). */
	while (!(inb(0x61) & 0x20))
		;
	outb(0x43, 0xe8);
	GUEST_ASSERT_EQ(0xb0, inb(0x42));	/* OUT high now */

	/* Read-back of count and status: status first, then the count. */
	outb(0x43, 0xc8);
	GUEST_ASSERT_EQ(0xb0, inb(0x42));
	a = inb(0x42);
	a |= inb(0x42) << 8;
	GUEST_ASSERT(a > 0x4000);		/* wrapped after terminal count */

	/* The refresh bit toggles every 15 us. */
	r = inb(0x61) & 0x10;
	for (i = 0; (inb(0x61) & 0x10) == r && i < 100000; i++)
		;
	GUEST_ASSERT(i < 100000);
	GUEST_DONE();
}

/* IMR, EOI kinds, poll, ELCR edge vs level (UART THRE on IRQ 4). */
GUEST_CODE
static void guest_pic(uint64_t unused)
{
	(void)unused;
	pic_init(0xff, 0xff);
	guest_eoi_mode = PLAT_EOI_NONSPECIFIC;
	sti();

	/* A masked request waits in IRR; unmasking delivers it once. */
	pit0_start(0, 100);
	while (!pit0_out())
		;
	spin(10000);
	GUEST_ASSERT_EQ(0, guest_irqs[0]);
	GUEST_ASSERT_EQ(1, pic_irr() & 1);
	outb(PIC_M + 1, 0xfe);
	wait_irqs(0, 1);
	GUEST_ASSERT_EQ(1, guest_irqs[0]);
	GUEST_ASSERT_EQ(0, pic_irr() & 1);
	GUEST_ASSERT_EQ(0, pic_isr());

	/* Without EOI the level stays in service and blocks itself. */
	guest_eoi_mode = PLAT_EOI_NONE;
	pit0_start(0, 100);
	wait_irqs(0, 2);
	GUEST_ASSERT_EQ(2, guest_irqs[0]);
	GUEST_ASSERT_EQ(1, pic_isr());
	pit0_start(0, 100);
	while (!pit0_out())
		;
	spin(10000);
	GUEST_ASSERT_EQ(2, guest_irqs[0]);
	GUEST_ASSERT_EQ(1, pic_irr() & 1);
	outb(PIC_M, 0x60);			/* specific EOI, IR0 */
	wait_irqs(0, 3);
	GUEST_ASSERT_EQ(3, guest_irqs[0]);
	GUEST_ASSERT_EQ(1, pic_isr());
	outb(PIC_M, 0x20);			/* non-specific EOI */
	GUEST_ASSERT_EQ(0, pic_isr());
	guest_eoi_mode = PLAT_EOI_SPECIFIC;

	/* Poll command: the request as 0x80 | level, and it is in service. */
	cli();
	pit0_start(0, 100);
	while (!pit0_out())
		;
	outb(PIC_M, 0x0c);
	GUEST_ASSERT_EQ(0x80, inb(PIC_M));
	GUEST_ASSERT_EQ(1, pic_isr());
	outb(PIC_M, 0x20);
	outb(PIC_M, 0x0c);
	GUEST_ASSERT_EQ(0, inb(PIC_M));		/* nothing requested */
	sti();
	spin(10000);
	GUEST_ASSERT_EQ(3, guest_irqs[0]);

	/* ELCR: IRQ 0-2, 8 and 13 stay edge-triggered. */
	outb(0x4d0, 0xff);
	GUEST_ASSERT_EQ(0xf8, inb(0x4d0));
	outb(0x4d1, 0xff);
	GUEST_ASSERT_EQ(0xde, inb(0x4d1));
	outb(0x4d1, 0);

	/*
	 * UART THRE interrupt on IRQ 4; the handler leaves the source
	 * alone until its third call. Edge: one interrupt for one rising
	 * edge.
	 */
	outb(0x4d0, 0);
	outb(PIC_M + 1, 0xef);
	guest_irq4_clear_after = 3;
	outb(UART_MCR, 0x08);			/* OUT2 enables the IRQ line */
	outb(UART_IER, 0x02);
	spin(100000);
	GUEST_ASSERT_EQ(1, guest_irqs[4]);
	outb(UART_IER, 0);
	(void)inb(UART_IIR);

	/* Level: delivered again after every EOI while asserted. */
	guest_irqs[4] = 0;
	outb(0x4d0, 0x10);
	GUEST_ASSERT_EQ(0x10, inb(0x4d0));
	outb(UART_IER, 0x02);
	spin(100000);
	GUEST_ASSERT_EQ(3, guest_irqs[4]);
	outb(UART_IER, 0);
	cli();
	GUEST_DONE();
}

/* @len pattern bytes through THR, polling LSR.THRE before each. */
GUEST_CODE
static void guest_uart_puts(uint64_t len)
{
	for (uint64_t i = 0; i < len; i++) {
		while (!(inb(UART_LSR) & LSR_THRE))
			;
		outb(COM1, plat_pattern(i));
	}
	GUEST_DONE();
}

/*
 * @total pattern bytes, 16 at a time with REP OUTSB into the FIFO after
 * THRE. If THRE stays clear for PLAT_UART_STALL_SPINS reads, report
 * SYNC(bytes written so far) and keep waiting.
 */
GUEST_CODE
static void guest_uart_flood(uint64_t total)
{
	uint8_t chunk[16];

	outb(UART_FCR, 0x07);			/* FIFOs on and cleared */
	for (uint64_t i = 0; i < total; i += 16) {
		uint64_t spins = 0, n = 16;
		uint8_t *p = chunk;

		while (!(inb(UART_LSR) & LSR_THRE)) {
			if (++spins == PLAT_UART_STALL_SPINS)
				GUEST_SYNC(i);
		}
		for (int j = 0; j < 16; j++)
			chunk[j] = plat_pattern(i + j);
		asm volatile("rep outsb"
			     : "+S"(p), "+c"(n) : "d"(COM1) : "memory");
	}
	GUEST_DONE();
}

/* Receive @n bytes with RDA interrupts, sleeping in HLT meanwhile. */
GUEST_CODE
static void guest_uart_rx(uint64_t n)
{
	pic_init(0xef, 0xff);
	guest_irq4_mode = PLAT_IRQ4_RX;
	outb(UART_FCR, 0xc7);			/* FIFOs, trigger level 14 */
	outb(UART_MCR, 0x0b);			/* DTR, RTS, OUT2 */
	outb(UART_IER, 0x01);			/* received data available */
	GUEST_SYNC(0);
	cli();
	while (guest_rx_len < n)
		asm volatile("sti; hlt; cli" ::: "memory");
	GUEST_SYNC(guest_rx_len);
	GUEST_DONE();
}

/* Loopback: modem lines, data, overrun; scratch, divisor latch, IIR. */
GUEST_CODE
static void guest_uart_loop(uint64_t unused)
{
	static const char msg[] = "hello";

	(void)unused;
	outb(UART_FCR, 0x07);
	outb(UART_MCR, 0x1f);			/* loop, OUT2, OUT1, RTS, DTR */
	GUEST_ASSERT_EQ(0xf0, inb(UART_MSR));	/* DCD RI DSR CTS, no delta */
	outb(UART_MCR, 0x10);
	GUEST_ASSERT_EQ(0x0f, inb(UART_MSR));	/* all dropped: deltas, TERI */
	GUEST_ASSERT_EQ(0x00, inb(UART_MSR));	/* reading cleared them */

	for (int i = 0; i < 5; i++)
		outb(COM1, msg[i]);
	for (int i = 0; i < 5; i++) {
		GUEST_ASSERT(inb(UART_LSR) & LSR_DR);
		GUEST_ASSERT_EQ(msg[i], inb(COM1));
	}
	GUEST_ASSERT_EQ(0, inb(UART_LSR) & LSR_DR);

	for (int i = 0; i < 17; i++)		/* one more than the FIFO */
		outb(COM1, i);
	GUEST_ASSERT(inb(UART_LSR) & LSR_OE);
	GUEST_ASSERT_EQ(0, inb(UART_LSR) & LSR_OE);
	GUEST_ASSERT_EQ(0, inb(COM1));
	outb(UART_FCR, 0x07);
	GUEST_ASSERT_EQ(0, inb(UART_LSR) & LSR_DR);

	outb(UART_SCR, 0xa5);
	GUEST_ASSERT_EQ(0xa5, inb(UART_SCR));
	outb(UART_LCR, 0x83);			/* DLAB */
	outb(COM1, 0x01);
	outb(UART_IER, 0x00);			/* 115200 baud */
	GUEST_ASSERT_EQ(0x01, inb(COM1));
	outb(UART_LCR, 0x03);
	GUEST_ASSERT_EQ(0x00, inb(UART_IER));
	GUEST_ASSERT_EQ(0xc1, inb(UART_IIR));	/* FIFOs on, no interrupt */
	outb(UART_MCR, 0x03);
	GUEST_DONE();
}

/* Clock registers, modes, SET, UF and PF interrupts, CMOS RAM. */
GUEST_CODE
static void guest_rtc(uint64_t unused)
{
	uint8_t h12, h24, s;

	(void)unused;
	GUEST_ASSERT_EQ(0x02, cmos_read(0x0b));	/* 24 h, BCD */
	GUEST_ASSERT_EQ(0x26, cmos_read(0x0a) & 0x7f);
	GUEST_ASSERT_EQ(0x80, cmos_read(0x0d));
	while (cmos_read(0x0a) & 0x80)		/* UIP */
		;
	GUEST_SYNC_ARGS(cmos_read(0) | cmos_read(2) << 8 | cmos_read(4) << 16,
			cmos_read(7) | cmos_read(8) << 8 | cmos_read(9) << 16 |
			(uint32_t)cmos_read(0x32) << 24, 0, 0);

	/* Binary, then 12-hour: the same hour in both forms. */
	do {
		cmos_write(0x0b, 0x06);
		h24 = cmos_read(4);
		cmos_write(0x0b, 0x04);
		h12 = cmos_read(4);
		cmos_write(0x0b, 0x06);
	} while (cmos_read(4) != h24);
	s = cmos_read(0);
	GUEST_SYNC_ARGS(h12, h24, s, 0);

	/* SET freezes the clock; the year written while set is kept. */
	cmos_write(0x0b, 0x86);
	cmos_write(9, 42);
	s = cmos_read(0);
	spin(100000);
	GUEST_ASSERT_EQ(s, cmos_read(0));
	GUEST_ASSERT_EQ(42, cmos_read(9));
	cmos_write(0x0b, 0x06);
	GUEST_ASSERT_EQ(42, cmos_read(9));

	/* Update-ended interrupt on IRQ 8 (slave IR0, cascade IR2). */
	pic_init(0xfb, 0xfe);
	guest_eoi_mode = PLAT_EOI_NONSPECIFIC;
	(void)cmos_read(0x0c);
	guest_rtc_c = 0;
	sti();
	cmos_write(0x0b, 0x16);
	while (!guest_irqs[8])
		;
	cmos_write(0x0b, 0x06);
	GUEST_ASSERT_EQ(0x90, guest_rtc_c & 0x90);	/* IRQF | UF */

	/* Periodic interrupt, rate 6 (976.5 us): ten of them. */
	guest_rtc_c = 0;
	cmos_write(0x0b, 0x46);
	while (guest_irqs[8] < 11)
		;
	cmos_write(0x0b, 0x06);
	cli();
	GUEST_ASSERT_EQ(0xc0, guest_rtc_c & 0xc0);	/* IRQF | PF */

	/* CMOS RAM set by the host; bit 7 of the index is the NMI mask. */
	GUEST_SYNC_ARGS(cmos_read(0x15) | cmos_read(0x16) << 8,
			cmos_read(0x17) | cmos_read(0x18) << 8,
			cmos_read(0x80 | 0x34) | cmos_read(0x35) << 8, 0);
	cmos_write(0x40, 0x5a);
	GUEST_DONE();
}

/*
 * Alarm interrupts, binary mode, seconds only (minutes and hours "don't
 * care"): each comes when the clock reaches the alarm's second, not one
 * second late and never not at all. The seconds read at each one go to
 * the host, which checks them against its own clock.
 */
GUEST_CODE
static void guest_rtc_alarm(uint64_t rounds)
{
	pic_init(0xfb, 0xfe);
	guest_eoi_mode = PLAT_EOI_NONSPECIFIC;
	cmos_write(0x0b, 0x06);			/* binary, 24 h, no interrupts */
	cmos_write(0x03, 0xff);
	cmos_write(0x05, 0xff);
	(void)cmos_read(0x0c);
	sti();
	for (uint64_t i = 0; i < rounds; i++) {
		uint64_t n = guest_irqs[8];
		uint8_t want, sec;

		while (cmos_read(0x0a) & 0x80)	/* UIP */
			;
		want = (cmos_read(0) + 2) % 60;
		cmos_write(0x01, want);
		guest_rtc_c = 0;
		cmos_write(0x0b, 0x26);		/* AIE */
		/* Until the interrupt, or two seconds after the alarm's. */
		while (guest_irqs[8] == n && (cmos_read(0) + 60 - want) % 60 != 2)
			;
		sec = cmos_read(0);
		cmos_write(0x0b, 0x06);
		GUEST_ASSERT_EQ(0xa0, guest_rtc_c & 0xa0);	/* IRQF | AF */
		GUEST_ASSERT_EQ(want, sec);
		GUEST_SYNC(sec);
	}
	cli();
	GUEST_DONE();
}

GUEST_CODE
static uint32_t pci_cfg_read(int bus, int dev, int fn, int off)
{
	outl(0xcf8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | off);
	return inl(0xcfc);
}

/* Scan bus 0 through 0xcf8/0xcfc: only the host bridge answers. */
GUEST_CODE
static void guest_pci(uint64_t unused)
{
	int absent = 0;

	(void)unused;
	for (int dev = 1; dev < 32; dev++)
		absent += pci_cfg_read(0, dev, 0, 0) == 0xffffffffu;
	GUEST_ASSERT_EQ(31, absent);
	GUEST_ASSERT_EQ(0x12378086, pci_cfg_read(0, 0, 0, 0));
	GUEST_ASSERT_EQ(0x06000002, pci_cfg_read(0, 0, 0, 8));
	GUEST_ASSERT_EQ(0x02800006, pci_cfg_read(0, 0, 0, 4));
	GUEST_ASSERT_EQ(0xffffffffu, pci_cfg_read(0, 0, 1, 0));
	GUEST_ASSERT_EQ(0xffffffffu, pci_cfg_read(1, 0, 0, 0));

	outl(0xcf8, 0x80000003);
	GUEST_ASSERT_EQ(0x80000000, inl(0xcf8));
	GUEST_ASSERT_EQ(0x12, inb(0xcff));
	GUEST_ASSERT_EQ(0x1237, inw(0xcfe));
	outw(0xcfc, 0);				/* vendor ID is read-only */
	GUEST_ASSERT_EQ(0x8086, inw(0xcfc));
	outl(0xcf8, 0x8000000c);
	outb(0xcfd, 0xff);			/* latency timer, 5 bits */
	GUEST_ASSERT_EQ(0xf8, inb(0xcfd));
	outl(0xcf8, 0);				/* enable bit clear */
	GUEST_ASSERT_EQ(0xffffffffu, inl(0xcfc));
	GUEST_DONE();
}

/* Every timer running at 1 kHz or so, then spin with IF=1. */
GUEST_CODE
static void guest_timers_spin(uint64_t unused)
{
	(void)unused;
	pic_init(0xea, 0xfe);			/* IRQ 0, 2 (cascade), 4, 8 */
	pit0_start(2, 1193);			/* 1 kHz */
	cmos_write(0x0b, 0x56);			/* PIE (rate 6, 1 kHz), UIE */
	outb(UART_MCR, 0x08);
	outb(UART_IER, 0x02);
	sti();
	for (int i = 0; i < 100; i++)
		outb(COM1, 'x');
	GUEST_SYNC(0);
	for (;;)
		;
}

/* Host code. */

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

/*
 * Three alarms in a row (guest_rtc_alarm). Each must come in the second
 * it names by the host's CLOCK_REALTIME (the guest never set the clock):
 * an update cycle that read a second that had already ended, like the
 * tick-updated seconds right after a boundary, would match one second
 * late, or, where such stale reads alternate with fresh ones (an idle
 * host wakes up with its time updated), never.
 */
TEST(rtc_alarm_on_time)
{
	struct ucall uc;
	struct vcpu *vcpu;
	struct vm *vm;
	struct timespec ts;

	REQUIRE_VMX();
	vcpu = platform_vm(&vm, LEGACY, guest_rtc_alarm, 3);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &ts));
		ASSERT_EQ(ts.tv_sec % 60, uc.args[0])
			TH_LOG("alarm %d came at host second %ld.%09ld (mod 60)",
			       i, ts.tv_sec % 60, ts.tv_nsec);
	}
	vcpu_run_done(vcpu);
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
