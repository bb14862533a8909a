/* SPDX-License-Identifier: GPL-2.0 */
/* modes_guest.h - what modes_blobs.S shares with modes_test.c. */
#ifndef MODES_GUEST_H
#define MODES_GUEST_H

#define RM_RESULT_GPA	(GPA_BLOB_DATA + 0x100)	/* ES:0x100 */
#define RM_FAR_CS	0x0ff0
#define PM_RESULT_GPA	(GPA_BLOB_DATA + 0x200)
#define MS_TSS_GPA	(GPA_BLOB_DATA + 0x800)
#define MS_STACK_TOP	(GPA_BLOB_DATA + 0x1000)
#define MS_MAGIC64	0x0123456789abcdef

#ifndef __ASSEMBLER__
/* modes_blobs.S: copied to GPA_BLOB and run there */
extern const char rm_start[], rm_far[], rm_end[];	/* real mode */
extern const char pm_start[], pm_ret[], pm_end[];	/* 32-bit protected */
extern const char ms_start[], ms_end[];		/* real -> 64-bit switch */
#endif

#endif /* MODES_GUEST_H */
