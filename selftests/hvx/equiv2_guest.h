/* SPDX-License-Identifier: GPL-2.0 */
/* equiv2_guest.h - shared between equiv2_test.c and equiv2_guest.c. */
#ifndef EQUIV2_GUEST_H
#define EQUIV2_GUEST_H

#include <stdint.h>

void guest_fault_rflags(uint64_t arg);
void guest_tsc_adjust(uint64_t arg);
void guest_double_fault(uint64_t triple);
void guest_cpuid_consistent(uint64_t arg);
void guest_cr4_native(uint64_t arg);

#endif
