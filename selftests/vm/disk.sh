#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvx-disk - drive hvx's in-kernel virtio-blk with the guest kernel's stock
# drivers (virtio_pci, virtio_blk) and ext4. busybox ash; installed as
# /bin/hvx-disk in the hvx-run guest's initramfs (selftests/vm/guest.sh)
# and run by its /init for hvx.disk=MODE. virtio_linux_test makes the
# images, boots the guest with them and checks what it says.
#
# usage: hvx-disk PREFIX MODDIR MODE
#   PREFIX   first word of every line printed (e.g. "hvx-guest:")
#   MODDIR   holds the modules (virtio*, virtio_blk, ext4 and its deps)
#   MODE     check: /dev/vda (ext4, writable) and /dev/vdb (ext4, a
#                   read-only disk): reads back host.bin, copies every
#                   file of vdb's data/ to vda's data/ with an fsync each,
#                   reads them back after dropping the page cache, tries
#                   writes on vdb, unmounts both.
#            count: /dev/vda only found: /init's hvx.count= loop writes
#                   and checks its raw sectors (snapshot_test).
#            crash: /dev/vda: writes c/1, c/2, ... (a header line and the
#                   first 16 KiB of host.bin each), fsyncs the file and
#                   the directory, and prints "disk ack N" after each;
#                   until the VMM is killed.
#
# Prints, each line starting with PREFIX:
#   disk msi <bdf> <mode>...          the interrupt modes of each virtio
#                                     function (/sys/.../msi_irqs/*)
#   disk irq <line>                   /proc/interrupts' virtio lines
#   disk serial <name> <serial>       /sys/block/<name>/serial (GET_ID)
#   disk read host.bin sha256 <hash>
#   disk wrote <file> sha256 <hash>   (check, once per file)
#   disk reread <file> sha256 <hash>  (check, after drop_caches)
#   disk fstrim rc=<rc>               (check)
#   disk ro <what> rc=<rc>            (check: each write tried on vdb)
#   disk wait <io|done>               (check: then waits up to 60 s for a
#                                     line on the console, the test's
#                                     sign that it sampled the counters)
#   disk ack <n>                      (crash)
#   disk ready                        (count: /dev/vda is there)
#   disk done                         (check: both unmounted)
#   disk error <what>                 (and exit status 1) on a failure

p=$1 mods=$2 mode=$3
[ -n "$mode" ] || { echo "usage: hvx-disk PREFIX MODDIR MODE" >&2; exit 2; }
fail() {
	echo "$p disk error $*"
	dmesg | tail -n 12 | sed "s/^/$p disk dmesg /"
	exit 1
}

# In dependency order (busybox insmod resolves nothing). crc32c_generic
# gives ext4 and jbd2 the "crc32c" hash for metadata checksums: without
# a modprobe the kernel cannot load it on demand.
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	virtio_pci virtio_blk crc16 mbcache crc32c_generic jbd2 ext4; do
	insmod "$mods/$m.ko" || fail "insmod $m.ko"
done
want=vda
[ "$mode" = check ] && want="vda vdb"
for d in $want; do
	i=0
	while [ ! -b "/dev/$d" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -b "/dev/$d" ] || fail "no /dev/$d after loading virtio_blk"
	echo "$p disk serial $d $(cat "/sys/block/$d/serial" 2>/dev/null)"
done
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1af4 ] || continue
	echo "$p disk msi ${d##*/} $(cat "$d"/msi_irqs/* 2>/dev/null | tr '\n' ' ')"
done
# The negotiated feature bits, bit 0 first (34: packed rings).
for d in /sys/bus/virtio/devices/*; do
	echo "$p disk features ${d##*/} $(cat "$d/features")"
done

if [ "$mode" = count ]; then
	echo "$p disk ready"
	exit 0
fi

mkdir -p /mnt/rw /mnt/ro
mount -t ext4 /dev/vda /mnt/rw || fail "mount /dev/vda"
echo "$p disk read host.bin sha256 $(sha256sum </mnt/rw/host.bin | cut -d' ' -f1)"

if [ "$mode" = crash ]; then
	mkdir -p /mnt/rw/c || fail "mkdir c"
	sync /mnt/rw /mnt/rw/c
	dd if=/mnt/rw/host.bin of=/tmp/blk bs=16k count=1 2>/dev/null || fail "dd host.bin"
	grep virtio /proc/interrupts | tr -s ' ' | sed "s/^ */$p disk irq /"
	i=1
	while [ $i -le 100000 ]; do
		{ echo "hvx-crash record $i"; cat /tmp/blk; } >/mnt/rw/c/$i ||
			fail "write c/$i"
		sync /mnt/rw/c/$i /mnt/rw/c || fail "fsync c/$i"
		echo "$p disk ack $i"
		i=$((i + 1))
	done
	fail "the VMM was not killed"
fi

# The test samples the VM's counters here and below, then sends a line.
echo "$p disk wait io"
# shellcheck disable=SC3045 # busybox ash has read -t
read -r -t 60 _
mount -t ext4 -o ro /dev/vdb /mnt/ro || fail "mount /dev/vdb"
mkdir -p /mnt/rw/data || fail "mkdir data"
for f in /mnt/ro/data/*; do
	n=${f##*/}
	dd if="$f" of=/mnt/rw/data/"$n" bs=64k conv=fsync 2>/dev/null || fail "copy $n"
	echo "$p disk wrote $n sha256 $(sha256sum </mnt/rw/data/"$n" | cut -d' ' -f1)"
done
sync /mnt/rw/data || fail "fsync data"
# Read what was written from the disk, not from the page cache.
sync
echo 3 >/proc/sys/vm/drop_caches
for f in /mnt/rw/data/*; do
	echo "$p disk reread ${f##*/} sha256 $(sha256sum <"$f" | cut -d' ' -f1)"
done

# Discard: 8 MiB written, deleted and trimmed; the image gives the
# space back (the test looks at its allocated size).
dd if=/dev/zero of=/mnt/rw/scratch bs=64k count=128 conv=fsync 2>/dev/null || fail "dd scratch"
rm /mnt/rw/scratch
sync
fstrim /mnt/rw
echo "$p disk fstrim rc=$?"

# The read-only disk: the driver reads VIRTIO_BLK_F_RO and marks the disk
# read-only, so neither the file system nor the block device takes a write.
echo "$p disk ro sysfs $(cat /sys/block/vdb/ro)"
touch /mnt/ro/x 2>/dev/null
echo "$p disk ro touch rc=$?"
mount -o remount,rw /mnt/ro 2>/dev/null
echo "$p disk ro remount rc=$?"
dd if=/dev/zero of=/dev/vdb bs=4k count=1 conv=fsync 2>/dev/null
echo "$p disk ro dd rc=$?"

grep virtio /proc/interrupts | tr -s ' ' | sed "s/^ */$p disk irq /"
echo "$p disk wait done"
# shellcheck disable=SC3045 # busybox ash has read -t
read -r -t 60 _
umount /mnt/ro || fail "umount /mnt/ro"
umount /mnt/rw || fail "umount /mnt/rw"
echo "$p disk done"
exit 0
