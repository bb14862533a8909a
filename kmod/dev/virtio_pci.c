// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_pci.c - the virtio 1.x PCI transport (virtio 1.1, 4.1), modern
 * only, for in-kernel devices on the VM's bus 0, and each device's worker.
 *
 * The function is 1af4:(1040 + device id), revision 1. Its one memory BAR
 * (BAR 0, 32-bit, 16 KiB) holds the common configuration, the ISR, the
 * device configuration, the notification registers (one dword per queue)
 * and the MSI-X table and PBA (PCI 3.0, 6.8.2); the vendor capabilities
 * point into it (4.1.4). Every access to the BAR is an EPT violation that
 * the MMIO bus hands to this file: nothing exits to userspace. A write to
 * a queue's notification register marks the queue and wakes the device's
 * worker thread, which serves the queue with the VM owner's mm in use and
 * interrupts the guest through the in-kernel LAPICs (MSI-X) or the INTx
 * GSI.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/file.h>
#include <net/netlink.h>
#include <linux/kthread.h>
#include <linux/pci.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "../hvx_core.h"
#include "virtio.h"

/* BAR 0 layout. */
#define BAR_SIZE	0x4000
#define OFF_COMMON	0x0000
#define OFF_ISR		0x1000
#define OFF_DEVICE	0x2000
#define OFF_NOTIFY	0x3000
#define OFF_MSIX	0x3800
#define OFF_PBA		0x3c00
#define NOTIFY_MULT	4
#define ISR_QUEUE	0x1	/* ISR bit 0: a queue was used (4.1.4.5) */

/* Configuration-space layout: MSI-X, then the virtio capabilities. */
#define CAP_MSIX	0x40
#define CAP_COMMON	0x4c
#define CAP_NOTIFY	0x5c
#define CAP_ISR		0x70
#define CAP_DEVICE	0x80

#define VIRTIO_VENDOR	0x1af4
#define VIRTIO_DEV_BASE	0x1040
#define VIRTIO_SUBSYS	0x1100

/* Requests served per queue before the worker looks at the others. */
#define BATCH		64

static void put8(u8 *c, unsigned int off, u8 v)
{
	c[off] = v;
}

static void put16(u8 *c, unsigned int off, u16 v)
{
	c[off] = v;
	c[off + 1] = v >> 8;
}

static void put32(u8 *c, unsigned int off, u32 v)
{
	put16(c, off, v);
	put16(c, off + 2, v >> 16);
}

static u32 get32(const u8 *c, unsigned int off)
{
	return c[off] | c[off + 1] << 8 | c[off + 2] << 16 | (u32)c[off + 3] << 24;
}

static u16 command(const struct hvx_virtio *d)
{
	return d->cfg[PCI_COMMAND] | d->cfg[PCI_COMMAND + 1] << 8;
}

static bool msix_on(const struct hvx_virtio *d)
{
	return d->cfg[CAP_MSIX + PCI_MSIX_FLAGS + 1] & (PCI_MSIX_FLAGS_ENABLE >> 8);
}

static bool msix_masked(const struct hvx_virtio *d)
{
	return d->cfg[CAP_MSIX + PCI_MSIX_FLAGS + 1] & (PCI_MSIX_FLAGS_MASKALL >> 8);
}

/* Drive INTx from the ISR (4.1.4.5) unless interrupts are disabled. */
static void intx_update(struct hvx_virtio *d)
{
	bool level = d->isr && !msix_on(d) &&
		     !(command(d) & PCI_COMMAND_INTX_DISABLE);

	if (level)
		d->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		d->cfg[PCI_STATUS] &= ~PCI_STATUS_INTERRUPT;
	if (level == d->intx)
		return;
	d->intx = level;
	hvx_irq_set_gsi(d->vm, d->gsi, level);
}

static void msix_send(struct hvx_virtio *d, unsigned int v)
{
	u32 *e = d->msix_table[v];

	if (!hvx_irq_msi_check(e[PCI_MSIX_ENTRY_LOWER_ADDR / 4],
			       e[PCI_MSIX_ENTRY_UPPER_ADDR / 4],
			       e[PCI_MSIX_ENTRY_DATA / 4]))
		hvx_irq_msi(d->vm, e[PCI_MSIX_ENTRY_LOWER_ADDR / 4],
			    e[PCI_MSIX_ENTRY_UPPER_ADDR / 4],
			    e[PCI_MSIX_ENTRY_DATA / 4], HVX_IRQ_SRC_MSI);
}

/*
 * Interrupt the driver: MSI-X vector @vec if MSI-X is on (pending while
 * masked, PCI 3.0 6.8.3.4), else set @isr in the ISR and raise INTx.
 * Caller holds d->lock.
 */
static void notify_driver(struct hvx_virtio *d, u16 vec, u8 isr)
{
	lockdep_assert_held(&d->lock);
	atomic64_inc(&d->nr_irqs);
	if (!msix_on(d)) {
		d->isr |= isr;
		intx_update(d);
		return;
	}
	if (vec >= HVX_VIRTIO_MSIX_VECS)
		return;		/* VIRTIO_MSI_NO_VECTOR: no interrupt */
	if (msix_masked(d) ||
	    (d->msix_table[vec][PCI_MSIX_ENTRY_VECTOR_CTRL / 4] &
	     PCI_MSIX_ENTRY_CTRL_MASKBIT)) {
		__set_bit(vec, &d->msix_pba);
		return;
	}
	msix_send(d, vec);
}

/* Send what became unmasked and is pending. Caller holds d->lock. */
static void msix_unmasked(struct hvx_virtio *d)
{
	unsigned int v;

	if (!msix_on(d) || msix_masked(d))
		return;
	for (v = 0; v < HVX_VIRTIO_MSIX_VECS; v++) {
		if (test_bit(v, &d->msix_pba) &&
		    !(d->msix_table[v][PCI_MSIX_ENTRY_VECTOR_CTRL / 4] &
		      PCI_MSIX_ENTRY_CTRL_MASKBIT)) {
			__clear_bit(v, &d->msix_pba);
			msix_send(d, v);
		}
	}
}

/**
 * hvx_virtio_fail - a queue broke the rules: stop it, ask for a reset
 * @d: the device.
 * @q: the queue.
 * @why: what was wrong, for the (rate-limited) log.
 *
 * Sets DEVICE_NEEDS_RESET (virtio 1.1, 2.1.2) and sends a configuration
 * change interrupt; the queue stays stopped until the driver resets the
 * device.
 * Context: the device's worker; takes d->lock.
 */
void hvx_virtio_fail(struct hvx_virtio *d, unsigned int q, const char *why)
{
	atomic64_inc(&d->nr_errors);
	pr_warn_ratelimited("VM %u virtio %02x.%x queue %u: %s; device needs reset\n",
			    d->vm->id, PCI_SLOT(d->pci.devfn),
			    PCI_FUNC(d->pci.devfn), q, why);
	mutex_lock(&d->lock);
	if (d->status & VIRTIO_CONFIG_S_DRIVER_OK) {
		d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		notify_driver(d, d->msix_config, VIRTIO_PCI_ISR_CONFIG);
	}
	mutex_unlock(&d->lock);
}

/* Interrupt the driver for what the worker used, if it wants one. */
static void signal_used(struct hvx_virtio *d, struct hvx_vq *vq)
{
	if (vq->broken || hvx_vq_need_irq(d, vq) <= 0)
		return;
	mutex_lock(&d->lock);
	notify_driver(d, vq->msix, ISR_QUEUE);
	mutex_unlock(&d->lock);
}

/*
 * Serve the marked queues (d->busy is set): copy each one's addresses
 * under d->lock, then take, serve and return chains with the VM owner's
 * mm in use (the buffers are its memory), and interrupt the driver once
 * per batch, before the queue is armed for the next notification.
 */
static void serve(struct hvx_virtio *d, unsigned long kick)
{
	struct mm_struct *mm = d->vm->mm;
	unsigned int q;

	mutex_lock(&d->lock);
	if ((d->status & (VIRTIO_CONFIG_S_DRIVER_OK |
			  VIRTIO_CONFIG_S_NEEDS_RESET)) !=
	    VIRTIO_CONFIG_S_DRIVER_OK) {
		mutex_unlock(&d->lock);
		return;
	}
	mutex_unlock(&d->lock);

	/* The owner's mm is gone once it exited: nothing to serve. */
	if (!mmget_not_zero(mm))
		return;
	kthread_use_mm(mm);
	for_each_set_bit(q, &kick, d->nvqs) {
		struct hvx_vq *vq = &d->vqs[q];
		unsigned int n = 0;
		bool used = false;
		int ret;

		mutex_lock(&d->lock);
		ret = vq->enabled && vq->size;
		mutex_unlock(&d->lock);
		if (!ret)
			continue;
		ret = d->ops->serve ? d->ops->serve(d, q) : -ENOENT;
		if (ret != -ENOENT) {
			used = ret > 0;
			goto irq;
		}
		for (;;) {
			u32 written = 0;

			if (n == BATCH) {
				/* Come back after the other queues. */
				set_bit(q, &d->kick);
				break;
			}
			ret = hvx_vq_pop(d, vq, &d->chain);
			if (ret == 0) {
				/*
				 * Decide on the interrupt before asking for
				 * the next notification, as vhost does: a
				 * driver that sees the request (the device's
				 * event) and then changes its suppression
				 * finds the decision for what was used made.
				 */
				if (used)
					signal_used(d, vq);
				used = false;
				ret = hvx_vq_arm(d, vq);
				if (ret > 0)
					continue;
			}
			if (ret <= 0)
				break;
			n++;
			atomic64_inc(&d->nr_requests);
			if (d->ops->request(d, q, &d->chain, &written)) {
				if (!vq->broken) {
					vq->broken = true;
					hvx_virtio_fail(d, q, "malformed request");
				}
				break;
			}
			if (hvx_vq_push(d, vq, d->chain.head, written))
				break;
			used = true;
		}
irq:
		if (used)
			signal_used(d, vq);
	}
	kthread_unuse_mm(mm);
	mmput(mm);
}

/**
 * hvx_virtio_kick - have the worker serve a queue
 * @d: the device.
 * @q: the queue.
 *
 * For a device type whose backing has data for the guest (a wait-queue
 * callback), as a notification does for the driver.
 * Context: any, including atomic; takes no lock.
 */
void hvx_virtio_kick(struct hvx_virtio *d, unsigned int q)
{
	if (!test_and_set_bit(q, &d->kick))
		wake_up_process(d->worker);
}

static int worker(void *data)
{
	struct hvx_virtio *d = data;

	for (;;) {
		unsigned long kick;

		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			return 0;
		}
		if (!READ_ONCE(d->kick)) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		/* Busy before the kicks are taken (hvx_virtio_drain()). */
		mutex_lock(&d->lock);
		d->busy = true;
		mutex_unlock(&d->lock);
		kick = xchg(&d->kick, 0);
		serve(d, kick);
		mutex_lock(&d->lock);
		d->busy = false;
		mutex_unlock(&d->lock);
		wake_up_all(&d->idle);
		cond_resched();
	}
}

/*
 * Device reset (status 0, 2.4): wait until the worker is done with the
 * rings, then forget the queues and the negotiation. Caller holds
 * d->lock; drops and retakes it.
 */
static void reset(struct hvx_virtio *d)
{
	bool negotiated = d->status & VIRTIO_CONFIG_S_FEATURES_OK;
	unsigned int q;

	d->status = 0;
	mutex_unlock(&d->lock);
	wait_event(d->idle, !READ_ONCE(d->busy));
	mutex_lock(&d->lock);
	if (negotiated && d->ops->set_features)
		d->ops->set_features(d, 0);
	d->driver_features = 0;
	d->dfselect = 0;
	d->gfselect = 0;
	d->queue_select = 0;
	d->msix_config = VIRTIO_MSI_NO_VECTOR;
	for (q = 0; q < d->nvqs; q++) {
		struct hvx_vq *vq = &d->vqs[q];

		memset(vq, 0, sizeof(*vq));
		vq->size = d->qmax;
		vq->msix = VIRTIO_MSI_NO_VECTOR;
	}
	d->isr = 0;
	intx_update(d);
}

static void set_status(struct hvx_virtio *d, u8 v)
{
	if (!v) {
		reset(d);
		return;
	}
	/*
	 * FEATURES_OK sticks only if the driver accepted a subset of what
	 * is offered, with VERSION_1 (2.2.1, 6.1: no legacy interface).
	 */
	if ((v & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(d->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((d->driver_features & ~d->features) ||
	     !(d->driver_features & BIT_ULL(VIRTIO_F_VERSION_1))))
		v &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	/* DRIVER_OK without FEATURES_OK is refused too. */
	if (!(v & VIRTIO_CONFIG_S_FEATURES_OK))
		v &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	else if (!(d->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
		 d->ops->set_features)
		d->ops->set_features(d, d->driver_features);
	d->status = v | (d->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static struct hvx_vq *selected_vq(struct hvx_virtio *d)
{
	return d->queue_select < d->nvqs ? &d->vqs[d->queue_select] : NULL;
}

#define CC(f)	offsetof(struct virtio_pci_common_cfg, f)

static u64 common_read(struct hvx_virtio *d, unsigned int off, u8 size)
{
	struct hvx_vq *vq = selected_vq(d);

	switch (off) {
	case CC(device_feature_select):
		return d->dfselect;
	case CC(device_feature):
		return d->dfselect < 2 ? (u32)(d->features >> (32 * d->dfselect)) : 0;
	case CC(guest_feature_select):
		return d->gfselect;
	case CC(guest_feature):
		return d->gfselect < 2 ?
		       (u32)(d->driver_features >> (32 * d->gfselect)) : 0;
	case CC(msix_config):
		return d->msix_config;
	case CC(num_queues):
		return d->nvqs;
	case CC(device_status):
		return d->status;
	case CC(config_generation):
		return 0;
	case CC(queue_select):
		return d->queue_select;
	}
	if (!vq)
		return 0;
	switch (off) {
	case CC(queue_size):
		return vq->size;
	case CC(queue_msix_vector):
		return vq->msix;
	case CC(queue_enable):
		return vq->enabled;
	case CC(queue_notify_off):
		return d->queue_select;
	case CC(queue_desc_lo):
		return size == 8 ? vq->desc : (u32)vq->desc;
	case CC(queue_desc_hi):
		return vq->desc >> 32;
	case CC(queue_avail_lo):
		return size == 8 ? vq->avail : (u32)vq->avail;
	case CC(queue_avail_hi):
		return vq->avail >> 32;
	case CC(queue_used_lo):
		return size == 8 ? vq->used : (u32)vq->used;
	case CC(queue_used_hi):
		return vq->used >> 32;
	}
	return 0;
}

static void set_half(u64 *reg, bool hi, u64 val, u8 size)
{
	if (size == 8)
		*reg = val;
	else if (hi)
		*reg = (*reg & 0xffffffffull) | (u64)(u32)val << 32;
	else
		*reg = (*reg & ~0xffffffffull) | (u32)val;
}

static void common_write(struct hvx_virtio *d, unsigned int off, u8 size,
			 u64 val)
{
	struct hvx_vq *vq = selected_vq(d);
	bool frozen = d->status & VIRTIO_CONFIG_S_FEATURES_OK;

	switch (off) {
	case CC(device_feature_select):
		d->dfselect = val;
		return;
	case CC(guest_feature_select):
		d->gfselect = val;
		return;
	case CC(guest_feature):
		/* Fixed once FEATURES_OK is set (3.1.1). */
		if (!frozen && d->gfselect < 2) {
			u64 m = 0xffffffffull << (32 * d->gfselect);

			d->driver_features = (d->driver_features & ~m) |
					     ((u64)(u32)val << (32 * d->gfselect));
		}
		return;
	case CC(msix_config):
		d->msix_config = val < HVX_VIRTIO_MSIX_VECS ? val :
				 VIRTIO_MSI_NO_VECTOR;
		return;
	case CC(device_status):
		set_status(d, val);
		return;
	case CC(queue_select):
		d->queue_select = val;
		return;
	}
	/* A live queue's setup is fixed (4.1.4.3.2) until a reset. */
	if (!vq || vq->enabled)
		return;
	switch (off) {
	case CC(queue_size):
		/* Any size for a packed ring (2.7.10.1). */
		if (val && val <= d->qmax &&
		    (is_power_of_2(val) ||
		     (d->driver_features & BIT_ULL(VIRTIO_F_RING_PACKED))))
			vq->size = val;
		return;
	case CC(queue_msix_vector):
		vq->msix = val < HVX_VIRTIO_MSIX_VECS ? val : VIRTIO_MSI_NO_VECTOR;
		return;
	case CC(queue_enable):
		if (val == 1) {
			vq->enabled = true;
			vq->packed = d->driver_features &
				     BIT_ULL(VIRTIO_F_RING_PACKED);
			/* Both wrap counters start at 1 (2.7.1). */
			if (vq->packed) {
				vq->last_avail = HVX_VQ_WRAP;
				vq->used_idx = HVX_VQ_WRAP;
			}
		}
		return;
	case CC(queue_desc_lo):
	case CC(queue_desc_hi):
		set_half(&vq->desc, off == CC(queue_desc_hi), val, size);
		return;
	case CC(queue_avail_lo):
	case CC(queue_avail_hi):
		set_half(&vq->avail, off == CC(queue_avail_hi), val, size);
		return;
	case CC(queue_used_lo):
	case CC(queue_used_hi):
		set_half(&vq->used, off == CC(queue_used_hi), val, size);
		return;
	}
}

/* Which accesses to the common configuration are whole fields. */
static bool common_size_ok(unsigned int off, u8 size)
{
	if (off >= sizeof(struct virtio_pci_common_cfg))
		return false;
	if (off >= CC(queue_desc_lo))
		return size == 4 || (size == 8 && !(off & 7));
	if (off < CC(msix_config))
		return size == 4;
	if (off == CC(device_status) || off == CC(config_generation))
		return size == 1;
	return size == 2;
}

static void msix_rw(struct hvx_virtio *d, unsigned int off, u8 size,
		    u64 *val, bool write)
{
	unsigned int v = off / PCI_MSIX_ENTRY_SIZE, w = (off % 16) / 4;

	/* Dword and aligned qword accesses only (PCI 3.0, 6.8.2). */
	if ((size != 4 && size != 8) || off % size ||
	    v >= HVX_VIRTIO_MSIX_VECS)
		return;
	if (!write) {
		*val = d->msix_table[v][w];
		if (size == 8)
			*val |= (u64)d->msix_table[v][w + 1] << 32;
		return;
	}
	d->msix_table[v][w] = *val;
	if (size == 8)
		d->msix_table[v][w + 1] = *val >> 32;
	msix_unmasked(d);
}

static int bar_access(struct hvx_virtio *d, u64 addr, u8 size, u64 *val,
		      bool write)
{
	u64 off;

	mutex_lock(&d->lock);
	off = addr - d->base;
	/* Dropped: a stale access to a BAR that just moved or went away. */
	if (!d->claimed || off >= BAR_SIZE || size > BAR_SIZE - off)
		goto out;
	if (off < OFF_ISR) {
		if (!common_size_ok(off, size))
			goto out;
		if (write)
			common_write(d, off, size, *val);
		else
			*val = common_read(d, off, size);
	} else if (off == OFF_ISR) {
		/* Reading the ISR acknowledges it (4.1.4.5). */
		if (!write && size == 1) {
			*val = d->isr;
			d->isr = 0;
			intx_update(d);
		}
	} else if (off >= OFF_DEVICE && off - OFF_DEVICE < d->devcfg_len) {
		off -= OFF_DEVICE;
		/* Read-only: the device types have no writable fields yet. */
		if (!write && size <= d->devcfg_len - off) {
			*val = 0;
			memcpy(val, d->devcfg + off, size);
		}
	} else if (off >= OFF_MSIX && off < OFF_PBA) {
		msix_rw(d, off - OFF_MSIX, size, val, write);
	} else if (off >= OFF_PBA && off < OFF_PBA + 8) {
		if (!write && size == 4)
			*val = off == OFF_PBA ? (u32)d->msix_pba : 0;
		else if (!write && size == 8)
			*val = d->msix_pba;
	}
out:
	mutex_unlock(&d->lock);
	return 0;
}

static int bar_read(struct hvx_io_dev *io, struct hvx_vcpu *vcpu, u64 addr,
		    u8 size, u64 *val)
{
	*val = 0;
	return bar_access(container_of(io, struct hvx_virtio, mmio), addr,
			  size, val, false);
}

/*
 * Notifications take no lock: they mark the queue and wake the worker,
 * so a storm of them costs one bit and one wake-up each.
 */
static int bar_write(struct hvx_io_dev *io, struct hvx_vcpu *vcpu, u64 addr,
		     u8 size, u64 val)
{
	struct hvx_virtio *d = container_of(io, struct hvx_virtio, mmio);
	u64 off = addr - READ_ONCE(d->base);

	if (off >= OFF_NOTIFY && off < OFF_NOTIFY + NOTIFY_MULT * d->nvqs) {
		unsigned int q = (off - OFF_NOTIFY) / NOTIFY_MULT;

		atomic64_inc(&d->nr_notifies);
		if (READ_ONCE(d->claimed) && !test_and_set_bit(q, &d->kick))
			wake_up_process(d->worker);
		return 0;
	}
	return bar_access(d, addr, size, &val, true);
}

static const struct hvx_io_dev_ops bar_ops = {
	.read	= bar_read,
	.write	= bar_write,
};

/*
 * Follow the BAR's address and memory decoding with the bus claim
 * (hvx_bus_move() does not wait for readers, so it may run inside a
 * configuration access). Caller holds d->lock.
 */
static void claim_sync(struct hvx_virtio *d)
{
	u64 base = get32(d->cfg, PCI_BASE_ADDRESS_0) & PCI_BASE_ADDRESS_MEM_MASK;
	bool want = (command(d) & PCI_COMMAND_MEMORY) && base;

	if (want == d->claimed && (!want || base == d->base))
		return;
	if (hvx_bus_move(d->vm, HVX_BUS_MMIO, &d->mmio, base,
			 want ? BAR_SIZE : 0)) {
		pr_info_ratelimited("VM %u virtio %02x.%x: BAR at %#llx overlaps another device; not decoded\n",
				    d->vm->id, PCI_SLOT(d->pci.devfn),
				    PCI_FUNC(d->pci.devfn), base);
		hvx_bus_move(d->vm, HVX_BUS_MMIO, &d->mmio, 0, 0);
		want = false;
	}
	WRITE_ONCE(d->base, base);
	WRITE_ONCE(d->claimed, want);
}

static u32 cfg_read(struct hvx_pci_dev *p, unsigned int off, unsigned int size)
{
	struct hvx_virtio *d = container_of(p, struct hvx_virtio, pci);
	u32 val = 0;
	int i;

	mutex_lock(&d->lock);
	for (i = size - 1; i >= 0; i--)
		val = val << 8 | d->cfg[off + i];
	mutex_unlock(&d->lock);
	return val;
}

static void cfg_write(struct hvx_pci_dev *p, unsigned int off,
		      unsigned int size, u32 val)
{
	struct hvx_virtio *d = container_of(p, struct hvx_virtio, pci);
	unsigned int i;

	mutex_lock(&d->lock);
	for (i = 0; i < size; i++, val >>= 8) {
		u8 m = d->wmask[off + i];

		d->cfg[off + i] = (d->cfg[off + i] & ~m) | (val & m);
	}
	claim_sync(d);
	intx_update(d);
	msix_unmasked(d);
	mutex_unlock(&d->lock);
}

static const struct hvx_pci_dev_ops cfg_ops = {
	.cfg_read	= cfg_read,
	.cfg_write	= cfg_write,
};

/* A vendor capability (4.1.4) at @at pointing at @len bytes at @off. */
static void vcap(u8 *c, unsigned int at, unsigned int next, u8 type,
		 u8 caplen, u32 off, u32 len)
{
	put8(c, at + offsetof(struct virtio_pci_cap, cap_vndr), PCI_CAP_ID_VNDR);
	put8(c, at + offsetof(struct virtio_pci_cap, cap_next), next);
	put8(c, at + offsetof(struct virtio_pci_cap, cap_len), caplen);
	put8(c, at + offsetof(struct virtio_pci_cap, cfg_type), type);
	put8(c, at + offsetof(struct virtio_pci_cap, bar), 0);
	put32(c, at + offsetof(struct virtio_pci_cap, offset), off);
	put32(c, at + offsetof(struct virtio_pci_cap, length), len);
}

static void cfg_init(struct hvx_virtio *d, u32 bar)
{
	u8 *c = d->cfg, *m = d->wmask;

	put16(c, PCI_VENDOR_ID, VIRTIO_VENDOR);
	put16(c, PCI_DEVICE_ID, VIRTIO_DEV_BASE + d->ops->id);
	put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
	put8(c, PCI_REVISION_ID, 1);
	put8(c, PCI_CLASS_PROG, d->ops->class & 0xff);
	put16(c, PCI_CLASS_DEVICE, d->ops->class >> 8);
	put8(c, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL);
	put32(c, PCI_BASE_ADDRESS_0, bar);
	put16(c, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_VENDOR);
	put16(c, PCI_SUBSYSTEM_ID, VIRTIO_SUBSYS);
	put8(c, PCI_CAPABILITY_LIST, CAP_MSIX);
	put8(c, PCI_INTERRUPT_LINE, d->gsi);
	put8(c, PCI_INTERRUPT_PIN, 1);
	if (bar)
		put16(c, PCI_COMMAND, PCI_COMMAND_MEMORY);

	put8(c, CAP_MSIX + PCI_CAP_LIST_ID, PCI_CAP_ID_MSIX);
	put8(c, CAP_MSIX + PCI_CAP_LIST_NEXT, CAP_COMMON);
	put16(c, CAP_MSIX + PCI_MSIX_FLAGS, HVX_VIRTIO_MSIX_VECS - 1);
	put32(c, CAP_MSIX + PCI_MSIX_TABLE, OFF_MSIX);
	put32(c, CAP_MSIX + PCI_MSIX_PBA, OFF_PBA);
	vcap(c, CAP_COMMON, CAP_NOTIFY, VIRTIO_PCI_CAP_COMMON_CFG,
	     sizeof(struct virtio_pci_cap), OFF_COMMON,
	     sizeof(struct virtio_pci_common_cfg));
	vcap(c, CAP_NOTIFY, CAP_ISR, VIRTIO_PCI_CAP_NOTIFY_CFG,
	     sizeof(struct virtio_pci_notify_cap), OFF_NOTIFY,
	     NOTIFY_MULT * d->nvqs);
	put32(c, CAP_NOTIFY + offsetof(struct virtio_pci_notify_cap,
				       notify_off_multiplier), NOTIFY_MULT);
	vcap(c, CAP_ISR, CAP_DEVICE, VIRTIO_PCI_CAP_ISR_CFG,
	     sizeof(struct virtio_pci_cap), OFF_ISR, 1);
	vcap(c, CAP_DEVICE, 0, VIRTIO_PCI_CAP_DEVICE_CFG,
	     sizeof(struct virtio_pci_cap), OFF_DEVICE, d->devcfg_len);

	put16(m, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	      PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	put32(m, PCI_BASE_ADDRESS_0, ~(u32)(BAR_SIZE - 1));
	put8(m, PCI_LATENCY_TIMER, 0xff);
	put8(m, PCI_INTERRUPT_LINE, 0xff);
	put16(m, CAP_MSIX + PCI_MSIX_FLAGS,
	      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
}

/**
 * hvx_virtio_init - set up the transport part of a new device
 * @d: the device, zeroed, embedded in the type's state; its @devcfg,
 *	@devcfg_len, @nvqs and @qmax are set.
 * @vm: the VM.
 * @a: the (checked) creation argument.
 * @ops: the device type.
 * @features: the type's feature bits; VERSION_1, EVENT_IDX,
 *	INDIRECT_DESC and RING_PACKED are added.
 *
 * Creates the worker thread (not yet running anything).
 * Context: process context.
 * Return: 0, -EINVAL (a bad @qmax), -ENOMEM or the thread's creation error.
 */
int hvx_virtio_init(struct hvx_virtio *d, struct hvx_vm *vm,
		    const struct hvx_virtio_device *a,
		    const struct hvx_virtio_ops *ops, u64 features)
{
	unsigned int v;

	if (WARN_ON_ONCE(!is_power_of_2(d->qmax) ||
			 d->qmax > HVX_VQ_MAX_SIZE))
		return -EINVAL;

	d->vm = vm;
	d->ops = ops;
	d->gsi = a->gsi;
	d->pci.devfn = a->devfn;
	d->pci.ops = &cfg_ops;
	d->mmio.ops = &bar_ops;
	d->features = features | BIT_ULL(VIRTIO_F_VERSION_1) |
		      BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
		      BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |
		      BIT_ULL(VIRTIO_F_RING_PACKED);
	mutex_init(&d->lock);
	init_waitqueue_head(&d->idle);
	INIT_LIST_HEAD(&d->node);
	cfg_init(d, a->bar);
	for (v = 0; v < HVX_VIRTIO_MSIX_VECS; v++)
		d->msix_table[v][PCI_MSIX_ENTRY_VECTOR_CTRL / 4] =
			PCI_MSIX_ENTRY_CTRL_MASKBIT;
	mutex_lock(&d->lock);
	reset(d);
	mutex_unlock(&d->lock);
	d->worker = kthread_create(worker, d, "hvx-virtio-%u-%02x", vm->id,
				   a->devfn);
	if (IS_ERR(d->worker)) {
		int ret = PTR_ERR(d->worker);

		d->worker = NULL;
		mutex_destroy(&d->lock);
		return ret;
	}
	return 0;
}

/**
 * hvx_virtio_add - put an initialised device on the VM's bus
 * @d: the device (hvx_virtio_init() done).
 * @a: the creation argument.
 *
 * Claims the BAR if @a->bar is set, adds the PCI function and lists the
 * device in the VM. On error nothing was changed (the caller frees @d
 * with hvx_virtio_discard()).
 * Context: process context; takes vm->lock.
 * Return: 0, -EEXIST (the BAR overlaps a claim, or @a->devfn is taken),
 * -ENODEV (no PCI bus), -ENOMEM.
 */
int hvx_virtio_add(struct hvx_virtio *d, const struct hvx_virtio_device *a)
{
	struct hvx_vm *vm = d->vm;
	int ret;

	if (a->bar) {
		ret = hvx_bus_register(vm, HVX_BUS_MMIO, a->bar, BAR_SIZE,
				       &d->mmio);
		if (ret)
			return ret;
		d->base = a->bar;
		d->claimed = true;
	}
	ret = hvx_pci_add_device(vm, &d->pci);
	if (ret) {
		hvx_bus_unregister(vm, &d->mmio);
		d->claimed = false;
		return ret;
	}
	mutex_lock(&vm->lock);
	list_add_tail(&d->node, &vm->virtio);
	mutex_unlock(&vm->lock);
	wake_up_process(d->worker);
	return 0;
}

/* Stop and free @d; it is off the bus or was never on it. */
static void virtio_free(struct hvx_virtio *d)
{
	/* Nothing may wake the worker once it is stopped. */
	if (d->ops->stop)
		d->ops->stop(d);
	if (d->worker)
		kthread_stop(d->worker);
	if (d->intx)
		hvx_irq_set_gsi(d->vm, d->gsi, 0);
	mutex_destroy(&d->lock);
	d->ops->release(d);
}

/**
 * hvx_virtio_create - HVX_CREATE_VIRTIO: a virtio device on a VM's bus
 * @vm: the VM.
 * @a: the argument; its reserved words were checked by the dispatcher.
 *
 * Context: process context of the VM's owner.
 * Return: 0 or an error (see HVX_CREATE_VIRTIO in uapi/hvx.h).
 */
long hvx_virtio_create(struct hvx_vm *vm, const struct hvx_virtio_device *a)
{
	if ((a->flags & ~HVX_VIRTIO_FLAGS) || a->pad || a->pad2 ||
	    PCI_FUNC(a->devfn) || !PCI_SLOT(a->devfn) ||
	    a->gsi >= HVX_NR_GSIS ||
	    (a->bar & (BAR_SIZE - 1)) || a->bar > SZ_4G - BAR_SIZE)
		return -EINVAL;
	switch (a->type) {
	case HVX_VIRTIO_BLK:
		if ((a->flags & HVX_VIRTIO_RANDOM_MAC) ||
		    memchr_inv(a->mac, 0, sizeof(a->mac)))
			return -EINVAL;
		return hvx_virtio_blk_create(vm, a);
	case HVX_VIRTIO_NET:
		if ((a->flags & HVX_VIRTIO_RO) ||
		    memchr_inv(a->serial, 0, sizeof(a->serial)))
			return -EINVAL;
		return hvx_virtio_net_create(vm, a);
	}
	return -EINVAL;
}

/**
 * hvx_virtio_remove - take a device off the bus and free it
 * @d: the device, listed in its VM.
 *
 * Context: process context, no vCPU of the VM running device code.
 */
static void hvx_virtio_remove(struct hvx_virtio *d)
{
	hvx_pci_remove_device(d->vm, &d->pci);
	hvx_bus_unregister(d->vm, &d->mmio);
	virtio_free(d);
}

/**
 * hvx_virtio_vm_destroy - free the virtio devices of a VM being destroyed
 * @vm: the VM; no vCPU is left.
 *
 * Each worker is stopped (kthread_stop() waits for the request in
 * progress) before its backing file is released.
 * Context: process context.
 */
void hvx_virtio_vm_destroy(struct hvx_vm *vm)
{
	struct hvx_virtio *d, *tmp;
	LIST_HEAD(list);

	mutex_lock(&vm->lock);
	list_splice_init(&vm->virtio, &list);
	mutex_unlock(&vm->lock);
	list_for_each_entry_safe(d, tmp, &list, node) {
		list_del(&d->node);
		hvx_virtio_remove(d);
	}
}

/**
 * hvx_virtio_discard - free a device that hvx_virtio_add() refused
 * @d: the device.
 *
 * Context: process context.
 */
void hvx_virtio_discard(struct hvx_virtio *d)
{
	virtio_free(d);
}

/**
 * hvx_virtio_put_stats - add HVX_A_VIRTIO_STATS for a VM's devices
 * @skb: the netlink message being built.
 * @vm: the VM (the registry is held, so it is not freed).
 *
 * Nothing is added for a VM without virtio devices.
 * Context: process context; takes vm->lock.
 * Return: 0, or -EMSGSIZE.
 */
int hvx_virtio_put_stats(struct sk_buff *skb, struct hvx_vm *vm)
{
	struct hvx_virtio_stats *st;
	struct hvx_virtio *d;
	struct nlattr *a;
	unsigned int n = 0;
	int ret = 0;

	mutex_lock(&vm->lock);
	list_for_each_entry(d, &vm->virtio, node)
		n++;
	if (!n)
		goto out;
	a = nla_reserve(skb, HVX_A_VIRTIO_STATS, n * sizeof(*st));
	if (!a) {
		ret = -EMSGSIZE;
		goto out;
	}
	st = nla_data(a);
	memset(st, 0, n * sizeof(*st));
	list_for_each_entry(d, &vm->virtio, node) {
		st->type = d->ops->id;
		st->devfn = d->pci.devfn;
		st->requests = atomic64_read(&d->nr_requests);
		st->bytes = atomic64_read(&d->nr_bytes);
		st->notifications = atomic64_read(&d->nr_notifies);
		st->interrupts = atomic64_read(&d->nr_irqs);
		st->errors = atomic64_read(&d->nr_errors);
		st++;
	}
out:
	mutex_unlock(&vm->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Save and restore: HVX_STATE_VIRTIO (vmstate.c frames the records). */

#define STATUS_BITS	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK | \
			 VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)

static void state_sizes_check(void)
{
	BUILD_BUG_ON(sizeof(struct hvx_state_virtio) % 8);
	BUILD_BUG_ON(sizeof(struct hvx_state_virtio_queue) != 40);
	BUILD_BUG_ON(HVX_STATE_VIRTIO_QUEUES != HVX_VIRTIO_MAX_VQS);
	BUILD_BUG_ON(HVX_STATE_VIRTIO_VECS != HVX_VIRTIO_MSIX_VECS);
	BUILD_BUG_ON(HVX_VQ_MAX_SIZE > 0x8000);
}

/**
 * hvx_virtio_collect - take the VM's virtio devices for save or restore
 * @vm: the VM; vm->lock held.
 * @l: filled with them, in creation order.
 *
 * Devices are only added until the VM is destroyed, so the pointers stay
 * valid while the VM fd is in use; the work on them (which takes each
 * device's lock, and vm->lock after it to move a BAR) runs after
 * vm->lock is dropped.
 * Context: process context.
 * Return: 0, or -EOPNOTSUPP (a device type with no record, with one log
 * line).
 */
int hvx_virtio_collect(struct hvx_vm *vm, struct hvx_virtio_list *l)
{
	struct hvx_virtio *d;

	lockdep_assert_held(&vm->lock);
	state_sizes_check();
	l->n = 0;
	list_for_each_entry(d, &vm->virtio, node) {
		if (!d->ops->can_save) {
			pr_warn_ratelimited("VM %u virtio %02x.%x: the device's state cannot be saved\n",
					    vm->id, PCI_SLOT(d->pci.devfn),
					    PCI_FUNC(d->pci.devfn));
			return -EOPNOTSUPP;
		}
		/* One device per slot (function 0): never more. */
		if (WARN_ON_ONCE(l->n >= ARRAY_SIZE(l->d) ||
				 d->devcfg_len > HVX_STATE_VIRTIO_CONFIG))
			return -EOPNOTSUPP;
		l->d[l->n++] = d;
	}
	return 0;
}

/**
 * hvx_virtio_drain - complete every request in flight of some devices
 * @l: the devices, of a VM none of whose vCPUs runs, so that no
 *	notification comes in.
 *
 * Pauses the devices whose backing brings work of its own (a tap's
 * frames), then waits until each worker has served the queues notified
 * so far and is idle: what the driver made available and notified is
 * then used and published in the used rings, with its interrupt sent.
 * hvx_virtio_resume() must follow, whatever this returns.
 * Context: process context, no device lock held; sleeps.
 * Return: 0, or -EINTR (a fatal signal).
 */
int hvx_virtio_drain(const struct hvx_virtio_list *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (l->d[i]->ops->pause)
			l->d[i]->ops->pause(l->d[i]);
	for (i = 0; i < l->n; i++) {
		struct hvx_virtio *d = l->d[i];

		if (wait_event_killable(d->idle, !READ_ONCE(d->kick) &&
					!READ_ONCE(d->busy)))
			return -EINTR;
	}
	return 0;
}

/**
 * hvx_virtio_resume - let the backing of drained devices bring work again
 * @l: the devices, after hvx_virtio_drain().
 *
 * Context: process context, no device lock held.
 */
void hvx_virtio_resume(const struct hvx_virtio_list *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (l->d[i]->ops->resume)
			l->d[i]->ops->resume(l->d[i]);
}

/* The device's record, and its type's after it; returns their size. */
static u32 get_one(struct hvx_virtio *d, struct hvx_state_virtio *s)
{
	unsigned int q;

	s->hdr.type = HVX_STATE_VIRTIO;
	s->hdr.version = 1;
	s->hdr.size = sizeof(*s);
	s->hdr.instance = d->pci.devfn;
	mutex_lock(&d->lock);
	s->device_id = d->ops->id;
	s->num_queues = d->nvqs;
	s->config_len = d->devcfg_len;
	s->device_features = d->features;
	s->driver_features = d->driver_features;
	s->device_feature_select = d->dfselect;
	s->driver_feature_select = d->gfselect;
	s->msix_config = d->msix_config;
	s->queue_select = d->queue_select;
	s->status = d->status;
	s->isr = d->isr;
	s->msix_pba = d->msix_pba;
	memcpy(s->msix_table, d->msix_table, sizeof(s->msix_table));
	memcpy(s->pci_config, d->cfg, sizeof(s->pci_config));
	memcpy(s->device_config, d->devcfg, d->devcfg_len);
	for (q = 0; q < d->nvqs; q++) {
		const struct hvx_vq *vq = &d->vqs[q];
		struct hvx_state_virtio_queue *sq = &s->queue[q];

		sq->desc = vq->desc;
		sq->avail = vq->avail;
		sq->used = vq->used;
		sq->size = vq->size;
		sq->msix_vector = vq->msix;
		sq->last_avail_idx = vq->last_avail;
		sq->avail_idx = vq->avail_idx;
		sq->used_idx = vq->used_idx;
		sq->signalled_used = vq->signalled;
		sq->flags = (vq->enabled ? HVX_VQ_ENABLED : 0) |
			    (vq->signalled_valid ? HVX_VQ_SIGNALLED : 0) |
			    (vq->broken ? HVX_VQ_BROKEN : 0);
	}
	if (d->ops->state_type) {
		struct hvx_state_header *h = (void *)(s + 1);

		h->type = d->ops->state_type;
		h->version = 1;
		h->size = d->ops->state_size;
		h->instance = d->pci.devfn;
		d->ops->get_state(d, h);
	}
	mutex_unlock(&d->lock);
	return sizeof(*s) + d->ops->state_size;
}

/**
 * hvx_virtio_get_state - write HVX_STATE_VIRTIO records
 * @l: the devices (hvx_virtio_collect()), drained, no vCPU running.
 * @buf: zeroed room for @l->n records and their types' records.
 *
 * Context: process context, vm->lock not held; takes each device's lock.
 * Return: the bytes written.
 */
u32 hvx_virtio_get_state(const struct hvx_virtio_list *l, void *buf)
{
	u32 len = 0;
	unsigned int i;

	for (i = 0; i < l->n; i++)
		len += get_one(l->d[i], buf + len);
	return len;
}

static struct hvx_virtio *find_devfn(const struct hvx_virtio_list *l,
				     u32 devfn)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (l->d[i]->pci.devfn == devfn)
			return l->d[i];
	return NULL;
}

static bool vector_ok(u16 v)
{
	return v < HVX_VIRTIO_MSIX_VECS || v == VIRTIO_MSI_NO_VECTOR;
}

/* A packed ring's position: in the ring, with its wrap counter. */
static bool pos_ok(u16 pos, u16 size)
{
	return (pos & ~HVX_VQ_WRAP) < size;
}

static int check_queue(const struct hvx_virtio *d,
		       const struct hvx_state_virtio_queue *sq, bool packed)
{
	if (sq->flags & ~HVX_VQ_FLAGS || !sq->size ||
	    sq->size > d->qmax || !vector_ok(sq->msix_vector))
		return -EINVAL;
	/* Packed: positions in the ring; no available index. */
	if (packed && (!pos_ok(sq->last_avail_idx, sq->size) ||
		       !pos_ok(sq->used_idx, sq->size) ||
		       !pos_ok(sq->signalled_used, sq->size) || sq->avail_idx))
		return -EINVAL;
	if (packed)
		return 0;
	if (!is_power_of_2(sq->size) ||
	    (u16)(sq->avail_idx - sq->last_avail_idx) > sq->size)
		return -EINVAL;
	return 0;
}

/* The read-only configuration bytes, but the Interrupt Status bit. */
static bool cfg_matches(const struct hvx_virtio *d, const u8 *cfg)
{
	unsigned int i;

	for (i = 0; i < sizeof(d->cfg); i++) {
		u8 ro = ~d->wmask[i];

		if (i == PCI_STATUS)
			ro &= ~PCI_STATUS_INTERRUPT;
		if ((cfg[i] ^ d->cfg[i]) & ro)
			return false;
	}
	return true;
}

/**
 * hvx_virtio_check_state - check a HVX_STATE_VIRTIO record against the
 *	VM's device
 * @l: the VM's devices (hvx_virtio_collect()), drained, no vCPU running.
 * @s: the record; its header's type, version and size were checked.
 * @ext: the device type's record for the same devfn (its header's
 *	version and size checked), or NULL.
 *
 * The device at @s->hdr.instance must be what the record was saved from:
 * the same type, queue count, offered features, device configuration
 * (but its state bytes) and read-only PCI configuration bytes; the
 * record's own fields must be in range, and @ext must be there exactly
 * when the type has a record of its own, and pass its checks.
 * Context: process context, vm->lock not held; takes the device's lock.
 * Return: 0, or -EINVAL.
 */
int hvx_virtio_check_state(const struct hvx_virtio_list *l,
			   const struct hvx_state_virtio *s, const void *ext)
{
	struct hvx_virtio *d = find_devfn(l, s->hdr.instance);
	const struct hvx_state_header *eh = ext;
	bool packed = s->driver_features & BIT_ULL(VIRTIO_F_RING_PACKED);
	u8 status = s->status;
	unsigned int q, skip;
	int ret = -EINVAL;

	if (!d)
		return -EINVAL;
	/* The type's record: there if and only if the type has one. */
	if (!eh != !d->ops->state_type)
		return -EINVAL;
	if (eh && (eh->type != d->ops->state_type ||
		   eh->size != d->ops->state_size))
		return -EINVAL;
	if (s->config_len > HVX_STATE_VIRTIO_CONFIG ||
	    s->device_id != d->ops->id ||
	    s->num_queues != d->nvqs || s->config_len != d->devcfg_len ||
	    (s->device_features & ~d->features) ||
	    !(s->device_features & BIT_ULL(VIRTIO_F_VERSION_1)) ||
	    (s->driver_features & ~s->device_features) ||
	    s->config_generation || s->reserved ||
	    (status & ~STATUS_BITS) ||
	    ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	     !(status & VIRTIO_CONFIG_S_FEATURES_OK)) ||
	    ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	     !(s->driver_features & BIT_ULL(VIRTIO_F_VERSION_1))) ||
	    (s->isr & ~(ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG)) ||
	    !vector_ok(s->msix_config) ||
	    (s->msix_pba & ~(BIT_ULL(HVX_VIRTIO_MSIX_VECS) - 1)) ||
	    memchr_inv(s->device_config + s->config_len, 0,
		       sizeof(s->device_config) - s->config_len))
		return -EINVAL;
	for (q = 0; q < HVX_STATE_VIRTIO_QUEUES; q++) {
		const struct hvx_state_virtio_queue *sq = &s->queue[q];

		if (q < d->nvqs ? check_queue(d, sq, packed) :
				  !!memchr_inv(sq, 0, sizeof(*sq)))
			return -EINVAL;
	}
	skip = min(d->ops->cfg_state, d->devcfg_len);
	mutex_lock(&d->lock);
	if (!memcmp(s->device_config + skip, d->devcfg + skip,
		    d->devcfg_len - skip) &&
	    cfg_matches(d, s->pci_config))
		ret = d->ops->check_state ? d->ops->check_state(d, s, ext) : 0;
	mutex_unlock(&d->lock);
	return ret;
}

/**
 * hvx_virtio_set_state - load a checked HVX_STATE_VIRTIO record
 * @l: the VM's devices (hvx_virtio_collect()), drained, no vCPU running.
 * @s: the record, hvx_virtio_check_state() passed.
 * @ext: the type's record that passed with it, or NULL.
 *
 * Replaces the transport's state and the queues' (then the type's own),
 * moves the BAR's claim, sets the INTx line from the ISR, and has the
 * worker look at every enabled queue of a running device (chains the driver made available
 * and did not notify, as EVENT_IDX allows).
 * Context: process context, vm->lock not held; takes the device's lock,
 * then vm->lock to move the BAR.
 */
void hvx_virtio_set_state(const struct hvx_virtio_list *l,
			  const struct hvx_state_virtio *s, const void *ext)
{
	struct hvx_virtio *d = find_devfn(l, s->hdr.instance);
	unsigned int q, i;
	bool running;

	mutex_lock(&d->lock);
	if ((d->status & VIRTIO_CONFIG_S_FEATURES_OK) && d->ops->set_features)
		d->ops->set_features(d, 0);
	/* A record from an hvx that offered less: keep offering that. */
	d->features = s->device_features;
	d->driver_features = s->driver_features;
	d->dfselect = s->device_feature_select;
	d->gfselect = s->driver_feature_select;
	d->msix_config = s->msix_config;
	d->queue_select = s->queue_select;
	d->status = s->status;
	d->isr = s->isr;
	d->msix_pba = s->msix_pba;
	memcpy(d->msix_table, s->msix_table, sizeof(d->msix_table));
	for (i = 0; i < sizeof(d->cfg); i++)
		d->cfg[i] = (d->cfg[i] & ~d->wmask[i]) |
			    (s->pci_config[i] & d->wmask[i]);
	for (q = 0; q < d->nvqs; q++) {
		const struct hvx_state_virtio_queue *sq = &s->queue[q];
		struct hvx_vq *vq = &d->vqs[q];

		vq->desc = sq->desc;
		vq->avail = sq->avail;
		vq->used = sq->used;
		vq->size = sq->size;
		vq->msix = sq->msix_vector;
		vq->last_avail = sq->last_avail_idx;
		vq->avail_idx = sq->avail_idx;
		vq->used_idx = sq->used_idx;
		vq->signalled = sq->signalled_used;
		vq->enabled = sq->flags & HVX_VQ_ENABLED;
		vq->signalled_valid = sq->flags & HVX_VQ_SIGNALLED;
		vq->broken = sq->flags & HVX_VQ_BROKEN;
		vq->packed = d->driver_features & BIT_ULL(VIRTIO_F_RING_PACKED);
		vq->npop = 0;
	}
	if ((d->status & VIRTIO_CONFIG_S_FEATURES_OK) && d->ops->set_features)
		d->ops->set_features(d, d->driver_features);
	if (d->ops->set_state)
		d->ops->set_state(d, s, ext);
	claim_sync(d);
	intx_update(d);
	running = (d->status & (VIRTIO_CONFIG_S_DRIVER_OK |
				VIRTIO_CONFIG_S_NEEDS_RESET)) ==
		  VIRTIO_CONFIG_S_DRIVER_OK;
	mutex_unlock(&d->lock);
	for (q = 0; running && q < d->nvqs; q++)
		if (d->vqs[q].enabled)
			hvx_virtio_kick(d, q);
}
