#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvx-nicperf-traffic - the traffic of hvx-nicperf (README.md), run where
# the NIC is driven: by the host itself (bare) or in the hvx-run guest
# (passthrough, virtio). busybox ash or any POSIX sh with ping, nc, awk.
#
# usage: hvx-nicperf-traffic PREFIX IFACE PEER PINGS TCP FETCHES SYNC
#   PREFIX   first word of every line (e.g. "hvx-guest:")
#   IFACE    the interface under test (up, with an address)
#   PEER     the address pinged and sent to / fetched from
#   PINGS    ping count (one every 0.2 s)
#   TCP      nc:PORT:KIB   send KIB KiB to a TCP sink on PEER:PORT
#            ftp:FILE      fetch FILE by FTP from PEER (ftpget, anonymous)
#            ftpput:USER:PASSWORD:KIB  store KIB KiB by FTP on PEER
#                          (ftpput; a new file name each time)
#            tftp:FILE     fetch FILE by TFTP from PEER (UDP, not TCP: for
#                          a peer with no TCP service)
#            none          no throughput test
#   FETCHES  how many times the TCP transfer runs
#   SYNC     1: before and after the traffic print "nicperf wait ..." and
#            read a line from stdin (the console: hvx-nicperf samples the
#            VM's counters meanwhile); 0: do not wait
#
# Prints, each line starting with PREFIX:
#   nicperf ping PEER sent N received N loss P% rtt MIN/AVG/MAX ms
#   nicperf tcp KIND bytes N tsc CYCLES       (once per transfer)
#   nicperf packets IFACE N                   rx + tx packets of the window
#   nicperf irqs IFACE N                      the IFACE lines of
#                                             /proc/interrupts, window
#   nicperf error WHAT                        (exit status 1)
# CYCLES is the TSC delta of the transfer (hvx-cpuid tsc), converted to
# seconds by hvx-nicperf.

#
# In the hvx-run guest (its /init, for hvx.nicperf=SPEC on the kernel
# command line, selftests/vm/guest.sh):
#   hvx-nicperf-traffic --guest DRIVER,PEER,PINGS,TCP,FETCHES[,ADDR/N]
# loads the modules (DRIVER ne2k: /lib/net; virtio: /lib/disk; none: only
# /lib/extra, the ones hvx-nicperf --guest-mod added, in
# /lib/extra/order), takes the first interface that is not lo, gets an
# address (DHCP, or ADDR/N), PEER "router" is the lease's router, and runs
# the traffic with PREFIX "hvx-guest:" and SYNC 1.

if [ "${1:-}" = --guest ]; then
	IFS=, read -r drv peer pings tcp fetches addr <<-EOF
		$2
	EOF
	fail() {
		echo "hvx-guest: nicperf error $*"
		dmesg | tail -n 8 | sed "s/^/hvx-guest: nicperf dmesg /"
		exit 1
	}
	case $drv in
	ne2k) mods="/lib/net/8390.ko /lib/net/ne2k-pci.ko" ;;
	virtio) mods=$(for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
		virtio_pci failover net_failover virtio_net; do echo /lib/disk/$m.ko; done) ;;
	*) mods= ;;
	esac
	# shellcheck disable=SC2013 # one name a line, no spaces
	for m in $(cat /lib/extra/order 2>/dev/null); do
		insmod /lib/extra/"$m" || fail "insmod $m"
	done
	for m in $mods; do
		insmod "$m" || fail "insmod $m"
	done
	i=0 dev=
	while [ -z "$dev" ] && [ $i -lt 50 ]; do
		for d in /sys/class/net/*; do
			[ "${d##*/}" = lo ] || { dev=${d##*/}; break; }
		done
		[ -n "$dev" ] || sleep 0.1
		i=$((i + 1))
	done
	[ -n "$dev" ] || fail "no network interface"
	ifconfig lo 127.0.0.1 up
	ifconfig "$dev" up || fail "ifconfig $dev up"
	echo "hvx-guest: nicperf link $dev $(cat /sys/class/net/"$dev"/address)"
	if [ -n "$addr" ]; then
		ip addr add "$addr" dev "$dev" || fail "ip addr add $addr"
	else
		cat >/tmp/nicperf-dhcp.sh <<-'END'
			#!/bin/sh
			case $1 in
			bound | renew)
				ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
				for r in $router; do route add default gw "$r" dev "$interface"; break; done
				echo "$ip ${router%% *}" >/tmp/nicperf-lease
				;;
			esac
			exit 0
		END
		chmod 755 /tmp/nicperf-dhcp.sh
		udhcpc -i "$dev" -n -q -f -t 5 -T 2 -s /tmp/nicperf-dhcp.sh >/tmp/nicperf-udhcpc.log 2>&1 ||
			fail "no DHCP lease: $(tail -n 1 /tmp/nicperf-udhcpc.log)"
		read -r ip router </tmp/nicperf-lease || fail "udhcpc gave no lease"
		echo "hvx-guest: nicperf dhcp $dev $ip router $router"
		[ "$peer" = router ] && peer=$router
	fi
	[ "$peer" != router ] || fail "no peer: give --peer with --guest-ip"
	exec "$0" hvx-guest: "$dev" "$peer" "$pings" "$tcp" "$fetches" 1
fi

p=$1 dev=$2 peer=$3 pings=$4 tcp=$5 fetches=$6 sync=$7
[ -n "$sync" ] || { echo "usage: hvx-nicperf-traffic PREFIX IFACE PEER PINGS TCP FETCHES SYNC" >&2; exit 2; }
fail() {
	echo "$p nicperf error $*"
	exit 1
}
tsc() { hvx-cpuid tsc; }
pkts() {
	echo $(($(cat /sys/class/net/"$dev"/statistics/rx_packets) + \
		$(cat /sys/class/net/"$dev"/statistics/tx_packets)))
}
irqs() {
	awk -v d="$dev" '$NF == d || $NF ~ "^" d "-" { for (i = 2; i < NF; i++) if ($i ~ /^[0-9]+$/) s += $i }
		END { print s + 0 }' /proc/interrupts
}
wait_mark() {
	[ "$sync" = 1 ] || return 0
	echo "$p nicperf wait $1"
	# shellcheck disable=SC3045 # busybox ash has read -t
	read -r -t 120 _
}

[ -e /sys/class/net/"$dev" ] || fail "no interface $dev"
case $tcp in
nc:*:* | ftpput:*:*:*)
	kib=${tcp##*:}
	dd if=/dev/zero of=/tmp/nicperf.bin bs=1024 count="$kib" 2>/dev/null || fail "dd"
	;;
esac

wait_mark start
p0=$(pkts) i0=$(irqs)
ping -c "$pings" -i 0.2 -W 2 "$peer" >/tmp/nicperf-ping.log 2>&1
awk -v p="$p" -v r="$peer" '
	/packets transmitted/ { sent = $1; recv = $4; loss = $7 }
	/round-trip|rtt/ { n = split($0, f, "="); split(f[n], t, "/"); sub(/^ */, "", t[1]); rtt = t[1] "/" t[2] "/" t[3]; sub(/ .*/, "", rtt) }
	END { printf "%s nicperf ping %s sent %d received %d loss %s rtt %s ms\n",
		     p, r, sent, recv, loss, rtt == "" ? "-/-/-" : rtt }' /tmp/nicperf-ping.log
i=0
while [ "$i" -lt "$fetches" ]; do
	case $tcp in
	nc:*:*)
		port=${tcp#nc:}
		port=${port%%:*}
		t0=$(tsc)
		nc "$peer" "$port" </tmp/nicperf.bin >/dev/null 2>/tmp/nicperf-nc.log ||
			fail "nc $peer $port: $(tail -n 1 /tmp/nicperf-nc.log)"
		t1=$(tsc)
		echo "$p nicperf tcp send bytes $((kib * 1024)) tsc $((t1 - t0))"
		;;
	ftp:*)
		rm -f /tmp/nicperf.ftp
		t0=$(tsc)
		ftpget "$peer" /tmp/nicperf.ftp "${tcp#ftp:}" >/tmp/nicperf-ftp.log 2>&1 ||
			fail "ftpget ${tcp#ftp:}: $(tail -n 1 /tmp/nicperf-ftp.log)"
		t1=$(tsc)
		echo "$p nicperf tcp ftp bytes $(wc -c </tmp/nicperf.ftp) tsc $((t1 - t0))"
		;;
	ftpput:*:*:*)
		u=${tcp#ftpput:}
		pw=${u#*:}
		pw=${pw%:*}
		u=${u%%:*}
		t0=$(tsc)
		ftpput -u "$u" -p "$pw" "$peer" "nicperf-$$-$i.bin" /tmp/nicperf.bin >/tmp/nicperf-ftp.log 2>&1 ||
			fail "ftpput: $(tail -n 1 /tmp/nicperf-ftp.log)"
		t1=$(tsc)
		echo "$p nicperf tcp ftpput bytes $((kib * 1024)) tsc $((t1 - t0))"
		;;
	tftp:*)
		rm -f /tmp/nicperf.tftp
		t0=$(tsc)
		tftp -g -r "${tcp#tftp:}" -l /tmp/nicperf.tftp "$peer" >/tmp/nicperf-tftp.log 2>&1 ||
			fail "tftp ${tcp#tftp:}: $(tail -n 1 /tmp/nicperf-tftp.log)"
		t1=$(tsc)
		echo "$p nicperf tcp tftp bytes $(wc -c </tmp/nicperf.tftp) tsc $((t1 - t0))"
		;;
	none) break ;;
	*) fail "bad TCP spec $tcp" ;;
	esac
	i=$((i + 1))
done
p1=$(pkts) i1=$(irqs)
echo "$p nicperf packets $dev $((p1 - p0))"
echo "$p nicperf irqs $dev $((i1 - i0))"
wait_mark end
exit 0
