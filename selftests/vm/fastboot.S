/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastboot.S - start an uncompressed x86-64 Linux kernel from a bzImage shell.
 *
 * Why: Debian's vmlinuz is XZ-compressed, and under Bochs the kernel's own
 * decompressor executes about 4.5G instructions, almost two minutes of wall
 * time before the kernel prints a line. check.sh therefore builds, for
 * Bochs only, a bzImage whose real-mode setup code is the original one but
 * whose protected-mode part is this stub followed by the already
 * decompressed kernel image (objcopy -O binary of vmlinux).
 *
 * The real-mode setup code fills boot_params and jumps here in 32-bit
 * protected mode, paging off, %esi = boot_params (boot.rst, "32-bit BOOT
 * PROTOCOL"). We do what arch/x86/boot/compressed does minus the
 * decompression: put the kernel image at its physical load address, clear
 * what follows it up to the end of its memory, build an identity map,
 * enter long mode and jump to startup_64 with %rsi = boot_params
 * (arch/x86/kernel/head_64.S: "someone has loaded an identity mapped page
 * table for us ... %rsi holds a physical pointer to real_mode_data").
 *
 * Layout of the protected-mode part, loaded at hdr.code32_start (0x100000,
 * the header is marked not relocatable):
 *   0x0000  this code; a stack grows down from 0x1000
 *   0x1000  PML4, 0x2000 PDPT, 0x3000-0x6fff four page directories
 *           (identity map of the low 4 GiB with 2 MiB pages)
 *   0x7000  the kernel image, KSIZE bytes, to be copied to KDEST
 *
 * Assembled by check.sh with --defsym:
 *   KSIZE   bytes of kernel image in this file (multiple of 4)
 *   KMEMSZ  bytes from KDEST to the end of the kernel's memory (bss etc.,
 *           zeroed here; multiple of 4, >= KSIZE)
 *   KDEST   physical address of the image (LOAD_PHYSICAL_ADDR, 16 MiB),
 *           above this file so that a backward copy is safe
 *   KENTRY  physical address of startup_64 (the ELF entry point)
 */

	.text
	.code32
	.globl	_start
_start:
	cli
	cld
	movl	%esi, %ebx			/* boot_params, kept in %ebx */
	movl	0x214(%ebx), %ebp		/* hdr.code32_start: our base */
	leal	0x1000(%ebp), %esp

	/* Kernel image to KDEST. Destination above source: copy backwards. */
	leal	(0x7000 + KSIZE - 4)(%ebp), %esi
	movl	$(KDEST + KSIZE - 4), %edi
	movl	$(KSIZE / 4), %ecx
	std
	rep movsl
	cld

	/* Zero the rest of the kernel's memory (bss, brk, scratch). */
	movl	$(KDEST + KSIZE), %edi
	movl	$((KMEMSZ - KSIZE) / 4), %ecx
	xorl	%eax, %eax
	rep stosl

	/* Identity map of 4 GiB. */
	leal	0x1000(%ebp), %edi
	movl	$(0x6000 / 4), %ecx
	xorl	%eax, %eax
	rep stosl
	leal	0x2003(%ebp), %eax		/* PML4[0] -> PDPT, P|RW */
	movl	%eax, 0x1000(%ebp)
	leal	0x3003(%ebp), %eax		/* PDPT[0..3] -> PD0..PD3 */
	leal	0x2000(%ebp), %edi
	movl	$4, %ecx
1:	movl	%eax, (%edi)
	addl	$0x1000, %eax
	addl	$8, %edi
	loop	1b
	movl	$0x83, %eax			/* 2 MiB pages, P|RW|PS */
	leal	0x3000(%ebp), %edi
	movl	$2048, %ecx
2:	movl	%eax, (%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	2b

	/* Our GDT: 64-bit code at __KERNEL_CS (0x10), data at 0x18. */
	leal	gdt(%ebp), %eax
	movl	%eax, (gdt_desc + 2)(%ebp)
	lgdt	gdt_desc(%ebp)
	movl	$0x18, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%eax, %ss

	/* Long mode: PAE, CR3, EFER.LME, then paging. */
	movl	%cr4, %eax
	orl	$0x20, %eax
	movl	%eax, %cr4
	leal	0x1000(%ebp), %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx
	rdmsr
	orl	$0x100, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000001, %eax
	movl	%eax, %cr0

	leal	start64(%ebp), %eax
	pushl	$0x10
	pushl	%eax
	lret

	.code64
start64:
	movl	%ebx, %esi			/* boot_params, zero-extended */
	movl	$KENTRY, %eax
	jmp	*%rax

	.balign	8
gdt:
	.quad	0
	.quad	0
	.quad	0x00af9a000000ffff		/* 0x10: 64-bit code */
	.quad	0x00cf92000000ffff		/* 0x18: flat data */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	0
