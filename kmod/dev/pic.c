// SPDX-License-Identifier: GPL-2.0
/*
 * pic.c - the PC's cascaded pair of 8259A programmable interrupt
 * controllers: master at 0x20/0x21 (IRQ 0-7), slave at 0xa0/0xa1 (IRQ
 * 8-15) on the master's IR2, and the edge/level control registers (ELCR)
 * at 0x4d0/0x4d1 as on PIIX-class chipsets.
 *
 * Hardware facts are from the Intel 8259A datasheet (initialization and
 * operation command words, priority resolution, poll command, automatic
 * EOI, special mask and special fully nested modes) and the 82371AB PIIX4
 * datasheet (ELCR: IRQ 0, 1, 2, 8 and 13 are always edge-triggered).
 *
 * State changes come from port writes (vCPU threads), from device
 * interrupt lines (any context, hrtimer callbacks included, possibly
 * with the device's spinlock held) and from the INTA cycle at injection
 * (vCPU thread, preemption off): one spinlock, taken with irqsave.
 */
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "../hvx_core.h"
#include "dev.h"

#define PIC_MASTER_PORT		0x20
#define PIC_SLAVE_PORT		0xa0
#define PIC_ELCR_PORT		0x4d0
#define PIC_CASCADE_IRQ		2

/* One 8259A. Bit n of a mask stands for input IRn. */
struct pic_chip {
	u8 irr;			/* interrupt request register */
	u8 isr;			/* in-service register */
	u8 imr;			/* interrupt mask register (OCW1) */
	u8 lines;		/* input levels as devices drive them */
	u8 elcr;		/* 1: level-triggered input */
	u8 elcr_mask;		/* inputs whose trigger mode may change */
	u8 vector_base;		/* ICW2 & 0xf8 */
	u8 lowest;		/* input with the lowest priority (rotation) */
	u8 init_step;		/* 0: operating; 2-4: ICW2-ICW4 expected */
	bool need_icw4;
	bool single;		/* ICW1 SNGL: no ICW3 */
	bool auto_eoi;		/* ICW4 AEOI */
	bool rotate_aeoi;	/* OCW2 rotate in automatic EOI mode */
	bool sfnm;		/* ICW4 special fully nested mode */
	bool special_mask;	/* OCW3 SMM */
	bool read_isr;		/* OCW3 RIS: reads at A0 = 0 give the ISR */
	bool poll;		/* OCW3 P: the next read is a poll */
};

struct hvx_pic {
	struct hvx_io_dev iodev;
	struct hvx_vm *vm;
	spinlock_t lock;		/* both chips' state */
	struct pic_chip chip[2];	/* master, slave */
};

/*
 * Priority of the highest-priority bit of @mask: 0 (highest) .. 7, or 8
 * if @mask is empty. Input (lowest + 1) & 7 has priority 0.
 */
static int priority_of(const struct pic_chip *c, u8 mask)
{
	int p;

	if (!mask)
		return 8;
	for (p = 0; !(mask & BIT((p + c->lowest + 1) & 7)); p++)
		;
	return p;
}

static int input_of(const struct pic_chip *c, int priority)
{
	return (priority + c->lowest + 1) & 7;
}

/*
 * The input this chip would signal on INT now, or -1: the highest
 * unmasked request whose priority beats everything in service (8259A
 * "Priority Resolver"). In special mask mode masked in-service levels do
 * not block; in special fully nested mode (master only) the cascade input
 * in service does not block further requests from the slave.
 */
static int chip_output(const struct pic_chip *c, bool master)
{
	int req = priority_of(c, c->irr & ~c->imr);
	u8 in_service = c->isr;

	if (req == 8)
		return -1;
	if (c->special_mask)
		in_service &= ~c->imr;
	if (master && c->sfnm)
		in_service &= ~BIT(PIC_CASCADE_IRQ);
	return req < priority_of(c, in_service) ? input_of(c, req) : -1;
}

/* A device's line changed; edges latch into IRR, levels follow it. */
static void chip_set_line(struct pic_chip *c, int irq, int level)
{
	u8 bit = BIT(irq);

	if (level) {
		if ((c->elcr & bit) || !(c->lines & bit))
			c->irr |= bit;
		c->lines |= bit;
	} else {
		if (c->elcr & bit)
			c->irr &= ~bit;
		c->lines &= ~bit;
	}
}

/*
 * The slave's INT drives the master's IR2, which requests for as long as
 * the slave does (so a request the slave keeps up across an INTA, e.g.
 * in automatic EOI mode, is not lost). Return: the master's output.
 */
static int pic_update(struct hvx_pic *pic)
{
	struct pic_chip *m = &pic->chip[0];
	u8 bit = BIT(PIC_CASCADE_IRQ);

	if (chip_output(&pic->chip[1], false) >= 0) {
		m->lines |= bit;
		m->irr |= bit;
	} else {
		m->lines &= ~bit;
		m->irr &= ~bit;
	}
	return chip_output(m, true);
}

/* INTA for @irq of @c: IRR to ISR, or an immediate EOI in AEOI mode. */
static void chip_intack(struct pic_chip *c, int irq)
{
	u8 bit = BIT(irq);

	if (c->auto_eoi) {
		if (c->rotate_aeoi)
			c->lowest = irq;
	} else {
		c->isr |= bit;
	}
	/* An edge request is consumed; a level one stays while asserted. */
	c->irr &= ~bit;
	if (c->elcr & bit)
		c->irr |= c->lines & bit;
}

/*
 * After a change from outside the INTA cycle, the vCPU taking PIC
 * interrupts is told if INT is asserted (not from hvx_pic_ack(): the
 * vCPU is injecting then, and a kick would only make it re-check).
 */
static void pic_kick(struct hvx_pic *pic, bool out)
{
	if (out)
		hvx_irq_pic_changed(pic->vm);
}

/**
 * hvx_pic_set_irq - drive one of the PIC pair's 16 input lines
 * @vm: the VM; nothing happens without a PIC.
 * @irq: 0-15 (8-15 are the slave's IR0-7); others are ignored.
 * @level: 1 asserted, 0 deasserted. An edge-triggered input latches a
 *	request on the rising edge; a level-triggered one (ELCR) requests
 *	while asserted.
 *
 * Context: any (hard interrupt context, spinlocks held).
 */
void hvx_pic_set_irq(struct hvx_vm *vm, unsigned int irq, int level)
{
	struct hvx_pic *pic = vm->plat ? vm->plat->pic : NULL;
	unsigned long flags;
	bool out;

	if (!pic || irq >= 16 || irq == PIC_CASCADE_IRQ)
		return;
	spin_lock_irqsave(&pic->lock, flags);
	chip_set_line(&pic->chip[irq >> 3], irq & 7, level);
	out = pic_update(pic) >= 0;
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_kick(pic, out);
}

/* Vector for the INTA cycle; @ack also performs it. Lock held. */
static int pic_inta(struct hvx_pic *pic, bool ack)
{
	struct pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
	int irq = pic_update(pic), irq2;

	if (irq < 0)
		return -1;
	if (irq != PIC_CASCADE_IRQ) {
		if (ack)
			chip_intack(m, irq);
		return m->vector_base + irq;
	}
	irq2 = chip_output(s, false);
	if (ack) {
		chip_intack(m, irq);
		if (irq2 >= 0)
			chip_intack(s, irq2);
	}
	/* The request went away: the slave answers with its IR7 vector. */
	return s->vector_base + (irq2 >= 0 ? irq2 : 7);
}

/**
 * hvx_pic_pending - the vector the PIC pair would give an INTA cycle now
 * @vm: the VM.
 *
 * Changes nothing.
 * Context: any.
 * Return: a vector if the master's INT output is asserted, else -1 (also
 * without a PIC).
 */
int hvx_pic_pending(struct hvx_vm *vm)
{
	struct hvx_pic *pic = vm->plat ? vm->plat->pic : NULL;
	unsigned long flags;
	int vec;

	if (!pic)
		return -1;
	spin_lock_irqsave(&pic->lock, flags);
	vec = pic_inta(pic, false);
	spin_unlock_irqrestore(&pic->lock, flags);
	return vec;
}

/**
 * hvx_pic_ack - the INTA cycle: take the highest-priority request
 * @vm: the VM.
 *
 * Moves the request from IRR to ISR (or ends it at once in automatic EOI
 * mode) on the master and, for the cascade input, on the slave. If the
 * request vanished since hvx_pic_pending() (a level-triggered line fell),
 * the chip answers with its IR7 vector and sets no ISR bit: the 8259A's
 * spurious interrupt (on the slave, the master's IR2 is in service).
 * Context: any.
 * Return: the vector the guest must take, or -1 without a PIC.
 */
int hvx_pic_ack(struct hvx_vm *vm)
{
	struct hvx_pic *pic = vm->plat ? vm->plat->pic : NULL;
	unsigned long flags;
	int vec;

	if (!pic)
		return -1;
	spin_lock_irqsave(&pic->lock, flags);
	vec = pic_inta(pic, true);
	if (vec < 0)
		vec = pic->chip[0].vector_base + 7;
	pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	return vec;
}

/* ICW1 (A0 = 0, D4 = 1): start the initialization sequence. */
static void chip_icw1(struct pic_chip *c, u8 val)
{
	c->need_icw4 = val & 0x01;
	c->single = val & 0x02;
	/* Edge-sense latches reset: only asserted level inputs request. */
	c->irr = c->lines & c->elcr;
	c->isr = 0;
	c->imr = 0;
	c->lowest = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_aeoi = false;
	if (!c->need_icw4) {
		c->auto_eoi = false;
		c->sfnm = false;
	}
	c->init_step = 2;
}

/* OCW2 (A0 = 0, D4 = D3 = 0): EOI and rotation commands. */
static void chip_ocw2(struct pic_chip *c, u8 val)
{
	int irq, p;

	switch (val >> 5) {
	case 0:	/* rotate in automatic EOI mode: clear */
	case 4:	/* ... set */
		c->rotate_aeoi = val & 0x80;
		break;
	case 1:	/* non-specific EOI */
	case 5:	/* rotate on non-specific EOI */
		p = priority_of(c, c->isr);
		if (p == 8)
			break;
		irq = input_of(c, p);
		c->isr &= ~BIT(irq);
		if (val & 0x80)
			c->lowest = irq;
		break;
	case 3:	/* specific EOI */
		c->isr &= ~BIT(val & 7);
		break;
	case 6:	/* set priority: L2-L0 gets the lowest */
		c->lowest = val & 7;
		break;
	case 7:	/* rotate on specific EOI */
		c->isr &= ~BIT(val & 7);
		c->lowest = val & 7;
		break;
	default: /* 2: no operation */
		break;
	}
}

static void chip_write_cmd(struct pic_chip *c, u8 val)
{
	if (val & 0x10) {
		chip_icw1(c, val);
	} else if (val & 0x08) {		/* OCW3 */
		if (val & 0x04)
			c->poll = true;
		if (val & 0x02)
			c->read_isr = val & 0x01;
		if (val & 0x40)
			c->special_mask = val & 0x20;
	} else {
		chip_ocw2(c, val);
	}
}

static void chip_write_data(struct pic_chip *c, u8 val)
{
	switch (c->init_step) {
	case 2:					/* ICW2 */
		c->vector_base = val & 0xf8;
		c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
		break;
	case 3:					/* ICW3: cascade wiring is fixed */
		c->init_step = c->need_icw4 ? 4 : 0;
		break;
	case 4:					/* ICW4 */
		c->auto_eoi = val & 0x02;
		c->sfnm = val & 0x10;
		c->init_step = 0;
		break;
	default:				/* OCW1 */
		c->imr = val;
		break;
	}
}

/* The poll command's read: 0x80 | level and an INTA, or 0. */
static u8 chip_poll(struct hvx_pic *pic, int idx)
{
	struct pic_chip *c = &pic->chip[idx];
	int irq = chip_output(c, idx == 0);

	c->poll = false;
	if (irq < 0)
		return 0;
	chip_intack(c, irq);
	/* Polling the slave also ends the master's cascade request. */
	if (idx == 1)
		chip_intack(&pic->chip[0], PIC_CASCADE_IRQ);
	return 0x80 | irq;
}

static int pic_read(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 port,
		    u8 size, u64 *val)
{
	struct hvx_pic *pic = container_of(dev, struct hvx_pic, iodev);
	unsigned long flags;
	struct pic_chip *c;
	bool polled = false;
	int idx;

	spin_lock_irqsave(&pic->lock, flags);
	if (port >= PIC_ELCR_PORT) {
		*val = pic->chip[port - PIC_ELCR_PORT].elcr;
	} else {
		idx = port >= PIC_SLAVE_PORT;
		c = &pic->chip[idx];
		pic_update(pic);
		polled = c->poll;
		if (polled)
			*val = chip_poll(pic, idx);
		else if (port & 1)
			*val = c->imr;
		else
			*val = c->read_isr ? c->isr : c->irr;
	}
	polled = polled && pic_update(pic) >= 0;
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_kick(pic, polled);
	return 0;
}

static int pic_write(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 port,
		     u8 size, u64 val)
{
	struct hvx_pic *pic = container_of(dev, struct hvx_pic, iodev);
	unsigned long flags;
	struct pic_chip *c;
	bool out;

	spin_lock_irqsave(&pic->lock, flags);
	if (port >= PIC_ELCR_PORT) {
		c = &pic->chip[port - PIC_ELCR_PORT];
		c->elcr = val & c->elcr_mask;
		/* A level input requests exactly while it is asserted. */
		c->irr = (c->irr & ~c->elcr) | (c->lines & c->elcr);
	} else {
		c = &pic->chip[port >= PIC_SLAVE_PORT];
		if (port & 1)
			chip_write_data(c, val);
		else
			chip_write_cmd(c, val);
	}
	out = pic_update(pic) >= 0;
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_kick(pic, out);
	return 0;
}

static const struct hvx_io_dev_ops pic_io_ops = {
	.read	= pic_read,
	.write	= pic_write,
};

/**
 * hvx_pic_create - create the 8259A pair of a VM
 * @vm: the VM (HVX_CREATE_PLATFORM with HVX_PLATFORM_PIC).
 *
 * Claims ports 0x20-0x21, 0xa0-0xa1 and 0x4d0-0x4d1. Both chips start
 * uninitialized as after reset: all inputs unmasked, vector base 0 (the
 * guest must send ICW1-ICW4 before enabling interrupts), every input
 * edge-triggered.
 * Context: process context.
 * Return: 0, -ENOMEM, or the bus's error for a taken port.
 */
int hvx_pic_create(struct hvx_vm *vm)
{
	static const u16 ports[] = { PIC_MASTER_PORT, PIC_SLAVE_PORT,
				     PIC_ELCR_PORT };
	struct hvx_pic *pic;
	int i, ret;

	pic = kzalloc(sizeof(*pic), GFP_KERNEL_ACCOUNT);
	if (!pic)
		return -ENOMEM;
	spin_lock_init(&pic->lock);
	pic->vm = vm;
	pic->iodev.ops = &pic_io_ops;
	pic->chip[0].lowest = 7;
	pic->chip[1].lowest = 7;
	pic->chip[0].elcr_mask = 0xf8;		/* not IRQ 0, 1, 2 */
	pic->chip[1].elcr_mask = 0xde;		/* not IRQ 8, 13 */
	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		ret = hvx_bus_register_fixed(vm, ports[i], 2, &pic->iodev,
					     true);
		if (ret) {
			hvx_bus_unregister(vm, &pic->iodev);
			kfree(pic);
			return ret;
		}
	}
	vm->plat->pic = pic;
	return 0;
}

/**
 * hvx_pic_destroy - remove the PIC pair
 * @vm: the VM, being torn down; devices that raise interrupts are gone.
 */
void hvx_pic_destroy(struct hvx_vm *vm)
{
	struct hvx_pic *pic = vm->plat->pic;

	if (!pic)
		return;
	hvx_bus_unregister(vm, &pic->iodev);
	vm->plat->pic = NULL;
	kfree(pic);
}

/* Mode flags of a chip as HVX_PIC_* bits, and back. */
static const struct {
	size_t off;
	u8 flag;
} pic_state_flags[] = {
	{ offsetof(struct pic_chip, need_icw4), HVX_PIC_NEED_ICW4 },
	{ offsetof(struct pic_chip, single), HVX_PIC_SINGLE },
	{ offsetof(struct pic_chip, auto_eoi), HVX_PIC_AUTO_EOI },
	{ offsetof(struct pic_chip, rotate_aeoi), HVX_PIC_ROTATE_AEOI },
	{ offsetof(struct pic_chip, sfnm), HVX_PIC_SFNM },
	{ offsetof(struct pic_chip, special_mask), HVX_PIC_SPECIAL_MASK },
	{ offsetof(struct pic_chip, read_isr), HVX_PIC_READ_ISR },
	{ offsetof(struct pic_chip, poll), HVX_PIC_POLL },
};

/**
 * hvx_pic_get_state - fill a HVX_STATE_PIC record's payload
 * @vm: the VM, with a PIC.
 * @s: the record, zeroed by the caller.
 *
 * Context: any.
 */
void hvx_pic_get_state(struct hvx_vm *vm, struct hvx_state_pic *s)
{
	struct hvx_pic *pic = vm->plat->pic;
	unsigned long flags;
	int i, j;

	spin_lock_irqsave(&pic->lock, flags);
	for (i = 0; i < 2; i++) {
		const struct pic_chip *c = &pic->chip[i];
		struct hvx_state_pic_chip *o = &s->chip[i];

		o->irr = c->irr;
		o->isr = c->isr;
		o->imr = c->imr;
		o->lines = c->lines;
		o->elcr = c->elcr;
		o->vector_base = c->vector_base;
		o->lowest = c->lowest;
		o->init_step = c->init_step;
		for (j = 0; j < ARRAY_SIZE(pic_state_flags); j++)
			if (*(const bool *)((const u8 *)c + pic_state_flags[j].off))
				o->flags |= pic_state_flags[j].flag;
	}
	spin_unlock_irqrestore(&pic->lock, flags);
}

/**
 * hvx_pic_check_state - check a HVX_STATE_PIC record's payload
 * @vm: the VM, with a PIC.
 * @s: the record.
 *
 * Return: 0, or -EINVAL (a nonzero reserved byte, a level-triggered bit
 * the chip does not allow, a vector base not a multiple of 8, a priority
 * or initialization step out of range).
 */
int hvx_pic_check_state(struct hvx_vm *vm, const struct hvx_state_pic *s)
{
	struct hvx_pic *pic = vm->plat->pic;
	int i;

	for (i = 0; i < 2; i++) {
		const struct hvx_state_pic_chip *c = &s->chip[i];

		if (memchr_inv(c->reserved, 0, sizeof(c->reserved)) ||
		    (c->elcr & ~pic->chip[i].elcr_mask) ||
		    (c->vector_base & 7) || c->lowest > 7 ||
		    c->init_step == 1 || c->init_step > 4)
			return -EINVAL;
	}
	return 0;
}

/**
 * hvx_pic_set_state - load a checked HVX_STATE_PIC record
 * @vm: the VM, with a PIC, its vCPUs stopped.
 * @s: the record (hvx_pic_check_state() accepted it).
 *
 * The master's cascade input follows the slave again at once; the vCPU
 * taking PIC interrupts is told if one is requested.
 * Context: any.
 */
void hvx_pic_set_state(struct hvx_vm *vm, const struct hvx_state_pic *s)
{
	struct hvx_pic *pic = vm->plat->pic;
	unsigned long flags;
	bool out;
	int i, j;

	spin_lock_irqsave(&pic->lock, flags);
	for (i = 0; i < 2; i++) {
		const struct hvx_state_pic_chip *o = &s->chip[i];
		struct pic_chip *c = &pic->chip[i];

		c->irr = o->irr;
		c->isr = o->isr;
		c->imr = o->imr;
		c->lines = o->lines;
		c->elcr = o->elcr;
		c->vector_base = o->vector_base;
		c->lowest = o->lowest;
		c->init_step = o->init_step;
		for (j = 0; j < ARRAY_SIZE(pic_state_flags); j++)
			*(bool *)((u8 *)c + pic_state_flags[j].off) =
				o->flags & pic_state_flags[j].flag;
	}
	out = pic_update(pic) >= 0;
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_kick(pic, out);
}
