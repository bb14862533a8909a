/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - what the benchmark's guest code and its two drivers (hvx and
 * KVM) agree on: the operations, the guest-physical memory map, the ports,
 * vectors and the ucall protocol. Only #defines and plain types, so that the
 * guest code (GUEST_CFLAGS, no libc) and the .S file can include it.
 *
 * Guest-physical memory, identical under both hypervisors (guest-virtual ==
 * guest-physical: the page tables identity-map 0..4 GiB with 2 MiB pages):
 *
 *   0x00000000  RAM slot 0, from 0 to the end of the benchmark binary
 *               rounded up to 2 MiB:
 *     0x1000      GDT
 *     0x2000      IDT, 256 gates
 *     0x3000      TSS
 *     0x4000      PML4; 0x5000 PDPT; 0x6000-0x9fff four PDs
 *     0x10000-    stack (grows down from BENCH_STACK_TOP)
 *     0x400000-   the binary's PT_LOAD segments at their link addresses
 *                 (static, non-PIE), so guest code runs where it was linked
 *   0x80000000  RAM slot 1: fresh memory for the EPT fault-in operation,
 *               host pages untouched until the guest writes them
 *   0xc0000000  BENCH_MMIO_GPA: no slot, so every access is an MMIO exit
 *   0xfee00000  local APIC (in-kernel devices only)
 */
#ifndef HVX_BENCH_H
#define HVX_BENCH_H

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

#define GPA_GDT			0x1000
#define GPA_IDT			0x2000
#define GPA_TSS			0x3000
#define GPA_PML4		0x4000
#define GPA_PDPT		0x5000
#define GPA_PD			0x6000
#define BENCH_STACK_TOP		0x80000
#define BENCH_FRESH_GPA		0x80000000ull
#define BENCH_MMIO_GPA		0xc0000000ull
#define BENCH_APIC_GPA		0xfee00000ull

#define SEL_CODE64		0x08
#define SEL_DATA		0x10
#define SEL_TSS			0x18
#define GDT_LIMIT		(0x28 - 1)
#define TSS_LIMIT		0x67
#define IDT_LIMIT		(256 * 16 - 1)

/* Ports. BENCH_PIO_PORT is claimed by nobody under either hypervisor. */
#define UCALL_PORT		0xe8
#define BENCH_PIO_PORT		0xe9
#define PIC_IMR_PORT		0x21

/* Vectors of the guest's IDT. */
#define VEC_UD			6
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
 * ucall: "outl %eax, $UCALL_PORT" with EAX = command and RDI, RSI, RDX =
 * arguments; the driver reads them with GET_REGS. A ucall is outside every
 * timed loop.
 */
#define UCALL_RESULT		1	/* op, round, TSC ticks for all iterations */
#define UCALL_DONE		2	/* guest finished */
#define UCALL_UNHANDLED		3	/* vector, error code, RIP */
#define UCALL_FAILED		4	/* op, line: a guest check failed */

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
#define CR4_OSFXSR		(1u << 9)
#define CR4_OSXMMEXCPT		(1u << 10)
#define CR4_OSXSAVE		(1u << 18)
#define CPUID_1_ECX_XSAVE	(1u << 26)
#define CPUID_1_ECX_AVX		(1u << 28)
#define XCR0_X87		(1u << 0)
#define XCR0_SSE		(1u << 1)
#define XCR0_AVX		(1u << 2)
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define EFER_SCE		(1u << 0)
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
