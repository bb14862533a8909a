/* SPDX-License-Identifier: GPL-2.0 */
/* vmxlife_guest.h - what vmxlife_test's host and guest sides share. */
#ifndef VMXLIFE_GUEST_H
#define VMXLIFE_GUEST_H

#include <stdint.h>

void guest_sync_forever(uint64_t start);

#endif
