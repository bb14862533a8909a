/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - what the benchmark's guest code and its two drivers (hvx and
 * KVM) agree on beyond the selftests' guest library (selftests/lib/:
 * guest_layout.h, x86.h): the operations, the benchmark's own addresses,
 * ports and vectors, and the ucalls it makes. Only #defines, so that the
 * guest code (GUEST_CFLAGS, no libc) and the .S file can include it.
 *
 * Guest-physical memory, identical under both hypervisors (guest-virtual ==
 * guest-physical: the library's page tables identity-map 0..4 GiB with
 * 2 MiB pages):
 *
 *   0x00000000  RAM slot 0, from 0 to the end of the benchmark binary
 *               rounded up to 2 MiB:
 *     0x1000-     the library's GDT, IDT (here with all 256 gates), TSS and
 *                 page tables (guest_layout.h, selftests/lib/tables.c)
 *     0x80000     top of the stack (GPA_STACKS_TOP, the library's first)
 *     0x400000-   the binary's PT_LOAD segments at their link addresses
 *                 (static, non-PIE), so guest code runs where it was linked
 *   0x80000000  RAM slot 1: fresh memory for the EPT fault-in operation,
 *               host pages untouched until the guest writes them
 *   0xc0000000  BENCH_MMIO_GPA: no slot, so every access is an MMIO exit
 *   0xfee00000  local APIC (in-kernel devices only)
 *
 * The guest reports with the library's ucalls (guest_layout.h): one
 * UCALL_SYNC(op, round, TSC ticks for all iterations) per timed round,
 * UCALL_DONE when bench_guest_main() returns (guest_return_trap), and
 * UCALL_ASSERT or UCALL_UNHANDLED when something went wrong. A ucall is
 * outside every timed loop.
 */
#ifndef HVX_BENCH_H
#define HVX_BENCH_H

#include "guest_layout.h"
#include "x86.h"

/* The operations, in table order. Keep bench_ops[] in bench.c in sync. */
#define OP_CPUID	0	/* CPUID leaf 0: exit handled in the kernel */
#define OP_VMCALL	1	/* VMCALL round trip (selftests/README.md) */
#define OP_PIO_KERNEL	2	/* IN from port 0x21 (PIC IMR), in-kernel PIC */
#define OP_PIO_USER	3	/* OUT to BENCH_PIO_PORT: exit to userspace */
#define OP_MMIO_USER	4	/* 4-byte MOV store to BENCH_MMIO_GPA */
#define OP_EPT_FAULT	5	/* first write to a fresh 4 KiB page */
#define OP_IPI		6	/* self-IPI through the xAPIC ICR to handler */
#define OP_HLT_WAKE	7	/* HLT until a TSC-deadline timer fires */
#define NR_GUEST_OPS	8

#define BENCH_FRESH_GPA		0x80000000ull
#define BENCH_MMIO_GPA		0xc0000000ull
#define BENCH_APIC_GPA		0xfee00000ull

#define IDT_LIMIT		(256 * 16 - 1)	/* all 256 gates */

/* Ports. BENCH_PIO_PORT is claimed by nobody under either hypervisor. */
#define BENCH_PIO_PORT		0xe9
#define PIC_IMR_PORT		0x21

/* Vectors of the guest's IDT besides the library's exceptions. */
#define VEC_IPI			0x40
#define VEC_TIMER		0x41
#define VEC_SPURIOUS		0xff

/* xAPIC registers (SDM Vol. 3A 11.4.1, table 11-1), offsets from the base. */
#define APIC_EOI		0xb0
#define APIC_SVR		0xf0
#define APIC_ICR_LO		0x300
#define APIC_LVT_TIMER		0x320
#define APIC_SVR_ENABLE		(1u << 8)
#define APIC_ICR_ASSERT		(1u << 14)	/* level: assert */
#define APIC_ICR_SELF		(1u << 18)	/* destination shorthand 01 */
#define APIC_LVT_TSC_DEADLINE	(2u << 17)	/* timer mode 10b */
#define MSR_IA32_TSC_DEADLINE	0x6e0

/*
 * HLT wake-up: the guest arms the TSC-deadline timer this many TSC ticks
 * ahead, so that the vCPU really sleeps before the deadline, and measures
 * from the deadline to its interrupt handler.
 */
#define HLT_DEADLINE_DELTA	200000

/*
 * bench_guest_main()'s flags: BENCH_F_TRACE asks for one traced iteration;
 * bits 15:8 number the hypervisor (0 hvx, 1 KVM) for the trace tag, which
 * the guest puts in RAX at both magic breakpoints (benchtool.py reads it).
 */
#define BENCH_F_TRACE		(1u << 0)
#define BENCH_TRACE_WINDOWS	2	/* traced iterations per operation */
#define BENCH_F_HV_SHIFT	8
#define BENCH_TRACE_TAG(op, flags) \
	(0xb3c40000u | ((flags) & 0xff00u) | ((op) & 0xffu))

/* The guest's Linux-like CPU state (bench_guest.c, linux_cpu_state()). */
#define CR4_OSXSAVE		(1u << 18)
#define CPUID_1_ECX_XSAVE	(1u << 26)
#define CPUID_1_ECX_AVX		(1u << 28)
#define XCR0_X87		(1u << 0)
#define XCR0_SSE		(1u << 1)
#define XCR0_AVX		(1u << 2)
/* Linux's values: STAR[63:48] = __USER32_CS (0x23), STAR[47:32] =
 * __KERNEL_CS (0x10); SFMASK clears CF PF AF ZF SF TF IF DF OF IOPL NT RF
 * AC ID on SYSCALL (arch/x86/kernel/cpu/common.c, syscall_init()).
 */
#define LINUX_STAR		0x0023001000000000ull
#define LINUX_SFMASK		0x257fd5ull
#define LINUX_USER_GS_BASE	0x00007f0000000000ull

/* Warm-up before the timed rounds: iterations, and pages for EPT fault-in. */
#define WARMUP_ITERS		16
#define EPT_WARMUP_PAGES	16

#endif /* HVX_BENCH_H */
