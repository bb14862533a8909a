// SPDX-License-Identifier: GPL-2.0
/*
 * platform_guest.c - 64-bit guest code of platform_test: drives the
 * in-kernel PIC, PIT, UART, RTC and PCI host bridge through their ports,
 * with interrupt handlers for the 16 PIC vectors (0x20-0x2f).
 */
#include "hvx_guest.h"
#include "platform_guest.h"

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

volatile uint64_t guest_irqs[16];
volatile uint64_t guest_eoi_mode;
volatile uint64_t guest_irq4_mode;
volatile uint64_t guest_irq4_clear_after;	/* 0: never */
volatile uint8_t guest_rx_buf[PLAT_RX_MAX];
volatile uint64_t guest_rx_len;
volatile uint64_t guest_rtc_c;
volatile uint64_t guest_irq0_mask_at;		/* 0: never */

static inline void sti(void)
{
	asm volatile("sti" ::: "memory");
}

static inline void cli(void)
{
	asm volatile("cli" ::: "memory");
}

/* Busy loop that lets pending interrupts in (IF is whatever it is). */
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
asm(".pushsection .text\n"
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

static uint8_t cmos_read(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
	outb(0x70, idx);
	outb(0x71, v);
}

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

void guest_irq_dispatch(uint64_t irq);
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

static uint8_t pic_irr(void)
{
	outb(PIC_M, 0x0a);
	return inb(PIC_M);
}

static uint8_t pic_isr(void)
{
	outb(PIC_M, 0x0b);
	return inb(PIC_M);
}

/* Spin until IRQ @irq was taken @n times, or give up after a while. */
static void wait_irqs(int irq, uint64_t n)
{
	for (uint64_t i = 0; guest_irqs[irq] < n && i < 10000000; i++)
		;
}

/* Channel 0: control word for @mode (LSB then MSB, binary), count. */
static void pit0_start(int mode, uint16_t count)
{
	outb(0x43, 0x30 | mode << 1);
	outb(0x40, count & 0xff);
	outb(0x40, count >> 8);
}

/* Channel 0's OUT from a read-back status. */
static int pit0_out(void)
{
	outb(0x43, 0xe2);
	return inb(0x40) & 0x80;
}

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
void guest_pit_rate(uint64_t divisor)
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
void guest_pit_ch2(uint64_t unused)
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
void guest_pic(uint64_t unused)
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
void guest_uart_puts(uint64_t len)
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
void guest_uart_flood(uint64_t total)
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
void guest_uart_rx(uint64_t n)
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
void guest_uart_loop(uint64_t unused)
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
void guest_rtc(uint64_t unused)
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

static uint32_t pci_cfg_read(int bus, int dev, int fn, int off)
{
	outl(0xcf8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | off);
	return inl(0xcfc);
}

/* Scan bus 0 through 0xcf8/0xcfc: only the host bridge answers. */
void guest_pci(uint64_t unused)
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
void guest_timers_spin(uint64_t unused)
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
