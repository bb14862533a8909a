/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapshot_guest.h - what snapshot_blobs.S (the flat guest) and
 * snapshot_test.c share. Guest-physical addresses; hvx-run loads the
 * guest at 0x100000 and gives it SNAP_MEM of RAM.
 */
#ifndef SNAPSHOT_GUEST_H
#define SNAPSHOT_GUEST_H

#define SNAP_MEM	"8M"
#define SNAP_LOAD	"0x100000"
#define SNAP_STACK	0x1fe000	/* stack top */
#define SNAP_COUNTER	0x1ff000	/* the counter (32 bits) */
#define SNAP_SUM	0x1ff004	/* the running sum of the buffer */
#define SNAP_BUF	0x200000	/* the buffer, SNAP_WORDS 32-bit words */
#define SNAP_WORDS	4096		/* a power of two */
#define SNAP_LIMIT	1000		/* the last counter printed is one less */
#define SNAP_EXIT_DONE	0x10		/* hvx-run exits (v << 1) | 1 = 0x21 */
#define SNAP_EXIT_BAD	0x11		/* 0x23: the sum did not match */

/*
 * Parameters at the start of the guest (after a 2-byte jump), which
 * snapshot_test patches in its copy of the file: the count to reach, the
 * pages of the dirty region it rewrites per step (0: none; a power of
 * two up to SNAP_DIRTY_PAGES) and the TSC ticks a step takes at least
 * (0: as fast as it goes), so that it dirties memory at a fixed rate.
 */
#define SNAP_OFF_LIMIT	4		/* file offsets (u32 each) */
#define SNAP_OFF_DIRTY	8
#define SNAP_OFF_PACE	12
#define SNAP_P_LIMIT	(0x100000 + SNAP_OFF_LIMIT)	/* guest addresses */
#define SNAP_P_DIRTY	(0x100000 + SNAP_OFF_DIRTY)
#define SNAP_P_PACE	(0x100000 + SNAP_OFF_PACE)
#define SNAP_PERIOD	0x1ff008	/* steps between rewrites of a page */
#define SNAP_NEXT	0x1ff010	/* TSC deadline of the next step (u64) */
#define SNAP_DIRTY	0x400000	/* the dirty region */
#define SNAP_DIRTY_PAGES 512		/* 2 MiB */

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The guest's image (snapshot_blobs.S); the host's side: flat_guest.c. */
extern const char snap_guest_start[], snap_guest_end[];
bool flat_guest_write(const char *path, uint32_t limit, uint32_t dirty,
		      uint32_t pace);
long check_counter(const char *out, bool *done, bool *bad, char *why,
		   size_t len);
uint32_t crc32_ieee(const void *data, size_t len);
#endif

#endif
