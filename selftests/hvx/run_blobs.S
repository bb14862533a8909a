/* SPDX-License-Identifier: GPL-2.0 */
/*
 * run_blobs.S - the multiboot test kernel (mbkernel/, built by the
 * Makefile into MBKERNEL_ELF, and linked at 0x8000 into MBKERNEL_LOW_ELF)
 * embedded in run_test, which writes it to a
 * file for hvx-run.
 */
	.section .rodata
	.balign	16
	.globl	mbkernel_start, mbkernel_end
mbkernel_start:
	.incbin	MBKERNEL_ELF
mbkernel_end:

	.balign	16
	.globl	mbkernel_low_start, mbkernel_low_end
mbkernel_low_start:
	.incbin	MBKERNEL_LOW_ELF
mbkernel_low_end:

	.section .note.GNU-stack, "", @progbits
