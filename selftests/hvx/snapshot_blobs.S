/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snapshot_blobs.S - the flat guest of snapshot_test, run by hvx-run
 * --flat 0x100000 (32-bit protected mode, flat segments, no paging,
 * interrupts off). Position-independent: only relative jumps and calls,
 * and absolute addresses of its own data below.
 *
 * It prints a counter on COM1, one decimal number per line, from 0. Per
 * step it rewrites one word of a 16 KiB buffer and updates the running
 * sum it keeps of the buffer's words; every 16 steps, and at the end, it
 * adds the buffer up again and compares. A mismatch prints "BAD" and
 * writes SNAP_EXIT_BAD to the debug-exit port 0xf4; at the count limit
 * (SNAP_LIMIT unless patched) it prints "DONE" and writes SNAP_EXIT_DONE.
 *
 * With a dirty count D (snapshot_guest.h), step c also rewrites D pages
 * of the 2 MiB dirty region, pages (c * D + j) mod 512, first and last
 * word, with c + 1, after checking that they hold what the step before
 * that wrote (c - 512 / D + 1, or 0 if none did): a page that a
 * migration lost or sent stale makes it print BAD. With a pace P each
 * step starts at least P TSC ticks after the one before.
 */
#include "snapshot_guest.h"

#define UART_THR	0x3f8
#define UART_LSR	0x3fd
#define LSR_THRE	0x20

	.section .rodata
	.balign	16
	.globl	snap_guest_start, snap_guest_end
	.code32
snap_guest_start:
	jmp	.Lbegin
	.balign	4
	.long	SNAP_LIMIT	/* SNAP_OFF_LIMIT */
	.long	0		/* SNAP_OFF_DIRTY */
	.long	0		/* SNAP_OFF_PACE */
.Lbegin:
	movl	$SNAP_STACK, %esp
	/* buf[i] = i * golden ratio; sum = their sum */
	xorl	%ecx, %ecx
	xorl	%edx, %edx
1:	movl	%ecx, %eax
	imull	$0x9e3779b1, %eax, %eax
	movl	%eax, SNAP_BUF(, %ecx, 4)
	addl	%eax, %edx
	incl	%ecx
	cmpl	$SNAP_WORDS, %ecx
	jb	1b
	movl	%edx, SNAP_SUM
	movl	$0, SNAP_COUNTER
	/* period = SNAP_DIRTY_PAGES / D; the first deadline: now */
	movl	SNAP_P_DIRTY, %ecx
	testl	%ecx, %ecx
	jz	1f
	movl	$SNAP_DIRTY_PAGES, %eax
	xorl	%edx, %edx
	divl	%ecx
	movl	%eax, SNAP_PERIOD
1:	rdtsc
	movl	%eax, SNAP_NEXT
	movl	%edx, SNAP_NEXT + 4

.Lstep:
	/* Pace: wait for the deadline, then set the next one. */
	movl	SNAP_P_PACE, %ecx
	testl	%ecx, %ecx
	jz	2f
1:	rdtsc
	subl	SNAP_NEXT, %eax
	sbbl	SNAP_NEXT + 4, %edx
	jae	3f
	pause
	jmp	1b
3:	addl	%ecx, SNAP_NEXT
	adcl	$0, SNAP_NEXT + 4
2:	movl	SNAP_COUNTER, %eax
	call	.Lprint_dec
	/* The dirty region: D pages, each checked, then rewritten. */
	movl	SNAP_P_DIRTY, %esi
	testl	%esi, %esi
	jz	6f
	movl	SNAP_COUNTER, %edx
	subl	SNAP_PERIOD, %edx
	jae	4f
	movl	$-1, %edx	/* no step wrote these pages yet: 0 */
4:	incl	%edx
	movl	SNAP_COUNTER, %edi
	imull	%esi, %edi
5:	movl	%edi, %ebx
	andl	$(SNAP_DIRTY_PAGES - 1), %ebx
	shll	$12, %ebx
	addl	$SNAP_DIRTY, %ebx
	cmpl	%edx, (%ebx)
	jne	.Lbad
	cmpl	%edx, 4092(%ebx)
	jne	.Lbad
	movl	SNAP_COUNTER, %eax
	incl	%eax
	movl	%eax, (%ebx)
	movl	%eax, 4092(%ebx)
	incl	%edi
	decl	%esi
	jnz	5b
6:
	/* j = counter * 7 mod words; buf[j] = buf[j] * 1103515245 + counter */
	movl	SNAP_COUNTER, %ecx
	imull	$7, %ecx, %ecx
	andl	$(SNAP_WORDS - 1), %ecx
	movl	SNAP_BUF(, %ecx, 4), %ebx
	imull	$1103515245, %ebx, %eax
	addl	SNAP_COUNTER, %eax
	movl	%eax, SNAP_BUF(, %ecx, 4)
	subl	%ebx, %eax
	addl	%eax, SNAP_SUM
	incl	SNAP_COUNTER
	testl	$15, SNAP_COUNTER
	jnz	2f
	call	.Lverify
2:	movl	SNAP_P_LIMIT, %eax
	cmpl	%eax, SNAP_COUNTER
	jb	.Lstep
	call	.Lverify
	movb	$'D', %al
	call	.Lputc
	movb	$'O', %al
	call	.Lputc
	movb	$'N', %al
	call	.Lputc
	movb	$'E', %al
	call	.Lputc
	movb	$'\n', %al
	call	.Lputc
	movb	$SNAP_EXIT_DONE, %al
	outb	%al, $0xf4
3:	hlt
	jmp	3b

/* The buffer's sum must be SNAP_SUM. */
.Lverify:
	xorl	%ecx, %ecx
	xorl	%edx, %edx
1:	addl	SNAP_BUF(, %ecx, 4), %edx
	incl	%ecx
	cmpl	$SNAP_WORDS, %ecx
	jb	1b
	cmpl	SNAP_SUM, %edx
	jne	.Lbad
	ret
.Lbad:
	movb	$'B', %al
	call	.Lputc
	movb	$'A', %al
	call	.Lputc
	movb	$'D', %al
	call	.Lputc
	movb	$'\n', %al
	call	.Lputc
	movb	$SNAP_EXIT_BAD, %al
	outb	%al, $0xf4
3:	hlt
	jmp	3b

/* %eax in decimal and a newline. */
.Lprint_dec:
	movl	$10, %ecx
	pushl	$'\n'
1:	xorl	%edx, %edx
	divl	%ecx
	addl	$'0', %edx
	pushl	%edx
	testl	%eax, %eax
	jnz	1b
2:	popl	%eax
	call	.Lputc
	cmpb	$'\n', %al
	jne	2b
	ret

/* %al to COM1, once the transmitter holds nothing. */
.Lputc:
	pushl	%edx
	movb	%al, %ah
	movw	$UART_LSR, %dx
1:	inb	%dx, %al
	testb	$LSR_THRE, %al
	jz	1b
	movb	%ah, %al
	movw	$UART_THR, %dx
	outb	%al, %dx
	popl	%edx
	ret
snap_guest_end:

	.section .note.GNU-stack, "", @progbits
