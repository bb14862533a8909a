// SPDX-License-Identifier: GPL-2.0
/*
 * ioapic.c - the I/O APIC at 0xfec00000 (Intel 82093AA I/O APIC
 * datasheet; the directly addressed EOI register of version 20H as in
 * the Intel I/O Controller Hub datasheets), with HVX_NR_GSIS inputs.
 *
 * Each input has a redirection entry: vector, delivery mode, destination,
 * trigger mode, mask. An edge-triggered input sends a message on each
 * rising edge; a level-triggered one sends a message while its line is
 * asserted and sets Remote IRR until the local APIC's EOI for the vector
 * comes back (hvx_ioapic_eoi()), after which a line still asserted sends
 * again. Edges on a masked input are lost; a masked level input that is
 * still asserted when unmasked sends then. Polarity is stored but not
 * applied: GSI levels given to the router are "asserted" (1) or not (0).
 *
 * The state is under a spinlock taken with interrupts off: inputs change
 * from any context (device timers, eventfd wake-ups).
 */
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <asm/apicdef.h>

#include "../hvx_core.h"
#include "dev.h"

#define IOAPIC_SIZE		0x1000
#define IOREGSEL		0x00
#define IOWIN			0x10
#define IOEOI			0x40

#define IOAPICID		0x00
#define IOAPICVER		0x01
#define IOAPICARB		0x02
#define IOREDTBL		0x10
/* Version 20H, highest redirection entry in bits 23:16. */
#define IOAPIC_VERSION		(0x20 | ((HVX_NR_GSIS - 1) << 16))

/* Redirection entry bits (82093AA datasheet 3.2.4). */
#define RE_VECTOR		0xffULL
#define RE_DESTMODE		BIT_ULL(11)
#define RE_REMOTE_IRR		BIT_ULL(14)
#define RE_LEVEL		BIT_ULL(15)
#define RE_MASKED		BIT_ULL(16)
#define RE_LOW_WRITABLE		0x1afffULL	/* all but 12 and 14 */
#define RE_DEST_SHIFT		56

/**
 * struct hvx_ioapic - the VM's I/O APIC
 * @iodev: its MMIO claim.
 * @vm: the VM.
 * @lock: protects the fields below.
 * @ioregsel: the register that IOWIN reaches.
 * @id: I/O APIC id (bits 27:24 of register 0).
 * @lines: input levels, one bit per GSI.
 * @redir: redirection table.
 */
struct hvx_ioapic {
	struct hvx_io_dev iodev;
	struct hvx_vm *vm;
	spinlock_t lock;	/* the fields below */
	u32 ioregsel;
	u32 id;
	u32 lines;
	u64 redir[HVX_NR_GSIS];
};

/* Send the message of input @pin; lock held. */
static void ioapic_send(struct hvx_ioapic *io, unsigned int pin)
{
	u64 e = io->redir[pin];
	struct hvx_apic_irq irq = {
		.dest = e >> RE_DEST_SHIFT,
		.vector = e & RE_VECTOR,
		.delivery = (e >> 8) & 7,
		.logical = e & RE_DESTMODE,
		.level_trig = e & RE_LEVEL,
		.assert = true,
		.src = HVX_IRQ_SRC_IOAPIC,
	};

	/* Remote IRR only when an APIC took it: its EOI clears it. */
	if (hvx_lapic_deliver(io->vm, &irq) && (e & RE_LEVEL))
		io->redir[pin] |= RE_REMOTE_IRR;
}

/* Send for a level input that is asserted, unmasked and idle; lock held. */
static void ioapic_service_level(struct hvx_ioapic *io, unsigned int pin)
{
	u64 e = io->redir[pin];

	if ((io->lines & BIT(pin)) && (e & RE_LEVEL) &&
	    !(e & (RE_MASKED | RE_REMOTE_IRR)))
		ioapic_send(io, pin);
}

/**
 * hvx_ioapic_set_irq - drive an I/O APIC input
 * @vm: the VM, which has an I/O APIC.
 * @gsi: input, 0 .. HVX_NR_GSIS - 1 (checked by the router).
 * @level: 1 asserted, 0 not.
 *
 * Context: any.
 */
void hvx_ioapic_set_irq(struct hvx_vm *vm, unsigned int gsi, int level)
{
	struct hvx_ioapic *io = READ_ONCE(vm->plat->ioapic);
	unsigned long flags;
	bool was;

	spin_lock_irqsave(&io->lock, flags);
	was = io->lines & BIT(gsi);
	if (level)
		io->lines |= BIT(gsi);
	else
		io->lines &= ~BIT(gsi);
	if (level && !(io->redir[gsi] & RE_MASKED)) {
		if (io->redir[gsi] & RE_LEVEL)
			ioapic_service_level(io, gsi);
		else if (!was)
			ioapic_send(io, gsi);
	}
	spin_unlock_irqrestore(&io->lock, flags);
}

/**
 * hvx_ioapic_eoi - a local APIC retired level-triggered @vector
 * @vm: the VM.
 * @vector: the vector (EOI broadcast, SDM Vol. 3A 11.8.5; or a write to
 *	the I/O APIC's EOI register).
 *
 * Clears Remote IRR of every level input with that vector, lets the ack
 * notifiers (resample eventfds, assigned devices) deassert their lines
 * (hvx_irq_notify_ack()), then sends again for the inputs still asserted.
 * Context: process context (the vCPU's thread).
 */
void hvx_ioapic_eoi(struct hvx_vm *vm, u8 vector)
{
	struct hvx_ioapic *io = vm->plat ? READ_ONCE(vm->plat->ioapic) : NULL;
	unsigned long flags, eoied = 0;
	unsigned int pin;

	if (!io)
		return;
	spin_lock_irqsave(&io->lock, flags);
	for (pin = 0; pin < HVX_NR_GSIS; pin++) {
		u64 e = io->redir[pin];

		if ((e & RE_VECTOR) == vector && (e & RE_LEVEL) &&
		    (e & RE_REMOTE_IRR)) {
			io->redir[pin] &= ~RE_REMOTE_IRR;
			__set_bit(pin, &eoied);
		}
	}
	spin_unlock_irqrestore(&io->lock, flags);
	if (!eoied)
		return;
	for_each_set_bit(pin, &eoied, HVX_NR_GSIS)
		hvx_irq_notify_ack(vm, pin);
	spin_lock_irqsave(&io->lock, flags);
	for_each_set_bit(pin, &eoied, HVX_NR_GSIS)
		ioapic_service_level(io, pin);
	spin_unlock_irqrestore(&io->lock, flags);
}

/* IOWIN read of the selected register (82093AA datasheet 3.2). */
static u32 ioapic_read_reg(struct hvx_ioapic *io)
{
	u32 sel = io->ioregsel;

	switch (sel) {
	case IOAPICID:
	case IOAPICARB:
		return io->id << 24;
	case IOAPICVER:
		return IOAPIC_VERSION;
	}
	if (sel >= IOREDTBL && sel < IOREDTBL + 2 * HVX_NR_GSIS) {
		u64 e = io->redir[(sel - IOREDTBL) / 2];

		return sel & 1 ? e >> 32 : (u32)e;
	}
	return 0;
}

static void ioapic_write_reg(struct hvx_ioapic *io, u32 val)
{
	u32 sel = io->ioregsel;
	unsigned int pin;
	u64 e;

	if (sel == IOAPICID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (sel < IOREDTBL || sel >= IOREDTBL + 2 * HVX_NR_GSIS)
		return;				/* read-only or absent */
	pin = (sel - IOREDTBL) / 2;
	e = io->redir[pin];
	if (sel & 1) {
		e = (e & 0xffffffffULL) | ((u64)(val & 0xff000000) << 32);
	} else {
		e = (e & ~0xffffffffULL) | (e & RE_REMOTE_IRR) |
		    (val & RE_LOW_WRITABLE);
		if (!(e & RE_LEVEL))
			e &= ~RE_REMOTE_IRR;
	}
	io->redir[pin] = e;
	ioapic_service_level(io, pin);	/* unmasked while asserted */
}

static int ioapic_mmio_read(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu,
			    u64 addr, u8 size, u64 *val)
{
	struct hvx_ioapic *io = container_of(dev, struct hvx_ioapic, iodev);
	u32 off = addr & 0xfff, r = 0;
	unsigned long flags;

	spin_lock_irqsave(&io->lock, flags);
	if ((off & ~3) == IOREGSEL)
		r = io->ioregsel;
	else if ((off & ~3) == IOWIN)
		r = ioapic_read_reg(io);
	spin_unlock_irqrestore(&io->lock, flags);
	*val = (off & 3) + size <= 4 ? r >> ((off & 3) * 8) : 0;
	return 0;
}

static int ioapic_mmio_write(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu,
			     u64 addr, u8 size, u64 val)
{
	struct hvx_ioapic *io = container_of(dev, struct hvx_ioapic, iodev);
	u32 off = addr & 0xfff;
	unsigned long flags;

	if (off == IOEOI && size == 4) {
		hvx_ioapic_eoi(io->vm, val & 0xff);
		return 0;
	}
	spin_lock_irqsave(&io->lock, flags);
	if (off == IOREGSEL)		/* byte or dword: bits 7:0 */
		io->ioregsel = val & 0xff;
	else if (off == IOWIN && size == 4)
		ioapic_write_reg(io, val);
	spin_unlock_irqrestore(&io->lock, flags);
	return 0;
}

static const struct hvx_io_dev_ops ioapic_ops = {
	.read	= ioapic_mmio_read,
	.write	= ioapic_mmio_write,
};

/**
 * hvx_ioapic_create - create the VM's I/O APIC
 * @vm: the VM, during HVX_CREATE_PLATFORM.
 *
 * Every redirection entry starts masked (82093AA datasheet 3.2.4); the
 * registers are claimed at IO_APIC_DEFAULT_PHYS_BASE (0xfec00000), one
 * 4 KiB page.
 * Return: 0, -ENOMEM or the bus's error.
 */
int hvx_ioapic_create(struct hvx_vm *vm)
{
	struct hvx_ioapic *io = kzalloc(sizeof(*io), GFP_KERNEL_ACCOUNT);
	int i, ret;

	if (!io)
		return -ENOMEM;
	io->iodev.ops = &ioapic_ops;
	io->vm = vm;
	spin_lock_init(&io->lock);
	for (i = 0; i < HVX_NR_GSIS; i++)
		io->redir[i] = RE_MASKED;
	ret = hvx_bus_register(vm, HVX_BUS_MMIO, IO_APIC_DEFAULT_PHYS_BASE,
			       IOAPIC_SIZE, &io->iodev);
	if (ret) {
		kfree(io);
		return ret;
	}
	WRITE_ONCE(vm->plat->ioapic, io);
	return 0;
}

/**
 * hvx_ioapic_destroy - free the VM's I/O APIC
 * @vm: the VM; no vCPU, no irqfd and no device uses it any more.
 */
void hvx_ioapic_destroy(struct hvx_vm *vm)
{
	struct hvx_ioapic *io = vm->plat->ioapic;

	if (!io)
		return;
	hvx_bus_unregister(vm, &io->iodev);
	WRITE_ONCE(vm->plat->ioapic, NULL);
	kfree(io);
}

/* Redirection entry bits a saved state may have (see RE_LOW_WRITABLE). */
#define RE_STATE_VALID	(RE_LOW_WRITABLE | RE_REMOTE_IRR | (0xffULL << RE_DEST_SHIFT))

/**
 * hvx_ioapic_get_state - fill a HVX_STATE_IOAPIC record's payload
 * @vm: the VM, with an I/O APIC.
 * @s: the record, zeroed by the caller.
 *
 * Context: any.
 */
void hvx_ioapic_get_state(struct hvx_vm *vm, struct hvx_state_ioapic *s)
{
	struct hvx_ioapic *io = vm->plat->ioapic;
	unsigned long flags;

	spin_lock_irqsave(&io->lock, flags);
	s->id = io->id;
	s->ioregsel = io->ioregsel;
	s->irr = io->lines;
	memcpy(s->redir, io->redir, sizeof(s->redir));
	spin_unlock_irqrestore(&io->lock, flags);
}

/**
 * hvx_ioapic_check_state - check a HVX_STATE_IOAPIC record's payload
 * @vm: the VM, with an I/O APIC.
 * @s: the record.
 *
 * Return: 0, or -EINVAL (see struct hvx_state_ioapic).
 */
int hvx_ioapic_check_state(struct hvx_vm *vm, const struct hvx_state_ioapic *s)
{
	int i;

	if (s->reserved || s->id > 0xf || s->ioregsel > 0xff ||
	    (s->irr & ~GENMASK(HVX_NR_GSIS - 1, 0)))
		return -EINVAL;
	for (i = 0; i < HVX_NR_GSIS; i++) {
		u64 e = s->redir[i];

		if ((e & ~RE_STATE_VALID) ||
		    ((e & RE_REMOTE_IRR) && !(e & RE_LEVEL)))
			return -EINVAL;
	}
	return 0;
}

/**
 * hvx_ioapic_set_state - load a checked HVX_STATE_IOAPIC record
 * @vm: the VM, with an I/O APIC, its vCPUs stopped.
 * @s: the record (hvx_ioapic_check_state() accepted it).
 *
 * A level input that is asserted, unmasked and without Remote IRR sends
 * its message, as the chip would (a consistent snapshot has none: such an
 * input had already sent and set Remote IRR).
 * Context: process context.
 */
void hvx_ioapic_set_state(struct hvx_vm *vm, const struct hvx_state_ioapic *s)
{
	struct hvx_ioapic *io = vm->plat->ioapic;
	unsigned long flags;
	unsigned int pin;

	spin_lock_irqsave(&io->lock, flags);
	io->id = s->id;
	io->ioregsel = s->ioregsel;
	io->lines = s->irr;
	memcpy(io->redir, s->redir, sizeof(io->redir));
	for (pin = 0; pin < HVX_NR_GSIS; pin++)
		ioapic_service_level(io, pin);
	spin_unlock_irqrestore(&io->lock, flags);
}
