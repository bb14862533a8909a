// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_net.c - virtio-net (virtio 1.1, 5.1) backed by a tap device
 * that userspace opened (/dev/net/tun, IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR) and handed over, with the datapath in the kernel both
 * ways, as vhost-net does.
 *
 * Queues: 0 receive, 1 transmit, 2 control. A transmit notification wakes
 * the device's worker, which copies each frame out of guest memory and
 * hands it to the tap's socket (tun_get_socket(), sendmsg). The worker
 * also sits on the tap's wait queue (as vhost_poll does): when the tap
 * has a frame for the guest, the wake-up marks the receive queue and the
 * worker moves the frame into the driver's receive buffers (recvmsg).
 * The guest's header (struct virtio_net_hdr_mrg_rxbuf, 12 bytes) is the
 * tap's 10-byte struct virtio_net_hdr plus num_buffers; a tap with
 * another header size or byte order is refused. The tap's offloads
 * (TUNSETOFFLOAD) follow the receive offloads the driver accepted, so
 * the tap hands over only frames the driver can take. With CTRL_RX the
 * worker filters received frames by destination as 5.1.6.5.1-2 asks.
 * A frame stays in the tap until the driver has receive buffers for it
 * (its length peeked, the chains counted and put back), so that a save
 * finds no frame between the tap and the ring; HVX_STATE_VIRTIO_NET
 * carries the MAC given at creation and the receive filter.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/etherdevice.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "../compat.h"
#include "../hvx_core.h"
#include "virtio.h"

#define RXQ		0
#define TXQ		1
#define CTRLQ		2
#define NR_QUEUES	3
/* Queue size offered: 256 buffers, as QEMU's receive queue. */
#define NET_QSIZE	256

/* The guest's header (VERSION_1: always with num_buffers) and the tap's. */
#define HDR_LEN		sizeof(struct virtio_net_hdr_mrg_rxbuf)
#define TAP_HDR_LEN	sizeof(struct virtio_net_hdr)
/* Largest frame either way: a 64 KiB GSO frame with its VLAN header. */
#define MAX_FRAME	(SZ_64K + VLAN_ETH_HLEN)
#define BUF_SIZE	(HDR_LEN + MAX_FRAME)

/* Frames received per turn before the worker looks at the other queues. */
#define RX_BATCH	64

/* Entries of the MAC filter table (unicast and multicast together). */
#define MAC_TABLE_LEN	HVX_STATE_NET_MACS

#define NETF(x)		BIT_ULL(VIRTIO_NET_F_##x)
#define NET_FEATURES	(NETF(CSUM) | NETF(GUEST_CSUM) | NETF(GUEST_TSO4) |	\
			 NETF(GUEST_TSO6) | NETF(HOST_TSO4) | NETF(HOST_TSO6) |	\
			 NETF(MAC) | NETF(MRG_RXBUF) | NETF(STATUS) | NETF(CTRL_VQ) |	\
			 NETF(CTRL_RX) | NETF(CTRL_MAC_ADDR))

/**
 * struct hvx_virtio_net - a virtio-net device
 * @vdev: the transport.
 * @file: the tap's file (a reference).
 * @sock: the tap's socket (tun_get_socket(); lives as long as @file).
 * @wqh: the tap's wait queue @wait is on, or NULL.
 * @wait: the worker's entry on @wqh.
 * @pt: the poll table that puts @wait on @wqh.
 * @cfg: the device configuration (its @mac changes under the
 *	transport's lock).
 * @mac: the MAC address given at creation (@cfg's again at a reset).
 * @promisc: receive every frame (VIRTIO_NET_CTRL_RX_PROMISC; the state
 *	after a reset, as in QEMU, so that a driver without CTRL_RX gets
 *	everything).
 * @allmulti: receive every multicast frame.
 * @uc_overflow: the driver's unicast table did not fit: every unicast
 *	frame passes.
 * @mc_overflow: the same for multicast.
 * @nr_uc: unicast entries at the start of @macs.
 * @nr_mc: multicast entries after them.
 * @macs: the MAC filter table (VIRTIO_NET_CTRL_MAC_TABLE_SET).
 * @rxbuf: the frame being received: the guest's header (the tap's with
 *	room for num_buffers), then the frame.
 * @rx_len: bytes of @rxbuf waiting for receive buffers, 0 if none
 *	(only between taking a frame and delivering it, in one turn).
 * @txbuf: the frame being sent, as the guest wrote it.
 * @first: the first chain of the frame being received.
 * @heads: heads of the chains a merged frame fills.
 * @lens: bytes written into each.
 */
struct hvx_virtio_net {
	struct hvx_virtio vdev;
	struct file *file;
	struct socket *sock;
	wait_queue_head_t *wqh;
	wait_queue_entry_t wait;
	poll_table pt;
	struct virtio_net_config cfg;
	u8 mac[ETH_ALEN];
	bool promisc, allmulti, uc_overflow, mc_overflow;
	u32 nr_uc, nr_mc;
	u8 macs[MAC_TABLE_LEN][ETH_ALEN];
	u8 *rxbuf;
	u32 rx_len;
	u8 *txbuf;
	struct hvx_vq_chain first;
	u16 heads[HVX_VQ_MAX_SIZE];
	u32 lens[HVX_VQ_MAX_SIZE];
};

static struct hvx_virtio_net *to_net(struct hvx_virtio *d)
{
	return container_of(d, struct hvx_virtio_net, vdev);
}

static bool has(const struct hvx_virtio *d, u64 f)
{
	return (d->driver_features & f) == f;
}

/* A frame dropped: counted as an error, the queue goes on. */
static void drop(struct hvx_virtio *d)
{
	atomic64_inc(&d->nr_errors);
}

/* The tap's wait queue woke: a frame for the guest (or the tap went). */
static int net_wake(wait_queue_entry_t *wait, unsigned int mode, int sync,
		    void *key)
{
	struct hvx_virtio_net *n = container_of(wait, struct hvx_virtio_net,
						wait);

	if (!key || (key_to_poll(key) & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		hvx_virtio_kick(&n->vdev, RXQ);
	return 0;
}

static void net_queue_proc(struct file *file, wait_queue_head_t *wqh,
			   poll_table *pt)
{
	struct hvx_virtio_net *n = container_of(pt, struct hvx_virtio_net, pt);

	if (n->wqh)
		return;
	n->wqh = wqh;
	add_wait_queue(wqh, &n->wait);
}

/*
 * Transmit one chain: the guest's header and frame, device-readable. A
 * chain too short for the header, longer than a frame can be, or with
 * offloads the driver did not negotiate is dropped and counted.
 */
static int net_tx(struct hvx_virtio_net *n, struct hvx_vq_chain *c)
{
	struct hvx_virtio *d = &n->vdev;
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)n->txbuf;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	u64 len = c->out_len;
	struct kvec kv[2];
	int ret;

	if (len < HDR_LEN || len > BUF_SIZE) {
		drop(d);
		return 0;
	}
	if (hvx_vq_copy(d, c, false, 0, n->txbuf, len))
		return -EFAULT;		/* guest memory went away */
	if (((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !has(d, NETF(CSUM))) ||
	    (h->gso_type != VIRTIO_NET_HDR_GSO_NONE &&
	     !(d->driver_features & (NETF(HOST_TSO4) | NETF(HOST_TSO6))))) {
		drop(d);
		return 0;
	}
	kv[0].iov_base = n->txbuf;
	kv[0].iov_len = TAP_HDR_LEN;
	kv[1].iov_base = n->txbuf + HDR_LEN;
	kv[1].iov_len = len - HDR_LEN;
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, kv, 2,
		      TAP_HDR_LEN + len - HDR_LEN);
	ret = n->sock->ops->sendmsg(n->sock, &msg,
				    TAP_HDR_LEN + len - HDR_LEN);
	if (ret < 0)
		drop(d);
	else
		atomic64_add(len - HDR_LEN, &d->nr_bytes);
	return 0;
}

/*
 * VIRTIO_NET_CTRL_MAC_TABLE_SET: two tables (unicast, then multicast),
 * each a count and its addresses, with nothing after them. The filter
 * changes only when the command is well formed; a table that does not
 * fit in what is left of MAC_TABLE_LEN lets its whole kind through.
 */
static bool mac_table_set(struct hvx_virtio_net *n, struct hvx_vq_chain *c,
			  u64 off, u64 len)
{
	struct hvx_virtio *d = &n->vdev;
	u32 count[2], used = 0;
	bool over[2];
	unsigned int t;
	u64 pos = off;

	for (t = 0; t < 2; t++) {
		__le32 entries;
		u64 bytes;

		if (len < sizeof(entries) ||
		    hvx_vq_copy(d, c, false, pos, &entries, sizeof(entries)))
			return false;
		count[t] = le32_to_cpu(entries);
		bytes = sizeof(entries) + (u64)count[t] * ETH_ALEN;
		if (bytes > len)
			return false;
		over[t] = count[t] > MAC_TABLE_LEN - used;
		if (!over[t])
			used += count[t];
		pos += bytes;
		len -= bytes;
	}
	if (len)
		return false;
	used = 0;
	for (t = 0, pos = off; t < 2; t++) {
		pos += sizeof(__le32);
		if (!over[t] && count[t] &&
		    hvx_vq_copy(d, c, false, pos, n->macs[used],
				count[t] * ETH_ALEN))
			return false;
		pos += (u64)count[t] * ETH_ALEN;
		if (!over[t])
			used += count[t];
	}
	n->uc_overflow = over[0];
	n->mc_overflow = over[1];
	n->nr_uc = over[0] ? 0 : count[0];
	n->nr_mc = over[1] ? 0 : count[1];
	return true;
}

/*
 * One control command (5.1.6.5): a class and command byte, their data,
 * and the ack byte as the last writable byte. The receive modes and the
 * MAC table set the worker's filter; a new MAC goes into the
 * configuration before the command is acknowledged (5.1.6.5.2).
 */
static int net_ctrl(struct hvx_virtio_net *n, struct hvx_vq_chain *c,
		    u32 *written)
{
	struct hvx_virtio *d = &n->vdev;
	struct virtio_net_ctrl_hdr h;
	virtio_net_ctrl_ack ack = VIRTIO_NET_ERR;
	u8 mac[ETH_ALEN];
	u8 on;
	u64 len;

	if (c->out_len < sizeof(h) || !c->in_len ||
	    hvx_vq_copy(d, c, false, 0, &h, sizeof(h)))
		return -EFAULT;
	len = c->out_len - sizeof(h);
	switch (h.class) {
	case VIRTIO_NET_CTRL_RX:
		if (!has(d, NETF(CTRL_RX)) || len != 1 ||
		    hvx_vq_copy(d, c, false, sizeof(h), &on, sizeof(on)))
			break;
		if (h.cmd == VIRTIO_NET_CTRL_RX_PROMISC) {
			n->promisc = on;
			ack = VIRTIO_NET_OK;
		} else if (h.cmd == VIRTIO_NET_CTRL_RX_ALLMULTI) {
			n->allmulti = on;
			ack = VIRTIO_NET_OK;
		}
		break;
	case VIRTIO_NET_CTRL_MAC:
		if (h.cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET &&
		    has(d, NETF(CTRL_RX)) && mac_table_set(n, c, sizeof(h), len))
			ack = VIRTIO_NET_OK;
		if (h.cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET &&
		    has(d, NETF(CTRL_MAC_ADDR)) && len == ETH_ALEN &&
		    !hvx_vq_copy(d, c, false, sizeof(h), mac, ETH_ALEN) &&
		    is_valid_ether_addr(mac)) {
			mutex_lock(&d->lock);
			memcpy(n->cfg.mac, mac, ETH_ALEN);
			mutex_unlock(&d->lock);
			ack = VIRTIO_NET_OK;
		}
		break;
	}
	if (ack != VIRTIO_NET_OK)
		atomic64_inc(&d->nr_errors);
	if (hvx_vq_copy(d, c, true, c->in_len - 1, &ack, sizeof(ack)))
		return -EFAULT;
	*written = sizeof(ack);
	return 0;
}

static int net_request(struct hvx_virtio *d, unsigned int q,
		       struct hvx_vq_chain *c, u32 *written)
{
	if (q == TXQ)
		return net_tx(to_net(d), c);
	return net_ctrl(to_net(d), c, written);
}

/*
 * Take the tap's next frame into rxbuf (header at 0, num_buffers left
 * out, frame at HDR_LEN). Return 1 with a frame, 0 if the tap has none,
 * -EMSGSIZE if one was dropped.
 */
static int net_recv(struct hvx_virtio_net *n)
{
	struct msghdr msg = {};
	struct kvec kv[2] = {
		{ .iov_base = n->rxbuf, .iov_len = TAP_HDR_LEN },
		{ .iov_base = n->rxbuf + HDR_LEN, .iov_len = MAX_FRAME },
	};
	int ret;

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, kv, 2, TAP_HDR_LEN + MAX_FRAME);
	ret = n->sock->ops->recvmsg(n->sock, &msg, TAP_HDR_LEN + MAX_FRAME,
				    MSG_DONTWAIT | MSG_TRUNC);
	if (ret == -EAGAIN)
		return 0;
	if (ret < 0) {
		/* The tap went away (-EBADFD): wait for the next wake-up. */
		drop(&n->vdev);
		return 0;
	}
	if (ret <= TAP_HDR_LEN || ret > TAP_HDR_LEN + MAX_FRAME) {
		drop(&n->vdev);
		return -EMSGSIZE;
	}
	n->rx_len = ret - TAP_HDR_LEN + HDR_LEN;
	return 1;
}

/*
 * Does the driver want the frame in rxbuf (5.1.6.5.1-2, as QEMU
 * filters)? Everything in promiscuous mode; else broadcast, multicast
 * with all-multicast or in the table, and unicast to the configured MAC
 * or in the table.
 */
static bool rx_wanted(struct hvx_virtio_net *n)
{
	const u8 *dst = n->rxbuf + HDR_LEN;
	u32 i, end;

	if (n->promisc)
		return true;
	if (n->rx_len < HDR_LEN + ETH_HLEN)
		return false;
	if (is_broadcast_ether_addr(dst))
		return true;
	if (is_multicast_ether_addr(dst)) {
		if (n->allmulti || n->mc_overflow)
			return true;
		i = n->nr_uc;
		end = n->nr_uc + n->nr_mc;
	} else {
		if (ether_addr_equal(dst, n->cfg.mac) || n->uc_overflow)
			return true;
		i = 0;
		end = n->nr_uc;
	}
	for (; i < end; i++)
		if (ether_addr_equal(dst, n->macs[i]))
			return true;
	return false;
}

/* Can the driver take the received frame's offloads? */
static bool rx_hdr_ok(struct hvx_virtio *d, struct virtio_net_hdr *h)
{
	u8 gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (!has(d, NETF(GUEST_CSUM))) {
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			return false;
		h->flags = 0;
	}
	if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		return false;
	return gso == VIRTIO_NET_HDR_GSO_NONE ||
	       (gso == VIRTIO_NET_HDR_GSO_TCPV4 && has(d, NETF(GUEST_TSO4))) ||
	       (gso == VIRTIO_NET_HDR_GSO_TCPV6 && has(d, NETF(GUEST_TSO6)));
}

/* Take a receive chain: device-writable only, room for the header. */
static int rx_pop(struct hvx_virtio *d, struct hvx_vq *vq,
		  struct hvx_vq_chain *c, u32 min)
{
	int ret = hvx_vq_pop(d, vq, c);

	if (ret <= 0)
		return ret;
	if (c->out_len || c->in_len < min) {
		vq->broken = true;
		hvx_virtio_fail(d, RXQ, "receive buffer not device-writable or too short");
		return -EFAULT;
	}
	return 1;
}

/* A guest copy failed: guest memory went away; stop the queue. */
static int rx_fault(struct hvx_virtio *d, struct hvx_vq *vq)
{
	vq->broken = true;
	hvx_virtio_fail(d, RXQ, "receive buffer outside guest RAM");
	return -EFAULT;
}

/*
 * Has the driver made receive buffers available for a frame of @len
 * bytes (the guest's header included)? The chains are taken to count
 * them and put back. Return 1 if they are there, or if the frame can
 * never fit (rx_fill() drops it); 0 if not yet (the frame stays in the
 * tap), -EFAULT if the queue stopped.
 */
static int rx_room(struct hvx_virtio_net *n, struct hvx_vq *vq, u32 len)
{
	struct hvx_virtio *d = &n->vdev;
	struct hvx_vq_chain *c = &d->chain;
	u64 room = 0;
	u16 k;
	int ret;

	for (k = 0; room < len; k++) {
		if (k == vq->size || (k && !has(d, NETF(MRG_RXBUF))))
			break;
		ret = rx_pop(d, vq, c, k ? 1 : HDR_LEN);
		if (ret < 0)
			return ret;
		if (!ret) {
			hvx_vq_unpop(vq, k);
			return 0;
		}
		room += c->in_len;
	}
	hvx_vq_unpop(vq, k);
	return 1;
}

/*
 * Put the frame in rxbuf into receive chains: one, or with MRG_RXBUF as
 * many as it needs (num_buffers in the first one's header), published
 * together. Return 1 when delivered or dropped, 0 if the driver has not
 * made enough buffers available (the frame waits; the chains taken are
 * put back and a notification is asked for), -EFAULT if the queue stopped.
 */
static int rx_fill(struct hvx_virtio_net *n, struct hvx_vq *vq)
{
	struct hvx_virtio *d = &n->vdev;
	struct hvx_vq_chain *c = &d->chain;
	u32 len = n->rx_len, done;
	__le16 nbuf;
	u16 k;
	int ret;

	ret = rx_pop(d, vq, &n->first, HDR_LEN);
	if (ret <= 0)
		return ret ? ret : -EAGAIN;
	n->heads[0] = n->first.head;
	n->lens[0] = min_t(u64, n->first.in_len, len);
	done = n->lens[0];
	for (k = 1; done < len; k++) {
		if (!has(d, NETF(MRG_RXBUF)) || k == vq->size) {
			/* Bigger than the driver's buffers can ever be. */
			hvx_vq_unpop(vq, k);
			drop(d);
			return 1;
		}
		ret = rx_pop(d, vq, c, 1);
		if (ret <= 0) {
			if (ret == 0)
				hvx_vq_unpop(vq, k);
			return ret ? ret : -EAGAIN;
		}
		n->heads[k] = c->head;
		n->lens[k] = min_t(u64, c->in_len, len - done);
		if (hvx_vq_copy(d, c, true, 0, n->rxbuf + done, n->lens[k]))
			return rx_fault(d, vq);
		done += n->lens[k];
	}
	nbuf = cpu_to_le16(k);
	memcpy(n->rxbuf + TAP_HDR_LEN, &nbuf, sizeof(nbuf));
	if (hvx_vq_copy(d, &n->first, true, 0, n->rxbuf, n->lens[0]))
		return rx_fault(d, vq);
	if (hvx_vq_push_n(d, vq, n->heads, n->lens, k))
		return -EFAULT;
	atomic64_inc(&d->nr_requests);
	atomic64_add(len - HDR_LEN, &d->nr_bytes);
	return 1 + k;
}

/*
 * Serve the receive queue: move frames from the tap into the driver's
 * buffers until the tap is empty, the buffers run out (the next frame
 * waits in the tap for the driver's next notification) or a batch is
 * done.
 */
static int net_serve(struct hvx_virtio *d, unsigned int q)
{
	struct hvx_virtio_net *n = to_net(d);
	struct hvx_vq *vq = &d->vqs[RXQ];
	unsigned int frames = 0;
	int used = 0, ret;

	if (q != RXQ)
		return -ENOENT;
	while (!vq->broken) {
		/* Dropped frames count too: a flood of them ends the turn. */
		if (frames++ == RX_BATCH) {
			hvx_virtio_kick(d, RXQ);
			break;
		}
		if (!n->rx_len) {
			int peek = n->sock->ops->peek_len(n->sock);

			if (peek <= 0)
				break;
			/* Too big a frame goes, net_recv() drops it. */
			ret = peek > MAX_FRAME ? 1 : rx_room(n, vq, HDR_LEN + peek);
			if (ret < 0)
				break;
			if (!ret) {
				/* Out of buffers: the frame waits in the tap. */
				if (hvx_vq_arm(d, vq) > 0)
					continue;
				break;
			}
			ret = net_recv(n);
			if (ret == -EMSGSIZE)
				continue;
			if (!ret)
				break;
		}
		if (!rx_wanted(n)) {
			/* Filtered out: not an error. */
			n->rx_len = 0;
			continue;
		}
		if (!rx_hdr_ok(d, (struct virtio_net_hdr *)n->rxbuf)) {
			drop(d);
			n->rx_len = 0;
			continue;
		}
		ret = rx_fill(n, vq);
		if (ret == -EAGAIN) {
			/* Out of buffers: ask for a notification, look again. */
			if (hvx_vq_arm(d, vq) > 0)
				continue;
			break;
		}
		if (ret < 0)
			break;
		n->rx_len = 0;
		used += ret - 1;
	}
	return used;
}

/*
 * The tap's receive offloads follow the driver's (0 at a reset). The
 * receive filter and the MAC start over: promiscuous, empty tables
 * (5.1.6.5.2), the MAC given at creation.
 */
static void net_set_features(struct hvx_virtio *d, u64 features)
{
	struct hvx_virtio_net *n = to_net(d);
	unsigned long off = 0;
	long ret;

	n->promisc = true;
	n->allmulti = false;
	n->uc_overflow = false;
	n->mc_overflow = false;
	n->nr_uc = 0;
	n->nr_mc = 0;
	if (!features)
		ether_addr_copy(n->cfg.mac, n->mac);

	if (features & NETF(GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (features & NETF(GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (features & NETF(GUEST_TSO6))
			off |= TUN_F_TSO6;
	}
	ret = n->file->f_op->unlocked_ioctl(n->file, TUNSETOFFLOAD, off);
	if (ret)
		pr_warn_ratelimited("VM %u virtio-net: TUNSETOFFLOAD %#lx failed (%ld); frames the driver cannot take are dropped\n",
				    d->vm->id, off, ret);
}

static void net_stop(struct hvx_virtio *d)
{
	struct hvx_virtio_net *n = to_net(d);

	if (n->wqh)
		remove_wait_queue(n->wqh, &n->wait);
	n->wqh = NULL;
}

/* After a drain: back on the tap's wait queue, and look at the tap. */
static void net_resume(struct hvx_virtio *d)
{
	struct hvx_virtio_net *n = to_net(d);

	if (!n->wqh)
		vfs_poll(n->file, &n->pt);
	hvx_virtio_kick(d, RXQ);
}

static void net_get_state(struct hvx_virtio *d, void *ext)
{
	struct hvx_virtio_net *n = to_net(d);
	struct hvx_state_virtio_net *r = ext;

	ether_addr_copy(r->mac, n->mac);
	r->flags = (n->promisc ? HVX_NET_PROMISC : 0) |
		   (n->allmulti ? HVX_NET_ALLMULTI : 0) |
		   (n->uc_overflow ? HVX_NET_UC_OVERFLOW : 0) |
		   (n->mc_overflow ? HVX_NET_MC_OVERFLOW : 0);
	r->nr_uc = n->nr_uc;
	r->nr_mc = n->nr_mc;
	memcpy(r->macs, n->macs, (n->nr_uc + n->nr_mc) * ETH_ALEN);
}

/*
 * Both MACs valid unicast addresses, known flags, the tables within
 * HVX_STATE_NET_MACS, empty when overflowed, zero past their end.
 */
static int net_check_state(struct hvx_virtio *d,
			   const struct hvx_state_virtio *s, const void *ext)
{
	const struct hvx_state_virtio_net *r = ext;
	u32 used = r->nr_uc + r->nr_mc;

	if (!is_valid_ether_addr(r->mac) ||
	    !is_valid_ether_addr(s->device_config) || r->reserved ||
	    (r->flags & ~HVX_NET_FLAGS) || used > HVX_STATE_NET_MACS ||
	    ((r->flags & HVX_NET_UC_OVERFLOW) && r->nr_uc) ||
	    ((r->flags & HVX_NET_MC_OVERFLOW) && r->nr_mc) ||
	    memchr_inv(r->macs[used], 0,
		       (HVX_STATE_NET_MACS - used) * ETH_ALEN))
		return -EINVAL;
	return 0;
}

/* After the transport's state: the MACs and the filter the driver set. */
static void net_set_state(struct hvx_virtio *d,
			  const struct hvx_state_virtio *s, const void *ext)
{
	struct hvx_virtio_net *n = to_net(d);
	const struct hvx_state_virtio_net *r = ext;

	ether_addr_copy(n->mac, r->mac);
	ether_addr_copy(n->cfg.mac, s->device_config);
	n->promisc = r->flags & HVX_NET_PROMISC;
	n->allmulti = r->flags & HVX_NET_ALLMULTI;
	n->uc_overflow = r->flags & HVX_NET_UC_OVERFLOW;
	n->mc_overflow = r->flags & HVX_NET_MC_OVERFLOW;
	n->nr_uc = r->nr_uc;
	n->nr_mc = r->nr_mc;
	memcpy(n->macs, r->macs, sizeof(n->macs));
	n->rx_len = 0;
}

static void net_free(struct hvx_virtio_net *n)
{
	kvfree(n->rxbuf);
	kvfree(n->txbuf);
	if (n->sock)
		symbol_put(tun_get_socket);
	fput(n->file);
	kvfree(n);
}

static void net_release(struct hvx_virtio *d)
{
	net_free(to_net(d));
}

static const struct hvx_virtio_ops net_ops = {
	.id		= VIRTIO_ID_NET,
	.class		= PCI_CLASS_NETWORK_ETHERNET << 8,
	.request	= net_request,
	.serve		= net_serve,
	.set_features	= net_set_features,
	.stop		= net_stop,
	.release	= net_release,
	.can_save	= true,
	.cfg_state	= ETH_ALEN,
	.state_type	= HVX_STATE_VIRTIO_NET,
	.state_size	= sizeof(struct hvx_state_virtio_net),
	.pause		= net_stop,
	.resume		= net_resume,
	.get_state	= net_get_state,
	.check_state	= net_check_state,
	.set_state	= net_set_state,
};

/* What tun says about a tap, each through a user buffer. */
struct tap_info {
	struct ifreq ifr;	/* TUNGETIFF */
	int hdr_sz;		/* TUNGETVNETHDRSZ */
	int be;			/* TUNGETVNETBE */
};

static long tap_ioctl(struct file *file, unsigned int cmd,
		      void __user *field)
{
	return file->f_op->unlocked_ioctl(file, cmd, (unsigned long)field);
}

/*
 * Ask tun about the tap: its flags, vnet header size and byte order.
 * tun answers only into user memory, so the answers go through a
 * scratch page mapped into the caller's own address space (the VM
 * owner's, in its ioctl) and unmapped again. Return 0, -EINVAL for an
 * fd that is not attached to a device, -ENOMEM.
 */
static int tap_query(struct file *file, struct tap_info *info)
{
	struct tap_info __user *u;
	unsigned long addr;
	long ret;

	addr = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr))
		return -ENOMEM;
	u = (struct tap_info __user *)addr;
	ret = tap_ioctl(file, TUNGETIFF, &u->ifr);
	if (ret) {
		ret = ret == -EFAULT ? -ENOMEM : -EINVAL;	/* -EBADFD */
		goto out;
	}
	ret = tap_ioctl(file, TUNGETVNETHDRSZ, &u->hdr_sz);
	if (ret) {
		ret = -ENOMEM;
		goto out;
	}
	/* -EINVAL without CONFIG_TUN_VNET_CROSS_LE: little-endian. */
	if (tap_ioctl(file, TUNGETVNETBE, &u->be) && put_user(0, &u->be)) {
		ret = -ENOMEM;
		goto out;
	}
	if (copy_from_user(info, u, sizeof(*info)))
		ret = -ENOMEM;
out:
	vm_munmap(addr, PAGE_SIZE);
	return ret;
}

/*
 * The fd must be a tap: tun's own socket (tun_get_socket(), through
 * symbol_get() so that hvx.ko does not need tun.ko loaded; a tap fd
 * exists only while tun is loaded), attached to an Ethernet (IFF_TAP)
 * device (-EINVAL), which frames as the device does (-EPROTO): a virtio
 * header (IFF_VNET_HDR) of TAP_HDR_LEN bytes, little-endian (virtio
 * 1.x). IFF_NO_PI cannot be checked: TUNGETIFF sets IFF_NOFILTER, the
 * same bit, whenever no socket filter is attached. A tap with packet
 * information garbles only its own VM's frames.
 */
static int net_backing(struct hvx_virtio_net *n)
{
	struct socket *(*get_socket)(struct file *f);
	struct tap_info info;
	struct socket *sock;
	int ret;

	get_socket = symbol_get(tun_get_socket);
	if (!get_socket)
		return -EINVAL;
	sock = get_socket(n->file);
	if (IS_ERR(sock)) {
		symbol_put(tun_get_socket);
		return -EINVAL;
	}
	n->sock = sock;
	ret = tap_query(n->file, &info);
	if (ret)
		return ret;
	if ((info.ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP)
		return -EINVAL;
	if (!(info.ifr.ifr_flags & IFF_VNET_HDR) ||
	    info.hdr_sz != TAP_HDR_LEN || info.be)
		return -EPROTO;
	return 0;
}

/**
 * hvx_virtio_net_create - HVX_CREATE_VIRTIO for HVX_VIRTIO_NET
 * @vm: the VM.
 * @a: the argument, its transport fields checked.
 *
 * Context: process context of the VM's owner.
 * Return: 0, or -EBADF, -EINVAL, -EPROTO, -EEXIST, -ENODEV, -ENOMEM (see
 * HVX_CREATE_VIRTIO); on error nothing changed.
 */
long hvx_virtio_net_create(struct hvx_vm *vm, const struct hvx_virtio_device *a)
{
	struct hvx_virtio_net *n;
	__poll_t mask;
	int ret;

	if (!IS_ENABLED(CONFIG_TUN))
		return -EINVAL;
	if (a->flags & HVX_VIRTIO_RANDOM_MAC) {
		if (!is_zero_ether_addr(a->mac))
			return -EINVAL;
	} else if (!is_valid_ether_addr(a->mac)) {
		return -EINVAL;
	}
	n = kvzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return -ENOMEM;
	n->file = fget(a->fd);
	if (!n->file) {
		kvfree(n);
		return -EBADF;
	}
	ret = net_backing(n);
	if (ret)
		goto err;
	ret = -ENOMEM;
	n->rxbuf = kvmalloc(BUF_SIZE, GFP_KERNEL_ACCOUNT);
	n->txbuf = kvmalloc(BUF_SIZE, GFP_KERNEL_ACCOUNT);
	if (!n->rxbuf || !n->txbuf)
		goto err;
	if (a->flags & HVX_VIRTIO_RANDOM_MAC)
		eth_random_addr(n->mac);
	else
		ether_addr_copy(n->mac, a->mac);
	ether_addr_copy(n->cfg.mac, n->mac);
	n->promisc = true;
	n->cfg.status = (__force __virtio16)cpu_to_le16(VIRTIO_NET_S_LINK_UP);
	n->vdev.devcfg = &n->cfg;
	n->vdev.devcfg_len = sizeof(n->cfg);
	n->vdev.nvqs = NR_QUEUES;
	n->vdev.qmax = NET_QSIZE;
	ret = hvx_virtio_init(&n->vdev, vm, a, &net_ops, NET_FEATURES);
	if (ret)
		goto err;
	init_waitqueue_func_entry(&n->wait, net_wake);
	init_poll_funcptr(&n->pt, net_queue_proc);
	mask = vfs_poll(n->file, &n->pt);
	if (mask & EPOLLERR) {
		hvx_virtio_discard(&n->vdev);	/* frees n */
		return -EINVAL;
	}
	ret = hvx_virtio_add(&n->vdev, a);
	if (ret) {
		hvx_virtio_discard(&n->vdev);	/* frees n */
		return ret;
	}
	/* No offloads until the driver accepts some. */
	mutex_lock(&n->vdev.lock);
	net_set_features(&n->vdev, 0);
	mutex_unlock(&n->vdev.lock);
	return 0;

err:
	net_free(n);
	return ret;
}
