#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvx-vnet - drive hvx's in-kernel virtio-net with the guest kernel's stock
# drivers (virtio_pci, virtio_net): a DHCP lease, pings to the server, and
# a 16 MiB TCP stream to a sink on it. busybox ash; installed as
# /bin/hvx-vnet in the hvx-run guest's initramfs (selftests/vm/guest.sh)
# and run by its /init for hvx.vnet=PORT. virtio_linux_test runs the DHCP
# server and the sink in a network namespace of the emulated host, on
# the tap behind the device, and checks what the guest says.
#
# usage: hvx-vnet PREFIX MODDIR PORT
#   PREFIX   first word of every line printed (e.g. "hvx-guest:")
#   MODDIR   holds the modules (virtio*, failover, net_failover, virtio_net)
#   PORT     the sink's TCP port on the DHCP server's address
#
# Prints, each line starting with PREFIX:
#   vnet link eth0 <mac>
#   vnet msi <bdf> <mode>...          the function's interrupt modes
#   vnet dhcp eth0 <address> router <router>
#   vnet ping <router> sent <n> received <n> loss <p>%
#   vnet stream sha256 <hash>         the 16 MiB about to be sent
#   vnet wait <io|done>               then waits up to 60 s for a line on
#                                     the console (the test's sign that it
#                                     sampled the counters)
#   vnet sent rc=<rc>
#   vnet error <what>                 (and exit status 1) on a failure

p=$1 mods=$2 port=$3
[ -n "$port" ] || { echo "usage: hvx-vnet PREFIX MODDIR PORT" >&2; exit 2; }
fail() {
	echo "$p vnet error $*"
	dmesg | tail -n 12 | sed "s/^/$p vnet dmesg /"
	exit 1
}

# In dependency order (busybox insmod resolves nothing).
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	virtio_pci failover net_failover virtio_net; do
	insmod "$mods/$m.ko" || fail "insmod $m.ko"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -e /sys/class/net/eth0 ] || fail "no eth0 after loading virtio_net"
ifconfig lo 127.0.0.1 up
ifconfig eth0 up || fail "ifconfig eth0 up"
echo "$p vnet link eth0 $(cat /sys/class/net/eth0/address)"
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1af4 ] || continue
	echo "$p vnet msi ${d##*/} $(cat "$d"/msi_irqs/* 2>/dev/null | tr '\n' ' ')"
done

cat >/tmp/hvx-dhcp.sh <<-'END'
	#!/bin/sh
	case $1 in
	bound | renew)
		ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
		echo "$ip ${router%% *}" >/tmp/hvx-lease
		;;
	esac
	exit 0
END
chmod 755 /tmp/hvx-dhcp.sh
udhcpc -i eth0 -n -q -f -t 5 -T 2 -s /tmp/hvx-dhcp.sh >/tmp/hvx-udhcpc.log 2>&1 ||
	fail "no DHCP lease: $(tail -n 1 /tmp/hvx-udhcpc.log)"
[ -r /tmp/hvx-lease ] || fail "udhcpc gave no lease"
read -r ip router </tmp/hvx-lease
echo "$p vnet dhcp eth0 $ip router $router"

ping -c 10 -i 0.2 -W 2 "$router" >/tmp/hvx-ping.log 2>&1
awk -v p="$p" -v r="$router" '
	/packets transmitted/ { sent = $1; recv = $4; loss = $7 }
	END { printf "%s vnet ping %s sent %d received %d loss %s\n",
		     p, r, sent, recv, loss }' /tmp/hvx-ping.log

dd if=/dev/urandom of=/tmp/stream bs=1M count=16 2>/dev/null || fail "dd stream"
echo "$p vnet stream sha256 $(sha256sum </tmp/stream | cut -d' ' -f1)"
echo "$p vnet wait io"
# shellcheck disable=SC3045 # busybox ash has read -t
read -r -t 60 _
nc "$router" "$port" </tmp/stream
echo "$p vnet sent rc=$?"
echo "$p vnet wait done"
# shellcheck disable=SC3045
read -r -t 60 _
exit 0
