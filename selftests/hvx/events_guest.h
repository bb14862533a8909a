/* SPDX-License-Identifier: GPL-2.0 */
/*
 * events_guest.h - what events_blobs.S (the real-mode and 32-bit guests)
 * shares with events_test.c.
 */
#ifndef EVENTS_GUEST_H
#define EVENTS_GUEST_H

#define EVENTS_IRQ_VECTOR	0x40

#ifndef __ASSEMBLER__
extern const char ev_rm_start[], ev_rm_irq[], ev_rm_gp[], ev_rm_end[];
extern const char ev_pm_start[], ev_pm_irq[], ev_pm_gp[], ev_pm_end[];
#endif /* __ASSEMBLER__ */

#endif
