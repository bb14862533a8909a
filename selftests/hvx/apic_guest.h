/* SPDX-License-Identifier: GPL-2.0 */
/* apic_guest.h - shared between apic_test.c and apic_guest.c. */
#ifndef APIC_GUEST_H
#define APIC_GUEST_H

#define APIC_GPA		0xfee00000
#define IOAPIC_GPA		0xfec00000
#define MSR_X2APIC_BASE		0x800
#define MSR_TSC_DEADLINE	0x6e0
#define CPUID_TIMING_LEAF	0x40000010

/* xAPIC register offsets (SDM Vol. 3A Table 11-1). */
#define APIC_ID			0x20
#define APIC_LVR		0x30
#define APIC_TPR		0x80
#define APIC_PPR		0xa0
#define APIC_EOI		0xb0
#define APIC_LDR		0xd0
#define APIC_SVR		0xf0
#define APIC_ISR		0x100
#define APIC_IRR		0x200
#define APIC_ESR		0x280
#define APIC_ICR		0x300
#define APIC_ICR2		0x310
#define APIC_LVTT		0x320
#define APIC_LVT0		0x350
#define APIC_LVTERR		0x370
#define APIC_TMICT		0x380
#define APIC_TMCCT		0x390
#define APIC_TDCR		0x3e0

/* Vectors the tests use. */
#define V_TIMER			0x40
#define V_IPI_PHYS		0x50
#define V_IPI_LOGICAL		0x51
#define V_IPI_SELF		0x52
#define V_IPI_OTHERS		0x53
#define V_IPI_ALL		0x54
#define V_TPR_CR8		0x55
#define V_TPR_MMIO		0x56
#define V_IPI_LOWEST		0x57
#define V_IO_EDGE		0x60
#define V_IO_LEVEL		0x61
#define V_IO_MASKED		0x62
#define V_IO_EDGE_MASKED	0x63
#define V_MSI			0x70
#define V_MSI_IRQFD		0x71
#define V_GSI_IRQFD		0x72
#define V_RESAMPLE		0x73
#define V_STORM			0x74
#define V_ERROR			0x7e
#define V_PIC_BASE		0x30	/* the PIC's IRQ 0-7 in guest_extint() */

/* PIC input guest_extint() uses. */
#define PIC_IRQ_EXTINT		3

/* GSIs. */
#define GSI_EDGE		5
#define GSI_EDGE_MASKED		6
#define GSI_LEVEL		9
#define GSI_MASKED		10
#define GSI_IRQFD		11
#define GSI_RESAMPLE		12

/* guest_timer() modes. */
#define TIMER_ONESHOT		0
#define TIMER_PERIODIC		1
#define TIMER_DEADLINE		2
#define TIMER_HOSTILE		3

#define TIMER_ONESHOT_NS	2000000		/* 2 ms */
#define TIMER_PERIOD_NS		1000000		/* 1 ms */
#define TIMER_WINDOW_MS		20

/* guest_delivery_exit(): a slot the guest has never touched, for a stack. */
#define GPA_FRESH_STACK		0x50000000ull
#define FRESH_STACK_SIZE	0x2000

/* guest_apic_states(): what the host answers for a read of the page. */
#define STATES_MMIO_DATA	0x5a5a1234u

#ifndef __ASSEMBLER__
#include <stdint.h>

extern volatile uint64_t guest_irqs[256];
extern volatile uint64_t guest_irq_tsc[256];
extern volatile uint64_t guest_eoi_limit[256];
extern volatile uint64_t guest_x2apic;
extern volatile uint64_t guest_rx_ready, guest_stop, guest_ap_initing;
extern const char guest_irq_stubs[];

void guest_timer(uint64_t mode);
void guest_tpr(uint64_t unused);
void guest_ipi_rx(uint64_t unused);
void guest_ipi_tx(uint64_t unused);
void guest_boot_ap(uint64_t self_init);
void guest_self_init(uint64_t unused);
void guest_ioapic(uint64_t unused);
void guest_wait_irqs(uint64_t unused);
void guest_x2apic_rules(uint64_t unused);
void guest_ipi_storm(uint64_t n);
void guest_reg_reads(uint64_t n);
void guest_self_ipis(uint64_t n);
void guest_extint(uint64_t unused);
void guest_delivery_exit(uint64_t unused);
void guest_if_blocks(uint64_t cycles);
void guest_lapic_snapshot(uint64_t unused);
void guest_apic_states(uint64_t unused);

/* guest_fastpath(): EOI, TPR and TSC-deadline writes per loop. */
#define FAST_APIC_LOOPS		200
void guest_fastpath(uint64_t unused);
#endif

#endif
