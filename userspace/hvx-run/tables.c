// SPDX-License-Identifier: GPL-2.0
/*
 * tables.c - what firmware would tell the OS about the machine: the e820
 * memory map, an MP table (Intel MultiProcessor Specification 1.4) and
 * ACPI tables (ACPI 6.3: RSDP, RSDT, XSDT, FADT, DSDT, MADT).
 *
 * Both tables describe the same machine: vCPUs with local APIC ids 0..N-1
 * at LAPIC_ADDR, one IOAPIC (id N, 24 pins, GSI 0..23) at IOAPIC_ADDR,
 * ISA IRQs 0-15 on the same-numbered pins (hvx's interrupt router raises
 * a GSI below 16 on the PIC and the IOAPIC input of the same number, so
 * the PIT is on pin 0 and the MADT needs no interrupt source override), a
 * PCI bus 0 whose INTx lines the MP table's interrupt entries and the
 * DSDT's _PRT route alike to GSI 16-19. The ACPI machine is a full (not
 * hardware-reduced) PC: a hardware-reduced FADT tells Linux that there is
 * no 8259 and no PIT, so it would give the ISA devices (UART, RTC) no
 * interrupts. PM1a event and
 * control blocks are at PORT_ACPI_PM1_EVT/PORT_ACPI_PM1_CNT, with SCI on
 * IRQ 9 (never raised: there are no fixed events) and no SMI command port
 * (the machine is always in ACPI mode); writing SLP_EN with \_S3's or
 * \_S5's SLP_TYP to PM1a_CNT, or to the ACPI 5 sleep control register at
 * PORT_ACPI_SLEEP, suspends the machine to RAM or turns it off (sleep.c),
 * and the reset register at PORT_ACPI_RESET resets it. A FACS (5.2.10)
 * holds the waking vectors for a resume from S3. The DSDT holds \_S3,
 * \_S5 and
 * a PCI root bridge (PNP0A03) so that the OS scans PCI bus 0, with a _PRT
 * that routes PCI interrupts to I/O APIC GSIs 16-19.
 *
 * Layout: ACPI tables from GPA_BIOS (0xe0000), the RSDP at 0xf0000 and
 * the MP floating pointer at 0xf0040, where OSes search for them (ACPI
 * 6.3 5.2.5.1; MP Spec 4.1). e820 reports 0x9fc00-0x100000 as reserved.
 */
#include <string.h>

#include "hvx-run.h"

#define GPA_RSDP	0xf0000ull
#define GPA_MPFP	0xf0040ull
#define GPA_MPC		0xf0050ull

int build_e820(struct vm *vm, struct e820 *map)
{
	int n = 0;

	map[n++] = (struct e820){ 0, GPA_EBDA, E820_RAM };
	map[n++] = (struct e820){ GPA_EBDA, 0xa0000 - GPA_EBDA, E820_RESERVED };
	map[n++] = (struct e820){ GPA_BIOS, GPA_BIOS_END - GPA_BIOS, E820_RESERVED };
	map[n++] = (struct e820){ GPA_HIGH, vm->low_size - GPA_HIGH, E820_RAM };
	if (vm->high_size)
		map[n++] = (struct e820){ GPA_4G, vm->high_size, E820_RAM };
	return n;
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------------ */
/* MP table, MultiProcessor Specification 1.4, chapter 4 */

/* Interrupt entry flags (MP Spec 4.3.4): polarity bits 0-1, trigger 2-3. */
#define MP_IRQ_CONFORMING	0x0
#define MP_IRQ_LEVEL_LOW	0xf	/* active low (3), level (3 << 2) */

static void mp_irq(uint8_t **e, uint8_t type, uint8_t kind, uint16_t flags,
		   uint8_t bus, uint8_t irq, uint8_t dst, uint8_t pin, int *count)
{
	uint8_t *p = *e;

	p[0] = type;		/* 3: I/O interrupt, 4: local interrupt */
	p[1] = kind;		/* 0 INT, 1 NMI, 3 ExtINT */
	put16(p + 2, flags);
	p[4] = bus;
	p[5] = irq;
	p[6] = dst;
	p[7] = pin;
	*e += 8;
	(*count)++;
}

/*
 * Bus 0 is PCI, bus 1 ISA. The ISA IRQs go to the same-numbered I/O APIC
 * pins (not 2, the cascade); PCI interrupts as the DSDT's _PRT routes them
 * (build_dsdt()): for every slot S and pin P (0 = INTA#) an entry with
 * source IRQ (S << 2) | P (MP Spec D.3) to GSI 16 + ((S + P) mod 4),
 * level-triggered and active low as a PCI line is, so that an OS that
 * routes by the MP table (Linux with acpi=noirq or acpi=off, or without
 * ACPI: --no-acpi) finds the same GSI for every device as one that
 * evaluates _PRT.
 */
static void build_mptable(struct vm *vm)
{
	uint8_t *fp = gpa_ptr(vm, GPA_MPFP, 16);
	uint8_t *mpc = gpa_ptr(vm, GPA_MPC, 0x1000);
	uint8_t *e = mpc + 44;
	uint8_t ioapic = (uint8_t)vm->ncpus;
	int count = 0;

	memset(mpc, 0, 0x1000);
	memcpy(mpc, "PCMP", 4);
	mpc[6] = 4;				/* spec revision 1.4 */
	memcpy(mpc + 8, "HVX     ", 8);
	memcpy(mpc + 16, "HVX-RUN     ", 12);
	put32(mpc + 36, (uint32_t)LAPIC_ADDR);

	for (int i = 0; i < vm->ncpus; i++) {
		e[0] = 0;			/* processor */
		e[1] = (uint8_t)i;		/* local APIC id */
		e[2] = 0x14;			/* local APIC version */
		e[3] = 1 | (i == 0 ? 2 : 0);	/* enabled, bootstrap */
		put32(e + 4, 0x600);		/* family 6 */
		put32(e + 8, 0x201);		/* FPU, APIC */
		e += 20;
		count++;
	}
	e[0] = 1; e[1] = 0; memcpy(e + 2, "PCI   ", 6); e += 8; count++;
	e[0] = 1; e[1] = 1; memcpy(e + 2, "ISA   ", 6); e += 8; count++;
	e[0] = 2;				/* I/O APIC */
	e[1] = ioapic;
	e[2] = 0x20;				/* version */
	e[3] = 1;				/* enabled */
	put32(e + 4, (uint32_t)IOAPIC_ADDR);
	e += 8;
	count++;
	for (int irq = 0; irq < 16; irq++)
		if (irq != 2)	/* the cascade */
			mp_irq(&e, 3, 0, MP_IRQ_CONFORMING, 1, (uint8_t)irq,
			       ioapic, (uint8_t)irq, &count);
	for (unsigned int slot = 0; slot < 32; slot++)
		for (unsigned int pin = 0; pin < 4; pin++)
			mp_irq(&e, 3, 0, MP_IRQ_LEVEL_LOW, 0,
			       (uint8_t)(slot << 2 | pin), ioapic,
			       (uint8_t)(16 + ((slot + pin) & 3)), &count);
	/* LINT0: ExtINT, LINT1: NMI */
	mp_irq(&e, 4, 3, MP_IRQ_CONFORMING, 1, 0, 0xff, 0, &count);
	mp_irq(&e, 4, 1, MP_IRQ_CONFORMING, 1, 0, 0xff, 1, &count);

	put16(mpc + 4, (uint16_t)(e - mpc));
	put16(mpc + 34, (uint16_t)count);
	mpc[7] = checksum(mpc, e - mpc);

	memset(fp, 0, 16);
	memcpy(fp, "_MP_", 4);
	put32(fp + 4, (uint32_t)GPA_MPC);
	fp[8] = 1;				/* length in 16-byte units */
	fp[9] = 4;				/* spec revision 1.4 */
	fp[10] = checksum(fp, 16);
}

/* ------------------------------------------------------------------ */
/* ACPI 6.3 */

/* A system description table header (ACPI 6.3 5.2.6). */
static void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "HVX   ", 6);
	memcpy(t + 16, "HVXRUN  ", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "HVXR", 4);
	put32(t + 32, 1);
	t[9] = checksum(t, len);
}

/* Generic Address Structure (5.2.3.2) for one byte in I/O space. */
static void gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = 1;	/* system I/O */
	p[1] = 8;	/* bit width */
	p[2] = 0;	/* bit offset */
	p[3] = 1;	/* byte access */
	put64(p + 4, port);
}

/*
 * DSDT definition block (AML, ACPI 6.3 chapter 20):
 *   Name (\_S3, Package () { 1, 1, 0, 0 })
 *   Name (\_S5, Package () { 5, 5, 0, 0 })
 *   Scope (\_SB) { Device (PCI0) {
 *     Name (_HID, EisaId ("PNP0A03"))
 *     Name (_UID, 0)
 *     Name (_BBN, 0)
 *     Name (_CRS, ResourceTemplate () {
 *       WordBusNumber (0-0xff), IO (0xcf8, 8),
 *       WordIO (0-0xcf7), WordIO (0xd00-0xffff),
 *       DWordMemory (0xc0000000-0xfebfffff) })
 *     Name (_PRT, Package () { ... })	(build_dsdt())
 *   } }
 * PkgLength encodings: one byte below 64, else two (20.2.4).
 */
static const uint8_t dsdt_sleep_aml[] = {
	/* Name (\_S3_, Package (4) { 1, 1, 0, 0 }): SLP_TYP a and b */
	0x08, '\\', '_', 'S', '3', '_', 0x12, 0x08, 0x04,
	0x0a, ACPI_S3_SLP_TYP, 0x0a, ACPI_S3_SLP_TYP, 0x00, 0x00,
	/* Name (\_S5_, Package (4) { 5, 5, 0, 0 }) */
	0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0a, ACPI_S5_SLP_TYP, 0x0a, ACPI_S5_SLP_TYP, 0x00, 0x00,
};

/* The named objects of Device (PCI0) before _PRT. */
static const uint8_t dsdt_pci0_aml[] = {
	'P', 'C', 'I', '0',
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03, /* EisaId PNP0A03 */
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'B', 'B', 'N', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x48, 0x05, 0x0a, 0x54, /* Buffer (0x54) */
	/* WordBusNumber: bus 0-0xff */
	0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01,
	/* IO (Decode16, 0xcf8, 0xcf8, 1, 8) */
	0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
	/* WordIO: 0x0000-0x0cf7 */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
	0x00, 0x00, 0x00, 0x00, 0xf7, 0x0c, 0x00, 0x00, 0xf8, 0x0c,
	/* WordIO: 0x0d00-0xffff */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
	0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3,
	/* DWordMemory: 0xc0000000-0xfebfffff, read-write */
	0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0xc0,
	0xff, 0xff, 0xbf, 0xfe,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xc0, 0x3e,
	/* End tag */
	0x79, 0x00,
};

#define DSDT_MAX	4096	/* build_dsdt() writes about 1.9 KiB */

/*
 * Writes op (1 or 2 bytes), the PkgLength of len body bytes (ACPI 6.3
 * 20.2.4: the length counts its own 1-3 bytes) and the body; returns the
 * bytes written. body may lie anywhere in out after the 5 header bytes.
 */
static size_t aml_pkg(uint8_t *out, const uint8_t *op, size_t oplen,
		      const uint8_t *body, size_t len)
{
	size_t n = oplen, v;

	memcpy(out, op, oplen);
	if (len + 1 < 0x40) {
		out[n++] = (uint8_t)(len + 1);
	} else if (len + 2 < 0x1000) {
		v = len + 2;
		out[n++] = (uint8_t)(0x40 | (v & 0xf));
		out[n++] = (uint8_t)(v >> 4);
	} else {
		v = len + 3;
		out[n++] = (uint8_t)(0x80 | (v & 0xf));
		out[n++] = (uint8_t)(v >> 4);
		out[n++] = (uint8_t)(v >> 12);
	}
	memmove(out + n, body, len);
	return n + len;
}

/*
 * The DSDT's AML (after the header) into out[DSDT_MAX]; returns its
 * length. _PRT (ACPI 6.3 6.2.13) routes pin P (0 = INTA) of every slot S
 * on bus 0 straight to I/O APIC GSI 16 + ((S + P) mod 4), the rotation
 * hvx wires a passed-through device's INTx to (iommu/guest.c; also its
 * Interrupt Line register): without it an OS has no GSI for the device's
 * interrupt and cannot request it.
 */
static size_t build_dsdt(uint8_t *out)
{
	static const uint8_t op_scope[] = { 0x10 }, op_device[] = { 0x5b, 0x82 },
			     op_package[] = { 0x12 };
	uint8_t prt[DSDT_MAX], dev[DSDT_MAX], ent[16];
	size_t n = 0, np, nd;

	/* Package (128) { Package () { 0xSSSSFFFF, P, Zero, GSI }, ... } */
	np = 5;				/* room for the Package header */
	prt[np++] = 128;		/* NumElements */
	for (unsigned int slot = 0; slot < 32; slot++) {
		for (unsigned int pin = 0; pin < 4; pin++) {
			size_t e = 0;

			ent[e++] = 0x04;			/* NumElements */
			ent[e++] = 0x0c;			/* DWordConst */
			put32(ent + e, (slot << 16) | 0xffff);	/* any function */
			e += 4;
			ent[e++] = 0x0a;			/* ByteConst pin */
			ent[e++] = (uint8_t)pin;
			ent[e++] = 0x00;			/* Zero: no link device */
			ent[e++] = 0x0a;			/* ByteConst GSI */
			ent[e++] = (uint8_t)(16 + ((slot + pin) & 3));
			np += aml_pkg(prt + np, op_package, sizeof(op_package), ent, e);
		}
	}

	/* Device (PCI0) { ... Name (_PRT, ...) } */
	memcpy(dev + 8, dsdt_pci0_aml, sizeof(dsdt_pci0_aml));
	nd = 8 + sizeof(dsdt_pci0_aml);
	memcpy(dev + nd, (const uint8_t[]){ 0x08, '_', 'P', 'R', 'T' }, 5);
	nd += 5;
	nd += aml_pkg(dev + nd, op_package, sizeof(op_package), prt + 5, np - 5);

	memcpy(out, dsdt_sleep_aml, sizeof(dsdt_sleep_aml));
	n = sizeof(dsdt_sleep_aml);
	/* Scope (\_SB_) { Device (...) } */
	memcpy(prt, "\\_SB_", 5);
	np = 5 + aml_pkg(prt + 5, op_device, sizeof(op_device), dev + 8, nd - 8);
	n += aml_pkg(out + n, op_scope, sizeof(op_scope), prt, np);
	return n;
}

/* Builds the ACPI tables; returns the RSDP's address. */
static uint64_t build_acpi(struct vm *vm)
{
	uint64_t gpa = GPA_BIOS, dsdt, facs, fadt, madt, rsdt, xsdt;
	uint8_t *t, *e;
	uint32_t len;

	memset(gpa_ptr(vm, GPA_BIOS, GPA_BIOS_END - GPA_BIOS), 0,
	       GPA_BIOS_END - GPA_BIOS);

	/* DSDT */
	dsdt = gpa;
	t = gpa_ptr(vm, dsdt, 36 + DSDT_MAX);
	len = 36 + (uint32_t)build_dsdt(t + 36);
	acpi_header(t, "DSDT", len, 2);
	gpa = (gpa + len + 63) & ~63ull;

	/*
	 * FACS, version 2 (5.2.10, Table 5-37): 64-byte aligned, no checksum.
	 * The hardware signature names the machine's configuration; the
	 * waking vectors are the OS's; no global lock, no S4BIOS, no 64-bit
	 * wake.
	 */
	facs = gpa;
	t = gpa_ptr(vm, facs, 64);
	memcpy(t, "FACS", 4);
	put32(t + 4, 64);
	put32(t + 8, (uint32_t)(vm->opt.mem >> 20) ^ (uint32_t)vm->ncpus << 24);
	t[32] = 2;
	vm->facs = facs;
	gpa += 64;

	/* FADT, revision 6 (ACPI 6.3 5.2.9, Table 5-34) */
	fadt = gpa;
	len = 276;
	t = gpa_ptr(vm, fadt, len);
	put32(t + 36, (uint32_t)facs);		/* FIRMWARE_CTRL */
	put32(t + 40, (uint32_t)dsdt);
	put16(t + 46, ACPI_SCI_IRQ);		/* SCI_INT */
	put32(t + 56, PORT_ACPI_PM1_EVT);	/* PM1a_EVT_BLK */
	put32(t + 64, PORT_ACPI_PM1_CNT);	/* PM1a_CNT_BLK */
	t[88] = 4;				/* PM1_EVT_LEN */
	t[89] = 2;				/* PM1_CNT_LEN */
	/* IAPC_BOOT_ARCH: legacy devices, no VGA; no 8042 */
	put16(t + 109, 0x0001 | 0x0004);
	/* WBINVD, PWR_BUTTON and SLP_BUTTON (none fixed), RESET_REG_SUP */
	put32(t + 112, (1u << 0) | (1u << 4) | (1u << 5) | (1u << 10));
	gas_io8(t + 116, PORT_ACPI_RESET);
	t[128] = ACPI_RESET_VALUE;
	t[131] = 3;				/* FADT minor version: 6.3 */
	put64(t + 140, dsdt);			/* X_DSDT */
	gas_io8(t + 244, PORT_ACPI_SLEEP);	/* SLEEP_CONTROL_REG */
	gas_io8(t + 256, PORT_ACPI_SLEEP_STS);	/* SLEEP_STATUS_REG */
	memcpy(t + 268, "hvxhvxhv", 8);		/* hypervisor vendor identity */
	acpi_header(t, "FACP", len, 6);
	gpa = (gpa + len + 63) & ~63ull;

	/* MADT (5.2.12) */
	madt = gpa;
	t = gpa_ptr(vm, madt, 0x1000);
	put32(t + 36, (uint32_t)LAPIC_ADDR);
	put32(t + 40, 1);			/* PCAT_COMPAT: 8259s present */
	e = t + 44;
	for (int i = 0; i < vm->ncpus; i++) {
		e[0] = 0;			/* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i;		/* ACPI processor UID */
		e[3] = (uint8_t)i;		/* APIC id */
		put32(e + 4, 1);		/* enabled */
		e += 8;
	}
	e[0] = 1;				/* I/O APIC */
	e[1] = 12;
	e[2] = (uint8_t)vm->ncpus;
	e[3] = 0;
	put32(e + 4, (uint32_t)IOAPIC_ADDR);
	put32(e + 8, 0);			/* GSI base */
	e += 12;
	e[0] = 4;				/* local APIC NMI */
	e[1] = 6;
	e[2] = 0xff;				/* every processor */
	put16(e + 3, 0);
	e[5] = 1;				/* LINT1 */
	e += 6;
	len = (uint32_t)(e - t);
	acpi_header(t, "APIC", len, 4);
	gpa = (gpa + len + 63) & ~63ull;

	/* RSDT and XSDT */
	rsdt = gpa;
	t = gpa_ptr(vm, rsdt, 48);
	put32(t + 36, (uint32_t)fadt);
	put32(t + 40, (uint32_t)madt);
	acpi_header(t, "RSDT", 44, 1);
	gpa = (gpa + 44 + 63) & ~63ull;
	xsdt = gpa;
	t = gpa_ptr(vm, xsdt, 52);
	put64(t + 36, fadt);
	put64(t + 44, madt);
	acpi_header(t, "XSDT", 52, 1);

	/* RSDP (5.2.5.3), revision 2 */
	t = gpa_ptr(vm, GPA_RSDP, 36);
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, "HVX   ", 6);
	t[15] = 2;
	put32(t + 16, (uint32_t)rsdt);
	put32(t + 20, 36);
	put64(t + 24, xsdt);
	t[8] = checksum(t, 20);
	t[32] = checksum(t, 36);
	return GPA_RSDP;
}

uint64_t build_tables(struct vm *vm)
{
	uint64_t rsdp = 0;

	if (!vm->opt.no_acpi)
		rsdp = build_acpi(vm);
	else
		memset(gpa_ptr(vm, GPA_BIOS, GPA_BIOS_END - GPA_BIOS), 0,
		       GPA_BIOS_END - GPA_BIOS);
	build_mptable(vm);
	return rsdp;
}
