/* SPDX-License-Identifier: GPL-2.0 */
/* pvclock_guest.h - shared between pvclock_test.c and pvclock_guest.c. */
#ifndef PVCLOCK_GUEST_H
#define PVCLOCK_GUEST_H

/* KVM's paravirtual interface (Linux's Documentation/virt/kvm/x86/). */
#define KVM_CPUID_BASE		0x40000100
#define KVM_CPUID_FEATURES	0x40000101
#define KVM_FEAT_CLOCKSOURCE2	3
#define KVM_FEAT_STEAL_TIME	5
#define KVM_FEAT_PV_EOI		6
#define KVM_FEAT_PV_TLB_FLUSH	9
#define KVM_FEAT_STABLE_BIT	24
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define MSR_KVM_STEAL_TIME	0x4b564d03
#define MSR_KVM_PV_EOI_EN	0x4b564d04
#define PVCLOCK_TSC_STABLE	1
#define KVM_VCPU_PREEMPTED	1
#define KVM_VCPU_FLUSH_TLB	2

/* The interrupt vector of the PV EOI case, and the xAPIC page. */
#define V_PV			0x58
#define PV_APIC_GPA		0xfee00000ull

/* guest_pv_msrs(): a 4 KiB slot of its own for the structures. */
#define GPA_PV			0x60000000ull
#define GPA_PV_MOVED		0x61000000ull
#define PV_SLOT			5

#ifndef __ASSEMBLER__
#include <stdint.h>

struct pvclock_ti {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t mul;
	int8_t shift;
	uint8_t flags, pad[2];
} __attribute__((packed));

struct pvclock_wall {
	uint32_t version, sec, nsec;
} __attribute__((packed));

struct steal_time {
	uint64_t steal;
	uint32_t version, flags;
	uint8_t preempted, pad8[3];
	uint32_t pad[11];
} __attribute__((packed));

/* Guest data the host reads or sets (guest_var()). */
extern volatile struct pvclock_ti guest_ti[2] __attribute__((aligned(64)));
extern volatile struct pvclock_wall guest_wall;
extern volatile struct steal_time guest_steal __attribute__((aligned(64)));
extern volatile uint64_t guest_eoi_word;
extern volatile uint64_t guest_last_ns, guest_pv_irqs, guest_pv_skipped;
extern volatile uint64_t guest_stop;

void guest_pv_cpuid(uint64_t unused);
void guest_pv_msr_faults(uint64_t unused);
void guest_kvmclock(uint64_t gpa);
void guest_wall_clock(uint64_t gpa);
void guest_clock_mono(uint64_t idx);
void guest_steal_spin(uint64_t spins);
void guest_pv_eoi(uint64_t n);
void guest_wrmsr_sync(uint64_t unused);
extern const char guest_pv_irq_stub[];
#endif

#endif /* PVCLOCK_GUEST_H */
