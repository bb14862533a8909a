#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The emulator run behind `make bench` and `make bench-smoke`.
#
# Boots the emulated host once in Bochs (one CPU, VMX with EPT and VPID,
# `clock: sync=none`), with hvx.ko and Debian's kvm.ko/kvm-intel.ko in the
# initramfs, runs hvx-bench (userspace/bench/) there as the only program,
# and turns its output into a table on stdout, build/bench/results.json
# and build/bench/ratios.png (userspace/bench/report.sh), and the generated
# figures file build/bench/bench.md (commit and date; also copied to
# HVX_BENCH_MD if set).
#
# With the trace on (default), Bochs's debugger traces one warm iteration
# of each operation under each hypervisor (magic breakpoints around it);
# userspace/bench/benchtool.py classes the host's instructions (VMREAD,
# WRMSR by MSR, XSAVE, ...) and prices them with userspace/bench/costs.json:
# the "modelled cycles" beside the instruction figures. /tests/syms then
# prints the host's symbols, with which benchtool.py also counts the
# host's instructions by function (functions.txt).
#
# hvx-bench loads KVM's modules, then runs every operation through
# /dev/hvx and then through /dev/kvm in the same boot: neither hypervisor
# holds VMX while it has no VM, so they take turns. Under Bochs with
# sync=none the TSC advances once per emulated instruction, so the figures
# are emulated instructions per operation and the same on every run.
#
# Then the virtio-blk rows (userspace/bench/blk.sh): hvx-blkperf's
# sequential and 4 KiB random I/O on one file of the emulated host, by the
# host itself and by the Debian guest of hvx-run with the file as its
# --disk (O_DIRECT on /dev/vda). And the NIC rows (userspace/bench/nic.sh,
# which runs hvx-nicperf, userspace/nicperf/): ping and a TCP transfer on
# Bochs's NE2000 (ethmod=vnet) driven by the emulated host and passed
# through to the guest, and on a veth pair from the host and virtio-net on
# a tap in the guest, both to a sink in a network namespace. There is no
# KVM column for these; the baseline is the bare host. Ping round trips
# are ping's own figures (the clock of the kernel that pings, simulated
# time); throughput is bytes over the TSC delta of the transfer, converted
# to simulated seconds with Bochs's ips.
#
# Environment (set by the top-level Makefile):
#   HVX_BUILD       absolute path of build/ (outputs go to build/bench/)
#   HVX_KO          hvx.ko
#   HVX_BENCH       hvx-bench (static)
#   HVX_HOST_KVER   emulated host kernel, e.g. 6.1.0-56-amd64
#   HVX_BENCH_ARGS  arguments for hvx-bench, e.g. "--quick" (bench-smoke)
#   HVX_BENCH_BOOT  1 (default): also the linux_boot rows (hvx-run and
#                   hvx-kvm-boot, found beside HVX_BENCH); 0: leave them out
# Optional:
#   HVX_HVXCTL          hvxctl (static), put in the image as for check.sh
#   HVX_BOCHS_TIMEOUT   Bochs wall-clock limit in seconds (default 3600)
#   HVX_BENCH_TIMEOUT   limit for hvx-bench in emulated seconds (default 1800)
#   HVX_RUN             hvx-run (static; default build/userspace/hvx-run),
#                       for the NIC rows' guest
#   HVX_BENCH_NIC       0: leave out the NIC rows (default 1)
#   HVX_BENCH_BLK       0: leave out the virtio-blk rows (default 1)
#   HVX_BENCH_BLK_ARGS  "MIB OPS" for the virtio-blk rows (blk.sh; default
#                       "32 1024", with --quick "8 256")
#   HVX_BENCH_BLK_TRACE 1: Bochs's debugger traces one request of each
#                       virtio-blk pass in the guest (hvx-blkperf --trace),
#                       and /tests/syms prints the host's symbols, into
#                       bochs-stdout.log; userspace/bench/blktrace.py
#                       counts the instructions by function, host and
#                       guest (default 0; turns HVX_BENCH_TRACE off)
#   HVX_BENCH_CORE      0: leave out hvx-bench's own rows, so that the boot
#                       runs only the rows kept (e.g. with HVX_BENCH_NIC=0
#                       HVX_BENCH_BOOT=0: the virtio-blk rows alone, about
#                       two minutes; no trace; or with HVX_BENCH_NIC=0
#                       HVX_BENCH_BLK=0: the linux_boot rows alone, about
#                       six minutes); default 1
#   HVX_BENCH_MD        also write the generated figures file there
#   HVX_BENCH_TRACE     0: no instruction trace (default 1: hvx-bench
#                       --trace, and Bochs's debugger traces one warm
#                       iteration per operation and hypervisor; the host's
#                       instructions by class and the modelled cycles,
#                       userspace/bench/README.md)
#
# Exit code: 0 if the emulated host ran hvx-bench to its end and every
# operation it could measure was measured (a slower hvx is a result, not a
# failure); non-zero otherwise.

set -euo pipefail

T_START=$SECONDS
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)   # selftests/vm
REPO=$(cd "$HERE/../.." && pwd)
SCRIPT_NAME=bench.sh
# Deterministic runs: the same tree gives the same counts, so that
# `make bench-smoke` can gate regressions at 3% (userspace/bench/README.md).
# Bochs's RDRAND returns host entropy, which would seed the emulated
# host's RNG differently on every run (slab freelists, hash seeds, ...),
# so the host kernel is told the CPU has no RDRAND (158) or RDSEED (306),
# X86_FEATURE_* numbers of 6.1; norandmaps keeps hvx-bench's stack and
# mappings in place; the emulated clock starts at a fixed date (below),
# and every packed file has one fixed mtime (cpio below), so that the
# initramfs, whose decompression the boot executes, is the same bytes.
HVX_KERNEL_APPEND="${HVX_KERNEL_APPEND:+$HVX_KERNEL_APPEND }norandmaps clearcpuid=158,306"
BENCH_EPOCH=1767225600	# 2026-01-01 00:00 UTC
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# cpio -o with every listed file's mtime set to BENCH_EPOCH first, and
# inode and device numbers renumbered (--reproducible), also for the
# archives guest.sh packs; gzip from a pipe stores no time.
cpio() {
	local list rc=0
	list=$(mktemp)
	cat >"$list"
	xargs -0 -r touch -h -d "@$BENCH_EPOCH" -- <"$list"
	command cpio --reproducible "$@" <"$list" || rc=$?
	rm -f "$list"
	return $rc
}

die() {
	echo "bench.sh: $*" >&2
	exit 1
}
log() { echo "bench.sh: $*"; }

if [[ -z "${HVX_HOST_KVER:-}" ]]; then
	HVX_HOST_KVER=$(sed -n 's/^HVX_HOST_KVER[[:space:]]*:\?=[[:space:]]*//p' "$REPO/Makefile")
fi
: "${HVX_BUILD:?set HVX_BUILD (absolute path of build/)}"
: "${HVX_KO:?set HVX_KO (path of hvx.ko)}"
: "${HVX_BENCH:?set HVX_BENCH (path of hvx-bench)}"
: "${HVX_HOST_KVER:?set HVX_HOST_KVER}"
KVER=$HVX_HOST_KVER
BENCH_ARGS=${HVX_BENCH_ARGS:-}
BOCHS_TIMEOUT=${HVX_BOCHS_TIMEOUT:-3600}
HVX_RUN=${HVX_RUN:-$HVX_BUILD/userspace/hvx-run}
BENCH_NIC=${HVX_BENCH_NIC:-1}
BENCH_BLK=${HVX_BENCH_BLK:-1}
BENCH_TRACE=${HVX_BENCH_TRACE:-1}
BENCH_CORE=${HVX_BENCH_CORE:-1}
[[ $BENCH_CORE == 1 ]] || BENCH_TRACE=0
BLK_TRACE=${HVX_BENCH_BLK_TRACE:-0}
[[ $BENCH_BLK == 1 ]] || BLK_TRACE=0
[[ $BLK_TRACE == 1 ]] && BENCH_TRACE=0	# one kind of traced window per boot
[[ $BENCH_TRACE == 1 ]] && BENCH_ARGS+=" --trace"
bench_timeout=${HVX_BENCH_TIMEOUT:-1800}
[[ "$bench_timeout" =~ ^[0-9]+$ ]] || die "bad HVX_BENCH_TIMEOUT: $bench_timeout"
[[ "$BENCH_ARGS" =~ ^[A-Za-z0-9\ =_.-]*$ ]] || die "HVX_BENCH_ARGS may hold only [A-Za-z0-9 =_.-]: '$BENCH_ARGS'"

HVX_BUILD=$(realpath -m "$HVX_BUILD")
CACHE=$HVX_BUILD/cache
OUT=$HVX_BUILD/bench
IMG=$OUT/img

[[ -f "$HVX_KO" ]] || die "module not found: HVX_KO=$HVX_KO"
[[ -x "$HVX_BENCH" ]] || die "not an executable: HVX_BENCH=$HVX_BENCH"
file_is_static "$HVX_BENCH" || die "$HVX_BENCH is not static (the initramfs has no libc)"
HVX_KO=$(realpath "$HVX_KO")
HVX_BENCH=$(realpath "$HVX_BENCH")

rm -rf "$OUT"
mkdir -p "$CACHE" "$OUT" "$IMG"

# ---------------------------------------------------------------------------
# The initramfs: check.sh's, with hvx-bench as the one program /init runs.

host_kernel
root=$IMG/root
initramfs_base "$root" "$bench_timeout"
install -m 755 "$HVX_BENCH" "$root/usr/bin/hvx-bench"
if [[ $BENCH_CORE == 1 ]]; then
	cat >"$root/tests/bench" <<-EOF2
		#!/bin/sh
		exec /usr/bin/hvx-bench $BENCH_ARGS
	EOF2
	chmod 755 "$root/tests/bench"
fi
# --- NIC rows: /tests/nic after /tests/bench (init.sh runs them sorted) ---
# hvx-nicperf (userspace/nicperf/) driven by nic.sh: NE2000 bare and passed
# through, veth bare and virtio-net; tun.ko and veth.ko for the tap and
# the veth pair; hvxctl (initramfs_base) for the VM's counters.
if [[ $BENCH_NIC == 1 ]]; then
	nic_args="10 3 4096"
	[[ " $BENCH_ARGS " == *" --quick "* ]] && nic_args="3 1 1024"
	mkdir -p "$root/lib/hvx/nic"
	for m in 8390 ne2k-pci tun veth; do
		src=$(find "$kmods" -name "$m.ko" | head -n1)
		[[ -n "$src" ]] || die "module $m not found in $kmods"
		cp "$src" "$root/lib/hvx/nic/$m.ko"
	done
	install -m 755 "$(dirname "$HVX_RUN")/hvx-cpuid" "$root/usr/bin/hvx-cpuid"
	install -m 755 "$REPO/userspace/nicperf/hvx-nicperf" "$root/usr/bin/hvx-nicperf"
	install -m 755 "$REPO/userspace/nicperf/traffic.sh" "$root/usr/bin/hvx-nicperf-traffic"
	printf '#!/bin/sh\nexec sh /usr/bin/hvx-nic-bench %s %s\n' "$nic_args" "$BOCHS_IPS" >"$root/tests/nic"
	install -m 755 "$REPO/userspace/bench/nic.sh" "$root/usr/bin/hvx-nic-bench"
	chmod 755 "$root/tests/nic"
fi
# --- virtio-blk rows: /tests/blk (blk.sh): hvx-blkperf on one file, by
# the host and by the hvx-run guest with the file as its --disk ---
if [[ $BENCH_BLK == 1 ]]; then
	blk_args="32 1024"
	[[ " $BENCH_ARGS " == *" --quick "* ]] && blk_args="8 256"
	blk_args=${HVX_BENCH_BLK_ARGS:-$blk_args}
	[[ "$blk_args" =~ ^[1-9][0-9]*\ [0-9]+$ ]] || die "bad HVX_BENCH_BLK_ARGS (MIB OPS): '$blk_args'"
	[[ $BLK_TRACE == 1 ]] && blk_args+=" trace"
	blkperf=$(dirname "$HVX_BENCH")/hvx-blkperf
	[[ -x "$blkperf" ]] && file_is_static "$blkperf" || die "$blkperf: missing or not static (make bench-build)"
	install -m 755 "$blkperf" "$root/usr/bin/hvx-blkperf"
	install -m 755 "$REPO/userspace/bench/blk.sh" "$root/usr/bin/hvx-blk-bench"
	printf '#!/bin/sh\nexec sh /usr/bin/hvx-blk-bench %s\n' "$blk_args" >"$root/tests/blk"
	chmod 755 "$root/tests/blk"
fi
# --- symbols for the traced RIPs: /tests/syms, after every other test ---
# The load address of each section of hvx.ko, kvm.ko and kvm-intel.ko
# (still loaded: hvx-bench loads KVM's and never unloads them) and the
# kernel's text symbols from /proc/kallsyms (Debian's System.map is an
# empty stub), written to port 0xE9 (hvx-bench --e9), which Bochs prints
# on its stdout (port_e9_hack below): the UART would take minutes.
# benchtool.py names each traced host RIP's function with them.
if [[ $BENCH_TRACE == 1 || $BLK_TRACE == 1 ]]; then
	cat >"$root/tests/syms" <<-'EOF2'
		#!/bin/sh
		{
			for m in hvx kvm kvm_intel; do
				for f in /sys/module/$m/sections/.*; do
					[ -f "$f" ] && echo "HVXSYMS section $m ${f##*/} $(cat "$f")"
				done
			done
			echo "HVXSYMS kallsyms begin"
			awk '($2 == "t" || $2 == "T") && NF == 3 { print $1, $3 }' /proc/kallsyms
			echo "HVXSYMS kallsyms end"
		} | /usr/bin/hvx-bench --e9
	EOF2
	chmod 755 "$root/tests/syms"
fi
initramfs_pack "$root"

# ---------------------------------------------------------------------------
# The linux_boot rows: the same guest booted to its /init under hvx
# (hvx-run) and under KVM (hvx-kvm-boot, userspace/bench/kvm_boot.c): the
# fastboot kernel guest.sh gives hvx-run, an initramfs whose /init
# (hvx-boot-init) writes to port 0xf4 at once, the same command line,
# RAM and one vCPU. Each reads the TSC when its vCPU starts and at that
# exit. /tests/boot runs after /tests/bench (init.sh runs them in order).
# hvx-run boots it twice: as is (the guest finds the KVM paravirtual
# interface, as under KVM) and with --no-pv (the linux_boot_nopv rows,
# which have no KVM figure: hvx-kvm-boot always offers KVM's).
# HVX_BENCH_BOOT=0 leaves the rows out (n/a).
BOOT_APPEND="console=ttyS0 nokaslr mitigations=off tsc=reliable lpj=2000000 no_timer_check nowatchdog audit=0 lsm= cryptomgr.notests quiet panic=-1"
BOOT_MEM=192M
if [[ "${HVX_BENCH_BOOT:-1}" == 1 ]]; then
	bindir=$(dirname "$HVX_BENCH")
	HVX_RUN=${HVX_RUN:-$bindir/hvx-run}
	for f in "$HVX_RUN" "$bindir/hvx-kvm-boot" "$bindir/hvx-boot-init"; do
		[[ -x "$f" ]] && file_is_static "$f" || die "$f: missing or not static (make userspace bench-build)"
	done
	b=$IMG/boot-root g=$IMG/boot-guest
	rm -rf "$b" "$g"
	mkdir -p "$b/usr/bin" "$b/lib/hvx/boot" "$b/tests" "$g/dev"
	install -m 755 "$bindir/hvx-kvm-boot" "$b/usr/bin/hvx-kvm-boot"
	install -m 755 "$bindir/hvx-boot-init" "$g/init"
	mknod -m 600 "$g/dev/console" c 5 1 2>/dev/null || true
	(cd "$g" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -9 >"$b/lib/hvx/boot/initrd.gz"
	cat >"$b/tests/boot" <<-EOF2
		#!/bin/sh
		K=/lib/hvx/guest/vmlinuz I=/lib/hvx/boot/initrd.gz
		A="$BOOT_APPEND"
		echo "# linux_boot: hvx-run (exit status 3: the guest's /init wrote 1 to port 0xf4)"
		hvx-run --kernel \$K --initrd \$I --mem $BOOT_MEM --cpus 1 --append "\$A" --summary --quiet </dev/null
		echo "# hvx-run exit status \$?"
		echo "# linux_boot_nopv: hvx-run --no-pv"
		hvx-run --kernel \$K --initrd \$I --mem $BOOT_MEM --cpus 1 --append "\$A" --no-pv --summary --quiet </dev/null
		echo "# hvx-run --no-pv exit status \$?"
		[ -e /dev/kvm ] || for m in irqbypass kvm kvm-intel; do insmod /lib/hvx/kvm/\$m.ko; done
		echo "# linux_boot: hvx-kvm-boot"
		hvx-kvm-boot --kernel \$K --initrd \$I --mem $BOOT_MEM --append "\$A" --quiet </dev/null || exit 1
		echo "# linux_boot: hvx-kvm-boot --trace-exits (exit reasons only)"
		exec hvx-kvm-boot --kernel \$K --initrd \$I --mem $BOOT_MEM --append "\$A" --trace-exits --quiet </dev/null
	EOF2
	chmod 755 "$b/tests/boot"
	(cd "$b" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >>"$IMG/initrd.gz"
fi
# hvx-run, the guest kernel and its initramfs (guest.sh, as for run_test),
# for the NIC and linux_boot rows. Once and last: it may append legacy LZ4,
# which has no end marker, so anything after it fails to decode.
if [[ $BENCH_NIC == 1 || $BENCH_BLK == 1 || "${HVX_BENCH_BOOT:-1}" == 1 ]]; then
	# shellcheck source=guest.sh
	source "$HERE/guest.sh"
	hvx_run_extras >"$IMG/hvx-run-extras.log" 2>&1 ||
		die "hvx-run guest files: $(tail -n1 "$IMG/hvx-run-extras.log")"
	log "initramfs with the hvx-run guest: $(du -h "$IMG/initrd.gz" | cut -f1)"
fi

# ---------------------------------------------------------------------------
# One Bochs, one CPU (lib.sh).

trap cleanup EXIT
trap 'exit 130' INT TERM

setup_bochs bochs 1
# The traced windows: the guest stops at a magic breakpoint (xchg %bx,%bx)
# before and after one warm iteration of each operation; the debugger
# (reading bochs.rc, then stdin, which is empty) turns tracing on at the
# first and off at the second. Spare pairs cost nothing; running out of
# them would end Bochs at the next breakpoint.
sed -i "s/time0=local/time0=$BENCH_EPOCH/" "$IMG/bochs.bochsrc"
if [[ $BENCH_TRACE == 1 || $BLK_TRACE == 1 ]]; then
	echo "magic_break: enabled=1" >>"$IMG/bochs.bochsrc"
	echo "port_e9_hack: enabled=1" >>"$IMG/bochs.bochsrc"	# /tests/syms
	# The blk windows are long (a 1 MiB request): no registers.
	reg=on
	[[ $BENCH_TRACE == 1 ]] || reg=off
	{
		echo c
		for _ in $(seq 64); do
			printf 'trace on\ntrace-reg %s\nc\ntrace off\ntrace-reg off\nc\n' $reg
		done
	} >"$IMG/bochs.rc"
fi
start_emu bochs "$BOCHS_TIMEOUT" bochs -q -f "$IMG/bochs.bochsrc" -rc "$IMG/bochs.rc"
supervise

# ---------------------------------------------------------------------------
# Results.

serial=$OUT/bochs-serial.log
raw=$OUT/bench-output.txt
fail=0
tr -d '\r' <"$serial" | awk '
	/### HVX-BEGIN bench/ { on = 1; next }
	/### HVX-END bench/ { on = 0; next }
	on' >"$OUT/bench.log"
grep -a -E '^BENCH(OP)? ' "$OUT/bench.log" >"$raw" || true
rc=$(tr -d '\r' <"$serial" | sed -n 's/.*### HVX-END bench rc=\([0-9]*\).*/\1/p' | head -n1)

# The NIC rows: hvx-nicperf's lines (nic.sh) through its own report, on
# this machine (the plot needs gnuplot, installed by make bench, not by
# bench-smoke); its results become BENCHOP/BENCHBASE/BENCH lines (guest
# against the bare host, as report.sh shows them), and benchtool.py nic
# puts the side-by-side table (exits and interrupts per packet too) into
# results.json. nic_ping and nic_throughput take the names of hvx-bench's
# placeholder rows, which report.sh then replaces.
nic_rc=
if [[ $BENCH_NIC == 1 ]]; then
	tr -d '\r' <"$serial" | awk '
		/### HVX-BEGIN nic/ { on = 1; next }
		/### HVX-END nic/ { on = 0; next }
		on' >"$OUT/nic.log"
	nic_rc=$(tr -d '\r' <"$serial" | sed -n 's/.*### HVX-END nic rc=\([0-9]*\).*/\1/p' | head -n1)
	grep -a -E '^(nicperf tsc_hz |[^ ]+ nicperf )' "$OUT/nic.log" >"$OUT/nicperf.raw" || true
	mkdir -p "$OUT/nicperf"
	sh "$REPO/userspace/nicperf/hvx-nicperf" report --out "$OUT/nicperf" --png "$OUT/nicperf.png" \
		"$OUT/nicperf.raw" >"$OUT/nicperf.log" 2>&1 || true
	awk '
	BEGIN {
		print "BENCHOP nic_ping NE2000 ping round trip (simulated us, mean)"
		print "BENCHBASE nic_ping host lower"
		print "BENCHOP nic_throughput NE2000 TFTP fetch of 64 KiB from vnet (KiB per simulated s)"
		print "BENCHBASE nic_throughput host higher"
		print "BENCHOP vnet_ping virtio-net ping round trip over tap; host: veth (simulated us)"
		print "BENCHBASE vnet_ping host lower"
		print "BENCHOP vnet_throughput virtio-net TCP stream over tap; host: veth (KiB per simulated s)"
		print "BENCHBASE vnet_throughput host higher"
		# target -> row side
		side["ne2000-bare"] = "host nic"; side["ne2000-passthrough"] = "hvx nic"
		side["veth-bare"] = "host vnet"; side["virtio-net"] = "hvx vnet"
	}
	$1 == "nicperf" && $2 == "error" { e = $0; sub(/^nicperf error [^ ]* /, "", e); err[$3] = e }
	$1 == "nicperf" && $2 == "result" { rtt[$3] = $5; tp[$3] = $6; got[$3] = 1 }
	END {
		for (t in side) {
			split(side[t], w, " ")
			if (t in got && rtt[t] != "-") print "BENCH " w[1] " " w[2] "_ping " rtt[t] " " rtt[t] " " rtt[t] " 1 1"
			else print "BENCH " w[1] " " w[2] "_ping error " (t in err ? err[t] : "no result")
			if (t in got && tp[t] != "-") print "BENCH " w[1] " " w[2] "_throughput " tp[t] " " tp[t] " " tp[t] " 1 1"
			else print "BENCH " w[1] " " w[2] "_throughput error " (t in err ? err[t] : "no result")
		}
	}' "$OUT/nicperf/nicperf.result" 2>/dev/null >>"$raw"
fi

# The virtio-blk rows: blk.sh's blkperf lines, host and guest, per pass:
# MiB per simulated second (sequential) and I/O per simulated second
# (4 KiB random), from the TSC delta at Bochs's ips.
blk_rc=
if [[ $BENCH_BLK == 1 ]]; then
	tr -d '\r' <"$serial" | awk '
		/### HVX-BEGIN blk/ { on = 1; next }
		/### HVX-END blk/ { on = 0; next }
		on' >"$OUT/blk.log"
	blk_rc=$(tr -d '\r' <"$serial" | sed -n 's/.*### HVX-END blk rc=\([0-9]*\).*/\1/p' | head -n1)
	ips=$(sed -n 's/^cpu:.*ips=\([0-9]*\).*/\1/p' "$IMG/bochs.bochsrc")
	awk -v ips="$ips" '
	BEGIN {
		n = split("seq_read seq_write rand_read rand_write", pass, " ")
		d["seq_read"] = "virtio-blk sequential read, 1 MiB, huge-page buffer (MiB per simulated s)"
		d["seq_write"] = "virtio-blk sequential write + fsync, 1 MiB, huge-page buffer (MiB per simulated s)"
		d["rand_read"] = "virtio-blk 4 KiB random read (IOPS, simulated s)"
		d["rand_write"] = "virtio-blk 4 KiB random write + fsync (IOPS, simulated s)"
	}
	# PREFIX blkperf PASS bytes N ops N tsc CYCLES
	$2 == "blkperf" && $9 > 0 {
		s = $1 == "host:" ? "host" : $1 == "hvx-guest:" ? "hvx" : ""
		if (s == "") next
		v[s, $3] = $3 ~ /^seq/ ? $5 / 1048576 / ($9 / ips) : $7 / ($9 / ips)
	}
	END {
		for (i = 1; i <= n; i++) {
			p = pass[i]
			print "BENCHOP blk_" p " " d[p]
			print "BENCHBASE blk_" p " host higher"
			for (k = 0; k < 2; k++) {
				s = k ? "host" : "hvx"
				if ((s SUBSEP p) in v) printf "BENCH %s blk_%s %.1f %.1f %.1f 1 1\n", s, p, v[s, p], v[s, p], v[s, p]
				else print "BENCH " s " blk_" p " error no blkperf " p " line (see blk.log)"
			}
		}
	}' "$OUT/blk.log" >>"$raw"
fi

echo
echo "==================== hvx benchmarks (Bochs, one emulated CPU) ===================="
if ! grep -aq '### HVX-BOOT' "$serial"; then
	echo "FAIL: /init never ran (emulator: ${STATUS[bochs]:-unknown}); see $serial"
	fail=1
fi
insmod_rc=$(grep -a -o '### HVX-INSMOD rc=[0-9]*' "$serial" | head -n1 | sed 's/.*rc=//' || true)
if [[ -n "$insmod_rc" && "$insmod_rc" != 0 ]]; then
	echo "FAIL: insmod hvx.ko failed (rc=$insmod_rc); see $serial"
	fail=1
fi
if [[ $BENCH_CORE != 1 ]]; then
	:	# hvx-bench left out (HVX_BENCH_CORE=0)
elif [[ -z "$rc" ]]; then
	echo "FAIL: hvx-bench did not finish (emulator: ${STATUS[bochs]:-unknown}); see $OUT/bench.log"
	fail=1
elif [[ "$rc" != 0 ]]; then
	echo "FAIL: hvx-bench exited with $rc; its output is in $OUT/bench.log:"
	grep -a -v -E '^BENCH(OP)? ' "$OUT/bench.log" | tail -n 20 | sed 's/^/    /'
	fail=1
fi
bad=$(tr -d '\r' <"$serial" | grep -a -n -E \
	'Oops|BUG:|kernel BUG|WARNING:|Kernel panic|general protection|Call Trace' || true)
if [[ -n "$bad" ]]; then
	echo "FAIL: oops/BUG/WARNING/panic in $serial:"
	head -n 40 <<<"$bad" | sed 's/^/    /'
	fail=1
fi

# The linux_boot rows (/tests/boot): hvx-run's summary lines become
# BENCH/BENCHX lines like hvx-kvm-boot's; they replace hvx-bench's n/a.
# Its "msr exits:" line (RDMSR/WRMSR exits by MSR) becomes the "msr"
# BENCHX lines, beside those of hvx-kvm-boot's kvm_msr histogram.
# The line after "# linux_boot_nopv:" is the --no-pv boot's.
tr -d '\r' <"$serial" | awk '
	/### HVX-BEGIN boot$/ { on = 1; next }
	/### HVX-END boot / { on = 0; next }
	on' >"$OUT/boot.log"
boot_rc=$(tr -d '\r' <"$serial" | sed -n 's/.*### HVX-END boot rc=\([0-9]*\).*/\1/p' | head -n1)
awk '
BEGIN { op = "linux_boot" }
/^# linux_boot_nopv: / {
	op = "linux_boot_nopv"
	print "BENCH kvm linux_boot_nopv n/a hvx-kvm-boot always offers KVM PV: see the row with PV"
	print "BENCH kvm linux_boot_nopv_exits n/a hvx-kvm-boot always offers KVM PV: see the row with PV"
}
/^hvx-run: summary: / {
	sub(/^hvx-run: summary: /, "")
	user = ""
	if ((p = index($0, "; exits to hvx-run: "))) {
		user = substr($0, p + 20)
		$0 = substr($0, 1, p - 1)
	}
	n = split($0, f, /, /)
	split(f[2], t, " "); split(f[3], e, " ")
	printf "BENCH hvx %s %s %s %s 1 1\n", op, t[1], t[1], t[1]
	printf "BENCH hvx %s_exits %s %s %s 1 1\n", op, e[1], e[1], e[1]
	printf "BENCHX hvx %s vmx %s %s\n", op, e[3], e[4]
	for (i = 4; i <= n; i++) { split(f[i], r, " "); printf "BENCHX hvx %s vmx %s %s\n", op, r[1], r[2] }
	n = split(user, f, /, /)
	for (i = 1; i <= n; i++) { split(f[i], r, " "); printf "BENCHX hvx %s user %s %s\n", op, r[1], r[2] }
}
/^hvx-run: msr exits: / {
	sub(/^hvx-run: msr exits: /, "")
	n = split($0, f, /, /)
	for (i = 1; i <= n; i++) { split(f[i], r, " "); printf "BENCHX hvx %s msr %s %s\n", op, r[1], r[2] }
}
/^BENCHX? kvm linux_boot/' "$OUT/boot.log" >"$OUT/boot-output.txt"
if grep -q '^BENCH hvx linux_boot ' "$OUT/boot-output.txt" &&
	grep -q '^BENCH hvx linux_boot_nopv ' "$OUT/boot-output.txt" &&
	grep -q '^BENCH kvm linux_boot ' "$OUT/boot-output.txt"; then
	# Without hvx-bench (HVX_BENCH_CORE=0) no line names the row yet.
	grep -q '^BENCHOP linux_boot ' "$raw" 2>/dev/null ||
		echo "BENCHOP linux_boot guest Linux boot to /init" >>"$raw"
	awk '!/^BENCH [a-z]+ linux_boot n\/a/
	     /^BENCHOP linux_boot / {
		print "BENCHOP linux_boot_exits guest Linux boot to /init: VM exits"
		print "BENCHOP linux_boot_nopv guest Linux boot to /init, hvx-run --no-pv"
		print "BENCHOP linux_boot_nopv_exits guest Linux boot, --no-pv: VM exits"
	     }' \
		"$raw" >"$raw.tmp"
	cat "$OUT/boot-output.txt" >>"$raw.tmp"
	mv "$raw.tmp" "$raw"
elif [[ "${HVX_BENCH_BOOT:-1}" == 1 ]]; then
	echo "FAIL: the linux_boot rows were not measured (rc=${boot_rc:-none}); see $OUT/boot.log"
	tail -n 20 "$OUT/boot.log" | sed 's/^/    /'
	fail=1
elif [[ -s "$raw" ]]; then
	sed -i 's#^\(BENCH [a-z]* linux_boot n/a\) .*#\1 left out with HVX_BENCH_BOOT=0 (make bench-smoke)#' "$raw"
fi
if [[ $BENCH_NIC == 1 && "$nic_rc" != 0 ]]; then
	echo "FAIL: the NIC rows (nic.sh, hvx-nicperf) ended with rc=${nic_rc:-none}; see $OUT/nic.log"
	fail=1
fi
if [[ $BENCH_BLK == 1 && "$blk_rc" != 0 ]]; then
	echo "FAIL: the virtio-blk rows (blk.sh) ended with rc=${blk_rc:-none}; see $OUT/blk.log"
	fail=1
fi

# The traced round trips: classes and modelled cycles (BENCHCYC lines).
if [[ $BENCH_TRACE == 1 && -s "$raw" ]]; then
	# The host's symbols (/tests/syms): the by-function tables.
	syms=()
	if grep -aq 'HVXSYMS kallsyms end' "$OUT/bochs-stdout.log"; then
		syms=(--syms "$OUT/bochs-stdout.log" --ko "hvx=$HVX_KO"
			--ko "kvm=$IMG/root/lib/hvx/kvm/kvm.ko"
			--ko "kvm-intel=$IMG/root/lib/hvx/kvm/kvm-intel.ko")
	else
		echo "bench.sh: no host symbols in $OUT/bochs-stdout.log: no by-function tables"
	fi
	if python3 "$REPO/userspace/bench/benchtool.py" trace "$OUT/bochs-stdout.log" \
		"$REPO/userspace/bench/costs.json" "$OUT" "${syms[@]}" \
		>"$OUT/benchcyc.txt" 2>"$OUT/benchtool.log"; then
		cat "$OUT/benchcyc.txt" >>"$raw"
	else
		echo "FAIL: the instruction trace could not be read: $(tail -n1 "$OUT/benchtool.log")"
		fail=1
	fi
	# The trace is large; keep it for inspection, compressed.
	gzip -f -1 "$OUT/bochs-stdout.log"
fi
if [[ $BLK_TRACE == 1 ]]; then
	python3 "$REPO/userspace/bench/blktrace.py" "$OUT/bochs-stdout.log" "$HVX_KO" \
		>"$OUT/blktrace.txt" 2>&1 || echo "bench.sh: blktrace.py failed: $(tail -n1 "$OUT/blktrace.txt")"
	echo "virtio-blk requests traced, by function: $OUT/blktrace.txt"
	gzip -f -1 "$OUT/bochs-stdout.log"
fi

if [[ -s "$raw" ]]; then
	echo "hvx-bench $BENCH_ARGS"
	bash "$REPO/userspace/bench/report.sh" "$raw" "$OUT" \
		"emulated instructions per operation" || fail=1
	if [[ -s "$OUT/classes.txt" ]]; then
		echo
		cat "$OUT/classes.txt"
		if [[ -s "$OUT/functions.txt" ]]; then
			echo
			cat "$OUT/functions.txt"
		fi
		python3 "$REPO/userspace/bench/benchtool.py" merge "$OUT/results.json" "$OUT/trace.json" || fail=1
	fi
	if [[ -s "$OUT/nicperf/nicperf.result" ]]; then
		python3 "$REPO/userspace/bench/benchtool.py" nic "$OUT/results.json" "$OUT/nicperf/nicperf.result" || fail=1
	fi
	python3 "$REPO/userspace/bench/benchtool.py" markdown "$OUT/results.json" "$OUT/bench.md" \
		--classes "$OUT/classes.txt" --functions "$OUT/functions.txt" --target "${HVX_BENCH_TARGET:-make bench}" \
		--args="$BENCH_ARGS" >/dev/null || fail=1
	if [[ -n "${HVX_BENCH_MD:-}" && -s "$OUT/bench.md" ]]; then
		cp "$OUT/bench.md" "$HVX_BENCH_MD"
		echo "figures: $HVX_BENCH_MD"
	fi
else
	echo "FAIL: no results from hvx-bench"
	fail=1
fi

wall=$((SECONDS - T_START))
echo
echo "bochs: ${STATUS[bochs]:-not run}; logs: $serial, $OUT/bochs.log, hvx-bench: $OUT/bench.log, linux_boot: $OUT/boot.log${nic_rc:+, NIC rows: $OUT/nic.log}${blk_rc:+, virtio-blk rows: $OUT/blk.log}"
printf 'wall time: %dm%02ds\n' $((wall / 60)) $((wall % 60))
exit $fail
