// SPDX-License-Identifier: GPL-2.0
/*
 * virtqueue.c - the device side of split (virtio 1.1, 2.6) and packed
 * (2.7) virtqueues, run by a device's worker thread with the VM owner's
 * mm in use.
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

/*
 * Packed rings (2.7): a position in the descriptor ring is an index with
 * its wrap counter in bit 15, as in the event suppression structures.
 */
#define P_DESC(vq, pos)		((vq)->desc + 16 * (u64)((pos) & ~HVX_VQ_WRAP))
#define P_LEN			8	/* offsets in a struct vring_packed_desc */
#define P_FLAGS			14
#define P_AVAIL			BIT(VRING_PACKED_DESC_F_AVAIL)
#define P_USED			BIT(VRING_PACKED_DESC_F_USED)

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
 * The slot of RAM the last buffer of a walk was found in: buffers inside
 * it need no other look at the slots (a request's buffers are mostly in
 * one). Empty at the start of each walk.
 */
struct ram_span {
	u64 start, end;
	bool ro;
};

/* Is [@addr, @addr + @len) RAM, writable for @write? */
static bool seg_ram(struct hvx_virtio *d, struct ram_span *r, u64 addr,
		    u32 len, bool write)
{
	u64 end = addr + len;

	if (!len)
		return true;
	if (end < addr)
		return false;
	if (addr >= r->start && end <= r->end && !(write && r->ro))
		return true;
	if (!hvx_gpa_ram_span(&d->vm->mem, addr, &r->start, &r->end, &r->ro)) {
		r->end = 0;
		return false;
	}
	if (end <= r->end && !(write && r->ro))
		return true;
	/* Across slots, or read-only: the whole range, slot by slot. */
	return hvx_gpa_is_ram(&d->vm->mem, addr, len, write);
}

/*
 * Add a buffer to @c: device-readable buffers come first, and every
 * buffer is RAM (writable RAM if the device writes it). The caller
 * bounds the count by the queue size.
 */
static int add_seg(struct hvx_virtio *d, struct hvx_vq *vq,
		   struct hvx_vq_chain *c, struct ram_span *r, u64 addr,
		   u32 len, bool write)
{
	if (!write && c->in_len)
		return broken(d, vq, "readable buffer after a writable one");
	if (!seg_ram(d, r, addr, len, write))
		return broken(d, vq, "buffer outside guest RAM");
	c->seg[c->nseg].gpa = addr;
	c->seg[c->nseg].len = len;
	c->seg[c->nseg].write = write;
	c->nseg++;
	if (write)
		c->in_len += len;
	else
		c->out_len += len;
	return 0;
}

/* An indirect table's descriptor: its address and length are checked. */
static int indirect_ok(struct hvx_virtio *d, struct hvx_vq *vq,
		       const struct hvx_vq_chain *c, u16 flags, u64 addr,
		       u32 len)
{
	if (!has(d, VIRTIO_RING_F_INDIRECT_DESC) ||
	    (flags & VRING_DESC_F_NEXT) || c->nseg)
		return broken(d, vq, "indirect descriptor not allowed here");
	if (!len || len % 16 || len / 16 > vq->size ||
	    !hvx_gpa_is_ram(&d->vm->mem, addr, len, false))
		return broken(d, vq, "bad indirect table");
	return 0;
}

/*
 * Walk the chain at descriptor @head into @c. Every descriptor read counts
 * against the queue size, which no chain may exceed (2.6.5.3.1: a chain,
 * with its indirect table, is at most Queue Size long), so a loop ends
 * there. An indirect table must hold whole descriptors, lie in RAM and
 * contain no indirect descriptor itself (2.6.5.3.1: no nested tables); it
 * is read whole, once, into d->itable, and walked there (a driver that
 * changes it meanwhile changes nothing the device uses).
 */
static int walk(struct hvx_virtio *d, struct hvx_vq *vq, u16 head,
		struct hvx_vq_chain *c)
{
	struct hvx_mem *mem = &d->vm->mem;
	struct ram_span r = {};
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
		if (indirect)
			desc = d->itable.split[i];
		else if (hvx_gpa_read(mem, vq->desc + 16 * (u64)i, &desc,
				      sizeof(desc)))
			return broken(d, vq, "descriptor table outside guest RAM");
		flags = le16_to_cpu((__force __le16)desc.flags);
		addr = le64_to_cpu((__force __le64)desc.addr);
		len = le32_to_cpu((__force __le32)desc.len);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect)
				return broken(d, vq, "nested indirect table");
			if (indirect_ok(d, vq, c, flags, addr, len))
				return -EFAULT;
			if (hvx_gpa_read(mem, addr, d->itable.split, len))
				return broken(d, vq, "bad indirect table");
			tsize = len / 16;
			indirect = true;
			i = 0;
			n--;	/* the pointer is not part of the chain */
			continue;
		}
		if (add_seg(d, vq, c, &r, addr, len,
			    flags & VRING_DESC_F_WRITE))
			return -EFAULT;
		if (!(flags & VRING_DESC_F_NEXT))
			return 1;
		i = le16_to_cpu((__force __le16)desc.next);
		if (i >= tsize)
			return broken(d, vq, "next descriptor out of the table");
	}
}

/* Packed rings (virtio 1.1, 2.7). */

/* @pos moved on by @n descriptors (at most the queue size). */
static u16 p_advance(const struct hvx_vq *vq, u16 pos, u16 n)
{
	u16 i = (pos & ~HVX_VQ_WRAP) + n, wrap = pos & HVX_VQ_WRAP;

	if (i >= vq->size) {
		i -= vq->size;
		wrap ^= HVX_VQ_WRAP;
	}
	return i | wrap;
}

/*
 * Descriptors from @from to @to, for @to at most a lap ahead of @from:
 * 0 to the queue size; negative or beyond it when @to is behind @from.
 */
static int p_dist(const struct hvx_vq *vq, u16 from, u16 to)
{
	int n = (to & ~HVX_VQ_WRAP) - (from & ~HVX_VQ_WRAP);

	if ((to ^ from) & HVX_VQ_WRAP)
		n += vq->size;
	return n;
}

/*
 * Is the descriptor at @pos, with @flags, available (2.7.1: AVAIL equal
 * to the wrap counter of its position, USED not)?
 */
static bool p_avail(u16 pos, u16 flags)
{
	bool wrap = pos & HVX_VQ_WRAP;

	return !!(flags & P_AVAIL) == wrap && !!(flags & P_USED) != wrap;
}

static int p_read(struct hvx_virtio *d, struct hvx_vq *vq, u64 gpa,
		  struct vring_packed_desc *desc, u16 *flags, u64 *addr,
		  u32 *len)
{
	if (hvx_gpa_read(&d->vm->mem, gpa, desc, sizeof(*desc)))
		return -EFAULT;
	*flags = le16_to_cpu(desc->flags);
	*addr = le64_to_cpu(desc->addr);
	*len = le32_to_cpu(desc->len);
	return 0;
}

/*
 * Walk the chain whose first descriptor is at vq->last_avail (seen
 * available): descriptors follow in ring order while NEXT is set, at most
 * the queue size of them (so no chain laps the ring); an indirect
 * descriptor is alone and its table holds only WRITE flags (2.7.7: the
 * driver sets no other flag there, so NEXT or INDIRECT is hostile). The
 * buffer ID is the last descriptor's (2.7.6), below the queue size; the
 * chain's descriptor count is kept for hvx_vq_push_n() to skip.
 */
static int p_walk(struct hvx_virtio *d, struct hvx_vq *vq,
		  struct hvx_vq_chain *c)
{
	struct vring_packed_desc desc;
	struct ram_span r = {};
	u16 pos = vq->last_avail, flags, id, n = 0;
	u64 addr;
	u32 len, i;

	c->nseg = 0;
	c->out_len = 0;
	c->in_len = 0;
	for (;;) {
		if (++n > vq->size)
			return broken(d, vq, "descriptor chain longer than the queue");
		if (p_read(d, vq, P_DESC(vq, pos), &desc, &flags, &addr, &len))
			return broken(d, vq, "descriptor ring outside guest RAM");
		if (flags & VRING_DESC_F_INDIRECT)
			break;
		if (add_seg(d, vq, c, &r, addr, len,
			    flags & VRING_DESC_F_WRITE))
			return -EFAULT;
		if (!(flags & VRING_DESC_F_NEXT)) {
			id = le16_to_cpu(desc.id);
			goto done;
		}
		pos = p_advance(vq, pos, 1);
	}
	if (indirect_ok(d, vq, c, flags, addr, len))
		return -EFAULT;
	id = le16_to_cpu(desc.id);
	/* Read whole, once (see walk()). */
	if (hvx_gpa_read(&d->vm->mem, addr, d->itable.packed, len))
		return broken(d, vq, "bad indirect table");
	for (i = 0; i < len / 16; i++) {
		const struct vring_packed_desc *t = &d->itable.packed[i];
		u64 a = le64_to_cpu(t->addr);
		u32 l = le32_to_cpu(t->len);
		u16 f = le16_to_cpu(t->flags);

		if (f & VRING_DESC_F_INDIRECT)
			return broken(d, vq, "nested indirect table");
		if (f & VRING_DESC_F_NEXT)
			return broken(d, vq, "NEXT in an indirect table");
		if (add_seg(d, vq, c, &r, a, l, f & VRING_DESC_F_WRITE))
			return -EFAULT;
	}
done:
	if (id >= vq->size)
		return broken(d, vq, "buffer ID out of range");
	c->head = id;
	vq->ndesc[id] = n;
	vq->last_avail = p_advance(vq, vq->last_avail, n);
	return 1;
}

static int p_pop(struct hvx_virtio *d, struct hvx_vq *vq,
		 struct hvx_vq_chain *c)
{
	u16 flags;

	/* Alignment (2.7.10.1): descriptors 16, event structures 4. */
	if ((vq->desc & 15) || (vq->avail & 3) || (vq->used & 3))
		return broken(d, vq, "misaligned ring");
	if (rd16(d, P_DESC(vq, vq->last_avail) + P_FLAGS, &flags))
		return broken(d, vq, "descriptor ring outside guest RAM");
	if (!p_avail(vq->last_avail, flags))
		return 0;
	/* The descriptors are read after the flags that published them. */
	smp_rmb();
	vq->popped[vq->npop++ % HVX_VQ_MAX_SIZE] = vq->last_avail;
	return p_walk(d, vq, c);
}

/*
 * Mark chains used: each used descriptor goes where the previous chain
 * began (2.7.6), with the ID and length, AVAIL and USED equal to the
 * wrap counter there, WRITE if the device wrote bytes (2.7.3). The first
 * one's flags go last, so the driver sees all of them together (2.7.9).
 */
static int p_push_n(struct hvx_virtio *d, struct hvx_vq *vq,
		    const u16 *heads, const u32 *lens, unsigned int n)
{
	struct hvx_mem *mem = &d->vm->mem;
	u16 pos = vq->used_idx, first = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		u16 ndesc = vq->ndesc[heads[i] % HVX_VQ_MAX_SIZE];
		struct {
			__le32 len;
			__le16 id;
			__le16 flags;
		} __packed u = {
			.len = cpu_to_le32(lens[i]),
			.id = cpu_to_le16(heads[i]),
		};
		u16 flags = lens[i] ? VRING_DESC_F_WRITE : 0;

		if (pos & HVX_VQ_WRAP)
			flags |= P_AVAIL | P_USED;
		u.flags = cpu_to_le16(flags);
		if (hvx_gpa_write(mem, P_DESC(vq, pos) + P_LEN, &u,
				  i ? sizeof(u) : offsetof(typeof(u), flags)))
			return broken(d, vq, "descriptor ring outside guest RAM");
		if (!i)
			first = flags;
		/*
		 * The used index of the last interrupt stays comparable
		 * only within a lap: past that, interrupt the next time.
		 */
		if (p_dist(vq, vq->signalled, pos) + ndesc > vq->size)
			vq->signalled_valid = false;
		pos = p_advance(vq, pos, ndesc);
	}
	/* The IDs and lengths before the flags the driver reads them by. */
	smp_wmb();
	if (wr16(d, P_DESC(vq, vq->used_idx) + P_FLAGS, first))
		return broken(d, vq, "descriptor ring outside guest RAM");
	vq->used_idx = pos;
	return 0;
}

/*
 * The driver event suppression structure (2.7.10): enable, disable, or
 * with EVENT_IDX the position whose use is to interrupt.
 */
static int p_need_irq(struct hvx_virtio *d, struct hvx_vq *vq)
{
	struct vring_packed_desc_event e;
	u16 old = vq->signalled, flags, off;
	bool valid = vq->signalled_valid;
	int from_event;

	if (hvx_gpa_read(&d->vm->mem, vq->avail, &e, sizeof(e)))
		return broken(d, vq, "driver area outside guest RAM");
	vq->signalled = vq->used_idx;
	vq->signalled_valid = true;
	flags = le16_to_cpu(e.flags) & 3;
	off = le16_to_cpu(e.off_wrap);
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return 0;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC ||
	    !has(d, VIRTIO_RING_F_EVENT_IDX) || !valid)
		return 1;
	/* Was the descriptor at @off used since the last interrupt? */
	from_event = p_dist(vq, off, vq->used_idx);
	return from_event > 0 && from_event <= p_dist(vq, old, vq->used_idx);
}

/*
 * With EVENT_IDX the device event suppression structure asks for a
 * notification when the descriptor at vq->last_avail is made available;
 * then that descriptor is looked at again.
 */
static int p_arm(struct hvx_virtio *d, struct hvx_vq *vq)
{
	struct vring_packed_desc_event e = {
		.off_wrap = cpu_to_le16(vq->last_avail),
		.flags = cpu_to_le16(VRING_PACKED_EVENT_FLAG_DESC),
	};
	u16 flags;

	if (has(d, VIRTIO_RING_F_EVENT_IDX) &&
	    hvx_gpa_write(&d->vm->mem, vq->used, &e, sizeof(e)))
		return broken(d, vq, "device area outside guest RAM");
	/* The event is visible before the descriptor is read again. */
	smp_mb();
	if (rd16(d, P_DESC(vq, vq->last_avail) + P_FLAGS, &flags))
		return broken(d, vq, "descriptor ring outside guest RAM");
	return p_avail(vq->last_avail, flags);
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
	if (vq->packed)
		return p_pop(d, vq, c);
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

	if (vq->packed)
		return p_push_n(d, vq, heads, lens, n);
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
	if (vq->packed)
		return p_need_irq(d, vq);
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
	if (vq->packed)
		return p_arm(d, vq);
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
	if (!vq->packed) {
		vq->last_avail -= n;
	} else if (n) {
		/* Back to where the first of them began. */
		vq->npop -= n;
		vq->last_avail = vq->popped[vq->npop % HVX_VQ_MAX_SIZE];
	}
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
