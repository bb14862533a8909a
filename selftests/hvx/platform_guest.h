/* SPDX-License-Identifier: GPL-2.0 */
/* platform_guest.h - shared between platform_test.c and platform_guest.c. */
#ifndef PLATFORM_GUEST_H
#define PLATFORM_GUEST_H

#include <stdint.h>

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

void guest_pit_rate(uint64_t divisor);
void guest_pit_ch2(uint64_t unused);
void guest_pic(uint64_t unused);
void guest_uart_puts(uint64_t len);
void guest_uart_flood(uint64_t total);
void guest_uart_rx(uint64_t n);
void guest_uart_loop(uint64_t unused);
void guest_rtc(uint64_t unused);
void guest_pci(uint64_t unused);
void guest_timers_spin(uint64_t unused);

/* The byte a guest sends at offset i (detects loss and reordering). */
static inline uint8_t plat_pattern(uint64_t i)
{
	return (uint8_t)(i ^ (i >> 8) ^ (i >> 16));
}

extern const uint64_t guest_irq_stubs[16];
extern volatile uint64_t guest_irqs[16];
extern volatile uint8_t guest_rx_buf[PLAT_RX_MAX];
extern volatile uint64_t guest_rx_len;

#endif
