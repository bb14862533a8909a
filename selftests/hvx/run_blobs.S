/* SPDX-License-Identifier: GPL-2.0 */
/*
 * run_blobs.S - the multiboot test kernel (mbkernel/, built by the
 * Makefile into MBKERNEL_ELF) embedded in run_test, which writes it to a
 * file for hvx-run.
 */
	.section .rodata
	.balign	16
	.globl	mbkernel_start, mbkernel_end
mbkernel_start:
	.incbin	MBKERNEL_ELF
mbkernel_end:

	.section .note.GNU-stack, "", @progbits
