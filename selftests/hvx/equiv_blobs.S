/* SPDX-License-Identifier: GPL-2.0 */
/*
 * equiv_blobs.S - a 32-bit guest that attempts a task switch: a far JMP
 * to a TSS descriptor (SDM Vol. 3A 8.3). Task switches always exit (SDM
 * Vol. 3C 26.1.2); hvx does not emulate them and stops the VM.
 */
#include "guest_layout.h"

	.section .rodata.blobs, "a"
	.code32
	.globl	ts_start, ts_end
ts_start:
	ljmp	$0x30, $0
	hlt
ts_end:

	.section .note.GNU-stack, "", @progbits
