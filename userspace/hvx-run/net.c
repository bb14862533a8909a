// SPDX-License-Identifier: GPL-2.0
/*
 * net.c - --net tap=NAME[,mac=M]: an in-kernel virtio-net device
 * (HVX_CREATE_VIRTIO, HVX_VIRTIO_NET) on an existing tap.
 *
 * The tap is made beforehand, the iproute2 way (userspace/README.md,
 * "Networking"): hvx-run attaches to it by name (TUNSETIFF on
 * /dev/net/tun with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) and hands the fd
 * to hvx, which moves the frames in the kernel both ways. The devices
 * sit at 00:18.0 upwards (after the disks' slots), their BARs after the
 * disks' in the PCI hole, INTA# on the GSI the DSDT's _PRT gives the
 * slot. Without mac= hvx picks a random locally administered address.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "hvx-run.h"
#include "msg.h"

#define NET_SLOT	0x18
#define NET_BAR_BASE	0xd0020000ull	/* after MAX_DISKS disks' BARs */
#define NET_BAR_SIZE	0x4000ull

static bool parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	unsigned int b[6];
	char buf[18], end;

	if (len != 17)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5], &end) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return true;
}

/**
 * parse_net - parse one --net tap=NAME[,mac=M]
 * @s: the option's argument.
 * @n: filled in.
 *
 * A bad argument is a usage error (exit 2).
 */
void parse_net(const char *s, struct net_opt *n)
{
	const char *p = s;

	memset(n, 0, sizeof(*n));
	n->arg = s;
	while (*p) {
		const char *next = strchr(p, ',');
		size_t len = next ? (size_t)(next - p) : strlen(p);

		if (len > 4 && !strncmp(p, "tap=", 4)) {
			if (len - 4 >= IFNAMSIZ)
				usage_error("--net: tap name '%.*s' is longer than %d bytes",
					    (int)(len - 4), p + 4, IFNAMSIZ - 1);
			memcpy(n->tap, p + 4, len - 4);
		} else if (len > 4 && !strncmp(p, "mac=", 4)) {
			if (!parse_mac(p + 4, len - 4, n->mac))
				usage_error("--net: '%.*s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
					    (int)(len - 4), p + 4);
			if ((n->mac[0] & 1) || !memcmp(n->mac, "\0\0\0\0\0\0", 6))
				usage_error("--net: MAC %.*s is multicast or zero",
					    (int)(len - 4), p + 4);
			n->has_mac = true;
		} else {
			usage_error("--net: unknown option '%.*s' (tap=NAME, mac=M)",
				    (int)len, p);
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (!n->tap[0])
		usage_error("--net: '%s' names no tap (tap=NAME)", s);
}

/* Attach to the existing tap @name; -1 with errno on failure. */
static int tap_attach(const char *name)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/**
 * create_nets - the --net devices, once the VM's PCI bus exists
 * @vm: the VM.
 *
 * Dies with a message naming the option on any error. hvx keeps its
 * own reference to the tap; ours is closed.
 */
void create_nets(struct vm *vm)
{
	for (int i = 0; i < vm->opt.nnets; i++) {
		const struct net_opt *n = &vm->opt.net[i];
		struct hvx_virtio_device a = {
			.type = HVX_VIRTIO_NET,
			.flags = n->has_mac ? 0 : HVX_VIRTIO_RANDOM_MAC,
			.devfn = (NET_SLOT + i) << 3,
			.gsi = 16 + ((NET_SLOT + i) & 3),
			.bar = NET_BAR_BASE + i * NET_BAR_SIZE,
		};
		int fd;

		if (!vm->platform)
			die("--net %s: this hvx has no in-kernel PCI bus", n->arg);
		fd = tap_attach(n->tap);
		if (fd < 0)
			die("--net %s: tap %s: %s%s", n->arg, n->tap, strerror(errno),
			    errno == ENOENT ? " (no /dev/net/tun: modprobe tun)" :
			    errno == EINVAL ? " (not a tap)" :
			    errno == EBUSY ? " (another program has it open)" :
			    errno == EPERM ? " (made for another user: ip tuntap add ... user U)" : "");
		if (n->has_mac)
			memcpy(a.mac, n->mac, sizeof(a.mac));
		a.fd = fd;
		if (ioctl(vm->fd, HVX_CREATE_VIRTIO, &a))
			die("--net %s: %s%s", n->arg, strerror(errno),
			    errno == ENOTTY ? " (this hvx has no virtio devices)" :
			    errno == EEXIST ? " (its PCI slot or BAR is taken by a passed-through device)" :
			    errno == EINVAL ? " (this hvx has no virtio-net, or no tun support)" : "");
		close(fd);
		info("net tap %s at 00:%02x.0", n->tap, NET_SLOT + i);
	}
}
