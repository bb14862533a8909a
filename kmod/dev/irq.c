// SPDX-License-Identifier: GPL-2.0
/*
 * irq.c - the interrupt router: GSIs to the PIC and the I/O APIC, MSI
 * messages to the local APICs, and which interrupt a vCPU takes next.
 *
 * Without local APICs the PIC's INT output goes to vCPU 0, as in a PC
 * whose processor has its APIC disabled (the 8259A's INT drives the
 * processor's INTR pin). With them, the PIC's output reaches the vCPUs
 * whose LINT0 is in ExtINT mode (or whose APIC is disabled), ahead of the
 * APIC's own interrupts; everything else comes from the APIC's IRR in
 * priority order (SDM Vol. 3A 11.8.3).
 *
 * Routing never sleeps and takes no lock of its own: vCPUs are looked up
 * under RCU, controllers serialise their state themselves. The EOI of a
 * level-triggered GSI is told to the ack notifiers registered on the VM
 * (resample irqfds, passthrough INTx), which may sleep.
 */
#include "../hvx_core.h"
#include "dev.h"

/**
 * hvx_irq_kick - make a vCPU look at its interrupt controllers
 * @vm: the VM.
 * @vcpu_id: the vCPU; nothing happens if it does not exist.
 *
 * Context: any, including hard interrupt context (hrtimer callbacks).
 */
void hvx_irq_kick(struct hvx_vm *vm, u32 vcpu_id)
{
	struct hvx_vcpu *vcpu;

	if (vcpu_id >= HVX_MAX_VCPUS)
		return;
	rcu_read_lock();
	vcpu = READ_ONCE(vm->vcpus[vcpu_id]);
	if (vcpu)
		hvx_vmx_kick_event(&vcpu->vmx);
	rcu_read_unlock();
}

/* An IPI's work: none, arriving is all (see hvx_irq_exit_guest_all()). */
static void exit_guest_nop(void *info)
{
}

/**
 * hvx_irq_exit_guest_all - wait until no vCPU of a VM still runs guest code
 *	that began before the call
 * @vm: the VM.
 *
 * For structures a vCPU's VMCS references, such as the VM's I/O bitmaps,
 * which software should not change while a logical processor uses them in
 * VMX non-root operation (SDM Vol. 3C 25.11.4): a caller that has just
 * revoked something there calls this before it relies on the revocation
 * (before it hands a device back to the host, say). A vCPU in guest mode
 * is sent a function-call IPI and waited for: the interrupt makes it exit
 * (external-interrupt exiting, SDM Vol. 3C 26.2), and the IPI's handler
 * runs only once the host has interrupts on again, after the exit. A vCPU
 * that enters later sees the caller's stores: guest_cpu is read after a
 * full barrier here and written before one on entry (hvx_vmx_run()).
 * Context: process context, interrupts on; may wait for other CPUs (not
 * for a sleeping lock).
 */
void hvx_irq_exit_guest_all(struct hvx_vm *vm)
{
	struct hvx_vcpu *vcpu;
	int i, cpu;

	smp_mb();	/* the caller's stores before guest_cpu is read */
	for (i = 0; i < HVX_MAX_VCPUS; i++) {
		rcu_read_lock();
		vcpu = READ_ONCE(vm->vcpus[i]);
		cpu = vcpu ? READ_ONCE(vcpu->vmx.guest_cpu) : -1;
		rcu_read_unlock();
		/* -ENXIO if it went offline: nothing runs there any more. */
		if (cpu >= 0)
			smp_call_function_single(cpu, exit_guest_nop, NULL, 1);
	}
}

static bool vm_has_lapics(struct hvx_vm *vm)
{
	return vm->plat && (vm->plat->flags & HVX_PLATFORM_LAPIC);
}

/**
 * hvx_irq_pic_changed - the PIC's INT output may have risen
 * @vm: the VM.
 *
 * Kicks vCPU 0, or with local APICs every vCPU that takes the PIC's
 * interrupts (hvx_lapic_accepts_pic()).
 * Context: any.
 */
void hvx_irq_pic_changed(struct hvx_vm *vm)
{
	int i;

	if (!vm_has_lapics(vm)) {
		hvx_irq_kick(vm, 0);
		return;
	}
	rcu_read_lock();
	for (i = 0; i < HVX_MAX_VCPUS; i++) {
		struct hvx_vcpu *vcpu = READ_ONCE(vm->vcpus[i]);

		if (vcpu && vcpu->lapic && hvx_lapic_accepts_pic(vcpu))
			hvx_vmx_kick_event(&vcpu->vmx);
	}
	rcu_read_unlock();
}

/**
 * hvx_irq_set_gsi - drive a global system interrupt line
 * @vm: the VM.
 * @gsi: 0 .. HVX_NR_GSIS - 1; 0-15 are also the PIC's IRQ inputs.
 * @level: 1 asserts the line, 0 deasserts it (an edge is 1 then 0).
 *
 * Context: any.
 * Return: 0, or -EINVAL for a GSI out of range.
 */
int hvx_irq_set_gsi(struct hvx_vm *vm, u32 gsi, int level)
{
	struct hvx_platform *plat = vm->plat;

	if (gsi >= HVX_NR_GSIS)
		return -EINVAL;
	if (!plat)
		return 0;
	if (READ_ONCE(plat->pic) && gsi < 16)
		hvx_pic_set_irq(vm, gsi, level);
	if (READ_ONCE(plat->ioapic))
		hvx_ioapic_set_irq(vm, gsi, level);
	return 0;
}

/* MSI address and data (SDM Vol. 3A 11.11.1, 11.11.2). */
#define MSI_ADDR_BASE_MASK	0xfff00000
#define MSI_ADDR_BASE		0xfee00000
#define MSI_ADDR_DEST(a)	(((a) >> 12) & 0xff)
#define MSI_ADDR_LOGICAL	BIT(2)
#define MSI_ADDR_RESERVED	(GENMASK(11, 4) | GENMASK(1, 0))
#define MSI_DATA_RESERVED	(GENMASK(31, 16) | GENMASK(13, 11))
#define MSI_DATA_DM(d)		(((d) >> 8) & 7)
#define MSI_DATA_ASSERT		BIT(14)
#define MSI_DATA_LEVEL		BIT(15)

/**
 * hvx_irq_msi_check - is this a well-formed x86 MSI message?
 * @address_lo: address bits 31:0.
 * @address_hi: address bits 63:32.
 * @data: message data.
 *
 * The rules of struct hvx_msi: address 0xFEEx_xxxx with the reserved bits
 * clear (SDM Vol. 3A 11.11.1), @address_hi 0, data reserved bits clear
 * and a delivery mode that is not reserved (11.11.2).
 * Return: 0 or -EINVAL.
 */
int hvx_irq_msi_check(u32 address_lo, u32 address_hi, u32 data)
{
	u32 dm = MSI_DATA_DM(data);

	if ((address_lo & MSI_ADDR_BASE_MASK) != MSI_ADDR_BASE ||
	    (address_lo & MSI_ADDR_RESERVED) || address_hi ||
	    (data & MSI_DATA_RESERVED) || dm == 3 || dm == HVX_APIC_DM_SIPI)
		return -EINVAL;
	return 0;
}

/**
 * hvx_irq_msi - deliver an MSI message to the local APICs
 * @vm: the VM.
 * @address_lo: address bits 31:0 (checked with hvx_irq_msi_check()).
 * @address_hi: address bits 63:32.
 * @data: message data.
 * @src: HVX_IRQ_SRC_* for the statistics (MSI, PASSTHROUGH).
 *
 * MSIs are edge-triggered (PCI Local Bus Spec 3.0 6.8); the trigger bit
 * only matters for INIT, as for IPIs.
 * Context: any, including hard interrupt context.
 * Return: the number of local APICs that accepted it.
 */
int hvx_irq_msi(struct hvx_vm *vm, u32 address_lo, u32 address_hi, u32 data,
		u8 src)
{
	struct hvx_apic_irq irq = {
		.dest = MSI_ADDR_DEST(address_lo),
		.vector = data & 0xff,
		.delivery = MSI_DATA_DM(data),
		.logical = address_lo & MSI_ADDR_LOGICAL,
		.assert = data & MSI_DATA_ASSERT,
		.src = src,
	};

	if (irq.delivery == HVX_APIC_DM_INIT)
		irq.level_trig = data & MSI_DATA_LEVEL;
	if (!vm_has_lapics(vm))
		return 0;
	return hvx_lapic_deliver(vm, &irq);
}

/**
 * hvx_irq_line - HVX_IRQ_LINE: drive a GSI from userspace
 * @vm: the VM.
 * @l: the argument (see struct hvx_irq_level).
 *
 * Return: 0, -EINVAL (GSI or level), -ENXIO (no PIC and no I/O
 * APIC).
 */
int hvx_irq_line(struct hvx_vm *vm, const struct hvx_irq_level *l)
{
	struct hvx_platform *plat = READ_ONCE(vm->plat);

	/* l->reserved: checked by the ioctl dispatcher (kmod/ioctl.c). */
	if (l->gsi >= HVX_NR_GSIS || l->level > 1)
		return -EINVAL;
	/* Acquire pairs with the release that publishes a built platform. */
	if (!plat || !smp_load_acquire(&vm->plat_ready) ||
	    (!plat->pic && !plat->ioapic))
		return -ENXIO;
	return hvx_irq_set_gsi(vm, l->gsi, l->level);
}

/**
 * hvx_signal_msi - HVX_SIGNAL_MSI: send an MSI from userspace
 * @vm: the VM.
 * @m: the message (see struct hvx_msi).
 *
 * Return: the number of local APICs that accepted it, -EINVAL (a field of
 * @m), -ENXIO (no local APICs).
 */
int hvx_signal_msi(struct hvx_vm *vm, const struct hvx_msi *m)
{
	/* m->reserved: checked by the ioctl dispatcher (kmod/ioctl.c). */
	if (m->flags || hvx_irq_msi_check(m->address_lo, m->address_hi, m->data))
		return -EINVAL;
	/* Acquire pairs with the release that publishes a built platform. */
	if (!vm_has_lapics(vm) || !smp_load_acquire(&vm->plat_ready))
		return -ENXIO;
	return hvx_irq_msi(vm, m->address_lo, m->address_hi, m->data,
			   HVX_IRQ_SRC_MSI);
}

/**
 * hvx_irq_pending - the next external interrupt vector for a vCPU
 * @vcpu: the vCPU (its own thread; preemption may be disabled).
 *
 * Return: a vector, or -1 if none is pending.
 */
int hvx_irq_pending(struct hvx_vcpu *vcpu)
{
	struct hvx_platform *plat = vcpu->vm->plat;
	int vector;

	if (!plat)
		return -1;
	if (vcpu->lapic) {
		if (plat->pic && hvx_lapic_accepts_pic(vcpu)) {
			vector = hvx_pic_pending(vcpu->vm);
			if (vector >= 0)
				return vector;
		}
		return hvx_lapic_pending(vcpu);
	}
	if (plat->pic && vcpu->vmx.id == 0)
		return hvx_pic_pending(vcpu->vm);
	return -1;
}

/**
 * hvx_irq_ack - the vCPU injects @vector now
 * @vcpu: the vCPU (its own thread; preemption may be disabled).
 * @vector: what hvx_irq_pending() returned.
 * @src: set to the HVX_IRQ_SRC_* source of the interrupt.
 *
 * Return: the vector to inject. It differs from @vector when the PIC's
 * request went away between the two calls: its INTA cycle then answers
 * with the spurious IRQ 7 (or 15) vector (8259A datasheet).
 */
int hvx_irq_ack(struct hvx_vcpu *vcpu, int vector, int *src)
{
	struct hvx_platform *plat = vcpu->vm->plat;

	if (vcpu->lapic) {
		if (plat->pic && hvx_lapic_accepts_pic(vcpu) &&
		    hvx_pic_pending(vcpu->vm) == vector) {
			*src = HVX_IRQ_SRC_PIC;
			return hvx_pic_ack(vcpu->vm);
		}
		*src = hvx_lapic_ack(vcpu, vector);
		return vector;
	}
	*src = HVX_IRQ_SRC_PIC;
	return hvx_pic_ack(vcpu->vm);
}

/**
 * hvx_irq_destroy - tear down routing state before the devices go
 * @vm: the VM, being freed (no vCPU left).
 *
 * Unbinds every irqfd, so no eventfd write reaches a device any more.
 */
void hvx_irq_destroy(struct hvx_vm *vm)
{
	hvx_irqfd_release(vm);
}

/**
 * hvx_irq_register_ack_notifier - tell @n of every EOI of a level GSI
 * @vm: the VM.
 * @n: the notifier, with @acked set; not yet registered.
 *
 * Context: process context.
 */
void hvx_irq_register_ack_notifier(struct hvx_vm *vm,
				   struct hvx_irq_ack_notifier *n)
{
	spin_lock(&vm->irq_ack_lock);
	hlist_add_head_rcu(&n->link, &vm->irq_ack_notifiers);
	spin_unlock(&vm->irq_ack_lock);
}

/**
 * hvx_irq_unregister_ack_notifier - stop telling @n of EOIs
 * @vm: the VM.
 * @n: a notifier registered with hvx_irq_register_ack_notifier().
 *
 * Returns after every call of @n->acked has returned, so @n may be freed.
 * Context: process context, may sleep (synchronize_srcu()); not from an
 * @acked callback.
 */
void hvx_irq_unregister_ack_notifier(struct hvx_vm *vm,
				     struct hvx_irq_ack_notifier *n)
{
	spin_lock(&vm->irq_ack_lock);
	hlist_del_init_rcu(&n->link);
	spin_unlock(&vm->irq_ack_lock);
	synchronize_srcu(&vm->irq_srcu);
}

/**
 * hvx_irq_notify_ack - the guest EOI'd level-triggered GSI @gsi
 * @vm: the VM.
 * @gsi: the GSI whose Remote IRR the EOI cleared.
 *
 * Calls every registered ack notifier.
 * Context: process context (the vCPU's thread), no router or I/O APIC
 * lock held.
 */
void hvx_irq_notify_ack(struct hvx_vm *vm, u32 gsi)
{
	struct hvx_irq_ack_notifier *n;
	int idx;

	idx = srcu_read_lock(&vm->irq_srcu);
	hlist_for_each_entry_srcu(n, &vm->irq_ack_notifiers, link,
				  srcu_read_lock_held(&vm->irq_srcu))
		n->acked(n, gsi);
	srcu_read_unlock(&vm->irq_srcu, idx);
}
