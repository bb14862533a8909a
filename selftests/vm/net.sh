#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvx-net - bring Bochs's NE2000 PCI up with Linux's stock driver and talk
# to Bochs's simulated network (ethmod=vnet): a DHCP lease, pings to the
# gateway, TFTP fetches of a file from the vnet ethdev directory.
# busybox ash; installed as /bin/hvx-net in the hvx-run guest's initramfs
# (selftests/vm/guest.sh, where the guest drives the NE2000 passed
# through by hvx; the bench's NIC rows use hvx-nicperf instead,
# userspace/nicperf/).
#
# usage: hvx-net PREFIX MODDIR PINGS FETCHES FILE
#   PREFIX   first word of every line printed (e.g. "hvx-guest:")
#   MODDIR   holds 8390.ko and ne2k-pci.ko
#   PINGS    ping count (one ping every 0.2 s)
#   FETCHES  how many times FILE is fetched by TFTP
#   FILE     name of the file on the TFTP server (the DHCP server's address)
#
# Prints, each line starting with PREFIX:
#   net link eth0 <mac>
#   net dhcp eth0 <address> router <router>
#   net ping <router> sent <n> received <n> loss <p>% rtt <min>/<avg>/<max> ms
#   net tftp <file> bytes <n> sha256 <hash> tsc <cycles>     (once per fetch)
#   net error <what>                 (and exit status 1) on a failure
# tsc is the TSC delta around the fetch (hvx-cpuid tsc): emulated
# instructions in Bochs with clock sync=none, for the guest (its TSC is the
# host's plus an offset) as for the host.

p=$1 mods=$2 pings=$3 fetches=$4 file=$5
[ -n "$file" ] || { echo "usage: hvx-net PREFIX MODDIR PINGS FETCHES FILE" >&2; exit 2; }
# fail WHAT: the error line, then the kernel's last words (the console is
# quiet) as "PREFIX net dmesg ..." lines.
fail() {
	echo "$p net error $*"
	dmesg | tail -n 12 | sed "s/^/$p net dmesg /"
	exit 1
}

insmod "$mods/8390.ko" || fail "insmod 8390.ko"
insmod "$mods/ne2k-pci.ko" || fail "insmod ne2k-pci.ko"
[ -e /sys/class/net/eth0 ] || fail "no eth0 after loading ne2k-pci"
ifconfig lo 127.0.0.1 up
ifconfig eth0 up || fail "ifconfig eth0 up"
echo "$p net link eth0 $(cat /sys/class/net/eth0/address)"

# udhcpc runs the script with the lease in its environment.
cat >/tmp/hvx-dhcp.sh <<-'EOF'
	#!/bin/sh
	case $1 in
	bound | renew)
		ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
		for r in $router; do route add default gw "$r" dev "$interface"; break; done
		echo "$ip ${router%% *}" >/tmp/hvx-lease
		;;
	esac
	exit 0
EOF
chmod 755 /tmp/hvx-dhcp.sh
rm -f /tmp/hvx-lease
udhcpc -i eth0 -n -q -f -t 5 -T 2 -s /tmp/hvx-dhcp.sh >/tmp/hvx-udhcpc.log 2>&1 ||
	fail "no DHCP lease: $(tail -n 1 /tmp/hvx-udhcpc.log)"
[ -r /tmp/hvx-lease ] || fail "udhcpc gave no lease"
read -r ip router </tmp/hvx-lease
echo "$p net dhcp eth0 $ip router $router"

ping -c "$pings" -i 0.2 -W 2 "$router" >/tmp/hvx-ping.log 2>&1
awk -v p="$p" -v r="$router" '
	/packets transmitted/ { sent = $1; recv = $4; loss = $7 }
	/round-trip/ { split($4, t, "/"); rtt = t[1] "/" t[2] "/" t[3] }
	END { printf "%s net ping %s sent %d received %d loss %s rtt %s ms\n",
		     p, r, sent, recv, loss, rtt == "" ? "-/-/-" : rtt }' /tmp/hvx-ping.log

i=0
while [ "$i" -lt "$fetches" ]; do
	rm -f /tmp/hvx-tftp
	t0=$(hvx-cpuid tsc)
	tftp -g -r "$file" -l /tmp/hvx-tftp "$router" >/tmp/hvx-tftp.log 2>&1 ||
		fail "tftp $file: $(tail -n 1 /tmp/hvx-tftp.log)"
	t1=$(hvx-cpuid tsc)
	echo "$p net tftp $file bytes $(wc -c </tmp/hvx-tftp) sha256 $(sha256sum </tmp/hvx-tftp | cut -d' ' -f1) tsc $((t1 - t0))"
	i=$((i + 1))
done
exit 0
