// SPDX-License-Identifier: GPL-2.0
/*
 * sleep.c - ACPI S3 (suspend to RAM) of the PC that tables.c describes:
 * the PM1a event block (status and enable) and control register, the ACPI
 * 5 sleep control and status registers, and the firmware's part of a
 * resume.
 *
 * A write of SLP_EN with the \_S3 sleep type (ACPI_S3_SLP_TYP) to PM1a_CNT
 * (or to the sleep control register) puts the VM to sleep: every vCPU
 * thread stops calling HVX_RUN (the others are kicked out of it), guest
 * memory and the in-kernel devices keep their state. The main thread then
 * looks, every SLEEP_POLL_MS, for a wake event:
 *  - the RTC alarm: register C's AF with B's AIE (the alarm interrupt on
 *    IRQ 8), read with HVX_GET_CMOS, which does not clear C; it wakes only
 *    if the OS enabled it with RTC_EN in PM1_EN, and sets RTC_STS (ACPI 6.3
 *    4.8.3.1.1, Table 4-16);
 *  - a key on the console (sleep_console_key()).
 * The wake sets WAK_STS and resumes as firmware would (ACPI 6.3 5.2.10,
 * Table 5-38, and 16.3): vCPU 0 starts at the FACS's
 * X_Firmware_Waking_Vector in 32-bit protected mode (flat segments,
 * paging and interrupts off) if the OS set it, else at
 * Firmware_Waking_Vector in real mode, CS:IP = (vector >> 4):(vector &
 * 0xf); the other vCPUs wait for a SIPI (HVX_SET_MP_STATE).
 *
 * Why here and not in the kernel: the registers are written twice per
 * sleep, never on a hot path, and a resume rewrites whole vCPUs (segments,
 * control registers, multiprocessor state) with the same ioctls that set
 * up the boot, which only the VMM process holds together. The in-kernel
 * LAPIC, IOAPIC, PIC, PIT and RTC keep their state (hvx has no ioctl that
 * resets them); an OS programs them again on resume, as it must after
 * firmware.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "hvx-run.h"

#define PM1_TMR_STS	0x0001
#define PM1_RTC		0x0400	/* RTC_STS / RTC_EN */
#define PM1_WAK_STS	0x8000
#define PM1_CNT_SCI_EN	0x0001
#define PM1_CNT_SLP_EN	0x2000
#define SLEEP_CNT_SLP_EN 0x20	/* ACPI 6.3 4.8.3.7 */
#define SLEEP_STS_WAK	0x80

#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_AIE		0x20
#define RTC_AF		0x20

#define FACS_WAKING	12	/* Firmware_Waking_Vector, 32 bits */
#define FACS_X_WAKING	24	/* X_Firmware_Waking_Vector, 64 bits */

static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cond = PTHREAD_COND_INITIALIZER;
static bool asleep;
static unsigned int wakes;	/* resumes so far: a vCPU resets once per */
static uint16_t pm1_sts, pm1_en;

/* The VM goes to sleep (a vCPU thread, from its I/O exit). */
static void sleep_enter(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t one = 1;
	ssize_t n;

	pthread_mutex_lock(&sleep_lock);
	if (!asleep) {
		asleep = true;
		info("the guest suspended to RAM (S3)");
	}
	pthread_mutex_unlock(&sleep_lock);
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *o = &vm->vcpus[i];

		if (o == v || !o->started)
			continue;
		o->run->immediate_exit = 1;
		pthread_kill((pthread_t)o->thread, KICK_SIGNAL);
	}
	n = write(vm->sleep_fd, &one, sizeof(one));	/* the main thread polls */
	(void)n;
}

bool sleep_io(struct vcpu *v, uint16_t port, bool out, uint8_t *data,
	      unsigned int size)
{
	uint32_t val = 0;
	unsigned int off;

	if (out)
		memcpy(&val, data, size);
	switch (port) {
	case PORT_ACPI_PM1_EVT ... PORT_ACPI_PM1_EVT + 3:
		/*
		 * Status (bytes 0-1): WAK_STS and RTC_STS, write 1 to clear;
		 * enable (bytes 2-3): kept as written, ACPICA reads it back.
		 */
		off = port - PORT_ACPI_PM1_EVT;
		pthread_mutex_lock(&sleep_lock);
		for (unsigned int i = 0; i < size && off + i < 4; i++) {
			unsigned int b = off + i, sh = 8 * (b & 1);
			uint16_t *reg = b < 2 ? &pm1_sts : &pm1_en;

			if (!out)
				data[i] = (uint8_t)(*reg >> sh);
			else if (b < 2)
				pm1_sts &= (uint16_t)~((uint16_t)data[i] << sh);
			else
				pm1_en = (uint16_t)((pm1_en & ~(0xff << sh)) | data[i] << sh);
		}
		pthread_mutex_unlock(&sleep_lock);
		return true;
	case PORT_ACPI_PM1_CNT:
	case PORT_ACPI_PM1_CNT + 1:
		/* SCI_EN reads 1 (always in ACPI mode), the rest 0. */
		if (!out) {
			memset(data, 0, size);
			if (port == PORT_ACPI_PM1_CNT)
				data[0] = PM1_CNT_SCI_EN;
			return true;
		}
		if (port != PORT_ACPI_PM1_CNT || size < 2 || !(val & PM1_CNT_SLP_EN))
			return true;
		if (((val >> 10) & 7) == ACPI_S5_SLP_TYP)
			vm_stop(v->vm, STOP_POWEROFF, 0, "the guest powered off");
		else if (((val >> 10) & 7) == ACPI_S3_SLP_TYP && v->vm->facs)
			sleep_enter(v);
		return true;
	case PORT_ACPI_SLEEP:
		if (!out || !(val & SLEEP_CNT_SLP_EN))
			return true;
		if (((val >> 2) & 7) == ACPI_S5_SLP_TYP)
			vm_stop(v->vm, STOP_POWEROFF, 0, "the guest powered off");
		else if (((val >> 2) & 7) == ACPI_S3_SLP_TYP && v->vm->facs)
			sleep_enter(v);
		return true;
	case PORT_ACPI_SLEEP_STS:
		/* WAK_STS mirrors PM1's; a write of 1 clears both. */
		pthread_mutex_lock(&sleep_lock);
		if (!out)
			data[0] = pm1_sts & PM1_WAK_STS ? SLEEP_STS_WAK : 0;
		else if (val & SLEEP_STS_WAK)
			pm1_sts &= (uint16_t)~PM1_WAK_STS;
		pthread_mutex_unlock(&sleep_lock);
		return true;
	}
	return false;
}

/*
 * A real-mode segment. CS gets type 3 (read/write data, accessed), the
 * access rights a real-mode far jump leaves (and which unrestricted guest
 * allows for CS, SDM Vol. 3C 27.3.1.2): with type 11 the vector's low
 * selector bits would be an RPL, which some VM-entry checkers (Bochs 2.7)
 * compare with the DPL.
 */
static void seg_real(struct hvx_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = (uint64_t)sel << 4;
	s->limit = 0xffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
}

/*
 * vCPU 0's state at the waking vector: real mode, or 32-bit protected
 * mode for a nonzero X vector (ACPI 6.3 Table 5-38). The APIC base and
 * mode stay as they are.
 */
static void resume_bsp(struct vcpu *v)
{
	const uint8_t *facs = gpa_ptr(v->vm, v->vm->facs, 64);
	uint32_t vector;
	uint64_t xvector;
	struct hvx_vcpu_events ev;
	struct hvx_regs r;
	struct hvx_sregs s;

	memcpy(&vector, facs + FACS_WAKING, 4);
	memcpy(&xvector, facs + FACS_X_WAKING, 8);
	if (ioctl(v->fd, HVX_GET_SREGS, &s))
		die("resume: HVX_GET_SREGS: %s", strerror(errno));
	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	if (xvector) {
		struct boot_state bs = { .mode = 32, .gdt = 0 };

		BOOT_ENTRY_SREGS(s, &bs);
		r.rip = xvector;
	} else {
		seg_real(&s.cs, (uint16_t)(vector >> 4), 0x3);
		seg_real(&s.ds, 0, 0x3);
		s.es = s.fs = s.gs = s.ss = s.ds;
		s.cr0 = 0x10;			/* ET: caches on, as firmware leaves them */
		s.cr4 = 0;
		s.efer = 0;
		s.gdt.base = 0;
		s.gdt.limit = 0xffff;
		s.idt.base = 0;
		s.idt.limit = 0x3ff;		/* the real-mode IVT */
		r.rip = vector & 0xf;
	}
	memset(&s.tr, 0, sizeof(s.tr));
	s.tr.limit = 0xffff;
	s.tr.type = 0xb;
	s.tr.present = 1;
	memset(&s.ldt, 0, sizeof(s.ldt));
	s.ldt.limit = 0xffff;
	s.ldt.type = 0x2;
	s.ldt.present = 1;
	s.cr2 = 0;
	s.cr3 = 0;
	s.cr8 = 0;
	if (ioctl(v->fd, HVX_SET_SREGS, &s))
		die("resume: HVX_SET_SREGS: %s", strerror(errno));
	if (ioctl(v->fd, HVX_SET_REGS, &r))
		die("resume: HVX_SET_REGS: %s", strerror(errno));
	memset(&ev, 0, sizeof(ev));	/* nothing from before the sleep */
	if (ioctl(v->fd, HVX_SET_VCPU_EVENTS, &ev))
		die("resume: HVX_SET_VCPU_EVENTS: %s", strerror(errno));
}

void sleep_wait(struct vcpu *v)
{
	struct hvx_mp_state wait = { .state = HVX_MP_WAIT_SIPI };

	pthread_mutex_lock(&sleep_lock);
	while (asleep && !vm_stopping(v->vm) && !vm_pausing())
		pthread_cond_wait(&sleep_cond, &sleep_lock);
	if (v->wakes != wakes && !vm_stopping(v->vm)) {
		v->wakes = wakes;
		/*
		 * Finish the exit the vCPU left with first (the PM1 write's
		 * OUT): HVX_RUN completes it, then returns for immediate_exit,
		 * so that nothing of the old instruction is left behind the
		 * state set below. A read-modify-write's write exit is dropped.
		 */
		v->run->immediate_exit = 1;
		for (int i = 0; i < 4 && !ioctl(v->fd, HVX_RUN, 0); i++)
			;
		v->run->immediate_exit = 0;
		if (v->id == 0)
			resume_bsp(v);
		else if (ioctl(v->fd, HVX_SET_MP_STATE, &wait))
			die("resume: vCPU %d: HVX_SET_MP_STATE: %s", v->id, strerror(errno));
	}
	pthread_mutex_unlock(&sleep_lock);
}

/* Wake the VM: WAK_STS (and @sts), then the vCPUs reset themselves. */
static void sleep_wake(uint16_t sts, const char *why)
{
	pthread_mutex_lock(&sleep_lock);
	if (asleep) {
		info("the guest woke up (%s)", why);
		pm1_sts |= PM1_WAK_STS | sts;
		asleep = false;
		wakes++;
		pthread_cond_broadcast(&sleep_cond);
	}
	pthread_mutex_unlock(&sleep_lock);
}

bool sleep_asleep(void)
{
	bool a;

	pthread_mutex_lock(&sleep_lock);
	a = asleep;
	pthread_mutex_unlock(&sleep_lock);
	return a;
}

void sleep_poll(struct vm *vm)
{
	struct hvx_cmos c = { .first = RTC_REG_B, .count = 2 };
	uint16_t en;

	if (!sleep_asleep() || !vm->platform)
		return;
	pthread_mutex_lock(&sleep_lock);
	en = pm1_en;
	pthread_mutex_unlock(&sleep_lock);
	if (!(en & PM1_RTC) || ioctl(vm->fd, HVX_GET_CMOS, &c))
		return;
	if ((c.data[RTC_REG_B] & RTC_AIE) && (c.data[RTC_REG_C] & RTC_AF))
		sleep_wake(PM1_RTC, "RTC alarm");
}

void sleep_console_key(void)
{
	sleep_wake(0, "a key on the console");
}

void sleep_get_pm1(uint16_t *sts, uint16_t *en)
{
	pthread_mutex_lock(&sleep_lock);
	*sts = pm1_sts;
	*en = pm1_en;
	pthread_mutex_unlock(&sleep_lock);
}

void sleep_set_pm1(uint16_t sts, uint16_t en)
{
	pthread_mutex_lock(&sleep_lock);
	pm1_sts = sts;
	pm1_en = en;
	pthread_mutex_unlock(&sleep_lock);
}

void sleep_stopping(void)
{
	pthread_mutex_lock(&sleep_lock);
	pthread_cond_broadcast(&sleep_cond);
	pthread_mutex_unlock(&sleep_lock);
}
