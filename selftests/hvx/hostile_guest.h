/* SPDX-License-Identifier: GPL-2.0 */
/* hostile_guest.h - shared between hostile_test.c and hostile_guest.c. */
#ifndef HOSTILE_GUEST_H
#define HOSTILE_GUEST_H

#include <stdint.h>

void guest_wild_msr_cr(uint64_t seed);

#endif
