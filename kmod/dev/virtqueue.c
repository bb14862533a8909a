// SPDX-License-Identifier: GPL-2.0
/*
 * virtqueue.c - the device side of split virtqueues (virtio 1.1, 2.6),
 * run by a device's worker thread with the VM owner's mm in use.
 *
 * Rings and buffers are reached through the VM's memory slots on every
 * access (hvx_gpa_read(), hvx_gpa_write(): an SRCU read section per
 * copy, no host address kept between accesses), so a slot that moves or
 * goes away is never written behind the VM's back. Everything the guest
 * wrote is untrusted: indices, descriptor chains and buffer addresses are
 * checked before use, and a violation stops the queue (hvx_virtio_fail())
 * instead of being served.
 */
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "../hvx_core.h"
#include "virtio.h"

/* Offsets in the rings (virtio 1.1, 2.6.6 and 2.6.8). */
#define AVAIL_FLAGS		0
#define AVAIL_IDX		2
#define AVAIL_RING(i)		(4 + 2 * (u64)(i))
#define USED_IDX		2
#define USED_RING(i)		(4 + 8 * (u64)(i))

static bool has(const struct hvx_virtio *d, unsigned int bit)
{
	return d->driver_features & BIT_ULL(bit);
}

static int rd16(struct hvx_virtio *d, u64 gpa, u16 *v)
{
	__le16 x;

	if (hvx_gpa_read(&d->vm->mem, gpa, &x, sizeof(x)))
		return -EFAULT;
	*v = le16_to_cpu(x);
	return 0;
}

static int wr16(struct hvx_virtio *d, u64 gpa, u16 v)
{
	__le16 x = cpu_to_le16(v);

	return hvx_gpa_write(&d->vm->mem, gpa, &x, sizeof(x)) ? -EFAULT : 0;
}

/* Stop @vq: hvx_virtio_fail() logs and asks the driver for a reset. */
static int broken(struct hvx_virtio *d, struct hvx_vq *vq, const char *why)
{
	vq->broken = true;
	hvx_virtio_fail(d, vq - d->vqs, why);
	return -EFAULT;
}

/*
 * Walk the chain at descriptor @head into @c. Every descriptor read counts
 * against the queue size, which no chain may exceed (2.6.5.3.1: a chain,
 * with its indirect table, is at most Queue Size long), so a loop ends
 * there. An indirect table must hold whole descriptors, lie in RAM and
 * contain no indirect descriptor itself (2.6.5.3.1: no nested tables).
 */
static int walk(struct hvx_virtio *d, struct hvx_vq *vq, u16 head,
		struct hvx_vq_chain *c)
{
	struct hvx_mem *mem = &d->vm->mem;
	u64 table = vq->desc;
	u32 tsize = vq->size, n = 0;
	bool indirect = false;
	u16 i = head;

	c->head = head;
	c->nseg = 0;
	c->out_len = 0;
	c->in_len = 0;
	for (;;) {
		struct vring_desc desc;
		u16 flags;
		u64 addr;
		u32 len;

		if (++n > vq->size)
			return broken(d, vq, "descriptor chain loops or is longer than the queue");
		if (hvx_gpa_read(mem, table + 16 * (u64)i, &desc, sizeof(desc)))
			return broken(d, vq, "descriptor table outside guest RAM");
		flags = le16_to_cpu((__force __le16)desc.flags);
		addr = le64_to_cpu((__force __le64)desc.addr);
		len = le32_to_cpu((__force __le32)desc.len);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect)
				return broken(d, vq, "nested indirect table");
			if (!has(d, VIRTIO_RING_F_INDIRECT_DESC) ||
			    (flags & VRING_DESC_F_NEXT) || c->nseg)
				return broken(d, vq, "indirect descriptor not allowed here");
			if (!len || len % 16 || len / 16 > vq->size ||
			    !hvx_gpa_is_ram(mem, addr, len, false))
				return broken(d, vq, "bad indirect table");
			table = addr;
			tsize = len / 16;
			indirect = true;
			i = 0;
			n--;	/* the pointer is not part of the chain */
			continue;
		}
		if (!(flags & VRING_DESC_F_WRITE) && c->in_len)
			return broken(d, vq, "readable buffer after a writable one");
		if (!hvx_gpa_is_ram(mem, addr, len, flags & VRING_DESC_F_WRITE))
			return broken(d, vq, "buffer outside guest RAM");
		c->seg[c->nseg].gpa = addr;
		c->seg[c->nseg].len = len;
		c->seg[c->nseg].write = flags & VRING_DESC_F_WRITE;
		c->nseg++;
		if (flags & VRING_DESC_F_WRITE)
			c->in_len += len;
		else
			c->out_len += len;
		if (!(flags & VRING_DESC_F_NEXT))
			return 1;
		i = le16_to_cpu((__force __le16)desc.next);
		if (i >= tsize)
			return broken(d, vq, "next descriptor out of the table");
	}
}

/**
 * hvx_vq_pop - take the next available chain of a queue
 * @d: the device.
 * @vq: the queue (enabled, with the worker's copy of its addresses).
 * @c: filled with the chain.
 *
 * An available index more than the queue size ahead of the device's
 * (virtio 1.1 2.6.6: the driver cannot have made more chains available
 * than there are descriptors), a head out of range or a bad chain stop
 * the queue.
 * Context: the device's worker, with the VM owner's mm in use.
 * Return: 1 with a chain, 0 if none is available (or the queue is
 * stopped), -EFAULT after a violation.
 */
int hvx_vq_pop(struct hvx_virtio *d, struct hvx_vq *vq, struct hvx_vq_chain *c)
{
	u16 idx, head;

	if (vq->broken)
		return 0;
	/* Ring alignment (2.6: 16, 2 and 4 bytes). */
	if ((vq->desc & 15) || (vq->avail & 1) || (vq->used & 3))
		return broken(d, vq, "misaligned ring");
	if (rd16(d, vq->avail + AVAIL_IDX, &idx))
		return broken(d, vq, "driver ring outside guest RAM");
	if ((u16)(idx - vq->last_avail) > vq->size)
		return broken(d, vq, "available index jumped beyond the queue size");
	vq->avail_idx = idx;
	if (idx == vq->last_avail)
		return 0;
	/* The entry is read after the index that published it. */
	smp_rmb();
	if (rd16(d, vq->avail + AVAIL_RING(vq->last_avail % vq->size), &head))
		return broken(d, vq, "driver ring outside guest RAM");
	if (head >= vq->size)
		return broken(d, vq, "chain head out of the table");
	vq->last_avail++;
	return walk(d, vq, head, c);
}

/**
 * hvx_vq_push - return a chain to the driver through the used ring
 * @d: the device.
 * @vq: the queue.
 * @head: the chain's head (struct hvx_vq_chain, @head).
 * @len: bytes the device wrote into the chain's writable buffers.
 *
 * The element is written before the index that publishes it.
 * Context: the device's worker, with the VM owner's mm in use.
 * Return: 0, or -EFAULT (the used ring is not writable RAM: the queue
 * is stopped).
 */
int hvx_vq_push(struct hvx_virtio *d, struct hvx_vq *vq, u16 head, u32 len)
{
	return hvx_vq_push_n(d, vq, &head, &len, 1);
}

/**
 * hvx_vq_push_n - return several chains at once through the used ring
 * @d: the device.
 * @vq: the queue.
 * @heads: the chains' heads.
 * @lens: bytes written into each.
 * @n: how many; at most the queue size.
 *
 * All elements are written before the index that publishes them, so the
 * driver sees them together (the buffers of one merged network frame).
 * Context: the device's worker, with the VM owner's mm in use.
 * Return: 0, or -EFAULT (the used ring is not writable RAM: the queue
 * is stopped).
 */
int hvx_vq_push_n(struct hvx_virtio *d, struct hvx_vq *vq, const u16 *heads,
		  const u32 *lens, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct vring_used_elem e = {
			.id = (__force __virtio32)cpu_to_le32(heads[i]),
			.len = (__force __virtio32)cpu_to_le32(lens[i]),
		};

		if (hvx_gpa_write(&d->vm->mem,
				  vq->used + USED_RING((u16)(vq->used_idx + i) %
						       vq->size),
				  &e, sizeof(e)))
			return broken(d, vq, "device ring outside guest RAM");
	}
	/* The elements before the index the driver reads them by. */
	smp_wmb();
	vq->used_idx += n;
	if (wr16(d, vq->used + USED_IDX, vq->used_idx))
		return broken(d, vq, "device ring outside guest RAM");
	return 0;
}

/**
 * hvx_vq_need_irq - does the driver want an interrupt for what was used?
 * @d: the device.
 * @vq: the queue, after hvx_vq_push() of a batch.
 *
 * With VIRTIO_RING_F_EVENT_IDX, when the used index passed used_event
 * since the last interrupt (vring_need_event()); else unless the driver
 * set VRING_AVAIL_F_NO_INTERRUPT (virtio 1.1, 2.6.7).
 * Context: the device's worker, with the VM owner's mm in use.
 * Return: 1 or 0, or -EFAULT (the queue is stopped).
 */
int hvx_vq_need_irq(struct hvx_virtio *d, struct hvx_vq *vq)
{
	u16 v, old;
	bool valid;

	/* The used index is visible before the driver's field is read. */
	smp_mb();
	if (!has(d, VIRTIO_RING_F_EVENT_IDX)) {
		if (rd16(d, vq->avail + AVAIL_FLAGS, &v))
			return broken(d, vq, "driver ring outside guest RAM");
		return !(v & VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (rd16(d, vq->avail + AVAIL_RING(vq->size), &v))
		return broken(d, vq, "driver ring outside guest RAM");
	old = vq->signalled;
	valid = vq->signalled_valid;
	vq->signalled = vq->used_idx;
	vq->signalled_valid = true;
	return !valid || vring_need_event(v, vq->used_idx, old);
}

/**
 * hvx_vq_arm - ask for a notification of the next chain, then look again
 * @d: the device.
 * @vq: the queue, all of whose available chains were taken (or put
 *	back with hvx_vq_unpop() because they were not enough).
 *
 * With VIRTIO_RING_F_EVENT_IDX, writes avail_event (the index the device
 * wants a notification for): the available index it last read, so the
 * driver notifies when it makes more chains available. A chain the
 * driver published before it saw that would not be notified, so the
 * available index is read again.
 * Context: the device's worker, with the VM owner's mm in use.
 * Return: 1 if more chains are available after all, 0 if not, -EFAULT
 * (the queue is stopped).
 */
int hvx_vq_arm(struct hvx_virtio *d, struct hvx_vq *vq)
{
	u16 idx;

	if (vq->broken)
		return 0;
	if (has(d, VIRTIO_RING_F_EVENT_IDX) &&
	    wr16(d, vq->used + USED_RING(vq->size), vq->avail_idx))
		return broken(d, vq, "device ring outside guest RAM");
	/* avail_event is visible before the index is read again. */
	smp_mb();
	if (rd16(d, vq->avail + AVAIL_IDX, &idx))
		return broken(d, vq, "driver ring outside guest RAM");
	return idx != vq->avail_idx;
}

/**
 * hvx_vq_unpop - put back chains taken and not used
 * @vq: the queue.
 * @n: how many of the last chains hvx_vq_pop() took.
 *
 * The next hvx_vq_pop() takes (and checks) them again.
 * Context: the device's worker.
 */
void hvx_vq_unpop(struct hvx_vq *vq, u16 n)
{
	vq->last_avail -= n;
}

/**
 * hvx_vq_copy - copy between a buffer and a chain's guest buffers
 * @d: the device.
 * @c: the chain.
 * @write: copy @buf into the chain's device-writable bytes; else copy
 *	its device-readable bytes into @buf.
 * @off: offset in the readable (or writable) bytes, in chain order.
 * @buf: kernel buffer.
 * @len: bytes.
 *
 * Context: the device's worker, with the VM owner's mm in use.
 * Return: 0, -EINVAL if the chain has fewer such bytes, -EFAULT if the
 * memory went away (a slot deleted since the chain was checked).
 */
int hvx_vq_copy(struct hvx_virtio *d, const struct hvx_vq_chain *c,
		bool write, u64 off, void *buf, u32 len)
{
	unsigned int i;

	for (i = 0; i < c->nseg && len; i++) {
		const struct hvx_vq_seg *s = &c->seg[i];
		u32 n;
		int ret;

		if (s->write != write)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = min_t(u64, len, s->len - off);
		if (write)
			ret = hvx_gpa_write(&d->vm->mem, s->gpa + off, buf, n);
		else
			ret = hvx_gpa_read(&d->vm->mem, s->gpa + off, buf, n);
		if (ret)
			return -EFAULT;
		buf += n;
		len -= n;
		off = 0;
	}
	return len ? -EINVAL : 0;
}
