#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the small initramfs that the kexec step of `make check` boots
# (vmxlife_test --kexec, run by init.sh after the suite; check.sh builds
# this initramfs). Reports how many CPUs this kernel brought up, which
# check.sh compares with the CPUs of the kernel that kexec'd it:
#
#   ### HVX-KEXEC-BOOT cpus=<n> online=<list> kernel=<release>
#   ### HVX-KEXEC-DONE
#
# then powers off.

export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1

echo "### HVX-KEXEC-BOOT cpus=$(grep -c ^processor /proc/cpuinfo)" \
	"online=$(cat /sys/devices/system/cpu/online) kernel=$(uname -r)"
# Why a CPU did not come up, if one did not.
dmesg | grep -i -E 'smpboot|stuck|failed to|not responding' | head -n 5
echo "### HVX-KEXEC-DONE"
sleep 1
poweroff -f
while :; do sleep 3600; done
