/* SPDX-License-Identifier: GPL-2.0 */
/* events_guest.h - shared between events_test.c and events_blobs.S. */
#ifndef EVENTS_GUEST_H
#define EVENTS_GUEST_H

#define EVENTS_IRQ_VECTOR	0x40

#ifndef __ASSEMBLER__
#include <stdint.h>

void guest_cpuid_report(uint64_t nleaves);
void guest_rdmsr_report(uint64_t msr);
void guest_msr_rw_report(uint64_t msr);
void guest_irq_wait(uint64_t unused);
void guest_spin_sti(uint64_t unused);
void guest_single_step(uint64_t unused);
void guest_avx(uint64_t pattern_byte);
extern const char guest_ss_next[];
extern const char ev_rm_start[], ev_rm_irq[], ev_rm_gp[], ev_rm_end[];
extern const char ev_pm_start[], ev_pm_irq[], ev_pm_gp[], ev_pm_end[];
extern volatile uint64_t guest_irq_count;
extern volatile uint64_t guest_irq_leaves[4];
extern const char guest_irq_stub[];
extern const char guest_sti_insn[];
#endif /* __ASSEMBLER__ */

#endif
