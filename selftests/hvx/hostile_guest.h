/* SPDX-License-Identifier: GPL-2.0 */
/* hostile_guest.h - shared between hostile_test.c and hostile_guest.c. */
#ifndef HOSTILE_GUEST_H
#define HOSTILE_GUEST_H

#include <stdint.h>

#define STORM_IRQ_VECTOR	0x41

void guest_wild_msr_cr(uint64_t seed);
void guest_storm(uint64_t want);
void guest_touch_gpas(uint64_t first);
extern volatile uint64_t guest_storm_irqs, guest_storm_nmis;
extern const char guest_storm_irq_stub[], guest_storm_nmi_stub[];

#endif
