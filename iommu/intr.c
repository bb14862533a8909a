// SPDX-License-Identifier: GPL-2.0
/*
 * intr.c - the interrupts of an assigned device, as host IRQs.
 *
 * INTx is level-triggered (PCI Local Bus Spec 3.0, 2.2.6): after each
 * interrupt hvx masks it until the consumer has made the device deassert
 * the line, then unmasks. A device with a working Interrupt Disable bit
 * (PCI 3.0, 6.2.2; probed by pci_intx_mask_supported()) is masked there
 * and may share its line (IRQF_SHARED, with the Interrupt Status bit
 * telling whether it was ours); any other device is masked at the host
 * interrupt controller and needs the line to itself.
 * MSI and MSI-X vectors are edge-like messages: one host vector each,
 * nothing to mask per interrupt at the host; the guest's MSI and MSI-X
 * masks are applied by the handlers, which hold masked messages pending.
 * Each interrupt is delivered to its consumer: an eventfd given by
 * HVX_DEVICE_SET_IRQS, or, for INTx of a device on the guest's PCI bus,
 * a level on a GSI of the VM's I/O APIC (hvx_pt_intx_to_gsi()), which
 * the guest's EOI lowers and unmasks again (hvx_pt_intx_eoi()).
 */
#include <linux/eventfd.h>
#include <linux/file.h>

#include "pt.h"
#include "../kmod/compat.h"

static void vec_deliver(struct hvx_pt_vec *v)
{
	struct hvx_pt_dev *dev = v->dev;

	atomic64_inc(&dev->nr_irqs);
	if (READ_ONCE(dev->guest_intx))
		hvx_irq_set_gsi(dev->ptvm->vm, dev->guest_gsi, 1);
	else if (v->trigger)
		hvx_eventfd_signal(v->trigger);
}

/**
 * hvx_pt_gmsi_send - send the guest's MSI message for one vector
 * @dev: the device, its MSI set up by hvx_pt_msi_to_guest().
 * @index: the vector: its number replaces the low data bits the guest
 *	enabled (Multiple Message Enable; PCI 3.0 6.8.1.6).
 *
 * A masked vector is left pending instead (PCI 3.0 6.8.1.7); a message
 * that is not a valid x86 interrupt (hvx_irq_msi_check()) is dropped,
 * as a write to nowhere.
 * Context: any, including hard interrupt context; takes @dev->irq_lock.
 */
void hvx_pt_gmsi_send(struct hvx_pt_dev *dev, unsigned int index)
{
	unsigned int n = dev->nr_vecs;
	unsigned long flags;
	bool masked;
	u64 addr;
	u32 data;

	spin_lock_irqsave(&dev->irq_lock, flags);
	addr = dev->gmsi_addr;
	data = (dev->gmsi_data & ~(n - 1)) | index;
	masked = dev->gmsi_mask & BIT(index);
	if (masked)
		dev->gmsi_pending |= BIT(index);
	spin_unlock_irqrestore(&dev->irq_lock, flags);
	if (masked || hvx_irq_msi_check(addr, addr >> 32, data))
		return;
	hvx_irq_msi(dev->ptvm->vm, addr, addr >> 32, data,
		    HVX_IRQ_SRC_PASSTHROUGH);
}

static irqreturn_t gmsi_handler(int irq, void *arg)
{
	struct hvx_pt_vec *v = arg;

	atomic64_inc(&v->dev->nr_irqs);
	hvx_pt_gmsi_send(v->dev, v->index);
	return IRQ_HANDLED;
}

/* MSI-X table entry dwords (PCI 3.0 6.8.2.6), as config.c keeps them. */
#define MSIX_DW(dev, i, off)	((dev)->msix_table[(i) * 4 + (off) / 4])

static bool gmsix_masked(struct hvx_pt_dev *dev, unsigned int index)
{
	return (dev->msix_ctrl & PCI_MSIX_FLAGS_MASKALL) ||
	       (MSIX_DW(dev, index, PCI_MSIX_ENTRY_VECTOR_CTRL) &
		PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/**
 * hvx_pt_gmsix_send - send the guest's MSI-X message of one vector
 * @dev: the device, its MSI-X set up by hvx_pt_msix_to_guest().
 * @index: the vector (table entry), below @dev->nr_vecs.
 *
 * Sends the entry's address and data through the VM's interrupt router
 * to the in-kernel local APICs (hvx_irq_msi()). A vector masked by its
 * Mask bit or by the Function Mask is held pending instead and shows in
 * the PBA (PCI 3.0 6.8.2.9, 6.8.2.10); a message that is not a valid x86
 * interrupt (hvx_irq_msi_check(), SDM Vol. 3A 11.11) is dropped, as a
 * write to nowhere.
 * Context: any, including hard interrupt context; takes @dev->irq_lock.
 */
void hvx_pt_gmsix_send(struct hvx_pt_dev *dev, unsigned int index)
{
	u32 lo = 0, hi = 0, data = 0;
	unsigned long flags;
	bool masked;

	spin_lock_irqsave(&dev->irq_lock, flags);
	masked = gmsix_masked(dev, index);
	if (masked) {
		dev->gmsix_pending |= BIT(index);
	} else {
		lo = MSIX_DW(dev, index, PCI_MSIX_ENTRY_LOWER_ADDR);
		hi = MSIX_DW(dev, index, PCI_MSIX_ENTRY_UPPER_ADDR);
		data = MSIX_DW(dev, index, PCI_MSIX_ENTRY_DATA);
	}
	spin_unlock_irqrestore(&dev->irq_lock, flags);
	if (masked || hvx_irq_msi_check(lo, hi, data))
		return;
	hvx_irq_msi(dev->ptvm->vm, lo, hi, data, HVX_IRQ_SRC_PASSTHROUGH);
}

/**
 * hvx_pt_gmsix_flush - send the pending guest MSI-X messages whose
 *	vectors are no longer masked
 * @dev: the device (its lock held), its MSI-X set up for the guest.
 *
 * Called after the guest clears a Mask bit or the Function Mask: the
 * function then sends each pending message and clears its PBA bit
 * (PCI 3.0 6.8.2.9).
 * Context: process context; takes @dev->irq_lock.
 */
void hvx_pt_gmsix_flush(struct hvx_pt_dev *dev)
{
	unsigned long send = 0, flags;
	unsigned int i;

	spin_lock_irqsave(&dev->irq_lock, flags);
	for (i = 0; i < dev->nr_vecs; i++)
		if ((dev->gmsix_pending & BIT(i)) && !gmsix_masked(dev, i))
			send |= BIT(i);
	dev->gmsix_pending &= ~send;
	spin_unlock_irqrestore(&dev->irq_lock, flags);
	for_each_set_bit(i, &send, HVX_PCI_MAX_IRQ_FDS)
		hvx_pt_gmsix_send(dev, i);
}

static irqreturn_t gmsix_handler(int irq, void *arg)
{
	struct hvx_pt_vec *v = arg;

	atomic64_inc(&v->dev->nr_irqs);
	hvx_pt_gmsix_send(v->dev, v->index);
	return IRQ_HANDLED;
}

static irqreturn_t msi_handler(int irq, void *arg)
{
	vec_deliver(arg);
	return IRQ_HANDLED;
}

static irqreturn_t intx_handler(int irq, void *arg)
{
	struct hvx_pt_vec *v = arg;
	struct hvx_pt_dev *dev = v->dev;
	unsigned long flags;

	spin_lock_irqsave(&dev->irq_lock, flags);
	if (dev->intx_maskable) {
		/* Not asserted by this device (a shared line): not ours. */
		if (!pci_check_and_mask_intx(dev->pdev)) {
			spin_unlock_irqrestore(&dev->irq_lock, flags);
			return IRQ_NONE;
		}
	} else {
		disable_irq_nosync(irq);
	}
	dev->intx_masked = true;
	spin_unlock_irqrestore(&dev->irq_lock, flags);
	vec_deliver(v);
	return IRQ_HANDLED;
}

/**
 * hvx_pt_intx_unmask - unmask INTx after the consumer has handled it
 * @dev: the device (its lock held).
 *
 * If the device still asserts its line, the interrupt is delivered again
 * and INTx stays masked, as a level-triggered line would demand.
 * Context: process context.
 * Return: 0, or -EINVAL if INTx is not in use.
 */
int hvx_pt_intx_unmask(struct hvx_pt_dev *dev)
{
	unsigned long flags;
	bool again = false;

	if (dev->irq_type != HVX_PCI_IRQ_INTX)
		return -EINVAL;
	spin_lock_irqsave(&dev->irq_lock, flags);
	if (dev->intx_masked) {
		if (dev->intx_maskable) {
			again = !pci_check_and_unmask_intx(dev->pdev);
			dev->intx_masked = again;
		} else {
			dev->intx_masked = false;
			enable_irq(dev->vecs[0].irq);
		}
	}
	spin_unlock_irqrestore(&dev->irq_lock, flags);
	if (again)
		vec_deliver(&dev->vecs[0]);
	return 0;
}

static void vec_free(struct hvx_pt_dev *dev, struct hvx_pt_vec *v)
{
	if (v->irq)
		free_irq(v->irq, v);
	v->irq = 0;
	if (v->trigger)
		eventfd_ctx_put(v->trigger);
	v->trigger = NULL;
}

/**
 * hvx_pt_irq_disable - free every host interrupt of an assigned device
 * @dev: the device (its lock held).
 *
 * Leaves INTx disabled at the device when it can be, MSI/MSI-X off.
 * Context: process context, may sleep (waits for running handlers).
 */
void hvx_pt_irq_disable(struct hvx_pt_dev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nr_vecs; i++)
		vec_free(dev, &dev->vecs[i]);
	if (dev->irq_type == HVX_PCI_IRQ_MSI || dev->irq_type == HVX_PCI_IRQ_MSIX)
		pci_free_irq_vectors(dev->pdev);
	if (dev->irq_type == HVX_PCI_IRQ_INTX && dev->intx_maskable)
		pci_intx(dev->pdev, 0);
	if (dev->guest_intx)
		hvx_irq_set_gsi(dev->ptvm->vm, dev->guest_gsi, 0);
	WRITE_ONCE(dev->guest_intx, false);
	dev->guest_irqs = false;
	dev->intx_masked = false;
	dev->nr_vecs = 0;
	dev->irq_type = HVX_PCI_IRQ_NONE;
}

static int check_req(struct hvx_pt_dev *dev, const struct hvx_pci_irqs *req)
{
	unsigned int max;

	/* reserved: checked by the ioctl dispatcher (HVX_IOCTL_RSVD) */
	if (req->flags || req->pad)
		return -EINVAL;
	switch (req->type) {
	case HVX_PCI_IRQ_NONE:
		return req->count ? -EINVAL : 0;
	case HVX_PCI_IRQ_INTX:
		if (req->count != 1)
			return -EINVAL;
		return dev->pdev->pin && dev->pdev->irq ? 0 : -ENODEV;
	case HVX_PCI_IRQ_MSI:
		max = dev->msi_vectors;
		break;
	case HVX_PCI_IRQ_MSIX:
		max = min_t(unsigned int, dev->msix_vectors,
			    HVX_PCI_MAX_IRQ_FDS);
		break;
	default:
		return -EINVAL;
	}
	if (!max)
		return -ENODEV;
	if (!req->count || req->count > max)
		return -EINVAL;
	return 0;
}

/* Take the eventfds before touching the device, so a bad fd changes nothing. */
static int get_triggers(const struct hvx_pci_irqs *req,
			struct eventfd_ctx **ctx)
{
	unsigned int i;

	for (i = 0; i < req->count; i++) {
		ctx[i] = NULL;
		if (req->eventfds[i] < 0)
			continue;
		ctx[i] = eventfd_ctx_fdget(req->eventfds[i]);
		if (IS_ERR(ctx[i])) {
			int ret = PTR_ERR(ctx[i]);

			while (i--)
				if (ctx[i])
					eventfd_ctx_put(ctx[i]);
			return ret;
		}
	}
	return 0;
}

static int vec_request(struct hvx_pt_dev *dev, struct hvx_pt_vec *v,
		       unsigned int irq, irq_handler_t fn, unsigned long flags,
		       const char *kind)
{
	int ret;

	snprintf(v->name, sizeof(v->name), "hvx-%s%u(%s)", kind, v->index,
		 pci_name(dev->pdev));
	ret = request_irq(irq, fn, flags, v->name, v);
	if (!ret)
		v->irq = irq;
	return ret;
}

/**
 * hvx_pt_intx_to_gsi - wire the device's INTx to a GSI of the VM
 * @dev: the device (its lock held, alive, no interrupt in use).
 * @gsi: the I/O APIC input (0 .. HVX_NR_GSIS - 1).
 *
 * Requests the host INTx line like HVX_DEVICE_SET_IRQS does, but each
 * interrupt asserts @gsi (hvx_irq_set_gsi(), from the handler: no exit,
 * no userspace) and stays masked until the guest's EOI of it
 * (hvx_pt_intx_eoi()). HVX_DEVICE_SET_IRQS replaces this wiring.
 * Context: process context.
 * Return: 0, -ENODEV if the device has no INTx, or request_irq()'s
 * error (-EBUSY: the line is shared with a device that cannot be masked
 * at the device); INTx is left off on error.
 */
int hvx_pt_intx_to_gsi(struct hvx_pt_dev *dev, u32 gsi)
{
	struct pci_dev *pdev = dev->pdev;
	int ret;

	if (!pdev->pin || !pdev->irq || gsi >= HVX_NR_GSIS)
		return -ENODEV;
	hvx_pt_irq_disable(dev);
	dev->vecs[0].dev = dev;
	dev->vecs[0].index = 0;
	dev->vecs[0].trigger = NULL;
	dev->nr_vecs = 1;
	dev->guest_gsi = gsi;
	WRITE_ONCE(dev->guest_intx, true);
	dev->guest_irqs = true;
	dev->irq_type = HVX_PCI_IRQ_INTX;
	if (dev->intx_maskable)
		pci_intx(pdev, 1);
	ret = vec_request(dev, &dev->vecs[0], pdev->irq, intx_handler,
			  dev->intx_maskable ? IRQF_SHARED : 0, "gsi");
	if (ret)
		hvx_pt_irq_disable(dev);
	return ret;
}

/*
 * Request handlers for the @n host vectors just allocated for the guest's
 * MSI or MSI-X; on failure interrupts are left off. Device lock held.
 */
static int guest_vecs_request(struct hvx_pt_dev *dev, u32 type,
			      unsigned int n, irq_handler_t handler,
			      const char *name)
{
	unsigned int i;
	int ret = 0;

	dev->irq_type = type;
	dev->guest_irqs = true;
	dev->nr_vecs = n;
	for (i = 0; i < n && !ret; i++) {
		dev->vecs[i].dev = dev;
		dev->vecs[i].index = i;
		dev->vecs[i].trigger = NULL;
		ret = vec_request(dev, &dev->vecs[i],
				  pci_irq_vector(dev->pdev, i), handler, 0, name);
	}
	if (ret)
		hvx_pt_irq_disable(dev);
	return ret;
}

/**
 * hvx_pt_msi_to_guest - give the device host MSI vectors whose
 *	interrupts send the guest's MSI message
 * @dev: the device (its lock held, alive); the guest's message must be
 *	in @dev->gmsi_addr and @dev->gmsi_data.
 * @count: vectors the guest enabled (a power of two, at most what the
 *	device supports and HVX_PCI_MAX_IRQ_FDS).
 *
 * Frees whatever interrupts were set up, then allocates @count MSI
 * vectors (pci_alloc_irq_vectors() programs the device's real message,
 * the host's) and requests each with a handler that sends the guest's
 * message through the VM's interrupt router (hvx_pt_gmsi_send()): no
 * exit and no userspace on the way.
 * Context: process context.
 * Return: 0, -EINVAL for a bad @count, or the host's allocation error
 * (interrupts are left off).
 */
int hvx_pt_msi_to_guest(struct hvx_pt_dev *dev, unsigned int count)
{
	struct pci_dev *pdev = dev->pdev;
	int ret;

	if (!count || count > dev->msi_vectors || count > HVX_PCI_MAX_IRQ_FDS ||
	    !is_power_of_2(count))
		return -EINVAL;
	hvx_pt_irq_disable(dev);
	ret = pci_alloc_irq_vectors(pdev, count, count, PCI_IRQ_MSI);
	if (ret < 0)
		return ret;
	return guest_vecs_request(dev, HVX_PCI_IRQ_MSI, count, gmsi_handler,
				  "gmsi");
}

/**
 * hvx_pt_msix_to_guest - give the device host MSI-X vectors whose
 *	interrupts send the guest's MSI-X messages
 * @dev: the device (its lock held, alive), with an MSI-X capability.
 *
 * Frees whatever interrupts were set up, then allocates one host MSI-X
 * vector per table entry, up to HVX_PCI_MAX_IRQ_FDS (entries beyond that
 * are emulated but never fire; logged). pci_alloc_irq_vectors() programs
 * the device's real table with the host's messages; each vector's handler
 * sends the guest's entry (hvx_pt_gmsix_send()): no exit and no userspace
 * on the way. The host vectors stay unmasked: the guest's masks are
 * applied by the handlers, and the PBA is emulated from them.
 * Context: process context.
 * Return: 0, -ENODEV without MSI-X, or the host's allocation error
 * (interrupts are left off).
 */
int hvx_pt_msix_to_guest(struct hvx_pt_dev *dev)
{
	struct pci_dev *pdev = dev->pdev;
	unsigned long flags;
	unsigned int n;
	int ret;

	if (!dev->msix_vectors)
		return -ENODEV;
	n = min_t(unsigned int, dev->msix_vectors, HVX_PCI_MAX_IRQ_FDS);
	if (n < dev->msix_vectors)
		pci_info_ratelimited(pdev, "hvx: guest MSI-X: only vectors 0-%u of %u are served\n",
				     n - 1, dev->msix_vectors);
	hvx_pt_irq_disable(dev);
	ret = pci_alloc_irq_vectors(pdev, n, n, PCI_IRQ_MSIX);
	if (ret < 0)
		return ret;
	spin_lock_irqsave(&dev->irq_lock, flags);
	dev->gmsix_pending = 0;
	spin_unlock_irqrestore(&dev->irq_lock, flags);
	return guest_vecs_request(dev, HVX_PCI_IRQ_MSIX, n, gmsix_handler,
				  "gmsix");
}

/**
 * hvx_pt_irq_set - HVX_DEVICE_SET_IRQS: route interrupts to eventfds
 * @dev: the device (its lock held, alive).
 * @req: the request, as passed by userspace.
 *
 * Frees the current host interrupts, then allocates @req->count vectors
 * of the requested kind (pci_alloc_irq_vectors() programs the device's
 * real MSI/MSI-X registers) and requests a host IRQ for each.
 * Context: process context.
 * Return: 0; -EINVAL (bad fields), -ENODEV (no such interrupt), -EBADF
 * or -EINVAL (not an eventfd), or the host's allocation error, in which
 * case interrupts are left off.
 */
int hvx_pt_irq_set(struct hvx_pt_dev *dev, const struct hvx_pci_irqs *req)
{
	struct eventfd_ctx *ctx[HVX_PCI_MAX_IRQ_FDS];
	struct pci_dev *pdev = dev->pdev;
	unsigned int i;
	int ret;

	ret = check_req(dev, req);
	if (ret)
		return ret;
	ret = get_triggers(req, ctx);
	if (ret)
		return ret;
	hvx_pt_irq_disable(dev);
	if (req->type == HVX_PCI_IRQ_NONE)
		return 0;

	for (i = 0; i < req->count; i++) {
		dev->vecs[i].dev = dev;
		dev->vecs[i].index = i;
		dev->vecs[i].trigger = ctx[i];
	}
	dev->nr_vecs = req->count;
	if (req->type == HVX_PCI_IRQ_INTX) {
		dev->irq_type = HVX_PCI_IRQ_INTX;
		if (dev->intx_maskable)
			pci_intx(pdev, 1);
		ret = vec_request(dev, &dev->vecs[0], pdev->irq, intx_handler,
				  dev->intx_maskable ? IRQF_SHARED : 0, "intx");
		goto out;
	}
	ret = pci_alloc_irq_vectors(pdev, req->count, req->count,
				    req->type == HVX_PCI_IRQ_MSI ? PCI_IRQ_MSI :
								   PCI_IRQ_MSIX);
	if (ret < 0)
		goto out;
	dev->irq_type = req->type;
	for (i = 0, ret = 0; i < req->count && !ret; i++)
		ret = vec_request(dev, &dev->vecs[i], pci_irq_vector(pdev, i),
				  msi_handler, 0,
				  req->type == HVX_PCI_IRQ_MSI ? "msi" : "msix");
out:
	if (ret) {
		pci_info_ratelimited(pdev, "hvx: interrupt setup failed (%d)\n",
				     ret);
		hvx_pt_irq_disable(dev);
	}
	return ret;
}
