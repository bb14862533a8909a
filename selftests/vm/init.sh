#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the `make check` initramfs (busybox ash, PID 1).
# Copied into the initramfs by selftests/vm/check.sh; not run on the host.
#
# Loads hvx.ko, runs every program in /tests (sorted) and reports on the
# console (console=ttyS0, which both emulators write to a file):
#
#   ### HVX-BOOT emu=<emu> ...
#   ### HVX-INSMOD rc=<rc>
#   ### HVX-BEGIN <name>
#   ...test output (stdout+stderr, TAP 13)...
#   ### HVX-TIMEOUT <name> after <n>s        (only if the watchdog fired)
#   ### HVX-END <name> rc=<rc>               (rc=124: timed out)
#   ### HVX-TIME <name> <seconds>            (emulated time the test took)
#   ### HVX-ALLDONE
#   ### HVX-KEXEC-BEGIN                     (only with vmxlife_test)
#   ### HVX-DMESG-BEGIN / dmesg / ### HVX-DMESG-END
#   ...kexec step... ### HVX-KEXEC-DONE     (only with vmxlife_test)
#
# then powers off. hvxcheck.py parses these markers; their spec is in
# selftests/README.md ("Markers"): keep the three in sync.

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The kernel opened /dev/console before devtmpfs existed only if the
# initramfs had the node; reopen it so output surely reaches the serial port.
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm /tmp /run
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ln -s /proc/self/fd /dev/fd 2>/dev/null
hostname hvx-check

# Written by check.sh: TEST_TIMEOUT (seconds per test, 0 = none).
TEST_TIMEOUT=300
HVX_MODULE_PARAMS=
[ -r /etc/hvx-check.conf ] && . /etc/hvx-check.conf

# Which emulator are we in? check.sh passes hvx.emu=bochs|qemu. hvx.only=
# a,b,c: run only those test programs (bochs-spec).
emu=unknown
only=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	hvx.emu=*) emu=${arg#hvx.emu=} ;;
	hvx.only=*) only=",${arg#hvx.only=}," ;;
	esac
done

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# hvxctl, if check.sh put it in the image (tests skip what needs it if not).
hvxctl=
[ -x /usr/bin/hvxctl ] && hvxctl=/usr/bin/hvxctl

echo "### HVX-BOOT emu=$emu kernel=$(uname -r) uptime=$(uptime_s)s timeout=${TEST_TIMEOUT}s"

# shellcheck disable=SC2086 # name=value words, checked by lib.sh
insmod /lib/hvx/hvx.ko $HVX_MODULE_PARAMS
rc=$?
echo "### HVX-INSMOD rc=$rc"
if [ $rc -ne 0 ]; then
	# With `quiet` the reason is only in the log buffer.
	dmesg | tail -n 20
fi

# The watchdog below sends USR1 when a test cannot be killed; the trap
# makes `wait` return so that the remaining tests still run.
trap ': ' USR1

# run_test PATH: run one test in its own session, under a watchdog.
run_test() {
	t=$1
	name=${t##*/}
	rm -f /tmp/hvx-timedout /tmp/hvx-stuck
	echo "### HVX-BEGIN $name"
	t0=$(uptime_s)

	# setsid makes the test the leader of a new process group (the
	# subshell is not a group leader, so setsid does not fork), so the
	# watchdog can kill the test together with its children.
	(
		cd /tests &&
		exec setsid env HVX_KO=/lib/hvx/hvx.ko \
			HVX_KVM_DIR=/lib/hvx/kvm HVX_EMULATOR="$emu" \
			HVX_HVXCTL="$hvxctl" \
			"$t" </dev/null
	) &
	pid=$!

	wd=
	if [ "$TEST_TIMEOUT" -gt 0 ] 2>/dev/null; then
		(
			sp=
			trap 'kill $sp 2>/dev/null; exit 0' TERM
			# nap N: an interruptible sleep (the trap kills it).
			nap() { sleep "$1" & sp=$!; wait $sp; }
			nap "$TEST_TIMEOUT"
			kill -0 $pid 2>/dev/null || exit 0
			: >/tmp/hvx-timedout
			echo "### HVX-TIMEOUT $name after ${TEST_TIMEOUT}s"
			kill -TERM -$pid $pid 2>/dev/null
			nap 5
			kill -KILL -$pid $pid 2>/dev/null
			nap 20
			if kill -0 $pid 2>/dev/null; then
				# Stuck in the kernel (D state): give up on it.
				: >/tmp/hvx-stuck
				echo "### HVX-STUCK $name: unkillable, moving on"
				kill -USR1 $$
			fi
		) &
		wd=$!
	fi

	wait $pid
	rc=$?
	if [ -n "$wd" ]; then
		kill $wd 2>/dev/null
		wait $wd 2>/dev/null
	fi
	[ -e /tmp/hvx-timedout ] && rc=124
	t1=$(uptime_s)
	echo "### HVX-END $name rc=$rc"
	echo "### HVX-TIME $name $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}

# kmemleak (debug kernel only): forget what the boot left, so that the
# scan after the suite reports only what the tests and hvx leaked.
kml=/sys/kernel/debug/kmemleak
[ -w $kml ] && echo clear >$kml

for t in /tests/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	case "$only" in
	"" | *",${t##*/},"*) run_test "$t" ;;
	esac
done

echo "### HVX-ALLDONE uptime=$(uptime_s)s"
# Announced now, so that check.sh waits for the kexec step (below) instead
# of stopping the machine once the dmesg is out.
kexec_step=
if [ -r /lib/hvx/kexec/vmlinuz ] && [ -x /tests/vmxlife_test ]; then
	kexec_step=1
	echo "### HVX-KEXEC-BEGIN"
fi
if [ -w $kml ]; then
	# Unload hvx first, so that anything it still holds is unreferenced;
	# kmemleak reports objects only after two scans have seen them.
	rmmod hvx 2>/dev/null
	echo scan >$kml
	sleep 6
	echo scan >$kml
	n=$(grep -c '^unreferenced object' $kml)
	echo "### HVX-KMEMLEAK count=$n"
	cat $kml
fi
echo "### HVX-DMESG-BEGIN"
dmesg >/tmp/dmesg.txt
cat /tmp/dmesg.txt
echo "### HVX-DMESG-END"
sync
# The console is a 115200-baud UART (about 10 KB/s) and poweroff -f does
# not wait for it: give it time to drain, or the end of the dmesg (where a
# WARN from the last test would be) is lost.
sleep $(($(wc -c </tmp/dmesg.txt) / 8000 + 2))

# The kexec step, last because it ends this kernel: check.sh puts a kernel
# and a small initramfs (kexec-init.sh) into /lib/hvx/kexec when
# vmxlife_test is in the run. vmxlife_test --kexec reboots into them with
# a guest running; the next kernel prints ### HVX-KEXEC-BOOT and
# ### HVX-KEXEC-DONE. It returns only on a skip or a failure.
if [ -n "$kexec_step" ]; then
	(cd /tests && exec ./vmxlife_test --kexec /lib/hvx/kexec/vmlinuz \
		/lib/hvx/kexec/initrd.gz </dev/null)
	echo "### HVX-KEXEC-DONE rc=$?"
fi
poweroff -f
# Not reached unless poweroff failed; PID 1 must never exit.
sleep 2
echo o >/proc/sysrq-trigger
while :; do sleep 3600; done
