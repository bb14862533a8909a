/* SPDX-License-Identifier: GPL-2.0 */
/* passthrough_guest.h - shared by passthrough_test.c and passthrough_guest.c. */
#ifndef PASSTHROUGH_GUEST_H
#define PASSTHROUGH_GUEST_H

#include <stdint.h>

#define PT_E1000_ID	0x100e8086u	/* device << 16 | vendor */
#define PT_BAR_GPA	0xc0000000ull	/* where the guest puts BAR0 */
#define PT_BAR_GPA2	0xd0000000ull	/* ... and where it moves it */
#define PT_BAR_SIZE	0x20000u	/* the 82540EM's 128 KiB register BAR */
#define PT_TRAP_VALUE	0x5a5a5a5au	/* host's answer to a trapped read */

#define PT_E1000_STATUS	0x0008		/* 8254x SDM 13.4.2 */
#define PT_E1000_EERD	0x0014		/* 13.4.4: EEPROM read */
#define PT_EERD_START	(1u << 0)
#define PT_EERD_DONE	(1u << 4)

#define PT_E1000_ICR	0x00c0		/* 13.4.17: cause, read to clear */
#define PT_E1000_ICS	0x00c8		/* 13.4.19: cause set */
#define PT_E1000_IMS	0x00d0		/* 13.4.20: mask set */
#define PT_E1000_IMC	0x00d8		/* 13.4.21: mask clear */
#define PT_E1000_TXDW	(1u << 0)	/* a cause: transmit descriptor written back */

#define PT_VECTOR	0x41		/* the guest's vector for the e1000 */
#define PT_INTX_ROUNDS	3

#define PT_NE2K_ID	0x802910ecu	/* RTL8029 (PCI NE2000) */
#define PT_NE2K_PROM	32		/* bytes of station address PROM */
#define PT_NE2K_MOVED	0x3000		/* a port that is not the host's */
#define PT_NE2K_TRAP	0x77		/* host's answer there, decode off */

extern volatile uint8_t guest_pt_prom[PT_NE2K_PROM];
extern volatile uint8_t guest_pt_prom_moved[PT_NE2K_PROM];
extern volatile uint64_t guest_pt_spins;

void guest_pt_e1000(uint64_t unused);
void guest_pt_ne2k(uint64_t unused);
void guest_pt_port_spin(uint64_t unused);
void guest_pt_unassigned(uint64_t unused);
void guest_pt_storm(uint64_t unused);
void guest_pt_intx(uint64_t unused);
void guest_pt_irq_stub(void);
void guest_pt_wbinvd(uint64_t n);
void guest_pt_toggles(uint64_t n);

#endif
