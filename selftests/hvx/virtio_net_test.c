// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_net_test - in-kernel virtio-net backed by a tap (HVX_CREATE_VIRTIO
 * with HVX_VIRTIO_NET): a guest driver written in C sets up the receive,
 * transmit and control queues by hand. A frame the guest sends comes out
 * of the tap (a packet socket on the tap sees it), frames the host sends
 * through the tap reach the guest's receive buffers, one of them spread
 * over three mergeable buffers; control commands are acknowledged. Hostile
 * rings on the net queues (a device-readable or too short receive buffer,
 * a transmit chain that loops or points at the APIC page) end in
 * DEVICE_NEEDS_RESET and the device works after a reset; an oversized
 * frame is dropped and counted. The receive filter (promiscuous and
 * all-multicast modes, the MAC table, a new MAC set from the guest), TCP
 * segmentation offload both ways over IPv4 and IPv6 (one GSO frame
 * through the tap, or its segments when the driver did not take TSO), a
 * stream of frames from the host received in order and whole. The ioctl's errors (a tap framing
 * differently: no virtio header, another header size), and no reference
 * to the tap left after the VM goes or its VMM is killed.
 *
 * state_round_trip: a device created with a random MAC, its filter and
 * MAC set by the guest, saved (HVX_STATE_VIRTIO and HVX_STATE_VIRTIO_NET
 * with the vCPU's state) and loaded into a fresh VM with another random
 * MAC and a new tap: the filter and the MAC are kept, frames flow both
 * ways through the new tap, and a reset gives back the saved VM's MAC.
 * Malformed net state is refused with EINVAL and changes nothing.
 */
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "hvx_test.h"
#include "hvx_guest.h"
#include "hvx_nl.h"
#include "hvx_state.h"
#include "virtio_guest.h"

enum ng_case {
	NG_TRAFFIC,	/* control, send one frame, receive two */
	NG_RX_READABLE,	/* hostile: a receive buffer the device may not write */
	NG_RX_SHORT,	/* hostile: a receive buffer shorter than the header */
	NG_TX_LOOP,	/* hostile: a transmit chain that loops */
	NG_TX_APIC,	/* hostile: a transmit buffer at the APIC page */
	NG_TX_BIG,	/* a frame larger than any: dropped, counted */
	NG_FILTER,	/* receive modes, MAC table, MAC_ADDR_SET */
	NG_GSO,		/* TSO out and in, then segments without GUEST_TSO4 */
	NG_GSO6,	/* the same over IPv6: TSO6 */
	NG_STREAM,	/* many frames from the host, in order */
	NG_STATE,	/* filter and MAC set, saved, restored, on */
};

#define NG_ARG(c, devfn)	((uint64_t)(c) | (uint64_t)(devfn) << 8)

#define QS		16
#define NRX		8
#define RXBUF		2048
#define ETHERTYPE	0x88b5		/* IEEE local experimental */
#define TX_PAYLOAD	100
#define RX_SMALL	1000
#define RX_BIG		5000		/* over three 2 KiB buffers */
#define HDR		12
#define POLL_LIMIT	200000000ull

/*
 * TCP segmentation offload: one IPv4/TCP (or IPv6/TCP) frame,
 * MSS-sized segments. GSO_IPLEN(v6) is the IP header's length.
 */
#define ETH_IP		0x0800
#define ETH_IP6		0x86dd
#define GSO_IPLEN(v6)	((v6) ? 40 : 20)
#define GSO_HLEN(v6)	(14 + GSO_IPLEN(v6) + 20)
#define GSO_CSUM_START(v6)	(14 + GSO_IPLEN(v6))
#define GSO_TYPE(v6)	((v6) ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4)
#define GSO_PAY		4000
#define GSO_MSS		1448
#define GSO_CSUM_OFF	16

/* The stream from the host: frames of 60 to 1459 bytes, numbered. */
#define NSTREAM		400
#define STREAM_LEN(k)	(60 + ((k) * 97) % 1400)

static const uint8_t ng_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
/* The MAC the guest sets, and the filter table's entries. */
static const uint8_t ng_mac2[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static const uint8_t ng_uc[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x07 };
static const uint8_t ng_mc[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x09 };
static const uint8_t ng_mc_other[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x0a };
static const uint8_t ng_other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
static const uint8_t ng_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define F_CSUM		(1ull << 0)
#define F_GUEST_CSUM	(1ull << 1)
#define F_GUEST_TSO4	(1ull << 7)
#define F_GUEST_TSO6	(1ull << 8)
#define F_HOST_TSO4	(1ull << 11)
#define F_HOST_TSO6	(1ull << 12)
#define F_MAC		(1ull << 5)
#define F_MRG_RXBUF	(1ull << 15)
#define F_STATUS	(1ull << 16)
#define F_CTRL_VQ	(1ull << 17)
#define F_CTRL_RX	(1ull << 18)
#define F_CTRL_MAC	(1ull << 23)
#define F_ALL		(F_MAC | F_MRG_RXBUF | F_STATUS | F_CTRL_VQ | \
			 F_CTRL_RX | F_CTRL_MAC | F_VERSION_1)

struct gq {
	struct desc desc[QS];
	struct {
		uint16_t flags;
		uint16_t idx;
		uint16_t ring[QS];
		uint16_t used_event;
	} avail;
	uint32_t pad;
	struct {
		uint16_t flags;
		uint16_t idx;
		struct {
			uint32_t id;
			uint32_t len;
		} ring[QS];
		uint16_t avail_event;
	} used;
	uint16_t avail_idx, used_seen;
} __attribute__((aligned(4096)));	/* descriptors: 16-byte aligned */

static volatile struct gq ng_q[3] __attribute__((aligned(4096)));
static volatile uint8_t ng_rx[NRX][RXBUF] __attribute__((aligned(4096)));
static volatile uint8_t ng_tx[2048];
static volatile uint8_t ng_frame[16384];
static volatile uint8_t ng_ctrl[64];
static volatile uint8_t ng_ack;
static volatile uint8_t ng_mac0[6];	/* NG_STATE: the MAC at creation */

static struct vpci dev;

/* Find the network function and its capabilities (4.1.4). */
GUEST_CODE
static void find(uint32_t devfn)
{
	vpci_find(&dev, devfn, 0x10411af4);	/* 1af4:1041, network */
	GUEST_ASSERT_EQ(0x02000001, vpci_cfg32(&dev, 8));	/* Ethernet, revision 1 */
}

GUEST_CODE
static void notify(int q)
{
	MMIO16(dev.notify, 4 * q) = q;
}

GUEST_CODE
static void make_avail(int q, uint16_t head)
{
	volatile struct gq *v = &ng_q[q];

	v->avail.ring[v->avail_idx % QS] = head;
	asm volatile("" : : : "memory");
	v->avail.idx = ++v->avail_idx;
	asm volatile("mfence" : : : "memory");
}

/* Post receive buffer @i (descriptor @i of the receive queue). */
GUEST_CODE
static void post_rx(int i)
{
	vpci_set_desc(&ng_q[0].desc[i], (uint64_t)ng_rx[i], RXBUF, D_WRITE, 0);
	make_avail(0, i);
}

/* Reset, negotiate @want, set up the three queues, post receive buffers. */
GUEST_CODE
static void start(uint64_t want)
{
	uint64_t f;

	vpci_set_status(&dev, 0);
	GUEST_ASSERT_EQ(0, vpci_status(&dev));
	vpci_set_status(&dev, S_ACK | S_DRIVER);
	f = vpci_offered(&dev);
	GUEST_ASSERT_EQ(F_ALL, f & F_ALL);
	vpci_accept(&dev, f & want);
	vpci_set_status(&dev, S_ACK | S_DRIVER | S_FEATURES_OK);
	GUEST_ASSERT_EQ(S_ACK | S_DRIVER | S_FEATURES_OK, vpci_status(&dev));
	guest_memset((void *)ng_q, 0, sizeof(ng_q));
	GUEST_ASSERT_EQ(3, MMIO16(dev.common, CC_NUMQ));
	for (int q = 0; q < 3; q++) {
		MMIO16(dev.common, CC_QSELECT) = q;
		MMIO16(dev.common, CC_QSIZE) = QS;
		GUEST_ASSERT_EQ(q, MMIO16(dev.common, CC_QNOTIFY));
		vpci_queue_on(&dev, ng_q[q].desc, &ng_q[q].avail,
			      &ng_q[q].used);
	}
	vpci_set_status(&dev, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* The next used element of queue @q: its id; *len its length. */
GUEST_CODE
static int next_used(int q, uint32_t *len)
{
	volatile struct gq *v = &ng_q[q];

	for (uint64_t i = 0; i < POLL_LIMIT; i++) {
		if (v->used.idx != v->used_seen) {
			uint16_t s = v->used_seen++ % QS;

			*len = v->used.ring[s].len;
			return v->used.ring[s].id;
		}
		if (!(i & 0xffff) && (vpci_status(&dev) & S_NEEDS_RESET))
			return -1;
		asm volatile("pause");
	}
	GUEST_ASSERT(!"the device never answered");
	return -1;
}

/* Send @len bytes of frame (after the header) from ng_tx. */
GUEST_CODE
static void guest_send(uint32_t len)
{
	uint32_t l;

	guest_memset((void *)ng_tx, 0, HDR);
	vpci_set_desc(&ng_q[1].desc[0], (uint64_t)ng_tx, HDR + len, 0, 0);
	make_avail(1, 0);
	notify(1);
	GUEST_ASSERT_EQ(0, next_used(1, &l));
}

/* One control command with @len bytes of data from ng_ctrl + 2: the ack. */
GUEST_CODE
static uint8_t ctrl_cmd(uint8_t class, uint8_t cmd, uint32_t len)
{
	uint32_t l;

	ng_ctrl[0] = class;
	ng_ctrl[1] = cmd;
	ng_ack = 0xff;
	vpci_set_desc(&ng_q[2].desc[0], (uint64_t)ng_ctrl, 2 + len, D_NEXT, 1);
	vpci_set_desc(&ng_q[2].desc[1], (uint64_t)&ng_ack, 1, D_WRITE, 0);
	make_avail(2, 0);
	notify(2);
	GUEST_ASSERT_EQ(0, next_used(2, &l));
	GUEST_ASSERT_EQ(1, l);
	return ng_ack;
}

/* One control command with one byte of data: the ack. */
GUEST_CODE
static uint8_t ctrl(uint8_t class, uint8_t cmd, uint8_t data)
{
	ng_ctrl[2] = data;
	return ctrl_cmd(class, cmd, 1);
}

/* VIRTIO_NET_CTRL_MAC_ADDR_SET: the ack. */
GUEST_CODE
static uint8_t ctrl_mac_set(const uint8_t *mac)
{
	for (int i = 0; i < 6; i++)
		ng_ctrl[2 + i] = mac[i];
	return ctrl_cmd(1, 1, 6);
}

/* VIRTIO_NET_CTRL_MAC_TABLE_SET: one unicast entry, one multicast. */
GUEST_CODE
static uint8_t ctrl_mac_table(void)
{
	volatile uint8_t *p = ng_ctrl + 2;

	p[0] = 1;
	p[1] = p[2] = p[3] = 0;
	for (int i = 0; i < 6; i++)
		p[4 + i] = ng_uc[i];
	p[10] = 1;
	p[11] = p[12] = p[13] = 0;
	for (int i = 0; i < 6; i++)
		p[14 + i] = ng_mc[i];
	return ctrl_cmd(1, 0, 20);
}

/*
 * Receive the next frame of ethertype @type into ng_frame (header and
 * all, its buffers put back); other frames are skipped. Return its
 * length, and the number of buffers in *nbuf.
 */
GUEST_CODE
static uint32_t receive_type(uint16_t type, uint16_t *nbuf)
{
	for (;;) {
		uint32_t len, total = 0;
		uint16_t n;
		int id;

		id = next_used(0, &len);
		GUEST_ASSERT(id >= 0 && id < NRX && len <= RXBUF);
		n = ng_rx[id][10] | ng_rx[id][11] << 8;
		GUEST_ASSERT(n >= 1 && n <= NRX);
		for (uint16_t b = 0; b < n; b++) {
			if (b) {
				id = next_used(0, &len);
				GUEST_ASSERT(id >= 0 && id < NRX);
			}
			for (uint32_t i = 0; i < len; i++)
				ng_frame[total + i] = ng_rx[id][i];
			total += len;
			post_rx(id);
		}
		notify(0);
		if (ng_frame[HDR + 12] == type >> 8 &&
		    ng_frame[HDR + 13] == (type & 0xff)) {
			*nbuf = n;
			return total;
		}
	}
}

GUEST_CODE
static uint32_t receive(uint16_t *nbuf)
{
	return receive_type(ETHERTYPE, nbuf);
}

/*
 * Receive the next frame of our ethertype, filled by tap_send(): check
 * its bytes and return its seed.
 */
GUEST_CODE
static uint8_t receive_seed(uint32_t len)
{
	uint8_t seed;
	uint16_t n;

	GUEST_ASSERT_EQ(HDR + len, receive(&n));
	seed = ng_frame[HDR + 14] - 14;
	for (uint32_t i = 14; i < len; i++)
		GUEST_ASSERT_EQ((uint8_t)(seed + i), ng_frame[HDR + i]);
	return seed;
}

GUEST_CODE
static uint16_t get16(const volatile uint8_t *p)
{
	return p[0] | p[1] << 8;
}

GUEST_CODE static inline void put_be16(volatile uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* The GSO test's payload byte @i. */
#define GSO_BYTE(i)	((uint8_t)((i) * 13 + 5))

/*
 * Write the IP and TCP headers of a frame from 10.0.0.@src (fd00::@src)
 * to 10.0.0.@dst (fd00::@dst) carrying GSO_PAY bytes at @f, the
 * Ethernet header's type included. Both sides of the test use it.
 */
GUEST_CODE static inline void put_ip_tcp(volatile uint8_t *f, bool v6, uint8_t src, uint8_t dst,
		       uint16_t sport, uint16_t dport)
{
	volatile uint8_t *t = f + GSO_CSUM_START(v6);

	put_be16(f + 12, v6 ? ETH_IP6 : ETH_IP);
	if (v6) {
		f[14] = 0x60;
		put_be16(f + 18, 20 + GSO_PAY);
		f[20] = 6;			/* TCP */
		f[21] = 64;			/* hop limit */
		f[22] = f[38] = 0xfd;
		f[37] = src;
		f[53] = dst;
	} else {
		f[14] = 0x45;
		put_be16(f + 16, 20 + 20 + GSO_PAY);
		f[22] = 64;			/* TTL */
		f[23] = 6;			/* TCP */
		f[26] = f[30] = 10;
		f[29] = src;
		f[33] = dst;
	}
	put_be16(t, sport);
	put_be16(t + 2, dport);
	t[12] = 5 << 4;				/* data offset */
	t[13] = 0x18;				/* PSH, ACK */
	put_be16(t + 14, 65535);
}

/*
 * Send one TCP frame of GSO_PAY bytes as a single TSO4 (@v6: TSO6)
 * chain (NEEDS_CSUM, gso_size GSO_MSS) from ng_frame.
 */
GUEST_CODE
static void guest_send_gso(bool v6)
{
	volatile uint8_t *h = ng_frame, *f = ng_frame + HDR;
	uint32_t l;

	guest_memset((void *)ng_frame, 0, HDR + GSO_HLEN(v6));
	h[0] = 1;				/* NEEDS_CSUM */
	h[1] = GSO_TYPE(v6);
	h[2] = GSO_HLEN(v6);
	h[4] = GSO_MSS & 0xff;
	h[5] = GSO_MSS >> 8;
	h[6] = GSO_CSUM_START(v6);
	h[8] = GSO_CSUM_OFF;
	for (int i = 0; i < 6; i++) {
		f[i] = 0x02;
		f[6 + i] = ng_mac[i];
	}
	put_ip_tcp(f, v6, 2, 1, 1234, 5678);
	for (uint32_t i = 0; i < GSO_PAY; i++)
		f[GSO_HLEN(v6) + i] = GSO_BYTE(i);
	vpci_set_desc(&ng_q[1].desc[0], (uint64_t)ng_frame,
		      HDR + GSO_HLEN(v6) + GSO_PAY, 0, 0);
	make_avail(1, 0);
	notify(1);
	GUEST_ASSERT_EQ(0, next_used(1, &l));
}

/*
 * Receive the host's TCP/IPv4 (@v6: IPv6) frame or segment carrying
 * payload bytes @off to @off + @pay: check its header and bytes.
 */
GUEST_CODE
static void receive_tcp(bool v6, uint32_t off, uint32_t pay, uint8_t gso_type,
			uint16_t gso_size)
{
	uint16_t n;

	GUEST_ASSERT_EQ(HDR + GSO_HLEN(v6) + pay,
			receive_type(v6 ? ETH_IP6 : ETH_IP, &n));
	GUEST_ASSERT_EQ(1, ng_frame[0]);	/* NEEDS_CSUM */
	GUEST_ASSERT_EQ(gso_type, ng_frame[1]);
	GUEST_ASSERT_EQ(gso_size, get16(ng_frame + 4));
	GUEST_ASSERT_EQ(GSO_CSUM_START(v6), get16(ng_frame + 6));
	GUEST_ASSERT_EQ(GSO_CSUM_OFF, get16(ng_frame + 8));
	for (uint32_t i = 0; i < pay; i++)
		GUEST_ASSERT_EQ(GSO_BYTE(off + i),
				ng_frame[HDR + GSO_HLEN(v6) + i]);
}

GUEST_CODE
static void check_frame(uint32_t len, uint8_t seed)
{
	uint16_t n;

	GUEST_ASSERT_EQ(HDR + len, receive(&n));
	GUEST_ASSERT_EQ((len + HDR + RXBUF - 1) / RXBUF, n);
	for (uint32_t i = 14; i < len; i++)
		GUEST_ASSERT_EQ((uint8_t)(seed + i), ng_frame[HDR + i]);
}

/* Wait for DEVICE_NEEDS_RESET, reset, and send a frame. */
GUEST_CODE
static void wait_needs_reset(void)
{
	for (uint64_t i = 0; i < POLL_LIMIT; i++) {
		if (vpci_status(&dev) & S_NEEDS_RESET) {
			start(F_ALL);
			guest_send(14 + TX_PAYLOAD);
			return;
		}
		asm volatile("pause");
	}
	GUEST_ASSERT(!"no DEVICE_NEEDS_RESET");
}

GUEST_CODE
static void guest_net(uint64_t arg)
{
	uint32_t l;

	find(arg >> 8);
	start(F_ALL);
	for (int i = 0; i < 6; i++) {
		ng_mac0[i] = MMIO8(dev.device, i);
		if ((arg & 0xff) != NG_STATE)	/* random there */
			GUEST_ASSERT_EQ(ng_mac[i], ng_mac0[i]);
	}
	GUEST_ASSERT_EQ(1, MMIO16(dev.device, 6));	/* link up */
	/* The frame the host expects: broadcast, from us, our ethertype. */
	for (int i = 0; i < 6; i++) {
		ng_tx[HDR + i] = 0xff;
		ng_tx[HDR + 6 + i] = ng_mac[i];
	}
	ng_tx[HDR + 12] = ETHERTYPE >> 8;
	ng_tx[HDR + 13] = ETHERTYPE & 0xff;
	for (int i = 14; i < 14 + TX_PAYLOAD; i++)
		ng_tx[HDR + i] = (uint8_t)(0x40 + i);

	switch (arg & 0xff) {
	case NG_TRAFFIC:
		GUEST_ASSERT_EQ(0, ctrl(0, 0, 1));	/* RX PROMISC on */
		GUEST_ASSERT_EQ(0, ctrl(0, 1, 1));	/* RX ALLMULTI on */
		GUEST_ASSERT_EQ(1, ctrl(9, 0, 0));	/* unknown class */
		for (int i = 0; i < NRX; i++)
			post_rx(i);
		notify(0);
		guest_send(14 + TX_PAYLOAD);
		GUEST_SYNC(1);
		check_frame(RX_SMALL, 0x11);
		check_frame(RX_BIG, 0x22);
		break;
	case NG_RX_READABLE:
	case NG_RX_SHORT:
		vpci_set_desc(&ng_q[0].desc[0], (uint64_t)ng_rx[0],
			      (arg & 0xff) == NG_RX_SHORT ? 4 : RXBUF,
			      (arg & 0xff) == NG_RX_SHORT ? D_WRITE : 0, 0);
		make_avail(0, 0);
		notify(0);
		GUEST_SYNC(1);
		wait_needs_reset();
		break;
	case NG_TX_LOOP:
		vpci_set_desc(&ng_q[1].desc[0], (uint64_t)ng_tx, HDR, D_NEXT, 1);
		vpci_set_desc(&ng_q[1].desc[1], (uint64_t)ng_tx, 64, D_NEXT, 0);
		make_avail(1, 0);
		notify(1);
		wait_needs_reset();
		break;
	case NG_TX_APIC:
		vpci_set_desc(&ng_q[1].desc[0], (uint64_t)ng_tx, HDR, D_NEXT, 1);
		vpci_set_desc(&ng_q[1].desc[1], 0xfee00000, 64, 0, 0);
		make_avail(1, 0);
		notify(1);
		wait_needs_reset();
		break;
	case NG_FILTER:
		for (int i = 0; i < NRX; i++)
			post_rx(i);
		notify(0);
		GUEST_ASSERT_EQ(0, ctrl(0, 0, 0));	/* PROMISC off */
		GUEST_ASSERT_EQ(0, ctrl(0, 1, 0));	/* ALLMULTI off */
		GUEST_ASSERT_EQ(0, ctrl_mac_table());
		GUEST_ASSERT_EQ(1, ctrl_mac_set(ng_mc));	/* multicast */
		GUEST_ASSERT_EQ(0, ctrl_mac_set(ng_mac2));
		for (int i = 0; i < 6; i++)
			GUEST_ASSERT_EQ(ng_mac2[i], MMIO8(dev.device, i));
		GUEST_SYNC(1);
		/* Of seeds 1-7 (host_filter()), 2, 4, 6 and 7 pass. */
		GUEST_ASSERT_EQ(2, receive_seed(RX_SMALL));
		GUEST_ASSERT_EQ(4, receive_seed(RX_SMALL));
		GUEST_ASSERT_EQ(6, receive_seed(RX_SMALL));
		GUEST_ASSERT_EQ(7, receive_seed(RX_SMALL));
		GUEST_ASSERT_EQ(0, ctrl(0, 1, 1));	/* ALLMULTI on */
		GUEST_SYNC(2);
		GUEST_ASSERT_EQ(5, receive_seed(RX_SMALL));
		GUEST_ASSERT_EQ(7, receive_seed(RX_SMALL));
		GUEST_ASSERT_EQ(0, ctrl(0, 0, 1));	/* PROMISC on */
		GUEST_SYNC(3);
		GUEST_ASSERT_EQ(3, receive_seed(RX_SMALL));
		/* A reset gives the MAC back. */
		start(F_ALL);
		for (int i = 0; i < 6; i++)
			GUEST_ASSERT_EQ(ng_mac[i], MMIO8(dev.device, i));
		break;
	case NG_GSO:
	case NG_GSO6: {
		bool v6 = (arg & 0xff) == NG_GSO6;

		start(F_ALL | F_CSUM | F_GUEST_CSUM |
		      (v6 ? F_GUEST_TSO6 | F_HOST_TSO6 :
			    F_GUEST_TSO4 | F_HOST_TSO4));
		for (int i = 0; i < NRX; i++)
			post_rx(i);
		notify(0);
		guest_send_gso(v6);
		GUEST_SYNC(1);
		/* The host's GSO frame, whole. */
		receive_tcp(v6, 0, GSO_PAY, GSO_TYPE(v6), GSO_MSS);
		/* Without GUEST_TSO the tap gets no TSO: segments. */
		start(F_ALL | F_CSUM | F_GUEST_CSUM);
		for (int i = 0; i < NRX; i++)
			post_rx(i);
		notify(0);
		GUEST_SYNC(2);
		receive_tcp(v6, 0, GSO_MSS, 0, 0);
		receive_tcp(v6, GSO_MSS, GSO_MSS, 0, 0);
		receive_tcp(v6, 2 * GSO_MSS, GSO_PAY - 2 * GSO_MSS, 0, 0);
		break;
	}
	case NG_STREAM: {
		uint64_t sum = 0;

		for (int i = 0; i < NRX; i++)
			post_rx(i);
		notify(0);
		GUEST_SYNC(1);
		for (uint32_t k = 0; k < NSTREAM; k++) {
			uint32_t len = STREAM_LEN(k);
			uint16_t n;

			GUEST_ASSERT_EQ(HDR + len, receive(&n));
			GUEST_ASSERT_EQ(k, get16(ng_frame + HDR + 14));
			for (uint32_t i = 16; i < len; i++) {
				uint8_t b = ng_frame[HDR + i];

				GUEST_ASSERT_EQ((uint8_t)(k * 7 + i), b);
				sum += (uint64_t)b * (i + 1);
			}
		}
		GUEST_SYNC(sum);
		break;
	}
	case NG_STATE:
		for (int i = 0; i < NRX; i++)
			post_rx(i);
		notify(0);
		GUEST_ASSERT_EQ(0, ctrl(0, 0, 0));	/* PROMISC off */
		GUEST_ASSERT_EQ(0, ctrl(0, 1, 0));	/* ALLMULTI off */
		GUEST_ASSERT_EQ(0, ctrl_mac_table());
		GUEST_ASSERT_EQ(0, ctrl_mac_set(ng_mac2));
		GUEST_SYNC(1);
		/* Seed 3 (another MAC) is filtered, 2 (the new MAC) passes. */
		GUEST_ASSERT_EQ(2, receive_seed(RX_SMALL));
		GUEST_SYNC(2);
		/* Saved; restored in a fresh VM with a new tap (host_state()). */
		GUEST_ASSERT_EQ(4, receive_seed(RX_SMALL));
		GUEST_ASSERT_EQ(6, receive_seed(RX_SMALL));
		GUEST_ASSERT_EQ(2, receive_seed(RX_SMALL));
		for (int i = 0; i < 6; i++)
			GUEST_ASSERT_EQ(ng_mac2[i], MMIO8(dev.device, i));
		guest_send(14 + TX_PAYLOAD);
		/* A reset gives back the saved VM's MAC, not this VM's. */
		start(F_ALL);
		for (int i = 0; i < 6; i++)
			GUEST_ASSERT_EQ(ng_mac0[i], MMIO8(dev.device, i));
		break;
	case NG_TX_BIG:
		/* 5 x 15000 bytes: more than a 64 KiB frame. */
		for (int i = 0; i < 5; i++)
			vpci_set_desc(&ng_q[1].desc[i], (uint64_t)ng_frame, 15000,
				      i < 4 ? D_NEXT : 0, i + 1);
		make_avail(1, 0);
		notify(1);
		GUEST_ASSERT_EQ(0, next_used(1, &l));
		GUEST_ASSERT_EQ(0, l);
		GUEST_ASSERT_EQ(0, vpci_status(&dev) & S_NEEDS_RESET);
		guest_send(14 + TX_PAYLOAD);	/* still works */
		break;
	}
	GUEST_DONE();
}

/* Host code. */

#define DEVFN(slot)	((slot) << 3)
#define BAR_A		0xe0000000ull
#define GSI		11

struct tap {
	char name[IFNAMSIZ];
	int fd;		/* /dev/net/tun, attached */
	int ps;		/* packet socket on it, our ethertype */
	int ifindex;
};

/* /dev/net/tun, loading tun.ko from HVX_NET_DIR (/lib/hvx/net) if needed. */
static int tun_open(void)
{
	const char *dir = getenv("HVX_NET_DIR") ?: "/lib/hvx/net";
	char cmd[512];
	int fd;

	fd = open("/dev/net/tun", O_RDWR);
	if (fd >= 0)
		return fd;
	snprintf(cmd, sizeof(cmd), "insmod %s/tun.ko 2>/dev/null", dir);
	if (system(cmd)) {
		/* ignored: built in, or already loaded */
	}
	mkdir("/dev/net", 0755);
	mknod("/dev/net/tun", S_IFCHR | 0666, makedev(10, 200));
	return open("/dev/net/tun", O_RDWR);
}

static int ifreq_ioctl(unsigned long cmd, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), ret;

	if (s < 0)
		return -1;
	ret = ioctl(s, cmd, ifr);
	close(s);
	return ret;
}

/* A tap (IFF_VNET_HDR), up, MTU 9000, IPv6 off, with a packet socket. */
static bool tap_make(struct tap *t, int flags)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr = { 0 };
	char path[128];
	FILE *f;

	t->fd = tun_open();
	if (t->fd < 0)
		return false;
	strcpy(ifr.ifr_name, "hvxnet%d");
	ifr.ifr_flags = flags;
	LIB_ASSERT(!ioctl(t->fd, TUNSETIFF, &ifr), "TUNSETIFF: %m");
	strcpy(t->name, ifr.ifr_name);
	t->ifindex = if_nametoindex(t->name);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 t->name);
	f = fopen(path, "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, t->name);
	ifr.ifr_mtu = 9000;
	LIB_ASSERT(!ifreq_ioctl(SIOCSIFMTU, &ifr), "SIOCSIFMTU: %m");
	LIB_ASSERT(!ifreq_ioctl(SIOCGIFFLAGS, &ifr), "SIOCGIFFLAGS: %m");
	ifr.ifr_flags |= IFF_UP;
	LIB_ASSERT(!ifreq_ioctl(SIOCSIFFLAGS, &ifr), "SIOCSIFFLAGS: %m");
	t->ps = socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE));
	LIB_ASSERT(t->ps >= 0, "AF_PACKET: %m");
	sll.sll_protocol = htons(ETHERTYPE);
	sll.sll_ifindex = t->ifindex;
	LIB_ASSERT(!bind(t->ps, (struct sockaddr *)&sll, sizeof(sll)),
		   "bind: %m");
	return true;
}

#define REQUIRE_TAP(t) do {						\
	if (!tap_make(t, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))		\
		SKIP(return, "no /dev/net/tun (tun.ko not in HVX_NET_DIR)"); \
} while (0)

/* The next frame the guest sent (incoming on the tap), or -1 after 5 s. */
static ssize_t tap_recv(struct tap *t, uint8_t *buf, size_t len)
{
	struct timeval tv = { .tv_sec = 5 };

	setsockopt(t->ps, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		struct sockaddr_ll sll;
		socklen_t sl = sizeof(sll);
		ssize_t n = recvfrom(t->ps, buf, len, 0,
				     (struct sockaddr *)&sll, &sl);

		if (n < 0 || sll.sll_pkttype != PACKET_OUTGOING)
			return n;
	}
}

/* Send a frame of @len bytes to @dst through the tap. */
static void tap_send_to(struct tap *t, const uint8_t *dst, uint32_t len,
			uint8_t seed)
{
	uint8_t buf[RX_BIG];

	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i);
	memcpy(buf, dst, 6);
	memset(buf + 6, 0x02, 6);
	buf[12] = ETHERTYPE >> 8;
	buf[13] = ETHERTYPE & 0xff;
	LIB_ASSERT(send(t->ps, buf, len, 0) == len, "send: %m");
}

/* Send a frame of @len bytes to the guest through the tap. */
static void tap_send(struct tap *t, uint32_t len, uint8_t seed)
{
	tap_send_to(t, ng_mac, len, seed);
}

/* A packet socket on the tap for IPv4 (@v6: IPv6) frames with virtio headers. */
static int ip_socket(struct tap *t, bool v6)
{
	uint16_t proto = htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = proto,
		.sll_ifindex = t->ifindex,
	};
	struct timeval tv = { .tv_sec = 5 };
	int one = 1, s;

	s = socket(AF_PACKET, SOCK_RAW, proto);
	LIB_ASSERT(s >= 0, "AF_PACKET: %m");
	LIB_ASSERT(!setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one,
			       sizeof(one)), "PACKET_VNET_HDR: %m");
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	LIB_ASSERT(!bind(s, (struct sockaddr *)&sll, sizeof(sll)), "bind: %m");
	return s;
}

/* The next frame the guest sent, after its virtio header. */
static ssize_t ip_recv(int s, uint8_t *buf, size_t len)
{
	for (;;) {
		struct sockaddr_ll sll;
		socklen_t sl = sizeof(sll);
		ssize_t n = recvfrom(s, buf, len, 0, (struct sockaddr *)&sll,
				     &sl);

		if (n < 0 || sll.sll_pkttype != PACKET_OUTGOING)
			return n;
	}
}

/* Send the guest one TCP frame of GSO_PAY bytes as a TSO4/TSO6 frame. */
static void ip_send_gso(int s, bool v6)
{
	static uint8_t buf[sizeof(struct virtio_net_hdr) + GSO_HLEN(1) + GSO_PAY];
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)buf;
	uint8_t *f = buf + sizeof(*h);
	size_t len = sizeof(*h) + GSO_HLEN(v6) + GSO_PAY;

	memset(buf, 0, sizeof(buf));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = GSO_TYPE(v6);
	h->hdr_len = GSO_HLEN(v6);
	h->gso_size = GSO_MSS;
	h->csum_start = GSO_CSUM_START(v6);
	h->csum_offset = GSO_CSUM_OFF;
	memcpy(f, ng_mac, 6);
	memset(f + 6, 0x02, 6);
	put_ip_tcp(f, v6, 1, 2, 5678, 1234);
	for (uint32_t i = 0; i < GSO_PAY; i++)
		f[GSO_HLEN(v6) + i] = GSO_BYTE(i);
	LIB_ASSERT(send(s, buf, len, 0) == (ssize_t)len, "send: %m");
}

/* The frame the guest sends: broadcast, from ng_mac, TX_PAYLOAD bytes. */
static bool guest_frame_ok(struct tap *t)
{
	uint8_t buf[2048];
	ssize_t n = tap_recv(t, buf, sizeof(buf));

	if (n != 14 + TX_PAYLOAD || memcmp(buf + 6, ng_mac, 6) ||
	    buf[0] != 0xff)
		return false;
	for (int i = 14; i < n; i++)
		if (buf[i] != (uint8_t)(0x40 + i))
			return false;
	return true;
}

static void tap_close(struct tap *t)
{
	close(t->ps);
	close(t->fd);
}

/* The tap's interface exists (someone holds its file). */
static bool tap_exists(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s", name);
	return !access(path, F_OK);
}

static bool tap_gone(const char *name)
{
	for (int i = 0; i < 500 && tap_exists(name); i++)
		msleep(10);
	return !tap_exists(name);
}

static struct vm *pci_vm(void)
{
	struct hvx_platform_config c = { .devices = HVX_PLATFORM_PCI };
	struct vm *vm = vm_create();

	LIB_ASSERT(!ioctl(vm->fd, HVX_CREATE_PLATFORM, &c),
		   "HVX_CREATE_PLATFORM: %m");
	return vm;
}

static void net_arg(struct hvx_virtio_device *a, int fd)
{
	memset(a, 0, sizeof(*a));
	a->type = HVX_VIRTIO_NET;
	a->fd = fd;
	a->devfn = DEVFN(3);
	a->gsi = GSI;
	a->bar = BAR_A;
	memcpy(a->mac, ng_mac, 6);
}

static int create_net(struct vm *vm, int fd)
{
	struct hvx_virtio_device a;

	net_arg(&a, fd);
	return ioctl(vm->fd, HVX_CREATE_VIRTIO, &a);
}

static const struct hvx_virtio_stats *stats(struct hvx_nl_vm *info)
{
	struct hvx_nl nl;

	LIB_ASSERT(!hvx_nl_open(&nl), "netlink");
	LIB_ASSERT(!hvx_nl_get_vm(&nl, hvx_nl_own_vm_id(&nl), info), "GET_VM");
	hvx_nl_close(&nl);
	LIB_ASSERT(info->nr_virtio == 1, "%u virtio devices", info->nr_virtio);
	return &info->virtio[0];
}

TEST(traffic)
{
	const struct hvx_virtio_stats *st;
	struct hvx_nl_vm info;
	struct vcpu *vcpu;
	struct tap t;
	struct vm *vm;

	REQUIRE_VMX();
	REQUIRE_TAP(&t);
	vm = pci_vm();
	ASSERT_EQ(0, create_net(vm, t.fd)) TH_LOG("%m");
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_net, NG_ARG(NG_TRAFFIC, DEVFN(3)));
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	ASSERT_TRUE(guest_frame_ok(&t)) TH_LOG("the guest's frame did not come out of the tap");
	tap_send(&t, RX_SMALL, 0x11);
	tap_send(&t, RX_BIG, 0x22);
	vcpu_run_done(vcpu);

	st = stats(&info);
	ASSERT_EQ(HVX_VIRTIO_NET, st->type);
	/* 3 control commands, 1 frame sent, at least 2 received. */
	ASSERT_LE(6, st->requests);
	ASSERT_LE(TX_PAYLOAD + 14 + RX_SMALL + RX_BIG, st->bytes);
	ASSERT_LE(6, st->notifications);
	ASSERT_EQ(1, st->errors);	/* the unknown control class */
	vcpu_free(vcpu);
	close(t.fd);
	ASSERT_TRUE(tap_exists(t.name));	/* the device holds it */
	vm_free(vm);
	ASSERT_TRUE(tap_gone(t.name)) TH_LOG("the tap outlived the VM");
	close(t.ps);
}

/*
 * The receive filter: with promiscuous and all-multicast off and a table
 * of one unicast and one multicast address, after the guest set a new
 * MAC, frames pass to the new MAC, the table's entries and broadcast,
 * and no others (a leaked frame would come before the next one the guest
 * expects); all-multicast lets other multicast through, promiscuous
 * everything. The filtered frames are not errors.
 */
TEST(mac_filter)
{
	const struct hvx_virtio_stats *st;
	struct hvx_nl_vm info;
	struct vcpu *vcpu;
	struct tap t;
	struct vm *vm;

	REQUIRE_VMX();
	REQUIRE_TAP(&t);
	vm = pci_vm();
	ASSERT_EQ(0, create_net(vm, t.fd)) TH_LOG("%m");
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_net, NG_ARG(NG_FILTER, DEVFN(3)));
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	tap_send_to(&t, ng_mac, RX_SMALL, 1);		/* the old MAC */
	tap_send_to(&t, ng_mac2, RX_SMALL, 2);
	tap_send_to(&t, ng_other, RX_SMALL, 3);
	tap_send_to(&t, ng_uc, RX_SMALL, 4);
	tap_send_to(&t, ng_mc_other, RX_SMALL, 5);
	tap_send_to(&t, ng_mc, RX_SMALL, 6);
	tap_send_to(&t, ng_bcast, RX_SMALL, 7);
	ASSERT_EQ(2, vcpu_run_sync(vcpu));
	tap_send_to(&t, ng_other, RX_SMALL, 3);
	tap_send_to(&t, ng_mc_other, RX_SMALL, 5);
	tap_send_to(&t, ng_bcast, RX_SMALL, 7);
	ASSERT_EQ(3, vcpu_run_sync(vcpu));
	tap_send_to(&t, ng_other, RX_SMALL, 3);
	vcpu_run_done(vcpu);
	st = stats(&info);
	ASSERT_EQ(1, st->errors);	/* the multicast MAC refused */
	vcpu_free(vcpu);
	vm_free(vm);
	tap_close(&t);
	ASSERT_TRUE(tap_gone(t.name));
}

/*
 * TCP segmentation offload with the tap. Out: the guest's 4000-byte
 * TSO4 (@v6: TSO6) chain leaves the tap as one GSO frame (a packet
 * socket with PACKET_VNET_HDR sees its gso_type and gso_size). In: the
 * host's GSO frame reaches the guest whole with its virtio header when
 * the driver took GUEST_TSO4 (GUEST_TSO6), and as three
 * checksum-offloaded segments when it did not (the tap's TUNSETOFFLOAD
 * follows the driver).
 */
static void tso_round_trip(struct __test_metadata *_metadata, struct tap *t,
			  bool v6)
{
	static uint8_t buf[sizeof(struct virtio_net_hdr) + 65536];
	const struct virtio_net_hdr *h = (void *)buf;
	const struct hvx_virtio_stats *st;
	const uint8_t *f = buf + sizeof(*h);
	struct hvx_nl_vm info;
	struct vcpu *vcpu;
	struct vm *vm;
	uint32_t i;
	ssize_t n;
	int s;

	s = ip_socket(t, v6);
	vm = pci_vm();
	ASSERT_EQ(0, create_net(vm, t->fd)) TH_LOG("%m");
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_net,
			NG_ARG(v6 ? NG_GSO6 : NG_GSO, DEVFN(3)));
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	n = ip_recv(s, buf, sizeof(buf));
	ASSERT_EQ(sizeof(*h) + GSO_HLEN(v6) + GSO_PAY, n) TH_LOG("%m");
	ASSERT_EQ(GSO_TYPE(v6), h->gso_type);
	ASSERT_EQ(GSO_MSS, h->gso_size);
	ASSERT_TRUE(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ASSERT_EQ(0, memcmp(f + 6, ng_mac, 6));
	for (i = 0; i < GSO_PAY && f[GSO_HLEN(v6) + i] == GSO_BYTE(i); i++)
		;
	ASSERT_EQ(GSO_PAY, i) TH_LOG("payload byte %u differs", i);
	ip_send_gso(s, v6);
	ASSERT_EQ(2, vcpu_run_sync(vcpu));
	ip_send_gso(s, v6);
	vcpu_run_done(vcpu);
	st = stats(&info);
	ASSERT_EQ(0, st->errors);
	vcpu_free(vcpu);
	vm_free(vm);
	close(s);
	tap_close(t);
	ASSERT_TRUE(tap_gone(t->name));
}

TEST(tso_both_ways)
{
	struct tap t;

	REQUIRE_VMX();
	REQUIRE_TAP(&t);
	tso_round_trip(_metadata, &t, false);
}

TEST(tso6_both_ways)
{
	struct tap t;

	REQUIRE_VMX();
	REQUIRE_TAP(&t);
	tso_round_trip(_metadata, &t, true);
}

/*
 * A stream of NSTREAM frames from the host, sent while the guest has
 * only NRX buffers posted (the rest wait in the tap): the guest receives
 * every one, in order, each byte checked, and its weighted sum of the
 * bytes is the host's.
 */
TEST(host_to_guest_stream)
{
	const struct hvx_virtio_stats *st;
	uint64_t sum = 0, bytes = 0;
	struct hvx_nl_vm info;
	uint8_t buf[2048];
	struct vcpu *vcpu;
	struct tap t;
	struct vm *vm;

	REQUIRE_VMX();
	REQUIRE_TAP(&t);
	vm = pci_vm();
	ASSERT_EQ(0, create_net(vm, t.fd)) TH_LOG("%m");
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_net, NG_ARG(NG_STREAM, DEVFN(3)));
	ASSERT_EQ(1, vcpu_run_sync(vcpu));
	for (uint32_t k = 0; k < NSTREAM; k++) {
		uint32_t len = STREAM_LEN(k);

		memcpy(buf, ng_mac, 6);
		memset(buf + 6, 0x02, 6);
		buf[12] = ETHERTYPE >> 8;
		buf[13] = ETHERTYPE & 0xff;
		buf[14] = k & 0xff;
		buf[15] = k >> 8;
		for (uint32_t i = 16; i < len; i++) {
			buf[i] = (uint8_t)(k * 7 + i);
			sum += (uint64_t)buf[i] * (i + 1);
		}
		ASSERT_EQ(len, send(t.ps, buf, len, 0)) TH_LOG("%m");
		bytes += len;
	}
	ASSERT_EQ(sum, vcpu_run_sync(vcpu));
	vcpu_run_done(vcpu);
	st = stats(&info);
	ASSERT_EQ(0, st->errors);
	ASSERT_LE(NSTREAM, st->requests);
	ASSERT_LE(bytes, st->bytes);
	vcpu_free(vcpu);
	vm_free(vm);
	tap_close(&t);
	ASSERT_TRUE(tap_gone(t.name));
}

/* A hostile case: NEEDS_RESET, then a frame after the reset. */
static void hostile(struct __test_metadata *_metadata, enum ng_case c)
{
	const struct hvx_virtio_stats *st;
	struct hvx_nl_vm info;
	struct vcpu *vcpu;
	struct tap t;
	struct vm *vm;

	REQUIRE_TAP(&t);
	vm = pci_vm();
	ASSERT_EQ(0, create_net(vm, t.fd)) TH_LOG("%m");
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_long(vcpu, guest_net, NG_ARG(c, DEVFN(3)));
	if (c == NG_RX_READABLE || c == NG_RX_SHORT) {
		ASSERT_EQ(1, vcpu_run_sync(vcpu));
		tap_send(&t, RX_SMALL, 0x11);
	}
	vcpu_run_done(vcpu);
	ASSERT_TRUE(guest_frame_ok(&t)) TH_LOG("no frame after the reset");
	st = stats(&info);
	ASSERT_EQ(1, st->errors);
	vcpu_free(vcpu);
	vm_free(vm);
	tap_close(&t);
	ASSERT_TRUE(tap_gone(t.name));
}

TEST(hostile_rx_readable)
{
	REQUIRE_VMX();
	hostile(_metadata, NG_RX_READABLE);
}

TEST(hostile_rx_short)
{
	REQUIRE_VMX();
	hostile(_metadata, NG_RX_SHORT);
}

TEST(hostile_tx_loop)
{
	REQUIRE_VMX();
	hostile(_metadata, NG_TX_LOOP);
}

TEST(hostile_tx_apic_page)
{
	REQUIRE_VMX();
	hostile(_metadata, NG_TX_APIC);
}

TEST(oversized_frame_dropped)
{
	REQUIRE_VMX();
	hostile(_metadata, NG_TX_BIG);
}

TEST(errors)
{
	struct hvx_virtio_device a;
	struct ifreq ifr = { 0 };
	int efd, tun, bare, sz;
	struct tap t, nohdr;
	struct vm *vm;

	REQUIRE_VMX();
	REQUIRE_TAP(&t);
	ASSERT_TRUE(tap_make(&nohdr, IFF_TAP | IFF_NO_PI));
	efd = eventfd(0, 0);
	ASSERT_LE(0, efd);
	bare = tun_open();		/* not attached to any device */
	ASSERT_LE(0, bare);
	tun = tun_open();		/* a tun, not a tap */
	ASSERT_LE(0, tun);
	strcpy(ifr.ifr_name, "hvxtun%d");
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	ASSERT_EQ(0, ioctl(tun, TUNSETIFF, &ifr)) TH_LOG("%m");

	vm = pci_vm();
	net_arg(&a, t.fd);
	a.flags = HVX_VIRTIO_RO;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	net_arg(&a, t.fd);
	a.serial[0] = 'x';
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	net_arg(&a, t.fd);
	a.pad2 = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	net_arg(&a, t.fd);
	a.reserved[0] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	net_arg(&a, t.fd);
	a.mac[0] = 0x01;		/* multicast */
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	net_arg(&a, t.fd);
	memset(a.mac, 0, 6);		/* zero without RANDOM_MAC */
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	net_arg(&a, t.fd);
	a.flags = HVX_VIRTIO_RANDOM_MAC;	/* random, but a MAC given */
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	net_arg(&a, -1);
	ASSERT_ERRNO(EBADF, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	net_arg(&a, efd);
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	net_arg(&a, bare);
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	net_arg(&a, tun);
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));
	/* Taps that frame differently from the device: EPROTO. */
	ASSERT_ERRNO(EPROTO, create_net(vm, nohdr.fd));
	sz = 12;
	ASSERT_EQ(0, ioctl(t.fd, TUNSETVNETHDRSZ, &sz)) TH_LOG("%m");
	ASSERT_ERRNO(EPROTO, create_net(vm, t.fd));
	sz = 0;
	ASSERT_EQ(0, ioctl(t.fd, TUNGETVNETHDRSZ, &sz));
	ASSERT_EQ(12, sz);		/* refused, not changed */
	sz = 10;
	ASSERT_EQ(0, ioctl(t.fd, TUNSETVNETHDRSZ, &sz)) TH_LOG("%m");
	/* A disk's type with a MAC. */
	net_arg(&a, t.fd);
	a.type = HVX_VIRTIO_BLK;
	ASSERT_ERRNO(EINVAL, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a));

	net_arg(&a, t.fd);
	memset(a.mac, 0, 6);
	a.flags = HVX_VIRTIO_RANDOM_MAC;
	ASSERT_EQ(0, ioctl(vm->fd, HVX_CREATE_VIRTIO, &a)) TH_LOG("%m");
	/* The slot is taken now: nothing is left behind by the failure. */
	ASSERT_ERRNO(EEXIST, create_net(vm, t.fd));
	vm_free(vm);
	tap_close(&t);
	ASSERT_TRUE(tap_gone(t.name));
	close(tun);
	close(bare);
	close(efd);
	tap_close(&nohdr);
}

/* kill -9 of the VMM: no reference to the tap is left. */
TEST(kill_leaves_no_tap_reference)
{
	char name[IFNAMSIZ];
	int p[2], status;
	long refs;
	pid_t pid;

	REQUIRE_VMX();
	ASSERT_EQ(0, pipe(p));
	refs = hvx_module_refcnt();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vcpu *vcpu;
		struct vm *vm;
		struct tap t;

		if (!tap_make(&t, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
			_exit(4);
		vm = pci_vm();
		if (create_net(vm, t.fd))
			_exit(1);
		close(t.fd);
		vcpu = vcpu_create(vm, 0);
		vcpu_setup_long(vcpu, guest_net, NG_ARG(NG_TRAFFIC, DEVFN(3)));
		if (vcpu_run_sync(vcpu) != 1)
			_exit(2);
		if (write(p[1], t.name, IFNAMSIZ) != IFNAMSIZ)
			_exit(3);
		for (;;) {
			tap_send(&t, RX_SMALL, 0x33);
			msleep(1);
		}
	}
	close(p[1]);
	if (read(p[0], name, IFNAMSIZ) != IFNAMSIZ) {
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
			SKIP(return, "no /dev/net/tun");
		ASSERT_TRUE(false) TH_LOG("the child failed: %#x", status);
	}
	ASSERT_TRUE(tap_exists(name));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_TRUE(tap_gone(name)) TH_LOG("the tap outlived the killed VMM");
	ASSERT_TRUE(wait_for_refcnt(refs, 5000))
		TH_LOG("module references: %ld, were %ld", hvx_module_refcnt(),
		       refs);
	close(p[0]);
}

/* A net device with a random MAC at DEVFN(3). */
static int create_net_random(struct vm *vm, int fd)
{
	struct hvx_virtio_device a;

	net_arg(&a, fd);
	memset(a.mac, 0, 6);
	a.flags = HVX_VIRTIO_RANDOM_MAC;
	return ioctl(vm->fd, HVX_CREATE_VIRTIO, &a);
}

typedef void (*net_edit)(struct hvx_state_virtio *s,
			 struct hvx_state_virtio_net *r);

static void ne_mac(struct hvx_state_virtio *s, struct hvx_state_virtio_net *r)
{
	r->mac[0] |= 1;		/* multicast */
}

static void ne_cfg_mac(struct hvx_state_virtio *s,
		       struct hvx_state_virtio_net *r)
{
	memset(s->device_config, 0, 6);
}

static void ne_flags(struct hvx_state_virtio *s, struct hvx_state_virtio_net *r)
{
	r->flags |= 1u << 4;
}

static void ne_reserved(struct hvx_state_virtio *s,
			struct hvx_state_virtio_net *r)
{
	r->reserved = 1;
}

static void ne_count(struct hvx_state_virtio *s, struct hvx_state_virtio_net *r)
{
	r->nr_mc = HVX_STATE_NET_MACS;	/* with nr_uc 1: one too many */
}

static void ne_overflow(struct hvx_state_virtio *s,
			struct hvx_state_virtio_net *r)
{
	r->flags |= HVX_NET_UC_OVERFLOW;	/* with a unicast entry */
}

static void ne_tail(struct hvx_state_virtio *s, struct hvx_state_virtio_net *r)
{
	r->macs[HVX_STATE_NET_MACS - 1][5] = 1;
}

static void ne_status(struct hvx_state_virtio *s,
		      struct hvx_state_virtio_net *r)
{
	s->device_config[6] = 0;	/* link down: not this device */
}

/* SET a copy of @a (@len bytes) with @edit applied to the two records. */
static int set_net_edited(struct vm *vm, const void *a, ssize_t len,
			  net_edit edit)
{
	void *buf = malloc(len);
	int ret;

	LIB_ASSERT(buf, "malloc");
	memcpy(buf, a, len);
	edit(vm_state_record(buf, len, HVX_STATE_VIRTIO, DEVFN(3)),
	     vm_state_record(buf, len, HVX_STATE_VIRTIO_NET, DEVFN(3)));
	ret = vm_state_restore(vm, buf, len);
	free(buf);
	return ret;
}

/*
 * @a (@len bytes) without the record @drop: the virtio record alone, or
 * the net record alone, are refused.
 */
static int set_without(struct vm *vm, const void *a, ssize_t len,
		       const void *drop)
{
	const struct hvx_state_header *h = drop;
	size_t off = (const uint8_t *)drop - (const uint8_t *)a;
	uint8_t *buf = malloc(len);
	int ret;

	LIB_ASSERT(buf, "malloc");
	memcpy(buf, a, off);
	memcpy(buf + off, (const uint8_t *)a + off + h->size,
	       len - off - h->size);
	ret = vm_state_restore(vm, buf, len - h->size);
	free(buf);
	return ret;
}

TEST(state_round_trip)
{
	static const net_edit edits[] = {
		ne_mac, ne_cfg_mac, ne_flags, ne_reserved, ne_count,
		ne_overflow, ne_tail, ne_status,
	};
	void *a = NULL, *b = NULL, *b0 = NULL;
	struct hvx_state_virtio_net *ra, *rb0;
	struct hvx_state_virtio *sa;
	struct vcpu_state *st;
	struct vcpu *va, *vb;
	struct vm *vma, *vmb;
	ssize_t la, lb, lb0;
	struct tap ta, tb;
	uint8_t mac0[6];

	REQUIRE_VMX();
	REQUIRE_TAP(&ta);
	ASSERT_TRUE(tap_make(&tb, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR));
	st = calloc(1, sizeof(*st));
	ASSERT_NE(NULL, st);
	vma = pci_vm();
	ASSERT_EQ(0, create_net_random(vma, ta.fd)) TH_LOG("%m");
	va = vcpu_create(vma, 0);
	vcpu_setup_long(va, guest_net, NG_ARG(NG_STATE, DEVFN(3)));
	ASSERT_EQ(1, vcpu_run_sync(va));
	tap_send_to(&ta, ng_other, RX_SMALL, 3);
	tap_send_to(&ta, ng_mac2, RX_SMALL, 2);
	ASSERT_EQ(2, vcpu_run_sync(va));
	for (int i = 0; i < 6; i++)
		mac0[i] = guest_var(vma, ng_mac0)[i];
	/* The devices first, as hvx-run does. */
	la = vm_state_save(vma, &a);
	ASSERT_LT(0, la) TH_LOG("HVX_GET_VM_STATE: %s", strerror(-la));
	ASSERT_EQ(0, vcpu_state_save(va, st));
	sa = vm_state_record(a, la, HVX_STATE_VIRTIO, DEVFN(3));
	ra = vm_state_record(a, la, HVX_STATE_VIRTIO_NET, DEVFN(3));
	ASSERT_NE(NULL, sa);
	ASSERT_NE(NULL, ra);
	ASSERT_EQ((uint8_t *)sa + sizeof(*sa), (uint8_t *)ra)
		TH_LOG("the net record does not follow the virtio record");
	ASSERT_EQ(sizeof(*ra), ra->hdr.size);
	ASSERT_EQ(1, ra->hdr.version);
	ASSERT_EQ(HVX_VIRTIO_NET, sa->device_id);
	ASSERT_EQ(0, memcmp(sa->device_config, ng_mac2, 6));
	ASSERT_EQ(0, memcmp(ra->mac, mac0, 6))
		TH_LOG("the creation MAC is not the one the guest read");
	ASSERT_EQ(0, ra->flags);	/* promiscuous and all-multi off */
	ASSERT_EQ(1, ra->nr_uc);
	ASSERT_EQ(1, ra->nr_mc);
	ASSERT_EQ(0, memcmp(ra->macs[0], ng_uc, 6));
	ASSERT_EQ(0, memcmp(ra->macs[1], ng_mc, 6));
	/* No receive buffer taken and not used: no frame in between. */
	ASSERT_LE(1, sa->queue[0].used_idx);
	ASSERT_EQ(sa->queue[0].used_idx, sa->queue[0].last_avail_idx);

	/* A fresh VM, another random MAC, a new tap. */
	vmb = pci_vm();
	ASSERT_EQ(0, create_net_random(vmb, tb.fd)) TH_LOG("%m");
	lb0 = vm_state_save(vmb, &b0);
	ASSERT_EQ(la, lb0);
	rb0 = vm_state_record(b0, lb0, HVX_STATE_VIRTIO_NET, DEVFN(3));
	ASSERT_NE(NULL, rb0);
	ASSERT_NE(0, memcmp(rb0->mac, ra->mac, 6)) TH_LOG("the same random MAC twice");
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		ASSERT_EQ(-EINVAL, set_net_edited(vmb, a, la, edits[i]))
			TH_LOG("edit %zu accepted", i);
		free(b);
		b = NULL;
		ASSERT_EQ(lb0, vm_state_save(vmb, &b));
		ASSERT_EQ(0, memcmp(b0, b, lb0)) TH_LOG("edit %zu changed state", i);
	}
	ASSERT_EQ(-EINVAL, set_without(vmb, a, la, ra));
	ASSERT_EQ(-EINVAL, set_without(vmb, a, la, sa));
	free(b);
	b = NULL;
	ASSERT_EQ(lb0, vm_state_save(vmb, &b));
	ASSERT_EQ(0, memcmp(b0, b, lb0)) TH_LOG("a refused SET changed state");

	vb = vcpu_create(vmb, 0);
	memcpy(vmb->ram, vma->ram, vma->ram_size);
	vm_free(vma);	/* the saved state is all that is left */
	tap_close(&ta);
	ASSERT_EQ(0, vm_state_restore(vmb, a, la));
	ASSERT_EQ(0, vcpu_state_restore(vb, st));
	free(b);
	b = NULL;
	lb = vm_state_save(vmb, &b);
	ASSERT_EQ(la, lb);
	ASSERT_EQ(0, memcmp(a, b, la)) TH_LOG("the records differ");

	/* Of these, 4, 6 and 2 pass the kept filter, in order. */
	tap_send_to(&tb, ng_other, RX_SMALL, 3);
	tap_send_to(&tb, mac0, RX_SMALL, 8);
	tap_send_to(&tb, rb0->mac, RX_SMALL, 9);
	tap_send_to(&tb, ng_uc, RX_SMALL, 4);
	tap_send_to(&tb, ng_mc_other, RX_SMALL, 5);
	tap_send_to(&tb, ng_mc, RX_SMALL, 6);
	tap_send_to(&tb, ng_mac2, RX_SMALL, 2);
	vcpu_run_done(vb);
	ASSERT_TRUE(guest_frame_ok(&tb)) TH_LOG("the guest's frame did not come out of the new tap");
	vcpu_free(vb);
	vm_free(vmb);
	tap_close(&tb);
	ASSERT_TRUE(tap_gone(tb.name));
	free(a);
	free(b);
	free(b0);
	free(st);
}

TEST_HARNESS_MAIN
