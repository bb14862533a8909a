// SPDX-License-Identifier: GPL-2.0
/*
 * apic_guest.c - 64-bit guest code of apic_test: it programs the local
 * APIC (xAPIC page or x2APIC MSRs, as guest_x2apic says) and the I/O
 * APIC like an OS does, and counts the interrupts it takes.
 */
#include "hvx_guest.h"
#include "guest_layout.h"
#include "apic_guest.h"

volatile uint64_t guest_irqs[256];
volatile uint64_t guest_irq_tsc[256];
volatile uint64_t guest_eoi_limit[256];	/* 0: always EOI */
volatile uint64_t guest_x2apic;
volatile uint64_t guest_rx_ready, guest_stop, guest_ap_initing;

/* A long bound for waits, in TSC cycles (seconds under Bochs). */
#define WAIT_CYCLES	400000000ull

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)val),
		     "d"((uint32_t)(val >> 32)) : "memory");
}

static inline void sti(void)
{
	asm volatile("sti" : : : "memory");
}

static inline void cli(void)
{
	asm volatile("cli" : : : "memory");
}

static inline void set_cr8(uint64_t v)
{
	asm volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

static inline uint64_t get_cr8(void)
{
	uint64_t v;

	asm volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static uint32_t apic_read(uint32_t reg)
{
	if (guest_x2apic)
		return rdmsr(MSR_X2APIC_BASE + (reg >> 4));
	return *(volatile uint32_t *)(uint64_t)(APIC_GPA + reg);
}

static void apic_write(uint32_t reg, uint32_t val)
{
	if (guest_x2apic)
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), val);
	else
		*(volatile uint32_t *)(uint64_t)(APIC_GPA + reg) = val;
}

static void apic_icr(uint32_t dest, uint32_t lo)
{
	if (guest_x2apic) {
		wrmsr(MSR_X2APIC_BASE + (APIC_ICR >> 4),
		      (uint64_t)dest << 32 | lo);
	} else {
		apic_write(APIC_ICR2, dest << 24);
		apic_write(APIC_ICR, lo);
	}
}

/*
 * Touch what the delivery of an interrupt reads or writes (the IDT, the
 * GDT for CS, the stubs, the stack below us), so that the guest's first
 * interrupt causes no EPT violation while it is being delivered: Bochs 2.7
 * reports stale IDT-vectoring information when such an exit interrupts
 * the delivery of a virtual interrupt (virtual-interrupt delivery), and
 * hvx would then re-inject the wrong event.
 */
static void prefault_delivery(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) dt;
	volatile uint8_t below[1024];

	asm volatile("sidt %0" : "=m"(dt));
	for (uint64_t off = 0; off <= dt.limit; off += 64)
		(void)*(volatile uint8_t *)(dt.base + off);
	asm volatile("sgdt %0" : "=m"(dt));
	for (uint64_t off = 0; off <= dt.limit; off += 64)
		(void)*(volatile uint8_t *)(dt.base + off);
	for (int off = 0; off < 256 * 16 + 64; off += 64)
		(void)*(volatile const char *)(guest_irq_stubs + off);
	below[0] = below[sizeof(below) - 1] = 0;
}

/* Software-enable the APIC (and switch to x2APIC mode if asked). */
static void apic_enable(void)
{
	prefault_delivery();
	if (guest_x2apic)
		wrmsr(MSR_IA32_APIC_BASE,
		      rdmsr(MSR_IA32_APIC_BASE) | (1u << 10));
	apic_write(APIC_SVR, 0x1ff);
}

/* Called from the interrupt stubs with the vector. */
void guest_irq_c(uint64_t vec);
void guest_irq_c(uint64_t vec)
{
	uint64_t n = ++guest_irqs[vec];

	guest_irq_tsc[vec] = rdtsc();
	if (vec < 32)			/* NMI: no EOI */
		return;
	if (guest_eoi_limit[vec] && n >= guest_eoi_limit[vec])
		return;
	apic_write(APIC_EOI, 0);
}

/*
 * 256 stubs of 16 bytes at guest_irq_stubs: push the vector, save the
 * caller-saved registers, call guest_irq_c(vector), IRETQ (a 64-bit gate
 * pushes no error code for interrupts and NMIs, SDM Vol. 3A 6.14.2).
 */
asm(".pushsection .text\n"
    ".globl guest_irq_stubs\n"
    ".p2align 4\n"
    "guest_irq_stubs:\n"
    ".set vec, 0\n"
    ".rept 256\n\t"
    ".p2align 4\n\t"
    "pushq $vec\n\t"
    "jmp guest_irq_common\n\t"
    ".set vec, vec + 1\n"
    ".endr\n"
    "guest_irq_common:\n\t"
    "pushq %rax\n\tpushq %rcx\n\tpushq %rdx\n\tpushq %rsi\n\tpushq %rdi\n\t"
    "pushq %r8\n\tpushq %r9\n\tpushq %r10\n\tpushq %r11\n\t"
    "subq $8, %rsp\n\t"
    "movq 80(%rsp), %rdi\n\t"
    "call guest_irq_c\n\t"
    "addq $8, %rsp\n\t"
    "popq %r11\n\tpopq %r10\n\tpopq %r9\n\tpopq %r8\n\tpopq %rdi\n\t"
    "popq %rsi\n\tpopq %rdx\n\tpopq %rcx\n\tpopq %rax\n\t"
    "addq $8, %rsp\n\t"
    "iretq\n"
    ".popsection");

/* Wait until guest_irqs[vec] reaches n; assert it does in time. */
static void wait_irqs(int vec, uint64_t n)
{
	uint64_t t0 = rdtsc();

	while (guest_irqs[vec] < n) {
		asm volatile("pause");
		GUEST_ASSERT(rdtsc() - t0 < WAIT_CYCLES);
	}
}

static void spin_cycles(uint64_t cycles)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < cycles)
		asm volatile("pause");
}

static uint32_t tsc_khz(void)
{
	uint32_t a, b, c, d;

	cpuid(CPUID_TIMING_LEAF, 0, &a, &b, &c, &d);
	GUEST_ASSERT(a);
	GUEST_ASSERT_EQ(1000000, b);	/* APIC bus kHz */
	return a;
}

/*
 * The timer in one mode. Reports (mode-specific) numbers for the host to
 * judge; times are in guest TSC cycles, with the TSC frequency from
 * hvx's CPUID leaf 0x40000010.
 */
void guest_timer(uint64_t mode)
{
	uint32_t khz = tsc_khz(), a, b, c, d;
	uint64_t t0, cur, after, ticks, dl;

	apic_enable();
	apic_write(APIC_TDCR, 0xb);		/* divide by 1 */
	sti();
	switch (mode) {
	case TIMER_ONESHOT:
		apic_write(APIC_LVTT, V_TIMER);
		t0 = rdtsc();
		apic_write(APIC_TMICT, TIMER_ONESHOT_NS);
		cur = apic_read(APIC_TMCCT);
		wait_irqs(V_TIMER, 1);
		after = apic_read(APIC_TMCCT);
		spin_cycles(khz * 4ull);	/* 4 ms: no second one */
		GUEST_SYNC_ARGS(guest_irq_tsc[V_TIMER] - t0, khz, cur,
				after | guest_irqs[V_TIMER] << 32);
		break;
	case TIMER_PERIODIC:
	case TIMER_HOSTILE:
		apic_write(APIC_LVTT, V_TIMER | (1u << 17));
		t0 = rdtsc();
		apic_write(APIC_TMICT, mode == TIMER_HOSTILE ? 1 : TIMER_PERIOD_NS);
		spin_cycles(khz * (uint64_t)TIMER_WINDOW_MS);
		ticks = guest_irqs[V_TIMER];
		apic_write(APIC_TMICT, 0);	/* stops it */
		after = guest_irqs[V_TIMER];
		spin_cycles(khz * 3ull);
		GUEST_SYNC_ARGS(ticks, guest_irqs[V_TIMER] - after,
				rdtsc() - t0, khz);
		break;
	case TIMER_DEADLINE:
		cpuid(1, 0, &a, &b, &c, &d);
		GUEST_ASSERT(c & (1u << 24));		/* TSC-deadline */
		apic_write(APIC_LVTT, V_TIMER | (2u << 17));
		apic_write(APIC_TMICT, 12345);		/* ignored */
		GUEST_ASSERT_EQ(0, apic_read(APIC_TMICT));
		dl = rdtsc() + khz;			/* 1 ms */
		wrmsr(MSR_TSC_DEADLINE, dl);
		GUEST_ASSERT_EQ(dl, rdmsr(MSR_TSC_DEADLINE));
		wait_irqs(V_TIMER, 1);
		GUEST_ASSERT_EQ(0, rdmsr(MSR_TSC_DEADLINE));
		cur = guest_irq_tsc[V_TIMER];
		wrmsr(MSR_TSC_DEADLINE, 1);		/* in the past: at once */
		wait_irqs(V_TIMER, 2);
		/* Disarm before expiry: nothing comes. */
		wrmsr(MSR_TSC_DEADLINE, rdtsc() + khz);
		wrmsr(MSR_TSC_DEADLINE, 0);
		spin_cycles(khz * 3ull);
		GUEST_SYNC_ARGS(cur, dl, guest_irqs[V_TIMER], 0);
		break;
	}
	GUEST_DONE();
}

/* A vector whose class is not above the TPR's waits for the TPR to drop. */
void guest_tpr(uint64_t unused)
{
	uint32_t irr_word = (V_TPR_CR8 / 32) * 0x10;

	(void)unused;
	apic_enable();
	set_cr8(V_TPR_CR8 >> 4);			/* class 5 */
	apic_icr(0, (1u << 18) | V_TPR_CR8);		/* self-IPI */
	sti();
	spin_cycles(1000000);
	GUEST_ASSERT_EQ(0, guest_irqs[V_TPR_CR8]);
	GUEST_ASSERT(apic_read(APIC_IRR + irr_word) & (1u << (V_TPR_CR8 % 32)));
	GUEST_ASSERT_EQ(V_TPR_CR8 & 0xf0, apic_read(APIC_PPR));
	GUEST_ASSERT_EQ(V_TPR_CR8 & 0xf0, apic_read(APIC_TPR));
	set_cr8((V_TPR_CR8 >> 4) - 1);			/* no exit needed */
	wait_irqs(V_TPR_CR8, 1);
	GUEST_ASSERT_EQ(0, apic_read(APIC_IRR + irr_word) &
			   (1u << (V_TPR_CR8 % 32)));

	/* The same through the APIC's TPR register, seen in CR8. */
	apic_write(APIC_TPR, 0x6f);
	GUEST_ASSERT_EQ(6, get_cr8());
	apic_icr(0, (1u << 18) | V_TPR_MMIO);
	spin_cycles(1000000);
	GUEST_ASSERT_EQ(0, guest_irqs[V_TPR_MMIO]);
	apic_write(APIC_TPR, 0x40);
	wait_irqs(V_TPR_MMIO, 1);
	GUEST_SYNC_ARGS(guest_irqs[V_TPR_CR8], guest_irqs[V_TPR_MMIO],
			get_cr8(), apic_read(APIC_PPR));
	GUEST_DONE();
}

/* The receiving vCPU of the IPI test: count until told to stop. */
void guest_ipi_rx(uint64_t unused)
{
	(void)unused;
	apic_enable();
	if (!guest_x2apic)
		apic_write(APIC_LDR, 2u << 24);		/* flat: bit 1 */
	sti();
	guest_rx_ready = 1;
	while (!guest_stop)
		asm volatile("pause");
	GUEST_SYNC(apic_read(APIC_ID));
	GUEST_DONE();
}

/*
 * The sending vCPU (id 0): fixed IPIs to APIC id 1 by physical and
 * logical destination, an NMI, and each shorthand; then one
 * lowest-priority IPI to both.
 */
void guest_ipi_tx(uint64_t unused)
{
	(void)unused;
	apic_enable();
	if (!guest_x2apic)
		apic_write(APIC_LDR, 1u << 24);		/* flat: bit 0 */
	sti();
	while (!guest_rx_ready)
		asm volatile("pause");
	apic_icr(1, V_IPI_PHYS);			/* physical, fixed */
	wait_irqs(V_IPI_PHYS, 1);
	/* Logical 2: flat bit 1, or x2APIC cluster 0 member 1. */
	apic_icr(2, (1u << 11) | V_IPI_LOGICAL);
	wait_irqs(V_IPI_LOGICAL, 1);
	apic_icr(1, 4u << 8);				/* NMI */
	wait_irqs(2, 1);
	apic_icr(0, (1u << 18) | V_IPI_SELF);
	wait_irqs(V_IPI_SELF, 1);
	apic_icr(0, (3u << 18) | V_IPI_OTHERS);
	wait_irqs(V_IPI_OTHERS, 1);
	apic_icr(0, (2u << 18) | V_IPI_ALL);
	wait_irqs(V_IPI_ALL, 2);
	apic_icr(3, (1u << 11) | (1u << 8) | V_IPI_LOWEST);
	wait_irqs(V_IPI_LOWEST, 1);
	spin_cycles(2000000);
	guest_stop = 1;
	GUEST_SYNC_ARGS(guest_irqs[V_IPI_PHYS] | guest_irqs[V_IPI_LOGICAL] << 8 |
			guest_irqs[2] << 16 | guest_irqs[V_IPI_SELF] << 24,
			guest_irqs[V_IPI_OTHERS] | guest_irqs[V_IPI_ALL] << 8 |
			guest_irqs[V_IPI_LOWEST] << 16,
			apic_read(APIC_ID), apic_read(APIC_ESR));
	GUEST_DONE();
}

/*
 * Start AP 1 as Linux does (INIT assert, INIT de-assert, two Startup
 * IPIs; SDM Vol. 3A 9.4.4.1) at the trampoline at GPA_BLOB, which counts
 * itself at GPA_BLOB_DATA. With @self_init, AP 1 first sends itself an
 * INIT (guest_self_init), and only the SIPIs are needed.
 */
void guest_boot_ap(uint64_t self_init)
{
	volatile uint16_t *count = (volatile uint16_t *)GPA_BLOB_DATA;
	uint64_t t0;

	apic_enable();
	if (self_init) {
		while (!guest_ap_initing)
			asm volatile("pause");
		spin_cycles(20000000);
	} else {
		apic_icr(1, 0xc500);		/* INIT, level, assert */
		apic_icr(1, 0x8500);		/* INIT, level, de-assert */
	}
	apic_icr(1, 0x600 | (GPA_BLOB >> 12));
	apic_icr(1, 0x600 | (GPA_BLOB >> 12));	/* ignored: AP running */
	t0 = rdtsc();
	while (*count != 1) {
		asm volatile("pause");
		GUEST_ASSERT(rdtsc() - t0 < WAIT_CYCLES);
	}
	spin_cycles(2000000);
	GUEST_SYNC(*count);
	GUEST_DONE();
}

/* AP 1 sends itself an INIT: it resets and waits for a SIPI. */
void guest_self_init(uint64_t unused)
{
	(void)unused;
	apic_enable();
	guest_ap_initing = 1;
	apic_icr(1, 0x4500);			/* INIT, edge, to itself */
	GUEST_ASSERT(0);			/* never reached */
}

static void ioapic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)IOAPIC_GPA = reg;
	*(volatile uint32_t *)(IOAPIC_GPA + 0x10) = val;
}

static uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)IOAPIC_GPA = reg;
	return *(volatile uint32_t *)(IOAPIC_GPA + 0x10);
}

static void ioapic_route(int gsi, uint32_t low)
{
	ioapic_write(0x11 + 2 * gsi, 0);		/* destination APIC 0 */
	ioapic_write(0x10 + 2 * gsi, low);
}

#define RE_LEVEL	(1u << 15)
#define RE_MASKED	(1u << 16)
#define RE_REMOTE_IRR	(1u << 14)

/*
 * The I/O APIC, step by step with the host driving the lines between
 * SYNCs (see the host side for what each step expects).
 */
void guest_ioapic(uint64_t unused)
{
	(void)unused;
	apic_enable();
	ioapic_route(GSI_EDGE, V_IO_EDGE);
	ioapic_route(GSI_EDGE_MASKED, V_IO_EDGE_MASKED | RE_MASKED);
	ioapic_route(GSI_LEVEL, V_IO_LEVEL | RE_LEVEL);
	ioapic_route(GSI_MASKED, V_IO_MASKED | RE_LEVEL | RE_MASKED);
	guest_eoi_limit[V_IO_LEVEL] = 3;	/* the 3rd is not EOI'd */
	guest_eoi_limit[V_IO_MASKED] = 1;
	sti();
	/* 1: version; the host pulses GSI_EDGE and GSI_EDGE_MASKED. */
	GUEST_SYNC_ARGS(1, ioapic_read(1), ioapic_read(0x10 + 2 * GSI_EDGE), 0);
	wait_irqs(V_IO_EDGE, 1);
	ioapic_route(GSI_EDGE_MASKED, V_IO_EDGE_MASKED);	/* edge lost */
	spin_cycles(1000000);
	/* 2: the host asserts GSI_LEVEL and keeps it asserted. */
	GUEST_SYNC_ARGS(2, guest_irqs[V_IO_EDGE], guest_irqs[V_IO_EDGE_MASKED], 0);
	wait_irqs(V_IO_LEVEL, 3);		/* re-delivered after each EOI */
	spin_cycles(1000000);
	/* 3: held by Remote IRR; the host deasserts GSI_LEVEL. */
	GUEST_SYNC_ARGS(3, guest_irqs[V_IO_LEVEL],
			ioapic_read(0x10 + 2 * GSI_LEVEL) & RE_REMOTE_IRR, 0);
	apic_write(APIC_EOI, 0);		/* clears Remote IRR */
	spin_cycles(1000000);
	/* 4: no more; the host asserts the masked GSI_MASKED. */
	GUEST_SYNC_ARGS(4, guest_irqs[V_IO_LEVEL],
			ioapic_read(0x10 + 2 * GSI_LEVEL) & RE_REMOTE_IRR, 0);
	spin_cycles(1000000);
	GUEST_ASSERT_EQ(0, guest_irqs[V_IO_MASKED]);
	ioapic_route(GSI_MASKED, V_IO_MASKED | RE_LEVEL);	/* unmask */
	wait_irqs(V_IO_MASKED, 1);
	GUEST_SYNC_ARGS(5, guest_irqs[V_IO_MASKED], 0, 0);
	GUEST_DONE();
}

/*
 * Interrupts on; at each SYNC the host may inject something; then wait
 * until the number of interrupts taken grows (or a long time passes) and
 * report the counts of the MSI/irqfd vectors.
 */
void guest_wait_irqs(uint64_t steps)
{
	apic_enable();
	ioapic_route(GSI_IRQFD, V_GSI_IRQFD);
	ioapic_route(GSI_RESAMPLE, V_RESAMPLE | RE_LEVEL);
	sti();
	for (uint64_t i = 0; i < steps; i++) {
		uint64_t before = 0, now, t0;

		for (int v = V_MSI; v <= V_RESAMPLE; v++)
			before += guest_irqs[v];
		GUEST_SYNC_ARGS(i, guest_irqs[V_MSI], guest_irqs[V_MSI_IRQFD],
				guest_irqs[V_GSI_IRQFD] | guest_irqs[V_RESAMPLE] << 16);
		t0 = rdtsc();
		do {
			now = 0;
			for (int v = V_MSI; v <= V_RESAMPLE; v++)
				now += guest_irqs[v];
		} while (now == before && rdtsc() - t0 < WAIT_CYCLES / 8);
		spin_cycles(500000);
	}
	GUEST_SYNC_ARGS(steps, guest_irqs[V_MSI], guest_irqs[V_MSI_IRQFD],
			guest_irqs[V_GSI_IRQFD] | guest_irqs[V_RESAMPLE] << 16);
	GUEST_DONE();
}

/* x2APIC mode rules: MSRs only in x2APIC mode, read-only registers. */
void guest_x2apic_rules(uint64_t unused)
{
	uint32_t a, b, c, d;
	uint64_t val;

	(void)unused;
	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(d & (1u << 9));		/* APIC */
	GUEST_ASSERT(c & (1u << 21));		/* x2APIC */
	/* xAPIC mode: x2APIC MSRs fault, the page answers. */
	GUEST_ASSERT_EQ(13, guest_rdmsr_safe(MSR_X2APIC_BASE + 2, &val));
	GUEST_ASSERT_EQ(0x50014, *(volatile uint32_t *)(APIC_GPA + APIC_LVR));
	/* x2APIC without EN is refused (SDM Vol. 3A 11.12.5). */
	val = rdmsr(MSR_IA32_APIC_BASE);
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_IA32_APIC_BASE,
					     (val & ~(1ull << 11)) | (1u << 10)));
	wrmsr(MSR_IA32_APIC_BASE, val | (1u << 10));
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_X2APIC_BASE + 2, &val));
	GUEST_ASSERT_EQ(0, val);			/* x2APIC id of vCPU 0 */
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_X2APIC_BASE + 0xd, &val));
	GUEST_ASSERT_EQ(1, val);			/* LDR: cluster 0, bit 0 */
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_X2APIC_BASE + 2, 5));
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_X2APIC_BASE + 0xb, 1));
	GUEST_ASSERT_EQ(13, guest_rdmsr_safe(MSR_X2APIC_BASE + 0xb, &val));
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_X2APIC_BASE + 0x8, 1ull << 32));
	GUEST_ASSERT_EQ(13, guest_rdmsr_safe(MSR_X2APIC_BASE + 0xe, &val));
	/* The page is not the APIC in x2APIC mode. */
	GUEST_ASSERT_EQ(0, *(volatile uint32_t *)(APIC_GPA + APIC_LVR));
	/* x2APIC back to xAPIC is refused; to disabled is fine. */
	val = rdmsr(MSR_IA32_APIC_BASE);
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_IA32_APIC_BASE,
					     val & ~(1ull << 10)));
	GUEST_ASSERT_EQ(0, guest_wrmsr_safe(MSR_IA32_APIC_BASE,
					    val & ~(3ull << 10)));
	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(0, d & (1u << 9));	/* APIC bit follows EN */
	GUEST_SYNC(1);
	GUEST_DONE();
}

/*
 * @n self-IPIs of one vector with interrupts off, plus one with an
 * illegal vector: the IRR holds one request, so exactly one interrupt
 * arrives; the illegal one sets ESR bit 5 and raises the error vector.
 */
void guest_ipi_storm(uint64_t n)
{
	apic_enable();
	apic_write(APIC_LVT0 + 0x20, V_ERROR);		/* LVT error */
	for (uint64_t i = 0; i < n; i++)
		apic_icr(0, (1u << 18) | V_STORM);
	apic_icr(0, (1u << 18) | 3);			/* illegal vector */
	sti();
	wait_irqs(V_STORM, 1);
	wait_irqs(V_ERROR, 1);
	spin_cycles(1000000);
	apic_write(APIC_ESR, 0);
	GUEST_SYNC_ARGS(guest_irqs[V_STORM], guest_irqs[V_ERROR],
			apic_read(APIC_ESR), 0);
	GUEST_DONE();
}

/*
 * Register reads, @n rounds of them between SYNC 0 and SYNC 1 (the host
 * counts the exits they cost), each checked against what was written;
 * then writes and the reads that must see their emulated effect. Reports
 * a bit per wrong value.
 */
void guest_reg_reads(uint64_t n)
{
	uint32_t bad = 0, tmict, tmcct;

	apic_enable();
	apic_write(APIC_LVTT, V_TIMER | (1u << 16));	/* masked */
	apic_write(APIC_TDCR, 0xb);			/* divide by 1 */
	apic_write(APIC_LVTERR, V_ERROR | (1u << 16));
	if (!guest_x2apic)
		apic_write(APIC_LDR, 0x03000000);
	GUEST_SYNC(0);
	for (uint64_t i = 0; i < n; i++) {
		bad |= (apic_read(APIC_LVR) != 0x50014) << 0;
		bad |= (apic_read(APIC_ID) != 0) << 1;
		bad |= (apic_read(APIC_SVR) != 0x1ff) << 2;
		bad |= (apic_read(APIC_LVTT) != (V_TIMER | (1u << 16))) << 3;
		bad |= (apic_read(APIC_TDCR) != 0xb) << 4;
		bad |= (apic_read(APIC_LVTERR) != (V_ERROR | (1u << 16))) << 5;
		bad |= (apic_read(APIC_ISR + 0x10 * (V_TIMER / 32)) != 0) << 6;
		bad |= (apic_read(APIC_LDR) != (guest_x2apic ? 1 : 0x03000000)) << 7;
	}
	GUEST_SYNC_ARGS(1, bad, 0, 0);

	bad = 0;
	/* Writable bits only; a reserved timer mode reads as one-shot. */
	apic_write(APIC_LVTT, 0xffffffff);
	bad |= (apic_read(APIC_LVTT) != 0x100ff) << 0;
	apic_write(APIC_SVR, 0xffffffff);
	bad |= (apic_read(APIC_SVR) != 0x3ff) << 1;
	apic_write(APIC_SVR, 0x1ff);
	if (!guest_x2apic) {
		apic_write(APIC_ID, 0x05000000);	/* ignored */
		bad |= (apic_read(APIC_ID) != 0) << 2;
	}
	/* An illegal vector sets ESR bit 5, seen after the ESR write. */
	apic_icr(0, (1u << 18) | 3);
	apic_write(APIC_ESR, 0);
	bad |= (apic_read(APIC_ESR) != 0x20) << 3;
	apic_write(APIC_ESR, 0);
	bad |= (apic_read(APIC_ESR) != 0) << 4;
	/* Initial count as written, current count running below it. */
	apic_write(APIC_LVTT, V_TIMER | (1u << 16));
	apic_write(APIC_TMICT, 0x40000000);
	tmict = apic_read(APIC_TMICT);
	tmcct = apic_read(APIC_TMCCT);
	bad |= (tmict != 0x40000000) << 5;
	bad |= (!tmcct || tmcct > tmict) << 6;
	apic_write(APIC_TMICT, 0);
	bad |= (apic_read(APIC_TMICT) != 0) << 7;
	/* A self-IPI with interrupts off waits in IRR, then goes to ISR. */
	guest_eoi_limit[V_IPI_SELF] = 1;		/* EOI'd below */
	apic_icr(0, (1u << 18) | V_IPI_SELF);
	bad |= !(apic_read(APIC_IRR + 0x10 * (V_IPI_SELF / 32)) &
		 (1u << (V_IPI_SELF % 32))) << 8;
	sti();
	wait_irqs(V_IPI_SELF, 1);
	cli();
	bad |= !(apic_read(APIC_ISR + 0x10 * (V_IPI_SELF / 32)) &
		 (1u << (V_IPI_SELF % 32))) << 9;
	bad |= (apic_read(APIC_IRR + 0x10 * (V_IPI_SELF / 32)) != 0) << 10;
	apic_write(APIC_EOI, 0);
	bad |= (apic_read(APIC_ISR + 0x10 * (V_IPI_SELF / 32)) != 0) << 11;
	GUEST_SYNC_ARGS(2, bad, 0, 0);
	GUEST_DONE();
}

/*
 * @n self-IPIs of an edge vector, one at a time, each EOI'd by the
 * handler, between SYNC 0 and SYNC 1: the host counts what they cost.
 */
void guest_self_ipis(uint64_t n)
{
	apic_enable();
	sti();
	GUEST_SYNC(0);
	for (uint64_t i = 0; i < n; i++) {
		/* A self shorthand needs no ICR2 (destination) write. */
		apic_write(APIC_ICR, (1u << 18) | V_IPI_SELF);
		wait_irqs(V_IPI_SELF, i + 1);
	}
	GUEST_SYNC_ARGS(1, guest_irqs[V_IPI_SELF], apic_read(APIC_ISR + 0x10 *
			(V_IPI_SELF / 32)), 0);
	GUEST_DONE();
}

/*
 * The PIC through LINT0 in ExtINT mode (virtual wire), beside the APIC's
 * own interrupts: the host pulses PIC_IRQ_EXTINT after each SYNC.
 */
void guest_extint(uint64_t unused)
{
	(void)unused;
	apic_enable();
	apic_write(APIC_LVT0, 7u << 8);			/* ExtINT, unmasked */
	outb(0x20, 0x11);				/* ICW1 */
	outb(0x21, V_PIC_BASE);				/* ICW2 */
	outb(0x21, 0x04);				/* ICW3 */
	outb(0x21, 0x01);				/* ICW4 */
	outb(0x21, (uint8_t)~(1u << PIC_IRQ_EXTINT));
	outb(0xa1, 0xff);
	sti();
	GUEST_SYNC(0);
	wait_irqs(V_PIC_BASE + PIC_IRQ_EXTINT, 1);
	outb(0x20, 0x20);				/* PIC EOI */
	apic_icr(0, (1u << 18) | V_IPI_SELF);
	wait_irqs(V_IPI_SELF, 1);
	GUEST_SYNC_ARGS(1, guest_irqs[V_PIC_BASE + PIC_IRQ_EXTINT],
			guest_irqs[V_IPI_SELF], 0);
	wait_irqs(V_PIC_BASE + PIC_IRQ_EXTINT, 2);
	outb(0x20, 0x20);
	GUEST_SYNC_ARGS(2, guest_irqs[V_PIC_BASE + PIC_IRQ_EXTINT],
			guest_irqs[V_IPI_SELF], 0);
	GUEST_DONE();
}

/*
 * An exit in the middle of an interrupt's delivery: a self-IPI waits
 * with interrupts off, an INT3 is taken (so the last event the CPU
 * delivered is #BP), then interrupts are opened for one instruction with
 * RSP at the top of a slot the guest has never touched, so pushing the
 * interrupt frame is an EPT violation. hvx must re-inject the interrupt,
 * not the #BP: the host checks one #BP, one self-IPI and ISR empty again.
 */
void guest_delivery_exit(uint64_t unused)
{
	uint64_t saved;

	(void)unused;
	apic_enable();
	cli();
	apic_icr(0, (1u << 18) | V_IPI_SELF);
	asm volatile("int3" : : : "memory");
	asm volatile("mov %%rsp, %0\n\t"
		     "mov %1, %%rsp\n\t"
		     "sti\n\t"
		     "nop\n\t"
		     "cli\n\t"
		     "mov %0, %%rsp"
		     : "=&r"(saved)
		     : "r"(GPA_FRESH_STACK + FRESH_STACK_SIZE)
		     : "memory");
	GUEST_SYNC_ARGS(1, guest_irqs[3], guest_irqs[V_IPI_SELF],
			apic_read(APIC_ISR + 0x10 * (V_IPI_SELF / 32)));
	GUEST_DONE();
}

/*
 * A requested interrupt waits while RFLAGS.IF is clear, however many host
 * interrupts arrive meanwhile: a self-IPI with interrupts off, then
 * @cycles TSC cycles of a loop without exits (the host's timer ticks
 * still cause external-interrupt exits), then STI. SYNC 1 reports how
 * often the vector was taken in the window (must be 0) and after it.
 */
void guest_if_blocks(uint64_t cycles)
{
	uint64_t t0, during;

	apic_enable();
	cli();
	apic_icr(0, (1u << 18) | V_IPI_SELF);
	t0 = rdtsc();
	while (rdtsc() - t0 < cycles)
		;
	during = guest_irqs[V_IPI_SELF];
	sti();
	wait_irqs(V_IPI_SELF, 1);
	GUEST_SYNC_ARGS(1, during, guest_irqs[V_IPI_SELF], 0);
	GUEST_DONE();
}

/*
 * For HVX_GET_LAPIC: a self-IPI requested with interrupts off (SYNC 1:
 * in IRR), then taken and EOI'd (SYNC 2: neither in IRR nor in ISR).
 */
void guest_lapic_snapshot(uint64_t unused)
{
	(void)unused;
	apic_enable();
	cli();
	set_cr8(2);
	apic_icr(0, (1u << 18) | V_IPI_SELF);
	GUEST_SYNC(1);
	sti();
	wait_irqs(V_IPI_SELF, 1);
	GUEST_SYNC(2);
	GUEST_DONE();
}

#define APIC_BASE_EXTD		(1ull << 10)
#define APIC_BASE_EN		(1ull << 11)

/*
 * The states of IA32_APIC_BASE (SDM Vol. 3A 11.12.5): disabled, xAPIC,
 * x2APIC, each transition and the invalid ones (#GP). A disabled APIC
 * has no page: its accesses exit to the host as MMIO (three of them, in
 * order: TPR write, LVR read, EOI write), its x2APIC MSRs fault, and the
 * APIC comes back in its reset state.
 */
void guest_apic_states(uint64_t unused)
{
	volatile uint32_t *page = (volatile uint32_t *)(uint64_t)APIC_GPA;
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE), off, val;

	(void)unused;
	off = base & ~(APIC_BASE_EN | APIC_BASE_EXTD);
	GUEST_ASSERT_EQ(APIC_BASE_EN, base & (APIC_BASE_EN | APIC_BASE_EXTD));
	/* xAPIC: state for the disable to lose. */
	page[APIC_SVR / 4] = 0x1ff;
	page[APIC_LVTT / 4] = V_TIMER;
	page[APIC_LDR / 4] = 0x01000000;
	set_cr8(3);
	GUEST_ASSERT_EQ(0x30, page[APIC_TPR / 4]);
	/* Invalid: EXTD without EN, reserved bits 9 and 7:0. */
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_IA32_APIC_BASE,
					     off | APIC_BASE_EXTD));
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_IA32_APIC_BASE,
					     base | (1u << 9)));
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_IA32_APIC_BASE, base | 1));
	GUEST_ASSERT_EQ(base, rdmsr(MSR_IA32_APIC_BASE));
	GUEST_ASSERT_EQ(0x1ff, page[APIC_SVR / 4]);

	/* xAPIC -> disabled. The page is unclaimed: the TPR write exits. */
	wrmsr(MSR_IA32_APIC_BASE, off);
	GUEST_ASSERT_EQ(off, rdmsr(MSR_IA32_APIC_BASE));
	set_cr8(2);
	page[APIC_TPR / 4] = 0xf0;
	GUEST_ASSERT_EQ(2, get_cr8());
	GUEST_ASSERT_EQ(STATES_MMIO_DATA, page[APIC_LVR / 4]);
	GUEST_ASSERT_EQ(2, get_cr8());
	GUEST_ASSERT_EQ(13, guest_rdmsr_safe(MSR_X2APIC_BASE + 2, &val));
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_X2APIC_BASE + 8, 0));
	/* Disabled -> x2APIC directly is invalid. */
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_IA32_APIC_BASE,
					     base | APIC_BASE_EXTD));

	/* Disabled -> xAPIC: the APIC is in its reset state (11.4.7.1). */
	wrmsr(MSR_IA32_APIC_BASE, base);
	GUEST_ASSERT_EQ(0, get_cr8());
	GUEST_ASSERT_EQ(0, page[APIC_TPR / 4]);
	GUEST_ASSERT_EQ(0, page[APIC_ID / 4]);
	GUEST_ASSERT_EQ(0x50014, page[APIC_LVR / 4]);
	GUEST_ASSERT_EQ(0xff, page[APIC_SVR / 4]);	/* software disabled */
	GUEST_ASSERT_EQ(0x10000, page[APIC_LVTT / 4]);
	GUEST_ASSERT_EQ(0, page[APIC_LDR / 4]);
	page[APIC_LVTT / 4] = V_TIMER;			/* stays masked */
	GUEST_ASSERT_EQ(0x10000 | V_TIMER, page[APIC_LVTT / 4]);

	/* xAPIC -> x2APIC: the MSRs answer, the TPR MSR is CR8. */
	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	GUEST_ASSERT_EQ(0, guest_rdmsr_safe(MSR_X2APIC_BASE + 2, &val));
	GUEST_ASSERT_EQ(0, val);
	wrmsr(MSR_X2APIC_BASE + 8, 0x40);
	GUEST_ASSERT_EQ(4, get_cr8());
	GUEST_ASSERT_EQ(0x40, rdmsr(MSR_X2APIC_BASE + 8));
	/* x2APIC -> xAPIC is invalid. */
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_IA32_APIC_BASE, base));

	/* x2APIC -> disabled: no MSR is let through any more. */
	wrmsr(MSR_IA32_APIC_BASE, off);
	GUEST_ASSERT_EQ(13, guest_rdmsr_safe(MSR_X2APIC_BASE + 8, &val));
	GUEST_ASSERT_EQ(13, guest_rdmsr_safe(MSR_X2APIC_BASE + 2, &val));
	GUEST_ASSERT_EQ(13, guest_wrmsr_safe(MSR_X2APIC_BASE + 0xb, 0));
	page[APIC_EOI / 4] = 0;

	/* Disabled -> xAPIC -> x2APIC: reset state through the MSRs. */
	wrmsr(MSR_IA32_APIC_BASE, base);
	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	GUEST_ASSERT_EQ(0, rdmsr(MSR_X2APIC_BASE + 8));
	GUEST_ASSERT_EQ(0xff, rdmsr(MSR_X2APIC_BASE + 0xf));
	GUEST_ASSERT_EQ(0x10000, rdmsr(MSR_X2APIC_BASE + 0x32));
	GUEST_ASSERT_EQ(1, rdmsr(MSR_X2APIC_BASE + 0xd));	/* LDR */
	wrmsr(MSR_IA32_APIC_BASE, off);
	wrmsr(MSR_IA32_APIC_BASE, base);
	GUEST_ASSERT_EQ(0x50014, page[APIC_LVR / 4]);
	GUEST_DONE();
}

/*
 * The writes an OS makes most: TSC deadline (re-armed far ahead), EOI
 * with nothing in service, TPR. SYNC before and after the loop, so the
 * host can count its exits; then a deadline in the past must still fire
 * (and its EOI retire it), reported in the last SYNC.
 */
void guest_fastpath(uint64_t unused)
{
	uint32_t khz = tsc_khz();

	(void)unused;
	apic_enable();
	apic_write(APIC_LVTT, V_TIMER | (2u << 17));	/* TSC deadline */
	GUEST_SYNC(0);
	for (int i = 0; i < FAST_APIC_LOOPS; i++) {
		wrmsr(MSR_TSC_DEADLINE, rdtsc() + khz * 1000ull);
		apic_write(APIC_EOI, 0);
		apic_write(APIC_TPR, i & 1 ? 0x10 : 0);
	}
	GUEST_SYNC(1);
	GUEST_ASSERT_EQ(0, guest_irqs[V_TIMER]);	/* 1 s away */
	wrmsr(MSR_TSC_DEADLINE, 1);			/* in the past */
	sti();
	wait_irqs(V_TIMER, 1);
	GUEST_ASSERT_EQ(0, rdmsr(MSR_TSC_DEADLINE));
	GUEST_ASSERT_EQ(0, apic_read(APIC_ISR + (V_TIMER / 32) * 0x10));
	GUEST_SYNC(guest_irqs[V_TIMER]);
	GUEST_DONE();
}
