/* SPDX-License-Identifier: GPL-2.0 */
/* hypercall_guest.h - shared between hypercall_test.c and hypercall_guest.c. */
#ifndef HYPERCALL_GUEST_H
#define HYPERCALL_GUEST_H

#include <stdint.h>

/* A number no one defines, and one the VMM takes (HVX_SET_HYPERCALL_EXITS). */
#define HC_UNKNOWN		0x7fff0000ull
#define HC_USER			100
/* The result the VMM gives HC_USER, and the register patterns. */
#define HC_USER_RET		0x1122334455667788ull
#define HC_PATTERN(reg)		(0xa5a5000000000000ull | (uint64_t)(reg) << 40 | \
				 0x1000 | (reg))

/* The vector of the paravirtual IPI. */
#define V_PV_IPI		0x60

/* The last page of the lower canonical half: 0x7ffffffff000. */
#define EDGE_PAGE		0x00007ffffffff000ull

/* guest_edge() cases. */
#define EDGE_STRADDLE		0	/* 0F 01 at ...FFE: C1 beyond the edge */
#define EDGE_ENDS_AT_EDGE	1	/* 0F 01 C1 at ...FFD: next RIP beyond */

void guest_basic(uint64_t unused);
void guest_user(uint64_t unused);
void guest_edge(uint64_t which);
void guest_all_regs(uint64_t unused);
void guest_kick_waiter(uint64_t unused);
void guest_kicker(uint64_t target);
void guest_ipi_rx(uint64_t unused);
void guest_ipi_tx(uint64_t unused);
void guest_yield(uint64_t target);
void guest_features(uint64_t unused);
void guest_pv_ipi_entry(void);

extern volatile uint64_t guest_pv_ipis[4];
extern volatile uint64_t guest_spin_ctr;

#endif /* HYPERCALL_GUEST_H */
