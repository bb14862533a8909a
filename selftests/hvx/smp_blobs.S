/* SPDX-License-Identifier: GPL-2.0 */
/*
 * smp_blobs.S - the real-mode AP trampoline of smp_test, at GPA_BLOB: a
 * SIPI with vector GPA_BLOB >> 12 starts an AP here with CS = GPA_BLOB >> 4,
 * IP = 0. It counts itself at GPA_BLOB_DATA, reports SYNC(SMP_AP_SYNC) and
 * halts with interrupts off (an HLT exit to userspace).
 */
#include "guest_layout.h"
#include "smp_guest.h"

	.section .rodata.blobs, "a"
	.code16
	.globl	smp_ap_start, smp_ap_end
smp_ap_start:
	movw	$(GPA_BLOB_DATA >> 4), %ax
	movw	%ax, %ds
	lock incw %ds:0
	movl	$SMP_AP_SYNC, %edi
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
1:	cli
	hlt
	jmp	1b
smp_ap_end:

	.section .note.GNU-stack, "", @progbits
