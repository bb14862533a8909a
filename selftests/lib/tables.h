/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tables.h - the guest's descriptor tables, page tables and 64-bit mode
 * segment state (tables.c), independent of the hypervisor: the selftests
 * (modes.c) and userspace/bench, which runs the same guest under hvx and
 * KVM, build them with these.
 */
#ifndef HVX_SELFTEST_TABLES_H
#define HVX_SELFTEST_TABLES_H

#include <stdint.h>

#include "hvx.h"
#include "guest_layout.h"

/* The segment registers as the CPU caches them, one per GDT entry. */
extern const struct hvx_segment tables_seg_code64, tables_seg_code32;
extern const struct hvx_segment tables_seg_data, tables_seg_tr, tables_seg_ldt;

void tables_init(uint8_t *ram);
void tables_set_gate(uint8_t *ram, int vector, uint64_t handler);
void tables_long_sregs(struct hvx_sregs *sregs);

#endif /* HVX_SELFTEST_TABLES_H */
