// SPDX-License-Identifier: GPL-2.0
/* vmxlife_guest.c - 64-bit guest code of vmxlife_test. */
#include "hvx_guest.h"
#include "vmxlife_guest.h"

/* SYNC(start), SYNC(start + 1), ... forever: every HVX_RUN returns the
 * next number, so a lost or repeated step shows. */
void guest_sync_forever(uint64_t start)
{
	for (uint64_t i = start;; i++)
		GUEST_SYNC(i);
}
