# SPDX-License-Identifier: GPL-2.0
#
# guest.sh - the Linux guest that hvx-run boots inside the emulated host
# (run_test's linux_* cases and `make demo`). Sourced by check.sh, which
# provides IMG, HERE, log, die, make_fast_kernel and has_module (lib.sh), and
# GUEST_VMLINUZ and GUEST_KMODS (host_kernel): the guest kernel and its
# modules (the NE2000 driver).
#
# hvx_run_extras appends a second cpio to $IMG/initrd.gz (the kernel
# unpacks concatenated archives, each compressed its own way:
# Documentation/driver-api/early-userspace/buffer-format.rst), LZ4
# (legacy format) when lz4 is installed, else gzip: the emulated host
# inflates the 37 MiB of guest kernel in about 13 emulated seconds from
# gzip, a few from LZ4. It holds:
#
#   /usr/bin/hvx-run          the launcher ($HVX_RUN)
#   /lib/hvx/guest/vmlinuz    the emulated host's own Debian kernel, in
#                             the fastboot.S form check.sh gives Bochs
#                             (uncompressed: XZ decompression in a nested
#                             guest would cost ~4.5G Bochs instructions)
#   /lib/hvx/guest/initrd.gz  busybox and an /init that prints the
#                             "hvx-guest:" lines below, then powers off
#   /lib/hvx/guest/$NET_FILE.sha256   the checksum of the file the
#                             guest fetches by TFTP (lib.sh, net_ethdev)
#
# The guest's /init prints:
#   hvx-guest: Linux <release> <version>
#   hvx-guest: cpus <N>
#   hvx-guest: hypervisor <CPUID 0x40000000 signature>
#   hvx-guest: clocksource <current> (available: <list>)
#   hvx-guest: dmesg <line>            the kernel's lines about the
#                                      paravirtual interface it found
#                                      (arch/x86/kernel/kvm.c, kvmclock.c:
#                                      "kvm-guest: ...", "kvm-clock: ...")
#                                      and its clocksources and TSC
#   hvx-guest: pci <bdf> <vendor>:<device> class <class>   (one per device)
#   hvx-guest: double <n> = <2n>       for hvx.double=<n> on its command line
#   hvx-guest: s3 ...                  for hvx.s3=<s>: suspends to RAM
#                                      (echo mem > /sys/power/state) with
#                                      the RTC's wake alarm <s> s ahead,
#                                      then "hvx-guest: s3 resumed rc=0"
#   hvx-guest: net ...                 for hvx.net=<pings>:<fetches>: loads
#                                      ne2k-pci, DHCP, pings, TFTP fetches
#                                      (selftests/vm/net.sh)
#   hvx-guest: disk ...                for hvx.disk=<mode>: loads virtio_pci,
#                                      virtio_blk and ext4, and uses hvx's
#                                      virtio disks (selftests/vm/disk.sh)
#   hvx-guest: vnet ...                for hvx.vnet=<port>: loads virtio_pci
#                                      and virtio_net: DHCP, pings, a TCP
#                                      stream (selftests/vm/vnet.sh)
#   hvx-guest: nicperf ...             for hvx.nicperf=<spec>: hvx-nicperf's
#                                      traffic (userspace/nicperf/)
#   hvx-guest: blkperf ...             for hvx.blk=<MiB>:<ops>[:trace]:
#                                      loads virtio_blk, hvx-blkperf --direct
#                                      [--trace] on /dev/vda
#                                      (userspace/bench/blkperf.c)
#   hvx-guest: count <i>               for hvx.count=<n>: i = 0 .. n-1, one
#                                      line every 100 ms, each after a check
#                                      of a tmpfs file it appends i to
#                                      against the sum it keeps ("count BAD"
#                                      if they differ); then the kernel's
#                                      warnings and errors that came since
#                                      ("new warning <line>"), "count done"
#                                      (snapshot_test's save and restore);
#                                      with hvx.disk=count each i also goes
#                                      to sector i of /dev/vda (fsynced),
#                                      read back at the end: "disk
#                                      verified <n> sectors", "disk BAD ..."
#                                      for a wrong one
#   hvx-guest: uptime <s> s, powering off

# hvx_guest_initrd OUT: the guest's gzip'd initramfs.
hvx_guest_initrd() {
	local out=$1 root=$IMG/guest-root cpuid
	cpuid=$(dirname "$HVX_RUN")/hvx-cpuid
	[[ -x "$cpuid" ]] || { echo "no $cpuid (make userspace builds it)"; return 1; }
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys} || return 1
	cp /bin/busybox "$root/bin/busybox" || return 1
	for a in sh mount uname grep cut cat poweroff insmod ifconfig route \
		udhcpc ping tftp awk wc sha256sum rm chmod tail dmesg sed \
		dd mkdir touch sync umount sleep tr fstrim nc ip ftpget ftpput; do
		ln -s busybox "$root/bin/$a" || return 1
	done
	cp "$cpuid" "$root/bin/hvx-cpuid" || return 1
	# The NE2000's stock driver and the network script, for hvx.net=.
	install -m 755 "$HERE/net.sh" "$root/bin/hvx-net" || return 1
	mkdir -p "$root/lib/net" "$root/tmp" || return 1
	local m
	for m in 8390 ne2k-pci; do
		# Without them (the native demo) hvx-net says "insmod ... failed".
		[[ -n "${GUEST_KMODS:-}" ]] &&
			has_module "$GUEST_KMODS" "$m" || continue
		# Plain or compressed (.ko.xz from Debian's 6.12): lib.sh.
		copy_module "$GUEST_KMODS" "$m" "$root/lib/net" || return 1
	done
	# The virtio disk drivers and ext4, for hvx.disk= (Debian builds
	# them all as modules).
	install -m 755 "$HERE/disk.sh" "$root/bin/hvx-disk" || return 1
	mkdir -p "$root/lib/disk" || return 1
	for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
		virtio_pci virtio_blk crc16 mbcache crc32c_generic jbd2 ext4; do
		[[ -n "${GUEST_KMODS:-}" ]] &&
			has_module "$GUEST_KMODS" "$m" || continue
		copy_module "$GUEST_KMODS" "$m" "$root/lib/disk" || return 1
	done
	# The virtio network driver, for hvx.vnet= (its virtio modules are
	# in /lib/disk).
	install -m 755 "$HERE/vnet.sh" "$root/bin/hvx-vnet" || return 1
	for m in failover net_failover virtio_net; do
		[[ -n "${GUEST_KMODS:-}" ]] &&
			has_module "$GUEST_KMODS" "$m" || continue
		copy_module "$GUEST_KMODS" "$m" "$root/lib/disk" || return 1
	done
	# hvx-nicperf's guest side (userspace/nicperf/), for hvx.nicperf=, and
	# the virtio-blk rows' I/O program, for hvx.blk= (if built: make
	# bench-build).
	install -m 755 "$HERE/../../userspace/nicperf/traffic.sh" "$root/bin/hvx-nicperf-traffic" || return 1
	[[ -x "$(dirname "$HVX_RUN")/hvx-blkperf" ]] &&
		{ cp "$(dirname "$HVX_RUN")/hvx-blkperf" "$root/bin/hvx-blkperf" || return 1; }
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
	cat >"$root/init" <<-'EOF'
		#!/bin/sh
		# /init of the hvx-run guest (selftests/vm/guest.sh).
		export PATH=/bin
		mount -t proc proc /proc
		mount -t sysfs sysfs /sys
		mount -t devtmpfs devtmpfs /dev 2>/dev/null &&
			exec </dev/console >/dev/console 2>&1
		echo "hvx-guest: $(uname -s) $(uname -r) $(uname -v)"
		echo "hvx-guest: cpus $(grep -c ^processor /proc/cpuinfo)"
		echo "hvx-guest: hypervisor $(hvx-cpuid)"
		cs=/sys/devices/system/clocksource/clocksource0
		echo "hvx-guest: clocksource $(cat $cs/current_clocksource) (available: $(cat $cs/available_clocksource))"
		dmesg | grep -E 'kvm-guest|kvm-clock|clocksource|tsc:|Hypervisor' |
			sed 's/^\[[^]]*\] */hvx-guest: dmesg /'
		for d in /sys/bus/pci/devices/*; do
			[ -e "$d/vendor" ] || continue
			echo "hvx-guest: pci ${d##*/} $(cat $d/vendor):$(cat $d/device) class $(cat $d/class)"
		done
		for a in $(cat /proc/cmdline); do
			case $a in
			hvx.double=*) n=${a#*=}; echo "hvx-guest: double $n = $((n * 2))" ;;
			hvx.net=*) net=${a#*=} ;;
			hvx.s3=*) s3=${a#*=} ;;
			hvx.disk=*) disk=${a#*=} ;;
			hvx.vnet=*) vnet=${a#*=} ;;
			hvx.count=*) count=${a#*=} ;;
			hvx.nicperf=*) nicperf=${a#*=} ;;
			hvx.blk=*) blk=${a#*=} ;;
			esac
		done
		if [ -n "$s3" ]; then
			echo "hvx-guest: s3 states $(cat /sys/power/state) mem_sleep $(cat /sys/power/mem_sleep)"
			echo "+$s3" >/sys/class/rtc/rtc0/wakealarm
			echo mem >/sys/power/state
			echo "hvx-guest: s3 resumed rc=$?"
		fi
		if [ -n "$net" ]; then
			hvx-net hvx-guest: /lib/net "${net%%:*}" "${net#*:}" HVX_NET_FILE
			echo "hvx-guest: net done rc=$?"
		fi
		if [ -n "$disk" ]; then
			hvx-disk hvx-guest: /lib/disk "$disk"
			echo "hvx-guest: disk exit rc=$?"
		fi
		if [ -n "$vnet" ]; then
			hvx-vnet hvx-guest: /lib/disk "$vnet"
			echo "hvx-guest: vnet exit rc=$?"
		fi
		if [ -n "$nicperf" ]; then
			hvx-nicperf-traffic --guest "$nicperf"
			echo "hvx-guest: nicperf exit rc=$?"
		fi
		if [ -n "$blk" ]; then
			for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
				virtio_pci virtio_blk; do
				insmod /lib/disk/$m.ko
			done
			i=0
			while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
			set -- $(echo "$blk" | tr : ' ')
			[ "$3" = trace ] && set -- "$1" "$2" --trace
			hvx-blkperf --direct $3 /dev/vda "$1" "$2" 2>&1 | sed 's/^/hvx-guest: /'
		fi
		if [ -n "$count" ]; then
			w0=$(dmesg -r | grep -c '^<[0-4]>')
			i=0
			sum=0
			: >/tmp/count
			while [ $i -lt $count ]; do
				echo $i >>/tmp/count
				sum=$((sum + i))
				got=$(awk '{ s += $1 } END { print s + 0 }' /tmp/count)
				[ "$got" = "$sum" ] || echo "hvx-guest: count BAD $i: $got, not $sum"
				# hvx.disk=count: sector i of /dev/vda holds "i".
				[ "$disk" = count ] && { echo $i |
					dd of=/dev/vda bs=512 seek=$i count=1 conv=sync,fsync 2>/dev/null ||
					echo "hvx-guest: disk BAD write $i"; }
				echo "hvx-guest: count $i"
				i=$((i + 1))
				sleep 0.1
			done
			if [ "$disk" = count ]; then
				echo 3 >/proc/sys/vm/drop_caches
				j=0
				while [ $j -lt $count ]; do
					v=$(dd if=/dev/vda bs=512 skip=$j count=1 2>/dev/null | tr -dc 0-9)
					[ "$v" = $j ] || echo "hvx-guest: disk BAD sector $j: '$v'"
					j=$((j + 1))
				done
				echo "hvx-guest: disk verified $count sectors"
			fi
			dmesg -r | grep '^<[0-4]>' | tail -n +$((w0 + 1)) |
				sed 's/^/hvx-guest: new warning /'
			echo "hvx-guest: count done"
		fi
		echo "hvx-guest: uptime $(cut -d' ' -f1 /proc/uptime) s, powering off"
		poweroff -f
	EOF
	sed -i "s/HVX_NET_FILE/${NET_FILE:-hvx-net.bin}/" "$root/init" || return 1
	chmod 755 "$root/init"
	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -9 >"$out"
}

# hvx_run_extras [e2fsprogs]: append hvx-run and the guest to
# $IMG/initrd.gz; with e2fsprogs also the build machine's mke2fs, e2fsck
# and debugfs with their shared libraries (virtio_linux_test makes and
# checks ext4 images with them; busybox has no ext4 tools).
hvx_run_extras() {
	local x=$IMG/hvx-run-root b lib
	[[ -x "$HVX_RUN" ]] || { echo "HVX_RUN=$HVX_RUN is not an executable"; return 1; }
	rm -rf "$x"
	mkdir -p "$x/usr/bin" "$x/lib/hvx/guest" || return 1
	install -m 755 "$HVX_RUN" "$x/usr/bin/hvx-run" || return 1
	if [[ "${HVX_BOCHS_STOCK_KERNEL:-0}" == 1 ]] ||
		! make_fast_kernel "$GUEST_VMLINUZ" "$x/lib/hvx/guest/vmlinuz" "$IMG/guest-fastboot"; then
		echo "guest kernel: the stock (compressed) vmlinuz"
		cp "$GUEST_VMLINUZ" "$x/lib/hvx/guest/vmlinuz" || return 1
	fi
	hvx_guest_initrd "$x/lib/hvx/guest/initrd.gz" || return 1
	net_ethdev || return 1
	sha256sum <"$IMG/ethdev/$NET_FILE" | cut -d' ' -f1 >"$x/lib/hvx/guest/$NET_FILE.sha256" || return 1
	if [[ "${1:-}" == e2fsprogs ]]; then
		mkdir -p "$x/usr/sbin" || return 1
		for b in mke2fs e2fsck debugfs; do
			b=$(command -v "$b" || echo "/usr/sbin/$b")
			[[ -x "$b" ]] || { echo "no $b: install e2fsprogs"; return 1; }
			install -m 755 "$b" "$x/usr/sbin/" || return 1
			for lib in $(ldd "$b" | grep -o '/[^ ]*'); do
				cp -L --parents "$lib" "$x/" || return 1
			done
		done
		ln -s mke2fs "$x/usr/sbin/mkfs.ext4" || return 1
	fi
	local pack=(gzip -1)
	command -v lz4 >/dev/null && pack=(lz4 -l -9 -q -c)
	(cd "$x" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | "${pack[@]}" >>"$IMG/initrd.gz"
}
