// SPDX-License-Identifier: GPL-2.0
/*
 * pit.c - the 8254 programmable interval timer (ports 0x40-0x43) and the
 * PC's port 0x61 (speaker gate, refresh toggle, channel 2 output).
 *
 * Hardware facts are from the Intel 8254 datasheet (modes 0-5, control
 * word, counter latch and read-back commands, status byte, gate
 * behaviour) and the PC/AT wiring: input clock 1.193182 MHz, channel 0's
 * gate tied high and its output on IRQ 0, channel 2's gate and output on
 * port 0x61 bits 0 and 5.
 *
 * Counters are not stepped: each channel remembers when it started
 * counting (host CLOCK_MONOTONIC, so the guest's virtual time is the
 * host's) and derives its count and output from the time elapsed.
 * Channel 0's output edges are an hrtimer that pulses GSI 0: once in
 * modes 0 and 4, periodically in modes 2 and 3. The period is never
 * shorter than PIT_MIN_PERIOD_NS, so a guest programming divisor 1 (1.19
 * MHz) gets 10 kHz interrupts and cannot flood the host; counter reads
 * still follow the programmed rate exactly.
 *
 * Port accesses take a spinlock with interrupts off, so the exit fast
 * path may call them. The timer is a hard-interrupt hrtimer whose
 * callback takes no lock of the PIT: reprogramming cancels it under the
 * lock, and hrtimer_cancel() then only waits for a callback running on
 * another CPU, which never waits for us.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "../compat.h"
#include "../hvx_core.h"
#include "dev.h"

#define PIT_PORT		0x40	/* counters 0-2, then the control word */
#define PIT_SPEAKER_PORT	0x61
#define PIT_FREQ_HZ		1193182
#define PIT_MIN_PERIOD_NS	100000	/* 100 us: at most 10 kHz on IRQ 0 */
#define PIT_REFRESH_NS		15085	/* port 0x61 bit 4 period, half */

/* Read/write modes of the control word (RW1, RW0). */
#define RW_LATCH		0
#define RW_LSB			1
#define RW_MSB			2
#define RW_WORD			3

struct pit_channel {
	u32 count;		/* reload value in input clocks, 1 .. 65536 */
	u8 mode;		/* effective mode 0-5 */
	u8 mode_bits;		/* M2-M0 as written, for the status byte */
	u8 rw;			/* RW_LSB, RW_MSB, RW_WORD */
	bool bcd;
	bool loaded;		/* a count has been written */
	bool armed;		/* counting (modes 1 and 5: triggered) */
	bool null_count;	/* status bit 6: new count not yet in use */
	bool gate;
	bool paused;		/* gate low stopped the count at @paused_at */
	bool write_msb;		/* RW_WORD: the next write is the MSB */
	bool read_msb;		/* RW_WORD: the next read is the MSB */
	u8 write_lsb;
	u8 latch_bytes;		/* latched count bytes still to read */
	u16 latched;
	bool status_latched;
	u8 status;
	ktime_t start;		/* when counting (re)started */
	ktime_t paused_at;
};

struct hvx_pit {
	struct hvx_io_dev iodev;
	struct hvx_vm *vm;
	spinlock_t lock;	/* all state but what the timer reads */
	struct pit_channel ch[3];
	u8 port61;		/* bits 0-3 as written */
	struct hrtimer timer;	/* channel 0's output edges */
	u64 period_ns;		/* 0: one-shot; set while the timer is off */
};

static u64 ticks_to_ns(u64 ticks)
{
	return mul_u64_u32_div(ticks, NSEC_PER_SEC, PIT_FREQ_HZ);
}

/* Input clocks counted since the channel started, at @now. */
static u64 elapsed_ticks(const struct pit_channel *c, ktime_t now)
{
	s64 ns;

	if (c->paused)
		now = c->paused_at;
	ns = ktime_to_ns(ktime_sub(now, c->start));
	return ns > 0 ? mul_u64_u32_div(ns, PIT_FREQ_HZ, NSEC_PER_SEC) : 0;
}

/* The counting element's value (binary, before BCD encoding). */
static u32 counter_value(const struct pit_channel *c, ktime_t now)
{
	u32 modulus = c->bcd ? 10000 : 65536, half;
	u64 t;

	if (!c->armed)
		return c->count % modulus;
	t = elapsed_ticks(c, now);
	switch (c->mode) {
	case 2:
		return c->count - t % c->count;
	case 3:
		/* Down by two each clock; odd counts have a longer high half. */
		t %= c->count;
		half = (c->count + 1) / 2;
		if (t >= half)
			t -= half;
		return (c->count - 2 * (u32)t) & ~1u;
	default:	/* 0, 1, 4, 5: down from the count, wrapping */
		return (c->count + modulus - t % modulus) % modulus;
	}
}

static bool output(const struct pit_channel *c, ktime_t now)
{
	u64 t;

	if (!c->armed)
		return c->mode != 0;
	if ((c->mode == 2 || c->mode == 3) && c->paused)
		return true;	/* gate low forces OUT high */
	t = elapsed_ticks(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		return t >= c->count;
	case 2:
		return c->count == 1 || t % c->count != c->count - 1;
	case 3:
		return t % c->count < (c->count + 1) / 2;
	default:	/* 4, 5: one clock low at terminal count */
		return t != c->count;
	}
}

static u16 to_bcd(u32 v)
{
	return (v / 1000 % 10) << 12 | (v / 100 % 10) << 8 |
	       (v / 10 % 10) << 4 | v % 10;
}

static u32 from_bcd(u16 v)
{
	return (v >> 12 & 15) * 1000 + (v >> 8 & 15) * 100 +
	       (v >> 4 & 15) * 10 + (v & 15);
}

static u16 counter_read_value(const struct pit_channel *c, ktime_t now)
{
	u32 v = counter_value(c, now);

	return c->bcd ? to_bcd(v) : (u16)v;
}

static enum hrtimer_restart pit_timer_fn(struct hrtimer *timer)
{
	struct hvx_pit *pit = container_of(timer, struct hvx_pit, timer);
	u64 period = READ_ONCE(pit->period_ns);

	/* IRQ 0 is edge-triggered: one rising edge per OUT0 rising edge. */
	hvx_irq_set_gsi(pit->vm, 0, 1);
	hvx_irq_set_gsi(pit->vm, 0, 0);
	if (!period)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(period));
	return HRTIMER_RESTART;
}

/* Channel 0 (re)started or stopped: follow it with the timer. */
static void pit_update_timer(struct hvx_pit *pit)
{
	struct pit_channel *c = &pit->ch[0];
	u64 first, first_ns, period = 0;

	hrtimer_cancel(&pit->timer);
	if (!c->armed || c->paused)
		return;
	switch (c->mode) {
	case 0:		/* OUT rises at terminal count */
		first = c->count;
		break;
	case 4:		/* OUT rises one clock after terminal count */
		first = c->count + 1;
		break;
	case 2:
	case 3:
		first = c->count;
		period = max_t(u64, ticks_to_ns(c->count), PIT_MIN_PERIOD_NS);
		break;
	default:	/* 1, 5: gate 0 is tied high, never triggered */
		return;
	}
	WRITE_ONCE(pit->period_ns, period);
	first_ns = max_t(u64, ticks_to_ns(first), period ? PIT_MIN_PERIOD_NS : 0);
	hrtimer_start(&pit->timer, ktime_add_ns(c->start, first_ns),
		      HRTIMER_MODE_ABS_HARD);
}

/* A complete count was written: start counting as the mode says. */
static void channel_load(struct hvx_pit *pit, int i, u16 raw, ktime_t now)
{
	struct pit_channel *c = &pit->ch[i];
	u32 count = c->bcd ? from_bcd(raw) : raw;

	if (!count)
		count = c->bcd ? 10000 : 65536;
	c->count = count;
	c->loaded = true;
	c->null_count = false;
	c->start = now;
	c->paused = false;
	if (c->mode == 1 || c->mode == 5) {
		c->armed = false;	/* waits for a gate rising edge */
	} else {
		c->armed = true;
		if (!c->gate) {
			c->paused = true;
			c->paused_at = now;
		}
	}
	if (i == 0)
		pit_update_timer(pit);
}

static void channel_set_gate(struct hvx_pit *pit, int i, bool gate,
			     ktime_t now)
{
	struct pit_channel *c = &pit->ch[i];

	if (c->gate == gate)
		return;
	c->gate = gate;
	if (!c->loaded)
		return;
	if (gate) {
		switch (c->mode) {
		case 0:
		case 4:		/* resume where the count stopped */
			if (c->paused)
				c->start = ktime_add(c->start,
						     ktime_sub(now, c->paused_at));
			break;
		default:	/* 1, 5 trigger; 2, 3 restart from the count */
			c->start = now;
			c->armed = true;
			break;
		}
		c->paused = false;
	} else if (c->mode != 1 && c->mode != 5 && c->armed) {
		c->paused = true;
		c->paused_at = now;
	}
}

static void channel_latch_count(struct pit_channel *c, ktime_t now)
{
	if (c->latch_bytes)
		return;		/* the first latch holds until read */
	c->latched = counter_read_value(c, now);
	c->latch_bytes = c->rw == RW_WORD ? 2 : 1;
}

static void channel_latch_status(struct pit_channel *c, ktime_t now)
{
	if (c->status_latched)
		return;
	c->status = output(c, now) << 7 | c->null_count << 6 | c->rw << 4 |
		    c->mode_bits << 1 | c->bcd;
	c->status_latched = true;
}

static void pit_control(struct hvx_pit *pit, u8 val, ktime_t now)
{
	struct pit_channel *c;
	int i;

	if ((val >> 6) == 3) {		/* read-back command */
		for (i = 0; i < 3; i++) {
			if (!(val & BIT(i + 1)))
				continue;
			if (!(val & 0x20))
				channel_latch_count(&pit->ch[i], now);
			if (!(val & 0x10))
				channel_latch_status(&pit->ch[i], now);
		}
		return;
	}
	i = val >> 6;
	c = &pit->ch[i];
	if (((val >> 4) & 3) == RW_LATCH) {	/* counter latch command */
		channel_latch_count(c, now);
		return;
	}
	c->rw = (val >> 4) & 3;
	c->mode_bits = (val >> 1) & 7;
	c->mode = c->mode_bits > 5 ? c->mode_bits - 4 : c->mode_bits;
	c->bcd = val & 1;
	c->loaded = false;
	c->armed = false;
	c->paused = false;
	c->null_count = true;
	c->write_msb = false;
	c->read_msb = false;
	c->latch_bytes = 0;
	c->status_latched = false;
	if (i == 0)
		pit_update_timer(pit);
}

static void pit_write_counter(struct hvx_pit *pit, int i, u8 val,
			      ktime_t now)
{
	struct pit_channel *c = &pit->ch[i];

	switch (c->rw) {
	case RW_LSB:
		channel_load(pit, i, val, now);
		break;
	case RW_MSB:
		channel_load(pit, i, val << 8, now);
		break;
	default:
		if (!c->write_msb) {
			c->write_lsb = val;
			c->write_msb = true;
			/* Mode 0 stops counting at the first byte. */
			if (c->mode == 0 && c->armed) {
				c->armed = false;
				if (i == 0)
					pit_update_timer(pit);
			}
		} else {
			c->write_msb = false;
			channel_load(pit, i, c->write_lsb | val << 8, now);
		}
		break;
	}
}

static u8 pit_read_counter(struct pit_channel *c, ktime_t now)
{
	u16 v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latch_bytes) {
		v = c->latched;
		c->latch_bytes--;
		if (c->rw == RW_MSB || (c->rw == RW_WORD && !c->latch_bytes))
			return v >> 8;
		return v;
	}
	v = counter_read_value(c, now);
	switch (c->rw) {
	case RW_MSB:
		return v >> 8;
	case RW_WORD:
		c->read_msb = !c->read_msb;
		return c->read_msb ? v & 0xff : v >> 8;
	default:
		return v;
	}
}

/*
 * Port 0x61 reads: bits 0-3 as written (gate 2, speaker data, parity and
 * I/O check enables), bit 4 the DRAM refresh toggle (every 15.085 us),
 * bit 5 channel 2's output; the NMI status bits 6-7 read 0.
 */
static u8 pit_read_port61(struct hvx_pit *pit, ktime_t now)
{
	u64 ns = ktime_to_ns(now);
	u8 val = pit->port61 & 0x0f;

	if (div_u64(ns, PIT_REFRESH_NS) & 1)
		val |= 0x10;
	if (output(&pit->ch[2], now))
		val |= 0x20;
	return val;
}

static int pit_read(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 port,
		    u8 size, u64 *val)
{
	struct hvx_pit *pit = container_of(dev, struct hvx_pit, iodev);
	ktime_t now = ktime_get();
	unsigned long flags;

	spin_lock_irqsave(&pit->lock, flags);
	if (port == PIT_SPEAKER_PORT)
		*val = pit_read_port61(pit, now);
	else if (port < PIT_PORT + 3)
		*val = pit_read_counter(&pit->ch[port - PIT_PORT], now);
	else
		*val = 0xff;	/* the control word register is write-only */
	spin_unlock_irqrestore(&pit->lock, flags);
	return 0;
}

static int pit_write(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 port,
		     u8 size, u64 val)
{
	struct hvx_pit *pit = container_of(dev, struct hvx_pit, iodev);
	ktime_t now = ktime_get();
	unsigned long flags;

	spin_lock_irqsave(&pit->lock, flags);
	if (port == PIT_SPEAKER_PORT) {
		pit->port61 = val & 0x0f;
		channel_set_gate(pit, 2, val & 1, now);
	} else if (port < PIT_PORT + 3) {
		pit_write_counter(pit, port - PIT_PORT, val, now);
	} else {
		pit_control(pit, val, now);
	}
	spin_unlock_irqrestore(&pit->lock, flags);
	return 0;
}

static const struct hvx_io_dev_ops pit_io_ops = {
	.read	= pit_read,
	.write	= pit_write,
};

/**
 * hvx_pit_create - create the 8254 PIT of a VM
 * @vm: the VM (HVX_CREATE_PLATFORM with HVX_PLATFORM_PIT).
 *
 * Claims ports 0x40-0x43 and 0x61. All three counters wait for a control
 * word and a count; gates 0 and 1 are high, gate 2 follows port 0x61 bit
 * 0 (low at reset).
 * Context: process context.
 * Return: 0, -ENOMEM, or the bus's error for a taken port.
 */
int hvx_pit_create(struct hvx_vm *vm)
{
	struct hvx_pit *pit;
	int i, ret;

	pit = kzalloc(sizeof(*pit), GFP_KERNEL_ACCOUNT);
	if (!pit)
		return -ENOMEM;
	spin_lock_init(&pit->lock);
	pit->vm = vm;
	pit->iodev.ops = &pit_io_ops;
	hvx_hrtimer_setup(&pit->timer, pit_timer_fn, CLOCK_MONOTONIC,
			  HRTIMER_MODE_ABS_HARD);
	for (i = 0; i < 3; i++) {
		pit->ch[i].rw = RW_WORD;
		pit->ch[i].count = 65536;
		pit->ch[i].gate = i != 2;
	}
	/*
	 * Safe with interrupts off, but left to the normal path: on the fast
	 * path a guest can read OUT0 high before the host took the timer
	 * interrupt that raises IRQ 0 (platform_test's PIC poll case).
	 */
	ret = hvx_bus_register_fixed(vm, PIT_PORT, 4, &pit->iodev, false);
	if (!ret)
		ret = hvx_bus_register_fixed(vm, PIT_SPEAKER_PORT, 1,
					     &pit->iodev, false);
	if (ret) {
		hvx_bus_unregister(vm, &pit->iodev);
		kfree(pit);
		return ret;
	}
	vm->plat->pit = pit;
	return 0;
}

/**
 * hvx_pit_destroy - stop and remove the PIT
 * @vm: the VM, being torn down.
 *
 * Context: process context; waits for a running timer callback.
 */
void hvx_pit_destroy(struct hvx_vm *vm)
{
	struct hvx_pit *pit = vm->plat->pit;

	if (!pit)
		return;
	hvx_bus_unregister(vm, &pit->iodev);
	hrtimer_cancel(&pit->timer);
	vm->plat->pit = NULL;
	kfree(pit);
}

/* HVX_PIT_* flags of a channel, and back. */
static const struct {
	size_t off;
	u16 flag;
} pit_state_flags[] = {
	{ offsetof(struct pit_channel, bcd), HVX_PIT_BCD },
	{ offsetof(struct pit_channel, loaded), HVX_PIT_LOADED },
	{ offsetof(struct pit_channel, armed), HVX_PIT_ARMED },
	{ offsetof(struct pit_channel, null_count), HVX_PIT_NULL_COUNT },
	{ offsetof(struct pit_channel, gate), HVX_PIT_GATE },
	{ offsetof(struct pit_channel, paused), HVX_PIT_PAUSED },
	{ offsetof(struct pit_channel, write_msb), HVX_PIT_WRITE_MSB },
	{ offsetof(struct pit_channel, read_msb), HVX_PIT_READ_MSB },
	{ offsetof(struct pit_channel, status_latched), HVX_PIT_STATUS_LATCHED },
};

#define HVX_PIT_ALL_FLAGS	0x1ffu

/**
 * hvx_pit_get_state - fill a HVX_STATE_PIT record's payload
 * @vm: the VM, with a PIT.
 * @s: the record, zeroed by the caller.
 *
 * Context: process context.
 */
void hvx_pit_get_state(struct hvx_vm *vm, struct hvx_state_pit *s)
{
	struct hvx_pit *pit = vm->plat->pit;
	ktime_t now;
	unsigned long flags;
	int i, j;

	spin_lock_irqsave(&pit->lock, flags);
	now = ktime_get();
	for (i = 0; i < 3; i++) {
		const struct pit_channel *c = &pit->ch[i];
		struct hvx_state_pit_channel *o = &s->ch[i];
		s64 ns = ktime_to_ns(ktime_sub(c->paused ? c->paused_at : now,
					       c->start));

		o->count = c->count;
		o->elapsed_ns = max_t(s64, ns, 0);
		for (j = 0; j < ARRAY_SIZE(pit_state_flags); j++)
			if (*(const bool *)((const u8 *)c + pit_state_flags[j].off))
				o->flags |= pit_state_flags[j].flag;
		o->latched = c->latched;
		o->mode = c->mode;
		o->mode_bits = c->mode_bits;
		o->rw = c->rw;
		o->write_lsb = c->write_lsb;
		o->latch_bytes = c->latch_bytes;
		o->status = c->status;
	}
	s->port61 = pit->port61;
	spin_unlock_irqrestore(&pit->lock, flags);
}

/**
 * hvx_pit_check_state - check a HVX_STATE_PIT record's payload
 * @vm: the VM, with a PIT.
 * @s: the record.
 *
 * Return: 0, or -EINVAL: a nonzero reserved field or unknown flag, a count
 * outside 1-65536 (1-10000 in BCD), a mode above 5 or not the one its
 * M2-M0 bits give, an access mode of 0 (a latch command is no mode), more
 * than 2 latched bytes, a gate that is not the wiring's (high for
 * counters 0 and 1, port 0x61 bit 0 for counter 2), port 0x61 bits above
 * 3, an elapsed time above KTIME_MAX / 2 (146 years).
 */
int hvx_pit_check_state(struct hvx_vm *vm, const struct hvx_state_pit *s)
{
	int i;

	if (memchr_inv(s->reserved, 0, sizeof(s->reserved)) || s->port61 > 0xf)
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		const struct hvx_state_pit_channel *c = &s->ch[i];
		bool gate = i == 2 ? s->port61 & 1 : true;
		u32 max = c->flags & HVX_PIT_BCD ? 10000 : 65536;

		if (c->reserved0 || memchr_inv(c->reserved, 0, sizeof(c->reserved)) ||
		    (c->flags & ~HVX_PIT_ALL_FLAGS) || !c->count || c->count > max ||
		    c->mode_bits > 7 ||
		    c->mode != (c->mode_bits > 5 ? c->mode_bits - 4 : c->mode_bits) ||
		    !c->rw || c->rw > RW_WORD || c->latch_bytes > 2 ||
		    !!(c->flags & HVX_PIT_GATE) != gate ||
		    c->elapsed_ns > KTIME_MAX / 2)
			return -EINVAL;
	}
	return 0;
}

/*
 * Channel 0's timer after a restore: like pit_update_timer(), but a
 * one-shot edge that already happened before the save is not repeated,
 * and a periodic channel's start moves forward by whole periods so that
 * the next edge is the next one due. Lock held.
 */
static void pit_resume_timer(struct hvx_pit *pit, ktime_t now)
{
	struct pit_channel *c = &pit->ch[0];
	u64 t, periods;

	if (!c->armed || c->paused) {
		pit_update_timer(pit);
		return;
	}
	t = elapsed_ticks(c, now);
	switch (c->mode) {
	case 0:		/* OUT rose at terminal count */
	case 4:		/* one clock later */
		if (t >= (c->mode == 4 ? c->count + 1 : c->count)) {
			hrtimer_cancel(&pit->timer);
			return;
		}
		break;
	case 2:
	case 3:
		periods = div_u64(t, c->count);
		c->start = ktime_add_ns(c->start, ticks_to_ns(periods * c->count));
		break;
	}
	pit_update_timer(pit);
}

/**
 * hvx_pit_set_state - load a checked HVX_STATE_PIT record
 * @vm: the VM, with a PIT, its vCPUs stopped.
 * @s: the record (hvx_pit_check_state() accepted it).
 *
 * Each counter continues from its saved phase: it restarted @elapsed_ns
 * before now (a paused one stopped now). Channel 0's interrupt timer is
 * re-armed for the next edge due.
 * Context: process context.
 */
void hvx_pit_set_state(struct hvx_vm *vm, const struct hvx_state_pit *s)
{
	struct hvx_pit *pit = vm->plat->pit;
	ktime_t now;
	unsigned long flags;
	int i, j;

	spin_lock_irqsave(&pit->lock, flags);
	now = ktime_get();
	for (i = 0; i < 3; i++) {
		const struct hvx_state_pit_channel *o = &s->ch[i];
		struct pit_channel *c = &pit->ch[i];

		c->count = o->count;
		for (j = 0; j < ARRAY_SIZE(pit_state_flags); j++)
			*(bool *)((u8 *)c + pit_state_flags[j].off) =
				o->flags & pit_state_flags[j].flag;
		c->latched = o->latched;
		c->mode = o->mode;
		c->mode_bits = o->mode_bits;
		c->rw = o->rw;
		c->write_lsb = o->write_lsb;
		c->latch_bytes = o->latch_bytes;
		c->status = o->status;
		c->start = ktime_sub_ns(now, o->elapsed_ns);
		c->paused_at = now;
	}
	pit->port61 = s->port61;
	pit_resume_timer(pit, now);
	spin_unlock_irqrestore(&pit->lock, flags);
}
