// SPDX-License-Identifier: GPL-2.0
/*
 * irq.c - the interrupt router: GSIs to the PIC and IOAPIC, and which
 * interrupt a vCPU takes next.
 *
 * Without a local APIC the PIC's INT output goes to vCPU 0, as in a PC
 * whose processor has its APIC disabled (the 8259A's INT drives the
 * processor's INTR pin).
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
	if (vcpu) {
		set_bit(HVX_REQ_EVENT, &vcpu->vmx.requests);
		hvx_vmx_kick(&vcpu->vmx);
	}
	rcu_read_unlock();
}

/**
 * hvx_irq_pic_changed - the PIC's INT output may have risen
 * @vm: the VM.
 *
 * Context: any.
 */
void hvx_irq_pic_changed(struct hvx_vm *vm)
{
	hvx_irq_kick(vm, 0);
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
	if (plat->pic && gsi < 16)
		hvx_pic_set_irq(vm, gsi, level);
	if (plat->ioapic)
		hvx_ioapic_set_irq(vm, gsi, level);
	return 0;
}

/**
 * hvx_irq_pending - the next external interrupt vector for a vCPU
 * @vcpu: the vCPU (its own thread).
 *
 * Return: a vector, or -1 if none is pending.
 */
int hvx_irq_pending(struct hvx_vcpu *vcpu)
{
	struct hvx_platform *plat = vcpu->vm->plat;

	if (!plat)
		return -1;
	if (vcpu->lapic)
		return hvx_lapic_pending(vcpu);
	if (plat->pic && vcpu->vmx.id == 0)
		return hvx_pic_pending(vcpu->vm);
	return -1;
}

/**
 * hvx_irq_ack - the vCPU injects @vector now
 * @vcpu: the vCPU (its own thread).
 * @vector: what hvx_irq_pending() returned.
 *
 * Return: the HVX_IRQ_SRC_* source of the interrupt.
 */
int hvx_irq_ack(struct hvx_vcpu *vcpu, int vector)
{
	if (vcpu->lapic)
		return hvx_lapic_ack(vcpu, vector);
	hvx_pic_ack(vcpu->vm);
	return HVX_IRQ_SRC_PIC;
}
