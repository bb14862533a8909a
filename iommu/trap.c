// SPDX-License-Identifier: GPL-2.0
/*
 * trap.c - the parts of an assigned device's BARs that the guest cannot
 * reach directly, claimed on the VM's device bus (kmod/dev/bus.c) so that
 * each access is handled in the kernel, with no exit to userspace:
 *
 * - the page(s) of a memory BAR holding the MSI-X table or PBA (PCI Local
 *   Bus Spec 3.0, 6.8.2): not in the EPT, so an access is an EPT
 *   violation that the bus sends here. The table and PBA are emulated
 *   (config.c, hvx_pt_msix_table_rw()); other bytes of those pages go to
 *   the device. The rest of the BAR stays in the EPT (guest.c).
 * - an I/O BAR the guest moved off the host's ports: the VMX I/O bitmap
 *   cannot pass it through (SDM Vol. 3C 25.6.4: a port is the same in
 *   guest and host), so its guest ports exit and are forwarded here to
 *   the host's ports. At the host's ports it is passed through instead.
 *
 * A claim follows the guest's BAR address and decode enable
 * (hvx_pt_trap_sync() from every config write) with hvx_bus_move(), which
 * does not wait for running accesses and so may run inside a guest's
 * configuration access; the callbacks take the device's lock and drop an
 * access that no longer falls in the current claim (a BAR that just
 * moved). Release takes the claims away for good and waits for running
 * accesses (hvx_pt_traps_unregister()) outside the device's lock.
 */
#include "pt.h"

static int trap_access(struct hvx_pt_trap *t, u64 addr, u8 size, u64 *val,
		       bool write)
{
	struct hvx_pt_dev *dev = t->dev;
	u64 off;

	mutex_lock(&dev->lock);
	off = addr - t->gbase;
	/*
	 * Dropped: an access to a released device, a stale one to a BAR
	 * that just moved, one the BAR refuses (a byte of the MSI-X table:
	 * PCI 3.0 6.8.2 allows dword and qword accesses only).
	 */
	if (dev->alive && t->claimed && off < t->len && size <= t->len - off)
		hvx_pt_bar_rw(dev, t->bar, t->off + off, size, val, write);
	mutex_unlock(&dev->lock);
	return 0;
}

static int trap_read(struct hvx_io_dev *io, struct hvx_vcpu *vcpu, u64 addr,
		     u8 size, u64 *val)
{
	*val = ~0ull;		/* what an access nobody answers reads */
	return trap_access(container_of(io, struct hvx_pt_trap, io), addr,
			   size, val, false);
}

static int trap_write(struct hvx_io_dev *io, struct hvx_vcpu *vcpu, u64 addr,
		      u8 size, u64 val)
{
	return trap_access(container_of(io, struct hvx_pt_trap, io), addr,
			   size, &val, true);
}

static const struct hvx_io_dev_ops trap_ops = {
	.read	= trap_read,
	.write	= trap_write,
};

/**
 * hvx_pt_traps_init - find the parts of each BAR to trap
 * @dev: the device, its config space initialised (BARs and MSI-X
 *	capability known), not yet alive.
 *
 * An I/O BAR is trapped whole (when the guest moves it); a memory BAR
 * holding the MSI-X table or PBA has their pages trapped, or all of it
 * if it is smaller than a page.
 * Context: process context.
 */
void hvx_pt_traps_init(struct hvx_pt_dev *dev)
{
	int i;

	for (i = 0; i < HVX_PT_NR_BARS; i++) {
		struct hvx_pt_trap *t = &dev->traps[i];
		struct hvx_pt_bar *b = &dev->bars[i];
		u64 start, size;

		t->io.ops = &trap_ops;
		t->dev = dev;
		t->bar = i;
		if (!b->size)
			continue;
		if (b->flags & HVX_PCI_REGION_IO) {
			t->space = HVX_BUS_PIO;
			if (b->host + b->size <= 0x10000)
				t->len = b->size;
		} else if (hvx_pt_bar_in_msix(dev, i, 0, b->size, &start, &size)) {
			t->space = HVX_BUS_MMIO;
			t->off = start;
			t->len = min(start + size, b->size) - start;
		}
	}
}

/**
 * hvx_pt_trap_sync - claim, move or drop the trapped part of a BAR
 * @dev: the device (its lock held).
 * @bar: BAR index.
 * @want: the part should be claimed at the guest's address of the BAR
 *	(decoding on, the device alive, and for an I/O BAR not at the
 *	host's ports).
 *
 * A claim that cannot be placed (it would overlap another device's, e.g.
 * an I/O BAR moved over the PIC's ports) is dropped and logged: its
 * accesses then exit to userspace like any unclaimed address.
 * Context: process context, also inside the guest's configuration access
 * (does not wait for the bus's readers); takes vm->lock.
 */
void hvx_pt_trap_sync(struct hvx_pt_dev *dev, int bar, bool want)
{
	struct hvx_pt_trap *t = &dev->traps[bar];
	struct hvx_vm *vm = dev->ptvm->vm;
	u64 gbase = hvx_pt_bar_guest_addr(dev, bar) + t->off;
	int ret;

	if (!t->len || (want == t->claimed && (!want || gbase == t->gbase)))
		return;
	ret = hvx_bus_move(vm, t->space, &t->io, gbase, want ? t->len : 0);
	if (!ret) {
		t->gbase = gbase;
		t->claimed = want;
		return;
	}
	pci_info_ratelimited(dev->pdev,
			     "hvx: BAR %d %s at guest %#llx not trapped (%d)\n",
			     bar, t->space == HVX_BUS_PIO ? "ports" : "MSI-X pages",
			     gbase, ret);
	/* Not at the old place either (only -ENOMEM can fail this). */
	hvx_bus_move(vm, t->space, &t->io, 0, 0);
	t->claimed = false;
}

/**
 * hvx_pt_traps_unregister - take every claim of a released device off the
 *	bus and wait for accesses still running
 * @dev: the device, no longer alive; its lock NOT held (the callbacks
 *	take it).
 *
 * Once this returns no callback of @dev runs, so it may be freed.
 * Context: process context; takes vm->lock, waits for the bus's readers.
 */
void hvx_pt_traps_unregister(struct hvx_pt_dev *dev)
{
	int i;

	for (i = 0; i < HVX_PT_NR_BARS; i++)
		if (dev->traps[i].len)
			hvx_bus_unregister(dev->ptvm->vm, &dev->traps[i].io);
}
