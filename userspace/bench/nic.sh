#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# nic.sh PINGS FETCHES - the NIC rows of `make bench`, run in the emulated
# host after hvx-bench (selftests/vm/bench.sh installs it as /tests/nic).
#
# Bochs's NE2000 PCI (00:03.0, ethmod=vnet) is driven twice by Linux's
# stock ne2k-pci driver, each time with selftests/vm/net.sh (/bin/hvx-net:
# a DHCP lease, PINGS pings of the vnet gateway, FETCHES TFTP fetches of
# the ethdev file):
#
#   1. by the emulated host itself, no VM (lines "host: net ...");
#   2. by the Debian guest of hvx-run, with the NIC passed through
#      (--device; Bochs has no IOMMU, hence allow_unsafe_noiommu=1) after
#      the host's driver is unloaded and the NIC bound to hvx's stub
#      driver hvx-pci, the administrator's step before any assignment
#      (lines "hvx-guest: net ...").
#
# bench.sh turns the "net ping" and "net tftp" lines into the table's NIC
# rows. There is no KVM column for them: the baseline is the bare host.

pings=${1:-10} fetches=${2:-3}
nic=0000:00:03.0
file=hvx-net.bin
[ -r /lib/hvx/guest/$file.sha256 ] && echo "nic: expected sha256 $(cat /lib/hvx/guest/$file.sha256)"

echo "nic: 1. the emulated host drives the NE2000 itself"
hvx-net host: /lib/hvx/nic "$pings" "$fetches" "$file"
host_rc=$?
ifconfig eth0 down 2>/dev/null
rmmod ne2k-pci 2>/dev/null
rmmod 8390 2>/dev/null
[ -e /sys/bus/pci/devices/$nic/driver ] && echo $nic >/sys/bus/pci/devices/$nic/driver/unbind
echo hvx-pci >/sys/bus/pci/devices/$nic/driver_override
echo $nic >/sys/bus/pci/drivers_probe

echo "nic: 2. the hvx-run guest drives it, passed through"
echo 1 >/sys/module/hvx/parameters/allow_unsafe_noiommu
hvx-run --kernel /lib/hvx/guest/vmlinuz --initrd /lib/hvx/guest/initrd.gz \
	--mem 192M --cpus 1 --device $nic --summary \
	--append "console=ttyS0 nokaslr mitigations=off tsc=reliable lpj=2000000 no_timer_check nowatchdog audit=0 lsm= cryptomgr.notests quiet panic=-1 hvx.net=$pings:$fetches" \
	</dev/null
guest_rc=$?
echo 0 >/sys/module/hvx/parameters/allow_unsafe_noiommu
echo $nic >/sys/bus/pci/devices/$nic/driver/unbind
echo >/sys/bus/pci/devices/$nic/driver_override
echo "nic: host rc=$host_rc, hvx-run rc=$guest_rc"
[ "$host_rc" = 0 ] && [ "$guest_rc" = 0 ]
