// SPDX-License-Identifier: GPL-2.0
/*
 * pci.c - PCI configuration mechanism #1 (ports 0xcf8 and 0xcfc-0xcff) for
 * bus 0 of a VM, with an Intel 440FX host bridge at 00:00.0 and a
 * registration API for other functions (passthrough devices).
 *
 * PCI Local Bus Specification 3.0, 3.2.2.3.2 ("Software Generation of
 * Configuration Transactions"): a dword written to CONFIG_ADDRESS (0xcf8)
 * holds the enable bit (31), bus (23:16), device (15:11), function (10:8)
 * and dword register (7:2); CONFIG_DATA (0xcfc-0xcff) then reads or writes
 * that register, bytes 0-3 at ports 0xcfc-0xcff. A function nobody
 * implements reads as all ones (no DEVSEL#, master abort), which is how
 * a bus scan finds empty slots (6.1: vendor ID 0xffff is "no device").
 */
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "../hvx_core.h"
#include "dev.h"

#define PCI_CFG_ADDR_PORT	0xcf8
#define PCI_CFG_DATA_PORT	0xcfc
#define PCI_CFG_ENABLE		BIT(31)

/* 82441FX PMC (i440FX host bridge) identity, from its datasheet. */
#define I440FX_VENDOR		0x8086
#define I440FX_DEVICE		0x1237
#define I440FX_REVISION		0x02

struct hvx_pci {
	struct hvx_io_dev iodev;
	struct mutex lock;		/* @addr, @devs, device callbacks */
	u32 addr;			/* CONFIG_ADDRESS */
	struct hvx_pci_dev *devs[256];	/* bus 0, by devfn */
	struct hvx_pci_dev host;
	u8 host_cfg[256];
	u8 host_wmask[256];
};

static u32 host_cfg_read(struct hvx_pci_dev *d, unsigned int off,
			 unsigned int size)
{
	struct hvx_pci *pci = container_of(d, struct hvx_pci, host);
	u32 val = 0;
	int i;

	for (i = size - 1; i >= 0; i--)
		val = val << 8 | pci->host_cfg[off + i];
	return val;
}

static void host_cfg_write(struct hvx_pci_dev *d, unsigned int off,
			   unsigned int size, u32 val)
{
	struct hvx_pci *pci = container_of(d, struct hvx_pci, host);
	unsigned int i;

	for (i = 0; i < size; i++, val >>= 8) {
		u8 m = pci->host_wmask[off + i];

		pci->host_cfg[off + i] = (pci->host_cfg[off + i] & ~m) |
					 (val & m);
	}
}

static const struct hvx_pci_dev_ops host_ops = {
	.cfg_read	= host_cfg_read,
	.cfg_write	= host_cfg_write,
};

/*
 * The 82441FX's header as its datasheet gives the defaults: memory and
 * bus-master enable hardwired on (PCICMD 0006h), medium DEVSEL# and fast
 * back-to-back (PCISTS 0280h), class 06/00/00 (host bridge). SERR# enable
 * and the latency timer are writable; the chipset registers at 50h-FFh
 * (PAM, DRB, SMRAM ...) are plain storage here: guest RAM is what the
 * memory slots say, whatever the guest programs.
 */
static void host_bridge_init(struct hvx_pci *pci)
{
	u8 *c = pci->host_cfg;

	c[PCI_VENDOR_ID] = I440FX_VENDOR & 0xff;
	c[PCI_VENDOR_ID + 1] = I440FX_VENDOR >> 8;
	c[PCI_DEVICE_ID] = I440FX_DEVICE & 0xff;
	c[PCI_DEVICE_ID + 1] = I440FX_DEVICE >> 8;
	c[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	c[PCI_STATUS] = PCI_STATUS_FAST_BACK & 0xff;
	c[PCI_STATUS + 1] = PCI_STATUS_DEVSEL_MEDIUM >> 8;
	c[PCI_REVISION_ID] = I440FX_REVISION;
	c[PCI_CLASS_DEVICE] = PCI_CLASS_BRIDGE_HOST & 0xff;
	c[PCI_CLASS_DEVICE + 1] = PCI_CLASS_BRIDGE_HOST >> 8;
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	pci->host_wmask[PCI_COMMAND + 1] = PCI_COMMAND_SERR >> 8;
	pci->host_wmask[PCI_LATENCY_TIMER] = 0xf8;
	memset(&pci->host_wmask[0x50], 0xff, 0xb0);
	pci->host.ops = &host_ops;
	pci->host.devfn = PCI_DEVFN(0, 0);
	pci->devs[pci->host.devfn] = &pci->host;
}

/* The function CONFIG_ADDRESS selects, or NULL (master abort). */
static struct hvx_pci_dev *selected(struct hvx_pci *pci)
{
	u32 a = pci->addr;

	if (!(a & PCI_CFG_ENABLE) || ((a >> 16) & 0xff))
		return NULL;
	return pci->devs[(a >> 8) & 0xff];
}

/*
 * Only dword accesses to 0xcf8 reach CONFIG_ADDRESS; on a PC the other
 * sizes go to the ISA bus. hvx claims the four ports whole, so such
 * accesses read as all ones and are dropped (PIIX's reset control
 * register at 0xcf9 is not emulated).
 */
static int pci_read(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 port,
		    u8 size, u64 *val)
{
	struct hvx_pci *pci = container_of(dev, struct hvx_pci, iodev);
	struct hvx_pci_dev *d;
	unsigned int off;

	*val = ~0ull;
	mutex_lock(&pci->lock);
	if (port == PCI_CFG_ADDR_PORT && size == 4) {
		*val = pci->addr;
	} else if (port >= PCI_CFG_DATA_PORT) {
		d = selected(pci);
		off = (pci->addr & 0xfc) + (port & 3);
		if (d)
			*val = d->ops->cfg_read(d, off, size);
	}
	mutex_unlock(&pci->lock);
	return 0;
}

static int pci_write(struct hvx_io_dev *dev, struct hvx_vcpu *vcpu, u64 port,
		     u8 size, u64 val)
{
	struct hvx_pci *pci = container_of(dev, struct hvx_pci, iodev);
	struct hvx_pci_dev *d;
	unsigned int off;

	mutex_lock(&pci->lock);
	if (port == PCI_CFG_ADDR_PORT && size == 4) {
		/* Bits 1:0 are reserved and read back as zero. */
		pci->addr = (u32)val & ~3u;
	} else if (port >= PCI_CFG_DATA_PORT) {
		d = selected(pci);
		off = (pci->addr & 0xfc) + (port & 3);
		if (d)
			d->ops->cfg_write(d, off, size, (u32)val);
	}
	mutex_unlock(&pci->lock);
	return 0;
}

static const struct hvx_io_dev_ops pci_io_ops = {
	.read	= pci_read,
	.write	= pci_write,
};

/**
 * hvx_pci_create - create configuration mechanism #1 and bus 0
 * @vm: the VM (HVX_CREATE_PLATFORM with HVX_PLATFORM_PCI).
 *
 * Claims ports 0xcf8-0xcfb and 0xcfc-0xcff and puts the 440FX host
 * bridge (8086:1237) at 00:00.0.
 * Context: process context.
 * Return: 0, -ENOMEM, or the bus's error if a port is taken (-EEXIST).
 */
int hvx_pci_create(struct hvx_vm *vm)
{
	struct hvx_pci *pci;
	int ret;

	pci = kzalloc(sizeof(*pci), GFP_KERNEL_ACCOUNT);
	if (!pci)
		return -ENOMEM;
	mutex_init(&pci->lock);
	pci->iodev.ops = &pci_io_ops;
	host_bridge_init(pci);
	ret = hvx_bus_register(vm, HVX_BUS_PIO, PCI_CFG_ADDR_PORT, 8,
			       &pci->iodev);
	if (ret) {
		kfree(pci);
		return ret;
	}
	vm->plat->pci = pci;
	return 0;
}

/**
 * hvx_pci_destroy - remove bus 0 and its ports
 * @vm: the VM, being torn down. Functions still registered are forgotten
 *	(their owners free them).
 */
void hvx_pci_destroy(struct hvx_vm *vm)
{
	struct hvx_pci *pci = vm->plat->pci;

	if (!pci)
		return;
	hvx_bus_unregister(vm, &pci->iodev);
	vm->plat->pci = NULL;
	mutex_destroy(&pci->lock);
	kfree(pci);
}

/* Bus 0 of @vm once HVX_CREATE_PLATFORM has finished, or NULL. */
static struct hvx_pci *vm_pci(struct hvx_vm *vm)
{
	struct hvx_pci *pci = NULL;

	mutex_lock(&vm->lock);
	if (vm->plat && vm->plat_ready)
		pci = vm->plat->pci;
	mutex_unlock(&vm->lock);
	return pci;
}

/**
 * hvx_pci_add_device - put a function on bus 0 of a VM
 * @vm: the VM; the caller holds a reference for as long as @d is added.
 * @d: the function, with @d->ops and @d->devfn set. It must stay valid
 *	until hvx_pci_remove_device() or the VM's destruction.
 *
 * From the next configuration access on, the guest sees @d at
 * 00:@d->devfn. A bus scan only looks at functions 1-7 of a device whose
 * function 0 exists and reports itself multi-function (PCI 3.0 6.2.1,
 * header type bit 7); that is up to the caller.
 * Context: process context; takes vm->lock and the bus's mutex.
 * Return: 0, -EINVAL without @d->ops, -ENODEV if the VM has no
 * HVX_PLATFORM_PCI (or HVX_CREATE_PLATFORM has not finished), -EEXIST if
 * the slot is taken (00:00.0 is the host bridge).
 */
int hvx_pci_add_device(struct hvx_vm *vm, struct hvx_pci_dev *d)
{
	struct hvx_pci *pci = vm_pci(vm);
	int ret = 0;

	if (!d->ops || !d->ops->cfg_read || !d->ops->cfg_write)
		return -EINVAL;
	if (!pci)
		return -ENODEV;
	mutex_lock(&pci->lock);
	if (pci->devs[d->devfn])
		ret = -EEXIST;
	else
		pci->devs[d->devfn] = d;
	mutex_unlock(&pci->lock);
	return ret;
}

/**
 * hvx_pci_remove_device - take a function off bus 0
 * @vm: the VM @d was added to.
 * @d: the function; nothing happens if it is not on the bus.
 *
 * Once this returns no callback of @d runs any more, and the slot reads
 * as all ones.
 * Context: process context; takes vm->lock and the bus's mutex (so not
 * from @d's own callbacks).
 */
void hvx_pci_remove_device(struct hvx_vm *vm, struct hvx_pci_dev *d)
{
	struct hvx_pci *pci = vm_pci(vm);

	if (!pci)
		return;
	mutex_lock(&pci->lock);
	if (pci->devs[d->devfn] == d)
		pci->devs[d->devfn] = NULL;
	mutex_unlock(&pci->lock);
}

/**
 * hvx_pci_get_state - fill a HVX_STATE_PCI record's payload
 * @vm: the VM, with PCI configuration.
 * @s: the record, zeroed by the caller.
 *
 * Context: process context.
 */
void hvx_pci_get_state(struct hvx_vm *vm, struct hvx_state_pci *s)
{
	struct hvx_pci *pci = vm->plat->pci;

	mutex_lock(&pci->lock);
	s->config_address = pci->addr;
	memcpy(s->host_config, pci->host_cfg, sizeof(s->host_config));
	mutex_unlock(&pci->lock);
}

/**
 * hvx_pci_check_state - check a HVX_STATE_PCI record's payload
 * @vm: the VM, with PCI configuration.
 * @s: the record.
 *
 * Return: 0, or -EINVAL (nonzero @s->reserved, a byte of the host bridge
 * that the guest cannot write differs from the bridge's).
 */
int hvx_pci_check_state(struct hvx_vm *vm, const struct hvx_state_pci *s)
{
	struct hvx_pci *pci = vm->plat->pci;
	int ret = 0;
	int i;

	if (s->reserved)
		return -EINVAL;
	mutex_lock(&pci->lock);
	for (i = 0; i < sizeof(s->host_config); i++)
		if ((s->host_config[i] ^ pci->host_cfg[i]) & ~pci->host_wmask[i])
			ret = -EINVAL;
	mutex_unlock(&pci->lock);
	return ret;
}

/**
 * hvx_pci_set_state - load a checked HVX_STATE_PCI record
 * @vm: the VM, with PCI configuration, its vCPUs stopped.
 * @s: the record (hvx_pci_check_state() accepted it).
 *
 * Context: process context.
 */
void hvx_pci_set_state(struct hvx_vm *vm, const struct hvx_state_pci *s)
{
	struct hvx_pci *pci = vm->plat->pci;

	mutex_lock(&pci->lock);
	pci->addr = s->config_address;
	memcpy(pci->host_cfg, s->host_config, sizeof(pci->host_cfg));
	mutex_unlock(&pci->lock);
}
