/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmio_insn_guest.h - what mmio_insn_test's host and guest share.
 *
 * Every case runs one instruction (or a short sequence) twice: on two
 * RAM regions (the reference: the CPU itself), then with the source
 * region (RSI, RBX) and/or the destination region (RDI) on MMIO, which
 * the host backs with plain memory. The guest compares the registers,
 * the flags and both regions' contents between the runs.
 */
#ifndef MMIO_INSN_GUEST_H
#define MMIO_INSN_GUEST_H

#include "guest_layout.h"

#define INSN_REGION	64			/* bytes per region */
/* RAM: reference source and destination, then those beside MMIO. */
#define INSN_RAM_A	(GPA_BLOB_DATA + 0x1000)
#define INSN_RAM_B	(GPA_BLOB_DATA + 0x1100)
#define INSN_RAM_C	(GPA_BLOB_DATA + 0x1200)
#define INSN_RAM_D	(GPA_BLOB_DATA + 0x1300)
#define INSN_MMIO_A	(GPA_MMIO + 0x100)
#define INSN_MMIO_B	(GPA_MMIO + 0x200)
#define INSN_MMIO_SIZE	0x1000			/* the host's device memory */

/* Case placement: which region is MMIO in the second run. */
#define SRC_MMIO	1
#define DST_MMIO	2

/* GUEST_SYNC_ARGS(INSN_MISMATCH, case << 12 | offset << 4 | what,
 * reference, MMIO); what: 1-6 RAX RBX RCX RDX RSI RDI, 7 RFLAGS, 8 and 9
 * the source and destination regions (offset: the quadword there). */
#define INSN_MISMATCH	0x4d4d
/* GUEST_SYNC(INSN_AVX_DONE): the VEX cases (100 and up) ran. */
#define INSN_AVX_DONE	0x4156

#ifndef __ASSEMBLER__
#include <stdint.h>

void guest_mmio_insns(uint64_t unused);
void guest_mmio_unknown(uint64_t unused);
extern const char unknown_neg[], unknown_imul[];
#endif

#endif /* MMIO_INSN_GUEST_H */
