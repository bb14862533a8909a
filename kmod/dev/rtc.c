// SPDX-License-Identifier: GPL-2.0
/*
 * rtc.c - the MC146818 real-time clock and CMOS RAM of a PC: index port
 * 0x70 (bit 7 masks NMI), data port 0x71, IRQ 8.
 *
 * Hardware facts are from the Motorola MC146818A datasheet: time, alarm
 * and date registers 0x00-0x09 in BCD or binary (register B DM bit) and
 * 12- or 24-hour form (B 24/12 bit, PM in bit 7 of the hour); register A
 * (UIP, divider, periodic rate), B (SET, PIE, AIE, UIE, SQWE, DM, 24/12,
 * DSE), C (IRQF, PF, AF, UF; cleared by reading) and D (VRT); alarm
 * "don't care" values 0xc0-0xff; the periodic rate table (rates 1 and 2
 * as 8 and 9 with a 32.768 kHz time base); UIP set 244 us before an
 * update.
 *
 * The clock is the host's CLOCK_REALTIME plus a whole-second offset the
 * guest changes by writing the time registers; SET freezes it. The host
 * time is read from the clocksource (ktime_get_real_ts64()), not the
 * tick-updated ktime_get_real_seconds(): the second-boundary timer runs
 * before the next tick, and a busy CPU's tick-updated seconds would still
 * name the second that just ended, an idle CPU's (updated on the way out
 * of idle) the new one, so the alarm would be compared with one second
 * twice and another never. For the same reason, a second-boundary timer
 * that runs late checks the alarm for each second it missed, as the
 * chip's update cycle passes each one (up to RTC_CATCHUP_S of them). Flags are
 * computed lazily where possible (UF and PF are set by a read of C that
 * sees an update or a period pass since the last read); hrtimers run only
 * while an interrupt is enabled: one on each second boundary for update
 * and alarm interrupts, one at the periodic rate (at least 122 us).
 *
 * Locking: port accesses hold @port_lock, the timers @lock only, both
 * spinlocks taken with interrupts off, so the exit fast path may call the
 * port handlers. Reprogramming cancels the timers under @port_lock but
 * not @lock; they are hard-interrupt hrtimers, so hrtimer_cancel() then
 * only waits for a callback running on another CPU, which needs @lock
 * alone.
 *
 * The CMOS RAM (0x0e-0x7f) is plain storage, written by the guest or by
 * userspace with HVX_SET_CMOS (memory sizes for a firmware-less boot).
 * The century byte 0x32 is RAM too, as on the PC, where the BIOS keeps
 * it; it starts with the host's century in BCD. The NMI mask bit is
 * remembered but has no effect: no in-kernel device raises NMIs.
 */
#include <linux/bcd.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/mc146818rtc.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/time.h>

#include "../compat.h"
#include "../hvx_core.h"
#include "dev.h"

#define RTC_INDEX_PORT		0x70
#define RTC_GSI			8
#define RTC_NR_REGS		0x0e	/* clock registers below the RAM */
#define RTC_CENTURY		0x32
#define RTC_UIP_NS		244000	/* UIP before the update, ns */
#define RTC_REG_A_DEFAULT	0x26	/* 32.768 kHz, rate 6 (976.5 us) */
#define RTC_CATCHUP_S		60	/* seconds a late update tick checks */

struct hvx_rtc {
	struct hvx_io_dev iodev;
	struct hvx_vm *vm;
	spinlock_t port_lock;	/* port accesses, timer (re)programming */
	spinlock_t lock;	/* everything below, shared with the timers */
	u8 index;
	bool nmi_masked;
	u8 cmos[128];		/* A, B, C and the RAM; time is computed */
	s64 offset;		/* guest seconds - host real seconds */
	time64_t frozen;	/* the time while B.SET is set */
	time64_t last_update;	/* guest second when C was last read */
	time64_t last_tick;	/* guest second the alarm was last checked at */
	ktime_t last_period;	/* when C was last read (lazy PF) */
	bool irq_level;
	struct hrtimer second;	/* UIE/AIE: each second boundary */
	struct hrtimer periodic;	/* PIE */
	u64 period_ns;		/* of @periodic; 0 when off */
};

/* The host's CLOCK_REALTIME second, read from the clocksource. */
static time64_t rtc_host_seconds(void)
{
	struct timespec64 ts;

	ktime_get_real_ts64(&ts);
	return ts.tv_sec;
}

static time64_t rtc_now(struct hvx_rtc *rtc)
{
	if (rtc->cmos[RTC_CONTROL] & RTC_SET)
		return rtc->frozen;
	return rtc_host_seconds() + rtc->offset;
}

/* Periodic interrupt period from register A, ns; 0 for none. */
static u64 rtc_period_ns(const struct hvx_rtc *rtc)
{
	unsigned int rate = rtc->cmos[RTC_FREQ_SELECT] & 0x0f;

	if (!rate)
		return 0;
	if (rate < 3)
		rate += 7;
	return div_u64((u64)NSEC_PER_SEC << (rate - 1), 32768);
}

static u8 rtc_encode(const struct hvx_rtc *rtc, unsigned int v)
{
	return (rtc->cmos[RTC_CONTROL] & RTC_DM_BINARY) ? v : bin2bcd(v);
}

static unsigned int rtc_decode(const struct hvx_rtc *rtc, u8 v)
{
	return (rtc->cmos[RTC_CONTROL] & RTC_DM_BINARY) ? v : bcd2bin(v);
}

static u8 rtc_encode_hour(const struct hvx_rtc *rtc, unsigned int h)
{
	unsigned int h12;

	if (rtc->cmos[RTC_CONTROL] & RTC_24H)
		return rtc_encode(rtc, h);
	h12 = h % 12 ? h % 12 : 12;
	return rtc_encode(rtc, h12) | (h >= 12 ? 0x80 : 0);
}

static unsigned int rtc_decode_hour(const struct hvx_rtc *rtc, u8 v)
{
	if (rtc->cmos[RTC_CONTROL] & RTC_24H)
		return rtc_decode(rtc, v);
	return rtc_decode(rtc, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

/* A time register (0x00, 0x02, 0x04, 0x06-0x09) of the time @tm. */
static u8 rtc_tm_reg(const struct hvx_rtc *rtc, const struct tm *tm,
		     unsigned int reg)
{
	switch (reg) {
	case RTC_SECONDS:
		return rtc_encode(rtc, tm->tm_sec);
	case RTC_MINUTES:
		return rtc_encode(rtc, tm->tm_min);
	case RTC_HOURS:
		return rtc_encode_hour(rtc, tm->tm_hour);
	case RTC_DAY_OF_WEEK:
		return rtc_encode(rtc, tm->tm_wday + 1);
	case RTC_DAY_OF_MONTH:
		return rtc_encode(rtc, tm->tm_mday);
	case RTC_MONTH:
		return rtc_encode(rtc, tm->tm_mon + 1);
	default:
		return rtc_encode(rtc, (tm->tm_year + 1900) % 100);
	}
}

/* A time register as the guest reads it now. */
static u8 rtc_time_reg(struct hvx_rtc *rtc, unsigned int reg)
{
	struct tm tm;

	time64_to_tm(rtc_now(rtc), 0, &tm);
	return rtc_tm_reg(rtc, &tm, reg);
}

/*
 * A write to a time register sets that field of the clock. The day of
 * the week follows from the date and is not stored. Nonsense values
 * (bad BCD, month 0x99) give some time; they cannot hurt the host.
 */
static void rtc_set_time_reg(struct hvx_rtc *rtc, unsigned int reg, u8 val)
{
	unsigned int sec, min, hour, mday, mon;
	time64_t t;
	struct tm tm;
	long year;

	time64_to_tm(rtc_now(rtc), 0, &tm);
	sec = tm.tm_sec;
	min = tm.tm_min;
	hour = tm.tm_hour;
	mday = tm.tm_mday;
	mon = tm.tm_mon + 1;
	year = tm.tm_year + 1900;
	switch (reg) {
	case RTC_SECONDS:
		sec = rtc_decode(rtc, val);
		break;
	case RTC_MINUTES:
		min = rtc_decode(rtc, val);
		break;
	case RTC_HOURS:
		hour = rtc_decode_hour(rtc, val);
		break;
	case RTC_DAY_OF_MONTH:
		mday = rtc_decode(rtc, val);
		break;
	case RTC_MONTH:
		mon = clamp(rtc_decode(rtc, val), 1u, 12u);
		break;
	case RTC_YEAR:
		year = year - year % 100 + rtc_decode(rtc, val);
		break;
	default:	/* day of week */
		return;
	}
	t = mktime64(year, mon, mday, hour, min, sec);
	if (rtc->cmos[RTC_CONTROL] & RTC_SET)
		rtc->frozen = t;
	else
		rtc->offset = t - rtc_host_seconds();
	rtc->last_tick = t;	/* the next update is to t + 1 */
}

/* Drive IRQ 8 from C.IRQF; lock held. */
static void rtc_drive_irq(struct hvx_rtc *rtc)
{
	u8 b = rtc->cmos[RTC_CONTROL], c = rtc->cmos[RTC_INTR_FLAGS];
	bool level = (c & b & (RTC_PF | RTC_AF | RTC_UF)) != 0;

	if (level)
		rtc->cmos[RTC_INTR_FLAGS] |= RTC_IRQF;
	if (level != rtc->irq_level) {
		rtc->irq_level = level;
		hvx_irq_set_gsi(rtc->vm, RTC_GSI, level);
	}
}

/*
 * Whether the alarm matches guest second @t: each alarm register equals
 * its time register or is "don't care" (0xc0-0xff).
 */
static bool rtc_alarm_match(struct hvx_rtc *rtc, time64_t t)
{
	static const u8 pairs[][2] = {
		{ RTC_SECONDS_ALARM, RTC_SECONDS },
		{ RTC_MINUTES_ALARM, RTC_MINUTES },
		{ RTC_HOURS_ALARM, RTC_HOURS },
	};
	struct tm tm;
	int i;

	time64_to_tm(t, 0, &tm);
	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		u8 a = rtc->cmos[pairs[i][0]];

		if (a < 0xc0 && a != rtc_tm_reg(rtc, &tm, pairs[i][1]))
			return false;
	}
	return true;
}

/*
 * The update cycles since the last tick: AF if the alarm matches any
 * second they passed (at most RTC_CATCHUP_S of them, the latest; none if
 * the host clock went back to or before the last one); lock held.
 */
static void rtc_update_alarm(struct hvx_rtc *rtc)
{
	time64_t now = rtc_now(rtc), t = rtc->last_tick;

	if (now - t > RTC_CATCHUP_S || now < t)
		t = now - 1;
	while (t < now) {
		if (rtc_alarm_match(rtc, ++t)) {
			rtc->cmos[RTC_INTR_FLAGS] |= RTC_AF;
			break;
		}
	}
	rtc->last_tick = now;
}

/* Flags that became true since C was last read; lock held. */
static void rtc_lazy_flags(struct hvx_rtc *rtc)
{
	ktime_t now = ktime_get();
	u64 period = rtc_period_ns(rtc);

	if (!(rtc->cmos[RTC_CONTROL] & RTC_SET) &&
	    rtc_now(rtc) != rtc->last_update)
		rtc->cmos[RTC_INTR_FLAGS] |= RTC_UF;
	if (period && ktime_to_ns(ktime_sub(now, rtc->last_period)) >= period)
		rtc->cmos[RTC_INTR_FLAGS] |= RTC_PF;
}

static enum hrtimer_restart rtc_second_fn(struct hrtimer *timer)
{
	struct hvx_rtc *rtc = container_of(timer, struct hvx_rtc, second);
	unsigned long flags;

	spin_lock_irqsave(&rtc->lock, flags);
	if (!(rtc->cmos[RTC_CONTROL] & RTC_SET)) {
		rtc->cmos[RTC_INTR_FLAGS] |= RTC_UF;
		rtc_update_alarm(rtc);
		rtc_drive_irq(rtc);
	}
	spin_unlock_irqrestore(&rtc->lock, flags);
	hrtimer_forward_now(timer, ns_to_ktime(NSEC_PER_SEC));
	return HRTIMER_RESTART;
}

static enum hrtimer_restart rtc_periodic_fn(struct hrtimer *timer)
{
	struct hvx_rtc *rtc = container_of(timer, struct hvx_rtc, periodic);
	unsigned long flags;
	u64 period;

	spin_lock_irqsave(&rtc->lock, flags);
	rtc->cmos[RTC_INTR_FLAGS] |= RTC_PF;
	rtc_drive_irq(rtc);
	period = rtc->period_ns;
	spin_unlock_irqrestore(&rtc->lock, flags);
	hrtimer_forward_now(timer, ns_to_ktime(period));
	return HRTIMER_RESTART;
}

/* Run the timers that enabled interrupts need; under rtc->port_lock. */
static void rtc_update_timers(struct hvx_rtc *rtc)
{
	bool ticking = hrtimer_cancel(&rtc->second);
	unsigned long flags;
	bool second;
	u64 period;
	u8 b;

	hrtimer_cancel(&rtc->periodic);
	spin_lock_irqsave(&rtc->lock, flags);
	b = rtc->cmos[RTC_CONTROL];
	second = (b & (RTC_UIE | RTC_AIE)) && !(b & RTC_SET);
	period = (b & RTC_PIE) ? rtc_period_ns(rtc) : 0;
	rtc->period_ns = period;
	/*
	 * A timer that starts now checks the seconds after this one; one
	 * that was already running keeps its place (a late tick still
	 * checks the seconds it missed).
	 */
	if (!ticking)
		rtc->last_tick = rtc_now(rtc);
	spin_unlock_irqrestore(&rtc->lock, flags);
	if (second) {
		/* The guest's seconds tick with the host's (whole offset). */
		u64 next = (rtc_host_seconds() + 1) * NSEC_PER_SEC;

		hrtimer_start(&rtc->second, ns_to_ktime(next),
			      HRTIMER_MODE_ABS_HARD);
	}
	if (period)
		hrtimer_start(&rtc->periodic, ns_to_ktime(period),
			      HRTIMER_MODE_REL_HARD);
}

static u8 rtc_read_reg(struct hvx_rtc *rtc, unsigned int reg)
{
	struct timespec64 ts;
	u8 val;

	switch (reg) {
	case RTC_SECONDS_ALARM:
	case RTC_MINUTES_ALARM:
	case RTC_HOURS_ALARM:
		return rtc->cmos[reg];
	case RTC_FREQ_SELECT:
		val = rtc->cmos[reg];
		ktime_get_real_ts64(&ts);
		if (!(rtc->cmos[RTC_CONTROL] & RTC_SET) &&
		    ts.tv_nsec >= NSEC_PER_SEC - RTC_UIP_NS)
			val |= RTC_UIP;
		return val;
	case RTC_CONTROL:
		return rtc->cmos[reg];
	case RTC_INTR_FLAGS:
		rtc_lazy_flags(rtc);
		rtc_drive_irq(rtc);
		val = rtc->cmos[reg];
		rtc->cmos[reg] = 0;
		rtc->last_update = rtc_now(rtc);
		rtc->last_period = ktime_get();
		rtc_drive_irq(rtc);
		return val;
	case RTC_VALID:
		return RTC_VRT;
	default:
		if (reg < RTC_NR_REGS)
			return rtc_time_reg(rtc, reg);
		return rtc->cmos[reg];
	}
}

/* Return: true if the timers must be reprogrammed. */
static bool rtc_write_reg(struct hvx_rtc *rtc, unsigned int reg, u8 val)
{
	u8 old;

	switch (reg) {
	case RTC_SECONDS_ALARM:
	case RTC_MINUTES_ALARM:
	case RTC_HOURS_ALARM:
		rtc->cmos[reg] = val;
		return false;
	case RTC_FREQ_SELECT:
		rtc->cmos[reg] = val & ~RTC_UIP;
		return true;
	case RTC_CONTROL:
		old = rtc->cmos[reg];
		/* Setting SET stops updates and clears UIE. */
		if (val & RTC_SET) {
			val &= ~RTC_UIE;
			if (!(old & RTC_SET))
				rtc->frozen = rtc_now(rtc);
		} else if (old & RTC_SET) {
			rtc->offset = rtc->frozen - rtc_host_seconds();
			rtc->last_update = rtc->frozen;
		}
		rtc->cmos[reg] = val;
		rtc_drive_irq(rtc);
		return true;
	case RTC_INTR_FLAGS:
	case RTC_VALID:
		return false;	/* read-only */
	default:
		if (reg < RTC_NR_REGS)
			rtc_set_time_reg(rtc, reg, val);
		else
			rtc->cmos[reg] = val;
		return false;
	}
}

static int rtc_read(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 port,
		    u8 size, u64 *val)
{
	struct hvx_rtc *rtc = container_of(dev, struct hvx_rtc, iodev);
	unsigned long flags;

	spin_lock_irqsave(&rtc->port_lock, flags);
	spin_lock(&rtc->lock);
	/* The index register is write-only; reads float high on a PC. */
	*val = port == RTC_INDEX_PORT ? 0xff : rtc_read_reg(rtc, rtc->index);
	spin_unlock(&rtc->lock);
	spin_unlock_irqrestore(&rtc->port_lock, flags);
	return 0;
}

static int rtc_write(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 port,
		     u8 size, u64 val)
{
	struct hvx_rtc *rtc = container_of(dev, struct hvx_rtc, iodev);
	unsigned long flags;
	bool timers = false;

	spin_lock_irqsave(&rtc->port_lock, flags);
	spin_lock(&rtc->lock);
	if (port == RTC_INDEX_PORT) {
		rtc->index = val & 0x7f;
		rtc->nmi_masked = val & 0x80;
	} else {
		timers = rtc_write_reg(rtc, rtc->index, val);
	}
	spin_unlock(&rtc->lock);
	if (timers)
		rtc_update_timers(rtc);
	spin_unlock_irqrestore(&rtc->port_lock, flags);
	return 0;
}

static const struct hvx_io_dev_ops rtc_io_ops = {
	.read	= rtc_read,
	.write	= rtc_write,
};

/*
 * A clock register as HVX_GET_CMOS shows it: what the guest would read,
 * except that C keeps its flags (no clear, no lazy UF/PF): userspace looks
 * at the interrupt state without taking it from the guest. Lock held.
 */
static u8 rtc_peek_reg(struct hvx_rtc *rtc, unsigned int reg)
{
	switch (reg) {
	case RTC_SECONDS_ALARM:
	case RTC_MINUTES_ALARM:
	case RTC_HOURS_ALARM:
	case RTC_FREQ_SELECT:
	case RTC_CONTROL:
	case RTC_INTR_FLAGS:
		return rtc->cmos[reg];
	case RTC_VALID:
		return RTC_VRT;
	default:
		return rtc_time_reg(rtc, reg);
	}
}

/**
 * hvx_rtc_cmos - HVX_SET_CMOS / HVX_GET_CMOS: CMOS bytes from userspace
 * @vm: the VM.
 * @c: the request (in kernel memory): bytes @c->first .. @c->first +
 *	@c->count - 1 of @c->data are written to, or read from, the CMOS
 *	at the same indices.
 * @set: write (HVX_SET_CMOS) rather than read.
 *
 * Writes reach only the RAM (0x0e-0x7f); the clock registers follow the
 * host's clock and the guest. Reads may also cover the clock registers
 * 0x00-0x0d (rtc_peek_reg(): register C is not cleared), which is how a
 * launcher sees an alarm interrupt while the guest sleeps (ACPI S3).
 * Context: process context.
 * Return: 0, -EINVAL (a write outside 0x0e-0x7f, a range past 0x7f, or
 * empty), -ENODEV (no HVX_PLATFORM_RTC).
 */
long hvx_rtc_cmos(struct hvx_vm *vm, struct hvx_cmos *c, bool set)
{
	struct hvx_rtc *rtc = NULL;
	unsigned long flags;
	unsigned int i;

	/* c->reserved: checked by the ioctl dispatcher (kmod/ioctl.c). */
	if ((set && c->first < RTC_NR_REGS) || c->first >= sizeof(c->data) ||
	    !c->count || c->count > sizeof(c->data) - c->first)
		return -EINVAL;
	mutex_lock(&vm->lock);
	if (vm->plat && vm->plat_ready)
		rtc = vm->plat->rtc;
	mutex_unlock(&vm->lock);
	if (!rtc)
		return -ENODEV;
	spin_lock_irqsave(&rtc->lock, flags);
	if (set) {
		memcpy(&rtc->cmos[c->first], &c->data[c->first], c->count);
	} else {
		for (i = c->first; i < RTC_NR_REGS && i < c->first + c->count; i++)
			c->data[i] = rtc_peek_reg(rtc, i);
		if (i < c->first + c->count)
			memcpy(&c->data[i], &rtc->cmos[i], c->first + c->count - i);
	}
	spin_unlock_irqrestore(&rtc->lock, flags);
	return 0;
}

/**
 * hvx_rtc_create - create the CMOS/RTC of a VM
 * @vm: the VM (HVX_CREATE_PLATFORM with HVX_PLATFORM_RTC).
 *
 * Claims ports 0x70-0x71. The clock reads the host's real time; register
 * A is 0x26, B is 0x02 (24-hour, BCD, no interrupts), D reports valid
 * RAM; the RAM is zero except the century byte.
 * Context: process context.
 * Return: 0, -ENOMEM, or the bus's error for a taken port.
 */
int hvx_rtc_create(struct hvx_vm *vm)
{
	struct hvx_rtc *rtc;
	struct tm tm;
	int ret;

	rtc = kzalloc(sizeof(*rtc), GFP_KERNEL_ACCOUNT);
	if (!rtc)
		return -ENOMEM;
	spin_lock_init(&rtc->port_lock);
	spin_lock_init(&rtc->lock);
	rtc->vm = vm;
	rtc->iodev.ops = &rtc_io_ops;
	hvx_hrtimer_setup(&rtc->second, rtc_second_fn, CLOCK_REALTIME,
			  HRTIMER_MODE_ABS_HARD);
	hvx_hrtimer_setup(&rtc->periodic, rtc_periodic_fn, CLOCK_MONOTONIC,
			  HRTIMER_MODE_REL_HARD);
	rtc->cmos[RTC_FREQ_SELECT] = RTC_REG_A_DEFAULT;
	rtc->cmos[RTC_CONTROL] = RTC_24H;
	time64_to_tm(rtc_host_seconds(), 0, &tm);
	rtc->cmos[RTC_CENTURY] = bin2bcd((tm.tm_year + 1900) / 100);
	rtc->last_update = rtc_now(rtc);
	rtc->last_period = ktime_get();
	/* Spinlocks and hard hrtimers: the exit fast path may call us. */
	ret = hvx_bus_register_fixed(vm, RTC_INDEX_PORT, 2, &rtc->iodev,
				     true);
	if (ret) {
		kfree(rtc);
		return ret;
	}
	vm->plat->rtc = rtc;
	return 0;
}

/**
 * hvx_rtc_destroy - stop and remove the RTC
 * @vm: the VM, being torn down.
 *
 * Context: process context; waits for running timer callbacks.
 */
void hvx_rtc_destroy(struct hvx_vm *vm)
{
	struct hvx_rtc *rtc = vm->plat->rtc;

	if (!rtc)
		return;
	hvx_bus_unregister(vm, &rtc->iodev);
	hrtimer_cancel(&rtc->second);
	hrtimer_cancel(&rtc->periodic);
	vm->plat->rtc = NULL;
	kfree(rtc);
}

/* Clock bytes: computed from the time, never stored. */
static bool rtc_is_clock_byte(unsigned int i)
{
	return i < RTC_NR_REGS && i != RTC_SECONDS_ALARM &&
	       i != RTC_MINUTES_ALARM && i != RTC_HOURS_ALARM &&
	       i < RTC_FREQ_SELECT;
}

/**
 * hvx_rtc_get_state - fill a HVX_STATE_RTC record's payload
 * @vm: the VM, with an RTC.
 * @s: the record, zeroed by the caller.
 *
 * Context: process context.
 */
void hvx_rtc_get_state(struct hvx_vm *vm, struct hvx_state_rtc *s)
{
	struct hvx_rtc *rtc = vm->plat->rtc;
	unsigned long flags, pflags;
	s64 left = 0;
	unsigned int i;

	spin_lock_irqsave(&rtc->port_lock, pflags);
	if (hrtimer_active(&rtc->periodic))
		left = max_t(s64, ktime_to_ns(hrtimer_get_remaining(&rtc->periodic)), 1);
	spin_lock_irqsave(&rtc->lock, flags);
	for (i = 0; i < HVX_CMOS_SIZE; i++)
		s->cmos[i] = rtc_is_clock_byte(i) ? rtc_time_reg(rtc, i) :
						    rtc->cmos[i];
	s->offset = rtc->offset;
	s->frozen = rtc->frozen;
	s->last_update = rtc->last_update;
	s->period_age_ns = max_t(s64, ktime_to_ns(ktime_sub(ktime_get(),
							    rtc->last_period)), 0);
	s->periodic_left_ns = rtc->period_ns ? left : 0;
	s->index = rtc->index;
	s->flags = (rtc->nmi_masked ? HVX_RTC_NMI_MASKED : 0) |
		   (rtc->irq_level ? HVX_RTC_IRQ : 0);
	spin_unlock_irqrestore(&rtc->lock, flags);
	spin_unlock_irqrestore(&rtc->port_lock, pflags);
}

/**
 * hvx_rtc_check_state - check a HVX_STATE_RTC record's payload
 * @vm: the VM, with an RTC.
 * @s: the record.
 *
 * Return: 0, or -EINVAL (a nonzero reserved byte or unknown flag, an
 * index above 127, UIP set in register A, bits 3:0 set in register C, a
 * period age above KTIME_MAX / 2 or a periodic interrupt more than a
 * second away).
 */
int hvx_rtc_check_state(struct hvx_vm *vm, const struct hvx_state_rtc *s)
{
	if (memchr_inv(s->reserved, 0, sizeof(s->reserved)) ||
	    s->index > 0x7f || (s->flags & ~(HVX_RTC_NMI_MASKED | HVX_RTC_IRQ)) ||
	    (s->cmos[RTC_FREQ_SELECT] & RTC_UIP) ||
	    (s->cmos[RTC_INTR_FLAGS] & 0x0f) ||
	    s->period_age_ns > KTIME_MAX / 2 || s->periodic_left_ns > NSEC_PER_SEC)
		return -EINVAL;
	return 0;
}

/**
 * hvx_rtc_set_state - load a checked HVX_STATE_RTC record
 * @vm: the VM, with an RTC, its vCPUs stopped.
 * @s: the record (hvx_rtc_check_state() accepted it).
 *
 * The clock continues from @s->offset (or stays at @s->frozen); the
 * update and alarm timer ticks on the next host second, the periodic one
 * after what was left of its period.
 * Context: process context.
 */
void hvx_rtc_set_state(struct hvx_vm *vm, const struct hvx_state_rtc *s)
{
	struct hvx_rtc *rtc = vm->plat->rtc;
	unsigned long flags, pflags;
	unsigned int i;

	spin_lock_irqsave(&rtc->port_lock, pflags);
	spin_lock_irqsave(&rtc->lock, flags);
	for (i = 0; i < HVX_CMOS_SIZE; i++)
		if (!rtc_is_clock_byte(i))
			rtc->cmos[i] = s->cmos[i];
	rtc->offset = s->offset;
	rtc->frozen = s->frozen;
	rtc->last_update = s->last_update;
	rtc->last_period = ktime_sub_ns(ktime_get(), s->period_age_ns);
	rtc->index = s->index;
	rtc->nmi_masked = s->flags & HVX_RTC_NMI_MASKED;
	rtc->irq_level = s->flags & HVX_RTC_IRQ;
	spin_unlock_irqrestore(&rtc->lock, flags);
	rtc_update_timers(rtc);
	if (rtc->period_ns && s->periodic_left_ns) {
		hrtimer_cancel(&rtc->periodic);
		hrtimer_start(&rtc->periodic, ns_to_ktime(s->periodic_left_ns),
			      HRTIMER_MODE_REL_HARD);
	}
	spin_unlock_irqrestore(&rtc->port_lock, pflags);
}
