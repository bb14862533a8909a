/* SPDX-License-Identifier: GPL-2.0 */
/* debug_guest.h - shared between debug_test.c and debug_guest.c. */
#ifndef DEBUG_GUEST_H
#define DEBUG_GUEST_H

#include <stdint.h>

/* Ports the host answers (reads return 0): one watched, one not. */
#define DBG_PORT_WATCHED	0xea
#define DBG_PORT_OTHER		0xec

void guest_debug_matrix(uint64_t cpl);

#endif
