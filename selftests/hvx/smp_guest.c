// SPDX-License-Identifier: GPL-2.0
/* smp_guest.c - 64-bit guest code of smp_test. */
#include "hvx_guest.h"
#include "guest_layout.h"
#include "smp_guest.h"

volatile uint64_t guest_smp_irqs;

asm(".pushsection .text\n"
    ".globl guest_smp_irq_stub\n"
    "guest_smp_irq_stub:\n\t"
    "lock incq guest_smp_irqs(%rip)\n\t"
    "iretq\n"
    ".popsection");

/*
 * The BSP starts APs 1..n the way an OS does: INIT, then a Startup IPI
 * with the trampoline's page number, through the xAPIC ICR (SDM Vol. 3A
 * 9.4.4.1, 11.6.1), then waits until every AP has counted itself.
 */
void guest_bsp_boot(uint64_t n_aps)
{
	volatile uint32_t *lo = (volatile uint32_t *)SMP_ICR_LO;
	volatile uint32_t *hi = (volatile uint32_t *)SMP_ICR_HI;
	volatile uint16_t *count = (volatile uint16_t *)GPA_BLOB_DATA;

	for (uint64_t i = 1; i <= n_aps; i++) {
		*hi = i << 24;
		*lo = 0x4500;			/* INIT, assert */
	}
	for (uint64_t i = 1; i <= n_aps; i++) {
		*hi = i << 24;
		*lo = 0x4600 | (GPA_BLOB >> 12);	/* Startup */
	}
	while (*count != n_aps)
		asm volatile("pause");
	GUEST_SYNC(*count);
	GUEST_DONE();
}

/* Interrupts on, then HLT: the vCPU sleeps until an interrupt arrives. */
void guest_sti_hlt(uint64_t unused)
{
	(void)unused;
	asm volatile("sti; hlt; cli");
	GUEST_SYNC(guest_smp_irqs);
	GUEST_DONE();
}

/* Report CPUID.1:EBX, CPUID.1:EDX and CPUID.(4,0):EAX. */
void guest_topology(uint64_t unused)
{
	uint32_t a, b1, c, d1, a4, b, d;

	(void)unused;
	cpuid(1, 0, &a, &b1, &c, &d1);
	cpuid(4, 0, &a4, &b, &c, &d);
	GUEST_SYNC_ARGS(b1, d1, a4, 0);
	GUEST_DONE();
}

volatile uint64_t guest_spin_flag;

/* A vCPU that holds a "lock" for @n iterations, without PAUSE or exits. */
void guest_spin_holder(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		asm volatile("" : : : "memory");
	guest_spin_flag = 1;
	GUEST_DONE();
}

/* A vCPU that waits for it the way a spinlock does: a PAUSE loop. */
void guest_spin_waiter(uint64_t unused)
{
	(void)unused;
	while (!guest_spin_flag)
		asm volatile("pause");
	GUEST_DONE();
}
