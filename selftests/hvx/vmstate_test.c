// SPDX-License-Identifier: GPL-2.0
/*
 * vmstate_test - saving and restoring state (uapi/hvx.h, "Saving and
 * restoring state"): each device record and the vCPU state round-trip
 * field by field into a fresh VM, guests continue there (PIT count, LAPIC
 * timer, YMM registers), and bad records are refused with nothing
 * changed. Guests program the devices through their ports and MMIO
 * (guest_script()'s scripts), as a saved guest would have.
 *
 * Timer phases are saved relative to the save: a restored timer has at
 * least the phase it was saved with, and at most that plus the host time
 * between the save and the check (CLOCK_MONOTONIC, which under Bochs runs
 * with the emulated instructions, like the kernel's hrtimers).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_state.h"

/* Operations of a script the guest runs between two GUEST_SYNCs. */
#define VS_OUTB		1	/* outb(@addr, @val) */
#define VS_INB		2	/* @val = inb(@addr) */
#define VS_W32		3	/* 32-bit store of @val at @addr (MMIO) */
#define VS_R32		4	/* @val = 32-bit load at @addr */
#define VS_MAX_OPS	32

struct vs_op {
	uint64_t addr;
	uint64_t val;
	uint32_t kind;
	uint32_t pad;
};

struct vs_script {
	uint32_t n;
	uint32_t pad;
	struct vs_op ops[VS_MAX_OPS];
};

/* Byte @i of YMM register @r in guest_avx(). */
GUEST_CODE
static inline uint8_t vs_pattern(uint64_t seed, int r, int i)
{
	return (uint8_t)(seed * 131 + r * 37 + i * 7 + 1);
}

/*
 * Guest code: one guest runs port and MMIO scripts the host writes into
 * its memory (to program devices and read them back, before a save and
 * after a restore), one keeps a pattern in its YMM registers across a
 * save and a restore into another VM.
 */

/* The script, in guest memory (the host writes it through the VM's RAM). */
struct vs_script vs_script;

/* SYNC(round), then run vs_script; again, forever. */
GUEST_CODE
void guest_script(uint64_t unused)
{
	volatile struct vs_script *s = &vs_script;
	uint64_t round;

	(void)unused;
	for (round = 1;; round++) {
		GUEST_SYNC(round);
		for (uint32_t i = 0; i < s->n && i < VS_MAX_OPS; i++) {
			volatile struct vs_op *op = &s->ops[i];

			switch (op->kind) {
			case VS_OUTB:
				outb(op->addr, op->val);
				break;
			case VS_INB:
				op->val = inb(op->addr);
				break;
			case VS_W32:
				*(volatile uint32_t *)op->addr = op->val;
				break;
			case VS_R32:
				op->val = *(volatile uint32_t *)op->addr;
				break;
			}
		}
	}
}

static uint8_t want[GUEST_YMM_BYTES], seen[GUEST_YMM_BYTES];

/* SYNC(0) if the vCPU has no AVX; else the pattern of @seed in YMM0-15,
 * SYNC(1), then SYNC(2 + the number of bytes that changed). */
GUEST_CODE
void guest_avx(uint64_t seed)
{
	uint64_t bad = 0;

	if (!guest_enable_avx()) {
		GUEST_SYNC(0);
		GUEST_DONE();
	}
	for (int r = 0; r < 16; r++)
		for (int i = 0; i < 32; i++)
			want[r * 32 + i] = vs_pattern(seed, r, i);
	guest_ymm_load(want);
	GUEST_SYNC(1);
	guest_ymm_store(seen);
	for (int i = 0; i < GUEST_YMM_BYTES; i++)
		bad += want[i] != seen[i];
	GUEST_SYNC(2 + bad);
	GUEST_DONE();
}

/* Host code. */

#define LEGACY	(HVX_PLATFORM_PIC | HVX_PLATFORM_PIT | HVX_PLATFORM_UART | \
		 HVX_PLATFORM_RTC | HVX_PLATFORM_PCI)
#define PIT_HZ		1193182ULL
#define APIC_BASE	0xfee00000ULL
#define IOAPIC_BASE	0xfec00000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A VM with @devices and vCPU 0 in guest_script(), stopped at its first
 * GUEST_SYNC. */
static struct vcpu *script_vm(struct vm **vmp, uint32_t devices)
{
	struct hvx_platform_config c = { .devices = devices };
	struct vm *vm = vm_create();
	struct vcpu *vcpu;

	LIB_ASSERT(!ioctl(vm->fd, HVX_CREATE_PLATFORM, &c),
		   "HVX_CREATE_PLATFORM: %m");
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_script, 0);
	LIB_ASSERT(vcpu_run_sync(vcpu) == 1, "first sync");
	*vmp = vm;
	return vcpu;
}

/* Run @ops in the guest; their results come back in @ops. */
static void run_script(struct vcpu *vcpu, struct vs_op *ops, uint32_t n)
{
	struct vs_script *s = vm_gpa2hva(vcpu->vm, (uint64_t)&vs_script,
					 sizeof(vs_script));

	LIB_ASSERT(n <= VS_MAX_OPS, "script too long");
	memcpy(s->ops, ops, n * sizeof(*ops));
	s->n = n;
	vcpu_run_sync(vcpu);
	memcpy(ops, s->ops, n * sizeof(*ops));
	s->n = 0;
}

#define OUTB(port, v)	{ .kind = VS_OUTB, .addr = (port), .val = (v) }
#define INB(port)	{ .kind = VS_INB, .addr = (port) }
#define W32(a, v)	{ .kind = VS_W32, .addr = (a), .val = (v) }
#define R32(a)		{ .kind = VS_R32, .addr = (a) }
#define NOPS(ops)	(sizeof(ops) / sizeof((ops)[0]))

/* The record of @type in a HVX_GET_VM_STATE buffer, or NULL. */
static void *find_record(void *buf, ssize_t len, uint16_t type)
{
	return vm_state_record(buf, len, type, VM_STATE_ANY);
}

/* Zero the fields that move with time, so that records compare exactly. */
static void untime(void *buf, ssize_t len)
{
	struct hvx_state_pit *pit = find_record(buf, len, HVX_STATE_PIT);
	struct hvx_state_rtc *rtc = find_record(buf, len, HVX_STATE_RTC);
	static const int clock_bytes[] = { 0, 2, 4, 6, 7, 8, 9 };

	for (int i = 0; pit && i < 3; i++)
		pit->ch[i].elapsed_ns = 0;
	if (rtc) {
		for (int i = 0; i < 7; i++)
			rtc->cmos[clock_bytes[i]] = 0;
		rtc->period_age_ns = 0;
		rtc->periodic_left_ns = 0;
	}
}

static struct vm *fresh_vm(uint32_t devices)
{
	struct hvx_platform_config c = { .devices = devices };
	struct vm *vm = vm_create();

	LIB_ASSERT(!ioctl(vm->fd, HVX_CREATE_PLATFORM, &c),
		   "HVX_CREATE_PLATFORM: %m");
	return vm;
}

/* PIT counter 0 via a counter-latch command, as the guest reads it. */
static uint16_t guest_pit_count(struct vcpu *vcpu)
{
	struct vs_op ops[] = { OUTB(0x43, 0x00), INB(0x40), INB(0x40) };

	run_script(vcpu, ops, NOPS(ops));
	return ops[1].val | ops[2].val << 8;
}

/*
 * Counter 0 in mode 0 mid-count: the record has its count, mode and
 * phase; restored into a fresh VM, its phase continues (neither reset
 * nor advanced by more than the time passed) and the guest there reads a
 * count that follows from it.
 */
TEST(pit_mid_count)
{
	struct vs_op prog[] = {
		OUTB(0x43, 0x30), OUTB(0x40, 0xff), OUTB(0x40, 0xff),	/* 65535 */
		OUTB(0x61, 0x01),					/* gate 2 */
	};
	struct hvx_state_pit *pa, *pb, cmp;
	void *a = NULL, *b = NULL;
	ssize_t la, lb;
	uint64_t t_save, e1, e2, lo, hi;
	struct vcpu *va, *vb;
	struct vm *vma, *vmb;
	uint16_t count;

	REQUIRE_VMX();
	va = script_vm(&vma, LEGACY);
	run_script(va, prog, NOPS(prog));
	count = guest_pit_count(va);
	la = vm_state_save(vma, &a);
	t_save = now_ns();
	ASSERT_LT(0, la) TH_LOG("HVX_GET_VM_STATE: %s", strerror(-la));
	pa = find_record(a, la, HVX_STATE_PIT);
	ASSERT_NE(NULL, pa);
	ASSERT_EQ(sizeof(*pa), pa->hdr.size);
	ASSERT_EQ(1, pa->hdr.version);
	ASSERT_EQ(65535, pa->ch[0].count);
	ASSERT_EQ(0, pa->ch[0].mode);
	ASSERT_EQ(3, pa->ch[0].rw);
	ASSERT_EQ(HVX_PIT_LOADED | HVX_PIT_ARMED | HVX_PIT_GATE,
		  pa->ch[0].flags);
	ASSERT_GT(pa->ch[0].elapsed_ns, 0);
	/* The guest's latched count was read before the save. */
	ASSERT_LE(65535 - pa->ch[0].elapsed_ns * PIT_HZ / 1000000000 - 1,
		  (uint64_t)count) TH_LOG("count %u elapsed %llu", count,
			       (unsigned long long)pa->ch[0].elapsed_ns);
	ASSERT_EQ(1, pa->port61);
	ASSERT_EQ(HVX_PIT_GATE, pa->ch[2].flags & HVX_PIT_GATE);

	vmb = fresh_vm(LEGACY);
	ASSERT_EQ(0, vm_state_restore(vmb, a, la));
	lb = vm_state_save(vmb, &b);
	e2 = now_ns() - t_save;
	ASSERT_EQ(la, lb);
	pb = find_record(b, lb, HVX_STATE_PIT);
	ASSERT_NE(NULL, pb);
	e1 = pb->ch[0].elapsed_ns - pa->ch[0].elapsed_ns;
	ASSERT_GE(pb->ch[0].elapsed_ns, pa->ch[0].elapsed_ns);
	ASSERT_LE(e1, e2) TH_LOG("phase moved %llu ns in %llu ns",
				 (unsigned long long)e1, (unsigned long long)e2);
	cmp = *pb;
	for (int i = 0; i < 3; i++)
		cmp.ch[i].elapsed_ns = pa->ch[i].elapsed_ns;
	ASSERT_EQ(0, memcmp(&cmp, pa, sizeof(cmp))) TH_LOG("fields differ");

	/* A guest in the new VM reads the count continuing from there. */
	vb = vcpu_create(vmb, 0);
	vcpu_setup_long(vb, guest_script, 0);
	ASSERT_EQ(1, vcpu_run_sync(vb));
	free(b);
	lb = vm_state_save(vmb, &b);
	pb = find_record(b, lb, HVX_STATE_PIT);
	e1 = pb->ch[0].elapsed_ns;
	count = guest_pit_count(vb);
	free(b);
	lb = vm_state_save(vmb, &b);
	pb = find_record(b, lb, HVX_STATE_PIT);
	e2 = pb->ch[0].elapsed_ns;
	/* Mode 0 counts down from 65535 and wraps at 0 (modulo 65536). */
	hi = (65535 + 65536 * 64 - e1 * PIT_HZ / 1000000000 + 1) % 65536;
	lo = (65535 + 65536 * 64 - e2 * PIT_HZ / 1000000000 - 1) % 65536;
	ASSERT_TRUE(lo <= hi ? count >= lo && count <= hi :
			       count >= lo || count <= hi)
		TH_LOG("count %u not in [%llu, %llu] (modulo 65536)", count,
		       (unsigned long long)lo, (unsigned long long)hi);
	free(a);
	free(b);
	vm_free(vma);
	vm_free(vmb);
}

/* RTC with its alarm armed (AIE) and CMOS RAM written by the guest. */
TEST(rtc_alarm_armed)
{
	struct vs_op prog[] = {
		OUTB(0x70, 0x01), OUTB(0x71, 0x30),	/* alarm second */
		OUTB(0x70, 0x03), OUTB(0x71, 0x45),	/* alarm minute */
		OUTB(0x70, 0x05), OUTB(0x71, 0xc0),	/* any hour */
		OUTB(0x70, 0x0b), OUTB(0x71, 0x22),	/* 24h, AIE */
		OUTB(0x70, 0x40), OUTB(0x71, 0x5a),	/* RAM */
		OUTB(0x70, 0x0c),			/* index C */
	};
	struct vs_op check[] = {
		OUTB(0x70, 0x01), INB(0x71), OUTB(0x70, 0x0b), INB(0x71),
		OUTB(0x70, 0x40), INB(0x71),
	};
	struct hvx_state_rtc *ra, *rb;
	void *a = NULL, *b = NULL;
	struct vcpu *va, *vb;
	struct vm *vma, *vmb;
	ssize_t la, lb;

	REQUIRE_VMX();
	va = script_vm(&vma, LEGACY);
	run_script(va, prog, NOPS(prog));
	la = vm_state_save(vma, &a);
	ASSERT_LT(0, la);
	ra = find_record(a, la, HVX_STATE_RTC);
	ASSERT_NE(NULL, ra);
	ASSERT_EQ(0x30, ra->cmos[1]);
	ASSERT_EQ(0x45, ra->cmos[3]);
	ASSERT_EQ(0xc0, ra->cmos[5]);
	ASSERT_EQ(0x22, ra->cmos[0x0b]);
	ASSERT_EQ(0x5a, ra->cmos[0x40]);
	ASSERT_EQ(0x0c, ra->index);
	ASSERT_EQ(0, ra->flags & HVX_RTC_NMI_MASKED);

	vmb = fresh_vm(LEGACY);
	ASSERT_EQ(0, vm_state_restore(vmb, a, la));
	lb = vm_state_save(vmb, &b);
	ASSERT_EQ(la, lb);
	rb = find_record(b, lb, HVX_STATE_RTC);
	ASSERT_EQ(ra->offset, rb->offset);
	ASSERT_EQ(ra->frozen, rb->frozen);
	ASSERT_EQ(ra->last_update, rb->last_update);
	ASSERT_GE(rb->period_age_ns, ra->period_age_ns);
	untime(a, la);
	untime(b, lb);
	ASSERT_EQ(0, memcmp(ra, rb, sizeof(*ra))) TH_LOG("fields differ");

	vb = vcpu_create(vmb, 0);
	vcpu_setup_long(vb, guest_script, 0);
	ASSERT_EQ(1, vcpu_run_sync(vb));
	run_script(vb, check, NOPS(check));
	ASSERT_EQ(0x30, check[1].val);
	ASSERT_EQ(0x22, check[3].val);
	ASSERT_EQ(0x5a, check[5].val);
	free(a);
	free(b);
	vm_free(vma);
	vm_free(vmb);
}

/*
 * UART with "hello" in the console ring (not read yet) and "abc" in its
 * receive FIFO (sent in loopback): the record round-trips byte for byte,
 * the guest of the new VM reads "abc", its console fd gives "hello".
 */
TEST(uart_fifo_and_console)
{
	struct vs_op prog[] = {
		OUTB(0x3fa, 0x01), OUTB(0x3fb, 0x03), OUTB(0x3ff, 0x77),
		OUTB(0x3f8, 'h'), OUTB(0x3f8, 'e'), OUTB(0x3f8, 'l'),
		OUTB(0x3f8, 'l'), OUTB(0x3f8, 'o'),
		OUTB(0x3fc, 0x10),			/* loopback */
		OUTB(0x3f8, 'a'), OUTB(0x3f8, 'b'), OUTB(0x3f8, 'c'),
		OUTB(0x3f9, 0x01),			/* RX interrupts */
	};
	struct vs_op check[] = {
		INB(0x3fd), INB(0x3f8), INB(0x3f8), INB(0x3f8), INB(0x3fd),
		INB(0x3ff),
	};
	struct hvx_state_uart *ua, *ub;
	void *a = NULL, *b = NULL;
	struct vcpu *va, *vb;
	struct vm *vma, *vmb;
	ssize_t la, lb;
	char out[16] = "";
	int fd;

	REQUIRE_VMX();
	va = script_vm(&vma, LEGACY);
	run_script(va, prog, NOPS(prog));
	la = vm_state_save(vma, &a);
	ASSERT_LT(0, la);
	ua = find_record(a, la, HVX_STATE_UART);
	ASSERT_NE(NULL, ua);
	ASSERT_EQ((sizeof(*ua) + 5 + 7) & ~7ul, ua->hdr.size);
	ASSERT_EQ(5, ua->ring_count);
	ASSERT_EQ(0, memcmp(ua->ring, "hello", 5));
	ASSERT_EQ(3, ua->rx_count);
	ASSERT_EQ(0, memcmp(ua->rx, "abc", 3));
	ASSERT_EQ(0, ua->tx_count);
	ASSERT_EQ(0x01, ua->fcr);
	ASSERT_EQ(0x03, ua->lcr);
	ASSERT_EQ(0x10, ua->mcr);
	ASSERT_EQ(0x01, ua->ier);
	ASSERT_EQ(0x77, ua->scr);

	vmb = fresh_vm(LEGACY);
	ASSERT_EQ(0, vm_state_restore(vmb, a, la));
	lb = vm_state_save(vmb, &b);
	ASSERT_EQ(la, lb);
	ub = find_record(b, lb, HVX_STATE_UART);
	ASSERT_EQ(0, memcmp(ua, ub, ua->hdr.size)) TH_LOG("record differs");
	untime(a, la);
	untime(b, lb);
	ASSERT_EQ(0, memcmp(a, b, la)) TH_LOG("some record differs");

	vb = vcpu_create(vmb, 0);
	vcpu_setup_long(vb, guest_script, 0);
	ASSERT_EQ(1, vcpu_run_sync(vb));
	run_script(vb, check, NOPS(check));
	ASSERT_EQ(1, check[0].val & 1);		/* LSR.DR */
	ASSERT_EQ('a', check[1].val);
	ASSERT_EQ('b', check[2].val);
	ASSERT_EQ('c', check[3].val);
	ASSERT_EQ(0, check[4].val & 1);
	ASSERT_EQ(0x77, check[5].val);
	fd = ioctl(vmb->fd, HVX_GET_CONSOLE_FD, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, read(fd, out, sizeof(out)));
	ASSERT_EQ(0, memcmp(out, "hello", 5));
	close(fd);
	free(a);
	free(b);
	vm_free(vma);
	vm_free(vmb);
}

/*
 * A level-triggered IOAPIC input asserted and delivered, not yet EOIed
 * (Remote IRR): the IOAPIC record and the LAPIC's IRR and TMR bits
 * round-trip into a fresh VM.
 */
TEST(ioapic_level_pending)
{
	uint32_t devs = HVX_PLATFORM_PIC | HVX_PLATFORM_IOAPIC |
			HVX_PLATFORM_LAPIC;
	struct vs_op prog[] = {
		W32(APIC_BASE + 0xf0, 0x1ff),			/* SVR */
		W32(IOAPIC_BASE, 0x10 + 2 * 10),		/* pin 10 */
		W32(IOAPIC_BASE + 0x10, 0x8000 | 0x41),		/* level */
		W32(IOAPIC_BASE, 0x10 + 2 * 10 + 1),
		W32(IOAPIC_BASE + 0x10, 0),
	};
	struct hvx_irq_level line = { .gsi = 10, .level = 1 };
	struct hvx_state_ioapic *ia, *ib;
	struct vcpu_state *sa, *sb;
	void *a = NULL, *b = NULL;
	struct vcpu *va, *vb;
	struct vm *vma, *vmb;
	ssize_t la, lb;
	uint32_t irr, tmr;

	REQUIRE_VMX();
	sa = calloc(1, sizeof(*sa));
	sb = calloc(1, sizeof(*sb));
	va = script_vm(&vma, devs);
	run_script(va, prog, NOPS(prog));
	ASSERT_EQ(0, ioctl(vma->fd, HVX_IRQ_LINE, &line));
	la = vm_state_save(vma, &a);
	ASSERT_LT(0, la);
	ASSERT_EQ(0, vcpu_state_save(va, sa));
	ia = find_record(a, la, HVX_STATE_IOAPIC);
	ASSERT_NE(NULL, ia);
	ASSERT_EQ(1u << 10, ia->irr & (1u << 10));
	ASSERT_EQ(0x41 | 0x8000 | 0x4000, ia->redir[10]);	/* Remote IRR */
	memcpy(&irr, sa->lapic.regs + 0x200 + 0x20, 4);	/* IRR 0x40-0x5f */
	memcpy(&tmr, sa->lapic.regs + 0x180 + 0x20, 4);
	ASSERT_EQ(2, irr & 2);
	ASSERT_EQ(2, tmr & 2);

	vmb = fresh_vm(devs);
	vb = vcpu_create(vmb, 0);
	memcpy(vmb->ram, vma->ram, vma->ram_size);
	ASSERT_EQ(0, vm_state_restore(vmb, a, la));
	ASSERT_EQ(0, vcpu_state_restore(vb, sa));
	lb = vm_state_save(vmb, &b);
	ASSERT_EQ(la, lb);
	ib = find_record(b, lb, HVX_STATE_IOAPIC);
	ASSERT_EQ(0, memcmp(ia, ib, sizeof(*ia))) TH_LOG("IOAPIC differs");
	ASSERT_EQ(0, vcpu_state_save(vb, sb));
	ASSERT_EQ(0, memcmp(sa->lapic.regs, sb->lapic.regs,
			    sizeof(sa->lapic.regs))) TH_LOG("LAPIC differs");
	free(sa);
	free(sb);
	free(a);
	free(b);
	vm_free(vma);
	vm_free(vmb);
}

/*
 * The LAPIC timer running in periodic mode (4 s periods at divide 1):
 * HVX_SET_LAPIC in a fresh VM continues the current period (TMCCT neither
 * reset to TMICT nor further on than the time passed), and the guest,
 * restored with its whole vCPU state, reads a count that keeps falling.
 */
TEST(lapic_timer_running)
{
	uint32_t devs = HVX_PLATFORM_PIC | HVX_PLATFORM_IOAPIC |
			HVX_PLATFORM_LAPIC;
	struct vs_op prog[] = {
		W32(APIC_BASE + 0xf0, 0x1ff),		/* SVR: enabled */
		W32(APIC_BASE + 0x3e0, 0x0b),		/* divide by 1 */
		W32(APIC_BASE + 0x320, 0x20000 | 0xef),	/* periodic */
		W32(APIC_BASE + 0x380, 4000000000u),	/* TMICT */
		R32(APIC_BASE + 0x390),
	};
	struct vs_op check[] = { R32(APIC_BASE + 0x390), R32(APIC_BASE + 0x320) };
	struct vcpu_state *sa, *sb;
	uint32_t ca, cb, v;
	void *a = NULL;
	struct vcpu *va, *vb;
	struct vm *vma, *vmb;
	uint64_t t_save, dt;
	ssize_t la;

	REQUIRE_VMX();
	sa = calloc(1, sizeof(*sa));
	sb = calloc(1, sizeof(*sb));
	va = script_vm(&vma, devs);
	run_script(va, prog, NOPS(prog));
	ASSERT_NE(0, prog[4].val);
	la = vm_state_save(vma, &a);
	ASSERT_LT(0, la);
	ASSERT_EQ(0, vcpu_state_save(va, sa));
	t_save = now_ns();
	ASSERT_TRUE(sa->has_lapic);
	memcpy(&ca, sa->lapic.regs + 0x390, 4);
	memcpy(&v, sa->lapic.regs + 0x380, 4);
	ASSERT_EQ(4000000000u, v);
	memcpy(&v, sa->lapic.regs + 0x320, 4);
	ASSERT_EQ(0x200ef, v);
	memcpy(&v, sa->lapic.regs + 0x3e0, 4);
	ASSERT_EQ(0x0b, v);
	ASSERT_LT(0, ca);
	ASSERT_GE(prog[4].val, ca);

	vmb = fresh_vm(devs);
	vb = vcpu_create(vmb, 0);
	memcpy(vmb->ram, vma->ram, vma->ram_size);
	vm_free(vma);	/* the saved state is all that is left */
	ASSERT_EQ(0, vm_state_restore(vmb, a, la));
	ASSERT_EQ(0, vcpu_state_restore(vb, sa));
	ASSERT_EQ(0, vcpu_state_save(vb, sb));
	dt = now_ns() - t_save;
	memcpy(&cb, sb->lapic.regs + 0x390, 4);
	ASSERT_LE(cb, ca) TH_LOG("TMCCT %u after restore, %u saved", cb, ca);
	ASSERT_GE((uint64_t)cb + dt, ca) TH_LOG("TMCCT %u, saved %u, %llu ns later",
						cb, ca, (unsigned long long)dt);
	memcpy(sb->lapic.regs + 0x390, sa->lapic.regs + 0x390, 4);
	ASSERT_EQ(0, memcmp(sa->lapic.regs, sb->lapic.regs,
			    sizeof(sa->lapic.regs))) TH_LOG("LAPIC differs");
	ASSERT_EQ(0, memcmp(&sa->regs, &sb->regs, sizeof(sa->regs)));

	/* The guest continues after its GUEST_SYNC in the new VM. */
	run_script(vb, check, NOPS(check));
	ASSERT_LE(check[0].val, cb);
	ASSERT_NE(0, check[0].val);
	ASSERT_EQ(0x200ef, check[1].val);
	free(sa);
	free(sb);
	free(a);
	vm_free(vmb);
}

/* CPUID.(0DH, 2).EBX: the AVX component's offset in the XSAVE area. */
static uint32_t avx_offset(void)
{
	uint32_t a, b, c, d;

	cpuid(0xd, 2, &a, &b, &c, &d);
	return b;
}

/*
 * YMM registers a guest set: HVX_GET_XSAVE has them at their standard
 * offsets, XCR0 is 7, both round-trip exactly into a fresh VM, and the
 * guest restored there finds its registers intact.
 */
TEST(xsave_avx)
{
	struct vcpu_state *sa, *sb;
	struct vcpu *va, *vb;
	struct vm *vma, *vmb;
	uint8_t *area;
	uint64_t bv;
	uint32_t off;

	REQUIRE_VMX();
	sa = calloc(1, sizeof(*sa));
	sb = calloc(1, sizeof(*sb));
	va = vm_create_long(&vma, guest_avx, 5);
	if (vcpu_run_sync(va) == 0)
		SKIP(return, "the guest has no AVX (host without XSAVE/AVX)");
	ASSERT_EQ(0, vcpu_state_save(va, sa));
	ASSERT_EQ(1, sa->xcrs.nr_xcrs);
	ASSERT_EQ(0, sa->xcrs.xcrs[0].xcr);
	ASSERT_EQ(7, sa->xcrs.xcrs[0].value);
	area = (uint8_t *)sa->xsave.region;
	memcpy(&bv, area + 512, 8);
	ASSERT_EQ(4, bv & 4) TH_LOG("XSTATE_BV %#llx", (unsigned long long)bv);
	off = avx_offset();
	for (int r = 0; r < 16; r++)
		for (int i = 0; i < 16; i++) {
			ASSERT_EQ(vs_pattern(5, r, i), area[160 + r * 16 + i]);
			ASSERT_EQ(vs_pattern(5, r, 16 + i), area[off + r * 16 + i]);
		}

	vb = vm_create_long(&vmb, guest_avx, 9);
	memcpy(vmb->ram, vma->ram, vma->ram_size);
	ASSERT_EQ(0, vcpu_state_restore(vb, sa));
	ASSERT_EQ(0, vcpu_state_save(vb, sb));
	ASSERT_EQ(0, memcmp(&sa->xsave, &sb->xsave, sizeof(sa->xsave)));
	ASSERT_EQ(0, memcmp(&sa->xcrs, &sb->xcrs, sizeof(sa->xcrs)));
	ASSERT_EQ(0, memcmp(&sa->sregs, &sb->sregs, sizeof(sa->sregs)));
	ASSERT_EQ(2, vcpu_run_sync(vb)) TH_LOG("YMM bytes lost in the move");
	vcpu_run_done(vb);
	free(sa);
	free(sb);
	vm_free(vma);
	vm_free(vmb);
}

/* Bad XSAVE areas and XCRs are refused, with nothing changed. */
TEST(xsave_xcrs_bad_input)
{
	struct hvx_xsave *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));
	struct hvx_xcrs xcrs = { 0 }, cur;
	struct vcpu *vcpu;
	struct vm *vm;
	uint8_t *area = (uint8_t *)x->region;
	uint64_t v;

	REQUIRE_VMX();
	vm = vm_create();
	vcpu = vcpu_create(vm, 0);
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_XSAVE, x));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_XCRS, &cur));
	if (!cur.nr_xcrs)
		SKIP(goto out, "no XSAVE for guests on this host");
	ASSERT_EQ(1, cur.xcrs[0].value);	/* x87 at reset */
	v = 1ull << 62;				/* not offered */
	memcpy(area + 512, &v, 8);
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XSAVE, x));
	v = 3;
	memcpy(area + 512, &v, 8);
	memcpy(area + 520, &v, 8);		/* XCOMP_BV */
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XSAVE, x));
	v = 0;
	memcpy(area + 520, &v, 8);
	area[560] = 1;				/* header reserved */
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XSAVE, x));
	area[560] = 0;
	area[24 + 3] = 0x80;			/* MXCSR bit 31 */
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XSAVE, x));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_XSAVE, y));
	area[24 + 3] = 0;
	memcpy(area + 512, &v, 8);		/* back to what it was */
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_XSAVE, x));
	ASSERT_EQ(0, memcmp(x, y, sizeof(*x))) TH_LOG("changed on error");

	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].value = 6;			/* no x87 */
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XCRS, &xcrs));
	xcrs.xcrs[0].value = 5;			/* AVX without SSE */
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XCRS, &xcrs));
	xcrs.xcrs[0].value = 1ull << 62 | 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XCRS, &xcrs));
	xcrs.xcrs[0].value = 3;
	xcrs.xcrs[0].xcr = 1;			/* no XCR1 */
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XCRS, &xcrs));
	xcrs.xcrs[0].xcr = 0;
	xcrs.nr_xcrs = 2;
	xcrs.xcrs[1] = xcrs.xcrs[0];		/* twice */
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XCRS, &xcrs));
	xcrs.nr_xcrs = HVX_MAX_XCRS + 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XCRS, &xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XCRS, &xcrs));
	xcrs.flags = 0;
	xcrs.reserved[15] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XCRS, &xcrs));
	xcrs.reserved[15] = 0;
	xcrs.xcrs[0].reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vcpu->fd, HVX_SET_XCRS, &xcrs));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_XCRS, &xcrs));
	ASSERT_EQ(0, memcmp(&xcrs, &cur, sizeof(cur)));
	xcrs.xcrs[0].value = 3;
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_SET_XCRS, &xcrs));
	ASSERT_EQ(0, ioctl(vcpu->fd, HVX_GET_XCRS, &cur));
	ASSERT_EQ(3, cur.xcrs[0].value);
out:
	free(x);
	free(y);
	vm_free(vm);
}

/* Debug registers: exact round trip into a fresh VM, reserved bits refused. */
TEST(debugregs)
{
	struct hvx_debugregs d = {
		.db = { 0x401000, 0xffffffff81000000ull, 0x7ffffffff000ull, 8 },
		.dr6 = 0xffff0ff1,		/* B0 */
		.dr7 = 0x000d0401,		/* L0, write, 4 bytes */
	}, g, bad;
	struct vcpu *va, *vb;
	struct vm *vma, *vmb;

	REQUIRE_VMX();
	vma = vm_create();
	va = vcpu_create(vma, 0);
	ASSERT_EQ(0, ioctl(va->fd, HVX_GET_DEBUGREGS, &g));
	ASSERT_EQ(0xffff0ff0, g.dr6);
	ASSERT_EQ(0x400, g.dr7);
	ASSERT_EQ(0, ioctl(va->fd, HVX_SET_DEBUGREGS, &d));
	ASSERT_EQ(0, ioctl(va->fd, HVX_GET_DEBUGREGS, &g));
	ASSERT_EQ(0, memcmp(&d, &g, sizeof(d)));

	bad = d;
	bad.dr6 |= 1ull << 32;
	ASSERT_ERRNO(EINVAL, ioctl(va->fd, HVX_SET_DEBUGREGS, &bad));
	bad = d;
	bad.dr6 |= 1u << 12;
	ASSERT_ERRNO(EINVAL, ioctl(va->fd, HVX_SET_DEBUGREGS, &bad));
	for (int bit = 11; bit <= 15; bit++) {
		if (bit == 13)
			continue;		/* GD */
		bad = d;
		bad.dr7 |= 1u << bit;
		ASSERT_ERRNO_MSG(EINVAL, ioctl(va->fd, HVX_SET_DEBUGREGS, &bad),
				 " (DR7 bit %d)", bit);
	}
	bad = d;
	bad.dr7 |= 1ull << 40;
	ASSERT_ERRNO(EINVAL, ioctl(va->fd, HVX_SET_DEBUGREGS, &bad));
	bad = d;
	bad.db[2] = 0x0000800000000000ull;	/* not canonical */
	ASSERT_ERRNO(EINVAL, ioctl(va->fd, HVX_SET_DEBUGREGS, &bad));
	bad = d;
	bad.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(va->fd, HVX_SET_DEBUGREGS, &bad));
	bad = d;
	bad.reserved[8] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(va->fd, HVX_SET_DEBUGREGS, &bad));
	ASSERT_EQ(0, ioctl(va->fd, HVX_GET_DEBUGREGS, &g));
	ASSERT_EQ(0, memcmp(&d, &g, sizeof(d))) TH_LOG("changed on error");

	vmb = vm_create();
	vb = vcpu_create(vmb, 0);
	ASSERT_EQ(0, ioctl(vb->fd, HVX_SET_DEBUGREGS, &g));
	ASSERT_EQ(0, ioctl(vb->fd, HVX_GET_DEBUGREGS, &bad));
	ASSERT_EQ(0, memcmp(&d, &bad, sizeof(d)));
	vm_free(vma);
	vm_free(vmb);
}

/*
 * IA32_TSC saved in one VM and set in another: the guest TSC continues
 * from the saved value (frozen for the pause), whatever the offset of the
 * new VM was.
 */
TEST(tsc_value_moves)
{
	struct hvx_msrs m = { .nmsrs = 1 }, n = { .nmsrs = 1 };
	struct hvx_tsc_offset off = { .offset = 1ll << 40 };
	struct vcpu *va, *vb;
	struct vm *vma, *vmb;
	uint64_t t0, t1, dt;

	REQUIRE_VMX();
	vma = vm_create();
	va = vcpu_create(vma, 0);
	ASSERT_EQ(0, ioctl(vma->fd, HVX_SET_TSC_OFFSET, &off));
	m.entries[0].index = 0x10;
	t0 = __builtin_ia32_rdtsc();
	ASSERT_EQ(1, ioctl(va->fd, HVX_GET_MSRS, &m));
	vmb = vm_create();
	vb = vcpu_create(vmb, 0);
	ASSERT_EQ(1, ioctl(vb->fd, HVX_SET_MSRS, &m));
	n.entries[0].index = 0x10;
	ASSERT_EQ(1, ioctl(vb->fd, HVX_GET_MSRS, &n));
	t1 = __builtin_ia32_rdtsc();
	dt = t1 - t0;
	ASSERT_GE(n.entries[0].data, m.entries[0].data);
	ASSERT_LE(n.entries[0].data - m.entries[0].data, dt)
		TH_LOG("guest TSC moved %llu, host %llu",
		       (unsigned long long)(n.entries[0].data - m.entries[0].data),
		       (unsigned long long)dt);
	vm_free(vma);
	vm_free(vmb);
}

/* A copy of @len bytes of @buf with 64 zero bytes after them. */
static void *dup_buf(const void *buf, size_t len)
{
	void *p = malloc(len + 64);

	LIB_ASSERT(p, "malloc");
	memset(p, 0, len + 64);
	memcpy(p, buf, len);
	return p;
}

/*
 * Corrupted and malformed buffers: each is refused with EINVAL, and the
 * target VM's devices are exactly as before (also the records before the
 * bad one are not applied).
 */
TEST(corrupt_record_refused)
{
	struct vs_op prog[] = {
		OUTB(0x21, 0x55), OUTB(0x3ff, 0x42), OUTB(0x3f8, 'x'),
		OUTB(0x43, 0x34), OUTB(0x40, 0x00), OUTB(0x40, 0x10),
	};
	void *a = NULL, *before = NULL, *after = NULL, *p;
	struct hvx_state_header *h;
	struct hvx_state_pic *pic;
	struct hvx_state_pit *pit;
	struct hvx_state_uart *uart;
	struct vcpu *va;
	struct vm *vma, *vmb;
	ssize_t la, lbefore, lafter;
	struct hvx_vm_state arg;
	int cases = 0;

	REQUIRE_VMX();
	va = script_vm(&vma, LEGACY);
	run_script(va, prog, NOPS(prog));
	la = vm_state_save(vma, &a);
	ASSERT_LT(0, la);
	vmb = fresh_vm(LEGACY);
	lbefore = vm_state_save(vmb, &before);
	ASSERT_EQ(la, lbefore + 8);	/* the UART's ring has 'x' */
	untime(before, lbefore);

#define BAD(desc, len, ...) do {					\
	p = dup_buf(a, la);						\
	pic = find_record(p, la, HVX_STATE_PIC);			\
	pit = find_record(p, la, HVX_STATE_PIT);			\
	uart = find_record(p, la, HVX_STATE_UART);			\
	h = p;								\
	pic->chip[0].imr = 0x0f;	/* must not reach the VM */	\
	__VA_ARGS__;							\
	ASSERT_EQ(-EINVAL, vm_state_restore(vmb, p, (len)))		\
		TH_LOG("%s accepted", desc);				\
	free(p);							\
	cases++;							\
} while (0)

	BAD("unknown type", la, pit->hdr.type = 99);
	BAD("version 2", la, pit->hdr.version = 2);
	BAD("version 0", la, uart->hdr.version = 0);
	BAD("instance 1", la, pit->hdr.instance = 1);
	BAD("header reserved", la, pit->hdr.reserved = 1);
	BAD("size not a multiple of 8", la, pit->hdr.size += 4);
	BAD("size below the header", la, pit->hdr.size = 8);
	BAD("size past the end", la, uart->hdr.size += 64);
	BAD("truncated buffer", la - 8, (void)0);
	BAD("truncated header", la + 8, (void)0);
	BAD("PIC given twice", la + sizeof(*pic),
	    memcpy((uint8_t *)p + la, pic, sizeof(*pic)));
	BAD("PIT count 0", la, pit->ch[0].count = 0);
	BAD("PIT mode 6", la, pit->ch[1].mode = 6);
	BAD("PIT gate 0 low", la, pit->ch[0].flags &= ~HVX_PIT_GATE);
	BAD("PIT unknown flag", la, pit->ch[2].flags |= 1u << 12);
	BAD("PIT reserved", la, pit->reserved[6] = 1);
	BAD("PIC vector base", la, pic->chip[1].vector_base = 0x29);
	BAD("PIC ELCR of IRQ 0", la, pic->chip[0].elcr = 1);
	BAD("UART rx_count 17", la, uart->rx_count = 17);
	BAD("UART ring_count vs size", la, uart->ring_count = 9);
	BAD("UART IER bit 4", la, uart->ier = 0x10);
	BAD("UART padding", la, ((uint8_t *)uart->ring)[uart->ring_count] = 1);
	BAD("header zeroed", la, memset(h, 0, sizeof(*h)));
	(void)h;

	lafter = vm_state_save(vmb, &after);
	ASSERT_EQ(lbefore, lafter);
	untime(after, lafter);
	ASSERT_EQ(0, memcmp(before, after, lbefore)) TH_LOG("changed on error");
	ASSERT_LE(20, cases);

	/* A record for a device the VM lacks. */
	free(before);
	vm_free(vmb);
	vmb = fresh_vm(HVX_PLATFORM_PIC);
	ASSERT_EQ(-EINVAL, vm_state_restore(vmb, a, la));
	pic = find_record(a, la, HVX_STATE_PIC);
	ASSERT_EQ(0, vm_state_restore(vmb, pic, sizeof(*pic)));
	/* Flags and an oversized buffer; an empty one changes nothing. */
	arg = (struct hvx_vm_state){ .addr = (uintptr_t)a, .size = la, .flags = 1 };
	ASSERT_ERRNO(EINVAL, ioctl(vmb->fd, HVX_SET_VM_STATE, &arg));
	ASSERT_ERRNO(EINVAL, ioctl(vmb->fd, HVX_GET_VM_STATE, &arg));
	arg = (struct hvx_vm_state){ .addr = (uintptr_t)a,
				     .size = HVX_VM_STATE_MAX_SIZE + 8 };
	ASSERT_ERRNO(EINVAL, ioctl(vmb->fd, HVX_SET_VM_STATE, &arg));
	arg = (struct hvx_vm_state){ .addr = (uintptr_t)a, .size = 8 };
	ASSERT_ERRNO(ENOSPC, ioctl(vmb->fd, HVX_GET_VM_STATE, &arg));
	arg = (struct hvx_vm_state){ .addr = 8, .size = 4096 };
	ASSERT_ERRNO(EFAULT, ioctl(vmb->fd, HVX_GET_VM_STATE, &arg));
	ASSERT_ERRNO(EFAULT, ioctl(vmb->fd, HVX_SET_VM_STATE, &arg));
	arg = (struct hvx_vm_state){ 0 };
	ASSERT_EQ(0, ioctl(vmb->fd, HVX_SET_VM_STATE, &arg));
	vm_free(vmb);
	/* No platform: nothing to save or restore. */
	vmb = vm_create();
	ASSERT_ERRNO(ENODEV, ioctl(vmb->fd, HVX_GET_VM_STATE, &arg));
	free(after);
	free(a);
	vm_free(vma);
	vm_free(vmb);
}

static void on_usr1(int sig)
{
}

static void *run_thread(void *arg)
{
	struct vcpu *vcpu = arg;

	return (void *)(long)__vcpu_run(vcpu);
}

/* HVX_SET_VM_STATE while a vCPU runs: EBUSY; once it stopped: done. */
TEST(set_while_running_busy)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	uint64_t *counter;
	struct vcpu *vcpu;
	pthread_t thread;
	struct vm *vm;
	void *buf = NULL, *ret;
	ssize_t len;

	REQUIRE_VMX();
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	vm = fresh_vm(LEGACY);
	vcpu = vcpu_create(vm, 0);
	len = vm_state_save(vm, &buf);
	ASSERT_LT(0, len);
	counter = vm_gpa2hva(vm, GPA_BLOB_DATA, 8);
	*counter = 0;
	vcpu_setup_long(vcpu, guest_spin, GPA_BLOB_DATA);
	ASSERT_EQ(0, pthread_create(&thread, NULL, run_thread, vcpu));
	while (!__atomic_load_n(counter, __ATOMIC_RELAXED))
		msleep(1);
	ASSERT_EQ(-EBUSY, vm_state_restore(vm, buf, len));
	pthread_kill(thread, SIGUSR1);
	pthread_join(thread, &ret);
	ASSERT_EQ(-1, (long)ret);
	ASSERT_EQ(0, vm_state_restore(vm, buf, len));
	free(buf);
	vm_free(vm);
}

TEST_HARNESS_MAIN
