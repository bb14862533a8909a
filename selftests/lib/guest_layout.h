/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest_layout.h - what the host side of the test library and guest code
 * agree on: the guest-physical memory map, the GDT selectors, and the ports
 * a guest uses to talk to the host. Only #defines (and one struct for C), so
 * that .S files can include it too.
 *
 * Guest-physical memory of a VM made by vm_create() (identity-mapped by the
 * guest page tables, so guest-virtual == guest-physical everywhere):
 *
 *   0x00000-0x00fff  free (the real-mode IVT lives here)
 *   0x01000          GDT (see the selectors below)
 *   0x02000          64-bit IDT: 32 gates to the lib's exception stubs
 *   0x03000          TSS (104 bytes, no I/O bitmap)
 *   0x04000          PML4, 0x05000 PDPT, 0x06000-0x09fff four PDs:
 *                    0..4 GiB identity-mapped with 2 MiB pages
 *   0x10000-0x1ffff  16/32-bit code blobs are copied here and run from here
 *   0x20000-0x2ffff  scratch data for blobs
 *   0x30000-0x7ffff  vCPU stacks, 32 KiB per vCPU, downwards from 0x80000
 *   0xa0000-0xfffff  HOLE: no memory slot (like a PC's VGA/BIOS window), so
 *                    accesses here are MMIO exits, reachable from real mode
 *   0x100000-end     RAM; the test binary's PT_LOAD segments sit at their
 *                    link addresses (0x400000 up; static, non-PIE), so guest
 *                    C code runs at the same addresses as in the host process
 *   0x40000000       GPA_MMIO: never backed by a slot; within rel32 reach of
 *                    the binary, so RIP-relative MMIO accesses are possible
 *
 * RAM is two slots backed by one host mapping (HVA = ram + GPA): slot 0 is
 * [0, 0xa0000), slot 1 is [0x100000, ram_size).
 */
#ifndef HVX_SELFTEST_GUEST_LAYOUT_H
#define HVX_SELFTEST_GUEST_LAYOUT_H

#define GPA_GDT			0x1000
#define GPA_IDT			0x2000
#define GPA_TSS			0x3000
#define GPA_PML4		0x4000
#define GPA_PDPT		0x5000
#define GPA_PD			0x6000
#define GPA_BLOB		0x10000
#define GPA_BLOB_DATA		0x20000
#define GPA_STACKS_BOTTOM	0x30000
#define GPA_STACKS_TOP		0x80000
#define GUEST_STACK_SIZE	0x8000
#define GPA_LOW_RAM_END		0xa0000
#define GPA_HOLE_END		0x100000
#define GPA_VGA			0xb8000
#define GPA_MMIO		0x40000000

#define RAM_SLOT_LOW		0
#define RAM_SLOT_HIGH		1

/* GDT at GPA_GDT; the TSS descriptor takes two slots in 64-bit mode. */
#define SEL_CODE64		0x08
#define SEL_DATA		0x10
#define SEL_CODE32		0x18
#define SEL_TSS			0x20
#define GDT_LIMIT		(0x30 - 1)
#define TSS_LIMIT		0x67
#define IDT_VECTORS		32

/*
 * ucall: the guest executes "outl %eax, $UCALL_PORT" with
 *   EAX = command (UCALL_*; also the 4 bytes of I/O data),
 *   RDI, RSI, RDX, RCX = arguments 0-3,
 * so the same protocol works from 16-, 32- and 64-bit code. The host sees an
 * HVX_EXIT_IO (out, size 4, count 1, port UCALL_PORT), reads the arguments
 * with HVX_GET_REGS, and resumes the guest with HVX_RUN.
 */
#define UCALL_PORT		0xe8
#define UCALL_NONE		0	/* not a ucall (host side only) */
#define UCALL_SYNC		1	/* progress report, args are values */
#define UCALL_ASSERT		2	/* arg0 = &guest_assert_info, arg1/2 values */
#define UCALL_DONE		3	/* guest finished */
#define UCALL_UNHANDLED		4	/* exception: vector, error code, RIP */

/*
 * MARK_PORT: an "out" here right after an instruction under test tells the
 * host exactly which instruction the guest reached (RIP of the exit), without
 * disturbing any register; tests use it to check RIP after emulation.
 */
#define MARK_PORT		0xe4

#ifndef __ASSEMBLER__
/* Static data behind a UCALL_ASSERT; lives in guest memory (.rodata). */
struct guest_assert_info {
	const char *file;
	const char *expr;
	int line;
	int nvalues;		/* how many of arg1, arg2 are meaningful */
};
#endif

#endif /* HVX_SELFTEST_GUEST_LAYOUT_H */
