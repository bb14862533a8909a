#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# blk.sh MIB OPS [trace] - the virtio-blk rows of `make bench`, run in the emulated
# host after hvx-bench (selftests/vm/bench.sh installs it as /tests/blk).
# hvx-blkperf (blkperf.c) on one backing file, /tmp/hvx-blk.img (the
# emulated host's tmpfs: its page cache is the storage), twice:
#
#   1. by the emulated host itself, on the file (lines "host: blkperf ...");
#   2. by the Debian guest of hvx-run on /dev/vda with O_DIRECT, the file
#      being its --disk (hvx's in-kernel virtio-blk; lines "hvx-guest:
#      blkperf ...", then hvx-run's summary: the VM's exits).
#
# Both sides get one 2 MiB hugetlb page for hvx-blkperf's I/O buffer (the
# host's vm.nr_hugepages, the guest's hugepages=1; the guest's 192 MiB is
# below the 512 MiB under which Linux leaves transparent huge pages off):
# the guest's 1 MiB O_DIRECT request is then one physically contiguous
# run of pages whatever the boot's page layout (blkperf.c).
#
# bench.sh turns the blkperf lines into the table's blk_* rows. With
# "trace" the guest's hvx-blkperf brackets one request per pass with Bochs
# magic breakpoints (--trace; bench.sh's HVX_BENCH_BLK_TRACE).

mib=${1:-16} ops=${2:-256} trace=${3:+:$3}
img=/tmp/hvx-blk.img
# The file is written whole first, so that neither pass pays for tmpfs
# allocating (and clearing) its pages: both overwrite the same pages.
rm -f "$img"
nr_huge=$(cat /proc/sys/vm/nr_hugepages)
echo $((nr_huge + 1)) >/proc/sys/vm/nr_hugepages
dd if=/dev/zero of="$img" bs=1M count="$mib" 2>/dev/null || { echo "blk: dd $img failed"; exit 1; }
hvx-blkperf "$img" "$mib" "$ops" 2>&1 | sed 's/^/host: /'
hvx-run --kernel /lib/hvx/guest/vmlinuz --initrd /lib/hvx/guest/initrd.gz \
	--mem 192M --cpus 1 --disk "$img" --summary \
	--append "console=ttyS0 nokaslr mitigations=off tsc=reliable lpj=2000000 no_timer_check nowatchdog audit=0 lsm= cryptomgr.notests quiet panic=-1 hugepages=1 hvx.blk=$mib:$ops$trace" \
	</dev/null
rc=$?
rm -f "$img"
echo "$nr_huge" >/proc/sys/vm/nr_hugepages
echo "blk: hvx-run rc=$rc"
exit $rc
