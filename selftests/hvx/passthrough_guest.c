// SPDX-License-Identifier: GPL-2.0
/*
 * passthrough_guest.c - 64-bit guest code of passthrough_test: finds the
 * assigned e1000 on the in-kernel PCI bus 0 (configuration mechanism #1,
 * PCI Local Bus Spec 3.0 3.2.2.3.2), sizes and programs its BAR0
 * (6.2.5.1), and reads its EEPROM through the registers (8254x SDM
 * 13.4.4, EERD).
 */
#include "hvx_guest.h"
#include "passthrough_guest.h"

#define PCI_COMMAND		0x04
#define PCI_COMMAND_IO		0x1
#define PCI_COMMAND_MEMORY	0x2
#define PCI_BAR0		0x10
#define PCI_ROM			0x30
#define PCI_INTERRUPT_LINE	0x3c

#define APIC_GPA		0xfee00000ull
#define APIC_EOI		0xb0
#define APIC_SVR		0xf0
#define IOAPIC_GPA		0xfec00000ull
#define RE_LEVEL		(1u << 15)	/* 82093AA 3.2.4: trigger mode */
#define WAIT_CYCLES		400000000ull	/* seconds under Bochs */

volatile uint64_t guest_pt_irqs;
volatile uint8_t guest_pt_prom[PT_NE2K_PROM];
volatile uint8_t guest_pt_prom_moved[PT_NE2K_PROM];
volatile uint64_t guest_pt_spins;
volatile uint64_t guest_pt_icr;

static uint32_t cfg_read(int dev, int off)
{
	outl(0xcf8, 0x80000000u | dev << 11 | off);
	return inl(0xcfc);
}

static void cfg_write(int dev, int off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | dev << 11 | off);
	outl(0xcfc, v);
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/* The slot of device @id on bus 0; asserts there is one. */
static int find_dev(uint32_t id)
{
	int slot = 0;

	for (int dev = 1; dev < 32; dev++)
		if (cfg_read(dev, 0) == id)
			slot = dev;
	GUEST_ASSERT(slot);
	return slot;
}

static int find_e1000(void)
{
	return find_dev(PT_E1000_ID);
}

/* EEPROM word @w through EERD; *@n counts the register accesses. */
static uint16_t eerd(volatile uint32_t *bar, int w, uint64_t *n)
{
	uint32_t v = 0;

	bar[PT_E1000_EERD / 4] = PT_EERD_START | w << 8;
	++*n;
	for (int i = 0; i < 100000; i++) {
		v = bar[PT_E1000_EERD / 4];
		++*n;
		if (v & PT_EERD_DONE)
			break;
	}
	GUEST_ASSERT(v & PT_EERD_DONE);
	return v >> 16;
}

/*
 * SYNC(slot) once BAR0 is at PT_BAR_GPA with memory decode on; SYNC(MAC
 * words 0-2, accesses made) after reading the EEPROM there; then a read
 * with decode off (must exit: the host answers PT_TRAP_VALUE), then the
 * same EEPROM word through the BAR moved to PT_BAR_GPA2.
 */
void guest_pt_e1000(uint64_t unused)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;
	volatile uint32_t *bar2 = (volatile uint32_t *)PT_BAR_GPA2;
	uint64_t n = 0, mac = 0;
	uint32_t cmd, v;
	int slot;

	(void)unused;
	slot = find_e1000();
	cmd = cfg_read(slot, PCI_COMMAND) & 0xffff;
	/* Size BAR0 with decoding off, as an OS does. */
	cfg_write(slot, PCI_COMMAND, cmd & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO));
	cfg_write(slot, PCI_BAR0, ~0u);
	v = cfg_read(slot, PCI_BAR0);
	GUEST_ASSERT_EQ(0, v & 1);			/* memory BAR */
	GUEST_ASSERT_EQ(PT_BAR_SIZE, ~(v & ~0xfu) + 1);
	cfg_write(slot, PCI_ROM, ~0u);
	GUEST_ASSERT_EQ(0, cfg_read(slot, PCI_ROM));	/* ROM hidden */
	cfg_write(slot, PCI_BAR0, PT_BAR_GPA);
	GUEST_ASSERT_EQ(PT_BAR_GPA, cfg_read(slot, PCI_BAR0) & ~0xfu);
	cfg_write(slot, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	GUEST_ASSERT(cfg_read(slot, PCI_COMMAND) & PCI_COMMAND_MEMORY);
	GUEST_SYNC(slot);

	for (int w = 0; w < 3; w++)
		mac |= (uint64_t)eerd(bar, w, &n) << (16 * w);
	GUEST_SYNC_ARGS(mac, n, 0, 0);

	cfg_write(slot, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	GUEST_ASSERT_EQ(PT_TRAP_VALUE, bar[PT_E1000_STATUS / 4]);

	cfg_write(slot, PCI_BAR0, PT_BAR_GPA2);
	cfg_write(slot, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	n = 0;
	GUEST_ASSERT_EQ(mac & 0xffff, eerd(bar2, 0, &n));
	GUEST_DONE();
}

/* The e1000's interrupt: read ICR (which deasserts INTx), then EOI. */
void guest_pt_irq_c(void);
void guest_pt_irq_c(void)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;

	guest_pt_icr |= bar[PT_E1000_ICR / 4];
	guest_pt_irqs++;
	*(volatile uint32_t *)(APIC_GPA + APIC_EOI) = 0;
}

asm(".pushsection .text\n"
    ".globl guest_pt_irq_stub\n"
    "guest_pt_irq_stub:\n\t"
    "pushq %rax\n\tpushq %rcx\n\tpushq %rdx\n\tpushq %rsi\n\tpushq %rdi\n\t"
    "pushq %r8\n\tpushq %r9\n\tpushq %r10\n\tpushq %r11\n\t"
    "call guest_pt_irq_c\n\t"
    "popq %r11\n\tpopq %r10\n\tpopq %r9\n\tpopq %r8\n\tpopq %rdi\n\t"
    "popq %rsi\n\tpopq %rdx\n\tpopq %rcx\n\tpopq %rax\n\t"
    "iretq\n"
    ".popsection");

static void ioapic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)IOAPIC_GPA = reg;
	*(volatile uint32_t *)(IOAPIC_GPA + 0x10) = val;
}

/*
 * SYNC(GSI from the Interrupt Line register) with the e1000's BAR0 at
 * PT_BAR_GPA, its GSI routed level-triggered to PT_VECTOR on APIC 0 and
 * interrupts on; then PT_INTX_ROUNDS times: unmask TXDW (IMS) and set it
 * (ICS), wait for the interrupt; SYNC(interrupts, ICR bits seen).
 */
static uint32_t intx_setup(void)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;
	uint32_t cmd, gsi;
	int slot;

	slot = find_e1000();
	GUEST_ASSERT((cfg_read(slot, PCI_INTERRUPT_LINE) >> 8 & 0xff) != 0);
	gsi = cfg_read(slot, PCI_INTERRUPT_LINE) & 0xff;
	cmd = cfg_read(slot, PCI_COMMAND) & 0xffff;
	cfg_write(slot, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	cfg_write(slot, PCI_BAR0, PT_BAR_GPA);
	/* Memory decode on, INTx Disable (bit 10) off. */
	cfg_write(slot, PCI_COMMAND, (cmd | PCI_COMMAND_MEMORY) & ~(1u << 10));
	bar[PT_E1000_IMC / 4] = ~0u;
	(void)bar[PT_E1000_ICR / 4];
	ioapic_write(0x11 + 2 * gsi, 0);		/* destination APIC 0 */
	ioapic_write(0x10 + 2 * gsi, PT_VECTOR | RE_LEVEL);
	*(volatile uint32_t *)(APIC_GPA + APIC_SVR) = 0x1ff;
	asm volatile("sti" : : : "memory");
	return gsi;
}

void guest_pt_intx(uint64_t unused)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;

	(void)unused;
	GUEST_SYNC(intx_setup());

	for (uint64_t k = 1; k <= PT_INTX_ROUNDS; k++) {
		uint64_t t0 = rdtsc();

		bar[PT_E1000_IMS / 4] = PT_E1000_TXDW;
		bar[PT_E1000_ICS / 4] = PT_E1000_TXDW;
		while (guest_pt_irqs < k) {
			asm volatile("pause");
			GUEST_ASSERT(rdtsc() - t0 < WAIT_CYCLES);
		}
	}
	bar[PT_E1000_IMC / 4] = ~0u;
	GUEST_SYNC_ARGS(guest_pt_irqs, guest_pt_icr, 0, 0);
	GUEST_DONE();
}

/*
 * The NE2000's station address PROM through remote DMA (DP8390D
 * datasheet, "Remote DMA"; as ne2k-pci reads it): stop, byte-wide
 * transfers, 32 bytes from address 0, remote read, then the data port,
 * into @prom. Returns the port accesses made.
 */
static uint64_t ne2k_prom(uint16_t io, volatile uint8_t *prom)
{
	uint64_t n = 0;

	outb(io + 0x00, 0x21);		/* CR: page 0, STOP, abort DMA */
	outb(io + 0x0e, 0x48);		/* DCR: byte-wide, FIFO 8 */
	outb(io + 0x0a, PT_NE2K_PROM);	/* RBCR0 */
	outb(io + 0x0b, 0);		/* RBCR1 */
	outb(io + 0x08, 0);		/* RSAR0 */
	outb(io + 0x09, 0);		/* RSAR1 */
	outb(io + 0x00, 0x0a);		/* CR: remote read, START */
	n += 7;
	for (int i = 0; i < PT_NE2K_PROM; i++, n++)
		prom[i] = inb(io + 0x10);
	return n;
}

/*
 * SYNC(I/O BAR port) with I/O decode on and the BAR where the host has
 * it; SYNC(port accesses) after reading the PROM into guest_pt_prom
 * (passed through); the BAR moved to PT_NE2K_MOVED: SYNC(port accesses)
 * after reading it into guest_pt_prom_moved (forwarded in the kernel);
 * back at the host's port: SYNC(port accesses) after reading it again
 * (passed through again); then moved with I/O decode off, where a read
 * exits to userspace (the host answers PT_NE2K_TRAP).
 */
void guest_pt_ne2k(uint64_t unused)
{
	uint32_t bar, cmd;
	uint16_t io;
	int slot;

	(void)unused;
	slot = find_dev(PT_NE2K_ID);
	bar = cfg_read(slot, PCI_BAR0);
	GUEST_ASSERT(bar & 1);				/* an I/O BAR */
	io = bar & ~3u;
	cmd = cfg_read(slot, PCI_COMMAND) & 0xffff;
	cfg_write(slot, PCI_COMMAND, cmd | PCI_COMMAND_IO);
	GUEST_SYNC(io);
	GUEST_SYNC(ne2k_prom(io, guest_pt_prom));
	cfg_write(slot, PCI_BAR0, PT_NE2K_MOVED);
	GUEST_ASSERT_EQ(PT_NE2K_MOVED | 1, cfg_read(slot, PCI_BAR0));
	GUEST_SYNC(ne2k_prom(PT_NE2K_MOVED, guest_pt_prom_moved));
	cfg_write(slot, PCI_BAR0, io);
	GUEST_SYNC(ne2k_prom(io, guest_pt_prom));
	cfg_write(slot, PCI_BAR0, PT_NE2K_MOVED);
	cfg_write(slot, PCI_COMMAND, cmd & ~PCI_COMMAND_IO);
	GUEST_ASSERT_EQ(PT_NE2K_TRAP, inb(PT_NE2K_MOVED));
	GUEST_DONE();
}

/*
 * The NE2000's I/O BAR at the host's ports, I/O decode on: SYNC(port),
 * then read its command register forever, counting in guest_pt_spins.
 * Passed through, the reads do not exit; once the host revokes the
 * ports, the next one exits to userspace.
 */
void guest_pt_port_spin(uint64_t unused)
{
	uint16_t io;
	int slot;

	(void)unused;
	slot = find_dev(PT_NE2K_ID);
	io = cfg_read(slot, PCI_BAR0) & ~3u;
	cfg_write(slot, PCI_COMMAND, cfg_read(slot, PCI_COMMAND) | PCI_COMMAND_IO);
	GUEST_SYNC(io);
	for (;;) {
		inb(io);
		guest_pt_spins++;
	}
}

/*
 * With BAR0 at PT_BAR_GPA (the host put it there through the device fd):
 * SYNC(STATUS); after the host unassigned the device, the same read exits
 * (the host answers PT_TRAP_VALUE) and no e1000 is left on the bus.
 */
void guest_pt_unassigned(uint64_t unused)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;

	(void)unused;
	GUEST_SYNC(bar[PT_E1000_STATUS / 4]);
	GUEST_ASSERT_EQ(PT_TRAP_VALUE, bar[PT_E1000_STATUS / 4]);
	for (int dev = 1; dev < 32; dev++)
		GUEST_ASSERT(cfg_read(dev, 0) != PT_E1000_ID);
	GUEST_DONE();
}

/* SYNC(GSI), then interrupts from the e1000 back to back, forever. */
void guest_pt_storm(uint64_t unused)
{
	volatile uint32_t *bar = (volatile uint32_t *)PT_BAR_GPA;

	(void)unused;
	GUEST_SYNC(intx_setup());
	for (;;) {
		uint64_t k = guest_pt_irqs;

		bar[PT_E1000_IMS / 4] = PT_E1000_TXDW;
		bar[PT_E1000_ICS / 4] = PT_E1000_TXDW;
		while (guest_pt_irqs == k)
			asm volatile("pause");
	}
}

/* @n WBINVDs, then SYNC(n). */
void guest_pt_wbinvd(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		asm volatile("wbinvd" : : : "memory");
	GUEST_SYNC(n);
}

/*
 * BAR0 of the e1000 at PT_BAR_GPA, decode on: SYNC(0); then @n times
 * memory decode off and on (two remaps each): SYNC(n); then EEPROM word
 * 0 through the BAR: SYNC(word).
 */
void guest_pt_toggles(uint64_t n)
{
	int slot = find_e1000();
	uint64_t accesses = 0;
	uint32_t cmd;

	cmd = cfg_read(slot, PCI_COMMAND) & 0xffff;
	cfg_write(slot, PCI_BAR0, PT_BAR_GPA);
	cfg_write(slot, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	GUEST_SYNC(0);
	for (uint64_t i = 0; i < n; i++) {
		cfg_write(slot, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
		cfg_write(slot, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	}
	GUEST_SYNC(n);
	GUEST_SYNC(eerd((volatile uint32_t *)PT_BAR_GPA, 0, &accesses));
}
