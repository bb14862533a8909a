// SPDX-License-Identifier: GPL-2.0
/*
 * guest.c - an assigned device as the guest sees it: a function on the
 * VM's in-kernel PCI bus 0 (kmod/dev/pci.c) whose configuration space is
 * the virtualized one of config.c, and whose memory BARs are mapped
 * uncacheable into the EPT at the addresses the guest programs
 * (ept/mmio.c), so that register accesses cost no exit.
 *
 * A memory BAR is mapped while the device decodes memory (command bit 1,
 * PCI Local Bus Spec 3.0, 6.2.2) and the guest has given it a non-zero
 * address; a config write that moves it or turns decoding off zaps the
 * old mapping (with INVEPT on every CPU) before the write returns.
 * The page(s) of a BAR holding the MSI-X table or PBA are left out of the
 * EPT and claimed on the VM's device bus instead (trap.c): their accesses
 * exit but are handled in the kernel (the table and PBA emulated, the
 * rest of those pages forwarded to the device); the rest of that BAR is
 * mapped. Not mapped, and so HVX_EXIT_MMIO to userspace (which can
 * forward through the device fd): other BARs smaller than a page, and
 * BARs the guest places over RAM or another device.
 *
 * An I/O BAR the guest leaves at the host's ports (where it starts) with
 * I/O decode on (command bit 0) is passed through: its ports are cleared
 * in the VM's VMX I/O bitmaps (SDM Vol. 3C 25.6.4), so IN/OUT reach the
 * device without an exit. Moved to other ports, it is claimed there on
 * the device bus (trap.c), and each access exits and is forwarded to the
 * host's port in the kernel.
 *
 * INTx: when the VM has an I/O APIC, the device's pin drives GSI
 * 16 + ((slot + pin - 1) mod 4), the usual rotation of PCI interrupt
 * pins over four inputs (PCI-to-PCI Bridge Architecture Spec 1.2, 9.1),
 * which the guest also reads in its Interrupt Line register. The host
 * handler masks INTx and raises the GSI (level); the guest's EOI lowers
 * it and unmasks, and a device still asserting raises it again.
 *
 * MSI: when the guest enables MSI in the virtualized capability, hvx
 * gives the device host MSI vectors (the host's message in the device)
 * whose handler sends the guest's message to the in-kernel local APICs
 * (hvx_irq_msi()); per-vector masking holds messages pending. Disabling
 * MSI returns to INTx.
 *
 * MSI-X: when the guest enables MSI-X, the device gets a host MSI-X vector
 * per table entry (up to HVX_PCI_MAX_IRQ_FDS) whose handler sends that
 * entry of the guest's emulated table, honouring its Mask bit and the
 * Function Mask (a masked message is held pending in the emulated PBA and
 * sent when unmasked); disabling it returns to INTx.
 * HVX_DEVICE_SET_IRQS takes interrupts over from this wiring, and then
 * the guest's settings only change the virtualized registers.
 */
#include "pt.h"
#include "../kmod/dev/dev.h"
#include "../ept/ept.h"

static struct hvx_pt_dev *vpci_dev(struct hvx_pci_dev *d)
{
	return container_of(d, struct hvx_pt_dev, vpci);
}

/* Map, move or unmap one piece of a BAR in the EPT. Holds dev->lock. */
static void piece_sync(struct hvx_pt_dev *dev, struct hvx_mmio_range *m,
		       int i, u64 gpa, u64 hpa, u64 size, bool want)
{
	struct hvx_mem *mem = dev->ptvm->host->mem;
	int ret;

	want = want && size;
	if (m->npages && (!want || m->gpa != gpa)) {
		hvx_mmio_unmap(mem, m);
		dev->nr_remaps++;
	}
	if (!want || m->npages)
		return;
	dev->nr_remaps++;
	ret = hvx_mmio_map(mem, m, gpa, hpa, size);
	if (ret)
		pci_info_ratelimited(dev->pdev,
				     "hvx: BAR %d not mapped at guest %#llx (%d)\n",
				     i, gpa, ret);
}

/*
 * Map, move or unmap BAR @i to follow the guest: all of it, or for a BAR
 * holding the MSI-X table or PBA the parts below and above their pages
 * (which trap.c claims on the bus instead). Holds dev->lock.
 */
static void bar_sync(struct hvx_pt_dev *dev, int i, bool decode)
{
	struct hvx_pt_bar *b = &dev->bars[i];
	struct hvx_pt_trap *t = &dev->traps[i];
	u64 gpa = hvx_pt_bar_guest_addr(dev, i);
	u64 lo = t->len ? t->off : b->size;
	u64 hi = t->len ? t->off + t->len : b->size;
	bool want;

	want = decode && dev->alive && gpa;
	piece_sync(dev, &dev->bar_map[i], i, gpa, b->host, lo, want);
	piece_sync(dev, &dev->bar_map_hi[i], i, gpa + hi, b->host + hi,
		   b->size - hi, want);
	hvx_pt_trap_sync(dev, i, want);
}

/*
 * Pass I/O BAR @i through, or stop, to follow the guest. Holds dev->lock.
 *
 * The bitmaps are the VM's, in every vCPU's VMCS. A revocation returns
 * only once every vCPU that was running guest code has left it
 * (hvx_irq_exit_guest_all()), so no IN/OUT reaches the ports afterwards
 * and the processor no longer uses the bits as they were (SDM Vol. 3C
 * 25.11.4); the release of a device relies on it before the device goes
 * back to the host. A grant is not waited for: a running vCPU may exit
 * on the ports once more before it sees it, which is harmless.
 */
static void io_sync(struct hvx_pt_dev *dev, int i, bool decode)
{
	struct hvx_vm *vm = dev->ptvm->vm;
	struct hvx_pt_bar *b = &dev->bars[i];
	unsigned long *bm = dev->ptvm->host->io_bitmap;
	u64 port;
	bool want;

	u64 gport = hvx_pt_bar_guest_addr(dev, i);

	/* Elsewhere than the host's ports: forwarded by trap.c. */
	hvx_pt_trap_sync(dev, i, decode && dev->alive && gport &&
			 gport != b->host);
	want = decode && dev->alive && gport == b->host &&
	       b->host + b->size <= 0x10000;
	if (want == dev->io_passed[i])
		return;
	if (!bm)
		return;
	for (port = b->host; port < b->host + b->size; port++) {
		if (want)
			clear_bit(port, bm);
		else
			set_bit(port, bm);
	}
	dev->io_passed[i] = want;
	if (!want)
		hvx_irq_exit_guest_all(vm);
}

/* A memory BAR of at least a page, or one holding the MSI-X table/PBA. */
static bool bar_mappable(struct hvx_pt_dev *dev, int i)
{
	struct hvx_pt_bar *b = &dev->bars[i];

	return !(b->flags & HVX_PCI_REGION_IO) &&
	       (b->size >= PAGE_SIZE || dev->traps[i].len);
}

/* INTx to the guest's GSI again (after MSI), if still alive. Holds dev->lock. */
static void intx_rewire(struct hvx_pt_dev *dev)
{
	hvx_pt_irq_disable(dev);
	if (dev->alive)
		hvx_pt_guest_irq_init(dev);
}

/*
 * Follow the guest's MSI capability: enabled -> host MSI vectors sending
 * its message; message and mask changes -> the handler's copy (and
 * vectors unmasked with a message pending are sent); disabled -> INTx.
 * Holds dev->lock.
 */
static void msi_sync(struct hvx_pt_dev *dev)
{
	bool want = dev->alive && (dev->msi_ctrl & PCI_MSI_FLAGS_ENABLE);
	unsigned int count = 1 << ((dev->msi_ctrl & PCI_MSI_FLAGS_QSIZE) >> 4);
	unsigned long flags, send;
	unsigned int i;
	int ret;

	if (!dev->msi_cap || (dev->irq_type != HVX_PCI_IRQ_NONE && !dev->guest_irqs))
		return;		/* none, or userspace has the interrupts */
	if (!want) {
		if (dev->irq_type == HVX_PCI_IRQ_MSI) {
			dev->nr_remaps++;
			intx_rewire(dev);
		}
		return;
	}
	spin_lock_irqsave(&dev->irq_lock, flags);
	dev->gmsi_addr = dev->msi_addr;
	dev->gmsi_data = dev->msi_data;
	dev->gmsi_mask = dev->msi_mask;
	send = dev->gmsi_pending & ~dev->gmsi_mask;
	dev->gmsi_pending &= dev->gmsi_mask;
	spin_unlock_irqrestore(&dev->irq_lock, flags);
	if (dev->irq_type == HVX_PCI_IRQ_MSI && dev->nr_vecs == count) {
		for_each_set_bit(i, &send, count)
			hvx_pt_gmsi_send(dev, i);
		return;
	}
	dev->gmsi_pending = 0;
	dev->nr_remaps++;
	ret = hvx_pt_msi_to_guest(dev, count);
	if (ret) {
		pci_info_ratelimited(dev->pdev, "hvx: guest MSI (%u vectors) not set up (%d)\n",
				     count, ret);
		intx_rewire(dev);
	}
}

/*
 * Follow the guest's MSI-X capability: enabled -> host MSI-X vectors
 * sending the guest's table entries (and a cleared Function Mask sends
 * what is pending); disabled -> INTx. Holds dev->lock.
 */
static void msix_sync(struct hvx_pt_dev *dev)
{
	bool want = dev->alive && (dev->msix_ctrl & PCI_MSIX_FLAGS_ENABLE);
	int ret;

	if (!dev->msix_cap || (dev->irq_type != HVX_PCI_IRQ_NONE && !dev->guest_irqs))
		return;		/* none, or userspace has the interrupts */
	if (!want) {
		if (dev->irq_type == HVX_PCI_IRQ_MSIX) {
			dev->nr_remaps++;
			intx_rewire(dev);
		}
		return;
	}
	if (dev->irq_type == HVX_PCI_IRQ_MSIX) {
		hvx_pt_gmsix_flush(dev);
		return;
	}
	dev->nr_remaps++;
	ret = hvx_pt_msix_to_guest(dev);
	if (ret) {
		pci_info_ratelimited(dev->pdev, "hvx: guest MSI-X not set up (%d)\n",
				     ret);
		intx_rewire(dev);
	}
}

/**
 * hvx_pt_guest_sync - make the EPT and the I/O bitmap follow the guest's
 *	BARs and command register
 * @dev: the device (its lock held).
 *
 * Called after every config write and once at assignment; a released
 * device (!@dev->alive) loses every mapping, passed-through port and bus
 * claim (revoked ports: this waits until no vCPU runs guest code that
 * began before the revocation; claims are dropped without waiting:
 * hvx_pt_traps_unregister() waits).
 * Also sets up, updates or ends the guest's MSI and MSI-X (see the file
 * comment).
 * Context: process context, may sleep (EPT tables, INVEPT on every CPU,
 * the I/O bitmap's allocation, IPIs to the VM's running vCPUs); takes the
 * VM's memory lock.
 */
void hvx_pt_guest_sync(struct hvx_pt_dev *dev)
{
	u16 cmd = 0;
	int i;

	if (!dev->on_bus)
		return;
	if (dev->alive)
		pci_read_config_word(dev->pdev, PCI_COMMAND, &cmd);
	/* MSI-X wins over MSI: a guest must not enable both (PCI 3.0 6.8.2). */
	msix_sync(dev);
	if (!(dev->irq_type == HVX_PCI_IRQ_MSIX && dev->guest_irqs))
		msi_sync(dev);
	if (dev->ptvm->host->no_vcpus)
		return;		/* no EPT, no I/O bitmap: a DMA-only VM */
	for (i = 0; i < HVX_PT_NR_BARS; i++) {
		if (bar_mappable(dev, i))
			bar_sync(dev, i, cmd & PCI_COMMAND_MEMORY);
		else if (dev->bars[i].size &&
			 (dev->bars[i].flags & HVX_PCI_REGION_IO))
			io_sync(dev, i, cmd & PCI_COMMAND_IO);
	}
}

static u32 vpci_read(struct hvx_pci_dev *d, unsigned int off,
		     unsigned int size)
{
	struct hvx_pt_dev *dev = vpci_dev(d);
	u32 val = ~0u;

	mutex_lock(&dev->lock);
	if (dev->alive && hvx_pt_config_read(dev, off, size, &val))
		val = ~0u;
	mutex_unlock(&dev->lock);
	/*
	 * The guest sees a single-function device at function 0: header
	 * type bit 7 (multi-function, PCI 3.0 6.2.1) is cleared.
	 */
	if (off <= PCI_HEADER_TYPE && off + size > PCI_HEADER_TYPE)
		val &= ~(0x80u << ((PCI_HEADER_TYPE - off) * 8));
	return val;
}

/*
 * Each BAR move or decode toggle of the guest maps or unmaps EPT leaves
 * and flushes the EPT on the VM's CPUs (IPIs); each MSI or MSI-X enable
 * or disable frees and allocates host vectors. A guest may do this
 * HVX_PT_REMAP_BURST times per HVX_PT_REMAP_WINDOW and device; beyond,
 * the config write that caused it returns only at the end of the window,
 * so a guest cannot turn remaps into a steady load on the host. Firmware
 * and OSes size and place BARs a few times per device, far below this.
 */
#define HVX_PT_REMAP_BURST	64
#define HVX_PT_REMAP_WINDOW	HZ

/* Charge @n remaps; how long (jiffies) the writer must wait. Holds dev->lock. */
static long remap_charge(struct hvx_pt_dev *dev, u64 n)
{
	unsigned long now = jiffies;

	if (!dev->remap_end || time_after_eq(now, dev->remap_end)) {
		dev->remap_end = now + HVX_PT_REMAP_WINDOW;
		dev->remap_budget = HVX_PT_REMAP_BURST;
	}
	if (n <= dev->remap_budget) {
		dev->remap_budget -= n;
		return 0;
	}
	dev->remap_budget = 0;
	return dev->remap_end - now;
}

static void vpci_write(struct hvx_pci_dev *d, unsigned int off,
		       unsigned int size, u32 val)
{
	struct hvx_pt_dev *dev = vpci_dev(d);
	long wait = 0;
	u64 before;

	mutex_lock(&dev->lock);
	if (dev->alive && !hvx_pt_config_write(dev, off, size, val)) {
		before = dev->nr_remaps;
		hvx_pt_guest_sync(dev);
		if (dev->nr_remaps != before)
			wait = remap_charge(dev, dev->nr_remaps - before);
	}
	mutex_unlock(&dev->lock);
	/*
	 * In the vCPU's thread (an I/O exit), under the VM's PCI bus lock
	 * only: other VMs are not held up. A signal ends the wait; HVX_RUN
	 * then returns to the VMM before the guest runs again.
	 */
	if (wait)
		schedule_timeout_interruptible(wait);
}

static const struct hvx_pci_dev_ops vpci_ops = {
	.cfg_read	= vpci_read,
	.cfg_write	= vpci_write,
};

/**
 * hvx_pt_guest_attach - put an assigned device on the VM's PCI bus 0
 * @dev: the device, config space initialised, not yet alive.
 *
 * Takes the first free slot from 00:01.0 on, at function 0. A VM without
 * HVX_PLATFORM_PCI gets no guest view (the device is still usable through
 * its device fd).
 * Context: process context; takes vm->lock and the PCI bus's mutex.
 * Return: 0 (also without a PCI bus), or -ENOSPC if bus 0 is full.
 */
int hvx_pt_guest_attach(struct hvx_pt_dev *dev)
{
	int slot, ret;

	dev->vpci.ops = &vpci_ops;
	for (slot = 1; slot < 32; slot++) {
		dev->vpci.devfn = PCI_DEVFN(slot, 0);
		ret = hvx_pci_add_device(dev->ptvm->vm, &dev->vpci);
		if (ret == -ENODEV)
			return 0;
		if (!ret) {
			dev->on_bus = true;
			pci_info_ratelimited(dev->pdev, "hvx: at 00:%02x.0 of VM %u\n",
					     slot, dev->ptvm->host->id);
			return 0;
		}
	}
	return -ENOSPC;
}

/**
 * hvx_pt_guest_detach - take an assigned device off the guest's bus
 * @dev: the device; its lock NOT held (the bus waits for running config
 *	accesses, which take it).
 *
 * Once this returns the guest cannot reach the config space; the EPT
 * mappings go with hvx_pt_guest_sync() once the device is not alive.
 * Context: process context; takes vm->lock and the PCI bus's mutex.
 */
void hvx_pt_guest_detach(struct hvx_pt_dev *dev)
{
	if (!dev->on_bus)
		return;
	hvx_pci_remove_device(dev->ptvm->vm, &dev->vpci);
}

/**
 * hvx_pt_guest_irq_init - wire INTx of a device on the guest's bus to
 *	the VM's I/O APIC
 * @dev: the device (its lock held, alive).
 *
 * Nothing happens for a device off the bus, without INTx, or in a VM
 * without HVX_PLATFORM_IOAPIC. A failure (a host line shared with a
 * device that cannot be masked at the device) is logged and leaves INTx
 * to HVX_DEVICE_SET_IRQS.
 * Context: process context.
 */
void hvx_pt_guest_irq_init(struct hvx_pt_dev *dev)
{
	struct hvx_vm *vm = dev->ptvm->vm;
	u8 pin = dev->pdev->pin;
	u32 gsi;
	int ret;

	if (!dev->on_bus || !pin || !hvx_vm_has_ioapic(vm))
		return;
	gsi = 16 + ((PCI_SLOT(dev->vpci.devfn) + pin - 1) & 3);
	ret = hvx_pt_intx_to_gsi(dev, gsi);
	if (ret) {
		pci_info_ratelimited(dev->pdev, "hvx: INTx not wired to GSI %u (%d)\n",
				     gsi, ret);
		return;
	}
	dev->vline = gsi;
}

/**
 * hvx_pt_intx_eoi - the guest EOI'd a level-triggered GSI
 * @n: the VM's passthrough ack notifier (struct hvx_pt_vm, @ack).
 * @gsi: the I/O APIC input whose Remote IRR was cleared.
 *
 * Every assigned device whose INTx drives @gsi lowers it and is unmasked
 * (hvx_pt_intx_unmask()); one that still asserts INTx raises it again at
 * once, as a level-triggered line would.
 * Context: process context (the vCPU's thread), no I/O APIC lock held;
 * takes the VM's passthrough lock and each device's lock.
 */
void hvx_pt_intx_eoi(struct hvx_irq_ack_notifier *n, u32 gsi)
{
	struct hvx_pt_vm *ptvm = container_of(n, struct hvx_pt_vm, ack);
	struct hvx_vm *vm = ptvm->vm;
	struct hvx_pt_dev *dev;

	mutex_lock(&ptvm->lock);
	list_for_each_entry(dev, &ptvm->devs, vm_node) {
		mutex_lock(&dev->lock);
		if (dev->alive && dev->guest_intx && dev->guest_gsi == gsi) {
			hvx_irq_set_gsi(vm, gsi, 0);
			hvx_pt_intx_unmask(dev);
		}
		mutex_unlock(&dev->lock);
	}
	mutex_unlock(&ptvm->lock);
}
