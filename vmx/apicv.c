// SPDX-License-Identifier: GPL-2.0
/*
 * apicv.c - APIC-register virtualization and virtual-interrupt delivery
 * (SDM Vol. 3C chapter 30, "APIC Virtualization and Virtual Interrupts";
 * chapter 29 in older editions, whose VMCS chapter is 24).
 *
 * vmx/ owns the VMCS side: the secondary controls, the switch between
 * "virtualize APIC accesses" (xAPIC mode) and "virtualize x2APIC mode"
 * (x2APIC mode; the two are exclusive, SDM Vol. 3C 27.2.1.1), a per-vCPU
 * MSR bitmap that lets x2APIC register reads through, the EOI-exit
 * bitmap and guest interrupt status fields, and the two exits these
 * assists add: EOI-induced (reason 45) and APIC-write (reason 56). The
 * local APIC model in kmod/dev/lapic.c owns the registers and keeps the
 * virtual-APIC page in step with them (struct hvx_vmx_apic_ops.sync).
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/dmi.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <asm/apicdef.h>

#include "vmx.h"

static int vid_vectoring_quirk = -1;
module_param(vid_vectoring_quirk, int, 0444);
MODULE_PARM_DESC(vid_vectoring_quirk,
		 "Correct Bochs's IDT-vectoring information after an exit during virtual-interrupt delivery: 1 on, 0 off, -1 when the firmware says Bochs (default: -1)");

static bool vectoring_quirk;
static bool bochs_firmware;

/**
 * hvx_vmx_apicv_init - recognize Bochs and its virtual-interrupt bugs
 *
 * Bochs (2.7; rombios32's SMBIOS names it in the BIOS vendor and version
 * strings, with no system vendor) has two bugs in virtual-interrupt
 * delivery (SDM Vol. 3C 30.2.1), both in its VMX_Deliver_Virtual_Interrupt:
 *
 *  - it does not record the interrupt as the event being delivered, so
 *    when the delivery causes a VM exit the IDT-vectoring information
 *    names whatever event the guest took before it, an exception or an
 *    INT3 as often as an interrupt. hvx_vmx_apicv_vectoring() corrects
 *    the reports a real CPU cannot make in any case; with the
 *    vid_vectoring_quirk it also corrects the ones only Bochs makes.
 *  - it delivers a pending virtual interrupt whenever a host interrupt
 *    arrives, even while the guest has RFLAGS.IF clear (its interrupt
 *    acknowledge tests whether the virtual interrupt is pending, not
 *    whether it is unmasked; with external-interrupt exiting a host
 *    interrupt gets there at any IF). A Linux guest that EOIs one
 *    interrupt in its handler with the next one requested takes the
 *    next inside the handler and deadlocks on its own run-queue lock.
 *    hvx_vmx_vid_unreliable() tells the local APIC model not to use
 *    virtual-interrupt delivery there unless asked to (apic_vid=1).
 *
 * Context: module load.
 */
void hvx_vmx_apicv_init(void)
{
	const char *vendor = dmi_get_system_info(DMI_BIOS_VENDOR);
	const char *version = dmi_get_system_info(DMI_BIOS_VERSION);
	const char *sys = dmi_get_system_info(DMI_SYS_VENDOR);

	bochs_firmware = ((vendor && strstr(vendor, "Bochs")) ||
			  (version && strstr(version, "Bochs"))) &&
			 !(sys && *sys);
	if (vid_vectoring_quirk >= 0)
		vectoring_quirk = vid_vectoring_quirk;
	else
		vectoring_quirk = bochs_firmware;
	if (vectoring_quirk)
		pr_info("Bochs: correcting IDT-vectoring reports after exits during virtual-interrupt delivery\n");
}

/**
 * hvx_vmx_vid_unreliable - whether the CPU's virtual-interrupt delivery is
 * known to break guests
 *
 * Return: true under Bochs, whose virtual-interrupt delivery ignores the
 * guest's RFLAGS.IF when a host interrupt arrives (hvx_vmx_apicv_init()).
 * Context: any; fixed after module load.
 */
bool hvx_vmx_vid_unreliable(void)
{
	return bochs_firmware;
}

/**
 * hvx_vmx_apicv_caps - which APIC virtualization assists the CPU offers
 *
 * Return: HVX_APICV_REG and HVX_APICV_VID bits. APIC-register
 * virtualization needs the TPR shadow and "virtualize APIC accesses"
 * (hvx_vmx_has_apic_access()) to matter for the xAPIC page;
 * virtual-interrupt delivery needs the TPR shadow and external-interrupt
 * exiting, which hvx always sets (SDM Vol. 3C 27.2.1.1).
 */
u32 hvx_vmx_apicv_caps(void)
{
	u32 caps = 0;

	if (!(hvx_caps.proc & CPU_BASED_TPR_SHADOW))
		return 0;
	if (hvx_vmx_has_apic_access() &&
	    (hvx_caps.proc2_may & SECONDARY_EXEC_APIC_REGISTER_VIRT))
		caps |= HVX_APICV_REG;
	if ((hvx_caps.proc2_may & SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY) &&
	    (hvx_caps.pin & PIN_BASED_EXT_INTR_MASK))
		caps |= HVX_APICV_VID;
	return caps;
}

static bool has_x2apic_virt(void)
{
	return hvx_msr_bitmap &&
	       (hvx_caps.proc2_may & SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE);
}

/**
 * hvx_vmx_enable_apicv - turn on APIC virtualization assists for a vCPU
 * @v: the vCPU (not running), with the TPR shadow (a virtual-APIC page).
 * @flags: HVX_APICV_REG and/or HVX_APICV_VID, a subset of
 *	hvx_vmx_apicv_caps().
 *
 * Sets the secondary controls, clears the EOI-exit bitmaps and the guest
 * interrupt status (SDM Vol. 3C 25.6.8, 25.4.2), and, when the CPU has
 * "virtualize x2APIC mode", allocates the MSR bitmap used while the guest
 * is in x2APIC mode.
 * Context: process context.
 * Return: 0 or -ENOMEM (nothing changed).
 */
int hvx_vmx_enable_apicv(struct hvx_vmx_vcpu *v, u32 flags)
{
	u32 ctl = 0;
	int i;

	flags &= hvx_vmx_apicv_caps();
	if (!flags || !v->vapic)
		return 0;
	if (has_x2apic_virt() && !v->msr_bitmap_x2) {
		v->msr_bitmap_x2 = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!v->msr_bitmap_x2)
			return -ENOMEM;
	}
	if (flags & HVX_APICV_REG)
		ctl |= SECONDARY_EXEC_APIC_REGISTER_VIRT;
	if (flags & HVX_APICV_VID)
		ctl |= SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY;
	preempt_disable();
	hvx_vmx_load(v);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL,
		   vmcs_read(SECONDARY_VM_EXEC_CONTROL) | ctl);
	if (flags & HVX_APICV_VID) {
		for (i = 0; i < 4; i++)
			vmcs_write(EOI_EXIT_BITMAP0 + 2 * i, 0);
		vmcs_write(GUEST_INTR_STATUS, 0);
	}
	hvx_vmx_unload();
	memset(&v->apicv_state, 0, sizeof(v->apicv_state));
	v->apicv = flags;
	v->stats.s.apic_assists |= (flags & HVX_APICV_REG ?
				    HVX_STATS_APIC_REG_VIRT : 0) |
				   (flags & HVX_APICV_VID ? HVX_STATS_APIC_VID : 0);
	return 0;
}

/*
 * x2APIC MSRs whose RDMSR the CPU answers from the virtual-APIC page with
 * APIC-register virtualization (SDM Vol. 3C 30.5): ID, version, LDR, SVR,
 * ISR, TMR, IRR, ESR, the LVTs hvx has, initial count and divide
 * configuration. Not here: PPR (only kept current by the CPU with
 * virtual-interrupt delivery), EOI and SELF IPI (write-only: RDMSR must
 * #GP), CMCI (hvx has no such LVT), ICR (kept in software), current count
 * (computed at each read).
 */
static bool x2apic_read_virtualized(u32 reg)
{
	switch (reg) {
	case APIC_ID:
	case APIC_LVR:
	case APIC_LDR:
	case APIC_SPIV:
	case APIC_ISR ... APIC_IRR + 0x70:
	case APIC_ESR:
	case APIC_LVTT ... APIC_LVTERR:
	case APIC_TMICT:
	case APIC_TDCR:
		return true;
	}
	return false;
}

/* The MSR bitmap for x2APIC mode: @base plus the APIC's pass-throughs. */
static void build_x2apic_bitmap(struct hvx_vmx_vcpu *v, const void *base)
{
	unsigned long *rd = v->msr_bitmap_x2, *wr = rd + 2048 / sizeof(long);
	u32 reg;

	memcpy(v->msr_bitmap_x2, base, PAGE_SIZE);
	/*
	 * Read bits of MSRs 0-1fffH at byte 0, write bits at byte 2048
	 * (SDM Vol. 3C 25.6.9). TPR reads and writes are virtualized with
	 * the TPR shadow alone (30.5); EOI writes with virtual-interrupt
	 * delivery (EOI virtualization, 30.1.4).
	 */
	__clear_bit(APIC_BASE_MSR + (APIC_TASKPRI >> 4), rd);
	__clear_bit(APIC_BASE_MSR + (APIC_TASKPRI >> 4), wr);
	if (v->apicv & HVX_APICV_VID)
		__clear_bit(APIC_BASE_MSR + (APIC_EOI >> 4), wr);
	if (!(v->apicv & HVX_APICV_REG))
		return;
	for (reg = 0; reg < 0x400; reg += 0x10)
		if (x2apic_read_virtualized(reg))
			__clear_bit(APIC_BASE_MSR + (reg >> 4), rd);
	if (v->apicv & HVX_APICV_VID)
		__clear_bit(APIC_BASE_MSR + (APIC_PROCPRI >> 4), rd);
}

/* Controls a disabled APIC turns off, to be restored on re-enable. */
#define APIC_OFF_PROC2	(SECONDARY_EXEC_APIC_REGISTER_VIRT | \
			 SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY)
#define CR8_EXITING	(CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING)

/*
 * A globally disabled APIC (IA32_APIC_BASE.EN = 0) has no xAPIC page: the
 * range is unclaimed space (SDM Vol. 3A 11.4.3), so each access must exit
 * and reach userspace as MMIO. With "virtualize APIC accesses" on, the TPR
 * shadow would let TPR accesses through the page without an exit, as
 * would APIC-register virtualization for reads and virtual-interrupt
 * delivery for EOI writes (SDM Vol. 3C 30.4.1-30.4.3). With the TPR shadow
 * off every access to the APIC-access page is an APIC-access exit; the
 * other two need the TPR shadow (27.2.1.1), and MOV CR8 must then exit or
 * it would reach the host's TPR (CR8 stays the VTPR byte, 30.1.1). Without
 * the APIC-access page nothing changes: the range is not mapped, so its
 * accesses are EPT violations already.
 */
static void apic_off_update(struct hvx_vmx_vcpu *v, bool off)
{
	u32 proc = v->proc_ctls;	/* exit.c keeps it current */
	u32 proc2 = vmcs_read(SECONDARY_VM_EXEC_CONTROL);

	if (off) {
		proc = (proc & ~CPU_BASED_TPR_SHADOW) | CR8_EXITING;
		proc2 &= ~APIC_OFF_PROC2;
	} else {
		proc = (proc & ~CR8_EXITING) | CPU_BASED_TPR_SHADOW;
		if (v->apicv & HVX_APICV_REG)
			proc2 |= SECONDARY_EXEC_APIC_REGISTER_VIRT;
		if (v->apicv & HVX_APICV_VID)
			proc2 |= SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY;
	}
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, proc2);
	v->proc_ctls = proc;
	v->apic_hw_off = off;
}

/*
 * Disabled, xAPIC or x2APIC virtualization, following IA32_APIC_BASE
 * (EN, EXTD): "virtualize x2APIC mode" must be 0 while "virtualize APIC
 * accesses" is 1 (SDM Vol. 3C 27.2.1.1), and the MSR bitmap may only let
 * x2APIC MSRs through while "virtualize x2APIC mode" is 1, or the guest
 * would reach the host's APIC. Called before each entry; the VMCS is only
 * touched when the mode changed.
 */
static void apicv_mode_update(struct hvx_vmx_vcpu *v)
{
	u64 base = v->msr.apic_base;
	bool x2 = v->msr_bitmap_x2 && (base & X2APIC_ENABLE);
	bool off = v->apic_access && !(base & MSR_IA32_APICBASE_ENABLE) &&
		   (hvx_caps.proc_may & CR8_EXITING) == CR8_EXITING;
	u32 ctl;

	if (off != v->apic_hw_off)
		apic_off_update(v, off);
	if (x2 == v->apicv_x2)
		return;
	ctl = vmcs_read(SECONDARY_VM_EXEC_CONTROL);
	if (x2) {
		ctl &= ~SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES;
		ctl |= SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE;
	} else {
		ctl &= ~SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE;
		if (v->apic_access)
			ctl |= SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES;
	}
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, ctl);
	v->apicv_x2 = x2;
	if (x2)
		v->stats.s.apic_assists |= HVX_STATS_APIC_X2APIC_VIRT;
}

/**
 * hvx_vmx_msr_bitmap_update - point the VMCS at the right MSR bitmap
 * @v: the vCPU, VMCS current, before an entry.
 *
 * First follows the APIC's state (apicv_mode_update()). The module-wide
 * bitmap, its variant with the SYSCALL MSRs let through
 * once the vCPU swaps them (hvx_vmx_vcpu.syscall_msrs), or, in x2APIC
 * mode with APIC virtualization, the vCPU's own copy of either with the
 * x2APIC pass-throughs. Before an entry only when hvx_vmx_msr_bitmap_key()
 * changed.
 */
void hvx_vmx_msr_bitmap_update(struct hvx_vmx_vcpu *v)
{
	bool lng = v->syscall_msrs && hvx_msr_bitmap_long;
	bool spec = v->spec_ctrl_direct;
	const void *base;

	v->msr_bitmap_key = hvx_vmx_msr_bitmap_key(v);
	if (v->apicv || v->apic_access)
		apicv_mode_update(v);
	if (lng == v->msr_bitmap_long && v->apicv_x2 == v->msr_bitmap_x2_on &&
	    spec == v->msr_bitmap_spec)
		return;
	base = lng ? hvx_msr_bitmap_long : hvx_msr_bitmap;
	if (spec)	/* IA32_SPEC_CTRL let through (msr.c) */
		base = hvx_vmx_spec_bitmap(lng);
	if (v->apicv_x2) {
		build_x2apic_bitmap(v, base);
		base = v->msr_bitmap_x2;
	}
	vmcs_write(MSR_BITMAP, __pa(base));
	v->msr_bitmap_long = lng;
	v->msr_bitmap_x2_on = v->apicv_x2;
	v->msr_bitmap_spec = spec;
}

/**
 * hvx_vmx_apicv_prepare - bring the virtual-APIC page and VMCS up to date
 * @v: the vCPU, VMCS current, preemption disabled, before an entry.
 *
 * The local APIC copies its registers to the virtual-APIC page and, with
 * virtual-interrupt delivery, moves new requests into VIRR and reports the
 * EOI-exit bitmap and RVI/SVI; the fields are written when they changed
 * (SDM Vol. 3C 25.4.2 guest interrupt status, 25.6.8 EOI-exit bitmap).
 */
void hvx_vmx_apicv_prepare(struct hvx_vmx_vcpu *v)
{
	struct hvx_vmx_apicv_state st;
	int i;

	if (!v->apicv || !v->apic_ops)
		return;
	st = v->apicv_state;
	if (!v->apic_ops->sync(v, &st)) {
		/* hvx_vmx_apicv_vectoring() compares with SVI at entry. */
		if (v->apicv & HVX_APICV_VID)
			v->apicv_state.intr_status = vmcs_read(GUEST_INTR_STATUS);
		return;
	}
	if (!(v->apicv & HVX_APICV_VID))
		return;
	for (i = 0; i < 4; i++)
		if (st.eoi_exit[i] != v->apicv_state.eoi_exit[i])
			vmcs_write(EOI_EXIT_BITMAP0 + 2 * i, st.eoi_exit[i]);
	/* The CPU changes RVI and SVI as it delivers and retires vectors. */
	if (st.intr_status != (u16)vmcs_read(GUEST_INTR_STATUS))
		vmcs_write(GUEST_INTR_STATUS, st.intr_status);
	v->apicv_state = st;
}

/**
 * hvx_vmx_apicv_quiet_entry - an entry without interrupt evaluation
 * @v: the vCPU, VMCS current, preemption disabled, before an entry whose
 *	HVX_REQ_EVENT was clear (hvx_vmx_apicv_prepare() did not run).
 *
 * Nothing changed for the virtual-APIC page or the VMCS's APIC fields
 * since they were last brought up to date. With virtual-interrupt
 * delivery the CPU itself changes SVI, and hvx_vmx_apicv_vectoring()
 * compares with its value at entry: read it.
 */
void hvx_vmx_apicv_quiet_entry(struct hvx_vmx_vcpu *v)
{
	if ((v->apicv & HVX_APICV_VID) && v->apic_ops)
		v->apicv_state.intr_status = vmcs_read(GUEST_INTR_STATUS);
}

/* The vector and type of an interruption-information field. */
#define EVENT_ID(info)	((info) & (INTR_INFO_VALID_MASK | \
				   INTR_INFO_INTR_TYPE_MASK | \
				   INTR_INFO_VECTOR_MASK))

/**
 * hvx_vmx_apicv_vectoring - name the virtual interrupt an exit interrupted
 * @v: the vCPU right after an exit during event delivery (its IDT-vectoring
 *	information is in @v->reinject_info, RFLAGS through hvx_vmx_rflags()), VMCS
 *	current.
 *
 * When an exit interrupts the delivery of a virtual interrupt, the IDT-
 * vectoring information names it as an external interrupt whose vector is
 * the new SVI (SDM Vol. 3C 30.2.2, 28.2.4), and hvx re-injects it like any
 * other. Bochs reports whatever event it recorded last instead
 * (hvx_vmx_apicv_init()). So, with virtual-interrupt delivery, the event
 * becomes "external interrupt, vector SVI" where the report cannot be
 * right on a real CPU: an external interrupt that hvx did not inject
 * (guest external interrupts exit, so only a virtual interrupt can be
 * one); the event hvx injected at this entry although SVI changed since
 * (a virtual interrupt was delivered after it, so its own delivery
 * finished); or another vector while the exit is an EPT violation on the
 * IDT entry of SVI; all only while RFLAGS.IF is 1, as it is when such a
 * delivery is cut short. On a real CPU the first rule never changes
 * anything and the third never applies; the second could match a later
 * event of the same type and vector as the injected one (an exception
 * repeated in the same run), which is then re-raised when its
 * instruction runs again.
 *
 * With the Bochs quirk, also whenever a vector is in service (SVI),
 * RFLAGS.IF is still 1 and the event is not the one hvx injected at this
 * entry (that one is delivered first, so its report is right while SVI is
 * unchanged; the second rule covers the rest): the delivery of SVI was
 * cut short before it cleared IF (it does so last), whichever vector was
 * in service when the run began (SVI may even be the same vector,
 * delivered again). On a real CPU this would also match an exception
 * whose delivery exits while the guest runs with IF set before the EOI of
 * an interrupt it took, which Linux never does (its handlers EOI with IF
 * clear) but other guests may; hence Bochs only. Without it the stale
 * event is re-injected and the interrupt stays in VISR with its handler
 * never run, blocking every vector of its class and below.
 */
void hvx_vmx_apicv_vectoring(struct hvx_vmx_vcpu *v)
{
	u32 info = v->reinject_info, id = EVENT_ID(info);
	u8 svi = vmcs_read(GUEST_INTR_STATUS) >> 8;
	bool svi_changed = svi != (u8)(v->apicv_state.intr_status >> 8);
	bool ours = id == EVENT_ID(v->entry_info);
	u64 idt, la;

	/*
	 * A virtual interrupt is only delivered with IF set, and an exit
	 * during its delivery leaves the guest as it was before it (IF
	 * still set): with IF clear the report is about another event and
	 * is kept. Re-injecting an interrupt there would run its handler
	 * where the guest had interrupts off, e.g. inside a spinlock taken
	 * with spin_lock_irqsave().
	 */
	if (!(v->apicv & HVX_APICV_VID) || v->apic_hw_off || svi < 16 ||
	    !(hvx_vmx_rflags(v) & X86_EFLAGS_IF) ||
	    id == (INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | svi))
		return;
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_EXT_INTR && !ours)
		goto fix;
	if (ours && svi_changed)
		goto fix;
	if (vectoring_quirk && !ours)
		goto fix;
	if (!svi_changed ||
	    (v->exit_reason & 0xffff) != EXIT_REASON_EPT_VIOLATION ||
	    !(v->exit_qual & EPT_VIOLATION_GVA_IS_VALID))
		return;
	idt = vmcs_read(GUEST_IDTR_BASE) + 16 * svi;
	la = vmcs_read(GUEST_LINEAR_ADDRESS);
	if (la < idt || la >= idt + 16)
		return;
fix:
	v->reinject_info = INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | svi;
	v->reinject_err = 0;
}

/**
 * hvx_vmx_apicv_pending - may a virtual interrupt wake the halted vCPU?
 * @v: the vCPU; its own thread.
 *
 * Return: true with virtual-interrupt delivery when the local APIC holds
 * a vector above the processor priority (the CPU delivers it at the next
 * entry, SDM Vol. 3C 30.2.1); false otherwise.
 */
bool hvx_vmx_apicv_pending(struct hvx_vmx_vcpu *v)
{
	return (v->apicv & HVX_APICV_VID) && v->apic_ops &&
	       v->apic_ops->vid_pending(v);
}

/**
 * hvx_vmx_handle_eoi_induced - EOI-induced VM exit (reason 45)
 * @v: the vCPU.
 *
 * The CPU has done EOI virtualization (SDM Vol. 3C 30.1.4): the vector in
 * the qualification's bits 7:0 left VISR, and its bit in the EOI-exit
 * bitmap asks hvx to finish the EOI (the I/O APIC's Remote IRR). The exit
 * is trap-like: RIP is past the instruction.
 * Return: HVX_RUN_RESUME.
 */
int hvx_vmx_handle_eoi_induced(struct hvx_vmx_vcpu *v)
{
	if (v->apic_ops)
		v->apic_ops->eoi_exit(v, v->exit_qual & 0xff);
	hvx_vmx_request_event(v);	/* VISR changed: RVI may go in */
	return HVX_RUN_RESUME;
}

/**
 * hvx_vmx_handle_apic_write - APIC-write VM exit (reason 56)
 * @v: the vCPU.
 *
 * A write to the APIC-access page (or a virtualized x2APIC MSR write) has
 * reached the virtual-APIC page at the offset in the qualification's bits
 * 11:0 and needs emulation (SDM Vol. 3C 30.4.3.2, 30.4.3.3). Trap-like:
 * RIP is past the instruction.
 * Return: HVX_RUN_RESUME.
 */
int hvx_vmx_handle_apic_write(struct hvx_vmx_vcpu *v)
{
	if (v->apic_ops)
		v->apic_ops->apic_write(v, v->exit_qual & 0xfff);
	return HVX_RUN_RESUME;
}

/**
 * hvx_vmx_apicv_destroy - free the vCPU's APIC virtualization state
 * @v: the vCPU, not running, VMCS cleared.
 */
void hvx_vmx_apicv_destroy(struct hvx_vmx_vcpu *v)
{
	free_page((unsigned long)v->msr_bitmap_x2);
	v->msr_bitmap_x2 = NULL;
}
