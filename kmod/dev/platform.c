// SPDX-License-Identifier: GPL-2.0
/*
 * platform.c - HVX_CREATE_PLATFORM: create and destroy a VM's in-kernel
 * devices in a fixed order (interrupt controllers before the devices that
 * raise interrupts through them; the reverse on the way down).
 */
#include <linux/slab.h>

#include "../hvx_core.h"
#include "dev.h"

struct platform_dev {
	u32 bit;
	int (*create)(struct hvx_vm *vm);
	void (*destroy)(struct hvx_vm *vm);
};

static const struct platform_dev platform_devs[] = {
	{ HVX_PLATFORM_PIC, hvx_pic_create, hvx_pic_destroy },
	{ HVX_PLATFORM_IOAPIC, hvx_ioapic_create, hvx_ioapic_destroy },
	{ HVX_PLATFORM_LAPIC, hvx_lapic_vm_create, hvx_lapic_vm_destroy },
	{ HVX_PLATFORM_PIT, hvx_pit_create, hvx_pit_destroy },
	{ HVX_PLATFORM_UART, hvx_uart_create, hvx_uart_destroy },
	{ HVX_PLATFORM_RTC, hvx_rtc_create, hvx_rtc_destroy },
	{ HVX_PLATFORM_PCI, hvx_pci_create, hvx_pci_destroy },
};

static void destroy_devs(struct hvx_vm *vm, int n)
{
	while (n-- > 0)
		if (vm->plat->flags & platform_devs[n].bit)
			platform_devs[n].destroy(vm);
}

/**
 * hvx_platform_create - create the in-kernel devices of a VM
 * @vm: the VM.
 * @devices: HVX_PLATFORM_* bits, checked by the caller.
 *
 * Context: process context of the VM owner; takes and drops vm->lock.
 * Return: 0, -EEXIST (already created), -EBUSY (vCPUs exist), -ENOMEM or
 * a device's error; on error nothing is left behind.
 */
long hvx_platform_create(struct hvx_vm *vm, u32 devices)
{
	struct hvx_platform *plat;
	int i, ret;

	plat = kzalloc(sizeof(*plat), GFP_KERNEL_ACCOUNT);
	if (!plat)
		return -ENOMEM;
	plat->flags = devices;
	mutex_lock(&vm->lock);
	ret = vm->plat ? -EEXIST : atomic_read(&vm->vmx.nr_vcpus) ? -EBUSY : 0;
	if (!ret)
		vm->plat = plat;
	mutex_unlock(&vm->lock);
	if (ret) {
		kfree(plat);
		return ret;
	}
	/*
	 * vm->plat is set, so no vCPU can be created meanwhile
	 * (hvx_vcpu_create() waits for vm->plat_ready).
	 */
	for (i = 0; i < ARRAY_SIZE(platform_devs); i++) {
		if (!(devices & platform_devs[i].bit))
			continue;
		ret = platform_devs[i].create(vm);
		if (ret)
			break;
	}
	/*
	 * Devices unregister from the bus, which takes vm->lock: undo
	 * outside it (vm->plat still keeps vCPUs and a second
	 * HVX_CREATE_PLATFORM out meanwhile).
	 */
	if (ret)
		destroy_devs(vm, i);
	mutex_lock(&vm->lock);
	if (ret)
		vm->plat = NULL;
	else
		vm->plat_ready = true;
	mutex_unlock(&vm->lock);
	if (ret)
		kfree(plat);
	return ret;
}

/**
 * hvx_platform_destroy - destroy the in-kernel devices of a VM
 * @vm: the VM, being freed: no vCPU and no device fd is left.
 */
void hvx_platform_destroy(struct hvx_vm *vm)
{
	if (!vm->plat)
		return;
	hvx_irq_destroy(vm);	/* no eventfd reaches a device any more */
	destroy_devs(vm, ARRAY_SIZE(platform_devs));
	kfree(vm->plat);
	vm->plat = NULL;
}

/**
 * hvx_platform_vcpu_create - create the per-vCPU devices (local APIC)
 * @vcpu: a new vCPU, not yet visible.
 *
 * Return: 0 or the device's error.
 */
int hvx_platform_vcpu_create(struct hvx_vcpu *vcpu)
{
	struct hvx_platform *plat = vcpu->vm->plat;

	hvx_dev_vcpu_init(vcpu);
	if (plat && (plat->flags & HVX_PLATFORM_LAPIC))
		return hvx_lapic_create(vcpu);
	return 0;
}

/**
 * hvx_platform_vcpu_destroy - destroy the per-vCPU devices
 * @vcpu: the vCPU, no longer reachable from the router.
 */
void hvx_platform_vcpu_destroy(struct hvx_vcpu *vcpu)
{
	if (vcpu->lapic)
		hvx_lapic_destroy(vcpu);
}
