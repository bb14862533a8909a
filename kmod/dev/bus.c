// SPDX-License-Identifier: GPL-2.0
/*
 * bus.c - the port and MMIO bus of a VM's in-kernel devices.
 *
 * Each address space has a sorted table of claims. The exit path looks an
 * access up under SRCU (device callbacks may sleep); a registration
 * builds a new table under vm->lock, publishes it and frees the old one
 * after synchronize_srcu(). Claims change rarely (device creation, a
 * guest moving a passthrough BAR), accesses are the hot path.
 *
 * The platform devices' ports (PIC, PIT, UART, RTC) are also kept in a
 * small fixed table in struct hvx_platform, which port accesses search
 * first, without SRCU: those devices exist from HVX_CREATE_PLATFORM,
 * before any vCPU, until the VM is freed, after the last one. A bitmap
 * of the claimed ports (struct hvx_dev_bus.pio_claimed), tested first by
 * the exit fast path (which searches only that table) and again by the
 * normal path, sends an access to a port no device claims, the VMM's, to
 * userspace at the cost of a bit test instead of both searches.
 */
#include <linux/slab.h>

#include "../hvx_core.h"
#include "dev.h"

#define HVX_NR_PORTS	0x10000

struct hvx_bus_range {
	u64 base, len;
	struct hvx_io_dev *dev;
};

struct hvx_bus_table {
	struct rcu_head rcu;	/* hvx_bus_move() frees it with call_srcu() */
	unsigned int n;
	struct hvx_bus_range r[];
};

/**
 * hvx_bus_init - set up the empty bus of a new VM
 * @vm: the VM, being created.
 *
 * Return: 0 or -ENOMEM.
 */
int hvx_bus_init(struct hvx_vm *vm)
{
	int ret;

	vm->bus.pio_claimed = bitmap_zalloc(HVX_NR_PORTS, GFP_KERNEL_ACCOUNT);
	if (!vm->bus.pio_claimed)
		return -ENOMEM;
	ret = init_srcu_struct(&vm->bus.srcu);
	if (ret)
		bitmap_free(vm->bus.pio_claimed);
	return ret;
}

/**
 * hvx_bus_destroy - free the bus of a VM
 * @vm: the VM; no vCPU exists and every device has unregistered (what
 *	is left is freed anyway).
 */
void hvx_bus_destroy(struct hvx_vm *vm)
{
	int i;

	srcu_barrier(&vm->bus.srcu);	/* tables hvx_bus_move() replaced */
	for (i = 0; i < HVX_NR_BUS_SPACES; i++)
		kfree(rcu_dereference_protected(vm->bus.table[i], 1));
	cleanup_srcu_struct(&vm->bus.srcu);
	bitmap_free(vm->bus.pio_claimed);
}

static struct hvx_bus_table *table_of(struct hvx_vm *vm, int space)
{
	return rcu_dereference_protected(vm->bus.table[space],
					 lockdep_is_held(&vm->lock));
}

/*
 * Mark the ports of a claim (@claimed) or unmark them, under vm->lock:
 * before the table that adds it is published, after the one that drops
 * it is (rcu_assign_pointer() orders the bits before the table). Claims
 * never overlap, so a port's bit is its one claim's. Atomic bit
 * operations: the exit path reads the words meanwhile.
 */
static void pio_mark(struct hvx_vm *vm, enum hvx_bus_space space, u64 base,
		     u64 len, bool claimed)
{
	u64 port;

	if (space != HVX_BUS_PIO)
		return;
	for (port = base; port < base + len; port++) {
		if (claimed)
			set_bit(port, vm->bus.pio_claimed);
		else
			clear_bit(port, vm->bus.pio_claimed);
	}
}

/*
 * After a table without @dev's claims of @t (or with one of them,
 * [@keep, @keep + @keep_len)) is published: unmark the ports dropped.
 */
static void pio_unmark_dev(struct hvx_vm *vm, enum hvx_bus_space space,
			   const struct hvx_bus_table *t,
			   const struct hvx_io_dev *dev, u64 keep, u64 keep_len)
{
	unsigned int i;
	u64 port;

	for (i = 0; space == HVX_BUS_PIO && t && i < t->n; i++) {
		const struct hvx_bus_range *r = &t->r[i];

		if (r->dev != dev)
			continue;
		for (port = r->base; port < r->base + r->len; port++)
			if (port < keep || port - keep >= keep_len)
				clear_bit(port, vm->bus.pio_claimed);
	}
}

/**
 * hvx_bus_register - claim a range of ports or guest-physical addresses
 * @vm: the VM.
 * @space: HVX_BUS_PIO or HVX_BUS_MMIO.
 * @base: first port or GPA of the range.
 * @len: its length, ports or bytes; at least 1.
 * @dev: the device that handles accesses; may claim several ranges.
 *
 * Context: process context; takes vm->lock and waits for running
 * accesses to finish (synchronize_srcu()).
 * Return: 0, -EINVAL for an empty or wrapping range (or a port range
 * beyond 0xffff), -EEXIST if it overlaps a claimed range, -ENOMEM.
 */
int hvx_bus_register(struct hvx_vm *vm, enum hvx_bus_space space, u64 base,
		     u64 len, struct hvx_io_dev *dev)
{
	struct hvx_bus_table *old, *new;
	unsigned int i, j, n;

	if (space >= HVX_NR_BUS_SPACES || !len || base + len < base ||
	    (space == HVX_BUS_PIO && base + len > 0x10000))
		return -EINVAL;
	mutex_lock(&vm->lock);
	old = table_of(vm, space);
	n = old ? old->n : 0;
	for (i = 0; i < n; i++) {
		const struct hvx_bus_range *r = &old->r[i];

		if (base < r->base + r->len && r->base < base + len) {
			mutex_unlock(&vm->lock);
			return -EEXIST;
		}
		if (r->base > base)
			break;
	}
	new = kmalloc(struct_size(new, r, n + 1), GFP_KERNEL_ACCOUNT);
	if (!new) {
		mutex_unlock(&vm->lock);
		return -ENOMEM;
	}
	new->n = n + 1;
	for (j = 0; j < i; j++)
		new->r[j] = old->r[j];
	new->r[i] = (struct hvx_bus_range){ base, len, dev };
	for (j = i; j < n; j++)
		new->r[j + 1] = old->r[j];
	pio_mark(vm, space, base, len, true);
	rcu_assign_pointer(vm->bus.table[space], new);
	mutex_unlock(&vm->lock);
	synchronize_srcu(&vm->bus.srcu);
	kfree(old);
	return 0;
}

/**
 * hvx_bus_unregister - drop every claim of a device
 * @vm: the VM.
 * @dev: the device; once this returns no access reaches it any more.
 *
 * Context: process context; takes vm->lock and waits for running
 * accesses. Cannot fail: a table that cannot shrink for lack of memory
 * is kept with the entries pointing nowhere (len 0).
 */
void hvx_bus_unregister(struct hvx_vm *vm, struct hvx_io_dev *dev)
{
	struct hvx_bus_table *old[HVX_NR_BUS_SPACES] = { };
	struct hvx_platform *plat = vm->plat;
	unsigned int i;
	int space;

	mutex_lock(&vm->lock);
	for (i = 0; plat && i < plat->npio; i++)
		if (plat->pio[i].dev == dev)
			WRITE_ONCE(plat->pio[i].len, 0);
	for (space = 0; space < HVX_NR_BUS_SPACES; space++) {
		struct hvx_bus_table *t = table_of(vm, space), *new;
		unsigned int i, n = 0;

		if (!t)
			continue;
		for (i = 0; i < t->n; i++)
			n += t->r[i].dev != dev;
		if (n == t->n)
			continue;
		new = kmalloc(struct_size(new, r, n), GFP_KERNEL_ACCOUNT);
		if (!new) {
			/* Disable the claims in place; readers see len 0. */
			for (i = 0; i < t->n; i++) {
				struct hvx_bus_range *r = &t->r[i];
				u64 len = r->len;

				if (r->dev != dev)
					continue;
				WRITE_ONCE(r->len, 0);
				pio_mark(vm, space, r->base, len, false);
			}
			continue;
		}
		new->n = 0;
		for (i = 0; i < t->n; i++)
			if (t->r[i].dev != dev)
				new->r[new->n++] = t->r[i];
		rcu_assign_pointer(vm->bus.table[space], new);
		pio_unmark_dev(vm, space, t, dev, 0, 0);
		old[space] = t;
	}
	mutex_unlock(&vm->lock);
	synchronize_srcu(&vm->bus.srcu);
	for (space = 0; space < HVX_NR_BUS_SPACES; space++)
		kfree(old[space]);
}

/**
 * hvx_bus_register_fixed - claim ports for a platform device
 * @vm: the VM, whose platform is being created (no vCPU exists yet).
 * @base: first port.
 * @len: ports, at least 1.
 * @dev: the device.
 * @irqoff: its callbacks never sleep (spinlocks only), so exits may call
 *	them with interrupts off (struct hvx_vmx_dev_ops.pio_fast).
 *
 * As hvx_bus_register(), and the range also goes into the fixed table
 * that port accesses search first. hvx_bus_unregister() drops it.
 * Context: process context, during hvx_platform_create().
 * Return: as hvx_bus_register().
 */
int hvx_bus_register_fixed(struct hvx_vm *vm, u16 base, u16 len,
			   struct hvx_io_dev *dev, bool irqoff)
{
	struct hvx_platform *plat = vm->plat;
	int ret;

	ret = hvx_bus_register(vm, HVX_BUS_PIO, base, len, dev);
	if (ret || !plat)
		return ret;
	mutex_lock(&vm->lock);
	if (!WARN_ON_ONCE(plat->npio >= HVX_PIO_FIXED))
		plat->pio[plat->npio++] = (struct hvx_pio_fixed){
			.base = base, .len = len, .irqoff = irqoff, .dev = dev,
		};
	mutex_unlock(&vm->lock);
	return 0;
}

static void table_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct hvx_bus_table, rcu));
}

/**
 * hvx_bus_move - replace a device's claims in one space, without waiting
 * @vm: the VM.
 * @space: HVX_BUS_PIO or HVX_BUS_MMIO.
 * @dev: the device.
 * @base: first port or GPA of its new range.
 * @len: its length, ports or bytes; 0 only drops the old claims.
 *
 * Every claim of @dev in @space is replaced by [@base, @base + @len) in
 * one step (for a guest moving a passthrough BAR). Unlike
 * hvx_bus_register() and hvx_bus_unregister() this does not wait for
 * running accesses: the replaced table is freed after an SRCU grace
 * period (call_srcu()), so it may be called from a device's own
 * callbacks or a PCI configuration write (inside the bus's SRCU read
 * section). An access already running may still reach @dev at its old
 * range: @dev must check the address against its own state. A device
 * that goes away must still call hvx_bus_unregister() before it is freed.
 * Context: process context, may sleep (vm->lock, a GFP_KERNEL_ACCOUNT
 * allocation), but never waits for the bus's readers.
 * Return: 0; -EINVAL for a wrapping range or a port range beyond 0xffff;
 * -EEXIST if it overlaps another device's claim; -ENOMEM. Nothing changes
 * on error.
 */
int hvx_bus_move(struct hvx_vm *vm, enum hvx_bus_space space,
		 struct hvx_io_dev *dev, u64 base, u64 len)
{
	struct hvx_bus_table *old, *new;
	unsigned int i, n;
	bool placed = !len;

	if (space >= HVX_NR_BUS_SPACES || base + len < base ||
	    (space == HVX_BUS_PIO && base + len > 0x10000))
		return -EINVAL;
	mutex_lock(&vm->lock);
	old = table_of(vm, space);
	n = old ? old->n : 0;
	for (i = 0; i < n && len; i++) {
		const struct hvx_bus_range *r = &old->r[i];

		if (r->dev != dev && base < r->base + r->len &&
		    r->base < base + len) {
			mutex_unlock(&vm->lock);
			return -EEXIST;
		}
	}
	new = kmalloc(struct_size(new, r, n + 1), GFP_KERNEL_ACCOUNT);
	if (!new) {
		mutex_unlock(&vm->lock);
		return -ENOMEM;
	}
	new->n = 0;
	for (i = 0; i < n; i++) {
		const struct hvx_bus_range *r = &old->r[i];

		if (r->dev == dev)
			continue;
		if (!placed && r->base > base) {
			new->r[new->n++] = (struct hvx_bus_range){ base, len, dev };
			placed = true;
		}
		new->r[new->n++] = *r;
	}
	if (!placed)
		new->r[new->n++] = (struct hvx_bus_range){ base, len, dev };
	pio_mark(vm, space, base, len, true);
	rcu_assign_pointer(vm->bus.table[space], new);
	pio_unmark_dev(vm, space, old, dev, base, len);
	mutex_unlock(&vm->lock);
	if (old)
		call_srcu(&vm->bus.srcu, &old->rcu, table_free_rcu);
	return 0;
}

/*
 * The claim holding @addr in the sorted, disjoint ranges of @t, or NULL.
 * A binary search inline: bsearch() calls its comparison through a
 * pointer at every step (a retpoline where they are on).
 */
static const struct hvx_bus_range *bus_find(const struct hvx_bus_table *t,
					    u64 addr)
{
	unsigned int lo = 0, hi = t->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct hvx_bus_range *r = &t->r[mid];

		if (addr < r->base) {
			hi = mid;
			continue;
		}
		if (addr - r->base < r->len)
			return r;
		lo = mid + 1;
	}
	return NULL;
}

/* Find the device claiming [addr, addr + size) and run the access. */
static int bus_access(struct hvx_vcpu *vcpu, int space, u64 addr, bool read,
		      u8 size, u64 *val)
{
	struct hvx_vm *vm = vcpu->vm;
	const struct hvx_bus_range *r = NULL;
	struct hvx_bus_table *t;
	int idx, ret = -ENOENT;

	idx = srcu_read_lock(&vm->bus.srcu);
	t = srcu_dereference(vm->bus.table[space], &vm->bus.srcu);
	if (t)
		r = bus_find(t, addr);
	/* An access that runs past the end of the claim is not the device's. */
	if (r && addr + size - r->base <= READ_ONCE(r->len)) {
		if (read)
			ret = r->dev->ops->read(r->dev, vcpu, addr, size, val);
		else
			ret = r->dev->ops->write(r->dev, vcpu, addr, size, *val);
	}
	srcu_read_unlock(&vm->bus.srcu, idx);
	return ret;
}

/* The platform device whose fixed range holds [port, port + size), or NULL. */
static const struct hvx_pio_fixed *pio_fixed(struct hvx_vm *vm, u16 port,
					     u8 size)
{
	const struct hvx_platform *plat = vm->plat;
	unsigned int i;

	for (i = 0; plat && i < plat->npio; i++) {
		const struct hvx_pio_fixed *f = &plat->pio[i];

		if ((u16)(port - f->base) < f->len &&
		    port + size - f->base <= f->len)
			return f;
	}
	return NULL;
}

static int pio_call(const struct hvx_pio_fixed *f, struct hvx_vcpu *vcpu,
		    u16 port, bool in, u8 size, u64 *val)
{
	if (in)
		return f->dev->ops->read(f->dev, vcpu, port, size, val);
	return f->dev->ops->write(f->dev, vcpu, port, size, *val);
}

/*
 * A port no device claims (no access that starts there is a device's:
 * one claim must hold all of it) goes to userspace without a search.
 */
static int dev_pio(struct hvx_vmx_vcpu *v, u16 port, bool in, u8 size,
		   u64 *val)
{
	struct hvx_vcpu *vcpu = to_hvx_vcpu(v);
	const struct hvx_pio_fixed *f;

	if (!test_bit(port, vcpu->vm->bus.pio_claimed))
		return -ENOENT;
	f = pio_fixed(vcpu->vm, port, size);
	if (f)
		return pio_call(f, vcpu, port, in, size, val);
	return bus_access(vcpu, HVX_BUS_PIO, port, in, size, val);
}

/*
 * With interrupts off: only devices whose callbacks never sleep. A miss
 * takes the normal path (dev_pio()) as it would anyway. A port of the
 * VMM's is told by the bitmap before the search of the platform table:
 * one bit test for the in-kernel devices' ports, the search saved for
 * every exit to userspace.
 */
static int dev_pio_fast(struct hvx_vmx_vcpu *v, u16 port, bool in, u8 size,
			u64 *val)
{
	struct hvx_vcpu *vcpu = to_hvx_vcpu(v);
	const struct hvx_pio_fixed *f;

	if (!test_bit(port, vcpu->vm->bus.pio_claimed))
		return -ENOENT;
	f = pio_fixed(vcpu->vm, port, size);
	if (!f || !f->irqoff)
		return -EAGAIN;
	return pio_call(f, vcpu, port, in, size, val);
}

static int dev_mmio(struct hvx_vmx_vcpu *v, u64 gpa, bool write, u8 size,
		    u64 *val)
{
	return bus_access(to_hvx_vcpu(v), HVX_BUS_MMIO, gpa, !write, size, val);
}

static int dev_intr_pending(struct hvx_vmx_vcpu *v)
{
	return hvx_irq_pending(to_hvx_vcpu(v));
}

static int dev_intr_ack(struct hvx_vmx_vcpu *v, int vector, int *src)
{
	return hvx_irq_ack(to_hvx_vcpu(v), vector, src);
}

static const struct hvx_vmx_dev_ops hvx_dev_ops = {
	.pio		= dev_pio,
	.pio_fast	= dev_pio_fast,
	.mmio		= dev_mmio,
	.intr_pending	= dev_intr_pending,
	.intr_ack	= dev_intr_ack,
};

/**
 * hvx_dev_vcpu_init - connect a new vCPU's exit handlers to the bus
 * @vcpu: the vCPU, before it first runs.
 */
void hvx_dev_vcpu_init(struct hvx_vcpu *vcpu)
{
	vcpu->vmx.dev_ops = &hvx_dev_ops;
}
