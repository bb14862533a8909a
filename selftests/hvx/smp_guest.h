/* SPDX-License-Identifier: GPL-2.0 */
/*
 * smp_guest.h - what smp_blobs.S (the real-mode AP trampoline) shares
 * with the C programs that start APs in it (smp_test, apic_test).
 */
#ifndef SMP_GUEST_H
#define SMP_GUEST_H

#define SMP_AP_SYNC		0xab	/* SYNC argument of a started AP */

#ifndef __ASSEMBLER__
extern const char smp_ap_start[], smp_ap_end[];
#endif

#endif
