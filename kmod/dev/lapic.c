// SPDX-License-Identifier: GPL-2.0
/*
 * lapic.c - the local APIC of each vCPU (SDM Vol. 3A chapter 11), in
 * software: the xAPIC page through the MMIO bus, the x2APIC MSRs and
 * IA32_TSC_DEADLINE through the RDMSR/WRMSR exits (struct
 * hvx_vmx_apic_ops), the timer on an hrtimer.
 *
 * Hardware assists, each taken at HVX_CREATE_PLATFORM when its module
 * parameter is on and the CPU has it (SDM Vol. 3C chapter 30):
 *  - apic_access: the APIC-access page; xAPIC accesses become APIC-access
 *    exits, TPR accesses need none (with the TPR shadow).
 *  - apic_reg_virt: APIC-register virtualization. The guest reads most
 *    registers from the virtual-APIC page without exits (30.4.2; in
 *    x2APIC mode through the MSR bitmap with "virtualize x2APIC mode",
 *    30.5); writes land on that page and exit as APIC-write exits, which
 *    are emulated here (30.4.3.3). lapic_sync() copies the registers to
 *    the page before each entry whenever they may have changed.
 *  - apic_vid: virtual-interrupt delivery (30.1, 30.2; by default not
 *    under Bochs, see hvx_vmx_vid_unreliable()). The CPU takes
 *    interrupts from VIRR by RVI, keeps VISR/SVI/VPPR and virtualizes EOI;
 *    the page's VIRR and VISR are then the APIC's IRR and ISR. @irr only
 *    collects requests from any context until the vCPU's thread moves them
 *    into VIRR before an entry (no posted interrupts). Vectors with their
 *    TMR bit set are in the EOI-exit bitmap, so their EOI exits and
 *    reaches the I/O APIC (Remote IRR). The PIC's ExtINT interrupts still
 *    use VM-entry injection and interrupt-window exits.
 *
 * Concurrency: IRR and TMR are bitmaps that any context sets with atomic
 * bitops (other vCPUs' IPIs, the IOAPIC, MSIs, eventfd wake-ups, the
 * timer in hard interrupt context), followed by a kick of the vCPU. All
 * other state belongs to the vCPU's own thread: register accesses come
 * from that vCPU's exits, and interrupt acceptance (IRR to ISR) happens
 * before its VM entries. Other contexts only read the few fields that
 * routing needs (SVR, DFR, LDR, LINT0) with READ_ONCE(). The TPR is the
 * vCPU's CR8, kept by vmx/ (hvx_vmx_get_tpr()).
 *
 * Facts of this model (kmod/README.md, "Interrupt controllers"):
 *  - The APIC id is the vCPU id; writes to the xAPIC ID register are
 *    ignored. The xAPIC page stays at 0xfee00000 whatever the base field
 *    of IA32_APIC_BASE says.
 *  - States (SDM Vol. 3A 11.12.5): disabled (EN = 0), xAPIC, x2APIC.
 *    Disabling resets the APIC (IRR, ISR, TMR, timer, LVTs masked, SVR
 *    0FFH: software disabled; TPR 0) and it stays so until re-enabled.
 *    While disabled its page is unclaimed space: accesses exit to
 *    userspace as MMIO (vmx/apicv.c makes APIC-access page accesses exit
 *    too), x2APIC MSRs fault and no message reaches it. CR8 then is a
 *    plain register; the APIC's TPR is 0 again when it is re-enabled.
 *  - The timer counts at HVX_APIC_BUS_KHZ (1 GHz, one count per
 *    nanosecond with divide-by-1). A periodic timer never fires more often
 *    than every lapic_min_period_us (default 200 us, KVM's figure);
 *    missed periods coalesce into one interrupt.
 *  - Lowest-priority delivery picks the matching APIC with the lowest
 *    processor priority, the lowest id among equals.
 *  - EOI-broadcast suppression, CMCI, thermal and performance-counter
 *    interrupts are not implemented (their LVT entries are storage).
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/hrtimer.h>
#include <linux/io.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/tsc.h>

#include "../compat.h"
#include "../hvx_core.h"
#include "dev.h"

static unsigned int lapic_min_period_us = 200;
module_param(lapic_min_period_us, uint, 0644);
MODULE_PARM_DESC(lapic_min_period_us,
		 "Shortest period of a guest's periodic LAPIC timer, microseconds; shorter ones are stretched to it (default: 200)");

static bool apic_access = true;
module_param(apic_access, bool, 0644);
MODULE_PARM_DESC(apic_access,
		 "Virtualize xAPIC page accesses with an APIC-access page when the CPU can (TPR reads and writes without exits); taken at HVX_CREATE_PLATFORM (default: on)");

static bool apic_reg_virt = true;
module_param(apic_reg_virt, bool, 0644);
MODULE_PARM_DESC(apic_reg_virt,
		 "APIC-register virtualization when the CPU can and apic_access is in use: guest reads of APIC registers without exits, writes as APIC-write exits; taken at HVX_CREATE_PLATFORM (default: on)");

/*
 * -1: on where the CPU has it, except under Bochs, whose delivery ignores
 * the guest's RFLAGS.IF when a host interrupt arrives (vmx/apicv.c).
 */
static int apic_vid = -1;
module_param(apic_vid, int, 0644);
MODULE_PARM_DESC(apic_vid,
		 "Virtual-interrupt delivery when the CPU can: the CPU delivers LAPIC interrupts and virtualizes EOI (exits only for level-triggered vectors); 1 on, 0 off, -1 on except under Bochs; taken at HVX_CREATE_PLATFORM (default: -1)");

/* Version 14H (integrated APIC), 6 LVT entries (SDM Vol. 3A 11.4.8). */
#define LAPIC_VERSION		(0x14 | (5 << 16))
#define APIC_BASE_EXTD		BIT_ULL(10)	/* x2APIC mode (11.12.1) */
#define APIC_BASE_RESERVED	(GENMASK_ULL(7, 0) | BIT_ULL(9))

/* LVT entries in register order from 320H (SDM Vol. 3A Figure 11-8). */
enum {
	LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR,
	LVT_NR
};

/* Writable bits of each LVT entry (Figure 11-8). */
static const u32 lvt_writable[LVT_NR] = {
	[LVT_TIMER]	= 0x700ff,	/* vector, mask, timer mode */
	[LVT_THERMAL]	= 0x107ff,	/* vector, delivery mode, mask */
	[LVT_PERF]	= 0x107ff,
	[LVT_LINT0]	= 0x1a7ff,	/* + polarity, trigger mode */
	[LVT_LINT1]	= 0x1a7ff,
	[LVT_ERROR]	= 0x100ff,
};

#define LVT_MASKED		BIT(16)
#define LVT_DM(lvt)		(((lvt) >> 8) & 7)
#define TIMER_MODE(lvt)		(((lvt) >> 17) & 3)
#define TIMER_ONESHOT		0
#define TIMER_PERIODIC		1
#define TIMER_TSC_DEADLINE	2

/* Error status bits (SDM Vol. 3A 11.5.3, Figure 11-9). */
#define ESR_SEND_ILLEGAL	5
#define ESR_RECV_ILLEGAL	6
#define ESR_ILLEGAL_REG		7

#define SVR_WRITABLE		0x3ff	/* vector, enable, focus check */
#define ICR_LO_WRITABLE		0xcefff	/* all but delivery status (12) */

#define NR_VECTORS		256

/**
 * struct hvx_lapic - one vCPU's local APIC
 * @vcpu: the vCPU.
 * @irr: interrupt request register; set by any context (atomic).
 * @tmr: trigger mode register; set with @irr (atomic).
 * @isr: in-service register; the vCPU's thread only.
 * @src: HVX_IRQ_SRC_* of the last request of each vector (statistics).
 * @esr_pending: errors since the last ESR write (atomic bits).
 * @esr: ESR as the guest reads it.
 * @ldr: logical destination register (xAPIC mode).
 * @dfr: destination format register.
 * @svr: spurious-interrupt vector register.
 * @icr_lo: interrupt command register, bits 31:0.
 * @icr_hi: interrupt command register, bits 63:32.
 * @lvt: local vector table.
 * @dcr: timer divide configuration.
 * @tmict: timer initial count.
 * @timer: the timer, one-shot, periodic or TSC deadline.
 * @period_ns: periodic mode: the period; 0 otherwise.
 * @tsc_deadline: IA32_TSC_DEADLINE, guest TSC cycles; 0 when disarmed.
 * @page: the vCPU's virtual-APIC page when it uses APIC-register
 *	virtualization or virtual-interrupt delivery, else NULL.
 * @vid: virtual-interrupt delivery: IRR and ISR live in @page (VIRR,
 *	VISR); @irr holds requests not yet moved there.
 * @regvirt: APIC-register virtualization: the guest reads @page, and its
 *	writes of ICR bits 63:32 only reach @page.
 * @regs_dirty: registers changed since they were last copied to @page,
 *	one bit per entry of page_regs[] (REGS_ALL: all, and IRR, ISR and
 *	TMR too), and REGS_EOI after an EOI (the page's EOI cleared, ISR
 *	through @vectors_dirty or, with virtual-interrupt delivery, SVI
 *	from the page).
 * @vectors_dirty: without virtual-interrupt delivery, IRR, ISR or TMR
 *	changed since they were last copied to @page; set by any context
 *	after its change, taken with xchg() before the copy.
 * @synced_base: IA32_APIC_BASE at that copy (the mode shapes ID and LDR).
 */
struct hvx_lapic {
	struct hvx_vcpu *vcpu;
	unsigned long irr[BITS_TO_LONGS(NR_VECTORS)];
	unsigned long tmr[BITS_TO_LONGS(NR_VECTORS)];
	unsigned long isr[BITS_TO_LONGS(NR_VECTORS)];
	u8 src[NR_VECTORS];
	unsigned long esr_pending;
	u32 esr, ldr, dfr, svr, icr_lo, icr_hi;
	u32 lvt[LVT_NR];
	u32 dcr, tmict;
	struct hrtimer timer;
	u64 period_ns;
	u64 tsc_deadline;
	u8 *page;
	bool vid;
	bool regvirt;
	u32 regs_dirty;
	bool vectors_dirty;
	u64 synced_base;
};

static u64 apic_base(struct hvx_lapic *apic)
{
	return READ_ONCE(apic->vcpu->vmx.msr.apic_base);
}

static bool hw_enabled(struct hvx_lapic *apic)
{
	return apic_base(apic) & MSR_IA32_APICBASE_ENABLE;
}

static bool x2apic_mode(struct hvx_lapic *apic)
{
	return apic_base(apic) & APIC_BASE_EXTD;
}

static bool sw_enabled(struct hvx_lapic *apic)
{
	return READ_ONCE(apic->svr) & APIC_SPIV_APIC_ENABLED;
}

static u32 apic_id(struct hvx_lapic *apic)
{
	return apic->vcpu->vmx.id;
}

/* x2APIC mode derives the LDR from the id (SDM Vol. 3A 11.12.10.2). */
static u32 lapic_ldr(struct hvx_lapic *apic)
{
	u32 id = apic_id(apic);

	if (x2apic_mode(apic))
		return ((id >> 4) << 16) | (1u << (id & 0xf));
	return READ_ONCE(apic->ldr);
}

static int highest(const unsigned long *bitmap)
{
	unsigned long n = find_last_bit(bitmap, NR_VECTORS);

	return n >= NR_VECTORS ? -1 : n;
}

/* Bits 32*word+31 .. 32*word of a 256-bit register (ISR, TMR, IRR). */
static u32 reg_word(const unsigned long *bitmap, unsigned int word)
{
	return bitmap[word / 2] >> ((word & 1) * 32);
}

/* Register @reg of the virtual-APIC page (SDM Vol. 3C 30.1.1). */
static u32 *vreg(struct hvx_lapic *apic, u32 reg)
{
	return (u32 *)(apic->page + reg);
}

/* Highest bit of a 256-bit register of the page (VIRR, VISR), or -1. */
static int vreg_highest(struct hvx_lapic *apic, u32 base)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 w = READ_ONCE(*vreg(apic, base + 16 * i));

		if (w)
			return i * 32 + fls(w) - 1;
	}
	return -1;
}

static int isr_highest(struct hvx_lapic *apic)
{
	return apic->vid ? vreg_highest(apic, APIC_ISR) : highest(apic->isr);
}

static int irr_highest(struct hvx_lapic *apic)
{
	int irrv = highest(apic->irr);

	return apic->vid ? max(irrv, vreg_highest(apic, APIC_IRR)) : irrv;
}

static u32 isr_word(struct hvx_lapic *apic, unsigned int word)
{
	return apic->vid ? READ_ONCE(*vreg(apic, APIC_ISR + 16 * word)) :
			   reg_word(apic->isr, word);
}

static u32 irr_word(struct hvx_lapic *apic, unsigned int word)
{
	u32 w = reg_word(apic->irr, word);

	return apic->vid ? w | READ_ONCE(*vreg(apic, APIC_IRR + 16 * word)) : w;
}

/*
 * With APIC-register virtualization a write to ICR bits 63:32 (310H) only
 * reaches the page, without an exit (SDM Vol. 3C 30.4.3.2): take the
 * destination from there before the ICR is used or the page rewritten.
 */
static void lapic_icr_hi_from_page(struct hvx_lapic *apic)
{
	if (apic->regvirt && !x2apic_mode(apic))
		apic->icr_hi = READ_ONCE(*vreg(apic, APIC_ICR2)) & 0xff000000;
}

static u8 lapic_tpr(struct hvx_lapic *apic)
{
	return hvx_vmx_get_tpr(&apic->vcpu->vmx);
}

/* Processor priority (SDM Vol. 3A 11.8.3.1). */
static u32 lapic_ppr(struct hvx_lapic *apic)
{
	u32 tpr = lapic_tpr(apic);
	int isrv = isr_highest(apic);
	u32 isrc = isrv < 0 ? 0 : isrv & 0xf0;

	return (tpr & 0xf0) >= isrc ? tpr : isrc;
}

static void lapic_kick(struct hvx_lapic *apic)
{
	hvx_vmx_kick_event(&apic->vcpu->vmx);
}

/* Registers the CPU may read from the virtual-APIC page (30.4.2, 30.5). */
static const u16 page_regs[] = {
	APIC_ID, APIC_LVR, APIC_LDR, APIC_DFR, APIC_SPIV, APIC_ESR, APIC_ICR,
	APIC_ICR2, APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1,
	APIC_LVTERR, APIC_TMICT, APIC_TDCR,
};

#define REGS_ALL	GENMASK(ARRAY_SIZE(page_regs) - 1, 0)
/* An EOI changed ISR alone; no register of page_regs[]. */
#define REGS_EOI	BIT(ARRAY_SIZE(page_regs))

/*
 * The vCPU's own thread changed registers: the virtual-APIC page must be
 * copied again and interrupts re-evaluated before the next entry (vmx/
 * does neither without a request).
 */
static void lapic_changed(struct hvx_lapic *apic)
{
	apic->regs_dirty = REGS_ALL;
	hvx_vmx_request_event(&apic->vcpu->vmx);
}

/*
 * As lapic_changed() for a write of @reg that changes @reg alone on the
 * page (and, through their own flag, IRR, ISR and TMR). An EOI changes
 * only ISR, and the copy clears the page's EOI whatever was written
 * there. Another register that is not one of page_regs[] dirties them
 * all: the guest's raw value may be at its offset.
 */
static void lapic_reg_changed(struct hvx_lapic *apic, u32 reg)
{
	unsigned int i;

	if (reg == APIC_EOI) {
		apic->regs_dirty |= REGS_EOI;
		hvx_vmx_request_event(&apic->vcpu->vmx);
		return;
	}

	for (i = 0; i < ARRAY_SIZE(page_regs); i++) {
		if (page_regs[i] == reg) {
			apic->regs_dirty |= BIT(i);
			hvx_vmx_request_event(&apic->vcpu->vmx);
			return;
		}
	}
	lapic_changed(apic);
}

static void lapic_set_irr(struct hvx_lapic *apic, u8 vector, bool level,
			  u8 src);

/* Record an error and raise the LVT error interrupt (SDM Vol. 3A 11.5.3). */
static void lapic_error(struct hvx_lapic *apic, unsigned int bit)
{
	u32 lvt = READ_ONCE(apic->lvt[LVT_ERROR]);

	if (test_and_set_bit(bit, &apic->esr_pending))
		return;
	if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
		lapic_set_irr(apic, lvt & 0xff, false, HVX_IRQ_SRC_LAPIC);
}

/* Request @vector; any context. Vectors 0-15 are illegal (11.5.2). */
static void lapic_set_irr(struct hvx_lapic *apic, u8 vector, bool level,
			  u8 src)
{
	if (vector < 16) {
		lapic_error(apic, ESR_RECV_ILLEGAL);
		return;
	}
	WRITE_ONCE(apic->src[vector], src);
	if (level)
		set_bit(vector, apic->tmr);
	else
		clear_bit(vector, apic->tmr);
	set_bit(vector, apic->irr);
	smp_mb__after_atomic();	/* the bits before the flag: lapic_sync() */
	WRITE_ONCE(apic->vectors_dirty, true);
	lapic_kick(apic);
}

/* Accept a message for this APIC (SDM Vol. 3A 11.6.1); any context. */
static int lapic_accept(struct hvx_lapic *apic, const struct hvx_apic_irq *irq)
{
	struct hvx_vmx_vcpu *v = &apic->vcpu->vmx;

	switch (irq->delivery) {
	case HVX_APIC_DM_FIXED:
	case HVX_APIC_DM_LOWEST:
		/* A software-disabled APIC takes no new interrupts (11.4.7.2). */
		if (!sw_enabled(apic))
			return 0;
		lapic_set_irr(apic, irq->vector, irq->level_trig, irq->src);
		return 1;
	case HVX_APIC_DM_NMI:
		hvx_vmx_queue_nmi(v);	/* -EBUSY: NMIs coalesce */
		return 1;
	case HVX_APIC_DM_INIT:
		if (irq->level_trig && !irq->assert)
			return 0;	/* INIT level de-assert: no effect */
		hvx_vmx_send_ipi(v, HVX_IPI_INIT, 0);
		return 1;
	case HVX_APIC_DM_SIPI:
		hvx_vmx_send_ipi(v, HVX_IPI_SIPI, irq->vector);
		return 1;
	default:			/* SMI, ExtINT, reserved: dropped */
		return 0;
	}
}

/* Does @apic take @irq? Destinations: SDM Vol. 3A 11.6.2, 11.12.10. */
static bool lapic_match(struct hvx_lapic *apic, const struct hvx_apic_irq *irq)
{
	u32 dest = irq->dest, ldr;

	if (!hw_enabled(apic))
		return false;
	switch (irq->shorthand) {
	case HVX_APIC_DEST_SELF:
		return apic->vcpu == irq->self;
	case HVX_APIC_DEST_ALL:
		return true;
	case HVX_APIC_DEST_OTHERS:
		return apic->vcpu != irq->self;
	}
	if (!irq->x2apic)
		dest &= 0xff;
	if (!irq->logical) {
		if (dest == (irq->x2apic ? 0xffffffff : 0xff))
			return true;
		return dest == apic_id(apic);
	}
	ldr = lapic_ldr(apic);
	if (x2apic_mode(apic)) {
		if (dest == (irq->x2apic ? 0xffffffff : 0xff))
			return true;
		if (!irq->x2apic)
			return false;
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if ((READ_ONCE(apic->dfr) >> 28) == 0xf)	/* flat model */
		return dest & (ldr >> 24);
	/* Cluster model: cluster in bits 7:4, members in bits 3:0. */
	return (dest >> 4) == (ldr >> 28) && (dest & (ldr >> 24) & 0xf);
}

/**
 * hvx_lapic_deliver - send an interrupt message to the matching local APICs
 * @vm: the VM.
 * @irq: the message.
 *
 * Lowest-priority messages go to one APIC: the matching one with the
 * lowest processor priority (SDM Vol. 3A 11.6.2.4), the lowest id among
 * equals; others to every match.
 * Context: any, including hard interrupt context.
 * Return: the number of APICs that accepted it.
 */
int hvx_lapic_deliver(struct hvx_vm *vm, const struct hvx_apic_irq *irq)
{
	unsigned int i, end = min_t(unsigned int, READ_ONCE(vm->vcpus_end),
				    HVX_MAX_VCPUS);
	struct hvx_lapic *best = NULL;
	u32 best_ppr = ~0u;
	int n = 0;

	rcu_read_lock();
	for (i = 0; i < end; i++) {
		struct hvx_vcpu *vcpu = READ_ONCE(vm->vcpus[i]);
		struct hvx_lapic *apic = vcpu ? vcpu->lapic : NULL;

		if (!apic || !lapic_match(apic, irq))
			continue;
		if (irq->delivery == HVX_APIC_DM_LOWEST) {
			u32 ppr = lapic_ppr(apic);

			if (ppr < best_ppr) {
				best = apic;
				best_ppr = ppr;
			}
			continue;
		}
		n += lapic_accept(apic, irq);
	}
	if (best)
		n += lapic_accept(best, irq);
	rcu_read_unlock();
	return n;
}

/**
 * hvx_lapic_pv_send_ipi - KVM_HC_SEND_IPI: one IPI to a set of APIC ids
 * @src: the sending vCPU.
 * @map: two words of destination bits: bit i of @map[0] names APIC id
 *	@min + i, bit i of @map[1] id @min + @cluster + i.
 * @cluster: bits used per word: 64, or 32 for a caller outside 64-bit
 *	mode.
 * @min: the APIC id of bit 0.
 * @icr: the ICR's low word (vector, delivery mode, level), physical
 *	destination without shorthand (checked by the caller).
 *
 * Each destination takes the IPI as from an ICR write naming it
 * (lapic_accept()); ids with no vCPU, or whose APIC is disabled, are
 * skipped. The APIC id is the vCPU id.
 * Context: any, including interrupts off (the exit fast path).
 * Return: the number of APICs that accepted it.
 */
long hvx_lapic_pv_send_ipi(struct hvx_vcpu *src, const unsigned long *map,
			   unsigned int cluster, u64 min, u32 icr)
{
	struct hvx_apic_irq irq = {
		.vector = icr & APIC_VECTOR_MASK,
		.delivery = LVT_DM(icr),
		.level_trig = icr & APIC_INT_LEVELTRIG,
		.assert = icr & APIC_INT_ASSERT,
		.x2apic = true,
		.src = HVX_IRQ_SRC_LAPIC,
		.self = src,
	};
	struct hvx_vm *vm = src->vm;
	unsigned int w, i;
	long n = 0;

	if (irq.delivery == HVX_APIC_DM_FIXED ||
	    irq.delivery == HVX_APIC_DM_LOWEST)
		irq.level_trig = false;	/* IPIs are edge-triggered */
	if (min >= HVX_MAX_VCPUS)
		return 0;
	rcu_read_lock();
	for (w = 0; w < 2; w++) {
		for_each_set_bit(i, &map[w], cluster) {
			u64 id = min + w * cluster + i;
			struct hvx_vcpu *vcpu;

			if (id >= HVX_MAX_VCPUS)
				break;
			vcpu = READ_ONCE(vm->vcpus[id]);
			if (!vcpu || !vcpu->lapic || !hw_enabled(vcpu->lapic))
				continue;
			irq.dest = id;
			n += lapic_accept(vcpu->lapic, &irq);
		}
	}
	rcu_read_unlock();
	return n;
}

/**
 * hvx_lapic_accepts_pic - does this vCPU take the 8259A's INTR?
 * @vcpu: the vCPU, which has a local APIC.
 *
 * Yes when LINT0 is unmasked in ExtINT mode ("virtual wire", SDM Vol. 3A
 * 11.5.1), or when the APIC is disabled in IA32_APIC_BASE and LINT0 is
 * the processor's INTR pin (11.4.3).
 * Context: any.
 * Return: true if the PIC's interrupts go to @vcpu.
 */
bool hvx_lapic_accepts_pic(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;
	u32 lvt0 = READ_ONCE(apic->lvt[LVT_LINT0]);

	if (!hw_enabled(apic))
		return true;
	return !(lvt0 & LVT_MASKED) && LVT_DM(lvt0) == HVX_APIC_DM_EXTINT;
}

/**
 * hvx_lapic_pending - the interrupt the local APIC would give the CPU now
 * @vcpu: the vCPU (its own thread).
 *
 * The highest vector in IRR whose priority class is above the processor
 * priority class (SDM Vol. 3A 11.8.3). Changes nothing. With
 * virtual-interrupt delivery there is never one: the CPU delivers the
 * APIC's interrupts itself.
 * Return: the vector, or -1.
 */
int hvx_lapic_pending(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;
	int irrv;

	if (apic->vid)
		return -1;	/* the CPU delivers by RVI (lapic_sync()) */
	irrv = highest(apic->irr);
	if (irrv < 0)
		return -1;
	/* A request waits: the guest's EOI must exit to let it in. */
	if (unlikely(vcpu->vmx.pv.eoi_pending))
		hvx_vmx_pv_eoi_offer(&vcpu->vmx, false);
	if ((irrv & 0xf0) <= (lapic_ppr(apic) & 0xf0))
		return -1;
	return irrv;
}

/**
 * hvx_lapic_ack - the CPU takes @vector: move it from IRR to ISR
 * @vcpu: the vCPU (its own thread).
 * @vector: what hvx_lapic_pending() returned.
 *
 * Return: the HVX_IRQ_SRC_* that requested it.
 */
int hvx_lapic_ack(struct hvx_vcpu *vcpu, int vector)
{
	struct hvx_lapic *apic = vcpu->lapic;

	clear_bit(vector, apic->irr);
	__set_bit(vector, apic->isr);
	WRITE_ONCE(apic->vectors_dirty, true);
	/*
	 * PV EOI (vmx/pvmsr.c): the guest may EOI this one in memory if
	 * the EOI only clears its ISR bit (edge-triggered: nothing for the
	 * I/O APIC) and no other request waits for it. It is the highest
	 * in service: it was above the processor priority.
	 */
	if (vcpu->vmx.pv.eoi && !test_bit(vector, apic->tmr) &&
	    highest(apic->irr) < 0)
		hvx_vmx_pv_eoi_offer(&vcpu->vmx, true);
	return READ_ONCE(apic->src[vector]);
}

/* EOI: retire the highest in-service vector (SDM Vol. 3A 11.8.5). */
static void lapic_eoi(struct hvx_lapic *apic)
{
	int vector = isr_highest(apic);

	/* An EOI write: a PV EOI offered for the old ISR is void now. */
	if (unlikely(apic->vcpu->vmx.pv.eoi_pending))
		hvx_vmx_pv_eoi_offer(&apic->vcpu->vmx, false);
	if (vector < 0)
		return;
	if (apic->vid)	/* SVI follows at the next entry (lapic_sync()) */
		*vreg(apic, APIC_ISR + 16 * (vector >> 5)) &= ~BIT(vector & 31);
	else
		__clear_bit(vector, apic->isr);
	WRITE_ONCE(apic->vectors_dirty, true);
	if (test_bit(vector, apic->tmr))
		hvx_ioapic_eoi(apic->vcpu->vm, vector);
}

/* Send the IPI the ICR describes (SDM Vol. 3A 11.6.1). */
static void lapic_send_ipi(struct hvx_lapic *apic, u32 lo, u32 dest)
{
	struct hvx_apic_irq irq = {
		.dest = dest,
		.vector = lo & APIC_VECTOR_MASK,
		.delivery = LVT_DM(lo),
		.logical = lo & APIC_DEST_LOGICAL,
		.level_trig = lo & APIC_INT_LEVELTRIG,
		.assert = lo & APIC_INT_ASSERT,
		.x2apic = x2apic_mode(apic),
		.shorthand = (lo >> 18) & 3,
		.src = HVX_IRQ_SRC_LAPIC,
		.self = apic->vcpu,
	};

	if (irq.delivery == HVX_APIC_DM_FIXED ||
	    irq.delivery == HVX_APIC_DM_LOWEST) {
		if (irq.vector < 16) {
			lapic_error(apic, ESR_SEND_ILLEGAL);
			return;
		}
		irq.level_trig = false;	/* IPIs are edge-triggered */
	}
	hvx_lapic_deliver(apic->vcpu->vm, &irq);
}

/* Divide value of the DCR: bits 3, 1:0 (SDM Vol. 3A Figure 11-10). */
static u32 lapic_divide(struct hvx_lapic *apic)
{
	u32 v = (apic->dcr & 3) | ((apic->dcr & 8) >> 1);

	return 1u << ((v + 1) & 7);
}

static u64 guest_tsc(struct hvx_lapic *apic)
{
	return rdtsc() + READ_ONCE(apic->vcpu->vmx.msr.tsc_offset);
}

static u64 tsc_to_ns(u64 cycles)
{
	return tsc_khz ? mul_u64_u32_div(cycles, 1000000, tsc_khz) : cycles;
}

static enum hrtimer_restart lapic_timer_fn(struct hrtimer *t)
{
	struct hvx_lapic *apic = container_of(t, struct hvx_lapic, timer);
	u32 lvt = READ_ONCE(apic->lvt[LVT_TIMER]);

	if (TIMER_MODE(lvt) == TIMER_TSC_DEADLINE) {
		u64 deadline = READ_ONCE(apic->tsc_deadline), now = guest_tsc(apic);

		if (!deadline)
			return HRTIMER_NORESTART;
		/* Never early in guest TSC terms (rounding of tsc_khz). */
		if (deadline > now) {
			hrtimer_forward_now(t, ns_to_ktime(tsc_to_ns(deadline - now) + 1));
			return HRTIMER_RESTART;
		}
		WRITE_ONCE(apic->tsc_deadline, 0);
	}
	if (!(lvt & LVT_MASKED))
		lapic_set_irr(apic, lvt & APIC_VECTOR_MASK, false,
			      HVX_IRQ_SRC_LAPIC);
	if (TIMER_MODE(lvt) == TIMER_PERIODIC && apic->period_ns) {
		/* Missed periods coalesce: at most one request per expiry. */
		hrtimer_forward_now(t, ns_to_ktime(apic->period_ns));
		return HRTIMER_RESTART;
	}
	return HRTIMER_NORESTART;
}

/* (Re)arm the timer from TMICT or the deadline; it is stopped. */
static void lapic_timer_start(struct hvx_lapic *apic)
{
	u32 mode = TIMER_MODE(apic->lvt[LVT_TIMER]);
	u64 ns, now;

	apic->period_ns = 0;
	if (mode == TIMER_TSC_DEADLINE) {
		if (!apic->tsc_deadline)
			return;
		now = guest_tsc(apic);
		ns = apic->tsc_deadline > now ?
		     tsc_to_ns(apic->tsc_deadline - now) : 0;
	} else {
		if (!apic->tmict)
			return;
		ns = (u64)apic->tmict * lapic_divide(apic) *
		     (1000000 / HVX_APIC_BUS_KHZ);
		if (mode == TIMER_PERIODIC) {
			ns = max_t(u64, ns, (u64)READ_ONCE(lapic_min_period_us) *
					    NSEC_PER_USEC);
			apic->period_ns = ns;
		}
	}
	hrtimer_start(&apic->timer, ns_to_ktime(ns), HRTIMER_MODE_REL_HARD);
}

static void lapic_timer_stop(struct hvx_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
}

/* Current count (SDM Vol. 3A 11.5.4): what is left of the period. */
static u32 lapic_tmcct(struct hvx_lapic *apic)
{
	s64 left;
	u64 count;

	if (!apic->tmict ||
	    TIMER_MODE(apic->lvt[LVT_TIMER]) == TIMER_TSC_DEADLINE ||
	    !hrtimer_active(&apic->timer))
		return 0;
	left = ktime_to_ns(hrtimer_get_remaining(&apic->timer));
	if (left <= 0)
		return 0;
	count = div_u64(left, lapic_divide(apic));
	return min_t(u64, count, apic->tmict);
}

/* Power-up/INIT state (SDM Vol. 3A 11.4.7.1), keeping IA32_APIC_BASE. */
static void lapic_reset(struct hvx_lapic *apic)
{
	int i;

	lapic_timer_stop(apic);
	hvx_vmx_pv_eoi_offer(&apic->vcpu->vmx, false);	/* ISR goes */
	if (apic->page) {
		/* VIRR, VISR, TMR and the rest; the TPR is set below. */
		memset(apic->page, 0, PAGE_SIZE);
		lapic_changed(apic);
	}
	bitmap_zero(apic->irr, NR_VECTORS);
	bitmap_zero(apic->isr, NR_VECTORS);
	bitmap_zero(apic->tmr, NR_VECTORS);
	apic->esr_pending = 0;
	apic->esr = 0;
	apic->ldr = 0;
	WRITE_ONCE(apic->dfr, 0xffffffff);
	WRITE_ONCE(apic->svr, 0xff);
	apic->icr_lo = 0;
	apic->icr_hi = 0;
	for (i = 0; i < LVT_NR; i++)
		WRITE_ONCE(apic->lvt[i], LVT_MASKED);
	apic->dcr = 0;
	apic->tmict = 0;
	apic->tsc_deadline = 0;
	apic->period_ns = 0;
	hvx_vmx_set_tpr(&apic->vcpu->vmx, 0);
}

/* Read register @reg (offset in the xAPIC page). Return: 0 or -EINVAL. */
static int lapic_reg_read(struct hvx_lapic *apic, u32 reg, u64 *val)
{
	bool x2 = x2apic_mode(apic);

	switch (reg) {
	case APIC_ID:
		*val = x2 ? apic_id(apic) : apic_id(apic) << 24;
		break;
	case APIC_LVR:
		*val = LAPIC_VERSION;
		break;
	case APIC_TASKPRI:
		*val = lapic_tpr(apic);
		break;
	case APIC_ARBPRI:
	case APIC_RRR:
	case APIC_EOI:
		*val = 0;
		break;
	case APIC_PROCPRI:
		*val = lapic_ppr(apic);
		break;
	case APIC_LDR:
		*val = lapic_ldr(apic);
		break;
	case APIC_DFR:
		*val = apic->dfr;
		break;
	case APIC_SPIV:
		*val = apic->svr;
		break;
	case APIC_ISR ... APIC_ISR + 0x70:
		*val = isr_word(apic, (reg - APIC_ISR) >> 4);
		break;
	case APIC_TMR ... APIC_TMR + 0x70:
		*val = reg_word(apic->tmr, (reg - APIC_TMR) >> 4);
		break;
	case APIC_IRR ... APIC_IRR + 0x70:
		*val = irr_word(apic, (reg - APIC_IRR) >> 4);
		break;
	case APIC_ESR:
		*val = apic->esr;
		break;
	case APIC_ICR:
		*val = apic->icr_lo;
		if (x2)
			*val |= (u64)apic->icr_hi << 32;
		break;
	case APIC_ICR2:
		*val = apic->icr_hi;
		break;
	case APIC_LVTT ... APIC_LVTERR:
		*val = apic->lvt[(reg - APIC_LVTT) >> 4];
		break;
	case APIC_TMICT:
		*val = apic->tmict;
		break;
	case APIC_TMCCT:
		*val = lapic_tmcct(apic);
		break;
	case APIC_TDCR:
		*val = apic->dcr;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static void lapic_write_lvt(struct hvx_lapic *apic, unsigned int i, u32 val)
{
	u32 old = apic->lvt[i];

	val &= lvt_writable[i];
	if (!sw_enabled(apic))
		val |= LVT_MASKED;	/* 11.4.7.2 */
	if (i == LVT_TIMER && TIMER_MODE(val) == 3)
		val &= ~(3u << 17);	/* reserved mode: one-shot */
	if (i == LVT_TIMER && TIMER_MODE(val) != TIMER_MODE(old)) {
		/* A mode change disarms the timer (SDM Vol. 3A 11.5.4.1). */
		lapic_timer_stop(apic);
		apic->tmict = 0;
		apic->tsc_deadline = 0;
	}
	WRITE_ONCE(apic->lvt[i], val);
}

static void lapic_write_svr(struct hvx_lapic *apic, u32 val)
{
	int i;

	WRITE_ONCE(apic->svr, val & SVR_WRITABLE);
	if (!(val & APIC_SPIV_APIC_ENABLED))
		for (i = 0; i < LVT_NR; i++)
			WRITE_ONCE(apic->lvt[i], apic->lvt[i] | LVT_MASKED);
}

/* Write register @reg (checked for the mode by the caller). */
static void lapic_reg_write(struct hvx_lapic *apic, u32 reg, u64 val)
{
	bool x2 = x2apic_mode(apic);

	lapic_reg_changed(apic, reg);

	switch (reg) {
	case APIC_TASKPRI:
		hvx_vmx_set_tpr(&apic->vcpu->vmx, val & 0xff);
		break;
	case APIC_EOI:
		lapic_eoi(apic);
		break;
	case APIC_LDR:
		WRITE_ONCE(apic->ldr, val & APIC_LDR_MASK);
		break;
	case APIC_DFR:
		WRITE_ONCE(apic->dfr, val | 0x0fffffff);
		break;
	case APIC_SPIV:
		lapic_write_svr(apic, val);
		lapic_changed(apic);	/* the LVTs' masks */
		break;
	case APIC_ESR:
		apic->esr = xchg(&apic->esr_pending, 0);
		break;
	case APIC_ICR:
		apic->icr_lo = val & ICR_LO_WRITABLE;
		if (x2) {
			apic->icr_hi = val >> 32;
			lapic_reg_changed(apic, APIC_ICR2);
		}
		lapic_send_ipi(apic, apic->icr_lo,
			       x2 ? apic->icr_hi : apic->icr_hi >> 24);
		break;
	case APIC_ICR2:
		apic->icr_hi = val & 0xff000000;
		if (apic->page)	/* see lapic_icr_hi_from_page() */
			WRITE_ONCE(*vreg(apic, APIC_ICR2), apic->icr_hi);
		break;
	case APIC_LVTT ... APIC_LVTERR:
		lapic_write_lvt(apic, (reg - APIC_LVTT) >> 4, val);
		lapic_changed(apic);	/* a timer mode change clears TMICT */
		break;
	case APIC_TMICT:
		if (TIMER_MODE(apic->lvt[LVT_TIMER]) == TIMER_TSC_DEADLINE)
			break;		/* ignored in TSC-deadline mode */
		lapic_timer_stop(apic);
		apic->tmict = val;
		lapic_timer_start(apic);
		break;
	case APIC_TDCR:
		apic->dcr = val & 0xb;
		break;
	case APIC_SELF_IPI:
		lapic_send_ipi(apic, (val & APIC_VECTOR_MASK) |
			       APIC_DEST_SELF, 0);
		break;
	default:		/* ID, read-only and unknown registers */
		break;
	}
}

/* The xAPIC page (SDM Vol. 3A 11.4.1): 32-bit registers on 16 bytes. */
static int lapic_mmio_read(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu,
			   u64 addr, u8 size, u64 *val)
{
	struct hvx_lapic *apic = vcpu->lapic;
	u32 off = addr & 0xf;
	u64 r;

	*val = 0;
	if (apic && !hw_enabled(apic))
		return -ENOENT;		/* no APIC here: unclaimed space */
	if (!apic || x2apic_mode(apic) || off + size > 4)
		return 0;
	if (lapic_reg_read(apic, addr & 0xff0, &r)) {
		lapic_error(apic, ESR_ILLEGAL_REG);
		return 0;
	}
	*val = (u32)r >> (off * 8);
	return 0;
}

static int lapic_mmio_write(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu,
			    u64 addr, u8 size, u64 val)
{
	struct hvx_lapic *apic = vcpu->lapic;
	u32 reg = addr & 0xff0;
	u64 dummy;

	if (apic && !hw_enabled(apic))
		return -ENOENT;		/* no APIC here: unclaimed space */
	if (apic && apic->page)
		lapic_icr_hi_from_page(apic);

	/* Only aligned 32-bit writes are defined; others are dropped. */
	if (!apic || x2apic_mode(apic) ||
	    (addr & 0xf) || size != 4)
		return 0;
	if (reg == APIC_SELF_IPI || lapic_reg_read(apic, reg, &dummy)) {
		lapic_error(apic, ESR_ILLEGAL_REG);
		return 0;
	}
	lapic_reg_write(apic, reg, (u32)val);
	return 0;
}

static const struct hvx_io_dev_ops lapic_mmio_ops = {
	.read	= lapic_mmio_read,
	.write	= lapic_mmio_write,
};

/* x2APIC MSR access rules (SDM Vol. 3A 11.12.1.2, Table 11-6). */
static int lapic_x2apic_msr(struct hvx_lapic *apic, u32 reg,
			    enum hvx_msr_op op, u64 *val)
{
	if (!x2apic_mode(apic))
		return -EINVAL;
	switch (reg) {
	case APIC_ARBPRI:
	case APIC_RRR:
	case APIC_DFR:
	case APIC_ICR2:
		return -EINVAL;		/* not in x2APIC mode */
	}
	if (op == HVX_MSR_READ) {
		if (reg == APIC_EOI || reg == APIC_SELF_IPI)
			return -EINVAL;	/* write-only */
		return lapic_reg_read(apic, reg, val);
	}
	switch (reg) {
	case APIC_ID:
	case APIC_LVR:
	case APIC_PROCPRI:
	case APIC_LDR:
	case APIC_ISR ... APIC_IRR + 0x70:
	case APIC_TMCCT:
		return -EINVAL;		/* read-only */
	case APIC_EOI:
	case APIC_ESR:
		if (*val)
			return -EINVAL;
		break;
	case APIC_SELF_IPI:
		if (*val & ~0xffULL)
			return -EINVAL;
		break;
	case APIC_ICR:
		break;
	default:
		if (*val >> 32)
			return -EINVAL;
		if (reg != APIC_TASKPRI && reg != APIC_SPIV &&
		    !(reg >= APIC_LVTT && reg <= APIC_LVTERR) &&
		    reg != APIC_TMICT && reg != APIC_TDCR)
			return -EINVAL;
	}
	if (op == HVX_MSR_WRITE)
		lapic_reg_write(apic, reg, *val);
	return 0;
}

/* IA32_APIC_BASE mode changes (SDM Vol. 3A 11.12.5, Figure 11-29). */
static int lapic_apic_base(struct hvx_lapic *apic, enum hvx_msr_op op, u64 val)
{
	u64 old = apic_base(apic);
	u64 mode = MSR_IA32_APICBASE_ENABLE | APIC_BASE_EXTD;

	if ((val & APIC_BASE_RESERVED) || (val >> boot_cpu_data.x86_phys_bits))
		return -EINVAL;
	if ((val & mode) == APIC_BASE_EXTD)		/* x2APIC, disabled */
		return -EINVAL;
	if ((old & mode) == mode && (val & mode) == MSR_IA32_APICBASE_ENABLE)
		return -EINVAL;				/* x2APIC to xAPIC */
	if (!(old & MSR_IA32_APICBASE_ENABLE) && (val & mode) == mode)
		return -EINVAL;				/* disabled to x2APIC */
	if (op != HVX_MSR_WRITE)
		return 0;
	WRITE_ONCE(apic->vcpu->vmx.msr.apic_base, val);
	lapic_changed(apic);
	if ((old & MSR_IA32_APICBASE_ENABLE) && !(val & MSR_IA32_APICBASE_ENABLE))
		lapic_reset(apic);			/* 11.4.3 */
	/*
	 * CR8 is the TPR only while the APIC is enabled (11.8.6.1): what the
	 * guest wrote to it meanwhile does not reach the reset APIC.
	 */
	if (!(old & MSR_IA32_APICBASE_ENABLE) && (val & MSR_IA32_APICBASE_ENABLE))
		hvx_vmx_set_tpr(&apic->vcpu->vmx, 0);
	return 0;
}

static struct hvx_lapic *vmx_to_lapic(struct hvx_vmx_vcpu *v)
{
	return to_hvx_vcpu(v)->lapic;
}

static int lapic_msr(struct hvx_vmx_vcpu *v, u32 index, enum hvx_msr_op op,
		     u64 *val)
{
	struct hvx_lapic *apic = vmx_to_lapic(v);
	bool deadline_mode;

	if (index == MSR_IA32_APICBASE) {
		if (op == HVX_MSR_READ) {
			*val = apic_base(apic);
			return 0;
		}
		return lapic_apic_base(apic, op, *val);
	}
	if (index == MSR_IA32_TSC_DEADLINE) {
		deadline_mode = TIMER_MODE(apic->lvt[LVT_TIMER]) ==
				TIMER_TSC_DEADLINE;
		if (op == HVX_MSR_READ) {
			*val = deadline_mode ? READ_ONCE(apic->tsc_deadline) : 0;
		} else if (op == HVX_MSR_WRITE && deadline_mode) {
			/* Ignored outside TSC-deadline mode (11.5.4.1). */
			lapic_timer_stop(apic);
			apic->tsc_deadline = *val;
			lapic_timer_start(apic);
		}
		return 0;
	}
	return lapic_x2apic_msr(apic, (index - APIC_BASE_MSR) << 4, op, val);
}

static void lapic_init(struct hvx_vmx_vcpu *v)
{
	lapic_reset(vmx_to_lapic(v));
}

static int lapic_tpr_threshold(struct hvx_vmx_vcpu *v)
{
	struct hvx_lapic *apic = vmx_to_lapic(v);
	int irrv, isrv;

	if (apic->vid)
		return 0;	/* no TPR-below-threshold exits (30.1.2) */
	/* Called before every entry: with IRR empty, skip the other reads. */
	irrv = highest(apic->irr);
	if (irrv < 0)
		return 0;
	isrv = highest(apic->isr);
	if (isrv >= 0 && (irrv >> 4) <= (isrv >> 4))
		return 0;
	return (irrv >> 4) <= (lapic_tpr(apic) >> 4) ? irrv >> 4 : 0;
}

/*
 * Copy the registers the vCPU's thread changes to the page; those of a
 * disabled APIC as zeros (the guest cannot read them then: its accesses
 * exit, vmx/apicv.c).
 */
static bool lapic_regs_to_page(struct hvx_lapic *apic)
{
	bool on = hw_enabled(apic);
	u32 dirty = apic->regs_dirty;
	u64 val;
	int i;

	if (apic->synced_base != apic_base(apic))
		dirty = REGS_ALL;	/* the mode shapes ID and LDR */
	for (i = 0; i < ARRAY_SIZE(page_regs); i++) {
		if (!(dirty & BIT(i)))
			continue;
		if (!on || lapic_reg_read(apic, page_regs[i], &val))
			val = 0;
		WRITE_ONCE(*vreg(apic, page_regs[i]), (u32)val);
	}
	WRITE_ONCE(*vreg(apic, APIC_EOI), 0);
	apic->regs_dirty = 0;
	apic->synced_base = apic_base(apic);
	return (dirty & REGS_ALL) == REGS_ALL;
}

/*
 * Virtual-interrupt delivery: move the requests other contexts left in
 * @irr into VIRR, where the CPU takes them (SDM Vol. 3C 30.2). They count
 * as injected now. Return: true if there were any.
 */
static bool lapic_vid_take(struct hvx_lapic *apic)
{
	struct hvx_stats *st = &apic->vcpu->vmx.stats.s;
	unsigned long bits;
	unsigned int i, b;
	bool took = false;

	for (i = 0; i < BITS_TO_LONGS(NR_VECTORS); i++) {
		if (!READ_ONCE(apic->irr[i]))
			continue;
		bits = xchg(&apic->irr[i], 0);
		*vreg(apic, APIC_IRR + 0x20 * i) |= (u32)bits;
		*vreg(apic, APIC_IRR + 0x20 * i + 0x10) |= (u32)(bits >> 32);
		took |= bits != 0;
		for_each_set_bit(b, &bits, BITS_PER_LONG) {
			u8 src = READ_ONCE(apic->src[i * BITS_PER_LONG + b]);

			if (src < HVX_STATS_IRQ_SOURCES)
				st->irqs_injected[src]++;
		}
	}
	return took;
}

/*
 * Before an entry that evaluates interrupts (a request bit asked for it).
 * Most change nothing. With virtual-interrupt delivery VIRR and VISR are
 * the page's own, the CPU keeps RVI and SVI, and TMR only changes with a
 * new request, so the full copy below runs only after a request
 * (lapic_vid_take()) or a register change by the vCPU's own exits
 * (@regs_dirty, which a software EOI also sets). Of the other registers
 * only those written since the last copy are copied (@regs_dirty's bits).
 * Without VID, IRR, ISR and TMR are copied only when they changed
 * (@vectors_dirty) or everything was dirty (a guest write may have left
 * its raw value at any offset of the page). Return: true if the page
 * changed.
 */
static bool lapic_sync(struct hvx_vmx_vcpu *v, struct hvx_vmx_apicv_state *st)
{
	struct hvx_lapic *apic = vmx_to_lapic(v);
	bool changed = apic->vid && lapic_vid_take(apic), full = false;
	int i, rvi, svi;

	lapic_icr_hi_from_page(apic);
	if (apic->regs_dirty || apic->synced_base != apic_base(apic)) {
		full = lapic_regs_to_page(apic);
		changed = true;
	}
	if (!apic->vid) {
		/* Taken before the copy: a change after it sets the flag again. */
		if (!xchg(&apic->vectors_dirty, false) && !full)
			return changed;
		/* IRR and TMR change in other contexts too. */
		for (i = 0; i < 8; i++) {
			WRITE_ONCE(*vreg(apic, APIC_TMR + 16 * i), reg_word(apic->tmr, i));
			WRITE_ONCE(*vreg(apic, APIC_IRR + 16 * i), reg_word(apic->irr, i));
			WRITE_ONCE(*vreg(apic, APIC_ISR + 16 * i), reg_word(apic->isr, i));
		}
		return true;
	}
	if (!changed)
		return false;
	for (i = 0; i < 8; i++)
		WRITE_ONCE(*vreg(apic, APIC_TMR + 16 * i), reg_word(apic->tmr, i));
	/* Level-triggered vectors: their EOI must reach the I/O APIC. */
	BUILD_BUG_ON(BITS_PER_LONG != 64);
	for (i = 0; i < 4; i++)
		st->eoi_exit[i] = READ_ONCE(apic->tmr[i]);
	rvi = vreg_highest(apic, APIC_IRR);
	svi = vreg_highest(apic, APIC_ISR);
	st->intr_status = (svi > 0 ? svi : 0) << 8 | (rvi > 0 ? rvi : 0);
	return true;
}

static void lapic_eoi_exit(struct hvx_vmx_vcpu *v, u8 vector)
{
	struct hvx_lapic *apic = vmx_to_lapic(v);

	if (test_bit(vector, apic->tmr))
		hvx_ioapic_eoi(apic->vcpu->vm, vector);
}

static void lapic_apic_write(struct hvx_vmx_vcpu *v, u32 offset)
{
	struct hvx_lapic *apic = vmx_to_lapic(v);
	u32 reg = offset & 0xff0, val = READ_ONCE(*vreg(apic, reg));
	u64 dummy;

	/*
	 * The page holds the guest's raw value until the next copy: of the
	 * register written (lapic_reg_write()), or of all where the write
	 * is not emulated.
	 */
	if (x2apic_mode(apic)) {
		lapic_changed(apic);
		/* Self-IPI virtualization left to software (30.5). */
		if (reg == APIC_SELF_IPI)
			lapic_reg_write(apic, reg, val & APIC_VECTOR_MASK);
		return;
	}
	if ((offset & 0xf) || !hw_enabled(apic)) {
		lapic_changed(apic);
		return;
	}
	lapic_icr_hi_from_page(apic);
	if (reg == APIC_SELF_IPI || lapic_reg_read(apic, reg, &dummy)) {
		lapic_changed(apic);
		lapic_error(apic, ESR_ILLEGAL_REG);
		return;
	}
	lapic_reg_write(apic, reg, val);
}

static bool lapic_vid_pending(struct hvx_vmx_vcpu *v)
{
	struct hvx_lapic *apic = vmx_to_lapic(v);
	int irrv = irr_highest(apic);

	return irrv >= 0 && (irrv & 0xf0) > (lapic_ppr(apic) & 0xf0);
}

/* The guest cleared its PV EOI flag (vmx/pvmsr.c): the EOI, in software. */
static void lapic_pv_eoi(struct hvx_vmx_vcpu *v)
{
	struct hvx_lapic *apic = vmx_to_lapic(v);

	lapic_eoi(apic);
	lapic_reg_changed(apic, APIC_EOI);
}

/*
 * Would an EOI now retire a level-triggered vector? Its EOI reaches the
 * I/O APIC and the ack notifiers (assigned devices, resample eventfds),
 * which run in process context.
 */
static bool lapic_eoi_level(struct hvx_lapic *apic)
{
	int vector = isr_highest(apic);

	return vector >= 0 && test_bit(vector, apic->tmr);
}

/*
 * The exit fast path, interrupts off: EOI, TPR and the TSC deadline touch
 * only the vCPU's own state and its hrtimer (hrtimer_cancel() with
 * interrupts off only waits for a callback running on another CPU, and
 * lapic_timer_fn() takes no lock).
 */
static int lapic_msr_fast(struct hvx_vmx_vcpu *v, u32 index, u64 val)
{
	struct hvx_lapic *apic = vmx_to_lapic(v);

	switch (index) {
	case MSR_IA32_TSC_DEADLINE:
		return lapic_msr(v, index, HVX_MSR_WRITE, &val) ? -EAGAIN : 0;
	case APIC_BASE_MSR + (APIC_EOI >> 4):
		if (lapic_eoi_level(apic))
			return -EAGAIN;
		fallthrough;
	case APIC_BASE_MSR + (APIC_TASKPRI >> 4):
		return lapic_x2apic_msr(apic, (index - APIC_BASE_MSR) << 4,
					HVX_MSR_WRITE, &val) ? -EAGAIN : 0;
	default:
		return -EAGAIN;
	}
}

static bool lapic_apic_write_fast(struct hvx_vmx_vcpu *v, u32 offset)
{
	struct hvx_lapic *apic = vmx_to_lapic(v);
	u32 reg = offset & 0xff0;

	if (reg != APIC_TASKPRI && reg != APIC_EOI)
		return false;
	if (reg == APIC_EOI && lapic_eoi_level(apic))
		return false;
	lapic_apic_write(v, offset);
	return true;
}

static const struct hvx_vmx_apic_ops lapic_vmx_ops = {
	.msr		= lapic_msr,
	.msr_fast	= lapic_msr_fast,
	.apic_write_fast = lapic_apic_write_fast,
	.init		= lapic_init,
	.tpr_threshold	= lapic_tpr_threshold,
	.sync		= lapic_sync,
	.eoi_exit	= lapic_eoi_exit,
	.apic_write	= lapic_apic_write,
	.vid_pending	= lapic_vid_pending,
	.pv_eoi		= lapic_pv_eoi,
};

/**
 * hvx_lapic_get_state - the registers as the guest would read them
 * @vcpu: the vCPU, not running (HVX_GET_LAPIC holds its run lock).
 * @state: output, zeroed by the caller; layout in struct hvx_lapic_state.
 *
 * Reads each register through the same path as a guest read (with
 * virtual-interrupt delivery IRR and ISR come from the virtual-APIC page,
 * ICR bits 63:32 from there too with APIC-register virtualization).
 * Changes nothing the guest can see.
 */
void hvx_lapic_get_state(struct hvx_vcpu *vcpu, struct hvx_lapic_state *state)
{
	struct hvx_lapic *apic = vcpu->lapic;
	__le32 word;
	u32 reg;
	u64 val;

	lapic_icr_hi_from_page(apic);
	for (reg = 0; reg < sizeof(state->regs); reg += 16) {
		if (lapic_reg_read(apic, reg, &val))
			continue;
		word = cpu_to_le32((u32)val);
		memcpy(state->regs + reg, &word, sizeof(word));
	}
}

/**
 * hvx_lapic_create - give a new vCPU its local APIC
 * @vcpu: the vCPU, not yet visible to the router.
 *
 * The APIC starts in its power-up state (SDM Vol. 3A 11.4.7.1) in xAPIC
 * mode, with IA32_APIC_BASE as vmx/ set it (enabled; BSP for vCPU 0),
 * and uses the hardware assists the VM's platform chose
 * (hvx_lapic_vm_create()).
 * Context: process context; may be called with vm->lock held.
 * Return: 0 or -ENOMEM.
 */
int hvx_lapic_create(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);
	struct hvx_platform *plat = vcpu->vm->plat;
	int ret;

	if (!apic)
		return -ENOMEM;
	apic->vcpu = vcpu;
	hvx_hrtimer_setup(&apic->timer, lapic_timer_fn, CLOCK_MONOTONIC,
			  HRTIMER_MODE_REL_HARD);
	if (plat->apicv) {
		ret = hvx_vmx_enable_apicv(&vcpu->vmx, plat->apicv);
		if (ret) {
			kfree(apic);
			return ret;
		}
		if (vcpu->vmx.apicv) {
			apic->page = vcpu->vmx.vapic;
			apic->vid = vcpu->vmx.apicv & HVX_APICV_VID;
			apic->regvirt = vcpu->vmx.apicv & HVX_APICV_REG;
		}
	}
	lapic_reset(apic);
	vcpu->lapic = apic;
	vcpu->vmx.apic_ops = &lapic_vmx_ops;
	if (plat->apic_access_page)
		hvx_vmx_enable_apic_access(&vcpu->vmx,
					   page_to_phys(plat->apic_access_page));
	return 0;
}

/**
 * hvx_lapic_destroy - free a vCPU's local APIC
 * @vcpu: the vCPU, unreachable from the router (after an RCU grace
 *	period) and not running.
 */
void hvx_lapic_destroy(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;

	hrtimer_cancel(&apic->timer);
	vcpu->vmx.apic_ops = NULL;
	vcpu->lapic = NULL;
	kfree(apic);
}

/**
 * hvx_lapic_vm_create - claim the xAPIC page for the VM's local APICs
 * @vm: the VM, during HVX_CREATE_PLATFORM.
 *
 * One claim at 0xfee00000 (APIC_DEFAULT_PHYS_BASE, SDM Vol. 3A 11.4.1)
 * serves every vCPU: the bus hands each access to the accessing vCPU,
 * whose own APIC answers. With the apic_access parameter and a CPU that
 * can, EPT maps an APIC-access page there, so accesses arrive as
 * APIC-access exits and TPR accesses need none. The apic_reg_virt and
 * apic_vid parameters, as the CPU allows, choose the VM's
 * hvx_platform.apicv (APIC-register virtualization only with the
 * APIC-access page).
 * Return: 0, -ENOMEM, -EEXIST (a RAM slot or mapped BAR covers the
 * APIC-access page's GPA) or the bus's error.
 */
int hvx_lapic_vm_create(struct hvx_vm *vm)
{
	struct hvx_platform *plat = vm->plat;
	struct page *page;
	int ret, vid;

	plat->lapic_mmio.ops = &lapic_mmio_ops;
	ret = hvx_bus_register(vm, HVX_BUS_MMIO, APIC_DEFAULT_PHYS_BASE,
			       PAGE_SIZE, &plat->lapic_mmio);
	if (ret)
		return ret;
	vid = READ_ONCE(apic_vid);
	plat->apicv = vid > 0 || (vid < 0 && !hvx_vmx_vid_unreliable()) ?
		      HVX_APICV_VID : 0;
	if (!READ_ONCE(apic_access) || !hvx_vmx_has_apic_access())
		goto out;
	if (READ_ONCE(apic_reg_virt))
		plat->apicv |= HVX_APICV_REG;
	/*
	 * The APIC-access page (SDM Vol. 3C 30.4): never read or written by
	 * the guest, only its address matters. No vCPU exists yet. Its GPA
	 * is reserved: a RAM slot there is refused from now on, and one
	 * already there makes this fail (-EEXIST).
	 */
	ret = -ENOMEM;
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		goto err;
	ret = hvx_mem_map_private(&vm->mem, &plat->apic_access_map,
				  APIC_DEFAULT_PHYS_BASE, page);
	if (ret) {
		__free_page(page);
		goto err;
	}
	plat->apic_access_page = page;
out:
	if (!plat->apic_access_page)
		plat->apicv &= ~HVX_APICV_REG;
	plat->apicv &= hvx_vmx_apicv_caps();
	return 0;
err:
	hvx_bus_unregister(vm, &plat->lapic_mmio);
	return ret;
}

/**
 * hvx_lapic_vm_destroy - drop the xAPIC page claim and APIC-access page
 * @vm: the VM, without vCPUs (none can reach the page any more).
 */
void hvx_lapic_vm_destroy(struct hvx_vm *vm)
{
	struct hvx_platform *plat = vm->plat;

	hvx_bus_unregister(vm, &plat->lapic_mmio);
	if (plat->apic_access_page) {
		/* Flushes the VM's CPUs before the page is freed. */
		hvx_mmio_unmap(&vm->mem, &plat->apic_access_map);
		__free_page(plat->apic_access_page);
		plat->apic_access_page = NULL;
	}
}

/* The 32-bit register at @reg of a struct hvx_lapic_state. */
static u32 state_reg(const struct hvx_lapic_state *s, u32 reg)
{
	__le32 word;

	memcpy(&word, s->regs + reg, sizeof(word));
	return le32_to_cpu(word);
}

/* A 256-bit register (IRR, ISR, TMR) of a struct hvx_lapic_state. */
static void state_reg256(const struct hvx_lapic_state *s, u32 base,
			 unsigned long *bitmap)
{
	u32 words[8];
	int i;

	for (i = 0; i < 8; i++)
		words[i] = state_reg(s, base + 16 * i);
	bitmap_from_arr32(bitmap, words, NR_VECTORS);
}

static int lapic_check_state(const struct hvx_lapic_state *s)
{
	u32 lvtt = state_reg(s, APIC_LVTT);
	int i;

	if (state_reg(s, APIC_SPIV) & ~SVR_WRITABLE ||
	    state_reg(s, APIC_TASKPRI) & ~0xffu ||
	    state_reg(s, APIC_TDCR) & ~0xbu || TIMER_MODE(lvtt) == 3)
		return -EINVAL;
	for (i = 0; i < LVT_NR; i++)
		if (state_reg(s, APIC_LVTT + 16 * i) & ~lvt_writable[i])
			return -EINVAL;
	if (TIMER_MODE(lvtt) != TIMER_TSC_DEADLINE &&
	    state_reg(s, APIC_TMCCT) > state_reg(s, APIC_TMICT))
		return -EINVAL;
	return 0;
}

/*
 * Arm the timer for what was left of the period at the save (@left
 * counts); one-shot and periodic modes. It is stopped.
 */
static void lapic_timer_resume(struct hvx_lapic *apic, u32 left)
{
	u32 mode = TIMER_MODE(apic->lvt[LVT_TIMER]);
	u64 ns, unit = lapic_divide(apic) * (1000000 / HVX_APIC_BUS_KHZ);

	apic->period_ns = 0;
	if (mode == TIMER_TSC_DEADLINE) {
		lapic_timer_start(apic);
		return;
	}
	if (!apic->tmict || !left)
		return;
	if (mode == TIMER_PERIODIC)
		apic->period_ns = max_t(u64, (u64)apic->tmict * unit,
					(u64)READ_ONCE(lapic_min_period_us) *
					NSEC_PER_USEC);
	ns = (u64)left * unit;
	hrtimer_start(&apic->timer, ns_to_ktime(ns), HRTIMER_MODE_REL_HARD);
}

/**
 * hvx_lapic_set_state - load a struct hvx_lapic_state (HVX_SET_LAPIC)
 * @vcpu: the vCPU, not running (HVX_SET_LAPIC holds its run lock), with
 *	its IA32_APIC_BASE already restored.
 * @s: the registers as HVX_GET_LAPIC gave them.
 *
 * Read-only registers are ignored. IRR and ISR go to the virtual-APIC
 * page with virtual-interrupt delivery, to the APIC's own bitmaps
 * otherwise; the timer continues with what TMCCT says was left of its
 * period (in TSC-deadline mode, from IA32_TSC_DEADLINE).
 * Context: process context.
 * Return: 0, or -EINVAL (see HVX_SET_LAPIC) with nothing changed.
 */
int hvx_lapic_set_state(struct hvx_vcpu *vcpu, const struct hvx_lapic_state *s)
{
	struct hvx_lapic *apic = vcpu->lapic;
	DECLARE_BITMAP(irr, NR_VECTORS);
	DECLARE_BITMAP(isr, NR_VECTORS);
	DECLARE_BITMAP(tmr, NR_VECTORS);
	bool x2 = x2apic_mode(apic);
	int i, ret;

	ret = lapic_check_state(s);
	if (ret)
		return ret;
	lapic_timer_stop(apic);
	state_reg256(s, APIC_IRR, irr);
	state_reg256(s, APIC_ISR, isr);
	state_reg256(s, APIC_TMR, tmr);
	hvx_vmx_set_tpr(&vcpu->vmx, state_reg(s, APIC_TASKPRI));
	WRITE_ONCE(apic->ldr, state_reg(s, APIC_LDR) & APIC_LDR_MASK);
	WRITE_ONCE(apic->dfr, state_reg(s, APIC_DFR) | 0x0fffffff);
	WRITE_ONCE(apic->svr, state_reg(s, APIC_SPIV));
	apic->esr = state_reg(s, APIC_ESR);
	apic->esr_pending = 0;
	apic->icr_lo = state_reg(s, APIC_ICR) & ICR_LO_WRITABLE;
	apic->icr_hi = state_reg(s, APIC_ICR2);
	if (!x2)
		apic->icr_hi &= 0xff000000;
	if (apic->page)
		WRITE_ONCE(*vreg(apic, APIC_ICR2), apic->icr_hi);
	for (i = 0; i < LVT_NR; i++)
		WRITE_ONCE(apic->lvt[i], state_reg(s, APIC_LVTT + 16 * i));
	apic->dcr = state_reg(s, APIC_TDCR);
	apic->tmict = state_reg(s, APIC_TMICT);
	bitmap_copy(apic->tmr, tmr, NR_VECTORS);
	if (apic->vid) {
		bitmap_zero(apic->irr, NR_VECTORS);
		bitmap_zero(apic->isr, NR_VECTORS);
		for (i = 0; i < 8; i++) {
			*vreg(apic, APIC_IRR + 16 * i) = reg_word(irr, i);
			*vreg(apic, APIC_ISR + 16 * i) = reg_word(isr, i);
		}
	} else {
		bitmap_copy(apic->irr, irr, NR_VECTORS);
		bitmap_copy(apic->isr, isr, NR_VECTORS);
	}
	lapic_timer_resume(apic, state_reg(s, APIC_TMCCT));
	lapic_changed(apic);
	return 0;
}
