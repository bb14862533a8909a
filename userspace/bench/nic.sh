#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# nic.sh PINGS FETCHES KIB TSC_HZ - the NIC rows of `make bench`, run in the
# emulated host after hvx-bench (selftests/vm/bench.sh installs it as
# /tests/nic): the emulator's side of hvx-nicperf (userspace/nicperf/),
# which runs the traffic and reports. This script only sets up what a
# user's machine would already have:
#
#   1. Bochs's NE2000 PCI (00:03.0, ethmod=vnet) with Linux's stock
#      ne2k-pci and a DHCP lease from the vnet gateway: target bare:eth0,
#      then passthrough:0000:00:03.0 (hvx-nicperf binds it to hvx-pci;
#      Bochs has no IOMMU, hence allow_unsafe_noiommu=1). The peer is the
#      vnet gateway. Its only TCP service, FTP, refuses the emulated
#      host's connections (Bochs 2.7 logs "tcp - port 21 unhandled or in
#      use"), so the transfer is a TFTP fetch of the 64 KiB ethdev file:
#      UDP, one 512-byte block per round trip.
#   2. A network namespace (the peer) with a TCP sink (nc) on 10.0.3.1,
#      reached over a veth pair from the emulated host (target
#      bare:hvxveth0), and on 10.0.2.1 over a tap with a DHCP server, the
#      tap behind hvx-run's virtio-net (target virtio:hvxtap0, hvx-run
#      started in the namespace): the same TCP stream of KIB KiB.
#
# TSC_HZ: Bochs's instructions per simulated second (the TSC advances once
# per instruction with clock sync=none). Output: hvx-nicperf's lines;
# bench.sh turns them into the table's NIC rows.

pings=${1:-10} fetches=${2:-3} kib=${3:-4096} hz=${4:?usage: nic.sh PINGS FETCHES KIB TSC_HZ}
nic=0000:00:03.0
file=hvx-net.bin
append="nokaslr mitigations=off tsc=reliable lpj=2000000 no_timer_check nowatchdog audit=0 lsm= cryptomgr.notests"
[ -r /lib/hvx/guest/$file.sha256 ] && echo "nic: expected sha256 $(cat /lib/hvx/guest/$file.sha256)"

echo "nic: 1. the NE2000 on Bochs's vnet"
insmod /lib/hvx/nic/8390.ko && insmod /lib/hvx/nic/ne2k-pci.ko || echo "nic: insmod ne2k-pci failed"
ifconfig lo 127.0.0.1 up
ifconfig eth0 up
cat >/tmp/nic-dhcp.sh <<-'END'
	#!/bin/sh
	case $1 in
	bound | renew)
		ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
		echo "${router%% *}" >/tmp/nic-router
		;;
	esac
	exit 0
END
chmod 755 /tmp/nic-dhcp.sh
udhcpc -i eth0 -n -q -f -t 5 -T 2 -s /tmp/nic-dhcp.sh >/tmp/nic-udhcpc.log 2>&1 ||
	echo "nic: no DHCP lease: $(tail -n 1 /tmp/nic-udhcpc.log)"
router=$(cat /tmp/nic-router 2>/dev/null)

echo "nic: 2. the namespace: veth and tap"
for m in tun veth; do
	[ -r /lib/hvx/nic/$m.ko ] && insmod /lib/hvx/nic/$m.ko
done
cat >/tmp/nic-sink.sh <<-'END'
	#!/bin/sh
	exec cat >/dev/null
END
chmod 755 /tmp/nic-sink.sh
unshare -n sh -c 'echo $$ >/tmp/nic-ns.pid; exec sleep 100000' &
i=0
while [ ! -s /tmp/nic-ns.pid ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ns=$(cat /tmp/nic-ns.pid)
# busybox ip names the peer itself: find it by the pair's ifindex.
ip link add hvxveth0 type veth 2>/dev/null
vpeer=
for d in /sys/class/net/*; do
	[ -e /sys/class/net/hvxveth0 ] && [ "$d" != /sys/class/net/hvxveth0 ] &&
		[ "$(cat "$d/ifindex")" = "$(cat /sys/class/net/hvxveth0/iflink)" ] && vpeer=${d##*/}
done
[ -n "$vpeer" ] && { [ "$vpeer" = hvxveth1 ] || ip link set "$vpeer" name hvxveth1; } &&
	ip link set hvxveth1 netns "$ns" &&
	ip addr add 10.0.3.2/24 dev hvxveth0 && ip link set hvxveth0 up ||
	echo "nic: veth setup failed"
cat >/tmp/nic-udhcpd.conf <<-END
	start 10.0.2.15
	end 10.0.2.20
	interface hvxtap0
	lease_file /tmp/nic-leases
	pidfile /tmp/nic-udhcpd.pid
	option subnet 255.255.255.0
	option router 10.0.2.1
END
touch /tmp/nic-leases
nsenter -n -t "$ns" sh -c '
	ip link set lo up
	ip addr add 10.0.3.1/24 dev hvxveth1 && ip link set hvxveth1 up
	tunctl -t hvxtap0 >/dev/null && ip addr add 10.0.2.1/24 dev hvxtap0 && ip link set hvxtap0 up
	udhcpd -S /tmp/nic-udhcpd.conf
	nc -ll -p 5001 -e /tmp/nic-sink.sh </dev/null >/dev/null 2>&1 &
' || echo "nic: namespace setup failed"

echo 1 >/sys/module/hvx/parameters/allow_unsafe_noiommu
hvx-nicperf --tsc-hz "$hz" --pings "$pings" --fetches "$fetches" --out /tmp/nicperf \
	--append "$append" --timeout 900 \
	--tcp "tftp:$file" --peer "$router" --name ne2000-bare bare:eth0 \
	--guest-driver ne2k --name ne2000-passthrough passthrough:$nic \
	--tcp "nc:5001:$kib" --peer 10.0.3.1 --name veth-bare bare:hvxveth0 \
	--peer 10.0.2.1 --netns "$ns" --name virtio-net virtio:hvxtap0
rc=$?
echo 0 >/sys/module/hvx/parameters/allow_unsafe_noiommu
kill "$(cat /tmp/nic-udhcpd.pid 2>/dev/null)" "$ns" 2>/dev/null
echo "nic: hvx-nicperf rc=$rc"
exit $rc
