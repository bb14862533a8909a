/* SPDX-License-Identifier: GPL-2.0 */
/* smp_guest.h - shared between smp_test.c, smp_guest.c and smp_blobs.S. */
#ifndef SMP_GUEST_H
#define SMP_GUEST_H

#define SMP_AP_SYNC		0xab	/* SYNC argument of a started AP */
#define SMP_IRQ_VECTOR		0x41
#define SMP_ICR_LO		0xfee00300	/* xAPIC ICR (SDM Vol. 3A 11.6.1) */
#define SMP_ICR_HI		0xfee00310

#ifndef __ASSEMBLER__
#include <stdint.h>

void guest_bsp_boot(uint64_t n_aps);
void guest_sti_hlt(uint64_t unused);
void guest_topology(uint64_t unused);
/* guest_spin_holder(n): n busy iterations, then sets guest_spin_flag. */
void guest_spin_holder(uint64_t n);
/* guest_spin_waiter(): PAUSE until guest_spin_flag is set. */
void guest_spin_waiter(uint64_t unused);
extern volatile uint64_t guest_spin_flag;
extern volatile uint64_t guest_smp_irqs;
extern const char guest_smp_irq_stub[];
extern const char smp_ap_start[], smp_ap_end[];
#endif

#endif
