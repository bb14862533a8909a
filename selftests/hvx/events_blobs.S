/* SPDX-License-Identifier: GPL-2.0 */
/*
 * events_blobs.S - real-mode and 32-bit guests for the injection tests of
 * events_test. Copied to GPA_BLOB and entered there. Each waits with
 * interrupts off (SYNC 1), then opens the window and spins; the handlers
 * for EVENTS_IRQ_VECTOR and #GP report SYNC(vector, SP or error code).
 */
#include "guest_layout.h"
#include "events_guest.h"

	.section .rodata.blobs, "a"

/* Real mode: IVT entries point at rm_irq and rm_gp (CS = GPA_BLOB >> 4). */
	.code16
	.globl	ev_rm_start, ev_rm_irq, ev_rm_gp, ev_rm_end
ev_rm_start:
	cli
	movl	$1, %edi
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
	sti
1:	jmp	1b
ev_rm_irq:
	movl	$EVENTS_IRQ_VECTOR, %edi
	movzwl	%sp, %esi		/* 6 bytes below the SP at delivery */
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
	iret
ev_rm_gp:
	movl	$13, %edi
	movzwl	%sp, %esi		/* no error code in real mode */
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
2:	hlt
	jmp	2b
ev_rm_end:

/* 32-bit protected mode, flat, IDT built by the host (32-bit gates). */
	.code32
	.globl	ev_pm_start, ev_pm_irq, ev_pm_gp, ev_pm_end
ev_pm_start:
	cli
	movl	$1, %edi
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
	sti
1:	jmp	1b
ev_pm_irq:
	movl	$EVENTS_IRQ_VECTOR, %edi
	movl	%esp, %esi
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
	iretl
ev_pm_gp:
	movl	$13, %edi
	movl	(%esp), %esi		/* the error code the CPU pushed */
	movl	$UCALL_SYNC, %eax
	outl	%eax, $UCALL_PORT
2:	hlt
	jmp	2b
ev_pm_end:

	.section .note.GNU-stack, "", @progbits
