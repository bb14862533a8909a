/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86.h - architectural constants used by host and guest code, plus CPUID,
 * which both sides execute, and port I/O and MSR access for guest code.
 * .S files can include it; the C part builds for 32- and 64-bit code.
 */
#ifndef HVX_SELFTEST_X86_H
#define HVX_SELFTEST_X86_H

/* Control registers, SDM Vol. 3A 2.5. */
#define X86_CR0_PE		(1u << 0)
#define X86_CR0_MP		(1u << 1)
#define X86_CR4_OSFXSR		(1u << 9)	/* SDM Vol. 3A 2.5 */
#define X86_CR4_OSXMMEXCPT	(1u << 10)
#define X86_CR0_ET		(1u << 4)
#define X86_CR0_NE		(1u << 5)
#define X86_CR0_WP		(1u << 16)
#define X86_CR0_NW		(1u << 29)
#define X86_CR0_CD		(1u << 30)
#define X86_CR0_PG		(1u << 31)
#define X86_CR4_PAE		(1u << 5)
#define X86_CR4_VMXE		(1u << 13)
#define X86_CR4_SMXE		(1u << 14)

/* RFLAGS, SDM Vol. 1 3.4.3: bit 1 is reserved and always 1. */
#define X86_RFLAGS_FIXED	0x2
#define X86_RFLAGS_DF		(1u << 10)

/* IA32_EFER, SDM Vol. 3A 2.2.1. */
#define EFER_SCE		(1u << 0)
#define EFER_LME		(1u << 8)
#define EFER_LMA		(1u << 10)

/* MSRs, SDM Vol. 4. */
#define MSR_IA32_TSC		0x10
#define MSR_IA32_APIC_BASE	0x1b
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_IA32_PAT		0x277
#define MSR_EFER		0xc0000080
#define CPUID_SIG_LEAF		0x40000000	/* hypervisor signature leaf */
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102

/* Paging-structure entry bits, SDM Vol. 3A 4.5 (4-level paging). */
#define PTE_PRESENT		(1ull << 0)
#define PTE_WRITE		(1ull << 1)
#define PTE_LARGE		(1ull << 7)	/* PDE maps a 2 MiB page */

/* Segment and gate types, SDM Vol. 3A 3.4.5.1 and 3.5. */
#define SEG_TYPE_DATA_RO_A	0x1	/* read-only, accessed */
#define SEG_TYPE_DATA_RW_A	0x3	/* read/write, accessed */
#define SEG_TYPE_CODE_XR_A	0xb	/* execute/read, accessed */
#define SYS_TYPE_LDT		0x2
#define SYS_TYPE_TSS_AVAIL	0x9
#define SYS_TYPE_TSS_BUSY	0xb
#define SYS_TYPE_INTR_GATE	0xe

/* Exception vectors, SDM Vol. 3A table 6-1. */
#define X86_VEC_BP		3
#define X86_VEC_UD		6
#define X86_VEC_DF		8
#define X86_VEC_GP		13
#define X86_VEC_PF		14

/* CPUID.1:ECX. */
#define CPUID_1_ECX_VMX		(1u << 5)
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * GUEST_CODE marks a function that runs in a guest. A test's guest code
 * sits in its own .c file beside the host code and is built with the same
 * flags (hvx/Makefile adds -mno-red-zone: exceptions push onto the guest
 * stack), except what this attribute changes: general-purpose registers
 * only (a guest has no FPU/SSE state set up), no stack protector (no TLS
 * in a guest), and the .text.guest section, whose references hvx/Makefile
 * checks: guest code may call only guest code and the guest library
 * (guest_*), never libc or host code. A helper both sides use is
 * "GUEST_CODE static inline": it inlines into host code too.
 */
#define GUEST_CODE							\
	__attribute__((target("general-regs-only"), no_stack_protector,	\
		       section(".text.guest")))

GUEST_CODE static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *eax,
			 uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
	asm volatile("cpuid"
		     : "=a"(*eax), "=b"(*ebx), "=c"(*ecx), "=d"(*edx)
		     : "a"(leaf), "c"(subleaf));
}

/*
 * Port I/O (SDM Vol. 2B, IN and OUT) and MSR access (RDMSR, WRMSR): guest
 * code only. Like cpuid() they build for 32-bit code too, so the
 * multiboot test kernel (hvx/mbkernel/, -m32) uses them as well.
 */
GUEST_CODE static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

GUEST_CODE static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

GUEST_CODE static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

GUEST_CODE static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

GUEST_CODE static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

GUEST_CODE static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* RDMSR/WRMSR of an MSR the guest knows exists (a #GP is not caught; see
 * guest_rdmsr_safe() in hvx_guest.h for that). */
GUEST_CODE static inline uint64_t guest_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}

GUEST_CODE static inline void guest_wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)val),
		     "d"((uint32_t)(val >> 32)) : "memory");
}
#endif

#endif /* HVX_SELFTEST_X86_H */
